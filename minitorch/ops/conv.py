"""Convolution and pooling: conv1d/conv2d (im2col + batched GEMM), max/avg pooling, adaptive pooling.

1-D forms run as 2-D with a height of 1. Inputs may be batched (N, C, ...) or unbatched (C, ...), as in PyTorch.
"""
import math

from ..autograd.function import _SAVED_HOOKS, Function
from ..autograd.grad_mode import _state
from ..dtypes import int64
from ..tensor import _contiguous_strides, _make
from . import launch
from .common import check_device
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


_CHUNK_COLS = 1024  # images with fewer output positions run in chunks of up to this many GEMM columns


def _conv2d_scratch(N, T, K, Og, L, like):
    """conv2d's per-thread scratch (T, 1, S): one image's columns (S = K*L) when the image has enough output
    positions for an efficient GEMM, else a chunk of nb images' columns plus their (Og, nb*L) GEMM result."""
    nb = min(-(-N // T), _CHUNK_COLS // L) if L < 256 else 1
    S = K * L if nb <= 1 else (K + Og) * nb * L
    return _scratch(T, 1, S, like)


def _conv2d_launch(x, w, b, stride, padding, dilation, groups, act=0, keep=None, wu=None):
    """The forward kernel's launch for contiguous x and w (``act``: an activation applied as the output is
    written, see kernels/cpu/matmul.py's ``_epilogue``; ``keep``: a list for what the kernel keeps for the
    backward; ``wu``: a list that keeps the weights' transform for later calls with the same weights; see the
    kernels' conv2d_forward)."""
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
                              out._storage.reshape(N, groups, Og, L), _conv2d_scratch(N, T, K, Og, L, x), kh, kw,
                              stride[0], stride[1], padding[0], padding[1], dilation[0], dilation[1], OH, OW, act,
                              keep, wu)
    return out


def _conv2d_relu(x, w, b, stride, padding, dilation, groups):
    """relu(Conv2d.apply(...)) in one pass over the output and without autograd: minitorch.compile's fusion of
    conv2d -> relu in graphs that replay without it (float32/float64; the arguments as Conv2d receives them)."""
    return _conv2d_launch(_contig(x), _contig(w), b, stride, padding, dilation, groups, act=1)


class _ConvBatchNorm:
    """An inference batch norm of Conv2d.apply(...) folded into the convolution, without autograd (minitorch.compile's
    fusion of conv2d -> batch_norm(training=False); ``act`` 1: a relu as the output is written). Per output channel
    ``alpha = gamma / sqrt(var + eps)`` scales the weights and ``(b - mean) * alpha + beta`` is the bias; the folded
    pair (and the CPU Winograd kernel's transform of the folded weights) is kept until one of the tensors it comes
    from is written (its version) or replaced (its storage)."""

    def __init__(self, act=0):
        self.act = act
        self._fold = None  # (sources, folded weight, bias, the kernel's cache of the weights' transform)

    def __call__(self, x, w, b, stride, padding, dilation, groups, mean, var, gamma, beta, eps):
        src = (w, b, mean, var, gamma, beta)
        f = self._fold
        if f is None or f[0][-1] != eps or any(
                (t is None) != (k is None) or t is not None and (t._storage is not k[0] or t._offset != k[1]
                                                                 or t._vc[0] != k[2] or t._shape != k[3])
                for t, k in zip(src, f[0])):
            alpha = (var + eps).rsqrt()
            if gamma is not None:
                alpha = alpha * gamma
            shift = -mean * alpha if b is None else (b - mean) * alpha
            if beta is not None:
                shift = shift + beta
            key = tuple(None if t is None else (t._storage, t._offset, t._vc[0], t._shape) for t in src) + (eps,)
            f = self._fold = (key, _contig(w * alpha.reshape(-1, 1, 1, 1)), _contig(shift), [None])
        return _conv2d_launch(_contig(x), f[1], f[2], stride, padding, dilation, groups, act=self.act, wu=f[3])


class Conv2d(Function):
    """(N, C, H, W) * (O, C/groups, kh, kw) -> (N, O, OH, OW): per image (and group) one GEMM of the weights with
    the image's im2col columns, which only ever live in a per-thread scratch buffer."""

    kept = None  # what the forward kernel kept for the backward (see _conv2d_launch)

    @staticmethod
    @launch.half_compute()
    def forward(ctx, x, w, b, stride, padding, dilation, groups):
        x = _contig(x)
        w = _contig(w)
        # what the kernel can keep for the weight gradient (the CPU's Winograd input transform); not under saved-
        # tensor hooks, which decide where saved values live
        keep = [] if ctx.needs_input_grad[1] and not _SAVED_HOOKS["stack"] else None
        out = _conv2d_launch(x, w, b, stride, padding, dilation, groups, keep=keep)
        if keep:
            ctx.kept = keep[0]
        ctx.save_for_backward(x, w)
        ctx.conf = (stride, padding, dilation, groups, out._shape[2], out._shape[3], b is not None)
        return out

    @staticmethod
    @launch.half_compute()
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        stride, padding, dilation, groups, OH, OW, has_b = ctx.conf
        N, C, H, W = x._shape
        O, Cg, kh, kw = w._shape
        L, K, Og = OH * OW, Cg * kh * kw, O // groups
        if _state.enabled:
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
                                   need_b, _conv2d_scratch(N, T, K, Og, L, g), _scratch(T, Og, K, g), kh, kw,
                                   stride[0], stride[1], padding[0], padding[1], dilation[0], dilation[1], OH, OW,
                                   ctx.kept)
        else:
            launch.fill_(gx, 0)
            launch.fill_(gw, 0)
            launch.fill_(gb, 0)
        # the kernels leave the sums over the batch in row 0 of the per-thread partials
        gw = _make(gw._storage[:O * K], (O, Cg, kh, kw), (K, kh * kw, kw, 1), 0, gw._dtype, gw._device, None,
                   True) if need_w else None
        gb = _make(gb._storage[:O], (O,), (1,), 0, gb._dtype, gb._device, None, True) if need_b else None
        return (gx if need_x else None), gw, gb, None, None, None, None

    def _release(self):
        self.kept = None
        super()._release()


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
# conv3d and transposed convolution (1-D/2-D/3-D)
# ---------------------------------------------------------------------------------------------------------------
def _ntuple(v, n):
    if isinstance(v, (tuple, list)):
        if len(v) == 1:
            return (int(v[0]),) * n
        return tuple(int(e) for e in v)
    return (int(v),) * n


def _dummy(shape, like):
    """A placeholder array for a kernel argument the call does not use (it only fixes the argument's type)."""
    return launch.empty(shape, like._dtype, like._device)._storage.reshape(shape)


class Conv3d(Function):
    """(N, C, D, H, W) * (O, C/groups, kd, kh, kw) -> (N, O, OD, OH, OW): conv2d's scheme (per image and group one
    GEMM with the im2col columns) with a depth axis."""

    @staticmethod
    @launch.half_compute()
    def forward(ctx, x, w, b, stride, padding, dilation, groups):
        x = _contig(x)
        w = _contig(w)
        N, C = x._shape[:2]
        O, Cg = w._shape[:2]
        ks = w._shape[2:]
        osz = tuple(_conv_out(n, k, s, p, d) for n, k, s, p, d in zip(x._shape[2:], ks, stride, padding, dilation))
        L, K, Og = math.prod(osz), Cg * math.prod(ks), O // groups
        out = launch.empty((N, O) + osz, x._dtype, x._device)
        if out.numel():
            k = launch._k(x)
            T = min(k.conv.workers(), N)
            bias = _flat(_contig(b)) if b is not None else _flat(w)
            k.matmul.set_blas_threads(1)
            k.conv.conv3d_forward(_flat(x).reshape(x._shape), _flat(w).reshape(groups, Og, K), bias, b is not None,
                                  out._storage.reshape(N, groups, Og, L), _scratch(T, K, L, x), *ks, *stride,
                                  *padding, *dilation, *osz)
        ctx.save_for_backward(x, w)
        ctx.conf = (stride, padding, dilation, groups, osz, b is not None)
        return out

    @staticmethod
    @launch.half_compute()
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        stride, padding, dilation, groups, osz, has_b = ctx.conf
        N, C = x._shape[:2]
        O, Cg = w._shape[:2]
        ks = w._shape[2:]
        L, K, Og = math.prod(osz), Cg * math.prod(ks), O // groups
        if _state.enabled:
            raise RuntimeError("double backward (create_graph=True) through conv3d is not supported by minitorch")
        need_x, need_w = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        need_b = has_b and ctx.needs_input_grad[2]
        g = _contig(g)
        k = launch._k(g)
        T = max(1, min(k.conv.workers(), N))
        gx = launch.empty(x._shape, g._dtype, g._device)
        gw = launch.empty((T, O, K), g._dtype, g._device)
        gb = launch.empty((T, O), g._dtype, g._device)
        if g.numel():
            k.matmul.set_blas_threads(1)
            k.conv.conv3d_backward(_flat(x).reshape(x._shape), _flat(w).reshape(groups, Og, K),
                                   _flat(g).reshape(N, groups, Og, L), gx._storage.reshape(x._shape),
                                   gw._storage.reshape(T, groups, Og, K), gb._storage.reshape(T, O), need_x, need_w,
                                   need_b, _scratch(T, K, L, g), _scratch(T, Og, K, g), *ks, *stride, *padding,
                                   *dilation, *osz)
        else:
            launch.fill_(gx, 0)
            launch.fill_(gw, 0)
            launch.fill_(gb, 0)
        gw = launch.reduce("sum", gw, (0,), False) if need_w else None
        gb = launch.reduce("sum", gb, (0,), False) if need_b else None
        if gw is not None:
            gw = as_view(gw, w._shape, (K, ks[1] * ks[2] * ks[0], ks[1] * ks[2], ks[2], 1), gw._offset)
        return (gx if need_x else None), gw, gb, None, None, None, None


def _resolve_padding(x, padding, stride, dilation, ks):
    """Numeric padding per spatial dim, and x padded on the far side where 'same' needs an odd total."""
    n = len(ks)
    if not isinstance(padding, str):
        return x, _ntuple(padding, n)
    if padding == "valid":
        return x, (0,) * n
    if padding != "same":
        raise RuntimeError(f"Invalid padding string: '{padding}'")
    if any(s != 1 for s in stride):
        raise RuntimeError("padding='same' is not supported for strided convolutions")
    totals = [d * (k - 1) for k, d in zip(ks, dilation)]
    if any(t % 2 for t in totals):
        # an odd total pads one more on the far side, as PyTorch does
        from ..nn.functional import pad as _pad
        flat = []
        for t in reversed(totals):
            flat += [t // 2, t - t // 2]
        return _pad(x, flat), (0,) * n
    return x, tuple(t // 2 for t in totals)


def _same_device(input, weight, bias):
    check_device(input, weight)
    if bias is not None:
        check_device(input, bias)


def _check_bias(input, weight, bias, out_channels):
    if bias is not None and (bias.dim() != 1 or bias.shape[0] != out_channels):
        raise RuntimeError(f"Given weight of size {list(weight.shape)}, expected bias to be 1-dimensional with "
                           f"{out_channels} elements, but got bias of size {list(bias.shape)} instead")
    if bias is not None and bias.dtype is not input.dtype:
        raise RuntimeError(f"Input type ({input.dtype}) and bias type ({bias.dtype}) should be the same")


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-D cross-correlation. padding: int, triple, 'same' or 'valid'.

    Shape: input (N, C, D, H, W) or (C, D, H, W); weight (O, C/groups, kd, kh, kw); bias (O);
    output (N, O, OD, OH, OW).
    """
    _check_conv(input, weight, groups, 3, "conv3d")
    unbatched = input.dim() == 4
    x = input.unsqueeze(0) if unbatched else input
    stride, dilation = _ntuple(stride, 3), _ntuple(dilation, 3)
    for what, v in (("stride", stride), ("padding", padding), ("dilation", dilation)):
        if not isinstance(v, str) and len(_ntuple(v, 3)) != 3:
            raise RuntimeError(f"expected {what} to be a single integer value or a list of 3 values to match the "
                               f"convolution dimensions, but got {what}={list(_ntuple(v, 3))}")
    ks = tuple(weight.shape[2:])
    x, padding = _resolve_padding(x, padding, stride, dilation, ks)
    if min(stride) <= 0:
        raise RuntimeError("non-positive stride is not supported")
    if min(padding) < 0:
        raise RuntimeError("negative padding is not supported")
    padded = [n + 2 * p for n, p in zip(x.shape[2:], padding)]
    eff = [d * (k - 1) + 1 for k, d in zip(ks, dilation)]
    if any(e > n for e, n in zip(eff, padded)):
        raise RuntimeError("Calculated padded input size per channel: ({}). Kernel size: ({}). Kernel size can't be "
                           "greater than actual input size".format(" x ".join(map(str, padded)),
                                                                   " x ".join(map(str, eff))))
    _check_bias(input, weight, bias, weight.shape[0])
    _same_device(input, weight, bias)
    out = Conv3d.apply(x, weight, bias, stride, padding, dilation, groups)
    return out.squeeze(0) if unbatched else out


class ConvTranspose(Function):
    """The adjoint of a convolution, 2-D or 3-D: (N, Cin, *S) with weight (Cin, Cout/groups, *k) -> (N, Cout, *O).

    For the conv whose input is the (N, Cout, *O) output and whose weight is this one, the forward is that conv's
    input gradient, the input gradient is that conv's forward (no bias) and the weight gradient is that conv's
    weight gradient with x as the output gradient. 2-D has kernels of its own that do this with one im2col per
    image for both gradients and fuse the bias; 3-D calls the conv3d kernels with the roles swapped."""

    @staticmethod
    @launch.half_compute()
    def forward(ctx, x, w, b, stride, padding, output_padding, dilation, groups):
        x = _contig(x)
        w = _contig(w)
        nd = len(x._shape) - 2
        N, Cin = x._shape[:2]
        Cog = w._shape[1]
        ks = w._shape[2:]
        S = x._shape[2:]
        osz = tuple((n - 1) * s - 2 * p + d * (k - 1) + op + 1
                    for n, k, s, p, op, d in zip(S, ks, stride, padding, output_padding, dilation))
        Cout, L, K, Og = Cog * groups, math.prod(S), Cog * math.prod(ks), Cin // groups
        out = launch.empty((N, Cout) + osz, x._dtype, x._device)
        if out.numel():
            fused = nd == 2 and x.numel()
            if x.numel():
                k = launch._k(x)
                T = max(1, min(k.conv.workers(), N))
                k.matmul.set_blas_threads(1)
                o = out._storage.reshape(out._shape)
                w3, x4, ws = _flat(w).reshape(groups, Og, K), _flat(x).reshape(N, groups, Og, L), _scratch(T, K, L, x)
                if fused:
                    bias = _flat(_contig(b)) if b is not None else _flat(w)
                    k.conv.conv_transpose2d_forward(x4, w3, bias, b is not None, o, ws, *ks, *stride, *padding,
                                                    *dilation, *S)
                else:
                    getattr(k.conv, f"conv{nd}d_backward")(
                        o, w3, x4, o, _dummy((1, 1, 1, 1), x), _dummy((1, 1), x), True, False, False, ws,
                        _dummy((T, 1, 1), x), *ks, *stride, *padding, *dilation, *S)
            else:
                launch.fill_(out, 0)
            if b is not None and not fused:
                bv = as_view(b, (1, Cout) + (1,) * nd, (0, b._stride[0]) + (0,) * nd, b._offset)
                launch.binary("add", out, bv, out=out)
        ctx.save_for_backward(x, w)
        ctx.conf = (stride, padding, dilation, groups, osz, b is not None)
        return out

    @staticmethod
    @launch.half_compute()
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        stride, padding, dilation, groups, osz, has_b = ctx.conf
        nd = len(x._shape) - 2
        N, Cin = x._shape[:2]
        Cog = w._shape[1]
        ks = w._shape[2:]
        S = x._shape[2:]
        L, K, Og = math.prod(S), Cog * math.prod(ks), Cin // groups
        if _state.enabled:
            raise RuntimeError(f"double backward (create_graph=True) through conv_transpose{nd}d is not supported "
                               "by minitorch")
        need_x, need_w = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        need_b = has_b and ctx.needs_input_grad[2]
        g = _contig(g)
        k = launch._k(g)
        T = max(1, min(k.conv.workers(), N))
        gx = gw = gb = None
        live = g.numel() and x.numel()
        args = (*ks, *stride, *padding, *dilation, *S)
        if live:
            k.matmul.set_blas_threads(1)
        garr = _flat(g).reshape(g._shape) if g.numel() else None
        w3 = _flat(w).reshape(groups, Og, K)
        if nd == 2 and live:
            gx = launch.empty(x._shape, g._dtype, g._device) if need_x else None
            gwp = launch.empty((T, Cin, K), g._dtype, g._device) if need_w else None
            gbp = launch.empty((T, g._shape[1]), g._dtype, g._device) if need_b else None
            k.conv.conv_transpose2d_backward(
                garr, w3, _flat(x).reshape(N, groups, Og, L),
                gx._storage.reshape(N, groups, Og, L) if need_x else _dummy((1, 1, 1, 1), g),
                gwp._storage.reshape(T, groups, Og, K) if need_w else _dummy((1, 1, 1, 1), g),
                gbp._storage.reshape(gbp._shape) if need_b else _dummy((1, 1), g), need_x, need_w, need_b,
                _scratch(T, K, L, g), _scratch(T, Og, K, g) if need_w else _dummy((T, 1, 1), g), *args)
            if need_w:
                gw = launch.reduce("sum", gwp, (0,), False)
                gw = as_view(gw, w._shape, _contiguous_strides(w._shape), gw._offset)
            if need_b:
                gb = launch.reduce("sum", gbp, (0,), False)
            return gx, gw, gb, None, None, None, None, None
        if need_x:
            gx = launch.empty(x._shape, g._dtype, g._device)
            if live:
                getattr(k.conv, f"conv{nd}d_forward")(garr, w3, _flat(w), False, gx._storage.reshape(N, groups, Og, L),
                                                      _scratch(T, K, L, g), *args)
            else:
                launch.fill_(gx, 0)
        if need_w:
            gwp = launch.empty((T, Cin, K), g._dtype, g._device)
            if live:
                getattr(k.conv, f"conv{nd}d_backward")(
                    garr, w3, _flat(x).reshape(N, groups, Og, L), _dummy((1,) * (nd + 2), g),
                    gwp._storage.reshape(T, groups, Og, K), _dummy((1, 1), g), False, True, False,
                    _scratch(T, K, L, g), _scratch(T, Og, K, g), *args)
            else:
                launch.fill_(gwp, 0)
            gw = launch.reduce("sum", gwp, (0,), False)
            gw = as_view(gw, w._shape, _contiguous_strides(w._shape), gw._offset)
        if need_b:
            gb = launch.reduce("sum", g, (0,) + tuple(range(2, nd + 2)), False)
        return gx, gw, gb, None, None, None, None, None


_AXES = {1: ("width",), 2: ("height", "width"), 3: ("depth", "height", "width")}


def _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, nd):
    """Checks as PyTorch makes them, then the 2-D/3-D Function (1-D runs as 2-D with height 1)."""
    name = f"conv_transpose{nd}d"
    if isinstance(padding, str):
        raise TypeError(f"{name}(): argument 'padding' must be tuple of ints, not str")
    stride, padding = _ntuple(stride, nd), _ntuple(padding, nd)
    output_padding, dilation = _ntuple(output_padding, nd), _ntuple(dilation, nd)
    if weight.dim() < 3:
        raise RuntimeError("weight should have at least three dimensions")
    if weight.dim() != nd + 2:  # PyTorch infers the dimensionality from the weight and finds the stride too long
        raise RuntimeError(f"expected stride to be a single integer value or a list of {weight.dim() - 2} values to "
                           f"match the convolution dimensions, but got stride={list(stride)}")
    for what, v in (("stride", stride), ("padding", padding), ("output_padding", output_padding),
                    ("dilation", dilation)):
        if len(v) != nd:
            raise RuntimeError(f"expected {what} to be a single integer value or a list of {nd} values to match "
                               f"the convolution dimensions, but got {what}={list(v)}")
    if input.dim() not in (nd + 1, nd + 2):
        raise RuntimeError(f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to {name}, but got "
                           f"input of size: {list(input.shape)}")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    if min(stride) <= 0:
        raise RuntimeError("non-positive stride is not supported")
    if min(padding) < 0:
        raise RuntimeError("negative padding is not supported")
    if min(output_padding) < 0:
        raise RuntimeError("negative output_padding is not supported")
    if min(dilation) <= 0:
        raise RuntimeError("dilation should be greater than zero")
    if weight.shape[0] % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, but "
                           f"got weight of size {list(weight.shape)} instead")
    C = input.shape[-nd - 1]
    if weight.shape[0] != C:
        raise RuntimeError(f"Given transposed=1, weight of size {list(weight.shape)}, expected input"
                           f"{list(input.shape)} to have {weight.shape[0]} channels, but got {C} channels instead")
    if input.dtype is not weight.dtype:
        raise RuntimeError(f"Input type ({input.dtype}) and weight type ({weight.dtype}) should be the same")
    _same_device(input, weight, bias)
    Cout = weight.shape[1] * groups
    if bias is not None and (bias.dim() != 1 or bias.shape[0] != Cout):
        raise RuntimeError(f"Given transposed=1, weight of size {list(weight.shape)}, expected bias to be "
                           f"1-dimensional with {Cout} elements, but got bias of size {list(bias.shape)} instead")
    if bias is not None and bias.dtype is not input.dtype:
        raise RuntimeError(f"Input type ({input.dtype}) and bias type ({bias.dtype}) should be the same")
    S = list(input.shape[-nd:])
    if min(S) == 0:
        raise RuntimeError(f"Only zero batch or zero channel inputs are supported, but got input shape: "
                           f"{list(input.shape)}")
    ks = weight.shape[2:]
    # 1-D runs as 2-D: PyTorch's message then names a height of output padding 0, stride 1, dilation 1 too
    lift = nd == 1
    stride, padding, output_padding, dilation = ((1,) * lift + stride, (0,) * lift + padding,
                                                 (0,) * lift + output_padding, (1,) * lift + dilation)
    if any(op >= s and op >= d for op, s, d in zip(output_padding, stride, dilation)):
        axes = _AXES[nd + lift]
        raise RuntimeError("output padding must be smaller than either stride or dilation, but got " + " ".join(
            f"{what}_{a}: {v}" for what, vals in (("output_padding", output_padding), ("stride", stride),
                                                  ("dilation", dilation)) for a, v in zip(axes, vals)))
    osz = [(n - 1) * s - 2 * p + d * (k - 1) + op + 1 for n, k, s, p, op, d in
           zip(S, ks, stride[lift:], padding[lift:], output_padding[lift:], dilation[lift:])]
    if min(osz) <= 0:
        raise RuntimeError(f"Given input size per channel: ({' x '.join(map(str, S))}). Calculated output size per "
                           f"channel: ({' x '.join(map(str, osz))}). Output size is too small")
    unbatched = input.dim() == nd + 1
    x = input.unsqueeze(0) if unbatched else input
    w = weight
    if lift:
        x, w = x.unsqueeze(-2), weight.unsqueeze(-2)
    out = ConvTranspose.apply(x, w, bias, stride, padding, output_padding, dilation, groups)
    if lift:
        out = out.squeeze(-2)
    return out.squeeze(0) if unbatched else out


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """1-D transposed convolution (run as 2-D with height 1): input (N, Cin, L) or (Cin, L), weight
    (Cin, Cout/groups, k); output length (L - 1)*stride - 2*padding + dilation*(k - 1) + output_padding + 1."""
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, 1)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """2-D transposed convolution (the gradient of conv2d with respect to its input).

    Shape: input (N, Cin, H, W) or (Cin, H, W); weight (Cin, Cout/groups, kh, kw); bias (Cout); output
    (N, Cout, OH, OW) with OH = (H - 1)*stride - 2*padding + dilation*(kh - 1) + output_padding + 1.
    """
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, 2)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """3-D transposed convolution: input (N, Cin, D, H, W), weight (Cin, Cout/groups, kd, kh, kw)."""
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, 3)

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
        if _state.enabled:
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
        if _state.enabled:
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
        from .pool_extra import adaptive_max_pool2d_indices
        return adaptive_max_pool2d_indices(input, output_size)
    out, k, _ = _adaptive(input, output_size, lambda t: t.amax((-2, -1)), "adaptive_max_pool2d")
    return out if out is not None else max_pool2d(input, k, k)

