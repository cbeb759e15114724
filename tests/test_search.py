"""searchsorted, bucketize, bincount, histc, histogram, cummax/cummin, logcumsumexp: behaviour the op table cannot
express (named tuples, errors, NaN, ties, dtypes, scalar inputs) checked against PyTorch, and large shapes that take
the parallel (CPU) and multi-chunk (CUDA) paths."""

import numpy as np
import pytest

import minitorch
from minitorch.ops import search as search_ops

NAN, INF = float("nan"), float("inf")


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def to_np(t):
    return t.detach().cpu().numpy()


def mt(a, device, dtype=None):
    """A minitorch tensor of the NumPy array of ``a`` (float64 for float lists)."""
    return minitorch.tensor(np.asarray(a), dtype=dtype, device=device)


def same(got, want, exact=True):
    """A minitorch result equals a torch result: shape, dtype name and values (NaN == NaN)."""
    assert tuple(got.shape) == tuple(want.shape)
    assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
    w = want.detach().numpy()
    if exact:
        np.testing.assert_array_equal(to_np(got), w)
    else:
        np.testing.assert_allclose(to_np(got), w, rtol=1e-5, atol=1e-6, equal_nan=True)


def pair(torch, a, device, dtype=None):
    """The same array as a minitorch tensor on ``device`` and a torch CPU tensor."""
    a = np.asarray(a if dtype is None else np.asarray(a, dtype=dtype))
    return minitorch.tensor(a, device=device), torch.tensor(a)


# ---------------------------------------------------------------------------------------------------------------
# searchsorted / bucketize
# ---------------------------------------------------------------------------------------------------------------
SS_CASES = [
    ("1d", [1.0, 3, 5, 7], [[3.0, 6, 9, 0], [7, 1, 8, 5]], {}),
    ("1d_right", [1.0, 3, 5, 7], [[3.0, 6, 9, 0], [7, 1, 8, 5]], {"right": True}),
    ("side_right", [1.0, 3, 5, 7], [3.0, 7, 1], {"side": "right"}),
    ("side_left_right_false", [1.0, 3, 5, 7], [3.0, 7, 1], {"side": "left", "right": False}),
    ("side_right_right_true", [1.0, 3, 5, 7], [3.0, 7, 1], {"side": "right", "right": True}),
    ("int32", [1.0, 3, 5, 7], [3.0, 7, 1], {"out_int32": True}),
    ("nd", [[1.0, 3, 5, 7], [2, 4, 6, 8]], [[3.0, 6, 9], [3, 6, 9]], {}),
    ("nd_right", [[[1.0, 3, 5], [0, 0, 1]], [[2, 2, 2], [-1, 0, 9]]], [[[3.0, 5], [0, 1]], [[2, 2], [9, -5]]],
     {"right": True}),
    ("int64", [1, 3, 3, 3, 7], [3, 0, 8, 7, 2], {}),
    ("int64_right", [1, 3, 3, 3, 7], [3, 0, 8, 7, 2], {"right": True}),
    ("nan", [1.0, 2, NAN], [NAN, 1.5, 3, INF, -INF], {}),
    ("nan_right", [1.0, 2, NAN], [NAN, 1.5, 3, INF, -INF], {"right": True}),
    ("empty_values", [1.0, 2], np.zeros((0,)), {}),
    ("empty_boundaries", np.zeros((0,)), [1.0, 2], {}),
]


@pytest.mark.torch
@pytest.mark.parametrize("name, seq, vals, kw", SS_CASES, ids=[c[0] for c in SS_CASES])
def test_searchsorted_matches_torch(name, seq, vals, kw, device, torch):
    s, ts = pair(torch, seq, device)
    v, tv = pair(torch, vals, device)
    same(minitorch.searchsorted(s, v, **kw), torch.searchsorted(ts, tv, **kw))


@pytest.mark.torch
def test_searchsorted_strided_and_mixed_dtypes(device, torch):
    base = np.arange(24.0).reshape(4, 6) * 0.5
    s, ts = pair(torch, base, device)
    vals = np.array([[0.2, 1.0, 7.3], [2.6, 4.0, -1], [5.5, 9, 11], [0, 3.5, 12]])
    v, tv = pair(torch, vals, device)
    # every other boundary of each row, values read through a transpose
    same(minitorch.searchsorted(s[:, ::2], v.t().contiguous().t()), torch.searchsorted(ts[:, ::2], tv))
    li, tli = pair(torch, np.array([1, 3, 5, 7]), device)
    fv, tfv = pair(torch, np.array([3.5, 6.0, 0.5], dtype=np.float32), device)
    same(minitorch.searchsorted(li, fv), torch.searchsorted(tli, tfv))  # promoted to a common dtype
    same(minitorch.searchsorted(s.reshape(-1), mt([[1.0, 2], [3, 4]], device).long()),
         torch.searchsorted(ts.reshape(-1), torch.tensor([[1, 2], [3, 4]])))


@pytest.mark.torch
def test_searchsorted_scalar_input(device, torch):
    s, ts = pair(torch, [1.0, 3, 5, 7], device)
    for value, kw in ((3, {}), (3.0, {"right": True}), (-2.5, {}), (100, {"side": "right"})):
        r = minitorch.searchsorted(s, value, **kw)
        assert r.dim() == 0
        same(r, torch.searchsorted(ts, value, **kw))


@pytest.mark.torch
def test_searchsorted_sorter(device, torch):
    rng = np.random.default_rng(0)
    seq = rng.permutation(20).astype(np.float64).reshape(2, 10)
    order = np.argsort(seq, axis=-1)
    vals = rng.uniform(-2, 22, (2, 7))
    s, ts = pair(torch, seq, device)
    srt, tsrt = pair(torch, order, device)
    v, tv = pair(torch, vals, device)
    for kw in ({}, {"right": True}):
        same(minitorch.searchsorted(s, v, sorter=srt, **kw), torch.searchsorted(ts, tv, sorter=tsrt, **kw))


@pytest.mark.torch
def test_bucketize_matches_torch(device, torch):
    b, tb = pair(torch, [-1.0, 0.0, 0.5, 0.5, 2.0], device)
    x, tx = pair(torch, [[-3.0, 0.5, 0.0], [2.0, 1.0, 9.0]], device)
    for kw in ({}, {"right": True}, {"out_int32": True}):
        same(minitorch.bucketize(x, b, **kw), torch.bucketize(tx, tb, **kw))
    r = minitorch.bucketize(0.5, b, right=True)
    assert r.dim() == 0
    same(r, torch.bucketize(0.5, tb, right=True))


def test_searchsorted_errors(device):
    s = mt([1.0, 3, 5, 7], device)
    v = mt([3.0, 6], device)
    with pytest.raises(RuntimeError, match="side and right can't be set to opposites, got side of left"):
        minitorch.searchsorted(s, v, side="left", right=True)
    with pytest.raises(RuntimeError, match="side can only be 'left' or 'right' but got middle"):
        minitorch.searchsorted(s, v, side="middle")
    with pytest.raises(RuntimeError, match="should have positive dimension, but got 0 dimension"):
        minitorch.searchsorted(mt(1.0, device), v)
    with pytest.raises(RuntimeError, match=r"scalar only when boundaries tensor dimension is 1, .* dim\(2\)"):
        minitorch.searchsorted(mt([[1.0, 2]], device), 3)
    with pytest.raises(RuntimeError, match=r"boundaries tensor \[2, 4\] and input value tensor \[3, 2\]"):
        minitorch.searchsorted(mt(np.ones((2, 4)), device), mt(np.ones((3, 2)), device))
    with pytest.raises(RuntimeError, match=r"boundaries tensor \[2, 4\] and input value tensor \[2\]"):
        minitorch.searchsorted(mt(np.ones((2, 4)), device), mt(np.ones(2), device))
    with pytest.raises(RuntimeError, match="sorter must be a tensor of long dtype but got dtype Int"):
        minitorch.searchsorted(s, v, sorter=mt(np.array([0, 1, 2, 3], dtype=np.int32), device))
    with pytest.raises(RuntimeError, match=r"boundary and sorter must have the same size, .*\[4\]and .*\[3\]"):
        minitorch.searchsorted(s, v, sorter=mt([0, 1, 2], device))
    for bad in ([0, 1, 2, 4], [0, -1, 2, 3]):
        with pytest.raises(RuntimeError, match="sorter index out of range"):
            minitorch.searchsorted(s, v, sorter=mt(bad, device))
    with pytest.raises(NotImplementedError, match="not implemented for 'Bool'"):
        minitorch.searchsorted(mt([False, True], device), mt([True], device))
    with pytest.raises(RuntimeError, match=r"scalar only when boundaries tensor dimension is 1, .* dim\(2\)"):
        minitorch.searchsorted(mt([[1.0, 2]], device), mt(3.0, device))  # a 0-d tensor counts as a scalar
    with pytest.raises(TypeError, match="must be Tensor or Number, not str"):
        minitorch.searchsorted(s, "3")
    with pytest.raises(RuntimeError, match=r"boundaries tensor must be 1 dimension, but got dim\(2\)"):
        minitorch.bucketize(v, mt(np.ones((2, 4)), device))


# ---------------------------------------------------------------------------------------------------------------
# bincount
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.torch
@pytest.mark.parametrize("wdtype", [None, "float32", "float64", "int64", "bool"])
@pytest.mark.parametrize("xdtype", ["int64", "int32", "uint8"])
def test_bincount_matches_torch(xdtype, wdtype, device, torch):
    x = np.array([0, 1, 1, 3, 7, 3, 3], dtype=xdtype)
    tx, mx = torch.tensor(x), mt(x, device)
    if wdtype is None:
        for ml in (0, 3, 12):
            same(minitorch.bincount(mx, minlength=ml), torch.bincount(tx, minlength=ml))
        same(mx.bincount(), tx.bincount())
        return
    w = np.array([0.5, 2, -1, 4, 8, 0.25, 1]).astype(wdtype)
    tw, mw = torch.tensor(w), mt(w, device)
    same(minitorch.bincount(mx, mw, 10), torch.bincount(tx, tw, 10), exact=False)
    same(mx.bincount(weights=mw), tx.bincount(weights=tw), exact=False)


@pytest.mark.torch
def test_bincount_empty_and_non_differentiable(device, torch):
    e = mt(np.zeros(0, dtype=np.int64), device)
    te = torch.zeros(0, dtype=torch.long)
    same(minitorch.bincount(e), torch.bincount(te))
    same(minitorch.bincount(e, minlength=3), torch.bincount(te, minlength=3))
    same(minitorch.bincount(e, mt(np.zeros(0), device)), torch.bincount(te, torch.zeros(0, dtype=torch.float64)))
    w = mt([1.0, 2.0], device).requires_grad_()
    assert not minitorch.bincount(mt([0, 2], device), w).requires_grad


@pytest.mark.torch
def test_counts_with_many_bins_match_torch(device, torch):
    """Tables too large for a GPU block's shared memory take the path that adds straight into the output."""
    x, tx = pair(torch, [0, 5, 5, 2999, 17], device)
    same(minitorch.bincount(x, minlength=3000), torch.bincount(tx, minlength=3000))
    w, tw = pair(torch, [0.5, 1.0, -2.0, 3.0, 0.25], device)
    same(minitorch.bincount(x, w), torch.bincount(tx, tw))
    f, tf = pair(torch, [0.0, 0.1, 0.1, 0.7, 1.0, 2.0], device)
    same(minitorch.histc(f, bins=2100, min=0, max=1), torch.histc(tf, bins=2100, min=0, max=1))


def test_bincount_errors(device):
    x = mt([0, 1, 1, 3], device)
    with pytest.raises(RuntimeError, match="1-d non-negative integral inputs"):
        minitorch.bincount(mt([-1, 2], device))
    with pytest.raises(RuntimeError, match="1-d non-negative integral inputs"):
        minitorch.bincount(x.reshape(2, 2))
    with pytest.raises(RuntimeError, match="1-d non-negative integral inputs"):
        minitorch.bincount(mt(3, device))
    with pytest.raises(NotImplementedError, match="\"bincount_cpu\" not implemented for 'Float'"):
        minitorch.bincount(mt([1.0, 2.0], device, minitorch.float32))
    with pytest.raises(NotImplementedError, match="not implemented for 'Bool'"):
        minitorch.bincount(mt([True, False], device))
    with pytest.raises(RuntimeError, match="weights should be 1-d and have the same length as input"):
        minitorch.bincount(x, mt([1.0, 2.0], device))
    with pytest.raises(RuntimeError, match="weights should be 1-d and have the same length as input"):
        minitorch.bincount(x, mt(np.ones((2, 2)), device))
    with pytest.raises(TypeError, match="argument 'minlength' .* must be int, not float"):
        minitorch.bincount(x, None, 2.0)
    with pytest.raises(RuntimeError, match="minlength should be >= 0"):
        minitorch.bincount(x, minlength=-1)


# ---------------------------------------------------------------------------------------------------------------
# histc / histogram
# ---------------------------------------------------------------------------------------------------------------
HISTC_CASES = [
    ("data_range", [1.0, 2, 1, 4], {"bins": 4}),
    ("given_range", [1.0, 2, 1, 4, -3, 9], {"bins": 4, "min": 0, "max": 3}),
    ("on_edges", [0.0, 0.75, 1.5, 2.25, 3.0, 3.0], {"bins": 4, "min": 0, "max": 3}),
    ("all_equal", [2.0, 2.0], {"bins": 4}),
    ("min_eq_max_uses_data", [1.0, 2, 1, 4], {"bins": 4, "min": 1, "max": 1}),
    ("nan_ignored", [NAN, 2.0, 1.0], {"bins": 4, "min": 0, "max": 3}),
    ("inf_ignored", [INF, -INF, 2.0], {"bins": 3, "min": 0, "max": 3}),
    ("empty", np.zeros(0), {"bins": 4}),
    ("2d_default_bins", np.linspace(-1, 1, 12).reshape(3, 4), {}),
]


@pytest.mark.torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name, data, kw", HISTC_CASES, ids=[c[0] for c in HISTC_CASES])
def test_histc_matches_torch(name, data, kw, dtype, device, torch):
    x, tx = pair(torch, data, device, dtype)
    same(minitorch.histc(x, **kw), torch.histc(tx, **kw))
    same(x.histc(**kw), tx.histc(**kw))


HIST_CASES = [
    ("int_bins", [1.0, 2, 1, 4], 4, {}),
    ("range", [1.0, 2, 1, 4, -5], 4, {"range": (0.0, 3.0)}),
    ("range_equal", [1.0, 2, 1, 4], 3, {"range": (1.0, 1.0)}),
    ("all_equal", [2.0, 2.0, 2.0], 3, {}),
    ("edges", [1.0, 2, 1, 4, 5, 0, 6], [0.0, 1, 3, 5], {}),
    ("edges_density", [1.0, 2, 1, 4, 5, 0], [0.0, 1, 3, 5], {"density": True}),
    ("weight_density", [1.0, 2, 1, 4], 3, {"weight": [1.0, 2, 3, 4], "density": True}),
    ("weight", [[1.0, 2], [1, 4]], 3, {"weight": [[1.0, -2], [3, 0.5]]}),
    ("empty", np.zeros(0), 3, {}),
]


@pytest.mark.torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name, data, bins, kw", HIST_CASES, ids=[c[0] for c in HIST_CASES])
def test_histogram_matches_torch(name, data, bins, kw, dtype, device, torch):
    x, tx = pair(torch, data, device, dtype)
    mkw, tkw = dict(kw), dict(kw)
    if "weight" in kw:
        mkw["weight"], tkw["weight"] = pair(torch, kw["weight"], device, dtype)
    mb, tb = pair(torch, bins, device, dtype) if isinstance(bins, list) else (bins, bins)
    got, want = minitorch.histogram(x, mb, **mkw), torch.histogram(tx, tb, **tkw)
    same(got.hist, want.hist, exact=False)
    same(got.bin_edges, want.bin_edges, exact=False)
    got2 = x.histogram(mb, **mkw)
    np.testing.assert_allclose(to_np(got2[0]), want[0].numpy(), rtol=1e-6)


def test_histogram_named_tuple(device):
    r = minitorch.histogram(mt([1.0, 2, 1, 4], device), 4)
    hist, edges = r
    assert isinstance(r, tuple) and r.hist is hist and r.bin_edges is edges and r._fields == ("hist", "bin_edges")
    assert repr(r).startswith("minitorch.return_types.histogram(\nhist=tensor(")
    np.testing.assert_array_equal(to_np(hist), np.histogram([1.0, 2, 1, 4], 4)[0])


def test_histc_and_histogram_errors(device):
    x = mt([1.0, 2, 1, 4], device)
    with pytest.raises(NotImplementedError, match="\"histogram_cpu\" not implemented for 'Long'"):
        minitorch.histc(mt([1, 2], device))
    with pytest.raises(TypeError, match=r"histc\(\): argument 'bins' \(position 2\) must be int, not float"):
        minitorch.histc(x, 3.0)
    with pytest.raises(TypeError, match=r"histogram\(\): argument 'bins' \(position 2\) must be int, not float"):
        minitorch.histogram(x, 3.0)
    with pytest.raises(RuntimeError, match="torch.histc: max must be larger than min"):
        minitorch.histc(x, bins=4, min=3, max=1)
    for bins in (0, -1):
        with pytest.raises(RuntimeError, match=f"bins must be > 0, but got {bins} for dimension 0"):
            minitorch.histc(x, bins=bins)
    with pytest.raises(RuntimeError, match=r"range of \[nan, nan\] is not finite"):
        minitorch.histc(mt([NAN, 2.0], device), bins=4)
    with pytest.raises(RuntimeError, match=r"range of \[2, inf\] is not finite"):
        minitorch.histc(mt([INF, 2.0], device), bins=4)
    with pytest.raises(RuntimeError, match=r"range of \[0, inf\] is not finite"):
        minitorch.histc(x, bins=4, min=0, max=INF)
    with pytest.raises(NotImplementedError, match="\"histogramdd\" not implemented for 'Long'"):
        minitorch.histogram(mt([1, 2], device), 3)
    with pytest.raises(RuntimeError, match="min should not exceed max, but got min 3 max 1 for dimension 0"):
        minitorch.histogram(x, 3, range=(3.0, 1.0))
    with pytest.raises(RuntimeError, match="bins must be > 0, but got 0 for dimension 0"):
        minitorch.histogram(x, 0)
    with pytest.raises(RuntimeError, match="bins must be > 0, but got 0 for dimension 0"):
        minitorch.histogram(x, mt([1.0], device))
    with pytest.raises(RuntimeError, match="bins tensor should have one dimension, but got 2 dimensions"):
        minitorch.histogram(x, mt([[3.0, 1, 5]], device))
    with pytest.raises(RuntimeError, match=r"dimension 0's range \[nan, nan\] is not finite"):
        minitorch.histogram(mt([NAN, 1.0], device), 3)
    with pytest.raises(RuntimeError, match=r"weight with shape \[2\]"):
        minitorch.histogram(x, 3, weight=mt([1.0, 2], device))
    with pytest.raises(RuntimeError, match=r"input\(double\), and weight\(float\)"):
        minitorch.histogram(x, 3, weight=mt([1.0, 2, 3, 4], device, minitorch.float32))
    with pytest.raises(RuntimeError, match="input with dtype double and bins for dimension 0 with dtype float"):
        minitorch.histogram(x, mt([0.0, 1, 3], device, minitorch.float32))
    with pytest.raises(TypeError, match="range"):
        minitorch.histogram(x, mt([0.0, 1, 3], device), range=(0.0, 1.0))


# ---------------------------------------------------------------------------------------------------------------
# cummax / cummin
# ---------------------------------------------------------------------------------------------------------------
CUM_CASES = [
    ("ties_float", [1.0, 3, 3, 2, 3, 0, 3], 0, None),
    ("ties_int", [[2, 1, 1, 2, 1, 2], [0, 0, 5, 5, -1, 5]], 1, "int64"),
    ("ties_dim0", [[2, 1, 1], [2, 0, 5], [2, 1, 5], [3, 1, 5]], 0, "int64"),
    ("nan", [1.0, NAN, 2, NAN, 5], 0, None),
    ("nan_first", [NAN, 1.0, 5], -1, None),
    ("inf", [-INF, -INF, 1, INF, INF], 0, None),
    ("uint8", [1, 3, 2, 3], 0, "uint8"),
    ("bool", [True, False, True, False], 0, "bool"),
    ("scalar", 3.0, 0, None),
    ("scalar_neg_dim", 3.0, -1, None),
    ("empty", np.zeros((0, 3)), 0, None),
    ("empty_other_dim", np.zeros((0, 3)), 1, None),
]


@pytest.mark.torch
@pytest.mark.parametrize("name", ["cummax", "cummin"])
@pytest.mark.parametrize("case, data, dim, dtype", CUM_CASES, ids=[c[0] for c in CUM_CASES])
def test_cummax_cummin_match_torch(name, case, data, dim, dtype, device, torch):
    x, tx = pair(torch, data, device, dtype)
    got, want = getattr(minitorch, name)(x, dim), getattr(torch, name)(tx, dim)
    same(got.values, want.values)
    same(got.indices, want.indices)
    got_m = getattr(x, name)(dim=dim)
    same(got_m.indices, want.indices)


def test_cummax_named_tuple(device):
    r = minitorch.cummax(mt([1.0, 3, 2], device), 0)
    values, indices = r
    assert isinstance(r, tuple) and r.values is values and r.indices is indices
    assert repr(r).startswith("minitorch.return_types.cummax(\nvalues=tensor(")
    assert type(minitorch.cummin(mt([1.0], device), 0)).__name__ == "cummin"
    assert indices.dtype is minitorch.int64


@pytest.mark.torch
@pytest.mark.parametrize("name", ["cummax", "cummin"])
def test_cummax_cummin_gradient_goes_to_indices(name, device, torch):
    data = np.array([[1.0, 3, 3, 2, 3], [5, 4, 4, 6, 0]])
    g = np.array([[1.0, 10, 100, 1000, 1e4], [-1, 2, -3, 4, -5]])
    for dim in (0, 1):
        x = minitorch.tensor(data, device=device, requires_grad=True)
        tx = torch.tensor(data, requires_grad=True)
        getattr(minitorch, name)(x, dim).values.backward(minitorch.tensor(g, device=device))
        getattr(torch, name)(tx, dim).values.backward(torch.tensor(g))
        np.testing.assert_array_equal(to_np(x.grad), tx.grad.numpy())


def test_cummax_errors(device):
    with pytest.raises(IndexError, match="Expected reduction dim -1 or 0 for scalar but got 1"):
        minitorch.cummax(mt(3.0, device), 1)
    with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range of \[-1, 0\], but got 1\)"):
        minitorch.cummin(mt([1.0, 2], device), 1)


# ---------------------------------------------------------------------------------------------------------------
# logcumsumexp
# ---------------------------------------------------------------------------------------------------------------
LCSE_CASES = [
    ("plain", [1.0, 2, 3], 0),
    ("infinities", [-INF, -INF, 0, INF, INF, 1], 0),
    ("inf_then_neg_inf", [INF, -INF, 3], 0),
    ("nan", [1.0, NAN, 3], 0),
    ("large", [1000.0, 1000, -1000, 500], 0),
    ("tiny", [-1000.0, -1000, -999], 0),
    ("2d_dim0", [[1.0, -2, 0.5], [3, 0, -1], [-4, 2, 2]], 0),
    ("2d_dim1", [[1.0, -2, 0.5], [3, 0, -1], [-4, 2, 2]], -1),
    ("scalar", 2.0, 0),
    ("empty", np.zeros((2, 0)), 1),
]


@pytest.mark.torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case, data, dim", LCSE_CASES, ids=[c[0] for c in LCSE_CASES])
def test_logcumsumexp_matches_torch(case, data, dim, dtype, device, torch):
    x, tx = pair(torch, data, device, dtype)
    same(minitorch.logcumsumexp(x, dim), torch.logcumsumexp(tx, dim), exact=False)
    same(x.logcumsumexp(dim=dim), tx.logcumsumexp(dim=dim), exact=False)


@pytest.mark.torch
def test_logcumsumexp_gradient_with_infinities_and_signs(device, torch):
    for data, g in (([1.0, -INF, 3], [1.0, -2, 3]), ([1.0, 2, 3], [1.0, -2, 0]), ([0.5, 800, -3, 1], [0, 0, 1, 0])):
        x = minitorch.tensor(data, dtype=minitorch.float64, device=device, requires_grad=True)
        tx = torch.tensor(data, dtype=torch.float64, requires_grad=True)
        minitorch.logcumsumexp(x, 0).backward(minitorch.tensor(g, dtype=minitorch.float64, device=device))
        torch.logcumsumexp(tx, 0).backward(torch.tensor(g, dtype=torch.float64))
        np.testing.assert_allclose(to_np(x.grad), tx.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_logcumsumexp_errors(device):
    with pytest.raises(NotImplementedError, match="\"logcumsumexp_out_cpu\" not implemented for 'Long'"):
        minitorch.logcumsumexp(mt([1, 2], device), 0)
    with pytest.raises(IndexError, match="Dimension out of range"):
        minitorch.logcumsumexp(mt([1.0, 2], device), 2)


# ---------------------------------------------------------------------------------------------------------------
# multi-chunk scans: lengths that split into several chunks per row under the simulator's small limits
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.torch
@pytest.mark.parametrize("shape, dim", [((2, 37), 1), ((37, 2), 0), ((1, 3, 29), 2), ((3, 1, 5), 0)])
def test_scans_on_split_rows_match_torch(shape, dim, device, torch):
    rng = np.random.default_rng(7)
    ints = rng.integers(-3, 4, shape)  # many ties
    floats = rng.standard_normal(shape) * 3
    floats.flat[::11] = NAN
    for data in (ints, floats):
        x, tx = pair(torch, data, device)
        for name in ("cummax", "cummin"):
            got, want = getattr(minitorch, name)(x, dim), getattr(torch, name)(tx, dim)
            same(got.values, want.values)
            same(got.indices, want.indices)
    x, tx = pair(torch, rng.standard_normal(shape) * 50, device)
    same(minitorch.logcumsumexp(x, dim), torch.logcumsumexp(tx, dim), exact=False)


# ---------------------------------------------------------------------------------------------------------------
# large inputs: parallel CPU kernels and full-size GPU grids
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.torch
def test_large_inputs_match_torch(device, torch):
    rng = np.random.default_rng(1)
    bnd = np.sort(rng.uniform(-5, 5, 1000))
    vals = rng.standard_normal((300, 400)) * 3
    b, tb = pair(torch, bnd, device)
    v, tv = pair(torch, vals, device)
    for kw in ({}, {"right": True}):
        same(minitorch.searchsorted(b, v, **kw), torch.searchsorted(tb, tv, **kw))
    rows = np.sort(rng.uniform(-5, 5, (300, 50)), axis=1)
    r, tr = pair(torch, rows, device)
    same(minitorch.searchsorted(r, v[:, :200]), torch.searchsorted(tr, tv[:, :200]))

    ints = rng.integers(0, 500, 200000)
    w = rng.standard_normal(200000)
    xi, txi = pair(torch, ints, device)
    same(minitorch.bincount(xi), torch.bincount(txi))
    wi, twi = pair(torch, w, device)
    same(minitorch.bincount(xi, wi), torch.bincount(txi, twi), exact=False)
    same(minitorch.bincount(xi[:1000], minlength=100000), torch.bincount(txi[:1000], minlength=100000))

    f = rng.standard_normal(200000)
    xf, txf = pair(torch, f, device)
    same(minitorch.histc(xf, bins=64), torch.histc(txf, bins=64))
    same(minitorch.histc(xf.float(), bins=1000, min=-2, max=2), torch.histc(txf.float(), bins=1000, min=-2, max=2))
    got, want = minitorch.histogram(xf, 50, weight=wi, density=True), torch.histogram(txf, 50, weight=twi, density=True)
    same(got.hist, want.hist, exact=False)

    m = rng.integers(-50, 50, (300, 400))
    mf = rng.standard_normal((300, 400))
    for data in (m, mf):
        x, tx = pair(torch, data, device)
        for dim in (0, 1):
            for name in ("cummax", "cummin"):
                got, want = getattr(minitorch, name)(x, dim), getattr(torch, name)(tx, dim)
                same(got.values, want.values)
                same(got.indices, want.indices)
    x, tx = pair(torch, mf * 20, device)
    for dim in (0, 1):
        same(minitorch.logcumsumexp(x, dim), torch.logcumsumexp(tx, dim), exact=False)
    long_row = rng.standard_normal((2, 100000))
    x, tx = pair(torch, long_row, device)
    same(minitorch.cummax(x, 1).indices, torch.cummax(tx, 1).indices)
    same(minitorch.logcumsumexp(x, 1), torch.logcumsumexp(tx, 1), exact=False)


@pytest.mark.torch
def test_parallel_kernels_match_torch(device, torch, monkeypatch):
    """The prange kernels start only on inputs of millions of elements; with the thresholds at 0 they run here."""
    for name in ("COUNT_PAR", "HIST_PAR", "SCAN_PAR", "SEARCH_PAR"):
        monkeypatch.setattr(search_ops, name, 0)
    rng = np.random.default_rng(3)
    b, tb = pair(torch, np.sort(rng.uniform(-3, 3, 50)), device)
    v, tv = pair(torch, rng.standard_normal((7, 301)) * 2, device)
    same(minitorch.searchsorted(b, v, right=True), torch.searchsorted(tb, tv, right=True))
    x, tx = pair(torch, rng.integers(0, 9, 3001), device)
    w, tw = pair(torch, rng.standard_normal(3001), device)
    same(minitorch.bincount(x), torch.bincount(tx))
    same(minitorch.bincount(x, w), torch.bincount(tx, tw), exact=False)
    f, tf = pair(torch, rng.standard_normal(3001).astype(np.float32), device)
    same(minitorch.histc(f, bins=9), torch.histc(tf, bins=9))
    got, want = minitorch.histogram(f, 9, weight=f), torch.histogram(tf, 9, weight=tf)
    same(got.hist, want.hist, exact=False)
    e, te = pair(torch, np.array([-2.0, -0.3, 0.0, 0.4, 2.5], dtype=np.float32), device)
    got, want = minitorch.histogram(f, e), torch.histogram(tf, te)
    same(got.hist, want.hist)
    for shape in ((9, 33), (6, 1, 17)):
        m, tm = pair(torch, rng.integers(-4, 4, shape), device)
        mf, tmf = pair(torch, rng.standard_normal(shape), device)
        for dim in range(len(shape)):
            for name in ("cummax", "cummin"):
                for a, ta in ((m, tm), (mf, tmf)):
                    r, tr = getattr(minitorch, name)(a, dim), getattr(torch, name)(ta, dim)
                    same(r.values, tr.values)
                    same(r.indices, tr.indices)
            same(minitorch.logcumsumexp(mf, dim), torch.logcumsumexp(tmf, dim), exact=False)


# ---------------------------------------------------------------------------------------------------------------
# cumsum / cumprod on the CPU carry float32 in float64 (PyTorch's CPU kernels do; its CUDA kernels carry float32)
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("par", [False, True])
@pytest.mark.parametrize("shape, dim", [((5, 3001), 1), ((3001,), 0), ((40, 600), 0), ((3, 7, 5), 1)])
def test_cumsum_cumprod_carry_float64_on_cpu(shape, dim, par, monkeypatch):
    from minitorch.ops import launch
    monkeypatch.setattr(launch, "CUM_PAR", 0 if par else 1 << 40)
    rng = np.random.default_rng(5)
    x = rng.random(shape, dtype=np.float32)
    got = minitorch.cumsum(minitorch.from_numpy(x), dim).numpy()
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, np.cumsum(x.astype(np.float64), dim).astype(np.float32))
    y = (x + 0.5).astype(np.float32)
    got = minitorch.cumprod(minitorch.from_numpy(y), dim).numpy()
    np.testing.assert_array_equal(got, np.cumprod(y.astype(np.float64), dim).astype(np.float32))
    i = rng.integers(-9, 9, shape).astype(np.int32)
    got = minitorch.cumsum(minitorch.from_numpy(i), dim).numpy()
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, np.cumsum(i.astype(np.int64), dim))


@pytest.mark.torch
def test_cumsum_of_a_long_float32_row_equals_torch(torch):
    x = np.random.default_rng(6).random((3, 100000), dtype=np.float32)
    for dim in (0, 1):
        want = torch.cumsum(torch.from_numpy(x), dim).numpy()
        np.testing.assert_array_equal(minitorch.cumsum(minitorch.from_numpy(x), dim).numpy(), want)
