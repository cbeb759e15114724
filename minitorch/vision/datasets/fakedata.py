"""``FakeData``: random PIL images with random class labels, the same for the same index every time."""
import operator

import numpy as np

from .vision import VisionDataset

__all__ = ["FakeData"]

_MODES = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}


class FakeData(VisionDataset):
    """``size`` random images of shape ``image_size`` (C, H, W) with labels in ``[0, num_classes)``.

    Item ``i`` is drawn from a generator seeded with ``i + random_offset`` (the global random state is left
    alone), so it is the same on every access and in every DataLoader worker; vary ``random_offset`` to get a
    different dataset of the same size. Images are standard-normal noise scaled by 255 and cast to uint8 the way
    ``ToPILImage`` casts a float tensor (wrapping around), as PIL images: mode "L" for one channel, "RGB" for three.

    Args:
        size: number of items.
        image_size: (channels, height, width), 1 to 4 channels.
        num_classes: number of labels.
        transform: applied to each PIL image.
        target_transform: applied to each int label.
        random_offset: added to the index to seed each item.
    """

    def __init__(self, size=1000, image_size=(3, 224, 224), num_classes=10, transform=None, target_transform=None,
                 random_offset=0):
        super().__init__(None, transform=transform, target_transform=target_transform)
        self.size = size
        self.num_classes = num_classes
        self.image_size = image_size
        self.random_offset = random_offset

    def __getitem__(self, index):
        import minitorch

        index = operator.index(index)
        if index >= len(self):
            raise IndexError(f"{self.__class__.__name__} index out of range")
        channels = self.image_size[0] if len(self.image_size) == 3 else 1
        if len(self.image_size) not in (2, 3) or channels not in _MODES:
            raise ValueError(f"FakeData: image_size should be (C, H, W) with 1 to 4 channels, got {self.image_size}")
        g = minitorch.Generator().manual_seed(index + self.random_offset)
        img = minitorch.randn(*self.image_size, generator=g)
        target = int(minitorch.randint(0, self.num_classes, size=(1,), generator=g)[0])
        # ToPILImage turns a float tensor into bytes with mul(255).byte(): truncation, then wrap-around modulo 256
        pixels = (img.numpy() * np.float32(255)).astype(np.int64).astype(np.uint8)
        from PIL import Image

        pixels = pixels.reshape(channels, *pixels.shape[-2:]).transpose(1, 2, 0)
        img = Image.fromarray(pixels[:, :, 0] if channels == 1 else np.ascontiguousarray(pixels), _MODES[channels])
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __len__(self):
        return self.size
