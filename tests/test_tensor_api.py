"""Tensor-level API that PyTorch programs reach for: legacy tensor types, Variable, int8/int16, the default device,
and the size=/out= forms of the creation functions."""
import itertools

import numpy as np
import pytest

import minitorch

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float32", "float64"]


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def name(d):
    return str(d).split(".")[-1]


# --- dtypes ------------------------------------------------------------------------------------------------------
@pytest.mark.torch
def test_promotion_table_matches_torch(torch):
    for a, b in itertools.product(DTYPES, DTYPES):
        got = minitorch.promote_types(getattr(minitorch, a), getattr(minitorch, b))
        assert name(got) == name(torch.promote_types(getattr(torch, a), getattr(torch, b))), (a, b)


SMALL_INT_OPS = [
    ("add", lambda t: t + t), ("mul_scalar", lambda t: t * 3), ("truediv", lambda t: t / 2),
    ("floordiv", lambda t: t // 2), ("neg", lambda t: -t), ("abs", lambda t: t.abs()), ("sum", lambda t: t.sum()),
    ("sum_dim", lambda t: t.sum(1)), ("cumsum", lambda t: t.cumsum(0)), ("prod", lambda t: t.prod()),
    ("max_dim", lambda t: t.max(1)[0]), ("argmax", lambda t: t.argmax()), ("mm", lambda t: t @ t.t()),
    ("to_float", lambda t: t.float()), ("eq", lambda t: t == 1), ("clamp", lambda t: t.clamp(-1, 2)),
    ("add_float_scalar", lambda t: t + 1.5), ("pow", lambda t: t ** 2), ("transpose_copy", lambda t: t.t() * 1),
    ("mixed_uint8", lambda t: t + t.abs().to(t.dtype).byte()),
]


@pytest.mark.torch
@pytest.mark.parametrize("dt", ["int8", "int16"])
@pytest.mark.parametrize("op", [o[1] for o in SMALL_INT_OPS], ids=[o[0] for o in SMALL_INT_OPS])
def test_int8_int16_ops_match_torch(dt, op, device, torch):
    x = np.array([[1, -2, 3], [4, 5, -6]])
    got = op(minitorch.tensor(x, dtype=getattr(minitorch, dt), device=device))
    want = op(torch.tensor(x, dtype=getattr(torch, dt)))
    assert name(got.dtype) == name(want.dtype)
    np.testing.assert_array_equal(got.cpu().numpy(), want.numpy())


def test_small_int_casts_wrap_and_name():
    x = minitorch.tensor([127, 128, -129, 40000])
    assert x.char().tolist() == np.array([127, 128, -129, 40000]).astype(np.int8).tolist()
    assert x.short().dtype is minitorch.int16 and minitorch.short is minitorch.int16
    assert minitorch.char is minitorch.int8
    assert minitorch.from_numpy(np.zeros(2, np.int16)).dtype is minitorch.int16
    assert repr(minitorch.tensor([1, 2], dtype=minitorch.int8)) == "tensor([1, 2], dtype=minitorch.int8)"
    with pytest.raises(TypeError, match="can't convert np.ndarray of type numpy.complex128"):
        minitorch.from_numpy(np.zeros(2, np.complex128))


# --- legacy types and Variable ------------------------------------------------------------------------------------
LEGACY = [("FloatTensor", "float32"), ("DoubleTensor", "float64"), ("LongTensor", "int64"), ("IntTensor", "int32"),
          ("ShortTensor", "int16"), ("CharTensor", "int8"), ("ByteTensor", "uint8"), ("BoolTensor", "bool")]


@pytest.mark.parametrize("tname, dt", LEGACY)
def test_legacy_constructors_and_isinstance(tname, dt):
    T = getattr(minitorch, tname)
    data = T([1, 0, 1])
    assert data.dtype is getattr(minitorch, dt) and data.tolist() == np.array([1, 0, 1]).astype(dt).tolist()
    assert T(2, 3).shape == (2, 3) and T(minitorch.Size([4])).shape == (4,) and T().shape == (0,)
    assert isinstance(data, T) and isinstance(data, minitorch.Tensor)
    others = [getattr(minitorch, n) for n, _ in LEGACY if n != tname]
    assert not any(isinstance(data, O) for O in others)
    assert not isinstance(data, getattr(minitorch.cuda, tname))
    assert data.type() == f"torch.{tname}"
    assert minitorch.zeros(2).type(T).dtype is getattr(minitorch, dt)
    assert minitorch.zeros(2).type(f"torch.{tname}").dtype is getattr(minitorch, dt)
    assert type(data) is minitorch.Tensor


@pytest.mark.torch
def test_legacy_types_agree_with_torch(torch):
    for tname, _ in LEGACY:
        assert getattr(minitorch, tname)([1, 2]).tolist() == getattr(torch, tname)([1, 2]).tolist()
        assert getattr(minitorch, tname)(3, 2).shape == getattr(torch, tname)(3, 2).shape
    assert minitorch.tensor([1.5]).type() == torch.tensor([1.5]).type()


def test_legacy_type_errors():
    with pytest.raises(ValueError, match="invalid type: 'torch.NoSuchTensor'"):
        minitorch.zeros(2).type("torch.NoSuchTensor")
    with pytest.raises(TypeError, match="must be tuple of ints"):
        minitorch.FloatTensor(2, "3")


def test_variable_makes_tensors():
    base = minitorch.ones(3, requires_grad=True)
    v = minitorch.autograd.Variable(base * 2, requires_grad=True)
    assert type(v) is minitorch.Tensor and v.requires_grad and v.is_leaf
    assert isinstance(v, minitorch.autograd.Variable) and isinstance(base, minitorch.autograd.Variable)
    (v * v).sum().backward()
    np.testing.assert_allclose(v.grad.numpy(), [4.0, 4.0, 4.0])
    assert base.grad is None  # detached from the graph that made it
    w = minitorch.autograd.Variable(minitorch.zeros(2))
    assert not w.requires_grad
    with pytest.warns(UserWarning, match="volatile was removed"):
        minitorch.autograd.Variable(minitorch.zeros(1), volatile=True)
    with pytest.raises(TypeError, match="Variable data has to be a tensor, but got list"):
        minitorch.autograd.Variable([1.0])


# --- creation signatures --------------------------------------------------------------------------------------------
CREATION_FORMS = [
    ("randint_high_size", lambda m: m.randint(10, size=(3, 2))),
    ("randint_low_high_size", lambda m: m.randint(3, 10, (4,))),
    ("randint_keywords", lambda m: m.randint(low=2, high=5, size=(5,))),
    ("randint_dtype", lambda m: m.randint(0, 4, (2,), dtype=m.int16)),
    ("zeros_size_kw", lambda m: m.zeros(size=(2, 3))),
    ("ones_size_kw", lambda m: m.ones(size=[4])),
    ("empty_size_kw", lambda m: m.empty(size=(1, 2))),
    ("rand_size_kw", lambda m: m.rand(size=(2, 2))),
    ("randn_varargs", lambda m: m.randn(2, 3, dtype=m.float64)),
    ("full_list", lambda m: m.full([2, 2], 7)),
]


@pytest.mark.torch
@pytest.mark.parametrize("form", [f[1] for f in CREATION_FORMS], ids=[f[0] for f in CREATION_FORMS])
def test_creation_forms_match_torch(form, torch):
    got, want = form(minitorch), form(torch)
    assert tuple(got.shape) == tuple(want.shape) and name(got.dtype) == name(want.dtype)


def test_randint_values_and_errors():
    minitorch.manual_seed(0)
    v = minitorch.randint(3, 10, (2000,))
    assert v.min().item() == 3 and v.max().item() == 9
    with pytest.raises(RuntimeError, match="from=5 >= to=5"):
        minitorch.randint(5, 5, (2,))
    with pytest.raises(TypeError, match="must be tuple of ints, not int"):
        minitorch.randint(0, 5, 3)


def test_out_arguments_are_written():
    out = minitorch.empty(0)
    r = minitorch.zeros(2, 3, out=out)
    assert r is out and out.shape == (2, 3) and out.sum().item() == 0
    out2 = minitorch.empty(5, dtype=minitorch.float64)
    minitorch.manual_seed(1)
    minitorch.rand(5, out=out2, dtype=minitorch.float64)
    assert out2.dtype is minitorch.float64 and 0 <= out2.min().item() and out2.max().item() < 1
    o3 = minitorch.empty(0, dtype=minitorch.int64)
    assert minitorch.arange(4, out=o3).tolist() == [0, 1, 2, 3] and o3.tolist() == [0, 1, 2, 3]
    o4 = minitorch.empty(3)
    minitorch.linspace(0, 1, 3, out=o4)
    assert o4.tolist() == [0.0, 0.5, 1.0]
    o5 = minitorch.empty(2, dtype=minitorch.int64)
    minitorch.full((2,), 3, out=o5)
    assert o5.tolist() == [3, 3]
    with pytest.raises(RuntimeError, match="Expected out tensor to have dtype minitorch.float32"):
        minitorch.zeros(2, dtype=minitorch.float32, out=minitorch.empty(2, dtype=minitorch.int64))


# --- the default device ---------------------------------------------------------------------------------------------
def test_default_device_drives_creation(device):
    assert minitorch.get_default_device() == minitorch.device("cpu")
    minitorch.set_default_device(device)
    try:
        want = minitorch.device(device) if device == "cpu" else minitorch.device(device, 0)
        assert minitorch.get_default_device() == want
        made = [minitorch.zeros(2), minitorch.ones(2), minitorch.tensor([1.0]), minitorch.randn(2),
                minitorch.arange(3), minitorch.full((2,), 1.0), minitorch.empty(1), minitorch.eye(2),
                minitorch.randint(0, 3, (2,)), minitorch.as_tensor([1, 2])]
        assert all(t.device == want for t in made)
        assert minitorch.from_numpy(np.zeros(2)).device.type == "cpu"  # shares the array's memory
        assert minitorch.Generator().device.type == "cpu"
        assert minitorch.zeros(2, device="cpu").device.type == "cpu"
    finally:
        minitorch.set_default_device(None)
    assert minitorch.zeros(1).device.type == "cpu"


def test_default_device_without_cuda_raises_when_used():
    if minitorch.cuda.is_available():
        pytest.skip("CUDA is available here")
    minitorch.set_default_device("cuda")  # accepted, as in PyTorch; checked when a tensor is made
    try:
        with pytest.raises(AssertionError, match="Torch not compiled with CUDA enabled"):
            minitorch.zeros(1)
    finally:
        minitorch.set_default_device(None)
    assert minitorch.get_default_device().type == "cpu"


def test_cuda_timing_calls_without_cuda_raise_as_pytorch_cpu_build_does():
    if minitorch.cuda.is_available():
        pytest.skip("CUDA is available here")
    with pytest.raises(RuntimeError, match="needs CUDA"):
        minitorch.cuda.Event(enable_timing=True)
    with pytest.raises(AssertionError, match="Torch not compiled with CUDA enabled"):
        minitorch.cuda.synchronize()


# --- poisson --------------------------------------------------------------------------------------------------------
def test_poisson_moments_and_reproducibility(device):
    n = 20000 if device == "cpu" else 64  # the simulator runs a Python thread per element
    rates = minitorch.tensor([0.0, 0.5, 4.0, 30.0, 400.0], dtype=minitorch.float64, device=device).expand(n, 5)
    minitorch.manual_seed(3)
    s = minitorch.poisson(rates)
    assert s.dtype is minitorch.float64 and s.shape == (n, 5) and s.device.type == device
    a = s.cpu().numpy()
    assert (a == np.floor(a)).all() and (a[:, 0] == 0).all() and (a >= 0).all()
    lam = np.array([0.0, 0.5, 4.0, 30.0, 400.0])
    se = np.sqrt(lam / n)  # standard error of each column mean
    np.testing.assert_array_less(np.abs(a.mean(0) - lam), 6 * se + 1e-12)
    minitorch.manual_seed(3)
    np.testing.assert_array_equal(minitorch.poisson(rates).cpu().numpy(), a)


def test_poisson_gradient_is_zero_and_errors():
    x = minitorch.tensor([1.0, 2.0], requires_grad=True)
    y = minitorch.poisson(x)
    assert y.requires_grad
    y.sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]
    with pytest.raises(RuntimeError, match="invalid Poisson rate, expected rate to be non-negative"):
        minitorch.poisson(minitorch.tensor([1.0, -0.5]))
    with pytest.raises(RuntimeError, match="invalid Poisson rate"):
        minitorch.poisson(minitorch.tensor([float("nan")]))
    with pytest.raises(NotImplementedError, match="not implemented for 'Long'"):  # PyTorch's type
        minitorch.poisson(minitorch.tensor([1, 2]))


# --- integer bitwise ops ----------------------------------------------------------------------------------------------
BITWISE = [
    ("and", lambda a, b: a & b), ("or", lambda a, b: a | b), ("xor", lambda a, b: a ^ b),
    ("xor_fn", lambda a, b: a.bitwise_xor(b)), ("lshift", lambda a, b: a << (b % 9).abs()),
    ("rshift", lambda a, b: a >> (b % 9).abs()), ("not", lambda a, b: ~a), ("and_scalar", lambda a, b: a & 6),
    ("rshift_wide", lambda a, b: a >> 70), ("lshift_wide", lambda a, b: a << 64),
    ("broadcast_or", lambda a, b: a[:, :1] | b), ("transposed_xor", lambda a, b: a.transpose(0, 2) ^ b.transpose(0, 2)),
]


@pytest.mark.torch
@pytest.mark.parametrize("dt", ["uint8", "int8", "int16", "int32", "int64"])
@pytest.mark.parametrize("op", [o[1] for o in BITWISE], ids=[o[0] for o in BITWISE])
def test_integer_bitwise_ops_match_torch(dt, op, device, torch):
    rng = np.random.default_rng(0)
    lo = 0 if dt == "uint8" else -100
    x, y = rng.integers(lo, 100, (2, 3, 4)), rng.integers(lo, 100, (2, 3, 4))
    got = op(minitorch.tensor(x, dtype=getattr(minitorch, dt), device=device),
             minitorch.tensor(y, dtype=getattr(minitorch, dt), device=device))
    want = op(torch.tensor(x, dtype=getattr(torch, dt)), torch.tensor(y, dtype=getattr(torch, dt)))
    assert name(got.dtype) == name(want.dtype)
    np.testing.assert_array_equal(got.cpu().numpy(), want.numpy())


def test_bitwise_in_place_and_errors():
    x = minitorch.tensor([5, 3])
    x ^= 1
    x <<= 1
    x.bitwise_or_(minitorch.tensor([1, 0]))
    assert x.tolist() == [9, 4]
    assert (minitorch.tensor([True, False]) ^ minitorch.tensor([True, True])).tolist() == [False, True]
    with pytest.raises(NotImplementedError, match="\"bitwise_and_cpu\" not implemented for 'Float'"):
        minitorch.tensor([1.5]) & 1
    with pytest.raises(TypeError, match="only implemented on integer and Boolean-type tensors"):
        ~minitorch.tensor([1.5])


@pytest.mark.torch
def test_finfo_iinfo_match_torch(torch):
    for dt in ("float32", "float64"):
        a, b = minitorch.finfo(getattr(minitorch, dt)), torch.finfo(getattr(torch, dt))
        for attr in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype"):
            assert getattr(a, attr) == getattr(b, attr), (dt, attr)
        assert repr(a) == repr(b)
    assert minitorch.finfo().dtype == "float32"
    for dt in ("uint8", "int8", "int16", "int32", "int64"):
        a, b = minitorch.iinfo(getattr(minitorch, dt)), torch.iinfo(getattr(torch, dt))
        assert (a.bits, a.min, a.max, a.dtype, repr(a)) == (b.bits, b.min, b.max, b.dtype, repr(b))
    with pytest.raises(TypeError, match="requires a floating point input type"):
        minitorch.finfo(minitorch.int32)
    with pytest.raises(TypeError, match="requires an integer input type"):
        minitorch.iinfo(minitorch.float32)


# --- more random draws ----------------------------------------------------------------------------------------------
def test_in_place_distributions(device):
    n = 40000 if device == "cpu" else 64
    minitorch.manual_seed(5)
    g = minitorch.empty(n, dtype=minitorch.float64, device=device).geometric_(0.25).cpu().numpy()
    assert (g >= 1).all() and (g == np.floor(g)).all()
    ln = minitorch.empty(n, dtype=minitorch.float64, device=device).log_normal_(0.5, 0.3).cpu().numpy()
    c = minitorch.empty(n, dtype=minitorch.float64, device=device).cauchy_(1.0, 2.0).cpu().numpy()
    if device == "cpu":  # moments need many samples; the simulator checks the kernels run and the ranges
        assert abs(g.mean() - 4.0) < 0.1
        assert abs(np.log(ln).mean() - 0.5) < 0.01 and abs(np.log(ln).std() - 0.3) < 0.01
        assert abs(np.median(c) - 1.0) < 0.1 and abs(np.percentile(c, 75) - 3.0) < 0.15  # quartiles at 1 +- 2
    assert (ln > 0).all() and np.isfinite(c).all()
    ints = minitorch.empty(50, dtype=minitorch.int64, device=device).geometric_(0.5)
    assert ints.dtype is minitorch.int64 and ints.min().item() >= 1


def test_in_place_distribution_errors():
    x = minitorch.empty(3)
    with pytest.raises(RuntimeError, match=r"geometric_ expects p to be in \(0, 1\), but got p=1.5"):
        x.geometric_(1.5)
    with pytest.raises(RuntimeError, match="log_normal_ expects std > 0.0, but found std=0"):
        x.log_normal_(1, 0)
    with pytest.raises(RuntimeError, match="cauchy_ expects sigma > 0.0, but found sigma=-1"):
        x.cauchy_(0, -1)
    with pytest.raises(NotImplementedError, match="\"log_normal_cpu\" not implemented for 'Long'"):
        minitorch.empty(2, dtype=minitorch.int64).log_normal_()
    leaf = minitorch.zeros(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        leaf.cauchy_()


def test_multinomial_frequencies_and_order(device):
    w = minitorch.tensor([[1.0, 0.0, 3.0, 4.0], [0.0, 0.0, 0.0, 2.0]], device=device)
    minitorch.manual_seed(0)
    n = 4000 if device == "cpu" else 40
    s = minitorch.multinomial(w, n, replacement=True)
    assert s.shape == (2, n) and s.dtype is minitorch.int64 and s.device.type == device
    a = s.cpu().numpy()
    assert (a[1] == 3).all() and not (a[0] == 1).any()  # zero weights are never drawn
    if device == "cpu":
        freq = np.bincount(a[0], minlength=4) / n
        np.testing.assert_allclose(freq, [0.125, 0.0, 0.375, 0.5], atol=0.03)
    wo = minitorch.multinomial(w[0], 3).cpu().numpy()  # without replacement: distinct, positive weights first
    assert sorted(wo.tolist()) == [0, 2, 3]
    all4 = minitorch.multinomial(w[0], 4).cpu().numpy()
    assert sorted(all4.tolist()) == [0, 1, 2, 3] and all4[-1] == 1  # the zero weight comes last, as in PyTorch
    assert minitorch.tensor([0.2, 0.8], device=device).multinomial(2, replacement=True).shape == (2,)


def test_multinomial_first_draw_frequencies_without_replacement():
    minitorch.manual_seed(1)
    w = minitorch.tensor([1.0, 2.0, 7.0]).expand(6000, 3)
    first = minitorch.multinomial(w, 2)[:, 0].numpy()
    np.testing.assert_allclose(np.bincount(first, minlength=3) / 6000, [0.1, 0.2, 0.7], atol=0.03)


@pytest.mark.torch
def test_multinomial_errors_match_torch(torch):
    cases = [((torch.tensor([0.5, -0.1]), 1), "probability tensor contains either `inf`, `nan` or element < 0"),
             ((torch.tensor([0.0, 0.0]), 1), r"invalid multinomial distribution \(sum of probabilities <= 0\)"),
             ((torch.tensor([float("nan"), 1.0]), 1), "probability tensor contains either"),
             ((torch.tensor([1.0, 1.0]), 3), "cannot sample n_sample > prob_dist.size"),
             ((torch.tensor([1.0, 1.0]), 0), "cannot sample n_sample <= 0 samples"),
             ((torch.ones(2, 2, 2), 1), "prob_dist must be 1 or 2 dim"),
             ((torch.tensor([1, 2]), 1), "multinomial only supports floating-point dtypes for input, got: Long")]
    for (t, k), msg in cases:
        with pytest.raises(RuntimeError, match=msg):
            torch.multinomial(t, k)
        with pytest.raises(RuntimeError, match=msg):
            minitorch.multinomial(minitorch.tensor(t.numpy()), k)


def test_return_types_module_names_every_structured_result():
    x = minitorch.tensor([[3.0, 1.0], [2.0, 5.0]])
    rt = minitorch.return_types
    assert type(x.max(0)) is rt.max and type(x.sort()) is rt.sort and type(x.topk(1)) is rt.topk
    assert type(x.cummax(0)) is rt.cummax and type(minitorch.linalg.svd(x)) is rt.linalg_svd
    assert set(rt.__all__) >= {"max", "min", "sort", "topk", "kthvalue", "median", "mode", "cummax", "histogram",
                               "linalg_slogdet", "linalg_qr", "linalg_eigh", "svd"}
    assert rt.sort.__module__ == "minitorch.return_types" and rt.sort._fields == ("values", "indices")


@pytest.mark.torch
def test_in_place_functions_are_the_methods(torch):
    for name in ("sin_", "abs_", "exp_", "clamp_", "zero_", "fill_", "arccos_", "negative_", "sqrt_"):
        assert getattr(minitorch, name) is getattr(minitorch.Tensor, name), name
    a, b = minitorch.tensor([0.25, 0.5]), torch.tensor([0.25, 0.5])
    assert minitorch.sin_(a) is a
    torch.sin_(b)
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6)
    minitorch.arccos_(a), torch.arccos_(b)
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6)


def test_in_place_view_ops_change_shape_not_data(device):
    z = minitorch.arange(6.0, device=device).reshape(2, 3)
    row = z[0]
    assert z.t_() is z and z.shape == (3, 2) and z.stride() == (1, 3)
    np.testing.assert_array_equal(z.cpu().numpy(), np.arange(6.0).reshape(2, 3).T)
    assert row.shape == (3,)  # other views keep their own geometry
    z.unsqueeze_(0).transpose_(0, 2)
    assert z.shape == (2, 3, 1)
    z.squeeze_()
    assert z.shape == (2, 3) and z._version == 4  # each one a change of the tensor, as PyTorch counts them
    x = minitorch.ones(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        x.unsqueeze_(0)
    y = x * 2
    y.unsqueeze_(0)
    assert y.shape == (1, 2, 3) and y.grad_fn is not None
    (y * minitorch.arange(6.0, device="cpu").reshape(1, 2, 3)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), 2 * np.arange(6.0).reshape(2, 3))


INDEX_OPS_ON_DEVICE = {
    "index_add": lambda m, x, i: x.index_add(0, i, m.ones(1, device=x.device)),
    "index_select": lambda m, x, i: x.index_select(0, i),
    "gather": lambda m, x, i: x.gather(0, i),
    "scatter": lambda m, x, i: x.scatter(0, i, m.ones(1, device=x.device)),
    "scatter_reduce": lambda m, x, i: x.scatter_reduce(0, i, m.ones(1, device=x.device), "sum"),
    "take": lambda m, x, i: x.take(i),
    "take_along_dim": lambda m, x, i: x.take_along_dim(i, 0),
    "embedding": lambda m, x, i: m.nn.functional.embedding(i, x.reshape(3, 1)),
}


@pytest.mark.parametrize("op", list(INDEX_OPS_ON_DEVICE))
def test_index_on_another_device_is_refused(op, device):
    if device == "cpu":
        pytest.skip("needs a second device")
    x = minitorch.zeros(3, device=device)
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        INDEX_OPS_ON_DEVICE[op](minitorch, x, minitorch.tensor([0]))
    INDEX_OPS_ON_DEVICE[op](minitorch, x, minitorch.tensor([0], device=device))  # the same index on x's device


@pytest.mark.parametrize("ta, tb", [(False, False), (True, False), (False, True), (True, True)])
def test_batch_split_gemm_matches_numpy(ta, tb):
    """bmm_blas_par (the batch over the threads, one single-threaded GEMM each) against numpy, transposed stacks
    and a broadcast batch of one included."""
    from minitorch.kernels.cpu import matmul as K
    rng = np.random.default_rng(0)
    B, M, N, KK = 6, 33, 17, 29
    a = rng.standard_normal((B, KK, M) if ta else (B, M, KK))
    b = rng.standard_normal((1, N, KK) if tb else (1, KK, N))
    out = np.empty((B, M, N))
    K.bmm_blas_par(a, ta, b, tb, out)
    want = (a.transpose(0, 2, 1) if ta else a) @ (b.transpose(0, 2, 1) if tb else b)
    np.testing.assert_allclose(out, want, rtol=1e-12, atol=1e-12)


def test_attention_sized_bmm_takes_the_batch_split_path(monkeypatch):
    from minitorch.kernels.cpu import matmul as K
    from minitorch.ops import launch
    calls = []
    real = K.bmm_blas_par

    def spy(*args):
        calls.append(args[4].shape)
        return real(*args)
    monkeypatch.setattr(K, "bmm_blas_par", spy)
    monkeypatch.setattr(launch, "_threads", lambda: 2)
    q, k = minitorch.randn(8, 128, 64), minitorch.randn(8, 64, 128)  # 8M multiply-adds, 1M per matrix
    got = q @ k
    assert calls == [(8, 128, 128)]
    np.testing.assert_allclose(got.numpy(), q.numpy() @ k.numpy(), rtol=1e-4, atol=1e-4)
    minitorch.randn(2, 4, 4) @ minitorch.randn(2, 4, 4)  # small batches stay on the serial loop
    assert len(calls) == 1


SELECTIONS = {
    "sort": lambda m, t: t.sort(stable=True), "sort_desc": lambda m, t: t.sort(descending=True, stable=True),
    "unique": lambda m, t: t.unique(return_counts=True), "median": lambda m, t: t.median(),
    "topk": lambda m, t: t.topk(3), "kthvalue": lambda m, t: t.kthvalue(2),
    "argsort": lambda m, t: t.argsort(stable=True), "isin": lambda m, t: m.isin(t, t[:3]),
}


@pytest.mark.torch
@pytest.mark.parametrize("dt", ["int8", "int16"])
@pytest.mark.parametrize("case", list(SELECTIONS))
def test_sorting_small_integer_dtypes(case, dt, device, torch):
    """Sort keys come from the elements' bits: int8/int16 need keys of their own width."""
    rng = np.random.default_rng(0)
    for n in ((5, 40) if device == "cuda" else (7, 300, 70000)):
        x = rng.integers(-100, 100, n)
        got = SELECTIONS[case](minitorch, minitorch.tensor(x, dtype=getattr(minitorch, dt), device=device))
        want = SELECTIONS[case](torch, torch.tensor(x, dtype=getattr(torch, dt)))
        got, want = (got, want) if isinstance(want, tuple) else ((got,), (want,))
        if case in ("topk", "kthvalue"):  # which of several tied elements PyTorch picks is unspecified
            values, indices = got
            np.testing.assert_array_equal(values.cpu().numpy(), want[0].numpy())
            np.testing.assert_array_equal(x.astype(dt)[indices.cpu().numpy()], want[0].numpy())
            continue
        for g, w in zip(got, want):
            assert name(g.dtype) == name(w.dtype)
            np.testing.assert_array_equal(g.cpu().numpy(), w.numpy())


def test_low_precision_and_integer_refusals_match_torch():
    h = minitorch.ones(2, 3, dtype=minitorch.float16)
    with pytest.raises(RuntimeError, match="quantile\\(\\) input tensor must be either float or double dtype"):
        h.quantile(0.5)
    with pytest.raises(NotImplementedError, match="\"cdist\" not implemented for 'Half'"):
        minitorch.cdist(h, h)
    with pytest.raises(NotImplementedError, match="\"lerp_kernel_scalar\" not implemented for 'Char'"):
        minitorch.ones(2, dtype=minitorch.int8).lerp(minitorch.ones(2, dtype=minitorch.int8), 0.5)
    with pytest.raises(RuntimeError, match="the last dimension must match"):
        minitorch.inner(minitorch.ones(2, 3), minitorch.ones(2))


@pytest.mark.torch
def test_number_divided_by_tensor_rounds_as_torch(torch):
    x = np.random.default_rng(0).uniform(0.1, 10, 10000).astype(np.float32)
    np.testing.assert_array_equal((2.5 / minitorch.tensor(x)).numpy(), (2.5 / torch.tensor(x)).numpy())
    y = 2.5 / minitorch.tensor([3.0, 7.0], requires_grad=True)
    parents = [repr(f) for f, _ in y.grad_fn.next_functions if f is not None]
    assert "MulBackward0" in repr(y.grad_fn) and len(parents) == 1 and "ReciprocalBackward0" in parents[0]


def test_op_warnings_name_the_callers_line():
    """Ops reached through minitorch's wrappers (autocast, Tensor methods) still attribute warnings to user code."""
    import warnings
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        minitorch.range(0, 2)  # cross's warning would serve too, but it is given once per process
        minitorch.nn.functional.mse_loss(minitorch.ones(2, 1), minitorch.ones(2))
    assert len(caught) == 2 and all(w.filename == __file__ for w in caught), [w.filename for w in caught]


def test_device_and_layout_predicates_match_torch():
    torch = pytest.importorskip("torch")
    names = ["is_cpu", "is_cuda", "is_xpu", "is_mps", "is_meta", "is_sparse", "is_sparse_csr", "is_mkldnn",
             "is_quantized", "is_nested"]
    m, t = minitorch.ones(2, 3), torch.ones(2, 3)
    assert [getattr(m, n) for n in names] == [getattr(t, n) for n in names]


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int32", "bool"])
def test_arg_extremes_along_rows_match_torch_with_ties_nan_and_signed_zeros(dtype, torch):
    """argmax/argmin/max(dim)/min(dim) over either dim of contiguous and transposed matrices: the first extreme
    wins, NaN wins, and of -0.0 and +0.0 the first met is returned with its sign."""
    rng = np.random.default_rng(7)
    for _ in range(40):
        a = rng.integers(-3, 3, (int(rng.integers(1, 9)), int(rng.integers(1, 70)))).astype(np.float64)
        if dtype.startswith("float"):
            for value, p in ((np.nan, 0.05), (0.0, 0.1), (-0.0, 0.1), (np.inf, 0.05), (-np.inf, 0.05)):
                a[rng.random(a.shape) < p] = value
        a = a.astype(dtype)
        mt, tt = minitorch.from_numpy(a.copy()), torch.from_numpy(a.copy())
        for x, y in ((mt, tt), (mt.t(), tt.t())):
            for dim in (0, 1, -1):
                for f in ("max", "min") + (("argmax", "argmin") if dtype != "bool" else ()):
                    got, want = getattr(x, f)(dim), getattr(y, f)(dim)
                    if f.startswith("arg"):
                        np.testing.assert_array_equal(got.numpy(), want.numpy())
                        continue
                    np.testing.assert_array_equal(got.indices.numpy(), want.indices.numpy())
                    np.testing.assert_array_equal(got.values.numpy(), want.values.numpy())
                    np.testing.assert_array_equal(np.signbit(got.values.numpy()), np.signbit(want.values.numpy()))


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int64"])
@pytest.mark.parametrize("n", [37, 70001])
def test_arithmetic_with_a_broadcast_scalar_on_either_side_matches_torch(dtype, n, torch):
    """+, -, *, / with a 0-d tensor, a Python number or a size-1 tensor on the left or the right, over contiguous
    and strided operands, out of place and in place (serial and threaded kernel sizes)."""
    rng = np.random.default_rng(n)
    a = (rng.standard_normal(2 * n) * 50).astype(dtype)
    s = np.array(rng.integers(2, 9) * (1 if dtype.startswith("int") else 0.37), dtype=dtype)
    names = ["add", "sub", "mul"] + (["div"] if dtype.startswith("float") else [])
    views = (lambda t: t[:n], lambda t: t[::2], lambda t: t.reshape(2, n)[:, :7].t())
    scalars = {"0d": lambda lib: lib.from_numpy(s.copy()), "number": lambda lib: s.item(),
               "size1": lambda lib: lib.from_numpy(s.reshape(1).copy())}

    def check(got, want):
        assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6, atol=0)

    for op in names:
        for view in views:
            for make in scalars.values():
                x, y = view(minitorch.from_numpy(a.copy())), view(torch.from_numpy(a.copy()))
                check(getattr(minitorch, op)(x, make(minitorch)), getattr(torch, op)(y, make(torch)))
                if not isinstance(make(torch), (int, float)):
                    check(getattr(minitorch, op)(make(minitorch), x), getattr(torch, op)(make(torch), y))
            m, t = minitorch.from_numpy(a.copy()), torch.from_numpy(a.copy())
            getattr(view(m), op + "_")(scalars["0d"](minitorch))
            getattr(view(t), op + "_")(scalars["0d"](torch))
            check(m, t)
        x, y = minitorch.from_numpy(a.copy()), torch.from_numpy(a.copy())
        rop = {"add": "__radd__", "sub": "__rsub__", "mul": "__rmul__", "div": "__rtruediv__"}[op]
        check(getattr(x, rop)(s.item()), getattr(y, rop)(s.item()))


def test_in_place_arithmetic_on_a_leading_slice_leaves_the_rest_of_the_storage():
    x = minitorch.arange(10.0)
    x[:5].add_(1)
    x[:3].mul_(minitorch.tensor(2.0))
    minitorch.add(x[:2], 1, out=x[:2])
    assert x.tolist() == [3.0, 5.0, 6.0, 4.0, 5.0, 5.0, 6.0, 7.0, 8.0, 9.0]
    x[:4].normal_(mean=-1.0, std=0.0)  # a random fill's scale and shift are in-place ops on the slice too
    assert x.tolist() == [-1.0, -1.0, -1.0, -1.0, 5.0, 5.0, 6.0, 7.0, 8.0, 9.0]


@pytest.mark.parametrize("dtype", ["float32", "int64"])
@pytest.mark.parametrize("n", [37, 70001])
def test_comparisons_with_a_broadcast_scalar_on_either_side_match_torch(dtype, n, torch):
    """==, !=, <, <=, >, >= against a 0-d tensor or a number on the left or the right (the left side compares by the
    mirrored op), with NaN and ties in the data, contiguous and strided, serial and threaded kernel sizes."""
    rng = np.random.default_rng(n + 1)
    a = rng.integers(-3, 4, 2 * n).astype(dtype)
    if dtype == "float32":
        a[rng.random(2 * n) < 0.1] = np.nan
    ops = ("eq", "ne", "lt", "le", "gt", "ge")
    for view in (lambda t: t[:n], lambda t: t[1::2]):
        x, y = view(minitorch.from_numpy(a.copy())), view(torch.from_numpy(a.copy()))
        for op in ops:
            for s in (1, 0):
                got, want = getattr(minitorch, op)(x, s), getattr(torch, op)(y, s)
                np.testing.assert_array_equal(got.numpy(), want.numpy())
                sm, st = minitorch.tensor(s, dtype=x.dtype), torch.tensor(s, dtype=y.dtype)
                np.testing.assert_array_equal(getattr(minitorch, op)(sm, x).numpy(), getattr(torch, op)(st, y).numpy())
        for op in ("logical_and", "logical_or", "logical_xor"):  # the same kernels, both operands whole
            np.testing.assert_array_equal(getattr(minitorch, op)(x, x.flip(0)).numpy(),
                                          getattr(torch, op)(y, y.flip(0)).numpy())


@pytest.mark.torch
@pytest.mark.parametrize("dt", ["bool", "uint8", "int8", "int64", "float32"])
def test_any_all_result_dtypes_match_torch(dt, torch):
    """any/all give bool, except on uint8, where PyTorch keeps uint8."""
    x = np.array([[0, 3, 0], [1, 2, 0]]).astype(np.uint8 if dt == "uint8" else np.float64)
    m, t = minitorch.tensor(x).to(getattr(minitorch, dt)), torch.tensor(x).to(getattr(torch, dt))
    for op in ("any", "all"):
        for args in ((), (0,), (1,), (1, True)):
            got, want = getattr(m, op)(*args), getattr(t, op)(*args)
            assert got.dtype.name == str(want.dtype).split(".")[-1]
            np.testing.assert_array_equal(got.numpy(), want.numpy())


@pytest.mark.torch
@pytest.mark.parametrize("rows,cols", [(4096, 256), (4097, 128), (300, 1000), (64, 1024)])
def test_sums_over_either_dim_on_each_path_match_torch(rows, cols, torch):
    """Sums and extremes along dim 0 and dim 1 where the launcher picks the serial kernels (below launch.RED_PAR),
    the threaded ones, or, for a sum over dim 0 of few columns, per-thread row ranges whose partial sums are added
    (rows not a multiple of the thread count included)."""
    x = np.random.default_rng(rows).standard_normal((rows, cols)).astype(np.float32)
    m, t = minitorch.from_numpy(x), torch.from_numpy(x)
    exact = x.astype(np.float64)
    for d in (0, 1):
        np.testing.assert_allclose(m.sum(d).numpy(), exact.sum(d), rtol=1e-4, atol=2e-4)
        np.testing.assert_allclose(m.sum(d).numpy(), t.sum(d).numpy(), rtol=1e-4, atol=2e-4)
        np.testing.assert_array_equal(m.amax(d).numpy(), x.max(d))
        np.testing.assert_array_equal(m.amin(d).numpy(), x.min(d))
    x[rows // 2, 7] = np.nan
    x[rows - 1, 8] = np.nan
    x[0, 9] = np.nan
    m, t = minitorch.from_numpy(x), torch.from_numpy(x)
    got = m.sum(0).numpy()
    assert np.isnan(got[7:10]).all() and not np.isnan(np.delete(got, [7, 8, 9])).any()
    for op in ("amax", "amin"):  # NaN in either half of the rows, or the first or last row, propagates
        np.testing.assert_array_equal(getattr(m, op)(0).numpy(), getattr(t, op)(0).numpy())


@pytest.mark.parametrize("make", [lambda x: x.repeat(1, 1), lambda x: x.repeat(1, 1, 1), lambda x: x.tile((1,)),
                                  lambda x: x[:, :1].repeat(1, 1)])
def test_repeat_by_ones_is_a_new_tensor(make):
    x = minitorch.zeros(2, 3)
    y = make(x)
    y.add_(1)  # a repeat never aliases its input, even when every count is 1
    assert x.sum().item() == 0.0 and y.min().item() == 1.0
    leaf = minitorch.ones(2, 3, requires_grad=True)
    r = make(leaf)
    r.mul_(2)  # not a view of the leaf: no in-place error
    r.sum().backward()
    assert leaf.grad.sum().item() == 2.0 * r.numel()
