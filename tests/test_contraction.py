"""Contractions, products, shape and indexing ops beyond the op table: PyTorch as the oracle for values, gradients,
dtypes and errors; numpy where PyTorch itself cannot serve (its kron backward on non-contiguous inputs)."""
import warnings

import numpy as np
import pytest

import minitorch
from minitorch.ops import contraction, launch

torch = pytest.importorskip("torch")


def _data(rng, shape, dtype="float64", kind="real"):
    if dtype in ("int64", "int32"):
        return rng.integers(-3, 4, shape).astype(dtype)
    return rng.uniform(-2, 2, shape).astype(dtype)


def _both(arrays, device="cpu", grad=True):
    """The same data as minitorch and torch leaves (floating ones require grad when ``grad``)."""
    mt, th = [], []
    for a in arrays:
        g = grad and a.dtype.kind == "f"
        mt.append(minitorch.tensor(a, device=device, requires_grad=g))
        th.append(torch.tensor(a, requires_grad=g))
    return mt, th


def _close(got, want, tol=1e-9):
    want = want.detach().numpy() if isinstance(want, torch.Tensor) else np.asarray(want)
    assert tuple(got.shape) == tuple(want.shape)
    if isinstance(got, minitorch.Tensor):
        assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1], (got.dtype, want.dtype)
        got = got.detach().cpu().numpy()
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol, equal_nan=True)


def _check_grads(rm, rt, mt, th, rng, tol=1e-9):
    """Backward of the same random linear functional in both libraries; input gradients must agree."""
    w = rng.standard_normal(tuple(rt.shape))
    (rm * minitorch.tensor(w, dtype=rm.dtype, device=rm.device)).sum().backward()
    (rt * torch.tensor(w, dtype=rt.dtype)).sum().backward()
    for a, b in zip(mt, th):
        if not b.requires_grad:
            continue
        want = np.zeros(tuple(b.shape)) if b.grad is None else b.grad.numpy()
        got = np.zeros(tuple(a.shape)) if a.grad is None else a.grad.cpu().numpy()
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


def compare(fn, shapes, seed=0, dtype="float64", grad=True, tol=1e-9, device="cpu", permute=False):
    """fn(module, *tensors) in minitorch and torch: values, dtypes and (float) gradients. ``permute`` feeds
    transposed (non-contiguous) views of the same values."""
    rng = np.random.default_rng(seed)
    arrays = [_data(rng, s, dtype) for s in shapes]
    if permute:
        stored = [np.ascontiguousarray(a.T) for a in arrays]
        mt, th = _both(stored, device, grad)
        vm, vt = [t.permute(*reversed(range(t.dim()))) for t in mt], [t.permute(*reversed(range(t.dim()))) for t in th]
    else:
        mt, th = _both(arrays, device, grad)
        vm, vt = mt, th
    rm, rt = fn(minitorch, *vm), fn(torch, *vt)
    _close(rm, rt, tol)
    if grad and dtype.startswith("float") and rt.requires_grad:
        _check_grads(rm, rt, mt, th, rng, tol)
    return rm


# ---------------------------------------------------------------------------------------------------------------
# einsum
# ---------------------------------------------------------------------------------------------------------------
EQUATIONS = [
    ("bij,bjk->bik", [(3, 4, 5), (3, 5, 2)]),
    ("bhqd,bhkd->bhqk", [(2, 3, 4, 5), (2, 3, 6, 5)]),
    ("bhqk,bhkd->bhqd", [(2, 3, 4, 6), (2, 3, 6, 5)]),
    ("ij,jk", [(3, 4), (4, 5)]),
    ("ij,kj->ik", [(3, 4), (5, 4)]),
    ("i,i->", [(6,), (6,)]),
    ("i,j->ij", [(3,), (4,)]),
    ("ij->ji", [(3, 4)]),
    ("ii->i", [(4, 4)]),
    ("ii", [(4, 4)]),
    ("iij->j", [(3, 3, 2)]),
    ("ijk->", [(2, 3, 4)]),
    ("ijk->j", [(2, 3, 4)]),
    ("ij,ij->ij", [(3, 4), (3, 4)]),
    ("ij,j->i", [(3, 4), (4,)]),
    ("ij,k->i", [(3, 4), (5,)]),
    ("...ij,...jk->...ik", [(2, 1, 3, 4), (5, 4, 2)]),
    ("i...j,j...->...i", [(3, 2, 4), (4, 2)]),
    ("...,...->...", [(2, 3), (3,)]),
    ("b...,b...->b", [(2, 3, 4), (2, 3, 4)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]),
    ("bn,anm,bm->ba", [(2, 3), (4, 3, 5), (2, 5)]),
    ("ab,bc,cd,de->ae", [(2, 3), (3, 2), (2, 4), (4, 3)]),
    ("ij,jk->ik", [(3, 4), (1, 5)]),
    ("ij,ij->", [(1, 4), (3, 1)]),
    ("Ab,bA->", [(3, 4), (4, 3)]),
    ("abc,cba->ab", [(2, 3, 4), (4, 3, 2)]),
]


@pytest.mark.parametrize("eq, shapes", EQUATIONS, ids=[e for e, _ in EQUATIONS])
def test_einsum_matches_torch(eq, shapes):
    compare(lambda m, *ts: m.einsum(eq, *ts), shapes)


@pytest.mark.parametrize("eq, shapes", EQUATIONS[:6] + EQUATIONS[16:20],
                         ids=[e for e, _ in EQUATIONS[:6] + EQUATIONS[16:20]])
def test_einsum_non_contiguous_operands(eq, shapes):
    compare(lambda m, *ts: m.einsum(eq, *ts), shapes, seed=1, permute=True)


@pytest.mark.parametrize("eq, shapes", [("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]), ("ii->i", [(3, 3)]),
                                        ("ij->", [(3, 4)]), ("i,j", [(2,), (3,)])])
def test_einsum_int64(eq, shapes):
    compare(lambda m, *ts: m.einsum(eq, *ts), shapes, dtype="int64")


def test_einsum_operand_list_and_sublist_format():
    rng = np.random.default_rng(2)
    a, b = _data(rng, (3, 4)), _data(rng, (4, 5))
    (ma, mb), (ta, tb) = _both([a, b], grad=False)
    want = torch.einsum("ij,jk->ik", ta, tb).numpy()
    _close(minitorch.einsum("ij,jk->ik", [ma, mb]), want)
    _close(minitorch.einsum(ma, [0, 1], mb, [1, 2], [0, 2]), want)
    _close(minitorch.einsum(ma, [Ellipsis, 1], mb, [1, 2]), torch.einsum(ta, [Ellipsis, 1], tb, [1, 2]))


def test_einsum_spaces_are_ignored():
    compare(lambda m, a, b: m.einsum(" ij , jk -> ik ", a, b), [(2, 3), (3, 4)])


def test_einsum_contracts_each_pair_with_one_gemm(monkeypatch):
    calls = []
    for name in ("bmm", "mm"):  # the two GEMM launchers (batched, and plain 2-D)
        real = getattr(launch, name)

        def counting(a, b, real=real):
            calls.append((a.shape, b.shape))
            return real(a, b)
        monkeypatch.setattr(launch, name, counting)
    q = minitorch.randn(2, 3, 8, 4)
    k = minitorch.randn(2, 3, 6, 4)
    minitorch.einsum("bhqd,bhkd->bhqk", q, k)
    assert len(calls) == 1
    calls.clear()
    minitorch.einsum("ij,jk,kl->il", minitorch.randn(2, 3), minitorch.randn(3, 4), minitorch.randn(4, 5))
    assert len(calls) == 2


def test_einsum_contracts_the_smallest_pair_first(monkeypatch):
    """'ij,kl,jl->ik' left to right would build the (i, j, k, l) outer product; the smallest result comes first."""
    sizes = []
    for name in ("bmm", "mm"):
        real = getattr(launch, name)

        def recording(a, b, real=real):
            out = real(a, b)
            sizes.append(out.numel())
            return out
        monkeypatch.setattr(launch, name, recording)
    compare(lambda m, a, b, c: m.einsum("ij,kl,jl->ik", a, b, c), [(2, 30), (3, 40), (30, 40)], grad=False)
    assert len(sizes) == 2 and max(sizes) <= 2 * 40


@pytest.mark.parametrize("eq, shapes", [("bij,bjk->bik", [(32, 128, 64), (32, 64, 128)]),
                                        ("bhqd,bhkd->bhqk", [(8, 8, 128, 64), (8, 8, 128, 64)])])
def test_einsum_attention_sizes_match_torch(eq, shapes):
    compare(lambda m, *ts: m.einsum(eq, *ts), shapes, dtype="float32", grad=False, tol=2e-4)


EINSUM_ERRORS = [
    (("ij,jk", (2, 3)), RuntimeError, "fewer operands were provided than specified"),
    (("ij", (2, 3), (3, 4)), RuntimeError, "more operands were provided than specified"),
    (("ijk,jk", (2, 3), (3, 4)), RuntimeError, r"number of subscripts in the equation \(3\) does not match the "
                                               r"number of dimensions \(2\) for operand 0 and no ellipsis"),
    (("i...jk", (2, 3)), RuntimeError, r"number of subscripts in the equation \(3\) is more than the number of "
                                       r"dimensions \(2\) for operand 0"),
    (("i1,jk", (2, 3), (3, 4)), RuntimeError, "invalid subscript given at index 1 in the equation string"),
    (("ij->j->k", (2, 3)), RuntimeError, "invalid subscript given at index 5"),
    (("ij,jk->ii", (2, 3), (3, 4)), RuntimeError, "output subscript i appears more than once in the output"),
    (("ij,jk->z", (2, 3), (3, 4)), RuntimeError, "output subscript z does not appear in the equation"),
    (("ij,kk->ij", (2, 3), (3, 4)), RuntimeError, "subscript k is repeated for operand 1 but the sizes don't match, "
                                                  "4 != 3"),
    (("ij,jk->ik", (2, 3), (4, 4)), RuntimeError, "subscript j has size 4 for operand 1 which does not broadcast "
                                                  "with previously seen size 3"),
    (("...ij,...jk", (2, 2, 3), (5, 3, 4)), RuntimeError, "dimension 0 covered by ellipsis in operand 1has size 5"),
    (("i..j,jk", (2, 3), (3, 4)), RuntimeError, "found '.' for operand 0 that is not part of any ellipsis"),
    (("ij->..", (2, 3)), RuntimeError, r"found '.' for output that is not part of any ellipsis \(...\)"),
]


@pytest.mark.parametrize("args, exc, match", EINSUM_ERRORS, ids=[a[0] for a, _, _ in EINSUM_ERRORS])
def test_einsum_errors_match_torch(args, exc, match):
    eq, shapes = args[0], args[1:]
    for m in (torch, minitorch):
        with pytest.raises(exc, match=match):
            m.einsum(eq, *[m.ones(*s) for s in shapes])


def test_einsum_argument_errors():
    with pytest.raises(ValueError, match="must specify the equation string and at least one operand"):
        minitorch.einsum("ij,jk")
    with pytest.raises(TypeError, match="expected Tensor as element 1 in argument 1, but got int"):
        minitorch.einsum("ij,jk->ik", minitorch.ones(2, 3), 3)
    with pytest.raises(RuntimeError, match="expected scalar type Float but found Double"):
        minitorch.einsum("ij,jk->ik", minitorch.ones(2, 3), minitorch.ones(3, 4, dtype=minitorch.float64))
    for m in (torch, minitorch):
        with pytest.raises(NotImplementedError, match="\"bmm\" not implemented for 'Bool'"):
            m.einsum("ij,j->i", m.ones(2, 3, dtype=m.bool), m.ones(3, dtype=m.bool))


# ---------------------------------------------------------------------------------------------------------------
# tensordot / kron / trace / cross
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dims, shapes", [(2, [(2, 3, 4), (3, 4, 5)]), (0, [(2, 3), (4,)]), (1, [(2, 3), (3, 4)]),
                                          (([1, 0], [0, 2]), [(2, 3, 4), (3, 5, 2)]),
                                          ([[-1], [0]], [(2, 3), (3, 4)]), ((), [(2,), (3,)])])
def test_tensordot_matches_torch(dims, shapes):
    if dims == ():
        dims = ([], [])
    compare(lambda m, a, b: m.tensordot(a, b, dims=dims), shapes)


def test_tensordot_tensor_dims():
    for d in ([[0], [1]], 1):
        compare(lambda m, a, b: m.tensordot(a, b, dims=m.tensor(d)), [(3, 2), (2, 3)], grad=False)


@pytest.mark.parametrize("kw, exc, match", [
    (dict(dims=-1), RuntimeError, "tensordot expects dims >= 0, but got dims=-1"),
    (dict(dims=3), RuntimeError, r"tensordot expects dims < ndim_a or ndim_b, but got dims=3"),
    (dict(dims=([0], [1, 0])), RuntimeError, "both dimension lists should have same length"),
    (dict(dims=([0], [0])), RuntimeError, "contracted dimensions need to match, but first has size 2 in dim 0 and "
                                          "second has size 3 in dim 0"),
    (dict(dims=1.0), RuntimeError, "tensordot expects dims to be int or tuple"),
    (dict(dims=(1, 0)), TypeError, "must be tuple of ints, not int"),
])
def test_tensordot_errors(kw, exc, match):
    for m in (torch, minitorch):
        with pytest.raises(exc, match=match):
            m.tensordot(m.ones(2, 3), m.ones(3, 2), **kw)
    with pytest.raises(RuntimeError, match="both inputs should have same dtype"):
        minitorch.tensordot(minitorch.ones(2), minitorch.ones(2, dtype=minitorch.float64), dims=0)


@pytest.mark.parametrize("shapes", [[(2, 3), (4, 2, 2)], [(), (3,)], [(2,), (3, 1)], [(2, 1, 3), (1, 2, 2)]])
def test_kron_matches_torch(shapes):
    compare(lambda m, a, b: m.kron(a, b), shapes)
    compare(lambda m, a, b: a.kron(b), shapes, dtype="int64")


def test_kron_of_non_contiguous_inputs_against_numpy():
    # torch's own kron backward fails on transposed inputs, so numpy and a sum check serve here
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((3, 2)), rng.standard_normal((4, 2))
    ta = minitorch.tensor(a.T.copy(), requires_grad=True)
    tb = minitorch.tensor(b.T.copy(), requires_grad=True)
    r = minitorch.kron(ta.t(), tb.t())
    _close(r, np.kron(a, b))
    r.sum().backward()
    np.testing.assert_allclose(ta.grad.numpy().T, np.full_like(a, b.sum()))
    np.testing.assert_allclose(tb.grad.numpy().T, np.full_like(b, a.sum()))


def test_kron_dtype_promotion_and_out():
    r = minitorch.kron(minitorch.ones(2, dtype=minitorch.int64), minitorch.ones(2, 2, dtype=minitorch.int32))
    assert r.dtype == minitorch.int64 and r.shape == (2, 4)
    out = minitorch.empty(4, 4)
    a, b = minitorch.randn(2, 2), minitorch.randn(2, 2)
    assert minitorch.kron(a, b, out=out) is out
    np.testing.assert_allclose(out.numpy(), np.kron(a.numpy(), b.numpy()), rtol=1e-6)


def test_trace():
    compare(lambda m, x: m.trace(x), [(3, 5)])
    compare(lambda m, x: x.trace(), [(4, 2)], dtype="int64")
    r = minitorch.trace(minitorch.ones(3, 3, dtype=minitorch.int32))
    assert r.dtype == torch_like_int(torch.trace(torch.ones(3, 3, dtype=torch.int32)).dtype)
    with pytest.raises(RuntimeError, match="trace: expected a matrix, but got tensor with dim 1"):
        minitorch.trace(minitorch.ones(3))
    with pytest.raises(NotImplementedError, match="\"trace\" not implemented for 'Bool'"):
        minitorch.trace(minitorch.ones(2, 2, dtype=minitorch.bool))


def torch_like_int(dt):
    return getattr(minitorch, str(dt).split(".")[-1])


def test_cross_dims_and_broadcasting():
    compare(lambda m, a, b: m.cross(a, b, dim=-1), [(4, 3), (4, 3)])
    compare(lambda m, a, b: m.cross(a, b, dim=0), [(3, 4), (3, 1)])
    compare(lambda m, a, b: a.cross(b, dim=1), [(2, 3, 2), (2, 3, 2)], dtype="int64")
    compare(lambda m, a, b: m.linalg.cross(a, b) if m is torch else contraction.linalg_cross(a, b),
            [(2, 3), (1, 3)])


def test_cross_default_dim_warns_once_and_takes_first_dim_of_size_3(monkeypatch):
    monkeypatch.setattr(contraction, "_WARNED", set())
    a, b = minitorch.randn(3, 3, 2), minitorch.randn(3, 3, 2)
    with pytest.warns(UserWarning, match="Using torch.cross without specifying the dim arg is deprecated"):
        r = minitorch.cross(a, b)
    _close(r, np.cross(a.numpy(), b.numpy(), axis=0), 1e-5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        minitorch.cross(a, b)  # only once per process, as PyTorch's TORCH_WARN_ONCE


def test_cross_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for m in (torch, minitorch):
            with pytest.raises(RuntimeError, match="no dimension of size 3 in input"):
                m.cross(m.ones(4, 2), m.ones(4, 2))
            with pytest.raises(RuntimeError, match="linalg.cross: inputs dimension 0 must have length 3. Got 4 and 4"):
                m.cross(m.ones(4, 3), m.ones(4, 3), dim=0)
            with pytest.raises(RuntimeError, match="inputs must have the same number of dimensions"):
                m.cross(m.ones(4, 3), m.ones(3), dim=1)
            with pytest.raises(RuntimeError, match="The size of tensor a \\(4\\) must match the size of tensor b"):
                m.cross(m.ones(4, 3), m.ones(2, 3), dim=1)
            with pytest.raises(RuntimeError, match="expected scalar type Float but found Double"):
                m.cross(m.ones(4, 3), m.ones(4, 3, dtype=m.float64), dim=1)
            with pytest.raises(NotImplementedError, match="\"cross\" not implemented for 'Bool'"):
                m.cross(m.ones(3, dtype=m.bool), m.ones(3, dtype=m.bool), dim=0)


# ---------------------------------------------------------------------------------------------------------------
# cdist / dist
# ---------------------------------------------------------------------------------------------------------------
P_VALUES = [0, 1, 2, 3, 0.5, 1.5, float("inf")]


@pytest.mark.parametrize("p", P_VALUES)
def test_cdist_values_and_gradients_match_torch(p):
    compare(lambda m, a, b: m.cdist(a, b, p=p), [(2, 4, 3), (2, 5, 3)], tol=1e-8)
    compare(lambda m, a, b: m.cdist(a, b, p=p), [(4, 3), (1, 5, 3)], seed=1, tol=1e-8)


@pytest.mark.parametrize("mode", ["use_mm_for_euclid_dist", "donot_use_mm_for_euclid_dist",
                                  "use_mm_for_euclid_dist_if_necessary"])
def test_cdist_compute_modes_match_torch(mode):
    compare(lambda m, a, b: m.cdist(a, b, compute_mode=mode), [(30, 4), (7, 4)], tol=1e-8)


@pytest.mark.parametrize("p", P_VALUES)
def test_cdist_zero_distances_get_zero_gradient_as_torch(p):
    rng = np.random.default_rng(4)
    x = rng.uniform(-1, 1, (3, 2))
    y = np.concatenate([x[:2], rng.uniform(-1, 1, (2, 2))])  # rows 0 and 1 of y equal rows of x
    for mode in ("use_mm_for_euclid_dist", "donot_use_mm_for_euclid_dist"):
        (mx, my), (tx, ty) = _both([x, y])
        rm = minitorch.cdist(mx, my, p=p, compute_mode=mode)
        rt = torch.cdist(tx, ty, p=p, compute_mode=mode)
        _close(rm, rt, 1e-7)
        _check_grads(rm, rt, [mx, my], [tx, ty], rng, 1e-7)


@pytest.mark.parametrize("p", [1, 3, 0.5, float("inf")])
def test_cdist_in_row_chunks_matches_torch(p, monkeypatch):
    monkeypatch.setattr(contraction, "_CHUNK", 40)  # a few rows of x1 at a time: several chunks, a short last one
    compare(lambda m, a, b: m.cdist(a, b, p=p), [(2, 7, 3), (2, 5, 3)], tol=1e-8)


@pytest.mark.parametrize("p", [1, 2, 3, float("inf")])
def test_cdist_gradcheck(p):
    rng = np.random.default_rng(5)
    a = minitorch.tensor(rng.standard_normal((3, 2)), requires_grad=True)
    b = minitorch.tensor(rng.standard_normal((4, 2)), requires_grad=True)
    assert minitorch.autograd.gradcheck(lambda x, y: minitorch.cdist(x, y, p=p), (a, b), eps=1e-6, atol=1e-5)


def test_cdist_float32_large_uses_gemm_and_matches_torch():
    compare(lambda m, a, b: m.cdist(a, b), [(2, 300, 16), (2, 200, 16)], dtype="float32", tol=2e-4)


def test_cdist_errors():
    cases = [
        ((minitorch.ones(3), minitorch.ones(3, 3)), {}, RuntimeError,
         "cdist only supports at least 2D tensors, X1 got: 1D"),
        ((minitorch.ones(3, 2), minitorch.ones(3, 3)), {}, RuntimeError, "X1 and X2 must have the same number of "
                                                                          "columns. X1: 2 X2: 3"),
        ((minitorch.ones(3, 2), minitorch.ones(3, 2)), dict(p=-1), RuntimeError, "only supports non-negative p"),
        ((minitorch.ones(3, 2, dtype=minitorch.int64),) * 2, {}, RuntimeError, "cdist only supports floating-point "
                                                                               "dtypes, X1 got: Long"),
        ((minitorch.ones(2, 3, 2), minitorch.ones(3, 3, 2)), {}, RuntimeError, "must match the size of tensor b"),
        ((minitorch.ones(3, 2), minitorch.ones(3, 2)), dict(compute_mode="foo"), ValueError,
         "foo is not a valid value for compute_mode"),
    ]
    for args, kw, exc, match in cases:
        with pytest.raises(exc, match=match):
            minitorch.cdist(*args, **kw)


@pytest.mark.parametrize("p", [2, 1, 3, 0, float("inf"), -float("inf")])
def test_dist_matches_torch(p):
    compare(lambda m, a, b: m.dist(a, b, p), [(3, 4), (4,)], grad=p != 0)
    compare(lambda m, a, b: a.dist(b, p=p), [(2, 3), (2, 3)], seed=2, grad=p != 0)


def test_dist_errors():
    with pytest.raises(RuntimeError, match="input dtype should be either floating point"):
        minitorch.dist(minitorch.ones(3, dtype=minitorch.int64), minitorch.ones(3, dtype=minitorch.int64))


# ---------------------------------------------------------------------------------------------------------------
# diag_embed / block_diag / meshgrid / cartesian_prod / tril_indices
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("args", [(0, -2, -1), (1, -2, -1), (-2, -1, -2), (1, 0, 2), (2, 2, 0), (0, 1, 3)])
def test_diag_embed_matches_torch(args):
    compare(lambda m, x: m.diag_embed(x, *args), [(2, 3, 4)])
    compare(lambda m, x: x.diag_embed(*args), [(3, 2, 2)], dtype="int64")


def test_diag_embed_errors():
    for m in (torch, minitorch):
        with pytest.raises(RuntimeError, match="diagonal dimensions cannot be identical 1, 1"):
            m.diag_embed(m.ones(2, 3), 0, 1, 1)
        with pytest.raises(IndexError, match="Dimension out of range"):
            m.diag_embed(m.ones(2, 3), 1, 0, 3)


def test_block_diag_matches_torch():
    compare(lambda m, a, b, c: m.block_diag(a, b, c), [(2, 3), (4,), ()])
    compare(lambda m, a, b: m.block_diag(a, b), [(2, 0), (0, 3)], grad=False)
    rng = np.random.default_rng(6)
    a, b = rng.standard_normal((2, 2)), rng.integers(0, 5, (1, 3))
    ma, mb = minitorch.tensor(a), minitorch.tensor(b)
    _close(minitorch.block_diag(ma, mb), torch.block_diag(torch.tensor(a), torch.tensor(b)))
    assert minitorch.block_diag().shape == torch.block_diag().shape


def test_block_diag_errors():
    for m in (torch, minitorch):
        with pytest.raises(RuntimeError, match="Input tensors must have 2 or fewer dimensions. Input 0 has 3"):
            m.block_diag(m.ones(2, 2, 2))


def test_meshgrid_matches_torch_and_warns_once_without_indexing(monkeypatch):
    monkeypatch.setattr(contraction, "_WARNED", set())
    rng = np.random.default_rng(7)
    a, b, c = rng.standard_normal(2), rng.standard_normal(3), np.array(1.5)
    (ma, mb, mc), (ta, tb, tc) = _both([a, b, c], grad=False)
    with pytest.warns(UserWarning, match="in an upcoming release, it will be required to pass the indexing"):
        got = minitorch.meshgrid(ma, mb)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = torch.meshgrid(ta, tb)
    for g, w in zip(got, want):
        _close(g, w)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        minitorch.meshgrid(ma, mb)
    for indexing in ("ij", "xy"):
        for args in ((ma, mb, mc), [ma, mc, mb], (mb,)):
            targs = [{id(ma): ta, id(mb): tb, id(mc): tc}[id(t)] for t in args]
            got = minitorch.meshgrid(*args, indexing=indexing) if isinstance(args, tuple) else \
                minitorch.meshgrid(args, indexing=indexing)
            want = torch.meshgrid(*targs, indexing=indexing)
            assert len(got) == len(want)
            for g, w in zip(got, want):
                _close(g, w)


def test_meshgrid_outputs_are_views_and_differentiable():
    a = minitorch.tensor([1.0, 2.0], requires_grad=True)
    b = minitorch.tensor([3.0, 4.0, 5.0])
    x, y = minitorch.meshgrid(a, b, indexing="ij")
    assert y.untyped_storage_id() == b.untyped_storage_id()
    x.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [3.0, 3.0])


def test_meshgrid_errors():
    for m in (torch, minitorch):
        with pytest.raises(RuntimeError, match="meshgrid expects all tensors to have the same dtype"):
            m.meshgrid(m.ones(2), m.ones(3, dtype=m.int64), indexing="ij")
        with pytest.raises(RuntimeError, match="Expected 0D or 1D tensor in the tensor list"):
            m.meshgrid(m.ones(2, 2), indexing="ij")
        with pytest.raises(RuntimeError, match="indexing must be one of \"xy\" or \"ij\", but received: foo"):
            m.meshgrid(m.ones(2), indexing="foo")
        with pytest.raises(RuntimeError, match="meshgrid expects a non-empty TensorList"):
            m.meshgrid(indexing="ij")


def test_cartesian_prod_matches_torch():
    compare(lambda m, a, b, c: m.cartesian_prod(a, b, c), [(2,), (3,), (1,)])
    compare(lambda m, a: m.cartesian_prod(a), [(3,)])
    compare(lambda m, a, b: m.cartesian_prod(a, b), [(2,), (3,)], dtype="int64")
    for m in (torch, minitorch):
        with pytest.raises(RuntimeError, match=r"Expect a 1D vector, but got shape \[2, 2\]"):
            m.cartesian_prod(m.ones(2, 2))


@pytest.mark.parametrize("row, col, offset", [(3, 3, 0), (4, 3, 1), (3, 5, -1), (0, 3, 0), (3, 0, 0), (5, 2, -7),
                                              (2, 6, 9), (1, 1, 0)])
def test_tril_triu_indices_match_torch(row, col, offset):
    for name in ("tril_indices", "triu_indices"):
        got = getattr(minitorch, name)(row, col, offset)
        want = getattr(torch, name)(row, col, offset)
        assert got.dtype == minitorch.int64
        _close(got, want)
    got = minitorch.tril_indices(row, col, offset, dtype=minitorch.int32)
    assert got.dtype == minitorch.int32
    _close(got, torch.tril_indices(row, col, offset, dtype=torch.int32))


def test_tril_indices_errors():
    for m in (torch, minitorch):
        with pytest.raises(RuntimeError, match="row must be non-negative, got-1"):
            m.tril_indices(-1, 2)
        with pytest.raises(RuntimeError, match="col must be non-negative, got-1"):
            m.triu_indices(2, -1)
        with pytest.raises(NotImplementedError, match="\"tril_indices\" not implemented for 'Float'"):
            m.tril_indices(3, 3, dtype=m.float32)


# ---------------------------------------------------------------------------------------------------------------
# roll / rot90 / diff / unfold
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("shifts, dims", [(1, 0), (-7, 1), ((1, 2), (0, 1)), ((3, -1), (1, 1)), (5, None),
                                          ([2], [-1]), (0, 0)])
def test_roll_matches_torch(shifts, dims):
    compare(lambda m, x: m.roll(x, shifts, dims), [(3, 4)])
    compare(lambda m, x: x.roll(shifts, dims), [(3, 4)], dtype="int64", permute=True)


def test_roll_of_empty_and_scalar():
    compare(lambda m, x: m.roll(x, 2, 0), [(0, 3)], grad=False)
    compare(lambda m, x: m.roll(x, 2), [()])


def test_roll_errors():
    for m in (torch, minitorch):
        with pytest.raises(RuntimeError, match="shifts and dimensions must align. shifts: 2, dims:0"):
            m.roll(m.ones(2, 3), (1, 2))
        with pytest.raises(RuntimeError, match="shifts and dimensions must align. shifts: 2, dims:1"):
            m.roll(m.ones(2, 3), (1, 2), (0,))
        with pytest.raises(IndexError, match="Dimension out of range"):
            m.roll(m.ones(2, 3), 1, 5)


@pytest.mark.parametrize("k", [-5, -1, 0, 1, 2, 3, 6])
@pytest.mark.parametrize("dims", [(0, 1), (1, 0), (-1, 0), (2, 1)])
def test_rot90_matches_torch(k, dims):
    compare(lambda m, x: m.rot90(x, k, dims), [(2, 3, 4)])


def test_rot90_errors():
    for m in (torch, minitorch):
        x = m.ones(2, 3)
        with pytest.raises(RuntimeError, match="expected total rotation dims == 2, but got dims = 1"):
            m.rot90(x, 1, [0])
        with pytest.raises(RuntimeError, match="expected total dims >= 2, but got total dims = 1"):
            m.rot90(m.ones(3), 1, [0, 1])
        with pytest.raises(RuntimeError, match="rotation dims to be different, but got dim0 = 0 and dim1 = -2"):
            m.rot90(x, 1, [0, -2])
        with pytest.raises(IndexError, match="Dimension out of range"):
            m.rot90(x, 1, [0, 2])


@pytest.mark.parametrize("n, dim", [(1, -1), (2, 0), (0, 1), (5, 1), (3, 1)])
def test_diff_matches_torch(n, dim):
    compare(lambda m, x: m.diff(x, n, dim), [(4, 3)])
    compare(lambda m, x: x.diff(n=n, dim=dim), [(4, 3)], dtype="int64")


def test_diff_prepend_append_and_bool():
    compare(lambda m, x, p, a: m.diff(x, 2, 0, prepend=p, append=a), [(3, 2), (1, 2), (2, 2)])
    compare(lambda m, x, a: m.diff(x, append=a), [(3, 2), (3, 1)])
    b = np.array([True, False, False, True, True])
    _close(minitorch.diff(minitorch.tensor(b)), torch.diff(torch.tensor(b)))
    r = minitorch.diff(minitorch.ones(2, 3), prepend=minitorch.ones(2, 1, dtype=minitorch.float64))
    assert r.dtype == minitorch.float64  # the joined tensor promotes, as torch.cat


def test_diff_errors():
    for m in (torch, minitorch):
        with pytest.raises(RuntimeError, match="diff expects input to be at least one-dimensional"):
            m.diff(m.tensor(1.0))
        with pytest.raises(RuntimeError, match="order must be non-negative but got -1"):
            m.diff(m.ones(3), n=-1)
        with pytest.raises(RuntimeError, match="diff expects prepend or append to be the same dimension as input"):
            m.diff(m.ones(2, 3), prepend=m.ones(3))
        with pytest.raises(RuntimeError, match=r"input.size\(0\) = 2, but got tensor.size\(0\) = 1"):
            m.diff(m.ones(2, 3), prepend=m.ones(1, 1))


@pytest.mark.parametrize("dim, size, step", [(0, 2, 1), (1, 3, 2), (-1, 1, 1), (1, 5, 1), (0, 3, 3), (1, 0, 1)])
def test_unfold_matches_torch(dim, size, step):
    compare(lambda m, x: x.unfold(dim, size, step), [(4, 5)], grad=size > 0)
    compare(lambda m, x: x.unfold(dim, size, step), [(4, 5)], permute=True, grad=size > 0)


def test_unfold_is_a_view_and_of_scalars():
    x = minitorch.arange(10.0)
    u = x.unfold(0, 4, 3)
    assert u.untyped_storage_id() == x.untyped_storage_id()
    assert u.stride() == torch.arange(10.0).unfold(0, 4, 3).stride()
    x[4] = -1.0
    assert u[1, 1].item() == -1.0
    compare(lambda m, s: s.unfold(0, 1, 1), [()])


def test_unfold_errors():
    for m in (torch, minitorch):
        x = m.ones(2, 3)
        with pytest.raises(RuntimeError, match="maximum size for tensor at dimension 1 is 3 but size is 4"):
            x.unfold(1, 4, 1)
        with pytest.raises(RuntimeError, match="step is 0 but must be > 0"):
            x.unfold(1, 2, 0)
        with pytest.raises(RuntimeError, match="size is -1 but must be >= 0"):
            x.unfold(1, -1, 1)


# ---------------------------------------------------------------------------------------------------------------
# index_put / scatter_reduce
# ---------------------------------------------------------------------------------------------------------------
def _ix(m, v):
    return m.tensor(v)


INDEX_PUTS = [
    ("repeats_accumulate", lambda m: (_ix(m, [0, 2, 0, 0]),), (4,), True),
    ("repeats_set", lambda m: (_ix(m, [1, 2]),), (2, 4), False),
    ("two_indices", lambda m: (_ix(m, [0, 2, 0]), _ix(m, [1, 3, 1])), (3,), True),
    ("broadcast_value", lambda m: (_ix(m, [[0], [2]]), _ix(m, [1, 3])), (), True),
    ("negative", lambda m: (_ix(m, [-1, -3]),), (1, 4), True),
    ("bool_mask", lambda m: (_ix(m, [True, False, True]),), (4,), False),
    ("bool_mask_2d_accumulate", lambda m: (_ix(m, [[True, False, True, False]] * 3),), (6,), True),
]


@pytest.mark.parametrize("name, indices, vshape, accumulate", INDEX_PUTS, ids=[c[0] for c in INDEX_PUTS])
def test_index_put_matches_torch(name, indices, vshape, accumulate):
    compare(lambda m, x, v: m.index_put(x, indices(m), v, accumulate), [(3, 4), vshape])
    compare(lambda m, x, v: x.index_put(indices(m), v, accumulate=accumulate), [(3, 4), vshape], dtype="int64")


def test_index_put_in_place():
    rng = np.random.default_rng(8)
    x, v = rng.standard_normal((3, 4)), rng.standard_normal(4)
    (mx, mv), (tx, tv) = _both([x, v], grad=False)
    r = mx.index_put_((minitorch.tensor([0, 0, 2]),), mv, accumulate=True)
    tx.index_put_((torch.tensor([0, 0, 2]),), tv, accumulate=True)
    assert r is mx
    _close(mx, tx)
    # in place on a graph tensor: gradients flow to both the base and the values
    (mx, mv), (tx, tv) = _both([x, v])
    ym, yt = mx * 2, tx * 2
    ym.index_put_((minitorch.tensor([1, 1]),), mv, accumulate=True)
    yt.index_put_((torch.tensor([1, 1]),), tv, accumulate=True)
    _check_grads(ym, yt, [mx, mv], [tx, tv], rng)


def test_index_put_errors():
    x = minitorch.ones(2, 3)
    with pytest.raises(RuntimeError, match="Index put requires the source and destination dtypes match, got Float "
                                           "for the destination and Double for the source."):
        x.index_put((minitorch.tensor([0]),), minitorch.tensor(1.0, dtype=minitorch.float64))
    with pytest.raises(IndexError, match="tensors used as indices must be long, int, byte or bool tensors"):
        x.index_put((minitorch.tensor([0.0]),), minitorch.tensor(1.0))
    with pytest.raises(TypeError, match="expected Tensor as element 1 in argument 0, but got NoneType"):
        x.index_put([minitorch.tensor([0]), None], minitorch.tensor(1.0))
    with pytest.raises(RuntimeError, match=r"shape mismatch: value tensor of shape \[3\] cannot be broadcast to "
                                           r"indexing result of shape \[2\]"):
        x.index_put((minitorch.tensor([0]), minitorch.tensor([0, 1])), minitorch.tensor([1.0, 2.0, 3.0]))
    with pytest.raises(TypeError, match="must be tuple of Tensors, not Tensor"):
        x.index_put(minitorch.tensor([0]), minitorch.tensor(1.0))
    with pytest.raises(IndexError, match="index 5 is out of bounds for dimension 0 with size 2"):
        x.index_put((minitorch.tensor([5]),), minitorch.tensor(1.0), accumulate=True)


REDUCES = ["sum", "prod", "mean", "amax", "amin"]


def _scatter_case(rng, shape=(3, 5), nsrc=7, dim=1, dtype="float64", ties=False):
    x = _data(rng, shape, dtype)
    sshape = list(shape)
    sshape[dim] = nsrc
    src = _data(rng, sshape, dtype)
    if ties:
        src = np.round(src)
        x = np.round(x)
    index = rng.integers(0, shape[dim] - 1, sshape)  # the last position is never written
    return x, index, src


@pytest.mark.parametrize("reduce", REDUCES)
@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_scatter_reduce_values_and_gradients_match_torch(reduce, include_self, dim):
    rng = np.random.default_rng(9)
    x, index, src = _scatter_case(rng, dim=dim % 2)
    (mx, ms), (tx, ts) = _both([x, src])
    rm = mx.scatter_reduce(dim, minitorch.tensor(index), ms, reduce, include_self=include_self)
    rt = tx.scatter_reduce(dim, torch.tensor(index), ts, reduce, include_self=include_self)
    _close(rm, rt)
    _check_grads(rm, rt, [mx, ms], [tx, ts], rng)


@pytest.mark.parametrize("reduce", ["amax", "amin", "prod"])
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_gradients_with_ties_and_zeros_match_torch(reduce, include_self):
    rng = np.random.default_rng(10)
    x, index, src = _scatter_case(rng, ties=True)
    if reduce == "prod":
        src[0, :2] = 0.0  # one zero in some groups, two in others
        src[1, 3] = 0.0
        x[2, 0] = 0.0
    (mx, ms), (tx, ts) = _both([x, src])
    rm = minitorch.scatter_reduce(mx, 1, minitorch.tensor(index), ms, reduce, include_self=include_self)
    rt = torch.scatter_reduce(tx, 1, torch.tensor(index), ts, reduce, include_self=include_self)
    _close(rm, rt)
    _check_grads(rm, rt, [mx, ms], [tx, ts], rng)


@pytest.mark.parametrize("reduce", REDUCES)
@pytest.mark.parametrize("dtype", ["int64", "int32", "float32"])
def test_scatter_reduce_dtypes_match_torch(reduce, dtype):
    rng = np.random.default_rng(11)
    x, index, src = _scatter_case(rng, dtype=dtype)
    for inc in (True, False):
        rm = minitorch.tensor(x).scatter_reduce(1, minitorch.tensor(index), minitorch.tensor(src), reduce,
                                                include_self=inc)
        rt = torch.tensor(x).scatter_reduce(1, torch.tensor(index), torch.tensor(src), reduce, include_self=inc)
        _close(rm, rt, 1e-6)


@pytest.mark.parametrize("reduce", REDUCES)
@pytest.mark.parametrize("dtype", ["uint8", "bool"])
def test_scatter_reduce_small_dtypes_match_torch(reduce, dtype):
    rng = np.random.default_rng(15)
    hi = 2 if dtype == "bool" else 256
    x, src = rng.integers(0, hi, (3, 5)).astype(dtype), rng.integers(0, hi, (3, 9)).astype(dtype)
    index = rng.integers(0, 4, (3, 9))
    for inc in (True, False):
        if reduce == "mean" and dtype == "bool":
            for m in (torch, minitorch):
                with pytest.raises(NotImplementedError, match="reduce_mean\" not implemented for 'Bool'"):
                    m.tensor(x).scatter_reduce(1, m.tensor(index), m.tensor(src), reduce, include_self=inc)
            continue
        rm = minitorch.tensor(x).scatter_reduce(1, minitorch.tensor(index), minitorch.tensor(src), reduce,
                                                include_self=inc)
        rt = torch.tensor(x).scatter_reduce(1, torch.tensor(index), torch.tensor(src), reduce, include_self=inc)
        assert rm.dtype == getattr(minitorch, dtype)
        np.testing.assert_array_equal(rm.numpy(), rt.numpy())


@pytest.mark.parametrize("reduce", ["amax", "amin", "sum", "prod", "mean"])
def test_scatter_reduce_nan_propagates_as_torch(reduce):
    x = np.array([[1.0, np.nan, 3.0, 0.0]])
    src = np.array([[np.nan, 2.0, 5.0, -1.0, 4.0]])
    index = np.array([[0, 1, 2, 2, 3]])
    for inc in (True, False):
        rm = minitorch.tensor(x).scatter_reduce(1, minitorch.tensor(index), minitorch.tensor(src), reduce,
                                                include_self=inc)
        rt = torch.tensor(x).scatter_reduce(1, torch.tensor(index), torch.tensor(src), reduce, include_self=inc)
        _close(rm, rt)


def test_scatter_reduce_in_place_and_large():
    rng = np.random.default_rng(12)
    x, index, src = _scatter_case(rng, shape=(200, 300), nsrc=2000, dim=1)
    for reduce in REDUCES:
        mx, tx = minitorch.tensor(x), torch.tensor(x)
        r = mx.scatter_reduce_(1, minitorch.tensor(index), minitorch.tensor(src), reduce)
        tx.scatter_reduce_(1, torch.tensor(index), torch.tensor(src), reduce)
        assert r is mx
        _close(mx, tx, 1e-8)


def test_scatter_reduce_errors():
    x = minitorch.ones(2, 3)
    idx = minitorch.tensor([[0]])
    for m in (torch, minitorch):
        with pytest.raises(RuntimeError, match="reduce argument must be either sum, prod, mean, amax or amin"):
            m.ones(2, 3).scatter_reduce(1, m.tensor([[0]]), m.ones(2, 3), "foo")
        with pytest.raises(RuntimeError, match="Expected self.dtype to be equal to src.dtype"):
            m.ones(2, 3).scatter_reduce(1, m.tensor([[0]]), m.ones(2, 3, dtype=m.float64), "sum")
        with pytest.raises(RuntimeError, match="index 5 is out of bounds for dimension 1 with size 3"):
            m.ones(2, 3).scatter_reduce(1, m.tensor([[5]]), m.ones(2, 3), "sum")
        with pytest.raises(RuntimeError, match=r"Expected index \[1, 4\] to be no larger than self \[2, 3\]"):
            m.ones(2, 3).scatter_reduce(1, m.tensor([[0, 0, 0, 0]]), m.ones(2, 3), "sum")
    with pytest.raises(RuntimeError, match="index -1 is out of bounds for dimension 1 with size 3"):
        x.scatter_reduce(1, minitorch.tensor([[-1]]), x, "amax")
    with pytest.raises(TypeError, match="argument 'src' \\(position 4\\) must be Tensor"):
        x.scatter_reduce(1, idx, 1.0, "sum")


# ---------------------------------------------------------------------------------------------------------------
# memory facts and as_strided
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int32", "uint8", "bool"])
def test_nbytes_itemsize_element_size_match_torch(dtype):
    m = minitorch.zeros(3, 5, dtype=getattr(minitorch, dtype))
    t = torch.zeros(3, 5, dtype=getattr(torch, dtype))
    assert (m.nbytes, m.itemsize, m.element_size()) == (t.nbytes, t.itemsize, t.element_size())
    assert m[:, ::2].nbytes == t[:, ::2].nbytes
    assert isinstance(type(m).nbytes, property) and isinstance(type(m).itemsize, property)


def test_data_ptr_is_the_address_of_the_first_element():
    x = minitorch.arange(12.0).reshape(3, 4)
    arr = x.numpy()
    assert x.data_ptr() == arr.__array_interface__["data"][0]
    assert x[1, 2:].data_ptr() - x.data_ptr() == 6 * x.element_size()
    assert x.t().data_ptr() == x.data_ptr()
    assert x.clone().data_ptr() != x.data_ptr()
    t = torch.arange(12.0).reshape(3, 4)
    assert x[2:, 1:].data_ptr() - x.data_ptr() == t[2:, 1:].data_ptr() - t.data_ptr()


def test_as_strided_matches_torch_with_gradients():
    compare(lambda m, x: m.as_strided(x, (3, 3), (1, 1)), [(6,)])
    compare(lambda m, x: x.as_strided((2, 2), (1, 3), 2), [(3, 3)])
    compare(lambda m, x: m.as_strided(x, (4,), (2,)), [(2, 4)])
    compare(lambda m, x: x.as_strided((0, 2), (1, 1)), [(4,)], grad=False)


def test_as_strided_is_a_view_and_errors():
    x = minitorch.arange(6.0)
    v = x.as_strided((2, 2), (2, 1), 1)
    assert v.untyped_storage_id() == x.untyped_storage_id()
    x[1] = 9.0
    assert v[0, 0].item() == 9.0
    for m in (torch, minitorch):
        with pytest.raises(RuntimeError, match="mismatch in length of strides and shape"):
            m.arange(6.0).as_strided((2, 2), (1,))
        with pytest.raises(RuntimeError, match="out of bounds for storage of size 24"):
            m.arange(6.0).as_strided((3, 3), (3, 1))


# ---------------------------------------------------------------------------------------------------------------
# devices: the same results as the CPU (tiny shapes: CUDA tests also run on the simulator)
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("reduce", REDUCES)
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "uint8", "bool"])
def test_scatter_reduce_device_matches_cpu(device, reduce, dtype):
    rng = np.random.default_rng(13)
    if dtype in ("uint8", "bool"):
        if reduce == "mean" and dtype == "bool":
            pytest.skip("torch has no bool mean")
        hi = 2 if dtype == "bool" else 256
        x, src = rng.integers(0, hi, (2, 4)).astype(dtype), rng.integers(0, hi, (2, 6)).astype(dtype)
        index = rng.integers(0, 3, (2, 6))
    else:
        x, index, src = _scatter_case(rng, shape=(2, 4), nsrc=6, dtype=dtype)
    if dtype.startswith("float"):
        x[0, 1] = np.nan
    for inc in (True, False):
        args = [(minitorch.tensor(x, device=d), minitorch.tensor(index, device=d), minitorch.tensor(src, device=d))
                for d in ("cpu", device)]
        want = args[0][0].scatter_reduce(1, args[0][1], args[0][2], reduce, include_self=inc)
        got = args[1][0].scatter_reduce(1, args[1][1], args[1][2], reduce, include_self=inc)
        assert got.device.type == device and got.dtype == want.dtype
        np.testing.assert_allclose(got.cpu().numpy().astype(float), want.numpy().astype(float), rtol=1e-6,
                                   equal_nan=True)


def test_scatter_reduce_device_gradients_match_torch(device):
    rng = np.random.default_rng(14)
    x, index, src = _scatter_case(rng, shape=(2, 3), nsrc=4)
    for reduce in ("amax", "prod", "mean"):
        (mx, ms), (tx, ts) = _both([x, src], device)
        rm = mx.scatter_reduce(1, minitorch.tensor(index, device=device), ms, reduce)
        rt = tx.scatter_reduce(1, torch.tensor(index), ts, reduce)
        _close(rm, rt)
        _check_grads(rm, rt, [mx, ms], [tx, ts], rng)


def test_contractions_on_device(device):
    compare(lambda m, a, b: m.einsum("bij,bkj->bik", a, b), [(2, 3, 2), (2, 2, 2)], device=device)
    compare(lambda m, a, b: m.cdist(a, b, p=3), [(2, 2), (3, 2)], device=device)
    compare(lambda m, x, v: m.index_put(x, (m.tensor([0, 0]),), v, True) if m is torch else
            m.index_put(x, (m.tensor([0, 0], device=device),), v, True), [(2, 3), (3,)], device=device)
    compare(lambda m, x: x.unfold(1, 2, 1).roll(1, 0), [(2, 3)], device=device)


def test_data_ptr_on_device(device):
    x = minitorch.zeros(4, 5, device=device)
    assert x[1].data_ptr() - x.data_ptr() == 5 * x.element_size()
    assert x.data_ptr() != minitorch.zeros(4, 5, device=device).data_ptr()


def test_tril_indices_on_device(device):
    got = minitorch.tril_indices(3, 4, 1, device=device)
    assert got.device.type == device
    _close(got, torch.tril_indices(3, 4, 1))
