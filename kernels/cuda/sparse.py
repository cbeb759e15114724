"""Sparse COO products on CUDA, as the CPU's (kernels/cpu/sparse.py): one thread per output element, grid-stride."""
from numba import cuda

from ._grid import THREADS, blocks


@cuda.jit
def _csr_mm(rowptr, cols, vals, d, do, N, out, n):
    for p in range(cuda.grid(1), n, cuda.gridsize(1)):
        r = p // N
        j = p - r * N
        s = 0.0
        for k in range(rowptr[r], rowptr[r + 1]):
            s += vals[k] * d[do + cols[k] * N + j]
        out[p] = s


def csr_mm(rowptr, cols, vals, d, do, K, N, out):
    """out (M, N) = S @ D, a thread per element of out summing its row's entries."""
    n = out.size
    if n:
        _csr_mm[blocks(n), THREADS](rowptr, cols, vals, d, do, N, out, n)


@cuda.jit
def _coo_dots(rows, cols, g, go, d, do, N, out, n):
    for k in range(cuda.grid(1), n, cuda.gridsize(1)):
        r = rows[k]
        c = cols[k]
        s = 0.0
        for j in range(N):
            s += g[go + r * N + j] * d[do + c * N + j]
        out[k] = s


def coo_dots(rows, cols, g, go, M, d, do, K, N, out):
    """out[k] = G[rows[k]] . D[cols[k]], a thread per entry."""
    n = out.size
    if n:
        _coo_dots[blocks(n), THREADS](rows, cols, g, go, d, do, N, out, n)
