"""Layers shared by the vision models, as ``torchvision.ops.misc``."""
import warnings
from collections.abc import Iterable

import minitorch
from minitorch import nn

__all__ = ["Conv2dNormActivation", "Conv3dNormActivation", "FrozenBatchNorm2d", "MLP", "Permute", "SqueezeExcitation"]


def _ntuple(value, n):
    return tuple(value) if isinstance(value, Iterable) else (value,) * n


class ConvNormActivation(nn.Sequential):
    """A convolution, an optional normalization and an optional activation, as one ``Sequential`` (children ``0``,
    ``1``, ``2``). Use :class:`Conv2dNormActivation` or :class:`Conv3dNormActivation`."""

    def __init__(self, in_channels, out_channels, kernel_size=3, stride=1, padding=None, groups=1,
                 norm_layer=nn.BatchNorm2d, activation_layer=nn.ReLU, dilation=1, inplace=True, bias=None,
                 conv_layer=nn.Conv2d):
        if padding is None:
            # "same" padding for odd kernels at stride 1, per spatial dimension when kernel or dilation is a tuple
            if isinstance(kernel_size, int) and isinstance(dilation, int):
                padding = (kernel_size - 1) // 2 * dilation
            else:
                n = len(kernel_size) if isinstance(kernel_size, Iterable) else len(dilation)
                ks, dil = _ntuple(kernel_size, n), _ntuple(dilation, n)
                padding = tuple((k - 1) // 2 * d for k, d in zip(ks, dil))
        if bias is None:
            bias = norm_layer is None
        layers = [conv_layer(in_channels, out_channels, kernel_size, stride, padding, dilation=dilation,
                             groups=groups, bias=bias)]
        if norm_layer is not None:
            layers.append(norm_layer(out_channels))
        if activation_layer is not None:
            layers.append(activation_layer() if inplace is None else activation_layer(inplace=inplace))
        super().__init__(*layers)
        self.out_channels = out_channels
        if self.__class__ is ConvNormActivation:
            warnings.warn("Don't use ConvNormActivation directly, please use Conv2dNormActivation and "
                          "Conv3dNormActivation instead.")


class Conv2dNormActivation(ConvNormActivation):
    """``Conv2d`` -> ``norm_layer`` -> ``activation_layer``.

    Args:
        in_channels, out_channels, kernel_size, stride, groups, dilation: as ``nn.Conv2d``.
        padding: default ``(kernel_size - 1) // 2 * dilation`` (keeps the size at stride 1).
        norm_layer: a callable ``norm_layer(out_channels)``, default ``nn.BatchNorm2d``; None for none.
        activation_layer: default ``nn.ReLU``; None for none.
        inplace: passed to the activation as ``inplace=`` (None: not passed).
        bias: the convolution's bias; default: only without a norm layer.

    Example:
        >>> block = Conv2dNormActivation(3, 16, stride=2, activation_layer=nn.ReLU6)
    """

    def __init__(self, in_channels, out_channels, kernel_size=3, stride=1, padding=None, groups=1,
                 norm_layer=nn.BatchNorm2d, activation_layer=nn.ReLU, dilation=1, inplace=True, bias=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, groups, norm_layer,
                         activation_layer, dilation, inplace, bias, nn.Conv2d)


class Conv3dNormActivation(ConvNormActivation):
    """``Conv3d`` -> ``norm_layer`` (default ``nn.BatchNorm3d``) -> ``activation_layer``; arguments as
    :class:`Conv2dNormActivation`."""

    def __init__(self, in_channels, out_channels, kernel_size=3, stride=1, padding=None, groups=1,
                 norm_layer=nn.BatchNorm3d, activation_layer=nn.ReLU, dilation=1, inplace=True, bias=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, groups, norm_layer,
                         activation_layer, dilation, inplace, bias, nn.Conv3d)


class SqueezeExcitation(nn.Module):
    """Squeeze-and-excitation (Hu et al. 2017): rescale each channel by a gate computed from the globally pooled
    input, ``input * scale_activation(fc2(activation(fc1(avgpool(input)))))``.

    Args:
        input_channels: channels of the input.
        squeeze_channels: channels of the bottleneck between ``fc1`` and ``fc2`` (1x1 convolutions).
        activation: the bottleneck's activation class, default ``nn.ReLU``.
        scale_activation: the gate's activation class, default ``nn.Sigmoid``.
    """

    def __init__(self, input_channels, squeeze_channels, activation=nn.ReLU, scale_activation=nn.Sigmoid):
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(input_channels, squeeze_channels, 1)
        self.fc2 = nn.Conv2d(squeeze_channels, input_channels, 1)
        self.activation = activation()
        self.scale_activation = scale_activation()

    def _scale(self, input):
        scale = self.activation(self.fc1(self.avgpool(input)))
        return self.scale_activation(self.fc2(scale))

    def forward(self, input):
        return self._scale(input) * input


class MLP(nn.Sequential):
    """Linear layers with normalization, activation and dropout between them: for each width in
    ``hidden_channels[:-1]`` ``Linear -> norm_layer -> activation_layer -> Dropout``, then ``Linear -> Dropout`` to
    ``hidden_channels[-1]``.

    Args:
        in_channels: input features.
        hidden_channels: the widths of the linear layers, the last one being the output's.
        norm_layer: None (default) or a callable ``norm_layer(width)``.
        activation_layer: default ``nn.ReLU``.
        inplace: passed as ``inplace=`` to the activation and dropout (None: not passed).
        bias: the linear layers' bias.
        dropout: the dropout probability.
    """

    def __init__(self, in_channels, hidden_channels, norm_layer=None, activation_layer=nn.ReLU, inplace=None,
                 bias=True, dropout=0.0):
        kw = {} if inplace is None else {"inplace": inplace}
        layers = []
        width = in_channels
        for hidden in hidden_channels[:-1]:
            layers.append(nn.Linear(width, hidden, bias=bias))
            if norm_layer is not None:
                layers.append(norm_layer(hidden))
            layers.append(activation_layer(**kw))
            layers.append(nn.Dropout(dropout, **kw))
            width = hidden
        layers.append(nn.Linear(width, hidden_channels[-1], bias=bias))
        layers.append(nn.Dropout(dropout, **kw))
        super().__init__(*layers)


class Permute(nn.Module):
    """``minitorch.permute(x, dims)`` as a module (e.g. NCHW -> NHWC inside a ``Sequential``)."""

    def __init__(self, dims):
        super().__init__()
        self.dims = dims

    def forward(self, x):
        return minitorch.permute(x, self.dims)


class FrozenBatchNorm2d(nn.Module):
    """Batch normalization with fixed statistics and affine parameters, all buffers (nothing trains):
    ``(x - running_mean) / sqrt(running_var + eps) * weight + bias``. Loads a ``BatchNorm2d`` state dict (its
    ``num_batches_tracked`` is dropped).

    Args:
        num_features: channels ``C`` of the (N, C, H, W) input.
        eps: added to the variance.
    """

    def __init__(self, num_features, eps=1e-5):
        super().__init__()
        self.eps = eps
        self.register_buffer("weight", minitorch.ones(num_features))
        self.register_buffer("bias", minitorch.zeros(num_features))
        self.register_buffer("running_mean", minitorch.zeros(num_features))
        self.register_buffer("running_var", minitorch.ones(num_features))

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs):
        state_dict.pop(prefix + "num_batches_tracked", None)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                                      error_msgs)

    def forward(self, x):
        scale = self.weight.reshape(1, -1, 1, 1) * (self.running_var.reshape(1, -1, 1, 1) + self.eps).rsqrt()
        shift = self.bias.reshape(1, -1, 1, 1) - self.running_mean.reshape(1, -1, 1, 1) * scale
        return x * scale + shift

    def __repr__(self):
        return f"{self.__class__.__name__}({self.weight.shape[0]}, eps={self.eps})"
