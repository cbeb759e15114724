"""Convolution helpers: im2col / col2im over contiguous (N, C, H, W) planes.

cols[(c, i, j), n, (oh, ow)] = x[n, c, oh*sh - ph + i*dh, ow*sw - pw + j*dw] (0 outside the input): one row per
(channel, kernel offset) holding every image's output positions, so a convolution is ONE GEMM of the (O, C*kh*kw)
weights with the (C*kh*kw, N*OH*OW) columns; col2im is its adjoint (adds back, for the input gradient). Bounds are
tested per element, so padding never reads outside the input.
"""
import numpy as np
from numba import njit, prange

U = np.uint64


@njit(cache=True, inline="always")
def _im2col_plane(x, xo, H, W, cols, co, rs, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW):
    for i in range(kh):
        for j in range(kw):
            row = co + (i * kw + j) * rs
            for oh in range(OH):
                h = oh * sh - ph + i * dh
                base = row + oh * OW
                if h < 0 or h >= H:
                    for ow in range(OW):
                        cols[U(base + ow)] = 0
                    continue
                xrow = xo + h * W
                for ow in range(OW):
                    w = ow * sw - pw + j * dw
                    cols[U(base + ow)] = x[U(xrow + w)] if 0 <= w < W else 0


@njit(cache=True, parallel=True, error_model="numpy")
def im2col(x, N, C, H, W, cols, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW):
    """x: contiguous (N, C, H, W) flat; cols: contiguous (C*kh*kw, N, OH*OW) flat."""
    L = OH * OW
    for p in prange(N * C):
        n = p // C
        c = p - n * C
        _im2col_plane(x, p * H * W, H, W, cols, c * kh * kw * N * L + n * L, N * L, kh, kw, sh, sw, ph, pw, dh, dw,
                      OH, OW)


@njit(cache=True, inline="always")
def _col2im_plane(cols, co, rs, H, W, gx, xo, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW):
    for i in range(kh):
        for j in range(kw):
            row = co + (i * kw + j) * rs
            for oh in range(OH):
                h = oh * sh - ph + i * dh
                if h < 0 or h >= H:
                    continue
                xrow = xo + h * W
                base = row + oh * OW
                for ow in range(OW):
                    w = ow * sw - pw + j * dw
                    if 0 <= w < W:
                        gx[U(xrow + w)] += cols[U(base + ow)]


@njit(cache=True, parallel=True, error_model="numpy")
def col2im(cols, N, C, H, W, gx, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW):
    """gx (zero-filled, contiguous (N, C, H, W)) += the adjoint of im2col applied to cols (C*kh*kw, N, OH*OW)."""
    L = OH * OW
    for p in prange(N * C):
        n = p // C
        c = p - n * C
        _col2im_plane(cols, c * kh * kw * N * L + n * L, N * L, H, W, gx, p * H * W, kh, kw, sh, sw, ph, pw, dh, dw,
                      OH, OW)
