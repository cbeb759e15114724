"""``nn.modules.sparse``: ``Embedding`` (defined in ``misc.py``), at PyTorch's import path."""
from .misc import Embedding

__all__ = ["Embedding"]
