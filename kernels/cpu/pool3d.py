"""3-D pooling over contiguous (N*C, D, H, W) volumes: max and adaptive max (with argmax indices) and average,
forward and backward.

Indices are flat positions within the input volume ((d * H + h) * W + w), as PyTorch's ``return_indices`` gives
them. The max backward is a scatter by those flat positions, so it is ``pool.max_pool2d_backward`` with
HW = D * H * W.
"""
import numpy as np
from numba import njit, prange

from .conv import _span

U = np.uint64


@njit(cache=True, inline="always")
def _window_argmax(x, xo, H, W, d0, h0, w0, dd, dh, dw, alo, ahi, ilo, ihi, jlo, jhi, lowest):
    """Max of the window {(d0 + a*dd, h0 + i*dh, w0 + j*dw)} (NaN wins) and the flat in-volume position of its first
    occurrence, or of the last NaN (PyTorch's CPU kernel lets every NaN replace the running max); -1 if empty.

    Two branch-free passes (the max, then a backward scan for its earliest position) beat one pass that tracks the
    position, whose branches mispredict on random data (see pool._window_max)."""
    best = lowest
    for a in range(alo, ahi):
        for i in range(ilo, ihi):
            r = xo + ((d0 + a * dd) * H + h0 + i * dh) * W + w0
            for j in range(jlo, jhi):
                v = x[U(r + j * dw)]
                best = v if (v > best) | (v != v) else best
    arg = -1
    if best != best:
        for a in range(alo, ahi):
            for i in range(ilo, ihi):
                r = ((d0 + a * dd) * H + h0 + i * dh) * W + w0
                for j in range(jlo, jhi):
                    v = x[U(xo + r + j * dw)]
                    arg = r + j * dw if v != v else arg
        return best, arg
    for a in range(ahi - 1, alo - 1, -1):
        for i in range(ihi - 1, ilo - 1, -1):
            r = ((d0 + a * dd) * H + h0 + i * dh) * W + w0
            for j in range(jhi - 1, jlo - 1, -1):
                v = x[U(xo + r + j * dw)]
                arg = r + j * dw if v == best else arg
    return best, arg


def _lowest(dtype):
    """The start value of a running max: -inf for floats, the smallest integer otherwise."""
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return dtype.type(-np.inf)
    if dtype.kind == "b":
        return dtype.type(False)
    return dtype.type(np.iinfo(dtype).min)


def max_pool3d(x, P, D, H, W, out, idx, kd, kh, kw, sd, sh, sw, pd, ph, pw, dd, dh, dw, OD, OH, OW):
    """The first position holding a window's max (in d, h, w order); once a NaN is seen, the last NaN, as PyTorch's
    CPU kernel. A window with no element in range (possible with dilation) gives the dtype's lowest value and -1."""
    _max_pool3d(x, P, D, H, W, out, idx, _lowest(x.dtype), kd, kh, kw, sd, sh, sw, pd, ph, pw, dd, dh, dw, OD, OH,
                OW)


@njit(cache=True, parallel=True, error_model="numpy")
def _max_pool3d(x, P, D, H, W, out, idx, lowest, kd, kh, kw, sd, sh, sw, pd, ph, pw, dd, dh, dw, OD, OH, OW):
    V = D * H * W
    L = OD * OH * OW
    for p in prange(P):
        xo = p * V
        for od in range(OD):
            d0 = od * sd - pd
            alo, ahi = _span(d0, D, dd, kd)
            for oh in range(OH):
                h0 = oh * sh - ph
                ilo, ihi = _span(h0, H, dh, kh)
                for ow in range(OW):
                    w0 = ow * sw - pw
                    jlo, jhi = _span(w0, W, dw, kw)
                    best, arg = _window_argmax(x, xo, H, W, d0, h0, w0, dd, dh, dw, alo, ahi, ilo, ihi, jlo, jhi,
                                               lowest)
                    e = p * L + (od * OH + oh) * OW + ow
                    out[U(e)] = best
                    idx[U(e)] = arg


@njit(cache=True, inline="always")
def _bounds(o, s, p, k, n):
    """A window's clipped [start, end) and its extent counted with the padding (PyTorch's pool size rule)."""
    a = o * s - p
    b = min(a + k, n + p)
    return max(a, 0), min(b, n), b - a


@njit(cache=True, inline="always")
def _divisor(od, oh, ow, D, H, W, kd, kh, kw, sd, sh, sw, pd, ph, pw, count_include_pad, divisor):
    ds, de, nd = _bounds(od, sd, pd, kd, D)
    hs, he, nh = _bounds(oh, sh, ph, kh, H)
    ws, we, nw = _bounds(ow, sw, pw, kw, W)
    if divisor > 0:
        n = divisor
    elif count_include_pad:
        n = nd * nh * nw
    else:
        n = (de - ds) * (he - hs) * (we - ws)
    return ds, de, hs, he, ws, we, n


@njit(cache=True, parallel=True, error_model="numpy")
def avg_pool3d(x, P, D, H, W, out, kd, kh, kw, sd, sh, sw, pd, ph, pw, OD, OH, OW, count_include_pad, divisor):
    V = D * H * W
    L = OD * OH * OW
    for p in prange(P):
        xo = p * V
        for od in range(OD):
            for oh in range(OH):
                for ow in range(OW):
                    ds, de, hs, he, ws, we, n = _divisor(od, oh, ow, D, H, W, kd, kh, kw, sd, sh, sw, pd, ph, pw,
                                                         count_include_pad, divisor)
                    s = 0.0
                    for d in range(ds, de):
                        for h in range(hs, he):
                            r = xo + (d * H + h) * W
                            for w in range(ws, we):
                                s += x[U(r + w)]
                    out[U(p * L + (od * OH + oh) * OW + ow)] = s / n


@njit(cache=True, parallel=True, error_model="numpy")
def avg_pool3d_backward(g, P, D, H, W, gx, kd, kh, kw, sd, sh, sw, pd, ph, pw, OD, OH, OW, count_include_pad,
                        divisor):
    """gx (zero-filled (P, D*H*W)) += each output's gradient spread evenly over its window; volumes are
    independent, so each thread owns whole volumes."""
    V = D * H * W
    L = OD * OH * OW
    for p in prange(P):
        xo = p * V
        for od in range(OD):
            for oh in range(OH):
                for ow in range(OW):
                    ds, de, hs, he, ws, we, n = _divisor(od, oh, ow, D, H, W, kd, kh, kw, sd, sh, sw, pd, ph, pw,
                                                         count_include_pad, divisor)
                    v = g[U(p * L + (od * OH + oh) * OW + ow)] / n
                    for d in range(ds, de):
                        for h in range(hs, he):
                            r = xo + (d * H + h) * W
                            for w in range(ws, we):
                                gx[U(r + w)] += v


@njit(cache=True, parallel=True, error_model="numpy")
def _adaptive_max_pool3d(x, P, D, H, W, out, idx, lowest, OD, OH, OW):
    V = D * H * W
    L = OD * OH * OW
    for p in prange(P):
        xo = p * V
        for od in range(OD):
            d0, d1 = (od * D) // OD, ((od + 1) * D + OD - 1) // OD
            for oh in range(OH):
                h0, h1 = (oh * H) // OH, ((oh + 1) * H + OH - 1) // OH
                for ow in range(OW):
                    w0, w1 = (ow * W) // OW, ((ow + 1) * W + OW - 1) // OW
                    best, arg = _window_argmax(x, xo, H, W, d0, h0, w0, 1, 1, 1, 0, d1 - d0, 0, h1 - h0, 0, w1 - w0,
                                               lowest)
                    e = p * L + (od * OH + oh) * OW + ow
                    out[U(e)] = best
                    idx[U(e)] = arg


def adaptive_max_pool3d(x, P, D, H, W, out, idx, OD, OH, OW):
    """Max over PyTorch's adaptive windows [floor(i * n / o), ceil((i + 1) * n / o)) of each dim, and the flat
    in-volume position of the first maximum (of the last NaN once a NaN is seen, as PyTorch's CPU kernel)."""
    _adaptive_max_pool3d(x, P, D, H, W, out, idx, _lowest(x.dtype), OD, OH, OW)
