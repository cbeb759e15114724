"""CUDA 3-D pooling over contiguous (N*C, D, H, W) volumes: max (with argmax indices) and average, forward and
backward.

Forward kernels (max, avg, adaptive max) run one thread per output element (grid-stride over P*OD*OH*OW), each
scanning its window.
avg_pool3d_backward runs one thread per input element and sums the outputs whose windows cover it, so it needs no
atomics. The max backward is ``pool.max_pool2d_backward`` with HW = D * H * W. Indices are flat positions within the
input volume ((d * H + h) * W + w), as on the CPU.
"""
from numba import cuda

from ._grid import THREADS, blocks
from .index import imax, imin
from .pool import _lowest


@cuda.jit
def _max_pool(x, D, H, W, out, idx, lowest, kd, kh, kw, sd, sh, sw, pd, ph, pw, dd, dh, dw, OD, OH, OW, n):
    L = OD * OH * OW
    for e in range(cuda.grid(1), n, cuda.gridsize(1)):
        p = e // L
        q = e - p * L
        od = q // (OH * OW)
        q -= od * OH * OW
        oh = q // OW
        ow = q - oh * OW
        d0 = od * sd - pd
        h0 = oh * sh - ph
        w0 = ow * sw - pw
        xo = p * D * H * W
        best = lowest
        arg = -1
        for a in range(kd):
            d = d0 + a * dd
            if d < 0 or d >= D:
                continue
            for i in range(kh):
                h = h0 + i * dh
                if h < 0 or h >= H:
                    continue
                for j in range(kw):
                    wi = w0 + j * dw
                    if wi < 0 or wi >= W:
                        continue
                    r = (d * H + h) * W + wi
                    v = x[xo + r]
                    if arg < 0 or v > best or v != v:
                        best = v
                        arg = r
        out[e] = best
        idx[e] = arg


def max_pool3d(x, P, D, H, W, out, idx, kd, kh, kw, sd, sh, sw, pd, ph, pw, dd, dh, dw, OD, OH, OW):
    """The first position holding a window's max (in d, h, w order); once a NaN is seen, the last NaN."""
    n = P * OD * OH * OW
    if n:
        _max_pool[blocks(n), THREADS](x, D, H, W, out, idx, _lowest(x.dtype), kd, kh, kw, sd, sh, sw, pd, ph, pw,
                                      dd, dh, dw, OD, OH, OW, n)


@cuda.jit
def _adaptive_max_pool(x, D, H, W, out, idx, lowest, OD, OH, OW, n):
    L = OD * OH * OW
    for e in range(cuda.grid(1), n, cuda.gridsize(1)):
        p = e // L
        q = e - p * L
        od = q // (OH * OW)
        q -= od * OH * OW
        oh = q // OW
        ow = q - oh * OW
        xo = p * D * H * W
        best = lowest
        arg = -1
        for d in range((od * D) // OD, ((od + 1) * D + OD - 1) // OD):
            for h in range((oh * H) // OH, ((oh + 1) * H + OH - 1) // OH):
                r = (d * H + h) * W
                for wi in range((ow * W) // OW, ((ow + 1) * W + OW - 1) // OW):
                    v = x[xo + r + wi]
                    if arg < 0 or v > best or v != v:
                        best = v
                        arg = r + wi
        out[e] = best
        idx[e] = arg


def adaptive_max_pool3d(x, P, D, H, W, out, idx, OD, OH, OW):
    """Max over the adaptive windows [floor(i * n / o), ceil((i + 1) * n / o)) of each dim and the flat in-volume
    position of the first maximum (of the last NaN once a NaN is seen)."""
    n = P * OD * OH * OW
    if n:
        _adaptive_max_pool[blocks(n), THREADS](x, D, H, W, out, idx, _lowest(x.dtype), OD, OH, OW, n)


@cuda.jit(device=True)
def _extent(o, s, p, k, n):
    a = o * s - p
    return imin(a + k, n + p) - a


@cuda.jit(device=True)
def _divisor(od, oh, ow, D, H, W, kd, kh, kw, sd, sh, sw, pd, ph, pw, count_include_pad, divisor):
    if divisor > 0:
        return divisor
    if count_include_pad:
        return _extent(od, sd, pd, kd, D) * _extent(oh, sh, ph, kh, H) * _extent(ow, sw, pw, kw, W)
    nd = imin(od * sd - pd + kd, D) - imax(od * sd - pd, 0)
    nh = imin(oh * sh - ph + kh, H) - imax(oh * sh - ph, 0)
    nw = imin(ow * sw - pw + kw, W) - imax(ow * sw - pw, 0)
    return nd * nh * nw


@cuda.jit
def _avg_pool(x, D, H, W, out, kd, kh, kw, sd, sh, sw, pd, ph, pw, OD, OH, OW, count_include_pad, divisor, n):
    L = OD * OH * OW
    for e in range(cuda.grid(1), n, cuda.gridsize(1)):
        p = e // L
        q = e - p * L
        od = q // (OH * OW)
        q -= od * OH * OW
        oh = q // OW
        ow = q - oh * OW
        d0, h0, w0 = od * sd - pd, oh * sh - ph, ow * sw - pw
        xo = p * D * H * W
        s = 0.0  # float64, as on the CPU
        for d in range(imax(d0, 0), imin(d0 + kd, D)):
            for h in range(imax(h0, 0), imin(h0 + kh, H)):
                r = xo + (d * H + h) * W
                for wi in range(imax(w0, 0), imin(w0 + kw, W)):
                    s += x[r + wi]
        out[e] = s / _divisor(od, oh, ow, D, H, W, kd, kh, kw, sd, sh, sw, pd, ph, pw, count_include_pad, divisor)


def avg_pool3d(x, P, D, H, W, out, kd, kh, kw, sd, sh, sw, pd, ph, pw, OD, OH, OW, count_include_pad, divisor):
    n = P * OD * OH * OW
    if n:
        _avg_pool[blocks(n), THREADS](x, D, H, W, out, kd, kh, kw, sd, sh, sw, pd, ph, pw, OD, OH, OW,
                                      count_include_pad, divisor, n)


@cuda.jit(device=True)
def _covering(i, p, k, s, n_out):
    """[lo, hi): the outputs o whose window o*s - p + [0, k) covers input position i."""
    t = i + p - k + 1
    lo = 0 if t <= 0 else (t + s - 1) // s
    return lo, imin(n_out, (i + p) // s + 1)


@cuda.jit
def _avg_pool_back(g, D, H, W, gx, kd, kh, kw, sd, sh, sw, pd, ph, pw, OD, OH, OW, count_include_pad, divisor, n):
    V = D * H * W
    for e in range(cuda.grid(1), n, cuda.gridsize(1)):
        p = e // V
        q = e - p * V
        d = q // (H * W)
        q -= d * H * W
        h = q // W
        wi = q - h * W
        od_lo, od_hi = _covering(d, pd, kd, sd, OD)
        oh_lo, oh_hi = _covering(h, ph, kh, sh, OH)
        ow_lo, ow_hi = _covering(wi, pw, kw, sw, OW)
        go = p * OD * OH * OW
        s = 0.0
        for od in range(od_lo, od_hi):
            for oh in range(oh_lo, oh_hi):
                for ow in range(ow_lo, ow_hi):
                    n_ = _divisor(od, oh, ow, D, H, W, kd, kh, kw, sd, sh, sw, pd, ph, pw, count_include_pad,
                                  divisor)
                    s += g[go + (od * OH + oh) * OW + ow] / n_
        gx[e] += s


def avg_pool3d_backward(g, P, D, H, W, gx, kd, kh, kw, sd, sh, sw, pd, ph, pw, OD, OH, OW, count_include_pad,
                        divisor):
    """gx (P, D*H*W) += each output's gradient spread evenly over its window (as its divisor says)."""
    n = P * D * H * W
    if n:
        _avg_pool_back[blocks(n), THREADS](g, D, H, W, gx, kd, kh, kw, sd, sh, sw, pd, ph, pw, OD, OH, OW,
                                           count_include_pad, divisor, n)
