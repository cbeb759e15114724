"""Sparse COO tensors (minitorch.sparse) against PyTorch: construction and its errors, to_dense/to_sparse,
coalescing of repeated indices, sparse @ dense and dense @ sparse with gradients, the elementwise forms PyTorch
allows, repr, and the GCN example's normalisation pipeline; a dense op on a sparse tensor is refused before any
kernel runs."""

import numpy as np
import pytest

import minitorch

RNG = np.random.default_rng(11)
pytestmark = pytest.mark.filterwarnings("ignore:Sparse invariant checks")


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def close(m, t, tol=1e-5):
    if t.is_sparse:
        t = t.to_dense()
    if m.is_sparse:
        m = m.to_dense()
    assert tuple(m.shape) == tuple(t.shape)
    np.testing.assert_allclose(m.detach().numpy(), t.detach().numpy(), rtol=tol, atol=tol)


def coo(lib, idx, vals, size=None, **kw):
    return lib.sparse_coo_tensor(idx, vals, **kw) if size is None else lib.sparse_coo_tensor(idx, vals, size, **kw)


IDX = [[0, 1, 1, 3, 1], [2, 0, 2, 1, 2]]  # (1, 2) twice: an uncoalesced tensor
VALS = [3.0, 4.0, 5.0, -1.5, 2.0]


def test_construct_and_structure(torch):
    m, t = coo(minitorch, IDX, VALS, (4, 3)), coo(torch, IDX, VALS, (4, 3))
    assert isinstance(m, minitorch.Tensor) and m.is_sparse and not minitorch.ones(2).is_sparse
    assert repr(m.layout) == "torch.sparse_coo" and minitorch.ones(1).layout is minitorch.strided
    assert tuple(m.shape) == tuple(t.shape) and m.dtype is minitorch.float32
    assert (m.sparse_dim(), m.dense_dim(), m._nnz(), m.numel(), m.is_coalesced()) == \
        (t.sparse_dim(), t.dense_dim(), t._nnz(), t.numel(), t.is_coalesced())
    close(m, t)
    # the inferred size, and trailing dense dims
    close(coo(minitorch, IDX, VALS), coo(torch, IDX, VALS))
    v = RNG.standard_normal((5, 2)).astype(np.float32)
    close(coo(minitorch, IDX, v, (4, 3, 2)), coo(torch, IDX, torch.from_numpy(v), (4, 3, 2)))
    assert coo(minitorch, IDX, VALS, dtype=minitorch.float64).dtype is minitorch.float64


def test_coalesce_sums_repeats(torch):
    m, t = coo(minitorch, IDX, VALS, (4, 3)).coalesce(), coo(torch, IDX, VALS, (4, 3)).coalesce()
    assert m.is_coalesced() and m._nnz() == t._nnz() == 4
    np.testing.assert_array_equal(m.indices().numpy(), t.indices().numpy())
    np.testing.assert_allclose(m.values().numpy(), t.values().numpy())
    with pytest.raises(RuntimeError, match="Cannot get indices on an uncoalesced tensor"):
        coo(minitorch, IDX, VALS, (4, 3)).indices()
    with pytest.raises(RuntimeError, match="Cannot get values on an uncoalesced tensor"):
        coo(minitorch, IDX, VALS, (4, 3)).values()


@pytest.mark.parametrize("shape,sparse_dim", [((4, 5), None), ((3, 4, 2), None), ((3, 4, 2), 2), ((3, 4, 2), 1)])
def test_to_sparse_round_trip(torch, shape, sparse_dim):
    x = RNG.standard_normal(shape).astype(np.float32) * (RNG.random(shape) < 0.4)
    args = () if sparse_dim is None else (sparse_dim,)
    m, t = minitorch.from_numpy(x).to_sparse(*args), torch.from_numpy(x).to_sparse(*args)
    assert m._nnz() == t._nnz() and m.is_coalesced() and m.sparse_dim() == t.sparse_dim()
    np.testing.assert_array_equal(m.indices().numpy(), t.indices().numpy())
    np.testing.assert_allclose(m.values().numpy(), t.values().numpy())
    np.testing.assert_array_equal(m.to_dense().numpy(), x)
    assert m.to_sparse() is m and minitorch.from_numpy(x).to_dense() is not None


def test_sparse_times_dense_with_gradients(torch):
    d = RNG.standard_normal((3, 5)).astype(np.float32)
    res = []
    for lib in (minitorch, torch):
        v = lib.tensor(VALS[:4], requires_grad=True)
        s = coo(lib, [IDX[0][:4], IDX[1][:4]], v * 2, (4, 3))
        w = lib.tensor(d, requires_grad=True)
        y = s @ w
        (y * lib.arange(20.0).reshape(4, 5)).sum().backward()
        res.append((y, v.grad, w.grad))
    for a, b in zip(*res):
        close(a, b)


@pytest.mark.parametrize("form", ["mm", "spmm", "sparse.mm", "matmul", "vector"])
def test_product_forms(torch, form):
    d = RNG.standard_normal((3, 2)).astype(np.float32)
    out = []
    for lib in (minitorch, torch):
        s, x = coo(lib, IDX, VALS, (4, 3)), lib.tensor(d)
        if form == "mm":
            out.append(lib.mm(s, x))
        elif form == "spmm":
            out.append(lib.spmm(s, x))
        elif form == "sparse.mm":
            out.append(lib.sparse.mm(s, x))
        elif form == "matmul":
            out.append(lib.matmul(s, x))
        else:
            out.append(s @ x[:, 0])
    close(*out)


def test_dense_times_sparse_and_sparse_leaf_gradient(torch):
    a = RNG.standard_normal((2, 4)).astype(np.float32)
    m = minitorch.tensor(a) @ coo(minitorch, IDX, VALS, (4, 3))
    close(m, torch.tensor(a) @ coo(torch, IDX, VALS, (4, 3)))
    # a sparse leaf's gradient is sparse: PyTorch's gradient at its positions, once per distinct index (IDX repeats
    # one), whichever side the sparse factor is on
    w = RNG.standard_normal((3, 2)).astype(np.float32)
    for side in ("left", "right"):
        grads = []
        for lib in (minitorch, torch):
            s = coo(lib, IDX, VALS, (4, 3), requires_grad=True)
            assert s.requires_grad and s.is_leaf and s.grad is None
            y = lib.sparse.mm(s, lib.tensor(w)) if side == "left" else lib.tensor(w.T) @ s.t()
            (y ** 2).sum().backward()
            grads.append(s.grad)
        g, tg = grads
        assert g.is_sparse and g.is_coalesced() and g._nnz() == 4
        close(g, tg.to_dense() if tg.is_sparse else tg * coo(torch, IDX, [1.0] * 5, (4, 3)).coalesce().to_dense()
              .clamp(max=1))


def test_product_dtype_and_plan_checks():
    s = coo(minitorch, IDX, VALS, (4, 3), dtype=minitorch.float64)
    for f in (lambda: minitorch.sparse.mm(s, minitorch.ones(3, 2)), lambda: minitorch.spmm(s, minitorch.ones(3, 2)),
              lambda: minitorch.ones(2, 4) @ s):
        with pytest.raises(RuntimeError, match="same dtype"):
            f()
    idx = minitorch.tensor(IDX)
    s = minitorch.sparse_coo_tensor(idx, VALS, (4, 3))
    idx[1, 0] = 7  # the caller's indices tensor, written after construction
    with pytest.raises(RuntimeError, match="has an index out of range"):
        s @ minitorch.ones(3, 2)
    empty = minitorch.sparse_coo_tensor(minitorch.zeros((0, 3), dtype=minitorch.int64), minitorch.ones(3, 2))
    assert tuple(empty.shape) == (2,) and empty.sparse_dim() == 0


def test_elementwise_forms(torch):
    d = RNG.standard_normal((4, 3)).astype(np.float32)
    for op in (lambda lib, s, x: x + s, lambda lib, s, x: x - s, lambda lib, s, x: s * 2.5,
               lambda lib, s, x: 3 * s, lambda lib, s, x: s / 4, lambda lib, s, x: -s, lambda lib, s, x: s + s,
               lambda lib, s, x: s - s * 2, lambda lib, s, x: s * x, lambda lib, s, x: lib.sum(s),
               lambda lib, s, x: lib.sparse.sum(s), lambda lib, s, x: s.t(), lambda lib, s, x: s.transpose(0, 1),
               lambda lib, s, x: s.double()):
        m = op(minitorch, coo(minitorch, IDX, VALS, (4, 3)), minitorch.tensor(d))
        t = op(torch, coo(torch, IDX, VALS, (4, 3)), torch.tensor(d))
        assert m.is_sparse == t.is_sparse
        close(m, t)
    for lib in (minitorch, torch):
        with pytest.raises(RuntimeError, match=r"add\(sparse, dense\) is not supported"):
            coo(lib, IDX, VALS, (4, 3)) + lib.tensor(d)


def test_repr_matches_torch(torch):
    def norm(text):
        return text.replace("minitorch.", "torch.")
    for args, kw in [((IDX, VALS, (4, 3)), {}), (([[0, 2]], [1, 2], (3,)), {}),
                     ((IDX, VALS, (4, 3)), {"dtype": "float64"}), ((IDX, VALS, (4, 3)), {"requires_grad": True})]:
        mk = {k: (getattr(minitorch, v) if k == "dtype" else v) for k, v in kw.items()}
        tk = {k: (getattr(torch, v) if k == "dtype" else v) for k, v in kw.items()}
        assert norm(repr(coo(minitorch, *args, **mk))) == repr(coo(torch, *args, **tk))
    assert norm(repr(minitorch.zeros(2, 2).to_sparse())) == repr(torch.zeros(2, 2).to_sparse())


def test_bad_input():
    with pytest.raises(RuntimeError, match="indices and values must have same nnz, but got nnz from indices: 2, "
                                           "nnz from values: 3"):
        coo(minitorch, [[0, 1]], [1.0, 2.0, 3.0], (3,))
    with pytest.raises(RuntimeError, match=r"'len\(size\) == sparse_dim \+ dense_dim' is not satisfied"):
        coo(minitorch, [[0, 1]], [1.0, 2.0], (3, 3))
    with pytest.raises(RuntimeError, match="size is inconsistent with indices: for dim 0, size is 3 but found "
                                           "index 3"):
        coo(minitorch, [[0, 3]], [1.0, 2.0], (3,))
    with pytest.raises(RuntimeError, match="found negative index -1 for dim 0"):
        coo(minitorch, [[0, -1]], [1.0, 2.0], (3,))
    with pytest.raises(RuntimeError, match="indices must be sparse_dim x nnz"):
        coo(minitorch, [0, 1], [1.0, 2.0], (3,))
    s = coo(minitorch, IDX, VALS, (4, 3))
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied \(4x3 and 4x2\)"):
        s @ minitorch.ones(4, 2)
    with pytest.raises(RuntimeError, match="same dtype"):
        s @ minitorch.ones(3, 2, dtype=minitorch.float64)
    for op in (minitorch.relu, minitorch.exp, lambda x: x.view(-1), lambda x: x.contiguous()):
        with pytest.raises(NotImplementedError, match="does not support sparse COO tensors"):
            op(s)
    with pytest.raises(TypeError, match="sparse tensors are made by"):
        minitorch.sparse.SparseTensor(3)


def test_to_device_and_dtype_keep_structure():
    s = coo(minitorch, IDX, VALS, (4, 3))
    d = s.to(minitorch.float64)
    assert d.is_sparse and d.dtype is minitorch.float64 and d._nnz() == 5
    np.testing.assert_allclose(d.to_dense().numpy(), s.to_dense().numpy().astype(np.float64))
    assert s.to("cpu") is s and s.cpu() is s
    c = s.clone()
    assert c is not s and np.array_equal(c.to_dense().numpy(), s.to_dense().numpy())


def test_gcn_normalisation_pipeline(torch):
    """The adjacency renormalisation of pytorch/examples' gcn (D^-1/2 (A + I) D^-1/2 with int64 COO input, diag(
    ).to_sparse() and sparse @ dense @ sparse) and its two-layer forward, against PyTorch."""
    V, F, E = 30, 12, 60
    edges = RNG.integers(0, V, (E, 2))
    feats = (RNG.random((V, F)) < 0.3).astype(np.float32)
    w1 = RNG.standard_normal((F, 8)).astype(np.float32)
    outs = []
    for lib in (minitorch, torch):
        features = lib.tensor(feats)
        scale = 1 / lib.sum(features, dim=1)
        scale[scale == float("inf")] = 0
        features = lib.diag(scale).to_sparse() @ features
        adj = lib.sparse_coo_tensor(edges.T, lib.ones(E), (V, V), dtype=lib.int64)
        adj = lib.eye(V) + adj
        deg = lib.sqrt(1 / lib.sum(adj, dim=1))
        deg[deg == float("inf")] = 0
        deg = lib.diag(deg).to_sparse()
        adj = (deg @ adj @ deg).to_sparse()
        w = lib.tensor(w1, requires_grad=True)
        y = lib.spmm(adj, lib.mm(features.to_sparse(), w))
        y.relu().sum().backward()
        outs.append((y, w.grad))
    close(outs[0][0], outs[1][0])
    close(outs[0][1], outs[1][1], tol=1e-4)


def test_products_on_every_device(device):
    """The CSR kernels (forward, and both gradients) and the index-op path of other dtypes on each device, against
    the dense product on the CPU; repeated indices count twice."""
    rng = np.random.default_rng(5)
    idx = np.array([[0, 2, 2, 1, 2], [1, 0, 3, 3, 3]])
    vals = rng.standard_normal(5)
    d = rng.standard_normal((4, 3))
    g = rng.standard_normal((3, 3))
    dense = np.zeros((3, 4))
    np.add.at(dense, (idx[0], idx[1]), vals)
    for dt in (np.float32, np.float64):
        v = minitorch.tensor(vals.astype(dt), device=device, requires_grad=True)
        w = minitorch.tensor(d.astype(dt), device=device, requires_grad=True)
        s = minitorch.sparse_coo_tensor(minitorch.tensor(idx, device=device), v, (3, 4))
        y = s @ w
        y.backward(minitorch.tensor(g.astype(dt), device=device))
        tol = 1e-5 if dt == np.float32 else 1e-12
        np.testing.assert_allclose(y.detach().cpu().numpy(), dense @ d, rtol=tol, atol=tol)
        np.testing.assert_allclose(w.grad.cpu().numpy(), dense.T @ g, rtol=tol, atol=tol)
        np.testing.assert_allclose(v.grad.cpu().numpy(), ((g @ d.T)[idx[0], idx[1]]), rtol=tol, atol=tol)
        np.testing.assert_allclose((w.detach().t() @ s.t()).detach().cpu().numpy(), (dense @ d).T, rtol=tol, atol=tol)
        # dense @ sparse runs on the plan of the transpose: the dense side's gradient too
        w2 = minitorch.tensor(d.T.astype(dt), device=device, requires_grad=True)
        (w2 @ s.t()).backward(minitorch.tensor(g.astype(dt), device=device))
        np.testing.assert_allclose(w2.grad.cpu().numpy(), g @ dense, rtol=tol, atol=tol)
    si = minitorch.sparse_coo_tensor(minitorch.tensor(idx, device=device), minitorch.tensor([1, 2, 3, 4, 5],
                                     device=device), (3, 4))
    di = np.arange(12).reshape(4, 3)
    want = np.zeros((3, 4), np.int64)
    np.add.at(want, (idx[0], idx[1]), [1, 2, 3, 4, 5])
    np.testing.assert_array_equal((si @ minitorch.tensor(di, device=device)).cpu().numpy(), want @ di)


def test_compiled_function_with_a_sparse_argument_runs_eagerly():
    """No captured graph takes a sparse tensor: minitorch.compile runs such calls as written (same numbers and
    gradients as eager), and captures calls with dense arguments as usual."""
    lin = minitorch.nn.Linear(3, 2)

    def f(adj, x):
        return minitorch.relu(lin(adj @ x))
    comp = minitorch.compile(f)
    s = coo(minitorch, IDX, VALS, (4, 3))
    x = minitorch.tensor(RNG.standard_normal((3, 3)).astype(np.float32))
    for _ in range(2):
        lin.weight.grad = None
        y = comp(s, x)
        y.sum().backward()
        got = lin.weight.grad.numpy().copy()
        lin.weight.grad = None
        want = f(s, x)
        want.sum().backward()
        np.testing.assert_array_equal(y.detach().numpy(), want.detach().numpy())
        np.testing.assert_array_equal(got, lin.weight.grad.numpy())
    assert not comp.graphs
    comp(s.to_dense(), x)
    assert len(comp.graphs) == 1


def test_compiled_function_reading_a_sparse_tensor():
    """A sparse tensor from the enclosing scope: its product is recorded through its values and CSR plan, and the
    compiled calls give eager's numbers."""
    adj = coo(minitorch, IDX, VALS, (4, 3))

    def f(x):
        return (adj @ (x * 2)).relu() + 1
    comp = minitorch.compile(f)
    for _ in range(3):
        x = minitorch.tensor(RNG.standard_normal((3, 2)).astype(np.float32))
        np.testing.assert_array_equal(comp(x).numpy(), f(x).numpy())
