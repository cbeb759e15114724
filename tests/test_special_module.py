"""minitorch.special (torch.special): its aliases and composites against PyTorch, values and gradients."""
import numpy as np
import pytest

import minitorch

X = np.array([-2.0, -0.5, 0.0, 0.3, 1.0, 2.5, 7.0, np.nan])
Y = np.array([0.0, -0.5, 1.0, np.nan, 0.0, 2.0, 3.0, 1.5])


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


@pytest.mark.torch
@pytest.mark.parametrize("name", ["entr", "ndtr", "expit", "gammaln", "psi", "digamma", "erf", "erfc", "expm1",
                                  "exp2", "log1p", "sinc", "round"])
def test_unary_matches_torch(name, torch):
    for dt in ("float32", "float64"):
        x = X.astype(dt)
        got = getattr(minitorch.special, name)(minitorch.tensor(x)).numpy()
        want = getattr(torch.special, name)(torch.tensor(x)).numpy()
        np.testing.assert_allclose(got, want, rtol=2e-6, atol=1e-6, equal_nan=True)


@pytest.mark.torch
def test_binary_and_reductions_match_torch(torch):
    x, y = minitorch.tensor(X), minitorch.tensor(Y)
    tx, ty = torch.tensor(X), torch.tensor(Y)
    np.testing.assert_allclose(minitorch.special.xlog1py(x, y).numpy(), torch.special.xlog1py(tx, ty).numpy(),
                               equal_nan=True)
    np.testing.assert_allclose(minitorch.special.xlog1py(2.0, y).numpy(), torch.special.xlog1py(2.0, ty).numpy(),
                               equal_nan=True)
    np.testing.assert_allclose(minitorch.special.xlogy(x, y).numpy(), torch.special.xlogy(tx, ty).numpy(),
                               equal_nan=True)
    a, b = np.array([0.5, 2.0, 7.0]), np.array([0.3, 3.0, 1.0])
    for name in ("gammainc", "gammaincc"):
        np.testing.assert_allclose(getattr(minitorch.special, name)(minitorch.tensor(a), minitorch.tensor(b)).numpy(),
                                   getattr(torch.special, name)(torch.tensor(a), torch.tensor(b)).numpy(), rtol=1e-10)
    m = np.random.default_rng(0).standard_normal((3, 4))
    for name in ("softmax", "log_softmax"):
        np.testing.assert_allclose(getattr(minitorch.special, name)(minitorch.tensor(m), 1).numpy(),
                                   getattr(torch.special, name)(torch.tensor(m), 1).numpy(), rtol=1e-12)
    np.testing.assert_allclose(minitorch.special.logsumexp(minitorch.tensor(m), 0).numpy(),
                               torch.special.logsumexp(torch.tensor(m), 0).numpy(), rtol=1e-12)
    np.testing.assert_allclose(minitorch.special.polygamma(2, minitorch.tensor(a)).numpy(),
                               torch.special.polygamma(2, torch.tensor(a)).numpy(), rtol=1e-9)
    for p in (1, 3):
        v = np.array([2.0, 3.5, 10.0])
        np.testing.assert_allclose(minitorch.special.multigammaln(minitorch.tensor(v), p).numpy(),
                                   torch.special.multigammaln(torch.tensor(v), p).numpy(), rtol=1e-12)
        np.testing.assert_allclose(minitorch.tensor(v).mvlgamma(p).numpy(), torch.tensor(v).mvlgamma(p).numpy(),
                                   rtol=1e-12)


def test_composites_are_differentiable_and_check_input():
    x = minitorch.tensor([0.3, 1.0, 2.5], dtype=minitorch.float64, requires_grad=True)
    y = minitorch.tensor([0.2, 1.5, 3.0], dtype=minitorch.float64, requires_grad=True)
    assert minitorch.autograd.gradcheck(minitorch.special.entr, (x,))
    assert minitorch.autograd.gradcheck(minitorch.special.ndtr, (x,))
    assert minitorch.autograd.gradcheck(minitorch.special.xlog1py, (x, y))
    assert minitorch.autograd.gradcheck(lambda t: minitorch.special.multigammaln(t + 2, 3), (x,))
    with pytest.raises(RuntimeError, match=r"All elements must be greater than \(p-1\)/2"):
        minitorch.special.multigammaln(minitorch.tensor([0.5]), 3)
    with pytest.raises(RuntimeError, match="p has to be greater than or equal to 1"):
        minitorch.mvlgamma(minitorch.tensor([2.0]), 0)


@pytest.mark.torch
def test_polygamma_of_any_order_and_zeta_match_torch(torch):
    x = np.array([0.3, 1.0, 2.5, 7.0, -0.5, -1.5, 30.0, 0.0])
    for n in (2, 3, 4, 7):
        np.testing.assert_allclose(minitorch.polygamma(n, minitorch.tensor(x)).numpy(),
                                   torch.polygamma(n, torch.tensor(x)).numpy(), rtol=1e-10)
        np.testing.assert_allclose(minitorch.special.polygamma(n, minitorch.tensor(x.astype(np.float32))).numpy(),
                                   torch.special.polygamma(n, torch.tensor(x.astype(np.float32))).numpy(), rtol=1e-5)
    xs = np.array([2.0, 3.0, 1.5, 1.0, 0.5, 4.0, 2.0, 5.0])
    qs = np.array([1.0, 0.5, 2.0, 1.0, 1.0, -1.5, 0.0, 100.0])
    np.testing.assert_allclose(minitorch.special.zeta(minitorch.tensor(xs), minitorch.tensor(qs)).numpy(),
                               torch.special.zeta(torch.tensor(xs), torch.tensor(qs)).numpy(), rtol=1e-12)
    np.testing.assert_allclose(minitorch.special.zeta(2.0, minitorch.tensor(qs[:3])).numpy(),
                               torch.special.zeta(2.0, torch.tensor(qs[:3])).numpy(), rtol=1e-12)
    t = minitorch.tensor(x[:4], requires_grad=True)
    minitorch.polygamma(2, t).sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), torch.polygamma(3, torch.tensor(x[:4])).numpy(), rtol=1e-10)
    t = minitorch.tensor(x[:4], requires_grad=True)
    minitorch.polygamma(1, t).sum().backward()  # trigamma's derivative is the order-2 polygamma
    np.testing.assert_allclose(t.grad.numpy(), torch.polygamma(2, torch.tensor(x[:4])).numpy(), rtol=1e-10)
    q = minitorch.tensor([1.5, 2.0], dtype=minitorch.float64, requires_grad=True)
    s = minitorch.tensor([2.0, 3.0], dtype=minitorch.float64)
    assert minitorch.autograd.gradcheck(lambda v: minitorch.special.zeta(s, v), (q,))
    with pytest.raises(RuntimeError, match="derivative for 'self'"):
        minitorch.special.zeta(minitorch.tensor([2.0], requires_grad=True), minitorch.tensor([1.0])).sum().backward()


def test_zeta_kernel_on_device(device):
    xs = np.array([2.0, 3.0, 1.5, 4.0])
    qs = np.array([1.0, 0.5, 2.0, -1.5])
    got = minitorch.special.zeta(minitorch.tensor(xs, device=device), minitorch.tensor(qs, device=device))
    want = minitorch.special.zeta(minitorch.tensor(xs), minitorch.tensor(qs))
    np.testing.assert_allclose(got.cpu().numpy(), want.numpy(), rtol=1e-12)
    np.testing.assert_allclose(want.numpy()[:2], [np.pi ** 2 / 6, 7 * 1.2020569031595942 * 1], rtol=1e-12)
