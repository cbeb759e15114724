"""minitorch.linalg and the classic linear-algebra names: what the op table cannot express (named tuples, errors,
singular and NaN inputs, PyTorch's lstsq fields, parallel and multi-block paths, CUDA kernels)."""
import math

import numpy as np
import pytest
from numba import config as numba_config

import minitorch
import minitorch.linalg as LA
from minitorch.ops import linalg as OL


def to_np(t):
    return t.detach().cpu().numpy()


def spd(rng, *shape):
    n = shape[-1]
    x = rng.standard_normal(shape)
    return x @ np.swapaxes(x, -1, -2) + n * np.eye(n)


def T(a, device="cpu", dtype=minitorch.float64, rg=False):
    return minitorch.tensor(np.asarray(a), dtype=dtype, device=device, requires_grad=rg)


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


# ---------------------------------------------------------------------------------------------------------------
# named tuples
# ---------------------------------------------------------------------------------------------------------------
def test_named_tuples_have_torchs_fields(device):
    rng = np.random.default_rng(0)
    A = T(spd(rng, 3, 3), device)
    M = T(rng.standard_normal((4, 3)), device)
    cases = [
        (LA.inv_ex(A), "linalg_inv_ex", ("inverse", "info")),
        (LA.cholesky_ex(A), "linalg_cholesky_ex", ("L", "info")),
        (LA.slogdet(A), "linalg_slogdet", ("sign", "logabsdet")),
        (minitorch.slogdet(A), "slogdet", ("sign", "logabsdet")),
        (LA.svd(M), "linalg_svd", ("U", "S", "Vh")),
        (minitorch.svd(M), "svd", ("U", "S", "V")),
        (LA.qr(M), "linalg_qr", ("Q", "R")),
        (minitorch.qr(M), "qr", ("Q", "R")),
        (LA.eigh(A), "linalg_eigh", ("eigenvalues", "eigenvectors")),
        (LA.lstsq(M, M), "linalg_lstsq", ("solution", "residuals", "rank", "singular_values")),
    ]
    for r, name, fields in cases:
        assert isinstance(r, tuple) and r._fields == fields
        assert type(r).__name__ == name
        assert repr(r).startswith(f"minitorch.return_types.{name}(")
        for i, f in enumerate(fields):
            assert getattr(r, f) is r[i]
    assert LA.inv_ex(A).info.dtype is minitorch.int32
    assert LA.lstsq(M, M).rank.dtype is minitorch.int64


def test_linalg_error_is_a_runtime_error():
    assert issubclass(LA.LinAlgError, RuntimeError)


# ---------------------------------------------------------------------------------------------------------------
# singular / not positive-definite input
# ---------------------------------------------------------------------------------------------------------------
def test_singular_input_raises_linalg_error(device):
    sing = T([[1.0, 2.0], [2.0, 4.0]], device)
    with pytest.raises(LA.LinAlgError, match=r"linalg.inv: The diagonal element 2 is zero, the inversion could not "
                                             r"be completed because the input matrix is singular."):
        LA.inv(sing)
    with pytest.raises(LA.LinAlgError, match="linalg.inv: The diagonal element 2 is zero"):
        sing.inverse()
    with pytest.raises(LA.LinAlgError, match=r"torch.linalg.solve: The solver failed because the input matrix is "
                                             r"singular."):
        LA.solve(sing, T([1.0, 1.0], device))
    with pytest.raises(LA.LinAlgError, match=r"linalg.cholesky: The factorization could not be completed because "
                                             r"the input is not positive-definite \(the leading minor of order 2 is "
                                             r"not positive-definite\)."):
        LA.cholesky(sing)
    with pytest.raises(LA.LinAlgError, match=r"^cholesky: .*leading minor of order 1"):
        minitorch.cholesky(-sing)
    with pytest.raises(LA.LinAlgError, match="linalg.inv: The diagonal element 2 is zero"):
        LA.matrix_power(sing, -1)


def test_batched_errors_name_the_batch_element(device):
    A = np.stack([np.eye(3), np.eye(3), np.diag([1.0, 0.0, 1.0])])
    with pytest.raises(LA.LinAlgError, match=r"linalg.inv: \(Batch element 2\): The diagonal element 2 is zero"):
        LA.inv(T(A, device))
    with pytest.raises(LA.LinAlgError, match=r"torch.linalg.solve: \(Batch element 2\): The solver failed"):
        LA.solve(T(A, device), T(np.ones((3, 3, 1)), device))
    with pytest.raises(LA.LinAlgError, match=r"linalg.cholesky: \(Batch element 2\): .*order 2 is not"):
        LA.cholesky(T(A, device))


def test_inv_ex_and_cholesky_ex_report_instead_of_raising(device, torch):
    A = np.stack([np.eye(2), [[1.0, 2.0], [2.0, 4.0]], np.zeros((2, 2))])
    r = LA.inv_ex(T(A, device))
    np.testing.assert_array_equal(to_np(r.info), torch.linalg.inv_ex(torch.tensor(A)).info.numpy())
    np.testing.assert_allclose(to_np(r.inverse)[0], np.eye(2))
    with pytest.raises(LA.LinAlgError, match=r"linalg.inv_ex: \(Batch element 1\)"):
        LA.inv_ex(T(A, device), check_errors=True)
    c = LA.cholesky_ex(T(-A, device))
    np.testing.assert_array_equal(to_np(c.info), torch.linalg.cholesky_ex(torch.tensor(-A)).info.numpy())


def test_det_and_slogdet_of_singular_matrices(device, torch):
    A = np.stack([[[1.0, 2.0], [2.0, 4.0]], np.zeros((2, 2)), [[0.0, 1.0], [1.0, 0.0]]])
    np.testing.assert_array_equal(to_np(LA.det(T(A, device))), torch.linalg.det(torch.tensor(A)).numpy())
    s, la = LA.slogdet(T(A, device))
    ts, tla = torch.linalg.slogdet(torch.tensor(A))
    np.testing.assert_array_equal(to_np(s), ts.numpy())
    np.testing.assert_array_equal(to_np(la), tla.numpy())
    np.testing.assert_array_equal(to_np(minitorch.logdet(T(A, device))), torch.logdet(torch.tensor(A)).numpy())


def test_nan_input_gives_nan_not_an_error(device, torch):
    A = np.array([[1.0, np.nan], [0.0, 1.0]])
    for name in ("inv", "det"):
        got = to_np(getattr(LA, name)(T(A, device)))
        want = getattr(torch.linalg, name)(torch.tensor(A)).numpy()
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want))


# ---------------------------------------------------------------------------------------------------------------
# user errors
# ---------------------------------------------------------------------------------------------------------------
def test_shape_and_dtype_errors():
    sq = minitorch.ones(3, 3)
    with pytest.raises(RuntimeError, match="linalg.inv: A must be batches of square matrices, but they are 2 by 3"):
        LA.inv(minitorch.ones(2, 3))
    with pytest.raises(RuntimeError, match="linalg.inv: The input tensor A must have at least 2 dimensions."):
        LA.inv(minitorch.ones(2))
    with pytest.raises(RuntimeError, match="linalg.det: Expected a floating point or complex tensor as input. "
                                           "Got Long"):
        LA.det(minitorch.ones(2, 2, dtype=minitorch.int64))
    with pytest.raises(RuntimeError, match="linalg.cholesky: Expected a floating point .* Got Long"):
        LA.cholesky(minitorch.ones(2, 2, dtype=minitorch.int64))
    with pytest.raises(RuntimeError, match="linalg.eigh: A must be batches of square matrices, but they are 2 by 3"):
        LA.eigh(minitorch.ones(2, 3))
    with pytest.raises(RuntimeError, match="linalg.svd: The input tensor A must have at least 2 dimensions."):
        LA.svd(minitorch.ones(3))
    with pytest.raises(RuntimeError, match=r"linalg.solve: Incompatible shapes of A and B for the equation AX = B "
                                           r"\(3x3 and 2x1\)"):
        LA.solve(sq, minitorch.ones(2))
    with pytest.raises(RuntimeError, match=r"linalg.solve: Incompatible shapes .* \(3x3 and 2x2\)"):
        LA.solve(sq, minitorch.ones(2, 2))
    with pytest.raises(RuntimeError, match="linalg.solve: Expected A and B to have the same dtype, but found A of "
                                           "type Float and B of type Double instead"):
        LA.solve(sq, minitorch.ones(3, dtype=minitorch.float64))
    with pytest.raises(RuntimeError, match="qr received unrecognized mode 'x'"):
        LA.qr(sq, mode="x")
    with pytest.raises(RuntimeError, match="Expected UPLO argument to be 'L' or 'U', but got X"):
        LA.eigh(sq, UPLO="X")
    with pytest.raises(RuntimeError, match="linalg.matrix_norm: Order 3 not supported."):
        LA.matrix_norm(sq, ord=3)
    with pytest.raises(RuntimeError, match="linalg.matrix_norm: The input tensor A must have at least 2 dim"):
        LA.matrix_norm(minitorch.ones(3))
    with pytest.raises(RuntimeError, match="linalg.matrix_norm: dim must be a 2-tuple. Got 0"):
        LA.matrix_norm(sq, dim=0)
    with pytest.raises(TypeError, match="argument 'ord' must be Number, not str"):
        LA.vector_norm(minitorch.ones(3), ord="fro")
    with pytest.raises(RuntimeError, match="linalg.vector_norm: Expected a floating point or complex tensor as "
                                           "input. Got Long"):
        LA.vector_norm(minitorch.ones(3, dtype=minitorch.int64))
    with pytest.raises(RuntimeError, match="linalg.norm: If dim is not specified but ord is, the input must be 1D "
                                           "or 2D. Got 3D."):
        LA.norm(minitorch.ones(2, 2, 2), ord=2)
    with pytest.raises(RuntimeError, match=r"linalg.pinv\(Long\{\[2, 2\]\}\): expected a tensor with 2 or more "):
        LA.pinv(minitorch.ones(2, 2, dtype=minitorch.int64))
    with pytest.raises(TypeError, match="argument 'n' \\(position 2\\) must be int, not float"):
        LA.matrix_power(sq, 1.5)
    with pytest.raises(RuntimeError, match="linalg.matrix_power: A must be batches of square matrices"):
        LA.matrix_power(minitorch.ones(2, 3), 2)
    with pytest.raises(RuntimeError, match="multi_dot\\(\\): expected at least 2 tensors but got 1"):
        LA.multi_dot([sq])
    with pytest.raises(RuntimeError, match=r"multi_dot\(\): tensors 0 and 1 with shapes \[2, 3\] and \[2, 3\] "
                                           r"cannot be multiplied"):
        LA.multi_dot([minitorch.ones(2, 3), minitorch.ones(2, 3)])
    with pytest.raises(RuntimeError, match="multi_dot\\(\\): the first tensor must be 1D or 2D but got 3D"):
        LA.multi_dot([minitorch.ones(2, 3, 3), sq])
    with pytest.raises(RuntimeError, match="torch.linalg.lstsq: input.size\\(-2\\) should match other.size\\(-2\\)"):
        LA.lstsq(minitorch.ones(3, 2), minitorch.ones(2, 2))
    with pytest.raises(RuntimeError, match="parameter `driver` should be one of \\(gels, gelsy, gelsd, gelss\\)"):
        LA.lstsq(minitorch.ones(3, 2), minitorch.ones(3, 2), driver="foo")
    with pytest.raises(TypeError, match="argument 'A' must be Tensor, not list"):
        LA.inv([[1.0]])


def test_qr_backward_errors_as_torch():
    x = minitorch.tensor(np.random.default_rng(1).standard_normal((4, 2)), requires_grad=True)
    with pytest.raises(RuntimeError, match="not differentiable when mode='complete' and nrows > ncols"):
        LA.qr(x, mode="complete").Q.sum().backward()
    with pytest.raises(RuntimeError, match="which is not computed when mode='r'"):
        LA.qr(x, mode="r").R.sum().backward()
    assert LA.qr(x, mode="r").Q.shape == (0,)


# ---------------------------------------------------------------------------------------------------------------
# PyTorch's conventions
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("driver", [None, "gelsy", "gelsd", "gelss", "gels"])
def test_lstsq_fields_as_torch_fills_them_on_the_cpu(driver, torch):
    rng = np.random.default_rng(2)
    for A, B in ((rng.standard_normal((2, 5, 3)), rng.standard_normal((2, 5, 2))),
                 (rng.standard_normal((3, 3)), rng.standard_normal(3)),
                 (rng.standard_normal((3, 5)), rng.standard_normal((3, 2)))):
        got = LA.lstsq(T(A), T(B), driver=driver)
        want = torch.linalg.lstsq(torch.tensor(A), torch.tensor(B), driver=driver)
        for g, w, name in zip(got, want, got._fields):
            assert tuple(g.shape) == tuple(w.shape), name
            np.testing.assert_allclose(to_np(g), w.numpy(), rtol=1e-9, atol=1e-10, err_msg=name)


def test_lstsq_rank_deficient_gives_the_minimum_norm_solution(torch):
    rng = np.random.default_rng(3)
    A = rng.standard_normal((5, 3))
    A[:, 2] = A[:, 0] + A[:, 1]
    B = rng.standard_normal((5, 2))
    got = LA.lstsq(T(A), T(B))
    want = torch.linalg.lstsq(torch.tensor(A), torch.tensor(B))
    assert int(got.rank) == int(want.rank) == 2
    np.testing.assert_allclose(to_np(got.solution), want.solution.numpy(), rtol=1e-8, atol=1e-10)
    assert int(LA.matrix_rank(T(A))) == int(torch.linalg.matrix_rank(torch.tensor(A))) == 2
    assert int(LA.matrix_rank(T(A), atol=1e3)) == int(torch.linalg.matrix_rank(torch.tensor(A), atol=1e3)) == 0


def test_svd_shapes_and_the_classic_svd(torch):
    rng = np.random.default_rng(4)
    A = rng.standard_normal((2, 5, 3))
    for full in (True, False):
        got, want = LA.svd(T(A), full_matrices=full), torch.linalg.svd(torch.tensor(A), full_matrices=full)
        assert [tuple(t.shape) for t in got] == [tuple(t.shape) for t in want]
        U, S, Vh = (to_np(t) for t in got)
        k = S.shape[-1]
        np.testing.assert_allclose((U[..., :k] * S[..., None, :]) @ Vh[..., :k, :], A, atol=1e-12)
        np.testing.assert_allclose(np.swapaxes(U, -1, -2) @ U, np.broadcast_to(np.eye(U.shape[-1]), U.shape[:-2]
                                                                              + (U.shape[-1],) * 2), atol=1e-12)
    U, S, V = minitorch.svd(T(A))
    np.testing.assert_allclose((to_np(U) * to_np(S)[..., None, :]) @ np.swapaxes(to_np(V), -1, -2), A, atol=1e-12)
    r = minitorch.svd(T(A), compute_uv=False)
    w = torch.svd(torch.tensor(A), compute_uv=False)
    assert tuple(r.U.shape) == tuple(w.U.shape) and tuple(r.V.shape) == tuple(w.V.shape)
    assert not to_np(r.U).any() and not to_np(r.V).any()
    np.testing.assert_allclose(to_np(r.S), w.S.numpy(), rtol=1e-12)


def test_qr_modes_match_torch(torch):
    rng = np.random.default_rng(5)
    for shape in ((5, 3), (3, 5), (2, 4, 4)):
        A = rng.standard_normal(shape)
        for mode in ("reduced", "complete", "r"):
            got, want = LA.qr(T(A), mode=mode), torch.linalg.qr(torch.tensor(A), mode=mode)
            for g, w in zip(got, want):
                assert tuple(g.shape) == tuple(w.shape)
                np.testing.assert_allclose(to_np(g), w.numpy(), atol=1e-12)


def test_eigh_reads_one_triangle(torch):
    rng = np.random.default_rng(6)
    A = rng.standard_normal((2, 4, 4))  # not symmetric: each UPLO sees a different matrix
    for uplo in ("L", "U"):
        np.testing.assert_allclose(to_np(LA.eigvalsh(T(A), UPLO=uplo)),
                                   torch.linalg.eigvalsh(torch.tensor(A), UPLO=uplo).numpy(), atol=1e-12)


def test_cholesky_ignores_the_upper_triangle(torch):
    rng = np.random.default_rng(7)
    A = spd(rng, 3, 4, 4)
    junk = A + np.triu(rng.standard_normal((4, 4)), 1)
    np.testing.assert_allclose(to_np(LA.cholesky(T(junk))), torch.linalg.cholesky(torch.tensor(junk)).numpy(),
                               atol=1e-12)
    np.testing.assert_allclose(to_np(LA.cholesky(T(junk), upper=True)),
                               torch.linalg.cholesky(torch.tensor(junk), upper=True).numpy(), atol=1e-12)


def test_norms_against_torch(torch):
    rng = np.random.default_rng(8)
    x = rng.standard_normal((3, 4, 5))
    for kw in (dict(), dict(ord=1, dim=1), dict(ord=0, dim=(0, 2)), dict(ord=-math.inf, dim=-1, keepdim=True),
               dict(ord=0.5)):
        np.testing.assert_allclose(to_np(LA.vector_norm(T(x), **kw)), torch.linalg.vector_norm(torch.tensor(x), **kw),
                                   rtol=1e-10)
    got = LA.vector_norm(T(x, dtype=minitorch.float32), dtype=minitorch.float64)
    assert got.dtype is minitorch.float64
    np.testing.assert_allclose(to_np(got), torch.linalg.vector_norm(torch.tensor(x, dtype=torch.float32),
                                                                    dtype=torch.float64).numpy(), rtol=1e-12)
    with pytest.raises(RuntimeError, match=r"the dtype of the input \(Double\) should be convertible without "
                                           r"narrowing to the specified dtype \(Float\)"):
        LA.vector_norm(T(x), dtype=minitorch.float32)
    for kw in (dict(), dict(ord="fro", dim=(2, 0)), dict(ord="nuc", dim=(1, 2), keepdim=True), dict(ord=-1, dim=(0, 1)),
               dict(ord=2, dim=(-1, 0))):
        np.testing.assert_allclose(to_np(LA.matrix_norm(T(x), **kw)), torch.linalg.matrix_norm(torch.tensor(x), **kw),
                                   rtol=1e-10)
    for kw in (dict(), dict(dim=0), dict(ord=3, dim=2), dict(ord="nuc", dim=(0, 1))):
        np.testing.assert_allclose(to_np(LA.norm(T(x), **kw)), torch.linalg.norm(torch.tensor(x), **kw), rtol=1e-10)
    np.testing.assert_allclose(to_np(LA.norm(T(x[0]), ord=-2)), torch.linalg.norm(torch.tensor(x[0]), ord=-2),
                               rtol=1e-10)
    np.testing.assert_allclose(to_np(minitorch.norm(T(x))), np.sqrt((x * x).sum()), rtol=1e-12)  # the old name stays


def test_matrix_power_and_multi_dot_against_torch(torch):
    rng = np.random.default_rng(9)
    A = rng.standard_normal((2, 3, 3)) + 3 * np.eye(3)
    for n in (0, 1, 2, 5, -1, -3):
        np.testing.assert_allclose(to_np(LA.matrix_power(T(A), n)),
                                   torch.linalg.matrix_power(torch.tensor(A), n).numpy(), rtol=1e-9, atol=1e-12)
    mats = [rng.standard_normal(s) for s in ((7,), (7, 2), (2, 9), (9, 3), (3,))]
    got = LA.multi_dot([T(m) for m in mats])
    assert got.shape == ()
    np.testing.assert_allclose(to_np(got), torch.linalg.multi_dot([torch.tensor(m) for m in mats]).numpy(),
                               rtol=1e-10)
    np.testing.assert_allclose(to_np(minitorch.chain_matmul(*[T(m) for m in mats[1:4]])),
                               np.linalg.multi_dot(mats[1:4]), rtol=1e-10)


def test_solve_vector_rule_and_broadcasting(torch):
    rng = np.random.default_rng(10)
    A = rng.standard_normal((2, 1, 3, 3)) + 3 * np.eye(3)
    for B in (rng.standard_normal(3), rng.standard_normal((2, 1, 3)), rng.standard_normal((4, 3, 2)),
              rng.standard_normal((3, 5))):
        got = LA.solve(T(A), T(B))
        want = torch.linalg.solve(torch.tensor(A), torch.tensor(B))
        assert tuple(got.shape) == tuple(want.shape)
        np.testing.assert_allclose(to_np(got), want.numpy(), rtol=1e-10, atol=1e-12)


def test_gradients_of_svd_eigh_pinv_against_torch(torch):
    """U/V-dependent but gauge-invariant losses, and double backward through inv."""
    rng = np.random.default_rng(11)
    A = rng.standard_normal((2, 5, 3))
    S_ = rng.standard_normal((4, 4))
    S_ = S_ + S_.T
    results = []
    for m in (minitorch, torch):
        a = m.tensor(A, requires_grad=True)
        s = m.tensor(S_, requires_grad=True)
        U, S, Vh = m.linalg.svd(a, full_matrices=False)
        w, V = m.linalg.eigh(s)
        loss = ((U @ Vh) ** 3).sum() + (S ** 2 * m.arange(3)).sum() + (V ** 4 * m.arange(4.0)).sum() \
            + (w * w).sum() + m.linalg.pinv(a).sum() + m.linalg.lstsq(a, a[..., :1]).solution.sum()
        ga, gs = m.autograd.grad(loss, (a, s), create_graph=True)
        h = m.autograd.grad((ga ** 2).sum() + (gs ** 2).sum(), (a, s))
        results.append([to_np(t) for t in (ga, gs) + tuple(h)])
    for got, want in zip(*results):
        np.testing.assert_allclose(got, want, rtol=1e-7, atol=1e-9)


# ---------------------------------------------------------------------------------------------------------------
# larger shapes: the parallel CPU path, many blocks and rows per thread on CUDA
# ---------------------------------------------------------------------------------------------------------------
def test_large_batches(device):
    rng = np.random.default_rng(12)
    sim = device == "cuda" and numba_config.ENABLE_CUDASIM
    B, n = (3, 11) if sim else (130, 65)  # 130 * 65^3 > PAR_WORK: the prange kernels on the CPU
    assert sim or B * n ** 3 >= OL.PAR_WORK
    A = spd(rng, B, n, n)
    R = rng.standard_normal((B, n, 4))
    for dt, tol in ((minitorch.float32, 1e-4), (minitorch.float64, 1e-10)):
        a = T(A, device, dt)
        np.testing.assert_allclose(to_np(LA.inv(a)), np.linalg.inv(A), rtol=tol, atol=tol * 1e-2)
        np.testing.assert_allclose(to_np(LA.solve(a, T(R, device, dt))), np.linalg.solve(A, R), rtol=tol,
                                   atol=tol * 1e-2)
        np.testing.assert_allclose(to_np(LA.cholesky(a)), np.linalg.cholesky(A), rtol=tol, atol=tol * 1e-2)
        np.testing.assert_allclose(to_np(LA.slogdet(a).logabsdet), np.linalg.slogdet(A)[1], rtol=tol)
        np.testing.assert_allclose(to_np(LA.det(a / n)), np.linalg.det(A / n), rtol=10 * tol)


# ---------------------------------------------------------------------------------------------------------------
# CUDA (the device fixture; tiny shapes for the simulator)
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("n", [1, 2, 5])
def test_lu_and_cholesky_kernels_against_numpy(device, n):
    rng = np.random.default_rng(13 + n)
    X = rng.standard_normal((3, n, n))
    A = spd(rng, 3, n, n)
    R = rng.standard_normal((3, n, 2))
    for dt, tol in ((minitorch.float32, 2e-5), (minitorch.float64, 1e-12)):
        x, a = T(X, device, dt), T(A, device, dt)
        np.testing.assert_allclose(to_np(LA.inv(x)), np.linalg.inv(X), rtol=tol * 100, atol=tol * 100)
        np.testing.assert_allclose(to_np(LA.solve(x, T(R, device, dt))), np.linalg.solve(X, R), rtol=tol * 100,
                                   atol=tol * 100)
        np.testing.assert_allclose(to_np(LA.det(x)), np.linalg.det(X), rtol=tol * 10, atol=tol)
        s, la = LA.slogdet(x)
        np.testing.assert_array_equal(to_np(s), np.linalg.slogdet(X)[0])
        np.testing.assert_allclose(to_np(la), np.linalg.slogdet(X)[1], rtol=tol * 10, atol=tol)
        np.testing.assert_allclose(to_np(LA.cholesky(a)), np.linalg.cholesky(A), rtol=tol, atol=tol)
        assert LA.inv(x).device.type == device


def test_host_computed_decompositions_on_the_device(device):
    rng = np.random.default_rng(14)
    M = rng.standard_normal((2, 4, 3))
    A = spd(rng, 2, 3, 3)
    m, a = T(M, device), T(A, device)
    U, S, Vh = LA.svd(m, full_matrices=False)
    np.testing.assert_allclose(to_np(U) * to_np(S)[..., None, :] @ to_np(Vh), M, atol=1e-12)
    Q, R = LA.qr(m)
    np.testing.assert_allclose(to_np(Q) @ to_np(R), M, atol=1e-12)
    w, V = LA.eigh(a)
    np.testing.assert_allclose(to_np(w), np.linalg.eigvalsh(A), atol=1e-12)
    np.testing.assert_allclose(to_np(LA.pinv(m)), np.linalg.pinv(M), atol=1e-10)
    np.testing.assert_allclose(to_np(LA.lstsq(m, m).solution), np.broadcast_to(np.eye(3), (2, 3, 3)), atol=1e-10)
    for t in (U, S, Vh, Q, R, w, V):
        assert t.device.type == device


def test_empty_matrices(device, torch):
    e = minitorch.ones(2, 0, 0, device=device)
    assert LA.inv(e).shape == (2, 0, 0)
    np.testing.assert_array_equal(to_np(LA.det(e)), torch.linalg.det(torch.ones(2, 0, 0)).numpy())
    assert LA.solve(e, minitorch.ones(2, 0, 3, device=device)).shape == (2, 0, 3)
    assert LA.inv(minitorch.ones(0, 3, 3, device=device)).shape == (0, 3, 3)
