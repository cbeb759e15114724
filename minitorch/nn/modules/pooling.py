"""``nn.modules.pooling``: the pooling layers (defined in ``conv.py``), at PyTorch's import path."""
from .conv import (AdaptiveAvgPool2d, AdaptiveMaxPool2d, AvgPool1d, AvgPool2d, MaxPool1d, MaxPool2d, _AvgPoolNd,
                   _MaxPoolNd)

__all__ = ["AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "AvgPool1d", "AvgPool2d", "MaxPool1d", "MaxPool2d", "_AvgPoolNd",
           "_MaxPoolNd"]
