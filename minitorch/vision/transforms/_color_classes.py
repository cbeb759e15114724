"""Colour transform classes of ``torchvision.transforms``: ColorJitter, Grayscale, RandomGrayscale and the random
ImageOps-style transforms. Each draws its random numbers from minitorch's default generator in torchvision's order,
so ``minitorch.manual_seed`` reproduces them.
"""
import numbers

import minitorch

from . import _color as F
from .functional import get_dimensions

__all__ = ["ColorJitter", "Grayscale", "RandomGrayscale", "RandomInvert", "RandomPosterize", "RandomSolarize",
           "RandomAdjustSharpness", "RandomAutocontrast", "RandomEqualize"]


class _Transform:
    """``__call__`` runs ``forward``, as an ``nn.Module`` transform of torchvision does."""

    def __call__(self, img):
        return self.forward(img)


def _coin(p):
    """True with probability ``p``: one ``rand(1)`` draw, as torchvision's random transforms."""
    return minitorch.rand(1).item() < p


class ColorJitter(_Transform):
    """Randomly change brightness, contrast, saturation and hue, in a random order.

    Args:
        brightness (float or (min, max)): a number b draws the factor from [max(0, 1 - b), 1 + b].
        contrast (float or (min, max)): as brightness.
        saturation (float or (min, max)): as brightness.
        hue (float or (min, max)): a number h draws the shift from [-h, h]; 0 <= h <= 0.5 and -0.5 <= min <= max <= 0.5.

    Example::

        >>> jitter = transforms.ColorJitter(brightness=0.4, contrast=0.4, saturation=0.4, hue=0.1)
    """

    def __init__(self, brightness=0, contrast=0, saturation=0, hue=0):
        self.brightness = self._check_input(brightness, "brightness")
        self.contrast = self._check_input(contrast, "contrast")
        self.saturation = self._check_input(saturation, "saturation")
        self.hue = self._check_input(hue, "hue", center=0, bound=(-0.5, 0.5), clip_first_on_zero=False)

    @staticmethod
    def _check_input(value, name, center=1, bound=(0, float("inf")), clip_first_on_zero=True):
        if isinstance(value, numbers.Number):
            if value < 0:
                raise ValueError(f"If {name} is a single number, it must be non negative.")
            value = [center - float(value), center + float(value)]
            if clip_first_on_zero:
                value[0] = max(value[0], 0.0)
        elif isinstance(value, (tuple, list)) and len(value) == 2:
            value = [float(value[0]), float(value[1])]
        else:
            raise TypeError(f"{name} should be a single number or a list/tuple with length 2.")
        if not bound[0] <= value[0] <= value[1] <= bound[1]:
            raise ValueError(f"{name} values should be between {bound}, but got {value}.")
        # a range that is just the identity value means "leave this property alone"
        if value[0] == value[1] == center:
            return None
        return tuple(value)

    @staticmethod
    def get_params(brightness, contrast, saturation, hue):
        """The order of the four adjustments (a permutation of 0..3) and each factor (None when not jittered)."""
        fn_idx = minitorch.randperm(4)

        def draw(bounds):
            return None if bounds is None else float(minitorch.empty(1).uniform_(bounds[0], bounds[1]).item())

        b = draw(brightness)
        c = draw(contrast)
        s = draw(saturation)
        h = draw(hue)
        return fn_idx, b, c, s, h

    def forward(self, img):
        fn_idx, b, c, s, h = self.get_params(self.brightness, self.contrast, self.saturation, self.hue)
        for fn_id in fn_idx.tolist():
            if fn_id == 0 and b is not None:
                img = F.adjust_brightness(img, b)
            elif fn_id == 1 and c is not None:
                img = F.adjust_contrast(img, c)
            elif fn_id == 2 and s is not None:
                img = F.adjust_saturation(img, s)
            elif fn_id == 3 and h is not None:
                img = F.adjust_hue(img, h)
        return img

    def __repr__(self):
        return (f"{self.__class__.__name__}(brightness={self.brightness}, contrast={self.contrast}, "
                f"saturation={self.saturation}, hue={self.hue})")


class Grayscale(_Transform):
    """Convert to grayscale with 1 or 3 output channels."""

    def __init__(self, num_output_channels=1):
        self.num_output_channels = num_output_channels

    def forward(self, img):
        return F.rgb_to_grayscale(img, num_output_channels=self.num_output_channels)

    def __repr__(self):
        return f"{self.__class__.__name__}(num_output_channels={self.num_output_channels})"


class RandomGrayscale(_Transform):
    """Convert to grayscale with probability ``p``, keeping the number of channels."""

    def __init__(self, p=0.1):
        self.p = p

    def forward(self, img):
        num_output_channels = get_dimensions(img)[0]
        if _coin(self.p):
            return F.rgb_to_grayscale(img, num_output_channels=num_output_channels)
        return img

    def __repr__(self):
        return f"{self.__class__.__name__}(p={self.p})"


class _RandomOp(_Transform):
    """Apply ``self._apply`` with probability ``p``."""

    def forward(self, img):
        if _coin(self.p):
            return self._apply(img)
        return img


class RandomInvert(_RandomOp):
    """Invert the colours with probability ``p``."""

    def __init__(self, p=0.5):
        self.p = p

    def _apply(self, img):
        return F.invert(img)

    def __repr__(self):
        return f"{self.__class__.__name__}(p={self.p})"


class RandomPosterize(_RandomOp):
    """Keep ``bits`` bits per channel (uint8 tensors, PIL images) with probability ``p``."""

    def __init__(self, bits, p=0.5):
        self.bits = bits
        self.p = p

    def _apply(self, img):
        return F.posterize(img, self.bits)

    def __repr__(self):
        return f"{self.__class__.__name__}(bits={self.bits},p={self.p})"


class RandomSolarize(_RandomOp):
    """Invert the values at or above ``threshold`` with probability ``p``."""

    def __init__(self, threshold, p=0.5):
        self.threshold = threshold
        self.p = p

    def _apply(self, img):
        return F.solarize(img, self.threshold)

    def __repr__(self):
        return f"{self.__class__.__name__}(threshold={self.threshold},p={self.p})"


class RandomAdjustSharpness(_RandomOp):
    """Adjust the sharpness by ``sharpness_factor`` (0 blurs, 1 keeps, 2 sharpens) with probability ``p``."""

    def __init__(self, sharpness_factor, p=0.5):
        self.sharpness_factor = sharpness_factor
        self.p = p

    def _apply(self, img):
        return F.adjust_sharpness(img, self.sharpness_factor)

    def __repr__(self):
        return f"{self.__class__.__name__}(sharpness_factor={self.sharpness_factor},p={self.p})"


class RandomAutocontrast(_RandomOp):
    """Stretch each channel to the full range with probability ``p``."""

    def __init__(self, p=0.5):
        self.p = p

    def _apply(self, img):
        return F.autocontrast(img)

    def __repr__(self):
        return f"{self.__class__.__name__}(p={self.p})"


class RandomEqualize(_RandomOp):
    """Equalize the histogram (uint8 tensors, PIL images) with probability ``p``."""

    def __init__(self, p=0.5):
        self.p = p

    def _apply(self, img):
        return F.equalize(img)

    def __repr__(self):
        return f"{self.__class__.__name__}(p={self.p})"
