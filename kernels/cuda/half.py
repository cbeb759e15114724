"""16-bit float conversions on the GPU: the same names, arguments and results as ``kernels/cpu/half.py``.

Storages of float16/bfloat16 tensors hold uint16 bit patterns; the float32 side arrives as its uint32 view, so the
kernels are integer bit operations only (round to nearest even; float16 NaN -> 0x7e00 | sign, bfloat16 NaN ->
0x7fc0). ``kind`` is 0 for float16 and 1 for bfloat16.
"""
import numpy as np
from numba import cuda

from ._grid import THREADS, blocks, meta


@cuda.jit(device=True, inline=True)
def f32_to_f16_bits(x):
    sign = (x >> 16) & 0x8000
    e = (x >> 23) & 0xff
    m = x & 0x7fffff
    if e == 0xff:
        return sign | (0x7e00 if m else 0x7c00)
    he = e - 112
    if he >= 31:
        return sign | 0x7c00
    if he <= 0:
        if he < -10:
            return sign
        m = m | 0x800000
        shift = 14 - he
        q = m >> shift
        rem = m & ((1 << shift) - 1)
        halfway = 1 << (shift - 1)
        if rem > halfway or (rem == halfway and (q & 1)):
            q += 1
        return sign | q
    q = (he << 10) | (m >> 13)
    rem = m & 0x1fff
    if rem > 0x1000 or (rem == 0x1000 and (q & 1)):
        q += 1
    return sign | q


@cuda.jit(device=True, inline=True)
def f16_to_f32_bits(h):
    sign = (h & 0x8000) << 16
    e = (h >> 10) & 0x1f
    m = h & 0x3ff
    if e == 0x1f:
        return sign | 0x7f800000 | (m << 13)
    if e == 0:
        if m == 0:
            return sign
        e32 = 113
        while (m & 0x400) == 0:
            m <<= 1
            e32 -= 1
        return sign | (e32 << 23) | ((m & 0x3ff) << 13)
    return sign | ((e + 112) << 23) | (m << 13)


@cuda.jit(device=True, inline=True)
def f32_to_bf16_bits(x):
    if (x & 0x7fffffff) > 0x7f800000:
        return 0x7fc0
    return (x + 0x7fff + ((x >> 16) & 1)) >> 16


@cuda.jit(device=True, inline=True)
def _to(kind, h):
    h = np.int64(h)
    if kind == 0:
        return f16_to_f32_bits(h)
    return h << 16


@cuda.jit(device=True, inline=True)
def _from(kind, x):
    x = np.int64(x)
    if kind == 0:
        return f32_to_f16_bits(x)
    return f32_to_bf16_bits(x)


@cuda.jit
def _to_flat(kind, src, so, ss, dst, do, ds, n):
    for k in range(cuda.grid(1), n, cuda.gridsize(1)):
        dst[do + k * ds] = _to(kind, src[so + k * ss])


@cuda.jit
def _from_flat(kind, src, so, ss, dst, do, ds, n):
    for k in range(cuda.grid(1), n, cuda.gridsize(1)):
        dst[do + k * ds] = _from(kind, src[so + k * ss])


@cuda.jit(device=True, inline=True)
def _offsets(k, so, sst, do, dst_strides, shape):
    i = so
    j = do
    rem = k
    for d in range(shape.size - 1, -1, -1):
        q = rem // shape[d]
        m = rem - q * shape[d]
        i += m * sst[d]
        j += m * dst_strides[d]
        rem = q
    return i, j


@cuda.jit
def _to_nd(kind, src, so, sst, dst, do, dst_strides, shape, n):
    for k in range(cuda.grid(1), n, cuda.gridsize(1)):
        i, j = _offsets(k, so, sst, do, dst_strides, shape)
        dst[j] = _to(kind, src[i])


@cuda.jit
def _from_nd(kind, src, so, sst, dst, do, dst_strides, shape, n):
    for k in range(cuda.grid(1), n, cuda.gridsize(1)):
        i, j = _offsets(k, so, sst, do, dst_strides, shape)
        dst[j] = _from(kind, src[i])


def to_float32_flat(kind, src, so, ss, dst, do, ds, n):
    """dst[do + k*ds] = float32 bits (uint32 view) of src[so + k*ss] (uint16 bits of ``kind``), k < n."""
    if n > 0:
        _to_flat[blocks(n), THREADS](kind, src, so, ss, dst, do, ds, n)


def from_float32_flat(kind, src, so, ss, dst, do, ds, n):
    """dst[do + k*ds] = ``kind`` bits of the float32 bits src[so + k*ss], rounded to nearest even, k < n."""
    if n > 0:
        _from_flat[blocks(n), THREADS](kind, src, so, ss, dst, do, ds, n)


def to_float32_nd(kind, src, so, sst, dst, do, dst_strides, shape):
    n = int(np.prod(np.asarray(shape, dtype=np.int64)))
    if n > 0:
        _to_nd[blocks(n), THREADS](kind, src, so, meta(sst), dst, do, meta(dst_strides), meta(shape), n)


def from_float32_nd(kind, src, so, sst, dst, do, dst_strides, shape):
    n = int(np.prod(np.asarray(shape, dtype=np.int64)))
    if n > 0:
        _from_nd[blocks(n), THREADS](kind, src, so, meta(sst), dst, do, meta(dst_strides), meta(shape), n)


# a launch is always parallel on the GPU
to_float32_flat_par = to_float32_flat
from_float32_flat_par = from_float32_flat
to_float32_nd_par = to_float32_nd
from_float32_nd_par = from_float32_nd
