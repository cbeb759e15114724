"""Recurrent layers on the GPU (same names, arguments and layouts as ``kernels/cpu/rnn.py``).

The host launchers walk the steps (their batch sizes and row offsets are host arrays); each step is the shared
tiled GEMM of ``matmul`` for the hidden state and one fused gate kernel, one thread per (row, unit) element, plus
small row copies. Arrays are C-contiguous device arrays; they are addressed flat, with row offsets.
"""
import math

from numba import cuda

from ._grid import THREADS, blocks
from .matmul import _flat, _launch_gemm

RNN_TANH, RNN_RELU, LSTM, GRU = 0, 1, 2, 3


@cuda.jit(device=True, inline=True)
def _sig(x):
    return 1.0 / (1.0 + math.exp(-x))


@cuda.jit
def _copy_rows(src, so, dst, do, n):
    for i in range(cuda.grid(1), n, cuda.gridsize(1)):
        dst[do + i] = src[so + i]


@cuda.jit
def _add_rows(a, ao, b, out, n):
    """out[i] = a[ao + i] + b[i] for i < n."""
    for i in range(cuda.grid(1), n, cuda.gridsize(1)):
        out[i] = a[ao + i] + b[i]


@cuda.jit
def _gates_fwd(mode, xw, hg, bhh, h, c, out, cprev, gates, tc, rr, has_proj, o, nb, H, save):
    G4 = 4 * H
    GH = (4 if mode == LSTM else 3 if mode == GRU else 1) * H
    for e in range(cuda.grid(1), nb * H, cuda.gridsize(1)):
        b = e // H
        j = e - b * H
        row = o + b
        sr = row if save else b  # without save, tc and rr are (B, H) scratch
        x0 = row * GH
        h0 = b * GH
        if mode == LSTM:
            gi = _sig(xw[x0 + j] + hg[h0 + j] + bhh[j])
            gf = _sig(xw[x0 + H + j] + hg[h0 + H + j] + bhh[H + j])
            gg = math.tanh(xw[x0 + 2 * H + j] + hg[h0 + 2 * H + j] + bhh[2 * H + j])
            go = _sig(xw[x0 + 3 * H + j] + hg[h0 + 3 * H + j] + bhh[3 * H + j])
            cp = c[b * H + j]
            cn = gf * cp + gi * gg
            th = math.tanh(cn)
            if save:
                gates[row * G4 + j] = gi
                gates[row * G4 + H + j] = gf
                gates[row * G4 + 2 * H + j] = gg
                gates[row * G4 + 3 * H + j] = go
                cprev[row * H + j] = cp
            tc[sr * H + j] = th
            c[b * H + j] = cn
            if has_proj:
                rr[sr * H + j] = go * th
            else:
                h[b * H + j] = go * th
                out[row * H + j] = go * th
        elif mode == GRU:
            gr = _sig(xw[x0 + j] + hg[h0 + j] + bhh[j])
            gz = _sig(xw[x0 + H + j] + hg[h0 + H + j] + bhh[H + j])
            hn = hg[h0 + 2 * H + j] + bhh[2 * H + j]
            gn = math.tanh(xw[x0 + 2 * H + j] + gr * hn)
            v = (1.0 - gz) * gn + gz * h[b * H + j]
            if save:
                gates[row * G4 + j] = gr
                gates[row * G4 + H + j] = gz
                gates[row * G4 + 2 * H + j] = gn
                gates[row * G4 + 3 * H + j] = hn
            h[b * H + j] = v
            out[row * H + j] = v
        else:
            p = xw[x0 + j] + hg[h0 + j] + bhh[j]
            if mode == RNN_TANH:
                v = math.tanh(p)
            else:
                v = p if p > 0.0 else 0.0
            h[b * H + j] = v
            out[row * H + j] = v


@cuda.jit
def _gates_bwd(mode, dr, dh, dc, hprev, cprev, gates, tc, out, dgx, dgh, o, nb, H):
    G4 = 4 * H
    GH = (4 if mode == LSTM else 3 if mode == GRU else 1) * H
    for e in range(cuda.grid(1), nb * H, cuda.gridsize(1)):
        b = e // H
        j = e - b * H
        row = o + b
        d = dr[b * H + j]
        g0 = row * G4
        x0 = row * GH
        if mode == LSTM:
            gi = gates[g0 + j]
            gf = gates[g0 + H + j]
            gg = gates[g0 + 2 * H + j]
            go = gates[g0 + 3 * H + j]
            th = tc[row * H + j]
            dcv = dc[b * H + j] + d * go * (1.0 - th * th)
            dc[b * H + j] = dcv * gf
            dgx[x0 + j] = dcv * gg * gi * (1.0 - gi)
            dgx[x0 + H + j] = dcv * cprev[row * H + j] * gf * (1.0 - gf)
            dgx[x0 + 2 * H + j] = dcv * gi * (1.0 - gg * gg)
            dgx[x0 + 3 * H + j] = d * th * go * (1.0 - go)
        elif mode == GRU:
            gr = gates[g0 + j]
            gz = gates[g0 + H + j]
            gn = gates[g0 + 2 * H + j]
            hn = gates[g0 + 3 * H + j]
            dnp = d * (1.0 - gz) * (1.0 - gn * gn)
            drp = dnp * hn * gr * (1.0 - gr)
            dzp = d * (hprev[row * H + j] - gn) * gz * (1.0 - gz)
            dgx[x0 + j] = drp
            dgx[x0 + H + j] = dzp
            dgx[x0 + 2 * H + j] = dnp
            dgh[x0 + j] = drp
            dgh[x0 + H + j] = dzp
            dgh[x0 + 2 * H + j] = dnp * gr
            dh[b * H + j] = d * gz
        else:
            y = out[row * H + j]
            if mode == RNN_TANH:
                dgx[x0 + j] = d * (1.0 - y * y)
            else:
                dgx[x0 + j] = d if y > 0.0 else 0.0


def rnn_forward(mode, xw, bhh, whh, whr, has_proj, bsz, offs, reverse, h, c, out, hprev, cprev, gates, tc, rr,
                hg, save):
    """Run one layer and direction over all steps (see ``kernels/cpu/rnn.py``)."""
    T = bsz.shape[0]
    H = tc.shape[1]
    P = h.shape[1]
    GH = whh.shape[0]
    f = [_flat(a) for a in (xw, bhh, whh, whr, h, c, out, hprev, cprev, gates, tc, rr, hg)]
    xw_, bhh_, whh_, whr_, h_, c_, out_, hprev_, cprev_, gates_, tc_, rr_, hg_ = f
    for s in range(T):
        t = T - 1 - s if reverse else s
        nb = int(bsz[t])
        o = int(offs[t])
        if nb == 0:
            continue
        if save:
            _copy_rows[blocks(nb * P), THREADS](h_, 0, hprev_, o * P, nb * P)
        # hg[:nb] = h[:nb] @ whh.T
        _launch_gemm(h_, 0, 0, P, 1, whh_, 0, 0, 1, P, hg_, 0, 0, GH, 1, 1, nb, GH, P, False)
        _gates_fwd[blocks(nb * H), THREADS](mode, xw_, hg_, bhh_, h_, c_, out_, cprev_, gates_, tc_, rr_, has_proj,
                                             o, nb, H, save)
        if has_proj:
            # out[o:o+nb] = rr[o:o+nb] @ whr.T, which is also the new h
            ro = o * H if save else 0
            _launch_gemm(rr_, ro, 0, H, 1, whr_, 0, 0, 1, H, out_, o * P, 0, P, 1, 1, nb, P, H, False)
            _copy_rows[blocks(nb * P), THREADS](out_, o * P, h_, 0, nb * P)


def rnn_backward(mode, dout, dh, dc, whh, whr, has_proj, bsz, offs, reverse, hprev, cprev, gates, tc, out, dgx,
                 dgh, dproj, dht, dr, tmp):
    """Backward through one layer and direction (see ``kernels/cpu/rnn.py``); ``tmp`` is unused here (the GEMM
    accumulates into dh directly)."""
    T = bsz.shape[0]
    H = tc.shape[1]
    P = dh.shape[1]
    GH = whh.shape[0]
    f = [_flat(a) for a in (dout, dh, dc, whh, whr, hprev, cprev, gates, tc, out, dgx, dgh, dproj, dht, dr)]
    dout_, dh_, dc_, whh_, whr_, hprev_, cprev_, gates_, tc_, out_, dgx_, dgh_, dproj_, dht_, dr_ = f
    for s in range(T):
        t = s if reverse else T - 1 - s
        nb = int(bsz[t])
        o = int(offs[t])
        if nb == 0:
            continue
        _add_rows[blocks(nb * P), THREADS](dout_, o * P, dh_, dht_, nb * P)
        if has_proj:
            _copy_rows[blocks(nb * P), THREADS](dht_, 0, dproj_, o * P, nb * P)
            # dr[:nb] = dht[:nb] @ whr
            _launch_gemm(dht_, 0, 0, P, 1, whr_, 0, 0, H, 1, dr_, 0, 0, H, 1, 1, nb, H, P, False)
            src = dr_
        else:
            src = dht_
        _gates_bwd[blocks(nb * H), THREADS](mode, src, dh_, dc_, hprev_, cprev_, gates_, tc_, out_, dgx_, dgh_, o,
                                             nb, H)
        # dh[:nb] (+)= dgh[o:o+nb] @ whh (GRU's gate kernel left its direct z * dh term there)
        _launch_gemm(dgh_, o * GH, 0, GH, 1, whh_, 0, 0, P, 1, dh_, 0, 0, P, 1, 1, nb, P, GH, mode == GRU)


def rnn_forward_par(mode, xw, bhh, whh, whr, has_proj, bsz, offs, reverse, h, c, out, hprev, cprev, gates, tc, rr,
                    hg, save, parts):
    """rnn_forward: on the GPU every step's kernels already run the batch rows in parallel (``parts`` unused)."""
    rnn_forward(mode, xw, bhh, whh, whr, has_proj, bsz, offs, reverse, h, c, out, hprev, cprev, gates, tc, rr, hg,
                save)


def rnn_backward_par(mode, dout, dh, dc, whh, whr, has_proj, bsz, offs, reverse, hprev, cprev, gates, tc, out, dgx,
                     dgh, dproj, dht, dr, tmp, parts):
    """rnn_backward: the GPU's step kernels are parallel over the rows already (``parts`` unused)."""
    rnn_backward(mode, dout, dh, dc, whh, whr, has_proj, bsz, offs, reverse, hprev, cprev, gates, tc, out, dgx, dgh,
                 dproj, dht, dr, tmp)
