"""Tensor basics: dtypes and type promotion, metadata, creation, conversion, repr, in-place ops, devices, and the
function forms of methods. Expected values come from NumPy or from PyTorch's documented behaviour."""
import math

import numpy as np
import pytest

import minitorch


def to_np(t):
    return t.detach().cpu().numpy()


# ---------------------------------------------------------------------------------------------------------------
# dtypes and type promotion
# ---------------------------------------------------------------------------------------------------------------
def T(data, dtype=None, device="cpu"):
    return minitorch.tensor(data, dtype=dtype, device=device)


PROMOTION = [  # (name, thunk, expected dtype name, expected values)
    ("int_tensor_times_python_float", lambda d: T([1, 2], device=d) * 2.5, "float32", [2.5, 5.0]),
    ("int_plus_int", lambda d: T([1, 2], device=d) + T([3, 4], device=d), "int64", [4, 6]),
    ("int_plus_python_int", lambda d: T([1, 2], device=d) + 3, "int64", [4, 5]),
    ("int32_plus_python_int_stays_int32", lambda d: T([1, 2], minitorch.int32, d) + 5, "int32", [6, 7]),
    ("int32_plus_int64", lambda d: T([1, 2], minitorch.int32, d) + T([1, 1], device=d), "int64", [2, 3]),
    ("uint8_plus_int32", lambda d: T([1, 2], minitorch.uint8, d) + T([1, 1], minitorch.int32, d), "int32", [2, 3]),
    ("bool_plus_bool", lambda d: T([True, False], device=d) + T([True, False], device=d), "bool", [True, False]),
    ("bool_plus_python_int", lambda d: T([True, False], device=d) + 1, "int64", [2, 1]),
    ("bool_times_python_float", lambda d: T([True, False], device=d) * 2.5, "float32", [2.5, 0.0]),
    ("float32_plus_float64_tensor", lambda d: T([1.0], device=d) + T([2.0], minitorch.float64, d), "float64",
     [3.0]),
    ("float32_plus_python_float_stays_float32", lambda d: T([1.0], device=d) + 1e-3, "float32", [1.001]),
    ("float64_plus_python_float", lambda d: T([1.0], minitorch.float64, d) + 0.5, "float64", [1.5]),
    ("zero_dim_float64_plus_float32_vector", lambda d: T(1.0, minitorch.float64, d) + T([1.0, 2.0], device=d),
     "float32", [2.0, 3.0]),
    ("zero_dim_float64_plus_int_vector", lambda d: T([1, 2], device=d) + T(1.5, minitorch.float64, d), "float64",
     [2.5, 3.5]),
    ("zero_dim_int_times_float_vector", lambda d: T([1.0, 2.0], device=d) * T(3, device=d), "float32", [3.0, 6.0]),
    ("zero_dim_int64_times_int32_vector", lambda d: T([1, 2], minitorch.int32, d) * T(3, device=d), "int32",
     [3, 6]),
    ("zero_dim_plus_zero_dim", lambda d: T(1.0, minitorch.float64, d) + T(2.0, device=d), "float64", 3.0),
    ("int_true_division", lambda d: T([1, 3], device=d) / T([2, 2], device=d), "float32", [0.5, 1.5]),
    ("int_true_division_by_python_int", lambda d: T([3], device=d) / 2, "float32", [1.5]),
    ("int_floor_division", lambda d: T([-3, 3], device=d) // T([2, 2], device=d), "int64", [-2, 1]),
    ("compare_float_tensors", lambda d: T([1.0, 2.0], device=d) < T([2.0, 2.0], device=d), "bool", [True, False]),
    ("compare_int_with_python_float", lambda d: T([1, 2], device=d) >= 1.5, "bool", [False, True]),
    ("compare_mixed_dtypes", lambda d: T([1, 2], device=d) == T([1.0, 2.5], minitorch.float64, d), "bool",
     [True, False]),
    ("matmul_mixed_float", lambda d: T([[1.0, 2.0]], device=d) @ T([[1.0], [1.0]], device=d), "float32", [[3.0]]),
    ("where_promotes", lambda d: minitorch.where(T([True, False], device=d), T([1, 2], device=d),
                                                 T([0.5, 0.5], device=d)), "float32", [1.0, 0.5]),
    ("sum_of_int32_is_int64", lambda d: T([1, 2], minitorch.int32, d).sum(), "int64", 3),
    ("sum_of_bool_is_int64", lambda d: T([True, True, False], device=d).sum(), "int64", 2),
    ("mean_of_float32", lambda d: T([1.0, 2.0], device=d).mean(), "float32", 1.5),
]


@pytest.mark.parametrize("name, thunk, dtype, values", PROMOTION, ids=[p[0] for p in PROMOTION])
def test_type_promotion(name, thunk, dtype, values, device):
    r = thunk(device)
    assert r.dtype is getattr(minitorch, dtype), f"{name}: got {r.dtype}"
    np.testing.assert_allclose(to_np(r), np.asarray(values), rtol=1e-6)


def test_promote_types_matches_torch():
    torch = pytest.importorskip("torch")
    names = ["bool", "uint8", "int32", "int64", "float32", "float64"]
    for a in names:
        for b in names:
            want = torch.promote_types(getattr(torch, a), getattr(torch, b))
            got = minitorch.promote_types(getattr(minitorch, a), getattr(minitorch, b))
            assert str(got).split(".")[-1] == str(want).split(".")[-1], (a, b)


def test_default_dtypes_of_creation():
    assert minitorch.tensor([1, 2]).dtype is minitorch.int64
    assert minitorch.tensor([1.0, 2]).dtype is minitorch.float32
    assert minitorch.tensor([True, False]).dtype is minitorch.bool
    assert minitorch.tensor(3).dtype is minitorch.int64
    assert minitorch.tensor(3.0).dtype is minitorch.float32
    assert minitorch.tensor(np.array([1.0, 2.0])).dtype is minitorch.float64
    assert minitorch.tensor(np.array([1, 2], dtype=np.int32)).dtype is minitorch.int32
    assert minitorch.zeros(2).dtype is minitorch.float32
    assert minitorch.full((2,), 7).dtype is minitorch.int64
    assert minitorch.full((2,), 1.5).dtype is minitorch.float32
    assert minitorch.full((2,), True).dtype is minitorch.bool
    assert minitorch.arange(5).dtype is minitorch.int64
    assert minitorch.arange(5.0).dtype is minitorch.float32
    assert minitorch.get_default_dtype() is minitorch.float32


def test_numpy_scalars_in_lists_keep_their_precision():
    assert minitorch.tensor([np.float64(1.0), 2]).dtype is minitorch.float64  # as torch.tensor
    assert minitorch.tensor([np.float32(1.0), 2]).dtype is minitorch.float32


def test_where_with_python_scalar_branches(device):
    c = minitorch.tensor([True, False], device=device)
    r = minitorch.where(c, 1.0, 0.0)
    assert r.dtype is minitorch.float32
    np.testing.assert_array_equal(to_np(r), [1.0, 0.0])
    r = minitorch.where(c, minitorch.tensor([1, 2], device=device), 0.5)
    assert r.dtype is minitorch.float32
    np.testing.assert_array_equal(to_np(r), [1.0, 0.5])
    r = minitorch.where(c, minitorch.tensor([1, 2], device=device), 7)
    assert r.dtype is minitorch.int64
    np.testing.assert_array_equal(to_np(r), [1, 7])


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "bool"])
@pytest.mark.parametrize("rows", [3, 900])  # the serial and the threaded kernel
def test_where_every_layout_of_condition_and_values(rows, dtype):
    # contiguous rows with one side a scalar (masked_fill and its gradient), all three contiguous, and strided
    rng = np.random.default_rng(rows)
    c = rng.random((rows, 37)) < 0.4
    a = rng.standard_normal((rows, 37)) * 4
    b = rng.standard_normal((rows, 37)) * 4
    if dtype.startswith("float"):
        a[0, :5] = [np.nan, np.inf, -np.inf, -0.0, 0.0]
    a, b = a.astype(dtype), b.astype(dtype)
    ct, at, bt = (minitorch.from_numpy(v.copy()) for v in (c, a, b))
    s0 = minitorch.from_numpy(a[:1, :1].copy())
    mask = minitorch.from_numpy(c[:1].copy())  # broadcast over rows, as a causal mask over batch and heads
    cases = [
        (minitorch.where(ct, s0, bt), np.where(c, a[0, 0], b)),
        (minitorch.where(ct, at, s0), np.where(c, a, a[0, 0])),
        (minitorch.where(ct, at, bt), np.where(c, a, b)),
        (minitorch.where(mask, s0, bt), np.where(c[:1], a[0, 0], b)),
        (minitorch.where(ct.t(), at.t(), bt.t()), np.where(c.T, a.T, b.T)),
        (minitorch.where(ct[:, ::2], at[:, ::2], s0), np.where(c[:, ::2], a[:, ::2], a[0, 0])),
    ]
    for got, want in cases:
        assert got.dtype is getattr(minitorch, dtype) and got.shape == want.shape
        np.testing.assert_array_equal(got.numpy(), want)


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


@pytest.mark.parametrize("dim", [0, 1, 2])
@pytest.mark.parametrize("big", [False, True])  # the serial kernel, and the threaded one over row ranges
def test_gather_along_each_dim_with_strided_sources_and_indices(dim, big):
    rng = np.random.default_rng(dim)
    shape = (60, 60, 60) if big else (3, 4, 5)
    x = rng.standard_normal(shape)
    ishape = list(shape)
    ishape[dim] = 16 if big else 7  # (57,600 elements: over the threaded kernel's threshold)
    idx = rng.integers(0, shape[dim], ishape)
    xt = minitorch.from_numpy(x.transpose(2, 1, 0).copy()).permute(2, 1, 0)  # a strided source
    it = minitorch.from_numpy(idx[..., ::-1].copy()).flip(-1)  # a strided index
    got = minitorch.gather(xt, dim, it)
    np.testing.assert_array_equal(got.numpy(), np.take_along_axis(x, idx, axis=dim))
    np.testing.assert_array_equal(minitorch.from_numpy(x).gather(dim, minitorch.from_numpy(idx)).numpy(),
                                  np.take_along_axis(x, idx, axis=dim))


def _ulps(got, want):
    return np.abs(got.view(np.int32).astype(np.int64) - want.view(np.int32).astype(np.int64))


@pytest.mark.parametrize("n", [1001, 300_001])  # the serial and the threaded kernel
def test_float32_exp_within_one_ulp_and_sigmoid_within_three_over_their_whole_range(n):
    """exp (float64 arithmetic) is within 1 ulp of the rounded result, subnormals included; sigmoid (float32
    arithmetic, as PyTorch's, which is within 2.5 ulp) within 3 ulp down to x = -87, and between 0 and the exact
    value below it (results under 1.7e-38, where PyTorch's reach 0 at -88.7)."""
    x = np.linspace(-110.0, 95.0, n, dtype=np.float32)
    x[:12] = [np.nan, np.inf, -np.inf, 0.0, -0.0, 88.72283, 88.7229, -87.33655, -103.9, -104.5, 1e-30, -1e-30]
    xt = minitorch.from_numpy(x)
    xd = x.astype(np.float64)
    with np.errstate(over="ignore"):
        refs = {"exp": np.exp(xd).astype(np.float32), "sigmoid": (1.0 / (1.0 + np.exp(-xd))).astype(np.float32)}
    for name, want in refs.items():
        got = getattr(minitorch, name)(xt).numpy()
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got[~np.isfinite(want)], want[~np.isfinite(want)])  # inf, NaN
        if name == "sigmoid":
            kept, low = (x >= -87.0) & np.isfinite(want), x < -87.0
            assert _ulps(got[kept], want[kept]).max() <= 3, name
            assert low.any() and ((got[low] >= 0) & (got[low] <= want[low])).all()
            continue
        normal = np.isfinite(want) & (np.abs(want) >= np.finfo(np.float32).tiny)
        assert _ulps(got[normal], want[normal]).max() <= 1, name
        tiny = np.isfinite(want) & ~normal  # subnormal results and zeros: within one subnormal step
        np.testing.assert_allclose(got[tiny], want[tiny], rtol=0, atol=2e-45)


@pytest.mark.parametrize("op", ["maximum", "minimum"])
def test_maximum_and_minimum_with_a_scalar_side_keep_nan_and_signed_zeros(op, torch):
    a = np.array([1.5, -2.0, np.nan, 0.0, -0.0, np.inf, -np.inf, 3.0] * 5000, dtype=np.float32)
    for s in (0.0, -0.0, np.nan, 2.0):
        sc = np.array(s, dtype=np.float32)
        for args in ((a, sc), (sc, a)):
            got = getattr(minitorch, op)(*(minitorch.from_numpy(v) for v in args)).numpy()
            want = getattr(torch, op)(*(torch.from_numpy(v) for v in args)).numpy()
            np.testing.assert_array_equal(got, want)
            real = ~np.isnan(want)  # (a NaN's sign bit carries no meaning)
            np.testing.assert_array_equal(np.signbit(got[real]), np.signbit(want[real]))
    x = minitorch.from_numpy(a)
    want = torch.from_numpy(a).clamp(-1.0, 1.0).numpy()
    np.testing.assert_array_equal(x.clamp(-1.0, 1.0).numpy(), want)


@pytest.mark.parametrize("method, dtype", [("float", "float32"), ("double", "float64"), ("long", "int64"),
                                           ("int", "int32"), ("bool", "bool")])
def test_conversion_methods(method, dtype, device):
    a = np.array([-1.7, 0.0, 2.7, 3.0])
    x = minitorch.tensor(a, device=device)
    y = getattr(x, method)()
    assert y.dtype is getattr(minitorch, dtype)
    np.testing.assert_array_equal(to_np(y), a.astype(dtype))  # float -> int truncates toward zero like NumPy


def test_to_dtype_and_type_as(device):
    x = minitorch.tensor([1.5, -2.5], device=device)
    y = x.to(minitorch.int64)
    assert y.dtype is minitorch.int64
    np.testing.assert_array_equal(to_np(y), [1, -2])
    z = y.to(dtype=minitorch.float64)
    assert z.dtype is minitorch.float64
    assert x.type_as(z).dtype is minitorch.float64
    assert z.type_as(x).dtype is minitorch.float32
    assert x.to(minitorch.float32) is x  # no-op conversions return self, as in PyTorch
    assert x.float() is x
    w = x.to(minitorch.float64)
    w.fill_(0.0)  # a real conversion is a copy
    np.testing.assert_array_equal(to_np(x), [1.5, -2.5])


def test_is_floating_point_and_dtype_attributes():
    assert minitorch.float32.is_floating_point and not minitorch.int64.is_floating_point
    assert minitorch.ones(1).is_floating_point()
    assert not minitorch.ones(1, dtype=minitorch.int64).is_floating_point()
    assert minitorch.ones(2, dtype=minitorch.float64).element_size() == 8


# ---------------------------------------------------------------------------------------------------------------
# metadata
# ---------------------------------------------------------------------------------------------------------------
def test_zero_dim_tensor_and_item(device):
    x = minitorch.tensor(3.5, device=device)
    assert x.shape == () and x.dim() == 0 and x.ndim == 0 and x.numel() == 1
    assert x.item() == 3.5 and type(x.item()) is float
    i = minitorch.tensor(7, device=device)
    assert i.item() == 7 and type(i.item()) is int
    b = minitorch.tensor(True, device=device)
    assert b.item() is True
    assert minitorch.tensor([[2.5]], device=device).item() == 2.5
    assert float(x) == 3.5 and int(i) == 7 and bool(b)
    s = minitorch.tensor([1.0, 2.0, 3.0], device=device).sum()
    assert s.shape == () and s.item() == 6.0
    with pytest.raises(TypeError, match="len\\(\\) of a 0-d tensor"):
        len(x)


def test_shape_size_dim_numel(device):
    x = minitorch.zeros(2, 3, 4, device=device)
    assert x.shape == (2, 3, 4) and x.size() == (2, 3, 4)
    assert x.size(1) == 3 and x.size(-1) == 4 and x.shape[0] == 2
    assert x.dim() == 3 and x.ndim == 3 and x.numel() == 24
    assert len(x) == 2
    assert minitorch.zeros((2, 3)).shape == (2, 3)
    assert minitorch.zeros([2, 3]).shape == (2, 3)
    assert minitorch.zeros(0, 3).numel() == 0


def test_size_is_a_tuple_with_torch_like_repr():
    s = minitorch.zeros(2, 3).shape
    assert isinstance(s, tuple)
    assert s == (2, 3) and (2, 3) == s and s != (3, 2)
    assert repr(s) == "minitorch.Size([2, 3])"
    assert str(s) == "minitorch.Size([2, 3])"
    assert repr(minitorch.tensor(1.0).shape) == "minitorch.Size([])"
    assert isinstance(s, minitorch.Size)
    assert s.numel() == 6
    assert s[1:] == (3,)
    assert minitorch.Size([4, 5]) == (4, 5)


# ---------------------------------------------------------------------------------------------------------------
# creation
# ---------------------------------------------------------------------------------------------------------------
def test_tensor_from_nested_lists_scalars_and_numpy(device):
    x = minitorch.tensor([[1, 2, 3], [4, 5, 6]], device=device)
    assert x.shape == (2, 3)
    np.testing.assert_array_equal(to_np(x), [[1, 2, 3], [4, 5, 6]])
    np.testing.assert_array_equal(to_np(minitorch.tensor([[[1.5]], [[2.5]]], device=device)), [[[1.5]], [[2.5]]])
    a = np.arange(6.0).reshape(2, 3)
    t = minitorch.tensor(a, device=device)
    a[0, 0] = 100.0  # tensor() copies
    assert to_np(t)[0, 0] == 0.0
    t2 = minitorch.tensor(a.T, device=device)  # a non-contiguous source
    np.testing.assert_array_equal(to_np(t2), a.T)
    assert minitorch.tensor([], device=device).shape == (0,)
    y = minitorch.tensor([1, 2], dtype=minitorch.float64, device=device)
    assert y.dtype is minitorch.float64
    with pytest.raises((ValueError, TypeError)):
        minitorch.tensor([[1, 2], [3]])  # ragged


def test_tensor_from_tensor_list_of_zero_dim():
    parts = [minitorch.tensor(1.0), minitorch.tensor(2.0)]
    np.testing.assert_array_equal(to_np(minitorch.stack(parts)), [1.0, 2.0])


def test_as_tensor_and_from_numpy_share_memory():
    a = np.arange(4.0)
    t = minitorch.from_numpy(a)
    assert t.dtype is minitorch.float64
    a[1] = 10.0  # zero-copy: the tensor sees numpy's writes
    assert to_np(t)[1] == 10.0
    t[2] = -5.0  # and numpy sees the tensor's
    assert a[2] == -5.0
    b = np.arange(3, dtype=np.int64)
    u = minitorch.as_tensor(b)
    b[0] = 42
    assert u.dtype is minitorch.int64 and u[0].item() == 42
    v = minitorch.as_tensor(b, dtype=minitorch.float32)  # a conversion must copy
    b[0] = 0
    assert v.dtype is minitorch.float32 and v[0].item() == 42.0
    x = minitorch.ones(2)
    assert minitorch.as_tensor(x) is x
    np.testing.assert_array_equal(to_np(minitorch.as_tensor([1, 2])), [1, 2])


@pytest.mark.parametrize("dt", [np.float32, np.float64, np.int64, np.int32, np.int16, np.uint8])
def test_arithmetic_on_borrowed_unaligned_read_only_and_strided_numpy_memory(dt):
    # same-shape contiguous operands (and unary ops) take a kernel entry point compiled for aligned, writable
    # storages: borrowed memory that is neither must still give numpy's results (strided arrays: the general path)
    item = np.dtype(dt).itemsize
    unaligned = np.frombuffer(bytearray(item * 24 + 1), dtype=dt, offset=1, count=24)
    unaligned[:] = np.arange(1, 25)
    assert unaligned.flags.aligned == (item == 1)
    read_only = np.arange(24, 48).astype(dt)
    read_only.setflags(write=False)
    strided = np.arange(48).astype(dt)[::2]
    with pytest.warns(UserWarning, match="not writable"):
        r = minitorch.from_numpy(read_only)
    u, s = minitorch.from_numpy(unaligned), minitorch.from_numpy(strided)
    for x, y, nx, ny in [(u, r, unaligned, read_only), (r, u, read_only, unaligned), (s, u, strided, unaligned)]:
        np.testing.assert_array_equal(to_np(x + y), nx + ny)
        np.testing.assert_array_equal(to_np(x * y), nx * ny)
        np.testing.assert_array_equal(to_np(x - y), nx - ny)
        np.testing.assert_array_equal(to_np(-x), -nx)  # a unary kernel's entry point too
        np.testing.assert_array_equal(to_np(x.abs()), np.abs(nx))
    np.testing.assert_array_equal(to_np(u.reshape(4, 6) + r.reshape(4, 6)), (unaligned + read_only).reshape(4, 6))


@pytest.mark.parametrize("dt", [np.float32, np.float64, np.uint8, np.int8, np.int16, np.int32, np.int64])
def test_unary_ops_keep_or_promote_dtype_on_every_layout(dt):
    # contiguous tensors outside autograd take launch.unary_same (result in the input's dtype), other layouts and
    # integer math that promotes take the general path: both must give numpy's values and PyTorch's dtypes
    base = np.array([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]).astype(dt)
    if np.issubdtype(dt, np.signedinteger) or np.issubdtype(dt, np.floating):
        base = base - np.array(5, dtype=dt)
    keep = {"neg": np.negative, "abs": np.abs, "square": np.square, "sign": np.sign,
            "relu": lambda a: np.maximum(a, np.zeros((), a.dtype))}
    floats = {"exp": np.exp, "sqrt": lambda a: np.sqrt(np.abs(a)), "tanh": np.tanh, "sin": np.sin}
    x = minitorch.from_numpy(base.copy())
    for layout, t, a in [("contiguous", x, base), ("transposed", x.t(), base.T), ("scalar", x[1, 2], base[1, 2])]:
        for name, ref in {**keep, **floats}.items():
            arg = t.abs() if name == "sqrt" else t
            r = getattr(arg, name)()
            want = ref(a) if name in keep else ref(a.astype(np.float64 if dt == np.float64 else np.float32))
            want_dt = dt if name in keep or dt in (np.float32, np.float64) else np.float32
            assert r.numpy().dtype == want_dt, (name, layout)
            assert tuple(r.shape) == np.shape(a), (name, layout)
            np.testing.assert_allclose(r.numpy().astype(np.float64), np.asarray(want, np.float64), rtol=1e-6,
                                       err_msg=f"{name} {layout}")
    out = minitorch.empty(0, dtype=x.dtype)
    assert minitorch.neg(x, out=out) is out
    np.testing.assert_array_equal(out.numpy(), np.negative(base))
    assert np.all(x.numpy() == base)  # the input is untouched


def test_from_numpy_rejects_unsupported_dtype():
    with pytest.raises(TypeError, match="can't convert np.ndarray of type numpy.complex128"):
        minitorch.from_numpy(np.zeros(2, dtype=np.complex128))


def test_numpy_shares_memory(device):
    if device != "cpu":
        pytest.skip("numpy() views host memory only")
    t = minitorch.zeros(3)
    a = t.numpy()
    a[0] = 7.0
    assert t[0].item() == 7.0
    t.add_(1.0)
    np.testing.assert_array_equal(a, [8.0, 1.0, 1.0])


def test_tolist_len_and_array_protocol(device):
    x = minitorch.tensor([[1.5, 2.0], [3.0, 4.0]], device=device)
    lst = x.tolist()
    assert lst == [[1.5, 2.0], [3.0, 4.0]] and type(lst[0][0]) is float
    assert minitorch.tensor([1, 2], device=device).tolist() == [1, 2]
    assert type(minitorch.tensor([1, 2], device=device).tolist()[0]) is int
    assert minitorch.tensor(2.5, device=device).tolist() == 2.5
    assert len(x) == 2
    arr = np.asarray(x)
    assert arr.dtype == np.float32
    np.testing.assert_array_equal(arr, [[1.5, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(np.asarray(x.t()), [[1.5, 3.0], [2.0, 4.0]])
    assert np.asarray(x, dtype=np.float64).dtype == np.float64
    rows = [r.tolist() for r in x]  # iteration yields rows
    assert rows == [[1.5, 2.0], [3.0, 4.0]]


def test_data_aliases_storage_without_grad(device):
    w = minitorch.ones(3, requires_grad=True, device=device)
    d = w.data
    assert not d.requires_grad and d.is_leaf
    d.mul_(2.0)  # writes through .data are visible in w and are not recorded
    np.testing.assert_array_equal(to_np(w), [2.0, 2.0, 2.0])
    w.data = minitorch.zeros(3, device=device)
    np.testing.assert_array_equal(to_np(w), [0.0, 0.0, 0.0])
    assert w.requires_grad


def test_zeros_ones_full_empty(device):
    np.testing.assert_array_equal(to_np(minitorch.zeros(2, 3, device=device)), np.zeros((2, 3)))
    np.testing.assert_array_equal(to_np(minitorch.ones((2,), dtype=minitorch.int64, device=device)), [1, 1])
    f = minitorch.full((2, 2), 3.25, device=device)
    np.testing.assert_array_equal(to_np(f), np.full((2, 2), 3.25))
    e = minitorch.empty(3, 4, device=device)
    assert e.shape == (3, 4) and e.dtype is minitorch.float32
    assert minitorch.empty((2,), dtype=minitorch.float64).dtype is minitorch.float64
    z = minitorch.zeros(2, requires_grad=True)
    assert z.requires_grad and z.is_leaf


def test_arange_linspace_eye(device):
    np.testing.assert_array_equal(to_np(minitorch.arange(5, device=device)), np.arange(5))
    np.testing.assert_array_equal(to_np(minitorch.arange(2, 9, 3)), [2, 5, 8])
    np.testing.assert_allclose(to_np(minitorch.arange(0, 1, 0.25)), [0.0, 0.25, 0.5, 0.75])
    np.testing.assert_array_equal(to_np(minitorch.arange(5, 0, -2)), [5, 3, 1])
    np.testing.assert_array_equal(to_np(minitorch.arange(3, dtype=minitorch.float64)), [0.0, 1.0, 2.0])
    lin = minitorch.linspace(0, 1, 5, device=device)
    assert lin.dtype is minitorch.float32
    np.testing.assert_allclose(to_np(lin), np.linspace(0, 1, 5), rtol=1e-6)
    np.testing.assert_allclose(to_np(minitorch.linspace(-1, 1, steps=3)), [-1.0, 0.0, 1.0])
    np.testing.assert_array_equal(to_np(minitorch.linspace(0, 10, steps=1)), [0.0])  # the start, as numpy
    np.testing.assert_array_equal(to_np(minitorch.eye(3, device=device)), np.eye(3))
    np.testing.assert_array_equal(to_np(minitorch.eye(2, 3)), np.eye(2, 3))


def test_rand_randn_randint_randperm(device):
    minitorch.manual_seed(0)
    r = minitorch.rand(2000, device=device)
    assert r.dtype is minitorch.float32 and r.shape == (2000,)
    a = to_np(r)
    assert a.min() >= 0.0 and a.max() < 1.0 and abs(a.mean() - 0.5) < 0.05
    n = to_np(minitorch.randn(4000, dtype=minitorch.float64))
    assert abs(n.mean()) < 0.1 and abs(n.std() - 1.0) < 0.1
    assert minitorch.randn(2, 3).shape == (2, 3)
    i = minitorch.randint(3, 7, (500,), device=device)
    assert i.dtype is minitorch.int64
    assert set(np.unique(to_np(i))) == {3, 4, 5, 6}
    assert minitorch.randint(5, (2, 2)).shape == (2, 2)
    p = minitorch.randperm(10)
    assert p.dtype is minitorch.int64
    assert sorted(to_np(p).tolist()) == list(range(10))


def test_in_place_random_fills(device):
    """random_, exponential_, uniform_ and bernoulli_ on any device: ranges, moments and torch's errors."""
    minitorch.manual_seed(1)
    x = minitorch.empty(40, 50, device=device).t()  # non-contiguous targets keep their layout
    assert x.random_(2, 6) is x and set(np.unique(to_np(x))) == {2.0, 3.0, 4.0, 5.0}
    assert set(np.unique(to_np(minitorch.empty(300, dtype=minitorch.int64, device=device).random_(3)))) == {0, 1, 2}
    assert set(np.unique(to_np(minitorch.empty(200, dtype=minitorch.bool, device=device).random_()))) == {False, True}
    e = to_np(minitorch.empty(4000, dtype=minitorch.float64, device=device).exponential_(4.0))
    assert e.min() >= 0 and abs(e.mean() - 0.25) < 0.02 and abs(np.median(e) - np.log(2) / 4) < 0.02
    u = to_np(x.uniform_(-2.0, 3.0))
    assert u.min() >= -2.0 and u.max() < 3.0 and abs(u.mean() - 0.5) < 0.15
    minitorch.manual_seed(9)
    a = minitorch.empty(100, device=device).exponential_()
    minitorch.manual_seed(9)
    assert minitorch.equal(a, minitorch.empty(100, device=device).exponential_())
    with pytest.raises(RuntimeError, match="but got from=5 >= to=5"):
        minitorch.empty(3, device=device).random_(5, 5)
    with pytest.raises(RuntimeError, match="but found lambda=0$"):
        minitorch.empty(3, device=device).exponential_(0.0)
    with pytest.raises(RuntimeError, match="but got from=4 >= to=2"):
        minitorch.randint(4, 2, (3,), device=device)


def test_like_constructors(device):
    x = minitorch.tensor([[1.0, 2.0]], dtype=minitorch.float64, device=device)
    for fn, val in ((minitorch.zeros_like, 0.0), (minitorch.ones_like, 1.0)):
        y = fn(x)
        assert y.shape == x.shape and y.dtype is x.dtype and y.device == x.device
        np.testing.assert_array_equal(to_np(y), np.full((1, 2), val))
    f = minitorch.full_like(x, 4.5)
    np.testing.assert_array_equal(to_np(f), [[4.5, 4.5]])
    assert minitorch.empty_like(x).shape == (1, 2)
    assert minitorch.rand_like(x).dtype is minitorch.float64
    assert minitorch.randn_like(x).shape == (1, 2)
    assert minitorch.zeros_like(x, dtype=minitorch.int64).dtype is minitorch.int64
    i = minitorch.tensor([1, 2])
    assert minitorch.ones_like(i).dtype is minitorch.int64


def test_manual_seed_determinism():
    minitorch.manual_seed(123)
    a, b = to_np(minitorch.rand(5)), to_np(minitorch.randn(5))
    minitorch.manual_seed(123)
    np.testing.assert_array_equal(to_np(minitorch.rand(5)), a)
    np.testing.assert_array_equal(to_np(minitorch.randn(5)), b)
    minitorch.manual_seed(124)
    assert not np.array_equal(to_np(minitorch.rand(5)), a)
    assert not np.array_equal(to_np(minitorch.rand(5)), to_np(minitorch.rand(5)))


def test_generator_is_independent_of_global_state():
    g = minitorch.Generator()
    assert g.manual_seed(7) is g
    a = to_np(minitorch.rand(4, generator=g))
    g.manual_seed(7)
    minitorch.manual_seed(0)
    minitorch.rand(10)  # global draws do not disturb g
    np.testing.assert_array_equal(to_np(minitorch.rand(4, generator=g)), a)
    g2 = minitorch.Generator().manual_seed(7)
    np.testing.assert_array_equal(to_np(minitorch.rand(4, generator=g2)), a)
    p = minitorch.randperm(6, generator=minitorch.Generator().manual_seed(1))
    q = minitorch.randperm(6, generator=minitorch.Generator().manual_seed(1))
    np.testing.assert_array_equal(to_np(p), to_np(q))


# ---------------------------------------------------------------------------------------------------------------
# repr
# ---------------------------------------------------------------------------------------------------------------
REPRS = [  # (build with module m, PyTorch's repr with "torch" -> "minitorch")
    (lambda m: m.tensor([1.0, 2.5]), "tensor([1.0000, 2.5000])"),
    (lambda m: m.tensor([1.0, 2.0]), "tensor([1., 2.])"),
    (lambda m: m.tensor([-1.0, 2.0]), "tensor([-1.,  2.])"),
    (lambda m: m.tensor([1, 2]), "tensor([1, 2])"),
    (lambda m: m.tensor([1, -20]), "tensor([  1, -20])"),
    (lambda m: m.tensor([True, False]), "tensor([ True, False])"),
    (lambda m: m.tensor([[1.0, 2.0], [3.0, 4.0]]), "tensor([[1., 2.],\n        [3., 4.]])"),
    (lambda m: m.tensor([[1, 2], [3, 4]]), "tensor([[1, 2],\n        [3, 4]])"),
    (lambda m: m.tensor(2.0), "tensor(2.)"),
    (lambda m: m.tensor(3.5), "tensor(3.5000)"),
    (lambda m: m.tensor(True), "tensor(True)"),
    (lambda m: m.tensor([1, 2], dtype=m.int32), "tensor([1, 2], dtype=minitorch.int32)"),
    (lambda m: m.tensor([1.0, 2.0], dtype=m.float64), "tensor([1., 2.], dtype=minitorch.float64)"),
    (lambda m: m.tensor([1.0, 2.0], requires_grad=True), "tensor([1., 2.], requires_grad=True)"),
    (lambda m: m.tensor([1.5], dtype=m.float64, requires_grad=True),
     "tensor([1.5000], dtype=minitorch.float64, requires_grad=True)"),
    (lambda m: m.tensor([0.1, 100.0]), "tensor([  0.1000, 100.0000])"),
]


@pytest.mark.parametrize("build, want", REPRS, ids=[w for _, w in REPRS])
def test_repr_like_pytorch(build, want):
    assert repr(build(minitorch)) == want


EXTRA_REPRS = [
    ("small_and_large", lambda m: m.tensor([1e-5, 1.0])),
    ("float64_2d", lambda m: m.tensor([[0.5, -1.25, 3.0]], dtype=m.float64)),
    ("empty", lambda m: m.tensor([])),
    ("int_zeros_2d", lambda m: m.zeros(2, 3, dtype=m.int64)),
]


@pytest.mark.torch
@pytest.mark.parametrize("build", [b for _, b in EXTRA_REPRS] + [b for b, _ in REPRS],
                         ids=[n for n, _ in EXTRA_REPRS] + [w for _, w in REPRS])
def test_repr_matches_torch(build):
    torch = pytest.importorskip("torch")
    assert repr(build(minitorch)) == repr(build(torch)).replace("torch", "minitorch")


def test_repr_of_non_leaf_names_grad_fn():
    y = minitorch.tensor([1.0, 2.0], requires_grad=True) * 2
    assert repr(y).startswith("tensor([2., 4.], grad_fn=<") and repr(y).endswith(">)")


# ---------------------------------------------------------------------------------------------------------------
# in-place ops and the version counter
# ---------------------------------------------------------------------------------------------------------------
INPLACE = [  # (name, apply, numpy equivalent)
    ("add_", lambda t: t.add_(2.0), lambda a: a + 2.0),
    ("add_tensor_alpha", lambda t: t.add_(minitorch.tensor([1.0, 2.0, 3.0], device=t.device), alpha=-2),
     lambda a: a - 2 * np.array([1.0, 2.0, 3.0])),
    ("sub_", lambda t: t.sub_(0.5), lambda a: a - 0.5),
    ("mul_", lambda t: t.mul_(minitorch.tensor([[2.0], [3.0]], device=t.device)), lambda a: a * [[2.0], [3.0]]),
    ("div_", lambda t: t.div_(4.0), lambda a: a / 4.0),
    ("zero_", lambda t: t.zero_(), lambda a: np.zeros_like(a)),
    ("fill_", lambda t: t.fill_(-1.5), lambda a: np.full_like(a, -1.5)),
    ("copy_broadcast", lambda t: t.copy_(minitorch.tensor([7.0, 8.0, 9.0], device=t.device)),
     lambda a: np.broadcast_to([7.0, 8.0, 9.0], a.shape)),
    ("copy_converts_dtype", lambda t: t.copy_(minitorch.tensor([[1, 2, 3], [4, 5, 6]], device=t.device)),
     lambda a: np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])),
    ("clamp_", lambda t: t.clamp_(-1.0, 2.0), lambda a: np.clip(a, -1.0, 2.0)),
    ("clamp_min_", lambda t: t.clamp_(min=0.0), lambda a: np.maximum(a, 0.0)),
    ("iadd_operator", lambda t: t.__iadd__(1.0), lambda a: a + 1.0),
    ("imul_operator", lambda t: t.__imul__(3.0), lambda a: a * 3.0),
]


@pytest.mark.parametrize("name, apply, ref", INPLACE, ids=[i[0] for i in INPLACE])
def test_inplace_ops(name, apply, ref, device):
    a = np.array([[-2.0, 0.5, 3.0], [1.0, -0.25, 4.0]], dtype=np.float32)
    t = minitorch.tensor(a, device=device)
    view = t[1]
    v0 = t._version
    r = apply(t)
    assert r is t  # in-place ops return self
    np.testing.assert_allclose(to_np(t), ref(a.astype(np.float64)), rtol=1e-6)
    assert t._version > v0
    assert view._version == t._version  # views share the counter
    assert t.dtype is minitorch.float32


def test_inplace_through_view_and_non_contiguous(device):
    a = np.arange(6.0).reshape(2, 3)
    t = minitorch.tensor(a, device=device)
    t.t().mul_(10.0)  # a transposed (non-contiguous) in-place write
    t[:, 1].add_(1.0)
    np.testing.assert_array_equal(to_np(t), a * 10 + [[0, 1, 0]])


def test_version_counter_counts_each_write(device):
    t = minitorch.zeros(3, device=device)
    assert t._version == 0
    t.add_(1)
    t.mul_(2)
    t[0] = 5.0
    assert t._version == 3
    t.add(1)  # out-of-place ops do not bump it
    assert t._version == 3


def test_inplace_result_type_cannot_be_narrowed(device):
    t = minitorch.tensor([1, 2], device=device)
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output type Long"):
        t.add_(1.5)


# ---------------------------------------------------------------------------------------------------------------
# devices
# ---------------------------------------------------------------------------------------------------------------
def test_device_objects():
    d = minitorch.device("cpu")
    assert d.type == "cpu" and d.index is None
    assert str(d) == "cpu" and repr(d) == "device(type='cpu')"
    assert d == minitorch.device("cpu")
    assert minitorch.device("cuda:1").index == 1 and minitorch.device("cuda", 0).type == "cuda"
    assert minitorch.device("cuda:1") != minitorch.device("cuda:0")
    with pytest.raises(RuntimeError, match="Expected one of cpu, cuda"):
        minitorch.device("tpu")


def test_tensor_device_to_and_cpu(device):
    x = minitorch.ones(2, device=device)
    assert x.device.type == device
    assert isinstance(x.device, minitorch.device)
    c = x.cpu()
    assert c.device == minitorch.device("cpu")
    assert x.to(device=x.device) is x
    y = x.to("cpu", minitorch.float64)
    assert y.device.type == "cpu" and y.dtype is minitorch.float64
    z = minitorch.ones(2).to(minitorch.device(device))
    assert z.device.type == device
    np.testing.assert_array_equal(to_np(z), [1.0, 1.0])
    if device == "cpu":
        assert x.cpu() is x and x.is_cpu and not x.is_cuda


def test_cuda_is_available_is_a_bool():
    assert isinstance(minitorch.cuda.is_available(), bool)
    assert isinstance(minitorch.cuda.device_count(), int)


def test_backend_switches_and_accelerator_queries_port_from_torch():
    import minitorch.backends.cudnn as cudnn
    cudnn.benchmark = True
    assert minitorch.backends.cudnn.benchmark and not cudnn.is_available()
    cudnn.benchmark = False
    assert not minitorch.backends.mps.is_available()
    minitorch.backends.cuda.matmul.allow_tf32 = False
    use_accel = minitorch.accelerator.is_available()
    assert use_accel == minitorch.cuda.is_available()
    device = minitorch.accelerator.current_accelerator() if use_accel else minitorch.device("cpu")
    assert device.type == ("cuda" if use_accel else "cpu")
    x = minitorch.arange(4.0)
    p = x.pin_memory()
    assert p is not x and minitorch.equal(p, x) and not p.is_pinned()
    if not minitorch.cuda.is_available():
        assert minitorch.cuda.max_memory_allocated() == 0 and minitorch.accelerator.current_accelerator() is None
        with pytest.raises(AssertionError, match="not compiled with CUDA"):
            minitorch.cuda.get_device_properties(0)


# ---------------------------------------------------------------------------------------------------------------
# every method is also a function
# ---------------------------------------------------------------------------------------------------------------
A = np.array([[0.5, -1.5, 2.0], [3.0, 0.25, -0.75]])
FUNCTIONS = [  # (function call, numpy result)
    ("exp", lambda x: minitorch.exp(x), np.exp(A)),
    ("log", lambda x: minitorch.log(x.abs()), np.log(np.abs(A))),
    ("abs", lambda x: minitorch.abs(x), np.abs(A)),
    ("tanh", lambda x: minitorch.tanh(x), np.tanh(A)),
    ("sqrt", lambda x: minitorch.sqrt(x.abs()), np.sqrt(np.abs(A))),
    ("flatten", lambda x: minitorch.flatten(x, 1), A.reshape(2, 3)),
    ("flatten_all", lambda x: minitorch.flatten(x), A.reshape(-1)),
    ("max_dim_values", lambda x: minitorch.max(x, 1)[0], A.max(1)),
    ("max_dim_indices", lambda x: minitorch.max(x, 1).indices, A.argmax(1)),
    ("max", lambda x: minitorch.max(x), A.max()),
    ("sum", lambda x: minitorch.sum(x, 0), A.sum(0)),
    ("mean", lambda x: minitorch.mean(x, dim=1, keepdim=True), A.mean(1, keepdims=True)),
    ("transpose", lambda x: minitorch.transpose(x, 0, 1), A.T),
    ("t", lambda x: minitorch.t(x), A.T),
    ("reshape", lambda x: minitorch.reshape(x, (3, 2)), A.reshape(3, 2)),
    ("squeeze", lambda x: minitorch.squeeze(x[:1]), A[0]),
    ("unsqueeze", lambda x: minitorch.unsqueeze(x, 1), A[:, None]),
    ("matmul", lambda x: minitorch.matmul(x, x.t()), A @ A.T),
    ("clamp", lambda x: minitorch.clamp(x, min=0.0), np.maximum(A, 0.0)),
    ("argmax", lambda x: minitorch.argmax(x), A.argmax()),
    ("softmax_free_exp_sum", lambda x: minitorch.exp(x).sum(), np.exp(A).sum()),
]


@pytest.mark.parametrize("name, call, want", FUNCTIONS, ids=[f[0] for f in FUNCTIONS])
def test_functions_mirror_methods(name, call, want, device):
    x = minitorch.tensor(A, device=device)
    np.testing.assert_allclose(to_np(call(x)), want, rtol=1e-12)


def test_equal_allclose_is_tensor(device):
    a = minitorch.tensor([1.0, 2.0], device=device)
    assert minitorch.equal(a, minitorch.tensor([1.0, 2.0], device=device)) is True
    assert minitorch.equal(a, minitorch.tensor([1.0, 2.5], device=device)) is False
    assert minitorch.equal(a, minitorch.tensor([1.0, 2.0, 3.0], device=device)) is False
    assert minitorch.allclose(a, a + 1e-9) is True
    assert minitorch.allclose(a, a + 1e-3) is False
    assert minitorch.allclose(a, a + 1e-3, atol=1e-2) is True
    assert a.allclose(a) and a.equal(a)
    assert minitorch.is_tensor(a) and not minitorch.is_tensor([1.0]) and not minitorch.is_tensor(np.ones(1))
    assert isinstance(a, minitorch.Tensor)


def test_legacy_tensor_constructor():
    x = minitorch.Tensor([1, 2])
    assert x.dtype is minitorch.float32
    np.testing.assert_array_equal(to_np(x), [1.0, 2.0])
    assert minitorch.Tensor(2, 3).shape == (2, 3)


def test_numpy_scalars_and_arrays_defer_to_tensor():
    x = minitorch.tensor([1.0, 2.0])
    r = np.float64(2.0) * x
    assert isinstance(r, minitorch.Tensor) and r.dtype is minitorch.float32
    np.testing.assert_array_equal(to_np(r), [2.0, 4.0])
    assert math.isclose((x + np.float32(0.5))[1].item(), 2.5)


# ---------------------------------------------------------------------------------------------------------------
# empty tensors (a dim of size 0)
# ---------------------------------------------------------------------------------------------------------------
EMPTY = [  # (name, build with minitorch on a device, numpy result)
    ("broadcast_add", lambda d: minitorch.zeros(0, 3, device=d) + minitorch.ones(3, device=d), np.zeros((0, 3))),
    ("exp", lambda d: minitorch.zeros(2, 0, device=d).exp(), np.zeros((2, 0))),
    ("sum_all", lambda d: minitorch.zeros(0, device=d).sum(), np.float32(0.0)),
    ("sum_over_empty_dim", lambda d: minitorch.zeros(2, 0, device=d).sum(1), np.zeros(2)),
    ("sum_keeping_empty_dim", lambda d: minitorch.zeros(0, 3, device=d).sum(1), np.zeros(0)),
    ("prod_all", lambda d: minitorch.zeros(0, device=d).prod(), np.float32(1.0)),
    ("mean_is_nan", lambda d: minitorch.zeros(0, device=d).mean(), np.float32(np.nan)),
    ("amax_over_non_empty_dim", lambda d: minitorch.zeros(0, 3, device=d).amax(1), np.zeros(0)),
    ("matmul_k0", lambda d: minitorch.ones(2, 0, device=d) @ minitorch.ones(0, 3, device=d), np.zeros((2, 3))),
    ("matmul_m0", lambda d: minitorch.ones(0, 4, device=d) @ minitorch.ones(4, 3, device=d), np.zeros((0, 3))),
    ("cat_with_empty", lambda d: minitorch.cat([minitorch.zeros(0, 3, device=d), minitorch.ones(2, 3, device=d)]),
     np.ones((2, 3))),
    ("mask_selects_nothing", lambda d: minitorch.arange(4.0, device=d)[minitorch.arange(4.0, device=d) > 9],
     np.zeros(0)),
    ("slice_past_end", lambda d: minitorch.ones(3, device=d)[3:], np.zeros(0)),
    ("view_flat", lambda d: minitorch.zeros(0, 3, device=d).view(-1), np.zeros(0)),
    ("reshape", lambda d: minitorch.zeros(0, 3, device=d).reshape(3, 0, 5), np.zeros((3, 0, 5))),
    ("arange_empty", lambda d: minitorch.arange(0, device=d), np.zeros(0, dtype=np.int64)),
    ("cumsum", lambda d: minitorch.zeros(0, 2, device=d).cumsum(0), np.zeros((0, 2))),
    ("int_index_empty", lambda d: minitorch.ones(3, 2, device=d)[minitorch.tensor([], dtype=minitorch.int64,
                                                                                   device=d)], np.zeros((0, 2))),
]


@pytest.mark.parametrize("name, build, want", EMPTY, ids=[e[0] for e in EMPTY])
def test_empty_tensors(name, build, want, device):
    r = build(device)
    assert tuple(r.shape) == np.shape(want)
    np.testing.assert_array_equal(to_np(r), want)


def test_backward_through_empty_tensor(device):
    x = minitorch.zeros(0, 3, device=device, requires_grad=True)
    y = minitorch.ones(3, device=device, requires_grad=True)
    ((x * 2 + y).sum() + y.sum()).backward()
    assert x.grad.shape == (0, 3)
    np.testing.assert_array_equal(to_np(y.grad), [1.0, 1.0, 1.0])


# ---------------------------------------------------------------------------------------------------------------
# setitem converts the value to the tensor's dtype
# ---------------------------------------------------------------------------------------------------------------
def test_setitem_value_takes_target_dtype(device):
    i = minitorch.zeros(3, dtype=minitorch.int64, device=device)
    i[0] = 2.7  # truncates toward zero like PyTorch
    i[1:] = minitorch.tensor([-1.5, 3.9], device=device)
    assert i.dtype is minitorch.int64
    np.testing.assert_array_equal(to_np(i), [2, -1, 3])
    f = minitorch.zeros(2, device=device)
    f[:] = minitorch.tensor([1, 2], device=device)
    assert f.dtype is minitorch.float32
    np.testing.assert_array_equal(to_np(f), [1.0, 2.0])
    b = minitorch.zeros(2, dtype=minitorch.bool, device=device)
    b[0] = 5
    np.testing.assert_array_equal(to_np(b), [True, False])


# ---------------------------------------------------------------------------------------------------------------
# in-place writes whose source overlaps the destination
# ---------------------------------------------------------------------------------------------------------------
def test_inplace_with_partially_overlapping_input_is_not_silently_wrong(device):
    a = minitorch.arange(5.0, device=device)
    try:
        a[1:] += a[:-1]
    except RuntimeError as e:  # PyTorch refuses
        assert "single memory location" in str(e)
        return
    # otherwise the result must be the buffered one (NumPy's), not a running sum
    np.testing.assert_array_equal(to_np(a), [0.0, 1.0, 3.0, 5.0, 7.0])


def test_error_inplace_on_expanded_tensor():
    b = minitorch.ones(1, 3)
    with pytest.raises(RuntimeError, match="more than one element of the written-to tensor refers to a single memory"):
        b.expand(2, 3).add_(1)


def test_copy_from_own_transpose_and_overlapping_setitem(device):
    x = minitorch.arange(4.0, device=device).reshape(2, 2)
    x.copy_(x.t())
    np.testing.assert_array_equal(to_np(x), [[0.0, 2.0], [1.0, 3.0]])
    z = minitorch.arange(6.0, device=device).reshape(2, 3)
    z[:, 1:] = z[:, :2].clone()
    np.testing.assert_array_equal(to_np(z), [[0.0, 0.0, 1.0], [3.0, 3.0, 4.0]])


def test_std_and_var_of_a_single_element_are_nan(device):
    x = minitorch.tensor([1.5], device=device)
    assert math.isnan(x.std().item()) and math.isnan(x.var().item())
    assert x.var(unbiased=False).item() == 0.0


@pytest.mark.parametrize("shape, dim", [((300, 257), 0), ((7, 300, 40), 1), ((5, 9), 0), ((4, 6, 3), 1)])
@pytest.mark.parametrize("dtype", ["float32", "int64"])
def test_arg_reductions_over_leading_dims_fold_rows(shape, dim, dtype):
    """argmax/argmin/max/min over a dim whose kept elements are contiguous fold whole rows (serial below and in
    column blocks above the parallel threshold): first occurrence wins among ties, and the first NaN wins."""
    rng = np.random.default_rng(3)
    a = rng.integers(-3, 4, size=shape).astype(dtype)
    if dtype == "float32":
        flat = a.reshape(-1)
        flat[rng.choice(flat.size, size=max(1, flat.size // 50), replace=False)] = np.nan
        a.reshape(-1, shape[-1])[0, 1] = np.nan  # a NaN in the first row of some column
    x = minitorch.tensor(a)
    for name, ref_i, ref_v in (("max", np.argmax, np.max), ("min", np.argmin, np.min)):
        v, i = getattr(x, name)(dim)
        np.testing.assert_array_equal(to_np(i), ref_i(a, axis=dim))
        np.testing.assert_array_equal(to_np(v), ref_v(a, axis=dim))
        np.testing.assert_array_equal(to_np(getattr(x, "arg" + name)(dim)), ref_i(a, axis=dim))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("rows, cols", [(6, 9), (300, 257)])
def test_extremes_along_the_last_dim_keep_nan_inf_and_zero_rules(dtype, rows, cols):
    """amax/amin/max/min/argmax/argmin over contiguous runs (the fast vmaxps pass with a separate NaN check, and the
    exact pass it falls back to) against PyTorch: a NaN anywhere in a row (first, last, middle) wins, +inf with -inf
    in one row (whose check sum is NaN though no element is), rows of zeros of both signs
    (the first zero met is kept), all -inf, ties (the first index), serial and threaded sizes."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(11)
    a = rng.integers(-4, 5, size=(rows, cols)).astype(dtype)
    a[1, 0] = np.nan
    a[2, cols - 1] = -np.nan
    a[3, cols // 2] = np.inf
    a[3, 1] = -np.inf
    a[4, :] = 0.0
    a[4, 2] = -0.0
    a[4, 0] = -0.0
    a[5, :] = -np.inf
    if rows > 6:
        a[rng.choice(rows, 20, replace=False), rng.choice(cols, 20)] = np.nan
    x, t = minitorch.tensor(a), torch.tensor(a)
    for name in ("amax", "amin"):
        got, want = to_np(getattr(x, name)(1)), getattr(t, name)(1).numpy()
        np.testing.assert_array_equal(got, want)
        if rows == 6:  # which zero amax keeps: PyTorch's serial rule (the first met); its vector path differs
            num = ~np.isnan(want)  # a NaN's sign bit is not compared
            np.testing.assert_array_equal(np.signbit(got[num]), np.signbit(want[num]))
    for name in ("max", "min"):
        v, i = getattr(x, name)(1)
        tv, ti = getattr(t, name)(1)
        np.testing.assert_array_equal(to_np(v), tv.numpy())
        num = ~np.isnan(tv.numpy())
        np.testing.assert_array_equal(np.signbit(to_np(v)[num]), np.signbit(tv.numpy()[num]))
        np.testing.assert_array_equal(to_np(i), ti.numpy())
        np.testing.assert_array_equal(to_np(getattr(x, "arg" + name)(1)), getattr(t, "arg" + name)(1).numpy())


def test_large_storages_start_on_a_page_boundary():
    """Outputs of 2**16 elements or more get page-aligned storages (a fixed distance, modulo 4 KiB, between large
    inputs and outputs, which streaming kernels are sensitive to); smaller ones come from the allocator as they are."""
    from minitorch.kernels.cpu import memory
    big = minitorch.ones(1 << 16) * 2
    assert big._storage.ctypes.data % memory.PAGE == 0 and big._storage.shape == (1 << 16,)
    assert float(big.sum()) == 2.0 * (1 << 16)
    for dt in (np.float32, np.float64, np.uint8, np.int64, np.complex64, np.bool_):
        s = memory.empty_large(1001, dt)
        assert s.ctypes.data % memory.PAGE == 0 and s.dtype == np.dtype(dt) and s.shape == (1001,)
        s[:] = 1
        assert s.sum() == 1001


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ["amax", "amin"])
def test_extremes_over_the_outer_dim_propagate_nan_from_any_row(dtype, name):
    """Reducing dim 0 folds whole rows (fast max/min while rows hold no NaN, the exact fold after one that does):
    a NaN in the first row, in a later row only, +inf with -inf in one column, and plain values all match
    PyTorch, on a block small enough for one thread and one split over threads."""
    torch = pytest.importorskip("torch")
    g = np.random.default_rng(3)
    for rows, cols in ((7, 33), (64, 4099)):
        x = g.standard_normal((rows, cols)).astype(dtype)
        x[0, 1] = np.nan           # first row
        x[rows - 1, 5] = np.nan    # last row only
        x[2, 7], x[4, 7] = np.inf, -np.inf
        x[3, 9] = np.nan
        x[5, 9] = np.inf if name == "amax" else -np.inf  # after the NaN: must not replace it
        for t in (x, x[:, ::-1].copy(), np.ascontiguousarray(x.T).T):
            got = getattr(minitorch.tensor(t), name)(0).numpy()
            ref = getattr(torch.tensor(t), name)(0).numpy()
            np.testing.assert_array_equal(got, ref)
            assert np.isnan(got).sum() == 3


@pytest.mark.parametrize("dtype", ["float32", "int64", "bool", "float16", "uint8"])
def test_index_select_every_dim_matches_numpy(device, dtype):
    """index_select along each dim (contiguous input: the row-copy kernel, serial and threaded sizes; a transposed
    view: the offset path), against NumPy's take."""
    rng = np.random.default_rng(5)
    shapes = [(3, 4, 5)] if device != "cpu" else [(3, 4, 5), (40, 60, 50)]
    for shape in shapes:
        x = (rng.standard_normal(shape) * 50).astype(getattr(np, dtype) if dtype != "bool" else np.float32)
        x = x > 0 if dtype == "bool" else x
        t = minitorch.tensor(x, device=device)
        for dim in range(3):
            idx = rng.integers(0, shape[dim], 7)
            it = minitorch.tensor(idx, device=device)
            np.testing.assert_array_equal(t.index_select(dim, it).cpu().numpy(), np.take(x, idx, axis=dim))
            tt = t.transpose(0, 2)
            idx2 = idx % tt.shape[dim]
            np.testing.assert_array_equal(tt.index_select(dim, minitorch.tensor(idx2, device=device)).cpu().numpy(),
                                          np.take(x.transpose(2, 1, 0), idx2, axis=dim))


def test_numpy_argument_names_as_pytorch_takes_them():
    """axis= for dim= and keepdims= for keepdim=, on functions and methods, as PyTorch's native functions take them."""
    import pickle
    x = minitorch.tensor(np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(x.sum(axis=1).numpy(), [3.0, 12.0])
    np.testing.assert_array_equal(minitorch.sum(x, axis=0, keepdims=True).numpy(), [[3.0, 5.0, 7.0]])
    assert tuple(minitorch.cat([x, x], axis=0).shape) == (4, 3)
    assert tuple(x.mean(1, keepdims=True).shape) == (2, 1)
    np.testing.assert_array_equal(x.argmax(axis=1).numpy(), [2, 2])
    np.testing.assert_array_equal(x.max(axis=0).values.numpy(), [3.0, 4.0, 5.0])
    assert tuple(x.unsqueeze(axis=0).shape) == (1, 2, 3)
    np.testing.assert_array_equal(x.cumsum(axis=1).numpy(), np.cumsum(np.arange(6.0).reshape(2, 3), axis=1))
    with pytest.raises(TypeError, match="multiple values for argument 'dim'"):
        x.sum(dim=1, axis=1)
    with pytest.raises(TypeError):
        x.sum(axes=1)
    assert pickle.loads(pickle.dumps(minitorch.sum)) is minitorch.sum
    assert pickle.loads(pickle.dumps(minitorch.Tensor.sum)) is minitorch.Tensor.sum


def test_reading_grad_of_a_non_leaf_warns():
    a = minitorch.ones(2, requires_grad=True)
    z = a * 2
    kept = a * 3
    kept.retain_grad()
    (z.sum() + kept.sum()).backward()
    with pytest.warns(UserWarning, match="not a leaf Tensor is being accessed"):
        assert z.grad is None
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(a.grad.numpy(), [5.0, 5.0])
        np.testing.assert_array_equal(kept.grad.numpy(), [1.0, 1.0])


@pytest.mark.parametrize("dt", ["float32", "float64", "int32", "int64", "uint8", "bool"])
def test_fill_and_broadcast_copies_write_exactly_their_elements(device, dt):
    """fill_ and copies of an expanded value, contiguous (the vectorized row loop) and strided, with a cast from a
    Python float, against NumPy; nothing outside the view is written."""
    mdt = getattr(minitorch, dt)
    base = np.arange(3 * 70, dtype=np.float64).reshape(3, 70).astype(dt)
    for sl in [np.s_[:], np.s_[1, 3:67], np.s_[:, ::3], np.s_[2:, 5:]]:
        x = minitorch.tensor(base.copy(), dtype=mdt, device=device)
        want = base.copy()
        x[sl].fill_(2.75)
        want[sl] = np.array(2.75).astype(dt)
        np.testing.assert_array_equal(x.cpu().numpy(), want)
    row = minitorch.tensor(base[0, :5].copy(), dtype=mdt, device=device)
    out = row.unsqueeze(1).expand(5, 40).contiguous()  # each output row is one value
    np.testing.assert_array_equal(out.cpu().numpy(), np.repeat(base[0, :5, None], 40, axis=1))
    big = minitorch.empty(1 << 16, dtype=mdt, device=device).fill_(1)  # the threaded kernel
    assert big.cpu().numpy().astype(np.int64).sum() == 1 << 16


@pytest.mark.parametrize("dt", ["float32", "float64", "int16", "bool"])
def test_transposed_copies_in_tiles_match_numpy(device, dt):
    """Copies whose source runs down the output's columns (t(), transpose(-1, -2), permutes that swap the last
    two dims) go through the tiled kernel: edges of partial tiles, batches, offsets and the threaded launch."""
    rng = np.random.default_rng(7)
    cases = [((40, 33), (1, 0)), ((17, 16), (1, 0)), ((3, 21, 50), (0, 2, 1)), ((2, 3, 20, 18), (1, 0, 3, 2))]
    if minitorch.device(device).type == "cpu":
        cases.append(((300, 260), (1, 0)))  # the threaded launch (kept off the simulator)
    for shape, perm in cases:
        a = (rng.standard_normal((5,) + shape) * 9).astype(dt)
        t = minitorch.tensor(a, device=device)[2]  # at an offset
        got = t.permute(*perm).contiguous()
        assert got.is_contiguous()
        np.testing.assert_array_equal(got.cpu().numpy(), a[2].transpose(perm))
    x = minitorch.tensor(rng.standard_normal((64, 48)).astype(dt), device=device)
    out = minitorch.zeros(48, 70, dtype=getattr(minitorch, dt), device=device)
    out[:, 3:67].copy_(x.t())  # into a strided destination whose rows are contiguous
    want = np.zeros((48, 70), dt)
    want[:, 3:67] = x.cpu().numpy().T
    np.testing.assert_array_equal(out.cpu().numpy(), want)


@pytest.mark.parametrize("dt", ["float32", "int64", "bool", "float16"])
def test_flip_copies_through_reversed_strides(device, dt):
    rng = np.random.default_rng(8)
    a = (rng.standard_normal((4, 5, 37)) * 5).astype(dt)
    x = minitorch.tensor(a, device=device)
    for dims in [(2,), (0,), (1, 2), (-1, 0, 1), []]:
        np.testing.assert_array_equal(minitorch.flip(x, dims).cpu().numpy(), np.flip(a, dims) if dims else a)
    y = x.permute(2, 0, 1)[3:20]  # a strided view at an offset
    np.testing.assert_array_equal(y.flip(0, 2).cpu().numpy(), np.flip(a.transpose(2, 0, 1)[3:20], (0, 2)))
    assert minitorch.flip(minitorch.zeros(0, 3, device=device), (0, 1)).shape == (0, 3)
    with pytest.raises(RuntimeError, match="dim 1 appears multiple times in the list of dims"):
        x.flip(1, -2)
    with pytest.raises(IndexError, match="Dimension out of range"):
        x.flip(3)
    if dt == "float32":
        w = minitorch.tensor(a, device=device, requires_grad=True)
        g = minitorch.tensor(rng.standard_normal(a.shape).astype(dt), device=device)
        w.flip(1).backward(g)
        np.testing.assert_array_equal(w.grad.cpu().numpy(), np.flip(g.cpu().numpy(), 1))
