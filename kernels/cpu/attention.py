"""Fused scaled dot-product attention (flash-attention style): scores, a streaming softmax and the output product in
one pass over key blocks, so no (L, S) score matrix is ever held.

Layouts: ``q``, ``k``, ``v``, ``out`` (and in the backward ``dout``, ``dq``, ``dk``, ``dv``) are flat storages
read from their tensor's offset, with the strides (sN, sH, sL) of their (N, H, rows, width) view and unit stride
along the last dim: element (n, h, i, e) is ``x[n*sN + h*sH + i*sL + e]``. So heads sliced out of a packed (N, L,
3*E) in-projection are read in place, and the output can be written straight into an (N, L, H, Ev) layout. Rows
that are not packed (sL != width) are gathered into per-worker scratch before the BLAS calls. ``lse`` is contiguous
(N*H, L) and holds each query row's log-sum-exp of its scaled, masked scores (-inf for a row no key may attend
to; such a row's output and gradients are 0). The additive float mask, when ``has_mask``, is read at
``mask[n*mN + h*mH + i*mL + j*mS]`` for batch item n = bh // H, head h = bh % H, so a broadcast mask (stride 0) is
never expanded. ``causal`` hides key j from query i when j > i (top-left aligned, as PyTorch) without a mask array.

Peak extra memory is one (BQ, BK) score block (see ``_blocks``) and one (BQ, Ev) accumulator per worker, plus the
O(L) ``lse``; the backward pass recomputes the probabilities block by block from ``lse`` (and needs
D = rowsum(dO * O), also O(L)).
"""
import math

import numpy as np
from numba import njit, prange

from .activation import _exp_f32, _row_max
from .rnn import _exp

NEG_INF = -np.inf
# OpenBLAS runs a GEMM with m*n*k <= 65536 * 4 on the calling thread and threads larger ones; from inside a prange
# those threads fight the Numba workers for the cores (measured: 9 s instead of 0.4 s on 2 cores), so every block
# product here is kept at or under that size.
_GEMM_SERIAL = 262144


@njit(cache=True, inline="always")
def _blocks(E, Ev):
    """(query rows, keys) per block for head dims E, Ev: as large as fits a single-threaded BLAS call."""
    d = max(E, Ev, 1)
    bq = 64 if d <= 64 else 32
    bk = max(8, min(128, _GEMM_SERIAL // (bq * d)))
    return bq, bk


@njit(cache=True, inline="always")
def _scores(s, i0, j0, scale, mask, mbase, mL, mS, has_mask, causal):
    """Scale the raw block q.k^T in place and apply the additive mask and the causal cut (one simple loop per
    case over each row, unsigned indices: each vectorizes)."""
    nq, nk = s.shape
    sc = s.dtype.type(scale)
    for r in range(nq):
        i = i0 + r
        row = s[r]
        if has_mask:
            mrow = mbase + i * mL + j0 * mS
            if mS == 1:
                for c in range(nk):
                    row[c] = row[c] * sc + mask[np.uint64(mrow + c)]
            else:
                for c in range(nk):
                    row[c] = row[c] * sc + mask[np.uint64(mrow + c * mS)]
        else:
            for c in range(nk):
                row[c] = row[c] * sc
        if causal:
            for c in range(max(0, i + 1 - j0), nk):  # keys j = j0 + c > i
                row[c] = NEG_INF


@njit(cache=True, inline="always")
def _row_sum(row, n):
    """sum(row[:n]) with eight partial sums (one float sum chain cannot be vectorized without reassociation)."""
    a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = row.dtype.type(0)
    c = 0
    while c + 8 <= n:
        a0 += row[c]
        a1 += row[c + 1]
        a2 += row[c + 2]
        a3 += row[c + 3]
        a4 += row[c + 4]
        a5 += row[c + 5]
        a6 += row[c + 6]
        a7 += row[c + 7]
        c += 8
    t = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7))
    while c < n:
        t += row[c]
        c += 1
    return t


@njit(cache=True, inline="always")
def _exp_row(s, r, n, mx):
    """s[r, :n] = exp(s[r, :n] - mx) (0 where the score is -inf, NaN stays NaN) and their sum, from operations LLVM
    vectorizes (libm's exp is a scalar call per score); float32 scores in float32 arithmetic."""
    row = s[r]
    if s.itemsize == 4:
        m32 = np.float32(mx)
        lo = np.float32(-87.0)
        z = np.float32(0.0)
        for c in range(n):
            x = np.float32(row[c]) - m32  # (a no-op cast: the branch must also type for float64 rows)
            row[c] = z if x <= lo else _exp_f32(x)
    else:
        for c in range(n):
            x = row[c] - mx
            row[c] = 0.0 if x <= -87.0 else _exp(x)
    return _row_sum(row, n)


@njit(cache=True, inline="always")
def _rows(x, base, n, width, rs, buf):
    """The (n, width) matrix x[base + i*rs + e]: a view when its rows are packed (rs == width), else a copy in buf."""
    if rs == width:
        return x[base:base + n * width].reshape((n, width))
    b = buf[:n]
    for i in range(n):
        for e in range(width):
            b[i, e] = x[base + i * rs + e]
    return b


@njit(cache=True, inline="always")
def _scatter(x, base, n, width, rs, b):
    """Write back what ``_rows`` gathered (a no-op when it was a view)."""
    if rs != width:
        for i in range(n):
            for e in range(width):
                x[base + i * rs + e] = b[i, e]


@njit(cache=True, inline="always")
def _scratch(dtype, n, width, rs):
    return np.empty((n if rs != width else 0, width), dtype=dtype)


@njit(cache=True, parallel=True, error_model="numpy")
def sdpa_forward(q, qs, k, ks, v, vs, mask, mN, mH, mL, mS, has_mask, causal, scale, N, H, L, S, E, Ev, out, os,
                 lse):
    """out = softmax(q k^T * scale + mask) v per (batch, head), and the per-row log-sum-exp for the backward."""
    BH = N * H
    lse2 = lse.reshape((BH, L))
    BQ, BK = _blocks(E, Ev)
    nqb = (L + BQ - 1) // BQ
    for task in prange(BH * nqb):  # (batch*head, query block): the blocks write disjoint rows
        bh = task // nqb
        i0 = (task - bh * nqb) * BQ
        i1 = min(i0 + BQ, L)
        nq = i1 - i0
        n = bh // H
        h = bh - n * H
        mbase = n * mN + h * mH
        jend = min(S, i1) if causal else S  # under the causal cut no row of the block sees a key >= i1
        Qb = _rows(q, n * qs[0] + h * qs[1] + i0 * qs[2], nq, E, qs[2], _scratch(q.dtype, nq, E, qs[2]))
        K = _rows(k, n * ks[0] + h * ks[1], jend, E, ks[2], _scratch(q.dtype, jend, E, ks[2]))
        V = _rows(v, n * vs[0] + h * vs[1], jend, Ev, vs[2], _scratch(q.dtype, jend, Ev, vs[2]))
        m = np.full(nq, NEG_INF, dtype=q.dtype)
        l = np.zeros(nq, dtype=q.dtype)
        acc = np.zeros((nq, Ev), dtype=q.dtype)
        for j0 in range(0, jend, BK):
            j1 = min(j0 + BK, jend)
            s = np.dot(Qb, K[j0:j1].T)
            _scores(s, i0, j0, scale, mask, mbase, mL, mS, has_mask, causal)
            for r in range(nq):
                bmax = _row_max(s[r], j1 - j0)
                mold = m[r]
                mnew = mold if mold > bmax else bmax
                if mnew == NEG_INF:  # every key so far is masked for this row (or its scores are NaN)
                    for c in range(j1 - j0):
                        if s[r, c] != s[r, c]:
                            l[r] = np.nan  # a NaN score makes the row NaN, as in PyTorch
                        s[r, c] = 0.0
                    continue
                alpha = math.exp(mold - mnew)
                rs = _exp_row(s, r, j1 - j0, mnew)
                l[r] = l[r] * alpha + rs
                m[r] = mnew
                if alpha != 1.0:
                    for e in range(Ev):
                        acc[r, e] *= alpha
            acc += np.dot(s, V[j0:j1])
        obase = n * os[0] + h * os[1]
        for r in range(nq):
            o = obase + (i0 + r) * os[2]
            if not l[r] <= 0.0:  # a NaN score makes its row NaN, as in PyTorch
                inv = 1.0 / l[r]
                for e in range(Ev):
                    out[o + e] = acc[r, e] * inv
                lse2[bh, i0 + r] = m[r] + math.log(l[r])
            else:
                for e in range(Ev):
                    out[o + e] = 0.0
                lse2[bh, i0 + r] = NEG_INF


@njit(cache=True, parallel=True, error_model="numpy")
def sdpa_backward(q, qs, k, ks, v, vs, mask, mN, mH, mL, mS, has_mask, causal, scale, N, H, L, S, E, Ev, out, os,
                  lse, dout, gs, dq, dqs, dk, dks, dv, dvs):
    """Gradients of q, k, v (written to dq, dk, dv) from dout, recomputing the probabilities block by block."""
    BH = N * H
    lse2 = lse.reshape((BH, L))
    BQ, BK = _blocks(E, Ev)
    for bh in prange(BH):  # dk/dv rows gather over every query block, so one worker owns a whole (batch, head)
        n = bh // H
        h = bh - n * H
        mbase = n * mN + h * mH
        Q = _rows(q, n * qs[0] + h * qs[1], L, E, qs[2], _scratch(q.dtype, L, E, qs[2]))
        K = _rows(k, n * ks[0] + h * ks[1], S, E, ks[2], _scratch(q.dtype, S, E, ks[2]))
        V = _rows(v, n * vs[0] + h * vs[1], S, Ev, vs[2], _scratch(q.dtype, S, Ev, vs[2]))
        Ou = _rows(out, n * os[0] + h * os[1], L, Ev, os[2], _scratch(q.dtype, L, Ev, os[2]))
        dO = _rows(dout, n * gs[0] + h * gs[1], L, Ev, gs[2], _scratch(q.dtype, L, Ev, gs[2]))
        qb, kb, vb = n * dqs[0] + h * dqs[1], n * dks[0] + h * dks[1], n * dvs[0] + h * dvs[1]
        dQ = _rows(dq, qb, L, E, dqs[2], _scratch(q.dtype, L, E, dqs[2]))
        dK = _rows(dk, kb, S, E, dks[2], _scratch(q.dtype, S, E, dks[2]))
        dV = _rows(dv, vb, S, Ev, dvs[2], _scratch(q.dtype, S, Ev, dvs[2]))
        dQ[:] = 0.0
        dK[:] = 0.0
        dV[:] = 0.0
        for i0 in range(0, L, BQ):
            i1 = min(i0 + BQ, L)
            nq = i1 - i0
            Qb = Q[i0:i1]
            dOb = dO[i0:i1]
            Ob = Ou[i0:i1]
            D = np.empty(nq, dtype=q.dtype)
            prod = np.empty(Ev, dtype=q.dtype)
            for r in range(nq):
                a, b = dOb[r], Ob[r]
                for e in range(Ev):
                    prod[e] = a[e] * b[e]
                D[r] = _row_sum(prod, Ev)
            jend = min(S, i1) if causal else S
            for j0 in range(0, jend, BK):
                j1 = min(j0 + BK, jend)
                p = np.dot(Qb, K[j0:j1].T)
                _scores(p, i0, j0, scale, mask, mbase, mL, mS, has_mask, causal)
                for r in range(nq):
                    z = lse2[bh, i0 + r]
                    if z == NEG_INF:
                        p[r, :j1 - j0] = 0.0
                    else:
                        _exp_row(p, r, j1 - j0, z)
                dV[j0:j1] += np.dot(p.T, dOb)
                ds = np.dot(dOb, V[j0:j1].T)
                sc = q.dtype.type(scale)
                for r in range(nq):
                    dr, pr, d = ds[r], p[r], D[r]
                    for c in range(j1 - j0):
                        dr[c] = pr[c] * (dr[c] - d) * sc
                dQ[i0:i1] += np.dot(ds, K[j0:j1])
                dK[j0:j1] += np.dot(ds.T, Qb)
        _scatter(dq, qb, L, E, dqs[2], dQ)
        _scatter(dk, kb, S, E, dks[2], dK)
        _scatter(dv, vb, S, Ev, dvs[2], dV)
