"""Matrix-multiply kernels.

* ``bmm_blas``: float32/float64 through ``np.dot`` inside ``@njit`` (Numba calls the BLAS that SciPy ships).
  Operands are C-contiguous 3-D stacks; a flag says that a stack holds the transposes, so a transposed operand
  (an F-ordered matrix) reaches BLAS without a copy.
* ``bmm_tiled``: a hand-written, cache-tiled GEMM over arbitrary strides for every other dtype (integers), and the
  independent reference that the tests compare the BLAS path against.
"""
import os

import numpy as np
from numba import njit, prange

# OpenBLAS worker threads busy-wait for about 2**28 cycles after each call before they sleep, so after a threaded
# GEMM they keep both cores away from the Numba kernels that follow (measured: a CNN training step took 88 ms
# instead of 32 ms). 2**4 cycles makes them sleep at once. OpenBLAS reads this when SciPy's copy (the one np.dot
# in @njit calls) loads, which is after this import unless the program imported scipy.linalg first.
os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")

TILE = 64


@njit(cache=True)
def bmm_blas(a, ta, b, tb, out):
    """out[i] = op(a[i]) @ op(b[i]) where op transposes when the flag is set; batch dims of size 1 broadcast."""
    nb = out.shape[0]
    for i in range(nb):
        x = a[i if a.shape[0] > 1 else 0]
        y = b[i if b.shape[0] > 1 else 0]
        if ta and tb:
            np.dot(x.T, y.T, out[i])
        elif ta:
            np.dot(x.T, y, out[i])
        elif tb:
            np.dot(x, y.T, out[i])
        else:
            np.dot(x, y, out[i])


@njit(cache=True, inline="always")
def _tile(a, ao, sa0, sa1, b, bo, sb0, sb1, out, oo, N, K, i0, i1, j0, j1):
    for k0 in range(0, K, TILE):
        k1 = min(K, k0 + TILE)
        for i in range(i0, i1):
            for k in range(k0, k1):
                x = a[ao + i * sa0 + k * sa1]
                for j in range(j0, j1):
                    out[oo + i * N + j] += x * b[bo + k * sb0 + j * sb1]


@njit(cache=True, parallel=True)
def bmm_tiled(a, ao, sab, sa0, sa1, b, bo, sbb, sb0, sb1, out, B, M, N, K):
    """out (B*M*N, zero-filled by the launcher) += a[B, M, K] @ b[B, K, N] over element strides."""
    mt = (M + TILE - 1) // TILE
    nt = (N + TILE - 1) // TILE
    for t in prange(B * mt * nt):
        bi = t // (mt * nt)
        rest = t - bi * mt * nt
        ti = rest // nt
        tj = rest - ti * nt
        _tile(a, ao + bi * sab, sa0, sa1, b, bo + bi * sbb, sb0, sb1, out, bi * M * N, N, K,
              ti * TILE, min(M, ti * TILE + TILE), tj * TILE, min(N, tj * TILE + TILE))


# ---------------------------------------------------------------------------------------------------------------
# BLAS threads (host side, not a kernel)
# ---------------------------------------------------------------------------------------------------------------
_blas = {"controller": None, "threads": None}


def set_blas_threads(n):
    """Set the thread count of the BLAS that ``np.dot`` inside ``@njit`` calls (SciPy's OpenBLAS).

    Small GEMMs run single-threaded: OpenBLAS worker threads spin after each call and would take the cores
    from the Numba kernels that follow. Large GEMMs use every core. A no-op when threadpoolctl is missing.
    """
    if _blas["threads"] == n:
        return
    ctl = _blas["controller"]
    if ctl is None:
        try:
            import scipy.linalg.cython_blas  # noqa: F401  (make sure the library Numba binds to is loaded)
            from threadpoolctl import ThreadpoolController
            ctl = [c for c in ThreadpoolController().lib_controllers
                   if c.user_api == "blas" and "scipy" in c.filepath and "numpy" not in c.filepath]
        except ImportError:
            ctl = []
        _blas["controller"] = ctl
    for c in ctl:
        c.set_num_threads(n)
    _blas["threads"] = n
