"""Max unpooling, the ``*_with_indices`` pooling forms and fractional max pooling (composites).

Max unpooling scatters each value to the flat in-plane (in-volume) position that max pooling recorded for it; the
positions are range-checked in Python first, since the scatter kernel does no bounds checks. Fractional max
pooling turns each plane's random samples into window starts (PyTorch's interval formula, in the input's dtype)
and takes the max of the gathered windows, so both run on every device through existing index ops.
"""
import math

from ..dtypes import float64, int64
from .conv import adaptive_max_pool2d, max_pool1d, max_pool2d
from .pooling import adaptive_max_pool1d, adaptive_max_pool3d, max_pool3d

_TYPE_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half", "bfloat16": "BFloat16", "int32": "Int",
               "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool", "int64": "Long"}


def _type_name(dtype):
    return _TYPE_NAMES.get(str(dtype).replace("minitorch.", "").replace("torch.", ""), str(dtype))


def _ntuple(v, n):
    if isinstance(v, (tuple, list)):
        return tuple(int(a) for a in v) if len(v) != 1 else (int(v[0]),) * n
    return (int(v),) * n


# ---------------------------------------------------------------------------------------------------------------
# max unpooling
# ---------------------------------------------------------------------------------------------------------------
def _unpool_output_size(input, kernel_size, stride, padding, output_size):
    n = len(kernel_size)
    default = [(input.shape[input.dim() - n + d] - 1) * stride[d] + kernel_size[d] - 2 * padding[d]
               for d in range(n)]
    if output_size is None:
        return default
    output_size = list(output_size)
    if len(output_size) == n + 2:
        output_size = output_size[2:]
    if len(output_size) != n:
        raise ValueError(f"output_size should be a sequence containing {n} or {n + 2} elements, but it has a length "
                         f"of '{len(output_size)}'")
    for d in range(n):
        lo, hi = default[d] - stride[d], default[d] + stride[d]
        if not lo < output_size[d] < hi:
            raise ValueError(f'invalid output_size "{tuple(output_size)}" (dim {d} must be between {lo} and {hi})')
    return [int(v) for v in output_size]


def _unpool(input, indices, out_size, n):
    """Scatter ``input`` into zeros of spatial size ``out_size`` at the flat positions ``indices``."""
    if indices.dtype != int64:
        raise RuntimeError(f"elements in indices should be type int64 but got: {_type_name(indices.dtype)}")
    if input.dim() not in (n + 1, n + 2):
        raise RuntimeError(f"Input to max_unpooling{n}d should be a {n + 1}d or {n + 2}d Tensor, but got a tensor "
                           f"with {input.dim()} dimensions.")
    if tuple(indices.shape) != tuple(input.shape):
        raise RuntimeError(f"Expected shape of indices to be same as that of the input tensor ({list(input.shape)}) "
                           f"but got indices tensor with shape: {list(indices.shape)}")
    if indices.device != input.device:
        raise RuntimeError(f"Expected all tensors to be on the same device, but found at least two devices, "
                           f"{input.device} and {indices.device}!")
    if any(v < 0 for v in out_size):
        raise RuntimeError(f"max_unpooling{n}d: output sizes must be non-negative, but got {list(out_size)}")
    vol = math.prod(out_size)
    lead = tuple(input.shape[:input.dim() - n])
    flat_idx = indices.reshape(*lead, -1)
    if flat_idx.numel():
        bad = (flat_idx < 0) | (flat_idx >= vol)
        if bool(bad.any()):
            first = int(flat_idx[bad].reshape(-1)[0].item())
            raise RuntimeError(f"Found an invalid max index: {first} (output volumes are of size "
                               f"{'x'.join(str(v) for v in out_size)})")
    from ..creation import zeros
    out = zeros(*lead, vol, dtype=input.dtype, device=input.device)
    return out.scatter(-1, flat_idx, input.reshape(*lead, -1)).reshape(*lead, *out_size)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of ``max_pool1d``: each value goes to the position its index names, zeros elsewhere.

    Shape: input and indices (N, C, L) or (C, L); output (N, C, L_out) with
    L_out = (L - 1) * stride - 2 * padding + kernel_size unless ``output_size`` picks another valid length.
    """
    k = _ntuple(kernel_size, 1)
    s = k if stride is None else _ntuple(stride, 1)
    p = _ntuple(padding, 1)
    size = _unpool_output_size(input, k, s, p, output_size)
    return _unpool(input.unsqueeze(-1), indices.unsqueeze(-1), size + [1], 2).squeeze(-1)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of ``max_pool2d``: each value goes to the in-plane position its index names, zeros elsewhere.

    Shape: input and indices (N, C, H, W) or (C, H, W); output (N, C, H_out, W_out),
    H_out = (H - 1) * stride[0] - 2 * padding[0] + kernel_size[0] (or ``output_size``).

    Example::

        >>> out, idx = F.max_pool2d(x, 2, return_indices=True)
        >>> F.max_unpool2d(out, idx, 2).shape == x.shape
        True
    """
    k = _ntuple(kernel_size, 2)
    s = k if stride is None else _ntuple(stride, 2)
    p = _ntuple(padding, 2)
    size = _unpool_output_size(input, k, s, p, output_size)
    return _unpool(input, indices, size, 2)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of ``max_pool3d``: each value goes to the in-volume position its index names.

    Shape: input and indices (N, C, D, H, W) or (C, D, H, W); output (N, C, D_out, H_out, W_out).
    """
    k = _ntuple(kernel_size, 3)
    s = k if stride is None else _ntuple(stride, 3)
    p = _ntuple(padding, 3)
    size = _unpool_output_size(input, k, s, p, output_size)
    return _unpool(input, indices, size, 3)


# ---------------------------------------------------------------------------------------------------------------
# pooling forms that always return (values, indices)
# ---------------------------------------------------------------------------------------------------------------
def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=False):
    """``max_pool1d`` returning (values, indices) whatever ``return_indices`` says."""
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=False):
    """``max_pool2d`` returning (values, indices) whatever ``return_indices`` says."""
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=False):
    """``max_pool3d`` returning (values, indices) whatever ``return_indices`` says."""
    return max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=False):
    """``adaptive_max_pool1d`` returning (values, indices)."""
    return adaptive_max_pool1d(input, output_size, True)


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=False):
    """``adaptive_max_pool2d`` returning (values, indices); indices are flat within each H x W plane."""
    return adaptive_max_pool2d(input, output_size, True)


def adaptive_max_pool3d_with_indices(input, output_size, return_indices=False):
    """``adaptive_max_pool3d`` returning (values, indices)."""
    return adaptive_max_pool3d(input, output_size, True)


def adaptive_max_pool2d_indices(input, output_size):
    """(values, flat in-plane argmax) of PyTorch's adaptive windows: the 3-D adaptive max kernel with a depth of 1."""
    from .pooling import AdaptiveMaxPool3d, _check_adaptive_input, _sizes
    _check_adaptive_input(input, 2, "adaptive_max_pool2d")
    if isinstance(output_size, (tuple, list)) and len(output_size) == 2 or isinstance(output_size, int):
        sizes = tuple(output_size) if isinstance(output_size, (tuple, list)) else (output_size,) * 2
        sizes = tuple(n if o is None else int(o) for n, o in zip(input.shape[-2:], sizes))
        bad = [o for o in sizes if o < 0]
        if bad:  # PyTorch's 2-D kernel fails allocating its output
            raise RuntimeError(f"Trying to create tensor with negative dimension {bad[0]}: "
                               f"{list(input.shape[:-2]) + list(sizes)}")
    oh, ow = _sizes(output_size, tuple(input.shape[-2:]), 2, "adaptive_max_pool2d")
    out, idx = AdaptiveMaxPool3d.apply(input.unsqueeze(-3), (1, oh, ow))
    return out.squeeze(-3), idx.squeeze(-3)


# ---------------------------------------------------------------------------------------------------------------
# fractional max pooling
# ---------------------------------------------------------------------------------------------------------------
_AXIS = {2: ("height", "width"), 3: ("time", "height", "width")}


def _starts(sample, n_in, n_out, k):
    """Window starts (P, n_out) from per-plane samples (P,): PyTorch's pseudo-random interval sequence, with
    alpha and the products rounded in the samples' dtype so that the starts match bit for bit."""
    from ..creation import arange, full
    P = sample.shape[0]
    if n_out == 0:
        return full((P, 0), 0, dtype=int64, device=sample.device)
    last = full((P, 1), n_in - k, dtype=int64, device=sample.device)
    if n_out == 1:
        return last
    ct = sample.dtype if sample.dtype == float64 else None
    alpha = full((1,), n_in - k, dtype=ct or sample.dtype, device=sample.device) / (n_out - 1)
    if ct is None:
        # alpha in float32, as PyTorch computes it for float/half inputs
        from ..dtypes import float32
        sample = sample.to(float32)
        alpha = alpha.to(float32)
    i = arange(n_out - 1, device=sample.device).to(sample.dtype)
    s = sample.unsqueeze(-1)
    seq = ((i + s) * alpha).trunc().to(int64) - (s * alpha).trunc().to(int64)
    from .shape import cat
    return cat([seq, last], -1)


def _fractional(input, kernel_size, output_size, output_ratio, _random_samples, n):
    name = f"fractional_max_pool{n}d"
    if output_size is None and output_ratio is None:
        raise ValueError(f"{name} requires specifying either an output_size or an output_ratio")
    k = _ntuple(kernel_size, n)
    if output_size is None:
        if n == 2 and len(output_ratio) > n:  # a bare float raises TypeError here, as in PyTorch's 2-D form
            raise ValueError(f"{name} requires output_ratio to either be a single Int or tuple of Ints.")
        ratio = _ntuple_f(output_ratio, n)
        output_size = [int(input.size(-n + d) * ratio[d]) for d in range(n)]
    out = _ntuple(output_size, n)
    if _random_samples is None:
        from ..creation import rand
        batch = 1 if input.dim() == n + 1 else input.size(0)
        _random_samples = rand(batch, input.size(-n - 1), n, dtype=input.dtype, device=input.device)
    if input.dim() not in (n + 1, n + 2):
        raise RuntimeError(f"{name}(): Expected {n + 1}D or {n + 2}D tensor, but got: {list(input.shape)}")
    for d in range(1, input.dim()):
        if input.shape[d] == 0:
            raise RuntimeError(f"{name}(): Expected input to have non-zero size for non-batch dimensions, but got "
                               f"input with sizes {list(input.shape)} with dimension {d} being empty")
    unbatched = input.dim() == n + 1
    x = input.unsqueeze(0) if unbatched else input
    N, C = x.shape[0], x.shape[1]
    size_in = tuple(x.shape[2:])
    where = f"{name}()" if n == 2 else f"{name}_out()"
    for d in range(n):
        if out[d] + k[d] - 1 > size_in[d]:
            raise RuntimeError(f"{where}: pool {_AXIS[n][d]} {k[d]} too large relative to input {_AXIS[n][d]} "
                               f"{size_in[d]}")
    smp = _random_samples
    if smp.dim() != 3:
        raise RuntimeError(f"Expect _random samples to have 3 dimensions, got {smp.dim()}")
    if smp.size(0) != N:
        raise RuntimeError("Expect _random_samples.size(0) no less then input batch size.")
    if smp.size(1) != C:
        raise RuntimeError("Expect _random_samples.size(1) equals to input channel size.")
    if smp.size(2) != n:
        raise RuntimeError(f"Expect _random_samples.size(2) equals to {n}; got {smp.size(2)}.")
    from ..creation import arange
    flat_smp = smp.reshape(N * C, n)
    # PyTorch's sample order: (width, height) in 2-D, (time, height, width) in 3-D
    col = (1, 0) if n == 2 else (0, 1, 2)
    # pos[p, o_0..o_{n-1}, k_0..k_{n-1}]: flat in-plane position of each window element, one axis at a time
    pos = 0
    for d in range(n):
        st = _starts(flat_smp[:, col[d]].contiguous(), size_in[d], out[d], k[d])  # (P, out[d])
        ax = (st.unsqueeze(-1) + arange(k[d], device=x.device)) * math.prod(size_in[d + 1:])
        shape = [N * C] + [1] * (2 * n)
        shape[1 + d], shape[1 + n + d] = out[d], k[d]
        pos = pos + ax.reshape(*shape)
    P = N * C
    L = math.prod(out)
    K = math.prod(k)
    pos = pos.reshape(P, L * K)
    vals = x.reshape(P, -1).gather(1, pos).reshape(P, L, K)
    res, arg = vals.max(-1)
    idx = pos.reshape(P, L, K).gather(-1, arg.unsqueeze(-1)).squeeze(-1)
    res, idx = res.reshape(N, C, *out), idx.reshape(N, C, *out)
    if unbatched:
        res, idx = res.squeeze(0), idx.squeeze(0)
    return res, idx


def _ntuple_f(v, n):
    if isinstance(v, (tuple, list)):
        return tuple(float(a) for a in v)
    return (float(v),) * n


def fractional_max_pool2d_with_indices(input, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                                       _random_samples=None):
    """``fractional_max_pool2d`` returning (values, indices)."""
    return _fractional(input, kernel_size, output_size, output_ratio, _random_samples, 2)


def fractional_max_pool2d(input, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                          _random_samples=None):
    """Max over pseudo-randomly placed kh x kw windows that shrink H, W to ``output_size`` (or
    ``int(size * output_ratio)``); ``_random_samples`` (N, C, 2) in [0, 1) fixes the placement (width, height).

    Shape: input (N, C, H, W) or (C, H, W); output (N, C, oH, oW) or (C, oH, oW).
    """
    out, idx = _fractional(input, kernel_size, output_size, output_ratio, _random_samples, 2)
    return (out, idx) if return_indices else out


def fractional_max_pool3d_with_indices(input, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                                       _random_samples=None):
    """``fractional_max_pool3d`` returning (values, indices)."""
    return _fractional(input, kernel_size, output_size, output_ratio, _random_samples, 3)


def fractional_max_pool3d(input, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                          _random_samples=None):
    """Max over pseudo-randomly placed kt x kh x kw windows; ``_random_samples`` (N, C, 3) fixes the placement.

    Shape: input (N, C, T, H, W) or (C, T, H, W); output (N, C, oT, oH, oW) or (C, oT, oH, oW).
    """
    out, idx = _fractional(input, kernel_size, output_size, output_ratio, _random_samples, 3)
    return (out, idx) if return_indices else out
