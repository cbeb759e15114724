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
    """``(tensor - mean) / std`` per channel of a float tensor image ``(..., C, H, W)``, differentiable."""
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
    # tensor ops: the image keeps its device, and a gradient flows through (an adversarial input, for instance)
    m = minitorch.from_numpy(mean.reshape(-1, 1, 1)).to(tensor.device)
    s = minitorch.from_numpy(std.reshape(-1, 1, 1)).to(tensor.device)
    if inplace:  # through the tensor's own in-place ops, so its version counter moves
        return tensor.sub_(m).div_(s)
    return tensor.sub(m).div(s)


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
    if isinstance(img, Tensor) and not isinstance(fill, (int, float)):
        raise TypeError(f"Got inappropriate fill arg: tensors take one number, got {fill!r}")
    a = _planes(img)
    h, w = a.shape[-2:]
    if isinstance(img, Tensor) and padding_mode == "reflect" and (max(left, right) >= w or max(top, bottom) >= h):
        # torch's reflection padding reflects once: it needs padding < size
        dim, pads = (img.dim() - 1, (left, right)) if max(left, right) >= w else (img.dim() - 2, (top, bottom))
        raise RuntimeError("Argument #4: Padding size should be less than the corresponding input dimension, but "
                           f"got: padding {pads} at dimension {dim} of input {list(img.shape)}")
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


_PIL_CONSTANTS = {0: "nearest", 2: "bilinear", 3: "bicubic", 4: "box", 5: "hamming", 1: "lanczos"}


def _interp_mode(interpolation):
    """The mode's name from an InterpolationMode, a Pillow integer constant or a mode name."""
    if isinstance(interpolation, InterpolationMode):
        return interpolation.value
    if isinstance(interpolation, str) and interpolation in _PIL_FILTERS:
        return interpolation
    if isinstance(interpolation, int) and not isinstance(interpolation, bool) and interpolation in _PIL_CONSTANTS:
        return _PIL_CONSTANTS[interpolation]
    raise TypeError("Argument interpolation should be a InterpolationMode or a corresponding Pillow integer "
                    f"constant, got {interpolation!r}")


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


# geometric transforms (resize, crops, affine, rotate, perspective, blur, erase) live in _geometry.py
from ._geometry import (affine, erase, five_crop, gaussian_blur, get_image_num_channels,  # noqa: E402,F401
                        get_image_size, perspective, resize, resized_crop, rotate, ten_crop)

# colour transforms (PIL images and tensors), in their own module
from ._color import (adjust_brightness, adjust_contrast, adjust_gamma, adjust_hue, adjust_saturation,  # noqa: E402,F401
                     adjust_sharpness, autocontrast, equalize, invert, posterize, rgb_to_grayscale, solarize,
                     to_grayscale)
