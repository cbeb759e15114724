"""Fused scaled dot-product attention (flash-attention style): scores, a streaming softmax and the output product in
one pass over key blocks, so no (L, S) score matrix is ever held.

Layouts: ``q``, ``k``, ``v``, ``out`` (and in the backward ``dout``, ``dq``, ``dk``, ``dv``) are flat storages
read from their tensor's offset, with the strides (sN, sH, sL) of their (N, H, rows, width) view and unit stride
along the last dim: element (n, h, i, e) is ``x[n*sN + h*sH + i*sL + e]``. So heads sliced out of a packed (N, L,
3*E) in-projection are read in place, and the output can be written straight into an (N, L, H, Ev) layout: the
block products are BLAS calls given each operand's row stride (``_blas.gemm``), so no rows are gathered into scratch
and the gradients accumulate in place. ``lse`` is contiguous
(N*H, L) and holds each query row's log-sum-exp of its scaled, masked scores (-inf for a row no key may attend
to; such a row's output and gradients are 0). The additive float mask, when ``has_mask``, is read at
``mask[n*mN + h*mH + i*mL + j*mS]`` for batch item n = bh // H, head h = bh % H, so a broadcast mask (stride 0) is
never expanded. ``causal`` hides key j from query i when j > i (top-left aligned, as PyTorch) without a mask array.

Peak extra memory is one (BQ, BK) score block (see ``_blocks``) and one (BQ, Ev) accumulator per worker, plus the
O(L) ``lse``; the backward pass recomputes the probabilities block by block from ``lse`` (two (BQ, BK) blocks per
worker, and D = rowsum(dO * O) per query block).
"""
import math

import numpy as np
from numba import njit, prange

from ._blas import gemm
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
def _zero_rows(x, base, n, width, rs):
    for i in range(n):  # each row through a view from 0, so the stores vectorize (x[o + e] stored one by one)
        row = x[base + i * rs:base + i * rs + width]
        for e in range(width):
            row[e] = 0.0


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
        qb = n * qs[0] + h * qs[1] + i0 * qs[2]
        kb = n * ks[0] + h * ks[1]
        vb = n * vs[0] + h * vs[1]
        sbuf = np.empty(nq * BK, dtype=q.dtype)
        m = np.full(nq, NEG_INF, dtype=q.dtype)
        l = np.zeros(nq, dtype=q.dtype)
        acc = np.zeros((nq, Ev), dtype=q.dtype)
        for j0 in range(0, jend, BK):
            j1 = min(j0 + BK, jend)
            nk = j1 - j0
            s = sbuf[:nq * nk].reshape((nq, nk))
            gemm(False, True, nq, nk, E, 1.0, q[qb:], qs[2], k[kb + j0 * ks[2]:], ks[2], 0.0, sbuf, nk)
            _scores(s, i0, j0, scale, mask, mbase, mL, mS, has_mask, causal)
            for r in range(nq):
                bmax = _row_max(s[r], nk)
                mold = m[r]
                mnew = mold if mold > bmax else bmax
                if mnew == NEG_INF:  # every key so far is masked for this row (or its scores are NaN)
                    for c in range(nk):
                        if s[r, c] != s[r, c]:
                            l[r] = np.nan  # a NaN score makes the row NaN, as in PyTorch
                        s[r, c] = 0.0
                    continue
                rs = _exp_row(s, r, nk, mnew)
                if mold == NEG_INF:  # the row's first visible keys: acc and l are still 0 (or l NaN, kept)
                    l[r] = l[r] + rs
                else:
                    alpha = math.exp(mold - mnew)
                    l[r] = l[r] * alpha + rs
                    if alpha != 1.0:
                        ar = acc[r]
                        for e in range(Ev):
                            ar[e] *= alpha
                m[r] = mnew
            gemm(False, False, nq, Ev, nk, 1.0, sbuf, nk, v[vb + j0 * vs[2]:], vs[2], 1.0, acc.reshape(nq * Ev), Ev)
        obase = n * os[0] + h * os[1]
        for r in range(nq):
            o = obase + (i0 + r) * os[2]
            orow, ar = out[o:o + Ev], acc[r]
            if not l[r] <= 0.0:  # a NaN score makes its row NaN, as in PyTorch
                inv = 1.0 / l[r]
                for e in range(Ev):
                    orow[e] = ar[e] * inv
                lse2[bh, i0 + r] = m[r] + math.log(l[r])
            else:
                for e in range(Ev):
                    orow[e] = 0.0
                lse2[bh, i0 + r] = NEG_INF


@njit(cache=True, parallel=True, error_model="numpy")
def sdpa_backward(q, qs, k, ks, v, vs, mask, mN, mH, mL, mS, has_mask, causal, scale, N, H, L, S, E, Ev, out, os,
                  lse, dout, gs, dq, dqs, dk, dks, dv, dvs):
    """Gradients of q, k, v (written to dq, dk, dv) from dout, recomputing the probabilities block by block:
    per (query block, key block), P from lse, dV += P^T dO, dS = P * (dO V^T - D) with D = rowsum(dO * O),
    dQ += scale dS K, dK += scale dS^T Q; every operand is read and every gradient accumulated in place."""
    BH = N * H
    lse2 = lse.reshape((BH, L))
    BQ, BK = _blocks(E, Ev)
    for bh in prange(BH):  # dk/dv rows gather over every query block, so one worker owns a whole (batch, head)
        n = bh // H
        h = bh - n * H
        mbase = n * mN + h * mH
        qb, kb, vb = n * qs[0] + h * qs[1], n * ks[0] + h * ks[1], n * vs[0] + h * vs[1]
        ob, gb = n * os[0] + h * os[1], n * gs[0] + h * gs[1]
        dqb, dkb, dvb = n * dqs[0] + h * dqs[1], n * dks[0] + h * dks[1], n * dvs[0] + h * dvs[1]
        _zero_rows(dq, dqb, L, E, dqs[2])
        _zero_rows(dk, dkb, S, E, dks[2])
        _zero_rows(dv, dvb, S, Ev, dvs[2])
        pbuf = np.empty(BQ * BK, dtype=q.dtype)
        dsbuf = np.empty(BQ * BK, dtype=q.dtype)
        D = np.empty(BQ, dtype=q.dtype)
        prod = np.empty(Ev, dtype=q.dtype)
        for i0 in range(0, L, BQ):
            i1 = min(i0 + BQ, L)
            nq = i1 - i0
            for r in range(nq):
                a = gb + (i0 + r) * gs[2]
                b = ob + (i0 + r) * os[2]
                grow, orow = dout[a:a + Ev], out[b:b + Ev]
                for e in range(Ev):
                    prod[e] = grow[e] * orow[e]
                D[r] = _row_sum(prod, Ev)
            qi, gi = q[qb + i0 * qs[2]:], dout[gb + i0 * gs[2]:]
            jend = min(S, i1) if causal else S
            for j0 in range(0, jend, BK):
                j1 = min(j0 + BK, jend)
                nk = j1 - j0
                kj, vj = k[kb + j0 * ks[2]:], v[vb + j0 * vs[2]:]
                p = pbuf[:nq * nk].reshape((nq, nk))
                ds = dsbuf[:nq * nk].reshape((nq, nk))
                gemm(False, True, nq, nk, E, 1.0, qi, qs[2], kj, ks[2], 0.0, pbuf, nk)
                _scores(p, i0, j0, scale, mask, mbase, mL, mS, has_mask, causal)
                for r in range(nq):
                    z = lse2[bh, i0 + r]
                    if z == NEG_INF:
                        p[r, :] = 0.0
                    else:
                        _exp_row(p, r, nk, z)
                gemm(True, False, nk, Ev, nq, 1.0, pbuf, nk, gi, gs[2], 1.0, dv[dvb + j0 * dvs[2]:], dvs[2])
                gemm(False, True, nq, nk, Ev, 1.0, gi, gs[2], vj, vs[2], 0.0, dsbuf, nk)
                for r in range(nq):
                    dr, pr, d = ds[r], p[r], D[r]
                    for c in range(nk):
                        dr[c] = pr[c] * (dr[c] - d)
                gemm(False, False, nq, E, nk, scale, dsbuf, nk, kj, ks[2], 1.0, dq[dqb + i0 * dqs[2]:], dqs[2])
                gemm(True, False, nk, E, nq, scale, dsbuf, nk, qi, qs[2], 1.0, dk[dkb + j0 * dks[2]:], dks[2])
