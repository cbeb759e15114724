"""Transposed convolution (1-D, 2-D, 3-D) and conv3d against PyTorch: forward, gradients of input, weight and bias,
modules (parameter names and shapes, initialisation, repr, ``output_size``, loading a PyTorch state_dict), and the
user errors with PyTorch's exception types. Every test runs on each registered device (CUDA: on a GPU or on Numba's
simulator, so the shapes stay tiny)."""
import numpy as np
import pytest

import minitorch
import minitorch.nn as nn
import minitorch.nn.functional as F
from minitorch.autograd import gradcheck

RNG = np.random.default_rng(11)
TOL = dict(rtol=1e-4, atol=1e-4)


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def arr(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def host(t):
    return t.detach().cpu().numpy()


def compare(torch, device, mfn, tfn, arrays, *args, nograd=(), **kwargs):
    """Run mfn and tfn on the same arrays (None stays None); compare the output and the gradients of every array
    not in ``nograd`` for a random output gradient."""
    mt = [None if a is None else minitorch.tensor(a, device=device, requires_grad=i not in nograd)
          for i, a in enumerate(arrays)]
    tt = [None if a is None else torch.tensor(a, requires_grad=i not in nograd) for i, a in enumerate(arrays)]
    my, ty = mfn(*mt, *args, **kwargs), tfn(*tt, *args, **kwargs)
    assert tuple(my.shape) == tuple(ty.shape)
    assert my.device.type == device
    np.testing.assert_allclose(host(my), ty.detach().numpy(), **TOL)
    gy = arr(*ty.shape)
    (my * minitorch.tensor(gy, device=device)).sum().backward()
    (ty * torch.tensor(gy)).sum().backward()
    for i, (m, t) in enumerate(zip(mt, tt)):
        if m is not None and i not in nograd:
            np.testing.assert_allclose(host(m.grad), t.grad.numpy(), **TOL)
    return my


# N, Cin, spatial, Cout, k, stride, padding, output_padding, dilation, groups, bias
CT2_CASES = [
    (2, 3, (4, 5), 2, 3, 1, 0, 0, 1, 1, True),
    (2, 4, (3, 4), 6, 3, 2, 1, 1, 1, 2, True),  # groups, output padding
    (1, 2, (4, 3), 3, (2, 3), (2, 3), (1, 0), (1, 2), (1, 2), 1, False),  # per-axis everything
    (2, 3, (3, 3), 3, 3, 1, 1, 1, 2, 3, True),  # depthwise; output padding allowed by the dilation
    (3, 2, (4, 4), 2, 4, 2, 1, 0, 1, 1, True),  # the benchmark's layer, batch split unevenly over threads
    (2, 2, (3, 2), 4, 1, 3, 0, 2, 1, 2, True),  # 1x1 kernel, stride 3: output positions no input reaches
    (2, 2, (2, 3), 2, 3, 2, 2, 1, 1, 1, True),  # padding larger than half the kernel
]


@pytest.mark.torch
@pytest.mark.parametrize("case", CT2_CASES)
def test_conv_transpose2d_matches_torch(case, device, torch):
    N, C, S, O, k, s, p, op, d, g, bias = case
    kh, kw = (k, k) if isinstance(k, int) else k
    compare(torch, device, F.conv_transpose2d, torch.nn.functional.conv_transpose2d,
            [arr(N, C, *S), arr(C, O // g, kh, kw), arr(O) if bias else None],
            stride=s, padding=p, output_padding=op, groups=g, dilation=d)


CT1_CASES = [
    (2, 3, 5, 2, 3, 1, 0, 0, 1, 1, True),
    (2, 4, 4, 6, 3, 3, 1, 2, 1, 2, True),
    (1, 2, 6, 4, 2, 2, 1, 1, 3, 2, False),
    (3, 2, 3, 2, 4, 2, 1, 0, 1, 1, True),
]


@pytest.mark.torch
@pytest.mark.parametrize("case", CT1_CASES)
def test_conv_transpose1d_matches_torch(case, device, torch):
    N, C, L, O, k, s, p, op, d, g, bias = case
    compare(torch, device, F.conv_transpose1d, torch.nn.functional.conv_transpose1d,
            [arr(N, C, L), arr(C, O // g, k), arr(O) if bias else None],
            stride=s, padding=p, output_padding=op, groups=g, dilation=d)


CT3_CASES = [
    (2, 2, (2, 3, 2), 2, 2, 1, 0, 0, 1, 1, True),
    (1, 4, (2, 2, 3), 2, (2, 1, 2), (2, 1, 2), (1, 0, 0), (1, 0, 1), 1, 2, False),
    (2, 2, (2, 2, 2), 2, 2, 1, 1, 1, 2, 2, True),
]


@pytest.mark.torch
@pytest.mark.parametrize("case", CT3_CASES)
def test_conv_transpose3d_matches_torch(case, device, torch):
    N, C, S, O, k, s, p, op, d, g, bias = case
    ks = (k,) * 3 if isinstance(k, int) else k
    compare(torch, device, F.conv_transpose3d, torch.nn.functional.conv_transpose3d,
            [arr(N, C, *S), arr(C, O // g, *ks), arr(O) if bias else None],
            stride=s, padding=p, output_padding=op, groups=g, dilation=d)


# N, C, spatial, O, k, stride, padding, dilation, groups, bias
C3_CASES = [
    (2, 2, (4, 5, 4), 3, 3, 1, 1, 1, 1, True),
    (1, 4, (5, 6, 6), 4, (2, 3, 1), (2, 1, 3), (1, 0, 1), (1, 2, 1), 2, False),
    (2, 2, (4, 4, 4), 2, 2, 1, "same", 1, 1, True),  # even kernel: one more padding on the far side
    (2, 3, (3, 4, 5), 3, (1, 2, 3), 1, "valid", 1, 3, True),
    (3, 2, (4, 4, 4), 2, 3, 1, "same", 2, 1, True),
    (2, 2, (3, 3, 3), 4, 1, 2, 0, 1, 2, True),
]


@pytest.mark.torch
@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("case", C3_CASES)
def test_conv3d_matches_torch(case, device, torch):
    N, C, S, O, k, s, p, d, g, bias = case
    ks = (k,) * 3 if isinstance(k, int) else k
    compare(torch, device, F.conv3d, torch.nn.functional.conv3d,
            [arr(N, C, *S), arr(O, C // g, *ks), arr(O) if bias else None],
            stride=s, padding=p, dilation=d, groups=g)


@pytest.mark.torch
def test_unbatched_inputs(device, torch):
    TF = torch.nn.functional
    compare(torch, device, F.conv_transpose2d, TF.conv_transpose2d, [arr(3, 4, 3), arr(3, 2, 2, 3), arr(2)],
            stride=2, output_padding=1)
    compare(torch, device, F.conv_transpose1d, TF.conv_transpose1d, [arr(3, 4), arr(3, 2, 3), None], stride=2)
    compare(torch, device, F.conv3d, TF.conv3d, [arr(2, 3, 4, 3), arr(2, 2, 2, 2, 2), arr(2)], padding=1)


@pytest.mark.torch
def test_non_contiguous_operands(device, torch):
    """A permuted input and a transposed weight view give the same results and gradients flow back through the
    views."""
    x, w, b = arr(2, 5, 4, 3), arr(2, 3, 3, 3), arr(2)

    def run(lib, dev):
        kw = {"device": dev} if lib is minitorch else {}
        xt, wt, bt = (lib.tensor(a, requires_grad=True, **kw) for a in (x, w, b))
        # x viewed as (2, 3, 4, 5) and the weight as (3, 2, 3, 3), neither contiguous
        y = F.conv_transpose2d if lib is minitorch else lib.nn.functional.conv_transpose2d
        xv = xt.permute(0, 3, 2, 1)
        wv = wt.transpose(0, 1)
        assert not xv.is_contiguous() and not wv.is_contiguous()
        out = y(xv, wv, bt, stride=2, padding=1, output_padding=1, groups=1)
        g = lib.tensor(np.linspace(-1, 1, out.numel(), dtype=np.float32).reshape(tuple(out.shape)), **kw)
        (out * g).sum().backward()
        return [host(v) for v in (out, xt.grad, wt.grad, bt.grad)]

    for got, want in zip(run(minitorch, device), run(torch, None)):
        np.testing.assert_allclose(got, want, **TOL)
    # conv3d on a sliced (strided) input
    xs = arr(2, 3, 6, 4, 8)
    compare(torch, device, lambda t, w: F.conv3d(t[:, :, ::2, :, 1::2], w, padding=1),
            lambda t, w: torch.nn.functional.conv3d(t[:, :, ::2, :, 1::2], w, padding=1), [xs, arr(2, 3, 2, 3, 2)])


@pytest.mark.torch
def test_only_some_operands_need_grad(device, torch):
    """Weight-only and input-only gradients (a frozen layer, a fixed input) match PyTorch's."""
    TF = torch.nn.functional
    x, w, b = arr(2, 3, 3, 4), arr(3, 2, 3, 3), arr(2)
    compare(torch, device, F.conv_transpose2d, TF.conv_transpose2d, [x, w, b], stride=2, nograd=(0,))
    compare(torch, device, F.conv_transpose2d, TF.conv_transpose2d, [x, w, b], stride=2, nograd=(1, 2))
    compare(torch, device, F.conv3d, TF.conv3d, [arr(1, 2, 3, 3, 3), arr(2, 2, 2, 2, 2), b], nograd=(0, 2))


@pytest.mark.torch
def test_empty_batch(device, torch):
    for mfn, tfn, x, w in ((F.conv_transpose2d, torch.nn.functional.conv_transpose2d, arr(0, 3, 4, 4),
                            arr(3, 2, 3, 3)),
                           (F.conv3d, torch.nn.functional.conv3d, arr(0, 2, 3, 3, 3), arr(4, 2, 2, 2, 2))):
        mx = minitorch.tensor(x, device=device, requires_grad=True)
        mw = minitorch.tensor(w, device=device, requires_grad=True)
        y = mfn(mx, mw, stride=2)
        ty = tfn(torch.tensor(x), torch.tensor(w), stride=2)
        assert tuple(y.shape) == tuple(ty.shape)
        y.sum().backward()
        assert tuple(mx.grad.shape) == x.shape and not host(mw.grad).any()


@pytest.mark.torch
def test_top_level_functions_take_torchs_positional_order(device, torch):
    x, w, b = arr(2, 4, 3, 3), arr(4, 3, 3, 3), arr(6)
    # input, weight, bias, stride, padding, output_padding, groups, dilation
    got = minitorch.conv_transpose2d(*(minitorch.tensor(a, device=device) for a in (x, w, b)), 2, 1, 1, 2, 1)
    want = torch.conv_transpose2d(*(torch.tensor(a) for a in (x, w, b)), 2, 1, 1, 2, 1)
    np.testing.assert_allclose(host(got), want.numpy(), **TOL)
    x1, w1 = arr(2, 4, 5), arr(4, 1, 3)
    got = minitorch.conv_transpose1d(minitorch.tensor(x1, device=device), minitorch.tensor(w1, device=device), None,
                                     3, 0, 1, 2, 2)
    want = torch.conv_transpose1d(torch.tensor(x1), torch.tensor(w1), None, 3, 0, 1, 2, 2)
    np.testing.assert_allclose(host(got), want.numpy(), **TOL)
    x3, w3 = arr(1, 2, 3, 3, 3), arr(2, 1, 2, 2, 2)
    got = minitorch.conv3d(minitorch.tensor(x3, device=device), minitorch.tensor(w3, device=device), None, 1, 1, 1, 2)
    want = torch.conv3d(torch.tensor(x3), torch.tensor(w3), None, 1, 1, 1, 2)
    np.testing.assert_allclose(host(got), want.numpy(), **TOL)


def test_gradcheck_float64():
    x = minitorch.tensor(RNG.standard_normal((1, 2, 3, 2)), requires_grad=True)
    w = minitorch.tensor(RNG.standard_normal((2, 2, 2, 3)), requires_grad=True)
    b = minitorch.tensor(RNG.standard_normal(4), requires_grad=True)
    assert gradcheck(lambda x, w, b: F.conv_transpose2d(x, w, b, stride=(2, 1), padding=(0, 1), groups=2,
                                                        output_padding=(1, 0)), (x, w, b))
    x = minitorch.tensor(RNG.standard_normal((1, 2, 3, 3, 2)), requires_grad=True)
    w = minitorch.tensor(RNG.standard_normal((3, 2, 2, 2, 2)), requires_grad=True)
    b = minitorch.tensor(RNG.standard_normal(3), requires_grad=True)
    assert gradcheck(lambda x, w, b: F.conv3d(x, w, b, padding=(1, 0, 1), stride=(1, 2, 1)), (x, w, b))


def test_double_backward_is_refused():
    x = minitorch.randn(1, 2, 3, 3, requires_grad=True)
    w = minitorch.randn(2, 2, 2, 2, requires_grad=True)
    y = F.conv_transpose2d(x, w).sum()
    with pytest.raises(RuntimeError, match="double backward"):
        minitorch.autograd.grad(y, x, create_graph=True)


def test_operands_on_different_devices_raise(device):
    if device == "cpu":
        pytest.skip("needs a second device")
    x = minitorch.tensor(arr(1, 2, 3, 3), device=device)
    w = arr(2, 2, 2, 2)
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        F.conv_transpose2d(x, minitorch.tensor(w))
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        F.conv_transpose2d(x, minitorch.tensor(w, device=device), minitorch.tensor(arr(2)))
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        F.conv3d(minitorch.tensor(arr(1, 2, 3, 3, 3), device=device), minitorch.tensor(arr(2, 2, 2, 2, 2)))


# ---------------------------------------------------------------------------------------------------------------
# modules
# ---------------------------------------------------------------------------------------------------------------
MODULES = [
    ("ConvTranspose1d", (4, 6, 3), dict(stride=2, padding=1, output_padding=1, groups=2, dilation=1)),
    ("ConvTranspose2d", (4, 6, 3), dict(stride=2, padding=1, output_padding=1, groups=2, bias=False, dilation=2)),
    ("ConvTranspose2d", (3, 2, (2, 3)), dict(stride=(2, 1))),
    ("ConvTranspose3d", (2, 4, 2), dict(stride=2, groups=2)),
    ("Conv3d", (4, 6, 3), dict(stride=2, padding=1, groups=2, bias=False, dilation=2)),
    ("Conv3d", (2, 3, (1, 2, 3)), dict(padding="same")),
    ("Conv3d", (2, 3, 2), dict()),
]


@pytest.mark.torch
@pytest.mark.parametrize("name, args, kwargs", MODULES)
def test_module_matches_torch(name, args, kwargs, device, torch):
    """Same repr, parameter names and shapes; PyTorch's weights load and then give PyTorch's outputs."""
    tm = getattr(torch.nn, name)(*args, **kwargs)
    mm = getattr(nn, name)(*args, **kwargs)
    assert repr(mm) == repr(tm)
    tsd = tm.state_dict()
    msd = mm.state_dict()
    assert list(msd) == list(tsd)
    assert all(tuple(msd[k].shape) == tuple(tsd[k].shape) for k in tsd)
    mm.load_state_dict({k: minitorch.tensor(v.numpy()) for k, v in tsd.items()})
    mm.to(device)
    nd = len(tm.kernel_size)
    x = arr(2, args[0], *([3] * nd))
    got = mm(minitorch.tensor(x, device=device))
    want = tm(torch.tensor(x))
    np.testing.assert_allclose(host(got), want.detach().numpy(), **TOL)


@pytest.mark.torch
@pytest.mark.parametrize("name, args, kwargs", MODULES)
def test_module_initialisation(name, args, kwargs, torch):
    """kaiming_uniform(a=sqrt(5)) on the weight and U(-1/sqrt(fan_in), 1/sqrt(fan_in)) on the bias, with PyTorch's
    fan_in (for a transposed conv: out_channels/groups * kernel volume)."""
    tm = getattr(torch.nn, name)(*args, **kwargs)
    mm = getattr(nn, name)(*args, **kwargs)
    fan_in, _ = torch.nn.init._calculate_fan_in_and_fan_out(tm.weight)
    bound = 1 / np.sqrt(fan_in)
    w = host(mm.weight)
    assert w.dtype == np.float32 and np.abs(w).max() <= bound and w.std() > bound / 4
    assert (mm.bias is None) == (tm.bias is None)
    if mm.bias is not None:
        assert np.abs(host(mm.bias)).max() <= bound
    assert mm.transposed == tm.transposed and mm.output_padding == tm.output_padding
    assert mm.padding == tm.padding and mm.stride == tm.stride and mm.dilation == tm.dilation


@pytest.mark.torch
@pytest.mark.parametrize("in_shape, output_size", [
    ((2, 4, 5, 5), (11, 12)),
    ((2, 4, 5, 5), [2, 3, 12, 11]),
    ((4, 5, 5), (12, 12)),
    ((4, 5, 5), (3, 11, 11)),
])
def test_module_output_size(in_shape, output_size, device, torch):
    tm = torch.nn.ConvTranspose2d(4, 3, 3, stride=2)
    mm = nn.ConvTranspose2d(4, 3, 3, stride=2)
    mm.load_state_dict({k: minitorch.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    mm.to(device)
    x = arr(*in_shape)
    got = mm(minitorch.tensor(x, device=device), output_size=output_size)
    want = tm(torch.tensor(x), output_size=output_size)
    assert tuple(got.shape) == tuple(want.shape)
    np.testing.assert_allclose(host(got), want.detach().numpy(), **TOL)
    t1 = torch.nn.ConvTranspose1d(4, 3, 3, stride=3, padding=1)
    m1 = nn.ConvTranspose1d(4, 3, 3, stride=3, padding=1)
    m1.load_state_dict({k: minitorch.tensor(v.numpy()) for k, v in t1.state_dict().items()})
    m1.to(device)
    x1 = arr(2, 4, 4)
    for size in (10, 11, 12):
        np.testing.assert_allclose(host(m1(minitorch.tensor(x1, device=device), output_size=[size])),
                                   t1(torch.tensor(x1), output_size=[size]).detach().numpy(), **TOL)


@pytest.mark.torch
def test_module_trains_like_torch(torch):
    """One SGD step on an MSE loss through ConvTranspose2d: the updated parameters match PyTorch's."""
    tm = torch.nn.ConvTranspose2d(3, 2, 4, stride=2, padding=1)
    mm = nn.ConvTranspose2d(3, 2, 4, stride=2, padding=1)
    mm.load_state_dict({k: minitorch.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    x, target = arr(2, 3, 4, 4), arr(2, 2, 8, 8)
    for lib, m in ((torch, tm), (minitorch, mm)):
        opt = lib.optim.SGD(m.parameters(), lr=0.1)
        loss = lib.nn.functional.mse_loss(m(lib.tensor(x)), lib.tensor(target))
        loss.backward()
        opt.step()
    for k, v in tm.state_dict().items():
        np.testing.assert_allclose(host(mm.state_dict()[k]), v.numpy(), **TOL)


# ---------------------------------------------------------------------------------------------------------------
# user errors: PyTorch's exception type, and a message that says what is wrong
# ---------------------------------------------------------------------------------------------------------------
def _ct2(lib, x, w, b=None, **kw):
    return lib.nn.functional.conv_transpose2d(lib.tensor(arr(*x)), lib.tensor(arr(*w)),
                                              None if b is None else lib.tensor(arr(*b)), **kw)


def _ct1(lib, x, w, **kw):
    return lib.nn.functional.conv_transpose1d(lib.tensor(arr(*x)), lib.tensor(arr(*w)), **kw)


def _ct3(lib, x, w, **kw):
    return lib.nn.functional.conv_transpose3d(lib.tensor(arr(*x)), lib.tensor(arr(*w)), **kw)


def _c3(lib, x, w, b=None, **kw):
    return lib.nn.functional.conv3d(lib.tensor(arr(*x)), lib.tensor(arr(*w)),
                                    None if b is None else lib.tensor(arr(*b)), **kw)


ERRORS = [
    # output padding must be below the stride or the dilation
    (lambda L: _ct2(L, (2, 4, 5, 5), (4, 3, 3, 3), stride=2, output_padding=2),
     "output padding must be smaller than either stride or dilation, but got output_padding_height: 2 "
     "output_padding_width: 2 stride_height: 2 stride_width: 2 dilation_height: 1 dilation_width: 1"),
    (lambda L: _ct2(L, (2, 4, 5, 5), (4, 3, 3, 3), stride=1, output_padding=1), "output padding must be smaller"),
    (lambda L: _ct2(L, (2, 4, 5, 5), (4, 3, 3, 3), stride=2, output_padding=(1, 2)), "output_padding_width: 2"),
    (lambda L: _ct1(L, (2, 4, 5), (4, 3, 3), stride=2, output_padding=2),
     "output_padding_height: 0 output_padding_width: 2 stride_height: 1 stride_width: 2"),
    (lambda L: _ct3(L, (1, 4, 2, 2, 2), (4, 2, 2, 2, 2), stride=2, output_padding=2), "output_padding_depth: 2"),
    (lambda L: _ct2(L, (2, 4, 5, 5), (4, 3, 3, 3), output_padding=-1), "negative output_padding"),
    # channels, groups, dims, dtypes, bias
    (lambda L: _ct2(L, (2, 4, 5, 5), (3, 3, 3, 3)), r"expected input\[2, 4, 5, 5\] to have 3 channels, but got 4"),
    (lambda L: _ct2(L, (2, 4, 5, 5), (2, 3, 3, 3), groups=2), "to have 2 channels, but got 4 channels"),
    (lambda L: _ct2(L, (2, 4, 5, 5), (4, 3, 3, 3), groups=3), "expected weight to be divisible by 3 at dimension 0"),
    (lambda L: _ct2(L, (2, 4, 5, 5), (4, 3, 3, 3), groups=0), "non-positive groups"),
    (lambda L: _ct2(L, (5, 5), (4, 3, 3, 3)), r"Expected 3D \(unbatched\) or 4D \(batched\) input to conv_transpose2d"),
    (lambda L: _ct2(L, (2, 4, 5, 5), (4, 3, 3)), "expected stride to be a single integer value or a list of 1 values"),
    (lambda L: _ct2(L, (2, 4, 5, 5), (4, 3, 3, 3), stride=(1, 2, 3)), "a list of 2 values"),
    (lambda L: _ct1(L, (4, 5, 5), (4, 3, 3)), "to have 4 channels, but got 5 channels"),
    (lambda L: _ct2(L, (2, 4, 5, 5), (4, 3, 3, 3), b=(4,)), "expected bias to be 1-dimensional with 3 elements"),
    (lambda L: L.nn.functional.conv_transpose2d(L.tensor(arr(2, 4, 5, 5)), L.tensor(arr(4, 3, 3, 3)).double()),
     "Input type .* and weight type .* should be the same"),
    (lambda L: _ct2(L, (2, 4, 5, 5), (4, 3, 3, 3), padding=-1), "negative padding is not supported"),
    (lambda L: _ct2(L, (2, 4, 5, 5), (4, 3, 3, 3), stride=0), "non-positive stride is not supported"),
    (lambda L: _ct2(L, (2, 4, 0, 5), (4, 3, 3, 3)), "Only zero batch or zero channel inputs are supported"),
    (lambda L: _ct2(L, (2, 4, 5, 5), (4, 3, 3, 3), padding="same"), "argument 'padding' must be tuple of ints"),
    # modules
    (lambda L: L.nn.ConvTranspose2d(4, 3, 3, padding_mode="reflect"), 'Only "zeros" padding mode is supported'),
    (lambda L: L.nn.ConvTranspose2d(4, 3, 3, groups=2), "out_channels must be divisible by groups"),
    (lambda L: L.nn.ConvTranspose2d(4, 3, 3, stride=2)(L.tensor(arr(2, 4, 5, 5)), output_size=(14, 12)),
     r"requested an output size of \(14, 12\), but valid sizes range from \[11, 11\] to \[12, 12\]"),
    (lambda L: L.nn.ConvTranspose2d(4, 3, 3, stride=2)(L.tensor(arr(2, 4, 5, 5)), output_size=(12,)),
     "ConvTranspose2D: for 4D input, output_size must have 2 or 4 elements \\(got 1\\)"),
    (lambda L: L.nn.ConvTranspose2d(4, 3, 3, stride=2)(L.tensor(arr(4, 5, 5)), output_size=(4,)),
     "for 3D input, output_size must have 2 or 3 elements"),
    (lambda L: L.nn.ConvTranspose1d(4, 3, 3, stride=2)(L.tensor(arr(2, 4, 5)), output_size=(14,)),
     r"valid sizes range from \[11\] to \[12\]"),
    # conv3d
    (lambda L: _c3(L, (3, 3, 3), (2, 2, 2, 2, 2)), r"Expected 4D \(unbatched\) or 5D \(batched\) input to conv3d"),
    (lambda L: _c3(L, (1, 4, 3, 5, 5), (3, 2, 2, 2, 2)), r"expected input\[1, 4, 3, 5, 5\] to have 2 channels"),
    (lambda L: _c3(L, (1, 4, 3, 5, 5), (3, 4, 2, 2, 2), groups=2), "expected weight to be divisible by 2"),
    (lambda L: _c3(L, (1, 4, 3, 5, 5), (3, 4, 2, 2, 2), b=(2,)), "expected bias to be 1-dimensional with 3 elements"),
    (lambda L: _c3(L, (1, 2, 3, 3, 3), (2, 2, 4, 2, 2)),
     r"Calculated padded input size per channel: \(3 x 3 x 3\). Kernel size: \(4 x 2 x 2\)"),
    (lambda L: _c3(L, (1, 2, 3, 3, 3), (2, 2, 2, 2, 2), stride=2, padding="same"), "padding='same' is not supported"),
    (lambda L: _c3(L, (1, 2, 3, 3, 3), (2, 2, 2, 2, 2), padding="foo"), "Invalid padding string: 'foo'"),
    (lambda L: _c3(L, (1, 2, 3, 3, 3), (2, 2, 2, 2, 2), stride=0), "non-positive stride"),
    (lambda L: _c3(L, (1, 2, 3, 3, 3), (2, 2, 2, 2, 2), padding=-1), "negative padding"),
    (lambda L: _c3(L, (1, 2, 3, 3, 3), (2, 2, 2, 2, 2), stride=(1, 2)), "a list of 3 values"),
    (lambda L: L.nn.Conv3d(4, 3, 3, stride=2, padding="same"), "padding='same' is not supported for strided"),
    (lambda L: L.nn.Conv3d(4, 3, 3, groups=2), "out_channels must be divisible by groups"),
]


@pytest.mark.torch
@pytest.mark.parametrize("i", range(len(ERRORS)))
def test_user_errors_match_torch(i, torch):
    call, message = ERRORS[i]
    with pytest.raises(Exception) as want:
        call(torch)
    with pytest.raises(want.type, match=message):
        call(minitorch)
