"""``VisionDataset``, the base of the vision datasets, and ``StandardTransform``, as in torchvision."""
import os

from minitorch.utils.data import Dataset

__all__ = ["VisionDataset", "StandardTransform"]


class VisionDataset(Dataset):
    """Base class of datasets whose items are (input, target) pairs read from files under ``root``.

    Args:
        root: the dataset's folder (``~`` is expanded); may be None for datasets without files.
        transforms: a callable taking and returning ``(input, target)``.
        transform: applied to the input only.
        target_transform: applied to the target only.

    Pass either ``transforms`` or ``transform``/``target_transform``; the latter pair is wrapped into a
    ``StandardTransform`` stored as ``self.transforms``.
    """

    _repr_indent = 4

    def __init__(self, root=None, transforms=None, transform=None, target_transform=None):
        if isinstance(root, str):
            root = os.path.expanduser(root)
        elif isinstance(root, os.PathLike):
            root = os.path.expanduser(os.fspath(root))
        self.root = root

        separate = transform is not None or target_transform is not None
        if transforms is not None and separate:
            raise ValueError("Only transforms or transform/target_transform can be passed as argument")
        self.transform = transform
        self.target_transform = target_transform
        if separate:
            transforms = StandardTransform(transform, target_transform)
        self.transforms = transforms

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} does not implement __getitem__")

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} does not implement __len__")

    def extra_repr(self):
        """Extra lines for ``repr`` (one per line); subclasses say their split here."""
        return ""

    def __repr__(self):
        body = [f"Number of datapoints: {self.__len__()}"]
        if self.root is not None:
            body.append(f"Root location: {self.root}")
        body += self.extra_repr().splitlines()
        if getattr(self, "transforms", None) is not None:
            body.append(repr(self.transforms))  # one entry: only its first line is indented, as torchvision prints
        return "\n".join([f"Dataset {self.__class__.__name__}"] + [" " * self._repr_indent + line for line in body])

    def _format_transform_repr(self, transform, head):
        lines = repr(transform).splitlines()
        return [head + lines[0]] + [" " * len(head) + line for line in lines[1:]]


class StandardTransform:
    """Applies ``transform`` to the input and ``target_transform`` to the target of an ``(input, target)`` pair."""

    def __init__(self, transform=None, target_transform=None):
        self.transform = transform
        self.target_transform = target_transform

    def __call__(self, input, target):
        if self.transform is not None:
            input = self.transform(input)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return input, target

    @staticmethod
    def _format(transform, head):
        lines = repr(transform).splitlines()
        return [head + lines[0]] + [" " * len(head) + line for line in lines[1:]]

    def __repr__(self):
        body = [self.__class__.__name__]
        if self.transform is not None:
            body += self._format(self.transform, "Transform: ")
        if self.target_transform is not None:
            body += self._format(self.target_transform, "Target transform: ")
        return "\n".join(body)
