"""relu's one-pass backward from its saved output and the snapshot-free in-place relu_: gradients, NaN/inf
handling and errors against PyTorch, on contiguous and non-contiguous inputs."""
import numpy as np
import pytest

import minitorch

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch


def _grads(lib, x, gy, device, inplace, transpose):
    dev = {} if lib is torch else {"device": device}
    xx = lib.tensor(x, **dev).requires_grad_()
    h = xx * 1.5  # a non-leaf, so relu_ may write into it
    if transpose:
        h = h.transpose(0, 1)
    y = h.relu_() if inplace else lib.relu(h)
    y.backward(lib.tensor(gy, **dev))
    return y.detach().cpu().numpy(), xx.grad.cpu().numpy()


@pytest.mark.parametrize("inplace", [False, True])
@pytest.mark.parametrize("transpose", [False, True])
@pytest.mark.parametrize("n", [7, 40000])  # serial and parallel kernels
def test_relu_grad_matches_torch(device, inplace, transpose, n):
    if device != "cpu" and n > 7:
        pytest.skip("the parallel split is the CPU's; the simulator runs one Python thread per element")
    rng = np.random.default_rng(n)
    x = rng.standard_normal((2, n)).astype(np.float32)
    x[0, :3] = [0.0, np.nan, -np.inf]
    gy = rng.standard_normal((n, 2) if transpose else (2, n)).astype(np.float32)
    gy.flat[5] = np.inf
    for a, b in zip(_grads(minitorch, x, gy, device, inplace, transpose),
                    _grads(torch, x, gy, device, inplace, transpose)):
        np.testing.assert_array_equal(a, b)


def test_relu_grad_broadcast_upstream(device):
    x = np.array([[-1.0, 2.0, 3.0], [4.0, -5.0, 0.5]])
    res = []
    for lib in (minitorch, torch):
        dev = {} if lib is torch else {"device": device}
        xx = lib.tensor(x, **dev).requires_grad_()
        lib.relu(xx).sum().backward()
        res.append(xx.grad.cpu().numpy())
    np.testing.assert_array_equal(*res)


def test_relu_inplace_on_leaf_raises(device):
    xx = minitorch.tensor([1.0, -2.0], device=device).requires_grad_()
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        xx.relu_()


def test_relu_double_backward(device):
    res = []
    for lib in (minitorch, torch):
        dev = {} if lib is torch else {"device": device}
        xx = lib.tensor([1.0, -2.0, 3.0], dtype=lib.float64, **dev).requires_grad_()
        (g,) = lib.autograd.grad((lib.relu(xx) ** 3).sum(), xx, create_graph=True)
        g.sum().backward()
        res.append(xx.grad.cpu().numpy())
    np.testing.assert_array_equal(*res)
