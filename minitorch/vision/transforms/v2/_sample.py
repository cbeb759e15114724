"""Samples of the v2 transforms: one input or a structure (tuple, list, dict) of them, and which input is the
image (v2's rule for plain inputs: the PIL image when there is one, else the first tensor or NumPy array)."""
import numpy as np

from minitorch.tensor import Tensor

from ..functional import _is_pil


def _flatten(sample):
    """The leaves of nested tuples, lists and dicts, and a function that rebuilds the structure from new leaves."""
    if isinstance(sample, (tuple, list)):
        parts = [_flatten(s) for s in sample]

        def rebuild(leaves, parts=parts, kind=type(sample)):
            out, at = [], 0
            for sub, re in parts:
                out.append(re(leaves[at:at + len(sub)]))
                at += len(sub)
            return kind(out)
        return [leaf for sub, _ in parts for leaf in sub], rebuild
    if isinstance(sample, dict):
        keys = list(sample)
        parts = [_flatten(sample[k]) for k in keys]

        def rebuild(leaves, parts=parts, keys=keys, kind=type(sample)):
            out, at = kind(), 0
            for k, (sub, re) in zip(keys, parts):
                out[k] = re(leaves[at:at + len(sub)])
                at += len(sub)
            return out
        return [leaf for sub, _ in parts for leaf in sub], rebuild
    return [sample], lambda leaves: leaves[0]


def _image_index(leaves):
    """Which leaf is the image: the PIL image if any, else the first tensor or array (None when there is none)."""
    pils = [i for i, leaf in enumerate(leaves) if _is_pil(leaf)]
    if len(pils) > 1:
        raise TypeError(f"the sample holds {len(pils)} PIL images; minitorch's v2 transforms take one image per "
                        "sample (there are no tv_tensors to share random parameters between images)")
    if pils:
        return pils[0]
    for i, leaf in enumerate(leaves):
        if isinstance(leaf, (Tensor, np.ndarray)):
            return i
    return None


class Transform:
    """Base of the v2 transforms. ``__call__(*inputs)`` finds the image of the sample, draws
    ``params = self.make_params([image])`` and replaces the image by ``self.transform(image, params)``; everything
    else in the sample passes through. A custom transform overrides ``make_params`` and ``transform`` as in
    torchvision (the built-in ones implement ``_one(image)``)."""

    def make_params(self, flat_inputs):
        return {}

    def transform(self, inpt, params):
        return self._one(inpt)

    def _one(self, inpt):
        raise NotImplementedError(f"{type(self).__name__} should override transform(inpt, params)")

    def __call__(self, *inputs):
        sample = inputs if len(inputs) > 1 else inputs[0]
        leaves, rebuild = _flatten(sample)
        index = _image_index(leaves)
        if index is None:
            return sample
        leaves = list(leaves)
        params = self.make_params([leaves[index]])
        leaves[index] = self.transform(leaves[index], params)
        return rebuild(leaves)
