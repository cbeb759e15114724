"""``nn.modules.sparse``: ``Embedding`` and ``EmbeddingBag`` (defined in ``misc.py``), at PyTorch's import path."""
from .misc import Embedding, EmbeddingBag

__all__ = ["Embedding", "EmbeddingBag"]
