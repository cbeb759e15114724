"""F.interpolate's interpolating modes (linear, bilinear, bicubic, trilinear, antialiased, lanczos), area and nearest
on every rank, against PyTorch: outputs and gradients, uint8 and 16-bit floats, double backward, the resample kernels
on every device against the CPU's, and user errors."""
import numpy as np
import pytest

import minitorch
import minitorch.nn.functional as F
from minitorch.ops.sample import interp_taps, resample

RNG = np.random.default_rng(2026)


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def arr(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def close(m, t, tol=1e-5):
    assert tuple(m.shape) == tuple(t.shape)
    np.testing.assert_allclose(m.detach().cpu().numpy(), t.detach().numpy(), rtol=tol, atol=tol)


CASES = [
    ((2, 3, 7), dict(size=11, mode="linear")),
    ((2, 3, 7), dict(size=3, mode="linear", align_corners=True)),
    ((2, 3, 7), dict(scale_factor=1.7, mode="linear")),
    ((2, 3, 7, 9), dict(size=(4, 13), mode="bicubic")),
    ((2, 3, 7, 9), dict(size=(13, 4), mode="bicubic", align_corners=True)),
    ((2, 3, 7, 9), dict(scale_factor=2.5, mode="bicubic")),
    ((2, 3, 7, 9), dict(scale_factor=0.6, mode="bicubic", recompute_scale_factor=True)),
    ((1, 2, 1, 5), dict(size=(3, 1), mode="bicubic", align_corners=True)),
    ((2, 2, 5, 6, 7), dict(size=(3, 8, 7), mode="trilinear")),
    ((2, 2, 5, 6, 7), dict(scale_factor=(2, 0.5, 1.5), mode="trilinear", align_corners=True)),
    ((2, 3, 7, 9), dict(size=(3, 4), mode="bilinear", antialias=True)),
    ((2, 3, 7, 9), dict(size=(12, 5), mode="bilinear", antialias=True, align_corners=True)),
    ((2, 3, 7, 9), dict(scale_factor=0.37, mode="bicubic", antialias=True)),
    ((2, 3, 7, 9), dict(size=(5, 20), mode="bicubic", antialias=True, align_corners=True)),
    ((2, 3, 7, 9), dict(size=(3, 4), mode="lanczos", antialias=True)),
    ((2, 3, 7, 9), dict(size=(14, 5), mode="lanczos", antialias=True)),
    ((2, 3, 7, 9), dict(size=(3, 4), mode="area")),
    ((2, 3, 7), dict(size=3, mode="area")),
    ((2, 2, 5, 6, 7), dict(size=(2, 3, 4), mode="area")),
    ((2, 2, 5, 6, 7), dict(scale_factor=1.5, mode="nearest")),
    ((2, 2, 5, 6, 7), dict(size=(3, 8, 2), mode="nearest-exact")),
    ((2, 3, 7, 9), dict(scale_factor=(0.5, 2), mode="nearest")),
    # big enough for the threaded kernels (forward and backward, both dimensions)
    ((2, 8, 40, 48), dict(scale_factor=2, mode="bilinear")),
    ((2, 8, 40, 48), dict(size=(31, 70), mode="bicubic", align_corners=True)),
    ((2, 8, 40, 48), dict(size=(90, 20), mode="bilinear", antialias=True)),
    ((2, 8, 40, 48), dict(scale_factor=3, mode="nearest")),
]


@pytest.mark.torch
@pytest.mark.parametrize("shape, kw", CASES)
def test_matches_torch(shape, kw, torch):
    x = arr(*shape)
    tx, mx = torch.tensor(x, requires_grad=True), minitorch.tensor(x, requires_grad=True)
    ty = torch.nn.functional.interpolate(tx, **kw)
    my = F.interpolate(mx, **kw)
    close(my, ty)
    g = arr(*ty.shape)
    ty.backward(torch.tensor(g))
    my.backward(minitorch.tensor(g))
    close(mx.grad, tx.grad, 1e-4)


@pytest.mark.torch
@pytest.mark.parametrize("mode, antialias", [("bilinear", False), ("bilinear", True), ("bicubic", False),
                                             ("bicubic", True), ("nearest", False)])
def test_uint8_as_torch(mode, antialias, torch):
    """PyTorch's uint8 kernels work in fixed point (weights in 2**-22 units, each pass rounded and clamped): the
    same passes here give the same bytes but for up to 2-3% of them, off by one (the weights' own rounding)."""
    x = RNG.integers(0, 256, (2, 3, 31, 45)).astype(np.uint8)
    for size in ((17, 20), (64, 90)):
        t = torch.nn.functional.interpolate(torch.tensor(x), size=size, mode=mode, antialias=antialias).numpy()
        m = F.interpolate(minitorch.tensor(x), size=size, mode=mode, antialias=antialias)
        assert m.dtype is minitorch.uint8
        diff = np.abs(t.astype(np.int64) - m.numpy().astype(np.int64))
        assert diff.max() <= 1 and (diff > 0).mean() < 0.03
        if mode == "bilinear" and not antialias or mode == "nearest":
            assert diff.max() == 0


@pytest.mark.torch
@pytest.mark.parametrize("dtype, tol", [("float16", 2e-3), ("bfloat16", 2e-2), ("float64", 1e-12)])
def test_other_float_dtypes(dtype, tol, torch):
    x = RNG.standard_normal((2, 3, 7, 9))
    cases = [dict(size=(4, 13), mode="bicubic"), dict(scale_factor=2, mode="bilinear", align_corners=True)]
    if dtype == "float64":  # PyTorch's CPU antialias has no 16-bit kernels (minitorch computes those in float32)
        cases.append(dict(size=(3, 4), mode="bilinear", antialias=True))
    for kw in cases:
        t = torch.nn.functional.interpolate(torch.tensor(x).to(getattr(torch, dtype)), **kw)
        m = F.interpolate(minitorch.tensor(x).to(getattr(minitorch, dtype)), **kw)
        assert m.dtype is getattr(minitorch, dtype)
        np.testing.assert_allclose(m.double().numpy(), t.double().numpy(), rtol=tol, atol=tol)


def test_double_backward():
    x = minitorch.tensor(RNG.standard_normal((1, 2, 4, 5)), requires_grad=True)
    for kw in (dict(size=(7, 3), mode="bicubic"), dict(size=(3, 3), mode="bilinear", antialias=True),
               dict(scale_factor=2, mode="nearest")):
        fn = lambda t, kw=kw: F.interpolate(t, **kw) ** 2  # noqa: E731
        assert minitorch.autograd.gradcheck(fn, (x,))
        assert minitorch.autograd.gradgradcheck(fn, (x,))


def test_same_size_is_a_copy():
    x = minitorch.tensor(arr(1, 2, 4, 5))
    y = F.interpolate(x, size=(4, 5), mode="bilinear")
    assert np.array_equal(y.numpy(), x.numpy())
    y.add_(1)
    assert not np.array_equal(y.numpy(), x.numpy())


@pytest.mark.parametrize("mode", ["linear", "bicubic", "bilinear-aa", "nearest"])
def test_resample_kernels_on_device(device, mode):
    """The resample kernels on each device against the CPU's, along the last and a middle dimension, forward and
    backward."""
    x = arr(2, 3, 5, 6)
    kind, aa = ("bilinear", True) if mode == "bilinear-aa" else (mode, False)
    for dim, n_out in ((3, 4), (2, 9)):
        if kind == "nearest":
            idx = np.minimum((np.arange(n_out) * x.shape[dim] / n_out).astype(np.int64), x.shape[dim] - 1)[:, None]
            w = np.ones((n_out, 1))
        else:
            idx, w = interp_taps(x.shape[dim], n_out, kind, False, None, aa)
        g = arr(*(x.shape[:dim] + (n_out,) + x.shape[dim + 1:]))
        outs = []
        for dev in ("cpu", device):
            t = minitorch.tensor(x, device=dev, requires_grad=True)
            y = resample(t, dim, idx, w)
            y.backward(minitorch.tensor(g, device=dev))
            outs.append((y.detach().cpu().numpy(), t.grad.cpu().numpy()))
        np.testing.assert_allclose(outs[1][0], outs[0][0], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(outs[1][1], outs[0][1], rtol=1e-5, atol=1e-6)
    # the forward as a sum of taps, computed here
    idx, w = interp_taps(6, 4, "bicubic", True)
    want = np.einsum("...jt->...j", x[..., idx] * w.astype(np.float32))
    got = resample(minitorch.tensor(x, device=device), 3, idx, w).cpu().numpy()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_interp_taps_sum_to_one():
    for kind, aa in (("linear", False), ("bicubic", False), ("bilinear", True), ("bicubic", True), ("lanczos", True)):
        for n_in, n_out in ((7, 3), (7, 20), (1, 4), (5, 5)):
            idx, w = interp_taps(n_in, n_out, kind, False, None, aa)
            assert idx.min() >= 0 and idx.max() < n_in
            np.testing.assert_allclose(w.sum(1), 1.0, atol=1e-12)


def test_user_errors():
    x = minitorch.randn(1, 1, 4, 4)
    with pytest.raises(ValueError, match="Anti-alias option is restricted to bilinear, bicubic, and lanczos"):
        F.interpolate(x, scale_factor=2, mode="nearest", antialias=True)
    with pytest.raises(ValueError, match="Anti-alias option is restricted"):
        F.interpolate(minitorch.randn(1, 1, 4, 4, 4), scale_factor=2, mode="trilinear", antialias=True)
    with pytest.raises(ValueError, match="Lanczos mode requires antialias=True"):
        F.interpolate(x, scale_factor=2, mode="lanczos")
    with pytest.raises(ValueError, match="Lanczos mode does not support align_corners=True"):
        F.interpolate(x, scale_factor=2, mode="lanczos", antialias=True, align_corners=True)
    with pytest.raises(ValueError, match="align_corners option can only be set"):
        F.interpolate(x, size=2, mode="area", align_corners=True)
    with pytest.raises(NotImplementedError, match=r"Only 3D, 4D and 5D input.*\(got bicubic\)"):
        F.interpolate(minitorch.randn(1, 1, 4, 4, 4), scale_factor=2, mode="bicubic")
    with pytest.raises(NotImplementedError, match="trilinear mode needs 5D input"):
        F.interpolate(x, scale_factor=2, mode="trilinear")
    with pytest.raises(NotImplementedError, match="\"upsample_bilinear2d\" not implemented for 'Long'"):
        F.interpolate(minitorch.ones(1, 1, 4, 4, dtype=minitorch.int64), size=3, mode="bilinear")
    with pytest.raises(IndexError, match="tap index out of range"):
        resample(x, 3, np.array([[0], [4]]), np.ones((2, 1)))
