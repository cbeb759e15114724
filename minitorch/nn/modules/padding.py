"""Padding layers: zero, constant, reflection, replication and circular padding of the last 1, 2 or 3 dims."""
from .. import functional as F
from .module import Module


def _ntuple(padding, n):
    return tuple(padding) if isinstance(padding, (tuple, list)) else (int(padding),) * n


class _PadNd(Module):
    """Pads with ``F.pad(input, self.padding, mode)``; ``padding`` is an int (every side) or the 2*n sides
    (left, right[, top, bottom[, front, back]]) of the last n dims."""

    mode = "constant"
    n = 1

    def __init__(self, padding):
        super().__init__()
        self.padding = _ntuple(padding, 2 * self.n)

    def forward(self, input):
        return F.pad(input, self.padding, self.mode)

    def extra_repr(self):
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding, value):
        super().__init__(padding)
        self.value = value

    def forward(self, input):
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pad the last dim with ``value``. Example: ``nn.ConstantPad1d((1, 2), 3.5)(torch.zeros(2, 4)).shape == (2, 7)``."""
    n = 1


class ConstantPad2d(_ConstantPadNd):
    """Pad the last 2 dims with ``value``: padding (left, right, top, bottom) or an int."""
    n = 2


class ConstantPad3d(_ConstantPadNd):
    """Pad the last 3 dims with ``value``: padding (left, right, top, bottom, front, back) or an int."""
    n = 3


class _ZeroPadNd(_ConstantPadNd):
    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class ZeroPad1d(_ZeroPadNd):
    """Pad the last dim with zeros."""
    n = 1


class ZeroPad2d(_ZeroPadNd):
    """Pad the last 2 dims with zeros. Example: ``nn.ZeroPad2d(1)(torch.ones(1, 1, 2, 2)).shape == (1, 1, 4, 4)``."""
    n = 2


class ZeroPad3d(_ZeroPadNd):
    """Pad the last 3 dims with zeros."""
    n = 3


class ReflectionPad1d(_PadNd):
    """Pad the last dim with its mirror image about the edge elements (each pad < the dim's size)."""
    mode, n = "reflect", 1


class ReflectionPad2d(_PadNd):
    """Pad the last 2 dims (of 3-D or 4-D input) with their mirror images about the edge elements."""
    mode, n = "reflect", 2


class ReflectionPad3d(_PadNd):
    """Pad the last 3 dims (of 4-D or 5-D input) with their mirror images about the edge elements."""
    mode, n = "reflect", 3


class ReplicationPad1d(_PadNd):
    """Pad the last dim by repeating its edge elements."""
    mode, n = "replicate", 1


class ReplicationPad2d(_PadNd):
    """Pad the last 2 dims (of 3-D or 4-D input) by repeating their edge elements."""
    mode, n = "replicate", 2


class ReplicationPad3d(_PadNd):
    """Pad the last 3 dims (of 4-D or 5-D input) by repeating their edge elements."""
    mode, n = "replicate", 3


class _CircularPadNd(_PadNd):
    mode = "circular"

    def forward(self, input):
        if input.dim() not in (self.n + 1, self.n + 2):
            raise ValueError(f"expected {self.n + 1}D or {self.n + 2}D input (got {input.dim()}D input)")
        return F.pad(input, self.padding, "circular")


class CircularPad1d(_CircularPadNd):
    """Pad the last dim with the elements from its other end (periodic boundary)."""
    n = 1


class CircularPad2d(_CircularPadNd):
    """Pad the last 2 dims with the elements from their other ends (periodic boundary)."""
    n = 2


class CircularPad3d(_CircularPadNd):
    """Pad the last 3 dims with the elements from their other ends (periodic boundary)."""
    n = 3
