"""``nn.modules.upsampling``: the upsampling layers (defined in ``misc.py``), at PyTorch's import path."""
from .misc import Upsample, UpsamplingBilinear2d, UpsamplingNearest2d

__all__ = ["Upsample", "UpsamplingBilinear2d", "UpsamplingNearest2d"]
