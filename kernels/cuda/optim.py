"""Fused optimizer steps on the GPU (same names and arguments as ``kernels/cpu/optim.py``).

One launch per parameter: a grid-stride loop with one thread per element, reading the parameter, its gradient and
its state once. The update is the CPU kernels' formula op for op, in the parameter's dtype (the launcher passes the
coefficients already rounded to it); where the CPU kernel rounds once (``_fma``: torch's ``add(alpha=)``,
``addcmul``, ``lerp``) this uses ``cuda.fma``. The GPU compiler may also fuse a separate multiply and add, so
results agree with the CPU to an ulp or so, not bit for bit. The ``*_step_par`` names run the same launch (the
CPU's take the thread count last, which one launch over the device has no use for).
"""
import inspect
import math

from numba import cuda

from ._grid import THREADS, blocks


def _par(step):
    """``step`` taking (and ignoring) the CPU ``_step_par`` kernels' trailing thread count ``T`` (its signature says
    so, as the CPU twin's does)."""
    def par(*args):
        step(*args[:-1])
    sig = inspect.signature(step)
    par.__signature__ = sig.replace(parameters=[*sig.parameters.values(),
                                                inspect.Parameter("T", inspect.Parameter.POSITIONAL_OR_KEYWORD)])
    par.__name__ = step.__name__ + "_par"
    par.__doc__ = step.__doc__
    return par


@cuda.jit(device=True, inline=True)
def _lerp(a, b, w, one_minus_w, small):
    # torch's lerp: the formula is picked by |weight| < 0.5 so that both ends are exact
    if small:
        return cuda.fma(w, b - a, a)
    return cuda.fma(a - b, one_minus_w, b)


@cuda.jit(device=True, inline=True)
def _maximum(a, b):
    # torch.maximum: NaN from either side
    if a != a:
        return a
    return a if a > b else b


# ---------------------------------------------------------------------------------------------------------------
# SGD
# ---------------------------------------------------------------------------------------------------------------
@cuda.jit
def _sgd(p, po, g, go, b, bo, n, neg_lr, momentum, one_minus_dampening, weight_decay, nesterov, maximize, first):
    for i in range(cuda.grid(1), n, cuda.gridsize(1)):
        d = g[go + i]
        if maximize:
            d = -d
        if weight_decay != 0:
            d = cuda.fma(weight_decay, p[po + i], d)
        if momentum != 0:
            if first:
                buf = d
            else:
                buf = cuda.fma(one_minus_dampening, d, b[bo + i] * momentum)
            b[bo + i] = buf
            if nesterov:
                d = cuda.fma(momentum, buf, d)
            else:
                d = buf
        p[po + i] = cuda.fma(neg_lr, d, p[po + i])


def sgd_step(p, po, g, go, buf, bo, n, neg_lr, momentum, one_minus_dampening, weight_decay, nesterov, maximize,
             first):
    """SGD on p[po:po+n] with gradient g[go:go+n] and momentum buffer buf[bo:bo+n] (unused when momentum == 0).

    d = ±g (+ weight_decay * p); buf = d on the first step, else momentum * buf + (1 - dampening) * d;
    d = d + momentum * buf (nesterov) or buf; p += -lr * d.
    """
    if n > 0:
        _sgd[blocks(n), THREADS](p, po, g, go, buf, bo, n, neg_lr, momentum, one_minus_dampening, weight_decay,
                                 nesterov, maximize, first)


sgd_step_par = _par(sgd_step)


# ---------------------------------------------------------------------------------------------------------------
# Adam / AdamW
# ---------------------------------------------------------------------------------------------------------------
@cuda.jit
def _adam(p, po, g, go, m, mo, v, vo, vmax, vmo, n, w1, one_minus_w1, w1_small, beta2, one_minus_beta2,
          neg_step_size, bc2_sqrt, eps, weight_decay, decay_factor, decoupled, amsgrad, maximize):
    for i in range(cuda.grid(1), n, cuda.gridsize(1)):
        d = g[go + i]
        if maximize:
            d = -d
        x = p[po + i]
        if weight_decay != 0:
            if decoupled:
                x = x * decay_factor
            else:
                d = cuda.fma(weight_decay, x, d)
        mi = _lerp(m[mo + i], d, w1, one_minus_w1, w1_small)
        m[mo + i] = mi
        vi = cuda.fma(one_minus_beta2 * d, d, v[vo + i] * beta2)
        v[vo + i] = vi
        if amsgrad:
            vi = _maximum(vmax[vmo + i], vi)
            vmax[vmo + i] = vi
        denom = math.sqrt(vi) / bc2_sqrt + eps
        p[po + i] = x + neg_step_size * mi / denom


def adam_step(p, po, g, go, m, mo, v, vo, vmax, vmo, n, w1, one_minus_w1, w1_small, beta2, one_minus_beta2,
              neg_step_size, bc2_sqrt, eps, weight_decay, decay_factor, decoupled, amsgrad, maximize):
    """Adam (AdamW when ``decoupled``) on p[po:po+n]: first moment m, second moment v, running max vmax.

    d = ±g; AdamW: p *= 1 - lr * wd, Adam: d += wd * p; m = lerp(m, d, 1 - beta1); v = beta2 * v +
    (1 - beta2) * d * d; vmax = max(vmax, v) (amsgrad); p += -step_size * m / (sqrt(v or vmax) / bc2_sqrt + eps).
    """
    if n > 0:
        _adam[blocks(n), THREADS](p, po, g, go, m, mo, v, vo, vmax, vmo, n, w1, one_minus_w1, w1_small, beta2,
                                  one_minus_beta2, neg_step_size, bc2_sqrt, eps, weight_decay, decay_factor,
                                  decoupled, amsgrad, maximize)


adam_step_par = _par(adam_step)


# ---------------------------------------------------------------------------------------------------------------
# RMSprop
# ---------------------------------------------------------------------------------------------------------------
@cuda.jit
def _rmsprop(p, po, g, go, sq, so, ga, gao, b, bo, n, alpha, one_minus_alpha, w_comp, w_small, neg_lr, eps,
             weight_decay, momentum, centered, maximize):
    for i in range(cuda.grid(1), n, cuda.gridsize(1)):
        d = g[go + i]
        if maximize:
            d = -d
        x = p[po + i]
        if weight_decay != 0:
            d = cuda.fma(weight_decay, x, d)
        s = cuda.fma(one_minus_alpha * d, d, sq[so + i] * alpha)
        sq[so + i] = s
        if centered:
            # lerp weight 1 - alpha; w_comp is 1 - weight in the dtype, as torch's lerp computes it
            a = _lerp(ga[gao + i], d, one_minus_alpha, w_comp, w_small)
            ga[gao + i] = a
            avg = math.sqrt(cuda.fma(-a, a, s)) + eps
        else:
            avg = math.sqrt(s) + eps
        if momentum > 0:
            buf = b[bo + i] * momentum + d / avg
            b[bo + i] = buf
            p[po + i] = cuda.fma(neg_lr, buf, x)
        else:
            p[po + i] = x + neg_lr * d / avg


def rmsprop_step(p, po, g, go, sq, so, ga, gao, buf, bo, n, alpha, one_minus_alpha, w_comp, w_small, neg_lr, eps,
                 weight_decay, momentum, centered, maximize):
    """RMSprop on p[po:po+n] with square average sq, gradient average ga (centered) and buffer buf (momentum > 0).

    d = ±g (+ wd * p); sq = alpha * sq + (1 - alpha) * d * d; ga = lerp(ga, d, 1 - alpha);
    avg = sqrt(sq - ga * ga or sq) + eps; buf = momentum * buf + d / avg, p += -lr * buf (or p += -lr * d / avg).
    """
    if n > 0:
        _rmsprop[blocks(n), THREADS](p, po, g, go, sq, so, ga, gao, buf, bo, n, alpha, one_minus_alpha, w_comp,
                                     w_small, neg_lr, eps, weight_decay, momentum, centered, maximize)


rmsprop_step_par = _par(rmsprop_step)


# ---------------------------------------------------------------------------------------------------------------
# Adagrad
# ---------------------------------------------------------------------------------------------------------------
@cuda.jit
def _adagrad(p, po, g, go, s, so, n, neg_clr, eps, weight_decay, maximize):
    for i in range(cuda.grid(1), n, cuda.gridsize(1)):
        d = g[go + i]
        if maximize:
            d = -d
        x = p[po + i]
        if weight_decay != 0:
            d = cuda.fma(weight_decay, x, d)
        acc = cuda.fma(d, d, s[so + i])
        s[so + i] = acc
        p[po + i] = x + neg_clr * d / (math.sqrt(acc) + eps)


def adagrad_step(p, po, g, go, s, so, n, neg_clr, eps, weight_decay, maximize):
    """Adagrad on p[po:po+n] with accumulator s: d = ±g (+ wd * p); s += d * d; p += -clr * d / (sqrt(s) + eps)."""
    if n > 0:
        _adagrad[blocks(n), THREADS](p, po, g, go, s, so, n, neg_clr, eps, weight_decay, maximize)


adagrad_step_par = _par(adagrad_step)


# ---------------------------------------------------------------------------------------------------------------
# Adadelta
# ---------------------------------------------------------------------------------------------------------------
@cuda.jit
def _adadelta(p, po, g, go, sq, so, acc, ao, n, rho, one_minus_rho, neg_lr, eps, weight_decay, maximize):
    for i in range(cuda.grid(1), n, cuda.gridsize(1)):
        d = g[go + i]
        if maximize:
            d = -d
        x = p[po + i]
        if weight_decay != 0:
            d = cuda.fma(weight_decay, x, d)
        s = cuda.fma(one_minus_rho * d, d, sq[so + i] * rho)
        sq[so + i] = s
        delta = math.sqrt(acc[ao + i] + eps) / math.sqrt(s + eps) * d
        acc[ao + i] = cuda.fma(one_minus_rho * delta, delta, acc[ao + i] * rho)
        p[po + i] = cuda.fma(neg_lr, delta, x)


def adadelta_step(p, po, g, go, sq, so, acc, ao, n, rho, one_minus_rho, neg_lr, eps, weight_decay, maximize):
    """Adadelta on p[po:po+n] with square average sq and accumulated delta acc.

    d = ±g (+ wd * p); sq = rho * sq + (1 - rho) * d * d; delta = sqrt(acc + eps) / sqrt(sq + eps) * d;
    acc = rho * acc + (1 - rho) * delta * delta; p += -lr * delta.
    """
    if n > 0:
        _adadelta[blocks(n), THREADS](p, po, g, go, sq, so, acc, ao, n, rho, one_minus_rho, neg_lr, eps,
                                      weight_decay, maximize)


adadelta_step_par = _par(adadelta_step)


# ---------------------------------------------------------------------------------------------------------------
# Adamax
# ---------------------------------------------------------------------------------------------------------------
@cuda.jit
def _adamax(p, po, g, go, m, mo, u, uo, n, w1, one_minus_w1, w1_small, beta2, eps, neg_clr, weight_decay, maximize):
    for i in range(cuda.grid(1), n, cuda.gridsize(1)):
        d = g[go + i]
        if maximize:
            d = -d
        x = p[po + i]
        if weight_decay != 0:
            d = cuda.fma(weight_decay, x, d)
        mi = _lerp(m[mo + i], d, w1, one_minus_w1, w1_small)
        m[mo + i] = mi
        ui = _maximum(u[uo + i] * beta2, abs(d) + eps)
        u[uo + i] = ui
        p[po + i] = x + neg_clr * mi / ui


def adamax_step(p, po, g, go, m, mo, u, uo, n, w1, one_minus_w1, w1_small, beta2, eps, neg_clr, weight_decay,
                maximize):
    """Adamax on p[po:po+n] with first moment m and infinity norm u.

    d = ±g (+ wd * p); m = lerp(m, d, 1 - beta1); u = max(beta2 * u, |d| + eps); p += -clr * m / u.
    """
    if n > 0:
        _adamax[blocks(n), THREADS](p, po, g, go, m, mo, u, uo, n, w1, one_minus_w1, w1_small, beta2, eps, neg_clr,
                                    weight_decay, maximize)


adamax_step_par = _par(adamax_step)


# ---------------------------------------------------------------------------------------------------------------
# NAdam
# ---------------------------------------------------------------------------------------------------------------
@cuda.jit
def _nadam(p, po, g, go, m, mo, v, vo, n, w1, one_minus_w1, w1_small, beta2, one_minus_beta2, bc2, eps, weight_decay,
           decay_factor, c_grad, c_avg, decoupled, maximize):
    for i in range(cuda.grid(1), n, cuda.gridsize(1)):
        d = g[go + i]
        if maximize:
            d = -d
        x = p[po + i]
        if weight_decay != 0:
            if decoupled:
                x = x * decay_factor
            else:
                d = cuda.fma(weight_decay, x, d)
        mi = _lerp(m[mo + i], d, w1, one_minus_w1, w1_small)
        m[mo + i] = mi
        vi = cuda.fma(one_minus_beta2 * d, d, v[vo + i] * beta2)
        v[vo + i] = vi
        denom = math.sqrt(vi / bc2) + eps
        x = x + c_grad * d / denom
        p[po + i] = x + c_avg * mi / denom


def nadam_step(p, po, g, go, m, mo, v, vo, n, w1, one_minus_w1, w1_small, beta2, one_minus_beta2, bc2, eps,
               weight_decay, decay_factor, c_grad, c_avg, decoupled, maximize):
    """NAdam on p[po:po+n] with moments m, v; ``c_grad`` and ``c_avg`` carry the momentum schedule.

    d = ±g (decoupled: p *= 1 - lr * wd, else d += wd * p); m = lerp(m, d, 1 - beta1); v = beta2 * v +
    (1 - beta2) * d * d; denom = sqrt(v / bc2) + eps; p += c_grad * d / denom; p += c_avg * m / denom.
    """
    if n > 0:
        _nadam[blocks(n), THREADS](p, po, g, go, m, mo, v, vo, n, w1, one_minus_w1, w1_small, beta2, one_minus_beta2,
                                   bc2, eps, weight_decay, decay_factor, c_grad, c_avg, decoupled, maximize)


nadam_step_par = _par(nadam_step)


# ---------------------------------------------------------------------------------------------------------------
# RAdam
# ---------------------------------------------------------------------------------------------------------------
@cuda.jit
def _radam(p, po, g, go, m, mo, v, vo, n, w1, one_minus_w1, w1_small, beta2, one_minus_beta2, bc1, lr, one, bc2_sqrt,
           eps, rect, weight_decay, decay_factor, rectified, decoupled, maximize):
    for i in range(cuda.grid(1), n, cuda.gridsize(1)):
        d = g[go + i]
        if maximize:
            d = -d
        x = p[po + i]
        if weight_decay != 0:
            if decoupled:
                x = x * decay_factor
            else:
                d = cuda.fma(weight_decay, x, d)
        mi = _lerp(m[mo + i], d, w1, one_minus_w1, w1_small)
        m[mo + i] = mi
        vi = cuda.fma(one_minus_beta2 * d, d, v[vo + i] * beta2)
        v[vo + i] = vi
        upd = mi / bc1 * lr
        if rectified:
            upd = upd * (one / (math.sqrt(vi) + eps) * bc2_sqrt) * rect
        p[po + i] = x - upd


def radam_step(p, po, g, go, m, mo, v, vo, n, w1, one_minus_w1, w1_small, beta2, one_minus_beta2, bc1, lr, one,
               bc2_sqrt, eps, rect, weight_decay, decay_factor, rectified, decoupled, maximize):
    """RAdam on p[po:po+n] with moments m, v.

    d = ±g (decoupled: p *= 1 - lr * wd, else d += wd * p); m = lerp(m, d, 1 - beta1); v = beta2 * v +
    (1 - beta2) * d * d; u = m / bc1 * lr, times (1 / (sqrt(v) + eps) * sqrt(bc2)) * rect when ``rectified``;
    p -= u.
    """
    if n > 0:
        _radam[blocks(n), THREADS](p, po, g, go, m, mo, v, vo, n, w1, one_minus_w1, w1_small, beta2, one_minus_beta2,
                                   bc1, lr, one, bc2_sqrt, eps, rect, weight_decay, decay_factor, rectified,
                                   decoupled, maximize)


radam_step_par = _par(radam_step)


# ---------------------------------------------------------------------------------------------------------------
# ASGD
# ---------------------------------------------------------------------------------------------------------------
@cuda.jit
def _asgd(p, po, g, go, ax, ao, n, decay, neg_eta, mu, weight_decay, average, maximize):
    for i in range(cuda.grid(1), n, cuda.gridsize(1)):
        d = g[go + i]
        if maximize:
            d = -d
        x = p[po + i]
        if weight_decay != 0:
            d = cuda.fma(weight_decay, x, d)
        x = cuda.fma(neg_eta, d, x * decay)
        p[po + i] = x
        if average:
            a = ax[ao + i]
            ax[ao + i] = a + (x - a) * mu
        else:
            ax[ao + i] = x


def asgd_step(p, po, g, go, ax, ao, n, decay, neg_eta, mu, weight_decay, average, maximize):
    """ASGD on p[po:po+n] with running average ax.

    d = ±g (+ wd * p); p = p * (1 - lambd * eta) - eta * d; ax += (p - ax) * mu when ``average`` (mu != 1), else
    ax = p.
    """
    if n > 0:
        _asgd[blocks(n), THREADS](p, po, g, go, ax, ao, n, decay, neg_eta, mu, weight_decay, average, maximize)


asgd_step_par = _par(asgd_step)


# ---------------------------------------------------------------------------------------------------------------
# Rprop
# ---------------------------------------------------------------------------------------------------------------
@cuda.jit
def _rprop(p, po, g, go, prev, pro, ss, so, n, etaminus, etaplus, one, step_min, step_max, maximize):
    for i in range(cuda.grid(1), n, cuda.gridsize(1)):
        d = g[go + i]
        if maximize:
            d = -d
        s = d * prev[pro + i]
        f = one  # sign 0 (and NaN, whose sign is 0 in torch) keeps the step size
        if s > 0:
            f = etaplus
        elif s < 0:
            f = etaminus
        z = ss[so + i] * f
        if z < step_min:
            z = step_min
        if z > step_max:
            z = step_max
        ss[so + i] = z
        if f == etaminus:
            d = one - one
        sg = one - one
        if d > 0:
            sg = one
        elif d < 0:
            sg = -one
        p[po + i] = p[po + i] + (-sg) * z
        prev[pro + i] = d


def rprop_step(p, po, g, go, prev, pro, ss, so, n, etaminus, etaplus, one, step_min, step_max, maximize):
    """Rprop on p[po:po+n] with previous gradient prev and per-element step sizes ss.

    d = ±g; f = etaplus, etaminus or 1 by the sign of d * prev; ss = clamp(ss * f, step_min, step_max);
    d = 0 where f == etaminus; p -= sign(d) * ss; prev = d.
    """
    if n > 0:
        _rprop[blocks(n), THREADS](p, po, g, go, prev, pro, ss, so, n, etaminus, etaplus, one, step_min, step_max,
                                   maximize)


rprop_step_par = _par(rprop_step)


# ---------------------------------------------------------------------------------------------------------------
# GradScaler: unscale a gradient in place and flag non-finite values
# ---------------------------------------------------------------------------------------------------------------
@cuda.jit
def _amp_unscale(g, go, n, inv, io, flag, fo):
    s = inv[io]
    for i in range(cuda.grid(1), n, cuda.gridsize(1)):
        v = g[go + i]
        if not math.isfinite(v):
            flag[fo] = 1.0  # every writer writes the same value
        g[go + i] = v * s


def amp_unscale(g, go, n, inv, io, flag, fo):
    """g[go:go+n] *= inv[io]; flag[fo] = 1 if any of those values was inf or NaN (else flag is left alone)."""
    if n > 0:
        _amp_unscale[blocks(n), THREADS](g, go, n, inv, io, flag, fo)


amp_unscale_par = amp_unscale
