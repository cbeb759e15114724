"""CUDA matmul, activation and optim kernels against the CPU kernels of the same name, on tiny inputs.

Runs on a GPU or on Numba's simulator (``NUMBA_ENABLE_CUDASIM=1``); skipped where the cuda kernels cannot load.
"""
import inspect
import math

import numpy as np
import pytest

import minitorch

if "cuda" not in minitorch.dispatch.available():
    pytest.skip("the cuda kernels cannot load here (no GPU; NUMBA_ENABLE_CUDASIM=1 uses the simulator)",
                allow_module_level=True)

from numba import cuda  # noqa: E402

from minitorch.kernels.cpu import activation as c_act, matmul as c_mm, optim as c_opt  # noqa: E402
from minitorch.kernels.cuda import activation as g_act, matmul as g_mm, optim as g_opt  # noqa: E402

# the simulator computes on NumPy scalars, which warn where the GPU silently wraps (uint8) or gives NaN (inf - inf)
pytestmark = [pytest.mark.cuda, pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning"),
              pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")]

FLOATS = [np.float32, np.float64]
TOL = {np.float32: dict(rtol=2e-5, atol=2e-6), np.float64: dict(rtol=1e-12, atol=1e-13)}


def _d(a):
    return cuda.to_device(np.ascontiguousarray(a))


def _rand(rng, shape, dtype):
    if np.issubdtype(dtype, np.integer):
        return rng.integers(-5 if dtype != np.uint8 else 0, 20, size=shape).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


def _public(mod):
    return {n: f for n, f in vars(mod).items() if not n.startswith("_") and callable(f) and
            getattr(f, "__module__", getattr(getattr(f, "py_func", None), "__module__", None)) == mod.__name__}


def _params(f):
    return list(inspect.signature(getattr(f, "py_func", f)).parameters)


@pytest.mark.parametrize("cpu,gpu", [(c_mm, g_mm), (c_act, g_act), (c_opt, g_opt)], ids=["matmul", "activation",
                                                                                       "optim"])
def test_every_cpu_function_has_a_cuda_twin_with_the_same_arguments(cpu, gpu):
    names = _public(cpu)
    assert names, cpu.__name__
    for name, f in names.items():
        assert hasattr(gpu, name), f"{gpu.__name__} lacks {name}"
        assert _params(getattr(gpu, name)) == _params(f), name


# ---------------------------------------------------------------------------------------------------------------
# matmul
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("ta", [False, True])
@pytest.mark.parametrize("tb", [False, True])
@pytest.mark.parametrize("Ba,Bb", [(2, 2), (1, 3), (3, 1)])
def test_bmm_blas(dtype, ta, tb, Ba, Bb):
    rng = np.random.default_rng(0)
    M, K, N = 5, 6, 7  # not multiples of the tile; K spans several tiles under the simulator
    a = _rand(rng, (Ba, K, M) if ta else (Ba, M, K), dtype)
    b = _rand(rng, (Bb, N, K) if tb else (Bb, K, N), dtype)
    B = max(Ba, Bb)
    want = np.zeros((B, M, N), dtype)
    c_mm.bmm_blas(a, ta, b, tb, want)
    # operands as the launcher passes them: reshaped slices of a larger flat storage
    sa = _d(np.concatenate([np.ones(3, dtype), a.ravel()]))
    out = cuda.device_array(B * M * N + 2, dtype)
    g_mm.bmm_blas(sa[3:3 + a.size].reshape(a.shape), ta, _d(b), tb, out[2:].reshape(B, M, N))
    got = out[2:].copy_to_host().reshape(B, M, N)
    np.testing.assert_allclose(got, want, **TOL[dtype])
    ref = np.matmul(a.transpose(0, 2, 1) if ta else a, b.transpose(0, 2, 1) if tb else b)
    np.testing.assert_allclose(got, ref, **TOL[dtype])


def test_bmm_blas_single_elements():
    a = np.array([[[3.0]]])
    b = np.array([[[-2.0]]])
    out = cuda.device_array((1, 1, 1), np.float64)
    g_mm.bmm_blas(_d(a), False, _d(b), True, out)
    assert out.copy_to_host()[0, 0, 0] == -6.0


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8, np.float32, np.float64])
@pytest.mark.parametrize("bcast", [None, "a", "b"])
def test_bmm_tiled_strided(dtype, bcast):
    rng = np.random.default_rng(1)
    B, M, K, N = 2, 5, 6, 3
    # a is stored as (K, B, M) and read through permuted strides, b as (B, N, K) read transposed, after offsets
    sa = _rand(rng, 4 + K * B * M, dtype)
    sb = _rand(rng, 1 + B * N * K, dtype)
    ao, sab, sa0, sa1 = 4, M, 1, B * M
    bo, sbb, sb0, sb1 = 1, N * K, 1, K
    if bcast == "a":
        sab = 0
    if bcast == "b":
        sbb = 0
    init = _rand(rng, B * M * N, dtype)  # the kernel accumulates into out
    want = init.copy()
    c_mm.bmm_tiled(sa, ao, sab, sa0, sa1, sb, bo, sbb, sb0, sb1, want, B, M, N, K)
    out = _d(init)
    g_mm.bmm_tiled(_d(sa), ao, sab, sa0, sa1, _d(sb), bo, sbb, sb0, sb1, out, B, M, N, K)
    got = out.copy_to_host()
    if np.issubdtype(dtype, np.integer):
        np.testing.assert_array_equal(got, want)
    else:
        np.testing.assert_allclose(got, want, **TOL[dtype])


def test_bmm_tiled_int64_is_exact_beyond_float_precision():
    a = np.array([2 ** 40 + 1, 3], np.int64)
    b = np.array([2 ** 20 + 1, 5], np.int64)
    out = _d(np.zeros(1, np.int64))
    g_mm.bmm_tiled(_d(a), 0, 0, 2, 1, _d(b), 0, 0, 1, 1, out, 1, 1, 1, 2)
    assert out.copy_to_host()[0] == (2 ** 40 + 1) * (2 ** 20 + 1) + 15


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("tw", [False, True])
@pytest.mark.parametrize("has_b", [False, True])
def test_linear_forward(dtype, tw, has_b):
    rng = np.random.default_rng(2)
    M, In, O = 6, 5, 7
    x = _rand(rng, (M, In), dtype)
    w = _rand(rng, (In, O) if tw else (O, In), dtype)
    b = _rand(rng, O, dtype) if has_b else x[0]
    want = np.empty((M, O), dtype)
    c_mm.linear_forward(x, w, tw, b, has_b, want, 0, want, 0)
    out = cuda.device_array((M, O), dtype)
    g_mm.linear_forward(_d(x), _d(w), tw, _d(b), has_b, out, 0, out, 0)
    np.testing.assert_allclose(out.copy_to_host(), want, **TOL[dtype])


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("act", ["relu", "gelu", "tanh", "sigmoid", "silu"])
def test_linear_forward_activation(dtype, act):
    """The activation epilogue: the pre-activation stays in out and the activation lands in y (relu in place)."""
    from minitorch.ops.launch import LINEAR_ACTS
    code, op = LINEAR_ACTS[act]
    rng = np.random.default_rng(12)
    M, In, O = 6, 5, 7
    x, w, b = _rand(rng, (M, In), dtype), _rand(rng, (O, In), dtype), _rand(rng, O, dtype)
    want, want_y = np.empty((M, O), dtype), np.empty((M, O), dtype)
    c_mm.linear_forward(x, w, False, b, True, want, code, want_y if code >= 2 else want, op)
    out, y = cuda.device_array((M, O), dtype), cuda.device_array((M, O), dtype)
    g_mm.linear_forward(_d(x), _d(w), False, _d(b), True, out, code, y if code >= 2 else out, op)
    np.testing.assert_allclose(out.copy_to_host(), want, **TOL[dtype])
    if code >= 2:
        np.testing.assert_allclose(y.copy_to_host(), want_y, **TOL[dtype])
    h = x.astype(np.float64) @ w.T.astype(np.float64) + b
    ref = {"relu": np.maximum(h, 0), "tanh": np.tanh(h), "sigmoid": 1 / (1 + np.exp(-h)), "silu": h / (1 + np.exp(-h)),
           "gelu": h * 0.5 * (1 + np.vectorize(math.erf)(h / math.sqrt(2)))}[act]
    np.testing.assert_allclose(want_y if code >= 2 else want, ref, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("tw", [False, True])
@pytest.mark.parametrize("need", [(True, True, True), (True, False, False), (False, True, False),
                                  (False, False, True)])
def test_linear_backward(dtype, tw, need):
    rng = np.random.default_rng(3)
    M, In, O = 7, 5, 6
    need_x, need_w, need_b = need
    g = _rand(rng, (M, O), dtype)
    x = _rand(rng, (M, In), dtype)
    w = _rand(rng, (In, O) if tw else (O, In), dtype)
    want = [np.full((M, In), 7, dtype), np.full((O, In), 7, dtype), np.full(O, 7, dtype)]
    c_mm.linear_backward(g, x, w, tw, *want, need_x, need_w, need_b, np.empty((1, M * O), dtype))
    dev = [_d(v) for v in [np.full((M, In), 7, dtype), np.full((O, In), 7, dtype), np.full(O, 7, dtype)]]
    g_mm.linear_backward(_d(g), _d(x), _d(w), tw, *dev, need_x, need_w, need_b, cuda.device_array((1, M * O), dtype))
    for flag, d, c in zip(need, dev, want):
        if flag:
            np.testing.assert_allclose(d.copy_to_host(), c, **TOL[dtype])
        else:
            assert (d.copy_to_host() == 7).all()  # not needed: left alone


def _stored(rng, shape, dtype, pad=3):
    n = int(np.prod(shape))
    s = np.full(n + 2 * pad, 7, dtype)
    s[pad:pad + n] = _rand(rng, n, dtype)
    return s, pad, s[pad:pad + n].reshape(shape)


@pytest.mark.parametrize("ta,tb", [(False, False), (True, True)])
def test_gemm_flat(ta, tb):
    rng = np.random.default_rng(4)
    M, K, N = 5, 4, 6
    sa, ao, a = _stored(rng, (K, M) if ta else (M, K), np.float32)
    sb, bo, b = _stored(rng, (N, K) if tb else (K, N), np.float32)
    want = np.empty(M * N, np.float32)
    c_mm.gemm_flat(sa, ao, ta, sb, bo, tb, want, M, N, K, 1)
    out = cuda.device_array(M * N, np.float32)
    g_mm.gemm_flat(_d(sa), ao, ta, _d(sb), bo, tb, out, M, N, K, 2)
    np.testing.assert_allclose(out.copy_to_host(), want, **TOL[np.float32])


@pytest.mark.parametrize("tw,act", [(False, 1), (True, 0)])
def test_linear_forward_flat(tw, act):
    rng = np.random.default_rng(5)
    M, In, O = 6, 5, 7
    sx, xo, _ = _stored(rng, (M, In), np.float32)
    sw, wo, _ = _stored(rng, (In, O) if tw else (O, In), np.float32)
    sb, bo, _ = _stored(rng, (O,), np.float32)
    want = np.empty(M * O, np.float32)
    c_mm.linear_forward_flat(sx, xo, sw, wo, tw, sb, bo, True, want, M, In, O, 0, 1, act, want, 0)
    out = cuda.device_array(M * O, np.float32)
    g_mm.linear_forward_flat(_d(sx), xo, _d(sw), wo, tw, _d(sb), bo, True, out, M, In, O, 1, 2, act, out, 0)
    np.testing.assert_allclose(out.copy_to_host(), want, **TOL[np.float32])


@pytest.mark.parametrize("tw,need", [(False, (True, True, True)), (True, (True, False, True)),
                                     (False, (False, True, False))])
def test_linear_backward_flat(tw, need):
    rng = np.random.default_rng(6)
    M, In, O = 7, 5, 6
    sg, go, _ = _stored(rng, (M, O), np.float32)
    sx, xo, _ = _stored(rng, (M, In), np.float32)
    sw, wo, _ = _stored(rng, (In, O) if tw else (O, In), np.float32)
    want = [np.full(M * In, 7, np.float32), np.full(O * In, 7, np.float32), np.full(O, 7, np.float32)]
    c_mm.linear_backward_flat(sg, go, sx, xo, sw, wo, tw, *want, M, In, O, *need, np.empty(1, np.float32), 1, sg, 0,
                              0)
    dev = [_d(v) for v in [np.full(M * In, 7, np.float32), np.full(O * In, 7, np.float32), np.full(O, 7, np.float32)]]
    g_mm.linear_backward_flat(_d(sg), go, _d(sx), xo, _d(sw), wo, tw, *dev, M, In, O, *need, None, 2, None, 0, 0)
    for d, c in zip(dev, want):
        np.testing.assert_allclose(d.copy_to_host(), c, **TOL[np.float32])  # 7s stay 7s where not needed


# relu_backward by its output, gelu_backward by its input, tanh's and the sigmoid's backward by their outputs
@pytest.mark.parametrize("act", [1, 2, 3, 4])
def test_linear_backward_flat_with_an_activation_backward(act):
    rng = np.random.default_rng(7)
    M, In, O = 7, 5, 6
    sg, go, _ = _stored(rng, (M, O), np.float32)
    sx, xo, _ = _stored(rng, (M, In), np.float32)
    sw, wo, _ = _stored(rng, (O, In), np.float32)
    sm, mo, _ = _stored(rng, (M, In), np.float32)
    if act == 1:
        sm = np.maximum(sm, 0)
    elif act > 2:
        sm = np.tanh(sm) if act == 3 else 1 / (1 + np.exp(-sm))
    want = [np.empty(M * In, np.float32), np.empty(O * In, np.float32), np.empty(O, np.float32)]
    c_mm.linear_backward_flat(sg, go, sx, xo, sw, wo, False, *want, M, In, O, True, True, True,
                              np.empty(1, np.float32), 1, sm, mo, act)
    plain = np.empty(M * In, np.float32)
    c_mm.linear_backward_flat(sg, go, sx, xo, sw, wo, False, plain, want[1].copy(), want[2].copy(), M, In, O, True,
                              False, False, np.empty(1, np.float32), 1, sg, 0, 0)
    m = sm[mo:mo + M * In].astype(np.float64)
    phi = 0.5 * (1 + np.vectorize(math.erf)(m / math.sqrt(2)))
    d = {1: m > 0, 2: phi + m * np.exp(-m * m / 2) / math.sqrt(2 * math.pi), 3: 1 - m * m, 4: m * (1 - m)}[act]
    np.testing.assert_allclose(want[0], plain * d, rtol=1e-5, atol=1e-6)
    if act > 2:  # each step rounded in float32, as the backward formulas' ops round
        y = sm[mo:mo + M * In]
        one = np.float32(1)
        np.testing.assert_array_equal(want[0], plain * (one - y * y) if act == 3 else plain * (y * (one - y)))
    assert (want[0] == 0).sum() > 5 if act == 1 else (want[0] != 0).all()
    dev = [cuda.device_array(v.size, np.float32) for v in want]
    g_mm.linear_backward_flat(_d(sg), go, _d(sx), xo, _d(sw), wo, False, *dev, M, In, O, True, True, True, None, 2,
                              _d(sm), mo, act)
    for d, c in zip(dev, want):
        np.testing.assert_allclose(d.copy_to_host(), c, **TOL[np.float32])


def test_linear_backward_no_rows_gives_zero_weight_and_bias_gradients():
    O, In = 3, 2
    g = _d(np.zeros((1, O)))[:0]
    x = _d(np.zeros((1, In)))[:0]
    gw, gb = _d(np.ones((O, In))), _d(np.ones(O))
    g_mm.linear_backward(g, x, x, False, x, gw, gb, False, True, True, None)
    assert (gw.copy_to_host() == 0).all() and (gb.copy_to_host() == 0).all()


def test_set_blas_threads_is_a_no_op():
    assert g_mm.set_blas_threads(4) is None


# ---------------------------------------------------------------------------------------------------------------
# activation
# ---------------------------------------------------------------------------------------------------------------
def _rows(rng, R, C, dtype, special):
    x = (rng.standard_normal((R, C)) * 3).astype(dtype)
    if special and R >= 3:
        x[0, C // 2] = np.nan
        x[1, :] = -np.inf
        x[2, 0] = np.inf if C > 1 else 1.0
    return x


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("log", [False, True])
@pytest.mark.parametrize("R,C", [(1, 1), (4, 3), (3, 13), (5, 40)])
@pytest.mark.parametrize("special", [False, True])
@pytest.mark.parametrize("par", [False, True])
def test_softmax(dtype, log, R, C, special, par):
    rng = np.random.default_rng(4)
    x = _rows(rng, R, C, dtype, special).ravel()
    want = np.empty_like(x)
    c_act.softmax(x, want, R, C, log)
    out = cuda.device_array(x.size, dtype)
    (g_act.softmax_par if par else g_act.softmax)(_d(x), out, R, C, log)
    got = out.copy_to_host()
    np.testing.assert_allclose(got, want, equal_nan=True, **TOL[dtype])
    assert np.array_equal(np.isnan(got), np.isnan(want))


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("log", [False, True])
@pytest.mark.parametrize("R,C", [(1, 1), (4, 3), (3, 13)])
@pytest.mark.parametrize("par", [False, True])
def test_softmax_backward(dtype, log, R, C, par):
    rng = np.random.default_rng(5)
    x = _rows(rng, R, C, dtype, False).ravel()
    y = np.empty_like(x)
    c_act.softmax(x, y, R, C, log)
    g = _rand(rng, R * C, dtype)
    want = np.empty_like(x)
    c_act.softmax_backward(g, y, want, R, C, log)
    out = cuda.device_array(x.size, dtype)
    (g_act.softmax_backward_par if par else g_act.softmax_backward)(_d(g), _d(y), out, R, C, log)
    np.testing.assert_allclose(out.copy_to_host(), want, **TOL[dtype])


def _ce_inputs(dtype, R, C, has_weight, seed=6):
    rng = np.random.default_rng(seed)
    x = _rows(rng, R, C, dtype, False).ravel()
    target = rng.integers(0, C, R).astype(np.int64)
    target[1] = -100
    weight = rng.uniform(0.5, 2, C).astype(dtype) if has_weight else x[:1].copy()
    return x, target, weight


def _run_ce(mod, dev, x, logp, do_softmax, target, weight, has_weight, ignore_index, R, C, n_out, mean):
    dtype = x.dtype
    losses = np.full(R, 9, dtype)
    out = np.full(n_out, 9, dtype)
    if dev:
        x, logp, target, weight, losses, out = (_d(v) for v in (x, logp, target, weight, losses, out))
    res = mod.cross_entropy_rows(x, logp, do_softmax, target, weight, has_weight, ignore_index, R, C, losses, out,
                                 mean)
    if dev:
        logp, losses, out = (v.copy_to_host() for v in (logp, losses, out))
    return res, logp, losses, out


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("do_softmax", [True, False])
@pytest.mark.parametrize("has_weight", [False, True])
@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
def test_cross_entropy_rows(dtype, do_softmax, has_weight, reduction):
    R, C = 6, 5
    x, target, weight = _ce_inputs(dtype, R, C, has_weight)
    logp = np.full(R * C, 3, dtype)
    if not do_softmax:
        c_act.softmax(x, logp, R, C, True)
    n_out, mean = (0, False) if reduction == "none" else (1, reduction == "mean")
    args = (do_softmax, target, weight, has_weight, -100, R, C, n_out, mean)
    want = _run_ce(c_act, False, x, logp.copy(), *args)
    got = _run_ce(g_act, True, x, logp.copy(), *args)
    assert got[0][:2] == (0, False) and want[0][:2] == (0, False)
    np.testing.assert_allclose(got[0][2], want[0][2], rtol=1e-12)
    assert isinstance(got[0][2], float)
    for g, w in zip(got[1:], want[1:]):
        np.testing.assert_allclose(g, w, **TOL[dtype])


@pytest.mark.parametrize("bad", [-1, 5, 1 << 40])
def test_cross_entropy_rows_reports_the_first_bad_target(bad):
    R, C = 6, 5
    x, target, weight = _ce_inputs(np.float64, R, C, True)
    target[3] = bad
    target[5] = -7  # a later bad target is not the one reported
    args = (True, target, weight, True, -100, R, C, 1, True)
    want = _run_ce(c_act, False, x, np.zeros(R * C), *args)[0]
    got = _run_ce(g_act, True, x, np.zeros(R * C), *args)[0]
    assert got[:2] == (bad, True) == want[:2]
    np.testing.assert_allclose(got[2], want[2], rtol=1e-12)  # total weight of the rows before the bad one


@pytest.mark.parametrize("dtype", FLOATS)
def test_cross_entropy_rows_all_ignored_mean_is_nan(dtype):
    R, C = 3, 4
    x, target, weight = _ce_inputs(dtype, R, C, False)
    target[:] = 2
    args = (True, target, weight, False, 2, R, C, 1, True)
    want = _run_ce(c_act, False, x, np.zeros(R * C, dtype), *args)
    got = _run_ce(g_act, True, x, np.zeros(R * C, dtype), *args)
    assert got[0] == want[0] == (0, False, 0.0)
    assert np.isnan(got[3][0]) and np.isnan(want[3][0])
    assert (got[2] == 0).all()


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("has_weight", [False, True])
@pytest.mark.parametrize("per_row", [False, True])
@pytest.mark.parametrize("div", [1.0, 3.5])
def test_nll_softmax_backward(dtype, has_weight, per_row, div):
    R, C = 6, 5
    x, target, weight = _ce_inputs(dtype, R, C, has_weight)
    logp = np.empty_like(x)
    c_act.softmax(x, logp, R, C, True)
    scale = np.random.default_rng(7).uniform(-2, 2, R if per_row else 1).astype(dtype)
    want = np.full(R * C, 9, dtype)
    c_act.nll_softmax_backward(logp, target, weight, has_weight, -100, scale, per_row, div, R, C, want)
    out = _d(np.full(R * C, 9, dtype))
    g_act.nll_softmax_backward(_d(logp), _d(target), _d(weight), has_weight, -100, _d(scale), per_row, div, R, C,
                               out)
    got = out.copy_to_host()
    np.testing.assert_allclose(got, want, **TOL[dtype])
    assert (got.reshape(R, C)[1] == 0).all()  # the ignored row


# ---------------------------------------------------------------------------------------------------------------
# optim: each step twice on storages with offsets; coefficients rounded to the dtype as the launcher does
# ---------------------------------------------------------------------------------------------------------------
N_OPT = 11
OFF = (2, 0, 3, 1, 4)


def _opt_state(dtype, k, seed):
    """k storages holding N_OPT elements at offsets OFF[:k], all positive after the first (second moments)."""
    rng = np.random.default_rng(seed)
    out = []
    for j in range(k):
        s = rng.standard_normal(N_OPT + OFF[j]).astype(dtype)
        if j >= 2:
            s = np.abs(s)
        out.append(s)
    return out


def _run_opt(name, dtype, k, args, steps=2, seed=8, per_step=None):
    cpu = _opt_state(dtype, k, seed)
    dev = [_d(s) for s in cpu]
    for step in range(steps):
        extra = per_step(step) if per_step else ()
        for mod, arrs in ((c_opt, cpu), (g_opt, dev)):
            pos = [v for j, a in enumerate(arrs) for v in (a, OFF[j])]
            for par in (False,) if step == 0 else (True,):  # the _par name on the second step
                # the _par form takes the thread count last (the CPU splits over it; the GPU ignores it)
                threads = (3,) if par else ()
                getattr(mod, name + ("_step_par" if par else "_step"))(*pos, N_OPT, *args, *extra, *threads)
    for c, d in zip(cpu, dev):
        np.testing.assert_allclose(d.copy_to_host(), c, **TOL[dtype])


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("momentum,nesterov", [(0.0, False), (0.9, False), (0.9, True)])
@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
@pytest.mark.parametrize("maximize", [False, True])
def test_sgd_step(dtype, momentum, nesterov, weight_decay, maximize):
    ty = np.dtype(dtype).type
    args = (ty(-0.1), ty(momentum), ty(1 - 0.2), ty(weight_decay), nesterov, maximize)
    _run_opt("sgd", dtype, 3, args, per_step=lambda s: (s == 0,))


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("decoupled,weight_decay", [(False, 0.0), (False, 0.05), (True, 0.05)])
@pytest.mark.parametrize("amsgrad", [False, True])
@pytest.mark.parametrize("maximize", [False, True])
@pytest.mark.parametrize("beta1", [0.9, 0.3])
def test_adam_step(dtype, decoupled, weight_decay, amsgrad, maximize, beta1):
    ty = np.dtype(dtype).type
    lr, beta2, eps = 0.01, 0.999, 1e-8
    w1 = ty(1 - beta1)
    args = (w1, ty(1) - w1, bool(abs(w1) < 0.5), ty(beta2), ty(1 - beta2), ty(-lr / (1 - beta1)),
            ty((1 - beta2) ** 0.5), ty(eps), ty(weight_decay), ty(1 - lr * weight_decay), decoupled, amsgrad,
            maximize)
    _run_opt("adam", dtype, 5, args)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("centered", [False, True])
@pytest.mark.parametrize("momentum", [0.0, 0.9])
@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
@pytest.mark.parametrize("maximize", [False, True])
def test_rmsprop_step(dtype, centered, momentum, weight_decay, maximize):
    ty = np.dtype(dtype).type
    alpha = 0.99
    w = ty(1 - alpha)
    args = (ty(alpha), w, ty(1) - w, bool(abs(w) < 0.5), ty(-0.01), ty(1e-8), ty(weight_decay), ty(momentum),
            centered, maximize)
    if centered:
        _run_centered(dtype, args)
    else:
        _run_opt("rmsprop", dtype, 5, args)


def _run_centered(dtype, args):
    # storages: p, g, sq, ga, buf; ga starts at zero so that sq - ga * ga stays positive
    rng = np.random.default_rng(10)
    cpu = [rng.standard_normal(N_OPT + OFF[j]).astype(dtype) for j in range(5)]
    cpu[2] = np.abs(cpu[2]) + 1
    cpu[3][:] = 0
    dev = [_d(s) for s in cpu]
    for mod, arrs in ((c_opt, cpu), (g_opt, dev)):
        pos = [v for j, a in enumerate(arrs) for v in (a, OFF[j])]
        mod.rmsprop_step(*pos, N_OPT, *args)
        mod.rmsprop_step_par(*pos, N_OPT, *args, 3)
    for c, d in zip(cpu, dev):
        np.testing.assert_allclose(d.copy_to_host(), c, **TOL[dtype])


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
@pytest.mark.parametrize("maximize", [False, True])
def test_adagrad_step(dtype, weight_decay, maximize):
    ty = np.dtype(dtype).type
    _run_opt("adagrad", dtype, 3, (ty(-0.05), ty(1e-10), ty(weight_decay), maximize))


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
@pytest.mark.parametrize("maximize", [False, True])
def test_adadelta_step(dtype, weight_decay, maximize):
    ty = np.dtype(dtype).type
    rho = 0.9
    _run_opt("adadelta", dtype, 4, (ty(rho), ty(1 - rho), ty(-1.0), ty(1e-6), ty(weight_decay), maximize))


def test_optim_step_touches_only_its_range():
    p = np.zeros(8, np.float32)
    g = np.ones(8, np.float32)
    dp = _d(p)
    g_opt.sgd_step(dp, 2, _d(g), 0, dp, 0, 3, np.float32(-1), np.float32(0), np.float32(1), np.float32(0), False,
                   False, False)
    np.testing.assert_array_equal(dp.copy_to_host(), [0, 0, -1, -1, -1, 0, 0, 0])
