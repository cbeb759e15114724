"""2-D pooling over contiguous (N*C, H, W) planes: max (with argmax indices) and average, forward and backward.

Indices are flat positions within the input plane (h * W + w), as PyTorch's ``return_indices`` gives them.
"""
import numpy as np
from numba import njit, prange

from .conv import _span

U = np.uint64


@njit(cache=True, inline="always")
def _interior(pad, n, s, d, k, out_n):
    """[a, b): the outputs o whose whole window o*s - pad + [0, (k-1)*d] lies in [0, n)."""
    a = (pad + s - 1) // s
    last = n - 1 - (k - 1) * d + pad  # o*s <= last
    b = last // s + 1 if last >= 0 else 0
    if b > out_n:
        b = out_n
    if a > b:
        a = b
    return a, b


@njit(cache=True, inline="always")
def _window_max(x, xo, W, h0, w0, dh, dw, ilo, ihi, jlo, jhi):
    """Max of a window (NaN wins) and the flat in-plane position of its first occurrence (of its last, for NaN).

    Two branch-free passes, the max and then a backward scan that keeps the earliest position holding it, run 4x
    faster on random data than tracking the position in one pass, whose branches mispredict.
    """
    best = -np.inf
    for i in range(ilo, ihi):
        r = xo + (h0 + i * dh) * W + w0
        for j in range(jlo, jhi):
            v = x[U(r + j * dw)]
            best = v if (v > best) | (v != v) else best
    arg = -1
    if best != best:  # PyTorch's CPU kernel lets every NaN replace the running max: the last NaN wins
        for i in range(ilo, ihi):
            r = (h0 + i * dh) * W + w0
            for j in range(jlo, jhi):
                v = x[U(xo + r + j * dw)]
                arg = r + j * dw if v != v else arg
        return best, arg
    for i in range(ihi - 1, ilo - 1, -1):
        r = (h0 + i * dh) * W + w0
        for j in range(jhi - 1, jlo - 1, -1):
            v = x[U(xo + r + j * dw)]
            arg = r + j * dw if v == best else arg
    return best, arg


@njit(cache=True, parallel=True, error_model="numpy")
def max_pool2d(x, P, H, W, out, idx, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW):
    for p in prange(P):
        xo = p * H * W
        oo = p * OH * OW
        # windows of ow in [owa, owb) lie inside the row: no clipping (and no division) there
        owa, owb = _interior(pw, W, sw, dw, kw, OW)
        k22 = kh == 2 and kw == 2 and dh == 1 and dw == 1
        for oh in range(OH):
            h0 = oh * sh - ph
            ilo, ihi = _span(h0, H, dh, kh)
            for ow in range(OW):
                w0 = ow * sw - pw
                if owa <= ow < owb:
                    jlo, jhi = 0, kw
                else:
                    jlo, jhi = _span(w0, W, dw, kw)
                if k22 and jhi - jlo == 2 and ihi - ilo == 2:
                    # the common 2x2 window, unrolled by constant folding
                    best, arg = _window_max(x, xo, W, h0, w0, 1, 1, 0, 2, 0, 2)
                else:
                    best, arg = _window_max(x, xo, W, h0, w0, dh, dw, ilo, ihi, jlo, jhi)
                out[U(oo + oh * OW + ow)] = best
                idx[U(oo + oh * OW + ow)] = arg


@njit(cache=True, parallel=True, error_model="numpy")
def max_pool2d_backward(g, idx, P, HW, L, gx):
    """gx (zero-filled (P, H*W)) += g scattered to the argmax positions; planes are independent."""
    for p in prange(P):
        for k in range(L):
            a = idx[U(p * L + k)]
            if a >= 0:
                gx[U(p * HW + a)] += g[U(p * L + k)]


@njit(cache=True, inline="always")
def _window(oh, ow, H, W, kh, kw, sh, sw, ph, pw, count_include_pad):
    h0 = oh * sh - ph
    w0 = ow * sw - pw
    h1 = min(h0 + kh, H + ph)
    w1 = min(w0 + kw, W + pw)
    pool = (h1 - h0) * (w1 - w0)
    hs, ws, he, we = max(h0, 0), max(w0, 0), min(h1, H), min(w1, W)
    n = pool if count_include_pad else (he - hs) * (we - ws)
    return hs, he, ws, we, n


@njit(cache=True, parallel=True, error_model="numpy")
def avg_pool2d(x, P, H, W, out, kh, kw, sh, sw, ph, pw, OH, OW, count_include_pad, divisor):
    for p in prange(P):
        xo = p * H * W
        for oh in range(OH):
            for ow in range(OW):
                hs, he, ws, we, n = _window(oh, ow, H, W, kh, kw, sh, sw, ph, pw, count_include_pad)
                s = 0.0
                for h in range(hs, he):
                    for w in range(ws, we):
                        s += x[U(xo + h * W + w)]
                d = divisor if divisor > 0 else n
                out[U(p * OH * OW + oh * OW + ow)] = s / d


@njit(cache=True, parallel=True, error_model="numpy")
def avg_pool2d_backward(g, P, H, W, gx, kh, kw, sh, sw, ph, pw, OH, OW, count_include_pad, divisor):
    for p in prange(P):
        xo = p * H * W
        for oh in range(OH):
            for ow in range(OW):
                hs, he, ws, we, n = _window(oh, ow, H, W, kh, kw, sh, sw, ph, pw, count_include_pad)
                d = divisor if divisor > 0 else n
                v = g[U(p * OH * OW + oh * OW + ow)] / d
                for h in range(hs, he):
                    for w in range(ws, we):
                        gx[U(xo + h * W + w)] += v
