"""Elementwise kernels for particular layouts, against NumPy, and the launchers that pick them: in-place binary ops
(one array read and written), clamp to two scalars, and one operand broadcast along the rows of the other."""
import numpy as np
import pytest

import minitorch
from minitorch.kernels.cpu import elementwise as E
from minitorch.kernels.opcodes import BINARY

_NP = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide,
       "maximum": np.maximum, "minimum": np.minimum, "pow": np.power, "atan2": np.arctan2}


def _data(dt, n, seed):
    rng = np.random.default_rng(seed)
    if np.dtype(dt).kind == "f":
        a = (rng.standard_normal(n) * 4).astype(dt)
        a[::17] = np.nan
        a[3::19] = -0.0
        a[5::23] = 0.0
        return a
    return rng.integers(1, 50, n).astype(dt)


def _maxmin(name, x, y):
    """maximum/minimum as the kernels define them: NaN in x wins, then y unless x is strictly beyond it (so -0.0
    against 0.0 gives y), then NaN in y."""
    beyond = x > y if name == "maximum" else x < y
    return np.where(beyond | (x != x), x, y)


@pytest.mark.parametrize("par", [False, True])
@pytest.mark.parametrize("dt", ["float32", "float64", "int32", "int64"])
@pytest.mark.parametrize("name", ["add", "sub", "mul", "div", "maximum", "minimum", "pow", "atan2"])
def test_inplace_kernel_matches_numpy(name, dt, par):
    if np.dtype(dt).kind != "f" and name in ("div", "pow", "atan2"):
        pytest.skip("integer division, powers and atan2 take other paths")
    n = 3 * E.CHUNK + 77 if par else 301
    kernel = E.binary_inplace_flat_par if par else E.binary_inplace_flat
    for sb in (0, 1):
        x = _data(dt, n + 9, 1)
        b = _data(dt, n + 4, 2) if sb else np.array([0, 0, _data(dt, 1, 3)[0] or 2], dt)
        bo = 4 if sb else 2
        xv, bv = x[5:5 + n].copy(), (b[bo:bo + n] if sb else np.full(n, b[bo], dt))
        before = x.copy()
        with np.errstate(all="ignore"):
            want = _maxmin(name, xv, bv) if name in ("maximum", "minimum") else _NP[name](xv, bv).astype(dt)
            kernel(BINARY[name], x, 5, b, bo, sb, n)
        if name in ("pow", "atan2"):  # the generic row (libm's powf/atan2f against NumPy's): to an ulp or so
            np.testing.assert_allclose(x[5:5 + n], want, rtol=3e-7, atol=0)
        else:  # IEEE operations: exactly, signs of zeros too
            np.testing.assert_array_equal(x[5:5 + n], want)
            np.testing.assert_array_equal(np.signbit(x[5:5 + n]), np.signbit(want))
        np.testing.assert_array_equal(x[:5], before[:5])  # nothing written outside the run
        np.testing.assert_array_equal(x[5 + n:], before[5 + n:])


@pytest.mark.parametrize("par", [False, True])
@pytest.mark.parametrize("dt", ["float32", "float64", "int64"])
def test_clamp_kernel_matches_two_passes(dt, par):
    n = 2 * E.CHUNK + 5 if par else 97
    x = _data(dt, n + 3, 4)
    for lo, hi in ((-1, 2), (3, -3), (0, 0)):
        out = np.full(n + 2, 7, dt)
        los, his = np.array([9, lo], dt), np.array([hi], dt)
        (E.clamp_flat_par if par else E.clamp_flat)(x, 3, los, 1, his, 0, out, 1, n)
        want = _maxmin("minimum", _maxmin("maximum", x[3:], np.asarray(lo, dt)), np.asarray(hi, dt))
        np.testing.assert_array_equal(out[1:1 + n], want)
        assert out[0] == 7 and out[-1] == 7


def test_inplace_ops_through_the_tensor_api(device):
    a = np.array([1.5, -2.0, np.nan, 0.0, -0.0, 4.0] * 7000, np.float32)  # past the threaded launch's bound
    b = np.array([0.5, 3.0, 1.0, -0.0, 0.0, np.nan] * 7000, np.float32)
    x = minitorch.tensor(a, device=device)
    y = minitorch.tensor(b, device=device)
    v = x._version
    assert x.add_(y) is x and x._version == v + 1
    np.testing.assert_array_equal(x.cpu().numpy(), a + b)
    x.mul_(0.5).sub_(2.0)
    np.testing.assert_array_equal(x.cpu().numpy(), (a + b) * np.float32(0.5) - np.float32(2.0))
    x = minitorch.tensor(a, device=device)
    x /= y
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal(x.cpu().numpy(), a / b)
    small = minitorch.tensor(a[:6], device=device)
    small += minitorch.tensor(2.0, device=device)  # a 0-d operand
    np.testing.assert_array_equal(small.cpu().numpy(), a[:6] + 2)
    half = minitorch.tensor(a[:12], device=device)[6:]  # a contiguous view at an offset
    half.mul_(minitorch.tensor(b[:6], device=device))
    np.testing.assert_array_equal(half.cpu().numpy(), a[6:12] * b[:6])


def test_clamp_with_two_bounds_in_one_pass(device):
    a = np.array([1.5, -2.0, np.nan, 0.0, -0.0, 4.0, -7.0] * 9000, np.float32)
    x = minitorch.tensor(a, device=device)
    np.testing.assert_array_equal(x.clamp(-1, 2).cpu().numpy(), np.clip(a, -1, 2))
    np.testing.assert_array_equal(x.clamp(3, -3).cpu().numpy(), np.where(a != a, a, -3))  # min > max gives max
    xi = minitorch.tensor([5, -9, 2], device=device)
    assert xi.clamp(-1, 3).tolist() == [3, -1, 2]
    g = minitorch.tensor(a[:7], device=device, requires_grad=True)
    g.clamp(-1.0, 2.0).sum().backward()
    assert g.grad.cpu().tolist() == [1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0]


@pytest.mark.parametrize("name", ["add", "sub", "div", "maximum", "pow"])
@pytest.mark.parametrize("full, row", [((6, 7), (7,)), ((6, 7), (1, 7)), ((2, 3, 4), (3, 4)), ((2, 3, 4), (1, 1, 4)),
                                       ((300, 130), (130,))])
def test_a_row_broadcast_over_a_whole_operand(device, name, full, row):
    if device != "cpu" and full[0] == 300:
        pytest.skip("the threaded size stays off the simulator")
    rng = np.random.default_rng(5)
    x = (rng.standard_normal((3,) + full) * 3).astype(np.float32)
    r = (rng.standard_normal(row) * 3 + 0.5).astype(np.float32)
    X = minitorch.tensor(x, device=device)[1]  # at an offset
    R = minitorch.tensor(r, device=device)
    op = {"add": np.add, "sub": np.subtract, "div": np.divide, "maximum": np.maximum, "pow": np.power}[name]
    f = getattr(minitorch, name)
    with np.errstate(all="ignore"):
        for got, want in ((f(X, R), op(x[1], r)), (f(R, X), op(r, x[1]))):  # the row on either side
            assert tuple(got.shape) == want.shape
            np.testing.assert_allclose(got.cpu().numpy(), want, rtol=1e-6, equal_nan=True)
    xi = minitorch.tensor(rng.integers(-9, 9, full), device=device)
    ri = minitorch.tensor(rng.integers(-9, 9, row), device=device)
    np.testing.assert_array_equal((xi - ri).cpu().numpy(), xi.cpu().numpy() - ri.cpu().numpy())


@pytest.mark.parametrize("dt", ["float32", "int64", "bool", "float16"])
def test_boolean_mask_of_the_whole_shape_compresses_in_one_pass(device, dt):
    if device != "cpu" and dt in ("int64", "bool"):
        pytest.skip("the kernels copy bits alike for every dtype; two of them cover the simulator")
    rng = np.random.default_rng(6)
    shape = (3, 40, 50) if device == "cpu" else (2, 3, 5)  # the simulator runs a Python thread per element
    a = (rng.standard_normal(shape) * 5).astype(dt)
    m = rng.random(shape) > 0.4
    x, mk = minitorch.tensor(a, device=device), minitorch.tensor(m, device=device)
    got = x[mk]
    assert got.shape == (int(m.sum()),) and got.dtype == x.dtype
    np.testing.assert_array_equal(got.cpu().numpy(), a[m])
    xt, mt = x.permute(2, 0, 1), mk.permute(2, 0, 1)  # strided tensor and mask
    np.testing.assert_array_equal(xt[mt].cpu().numpy(), a.transpose(2, 0, 1)[m.transpose(2, 0, 1)])
    for fill in (False, True):  # none and every element
        full = minitorch.full(shape, fill, dtype=minitorch.bool, device=device)
        np.testing.assert_array_equal(x[full].cpu().numpy(), a.reshape(-1)[:a.size if fill else 0])
    empty = minitorch.zeros(0, 4, device=device)
    assert empty[minitorch.zeros(0, 4, dtype=minitorch.bool, device=device)].shape == (0,)
    assert x.masked_select(mk).cpu().numpy().tolist() == a[m].tolist()
    if dt == "float32":  # with autograd: the general path, and its gradient
        w = minitorch.tensor(a, device=device, requires_grad=True)
        w[mk].sum().backward()
        np.testing.assert_array_equal(w.grad.cpu().numpy(), m.astype(np.float32))


def test_float32_sigmoid_is_within_three_ulp_and_keeps_special_values():
    """float32 sigmoid runs in float32 arithmetic (as PyTorch's): within 3 ulp of the exact value over the range
    where it is not saturated, 1 and 0 at the infinities, NaN through, 0.5 at both zeros."""
    x = np.concatenate([np.linspace(-86.5, 30.0, 400001, dtype=np.float32),
                        np.random.default_rng(0).standard_normal(100000).astype(np.float32) * 5])
    got = minitorch.sigmoid(minitorch.from_numpy(x)).numpy()
    exact = 1.0 / (1.0 + np.exp(-x.astype(np.float64)))
    ulps = np.abs(got - exact) / np.spacing(exact.astype(np.float32))
    assert got.dtype == np.float32 and ulps.max() <= 3.0
    special = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, -90.0, 90.0], np.float32)
    got = minitorch.sigmoid(minitorch.from_numpy(special)).numpy()
    np.testing.assert_array_equal(got, [np.nan, 1.0, 0.0, 0.5, 0.5, 0.0, 1.0])
