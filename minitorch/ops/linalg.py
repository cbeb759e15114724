"""Differentiable linear algebra (the Functions behind minitorch.linalg and the classic names such as det).

Three layers in one module, top to bottom:

* launchers (``_run_*``): validated, contiguous batches of matrices to the device's ``linalg`` kernels, no
  autograd. A kernel reports a singular or non-positive-definite matrix in an ``info`` array; the public function
  reads it back (one small host copy, as PyTorch synchronises to raise) and raises ``LinAlgError`` before
  returning anything.
* differentiable primitives (``Function`` subclasses): the forward result is computed once by a launcher and
  handed in; every backward is written once with Tensor ops (so it serves every device and double backward). A
  decomposition with several outputs gets one Function per output, each contributing its own (additive) part of
  the gradient, because a graph node here has a single output.
* public functions with PyTorch's names, arguments, return types and error messages. ``minitorch.linalg`` re-exports
  the ``linalg_*`` ones under their ``torch.linalg`` names.
"""
import math
import numbers

from ..autograd.function import Function
from ..autograd.grad_mode import _state
from ..dtypes import float32, float64, int32, int64
from ..tensor import Tensor
from . import launch
from .common import recording, return_type, type_label

FUNCTIONS = ["det", "logdet", "slogdet", "inverse", "pinverse", "matrix_power", "cholesky", "svd", "qr",
             "chain_matmul"]  # exported as minitorch.<name>
METHODS = ["det", "logdet", "slogdet", "inverse", "pinverse", "matrix_power", "cholesky", "svd",
           "qr"]  # attached as Tensor.<name>


class LinAlgError(RuntimeError):
    """Raised when a linear-algebra routine fails on its input (a singular matrix, one that is not
    positive-definite); a ``RuntimeError``, as ``torch.linalg.LinAlgError``."""


InvEx = return_type("linalg_inv_ex", ["inverse", "info"])
CholeskyEx = return_type("linalg_cholesky_ex", ["L", "info"])
LinalgSlogdet = return_type("linalg_slogdet", ["sign", "logabsdet"])
Slogdet = return_type("slogdet", ["sign", "logabsdet"])
LinalgSvd = return_type("linalg_svd", ["U", "S", "Vh"])
Svd = return_type("svd", ["U", "S", "V"])
LinalgQr = return_type("linalg_qr", ["Q", "R"])
Qr = return_type("qr", ["Q", "R"])
LinalgEigh = return_type("linalg_eigh", ["eigenvalues", "eigenvectors"])
LinalgLstsq = return_type("linalg_lstsq", ["solution", "residuals", "rank", "singular_values"])

PAR_WORK = 1 << 20  # batch * n^3 from which the batch is split over the CPU threads (64 x 64^3 on 2 idle cores:
# solve 4.2 -> 2.1 ms, inv 2.6 -> 1.3 ms, det 1.3 -> 0.7 ms; on busy cores splitting gains nothing)


# ---------------------------------------------------------------------------------------------------------------
# validation
# ---------------------------------------------------------------------------------------------------------------
def _tensor(x, fname, arg="A"):
    if not isinstance(x, Tensor):
        raise TypeError(f"{fname}(): argument '{arg}' must be Tensor, not {type(x).__name__}")


def _matrix(A, fname, square=True):
    """Check a (batch of) matrix input: a Tensor, at least 2-D, floating point, square when asked."""
    _tensor(A, fname.split(".")[-1])
    if A.dim() < 2:
        raise RuntimeError(f"{fname}: The input tensor A must have at least 2 dimensions.")
    if A._dtype not in (float32, float64):
        raise RuntimeError(f"{fname}: Expected a floating point or complex tensor as input. Got "
                           f"{type_label(A._dtype)}")
    if square and A._shape[-1] != A._shape[-2]:
        raise RuntimeError(f"{fname}: A must be batches of square matrices, but they are {A._shape[-2]} by "
                           f"{A._shape[-1]} matrices")


def _batch(info, A):
    """'(Batch element i): ' for a batched input, as PyTorch prefixes its messages."""
    return f"(Batch element {info}): " if A.dim() > 2 else ""


def _first_failure(info):
    """(batch index, code) of the first nonzero entry of an info tensor, or None (one host read)."""
    if info.numel() == 0:
        return None
    host = launch.to_numpy(info).reshape(-1)
    bad = host.nonzero()[0]
    if len(bad) == 0:
        return None
    return int(bad[0]), int(host[bad[0]])


# ---------------------------------------------------------------------------------------------------------------
# launchers: Tensors in, Tensors out, no autograd
# ---------------------------------------------------------------------------------------------------------------
def _flat(t):
    """The flat run of a contiguous tensor's storage (its elements in order)."""
    n = t.numel()
    if t._offset == 0 and t._storage.shape[0] == n:
        return t._storage
    return t._storage[t._offset:t._offset + n]


def _contig(t):
    return t if t._contig else launch.contiguous(t)


def _lin(t):
    return launch._k(t).linalg


def _par(B, n, A):
    """Split the batch over the threads (each LAPACK call then runs on one BLAS thread)?"""
    if B > 1 and B * n ** 3 >= PAR_WORK and launch._threads() > 1:
        launch._k(A).matmul.set_blas_threads(1)
        return True
    return False


def _run_inv(A):
    """(A^-1, info int32 of the batch shape); A is a square float tensor."""
    batch, n = A._shape[:-2], A._shape[-1]
    B = math.prod(batch)
    out = launch.empty(A._shape, A._dtype, A._device)
    info = launch.empty(batch, int32, A._device)
    if B and n:
        a = _contig(A)
        k = _lin(A)
        (k.inv_par if _par(B, n, A) else k.inv)(_flat(a), _flat(out), _flat(info), B, n)
    elif B:
        launch.fill_(info, 0)
    return out, info


def _run_solve(A, Bm):
    """X (..., n, k) with A X = B for A (..., n, n) and B (..., n, k) of the same batch shape; and info."""
    batch, n, k = A._shape[:-2], A._shape[-1], Bm._shape[-1]
    B = math.prod(batch)
    out = launch.empty(Bm._shape, A._dtype, A._device)
    info = launch.empty(batch, int32, A._device)
    if B and n:
        a, r = _contig(A), _contig(Bm)
        kern = _lin(A)
        (kern.solve_par if _par(B, n, A) else kern.solve)(_flat(a), _flat(r), _flat(out), _flat(info), B, n, k)
    elif B:
        launch.fill_(info, 0)
    return out, info


def _run_det(A):
    batch, n = A._shape[:-2], A._shape[-1]
    B = math.prod(batch)
    out = launch.empty(batch, A._dtype, A._device)
    if B and n:
        k = _lin(A)
        (k.det_par if _par(B, n, A) else k.det)(_flat(_contig(A)), _flat(out), B, n)
    elif B:
        launch.fill_(out, 1)
    return out


def _run_slogdet(A):
    batch, n = A._shape[:-2], A._shape[-1]
    B = math.prod(batch)
    sign = launch.empty(batch, A._dtype, A._device)
    logabs = launch.empty(batch, A._dtype, A._device)
    if B and n:
        _lin(A).slogdet(_flat(_contig(A)), _flat(sign), _flat(logabs), B, n)
    elif B:
        launch.fill_(sign, 1)
        launch.fill_(logabs, 0)
    return sign, logabs


def _run_cholesky(A):
    batch, n = A._shape[:-2], A._shape[-1]
    B = math.prod(batch)
    out = launch.empty(A._shape, A._dtype, A._device)
    info = launch.empty(batch, int32, A._device)
    if B and n:
        k = _lin(A)
        (k.cholesky_par if _par(B, n, A) else k.cholesky)(_flat(_contig(A)), _flat(out), _flat(info), B, n)
    elif B:
        launch.fill_(info, 0)
    return out, info


def _run_eigh(A, lower):
    batch, n = A._shape[:-2], A._shape[-1]
    B = math.prod(batch)
    w = launch.empty(batch + (n,), A._dtype, A._device)
    v = launch.empty(A._shape, A._dtype, A._device)
    if B and n:
        _lin(A).eigh(_flat(_contig(A)), _flat(w), _flat(v), B, n, lower)
    return w, v


def _run_svd(A, full):
    batch, m, n = A._shape[:-2], A._shape[-2], A._shape[-1]
    k = min(m, n)
    B = math.prod(batch)
    u = launch.empty(batch + (m, m if full else k), A._dtype, A._device)
    s = launch.empty(batch + (k,), A._dtype, A._device)
    vh = launch.empty(batch + (n if full else k, n), A._dtype, A._device)
    if B and k:
        _lin(A).svd(_flat(_contig(A)), _flat(u), _flat(s), _flat(vh), B, m, n, full)
    elif B and full:  # an empty matrix: the identity completes the (empty) singular vectors
        from ..creation import eye
        launch.copy_into(u, eye(m, dtype=A._dtype, device=A._device))
        launch.copy_into(vh, eye(n, dtype=A._dtype, device=A._device))
    return u, s, vh


def _run_qr(A, complete):
    batch, m, n = A._shape[:-2], A._shape[-2], A._shape[-1]
    c = m if complete else min(m, n)
    B = math.prod(batch)
    q = launch.empty(batch + (m, c), A._dtype, A._device)
    r = launch.empty(batch + (c, n), A._dtype, A._device)
    if B and m and n:
        _lin(A).qr(_flat(_contig(A)), _flat(q), _flat(r), B, m, n, 1 if complete else 0)
    elif B:
        from ..creation import eye
        launch.copy_into(q, eye(m, c, dtype=A._dtype, device=A._device))
        launch.fill_(r, 0)
    return q, r


def _run_lstsq(A, Bm, rcond):
    batch, m, n, k = A._shape[:-2], A._shape[-2], A._shape[-1], Bm._shape[-1]
    B = math.prod(batch)
    x = launch.empty(batch + (n, k), A._dtype, A._device)
    rank = launch.empty(batch, int64, A._device)
    if B and m and n:
        _lin(A).lstsq(_flat(_contig(A)), _flat(_contig(Bm)), _flat(x), _flat(rank), B, m, n, k, float(rcond))
    elif B:
        launch.fill_(x, 0)
        launch.fill_(rank, 0)
    return x, rank


# ---------------------------------------------------------------------------------------------------------------
# differentiable primitives
# ---------------------------------------------------------------------------------------------------------------
def _diag_embed(v):
    """(..., n) -> (..., n, n) with v on the diagonal (differentiable)."""
    n = v._shape[-1]
    from ..creation import eye
    return v.unsqueeze(-1) * eye(n, dtype=v._dtype, device=v._device)


def _eye_like(A, n=None):
    from ..creation import eye
    n = A._shape[-1] if n is None else n
    return eye(n, dtype=A._dtype, device=A._device)


class _Inv(Function):
    @staticmethod
    def forward(ctx, A, out):
        ctx.save_for_backward(A)
        ctx.out = out
        return out.detach()

    @staticmethod
    def backward(ctx, g):
        A, = ctx.saved_tensors
        Ai = (_differentiable_inv(A) if _state.enabled else ctx.out).mT
        return -(Ai @ g @ Ai), None


def _differentiable_inv(A):
    """A^-1 recorded for autograd, without the singularity check (backward formulas use it)."""
    out, _ = _run_inv(A.detach())
    return _Inv.apply(A, out) if recording(A) else out


class _Det(Function):
    @staticmethod
    def forward(ctx, A, d):
        ctx.save_for_backward(A)
        ctx.d = d
        return d.detach()

    @staticmethod
    def backward(ctx, g):
        A, = ctx.saved_tensors
        d = _differentiable_det(A) if _state.enabled else ctx.d
        return (g * d).unsqueeze(-1).unsqueeze(-1) * _differentiable_inv(A).mT, None


def _differentiable_det(A):
    d = _run_det(A.detach())
    return _Det.apply(A, d) if recording(A) else d


class _LogAbsDet(Function):
    @staticmethod
    def forward(ctx, A, logabs):
        ctx.save_for_backward(A)
        return logabs.detach()

    @staticmethod
    def backward(ctx, g):
        A, = ctx.saved_tensors
        return g.unsqueeze(-1).unsqueeze(-1) * _differentiable_inv(A).mT, None


class _Solve(Function):
    """X = A^-1 B for A (..., n, n) and B (..., n, k) of one batch shape."""

    @staticmethod
    def forward(ctx, A, Bm, X):
        ctx.save_for_backward(A, Bm)
        ctx.X = X
        return X.detach()

    @staticmethod
    def backward(ctx, g):
        A, Bm = ctx.saved_tensors
        gB = _differentiable_solve(A.mT, g)
        gA = None
        if ctx.needs_input_grad[0]:
            X = _differentiable_solve(A, Bm) if _state.enabled else ctx.X
            gA = -(gB @ X.mT)
        return gA, gB if ctx.needs_input_grad[1] else None, None


def _differentiable_solve(A, Bm):
    """A^-1 B for equal batch shapes and a matrix B, recorded for autograd, without the singularity check."""
    X, _ = _run_solve(A.detach(), Bm.detach())
    return _Solve.apply(A, Bm, X) if recording(A, Bm) else X


def _solve_right(A, Y):
    """Y A^-1 (A (..., n, n), Y (..., k, n)), differentiable."""
    return _differentiable_solve(A.mT, Y.mT).mT


class _Cholesky(Function):
    @staticmethod
    def forward(ctx, A, L):
        ctx.save_for_backward(A)
        ctx.L = L
        return L.detach()

    @staticmethod
    def backward(ctx, g):
        A, = ctx.saved_tensors
        L = _differentiable_cholesky(A) if _state.enabled else ctx.L
        # A = L L^T: the gradient is L^-T Phi(L^T gL) L^-1 with Phi halving the diagonal of the lower part and
        # mirroring the rest, which makes it symmetric (both triangles of A are treated as one variable each)
        T = (L.mT @ g).tril()
        P = 0.5 * (T + T.tril(-1).mT)
        return _solve_right(L, _differentiable_solve(L.mT, P)), None


def _differentiable_cholesky(A):
    L, _ = _run_cholesky(A.detach())
    return _Cholesky.apply(A, L) if recording(A) else L


class _EighValues(Function):
    @staticmethod
    def forward(ctx, A, w, V, lower):
        ctx.save_for_backward(A)
        ctx.w, ctx.V, ctx.lower = w, V, lower
        return w.detach()

    @staticmethod
    def backward(ctx, g):
        A, = ctx.saved_tensors
        V = _differentiable_eigh(A, ctx.lower)[1] if _state.enabled else ctx.V
        return (V * g.unsqueeze(-2)) @ V.mT, None, None, None


class _EighVectors(Function):
    @staticmethod
    def forward(ctx, A, w, V, lower):
        ctx.save_for_backward(A)
        ctx.w, ctx.V, ctx.lower = w, V, lower
        return V.detach()

    @staticmethod
    def backward(ctx, g):
        A, = ctx.saved_tensors
        w, V = _differentiable_eigh(A, ctx.lower) if _state.enabled else (ctx.w, ctx.V)
        VtG = V.mT @ g
        skew = 0.5 * (VtG - VtG.mT)  # the part that moves V along the orthogonal group
        E = w.unsqueeze(-2) - w.unsqueeze(-1) + _eye_like(V)  # w_j - w_i off the diagonal (skew has none)
        return V @ (skew / E) @ V.mT, None, None, None


def _differentiable_eigh(A, lower):
    w, V = _run_eigh(A.detach(), lower)
    if recording(A):
        return _EighValues.apply(A, w, V, lower), _EighVectors.apply(A, w, V, lower)
    return w, V


def _svd_parts(A):
    """(U, S, Vh) of the reduced SVD, recorded for autograd when A needs it (used inside backward formulas)."""
    U, S, Vh = _run_svd(A.detach(), False)
    if recording(A):
        return (_SvdPart.apply(A, U, S, Vh, 0), _SvdPart.apply(A, U, S, Vh, 1),
                _SvdPart.apply(A, U, S, Vh, 2))
    return U, S, Vh


class _SvdPart(Function):
    """One output of A = U diag(S) Vh (which = 0, 1, 2 for U, S, Vh); U and Vh may be the full ones, whose extra
    columns (rows) carry no gradient."""

    @staticmethod
    def forward(ctx, A, U, S, Vh, which):
        ctx.save_for_backward(A)
        ctx.usv, ctx.which = (U, S, Vh), which
        return (U, S, Vh)[which].detach()

    @staticmethod
    def backward(ctx, g):
        A, = ctx.saved_tensors
        m, n = A._shape[-2], A._shape[-1]
        k = min(m, n)
        if _state.enabled:
            U, S, Vh = _svd_parts(A)
        else:
            U, S, Vh = ctx.usv
            U, Vh = U[..., :k], Vh[..., :k, :]
        which = ctx.which
        if which == 1:
            return (U * g.unsqueeze(-2)) @ Vh, None, None, None, None
        S2 = S * S
        E = S2.unsqueeze(-2) - S2.unsqueeze(-1) + _eye_like(S, k)  # E_ij = S_j^2 - S_i^2, 1 on the diagonal
        if which == 0:
            gU = g[..., :k]
            UtgU = U.mT @ gU
            inner = ((UtgU - UtgU.mT) / E) * S.unsqueeze(-2)
            gA = U @ inner
            if m > k:  # the component of gU outside span(U)
                gUS = gU / S.unsqueeze(-2)
                gA = gA + gUS - U @ (U.mT @ gUS)
            return gA @ Vh, None, None, None, None
        gV = g[..., :k, :].mT
        V = Vh.mT
        VtgV = V.mT @ gV
        inner = S.unsqueeze(-1) * ((VtgV - VtgV.mT) / E)
        gA = inner @ Vh
        if n > k:
            SgVh = gV.mT / S.unsqueeze(-1)
            gA = gA + SgVh - (SgVh @ V) @ Vh
        return U @ gA, None, None, None, None


def _copyltu(M):
    """The symmetric matrix with M's lower triangle."""
    return M.tril() + M.tril(-1).mT


def _qr_square_backward(Q, R, gQ, gR):
    """Gradient of A = QR for m >= n (reduced Q): (gQ + Q copyltu(R gR^T - gQ^T Q)) R^-T."""
    M = None
    if gR is not None:
        M = R @ gR.mT
    if gQ is not None:
        M = -(gQ.mT @ Q) if M is None else M - gQ.mT @ Q
    b = Q @ _copyltu(M)
    if gQ is not None:
        b = b + gQ
    return _solve_right(R.mT, b)


class _QrPart(Function):
    """One output of A = QR (which = 0: Q, 1: R); ``mode`` as given to linalg.qr."""

    @staticmethod
    def forward(ctx, A, Q, R, which, mode):
        ctx.save_for_backward(A)
        ctx.qr, ctx.which, ctx.mode = (Q, R), which, mode
        return (Q, R)[which].detach()

    @staticmethod
    def backward(ctx, g):
        A, = ctx.saved_tensors
        m, n = A._shape[-2], A._shape[-1]
        if ctx.mode == "r":
            raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed when mode='r'. "
                               "Please use linalg.qr(A, mode='reduced') if you are going to differentiate through "
                               "linalg.qr.")
        if ctx.mode == "complete" and m > n:
            raise RuntimeError("The QR decomposition is not differentiable when mode='complete' and "
                               "nrows > ncols.")
        Q, R = _qr_parts(A) if _state.enabled else ctx.qr
        gQ, gR = (g, None) if ctx.which == 0 else (None, g)
        if m >= n:
            gA = _qr_square_backward(Q, R, gQ, gR)
        else:
            # A = Q [R1 | R2] with X = A[:, :m] = Q R1 and R2 = Q^T Y: the R2 block acts through Q and Y
            Y = A[..., m:]
            R1 = R[..., :m]
            if gR is not None:
                gR2 = gR[..., m:]
                gX = _qr_square_backward(Q, R1, Y @ gR2.mT, gR[..., :m])
                gY = Q @ gR2
            else:
                gX = _qr_square_backward(Q, R1, gQ, None)
                gY = Y * 0
            from .shape import cat
            gA = cat([gX, gY], -1)
        return gA, None, None, None, None


def _qr_parts(A):
    Q, R = _run_qr(A.detach(), False)
    if recording(A):
        return _QrPart.apply(A, Q, R, 0, "reduced"), _QrPart.apply(A, Q, R, 1, "reduced")
    return Q, R


class _Pinv(Function):
    """Moore-Penrose inverse; the gradient is that of a constant-rank pseudo-inverse."""

    @staticmethod
    def forward(ctx, A, P, atol, rtol, hermitian):
        ctx.save_for_backward(A)
        ctx.P, ctx.args = P, (atol, rtol, hermitian)
        return P.detach()

    @staticmethod
    def backward(ctx, g):
        A, = ctx.saved_tensors
        P = linalg_pinv(A, atol=ctx.args[0], rtol=ctx.args[1], hermitian=ctx.args[2]) if _state.enabled \
            else ctx.P
        Pt = P.mT
        gt = g.mT
        gA = -(Pt @ g @ Pt)
        X = gt @ (P @ Pt)  # (I - A P) g^T P P^T
        gA = gA + X - A @ (P @ X)
        Z = (Pt @ P) @ gt  # P^T P g^T (I - P A)
        gA = gA + Z - (Z @ P) @ A
        return gA, None, None, None, None


# ---------------------------------------------------------------------------------------------------------------
# public functions
# ---------------------------------------------------------------------------------------------------------------
def linalg_inv_ex(A, *, check_errors=False):
    """(inverse, info) without raising for singular input (unless ``check_errors``); info is int32."""
    _matrix(A, "linalg.inv_ex")
    out, info = _run_inv(A.detach())
    if check_errors:
        _raise_inv(A, info, "linalg.inv_ex")
    inv = _Inv.apply(A, out) if recording(A) else out
    return InvEx(inv, info)


def _raise_inv(A, info, fname):
    bad = _first_failure(info)
    if bad is not None:
        b, k = bad
        raise LinAlgError(f"{fname}: {_batch(b, A)}The diagonal element {k} is zero, the inversion could not be "
                          "completed because the input matrix is singular.")


def linalg_inv(A):
    """Inverse of a square matrix (or batch); raises ``LinAlgError`` for a singular one."""
    _matrix(A, "linalg.inv")
    out, info = _run_inv(A.detach())
    _raise_inv(A, info, "linalg.inv")
    return _Inv.apply(A, out) if recording(A) else out


def inverse(input):
    return linalg_inv(input)


def linalg_det(A):
    """Determinant of a square matrix (or batch)."""
    _matrix(A, "linalg.det")
    return _differentiable_det(A)


det = linalg_det


def _slogdet(A, fname):
    _matrix(A, fname)
    sign, logabs = _run_slogdet(A.detach())
    if recording(A):
        logabs = _LogAbsDet.apply(A, logabs)
    return sign, logabs


def linalg_slogdet(A):
    """(sign, log|det|) of a square matrix (or batch): sign 0 and log|det| -inf for a singular one."""
    return LinalgSlogdet(*_slogdet(A, "linalg.slogdet"))


def slogdet(input):
    return Slogdet(*_slogdet(input, "linalg.slogdet"))


def logdet(input):
    """log(det(A)): NaN where the determinant is negative, -inf where it is 0."""
    sign, logabs = _slogdet(input, "logdet")
    return logabs.masked_fill(sign < 0, float("nan"))


def _is_vector_rhs(A, Bm):
    return Bm.dim() == 1 or (Bm.dim() == A.dim() - 1 and Bm._shape == A._shape[:-1])


def linalg_solve(A, B, *, left=True):
    """X with A X = B (or X A = B when ``left=False``); B is a vector (shape (*, n)) or a matrix (*, n, k), as
    PyTorch decides; batch dims broadcast. Raises ``LinAlgError`` for a singular A."""
    _matrix(A, "linalg.solve")
    _tensor(B, "solve", "B")
    if A._dtype is not B._dtype:
        raise RuntimeError(f"linalg.solve: Expected A and B to have the same dtype, but found A of type "
                           f"{type_label(A._dtype)} and B of type {type_label(B._dtype)} instead")
    vector = _is_vector_rhs(A, B)
    if not left:
        if vector:
            return linalg_solve(A.mT, B)
        return linalg_solve(A.mT, B.mT).mT
    Bm = B.unsqueeze(-1) if vector else B
    n = A._shape[-1]
    if Bm.dim() < 2 or Bm._shape[-2] != n:
        rows = Bm._shape[-2] if Bm.dim() >= 2 else Bm._shape[-1]
        cols = Bm._shape[-1] if Bm.dim() >= 2 else 1
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation AX = B ({n}x{n} and "
                           f"{rows}x{cols})")
    batch = launch.broadcast_shapes(A._shape[:-2], Bm._shape[:-2])
    Ab = A.expand(batch + (n, n)) if A._shape[:-2] != batch else A
    Bb = Bm.expand(batch + Bm._shape[-2:]) if Bm._shape[:-2] != batch else Bm
    X, info = _run_solve(Ab.detach(), Bb.detach())
    bad = _first_failure(info)
    if bad is not None:
        raise LinAlgError(f"torch.linalg.solve: {_batch(bad[0], Ab)}The solver failed because the input matrix "
                          "is singular.")
    if recording(Ab, Bb):
        X = _Solve.apply(Ab, Bb, X)
    return X.squeeze(-1) if vector else X


def linalg_cholesky_ex(A, *, upper=False, check_errors=False):
    _matrix(A, "linalg.cholesky_ex")
    A = A.mT if upper else A  # upper=True reads the upper triangle: U^T is the Cholesky factor of A^T's lower
    L, info = _run_cholesky(A.detach())
    if check_errors:
        _raise_cholesky(A, info, "linalg.cholesky_ex")
    if recording(A):
        L = _Cholesky.apply(A, L)
    return CholeskyEx(L.mT if upper else L, info)


def _raise_cholesky(A, info, fname):
    bad = _first_failure(info)
    if bad is not None:
        b, k = bad
        raise LinAlgError(f"{fname}: {_batch(b, A)}The factorization could not be completed because the input is "
                          f"not positive-definite (the leading minor of order {k} is not positive-definite).")


def _cholesky(A, upper, fname):
    _matrix(A, fname)
    A = A.mT if upper else A  # upper=True reads the upper triangle: U^T is the Cholesky factor of A^T's lower
    L, info = _run_cholesky(A.detach())
    _raise_cholesky(A, info, fname)
    if recording(A):
        L = _Cholesky.apply(A, L)
    return L.mT if upper else L


def linalg_cholesky(A, *, upper=False):
    """L (lower-triangular) with A = L L^T, from A's lower triangle (U with A = U^T U, from the upper one, with
    ``upper=True``); raises
    ``LinAlgError`` when A is not positive-definite."""
    return _cholesky(A, upper, "linalg.cholesky")


def cholesky(input, upper=False):
    return _cholesky(input, upper, "cholesky")


def linalg_eigh(A, UPLO="L"):
    """(eigenvalues ascending, eigenvectors as columns) of the symmetric matrix A's lower (``UPLO='L'``) or upper
    triangle describes. Gradients assume distinct eigenvalues."""
    _matrix(A, "linalg.eigh")
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    return LinalgEigh(*_differentiable_eigh(A, UPLO == "L"))


def linalg_eigvalsh(A, UPLO="L"):
    _matrix(A, "linalg.eigvalsh")
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    return _differentiable_eigh(A, UPLO == "L")[0]


def linalg_svd(A, full_matrices=True, *, driver=None):
    """(U, S, Vh) with A = U diag(S) Vh, S descending. Gradients assume distinct singular values (and, for U and
    Vh, a loss that does not depend on their signs)."""
    _matrix(A, "linalg.svd", square=False)
    U, S, Vh = _run_svd(A.detach(), full_matrices)
    if recording(A):
        U, S, Vh = (_SvdPart.apply(A, U, S, Vh, i) for i in range(3))
    return LinalgSvd(U, S, Vh)


def linalg_svdvals(A, *, driver=None):
    _matrix(A, "linalg.svd", square=False)
    return _svd_parts(A)[1]


def svd(input, some=True, compute_uv=True):
    """The classic ``torch.svd``: (U, S, V) with A = U diag(S) V^T; with ``compute_uv=False`` U and V are zero
    (m x m) and (n x n) matrices."""
    _matrix(input, "linalg.svd", square=False)
    if not compute_uv:
        S = linalg_svdvals(input)
        m, n = input._shape[-2], input._shape[-1]
        batch = input._shape[:-2]
        U = launch.fill_(launch.empty(batch + (m, m), input._dtype, input._device), 0)
        V = launch.fill_(launch.empty(batch + (n, n), input._dtype, input._device), 0)
        return Svd(U, S, V)
    U, S, Vh = linalg_svd(input, full_matrices=not some)
    return Svd(U, S, Vh.mT)


def linalg_qr(A, mode="reduced"):
    """(Q, R) with A = QR; ``mode`` 'reduced' (Q (m, k)), 'complete' (Q (m, m)) or 'r' (Q empty)."""
    _matrix(A, "linalg.qr", square=False)
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), 'r', "
                           "or 'complete'")
    Q, R = _run_qr(A.detach(), mode == "complete")
    if recording(A):
        Qd, R = _QrPart.apply(A, Q, R, 0, mode), _QrPart.apply(A, Q, R, 1, mode)
        Q = Qd
    if mode == "r":
        Q = launch.empty((0,), A._dtype, A._device)
    return LinalgQr(Q, R)


def qr(input, some=True):
    Q, R = linalg_qr(input, "reduced" if some else "complete")
    return Qr(Q, R)


def _rank_tol(S, m, n, atol, rtol):
    """max(atol, rtol * S_max) with PyTorch's defaults (rtol = eps * max(m, n) unless atol > 0 alone)."""
    eps = 1.1920928955078125e-07 if S._dtype is float32 else 2.220446049250313e-16
    if rtol is None:
        rtol = eps * max(m, n) if atol is None or (not isinstance(atol, Tensor) and atol <= 0) else 0.0
    atol = 0.0 if atol is None else atol
    smax = S.amax(-1, keepdim=True) if S._shape[-1] else S.sum(-1, keepdim=True)
    tol = smax * rtol
    if isinstance(atol, Tensor):
        from .elementwise import maximum
        return maximum(tol, atol.unsqueeze(-1).to(S._dtype))
    return tol.clamp_min(float(atol))


def linalg_pinv(A, *, atol=None, rtol=None, hermitian=False):
    """Moore-Penrose pseudo-inverse (singular values at or below max(atol, rtol * largest) count as zero)."""
    _tensor(A, "pinv", "input")
    if A.dim() < 2 or A._dtype not in (float32, float64):
        dt = {"float32": "Float", "float64": "Double", "int64": "Long", "int32": "Int", "bool": "Bool",
              "uint8": "Byte"}[A._dtype.name]
        raise RuntimeError(f"linalg.pinv({dt}{{{list(A._shape)}}}): expected a tensor with 2 or more dimensions "
                           "of float, double, cfloat or cdouble types")
    m, n = A._shape[-2], A._shape[-1]
    Ad = A.detach()
    if hermitian:
        w, V = _run_eigh(Ad, True)
        tol = _rank_tol(w.abs(), m, n, atol, rtol)
        winv = (1 / w).masked_fill(w.abs() <= tol, 0)
        P = (V * winv.unsqueeze(-2)) @ V.mT
    else:
        U, S, Vh = _run_svd(Ad, False)
        tol = _rank_tol(S, m, n, atol, rtol)
        sinv = (1 / S).masked_fill(S <= tol, 0)
        P = (Vh.mT * sinv.unsqueeze(-2)) @ U.mT
    if recording(A):
        return _Pinv.apply(A, P, atol, rtol, hermitian)
    return P


def pinverse(input, rcond=1e-15):
    return linalg_pinv(input, rtol=rcond)


def linalg_matrix_rank(A, *, atol=None, rtol=None, hermitian=False):
    """Number of singular values above max(atol, rtol * largest) (int64)."""
    _matrix(A, "linalg.matrix_rank", square=hermitian)
    m, n = A._shape[-2], A._shape[-1]
    if hermitian:
        S = _run_eigh(A.detach(), True)[0].abs()
    else:
        S = _run_svd(A.detach(), False)[1]
    tol = _rank_tol(S, m, n, atol, rtol)
    return (S > tol).sum(-1)


_DRIVERS = ("gels", "gelsy", "gelsd", "gelss")


def linalg_lstsq(A, B, rcond=None, *, driver=None):
    """Least-squares solution of A X = B: (solution, residuals, rank, singular_values) filled as PyTorch fills
    them on the CPU: rank for gelsy/gelsd/gelss, singular values for gelsd/gelss, residuals (squared column norms
    of A X - B) for drivers other than gelsy when m > n and every matrix has full rank; the rest are empty."""
    _tensor(A, "lstsq", "input")
    _tensor(B, "lstsq", "other")
    if A.dim() < 2:
        raise RuntimeError(f"torch.linalg.lstsq: input must have at least 2 dimensions.")
    if A._dtype is not B._dtype:
        raise RuntimeError(f"torch.linalg.lstsq: Expected input and other to have the same dtype, but got input's "
                           f"dtype {type_label(A._dtype)} and other's dtype {type_label(B._dtype)}")
    if A._dtype not in (float32, float64):
        raise RuntimeError(f"torch.linalg.lstsq: Expected a floating point or complex tensor as input. Got "
                           f"{type_label(A._dtype)}")
    driver = "gelsy" if driver is None else driver
    if driver not in _DRIVERS:
        raise RuntimeError("torch.linalg.lstsq: parameter `driver` should be one of (gels, gelsy, gelsd, gelss)")
    vector = B.dim() == A.dim() - 1
    Bm = B.unsqueeze(-1) if vector else B
    m, n = A._shape[-2], A._shape[-1]
    if Bm.dim() < 2 or Bm._shape[-2] != m:
        raise RuntimeError("torch.linalg.lstsq: input.size(-2) should match other.size(-2)")
    batch = launch.broadcast_shapes(A._shape[:-2], Bm._shape[:-2])
    Ab = A.expand(batch + (m, n)) if A._shape[:-2] != batch else A
    Bb = Bm.expand(batch + Bm._shape[-2:]) if Bm._shape[:-2] != batch else Bm
    eps = 1.1920928955078125e-07 if A._dtype is float32 else 2.220446049250313e-16
    rc = eps * max(m, n) if rcond is None else rcond
    X, rank = _run_lstsq(Ab.detach(), Bb.detach(), rc)
    if recording(Ab, Bb):
        X = linalg_pinv(Ab, rtol=rc) @ Bb  # the same solution, recorded (full rank: lstsq's own gradient)
    empty = launch.empty((0,), A._dtype, A._device)
    sv = linalg_svdvals(Ab) if driver in ("gelsd", "gelss") else empty
    residuals = empty
    if driver != "gelsy" and m > n and (driver == "gels" or bool((rank == n).all())):
        residuals = ((Ab @ X - Bb) ** 2).sum(-2)
    if driver == "gels":
        rank = launch.empty((0,), int64, A._device)
    if vector:
        X = X.squeeze(-1)
        if residuals.numel():
            residuals = residuals.squeeze(-1)
    return LinalgLstsq(X, residuals, rank, sv)


def linalg_matrix_power(A, n):
    """A^n by repeated squaring; n < 0 inverts first, n = 0 gives the identity."""
    _tensor(A, "linalg_matrix_power")
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise TypeError(f"linalg_matrix_power(): argument 'n' (position 2) must be int, not {type(n).__name__}")
    if A.dim() < 2:
        raise RuntimeError("linalg.matrix_power: The input tensor A must have at least 2 dimensions.")
    if A._shape[-1] != A._shape[-2]:
        raise RuntimeError(f"linalg.matrix_power: A must be batches of square matrices, but they are "
                           f"{A._shape[-2]} by {A._shape[-1]} matrices")
    if n == 0:
        return _eye_like(A).expand(A._shape).clone() if A._dtype.is_floating_point else \
            _eye_like(A).to(A._dtype).expand(A._shape).clone()
    if n < 0:
        A = linalg_inv(A)
        n = -n
    result = None
    base = A
    while True:
        if n & 1:
            result = base if result is None else result @ base
        n >>= 1
        if not n:
            break
        base = base @ base
    return result


matrix_power = linalg_matrix_power


def linalg_multi_dot(tensors):
    """A chain of matrix products in the cheapest order; the first (last) may be 1-D, as a row (column)."""
    ts = list(tensors)
    if len(ts) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(ts)}")
    for i, t in enumerate(ts):
        _tensor(t, "multi_dot", "tensors")
        if t._dtype is not ts[0]._dtype:
            raise RuntimeError(f"multi_dot(): all tensors must have be the same dtype but tensor 0 is "
                               f"{_cname(ts[0])} and tensor {i} {_cname(t)}")
    d0, dl = ts[0].dim(), ts[-1].dim()
    if d0 not in (1, 2):
        raise RuntimeError(f"multi_dot(): the first tensor must be 1D or 2D but got {d0}D")
    if dl not in (1, 2):
        raise RuntimeError(f"multi_dot(): the last tensor must be 1D or 2D but got {dl}D")
    for i, t in enumerate(ts[1:-1], 1):
        if t.dim() != 2:
            raise RuntimeError(f"multi_dot(): tensor {i} must be 2D but got {t.dim()}D")
    mats = list(ts)
    if d0 == 1:
        mats[0] = mats[0].unsqueeze(0)
    if dl == 1:
        mats[-1] = mats[-1].unsqueeze(-1)
    for i in range(len(mats) - 1):
        if mats[i]._shape[1] != mats[i + 1]._shape[0]:
            raise RuntimeError(f"multi_dot(): tensors {i} and {i + 1} with shapes {list(ts[i]._shape)} and "
                               f"{list(ts[i + 1]._shape)} cannot be multiplied")
    out = _chain(mats)
    if d0 == 1 and dl == 1:
        return out.reshape(())
    if d0 == 1:
        return out.squeeze(0)
    if dl == 1:
        return out.squeeze(-1)
    return out


def _cname(t):
    return {"float32": "float", "float64": "double", "int64": "long int", "int32": "int"}.get(t._dtype.name,
                                                                                              t._dtype.name)


def _chain(mats):
    """Multiply in the order that needs the fewest multiply-adds (the classic matrix-chain dynamic program)."""
    dims = [mats[0]._shape[0]] + [m._shape[1] for m in mats]
    k = len(mats)
    cost = [[0] * k for _ in range(k)]
    split = [[0] * k for _ in range(k)]
    for length in range(1, k):
        for i in range(k - length):
            j = i + length
            cost[i][j] = None
            for s in range(i, j):
                c = cost[i][s] + cost[s + 1][j] + dims[i] * dims[s + 1] * dims[j + 1]
                if cost[i][j] is None or c < cost[i][j]:
                    cost[i][j], split[i][j] = c, s

    def build(i, j):
        if i == j:
            return mats[i]
        s = split[i][j]
        return build(i, s) @ build(s + 1, j)
    return build(0, k - 1)


def chain_matmul(*matrices):
    return linalg_multi_dot(matrices)


# ---------------------------------------------------------------------------------------------------------------
# norms
# ---------------------------------------------------------------------------------------------------------------
def linalg_vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):  # noqa: A002
    """The ord-norm of x over ``dim`` (all elements by default) as a vector: ord is any number, inf or -inf
    (0 counts nonzeros)."""
    from .reduce import norm as _pnorm
    _tensor(x, "linalg_vector_norm", "input")
    if isinstance(ord, bool) or not isinstance(ord, numbers.Real):
        raise TypeError(f"linalg_vector_norm(): argument 'ord' must be Number, not {type(ord).__name__}")
    if dtype is not None:
        if x._dtype is float64 and dtype is float32:
            raise RuntimeError(f"linalg.vector_norm: the dtype of the input ({type_label(x._dtype)}) should be "
                               f"convertible without narrowing to the specified dtype ({type_label(dtype)})")
        x = x.to(dtype)
    if not x._dtype.is_floating_point:
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as input. Got "
                           f"{type_label(x._dtype)}")
    if isinstance(dim, int):
        dim = (dim,)
    return _pnorm(x, ord, dim, keepdim)


_MATRIX_ORDS = ("fro", "nuc", 2, -2, 1, -1, math.inf, -math.inf)


def linalg_matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):  # noqa: A002
    """Matrix norms over the two dims ``dim``: 'fro', 'nuc' (sum of singular values), 2 / -2 (largest /
    smallest singular value), 1 / -1 (max / min column abs-sum), inf / -inf (max / min row abs-sum)."""
    _tensor(A, "linalg_matrix_norm", "input")
    if dtype is not None:
        A = A.to(dtype)
    if A.dim() < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 dimensions.")
    if not A._dtype.is_floating_point:
        raise RuntimeError(f"linalg.matrix_norm: Expected a floating point or complex tensor as input. Got "
                           f"{type_label(A._dtype)}")
    if not isinstance(dim, (tuple, list)) or len(dim) != 2:
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {dim}")
    if ord not in _MATRIX_ORDS:
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    nd = A.dim()
    d0, d1 = (d % nd if -nd <= d < nd else d for d in dim)
    if not (0 <= d0 < nd and 0 <= d1 < nd):
        raise IndexError(f"Dimension out of range (expected to be in range of [{-nd}, {nd - 1}], but got "
                         f"{dim[0] if not 0 <= d0 < nd else dim[1]})")
    if d0 == d1:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got ({dim[0]}, {dim[1]})")
    if ord == "fro":
        return linalg_vector_norm(A, 2, (d0, d1), keepdim)
    if ord in ("nuc", 2, -2):
        B = A.movedim((d0, d1), (-2, -1))
        S = linalg_svdvals(B)
        r = S.sum(-1) if ord == "nuc" else (S.amax(-1) if ord == 2 else S.amin(-1))
    else:
        if ord in (1, -1):  # column sums: reduce rows (d0), then the extreme over columns (d1)
            s = A.abs().sum(d0, keepdim=True)
            r = s.amax(d1, keepdim=True) if ord == 1 else s.amin(d1, keepdim=True)
        else:
            s = A.abs().sum(d1, keepdim=True)
            r = s.amax(d0, keepdim=True) if ord == math.inf else s.amin(d0, keepdim=True)
        return r if keepdim else r.squeeze((d0, d1) if d0 < d1 else (d1, d0))
    if keepdim:
        for d in sorted((d0, d1)):
            r = r.unsqueeze(d)
    return r


def linalg_norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):  # noqa: A002
    """Vector or matrix norm as ``torch.linalg.norm`` decides: by ``dim`` (an int: vector, a 2-tuple: matrix),
    else by A's dimensionality when ``ord`` is given; with neither, the 2-norm of all elements."""
    _tensor(A, "linalg_norm", "input")
    if isinstance(dim, int):
        dim = (dim,)
    if dim is not None:
        if len(dim) == 1:
            return linalg_vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)
        if len(dim) == 2:
            return linalg_matrix_norm(A, "fro" if ord is None else ord, dim, keepdim, dtype=dtype)
        raise RuntimeError(f"linalg.norm: If dim is specified, it must be of length 1 or 2. Got {list(dim)}")
    if ord is None:
        return linalg_vector_norm(A, 2, None, keepdim, dtype=dtype)
    if A.dim() == 1:
        return linalg_vector_norm(A, ord, None, keepdim, dtype=dtype)
    if A.dim() == 2:
        return linalg_matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype)
    raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. Got "
                       f"{A.dim()}D.")
