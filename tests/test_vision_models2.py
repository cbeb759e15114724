"""minitorch.vision.models: mobilenet_v2, mobilenet_v3_small/large, densenet121-201, efficientnet_b0-b7, googlenet.

torchvision does not install here, so each architecture is mirrored below with torch.nn modules under torchvision's
module names. The mirror's state dict is written with PyTorch's own ``torch.save`` (a .pth zip file), read by the
minitorch builder through its ``*_Weights`` enum and the hub cache (nothing downloads), and both nets must agree in
eval mode. Parameter counts are checked against the ``num_params`` torchvision publishes for each checkpoint.
"""
import importlib
import math
import os
import urllib.error
from collections import OrderedDict
from functools import partial

import numpy as np
import pytest

import minitorch
import minitorch.hub
from minitorch import nn
from minitorch.vision import models
from minitorch.vision.models import densenet as mdense, efficientnet as meff
from minitorch.vision.models import mobilenetv2 as mmv2, mobilenetv3 as mmv3

mgoog = importlib.import_module("minitorch.vision.models.googlenet")  # the package's "googlenet" is the builder

pytestmark = pytest.mark.torch


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


@pytest.fixture
def hub(tmp_path, monkeypatch):
    """An empty hub cache in tmp_path; ``hub.put(weights, state_dict)`` stores a PyTorch-saved file where the
    builder looks for ``weights``' checkpoint."""
    monkeypatch.setattr(minitorch.hub, "_hub_dir", str(tmp_path))

    class Hub:
        folder = tmp_path / "checkpoints"

        def put(self, weights, state_dict):
            import torch
            self.folder.mkdir(exist_ok=True)
            torch.save(state_dict, self.folder / os.path.basename(weights.url))
    return Hub()


def _div8(v):
    """Channels rounded to the nearest multiple of 8, never more than 10% down (the MobileNet rule)."""
    r = max(8, int(v + 4) // 8 * 8)
    return r + 8 if r < 0.9 * v else r


def _nparams(model):
    return sum(p.numel() for p in model.parameters())


def _randomize(torch, tm):
    """Random BatchNorm statistics and affine parameters, so eval mode is not an identity."""
    g = torch.Generator().manual_seed(0)
    for m in tm.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            n = m.num_features
            with torch.no_grad():
                m.weight.copy_(torch.rand(n, generator=g) + 0.5)
                m.bias.copy_(torch.rand(n, generator=g) - 0.5)
                m.running_mean.copy_((torch.rand(n, generator=g) - 0.5) * 0.2)
                m.running_var.copy_(torch.rand(n, generator=g) + 0.5)
    return tm


def _compare(torch, model, tm, shape, train=False, seed=0):
    """Both nets on the same input: outputs (or output tuples) must agree."""
    tm.train(train)
    model.train(train)
    tx = torch.randn(*shape, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        ty = tm(tx)
    with minitorch.no_grad():
        y = model(minitorch.from_numpy(tx.numpy().copy()))
    ty = tuple(ty) if isinstance(ty, tuple) else (ty,)
    y = tuple(y) if isinstance(y, tuple) else (y,)
    assert len(y) == len(ty)
    for a, b in zip(y, ty):
        b = b.numpy()
        np.testing.assert_allclose(a.numpy(), b, rtol=2e-3, atol=2e-4 * max(1.0, float(np.abs(b).max())))


def _same_keys(model, tm):
    sd, tsd = model.state_dict(), tm.state_dict()
    assert list(sd) == list(tsd)
    assert all(tuple(sd[k].shape) == tuple(tsd[k].shape) for k in sd)


def _via_pth(tm, tmp_path):
    """A torch state dict written by torch.save and read back by minitorch.load."""
    import torch
    path = tmp_path / "mirror.pth"
    torch.save(tm.state_dict(), path)
    return minitorch.load(path)


# ------------------------------------------------------------------------------------------ torch mirrors (torch.nn)
def _mirrors(torch):
    tnn = torch.nn
    F = tnn.functional

    def cna(cin, cout, k=3, s=1, g=1, act=tnn.ReLU, norm=tnn.BatchNorm2d, d=1):
        layers = [tnn.Conv2d(cin, cout, k, s, (k - 1) // 2 * d, dilation=d, groups=g, bias=False), norm(cout)]
        return tnn.Sequential(*(layers + ([act(inplace=True)] if act else [])))

    class SE(tnn.Module):
        def __init__(self, c, squeeze, act, gate):
            super().__init__()
            self.fc1, self.fc2 = tnn.Conv2d(c, squeeze, 1), tnn.Conv2d(squeeze, c, 1)
            self.act, self.gate = act(), gate()

        def forward(self, x):
            return x * self.gate(self.fc2(self.act(self.fc1(x.mean((2, 3), keepdim=True)))))

    class Block(tnn.Module):  # a residual block whose layers sit in one Sequential child (``conv`` or ``block``)
        def __init__(self, child, layers, residual):
            super().__init__()
            self.child, self.residual = child, residual
            self.add_module(child, tnn.Sequential(*layers))

        def forward(self, x):
            y = getattr(self, self.child)(x)
            return x + y if self.residual else y

    class Net(tnn.Module):
        def __init__(self, features, classifier):
            super().__init__()
            self.features, self.classifier = features, classifier

        def forward(self, x):
            x = self.features(x)
            if isinstance(self.classifier, tnn.Linear):  # DenseNet: a final ReLU
                x = F.relu(x)
            return self.classifier(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))

    def mobilenet_v2(setting, num_classes=1000):
        r6 = tnn.ReLU6
        feats, cin = [cna(3, 32, s=2, act=r6)], 32
        for t, c, n, s in setting:
            for i in range(n):
                hid, st = cin * t, (s if i == 0 else 1)
                layers = ([cna(cin, hid, 1, act=r6)] if t != 1 else []) + [
                    cna(hid, hid, 3, st, g=hid, act=r6), tnn.Conv2d(hid, c, 1, bias=False), tnn.BatchNorm2d(c)]
                feats.append(Block("conv", layers, st == 1 and cin == c))
                cin = c
        feats.append(cna(cin, 1280, 1, act=r6))
        return Net(tnn.Sequential(*feats), tnn.Sequential(tnn.Dropout(0.2), tnn.Linear(1280, num_classes)))

    def mobilenet_v3(table, last_channel, num_classes=1000, dropout=0.2):
        bn = partial(tnn.BatchNorm2d, eps=0.001, momentum=0.01)
        feats = [cna(3, table[0].input_channels, 3, 2, act=tnn.Hardswish, norm=bn)]
        for c in table:
            act = tnn.Hardswish if c.use_hs else tnn.ReLU
            cin, exp, out = c.input_channels, c.expanded_channels, c.out_channels
            layers = ([cna(cin, exp, 1, act=act, norm=bn)] if exp != cin else [])
            layers.append(cna(exp, exp, c.kernel, 1 if c.dilation > 1 else c.stride, g=exp, act=act, norm=bn,
                              d=c.dilation))
            if c.use_se:
                layers.append(SE(exp, _div8(exp // 4), tnn.ReLU, tnn.Hardsigmoid))
            layers.append(cna(exp, out, 1, act=None, norm=bn))
            feats.append(Block("block", layers, c.stride == 1 and cin == out))
        last = 6 * table[-1].out_channels
        feats.append(cna(table[-1].out_channels, last, 1, act=tnn.Hardswish, norm=bn))
        head = tnn.Sequential(tnn.Linear(last, last_channel), tnn.Hardswish(inplace=True), tnn.Dropout(dropout),
                              tnn.Linear(last_channel, num_classes))
        return Net(tnn.Sequential(*feats), head)

    def efficientnet(stages, num_classes=1000, norm=tnn.BatchNorm2d, dropout=0.2):
        feats = [cna(3, stages[0].input_channels, 3, 2, act=tnn.SiLU, norm=norm)]
        for st in stages:
            blocks = []
            for i in range(st.num_layers):
                cin = st.input_channels if i == 0 else st.out_channels
                stride = st.stride if i == 0 else 1
                exp = _div8(cin * st.expand_ratio)
                layers = ([cna(cin, exp, 1, act=tnn.SiLU, norm=norm)] if exp != cin else []) + [
                    cna(exp, exp, st.kernel, stride, g=exp, act=tnn.SiLU, norm=norm),
                    SE(exp, max(1, cin // 4), tnn.SiLU, tnn.Sigmoid), cna(exp, st.out_channels, 1, act=None, norm=norm)]
                blocks.append(Block("block", layers, stride == 1 and cin == st.out_channels))
            feats.append(tnn.Sequential(*blocks))
        last = 4 * stages[-1].out_channels
        feats.append(cna(stages[-1].out_channels, last, 1, act=tnn.SiLU, norm=norm))
        return Net(tnn.Sequential(*feats), tnn.Sequential(tnn.Dropout(dropout), tnn.Linear(last, num_classes)))

    class DenseLayer(tnn.Module):
        def __init__(self, cin, growth, bn_size):
            super().__init__()
            self.norm1, self.relu1 = tnn.BatchNorm2d(cin), tnn.ReLU()
            self.conv1 = tnn.Conv2d(cin, bn_size * growth, 1, bias=False)
            self.norm2, self.relu2 = tnn.BatchNorm2d(bn_size * growth), tnn.ReLU()
            self.conv2 = tnn.Conv2d(bn_size * growth, growth, 3, padding=1, bias=False)

        def forward(self, feats):
            x = self.conv1(self.relu1(self.norm1(torch.cat(feats, 1))))
            return self.conv2(self.relu2(self.norm2(x)))

    class DenseBlock(tnn.ModuleDict):
        def forward(self, x):
            feats = [x]
            for layer in self.values():
                feats.append(layer(feats))
            return torch.cat(feats, 1)

    def densenet(growth, blocks, init, bn_size=4, num_classes=1000):
        f = tnn.Sequential(OrderedDict([("conv0", tnn.Conv2d(3, init, 7, 2, 3, bias=False)),
                                        ("norm0", tnn.BatchNorm2d(init)), ("relu0", tnn.ReLU()),
                                        ("pool0", tnn.MaxPool2d(3, 2, 1))]))
        c = init
        for i, n in enumerate(blocks):
            f.add_module(f"denseblock{i + 1}", DenseBlock(
                {f"denselayer{j + 1}": DenseLayer(c + j * growth, growth, bn_size) for j in range(n)}))
            c += n * growth
            if i < len(blocks) - 1:
                f.add_module(f"transition{i + 1}", tnn.Sequential(OrderedDict([
                    ("norm", tnn.BatchNorm2d(c)), ("relu", tnn.ReLU()), ("conv", tnn.Conv2d(c, c // 2, 1, bias=False)),
                    ("pool", tnn.AvgPool2d(2, 2))])))
                c //= 2
        f.add_module("norm5", tnn.BatchNorm2d(c))
        return Net(f, tnn.Linear(c, num_classes))

    class BasicConv(tnn.Module):
        def __init__(self, cin, cout, **kw):
            super().__init__()
            self.conv, self.bn = tnn.Conv2d(cin, cout, bias=False, **kw), tnn.BatchNorm2d(cout, eps=0.001)

        def forward(self, x):
            return F.relu(self.bn(self.conv(x)))

    class Inception(tnn.Module):
        def __init__(self, cin, c1, c3r, c3, c5r, c5, pp):
            super().__init__()
            self.branch1 = BasicConv(cin, c1, kernel_size=1)
            self.branch2 = tnn.Sequential(BasicConv(cin, c3r, kernel_size=1), BasicConv(c3r, c3, kernel_size=3,
                                                                                        padding=1))
            self.branch3 = tnn.Sequential(BasicConv(cin, c5r, kernel_size=1), BasicConv(c5r, c5, kernel_size=3,
                                                                                        padding=1))
            self.branch4 = tnn.Sequential(tnn.MaxPool2d(3, 1, 1, ceil_mode=True), BasicConv(cin, pp, kernel_size=1))

        def forward(self, x):
            return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], 1)

    class Aux(tnn.Module):
        def __init__(self, cin, num_classes):
            super().__init__()
            self.conv = BasicConv(cin, 128, kernel_size=1)
            self.fc1, self.fc2 = tnn.Linear(2048, 1024), tnn.Linear(1024, num_classes)

        def forward(self, x):
            x = torch.flatten(self.conv(F.adaptive_avg_pool2d(x, 4)), 1)
            return self.fc2(F.relu(self.fc1(x)))  # dropout: 0 in these tests

    class GoogLeNet(tnn.Module):
        def __init__(self, num_classes=1000, aux=True, transform_input=False):
            super().__init__()
            self.transform_input = transform_input
            self.conv1 = BasicConv(3, 64, kernel_size=7, stride=2, padding=3)
            self.conv2 = BasicConv(64, 64, kernel_size=1)
            self.conv3 = BasicConv(64, 192, kernel_size=3, padding=1)
            specs = {"3a": (192, 64, 96, 128, 16, 32, 32), "3b": (256, 128, 128, 192, 32, 96, 64),
                     "4a": (480, 192, 96, 208, 16, 48, 64), "4b": (512, 160, 112, 224, 24, 64, 64),
                     "4c": (512, 128, 128, 256, 24, 64, 64), "4d": (512, 112, 144, 288, 32, 64, 64),
                     "4e": (528, 256, 160, 320, 32, 128, 128), "5a": (832, 256, 160, 320, 32, 128, 128),
                     "5b": (832, 384, 192, 384, 48, 128, 128)}
            for k, v in specs.items():
                self.add_module("inception" + k, Inception(*v))
            self.aux1, self.aux2 = (Aux(512, num_classes), Aux(528, num_classes)) if aux else (None, None)
            self.fc = tnn.Linear(1024, num_classes)

        def forward(self, x):
            if self.transform_input:
                mean, std = torch.tensor([0.485, 0.456, 0.406]), torch.tensor([0.229, 0.224, 0.225])
                x = x * (std / 0.5).view(1, 3, 1, 1) + ((mean - 0.5) / 0.5).view(1, 3, 1, 1)
            pool = partial(F.max_pool2d, kernel_size=3, stride=2, ceil_mode=True)
            x = pool(self.conv3(self.conv2(pool(self.conv1(x)))))
            x = self.inception4a(pool(self.inception3b(self.inception3a(x))))
            a1 = self.aux1(x) if self.training and self.aux1 is not None else None
            x = self.inception4d(self.inception4c(self.inception4b(x)))
            a2 = self.aux2(x) if self.training and self.aux2 is not None else None
            x = F.max_pool2d(self.inception4e(x), 2, 2, ceil_mode=True)
            x = self.fc(torch.flatten(F.adaptive_avg_pool2d(self.inception5b(self.inception5a(x)), 1), 1))
            return (x, a2, a1) if self.training and self.aux1 is not None else x

    return dict(mobilenet_v2=mobilenet_v2, mobilenet_v3=mobilenet_v3, efficientnet=efficientnet, densenet=densenet,
                googlenet=GoogLeNet)


@pytest.fixture(scope="module")
def mirrors(torch):
    return _mirrors(torch)


_MV2 = [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1], [6, 160, 3, 2], [6, 320, 1, 1]]


# ------------------------------------------------------------------------------------------ MobileNetV2
def test_mobilenet_v2_small_config_matches_torch(torch, mirrors, tmp_path):
    setting = [[1, 16, 1, 1], [6, 24, 2, 2]]
    tm = _randomize(torch, mirrors["mobilenet_v2"](setting, num_classes=10))
    model = mmv2.MobileNetV2(num_classes=10, inverted_residual_setting=setting)
    _same_keys(model, tm)
    model.load_state_dict(_via_pth(tm, tmp_path))
    _compare(torch, model, tm, (2, 3, 32, 32))


@pytest.mark.slow
def test_mobilenet_v2_published_weights_path(torch, mirrors, hub):
    tm = _randomize(torch, mirrors["mobilenet_v2"](_MV2))
    hub.put(models.MobileNet_V2_Weights.IMAGENET1K_V2, tm.state_dict())
    model = models.mobilenet_v2(weights="DEFAULT")
    assert _nparams(model) == _nparams(tm) == models.MobileNet_V2_Weights.DEFAULT.meta["num_params"]
    _compare(torch, model, tm, (1, 3, 32, 32))


def test_mobilenet_v2_init_and_options():
    minitorch.manual_seed(0)
    model = models.mobilenet_v2()
    w = model.features[18][0].weight  # 1280 x 320 x 1 x 1: kaiming normal, fan_out
    assert abs(float(w.std()) / math.sqrt(2 / 1280) - 1) < 0.02
    bn = model.features[18][1]
    assert float(bn.weight.min()) == float(bn.weight.max()) == 1.0 and float(bn.bias.abs().max()) == 0.0
    fc = model.classifier[1]
    assert abs(float(fc.weight.std()) / 0.01 - 1) < 0.02 and float(fc.bias.abs().max()) == 0.0
    assert model.classifier[0].p == 0.2 and model.last_channel == 1280
    wide = mmv2.MobileNetV2(width_mult=1.4, inverted_residual_setting=[[1, 16, 1, 1]], num_classes=3)
    assert wide.features[0][0].out_channels == 48 and wide.last_channel == 1792  # 32*1.4 -> 48, 1280*1.4
    assert isinstance(wide.features[1], mmv2.InvertedResidual) and len(wide.features[1].conv) == 3
    with pytest.raises(ValueError, match=r"inverted_residual_setting should be non-empty or a 4-element list, got "
                                         r"\[\[1, 16, 1\]\]"):
        mmv2.MobileNetV2(inverted_residual_setting=[[1, 16, 1]])
    with pytest.raises(ValueError, match="stride should be 1 or 2 instead of 3"):
        mmv2.InvertedResidual(8, 8, 3, 6)


# ------------------------------------------------------------------------------------------ MobileNetV3
@pytest.mark.parametrize("arch,kw", [("mobilenet_v3_small", {}),
                                     ("mobilenet_v3_small", {"reduced_tail": True, "dilated": True})])
def test_mobilenet_v3_small_matches_torch(torch, mirrors, tmp_path, arch, kw):
    table, last = mmv3._mobilenet_v3_conf(arch, **kw)
    tm = _randomize(torch, mirrors["mobilenet_v3"](table, last))
    model = getattr(models, arch)(**kw)
    _same_keys(model, tm)
    model.load_state_dict(_via_pth(tm, tmp_path))
    _compare(torch, model, tm, (2, 3, 32, 32))


def test_mobilenet_v3_small_published_weights_and_legacy_pretrained(torch, mirrors, hub):
    table, last = mmv3._mobilenet_v3_conf("mobilenet_v3_small")
    tm = _randomize(torch, mirrors["mobilenet_v3"](table, last))
    hub.put(models.MobileNet_V3_Small_Weights.IMAGENET1K_V1, tm.state_dict())
    # the deprecated pretrained=True means torchvision's default file, with its warnings
    with pytest.warns(UserWarning, match="'pretrained' is deprecated"):
        model = models.mobilenet_v3_small(pretrained=True)
    _compare(torch, model, tm, (1, 3, 32, 32))
    with pytest.warns(UserWarning, match="positional parameter"):
        model = models.mobilenet_v3_small(False)  # old positional form: no weights
    assert model.classifier[3].weight.abs().max().item() < 0.1
    with pytest.raises(ValueError, match="The parameter 'num_classes' expected value 1000 but got 10 instead"):
        models.mobilenet_v3_small(weights="DEFAULT", num_classes=10)
    with pytest.raises(KeyError):
        models.mobilenet_v3_small(weights="IMAGENET1K_V2")


def test_mobilenet_v3_large_published_weights_path(torch, mirrors, hub):
    table, last = mmv3._mobilenet_v3_conf("mobilenet_v3_large")
    tm = _randomize(torch, mirrors["mobilenet_v3"](table, last))
    assert _nparams(tm) == models.MobileNet_V3_Large_Weights.DEFAULT.meta["num_params"]  # the table is torchvision's
    hub.put(models.MobileNet_V3_Large_Weights.IMAGENET1K_V2, tm.state_dict())
    model = models.get_model("mobilenet_v3_large", weights="IMAGENET1K_V2")
    _compare(torch, model, tm, (1, 3, 32, 32))


def test_mobilenet_v3_structure_init_and_errors():
    minitorch.manual_seed(0)
    small = models.mobilenet_v3_small(num_classes=7, dropout=0.3)
    assert _nparams(models.mobilenet_v3_small()) == models.MobileNet_V3_Small_Weights.IMAGENET1K_V1.meta["num_params"]
    bn = small.features[0][1]
    assert (bn.eps, bn.momentum) == (0.001, 0.01)
    assert isinstance(small.features[0][2], nn.Hardswish) and isinstance(small.features[1].block[1].scale_activation,
                                                                         nn.Hardsigmoid)
    assert small.classifier[2].p == 0.3 and small.classifier[3].out_features == 7
    w = small.features[12][0].weight  # 576 x 96 x 1 x 1, fan_out
    assert abs(float(w.std()) / math.sqrt(2 / 576) - 1) < 0.03
    assert abs(float(small.classifier[0].weight.std()) / 0.01 - 1) < 0.02
    dil = models.mobilenet_v3_large(dilated=True)
    conv = dil.features[13].block[1][0]
    assert conv.dilation == (2, 2) and conv.stride == (1, 1) and conv.padding == (4, 4)
    with pytest.raises(ValueError, match="The inverted_residual_setting should not be empty"):
        mmv3.MobileNetV3([], 1280)
    with pytest.raises(TypeError, match=r"The inverted_residual_setting should be List\[InvertedResidualConfig\]"):
        mmv3.MobileNetV3([[16, 3, 16, 16]], 1280)
    with pytest.raises(ValueError, match="Unsupported model type mobilenet_v3_medium"):
        mmv3._mobilenet_v3_conf("mobilenet_v3_medium")
    bad = mmv3.InvertedResidualConfig(16, 3, 16, 16, False, "RE", 3, 1, 1.0)
    with pytest.raises(ValueError, match="illegal stride value"):
        mmv3.InvertedResidual(bad, nn.BatchNorm2d)


# ------------------------------------------------------------------------------------------ EfficientNet
def test_efficientnet_b0_published_weights_path(torch, mirrors, hub):
    stages, _ = meff._efficientnet_conf("efficientnet_b0", width_mult=1.0, depth_mult=1.0)
    tm = _randomize(torch, mirrors["efficientnet"](stages))
    assert _nparams(tm) == models.EfficientNet_B0_Weights.DEFAULT.meta["num_params"]
    hub.put(models.EfficientNet_B0_Weights.IMAGENET1K_V1, tm.state_dict())
    model = models.efficientnet_b0(weights=models.EfficientNet_B0_Weights.IMAGENET1K_V1)
    _same_keys(model, tm)
    _compare(torch, model, tm, (1, 3, 32, 32))


def test_efficientnet_structure_init_and_errors():
    minitorch.manual_seed(0)
    model = models.efficientnet_b0(num_classes=10, stochastic_depth_prob=0.4)
    blocks = [b for stage in model.features[1:-1] for b in stage]
    assert len(blocks) == 16
    # stochastic depth grows linearly over the 16 blocks, from 0
    assert [b.stochastic_depth.p for b in blocks] == pytest.approx([0.4 * i / 16 for i in range(16)])
    assert all(b.stochastic_depth.mode == "row" for b in blocks)
    assert model.classifier[0].p == 0.2 and model.classifier[0].inplace
    fc = model.classifier[1]
    bound = 1 / math.sqrt(10)
    assert float(fc.weight.abs().max()) <= bound and float(fc.weight.std()) > 0.8 * bound / math.sqrt(3)
    se = blocks[3].block[2]
    assert isinstance(se.activation, nn.SiLU) and se.fc1.out_channels == 6  # 24 input channels // 4
    # training mode: the stochastic depth is active, eval mode: deterministic
    model.eval()
    x = minitorch.randn(1, 3, 32, 32)
    with minitorch.no_grad():
        np.testing.assert_array_equal(model(x).numpy(), model(x).numpy())
    with pytest.raises(ValueError, match="The inverted_residual_setting should not be empty"):
        meff.EfficientNet([], 0.2)
    with pytest.raises(TypeError, match=r"The inverted_residual_setting should be List\[MBConvConfig\]"):
        meff.EfficientNet([(1, 3, 1, 32, 16, 1)], 0.2)
    with pytest.raises(ValueError, match="Unsupported model type efficientnet_x9"):
        meff._efficientnet_conf("efficientnet_x9")
    with pytest.raises(ValueError, match="illegal stride value"):
        meff.MBConv(meff.MBConvConfig(1, 3, 3, 32, 16, 1), 0.0, nn.BatchNorm2d)


@pytest.mark.slow
@pytest.mark.parametrize("variant", ["b1", "b2", "b3", "b4", "b5", "b6", "b7"])
def test_efficientnet_variants_match_published_sizes(variant):
    model = getattr(models, f"efficientnet_{variant}")()
    weights = models.get_model_weights(f"efficientnet_{variant}").DEFAULT
    assert _nparams(model) == weights.meta["num_params"]
    bn = model.features[0][1]
    assert (bn.eps, bn.momentum) == ((0.001, 0.01) if variant in ("b5", "b6", "b7") else (1e-5, 0.1))
    dropout = {"b1": 0.2, "b2": 0.3, "b3": 0.3, "b4": 0.4, "b5": 0.4, "b6": 0.5, "b7": 0.5}
    assert model.classifier[0].p == dropout[variant]


# ------------------------------------------------------------------------------------------ DenseNet
def test_densenet_small_config_matches_torch(torch, mirrors, tmp_path):
    tm = _randomize(torch, mirrors["densenet"](8, (2, 3), 16, bn_size=2, num_classes=5))
    model = mdense.DenseNet(growth_rate=8, block_config=(2, 3), num_init_features=16, bn_size=2, num_classes=5)
    _same_keys(model, tm)
    model.load_state_dict(_via_pth(tm, tmp_path))
    _compare(torch, model, tm, (2, 3, 32, 32))
    _compare(torch, model, tm, (2, 3, 32, 32), train=True)


def test_densenet_memory_efficient_gives_the_same_gradients(torch, mirrors):
    minitorch.manual_seed(0)
    plain = mdense.DenseNet(growth_rate=4, block_config=(2, 2), num_init_features=8, num_classes=3)
    ckpt = mdense.DenseNet(growth_rate=4, block_config=(2, 2), num_init_features=8, num_classes=3,
                           memory_efficient=True)
    ckpt.load_state_dict(plain.state_dict())
    x = minitorch.randn(2, 3, 16, 16)
    grads = []
    for m in (plain, ckpt):
        m(x).square().sum().backward()
        grads.append(m.features.denseblock1.denselayer2.conv1.weight.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-5, atol=1e-6)


def _old_densenet_names(state_dict):
    """The key names of the published DenseNet files (2017): a dense layer's children are "norm.1", "conv.2" ...,
    and there are no num_batches_tracked buffers."""
    return OrderedDict((k.replace("norm1", "norm.1").replace("norm2", "norm.2").replace("conv1", "conv.1")
                        .replace("conv2", "conv.2") if "denselayer" in k else k, v) for k, v in state_dict.items()
                       if not k.endswith("num_batches_tracked"))


def test_densenet_loader_renames_the_published_key_names(torch, mirrors, tmp_path):
    tm = _randomize(torch, mirrors["densenet"](8, (2, 2), 16, num_classes=3))
    old = _old_densenet_names(tm.state_dict())
    assert "features.denseblock1.denselayer1.norm.1.weight" in old
    path = tmp_path / "old.pth"
    torch.save(old, path)

    class FakeWeights:
        def get_state_dict(self, progress, check_hash):
            return minitorch.load(path)
    model = mdense.DenseNet(growth_rate=8, block_config=(2, 2), num_init_features=16, num_classes=3)
    mdense._load_state_dict(model, FakeWeights(), progress=False)
    _compare(torch, model, tm, (1, 3, 32, 32))


@pytest.mark.slow
def test_densenet121_published_weights_path_with_old_key_names(torch, mirrors, hub):
    tm = _randomize(torch, mirrors["densenet"](32, (6, 12, 24, 16), 64))
    assert _nparams(tm) == models.DenseNet121_Weights.DEFAULT.meta["num_params"]
    hub.put(models.DenseNet121_Weights.IMAGENET1K_V1, _old_densenet_names(tm.state_dict()))
    model = models.densenet121(weights="DEFAULT")
    _same_keys(model, tm)
    _compare(torch, model, tm, (1, 3, 32, 32))


def test_densenet_init():
    minitorch.manual_seed(0)
    model = mdense.DenseNet(growth_rate=4, block_config=(1, 1), num_init_features=64, num_classes=4)
    w = model.features.conv0.weight  # kaiming normal, fan_in = 3 * 7 * 7
    assert abs(float(w.std()) / math.sqrt(2 / 147) - 1) < 0.05
    assert float(model.classifier.bias.abs().max()) == 0.0 and model.classifier.in_features == 38  # (64 + 4) // 2 + 4
    bound = 1 / math.sqrt(38)  # the Linear keeps its default weight initialisation
    assert 0.5 * bound < float(model.classifier.weight.abs().max()) <= bound
    assert float(model.features.norm5.weight.min()) == 1.0 and float(model.features.norm5.bias.abs().max()) == 0.0


@pytest.mark.slow
@pytest.mark.parametrize("name", ["densenet121", "densenet161", "densenet169", "densenet201"])
def test_densenet_variants_match_published_sizes(name):
    weights = models.get_model_weights(name).DEFAULT
    assert _nparams(models.get_model(name)) == weights.meta["num_params"]
    assert weights.meta["min_size"] == (29, 29)


def test_offline_error_names_the_file(hub, monkeypatch):
    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network")
    monkeypatch.setattr(minitorch.hub, "urlopen", offline)
    with pytest.raises(RuntimeError, match=r"mobilenet_v3_small-047dcff4\.pth"):
        models.mobilenet_v3_small(weights="DEFAULT")


# ------------------------------------------------------------------------------------------ GoogLeNet
@pytest.mark.parametrize("aux", [True, False])
def test_googlenet_names_and_shapes_match_torch(mirrors, aux):
    tm = mirrors["googlenet"](num_classes=10, aux=aux)
    _same_keys(mgoog.GoogLeNet(num_classes=10, aux_logits=aux, init_weights=False), tm)


@pytest.mark.slow
def test_googlenet_train_mode_aux_outputs_match_torch(torch, mirrors, tmp_path):
    tm = _randomize(torch, mirrors["googlenet"](num_classes=10))
    model = mgoog.GoogLeNet(num_classes=10, init_weights=False, dropout=0.0, dropout_aux=0.0)
    _same_keys(model, tm)
    model.load_state_dict(_via_pth(tm, tmp_path))
    _compare(torch, model, tm, (2, 3, 64, 64), train=True)  # the running statistics move alike, too:
    _compare(torch, model, tm, (1, 3, 64, 64), train=False)
    out = model.train()(minitorch.randn(2, 3, 64, 64))
    assert isinstance(out, mgoog.GoogLeNetOutputs) and out._fields == ("logits", "aux_logits2", "aux_logits1")
    assert tuple(out.aux_logits1.shape) == tuple(out.aux_logits2.shape) == (2, 10)


@pytest.mark.slow
def test_googlenet_published_weights_path(torch, mirrors, hub):
    tm = _randomize(torch, mirrors["googlenet"]())
    hub.put(models.GoogLeNet_Weights.IMAGENET1K_V1, tm.state_dict())
    model = models.googlenet(weights="DEFAULT")
    # the aux heads are dropped and transform_input is on, as torchvision does for the published weights
    assert model.aux1 is None and model.aux2 is None and not model.aux_logits and model.transform_input
    assert _nparams(model) == models.GoogLeNet_Weights.DEFAULT.meta["num_params"]
    tm.aux1 = tm.aux2 = None
    tm.transform_input = True
    _compare(torch, model, tm, (1, 3, 64, 64))
    model.train()
    assert isinstance(model(minitorch.randn(2, 3, 64, 64)), minitorch.Tensor)  # no aux outputs without aux heads
    with pytest.warns(UserWarning, match="auxiliary heads in the pretrained googlenet model are NOT pretrained"):
        kept = models.googlenet(weights="DEFAULT", aux_logits=True)
    assert kept.aux1 is not None
    with pytest.raises(ValueError, match="The parameter 'aux_logits' expected value True but got False instead"):
        models.googlenet(weights="DEFAULT", aux_logits=False)


def test_googlenet_init_and_errors():
    minitorch.manual_seed(0)
    with pytest.warns(FutureWarning, match="The default weight initialization of GoogleNet will be changed"):
        model = models.googlenet(aux_logits=False)
    assert model.aux1 is None and _nparams(model) == models.GoogLeNet_Weights.DEFAULT.meta["num_params"]
    w = model.inception4e.branch2[1].conv.weight  # truncated normal, std 0.01, cut at +-2
    assert abs(float(w.std()) / 0.01 - 1) < 0.02 and float(w.abs().max()) < 0.06
    assert model.conv1.bn.eps == 0.001 and model.dropout.p == 0.2
    with pytest.raises(ValueError, match="blocks length should be 3 instead of 2"):
        mgoog.GoogLeNet(blocks=[mgoog.BasicConv2d, mgoog.Inception], init_weights=False)


# ------------------------------------------------------------------------------------------ registry and enums
_DEFAULTS = {"mobilenet_v2": ("MobileNet_V2_Weights", "IMAGENET1K_V2", "mobilenet_v2-7ebf99e0"),
             "mobilenet_v3_large": ("MobileNet_V3_Large_Weights", "IMAGENET1K_V2", "mobilenet_v3_large-5c1a4163"),
             "mobilenet_v3_small": ("MobileNet_V3_Small_Weights", "IMAGENET1K_V1", "mobilenet_v3_small-047dcff4"),
             "densenet121": ("DenseNet121_Weights", "IMAGENET1K_V1", "densenet121-a639ec97"),
             "densenet161": ("DenseNet161_Weights", "IMAGENET1K_V1", "densenet161-8d451a50"),
             "densenet169": ("DenseNet169_Weights", "IMAGENET1K_V1", "densenet169-b2777c0a"),
             "densenet201": ("DenseNet201_Weights", "IMAGENET1K_V1", "densenet201-c1103571"),
             "efficientnet_b0": ("EfficientNet_B0_Weights", "IMAGENET1K_V1", "efficientnet_b0_rwightman-7f5810bc"),
             "efficientnet_b1": ("EfficientNet_B1_Weights", "IMAGENET1K_V2", "efficientnet_b1-c27df63c"),
             "efficientnet_b7": ("EfficientNet_B7_Weights", "IMAGENET1K_V1", "efficientnet_b7_lukemelas-c5b4e57e"),
             "googlenet": ("GoogLeNet_Weights", "IMAGENET1K_V1", "googlenet-1378be20")}


@pytest.mark.parametrize("name", sorted(_DEFAULTS))
def test_registry_and_default_weights(name):
    enum_name, member, file = _DEFAULTS[name]
    enum = models.get_model_weights(name)
    assert enum.__name__ == enum_name and enum is getattr(models, enum_name)
    assert enum.DEFAULT is enum[member] and enum.verify("DEFAULT") is enum[member]
    assert enum.DEFAULT.url == f"https://download.pytorch.org/models/{file}.pth"
    assert len(enum.DEFAULT.meta["categories"]) == 1000 and enum.DEFAULT.meta["categories"][0] == "tench"
    assert name in models.list_models() and models.get_model_builder(name) is getattr(models, name)
    assert models.get_weight(f"{enum_name}.{member}") is enum[member]


def test_weights_transforms_follow_torchvision():
    t = models.EfficientNet_B3_Weights.DEFAULT.transforms()
    assert (t.crop_size, t.resize_size) == ([300], [320]) and t.interpolation.value == "bicubic"
    t = models.MobileNet_V3_Large_Weights.IMAGENET1K_V2.transforms()
    assert (t.crop_size, t.resize_size) == ([224], [232])
    t = models.EfficientNet_B1_Weights.IMAGENET1K_V2.transforms()
    assert (t.crop_size, t.resize_size) == ([240], [255]) and t.interpolation.value == "bilinear"
    assert models.GoogLeNet_Weights.DEFAULT.meta["min_size"] == (15, 15)
    assert models.EfficientNet_B0_Weights.DEFAULT.meta["_metrics"]["ImageNet-1K"]["acc@1"] == 77.692


# ------------------------------------------------------------------------------------------ devices
def _tiny(name):
    if name == "efficientnet":
        return meff.EfficientNet([meff.MBConvConfig(1, 3, 1, 8, 8, 1), meff.MBConvConfig(2, 3, 2, 8, 8, 2)], 0.0,
                                 stochastic_depth_prob=0.0, num_classes=3)
    if name == "mobilenet_v3":
        cfg = partial(mmv3.InvertedResidualConfig, width_mult=1.0)
        return mmv3.MobileNetV3([cfg(8, 3, 8, 8, True, "RE", 2, 1), cfg(8, 3, 24, 8, True, "HS", 1, 1)], 16,
                                num_classes=3, dropout=0.0)
    return mdense.DenseNet(growth_rate=2, block_config=(1, 1), num_init_features=4, bn_size=2, num_classes=3)


@pytest.mark.parametrize("name", ["efficientnet", "mobilenet_v3", "densenet"])
def test_tiny_models_agree_across_devices(device, name):
    """Forward and parameter gradients on the device equal the CPU's (training mode: batch statistics). MobileNetV2
    has the same layers and a fixed 1280-wide head, too slow for the CUDA simulator."""
    minitorch.manual_seed(0)
    model = _tiny(name)
    x = minitorch.randn(2, 3, 8, 8)
    results = []
    for dev in ("cpu", device):
        m = _tiny(name)
        m.load_state_dict(model.state_dict())
        m.to(dev).train()
        y = m(x.to(dev))
        y.square().sum().backward()
        results.append((y.detach().cpu().numpy(), [p.grad.cpu().numpy() for p in m.parameters()]))
    (y0, g0), (y1, g1) = results
    np.testing.assert_allclose(y1, y0, rtol=1e-4, atol=1e-5)
    for a, b in zip(g1, g0):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-4)


def _tiny_mirror(mirrors, name):
    if name == "efficientnet":
        return mirrors["efficientnet"]([meff.MBConvConfig(1, 3, 1, 8, 8, 1), meff.MBConvConfig(2, 3, 2, 8, 8, 2)],
                                       num_classes=3, dropout=0.0)
    if name == "mobilenet_v3":
        cfg = partial(mmv3.InvertedResidualConfig, width_mult=1.0)
        return mirrors["mobilenet_v3"]([cfg(8, 3, 8, 8, True, "RE", 2, 1), cfg(8, 3, 24, 8, True, "HS", 1, 1)], 16,
                                       num_classes=3, dropout=0.0)
    return mirrors["densenet"](2, (1, 1), 4, bn_size=2, num_classes=3)


@pytest.mark.parametrize("name", ["efficientnet", "mobilenet_v3", "densenet"])
def test_tiny_models_train_as_torch(torch, mirrors, name):
    """Eight SGD steps on one batch, from the same weights, in training mode (in-place activations, batch
    statistics, the backward of every layer): the losses follow PyTorch's and fall."""
    minitorch.manual_seed(0)
    model = _tiny(name).train()
    tm = _tiny_mirror(mirrors, name).train()
    tm.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in model.state_dict().items()})
    xn = np.random.default_rng(0).standard_normal((8, 3, 16, 16)).astype(np.float32)
    labels = [0, 1, 2, 0, 1, 2, 0, 1]
    x, target = minitorch.from_numpy(xn), minitorch.tensor(labels)
    tx, ttarget = torch.from_numpy(xn), torch.tensor(labels)
    opt = minitorch.optim.SGD(model.parameters(), lr=0.2, momentum=0.9)
    topt = torch.optim.SGD(tm.parameters(), lr=0.2, momentum=0.9)
    losses, tlosses = [], []
    for _ in range(8):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x), target)
        loss.backward()
        opt.step()
        losses.append(float(loss))
        topt.zero_grad()
        tloss = torch.nn.functional.cross_entropy(tm(tx), ttarget)
        tloss.backward()
        topt.step()
        tlosses.append(float(tloss))
    np.testing.assert_allclose(losses, tlosses, rtol=1e-3, atol=1e-4)
    assert losses[-1] < losses[0], losses
