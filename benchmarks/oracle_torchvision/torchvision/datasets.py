"""torchvision.datasets.MNIST over IDX files that are already on disk (no download)."""
import os

import numpy as np
import torch
from PIL import Image


def _read_idx(path):
    with open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


class MNIST:
    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        raw = os.path.join(root, "MNIST", "raw")
        prefix = "train" if train else "t10k"
        images = os.path.join(raw, f"{prefix}-images-idx3-ubyte")
        labels = os.path.join(raw, f"{prefix}-labels-idx1-ubyte")
        if not (os.path.exists(images) and os.path.exists(labels)):
            raise RuntimeError(f"MNIST IDX files not found under {raw} (this benchmark copy downloads nothing)")
        self.data = torch.from_numpy(_read_idx(images).copy())
        self.targets = torch.from_numpy(_read_idx(labels).astype(np.int64))
        self.transform, self.target_transform = transform, target_transform

    def __len__(self):
        return len(self.data)

    def __getitem__(self, index):
        img = Image.fromarray(self.data[index].numpy(), mode="L")
        target = int(self.targets[index])
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target
