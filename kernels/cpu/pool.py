"""2-D pooling over contiguous (N*C, H, W) planes: max (with argmax indices) and average, forward and backward.

Indices are flat positions within the input plane (h * W + w), as PyTorch's ``return_indices`` gives them.
"""
import numpy as np
from numba import njit, prange

U = np.uint64


@njit(cache=True, parallel=True, error_model="numpy")
def max_pool2d(x, P, H, W, out, idx, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW):
    for p in prange(P):
        xo = p * H * W
        oo = p * OH * OW
        for oh in range(OH):
            for ow in range(OW):
                best = -np.inf
                arg = -1
                found_nan = False
                for i in range(kh):
                    h = oh * sh - ph + i * dh
                    if h < 0 or h >= H:
                        continue
                    for j in range(kw):
                        w = ow * sw - pw + j * dw
                        if w < 0 or w >= W:
                            continue
                        v = x[U(xo + h * W + w)]
                        # first maximum wins; NaN propagates (as in PyTorch)
                        if not found_nan and (v > best or v != v or arg < 0):
                            best = v
                            arg = h * W + w
                            if v != v:
                                found_nan = True
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
