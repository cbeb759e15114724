"""Reading and writing images, as ``torchvision.io``: encoded bytes are 1-D uint8 tensors, images uint8 CHW tensors.

Example::

    >>> from minitorch.vision.io import read_image, write_png, ImageReadMode
    >>> img = read_image("photo.jpg", mode=ImageReadMode.RGB)   # uint8 (3, H, W)
    >>> write_png(img, "photo.png")
"""
from .image import (ImageReadMode, decode_gif, decode_image, decode_jpeg, decode_png, decode_webp, encode_jpeg,
                    encode_png, read_file, read_image, write_file, write_jpeg, write_png)

__all__ = ["ImageReadMode", "decode_gif", "decode_image", "decode_jpeg", "decode_png", "decode_webp", "encode_jpeg",
           "encode_png", "read_file", "read_image", "write_file", "write_jpeg", "write_png"]
