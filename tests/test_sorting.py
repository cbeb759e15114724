"""Sorting and selection beyond the op table: named tuples, NaN and tie order, every dtype, 0-d and empty inputs,
user errors, gradients against PyTorch, unique's tuple forms, and shapes large enough for the parallel (CPU) and
multi-tile (CUDA) paths."""
import math

import numpy as np
import pytest
from numba import config as numba_config

import minitorch

SIM = bool(numba_config.ENABLE_CUDASIM)
NAN = float("nan")
INF = float("inf")
SPECIAL = [3.0, NAN, 1.0, -0.0, 0.0, NAN, -INF, INF, 1.0, -2.5, 0.0, NAN]


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def np_of(t):
    return t.detach().cpu().numpy()


def th_of(torch, t):
    return t.detach().numpy()


def assert_same(got, want, torch):
    """minitorch result == torch result: shapes, dtypes (by name), values (NaN == NaN)."""
    g, w = np_of(got), th_of(torch, want)
    assert g.shape == w.shape
    assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
    np.testing.assert_array_equal(g, w)


def rand(shape, seed=0, ties=False):
    rng = np.random.default_rng(seed)
    return rng.integers(-3, 4, shape).astype(np.float64) if ties else rng.standard_normal(shape)


def long_row():
    """A row longer than a CUDA tile on the simulator and past the CPU's 11-bit radix threshold elsewhere."""
    return 40 if SIM else 70_000


# ---------------------------------------------------------------------------------------------------------------
# return types
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, call", [
    ("sort", lambda x: x.sort()),
    ("topk", lambda x: x.topk(2)),
    ("kthvalue", lambda x: minitorch.kthvalue(x, 2)),
    ("median", lambda x: x.median(0)),
    ("nanmedian", lambda x: minitorch.nanmedian(x, 0)),
    ("mode", lambda x: x.mode()),
])
def test_named_tuples(name, call, device):
    x = minitorch.tensor([3.0, 1.0, 2.0, 5.0], device=device)
    r = call(x)
    values, indices = r
    assert isinstance(r, tuple) and type(r).__name__ == name
    assert r.values is values and r.indices is indices
    assert indices.dtype is minitorch.int64 and values.dtype is minitorch.float32
    assert repr(r).startswith(f"minitorch.return_types.{name}(")
    assert values.device.type == device and indices.device.type == device
    np.testing.assert_array_equal(np_of(x)[np_of(indices)], np_of(values))


# ---------------------------------------------------------------------------------------------------------------
# order: NaN, +-inf, -0.0, ties, every dtype
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.torch
@pytest.mark.parametrize("descending", [False, True])
def test_sort_nan_inf_and_signed_zero_order_matches_torch(descending, device, torch):
    x = minitorch.tensor(SPECIAL, device=device)
    r = minitorch.sort(x, descending=descending)
    w = torch.sort(torch.tensor(SPECIAL), descending=descending, stable=True)
    assert_same(r.values, w.values, torch)
    assert_same(r.indices, w.indices, torch)
    assert np.signbit(np_of(r.values)).tolist() == np.signbit(th_of(torch, w.values)).tolist()  # -0.0 kept
    assert_same(x.argsort(descending=descending), torch.argsort(torch.tensor(SPECIAL), descending=descending,
                                                                stable=True), torch)


@pytest.mark.torch
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int32", "uint8", "bool"])
@pytest.mark.parametrize("descending", [False, True])
def test_sort_every_dtype_with_ties_is_stable(dtype, descending, device, torch):
    rng = np.random.default_rng(1)
    a = rng.integers(0, 2 if dtype == "bool" else 6, (3, 37))
    x = minitorch.tensor(a, dtype=getattr(minitorch, dtype), device=device)
    w = torch.sort(torch.tensor(a, dtype=getattr(torch, dtype)), dim=1, descending=descending, stable=True)
    r = x.sort(1, descending)
    assert_same(r.values, w.values, torch)
    assert_same(r.indices, w.indices, torch)


@pytest.mark.torch
def test_sort_extreme_integers(device, torch):
    a = np.array([2 ** 63 - 1, -2 ** 63, 0, -1, 1, 2 ** 62, -2 ** 62, 2 ** 63 - 1, -2 ** 63], dtype=np.int64)
    r = minitorch.sort(minitorch.tensor(a, device=device))
    w = torch.sort(torch.tensor(a), stable=True)
    assert_same(r.values, w.values, torch)
    assert_same(r.indices, w.indices, torch)


@pytest.mark.torch
@pytest.mark.parametrize("largest", [True, False])
def test_topk_nan_is_largest(largest, device, torch):
    x = minitorch.tensor([1.0, NAN, 5.0, -INF, 2.0, INF], device=device)
    r = x.topk(3, largest=largest)
    w = torch.tensor([1.0, NAN, 5.0, -INF, 2.0, INF]).topk(3, largest=largest)
    assert_same(r.values, w.values, torch)
    assert_same(r.indices, w.indices, torch)


@pytest.mark.torch
def test_median_and_nanmedian_with_nans_match_torch(device, torch):
    rows = [[1.0, NAN, 3.0, NAN], [4.0, 1.0, 2.0, 3.0], [NAN, 7.0, -1.0, 0.5]]
    x, w = minitorch.tensor(rows, device=device), torch.tensor(rows)
    for fn in ("median", "nanmedian"):
        r, t = getattr(x, fn)(1), getattr(w, fn)(1)
        assert_same(r.values, t.values, torch)
        assert_same(r.indices, t.indices, torch)
        assert_same(getattr(minitorch, fn)(x), getattr(torch, fn)(w), torch)
    assert math.isnan(minitorch.median(minitorch.tensor([1.0, NAN], device=device)).item())
    assert minitorch.nanmedian(minitorch.tensor([NAN, 1.0, NAN, 2.0, NAN, 3.0], device=device)).item() == 2.0


def test_nanmedian_of_an_all_nan_row_is_nan(device):
    r = minitorch.tensor([[NAN, NAN, NAN], [1.0, NAN, 2.0]], device=device).nanmedian(1)
    assert math.isnan(np_of(r.values)[0]) and np_of(r.values)[1] == 1.0
    assert math.isnan(minitorch.nanmedian(minitorch.tensor([NAN, NAN], device=device)).item())


@pytest.mark.torch
def test_median_even_count_is_lower_median_for_integers(device, torch):
    a = np.array([[4, 1, 3, 2], [9, 9, 0, 5]], dtype=np.int64)
    r = minitorch.tensor(a, device=device).median(1)
    w = torch.tensor(a).median(1)
    assert_same(r.values, w.values, torch)
    assert minitorch.tensor(a, device=device).median().item() == torch.tensor(a).median().item()


@pytest.mark.torch
def test_mode_ties_pick_smallest_value_and_a_valid_index(device, torch):
    a = np.array([[1.0, 2.0, 2.0, 1.0, 3.0], [5.0, 5.0, 4.0, 4.0, 4.0], [2.0, 1.0, 2.0, 1.0, 3.0]])
    r = minitorch.tensor(a, device=device).mode(1)
    w = torch.tensor(a).mode(1)
    assert_same(r.values, w.values, torch)
    np.testing.assert_array_equal(np.take_along_axis(a, np_of(r.indices)[:, None], 1)[:, 0], np_of(r.values))
    np.testing.assert_array_equal(np_of(r.indices), [3, 4, 3])  # the last occurrence of the mode


def test_mode_of_bool(device):
    r = minitorch.tensor([True, False, False], device=device).mode()
    assert r.values.item() is False and r.indices.item() in (1, 2)


# ---------------------------------------------------------------------------------------------------------------
# 0-d and empty inputs
# ---------------------------------------------------------------------------------------------------------------
def test_zero_dim_inputs(device):
    x = minitorch.tensor(5.0, device=device)
    for r in (x.sort(), x.topk(1), x.kthvalue(1), x.median(0), x.mode(), minitorch.nanmedian(x, 0)):
        assert r.values.shape == () and r.indices.shape == ()
        assert r.values.item() == 5.0 and r.indices.item() == 0
    assert x.argsort().shape == () and x.argsort().item() == 0
    assert minitorch.msort(x).item() == 5.0
    assert x.median().item() == 5.0
    u, inv, cnt = minitorch.unique(x, return_inverse=True, return_counts=True)
    assert u.shape == (1,) and inv.shape == () and cnt.tolist() == [1]


def test_empty_inputs(device):
    e = minitorch.zeros(2, 0, device=device)
    r = e.sort(1)
    assert r.values.shape == (2, 0) and r.indices.shape == (2, 0)
    assert e.topk(0, 1).values.shape == (2, 0)
    out, inv, cnt = minitorch.unique(minitorch.tensor([], dtype=minitorch.int64, device=device),
                                     return_inverse=True, return_counts=True)
    assert out.shape == (0,) and inv.shape == (0,) and cnt.shape == (0,)
    assert math.isnan(minitorch.median(minitorch.tensor([], device=device)).item())
    assert minitorch.median(minitorch.tensor([], dtype=minitorch.int64, device=device)).item() == -2 ** 63  # as torch
    assert minitorch.kthvalue(minitorch.zeros(3, 0, device=device), 1, 0).values.shape == (0,)
    assert minitorch.topk(minitorch.zeros(3, 0, device=device), 2, 0).values.shape == (2, 0)


# ---------------------------------------------------------------------------------------------------------------
# errors
# ---------------------------------------------------------------------------------------------------------------
def test_user_errors(device):
    x = minitorch.zeros(3, 4, device=device)
    with pytest.raises(RuntimeError, match="selected index k out of range"):
        x.topk(5)
    with pytest.raises(RuntimeError, match="selected index k out of range"):
        minitorch.topk(x, -1, 0)
    with pytest.raises(RuntimeError, match="selected index k out of range"):
        minitorch.tensor(3.0, device=device).topk(2)
    with pytest.raises(RuntimeError, match="topk does not support bool dtypes"):
        minitorch.tensor([True, False], device=device).topk(1)
    with pytest.raises(TypeError, match="argument 'k' \\(position 2\\) must be int, not float"):
        x.topk(2.0)
    with pytest.raises(RuntimeError, match="kthvalue\\(\\): selected number k out of range for dimension 0"):
        x.kthvalue(4, 0)
    with pytest.raises(RuntimeError, match="selected number k out of range for dimension 1"):
        x.kthvalue(0)
    with pytest.raises(IndexError, match="kthvalue\\(\\): Expected reduction dim 1 to have non-zero size"):
        minitorch.zeros(2, 0, device=device).kthvalue(1, 1)
    with pytest.raises(IndexError, match="median\\(\\): Expected reduction dim 1 to have non-zero size"):
        minitorch.zeros(2, 0, device=device).median(1)
    with pytest.raises(IndexError, match="mode\\(\\): Expected reduction dim 0 to have non-zero size"):
        minitorch.tensor([], device=device).mode()
    with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range of \[-2, 1\], but got 2\)"):
        x.sort(2)
    with pytest.raises(IndexError, match="Dimension out of range"):
        minitorch.argsort(x, -3)
    with pytest.raises(TypeError, match="positional argument"):
        minitorch.sort(x, 0, False, True)  # stable is keyword-only, as in PyTorch
    with pytest.raises(TypeError, match="missing 1 required positional arguments: \"dim\""):
        x.median(keepdim=True)
    with pytest.raises(NotImplementedError, match="not implemented for 'Bool'"):
        minitorch.tensor([True, False], device=device).median()
    with pytest.raises(NotImplementedError, match="not implemented for 'Bool'"):
        minitorch.tensor([True, False], device=device).kthvalue(1)
    with pytest.raises(IndexError, match="Dimension specified as 0 but tensor has no dimensions"):
        minitorch.unique(minitorch.tensor(3.0, device=device), dim=0)
    with pytest.raises(RuntimeError, match="There are 0 sized dimensions, and they aren't selected"):
        minitorch.unique(minitorch.zeros(2, 0, 3, device=device), dim=0)


# ---------------------------------------------------------------------------------------------------------------
# gradients
# ---------------------------------------------------------------------------------------------------------------
GRAD_CASES = [
    ("sort_dim0_desc", lambda m, x: m.sort(x, 0, descending=True).values),
    ("msort", lambda m, x: m.msort(x)),
    ("topk_dim1", lambda m, x: x.topk(2, dim=1).values),
    ("kthvalue_keepdim", lambda m, x: x.kthvalue(2, 0, keepdim=True).values),
    ("median_dim", lambda m, x: x.median(1).values),
    ("nanmedian_dim", lambda m, x: m.nanmedian(x, 0).values),
    ("mode_ties", lambda m, x: m.mode(x, 1).values),
    ("median_all_ties", lambda m, x: x.median()),
    ("nanmedian_all", lambda m, x: x.nanmedian()),
]


@pytest.mark.torch
@pytest.mark.parametrize("name, fn", GRAD_CASES, ids=[c[0] for c in GRAD_CASES])
def test_gradients_match_torch(name, fn, device, torch):
    a = rand((4, 5), seed=3, ties=name == "median_all_ties")
    if name == "mode_ties":  # one mode per row; on short rows torch also returns its last occurrence
        a = np.array([[1.0, 2.0, 2.0, 3.0, 4.0], [5.0, 0.0, 6.0, 0.0, 7.0], [1.0, 1.0, 1.0, 2.0, 3.0],
                      [9.0, 8.0, 7.0, 6.0, 8.0]])
    if name == "nanmedian_all":
        a[1, 2] = a[3, 0] = NAN
    x = minitorch.tensor(a, requires_grad=True, device=device)
    t = torch.tensor(a, requires_grad=True)
    out, tout = fn(minitorch, x), fn(torch, t)
    w = np.random.default_rng(7).standard_normal(tuple(tout.shape))
    (out * minitorch.tensor(w, device=device)).sum().backward()
    (tout * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(np_of(out), th_of(torch, tout), equal_nan=True)
    np.testing.assert_allclose(np_of(x.grad), th_of(torch, t.grad), rtol=1e-12, atol=1e-12)


@pytest.mark.torch
def test_median_gradient_is_shared_by_nans(device, torch):
    a = [NAN, 1.0, 2.0, NAN]
    x = minitorch.tensor(a, requires_grad=True, device=device)
    t = torch.tensor(a, requires_grad=True)
    x.median().backward()
    t.median().backward()
    np.testing.assert_array_equal(np_of(x.grad), th_of(torch, t.grad))


def test_argsort_and_unique_are_not_differentiable(device):
    x = minitorch.tensor([3.0, 1.0, 3.0], requires_grad=True, device=device)
    assert not x.argsort().requires_grad
    assert not minitorch.unique(x).requires_grad
    assert not x.sort().indices.requires_grad and x.sort().values.requires_grad


# ---------------------------------------------------------------------------------------------------------------
# unique
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.torch
@pytest.mark.parametrize("flags", [(False, False), (True, False), (False, True), (True, True)])
def test_unique_tuple_forms_match_torch(flags, device, torch):
    a = [NAN, 1.0, NAN, 1.0, 2.0, -0.0, 2.0]
    inv, cnt = flags
    r = minitorch.unique(minitorch.tensor(a, device=device), return_inverse=inv, return_counts=cnt)
    w = torch.unique(torch.tensor(a), return_inverse=inv, return_counts=cnt)
    if not (inv or cnt):
        assert isinstance(r, minitorch.Tensor)
        r, w = (r,), (w,)
    assert isinstance(r, tuple) and len(r) == len(w)
    for g, e in zip(r, w):
        assert_same(g, e, torch)


@pytest.mark.torch
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_unique_dim_matches_torch(dim, device, torch):
    a = np.array([[1, 2, 1, 2], [0, 5, 0, 5], [1, 2, 1, 3]], dtype=np.int64)
    a = np.concatenate([a, a[:1]], 0)
    r = minitorch.unique(minitorch.tensor(a, device=device), dim=dim, return_inverse=True, return_counts=True)
    w = torch.unique(torch.tensor(a), dim=dim, return_inverse=True, return_counts=True)
    for g, e in zip(r, w):
        assert_same(g, e, torch)


@pytest.mark.torch
def test_unique_consecutive_matches_torch(device, torch):
    a = np.array([1, 1, 2, 2, 3, 1, 1, 2], dtype=np.int64)
    r = minitorch.tensor(a, device=device).unique_consecutive(return_inverse=True, return_counts=True)
    w = torch.tensor(a).unique_consecutive(return_inverse=True, return_counts=True)
    for g, e in zip(r, w):
        assert_same(g, e, torch)
    rows = np.array([[1, 1], [1, 1], [2, 3], [1, 1]], dtype=np.int64)
    r = minitorch.unique_consecutive(minitorch.tensor(rows, device=device), return_counts=True, dim=0)
    w = torch.unique_consecutive(torch.tensor(rows), return_counts=True, dim=0)
    for g, e in zip(r, w):
        assert_same(g, e, torch)
    assert_same(minitorch.unique_consecutive(minitorch.tensor([NAN, NAN, 1.0], device=device)),
                torch.unique_consecutive(torch.tensor([NAN, NAN, 1.0])), torch)


# ---------------------------------------------------------------------------------------------------------------
# large shapes: parallel rows and long rows on the CPU, multi-tile merges and candidate selection on CUDA
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.torch
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
def test_sort_long_row_and_many_rows(dtype, device, torch):
    n = long_row()
    rng = np.random.default_rng(5)
    wide = rng.integers(-2 ** 62, 2 ** 62, n) if dtype == "int64" else rng.standard_normal(n)
    if dtype != "int64":
        wide[rng.random(n) < 0.01] = NAN
    rows = (rng.integers(0, 50, (3 if SIM else 300, 6 if SIM else 257)) if dtype == "int64" else
            rng.standard_normal((3 if SIM else 300, 6 if SIM else 257)).round(1))  # ties
    for a, dim in ((wide, 0), (rows, 1), (rows, 0)):
        x = minitorch.tensor(a, dtype=getattr(minitorch, dtype), device=device)
        for desc in (False, True):
            r = x.sort(dim, descending=desc)
            w = torch.sort(torch.tensor(a, dtype=getattr(torch, dtype)), dim=dim, descending=desc, stable=True)
            assert_same(r.values, w.values, torch)
            assert_same(r.indices, w.indices, torch)


@pytest.mark.torch
@pytest.mark.parametrize("k", [1, 5, 70])
def test_topk_many_rows_and_large_k(k, device, torch):
    R, n = (3, 90) if SIM else (300, 1000)
    a = np.random.default_rng(k).standard_normal((R, n))
    x = minitorch.tensor(a, device=device)
    for largest in (True, False):
        r = x.topk(k, 1, largest)
        w = torch.tensor(a).topk(k, 1, largest)
        assert_same(r.values, w.values, torch)
        assert_same(r.indices, w.indices, torch)
        r = x.t().topk(k, 0, largest)  # a non-contiguous input along dim 0
        assert_same(r.values, w.values.t(), torch)
    kv = x.kthvalue(n // 2, 1)
    tk = torch.tensor(a).kthvalue(n // 2, 1)
    assert_same(kv.values, tk.values, torch)
    assert_same(kv.indices, tk.indices, torch)


@pytest.mark.torch
def test_unique_large(device, torch):
    n = 60 if SIM else 200_000
    a = np.random.default_rng(9).integers(0, n // 3, n)
    for inv, cnt in ((False, False), (True, True)):
        r = minitorch.unique(minitorch.tensor(a, device=device), return_inverse=inv, return_counts=cnt)
        w = torch.unique(torch.tensor(a), return_inverse=inv, return_counts=cnt)
        for g, e in zip(r if inv else (r,), w if inv else (w,)):
            assert_same(g, e, torch)


@pytest.mark.torch
def test_median_and_mode_many_rows(device, torch):
    R, n = (3, 35) if SIM else (400, 301)
    a = np.random.default_rng(4).standard_normal((R, n))
    x, t = minitorch.tensor(a, device=device), torch.tensor(a)
    for r, w in ((x.median(1), t.median(1)), (x.nanmedian(0), t.nanmedian(0)), (x.mode(1), t.mode(1))):
        assert_same(r.values, w.values, torch)
        assert_same(r.indices, w.indices, torch)
    assert x.median().item() == t.median().item()


@pytest.mark.parametrize("k", [1, 2, 17, 35])
def test_kthvalue_with_ties_is_the_stable_sort_position(k, device):
    R, n = (3, 35) if SIM else (64, 2001)
    k = min(k, n)
    a = np.random.default_rng(k).integers(-3, 4, (R, n)).astype(np.float64)
    a[0, :3] = NAN
    r = minitorch.tensor(a, device=device).kthvalue(k, 1)
    order = np.argsort(a, 1, kind="stable")[:, k - 1]
    np.testing.assert_array_equal(np_of(r.indices), order)
    np.testing.assert_array_equal(np_of(r.values), a[np.arange(R), order])


def test_k_accepts_numpy_and_tensor_integers_but_not_bools(device):
    x = minitorch.tensor([3.0, 1.0, 2.0], device=device)
    np.testing.assert_array_equal(np_of(x.topk(np.int64(2)).values), [3.0, 2.0])
    assert x.kthvalue(minitorch.tensor(1)).values.item() == 1.0
    with pytest.raises(TypeError, match="argument 'k' \\(position 2\\) must be int, not bool"):
        x.kthvalue(True)
    r = minitorch.tensor(3.0, device=device).topk(0)
    assert r.values.shape == () and r.indices.shape == ()  # as PyTorch
