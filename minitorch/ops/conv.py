"""Convolution and pooling: conv1d/conv2d (im2col + batched GEMM), max/avg pooling, adaptive pooling.

1-D forms run as 2-D with a height of 1. Inputs may be batched (N, C, ...) or unbatched (C, ...), as in PyTorch.
"""
import math

from ..autograd.function import Function
from ..autograd.grad_mode import _state
from ..dtypes import int64
from . import launch
from .shape import as_view


def _pair(v, name="value"):
    if isinstance(v, (tuple, list)):
        if len(v) == 1:
            return (int(v[0]), int(v[0]))
        return (int(v[0]), int(v[1]))
    return (int(v), int(v))


def _contig(t):
    return t if t._contig else launch.contiguous(t)


def _flat(t):
    return t._storage[t._offset:t._offset + t.numel()]


def _conv_out(n, k, s, p, d):
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


def _scratch(T, rows, cols, like):
    return launch.empty((T, rows, cols), like._dtype, like._device)._storage.reshape(T, rows, cols)


class Conv2d(Function):
    """(N, C, H, W) * (O, C/groups, kh, kw) -> (N, O, OH, OW): per image (and group) one GEMM of the weights with
    the image's im2col columns, which only ever live in a per-thread scratch buffer."""

    @staticmethod
    @launch.half_compute()
    def forward(ctx, x, w, b, stride, padding, dilation, groups):
        x = _contig(x)
        w = _contig(w)
        N, C, H, W = x._shape
        O, Cg, kh, kw = w._shape
        OH = _conv_out(H, kh, stride[0], padding[0], dilation[0])
        OW = _conv_out(W, kw, stride[1], padding[1], dilation[1])
        L, K, Og = OH * OW, Cg * kh * kw, O // groups
        out = launch.empty((N, O, OH, OW), x._dtype, x._device)
        if out.numel():
            T = min(launch._k(x).conv.workers(), N)
            bias = _flat(_contig(b)) if b is not None else _flat(w)
            k = launch._k(x)
            k.matmul.set_blas_threads(1)
            k.conv.conv2d_forward(_flat(x).reshape(N, C, H, W), _flat(w).reshape(groups, Og, K), bias, b is not None,
                                  out._storage.reshape(N, groups, Og, L), _scratch(T, K, L, x), kh, kw, stride[0],
                                  stride[1], padding[0], padding[1], dilation[0], dilation[1], OH, OW)
        ctx.save_for_backward(x, w)
        ctx.conf = (stride, padding, dilation, groups, OH, OW, b is not None)
        return out

    @staticmethod
    @launch.half_compute()
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        stride, padding, dilation, groups, OH, OW, has_b = ctx.conf
        N, C, H, W = x._shape
        O, Cg, kh, kw = w._shape
        L, K, Og = OH * OW, Cg * kh * kw, O // groups
        if _state["enabled"]:
            raise RuntimeError("double backward (create_graph=True) through conv2d is not supported by minitorch")
        need_x, need_w = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        need_b = has_b and ctx.needs_input_grad[2]
        g = _contig(g)
        T = max(1, min(launch._k(g).conv.workers(), N))
        gx = launch.empty((N, C, H, W), g._dtype, g._device)
        gw = launch.empty((T, O, K), g._dtype, g._device)
        gb = launch.empty((T, O), g._dtype, g._device)
        if g.numel():
            k = launch._k(g)
            k.matmul.set_blas_threads(1)
            k.conv.conv2d_backward(_flat(x).reshape(N, C, H, W), _flat(w).reshape(groups, Og, K),
                                   _flat(g).reshape(N, groups, Og, L), gx._storage.reshape(N, C, H, W),
                                   gw._storage.reshape(T, groups, Og, K), gb._storage.reshape(T, O), need_x, need_w,
                                   need_b, _scratch(T, K, L, g), _scratch(T, Og, K, g), kh, kw, stride[0], stride[1],
                                   padding[0], padding[1], dilation[0], dilation[1], OH, OW)
        else:
            launch.fill_(gx, 0)
            launch.fill_(gw, 0)
            launch.fill_(gb, 0)
        gw = launch.reduce("sum", gw, (0,), False) if need_w else None
        gb = launch.reduce("sum", gb, (0,), False) if need_b else None
        if gw is not None:
            gw = as_view(gw, (O, Cg, kh, kw), (K, kh * kw, kw, 1), gw._offset)
        return (gx if need_x else None), gw, gb, None, None, None, None


def _check_conv(x, w, groups, ndim, name):
    if w.dim() != ndim + 2:
        raise RuntimeError(f"weight should have at least three dimensions" if w.dim() < 3 else
                           f"Expected {ndim + 2}-dimensional weight for {ndim + 2}-dimensional input "
                           f"{list(x.shape)}, but got {w.dim()}-dimensional weight of size {list(w.shape)} instead")
    if x.dim() not in (ndim + 1, ndim + 2):
        raise RuntimeError(f"Expected {ndim + 1}D (unbatched) or {ndim + 2}D (batched) input to {name}, but got "
                           f"input of size: {list(x.shape)}")
    C = x.shape[-ndim - 1]
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    if w.shape[0] % groups:
        raise RuntimeError("Given groups={}, expected weight to be divisible by {} at dimension 0, but got weight of "
                           "size {} instead".format(groups, groups, list(w.shape)))
    if C != w.shape[1] * groups:
        raise RuntimeError(f"Given groups={groups}, weight of size {list(w.shape)}, expected input{list(x.shape)} to "
                           f"have {w.shape[1] * groups} channels, but got {C} channels instead")
    if x.dtype is not w.dtype:
        raise RuntimeError(f"Input type ({x.dtype}) and weight type ({w.dtype}) should be the same")


def _same_padding(k, d):
    total = d * (k - 1)
    if total % 2:
        return None
    return total // 2


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D cross-correlation. padding: int, pair, 'same' or 'valid'.

    Shape: input (N, C, H, W) or (C, H, W); weight (O, C/groups, kh, kw); bias (O); output (N, O, OH, OW).
    """
    _check_conv(input, weight, groups, 2, "conv2d")
    unbatched = input.dim() == 3
    x = input.unsqueeze(0) if unbatched else input
    stride, dilation = _pair(stride), _pair(dilation)
    kh, kw = weight.shape[2], weight.shape[3]
    if isinstance(padding, str):
        if padding == "valid":
            padding = (0, 0)
        elif padding == "same":
            if stride != (1, 1):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            pads = [d * (k - 1) for k, d in ((kh, dilation[0]), (kw, dilation[1]))]
            if any(p % 2 for p in pads):
                # an odd total pads one more on the right/bottom, as PyTorch does
                from ..nn.functional import pad as _pad
                x = _pad(x, (pads[1] // 2, pads[1] - pads[1] // 2, pads[0] // 2, pads[0] - pads[0] // 2))
                padding = (0, 0)
            else:
                padding = (pads[0] // 2, pads[1] // 2)
        else:
            raise ValueError(f"Invalid padding string '{padding}', should be one of {{'valid', 'same'}}")
    padding = _pair(padding)
    if min(stride) <= 0:
        raise RuntimeError("non-positive stride is not supported")
    if min(padding) < 0:
        raise RuntimeError("negative padding is not supported")
    H, W = x.shape[2] + 2 * padding[0], x.shape[3] + 2 * padding[1]
    eh, ew = dilation[0] * (kh - 1) + 1, dilation[1] * (kw - 1) + 1
    if eh > H or ew > W:
        raise RuntimeError(f"Calculated padded input size per channel: ({H} x {W}). Kernel size: ({eh} x {ew}). "
                           "Kernel size can't be greater than actual input size")
    if bias is not None and (bias.dim() != 1 or bias.shape[0] != weight.shape[0]):
        raise RuntimeError(f"Given weight of size {list(weight.shape)}, expected bias to be 1-dimensional with "
                           f"{weight.shape[0]} elements, but got bias of size {list(bias.shape)} instead")
    if bias is not None and bias.dtype is not input.dtype:
        raise RuntimeError(f"Input type ({input.dtype}) and bias type ({bias.dtype}) should be the same")
    out = Conv2d.apply(x, weight, bias, stride, padding, dilation, groups)
    return out.squeeze(0) if unbatched else out


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D cross-correlation (run as 2-D with height 1). Shape: (N, C, L) * (O, C/groups, k) -> (N, O, OL)."""
    _check_conv(input, weight, groups, 1, "conv1d")
    x = input.unsqueeze(-2)
    w = weight.unsqueeze(-2)
    pad = padding if isinstance(padding, str) else (0, _pair(padding)[0])
    out = conv2d(x, w, bias, (1, _pair(stride)[0]), pad, (1, _pair(dilation)[0]), groups)
    return out.squeeze(-2)


# ---------------------------------------------------------------------------------------------------------------
# pooling
# ---------------------------------------------------------------------------------------------------------------
def _pool_out(n, k, s, p, d, ceil_mode):
    eff = d * (k - 1) + 1
    num = n + 2 * p - eff
    out = (-(-num // s) if ceil_mode else num // s) + 1
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1  # the last window must start inside the input or the left padding
    return out


class MaxPool2d(Function):
    @staticmethod
    @launch.half_compute()
    def forward(ctx, x, k, s, p, d, ceil_mode):
        x = _contig(x)
        N, C, H, W = x._shape
        OH = _pool_out(H, k[0], s[0], p[0], d[0], ceil_mode)
        OW = _pool_out(W, k[1], s[1], p[1], d[1], ceil_mode)
        out = launch.empty((N, C, OH, OW), x._dtype, x._device)
        idx = launch.empty((N, C, OH, OW), int64, x._device)
        if out.numel():
            launch._k(x).pool.max_pool2d(_flat(x), N * C, H, W, out._storage, idx._storage, k[0], k[1], s[0], s[1],
                                         p[0], p[1], d[0], d[1], OH, OW)
        ctx.save_for_backward(idx)
        ctx.in_shape = x._shape
        ctx.mark_non_differentiable(idx)
        return out, idx

    @staticmethod
    @launch.half_compute()
    def backward(ctx, g):
        (idx,) = ctx.saved_tensors
        N, C, H, W = ctx.in_shape
        if _state["enabled"]:
            from ..creation import zeros
            flat = zeros(N, C, H * W, dtype=g.dtype, device=g.device)
            return flat.scatter_add(2, idx.reshape(N, C, -1), g.reshape(N, C, -1)).reshape(N, C, H, W), \
                None, None, None, None, None
        g = _contig(g)
        gx = launch.empty((N, C, H, W), g._dtype, g._device)
        launch.fill_(gx, 0)
        L = g._shape[2] * g._shape[3]
        if L:
            launch._k(g).pool.max_pool2d_backward(_flat(g), idx._storage, N * C, H * W, L, gx._storage)
        return gx, None, None, None, None, None


class AvgPool2d(Function):
    @staticmethod
    @launch.half_compute()
    def forward(ctx, x, k, s, p, ceil_mode, count_include_pad, divisor):
        x = _contig(x)
        N, C, H, W = x._shape
        OH = _pool_out(H, k[0], s[0], p[0], 1, ceil_mode)
        OW = _pool_out(W, k[1], s[1], p[1], 1, ceil_mode)
        out = launch.empty((N, C, OH, OW), x._dtype, x._device)
        if out.numel():
            launch._k(x).pool.avg_pool2d(_flat(x), N * C, H, W, out._storage, k[0], k[1], s[0], s[1], p[0], p[1],
                                         OH, OW, count_include_pad, divisor)
        ctx.conf = (x._shape, k, s, p, OH, OW, count_include_pad, divisor)
        return out

    @staticmethod
    @launch.half_compute()
    def backward(ctx, g):
        shape, k, s, p, OH, OW, cip, divisor = ctx.conf
        N, C, H, W = shape
        if _state["enabled"]:
            raise RuntimeError("double backward (create_graph=True) through avg_pool2d is not supported by minitorch")
        g = _contig(g)
        gx = launch.empty(shape, g._dtype, g._device)
        launch.fill_(gx, 0)
        if g.numel():
            launch._k(g).pool.avg_pool2d_backward(_flat(g), N * C, H, W, gx._storage, k[0], k[1], s[0], s[1], p[0],
                                                  p[1], OH, OW, cip, divisor)
        return gx, None, None, None, None, None, None


def _pool_args(x, kernel_size, stride, padding, dilation, name, ndim=2):
    if x.dim() not in (ndim + 1, ndim + 2):
        raise RuntimeError(f"{name}: Expected {ndim + 1}D or {ndim + 2}D (batch mode) tensor for input, but got: "
                           f"{list(x.shape)}")
    k = _pair(kernel_size)
    s = _pair(stride) if stride is not None and stride != [] and stride != () else k
    p = _pair(padding)
    d = _pair(dilation)
    if min(k) <= 0:
        raise RuntimeError(f"{name}: kernel_size must be greater than zero, but got kH: {k[0]} kW: {k[1]}")
    if min(s) <= 0:
        raise RuntimeError(f"{name}: stride must be greater than zero, but got dH: {s[0]} dW: {s[1]}")
    if p[0] * 2 > k[0] or p[1] * 2 > k[1]:
        raise RuntimeError(f"pad should be at most half of effective kernel size, but got pad={p[0]}, "
                           f"kernel_size={k[0]} and dilation={d[0]}")
    return k, s, p, d


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max over kh x kw windows (stride defaults to kernel_size); ``return_indices`` also gives the argmax
    positions (flat within each input plane)."""
    k, s, p, d = _pool_args(input, kernel_size, stride, padding, dilation, "max_pool2d")
    unbatched = input.dim() == 3
    x = input.unsqueeze(0) if unbatched else input
    H, W = x.shape[2], x.shape[3]
    OH, OW = _pool_out(H, k[0], s[0], p[0], d[0], ceil_mode), _pool_out(W, k[1], s[1], p[1], d[1], ceil_mode)
    if OH <= 0 or OW <= 0:
        raise RuntimeError(f"Given input size: ({x.shape[1]}x{H}x{W}). Calculated output size: ({x.shape[1]}x{OH}x"
                           f"{OW}). Output size is too small")
    out, idx = MaxPool2d.apply(x, k, s, p, d, ceil_mode)
    if unbatched:
        out, idx = out.squeeze(0), idx.squeeze(0)
    return (out, idx) if return_indices else out


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    k = _pair(kernel_size)[0]
    s = _pair(stride)[0] if stride is not None else k
    r = max_pool2d(input.unsqueeze(-2), (1, k), (1, s), (0, _pair(padding)[0]), (1, _pair(dilation)[0]), ceil_mode,
                   return_indices)
    if return_indices:
        return r[0].squeeze(-2), r[1].squeeze(-2)
    return r.squeeze(-2)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    k, s, p, _ = _pool_args(input, kernel_size, stride, padding, 1, "avg_pool2d")
    if divisor_override is not None and divisor_override <= 0:
        raise RuntimeError("divisor must be not zero")
    unbatched = input.dim() == 3
    x = input.unsqueeze(0) if unbatched else input
    out = AvgPool2d.apply(x, k, s, p, ceil_mode, count_include_pad, divisor_override or 0)
    return out.squeeze(0) if unbatched else out


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    k = _pair(kernel_size)[0]
    s = _pair(stride)[0] if stride is not None else k
    return avg_pool2d(input.unsqueeze(-2), (1, k), (1, s), (0, _pair(padding)[0]), ceil_mode,
                      count_include_pad).squeeze(-2)


def _adaptive_bounds(n, out):
    return [(math.floor(i * n / out), math.ceil((i + 1) * n / out)) for i in range(out)]


def _adaptive(input, output_size, reduce_fn, name):
    from .shape import stack
    if input.dim() not in (3, 4):
        raise RuntimeError(f"{name}(): Expected 3D or 4D tensor, but got {list(input.shape)}")
    H, W = input.shape[-2], input.shape[-1]
    oh, ow = _pair(output_size) if not isinstance(output_size, (tuple, list)) else \
        (H if output_size[0] is None else output_size[0], W if output_size[1] is None else output_size[1])
    if H % oh == 0 and W % ow == 0:
        return None, (H // oh, W // ow), (oh, ow)
    rows = []
    for h0, h1 in _adaptive_bounds(H, oh):
        cols = [reduce_fn(input[..., h0:h1, w0:w1]) for w0, w1 in _adaptive_bounds(W, ow)]
        rows.append(stack(cols, -1))
    return stack(rows, -2), None, (oh, ow)


def adaptive_avg_pool2d(input, output_size):
    """Average over the windows that split H and W into ``output_size`` parts (PyTorch's floor/ceil bounds)."""
    out, k, _ = _adaptive(input, output_size, lambda t: t.mean((-2, -1)), "adaptive_avg_pool2d")
    return out if out is not None else avg_pool2d(input, k, k)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    if return_indices:
        raise RuntimeError("adaptive_max_pool2d(return_indices=True) is not supported by minitorch")
    out, k, _ = _adaptive(input, output_size, lambda t: t.amax((-2, -1)), "adaptive_max_pool2d")
    return out if out is not None else max_pool2d(input, k, k)

