"""Functional image transforms, as ``torchvision.transforms.functional``; the classes are in ``transforms.py``.

Transforms take a PIL image (when Pillow is installed), a NumPy ``HxW`` or ``HxWxC`` array, or a CPU tensor
``(..., C, H, W)``, and return the same kind. PIL images go through Pillow's own operations, as in torchvision.
Arrays and tensors are transformed with NumPy on the host: these are data-pipeline steps, and keeping them off the
Numba kernels lets DataLoader workers run them in forked processes (see ``minitorch.utils.data.dataloader``).
Random choices come from minitorch's default generator, so ``minitorch.manual_seed`` makes them reproducible.

Example::

    >>> transform = transforms.Compose([transforms.RandomRotation(10), transforms.ToTensor(),
    ...                                 transforms.Normalize((0.1307,), (0.3081,))])
"""
import math
import numbers
from enum import Enum

import numpy as np

import minitorch
from minitorch.tensor import Tensor

try:
    from PIL import Image, ImageOps
except ImportError:  # Pillow is optional: arrays and tensors work without it
    Image = ImageOps = None

__all__ = ["Compose", "ToTensor", "PILToTensor", "ToPILImage", "ConvertImageDtype", "Normalize", "Lambda",
           "RandomHorizontalFlip", "RandomVerticalFlip", "RandomRotation", "RandomCrop", "CenterCrop", "Resize",
           "Pad", "InterpolationMode"]


class InterpolationMode(Enum):
    """How pixels between samples are computed (PIL images support all; arrays and tensors the first three)."""

    NEAREST = "nearest"
    NEAREST_EXACT = "nearest-exact"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    BOX = "box"
    HAMMING = "hamming"
    LANCZOS = "lanczos"


_PIL_FILTERS = {"nearest": 0, "nearest-exact": 0, "bilinear": 2, "bicubic": 3, "box": 4, "hamming": 5,
                "lanczos": 1}  # PIL.Image.Resampling values


# ----------------------------------------------------------------------------------------------------------------
# image kinds
# ----------------------------------------------------------------------------------------------------------------
def _is_pil(img):
    return Image is not None and isinstance(img, Image.Image)


def _check_image(img, who):
    if not (_is_pil(img) or isinstance(img, (np.ndarray, Tensor))):
        raise TypeError(f"{who}: img should be a PIL Image, a NumPy array or a Tensor. Got {type(img)}")
    if isinstance(img, Tensor) and img.device.type != "cpu":
        raise TypeError(f"{who}: transforms run on the host, so they take CPU tensors; got a tensor on "
                        f"{img.device}. Apply them in the Dataset, before moving batches to the device.")
    if isinstance(img, np.ndarray) and img.ndim not in (2, 3):
        raise ValueError(f"{who}: a NumPy image should be HxW or HxWxC. Got shape {img.shape}")
    if isinstance(img, Tensor) and img.dim() < 2:
        raise ValueError(f"{who}: a tensor image should have at least 2 dimensions (..., H, W). Got shape "
                         f"{tuple(img.shape)}")


def _planes(img):
    """A NumPy view of an array or tensor image with the spatial dims last: ``(..., H, W)``."""
    if isinstance(img, Tensor):
        return img.numpy()
    return img if img.ndim == 2 else np.moveaxis(img, -1, 0)


def _like(img, planes):
    """``planes`` (..., H, W) back in the kind and layout of ``img`` (a fresh, contiguous, writable copy)."""
    if isinstance(img, Tensor):
        return minitorch.from_numpy(np.array(planes, dtype=planes.dtype, order="C"))
    out = planes if img.ndim == 2 else np.moveaxis(planes, 0, -1)
    return np.array(out, dtype=planes.dtype, order="C")


def get_dimensions(img):
    """``[channels, height, width]`` of an image of any supported kind."""
    if _is_pil(img):
        return [len(img.getbands()), img.height, img.width]
    if isinstance(img, Tensor):
        channels = 1 if img.dim() == 2 else img.shape[-3]
        return [channels, img.shape[-2], img.shape[-1]]
    return [1 if img.ndim == 2 else img.shape[-1], img.shape[0], img.shape[1]]


def _cast_like(values, dtype):
    """Float results of interpolation back to an image's dtype (rounded and clipped for integer images)."""
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return np.clip(np.round(values), info.min, info.max).astype(dtype)
    if dtype == np.bool_:
        return values >= 0.5
    return values.astype(dtype)


def _fill_planes(out, mask, fill):
    """Write ``fill`` (a number, or one value per channel) into ``out[..., mask]``."""
    if fill is None:
        fill = 0
    if isinstance(fill, numbers.Number):
        out[..., mask] = fill
        return out
    fill = list(fill)
    if out.ndim < 3:
        if len(fill) != 1:
            raise ValueError(f"fill has {len(fill)} values but the image has 1 channel")
        out[..., mask] = fill[0]
        return out
    channels = out.shape[-3]
    if len(fill) == 1:
        fill = fill * channels
    if len(fill) != channels:
        raise ValueError(f"fill has {len(fill)} values but the image has {channels} channels")
    for c, v in enumerate(fill):
        plane = out[..., c, :, :]
        plane[..., mask] = v
    return out


def _pil_fill(img, fill):
    if fill is None:
        return None
    bands = len(img.getbands())
    if isinstance(fill, numbers.Number):
        return fill if bands == 1 else tuple([fill] * bands)
    fill = tuple(fill)
    if len(fill) == 1 and bands > 1:
        fill = fill * bands
    if len(fill) != bands:
        raise ValueError(f"fill has {len(fill)} values but the image has {bands} bands")
    return fill[0] if bands == 1 else fill


# ----------------------------------------------------------------------------------------------------------------
# functional forms (the names and arguments of torchvision.transforms.functional)
# ----------------------------------------------------------------------------------------------------------------
def to_tensor(pic):
    """PIL image or ``HxW[xC]`` array -> ``CxHxW`` tensor; uint8 data is scaled to floats in [0, 1]."""
    if _is_pil(pic):
        # 16-bit images become int32: minitorch has no int16
        np_type = {"I": np.int32, "I;16": np.int32, "F": np.float32}.get(pic.mode, np.uint8)
        arr = np.array(pic, dtype=np_type, copy=True)
        if pic.mode == "1":
            arr = arr * np.uint8(255)
        arr = arr.reshape(pic.height, pic.width, len(pic.getbands()))
    elif isinstance(pic, np.ndarray):
        if pic.ndim not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
        arr = pic[:, :, None] if pic.ndim == 2 else pic
    else:
        raise TypeError(f"pic should be PIL Image or ndarray. Got {type(pic)}")
    chw = np.ascontiguousarray(arr.transpose(2, 0, 1))
    if chw.dtype == np.uint8:
        ftype = minitorch.get_default_dtype().np.type
        chw = chw.astype(ftype) / ftype(255)  # a true division, as PyTorch's div(255)
    elif chw.base is not None or not chw.flags.writeable:
        chw = chw.copy()
    return minitorch.from_numpy(chw)


def pil_to_tensor(pic):
    """PIL image -> ``CxHxW`` tensor of the image's own dtype, unscaled."""
    if not _is_pil(pic):
        raise TypeError(f"pic should be PIL Image. Got {type(pic)}")
    arr = np.array(pic, copy=True)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    return minitorch.from_numpy(np.ascontiguousarray(arr.transpose(2, 0, 1)))


def to_pil_image(pic, mode=None):
    """A ``CxHxW`` tensor or ``HxWxC`` array -> PIL image (float data in [0, 1] is scaled to uint8)."""
    if Image is None:
        raise ImportError("to_pil_image needs Pillow: pip install pillow")
    if isinstance(pic, Tensor):
        if pic.dim() not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {pic.dim()} dimensions.")
        arr = pic.detach().numpy()
        arr = arr[None] if arr.ndim == 2 else arr
        if arr.dtype.kind == "f" and mode != "F":
            arr = (arr * 255).astype(np.uint8)  # truncates, as torchvision's pic.mul(255).byte()
        arr = np.transpose(arr, (1, 2, 0))
    elif isinstance(pic, np.ndarray):
        if pic.ndim not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
        arr = pic[:, :, None] if pic.ndim == 2 else pic
    else:
        raise TypeError(f"pic should be Tensor or ndarray. Got {type(pic)}.")
    if arr.shape[-1] == 1:
        arr = arr[:, :, 0]
    img = Image.fromarray(np.ascontiguousarray(arr))
    return img if mode is None or img.mode == mode else img.convert(mode)


def normalize(tensor, mean, std, inplace=False):
    """``(tensor - mean) / std`` per channel of a float tensor image ``(..., C, H, W)``."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"img should be Tensor Image. Got {type(tensor)}")
    if not tensor.is_floating_point():
        raise TypeError(f"Input tensor should be a float tensor. Got {tensor.dtype}.")
    if tensor.dim() < 3:
        raise ValueError(f"Expected tensor to be a tensor image of size (..., C, H, W). Got tensor.size() = "
                         f"{tensor.size()}")
    _check_image(tensor, "normalize")
    np_dtype = tensor.dtype.np
    mean = np.asarray(mean, dtype=np_dtype).reshape(-1)
    std = np.asarray(std, dtype=np_dtype).reshape(-1)
    if (std == 0).any():
        raise ValueError(f"std evaluated to zero after conversion to {tensor.dtype}, leading to division by zero.")
    channels = tensor.shape[-3]
    for name, v in (("mean", mean), ("std", std)):
        if v.size not in (1, channels):
            raise RuntimeError(f"normalize: {name} has {v.size} values but the image has {channels} channels "
                               f"(shape {tuple(tensor.shape)})")
    if inplace:  # through the tensor's own in-place ops, so its version counter moves
        return tensor.sub_(minitorch.from_numpy(mean.reshape(-1, 1, 1))).div_(
            minitorch.from_numpy(std.reshape(-1, 1, 1)))
    out = (tensor.numpy() - mean.reshape(-1, 1, 1)) / std.reshape(-1, 1, 1)
    return minitorch.from_numpy(np.ascontiguousarray(out, dtype=np_dtype))


def hflip(img):
    """Mirror left-right."""
    _check_image(img, "hflip")
    if _is_pil(img):
        return img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    return _like(img, _planes(img)[..., ::-1])


def vflip(img):
    """Mirror top-bottom."""
    _check_image(img, "vflip")
    if _is_pil(img):
        return img.transpose(Image.Transpose.FLIP_TOP_BOTTOM)
    return _like(img, _planes(img)[..., ::-1, :])


def crop(img, top, left, height, width):
    """The ``height x width`` window at (top, left); parts outside the image are zero."""
    _check_image(img, "crop")
    if _is_pil(img):
        return img.crop((left, top, left + width, top + height))
    a = _planes(img)
    h, w = a.shape[-2:]
    pads = [max(0, -top), max(0, top + height - h), max(0, -left), max(0, left + width - w)]
    if any(pads):
        a = np.pad(a, [(0, 0)] * (a.ndim - 2) + [(pads[0], pads[1]), (pads[2], pads[3])])
        top, left = top + pads[0], left + pads[2]
    return _like(img, a[..., top:top + height, left:left + width])


def _size_pair(size, name="size"):
    if isinstance(size, numbers.Number):
        return int(size), int(size)
    if isinstance(size, (tuple, list)) and len(size) == 1:
        return int(size[0]), int(size[0])
    if isinstance(size, (tuple, list)) and len(size) == 2:
        return int(size[0]), int(size[1])
    raise ValueError(f"Please provide only two dimensions (h, w) for {name}. Got {size}")


def center_crop(img, output_size):
    """The central ``output_size`` window (zero-padded first when the image is smaller)."""
    crop_height, crop_width = _size_pair(output_size)
    _, image_height, image_width = get_dimensions(img)
    if crop_width > image_width or crop_height > image_height:
        padding = [(crop_width - image_width) // 2 if crop_width > image_width else 0,
                   (crop_height - image_height) // 2 if crop_height > image_height else 0,
                   (crop_width - image_width + 1) // 2 if crop_width > image_width else 0,
                   (crop_height - image_height + 1) // 2 if crop_height > image_height else 0]
        img = pad(img, padding, fill=0)
        _, image_height, image_width = get_dimensions(img)
        if crop_width == image_width and crop_height == image_height:
            return img
    crop_top = int(round((image_height - crop_height) / 2.0))
    crop_left = int(round((image_width - crop_width) / 2.0))
    return crop(img, crop_top, crop_left, crop_height, crop_width)


def _padding4(padding):
    """(left, top, right, bottom) from an int or a 1-, 2- or 4-element sequence."""
    if isinstance(padding, numbers.Number) and not isinstance(padding, bool):
        return [int(padding)] * 4
    if not isinstance(padding, (tuple, list)):
        raise TypeError(f"Got inappropriate padding arg: {padding!r}")
    if len(padding) == 1:
        return [int(padding[0])] * 4
    if len(padding) == 2:
        return [int(padding[0]), int(padding[1])] * 2
    if len(padding) == 4:
        return [int(p) for p in padding]
    raise ValueError(f"Padding must be an int or a 1, 2, or 4 element tuple, not a {len(padding)} element tuple")


_PAD_MODES = ("constant", "edge", "reflect", "symmetric")


def pad(img, padding, fill=0, padding_mode="constant"):
    """Pad the borders: ``padding`` is an int, (left/right, top/bottom) or (left, top, right, bottom).

    ``padding_mode`` is "constant" (with ``fill``), "edge", "reflect" or "symmetric"; negative padding crops.
    """
    _check_image(img, "pad")
    left, top, right, bottom = _padding4(padding)
    if padding_mode not in _PAD_MODES:
        raise ValueError(f"Padding mode should be either constant, edge, reflect or symmetric, got {padding_mode!r}")
    if _is_pil(img):
        if padding_mode == "constant" and min(left, top, right, bottom) >= 0:
            return ImageOps.expand(img, border=(left, top, right, bottom), fill=_pil_fill(img, fill))
        arr = pad(np.asarray(img), padding, fill, padding_mode)
        out = Image.fromarray(arr)
        if img.mode == "P":
            out.putpalette(img.getpalette())
        return out
    a = _planes(img)
    h, w = a.shape[-2:]
    # negative padding crops
    a = a[..., max(0, -top):h - max(0, -bottom), max(0, -left):w - max(0, -right)]
    top, bottom, left, right = (max(0, p) for p in (top, bottom, left, right))
    widths = [(0, 0)] * (a.ndim - 2) + [(top, bottom), (left, right)]
    if padding_mode != "constant":
        return _like(img, np.pad(a, widths, mode=padding_mode))
    out = np.pad(a, widths)
    if fill:
        border = np.ones(out.shape[-2:], dtype=bool)
        border[top:top + a.shape[-2], left:left + a.shape[-1]] = False
        _fill_planes(out, border, fill)
    return _like(img, out)


def _interp_mode(interpolation):
    if isinstance(interpolation, InterpolationMode):
        return interpolation.value
    if isinstance(interpolation, str) and interpolation in _PIL_FILTERS:
        return interpolation
    raise TypeError(f"interpolation should be an InterpolationMode, got {interpolation!r}")


def _rotation_matrix(angle, center, width, height, expand):
    """PIL's inverse affine matrix for ``Image.rotate`` (output pixel -> input position) and the output size."""
    if center is None:
        center_x, center_y = width / 2.0, height / 2.0
    else:
        center_x, center_y = center
    theta = -math.radians(angle)
    m = [round(math.cos(theta), 15), round(math.sin(theta), 15), 0.0,
         round(-math.sin(theta), 15), round(math.cos(theta), 15), 0.0]

    def apply(x, y):
        return m[0] * x + m[1] * y + m[2], m[3] * x + m[4] * y + m[5]

    m[2], m[5] = apply(-center_x, -center_y)
    m[2] += center_x
    m[5] += center_y
    if expand:
        xs, ys = zip(*(apply(x, y) for x, y in ((0, 0), (width, 0), (width, height), (0, height))))
        new_w = math.ceil(max(xs)) - math.floor(min(xs))
        new_h = math.ceil(max(ys)) - math.floor(min(ys))
        m[2], m[5] = apply(-(new_w - width) / 2.0, -(new_h - height) / 2.0)
        width, height = new_w, new_h
    return m, width, height


def _sample(a, xs, ys, mode, fill):
    """Values of planes ``a`` (..., H, W) at input positions (xs, ys) (pixel-corner coordinates, as PIL)."""
    h, w = a.shape[-2:]
    if mode in ("nearest", "nearest-exact"):
        ix, iy = np.floor(xs).astype(np.int64), np.floor(ys).astype(np.int64)
        inside = (ix >= 0) & (ix < w) & (iy >= 0) & (iy < h)
        out = a[..., np.clip(iy, 0, h - 1), np.clip(ix, 0, w - 1)].copy()
        return _fill_planes(out, ~inside, fill)
    if mode != "bilinear":
        raise ValueError(f"{mode} interpolation is supported for PIL images only; arrays and tensors take "
                         "nearest, nearest-exact or bilinear")
    # bilinear between pixel centres; positions whose centre lies outside the image get the fill
    x, y = xs - 0.5, ys - 0.5
    inside = (xs >= 0) & (xs < w) & (ys >= 0) & (ys < h)
    x0, y0 = np.floor(x).astype(np.int64), np.floor(y).astype(np.int64)
    fx, fy = x - x0, y - y0
    af = a.astype(np.float64)
    out = 0.0
    for dy, wy in ((0, 1 - fy), (1, fy)):
        for dx, wx in ((0, 1 - fx), (1, fx)):
            out = out + af[..., np.clip(y0 + dy, 0, h - 1), np.clip(x0 + dx, 0, w - 1)] * (wy * wx)
    return _fill_planes(_cast_like(out, a.dtype), ~inside, fill)


def rotate(img, angle, interpolation=InterpolationMode.NEAREST, expand=False, center=None, fill=None):
    """Rotate by ``angle`` degrees counter-clockwise about ``center`` (default: the image centre)."""
    _check_image(img, "rotate")
    mode = _interp_mode(interpolation)
    if _is_pil(img):
        return img.rotate(angle, resample=_PIL_FILTERS[mode], expand=expand, center=center,
                          fillcolor=_pil_fill(img, fill))
    a = _planes(img)
    h, w = a.shape[-2:]
    m, out_w, out_h = _rotation_matrix(angle, center, w, h, expand)
    gx, gy = np.meshgrid(np.arange(out_w) + 0.5, np.arange(out_h) + 0.5)
    xs = m[0] * gx + m[1] * gy + m[2]
    ys = m[3] * gx + m[4] * gy + m[5]
    return _like(img, _sample(a, xs, ys, mode, fill))


def _resize_weights(in_size, out_size, mode, antialias):
    """An (out_size, in_size) matrix whose rows interpolate one output sample (PyTorch's conventions)."""
    W = np.zeros((out_size, in_size), dtype=np.float64)
    rows = np.arange(out_size)
    if mode in ("nearest", "nearest-exact"):
        s = np.float32(in_size) / np.float32(out_size)  # float32, as PyTorch computes the source index
        offset = np.float32(0.5) if mode == "nearest-exact" else np.float32(0)
        src = np.minimum(np.floor((rows.astype(np.float32) + offset) * s).astype(np.int64), in_size - 1)
        W[rows, src] = 1.0
        return W
    scale = in_size / out_size
    centers = (rows + 0.5) * scale
    if antialias and scale > 1.0:
        # shrinking: a triangle filter stretched over `scale` input pixels, as PIL and antialiased PyTorch
        for i, c in enumerate(centers):
            j = np.arange(max(int(math.floor(c - scale)), 0), min(int(math.ceil(c + scale)), in_size))
            wts = np.maximum(0.0, 1.0 - np.abs((j + 0.5 - c) / scale))
            W[i, j] = wts / wts.sum()
        return W
    # plain bilinear (align_corners=False): the source position is clamped into the image
    x = np.clip(centers - 0.5, 0.0, in_size - 1)
    x0 = np.floor(x).astype(np.int64)
    x1 = np.minimum(x0 + 1, in_size - 1)
    np.add.at(W, (rows, x0), 1.0 - (x - x0))
    np.add.at(W, (rows, x1), x - x0)
    return W


def _resized_size(height, width, size, max_size):
    if isinstance(size, numbers.Number) or (isinstance(size, (list, tuple)) and len(size) == 1):
        requested = int(size if isinstance(size, numbers.Number) else size[0])
        short, long = (width, height) if width <= height else (height, width)
        new_short, new_long = requested, int(requested * long / short)
        if max_size is not None:
            if max_size <= requested:
                raise ValueError(f"max_size = {max_size} must be strictly greater than the requested size for the "
                                 f"smaller edge size = {size}")
            if new_long > max_size:
                new_short, new_long = int(max_size * new_short / new_long), max_size
        new_w, new_h = (new_short, new_long) if width <= height else (new_long, new_short)
        return new_h, new_w
    if max_size is not None:
        raise ValueError("max_size should only be passed if size specifies the length of the smaller edge, i.e. "
                         f"size should be an int or a sequence of length 1 in torchscript mode. Got size={size}")
    return int(size[0]), int(size[1])


def resize(img, size, interpolation=InterpolationMode.BILINEAR, max_size=None, antialias=True):
    """Resize to ``size`` (h, w), or so that the smaller edge is ``size`` when it is an int."""
    _check_image(img, "resize")
    mode = _interp_mode(interpolation)
    _, h, w = get_dimensions(img)
    new_h, new_w = _resized_size(h, w, size, max_size)
    if (new_h, new_w) == (h, w):
        return img
    if _is_pil(img):
        return img.resize((new_w, new_h), _PIL_FILTERS[mode])
    a = _planes(img)
    if mode not in ("nearest", "nearest-exact", "bilinear"):
        raise ValueError(f"{mode} interpolation is supported for PIL images only; arrays and tensors take nearest, "
                         "nearest-exact or bilinear")
    Wh = _resize_weights(h, new_h, mode, antialias)
    Ww = _resize_weights(w, new_w, mode, antialias)
    out = Wh @ a.astype(np.float64) @ Ww.T
    return _like(img, _cast_like(out, a.dtype))


def convert_image_dtype(image, dtype=minitorch.float32):
    """Convert a tensor image's dtype, rescaling values (uint8 [0, 255] <-> float [0, 1])."""
    if not isinstance(image, Tensor):
        raise TypeError(f"Input img should be Tensor Image. Got {type(image)}")
    if image.dtype is dtype:
        return image
    a = _planes(image)
    src, dst = a.dtype, np.dtype(dtype.np)
    if src.kind == "f":
        if dst.kind == "f":
            return minitorch.from_numpy(a.astype(dst))
        if (src == np.float32 and dst in (np.int32, np.int64)) or (src == np.float64 and dst == np.int64):
            raise RuntimeError(f"The cast from {image.dtype} to {dtype} cannot be performed safely.")
        eps = 1e-3
        return minitorch.from_numpy((a * (float(np.iinfo(dst).max) + 1.0 - eps)).astype(dst))
    src_max = float(np.iinfo(src).max)
    if dst.kind == "f":
        return minitorch.from_numpy(a.astype(dst) / dst.type(src_max))
    dst_max = float(np.iinfo(dst).max)
    if src_max > dst_max:  # to a narrower integer type: drop the low bits
        factor = int((src_max + 1) // (dst_max + 1))
        return minitorch.from_numpy((a // factor).astype(dst))
    factor = int((dst_max + 1) // (src_max + 1))
    return minitorch.from_numpy(a.astype(dst) * dst.type(factor))

# colour transforms (PIL images and tensors), in their own module
from ._color import (adjust_brightness, adjust_contrast, adjust_gamma, adjust_hue, adjust_saturation,  # noqa: E402,F401
                     adjust_sharpness, autocontrast, equalize, invert, posterize, rgb_to_grayscale, solarize,
                     to_grayscale)
