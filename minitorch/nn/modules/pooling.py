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


# ---------------------------------------------------------------------------------------------------------------
# max unpooling and fractional max pooling
# ---------------------------------------------------------------------------------------------------------------
from ...ops import pool_extra as PX  # noqa: E402


class _MaxUnpoolNd(Module):
    _n = 2

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size = PX._ntuple(kernel_size, self._n)
        self.stride = PX._ntuple(stride if stride is not None else kernel_size, self._n)
        self.padding = PX._ntuple(padding, self._n)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool1d(_MaxUnpoolNd):
    """Partial inverse of ``MaxPool1d``: ``forward(input, indices, output_size=None)`` puts each value back at its
    argmax position, zeros elsewhere."""
    _n = 1

    def forward(self, input, indices, output_size=None):
        return PX.max_unpool1d(input, indices, self.kernel_size, self.stride, self.padding, output_size)


class MaxUnpool2d(_MaxUnpoolNd):
    """Partial inverse of ``MaxPool2d``: ``forward(input, indices, output_size=None)``.

    Example::

        >>> pool, unpool = nn.MaxPool2d(2, return_indices=True), nn.MaxUnpool2d(2)
        >>> out, idx = pool(minitorch.randn(1, 1, 4, 4))
        >>> unpool(out, idx).shape
        minitorch.Size([1, 1, 4, 4])
    """

    def forward(self, input, indices, output_size=None):
        return PX.max_unpool2d(input, indices, self.kernel_size, self.stride, self.padding, output_size)


class MaxUnpool3d(_MaxUnpoolNd):
    """Partial inverse of ``MaxPool3d``: ``forward(input, indices, output_size=None)``."""
    _n = 3

    def forward(self, input, indices, output_size=None):
        return PX.max_unpool3d(input, indices, self.kernel_size, self.stride, self.padding, output_size)


class _FractionalMaxPoolNd(Module):
    _n = 2

    def __init__(self, kernel_size, output_size=None, output_ratio=None, return_indices=False, _random_samples=None):
        super().__init__()
        n = self._n
        self.kernel_size = PX._ntuple(kernel_size, n)
        self.return_indices = return_indices
        self.register_buffer("_random_samples", _random_samples)
        self.output_size = PX._ntuple(output_size, n) if output_size is not None else None
        self.output_ratio = PX._ntuple_f(output_ratio, n) if output_ratio is not None else None
        if output_size is None and output_ratio is None:
            raise ValueError(f"FractionalMaxPool{n}d requires specifying either an output size, or a pooling ratio")
        if output_size is not None and output_ratio is not None:
            raise ValueError("only one of output_size and output_ratio may be specified")
        if self.output_ratio is not None and not all(0 < r < 1 for r in self.output_ratio):
            raise ValueError(f"output_ratio must be between 0 and 1 (got {output_ratio})")

    def forward(self, input):
        fn = PX.fractional_max_pool2d if self._n == 2 else PX.fractional_max_pool3d
        return fn(input, self.kernel_size, self.output_size, self.output_ratio, self.return_indices,
                  _random_samples=self._random_samples)


class FractionalMaxPool2d(_FractionalMaxPoolNd):
    """Max over pseudo-randomly placed windows that shrink H, W to ``output_size`` or ``output_ratio`` of the
    input (Graham, Fractional Max-Pooling); ``_random_samples`` (N, C, 2) fixes the placement.

    Example::

        >>> pool = nn.FractionalMaxPool2d(3, output_ratio=(0.5, 0.5))
        >>> pool(minitorch.randn(2, 4, 10, 10)).shape
        minitorch.Size([2, 4, 5, 5])
    """


class FractionalMaxPool3d(_FractionalMaxPoolNd):
    """Fractional max pooling over (N, C, T, H, W) input; ``_random_samples`` (N, C, 3) fixes the placement."""
    _n = 3
