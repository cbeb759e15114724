"""CUDA conv2d kernels: direct convolution, forward and backward, with stride, padding, dilation and groups.

Same arrays as kernels/cpu/conv.py: x (N, C, H, W), w (G, Og, Kg) with Kg = (C/G) * kh * kw in (c, i, j) order,
out and g (N, G, Og, OH*OW). Grid mapping:

* forward:      one thread per output element (grid-stride), summing its (C/G) * kh * kw window;
* grad input:   one thread per input element, summing the outputs whose windows cover it (no atomics);
* grad weight:  one block per weight element, its threads striding over (n, oh, ow) and meeting in a
                shared-memory tree reduction; grad bias the same, one block per output channel.

The CPU kernel returns per-thread partial sums gw (T, G, Og, Kg) and gb (T, G*Og) that the launcher sums over
axis 0; here index 0 holds the full sums and the rest zeros. The scratch buffers ws and wt are not used.
"""
from numba import cuda

from ._grid import MAX_BLOCKS, THREADS, blocks
from .matmul import _relu_in_place

assert THREADS & (THREADS - 1) == 0, "the shared-memory tree reductions halve a power-of-two block"


def workers():
    """One: the CUDA kernels write whole sums, so they need no per-thread scratch or partial sums."""
    return 1


@cuda.jit
def _forward(x, w, b, has_b, out, zero, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW, n):
    C, H, W = x.shape[1], x.shape[2], x.shape[3]
    G, Og = w.shape[0], w.shape[1]
    Cg = C // G
    L = OH * OW
    for e in range(cuda.grid(1), n, cuda.gridsize(1)):
        l = e % L
        r = e // L
        o = r % Og
        r //= Og
        g = r % G
        ni = r // G
        oh = l // OW
        ow = l - oh * OW
        acc = zero
        for c in range(Cg):
            xc = g * Cg + c
            for i in range(kh):
                h = oh * sh - ph + i * dh
                if h < 0 or h >= H:
                    continue
                k0 = (c * kh + i) * kw
                for j in range(kw):
                    wi = ow * sw - pw + j * dw
                    if wi >= 0 and wi < W:
                        acc += x[ni, xc, h, wi] * w[g, o, k0 + j]
        if has_b:
            acc += b[g * Og + o]
        out[ni, g, o, l] = acc


def conv2d_forward(x, w, b, has_b, out, ws, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW, act=0, keep=None, wu=None):
    """out (N, G, Og, L) = w (G, Og, Kg) applied to x's windows of each group (+ b); ws is unused; ``act`` 1
    applies relu to the result (a second launch). ``keep`` and ``wu`` are unused: nothing here is worth keeping
    for the backward or for later calls (the CPU kernels' Winograd path keeps its input and weight transforms)."""
    n = out.size
    if n:
        _forward[blocks(n), THREADS](x, w, b, has_b, out, out.dtype.type(0), kh, kw, sh, sw, ph, pw, dh, dw, OH, OW, n)
        if act == 1:
            _relu_in_place[blocks(n), THREADS](out.reshape(n), n)


@cuda.jit
def _grad_input(w, g, gx, zero, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW, n):
    C, H, W = gx.shape[1], gx.shape[2], gx.shape[3]
    G, Og = w.shape[0], w.shape[1]
    Cg = C // G
    for e in range(cuda.grid(1), n, cuda.gridsize(1)):
        wi = e % W
        r = e // W
        h = r % H
        r //= H
        c = r % C
        ni = r // C
        gi = c // Cg
        cl = c - gi * Cg
        acc = zero
        for i in range(kh):
            t = h + ph - i * dh  # = oh * sh for the outputs whose row i lands on h
            if t < 0 or t % sh != 0 or t // sh >= OH:
                continue
            oh = t // sh
            for j in range(kw):
                u = wi + pw - j * dw
                if u < 0 or u % sw != 0 or u // sw >= OW:
                    continue
                l = oh * OW + u // sw
                k = (cl * kh + i) * kw + j
                for o in range(Og):
                    acc += w[gi, o, k] * g[ni, gi, o, l]
        gx[ni, c, h, wi] = acc


@cuda.jit
def _grad_weight(x, g, gw, zero, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW):
    part = cuda.shared.array(THREADS, dtype=gw.dtype)
    N, C, H, W = x.shape[0], x.shape[1], x.shape[2], x.shape[3]
    T, G, Og, Kg = gw.shape[0], gw.shape[1], gw.shape[2], gw.shape[3]
    Cg = C // G
    L = OH * OW
    tid = cuda.threadIdx.x
    for e in range(cuda.blockIdx.x, G * Og * Kg, cuda.gridDim.x):
        k = e % Kg
        r = e // Kg
        o = r % Og
        gi = r // Og
        j = k % kw
        i = (k // kw) % kh
        xc = gi * Cg + k // (kh * kw)
        acc = zero
        for q in range(tid, N * L, THREADS):
            ni = q // L
            l = q - ni * L
            oh = l // OW
            h = oh * sh - ph + i * dh
            wi = (l - oh * OW) * sw - pw + j * dw
            if h >= 0 and h < H and wi >= 0 and wi < W:
                acc += g[ni, gi, o, l] * x[ni, xc, h, wi]
        part[tid] = acc
        cuda.syncthreads()
        s = THREADS // 2
        while s > 0:
            if tid < s:
                part[tid] += part[tid + s]
            cuda.syncthreads()
            s //= 2
        if tid == 0:
            gw[0, gi, o, k] = part[0]
        for t in range(tid + 1, T, THREADS):
            gw[t, gi, o, k] = zero
        cuda.syncthreads()


@cuda.jit
def _grad_bias(g, gb, zero):
    part = cuda.shared.array(THREADS, dtype=gb.dtype)
    N, G, Og, L = g.shape[0], g.shape[1], g.shape[2], g.shape[3]
    T = gb.shape[0]
    tid = cuda.threadIdx.x
    for e in range(cuda.blockIdx.x, G * Og, cuda.gridDim.x):
        o = e % Og
        gi = e // Og
        acc = zero
        for q in range(tid, N * L, THREADS):
            ni = q // L
            acc += g[ni, gi, o, q - ni * L]
        part[tid] = acc
        cuda.syncthreads()
        s = THREADS // 2
        while s > 0:
            if tid < s:
                part[tid] += part[tid + s]
            cuda.syncthreads()
            s //= 2
        if tid == 0:
            gb[0, e] = part[0]
        for t in range(tid + 1, T, THREADS):
            gb[t, e] = zero
        cuda.syncthreads()


def conv2d_backward(x, w, g, gx, gw, gb, need_x, need_w, need_b, ws, wt, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW,
                    kept=None):
    """g (N, G, Og, L). gx (N, C, H, W) overwritten; gw (T, G, Og, Kg) and gb (T, G*Og) get the full sums in
    index 0 and zeros elsewhere; ws, wt and kept are unused."""
    zero = g.dtype.type(0)
    if need_x and gx.size:
        _grad_input[blocks(gx.size), THREADS](w, g, gx, zero, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW, gx.size)
    if need_w:
        nw = gw.size // gw.shape[0]
        _grad_weight[max(1, min(nw, MAX_BLOCKS)), THREADS](x, g, gw, zero, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW)
    if need_b:
        nb = gb.shape[1]
        _grad_bias[max(1, min(nb, MAX_BLOCKS)), THREADS](g, gb, zero)


# ---------------------------------------------------------------------------------------------------------------
# 3-D: x (N, C, D, H, W), Kg in (c, a, i, j) order, L = OD*OH*OW; same thread mapping as the 2-D kernels
# ---------------------------------------------------------------------------------------------------------------
@cuda.jit
def _forward3(x, w, b, has_b, out, zero, kd, kh, kw, sd, sh, sw, pd, ph, pw, dd, dh, dw, OD, OH, OW, n):
    C, D, H, W = x.shape[1], x.shape[2], x.shape[3], x.shape[4]
    G, Og = w.shape[0], w.shape[1]
    Cg = C // G
    L = OD * OH * OW
    for e in range(cuda.grid(1), n, cuda.gridsize(1)):
        l = e % L
        r = e // L
        o = r % Og
        r //= Og
        g = r % G
        ni = r // G
        ow = l % OW
        oh = (l // OW) % OH
        od = l // (OW * OH)
        acc = zero
        for c in range(Cg):
            xc = g * Cg + c
            for a in range(kd):
                z = od * sd - pd + a * dd
                if z < 0 or z >= D:
                    continue
                for i in range(kh):
                    h = oh * sh - ph + i * dh
                    if h < 0 or h >= H:
                        continue
                    k0 = ((c * kd + a) * kh + i) * kw
                    for j in range(kw):
                        wi = ow * sw - pw + j * dw
                        if wi >= 0 and wi < W:
                            acc += x[ni, xc, z, h, wi] * w[g, o, k0 + j]
        if has_b:
            acc += b[g * Og + o]
        out[ni, g, o, l] = acc


def conv3d_forward(x, w, b, has_b, out, ws, kd, kh, kw, sd, sh, sw, pd, ph, pw, dd, dh, dw, OD, OH, OW):
    """out (N, G, Og, L) = w (G, Og, Kg) applied to x's 3-D windows of each group (+ b); ws is unused."""
    n = out.size
    if n:
        _forward3[blocks(n), THREADS](x, w, b, has_b, out, out.dtype.type(0), kd, kh, kw, sd, sh, sw, pd, ph, pw, dd,
                                      dh, dw, OD, OH, OW, n)


@cuda.jit
def _grad_input3(w, g, gx, zero, kd, kh, kw, sd, sh, sw, pd, ph, pw, dd, dh, dw, OD, OH, OW, n):
    C, D, H, W = gx.shape[1], gx.shape[2], gx.shape[3], gx.shape[4]
    G, Og = w.shape[0], w.shape[1]
    Cg = C // G
    for e in range(cuda.grid(1), n, cuda.gridsize(1)):
        wi = e % W
        r = e // W
        h = r % H
        r //= H
        z = r % D
        r //= D
        c = r % C
        ni = r // C
        gi = c // Cg
        cl = c - gi * Cg
        acc = zero
        for a in range(kd):
            v = z + pd - a * dd
            if v < 0 or v % sd != 0 or v // sd >= OD:
                continue
            od = v // sd
            for i in range(kh):
                t = h + ph - i * dh
                if t < 0 or t % sh != 0 or t // sh >= OH:
                    continue
                oh = t // sh
                for j in range(kw):
                    u = wi + pw - j * dw
                    if u < 0 or u % sw != 0 or u // sw >= OW:
                        continue
                    l = (od * OH + oh) * OW + u // sw
                    k = ((cl * kd + a) * kh + i) * kw + j
                    for o in range(Og):
                        acc += w[gi, o, k] * g[ni, gi, o, l]
        gx[ni, c, z, h, wi] = acc


@cuda.jit
def _grad_weight3(x, g, gw, zero, kd, kh, kw, sd, sh, sw, pd, ph, pw, dd, dh, dw, OD, OH, OW):
    part = cuda.shared.array(THREADS, dtype=gw.dtype)
    N, C, D, H, W = x.shape[0], x.shape[1], x.shape[2], x.shape[3], x.shape[4]
    T, G, Og, Kg = gw.shape[0], gw.shape[1], gw.shape[2], gw.shape[3]
    Cg = C // G
    L = OD * OH * OW
    tid = cuda.threadIdx.x
    for e in range(cuda.blockIdx.x, G * Og * Kg, cuda.gridDim.x):
        k = e % Kg
        r = e // Kg
        o = r % Og
        gi = r // Og
        j = k % kw
        i = (k // kw) % kh
        a = (k // (kw * kh)) % kd
        xc = gi * Cg + k // (kd * kh * kw)
        acc = zero
        for q in range(tid, N * L, THREADS):
            ni = q // L
            l = q - ni * L
            ow = l % OW
            oh = (l // OW) % OH
            od = l // (OW * OH)
            z = od * sd - pd + a * dd
            h = oh * sh - ph + i * dh
            wi = ow * sw - pw + j * dw
            if z >= 0 and z < D and h >= 0 and h < H and wi >= 0 and wi < W:
                acc += g[ni, gi, o, l] * x[ni, xc, z, h, wi]
        part[tid] = acc
        cuda.syncthreads()
        s = THREADS // 2
        while s > 0:
            if tid < s:
                part[tid] += part[tid + s]
            cuda.syncthreads()
            s //= 2
        if tid == 0:
            gw[0, gi, o, k] = part[0]
        for t in range(tid + 1, T, THREADS):
            gw[t, gi, o, k] = zero
        cuda.syncthreads()


def conv3d_backward(x, w, g, gx, gw, gb, need_x, need_w, need_b, ws, wt, kd, kh, kw, sd, sh, sw, pd, ph, pw, dd, dh,
                    dw, OD, OH, OW):
    """As conv2d_backward with x, gx (N, C, D, H, W) and L = OD*OH*OW."""
    zero = g.dtype.type(0)
    if need_x and gx.size:
        _grad_input3[blocks(gx.size), THREADS](w, g, gx, zero, kd, kh, kw, sd, sh, sw, pd, ph, pw, dd, dh, dw, OD, OH,
                                               OW, gx.size)
    if need_w:
        nw = gw.size // gw.shape[0]
        _grad_weight3[max(1, min(nw, MAX_BLOCKS)), THREADS](x, g, gw, zero, kd, kh, kw, sd, sh, sw, pd, ph, pw, dd, dh,
                                                            dw, OD, OH, OW)
    if need_b:
        nb = gb.shape[1]
        _grad_bias[max(1, min(nb, MAX_BLOCKS)), THREADS](g, gb, zero)


# ---------------------------------------------------------------------------------------------------------------
# 2-D transposed convolution on the conv2d kernels with the roles swapped (see kernels/cpu/conv.py)
# ---------------------------------------------------------------------------------------------------------------
@cuda.jit
def _add_channel_bias(out, b, n):
    C, P = out.shape[1], out.shape[2]
    for e in range(cuda.grid(1), n, cuda.gridsize(1)):
        out[e // (C * P), (e // P) % C, e % P] += b[(e // P) % C]


def conv_transpose2d_forward(x, w, b, has_b, out, ws, kh, kw, sh, sw, ph, pw, dh, dw, H, W):
    """out (N, Cout, OH, OW) from x (N, G, Cin/G, H*W) and w (G, Cin/G, Kg) (+ b); ws is unused."""
    n = out.size
    if n:
        _grad_input[blocks(n), THREADS](w, x, out, out.dtype.type(0), kh, kw, sh, sw, ph, pw, dh, dw, H, W, n)
        if has_b:
            N, C = out.shape[0], out.shape[1]
            _add_channel_bias[blocks(n), THREADS](out.reshape(N, C, n // (N * C)), b, n)


def conv_transpose2d_backward(g, w, x, gx, gw, gb, need_x, need_w, need_b, ws, wt, kh, kw, sh, sw, ph, pw, dh, dw,
                              H, W):
    """g (N, Cout, OH, OW); x and gx (N, G, Cin/G, H*W); gw (T, G, Cin/G, Kg) and gb (T, Cout) get the full sums
    in index 0 and zeros elsewhere; ws and wt are unused."""
    zero = g.dtype.type(0)
    N, Cout, OH, OW = g.shape
    if need_x and gx.size:
        _forward[blocks(gx.size), THREADS](g, w, w.reshape(w.size), False, gx, zero, kh, kw, sh, sw, ph, pw, dh, dw,
                                           H, W, gx.size)
    if need_w:
        nw = gw.size // gw.shape[0]
        _grad_weight[max(1, min(nw, MAX_BLOCKS)), THREADS](g, x, gw, zero, kh, kw, sh, sw, ph, pw, dh, dw, H, W)
    if need_b:
        _grad_bias[max(1, min(Cout, MAX_BLOCKS)), THREADS](g.reshape(N, 1, Cout, OH * OW), gb, zero)
