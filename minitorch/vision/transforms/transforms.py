"""Transform classes, as ``torchvision.transforms``: each wraps a function of ``transforms.functional``."""
import numbers

import minitorch

from .functional import (_PAD_MODES, InterpolationMode, _interp_mode, _padding4, _size_pair, center_crop,
                         convert_image_dtype, crop, get_dimensions, hflip, normalize, pad, pil_to_tensor, resize,
                         rotate, to_pil_image, to_tensor, vflip)

__all__ = ["Compose", "ToTensor", "PILToTensor", "ToPILImage", "ConvertImageDtype", "Normalize", "Lambda",
           "RandomHorizontalFlip", "RandomVerticalFlip", "RandomRotation", "RandomCrop", "CenterCrop", "Resize",
           "Pad"]
# geometric and structural classes (RandomResizedCrop, RandomAffine, FiveCrop, RandomApply ...) live in
# _geometry_classes.py
from ._geometry_classes import *  # noqa: E402,F401,F403
from ._geometry_classes import __all__ as _geometry_all  # noqa: E402
from ._geometry_classes import _tensor_fill  # noqa: E402

__all__ += _geometry_all

class Compose:
    """Apply transforms one after another."""

    def __init__(self, transforms):
        self.transforms = transforms

    def __call__(self, img):
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self):
        lines = "".join(f"\n    {t}" for t in self.transforms)
        return f"{self.__class__.__name__}({lines}\n)"


class ToTensor:
    """PIL image or ``HxW[xC]`` NumPy array -> ``CxHxW`` tensor, uint8 scaled to floats in [0, 1]."""

    def __call__(self, pic):
        return to_tensor(pic)

    def __repr__(self):
        return f"{self.__class__.__name__}()"


class PILToTensor:
    """PIL image -> ``CxHxW`` tensor of the same dtype (no scaling)."""

    def __call__(self, pic):
        return pil_to_tensor(pic)

    def __repr__(self):
        return f"{self.__class__.__name__}()"


class ToPILImage:
    """``CxHxW`` tensor or ``HxWxC`` array -> PIL image (needs Pillow)."""

    def __init__(self, mode=None):
        self.mode = mode

    def __call__(self, pic):
        return to_pil_image(pic, self.mode)

    def __repr__(self):
        return f"{self.__class__.__name__}(mode={self.mode})" if self.mode else f"{self.__class__.__name__}()"


class ConvertImageDtype:
    """Convert a tensor image to ``dtype``, rescaling values (uint8 [0, 255] <-> float [0, 1])."""

    def __init__(self, dtype):
        self.dtype = dtype

    def __call__(self, image):
        return convert_image_dtype(image, self.dtype)

    def __repr__(self):
        return f"{self.__class__.__name__}(dtype={self.dtype})"


class Normalize:
    """Per-channel ``(x - mean) / std`` of a float tensor image ``(..., C, H, W)``.

    Example::

        >>> transforms.Normalize((0.1307,), (0.3081,))(minitorch.rand(1, 28, 28))
    """

    def __init__(self, mean, std, inplace=False):
        self.mean = mean
        self.std = std
        self.inplace = inplace

    def __call__(self, tensor):
        return normalize(tensor, self.mean, self.std, self.inplace)

    def __repr__(self):
        return f"{self.__class__.__name__}(mean={self.mean}, std={self.std})"


class Lambda:
    """Apply a user function: ``Lambda(lambda x: x.view(-1))``."""

    def __init__(self, lambd):
        if not callable(lambd):
            raise TypeError(f"Argument lambd should be callable, got {type(lambd).__name__!r}")
        self.lambd = lambd

    def __call__(self, img):
        return self.lambd(img)

    def __repr__(self):
        return f"{self.__class__.__name__}()"


class RandomHorizontalFlip:
    """Mirror left-right with probability ``p``."""

    def __init__(self, p=0.5):
        self.p = p

    def __call__(self, img):
        return hflip(img) if minitorch.rand(1).item() < self.p else img

    def __repr__(self):
        return f"{self.__class__.__name__}(p={self.p})"


class RandomVerticalFlip:
    """Mirror top-bottom with probability ``p``."""

    def __init__(self, p=0.5):
        self.p = p

    def __call__(self, img):
        return vflip(img) if minitorch.rand(1).item() < self.p else img

    def __repr__(self):
        return f"{self.__class__.__name__}(p={self.p})"


class RandomRotation:
    """Rotate by an angle drawn uniformly from ``degrees`` (a number d means (-d, d)).

    Args:
        degrees: range of angles in degrees, counter-clockwise.
        interpolation: NEAREST (default) or BILINEAR (any mode for PIL images).
        expand: grow the output to hold the whole rotated image.
        center: rotation centre (x, y); default the image centre.
        fill: value (or one per channel) for the area outside the rotated image.
    """

    def __init__(self, degrees, interpolation=InterpolationMode.NEAREST, expand=False, center=None, fill=0):
        if isinstance(degrees, numbers.Number):
            if degrees < 0:
                raise ValueError(f"If degrees is a single number, it must be positive. Got {degrees}")
            degrees = [-degrees, degrees]
        elif not isinstance(degrees, (list, tuple)) or len(degrees) != 2:
            raise ValueError(f"If degrees is a sequence, it must be of len 2. Got {degrees}")
        self.degrees = [float(d) for d in degrees]
        if center is not None and (not isinstance(center, (list, tuple)) or len(center) != 2):
            raise ValueError(f"If center is a sequence, it must be of len 2. Got {center}")
        self.interpolation = InterpolationMode(_interp_mode(interpolation))  # Pillow constants become modes
        self.expand = expand
        self.center = center
        if fill is None:
            fill = 0
        elif not isinstance(fill, (numbers.Number, tuple, list)):
            raise TypeError("Fill should be either a sequence or a number.")
        self.fill = fill

    @staticmethod
    def get_params(degrees):
        """An angle drawn uniformly from [degrees[0], degrees[1]) (one float32 draw, as torchvision)."""
        return float(minitorch.empty(1).uniform_(float(degrees[0]), float(degrees[1])).item())

    def __call__(self, img):
        fill = _tensor_fill(img, self.fill)
        angle = self.get_params(self.degrees)
        return rotate(img, angle, self.interpolation, self.expand, self.center, fill)

    def __repr__(self):
        return (f"{self.__class__.__name__}(degrees={self.degrees}, interpolation={self.interpolation.value}, "
                f"expand={self.expand}, fill={self.fill})")


class RandomCrop:
    """Crop a random ``size`` window, after optional padding.

    Args:
        size: (h, w), or an int for a square.
        padding: padding applied first (int, (left/right, top/bottom) or (left, top, right, bottom)).
        pad_if_needed: pad images smaller than ``size`` instead of failing.
        fill, padding_mode: as ``Pad``.
    """

    def __init__(self, size, padding=None, pad_if_needed=False, fill=0, padding_mode="constant"):
        self.size = _size_pair(size)
        self.padding = padding
        self.pad_if_needed = pad_if_needed
        self.fill = fill
        self.padding_mode = padding_mode

    @staticmethod
    def get_params(img, output_size):
        _, h, w = get_dimensions(img)
        th, tw = output_size
        if h < th or w < tw:
            raise ValueError(f"Required crop size {(th, tw)} is larger than input image size {(h, w)}")
        if w == tw and h == th:
            return 0, 0, h, w
        i = int(minitorch.randint(0, h - th + 1, size=(1,)).item())
        j = int(minitorch.randint(0, w - tw + 1, size=(1,)).item())
        return i, j, th, tw

    def __call__(self, img):
        if self.padding is not None:
            img = pad(img, self.padding, self.fill, self.padding_mode)
        _, height, width = get_dimensions(img)
        if self.pad_if_needed and width < self.size[1]:
            img = pad(img, [self.size[1] - width, 0], self.fill, self.padding_mode)
        if self.pad_if_needed and height < self.size[0]:
            img = pad(img, [0, self.size[0] - height], self.fill, self.padding_mode)
        i, j, h, w = self.get_params(img, self.size)
        return crop(img, i, j, h, w)

    def __repr__(self):
        return f"{self.__class__.__name__}(size={self.size}, padding={self.padding})"


class CenterCrop:
    """Crop the central ``size`` window (an int gives a square)."""

    def __init__(self, size):
        self.size = _size_pair(size)

    def __call__(self, img):
        return center_crop(img, self.size)

    def __repr__(self):
        return f"{self.__class__.__name__}(size={self.size})"


class Resize:
    """Resize to ``size`` (h, w), or match the smaller edge to ``size`` when it is an int.

    Arrays and tensors use NEAREST, NEAREST_EXACT, BILINEAR or BICUBIC (``antialias`` as ``F.interpolate``'s).
    """

    def __init__(self, size, interpolation=InterpolationMode.BILINEAR, max_size=None, antialias=True):
        if not (isinstance(size, (int, list, tuple)) or (size is None and max_size is not None)):
            raise TypeError(f"Size should be int or sequence. Got {type(size)}")
        if isinstance(size, (list, tuple)) and len(size) not in (1, 2):
            raise ValueError("If size is a sequence, it should have 1 or 2 values")
        self.size = size
        self.interpolation = InterpolationMode(_interp_mode(interpolation))  # Pillow constants become modes
        self.max_size = max_size
        self.antialias = antialias

    def __call__(self, img):
        return resize(img, self.size, self.interpolation, self.max_size, self.antialias)

    def __repr__(self):
        return (f"{self.__class__.__name__}(size={self.size}, interpolation={self.interpolation.value}, "
                f"max_size={self.max_size}, antialias={self.antialias})")


class Pad:
    """Pad the borders by ``padding`` (int, (left/right, top/bottom) or (left, top, right, bottom))."""

    def __init__(self, padding, fill=0, padding_mode="constant"):
        _padding4(padding)
        if padding_mode not in _PAD_MODES:
            raise ValueError(f"Padding mode should be either constant, edge, reflect or symmetric, got "
                             f"{padding_mode!r}")
        self.padding = padding
        self.fill = fill
        self.padding_mode = padding_mode

    def __call__(self, img):
        return pad(img, self.padding, self.fill, self.padding_mode)

    def __repr__(self):
        return f"{self.__class__.__name__}(padding={self.padding}, fill={self.fill}, padding_mode={self.padding_mode})"
