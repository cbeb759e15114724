"""CUDA elementwise kernels: unary, predicate, binary, compare, where and copy/cast.

Same functions and arguments as ``kernels/cpu/elementwise.py``. Every kernel is a 1-D grid-stride loop with one
thread per output element:

* ``*_flat``: element ``k`` reads each operand at ``offset + k * stride`` (stride 0 broadcasts a scalar).
* ``*_nd``: element ``k`` is decoded into a storage offset per operand with one divmod chain over the collapsed
  shape (the shape and strides are copied to the device with the launch).

The op code selects the maths inside the loop; it is the same for every thread of a launch, so the switch is a
uniform branch. The per-op expressions are those of the CPU ``_*_row`` functions, so integer division, remainder,
power and NaN rules come out the same (Numba lowers them with the same NumPy error model on both targets).
"""
import math

import numpy as np
from numba import cuda

from ._grid import SIM, THREADS, blocks, meta

if SIM:
    # the simulator runs this file as Python, where math.* raises on NaN, inf and domain errors and math.floor
    # returns an int; NumPy's scalar functions behave as the GPU's math library does
    _exp, _log, _log1p, _expm1, _sqrt = np.exp, np.log, np.log1p, np.expm1, np.sqrt
    _sin, _cos, _tan, _tanh, _sinh, _cosh = np.sin, np.cos, np.tan, np.tanh, np.sinh, np.cosh
    _atan, _asin, _acos, _atan2 = np.arctan, np.arcsin, np.arccos, np.arctan2
    _floor, _ceil, _trunc, _rint = np.floor, np.ceil, np.trunc, np.rint
    _log2, _log10, _exp2 = np.log2, np.log10, np.exp2
    _fmod, _copysign = np.fmod, np.copysign
else:
    from numba.cuda import libdevice

    _exp, _log, _log1p, _expm1, _sqrt = math.exp, math.log, math.log1p, math.expm1, math.sqrt
    _sin, _cos, _tan, _tanh, _sinh, _cosh = math.sin, math.cos, math.tan, math.tanh, math.sinh, math.cosh
    _atan, _asin, _acos, _atan2 = math.atan, math.asin, math.acos, math.atan2
    _floor, _ceil, _trunc, _rint = math.floor, math.ceil, math.trunc, libdevice.rint  # float in, float out on CUDA
    _log2, _log10, _exp2 = math.log2, math.log10, libdevice.exp2
    _fmod, _copysign = math.fmod, math.copysign


# ---------------------------------------------------------------------------------------------------------------
# per-element maths (each branch stores, so an op's result type never leaks into another op's)
# ---------------------------------------------------------------------------------------------------------------
@cuda.jit(device=True)
def _sigmoid(x):
    if x >= 0:
        return 1.0 / (1.0 + _exp(-x))
    z = _exp(x)
    return z / (1.0 + z)


@cuda.jit(device=True)
def _unary(op, x, out, k):
    if op == 0:
        out[k] = -x
    elif op == 1:
        out[k] = abs(x)
    elif op == 2:
        out[k] = int(x > 0) - int(x < 0)  # 0 for NaN, as torch.sign
    elif op == 3:
        out[k] = _exp(x)
    elif op == 4:
        out[k] = _log(x)
    elif op == 5:
        out[k] = _log1p(x)
    elif op == 6:
        out[k] = _expm1(x)
    elif op == 7:
        out[k] = _sqrt(x)
    elif op == 8:
        out[k] = 1 / _sqrt(x)
    elif op == 9:
        out[k] = _sin(x)
    elif op == 10:
        out[k] = _cos(x)
    elif op == 11:
        out[k] = _tanh(x)
    elif op == 12:
        out[k] = _sigmoid(x)
    elif op == 13:
        out[k] = x if (x > 0 or x != x) else 0  # NaN propagates, as in torch.relu
    elif op == 14:
        out[k] = 1 / x
    elif op == 15:
        out[k] = _floor(x)
    elif op == 16:
        out[k] = _ceil(x)
    elif op == 17:
        out[k] = _rint(x)
    elif op == 18:
        out[k] = _trunc(x)
    elif op == 19:
        out[k] = x * x
    elif op == 20:
        out[k] = math.erf(x)
    elif op == 21:
        out[k] = _log2(x)
    elif op == 22:
        out[k] = _exp2(x)
    elif op == 23:
        out[k] = _tan(x)
    elif op == 24:
        out[k] = _atan(x)
    elif op == 25:
        out[k] = _asin(x)
    elif op == 26:
        out[k] = _acos(x)
    elif op == 27:
        out[k] = _sinh(x)
    elif op == 28:
        out[k] = _cosh(x)
    elif op == 29:
        out[k] = x - _trunc(x)
    elif op == 30:
        out[k] = _log10(x)
    elif op == 31:
        out[k] = 0.5 * x * (1.0 + _tanh(0.7978845608028654 * (x + 0.044715 * x * x * x)))


@cuda.jit(device=True)
def _predicate(op, x, out, k):
    if op == 0:
        out[k] = x != x
    elif op == 1:
        out[k] = x * 0 == 0  # false for NaN and +-inf, true for every integer and bool
    elif op == 2:
        out[k] = x == 0
    elif op == 3:
        out[k] = (x == x) and (x * 0 != 0)
    elif op == 4:
        out[k] = _copysign(1.0, x) < 0
    elif op == 5:
        out[k] = x != 0


@cuda.jit(device=True)
def _binary(op, x, y, isf, out, k):
    if op == 0:
        out[k] = x + y
    elif op == 1:
        out[k] = x - y
    elif op == 2:
        out[k] = x * y
    elif op == 3:
        out[k] = x / y
    elif op == 4:
        out[k] = x // y
    elif op == 5:
        out[k] = x % y  # Python's sign-of-divisor rule
    elif op == 6:
        out[k] = _sqrt(x) if isf and y == 0.5 else x ** y  # (pow(x, 0.5) is a square root, as PyTorch's)
    elif op == 7:
        out[k] = x if (x > y or x != x) else y
    elif op == 8:
        out[k] = x if (x < y or x != x) else y
    elif op == 9:
        out[k] = _atan2(x, y)
    elif op == 10:
        if isf:
            out[k] = _fmod(x, y)
        else:
            # integer fmod takes the dividend's sign; going through a double would lose int64 precision
            r = x % y
            if r != 0 and (r < 0) != (x < 0):
                r = r - y
            out[k] = r
    elif op == 11:
        out[k] = y - x
    elif op == 12:
        out[k] = _copysign(x, y)


@cuda.jit(device=True)
def _compare(op, x, y, out, k):
    if op == 0:
        out[k] = x == y
    elif op == 1:
        out[k] = x != y
    elif op == 2:
        out[k] = x < y
    elif op == 3:
        out[k] = x <= y
    elif op == 4:
        out[k] = x > y
    elif op == 5:
        out[k] = x >= y
    elif op == 6:
        out[k] = (x != 0) and (y != 0)
    elif op == 7:
        out[k] = (x != 0) or (y != 0)
    elif op == 8:
        out[k] = (x != 0) != (y != 0)


# ---------------------------------------------------------------------------------------------------------------
# kernels
# ---------------------------------------------------------------------------------------------------------------
@cuda.jit
def _unary_flat(op, a, ao, sa, out, n):
    for k in range(cuda.grid(1), n, cuda.gridsize(1)):
        _unary(op, a[ao + k * sa], out, k)


@cuda.jit
def _unary_nd(op, a, ao, ast, out, shape, n):
    for k in range(cuda.grid(1), n, cuda.gridsize(1)):
        ia = ao
        rem = k
        for d in range(shape.size - 1, -1, -1):
            q = rem // shape[d]
            ia += (rem - q * shape[d]) * ast[d]
            rem = q
        _unary(op, a[ia], out, k)


@cuda.jit
def _predicate_flat(op, a, ao, sa, out, n):
    for k in range(cuda.grid(1), n, cuda.gridsize(1)):
        _predicate(op, a[ao + k * sa], out, k)


@cuda.jit
def _predicate_nd(op, a, ao, ast, out, shape, n):
    for k in range(cuda.grid(1), n, cuda.gridsize(1)):
        ia = ao
        rem = k
        for d in range(shape.size - 1, -1, -1):
            q = rem // shape[d]
            ia += (rem - q * shape[d]) * ast[d]
            rem = q
        _predicate(op, a[ia], out, k)


@cuda.jit(device=True)
def _pair_offsets(k, shape, ao, ast, bo, bst):
    """Storage offsets of output element k in two strided operands (one divmod chain, shared by both)."""
    ia = ao
    ib = bo
    rem = k
    for d in range(shape.size - 1, -1, -1):
        q = rem // shape[d]
        j = rem - q * shape[d]
        ia += j * ast[d]
        ib += j * bst[d]
        rem = q
    return ia, ib


@cuda.jit
def _binary_flat(op, a, ao, sa, b, bo, sb, isf, out, n):
    for k in range(cuda.grid(1), n, cuda.gridsize(1)):
        _binary(op, a[ao + k * sa], b[bo + k * sb], isf, out, k)


@cuda.jit
def _binary_nd(op, a, ao, ast, b, bo, bst, isf, out, shape, n):
    for k in range(cuda.grid(1), n, cuda.gridsize(1)):
        ia, ib = _pair_offsets(k, shape, ao, ast, bo, bst)
        _binary(op, a[ia], b[ib], isf, out, k)


@cuda.jit(device=True)
def _bitwise(op, x, y, bits, out, k):
    if op == 0:
        out[k] = x & y
    elif op == 1:
        out[k] = x | y
    elif op == 2:
        out[k] = x ^ y
    elif op == 3:
        out[k] = x << y if 0 <= y < bits else 0
    else:
        out[k] = x >> y if 0 <= y < bits else (x >> (bits - 1) if x < 0 else 0)


@cuda.jit
def _bitwise_flat(op, a, ao, sa, b, bo, sb, bits, out, n):
    for k in range(cuda.grid(1), n, cuda.gridsize(1)):
        _bitwise(op, a[ao + k * sa], b[bo + k * sb], bits, out, k)


@cuda.jit
def _bitwise_nd(op, a, ao, ast, b, bo, bst, bits, out, shape, n):
    for k in range(cuda.grid(1), n, cuda.gridsize(1)):
        ia, ib = _pair_offsets(k, shape, ao, ast, bo, bst)
        _bitwise(op, a[ia], b[ib], bits, out, k)


@cuda.jit
def _compare_flat(op, a, ao, sa, b, bo, sb, out, n):
    for k in range(cuda.grid(1), n, cuda.gridsize(1)):
        _compare(op, a[ao + k * sa], b[bo + k * sb], out, k)


@cuda.jit
def _compare_nd(op, a, ao, ast, b, bo, bst, out, shape, n):
    for k in range(cuda.grid(1), n, cuda.gridsize(1)):
        ia, ib = _pair_offsets(k, shape, ao, ast, bo, bst)
        _compare(op, a[ia], b[ib], out, k)


@cuda.jit
def _where_nd(c, co, cst, a, ao, ast, b, bo, bst, out, shape, n):
    for k in range(cuda.grid(1), n, cuda.gridsize(1)):
        ic = co
        ia = ao
        ib = bo
        rem = k
        for d in range(shape.size - 1, -1, -1):
            q = rem // shape[d]
            j = rem - q * shape[d]
            ic += j * cst[d]
            ia += j * ast[d]
            ib += j * bst[d]
            rem = q
        out[k] = a[ia] if c[ic] else b[ib]


@cuda.jit
def _copy_flat(src, so, ss, dst, do, ds, n):
    for k in range(cuda.grid(1), n, cuda.gridsize(1)):
        dst[do + k * ds] = src[so + k * ss]


@cuda.jit
def _copy_nd(src, so, sst, dst, do, dst_strides, shape, n):
    for k in range(cuda.grid(1), n, cuda.gridsize(1)):
        i = so
        j = do
        rem = k
        for d in range(shape.size - 1, -1, -1):
            q = rem // shape[d]
            m = rem - q * shape[d]
            i += m * sst[d]
            j += m * dst_strides[d]
            rem = q
        dst[j] = src[i]


# ---------------------------------------------------------------------------------------------------------------
# launchers (CPU signatures)
# ---------------------------------------------------------------------------------------------------------------
def _is_float(arr):
    return arr.dtype.kind == "f"


def unary_flat(op, a, ao, sa, out, n):
    if n > 0:
        _unary_flat[blocks(n), THREADS](op, a, ao, sa, out, n)


def unary_nd(op, a, ao, ast, out, shape):
    n = out.size
    if n > 0:
        _unary_nd[blocks(n), THREADS](op, a, ao, meta(ast), out, meta(shape), n)


def predicate_flat(op, a, ao, sa, out, n):
    if n > 0:
        _predicate_flat[blocks(n), THREADS](op, a, ao, sa, out, n)


def predicate_nd(op, a, ao, ast, out, shape):
    n = out.size
    if n > 0:
        _predicate_nd[blocks(n), THREADS](op, a, ao, meta(ast), out, meta(shape), n)


def binary_flat(op, a, ao, sa, b, bo, sb, out, n):
    if n > 0:
        _binary_flat[blocks(n), THREADS](op, a, ao, sa, b, bo, sb, _is_float(out), out, n)


def binary_nd(op, a, ao, ast, b, bo, bst, out, shape):
    n = out.size
    if n > 0:
        _binary_nd[blocks(n), THREADS](op, a, ao, meta(ast), b, bo, meta(bst), _is_float(out), out, meta(shape), n)


def compare_flat(op, a, ao, sa, b, bo, sb, out, n):
    if n > 0:
        _compare_flat[blocks(n), THREADS](op, a, ao, sa, b, bo, sb, out, n)


def compare_nd(op, a, ao, ast, b, bo, bst, out, shape):
    n = out.size
    if n > 0:
        _compare_nd[blocks(n), THREADS](op, a, ao, meta(ast), b, bo, meta(bst), out, meta(shape), n)


def bitwise_flat(op, a, ao, sa, b, bo, sb, out, n):
    """Integer bitwise and/or/xor and shifts (opcodes.BITWISE)."""
    if n > 0:
        _bitwise_flat[blocks(n), THREADS](op, a, ao, sa, b, bo, sb, out.dtype.itemsize * 8, out, n)


def bitwise_nd(op, a, ao, ast, b, bo, bst, out, shape):
    n = out.size
    if n > 0:
        _bitwise_nd[blocks(n), THREADS](op, a, ao, meta(ast), b, bo, meta(bst), out.dtype.itemsize * 8, out,
                                        meta(shape), n)


def where_nd(c, co, cst, a, ao, ast, b, bo, bst, out, shape):
    n = out.size
    if n > 0:
        _where_nd[blocks(n), THREADS](c, co, meta(cst), a, ao, meta(ast), b, bo, meta(bst), out, meta(shape), n)


def copy_nd(src, so, sst, dst, do, dst_strides, shape):
    """dst[view] = src[view] with a cast to dst's dtype (bool targets are handled by the launcher)."""
    n = int(np.prod(np.asarray(shape, dtype=np.int64)))
    if n > 0:
        _copy_nd[blocks(n), THREADS](src, so, meta(sst), dst, do, meta(dst_strides), meta(shape), n)


def copy_flat(src, so, ss, dst, do, ds, n):
    if n > 0:
        _copy_flat[blocks(n), THREADS](src, so, ss, dst, do, ds, n)


# a launch is always parallel on the GPU
unary_flat_par = unary_flat
unary_nd_par = unary_nd
predicate_flat_par = predicate_flat
predicate_nd_par = predicate_nd
binary_flat_par = binary_flat


def binary_inplace_flat(op, x, xo, b, bo, sb, n):
    """x[xo:xo + n] = x[xo:xo + n] <op> b, in place: the generic kernel (the CPU has its own for vectorization)."""
    if n > 0:
        binary_flat(op, x, xo, 1, b, bo, sb, x[xo:xo + n], n)


binary_inplace_flat_par = binary_inplace_flat


def clamp_flat(x, xo, lo, lo_o, hi, hi_o, out, oo, n):
    """out[oo:oo + n] = minimum(maximum(x[xo:], lo[lo_o]), hi[hi_o]): two launches of the generic kernel."""
    if n > 0:
        o = out[oo:oo + n]
        binary_flat(7, x, xo, 1, lo, lo_o, 0, o, n)
        binary_flat(8, o, 0, 1, hi, hi_o, 0, o, n)


clamp_flat_par = clamp_flat
def binary_rows(op, x, xo, row, ro, row_left, out, rows, cols):
    """out[r, :] = x[r, :] <op> row (or row <op> x[r, :]): the generic nd kernel over (rows, cols)."""
    shape = np.array([rows, cols], np.int64)
    full, bcast = np.array([cols, 1], np.int64), np.array([0, 1], np.int64)
    if row_left:
        binary_nd(op, row, ro, bcast, x, xo, full, out, shape)
    else:
        binary_nd(op, x, xo, full, row, ro, bcast, out, shape)


binary_rows_par = binary_rows
copy_transposed = copy_nd  # the CPU tiles transposed copies for its caches; the device's generic kernel does
copy_transposed_par = copy_nd
binary_flat_stream_par = binary_flat  # the CPU's non-temporal-store variant: never chosen on the device
STREAM_BYTES = 1 << 62
STREAMED = frozenset()
binary_nd_par = binary_nd
compare_flat_par = compare_flat
compare_nd_par = compare_nd
bitwise_flat_par = bitwise_flat
bitwise_nd_par = bitwise_nd
where_nd_par = where_nd
copy_nd_par = copy_nd
copy_flat_par = copy_flat
