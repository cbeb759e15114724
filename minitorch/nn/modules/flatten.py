"""``nn.modules.flatten``: ``Flatten``/``Unflatten`` (defined in ``misc.py``), at PyTorch's import path."""
from .misc import Flatten, Unflatten

__all__ = ["Flatten", "Unflatten"]
