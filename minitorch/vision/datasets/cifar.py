"""CIFAR-10 and CIFAR-100, read from the BINARY version of their archives (fixed-size records, no pickles).

Layout under ``root`` (what ``download=True`` produces)::

    root/cifar-10-binary.tar.gz               root/cifar-100-binary.tar.gz
    root/cifar-10-batches-bin/                root/cifar-100-binary/
        data_batch_1.bin ... data_batch_5.bin     train.bin  test.bin
        test_batch.bin  batches.meta.txt          fine_label_names.txt  coarse_label_names.txt

A CIFAR-10 record is 1 label byte and 3,072 pixel bytes (the red, green and blue 32 x 32 planes); a CIFAR-100
record has a coarse and a fine label byte before the pixels. torchvision reads the pickled "python version" of the
archives instead; unpickling runs code chosen by whoever made the file, so these classes never do.
"""
import http.client
import operator
import os
import urllib.error

import numpy as np

from .utils import _offline_error, check_integrity, download_and_extract_archive
from .vision import VisionDataset

__all__ = ["CIFAR10", "CIFAR100"]


class CIFAR10(VisionDataset):
    """The CIFAR-10 images (50,000 training and 10,000 test, 32 x 32 RGB, 10 classes).

    Args:
        root: folder holding ``cifar-10-batches-bin/`` (created by ``download=True``).
        train: the training batches (else the test batch).
        transform: applied to each PIL image, e.g. ``transforms.ToTensor()``.
        target_transform: applied to each int label.
        download: fetch ``cifar-10-binary.tar.gz`` (md5-checked) into ``root`` and extract it; nothing is fetched
            when the files are there.

    Attributes: ``data`` (uint8 NumPy array N x 32 x 32 x 3), ``targets`` (list of int), ``classes`` (read from
    the archive's label-names file), ``class_to_idx``.
    """

    base_folder = "cifar-10-batches-bin"
    url = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
    filename = "cifar-10-binary.tar.gz"
    tgz_md5 = "c32a1d4ab5d03f1284b67883e8d87530"
    train_list = ["data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"]
    test_list = ["test_batch.bin"]
    meta = {"filename": "batches.meta.txt"}
    _label_bytes = 1  # label bytes before the pixels of each record
    _label_index = 0  # the label byte that is the target
    _num_classes = 10

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = train
        if download:
            self.download()
        if not self._check_integrity():
            files = [f"{self.base_folder}/{f}" for f in self.train_list + self.test_list + [self.meta["filename"]]]
            raise _offline_error(
                self.__class__.__name__, files, self.root, self.url,
                f" Or put {self.filename} (md5 {self.tgz_md5}) there and load with download=True to extract it.")
        self._load_meta()
        images, labels = [], []
        for name in self.train_list if self.train else self.test_list:
            x, y = self._read_batch(os.path.join(self.root, self.base_folder, name))
            images.append(x)
            labels.append(y)
        self.data = np.ascontiguousarray(np.concatenate(images).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
        self.targets = [int(t) for t in np.concatenate(labels)]

    def _read_batch(self, path):
        record = self._label_bytes + 3072
        raw = np.fromfile(path, dtype=np.uint8)
        if raw.size == 0 or raw.size % record:
            raise RuntimeError(f"{path} is truncated or not a CIFAR binary batch: {raw.size} bytes is not a whole "
                               f"number of {record}-byte records. Delete it and download the archive again.")
        raw = raw.reshape(-1, record)
        labels = raw[:, self._label_index]
        if labels.max() >= len(self.classes):
            raise RuntimeError(f"{path} is corrupt: it holds label {int(labels.max())} but there are "
                               f"{len(self.classes)} classes")
        return raw[:, self._label_bytes:], labels

    def _load_meta(self):
        path = os.path.join(self.root, self.base_folder, self.meta["filename"])
        with open(path, encoding="utf-8") as f:
            self.classes = [line.strip() for line in f if line.strip()]
        if len(self.classes) != self._num_classes:
            raise RuntimeError(f"{path} is corrupt: it names {len(self.classes)} classes, expected "
                               f"{self._num_classes}")
        self.class_to_idx = {name: i for i, name in enumerate(self.classes)}

    def __getitem__(self, index):
        from PIL import Image

        index = operator.index(index)
        img, target = Image.fromarray(self.data[index]), self.targets[index]
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __len__(self):
        return len(self.data)

    def _check_integrity(self):
        folder = os.path.join(self.root, self.base_folder)
        return all(check_integrity(os.path.join(folder, name))
                   for name in self.train_list + self.test_list + [self.meta["filename"]])

    def download(self):
        """Fetch the binary archive (md5-checked) into ``root`` and extract it, unless the files are there."""
        if self._check_integrity():
            print("Files already downloaded and verified")
            return
        try:
            download_and_extract_archive(self.url, self.root, filename=self.filename, md5=self.tgz_md5)
        except (urllib.error.URLError, http.client.HTTPException, OSError) as e:
            raise RuntimeError(
                f"Could not download {self.url}: {e}\nPut {self.filename} (md5 {self.tgz_md5}) in "
                f"{os.path.abspath(self.root)} and load again with download=True, or extract it there.") from e

    def extra_repr(self):
        return f"Split: {'Train' if self.train is True else 'Test'}"


class CIFAR100(CIFAR10):
    """The CIFAR-100 images (50,000 training and 10,000 test, 32 x 32 RGB); the target is the fine label (100
    classes, names from the archive's ``fine_label_names.txt``). Same arguments and attributes as ``CIFAR10``."""

    base_folder = "cifar-100-binary"
    url = "https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz"
    filename = "cifar-100-binary.tar.gz"
    tgz_md5 = "03b5dce01913d631647c71ecec9e9cb8"
    train_list = ["train.bin"]
    test_list = ["test.bin"]
    meta = {"filename": "fine_label_names.txt"}
    _label_bytes = 2
    _label_index = 1
    _num_classes = 100
