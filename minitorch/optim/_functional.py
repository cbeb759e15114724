"""Functional optimizer updates: ``sgd``, ``adam``, ``adamw``, ``rmsprop``, ``adagrad``, ``adadelta``, ``adamax``,
``nadam``, ``radam``, ``asgd``, ``rprop``.

Same arguments as ``torch.optim._functional``: lists of parameters, gradients and state tensors, updated in place.
Each parameter is updated by one fused kernel launch (``minitorch.kernels.<device>.optim``) that reads the
parameter, its gradient and its state once. A parameter the kernels cannot take (a non-contiguous view, state of
another shape or dtype, a device whose kernel package has no ``optim`` module) is updated with tensor ops that
follow PyTorch's single-tensor code line by line; the two paths agree to float rounding.

Scalar coefficients are computed in Python floats exactly as PyTorch computes them (``1 - beta2``, ``lr /
bias_correction1`` ...) and then rounded to the parameter's dtype, which is what PyTorch's CPU kernels do with a
Python-number operand.
"""
import importlib

import numpy as np

from .. import dispatch
from ..autograd.grad_mode import no_grad
from ..ops import launch

__all__ = ["sgd", "adam", "adamw", "rmsprop", "adagrad", "adadelta", "adamax", "nadam", "radam", "asgd", "rprop"]

# elements from which a step is split over the threads (``_step_par``: thread t takes the t-th of T equal runs).
# Memory-bound, but in a training loop a weight and its gradient were last touched by the threads of the layer's
# split GEMMs, so each core finds its part in its own cache: the MNIST MLP's SGD step (fc1.weight, 100K elements)
# took 115 us serial inside the training loop (this was 2^18), 72 us in 16K-element chunks, 55 us in T runs
PAR_MIN = 1 << 15


def _kernel(par, serial, n):
    """(kernel, extra arguments): the ``_step_par`` form with the thread count for parameters of PAR_MIN elements
    or more, else the serial step."""
    if n >= PAR_MIN:
        return par, (launch._threads(),)
    return serial, ()


_OPTIM = {}


def _optim_kernels(device_type):
    """The device's ``optim`` kernel module, or None when its kernel package has none."""
    try:
        return _OPTIM[device_type]
    except KeyError:
        pass
    pkg = dispatch.kernels(device_type)
    mod = getattr(pkg, "optim", None)
    if mod is None:
        try:
            mod = importlib.import_module(pkg.__name__ + ".optim")
        except ImportError:
            mod = None
    _OPTIM[device_type] = mod
    return mod


def _fused(p, g, bufs):
    """(kernel module, contiguous grad) when ``p`` and its state can go through the fused kernel, else None."""
    if not p._contig or not p._dtype.is_floating_point or p._dtype._half:
        return None  # 16-bit floats take the tensor-op path (computed in float32, rounded per op, as PyTorch's)
    mod = _optim_kernels(p._device.type)
    if mod is None:
        return None
    shape, dtype, dev = p._shape, p._dtype, p._device
    for b in bufs:
        if b is not None and (not b._contig or b._dtype is not dtype or b._shape != shape or b._device != dev):
            return None
    if g._shape != shape or g._dtype is not dtype or g._device != dev:
        return None
    if not g._contig:
        g = launch.contiguous(g)
    return mod, g


def _to_float(x):
    """A Python float from a number or a one-element tensor (PyTorch accepts tensor lr and betas)."""
    return float(x.item()) if hasattr(x, "item") and not isinstance(x, (int, float)) else float(x)


def _step_up(step_t):
    """Increment a 0-d step tensor in place and return its new value as a float."""
    s = step_t._storage
    if isinstance(s, np.ndarray):
        s[step_t._offset] += 1
        step_t._vc[0] += 1
        return float(s[step_t._offset])
    step_t.add_(1)
    return float(step_t.item())


def _scalar_update(t, value, multiply=False):
    """Set a 0-d state tensor (``mu_product``, ``eta``, ``mu``) to ``value``, or multiply it by ``value``, rounding
    in its dtype as PyTorch's in-place op does; returns the new value as a float."""
    s = t._storage
    if isinstance(s, np.ndarray):
        ty = s.dtype.type
        s[t._offset] = s[t._offset] * ty(value) if multiply else ty(value)
        t._vc[0] += 1
        return float(s[t._offset])
    t.mul_(value) if multiply else t.fill_(value)
    return float(t.item())


def _scalar(t):
    s = t._storage
    return float(s[t._offset]) if isinstance(s, np.ndarray) else float(t.item())


def _bump(*tensors):
    for t in tensors:
        if t is not None:
            t._vc[0] += 1


def _cast(ty, *values):
    return tuple(ty(v) for v in values)


def _lerp_coeffs(ty, weight):
    """(weight, 1 - weight, |weight| < 0.5) as torch's lerp uses them: the complement is taken in the dtype."""
    w = ty(weight)
    return w, ty(1) - w, bool(abs(w) < 0.5)


def _grad(g, maximize):
    return -g if maximize else g


# ---------------------------------------------------------------------------------------------------------------
# SGD
# ---------------------------------------------------------------------------------------------------------------
def sgd(params, d_p_list, momentum_buffer_list, has_sparse_grad=False, foreach=None, fused=None, grad_scale=None,
        found_inf=None, *, weight_decay, momentum, lr, dampening, nesterov, maximize):
    """SGD over lists; ``momentum_buffer_list`` entries that are None are created (PyTorch fills the list too)."""
    lr = _to_float(lr)
    coeffs = {}
    for i, p in enumerate(params):
        g = d_p_list[i]
        buf = momentum_buffer_list[i] if momentum != 0 else None
        f = _fused(p, g, (buf,))
        if f is None:
            _sgd_tensor(p, g, momentum_buffer_list, i, weight_decay, momentum, lr, dampening, nesterov, maximize)
            continue
        mod, g = f
        c = coeffs.get(p._dtype)
        if c is None:
            c = coeffs[p._dtype] = _cast(p._dtype.np.type, -lr, momentum, 1 - dampening, weight_decay)
        first = False
        if momentum != 0 and buf is None:
            buf = momentum_buffer_list[i] = launch.empty(p._shape, p._dtype, p._device)
            first = True
        n = p.numel()
        b = buf if buf is not None else p
        kern, T = _kernel(mod.sgd_step_par, mod.sgd_step, n)
        kern(p._storage, p._offset, g._storage, g._offset, b._storage, b._offset, n, c[0], c[1], c[2], c[3],
             bool(nesterov), bool(maximize), first, *T)
        _bump(p, buf)


def _sgd_tensor(param, grad, bufs, i, weight_decay, momentum, lr, dampening, nesterov, maximize):
    with no_grad():
        grad = _grad(grad, maximize)
        if weight_decay != 0:
            grad = grad.add(param, alpha=weight_decay)
        if momentum != 0:
            buf = bufs[i]
            if buf is None:
                buf = bufs[i] = grad.detach().clone()
            else:
                buf.mul_(momentum).add_(grad, alpha=1 - dampening)
            grad = grad.add(buf, alpha=momentum) if nesterov else buf
        param.add_(grad, alpha=-lr)


# ---------------------------------------------------------------------------------------------------------------
# Adam / AdamW
# ---------------------------------------------------------------------------------------------------------------
def adam(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, state_steps, foreach=None, capturable=False,
         differentiable=False, fused=None, grad_scale=None, found_inf=None, has_complex=False,
         decoupled_weight_decay=False, *, amsgrad, beta1, beta2, lr, weight_decay, eps, maximize):
    """Adam over lists (AdamW with ``decoupled_weight_decay=True``); ``state_steps`` are 0-d tensors."""
    lr, beta1, beta2 = _to_float(lr), _to_float(beta1), _to_float(beta2)
    coeffs = {}
    for i, p in enumerate(params):
        g, m, v = grads[i], exp_avgs[i], exp_avg_sqs[i]
        vmax = max_exp_avg_sqs[i] if amsgrad else None
        step = _step_up(state_steps[i])
        bias_correction1 = 1 - beta1 ** step
        bias_correction2 = 1 - beta2 ** step
        step_size = lr / bias_correction1
        bias_correction2_sqrt = bias_correction2 ** 0.5
        f = _fused(p, g, (m, v, vmax))
        if f is None:
            _adam_tensor(p, g, m, v, vmax, step_size, bias_correction2_sqrt, amsgrad, beta1, beta2, lr,
                         weight_decay, eps, maximize, decoupled_weight_decay)
            continue
        mod, g = f
        ty = p._dtype.np.type
        c = coeffs.get(p._dtype)
        if c is None:
            c = coeffs[p._dtype] = _lerp_coeffs(ty, 1 - beta1) + _cast(ty, beta2, 1 - beta2, eps, weight_decay,
                                                                         1 - lr * weight_decay)
        vm = vmax if vmax is not None else p
        n = p.numel()
        kern, T = _kernel(mod.adam_step_par, mod.adam_step, n)
        kern(p._storage, p._offset, g._storage, g._offset, m._storage, m._offset, v._storage, v._offset,
             vm._storage, vm._offset, n, c[0], c[1], c[2], c[3], c[4], ty(-step_size), ty(bias_correction2_sqrt),
             c[5], c[6], c[7], bool(decoupled_weight_decay), bool(amsgrad), bool(maximize), *T)
        _bump(p, m, v, vmax)


def adamw(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, state_steps, foreach=None, capturable=False,
          differentiable=False, fused=None, grad_scale=None, found_inf=None, has_complex=False, *, amsgrad, beta1,
          beta2, lr, weight_decay, eps, maximize):
    """AdamW over lists: Adam with decoupled weight decay (``p *= 1 - lr * weight_decay`` before the update)."""
    adam(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, state_steps, decoupled_weight_decay=True,
         amsgrad=amsgrad, beta1=beta1, beta2=beta2, lr=lr, weight_decay=weight_decay, eps=eps, maximize=maximize)


def _adam_tensor(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step_size, bias_correction2_sqrt, amsgrad, beta1,
                 beta2, lr, weight_decay, eps, maximize, decoupled):
    with no_grad():
        grad = _grad(grad, maximize)
        if weight_decay != 0:
            if decoupled:
                param.mul_(1 - lr * weight_decay)
            else:
                grad = grad.add(param, alpha=weight_decay)
        exp_avg.lerp_(grad, 1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        if amsgrad:
            max_exp_avg_sq.copy_(max_exp_avg_sq.maximum(exp_avg_sq))
            denom = (max_exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(eps)
        else:
            denom = (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(eps)
        param.addcdiv_(exp_avg, denom, value=-step_size)


# ---------------------------------------------------------------------------------------------------------------
# RMSprop
# ---------------------------------------------------------------------------------------------------------------
def rmsprop(params, grads, square_avgs, grad_avgs, momentum_buffer_list, state_steps, foreach=None, maximize=False,
            differentiable=False, capturable=False, has_complex=False, *, lr, alpha, eps, weight_decay, momentum,
            centered):
    """RMSprop over lists; ``grad_avgs`` is used when ``centered``, ``momentum_buffer_list`` when momentum > 0."""
    lr = _to_float(lr)
    coeffs = {}
    for i, p in enumerate(params):
        g, sq = grads[i], square_avgs[i]
        ga = grad_avgs[i] if centered else None
        buf = momentum_buffer_list[i] if momentum > 0 else None
        _step_up(state_steps[i])
        f = _fused(p, g, (sq, ga, buf))
        if f is None:
            _rmsprop_tensor(p, g, sq, ga, buf, lr, alpha, eps, weight_decay, momentum, centered, maximize)
            continue
        mod, g = f
        ty = p._dtype.np.type
        c = coeffs.get(p._dtype)
        if c is None:
            w, w_comp, small = _lerp_coeffs(ty, 1 - alpha)
            c = coeffs[p._dtype] = (ty(alpha), w, w_comp, small) + _cast(ty, -lr, eps, weight_decay, momentum)
        a = ga if ga is not None else p
        b = buf if buf is not None else p
        n = p.numel()
        kern, T = _kernel(mod.rmsprop_step_par, mod.rmsprop_step, n)
        kern(p._storage, p._offset, g._storage, g._offset, sq._storage, sq._offset, a._storage, a._offset,
             b._storage, b._offset, n, c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], bool(centered), bool(maximize),
             *T)
        _bump(p, sq, ga, buf)


def _rmsprop_tensor(param, grad, square_avg, grad_avg, buf, lr, alpha, eps, weight_decay, momentum, centered,
                    maximize):
    with no_grad():
        grad = _grad(grad, maximize)
        if weight_decay != 0:
            grad = grad.add(param, alpha=weight_decay)
        square_avg.mul_(alpha).addcmul_(grad, grad, value=1 - alpha)
        if centered:
            grad_avg.lerp_(grad, 1 - alpha)
            avg = square_avg.addcmul(grad_avg, grad_avg, value=-1).sqrt_()
        else:
            avg = square_avg.sqrt()
        avg = avg.add_(eps)
        if momentum > 0:
            buf.mul_(momentum).addcdiv_(grad, avg)
            param.add_(buf, alpha=-lr)
        else:
            param.addcdiv_(grad, avg, value=-lr)


# ---------------------------------------------------------------------------------------------------------------
# Adagrad
# ---------------------------------------------------------------------------------------------------------------
def adagrad(params, grads, state_sums, state_steps, fused=None, grad_scale=None, found_inf=None,
            has_sparse_grad=False, foreach=None, differentiable=False, has_complex=False, *, lr, weight_decay,
            lr_decay, eps, maximize):
    """Adagrad over lists: ``clr = lr / (1 + (step - 1) * lr_decay)``."""
    lr = _to_float(lr)
    coeffs = {}
    for i, p in enumerate(params):
        g, s = grads[i], state_sums[i]
        step = _step_up(state_steps[i])
        clr = lr / (1 + (step - 1) * lr_decay)
        f = _fused(p, g, (s,))
        if f is None:
            _adagrad_tensor(p, g, s, clr, weight_decay, eps, maximize)
            continue
        mod, g = f
        ty = p._dtype.np.type
        c = coeffs.get(p._dtype)
        if c is None:
            c = coeffs[p._dtype] = _cast(ty, eps, weight_decay)
        n = p.numel()
        kern, T = _kernel(mod.adagrad_step_par, mod.adagrad_step, n)
        kern(p._storage, p._offset, g._storage, g._offset, s._storage, s._offset, n, ty(-clr), c[0], c[1],
             bool(maximize), *T)
        _bump(p, s)


def _adagrad_tensor(param, grad, state_sum, clr, weight_decay, eps, maximize):
    with no_grad():
        grad = _grad(grad, maximize)
        if weight_decay != 0:
            grad = grad.add(param, alpha=weight_decay)
        state_sum.addcmul_(grad, grad, value=1)
        std = state_sum.sqrt().add_(eps)
        param.addcdiv_(grad, std, value=-clr)


# ---------------------------------------------------------------------------------------------------------------
# Adadelta
# ---------------------------------------------------------------------------------------------------------------
def adadelta(params, grads, square_avgs, acc_deltas, state_steps, capturable=False, foreach=None,
             differentiable=False, has_complex=False, *, lr, rho, eps, weight_decay, maximize):
    """Adadelta over lists."""
    lr = _to_float(lr)
    coeffs = {}
    for i, p in enumerate(params):
        g, sq, acc = grads[i], square_avgs[i], acc_deltas[i]
        _step_up(state_steps[i])
        f = _fused(p, g, (sq, acc))
        if f is None:
            _adadelta_tensor(p, g, sq, acc, lr, rho, eps, weight_decay, maximize)
            continue
        mod, g = f
        c = coeffs.get(p._dtype)
        if c is None:
            c = coeffs[p._dtype] = _cast(p._dtype.np.type, rho, 1 - rho, -lr, eps, weight_decay)
        n = p.numel()
        kern, T = _kernel(mod.adadelta_step_par, mod.adadelta_step, n)
        kern(p._storage, p._offset, g._storage, g._offset, sq._storage, sq._offset, acc._storage, acc._offset, n,
             c[0], c[1], c[2], c[3], c[4], bool(maximize), *T)
        _bump(p, sq, acc)


def _adadelta_tensor(param, grad, square_avg, acc_delta, lr, rho, eps, weight_decay, maximize):
    with no_grad():
        grad = _grad(grad, maximize)
        if weight_decay != 0:
            grad = grad.add(param, alpha=weight_decay)
        square_avg.mul_(rho).addcmul_(grad, grad, value=1 - rho)
        std = square_avg.add(eps).sqrt_()
        delta = acc_delta.add(eps).sqrt_()
        delta.div_(std).mul_(grad)
        acc_delta.mul_(rho).addcmul_(delta, delta, value=1 - rho)
        param.add_(delta, alpha=-lr)



# ---------------------------------------------------------------------------------------------------------------
# Adamax
# ---------------------------------------------------------------------------------------------------------------
def adamax(params, grads, exp_avgs, exp_infs, state_steps, foreach=None, maximize=False, differentiable=False,
           capturable=False, has_complex=False, *, eps, beta1, beta2, lr, weight_decay):
    """Adamax over lists: ``clr = lr / (1 - beta1 ** step)``; ``exp_inf`` is the decayed infinity norm."""
    lr, beta1, beta2 = _to_float(lr), _to_float(beta1), _to_float(beta2)
    for i, p in enumerate(params):
        g, m, u = grads[i], exp_avgs[i], exp_infs[i]
        step = _step_up(state_steps[i])
        clr = lr / (1 - beta1 ** step)
        f = _fused(p, g, (m, u))
        if f is None:
            _adamax_tensor(p, g, m, u, clr, beta1, beta2, eps, weight_decay, maximize)
            continue
        mod, g = f
        ty = p._dtype.np.type
        n = p.numel()
        kern, T = _kernel(mod.adamax_step_par, mod.adamax_step, n)
        kern(p._storage, p._offset, g._storage, g._offset, m._storage, m._offset, u._storage, u._offset, n,
             *_lerp_coeffs(ty, 1 - beta1), *_cast(ty, beta2, eps, -clr, weight_decay), bool(maximize), *T)
        _bump(p, m, u)


def _adamax_tensor(param, grad, exp_avg, exp_inf, clr, beta1, beta2, eps, weight_decay, maximize):
    with no_grad():
        grad = _grad(grad, maximize)
        if weight_decay != 0:
            grad = grad.add(param, alpha=weight_decay)
        exp_avg.lerp_(grad, 1 - beta1)
        exp_inf.copy_(exp_inf.mul(beta2).maximum(grad.abs().add(eps)))
        param.addcdiv_(exp_avg, exp_inf, value=-clr)


# ---------------------------------------------------------------------------------------------------------------
# NAdam
# ---------------------------------------------------------------------------------------------------------------
def nadam(params, grads, exp_avgs, exp_avg_sqs, mu_products, state_steps, decoupled_weight_decay=False, foreach=None,
          capturable=False, differentiable=False, has_complex=False, maximize=False, *, beta1, beta2, lr,
          weight_decay, momentum_decay, eps):
    """NAdam over lists; ``mu_products`` are 0-d tensors (the running product of the momentum schedule)."""
    lr, beta1, beta2 = _to_float(lr), _to_float(beta1), _to_float(beta2)
    for i, p in enumerate(params):
        g, m, v, mu_product = grads[i], exp_avgs[i], exp_avg_sqs[i], mu_products[i]
        step = _step_up(state_steps[i])
        bias_correction2 = 1 - beta2 ** step
        mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
        mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
        prod = _scalar_update(mu_product, mu, multiply=True)  # rounded in the state's dtype, as in PyTorch
        c_grad = -lr * (1.0 - mu) / (1.0 - prod)
        c_avg = (-lr * mu_next) / (1.0 - prod * mu_next)
        f = _fused(p, g, (m, v))
        if f is None:
            _nadam_tensor(p, g, m, v, bias_correction2, c_grad, c_avg, beta1, beta2, lr, weight_decay, eps,
                          decoupled_weight_decay, maximize)
            continue
        mod, g = f
        ty = p._dtype.np.type
        n = p.numel()
        kern, T = _kernel(mod.nadam_step_par, mod.nadam_step, n)
        kern(p._storage, p._offset, g._storage, g._offset, m._storage, m._offset, v._storage, v._offset, n,
             *_lerp_coeffs(ty, 1 - beta1),
             *_cast(ty, beta2, 1 - beta2, bias_correction2, eps, weight_decay, 1 - lr * weight_decay, c_grad, c_avg),
             bool(decoupled_weight_decay), bool(maximize), *T)
        _bump(p, m, v)


def _nadam_tensor(param, grad, exp_avg, exp_avg_sq, bias_correction2, c_grad, c_avg, beta1, beta2, lr, weight_decay,
                  eps, decoupled, maximize):
    with no_grad():
        grad = _grad(grad, maximize)
        if weight_decay != 0:
            if decoupled:
                param.mul_(1 - lr * weight_decay)
            else:
                grad = grad.add(param, alpha=weight_decay)
        exp_avg.lerp_(grad, 1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        denom = exp_avg_sq.div(bias_correction2).sqrt().add_(eps)
        param.addcdiv_(grad, denom, value=c_grad)
        param.addcdiv_(exp_avg, denom, value=c_avg)


# ---------------------------------------------------------------------------------------------------------------
# RAdam
# ---------------------------------------------------------------------------------------------------------------
def radam(params, grads, exp_avgs, exp_avg_sqs, state_steps, decoupled_weight_decay=False, foreach=None,
          differentiable=False, capturable=False, has_complex=False, maximize=False, *, beta1, beta2, lr,
          weight_decay, eps):
    """RAdam over lists: the adaptive step is used once the SMA length ``rho_t`` exceeds 5, plain momentum before."""
    lr, beta1, beta2 = _to_float(lr), _to_float(beta1), _to_float(beta2)
    for i, p in enumerate(params):
        g, m, v = grads[i], exp_avgs[i], exp_avg_sqs[i]
        step = _step_up(state_steps[i])
        bias_correction1 = 1 - beta1 ** step
        bias_correction2 = 1 - beta2 ** step
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
        rectified = rho_t > 5.0
        rect = (((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
                if rectified else 1.0)
        f = _fused(p, g, (m, v))
        if f is None:
            _radam_tensor(p, g, m, v, bias_correction1, bias_correction2, rect, rectified, beta1, beta2, lr,
                          weight_decay, eps, decoupled_weight_decay, maximize)
            continue
        mod, g = f
        ty = p._dtype.np.type
        n = p.numel()
        kern, T = _kernel(mod.radam_step_par, mod.radam_step, n)
        kern(p._storage, p._offset, g._storage, g._offset, m._storage, m._offset, v._storage, v._offset, n,
             *_lerp_coeffs(ty, 1 - beta1),
             *_cast(ty, beta2, 1 - beta2, bias_correction1, lr, 1.0, bias_correction2 ** 0.5, eps, rect, weight_decay,
                    1 - lr * weight_decay), bool(rectified), bool(decoupled_weight_decay), bool(maximize), *T)
        _bump(p, m, v)


def _radam_tensor(param, grad, exp_avg, exp_avg_sq, bias_correction1, bias_correction2, rect, rectified, beta1,
                  beta2, lr, weight_decay, eps, decoupled, maximize):
    with no_grad():
        grad = _grad(grad, maximize)
        if weight_decay != 0:
            if decoupled:
                param.mul_(1 - lr * weight_decay)
            else:
                grad = grad.add(param, alpha=weight_decay)
        exp_avg.lerp_(grad, 1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        update = exp_avg / bias_correction1 * lr
        if rectified:
            update = update * (exp_avg_sq.sqrt().add_(eps).reciprocal() * bias_correction2 ** 0.5) * rect
        param.add_(update, alpha=-1.0)


# ---------------------------------------------------------------------------------------------------------------
# ASGD
# ---------------------------------------------------------------------------------------------------------------
def asgd(params, grads, axs, mus, etas, state_steps, foreach=None, maximize=False, differentiable=False,
         capturable=False, has_complex=False, *, lambd, lr, t0, alpha, weight_decay):
    """ASGD over lists; ``mus`` and ``etas`` are 0-d tensors updated after each parameter's step."""
    lr = _to_float(lr)
    for i, p in enumerate(params):
        g, ax, mu_t, eta_t = grads[i], axs[i], mus[i], etas[i]
        step = _step_up(state_steps[i])
        eta, mu = _scalar(eta_t), _scalar(mu_t)
        f = _fused(p, g, (ax,))
        if f is None:
            _asgd_tensor(p, g, ax, mu, eta, lambd, weight_decay, mu != 1, maximize)
        else:
            mod, g = f
            ty = p._dtype.np.type
            n = p.numel()
            kern, T = _kernel(mod.asgd_step_par, mod.asgd_step, n)
            kern(p._storage, p._offset, g._storage, g._offset, ax._storage, ax._offset, n,
                 *_cast(ty, 1 - lambd * eta, -eta, mu, weight_decay), bool(mu != 1), bool(maximize), *T)
            _bump(p, ax)
        _scalar_update(eta_t, lr / ((1 + lambd * lr * step) ** alpha))
        _scalar_update(mu_t, 1 / max(1, step - t0))


def _asgd_tensor(param, grad, ax, mu, eta, lambd, weight_decay, average, maximize):
    with no_grad():
        grad = _grad(grad, maximize)
        if weight_decay != 0:
            grad = grad.add(param, alpha=weight_decay)
        param.mul_(1 - lambd * eta)
        param.add_(grad, alpha=-eta)
        if average:
            ax.add_(param.sub(ax).mul_(mu))
        else:
            ax.copy_(param)


# ---------------------------------------------------------------------------------------------------------------
# Rprop
# ---------------------------------------------------------------------------------------------------------------
def rprop(params, grads, prevs, step_sizes, state_steps, foreach=None, capturable=False, maximize=False,
          differentiable=False, has_complex=False, *, step_size_min, step_size_max, etaminus, etaplus):
    """Rprop over lists: per-element step sizes grow by ``etaplus`` while the gradient keeps its sign, shrink by
    ``etaminus`` when it flips (and that element skips its update)."""
    for i, p in enumerate(params):
        g, prev, ss = grads[i], prevs[i], step_sizes[i]
        _step_up(state_steps[i])
        f = _fused(p, g, (prev, ss))
        if f is None:
            _rprop_tensor(p, g, prev, ss, step_size_min, step_size_max, etaminus, etaplus, maximize)
            continue
        mod, g = f
        ty = p._dtype.np.type
        n = p.numel()
        kern, T = _kernel(mod.rprop_step_par, mod.rprop_step, n)
        kern(p._storage, p._offset, g._storage, g._offset, prev._storage, prev._offset, ss._storage, ss._offset, n,
             *_cast(ty, etaminus, etaplus, 1.0, step_size_min, step_size_max), bool(maximize), *T)
        _bump(p, prev, ss)


def _rprop_tensor(param, grad, prev, step_size, step_size_min, step_size_max, etaminus, etaplus, maximize):
    with no_grad():
        grad = _grad(grad, maximize)
        sign = grad.mul(prev).sign()
        factor = sign.gt(0).to(sign.dtype) * etaplus + sign.lt(0).to(sign.dtype) * etaminus + sign.eq(0).to(
            sign.dtype)
        step_size.mul_(factor).clamp_(step_size_min, step_size_max)
        grad = grad.masked_fill(factor.eq(etaminus), 0)
        param.addcmul_(grad.sign(), step_size, value=-1)
        prev.copy_(grad)
