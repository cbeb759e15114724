"""3-D max/avg pooling, adaptive pooling (1-D, 3-D), LP pooling, BatchNorm3d, instance norm, local response norm
and RMS norm against PyTorch: forward values (and argmax indices), gradients, running statistics, modules'
parameters/buffers/state_dict names and reprs, and the user errors (PyTorch's exception types).

Shapes are tiny so that the cuda device also runs on Numba's simulator."""
import warnings

import numpy as np
import pytest

import minitorch
import minitorch.nn as nn
import minitorch.nn.functional as F

pytestmark = pytest.mark.torch

RNG = np.random.default_rng(11)


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def arr(*shape, ties=False, positive=False):
    a = RNG.standard_normal(shape).astype(np.float32)
    if ties:
        a = np.round(a * 2) / 2  # many equal values: the first maximum must win
    if positive:
        a = np.abs(a) + 0.25
    return a


def compare(torch, device, tfn, mfn, *xs, rtol=1e-5, atol=1e-6, exact=False, grad=True):
    """Run tfn on torch tensors and mfn on minitorch tensors (on ``device``) of the same float32 data; compare the
    outputs (tuples element by element) and, with ``grad``, the input gradients of sum(out * random)."""
    txs = [torch.tensor(x, requires_grad=grad) for x in xs]
    mxs = [minitorch.tensor(x, requires_grad=grad, device=device) for x in xs]
    ty, my = tfn(*txs), mfn(*mxs)
    tys, mys = (ty, my) if isinstance(ty, tuple) else ((ty,), (my,))
    assert len(tys) == len(mys)
    for t, m in zip(tys, mys):
        assert tuple(m.shape) == tuple(t.shape)
        assert str(m.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
        if exact or not t.dtype.is_floating_point:
            np.testing.assert_array_equal(m.detach().cpu().numpy(), t.detach().numpy())
        else:
            np.testing.assert_allclose(m.detach().cpu().numpy(), t.detach().numpy(), rtol=rtol, atol=atol)
    if grad:
        gy = arr(*tys[0].shape)
        (tys[0] * torch.tensor(gy)).sum().backward()
        (mys[0] * minitorch.tensor(gy, device=device)).sum().backward()
        for t, m in zip(txs, mxs):
            np.testing.assert_allclose(m.grad.cpu().numpy(), t.grad.numpy(), rtol=rtol * 10, atol=atol * 10)
    return ty, my


# ---------------------------------------------------------------------------------------------------------------
# max_pool3d / avg_pool3d
# ---------------------------------------------------------------------------------------------------------------
POOL3D = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=(2, 3, 2), stride=(1, 2, 2), padding=(1, 1, 0)),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
    dict(kernel_size=(1, 2, 3), stride=(2, 1, 2), ceil_mode=True),
]


@pytest.mark.parametrize("kw", POOL3D + [dict(kernel_size=2, dilation=2),
                                         dict(kernel_size=(2, 2, 3), dilation=(2, 1, 2), padding=1, ceil_mode=True)])
def test_max_pool3d_values_indices_and_gradient(kw, device, torch):
    x = arr(2, 2, 4, 5, 6, ties=True)
    compare(torch, device, lambda t: torch.nn.functional.max_pool3d(t, return_indices=True, **kw),
            lambda t: F.max_pool3d(t, return_indices=True, **kw), x, exact=True)


def test_max_pool3d_unbatched_and_non_contiguous(device, torch):
    x = arr(2, 6, 5, 4, ties=True)
    compare(torch, device, lambda t: torch.nn.functional.max_pool3d(t, 2, 1, return_indices=True),
            lambda t: F.max_pool3d(t, 2, 1, return_indices=True), x, exact=True)
    compare(torch, device, lambda t: torch.nn.functional.max_pool3d(t.transpose(-1, -3), (2, 1, 2), (1, 2, 1)),
            lambda t: F.max_pool3d(t.transpose(-1, -3), (2, 1, 2), (1, 2, 1)), x, exact=True)


def test_max_pool3d_nan_and_inf_match_torch(device, torch):
    x = arr(1, 2, 4, 4, 4, ties=True)
    x[0, 0, 0, 0, 1] = x[0, 0, 1, 1, 0] = np.nan  # two NaNs in one window: the last one's index, as PyTorch's CPU
    x[0, 1, 2, 2, 2] = np.nan
    x[0, 1, :2, :2, :2] = -np.inf  # a window of -inf only: its first position
    compare(torch, device, lambda t: torch.nn.functional.max_pool3d(t, 2, return_indices=True),
            lambda t: F.max_pool3d(t, 2, return_indices=True), x, exact=True, grad=False)


def test_max_pool3d_integer_and_bfloat16_inputs(torch):
    x = RNG.integers(-50, 50, (2, 2, 4, 4, 4))
    ty, ti = torch.nn.functional.max_pool3d(torch.tensor(x), 2, return_indices=True)
    my, mi = F.max_pool3d(minitorch.tensor(x), 2, return_indices=True)
    assert my.dtype is minitorch.int64
    np.testing.assert_array_equal(my.numpy(), ty.numpy())
    np.testing.assert_array_equal(mi.numpy(), ti.numpy())
    xb = arr(2, 2, 4, 4, 4)
    tb = torch.nn.functional.max_pool3d(torch.tensor(xb).bfloat16(), 2)
    mb = F.max_pool3d(minitorch.tensor(xb).to(minitorch.bfloat16), 2)
    assert mb.dtype is minitorch.bfloat16
    np.testing.assert_array_equal(mb.float().numpy(), tb.float().numpy())


def test_max_pool3d_double_backward(torch):
    x = arr(1, 2, 4, 4, 4, ties=True)
    gy = arr(1, 2, 2, 2, 2)
    w = arr(*x.shape)
    grads = []
    for lib, fn in ((torch, torch.nn.functional.max_pool3d), (minitorch, F.max_pool3d)):
        tx, tg = lib.tensor(x, requires_grad=True), lib.tensor(gy, requires_grad=True)
        (gx,) = lib.autograd.grad(fn(tx, 2), tx, tg, create_graph=True)
        (gx * lib.tensor(w)).sum().backward()
        grads.append((gx.detach().numpy(), tg.grad.numpy()))
    np.testing.assert_allclose(grads[1][0], grads[0][0], rtol=1e-6)
    np.testing.assert_allclose(grads[1][1], grads[0][1], rtol=1e-6)


@pytest.mark.parametrize("kw", POOL3D + [dict(kernel_size=3, stride=2, padding=1, count_include_pad=False),
                                         dict(kernel_size=3, stride=2, padding=1, ceil_mode=True,
                                              count_include_pad=False),
                                         dict(kernel_size=(2, 3, 2), padding=1, divisor_override=5)])
def test_avg_pool3d_values_and_gradient(kw, device, torch):
    x = arr(2, 2, 4, 5, 6)
    compare(torch, device, lambda t: torch.nn.functional.avg_pool3d(t, **kw), lambda t: F.avg_pool3d(t, **kw), x)


def test_avg_pool3d_unbatched_integer_and_bfloat16(torch):
    x = arr(3, 4, 5, 6)
    compare(torch, "cpu", lambda t: torch.nn.functional.avg_pool3d(t, 2, 1, 1, count_include_pad=False),
            lambda t: F.avg_pool3d(t, 2, 1, 1, count_include_pad=False), x)
    xi = RNG.integers(-50, 50, (1, 2, 4, 4, 4))
    ti = torch.nn.functional.avg_pool3d(torch.tensor(xi), 3, 1, 1)  # integer division truncates towards zero
    mi = F.avg_pool3d(minitorch.tensor(xi), 3, 1, 1)
    assert mi.dtype is minitorch.int64
    np.testing.assert_array_equal(mi.numpy(), ti.numpy())
    # PyTorch's CPU avg_pool3d has no bfloat16 kernel; minitorch computes in float32 and rounds once
    xb = torch.tensor(x).bfloat16()
    tb = torch.nn.functional.avg_pool3d(xb.float(), 2).bfloat16()
    mb = F.avg_pool3d(minitorch.tensor(xb.float().numpy()).to(minitorch.bfloat16), 2)
    assert mb.dtype is minitorch.bfloat16
    np.testing.assert_array_equal(mb.float().numpy(), tb.float().numpy())


# ---------------------------------------------------------------------------------------------------------------
# adaptive pooling
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("size", [(2, 2, 3), 3, (None, 2, 4), (4, 5, 6), 1, (3, None, None)])
def test_adaptive_avg_pool3d(size, device, torch):
    x = arr(2, 2, 4, 5, 6)
    compare(torch, device, lambda t: torch.nn.functional.adaptive_avg_pool3d(t, size),
            lambda t: F.adaptive_avg_pool3d(t, size), x)


@pytest.mark.parametrize("size", [(2, 2, 3), 3, (None, 2, 4), (4, 5, 6), 1])
def test_adaptive_max_pool3d_values_indices_and_gradient(size, device, torch):
    x = arr(2, 2, 4, 5, 6, ties=True)
    compare(torch, device, lambda t: torch.nn.functional.adaptive_max_pool3d(t, size, return_indices=True),
            lambda t: F.adaptive_max_pool3d(t, size, return_indices=True), x, exact=True)


def test_adaptive_max_pools_nan_and_inf_match_torch(torch):
    x = arr(1, 2, 4, 5, 6, ties=True)
    x[0, 0, 0, 0, 0] = x[0, 0, 1, 1, 1] = np.nan  # the last NaN of a window, as PyTorch's CPU kernel
    x[0, 1, :2, :3, :3] = -np.inf
    compare(torch, "cpu", lambda t: torch.nn.functional.adaptive_max_pool3d(t, (3, 3, 4), return_indices=True),
            lambda t: F.adaptive_max_pool3d(t, (3, 3, 4), return_indices=True), x, exact=True, grad=False)
    compare(torch, "cpu", lambda t: torch.nn.functional.adaptive_max_pool1d(t, 4, return_indices=True),
            lambda t: F.adaptive_max_pool1d(t, 4, return_indices=True), x[0, :, 0, 0], exact=True, grad=False)


def test_adaptive_avg_pool3d_unbatched(torch):
    compare(torch, "cpu", lambda t: torch.nn.functional.adaptive_avg_pool3d(t, (3, 2, 3)),
            lambda t: F.adaptive_avg_pool3d(t, (3, 2, 3)), arr(2, 5, 4, 7))


@pytest.mark.parametrize("size", [1, 3, 4, 5, 7, 10, (4,)])
def test_adaptive_avg_and_max_pool1d(size, device, torch):
    x = arr(2, 3, 10, ties=True)
    compare(torch, device, lambda t: torch.nn.functional.adaptive_avg_pool1d(t, size),
            lambda t: F.adaptive_avg_pool1d(t, size), x)
    compare(torch, device, lambda t: torch.nn.functional.adaptive_max_pool1d(t, size, return_indices=True),
            lambda t: F.adaptive_max_pool1d(t, size, return_indices=True), x, exact=True)
    compare(torch, device, lambda t: torch.nn.functional.adaptive_max_pool1d(t, size),
            lambda t: F.adaptive_max_pool1d(t, size), x[0], exact=True)  # unbatched


# ---------------------------------------------------------------------------------------------------------------
# LP pooling
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("p", [1, 2, 3.0, 1.5])
@pytest.mark.parametrize("kw", [dict(kernel_size=2), dict(kernel_size=3, stride=2), dict(kernel_size=2, stride=1,
                                                                                           ceil_mode=True)])
def test_lp_pool(p, kw, device, torch):
    TF = torch.nn.functional
    compare(torch, device, lambda t: TF.lp_pool1d(t, p, **kw), lambda t: F.lp_pool1d(t, p, **kw),
            arr(2, 3, 7, positive=True), rtol=1e-5)
    compare(torch, device, lambda t: TF.lp_pool2d(t, p, **kw), lambda t: F.lp_pool2d(t, p, **kw),
            arr(2, 2, 5, 6, positive=True), rtol=1e-5)
    compare(torch, device, lambda t: TF.lp_pool3d(t, p, **kw), lambda t: F.lp_pool3d(t, p, **kw),
            arr(1, 2, 4, 5, 5, positive=True), rtol=1e-5)


def test_lp_pool_signed_input_and_modules(torch):
    TF = torch.nn.functional
    x = arr(2, 2, 6, 6)
    compare(torch, "cpu", lambda t: TF.lp_pool2d(t, 2, (2, 3), stride=(2, 1)),
            lambda t: F.lp_pool2d(t, 2, (2, 3), stride=(2, 1)), x)
    compare(torch, "cpu", lambda t: TF.lp_pool1d(t, 1, 3), lambda t: F.lp_pool1d(t, 1, 3), x[0])
    compare(torch, "cpu", torch.nn.LPPool2d(2, 3, stride=2), nn.LPPool2d(2, 3, stride=2), x)
    compare(torch, "cpu", torch.nn.LPPool1d(3, 2), nn.LPPool1d(3, 2), np.abs(x[0]) + 0.1)
    compare(torch, "cpu", torch.nn.LPPool3d(2, 2), nn.LPPool3d(2, 2), np.abs(x) + 0.1)


# ---------------------------------------------------------------------------------------------------------------
# local response norm, RMS norm, instance norm
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("size", [1, 2, 3, 5, 8])
def test_local_response_norm(size, device, torch):
    TF = torch.nn.functional
    kw = dict(alpha=0.3, beta=0.6, k=1.5)
    compare(torch, device, lambda t: TF.local_response_norm(t, size, **kw),
            lambda t: F.local_response_norm(t, size, **kw), arr(2, 6, 3, 4))
    compare(torch, device, lambda t: TF.local_response_norm(t, size), lambda t: F.local_response_norm(t, size),
            arr(2, 5, 7))
    compare(torch, device, lambda t: torch.nn.LocalResponseNorm(size, 0.2)(t),
            lambda t: nn.LocalResponseNorm(size, 0.2)(t), arr(1, 4, 2, 3, 3))


@pytest.mark.parametrize("shape, eps", [((4,), None), ((3, 4), None), ((4,), 0.5), ((2, 3, 4), 1e-3)])
def test_rms_norm_with_and_without_weight(shape, eps, device, torch):
    x = arr(2, 2, 3, 4)
    w = arr(*shape)
    compare(torch, device, lambda t, tw: torch.nn.functional.rms_norm(t, shape, tw, eps),
            lambda t, tw: F.rms_norm(t, shape, tw, eps), x, w)
    compare(torch, device, lambda t: torch.nn.functional.rms_norm(t, shape, eps=eps),
            lambda t: F.rms_norm(t, shape, eps=eps), x)


def test_rms_norm_default_eps_is_the_dtype_epsilon(torch):
    """eps=None: float32's epsilon for float32 (and for 16-bit floats, computed in float32), float64's for
    float64; the inputs are small enough that eps decides the result."""
    x = arr(3, 8) * 1e-4
    compare(torch, "cpu", lambda t: torch.nn.functional.rms_norm(t, (8,)), lambda t: F.rms_norm(t, (8,)), x,
            rtol=1e-5)
    t64 = torch.nn.functional.rms_norm(torch.tensor(x, dtype=torch.float64), (8,))
    m64 = F.rms_norm(minitorch.tensor(x, dtype=minitorch.float64), (8,))
    np.testing.assert_allclose(m64.numpy(), t64.numpy(), rtol=1e-12)
    tb = torch.nn.functional.rms_norm(torch.tensor(x).bfloat16(), (8,))
    mb = F.rms_norm(minitorch.tensor(x).to(minitorch.bfloat16), (8,))
    assert mb.dtype is minitorch.bfloat16
    np.testing.assert_array_equal(mb.float().numpy(), tb.float().numpy())


def test_rms_norm_module(torch):
    for args, kw in [((4,), {}), (([3, 4],), dict(eps=1e-2)), ((4,), dict(elementwise_affine=False))]:
        tm, mm = torch.nn.RMSNorm(*args, **kw), nn.RMSNorm(*args, **kw)
        assert repr(mm) == repr(tm)
        assert list(mm.state_dict()) == list(tm.state_dict())
        if mm.weight is not None:
            w = arr(*mm.weight.shape)
            tm.weight.data = torch.tensor(w)
            mm.load_state_dict({"weight": minitorch.tensor(w)})
        compare(torch, "cpu", tm, mm, arr(2, 3, 4))
        if mm.weight is not None:
            np.testing.assert_allclose(mm.weight.grad.numpy(), tm.weight.grad.numpy(), rtol=1e-5, atol=1e-6)
    assert nn.RMSNorm(5, dtype=minitorch.float64).weight.dtype is minitorch.float64


def test_instance_norm_functional(device, torch):
    TF = torch.nn.functional
    x, w, b = arr(3, 4, 5, 2), arr(4), arr(4)
    compare(torch, device, lambda t, tw, tb: TF.instance_norm(t, weight=tw, bias=tb, eps=1e-3),
            lambda t, tw, tb: F.instance_norm(t, weight=tw, bias=tb, eps=1e-3), x, w, b, rtol=1e-4, atol=1e-5)
    # running statistics: moved by momentum towards the batch mean of the per-instance statistics
    stats = []
    m0, v0 = arr(4), np.abs(arr(4)) + 0.5
    for lib, fn in ((torch, TF.instance_norm), (minitorch, F.instance_norm)):
        rm, rv, rm0, rv0 = lib.tensor(m0), lib.tensor(v0), lib.tensor(m0), lib.tensor(v0)
        fn(lib.tensor(x), rm, rv, momentum=0.3)
        out = fn(lib.tensor(x), rm0, rv0, use_input_stats=False)  # the running statistics instead
        stats.append((rm.numpy(), rv.numpy(), out.numpy()))
    for m, t in zip(stats[1], stats[0]):
        np.testing.assert_allclose(m, t, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("cls, shape", [("InstanceNorm1d", (3, 4, 6)), ("InstanceNorm2d", (2, 4, 3, 5)),
                                        ("InstanceNorm3d", (2, 4, 2, 3, 3)), ("InstanceNorm1d", (4, 6)),
                                        ("InstanceNorm3d", (4, 2, 3, 3))])
@pytest.mark.parametrize("kw", [{}, dict(affine=True), dict(track_running_stats=True, momentum=0.2),
                                dict(affine=True, track_running_stats=True, momentum=None),
                                dict(affine=True, bias=False, eps=1e-3)])
def test_instance_norm_modules(cls, shape, kw, device, torch):
    tm, mm = getattr(torch.nn, cls)(4, **kw), getattr(nn, cls)(4, **kw).to(device)
    assert repr(mm) == repr(tm)
    assert list(mm.state_dict()) == list(tm.state_dict())
    assert [n for n, _ in mm.named_parameters()] == [n for n, _ in tm.named_parameters()]
    assert [n for n, _ in mm.named_buffers()] == [n for n, _ in tm.named_buffers()]
    for step in range(2):
        x = arr(*shape) * (step + 1) + step
        compare(torch, device, tm, mm, x, rtol=1e-4, atol=1e-5)
    for name, p in tm.named_parameters():
        np.testing.assert_allclose(dict(mm.named_parameters())[name].grad.cpu().numpy(), p.grad.numpy(),
                                   rtol=1e-4, atol=1e-5)
    for name, v in tm.state_dict().items():
        np.testing.assert_allclose(mm.state_dict()[name].cpu().numpy(), v.numpy(), rtol=1e-5, atol=1e-6)
    tm.eval()
    mm.eval()
    compare(torch, device, tm, mm, arr(*shape), rtol=1e-4, atol=1e-5, grad=False)


def test_batch_norm3d(device, torch):
    tm, mm = torch.nn.BatchNorm3d(3, momentum=0.3), nn.BatchNorm3d(3, momentum=0.3).to(device)
    assert repr(mm) == repr(tm)
    assert list(mm.state_dict()) == list(tm.state_dict())
    for step in range(2):
        compare(torch, device, tm, mm, arr(2, 3, 2, 3, 2) + step, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(mm.weight.grad.cpu().numpy(), tm.weight.grad.numpy(), rtol=1e-4, atol=1e-5)
    for name, v in tm.state_dict().items():
        np.testing.assert_allclose(mm.state_dict()[name].cpu().numpy(), v.numpy(), rtol=1e-5, atol=1e-6)
    tm.eval()
    mm.eval()
    compare(torch, device, tm, mm, arr(2, 3, 2, 3, 2), rtol=1e-4, atol=1e-5)
    for kw in [dict(affine=False), dict(bias=False), dict(track_running_stats=False)]:
        assert repr(nn.BatchNorm3d(3, **kw)) == repr(torch.nn.BatchNorm3d(3, **kw))
        assert list(nn.BatchNorm3d(3, **kw).state_dict()) == list(torch.nn.BatchNorm3d(3, **kw).state_dict())


# ---------------------------------------------------------------------------------------------------------------
# modules
# ---------------------------------------------------------------------------------------------------------------
MODULES = [("MaxPool3d", (2,), {}), ("MaxPool3d", ((1, 2, 2),), dict(stride=1, padding=(0, 1, 1))),
           ("MaxPool3d", (2,), dict(return_indices=True)), ("AvgPool3d", (2,), {}),
           ("AvgPool3d", (3,), dict(stride=2, padding=1, ceil_mode=True, count_include_pad=False)),
           ("AvgPool3d", (2,), dict(divisor_override=3)), ("AdaptiveAvgPool3d", ((2, None, 3),), {}),
           ("AdaptiveAvgPool1d", (3,), {}), ("AdaptiveMaxPool1d", (3,), {}),
           ("AdaptiveMaxPool1d", (3,), dict(return_indices=True)), ("AdaptiveMaxPool3d", ((3, 2, None),), {}),
           ("AdaptiveMaxPool3d", (2,), dict(return_indices=True)), ("LocalResponseNorm", (3,), {})]


@pytest.mark.parametrize("name, args, kw", MODULES)
def test_pool_modules_match_torch(name, args, kw, torch):
    tm, mm = getattr(torch.nn, name)(*args, **kw), getattr(nn, name)(*args, **kw)
    assert repr(mm) == repr(tm)
    assert list(mm.state_dict()) == list(tm.state_dict()) == []
    x = arr(2, 3, 7) if name.endswith("1d") else arr(2, 3, 4, 5, 6, ties=True)
    compare(torch, "cpu", tm, mm, x, exact="Max" in name)


# ---------------------------------------------------------------------------------------------------------------
# user errors: PyTorch's exception types, and messages that say what was wrong
# ---------------------------------------------------------------------------------------------------------------
ERRORS = [
    (lambda t, f: f.max_pool3d(t.randn(2, 3, 4), 2), RuntimeError, r"4D or 5D \(batch mode\) tensor expected"),
    (lambda t, f: f.max_pool3d(t.randn(1, 2, 4, 4, 4), (2, 2)), RuntimeError, "a tuple of three ints"),
    (lambda t, f: f.max_pool3d(t.randn(1, 2, 4, 4, 4), 2, 0), RuntimeError, "stride should not be zero"),
    (lambda t, f: f.max_pool3d(t.randn(1, 2, 4, 4, 4), 2, padding=2), RuntimeError,
     "pad should be at most half of effective kernel size, but got pad=2"),
    (lambda t, f: f.max_pool3d(t.randn(1, 2, 4, 4, 4), 2, padding=-1), RuntimeError, "pad must be non-negative"),
    (lambda t, f: f.max_pool3d(t.randn(1, 2, 4, 4, 4), 2, dilation=0), RuntimeError,
     "dilation should be greater than zero"),
    (lambda t, f: f.max_pool3d(t.randn(1, 2, 1, 4, 4), 2), RuntimeError,
     r"Given input size: \(2x1x4x4\). Calculated output size: \(2x0x2x2\). Output size is too small"),
    (lambda t, f: f.avg_pool3d(t.randn(1, 2, 1, 4, 4), 2), RuntimeError,
     r"input image \(T: 1 H: 4 W: 4\) smaller than kernel size"),
    (lambda t, f: f.avg_pool3d(t.randn(1, 2, 4, 4, 4), 2, divisor_override=0), RuntimeError, "divisor must be not"),
    (lambda t, f: f.avg_pool3d(t.randn(4, 4, 4), 2), RuntimeError, r"4D or 5D \(batch mode\) tensor expected"),
    (lambda t, f: f.adaptive_avg_pool1d(t.randn(1, 2, 4, 4), 2), RuntimeError,
     "Expected 2 to 3 dimensions, but got 4-dimensional tensor"),
    (lambda t, f: f.adaptive_avg_pool1d(t.randn(1, 2, 4), (2, 2)), RuntimeError, "should contain one int"),
    (lambda t, f: f.adaptive_avg_pool3d(t.randn(2, 4, 4), 2), RuntimeError, "Expected 4D or 5D tensor"),
    (lambda t, f: f.adaptive_avg_pool3d(t.randn(1, 2, 4, 4, 4), -1), RuntimeError,
     "elements of output_size must be greater than or equal to 0"),
    (lambda t, f: f.adaptive_avg_pool3d(t.randn(1, 2, 0, 4, 4), 2), RuntimeError,
     "with dimension 2 being empty"),
    (lambda t, f: f.adaptive_avg_pool3d(t.randn(1, 2, 4, 4, 4), (2, 2)), RuntimeError, "output_size must be 3"),
    (lambda t, f: f.adaptive_max_pool3d(t.randn(2, 4, 4), 2), RuntimeError, r"Expected 4D or 5D tensor, but got: \[2"),
    (lambda t, f: f.adaptive_max_pool3d(t.randn(1, 2, 4, 4, 4), (2, 2)), RuntimeError,
     r"output_size.size\(\) must be 3"),
    (lambda t, f: f.adaptive_max_pool3d(t.randn(1, 2, 4, 0, 4), 2), RuntimeError, "with dimension 3 being empty"),
    (lambda t, f: f.adaptive_max_pool1d(t.randn(1, 2, 4, 4), 2), RuntimeError,
     "Expected 2 to 3 dimensions, but got 4-dimensional tensor"),
    (lambda t, f: f.adaptive_max_pool1d(t.randn(1, 2, 0), 2), RuntimeError, "with dimension 2 being empty"),
    (lambda t, f: f.lp_pool1d(t.randn(1, 2, 4, 4, 4), 2, 2), RuntimeError,
     "Expected 2 to 3 dimensions, but got 5-dimensional tensor"),
    (lambda t, f: f.local_response_norm(t.randn(2, 3), 2), ValueError, "Expected 3D or higher dimensionality"),
    (lambda t, f: f.rms_norm(t.randn(2, 3), [4]), RuntimeError,
     r"Given normalized_shape=\[4\], expected input with shape \[\*4\], but got input of size\[2, 3\]"),
    (lambda t, f: f.instance_norm(t.randn(2, 3, 1)), ValueError, "Expected more than 1 spatial element when train"),
    (lambda t, f: t.nn.InstanceNorm1d(3)(t.randn(2, 3, 4, 4)), ValueError, r"expected 2D or 3D input \(got 4D"),
    (lambda t, f: t.nn.InstanceNorm2d(4, affine=True)(t.randn(2, 3, 4, 4)), ValueError,
     r"expected input's size at dim=1 to match num_features \(4\), but got: 3"),
    (lambda t, f: t.nn.InstanceNorm3d(4, affine=True)(t.randn(3, 2, 4, 4)), ValueError,
     r"expected input's size at dim=0 to match num_features \(4\), but got: 3"),
    (lambda t, f: t.nn.BatchNorm3d(3)(t.randn(2, 3, 4, 4)), ValueError, r"expected 5D input \(got 4D input\)"),
    (lambda t, f: t.nn.RMSNorm([3, 4])(t.randn(2, 4, 3)), RuntimeError, r"Given normalized_shape=\[3, 4\]"),
]


@pytest.mark.parametrize("i", range(len(ERRORS)))
def test_user_errors_match_torch(i, torch):
    fn, exc, match = ERRORS[i]
    with pytest.raises(exc):
        fn(torch, torch.nn.functional)
    with pytest.raises(exc, match=match):
        fn(minitorch, F)


def test_instance_norm_channel_mismatch_without_affine_warns_like_torch(torch):
    with pytest.warns(UserWarning, match="input's size at dim=1 does not match num_features"):
        torch.nn.InstanceNorm2d(4)(torch.randn(2, 3, 4, 4))
    with pytest.warns(UserWarning, match="input's size at dim=1 does not match num_features") as rec:
        out = nn.InstanceNorm2d(4)(minitorch.randn(2, 3, 4, 4))
    assert rec[0].filename == __file__  # attributed to the caller's line
    assert tuple(out.shape) == (2, 3, 4, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.InstanceNorm2d(3)(minitorch.randn(2, 3, 4, 4))


def test_empty_batches_and_zero_output_sizes_match_torch(torch):
    TF = torch.nn.functional
    cases = [("max_pool3d", (0, 2, 4, 4, 4), (2,)), ("avg_pool3d", (0, 2, 4, 4, 4), (2,)),
             ("adaptive_max_pool3d", (0, 2, 4, 4, 4), (3,)), ("adaptive_avg_pool3d", (2, 3, 5, 4, 4), ((0, 2, 3),)),
             ("adaptive_max_pool3d", (2, 3, 5, 4, 4), ((0, 2, 3),)), ("adaptive_avg_pool1d", (2, 3, 5), (0,)),
             ("adaptive_max_pool1d", (2, 3, 5), (0,))]
    for name, shape, args in cases:
        t = getattr(TF, name)(torch.zeros(shape, requires_grad=True), *args)
        x = minitorch.zeros(shape, requires_grad=True)
        m = getattr(F, name)(x, *args)
        assert tuple(m.shape) == tuple(t.shape), name
        m.sum().backward()
        assert tuple(x.grad.shape) == shape and not x.grad.numpy().any(), name


def test_autocast_runs_the_3d_pools_in_float32_like_torch(torch):
    """PyTorch's CPU autocast list puts max/avg/adaptive 3-D pooling in float32; rms/instance norm keep the dtype."""
    x = arr(1, 2, 4, 4, 4)
    tx, mx = torch.tensor(x).bfloat16(), minitorch.tensor(x).to(minitorch.bfloat16)
    names = [("max_pool3d", (2,)), ("avg_pool3d", (2,)), ("adaptive_avg_pool3d", (3,)),
             ("adaptive_max_pool3d", (3,)), ("rms_norm", ((4,),)), ("instance_norm", ())]
    with torch.autocast("cpu", dtype=torch.bfloat16), minitorch.autocast("cpu", dtype=minitorch.bfloat16):
        for name, args in names:
            t = getattr(torch.nn.functional, name)(tx, *args)
            m = getattr(F, name)(mx, *args)
            assert str(m.dtype).split(".")[-1] == str(t.dtype).split(".")[-1], name
            if t.dtype == torch.float32:
                np.testing.assert_allclose(m.numpy(), t.numpy(), rtol=1e-6, atol=1e-7)
