"""Linear-algebra kernels for the CPU: LAPACK through NumPy's linalg inside @njit (Numba's nopython versions).

Every kernel takes flat, C-ordered storages of a batch of ``B`` matrices (the launcher passes contiguous copies)
plus the sizes, and loops over the batch; the ``*_par`` variants spread the batch over Numba's threads. Failures
that PyTorch reports come back in an int32 ``info`` array instead of an exception, so the caller can raise
before returning: 0 means success, ``k > 0`` the 1-based index of the first zero pivot of the LU factorisation
(inv, solve) or the order of the first leading minor that is not positive-definite (cholesky). NaN inputs give
NaN outputs (Numba's LAPACK wrappers reject them, so they are caught first).

The symmetric kernels (cholesky, eigh) read one triangle only, as LAPACK and PyTorch do.
"""
import numpy as np
from numba import njit, prange


@njit(cache=True)
def _finite(m):
    for v in m.ravel():
        if not np.isfinite(v):
            return False
    return True


@njit(cache=True)
def _lu_info(m):
    """getrf's info for one matrix: the 1-based index of the first exactly-zero pivot (0 when there is none)."""
    a = m.astype(np.float64)
    n = a.shape[0]
    info = 0
    for k in range(n):
        p = k
        best = abs(a[k, k])
        for i in range(k + 1, n):
            if abs(a[i, k]) > best:
                best = abs(a[i, k])
                p = i
        if best == 0.0:
            if info == 0:
                info = k + 1
            continue
        if p != k:
            for j in range(n):
                a[k, j], a[p, j] = a[p, j], a[k, j]
        for i in range(k + 1, n):
            f = a[i, k] / a[k, k]
            for j in range(k + 1, n):
                a[i, j] -= f * a[k, j]
    # LAPACK's blocked LU and this one can round differently; LAPACK said singular, so report the last pivot
    return info if info else n


@njit(cache=True)
def _symmetric(m, lower):
    """The symmetric matrix that the chosen triangle of ``m`` describes."""
    n = m.shape[0]
    s = np.empty((n, n), m.dtype)
    for i in range(n):
        for j in range(i + 1):
            v = m[i, j] if lower else m[j, i]
            s[i, j] = v
            s[j, i] = v
    return s


# ---------------------------------------------------------------------------------------------------------------
# LU family: inv, solve, det, slogdet
# ---------------------------------------------------------------------------------------------------------------
@njit(cache=True)
def _inv_one(m, o):
    if not _finite(m):
        o[:, :] = np.nan
        return 0
    try:
        o[:, :] = np.linalg.inv(m)
        return 0
    except Exception:  # noqa: BLE001  (Numba raises LinAlgError for a singular matrix)
        o[:, :] = np.nan
        return _lu_info(m)


@njit(cache=True)
def inv(a, out, info, B, n):
    """out[b] = a[b]^-1 for a batch of n x n matrices; info[b] as in the module docstring."""
    A = a.reshape(B, n, n)
    O = out.reshape(B, n, n)
    for b in range(B):
        info[b] = _inv_one(A[b], O[b])


@njit(cache=True, parallel=True)
def inv_par(a, out, info, B, n):
    A = a.reshape(B, n, n)
    O = out.reshape(B, n, n)
    for b in prange(B):
        info[b] = _inv_one(A[b], O[b])


@njit(cache=True)
def _solve_one(m, r, o):
    if not (_finite(m) and _finite(r)):
        o[:, :] = np.nan
        return 0
    try:
        o[:, :] = np.linalg.solve(m, r)
        return 0
    except Exception:  # noqa: BLE001
        o[:, :] = np.nan
        return _lu_info(m)


@njit(cache=True)
def solve(a, rhs, out, info, B, n, k):
    """out[b] (n, k) solves a[b] @ out[b] = rhs[b]."""
    A = a.reshape(B, n, n)
    R = rhs.reshape(B, n, k)
    O = out.reshape(B, n, k)
    for b in range(B):
        info[b] = _solve_one(A[b], R[b], O[b])


@njit(cache=True, parallel=True)
def solve_par(a, rhs, out, info, B, n, k):
    A = a.reshape(B, n, n)
    R = rhs.reshape(B, n, k)
    O = out.reshape(B, n, k)
    for b in prange(B):
        info[b] = _solve_one(A[b], R[b], O[b])


@njit(cache=True)
def _det_one(m):
    return np.linalg.det(m) if _finite(m) else np.nan


@njit(cache=True)
def det(a, out, B, n):
    """out[b] = det(a[b]) from the LU factorisation (0 for a singular matrix, NaN for a non-finite one)."""
    A = a.reshape(B, n, n)
    for b in range(B):
        out[b] = _det_one(A[b])


@njit(cache=True, parallel=True)
def det_par(a, out, B, n):
    A = a.reshape(B, n, n)
    for b in prange(B):
        out[b] = _det_one(A[b])


@njit(cache=True)
def slogdet(a, sign, logabs, B, n):
    """(sign, log|det|) of each matrix; a singular matrix gives (0, -inf)."""
    A = a.reshape(B, n, n)
    for b in range(B):
        if _finite(A[b]):
            s, la = np.linalg.slogdet(A[b])
            sign[b] = s
            logabs[b] = la
        else:
            sign[b] = np.nan
            logabs[b] = np.nan


# ---------------------------------------------------------------------------------------------------------------
# symmetric: cholesky, eigh
# ---------------------------------------------------------------------------------------------------------------
@njit(cache=True)
def _chol_info(s):
    """potrf's info: the order of the first leading minor that is not positive-definite."""
    n = s.shape[0]
    L = np.zeros((n, n))
    for j in range(n):
        d = s[j, j] - np.sum(L[j, :j] ** 2)
        if not d > 0.0:
            return j + 1
        L[j, j] = np.sqrt(d)
        for i in range(j + 1, n):
            L[i, j] = (s[i, j] - np.sum(L[i, :j] * L[j, :j])) / L[j, j]
    return n


@njit(cache=True)
def _cholesky_one(m, o):
    s = _symmetric(m, np.bool_(True))
    if _finite(s):
        try:
            o[:, :] = np.linalg.cholesky(s)
            return 0
        except Exception:  # noqa: BLE001  (not positive-definite)
            pass
    o[:, :] = np.nan
    return _chol_info(s)


@njit(cache=True)
def cholesky(a, out, info, B, n):
    """out[b] = L with a[b] = L @ L.T (L lower-triangular), read from a's lower triangle."""
    A = a.reshape(B, n, n)
    O = out.reshape(B, n, n)
    for b in range(B):
        info[b] = _cholesky_one(A[b], O[b])


@njit(cache=True, parallel=True)
def cholesky_par(a, out, info, B, n):
    A = a.reshape(B, n, n)
    O = out.reshape(B, n, n)
    for b in prange(B):
        info[b] = _cholesky_one(A[b], O[b])


@njit(cache=True)
def eigh(a, w, v, B, n, lower):
    """Eigenvalues (ascending) and eigenvectors (columns) of the symmetric matrix each a[b]'s lower (or upper)
    triangle describes."""
    A = a.reshape(B, n, n)
    W = w.reshape(B, n)
    V = v.reshape(B, n, n)
    for b in range(B):
        s = _symmetric(A[b], lower)
        if _finite(s):
            ev, vec = np.linalg.eigh(s)
            W[b] = ev
            V[b] = vec
        else:
            W[b] = np.nan
            V[b] = np.nan


# ---------------------------------------------------------------------------------------------------------------
# orthogonal: svd, qr, lstsq
# ---------------------------------------------------------------------------------------------------------------
@njit(cache=True)
def svd(a, u, s, vh, B, m, n, full):
    """a[b] = u[b] @ diag(s[b]) @ vh[b] (gesdd); u is (m, m) and vh (n, n) when ``full``, else (m, k) and (k, n)."""
    k = min(m, n)
    A = a.reshape(B, m, n)
    S = s.reshape(B, k)
    U = u.reshape(B, m, m if full else k)
    VH = vh.reshape(B, n if full else k, n)
    for b in range(B):
        if _finite(A[b]):
            uu, ss, vv = np.linalg.svd(A[b], full_matrices=full)
            U[b] = uu
            S[b] = ss
            VH[b] = vv
        else:
            U[b] = np.nan
            S[b] = np.nan
            VH[b] = np.nan


@njit(cache=True)
def _householder_qr(a, q, r):
    """Householder QR with LAPACK's reflector conventions (geqr2 + org2r): r is (m, n) upper-trapezoidal, q the
    product of the reflectors applied to the first q.shape[1] columns of the identity."""
    m, n = a.shape
    k = min(m, n)
    R = a.astype(np.float64)
    V = np.zeros((m, k))
    tau = np.zeros(k)
    for j in range(k):
        alpha = R[j, j]
        xnorm = np.sqrt(np.sum(R[j + 1:, j] ** 2))
        if xnorm == 0.0:
            V[j, j] = 1.0
            continue
        beta = -np.copysign(np.hypot(alpha, xnorm), alpha)
        tau[j] = (beta - alpha) / beta
        V[j, j] = 1.0
        V[j + 1:, j] = R[j + 1:, j] / (alpha - beta)
        R[j, j] = beta
        R[j + 1:, j] = 0.0
        for c in range(j + 1, n):
            d = np.sum(V[j:, j] * R[j:, c])
            R[j:, c] -= tau[j] * d * V[j:, j]
    cols = q.shape[1]
    Q = np.zeros((m, cols))
    for i in range(min(m, cols)):
        Q[i, i] = 1.0
    for j in range(k - 1, -1, -1):
        for c in range(cols):
            d = np.sum(V[j:, j] * Q[j:, c])
            Q[j:, c] -= tau[j] * d * V[j:, j]
    q[:, :] = Q
    for i in range(r.shape[0]):
        for c in range(n):
            r[i, c] = R[i, c]


@njit(cache=True)
def qr(a, q, r, B, m, n, mode):
    """a[b] = q[b] @ r[b]. mode 0 ('reduced'): q (m, k), r (k, n); 1 ('complete'): q (m, m), r (m, n)."""
    k = min(m, n)
    A = a.reshape(B, m, n)
    c = m if mode == 1 else k
    Q = q.reshape(B, m, c)
    R = r.reshape(B, c, n)
    for b in range(B):
        if not _finite(A[b]):
            Q[b] = np.nan
            R[b] = np.nan
        elif mode == 0:
            qq, rq = np.linalg.qr(A[b])
            Q[b] = qq
            R[b] = rq
        else:
            _householder_qr(A[b], Q[b], R[b])


@njit(cache=True)
def lstsq(a, rhs, x, rank, B, m, n, k, rcond):
    """x[b] (n, k): the minimum-norm least-squares solution of a[b] @ x = rhs[b] (singular values at or below
    rcond * the largest count as zero); rank[b] the effective rank."""
    A = a.reshape(B, m, n)
    R = rhs.reshape(B, m, k)
    X = x.reshape(B, n, k)
    for b in range(B):
        if _finite(A[b]) and _finite(R[b]):
            sol, _, rk, _ = np.linalg.lstsq(A[b], R[b], rcond)
            X[b] = sol
            rank[b] = rk
        else:
            X[b] = np.nan
            rank[b] = 0
