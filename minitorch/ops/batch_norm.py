"""Training-mode batch normalisation as one differentiable node.

The composite (mean, centre, square, mean, rsqrt, scale, shift) made about a dozen passes over the activation and
its reductions over (0, 2, 3) strided through memory; here one kernel per direction walks each channel's N strips
of H*W values while they are hot in cache (statistics then output; gradient sums then input gradient).
"""
from ..autograd.function import Function
from ..autograd.grad_mode import _state
from ..dtypes import float64
from . import launch


def _flat(t, n):
    return t._storage[t._offset:t._offset + n]


class BatchNormTrain(Function):
    """(x, weight, bias, eps) -> (out, batch mean, biased batch variance); the statistics are non-differentiable
    outputs for the running-estimate update."""

    @staticmethod
    @launch.half_compute()
    def forward(ctx, x, weight, bias, eps):
        x = x if x._contig else launch.contiguous(x)
        N, C = x._shape[0], x._shape[1]
        HW = x.numel() // (N * C) if N * C else 0
        out = launch.empty(x._shape, x._dtype, x._device)
        mean = launch.empty((C,), float64, x._device)
        rstd = launch.empty((C,), float64, x._device)
        mean_o = launch.empty((C,), x._dtype, x._device)
        var_o = launch.empty((C,), x._dtype, x._device)
        n = x.numel()
        xs = _flat(x, n)
        w = weight if weight is None or weight._contig else launch.contiguous(weight)
        b = bias if bias is None or bias._contig else launch.contiguous(bias)
        if C:
            act = launch._k(x).activation
            (act.batch_norm_par if n >= launch.N_PAR else act.batch_norm)(
                xs, _flat(w, C) if w is not None else xs[:1], _flat(b, C) if b is not None else xs[:1],
                w is not None, b is not None, float(eps), out._storage, mean._storage, rstd._storage,
                mean_o._storage, var_o._storage, N, C, HW)
        ctx.save_for_backward(x, weight, bias)
        ctx.stats, ctx.eps = (mean, rstd), eps
        ctx.mark_non_differentiable(mean_o, var_o)
        return out, mean_o, var_o

    @staticmethod
    @launch.half_compute()
    def backward(ctx, g, *_):
        x, weight, bias = ctx.saved_tensors
        N, C = x._shape[0], x._shape[1]
        need_x = ctx.needs_input_grad[0]
        need_w = weight is not None and ctx.needs_input_grad[1]
        need_b = bias is not None and ctx.needs_input_grad[2]
        dims = (0,) + tuple(range(2, x.dim()))
        shape = (1, C) + (1,) * (x.dim() - 2)
        if _state.enabled:
            # create_graph: the same gradients from recorded ops, recomputing the statistics from x
            xc = x - x.mean(dims, keepdim=True)
            rs = ((xc * xc).mean(dims, keepdim=True) + ctx.eps).rsqrt()
            xh = xc * rs
            gw = g if weight is None else g * weight.reshape(shape)
            dx = rs * (gw - gw.mean(dims, keepdim=True) - xh * (gw * xh).mean(dims, keepdim=True)) if need_x \
                else None
            dw = (g * xh).sum(dims) if need_w else None
            db = g.sum(dims) if need_b else None
            return dx, dw, db, None
        g = g if g._contig else launch.contiguous(g)
        mean, rstd = ctx.stats
        n = x.numel()
        HW = n // (N * C) if N * C else 0
        dx = launch.empty(x._shape, x._dtype, x._device)
        dw = launch.empty((C,), x._dtype, x._device) if need_w else None
        db = launch.empty((C,), x._dtype, x._device) if need_b else None
        xs = _flat(x, n)
        w = weight if weight is None or weight._contig else launch.contiguous(weight)
        if C:
            act = launch._k(x).activation
            (act.batch_norm_backward_par if n >= launch.N_PAR else act.batch_norm_backward)(
                _flat(g, n), xs, _flat(w, C) if w is not None else xs[:1], w is not None, mean._storage,
                rstd._storage, dx._storage, dw._storage if need_w else xs[:0], db._storage if need_b else xs[:0],
                need_x, N, C, HW)
        return (dx if need_x else None), dw, db, None


def fused_ok(input, weight, bias):
    """Whether training-mode batch norm of ``input`` can run as one node: a floating input whose affine
    parameters (when given) are (C,) tensors of its dtype on its device; other cases keep the composite."""
    if not input._dtype.is_floating_point or input.dim() < 2:
        return False
    for t in (weight, bias):
        if t is not None and (t._dtype is not input._dtype or t._device != input._device or
                              t._shape != (input._shape[1],)):
            return False
    return True
