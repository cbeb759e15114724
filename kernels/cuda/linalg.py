"""Linear-algebra kernels for CUDA (the same functions and arguments as kernels/cpu/linalg.py).

inv, solve, det, slogdet and cholesky are @cuda.jit kernels: one thread block per matrix (blocks loop over the
batch), an LU factorisation with partial pivoting (or a Cholesky factorisation) in global memory whose row
updates are shared by the block's threads, then triangular solves with one thread per right-hand-side column.
Any n works; they suit the batched small matrices PyTorch users invert or solve, not one huge matrix.

svd, qr, eigh and lstsq are HOST computations: the launcher copies the batch to the host, runs the CPU kernels
(LAPACK through NumPy) and copies the results back to the device.
"""
import math

import numpy as np
from numba import cuda, int32

from ..cpu import linalg as _cpu
from ._grid import MAX_BLOCKS, SIM

_THREADS = 8 if SIM else 128  # threads of a block that shares one matrix


def _blocks(B):
    return max(1, min(B, MAX_BLOCKS))


# ---------------------------------------------------------------------------------------------------------------
# LU with partial pivoting (in place), solves and determinants from it
# ---------------------------------------------------------------------------------------------------------------
@cuda.jit
def _lu(a, piv, info, B, n):
    """Factor each n x n matrix of ``a`` in place as P A = L U (unit L below the diagonal, U on and above);
    piv[b, k] is the row swapped with row k at step k; info[b] the 1-based first zero pivot (0: none)."""
    t = cuda.threadIdx.x
    nt = cuda.blockDim.x
    sp = cuda.shared.array(1, int32)
    for b in range(cuda.blockIdx.x, B, cuda.gridDim.x):
        base = b * n * n
        if t == 0:
            info[b] = 0
        for k in range(n):
            if t == 0:
                p = k
                best = abs(a[base + k * n + k])
                for i in range(k + 1, n):
                    v = abs(a[base + i * n + k])
                    if v > best:
                        best = v
                        p = i
                piv[b * n + k] = p
                sp[0] = p
                if best == 0 and info[b] == 0:
                    info[b] = k + 1
            cuda.syncthreads()
            p = sp[0]
            if p != k:
                for j in range(t, n, nt):
                    tmp = a[base + k * n + j]
                    a[base + k * n + j] = a[base + p * n + j]
                    a[base + p * n + j] = tmp
            cuda.syncthreads()
            d = a[base + k * n + k]
            if d != 0:
                for i in range(k + 1 + t, n, nt):
                    f = a[base + i * n + k] / d
                    a[base + i * n + k] = f
                    for j in range(k + 1, n):
                        a[base + i * n + j] -= f * a[base + k * n + j]
            cuda.syncthreads()


@cuda.jit
def _lu_solve(lu, piv, rhs, identity, out, B, n, k):
    """out[b] (n, k) = A^-1 rhs[b] from the factors of ``_lu`` (rhs is the identity when ``identity``); one
    thread per right-hand-side column."""
    t = cuda.threadIdx.x
    nt = cuda.blockDim.x
    for b in range(cuda.blockIdx.x, B, cuda.gridDim.x):
        base = b * n * n
        ob = b * n * k
        for c in range(t, k, nt):
            for i in range(n):
                if identity:
                    out[ob + i * k + c] = 1 if i == c else 0
                else:
                    out[ob + i * k + c] = rhs[ob + i * k + c]
            for i in range(n):
                p = piv[b * n + i]
                if p != i:
                    tmp = out[ob + i * k + c]
                    out[ob + i * k + c] = out[ob + p * k + c]
                    out[ob + p * k + c] = tmp
            for i in range(n):
                s = out[ob + i * k + c]
                for j in range(i):
                    s -= lu[base + i * n + j] * out[ob + j * k + c]
                out[ob + i * k + c] = s
            for i in range(n - 1, -1, -1):
                s = out[ob + i * k + c]
                for j in range(i + 1, n):
                    s -= lu[base + i * n + j] * out[ob + j * k + c]
                out[ob + i * k + c] = s / lu[base + i * n + i]


@cuda.jit
def _lu_det(lu, piv, B, n, log, det_out, sign_out):
    """det(A) = (-1)^swaps * prod(diag U) into det_out, or (sign, log|det|) into (sign_out, det_out) when ``log``;
    one thread per matrix."""
    for b in range(cuda.grid(1), B, cuda.gridsize(1)):
        base = b * n * n
        sgn = 1.0
        prod = 1.0
        la = 0.0
        for i in range(n):
            d = lu[base + i * n + i]
            if piv[b * n + i] != i:
                sgn = -sgn
            if log:
                if d < 0:
                    sgn = -sgn
                la += math.log(abs(d)) if d != 0 else -math.inf  # (the simulator's log(0) raises)
            else:
                prod *= d
        if log:
            if la == -math.inf:
                sgn = 0.0
            elif la != la:
                sgn = la
            sign_out[b] = sgn
            det_out[b] = la
        else:
            det_out[b] = sgn * prod


def _factor(a, B, n):
    lu = cuda.device_array(B * n * n, a.dtype)
    lu.copy_to_device(a[:B * n * n])
    piv = cuda.device_array(max(1, B * n), np.int32)
    info = cuda.device_array(max(1, B), np.int32)
    _lu[_blocks(B), _THREADS](lu, piv, info, B, n)
    return lu, piv, info


def inv(a, out, info, B, n):
    """out[b] = a[b]^-1; info[b]: 1-based first zero pivot (0: success)."""
    if B == 0 or n == 0:
        return
    lu, piv, inf = _factor(a, B, n)
    _lu_solve[_blocks(B), _THREADS](lu, piv, lu, True, out, B, n, n)
    info.copy_to_device(inf[:B])


inv_par = inv


def solve(a, rhs, out, info, B, n, k):
    """out[b] (n, k) solves a[b] @ out[b] = rhs[b]; info as for inv."""
    if B == 0 or n == 0:
        return
    lu, piv, inf = _factor(a, B, n)
    if k:
        _lu_solve[_blocks(B), _THREADS](lu, piv, rhs, False, out, B, n, k)
    info.copy_to_device(inf[:B])


solve_par = solve


def det(a, out, B, n):
    if B == 0:
        return
    lu, piv, _ = _factor(a, B, n)
    _lu_det[_blocks(B), _THREADS](lu, piv, B, n, False, out, out)


det_par = det


def slogdet(a, sign, logabs, B, n):
    if B == 0:
        return
    lu, piv, _ = _factor(a, B, n)
    _lu_det[_blocks(B), _THREADS](lu, piv, B, n, True, logabs, sign)


# ---------------------------------------------------------------------------------------------------------------
# Cholesky
# ---------------------------------------------------------------------------------------------------------------
@cuda.jit
def _cholesky(a, out, info, B, n):
    """out[b] = L (lower) with a[b] = L L^T from a's lower triangle; info[b]: order of the first leading minor
    that is not positive-definite (0: success). Column j: thread 0 takes the diagonal, the block the rows below."""
    t = cuda.threadIdx.x
    nt = cuda.blockDim.x
    failed = cuda.shared.array(1, int32)
    for b in range(cuda.blockIdx.x, B, cuda.gridDim.x):
        base = b * n * n
        for e in range(t, n * n, nt):
            i = e // n
            j = e - i * n
            out[base + e] = a[base + e] if j <= i else 0
        if t == 0:
            info[b] = 0
            failed[0] = 0
        cuda.syncthreads()
        for j in range(n):
            if t == 0:
                d = out[base + j * n + j]
                for q in range(j):
                    d -= out[base + j * n + q] * out[base + j * n + q]
                if d > 0:
                    out[base + j * n + j] = math.sqrt(d)
                else:
                    info[b] = j + 1
                    failed[0] = 1
            cuda.syncthreads()
            if failed[0] != 0:
                break
            djj = out[base + j * n + j]
            for i in range(j + 1 + t, n, nt):
                s = out[base + i * n + j]
                for q in range(j):
                    s -= out[base + i * n + q] * out[base + j * n + q]
                out[base + i * n + j] = s / djj
            cuda.syncthreads()
        cuda.syncthreads()


def cholesky(a, out, info, B, n):
    if B == 0 or n == 0:
        return
    _cholesky[_blocks(B), _THREADS](a, out, info, B, n)


cholesky_par = cholesky


# ---------------------------------------------------------------------------------------------------------------
# host computations (documented above): eigh, svd, qr, lstsq
# ---------------------------------------------------------------------------------------------------------------
def _host(x):
    return x.copy_to_host()


def _back(dev, host):
    if host.size:
        dev[:host.size].copy_to_device(host)


def eigh(a, w, v, B, n, lower):
    """Host computation: LAPACK on a host copy, results copied back."""
    hw = np.empty(B * n, w.dtype)
    hv = np.empty(B * n * n, v.dtype)
    _cpu.eigh(_host(a)[:B * n * n], hw, hv, B, n, lower)
    _back(w, hw)
    _back(v, hv)


def svd(a, u, s, vh, B, m, n, full):
    """Host computation: LAPACK on a host copy, results copied back."""
    k = min(m, n)
    hu = np.empty(B * m * (m if full else k), u.dtype)
    hs = np.empty(B * k, s.dtype)
    hv = np.empty(B * n * (n if full else k), vh.dtype)
    _cpu.svd(_host(a)[:B * m * n], hu, hs, hv, B, m, n, full)
    _back(u, hu)
    _back(s, hs)
    _back(vh, hv)


def qr(a, q, r, B, m, n, mode):
    """Host computation: LAPACK on a host copy, results copied back."""
    c = m if mode == 1 else min(m, n)
    hq = np.empty(B * m * c, q.dtype)
    hr = np.empty(B * c * n, r.dtype)
    _cpu.qr(_host(a)[:B * m * n], hq, hr, B, m, n, mode)
    _back(q, hq)
    _back(r, hr)


def lstsq(a, rhs, x, rank, B, m, n, k, rcond):
    """Host computation: LAPACK on a host copy, results copied back."""
    hx = np.empty(B * n * k, x.dtype)
    hr = np.empty(B, rank.dtype)
    _cpu.lstsq(_host(a)[:B * m * n], _host(rhs)[:B * m * k], hx, hr, B, m, n, k, rcond)
    _back(x, hx)
    _back(rank, hr)
