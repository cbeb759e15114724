"""Transforms of ``torchvision.transforms.v2``: the v1 classes, taking several inputs at once, plus ``ToImage``,
``ToDtype`` and ``ToPureTensor``.

A v2 transform takes one input or several (``transform(img, label)``, or a tuple, list or dict of them) and returns
the same structure. minitorch has no ``tv_tensors`` (Image, BoundingBoxes, Mask, Video), so v2's rule for plain
inputs decides what the image is: the PIL image when there is one, otherwise the first tensor (or NumPy array);
everything else (labels, further tensors, strings) passes through unchanged. A sample with two PIL images is
refused: without tv_tensors the transforms cannot share their random parameters between images.

Example::

    >>> transform = v2.Compose([v2.ToImage(), v2.RandAugment(), v2.ToDtype(minitorch.float32, scale=True),
    ...                         v2.Normalize((0.5,), (0.5,))])
    >>> img, label = transform(pil_image, 3)
"""
import warnings

import minitorch
from minitorch.tensor import Tensor

import minitorch.vision.transforms as _v1

from .. import __all__ as _v1_names
from . import functional

_NOT_CLASSES = {"functional", "InterpolationMode", "AutoAugmentPolicy", "Compose", "Lambda", "ToTensor",
                "RandomTransforms"}


from ._sample import Transform, _flatten  # noqa: F401


def _wrap(cls):
    """The v2 form of a v1 transform class: same arguments and parameter draws, several inputs accepted."""
    def _one(self, inpt):
        return cls.__call__(self, inpt)
    return type(cls.__name__, (Transform, cls), {"_one": _one, "__module__": __name__,
                                                   "__doc__": cls.__doc__, "__call__": Transform.__call__})


_wrapped = []
for _name in _v1_names:
    _obj = getattr(_v1, _name)
    if _name in _NOT_CLASSES or not isinstance(_obj, type):
        continue
    globals()[_name] = _wrap(_obj)
    _wrapped.append(_name)

# v2-only classes that the v1 modules define without exporting
for _name in ("RandomResize",):
    _cls = getattr(getattr(_v1, "_geometry_classes", None), _name, None)
    if _cls is not None:
        globals()[_name] = _wrap(_cls)
        _wrapped.append(_name)

InterpolationMode = _v1.InterpolationMode
AutoAugmentPolicy = _v1.AutoAugmentPolicy


class Compose:
    """Apply transforms one after another; several inputs travel together (``Compose(ts)(img, label)``)."""

    def __init__(self, transforms):
        if not isinstance(transforms, (list, tuple)):
            raise TypeError("Argument transforms should be a sequence of callables")
        if not transforms:
            raise ValueError("Pass at least one transform")
        self.transforms = transforms

    def __call__(self, *inputs):
        unpack = len(inputs) > 1
        for t in self.transforms:
            outputs = t(*inputs)
            inputs = outputs if unpack else (outputs,)
        return outputs

    def __repr__(self):
        lines = "".join(f"\n    {t}" for t in self.transforms)
        return f"{self.__class__.__name__}({lines}\n)"


class Lambda(Transform):
    """Apply ``lambd`` to every input whose type is one of ``types`` (every input when none are given)."""

    def __init__(self, lambd, *types):
        if not callable(lambd):
            raise TypeError(f"Argument lambd should be callable, got {type(lambd).__name__!r}")
        self.lambd = lambd
        self.types = types or (object,)

    def __call__(self, *inputs):
        sample = inputs if len(inputs) > 1 else inputs[0]
        leaves, rebuild = _flatten(sample)
        return rebuild([self.lambd(x) if isinstance(x, self.types) else x for x in leaves])

    def __repr__(self):
        return f"{self.__class__.__name__}({getattr(self.lambd, '__name__', self.lambd)}, types={list(self.types)})"


class ToTensor(Transform, _v1.ToTensor):
    """Deprecated in v2: use ``Compose([ToImage(), ToDtype(minitorch.float32, scale=True)])``."""

    def __init__(self):
        warnings.warn("The transform `ToTensor()` is deprecated and will be removed in a future release. Instead, "
                      "please use `v2.Compose([v2.ToImage(), v2.ToDtype(torch.float32, scale=True)])`.Output is "
                      "equivalent up to float precision.")

    def _one(self, inpt):
        return _v1.ToTensor.__call__(self, inpt)

    __call__ = Transform.__call__


class ToImage(Transform):
    """PIL image, NumPy ``HxW[xC]`` array or tensor -> an image tensor ``(C, H, W)`` (values unchanged)."""

    def _one(self, inpt):
        return functional.to_image(inpt)

    def __repr__(self):
        return f"{self.__class__.__name__}()"


class ToPureTensor(Transform):
    """Plain tensors out of tv_tensors (minitorch has none, so tensors pass unchanged; PIL images too)."""

    def _one(self, inpt):
        return inpt

    def __repr__(self):
        return f"{self.__class__.__name__}()"


class ToDtype(Transform):
    """Convert the image tensor to ``dtype``, rescaling the values between the dtypes' ranges when ``scale``.

    Args:
        dtype: a dtype, or a dict from input type (``minitorch.Tensor``) or ``"others"`` to a dtype (or None to
            leave those inputs alone).
        scale (bool): map value ranges (uint8 [0, 255] <-> float [0, 1]) as ``ConvertImageDtype``.
    """

    def __init__(self, dtype, scale=False):
        if not isinstance(dtype, (dict, minitorch.dtype)):
            raise ValueError(f"dtype must be a dict or a torch.dtype, got {type(dtype)} instead")
        self.dtype = dtype
        self.scale = scale

    def _one(self, inpt):
        if not isinstance(inpt, Tensor):
            return inpt
        if isinstance(self.dtype, dict):
            if type(inpt) in self.dtype:
                dtype = self.dtype[type(inpt)]
            elif "others" in self.dtype:
                dtype = self.dtype["others"]
            else:
                raise ValueError(f"No dtype was specified for type {type(inpt)}. If you only need to convert the "
                                 "dtype of images or videos, you can just pass e.g. dtype=torch.float32. If you're "
                                 "passing a dict as dtype, you can use \"others\" as a catch-all key e.g. "
                                 "dtype={tv_tensors.Mask: torch.int64, \"others\": None} to pass-through the rest "
                                 "of the inputs.")
            if dtype is None:
                if self.scale:
                    warnings.warn("scale was set to True but no dtype was specified for images or videos: no "
                                  "scaling will be done.")
                return inpt
        else:
            dtype = self.dtype
        return functional.to_dtype(inpt, dtype, scale=self.scale)

    def __repr__(self):
        return f"{self.__class__.__name__}(dtype={self.dtype}, scale={self.scale})"


class RandomPosterize(Transform, _v1.RandomPosterize):
    __doc__ = _v1.RandomPosterize.__doc__ + " Float images are quantized to 2 ** bits levels."

    def _apply(self, img):
        return functional.posterize(img, self.bits)

    def _one(self, inpt):
        return _v1.RandomPosterize.forward(self, inpt)

    __call__ = Transform.__call__


class RandomSolarize(Transform, _v1.RandomSolarize):
    __doc__ = _v1.RandomSolarize.__doc__

    def _apply(self, img):
        return functional.solarize(img, self.threshold)

    def _one(self, inpt):
        return _v1.RandomSolarize.forward(self, inpt)

    __call__ = Transform.__call__


class RandomEqualize(Transform, _v1.RandomEqualize):
    __doc__ = _v1.RandomEqualize.__doc__ + " Float images are equalized on their uint8 levels."

    def _apply(self, img):
        return functional.equalize(img)

    def _one(self, inpt):
        return _v1.RandomEqualize.forward(self, inpt)

    __call__ = Transform.__call__


class RandomAutocontrast(Transform, _v1.RandomAutocontrast):
    __doc__ = _v1.RandomAutocontrast.__doc__ + " With v2's arithmetic."

    def _apply(self, img):
        return functional.autocontrast(img)

    def _one(self, inpt):
        return _v1.RandomAutocontrast.forward(self, inpt)

    __call__ = Transform.__call__


class Identity(Transform):
    """Return the inputs unchanged."""

    def _one(self, inpt):
        return inpt

    def __repr__(self):
        return f"{self.__class__.__name__}()"


from ._augment import CutMix, MixUp  # noqa: E402,F401
from ._auto_augment import AugMix, AutoAugment, RandAugment, TrivialAugmentWide  # noqa: E402,F401
from ._color import RGB, RandomChannelPermutation, RandomPhotometricDistort  # noqa: E402,F401

__all__ = sorted(set(_wrapped) | {"Transform", "Compose", "Lambda", "ToTensor", "ToImage", "ToPureTensor",
                                  "ToDtype", "InterpolationMode", "AutoAugmentPolicy", "functional", "Identity",
                                  "CutMix", "MixUp", "RGB", "RandomChannelPermutation", "RandomPhotometricDistort"})
