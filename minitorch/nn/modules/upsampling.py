"""``nn.modules.upsampling``: ``Upsample`` (defined in ``misc.py``), at PyTorch's import path."""
from .misc import Upsample

__all__ = ["Upsample"]
