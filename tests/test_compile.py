"""minitorch.compile: capture, guards, graph breaks, fusion into generated kernels, the disk cache, and the op table
run compiled against eager."""
import math
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minitorch
import minitorch.nn as nn
import minitorch.nn.functional as F
from minitorch.compiler import CompileError, explain

from test_nn import LAYERS
from test_ops_table import F64, FWD, TABLE, arrays_for, cases, leaves_and_views, outputs, to_np


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MINITORCH_COMPILE_CACHE", str(tmp_path / "compiled"))


def gelu(x):
    return 0.5 * x * (1.0 + minitorch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * minitorch.pow(x, 3.0))))


def fused_nodes(compiled):
    return [n for g in compiled.graphs for n in g.nodes if n.kind == "fused"]


def test_gelu_fuses_into_one_kernel_with_eager_values_and_gradients():
    x = minitorch.randn(33, 65, dtype=minitorch.float64, requires_grad=True)
    c = minitorch.compile(gelu)
    first = c(x)            # the capture run
    got = c(x)              # a replay
    want = gelu(x)
    np.testing.assert_allclose(to_np(first), to_np(want), rtol=0, atol=0)
    np.testing.assert_allclose(to_np(got), to_np(want), rtol=1e-13, atol=1e-13)
    (gx_c,) = minitorch.autograd.grad(got.sum(), [x])
    (gx_e,) = minitorch.autograd.grad(want.sum(), [x])
    np.testing.assert_allclose(to_np(gx_c), to_np(gx_e), rtol=1e-12, atol=1e-12)
    nodes = fused_nodes(c)
    assert len(nodes) == 1 and len(c.graphs[0].nodes) == 1
    assert len(nodes[0].group) == 8
    assert "_tanh_f64" in c.code and "@njit(cache=True" in c.code


@pytest.mark.parametrize("name", ["rsqrt", "reciprocal", "sigmoid", "exp", "relu", "erf", "gelu"])
def test_a_fused_float32_chain_gives_eager_modes_bits(name):
    # each op's result is rounded to float32 as eager mode stores it, and sigmoid and exp are the library's own
    # float32 ones (a float64 expression such as 1.0 / sqrt(a) fed the next op unrounded: a third of the elements
    # differed in the last bit)
    fns = {"rsqrt": lambda t: (t.abs() + 0.1).rsqrt() * 2 + 1, "reciprocal": lambda t: (t.reciprocal() + 1) * 3,
           "sigmoid": lambda t: (t * 1.5).sigmoid() * 2 - 0.3, "exp": lambda t: (t * 0.7).exp() + 1,
           "relu": lambda t: (t * 1.3).relu() + 0.1, "erf": lambda t: minitorch.erf(t * 0.9) * 3, "gelu": gelu}
    f = fns[name]
    minitorch.manual_seed(0)
    x = minitorch.randn(4000) * 3
    c = minitorch.compile(f)
    c(x)
    np.testing.assert_array_equal(to_np(c(x)), to_np(f(x)))
    assert len(fused_nodes(c)) == 1


def test_a_fused_cross_entropy_gradient_gives_eager_modes_bits_when_one_over_n_is_inexact():
    # the target's column subtracts the float64 scale, as the library's kernel does (a float32-rounded 1 / 5 made
    # that column differ in the last bit)
    def f(z, y):
        return F.cross_entropy(z * 1.0, y)
    c = minitorch.compile(f)
    minitorch.manual_seed(1)
    for _ in range(3):
        z = minitorch.randn(5, 3, requires_grad=True)
        y = minitorch.randint(0, 3, (5,))
        f(z, y).backward()
        want, z.grad = z.grad, None
        c(z, y).backward()
        np.testing.assert_array_equal(to_np(z.grad), to_np(want))
    (entry,) = c._entries.values()
    assert any(n.name.startswith("fused_cross_entropy_grad_") for n in entry.backward.nodes)


def test_fused_group_broadcasts_bias_and_scalar_inputs_and_reduces_their_gradients():
    x = minitorch.randn(6, 5, requires_grad=True)
    b = minitorch.randn(5, requires_grad=True)
    s = minitorch.randn(1, 1, requires_grad=True)

    def f(x, b, s):
        return minitorch.sigmoid((x + b) * s).exp() - x / 3

    c = minitorch.compile(f)
    c(x, b, s)
    got = c(x, b, s)
    want = f(x, b, s)
    np.testing.assert_allclose(to_np(got), to_np(want), rtol=1e-5, atol=1e-6)
    w = minitorch.randn(6, 5)
    g_c = minitorch.autograd.grad((got * w).sum(), [x, b, s])
    g_e = minitorch.autograd.grad((want * w).sum(), [x, b, s])
    for a, e in zip(g_c, g_e):
        assert a.shape == e.shape
        np.testing.assert_allclose(to_np(a), to_np(e), rtol=1e-4, atol=1e-5)
    assert len(fused_nodes(c)) == 1


@pytest.mark.parametrize("dtype", [minitorch.float32, minitorch.float64])
@pytest.mark.parametrize("case", ["mean_all", "sum_rows", "sum_last_two_keepdim", "mean_rows_bias",
                                  "sum_last_two_bias"])
def test_sum_or_mean_after_a_chain_is_fused_as_its_epilogue(case, dtype):
    fns = {
        "mean_all": lambda a, b, c: ((a - b) ** 2).mean(),
        "sum_rows": lambda a, b, c: (a * b).sum(-1),
        "sum_last_two_keepdim": lambda a, b, c: (a.tanh() * b).sum((1, 2), keepdim=True),
        "mean_rows_bias": lambda a, b, c: (a * b + c).exp().mean(2),
        "sum_last_two_bias": lambda a, b, c: (a * b - c).sum((1, 2)),  # each row holds 50 repeats of c
    }
    fn = fns[case]
    gen = minitorch.Generator().manual_seed(7)
    a, b = (minitorch.randn(6, 50, 70, dtype=dtype, generator=gen, requires_grad=True) for _ in range(2))
    c = minitorch.randn(70, dtype=dtype, generator=gen, requires_grad=True)
    compiled = minitorch.compile(fn)
    compiled(a, b, c)
    got, want = compiled(a, b, c), fn(a, b, c)
    (node,) = compiled.graphs[0].nodes
    assert node.kind == "fused" and node.name.endswith("_sum" if "sum" in case else "_mean")
    assert got.shape == want.shape and got.dtype == want.dtype
    tol = 1e-5 if dtype == minitorch.float32 else 1e-12
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=tol, atol=tol)
    seed = minitorch.randn(*want.shape, dtype=dtype, generator=gen)
    for u, v in zip(minitorch.autograd.grad(got, [a, b, c], seed, allow_unused=True),
                    minitorch.autograd.grad(want, [a, b, c], seed, allow_unused=True)):
        assert (u is None) == (v is None)
        if u is not None:
            np.testing.assert_allclose(u.numpy(), v.numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("rows", [3, 300])  # one launch, and the GEMM split over the threads
def test_relu_after_linear_is_the_gemm_epilogue_in_a_compiled_training_step(rows):
    minitorch.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    c = minitorch.compile(model)
    gen = minitorch.Generator().manual_seed(2)
    x = minitorch.randn(rows, 784, generator=gen)
    x[0, :] = float("nan")  # NaN passes relu, as eager
    for _ in range(2):
        model.zero_grad()
        got = c(x)
        got.nan_to_num().sum().backward()
        g_c = [p.grad.numpy().copy() for p in model.parameters()]
    model.zero_grad()
    want = model(x)
    want.nan_to_num().sum().backward()
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-6, atol=1e-6)
    assert np.isnan(got[0].detach().numpy()).all()
    for u, p in zip(g_c, model.parameters()):
        np.testing.assert_allclose(u, p.grad.numpy(), rtol=1e-5, atol=1e-5)
    (entry,) = c._compiled._entries.values()
    assert [n.name for n in entry.graph.nodes][:1] == ["linear_relu"]
    # and in the backward, the relu's mask is applied by the second layer's gradient kernel
    assert [n.name for n in entry.backward.nodes] == ["linear_backward_relu", "linear_backward"]


@pytest.mark.parametrize("rows", [2, 80, 300])  # serial, split by columns, split by rows
def test_relu_backward_is_the_epilogue_of_the_next_layers_gradient(rows):
    minitorch.manual_seed(1)
    model = nn.Sequential(nn.Linear(40, 96), nn.ReLU(), nn.Linear(96, 64), nn.ReLU(), nn.Linear(64, 5))
    c = minitorch.compile(model)
    gen = minitorch.Generator().manual_seed(3)
    x = minitorch.randn(rows, 40, generator=gen, requires_grad=True)
    y = minitorch.randint(0, 5, (rows,), generator=gen)
    grads = []
    for run in (c, c, model):
        model.zero_grad()
        x.grad = None
        nn.functional.cross_entropy(run(x), y).backward()
        grads.append([p.grad.numpy().copy() for p in model.parameters()] + [x.grad.numpy().copy()])
    for u, v in zip(grads[1], grads[2]):
        np.testing.assert_allclose(u, v, rtol=1e-5, atol=1e-6)
        assert np.abs(v).sum() > 0
    (entry,) = c._compiled._entries.values()
    names = [n.name for n in entry.backward.nodes]
    assert names.count("linear_backward_relu") == 2 and "relu_backward" not in names


@pytest.mark.parametrize("act", ["gelu", "tanh", "sigmoid"])
@pytest.mark.parametrize("shape", [(3,), (300,), (4, 50)])  # one launch, the GEMM split, an input of rank 3
def test_gelu_tanh_sigmoid_after_linear_are_gemm_epilogues_in_a_compiled_training_step(act, shape):
    minitorch.manual_seed(4)
    layer = {"gelu": nn.GELU(), "tanh": nn.Tanh(), "sigmoid": nn.Sigmoid()}[act]
    model = nn.Sequential(nn.Linear(40, 96), layer, nn.Linear(96, 64), nn.GELU(), nn.Linear(64, 5))
    c = minitorch.compile(model)
    gen = minitorch.Generator().manual_seed(5)
    x = minitorch.randn(*shape, 40, generator=gen, requires_grad=True)
    seed = minitorch.randn(*shape, 5, generator=gen)
    results = []
    for run in (c, c, model):
        model.zero_grad()
        x.grad = None
        out = run(x)
        (out * seed).sum().backward()
        results.append([out.detach().numpy().copy()] + [p.grad.numpy().copy() for p in model.parameters()] +
                       [x.grad.numpy().copy()])
    for u, v in zip(results[1], results[2]):
        # the fused kernels run the activations' own compiled functions: the numbers are eager's
        np.testing.assert_array_equal(u, v)
        assert np.isfinite(v).all() and np.abs(v).sum() > 0
    (entry,) = c._compiled._entries.values()
    names = [n.name for n in entry.graph.nodes]
    assert names[:2] == [f"linear_{act}", "linear_gelu"] and "gelu" not in names
    # the GELU's input is saved for its backward, so that launch also gives the pre-activation
    assert len(entry.graph.nodes[1].outputs) == 2 and len(entry.graph.nodes[0].outputs) == (2 if act == "gelu" else 1)
    bnames = [n.name for n in entry.backward.nodes if n.kind != "view"]
    assert bnames[0] == "linear_backward_gelu" and "gelu_backward" not in bnames
    assert bnames.count("linear_backward_gelu") == (2 if act == "gelu" else 1)
    # tanh's and the sigmoid's backward (g * (1 - y * y), g * (y * (1 - y)) from their output) join the gradient
    # kernel of the layer after them too, with the same numbers (above)
    assert bnames[1] == f"linear_backward_{act}" and not any(n.startswith("fused") for n in bnames)
    assert all(not k.name.startswith("fused") for k in entry.kernels)


def test_activation_epilogues_in_a_no_grad_graph_write_only_the_activation():
    minitorch.manual_seed(6)
    model = nn.Sequential(nn.Linear(30, 20), nn.Tanh(), nn.Linear(20, 20), nn.GELU(), nn.Linear(20, 8), nn.Sigmoid())
    x = minitorch.randn(7, 30)
    x[2, 3] = float("nan")  # NaN passes each activation, as eager
    f = minitorch.compile(lambda t: model(t) * 2)
    with minitorch.no_grad():
        for _ in range(2):
            got = f(x)
        want = model(x) * 2
    np.testing.assert_array_equal(got.numpy(), want.numpy())
    assert np.isnan(got.numpy()[2]).all() and np.isfinite(np.delete(got.numpy(), 2, 0)).all()
    names = [n.name for n in f.graphs[0].nodes]
    assert [m for m in names if m.startswith("linear")] == ["linear_tanh", "linear_gelu", "linear_sigmoid"]
    assert all(len(n.outputs) == 1 for n in f.graphs[0].nodes if n.name.startswith("linear_"))


def _second_compiled_call_matches_eager(compiled, step, model, x):
    """Loss and gradients (of model's parameters and x) of the second compiled call (a replay) against eager."""
    got = []
    for run in (compiled, compiled, step):
        model.zero_grad()
        x.grad = None
        loss = run(x)
        loss.backward()
        got.append([loss.item()] + [p.grad.numpy().copy() for p in model.parameters()] + [x.grad.numpy().copy()])
    assert got[1][0] == pytest.approx(got[2][0], rel=1e-6)
    for u, v in zip(got[1][1:], got[2][1:]):
        np.testing.assert_allclose(u, v, rtol=2e-5, atol=1e-6)
        assert np.abs(v).sum() > 0


def test_a_backward_exponent_folded_from_scalar_constants_is_written_as_products():
    """pow(x, 3.0)'s backward reads x ** (3.0 - 1.0): in a compiled backward the subtraction folds (also where
    common subexpressions made one node of it for both layers) and the generated code multiplies instead of
    calling pow per element."""
    minitorch.manual_seed(7)
    model = nn.ModuleList([nn.Linear(12, 32), nn.LayerNorm(32), nn.Linear(32, 12)] * 2)

    def step(x):
        h = x
        for k in range(0, 6, 3):
            h = model[k + 1](model[k](h))
            h = h + 0.1 * minitorch.pow(h, 3.0)
            h = nn.functional.relu(model[k + 2](h))
        return h.sum()
    c = minitorch.compile(step)
    _second_compiled_call_matches_eager(c, step, model, minitorch.randn(16, 12, requires_grad=True))
    (entry,) = c._entries.values()
    assert entry.backward is not None  # forward and backward compiled as a pair
    sources = [k.source for k in entry.kernels if "pow" in k.source.splitlines()[0]]
    assert sources and all(" ** " not in src for src in sources)
    assert all("a0 * a0" in src or "a1 * a1" in src or "a2 * a2" in src for src in sources)


def test_a_compiled_backward_recomputes_an_elementwise_chain_instead_of_saving_its_pieces():
    """A tanh-GELU written out between two linear layers: the forward writes only the chain's result (one kernel),
    and the backward recomputes the pieces it needs from the chain's input inside the gradient's one kernel (a
    value the kernel reads twice, tanh's result, computed once)."""
    minitorch.manual_seed(8)
    # (enough other layers that forward and backward compile as a pair, as in a transformer block)
    trunk = nn.Sequential(nn.Linear(12, 32), nn.LayerNorm(32), nn.Linear(32, 32), nn.LayerNorm(32),
                          nn.Linear(32, 32), nn.LayerNorm(32), nn.Linear(32, 48))
    model = nn.ModuleList([trunk, nn.Linear(48, 12)])

    def step(x):
        h = trunk(x)
        h = 0.5 * h * (1.0 + minitorch.tanh(0.7978845608 * (h + 0.044715 * minitorch.pow(h, 3.0))))
        return nn.functional.relu(model[1](h)).sum()
    c = minitorch.compile(step)
    _second_compiled_call_matches_eager(c, step, model, minitorch.randn(16, 12, requires_grad=True))
    (entry,) = c._entries.values()
    assert entry.backward is not None
    fused = [n for n in entry.graph.nodes if n.kind == "fused"]
    assert len(fused) == 1 and len(fused[0].group) == 8 and len(fused[0].args) == 1
    h = fused[0].args[0]  # the second linear layer's result: the one value the backward reads of the chain
    # the backward reads, of the chain, its input and its result (the last layer's input) and nothing between
    assert sum(v.shape == (16, 48) for v in entry.backward.inputs) == 2 and h in entry.backward.inputs
    bfused = [n for n in entry.backward.nodes if n.kind == "fused" and h in n.args]
    assert len(bfused) == 1 and len(bfused[0].args) == 2
    tanhs = [m for m in bfused[0].group if "tanh" in m.name.lower() or m.args and m.args[0] == "tanh"]
    assert len(tanhs) == 1


@pytest.mark.parametrize("inplace", [False, True])
def test_silu_is_recorded_op_by_op_and_fuses_unless_in_place(inplace):
    minitorch.manual_seed(9)
    model = nn.Sequential(nn.Linear(20, 32), nn.SiLU(inplace=inplace), nn.Linear(32, 16), nn.LayerNorm(16),
                          nn.SiLU(inplace=inplace), nn.Linear(16, 4))
    c = minitorch.compile(model)
    x = minitorch.randn(8, 20, requires_grad=True)
    y = minitorch.randint(0, 4, (8,))
    _second_compiled_call_matches_eager(lambda t: nn.functional.cross_entropy(c(t), y),
                                        lambda t: nn.functional.cross_entropy(model(t), y), model, x)
    names = [n.name for g in c._compiled.graphs for n in g.nodes]
    if not inplace:
        # (each SiLU is a fused kernel of its own or the epilogue of the linear layer before it)
        assert "silu" not in names and names.count("fused_sigmoid_mul") + names.count("linear_silu") == 2


def test_linear_launch_rejects_an_unknown_activation():
    from minitorch.ops import launch
    with pytest.raises(ValueError, match="act must be one of"):
        launch.linear(minitorch.ones(2, 3), minitorch.ones(4, 3), None, act="softplus")


@pytest.mark.parametrize("kind", ["linear", "conv"])
def test_a_relu_epilogue_gives_plus_zero_for_negative_zero_and_minus_infinity(kind):
    # eager relu gives +0.0 for every input <= 0, -inf and -0.0 included (the epilogue gave -0.0 and NaN)
    minitorch.manual_seed(0)
    if kind == "linear":
        layer, x = nn.Linear(3, 4), minitorch.randn(5, 3)
    else:
        layer, x = nn.Conv2d(2, 4, 1), minitorch.randn(1, 2, 3, 3)
    with minitorch.no_grad():
        layer.weight[0].zero_()
        layer.bias[0] = -0.0   # x @ 0 + -0.0 is -0.0
        layer.bias[1] = float("-inf")
    model = nn.Sequential(layer, nn.ReLU())
    c = minitorch.compile(model)
    for _ in range(3):
        if kind == "linear":
            got = c(x).detach().numpy()
        else:
            with minitorch.no_grad():
                got = c(x).numpy()
    want = model(x).detach().numpy()
    np.testing.assert_array_equal(np.signbit(got), np.signbit(want))
    assert not np.signbit(got).any() and not np.isnan(got).any()
    (entry,) = c._compiled._entries.values()
    assert entry.graph.nodes[0].name == ("linear_relu" if kind == "linear" else "conv2d_relu")


@pytest.mark.parametrize("batch", [1, 5])  # one image per GEMM, and small images chunked into one GEMM
@pytest.mark.parametrize("dtype", [minitorch.float32, minitorch.float64])
def test_relu_after_conv2d_is_its_epilogue_in_a_no_grad_graph(batch, dtype):
    minitorch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(2, 6, 3, padding=1), nn.ReLU(), nn.Conv2d(6, 4, 3, bias=False), nn.ReLU(),
                          nn.Conv2d(4, 3, 1), nn.ReLU(inplace=True)).to(dtype)
    c = minitorch.compile(model)
    x = minitorch.randn(batch, 2, 9, 9, dtype=dtype)
    x[0, :, 4, 4] = float("nan")  # NaN passes relu, as eager
    with minitorch.no_grad():
        want = model(x)
        got = c(x)
        got = c(x)
    np.testing.assert_array_equal(got.numpy(), want.numpy())
    assert np.isnan(got.numpy()).any()
    (entry,) = c._compiled._entries.values()
    assert [n.name for n in entry.graph.nodes] == ["conv2d_relu", "conv2d_relu", "Conv2d", "relu"]
    out = c(x)  # with autograd the conv must keep its own output for the backward: nothing fused
    out.sum().backward()
    assert model[0].weight.grad is not None


@pytest.mark.parametrize("dtype", [minitorch.float32, minitorch.float64])
def test_an_inference_batch_norm_folds_into_the_convolution_before_it(dtype):
    """conv -> batch norm (eval) -> relu is one convolution with folded weights and a relu epilogue under no_grad;
    the fold is made on every call (new statistics are seen) and not in training mode or with autograd."""
    minitorch.manual_seed(0)

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.c1, self.b1 = nn.Conv2d(3, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32)
            # (32 -> 32, 3x3: the CPU's Winograd kernel, whose transform of the folded weights is kept)
            self.c2, self.b2 = nn.Conv2d(32, 32, 3, padding=1), nn.BatchNorm2d(32, affine=False)

        def forward(self, x):
            h = F.relu(self.b1(self.c1(x)))
            return F.relu(self.b2(self.c2(h)) + h)

    model = Block().to(dtype)
    x = minitorch.randn(4, 3, 10, 10, dtype=dtype)
    model.train()
    for _ in range(3):
        model(minitorch.randn(4, 3, 10, 10, dtype=dtype))  # running statistics away from 0 and 1
    model.eval()
    c = minitorch.compile(model)
    tol = 2e-5 if dtype == minitorch.float32 else 1e-12
    with minitorch.no_grad():
        for _ in range(2):
            got = c(x)
        np.testing.assert_allclose(got.numpy(), model(x).numpy(), rtol=tol, atol=tol)
        (entry,) = c._compiled._entries.values()
        names = [n.name for n in entry.graph.nodes]
        assert names[:2] == ["conv2d_bn_relu", "conv2d_bn"] and "batch_norm" not in names
        kept = entry.graph.nodes[1].target._fold
        assert kept[3][0] is not None  # the Winograd transform of the folded weights, kept
        model.b1.running_var.mul_(3.0)  # a buffer changed in place: the next call folds the new values
        model.c2.bias.data.add_(0.5)
        np.testing.assert_allclose(c(x).numpy(), model(x).numpy(), rtol=tol, atol=tol)
        model.c2.weight.data.mul_(-1.0)
        np.testing.assert_allclose(c(x).numpy(), model(x).numpy(), rtol=tol, atol=tol)
        assert entry.graph.nodes[1].target._fold is not kept
    model.train()  # batch statistics: nothing folds, and eager's running-statistics updates happen
    before = model.b1.running_mean.clone()
    c(x).sum().backward()
    (train,) = [e for e in c._compiled._entries.values() if e is not entry]
    names = [n.name for n in train.graph.nodes]
    assert "batch_norm" in names and not any(n.startswith("conv2d_bn") for n in names)
    assert not np.allclose(before.numpy(), model.b1.running_mean.numpy())


@pytest.mark.parametrize("n", [1, 700])  # the serial and the threaded kernel
def test_a_chain_with_inputs_broadcast_over_leading_dimensions_walks_rows(n):
    gen = minitorch.Generator().manual_seed(5)
    x = minitorch.randn(n, 6, 5, dtype=minitorch.float64, generator=gen, requires_grad=True)
    b = minitorch.randn(5, dtype=minitorch.float64, generator=gen, requires_grad=True)
    s = minitorch.randn(1, 6, 5, dtype=minitorch.float64, generator=gen, requires_grad=True)

    def f(x, b, s):
        return ((x + b) * s).tanh() - b

    c = minitorch.compile(f)
    c(x, b, s)
    got, want = c(x, b, s), f(x, b, s)
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-13, atol=1e-13)
    seed = minitorch.randn(n, 6, 5, dtype=minitorch.float64, generator=gen)
    for u, v in zip(minitorch.autograd.grad(got, [x, b, s], seed), minitorch.autograd.grad(want, [x, b, s], seed)):
        assert u.shape == v.shape
        np.testing.assert_allclose(u.numpy(), v.numpy(), rtol=1e-12, atol=1e-12)
    inner = c.code.split("def forward(")[1].split("for k in range(C):")[1].split("\n\n")[0]
    assert "for r in prange(n // C):" in c.code and "b1 = base % m1" in c.code and "%" not in inner


def _rotary(x, cos, sin):
    # rotary position embedding written out the way training scripts write it: halves of the last dimension read
    # through stride 2, tables broadcast over batch and heads
    r, i = x.reshape(*x.shape[:-1], -1, 2).unbind(-1)
    return minitorch.stack([r * cos - i * sin, r * sin + i * cos], dim=-1).flatten(3)


def _rms(x, w):
    return x * minitorch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * w


@pytest.mark.parametrize("batch", [1, 40])  # the serial and the threaded kernel
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_strided_and_broadcast_inputs_are_read_in_place_with_eager_values_and_gradients(batch, dtype, monkeypatch):
    from minitorch.compiler import codegen
    from minitorch.ops import launch
    dt = getattr(minitorch, dtype)
    gen = minitorch.Generator().manual_seed(3)
    T, H, D = 12, 3, 8
    q = minitorch.randn(batch, T, H, D, dtype=dt, generator=gen, requires_grad=True)
    w = minitorch.randn(H * D, dtype=dt, generator=gen, requires_grad=True)
    ang = minitorch.randn(T, D // 2, dtype=dt, generator=gen)
    cos, sin = ang.cos().view(1, T, 1, D // 2), ang.sin().view(1, T, 1, D // 2)

    def f(q, w, cos, sin):
        return _rms(_rotary(q, cos, sin).reshape(q.shape[0], T, H * D), w)

    c = minitorch.compile(f)
    c(q, w, cos, sin)
    copies = []
    real = launch.contiguous
    monkeypatch.setattr(launch, "contiguous", lambda t: copies.append(tuple(t.shape)) or real(t))
    got, want = c(q, w, cos, sin), f(q, w, cos, sin)
    assert copies == []  # no input of a fused chain was copied to contiguous memory first
    tol = 1e-12 if dtype == "float64" else 2e-6
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=tol, atol=tol)
    seed = minitorch.randn(*want.shape, dtype=dt, generator=gen)
    for u, v in zip(minitorch.autograd.grad(got, [q, w], seed), minitorch.autograd.grad(want, [q, w], seed)):
        np.testing.assert_allclose(u.numpy(), v.numpy(), rtol=tol * 10, atol=tol * 10)
    assert any(k._strided_mods for g in c.graphs for n in g.nodes if n.kind == "fused"
               for k in [n.target.kernel if hasattr(n.target, "kernel") else n.target]
               if isinstance(k, codegen.FusedKernel))


@pytest.mark.parametrize("shape, view", [
    ((5, 7, 6), lambda t: t.transpose(0, 2)),            # permuted: no two dimensions merge
    ((4, 1, 6, 3), lambda t: t[:, :, ::2]),              # a step, and a dimension of size 1
    ((6, 10), lambda t: t[:, 2:7]),                      # rows of a wider tensor
    ((3, 4), lambda t: t[:, :1].expand(3, 5)),           # a stride-0 last dimension
])
def test_a_chain_on_a_view_reads_it_through_its_strides(shape, view):
    base = minitorch.randn(*shape, dtype=minitorch.float64, generator=minitorch.Generator().manual_seed(1))
    x = view(base)
    bias = minitorch.randn(x.shape[-1], dtype=minitorch.float64)

    def f(x, b):
        return (x * 2 + b).tanh() - x

    c = minitorch.compile(f)
    c(x, bias)
    np.testing.assert_array_equal(c(x, bias).numpy(), f(x, bias).numpy())
    np.testing.assert_array_equal(c(x.contiguous(), bias).numpy(), f(x, bias).numpy())  # the same kernel, copied
    assert "(strided inputs)" in c.code  # the variant that ran is shown beside the group's own kernel


def test_collapsing_keeps_a_broadcast_tail_inputs_rows_whole():
    from minitorch.compiler.codegen import _collapse
    # rows may grow only while their length divides every broadcast (tail) input's size: a tail of 6 takes rows of
    # 6 (not 24), a tail of 3 keeps rows of 3 while the outer dimensions still merge
    assert _collapse((4, 2, 3), [[6, 3, 1]], [6]) == ([4], 6, [[6, 1]])
    assert _collapse((4, 2, 3), [[6, 3, 1]], [3]) == ([8], 3, [[3, 1]])
    assert _collapse((4, 1, 3), [[0, 9, 1]], []) == ([4], 3, [[0, 1]])
    assert _collapse((2, 3), [[1, 2]], []) == ([2], 3, [[1, 2]])
    assert _collapse((1, 1), [[0, 0]], []) == ([], 1, [[0]])


def test_an_infinite_scalar_in_a_chain_is_a_literal_of_the_generated_code():
    f = minitorch.compile(lambda x: (x - 1).relu() * float("inf") - float("-inf"))
    x = minitorch.tensor([0.5, 2.0, 3.0])
    f(x)
    got = f(x).tolist()  # 0 * inf is NaN, as eager
    assert math.isnan(got[0]) and got[1:] == [math.inf, math.inf]
    assert "float('inf')" in f.code and "float('-inf')" in f.code


SOFTMAX_CHAINS = {
    # attention scores: a scale, a causal mask broadcast over batch and heads, a -inf fill (a fully masked row gives
    # NaN, as eager)
    "scale_mask": lambda a, w, m: F.softmax((a * 0.125).masked_fill(m, float("-inf")), dim=-1),
    "bias_tanh_log": lambda a, w, m: F.log_softmax((a + w).tanh() * 3.0, -1),
    "where_tensor_log": lambda a, w, m: F.log_softmax(minitorch.where(m, a.exp(), a * w), dim=3),
}


@pytest.mark.parametrize("dtype", [minitorch.float32, minitorch.float64])
@pytest.mark.parametrize("case", sorted(SOFTMAX_CHAINS))
def test_softmax_after_a_chain_is_fused_with_it_forward_and_backward(case, dtype):
    fn = SOFTMAX_CHAINS[case]
    gen = minitorch.Generator().manual_seed(3)
    a = minitorch.randn(3, 4, 33, 40, dtype=dtype, generator=gen, requires_grad=True)
    w = minitorch.randn(40, dtype=dtype, generator=gen, requires_grad=True)
    m = minitorch.ones(33, 40, dtype=minitorch.bool).triu(1)
    m[5, :] = True
    compiled = minitorch.compile(fn)
    compiled(a, w, m)
    got, want = compiled(a, w, m), fn(a, w, m)
    (node,) = [n for n in compiled.graphs[0].nodes if n.kind != "launcher"]
    assert node.kind == "fused" and node.name.endswith("_log_softmax" if "log" in case else "_softmax")
    assert got.shape == want.shape and got.dtype == want.dtype
    tol = 1e-5 if dtype == minitorch.float32 else 1e-12
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=tol, atol=tol)
    if case == "scale_mask":
        assert np.isnan(got[:, :, 5].detach().numpy()).all()
        got, want = got.nan_to_num(), want.nan_to_num()
    seed = minitorch.randn(*want.shape, dtype=dtype, generator=gen)
    for u, v in zip(minitorch.autograd.grad(got, [a, w], seed, allow_unused=True),
                    minitorch.autograd.grad(want, [a, w], seed, allow_unused=True)):
        assert (u is None) == (v is None)
        if u is not None:
            assert u.shape == v.shape
            np.testing.assert_allclose(u.numpy(), v.numpy(), rtol=tol * 10, atol=tol * 10)


def test_softmax_over_another_dimension_or_of_a_chain_read_elsewhere_is_not_fused():
    x = minitorch.randn(5, 7)
    c0 = minitorch.compile(lambda a: F.softmax(a * 2, dim=0))
    c0(x)
    np.testing.assert_allclose(c0(x).numpy(), F.softmax(x * 2, dim=0).numpy(), rtol=1e-6)
    assert [n.name for n in c0.graphs[0].nodes] == ["binary", "softmax"]

    def g(a):
        s = a * 2
        return F.softmax(s, dim=-1), s
    c1 = minitorch.compile(g)
    c1(x)
    y, s = c1(x)
    np.testing.assert_allclose(y.numpy(), F.softmax(x * 2, dim=-1).numpy(), rtol=1e-6)
    assert [n.name for n in c1.graphs[0].nodes] == ["binary", "softmax"]


def _softcap_loss(x, b, y, **kw):
    return F.cross_entropy(((x + b) / 3.0).tanh() * 3.0, y, **kw)


@pytest.mark.parametrize("dtype", [minitorch.float32, minitorch.float64])
@pytest.mark.parametrize("reduction,weighted,ignore", [("mean", False, None), ("mean", True, 4), ("sum", True, None),
                                                        ("none", False, 4)])
def test_cross_entropy_after_a_chain_is_fused_with_it_forward_and_backward(dtype, reduction, weighted, ignore):
    gen = minitorch.Generator().manual_seed(5)
    x = minitorch.randn(37, 11, dtype=dtype, generator=gen, requires_grad=True)
    b = minitorch.randn(11, dtype=dtype, generator=gen, requires_grad=True)
    y = minitorch.randint(0, 11, (37,), generator=gen)
    kw = {"reduction": reduction}
    if weighted:
        kw["weight"] = minitorch.rand(11, dtype=dtype, generator=gen) + 0.5
    if ignore is not None:
        y[[2, 9]] = ignore
        kw["ignore_index"] = ignore
    c = minitorch.compile(_softcap_loss)
    c(x, b, y, **kw)
    got, want = c(x, b, y, **kw), _softcap_loss(x, b, y, **kw)
    (node,) = fused_nodes(c)
    assert node.name.endswith("_cross_entropy") and node.group[-1].name == "cross_entropy"
    tol = 1e-5 if dtype == minitorch.float32 else 1e-12
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=tol, atol=tol)
    seed = minitorch.rand(*want.shape, dtype=dtype, generator=gen) + 0.5
    for u, v in zip(minitorch.autograd.grad(got, [x, b], seed), minitorch.autograd.grad(want, [x, b], seed)):
        np.testing.assert_allclose(u.numpy(), v.numpy(), rtol=tol * 10, atol=tol * 10)
    if ignore is not None:  # ignored rows get no gradient
        gx = minitorch.autograd.grad(c(x, b, y, **kw), [x], seed)[0]
        assert not gx[[2, 9]].numpy().any()


def test_fused_cross_entropy_checks_targets_and_leaves_other_cases_to_the_loss():
    x = minitorch.randn(6, 5, requires_grad=True)
    b = minitorch.randn(5)
    c = minitorch.compile(_softcap_loss)
    c(x, b, minitorch.tensor([0, 1, 2, 3, 4, 0]))
    for bad in (5, -1):
        with pytest.raises(IndexError, match=f"Target {bad} is out of bounds"):
            c(x, b, minitorch.tensor([0, 1, bad, 3, 4, 0]))
    y = minitorch.tensor([0, 1, 2, 3, 4, 0])
    # label smoothing and class probabilities take the loss's general path: the chain is fused alone
    for kw, target in (({"label_smoothing": 0.1}, y), ({}, F.softmax(minitorch.randn(6, 5), -1))):
        c2 = minitorch.compile(_softcap_loss)
        c2(x, b, target, **kw)
        got = c2(x, b, target, **kw)
        np.testing.assert_allclose(got.detach().numpy(), _softcap_loss(x, b, target, **kw).detach().numpy(),
                                   rtol=1e-5, atol=1e-6)
        assert not any(n.name.endswith("_cross_entropy") for n in fused_nodes(c2))


@pytest.mark.parametrize("dtype", [minitorch.float32, minitorch.float64])
def test_cross_entropy_and_its_gradient_fuse_with_the_chains_around_them_in_a_compiled_training_step(dtype):
    minitorch.manual_seed(4)
    lin = nn.Sequential(nn.Linear(12, 16), nn.Linear(16, 16), nn.Linear(16, 30)).to(dtype)
    y = minitorch.randint(0, 30, (9,))
    y[3] = -100

    def f(x):  # (mostly GEMMs: the whole backward is captured and compiled)
        return lin(x)

    def loss(h):
        return F.cross_entropy(((h * 0.5).tanh() * 2.0), y)
    c = minitorch.compile(lambda x: loss(f(x)))
    x = minitorch.randn(9, 12, dtype=dtype)
    for _ in range(2):
        lin.zero_grad()
        got = c(x)
        got.backward()
        g_c = [p.grad.numpy().copy() for p in lin.parameters()]
    lin.zero_grad()
    want = loss(f(x))
    want.backward()
    tol = 1e-5 if dtype == minitorch.float32 else 1e-12
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=tol, atol=tol)
    for u, p in zip(g_c, lin.parameters()):
        np.testing.assert_allclose(u, p.grad.numpy(), rtol=tol * 10, atol=tol * 10)
    (entry,) = c._entries.values()
    assert any(n.name.endswith("_cross_entropy") for n in entry.graph.nodes)
    assert any(n.name.startswith("fused_cross_entropy_grad_") for n in entry.backward.nodes)
    assert not any(n.kind == "backward" for n in entry.backward.nodes)


def _check_compiled_training(compiled, eager, module, x, loss, dtype):
    """Two compiled steps (the capture, then a replay) give eager's output and parameter gradients."""
    for _ in range(2):
        module.zero_grad()
        got = compiled(x)
        loss(got).backward()
        g_c = [p.grad.numpy().copy() for p in module.parameters()]
    module.zero_grad()
    want = eager(x)
    loss(want).backward()
    tol = 1e-5 if dtype == minitorch.float32 else 1e-12
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=tol, atol=tol)
    for u, p in zip(g_c, module.parameters()):
        np.testing.assert_allclose(u, p.grad.numpy(), rtol=tol * 10, atol=tol * 10)


@pytest.mark.parametrize("dtype", [minitorch.float32, minitorch.float64])
def test_log_softmax_gradient_joins_the_chain_reading_it_in_a_compiled_backward(dtype):
    minitorch.manual_seed(1)
    lin = nn.Linear(12, 30).to(dtype)
    mask = minitorch.rand(30) > 0.7

    def f(x):
        h = lin(x)
        return F.log_softmax((h * 0.5).masked_fill(mask, -1e4), dim=-1)
    c = minitorch.compile(f)
    x = minitorch.randn(9, 12, dtype=dtype)
    seed = minitorch.randn(9, 30, dtype=dtype)
    _check_compiled_training(c, f, lin, x, lambda y: (y * seed).sum(), dtype)
    (entry,) = c._entries.values()
    assert any(n.name.endswith("_log_softmax") for n in entry.graph.nodes)
    assert any(n.name.startswith("fused_log_softmax_grad_") for n in entry.backward.nodes)


@pytest.mark.parametrize("overlap", [False, True])
def test_gradients_of_slices_of_one_tensor_fill_one_buffer_in_a_compiled_backward(overlap):
    minitorch.manual_seed(2)
    lin = nn.Linear(8, 30).to(minitorch.float64)

    def f(x):
        h = lin(x)
        if overlap:  # parts overlap: their gradients must still be added
            a, b, c = h[:, :12], h[:, 8:20], h[:, 20:]
        else:
            a, b, c = h.split(10, dim=1)
        return (a @ b.t()).tanh() @ c * 2.0
    c = minitorch.compile(f)
    x = minitorch.randn(5, 8, dtype=minitorch.float64)
    for _ in range(2):
        lin.zero_grad()
        c(x).sum().backward()
        g_c = [p.grad.numpy().copy() for p in lin.parameters()]
    lin.zero_grad()
    f(x).sum().backward()
    for u, p in zip(g_c, lin.parameters()):
        np.testing.assert_allclose(u, p.grad.numpy(), rtol=1e-12, atol=1e-12)
    (entry,) = c._entries.values()
    names = [n.name for n in entry.backward.nodes]
    adds = [n for n in entry.backward.nodes if n.kind == "fused" and all(o[0] == "add" for o in n.target.ops)
            or n.name in ("binary", "binary_same") and n.args[0] == "add"]
    if overlap:
        assert names.count("zeros") == 3 and adds
    else:
        assert names.count("zeros") == 1 and names.count("copy_into") == 3 and not adds


class _HandAttention(nn.Module):
    """Causal self-attention written out (the scores scaled, masked with a buffer, softmaxed)."""

    def __init__(self, width=32, heads=4, block=16):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(width, 3 * width)
        self.register_buffer("bias", minitorch.tril(minitorch.ones(block, block)).view(1, 1, block, block))

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.heads, C // self.heads).transpose(1, 2) for t in (q, k, v))
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        att = att.masked_fill(self.bias[:, :, :T, :T] == 0, float("-inf"))
        att = F.softmax(att, dim=-1)
        return (att @ v).transpose(1, 2).contiguous().view(B, T, C)


@pytest.mark.parametrize("dtype", [minitorch.float32, minitorch.float64])
def test_attention_scores_fuse_into_the_softmax_and_its_gradient_in_a_compiled_training_step(dtype):
    minitorch.manual_seed(0)
    model = _HandAttention().to(dtype)
    c = minitorch.compile(model)
    x = minitorch.randn(3, 16, 32, dtype=dtype)
    _check_compiled_training(c, model, model, x, lambda y: (y * y).sum(), dtype)
    (entry,) = c._compiled._entries.values()
    assert "fused_mul_where_softmax" in [n.name for n in entry.graph.nodes]
    names = [n.name for n in entry.backward.nodes]
    assert "fused_softmax_grad_where_mul" in names and "softmax_backward" not in names


def test_reduction_epilogue_keeps_nan_and_leaves_a_chain_read_elsewhere_unfused():
    f = minitorch.compile(lambda a: (a * 2).sum())
    x = minitorch.tensor([1.0, float("nan"), 3.0])
    f(x)
    assert math.isnan(f(x).item())

    def g(a):
        y = a * 2 + 1
        return y.sum(), y   # the chain's result is returned too: no epilogue
    cg = minitorch.compile(g)
    cg(minitorch.ones(4))
    s, y = cg(minitorch.ones(4))
    assert s.item() == 12.0 and y.tolist() == [3.0] * 4
    assert [n.name for n in cg.graphs[0].nodes] == ["fused_mul_add", "Sum"]


def test_intermediate_used_twice_or_returned_is_not_fused_away():
    def f(x):
        y = x.exp()
        return y * y + 1, y

    x = minitorch.randn(4, 3)
    c = minitorch.compile(f)
    c(x)
    a, y = c(x)
    ea, ey = f(x)
    np.testing.assert_allclose(to_np(a), to_np(ea), rtol=1e-6)
    np.testing.assert_allclose(to_np(y), to_np(ey), rtol=1e-6)


def test_fused_kernels_run_on_every_device(device):
    """The generated kernels: @njit on the CPU, a grid-stride @cuda.jit on CUDA (tiny sizes for the simulator)."""
    def f(x, b):
        return (minitorch.sigmoid(x + b) * x).abs().sqrt() - minitorch.tanh(x).exp() / 3

    x0, b0 = minitorch.randn(3, 5, dtype=minitorch.float64), minitorch.randn(5, dtype=minitorch.float64)
    xs = [t.to(device).requires_grad_() for t in (x0, b0)]
    es = [t.clone().requires_grad_() for t in (x0, b0)]
    c = minitorch.compile(f)
    c(*xs)
    got = c(*xs)
    want = f(*es)
    assert got.device.type == device and [n.kind for n in c.graphs[0].nodes] == ["fused"]
    np.testing.assert_allclose(got.detach().cpu().numpy(), want.detach().numpy(), rtol=1e-12, atol=1e-12)
    w = minitorch.randn(3, 5, dtype=minitorch.float64)
    g_c = minitorch.autograd.grad((got * w.to(device)).sum(), xs)
    g_e = minitorch.autograd.grad((want * w).sum(), es)
    for a, e in zip(g_c, g_e):
        np.testing.assert_allclose(a.cpu().numpy(), e.numpy(), rtol=1e-11, atol=1e-12)
    assert ("@cuda.jit" if device == "cuda" else "@njit(cache=True") in c.code


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(20, 16)
        self.fc2 = nn.Linear(16, 4)
        self.drop = nn.Dropout(0.3)

    def forward(self, x):
        return F.log_softmax(self.fc2(self.drop(F.relu(self.fc1(x)))), dim=1)


def _train(model, steps, seed):
    minitorch.manual_seed(seed)
    x = minitorch.randn(8, 20)
    y = minitorch.randint(0, 4, (8,))
    opt = minitorch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = F.nll_loss(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def test_compiled_module_trains_like_eager_with_dropout_drawn_fresh_each_call():
    minitorch.manual_seed(0)
    eager = Net()
    minitorch.manual_seed(0)
    base = Net()
    compiled = minitorch.compile(base)
    want = _train(eager, 6, seed=1)
    got = _train(compiled, 6, seed=1)
    np.testing.assert_allclose(got, want, rtol=1e-5)
    assert want[-1] < want[0]
    assert len(compiled._compiled.graphs) == 1  # one capture, five replays
    (entry,) = compiled._compiled._entries.values()
    assert entry.backward is not None          # the backward was captured and compiled too
    for p, q in zip(base.parameters(), eager.parameters()):
        np.testing.assert_allclose(to_np(p), to_np(q), rtol=1e-5, atol=1e-6)


def test_optimized_module_state_dict_attributes_and_module_compile():
    m = Net()
    c = minitorch.compile(m)
    assert c._orig_mod is m
    assert list(c.state_dict()) == ["_orig_mod." + k for k in m.state_dict()]
    assert c.fc1 is m.fc1
    c.eval()
    assert not m.training and not m.fc1.training
    m2 = Net()
    keys = list(m2.state_dict())
    m2.compile()
    assert list(m2.state_dict()) == keys and type(m2) is Net
    x = minitorch.randn(3, 20)
    m2.eval()
    np.testing.assert_allclose(to_np(m2(x)), to_np(m2(x)), rtol=0)
    with minitorch.no_grad():
        np.testing.assert_allclose(to_np(m2(x)), to_np(m2._call_impl(x)), rtol=1e-6)


def test_guards_recapture_on_new_shape_dtype_grad_mode_and_training_flag():
    m = Net()
    c = minitorch.compile(m)
    x = minitorch.randn(5, 20)
    c(x)
    c(x)
    c(minitorch.randn(7, 20))
    with minitorch.no_grad():
        c(x)
    m.eval()
    out = c(x)
    assert len(c._compiled._entries) == 4
    np.testing.assert_allclose(to_np(out), to_np(m(x)), rtol=1e-6)
    assert out.requires_grad and out.grad_fn is not None
    with minitorch.no_grad():
        assert not c(x).requires_grad


class _ScaledByMode(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(6, 6)

    def forward(self, x):
        return self.lin(x) * (0.5 if self.training else 2.0)  # (a Python value the graph bakes in)


def test_switching_eval_and_train_around_an_evaluation_reuses_each_modes_graphs():
    # a nanoGPT-style loop: train steps, then eval() for an evaluation under no_grad, then train() again
    m = nn.Sequential(_ScaledByMode(), nn.ReLU(), _ScaledByMode())
    c = minitorch.compile(m)
    x = minitorch.randn(4, 6)
    for _ in range(3):
        m.train()
        out = c(x)
        out.sum().backward()
        np.testing.assert_allclose(to_np(out), to_np(m(x)), rtol=1e-6)
        m.eval()
        with minitorch.no_grad():
            np.testing.assert_allclose(to_np(c(x)), to_np(m(x)), rtol=1e-6)
    assert c._compiled._captures == 2  # one graph per mode, each captured once


@pytest.mark.parametrize("where, act", [(F, "relu"), (F, "tanh"), (F, "sigmoid"), (minitorch, "relu")])
def test_a_functional_activation_inside_an_elementwise_chain_fuses_with_it(where, act):
    def f(x):
        return getattr(where, act)(x + 1) * 2  # (looked up at the call, as a program does)

    x = minitorch.randn(16, 8, requires_grad=True)
    report = explain(f, x.detach())
    assert len(report.kernels) == 1  # x + 1, the activation and * 2: one generated kernel
    c = minitorch.compile(f)
    for _ in range(2):
        x.grad = None
        out = c(x)
        out.sum().backward()
        got = x.grad.numpy().copy()
        x.grad = None
        f(x).sum().backward()
        np.testing.assert_allclose(to_np(out), to_np(f(x)), rtol=1e-6)
        np.testing.assert_allclose(got, x.grad.numpy(), rtol=1e-6, atol=1e-7)


def test_dtype_change_recaptures():
    c = minitorch.compile(lambda x: (x * 2).exp())
    a = c(minitorch.ones(3))
    b = c(minitorch.ones(3, dtype=minitorch.float64))
    assert a.dtype == minitorch.float32 and b.dtype == minitorch.float64
    assert len(c._entries) == 2


def test_data_dependent_branch_is_a_guard_with_one_graph_per_path_and_eager_answers():
    calls = []

    def f(x):
        y = x + 0
        calls.append(len(y.shape))  # a Python side effect: it runs eagerly on every call
        if y.sum() > 0:
            return y * 2
        return y * 3

    c = minitorch.compile(f)
    pos, neg = minitorch.ones(3), -minitorch.ones(3)
    for x, want in [(pos, 2.0), (neg, -3.0), (pos, 2.0), (neg, -3.0), (neg, -3.0), (pos, 2.0)]:
        assert c(x).tolist() == [want] * 3
    assert len(calls) == 6
    branch = c._parts()[1]
    assert branch._captures == 2  # one capture per path; every other call replayed a graph whose guard held
    assert len(branch.graphs) == 2
    guards = [[n for n in g.nodes if n.kind == "guard"] for g in branch.graphs]
    assert sorted(g[0].args[2] for g in guards) == [False, True] and all(len(g) == 1 for g in guards)
    report = explain(f, pos)
    assert report.graph_count == 2 and report.graph_break_count == 1  # the side effect
    assert len(report.guards) == 1 and "test_compile.py" in report.guards[0].line
    assert "Guards: 1" in str(report)


def test_guards_hold_only_before_side_effects_and_for_a_few_paths():
    def effect_first(x, y):
        y.add_(1)  # an input written in place: a replay stopped at the guard could not undo it
        return x * 2 if x.sum() > 0 else x * 3

    c = minitorch.compile(effect_first)
    y = minitorch.zeros(2)
    assert c(minitorch.ones(2), y).tolist() == [2.0, 2.0] and y.tolist() == [1.0, 1.0]
    assert c(-minitorch.ones(2), y).tolist() == [-3.0, -3.0] and y.tolist() == [2.0, 2.0]
    (entry,) = c._entries.values()
    assert entry.graph is None and "side effects" in str(entry.brk)

    def level(x):  # as many paths as levels of x.sum()
        n = 1
        for t in range(7):
            if x.sum() > t:
                n += 1
        return x * n

    c = minitorch.compile(level)
    for k in range(8):
        x = minitorch.full((2,), k, dtype=minitorch.int64)
        assert c(x).tolist() == level(x).tolist()
    (entry,) = c._entries.values()
    assert entry.graph is None and "more than 4 paths" in str(entry.brk)


class _Clamped(nn.Module):
    """A branch on a value between two layers (a guard: one graph, forward and backward compiled)."""

    def __init__(self):
        super().__init__()
        self.a = nn.Linear(4, 8)
        self.b = nn.Linear(8, 3)

    def forward(self, x):
        h = self.a(x)
        if h.abs().max() > 1.0:
            h = h / h.abs().max()
        return self.b(h.tanh())


def test_a_guard_in_a_compiled_training_step_gives_eager_gradients_on_both_paths():
    minitorch.manual_seed(0)
    model = _Clamped()
    c = minitorch.compile(model)
    xs = [minitorch.randn(5, 4) * 5, minitorch.randn(5, 4) * 0.01, minitorch.randn(5, 4) * 4]
    for x in xs * 2:
        model.zero_grad()
        c(x).pow(2).sum().backward()
        got = [p.grad.numpy().copy() for p in model.parameters()]
        model.zero_grad()
        model(x).pow(2).sum().backward()
        for g, p in zip(got, model.parameters()):
            np.testing.assert_allclose(g, p.grad.numpy(), rtol=1e-5, atol=1e-6)
    (entry,) = c._compiled._entries.values()
    assert len(entry.alts) == 1 and all(e.backward is not None for e in (entry, *entry.alts))


def test_index_checks_and_sampling_stay_in_the_graph_and_check_every_replay():
    # gather, index_select, advanced indexing and quantile check their indices, multinomial its weights, on the
    # host: those checks are nodes of the graph (no break), replayed before the unchecked kernels on every call
    y = minitorch.tensor([0, 4, -1, 2])
    cases = [lambda x: x.log_softmax(1).gather(1, y.unsqueeze(1)).mean(),
             lambda x: x[minitorch.arange(4), y].sum(),
             lambda x: x.index_select(1, y).sum(),
             lambda x: minitorch.quantile(x, 0.25, dim=1),
             lambda x: minitorch.multinomial(x.softmax(-1), 3)]
    x = minitorch.randn(4, 5, generator=minitorch.Generator().manual_seed(0))
    for f in cases:
        assert explain(f, x).graph_break_count == 0
        c = minitorch.compile(f)
        for _ in range(3):
            minitorch.manual_seed(1)
            got = c(x).tolist()
            minitorch.manual_seed(1)
            assert got == f(x).tolist()
        assert len(c.graphs) == 1
    c = minitorch.compile(lambda x, i: x.gather(1, i))
    i = minitorch.tensor([[0], [1], [-2], [3]])
    assert c(x, i).tolist() == c(x, i).tolist() == x.gather(1, i).tolist()
    with pytest.raises(IndexError, match="index 9 is out of bounds for dimension 1 with size 5"):
        c(x, minitorch.tensor([[0], [1], [9], [3]]))
    c = minitorch.compile(lambda p: minitorch.multinomial(p, 2))
    p = minitorch.rand(3, 4)
    c(p), c(p)
    with pytest.raises(RuntimeError, match="element < 0"):
        c(p - 2)
    with pytest.raises(RuntimeError, match="sum of probabilities <= 0"):
        c(p * 0)


class _BranchyNet(nn.Module):
    """A branch on a value between two layers: the call breaks, its layers compile on their own."""

    def __init__(self):
        super().__init__()
        self.a = nn.Sequential(nn.Linear(4, 8), nn.GELU(), nn.Linear(8, 8))
        self.b = nn.Linear(8, 3)

    def forward(self, x):
        h = self.a(x)
        if h.sum().item() > 0:
            h = h * 2
        return self.b(h)


@pytest.mark.parametrize("hooked", [False, True])
def test_graphs_resume_after_a_break_at_the_modules_the_call_makes(hooked):
    minitorch.manual_seed(0)
    model = _BranchyNet()
    if hooked:  # the call runs hooks around forward: it resumes at the layers forward calls
        model.register_forward_hook(lambda m, args, out: None)
    c = minitorch.compile(model)
    xs = [minitorch.randn(5, 4), -minitorch.randn(5, 4) * 3, minitorch.randn(5, 4)]
    got = []
    for x in xs * 2:
        model.zero_grad()
        y = c(x)
        y.pow(2).sum().backward()
        got.append((y.detach().numpy(), [p.grad.numpy().copy() for p in model.parameters()]))
    # without hooks, forward is cut at the .item() line: the statements before and after it are one graph each;
    # with hooks, each layer is one graph; either way with its backward compiled
    children = c._compiled._children.values() if hooked else c._compiled._parts()
    if hooked:
        assert {type(ch._module).__name__ for ch in children} == {"Sequential", "Linear"}
    else:
        assert len(children) == 2 and not c._compiled._children
    for ch in children:
        (entry,) = ch._entries.values()
        assert entry.graph is not None and entry.brk is None and entry.backward is not None
    for x, (y, grads) in zip(xs * 2, got):
        model.zero_grad()
        want = model(x)
        want.pow(2).sum().backward()
        np.testing.assert_allclose(y, want.detach().numpy(), rtol=1e-6, atol=1e-6)
        for g, p in zip(grads, model.parameters()):
            np.testing.assert_allclose(g, p.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_training_step_function_with_item_compiles_the_model_it_calls():
    def run(compiled):
        minitorch.manual_seed(0)
        model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
        opt = minitorch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        losses = []

        def step(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            losses.append(loss.item())
            return loss
        fn = minitorch.compile(step) if compiled else step
        x, y = minitorch.randn(6, 4, generator=minitorch.Generator().manual_seed(1)), minitorch.tensor([0, 1, 2] * 2)
        for _ in range(4):
            fn(x, y)
        return losses, fn
    want, _ = run(False)
    got, fn = run(True)
    np.testing.assert_allclose(got, want, rtol=1e-6)
    assert len(set(got)) == 4  # the model trained
    # cut at the backward: zero_grad, the model and the loss are one graph, its backward compiled too; the step
    # after the backward is another (the piece after it is cut again at .item())
    graphs = {tuple(n.name for n in e.graph.nodes): e for p in fn._parts() for e in p._entries.values()
              if e.graph is not None}
    (names,) = [k for k in graphs if k[:1] == ("SGD.zero_grad",)]
    assert "cross_entropy" in names and graphs[names].backward is not None
    assert ("SGD.step",) in graphs


def test_a_loss_module_made_inside_a_compiled_step_runs_eagerly_and_a_kept_one_compiles():
    minitorch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    opt = minitorch.optim.SGD(model.parameters(), lr=0.1)
    kept = nn.MSELoss()

    def step(x, y):
        opt.zero_grad()
        out = model(x)
        loss = nn.CrossEntropyLoss()(out, y) + kept(out, minitorch.zeros_like(out))
        loss.backward()
        opt.step()
        return loss

    c = minitorch.compile(step)
    x, y = minitorch.randn(6, 4), minitorch.tensor([0, 1, 2] * 2)
    losses = [c(x, y).item() for _ in range(4)]
    assert losses == sorted(losses, reverse=True)
    # the statements before the backward are one graph, the loss modules' ops in it, captured once
    head = c._parts()[0]
    (entry,) = head._entries.values()
    names = [n.name for n in entry.graph.nodes]
    assert "cross_entropy" in names and "mse_loss" in names and not c._children


def test_a_layer_that_breaks_is_cut_again_at_its_own_break():
    class Outer(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = _BranchyNet()
            self.head = nn.Linear(3, 2)

        def forward(self, x):
            h = self.inner(x)
            print(end="")  # a Python side effect: forward is cut around it
            return self.head(h).relu() if bool(h.mean() > -100) else h

    minitorch.manual_seed(0)
    model = Outer()
    c = minitorch.compile(model)
    x = minitorch.randn(5, 4)
    for _ in range(3):
        y = c(x)
    np.testing.assert_allclose(y.detach().numpy(), model(x).detach().numpy(), rtol=1e-6)
    head = c._compiled._parts()[0]  # the statement before the print: its capture breaks inside the inner layer
    inner = head._children[id(model.inner)]
    entry = next(iter(inner._entries.values()))
    assert entry.split and entry.resume is not None  # which is cut at its own .item()
    assert len(inner._parts()) == 2


def test_fullgraph_turns_a_break_into_an_error_naming_the_line():
    def f(x):
        return x * x.max().item()

    with pytest.raises(CompileError, match=r"graph break: .*host.*test_compile\.py:\d+"):
        minitorch.compile(f, fullgraph=True)(minitorch.ones(2))
    assert minitorch.compile(f)(minitorch.ones(2) * 2).tolist() == [4.0, 4.0]


def test_in_place_update_of_an_input_is_replayed():
    def f(x):
        x.add_(1)
        return x * 2

    c = minitorch.compile(f)
    a, b = minitorch.zeros(3), minitorch.zeros(3)
    for _ in range(3):
        got = c(a)
        want = f(b)
    assert a.tolist() == b.tolist() == [3.0, 3.0, 3.0]
    assert got.tolist() == want.tolist()


def test_random_draws_inside_the_graph_are_fresh_and_follow_the_seed():
    def f(x):
        return x + minitorch.rand(4)

    c = minitorch.compile(f)
    x = minitorch.zeros(4)
    minitorch.manual_seed(3)
    got = [c(x).tolist() for _ in range(3)]
    minitorch.manual_seed(3)
    want = [f(x).tolist() for _ in range(3)]
    assert got == want
    assert got[1] != got[2]


def test_tensors_made_inside_the_call_are_fresh_per_call():
    def f(x):
        buf = minitorch.zeros(2, 3)
        buf[0] = x
        return buf

    c = minitorch.compile(f)
    a = c(minitorch.ones(3))
    b = c(minitorch.full((3,), 5.0))
    assert a.tolist() == [[1.0, 1.0, 1.0], [0.0, 0.0, 0.0]]
    assert b.tolist() == [[5.0, 5.0, 5.0], [0.0, 0.0, 0.0]]


def test_no_grad_region_inside_the_call_is_replayed_without_grad():
    w = minitorch.randn(3, requires_grad=True)

    def f(x):
        with minitorch.no_grad():
            scale = w * 2
        return x * w + scale

    c = minitorch.compile(f)
    x = minitorch.randn(3)
    c(x)
    out = c(x)
    (g,) = minitorch.autograd.grad(out.sum(), [w])
    np.testing.assert_allclose(to_np(g), to_np(x), rtol=1e-6)


def test_explain_reports_graph_ops_and_generated_source():
    report = explain(gelu, minitorch.randn(10))
    assert report.graph_count == 1 and report.graph_break_count == 0
    assert report.ops_per_graph[0][0].startswith("fused_")
    assert len(report.kernels) == 1
    text = str(report)
    assert "Graph Count: 1" in text and "def forward(out, n" in text and "constant(" in text
    assert report.backward_graphs == []   # no input requires grad
    mlp = nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 2))
    report = explain(mlp, minitorch.randn(4, 6))
    (bwd,) = report.backward_graphs
    assert [n.name for n in bwd.nodes] == ["linear_backward_relu", "linear_backward"]
    assert "Backward Graph 1:" in str(report) and "linear_relu" in str(report)
    assert "| %" in str(report).split("Backward Graph 1:")[1]  # the fused node lists the two it replaced


def test_backend_eager_replays_without_fusing():
    c = minitorch.compile(gelu, backend="eager")
    x = minitorch.randn(5)
    c(x)
    np.testing.assert_allclose(to_np(c(x)), to_np(gelu(x)), rtol=1e-6)
    assert not fused_nodes(c) and c.code == ""


def test_compile_arguments_are_checked_like_pytorch():
    with pytest.raises(RuntimeError, match="Either mode or options"):
        minitorch.compile(gelu, mode="max-autotune", options={})
    with pytest.raises(RuntimeError, match="Unrecognized mode=fast"):
        minitorch.compile(gelu, mode="fast")
    with pytest.raises(RuntimeError, match="Invalid backend: 'nope'"):
        minitorch.compile(gelu, backend="nope")
    assert minitorch.compile(gelu, disable=True) is gelu

    @minitorch.compile(mode="reduce-overhead")
    def double(x):
        return x * 2
    assert double(minitorch.ones(2)).tolist() == [2.0, 2.0]


def test_debug_env_prints_the_graph_before_and_after_passes(monkeypatch, capsys):
    monkeypatch.setenv("MINITORCH_COMPILE_DEBUG", "1")
    minitorch.compile(gelu)(minitorch.randn(4))
    err = capsys.readouterr().err
    assert "captured graph" in err and "after elementwise fusion" in err and "fused." in err


def test_second_process_loads_fused_kernels_from_the_disk_cache(tmp_path):
    script = textwrap.dedent("""
        import math, minitorch
        def f(x):
            return (x * 0.5 + 1.0).tanh() * x
        c = minitorch.compile(f)
        x = minitorch.randn(100, requires_grad=True)
        c(x)
        c(x).sum().backward()
        ks = [n.target for e in c._entries.values() for g in (e.graph, e.backward) if g is not None
              for n in g.nodes if n.kind == "fused"]
        st = [k._fwd.forward.stats for k in ks] + [m.backward.stats for k in ks for m in k._bwd.values()]
        print(len(st), sum(len(s.cache_misses) for s in st), sum(len(s.cache_hits) for s in st))
    """)
    env = dict(os.environ, MINITORCH_COMPILE_CACHE=str(tmp_path / "cache"))
    runs = [subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=600)
            for _ in range(2)]
    for r in runs:
        assert r.returncode == 0, r.stderr
    n, misses1, _ = map(int, runs[0].stdout.split())
    n2, misses2, hits2 = map(int, runs[1].stdout.split())
    assert n == n2 >= 2 and misses1 == n and misses2 == 0 and hits2 == n  # (forward and backward kernels)


# ---------------------------------------------------------------------------------------------------------------
# the op table, compiled
# ---------------------------------------------------------------------------------------------------------------
_COMPILED_OPS = [pytest.param(op, id=op.name) for op in TABLE if F64 in op.dtypes]


@pytest.mark.compiled
@pytest.mark.parametrize("op", _COMPILED_OPS)
@settings(max_examples=1)
@given(data=st.data())
def test_op_table_compiled_matches_eager(op, data):
    """Each row's function, compiled: the replayed graph gives eager's outputs and gradients."""
    shapes, seed, layouts = data.draw(cases(op, FWD), label="shapes, seed, layouts")
    arrays = arrays_for(op, shapes, seed, F64)
    diff = op.grads()
    leaves_e, views = leaves_and_views(minitorch, arrays, layouts, F64, "cpu", diff)
    leaves_c, _ = leaves_and_views(minitorch, arrays, layouts, F64, "cpu", diff)

    def f(*ts):
        return op.fn(minitorch, *[v(t) for v, t in zip(views, ts)])

    c = minitorch.compile(f)
    c(*leaves_c)
    got = outputs(c(*leaves_c))
    want = outputs(f(*leaves_e))
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.shape == w.shape and g.dtype == w.dtype
        np.testing.assert_allclose(to_np(g), to_np(w), rtol=1e-10, atol=1e-12, err_msg=op.name)
    if not any(diff):
        return
    loss_c = sum((o * (i + 1.5)).sum() for i, o in enumerate(got) if o.dtype.is_floating_point)
    loss_e = sum((o * (i + 1.5)).sum() for i, o in enumerate(want) if o.dtype.is_floating_point)
    if not isinstance(loss_c, minitorch.Tensor) or not loss_c.requires_grad:
        return
    loss_c.backward()
    loss_e.backward()
    for i, (a, b) in enumerate(zip(leaves_c, leaves_e)):
        if i < len(diff) and diff[i] and b.grad is not None:
            np.testing.assert_allclose(to_np(a.grad), to_np(b.grad), rtol=1e-9, atol=1e-11,
                                       err_msg=f"{op.name}: grad {i}")


@pytest.mark.compiled
@pytest.mark.parametrize("name, make, shape", LAYERS, ids=[x[0] for x in LAYERS])
def test_layer_table_compiled_matches_eager(name, make, shape):
    # each layer of the nn table, compiled, over three training calls: outputs, input and parameter gradients
    # and buffers (running statistics) as eager, whichever backward the compiler chose
    minitorch.manual_seed(0)
    eager = make(nn)
    layer = make(nn)
    layer.load_state_dict(eager.state_dict())
    c = minitorch.compile(layer)
    rng = np.random.default_rng(0)
    for _ in range(3):
        x = rng.uniform(-2, 2, shape).astype(np.float32)
        got = []
        for module, fn in ((eager, eager), (layer, c)):
            xt = minitorch.tensor(x, requires_grad=True)
            module.zero_grad()
            y = fn(xt)
            w = minitorch.tensor(np.linspace(-1, 1, y.numel(), dtype=np.float32).reshape(y.shape))
            (y * w).sum().backward()
            got.append([y, xt.grad] + [p.grad for p in module.parameters()] + list(module.buffers()))
        for a, b in zip(*got):
            np.testing.assert_allclose(to_np(a), to_np(b), rtol=1e-5, atol=1e-6)


def test_recurrent_model_is_one_module_node_and_trains_like_eager():
    class Seq(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(20, 6)
            self.rnn = nn.LSTM(6, 8, num_layers=2)
            self.dec = nn.Linear(8, 20)

        def forward(self, idx, hidden):
            out, hidden = self.rnn(self.emb(idx), hidden)
            return F.log_softmax(self.dec(out), dim=-1).view(-1, 20), hidden

    def run(model, steps):
        minitorch.manual_seed(5)
        idx, tgt = minitorch.randint(0, 20, (5, 3)), minitorch.randint(0, 20, (15,))
        opt = minitorch.optim.SGD(model.parameters(), lr=0.5)
        hidden = (minitorch.zeros(2, 3, 8), minitorch.zeros(2, 3, 8))
        losses = []
        for _ in range(steps):
            opt.zero_grad()
            out, hidden = model(idx, hidden)
            hidden = tuple(h.detach() for h in hidden)
            loss = F.nll_loss(out, tgt)
            loss.backward()
            opt.step()
            losses.append(loss.item())
        return losses

    minitorch.manual_seed(0)
    eager = Seq()
    minitorch.manual_seed(0)
    compiled = minitorch.compile(Seq())
    want, got = run(eager, 4), run(compiled, 4)
    np.testing.assert_allclose(got, want, rtol=1e-5)
    assert want[-1] < want[0]
    (graph,) = compiled._compiled.graphs
    assert [n.kind + "." + n.name for n in graph.nodes if n.kind == "module"] == ["module.LSTM"]
    (entry,) = compiled._compiled._entries.values()
    assert entry.backward is not None  # the LSTM's weights (read inside the layer) get their gradients from it


def test_python_values_the_call_reads_are_guarded():
    class Scaled(nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = 2.0

        def forward(self, x):
            return x * self.scale

    m = Scaled()
    c = minitorch.compile(m)
    x = minitorch.ones(2)
    assert c(x).tolist() == [2.0, 2.0]
    m.scale = 3.0
    assert c(x).tolist() == [3.0, 3.0]

    offset = 1.0

    def shifted(x):
        return x + offset + SHIFT

    cf = minitorch.compile(shifted)
    assert cf(x).tolist() == [12.0, 12.0]
    offset = 5.0
    assert cf(x).tolist() == [16.0, 16.0]
    globals()["SHIFT"] = 0.0
    assert cf(x).tolist() == [6.0, 6.0]


SHIFT = 10.0


def test_causal_transformer_compiles_without_breaks_and_matches_eager():
    from test_onnx import TinyTransformerLM
    minitorch.manual_seed(0)
    m = TinyTransformerLM()
    c = minitorch.compile(m, fullgraph=True)
    src = minitorch.randint(0, 40, (7, 3))
    m.eval()
    c(src)
    with minitorch.no_grad():
        np.testing.assert_allclose(to_np(c(src)), to_np(m(src)), rtol=1e-5, atol=1e-6)
    m.train()
    c(src)                   # captures the training-mode graph (dropout on)
    minitorch.manual_seed(4)
    got = c(src)
    minitorch.manual_seed(4)
    want = m(src)
    np.testing.assert_allclose(to_np(got), to_np(want), rtol=1e-5, atol=1e-6)
    (g1,) = minitorch.autograd.grad(got.sum(), [m.dec.weight])
    (g2,) = minitorch.autograd.grad(want.sum(), [m.dec.weight])
    np.testing.assert_allclose(to_np(g1), to_np(g2), rtol=1e-4, atol=1e-6)


def test_common_subexpressions_and_constant_folding():
    def f(x):
        mask = minitorch.full((4, 4), float("-inf")).triu(1)
        return x.exp() * 2 + x.exp() + mask

    c = minitorch.compile(f, backend="eager")
    x = minitorch.randn(4, 4)
    c(x)
    np.testing.assert_allclose(to_np(c(x)), to_np(f(x)), rtol=1e-6)
    names = [n.name for n in c.graphs[0].nodes]
    assert names.count("unary") == 1                     # x.exp() once
    assert "fill_" not in names and "empty" not in names  # the mask is a constant of the graph
    assert len(c.graphs[0].consts) >= 1


def test_folding_keeps_tensors_the_call_writes_or_returns_fresh():
    def f(x):
        base = minitorch.arange(3.0)
        out = base * 1
        out += x
        return out, base

    c = minitorch.compile(f)
    a, base_a = c(minitorch.ones(3))
    b, base_b = c(minitorch.full((3,), 2.0))
    assert a.tolist() == [1.0, 2.0, 3.0] and b.tolist() == [2.0, 3.0, 4.0]
    assert base_a.tolist() == base_b.tolist() == [0.0, 1.0, 2.0] and base_a is not base_b


def test_sorting_and_linalg_calls_are_recorded_whole():
    def f(x):
        order = x.argsort(dim=-1)
        inv = minitorch.linalg.inv(x @ x.mT + minitorch.eye(3))
        vals, idx = minitorch.sort(x, dim=0)
        return order, inv.sum() * vals, idx

    c = minitorch.compile(f, fullgraph=True)
    x = minitorch.randn(3, 3)
    c(x)
    got = c(x)
    want = f(x)
    for a, b in zip(got, want):
        np.testing.assert_allclose(to_np(a), to_np(b), rtol=1e-5, atol=1e-6)
    kinds = {(n.kind, n.name) for n in c.graphs[0].nodes}
    assert {("op", "argsort"), ("op", "inv"), ("op", "sort")} <= kinds
    assert minitorch.argsort is not None and minitorch.argsort.__module__ != __name__  # restored after capture

    def g(x):
        return minitorch.unique(x)   # its output shape depends on the data: the graph breaks

    assert explain(g, minitorch.tensor([1, 2, 2])).graph_break_count == 1


def test_signatures_past_the_cache_limit_run_eagerly_with_a_warning():
    from minitorch.compiler.api import CACHE_SIZE_LIMIT
    c = minitorch.compile(lambda x: x * 2, dynamic=False)  # static sizes: each size is a signature
    for n in range(1, CACHE_SIZE_LIMIT + 1):
        c(minitorch.ones(n))
    with pytest.warns(UserWarning, match="cache_size_limit=8"):
        out = c(minitorch.ones(20))
    assert out.tolist() == [2.0] * 20 and len(c.graphs) == CACHE_SIZE_LIMIT
    k = minitorch.compile(lambda x, s: x * s)   # other values of a Python argument are signatures by default too
    for n in range(CACHE_SIZE_LIMIT):
        k(minitorch.ones(2), n)
    with pytest.warns(UserWarning, match="cache_size_limit=8"):
        assert k(minitorch.ones(2), 9).tolist() == [9.0, 9.0]


def test_new_sizes_past_the_cache_limit_replace_old_ones_and_reuse_the_fused_kernels():
    from minitorch.compiler.api import CACHE_SIZE_LIMIT
    c = minitorch.compile(gelu)
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for n in range(1, 3 * CACHE_SIZE_LIMIT):
            x = minitorch.randn(n, 3)
            np.testing.assert_allclose(c(x).numpy(), gelu(x).numpy(), rtol=1e-6, atol=1e-7)
            np.testing.assert_allclose(c(x).numpy(), gelu(x).numpy(), rtol=1e-6, atol=1e-7)  # a replay
    assert len(c.graphs) == CACHE_SIZE_LIMIT
    sizes = sorted(g.inputs[0].shape[0] for g in c.graphs)
    assert sizes == list(range(2 * CACHE_SIZE_LIMIT, 3 * CACHE_SIZE_LIMIT))  # the newest sizes are kept
    assert len({k.hash for g in c.graphs for n in g.nodes if n.kind == "fused" for k in [n.target]}) == 1


def test_a_new_batch_size_records_its_backward_as_the_last_capture_did(monkeypatch):
    """A capture at a new size starts its compiled backward from the contexts the last capture called whole (layer
    norm's keeps its statistics): one backward recording instead of two, and the graphs a fresh capture makes."""
    import re
    from minitorch.compiler import joint
    calls = []
    record = joint._record_backward
    monkeypatch.setattr(joint, "_record_backward", lambda *a: calls.append(a[5]) or record(*a))
    minitorch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 8), nn.LayerNorm(8), nn.GELU(), nn.Linear(8, 3))

    def step(run, x):
        model.zero_grad()
        out = run(x)
        out.square().sum().backward()
        return [to_np(out)] + [to_np(p.grad) for p in model.parameters()]

    def graphs(c, n):
        e = [e for e in c._compiled._entries.values() if e.graph.inputs[0].shape[0] == n][0]
        names = {}
        return [re.sub(r"%v[0-9]+", lambda m: names.setdefault(m.group(0), f"%{len(names)}"), str(g))
                for g in (e.graph, e.backward)]

    c = minitorch.compile(model)
    for n, recordings in ((5, 2), (3, 1), (4, 0)):  # (a third size replays the template of the first two)
        x = minitorch.randn(n, 6)
        calls.clear()
        for got, want in zip(step(c, x), step(model, x)):
            np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)
        assert len(calls) == recordings
        if recordings:
            assert calls[-1] is not True and len(calls[-1]) == 1  # the layer norm's context alone called whole
    fresh = minitorch.compile(model)
    step(fresh, minitorch.randn(4, 6))
    assert graphs(c, 4) == graphs(fresh, 4)


def test_guards_cover_hooks_tensor_attributes_and_aliased_arguments():
    m = nn.Linear(3, 3)
    c = minitorch.compile(m)
    x = minitorch.randn(2, 3)
    with minitorch.no_grad():
        base = c(x)
        h = m.register_forward_hook(lambda mod, inp, out: out * 0)
        assert c(x).abs().sum().item() == 0
        h.remove()
        np.testing.assert_allclose(to_np(c(x)), to_np(base))

    class Masked(nn.Module):
        def __init__(self):
            super().__init__()
            self.mask = minitorch.ones(3)

        def forward(self, x):
            return x * self.mask

    mm = Masked()
    cm = minitorch.compile(mm)
    assert cm(minitorch.ones(3)).tolist() == [1.0, 1.0, 1.0]
    mm.mask = minitorch.zeros(3)           # a new tensor object: the graph must not keep the old one
    assert cm(minitorch.ones(3)).tolist() == [0.0, 0.0, 0.0]

    class Scaled(nn.Module):
        def forward(self, x):
            s = getattr(self, "scale", None)
            if s is None:
                s = getattr(self, "factor", 1.0)
            return x * s

    sm = Scaled()
    cs = minitorch.compile(sm)
    assert cs(minitorch.ones(2)).tolist() == [1.0, 1.0]
    sm.scale = 3.0                         # an attribute added after the capture
    assert cs(minitorch.ones(2)).tolist() == [3.0, 3.0]
    sm.scale = 4.0                         # ... and changed
    assert cs(minitorch.ones(2)).tolist() == [4.0, 4.0]
    del sm.scale
    sm.factor = 5.0                        # one gone and another added: as many attributes as before
    assert cs(minitorch.ones(2)).tolist() == [5.0, 5.0]
    sm.factor = minitorch.full((2,), 6.0)  # a scalar turned tensor
    assert cs(minitorch.ones(2)).tolist() == [6.0, 6.0]

    w = minitorch.ones(3)

    def f(x):
        return x * w

    cf = minitorch.compile(f)
    cf(minitorch.ones(3))
    w.requires_grad_(True)                 # now the product must be recorded for autograd
    out = cf(minitorch.ones(3))
    assert out.requires_grad
    (g,) = minitorch.autograd.grad(out.sum(), [w])
    assert g.tolist() == [1.0, 1.0, 1.0]

    cg = minitorch.compile(lambda a, b: a * 2 + b)
    a = minitorch.ones(2)
    assert cg(a, a).tolist() == [3.0, 3.0]
    assert cg(a, minitorch.zeros(2)).tolist() == [2.0, 2.0]


def test_autocast_regions_and_their_dtype_are_guarded():
    a, b = minitorch.randn(4, 4), minitorch.randn(4, 4)
    cf = minitorch.compile(lambda x, y: x @ y)
    assert cf(a, b).dtype == minitorch.float32
    with minitorch.autocast("cpu"):
        assert cf(a, b).dtype == minitorch.bfloat16
    with minitorch.autocast("cpu", dtype=minitorch.float16):
        assert cf(a, b).dtype == minitorch.float16
    assert cf(a, b).dtype == minitorch.float32


def test_reseeding_after_capture_is_followed_by_the_graph():
    def f(x):
        return F.dropout(x, 0.5, training=True)

    c = minitorch.compile(f)
    x = minitorch.ones(8)
    c(x)                       # captured before the seed below
    minitorch.manual_seed(11)
    got = c(x).tolist()
    minitorch.manual_seed(11)
    assert got == f(x).tolist()


def test_compiled_backward_gives_eager_gradients_for_inputs_params_and_unused_outputs():
    lin = nn.Linear(5, 3)

    def f(x):
        h = lin(x).relu()
        return h.sum(1), F.log_softmax(h, dim=1)

    c = minitorch.compile(f)
    x = minitorch.randn(4, 5, requires_grad=True)
    c(x)
    (entry,) = c._entries.values()
    assert entry.backward is not None
    for loss in (lambda a, b: (a * 2).sum(), lambda a, b: b[:, 0].sum() + a.sum()):
        loss_c, loss_e = loss(*c(x)), loss(*f(x))
        g_c = minitorch.autograd.grad(loss_c, [x, lin.weight, lin.bias])
        g_e = minitorch.autograd.grad(loss_e, [x, lin.weight, lin.bias])
        for u, v in zip(g_c, g_e):
            np.testing.assert_allclose(to_np(u), to_np(v), rtol=1e-5, atol=1e-6)
    a, _ = c(x)
    with pytest.raises(RuntimeError, match="second derivative"):
        minitorch.autograd.grad(a.sum(), [x], create_graph=True)
    a, _ = c(x)
    a.sum().backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        a.sum().backward()


def test_compiled_backward_counts_a_path_through_another_inputs_history_once():
    # inputs and constants whose own histories lead to one another: the compiled backward gives each one's own
    # gradient and the engine carries it on through that history (a total derivative counted the path twice)
    w = minitorch.tensor([1.0, -2.0, 3.0], requires_grad=True)
    w2 = w * 2  # a constant the function reads, with history back to w

    def f(a, b):
        return (a * b).sum() + (b * b * w2).sum()

    c = minitorch.compile(f)
    for call in range(4):
        for fn in (f, c):
            w.grad = None
            x = minitorch.tensor([0.5, 1.0, 2.0 + call], requires_grad=True)
            y = x * 3 + w  # the second input's history leads to the first and to w
            out = fn(x, y)
            out.backward(retain_graph=True)  # (w2's history is walked on every call)
            if fn is f:
                want = out.item(), to_np(x.grad), to_np(w.grad)
        assert out.item() == pytest.approx(want[0])
        np.testing.assert_allclose(to_np(x.grad), want[1], rtol=1e-6)
        np.testing.assert_allclose(to_np(w.grad), want[2], rtol=1e-6)
    assert out.grad_fn.name() == "CompiledFunctionBackward"


def test_tensor_hooks_and_retain_grad_inside_and_outside_a_compiled_call_run_once_per_backward():
    lin = nn.Linear(3, 2)
    calls = []
    lin.weight.register_hook(lambda g: (calls.append(1), g * 10)[1])  # a parameter's hook, set before

    def f(x, hooked):
        y = lin(x) * 2
        if hooked:
            y.register_hook(lambda g: g * 5)  # set inside: a break there, so it is set again on every call
            y.retain_grad()
        return y.pow(2).sum(), y

    c = minitorch.compile(f)
    for hooked in (False, False, True, True, True):
        got = []
        for fn in (f, c):
            lin.zero_grad()
            x = minitorch.ones(2, 3, requires_grad=True)
            x.register_hook(lambda g: g * 3)  # an input's hook, set outside
            out, y = fn(x, hooked)
            out.backward()
            got.append((to_np(lin.weight.grad), to_np(x.grad), None if y.grad is None else to_np(y.grad)))
        for a, b in zip(*got):
            if a is None or b is None:
                assert a is None and b is None
            else:
                np.testing.assert_allclose(b, a, rtol=1e-6)
    assert len(calls) == 10  # once per backward (was: also once inside each recorded backward, then twice)


def test_a_leaf_made_inside_a_compiled_call_gets_its_gradient_on_every_call():
    def f(x):
        y = x * 2
        z = y.detach().requires_grad_(True)  # a new leaf, made by the call
        return (y * z).sum(), z

    c = minitorch.compile(f)
    for n in (2, 2, 3, 2, 2):
        got = []
        for fn in (f, c):
            x = minitorch.arange(float(3 * n)).reshape(n, 3).requires_grad_()
            out, z = fn(x)
            out.backward()  # (replays raised AttributeError)
            got.append((out.item(), to_np(x.grad), to_np(z.grad)))
        assert got[0][0] == pytest.approx(got[1][0])
        for a, b in zip(got[0][1:], got[1][1:]):
            np.testing.assert_allclose(b, a, rtol=1e-6)


@pytest.mark.parametrize("rg", [False, True])
def test_indexing_with_tensors_and_masks_follows_each_calls_indices(rg):
    # an advanced index keeps offsets computed from this call's index tensors, and a mask's result has as many
    # elements as the mask has True values: both are breaks (the graph replayed the capture's indices and sizes)
    def by_index(x, idx):
        return (x[idx] * 3).sum(0)

    def by_mask(x):
        return (x[x > 0.5] * 3).sum()

    def by_nonzero(x):
        return minitorch.nonzero(x > 0.5).sum(0)

    cases = [(by_index, lambda k: (minitorch.tensor([[0, 1], [2, 3], [3, 3], [1, 0]][k]),)),
             (by_mask, lambda k: ()), (by_nonzero, lambda k: ())]
    for fn, extra in cases:
        c = minitorch.compile(fn)
        for k, v in enumerate([[1.0, 0, 1, 0], [0, 1.0, 0, 1], [0, 1.0, 1, 1], [1.0, 0, 1, 0]]):
            got = []
            for run in (fn, c):
                x = minitorch.tensor(v).reshape(4, 1).expand(4, 3).contiguous().requires_grad_(rg)
                out = run(x, *extra(k))
                if rg and out.requires_grad:
                    out.sum().backward()
                got.append((to_np(out), None if x.grad is None else to_np(x.grad)))
            np.testing.assert_array_equal(got[1][0], got[0][0])
            if rg and fn is not by_nonzero:
                np.testing.assert_array_equal(got[1][1], got[0][1])
    with pytest.raises(CompileError, match="depends on the values"):
        minitorch.compile(by_mask, fullgraph=True)(minitorch.ones(4, 3, requires_grad=rg))


def test_outputs_in_objects_and_dict_subclasses_and_randperm_are_each_calls():
    import collections
    import dataclasses

    @dataclasses.dataclass
    class Out:
        y: object

    def f(x):
        return Out(x * 2), collections.OrderedDict(a=x + 1), minitorch.randperm(5)

    c = minitorch.compile(f)
    for k in range(4):
        x = minitorch.full((2,), float(k))
        minitorch.manual_seed(k)
        want = f(x)
        minitorch.manual_seed(k)
        got = c(x)
        assert got[0].y.tolist() == want[0].y.tolist()  # (was: the first call's object)
        assert type(got[1]) is collections.OrderedDict and got[1]["a"].tolist() == want[1]["a"].tolist()
        assert got[2].tolist() == want[2].tolist()  # (was: the capture's permutation on every call)


def test_a_reseed_inside_a_compiled_function_is_done_on_every_call():
    def f(x):
        minitorch.manual_seed(3)
        return x + minitorch.randn(3)

    c = minitorch.compile(f)
    want = f(minitorch.zeros(3))
    after = minitorch.rand(1)
    for _ in range(3):
        same = c(minitorch.zeros(3))
        np.testing.assert_array_equal(to_np(same), to_np(want))
        np.testing.assert_array_equal(to_np(minitorch.rand(1)), to_np(after))  # the stream after it too
    gen = minitorch.Generator()

    def g(x):
        gen.manual_seed(5)
        return x * minitorch.rand(3, generator=gen)

    c = minitorch.compile(g)
    want = g(minitorch.ones(3))
    for _ in range(3):
        np.testing.assert_array_equal(to_np(c(minitorch.ones(3))), to_np(want))
    with pytest.raises(CompileError, match="random generator seeded"):
        minitorch.compile(g, fullgraph=True)(minitorch.ones(3))

    def replays(x):  # the state read and set again: the same draws twice (the read was a constant of the capture)
        state = minitorch.get_rng_state()
        a = minitorch.rand(3)
        minitorch.set_rng_state(state)
        return x + a - minitorch.rand(3)

    c = minitorch.compile(replays)
    for i in range(4):
        minitorch.manual_seed(i)
        np.testing.assert_array_equal(to_np(c(minitorch.zeros(3))), np.zeros(3, np.float32))
        minitorch.manual_seed(i)
        minitorch.rand(3)
        want = minitorch.rand(1)
        minitorch.manual_seed(i)
        c(minitorch.zeros(3))
        np.testing.assert_array_equal(to_np(minitorch.rand(1)), to_np(want))


def test_backward_of_ops_keeping_tensors_in_their_contexts_is_compiled_whole(device):
    # layer norm keeps its per-row mean and rstd in its context, cross-entropy its log-softmax, attention its
    # softmax statistics: the nodes hand them out, so the backward compiles and gives eager's gradients every call
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(4, 8)
            self.norm = nn.LayerNorm(8)
            self.attn = nn.MultiheadAttention(8, 2, batch_first=True)
            self.out = nn.Linear(8, 5)

        def forward(self, x, y):
            h = self.norm(self.lin(x)).tanh()
            h = h + self.attn(h, h, h, need_weights=False)[0]
            return F.cross_entropy(self.out(h).reshape(-1, 5), y.reshape(-1))

    minitorch.manual_seed(0)
    m = Net().to(device)
    c = minitorch.compile(m)
    gen = minitorch.Generator().manual_seed(3)
    for step in range(3):
        x = minitorch.randn(2, 3, 4, generator=gen).to(device)
        y = minitorch.randint(0, 5, (2, 3), generator=gen).to(device)
        m.zero_grad()
        loss_c = c(x, y)
        loss_c.backward()
        g_c = [p.grad.cpu().numpy().copy() for p in m.parameters()]
        m.zero_grad()
        loss_e = m(x, y)
        loss_e.backward()
        assert abs(loss_c.item() - loss_e.item()) < 1e-6
        for u, p in zip(g_c, m.parameters()):
            np.testing.assert_allclose(u, p.grad.cpu().numpy(), rtol=1e-5, atol=1e-6)
    (entry,) = c._compiled._entries.values()
    assert entry.backward is not None
    extras = [n for n in entry.graph.nodes if n.extras]
    assert {n.name for n in extras} >= {"layer_norm", "cross_entropy"}
    assert {"LayerNorm.backward", "_CrossEntropy2d.backward"} <= {n.name for n in entry.backward.nodes}


def test_contexts_keeping_only_graph_values_are_recorded_op_by_op_and_the_others_whole(device):
    # a pre-norm transformer block: the linears, GELU and permutes keep only tensors of the graph (their inputs), so
    # their backward is recorded op by op and their forward replays without autograd; layer norm (statistics) and
    # attention (softmax statistics, kernels started by its own backward) are still called whole
    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(11, 8)
            self.layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, activation="gelu", batch_first=True,
                                                    norm_first=True)
            self.head = nn.Linear(8, 11)

        def forward(self, idx, mask):
            return self.head(self.layer(self.emb(idx), src_mask=mask))

    minitorch.manual_seed(0)
    m = Block().to(device)
    c = minitorch.compile(m)
    mask = minitorch.triu(minitorch.ones(3, 3, dtype=minitorch.bool), diagonal=1).to(device)
    gen = minitorch.Generator().manual_seed(5)
    for step in range(3):
        idx = minitorch.randint(0, 11, (2, 3), generator=gen).to(device)
        y = minitorch.randint(0, 11, (6,), generator=gen).to(device)
        grads = []
        for fn in (c, m):
            m.zero_grad()
            loss = F.cross_entropy(fn(idx, mask).reshape(-1, 11), y)
            loss.backward()
            grads.append([p.grad.cpu().numpy().copy() for p in m.parameters()])
        for name, u, v in zip([n for n, _ in m.named_parameters()], *grads):
            np.testing.assert_allclose(u, v, rtol=1e-5, atol=1e-6, err_msg=name)
    (entry,) = c._compiled._entries.values()
    whole = {n.name for n in entry.backward.nodes if n.kind == "backward"}
    assert {"LayerNorm.backward", "PackedSDPA.backward"} <= whole
    assert not whole & {"Gelu.backward", "Permute.backward", "Embedding.backward"}
    assert "linear_backward" in {n.name for n in entry.backward.nodes if n.kind == "launcher"}
    with_contexts = {n.name for n in entry.graph.nodes if n.extras}
    assert with_contexts == {"layer_norm", "multi_head_attention_forward"}
    # the head and the feed-forward linears replay without autograd (on the CPU the first with its GELU in one
    # launch)
    fused = int(device == "cpu")
    assert sum(n.name == "linear" and not n.extras for n in entry.graph.nodes) == 3 - fused
    assert sum(n.name == "linear_gelu" for n in entry.graph.nodes) == fused


def test_compiled_optimizer_step_is_one_node_with_hooks_schedules_and_state_like_eager():
    def run(compiled):
        minitorch.manual_seed(0)
        model = nn.Linear(4, 3)
        opt = minitorch.optim.AdamW(model.parameters(), lr=0.1)
        sched = minitorch.optim.lr_scheduler.StepLR(opt, 1, gamma=0.5)
        calls = []
        opt.register_step_post_hook(lambda o, a, k: calls.append(o.param_groups[0]["lr"]))
        step = minitorch.compile(opt.step, fullgraph=True) if compiled else opt.step
        for i in range(4):
            opt.zero_grad()
            model(minitorch.ones(2, 4) * (i + 1)).pow(2).sum().backward()
            step()
            sched.step()
        return model.weight.detach().numpy(), calls, step
    want, calls_e, _ = run(False)
    got, calls_c, step = run(True)
    np.testing.assert_allclose(got, want, rtol=1e-6)
    assert calls_c == calls_e == [0.1, 0.05, 0.025, 0.0125]
    (graph,) = step.graphs
    assert [n.kind + "." + n.name for n in graph.nodes] == ["optimizer.AdamW.step"]
    with pytest.raises(CompileError, match="closure"):
        m = nn.Linear(2, 1)
        o = minitorch.optim.SGD(m.parameters(), lr=0.1)
        minitorch.compile(lambda: o.step(lambda: m(minitorch.ones(1, 2)).sum()), fullgraph=True)()


def test_resnet18_trains_compiled_like_eager_with_its_backward_compiled():
    # convolutions, batch norm (running statistics), in-place ReLU and adaptive pooling: every context the
    # backward calls is the current call's; losses, gradients and buffers match eager exactly
    from minitorch.vision import models

    def run(compiled):
        minitorch.manual_seed(0)
        model = models.resnet18(num_classes=10)
        fn = minitorch.compile(model) if compiled else model
        opt = minitorch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        gen = minitorch.Generator().manual_seed(1)
        losses = []
        for _ in range(3):
            x, y = minitorch.randn(2, 3, 32, 32, generator=gen), minitorch.randint(0, 10, (2,), generator=gen)
            opt.zero_grad()
            loss = F.cross_entropy(fn(x), y)
            loss.backward()
            opt.step()
            losses.append(loss.item())
        return losses, model, fn
    want, eager, _ = run(False)
    got, model, fn = run(True)
    np.testing.assert_allclose(got, want, rtol=1e-6)
    for (k, a), b in zip(model.state_dict().items(), eager.state_dict().values()):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6, err_msg=k)
    (entry,) = fn._compiled._entries.values()
    assert entry.backward is not None


def test_reads_after_an_in_place_write_through_another_view_see_the_new_values():
    def f(x):
        buf = minitorch.zeros(4)
        head = buf[:2]
        a = head.exp()
        buf[0:2] = x            # written through another view of the same storage
        b = head.exp()          # the same expression as a, on the written memory
        return a, b

    c = minitorch.compile(f)
    x = minitorch.tensor([1.0, 2.0])
    c(x)
    a, b = c(x)
    assert a.tolist() == [1.0, 1.0]
    np.testing.assert_allclose(to_np(b), np.exp([1.0, 2.0]), rtol=1e-6)


class _PreNormBlocks(nn.Module):
    """Token and position embeddings added, then pre-norm residual blocks: each residual sum is read by the next
    block's LayerNorm and by the next residual add."""

    def __init__(self, width=16, affine=True):
        super().__init__()
        self.tok = nn.Embedding(11, width)
        self.pos = nn.Embedding(6, width)
        self.norms = nn.ModuleList([nn.LayerNorm(width, elementwise_affine=affine) for _ in range(3)])
        self.lins = nn.ModuleList([nn.Linear(width, width) for _ in range(2)])

    def forward(self, idx):
        h = self.tok(idx) + self.pos(minitorch.arange(idx.shape[1]))
        for norm, lin in zip(self.norms, self.lins):
            h = h + lin(norm(h)).tanh()
        return self.norms[-1](h * 0.5)  # (the loop stops at the last linear)


@pytest.mark.parametrize("dtype,affine", [(minitorch.float32, True), (minitorch.float64, True),
                                          (minitorch.float32, False)])
def test_layer_norm_fuses_with_the_chain_before_it_in_a_compiled_training_step(dtype, affine):
    minitorch.manual_seed(3)
    model = _PreNormBlocks(affine=affine).to(dtype)
    c = minitorch.compile(model)
    idx = minitorch.randint(0, 11, (5, 6))
    seed = minitorch.randn(5, 6, 16, dtype=dtype)
    _check_compiled_training(c, model, model, idx, lambda y: (y * seed).sum(), dtype)
    (entry,) = c._compiled._entries.values()
    assert entry.backward is not None
    fused = [n for n in entry.graph.nodes if n.name.endswith("_layer_norm")]
    assert not any(n.name == "layer_norm" for n in entry.graph.nodes)
    # the last residual sum is scaled before the final norm: both join it
    assert [n.name for n in fused] == ["fused_add_layer_norm"] * 2 + ["fused_add_mul_layer_norm"]
    # the sums read by the next residual add stay outputs of the fused nodes; the layer norm's context is handed
    # to the compiled backward, which calls LayerNorm's backward on it
    assert all(len(n.outputs) == 3 for n in fused)
    assert sum(n.name == "LayerNorm.backward" for n in entry.backward.nodes) == 3


@pytest.mark.parametrize("dtype", [minitorch.float32, minitorch.float64])
def test_fused_layer_norm_gives_eager_values_exactly_without_grad(dtype):
    minitorch.manual_seed(4)
    w, b = minitorch.randn(24, dtype=dtype), minitorch.randn(24, dtype=dtype)
    bias = minitorch.randn(24, dtype=dtype)

    def f(x, y):
        s = (x * 1.5 - bias) + y  # (ops the generated code rounds as eager does)
        return F.layer_norm(s, (24,), w, b, eps=1e-3), s
    c = minitorch.compile(f)
    x, y = minitorch.randn(7, 3, 24, dtype=dtype), minitorch.randn(7, 3, 24, dtype=dtype)
    with minitorch.no_grad():
        for _ in range(2):
            got, s_c = c(x, y)
        want, s_e = f(x, y)
    np.testing.assert_array_equal(got.numpy(), want.numpy())
    np.testing.assert_array_equal(s_c.numpy(), s_e.numpy())
    (g,) = c.graphs
    assert [n.name for n in g.nodes] == ["fused_mul_sub_add_layer_norm"]
    # with grad on the backward is compiled too: the forward graph (no autograd) fuses the layer norm the same way
    c2 = minitorch.compile(f)
    x.requires_grad_(True)
    for _ in range(2):
        x.grad = None
        got2, _ = c2(x, y)
        got2.pow(2).sum().backward()
    (entry,) = c2._entries.values()
    assert [n.name for n in entry.graph.nodes] == ["fused_mul_sub_add_layer_norm"] and entry.backward is not None
    gx = x.grad.numpy().copy()
    x.grad = None
    f(x, y)[0].pow(2).sum().backward()
    np.testing.assert_array_equal(got2.detach().numpy(), want.numpy())
    np.testing.assert_allclose(gx, x.grad.numpy(), rtol=1e-5, atol=1e-5)


def test_layer_norm_over_two_dimensions_fuses_unless_a_broadcast_input_is_shorter_than_a_row():
    minitorch.manual_seed(5)
    x = minitorch.randn(3, 4, 8)
    row, col = minitorch.randn(4, 8), minitorch.randn(8)
    fa = minitorch.compile(lambda x: F.layer_norm(x - row, (4, 8)))
    fb = minitorch.compile(lambda x: F.layer_norm(x - col, (4, 8)))
    with minitorch.no_grad():
        for _ in range(2):
            ya, yb = fa(x), fb(x)
    np.testing.assert_array_equal(ya.numpy(), F.layer_norm(x - row, (4, 8)).numpy())
    np.testing.assert_array_equal(yb.numpy(), F.layer_norm(x - col, (4, 8)).numpy())
    assert [n.name for n in fa.graphs[0].nodes] == ["fused_sub_layer_norm"]
    assert [n.name for n in fb.graphs[0].nodes] == ["binary", "layer_norm"]


class _SwiGLU(nn.Module):
    """A gated SiLU feed-forward block (as LLaMA-style models write it) between layer norms."""

    def __init__(self, width=24, hidden=40):
        super().__init__()
        self.norm = nn.LayerNorm(width)
        self.gate, self.up = nn.Linear(width, hidden), nn.Linear(width, hidden)
        self.down = nn.Linear(hidden, width)
        self.act = nn.SiLU()
        self.head = nn.Linear(width, 7)

    def forward(self, x):
        h = self.norm(x)
        h = x + self.down(self.act(self.gate(h)) * self.up(h))
        return self.head(self.norm(h))


@pytest.mark.parametrize("dtype", [minitorch.float32, minitorch.float64])
def test_silu_after_linear_is_one_launch_with_eager_numbers(dtype):
    minitorch.manual_seed(7)
    model = _SwiGLU().to(dtype)
    c = minitorch.compile(model)
    x = minitorch.randn(3, 5, 24, dtype=dtype)
    x[0, 0, 0] = float("nan")  # NaN passes SiLU, as eager
    with minitorch.no_grad():
        for _ in range(2):
            got = c(x)
        want = model(x)
    np.testing.assert_array_equal(got.numpy(), want.numpy())
    assert np.isnan(want.numpy()[0, 0]).all() and np.isfinite(want.numpy()[1:]).all()
    (g,) = c._compiled.graphs
    names = [n.name for n in g.nodes]
    assert names.count("linear_silu") == 1 and "sigmoid" not in " ".join(names)
    # in a compiled training step the backward reads the pre-activation: the launch gives it too
    seed = minitorch.randn(3, 5, 7, dtype=dtype)
    x = minitorch.randn(3, 5, 24, dtype=dtype)
    c2 = minitorch.compile(model)
    _check_compiled_training(c2, model, model, x, lambda y: (y * seed).sum(), dtype)
    (entry,) = c2._compiled._entries.values()
    fused = [n for n in entry.graph.nodes if n.name == "linear_silu"]
    assert entry.backward is not None and len(fused) == 1 and len(fused[0].outputs) == 2


@pytest.mark.parametrize("loss_name", ["mse", "cross_entropy"])
def test_a_whole_training_step_breaks_at_its_backward_and_compiles_the_model_it_calls(loss_name):
    """loss.backward() inside the compiled call is a graph break (as for PyTorch's compiler): the step runs with
    the model compiled, forward and backward, and trains exactly as eager."""
    def run(compiled, fullgraph=False):
        minitorch.manual_seed(0)
        model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
        opt = minitorch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

        def step(x, y):
            opt.zero_grad(True)
            out = model(x)
            loss = F.mse_loss(out, F.one_hot(y, 3).float()) if loss_name == "mse" else F.cross_entropy(out, y)
            loss.backward()
            opt.step()
            return loss
        fn = minitorch.compile(step, fullgraph=fullgraph, mode="reduce-overhead") if compiled else step
        x, y = minitorch.randn(6, 4, generator=minitorch.Generator().manual_seed(1)), minitorch.tensor([0, 1, 2] * 2)
        losses = [fn(x, y) for _ in range(4)]
        return [float(v) for v in losses], losses[-1], fn
    want, _, _ = run(False)
    got, last, fn = run(True)
    np.testing.assert_allclose(got, want, rtol=1e-6)
    assert len(set(got)) == 4 and last.grad_fn is not None
    (entry,) = fn._entries.values()
    assert entry.split and "backward pass inside the compiled call" in str(entry.brk)
    assert entry.resume is not None and entry.resume.lines[1][0] == entry.resume.lines[1][1]  # cut at its line
    head, tail = fn._parts()
    (child,) = head._entries.values()
    assert child.backward is not None  # the model's forward and backward both replay compiled
    assert [n.name for n in tail.graphs[0].nodes] == ["SGD.step"]
    with pytest.raises(CompileError, match="backward pass inside the compiled call"):
        run(True, fullgraph=True)


def test_torch_dynamo_names_scripts_call_around_compile(monkeypatch):
    import minitorch._dynamo as dynamo
    from minitorch.compiler import api
    assert minitorch._dynamo is dynamo

    def bar(a, b):
        x = a / (minitorch.abs(a) + 1)
        if b.sum() < 0:
            b = b * -1
        return x * b
    a, b = minitorch.randn(10), minitorch.randn(10)
    for out in (dynamo.explain(bar)(a, b), dynamo.explain(bar, a, b)):  # PyTorch 2.1's form and the earlier one
        # the branch on b's value is a guard: one graph, for the path this call took
        assert out.graph_count == 1 and out.graph_break_count == 0 and len(out.guards) == 1
    c = minitorch.compile(lambda x: x * 2)
    c(a)
    assert len(c.graphs) == 1
    dynamo.reset()
    assert len(c.graphs) == 0
    monkeypatch.setattr(api, "CACHE_SIZE_LIMIT", api.CACHE_SIZE_LIMIT)
    dynamo.config.cache_size_limit = 2
    assert api.CACHE_SIZE_LIMIT == 2 and dynamo.config.cache_size_limit == 2
    f = minitorch.compile(lambda x, k: x * k, dynamic=False)
    f(a, 1), f(a, 2)
    with pytest.warns(UserWarning, match="cache_size_limit=2"):
        assert f(a, 3).tolist() == (a * 3).tolist()
    with pytest.raises(ValueError, match="positive int"):
        dynamo.config.cache_size_limit = 0


def test_a_branch_after_a_batch_norm_updates_its_statistics_once_per_call():
    # the running statistics are written inside the batch norm's op: a side effect, so the branch is a break
    minitorch.manual_seed(0)
    bn = nn.BatchNorm1d(3)

    def f(x):
        h = bn(x)
        return h * 2 if h.sum() > 0 else h

    c = minitorch.compile(f)
    ref = nn.BatchNorm1d(3)
    for k in range(4):
        x = minitorch.randn(5, 3) + k
        got, want = c(x), (lambda h: h * 2 if h.sum() > 0 else h)(ref(x))
        np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(bn.running_mean.numpy(), ref.running_mean.numpy(), rtol=1e-6)
    (entry,) = c._entries.values()
    assert entry.graph is None and "side effects" in str(entry.brk)


def test_other_paths_check_host_read_constants_and_random_draws_inside_ops_forbid_guards():
    scale = minitorch.tensor([1.0])

    def f(x):
        return x * scale.item() if x.sum() > 0 else x * 3

    c = minitorch.compile(f)
    pos, neg = minitorch.ones(3), -minitorch.ones(3)
    c(pos), c(neg)   # both paths captured
    scale.fill_(5.0)
    assert c(pos).tolist() == [5.0] * 3

    def g(q):  # attention's dropout draws inside the op: a replay stopped at the guard would draw twice
        o = F.scaled_dot_product_attention(q, q, q, dropout_p=0.5)
        return o * 2 if q.sum() > 0 else o * 3

    def run(fn):
        minitorch.manual_seed(0)
        outs = [fn(minitorch.ones(1, 4, 3) * s).numpy().copy() for s in (1, -1, 1, -1)]
        return outs + [minitorch.rand(3).numpy()]
    for u, v in zip(run(minitorch.compile(g)), run(g)):
        np.testing.assert_allclose(u, v, rtol=1e-6)


def test_a_stateless_module_made_per_call_stays_eager_even_used_twice_and_need_not_be_hashable():
    class Scale(nn.Module):
        def __init__(self, k):
            super().__init__()
            self.k = k

        def forward(self, x):
            return x * self.k

        def __eq__(self, other):  # (not hashable, as a dataclass)
            return isinstance(other, Scale) and other.k == self.k

    model = nn.Linear(4, 4)
    kept = Scale(2.0)

    def step(x):
        act = nn.Tanh()
        h = kept(act(model(act(model(x)))))
        h.sum().item()  # a break: the call is cut there
        return h

    c = minitorch.compile(step)
    x = minitorch.randn(3, 4)
    for _ in range(4):
        np.testing.assert_allclose(c(x).detach().numpy(), step(x).detach().numpy(), rtol=1e-6)
    head = c._parts()[0]
    assert len(head._entries) == 1  # the module made per call does not capture again
    # run eagerly (a break the function cannot be cut at), the modules it calls compile on their own
    c = minitorch.compile(lambda x: step(x) * 1)
    for _ in range(4):
        np.testing.assert_allclose(c(x).detach().numpy(), step(x).detach().numpy(), rtol=1e-6)
    assert sorted(type(ch._module).__name__ for ch in c._children.values()) == ["Linear", "Scale"]
