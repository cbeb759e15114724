"""SVHN (Street View House Numbers, cropped digits), read from the ``.mat`` files with ``scipy.io.loadmat``.

Layout: ``root/train_32x32.mat``, ``root/test_32x32.mat``, ``root/extra_32x32.mat`` (MATLAB v5 files; loadmat
only decodes arrays, it runs no code).
"""
import http.client
import operator
import os
import urllib.error

import numpy as np

from .utils import _offline_error, check_integrity, download_url, verify_str_arg
from .vision import VisionDataset

__all__ = ["SVHN"]


class SVHN(VisionDataset):
    """The SVHN digits (32 x 32 RGB). SVHN labels the digit 0 as 10; here it is 0, so targets are in [0, 9].

    Args:
        root: folder holding the split's ``.mat`` file.
        split: ``"train"``, ``"test"`` or ``"extra"`` (the extra training set).
        transform: applied to each PIL image.
        target_transform: applied to each int label.
        download: fetch the split's file (md5-checked) into ``root``.

    Attributes: ``data`` (uint8 NumPy array N x 3 x 32 x 32), ``labels`` (int64 NumPy array N).
    """

    split_list = {
        "train": ["http://ufldl.stanford.edu/housenumbers/train_32x32.mat", "train_32x32.mat",
                  "e26dedcc434d2e4c54c9b2d4a06d8373"],
        "test": ["http://ufldl.stanford.edu/housenumbers/test_32x32.mat", "test_32x32.mat",
                 "eb5a983be6a315427106f1b164d9cef3"],
        "extra": ["http://ufldl.stanford.edu/housenumbers/extra_32x32.mat", "extra_32x32.mat",
                  "a93ce644f1a588dc4d68dda5feec44a7"],
    }

    def __init__(self, root, split="train", transform=None, target_transform=None, download=False):
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.split = verify_str_arg(split, "split", tuple(self.split_list.keys()))
        self.url, self.filename, self.file_md5 = self.split_list[split]
        if download:
            self.download()
        if not self._check_integrity():
            raise _offline_error(self.__class__.__name__, [f"{self.filename} (md5 {self.file_md5})"], self.root,
                                 self.url)
        import scipy.io

        path = os.path.join(self.root, self.filename)
        try:
            mat = scipy.io.loadmat(path)
            data, labels = mat["X"], mat["y"]
        except (ValueError, TypeError, OSError, KeyError, NotImplementedError) as e:
            raise RuntimeError(f"Cannot read {path}: it is corrupt or not SVHN's .mat file ({type(e).__name__}: "
                               f"{e})") from e
        if data.ndim != 4 or data.shape[:3] != (32, 32, 3) or labels.size != data.shape[3]:
            raise RuntimeError(f"{path} is not SVHN's .mat file: X has shape {data.shape} (expected 32 x 32 x 3 x N) "
                               f"and y has {labels.size} labels")
        self.data = np.ascontiguousarray(np.transpose(data.astype(np.uint8), (3, 2, 0, 1)))
        self.labels = labels.astype(np.int64).reshape(-1)
        self.labels[self.labels == 10] = 0  # SVHN's 10 is the digit 0

    def __getitem__(self, index):
        from PIL import Image

        index = operator.index(index)
        img, target = self.data[index], int(self.labels[index])
        img = Image.fromarray(np.transpose(img, (1, 2, 0)))
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __len__(self):
        return len(self.data)

    def _check_integrity(self):
        return check_integrity(os.path.join(self.root, self.filename), self.file_md5)

    def download(self):
        try:
            download_url(self.url, self.root, self.filename, self.file_md5)
        except (urllib.error.URLError, http.client.HTTPException, OSError) as e:
            raise RuntimeError(f"Could not download {self.url}: {e}\nPut {self.filename} (md5 {self.file_md5}) in "
                               f"{os.path.abspath(self.root)} and load again.") from e

    def extra_repr(self):
        return f"Split: {self.split}"
