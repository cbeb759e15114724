"""The remaining torch.nn layers against PyTorch: max unpooling, the *_with_indices pooling forms, fractional max
pooling, conv padding modes, lazy modules with UninitializedParameter/Buffer and nn.Buffer,
AdaptiveLogSoftmaxWithLoss, NLLLoss2d and CrossMapLRN2d (values, gradients, state_dict, reprs, user errors), on
every device (CUDA on the simulator with tiny shapes)."""
import re

import numpy as np
import pytest

import minitorch
import minitorch.nn as nn
import minitorch.nn.functional as F

pytestmark = pytest.mark.torch

RNG = np.random.default_rng(5)


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def to_np(t):
    return t.detach().cpu().numpy()


def pair(torch, a, device, grad=True, dtype=None):
    """The same array as a torch leaf and a minitorch leaf on ``device``."""
    ta = torch.tensor(a, requires_grad=grad and a.dtype.kind == "f")
    ma = minitorch.tensor(a, requires_grad=grad and a.dtype.kind == "f", device=device)
    return ta, ma


def close(m, t, atol=1e-5):
    np.testing.assert_allclose(to_np(m), t.detach().cpu().numpy(), rtol=1e-5, atol=atol)


def copy_params(torch_module, mini_module, device):
    mini_module.load_state_dict({k: minitorch.tensor(v.detach().numpy(), device=device)
                                 for k, v in torch_module.state_dict().items()})


def both_raise(torch_fn, mini_fn, exc):
    """Both calls raise ``exc``; the minitorch message equals PyTorch's."""
    with pytest.raises(exc) as te:
        torch_fn()
    with pytest.raises(exc, match="^" + re.escape(str(te.value).replace("torch.", "minitorch.")) + "$"):
        mini_fn()


# ---------------------------------------------------------------------------------------------------------------
# max unpooling and the *_with_indices forms
# ---------------------------------------------------------------------------------------------------------------
UNPOOL_CASES = [
    (1, (2, 3, 8), dict(kernel_size=2), None),
    (1, (3, 7), dict(kernel_size=3, stride=2, padding=1), None),
    (2, (2, 2, 6, 5), dict(kernel_size=2), (7, 5)),
    (2, (2, 5, 6), dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 0)), None),
    (3, (1, 2, 4, 4, 6), dict(kernel_size=2), None),
    (3, (2, 5, 4, 6), dict(kernel_size=(1, 2, 3), stride=(1, 2, 2), padding=(0, 1, 1)), (5, 4, 6)),
]


@pytest.mark.parametrize("n,shape,kw,output_size", UNPOOL_CASES)
def test_max_unpool_matches_torch(torch, device, n, shape, kw, output_size):
    a = RNG.standard_normal(shape)
    tx, mx = pair(torch, a, device)
    tpool = getattr(torch.nn.functional, f"max_pool{n}d_with_indices")
    mpool = getattr(F, f"max_pool{n}d_with_indices")
    tv, ti = tpool(tx, **kw)
    mv, mi = mpool(mx, **kw)
    close(mv, tv)
    np.testing.assert_array_equal(to_np(mi), ti.numpy())
    tout = getattr(torch.nn.functional, f"max_unpool{n}d")(tv, ti, **kw, output_size=output_size)
    mout = getattr(F, f"max_unpool{n}d")(mv, mi, **kw, output_size=output_size)
    assert tuple(mout.shape) == tuple(tout.shape)
    close(mout, tout)
    g = RNG.standard_normal(tuple(tout.shape))
    tout.backward(torch.tensor(g))
    mout.backward(minitorch.tensor(g, device=device))
    close(mx.grad, tx.grad)
    # the module form
    tm = getattr(torch.nn, f"MaxUnpool{n}d")(**kw)
    mm = getattr(nn, f"MaxUnpool{n}d")(**kw)
    assert repr(mm) == repr(tm)
    close(mm(mv, mi, output_size), tm(tv, ti, output_size))


def test_max_unpool_full_output_size_and_bounds(torch):
    x = RNG.standard_normal((1, 1, 4, 4))
    tv, ti = torch.nn.functional.max_pool2d(torch.tensor(x), 2, return_indices=True)
    mv, mi = F.max_pool2d(minitorch.tensor(x), 2, return_indices=True)
    for size in [(1, 1, 5, 5), (5, 5), (1, 1, 4, 4)]:
        close(F.max_unpool2d(mv, mi, 2, output_size=size), torch.nn.functional.max_unpool2d(tv, ti, 2,
                                                                                          output_size=size))
    for size in [(2, 2), (6, 6), (1, 2, 3)]:
        both_raise(lambda: torch.nn.functional.max_unpool2d(tv, ti, 2, output_size=size),
                   lambda: F.max_unpool2d(mv, mi, 2, output_size=size), ValueError)


def test_max_unpool_user_errors(torch):
    x = RNG.standard_normal((1, 1, 4, 4))
    tv, ti = torch.nn.functional.max_pool2d(torch.tensor(x), 2, return_indices=True)
    mv, mi = F.max_pool2d(minitorch.tensor(x), 2, return_indices=True)
    TF = torch.nn.functional
    cases = [
        (lambda: TF.max_unpool2d(tv, ti * 10, 2), lambda: F.max_unpool2d(mv, mi * 10, 2)),
        (lambda: TF.max_unpool2d(tv, -ti - 1, 2), lambda: F.max_unpool2d(mv, -mi - 1, 2)),
        (lambda: TF.max_unpool2d(tv, ti.float(), 2), lambda: F.max_unpool2d(mv, mi.float(), 2)),
        (lambda: TF.max_unpool2d(tv, ti[..., :1], 2), lambda: F.max_unpool2d(mv, mi[..., :1], 2)),
        (lambda: TF.max_unpool2d(tv[0, 0], ti[0, 0], 2), lambda: F.max_unpool2d(mv[0, 0], mi[0, 0], 2)),
        (lambda: TF.max_unpool3d(tv[0], ti[0], 2), lambda: F.max_unpool3d(mv[0], mi[0], 2)),
        (lambda: TF.max_unpool1d(tv[0], ti[0] * 10, 2), lambda: F.max_unpool1d(mv[0], mi[0] * 10, 2)),
        (lambda: TF.max_unpool3d(tv[None], ti[None] * 10, 2), lambda: F.max_unpool3d(mv[None], mi[None] * 10, 2)),
    ]
    for tf, mf in cases:
        with pytest.raises(RuntimeError) as te:
            tf()
        # which bad index PyTorch names depends on its loop order (it varies); the rest of the message must match
        msg = str(te.value)
        parts = re.match(r"(.*index: )-?\d+(.*)", msg, re.S)
        pattern = re.escape(parts[1]) + r"-?\d+" + re.escape(parts[2]) if parts else re.escape(msg)
        with pytest.raises(RuntimeError, match="^" + pattern + "$"):
            mf()


@pytest.mark.parametrize("n,shape,out", [(1, (2, 3, 7), 3), (2, (2, 3, 7, 5), (3, 2)), (2, (3, 5, 6), (None, 4)),
                                         (3, (1, 2, 3, 5, 4), (2, 3, 3))])
def test_adaptive_max_pool_with_indices(torch, device, n, shape, out):
    a = RNG.standard_normal(shape)
    tx, mx = pair(torch, a, device)
    tv, ti = getattr(torch.nn.functional, f"adaptive_max_pool{n}d_with_indices")(tx, out)
    mv, mi = getattr(F, f"adaptive_max_pool{n}d_with_indices")(mx, out)
    close(mv, tv)
    np.testing.assert_array_equal(to_np(mi), ti.numpy())
    # the return_indices=True path of the plain function and the module
    mv2, mi2 = getattr(F, f"adaptive_max_pool{n}d")(mx, out, return_indices=True)
    np.testing.assert_array_equal(to_np(mi2), ti.numpy())
    mv3, mi3 = getattr(nn, f"AdaptiveMaxPool{n}d")(out, return_indices=True)(mx)
    np.testing.assert_array_equal(to_np(mi3), ti.numpy())
    g = RNG.standard_normal(tuple(tv.shape))
    tv.backward(torch.tensor(g))
    mv.backward(minitorch.tensor(g, device=device))
    close(mx.grad, tx.grad)


def test_adaptive_max_pool2d_indices_errors(torch):
    TF = torch.nn.functional
    for shape, out in [((2, 3), 2), ((2, 3, 0, 4), 2), ((2, 3, 5, 4), -1), ((2, 3, 5, 4), (1, 2, 3)),
                       ((3, 5, 4), (None, -2))]:
        a = np.zeros(shape, dtype="float32")
        both_raise(lambda: TF.adaptive_max_pool2d(torch.tensor(a), out, return_indices=True),
                   lambda: F.adaptive_max_pool2d(minitorch.tensor(a), out, return_indices=True), RuntimeError)
        both_raise(lambda: TF.adaptive_max_pool2d_with_indices(torch.tensor(a), out),
                   lambda: F.adaptive_max_pool2d_with_indices(minitorch.tensor(a), out), RuntimeError)


def test_with_indices_ignore_return_indices(torch):
    a = RNG.standard_normal((1, 2, 6, 6))
    for n in (2,):
        r = F.max_pool2d_with_indices(minitorch.tensor(a), 2, return_indices=False)
        t = torch.nn.functional.max_pool2d_with_indices(torch.tensor(a), 2, return_indices=False)
        assert isinstance(r, tuple) and len(r) == len(t) == 2
        np.testing.assert_array_equal(to_np(r[1]), t[1].numpy())


# ---------------------------------------------------------------------------------------------------------------
# fractional max pooling
# ---------------------------------------------------------------------------------------------------------------
FRACTIONAL_CASES = [
    (2, (2, 3, 7, 9), (2, 2), dict(output_size=(3, 4)), "float32"),
    (2, (2, 3, 7, 9), (2, 3), dict(output_ratio=(0.5, 0.7)), "float32"),
    (2, (3, 8, 8), 3, dict(output_size=6), "float64"),
    (2, (1, 2, 5, 5), 2, dict(output_size=1), "float64"),
    (2, (1, 2, 6, 9), 2, dict(output_size=(5, 8)), "float32"),
    (3, (2, 2, 5, 7, 6), (2, 3, 2), dict(output_size=(3, 3, 4)), "float64"),
    (3, (2, 4, 6, 5), 2, dict(output_ratio=(0.5, 0.5, 0.5)), "float32"),
    (3, (1, 2, 6, 4, 5), 2, dict(output_ratio=0.6), "float64"),
]


@pytest.mark.parametrize("n,shape,k,kw,dt", FRACTIONAL_CASES)
def test_fractional_max_pool_matches_torch(torch, device, n, shape, k, kw, dt):
    a = RNG.standard_normal(shape).astype(dt)
    batch = shape[0] if len(shape) == n + 2 else 1
    C = shape[-n - 1]
    s = RNG.random((batch, C, n)).astype(dt)
    tx, mx = pair(torch, a, device)
    ts, ms = torch.tensor(s), minitorch.tensor(s, device=device)
    tv, ti = getattr(torch.nn.functional, f"fractional_max_pool{n}d")(tx, k, return_indices=True,
                                                                       _random_samples=ts, **kw)
    mv, mi = getattr(F, f"fractional_max_pool{n}d")(mx, k, return_indices=True, _random_samples=ms, **kw)
    assert tuple(mv.shape) == tuple(tv.shape)
    close(mv, tv)
    np.testing.assert_array_equal(to_np(mi), ti.numpy())
    g = RNG.standard_normal(tuple(tv.shape)).astype(dt)
    tv.backward(torch.tensor(g))
    mv.backward(minitorch.tensor(g, device=device))
    close(mx.grad, tx.grad)
    # _with_indices and the module with its _random_samples buffer
    mv2, mi2 = getattr(F, f"fractional_max_pool{n}d_with_indices")(mx, k, _random_samples=ms, **kw)
    np.testing.assert_array_equal(to_np(mi2), ti.numpy())
    ratio = kw.get("output_ratio")
    tm = getattr(torch.nn, f"FractionalMaxPool{n}d")(k, kw.get("output_size"), ratio, _random_samples=ts)
    mm = getattr(nn, f"FractionalMaxPool{n}d")(k, kw.get("output_size"), ratio, _random_samples=ms)
    assert repr(mm) == repr(tm)
    assert list(mm.state_dict()) == list(tm.state_dict())
    close(mm(mx), tm(tx))


def test_fractional_max_pool_random_samples_default(torch):
    x = minitorch.randn(2, 3, 9, 9)
    out, idx = F.fractional_max_pool2d(x, 2, output_ratio=(0.5, 0.5), return_indices=True)
    assert tuple(out.shape) == (2, 3, 4, 4)
    # every output is the input value at its index, and at least as large as each window corner
    np.testing.assert_array_equal(to_np(out), np.take_along_axis(to_np(x).reshape(2, 3, -1),
                                                                 to_np(idx).reshape(2, 3, -1), 2).reshape(2, 3, 4, 4))
    tm = torch.nn.FractionalMaxPool2d(2, output_size=3)
    mm = nn.FractionalMaxPool2d(2, output_size=3)
    assert (mm.output_size, mm.output_ratio, mm.kernel_size, mm.return_indices) == \
        (tm.output_size, tm.output_ratio, tm.kernel_size, tm.return_indices)
    assert list(mm.state_dict()) == list(tm.state_dict()) == []


def test_fractional_max_pool_user_errors(torch):
    a = RNG.standard_normal((1, 2, 7, 7)).astype("float32")
    s = RNG.random((1, 2, 2)).astype("float32")
    tx, mx = torch.tensor(a), minitorch.tensor(a)
    ts, ms = torch.tensor(s), minitorch.tensor(s)
    TF = torch.nn.functional
    both_raise(lambda: TF.fractional_max_pool2d(tx, 2, 7, _random_samples=ts),
               lambda: F.fractional_max_pool2d(mx, 2, 7, _random_samples=ms), RuntimeError)
    both_raise(lambda: TF.fractional_max_pool2d(tx, 2, (6, 7), _random_samples=ts),
               lambda: F.fractional_max_pool2d(mx, 2, (6, 7), _random_samples=ms), RuntimeError)
    both_raise(lambda: TF.fractional_max_pool2d(tx, 2), lambda: F.fractional_max_pool2d(mx, 2), ValueError)
    both_raise(lambda: TF.fractional_max_pool2d(tx, 2, output_ratio=0.5),
               lambda: F.fractional_max_pool2d(mx, 2, output_ratio=0.5), TypeError)
    both_raise(lambda: TF.fractional_max_pool2d(tx, 2, 3, _random_samples=torch.rand(1, 3, 2)),
               lambda: F.fractional_max_pool2d(mx, 2, 3, _random_samples=minitorch.rand(1, 3, 2)), RuntimeError)
    both_raise(lambda: TF.fractional_max_pool2d(tx, 2, 3, _random_samples=torch.rand(1, 2, 3)),
               lambda: F.fractional_max_pool2d(mx, 2, 3, _random_samples=minitorch.rand(1, 2, 3)), RuntimeError)
    both_raise(lambda: TF.fractional_max_pool3d(tx, 2, 3), lambda: F.fractional_max_pool3d(mx, 2, 3), RuntimeError)
    for kw in [dict(), dict(output_ratio=1.5), dict(output_size=3, output_ratio=0.5), dict(output_ratio=0)]:
        both_raise(lambda: torch.nn.FractionalMaxPool2d(2, **kw), lambda: nn.FractionalMaxPool2d(2, **kw), ValueError)


# ---------------------------------------------------------------------------------------------------------------
# conv padding modes
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("n,padding,kw", [(1, 1, {}), (1, "same", dict(dilation=2)), (2, (1, 2), {}),
                                          (2, "same", {}), (3, 1, dict(stride=2)), (3, (0, 1, 2), {})])
def test_conv_padding_modes(torch, device, mode, n, padding, kw):
    torch.manual_seed(0)
    tc = getattr(torch.nn, f"Conv{n}d")(2, 3, 3, padding=padding, padding_mode=mode, **kw).double()
    mc = getattr(nn, f"Conv{n}d")(2, 3, 3, padding=padding, padding_mode=mode, **kw).double().to(device)
    copy_params(tc, mc, device)
    assert repr(mc) == repr(tc)
    assert list(mc.state_dict()) == list(tc.state_dict())
    assert list(mc._reversed_padding_repeated_twice) == list(tc._reversed_padding_repeated_twice)
    a = RNG.standard_normal((2, 2) + (5,) * n)
    tx, mx = pair(torch, a, device)
    ty, my = tc(tx), mc(mx)
    close(my, ty)
    g = RNG.standard_normal(tuple(ty.shape))
    ty.backward(torch.tensor(g))
    my.backward(minitorch.tensor(g, device=device))
    close(mx.grad, tx.grad)
    close(mc.weight.grad, tc.weight.grad)
    close(mc.bias.grad, tc.bias.grad)


def test_conv_padding_mode_errors(torch):
    with pytest.raises(ValueError, match="padding_mode must be one of .*, but got padding_mode='foo'"):
        torch.nn.Conv2d(1, 1, 3, padding_mode="foo")
    with pytest.raises(ValueError, match="padding_mode must be one of .*, but got padding_mode='foo'"):
        nn.Conv2d(1, 1, 3, padding_mode="foo")
    both_raise(lambda: torch.nn.ConvTranspose2d(1, 1, 3, padding_mode="reflect"),
               lambda: nn.ConvTranspose2d(1, 1, 3, padding_mode="reflect"), ValueError)
    # reflection padding wider than the input is the padding's own error
    with pytest.raises(RuntimeError):
        torch.nn.Conv1d(1, 1, 3, padding=4, padding_mode="reflect")(torch.randn(1, 1, 3))
    with pytest.raises(RuntimeError):
        nn.Conv1d(1, 1, 3, padding=4, padding_mode="reflect")(minitorch.randn(1, 1, 3))


# ---------------------------------------------------------------------------------------------------------------
# lazy modules, UninitializedParameter / UninitializedBuffer, nn.Buffer
# ---------------------------------------------------------------------------------------------------------------
LAZY_CASES = [
    ("LazyLinear", (3,), {}, (4, 5)),
    ("LazyLinear", (3,), dict(bias=False), (2, 4, 6)),
    ("LazyConv1d", (4, 3), dict(padding=1, padding_mode="reflect"), (2, 3, 6)),
    ("LazyConv2d", (4, 3), dict(groups=2), (1, 2, 5, 5)),
    ("LazyConv2d", (4, 3), {}, (3, 5, 5)),
    ("LazyConv3d", (2, 2), dict(bias=False), (1, 2, 3, 3, 3)),
    ("LazyConvTranspose1d", (4, 3), dict(stride=2), (2, 3, 4)),
    ("LazyConvTranspose2d", (4, 3), dict(groups=2), (1, 6, 3, 3)),
    ("LazyConvTranspose3d", (2, 2), {}, (1, 3, 2, 2, 2)),
    ("LazyBatchNorm1d", (), {}, (4, 3)),
    ("LazyBatchNorm2d", (), dict(affine=False), (2, 3, 2, 2)),
    ("LazyBatchNorm3d", (), dict(track_running_stats=False), (2, 2, 2, 2, 2)),
    ("LazyInstanceNorm1d", (), {}, (2, 3, 5)),
    ("LazyInstanceNorm2d", (), dict(affine=False, track_running_stats=False), (2, 3, 3, 3)),
    ("LazyInstanceNorm3d", (), {}, (2, 2, 2, 3, 3)),
]


@pytest.mark.parametrize("name,args,kw,shape", LAZY_CASES)
def test_lazy_module_matches_torch(torch, device, name, args, kw, shape):
    tm = getattr(torch.nn, name)(*args, **kw)
    mm = getattr(nn, name)(*args, **kw, device=device)
    assert repr(mm) == repr(tm)
    assert mm.has_uninitialized_params() == tm.has_uninitialized_params() == (kw != dict(
        affine=False, track_running_stats=False))
    assert list(mm.state_dict()) == list(tm.state_dict())
    assert [type(v).__name__ for v in mm.state_dict().values()] == \
        [type(v).__name__ for v in tm.state_dict().values()]
    a = RNG.standard_normal(shape).astype("float32")
    tx, mx = pair(torch, a, device)
    tm(tx)
    mm(mx)
    # the module became the concrete class and its parameters real ones
    assert type(mm).__name__ == type(tm).__name__
    assert repr(mm) == repr(tm)
    assert [(k, tuple(v.shape), type(v).__name__) for k, v in mm.state_dict().items()] == \
        [(k, tuple(v.shape), type(v).__name__) for k, v in tm.state_dict().items()]
    assert [type(p).__name__ for p in mm.parameters()] == [type(p).__name__ for p in tm.parameters()]
    assert not mm._forward_pre_hooks and not mm._load_state_dict_pre_hooks
    # with the same parameters, the same numbers
    tm.train(), mm.train()
    copy_params(tm, mm, device)
    ty, my = tm(tx), mm(mx)
    close(my, ty, atol=1e-4)
    g = RNG.standard_normal(tuple(ty.shape)).astype("float32")
    ty.backward(torch.tensor(g))
    my.backward(minitorch.tensor(g, device=device))
    close(mx.grad, tx.grad, atol=1e-4)
    for (k, tp), mp in zip(tm.named_parameters(), mm.parameters()):
        close(mp.grad, tp.grad, atol=1e-4)


def test_lazy_optimizer_built_before_first_forward(torch):
    for m in (torch, minitorch):
        m.manual_seed(0)
    tl, ml = torch.nn.LazyLinear(2), nn.LazyLinear(2)
    topt, mopt = torch.optim.SGD(tl.parameters(), lr=0.5), minitorch.optim.SGD(ml.parameters(), lr=0.5)
    a = RNG.standard_normal((3, 4)).astype("float32")
    tl(torch.tensor(a)), ml(minitorch.tensor(a))
    copy_params(tl, ml, "cpu")
    for opt, l, x in ((topt, tl, torch.tensor(a)), (mopt, ml, minitorch.tensor(a))):
        l(x).pow(2).sum().backward()
        opt.step()
    # the optimizer holds the materialised objects, so the step reached the layer
    assert mopt.param_groups[0]["params"][0] is ml.weight
    close(ml.weight, tl.weight)
    close(ml.bias, tl.bias)


def test_lazy_state_dict_load_and_casts(torch):
    for mod in (torch.nn, nn):
        src = mod.Linear(5, 3)
        lazy = mod.LazyLinear(3)
        lazy.load_state_dict(src.state_dict())
        assert type(lazy).__name__ == "LazyLinear" and tuple(lazy.weight.shape) == (3, 5)
        assert not lazy.has_uninitialized_params()
        other = mod.LazyLinear(3)
        other.load_state_dict(mod.LazyLinear(3).state_dict())
        assert other.has_uninitialized_params()
    tl, ml = torch.nn.LazyLinear(3).double(), nn.LazyLinear(3).double()
    assert str(ml.weight.dtype).split(".")[-1] == str(tl.weight.dtype).split(".")[-1] == "float64"
    tl(torch.randn(2, 4, dtype=torch.float64)), ml(minitorch.randn(2, 4, dtype=minitorch.float64))
    assert str(ml.weight.dtype).split(".")[-1] == "float64" and tuple(ml.weight.shape) == (3, 4)
    bn = nn.LazyBatchNorm1d().double()
    assert type(bn.running_mean).__name__ == "UninitializedBuffer"
    bn(minitorch.randn(4, 3, dtype=minitorch.float64))
    assert type(bn.running_mean) is minitorch.Tensor and str(bn.running_mean.dtype) == "minitorch.float64"


def test_uninitialized_tensors(torch):
    for mod in (torch.nn, nn):
        p = mod.UninitializedParameter()
        assert repr(p) == "<UninitializedParameter>" and p.requires_grad
        b = mod.UninitializedBuffer()
        assert repr(b) == "<UninitializedBuffer>" and not b.requires_grad
        assert mod.parameter.is_lazy(p) and mod.parameter.is_lazy(b)
        p.materialize((2, 3))
        assert type(p).__name__ == "Parameter" and tuple(p.shape) == (2, 3) and p.requires_grad
        assert not mod.parameter.is_lazy(p)
    tp, mp = torch.nn.UninitializedParameter(), nn.UninitializedParameter()
    both_raise(lambda: tp.shape, lambda: mp.shape, RuntimeError)
    assert tuple(mp.size()) == tuple(tp.size()) and mp.ndim == tp.ndim and mp.is_floating_point()
    for name in ("numel", "dim", "nelement", "clone", "item", "tolist", "sum", "exp"):
        with pytest.raises(ValueError, match="Attempted to use an uninitialized parameter in"):
            getattr(tp, name)()
        with pytest.raises(ValueError, match=f"Attempted to use an uninitialized parameter in <method '{name}'"):
            getattr(mp, name)()
    for tf, mf in [(lambda: tp + 1, lambda: mp + 1), (lambda: tp.sum(), lambda: mp.sum())]:
        with pytest.raises(ValueError, match="Attempted to use an uninitialized parameter in"):
            tf()
        with pytest.raises(ValueError, match="Attempted to use an uninitialized parameter in"):
            mf()
    both_raise(lambda: torch.nn.LazyConv2d(4, 3)(torch.randn(5, 5)),
               lambda: nn.LazyConv2d(4, 3)(minitorch.randn(5, 5)), RuntimeError)
    both_raise(lambda: torch.nn.LazyConv2d(4, 3, groups=2)(torch.randn(1, 3, 4, 4)),
               lambda: nn.LazyConv2d(4, 3, groups=2)(minitorch.randn(1, 3, 4, 4)), ValueError)
    with pytest.raises(NotImplementedError):
        class Bad(nn.modules.lazy.LazyModuleMixin, nn.Module):
            def forward(self, x):
                return x
        Bad()(minitorch.zeros(1))


def test_buffer(torch):
    def make(mod, m):
        class M(mod.Module):
            def __init__(self):
                super().__init__()
                self.a = mod.Buffer(m.ones(2))
                self.b = mod.Buffer(m.zeros(1), persistent=False)
                self.w = mod.Parameter(m.ones(1))
        return M()
    tm, mm = make(torch.nn, torch), make(nn, minitorch)
    assert list(mm.state_dict()) == list(tm.state_dict()) == ["w", "a"]
    assert list(dict(mm.named_buffers())) == list(dict(tm.named_buffers())) == ["a", "b"]
    assert type(mm.a) is minitorch.Tensor
    assert nn.Buffer(minitorch.ones(1)).persistent and not nn.Buffer(minitorch.ones(1), persistent=False).persistent
    # re-assigning a registered buffer keeps it a buffer; a Buffer replaces a plain attribute; a parameter's name
    # refuses it
    mm.a = minitorch.zeros(3)
    tm.a = torch.zeros(3)
    mm.c = nn.Buffer(minitorch.ones(4), persistent=False)
    tm.c = torch.nn.Buffer(torch.ones(4), persistent=False)
    mm.d, tm.d = 1, 1
    with pytest.raises(KeyError, match="attribute 'd' already exists"):
        tm.d = torch.nn.Buffer(torch.ones(4))
    with pytest.raises(KeyError, match="attribute 'd' already exists"):
        mm.d = nn.Buffer(minitorch.ones(4))
    assert list(dict(mm.named_buffers())) == list(dict(tm.named_buffers())) == ["a", "b", "c"]
    assert list(mm.state_dict()) == list(tm.state_dict())
    with pytest.raises(TypeError, match="cannot assign '.*' as parameter 'w'"):
        tm.w = torch.nn.Buffer(torch.ones(4))
    with pytest.raises(TypeError, match="cannot assign '.*' as parameter 'w'"):
        mm.w = nn.Buffer(minitorch.ones(4))


# ---------------------------------------------------------------------------------------------------------------
# AdaptiveLogSoftmaxWithLoss, NLLLoss2d, CrossMapLRN2d
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("cutoffs,head_bias,div", [([5, 12], True, 2.0), ([3], False, 4.0)])
def test_adaptive_log_softmax(torch, device, cutoffs, head_bias, div):
    torch.manual_seed(0)
    ta = torch.nn.AdaptiveLogSoftmaxWithLoss(8, 20, cutoffs, div_value=div, head_bias=head_bias).double()
    ma = nn.AdaptiveLogSoftmaxWithLoss(8, 20, cutoffs, div_value=div, head_bias=head_bias).double().to(device)
    assert repr(ma) == repr(ta)
    assert list(ma.state_dict()) == list(ta.state_dict())
    copy_params(ta, ma, device)
    a = RNG.standard_normal((10, 8))
    t = np.array([0, 4, 5, 11, 12, 19, 3, 6, 7, 18])
    tx, mx = pair(torch, a, device)
    tout = ta(tx, torch.tensor(t))
    mout = ma(mx, minitorch.tensor(t, device=device))
    assert type(mout).__name__ == "_ASMoutput" and mout._fields == ("output", "loss")
    close(mout.output, tout.output)
    close(mout.loss, tout.loss)
    tout.loss.backward()
    mout.loss.backward()
    close(mx.grad, tx.grad)
    for (k, tp), mp in zip(ta.named_parameters(), ma.parameters()):
        close(mp.grad, tp.grad)
    close(ma.log_prob(mx), ta.log_prob(tx))
    np.testing.assert_array_equal(to_np(ma.predict(mx)), ta.predict(tx).numpy())
    # unbatched: a 1-D input with a 0-D target
    tu, mu = ta(tx[0], torch.tensor(t[3])), ma(mx[0], minitorch.tensor(t[3], device=device))
    assert tuple(mu.output.shape) == tuple(tu.output.shape) == ()
    close(mu.loss, tu.loss)


def test_adaptive_log_softmax_errors(torch):
    ta = torch.nn.AdaptiveLogSoftmaxWithLoss(8, 20, [5, 12])
    ma = nn.AdaptiveLogSoftmaxWithLoss(8, 20, [5, 12])
    tx, mx = torch.randn(10, 8), minitorch.randn(10, 8)
    t, m = torch.arange(10), minitorch.arange(10)
    both_raise(lambda: ta(tx[:2], torch.tensor([0, 20])), lambda: ma(mx[:2], minitorch.tensor([0, 20])),
               RuntimeError)
    both_raise(lambda: ta(tx[:2], torch.tensor([-1, 3])), lambda: ma(mx[:2], minitorch.tensor([-1, 3])),
               RuntimeError)
    both_raise(lambda: ta(tx, t[:3]), lambda: ma(mx, m[:3]), RuntimeError)
    both_raise(lambda: ta(tx, t[None]), lambda: ma(mx, m[None]), RuntimeError)
    both_raise(lambda: ta(tx, t[0]), lambda: ma(mx, m[0]), RuntimeError)
    for cutoffs in ([], [5, 3], [0], [20], [5, 5], [2.5]):
        both_raise(lambda: torch.nn.AdaptiveLogSoftmaxWithLoss(8, 20, cutoffs),
                   lambda: nn.AdaptiveLogSoftmaxWithLoss(8, 20, cutoffs), ValueError)


def test_nll_loss_2d(torch, device):
    a = RNG.standard_normal((2, 3, 4, 4))
    t = RNG.integers(0, 3, (2, 4, 4))
    w = np.array([0.2, 1.0, 2.0])
    tx, mx = pair(torch, a, device)
    with pytest.warns(FutureWarning) as trec:
        tl = torch.nn.NLLLoss2d(weight=torch.tensor(w), ignore_index=1)(tx, torch.tensor(t))
    with pytest.warns(FutureWarning) as mrec:
        mloss = nn.NLLLoss2d(weight=minitorch.tensor(w, device=device), ignore_index=1)
    assert str(mrec[0].message) == str(trec[0].message)
    ml = mloss(mx, minitorch.tensor(t, device=device))
    assert isinstance(mloss, nn.NLLLoss) and repr(mloss) == "NLLLoss2d()"
    close(ml, tl)
    tl.backward()
    ml.backward()
    close(mx.grad, tx.grad)


@pytest.mark.parametrize("C,size", [(7, 3), (5, 4), (2, 5), (9, 5), (4, 1)])
def test_cross_map_lrn2d(torch, device, C, size):
    a = RNG.standard_normal((2, C, 3, 2)) * 2
    tx, mx = pair(torch, a, device)
    if size == 1:  # PyTorch's legacy backward cannot run with size 1; compare the forward only
        close(nn.CrossMapLRN2d(1, 0.5, 0.8, 1.5)(mx), torch.nn.CrossMapLRN2d(1, 0.5, 0.8, 1.5)(tx))
        return
    tm, mm = torch.nn.CrossMapLRN2d(size, alpha=0.5, beta=0.8, k=1.5), nn.CrossMapLRN2d(size, alpha=0.5, beta=0.8,
                                                                                       k=1.5)
    assert repr(mm) == repr(tm)
    ty, my = tm(tx), mm(mx)
    close(my, ty)
    g = RNG.standard_normal(a.shape)
    ty.backward(torch.tensor(g))
    my.backward(minitorch.tensor(g, device=device))
    close(mx.grad, tx.grad)


def test_cross_map_lrn2d_errors(torch):
    both_raise(lambda: torch.nn.CrossMapLRN2d(3)(torch.randn(2, 3, 4)),
               lambda: nn.CrossMapLRN2d(3)(minitorch.randn(2, 3, 4)), ValueError)
    assert repr(nn.CrossMapLRN2d(3)) == repr(torch.nn.CrossMapLRN2d(3))


def test_names_exported(torch):
    for name in ["MaxUnpool1d", "MaxUnpool2d", "MaxUnpool3d", "FractionalMaxPool2d", "FractionalMaxPool3d",
                 "AdaptiveLogSoftmaxWithLoss", "NLLLoss2d", "CrossMapLRN2d", "Buffer", "UninitializedParameter",
                 "UninitializedBuffer", "LazyLinear", "LazyConv1d", "LazyConv2d", "LazyConv3d", "LazyConvTranspose1d",
                 "LazyConvTranspose2d", "LazyConvTranspose3d", "LazyBatchNorm1d", "LazyBatchNorm2d",
                 "LazyBatchNorm3d", "LazyInstanceNorm1d", "LazyInstanceNorm2d", "LazyInstanceNorm3d"]:
        assert hasattr(torch.nn, name) and hasattr(nn, name), name
        assert name in nn.__all__
    for name in ["max_unpool1d", "max_unpool2d", "max_unpool3d", "max_pool1d_with_indices", "max_pool2d_with_indices",
                 "max_pool3d_with_indices", "adaptive_max_pool1d_with_indices", "adaptive_max_pool2d_with_indices",
                 "adaptive_max_pool3d_with_indices", "fractional_max_pool2d", "fractional_max_pool2d_with_indices",
                 "fractional_max_pool3d", "fractional_max_pool3d_with_indices"]:
        assert hasattr(torch.nn.functional, name) and hasattr(F, name), name
    assert hasattr(nn.modules.lazy, "LazyModuleMixin") and hasattr(torch.nn.modules.lazy, "LazyModuleMixin")
    assert not hasattr(nn, "LazyModuleMixin") and not hasattr(torch.nn, "LazyModuleMixin")
    assert hasattr(nn.parameter, "UninitializedTensorMixin")


def test_non_contiguous_inputs(torch, device):
    """Transposed (non-contiguous) inputs give PyTorch's values and gradients."""
    a = RNG.standard_normal((2, 3, 7, 6))
    s = RNG.random((2, 3, 2))
    tl, ml = pair(torch, np.ascontiguousarray(a.swapaxes(-1, -2)), device)
    tx, mx = tl.transpose(-1, -2), ml.transpose(-1, -2)
    assert not mx.is_contiguous()
    tv, ti = torch.nn.functional.fractional_max_pool2d(tx, 2, (4, 3), return_indices=True,
                                                       _random_samples=torch.tensor(s))
    mv, mi = F.fractional_max_pool2d(mx, 2, (4, 3), return_indices=True,
                                     _random_samples=minitorch.tensor(s, device=device))
    np.testing.assert_array_equal(to_np(mi), ti.numpy())
    # unpool the transposed pooled values with the matching (transposed) indices
    tu = torch.nn.functional.max_unpool2d(tv.transpose(-1, -2).contiguous().transpose(-1, -2), ti, 2,
                                          output_size=(7, 6))
    mu = F.max_unpool2d(mv.transpose(-1, -2).contiguous().transpose(-1, -2), mi, 2, output_size=(7, 6))
    close(mu, tu)
    tc = torch.nn.Conv2d(3, 2, 3, padding=1, padding_mode="circular").double()
    mc = nn.Conv2d(3, 2, 3, padding=1, padding_mode="circular").double().to(device)
    copy_params(tc, mc, device)
    ty, my = tc(tx) + tu.sum(), mc(mx) + mu.sum()
    close(my, ty)
    g = RNG.standard_normal(tuple(ty.shape))
    ty.backward(torch.tensor(g))
    my.backward(minitorch.tensor(g, device=device))
    close(ml.grad, tl.grad)


def test_lazy_copy_and_pickle(torch):
    import copy
    import pickle
    for mod, m in ((torch.nn, torch), (nn, minitorch)):
        src = mod.LazyLinear(3).double()
        for clone in (copy.deepcopy(src), pickle.loads(pickle.dumps(src))):
            assert type(clone).__name__ == "LazyLinear" and type(clone.weight).__name__ == "UninitializedParameter"
            clone.double()  # PyTorch's pickle forgets the dtype (float32 comes back); minitorch's keeps it
            assert str(clone.weight.dtype).split(".")[-1] == "float64"
            clone(m.randn(2, 4, dtype=m.float64))
            assert repr(clone) == "Linear(in_features=4, out_features=3, bias=True)"
        # the original stays lazy
        assert type(src).__name__ == "LazyLinear" and src.has_uninitialized_params()
    # PyTorch cannot deepcopy an UninitializedBuffer (ValueError); minitorch copies it like the parameters
    bn = copy.deepcopy(nn.LazyBatchNorm2d())
    bn(minitorch.randn(2, 3, 2, 2))
    assert tuple(bn.running_mean.shape) == (3,) and type(bn.running_mean) is minitorch.Tensor
