"""Training-mode batch norm as one node (ops/batch_norm.py): forward, running estimates and gradients against
PyTorch for 2-D to 5-D inputs, with and without affine parameters, non-contiguous inputs, gradients of a subset of
inputs, float64, and create_graph (second derivatives) through the recorded-op fallback."""
import numpy as np
import pytest

import minitorch

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

SHAPES = [(5, 3), (4, 6, 7), (3, 5, 4, 6), (2, 3, 2, 3, 2), (2, 9, 1, 1)]


def _run(lib, x, w, b, gy, device, permute=False, need=(True, True, True)):
    dev = {} if lib is torch else {"device": device}
    xx = lib.tensor(x, **dev)
    if permute:  # a non-contiguous view with the same values
        xx = lib.tensor(np.ascontiguousarray(np.swapaxes(x, 0, -1)), **dev).transpose(0, -1)
    xx.requires_grad_(need[0])
    ww = lib.tensor(w, **dev).requires_grad_(need[1]) if w is not None else None
    bb = lib.tensor(b, **dev).requires_grad_(need[2]) if b is not None else None
    C = x.shape[1]
    rm = lib.zeros(C, dtype=xx.dtype, **dev)
    rv = lib.ones(C, dtype=xx.dtype, **dev)
    out = lib.nn.functional.batch_norm(xx, rm, rv, ww, bb, True, 0.1, 1e-5)
    out.backward(lib.tensor(gy, **dev))
    got = [out, rm, rv, xx.grad, ww.grad if ww is not None else None, bb.grad if bb is not None else None]
    return [None if t is None else t.detach().cpu().numpy() for t in got]


def _check(a, b, tol):
    for u, v in zip(a, b):
        assert (u is None) == (v is None)
        if u is not None:
            np.testing.assert_allclose(u, v, rtol=tol, atol=tol)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_batch_norm_train_matches_torch(device, shape, affine, dt):
    rng = np.random.default_rng(sum(shape))
    x = (rng.standard_normal(shape) * 3 + 1).astype(dt)
    C = shape[1]
    w = rng.standard_normal(C).astype(dt) if affine else None
    b = rng.standard_normal(C).astype(dt) if affine else None
    gy = rng.standard_normal(shape).astype(dt)
    tol = 2e-5 if dt == np.float32 else 1e-12
    _check(_run(minitorch, x, w, b, gy, device), _run(torch, x, w, b, gy, device), tol)


def test_batch_norm_train_noncontiguous_and_partial_grads(device):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 4, 5, 2)).astype(np.float32)
    w = rng.standard_normal(4).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)
    gy = rng.standard_normal(x.shape).astype(np.float32)
    _check(_run(minitorch, x, w, b, gy, device, permute=True), _run(torch, x, w, b, gy, device, permute=True), 2e-5)
    for need in [(True, False, False), (False, True, False), (False, False, True)]:
        _check(_run(minitorch, x, w, b, gy, device, need=need), _run(torch, x, w, b, gy, device, need=need), 2e-5)


def test_batch_norm_train_double_backward(device):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 2, 2, 2))
    w = rng.standard_normal(2)
    res = []
    for lib in (minitorch, torch):
        dev = {} if lib is torch else {"device": device}
        xx = lib.tensor(x, **dev).requires_grad_()
        ww = lib.tensor(w, **dev).requires_grad_()
        out = lib.nn.functional.batch_norm(xx, None, None, ww, None, True)
        (gx,) = lib.autograd.grad((out ** 3).sum(), xx, create_graph=True)
        gx.square().sum().backward()
        res.append([xx.grad.detach().cpu().numpy(), ww.grad.detach().cpu().numpy()])
    _check(res[0], res[1], 1e-9)


def test_batch_norm_train_module_matches_torch(device):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 3, 5, 5)).astype(np.float32)
    mb = minitorch.nn.BatchNorm2d(3).to(device)
    tb = torch.nn.BatchNorm2d(3)
    for _ in range(2):
        ym = mb(minitorch.tensor(x, device=device))
        yt = tb(torch.tensor(x))
    np.testing.assert_allclose(ym.detach().cpu().numpy(), yt.detach().numpy(), rtol=2e-5, atol=2e-5)
    np.testing.assert_allclose(mb.running_var.cpu().numpy(), tb.running_var.numpy(), rtol=2e-6)
    np.testing.assert_allclose(mb.running_mean.cpu().numpy(), tb.running_mean.numpy(), rtol=2e-6, atol=1e-7)
    assert int(mb.num_batches_tracked.item()) == 2


def test_batch_norm_train_errors(device):
    x = minitorch.randn(1, 3, device=device)
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        minitorch.nn.functional.batch_norm(x, None, None, training=True)
