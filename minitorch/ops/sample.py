"""Spatial sampling: ``grid_sample`` (a primitive with a kernel per device), ``affine_grid`` (a composite), and
``resample``, the primitive under ``F.interpolate``'s linear, cubic and antialiased modes: weighted taps along one
dimension (``interp_taps`` builds them as PyTorch weighs them), applied one spatial dimension at a time.

A grid holds, for each output pixel, the normalised (x, y) position in the input it reads: -1 and +1 are the
centres of the edge pixels with ``align_corners=True`` and their outer edges otherwise.
"""
import math

import numpy as np

from .. import creation
from ..dtypes import float32, float64, int64
from ..autograd.function import Function
from ..autograd.grad_mode import _state
from . import launch
from .common import type_label, warn
from .shape import stack

_MODES = {"bilinear": 0, "nearest": 1, "bicubic": 2}
_PADDING = {"zeros": 0, "border": 1, "reflection": 2}
_ALIGN_WARNING = ("Default grid_sample and affine_grid behavior has changed to align_corners=False since 1.3.0. "
                  "Please specify align_corners=True if the old behavior is desired. See the documentation of "
                  "grid_sample for details.")


def _contig(t):
    return t if t._contig else launch.contiguous(t)


def _flat(t):
    return t._storage[t._offset:t._offset + t.numel()]


class GridSample(Function):
    """(N, C, *in) sampled at grid (N, *out, k) -> (N, C, *out) for k = 2 (4-D input) or 3 (5-D input); gradients
    to the input and the grid."""

    @staticmethod
    @launch.half_compute()
    def forward(ctx, x, grid, mode, padding_mode, align_corners):
        x, grid = _contig(x), _contig(grid)
        N, C = x._shape[0], x._shape[1]
        spatial = grid._shape[1:-1]
        L = math.prod(spatial)
        out = launch.empty((N, C) + spatial, x._dtype, x._device)
        if out.numel():
            k = launch._k(x).sample
            if x.dim() == 4:
                k.grid_sample_2d(_flat(x), _flat(grid), out._storage, N, C, *x._shape[2:], L, mode, padding_mode,
                                 align_corners)
            else:
                k.grid_sample_3d(_flat(x), _flat(grid), out._storage, N, C, *x._shape[2:], L, mode, padding_mode,
                                 align_corners)
        ctx.save_for_backward(x, grid)
        ctx.conf = (mode, padding_mode, align_corners)
        return out

    @staticmethod
    @launch.half_compute()
    def backward(ctx, g):
        x, grid = ctx.saved_tensors
        mode, padding_mode, align_corners = ctx.conf
        if _state.enabled:
            raise RuntimeError("double backward (create_graph=True) through grid_sample is not supported by minitorch")
        need_x, need_grid = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        N, C = x._shape[0], x._shape[1]
        L = math.prod(grid._shape[1:-1])
        g = _contig(g)
        # the kernel adds into gx and writes every element of ggrid; a part not asked for gets a 1-element stand-in
        gx = launch.empty(x._shape if need_x else (1,), g._dtype, g._device)
        launch.fill_(gx, 0)
        ggrid = launch.empty(grid._shape if need_grid else (1,), g._dtype, g._device)
        if not g.numel():
            launch.fill_(ggrid, 0)
        if g.numel() and (need_x or need_grid):
            k = launch._k(g).sample
            fn = k.grid_sample_2d_backward if x.dim() == 4 else k.grid_sample_3d_backward
            fn(_flat(x), _flat(grid), _flat(g), gx._storage, ggrid._storage, N, C, *x._shape[2:], L, mode,
               padding_mode, align_corners, need_x, need_grid)
        return (gx if need_x else None), (ggrid if need_grid else None), None, None, None


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """Sample ``input`` at the normalised positions of ``grid``.

    Shape: input (N, C, H, W), grid (N, Ho, Wo, 2) holding (x, y) in [-1, 1]; output (N, C, Ho, Wo). 5-D:
    input (N, C, D, H, W), grid (N, Do, Ho, Wo, 3) holding (x, y, z); output (N, C, Do, Ho, Wo).
    mode: 'bilinear' (trilinear on 5-D input), 'nearest' or 'bicubic' (4-D input); padding_mode: 'zeros',
    'border' or 'reflection'.

    Example::

        >>> theta = torch.tensor([[[1., 0., 0.], [0., 1., 0.]]])
        >>> x = torch.arange(4.).reshape(1, 1, 2, 2)
        >>> F.grid_sample(x, F.affine_grid(theta, (1, 1, 2, 2), align_corners=False), align_corners=False)
    """
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' or 'bicubic', but "
                         f"got: '{mode}'")
    if padding_mode not in _PADDING:
        raise ValueError("nn.functional.grid_sample(): expected padding_mode to be 'zeros', 'border', or "
                         f"'reflection', but got: '{padding_mode}'")
    if align_corners is None:
        warn(_ALIGN_WARNING)
        align_corners = False
    if input.device != grid.device:
        raise RuntimeError(f"grid_sampler(): expected input and grid to be on same device, but input is on "
                           f"{input.device} and grid is on {grid.device}")
    if input.dim() == 0 or grid.dim() == 0 or input.shape[0] != grid.shape[0]:
        raise RuntimeError(f"grid_sampler(): expected grid and input to have same batch size, but got input with "
                           f"sizes {list(input.shape)} and grid with sizes {list(grid.shape)}")
    if grid.shape[-1] != input.dim() - 2:
        raise RuntimeError(f"grid_sampler(): expected grid to have size {input.dim() - 2} in last dimension, but got "
                           f"grid with sizes {list(grid.shape)}")
    if input.dim() not in (4, 5) or grid.dim() != input.dim():
        raise RuntimeError(f"grid_sampler(): expected 4D or 5D input and grid with same number of dimensions, but got "
                           f"input with sizes {list(input.shape)} and grid with sizes {list(grid.shape)}")
    for d in range(2, input.dim()):
        if input.shape[d] == 0:
            raise RuntimeError(f"grid_sampler(): expected input to have non-empty spatial dimensions, but input has "
                               f"sizes {list(input.shape)} with dimension {d} being empty")
    if mode == "bicubic" and input.dim() != 4:
        raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")
    if not input.dtype.is_floating_point:
        kernel = "grid_sampler_2d_cpu_kernel_impl" if input.dim() == 4 else "grid_sampler3d_cpu"
        raise NotImplementedError(f'"{kernel}" not implemented for \'{type_label(input.dtype)}\'')
    if grid.dtype is not input.dtype:
        raise RuntimeError(f"expected scalar type {type_label(input.dtype)} but found {type_label(grid.dtype)}")
    return GridSample.apply(input, grid, _MODES[mode], _PADDING[padding_mode], bool(align_corners))


def _base_line(n, align_corners, like):
    """The n normalised pixel positions along one dim: centres of the pixels (edges at +-1 unless aligned)."""
    if n <= 1:
        return creation.zeros(n, dtype=like.dtype, device=like.device)
    line = creation.linspace(-1.0, 1.0, n, dtype=like.dtype, device=like.device)
    return line if align_corners else line * ((n - 1) / n)


def affine_grid(theta, size, align_corners=None):
    """The sampling grid of a batch of affine maps ``theta`` for an output of ``size``.

    Shape: theta (N, 2, 3) with size (N, C, H, W) -> (N, H, W, 2); theta (N, 3, 4) with size (N, C, D, H, W)
    -> (N, D, H, W, 3). Each output pixel's normalised (x, y[, z], 1) is mapped by theta.

    Example::

        >>> F.affine_grid(torch.eye(2, 3).unsqueeze(0), (1, 1, 4, 4), align_corners=False).shape
        (1, 4, 4, 2)
    """
    if align_corners is None:
        warn(_ALIGN_WARNING)
        align_corners = False
    if not theta.dtype.is_floating_point:
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    if len(size) == 4:
        if theta.dim() != 3 or tuple(theta.shape[-2:]) != (2, 3):
            raise ValueError(f"Expected a batch of 2D affine matrices of shape Nx2x3 for size {size}. Got "
                             f"{theta.shape}.")
        spatial = tuple(size[-2:])
    elif len(size) == 5:
        if theta.dim() != 3 or tuple(theta.shape[-2:]) != (3, 4):
            raise ValueError(f"Expected a batch of 3D affine matrices of shape Nx3x4 for size {size}. Got "
                             f"{theta.shape}.")
        spatial = tuple(size[-3:])
    else:
        raise NotImplementedError(f"affine_grid only supports 4D and 5D sizes, for 2D and 3D affine transforms, "
                                  f"respectively. Got size {size}.")
    if align_corners and min(spatial) == 1:
        warn("Since version 1.3.0, affine_grid behavior has changed for unit-size grids when align_corners=True. "
             "This is not an intended use case of affine_grid. See the documentation of affine_grid for details.")
    elif min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")
    N = int(size[0])
    if theta.shape[0] != N:
        raise RuntimeError(f"affine_grid(): expected theta with batch size {N} for size {tuple(size)}, but got theta "
                           f"of sizes {list(theta.shape)}")
    k = len(spatial)
    # base (P, k + 1): the positions (x, y[, z], 1) of the P output pixels, x varying fastest
    lines = [_base_line(int(n), align_corners, theta) for n in reversed(spatial)]  # x, y[, z]
    cols = []
    for i, line in enumerate(lines):
        shape = [1] * k
        shape[k - 1 - i] = line.shape[0]
        cols.append(line.reshape(shape).expand(*spatial).reshape(-1))
    cols.append(creation.ones(cols[0].shape[0], dtype=theta.dtype, device=theta.device))
    base = stack(cols, 1)
    grid = base.unsqueeze(0) @ theta.transpose(1, 2)
    return grid.reshape((N,) + tuple(int(n) for n in spatial) + (k,))


# ---------------------------------------------------------------------------------------------------------------
# resampling along one dimension
# ---------------------------------------------------------------------------------------------------------------
def _keys_cubic(x, a):
    """Keys' cubic convolution kernel with parameter ``a`` (-0.75 for bicubic, -0.5 antialiased, as Pillow)."""
    x = np.abs(x)
    one, two = x.dtype.type(1), x.dtype.type(2)
    near = ((a + two) * x - (a + 3)) * x * x + one
    far = ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return np.where(x < one, near, np.where(x < two, far, x.dtype.type(0)))


def _lanczos3(x):
    return np.where(np.abs(x) < 3, np.sinc(x) * np.sinc(x / 3), 0.0)


_AA_FILTERS = {"bilinear": (1.0, lambda x: np.maximum(0.0, 1.0 - np.abs(x))),
               "bicubic": (2.0, lambda x: _keys_cubic(x, -0.5)),
               "lanczos": (3.0, _lanczos3)}


def interp_taps(n_in, n_out, mode, align_corners=False, scale=None, antialias=False, single=False):
    """The input indices each of n_out samples reads along one dimension of n_in, and their weights: (int64, float64)
    arrays of shape (n_out, taps), as PyTorch's ``F.interpolate`` places and weighs them. ``mode``: 'linear' (any
    of linear/bilinear/trilinear), 'bicubic' or, with ``antialias``, 'bilinear'/'bicubic'/'lanczos'. ``scale``:
    input samples per output sample where the caller was given a scale factor (else n_in / n_out); with
    ``align_corners`` the end samples' centres map onto each other instead.
    * linear: two taps around the source position ``(j + 0.5) * scale - 0.5``, clamped at 0 (``j * scale`` with
      align_corners);
    * bicubic: four taps around the unclamped source position, Keys' kernel with a = -0.75, indices clamped to the
      edge;
    * antialias: the filter (triangle, Keys a = -0.5, or Lanczos-3) stretched over ``scale`` inputs when shrinking,
      centred at ``scale * (j + 0.5)``, over the inputs inside the image, normalised to sum to 1.
    ``single``: place linear and cubic taps in float32 arithmetic, as PyTorch does for float32 input."""
    ft = np.float32 if single and not antialias else np.float64
    if align_corners:
        scale = ft(n_in - 1) / ft(n_out - 1) if n_out > 1 else ft(0.0)
    else:
        scale = ft(n_in) / ft(n_out) if scale is None else ft(scale)
    j = np.arange(n_out, dtype=ft)
    if antialias:
        half, kernel = _AA_FILTERS["bilinear" if mode == "linear" else mode]
        support = half * scale if scale >= 1.0 else half
        invscale = 1.0 / scale if scale >= 1.0 else 1.0
        centre = scale * (j + 0.5)
        lo = np.maximum(np.trunc(centre - support + 0.5).astype(np.int64), 0)
        hi = np.minimum(np.trunc(centre + support + 0.5).astype(np.int64), n_in)
        taps = lo[:, None] + np.arange(max(int((hi - lo).max()), 1))[None, :]
        wts = kernel((taps - centre[:, None] + 0.5) * invscale) * (taps < hi[:, None])
        total = wts.sum(axis=1, keepdims=True)
        wts = np.divide(wts, total, out=np.zeros_like(wts), where=total != 0)
        return np.minimum(taps, n_in - 1), wts
    pos = j * scale if align_corners else (j + ft(0.5)) * scale - ft(0.5)
    if mode == "bicubic":
        i0 = np.floor(pos).astype(np.int64)
        t = pos - i0.astype(ft)
        ks = np.arange(-1, 3).astype(ft)
        return np.clip(i0[:, None] + np.arange(-1, 3), 0, n_in - 1), _keys_cubic(t[:, None] - ks, ft(-0.75))
    pos = np.maximum(pos, ft(0.0))
    i0 = np.minimum(np.floor(pos).astype(np.int64), n_in - 1)
    lam = pos - i0.astype(ft)
    return np.stack([i0, np.minimum(i0 + 1, n_in - 1)], 1), np.stack([ft(1.0) - lam, lam], 1)


def _resample_geometry(shape, dim, n_out):
    return math.prod(shape[:dim]), shape[dim], math.prod(shape[dim + 1:]), n_out


class Resample(Function):
    """x -> the taps (idx, w: flat tensors on x's device, T per output sample) of x along ``dim``, weighed; linear in
    x, so its backward is ``ResampleTranspose`` and that one's is this (double backward works)."""

    @staticmethod
    @launch.half_compute()
    def forward(ctx, x, dim, n_out, T, idx, w):
        x = _contig(x)
        outer, n_in, inner, _ = _resample_geometry(x._shape, dim, n_out)
        shape = x._shape[:dim] + (n_out,) + x._shape[dim + 1:]
        out = launch.empty(shape, x._dtype, x._device)
        if out.numel():
            launch._k(x).sample.resample(_flat(x), out._storage, idx._storage, w._storage, outer, n_in, inner, n_out, T)
        ctx.conf = (x._shape, dim, n_out, T, idx, w)
        return out

    @staticmethod
    def backward(ctx, g):
        shape, dim, n_out, T, idx, w = ctx.conf
        return ResampleTranspose.apply(g, shape, dim, T, idx, w), None, None, None, None, None


class ResampleTranspose(Function):
    """The adjoint of ``Resample``: g (taps' outputs along ``dim``) -> a tensor of ``shape``."""

    @staticmethod
    @launch.half_compute()
    def forward(ctx, g, shape, dim, T, idx, w):
        g = _contig(g)
        n_out = g._shape[dim]
        outer, n_in, inner, _ = _resample_geometry(shape, dim, n_out)
        gx = launch.empty(shape, g._dtype, g._device)
        if gx.numel():
            launch._k(g).sample.resample_backward(_flat(g), gx._storage, idx._storage, w._storage, outer, n_in, inner,
                                                  n_out, T)
        ctx.conf = (dim, n_out, T, idx, w)
        return gx

    @staticmethod
    def backward(ctx, gg):
        dim, n_out, T, idx, w = ctx.conf
        return Resample.apply(gg, dim, n_out, T, idx, w), None, None, None, None, None


def resample(x, dim, idx, w):
    """``x`` resampled along ``dim`` by the taps ``idx``/``w`` ((n_out, T) NumPy arrays, as ``interp_taps`` gives;
    every index in [0, x.shape[dim])): out[..., j, ...] = sum_t w[j, t] * x[..., idx[j, t], ...], differentiable
    in x. Weights are taken in x's dtype (float32 for 16-bit floats)."""
    n_out, T = idx.shape
    if idx.size and (idx.min() < 0 or idx.max() >= x.shape[dim]):
        raise IndexError(f"resample: tap index out of range for dimension {dim} of size {x.shape[dim]}")
    wdt = float64 if x.dtype is float64 else float32
    idx_t = creation.tensor(np.ascontiguousarray(idx, np.int64).reshape(-1), dtype=int64, device=x.device)
    w_t = creation.tensor(np.ascontiguousarray(w).reshape(-1), dtype=wdt, device=x.device)
    return Resample.apply(x, dim, n_out, T, idx_t, w_t)
