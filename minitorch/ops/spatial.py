"""Spatial re-arrangements as composites of views, reshapes and index ops (autograd comes from those ops):
pixel_shuffle / pixel_unshuffle / channel_shuffle, unfold (sliding blocks to columns) and fold (its adjoint,
a scatter-add), and the argument checks of the non-constant padding modes.
"""
from .. import creation
from ..dtypes import int64
from .common import type_label
from .shape import cat

FUNCTIONS = ["pixel_shuffle", "pixel_unshuffle", "channel_shuffle", "native_channel_shuffle"]


# ---------------------------------------------------------------------------------------------------------------
# shuffles
# ---------------------------------------------------------------------------------------------------------------
def _check_factor(input, factor, name, what):
    if factor <= 0:
        raise RuntimeError(f"{name} expects a positive {what}, but got {factor}")
    if input.dim() < 3:
        raise RuntimeError(f"{name} expects input to have at least 3 dimensions, but got input with {input.dim()} "
                           "dimension(s)")


def pixel_shuffle(input, upscale_factor):
    """(*, C*r*r, H, W) -> (*, C, H*r, W*r): each group of r*r channels becomes an r x r block of pixels."""
    r = int(upscale_factor)
    _check_factor(input, r, "pixel_shuffle", "upscale_factor")
    *batch, C, H, W = input.shape
    if C % (r * r):
        raise RuntimeError("pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of "
                           f"upscale_factor, but input.size(-3)={C} is not divisible by {r * r}")
    b = len(batch)
    x = input.reshape(*batch, C // (r * r), r, r, H, W)
    x = x.permute(*range(b), b, b + 3, b + 1, b + 4, b + 2)
    return x.reshape(*batch, C // (r * r), H * r, W * r)


def pixel_unshuffle(input, downscale_factor):
    """(*, C, H*r, W*r) -> (*, C*r*r, H, W), the inverse of ``pixel_shuffle``."""
    r = int(downscale_factor)
    _check_factor(input, r, "pixel_unshuffle", "downscale_factor")
    *batch, C, H, W = input.shape
    if H % r:
        raise RuntimeError(f"pixel_unshuffle expects height to be divisible by downscale_factor, but "
                           f"input.size(-2)={H} is not divisible by {r}")
    if W % r:
        raise RuntimeError(f"pixel_unshuffle expects width to be divisible by downscale_factor, but "
                           f"input.size(-1)={W} is not divisible by {r}")
    b = len(batch)
    x = input.reshape(*batch, C, H // r, r, W // r, r)
    x = x.permute(*range(b), b, b + 2, b + 4, b + 1, b + 3)
    return x.reshape(*batch, C * r * r, H // r, W // r)


def channel_shuffle(input, groups):
    """(N, C, *) with C = g * k: channel i*k + j moves to j*g + i (the groups' channels interleaved)."""
    g = int(groups)
    if g <= 0:
        raise RuntimeError(f"Number of groups to divide channels in must be positive. Value of groups:{g}")
    if input.dim() <= 2:
        raise RuntimeError(f"channel_shuffle expects input with > 2 dims, but got input with sizes "
                           f"{list(input.shape)}")
    N, C, *rest = input.shape
    if C % g:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {C} channels and {g} groups.")
    return input.reshape(N, g, C // g, *rest).transpose(1, 2).reshape(input.shape)


native_channel_shuffle = channel_shuffle


# ---------------------------------------------------------------------------------------------------------------
# unfold / fold
# ---------------------------------------------------------------------------------------------------------------
def _pair(v, name):
    if isinstance(v, (tuple, list)):
        if len(v) != 2:
            raise RuntimeError(f"It is expected {name} equals to 2, but got size {len(v)}")
        return int(v[0]), int(v[1])
    return int(v), int(v)


def _check_block_args(k, d, p, s):
    if k[0] <= 0 or k[1] <= 0:
        raise RuntimeError(f"kernel size should be greater than zero, but got kernel_height: {k[0]} kernel_width: "
                           f"{k[1]}")
    if s[0] <= 0 or s[1] <= 0:
        raise RuntimeError(f"stride should be greater than zero, but got stride_height: {s[0]} stride_width: {s[1]}")
    if d[0] <= 0 or d[1] <= 0:
        raise RuntimeError(f"dilation should be greater than zero, but got dilation_height: {d[0]} dilation_width: "
                           f"{d[1]}")
    if p[0] < 0 or p[1] < 0:
        raise RuntimeError(f"padding should be non-negative, but got pad_height: {p[0]} pad_width: {p[1]}")


def _blocks(H, W, k, d, p, s):
    return ((H + 2 * p[0] - d[0] * (k[0] - 1) - 1) // s[0] + 1, (W + 2 * p[1] - d[1] * (k[1] - 1) - 1) // s[1] + 1)


def _block_index(H, W, k, d, p, s, OH, OW, device):
    """For each column entry, ordered (ki, kj, oh, ow), the flat position in an (H, W) plane of the pixel it reads,
    or H*W (a zero slot appended to the plane) where it reads the padding."""
    import numpy as np
    ki = np.arange(k[0]).reshape(-1, 1, 1, 1)
    kj = np.arange(k[1]).reshape(1, -1, 1, 1)
    h = np.arange(OH).reshape(1, 1, -1, 1) * s[0] - p[0] + ki * d[0]
    w = np.arange(OW).reshape(1, 1, 1, -1) * s[1] - p[1] + kj * d[1]
    pos = np.where((h >= 0) & (h < H) & (w >= 0) & (w < W), h * W + w, H * W)
    return creation.tensor(pos.reshape(-1).astype(np.int64), dtype=int64, device=device)


def _check_dtype(input, kernel):
    if not (input.dtype.is_floating_point or input.dtype.is_complex or input.dtype.name == "bool"):
        raise NotImplementedError(f'"{kernel}" not implemented for \'{type_label(input.dtype)}\'')


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Sliding local blocks of a batched image as columns (im2col).

    Shape: input (N, C, H, W) or (C, H, W); output (N, C*kh*kw, L) or (C*kh*kw, L), L the number of blocks.
    Column entry (c, i, j) of block (oh, ow) is input[c, oh*sh - ph + i*dh, ow*sw - pw + j*dw] (0 in the padding).

    Example::

        >>> F.unfold(torch.arange(16.).reshape(1, 1, 4, 4), kernel_size=2, stride=2).shape
        (1, 4, 4)
    """
    k, d = _pair(kernel_size, "kernel_size"), _pair(dilation, "dilation")
    p, s = _pair(padding, "padding"), _pair(stride, "stride")
    _check_block_args(k, d, p, s)
    if input.dim() < 3:
        n = max(input.dim(), 1)
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got 2)")
    shape = list(input.shape)
    if input.dim() > 4 or 0 in shape[-3:]:
        raise RuntimeError("Expected 3D or 4D (batch mode) tensor with possibly 0 batch size and other non-zero "
                           f"dimensions for input, but got: {shape}")
    _check_dtype(input, "im2col_out_cpu")
    H, W = shape[-2:]
    OH, OW = _blocks(H, W, k, d, p, s)
    if OH < 1 or OW < 1:
        raise RuntimeError(f"Given input with spatial size ({H}, {W}), kernel_size=({k[0]}, {k[1]}), dilation=({d[0]}, "
                           f"{d[1]}), padding=({p[0]}, {p[1]}), calculated shape of the array of sliding blocks as "
                           f"({OH}, {OW}), but its components must be at least one.")
    unbatched = input.dim() == 3
    x = input.unsqueeze(0) if unbatched else input
    N, C = x.shape[0], x.shape[1]
    idx = _block_index(H, W, k, d, p, s, OH, OW, input.device)
    plane = x.reshape(N, C, H * W)
    if p != (0, 0):
        plane = cat([plane, creation.zeros(N, C, 1, dtype=x.dtype, device=x.device)], 2)
    cols = plane.index_select(2, idx).reshape(N, C * k[0] * k[1], OH * OW)
    return cols.squeeze(0) if unbatched else cols


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Sum columns of sliding local blocks back into a batched image (col2im), the adjoint of ``unfold``.

    Shape: input (N, C*kh*kw, L) or (C*kh*kw, L); output (N, C, H, W) or (C, H, W) for ``output_size`` (H, W).
    Pixels covered by several blocks receive the sum of their entries.
    """
    out_hw = _pair(output_size, "output_size")
    k, d = _pair(kernel_size, "kernel_size"), _pair(dilation, "dilation")
    p, s = _pair(padding, "padding"), _pair(stride, "stride")
    _check_block_args(k, d, p, s)
    shape = list(input.shape)
    if input.dim() not in (2, 3) or 0 in shape[-2:]:
        raise RuntimeError("Expected 2D or 3D (batch mode) tensor for input with possibly 0 batch size and non-zero "
                           f"dimensions for input, but got: {shape}")
    _check_dtype(input, "col2im_out_cpu")
    K = k[0] * k[1]
    if shape[-2] % K:
        raise RuntimeError(f"Expected size of input's dimension 1 to be divisible by the product of kernel_size, but "
                           f"got input.size(1)={shape[-2]} and kernel_size=({k[0]}, {k[1]}).")
    H, W = out_hw
    OH, OW = _blocks(H, W, k, d, p, s)
    if OH * OW != shape[-1]:
        raise RuntimeError(f"Given output_size=({H}, {W}), kernel_size=({k[0]}, {k[1]}), dilation=({d[0]}, {d[1]}), "
                           f"padding=({p[0]}, {p[1]}), stride=({s[0]}, {s[1]}), expected size of input's dimension 2 "
                           f"to match the calculated number of sliding blocks {OH} * {OW} = {OH * OW}, but got "
                           f"input.size(2)={shape[-1]}.")
    unbatched = input.dim() == 2
    cols = input.unsqueeze(0) if unbatched else input
    N, C = cols.shape[0], shape[-2] // K
    idx = _block_index(H, W, k, d, p, s, OH, OW, input.device)
    plane = creation.zeros(N, C, H * W + 1, dtype=input.dtype, device=input.device)  # + the padding's slot
    out = plane.index_add(2, idx, cols.reshape(N, C, K * OH * OW)).narrow(2, 0, H * W).reshape(N, C, H, W)
    return out.squeeze(0) if unbatched else out


# ---------------------------------------------------------------------------------------------------------------
# padding: the checks PyTorch makes for reflect / replicate / circular
# ---------------------------------------------------------------------------------------------------------------
_NONCONSTANT_HELP = ("Supported combinations for non-constant padding:\n"
                     "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
                     "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
                     "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")
_AXES = "DHW"


def check_pad(input, pairs, mode, value):
    """Raise PyTorch's error for a reflect / replicate / circular padding it would refuse.

    ``pairs``: (left, right) per padded dim, the last dim first."""
    if value is not None and value != 0:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    k = len(pairs)
    nd = input.dim()
    if k not in (1, 2, 3) or nd not in (k + 1, k + 2):
        raise NotImplementedError(f"Padding size {2 * k} is not supported for {nd}D input tensor.\n"
                                  + _NONCONSTANT_HELP)
    shape = list(input.shape)
    sizes = [shape[nd - 1 - i] for i in range(k)]  # last dim first, as pairs
    if mode == "circular":
        for (lo, hi), n in zip(pairs, sizes):
            if lo > n or hi > n:
                raise RuntimeError("Padding value causes wrapping around more than once.")
            if n + lo + hi < 0:
                raise RuntimeError("Negative padding value is resulting in an empty dimension")
        return
    if input.dtype.name == "bool":
        kind = "reflection" if mode == "reflect" else "replication"
        raise NotImplementedError(f'"{kind}_pad{k}d" not implemented for \'Bool\'')
    if 0 in shape[nd - k - 1:]:
        raise RuntimeError(f"Expected {k + 1}D or {k + 2}D (batch mode) tensor with possibly 0 batch size and other "
                           f"non-zero dimensions for input, but got: {shape}")
    if mode == "reflect":
        for i, ((lo, hi), n) in enumerate(zip(pairs, sizes)):
            if lo >= n or hi >= n:
                raise RuntimeError(f"Argument #{4 + 2 * i}: Padding size should be less than the corresponding input "
                                   f"dimension, but got: padding ({lo}, {hi}) at dimension {nd - 1 - i} of input "
                                   f"{shape}")
    outs = [n + lo + hi for (lo, hi), n in zip(pairs, sizes)]
    if min(outs) < 1:
        axes = _AXES[3 - k:]
        ins = ", ".join(f"{a}: {n}" for a, n in zip(axes, reversed(sizes)))
        got = " ".join(f"{a}: {n}" for a, n in zip(axes, reversed(outs)))
        raise RuntimeError(f"input ({ins}{' ' if k > 1 else ''}) is too small. Calculated output {got}")
