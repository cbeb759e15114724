"""16-bit float conversions: float16 (IEEE binary16) and bfloat16 bit patterns <-> float32 bit patterns.

Numba's CPU target has no 16-bit float type, so a half tensor's storage holds its bit patterns as uint16 and every
computation on it runs in float32: the launcher converts operands with ``to_float32_*`` (float16 by the CPU's
conversion instruction, see ``HALF_HARDWARE``, else through a 65536-entry table; bfloat16 by a shift) and rounds
results back with ``from_float32_*``. The float32 side is always passed as its uint32 view. ``kind`` is 0 for
float16 and 1 for bfloat16.

Rounding is to nearest, ties to even, as PyTorch's conversions: float16 keeps subnormals, overflows to inf and
turns NaN into a quiet NaN with the sign kept (and, by the hardware conversion below, the top 10 payload bits, as
PyTorch's; 0x7e00 | sign by the bit operations); bfloat16 keeps the top 16 bits of the float32 with
the low half rounded away, and NaN becomes the canonical quiet NaN 0x7fc0.
"""
import numpy as np
from numba import njit, prange

from ._intrinsics import f16_narrow as _f16_narrow
from ._intrinsics import f16_widen as _f16_widen
from ._intrinsics import f32_bits as _f32_bits
from ._intrinsics import f32_from_bits as _f32_from_bits
from ._intrinsics import half_hardware

# float16 conversions by the CPU's own instructions (F16C's vcvtps2ph/vcvtph2ps on x86-64, AArch64's fcvt), which
# LLVM vectorizes: 1M float32 -> float16 (as a launch: allocation included) took 233 us by the bit operations
# below and 55 us so (PyTorch 39), float16 -> float32 308 us by the table and 56 us so (PyTorch 41). Rounding is the same (to nearest, ties to even); NaN payloads
# are the hardware's (a NaN keeps its sign and top payload bits and comes out quiet), as in PyTorch's vectorized
# conversions. A compile-time constant of the kernels: False where LLVM would need a runtime helper instead.
HALF_HARDWARE = half_hardware()

CHUNK = 16384


_HALF_MAGIC = np.float32(0.5)  # bits (126 << 23): adding it puts a float16 subnormal's mantissa in the low bits


@njit(cache=True, inline="always")
def f32_to_f16_bits(x):
    """float32 bits (an int) -> float16 bits, rounding to nearest even: the CPU's instruction where it has one
    (``HALF_HARDWARE``), else ``_f16_bits_soft``."""
    if HALF_HARDWARE:
        return np.int64(_f16_narrow(_f32_from_bits(np.int32(x))))
    return _f16_bits_soft(x)


@njit(cache=True, inline="always")
def _f16_bits_soft(x):
    """float32 bits (an int) -> float16 bits, rounding to nearest even, without branches (every case is computed
    and one selected, so a loop over it vectorizes: 3.6x faster than the branchy form, and identical to it on all
    2**32 patterns). Normal results: the exponent rebiased and the mantissa rounded by adding 0xfff plus its last
    kept bit (a carry into the exponent is right, up to inf); subnormal results: a float32 addition of 0.5, whose
    own round-to-nearest-even aligns the mantissa; |x| >= 2**16 gives inf, NaN the quiet NaN 0x7e00, sign kept."""
    sign = (x >> 16) & 0x8000
    a = x & 0x7fffffff
    normal = (a + (((15 - 127) << 23) + 0xfff) + ((a >> 13) & 1)) >> 13
    sub = np.int64(_f32_bits(_f32_from_bits(np.int32(a)) + _HALF_MAGIC)) - (126 << 23)
    special = 0x7e00 if a > 0x7f800000 else 0x7c00
    return sign | (special if a >= (143 << 23) else (sub if a < (113 << 23) else normal))


@njit(cache=True, inline="always")
def f32_to_bf16_bits(x):
    """float32 bits -> bfloat16 bits, rounding to nearest even."""
    if (x & 0x7fffffff) > 0x7f800000:
        return 0x7fc0
    return (x + 0x7fff + ((x >> 16) & 1)) >> 16


def _f16_table():
    """float32 bits of every float16 bit pattern: widening a float16 is one table load."""
    h = np.arange(65536, dtype=np.uint16)
    with np.errstate(all="ignore"):
        t = h.view(np.float16).astype(np.float32).view(np.uint32).copy()
    nan = (h & 0x7c00) == 0x7c00
    t[nan] = ((h[nan].astype(np.uint32) & 0x8000) << 16) | 0x7f800000 | ((h[nan].astype(np.uint32) & 0x3ff) << 13)
    return t


F16_TO_F32 = _f16_table()  # tests/test_half.py checks all 65536 patterns against NumPy's widening
U = np.uint64


@njit(cache=True, inline="always")
def _widen16(h, table):
    """float16 bits -> float32 bits: the hardware conversion (``HALF_HARDWARE``), else a load from ``table``
    (``F16_TO_F32``)."""
    if HALF_HARDWARE:
        return np.uint32(_f32_bits(_f16_widen(h)))
    return table[U(h)]


@njit(cache=True, inline="always")
def _to_row(kind, src, so, ss, dst, do, ds, n, table):
    if ss == 1 and ds == 1:  # contiguous: unsigned indices let LLVM drop wraparound checks and vectorise
        if kind == 0:
            for k in range(n):
                dst[U(do + k)] = _widen16(src[U(so + k)], table)
        else:
            for k in range(n):
                dst[U(do + k)] = np.uint32(src[U(so + k)]) << np.uint32(16)
        return
    if kind == 0:
        for k in range(n):
            dst[do + k * ds] = _widen16(src[so + k * ss], table)
    else:
        for k in range(n):
            dst[do + k * ds] = np.int64(src[so + k * ss]) << 16


@njit(cache=True, inline="always")
def _from_row(kind, src, so, ss, dst, do, ds, n):
    if ss == 1 and ds == 1:
        if kind == 0:
            for k in range(n):
                dst[U(do + k)] = f32_to_f16_bits(np.int64(src[U(so + k)]))
        else:
            for k in range(n):
                x = np.int64(src[U(so + k)])
                dst[U(do + k)] = f32_to_bf16_bits(x)
        return
    if kind == 0:
        for k in range(n):
            dst[do + k * ds] = f32_to_f16_bits(np.int64(src[so + k * ss]))
    else:
        for k in range(n):
            dst[do + k * ds] = f32_to_bf16_bits(np.int64(src[so + k * ss]))


@njit(cache=True, inline="always")
def _row_start(r, shape, strides, base):
    off = base
    rem = r + 0  # not `rem = r`: inlined into a prange loop, that made rem the loop index, then overwritten
    for d in range(shape.size - 2, -1, -1):
        q = rem // shape[d]
        off += (rem - q * shape[d]) * strides[d]
        rem = q
    return off


@njit(cache=True)
def to_float32_flat(kind, src, so, ss, dst, do, ds, n):
    """dst[do + k*ds] = float32 bits of src[so + k*ss] (uint16 bits of ``kind``), k < n."""
    _to_row(kind, src, so, ss, dst, do, ds, n, F16_TO_F32)


@njit(cache=True, parallel=True)
def to_float32_flat_par(kind, src, so, ss, dst, do, ds, n):
    for c in prange((n + CHUNK - 1) // CHUNK):
        lo = c * CHUNK
        _to_row(kind, src, so + lo * ss, ss, dst, do + lo * ds, ds, min(CHUNK, n - lo), F16_TO_F32)


@njit(cache=True)
def from_float32_flat(kind, src, so, ss, dst, do, ds, n):
    """dst[do + k*ds] = ``kind`` bits of the float32 bits src[so + k*ss], rounded to nearest even, k < n."""
    _from_row(kind, src, so, ss, dst, do, ds, n)


@njit(cache=True, parallel=True)
def from_float32_flat_par(kind, src, so, ss, dst, do, ds, n):
    for c in prange((n + CHUNK - 1) // CHUNK):
        lo = c * CHUNK
        _from_row(kind, src, so + lo * ss, ss, dst, do + lo * ds, ds, min(CHUNK, n - lo))


@njit(cache=True)
def to_float32_nd(kind, src, so, sst, dst, do, dst_strides, shape):
    """The strided form of ``to_float32_flat`` over any number of dims (rows walked by their last stride)."""
    last = shape.size - 1
    inner = shape[last]
    total = 1
    for d in range(shape.size):
        total *= shape[d]
    for r in range(total // inner):
        _to_row(kind, src, _row_start(r, shape, sst, so), sst[last], dst, _row_start(r, shape, dst_strides, do),
                dst_strides[last], inner, F16_TO_F32)


@njit(cache=True, parallel=True)
def to_float32_nd_par(kind, src, so, sst, dst, do, dst_strides, shape):
    last = shape.size - 1
    inner = shape[last]
    total = 1
    for d in range(shape.size):
        total *= shape[d]
    for r in prange(total // inner):
        _to_row(kind, src, _row_start(r, shape, sst, so), sst[last], dst, _row_start(r, shape, dst_strides, do),
                dst_strides[last], inner, F16_TO_F32)


@njit(cache=True)
def from_float32_nd(kind, src, so, sst, dst, do, dst_strides, shape):
    """The strided form of ``from_float32_flat``."""
    last = shape.size - 1
    inner = shape[last]
    total = 1
    for d in range(shape.size):
        total *= shape[d]
    for r in range(total // inner):
        _from_row(kind, src, _row_start(r, shape, sst, so), sst[last], dst, _row_start(r, shape, dst_strides, do),
                  dst_strides[last], inner)


@njit(cache=True, parallel=True)
def from_float32_nd_par(kind, src, so, sst, dst, do, dst_strides, shape):
    last = shape.size - 1
    inner = shape[last]
    total = 1
    for d in range(shape.size):
        total *= shape[d]
    for r in prange(total // inner):
        _from_row(kind, src, _row_start(r, shape, sst, so), sst[last], dst, _row_start(r, shape, dst_strides, do),
                  dst_strides[last], inner)
