"""Sparse COO products on the CPU: a sparse matrix in CSR order (its entries sorted by row, ``rowptr[r]`` ..
``rowptr[r+1]`` the entries of row r) times a dense one, and the per-entry dot products its values' gradient needs.
Dense operands are contiguous (K, N) blocks at an offset of their 1-D storage; the launcher checks every index."""
import numpy as np
from numba import njit, prange


@njit(cache=True, parallel=True, error_model="numpy")
def csr_mm(rowptr, cols, vals, d, do, K, N, out):
    """out (M, N) = S @ D: S the CSR matrix (rowptr (M+1), cols, vals), D (K, N) at offset do of d. A thread takes
    whole rows, each row of out accumulated in place over its entries (a run of N elements per entry)."""
    M = rowptr.size - 1
    dm = d[do:do + K * N].reshape(K, N)
    om = out.reshape(M, N)
    for r in prange(M):
        for j in range(N):
            om[r, j] = 0
        for k in range(rowptr[r], rowptr[r + 1]):
            v = vals[k]
            c = cols[k]
            for j in range(N):
                om[r, j] += v * dm[c, j]


@njit(cache=True, parallel=True, error_model="numpy")
def coo_dots(rows, cols, g, go, M, d, do, K, N, out):
    """out[k] = G[rows[k]] . D[cols[k]] for every entry k (float64 sums): G (M, N) at offset go of g, D (K, N) at
    offset do of d."""
    gm = g[go:go + M * N].reshape(M, N)
    dm = d[do:do + K * N].reshape(K, N)
    for k in prange(rows.size):
        r = rows[k]
        c = cols[k]
        s = np.float64(0)
        for j in range(N):
            s += gm[r, j] * dm[c, j]
        out[k] = s
