"""EfficientNet B0-B7 (Tan & Le 2019, "EfficientNet: Rethinking Model Scaling for Convolutional Neural Networks"),
as torchvision's ``models.efficientnet``: the same modules and parameter names, so torchvision's checkpoints load."""
import copy
import math
from collections.abc import Sequence
from functools import partial

from minitorch import nn

from ..ops.misc import Conv2dNormActivation, SqueezeExcitation
from ..ops.stochastic_depth import StochasticDepth
from ..transforms._presets import ImageClassification
from ..transforms.functional import InterpolationMode
from ._api import Weights, WeightsEnum, register_model
from ._meta import _IMAGENET_CATEGORIES
from ._utils import _make_divisible, _ovewrite_named_param, handle_legacy_interface

__all__ = ["EfficientNet", "EfficientNet_B0_Weights", "EfficientNet_B1_Weights", "EfficientNet_B2_Weights",
           "EfficientNet_B3_Weights", "EfficientNet_B4_Weights", "EfficientNet_B5_Weights", "EfficientNet_B6_Weights",
           "EfficientNet_B7_Weights", "efficientnet_b0", "efficientnet_b1", "efficientnet_b2", "efficientnet_b3",
           "efficientnet_b4", "efficientnet_b5", "efficientnet_b6", "efficientnet_b7"]


class _MBConvConfig:
    """A stage of blocks: ``num_layers`` blocks of class ``block``; the first one strides and changes the
    channels."""

    def __init__(self, expand_ratio, kernel, stride, input_channels, out_channels, num_layers, block):
        self.expand_ratio = expand_ratio
        self.kernel = kernel
        self.stride = stride
        self.input_channels = input_channels
        self.out_channels = out_channels
        self.num_layers = num_layers
        self.block = block

    @staticmethod
    def adjust_channels(channels, width_mult, min_value=None):
        return _make_divisible(channels * width_mult, 8, min_value)

    def __repr__(self):
        return (f"{self.__class__.__name__}(expand_ratio={self.expand_ratio}, kernel={self.kernel}, "
                f"stride={self.stride}, input_channels={self.input_channels}, out_channels={self.out_channels}, "
                f"num_layers={self.num_layers})")


class MBConvConfig(_MBConvConfig):
    """An MBConv stage of the B0 table scaled by ``width_mult`` (channels, rounded to multiples of 8) and
    ``depth_mult`` (blocks, rounded up)."""

    def __init__(self, expand_ratio, kernel, stride, input_channels, out_channels, num_layers, width_mult=1.0,
                 depth_mult=1.0, block=None):
        input_channels = self.adjust_channels(input_channels, width_mult)
        out_channels = self.adjust_channels(out_channels, width_mult)
        num_layers = self.adjust_depth(num_layers, depth_mult)
        if block is None:
            block = MBConv
        super().__init__(expand_ratio, kernel, stride, input_channels, out_channels, num_layers, block)

    @staticmethod
    def adjust_depth(num_layers, depth_mult):
        return int(math.ceil(num_layers * depth_mult))


class MBConv(nn.Module):
    """Mobile inverted bottleneck with squeeze-and-excitation and SiLU: expand (1x1), depthwise filter, SE,
    project (1x1); a stochastic-depth skip connection when the shape is kept. Children: ``block``,
    ``stochastic_depth``."""

    def __init__(self, cnf, stochastic_depth_prob, norm_layer, se_layer=SqueezeExcitation):
        super().__init__()
        if not 1 <= cnf.stride <= 2:
            raise ValueError("illegal stride value")
        self.use_res_connect = cnf.stride == 1 and cnf.input_channels == cnf.out_channels
        expanded = cnf.adjust_channels(cnf.input_channels, cnf.expand_ratio)
        layers = []
        if expanded != cnf.input_channels:
            layers.append(Conv2dNormActivation(cnf.input_channels, expanded, kernel_size=1, norm_layer=norm_layer,
                                               activation_layer=nn.SiLU))
        layers.append(Conv2dNormActivation(expanded, expanded, kernel_size=cnf.kernel, stride=cnf.stride,
                                           groups=expanded, norm_layer=norm_layer, activation_layer=nn.SiLU))
        layers.append(se_layer(expanded, max(1, cnf.input_channels // 4), activation=partial(nn.SiLU, inplace=True)))
        layers.append(Conv2dNormActivation(expanded, cnf.out_channels, kernel_size=1, norm_layer=norm_layer,
                                           activation_layer=None))
        self.block = nn.Sequential(*layers)
        self.stochastic_depth = StochasticDepth(stochastic_depth_prob, "row")
        self.out_channels = cnf.out_channels

    def forward(self, input):
        result = self.block(input)
        if self.use_res_connect:
            result = self.stochastic_depth(result) + input
        return result


class EfficientNet(nn.Module):
    """EfficientNet: a SiLU stem, the MBConv stages (``features.1`` ...), a 1x1 convolution (to ``last_channel``,
    default 4x the last stage's channels) and a dropout + linear classifier.

    Args:
        inverted_residual_setting: the stages, a list of ``MBConvConfig``.
        dropout: the classifier's dropout probability.
        stochastic_depth_prob: the last block's drop probability; it grows linearly from 0 over the blocks.
        num_classes: outputs of the classifier.
        norm_layer: default ``nn.BatchNorm2d``.
        last_channel: width of the last convolution.
    """

    def __init__(self, inverted_residual_setting, dropout, stochastic_depth_prob=0.2, num_classes=1000,
                 norm_layer=None, last_channel=None):
        super().__init__()
        if not inverted_residual_setting:
            raise ValueError("The inverted_residual_setting should not be empty")
        if not (isinstance(inverted_residual_setting, Sequence)
                and all(isinstance(s, _MBConvConfig) for s in inverted_residual_setting)):
            raise TypeError("The inverted_residual_setting should be List[MBConvConfig]")
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        layers = [Conv2dNormActivation(3, inverted_residual_setting[0].input_channels, kernel_size=3, stride=2,
                                       norm_layer=norm_layer, activation_layer=nn.SiLU)]
        total_blocks = sum(cnf.num_layers for cnf in inverted_residual_setting)
        block_id = 0
        for cnf in inverted_residual_setting:
            stage = []
            for _ in range(cnf.num_layers):
                block_cnf = copy.copy(cnf)
                if stage:  # later blocks of a stage keep the shape
                    block_cnf.input_channels = block_cnf.out_channels
                    block_cnf.stride = 1
                sd_prob = stochastic_depth_prob * float(block_id) / total_blocks
                stage.append(block_cnf.block(block_cnf, sd_prob, norm_layer))
                block_id += 1
            layers.append(nn.Sequential(*stage))
        last_in = inverted_residual_setting[-1].out_channels
        last_out = last_channel if last_channel is not None else 4 * last_in
        layers.append(Conv2dNormActivation(last_in, last_out, kernel_size=1, norm_layer=norm_layer,
                                           activation_layer=nn.SiLU))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Dropout(p=dropout, inplace=True), nn.Linear(last_out, num_classes))

        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                bound = 1.0 / math.sqrt(m.out_features)
                nn.init.uniform_(m.weight, -bound, bound)
                nn.init.zeros_(m.bias)

    def _forward_impl(self, x):
        x = self.avgpool(self.features(x)).flatten(1)
        return self.classifier(x)

    def forward(self, x):
        return self._forward_impl(x)


def _efficientnet(inverted_residual_setting, dropout, last_channel, weights, progress, **kwargs):
    if weights is not None:
        _ovewrite_named_param(kwargs, "num_classes", len(weights.meta["categories"]))
    model = EfficientNet(inverted_residual_setting, dropout, last_channel=last_channel, **kwargs)
    if weights is not None:
        model.load_state_dict(weights.get_state_dict(progress=progress, check_hash=True))
    return model


def _efficientnet_conf(arch, **kwargs):
    """The stage table and last width of ``arch`` ("efficientnet_b0" ... "efficientnet_b7"), scaled by the
    ``width_mult`` and ``depth_mult`` keywords."""
    if arch.startswith("efficientnet_b"):
        c = partial(MBConvConfig, width_mult=kwargs.pop("width_mult"), depth_mult=kwargs.pop("depth_mult"))
        setting = [c(1, 3, 1, 32, 16, 1), c(6, 3, 2, 16, 24, 2), c(6, 5, 2, 24, 40, 2), c(6, 3, 2, 40, 80, 3),
                   c(6, 5, 1, 80, 112, 3), c(6, 5, 2, 112, 192, 4), c(6, 3, 1, 192, 320, 1)]
        return setting, None
    raise ValueError(f"Unsupported model type {arch}")


_COMMON_META = {"categories": _IMAGENET_CATEGORIES, "min_size": (1, 1),
                "recipe": "https://github.com/pytorch/vision/tree/main/references/classification#efficientnet-v1"}


def _w(file, crop, resize, num_params, acc1, acc5, ops, file_size, origin):
    return Weights(url=f"https://download.pytorch.org/models/{file}.pth",
                   transforms=partial(ImageClassification, crop_size=crop, resize_size=resize,
                                      interpolation=InterpolationMode.BICUBIC),
                   meta={**_COMMON_META, "num_params": num_params,
                         "_metrics": {"ImageNet-1K": {"acc@1": acc1, "acc@5": acc5}},
                         "_ops": ops, "_file_size": file_size,
                         "_docs": f"Ported from the paper's models ({origin})."})


class EfficientNet_B0_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w("efficientnet_b0_rwightman-7f5810bc", 224, 256, 5288548, 77.692, 93.532, 0.386, 20.451,
                       "rwightman/pytorch-image-models")
    DEFAULT = IMAGENET1K_V1


class EfficientNet_B1_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w("efficientnet_b1_rwightman-bac287d4", 240, 256, 7794184, 78.642, 94.186, 0.687, 30.134,
                       "rwightman/pytorch-image-models")
    IMAGENET1K_V2 = Weights(
        url="https://download.pytorch.org/models/efficientnet_b1-c27df63c.pth",
        transforms=partial(ImageClassification, crop_size=240, resize_size=255,
                           interpolation=InterpolationMode.BILINEAR),
        meta={**_COMMON_META, "num_params": 7794184,
              "recipe": "https://github.com/pytorch/vision/issues/3995#new-recipe-with-lr-wd-crop-tuning",
              "_metrics": {"ImageNet-1K": {"acc@1": 79.838, "acc@5": 94.934}},
              "_ops": 0.687, "_file_size": 30.136,
              "_docs": "Trained with torchvision's improved recipe; above the paper's accuracy."})
    DEFAULT = IMAGENET1K_V2


class EfficientNet_B2_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w("efficientnet_b2_rwightman-c35c1473", 288, 288, 9109994, 80.608, 95.310, 1.088, 35.174,
                       "rwightman/pytorch-image-models")
    DEFAULT = IMAGENET1K_V1


class EfficientNet_B3_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w("efficientnet_b3_rwightman-b3899882", 300, 320, 12233232, 82.008, 96.054, 1.827, 47.184,
                       "rwightman/pytorch-image-models")
    DEFAULT = IMAGENET1K_V1


class EfficientNet_B4_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w("efficientnet_b4_rwightman-23ab8bcd", 380, 384, 19341616, 83.384, 96.594, 4.394, 74.489,
                       "rwightman/pytorch-image-models")
    DEFAULT = IMAGENET1K_V1


class EfficientNet_B5_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w("efficientnet_b5_lukemelas-1a07897c", 456, 456, 30389784, 83.444, 96.628, 10.266, 116.864,
                       "lukemelas/EfficientNet-PyTorch")
    DEFAULT = IMAGENET1K_V1


class EfficientNet_B6_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w("efficientnet_b6_lukemelas-24a108a5", 528, 528, 43040704, 84.008, 96.916, 19.068, 165.362,
                       "lukemelas/EfficientNet-PyTorch")
    DEFAULT = IMAGENET1K_V1


class EfficientNet_B7_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w("efficientnet_b7_lukemelas-c5b4e57e", 600, 600, 66347960, 84.122, 96.908, 37.746, 254.675,
                       "lukemelas/EfficientNet-PyTorch")
    DEFAULT = IMAGENET1K_V1


# (width_mult, depth_mult, default dropout) of each variant; B5-B7 use the ported models' BatchNorm settings
_SCALING = {"b0": (1.0, 1.0, 0.2), "b1": (1.0, 1.1, 0.2), "b2": (1.1, 1.2, 0.3), "b3": (1.2, 1.4, 0.3),
            "b4": (1.4, 1.8, 0.4), "b5": (1.6, 2.2, 0.4), "b6": (1.8, 2.6, 0.5), "b7": (2.0, 3.1, 0.5)}


def _build(variant, weights, progress, kwargs):
    width, depth, dropout = _SCALING[variant]
    setting, last_channel = _efficientnet_conf(f"efficientnet_{variant}", width_mult=width, depth_mult=depth)
    if variant in ("b5", "b6", "b7"):
        kwargs = {"norm_layer": partial(nn.BatchNorm2d, eps=0.001, momentum=0.01), **kwargs}
    return _efficientnet(setting, kwargs.pop("dropout", dropout), last_channel, weights, progress, **kwargs)


@register_model()
@handle_legacy_interface(weights=("pretrained", EfficientNet_B0_Weights.IMAGENET1K_V1))
def efficientnet_b0(*, weights: EfficientNet_B0_Weights | None = None, progress: bool = True,
                    **kwargs) -> EfficientNet:
    """EfficientNet-B0. ``weights``: an ``EfficientNet_B0_Weights`` member, its name, "DEFAULT" or None (random
    initialisation); ``progress``: show the download's progress bar; other keywords (``num_classes``, ``dropout``,
    ``stochastic_depth_prob``, ``norm_layer``) go to ``EfficientNet``."""
    return _build("b0", EfficientNet_B0_Weights.verify(weights), progress, kwargs)


@register_model()
@handle_legacy_interface(weights=("pretrained", EfficientNet_B1_Weights.IMAGENET1K_V1))
def efficientnet_b1(*, weights: EfficientNet_B1_Weights | None = None, progress: bool = True,
                    **kwargs) -> EfficientNet:
    """EfficientNet-B1; arguments as :func:`efficientnet_b0`."""
    return _build("b1", EfficientNet_B1_Weights.verify(weights), progress, kwargs)


@register_model()
@handle_legacy_interface(weights=("pretrained", EfficientNet_B2_Weights.IMAGENET1K_V1))
def efficientnet_b2(*, weights: EfficientNet_B2_Weights | None = None, progress: bool = True,
                    **kwargs) -> EfficientNet:
    """EfficientNet-B2; arguments as :func:`efficientnet_b0`."""
    return _build("b2", EfficientNet_B2_Weights.verify(weights), progress, kwargs)


@register_model()
@handle_legacy_interface(weights=("pretrained", EfficientNet_B3_Weights.IMAGENET1K_V1))
def efficientnet_b3(*, weights: EfficientNet_B3_Weights | None = None, progress: bool = True,
                    **kwargs) -> EfficientNet:
    """EfficientNet-B3; arguments as :func:`efficientnet_b0`."""
    return _build("b3", EfficientNet_B3_Weights.verify(weights), progress, kwargs)


@register_model()
@handle_legacy_interface(weights=("pretrained", EfficientNet_B4_Weights.IMAGENET1K_V1))
def efficientnet_b4(*, weights: EfficientNet_B4_Weights | None = None, progress: bool = True,
                    **kwargs) -> EfficientNet:
    """EfficientNet-B4; arguments as :func:`efficientnet_b0`."""
    return _build("b4", EfficientNet_B4_Weights.verify(weights), progress, kwargs)


@register_model()
@handle_legacy_interface(weights=("pretrained", EfficientNet_B5_Weights.IMAGENET1K_V1))
def efficientnet_b5(*, weights: EfficientNet_B5_Weights | None = None, progress: bool = True,
                    **kwargs) -> EfficientNet:
    """EfficientNet-B5 (BatchNorm eps 0.001, momentum 0.01); arguments as :func:`efficientnet_b0`."""
    return _build("b5", EfficientNet_B5_Weights.verify(weights), progress, kwargs)


@register_model()
@handle_legacy_interface(weights=("pretrained", EfficientNet_B6_Weights.IMAGENET1K_V1))
def efficientnet_b6(*, weights: EfficientNet_B6_Weights | None = None, progress: bool = True,
                    **kwargs) -> EfficientNet:
    """EfficientNet-B6 (BatchNorm eps 0.001, momentum 0.01); arguments as :func:`efficientnet_b0`."""
    return _build("b6", EfficientNet_B6_Weights.verify(weights), progress, kwargs)


@register_model()
@handle_legacy_interface(weights=("pretrained", EfficientNet_B7_Weights.IMAGENET1K_V1))
def efficientnet_b7(*, weights: EfficientNet_B7_Weights | None = None, progress: bool = True,
                    **kwargs) -> EfficientNet:
    """EfficientNet-B7 (BatchNorm eps 0.001, momentum 0.01); arguments as :func:`efficientnet_b0`."""
    return _build("b7", EfficientNet_B7_Weights.verify(weights), progress, kwargs)
