"""Every vision model family, compiled: the forward outputs (training mode: batch statistics, dropout from the same
generator state; and evaluation mode) and every parameter's gradient equal eager minitorch's, at tiny sizes. The
graphs are captured whole (no break) and the backward is compiled."""
import importlib
from functools import partial

import numpy as np
import pytest

import minitorch
from minitorch.vision.models import densenet as mdense, efficientnet as meff
from minitorch.vision.models import mobilenetv2 as mmv2, mobilenetv3 as mmv3, resnet as mres
from minitorch.vision.models import squeezenet as msq

mgoog = importlib.import_module("minitorch.vision.models.googlenet")  # the package's "googlenet" is the builder
malex = importlib.import_module("minitorch.vision.models.alexnet")


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MINITORCH_COMPILE_CACHE", str(tmp_path / "compiled"))


def _build(name):
    if name == "resnet":
        return mres.ResNet(mres.BasicBlock, [1, 1, 1, 1], num_classes=3), 32
    if name == "resnext":  # bottleneck blocks, grouped convolutions
        return mres.ResNet(mres.Bottleneck, [1, 1, 1, 1], groups=4, width_per_group=4, num_classes=3), 32
    if name == "densenet":
        return mdense.DenseNet(growth_rate=2, block_config=(1, 1), num_init_features=4, bn_size=2, num_classes=3), 16
    if name == "efficientnet":  # squeeze-excitation, SiLU, stochastic depth
        return meff.EfficientNet([meff.MBConvConfig(1, 3, 1, 8, 8, 1), meff.MBConvConfig(2, 3, 2, 8, 8, 2)], 0.2,
                                 stochastic_depth_prob=0.2, num_classes=3), 16
    if name == "mobilenet_v2":
        return mmv2.MobileNetV2(num_classes=3, width_mult=0.25, inverted_residual_setting=[[1, 8, 1, 1],
                                                                                            [6, 8, 2, 2]]), 16
    if name == "mobilenet_v3":  # hard-swish, hard-sigmoid
        cfg = partial(mmv3.InvertedResidualConfig, width_mult=1.0)
        return mmv3.MobileNetV3([cfg(8, 3, 8, 8, True, "RE", 2, 1), cfg(8, 3, 24, 8, True, "HS", 1, 1)], 16,
                                num_classes=3, dropout=0.2), 16
    if name == "squeezenet":  # ceil-mode pooling, concatenated branches
        return msq.SqueezeNet("1_1", num_classes=3), 48
    if name == "googlenet":  # auxiliary heads: a named tuple of three outputs in training mode
        return mgoog.GoogLeNet(num_classes=3, aux_logits=True, init_weights=True), 64
    return malex.AlexNet(num_classes=3), 63  # local response-free convolutions, big linear layers, dropout


def _loss(out):
    outs = out if isinstance(out, tuple) else (out,)
    return sum((o * o).mean() for o in outs)


def _flat(out):
    return [o.detach().numpy() for o in (out if isinstance(out, tuple) else (out,))]


@pytest.mark.parametrize("name", ["resnet", "resnext", "densenet", "efficientnet", "mobilenet_v2", "mobilenet_v3",
                                  "squeezenet", "googlenet", "alexnet"])
def test_vision_models_compiled_match_eager_outputs_and_gradients(name):
    minitorch.manual_seed(0)
    model, size = _build(name)
    twin, _ = _build(name)
    twin.load_state_dict(model.state_dict())
    x = minitorch.randn(2, 3, size, size)
    compiled = minitorch.compile(model)
    runs = []
    for m in (twin, compiled):  # two calls each: the compiled one captures, then replays
        got = []
        for step in range(2):
            minitorch.manual_seed(10 + step)  # the same dropout masks
            for p in m.parameters():
                p.grad = None
            out = m(x)
            _loss(out).backward()
            got.append((_flat(out), [p.grad.numpy().copy() for p in m.parameters()]))
        runs.append(got)
    for (out_e, grad_e), (out_c, grad_c) in zip(*runs):
        for a, b in zip(out_c, out_e):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
        for a, b in zip(grad_c, grad_e):
            np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-5)
    entries = list(compiled._compiled._entries.values())
    assert len(entries) == 1 and entries[0].program is not None and entries[0].backward is not None
    model.eval()
    twin.eval()
    with minitorch.no_grad():
        for a, b in zip(_flat(compiled(x)), _flat(twin(x))):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_packed_sequences_through_a_compiled_function_and_a_module_that_packs():
    import minitorch.nn as nn
    from minitorch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
    minitorch.manual_seed(0)
    rnn = nn.LSTM(3, 4, batch_first=True)

    def f(p):  # a PackedSequence argument (a named tuple whose constructor converts its fields)
        out, _ = rnn(p)
        return out.data * 2

    p = pack_padded_sequence(minitorch.randn(3, 5, 3), minitorch.tensor([5, 4, 2]), batch_first=True)
    c = minitorch.compile(f)
    for _ in range(3):
        assert minitorch.allclose(c(p), f(p))

    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn, self.fc = nn.LSTM(3, 4, batch_first=True), nn.Linear(4, 2)

        def forward(self, x, lengths):  # lengths read on the host: the forward is cut, the rest gets the packing
            packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
            out, (h, _) = self.rnn(packed)
            padded, _ = pad_packed_sequence(out, batch_first=True)
            return self.fc(h[-1]) + padded.sum()

    m = M()
    cm = minitorch.compile(m)
    for _ in range(5):
        x, lengths = minitorch.randn(3, 5, 3), minitorch.tensor([5, 2, 4])
        assert minitorch.allclose(cm(x, lengths), m(x, lengths), atol=1e-6)
