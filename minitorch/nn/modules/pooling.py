"""3-D max/avg pooling, adaptive pooling in 1-D and 3-D, and power-average (LP) pooling layers; also PyTorch's
``nn.modules.pooling`` import path for the 1-D/2-D pooling layers (defined in ``conv.py``)."""
from ...ops import pooling as P
from .conv import (AdaptiveAvgPool2d, AdaptiveMaxPool2d, AvgPool1d, AvgPool2d, MaxPool1d, MaxPool2d,  # noqa: F401
                   _AvgPoolNd, _MaxPoolNd)
from .module import Module


class MaxPool3d(_MaxPoolNd):
    """Max over kd x kh x kw windows of (N, C, D, H, W) input (stride defaults to the kernel size).

    Example::

        >>> pool = nn.MaxPool3d(2)
        >>> pool(minitorch.randn(1, 3, 4, 6, 6)).shape
        minitorch.Size([1, 3, 2, 3, 3])
    """

    def forward(self, input):
        return P.max_pool3d(input, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                            self.return_indices)


class AvgPool3d(_AvgPoolNd):
    """Mean over kd x kh x kw windows of (N, C, D, H, W) input."""

    def forward(self, input):
        return P.avg_pool3d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)


class _AdaptivePool(Module):
    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(_AdaptivePool):
    """Average over the windows that split L into ``output_size`` parts: (N, C, L) -> (N, C, output_size)."""

    def forward(self, input):
        return P.adaptive_avg_pool1d(input, self.output_size)


class AdaptiveAvgPool3d(_AdaptivePool):
    """Average over the windows that split D, H, W into ``output_size`` parts (None keeps a dim's size)."""

    def forward(self, input):
        return P.adaptive_avg_pool3d(input, self.output_size)


class AdaptiveMaxPool1d(_AdaptivePool):
    """Max over the windows that split L into ``output_size`` parts; ``return_indices`` adds the argmax."""

    def __init__(self, output_size, return_indices=False):
        super().__init__(output_size)
        self.return_indices = return_indices

    def forward(self, input):
        return P.adaptive_max_pool1d(input, self.output_size, self.return_indices)


class AdaptiveMaxPool3d(_AdaptivePool):
    """Max over the windows that split D, H, W into ``output_size`` parts; ``return_indices`` adds the argmax."""

    def __init__(self, output_size, return_indices=False):
        super().__init__(output_size)
        self.return_indices = return_indices

    def forward(self, input):
        return P.adaptive_max_pool3d(input, self.output_size, self.return_indices)


class _LPPoolNd(Module):
    def __init__(self, norm_type, kernel_size, stride=None, ceil_mode=False):
        super().__init__()
        self.norm_type, self.kernel_size, self.stride, self.ceil_mode = norm_type, kernel_size, stride, ceil_mode

    def extra_repr(self):
        return (f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"ceil_mode={self.ceil_mode}")


class LPPool1d(_LPPoolNd):
    """Power-average pooling over the last dim: (sum over the window of x ** p) ** (1 / p)."""

    def forward(self, input):
        return P.lp_pool1d(input, float(self.norm_type), self.kernel_size, self.stride, self.ceil_mode)


class LPPool2d(_LPPoolNd):
    """Power-average pooling over kh x kw windows: (sum over the window of x ** p) ** (1 / p).

    Example::

        >>> pool = nn.LPPool2d(2, 3, stride=2)
        >>> pool(minitorch.randn(4, 8, 9, 9)).shape
        minitorch.Size([4, 8, 4, 4])
    """

    def forward(self, input):
        return P.lp_pool2d(input, float(self.norm_type), self.kernel_size, self.stride, self.ceil_mode)


class LPPool3d(_LPPoolNd):
    """Power-average pooling over kd x kh x kw windows."""

    def forward(self, input):
        return P.lp_pool3d(input, float(self.norm_type), self.kernel_size, self.stride, self.ceil_mode)
