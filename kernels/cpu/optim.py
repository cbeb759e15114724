"""Fused optimizer steps: one pass over a parameter, its gradient and its state buffers.

Each optimizer has one kernel, ``<name>_step``, plus a ``<name>_step_par`` variant for large parameters (a
``prange`` launch costs ~2 us, so small parameters stay serial) that takes the thread count ``T`` last and gives
thread t the t-th of T equal runs, the same blocks the split GEMMs of a linear layer leave in each core's cache
(the MNIST MLP's SGD step inside the training loop: 72 us in 16K-element chunks, 55 us in T runs). Arrays arrive
as flat storages with an element offset; the launcher (``minitorch.optim._functional``) checks that every operand is a contiguous run of ``n``
elements of one floating dtype before the launch, because Numba does no bounds checking.

The update is PyTorch's single-tensor formula, op for op, in the parameter's dtype: every scalar coefficient
arrives already rounded to that dtype (the launcher computes ``1 - beta``, bias corrections and the like in Python
floats, as PyTorch does, then casts), so a float32 update rounds where PyTorch's float32 ops round. PyTorch's CPU
kernels round ``add(alpha=)``, ``addcmul`` and ``lerp`` once (a fused multiply-add) and every separate op on its
own; ``_fma`` reproduces exactly that (SGD and Adagrad steps on large tensors match PyTorch bit for bit). (PyTorch's
vectorised float32 ``sqrt`` is not correctly rounded, so optimizers that take square roots agree to an ulp.)

Index arithmetic is cast to unsigned so that Numba drops its negative-index wraparound check, and
``error_model="numpy"`` drops the zero-divisor check (x / 0 is inf or nan, as in PyTorch): either check blocks
vectorisation (measured over a 784-128-64-10 MLP: SGD-momentum 190 -> 40 us, Adam 380 -> 60 us).
"""
import numpy as np
from numba import njit, prange

from ._intrinsics import fma as _fma

U = np.uint64
CHUNK = 16384  # elements per task of amp_unscale_par (the _step_par kernels split into T runs)


@njit(cache=True, inline="always", error_model="numpy")
def _lerp(a, b, w, one_minus_w, small):
    # torch's lerp: the formula is picked by |weight| < 0.5 so that both ends are exact
    if small:
        return _fma(w, b - a, a)
    return _fma(a - b, one_minus_w, b)


@njit(cache=True, inline="always", error_model="numpy")
def _maximum(a, b):
    # torch.maximum propagates NaN from either side; two selects (not an `or`) so that the loop vectorises
    r = a if a > b else b
    return r if a == a else a


# ---------------------------------------------------------------------------------------------------------------
# SGD
# ---------------------------------------------------------------------------------------------------------------
@njit(cache=True, inline="always", error_model="numpy")
def _sgd_run(p, po, g, go, b, bo, lo, hi, neg_lr, momentum, one_minus_dampening, weight_decay, nesterov,
             maximize, first):
    for i in range(lo, hi):
        d = g[U(go + i)]
        if maximize:
            d = -d
        if weight_decay != 0:
            d = _fma(weight_decay, p[U(po + i)], d)
        if momentum != 0:
            if first:
                buf = d
            else:
                buf = _fma(one_minus_dampening, d, b[U(bo + i)] * momentum)
            b[U(bo + i)] = buf
            if nesterov:
                d = _fma(momentum, buf, d)
            else:
                d = buf
        p[U(po + i)] = _fma(neg_lr, d, p[U(po + i)])


@njit(cache=True, error_model="numpy")
def sgd_step(p, po, g, go, buf, bo, n, neg_lr, momentum, one_minus_dampening, weight_decay, nesterov, maximize,
             first):
    """SGD on p[po:po+n] with gradient g[go:go+n] and momentum buffer buf[bo:bo+n] (unused when momentum == 0).

    d = ±g (+ weight_decay * p); buf = d on the first step, else momentum * buf + (1 - dampening) * d;
    d = d + momentum * buf (nesterov) or buf; p += -lr * d.
    """
    _sgd_run(p, po, g, go, buf, bo, 0, n, neg_lr, momentum, one_minus_dampening, weight_decay, nesterov, maximize,
             first)


@njit(cache=True, parallel=True, error_model="numpy")
def sgd_step_par(p, po, g, go, buf, bo, n, neg_lr, momentum, one_minus_dampening, weight_decay, nesterov,
                 maximize, first, T):
    for t in prange(T):
        lo = t * n // T
        _sgd_run(p, po, g, go, buf, bo, lo, (t + 1) * n // T, neg_lr, momentum, one_minus_dampening,
                 weight_decay, nesterov, maximize, first)


# ---------------------------------------------------------------------------------------------------------------
# Adam / AdamW
# ---------------------------------------------------------------------------------------------------------------
@njit(cache=True, inline="always", error_model="numpy")
def _adam_run(p, po, g, go, m, mo, v, vo, vmax, vmo, lo, hi, w1, one_minus_w1, w1_small, beta2, one_minus_beta2,
              neg_step_size, bc2_sqrt, eps, weight_decay, decay_factor, decoupled, amsgrad, maximize):
    for i in range(lo, hi):
        d = g[U(go + i)]
        if maximize:
            d = -d
        x = p[U(po + i)]
        if weight_decay != 0:
            if decoupled:
                x = x * decay_factor
            else:
                d = _fma(weight_decay, x, d)
        mi = _lerp(m[U(mo + i)], d, w1, one_minus_w1, w1_small)
        m[U(mo + i)] = mi
        vi = _fma(one_minus_beta2 * d, d, v[U(vo + i)] * beta2)
        v[U(vo + i)] = vi
        if amsgrad:
            vi = _maximum(vmax[U(vmo + i)], vi)
            vmax[U(vmo + i)] = vi
        denom = np.sqrt(vi) / bc2_sqrt + eps
        p[U(po + i)] = x + neg_step_size * mi / denom


@njit(cache=True, error_model="numpy")
def adam_step(p, po, g, go, m, mo, v, vo, vmax, vmo, n, w1, one_minus_w1, w1_small, beta2, one_minus_beta2,
              neg_step_size, bc2_sqrt, eps, weight_decay, decay_factor, decoupled, amsgrad, maximize):
    """Adam (AdamW when ``decoupled``) on p[po:po+n]: first moment m, second moment v, running max vmax.

    d = ±g; AdamW: p *= 1 - lr * wd, Adam: d += wd * p; m = lerp(m, d, 1 - beta1); v = beta2 * v +
    (1 - beta2) * d * d; vmax = max(vmax, v) (amsgrad); p += -step_size * m / (sqrt(v or vmax) / bc2_sqrt + eps).
    """
    _adam_run(p, po, g, go, m, mo, v, vo, vmax, vmo, 0, n, w1, one_minus_w1, w1_small, beta2, one_minus_beta2,
              neg_step_size, bc2_sqrt, eps, weight_decay, decay_factor, decoupled, amsgrad, maximize)


@njit(cache=True, parallel=True, error_model="numpy")
def adam_step_par(p, po, g, go, m, mo, v, vo, vmax, vmo, n, w1, one_minus_w1, w1_small, beta2, one_minus_beta2,
                  neg_step_size, bc2_sqrt, eps, weight_decay, decay_factor, decoupled, amsgrad, maximize, T):
    for t in prange(T):
        lo = t * n // T
        _adam_run(p, po, g, go, m, mo, v, vo, vmax, vmo, lo, (t + 1) * n // T, w1, one_minus_w1, w1_small,
                  beta2, one_minus_beta2, neg_step_size, bc2_sqrt, eps, weight_decay, decay_factor, decoupled,
                  amsgrad, maximize)


# ---------------------------------------------------------------------------------------------------------------
# RMSprop
# ---------------------------------------------------------------------------------------------------------------
@njit(cache=True, inline="always", error_model="numpy")
def _rmsprop_run(p, po, g, go, sq, so, ga, gao, b, bo, lo, hi, alpha, one_minus_alpha, w_comp, w_small, neg_lr, eps,
                 weight_decay, momentum, centered, maximize):
    for i in range(lo, hi):
        d = g[U(go + i)]
        if maximize:
            d = -d
        x = p[U(po + i)]
        if weight_decay != 0:
            d = _fma(weight_decay, x, d)
        s = _fma(one_minus_alpha * d, d, sq[U(so + i)] * alpha)
        sq[U(so + i)] = s
        if centered:
            # lerp weight 1 - alpha; w_comp is 1 - weight in the dtype, as torch's lerp computes it
            a = _lerp(ga[U(gao + i)], d, one_minus_alpha, w_comp, w_small)
            ga[U(gao + i)] = a
            avg = np.sqrt(_fma(-a, a, s)) + eps
        else:
            avg = np.sqrt(s) + eps
        if momentum > 0:
            buf = b[U(bo + i)] * momentum + d / avg
            b[U(bo + i)] = buf
            p[U(po + i)] = _fma(neg_lr, buf, x)
        else:
            p[U(po + i)] = x + neg_lr * d / avg


@njit(cache=True, error_model="numpy")
def rmsprop_step(p, po, g, go, sq, so, ga, gao, buf, bo, n, alpha, one_minus_alpha, w_comp, w_small, neg_lr, eps,
                 weight_decay, momentum, centered, maximize):
    """RMSprop on p[po:po+n] with square average sq, gradient average ga (centered) and buffer buf (momentum > 0).

    d = ±g (+ wd * p); sq = alpha * sq + (1 - alpha) * d * d; ga = lerp(ga, d, 1 - alpha);
    avg = sqrt(sq - ga * ga or sq) + eps; buf = momentum * buf + d / avg, p += -lr * buf (or p += -lr * d / avg).
    """
    _rmsprop_run(p, po, g, go, sq, so, ga, gao, buf, bo, 0, n, alpha, one_minus_alpha, w_comp, w_small, neg_lr, eps,
                 weight_decay, momentum, centered, maximize)


@njit(cache=True, parallel=True, error_model="numpy")
def rmsprop_step_par(p, po, g, go, sq, so, ga, gao, buf, bo, n, alpha, one_minus_alpha, w_comp, w_small, neg_lr, eps,
                     weight_decay, momentum, centered, maximize, T):
    for t in prange(T):
        lo = t * n // T
        _rmsprop_run(p, po, g, go, sq, so, ga, gao, buf, bo, lo, (t + 1) * n // T, alpha, one_minus_alpha,
                     w_comp, w_small, neg_lr, eps, weight_decay, momentum, centered, maximize)


# ---------------------------------------------------------------------------------------------------------------
# Adagrad
# ---------------------------------------------------------------------------------------------------------------
@njit(cache=True, inline="always", error_model="numpy")
def _adagrad_run(p, po, g, go, s, so, lo, hi, neg_clr, eps, weight_decay, maximize):
    for i in range(lo, hi):
        d = g[U(go + i)]
        if maximize:
            d = -d
        x = p[U(po + i)]
        if weight_decay != 0:
            d = _fma(weight_decay, x, d)
        acc = _fma(d, d, s[U(so + i)])
        s[U(so + i)] = acc
        p[U(po + i)] = x + neg_clr * d / (np.sqrt(acc) + eps)


@njit(cache=True, error_model="numpy")
def adagrad_step(p, po, g, go, s, so, n, neg_clr, eps, weight_decay, maximize):
    """Adagrad on p[po:po+n] with accumulator s: d = ±g (+ wd * p); s += d * d; p += -clr * d / (sqrt(s) + eps)."""
    _adagrad_run(p, po, g, go, s, so, 0, n, neg_clr, eps, weight_decay, maximize)


@njit(cache=True, parallel=True, error_model="numpy")
def adagrad_step_par(p, po, g, go, s, so, n, neg_clr, eps, weight_decay, maximize, T):
    for t in prange(T):
        lo = t * n // T
        _adagrad_run(p, po, g, go, s, so, lo, (t + 1) * n // T, neg_clr, eps, weight_decay, maximize)


# ---------------------------------------------------------------------------------------------------------------
# Adadelta
# ---------------------------------------------------------------------------------------------------------------
@njit(cache=True, inline="always", error_model="numpy")
def _adadelta_run(p, po, g, go, sq, so, acc, ao, lo, hi, rho, one_minus_rho, neg_lr, eps, weight_decay, maximize):
    for i in range(lo, hi):
        d = g[U(go + i)]
        if maximize:
            d = -d
        x = p[U(po + i)]
        if weight_decay != 0:
            d = _fma(weight_decay, x, d)
        s = _fma(one_minus_rho * d, d, sq[U(so + i)] * rho)
        sq[U(so + i)] = s
        delta = np.sqrt(acc[U(ao + i)] + eps) / np.sqrt(s + eps) * d
        acc[U(ao + i)] = _fma(one_minus_rho * delta, delta, acc[U(ao + i)] * rho)
        p[U(po + i)] = _fma(neg_lr, delta, x)


@njit(cache=True, error_model="numpy")
def adadelta_step(p, po, g, go, sq, so, acc, ao, n, rho, one_minus_rho, neg_lr, eps, weight_decay, maximize):
    """Adadelta on p[po:po+n] with square average sq and accumulated delta acc.

    d = ±g (+ wd * p); sq = rho * sq + (1 - rho) * d * d; delta = sqrt(acc + eps) / sqrt(sq + eps) * d;
    acc = rho * acc + (1 - rho) * delta * delta; p += -lr * delta.
    """
    _adadelta_run(p, po, g, go, sq, so, acc, ao, 0, n, rho, one_minus_rho, neg_lr, eps, weight_decay, maximize)


@njit(cache=True, parallel=True, error_model="numpy")
def adadelta_step_par(p, po, g, go, sq, so, acc, ao, n, rho, one_minus_rho, neg_lr, eps, weight_decay, maximize, T):
    for t in prange(T):
        lo = t * n // T
        _adadelta_run(p, po, g, go, sq, so, acc, ao, lo, (t + 1) * n // T, rho, one_minus_rho, neg_lr, eps,
                      weight_decay, maximize)


# ---------------------------------------------------------------------------------------------------------------
# GradScaler: unscale a gradient in place and flag non-finite values (torch's non_finite_check_and_unscale)
# ---------------------------------------------------------------------------------------------------------------
@njit(cache=True, inline="always", error_model="numpy")
def _unscale_run(g, go, lo, hi, inv):
    bad = False
    for i in range(lo, hi):
        v = g[U(go + i)]
        bad |= not np.isfinite(v)
        g[U(go + i)] = v * inv
    return bad


@njit(cache=True, error_model="numpy")
def amp_unscale(g, go, n, inv, io, flag, fo):
    """g[go:go+n] *= inv[io]; flag[fo] = 1 if any of those values was inf or NaN (else flag is left alone)."""
    if _unscale_run(g, go, 0, n, inv[io]):
        flag[fo] = 1.0


@njit(cache=True, parallel=True, error_model="numpy")
def amp_unscale_par(g, go, n, inv, io, flag, fo):
    chunks = (n + CHUNK - 1) // CHUNK
    bad = np.zeros(chunks, dtype=np.bool_)
    s = inv[io]
    for c in prange(chunks):
        bad[c] = _unscale_run(g, go, c * CHUNK, min(n, (c + 1) * CHUNK), s)
    if bad.any():
        flag[fo] = 1.0


# ---------------------------------------------------------------------------------------------------------------
# Adamax
# ---------------------------------------------------------------------------------------------------------------
@njit(cache=True, inline="always", error_model="numpy")
def _adamax_run(p, po, g, go, m, mo, u, uo, lo, hi, w1, one_minus_w1, w1_small, beta2, eps, neg_clr, weight_decay,
                maximize):
    for i in range(lo, hi):
        d = g[U(go + i)]
        if maximize:
            d = -d
        x = p[U(po + i)]
        if weight_decay != 0:
            d = _fma(weight_decay, x, d)
        mi = _lerp(m[U(mo + i)], d, w1, one_minus_w1, w1_small)
        m[U(mo + i)] = mi
        ui = _maximum(u[U(uo + i)] * beta2, np.abs(d) + eps)
        u[U(uo + i)] = ui
        p[U(po + i)] = x + neg_clr * mi / ui


@njit(cache=True, error_model="numpy")
def adamax_step(p, po, g, go, m, mo, u, uo, n, w1, one_minus_w1, w1_small, beta2, eps, neg_clr, weight_decay,
                maximize):
    """Adamax on p[po:po+n] with first moment m and infinity norm u.

    d = ±g (+ wd * p); m = lerp(m, d, 1 - beta1); u = max(beta2 * u, |d| + eps); p += -clr * m / u.
    """
    _adamax_run(p, po, g, go, m, mo, u, uo, 0, n, w1, one_minus_w1, w1_small, beta2, eps, neg_clr, weight_decay,
                maximize)


@njit(cache=True, parallel=True, error_model="numpy")
def adamax_step_par(p, po, g, go, m, mo, u, uo, n, w1, one_minus_w1, w1_small, beta2, eps, neg_clr, weight_decay,
                    maximize, T):
    for t in prange(T):
        lo = t * n // T
        _adamax_run(p, po, g, go, m, mo, u, uo, lo, (t + 1) * n // T, w1, one_minus_w1, w1_small, beta2, eps,
                    neg_clr, weight_decay, maximize)


# ---------------------------------------------------------------------------------------------------------------
# NAdam
# ---------------------------------------------------------------------------------------------------------------
@njit(cache=True, inline="always", error_model="numpy")
def _nadam_run(p, po, g, go, m, mo, v, vo, lo, hi, w1, one_minus_w1, w1_small, beta2, one_minus_beta2, bc2, eps,
               weight_decay, decay_factor, c_grad, c_avg, decoupled, maximize):
    for i in range(lo, hi):
        d = g[U(go + i)]
        if maximize:
            d = -d
        x = p[U(po + i)]
        if weight_decay != 0:
            if decoupled:
                x = x * decay_factor
            else:
                d = _fma(weight_decay, x, d)
        mi = _lerp(m[U(mo + i)], d, w1, one_minus_w1, w1_small)
        m[U(mo + i)] = mi
        vi = _fma(one_minus_beta2 * d, d, v[U(vo + i)] * beta2)
        v[U(vo + i)] = vi
        denom = np.sqrt(vi / bc2) + eps
        x = x + c_grad * d / denom
        p[U(po + i)] = x + c_avg * mi / denom


@njit(cache=True, error_model="numpy")
def nadam_step(p, po, g, go, m, mo, v, vo, n, w1, one_minus_w1, w1_small, beta2, one_minus_beta2, bc2, eps,
               weight_decay, decay_factor, c_grad, c_avg, decoupled, maximize):
    """NAdam on p[po:po+n] with moments m, v; ``c_grad`` and ``c_avg`` carry the momentum schedule.

    d = ±g (decoupled: p *= 1 - lr * wd, else d += wd * p); m = lerp(m, d, 1 - beta1); v = beta2 * v +
    (1 - beta2) * d * d; denom = sqrt(v / bc2) + eps; p += c_grad * d / denom; p += c_avg * m / denom.
    """
    _nadam_run(p, po, g, go, m, mo, v, vo, 0, n, w1, one_minus_w1, w1_small, beta2, one_minus_beta2, bc2, eps,
               weight_decay, decay_factor, c_grad, c_avg, decoupled, maximize)


@njit(cache=True, parallel=True, error_model="numpy")
def nadam_step_par(p, po, g, go, m, mo, v, vo, n, w1, one_minus_w1, w1_small, beta2, one_minus_beta2, bc2, eps,
                   weight_decay, decay_factor, c_grad, c_avg, decoupled, maximize, T):
    for t in prange(T):
        lo = t * n // T
        _nadam_run(p, po, g, go, m, mo, v, vo, lo, (t + 1) * n // T, w1, one_minus_w1, w1_small, beta2,
                   one_minus_beta2, bc2, eps, weight_decay, decay_factor, c_grad, c_avg, decoupled, maximize)


# ---------------------------------------------------------------------------------------------------------------
# RAdam
# ---------------------------------------------------------------------------------------------------------------
@njit(cache=True, inline="always", error_model="numpy")
def _radam_run(p, po, g, go, m, mo, v, vo, lo, hi, w1, one_minus_w1, w1_small, beta2, one_minus_beta2, bc1, lr,
               one, bc2_sqrt, eps, rect, weight_decay, decay_factor, rectified, decoupled, maximize):
    for i in range(lo, hi):
        d = g[U(go + i)]
        if maximize:
            d = -d
        x = p[U(po + i)]
        if weight_decay != 0:
            if decoupled:
                x = x * decay_factor
            else:
                d = _fma(weight_decay, x, d)
        mi = _lerp(m[U(mo + i)], d, w1, one_minus_w1, w1_small)
        m[U(mo + i)] = mi
        vi = _fma(one_minus_beta2 * d, d, v[U(vo + i)] * beta2)
        v[U(vo + i)] = vi
        upd = mi / bc1 * lr
        if rectified:
            # torch: scalar / tensor is reciprocal(tensor) * scalar
            upd = upd * (one / (np.sqrt(vi) + eps) * bc2_sqrt) * rect
        p[U(po + i)] = x - upd


@njit(cache=True, error_model="numpy")
def radam_step(p, po, g, go, m, mo, v, vo, n, w1, one_minus_w1, w1_small, beta2, one_minus_beta2, bc1, lr, one,
               bc2_sqrt, eps, rect, weight_decay, decay_factor, rectified, decoupled, maximize):
    """RAdam on p[po:po+n] with moments m, v.

    d = ±g (decoupled: p *= 1 - lr * wd, else d += wd * p); m = lerp(m, d, 1 - beta1); v = beta2 * v +
    (1 - beta2) * d * d; u = m / bc1 * lr, times (1 / (sqrt(v) + eps) * sqrt(bc2)) * rect when ``rectified``;
    p -= u.
    """
    _radam_run(p, po, g, go, m, mo, v, vo, 0, n, w1, one_minus_w1, w1_small, beta2, one_minus_beta2, bc1, lr, one,
               bc2_sqrt, eps, rect, weight_decay, decay_factor, rectified, decoupled, maximize)


@njit(cache=True, parallel=True, error_model="numpy")
def radam_step_par(p, po, g, go, m, mo, v, vo, n, w1, one_minus_w1, w1_small, beta2, one_minus_beta2, bc1, lr, one,
                   bc2_sqrt, eps, rect, weight_decay, decay_factor, rectified, decoupled, maximize, T):
    for t in prange(T):
        lo = t * n // T
        _radam_run(p, po, g, go, m, mo, v, vo, lo, (t + 1) * n // T, w1, one_minus_w1, w1_small, beta2,
                   one_minus_beta2, bc1, lr, one, bc2_sqrt, eps, rect, weight_decay, decay_factor, rectified,
                   decoupled, maximize)


# ---------------------------------------------------------------------------------------------------------------
# ASGD
# ---------------------------------------------------------------------------------------------------------------
@njit(cache=True, inline="always", error_model="numpy")
def _asgd_run(p, po, g, go, ax, ao, lo, hi, decay, neg_eta, mu, weight_decay, average, maximize):
    for i in range(lo, hi):
        d = g[U(go + i)]
        if maximize:
            d = -d
        x = p[U(po + i)]
        if weight_decay != 0:
            d = _fma(weight_decay, x, d)
        x = _fma(neg_eta, d, x * decay)
        p[U(po + i)] = x
        if average:
            a = ax[U(ao + i)]
            ax[U(ao + i)] = a + (x - a) * mu
        else:
            ax[U(ao + i)] = x


@njit(cache=True, error_model="numpy")
def asgd_step(p, po, g, go, ax, ao, n, decay, neg_eta, mu, weight_decay, average, maximize):
    """ASGD on p[po:po+n] with running average ax.

    d = ±g (+ wd * p); p = p * (1 - lambd * eta) - eta * d; ax += (p - ax) * mu when ``average`` (mu != 1), else
    ax = p.
    """
    _asgd_run(p, po, g, go, ax, ao, 0, n, decay, neg_eta, mu, weight_decay, average, maximize)


@njit(cache=True, parallel=True, error_model="numpy")
def asgd_step_par(p, po, g, go, ax, ao, n, decay, neg_eta, mu, weight_decay, average, maximize, T):
    for t in prange(T):
        lo = t * n // T
        _asgd_run(p, po, g, go, ax, ao, lo, (t + 1) * n // T, decay, neg_eta, mu, weight_decay, average, maximize)


# ---------------------------------------------------------------------------------------------------------------
# Rprop
# ---------------------------------------------------------------------------------------------------------------
@njit(cache=True, inline="always", error_model="numpy")
def _rprop_run(p, po, g, go, prev, pro, ss, so, lo, hi, etaminus, etaplus, one, step_min, step_max, maximize):
    for i in range(lo, hi):
        d = g[U(go + i)]
        if maximize:
            d = -d
        s = d * prev[U(pro + i)]
        f = one  # sign 0 (and NaN, whose sign is 0 in torch) keeps the step size
        if s > 0:
            f = etaplus
        elif s < 0:
            f = etaminus
        z = ss[U(so + i)] * f
        # torch's clamp: NaN passes through
        if z < step_min:
            z = step_min
        if z > step_max:
            z = step_max
        ss[U(so + i)] = z
        if f == etaminus:
            d = one - one
        sg = one - one  # torch.sign: 0 for 0 and NaN
        if d > 0:
            sg = one
        elif d < 0:
            sg = -one
        p[U(po + i)] = p[U(po + i)] + (-sg) * z
        prev[U(pro + i)] = d


@njit(cache=True, error_model="numpy")
def rprop_step(p, po, g, go, prev, pro, ss, so, n, etaminus, etaplus, one, step_min, step_max, maximize):
    """Rprop on p[po:po+n] with previous gradient prev and per-element step sizes ss.

    d = ±g; f = etaplus, etaminus or 1 by the sign of d * prev; ss = clamp(ss * f, step_min, step_max);
    d = 0 where f == etaminus; p -= sign(d) * ss; prev = d.
    """
    _rprop_run(p, po, g, go, prev, pro, ss, so, 0, n, etaminus, etaplus, one, step_min, step_max, maximize)


@njit(cache=True, parallel=True, error_model="numpy")
def rprop_step_par(p, po, g, go, prev, pro, ss, so, n, etaminus, etaplus, one, step_min, step_max, maximize, T):
    for t in prange(T):
        lo = t * n // T
        _rprop_run(p, po, g, go, prev, pro, ss, so, lo, (t + 1) * n // T, etaminus, etaplus, one, step_min,
                   step_max, maximize)
