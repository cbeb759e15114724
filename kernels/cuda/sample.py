"""grid_sample and resample kernels on CUDA: the CPU's arguments and layouts (see ``kernels/cpu/sample.py``).

A thread per output point, forward and backward; in the backward the points of an image scatter into the same
input gradient, so those adds are atomic (float32/float64: 16-bit floats arrive as float32).
"""
import math

from numba import cuda

from .. import gridmath
from ._grid import THREADS, blocks

_unnormalize = cuda.jit(device=True)(gridmath.unnormalize)
_fold = cuda.jit(device=True)(gridmath.fold_position)
_cubic_weights = cuda.jit(device=True)(gridmath.cubic_weights)
_cubic_slopes = cuda.jit(device=True)(gridmath.cubic_slopes)
_nearest = cuda.jit(device=True)(gridmath.nearest)
_nearest_2d = cuda.jit(device=True)(gridmath.nearest_2d)
_bilinear_2d = cuda.jit(device=True)(gridmath.bilinear_2d)
_nearest_3d = cuda.jit(device=True)(gridmath.nearest_3d)
_trilinear_3d = cuda.jit(device=True)(gridmath.trilinear_3d)


@cuda.jit(device=True)
def _source(coord, size, padding_mode, align_corners):
    pos, slope = _unnormalize(coord, size, align_corners)
    return _fold(pos, slope, size, padding_mode, align_corners)


@cuda.jit(device=True)
def _tap(i, size, padding_mode, align_corners):
    p, _ = _fold(float(i), 0.0, size, padding_mode, align_corners)
    j = int(p)
    return j if j >= 0 and j < size else -1


@cuda.jit(device=True)
def _bicubic_taps(gx_, gy_, H, W, padding_mode, align_corners):
    """As on the CPU: the 4 x 4 taps' columns and rows (-1 outside), the fractions, d position / d coord."""
    ix, sx = _unnormalize(gx_, W, align_corners)
    iy, sy = _unnormalize(gy_, H, align_corners)
    ix, _ = _fold(ix, 0.0, W, 0, align_corners)
    iy, _ = _fold(iy, 0.0, H, 0, align_corners)
    x0 = int(math.floor(ix))
    y0 = int(math.floor(iy))
    xs = (_tap(x0 - 1, W, padding_mode, align_corners), _tap(x0, W, padding_mode, align_corners),
          _tap(x0 + 1, W, padding_mode, align_corners), _tap(x0 + 2, W, padding_mode, align_corners))
    ys = (_tap(y0 - 1, H, padding_mode, align_corners), _tap(y0, H, padding_mode, align_corners),
          _tap(y0 + 1, H, padding_mode, align_corners), _tap(y0 + 2, H, padding_mode, align_corners))
    return xs, ys, ix - x0, iy - y0, sx, sy


@cuda.jit
def _forward(x, grid, out, C, H, W, L, mode, padding_mode, align_corners, n_points):
    for p in range(cuda.grid(1), n_points, cuda.gridsize(1)):
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


def grid_sample_2d(x, grid, out, N, C, H, W, L, mode, padding_mode, align_corners):
    n = N * L
    if n:
        _forward[blocks(n), THREADS](x, grid, out, C, H, W, L, mode, padding_mode, align_corners, n)


@cuda.jit
def _backward(x, grid, g, gx, ggrid, C, H, W, L, mode, padding_mode, align_corners, need_x, need_grid, n_points):
    HW = H * W
    for p in range(cuda.grid(1), n_points, cuda.gridsize(1)):
        n = p // L
        xb = n * C * HW
        ix, sx = _source(grid[2 * p], W, padding_mode, align_corners)
        iy, sy = _source(grid[2 * p + 1], H, padding_mode, align_corners)
        gb = n * C * L + (p - n * L)
        if mode == 1:
            xi = _nearest(ix)
            yi = _nearest(iy)
            if need_x and xi >= 0 and xi < W and yi >= 0 and yi < H:
                q = xb + yi * W + xi
                for c in range(C):
                    cuda.atomic.add(gx, q + c * HW, g[gb + c * L])
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
                            cuda.atomic.add(gx, q0 + xs[i], wx[i] * wy[j] * go)
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
        ax = x1 - ix
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
                    cuda.atomic.add(gx, q, ax * ay * go)
                v = x[q] * go
                gix -= v * ay
                giy -= v * ax
            if in_y0 and in_x1:
                if need_x:
                    cuda.atomic.add(gx, q + 1, bx * ay * go)
                v = x[q + 1] * go
                gix += v * ay
                giy -= v * bx
            if in_y1 and in_x0:
                if need_x:
                    cuda.atomic.add(gx, q + W, ax * by * go)
                v = x[q + W] * go
                gix -= v * by
                giy += v * ax
            if in_y1 and in_x1:
                if need_x:
                    cuda.atomic.add(gx, q + W + 1, bx * by * go)
                v = x[q + W + 1] * go
                gix += v * by
                giy += v * bx
            q += HW
        if need_grid:
            ggrid[2 * p] = gix * sx
            ggrid[2 * p + 1] = giy * sy


def grid_sample_2d_backward(x, grid, g, gx, ggrid, N, C, H, W, L, mode, padding_mode, align_corners, need_x,
                            need_grid):
    n = N * L
    if n:
        _backward[blocks(n), THREADS](x, grid, g, gx, ggrid, C, H, W, L, mode, padding_mode, align_corners, need_x,
                                      need_grid, n)


@cuda.jit
def _forward_3d(x, grid, out, C, D, H, W, L, mode, padding_mode, align_corners, n_points):
    for p in range(cuda.grid(1), n_points, cuda.gridsize(1)):
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


def grid_sample_3d(x, grid, out, N, C, D, H, W, L, mode, padding_mode, align_corners):
    n = N * L
    if n:
        _forward_3d[blocks(n), THREADS](x, grid, out, C, D, H, W, L, mode, padding_mode, align_corners, n)


@cuda.jit
def _backward_3d(x, grid, g, gx, ggrid, C, D, H, W, L, mode, padding_mode, align_corners, need_x, need_grid,
                 n_points):
    DHW = D * H * W
    for p in range(cuda.grid(1), n_points, cuda.gridsize(1)):
        n = p // L
        xb = n * C * DHW
        ix, sx = _source(grid[3 * p], W, padding_mode, align_corners)
        iy, sy = _source(grid[3 * p + 1], H, padding_mode, align_corners)
        iz, sz = _source(grid[3 * p + 2], D, padding_mode, align_corners)
        gb = n * C * L + (p - n * L)
        if mode == 1:
            xi = _nearest(ix)
            yi = _nearest(iy)
            zi = _nearest(iz)
            if need_x and xi >= 0 and xi < W and yi >= 0 and yi < H and zi >= 0 and zi < D:
                q = xb + (zi * H + yi) * W + xi
                for c in range(C):
                    cuda.atomic.add(gx, q + c * DHW, g[gb + c * L])
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
            ex = 1.0 if dx else -1.0
            ey = 1.0 if dy else -1.0
            ez = 1.0 if dz else -1.0
            q = xb + (zi * H + yi) * W + xi
            w = wx * wy * wz
            vs = 0.0
            for c in range(C):
                go = g[gb + c * L]
                if need_x:
                    cuda.atomic.add(gx, q + c * DHW, w * go)
                vs += x[q + c * DHW] * go
            gix += ex * wy * wz * vs
            giy += wx * ey * wz * vs
            giz += wx * wy * ez * vs
        if need_grid:
            ggrid[3 * p] = gix * sx
            ggrid[3 * p + 1] = giy * sy
            ggrid[3 * p + 2] = giz * sz


def grid_sample_3d_backward(x, grid, g, gx, ggrid, N, C, D, H, W, L, mode, padding_mode, align_corners, need_x,
                            need_grid):
    n = N * L
    if n:
        _backward_3d[blocks(n), THREADS](x, grid, g, gx, ggrid, C, D, H, W, L, mode, padding_mode, align_corners,
                                         need_x, need_grid, n)


@cuda.jit
def _resample(x, out, idx, w, n_in, inner, n_out, T, n):
    for p in range(cuda.grid(1), n, cuda.gridsize(1)):
        q = p // inner
        i = p - q * inner
        o = q // n_out
        j = q - o * n_out
        src = o * n_in * inner + i
        acc = w[j * T] * x[src + idx[j * T] * inner]
        for t in range(1, T):
            acc += w[j * T + t] * x[src + idx[j * T + t] * inner]
        out[p] = acc


def resample(x, out, idx, w, outer, n_in, inner, n_out, T):
    """As the CPU's: a thread per output element (grid-stride)."""
    n = outer * n_out * inner
    if n:
        _resample[blocks(n), THREADS](x, out, idx, w, n_in, inner, n_out, T, n)


@cuda.jit
def _resample_backward(g, gx, idx, w, n_in, inner, n_out, T, n):
    for p in range(cuda.grid(1), n, cuda.gridsize(1)):
        o = p // inner
        i = p - o * inner
        base = o * n_in * inner + i
        for k in range(n_in):
            gx[base + k * inner] = 0
        for j in range(n_out):
            gv = g[(o * n_out + j) * inner + i]
            for t in range(T):
                gx[base + idx[j * T + t] * inner] += w[j * T + t] * gv


def resample_backward(g, gx, idx, w, outer, n_in, inner, n_out, T):
    """As the CPU's: a thread per (outer, inner) column of gx, which it alone writes (no atomics)."""
    n = outer * inner
    if n:
        _resample_backward[blocks(n), THREADS](g, gx, idx, w, n_in, inner, n_out, T, n)
