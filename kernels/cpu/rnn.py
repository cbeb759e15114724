"""Recurrent layers (RNN tanh/relu, LSTM with optional projection, GRU): one layer and direction's time loop.

Layouts (all C-contiguous 2-D arrays, rows are sequence elements in packed order): step t holds rows
``offs[t] .. offs[t] + bsz[t]`` (batch sizes never grow with t, so the active sequences are always a prefix of the
batch). ``xw`` (N, G*H) is the input projection of every step (x @ w_ih.T + b_ih, one GEMM done by the caller),
``whh`` (G*H, P), ``whr`` (P, H) the LSTM projection (P = H without one), ``bhh`` (G*H,). Gate order is PyTorch's:
LSTM i, f, g, o; GRU r, z, n with the hidden bias of n inside the reset product.

``h`` (B, P) and ``c`` (B, H) hold the running state: the initial state on entry, each sequence's state at its own
last step on return (rows past ``bsz[t]`` are left alone at step t). The forward saves per row what the backward
needs: the previous hidden state (``hprev``, also the operand of the w_hh gradient GEMM), the previous cell, the
activated gates and tanh(c) (LSTM; GRU keeps r, z, n and the hidden n pre-activation), and the unprojected LSTM
output (``rr``, operand of the w_hr gradient).

Modes: 0 RNN_TANH, 1 RNN_RELU, 2 LSTM, 3 GRU. Each step is one GEMM of the hidden state and one fused gate pass.
"""
import math

import numpy as np
from numba import njit, prange

from ._blas import dot as _dot
from ._intrinsics import f32_from_bits as _f32_bits
from ._intrinsics import fma as _fma

RNN_TANH, RNN_RELU, LSTM, GRU = 0, 1, 2, 3


_POW2 = np.array([2.0 ** k for k in range(-126, 128)])  # 2**n for the exponent of _exp's result
_LOG2E = 1.4426950408889634
_LN2_HI = 0.693145751953125  # ln 2 in two parts: n * _LN2_HI is exact for the n that occur
_LN2_LO = 1.42860682030941723212e-6


@njit(cache=True, inline="always")
def _exp(x):
    """exp(x) in float64 arithmetic (relative error < 1e-14) from operations LLVM vectorizes, unlike a call to
    libm's exp: x = n ln2 + r with |r| <= ln2 / 2, e^r by its Taylor polynomial, 2**n from a table. The argument
    is clamped to [-87, 88] (a sigmoid or tanh has saturated long before); NaN passes through."""
    y = min(max(x, -87.0), 88.0)
    n = math.floor(y * _LOG2E + 0.5)
    r = y - n * _LN2_HI - n * _LN2_LO
    p = 1.0 + r * (1.0 + r * (0.5 + r * (1 / 6 + r * (1 / 24 + r * (1 / 120 + r * (1 / 720 + r * (
        1 / 5040 + r * (1 / 40320 + r * (1 / 362880 + r * (1 / 3628800 + r * (1 / 39916800)))))))))))
    v = p * _POW2[np.uint64(np.int64(n) + 126)]
    return v if x == x else x


@njit(cache=True, inline="always")
def _tanh_f64(x):
    """tanh in float64 arithmetic (relative error ~1e-15) from operations LLVM vectorizes, unlike libm's tanh
    (4x slower here): its Taylor polynomial for |x| < 0.05, else (1 - e) / (1 + e) with e = exp(-2|x|), whose
    numerator then loses nothing. Signed zeros, infinities and NaN come out as tanh's."""
    ax = abs(x)
    x2 = x * x
    small = x * (1.0 + x2 * (-1 / 3 + x2 * (2 / 15 + x2 * (-17 / 315 + x2 * (62 / 2835)))))
    e = _exp(-2.0 * ax)
    big = math.copysign((1.0 - e) / (1.0 + e), x)
    return small if ax < 0.05 else big


@njit(cache=True, inline="always")
def _sig(x):
    return 1.0 / (1.0 + _exp(-x))


@njit(cache=True, inline="always")
def _tanh(x):
    # through exp: libm's tanh costs several times an exp (absolute error a few ulp of 1)
    return 2.0 / (1.0 + _exp(-2.0 * x)) - 1.0


_F = np.float32
_POW2F = _POW2.astype(np.float32)
_LOG2EF, _LN2_HIF, _LN2_LOF = _F(_LOG2E), _F(0.693359375), _F(0.6931471805599453 - 0.693359375)
_LOF, _HIF, _HALFF, _ONEF, _TWOF = _F(-87.0), _F(88.0), _F(0.5), _F(1.0), _F(2.0)
_Q2, _Q3, _Q4, _Q5, _Q6, _Q7 = _F(1 / 2), _F(1 / 6), _F(1 / 24), _F(1 / 120), _F(1 / 720), _F(1 / 5040)


@njit(cache=True, inline="always")
def _exp32(x):
    """_exp in float32 arithmetic for float32 gates (a few ulp; Taylor to r**7): twice the vector width."""
    y = min(max(x, _LOF), _HIF)
    n = np.floor(y * _LOG2EF + _HALFF)
    r = y - n * _LN2_HIF - n * _LN2_LOF
    p = _ONEF + r * (_ONEF + r * (_Q2 + r * (_Q3 + r * (_Q4 + r * (_Q5 + r * (_Q6 + r * _Q7))))))
    v = p * _f32_bits((np.int32(n) + np.int32(127)) << np.int32(23))  # 2**n, n in [-126, 127]
    return v if x == x else x


@njit(cache=True, inline="always")
def _tanh_f32(x):
    """tanh in float32 arithmetic (at most 2.4 ulp from the rounded tanh, 0.29 on average over [-12, 12];
    PyTorch's 0.5), for float32 kernels: twice the vector width of _tanh_f64. tanh|x| = e / (e + 2) with
    e = expm1(2|x|) = 2**n e**r - 1, n = round(2|x| / ln 2) and |r| <= ln 2 / 2: e**r - 1 by its Taylor polynomial
    to r**7 written as r + r**2 (...) (no cancellation), and e = 2**n (e**r - 1) + (2**n - 1) with one rounding.
    Every multiply-add is an explicit FMA (the same bits wherever it is inlined, eager or generated): a tanh over
    16M float32 elements 12.6 ms instead of 22.9 with separate multiplies and adds and the polynomial to r**9 over
    [0, ln 2). One formula for every |x|: a polynomial below 0.55 and (1 - e) / (1 + e) above, both computed for
    every element, made a compiled tanh-GELU over 16M float32 30-35 ms instead of 21-24 (measured side by side, on
    a loaded machine). 2|x| is clamped at 88 (tanh is 1 there); NaN passes through, and the sign of -0.0 is kept."""
    u = min(_TWOF * abs(x), _HIF)
    n = np.floor(_fma(u, _LOG2EF, _HALFF))
    r = _fma(n, -_LN2_LOF, _fma(n, -_LN2_HIF, u))
    p = _fma(r, _fma(r, _fma(r, _fma(r, _fma(r, _Q7, _Q6), _Q5), _Q4), _Q3), _Q2)
    rm1 = _fma(r * r, p, r)
    s = _f32_bits((np.int32(n) + np.int32(127)) << np.int32(23))  # 2**n, n in [0, 127]
    e = _fma(s, rm1, s - _ONEF)
    t = _F(math.copysign(e / (e + _TWOF), x))
    return t if x == x else x


@njit(cache=True, inline="always")
def _sig_run(a, lo, hi):
    # on a view from 0: an index that LLVM can prove non-negative needs no wraparound select, so the loop vectorizes
    # (a[k] for k in range(lo, hi) ran 6x slower)
    v = a[lo:hi]
    if a.itemsize == 4:
        for k in range(v.shape[0]):
            v[k] = _ONEF / (_ONEF + _exp32(-v[k]))
        return
    for k in range(v.shape[0]):
        v[k] = _sig(v[k])


@njit(cache=True, inline="always")
def _tanh_run(a, lo, hi):
    v = a[lo:hi]
    if a.itemsize == 4:
        for k in range(v.shape[0]):
            v[k] = _TWOF / (_ONEF + _exp32(-_TWOF * v[k])) - _ONEF
        return
    for k in range(v.shape[0]):
        v[k] = _tanh(v[k])


def _small_gemm_limit():
    """M * N * K up to which OpenBLAS multiplies M x K by K x N without packing, or 0 where it has no such path: its
    small-matrix kernels exist for the AVX-512 cores (SkylakeX and later) only. On a 2-core AMD EPYC (AVX2, OpenBLAS's
    Haswell kernels) splitting a step's rows into such blocks packed the weight once per block: the LM's LSTM
    layers ran 72.9 ms with blocks, 51.4 ms with one call per step. MKL has no use for the blocks either (LSTM
    inference, 1000 steps of batch 1 on the AVX-512 Xeon: 8.3 ms with them, 7.3 ms without)."""
    import os
    from llvmlite import binding
    from ._blas import BACKEND
    if BACKEND.startswith("mkl"):
        return 0
    core = os.environ.get("OPENBLAS_CORETYPE", "").upper()
    if core:
        return 1_000_000 if core in ("SKYLAKEX", "COOPERLAKE", "SAPPHIRERAPIDS") else 0
    return 1_000_000 if binding.get_host_cpu_features().get("avx512f", False) else 0


SMALL_GEMM = _small_gemm_limit()


@njit(cache=True, inline="always")
def _mm(a, b, out):
    """out = a @ b for a few rows a (M, K) and a C-contiguous b (K, N), in row blocks small enough for OpenBLAS's
    unpacked small-matrix path where it has one (one call where not: SMALL_GEMM 0). A recurrent step's GEMM is a
    handful of rows against a weight reused every step, and on an AVX-512 machine the packing of b in one general
    call cost more than the arithmetic (K=200, N=800: 10 rows in one call 58 us, in two blocks of 5 rows 2 x 11 us;
    1 row as a GEMV against the transposed weight 7.5 us, here 4.7 us)."""
    M = a.shape[0]
    step = M if SMALL_GEMM == 0 else max(1, SMALL_GEMM // max(1, b.shape[0] * b.shape[1]))
    for r in range(0, M, step):
        e = min(r + step, M)
        _dot(a[r:e], b, out[r:e])


@njit(cache=True)
def _gates_forward(mode, xw, hg, bhh, h, c, out, cprev, gates, tc, rr, has_proj, o, nb, H, save):
    """The fused pointwise part of one step for rows o .. o + nb (hg: this step's h @ whh.T, overwritten).
    Without ``save`` (inference) nothing is kept for a backward: tc and rr are (B, H) scratch then.

    Written as short passes over contiguous 1-D views indexed from 0, each simple enough for LLVM to vectorize (one
    loop doing all of a unit's work ran at a third of the speed, and an index such as ``H + j`` that LLVM cannot
    prove non-negative keeps a wraparound select in the loop, which also stops it)."""
    GH = hg.shape[1]
    for b in range(nb):
        row = o + b
        sr = row if save else b
        g = hg[b]
        x = xw[row]
        hb = h[b]
        orow = out[row]
        nx = 2 * H if mode == GRU else GH  # GRU: the n gate's hidden half stays apart (it is gated by r)
        for k in range(nx):
            g[k] += x[k] + bhh[k]
        gt, bt = g[nx:], bhh[nx:]
        for k in range(GH - nx):
            gt[k] += bt[k]
        if mode == LSTM:
            cb = c[b]
            tr = tc[sr]
            _sig_run(g, 0, 2 * H)
            _tanh_run(g, 2 * H, 3 * H)
            _sig_run(g, 3 * H, 4 * H)
            gi, gf, gg, go = g[:H], g[H:2 * H], g[2 * H:3 * H], g[3 * H:4 * H]
            if save:
                cp = cprev[row]
                for j in range(H):
                    cp[j] = cb[j]
            for j in range(H):
                cn = gf[j] * cb[j] + gi[j] * gg[j]
                cb[j] = cn
                tr[j] = cn
            _tanh_run(tr, 0, H)
            if save:
                gr = gates[row]
                for k in range(GH):
                    gr[k] = g[k]
            dst = rr[sr] if has_proj else orow
            for j in range(H):
                dst[j] = go[j] * tr[j]
            if not has_proj:
                for j in range(H):
                    hb[j] = orow[j]
        elif mode == GRU:
            _sig_run(g, 0, 2 * H)
            gz, gn, xn = g[H:2 * H], g[2 * H:3 * H], x[2 * H:3 * H]
            if save:
                gr = gates[row]
                ghn = gr[3 * H:4 * H]
                for j in range(H):
                    ghn[j] = gn[j]
            for j in range(H):
                gn[j] = xn[j] + g[j] * gn[j]
            _tanh_run(g, 2 * H, 3 * H)
            if save:
                for k in range(3 * H):
                    gr[k] = g[k]
            for j in range(H):
                z = gz[j]
                v = (1.0 - z) * gn[j] + z * hb[j]
                hb[j] = v
                orow[j] = v
        else:
            if mode == RNN_TANH:
                _tanh_run(g, 0, H)
            else:
                for j in range(H):
                    g[j] = g[j] if g[j] > 0.0 else 0.0
            for j in range(H):
                hb[j] = g[j]
                orow[j] = g[j]


@njit(cache=True, error_model="numpy")
def _forward_rows(mode, xw, bhh, wht, whrt, has_proj, bsz, offs, reverse, h, c, out, hprev, cprev, gates, tc, rr,
                  hg, save, r0, r1):
    """The whole time loop for the batch rows r0 .. r1 (sequences never interact, so row ranges run apart); wht and
    whrt are the transposed (C-contiguous) w_hh and w_hr."""
    T = bsz.shape[0]
    H = tc.shape[1]
    P = h.shape[1]
    hv, cv, hgv = h[r0:], c[r0:], hg[r0:]
    tcv = tc if save else tc[r0:]
    rrv = rr if save else rr[r0:]
    for s in range(T):
        t = T - 1 - s if reverse else s
        nb = min(bsz[t], r1) - r0
        if nb <= 0:
            continue
        o = offs[t] + r0
        if save:
            for b in range(nb):
                for p in range(P):
                    hprev[o + b, p] = hv[b, p]
        _mm(hv[:nb], wht, hgv[:nb])
        _gates_forward(mode, xw, hgv, bhh, hv, cv, out, cprev, gates, tcv, rrv, has_proj, o, nb, H, save)
        if has_proj:
            ro = o if save else 0
            _mm(rrv[ro:ro + nb], whrt, out[o:o + nb])
            for b in range(nb):
                for p in range(P):
                    hv[b, p] = out[o + b, p]


@njit(cache=True, error_model="numpy")
def rnn_forward(mode, xw, bhh, whh, whr, has_proj, bsz, offs, reverse, h, c, out, hprev, cprev, gates, tc, rr,
                hg, save):
    """Run one layer and direction over all steps (reverse: from the last step to the first); hg (B, G*H) is
    scratch. ``save``: keep what the backward needs (else hprev, cprev and gates are not touched, and tc and rr
    are (B, H) scratch)."""
    wht = np.ascontiguousarray(whh.T)
    whrt = np.ascontiguousarray(whr.T) if has_proj else wht
    _forward_rows(mode, xw, bhh, wht, whrt, has_proj, bsz, offs, reverse, h, c, out, hprev, cprev, gates, tc, rr, hg,
                  save, 0, h.shape[0])


@njit(cache=True, error_model="numpy", parallel=True)
def rnn_forward_par(mode, xw, bhh, whh, whr, has_proj, bsz, offs, reverse, h, c, out, hprev, cprev, gates, tc, rr,
                    hg, save, parts):
    """rnn_forward with the batch rows split into ``parts`` ranges, each range's whole time loop on its own
    thread (no synchronisation between steps: a sequence's state depends on its own rows only)."""
    B = h.shape[0]
    wht = np.ascontiguousarray(whh.T)
    whrt = np.ascontiguousarray(whr.T) if has_proj else wht
    for q in prange(parts):
        _forward_rows(mode, xw, bhh, wht, whrt, has_proj, bsz, offs, reverse, h, c, out, hprev, cprev, gates, tc, rr,
                      hg, save, q * B // parts, (q + 1) * B // parts)


@njit(cache=True)
def _gates_backward(mode, dr, dh, dc, hprev, cprev, gates, tc, out, dgx, dgh, o, nb, H):
    """The fused pointwise gradient of one step: dr (nb, H) is the gradient of the step's (unprojected) output;
    writes the gate pre-activation gradients of the input side (dgx) and hidden side (dgh), the cell gradient
    carried to the previous step (dc) and, for GRU, the direct z * dh part of the hidden gradient (dh). Loops run
    over 1-D views from 0 (see _gates_forward)."""
    for b in range(nb):
        row = o + b
        d = dr[b]
        gr = gates[row]
        dx = dgx[row]
        if mode == LSTM:
            gi, gf, gg, go = gr[:H], gr[H:2 * H], gr[2 * H:3 * H], gr[3 * H:4 * H]
            di, df, dg, do = dx[:H], dx[H:2 * H], dx[2 * H:3 * H], dx[3 * H:4 * H]
            th = tc[row]
            cp = cprev[row]
            dcb = dc[b]
            for j in range(H):
                i, f, gv, ov, t = gi[j], gf[j], gg[j], go[j], th[j]
                dcv = dcb[j] + d[j] * ov * (1.0 - t * t)
                dcb[j] = dcv * f
                di[j] = dcv * gv * i * (1.0 - i)
                df[j] = dcv * cp[j] * f * (1.0 - f)
                dg[j] = dcv * i * (1.0 - gv * gv)
                do[j] = d[j] * t * ov * (1.0 - ov)
        elif mode == GRU:
            gz, gn, ghn = gr[H:2 * H], gr[2 * H:3 * H], gr[3 * H:4 * H]
            dxz, dxn = dx[H:2 * H], dx[2 * H:3 * H]
            dhh = dgh[row]
            dhz, dhn = dhh[H:2 * H], dhh[2 * H:3 * H]
            hp = hprev[row]
            dhb = dh[b]
            for j in range(H):
                r, z, n = gr[j], gz[j], gn[j]
                dnp = d[j] * (1.0 - z) * (1.0 - n * n)
                drp = dnp * ghn[j] * r * (1.0 - r)
                dzp = d[j] * (hp[j] - n) * z * (1.0 - z)
                dx[j] = drp
                dxz[j] = dzp
                dxn[j] = dnp
                dhh[j] = drp
                dhz[j] = dzp
                dhn[j] = dnp * r
                dhb[j] = d[j] * z
        else:
            y = out[row]
            for j in range(H):
                if mode == RNN_TANH:
                    dx[j] = d[j] * (1.0 - y[j] * y[j])
                else:
                    dx[j] = d[j] if y[j] > 0.0 else 0.0


@njit(cache=True, error_model="numpy")
def _backward_rows(mode, dout, dh, dc, whh, whr, has_proj, bsz, offs, reverse, hprev, cprev, gates, tc, out, dgx,
                   dgh, dproj, dht, dr, tmp, r0, r1):
    """The backward time loop for the batch rows r0 .. r1."""
    T = bsz.shape[0]
    H = tc.shape[1]
    P = dh.shape[1]
    dhv, dcv, dhtv, drv, tmpv = dh[r0:], dc[r0:], dht[r0:], dr[r0:], tmp[r0:]
    for s in range(T):
        t = s if reverse else T - 1 - s
        nb = min(bsz[t], r1) - r0
        if nb <= 0:
            continue
        o = offs[t] + r0
        for b in range(nb):
            for p in range(P):
                dhtv[b, p] = dout[o + b, p] + dhv[b, p]
        if has_proj:
            for b in range(nb):
                for p in range(P):
                    dproj[o + b, p] = dhtv[b, p]
            _mm(dhtv[:nb], whr, drv[:nb])
            _gates_backward(mode, drv, dhv, dcv, hprev, cprev, gates, tc, out, dgx, dgh, o, nb, H)
        else:
            _gates_backward(mode, dhtv, dhv, dcv, hprev, cprev, gates, tc, out, dgx, dgh, o, nb, H)
        if mode == GRU:  # the gate pass left the direct z * dh term in dh
            _mm(dgh[o:o + nb], whh, tmpv[:nb])
            for b in range(nb):
                for p in range(P):
                    dhv[b, p] += tmpv[b, p]
        else:
            _mm(dgh[o:o + nb], whh, dhv[:nb])


@njit(cache=True, error_model="numpy")
def rnn_backward(mode, dout, dh, dc, whh, whr, has_proj, bsz, offs, reverse, hprev, cprev, gates, tc, out, dgx,
                 dgh, dproj, dht, dr, tmp):
    """Backward through one layer and direction, steps in the reverse of the forward's order.

    dout (N, P): gradient of the outputs; dh (B, P), dc (B, H): gradients of the final state on entry, of the
    initial state on return. Fills dgx/dgh (N, G*H; the same array unless GRU) and dproj (N, P, the gradient of
    the projected outputs, for the w_hr GEMM). dht (B, P), dr (B, H), tmp (B, P): scratch.
    """
    _backward_rows(mode, dout, dh, dc, whh, whr, has_proj, bsz, offs, reverse, hprev, cprev, gates, tc, out, dgx, dgh,
                   dproj, dht, dr, tmp, 0, dh.shape[0])


@njit(cache=True, error_model="numpy", parallel=True)
def rnn_backward_par(mode, dout, dh, dc, whh, whr, has_proj, bsz, offs, reverse, hprev, cprev, gates, tc, out, dgx,
                     dgh, dproj, dht, dr, tmp, parts):
    """rnn_backward with the batch rows split into ``parts`` ranges, one thread each (see rnn_forward_par)."""
    B = dh.shape[0]
    for q in prange(parts):
        _backward_rows(mode, dout, dh, dc, whh, whr, has_proj, bsz, offs, reverse, hprev, cprev, gates, tc, out, dgx,
                       dgh, dproj, dht, dr, tmp, q * B // parts, (q + 1) * B // parts)
