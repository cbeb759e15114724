"""LayerNorm as one differentiable node: a row kernel forward (keeping each row's mean and 1/std) and one backward
kernel for the input, weight and bias gradients (the composite recorded about a dozen elementwise passes)."""
from ..autograd.function import Function
from ..autograd.grad_mode import _state

from . import launch


class LayerNorm(Function):
    @staticmethod
    def forward(ctx, x, weight, bias, C, eps):
        out, mean, rstd = launch.layer_norm(x, C, weight, bias, eps)
        ctx.save_for_backward(x, weight, bias)
        ctx.stats, ctx.C, ctx.eps = (mean, rstd), C, eps
        return out

    @staticmethod
    def backward(ctx, g):
        x, weight, bias = ctx.saved_tensors
        C, eps = ctx.C, ctx.eps
        need_w = weight is not None and ctx.needs_input_grad[1]
        need_b = bias is not None and ctx.needs_input_grad[2]
        if _state.enabled:
            # create_graph: the same gradients from recorded ops, recomputing the statistics from x
            x2, g2 = x.reshape(-1, C), g.reshape(-1, C)
            xc = x2 - x2.mean(1, keepdim=True)
            rs = ((xc * xc).mean(1, keepdim=True) + eps).rsqrt()
            xh = xc * rs
            gw = g2 if weight is None else g2 * weight.reshape(C)
            dx = rs * (gw - gw.mean(1, keepdim=True) - xh * (gw * xh).mean(1, keepdim=True))
            dw = (g2 * xh).sum(0).reshape(weight.shape) if need_w else None
            db = g2.sum(0).reshape(bias.shape) if need_b else None
            return dx.reshape(x.shape), dw, db, None, None
        mean, rstd = ctx.stats
        dx, dw, db = launch.layer_norm_backward(g, x, C, weight, mean, rstd, need_w, need_b)
        return (dx, dw.reshape(weight.shape) if need_w else None, db.reshape(bias.shape) if need_b else None,
                None, None)


def context(x, weight, bias, C, eps, mean, rstd, needs):
    """The autograd context ``LayerNorm.forward`` leaves, for a layer norm computed elsewhere (a compiled kernel
    that fuses the elementwise ops before it): ``mean`` and ``rstd`` as ``launch.layer_norm`` gives them, ``needs``
    which of x, weight and bias require grad."""
    ctx = LayerNorm.__new__(LayerNorm)
    ctx.needs_input_grad = (*needs, False, False)
    ctx.save_for_backward(x, weight, bias)
    ctx.stats, ctx.C, ctx.eps = (mean, rstd), C, eps
    return ctx
