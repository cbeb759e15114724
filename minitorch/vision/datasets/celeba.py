"""CelebA (202,599 aligned and cropped face images with 40 binary attributes, identities, boxes and landmarks).

Layout: ``root/celeba/`` with ``img_align_celeba/`` (the JPEGs, as ``img_align_celeba.zip`` unpacks) and the
annotation files ``list_attr_celeba.txt``, ``identity_CelebA.txt``, ``list_bbox_celeba.txt``,
``list_landmarks_align_celeba.txt`` and ``list_eval_partition.txt`` (space-separated text, read as text).
"""
import operator
import os

import numpy as np

from .utils import check_integrity, extract_archive, verify_str_arg
from .vision import VisionDataset

__all__ = ["CelebA"]

_TARGET_TYPES = ("attr", "identity", "bbox", "landmarks")


class CelebA(VisionDataset):
    """The CelebA faces as PIL images, with the chosen annotations as targets.

    Args:
        root: folder holding ``celeba/``.
        split: ``"train"``, ``"valid"``, ``"test"`` or ``"all"``.
        target_type: ``"attr"`` (int64 tensor of 40 values in {0, 1}), ``"identity"`` (int64 scalar tensor),
            ``"bbox"`` (int64 tensor x, y, width, height, in the uncropped images) or ``"landmarks"`` (int64 tensor
            of 10 coordinates), or a list of them (the target is then a tuple); an empty list gives None.
        transform: applied to each PIL image.
        target_transform: applied to each target.
        download: CelebA is served from Google Drive, which needs a browser confirmation; minitorch does not
            download from it. With ``download=True`` an ``img_align_celeba.zip`` already placed in ``root/celeba``
            is unpacked; when files are missing the error lists them with their Drive ids and md5s.

    Attributes: ``filename``, ``attr``, ``identity``, ``bbox``, ``landmarks_align`` (int64 tensors, one row per
    image of the split) and ``attr_names``.
    """

    base_folder = "celeba"
    # (Google Drive file id, md5, file name)
    file_list = [
        ("0B7EVK8r0v71pZjFTYXZWM3FlRnM", "00d2c5bc6d35e252742224ab0c1e8fcb", "img_align_celeba.zip"),
        ("0B7EVK8r0v71pblRyaVFSWGxPY0U", "75e246fa4810816ffd6ee81facbd244c", "list_attr_celeba.txt"),
        ("1_ee_0u7vcNLOfNLegJRHmolfH5ICW-XS", "32bd1bd63d3c78cd57e08160ec5ed1e2", "identity_CelebA.txt"),
        ("0B7EVK8r0v71pbThiMVRxWXZ4dU0", "00566efa6fedff7a56946cd1c10f1c16", "list_bbox_celeba.txt"),
        ("0B7EVK8r0v71pd0FJY3Blby1HUTQ", "cc24ecafdb5b50baae59b03474781f8c", "list_landmarks_align_celeba.txt"),
        ("0B7EVK8r0v71pY0NSMzRuSXJEVkk", "d32c9cbf5e040fd4025c592c306e6668", "list_eval_partition.txt"),
    ]

    def __init__(self, root, split="train", target_type="attr", transform=None, target_transform=None,
                 download=False):
        import minitorch

        super().__init__(root, transform=transform, target_transform=target_transform)
        self.split = split
        self.target_type = list(target_type) if isinstance(target_type, list) else [target_type]
        if not self.target_type and self.target_transform is not None:
            raise RuntimeError("target_transform is specified but target_type is empty")
        for t in self.target_type:
            verify_str_arg(t, "target_type", _TARGET_TYPES)
        if download:
            self.download()
        if not self._check_integrity():
            raise RuntimeError("Dataset not found or corrupted. You can use download=True to download it. "
                               + self._missing_message())
        split = split.lower() if isinstance(split, str) else split
        split_ = {"train": 0, "valid": 1, "test": 2, "all": None}[
            verify_str_arg(split, "split", ("train", "valid", "test", "all"))]

        names, splits = self._load_csv("list_eval_partition.txt")[1:]
        tables = {}
        for key, filename, header in (("identity", "identity_CelebA.txt", None), ("bbox", "list_bbox_celeba.txt", 1),
                                      ("landmarks_align", "list_landmarks_align_celeba.txt", 1),
                                      ("attr", "list_attr_celeba.txt", 1)):
            head, index, data = self._load_csv(filename, header)
            if index != names:
                raise RuntimeError(f"{os.path.join(self.root, self.base_folder, filename)} does not list the same "
                                   "images, in the same order, as list_eval_partition.txt: the files are corrupt or "
                                   "from different releases")
            tables[key] = (head, data)
        mask = np.ones(len(names), dtype=bool) if split_ is None else splits[:, 0] == split_
        self.filename = [n for n, keep in zip(names, mask) if keep]
        self.identity = minitorch.from_numpy(np.ascontiguousarray(tables["identity"][1][mask]))
        self.bbox = minitorch.from_numpy(np.ascontiguousarray(tables["bbox"][1][mask]))
        self.landmarks_align = minitorch.from_numpy(np.ascontiguousarray(tables["landmarks_align"][1][mask]))
        self.attr = minitorch.from_numpy(np.ascontiguousarray((tables["attr"][1][mask] + 1) // 2))  # {-1, 1} -> {0, 1}
        self.attr_names = tables["attr"][0]

    def _load_csv(self, filename, header=None):
        """(header names, first column, int64 array of the other columns) of a space-separated annotation file."""
        path = os.path.join(self.root, self.base_folder, filename)
        with open(path, encoding="utf-8") as f:
            rows = [line.split() for line in f.read().splitlines()]
        headers = []
        if header is not None:
            headers, rows = rows[header], rows[header + 1:]
        rows = [r for r in rows if r]
        try:
            data = np.array([[int(v) for v in r[1:]] for r in rows], dtype=np.int64)
        except ValueError as e:
            raise RuntimeError(f"{path} is corrupt: {e}") from e
        if data.ndim != 2:
            raise RuntimeError(f"{path} is corrupt: its rows do not all have the same number of values")
        return headers, [r[0] for r in rows], data

    def _check_integrity(self):
        for _, md5, filename in self.file_list:
            if not filename.endswith(".zip") and not check_integrity(
                    os.path.join(self.root, self.base_folder, filename), md5):
                return False
        return os.path.isdir(os.path.join(self.root, self.base_folder, "img_align_celeba"))

    def _missing_message(self):
        folder = os.path.abspath(os.path.join(self.root, self.base_folder))
        missing = []
        for file_id, md5, filename in self.file_list:
            path = os.path.join(folder, filename)
            if filename.endswith(".zip"):
                if os.path.isdir(os.path.join(folder, "img_align_celeba")):
                    continue
            elif check_integrity(path, md5):
                continue
            state = "has the wrong md5" if os.path.isfile(path) else "missing"
            missing.append(f"  {filename} ({state}; md5 {md5}, https://drive.google.com/uc?id={file_id})")
        return (f"CelebA is served from Google Drive, which minitorch does not download from; fetch these files "
                f"(links from https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html) and put them in {folder}:\n"
                + "\n".join(missing) + "\nthen load with download=True to unpack img_align_celeba.zip there.")

    def download(self):
        """Unpack ``img_align_celeba.zip`` if it was placed by hand; Google Drive files are not fetched."""
        if self._check_integrity():
            print("Files already downloaded and verified")
            return
        folder = os.path.join(self.root, self.base_folder)
        _, md5, name = self.file_list[0]
        zip_path = os.path.join(folder, name)
        if not os.path.isdir(os.path.join(folder, "img_align_celeba")) and check_integrity(zip_path, md5):
            extract_archive(zip_path, folder)
        if not self._check_integrity():
            raise RuntimeError(self._missing_message())

    def __getitem__(self, index):
        from PIL import Image

        index = operator.index(index)
        with open(os.path.join(self.root, self.base_folder, "img_align_celeba", self.filename[index]), "rb") as f:
            X = Image.open(f)
            X.load()
        target = []
        for t in self.target_type:
            if t == "attr":
                target.append(self.attr[index, :])
            elif t == "identity":
                target.append(self.identity[index, 0])
            elif t == "bbox":
                target.append(self.bbox[index, :])
            else:
                target.append(self.landmarks_align[index, :])
        if self.transform is not None:
            X = self.transform(X)
        if target:
            target = tuple(target) if len(target) > 1 else target[0]
            if self.target_transform is not None:
                target = self.target_transform(target)
        else:
            target = None
        return X, target

    def __len__(self):
        return len(self.attr)

    def extra_repr(self):
        return f"Target type: {self.target_type}\nSplit: {self.split}"
