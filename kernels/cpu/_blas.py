"""A strided GEMM for the CPU kernels: ``gemm`` is BLAS's sgemm/dgemm on row-major operands with row strides.

Numba's ``np.dot`` takes contiguous arrays only and allocates its result, so a kernel reading rows out of a larger
layout (heads sliced from a packed projection: rows ``H * E`` apart) must first gather them into scratch, and a
product that accumulates (``C += A @ B``) needs a temporary and an add pass. ``gemm`` passes the leading dimensions
and ``beta`` through to the same BLAS ``np.dot`` calls (SciPy's, behind Numba's ``numba_xxgemm`` helper, which
Numba itself uses for ``np.dot`` and ``pinv`` and which resolves in cached kernels too), so neither is needed.

``gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)`` sets ``C = alpha * op(A) @ op(B) + beta * C`` for
row-major ``C`` (m, n) with rows ``ldc`` elements apart starting at ``c[0]``; ``op(A)`` is (m, k): ``A`` (m, k)
with row stride ``lda`` read from ``a[0]``, or ``A^T`` when ``ta`` (``A`` stored (k, m)); the same for ``B``.
float32 and float64 storages (one dtype for all three). With ``beta == 0`` C's old contents are not read (NaN in
it does not propagate, as BLAS specifies). The caller keeps m*n*k small when calling from a prange body: OpenBLAS
threads larger products itself.
"""
import numpy as np
from numba import types
from numba.extending import overload


def _signature(dtype):
    p = types.CPointer(dtype)
    return types.intc(types.char, types.char, types.char, types.intp, types.intp, types.intp, p, p, types.intp, p,
                      types.intp, p, p, types.intp)


_XXGEMM = {np.dtype(np.float32): (types.ExternalFunction("numba_xxgemm", _signature(types.float32)), ord("s")),
           np.dtype(np.float64): (types.ExternalFunction("numba_xxgemm", _signature(types.float64)), ord("d"))}
_N, _T = ord("N"), ord("T")


def gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc):
    """The same product in NumPy (outside compiled code: a reference for tests)."""
    def view(x, rows, cols, ld, t):
        v = np.lib.stride_tricks.as_strided(x, (cols, rows) if t else (rows, cols), (ld * x.itemsize, x.itemsize))
        return v.T if t else v
    cv = np.lib.stride_tricks.as_strided(c, (m, n), (ldc * c.itemsize, c.itemsize))
    prod = alpha * (view(a, m, k, lda, ta) @ view(b, k, n, ldb, tb))
    cv[...] = prod if beta == 0 else prod + beta * cv


@overload(gemm)
def _gemm_impl(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc):
    key = np.dtype(a.dtype.name) if isinstance(a, types.Array) else None
    if key not in _XXGEMM:
        return None
    fn, kind = _XXGEMM[key]
    dt = key.type

    def impl(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc):
        s = np.empty(2, dt)
        s[0] = alpha
        s[1] = beta
        # column-major BLAS on row-major data: C^T = op(B)^T op(A)^T, where a row-major (r, c) matrix with row
        # stride ld is its column-major transpose with leading dimension ld
        fn(kind, _T if tb else _N, _T if ta else _N, n, m, k, s[0:].ctypes, b.ctypes, max(ldb, 1), a.ctypes,
           max(lda, 1), s[1:].ctypes, c.ctypes, max(ldc, 1))
    return impl
