"""Reductions: sum, mean, prod, max/min (+ indices), amax/amin, argmax/argmin, var/std, logsumexp, all/any, norm,
cumsum/cumprod."""
import math

from ..autograd.function import Function
from ..autograd.grad_mode import _state
from ..dtypes import bool as t_bool, float32, int64, uint8
from ..tensor import Tensor
from . import launch
from .common import cast, dims_arg, return_type, type_label, wrap_dim
from .shape import as_view

RETURN_TYPES = {"argmax": return_type("max"), "argmin": return_type("min")}


def _restore(g, x_shape, dims, keepdim):
    """Broadcast a reduced gradient back over the reduced dims."""
    if not (_state.enabled and g._requires_grad):
        # the view reshape + expand would give, built in one step (every backward of a sum or mean runs this)
        red = () if keepdim else dims
        if len(g._shape) + len(red) == len(x_shape):
            pairs = iter(zip(g._shape, g._stride))
            stride = []
            for d, n in enumerate(x_shape):
                if d in red:
                    stride.append(0)
                    continue
                m, s = next(pairs)
                if m != n and m != 1:
                    break
                stride.append(s if m == n else 0)
            else:
                return as_view(g, x_shape, stride, g._offset)
    if not keepdim and dims:
        shape = list(g._shape)
        for d in dims:
            shape.insert(d, 1)
        g = g.reshape(shape)
    return g.expand(x_shape)


def _count(shape, dims):
    return math.prod(shape[d] for d in dims)


class Sum(Function):
    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.shape, ctx.dims, ctx.keepdim = x._shape, dims, keepdim
        return launch.reduce("sum", x, dims, keepdim)

    @staticmethod
    def backward(ctx, g):
        return _restore(g, ctx.shape, ctx.dims, ctx.keepdim), None, None


class Mean(Function):
    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.shape, ctx.dims, ctx.keepdim = x._shape, dims, keepdim
        s = launch.reduce("sum", x, dims, keepdim)
        n = _count(x._shape, dims)
        return launch.binary("div", s, launch.scalar(n, s._dtype, s._device), out=s) if n else \
            launch.fill_(s, float("nan"))

    @staticmethod
    def backward(ctx, g):
        return _restore(g, ctx.shape, ctx.dims, ctx.keepdim) / builtins_max(_count(ctx.shape, ctx.dims), 1), None, None


def _reduce_dtype(x, dtype):
    if dtype is not None:
        return cast(x, dtype)
    if not x._dtype.is_floating_point:
        return cast(x, int64)
    return x


def sum(input, dim=None, keepdim=False, *, dtype=None):  # noqa: A001
    """Sum over ``dim`` (int, tuple, or None for all); integer and bool inputs sum in int64."""
    if input._is_sparse_coo:
        return input.sum(dim, keepdim, dtype=dtype)
    x = _reduce_dtype(input, dtype)
    dims = dims_arg(dim, x.dim()) if not (isinstance(dim, (tuple, list)) and len(dim) == 0) else \
        tuple(range(x.dim()))
    return Sum.apply(x, dims, keepdim)


def nansum(input, dim=None, keepdim=False, *, dtype=None):
    return sum(input.masked_fill(input.isnan(), 0), dim, keepdim, dtype=dtype)


def mean(input, dim=None, keepdim=False, *, dtype=None):
    """Mean over ``dim``; floating inputs only (as in PyTorch)."""
    x = cast(input, dtype) if dtype is not None else input
    if not x._dtype.is_floating_point:
        raise RuntimeError("mean(): could not infer output dtype. Input dtype must be either a floating point or "
                           f"complex dtype. Got: {type_label(x._dtype)}")
    dims = dims_arg(dim, x.dim()) if not (isinstance(dim, (tuple, list)) and len(dim) == 0) else \
        tuple(range(x.dim()))
    return Mean.apply(x, dims, keepdim)


def nanmean(input, dim=None, keepdim=False):
    keep = ~input.isnan()
    return nansum(input, dim, keepdim) / keep.sum(dim, keepdim)


class Prod(Function):
    @staticmethod
    def forward(ctx, x, dims, keepdim):
        out = launch.reduce("prod", x, dims, keepdim)
        ctx.save_for_backward(x, out.detach())
        ctx.dims, ctx.keepdim = dims, keepdim
        return out

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        dims, keepdim = ctx.dims, ctx.keepdim
        if _state.enabled:
            out = Prod.apply(x, dims, keepdim)  # create_graph: the output as a function of x
        out_k = _restore(out, x._shape, dims, keepdim)
        g_k = _restore(g, x._shape, dims, keepdim)
        zero = x == 0
        if not bool(zero.any()):
            return g_k * out_k / x, None, None
        # products of all other elements, exact when the slice holds zeros
        nonzero_prod = _restore(x.masked_fill(zero, 1).prod(dims if dims else None, keepdim=True), x._shape,
                                (), True)
        zeros_in_slice = _restore(zero.sum(dims if dims else None, keepdim=True), x._shape, (), True)
        others = (out_k / x.masked_fill(zero, 1)).masked_fill(zero, 0)
        others = others + nonzero_prod * (zero & (zeros_in_slice == 1))
        return g_k * others, None, None


def prod(input, dim=None, keepdim=False, *, dtype=None):
    x = _reduce_dtype(input, dtype)
    dims = dims_arg(dim, x.dim())
    return Prod.apply(x, dims, keepdim)


class AMax(Function):
    """amax/amin (and max/min without dim): the gradient is shared evenly between tied extremes."""

    @staticmethod
    def forward(ctx, x, dims, keepdim, name):
        out = launch.reduce(name, x, dims, keepdim)
        ctx.save_for_backward(x, out.detach())
        ctx.dims, ctx.keepdim = dims, keepdim
        return out

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        mask = (x == _restore(out, x._shape, ctx.dims, ctx.keepdim))
        count = mask.sum(ctx.dims, keepdim=True)
        return _restore(g, x._shape, ctx.dims, ctx.keepdim) * mask / count, None, None, None


def _extreme(name, x, dim, keepdim, label=None):
    if x._dtype is t_bool:
        x = x.to(int64) if name in ("amax", "amin") else x
    full = dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0)
    dims = tuple(range(x.dim())) if full else dims_arg(dim, x.dim())
    for d in dims:
        if x._shape[d] == 0:
            if full:
                raise RuntimeError(f"{label or name}(): Expected reduction dim to be specified for input.numel() == 0. "
                                   "Specify the reduction dim with the 'dim' argument.")
            raise IndexError(f"{label or name}(): Expected reduction dim {d} to have non-zero size.")
    return AMax.apply(x, dims, keepdim, name)


def amax(input, dim=(), keepdim=False):
    r = _extreme("amax", input, dim, keepdim)
    return r.to(t_bool) if input._dtype is t_bool else r


def amin(input, dim=(), keepdim=False):
    r = _extreme("amin", input, dim, keepdim)
    return r.to(t_bool) if input._dtype is t_bool else r


class _Pick:
    """``launch.argreduce(name, t, dim, keepdim)`` as the picker of a ``Select`` (named fields: a captured graph's
    node shows what it picks, and the ONNX exporter maps it)."""

    __slots__ = ("name", "dim", "keepdim")

    def __init__(self, name, dim, keepdim):
        self.name, self.dim, self.keepdim = name, dim, keepdim

    def __call__(self, t):
        return launch.argreduce(self.name, t, self.dim, self.keepdim)


class Select(Function):
    """Values picked out of x along ``dim`` by a launcher that also returns their indices; the gradient goes back to
    those indices (the indices are not differentiable)."""

    @staticmethod
    def forward(ctx, x, dim, keepdim, pick):
        values, indices = pick(x)
        ctx.save_for_backward(indices)
        ctx.shape, ctx.dim, ctx.keepdim = x._shape, dim, keepdim
        ctx.mark_non_differentiable(indices)
        return values, indices

    @staticmethod
    def backward(ctx, g):
        (indices,) = ctx.saved_tensors
        if not ctx.shape:
            return g.reshape(()).clone(), None, None, None
        from ..creation import zeros
        if not ctx.keepdim:
            g = g.unsqueeze(ctx.dim)
            indices = indices.unsqueeze(ctx.dim)
        return zeros(ctx.shape, dtype=g.dtype, device=g.device).scatter(ctx.dim, indices, g), None, None, None


def _max_min(name, input, dim, keepdim, other):
    from .elementwise import maximum, minimum
    if isinstance(dim, Tensor):
        return (maximum if name == "argmax" else minimum)(input, dim)
    if other is not None:
        return (maximum if name == "argmax" else minimum)(input, other)
    if dim is None:
        return _extreme("amax" if name == "argmax" else "amin", input, (), False, name[3:])
    d = wrap_dim(dim, input.dim())
    if input._shape and input._shape[d] == 0:
        raise IndexError(f"{name[3:]}(): Expected reduction dim {d} to have non-zero size.")
    x = input.to(int64) if input._dtype is t_bool else input
    values, indices = Select.apply(x, d, keepdim, _Pick(name, d, keepdim))
    if input._dtype is t_bool:
        values = values.to(t_bool)
    return RETURN_TYPES[name](values, indices)


def max(input, dim=None, keepdim=False, *, other=None):  # noqa: A001
    """``max(x)`` -> 0-d max; ``max(x, dim)`` -> (values, indices); ``max(x, y)`` -> elementwise maximum."""
    return _max_min("argmax", input, dim, keepdim, other)


def min(input, dim=None, keepdim=False, *, other=None):  # noqa: A001
    return _max_min("argmin", input, dim, keepdim, other)


def _argextreme(name, input, dim, keepdim):
    if input.numel() == 0:
        if dim is None:
            raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0.")
        d = wrap_dim(dim, input.dim())
        if input._shape[d] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
    x = input.to(int64) if input._dtype is t_bool else input
    if dim is None:
        _, idx = launch.argreduce(name, x.detach(), None, False)
        return idx.reshape([1] * input.dim()) if keepdim else idx
    _, idx = launch.argreduce(name, x.detach(), wrap_dim(dim, input.dim()), keepdim)
    return idx


def argmax(input, dim=None, keepdim=False):
    return _argextreme("argmax", input, dim, keepdim)


def argmin(input, dim=None, keepdim=False):
    return _argextreme("argmin", input, dim, keepdim)


def _correction(unbiased, correction):
    if correction is not None:
        return correction
    if unbiased is None:
        return 1
    return 1 if unbiased else 0


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Variance with Bessel's correction by default (``correction=1``)."""
    if isinstance(dim, bool):
        unbiased, dim = dim, None
    c = _correction(unbiased, correction)
    if not input._dtype.is_floating_point:
        raise RuntimeError(f"std and var only support floating point and complex dtypes")
    dims = dims_arg(dim, input.dim())
    mu = mean(input, dims, keepdim=True)
    d = input - mu
    n = _count(input._shape, dims)
    return sum(d * d, dims, keepdim) / builtins_max(n - c, 0)


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return var(input, dim, unbiased, keepdim, correction=correction).sqrt()


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return var(input, dim, unbiased, keepdim, correction=correction), mean(input, dim, keepdim)


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return std(input, dim, unbiased, keepdim, correction=correction), mean(input, dim, keepdim)


def logsumexp(input, dim, keepdim=False):
    """log(sum(exp(x))) over ``dim``, computed stably (shifted by the max)."""
    x = input if input._dtype.is_floating_point else cast(input, float32)
    dims = dims_arg(dim, x.dim())
    m = launch.reduce("amax", x.detach(), dims, True) if x.numel() else x.detach().sum(dims, True)
    m = m.masked_fill(~m.isfinite(), 0)
    s = (x - m).exp().sum(dims, keepdim=True).log() + m
    return s if keepdim else s.squeeze(dims) if dims else s


def _logical_reduce(name, input, dim, keepdim):
    """all/any: bool results, except uint8 in, uint8 out (PyTorch keeps that legacy rule)."""
    x = input if input._dtype is t_bool else launch.unary("nonzero", input, family="predicate")
    r = launch.reduce(name, x, dims_arg(dim, x.dim()), keepdim)
    return launch.contiguous(r, uint8) if input._dtype is uint8 else r


def all(input, dim=None, keepdim=False):  # noqa: A001
    return _logical_reduce("all", input, dim, keepdim)


def any(input, dim=None, keepdim=False):  # noqa: A001
    return _logical_reduce("any", input, dim, keepdim)


class Norm2(Function):
    """Euclidean norm with a zero (not NaN) gradient at the origin, as PyTorch."""

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        sq = launch.binary("mul", x, x)
        out = launch.unary("sqrt", launch.reduce("sum", sq, dims, keepdim))
        ctx.save_for_backward(x, out.detach())
        ctx.dims, ctx.keepdim = dims, keepdim
        return out

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        if _state.enabled:
            out = Norm2.apply(x, ctx.dims, ctx.keepdim)  # create_graph: the output as a function of x
        n = _restore(out, x._shape, ctx.dims, ctx.keepdim)
        scale = _restore(g, x._shape, ctx.dims, ctx.keepdim) / n.masked_fill(n == 0, 1)
        return (x * scale).masked_fill(n == 0, 0), None, None


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """Vector p-norm over ``dim`` (all elements by default); p in {'fro', 2, 1, inf, -inf, 0, other numbers}."""
    x = cast(input, dtype) if dtype is not None else input
    if not x._dtype.is_floating_point:
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as input. Got "
                           f"{type_label(x._dtype)}")
    dims = dims_arg(dim, x.dim())
    if p in ("fro", 2, 2.0, None):
        return Norm2.apply(x, dims, keepdim)
    if p == 1:
        return x.abs().sum(dims, keepdim)
    if p == float("inf"):
        return x.abs().amax(dims, keepdim)
    if p == float("-inf"):
        return x.abs().amin(dims, keepdim)
    if p == 0:
        return (x != 0).to(x.dtype).sum(dims, keepdim)
    return (x.abs() ** p).sum(dims, keepdim) ** (1.0 / p)


class CumSum(Function):
    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        return launch.scan("cumsum", x, dim)

    @staticmethod
    def backward(ctx, g):
        # reverse cumulative sum: total - inclusive prefix + own element
        return g.sum(ctx.dim, keepdim=True) - g.cumsum(ctx.dim) + g, None


class CumProd(Function):
    @staticmethod
    def forward(ctx, x, dim):
        out = launch.scan("cumprod", x, dim)
        ctx.save_for_backward(x, out.detach())
        ctx.dim = dim
        return out

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        go = g * out
        rev = go.sum(ctx.dim, keepdim=True) - go.cumsum(ctx.dim) + go
        return rev / x, None


def cumsum(input, dim, *, dtype=None):
    x = _reduce_dtype(input, dtype)
    return CumSum.apply(x, wrap_dim(dim, x.dim()))


def cumprod(input, dim, *, dtype=None):
    x = _reduce_dtype(input, dtype)
    return CumProd.apply(x, wrap_dim(dim, x.dim()))


def count_nonzero(input, dim=None):
    return (input != 0).sum(dim)


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """|input - other| <= atol + rtol * |other| elementwise (NaNs equal only with ``equal_nan``)."""
    if input.dtype is not other.dtype:
        raise RuntimeError(f"{input.dtype} did not match {other.dtype}")
    x, y = (input, other) if input.dtype.is_floating_point else (input.double(), other.double())
    diff = (x - y).abs()
    close = (diff <= atol + rtol * y.abs()) | (x == y)
    if equal_nan:
        close = close | (x.isnan() & y.isnan())
    return close


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    return builtins_bool(all(isclose(input, other, rtol, atol, equal_nan)))


def equal(input, other):
    """True when both tensors have the same shape and elements."""
    return input.shape == other.shape and builtins_bool(all(input == other))


import builtins as _builtins  # noqa: E402

builtins_bool = _builtins.bool

builtins_max = _builtins.max
