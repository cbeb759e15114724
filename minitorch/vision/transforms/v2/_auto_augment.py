"""The augmentation policies of ``torchvision.transforms.v2``: v1's policies with v2's random draws (0-d draws,
a sign by ``rand() <= 0.5``, AutoAugment's probabilities drawn step by step) and v2's operations, which take float
images too (Solarize thresholds are a fraction of the dtype's maximum; Posterize and Equalize accept floats)."""
import numpy as np

import minitorch
from minitorch.tensor import Tensor

from .. import _color
from .. import autoaugment as _v1
from ..functional import get_dimensions
from . import functional as F2
from ._sample import Transform

__all__ = ["AutoAugment", "RandAugment", "TrivialAugmentWide", "AugMix"]


def _apply_op(img, op_name, magnitude, interpolation, fill):
    if op_name == "Posterize":
        return F2.posterize(img, int(magnitude))
    if op_name == "Solarize":
        bound = _color._max_value(np.dtype(img.dtype.np)) if isinstance(img, Tensor) else 255.0
        return F2.solarize(img, bound * magnitude)
    if op_name == "Equalize":
        return F2.equalize(img)
    if op_name == "AutoContrast":
        return F2.autocontrast(img)
    return _v1._apply_op(img, op_name, magnitude, interpolation=interpolation, fill=fill)


class _V2Policy(Transform):
    @staticmethod
    def _pick(n):
        return int(minitorch.randint(n, ()).item())

    @staticmethod
    def _negate():
        return bool(minitorch.rand(()).item() <= 0.5)

    @staticmethod
    def _apply(img, op_name, magnitude, interpolation, fill):
        return _apply_op(img, op_name, magnitude, interpolation, fill)

    def _space(self, num_bins, height, width):
        """v1's table with v2's Solarize (fractions 1 -> 0 of the maximum) and None for operations without bins."""
        space = super()._space(num_bins, height, width)
        space = {name: (None if mags.dim() == 0 else mags, signed) for name, (mags, signed) in space.items()}
        if "Solarize" in space:
            space["Solarize"] = (_v1._linspace(1.0, 0.0, num_bins), False)
        return space

    def _one(self, inpt):
        return self.forward(inpt)


class AutoAugment(_V2Policy, _v1.AutoAugment):
    __doc__ = _v1.AutoAugment.__doc__

    def forward(self, img):
        fill = _v1._fill_for(img, self.fill)
        _, height, width = get_dimensions(img)
        policy = self.policies[self._pick(len(self.policies))]
        op_meta = self._space(10, height, width)
        for op_name, p, magnitude_id in policy:
            if not minitorch.rand(()).item() <= p:
                continue
            magnitudes, signed = op_meta[op_name]
            if magnitudes is not None:
                magnitude = _v1._magnitude_of(magnitudes, magnitude_id)
                if signed and self._negate():
                    magnitude *= -1.0
            else:
                magnitude = 0.0
            img = self._apply(img, op_name, magnitude, self.interpolation, fill)
        return img


class RandAugment(_V2Policy, _v1.RandAugment):
    __doc__ = _v1.RandAugment.__doc__


class TrivialAugmentWide(_V2Policy, _v1.TrivialAugmentWide):
    __doc__ = _v1.TrivialAugmentWide.__doc__


class AugMix(_V2Policy, _v1.AugMix):
    __doc__ = _v1.AugMix.__doc__
