"""grid_sample's per-point rules, compiled for every device: ``kernels/cpu/sample.py`` wraps them with ``njit`` and
``kernels/cuda/sample.py`` as CUDA device functions, so both devices sample by one definition.

Grid coordinates are normalised: -1 and +1 are the centres of the edge pixels (``align_corners``) or their outer
edges (otherwise). Padding modes: 0 zeros, 1 border, 2 reflection.
Interpolation modes: 0 bilinear, 1 nearest, 2 bicubic. These functions may call nothing but ``math`` (a plain
Python helper would not compile on either device); the device modules compose them.

Numba's on-disk cache keys a kernel on its own file only: after editing this file, delete the ``__pycache__`` of
``kernels/cpu`` so the CPU kernels that inline these functions recompile.
"""
import math

FAR = 1 << 30  # beyond this (or NaN) a position is parked at -100: outside every input, and safe to make an int


def unnormalize(coord, size, align_corners):
    """(position in pixels along a dim of ``size``, d position / d coord) for one normalised coordinate."""
    if align_corners:
        slope = (size - 1) * 0.5
        return (coord + 1.0) * slope, slope
    return ((coord + 1.0) * size - 1.0) * 0.5, size * 0.5


def fold_position(pos, slope, size, padding_mode, align_corners):
    """(pos, slope) moved into [0, size - 1] as the padding mode says (zeros: unchanged), the slope d pos / d coord
    following along.

    Border and reflection treat the edges themselves as outside when differentiating, so a position clipped to
    an edge gets a zero slope."""
    if padding_mode == 2:
        # fold the line onto [lo, hi] by mirror images: (-1, 2*size - 1) / 2 is the pixels' outer edges
        twice_lo = 0 if align_corners else -1
        twice_hi = 2 * (size - 1) if align_corners else 2 * size - 1
        if twice_lo == twice_hi:
            pos = 0.0
            slope = 0.0
        else:
            lo = twice_lo * 0.5
            span = (twice_hi - twice_lo) * 0.5
            d = pos - lo
            if d < 0:
                d = -d
                slope = -slope
            flips = math.floor(d / span)
            extra = d - flips * span  # d mod span (d >= 0)
            if flips % 2 == 0:
                pos = extra + lo
            else:
                pos = span - extra + lo
                slope = -slope
    if padding_mode != 0:
        if pos <= 0:
            pos = 0.0
            slope = 0.0
        elif pos >= size - 1:
            pos = size - 1.0
            slope = 0.0
    if not (pos > -FAR and pos < FAR):
        pos = -100.0
    return pos, slope


def cubic_weights(t):
    """The four weights of taps -1, 0, 1, 2 at fraction t in [0, 1) (Keys' cubic convolution, A = -0.75)."""
    A = -0.75
    u = t + 1.0
    w0 = ((A * u - 5.0 * A) * u + 8.0 * A) * u - 4.0 * A
    w1 = ((A + 2.0) * t - (A + 3.0)) * t * t + 1.0
    v = 1.0 - t
    w2 = ((A + 2.0) * v - (A + 3.0)) * v * v + 1.0
    u = 2.0 - t
    w3 = ((A * u - 5.0 * A) * u + 8.0 * A) * u - 4.0 * A
    return w0, w1, w2, w3


def cubic_slopes(t):
    """d/dt of ``cubic_weights(t)``."""
    A = -0.75
    u = t + 1.0
    d0 = (3.0 * A * u - 10.0 * A) * u + 8.0 * A
    d1 = (3.0 * (A + 2.0) * t - 2.0 * (A + 3.0)) * t
    v = 1.0 - t
    d2 = -(3.0 * (A + 2.0) * v - 2.0 * (A + 3.0)) * v
    u = 2.0 - t
    d3 = -((3.0 * A * u - 10.0 * A) * u + 8.0 * A)
    return d0, d1, d2, d3


def nearest(v):
    """The integer nearest to v, halves to even (PyTorch's nearbyint)."""
    r = int(math.floor(v))
    d = v - r
    if d > 0.5 or (d == 0.5 and r % 2 != 0):
        r += 1
    return r


def nearest_2d(x, xb, H, W, C, xi, yi, out, ob, L):
    """out[ob + c*L] for c < C: pixel (xi, yi) of x's channel planes (H*W apart from xb), 0 outside them."""
    HW = H * W
    if xi >= 0 and xi < W and yi >= 0 and yi < H:
        q = xb + yi * W + xi
        for c in range(C):
            out[ob + c * L] = x[q + c * HW]
    else:
        for c in range(C):
            out[ob + c * L] = 0


def bilinear_2d(x, xb, H, W, C, ix, iy, out, ob, L):
    """out[ob + c*L] for c < C: x's channel planes (H*W apart from xb) interpolated at pixel position (ix, iy),
    with zeros outside them."""
    HW = H * W
    x0 = int(math.floor(ix))
    y0 = int(math.floor(iy))
    x1 = x0 + 1
    y1 = y0 + 1
    w00 = (x1 - ix) * (y1 - iy)
    w01 = (ix - x0) * (y1 - iy)
    w10 = (x1 - ix) * (iy - y0)
    w11 = (ix - x0) * (iy - y0)
    in_x0 = x0 >= 0 and x0 < W
    in_x1 = x1 >= 0 and x1 < W
    in_y0 = y0 >= 0 and y0 < H
    in_y1 = y1 >= 0 and y1 < H
    q = xb + y0 * W + x0
    for c in range(C):
        s = 0.0
        if in_y0:
            if in_x0:
                s += x[q] * w00
            if in_x1:
                s += x[q + 1] * w01
        if in_y1:
            if in_x0:
                s += x[q + W] * w10
            if in_x1:
                s += x[q + W + 1] * w11
        out[ob + c * L] = s
        q += HW


def nearest_3d(x, xb, D, H, W, C, xi, yi, zi, out, ob, L):
    """out[ob + c*L] for c < C: voxel (xi, yi, zi) of x's channel volumes (D*H*W apart from xb), 0 outside them."""
    DHW = D * H * W
    if xi >= 0 and xi < W and yi >= 0 and yi < H and zi >= 0 and zi < D:
        q = xb + (zi * H + yi) * W + xi
        for c in range(C):
            out[ob + c * L] = x[q + c * DHW]
    else:
        for c in range(C):
            out[ob + c * L] = 0


def trilinear_3d(x, xb, D, H, W, C, ix, iy, iz, out, ob, L):
    """out[ob + c*L] for c < C: x's channel volumes (D*H*W apart from xb) interpolated at voxel position
    (ix, iy, iz), with zeros outside them. Corner k of the cell is (x0 + (k & 1), y0 + (k >> 1 & 1), z0 + (k >> 2))."""
    DHW = D * H * W
    x0 = int(math.floor(ix))
    y0 = int(math.floor(iy))
    z0 = int(math.floor(iz))
    for c in range(C):
        s = 0.0
        for k in range(8):
            dx = k & 1
            dy = (k >> 1) & 1
            dz = k >> 2
            xi = x0 + dx
            yi = y0 + dy
            zi = z0 + dz
            if xi >= 0 and xi < W and yi >= 0 and yi < H and zi >= 0 and zi < D:
                wx = ix - x0 if dx else x0 + 1 - ix
                wy = iy - y0 if dy else y0 + 1 - iy
                wz = iz - z0 if dz else z0 + 1 - iz
                s += x[xb + c * DHW + (zi * H + yi) * W + xi] * (wx * wy * wz)
        out[ob + c * L] = s
