"""Geometric functional transforms (resize, crops, affine, rotate, perspective, blur, erase), as torchvision's.

PIL images go through Pillow's own operations, as in torchvision. Tensors ``(..., C, H, W)`` and NumPy ``HxW[xC]``
arrays follow torchvision's tensor path, computed with vectorised NumPy on the host:

* resizing is separable: one interpolation matrix per axis, built the way PyTorch's ``F.interpolate`` weighs its
  taps (with and without ``antialias``), applied as two matrix products;
* affine, rotate and perspective warps map every output pixel centre back into the input with torchvision's
  grid (``align_corners=False``) and sample it as ``grid_sample`` does: nearest rounds half to even, bilinear
  weighs the four neighbours, samples outside the image count as zero, and a ``fill`` is blended in through a
  sampled mask of ones, exactly as torchvision does it.

Integer images are computed in float and rounded back. This module is re-exported by ``functional``.
"""
import math
import numbers
import warnings

import numpy as np

from minitorch.ops.sample import interp_taps
from minitorch.tensor import Tensor

from .functional import (_PIL_FILTERS, Image, InterpolationMode, _cast_like, _check_image, _interp_mode, _is_pil,
                         _like, _planes, center_crop, crop, get_dimensions, hflip, vflip)

__all__ = ["get_image_size", "get_image_num_channels", "resize", "resized_crop", "five_crop", "ten_crop", "affine",
           "rotate", "perspective", "gaussian_blur", "erase"]


def get_image_size(img):
    """``[width, height]`` of an image."""
    _, height, width = get_dimensions(img)
    return [width, height]


def get_image_num_channels(img):
    """The number of channels of an image."""
    return get_dimensions(img)[0]


# ----------------------------------------------------------------------------------------------------------------
# resize
# ----------------------------------------------------------------------------------------------------------------
def _nearest_index(in_size, out_size, exact):
    """Source index of every output sample (float32 arithmetic, as PyTorch's nearest kernels)."""
    scale = np.float32(in_size) / np.float32(out_size)
    pos = np.arange(out_size, dtype=np.float32) + (np.float32(0.5) if exact else np.float32(0))
    return np.minimum(np.floor(pos * scale).astype(np.int64), in_size - 1)


def _interp_taps(in_size, out_size, mode, antialias):
    """Per output sample, the input indices it reads and their weights: two (out_size, taps) arrays, weighed the way
    PyTorch's ``F.interpolate(align_corners=False)`` weighs them (``ops.sample.interp_taps``)."""
    kind = "linear" if mode == "bilinear" and not antialias else mode
    return interp_taps(in_size, out_size, kind, False, None, antialias)


def _apply_taps(a, idx, wts, axis):
    """Weighted sums of taps along ``axis`` (-1 or -2) of ``a``, as one matrix product for all planes with the
    dense (out, in) interpolation matrix (BLAS beats per-tap gathers even for strong shrinks)."""
    in_size, n_out = a.shape[axis], idx.shape[0]
    dense = np.zeros((n_out, in_size), dtype=wts.dtype)
    np.add.at(dense, (np.broadcast_to(np.arange(n_out)[:, None], idx.shape), idx), wts)
    if axis == -1:
        return (a.reshape(-1, in_size) @ dense.T).reshape(a.shape[:-1] + (n_out,))
    # (out, H) @ (H, planes * W)
    planes = a.reshape(-1, in_size, a.shape[-1])
    stacked = planes.transpose(1, 0, 2).reshape(in_size, -1)
    out = (dense @ stacked).reshape(n_out, planes.shape[0], a.shape[-1]).transpose(1, 0, 2)
    return out.reshape(a.shape[:-2] + (n_out, a.shape[-1]))


def _resize_planes(a, new_h, new_w, mode, antialias):
    """Resize planes ``a`` (..., H, W) the way torchvision's tensor ``resize`` (``F.interpolate``) does."""
    h, w = a.shape[-2:]
    if mode in ("nearest", "nearest-exact"):
        exact = mode == "nearest-exact"
        rows, cols = _nearest_index(h, new_h, exact), _nearest_index(w, new_w, exact)
        return a[..., rows[:, None], cols[None, :]]
    if mode not in ("bilinear", "bicubic"):
        raise ValueError(f"Interpolation mode '{mode}' is unsupported with Tensor input: tensors and arrays take "
                         "nearest, nearest-exact, bilinear or bicubic")
    # float32 images in float32 (as F.interpolate), everything else in float64
    work = np.float32 if a.dtype in (np.float32, np.float16, np.uint8, np.int8, np.bool_) else np.float64
    src = a.astype(work, copy=False)
    rows = [t.astype(work) if t.dtype.kind == "f" else t for t in _interp_taps(h, new_h, mode, antialias)]
    cols = [t.astype(work) if t.dtype.kind == "f" else t for t in _interp_taps(w, new_w, mode, antialias)]
    if h == new_h:
        out = _apply_taps(src, *cols, -1)
    elif w == new_w:
        out = _apply_taps(src, *rows, -2)
    elif new_h / h <= new_w / w:  # shrink the axis that shrinks most first: fewer samples for the second pass
        out = _apply_taps(_apply_taps(src, *rows, -2), *cols, -1)
    else:
        out = _apply_taps(_apply_taps(src, *cols, -1), *rows, -2)
    if a.dtype.kind == "f":
        return out.astype(a.dtype)
    return _cast_like(out, a.dtype)  # rounded (and clamped, as torchvision clamps bicubic uint8)


def _resized_size(height, width, size, max_size):
    """torchvision's output size: ``size`` (h, w), or the smaller edge matched to ``size[0]`` (capped by max_size)."""
    short, long = (width, height) if width <= height else (height, width)
    if size is None:
        if not isinstance(max_size, int):
            raise ValueError(f"max_size must be an integer when size is None, but got {max_size} instead.")
        new_short, new_long = int(max_size * short / long), max_size
    elif len(size) == 1:
        requested = size[0]
        new_short, new_long = requested, int(requested * long / short)
        if max_size is not None:
            if max_size <= requested:
                raise ValueError(f"max_size = {max_size} must be strictly greater than the requested size for the "
                                 f"smaller edge size = {size}")
            if new_long > max_size:
                new_short, new_long = int(max_size * new_short / new_long), max_size
    else:
        return int(size[0]), int(size[1])
    new_w, new_h = (new_short, new_long) if width <= height else (new_long, new_short)
    return int(new_h), int(new_w)


def resize(img, size, interpolation=InterpolationMode.BILINEAR, max_size=None, antialias=True):
    """Resize to ``size`` (h, w), or so that the smaller edge is ``size`` when it is an int (or a 1-sequence).

    Args:
        img: PIL image, or tensor ``(..., C, H, W)`` (any number of leading dims).
        size: (h, w); an int or ``[int]`` matches the smaller edge, keeping the aspect ratio; None with
            ``max_size`` scales the longer edge to ``max_size``.
        interpolation: tensors take NEAREST, NEAREST_EXACT, BILINEAR or BICUBIC (PIL images any mode; Pillow
            constants are accepted too).
        max_size: upper bound of the longer edge after a smaller-edge resize.
        antialias: smooth before shrinking (bilinear/bicubic tensors), as ``F.interpolate(antialias=True)``;
            PIL images are always antialiased.

    Example::

        >>> resize(minitorch.rand(3, 64, 48), 32).shape
        minitorch.Size([3, 42, 32])
    """
    mode = _interp_mode(interpolation)
    if isinstance(size, (list, tuple)):
        if len(size) not in (1, 2):
            raise ValueError(f"Size must be an int or a 1 or 2 element tuple/list, not a {len(size)} element "
                             "tuple/list")
        if max_size is not None and len(size) != 1:
            raise ValueError("max_size should only be passed if size is None or specifies the length of the "
                             "smaller edge, i.e. size should be an int or a sequence of length 1 in torchscript mode.")
    elif isinstance(size, numbers.Integral) and not isinstance(size, bool):
        size = [int(size)]
    elif size is not None:
        raise TypeError(f"Size should be int or sequence. Got {type(size)}")
    _check_image(img, "resize")
    _, h, w = get_dimensions(img)
    new_h, new_w = _resized_size(h, w, size, max_size)
    if (new_h, new_w) == (h, w):
        return img
    if _is_pil(img):
        if antialias is False:
            warnings.warn("Anti-alias option is always applied for PIL Image input. Argument antialias is ignored.")
        return img.resize((new_w, new_h), _PIL_FILTERS[mode])
    return _like(img, _resize_planes(_planes(img), new_h, new_w, mode, bool(antialias)))


def resized_crop(img, top, left, height, width, size, interpolation=InterpolationMode.BILINEAR, antialias=True):
    """Crop the ``height x width`` window at (top, left), then resize it to ``size`` (see ``resize``)."""
    img = crop(img, top, left, height, width)
    return resize(img, size, interpolation, antialias=antialias)


# ----------------------------------------------------------------------------------------------------------------
# five / ten crops
# ----------------------------------------------------------------------------------------------------------------
def _crop_size(size):
    if isinstance(size, numbers.Number):
        size = (int(size), int(size))
    elif isinstance(size, (tuple, list)) and len(size) == 1:
        size = (size[0], size[0])
    if len(size) != 2:
        raise ValueError("Please provide only two dimensions (h, w) for size.")
    return size


def five_crop(img, size):
    """The four corner crops and the central crop of size ``size``: ``(tl, tr, bl, br, center)``."""
    size = _crop_size(size)
    _, image_height, image_width = get_dimensions(img)
    crop_height, crop_width = size
    if crop_width > image_width or crop_height > image_height:
        raise ValueError(f"Requested crop size {size} is bigger than input size {(image_height, image_width)}")
    bottom, right = image_height - crop_height, image_width - crop_width
    tl = crop(img, 0, 0, crop_height, crop_width)
    tr = crop(img, 0, right, crop_height, crop_width)
    bl = crop(img, bottom, 0, crop_height, crop_width)
    br = crop(img, bottom, right, crop_height, crop_width)
    return tl, tr, bl, br, center_crop(img, [crop_height, crop_width])


def ten_crop(img, size, vertical_flip=False):
    """``five_crop`` of the image, then of its mirror image (left-right, or top-bottom with ``vertical_flip``)."""
    size = _crop_size(size)
    flipped = vflip(img) if vertical_flip else hflip(img)
    return five_crop(img, size) + five_crop(flipped, size)


# ----------------------------------------------------------------------------------------------------------------
# grid warps: affine, rotate, perspective
# ----------------------------------------------------------------------------------------------------------------
def _check_interpolation(interpolation):
    """torchvision's functional check: an InterpolationMode, or a Pillow integer constant."""
    if isinstance(interpolation, numbers.Integral) and not isinstance(interpolation, bool):
        return _interp_mode(interpolation)
    if not isinstance(interpolation, InterpolationMode):
        raise TypeError("Argument interpolation should be a InterpolationMode or a corresponding Pillow integer "
                        "constant")
    return interpolation.value


def _check_warp_inputs(a, mode, fill):
    """torchvision's checks of a tensor warp: the fill broadcasts to the channels, the mode is nearest/bilinear."""
    channels = 1 if a.ndim == 2 else a.shape[-3]
    if isinstance(fill, (tuple, list)):
        if len(fill) > 1 and len(fill) != channels:
            raise ValueError("The number of elements in 'fill' cannot broadcast to match the number of channels of "
                             f"the image ({len(fill)} != {channels})")
    elif fill is not None and not isinstance(fill, numbers.Number):
        raise ValueError("Argument fill should be either int, float, tuple or list")
    if mode not in ("nearest", "bilinear"):
        raise ValueError(f"Interpolation mode '{mode}' is unsupported with Tensor input")


def _grid_sample(a, x, y, mode, fill):
    """Sample planes ``a`` (..., H, W) at pixel positions (x, y) (pixel centres at integers), as torchvision does:
    ``grid_sample(padding_mode="zeros", align_corners=False)`` plus its fill mask."""
    h, w = a.shape[-2:]
    src = a if a.dtype.kind == "f" else a.astype(np.float32)
    if mode == "nearest":
        ix, iy = np.rint(x), np.rint(y)  # half to even, as grid_sample's nearbyint
        mask = ((ix >= 0) & (ix <= w - 1) & (iy >= 0) & (iy <= h - 1)).astype(np.float64)
        ix = np.clip(ix, 0, w - 1).astype(np.intp)
        iy = np.clip(iy, 0, h - 1).astype(np.intp)
        out = np.where(mask > 0, src[..., iy, ix], 0.0)
    else:
        x0, y0 = np.floor(x), np.floor(y)
        fx, fy = x - x0, y - y0
        out, mask = 0.0, 0.0
        for dy, wy in ((0, 1.0 - fy), (1, fy)):
            for dx, wx in ((0, 1.0 - fx), (1, fx)):
                xi, yi = x0 + dx, y0 + dy
                weight = wy * wx * ((xi >= 0) & (xi <= w - 1) & (yi >= 0) & (yi <= h - 1))
                xi = np.clip(xi, 0, w - 1).astype(np.intp)
                yi = np.clip(yi, 0, h - 1).astype(np.intp)
                out = out + np.where(weight > 0, src[..., yi, xi], 0.0) * weight
                mask = mask + weight
    if fill is not None:
        values = [float(fill)] if isinstance(fill, numbers.Number) else [float(f) for f in fill]
        fill_img = np.array(values).reshape(-1, 1, 1) if len(values) > 1 else values[0]
        if mode == "nearest":
            out = np.where(mask < 0.5, fill_img, out)
        else:
            out = out * mask + (1.0 - mask) * fill_img
    if a.dtype.kind == "f":
        return np.asarray(out, dtype=a.dtype)
    return _cast_like(np.asarray(out), a.dtype)


def _warp(img, mode, fill, coordinates, out_size=None):
    """Apply a tensor/array warp: ``coordinates(w, h, ow, oh)`` gives the input position of every output pixel."""
    a = _planes(img)
    _check_warp_inputs(a, mode, fill)
    h, w = a.shape[-2:]
    ow, oh = out_size if out_size is not None else (w, h)
    x, y = coordinates(w, h, ow, oh)
    return _like(img, _grid_sample(a, x, y, mode, fill))


def _inverse_affine_matrix(center, angle, translate, scale, shear):
    """The 2x3 matrix (flattened) mapping output positions back to input positions.

    The forward map is ``T * C * R(angle) * S(scale) * Shear_y * Shear_x * C^-1`` (angles in degrees, clockwise in
    image coordinates, shears along x then y); its inverse is returned, as Pillow's ``transform`` wants.
    """
    rot = math.radians(angle)
    sx, sy = math.radians(shear[0]), math.radians(shear[1])
    cx, cy = center
    tx, ty = translate
    # rotation times shear, scale left out: a unit-determinant 2x2 [[a, b], [c, d]]
    a = math.cos(rot - sy) / math.cos(sy)
    b = -math.cos(rot - sy) * math.tan(sx) / math.cos(sy) - math.sin(rot)
    c = math.sin(rot - sy) / math.cos(sy)
    d = -math.sin(rot - sy) * math.tan(sx) / math.cos(sy) + math.cos(rot)
    m = [v / scale for v in (d, -b, 0.0, -c, a, 0.0)]
    m[2] += m[0] * (-cx - tx) + m[1] * (-cy - ty) + cx
    m[5] += m[3] * (-cx - tx) + m[4] * (-cy - ty) + cy
    return m


def _affine_coordinates(matrix):
    """Input pixel positions for a matrix in centred coordinates (torchvision's tensor convention)."""
    def coordinates(w, h, ow, oh):
        xo = np.arange(ow) - ow * 0.5 + 0.5  # output pixel centres relative to the output centre
        yo = np.arange(oh) - oh * 0.5 + 0.5
        x = matrix[0] * xo[None, :] + matrix[1] * yo[:, None] + matrix[2]
        y = matrix[3] * xo[None, :] + matrix[4] * yo[:, None] + matrix[5]
        # through grid_sample's normalised grid and back, as torchvision, so ties round the same way
        gx, gy = x / (0.5 * w), y / (0.5 * h)
        return ((gx + 1) * w - 1) / 2, ((gy + 1) * h - 1) / 2
    return coordinates


def _affine_output_size(matrix, w, h):
    """(width, height) holding the whole transformed image (rotate's ``expand``)."""
    corners = np.array([[-0.5 * w, -0.5 * h], [-0.5 * w, 0.5 * h], [0.5 * w, 0.5 * h], [0.5 * w, -0.5 * h]])
    m = np.array(matrix, dtype=np.float32).reshape(2, 3).astype(np.float64)
    pts = corners @ m[:, :2].T + m[:, 2]
    lo = pts.min(axis=0) + (w * 0.5, h * 0.5)
    hi = pts.max(axis=0) + (w * 0.5, h * 0.5)
    tol = 1e-4  # drop float noise first, so that 1e-15 above an integer does not ceil to the next one
    size = np.ceil(np.trunc(hi / tol) * tol) - np.floor(np.trunc(lo / tol) * tol)
    return int(size[0]), int(size[1])


def _pil_fillcolor(img, fill):
    """torchvision's fill for Pillow's ``fillcolor``: one value per band, ints unless the image is float."""
    channels = len(img.getbands())
    if fill is None:
        fill = 0
    if isinstance(fill, (int, float)) and channels > 1:
        fill = tuple([fill] * channels)
    if isinstance(fill, (list, tuple)):
        if len(fill) == 1:
            fill = tuple(fill) * channels
        elif len(fill) != channels:
            raise ValueError("The number of elements in 'fill' does not match the number of channels of the image "
                             f"({len(fill)} != {channels})")
        fill = tuple(fill)
    if img.mode != "F":
        fill = tuple(int(v) for v in fill) if isinstance(fill, tuple) else int(fill)
    return fill


def affine(img, angle, translate, scale, shear, interpolation=InterpolationMode.NEAREST, fill=None, center=None):
    """Rotate, translate, scale and shear, keeping ``center`` (default: the image centre) fixed.

    Args:
        angle: rotation in degrees, clockwise.
        translate: (tx, ty) post-rotation translation in pixels.
        scale: overall scale (> 0).
        shear: degrees; a number shears along x, (sx, sy) along x then y.
        interpolation: NEAREST or BILINEAR for tensors (PIL images also BICUBIC).
        fill: value(s) for the area outside the transformed image; None leaves tensors' outside at zero.
        center: (x, y) in pixels from the top-left corner.
    """
    mode = _check_interpolation(interpolation)
    if not isinstance(angle, (int, float)):
        raise TypeError("Argument angle should be int or float")
    if not isinstance(translate, (list, tuple)):
        raise TypeError("Argument translate should be a sequence")
    if len(translate) != 2:
        raise ValueError("Argument translate should be a sequence of length 2")
    if scale <= 0.0:
        raise ValueError("Argument scale should be positive")
    if not isinstance(shear, (numbers.Number, list, tuple)):
        raise TypeError("Shear should be either a single value or a sequence of two values")
    if isinstance(shear, numbers.Number):
        shear = [shear, 0.0]
    shear = list(shear)
    if len(shear) == 1:
        shear = [shear[0], shear[0]]
    if len(shear) != 2:
        raise ValueError(f"Shear should be a sequence containing two values. Got {shear}")
    if center is not None and not isinstance(center, (list, tuple)):
        raise TypeError("Argument center should be a sequence")
    _check_image(img, "affine")
    angle = float(angle)
    _, height, width = get_dimensions(img)
    if _is_pil(img):
        if center is None:
            center = [width * 0.5, height * 0.5]
        matrix = _inverse_affine_matrix(center, angle, translate, scale, shear)
        return img.transform(img.size, Image.Transform.AFFINE, matrix, _PIL_FILTERS[mode],
                             fillcolor=_pil_fillcolor(img, fill))
    # tensors: centred coordinates, the image centre at (0, 0)
    center_f = [0.0, 0.0] if center is None else [c - s * 0.5 for c, s in zip(center, (width, height))]
    matrix = _inverse_affine_matrix(center_f, angle, [float(t) for t in translate], scale, shear)
    return _warp(img, mode, fill, _affine_coordinates(matrix))


def rotate(img, angle, interpolation=InterpolationMode.NEAREST, expand=False, center=None, fill=None):
    """Rotate by ``angle`` degrees counter-clockwise about ``center`` (default: the image centre).

    ``expand`` grows the output to hold the whole rotated image; ``fill`` colours the area outside it (None
    leaves a tensor's outside at zero). Tensors take NEAREST or BILINEAR.
    """
    mode = _check_interpolation(interpolation)
    if not isinstance(angle, (int, float)):
        raise TypeError("Argument angle should be int or float")
    if center is not None and not isinstance(center, (list, tuple)):
        raise TypeError("Argument center should be a sequence")
    _check_image(img, "rotate")
    if _is_pil(img):
        return img.rotate(angle, resample=_PIL_FILTERS[mode], expand=expand, center=center,
                          fillcolor=_pil_fillcolor(img, fill))
    _, height, width = get_dimensions(img)
    center_f = [0.0, 0.0] if center is None else [c - s * 0.5 for c, s in zip(center, (width, height))]
    # affine's angle turns clockwise: rotate's counter-clockwise angle is its negative
    matrix = _inverse_affine_matrix(center_f, -float(angle), [0.0, 0.0], 1.0, [0.0, 0.0])
    out_size = _affine_output_size(matrix, width, height) if expand else None
    return _warp(img, mode, fill, _affine_coordinates(matrix), out_size)


def _perspective_coeffs(startpoints, endpoints):
    """The 8 coefficients mapping output (end) points to input (start) points, solved in float64 and rounded to
    float32 as torchvision does: ``x_in = (c0 x + c1 y + c2) / (c6 x + c7 y + 1)``, likewise y with c3..c5."""
    if len(startpoints) != 4 or len(endpoints) != 4:
        raise ValueError(f"Please provide exactly four corners, got {len(startpoints)} startpoints and "
                         f"{len(endpoints)} endpoints.")
    A = np.zeros((8, 8), dtype=np.float64)
    for i, ((xe, ye), (xs, ys)) in enumerate(zip(endpoints, startpoints)):
        A[2 * i] = [xe, ye, 1, 0, 0, 0, -xs * xe, -xs * ye]
        A[2 * i + 1] = [0, 0, 0, xe, ye, 1, -ys * xe, -ys * ye]
    b = np.asarray(startpoints, dtype=np.float64).reshape(8)
    coeffs = np.linalg.lstsq(A, b, rcond=None)[0]
    return [float(c) for c in coeffs.astype(np.float32)]


def perspective(img, startpoints, endpoints, interpolation=InterpolationMode.BILINEAR, fill=None):
    """Warp so that the four ``startpoints`` (top-left, top-right, bottom-right, bottom-left, as [x, y]) land on
    ``endpoints``. Tensors take NEAREST or BILINEAR; ``fill`` colours the area outside the warped image."""
    coeffs = _perspective_coeffs(startpoints, endpoints)
    mode = _check_interpolation(interpolation)
    _check_image(img, "perspective")
    if _is_pil(img):
        return img.transform(img.size, Image.Transform.PERSPECTIVE, coeffs, _PIL_FILTERS[mode],
                             fillcolor=_pil_fillcolor(img, fill))

    def coordinates(w, h, ow, oh):
        x = np.arange(ow)[None, :] + 0.5  # output pixel centres, from the top-left corner
        y = np.arange(oh)[:, None] + 0.5
        den = coeffs[6] * x + coeffs[7] * y + 1.0
        gx = (coeffs[0] * x + coeffs[1] * y + coeffs[2]) / den / (0.5 * ow) - 1.0
        gy = (coeffs[3] * x + coeffs[4] * y + coeffs[5]) / den / (0.5 * oh) - 1.0
        return ((gx + 1) * w - 1) / 2, ((gy + 1) * h - 1) / 2

    return _warp(img, mode, fill, coordinates)


# ----------------------------------------------------------------------------------------------------------------
# gaussian blur, erase
# ----------------------------------------------------------------------------------------------------------------
def _gaussian_kernel1d(size, sigma):
    x = np.linspace(-(size - 1) * 0.5, (size - 1) * 0.5, size)
    pdf = np.exp(-0.5 * (x / sigma) ** 2)
    return pdf / pdf.sum()


def gaussian_blur(img, kernel_size, sigma=None):
    """Blur with a Gaussian kernel of ``kernel_size`` (kx, ky; odd) and ``sigma`` (sx, sy), reflecting the borders.

    ``sigma=None`` takes ``0.3 * ((k - 1) * 0.5 - 1) + 0.8`` per axis (torchvision's default).
    """
    if not isinstance(kernel_size, (int, list, tuple)):
        raise TypeError(f"kernel_size should be int or a sequence of integers. Got {type(kernel_size)}")
    if isinstance(kernel_size, int):
        kernel_size = [kernel_size, kernel_size]
    if len(kernel_size) != 2:
        raise ValueError(f"If kernel_size is a sequence its length should be 2. Got {len(kernel_size)}")
    for k in kernel_size:
        if k % 2 == 0 or k < 0:
            raise ValueError(f"kernel_size should have odd and positive integers. Got {kernel_size}")
    if sigma is None:
        sigma = [k * 0.15 + 0.35 for k in kernel_size]
    if not isinstance(sigma, (int, float, list, tuple)):
        raise TypeError(f"sigma should be either float or sequence of floats. Got {type(sigma)}")
    if isinstance(sigma, (int, float)):
        sigma = [float(sigma), float(sigma)]
    if len(sigma) == 1:
        sigma = [sigma[0], sigma[0]]
    if len(sigma) != 2:
        raise ValueError(f"If sigma is a sequence, its length should be 2. Got {len(sigma)}")
    for s in sigma:
        if s <= 0.0:
            raise ValueError(f"sigma should have positive values. Got {sigma}")
    if _is_pil(img):
        arr = np.asarray(img)
        planes = arr if arr.ndim == 2 else np.moveaxis(arr, -1, 0)
        out = _blur_planes(planes, kernel_size, sigma)
        out = out if out.ndim == 2 else np.moveaxis(out, 0, -1)
        return Image.fromarray(np.ascontiguousarray(out), mode=img.mode)
    if not isinstance(img, (Tensor, np.ndarray)):
        raise TypeError(f"img should be PIL Image or Tensor. Got {type(img)}")
    _check_image(img, "gaussian_blur")
    return _like(img, _blur_planes(_planes(img), kernel_size, sigma))


def _blur_planes(a, kernel_size, sigma):
    """Separable Gaussian blur of planes (..., H, W), the borders reflected (torch's "reflect" padding)."""
    kx, ky = kernel_size
    h, w = a.shape[-2:]
    px, py = kx // 2, ky // 2
    if px >= w or py >= h:
        shape = [1] * max(0, 4 - a.ndim) + list(a.shape)
        raise RuntimeError("Argument #4: Padding size should be less than the corresponding input dimension, but got: "
                           + (f"padding ({px}, {px}) at dimension {len(shape) - 1}" if px >= w else
                              f"padding ({py}, {py}) at dimension {len(shape) - 2}") + f" of input {shape}")
    dtype = a.dtype if a.dtype.kind == "f" else np.float32
    src = np.pad(a.astype(np.float64), [(0, 0)] * (a.ndim - 2) + [(py, py), (px, px)], mode="reflect")
    rows = 0.0
    for i, wt in enumerate(_gaussian_kernel1d(ky, sigma[1]).astype(dtype)):
        rows = rows + wt * src[..., i:i + h, :]
    out = 0.0
    for j, wt in enumerate(_gaussian_kernel1d(kx, sigma[0]).astype(dtype)):
        out = out + wt * rows[..., :, j:j + w]
    if a.dtype.kind == "f":
        return out.astype(a.dtype)
    return _cast_like(out, a.dtype)


def erase(img, i, j, h, w, v, inplace=False):
    """Set the ``h x w`` window at (i, j) of a tensor image ``(..., C, H, W)`` to ``v`` (a number or a tensor that
    broadcasts to the window); on a copy unless ``inplace``."""
    if not isinstance(img, Tensor):
        raise TypeError(f"img should be Tensor Image. Got {type(img)}")
    if not inplace:
        img = img.clone()
    img[..., i:i + h, j:j + w] = v
    return img
