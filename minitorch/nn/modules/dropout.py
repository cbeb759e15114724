"""``nn.modules.dropout``: the dropout layers (defined in ``misc.py``), at PyTorch's import path."""
from .misc import Dropout, Dropout1d, Dropout2d, _DropoutNd

__all__ = ["Dropout", "Dropout1d", "Dropout2d", "_DropoutNd"]
