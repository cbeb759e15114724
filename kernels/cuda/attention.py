"""CUDA scaled dot-product attention: the CPU kernels' math (streaming softmax, log-sum-exp saved, probabilities
recomputed in the backward) with one thread per query row, and one thread per key row for dk/dv.

Layouts (strided (N, H, rows, width) views with unit last stride), the mask and the causal conventions are those of
``kernels/cpu/attention.py``. The forward keeps its running
output in ``out`` itself (rescaled when the row maximum grows), so a thread needs no local array of size Ev.
"""
import math

from numba import cuda

from ._grid import THREADS, blocks

NEG_INF = -math.inf


@cuda.jit(device=True, inline=True)
def _score(q, qs, k, ks, mask, n, h, i, j, mN, mH, mL, mS, has_mask, causal, scale, E):
    if causal and j > i:
        return NEG_INF
    qa = n * qs[0] + h * qs[1] + i * qs[2]
    ka = n * ks[0] + h * ks[1] + j * ks[2]
    acc = 0.0
    for e in range(E):
        acc += q[qa + e] * k[ka + e]
    x = acc * scale
    if has_mask:
        x += mask[n * mN + h * mH + i * mL + j * mS]
    return x


@cuda.jit
def _forward(q, qs, k, ks, v, vs, mask, mN, mH, mL, mS, has_mask, causal, scale, N, H, L, S, E, Ev, out, os, lse):
    start = cuda.grid(1)
    step = cuda.gridsize(1)
    for row in range(start, N * H * L, step):
        bh = row // L
        i = row - bh * L
        n = bh // H
        h = bh - n * H
        oa = n * os[0] + h * os[1] + i * os[2]
        for e in range(Ev):
            out[oa + e] = 0.0
        m = NEG_INF
        lsum = 0.0
        for j in range(S):
            x = _score(q, qs, k, ks, mask, n, h, i, j, mN, mH, mL, mS, has_mask, causal, scale, E)
            if x == NEG_INF:
                continue
            if x > m:
                alpha = math.exp(m - x)
                lsum *= alpha
                for e in range(Ev):
                    out[oa + e] *= alpha
                m = x
            p = math.exp(x - m)
            lsum += p
            va = n * vs[0] + h * vs[1] + j * vs[2]
            for e in range(Ev):
                out[oa + e] += p * v[va + e]
        if lsum > 0.0:
            for e in range(Ev):
                out[oa + e] /= lsum
            lse[row] = m + math.log(lsum)
        else:
            lse[row] = NEG_INF


@cuda.jit
def _rowdot(out, os, dout, gs, D, H, L, R, Ev):
    start = cuda.grid(1)
    step = cuda.gridsize(1)
    for row in range(start, R, step):
        bh = row // L
        i = row - bh * L
        n = bh // H
        h = bh - n * H
        oa = n * os[0] + h * os[1] + i * os[2]
        da = n * gs[0] + h * gs[1] + i * gs[2]
        acc = 0.0
        for e in range(Ev):
            acc += out[oa + e] * dout[da + e]
        D[row] = acc


@cuda.jit(device=True, inline=True)
def _dscore(q, qs, k, ks, v, vs, mask, dout, gs, lse, D, bh, n, h, i, j, mN, mH, mL, mS, has_mask, causal, scale,
            L, E, Ev):
    """(p_ij, dS_ij * scale) for one query/key pair."""
    z = lse[bh * L + i]
    if z == NEG_INF:
        return 0.0, 0.0
    x = _score(q, qs, k, ks, mask, n, h, i, j, mN, mH, mL, mS, has_mask, causal, scale, E)
    if x == NEG_INF:
        return 0.0, 0.0
    p = math.exp(x - z)
    da = n * gs[0] + h * gs[1] + i * gs[2]
    va = n * vs[0] + h * vs[1] + j * vs[2]
    dp = 0.0
    for e in range(Ev):
        dp += dout[da + e] * v[va + e]
    return p, p * (dp - D[bh * L + i]) * scale


@cuda.jit
def _grad_q(q, qs, k, ks, v, vs, mask, mN, mH, mL, mS, has_mask, causal, scale, N, H, L, S, E, Ev, lse, dout, gs, D,
            dq, dqs):
    start = cuda.grid(1)
    step = cuda.gridsize(1)
    for row in range(start, N * H * L, step):
        bh = row // L
        i = row - bh * L
        n = bh // H
        h = bh - n * H
        qa = n * dqs[0] + h * dqs[1] + i * dqs[2]
        for e in range(E):
            dq[qa + e] = 0.0
        for j in range(S):
            p, ds = _dscore(q, qs, k, ks, v, vs, mask, dout, gs, lse, D, bh, n, h, i, j, mN, mH, mL, mS, has_mask,
                            causal, scale, L, E, Ev)
            if ds != 0.0:
                ka = n * ks[0] + h * ks[1] + j * ks[2]
                for e in range(E):
                    dq[qa + e] += ds * k[ka + e]


@cuda.jit
def _grad_kv(q, qs, k, ks, v, vs, mask, mN, mH, mL, mS, has_mask, causal, scale, N, H, L, S, E, Ev, lse, dout, gs, D,
             dk, dks, dv, dvs):
    start = cuda.grid(1)
    step = cuda.gridsize(1)
    for col in range(start, N * H * S, step):
        bh = col // S
        j = col - bh * S
        n = bh // H
        h = bh - n * H
        ka = n * dks[0] + h * dks[1] + j * dks[2]
        va = n * dvs[0] + h * dvs[1] + j * dvs[2]
        for e in range(E):
            dk[ka + e] = 0.0
        for e in range(Ev):
            dv[va + e] = 0.0
        for i in range(L):
            p, ds = _dscore(q, qs, k, ks, v, vs, mask, dout, gs, lse, D, bh, n, h, i, j, mN, mH, mL, mS, has_mask,
                            causal, scale, L, E, Ev)
            if p != 0.0:
                da = n * gs[0] + h * gs[1] + i * gs[2]
                for e in range(Ev):
                    dv[va + e] += p * dout[da + e]
            if ds != 0.0:
                qa = n * qs[0] + h * qs[1] + i * qs[2]
                for e in range(E):
                    dk[ka + e] += ds * q[qa + e]


def sdpa_forward(q, qs, k, ks, v, vs, mask, mN, mH, mL, mS, has_mask, causal, scale, N, H, L, S, E, Ev, out, os,
                 lse):
    R = N * H * L
    if R:
        _forward[blocks(R), THREADS](q, qs, k, ks, v, vs, mask, mN, mH, mL, mS, has_mask, causal, scale, N, H, L, S,
                                     E, Ev, out, os, lse)


def sdpa_backward(q, qs, k, ks, v, vs, mask, mN, mH, mL, mS, has_mask, causal, scale, N, H, L, S, E, Ev, out, os,
                  lse, dout, gs, dq, dqs, dk, dks, dv, dvs):
    R = N * H * L
    C = N * H * S
    if R:
        D = cuda.device_array(R, dtype=out.dtype)
        _rowdot[blocks(R), THREADS](out, os, dout, gs, D, H, L, R, Ev)
        _grad_q[blocks(R), THREADS](q, qs, k, ks, v, vs, mask, mN, mH, mL, mS, has_mask, causal, scale, N, H, L, S,
                                    E, Ev, lse, dout, gs, D, dq, dqs)
    else:
        D = cuda.device_array(1, dtype=out.dtype)
    if C:  # with L == 0 this only zeroes dk and dv
        _grad_kv[blocks(C), THREADS](q, qs, k, ks, v, vs, mask, mN, mH, mL, mS, has_mask, causal, scale, N, H, L,
                                     S, E, Ev, lse, dout, gs, D, dk, dks, dv, dvs)
