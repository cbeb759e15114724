"""Softmax and log-softmax: one differentiable primitive backed by row kernels."""
from ..autograd.function import Function
from ..autograd.grad_mode import _state

from . import launch
from .common import cast, wrap_dim


class Softmax(Function):
    @staticmethod
    def forward(ctx, x, dim, log):
        y = launch.softmax(x, dim, log)
        ctx.save_for_backward(x, y.detach())
        ctx.dim, ctx.log = dim, log
        return y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        if _state.enabled:
            # create_graph: the same formula with recorded ops, recomputing y from x
            y = Softmax.apply(x, ctx.dim, ctx.log)
            if ctx.log:
                return g - y.exp() * g.sum(ctx.dim, keepdim=True), None, None
            return y * (g - (g * y).sum(ctx.dim, keepdim=True)), None, None
        return launch.softmax_backward(g, y, ctx.dim, ctx.log), None, None


def _softmax(input, dim, dtype, log):
    x = cast(input, dtype) if dtype is not None else input
    if not x._dtype.is_floating_point:
        raise RuntimeError(f"\"{'log_' if log else ''}softmax_lastdim_kernel_impl\" not implemented for "
                           f"'{x._dtype.name}'")
    if dim is None:
        from .common import warn
        warn(f"Implicit dimension choice for {'log_' if log else ''}softmax has been deprecated. Change the call to "
             "include dim=X as an argument.", UserWarning)
        dim = 0 if x.dim() in (0, 1, 3) else 1  # PyTorch's legacy implicit-dim rule
    d = wrap_dim(dim, x.dim())
    if x.dim() == 0:
        x = x.reshape(1)
        return Softmax.apply(x, 0, log).reshape(())
    return Softmax.apply(x, d, log)


def softmax(input, dim=None, dtype=None):
    """exp(x) / sum(exp(x)) along ``dim``, computed stably."""
    return _softmax(input, dim, dtype, False)


def log_softmax(input, dim=None, dtype=None):
    """x - logsumexp(x) along ``dim``, computed stably."""
    return _softmax(input, dim, dtype, True)




class Gelu(Function):
    """The exact GELU x * Phi(x) as one node: one kernel forward, one backward (the composite took ten passes)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return launch.gelu(x)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        if _state.enabled:
            # create_graph: the same derivative from recorded ops
            cdf = 0.5 * (1.0 + (x * _RSQRT2).erf())
            pdf = (x * x * -0.5).exp() * _RSQRT2PI
            return g * (cdf + x * pdf)
        if g._dtype != x._dtype:
            g = cast(g, x._dtype)
        return launch.gelu_backward(g, x)


_RSQRT2 = 0.7071067811865476
_RSQRT2PI = 0.3989422804014327
