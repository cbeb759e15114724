"""STL-10 (96 x 96 RGB images, 10 classes, plus 100,000 unlabeled images), read from its binary files.

Layout: ``root/stl10_binary/`` with ``train_X.bin``, ``train_y.bin``, ``test_X.bin``, ``test_y.bin``,
``unlabeled_X.bin``, ``class_names.txt`` and ``fold_indices.txt``, as ``stl10_binary.tar.gz`` unpacks. Images are
stored column-major, 3 planes of 96 x 96 bytes each; labels are one byte each, 1 to 10.
"""
import http.client
import operator
import os
import urllib.error

import numpy as np

from .utils import _offline_error, check_integrity, download_and_extract_archive, verify_str_arg
from .vision import VisionDataset

__all__ = ["STL10"]


class STL10(VisionDataset):
    """The STL-10 images.

    Args:
        root: folder holding ``stl10_binary/``.
        split: ``"train"``, ``"test"``, ``"unlabeled"`` or ``"train+unlabeled"`` (unlabeled images get target -1).
        folds: None for all 5,000 training images, or 0-9 for one of the 10 predefined folds of 1,000.
        transform: applied to each PIL image.
        target_transform: applied to each int label.
        download: fetch ``stl10_binary.tar.gz`` (md5-checked, 2.6 GB) into ``root`` and extract it.

    Attributes: ``data`` (uint8 NumPy array N x 3 x 96 x 96), ``labels`` (NumPy array N), ``classes``.
    """

    base_folder = "stl10_binary"
    url = "http://ai.stanford.edu/~acoates/stl10/stl10_binary.tar.gz"
    filename = "stl10_binary.tar.gz"
    tgz_md5 = "91f7769df0f17e558f3565bffb0c7dfb"
    class_names_file = "class_names.txt"
    folds_list_file = "fold_indices.txt"
    train_list = [
        ["train_X.bin", "918c2871b30a85fa023e0c44e0bee87f"],
        ["train_y.bin", "5a34089d4802c674881badbb80307741"],
        ["unlabeled_X.bin", "5242ba1fed5e4be9e1e742405eb56ca4"],
    ]
    test_list = [["test_X.bin", "7f263ba9f9e0b06b93213547f721ac82"], ["test_y.bin", "36f9794fa4beb8a2c72628de14fa638e"]]
    splits = ("train", "train+unlabeled", "unlabeled", "test")

    def __init__(self, root, split="train", folds=None, transform=None, target_transform=None, download=False):
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.split = verify_str_arg(split, "split", self.splits)
        self.folds = self._verify_folds(folds)
        if download:
            self.download()
        elif not self._check_integrity():
            files = [f"{self.base_folder}/{name} (md5 {md5})" for name, md5 in self.train_list + self.test_list]
            raise _offline_error(self.__class__.__name__, files, self.root, self.url,
                                 f" Or put {self.filename} (md5 {self.tgz_md5}) there and load with download=True "
                                 "to extract it.")
        if self.split == "train":
            self.data, self.labels = self._load(self.train_list[0][0], self.train_list[1][0])
            self._load_folds(folds)
        elif self.split == "train+unlabeled":
            self.data, self.labels = self._load(self.train_list[0][0], self.train_list[1][0])
            self._load_folds(folds)
            unlabeled, _ = self._load(self.train_list[2][0])
            self.data = np.concatenate((self.data, unlabeled))
            self.labels = np.concatenate((self.labels, np.full(len(unlabeled), -1, dtype=self.labels.dtype)))
        elif self.split == "unlabeled":
            self.data, _ = self._load(self.train_list[2][0])
            self.labels = np.full(len(self.data), -1, dtype=np.int64)
        else:
            self.data, self.labels = self._load(self.test_list[0][0], self.test_list[1][0])
        class_file = os.path.join(self.root, self.base_folder, self.class_names_file)
        if os.path.isfile(class_file):
            with open(class_file, encoding="utf-8") as f:
                self.classes = f.read().splitlines()

    @staticmethod
    def _verify_folds(folds):
        if folds is None:
            return folds
        if isinstance(folds, int) and not isinstance(folds, bool):
            if folds in range(10):
                return folds
            raise ValueError(f"Value for argument folds should be in the range [0, 10), but got {folds}.")
        raise ValueError(f"Expected type None or int for argument folds, but got type {type(folds)}.")

    def _load(self, data_file, labels_file=None):
        labels = None
        if labels_file:
            path = os.path.join(self.root, self.base_folder, labels_file)
            labels = np.fromfile(path, dtype=np.uint8).astype(np.int64) - 1  # 1-10 on disk
            if labels.size and (labels.min() < 0 or labels.max() > 9):
                raise RuntimeError(f"{path} is corrupt: labels should be 1 to 10, found {labels.min() + 1} to "
                                   f"{labels.max() + 1}")
        path = os.path.join(self.root, self.base_folder, data_file)
        raw = np.fromfile(path, dtype=np.uint8)
        if raw.size % (3 * 96 * 96):
            raise RuntimeError(f"{path} is truncated or not an STL-10 file: {raw.size} bytes is not a whole number "
                               "of 3 x 96 x 96 images")
        images = np.ascontiguousarray(raw.reshape(-1, 3, 96, 96).transpose(0, 1, 3, 2))  # stored column-major
        if labels is not None and len(labels) != len(images):
            raise RuntimeError(f"{data_file} holds {len(images)} images but {labels_file} {len(labels)} labels")
        return images, labels

    def _load_folds(self, folds):
        if folds is None:
            return
        path = os.path.join(self.root, self.base_folder, self.folds_list_file)
        with open(path, encoding="utf-8") as f:
            line = f.read().splitlines()[folds]
        idx = np.array(line.split(), dtype=np.int64)
        if idx.size and (idx.min() < 0 or idx.max() >= len(self.data)):
            raise RuntimeError(f"{path} is corrupt: fold {folds} indexes images outside [0, {len(self.data)})")
        self.data, self.labels = self.data[idx], self.labels[idx]

    def __getitem__(self, index):
        from PIL import Image

        index = operator.index(index)
        img = self.data[index]
        target = int(self.labels[index]) if self.labels is not None else None
        img = Image.fromarray(np.transpose(img, (1, 2, 0)))
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __len__(self):
        return self.data.shape[0]

    def _check_integrity(self):
        return all(check_integrity(os.path.join(self.root, self.base_folder, name), md5)
                   for name, md5 in self.train_list + self.test_list)

    def download(self):
        if self._check_integrity():
            print("Files already downloaded and verified")
            return
        try:
            download_and_extract_archive(self.url, self.root, filename=self.filename, md5=self.tgz_md5)
        except (urllib.error.URLError, http.client.HTTPException, OSError) as e:
            raise RuntimeError(f"Could not download {self.url}: {e}\nPut {self.filename} (md5 {self.tgz_md5}) in "
                               f"{os.path.abspath(self.root)} and load again with download=True.") from e
        if not self._check_integrity():
            raise RuntimeError(f"{self.filename} was extracted into {os.path.abspath(self.root)}, but the files in "
                               f"{self.base_folder}/ do not have the published md5s: the archive is corrupt")

    def extra_repr(self):
        return f"Split: {self.split}"
