"""Every vision model family, compiled: the forward outputs (training mode: batch statistics, dropout from the same
generator state; and evaluation mode) and every parameter's gradient equal eager minitorch's, at tiny sizes. The
graphs are captured whole (no break) and the backward is compiled. Also: packed sequences, and a Llama-style decoder
trained three steps compiled, step for step as eager."""
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


def _llama_parts():
    """A two-block Llama-style decoder as small training scripts write theirs: RMSNorm and rotary embeddings by hand
    (pairs of the head dimension read through stride 2, tables broadcast over batch and heads), two query heads per
    key/value head (expand + reshape), SwiGLU, a tied output layer, and the loss stored on the model as an
    attribute in its forward (``self.last_loss = ...``)."""
    import minitorch.nn as nn
    import minitorch.nn.functional as F
    W, H, KV, HD, V, T = 16, 4, 2, 4, 11, 6

    class RMSNorm(nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(minitorch.ones(W) + 0.1 * minitorch.randn(W))

        def forward(self, x):
            return x * minitorch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * self.weight

    def rope(x, cos, sin):
        r, i = x.reshape(*x.shape[:-1], -1, 2).unbind(-1)
        return minitorch.stack([r * cos - i * sin, r * sin + i * cos], dim=-1).flatten(3)

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.n1, self.n2 = RMSNorm(), RMSNorm()
            self.q, self.k, self.v = (nn.Linear(W, n * HD, bias=False) for n in (H, KV, KV))
            self.o = nn.Linear(W, W, bias=False)
            self.w1, self.w3 = nn.Linear(W, 24, bias=False), nn.Linear(W, 24, bias=False)
            self.w2 = nn.Linear(24, W, bias=False)

        def forward(self, x, cos, sin):
            B = x.shape[0]
            h = self.n1(x)
            q = rope(self.q(h).view(B, T, H, HD), cos, sin)
            k = rope(self.k(h).view(B, T, KV, HD), cos, sin)
            v = self.v(h).view(B, T, KV, HD)
            k, v = (t[:, :, :, None, :].expand(B, T, KV, H // KV, HD).reshape(B, T, H, HD) for t in (k, v))
            y = F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2),
                                               is_causal=True)
            x = x + self.o(y.transpose(1, 2).contiguous().view(B, T, W))
            h = self.n2(x)
            return x + self.w2(F.silu(self.w1(h)) * self.w3(h))

    class Llama(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(V, W)
            self.blocks = nn.ModuleList([Block(), Block()])
            self.norm = RMSNorm()
            self.out = nn.Linear(W, V, bias=False)
            self.emb.weight = self.out.weight
            ang = minitorch.outer(minitorch.arange(T).float(), minitorch.rand(HD // 2))
            self.register_buffer("cos", ang.cos(), persistent=False)
            self.register_buffer("sin", ang.sin(), persistent=False)
            self.last_loss = None

        def forward(self, tokens, targets):
            h = self.emb(tokens)
            cos, sin = self.cos.view(1, T, 1, HD // 2), self.sin.view(1, T, 1, HD // 2)
            for b in self.blocks:
                h = b(h, cos, sin)
            logits = self.out(self.norm(h))
            self.last_loss = F.cross_entropy(logits.view(-1, V), targets.view(-1), ignore_index=-1)
            return logits

    return Llama, V, T


def test_a_llama_style_training_script_compiled_matches_eager_step_for_step():
    Llama, V, T = _llama_parts()
    runs = {}
    for compiled in (False, True):
        minitorch.manual_seed(0)
        model = Llama()
        run = minitorch.compile(model) if compiled else model
        opt = minitorch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.1)
        gen = minitorch.Generator().manual_seed(1)
        losses = []
        for _ in range(3):
            x = minitorch.randint(0, V, (3, T), generator=gen)
            y = minitorch.randint(0, V, (3, T), generator=gen)
            run(x, y)
            loss = run.last_loss  # read back through the compiled module, as llama2.c's train.py does
            loss.backward()
            minitorch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            opt.zero_grad(set_to_none=True)
            losses.append(loss.item())
        runs[compiled] = (losses, [p.detach().numpy().copy() for p in model.parameters()])
    np.testing.assert_allclose(runs[True][0], runs[False][0], rtol=1e-5, atol=1e-6)
    assert len(set(runs[False][0])) == 3  # the loss moves: every step trains
    for a, b in zip(runs[True][1], runs[False][1]):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
