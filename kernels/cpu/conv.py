"""Convolution kernels: conv2d forward and backward, one image at a time.

Each thread takes a contiguous slice of the batch. For one image (and group) it unrolls the input into a
(C/groups*kh*kw, OH*OW) column block held in the thread's own scratch buffer (small enough to stay in cache) and
runs one GEMM on it:

* forward:      out[n, g] = w[g] @ cols(x[n, g])                    (+ bias)
* grad weight:  gw[g]    += g[n, g] @ cols(x[n, g]).T                (per-thread partial sums)
* grad input:   gx[n, g]  = col2im(w[g].T @ g[n, g])

cols[(c, i, j), (oh, ow)] = x[c, oh*sh - ph + i*dh, ow*sw - pw + j*dw], 0 outside the input. Nothing of batch size is
ever allocated, the output comes out in (N, O, OH*OW) order, and the BLAS runs single-threaded inside each Numba
thread, so the two thread pools never fight over the cores.

3x3 stride-1 convolutions with at least 16 input and 16 output channels, 512 (input, output) channel pairs and up
to 256 2x2 output tiles per image run as Winograd F(2x2, 3x3) instead, forward and backward: 16 GEMMs of the
transformed weights with the transformed input tiles, 2.25x fewer multiply-adds than the im2col GEMM (see the
section below).
"""
import threading

import numpy as np
from numba import njit, prange, types
from numba.extending import overload

from . import _blas
from ._blas import dot as _blas_dot
from ._blas import gemm as _blas_gemm
from ._threads import num_threads
from .matmul import _epilogue
from .memory import empty_large as _empty_aligned

U = np.uint64


def workers():
    """How many per-thread scratch buffers and partial sums the conv kernels take: one per Numba thread."""
    return num_threads()


def _dot(a, b, out):
    """out = a @ b for 2-D arrays (BLAS for floats, a plain loop for integers)."""


@overload(_dot)
def _dot_impl(a, b, out):
    if isinstance(a.dtype, types.Float):
        def impl(a, b, out):
            _blas_dot(a, b, out)
    else:
        def impl(a, b, out):
            M, K = a.shape
            N = b.shape[1]
            for i in range(M):
                for j in range(N):
                    out[i, j] = 0
                for k in range(K):
                    v = a[i, k]
                    for j in range(N):
                        out[i, j] += v * b[k, j]
    return impl


@njit(cache=True, inline="always")
def _span(off, n, s, out_n):
    """[lo, hi): the output positions o with 0 <= o*s + off < n."""
    lo = 0 if off >= 0 else (-off + s - 1) // s
    hi = (n - off + s - 1) // s if n - off > 0 else 0
    if hi > out_n:
        hi = out_n
    if lo > hi:
        lo = hi
    return lo, hi


@njit(cache=True, inline="always")
def _valid_rows(i, ph, dh, H, OH):
    """[lo, hi): the output rows oh whose input row oh - ph + i*dh lies inside the image (stride 1)."""
    lo = min(max(0, ph - i * dh), OH)
    hi = max(min(OH, H + ph - i * dh), lo)
    return lo, hi


@njit(cache=True, inline="always")
def _zero_padding_columns(bf, row, lo, hi, W, off):
    """Zero, in output rows lo..hi-1 of the run at ``row`` (rows of W), the columns whose input column ow + off
    falls outside the image: ow < -off on the left, ow >= W - off on the right."""
    a = min(W, max(0, -off))
    b = max(0, min(W, W - off))
    for oh in range(lo, hi):
        for ow in range(a):
            bf[U(row + oh * W + ow)] = 0
        for ow in range(b, W):
            bf[U(row + oh * W + ow)] = 0


@njit(cache=True)
def _im2col_runs(xf, C, H, W, bf, ld, col0, kh, kw, ph, pw, dw, OH):
    """_im2col_ld for stride 1 when the output is as wide as the input (``same`` padding: 3x3 pad 1, 5x5 pad 2,
    1x1): the valid rows of a (c, i, j) row of columns are one run of the input shifted by ``off``, copied in one
    loop, after which the few positions that fell in the padding are zeroed (one loop per image row was mostly
    loop overhead on 7x7 and 14x14 images)."""
    L = OH * W
    for c in range(C):
        for i in range(kh):
            lo, hi = _valid_rows(i, ph, 1, H, OH)
            for j in range(kw):
                off = j * dw - pw
                row = ((c * kh + i) * kw + j) * ld + col0
                for q in range(lo * W):
                    bf[U(row + q)] = 0
                for q in range(hi * W, L):
                    bf[U(row + q)] = 0
                if hi == lo:
                    continue
                # dest q in [lo*W, hi*W) reads xf[src + q]; the first -off (off < 0) or last off (off > 0)
                # positions would read outside the rows (they are padding, zeroed below), so they are skipped
                src = (c * H - ph + i) * W + off
                q0 = lo * W + max(0, -off)
                q1 = hi * W - max(0, off)
                for q in range(q0, q1):
                    bf[U(row + q)] = xf[U(src + q)]
                _zero_padding_columns(bf, row, lo, hi, W, off)


@njit(cache=True)
def _col2im_runs(bf, ld, col0, C, H, W, gf, kh, kw, ph, pw, dw, OH):
    """_col2im_ld's accumulation for the case _im2col_runs handles: the positions that fell in the padding are
    zeroed in the (scratch) columns first, so each valid run adds back in one loop."""
    for c in range(C):
        for i in range(kh):
            lo, hi = _valid_rows(i, ph, 1, H, OH)
            if hi == lo:
                continue
            for j in range(kw):
                off = j * dw - pw
                row = ((c * kh + i) * kw + j) * ld + col0
                _zero_padding_columns(bf, row, lo, hi, W, off)
                src = (c * H - ph + i) * W + off
                q0 = lo * W + max(0, -off)
                q1 = hi * W - max(0, off)
                for q in range(q0, q1):
                    gf[U(src + q)] += bf[U(row + q)]


@njit(cache=True, inline="always")
def _im2col_ld(x, C, H, W, bf, ld, col0, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW):
    """x: (C, H, W) C-contiguous; bf: flat buffer of rows of ``ld`` values; the image's (C*kh*kw, OH*OW) columns go
    to columns [col0, col0 + OH*OW) of its first C*kh*kw rows."""
    xf = x.ravel()
    if sh == 1 and sw == 1 and dh == 1 and OW == W:
        _im2col_runs(xf, C, H, W, bf, ld, col0, kh, kw, ph, pw, dw, OH)
        return
    for c in range(C):
        for i in range(kh):
            for j in range(kw):
                row = ((c * kh + i) * kw + j) * ld + col0
                off = j * dw - pw
                lo, hi = _span(off, W, sw, OW)
                for oh in range(OH):
                    h = oh * sh - ph + i * dh
                    base = row + oh * OW
                    if h < 0 or h >= H:
                        for ow in range(OW):
                            bf[U(base + ow)] = 0
                        continue
                    xrow = (c * H + h) * W + off
                    for ow in range(lo):
                        bf[U(base + ow)] = 0
                    if sw == 1:
                        for ow in range(lo, hi):
                            bf[U(base + ow)] = xf[U(xrow + ow)]
                    else:
                        for ow in range(lo, hi):
                            bf[U(base + ow)] = xf[U(xrow + ow * sw)]
                    for ow in range(hi, OW):
                        bf[U(base + ow)] = 0


@njit(cache=True, inline="always")
def _im2col_img(x, C, H, W, buf, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW):
    """x: (C, H, W) C-contiguous; buf: (C*kh*kw, OH*OW) C-contiguous."""
    _im2col_ld(x, C, H, W, buf.ravel(), OH * OW, 0, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW)


@njit(cache=True, inline="always")
def _col2im_ld(bf, ld, col0, C, H, W, gx, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW):
    """gx (C, H, W) = adjoint of im2col applied to columns [col0, col0 + OH*OW) of the rows of ``ld`` values in the
    flat buffer bf; gx is overwritten."""
    gf = gx.ravel()
    for p in range(C * H * W):
        gf[p] = 0
    if sh == 1 and sw == 1 and dh == 1 and OW == W:
        _col2im_runs(bf, ld, col0, C, H, W, gf, kh, kw, ph, pw, dw, OH)
        return
    for c in range(C):
        for i in range(kh):
            for j in range(kw):
                row = ((c * kh + i) * kw + j) * ld + col0
                off = j * dw - pw
                lo, hi = _span(off, W, sw, OW)
                for oh in range(OH):
                    h = oh * sh - ph + i * dh
                    if h < 0 or h >= H:
                        continue
                    base = row + oh * OW
                    xrow = (c * H + h) * W + off
                    if sw == 1:
                        for ow in range(lo, hi):
                            gf[U(xrow + ow)] += bf[U(base + ow)]
                    else:
                        for ow in range(lo, hi):
                            gf[U(xrow + ow * sw)] += bf[U(base + ow)]


@njit(cache=True, inline="always")
def _col2im_img(buf, C, H, W, gx, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW):
    """gx (C, H, W) = adjoint of im2col applied to buf (C*kh*kw, OH*OW); gx is overwritten."""
    _col2im_ld(buf.ravel(), OH * OW, 0, C, H, W, gx, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW)


def conv2d_forward(x, w, b, has_b, out, ws, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW, act=0, keep=None, wu=None):
    """out (N, G, Og, L) = act(w (G, Og, Kg) @ im2col(x[n], group g) (+ b)); ws (T, R, S/R) scratch, one per thread;
    ``act`` as in the linear kernels' ``_epilogue`` (minitorch.compile fuses conv2d -> relu), applied where the
    bias is added, while the block is in cache. 3x3 stride-1 convolutions with enough channels run as Winograd
    F(2x2, 3x3) instead (see below; ws is then unused). ``keep``: a list, when the weight gradient will be wanted;
    a Winograd forward appends its transformed input to it (up to WINOGRAD_KEEP_BYTES), for conv2d_backward's
    ``kept``, which then need not recompute it. ``wu``: None, or a one-element list that keeps the weights'
    Winograd transform for later calls with the same weights (the caller empties it when they change)."""
    T = max(1, min(num_threads(), x.shape[0]))
    plan = _winograd_plan_for(x, w, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW, T)
    if plan is not None:
        N, C = x.shape[0], x.shape[1]
        O = w.shape[1]
        ni, sv, sm, S, _, gmap, emap, omap, _, _, _, key = plan
        su = O * C + WINOGRAD_PAD
        nk = 16 * sv * -(-N // ni)
        keeping = keep is not None and nk * x.itemsize <= WINOGRAD_KEEP_BYTES
        vk = _empty_aligned(nk, x.dtype) if keeping else np.empty(0, x.dtype)
        u = wu[0] if wu is not None else None
        if u is None or u.shape[0] != 16 * su or u.dtype != x.dtype:
            u = None
        own = u is None and wu is None  # the transform lives in the pooled buffer, for this call only
        s0 = 16 * su if own else 0
        buf = _take(s0 + T * S, x.dtype)
        try:
            if u is None:
                u = buf[:16 * su] if own else np.empty(16 * su, x.dtype)
                _winograd_weights(w.reshape(O, C, 9), u, su)
                if wu is not None:
                    wu[0] = u
            bad = np.zeros(T, np.bool_)
            _winograd_forward(x, u, su, b, has_b, out.reshape(N, O, OH, OW), buf[s0:s0 + T * S].reshape(T, S),
                              ni, sv, sm, gmap, emap, omap, act, vk, keeping, bad)
        finally:
            _give(buf)
        if not bad.any():
            if keeping:
                keep.append((key, vk))
            return
    _conv2d_forward_cols(x, w, b, has_b, out, ws, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW, act)


@njit(cache=True, parallel=True, error_model="numpy")
def _conv2d_forward_cols(x, w, b, has_b, out, ws, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW, act=0):
    """conv2d_forward by im2col.

    S = Kg*L: one image at a time, the GEMM writing straight into out. S = (Kg + Og)*nb*L with nb > 1: small
    images in chunks of nb, their columns side by side so that one GEMM with nb*L columns serves the chunk (a GEMM
    with few columns repacks the whole weight for little work), its (Og, nb*L) result then copied out per image.
    """
    N, C, H, W = x.shape
    G, Og, Kg = w.shape
    Cg = C // G
    T = ws.shape[0]
    L = OH * OW
    S = ws.shape[1] * ws.shape[2]
    nb = S // ((Kg + Og) * L) if S > Kg * L else 1
    for t in prange(T):
        flat = ws[t].ravel()
        n0 = t * N // T
        n1 = (t + 1) * N // T
        while n0 < n1:
            m = min(nb, n1 - n0)
            for g in range(G):
                buf = flat[:Kg * m * L].reshape(Kg, m * L)
                for j in range(m):
                    _im2col_ld(x[n0 + j, g * Cg:(g + 1) * Cg], Cg, H, W, flat, m * L, j * L, kh, kw, sh, sw, ph, pw,
                               dh, dw, OH, OW)
                if nb == 1:
                    o = out[n0, g]
                    _dot(w[g], buf, o)
                    if has_b:
                        for r in range(Og):
                            bv = b[g * Og + r]
                            for l in range(L):
                                o[r, l] = _epilogue(o[r, l] + bv, act)
                    elif act:
                        for r in range(Og):
                            for l in range(L):
                                o[r, l] = _epilogue(o[r, l], act)
                else:
                    res = flat[Kg * m * L:(Kg + Og) * m * L].reshape(Og, m * L)
                    _dot(w[g], buf, res)
                    for j in range(m):
                        o = out[n0 + j, g]
                        for r in range(Og):
                            bv = b[g * Og + r] if has_b else 0
                            for l in range(L):
                                o[r, l] = _epilogue(res[r, j * L + l] + bv, act)
            n0 += m


def conv2d_backward(x, w, g, gx, gw, gb, need_x, need_w, need_b, ws, wt, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW,
                    kept=None):
    """g (N, G, Og, L). gx (N, C, H, W) overwritten; gw (T, G, Og, Kg) and gb (T, G*Og) get the full sums in index
    0 (the other rows are scratch); ws (T, R, S/R) and wt (T, Og, Kg) scratch. Where the forward runs as Winograd,
    so does this (the adjoint transforms; ws and wt are then unused); ``kept`` is what conv2d_forward put in its
    ``keep`` list for this call, if anything: the transformed input, used when it was laid out for the same plan
    (shape and thread count)."""
    T = gb.shape[0]
    plan = _winograd_plan_for(x, w, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW, T)
    if plan is not None and g.dtype == x.dtype and g.flags.c_contiguous:
        N, C = x.shape[0], x.shape[1]
        O = w.shape[1]
        ni, sv, sm, _, Sb, gmap, emap, _, tmap, k1, k2, key = plan
        vk = kept[1] if kept is not None and kept[0] == key and need_w else np.empty(0, x.dtype)
        su = O * C + WINOGRAD_PAD
        buf = _take(16 * su + T * Sb, x.dtype)
        try:
            u = buf[:16 * su]
            if need_x:
                _winograd_weights(w.reshape(O, C, 9), u, su)
            bad = np.zeros(T, np.bool_)
            _winograd_backward(x, u, su, g.reshape(N, O, OH, OW), gx, gw, gb, need_x, need_w, need_b,
                               buf[16 * su:16 * su + T * Sb].reshape(T, Sb), ni, sv, sm, gmap, emap, tmap, k1, k2,
                               vk, vk.size > 0, bad)
        finally:
            _give(buf)
        if not bad.any():
            return
    _conv2d_backward_cols(x, w, g, gx, gw, gb, need_x, need_w, need_b, ws, wt, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW)


@njit(cache=True, parallel=True, error_model="numpy")
def _conv2d_backward_cols(x, w, g, gx, gw, gb, need_x, need_w, need_b, ws, wt, kh, kw, sh, sw, ph, pw, dh, dw, OH,
                          OW):
    """conv2d_backward by im2col. g (N, G, Og, L). gx (N, C, H, W) overwritten; gw (T, G, Og, Kg) and gb (T, G*Og)
    get the full sums in index 0 and zeros elsewhere (the other rows hold the threads' partial sums until the end);
    ws (T, R, S/R) and wt (T, Og, Kg) scratch.

    S = Kg*L: one image at a time. S = (Kg + Og)*nb*L: chunks of nb images, the chunk's output gradient gathered
    to (Og, nb*L) so that the weight-gradient and input-gradient GEMMs each run once per chunk."""
    N, C, H, W = x.shape
    G, Og, Kg = w.shape
    Cg = C // G
    T = ws.shape[0]
    L = OH * OW
    S = ws.shape[1] * ws.shape[2]
    nb = S // ((Kg + Og) * L) if S > Kg * L else 1
    for t in prange(T):
        flat = ws[t].ravel()
        tmp = wt[t]
        n0 = t * N // T
        n1 = (t + 1) * N // T
        start = n0
        if need_w and n0 == n1:
            gw[t, :, :, :] = 0
        if need_b:
            gb[t, :] = 0
        while n0 < n1:
            m = min(nb, n1 - n0)
            for gi in range(G):
                buf = flat[:Kg * m * L].reshape(Kg, m * L)
                if nb == 1:
                    gng = g[n0, gi]
                else:
                    gng = flat[Kg * m * L:(Kg + Og) * m * L].reshape(Og, m * L)
                    for j in range(m):
                        src = g[n0 + j, gi]
                        for r in range(Og):
                            for l in range(L):
                                gng[r, j * L + l] = src[r, l]
                if need_w:
                    for j in range(m):
                        _im2col_ld(x[n0 + j, gi * Cg:(gi + 1) * Cg], Cg, H, W, flat, m * L, j * L, kh, kw, sh, sw, ph,
                                   pw, dh, dw, OH, OW)
                    if n0 == start:  # the thread's first chunk: straight into its partial sum
                        _dot(gng, buf.T, gw[t, gi])
                    else:
                        _dot(gng, buf.T, tmp)
                        acc = gw[t, gi]
                        for r in range(Og):
                            for k in range(Kg):
                                acc[r, k] += tmp[r, k]
                if need_b:
                    for r in range(Og):
                        s = 0.0
                        for l in range(m * L):
                            s += gng[r, l]
                        gb[t, gi * Og + r] += s
                if need_x:
                    _dot(w[gi].T, gng, buf)
                    for j in range(m):
                        _col2im_ld(flat, m * L, j * L, Cg, H, W, gx[n0 + j, gi * Cg:(gi + 1) * Cg], kh, kw, sh, sw,
                                   ph, pw, dh, dw, OH, OW)
            n0 += m
    # the threads' partial sums into row 0 (the other rows end as zeros, as the CUDA kernel leaves them)
    if need_w and T > 1:
        for r in prange(G * Og):
            gi = r // Og
            o = r - gi * Og
            for t in range(1, T):
                for k in range(Kg):
                    gw[0, gi, o, k] += gw[t, gi, o, k]
                    gw[t, gi, o, k] = 0
    if need_b and T > 1:
        for e in range(G * Og):
            for t in range(1, T):
                gb[0, e] += gb[t, e]
                gb[t, e] = 0


# ---------------------------------------------------------------------------------------------------------------
# 3x3, stride 1: Winograd F(2x2, 3x3). Each 2x2 block of outputs comes from a 4x4 input tile d (rows 2ty - ph ..,
# columns 2tx - pw ..) as  Y = A^T [ U ⊙ V ] A  with  U = G g G^T  (4x4 per (o, c)) and  V = B^T d B  (4x4 per
# (c, tile)), summed over c: the 16 products U[e] ⊙ V[e] summed over c are 16 GEMMs (O, C) @ (C, tiles), 2.25x fewer
# multiply-adds than the 3x3 im2col GEMM, and no 9x-sized column block.
#     B^T = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]]
#     G   = [[1, 0, 0], [1/2, 1/2, 1/2], [1/2, -1/2, 1/2], [0, 0, 1]]
#     A^T = [[1, 1, 1, 0], [0, 1, -1, -1]]
# Every factor is exact in binary floating point; the measured error against float64 is that of the im2col GEMM.
# ---------------------------------------------------------------------------------------------------------------
WINOGRAD_PAD = 48  # elements between the 16 planes: planes a power-of-two apart alias in L1 (measured 5.4 -> 3.7 ms)
WINOGRAD_TILES = 128  # tiles per chunk (the GEMMs' column count), as whole images
# The forward keeps its transformed input for the weight gradient up to this size (it is about 4x the input; larger
# ones are recomputed by the backward, as the transform of a 26x26 batch of 64 x 32 channels, 22 MB, costs 1.6 ms)
WINOGRAD_KEEP_BYTES = 32 << 20


def _winograd_plan(N, C, O, H, W, ph, pw, OH, OW, T):
    """The layout of a 3x3 stride-1 conv as Winograd work on T threads, or None where it does not pay (more than 256
    tiles per image: the im2col GEMM is efficient there). A chunk is ni whole images (about 128 tiles, the GEMMs' column
    count, so that a thread's blocks stay in its L2 cache; at most N/T images, so that every thread gets one); chunk k
    holds images k*ni .. k*ni+ni and thread t takes chunks t*K//T .. (t+1)*K//T of the K. Returns (ni, sv, sm, S, Sb,
    gmap, emap, omap, tmap, k1, k2): the V and M plane strides; scratch elements per thread forward (V, M, the padded
    input rows (4, C, pitch), their last two columns (4, C, pitch), the output row blocks (2, O, 2*tiles)) and backward
    (V, M, those rows with a zero block (9, C, pitch), the input-gradient planes, the weight-gradient partial sums (16,
    O, C)); the per-image maps (element offsets within a channel plane, -1 for padding) of the padded input rows and
    their last two columns, where each output lies in the row blocks, each tile's four outputs (-1 past the edge), and
    the (up to two) places in the row blocks, rows of the (9, C, pitch) scratch less the channel offset, whose sum is an
    input's gradient."""
    TH, TW = (OH + 1) // 2, (OW + 1) // 2
    P1 = TH * TW
    if P1 > 256:
        return None
    tiles = WINOGRAD_TILES
    if O * C * P1 <= _blas.small_products():
        # the 16 forward GEMMs (O, cnt, C) fit the small-product library (see _blas.SMALL), whose per-flop speed is
        # up to 2x MKL's there: chunks stay that small (7x7, 64 -> 128 channels: 128 tiles 2.36 ms, 64 2.07)
        tiles = min(tiles, _blas.small_products() // (O * C))
    ni = max(1, min(N, tiles // P1, -(-N // T)))
    cnt = ni * P1
    pitch = 2 * cnt + 2
    sv = C * cnt + WINOGRAD_PAD
    sm = O * cnt + WINOGRAD_PAD
    S = 16 * (sv + sm) + 8 * C * pitch + 4 * O * cnt
    Sb = 16 * (2 * sv + sm) + 9 * C * pitch + 16 * O * C
    i = np.arange(4)[:, None, None]
    ty = np.arange(TH)[None, :, None]
    rows = 2 * ty - ph + i                                    # (4, TH, 1) input row of slab row i, tile row ty
    cols = np.arange(2 * TW + 2)[None, None, :] - pw          # padded column -> input column
    off = np.where((rows >= 0) & (rows < H) & (cols >= 0) & (cols < W), rows * W + cols, -1)
    gmap = np.ascontiguousarray(off[:, :, :2 * TW]).reshape(4, 2 * P1)
    emap = np.ascontiguousarray(off[:, :, 2 * TW:]).reshape(4, 2 * TH)
    oy = np.arange(OH)[:, None]
    ox = np.arange(OW)[None, :]
    omap = ((oy % 2) * (O * 2 * cnt) + 2 * ((oy // 2) * TW + ox // 2) + ox % 2).reshape(-1)
    ty, tx = np.divmod(np.arange(P1), TW)
    tmap = np.empty((4, P1), np.int64)
    for c, (dy, dx) in enumerate(((0, 0), (0, 1), (1, 0), (1, 1))):
        y, x = 2 * ty + dy, 2 * tx + dx
        tmap[c] = np.where((y < OH) & (x < OW), y * OW + x, -1)
    k = np.full((2, H * W), 8 * C * pitch, np.int64)          # default: the zero row block
    used = np.zeros(H * W, np.int64)
    for r, m, place in ((gmap, 0, lambda i, p: i * C * pitch + p), (emap, 4, lambda i, p: (4 + i) * C * pitch + p)):
        for ii in range(4):
            for pp in range(r.shape[1]):
                o = r[ii, pp]
                if o >= 0:
                    k[used[o], o] = place(ii, pp)
                    used[o] += 1
    return ni, sv, sm, S, Sb, gmap, emap, omap, tmap, k[0].copy(), k[1].copy()


@njit(cache=True, parallel=True, error_model="numpy")
def _winograd_weights(w, u, su):
    """u[e*su + o*C + c] = (G w[o, c] G^T)[e] for w (O, C, 9)."""
    O, C = w.shape[0], w.shape[1]
    for o in prange(O):
        for c in range(C):
            g = w[o, c]
            for r in range(4):  # row r of G g (a 3-vector), then of (G g) G^T
                if r == 0:
                    a0, a1, a2 = g[0], g[1], g[2]
                elif r == 3:
                    a0, a1, a2 = g[6], g[7], g[8]
                elif r == 1:
                    a0, a1, a2 = 0.5 * (g[0] + g[3] + g[6]), 0.5 * (g[1] + g[4] + g[7]), 0.5 * (g[2] + g[5] + g[8])
                else:
                    a0, a1, a2 = 0.5 * (g[0] - g[3] + g[6]), 0.5 * (g[1] - g[4] + g[7]), 0.5 * (g[2] - g[5] + g[8])
                base = o * C + c
                u[(4 * r) * su + base] = a0
                u[(4 * r + 1) * su + base] = 0.5 * (a0 + a1 + a2)
                u[(4 * r + 2) * su + base] = 0.5 * (a0 - a1 + a2)
                u[(4 * r + 3) * su + base] = a2


@njit(cache=True, error_model="numpy")
def _wg_input_block(p0, p1, p2, p3, cnt, v0, v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11, v12, v13, v14, v15):
    """ve[c, q] = (B^T d B)[e] for the 4x4 input tiles d whose rows are p0..p3[c, 2q:2q+4] (q < cnt): each row of
    p holds a chunk's tile rows side by side, 2*TW columns each, so the last tile of a row reads two columns of the
    next and is redone by the caller. Not inlined: its 16 planes arrive as separate arrays, which lets LLVM vectorize
    the long loop over tiles (as offsets into one array it stayed scalar, 5x slower)."""
    for c in range(p0.shape[0]):
        for q in range(cnt):
            j = 2 * q
            s00, s01, s02, s03 = p0[c, j] - p2[c, j], p0[c, j + 1] - p2[c, j + 1], p0[c, j + 2] - p2[c, j + 2], \
                p0[c, j + 3] - p2[c, j + 3]
            s10, s11, s12, s13 = p1[c, j] + p2[c, j], p1[c, j + 1] + p2[c, j + 1], p1[c, j + 2] + p2[c, j + 2], \
                p1[c, j + 3] + p2[c, j + 3]
            s20, s21, s22, s23 = p2[c, j] - p1[c, j], p2[c, j + 1] - p1[c, j + 1], p2[c, j + 2] - p1[c, j + 2], \
                p2[c, j + 3] - p1[c, j + 3]
            s30, s31, s32, s33 = p1[c, j] - p3[c, j], p1[c, j + 1] - p3[c, j + 1], p1[c, j + 2] - p3[c, j + 2], \
                p1[c, j + 3] - p3[c, j + 3]
            v0[c, q] = s00 - s02
            v1[c, q] = s01 + s02
            v2[c, q] = s02 - s01
            v3[c, q] = s01 - s03
            v4[c, q] = s10 - s12
            v5[c, q] = s11 + s12
            v6[c, q] = s12 - s11
            v7[c, q] = s11 - s13
            v8[c, q] = s20 - s22
            v9[c, q] = s21 + s22
            v10[c, q] = s22 - s21
            v11[c, q] = s21 - s23
            v12[c, q] = s30 - s32
            v13[c, q] = s31 + s32
            v14[c, q] = s32 - s31
            v15[c, q] = s31 - s33


@njit(cache=True, error_model="numpy")
def _wg_output_block(m0, m1, m2, m3, m4, m5, m6, m7, m8, m9, m10, m11, m12, m13, m14, m15, cnt, b, has_b, act, y0,
                     y1):
    """A^T M A (+ bias, activation) for the chunk's cnt tiles of every output channel o: the tile's top two outputs
    to y0[o, 2q:2q+2], its bottom two to y1[o, 2q:2q+2] (so a tile row's outputs are a contiguous row segment). Not
    inlined, for the same reason as _wg_input_block. Returns whether any result is infinite or NaN (the caller
    then computes the convolution directly: the transforms turn an infinite input into NaN where the direct sum
    gives an infinity)."""
    bad = False
    for o in range(m0.shape[0]):
        bv = b[o] if has_b else m0[0, 0] * 0
        for q in range(cnt):
            a0 = m0[o, q] + m4[o, q] + m8[o, q]
            a1 = m1[o, q] + m5[o, q] + m9[o, q]
            a2 = m2[o, q] + m6[o, q] + m10[o, q]
            a3 = m3[o, q] + m7[o, q] + m11[o, q]
            c0 = m4[o, q] - m8[o, q] - m12[o, q]
            c1 = m5[o, q] - m9[o, q] - m13[o, q]
            c2 = m6[o, q] - m10[o, q] - m14[o, q]
            c3 = m7[o, q] - m11[o, q] - m15[o, q]
            t0 = a0 + a1 + a2 + bv
            t1 = a1 - a2 - a3 + bv
            t2 = c0 + c1 + c2 + bv
            t3 = c1 - c2 - c3 + bv
            z = (t0 - t0) + (t1 - t1) + (t2 - t2) + (t3 - t3)  # NaN exactly when one of them is not finite
            bad |= z != z
            y0[o, 2 * q] = _epilogue(t0, act)
            y0[o, 2 * q + 1] = _epilogue(t1, act)
            y1[o, 2 * q] = _epilogue(t2, act)
            y1[o, 2 * q + 1] = _epilogue(t3, act)
    return bad


@njit(cache=True, error_model="numpy")
def _wg_gather(xf, n0, m, C, HW, gmap, emap, slab, ext):
    """The zero-padded input rows of images n0 .. n0+m for the input transform: slab[i, c, j*2P1 + p] = x[n0+j, c]
    at plane offset gmap[i, p] (0 where it is -1), ext[i, c, j*2P1 + e] the same for the rows' last two columns
    (emap); two zero columns close each slab row. One call per chunk: the loops are long enough to vectorize."""
    P2 = gmap.shape[1]
    z = xf[0] * 0
    for i in range(4):
        for c in range(C):
            for j in range(m):
                base = ((n0 + j) * C + c) * HW
                d0 = j * P2
                for p in range(P2):
                    g = gmap[i, p]
                    slab[i, c, d0 + p] = xf[base + g] if g >= 0 else z
                for p in range(emap.shape[1]):
                    g = emap[i, p]
                    ext[i, c, d0 + p] = xf[base + g] if g >= 0 else z
            slab[i, c, m * P2] = z
            slab[i, c, m * P2 + 1] = z


@njit(cache=True, error_model="numpy")
def _wg_scatter(yf, ystride, P2, omap, of, n0, m, O, L):
    """out[n0+j, o] (L values) from the transformed output rows: of[...+ l] = yf[o*ystride + j*P2 + omap[l]]."""
    for o in range(O):
        for j in range(m):
            dst = ((n0 + j) * O + o) * L
            src = o * ystride + j * P2
            for l in range(L):
                of[dst + l] = yf[src + omap[l]]


@njit(cache=True, error_model="numpy")
def _wg_input_tail(p0, p1, p2, p3, ext, m, TH, TW, v0, v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11, v12, v13, v14,
                   v15):
    """V of each tile row's last tile, whose last two input columns are in ext (see _wg_input_block). Its planes
    arrive as separate arrays: indexed through a list of views, every store took the list item's reference (an
    atomic count shared by both threads; 0.15 -> 0.10 ms of a 7x7 64-channel batch's 2.3 ms forward)."""
    P1 = TH * TW
    for c in range(p0.shape[0]):
        for j in range(m):
            for ty in range(TH):
                q = j * P1 + ty * TW + TW - 1
                a = 2 * q
                e = j * 2 * P1 + 2 * ty
                a0, a1, a2, a3 = p0[c, a], p1[c, a], p2[c, a], p3[c, a]
                b0, b1, b2, b3 = p0[c, a + 1], p1[c, a + 1], p2[c, a + 1], p3[c, a + 1]
                c0, c1, c2, c3 = ext[0, c, e], ext[1, c, e], ext[2, c, e], ext[3, c, e]
                d0, d1, d2, d3 = ext[0, c, e + 1], ext[1, c, e + 1], ext[2, c, e + 1], ext[3, c, e + 1]
                sa, sb, sc, sd = a0 - a2, b0 - b2, c0 - c2, d0 - d2
                v0[c, q], v1[c, q], v2[c, q], v3[c, q] = sa - sc, sb + sc, sc - sb, sb - sd
                sa, sb, sc, sd = a1 + a2, b1 + b2, c1 + c2, d1 + d2
                v4[c, q], v5[c, q], v6[c, q], v7[c, q] = sa - sc, sb + sc, sc - sb, sb - sd
                sa, sb, sc, sd = a2 - a1, b2 - b1, c2 - c1, d2 - d1
                v8[c, q], v9[c, q], v10[c, q], v11[c, q] = sa - sc, sb + sc, sc - sb, sb - sd
                sa, sb, sc, sd = a1 - a3, b1 - b3, c1 - c3, d1 - d3
                v12[c, q], v13[c, q], v14[c, q], v15[c, q] = sa - sc, sb + sc, sc - sb, sb - sd


@njit(cache=True, inline="always")
def _wg_transform_input(xf, n0, m, C, HW, gmap, emap, slab, ext, v, sv, TH, TW):
    """V for images n0 .. n0+m into v (16 planes of (C, m*TH*TW), sv apart); returns the planes as 2-D views."""
    P1 = TH * TW
    cnt = m * P1
    _wg_gather(xf, n0, m, C, HW, gmap, emap, slab, ext)
    vp = [v[e * sv:e * sv + C * cnt].reshape(C, cnt) for e in range(16)]
    _wg_input_block(slab[0], slab[1], slab[2], slab[3], cnt, vp[0], vp[1], vp[2], vp[3], vp[4], vp[5], vp[6], vp[7],
                    vp[8], vp[9], vp[10], vp[11], vp[12], vp[13], vp[14], vp[15])
    # each tile row's last tile: its last two input columns are in ext, not in the next tile row's first two
    _wg_input_tail(slab[0], slab[1], slab[2], slab[3], ext, m, TH, TW, vp[0], vp[1], vp[2], vp[3], vp[4], vp[5],
                   vp[6], vp[7], vp[8], vp[9], vp[10], vp[11], vp[12], vp[13], vp[14], vp[15])
    return vp


@njit(cache=True, parallel=True, error_model="numpy")
def _winograd_forward(x, u, su, b, has_b, out, ws, ni, sv, sm, gmap, emap, omap, act, vk, keep, bad):
    """out (N, O, OH, OW) = act(conv3x3(x (N, C, H, W)) (+ b)) from the transformed weights u (16 planes of (O, C),
    su apart); ws (T, S) scratch per thread and the rest as _winograd_plan gives them. Thread t takes a contiguous
    range of chunks of ni images: padded input rows, input transform, 16 GEMMs M[e] = U[e] @ V[e], output transform
    A^T M A (+ bias, activation) into row blocks, scattered to out. With ``keep`` the input transform of chunk k
    goes to vk[k*16*sv:(k+1)*16*sv] (for the backward) instead of the thread's scratch. bad[t] is set where thread
    t met a result that is not finite (see _wg_output_block)."""
    N, C, H, W = x.shape
    O, OH, OW = out.shape[1], out.shape[2], out.shape[3]
    TH = (OH + 1) // 2
    TW = (OW + 1) // 2
    P1 = TH * TW
    T = ws.shape[0]
    xf = x.ravel()
    of = out.ravel()
    L = OH * OW
    cmax = ni * P1
    pitch = 2 * cmax + 2
    for t in prange(T):
        buf = ws[t]
        v = buf[:16 * sv]
        mb = buf[16 * sv:16 * (sv + sm)]
        o1 = 16 * (sv + sm)
        slab = buf[o1:o1 + 4 * C * pitch].reshape(4, C, pitch)
        ext = buf[o1 + 4 * C * pitch:o1 + 8 * C * pitch].reshape(4, C, pitch)
        yb = buf[o1 + 8 * C * pitch:o1 + 8 * C * pitch + 4 * O * cmax]
        K = (N + ni - 1) // ni
        for k in range(t * K // T, (t + 1) * K // T):
            n0 = k * ni
            m = min(ni, N - n0)
            cnt = m * P1
            if keep:
                v = vk[k * 16 * sv:(k + 1) * 16 * sv]
            _wg_transform_input(xf, n0, m, C, H * W, gmap, emap, slab, ext, v, sv, TH, TW)
            for e in range(16):
                _blas_gemm(False, False, O, cnt, C, 1.0, u[e * su:], C, v[e * sv:], cnt, 0.0, mb[e * sm:], cnt)
            mp = [mb[e * sm:e * sm + O * cnt].reshape(O, cnt) for e in range(16)]
            if _wg_output_block(mp[0], mp[1], mp[2], mp[3], mp[4], mp[5], mp[6], mp[7], mp[8], mp[9], mp[10], mp[11],
                                mp[12], mp[13], mp[14], mp[15], cnt, b, has_b, act,
                                yb[:2 * O * cmax].reshape(O, 2 * cmax), yb[2 * O * cmax:].reshape(O, 2 * cmax)):
                bad[t] = True
            _wg_scatter(yb, 2 * cmax, 2 * P1, omap, of, n0, m, O, L)


# backward: the adjoints of the same linear maps. gM = A gY A^T per tile; grad weight: gU[e] = sum gM[e] @ V[e]^T,
# gw = G^T gU G; grad input: gV[e] = U[e]^T @ gM[e], gd = B gV B^T per tile, summed where the 4x4 tiles overlap.
@njit(cache=True, error_model="numpy")
def _wg_grad_split(gf, n0, m, L, tmap, g0, g1, g2, g3, gb, need_b):
    """The output gradient of images n0 .. n0+m as four (O, tiles) planes, each tile's top-left, top-right,
    bottom-left and bottom-right value (tmap[0..3, tile]; 0 past the output's edge): the adjoint of _wg_scatter.
    The sums per channel are added to gb when need_b."""
    O = g0.shape[0]
    P1 = tmap.shape[1]
    z = gf[0] * 0
    for o in range(O):
        for j in range(m):
            base = ((n0 + j) * O + o) * L
            q0 = j * P1
            for p in range(P1):
                i0, i1, i2, i3 = tmap[0, p], tmap[1, p], tmap[2, p], tmap[3, p]
                g0[o, q0 + p] = gf[base + i0] if i0 >= 0 else z
                g1[o, q0 + p] = gf[base + i1] if i1 >= 0 else z
                g2[o, q0 + p] = gf[base + i2] if i2 >= 0 else z
                g3[o, q0 + p] = gf[base + i3] if i3 >= 0 else z
            if need_b:
                s = z
                for l in range(L):
                    s += gf[base + l]
                gb[o] += s


@njit(cache=True, error_model="numpy")
def _wg_add(a, b, sub, out):
    """out = a - b if sub else a + b, for (O, tiles) planes (not inlined: the loop vectorizes)."""
    if sub:
        for o in range(out.shape[0]):
            for q in range(out.shape[1]):
                out[o, q] = a[o, q] - b[o, q]
    else:
        for o in range(out.shape[0]):
            for q in range(out.shape[1]):
                out[o, q] = a[o, q] + b[o, q]


@njit(cache=True, error_model="numpy")
def _wg_grad_input_block(cnt, v0, v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11, v12, v13, v14, v15, d0, d1, d2, d3,
                         d4, d5, d6, d7, d8, d9, d10, d11, d12, d13, d14, d15):
    """gd = B gV B^T per tile (the adjoint of _wg_input_block): d_{4i+j}[c, q] the gradient of the tile's input
    (i, j)."""
    for c in range(v0.shape[0]):
        for q in range(cnt):
            # r_i = sum_a B^T[a, i] gV[a, :], a 4-vector each
            r00, r01, r02, r03 = v0[c, q], v1[c, q], v2[c, q], v3[c, q]
            r10 = v4[c, q] - v8[c, q] + v12[c, q]
            r11 = v5[c, q] - v9[c, q] + v13[c, q]
            r12 = v6[c, q] - v10[c, q] + v14[c, q]
            r13 = v7[c, q] - v11[c, q] + v15[c, q]
            r20 = v4[c, q] + v8[c, q] - v0[c, q]
            r21 = v5[c, q] + v9[c, q] - v1[c, q]
            r22 = v6[c, q] + v10[c, q] - v2[c, q]
            r23 = v7[c, q] + v11[c, q] - v3[c, q]
            r30, r31, r32, r33 = -v12[c, q], -v13[c, q], -v14[c, q], -v15[c, q]
            d0[c, q], d1[c, q], d2[c, q], d3[c, q] = r00, r01 - r02 + r03, r01 + r02 - r00, -r03
            d4[c, q], d5[c, q], d6[c, q], d7[c, q] = r10, r11 - r12 + r13, r11 + r12 - r10, -r13
            d8[c, q], d9[c, q], d10[c, q], d11[c, q] = r20, r21 - r22 + r23, r21 + r22 - r20, -r23
            d12[c, q], d13[c, q], d14[c, q], d15[c, q] = r30, r31 - r32 + r33, r31 + r32 - r30, -r33


@njit(cache=True, error_model="numpy")
def _wg_grad_cols(a0, a1, a2, a3, cnt, m, TH, TW, s, e):
    """One padded input row of the chunk's tiles back from the tiles' columns a0..a3 (C, cnt): s[c, 2q] and
    s[c, 2q+1] get columns 0 and 1 of tile q plus columns 2 and 3 of the tile before it in its tile row; columns 2
    and 3 of a tile row's last tile go to e[c, j*2P1 + 2ty ...] (the adjoint of _wg_gather's slab and ext)."""
    P1 = TH * TW
    for c in range(a0.shape[0]):
        s[c, 0] = a0[c, 0]
        s[c, 1] = a1[c, 0]
        for q in range(1, cnt):
            s[c, 2 * q] = a0[c, q] + a2[c, q - 1]
            s[c, 2 * q + 1] = a1[c, q] + a3[c, q - 1]
        for j in range(m):
            for ty in range(TH):
                q = j * P1 + ty * TW
                s[c, 2 * q] = a0[c, q]
                s[c, 2 * q + 1] = a1[c, q]
                q += TW - 1
                e[c, j * 2 * P1 + 2 * ty] = a2[c, q]
                e[c, j * 2 * P1 + 2 * ty + 1] = a3[c, q]


@njit(cache=True, error_model="numpy")
def _wg_grad_gather(rb, C, pitch, P2, k1, k2, gxf, n0, m, HW):
    """gx of images n0 .. n0+m: each input's gradient is the sum of its (up to two) places in the row blocks rb
    ((9, C, pitch) flat; k1/k2 from _winograd_plan, pointing at the zero block where an input has fewer). Returns
    whether a result is not finite."""
    bad = False
    for c in range(C):
        for j in range(m):
            base = c * pitch + j * P2
            dst = ((n0 + j) * C + c) * HW
            for l in range(HW):
                val = rb[base + k1[l]] + rb[base + k2[l]]
                z = val - val
                bad |= z != z
                gxf[dst + l] = val
    return bad


@njit(cache=True, parallel=True, error_model="numpy")
def _winograd_backward(x, u, su, g, gx, gw, gb, need_x, need_w, need_b, ws, ni, sv, sm, gmap, emap, tmap, k1, k2,
                       vk, kept, bad):
    """Gradients of the Winograd conv3x3 (stride 1): gx (N, C, H, W) overwritten when need_x; gw (T, 1, O, C*9) and
    gb (T, O) get the sums over the batch in row 0 (gb's other rows end as zeros); ws (T, Sb) scratch per thread,
    the rest as _winograd_plan gives them. With ``kept``, vk holds the forward's input transform (chunk k at
    k*16*sv), else it is recomputed. bad[t] is set where thread t met a result that is not finite."""
    N, C, H, W = x.shape
    O, OH, OW = g.shape[1], g.shape[2], g.shape[3]
    TH = (OH + 1) // 2
    TW = (OW + 1) // 2
    P1 = TH * TW
    T = ws.shape[0]
    xf = x.ravel()
    gf = g.ravel()
    gxf = gx.ravel()
    L = OH * OW
    cmax = ni * P1
    pitch = 2 * cmax + 2
    OC = O * C
    o1 = 16 * (sv + sm)              # per thread: V | M | row blocks (9, C, pitch) | D | gU
    o3 = o1 + 9 * C * pitch
    o4 = o3 + 16 * sv
    for t in prange(T):
        buf = ws[t]
        v = buf[:16 * sv]
        mb = buf[16 * sv:o1]
        rb = buf[o1:o3]  # slab rows 0-3, ext rows 4-7, zeros in 8
        slab = rb[:4 * C * pitch].reshape(4, C, pitch)
        ext = rb[4 * C * pitch:8 * C * pitch].reshape(4, C, pitch)
        for k in range(8 * C * pitch, 9 * C * pitch):
            rb[k] = 0
        dv = buf[o3:o4]
        gu = buf[o4:o4 + 16 * OC]
        for k in range(O):
            gb[t, k] = 0
        K = (N + ni - 1) // ni
        k0 = t * K // T
        k1c = (t + 1) * K // T
        first = True
        if k0 == k1c:
            for k in range(16 * OC):
                gu[k] = 0
        for kc in range(k0, k1c):
            n0 = kc * ni
            m = min(ni, N - n0)
            cnt = m * P1
            # gM = A gY A^T one plane at a time, each used by its two GEMMs while in cache: gY's four tile
            # positions as planes 0-3, rows a of A gY (a 2-vector per tile) in planes 4-5, one gM plane in 6; a
            # plane that is a negated one is read with alpha = -1
            mp = [mb[e * sm:e * sm + O * cnt].reshape(O, cnt) for e in range(7)]
            _wg_grad_split(gf, n0, m, L, tmap, mp[0], mp[1], mp[2], mp[3], gb[t], need_b)
            vin = v
            if need_w:
                if kept:
                    vin = vk[kc * 16 * sv:(kc + 1) * 16 * sv]
                else:
                    _wg_transform_input(xf, n0, m, C, H * W, gmap, emap, slab, ext, v, sv, TH, TW)
            for phase in range(2):  # the weight's products, then the input's (whose results are read next)
                if (phase == 0 and not need_w) or (phase == 1 and not need_x):
                    continue
                for a in range(4):
                    r0, r1, sa = 4, 5, 1.0
                    if a == 0:
                        r0, r1 = 0, 1
                    elif a == 3:
                        r0, r1, sa = 2, 3, -1.0
                    else:
                        _wg_add(mp[0], mp[2], a == 2, mp[4])
                        _wg_add(mp[1], mp[3], a == 2, mp[5])
                    for bb in range(4):
                        e = 4 * a + bb
                        src, alpha = 6, sa
                        if bb == 0:
                            src = r0
                        elif bb == 3:
                            src, alpha = r1, -sa
                        else:
                            _wg_add(mp[r0], mp[r1], bb == 2, mp[6])
                        if phase == 0:  # gU[e] (+)= gM[e] @ V[e]^T
                            _blas_gemm(False, True, O, C, cnt, alpha, mb[src * sm:], cnt, vin[e * sv:], cnt,
                                       0.0 if first else 1.0, gu[e * OC:], C)
                        else:  # gV[e] = U[e]^T @ gM[e], over V in v
                            _blas_gemm(True, False, C, cnt, O, alpha, u[e * su:], C, mb[src * sm:], cnt, 0.0,
                                       v[e * sv:], cnt)
            if need_x:
                vp = [v[e * sv:e * sv + C * cnt].reshape(C, cnt) for e in range(16)]
                dp = [dv[e * sv:e * sv + C * cnt].reshape(C, cnt) for e in range(16)]
                _wg_grad_input_block(cnt, vp[0], vp[1], vp[2], vp[3], vp[4], vp[5], vp[6], vp[7], vp[8], vp[9], vp[10],
                                     vp[11], vp[12], vp[13], vp[14], vp[15], dp[0], dp[1], dp[2], dp[3], dp[4], dp[5],
                                     dp[6], dp[7], dp[8], dp[9], dp[10], dp[11], dp[12], dp[13], dp[14], dp[15])
                for i in range(4):
                    _wg_grad_cols(dp[4 * i], dp[4 * i + 1], dp[4 * i + 2], dp[4 * i + 3], cnt, m, TH, TW, slab[i],
                                  ext[i])
                if _wg_grad_gather(rb, C, pitch, 2 * P1, k1, k2, gxf, n0, m, H * W):
                    bad[t] = True
            first = False
    if need_w:
        # the threads' partial sums, then gw = G^T gU G per (o, c). No array views or allocations in this loop:
        # each view updates the parent's reference count, one cache line that both threads write (flat indexing
        # took 0.1 ms off a 5 ms backward at 64 -> 128 channels, 7x7)
        gwf = gw.ravel()
        bad_w = np.zeros(O, np.bool_)
        for o in prange(O):
            for t in range(1, T):
                for k in range(16):
                    src = o4 + k * OC + o * C
                    for c in range(C):
                        ws[0, src + c] += ws[t, src + c]
            for c in range(C):
                base = o4 + o * C + c
                for r in range(3):  # row r of G^T gU: h_col = sum_i G[i, r] gU[i, col]
                    if r == 0:
                        h0 = ws[0, base] + 0.5 * (ws[0, base + 4 * OC] + ws[0, base + 8 * OC])
                        h1 = ws[0, base + OC] + 0.5 * (ws[0, base + 5 * OC] + ws[0, base + 9 * OC])
                        h2 = ws[0, base + 2 * OC] + 0.5 * (ws[0, base + 6 * OC] + ws[0, base + 10 * OC])
                        h3 = ws[0, base + 3 * OC] + 0.5 * (ws[0, base + 7 * OC] + ws[0, base + 11 * OC])
                    elif r == 1:
                        h0 = 0.5 * (ws[0, base + 4 * OC] - ws[0, base + 8 * OC])
                        h1 = 0.5 * (ws[0, base + 5 * OC] - ws[0, base + 9 * OC])
                        h2 = 0.5 * (ws[0, base + 6 * OC] - ws[0, base + 10 * OC])
                        h3 = 0.5 * (ws[0, base + 7 * OC] - ws[0, base + 11 * OC])
                    else:
                        h0 = 0.5 * (ws[0, base + 4 * OC] + ws[0, base + 8 * OC]) + ws[0, base + 12 * OC]
                        h1 = 0.5 * (ws[0, base + 5 * OC] + ws[0, base + 9 * OC]) + ws[0, base + 13 * OC]
                        h2 = 0.5 * (ws[0, base + 6 * OC] + ws[0, base + 10 * OC]) + ws[0, base + 14 * OC]
                        h3 = 0.5 * (ws[0, base + 7 * OC] + ws[0, base + 11 * OC]) + ws[0, base + 15 * OC]
                    d0 = h0 + 0.5 * (h1 + h2)
                    d1 = 0.5 * (h1 - h2)
                    d2 = 0.5 * (h1 + h2) + h3
                    dst = (o * C + c) * 9 + 3 * r
                    gwf[dst] = d0
                    gwf[dst + 1] = d1
                    gwf[dst + 2] = d2
                    z = (d0 - d0) + (d1 - d1) + (d2 - d2)
                    if z != z:
                        bad_w[o] = True
        if bad_w.any():
            bad[0] = True
    if need_b and T > 1:
        for o in range(O):
            for t in range(1, T):
                gb[0, o] += gb[t, o]
                gb[t, o] = 0


_PLANS = {}


def _winograd_plan_for(x, w, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW, T):
    """_winograd_plan for this call on T threads (cached by shape, with its key last), or None where conv2d runs by
    im2col: Winograd needs float, one group, 3x3, stride 1, no dilation, and pays from 16 input and 16 output channels
    and 512 channel pairs on (measured, forward+backward against im2col: 16->16 1.04-1.08x, 16->32 0.90x, 64->64 0.70x,
    128->128 0.52x; below that the transforms cost more than the multiply-adds they save)."""
    if not (kh == 3 and kw == 3 and sh == 1 and sw == 1 and dh == 1 and dw == 1 and w.shape[0] == 1
            and x.dtype in (np.float32, np.float64) and w.dtype == x.dtype and x.shape[1] >= 16
            and w.shape[1] >= 16 and x.shape[1] * w.shape[1] >= 512 and OH > 0 and OW > 0 and x.flags.c_contiguous
            and w.flags.c_contiguous):
        return None
    N, C, H, W = x.shape
    key = (N, C, w.shape[1], H, W, ph, pw, T, x.dtype.char)
    plan = _PLANS.get(key, False)
    if plan is False:
        if len(_PLANS) > 64:
            _PLANS.clear()
        plan = _winograd_plan(N, C, w.shape[1], H, W, ph, pw, OH, OW, T)
        plan = _PLANS[key] = None if plan is None else plan + (key,)
    return plan


_POOL = []  # scratch arrays kept between calls: fresh pages of a new MB-sized array cost more than the transforms
_POOL_LOCK = threading.Lock()


def _take(n, dtype):
    """A 1-D scratch array of at least n elements of dtype: the smallest pooled one that fits, else a new one."""
    with _POOL_LOCK:
        fits = [i for i, a in enumerate(_POOL) if a.dtype == dtype and a.size >= n]
        if fits:
            return _POOL.pop(min(fits, key=lambda i: _POOL[i].size))[:n]
    return np.empty(n, dtype)


def _give(a):
    """Returns a scratch array from _take to the pool, which keeps the four largest."""
    with _POOL_LOCK:
        _POOL.append(a.base if a.base is not None else a)
        if len(_POOL) > 4:
            del _POOL[min(range(len(_POOL)), key=lambda i: _POOL[i].size)]


# ---------------------------------------------------------------------------------------------------------------
# 3-D: the same scheme with a depth axis; cols[(c, a, i, j), (od, oh, ow)] = x[c, od*sd - pd + a*dd, ...]
# ---------------------------------------------------------------------------------------------------------------
@njit(cache=True, inline="always")
def _im2col3_img(x, C, D, H, W, buf, kd, kh, kw, sd, sh, sw, pd, ph, pw, dd, dh, dw, OD, OH, OW):
    """x: (C, D, H, W) C-contiguous; buf: (C*kd*kh*kw, OD*OH*OW) C-contiguous."""
    L = OD * OH * OW
    xf = x.ravel()
    bf = buf.ravel()
    for c in range(C):
        for a in range(kd):
            for i in range(kh):
                for j in range(kw):
                    row = (((c * kd + a) * kh + i) * kw + j) * L
                    off = j * dw - pw
                    lo, hi = _span(off, W, sw, OW)
                    for od in range(OD):
                        z = od * sd - pd + a * dd
                        for oh in range(OH):
                            h = oh * sh - ph + i * dh
                            base = row + (od * OH + oh) * OW
                            if z < 0 or z >= D or h < 0 or h >= H:
                                for ow in range(OW):
                                    bf[U(base + ow)] = 0
                                continue
                            xrow = ((c * D + z) * H + h) * W + off
                            for ow in range(lo):
                                bf[U(base + ow)] = 0
                            for ow in range(lo, hi):
                                bf[U(base + ow)] = xf[U(xrow + ow * sw)]
                            for ow in range(hi, OW):
                                bf[U(base + ow)] = 0


@njit(cache=True, inline="always")
def _col2im3_img(buf, C, D, H, W, gx, kd, kh, kw, sd, sh, sw, pd, ph, pw, dd, dh, dw, OD, OH, OW):
    """gx (C, D, H, W) = adjoint of the 3-D im2col applied to buf; gx is overwritten."""
    L = OD * OH * OW
    gf = gx.ravel()
    bf = buf.ravel()
    for p in range(C * D * H * W):
        gf[p] = 0
    for c in range(C):
        for a in range(kd):
            for i in range(kh):
                for j in range(kw):
                    row = (((c * kd + a) * kh + i) * kw + j) * L
                    off = j * dw - pw
                    lo, hi = _span(off, W, sw, OW)
                    for od in range(OD):
                        z = od * sd - pd + a * dd
                        if z < 0 or z >= D:
                            continue
                        for oh in range(OH):
                            h = oh * sh - ph + i * dh
                            if h < 0 or h >= H:
                                continue
                            base = row + (od * OH + oh) * OW
                            xrow = ((c * D + z) * H + h) * W + off
                            for ow in range(lo, hi):
                                gf[U(xrow + ow * sw)] += bf[U(base + ow)]


@njit(cache=True, parallel=True, error_model="numpy")
def conv3d_forward(x, w, b, has_b, out, ws, kd, kh, kw, sd, sh, sw, pd, ph, pw, dd, dh, dw, OD, OH, OW):
    """out (N, G, Og, L) = w (G, Og, Kg) @ im2col3(x[n], group g) (+ b); x (N, C, D, H, W); ws (T, Kg, L)."""
    N, C, D, H, W = x.shape
    G, Og, Kg = w.shape
    Cg = C // G
    T = ws.shape[0]
    L = OD * OH * OW
    for t in prange(T):
        buf = ws[t]
        for n in range(t * N // T, (t + 1) * N // T):
            for g in range(G):
                _im2col3_img(x[n, g * Cg:(g + 1) * Cg], Cg, D, H, W, buf, kd, kh, kw, sd, sh, sw, pd, ph, pw, dd, dh,
                             dw, OD, OH, OW)
                o = out[n, g]
                _dot(w[g], buf, o)
                if has_b:
                    for r in range(Og):
                        bv = b[g * Og + r]
                        for l in range(L):
                            o[r, l] += bv


@njit(cache=True, parallel=True, error_model="numpy")
def conv3d_backward(x, w, g, gx, gw, gb, need_x, need_w, need_b, ws, wt, kd, kh, kw, sd, sh, sw, pd, ph, pw, dd, dh,
                    dw, OD, OH, OW):
    """As conv2d_backward with x, gx (N, C, D, H, W) and L = OD*OH*OW."""
    N, C, D, H, W = x.shape
    G, Og, Kg = w.shape
    Cg = C // G
    T = ws.shape[0]
    L = OD * OH * OW
    for t in prange(T):
        buf = ws[t]
        tmp = wt[t]
        if need_w:
            gw[t, :, :, :] = 0
        if need_b:
            gb[t, :] = 0
        for n in range(t * N // T, (t + 1) * N // T):
            for gi in range(G):
                gng = g[n, gi]
                if need_w:
                    _im2col3_img(x[n, gi * Cg:(gi + 1) * Cg], Cg, D, H, W, buf, kd, kh, kw, sd, sh, sw, pd, ph, pw,
                                 dd, dh, dw, OD, OH, OW)
                    _dot(gng, buf.T, tmp)
                    acc = gw[t, gi]
                    for r in range(Og):
                        for k in range(Kg):
                            acc[r, k] += tmp[r, k]
                if need_b:
                    for r in range(Og):
                        s = 0.0
                        for l in range(L):
                            s += gng[r, l]
                        gb[t, gi * Og + r] += s
                if need_x:
                    _dot(w[gi].T, gng, buf)
                    _col2im3_img(buf, Cg, D, H, W, gx[n, gi * Cg:(gi + 1) * Cg], kd, kh, kw, sd, sh, sw, pd, ph, pw,
                                 dd, dh, dw, OD, OH, OW)


# ---------------------------------------------------------------------------------------------------------------
# 2-D transposed convolution: the adjoint of conv2d, on the same im2col/col2im with the roles swapped. For the
# conv that maps the (N, Cout, OH, OW) output to the (N, Cin, H, W) input with this weight (Cin, Cout/G, kh, kw):
# forward = that conv's input gradient, grad input = its forward, grad weight = its weight gradient.
# ---------------------------------------------------------------------------------------------------------------
@njit(cache=True, parallel=True, error_model="numpy")
def conv_transpose2d_forward(x, w, b, has_b, out, ws, kh, kw, sh, sw, ph, pw, dh, dw, H, W):
    """out (N, Cout, OH, OW) = col2im(w[g].T @ x[n, g]) (+ b); x (N, G, Cin/G, H*W); w (G, Cin/G, Kg) with
    Kg = Cout/G*kh*kw; ws (T, Kg, H*W) scratch, one per thread."""
    N, Cout, OH, OW = out.shape
    G = w.shape[0]
    Cog = Cout // G
    T = ws.shape[0]
    P = OH * OW
    for t in prange(T):
        buf = ws[t]
        for n in range(t * N // T, (t + 1) * N // T):
            for g in range(G):
                _dot(w[g].T, x[n, g], buf)
                _col2im_img(buf, Cog, OH, OW, out[n, g * Cog:(g + 1) * Cog], kh, kw, sh, sw, ph, pw, dh, dw, H, W)
            if has_b:
                of = out[n].ravel()
                for c in range(Cout):
                    bv = b[c]
                    for p in range(c * P, (c + 1) * P):
                        of[p] += bv


@njit(cache=True, parallel=True, error_model="numpy")
def conv_transpose2d_backward(g, w, x, gx, gw, gb, need_x, need_w, need_b, ws, wt, kh, kw, sh, sw, ph, pw, dh, dw,
                              H, W):
    """g (N, Cout, OH, OW); x and gx (N, G, Cin/G, H*W), gx overwritten; gw (T, G, Cin/G, Kg) and gb (T, Cout)
    per-thread partial sums (overwritten); ws (T, Kg, H*W), wt (T, Cin/G, Kg) scratch. One im2col of g per image
    and group serves both GEMMs."""
    N, Cout, OH, OW = g.shape
    G, Og, Kg = w.shape
    Cog = Cout // G
    T = ws.shape[0]
    P = OH * OW
    for t in prange(T):
        buf = ws[t]
        tmp = wt[t]
        if need_w:
            gw[t, :, :, :] = 0
        if need_b:
            gb[t, :] = 0
        for n in range(t * N // T, (t + 1) * N // T):
            if need_x or need_w:
                for gi in range(G):
                    _im2col_img(g[n, gi * Cog:(gi + 1) * Cog], Cog, OH, OW, buf, kh, kw, sh, sw, ph, pw, dh, dw, H, W)
                    if need_x:
                        _dot(w[gi], buf, gx[n, gi])
                    if need_w:
                        _dot(x[n, gi], buf.T, tmp)
                        acc = gw[t, gi]
                        for r in range(Og):
                            for k in range(Kg):
                                acc[r, k] += tmp[r, k]
            if need_b:
                gf = g[n].ravel()
                for c in range(Cout):
                    s = 0.0
                    for p in range(c * P, (c + 1) * P):
                        s += gf[p]
                    gb[t, c] += s
