"""``DatasetFolder`` and ``ImageFolder``: one sub-folder per class under ``root``, as torchvision lays them out::

    root/dog/xxx.png
    root/dog/breed/xxy.png      (files in nested folders belong to the top-level class folder)
    root/cat/123.jpg
"""
import os

from .vision import VisionDataset

__all__ = ["DatasetFolder", "ImageFolder", "IMG_EXTENSIONS", "has_file_allowed_extension", "is_image_file",
           "find_classes", "make_dataset", "pil_loader", "default_loader"]

IMG_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")


def has_file_allowed_extension(filename, extensions):
    """Whether ``filename`` ends (case-insensitively) with one of ``extensions`` (a string or a tuple)."""
    return filename.lower().endswith(extensions if isinstance(extensions, str) else tuple(extensions))


def is_image_file(filename):
    """Whether ``filename`` has one of the ``IMG_EXTENSIONS``."""
    return has_file_allowed_extension(filename, IMG_EXTENSIONS)


def find_classes(directory):
    """``(classes, class_to_idx)``: the sorted names of the folders in ``directory`` and their indices."""
    directory = os.fspath(directory)
    classes = sorted(entry.name for entry in os.scandir(directory) if entry.is_dir())
    if not classes:
        raise FileNotFoundError(f"Couldn't find any class folder in {directory}.")
    return classes, {name: i for i, name in enumerate(classes)}


def make_dataset(directory, class_to_idx=None, extensions=None, is_valid_file=None, allow_empty=False):
    """The ``(path, class_index)`` pairs of the valid files under each class folder of ``directory``.

    Files are walked recursively (following links) in sorted order. Exactly one of ``extensions`` and
    ``is_valid_file`` must be given. A class folder without any valid file is a FileNotFoundError unless
    ``allow_empty``.
    """
    directory = os.path.expanduser(os.fspath(directory))
    if class_to_idx is None:
        _, class_to_idx = find_classes(directory)
    elif not class_to_idx:
        raise ValueError("'class_to_index' must have at least one entry to collect any samples.")
    if (extensions is None) == (is_valid_file is None):
        raise ValueError("Both extensions and is_valid_file cannot be None or not None at the same time")
    if extensions is not None:
        def is_valid_file(path):
            return has_file_allowed_extension(path, extensions)

    instances = []
    found = set()
    for target_class in sorted(class_to_idx):
        class_index = class_to_idx[target_class]
        target_dir = os.path.join(directory, target_class)
        if not os.path.isdir(target_dir):
            continue
        for root, _, fnames in sorted(os.walk(target_dir, followlinks=True)):
            for fname in sorted(fnames):
                path = os.path.join(root, fname)
                if is_valid_file(path):
                    instances.append((path, class_index))
                    found.add(target_class)
    empty = set(class_to_idx) - found
    if empty and not allow_empty:
        msg = f"Found no valid file for the classes {', '.join(sorted(empty))}. "
        if extensions is not None:
            msg += f"Supported extensions are: {extensions if isinstance(extensions, str) else ', '.join(extensions)}"
        raise FileNotFoundError(msg)
    return instances


class DatasetFolder(VisionDataset):
    """Samples stored as ``root/<class>/.../<file>``, loaded by ``loader(path)``; the target is the class index.

    Args:
        root: the folder holding one sub-folder per class.
        loader: reads a sample from its path.
        extensions: the accepted file endings (a string or a tuple); give this or ``is_valid_file``.
        transform: applied to each loaded sample.
        target_transform: applied to each class index.
        is_valid_file: a predicate on a file's path deciding whether it is a sample.
        allow_empty: accept class folders without any valid file.

    Attributes: ``classes`` (sorted folder names), ``class_to_idx``, ``samples`` (``(path, index)`` pairs) and
    ``targets`` (the indices).
    """

    def __init__(self, root, loader, extensions=None, transform=None, target_transform=None, is_valid_file=None,
                 allow_empty=False):
        super().__init__(root, transform=transform, target_transform=target_transform)
        classes, class_to_idx = self.find_classes(self.root)
        samples = self.make_dataset(self.root, class_to_idx=class_to_idx, extensions=extensions,
                                    is_valid_file=is_valid_file, allow_empty=allow_empty)
        self.loader = loader
        self.extensions = extensions
        self.classes = classes
        self.class_to_idx = class_to_idx
        self.samples = samples
        self.targets = [s[1] for s in samples]

    @staticmethod
    def make_dataset(directory, class_to_idx, extensions=None, is_valid_file=None, allow_empty=False):
        """As the module's ``make_dataset``, but ``class_to_idx`` is required (subclasses override this)."""
        if class_to_idx is None:
            raise ValueError("The class_to_idx parameter cannot be None.")
        return make_dataset(directory, class_to_idx, extensions=extensions, is_valid_file=is_valid_file,
                            allow_empty=allow_empty)

    def find_classes(self, directory):
        """``(classes, class_to_idx)`` of ``directory`` (subclasses override this for other layouts)."""
        return find_classes(directory)

    def __getitem__(self, index):
        path, target = self.samples[index]
        sample = self.loader(path)
        if self.transform is not None:
            sample = self.transform(sample)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return sample, target

    def __len__(self):
        return len(self.samples)


def pil_loader(path):
    """The image at ``path`` as an RGB PIL image (read fully, the file closed)."""
    from PIL import Image

    with open(path, "rb") as f:
        img = Image.open(f)
        return img.convert("RGB")


def default_loader(path):
    """The image loader ImageFolder uses: ``pil_loader`` (minitorch has no accimage backend)."""
    return pil_loader(path)


class ImageFolder(DatasetFolder):
    """Images stored as ``root/<class>/.../<image>``, loaded as RGB PIL images; the target is the class index.

    Args:
        root: the folder holding one sub-folder per class.
        transform: applied to each PIL image, e.g. ``transforms.ToTensor()``.
        target_transform: applied to each class index.
        loader: reads an image from its path (default: ``default_loader``).
        is_valid_file: a predicate on a file's path; default: the file has one of ``IMG_EXTENSIONS``.
        allow_empty: accept class folders without any image.

    Attributes: as ``DatasetFolder``, and ``imgs`` (the same list as ``samples``).

    Example::

        >>> ds = datasets.ImageFolder("photos", transform=transforms.ToTensor())
        >>> image, label = ds[0]; ds.classes[label]
    """

    def __init__(self, root, transform=None, target_transform=None, loader=default_loader, is_valid_file=None,
                 allow_empty=False):
        super().__init__(root, loader, IMG_EXTENSIONS if is_valid_file is None else None, transform=transform,
                         target_transform=target_transform, is_valid_file=is_valid_file, allow_empty=allow_empty)
        self.imgs = self.samples
