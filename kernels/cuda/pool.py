"""CUDA 2-D pooling over contiguous (N*C, H, W) planes: max (with argmax indices) and average, forward and backward.

Forward kernels run one thread per output element (grid-stride over P*OH*OW), each scanning its window.
max_pool2d_backward runs one thread per output element and adds its gradient to the argmax position with
``cuda.atomic.add`` (windows may overlap); dtypes without a GPU atomic add fall back to one thread per plane.
avg_pool2d_backward runs one thread per input element and sums the outputs whose windows cover it, so it needs
no atomics. Indices are flat positions within the input plane (h * W + w), as on the CPU.
"""
import numpy as np
from numba import cuda

from ._grid import THREADS, blocks
from .index import ATOMIC_ADD, imax, imin


def _lowest(dtype):
    """The start value of a running max: -inf for floats, the smallest integer otherwise."""
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return dtype.type(-np.inf)
    if dtype.kind == "b":
        return dtype.type(False)
    return dtype.type(np.iinfo(dtype).min)


@cuda.jit
def _max_pool(x, H, W, out, idx, lowest, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW, n):
    L = OH * OW
    for e in range(cuda.grid(1), n, cuda.gridsize(1)):
        p = e // L
        l = e - p * L
        oh = l // OW
        h0 = oh * sh - ph
        w0 = (l - oh * OW) * sw - pw
        xo = p * H * W
        # the CPU rule in one pass: the first position holding the max; once a NaN is seen, the last NaN
        best = lowest
        arg = -1
        for i in range(kh):
            h = h0 + i * dh
            if h < 0 or h >= H:
                continue
            for j in range(kw):
                wi = w0 + j * dw
                if wi < 0 or wi >= W:
                    continue
                v = x[xo + h * W + wi]
                if arg < 0 or v > best or v != v:
                    best = v
                    arg = h * W + wi
        out[e] = best
        idx[e] = arg


def max_pool2d(x, P, H, W, out, idx, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW):
    n = P * OH * OW
    if n:
        _max_pool[blocks(n), THREADS](x, H, W, out, idx, _lowest(x.dtype), kh, kw, sh, sw, ph, pw, dh, dw, OH, OW, n)


@cuda.jit
def _max_pool_back(g, idx, HW, L, gx, n):
    for e in range(cuda.grid(1), n, cuda.gridsize(1)):
        a = idx[e]
        if a >= 0:
            cuda.atomic.add(gx, (e // L) * HW + a, g[e])


@cuda.jit
def _max_pool_back_planes(g, idx, P, HW, L, gx):
    for p in range(cuda.grid(1), P, cuda.gridsize(1)):
        for k in range(L):
            a = idx[p * L + k]
            if a >= 0:
                gx[p * HW + a] += g[p * L + k]


def max_pool2d_backward(g, idx, P, HW, L, gx):
    """gx (zero-filled (P, H*W)) += g scattered to the argmax positions; planes are independent."""
    n = P * L
    if n == 0:
        return
    if np.dtype(gx.dtype) in ATOMIC_ADD:
        _max_pool_back[blocks(n), THREADS](g, idx, HW, L, gx, n)
    else:
        _max_pool_back_planes[blocks(P), THREADS](g, idx, P, HW, L, gx)


@cuda.jit(device=True)
def _divisor(hs, ws, oh, ow, H, W, kh, kw, sh, sw, ph, pw, count_include_pad, divisor):
    """The divisor of output (oh, ow), given its window's clipped start (hs, ws)."""
    if divisor > 0:
        return divisor
    h0 = oh * sh - ph
    w0 = ow * sw - pw
    h1 = imin(h0 + kh, H + ph)
    w1 = imin(w0 + kw, W + pw)
    if count_include_pad:
        return (h1 - h0) * (w1 - w0)
    return (imin(h1, H) - hs) * (imin(w1, W) - ws)


@cuda.jit
def _avg_pool(x, H, W, out, kh, kw, sh, sw, ph, pw, OH, OW, count_include_pad, divisor, n):
    L = OH * OW
    for e in range(cuda.grid(1), n, cuda.gridsize(1)):
        p = e // L
        l = e - p * L
        oh = l // OW
        ow = l - oh * OW
        h0 = oh * sh - ph
        w0 = ow * sw - pw
        hs, ws = imax(h0, 0), imax(w0, 0)
        he, we = imin(h0 + kh, H), imin(w0 + kw, W)
        xo = p * H * W
        s = 0.0  # float64, as on the CPU
        for h in range(hs, he):
            for wi in range(ws, we):
                s += x[xo + h * W + wi]
        out[e] = s / _divisor(hs, ws, oh, ow, H, W, kh, kw, sh, sw, ph, pw, count_include_pad, divisor)


def avg_pool2d(x, P, H, W, out, kh, kw, sh, sw, ph, pw, OH, OW, count_include_pad, divisor):
    n = P * OH * OW
    if n:
        _avg_pool[blocks(n), THREADS](x, H, W, out, kh, kw, sh, sw, ph, pw, OH, OW, count_include_pad, divisor, n)


@cuda.jit
def _avg_pool_back(g, H, W, gx, kh, kw, sh, sw, ph, pw, OH, OW, count_include_pad, divisor, n):
    for e in range(cuda.grid(1), n, cuda.gridsize(1)):
        HW = H * W
        p = e // HW
        q = e - p * HW
        h = q // W
        wi = q - h * W
        # output oh covers row h when oh*sh - ph <= h < oh*sh - ph + kh
        t = h + ph - kh + 1
        oh_lo = 0 if t <= 0 else (t + sh - 1) // sh
        oh_hi = imin(OH, (h + ph) // sh + 1)
        t = wi + pw - kw + 1
        ow_lo = 0 if t <= 0 else (t + sw - 1) // sw
        ow_hi = imin(OW, (wi + pw) // sw + 1)
        go = p * OH * OW
        s = 0.0
        for oh in range(oh_lo, oh_hi):
            hs = imax(oh * sh - ph, 0)
            for ow in range(ow_lo, ow_hi):
                ws = imax(ow * sw - pw, 0)
                d = _divisor(hs, ws, oh, ow, H, W, kh, kw, sh, sw, ph, pw, count_include_pad, divisor)
                s += g[go + oh * OW + ow] / d
        gx[e] += s


def avg_pool2d_backward(g, P, H, W, gx, kh, kw, sh, sw, ph, pw, OH, OW, count_include_pad, divisor):
    """gx (P, H*W) += each output's gradient spread evenly over its window (as its divisor says)."""
    n = P * H * W
    if n:
        _avg_pool_back[blocks(n), THREADS](g, H, W, gx, kh, kw, sh, sw, ph, pw, OH, OW, count_include_pad,
                                           divisor, n)
