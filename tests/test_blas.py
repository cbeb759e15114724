"""The CPU kernels' BLAS (kernels/cpu/_blas.py): ``dot`` and ``gemm`` from compiled code against NumPy for every
layout, the big-product split, and the choice of library (MKL when installed, SciPy's OpenBLAS otherwise or with
MINITORCH_BLAS=openblas), each library in its own process over the same on-disk kernel cache."""
import importlib.util
import itertools
import os
import subprocess
import sys

import numpy as np
import pytest
from numba import njit

from minitorch.kernels.cpu import _blas
from minitorch.kernels.cpu import matmul as MM

RNG = np.random.default_rng(7)
HAS_MKL = any(True for _ in _blas._mkl_candidates())


# any-layout arrays: one compilation per dtype, the layout decided at run time from the strides (as it is in the
# kernels, whose C- and F-typed calls the layer tests cover); not cached, as the cache would miss edits of _blas.py
@njit(["void(f4[:, :], f4[:, :], f4[:, :])", "void(f8[:, :], f8[:, :], f8[:, :])"])
def _call_dot(a, b, out):
    _blas.dot(a, b, out)


def _layout(x, how):
    """The same values as x in another memory layout: C order, F order, a strided window, negative strides."""
    if how == "C":
        return np.ascontiguousarray(x)
    if how == "F":
        return np.asfortranarray(x)
    if how == "strided":
        big = np.full((2 * x.shape[0] + 1, 3 * x.shape[1] + 1), np.nan, x.dtype)
        view = big[1::2, 1::3]
        view[...] = x
        return view
    return np.ascontiguousarray(x[::-1, ::-1])[::-1, ::-1]


SHAPES = [(5, 7, 3), (1, 4, 6), (6, 1, 2), (3, 5, 1), (1, 1, 1), (0, 3, 2), (4, 0, 3), (33, 65, 17)]
LAYOUTS = ["C", "F", "strided", "reversed"]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("m,k,n", SHAPES)
def test_dot_every_layout(dtype, m, k, n):
    """out = a @ b for every combination of operand and output layouts (C, F, strided, negative strides), empty and
    single-element dims, written only inside out (a strided out's neighbours keep their NaN)."""
    a0 = RNG.standard_normal((m, k)).astype(dtype)
    b0 = RNG.standard_normal((k, n)).astype(dtype)
    want = a0.astype(np.float64) @ b0.astype(np.float64)
    tol = 1e-4 if dtype == np.float32 else 1e-12
    for la, lb, lo in itertools.product(LAYOUTS, repeat=3):
        out = _layout(np.full((m, n), np.nan, dtype), lo)
        _call_dot(_layout(a0, la), _layout(b0, lb), out)
        np.testing.assert_allclose(out, want, rtol=tol, atol=tol, err_msg=f"{la} {lb} {lo}")
        if lo == "strided":
            base = out.base
            mask = np.ones(base.shape, bool)
            mask[1::2, 1::3][:m, :n] = False
            assert np.isnan(base[mask]).all()


@njit  # typed by its arguments: C- and F-typed operands take the statically specialised path
def _call_dot_typed(a, b, out):
    _blas.dot(a, b, out)


@pytest.mark.parametrize("m,k,n", [(5, 7, 3), (1, 4, 6), (6, 1, 1), (4, 0, 3)])
def test_dot_c_and_f_typed_operands(m, k, n):
    """The kernels' case (every operand C- or F-typed at compile time, transposes fixed then), each combination
    including an F-ordered output, single rows and columns, and an empty inner dim."""
    a0, b0 = RNG.standard_normal((m, k)), RNG.standard_normal((k, n))
    for la, lb, lo in itertools.product("CF", repeat=3):
        out = _layout(np.full((m, n), np.nan), lo)
        _call_dot_typed(_layout(a0, la), _layout(b0, lb), out)
        np.testing.assert_allclose(out, a0 @ b0, rtol=1e-12, atol=1e-12, err_msg=f"{la} {lb} {lo}")


@pytest.mark.parametrize("ta,tb", list(itertools.product([False, True], repeat=2)))
@pytest.mark.parametrize("m,k,n", [(40, 9, 7), (7, 9, 40), (3, 2, 1), (1, 5, 9)])
@pytest.mark.parametrize("threads", [2, 3])
def test_gemm_par_splits(ta, tb, m, k, n, threads):
    """The threaded product of a sequential BLAS (rows split when out is tall, columns when wide), transposed
    operands read in place, against NumPy."""
    a = RNG.standard_normal((k, m) if ta else (m, k))
    b = RNG.standard_normal((n, k) if tb else (k, n))
    out = np.full((m, n), np.nan)
    MM.gemm_par(a, ta, b, tb, out, threads)
    np.testing.assert_allclose(out, (a.T if ta else a) @ (b.T if tb else b), rtol=1e-12, atol=1e-12)


@njit(["void(b1, b1, i8, i8, i8, f8, f4[:], i8, f4[:], i8, f8, f4[:], i8)",
       "void(b1, b1, i8, i8, i8, f8, f8[:], i8, f8[:], i8, f8, f8[:], i8)"])
def _call_gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc):
    _blas.gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)


def _window(rng, rows, cols, ld, dtype, fill=np.nan):
    """A (rows, cols) random matrix stored row-major with rows ld apart in a flat array (fill in the gaps)."""
    flat = np.full(rows * ld, fill, dtype)
    view = flat.reshape(rows, ld)[:, :cols]
    view[...] = rng.standard_normal((rows, cols))
    return flat, view


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("ta,tb", list(itertools.product([False, True], repeat=2)))
@pytest.mark.parametrize("m,k,n", [(40, 9, 7), (64, 128, 10), (16, 5, 15), (16, 3, 1), (20, 1, 2), (64, 33, 16),
                                   (48, 20, 23), (64, 5, 47), (30, 6, 31)])
@pytest.mark.parametrize("beta", [0.0, 0.5])
def test_gemm_narrow_outputs_with_leading_dimensions(dtype, ta, tb, m, k, n, beta):
    """Products with few output columns (which MKL runs transposed, see _blas.NARROW) into a window of a wider C,
    operands with padded rows, alpha and beta, against NumPy: beta 0 ignores C's NaN, the gaps stay untouched."""
    rng = np.random.default_rng(m + 7 * n + 31 * k + int(ta) + 2 * int(tb))
    a_flat, a = _window(rng, *((k, m) if ta else (m, k)), ld=(m if ta else k) + 3, dtype=dtype)
    b_flat, b = _window(rng, *((n, k) if tb else (k, n)), ld=(k if tb else n) + 2, dtype=dtype)
    c_flat, c = _window(rng, m, n, ld=n + 4, dtype=dtype)
    if beta == 0:
        c[...] = np.nan
    want = 1.5 * ((a.T if ta else a) @ (b.T if tb else b)) + (beta * c if beta else 0)
    gaps = c_flat.reshape(m, n + 4)[:, n:].copy()
    _call_gemm(ta, tb, m, n, k, 1.5, a_flat, a_flat.size // a.shape[0], b_flat, b_flat.size // b.shape[0], beta,
               c_flat, n + 4)
    tol = 1e-5 * k if dtype == np.float32 else 1e-12  # float32 sums of k products of unit normals
    np.testing.assert_allclose(c, want, rtol=tol, atol=tol)
    np.testing.assert_array_equal(c_flat.reshape(m, n + 4)[:, n:], gaps)


@pytest.mark.parametrize("bound", [0, 1 << 19, 1 << 40])
def test_small_products_on_either_library(bound):
    """The small-product switch (_blas.SMALL: SciPy's OpenBLAS under MKL) set at run time to nothing, its default
    and everything: products with and without transposes, leading dimensions, alpha and beta match NumPy."""
    saved = _blas._SMALL.value
    try:
        _blas._SMALL.value = bound
        assert _blas.small_products() == bound
        for dtype in (np.float32, np.float64):
            for ta, tb in itertools.product([False, True], repeat=2):
                for m, k, n in [(64, 32, 98), (128, 64, 64), (5, 7, 3), (1, 1, 1), (130, 70, 70), (17, 300, 33)]:
                    rng = np.random.default_rng(m * n + k)
                    a_flat, a = _window(rng, *((k, m) if ta else (m, k)), ld=(m if ta else k) + 3, dtype=dtype)
                    b_flat, b = _window(rng, *((n, k) if tb else (k, n)), ld=(k if tb else n) + 2, dtype=dtype)
                    c_flat, c = _window(rng, m, n, ld=n + 4, dtype=dtype)
                    want = 0.5 * ((a.T if ta else a) @ (b.T if tb else b)) - 2.0 * c
                    _call_gemm(ta, tb, m, n, k, 0.5, a_flat, a_flat.size // a.shape[0], b_flat,
                               b_flat.size // b.shape[0], -2.0, c_flat, n + 4)
                    tol = 1e-5 * k if dtype == np.float32 else 1e-12
                    np.testing.assert_allclose(c, want, rtol=tol, atol=tol, err_msg=f"{ta} {tb} {m}x{k}x{n}")
                    assert np.isnan(c_flat.reshape(m, n + 4)[:, n:]).all()
    finally:
        _blas._SMALL.value = saved


def test_small_products_library():
    """Under MKL the small products go to SciPy's OpenBLAS (its own sgemm/dgemm, not MKL's) up to 2**19
    multiply-adds by default; on OpenBLAS there is nothing to switch."""
    scipy_addresses = _blas._load_scipy()[1]
    if _blas.BACKEND.startswith("mkl") and "MINITORCH_BLAS_SMALL" not in os.environ:
        assert _blas.SMALL == 1 << 19
        assert _blas._SMALL_ADDRESSES == scipy_addresses != _blas._ADDRESSES
    elif not _blas.BACKEND.startswith("mkl"):
        assert _blas.SMALL == 0 and _blas._SMALL_ADDRESSES == _blas._ADDRESSES == scipy_addresses


@pytest.mark.skipif(not HAS_MKL, reason="the mkl wheel is not installed")
@pytest.mark.parametrize("value,want", [("0", "0"), ("4096", "4096"), ("", str(1 << 19)), ("-1", "ValueError"),
                                        ("lots", "ValueError")])
def test_small_products_setting(value, want):
    code = "from minitorch.kernels.cpu import _blas; print(_blas.small_products())"
    r = subprocess.run([sys.executable, "-c", code], env=dict(os.environ, MINITORCH_BLAS="mkl",
                       MINITORCH_BLAS_SMALL=value), capture_output=True, text=True, timeout=600)
    if want == "ValueError":
        assert r.returncode != 0
        assert f"ValueError: MINITORCH_BLAS_SMALL must be a product size m*n*k >= 0 (0: off), not {value!r}" \
            in r.stderr
    else:
        assert r.returncode == 0, r.stderr
        assert r.stdout.split() == [want]


def _in_storage(rng, shape, pad=5):
    """A random matrix stored at an offset inside a longer 1-D storage (NaN around it): (storage, offset, matrix)."""
    n = int(np.prod(shape))
    s = np.full(n + 2 * pad, np.nan)
    s[pad:pad + n] = rng.standard_normal(n)
    return s, pad, s[pad:pad + n].reshape(shape)


@pytest.mark.parametrize("ta,tb", list(itertools.product([False, True], repeat=2)))
@pytest.mark.parametrize("m,k,n", [(40, 9, 7), (7, 9, 40), (1, 5, 9)])
@pytest.mark.parametrize("threads", [1, 2, 3])
def test_gemm_flat(ta, tb, m, k, n, threads):
    """The launchers' flat GEMM entry: operands read at an offset of a longer storage (its NaN padding must not
    leak in), stored transposed or not, on one thread or split, against NumPy."""
    rng = np.random.default_rng(m * 100 + k * 10 + n + threads)
    sa, ao, a = _in_storage(rng, (k, m) if ta else (m, k))
    sb, bo, b = _in_storage(rng, (n, k) if tb else (k, n))
    out = np.full(m * n, np.nan)
    MM.gemm_flat(sa, ao, ta, sb, bo, tb, out, m, n, k, threads)
    np.testing.assert_allclose(out.reshape(m, n), (a.T if ta else a) @ (b.T if tb else b), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("split,threads", [(0, 1), (1, 2), (1, 3), (2, 2), (2, 3)])
@pytest.mark.parametrize("tw", [False, True])
@pytest.mark.parametrize("has_b", [False, True])
@pytest.mark.parametrize("act", [0, 1, 2, 3, 4])
def test_linear_forward_flat(split, threads, tw, has_b, act):
    """The flat linear entry: one thread, rows split, output features split (a transposed w splits the rows
    instead), no activation, relu in place, the exact GELU, tanh and SiLU (the result times its sigmoid) into a
    second storage (the first keeping the pre-activation), operands at offsets of longer storages, against NumPy."""
    import math
    from minitorch.kernels.opcodes import UNARY
    rng = np.random.default_rng(split * 10 + threads + 2 * tw + 4 * has_b + 8 * act)
    M, In, O = 37, 23, 11
    sx, xo, x = _in_storage(rng, (M, In))
    sw, wo, w = _in_storage(rng, (In, O) if tw else (O, In))
    sb, bo, b = _in_storage(rng, (O,))
    out = np.full(M * O, np.nan)
    y = np.full(M * O, np.nan) if act >= 2 else out
    op = UNARY["sigmoid"] if act == 4 else UNARY["tanh"]
    MM.linear_forward_flat(sx, xo, sw, wo, tw, sb, bo, has_b, out, M, In, O, split, threads, act, y, op)
    want = x @ (w if tw else w.T) + (b if has_b else 0)
    if act >= 2:
        np.testing.assert_allclose(out.reshape(M, O), want, rtol=1e-12, atol=1e-12)
        f = {2: np.vectorize(lambda v: v * 0.5 * (1 + math.erf(v / math.sqrt(2)))), 3: np.tanh,
             4: lambda v: v / (1 + np.exp(-v))}[act]
        np.testing.assert_allclose(y.reshape(M, O), f(want), rtol=1e-12, atol=1e-12)
    else:
        np.testing.assert_allclose(out.reshape(M, O), np.maximum(want, 0) if act else want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("M", [37, 11])  # split by rows (M > In) and by columns
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("need", [(True, True, True), (True, False, False), (False, True, False),
                                  (False, False, True)])
@pytest.mark.parametrize("tw", [False, True])
def test_linear_backward_flat(M, threads, need, tw):
    """The flat linear backward entry, serial and split, for subsets of the gradients (stand-ins where one is not
    needed, which stay untouched), operands at offsets of longer storages, against NumPy."""
    rng = np.random.default_rng(M + 3 * threads + 5 * sum(need) + tw)
    O, In = 13, 23
    need_x, need_w, need_b = need
    sg, go, g = _in_storage(rng, (M, O))
    sx, xo, x = _in_storage(rng, (M, In))
    sw, wo, w = _in_storage(rng, (In, O) if tw else (O, In))
    gx, gw, gb = np.full(M * In, np.nan), np.full(O * In, np.nan), np.full(O, np.nan)
    width = In if need_x or need_w else O
    gt = np.empty(threads * MM.linear_scratch(M, width, O, threads))
    keep = sg.copy()
    MM.linear_backward_flat(sg, go, sx, xo, sw, wo, tw, gx if need_x else sg, gw if need_w else sg,
                            gb if need_b else sg, M, In, O, need_x, need_w, need_b, gt, threads, sg, 0, 0)
    np.testing.assert_array_equal(sg, keep)  # the stand-ins are never written
    wants = (g @ (w.T if tw else w), g.T @ x, g.sum(0))
    for flag, got, want in zip(need, (gx, gw, gb), wants):
        if flag:
            np.testing.assert_allclose(got.reshape(want.shape), want, rtol=1e-12, atol=1e-12)
        else:
            assert np.isnan(got).all()


@pytest.mark.parametrize("M", [37, 11, 4])  # split by rows, by columns, and (one thread) serial
@pytest.mark.parametrize("tw", [False, True])
def test_linear_backward_flat_with_a_relu_mask(M, tw):
    """x's gradient passed through a relu's backward inside the kernel: zero where the relu output (at an offset
    of a longer storage) is <= 0, the gradient where it is positive or NaN; the other gradients unchanged."""
    rng = np.random.default_rng(M + tw)
    O, In = 13, 23
    threads = 1 if M == 4 else 2
    sg, go, g = _in_storage(rng, (M, O))
    sx, xo, x = _in_storage(rng, (M, In))
    sw, wo, w = _in_storage(rng, (In, O) if tw else (O, In))
    sm, mo, m = _in_storage(rng, (M, In))
    sm[mo:mo + M * In] = np.maximum(sm[mo:mo + M * In], 0)
    sm[mo + 3] = np.nan
    m = sm[mo:mo + M * In].reshape(M, In)
    gx, gw, gb = np.full(M * In, np.nan), np.full(O * In, np.nan), np.full(O, np.nan)
    gt = np.empty(threads * MM.linear_scratch(M, In, O, threads))
    MM.linear_backward_flat(sg, go, sx, xo, sw, wo, tw, gx, gw, gb, M, In, O, True, True, True, gt, threads, sm, mo,
                            1)
    full = g @ (w.T if tw else w)
    want = np.where(m <= 0, 0.0, full)
    assert want.ravel()[3] == full.ravel()[3] and (want == 0).sum() > M * In // 4
    np.testing.assert_allclose(gx.reshape(M, In), want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gw.reshape(O, In), g.T @ x, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gb, g.sum(0), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("M", [37, 11, 4])  # split by rows, by columns, and (one thread) serial
def test_linear_backward_flat_with_a_gelu_backward(M):
    """x's gradient times the exact GELU's derivative at its input (at an offset of a longer storage), block by
    block inside the kernel."""
    import math
    rng = np.random.default_rng(M)
    O, In = 13, 23
    threads = 1 if M == 4 else 2
    sg, go, g = _in_storage(rng, (M, O))
    sx, xo, x = _in_storage(rng, (M, In))
    sw, wo, w = _in_storage(rng, (O, In))
    sm, mo, m = _in_storage(rng, (M, In))
    gx, gw, gb = np.full(M * In, np.nan), np.full(O * In, np.nan), np.full(O, np.nan)
    gt = np.empty(threads * MM.linear_scratch(M, In, O, threads))
    MM.linear_backward_flat(sg, go, sx, xo, sw, wo, False, gx, gw, gb, M, In, O, True, True, True, gt, threads, sm,
                            mo, 2)
    d = 0.5 * (1 + np.vectorize(math.erf)(m / math.sqrt(2))) + m * np.exp(-m * m / 2) / math.sqrt(2 * math.pi)
    np.testing.assert_allclose(gx.reshape(M, In), (g @ w) * d, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gw.reshape(O, In), g.T @ x, rtol=1e-12, atol=1e-12)


def test_backend_is_named():
    assert _blas.BACKEND.startswith("mkl") or _blas.BACKEND == "scipy openblas"
    assert _blas.SEQUENTIAL == _blas.BACKEND.startswith("mkl")
    import minitorch
    assert minitorch.backends.mkl.is_available() == _blas.BACKEND.startswith("mkl")


def _run(env_value, code):
    env = dict(os.environ, MINITORCH_BLAS=env_value)
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600)


# A second process on the given library: the kernels the suite compiled (and cached) under one library load and
# run under the other, and the layers that call BLAS match NumPy.
_CHECK = r"""
import numpy as np, minitorch
from minitorch.kernels.cpu import _blas
print(_blas.BACKEND)
rng = np.random.default_rng(0)
x = rng.standard_normal((70, 33)).astype(np.float32)
lin = minitorch.nn.Linear(33, 21)
X = minitorch.from_numpy(x).requires_grad_()
y = lin(X)
w, b = lin.weight.detach().numpy(), lin.bias.detach().numpy()
np.testing.assert_allclose(y.detach().numpy(), x @ w.T + b, rtol=1e-4, atol=1e-4)
y.sum().backward()
np.testing.assert_allclose(X.grad.numpy(), np.ones((70, 21), np.float32) @ w, rtol=1e-4, atol=1e-4)
# few output columns (computed transposed on MKL, see _blas.NARROW)
lin10 = minitorch.nn.Linear(33, 10)
np.testing.assert_allclose(lin10(X).detach().numpy(), x @ lin10.weight.detach().numpy().T + lin10.bias.detach().numpy(),
                           rtol=1e-4, atol=1e-4)
v = rng.standard_normal((33, 6)).astype(np.float32)
np.testing.assert_allclose((minitorch.from_numpy(x) @ minitorch.from_numpy(v)).numpy(), x @ v, rtol=1e-4, atol=1e-4)
a = rng.standard_normal((300, 200)); c = rng.standard_normal((200, 300))
np.testing.assert_allclose((minitorch.from_numpy(a) @ minitorch.from_numpy(c)).numpy(), a @ c, rtol=1e-10)
# mid-size products (OpenBLAS splits them as linear layers: by rows, and by columns of a transposed operand)
a, c, d = rng.standard_normal((300, 100)), rng.standard_normal((100, 200)), rng.standard_normal((200, 300))
np.testing.assert_allclose((minitorch.from_numpy(a) @ minitorch.from_numpy(c)).numpy(), a @ c, rtol=1e-10)
e = rng.standard_normal((64, 300))
np.testing.assert_allclose((minitorch.from_numpy(e) @ minitorch.from_numpy(d).t()).numpy(), e @ d.T, rtol=1e-10)
img = rng.standard_normal((2, 3, 6, 6)).astype(np.float32); k = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
got = minitorch.nn.functional.conv2d(minitorch.from_numpy(img), minitorch.from_numpy(k)).numpy()
cols = np.lib.stride_tricks.sliding_window_view(img, (3, 3), axis=(2, 3))  # (2, 3, 4, 4, 3, 3)
want = np.einsum("nchwij,ocij->nohw", cols, k)
np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
print("ok")
"""


def test_openblas_fallback_in_a_new_process():
    r = _run("openblas", _CHECK)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["scipy", "openblas", "ok"]


@pytest.mark.skipif(not HAS_MKL, reason="the mkl wheel is not installed")
def test_mkl_is_chosen_when_installed():
    r = _run("auto", _CHECK)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.split("\n")
    assert lines[0].startswith("mkl") and lines[1] == "ok"


def test_bad_choice_is_an_error():
    r = _run("atlas", "import minitorch.kernels.cpu._blas")
    assert r.returncode != 0
    assert "ValueError: MINITORCH_BLAS must be 'auto', 'mkl' or 'openblas', not 'atlas'" in r.stderr


@pytest.mark.skipif(HAS_MKL or importlib.util.find_spec("mkl") is not None, reason="MKL is installed here")
def test_asking_for_missing_mkl_is_an_error():
    r = _run("mkl", "import minitorch.kernels.cpu._blas")
    assert r.returncode != 0 and "ImportError: MINITORCH_BLAS=mkl but no MKL library" in r.stderr
