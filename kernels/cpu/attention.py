"""Fused scaled dot-product attention (flash-attention style): scores, a streaming softmax and the output product in
one pass over key blocks, so no (L, S) score matrix is ever held.

Layouts (flat, contiguous): ``q`` is (N*H, L, E), ``k`` (N*H, S, E), ``v`` (N*H, S, Ev), ``out`` (N*H, L, Ev) and
``lse`` (N*H, L) holds each query row's log-sum-exp of its scaled, masked scores (-inf for a row no key may attend
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
    """Scale the raw block q.k^T in place and apply the additive mask and the causal cut."""
    nq, nk = s.shape
    for r in range(nq):
        i = i0 + r
        for c in range(nk):
            j = j0 + c
            x = s[r, c] * scale
            if has_mask:
                x += mask[mbase + i * mL + j * mS]
            if causal and j > i:
                x = NEG_INF
            s[r, c] = x


@njit(cache=True, parallel=True, error_model="numpy")
def sdpa_forward(q, k, v, mask, mN, mH, mL, mS, has_mask, causal, scale, N, H, L, S, E, Ev, out, lse):
    """out = softmax(q k^T * scale + mask) v per (batch, head), and the per-row log-sum-exp for the backward."""
    BH = N * H
    q3 = q.reshape((BH, L, E))
    k3 = k.reshape((BH, S, E))
    v3 = v.reshape((BH, S, Ev))
    o3 = out.reshape((BH, L, Ev))
    lse2 = lse.reshape((BH, L))
    BQ, BK = _blocks(E, Ev)
    nqb = (L + BQ - 1) // BQ
    for task in prange(BH * nqb):  # (batch*head, query block): the blocks write disjoint rows
        bh = task // nqb
        i0 = (task - bh * nqb) * BQ
        i1 = min(i0 + BQ, L)
        nq = i1 - i0
        n = bh // H
        mbase = n * mN + (bh - n * H) * mH
        Qb = q3[bh, i0:i1]
        K = k3[bh]
        V = v3[bh]
        m = np.full(nq, NEG_INF, dtype=q.dtype)
        l = np.zeros(nq, dtype=q.dtype)
        acc = np.zeros((nq, Ev), dtype=q.dtype)
        jend = min(S, i1) if causal else S  # under the causal cut no row of the block sees a key >= i1
        for j0 in range(0, jend, BK):
            j1 = min(j0 + BK, jend)
            s = np.dot(Qb, K[j0:j1].T)
            _scores(s, i0, j0, scale, mask, mbase, mL, mS, has_mask, causal)
            for r in range(nq):
                bmax = NEG_INF
                for c in range(j1 - j0):
                    if s[r, c] > bmax:
                        bmax = s[r, c]
                mold = m[r]
                mnew = mold if mold > bmax else bmax
                if mnew == NEG_INF:  # every key so far is masked for this row
                    for c in range(j1 - j0):
                        s[r, c] = 0.0
                    continue
                alpha = math.exp(mold - mnew)
                rs = 0.0
                for c in range(j1 - j0):
                    p = math.exp(s[r, c] - mnew)
                    s[r, c] = p
                    rs += p
                l[r] = l[r] * alpha + rs
                m[r] = mnew
                if alpha != 1.0:
                    for e in range(Ev):
                        acc[r, e] *= alpha
            acc += np.dot(s, V[j0:j1])
        for r in range(nq):
            if l[r] > 0.0:
                inv = 1.0 / l[r]
                for e in range(Ev):
                    o3[bh, i0 + r, e] = acc[r, e] * inv
                lse2[bh, i0 + r] = m[r] + math.log(l[r])
            else:
                for e in range(Ev):
                    o3[bh, i0 + r, e] = 0.0
                lse2[bh, i0 + r] = NEG_INF


@njit(cache=True, parallel=True, error_model="numpy")
def sdpa_backward(q, k, v, mask, mN, mH, mL, mS, has_mask, causal, scale, N, H, L, S, E, Ev, out, lse, dout,
                  dq, dk, dv):
    """Gradients of q, k, v (written to dq, dk, dv) from dout, recomputing the probabilities block by block."""
    BH = N * H
    q3 = q.reshape((BH, L, E))
    k3 = k.reshape((BH, S, E))
    v3 = v.reshape((BH, S, Ev))
    o3 = out.reshape((BH, L, Ev))
    do3 = dout.reshape((BH, L, Ev))
    lse2 = lse.reshape((BH, L))
    dq3 = dq.reshape((BH, L, E))
    dk3 = dk.reshape((BH, S, E))
    dv3 = dv.reshape((BH, S, Ev))
    BQ, BK = _blocks(E, Ev)
    for bh in prange(BH):  # dk/dv rows gather over every query block, so one worker owns a whole (batch, head)
        n = bh // H
        mbase = n * mN + (bh - n * H) * mH
        K = k3[bh]
        V = v3[bh]
        dQ = dq3[bh]
        dK = dk3[bh]
        dV = dv3[bh]
        dQ[:] = 0.0
        dK[:] = 0.0
        dV[:] = 0.0
        for i0 in range(0, L, BQ):
            i1 = min(i0 + BQ, L)
            nq = i1 - i0
            Qb = q3[bh, i0:i1]
            dOb = do3[bh, i0:i1]
            Ob = o3[bh, i0:i1]
            D = np.empty(nq, dtype=q.dtype)
            for r in range(nq):
                acc = 0.0
                for e in range(Ev):
                    acc += dOb[r, e] * Ob[r, e]
                D[r] = acc
            jend = min(S, i1) if causal else S
            for j0 in range(0, jend, BK):
                j1 = min(j0 + BK, jend)
                p = np.dot(Qb, K[j0:j1].T)
                _scores(p, i0, j0, scale, mask, mbase, mL, mS, has_mask, causal)
                for r in range(nq):
                    z = lse2[bh, i0 + r]
                    for c in range(j1 - j0):
                        p[r, c] = 0.0 if z == NEG_INF else math.exp(p[r, c] - z)
                dV[j0:j1] += np.dot(p.T, dOb)
                ds = np.dot(dOb, V[j0:j1].T)
                for r in range(nq):
                    for c in range(j1 - j0):
                        ds[r, c] = p[r, c] * (ds[r, c] - D[r]) * scale
                dQ[i0:i1] += np.dot(ds, K[j0:j1])
                dK[j0:j1] += np.dot(ds.T, Qb)
