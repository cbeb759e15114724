"""Learned and random augmentation policies, as ``torchvision.transforms.autoaugment``: AutoAugment (with the
ImageNet, CIFAR10 and SVHN policies of the AutoAugment paper), RandAugment, TrivialAugmentWide and AugMix.

They take PIL images ("L" or "RGB") or uint8 tensors ``(..., 1 or 3, H, W)`` (Solarize thresholds are on the
0-255 scale, so float tensors are refused by the solarize step as in torchvision). Random numbers come from
minitorch's default generator in torchvision's order, so ``minitorch.manual_seed`` reproduces a run.

Example::

    >>> augment = transforms.Compose([transforms.AutoAugment(transforms.AutoAugmentPolicy.CIFAR10),
    ...                               transforms.ToTensor()])
"""
import math
from enum import Enum

import numpy as np

import minitorch
from minitorch.tensor import Tensor

from . import _color
from . import functional as F
from .functional import InterpolationMode, get_dimensions

__all__ = ["AutoAugmentPolicy", "AutoAugment", "RandAugment", "TrivialAugmentWide", "AugMix"]


def _affine(img, angle, translate, scale, shear, interpolation, fill, center=None):
    return F.affine(img, angle=angle, translate=translate, scale=scale, shear=shear, interpolation=interpolation,
                    fill=fill, center=center)


def _apply_op(img, op_name, magnitude, interpolation, fill):
    """One named augmentation at ``magnitude`` (its meaning depends on the operation)."""
    if op_name == "ShearX":
        # the magnitude is the shear's tangent; the affine takes its angle
        return _affine(img, 0.0, [0, 0], 1.0, [math.degrees(math.atan(magnitude)), 0.0], interpolation, fill,
                       center=[0, 0])
    if op_name == "ShearY":
        return _affine(img, 0.0, [0, 0], 1.0, [0.0, math.degrees(math.atan(magnitude))], interpolation, fill,
                       center=[0, 0])
    if op_name == "TranslateX":
        return _affine(img, 0.0, [int(magnitude), 0], 1.0, [0.0, 0.0], interpolation, fill)
    if op_name == "TranslateY":
        return _affine(img, 0.0, [0, int(magnitude)], 1.0, [0.0, 0.0], interpolation, fill)
    if op_name == "Rotate":
        return F.rotate(img, magnitude, interpolation=interpolation, fill=fill)
    if op_name == "Brightness":
        return _color.adjust_brightness(img, 1.0 + magnitude)
    if op_name == "Color":
        return _color.adjust_saturation(img, 1.0 + magnitude)
    if op_name == "Contrast":
        return _color.adjust_contrast(img, 1.0 + magnitude)
    if op_name == "Sharpness":
        return _color.adjust_sharpness(img, 1.0 + magnitude)
    if op_name == "Posterize":
        return _color.posterize(img, int(magnitude))
    if op_name == "Solarize":
        return _color.solarize(img, magnitude)
    if op_name == "AutoContrast":
        return _color.autocontrast(img)
    if op_name == "Equalize":
        return _color.equalize(img)
    if op_name == "Invert":
        return _color.invert(img)
    if op_name == "Identity":
        return img
    raise ValueError(f"The provided operator {op_name} is not recognized.")


class AutoAugmentPolicy(Enum):
    """The policies learned on ImageNet, CIFAR10 and SVHN in the AutoAugment paper."""

    IMAGENET = "imagenet"
    CIFAR10 = "cifar10"
    SVHN = "svhn"


# sub-policies: two (operation, probability, magnitude bin) steps each; the tables of the AutoAugment paper
_POLICIES = {
    AutoAugmentPolicy.IMAGENET: [
        (("Posterize", 0.4, 8), ("Rotate", 0.6, 9)), (("Solarize", 0.6, 5), ("AutoContrast", 0.6, None)),
        (("Equalize", 0.8, None), ("Equalize", 0.6, None)), (("Posterize", 0.6, 7), ("Posterize", 0.6, 6)),
        (("Equalize", 0.4, None), ("Solarize", 0.2, 4)), (("Equalize", 0.4, None), ("Rotate", 0.8, 8)),
        (("Solarize", 0.6, 3), ("Equalize", 0.6, None)), (("Posterize", 0.8, 5), ("Equalize", 1.0, None)),
        (("Rotate", 0.2, 3), ("Solarize", 0.6, 8)), (("Equalize", 0.6, None), ("Posterize", 0.4, 6)),
        (("Rotate", 0.8, 8), ("Color", 0.4, 0)), (("Rotate", 0.4, 9), ("Equalize", 0.6, None)),
        (("Equalize", 0.0, None), ("Equalize", 0.8, None)), (("Invert", 0.6, None), ("Equalize", 1.0, None)),
        (("Color", 0.6, 4), ("Contrast", 1.0, 8)), (("Rotate", 0.8, 8), ("Color", 1.0, 2)),
        (("Color", 0.8, 8), ("Solarize", 0.8, 7)), (("Sharpness", 0.4, 7), ("Invert", 0.6, None)),
        (("ShearX", 0.6, 5), ("Equalize", 1.0, None)), (("Color", 0.4, 0), ("Equalize", 0.6, None)),
        (("Equalize", 0.4, None), ("Solarize", 0.2, 4)), (("Solarize", 0.6, 5), ("AutoContrast", 0.6, None)),
        (("Invert", 0.6, None), ("Equalize", 1.0, None)), (("Color", 0.6, 4), ("Contrast", 1.0, 8)),
        (("Equalize", 0.8, None), ("Equalize", 0.6, None)),
    ],
    AutoAugmentPolicy.CIFAR10: [
        (("Invert", 0.1, None), ("Contrast", 0.2, 6)), (("Rotate", 0.7, 2), ("TranslateX", 0.3, 9)),
        (("Sharpness", 0.8, 1), ("Sharpness", 0.9, 3)), (("ShearY", 0.5, 8), ("TranslateY", 0.7, 9)),
        (("AutoContrast", 0.5, None), ("Equalize", 0.9, None)), (("ShearY", 0.2, 7), ("Posterize", 0.3, 7)),
        (("Color", 0.4, 3), ("Brightness", 0.6, 7)), (("Sharpness", 0.3, 9), ("Brightness", 0.7, 9)),
        (("Equalize", 0.6, None), ("Equalize", 0.5, None)), (("Contrast", 0.6, 7), ("Sharpness", 0.6, 5)),
        (("Color", 0.7, 7), ("TranslateX", 0.5, 8)), (("Equalize", 0.3, None), ("AutoContrast", 0.4, None)),
        (("TranslateY", 0.4, 3), ("Sharpness", 0.2, 6)), (("Brightness", 0.9, 6), ("Color", 0.2, 8)),
        (("Solarize", 0.5, 2), ("Invert", 0.0, None)), (("Equalize", 0.2, None), ("AutoContrast", 0.6, None)),
        (("Equalize", 0.2, None), ("Equalize", 0.6, None)), (("Color", 0.9, 9), ("Equalize", 0.6, None)),
        (("AutoContrast", 0.8, None), ("Solarize", 0.2, 8)), (("Brightness", 0.1, 3), ("Color", 0.7, 0)),
        (("Solarize", 0.4, 5), ("AutoContrast", 0.9, None)), (("TranslateY", 0.9, 9), ("TranslateY", 0.7, 9)),
        (("AutoContrast", 0.9, None), ("Solarize", 0.8, 3)), (("Equalize", 0.8, None), ("Invert", 0.1, None)),
        (("TranslateY", 0.7, 9), ("AutoContrast", 0.9, None)),
    ],
    AutoAugmentPolicy.SVHN: [
        (("ShearX", 0.9, 4), ("Invert", 0.2, None)), (("ShearY", 0.9, 8), ("Invert", 0.7, None)),
        (("Equalize", 0.6, None), ("Solarize", 0.6, 6)), (("Invert", 0.9, None), ("Equalize", 0.6, None)),
        (("Equalize", 0.6, None), ("Rotate", 0.9, 3)), (("ShearX", 0.9, 4), ("AutoContrast", 0.8, None)),
        (("ShearY", 0.9, 8), ("Invert", 0.4, None)), (("ShearY", 0.9, 5), ("Solarize", 0.2, 6)),
        (("Invert", 0.9, None), ("AutoContrast", 0.8, None)), (("Equalize", 0.6, None), ("Rotate", 0.9, 3)),
        (("ShearX", 0.9, 4), ("Solarize", 0.3, 3)), (("ShearY", 0.8, 8), ("Invert", 0.7, None)),
        (("Equalize", 0.9, None), ("TranslateY", 0.6, 6)), (("Invert", 0.9, None), ("Equalize", 0.6, None)),
        (("Contrast", 0.3, 3), ("Rotate", 0.8, 4)), (("Invert", 0.8, None), ("TranslateY", 0.0, 2)),
        (("ShearY", 0.7, 6), ("Solarize", 0.4, 8)), (("Invert", 0.6, None), ("Rotate", 0.8, 4)),
        (("ShearY", 0.3, 7), ("TranslateX", 0.9, 3)), (("ShearX", 0.1, 6), ("Invert", 0.6, None)),
        (("Solarize", 0.7, 2), ("TranslateY", 0.6, 7)), (("ShearY", 0.8, 4), ("Invert", 0.8, None)),
        (("ShearX", 0.7, 9), ("TranslateY", 0.8, 3)), (("ShearY", 0.8, 5), ("AutoContrast", 0.7, None)),
        (("ShearX", 0.7, 2), ("Invert", 0.1, None)),
    ],
}


def _linspace(start, end, steps):
    """``linspace`` in float32 as PyTorch evaluates it (the first half counted up from ``start``, the second half
    down from ``end``), built in NumPy: the magnitude tables are data-pipeline values, not kernel work."""
    i = np.arange(steps, dtype=np.float32)
    if steps == 1:
        return minitorch.from_numpy(np.array([start], dtype=np.float32))
    step = np.float64(np.float32(np.float32(np.float32(end) - np.float32(start)) / np.float32(steps - 1)))
    i = i.astype(np.float64)
    # a float32 step times an index is exact in float64: one rounding at the end, as PyTorch's fused multiply-add
    values = np.where(i < steps // 2, np.float64(np.float32(start)) + step * i,
                      np.float64(np.float32(end)) - step * (steps - 1 - i))
    return minitorch.from_numpy(values.astype(np.float32))


def _scalar(value):
    return minitorch.from_numpy(np.array(value, dtype=np.float32))


def _posterize_bits(num_bins, top, span):
    """``top - round(i / ((num_bins - 1) / span))`` for bins i, as int32 (the bits kept by Posterize)."""
    levels = np.round(np.arange(num_bins, dtype=np.float32) / np.float32((num_bins - 1) / span))
    return minitorch.from_numpy((top - levels).astype(np.int32))


def _fill_for(img, fill):
    """A number fill becomes one float per channel for tensors, as torchvision's policies pass it on."""
    if isinstance(img, Tensor):
        if isinstance(fill, (int, float)):
            return [float(fill)] * get_dimensions(img)[0]
        if fill is not None:
            return [float(f) for f in fill]
    return fill


def _magnitude_of(magnitudes, index):
    return float(magnitudes.numpy()[index])


def _has_bins(magnitudes):
    """Whether an operation has a magnitude table (v1 marks the ones without by a 0-d tensor, v2 by None)."""
    return magnitudes is not None and magnitudes.dim() > 0


class _Policy:
    """Shared draws and operations of the policies; ``transforms.v2`` overrides these hooks with v2's draws."""

    def __call__(self, img):
        return self.forward(img)

    @staticmethod
    def _pick(n):
        """A uniform index in [0, n): one ``randint`` draw."""
        return int(minitorch.randint(n, (1,)).item())

    @staticmethod
    def _negate():
        """Whether a signed magnitude is negated: one ``randint(2)`` draw."""
        return bool(minitorch.randint(2, (1,)).item())

    @staticmethod
    def _apply(img, op_name, magnitude, interpolation, fill):
        return _apply_op(img, op_name, magnitude, interpolation=interpolation, fill=fill)

    def _space(self, num_bins, height, width):
        return self._augmentation_space(num_bins, (height, width))


class AutoAugment(_Policy):
    """AutoAugment: one of the policy's 25 sub-policies, chosen at random, applied step by step.

    Args:
        policy (AutoAugmentPolicy): IMAGENET (default), CIFAR10 or SVHN.
        interpolation (InterpolationMode): for the geometric steps; NEAREST (default) or BILINEAR on tensors.
        fill (number or sequence, optional): value for pixels outside a transformed image.
    """

    def __init__(self, policy=AutoAugmentPolicy.IMAGENET, interpolation=InterpolationMode.NEAREST, fill=None):
        self.policy = policy
        self.interpolation = interpolation
        self.fill = fill
        self.policies = self._get_policies(policy)

    @staticmethod
    def _get_policies(policy):
        if policy not in _POLICIES:
            raise ValueError(f"The provided policy {policy} is not recognized.")
        return _POLICIES[policy]

    @staticmethod
    def _augmentation_space(num_bins, image_size):
        height, width = image_size
        return {
            # name: (magnitudes, signed)
            "ShearX": (_linspace(0.0, 0.3, num_bins), True),
            "ShearY": (_linspace(0.0, 0.3, num_bins), True),
            "TranslateX": (_linspace(0.0, 150.0 / 331.0 * width, num_bins), True),
            "TranslateY": (_linspace(0.0, 150.0 / 331.0 * height, num_bins), True),
            "Rotate": (_linspace(0.0, 30.0, num_bins), True),
            "Brightness": (_linspace(0.0, 0.9, num_bins), True),
            "Color": (_linspace(0.0, 0.9, num_bins), True),
            "Contrast": (_linspace(0.0, 0.9, num_bins), True),
            "Sharpness": (_linspace(0.0, 0.9, num_bins), True),
            "Posterize": (_posterize_bits(num_bins, 8, 4), False),
            "Solarize": (_linspace(255.0, 0.0, num_bins), False),
            "AutoContrast": (_scalar(0.0), False),
            "Equalize": (_scalar(0.0), False),
            "Invert": (_scalar(0.0), False),
        }

    @staticmethod
    def get_params(transform_num):
        """The sub-policy index, the two steps' probability draws and their sign draws."""
        policy_id = int(minitorch.randint(transform_num, (1,)).item())
        probs = minitorch.rand((2,))
        signs = minitorch.randint(2, (2,))
        return policy_id, probs, signs

    def forward(self, img):
        fill = _fill_for(img, self.fill)
        _, height, width = get_dimensions(img)
        transform_id, probs, signs = self.get_params(len(self.policies))
        probs, signs = probs.tolist(), signs.tolist()
        op_meta = self._space(10, height, width)
        for i, (op_name, p, magnitude_id) in enumerate(self.policies[transform_id]):
            if probs[i] <= p:
                magnitudes, signed = op_meta[op_name]
                magnitude = _magnitude_of(magnitudes, magnitude_id) if magnitude_id is not None else 0.0
                if signed and signs[i] == 0:
                    magnitude *= -1.0
                img = self._apply(img, op_name, magnitude, self.interpolation, fill)
        return img

    def __repr__(self):
        return f"{self.__class__.__name__}(policy={self.policy}, fill={self.fill})"


class RandAugment(_Policy):
    """RandAugment: ``num_ops`` operations drawn uniformly, all at the fixed bin ``magnitude``.

    Args:
        num_ops (int): operations applied one after another.
        magnitude (int): the magnitude bin, in [0, num_magnitude_bins).
        num_magnitude_bins (int): the number of magnitude bins.
        interpolation, fill: as AutoAugment.
    """

    def __init__(self, num_ops=2, magnitude=9, num_magnitude_bins=31, interpolation=InterpolationMode.NEAREST,
                 fill=None):
        self.num_ops = num_ops
        self.magnitude = magnitude
        self.num_magnitude_bins = num_magnitude_bins
        self.interpolation = interpolation
        self.fill = fill

    @staticmethod
    def _augmentation_space(num_bins, image_size):
        height, width = image_size
        return {
            "Identity": (_scalar(0.0), False),
            "ShearX": (_linspace(0.0, 0.3, num_bins), True),
            "ShearY": (_linspace(0.0, 0.3, num_bins), True),
            "TranslateX": (_linspace(0.0, 150.0 / 331.0 * width, num_bins), True),
            "TranslateY": (_linspace(0.0, 150.0 / 331.0 * height, num_bins), True),
            "Rotate": (_linspace(0.0, 30.0, num_bins), True),
            "Brightness": (_linspace(0.0, 0.9, num_bins), True),
            "Color": (_linspace(0.0, 0.9, num_bins), True),
            "Contrast": (_linspace(0.0, 0.9, num_bins), True),
            "Sharpness": (_linspace(0.0, 0.9, num_bins), True),
            "Posterize": (_posterize_bits(num_bins, 8, 4), False),
            "Solarize": (_linspace(255.0, 0.0, num_bins), False),
            "AutoContrast": (_scalar(0.0), False),
            "Equalize": (_scalar(0.0), False),
        }

    def forward(self, img):
        fill = _fill_for(img, self.fill)
        _, height, width = get_dimensions(img)
        op_meta = self._space(self.num_magnitude_bins, height, width)
        names = list(op_meta)
        for _ in range(self.num_ops):
            op_name = names[self._pick(len(op_meta))]
            magnitudes, signed = op_meta[op_name]
            magnitude = _magnitude_of(magnitudes, self.magnitude) if _has_bins(magnitudes) else 0.0
            if signed and self._negate():
                magnitude *= -1.0
            img = self._apply(img, op_name, magnitude, self.interpolation, fill)
        return img

    def __repr__(self):
        return (f"{self.__class__.__name__}(num_ops={self.num_ops}, magnitude={self.magnitude}, "
                f"num_magnitude_bins={self.num_magnitude_bins}, interpolation={self.interpolation}, "
                f"fill={self.fill})")


class TrivialAugmentWide(_Policy):
    """TrivialAugment (wide space): one operation drawn uniformly, at a magnitude bin drawn uniformly.

    Args:
        num_magnitude_bins (int): the number of magnitude bins.
        interpolation, fill: as AutoAugment.
    """

    def __init__(self, num_magnitude_bins=31, interpolation=InterpolationMode.NEAREST, fill=None):
        self.num_magnitude_bins = num_magnitude_bins
        self.interpolation = interpolation
        self.fill = fill

    @staticmethod
    def _augmentation_space(num_bins):
        return {
            "Identity": (_scalar(0.0), False),
            "ShearX": (_linspace(0.0, 0.99, num_bins), True),
            "ShearY": (_linspace(0.0, 0.99, num_bins), True),
            "TranslateX": (_linspace(0.0, 32.0, num_bins), True),
            "TranslateY": (_linspace(0.0, 32.0, num_bins), True),
            "Rotate": (_linspace(0.0, 135.0, num_bins), True),
            "Brightness": (_linspace(0.0, 0.99, num_bins), True),
            "Color": (_linspace(0.0, 0.99, num_bins), True),
            "Contrast": (_linspace(0.0, 0.99, num_bins), True),
            "Sharpness": (_linspace(0.0, 0.99, num_bins), True),
            "Posterize": (_posterize_bits(num_bins, 8, 6), False),
            "Solarize": (_linspace(255.0, 0.0, num_bins), False),
            "AutoContrast": (_scalar(0.0), False),
            "Equalize": (_scalar(0.0), False),
        }

    def forward(self, img):
        fill = _fill_for(img, self.fill)
        _, height, width = get_dimensions(img)
        op_meta = self._space(self.num_magnitude_bins, height, width)
        op_name = list(op_meta)[self._pick(len(op_meta))]
        magnitudes, signed = op_meta[op_name]
        magnitude = (_magnitude_of(magnitudes, self._pick(self.num_magnitude_bins))
                     if _has_bins(magnitudes) else 0.0)
        if signed and self._negate():
            magnitude *= -1.0
        return self._apply(img, op_name, magnitude, self.interpolation, fill)

    def _space(self, num_bins, height, width):
        return self._augmentation_space(num_bins)

    def __repr__(self):
        return (f"{self.__class__.__name__}(num_magnitude_bins={self.num_magnitude_bins}, "
                f"interpolation={self.interpolation}, fill={self.fill})")


class AugMix(_Policy):
    """AugMix: ``mixture_width`` random chains of operations, mixed with Dirichlet weights and then blended with
    the original image by a Beta(alpha, alpha) weight.

    Args:
        severity (int): the magnitude bins drawn from, 1 to 10.
        mixture_width (int): the number of augmentation chains.
        chain_depth (int): operations per chain; -1 draws 1 to 3 per chain.
        alpha (float): the Dirichlet / Beta concentration.
        all_ops (bool): also use Brightness, Color, Contrast and Sharpness.
        interpolation, fill: as AutoAugment (default interpolation BILINEAR).
    """

    _PARAMETER_MAX = 10

    def __init__(self, severity=3, mixture_width=3, chain_depth=-1, alpha=1.0, all_ops=True,
                 interpolation=InterpolationMode.BILINEAR, fill=None):
        if not (1 <= severity <= self._PARAMETER_MAX):
            raise ValueError(f"The severity must be between [1, {self._PARAMETER_MAX}]. Got {severity} instead.")
        self.severity = severity
        self.mixture_width = mixture_width
        self.chain_depth = chain_depth
        self.alpha = alpha
        self.all_ops = all_ops
        self.interpolation = interpolation
        self.fill = fill

    def _augmentation_space(self, num_bins, image_size):
        height, width = image_size
        space = {
            "ShearX": (_linspace(0.0, 0.3, num_bins), True),
            "ShearY": (_linspace(0.0, 0.3, num_bins), True),
            "TranslateX": (_linspace(0.0, width / 3.0, num_bins), True),
            "TranslateY": (_linspace(0.0, height / 3.0, num_bins), True),
            "Rotate": (_linspace(0.0, 30.0, num_bins), True),
            "Posterize": (_posterize_bits(num_bins, 4, 4), False),
            "Solarize": (_linspace(255.0, 0.0, num_bins), False),
            "AutoContrast": (_scalar(0.0), False),
            "Equalize": (_scalar(0.0), False),
        }
        if self.all_ops:
            space.update({
                "Brightness": (_linspace(0.0, 0.9, num_bins), True),
                "Color": (_linspace(0.0, 0.9, num_bins), True),
                "Contrast": (_linspace(0.0, 0.9, num_bins), True),
                "Sharpness": (_linspace(0.0, 0.9, num_bins), True),
            })
        return space

    def _sample_dirichlet(self, params):
        """One Dirichlet draw per row of ``params`` (a method, so that tests can replace it)."""
        return minitorch._sample_dirichlet(params)

    def forward(self, orig_img):
        fill = self.fill
        _, height, width = get_dimensions(orig_img)
        if isinstance(orig_img, Tensor):
            img = orig_img
            fill = _fill_for(img, fill)
        else:
            img = F.pil_to_tensor(orig_img)
        op_meta = self._space(self._PARAMETER_MAX, height, width)
        names = list(op_meta)

        orig_dims = list(img.shape)
        planes = img.detach().numpy()
        planes = planes.reshape([1] * max(4 - planes.ndim, 0) + orig_dims)
        batch = minitorch.from_numpy(np.ascontiguousarray(planes))
        n = planes.shape[0]
        batch_dims = [n] + [1] * (planes.ndim - 1)
        # Beta(alpha, alpha) weights of original vs augmented, as a two-parameter Dirichlet per image
        m = self._sample_dirichlet(minitorch.tensor([self.alpha, self.alpha]).expand(n, -1)).numpy()
        # the chains' mixing weights, scaled by the augmented share
        combined = self._sample_dirichlet(minitorch.tensor([self.alpha] * self.mixture_width).expand(n, -1))
        combined = combined.numpy() * m[:, 1].reshape(n, -1)

        # mixed on the host in the weights' precision (float32 for uint8 images), then truncated to the image dtype
        mix = m[:, 0].reshape(batch_dims) * planes
        for i in range(self.mixture_width):
            aug = batch
            depth = (self.chain_depth if self.chain_depth > 0
                     else int(minitorch.randint(low=1, high=4, size=(1,)).item()))
            for _ in range(depth):
                op_name = names[self._pick(len(op_meta))]
                magnitudes, signed = op_meta[op_name]
                magnitude = _magnitude_of(magnitudes, self._pick(self.severity)) if _has_bins(magnitudes) else 0.0
                if signed and self._negate():
                    magnitude *= -1.0
                aug = self._apply(aug, op_name, magnitude, self.interpolation, fill)
            mix += combined[:, i].reshape(batch_dims) * aug.numpy()
        mix = minitorch.from_numpy(np.ascontiguousarray(mix.reshape(orig_dims).astype(planes.dtype)))
        if not isinstance(orig_img, Tensor):
            return F.to_pil_image(mix)
        return mix

    def __repr__(self):
        return (f"{self.__class__.__name__}(severity={self.severity}, mixture_width={self.mixture_width}, "
                f"chain_depth={self.chain_depth}, alpha={self.alpha}, all_ops={self.all_ops}, "
                f"interpolation={self.interpolation}, fill={self.fill})")
