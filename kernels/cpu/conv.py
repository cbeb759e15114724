"""Convolution helpers: im2col / col2im over contiguous (N, C, H, W) planes.

cols[n, (c, i, j), (oh, ow)] = x[n, c, oh*sh - ph + i*dh, ow*sw - pw + j*dw] (0 outside the input), so a
convolution is a batched GEMM of the weights with ``cols``; col2im is its adjoint (adds back, for the input
gradient). Bounds are tested per element, so padding never reads outside the input.
"""
import numpy as np
from numba import njit, prange

U = np.uint64


@njit(cache=True, inline="always")
def _im2col_plane(x, xo, H, W, cols, co, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW):
    L = OH * OW
    for i in range(kh):
        for j in range(kw):
            row = co + (i * kw + j) * L
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
    """x: contiguous (N, C, H, W) flat; cols: contiguous (N, C*kh*kw, OH*OW) flat."""
    L = OH * OW
    for p in prange(N * C):
        _im2col_plane(x, p * H * W, H, W, cols, p * kh * kw * L, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW)


@njit(cache=True, inline="always")
def _col2im_plane(cols, co, H, W, gx, xo, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW):
    L = OH * OW
    for i in range(kh):
        for j in range(kw):
            row = co + (i * kw + j) * L
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
    """gx (zero-filled, contiguous (N, C, H, W)) += the adjoint of im2col applied to cols."""
    L = OH * OW
    for p in prange(N * C):
        _col2im_plane(cols, p * kh * kw * L, H, W, gx, p * H * W, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW)
