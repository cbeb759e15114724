"""v2-only colour transforms: RGB, RandomChannelPermutation and RandomPhotometricDistort."""
import numpy as np

import minitorch
from minitorch.tensor import Tensor

from .. import _color as _F
from ..functional import _is_pil, get_dimensions, pil_to_tensor, to_pil_image
from . import _sample

__all__ = ["RGB", "RandomChannelPermutation", "RandomPhotometricDistort", "permute_channels", "grayscale_to_rgb"]


def permute_channels(inpt, permutation):
    """The channels of an image ``(..., C, H, W)`` reordered: channel i of the output is ``permutation[i]``."""
    if _is_pil(inpt):
        return to_pil_image(permute_channels(pil_to_tensor(inpt), permutation))
    if not isinstance(inpt, Tensor):
        raise TypeError(f"permute_channels takes a tensor or a PIL image, got {type(inpt)}")
    a = _F._chw(inpt)
    perm = np.asarray(permutation.tolist() if isinstance(permutation, Tensor) else permutation, dtype=np.int64)
    if sorted(perm.tolist()) != list(range(a.shape[-3])):
        raise ValueError(f"permutation {perm.tolist()} is not a permutation of the {a.shape[-3]} channels")
    return _F._back(inpt, a[..., perm, :, :])


def grayscale_to_rgb(inpt):
    """A one-channel image repeated into three channels (three-channel images come back as they are)."""
    if _is_pil(inpt):
        return inpt.convert(mode="RGB")
    if not isinstance(inpt, Tensor):
        raise TypeError(f"grayscale_to_rgb takes a tensor or a PIL image, got {type(inpt)}")
    if get_dimensions(inpt)[0] >= 3:
        return inpt
    return _F.rgb_to_grayscale(inpt, num_output_channels=3)


class RGB(_sample.Transform):
    """Convert a grayscale image to RGB (RGB images pass unchanged)."""

    def _one(self, inpt):
        return grayscale_to_rgb(inpt)

    def __repr__(self):
        return f"{self.__class__.__name__}()"


class RandomChannelPermutation(_sample.Transform):
    """Shuffle the image's channels at random (one ``randperm`` draw)."""

    def _one(self, inpt):
        permutation = minitorch.randperm(get_dimensions(inpt)[0])
        return permute_channels(inpt, permutation)

    def __repr__(self):
        return f"{self.__class__.__name__}()"


def _uniform(bounds):
    return float(minitorch.empty(1).uniform_(bounds[0], bounds[1]).item())


class RandomPhotometricDistort(_sample.Transform):
    """The SSD photometric distortion: each of brightness, contrast, saturation and hue is jittered with
    probability ``p`` (contrast before or after the saturation/hue pair, at random), then the channels are
    shuffled with probability ``p``.

    Args:
        brightness, contrast, saturation, hue ((min, max)): the factor ranges.
        p (float): the probability of each step.
    """

    def __init__(self, brightness=(0.875, 1.125), contrast=(0.5, 1.5), saturation=(0.5, 1.5), hue=(-0.05, 0.05),
                 p=0.5):
        self.brightness = brightness
        self.contrast = contrast
        self.hue = hue
        self.saturation = saturation
        self.p = p

    def make_params(self, flat_inputs):
        """The draws, in torchvision's order: four jitter coins (each followed by its factor), the contrast
        position, the permutation coin (and the permutation)."""
        params = {}
        for key, bounds in (("brightness_factor", self.brightness), ("contrast_factor", self.contrast),
                            ("saturation_factor", self.saturation), ("hue_factor", self.hue)):
            params[key] = _uniform(bounds) if minitorch.rand(1).item() < self.p else None
        params["contrast_before"] = bool(minitorch.rand(()).item() < 0.5)
        num_channels = get_dimensions(flat_inputs[0])[0]
        params["channel_permutation"] = (minitorch.randperm(num_channels) if minitorch.rand(1).item() < self.p
                                         else None)
        return params

    def transform(self, inpt, params):
        if params["brightness_factor"] is not None:
            inpt = _F.adjust_brightness(inpt, params["brightness_factor"])
        if params["contrast_factor"] is not None and params["contrast_before"]:
            inpt = _F.adjust_contrast(inpt, params["contrast_factor"])
        if params["saturation_factor"] is not None:
            inpt = _F.adjust_saturation(inpt, params["saturation_factor"])
        if params["hue_factor"] is not None:
            inpt = _F.adjust_hue(inpt, params["hue_factor"])
        if params["contrast_factor"] is not None and not params["contrast_before"]:
            inpt = _F.adjust_contrast(inpt, params["contrast_factor"])
        if params["channel_permutation"] is not None:
            inpt = permute_channels(inpt, params["channel_permutation"])
        return inpt

    def __repr__(self):
        return (f"{self.__class__.__name__}(brightness={self.brightness}, contrast={self.contrast}, "
                f"saturation={self.saturation}, hue={self.hue}, p={self.p})")
