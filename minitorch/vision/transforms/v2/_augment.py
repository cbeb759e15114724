"""Batch mixing of ``torchvision.transforms.v2``: MixUp and CutMix, on a batch of float images ``(B, C, H, W)``
and its labels (class indices ``(B,)`` or probabilities ``(B, num_classes)``)."""
import math

import numpy as np

import minitorch
from minitorch.distributions import Beta
from minitorch.tensor import Tensor

from ..functional import _is_pil
from ._sample import _flatten

__all__ = ["MixUp", "CutMix"]


def _default_labels(sample):
    """The labels of a sample: the second element of a tuple/list, or the "labels" entry of a dict."""
    if isinstance(sample, (tuple, list)) and len(sample) >= 2:
        return sample[1]
    if isinstance(sample, dict):
        for key in sample:
            if isinstance(key, str) and key.lower() == "labels":
                return sample[key]
    raise ValueError("Could not infer where the labels are in the sample. Try passing a callable as the "
                     "labels_getter parameter? If there are no labels in the sample by design, pass "
                     "labels_getter=None.")


class _MixBase:
    def __init__(self, *, alpha=1.0, num_classes=None, labels_getter="default"):
        self.alpha = float(alpha)
        self._dist = Beta(minitorch.tensor([alpha]), minitorch.tensor([alpha]))
        self.num_classes = num_classes
        if labels_getter == "default":
            labels_getter = _default_labels
        elif not callable(labels_getter):
            raise ValueError(f"labels_getter should either be 'default', a callable, or None, but got "
                             f"{labels_getter}.")
        self._labels_getter = labels_getter

    def __call__(self, *inputs):
        sample = inputs if len(inputs) > 1 else inputs[0]
        leaves, rebuild = _flatten(sample)
        if any(_is_pil(leaf) for leaf in leaves):
            raise ValueError(f"{type(self).__name__}() does not support PIL images, bounding boxes and masks.")
        labels = self._labels_getter(sample)
        if not isinstance(labels, Tensor):
            raise ValueError(f"The labels must be a tensor, but got {type(labels)} instead.")
        if labels.dim() not in (1, 2):
            raise ValueError(f"labels should be index based with shape (batch_size,) or probability based with "
                             f"shape (batch_size, num_classes), but got a tensor of shape {labels.shape} instead.")
        if labels.dim() == 2 and self.num_classes is not None and labels.shape[-1] != self.num_classes:
            raise ValueError(f"When passing 2D labels, the number of elements in last dimension must match "
                             f"num_classes: {labels.shape[-1]} != {self.num_classes}. You can Leave num_classes to "
                             "None.")
        if labels.dim() == 1 and self.num_classes is None:
            raise ValueError("num_classes must be passed if the labels are index-based (1D)")
        image_at = next((i for i, leaf in enumerate(leaves) if isinstance(leaf, Tensor) and leaf is not labels), None)
        batch_size = labels.shape[0]
        params = self.make_params(leaves[image_at] if image_at is not None else None)
        out = list(leaves)
        for i, leaf in enumerate(leaves):
            if leaf is labels:
                out[i] = self._mix_labels(leaf, params)
            elif i == image_at:
                out[i] = self._mix_images(self._checked(leaf, batch_size), params)
        return rebuild(out)

    @staticmethod
    def _checked(images, batch_size):
        if images.dim() != 4:
            raise ValueError(f"Expected a batched input with 4 dims, but got {images.dim()} dimensions instead.")
        if images.shape[0] != batch_size:
            raise ValueError(f"The batch size of the image or video does not match the batch size of the labels: "
                             f"{images.shape[0]} != {batch_size}.")
        return images

    def _mix_labels_by(self, labels, lam):
        a = labels.detach().numpy()
        if a.ndim == 1:
            if a.size and (a.min() < 0 or a.max() >= self.num_classes):
                raise ValueError(f"labels should be class indices in [0, {self.num_classes}), got values from "
                                 f"{a.min()} to {a.max()}")
            a = np.eye(self.num_classes, dtype=np.int64)[a]
        if a.dtype.kind != "f":
            a = a.astype(np.float32)
        lam = a.dtype.type(lam)
        return minitorch.from_numpy(np.ascontiguousarray(np.roll(a, 1, axis=0) * (1 - lam) + a * lam))

    def __repr__(self):
        return f"{self.__class__.__name__}(alpha={self.alpha}, num_classes={self.num_classes})"


def _float_images(images):
    a = images.detach().numpy()
    if a.dtype.kind != "f":
        raise RuntimeError(f"result type Float can't be cast to the desired output type {images.dtype}: mix a float "
                           "batch (ToDtype(float32, scale=True) first)")
    return a


class MixUp(_MixBase):
    """MixUp: the batch blended with itself rolled by one, ``lam * x + (1 - lam) * roll(x)``, with lam drawn from
    Beta(alpha, alpha); the labels (one-hot for index labels) are blended the same way.

    Args:
        alpha (float): the Beta concentration.
        num_classes (int): the number of classes, needed for index labels.
        labels_getter: "default" (second element of a tuple, "labels" of a dict) or a callable.

    Example::

        >>> images, labels = v2.MixUp(num_classes=10)(images, labels)
    """

    def make_params(self, images):
        return {"lam": float(self._dist.sample(()).item())}

    def _mix_labels(self, labels, params):
        return self._mix_labels_by(labels, params["lam"])

    def _mix_images(self, images, params):
        a = _float_images(images)
        lam = a.dtype.type(params["lam"])
        return minitorch.from_numpy(np.ascontiguousarray(np.roll(a, 1, axis=0) * (1 - lam) + a * lam))


class CutMix(_MixBase):
    """CutMix: a random box of every image is replaced by the same box of the previous image in the batch; the
    labels are blended by the area kept. Arguments as :class:`MixUp`."""

    def make_params(self, images):
        lam = float(self._dist.sample(()).item())
        height, width = images.shape[-2:]
        r_x = int(minitorch.randint(width, size=(1,)).item())
        r_y = int(minitorch.randint(height, size=(1,)).item())
        r = 0.5 * math.sqrt(1.0 - lam)
        r_w_half, r_h_half = int(r * width), int(r * height)
        x1, y1 = max(r_x - r_w_half, 0), max(r_y - r_h_half, 0)
        x2, y2 = min(r_x + r_w_half, width), min(r_y + r_h_half, height)
        lam_adjusted = float(1.0 - (x2 - x1) * (y2 - y1) / (width * height))
        return {"box": (x1, y1, x2, y2), "lam_adjusted": lam_adjusted}

    def _mix_labels(self, labels, params):
        return self._mix_labels_by(labels, params["lam_adjusted"])

    def _mix_images(self, images, params):
        a = images.detach().numpy()
        x1, y1, x2, y2 = params["box"]
        out = a.copy()
        out[..., y1:y2, x1:x2] = np.roll(a, 1, axis=0)[..., y1:y2, x1:x2]
        return minitorch.from_numpy(out)
