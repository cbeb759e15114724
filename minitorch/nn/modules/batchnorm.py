"""``nn.modules.batchnorm``: the batch-norm layers (defined in ``normalization.py``), at PyTorch's import path."""
from .normalization import BatchNorm1d, BatchNorm2d, _BatchNorm

# PyTorch's _BatchNorm derives from _NormBase; here one class plays both roles, so isinstance checks agree
_NormBase = _BatchNorm

__all__ = ["BatchNorm1d", "BatchNorm2d", "_BatchNorm", "_NormBase"]
