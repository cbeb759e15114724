"""grid_sample kernels (4-D and 5-D input): forward, and backward to the input and the grid; and ``resample``, the
weighted taps along one dimension that ``F.interpolate`` applies one spatial dimension at a time.

Arrays are flat and C-contiguous: x (N, C, H, W), grid (N, Ho, Wo, 2) holding (x, y) pairs, out and g (N, C, Ho, Wo);
in 3-D x (N, C, D, H, W), grid (N, Do, Ho, Wo, 3) holding (x, y, z), out and g (N, C, Do, Ho, Wo).
``mode`` 0 bilinear, 1 nearest, 2 bicubic (4-D only); ``padding_mode`` 0 zeros, 1 border, 2 reflection (see ``kernels/gridmath.py``,
which holds the per-point rules both devices compile). The forward runs a thread per output point; the backward a
thread per image, since the points of one image scatter into the same input gradient.

The small per-point rules are inlined at Numba's IR level; the bicubic taps and the per-image backwards are called
instead: inlining copies a function's IR once per call site (the bicubic taps, padded one by one, were most of a
cold compile), and the taps inlined into the threaded forward's loop broke Numba's array analysis of it.
"""
import math

import numpy as np
from numba import njit, prange

from .. import gridmath

N_PAR = 1 << 13  # sampled values from which the forward is worth a prange launch

_unnormalize = njit(cache=True, inline="always")(gridmath.unnormalize)
_fold = njit(cache=True, inline="always")(gridmath.fold_position)
_cubic_weights = njit(cache=True, inline="always")(gridmath.cubic_weights)
_cubic_slopes = njit(cache=True, inline="always")(gridmath.cubic_slopes)
_nearest = njit(cache=True, inline="always")(gridmath.nearest)
_nearest_2d = njit(cache=True, inline="always")(gridmath.nearest_2d)
_bilinear_2d = njit(cache=True, inline="always")(gridmath.bilinear_2d)
_nearest_3d = njit(cache=True, inline="always")(gridmath.nearest_3d)
_trilinear_3d = njit(cache=True, inline="always")(gridmath.trilinear_3d)


@njit(cache=True, inline="always")
def _source(coord, size, padding_mode, align_corners):
    """(pixel position, d position / d coord) of a normalised coordinate, the padding mode applied."""
    pos, slope = _unnormalize(coord, size, align_corners)
    return _fold(pos, slope, size, padding_mode, align_corners)


@njit(cache=True)
def _tap(i, size, padding_mode, align_corners):
    """The pixel that integer position i reads under the padding mode, or -1 (a zero) outside the input."""
    p, _ = _fold(float(i), 0.0, size, padding_mode, align_corners)
    j = int(p)
    return j if j >= 0 and j < size else -1


@njit(cache=True)
def _bicubic_taps(gx_, gy_, H, W, padding_mode, align_corners):
    """Bicubic's 4 x 4 taps around a grid point: their columns and rows (-1 outside), the fractions and the
    d position / d coord of x and y. Positions are unnormalised without padding; each tap is padded on its own."""
    ix, sx = _unnormalize(gx_, W, align_corners)
    iy, sy = _unnormalize(gy_, H, align_corners)
    ix, _ = _fold(ix, 0.0, W, 0, align_corners)  # only parks NaN / far positions
    iy, _ = _fold(iy, 0.0, H, 0, align_corners)
    x0 = int(math.floor(ix))
    y0 = int(math.floor(iy))
    xs = (_tap(x0 - 1, W, padding_mode, align_corners), _tap(x0, W, padding_mode, align_corners),
          _tap(x0 + 1, W, padding_mode, align_corners), _tap(x0 + 2, W, padding_mode, align_corners))
    ys = (_tap(y0 - 1, H, padding_mode, align_corners), _tap(y0, H, padding_mode, align_corners),
          _tap(y0 + 1, H, padding_mode, align_corners), _tap(y0 + 2, H, padding_mode, align_corners))
    return xs, ys, ix - x0, iy - y0, sx, sy


@njit(cache=True, inline="always")
def _forward_point(x, grid, out, p, C, H, W, L, mode, padding_mode, align_corners):
    n = p // L
    ix, _ = _source(grid[2 * p], W, padding_mode, align_corners)
    iy, _ = _source(grid[2 * p + 1], H, padding_mode, align_corners)
    xb = n * C * H * W
    ob = n * C * L + (p - n * L)
    if mode == 1:
        _nearest_2d(x, xb, H, W, C, _nearest(ix), _nearest(iy), out, ob, L)
    elif mode == 0:
        _bilinear_2d(x, xb, H, W, C, ix, iy, out, ob, L)
    else:
        xs, ys, tx, ty, _, _ = _bicubic_taps(grid[2 * p], grid[2 * p + 1], H, W, padding_mode, align_corners)
        wx = _cubic_weights(tx)
        wy = _cubic_weights(ty)
        for c in range(C):
            s = 0.0
            for j in range(4):
                if ys[j] < 0:
                    continue
                row = 0.0
                q = xb + c * H * W + ys[j] * W
                for i in range(4):
                    if xs[i] >= 0:
                        row += x[q + xs[i]] * wx[i]
                s += row * wy[j]
            out[ob + c * L] = s


@njit(cache=True)
def _forward_serial(x, grid, out, N, C, H, W, L, mode, padding_mode, align_corners):
    for p in range(N * L):
        _forward_point(x, grid, out, p, C, H, W, L, mode, padding_mode, align_corners)


@njit(cache=True, parallel=True)
def _forward_par(x, grid, out, N, C, H, W, L, mode, padding_mode, align_corners):
    for p in prange(N * L):
        _forward_point(x, grid, out, p, C, H, W, L, mode, padding_mode, align_corners)


def grid_sample_2d(x, grid, out, N, C, H, W, L, mode, padding_mode, align_corners):
    """out (N, C, L) = x (N, C, H, W) sampled at the L points of each image's grid (N, L, 2)."""
    if N * L * C >= N_PAR:
        _forward_par(x, grid, out, N, C, H, W, L, mode, padding_mode, align_corners)
    else:
        _forward_serial(x, grid, out, N, C, H, W, L, mode, padding_mode, align_corners)


@njit(cache=True)
def _backward_image(x, grid, g, gx, ggrid, n, C, H, W, L, mode, padding_mode, align_corners, need_x, need_grid):
    HW = H * W
    xb = n * C * HW
    for l in range(L):
        p = n * L + l
        ix, sx = _source(grid[2 * p], W, padding_mode, align_corners)
        iy, sy = _source(grid[2 * p + 1], H, padding_mode, align_corners)
        gb = n * C * L + l
        if mode == 1:
            # the nearest pixel takes the whole gradient; the grid gets none (the output is piecewise constant)
            xi = _nearest(ix)
            yi = _nearest(iy)
            if need_x and xi >= 0 and xi < W and yi >= 0 and yi < H:
                q = xb + yi * W + xi
                for c in range(C):
                    gx[q + c * HW] += g[gb + c * L]
            if need_grid:
                ggrid[2 * p] = 0
                ggrid[2 * p + 1] = 0
            continue
        if mode == 2:
            xs, ys, tx, ty, sx, sy = _bicubic_taps(grid[2 * p], grid[2 * p + 1], H, W, padding_mode, align_corners)
            wx = _cubic_weights(tx)
            wy = _cubic_weights(ty)
            dwx = _cubic_slopes(tx)
            dwy = _cubic_slopes(ty)
            gix = 0.0
            giy = 0.0
            for c in range(C):
                go = g[gb + c * L]
                for j in range(4):
                    if ys[j] < 0:
                        continue
                    q0 = xb + c * HW + ys[j] * W
                    for i in range(4):
                        if xs[i] < 0:
                            continue
                        if need_x:
                            gx[q0 + xs[i]] += wx[i] * wy[j] * go
                        v = x[q0 + xs[i]] * go
                        gix += v * dwx[i] * wy[j]
                        giy += v * wx[i] * dwy[j]
            if need_grid:
                ggrid[2 * p] = gix * sx
                ggrid[2 * p + 1] = giy * sy
            continue
        x0 = int(math.floor(ix))
        y0 = int(math.floor(iy))
        x1 = x0 + 1
        y1 = y0 + 1
        ax = x1 - ix  # the weights' factors: (x1 - ix) for column x0, (ix - x0) for column x1, likewise rows
        bx = ix - x0
        ay = y1 - iy
        by = iy - y0
        in_x0 = x0 >= 0 and x0 < W
        in_x1 = x1 >= 0 and x1 < W
        in_y0 = y0 >= 0 and y0 < H
        in_y1 = y1 >= 0 and y1 < H
        q = xb + y0 * W + x0
        gix = 0.0
        giy = 0.0
        for c in range(C):
            go = g[gb + c * L]
            if in_y0 and in_x0:
                if need_x:
                    gx[q] += ax * ay * go
                v = x[q] * go
                gix -= v * ay
                giy -= v * ax
            if in_y0 and in_x1:
                if need_x:
                    gx[q + 1] += bx * ay * go
                v = x[q + 1] * go
                gix += v * ay
                giy -= v * bx
            if in_y1 and in_x0:
                if need_x:
                    gx[q + W] += ax * by * go
                v = x[q + W] * go
                gix -= v * by
                giy += v * ax
            if in_y1 and in_x1:
                if need_x:
                    gx[q + W + 1] += bx * by * go
                v = x[q + W + 1] * go
                gix += v * by
                giy += v * bx
            q += HW
        if need_grid:
            ggrid[2 * p] = gix * sx
            ggrid[2 * p + 1] = giy * sy


@njit(cache=True, parallel=True)
def _backward_par(x, grid, g, gx, ggrid, N, C, H, W, L, mode, padding_mode, align_corners, need_x, need_grid):
    for n in prange(N):
        _backward_image(x, grid, g, gx, ggrid, n, C, H, W, L, mode, padding_mode, align_corners, need_x, need_grid)


@njit(cache=True)
def _backward_serial(x, grid, g, gx, ggrid, N, C, H, W, L, mode, padding_mode, align_corners, need_x, need_grid):
    for n in range(N):
        _backward_image(x, grid, g, gx, ggrid, n, C, H, W, L, mode, padding_mode, align_corners, need_x, need_grid)


def grid_sample_2d_backward(x, grid, g, gx, ggrid, N, C, H, W, L, mode, padding_mode, align_corners, need_x,
                            need_grid):
    """gx (N, C, H, W, zeroed by the caller) += the adjoint of sampling applied to g (N, C, L); ggrid (N, L, 2) =
    d(sum g * out) / d grid. Only the parts asked for (``need_x``, ``need_grid``) are written."""
    if N > 1 and N * L * C >= N_PAR:
        _backward_par(x, grid, g, gx, ggrid, N, C, H, W, L, mode, padding_mode, align_corners, need_x, need_grid)
    else:
        _backward_serial(x, grid, g, gx, ggrid, N, C, H, W, L, mode, padding_mode, align_corners, need_x,
                         need_grid)


# ---------------------------------------------------------------------------------------------------------------
# 5-D input: trilinear and nearest
# ---------------------------------------------------------------------------------------------------------------
@njit(cache=True, inline="always")
def _forward_point_3d(x, grid, out, p, C, D, H, W, L, mode, padding_mode, align_corners):
    n = p // L
    ix, _ = _source(grid[3 * p], W, padding_mode, align_corners)
    iy, _ = _source(grid[3 * p + 1], H, padding_mode, align_corners)
    iz, _ = _source(grid[3 * p + 2], D, padding_mode, align_corners)
    xb = n * C * D * H * W
    ob = n * C * L + (p - n * L)
    if mode == 1:
        _nearest_3d(x, xb, D, H, W, C, _nearest(ix), _nearest(iy), _nearest(iz), out, ob, L)
    else:
        _trilinear_3d(x, xb, D, H, W, C, ix, iy, iz, out, ob, L)


@njit(cache=True)
def _forward_3d_serial(x, grid, out, N, C, D, H, W, L, mode, padding_mode, align_corners):
    for p in range(N * L):
        _forward_point_3d(x, grid, out, p, C, D, H, W, L, mode, padding_mode, align_corners)


@njit(cache=True, parallel=True)
def _forward_3d_par(x, grid, out, N, C, D, H, W, L, mode, padding_mode, align_corners):
    for p in prange(N * L):
        _forward_point_3d(x, grid, out, p, C, D, H, W, L, mode, padding_mode, align_corners)


def grid_sample_3d(x, grid, out, N, C, D, H, W, L, mode, padding_mode, align_corners):
    """out (N, C, L) = x (N, C, D, H, W) sampled at the L points of each volume's grid (N, L, 3)."""
    if N * L * C >= N_PAR:
        _forward_3d_par(x, grid, out, N, C, D, H, W, L, mode, padding_mode, align_corners)
    else:
        _forward_3d_serial(x, grid, out, N, C, D, H, W, L, mode, padding_mode, align_corners)


@njit(cache=True)
def _backward_volume(x, grid, g, gx, ggrid, n, C, D, H, W, L, mode, padding_mode, align_corners, need_x,
                     need_grid):
    DHW = D * H * W
    xb = n * C * DHW
    for l in range(L):
        p = n * L + l
        ix, sx = _source(grid[3 * p], W, padding_mode, align_corners)
        iy, sy = _source(grid[3 * p + 1], H, padding_mode, align_corners)
        iz, sz = _source(grid[3 * p + 2], D, padding_mode, align_corners)
        gb = n * C * L + l
        if mode == 1:
            xi = _nearest(ix)
            yi = _nearest(iy)
            zi = _nearest(iz)
            if need_x and xi >= 0 and xi < W and yi >= 0 and yi < H and zi >= 0 and zi < D:
                q = xb + (zi * H + yi) * W + xi
                for c in range(C):
                    gx[q + c * DHW] += g[gb + c * L]
            if need_grid:
                ggrid[3 * p] = 0
                ggrid[3 * p + 1] = 0
                ggrid[3 * p + 2] = 0
            continue
        x0 = int(math.floor(ix))
        y0 = int(math.floor(iy))
        z0 = int(math.floor(iz))
        gix = 0.0
        giy = 0.0
        giz = 0.0
        for k in range(8):
            dx = k & 1
            dy = (k >> 1) & 1
            dz = k >> 2
            xi = x0 + dx
            yi = y0 + dy
            zi = z0 + dz
            if not (xi >= 0 and xi < W and yi >= 0 and yi < H and zi >= 0 and zi < D):
                continue
            wx = ix - x0 if dx else x0 + 1 - ix
            wy = iy - y0 if dy else y0 + 1 - iy
            wz = iz - z0 if dz else z0 + 1 - iz
            ex = 1.0 if dx else -1.0  # d wx / d ix
            ey = 1.0 if dy else -1.0
            ez = 1.0 if dz else -1.0
            q = xb + (zi * H + yi) * W + xi
            w = wx * wy * wz
            vs = 0.0
            for c in range(C):
                go = g[gb + c * L]
                if need_x:
                    gx[q + c * DHW] += w * go
                vs += x[q + c * DHW] * go
            gix += ex * wy * wz * vs
            giy += wx * ey * wz * vs
            giz += wx * wy * ez * vs
        if need_grid:
            ggrid[3 * p] = gix * sx
            ggrid[3 * p + 1] = giy * sy
            ggrid[3 * p + 2] = giz * sz


@njit(cache=True, parallel=True)
def _backward_3d_par(x, grid, g, gx, ggrid, N, C, D, H, W, L, mode, padding_mode, align_corners, need_x, need_grid):
    for n in prange(N):
        _backward_volume(x, grid, g, gx, ggrid, n, C, D, H, W, L, mode, padding_mode, align_corners, need_x,
                         need_grid)


@njit(cache=True)
def _backward_3d_serial(x, grid, g, gx, ggrid, N, C, D, H, W, L, mode, padding_mode, align_corners, need_x,
                        need_grid):
    for n in range(N):
        _backward_volume(x, grid, g, gx, ggrid, n, C, D, H, W, L, mode, padding_mode, align_corners, need_x,
                         need_grid)


def grid_sample_3d_backward(x, grid, g, gx, ggrid, N, C, D, H, W, L, mode, padding_mode, align_corners, need_x,
                            need_grid):
    """The 5-D form of ``grid_sample_2d_backward``: gx (N, C, D, H, W, zeroed by the caller), ggrid (N, L, 3)."""
    if N > 1 and N * L * C >= N_PAR:
        _backward_3d_par(x, grid, g, gx, ggrid, N, C, D, H, W, L, mode, padding_mode, align_corners, need_x,
                         need_grid)
    else:
        _backward_3d_serial(x, grid, g, gx, ggrid, N, C, D, H, W, L, mode, padding_mode, align_corners, need_x,
                            need_grid)


# ---------------------------------------------------------------------------------------------------------------
# resampling along one dimension (F.interpolate's linear, cubic and antialiased modes, one dimension at a time):
# x (outer, n_in, inner) -> out (outer, n_out, inner), out[o, j, :] = sum_t w[j*T + t] * x[o, idx[j*T + t], :]
# ---------------------------------------------------------------------------------------------------------------
RESAMPLE_PAR = 1 << 14  # output elements from which a resample is worth a prange launch


@njit(cache=True, inline="always")
def _resample_row(x2, o2, idx, w, q, n_in, n_out, T):
    """Output row q = o*n_out + j of o2 (outer*n_out, inner) from the rows of x2 (outer*n_in, inner): the first tap
    assigned, the others added. Indexed as 2-D arrays from 0: as offsets into the flat arrays (base + i, signed)
    the loops kept a wrap-around check per element and stayed scalar (7.8 vs 1.0 ms for 8M outputs)."""
    o = q // n_out
    j = q - o * n_out
    r = o * n_in + idx[j * T]
    wt = w[j * T]
    for i in range(o2.shape[1]):
        o2[q, i] = wt * x2[r, i]
    for t in range(1, T):
        r = o * n_in + idx[j * T + t]
        wt = w[j * T + t]
        for i in range(o2.shape[1]):
            o2[q, i] += wt * x2[r, i]


@njit(cache=True, inline="always")
def _resample_last(x2, o2, idx, w, o, T):
    """The last dimension (inner 1): row o of o2 (outer, n_out) from row o of x2 (outer, n_in)."""
    xr = x2[o]
    for j in range(o2.shape[1]):
        acc = w[j * T] * xr[np.uint64(idx[j * T])]
        for t in range(1, T):
            acc += w[j * T + t] * xr[np.uint64(idx[j * T + t])]
        o2[o, j] = acc


@njit(cache=True)
def _resample_serial(x, out, idx, w, outer, n_in, inner, n_out, T):
    if inner == 1:
        x2, o2 = x.reshape(outer, n_in), out.reshape(outer, n_out)
        for o in range(outer):
            _resample_last(x2, o2, idx, w, o, T)
    else:
        x2, o2 = x.reshape(outer * n_in, inner), out.reshape(outer * n_out, inner)
        for q in range(outer * n_out):
            _resample_row(x2, o2, idx, w, q, n_in, n_out, T)


@njit(cache=True, parallel=True)
def _resample_par(x, out, idx, w, outer, n_in, inner, n_out, T):
    if inner == 1:
        x2, o2 = x.reshape(outer, n_in), out.reshape(outer, n_out)
        for o in prange(outer):
            _resample_last(x2, o2, idx, w, o, T)
    else:
        x2, o2 = x.reshape(outer * n_in, inner), out.reshape(outer * n_out, inner)
        for q in prange(outer * n_out):
            _resample_row(x2, o2, idx, w, q, n_in, n_out, T)


def resample(x, out, idx, w, outer, n_in, inner, n_out, T):
    """out (outer, n_out, inner) = the taps of x (outer, n_in, inner) along its middle dimension, weighed: idx
    (n_out*T, int64, each in [0, n_in)) and w (n_out*T, x's dtype), flat arrays. Along the last dimension (inner
    1) a thread takes whole rows; else whole output rows of inner, which vectorize."""
    if outer * n_out * inner >= RESAMPLE_PAR and (outer if inner == 1 else outer * n_out) > 1:
        _resample_par(x, out, idx, w, outer, n_in, inner, n_out, T)
    else:
        _resample_serial(x, out, idx, w, outer, n_in, inner, n_out, T)


@njit(cache=True, inline="always")
def _resample_back_block(g, gx, idx, w, o, n_in, inner, n_out, T):
    """gx[o] (n_in, inner) overwritten with the adjoint of _resample_row over every output row of block o."""
    if inner == 1:
        gr = g.reshape(-1, n_out)[o]
        xr = gx.reshape(-1, n_in)[o]
        for k in range(n_in):
            xr[k] = 0
        for j in range(n_out):
            gv = gr[j]
            for t in range(T):
                xr[np.uint64(idx[j * T + t])] += w[j * T + t] * gv
        return
    g3 = g.reshape(-1, n_out, inner)
    x3 = gx.reshape(-1, n_in, inner)
    for k in range(n_in):
        for i in range(inner):
            x3[o, k, i] = 0
    for j in range(n_out):
        for t in range(T):
            r = idx[j * T + t]
            wt = w[j * T + t]
            for i in range(inner):
                x3[o, r, i] += wt * g3[o, j, i]


@njit(cache=True)
def _resample_back_serial(g, gx, idx, w, outer, n_in, inner, n_out, T):
    for o in range(outer):
        _resample_back_block(g, gx, idx, w, o, n_in, inner, n_out, T)


@njit(cache=True, parallel=True)
def _resample_back_par(g, gx, idx, w, outer, n_in, inner, n_out, T):
    for o in prange(outer):
        _resample_back_block(g, gx, idx, w, o, n_in, inner, n_out, T)


def resample_backward(g, gx, idx, w, outer, n_in, inner, n_out, T):
    """gx (outer, n_in, inner, overwritten) = the gradient of ``resample`` for the output gradient g (outer, n_out,
    inner): each output row's gradient added back to its taps, weighed; a thread per outer block (no two write the
    same element)."""
    if outer > 1 and outer * n_out * inner >= RESAMPLE_PAR:
        _resample_back_par(g, gx, idx, w, outer, n_in, inner, n_out, T)
    else:
        _resample_back_serial(g, gx, idx, w, outer, n_in, inner, n_out, T)
