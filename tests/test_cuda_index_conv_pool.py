"""CUDA index, conv and pool kernels against the CPU kernels of the same names, on tiny inputs.

Runs on a GPU or on Numba's simulator (NUMBA_ENABLE_CUDASIM=1); skipped where the cuda device is not available.
"""
import numpy as np
import pytest

import minitorch

# uint8 accumulation wraps on purpose; the simulator runs it on NumPy scalars, which warn about it
pytestmark = [pytest.mark.cuda, pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")]

if "cuda" not in minitorch.dispatch.available():
    pytest.skip("the cuda device is not available (set NUMBA_ENABLE_CUDASIM=1 for the simulator)",
                allow_module_level=True)

from numba import config, cuda  # noqa: E402

from minitorch.kernels.cpu import conv as cpu_conv, index as cpu_index, pool as cpu_pool  # noqa: E402
from minitorch.kernels.cuda import _grid, conv as gpu_conv, index as gpu_index, pool as gpu_pool  # noqa: E402

DTYPES = [np.float32, np.float64, np.int64, np.int32, np.uint8, np.bool_]
FLOATS = [np.float32, np.float64]


@pytest.fixture(autouse=True)
def atomic_dtypes(monkeypatch):
    """On the simulator, fail any atomic add on a dtype the GPU has no atomic add for (it would not compile)."""
    if not config.ENABLE_CUDASIM:
        return
    from numba.cuda.simulator import kernelapi
    add = kernelapi.FakeCUDAAtomic.add

    def checked(self, array, index, val):
        assert np.dtype(array.dtype) in gpu_index.ATOMIC_ADD, f"atomic add on {array.dtype}"
        return add(self, array, index, val)

    monkeypatch.setattr(kernelapi.FakeCUDAAtomic, "add", checked)


def rand(rng, n, dtype):
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return rng.random(n) < 0.5
    if dtype.kind == "f":
        return rng.standard_normal(n).astype(dtype)
    return rng.integers(0, 100 if dtype == np.uint8 else 1000, n).astype(dtype)


def dev(a):
    return cuda.to_device(np.ascontiguousarray(a))


def i64(*v):
    return np.array(v, dtype=np.int64)


def tol(dtype):
    return dict(rtol=1e-5, atol=1e-5) if np.dtype(dtype) == np.float32 else dict(rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------------------------------------------------------
# index: take / put
# ---------------------------------------------------------------------------------------------------------------
# a (4, 3, 5) view at offset 3 of a 70-element storage, walked in transposed order; indexed along dim 1
BASE, X_SHAPE, X_STRIDES = 3, (4, 3, 5), (1, 20, 4)  # every element lies in [3, 3 + 3 + 40 + 16]


@pytest.mark.parametrize("dtype", DTYPES)
def test_take(dtype):
    rng = np.random.default_rng(0)
    src = rand(rng, 70, dtype)
    lin = i64(2, 0, 2, 1) * X_STRIDES[1]
    rest_shape, rest_strides = i64(4, 5), i64(1, 4)
    expect = np.zeros((4, 20), dtype)
    cpu_index.take(src, BASE, lin, rest_shape, rest_strides, expect.reshape(-1))
    out = cuda.device_array(80, dtype)
    gpu_index.take(dev(src), BASE, dev(lin), rest_shape, rest_strides, out)
    np.testing.assert_array_equal(out.copy_to_host(), expect.reshape(-1))
    out = cuda.device_array(80, dtype)
    gpu_index.take_par(dev(src), BASE, dev(lin), rest_shape, rest_strides, out)
    np.testing.assert_array_equal(out.copy_to_host(), expect.reshape(-1))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("accumulate", [False, True])
def test_put(dtype, accumulate):
    rng = np.random.default_rng(1)
    dst = rand(rng, 70, dtype)
    # with accumulate the same row lands three times; without, the rows are distinct
    lin = (i64(2, 0, 2, 1, 2) if accumulate else i64(2, 0, 1)) * X_STRIDES[1]
    rest_shape, rest_strides = i64(4, 5), i64(1, 4)
    vals = rand(rng, 200, dtype)
    vo, vst = 7, i64(30, 1, 6)  # values viewed as (len(lin), 4, 5), non-contiguous
    expect = dst.copy()
    cpu_index.put(expect, BASE, lin, rest_shape, rest_strides, vals, vo, vst, accumulate)
    got = dev(dst)
    gpu_index.put(got, BASE, dev(lin), rest_shape, rest_strides, dev(vals), vo, vst, accumulate)
    got = got.copy_to_host()
    if np.dtype(dtype).kind == "f":
        np.testing.assert_allclose(got, expect, **tol(dtype))
    else:
        np.testing.assert_array_equal(got, expect)
    assert not np.array_equal(expect, dst)


def test_put_accumulate_broadcast_and_overflow():
    """A broadcast value (strides 0) added many times to one uint8 element wraps as on the CPU."""
    dst = np.array([250, 1, 2], np.uint8)
    lin = np.zeros(9, np.int64)
    vals = np.array([5], np.uint8)
    expect = dst.copy()
    cpu_index.put(expect, 0, lin, i64(1), i64(0), vals, 0, i64(0, 0), True)
    got = dev(dst)
    gpu_index.put(got, 0, dev(lin), i64(1), i64(0), dev(vals), 0, i64(0, 0), True)
    np.testing.assert_array_equal(got.copy_to_host(), expect)
    assert expect[0] == (250 + 45) % 256


def test_put_repeated_without_accumulate_keeps_one_value():
    lin = i64(1, 1, 1, 3)
    vals = np.array([10.0, 20.0, 30.0, 40.0])
    got = dev(np.zeros(5))
    gpu_index.put(got, 0, dev(lin), i64(1), i64(0), dev(vals), 0, i64(1, 0), False)
    got = got.copy_to_host()
    assert got[1] in (10.0, 20.0, 30.0) and got[3] == 40.0 and got[[0, 2, 4]].tolist() == [0, 0, 0]


# ---------------------------------------------------------------------------------------------------------------
# index: gather / scatter
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("dim", [0, 1, 2])
def test_gather(dtype, dim):
    rng = np.random.default_rng(2 + dim)
    src = rand(rng, 70, dtype)
    shape = i64(3, 2, 4)  # index shape, no larger than X_SHAPE off dim
    raw = rng.integers(0, X_SHAPE[dim], 40)
    io, ist = 2, i64(1, 12, 3)  # a non-contiguous index view
    expect = np.zeros(24, dtype)
    cpu_index.gather(src, BASE, i64(*X_STRIDES), raw, io, ist, dim, shape, expect)
    out = cuda.device_array(24, dtype)
    gpu_index.gather(dev(src), BASE, i64(*X_STRIDES), dev(raw), io, ist, dim, shape, out)
    np.testing.assert_array_equal(out.copy_to_host(), expect)
    out = cuda.device_array(24, dtype)
    gpu_index.gather_par(dev(src), BASE, i64(*X_STRIDES), dev(raw), io, ist, dim, shape, out)
    np.testing.assert_array_equal(out.copy_to_host(), expect)


def test_gather_0d():
    src = np.array([0.0, 4.5, 9.0])
    expect, out = np.zeros(1), cuda.device_array(1, np.float64)
    idx = np.zeros(1, np.int64)
    cpu_index.gather(src, 1, i64(0), idx, 0, i64(0), 0, i64(1), expect)
    gpu_index.gather(dev(src), 1, i64(0), dev(idx), 0, i64(0), 0, i64(1), out)
    assert out.copy_to_host()[0] == expect[0] == 4.5


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("dim", [0, 2])
@pytest.mark.parametrize("accumulate", [False, True])
def test_scatter(dtype, dim, accumulate):
    rng = np.random.default_rng(5 + dim)
    dst = rand(rng, 70, dtype)
    shape = i64(3, 2, 4)
    if accumulate:
        raw = rng.integers(0, 2, 40)  # few targets: many repeats
    else:
        # distinct targets along dim for every position of the other dims
        raw = np.zeros(40, np.int64)
        perms = {}
        for a in range(3):
            for b in range(2):
                for c in range(4):
                    pos = (a, b, c)
                    fiber = pos[:dim] + pos[dim + 1:]
                    perm = perms.setdefault(fiber, rng.permutation(X_SHAPE[dim]))
                    raw[2 + a * 1 + b * 12 + c * 3] = perm[pos[dim]]
    io, ist = 2, i64(1, 12, 3)
    vals = rand(rng, 60, dtype)
    vo, vst = 4, i64(0, 8, 2)  # broadcast along dim 0
    expect = dst.copy()
    cpu_index.scatter(expect, BASE, i64(*X_STRIDES), raw, io, ist, vals, vo, vst, dim, shape, accumulate)
    got = dev(dst)
    gpu_index.scatter(got, BASE, i64(*X_STRIDES), dev(raw), io, ist, dev(vals), vo, vst, dim, shape, accumulate)
    got = got.copy_to_host()
    if np.dtype(dtype).kind == "f":
        np.testing.assert_allclose(got, expect, **tol(dtype))
    else:
        np.testing.assert_array_equal(got, expect)
    assert not np.array_equal(expect, dst)


def test_scatter_without_accumulate_distinct_targets_exact():
    """Same permutation along dim for every column: a plain scatter is deterministic and exact."""
    dst = np.zeros(12)
    idx = np.array([[2, 0, 1, 3]] * 3, np.int64).T.copy()  # (4, 3), dim 0 of a (4, 3) dst
    vals = np.arange(12, dtype=np.float64)
    expect = dst.copy()
    cpu_index.scatter(expect, 0, i64(3, 1), idx.reshape(-1), 0, i64(3, 1), vals, 0, i64(3, 1), 0, i64(4, 3), False)
    got = dev(dst)
    gpu_index.scatter(got, 0, i64(3, 1), dev(idx.reshape(-1)), 0, i64(3, 1), dev(vals), 0, i64(3, 1), 0, i64(4, 3),
                      False)
    np.testing.assert_array_equal(got.copy_to_host(), expect)
    assert sorted(expect.tolist()) == list(range(12))


# ---------------------------------------------------------------------------------------------------------------
# index: nonzero / count_nonzero
# ---------------------------------------------------------------------------------------------------------------
def _masks():
    rng = np.random.default_rng(7)
    yield rng.random((3, 4, 5)) < 0.3
    yield rng.random((100,)) < 0.5
    yield np.ones((2, 50), bool)
    yield np.zeros((9, 11), bool)
    yield np.array([True])
    x = rng.standard_normal((6, 7))
    x[x < 0.2] = 0
    x[1, 3] = np.nan
    x[5, 6] = -0.0
    yield x
    yield rng.integers(0, 3, (4, 3, 2, 4)).astype(np.int32)


@pytest.mark.parametrize("mask", list(_masks()), ids=lambda m: f"{m.dtype}{m.shape}")
def test_nonzero(mask):
    flat = mask.reshape(-1)
    count = cpu_index.count_nonzero(flat)
    assert gpu_index.count_nonzero(dev(flat)) == count
    expect = np.full((count, mask.ndim), -1, np.int64)
    n = cpu_index.nonzero(flat, i64(*mask.shape), expect)
    got = cuda.to_device(np.full((count, mask.ndim), -1, np.int64))
    assert gpu_index.nonzero(dev(flat), i64(*mask.shape), got) == n == count
    np.testing.assert_array_equal(got.copy_to_host(), expect)
    np.testing.assert_array_equal(expect, np.argwhere(mask))


def test_nonzero_of_a_view():
    mask = np.zeros(40, bool)
    mask[[3, 4, 17, 39]] = True
    d = dev(mask)[4:39]
    assert gpu_index.count_nonzero(d) == 2
    out = cuda.device_array((2, 2), np.int64)
    assert gpu_index.nonzero(d, i64(5, 7), out) == 2
    np.testing.assert_array_equal(out.copy_to_host(), [[0, 0], [1, 6]])


# ---------------------------------------------------------------------------------------------------------------
# conv
# ---------------------------------------------------------------------------------------------------------------
def _out(n, k, s, p, d):
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


CONVS = [  # N, C, H, W, O, groups, kh, kw, stride, padding, dilation
    (2, 3, 5, 4, 2, 1, 3, 3, (1, 1), (1, 1), (1, 1)),
    (1, 4, 6, 5, 4, 2, 2, 3, (2, 1), (0, 1), (1, 2)),
    (2, 2, 7, 3, 2, 2, 3, 1, (3, 2), (2, 0), (2, 1)),
    (1, 1, 4, 4, 3, 1, 1, 1, (1, 1), (0, 0), (1, 1)),
]


def _conv_case(case, dtype, seed):
    N, C, H, W, O, G, kh, kw, (sh, sw), (ph, pw), (dh, dw) = case
    rng = np.random.default_rng(seed)
    OH, OW = _out(H, kh, sh, ph, dh), _out(W, kw, sw, pw, dw)
    Og, Kg = O // G, C // G * kh * kw
    x = rand(rng, N * C * H * W, dtype).reshape(N, C, H, W) % 7 if np.dtype(dtype).kind == "i" else \
        rand(rng, N * C * H * W, dtype).reshape(N, C, H, W)
    w = rand(rng, G * Og * Kg, dtype).reshape(G, Og, Kg) % 5 if np.dtype(dtype).kind == "i" else \
        rand(rng, G * Og * Kg, dtype).reshape(G, Og, Kg)
    b = rand(rng, O, dtype)
    conf = (kh, kw, sh, sw, ph, pw, dh, dw, OH, OW)
    return x, w, b, conf, (N, C, H, W, O, G, Og, Kg, OH * OW)


def _check(got, expect, dtype):
    if np.dtype(dtype).kind == "f":
        np.testing.assert_allclose(got, expect, **tol(dtype))
    else:
        np.testing.assert_array_equal(got, expect)


@pytest.mark.parametrize("dtype", FLOATS + [np.int64])
@pytest.mark.parametrize("has_b", [True, False])
@pytest.mark.parametrize("case", CONVS)
def test_conv2d_forward(case, has_b, dtype):
    x, w, b, conf, (N, C, H, W, O, G, Og, Kg, L) = _conv_case(case, dtype, 11)
    bias = b if has_b else w.reshape(-1)
    expect = np.zeros((N, G, Og, L), dtype)
    cpu_conv.conv2d_forward(x, w, bias, has_b, expect, np.zeros((1, Kg, L), dtype), *conf)
    got = cuda.device_array((N, G, Og, L), dtype)
    gpu_conv.conv2d_forward(dev(x), dev(w), dev(bias), has_b, got, cuda.device_array((1, Kg, L), dtype), *conf)
    _check(got.copy_to_host(), expect, dtype)


@pytest.mark.parametrize("has_b", [True, False])
def test_conv2d_forward_relu_epilogue(has_b):
    x, w, b, conf, (N, C, H, W, O, G, Og, Kg, L) = _conv_case(CONVS[0], np.float32, 12)
    bias = b if has_b else w.reshape(-1)
    plain = np.zeros((N, G, Og, L), np.float32)
    cpu_conv.conv2d_forward(x, w, bias, has_b, plain, np.zeros((1, Kg, L), np.float32), *conf)
    fused = np.zeros((N, G, Og, L), np.float32)
    cpu_conv.conv2d_forward(x, w, bias, has_b, fused, np.zeros((1, Kg, L), np.float32), *conf, 1)
    assert (plain < 0).any()
    np.testing.assert_array_equal(fused, np.maximum(plain, 0))
    got = cuda.device_array((N, G, Og, L), np.float32)
    gpu_conv.conv2d_forward(dev(x), dev(w), dev(bias), has_b, got, cuda.device_array((1, Kg, L), np.float32), *conf,
                            1)
    _check(got.copy_to_host(), fused, np.float32)


@pytest.mark.parametrize("dtype", FLOATS + [np.int64])
@pytest.mark.parametrize("case", CONVS)
def test_conv2d_backward(case, dtype):
    x, w, b, conf, (N, C, H, W, O, G, Og, Kg, L) = _conv_case(case, dtype, 12)
    rng = np.random.default_rng(13)
    g = rand(rng, N * O * L, dtype).reshape(N, G, Og, L)
    T = _grid.THREADS + 2  # more partial-sum slots than threads per block
    gx, gw, gb = np.zeros((N, C, H, W), dtype), np.zeros((T, G, Og, Kg), dtype), np.zeros((T, O), dtype)
    cpu_conv.conv2d_backward(x, w, g, gx, gw, gb, True, True, True, np.zeros((T, Kg, L), dtype),
                             np.zeros((T, Og, Kg), dtype), *conf)
    dgx = cuda.to_device(np.full((N, C, H, W), 99, dtype))
    dgw = cuda.to_device(np.full((T, G, Og, Kg), 99, dtype))
    dgb = cuda.to_device(np.full((T, O), 99, dtype))
    gpu_conv.conv2d_backward(dev(x), dev(w), dev(g), dgx, dgw, dgb, True, True, True,
                             cuda.device_array((T, Kg, L), dtype), cuda.device_array((T, Og, Kg), dtype), *conf)
    _check(dgx.copy_to_host(), gx, dtype)
    hw, hb = dgw.copy_to_host(), dgb.copy_to_host()
    _check(hw[0], gw.sum(0), dtype)
    _check(hb[0], gb.sum(0), dtype)
    assert not hw[1:].any() and not hb[1:].any()


def test_conv2d_backward_only_bias():
    """need_x/need_w False leave gx and gw untouched."""
    x, w, b, conf, (N, C, H, W, O, G, Og, Kg, L) = _conv_case(CONVS[1], np.float64, 14)
    g = np.random.default_rng(15).standard_normal((N, G, Og, L))
    dgx, dgw, dgb = cuda.to_device(np.full((N, C, H, W), 7.0)), cuda.to_device(np.full((1, G, Og, Kg), 7.0)), \
        cuda.to_device(np.full((1, O), 7.0))
    gpu_conv.conv2d_backward(dev(x), dev(w), dev(g), dgx, dgw, dgb, False, False, True, None, None, *conf)
    assert (dgx.copy_to_host() == 7).all() and (dgw.copy_to_host() == 7).all()
    np.testing.assert_allclose(dgb.copy_to_host()[0], g.sum((0, 3)).reshape(-1))


# ---------------------------------------------------------------------------------------------------------------
# pool
# ---------------------------------------------------------------------------------------------------------------
POOLS = [  # H, W, kh, kw, sh, sw, ph, pw, dh, dw, ceil_mode
    (5, 6, 2, 2, 1, 1, 0, 0, 1, 1, False),
    (5, 6, 3, 2, 2, 2, 1, 1, 1, 1, True),
    (6, 5, 2, 3, 1, 2, 1, 0, 2, 1, False),
    (4, 7, 3, 3, 3, 2, 1, 1, 1, 2, True),
]


def _pool_out(n, k, s, p, d, ceil_mode):
    num = n + 2 * p - (d * (k - 1) + 1)
    out = (-(-num // s) if ceil_mode else num // s) + 1
    return out - 1 if ceil_mode and (out - 1) * s >= n + p else out


def _pool_input(rng, P, H, W, dtype):
    # a few distinct values: many ties inside every window
    x = rng.integers(-3, 3, P * H * W).astype(dtype)
    if np.dtype(dtype).kind == "f":
        x[rng.random(x.size) < 0.1] = np.nan
        x[rng.random(x.size) < 0.05] = -np.inf
        x[:H * W] = -np.inf  # a plane of -inf only: the first position must win
    return x


@pytest.mark.parametrize("dtype", FLOATS + [np.int64, np.int32])
@pytest.mark.parametrize("case", POOLS)
def test_max_pool2d(case, dtype):
    H, W, kh, kw, sh, sw, ph, pw, dh, dw, ceil_mode = case
    OH, OW = _pool_out(H, kh, sh, ph, dh, ceil_mode), _pool_out(W, kw, sw, pw, dw, ceil_mode)
    P = 3
    x = _pool_input(np.random.default_rng(20), P, H, W, dtype)
    conf = (kh, kw, sh, sw, ph, pw, dh, dw, OH, OW)
    out, idx = np.zeros(P * OH * OW, dtype), np.zeros(P * OH * OW, np.int64)
    cpu_pool.max_pool2d(x, P, H, W, out, idx, *conf)
    dout, didx = cuda.device_array(P * OH * OW, dtype), cuda.device_array(P * OH * OW, np.int64)
    gpu_pool.max_pool2d(dev(x), P, H, W, dout, didx, *conf)
    np.testing.assert_array_equal(didx.copy_to_host(), idx)
    np.testing.assert_array_equal(dout.copy_to_host(), out)


@pytest.mark.parametrize("dtype", FLOATS + [np.int64, np.uint8])
@pytest.mark.parametrize("case", POOLS)
def test_max_pool2d_backward(case, dtype):
    H, W, kh, kw, sh, sw, ph, pw, dh, dw, ceil_mode = case
    OH, OW = _pool_out(H, kh, sh, ph, dh, ceil_mode), _pool_out(W, kw, sw, pw, dw, ceil_mode)
    P, L = 2, OH * OW
    rng = np.random.default_rng(21)
    x = _pool_input(rng, P, H, W, np.float64)
    out, idx = np.zeros(P * L), np.zeros(P * L, np.int64)
    cpu_pool.max_pool2d(x, P, H, W, out, idx, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW)
    idx[1] = -1  # no position: nothing lands
    g = rand(rng, P * L, dtype) if np.dtype(dtype).kind == "f" else rng.integers(0, 9, P * L).astype(dtype)
    expect = np.zeros(P * H * W, dtype)
    cpu_pool.max_pool2d_backward(g, idx, P, H * W, L, expect)
    got = cuda.to_device(np.zeros(P * H * W, dtype))
    gpu_pool.max_pool2d_backward(dev(g), dev(idx), P, H * W, L, got)
    _check(got.copy_to_host(), expect, dtype)
    assert expect.any()


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("count_include_pad", [True, False])
@pytest.mark.parametrize("divisor", [0, 3])
@pytest.mark.parametrize("case", POOLS)
def test_avg_pool2d(case, divisor, count_include_pad, dtype):
    H, W, kh, kw, sh, sw, ph, pw, _, _, ceil_mode = case
    OH, OW = _pool_out(H, kh, sh, ph, 1, ceil_mode), _pool_out(W, kw, sw, pw, 1, ceil_mode)
    P = 2
    rng = np.random.default_rng(22)
    x = rand(rng, P * H * W, dtype)
    conf = (kh, kw, sh, sw, ph, pw, OH, OW, count_include_pad, divisor)
    expect = np.zeros(P * OH * OW, dtype)
    cpu_pool.avg_pool2d(x, P, H, W, expect, *conf)
    got = cuda.device_array(P * OH * OW, dtype)
    gpu_pool.avg_pool2d(dev(x), P, H, W, got, *conf)
    np.testing.assert_allclose(got.copy_to_host(), expect, **tol(dtype))

    g = rand(rng, P * OH * OW, dtype)
    gx = np.zeros(P * H * W, dtype)
    cpu_pool.avg_pool2d_backward(g, P, H, W, gx, *conf)
    dgx = cuda.to_device(np.zeros(P * H * W, dtype))
    gpu_pool.avg_pool2d_backward(dev(g), P, H, W, dgx, *conf)
    np.testing.assert_allclose(dgx.copy_to_host(), gx, **tol(dtype))
