"""Functional transforms of ``torchvision.transforms.v2.functional``.

Every function of ``transforms.functional`` is available here under the same name, plus ``to_image``,
``to_dtype`` and ``to_pure_tensor``. ``posterize``, ``solarize`` and ``equalize`` also take float tensors here, as
v2's do, ``autocontrast`` follows v2's arithmetic and ``to_grayscale`` takes tensors. minitorch has no
``tv_tensors`` (Image, BoundingBoxes, Mask, Video): images are plain tensors or PIL images.
"""
import inspect

import numpy as np

import minitorch
from minitorch.tensor import Tensor

from .. import _color
from .. import functional as _v1

# everything public of the v1 functional module (including functions added there later)
_exported = []
for _name, _obj in vars(_v1).items():
    if _name.startswith("_") or not (inspect.isfunction(_obj) or inspect.isclass(_obj)):
        continue
    if getattr(_obj, "__module__", "").startswith("minitorch.vision.transforms"):
        globals()[_name] = _obj
        _exported.append(_name)


def to_image(inpt):
    """A PIL image, an ``HxW[xC]`` NumPy array or a tensor -> an image tensor ``(..., C, H, W)`` (no scaling)."""
    if isinstance(inpt, np.ndarray):
        out = minitorch.from_numpy(np.ascontiguousarray(np.moveaxis(np.atleast_3d(inpt), -1, 0)))
    elif _v1._is_pil(inpt):
        out = _v1.pil_to_tensor(inpt)
    elif isinstance(inpt, Tensor):
        out = inpt
    else:
        raise TypeError(f"Input can either be a pure Tensor, a numpy array, or a PIL image, but got {type(inpt)} "
                        "instead.")
    return out.unsqueeze(0) if out.dim() == 2 else out


def to_pure_tensor(inpt):
    """The plain tensor of an input (minitorch has no tv_tensors, so tensors come back unchanged)."""
    if not isinstance(inpt, Tensor):
        raise TypeError(f"to_pure_tensor takes a tensor, got {type(inpt)}")
    return inpt


def _value_bits(np_dtype):
    """Bits that carry the value of an integer dtype (7 for int8, 8 for uint8, 31 for int32...)."""
    info = np.iinfo(np_dtype)
    return info.bits - (1 if info.min < 0 else 0)


def to_dtype(inpt, dtype=minitorch.float32, scale=False):
    """Convert a tensor to ``dtype``; with ``scale=True`` the values move between the ranges of the dtypes
    (float [0, 1], uint8 [0, 255], ...) as ``ConvertImageDtype`` does."""
    if not isinstance(inpt, Tensor):
        raise TypeError(f"to_dtype takes a tensor, got {type(inpt)}")
    if inpt.dtype is dtype:
        return inpt
    if not scale:
        return inpt.to(dtype)
    a = inpt.detach().numpy()
    dst = np.dtype(dtype.np)
    if a.dtype.kind == "f":
        if dst.kind == "f":
            return inpt.to(dtype)
        if (a.dtype == np.float32 and dst in (np.int32, np.int64)) or (a.dtype == np.float64 and dst == np.int64):
            raise RuntimeError(f"The conversion from {inpt.dtype} to {dtype} cannot be performed safely.")
        out = (a * a.dtype.type(float(np.iinfo(dst).max) + 1.0 - 1e-3)).astype(dst)
    elif dst.kind == "f":
        # a multiplication by 1 / max (not a division), as v2 does
        out = a.astype(dst) * dst.type(1.0 / float(np.iinfo(a.dtype).max))
    else:
        shift = _value_bits(dst) - _value_bits(a.dtype)
        out = (a >> -shift).astype(dst) if shift < 0 else a.astype(dst) << dst.type(shift)
    return minitorch.from_numpy(np.ascontiguousarray(out))


def posterize(inpt, bits):
    """Keep ``bits`` bits per channel; float images are quantized to ``2 ** bits`` levels."""
    if isinstance(inpt, Tensor) and inpt.is_floating_point():
        if not (0 <= bits <= 8):
            raise ValueError(f"The number if bits should be between 0 and 8. Got {bits}")
        a = _color._chw(inpt, min_dims=3)
        levels = 1 << int(bits)
        out = np.clip(np.floor(a * a.dtype.type(levels)), 0, levels - 1) * a.dtype.type(1.0 / levels)
        return _color._back(inpt, out.astype(a.dtype))
    return _color.posterize(inpt, bits)


def solarize(inpt, threshold):
    """Invert the values at or above ``threshold`` (on the scale of the image's dtype)."""
    if isinstance(inpt, Tensor):
        bound = _color._max_value(np.dtype(inpt.dtype.np))
        if threshold > bound:
            raise TypeError(f"Threshold should be less or equal the maximum value of the dtype, but got {threshold}")
    return _color.solarize(inpt, threshold)


def equalize(inpt):
    """Histogram equalization; float images are equalized on their uint8 levels and converted back."""
    if isinstance(inpt, Tensor) and inpt.is_floating_point():
        return to_dtype(_color.equalize(to_dtype(inpt, minitorch.uint8, scale=True)), inpt.dtype, scale=True)
    return _color.equalize(inpt)


def autocontrast(inpt):
    """Stretch each channel to the full range; v2 divides by ``(max - min) / bound`` (v1 multiplies by its
    reciprocal), which can move a uint8 result by one."""
    if not isinstance(inpt, Tensor):
        return _color.autocontrast(inpt)
    a = _color._chw(inpt, min_dims=3)
    _color._assert_channels(a, [1, 3])
    bound = _color._max_value(a.dtype)
    ct = _color._compute_type(a.dtype)
    af = a.astype(ct, copy=False)
    low = af.min(axis=(-2, -1), keepdims=True)
    high = af.max(axis=(-2, -1), keepdims=True)
    flat = high == low
    inv_scale = (high - low) * ct.type(1.0 / bound)
    low = np.where(flat, ct.type(0), low)
    inv_scale = np.where(flat, ct.type(1), inv_scale)
    out = np.clip((af - low) / inv_scale, 0, bound).astype(a.dtype)
    return _color._back(inpt, out)


def to_grayscale(inpt, num_output_channels=1):
    """v2's ``to_grayscale`` takes tensors too (as ``rgb_to_grayscale``)."""
    return _color.rgb_to_grayscale(inpt, num_output_channels=num_output_channels)


from ._color import grayscale_to_rgb, permute_channels  # noqa: E402,F401

__all__ = sorted(set(_exported) | {"to_image", "to_dtype", "to_pure_tensor", "posterize", "solarize", "equalize",
                                   "autocontrast", "to_grayscale", "grayscale_to_rgb", "permute_channels"})
