"""3-D max/avg pooling and adaptive max pooling (primitives with kernels), adaptive average pooling in 1-D and 3-D
and power-average pooling (composites).

Adaptive average pooling is separable: each dim's windows (PyTorch's floor/ceil bounds) do not depend on the other
dims, so it runs as one small averaging matrix per dim (a GEMM) unless the sizes divide evenly (a plain avg pool).
"""
import math

from ..autograd.function import Function
from ..autograd.grad_mode import _state
from ..dtypes import int64
from . import launch
from .conv import _contig, _flat, _pool_out, avg_pool1d, avg_pool2d


def _triple(v, name, what, allow_empty=False):
    if isinstance(v, (tuple, list)):
        if allow_empty and len(v) == 0:
            return None
        if len(v) == 1:
            return (int(v[0]),) * 3
        if len(v) == 3:
            return tuple(int(a) for a in v)
        raise RuntimeError(f"{name}: {what}")
    return (int(v),) * 3


def _pool3d_args(x, kernel_size, stride, padding, dilation, ceil_mode, name):
    k = _triple(kernel_size, name, "kernel_size must either be a single int, or a tuple of three ints")
    s = None if stride is None else _triple(stride, name, "stride must either be omitted, a single int, or a tuple "
                                            "of three ints", allow_empty=True)
    s = k if s is None else s
    p = _triple(padding, name, "padding must either be a single int, or a tuple of three ints")
    d = _triple(dilation, name, "dilation must be either a single int, or a tuple of three ints")
    if x.dim() not in (4, 5) or x.numel() == 0 and min(x.shape[-4:]) == 0:
        raise RuntimeError(f"non-empty 4D or 5D (batch mode) tensor expected for input, but got: {list(x.shape)}")
    if 0 in s:
        raise RuntimeError("stride should not be zero")
    if min(k) <= 0:
        raise RuntimeError(f"kernel size should be greater than zero, but got kT: {k[0]} kH: {k[1]} kW: {k[2]}")
    if min(s) <= 0:
        raise RuntimeError(f"stride should be greater than zero, but got dT: {s[0]} dH: {s[1]} dW: {s[2]}")
    if min(d) <= 0:
        raise RuntimeError(f"dilation should be greater than zero, but got dilationT: {d[0]} dilationH: {d[1]} "
                           f"dilationW: {d[2]}")
    for pi, ki, di in zip(p, k, d):
        if pi < 0:
            raise RuntimeError(f"pad must be non-negative, but got pad: {pi}")
        if pi * 2 > ki:
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got pad={pi}, "
                               f"kernel_size={ki} and dilation={di}")
    D, H, W = x.shape[-3:]
    out = tuple(_pool_out(n, ki, si, pi, di, ceil_mode) for n, ki, si, pi, di in zip((D, H, W), k, s, p, d))
    if min(out) < 1:
        C = x.shape[-4]
        raise RuntimeError(f"Given input size: ({C}x{D}x{H}x{W}). Calculated output size: ({C}x{out[0]}x{out[1]}x"
                           f"{out[2]}). Output size is too small")
    return k, s, p, d, out


def _volumes(x):
    """(N, C, D, H, W) or (C, D, H, W) as contiguous (P, D, H, W) volumes: P, D, H, W."""
    D, H, W = x._shape[-3:]
    return math.prod(x._shape[:-3]), D, H, W


class _ArgmaxPool(Function):
    """Pooling whose gradient goes to each window's argmax (flat in-volume positions, returned as indices)."""

    @staticmethod
    @launch.half_compute()
    def backward(ctx, g):
        (idx,) = ctx.saved_tensors
        shape = ctx.in_shape
        lead, V = shape[:-3], math.prod(shape[-3:])
        if _state.enabled:  # create_graph: a differentiable scatter
            from ..creation import zeros
            flat = zeros(*lead, V, dtype=g.dtype, device=g.device)
            return (flat.scatter_add(-1, idx.flatten(-3), g.flatten(-3)).reshape(shape),) + (None,) * ctx.n_args
        g = _contig(g)
        gx = launch.empty(shape, g._dtype, g._device)
        launch.fill_(gx, 0)
        L = math.prod(g._shape[-3:])
        if L and gx.numel():
            launch._k(g).pool.max_pool2d_backward(_flat(g), idx._storage, math.prod(lead), V, L, gx._storage)
        return (gx,) + (None,) * ctx.n_args


class MaxPool3d(_ArgmaxPool):
    """Values and flat in-volume argmax positions of each window."""

    @staticmethod
    @launch.half_compute()
    def forward(ctx, x, k, s, p, d, out_size):
        x = _contig(x)
        P, D, H, W = _volumes(x)
        shape = x._shape[:-3] + out_size
        out = launch.empty(shape, x._dtype, x._device)
        idx = launch.empty(shape, int64, x._device)
        if out.numel():
            launch._k(x).pool3d.max_pool3d(_flat(x), P, D, H, W, out._storage, idx._storage, *k, *s, *p, *d,
                                           *out_size)
        ctx.save_for_backward(idx)
        ctx.in_shape, ctx.n_args = x._shape, 5
        ctx.mark_non_differentiable(idx)
        return out, idx


class AdaptiveMaxPool3d(_ArgmaxPool):
    """Values and flat in-volume argmax positions of PyTorch's adaptive windows over the last three dims."""

    @staticmethod
    @launch.half_compute()
    def forward(ctx, x, out_size):
        x = _contig(x)
        P, D, H, W = _volumes(x)
        shape = x._shape[:-3] + out_size
        out = launch.empty(shape, x._dtype, x._device)
        idx = launch.empty(shape, int64, x._device)
        if out.numel():
            launch._k(x).pool3d.adaptive_max_pool3d(_flat(x), P, D, H, W, out._storage, idx._storage, *out_size)
        ctx.save_for_backward(idx)
        ctx.in_shape, ctx.n_args = x._shape, 1
        ctx.mark_non_differentiable(idx)
        return out, idx


class AvgPool3d(Function):
    @staticmethod
    @launch.half_compute()
    def forward(ctx, x, k, s, p, out_size, count_include_pad, divisor):
        x = _contig(x)
        P, D, H, W = _volumes(x)
        out = launch.empty(x._shape[:-3] + out_size, x._dtype, x._device)
        if out.numel():
            launch._k(x).pool3d.avg_pool3d(_flat(x), P, D, H, W, out._storage, *k, *s, *p, *out_size,
                                           count_include_pad, divisor)
        ctx.conf = (x._shape, k, s, p, out_size, count_include_pad, divisor)
        return out

    @staticmethod
    @launch.half_compute()
    def backward(ctx, g):
        shape, k, s, p, out_size, cip, divisor = ctx.conf
        if _state.enabled:
            raise RuntimeError("double backward (create_graph=True) through avg_pool3d is not supported by minitorch")
        g = _contig(g)
        gx = launch.empty(shape, g._dtype, g._device)
        launch.fill_(gx, 0)
        if g.numel():
            P = math.prod(shape[:-3])
            launch._k(g).pool3d.avg_pool3d_backward(_flat(g), P, *shape[-3:], gx._storage, *k, *s, *p, *out_size,
                                                    cip, divisor)
        return gx, None, None, None, None, None, None


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max over kd x kh x kw windows (stride defaults to kernel_size); ``return_indices`` also gives the argmax
    positions, flat within each input volume.

    Shape: input (N, C, D, H, W) or (C, D, H, W); output (N, C, OD, OH, OW) or (C, OD, OH, OW).
    """
    k, s, p, d, out_size = _pool3d_args(input, kernel_size, stride, padding, dilation, ceil_mode, "max_pool3d")
    out, idx = MaxPool3d.apply(input, k, s, p, d, out_size)
    return (out, idx) if return_indices else out


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """Mean over kd x kh x kw windows; ``count_include_pad`` counts zero padding in the divisor, and
    ``divisor_override`` replaces the divisor.

    Shape: input (N, C, D, H, W) or (C, D, H, W); output (N, C, OD, OH, OW) or (C, OD, OH, OW).
    """
    if input.dim() in (4, 5) and input.numel():
        k = _triple(kernel_size, "avg_pool3d", "kernel_size must either be a single int, or a tuple of three ints")
        p = _triple(padding, "avg_pool3d", "padding must either be a single int, or a tuple of three ints")
        T, H, W = input.shape[-3:]
        if min(k) > 0 and min(p) >= 0 and any(n + 2 * pi < ki for n, pi, ki in zip((T, H, W), p, k)):
            raise RuntimeError(f"input image (T: {T} H: {H} W: {W}) smaller than kernel size (kT: {k[0]} kH: {k[1]} "
                               f"kW: {k[2]})")
    k, s, p, _, out_size = _pool3d_args(input, kernel_size, stride, padding, 1, ceil_mode, "avg_pool3d")
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    return AvgPool3d.apply(input, k, s, p, out_size, bool(count_include_pad), int(divisor_override or 0))


# ---------------------------------------------------------------------------------------------------------------
# adaptive pooling
# ---------------------------------------------------------------------------------------------------------------
def _bounds(n, out):
    """PyTorch's adaptive windows: [floor(i * n / out), ceil((i + 1) * n / out)) for each output i."""
    return [((i * n) // out, -(-((i + 1) * n) // out)) for i in range(out)]


def _averaging(n, out, like):
    """(out, n) matrix whose row i averages window i of a length-n dim."""
    from ..creation import tensor, zeros
    if out == 0:
        return zeros(0, n, dtype=like.dtype, device=like.device)
    rows = [[0.0] * n for _ in range(out)]
    for i, (lo, hi) in enumerate(_bounds(n, out)):
        rows[i][lo:hi] = [1.0 / (hi - lo)] * (hi - lo)
    return tensor(rows, dtype=like.dtype, device=like.device)


def _sizes(output_size, shape, n, name):
    if isinstance(output_size, (tuple, list)):
        if len(output_size) != n:
            raise RuntimeError((f"{name}(): internal error: output_size.size() must be {n}" if "max" in name else
                                f"{name}: output_size must be {n}") if n != 1 else
                               f"{name}() argument 'output_size' should contain one int (got {len(output_size)})")
        sizes = tuple(shape[i] if o is None else int(o) for i, o in enumerate(output_size))
    else:
        sizes = (int(output_size),) * n
    if any(o < 0 for o in sizes):
        raise RuntimeError(f"{name}: elements of output_size must be greater than or equal to 0 but received "
                           f"{{{', '.join(str(o) for o in sizes)}}}")
    return sizes


def _check_adaptive_input(input, n, name):
    if input.dim() not in (n + 1, n + 2):
        if n == 1:
            raise RuntimeError(f"Expected 2 to 3 dimensions, but got {input.dim()}-dimensional tensor for argument #1 "
                               f"'self' (while checking arguments for {name})")
        sep = ":" if "max" in name else ""
        raise RuntimeError(f"{name}(): Expected {n + 1}D or {n + 2}D tensor, but got{sep} {list(input.shape)}")
    for i in range(1, input.dim()):
        if input.shape[i] == 0:
            raise RuntimeError(f"{name}(): Expected input to have non-zero size for non-batch dimensions, but input "
                               f"has sizes {list(input.shape)} with dimension {i} being empty")


def adaptive_avg_pool1d(input, output_size):
    """Average over the windows that split the last dim into ``output_size`` parts.

    Shape: input (N, C, L) or (C, L); output (N, C, output_size) or (C, output_size).
    """
    _check_adaptive_input(input, 1, "adaptive_avg_pool1d")
    L = input.shape[-1]
    (o,) = _sizes(output_size, (L,), 1, "adaptive_avg_pool1d")
    if o and L % o == 0:
        return avg_pool1d(input, L // o, L // o)
    return input.matmul(_averaging(L, o, input).t())


def adaptive_avg_pool3d(input, output_size):
    """Average over the windows that split D, H and W into ``output_size`` parts (an int, or a triple whose None
    entries keep that dim's size).

    Shape: input (N, C, D, H, W) or (C, D, H, W); output (N, C, OD, OH, OW) or (C, OD, OH, OW).
    """
    _check_adaptive_input(input, 3, "adaptive_avg_pool3d")
    D, H, W = input.shape[-3:]
    od, oh, ow = _sizes(output_size, (D, H, W), 3, "adaptive_avg_pool3d")
    if od and oh and ow and D % od == 0 and H % oh == 0 and W % ow == 0:
        k = (D // od, H // oh, W // ow)
        return avg_pool3d(input, k, k)
    lead = tuple(input.shape[:-3])
    x = input
    if W != ow:
        x = x.matmul(_averaging(W, ow, input).t())  # (..., D, H, ow)
    if H != oh:
        x = _averaging(H, oh, input).matmul(x)  # (..., D, oh, ow)
    if D != od:
        x = _averaging(D, od, input).matmul(x.reshape(*lead, D, oh * ow)).reshape(*lead, od, oh, ow)
    return x


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Max over the windows that split the last dim into ``output_size`` parts; ``return_indices`` also gives the
    argmax positions along that dim.

    Shape: input (N, C, L) or (C, L); output (N, C, output_size) or (C, output_size).
    """
    _check_adaptive_input(input, 1, "adaptive_max_pool1d")
    L = input.shape[-1]
    (o,) = _sizes(output_size, (L,), 1, "adaptive_max_pool1d")
    lead = tuple(input.shape[:-1])
    out, idx = AdaptiveMaxPool3d.apply(input.reshape(*lead, 1, 1, L), (1, 1, o))
    out = out.reshape(*lead, o)
    return (out, idx.reshape(*lead, o)) if return_indices else out


def adaptive_max_pool3d(input, output_size, return_indices=False):
    """Max over the windows that split D, H and W into ``output_size`` parts (an int, or a triple whose None
    entries keep that dim's size); ``return_indices`` also gives the argmax positions, flat within each volume.

    Shape: input (N, C, D, H, W) or (C, D, H, W); output (N, C, OD, OH, OW) or (C, OD, OH, OW).
    """
    _check_adaptive_input(input, 3, "adaptive_max_pool3d")
    sizes = _sizes(output_size, tuple(input.shape[-3:]), 3, "adaptive_max_pool3d")
    out, idx = AdaptiveMaxPool3d.apply(input, sizes)
    return (out, idx) if return_indices else out


# ---------------------------------------------------------------------------------------------------------------
# power-average pooling
# ---------------------------------------------------------------------------------------------------------------
def _lp(pooled, window, norm_type):
    # sign * relu(abs) keeps the sum's value and zeroes its gradient where the sum is 0, as PyTorch's composite
    s = pooled.sign() * pooled.abs().relu()
    return (s * window).pow(1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """(sum over each window of x ** norm_type) ** (1 / norm_type), over the last dim."""
    k = kernel_size[0] if isinstance(kernel_size, (tuple, list)) else kernel_size
    if input.dim() not in (2, 3):
        raise RuntimeError(f"Expected 2 to 3 dimensions, but got {input.dim()}-dimensional tensor for argument #1 "
                           "'self' (while checking arguments for avg_pool1d)")
    pooled = avg_pool1d(input.pow(norm_type), k, stride, 0, ceil_mode)
    return _lp(pooled, k, norm_type)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """(sum over each kh x kw window of x ** norm_type) ** (1 / norm_type)."""
    kh, kw = kernel_size if isinstance(kernel_size, (tuple, list)) else (kernel_size, kernel_size)
    pooled = avg_pool2d(input.pow(norm_type), (kh, kw), stride, 0, ceil_mode)
    return _lp(pooled, kh * kw, norm_type)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """(sum over each kd x kh x kw window of x ** norm_type) ** (1 / norm_type)."""
    kd, kh, kw = kernel_size if isinstance(kernel_size, (tuple, list)) else (kernel_size,) * 3
    pooled = avg_pool3d(input.pow(norm_type), (kd, kh, kw), stride, 0, ceil_mode)
    return _lp(pooled, kd * kh * kw, norm_type)
