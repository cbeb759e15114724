"""The inference transforms that pretrained weights carry (``weights.transforms()``), as torchvision's presets."""
import minitorch
from minitorch import nn
from minitorch.tensor import Tensor

from . import functional as F
from .functional import InterpolationMode

__all__ = ["ImageClassification"]


class ImageClassification(nn.Module):
    """Resize, center-crop, scale to [0, 1] floats and normalize an image (PIL or a (..., C, H, W) tensor), as the
    ImageNet classifiers' weights expect.

    Args:
        crop_size: side of the square center crop.
        resize_size: the smaller edge is resized to this first.
        mean, std: per-channel normalization.
        interpolation: the resize's ``InterpolationMode``.
        antialias: antialias when downsizing (tensors; PIL always antialiases).

    Example:
        >>> preprocess = ResNet18_Weights.DEFAULT.transforms()
        >>> batch = preprocess(img).unsqueeze(0)
    """

    def __init__(self, *, crop_size, resize_size=256, mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225),
                 interpolation=InterpolationMode.BILINEAR, antialias=True):
        super().__init__()
        self.crop_size = [crop_size]
        self.resize_size = [resize_size]
        self.mean = list(mean)
        self.std = list(std)
        self.interpolation = interpolation
        self.antialias = antialias

    def forward(self, img):
        img = F.resize(img, self.resize_size, interpolation=self.interpolation, antialias=self.antialias)
        img = F.center_crop(img, self.crop_size)
        if not isinstance(img, Tensor):
            img = F.pil_to_tensor(img)
        img = F.convert_image_dtype(img, minitorch.float)
        return F.normalize(img, mean=self.mean, std=self.std)

    def __repr__(self):
        lines = [f"crop_size={self.crop_size}", f"resize_size={self.resize_size}", f"mean={self.mean}",
                 f"std={self.std}", f"interpolation={self.interpolation}"]
        return self.__class__.__name__ + "(" + "".join(f"\n    {line}" for line in lines) + "\n)"

    def describe(self):
        return (f"Accepts ``PIL.Image``, batched ``(B, C, H, W)`` and single ``(C, H, W)`` image ``torch.Tensor`` "
                f"objects. The images are resized to ``resize_size={self.resize_size}`` using "
                f"``interpolation={self.interpolation}``, followed by a central crop of ``crop_size={self.crop_size}``. "
                f"Finally the values are first rescaled to ``[0.0, 1.0]`` and then normalized using "
                f"``mean={self.mean}`` and ``std={self.std}``.")
