"""Colour transforms of ``torchvision.transforms.functional``: brightness, contrast, saturation, hue, gamma,
sharpness, grayscale, invert, posterize, solarize, autocontrast and equalize.

PIL images go through Pillow (``ImageEnhance``, ``ImageOps``, ``Image.convert``) as torchvision does; tensors
``(..., C, H, W)`` (and NumPy ``HxW[xC]`` arrays) are computed with vectorised NumPy on the host, following
torchvision's tensor formulas: integer images are computed in float32 and truncated back to their dtype, float
images stay in their dtype and are clamped to [0, 1].
"""
import numpy as np

from minitorch.tensor import Tensor

from .functional import _is_pil, _like, _planes

try:
    from PIL import Image, ImageEnhance, ImageOps
except ImportError:  # Pillow is optional: arrays and tensors work without it
    Image = ImageEnhance = ImageOps = None

__all__ = ["adjust_brightness", "adjust_contrast", "adjust_saturation", "adjust_hue", "adjust_gamma",
           "adjust_sharpness", "rgb_to_grayscale", "to_grayscale", "invert", "posterize", "solarize", "autocontrast",
           "equalize"]


# ----------------------------------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------------------------------
def _max_value(dtype):
    """The value of "full intensity" for an image dtype: 1.0 for floats, the type's maximum for integers."""
    if dtype.kind == "f":
        return 1.0
    if dtype.kind == "b":
        return 1
    return int(np.iinfo(dtype).max)


def _is_array_image(img):
    return isinstance(img, (Tensor, np.ndarray))


def _need_pil(img):
    if not _is_pil(img):
        raise TypeError(f"img should be PIL Image. Got {type(img)}")


def _chw(img, min_dims=2):
    """The NumPy planes ``(..., C, H, W)`` of a tensor or array image (a 2-D image gets a channel axis)."""
    if isinstance(img, Tensor):
        if img.device.type != "cpu":
            raise TypeError(f"transforms run on the host, so they take CPU tensors; got a tensor on {img.device}")
        if img.dim() < 2:
            raise TypeError("Tensor is not a torch image.")
        if img.dim() < min_dims:
            raise TypeError(f"Input image tensor should have at least {min_dims} dimensions, but found {img.dim()}")
        a = img.detach().numpy()
    else:
        if img.ndim not in (2, 3):
            raise ValueError(f"a NumPy image should be HxW or HxWxC. Got shape {img.shape}")
        a = _planes(img)
    return a[None] if a.ndim == 2 else a


def _back(img, planes):
    """Planes ``(..., C, H, W)`` from :func:`_chw` back in the kind and layout of ``img``."""
    ndim = img.dim() if isinstance(img, Tensor) else img.ndim
    if ndim == 2:
        planes = planes[0]
    return _like(img, planes)


def _channels(a):
    return a.shape[-3]


def _assert_channels(a, permitted):
    c = _channels(a)
    if c not in permitted:
        raise TypeError(f"Input image tensor permitted channel values are {permitted}, but found {c}")


def _compute_type(dtype):
    """Integer images are computed in float32 (as a uint8 tensor times a Python float in PyTorch)."""
    return dtype if dtype.kind == "f" else np.dtype(np.float32)


def _blend(a, b, ratio):
    """``ratio * a + (1 - ratio) * b`` clamped to the image range and cast back (truncating) to ``a``'s dtype."""
    ct = _compute_type(a.dtype)
    ratio = float(ratio)
    out = ct.type(ratio) * a.astype(ct, copy=False) + ct.type(1.0 - ratio) * np.asarray(b).astype(ct, copy=False)
    return np.clip(out, 0, _max_value(a.dtype)).astype(a.dtype)


def _gray(a):
    """``0.2989 R + 0.587 G + 0.114 B`` of planes ``(..., 3, H, W)``, keeping the channel axis, in ``a``'s dtype."""
    ct = _compute_type(a.dtype)
    r, g, b = (a[..., i, :, :].astype(ct, copy=False) for i in range(3))
    gray = ct.type(0.2989) * r + ct.type(0.587) * g + ct.type(0.114) * b
    if a.dtype.kind == "f":
        return gray.astype(a.dtype)[..., None, :, :]
    info = np.iinfo(a.dtype)
    return np.clip(gray, info.min, info.max).astype(a.dtype)[..., None, :, :]


def _to_float(a):
    """An integer image scaled to float32 in [0, 1] (as ``convert_image_dtype``); float images unchanged."""
    if a.dtype.kind == "f":
        return a
    return a.astype(np.float32) / np.float32(_max_value(a.dtype))


def _from_float(x, dtype):
    """Float values in [0, 1] back to ``dtype`` (as ``convert_image_dtype``: times max + 1 - 1e-3, truncated)."""
    if dtype.kind == "f":
        return x.astype(dtype, copy=False)
    return (x * np.float32(_max_value(dtype) + 1.0 - 1e-3)).astype(dtype)


# ----------------------------------------------------------------------------------------------------------------
# brightness, contrast, saturation, sharpness: blends with a degenerate image
# ----------------------------------------------------------------------------------------------------------------
def adjust_brightness(img, brightness_factor):
    """Blend with black: 0 gives a black image, 1 the original, 2 doubles the brightness.

    Args:
        img: PIL image or tensor ``(..., 1 or 3, H, W)``.
        brightness_factor (float): non-negative.
    """
    if not _is_array_image(img):
        _need_pil(img)
        return ImageEnhance.Brightness(img).enhance(brightness_factor)
    if brightness_factor < 0:
        raise ValueError(f"brightness_factor ({brightness_factor}) is not non-negative.")
    a = _chw(img)
    _assert_channels(a, [1, 3])
    return _back(img, _blend(a, np.zeros((), a.dtype), brightness_factor))


def adjust_contrast(img, contrast_factor):
    """Blend with the mean grey level: 0 gives a solid grey image, 1 the original, 2 doubles the contrast."""
    if not _is_array_image(img):
        _need_pil(img)
        return ImageEnhance.Contrast(img).enhance(contrast_factor)
    if contrast_factor < 0:
        raise ValueError(f"contrast_factor ({contrast_factor}) is not non-negative.")
    a = _chw(img)
    _assert_channels(a, [3, 1])
    ct = _compute_type(a.dtype)
    gray = _gray(a) if _channels(a) == 3 else a
    # the mean in float64 then rounded to the compute type: the closest float to the true mean
    mean = gray.astype(np.float64).mean(axis=(-3, -2, -1), keepdims=True).astype(ct)
    return _back(img, _blend(a, mean, contrast_factor))


def adjust_saturation(img, saturation_factor):
    """Blend with the grayscale image: 0 gives black and white, 1 the original, 2 doubles the saturation."""
    if not _is_array_image(img):
        _need_pil(img)
        return ImageEnhance.Color(img).enhance(saturation_factor)
    if saturation_factor < 0:
        raise ValueError(f"saturation_factor ({saturation_factor}) is not non-negative.")
    a = _chw(img)
    _assert_channels(a, [1, 3])
    if _channels(a) == 1:  # as PIL: a grayscale image has no saturation to change
        return img
    return _back(img, _blend(a, _gray(a), saturation_factor))


def _blurred_degenerate(a):
    """The 3x3 smoothing filter of PIL's sharpness enhancer (centre 5, others 1, over 13) on the interior pixels;
    the one-pixel border keeps its values."""
    ct = _compute_type(a.dtype)
    af = a.astype(ct, copy=False)
    h, w = a.shape[-2:]
    weights = np.ones((3, 3), dtype=ct)
    weights[1, 1] = 5
    weights /= weights.sum()
    acc = np.zeros(a.shape[:-2] + (h - 2, w - 2), dtype=ct)
    for dy in range(3):
        for dx in range(3):
            acc += weights[dy, dx] * af[..., dy:dy + h - 2, dx:dx + w - 2]
    if a.dtype.kind != "f":
        acc = np.round(acc)
    out = a.copy()
    out[..., 1:-1, 1:-1] = acc.astype(a.dtype)
    return out


def adjust_sharpness(img, sharpness_factor):
    """Blend with a smoothed image: 0 blurs, 1 gives the original, 2 sharpens."""
    if not _is_array_image(img):
        _need_pil(img)
        return ImageEnhance.Sharpness(img).enhance(sharpness_factor)
    if sharpness_factor < 0:
        raise ValueError(f"sharpness_factor ({sharpness_factor}) is not non-negative.")
    a = _chw(img)
    _assert_channels(a, [1, 3])
    if a.shape[-1] <= 2 or a.shape[-2] <= 2:
        return img
    return _back(img, _blend(a, _blurred_degenerate(a), sharpness_factor))


# ----------------------------------------------------------------------------------------------------------------
# hue and gamma
# ----------------------------------------------------------------------------------------------------------------
def _rgb_to_hsv(rgb):
    """Float planes ``(..., 3, H, W)`` in [0, 1] -> hue, saturation, value (hue in [0, 1))."""
    r, g, b = rgb[..., 0, :, :], rgb[..., 1, :, :], rgb[..., 2, :, :]
    maxc = np.maximum(np.maximum(r, g), b)
    minc = np.minimum(np.minimum(r, g), b)
    flat = maxc == minc
    spread = maxc - minc
    one = np.ones((), dtype=rgb.dtype)
    s = spread / np.where(flat, one, maxc)
    div = np.where(flat, one, spread)
    rc, gc, bc = (maxc - r) / div, (maxc - g) / div, (maxc - b) / div
    h = np.where(maxc == r, bc - gc, np.where(maxc == g, 2.0 + rc - bc, 4.0 + gc - rc)).astype(rgb.dtype)
    h = np.where(flat, np.zeros((), rgb.dtype), h)
    h = np.fmod(h / rgb.dtype.type(6.0) + rgb.dtype.type(1.0), rgb.dtype.type(1.0))
    return h, s, maxc


def _hsv_to_rgb(h, s, v):
    six = h * h.dtype.type(6.0)
    sector = np.floor(six)
    f = six - sector
    sector = sector.astype(np.int64) % 6
    one = h.dtype.type(1.0)
    p = np.clip(v * (one - s), 0.0, 1.0)
    q = np.clip(v * (one - s * f), 0.0, 1.0)
    t = np.clip(v * (one - s * (one - f)), 0.0, 1.0)
    # which of (v, q, p, t) each channel takes in each of the six hue sectors
    choices = np.stack((v, q, p, t))
    channels = [np.take_along_axis(choices, table[sector][None], axis=0)[0] for table in _HSV_SECTORS]
    return np.stack(channels, axis=-3)


_HSV_SECTORS = (np.array([0, 1, 2, 2, 3, 0], dtype=np.intp), np.array([3, 0, 0, 1, 2, 2], dtype=np.intp),
                np.array([2, 2, 3, 0, 0, 1], dtype=np.intp))


def adjust_hue(img, hue_factor):
    """Rotate the hue by ``hue_factor`` turns (in [-0.5, 0.5]) through HSV space."""
    if not (-0.5 <= hue_factor <= 0.5):
        raise ValueError(f"hue_factor ({hue_factor}) is not in [-0.5, 0.5].")
    if not _is_array_image(img):
        _need_pil(img)
        mode = img.mode
        if mode in {"L", "1", "I", "F"}:
            return img
        h, s, v = img.convert("HSV").split()
        # the hue band is a uint8 turn: shifting it wraps around modulo 256
        shift = int(hue_factor * 255) % 256
        np_h = (np.asarray(h, dtype=np.uint8).astype(np.int64) + shift) % 256
        h = Image.fromarray(np_h.astype(np.uint8), "L")
        return Image.merge("HSV", (h, s, v)).convert(mode)
    a = _chw(img)
    _assert_channels(a, [1, 3])
    if _channels(a) == 1:
        return img
    x = _to_float(a)
    h, s, v = _rgb_to_hsv(x)
    h = np.mod(h + h.dtype.type(hue_factor), h.dtype.type(1.0))
    return _back(img, _from_float(_hsv_to_rgb(h, s, v), a.dtype))


def adjust_gamma(img, gamma, gain=1):
    """``gain * img ** gamma`` on intensities in [0, 1] (gamma > 1 darkens, < 1 brightens)."""
    if not _is_array_image(img):
        _need_pil(img)
        if gamma < 0:
            raise ValueError("Gamma should be a non-negative real number")
        mode = img.mode
        lut = [int((255 + 1 - 1e-3) * gain * pow(v / 255.0, gamma)) for v in range(256)] * 3
        return img.convert("RGB").point(lut).convert(mode)
    a = _chw(img)
    _assert_channels(a, [1, 3])
    if gamma < 0:
        raise ValueError("Gamma should be a non-negative real number")
    x = _to_float(a)
    out = np.clip(x.dtype.type(gain) * np.power(x, x.dtype.type(gamma)), 0.0, 1.0).astype(x.dtype)
    return _back(img, _from_float(out, a.dtype))


# ----------------------------------------------------------------------------------------------------------------
# grayscale
# ----------------------------------------------------------------------------------------------------------------
def _pil_grayscale(img, num_output_channels):
    _need_pil(img)
    if num_output_channels == 1:
        return img.convert("L")
    if num_output_channels == 3:
        gray = np.asarray(img.convert("L"), dtype=np.uint8)
        return Image.fromarray(np.ascontiguousarray(np.stack([gray] * 3, axis=-1)), "RGB")
    raise ValueError("num_output_channels should be either 1 or 3")


def to_grayscale(img, num_output_channels=1):
    """A PIL image in grayscale ("L" for one output channel, three equal "RGB" bands for three)."""
    if _is_pil(img):
        return _pil_grayscale(img, num_output_channels)
    raise TypeError("Input should be PIL Image")


def rgb_to_grayscale(img, num_output_channels=1):
    """``0.2989 R + 0.587 G + 0.114 B`` (PIL images: Pillow's "L" conversion), with 1 or 3 output channels.

    Shape: ``(..., 3, H, W)`` -> ``(..., num_output_channels, H, W)``; one-channel images are copied.
    """
    if not _is_array_image(img):
        return _pil_grayscale(img, num_output_channels)
    a = _chw(img, min_dims=3)
    _assert_channels(a, [1, 3])
    if num_output_channels not in (1, 3):
        raise ValueError("num_output_channels should be either 1 or 3")
    gray = _gray(a) if _channels(a) == 3 else a.copy()
    if num_output_channels == 3:
        gray = np.broadcast_to(gray, gray.shape[:-3] + (3,) + gray.shape[-2:])
    if isinstance(img, np.ndarray) and img.ndim == 2 and num_output_channels == 1:
        gray = gray[0]
    return _like(img, gray)


# ----------------------------------------------------------------------------------------------------------------
# ImageOps-style operations
# ----------------------------------------------------------------------------------------------------------------
def invert(img):
    """``max - img`` (255 - x for uint8, 1 - x for floats)."""
    if not _is_array_image(img):
        _need_pil(img)
        return ImageOps.invert(img)
    a = _chw(img, min_dims=3)
    _assert_channels(a, [1, 3])
    return _back(img, _invert_np(a))


def _invert_np(a):
    if a.dtype.kind == "b":
        return ~a
    return (a.dtype.type(_max_value(a.dtype)) - a).astype(a.dtype)


def posterize(img, bits):
    """Keep the ``bits`` most significant bits of each uint8 channel value."""
    if not (0 <= bits <= 8):
        raise ValueError(f"The number if bits should be between 0 and 8. Got {bits}")
    if not _is_array_image(img):
        _need_pil(img)
        return ImageOps.posterize(img, bits)
    a = _chw(img, min_dims=3)
    if a.dtype != np.uint8:
        raise TypeError(f"Only torch.uint8 image tensors are supported, but found {_dtype_name(img)}")
    _assert_channels(a, [1, 3])
    mask = np.uint8((-(2 ** (8 - int(bits)))) & 0xFF)
    return _back(img, a & mask)


def _dtype_name(img):
    return str(img.dtype) if isinstance(img, Tensor) else f"minitorch.{np.dtype(img.dtype).name}"


def solarize(img, threshold):
    """Invert the values at or above ``threshold``."""
    if not _is_array_image(img):
        _need_pil(img)
        return ImageOps.solarize(img, threshold)
    a = _chw(img, min_dims=3)
    _assert_channels(a, [1, 3])
    if threshold > _max_value(a.dtype):
        raise TypeError("Threshold should be less than bound of img.")
    return _back(img, np.where(a >= threshold, _invert_np(a), a))


def autocontrast(img):
    """Stretch each channel so that its darkest pixel becomes 0 and its lightest the maximum."""
    if not _is_array_image(img):
        _need_pil(img)
        return ImageOps.autocontrast(img)
    a = _chw(img, min_dims=3)
    _assert_channels(a, [1, 3])
    bound = _max_value(a.dtype)
    ct = _compute_type(a.dtype)
    low = a.min(axis=(-2, -1), keepdims=True).astype(ct)
    high = a.max(axis=(-2, -1), keepdims=True).astype(ct)
    with np.errstate(divide="ignore", invalid="ignore"):
        # bound / spread as PyTorch evaluates a number over a tensor: the reciprocal, then the product
        scale = (ct.type(1.0) / (high - low)) * ct.type(bound)
    flat = ~np.isfinite(scale)
    low[flat] = 0
    scale[flat] = 1
    out = (a.astype(ct, copy=False) - low) * scale
    return _back(img, np.clip(out, 0, bound).astype(a.dtype))


def equalize(img):
    """Equalize each channel's histogram (uint8), as ``PIL.ImageOps.equalize``."""
    if not _is_array_image(img):
        _need_pil(img)
        return ImageOps.equalize(img)
    a = _chw(img, min_dims=3)
    if a.dtype != np.uint8:
        raise TypeError(f"Only torch.uint8 image tensors are supported, but found {_dtype_name(img)}")
    _assert_channels(a, [1, 3])
    return _back(img, _equalize_np(a))


def _equalize_np(a):
    """Histogram equalization of every (image, channel) plane of uint8 planes ``(..., H, W)`` at once."""
    shape = a.shape
    flat = a.reshape(-1, shape[-2] * shape[-1]).astype(np.int64)
    n = flat.shape[0]
    hist = np.bincount((flat + 256 * np.arange(n)[:, None]).ravel(), minlength=256 * n).reshape(n, 256)
    # the count in the highest occupied bin is left out of the step, as PIL does
    last = 255 - np.argmax(hist[:, ::-1] > 0, axis=1)
    step = (hist.sum(axis=1) - hist[np.arange(n), last]) // 255
    safe = np.maximum(step, 1)[:, None]
    cum = np.cumsum(hist, axis=1)
    lut = (cum + safe // 2) // safe
    lut = np.concatenate([np.zeros((n, 1), dtype=lut.dtype), lut[:, :-1]], axis=1)
    lut = np.clip(lut, 0, 255)
    lut[step == 0] = np.arange(256)  # a (nearly) constant plane is left as it is
    return np.take_along_axis(lut, flat, axis=1).astype(np.uint8).reshape(shape)

