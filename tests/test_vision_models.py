"""``minitorch.vision.models`` against PyTorch: torchvision is not installable here, so the PyTorch side of each model is
built below from ``torch.nn`` with torchvision's module and parameter names, its state dict written with the real
``torch.save``, read with ``minitorch.load`` and loaded into the minitorch model; outputs, gradients and BatchNorm
statistics must match. Also: the PyTorch checkpoint reader (zip and legacy formats, no code execution), the hub cache
and downloads (file:// URLs and a patched urlopen, never the network), the registry and the weights enums."""
import collections
import copy
import functools
import hashlib
import io
import os
import pickle
import urllib.error
import warnings
import zipfile

import numpy as np
import pytest

import minitorch
from minitorch import hub
from minitorch.vision import models
from minitorch.vision.models import _api
from minitorch.vision.models._utils import (
    _make_divisible,
    _ovewrite_named_param,
    handle_legacy_interface,
)

torch = pytest.importorskip("torch")
tnn = torch.nn

pytestmark = pytest.mark.torch


def to_np(t):
    return t.detach().cpu().numpy()


def _load_torch_state(tmodel, tmp_path, name="m.pth"):
    path = tmp_path / name
    torch.save(tmodel.state_dict(), path)
    return minitorch.load(path)


# ---------------------------------------------------------------------------------------------------------------
# the PyTorch side: torchvision's architectures from torch.nn, with torchvision's names
# ---------------------------------------------------------------------------------------------------------------
class TBasicBlock(tnn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None, groups=1, base_width=64, dilation=1):
        super().__init__()
        self.conv1 = tnn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = tnn.BatchNorm2d(planes)
        self.relu = tnn.ReLU(inplace=True)
        self.conv2 = tnn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = tnn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + (x if self.downsample is None else self.downsample(x)))


class TBottleneck(tnn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None, groups=1, base_width=64, dilation=1):
        super().__init__()
        width = int(planes * (base_width / 64.0)) * groups
        self.conv1 = tnn.Conv2d(inplanes, width, 1, bias=False)
        self.bn1 = tnn.BatchNorm2d(width)
        self.conv2 = tnn.Conv2d(width, width, 3, stride, dilation, groups=groups, bias=False, dilation=dilation)
        self.bn2 = tnn.BatchNorm2d(width)
        self.conv3 = tnn.Conv2d(width, planes * 4, 1, bias=False)
        self.bn3 = tnn.BatchNorm2d(planes * 4)
        self.relu = tnn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + (x if self.downsample is None else self.downsample(x)))


class TResNet(tnn.Module):
    def __init__(self, block, layers, num_classes=1000, groups=1, width_per_group=64, dilate=(False, False, False)):
        super().__init__()
        self.inplanes, self.dilation, self.groups, self.base_width = 64, 1, groups, width_per_group
        self.conv1 = tnn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = tnn.BatchNorm2d(64)
        self.relu = tnn.ReLU(inplace=True)
        self.maxpool = tnn.MaxPool2d(3, 2, 1)
        self.layer1 = self._layer(block, 64, layers[0], 1, False)
        self.layer2 = self._layer(block, 128, layers[1], 2, dilate[0])
        self.layer3 = self._layer(block, 256, layers[2], 2, dilate[1])
        self.layer4 = self._layer(block, 512, layers[3], 2, dilate[2])
        self.avgpool = tnn.AdaptiveAvgPool2d((1, 1))
        self.fc = tnn.Linear(512 * block.expansion, num_classes)
        for m in self.modules():  # nonzero BN parameters and statistics, so that loading them matters
            if isinstance(m, tnn.BatchNorm2d):
                with torch.no_grad():
                    m.weight.uniform_(0.5, 1.5)
                    m.bias.uniform_(-0.2, 0.2)
                    m.running_mean.uniform_(-0.1, 0.1)
                    m.running_var.uniform_(0.5, 1.5)
                    m.num_batches_tracked.fill_(7)

    def _layer(self, block, planes, blocks, stride, dilate):
        prev = self.dilation
        if dilate:
            self.dilation *= stride
            stride = 1
        down = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            down = tnn.Sequential(tnn.Conv2d(self.inplanes, planes * block.expansion, 1, stride, bias=False),
                                  tnn.BatchNorm2d(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, down, self.groups, self.base_width, prev)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes, 1, None, self.groups, self.base_width, self.dilation)
                   for _ in range(1, blocks)]
        return tnn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


class TClassifierNet(tnn.Module):
    """features -> (avgpool) -> flatten -> classifier (VGG, AlexNet), or features -> classifier -> flatten
    (SqueezeNet, which has no avgpool attribute)."""

    def forward(self, x):
        x = self.features(x)
        if hasattr(self, "avgpool"):
            return self.classifier(torch.flatten(self.avgpool(x), 1))
        return torch.flatten(self.classifier(x), 1)


def t_vgg(cfg, bn, num_classes=1000):
    layers, c = [], 3
    for v in cfg:
        if v == "M":
            layers.append(tnn.MaxPool2d(2, 2))
        else:
            layers += [tnn.Conv2d(c, v, 3, padding=1)] + ([tnn.BatchNorm2d(v)] if bn else []) + [tnn.ReLU(True)]
            c = v
    m = TClassifierNet()
    m.features = tnn.Sequential(*layers)
    m.avgpool = tnn.AdaptiveAvgPool2d((7, 7))
    m.classifier = tnn.Sequential(tnn.Linear(25088, 4096), tnn.ReLU(True), tnn.Dropout(), tnn.Linear(4096, 4096),
                                  tnn.ReLU(True), tnn.Dropout(), tnn.Linear(4096, num_classes))
    return m


def t_alexnet():
    m = TClassifierNet()
    m.features = tnn.Sequential(
        tnn.Conv2d(3, 64, 11, 4, 2), tnn.ReLU(True), tnn.MaxPool2d(3, 2), tnn.Conv2d(64, 192, 5, padding=2),
        tnn.ReLU(True), tnn.MaxPool2d(3, 2), tnn.Conv2d(192, 384, 3, padding=1), tnn.ReLU(True),
        tnn.Conv2d(384, 256, 3, padding=1), tnn.ReLU(True), tnn.Conv2d(256, 256, 3, padding=1), tnn.ReLU(True),
        tnn.MaxPool2d(3, 2))
    m.avgpool = tnn.AdaptiveAvgPool2d((6, 6))
    m.classifier = tnn.Sequential(tnn.Dropout(), tnn.Linear(9216, 4096), tnn.ReLU(True), tnn.Dropout(),
                                  tnn.Linear(4096, 4096), tnn.ReLU(True), tnn.Linear(4096, 1000))
    return m


class TFire(tnn.Module):
    def __init__(self, inp, s, e1, e3):
        super().__init__()
        self.squeeze = tnn.Conv2d(inp, s, 1)
        self.squeeze_activation = tnn.ReLU(True)
        self.expand1x1 = tnn.Conv2d(s, e1, 1)
        self.expand1x1_activation = tnn.ReLU(True)
        self.expand3x3 = tnn.Conv2d(s, e3, 3, padding=1)
        self.expand3x3_activation = tnn.ReLU(True)

    def forward(self, x):
        x = self.squeeze_activation(self.squeeze(x))
        return torch.cat([self.expand1x1_activation(self.expand1x1(x)),
                          self.expand3x3_activation(self.expand3x3(x))], 1)


def t_squeezenet(version, num_classes=1000):
    def pool():
        return tnn.MaxPool2d(3, 2, ceil_mode=True)
    if version == "1_0":
        feats = [tnn.Conv2d(3, 96, 7, 2), tnn.ReLU(True), pool(), TFire(96, 16, 64, 64), TFire(128, 16, 64, 64),
                 TFire(128, 32, 128, 128), pool(), TFire(256, 32, 128, 128), TFire(256, 48, 192, 192),
                 TFire(384, 48, 192, 192), TFire(384, 64, 256, 256), pool(), TFire(512, 64, 256, 256)]
    else:
        feats = [tnn.Conv2d(3, 64, 3, 2), tnn.ReLU(True), pool(), TFire(64, 16, 64, 64), TFire(128, 16, 64, 64),
                 pool(), TFire(128, 32, 128, 128), TFire(256, 32, 128, 128), pool(), TFire(256, 48, 192, 192),
                 TFire(384, 48, 192, 192), TFire(384, 64, 256, 256), TFire(512, 64, 256, 256)]
    m = TClassifierNet()
    m.features = tnn.Sequential(*feats)
    m.classifier = tnn.Sequential(tnn.Dropout(), tnn.Conv2d(512, num_classes, 1), tnn.ReLU(True),
                                  tnn.AdaptiveAvgPool2d((1, 1)))
    return m


RESNETS = {
    "resnet18": lambda **kw: TResNet(TBasicBlock, [2, 2, 2, 2], **kw),
    "resnet34": lambda **kw: TResNet(TBasicBlock, [3, 4, 6, 3], **kw),
    "resnet50": lambda **kw: TResNet(TBottleneck, [3, 4, 6, 3], **kw),
    "resnet101": lambda **kw: TResNet(TBottleneck, [3, 4, 23, 3], **kw),
    "resnet152": lambda **kw: TResNet(TBottleneck, [3, 8, 36, 3], **kw),
    "resnext50_32x4d": lambda **kw: TResNet(TBottleneck, [3, 4, 6, 3], groups=32, width_per_group=4, **kw),
    "resnext101_32x8d": lambda **kw: TResNet(TBottleneck, [3, 4, 23, 3], groups=32, width_per_group=8, **kw),
    "resnext101_64x4d": lambda **kw: TResNet(TBottleneck, [3, 4, 23, 3], groups=64, width_per_group=4, **kw),
    "wide_resnet50_2": lambda **kw: TResNet(TBottleneck, [3, 4, 6, 3], width_per_group=128, **kw),
    "wide_resnet101_2": lambda **kw: TResNet(TBottleneck, [3, 4, 23, 3], width_per_group=128, **kw),
}
_VGG_CFG = {"vgg11": "A", "vgg13": "B", "vgg16": "D", "vgg19": "E"}
TORCH_BUILDERS = dict(RESNETS)
for _name, _cfg in _VGG_CFG.items():
    TORCH_BUILDERS[_name] = functools.partial(t_vgg, models.vgg.cfgs[_cfg], False)
    TORCH_BUILDERS[_name + "_bn"] = functools.partial(t_vgg, models.vgg.cfgs[_cfg], True)
TORCH_BUILDERS["alexnet"] = lambda **kw: t_alexnet()
TORCH_BUILDERS["squeezenet1_0"] = lambda **kw: t_squeezenet("1_0", **kw)
TORCH_BUILDERS["squeezenet1_1"] = lambda **kw: t_squeezenet("1_1", **kw)

CHEAP = ["resnet18", "squeezenet1_0", "squeezenet1_1"]  # Bottleneck/groups/dilation: test_resnet_options_match_pytorch
BIG = [n for n in TORCH_BUILDERS if n not in CHEAP]


def _compare_model(name, tmp_path, size=64, batch=2, train=True, grads=False, seed=0):
    torch.manual_seed(seed)
    tmodel = TORCH_BUILDERS[name]()
    mmodel = models.get_model(name)
    sd = _load_torch_state(tmodel, tmp_path)
    t_sd = tmodel.state_dict()
    m_sd = mmodel.state_dict()
    assert list(m_sd) == list(t_sd)  # same names, same order
    for k in t_sd:
        assert tuple(m_sd[k].shape) == tuple(t_sd[k].shape), k
    result = mmodel.load_state_dict(sd)
    assert not result.missing_keys and not result.unexpected_keys
    x = np.random.default_rng(seed).standard_normal((batch, 3, size, size)).astype(np.float32)
    tmodel.eval()
    mmodel.eval()
    with torch.no_grad():
        t_out = tmodel(torch.from_numpy(x)).numpy()
    m_out = to_np(mmodel(minitorch.tensor(x)))
    np.testing.assert_allclose(m_out, t_out, rtol=1e-4, atol=1e-4 * max(1.0, np.abs(t_out).max()))
    if train:  # batch statistics, running-stat updates, and (optionally) the gradients
        tmodel.train()
        mmodel.train()
        for mod in list(tmodel.modules()) + list(mmodel.modules()):  # dropout draws differ between the libraries
            if type(mod).__name__ == "Dropout":
                mod.eval()
        with torch.no_grad():  # a float64 copy: the exact answer, to judge float32 rounding by
            exact = copy.deepcopy(tmodel).double()(torch.from_numpy(x).double()).numpy()
        tx = torch.from_numpy(x).requires_grad_(grads)
        mx = minitorch.tensor(x, requires_grad=grads)
        t_out = tmodel(tx)
        m_out = mmodel(mx)
        # train-mode BatchNorm over few values amplifies float32 rounding through deep nets (1e-3 after ResNet-101's
        # 33 bottlenecks, in PyTorch as in minitorch): minitorch must be about as close to the exact answer as PyTorch
        t_err = np.abs(t_out.detach().numpy() - exact).max()
        m_err = np.abs(to_np(m_out) - exact).max()
        assert m_err <= max(3 * t_err, 1e-4 * max(1.0, np.abs(exact).max())), (m_err, t_err)
        if grads:
            (t_out ** 2).mean().backward()
            (m_out ** 2).mean().backward()
            np.testing.assert_allclose(to_np(mx.grad), tx.grad.numpy(), rtol=1e-3,
                                       atol=1e-3 * np.abs(tx.grad.numpy()).max())
            tp = dict(tmodel.named_parameters())
            for k, p in mmodel.named_parameters():
                g = tp[k].grad.numpy()
                np.testing.assert_allclose(to_np(p.grad), g, rtol=1e-3, atol=1e-3 * max(np.abs(g).max(), 1e-6),
                                           err_msg=k)
        t_sd, m_sd = tmodel.state_dict(), mmodel.state_dict()
        for k in t_sd:
            if "running" in k or "num_batches" in k:
                ref = t_sd[k].numpy().astype(np.float64)  # tolerances: see the float32 note above
                np.testing.assert_allclose(to_np(m_sd[k]).astype(np.float64), ref, rtol=1e-3,
                                           atol=1e-3 * max(np.abs(ref).max(), 1e-2), err_msg=k)


# ---------------------------------------------------------------------------------------------------------------
# models against PyTorch
# ---------------------------------------------------------------------------------------------------------------
def test_resnet18_matches_pytorch_with_gradients(tmp_path):
    _compare_model("resnet18", tmp_path, grads=True)


@pytest.mark.parametrize("name", [n for n in CHEAP if n != "resnet18"])
def test_small_models_match_pytorch(name, tmp_path):
    _compare_model(name, tmp_path, size=48, batch=2)  # layer4 keeps 2x2 pixels: BatchNorm over 8 values


@pytest.mark.slow
@pytest.mark.parametrize("name", BIG)
def test_big_models_match_pytorch(name, tmp_path):
    if name.startswith(("resnet", "resnext", "wide")):
        _compare_model(name, tmp_path, size=48, batch=2)  # layer4 keeps 2x2 pixels: BatchNorm over 8 values
    else:
        _compare_model(name, tmp_path, size=64 if name != "alexnet" else 80, batch=1, train="vgg" not in name)


def test_resnet_options_match_pytorch(tmp_path):
    """groups/width_per_group/replace_stride_with_dilation/num_classes build the same network as torchvision's."""
    torch.manual_seed(1)
    tmodel = TResNet(TBottleneck, [1, 1, 1, 1], num_classes=7, groups=2, width_per_group=32,
                     dilate=(False, True, True))
    mmodel = models.ResNet(models.Bottleneck, [1, 1, 1, 1], num_classes=7, groups=2, width_per_group=32,
                           replace_stride_with_dilation=[False, True, True])
    mmodel.load_state_dict(_load_torch_state(tmodel, tmp_path))
    x = np.random.default_rng(1).standard_normal((1, 3, 48, 48)).astype(np.float32)
    tmodel.eval()
    mmodel.eval()
    with torch.no_grad():
        ref = tmodel(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(to_np(mmodel(minitorch.tensor(x))), ref, rtol=1e-4, atol=1e-4)
    # a stage's first block keeps the previous dilation; the stride became dilation
    assert mmodel.layer3[0].conv2.dilation == (1, 1) and mmodel.layer3[0].conv2.stride == (1, 1)
    assert mmodel.layer4[0].conv2.dilation == (2, 2) and mmodel.layer4[0].conv2.stride == (1, 1)
    assert mmodel.dilation == 4


def test_resnet_errors_and_zero_init_residual():
    with pytest.raises(ValueError, match="BasicBlock only supports groups=1 and base_width=64"):
        models.resnet18(groups=2)
    with pytest.raises(NotImplementedError, match="Dilation > 1 not supported in BasicBlock"):
        models.resnet18(replace_stride_with_dilation=[False, False, True])
    with pytest.raises(ValueError, match="replace_stride_with_dilation should be None or a 3-element tuple"):
        models.resnet50(replace_stride_with_dilation=[True])
    m = models.resnet18(zero_init_residual=True)
    assert all(float(b.bn2.weight.abs().sum()) == 0.0 for layer in (m.layer1, m.layer4) for b in layer)
    assert float(m.layer1[0].bn1.weight.sum()) == 64.0
    m = models.resnet50(zero_init_residual=True, norm_layer=minitorch.nn.BatchNorm2d)
    assert float(m.layer2[0].bn3.weight.abs().sum()) == 0.0


def test_initialisation_as_torchvision():
    minitorch.manual_seed(0)
    m = models.resnet50()
    w = to_np(m.layer3[0].conv2.weight)  # kaiming normal, fan_out, relu: std = sqrt(2 / (out * k * k))
    np.testing.assert_allclose(w.std(), np.sqrt(2.0 / (256 * 9)), rtol=0.05)
    assert abs(w.mean()) < 0.01 * w.std() * 10
    assert float(m.bn1.weight.min()) == 1.0 and float(m.bn1.bias.abs().max()) == 0.0
    s = models.squeezenet1_1(num_classes=10)
    final = to_np(s.classifier[1].weight)
    np.testing.assert_allclose(final.std(), 0.01, rtol=0.3)
    w = to_np(s.features[3].expand3x3.weight)  # kaiming uniform (a=0): bound sqrt(6 / fan_in)
    bound = np.sqrt(6.0 / (16 * 9))
    assert w.max() <= bound and w.min() >= -bound and w.max() > 0.9 * bound
    assert float(s.features[3].squeeze.bias.abs().max()) == 0.0


@pytest.mark.slow
def test_vgg_initialisation_as_torchvision():
    minitorch.manual_seed(0)
    v = models.vgg11(num_classes=5)
    lin = to_np(v.classifier[6].weight)
    np.testing.assert_allclose(lin.std(), 0.01, rtol=0.2)
    assert float(v.classifier[0].bias.abs().max()) == 0.0
    assert float(v.features[0].bias.abs().max()) == 0.0


@pytest.mark.parametrize("name", ["resnet18", "resnet34", "resnet50", "squeezenet1_0", "squeezenet1_1", "alexnet"])
def test_num_params_in_weights_meta(name):
    model = models.get_model(name)
    weights = models.get_model_weights(name).DEFAULT
    assert sum(p.numel() for p in model.parameters()) == weights.meta["num_params"]
    assert len(weights.meta["categories"]) == 1000 and weights.meta["categories"][0] == "tench"


@pytest.mark.slow
@pytest.mark.parametrize("name", ["resnet101", "resnet152", "resnext50_32x4d", "resnext101_32x8d", "resnext101_64x4d",
                                  "wide_resnet50_2", "wide_resnet101_2", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn",
                                  "vgg16", "vgg16_bn", "vgg19", "vgg19_bn"])
def test_num_params_in_weights_meta_big(name):
    model = models.get_model(name)
    for w in models.get_model_weights(name):
        assert sum(p.numel() for p in model.parameters()) == w.meta["num_params"], w


def test_squeezenet_version_error():
    with pytest.raises(ValueError, match="Unsupported SqueezeNet version 1_2: 1_0 or 1_1 expected"):
        models.SqueezeNet("1_2")


# ---------------------------------------------------------------------------------------------------------------
# registry and weights API
# ---------------------------------------------------------------------------------------------------------------
def test_list_models_and_get_model():
    names = models.list_models()
    assert names == sorted(names)
    for n in ["resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "resnext50_32x4d", "wide_resnet50_2",
              "vgg11", "vgg11_bn", "vgg19_bn", "alexnet", "squeezenet1_0", "squeezenet1_1"]:
        assert n in names
    assert models.list_models(include="resnet*") == ["resnet101", "resnet152", "resnet18", "resnet34", "resnet50"]
    assert models.list_models(include=["vgg1?", "alexnet"]) == ["alexnet", "vgg11", "vgg13", "vgg16", "vgg19"]
    assert models.list_models(include="vgg*", exclude=["*_bn", "vgg1[13]"]) == ["vgg16", "vgg19"]
    assert models.list_models(module=models) == names
    assert models.list_models(module=minitorch.nn) == []
    m = models.get_model("ResNet18", num_classes=10)
    assert isinstance(m, models.ResNet) and m.fc.out_features == 10
    assert models.get_model_builder("squeezenet1_1") is models.squeezenet1_1
    with pytest.raises(ValueError, match="Unknown model nosuchnet"):
        models.get_model("NoSuchNet")
    with pytest.raises(ValueError, match="An entry is already registered under the name 'resnet18'"):
        _api.register_model("resnet18")(lambda: None)


def test_weights_enums():
    W = models.ResNet50_Weights
    assert models.get_model_weights("resnet50") is W
    assert models.get_model_weights(models.resnet50) is W
    assert models.get_model_weights("vgg16") is models.VGG16_Weights
    assert W.DEFAULT is W.IMAGENET1K_V2 and W["DEFAULT"] is W.IMAGENET1K_V2
    assert list(W) == [W.IMAGENET1K_V1, W.IMAGENET1K_V2]  # DEFAULT is an alias, not a member
    assert models.get_weight("ResNet50_Weights.IMAGENET1K_V2") is W.IMAGENET1K_V2
    assert models.get_weight("SqueezeNet1_1_Weights.DEFAULT") is models.SqueezeNet1_1_Weights.IMAGENET1K_V1
    with pytest.raises(ValueError, match="The weight enum 'Nope_Weights' for the specific method couldn't be retrieved"):
        models.get_weight("Nope_Weights.IMAGENET1K_V1")
    with pytest.raises(ValueError, match="Invalid weight name provided: 'resnet50'"):
        models.get_weight("resnet50")
    assert W.verify(None) is None
    assert W.verify("IMAGENET1K_V1") is W.IMAGENET1K_V1
    assert W.verify("ResNet50_Weights.DEFAULT") is W.IMAGENET1K_V2
    assert W.verify(W.IMAGENET1K_V1) is W.IMAGENET1K_V1
    with pytest.raises(TypeError, match="expected ResNet50_Weights but received ResNet18_Weights"):
        W.verify(models.ResNet18_Weights.DEFAULT)
    with pytest.raises(KeyError):
        W.verify("IMAGENET1K_V9")
    assert repr(W.IMAGENET1K_V1) == "ResNet50_Weights.IMAGENET1K_V1"
    assert W.IMAGENET1K_V2.url == "https://download.pytorch.org/models/resnet50-11ad3fa6.pth"
    assert W.IMAGENET1K_V2.meta["min_size"] == (1, 1)
    assert isinstance(W.IMAGENET1K_V2.value, models.Weights)
    t = W.IMAGENET1K_V2.transforms()
    assert t.resize_size == [232] and t.crop_size == [224]
    assert models.VGG16_Weights.IMAGENET1K_FEATURES.meta["categories"] is None
    for name in models.list_models():
        enum = models.get_model_weights(name)
        assert issubclass(enum, models.WeightsEnum) and enum.DEFAULT in list(enum)
        for w in enum:
            assert w.url.startswith("https://download.pytorch.org/models/") and w.url.endswith(".pth")
            assert hub.HASH_REGEX.search(os.path.basename(w.url)), w.url


def test_weights_fix_num_classes():
    with pytest.raises(ValueError, match="The parameter 'num_classes' expected value 1000 but got 10 instead"):
        models.resnet18(weights="DEFAULT", num_classes=10)
    with pytest.raises(ValueError, match="The parameter 'groups' expected value 32 but got 8 instead"):
        models.resnext50_32x4d(groups=8)


def test_utils():
    assert [_make_divisible(v, 8) for v in (32, 33, 36, 37, 3, 100)] == [32, 32, 40, 40, 8, 104]
    assert _make_divisible(10, 8, min_value=16) == 16
    assert _make_divisible(29, 16) == 32 and _make_divisible(23, 16) == 32  # never more than 10% below
    kw = {}
    _ovewrite_named_param(kw, "num_classes", 1000)
    assert kw == {"num_classes": 1000}
    _ovewrite_named_param(kw, "num_classes", 1000)
    with pytest.raises(ValueError, match="The parameter 'num_classes' expected value 5 but got 1000 instead"):
        _ovewrite_named_param(kw, "num_classes", 5)


def test_legacy_pretrained_keyword_with_a_callable_default():
    seen = []

    @handle_legacy_interface(weights=("pretrained", lambda kw: models.ResNet18_Weights.IMAGENET1K_V1
                                      if kw.get("quantize") else None))
    def builder(*, weights=None, quantize=False):
        seen.append(weights)

    with pytest.warns(UserWarning, match="deprecated"):
        builder(pretrained=True, quantize=True)
    assert seen[-1] is models.ResNet18_Weights.IMAGENET1K_V1
    with pytest.raises(ValueError, match="No weights available for model builder"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        builder(pretrained=True)


# ---------------------------------------------------------------------------------------------------------------
# weights download: the hub cache, hash checks, offline errors, pretrained=True
# ---------------------------------------------------------------------------------------------------------------
@pytest.fixture
def hub_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(hub, "_hub_dir", None)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    return tmp_path / "torch_home" / "hub"


@pytest.fixture(scope="module")
def resnet18_file(tmp_path_factory):
    """A torchvision-named resnet18 state dict written by torch.save, and the PyTorch model it came from."""
    torch.manual_seed(3)
    tmodel = RESNETS["resnet18"]()
    path = tmp_path_factory.mktemp("w") / "resnet18.pth"
    torch.save(tmodel.state_dict(), path)
    return path, tmodel


def test_get_dir_rules(monkeypatch, tmp_path):
    monkeypatch.setattr(hub, "_hub_dir", None)
    monkeypatch.delenv("TORCH_HOME", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert hub.get_dir() == str(tmp_path / "xdg" / "torch" / "hub")
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert hub.get_dir() == os.path.expanduser(os.path.join("~", ".cache", "torch", "hub"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "th"))
    assert hub.get_dir() == str(tmp_path / "th" / "hub")
    hub.set_dir(tmp_path / "mine")
    assert hub.get_dir() == str(tmp_path / "mine")
    hub.set_dir("~/x")
    assert hub.get_dir() == os.path.expanduser("~/x")
    assert minitorch.hub is hub


def test_download_url_to_file(tmp_path):
    src = tmp_path / "src.bin"
    payload = os.urandom(300_000)
    src.write_bytes(payload)
    digest = hashlib.sha256(payload).hexdigest()
    dst = tmp_path / "out" / "dst.bin"
    dst.parent.mkdir()
    hub.download_url_to_file(src.as_uri(), str(dst), hash_prefix=digest[:10], progress=False)
    assert dst.read_bytes() == payload
    dst2 = tmp_path / "out" / "dst2.bin"
    with pytest.raises(RuntimeError, match=f'invalid hash value \\(expected "0000", got "{digest}"\\)'):
        hub.download_url_to_file(src.as_uri(), dst2, hash_prefix="0000", progress=False)
    assert sorted(os.listdir(tmp_path / "out")) == ["dst.bin"]  # nothing left behind, not even the temp file


def test_load_state_dict_from_url_caches_and_checks_hash(tmp_path, hub_dir, resnet18_file, capsys):
    path, tmodel = resnet18_file
    data = path.read_bytes()
    prefix = hashlib.sha256(data).hexdigest()[:8]
    named = tmp_path / f"net-{prefix}.pth"
    named.write_bytes(data)
    sd = hub.load_state_dict_from_url(named.as_uri(), check_hash=True, progress=False)
    cached = hub_dir / "checkpoints" / named.name
    assert cached.exists() and "Downloading" in capsys.readouterr().err
    np.testing.assert_array_equal(to_np(sd["conv1.weight"]), tmodel.conv1.weight.detach().numpy())
    named.unlink()  # the second call reads the cache
    sd = hub.load_state_dict_from_url(named.as_uri(), check_hash=True, progress=False)
    assert set(sd) == set(tmodel.state_dict())
    bad = tmp_path / "net-deadbeef.pth"
    bad.write_bytes(data)
    with pytest.raises(RuntimeError, match="invalid hash value"):
        hub.load_state_dict_from_url(bad.as_uri(), check_hash=True, progress=False)
    assert not (hub_dir / "checkpoints" / bad.name).exists()
    sd = hub.load_state_dict_from_url(bad.as_uri(), model_dir=tmp_path / "md", file_name="x.pth", progress=False)
    assert (tmp_path / "md" / "x.pth").exists() and "fc.bias" in sd


def test_weights_default_from_the_cache(hub_dir, resnet18_file):
    """weights="DEFAULT" reads the official file name from the hub cache (no download when it is there)."""
    path, tmodel = resnet18_file
    (hub_dir / "checkpoints").mkdir(parents=True)
    (hub_dir / "checkpoints" / "resnet18-f37072fd.pth").write_bytes(path.read_bytes())
    m = models.resnet18(weights="DEFAULT")
    x = np.random.default_rng(0).standard_normal((1, 3, 32, 32)).astype(np.float32)
    tmodel.eval()
    m.eval()
    with torch.no_grad():
        ref = tmodel(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(to_np(m(minitorch.tensor(x))), ref, rtol=1e-4, atol=1e-4)
    with pytest.warns(UserWarning, match="The parameter 'pretrained' is deprecated since 0.13"):
        m2 = models.resnet18(pretrained=True)
    np.testing.assert_array_equal(to_np(m2.fc.weight), to_np(m.fc.weight))
    with pytest.warns(UserWarning, match="Using 'weights' as positional parameter"):
        m3 = models.resnet18(True)
    np.testing.assert_array_equal(to_np(m3.fc.weight), to_np(m.fc.weight))
    with pytest.warns(UserWarning, match="equivalent to passing `weights=None`"):
        m4 = models.resnet18(pretrained=False)
    assert not np.array_equal(to_np(m4.fc.weight), to_np(m.fc.weight))
    m5 = models.get_model("resnet18", weights=models.ResNet18_Weights.IMAGENET1K_V1)
    np.testing.assert_array_equal(to_np(m5.fc.weight), to_np(m.fc.weight))


def test_weights_download_hash_mismatch_and_offline(hub_dir, resnet18_file, monkeypatch):
    path, _ = resnet18_file
    requested = []

    def fake_urlopen(request, *a, **k):  # serves our (non-official) file for the official URL
        requested.append(request.full_url)
        return open(path, "rb")

    monkeypatch.setattr(hub, "urlopen", fake_urlopen)
    with pytest.raises(RuntimeError, match='invalid hash value \\(expected "f37072fd"'):
        models.resnet18(weights=models.ResNet18_Weights.DEFAULT, progress=False)
    assert requested == ["https://download.pytorch.org/models/resnet18-f37072fd.pth"]
    assert os.listdir(hub_dir / "checkpoints") == []

    def offline(request, *a, **k):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(hub, "urlopen", offline)
    cached = str(hub_dir / "checkpoints" / "squeezenet1_1-b8a52dc0.pth")
    with pytest.raises(RuntimeError) as info:
        models.squeezenet1_1(weights="DEFAULT")
    msg = str(info.value)
    assert "https://download.pytorch.org/models/squeezenet1_1-b8a52dc0.pth" in msg and cached in msg
    assert "offline" in msg


# ---------------------------------------------------------------------------------------------------------------
# the PyTorch checkpoint reader
# ---------------------------------------------------------------------------------------------------------------
def _torch_dtypes_state():
    g = torch.Generator().manual_seed(0)
    base = torch.randn(4, 6, generator=g)
    big = torch.randn(3, 5, 7, dtype=torch.float64, generator=g)
    return collections.OrderedDict([
        ("f32", base), ("f64", big), ("i64", torch.arange(-5, 7).reshape(3, 4)), ("i32", torch.arange(6).int()),
        ("i16", torch.arange(4).short()), ("i8", torch.arange(-3, 3).to(torch.int8)), ("u8", torch.arange(250, 256).to(torch.uint8)),
        ("bool", torch.tensor([[True, False], [False, True]])), ("half", torch.randn(5, 3, generator=g).half()),
        ("bf16", torch.randn(4, generator=g).bfloat16()),
        ("scalar", torch.tensor(2.5)), ("empty", torch.empty(0, 3)),
        # views: transposed, sliced with an offset, strided, expanded (zero stride) and permuted
        ("t", base.t()), ("slice", base[1:3, 2:5]), ("step", base[:, ::2]), ("expand", torch.arange(3.).expand(4, 3)),
        ("perm", big.permute(2, 0, 1)), ("row_of_big", big[2]),
    ])


def _check_state(out, ref):
    assert list(out) == list(ref)
    for k, v in ref.items():
        assert tuple(out[k].shape) == tuple(v.shape), k
        if v.dtype == torch.bfloat16:
            assert out[k].dtype is minitorch.bfloat16
            np.testing.assert_array_equal(to_np(out[k].float()), v.float().numpy(), err_msg=k)
        else:
            assert str(out[k].dtype).split(".")[-1] == str(v.dtype).split(".")[-1], k
            np.testing.assert_array_equal(to_np(out[k]), v.numpy(), err_msg=k)


@pytest.mark.parametrize("zip_format", [True, False], ids=["zip", "legacy"])
def test_reads_torch_save_dtypes_and_views(zip_format, tmp_path):
    ref = _torch_dtypes_state()
    path = tmp_path / "s.pth"
    torch.save(ref, path, _use_new_zipfile_serialization=zip_format)
    out = minitorch.load(path)
    assert isinstance(out, collections.OrderedDict)
    _check_state(out, ref)
    # views of one storage stay views of one memory, as torch.load gives them
    out["f32"][1, 2] = 100.0
    assert float(out["t"][2, 1]) == 100.0 and float(out["slice"][0, 0]) == 100.0
    with open(path, "rb") as f:  # a file object too
        _check_state(minitorch.load(f), ref)
    _check_state(minitorch.load(io.BytesIO(path.read_bytes())), ref)


def test_reads_nested_objects_parameters_and_map_location(tmp_path):
    lin = tnn.Linear(3, 2)
    obj = {"model": lin.state_dict(), "epoch": 7, "lr": 0.1, "names": ["a", "b"], "pair": (1, None),
           "param": tnn.Parameter(torch.ones(2)), "frozen": tnn.Parameter(torch.zeros(1), requires_grad=False),
           "grad": torch.ones(2, requires_grad=True)}
    path = tmp_path / "ckpt.pt"
    torch.save(obj, path)
    out = minitorch.load(path, map_location="cpu")
    assert out["epoch"] == 7 and out["lr"] == 0.1 and out["names"] == ["a", "b"] and out["pair"] == (1, None)
    np.testing.assert_array_equal(to_np(out["model"]["weight"]), lin.weight.detach().numpy())
    assert isinstance(out["param"], minitorch.nn.Parameter) and out["param"].requires_grad
    assert isinstance(out["frozen"], minitorch.nn.Parameter) and not out["frozen"].requires_grad
    assert out["grad"].requires_grad and not isinstance(out["grad"], minitorch.nn.Parameter)
    seen = []
    out = minitorch.load(path, map_location=lambda t, loc: seen.append(loc) or t)
    assert seen and set(seen) == {"cpu"}
    # dtypes, sizes, and a storage saved on its own (a 1-D tensor of its elements)
    storage = torch.arange(5, dtype=torch.int64).untyped_storage()
    torch.save({"dtype": torch.float16, "size": torch.Size([2, 3]), "storage": storage, "int_type": torch.int64}, path)
    out = minitorch.load(path)
    assert out["dtype"] is minitorch.float16 and out["int_type"] is minitorch.int64
    assert isinstance(out["size"], minitorch.Size) and out["size"] == (2, 3)
    np.testing.assert_array_equal(to_np(out["storage"]), np.arange(5, dtype=np.int64).view(np.uint8))


def test_refuses_code_in_a_pickle(tmp_path):
    """A file that names any other global (an object saved whole, or a crafted pickle) is refused before that
    global is looked up, so nothing from the file runs."""
    path = tmp_path / "module.pth"
    torch.save(tnn.Linear(2, 2), path)  # a whole module: needs torch.nn.modules.linear.Linear
    with pytest.raises(pickle.UnpicklingError, match="refusing to load the global torch.nn.modules.linear.Linear"):
        minitorch.load(path)
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    for zip_format in (True, False):
        path = tmp_path / f"evil{zip_format}.pth"
        torch.save({"x": torch.ones(1), "evil": Evil()}, path, _use_new_zipfile_serialization=zip_format)
        with pytest.raises(pickle.UnpicklingError, match=r"refusing to load the global (posix|os)\.system"):
            minitorch.load(path)
        assert not marker.exists()


def test_corrupt_checkpoints(tmp_path):
    ref = {"w": torch.arange(10.0)}
    path = tmp_path / "s.pth"
    torch.save(ref, path)
    with zipfile.ZipFile(path) as z:
        entries = {n: z.read(n) for n in z.namelist()}
    storage = next(n for n in entries if "/data/" in n)
    broken = tmp_path / "missing.pth"
    with zipfile.ZipFile(broken, "w") as z:
        for n, b in entries.items():
            if n != storage:
                z.writestr(n, b)
    with pytest.raises(RuntimeError, match="is corrupt: the storage .*data/0 is missing"):
        minitorch.load(broken)
    short = tmp_path / "short.pth"
    with zipfile.ZipFile(short, "w") as z:
        for n, b in entries.items():
            z.writestr(n, b[:8] if n == storage else b)
    with pytest.raises(RuntimeError, match="corrupt or truncated: storage 0 holds 8 bytes, 40 expected"):
        minitorch.load(short)
    other = tmp_path / "other.zip"
    with zipfile.ZipFile(other, "w") as z:
        z.writestr("readme.txt", b"hi")
    with pytest.raises(RuntimeError, match="is a zip archive but not a PyTorch checkpoint"):
        minitorch.load(other)
    legacy = tmp_path / "legacy.pth"
    torch.save(ref, legacy, _use_new_zipfile_serialization=False)
    cut = tmp_path / "cut.pth"
    cut.write_bytes(legacy.read_bytes()[:-12])
    with pytest.raises(RuntimeError, match="truncated|corrupt"):
        minitorch.load(cut)


def test_big_endian_zip(tmp_path):
    """A checkpoint written on a big-endian machine (byteorder "big") is byte-swapped on reading."""
    path = tmp_path / "s.pth"
    ref = {"w": torch.arange(6, dtype=torch.float32).reshape(2, 3) * 1.5, "i": torch.arange(3)}
    torch.save(ref, path)
    with zipfile.ZipFile(path) as z:
        entries = {n: z.read(n) for n in z.namelist()}
    swapped = tmp_path / "be.pth"
    with zipfile.ZipFile(swapped, "w") as z:
        for n, b in entries.items():
            if n.endswith("/byteorder"):
                b = b"big"
            elif "/data/" in n and not n.endswith("serialization_id"):
                key = n.rsplit("/", 1)[1]
                dt = np.float32 if key == "0" else np.int64
                b = np.frombuffer(b, dtype=dt).astype(np.dtype(dt).newbyteorder(">")).tobytes()
            z.writestr(n, b)
    out = minitorch.load(swapped)
    np.testing.assert_array_equal(to_np(out["w"]), ref["w"].numpy())
    np.testing.assert_array_equal(to_np(out["i"]), ref["i"].numpy())


def test_minitorch_checkpoints_still_load(tmp_path):
    path = tmp_path / "m.pt"
    m = models.squeezenet1_1(num_classes=3)
    minitorch.save(m.state_dict(), path)
    out = minitorch.load(path)
    np.testing.assert_array_equal(to_np(out["classifier.1.weight"]), to_np(m.classifier[1].weight))


# ---------------------------------------------------------------------------------------------------------------
# the weights' transforms
# ---------------------------------------------------------------------------------------------------------------
def test_image_classification_preset_matches_pytorch_ops():
    from minitorch.vision.transforms._presets import ImageClassification
    x = np.random.default_rng(0).random((2, 3, 150, 200)).astype(np.float32)
    preset = ImageClassification(crop_size=96, resize_size=128)
    out = to_np(preset(minitorch.tensor(x)))
    ref = torch.nn.functional.interpolate(torch.from_numpy(x), size=(128, 170), mode="bilinear", align_corners=False,
                                          antialias=True)
    top, left = round((128 - 96) / 2), round((170 - 96) / 2)
    ref = ref[..., top:top + 96, left:left + 96]
    mean = torch.tensor([0.485, 0.456, 0.406]).view(3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(3, 1, 1)
    ref = ((ref - mean) / std).numpy()
    assert out.shape == (2, 3, 96, 96) and out.dtype == np.float32
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-4)
    assert "crop_size=[96]" in repr(preset) and "resize_size=[128]" in repr(preset)
    u8 = (np.random.default_rng(1).random((3, 40, 60)) * 255).astype(np.uint8)
    out = to_np(ImageClassification(crop_size=16, resize_size=20)(minitorch.tensor(u8)))
    assert out.shape == (3, 16, 16) and out.dtype == np.float32
    with pytest.raises(TypeError):
        ImageClassification(96)  # keyword-only, as torchvision's
