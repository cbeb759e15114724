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
"""
import numpy as np
from numba import njit, prange, types
from numba.extending import overload

from ._blas import dot as _blas_dot
from ._threads import num_threads
from .matmul import _epilogue

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


@njit(cache=True, parallel=True, error_model="numpy")
def conv2d_forward(x, w, b, has_b, out, ws, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW, act=0):
    """out (N, G, Og, L) = act(w (G, Og, Kg) @ im2col(x[n], group g) (+ b)); ws (T, R, S/R) scratch, one per thread;
    ``act`` as in the linear kernels' ``_epilogue`` (minitorch.compile fuses conv2d -> relu), applied where the
    bias is added, while the block is in cache.

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


@njit(cache=True, parallel=True, error_model="numpy")
def conv2d_backward(x, w, g, gx, gw, gb, need_x, need_w, need_b, ws, wt, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW):
    """g (N, G, Og, L). gx (N, C, H, W) overwritten; gw (T, G, Og, Kg) and gb (T, G*Og) get the full sums in index
    0 and zeros elsewhere (the other rows hold the threads' partial sums until the end); ws (T, R, S/R) and
    wt (T, Og, Kg) scratch.

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
