"""Utilities, as in ``torch.utils``: ``minitorch.utils.data`` holds datasets, samplers and the DataLoader."""
from . import data  # noqa: F401
