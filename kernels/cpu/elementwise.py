"""Elementwise kernels: unary, predicate, binary, compare, where and copy/cast.

Operands arrive as flat storages with an element offset and element strides; the output is a fresh contiguous
buffer (or a contiguous slice of an existing storage for in-place ops). Two shapes of launch exist for each op
family:

* ``*_flat``: one run of ``n`` elements, each operand walked with a single stride (1 for contiguous data, 0 for
  a broadcast scalar). This is the fast path after the launcher has collapsed dimensions.
* ``*_nd``: any number of dimensions. One divmod chain per row finds the row's start; the row itself is walked
  by stride. The ``_par`` forms split the rows into ranges of about CHUNK elements (``_row_chunks``).

Each family has a serial and a ``_par`` variant: a ``prange`` launch costs ~2 us, so small tensors stay serial.
The per-op loops live in one ``_*_row`` function so that every op gets its own tight, vectorisable loop (a switch
inside the loop body would cost 2-4x). The flat kernels call it: compiled once per dtype, it serves the serial and
the threaded kernel. Only the binary and compare ``*_rows`` loops inline it at Numba's IR level, where a call per
row cost 15-25% on broadcasts with short rows; that inlining deep-copies the function's IR for every call site and
was most of these kernels' compile time (a cold ``unary_nd`` 7.7 s inlined, 3.7 s calling). Indices are cast to
unsigned so that Numba drops its negative-index wraparound check, which otherwise blocks vectorisation.
"""
import math

import numpy as np
from numba import njit, prange, types
from numba.extending import overload

from ._intrinsics import address as _address
from ._intrinsics import f64_from_bits as _f64_from_bits
from ._intrinsics import store_fence as _store_fence
from ._intrinsics import stream32 as _stream32
from .activation import _exp32
from .rnn import _tanh_f32, _tanh_f64  # libm's tanh is 4x slower than these vectorizable ones

U = np.uint64
_ONE32, _ZERO32 = np.float32(1.0), np.float32(0.0)


@njit(cache=True, inline="always")
def _I0():
    """0 as a plain int64 argument. A literal 0 passed to a (non-inlined) kernel helper types as Literal[int](0) and
    compiles a second copy of the helper beside the int64 one that the threaded and n-d callers use."""
    return np.int64(0)
CHUNK = 16384

# Flat binary outputs of at least STREAM_BYTES are written with non-temporal stores: each thread computes
# _STREAM_BLOCK bytes of output into a buffer that stays in L1 and streams it out (_stream_block), so the output's
# lines go to memory without first being read into the cache; outputs this large do not stay in the cache anyway.
# Measured on the 2-vCPU AMD EPYC, float32 a * b on both threads, best of 8, streamed / plain: 16M elements
# 3.93-4.74 / 5.03-5.77 ms, 8M 1.72 / 2.34 ms. The bound is set above the L3 (32 MB): in C, streaming won at 4M
# (0.60 / 0.77 ms) and lost at 2M (0.30 / 0.21 ms, the data hot in L3); 4M-8M was not measured in this kernel. The
# buffer must stay small: in C, 8 KB blocks were slower than plain stores, 256 B to 1 KB ones as fast as streaming
# straight from registers. Only ops cheaper than their memory traffic stream (add sub mul maximum minimum rsub
# copysign): pow or fmod would pay for the blocks and gain nothing. Unary ops do not stream: exp (compute-bound)
# lost 10% to the blocks; relu or neg (memory-bound) might gain, not measured yet.
# The launcher picks binary_flat_stream_par, a kernel of its own: as a branch of binary_flat_par it took that
# kernel's first compile from 5.5 to 21 s per dtype, which every program paid; now only one with such outputs does
# (a function called per chunk from the prange instead of inlined into it compiled faster but ran 30% slower).
STREAM_BYTES = 1 << 25
_STREAM_BLOCK = 1024
_STREAM_CHUNK = 1 << 16


STREAMED = frozenset((0, 1, 2, 7, 8, 11, 12))  # the binary op codes whose large outputs stream


@njit(cache=True, inline="always")
def _nrows(shape):
    """Rows of an nd launch: the product of every dim but the last."""
    rows = np.int64(1)  # (a literal 1 would type a one-row call's argument as Literal[int](1))
    for d in range(shape.size - 1):
        rows *= shape[d]
    return rows


@njit(cache=True, inline="always")
def _row_chunks(rows, inner):
    """How many row ranges a ``_par`` nd launch splits into: about CHUNK elements each. A prange over single rows
    costs ~100 ns per row in the parallel loop's bookkeeping (measured: a (12, 4, 64, 32) permuted copy took 380 us
    instead of 50 us on one thread), so each prange iteration walks a whole range of rows serially."""
    return max(1, min(rows, (rows * inner + CHUNK - 1) // CHUNK))


@njit(cache=True, inline="always")
def _stream_head(out, lo, hi):
    """How many of the elements lo..hi of ``out`` come before one on a 32-byte boundary (all, if none is)."""
    size = out.itemsize
    addr = _address(out) + lo * size
    if addr % size != 0:
        return hi - lo
    return min(hi - lo, ((32 - addr % 32) % 32) // size)


@njit(cache=True, inline="always")
def _stream_block(buf, out, io):
    """``out[io:io + buf.size] = buf`` with non-temporal stores: ``out``'s element ``io`` on a 32-byte boundary."""
    step = 32 // out.itemsize
    for k in range(0, buf.size, step):
        _stream32(out, io + k, buf, k)


@njit(cache=True, error_model="numpy")
def _row_start(r, shape, strides, base):
    """Storage offset of the first element of row ``r`` (all dims but the last are row dims)."""
    off = base
    rem = r
    for d in range(shape.size - 2, -1, -1):
        q = rem // shape[d]
        off += (rem - q * shape[d]) * strides[d]
        rem = q
    return off


def _fmod(x, y):
    """C's fmod: the remainder with the dividend's sign (exact for integers, where Numba's np.fmod is not)."""


@overload(_fmod)
def _fmod_impl(x, y):
    if isinstance(x, types.Integer) and isinstance(y, types.Integer):
        def impl(x, y):
            r = x % y  # Python's remainder takes the divisor's sign; move it to the dividend's
            if r != 0 and (r < 0) != (x < 0):
                r -= y
            return r
    else:
        def impl(x, y):
            return np.fmod(x, y)
    return impl


@njit(cache=True, inline="always")
def _sigmoid(x):
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


@njit(cache=True, inline="always")
def _sigmoid_f32(x):
    """sigmoid of a float32 in float32 arithmetic, as PyTorch computes it: e = e^-|x| with the float32 exp, then
    1 / (1 + e) or e / (1 + e) by a select (within 3 ulp of the exact sigmoid, PyTorch's within 2.5; twice the
    vector width of float64). e is 0 below -87, so the result is 0 for x < -87 (PyTorch's below -88.7). Compiled
    kernels call it too, so that their sigmoid gives eager mode's bits."""
    x = np.float32(x)
    e = _exp32(-abs(x))
    r = _ONE32 / (_ONE32 + e)
    return r if x >= _ZERO32 else e * r


_LOG2E = 1.4426950408889634
_LN2 = 0.6931471805599453


@njit(cache=True, inline="always")
def _exp_f32(x):
    """exp of a float32 (or of an integer, for a float32 result), computed in float64 from operations LLVM
    vectorizes, unlike a call to libm's expf (2.5-3x faster over a large tensor): x = n ln2 + r with |r| <= ln2 / 2,
    e^r by its Taylor polynomial to r**7 (relative error under 6e-9, far below float32's half ulp of 6e-8), 2**n
    from its bits (a table lookup there made the whole loop 1.35x slower). Returned in float64, to be rounded once
    to float32 by the store: results below 2**-126 become float32's subnormals and those above its maximum inf
    (beyond [-104, 89] float32's exp is 0 or inf: the argument is clamped to that range, and above it the result
    is inf). NaN passes through."""
    xd = np.float64(x)
    y = min(max(xd, -104.0), 89.0)
    n = math.floor(y * _LOG2E + 0.5)
    r = y - n * _LN2
    p = 1.0 + r * (1.0 + r * (0.5 + r * (1 / 6 + r * (1 / 24 + r * (1 / 120 + r * (1 / 720 + r * (1 / 5040)))))))
    v = p * _f64_from_bits((np.int64(n) + np.int64(1023)) << np.int64(52))  # 2**n, a normal float64
    v = v if xd <= 89.0 else np.inf  # (so that a sigmoid's 1 / (1 + e^-x) reaches 0)
    return v if xd == xd else xd


@njit(cache=True, error_model="numpy")
def _unary_row(op, a, ia, sa, out, io, n):
    if op == 0:
        for k in range(n):
            out[U(io + k)] = -a[U(ia + k * sa)]
    elif op == 1:
        for k in range(n):
            out[U(io + k)] = abs(a[U(ia + k * sa)])
    elif op == 2:
        for k in range(n):
            x = a[U(ia + k * sa)]
            out[U(io + k)] = (x > 0) - (x < 0)  # 0 for NaN, as torch.sign
    elif op == 3:
        if out.itemsize == 4:  # float32: a vectorized exp
            for k in range(n):
                out[U(io + k)] = _exp_f32(a[U(ia + k * sa)])
        else:
            for k in range(n):
                out[U(io + k)] = np.exp(a[U(ia + k * sa)])
    elif op == 4:
        for k in range(n):
            out[U(io + k)] = np.log(a[U(ia + k * sa)])
    elif op == 5:
        for k in range(n):
            out[U(io + k)] = np.log1p(a[U(ia + k * sa)])
    elif op == 6:
        for k in range(n):
            out[U(io + k)] = np.expm1(a[U(ia + k * sa)])
    elif op == 7:
        for k in range(n):
            out[U(io + k)] = np.sqrt(a[U(ia + k * sa)])
    elif op == 8:
        for k in range(n):
            out[U(io + k)] = 1 / np.sqrt(a[U(ia + k * sa)])
    elif op == 9:
        for k in range(n):
            out[U(io + k)] = np.sin(a[U(ia + k * sa)])
    elif op == 10:
        for k in range(n):
            out[U(io + k)] = np.cos(a[U(ia + k * sa)])
    elif op == 11:
        if out.itemsize == 4:  # float32 arithmetic: twice the vector width
            for k in range(n):
                out[U(io + k)] = _tanh_f32(np.float32(a[U(ia + k * sa)]))
        else:
            for k in range(n):
                out[U(io + k)] = _tanh_f64(a[U(ia + k * sa)])
    elif op == 12:
        if out.itemsize == 4:  # float32 arithmetic
            for k in range(n):
                out[U(io + k)] = _sigmoid_f32(a[U(ia + k * sa)])
        else:
            for k in range(n):
                out[U(io + k)] = _sigmoid(a[U(ia + k * sa)])
    elif op == 13:
        for k in range(n):
            x = a[U(ia + k * sa)]
            # NaN propagates, as in torch.relu
            out[U(io + k)] = x if (x > 0 or x != x) else 0
    elif op == 14:
        for k in range(n):
            out[U(io + k)] = 1 / a[U(ia + k * sa)]
    elif op == 15:
        for k in range(n):
            out[U(io + k)] = np.floor(a[U(ia + k * sa)])
    elif op == 16:
        for k in range(n):
            out[U(io + k)] = np.ceil(a[U(ia + k * sa)])
    elif op == 17:
        for k in range(n):
            out[U(io + k)] = np.rint(a[U(ia + k * sa)])
    elif op == 18:
        for k in range(n):
            out[U(io + k)] = np.trunc(a[U(ia + k * sa)])
    elif op == 19:
        for k in range(n):
            x = a[U(ia + k * sa)]
            out[U(io + k)] = x * x
    elif op == 20:
        for k in range(n):
            out[U(io + k)] = math.erf(a[U(ia + k * sa)])
    elif op == 21:
        for k in range(n):
            out[U(io + k)] = np.log2(a[U(ia + k * sa)])
    elif op == 22:
        for k in range(n):
            out[U(io + k)] = np.exp2(a[U(ia + k * sa)])
    elif op == 23:
        for k in range(n):
            out[U(io + k)] = np.tan(a[U(ia + k * sa)])
    elif op == 24:
        for k in range(n):
            out[U(io + k)] = np.arctan(a[U(ia + k * sa)])
    elif op == 25:
        for k in range(n):
            out[U(io + k)] = np.arcsin(a[U(ia + k * sa)])
    elif op == 26:
        for k in range(n):
            out[U(io + k)] = np.arccos(a[U(ia + k * sa)])
    elif op == 27:
        for k in range(n):
            out[U(io + k)] = np.sinh(a[U(ia + k * sa)])
    elif op == 28:
        for k in range(n):
            out[U(io + k)] = np.cosh(a[U(ia + k * sa)])
    elif op == 29:
        for k in range(n):
            x = a[U(ia + k * sa)]
            out[U(io + k)] = x - np.trunc(x)
    elif op == 30:
        for k in range(n):
            out[U(io + k)] = np.log10(a[U(ia + k * sa)])
    elif op == 31:
        for k in range(n):
            x = a[U(ia + k * sa)]
            out[U(io + k)] = 0.5 * x * (1.0 + _tanh_f64(0.7978845608028654 * (x + 0.044715 * x * x * x)))


@njit(cache=True, error_model="numpy")
def _predicate_row(op, a, ia, sa, out, io, n):
    if op == 0:
        for k in range(n):
            x = a[U(ia + k * sa)]
            out[U(io + k)] = x != x
    elif op == 1:
        for k in range(n):
            x = a[U(ia + k * sa)]
            out[U(io + k)] = (x == x) and (x - x == 0)
    elif op == 2:
        for k in range(n):
            out[U(io + k)] = a[U(ia + k * sa)] == 0
    elif op == 3:
        for k in range(n):
            x = a[U(ia + k * sa)]
            out[U(io + k)] = (x == x) and (x - x != 0)
    elif op == 4:
        for k in range(n):
            out[U(io + k)] = np.signbit(a[U(ia + k * sa)])
    elif op == 5:
        for k in range(n):
            out[U(io + k)] = a[U(ia + k * sa)] != 0


@njit(cache=True, inline="always", error_model="numpy")
def _binary_row_scalar(op, a, ia, sa, y, out, io, n):
    """out[io + k] = a[ia + k*sa] <op> y for +, -, *, / and reversed - (op 11: y - a)."""
    if op == 0:
        for k in range(n):
            out[U(io + k)] = a[U(ia + k * sa)] + y
    elif op == 1:
        for k in range(n):
            out[U(io + k)] = a[U(ia + k * sa)] - y
    elif op == 2:
        for k in range(n):
            out[U(io + k)] = a[U(ia + k * sa)] * y
    elif op == 3:
        for k in range(n):
            out[U(io + k)] = a[U(ia + k * sa)] / y
    else:
        for k in range(n):
            out[U(io + k)] = y - a[U(ia + k * sa)]


@njit(cache=True, error_model="numpy")
def _maxmin_row_scalar(is_max, v, left, a, ia, sa, out, io, n):
    """maximum (``is_max``) or minimum of a scalar ``v`` and a[ia + k*sa]; ``left``: v is the left operand. Each
    side keeps its place: which of two equal values (0.0 and -0.0) comes out depends on it. Called, not inlined
    into the binary kernels' row loops (their compile time grows with every loop inlined)."""
    if is_max and left:
        for k in range(n):
            y = a[U(ia + k * sa)]
            out[U(io + k)] = v if (v > y or v != v) else y
    elif is_max:
        for k in range(n):
            x = a[U(ia + k * sa)]
            out[U(io + k)] = x if (x > v or x != x) else v
    elif left:
        for k in range(n):
            y = a[U(ia + k * sa)]
            out[U(io + k)] = v if (v < y or v != v) else y
    else:
        for k in range(n):
            x = a[U(ia + k * sa)]
            out[U(io + k)] = x if (x < v or x != x) else v


def _binary_row_py(op, a, ia, sa, b, ib, sb, out, io, n):
    if (sb == 0 or sa == 0) and (op == 7 or op == 8):
        # maximum / minimum with one side a scalar (clamp, relu6, hardtanh): read it once, as below
        if sb == 0:
            _maxmin_row_scalar(op == 7, b[U(ib)], np.bool_(False), a, ia, sa, out, io, n)
        else:
            _maxmin_row_scalar(op == 7, a[U(ia)], np.bool_(True), b, ib, sb, out, io, n)
        return
    if (sb == 0 or sa == 0) and (op <= 3 or op == 11):
        # one operand broadcast (x * 0.5, 1 - x): read it once, so the loop over the other operand vectorizes (a
        # stride-0 load inside the loop defeats LLVM's stride-1 loop versioning: 2x slower on 2M float32). A
        # broadcast left operand swaps sides: + and * commute, - and reversed - trade places; / has its own loop
        if sb == 0:
            _binary_row_scalar(op, a, ia, sa, b[U(ib)], out, io, n)
        elif op == 3:
            x = a[U(ia)]
            for k in range(n):
                out[U(io + k)] = x / b[U(ib + k * sb)]
        else:
            _binary_row_scalar(11 if op == 1 else 1 if op == 11 else op, b, ib, sb, a[U(ia)], out, io, n)
        return
    if op == 0:
        for k in range(n):
            out[U(io + k)] = a[U(ia + k * sa)] + b[U(ib + k * sb)]
    elif op == 1:
        for k in range(n):
            out[U(io + k)] = a[U(ia + k * sa)] - b[U(ib + k * sb)]
    elif op == 2:
        for k in range(n):
            out[U(io + k)] = a[U(ia + k * sa)] * b[U(ib + k * sb)]
    elif op == 3:
        for k in range(n):
            out[U(io + k)] = a[U(ia + k * sa)] / b[U(ib + k * sb)]
    elif op == 4:
        for k in range(n):
            out[U(io + k)] = a[U(ia + k * sa)] // b[U(ib + k * sb)]
    elif op == 5:
        for k in range(n):
            out[U(io + k)] = a[U(ia + k * sa)] % b[U(ib + k * sb)]  # Python's sign-of-divisor rule
    elif op == 6:
        # a scalar exponent of 2 or 3 is products (as PyTorch computes them): a generic pow per element is several
        # times slower and vectorizes worse
        e = b[U(ib)]
        if sb == 0 and e == 2:
            for k in range(n):
                x = a[U(ia + k * sa)]
                out[U(io + k)] = x * x
        elif sb == 0 and e == 3:
            for k in range(n):
                x = a[U(ia + k * sa)]
                out[U(io + k)] = x * x * x
        elif sb == 0 and e == 0.5:  # a square root, as PyTorch's (pow(-inf, 0.5) is nan, pow(-0.0, 0.5) is -0.0)
            for k in range(n):
                out[U(io + k)] = np.sqrt(a[U(ia + k * sa)])
        else:
            for k in range(n):
                out[U(io + k)] = a[U(ia + k * sa)] ** b[U(ib + k * sb)]
    elif op == 7:
        for k in range(n):
            x = a[U(ia + k * sa)]
            y = b[U(ib + k * sb)]
            out[U(io + k)] = x if (x > y or x != x) else y
    elif op == 8:
        for k in range(n):
            x = a[U(ia + k * sa)]
            y = b[U(ib + k * sb)]
            out[U(io + k)] = x if (x < y or x != x) else y
    elif op == 9:
        for k in range(n):
            out[U(io + k)] = np.arctan2(a[U(ia + k * sa)], b[U(ib + k * sb)])
    elif op == 10:
        for k in range(n):
            out[U(io + k)] = _fmod(a[U(ia + k * sa)], b[U(ib + k * sb)])
    elif op == 11:
        for k in range(n):
            out[U(io + k)] = b[U(ib + k * sb)] - a[U(ia + k * sa)]
    elif op == 12:
        for k in range(n):
            out[U(io + k)] = np.copysign(a[U(ia + k * sa)], b[U(ib + k * sb)])


_binary_row = njit(cache=True, error_model="numpy")(_binary_row_py)
_binary_row_inlined = njit(cache=True, inline="always", error_model="numpy")(_binary_row_py)


@njit(cache=True, inline="always", error_model="numpy")
def _compare_row_scalar(op, a, ia, sa, y, out, io, n):
    """out[io + k] = a[ia + k*sa] <op> y for the six comparisons."""
    if op == 0:
        for k in range(n):
            out[U(io + k)] = a[U(ia + k * sa)] == y
    elif op == 1:
        for k in range(n):
            out[U(io + k)] = a[U(ia + k * sa)] != y
    elif op == 2:
        for k in range(n):
            out[U(io + k)] = a[U(ia + k * sa)] < y
    elif op == 3:
        for k in range(n):
            out[U(io + k)] = a[U(ia + k * sa)] <= y
    elif op == 4:
        for k in range(n):
            out[U(io + k)] = a[U(ia + k * sa)] > y
    else:
        for k in range(n):
            out[U(io + k)] = a[U(ia + k * sa)] >= y


def _compare_row_py(op, a, ia, sa, b, ib, sb, out, io, n):
    if op <= 5 and (sb == 0 or sa == 0):
        # one side broadcast (x > 0, rand >= p): read it once, so the loop over the other side vectorizes; a
        # broadcast left side compares the right side with the mirrored op (a < b is b > a, NaN false both ways)
        if sb == 0:
            _compare_row_scalar(op, a, ia, sa, b[U(ib)], out, io, n)
        else:  # (no tuple lookup for the mirror: inside a prange its failure path fired for ops it never took)
            m = op
            if op == 2 or op == 3:
                m = op + 2
            elif op == 4 or op == 5:
                m = op - 2
            _compare_row_scalar(m, b, ib, sb, a[U(ia)], out, io, n)
        return
    if op == 0:
        for k in range(n):
            out[U(io + k)] = a[U(ia + k * sa)] == b[U(ib + k * sb)]
    elif op == 1:
        for k in range(n):
            out[U(io + k)] = a[U(ia + k * sa)] != b[U(ib + k * sb)]
    elif op == 2:
        for k in range(n):
            out[U(io + k)] = a[U(ia + k * sa)] < b[U(ib + k * sb)]
    elif op == 3:
        for k in range(n):
            out[U(io + k)] = a[U(ia + k * sa)] <= b[U(ib + k * sb)]
    elif op == 4:
        for k in range(n):
            out[U(io + k)] = a[U(ia + k * sa)] > b[U(ib + k * sb)]
    elif op == 5:
        for k in range(n):
            out[U(io + k)] = a[U(ia + k * sa)] >= b[U(ib + k * sb)]
    elif op == 6:
        for k in range(n):
            out[U(io + k)] = (a[U(ia + k * sa)] != 0) and (b[U(ib + k * sb)] != 0)
    elif op == 7:
        for k in range(n):
            out[U(io + k)] = (a[U(ia + k * sa)] != 0) or (b[U(ib + k * sb)] != 0)
    elif op == 8:
        for k in range(n):
            out[U(io + k)] = (a[U(ia + k * sa)] != 0) != (b[U(ib + k * sb)] != 0)


_compare_row = njit(cache=True, error_model="numpy")(_compare_row_py)
_compare_row_inlined = njit(cache=True, inline="always", error_model="numpy")(_compare_row_py)


# ---------------------------------------------------------------------------------------------------------------
# unary (same dtype out) and predicate (bool out)
# ---------------------------------------------------------------------------------------------------------------
@njit(cache=True, error_model="numpy")
def unary_flat(op, a, ao, sa, out, n):
    _unary_row(op, a, ao, sa, out, _I0(), n)


@njit(cache=True, parallel=True, error_model="numpy")
def unary_flat_par(op, a, ao, sa, out, n):
    for c in prange((n + CHUNK - 1) // CHUNK):
        lo = c * CHUNK
        _unary_row(op, a, ao + lo * sa, sa, out, lo, min(CHUNK, n - lo))


@njit(cache=True, error_model="numpy")
def _unary_rows(op, a, ao, ast, out, shape, r0, r1):
    last = shape.size - 1
    inner = shape[last]
    d = last - 1  # the fastest row dim: consecutive rows step by its strides, a carry recomputes the starts
    k = r0 % shape[d] if d >= 0 else 0
    o0 = _row_start(r0, shape, ast, ao)
    for r in range(r0, r1):
        _unary_row(op, a, o0, ast[shape.size - 1], out, r * inner, inner)
        k += 1
        if d >= 0 and k < shape[d]:
            o0 += ast[d]
        else:
            k = 0
            o0 = _row_start(r + 1, shape, ast, ao)


@njit(cache=True, error_model="numpy")
def unary_nd(op, a, ao, ast, out, shape):
    _unary_rows(op, a, ao, ast, out, shape, _I0(), _nrows(shape))


@njit(cache=True, parallel=True, error_model="numpy")
def unary_nd_par(op, a, ao, ast, out, shape):
    rows = _nrows(shape)
    nch = _row_chunks(rows, shape[shape.size - 1])
    for ch in prange(nch):
        _unary_rows(op, a, ao, ast, out, shape, ch * rows // nch, (ch + 1) * rows // nch)


@njit(cache=True, error_model="numpy")
def predicate_flat(op, a, ao, sa, out, n):
    _predicate_row(op, a, ao, sa, out, _I0(), n)


@njit(cache=True, parallel=True, error_model="numpy")
def predicate_flat_par(op, a, ao, sa, out, n):
    for c in prange((n + CHUNK - 1) // CHUNK):
        lo = c * CHUNK
        _predicate_row(op, a, ao + lo * sa, sa, out, lo, min(CHUNK, n - lo))


@njit(cache=True, error_model="numpy")
def _predicate_rows(op, a, ao, ast, out, shape, r0, r1):
    last = shape.size - 1
    inner = shape[last]
    d = last - 1  # the fastest row dim: consecutive rows step by its strides, a carry recomputes the starts
    k = r0 % shape[d] if d >= 0 else 0
    o0 = _row_start(r0, shape, ast, ao)
    for r in range(r0, r1):
        _predicate_row(op, a, o0, ast[shape.size - 1], out, r * inner, inner)
        k += 1
        if d >= 0 and k < shape[d]:
            o0 += ast[d]
        else:
            k = 0
            o0 = _row_start(r + 1, shape, ast, ao)


@njit(cache=True, error_model="numpy")
def predicate_nd(op, a, ao, ast, out, shape):
    _predicate_rows(op, a, ao, ast, out, shape, _I0(), _nrows(shape))


@njit(cache=True, parallel=True, error_model="numpy")
def predicate_nd_par(op, a, ao, ast, out, shape):
    rows = _nrows(shape)
    nch = _row_chunks(rows, shape[shape.size - 1])
    for ch in prange(nch):
        _predicate_rows(op, a, ao, ast, out, shape, ch * rows // nch, (ch + 1) * rows // nch)


# ---------------------------------------------------------------------------------------------------------------
# binary (same dtype out) and compare (bool out)
# ---------------------------------------------------------------------------------------------------------------
@njit(cache=True, error_model="numpy")
def binary_flat(op, a, ao, sa, b, bo, sb, out, n):
    _binary_row(op, a, ao, sa, b, bo, sb, out, _I0(), n)


@njit(cache=True, parallel=True, error_model="numpy")
def binary_flat_par(op, a, ao, sa, b, bo, sb, out, n):
    for c in prange((n + CHUNK - 1) // CHUNK):
        lo = c * CHUNK
        _binary_row(op, a, ao + lo * sa, sa, b, bo + lo * sb, sb, out, lo, min(CHUNK, n - lo))


@njit(cache=True, error_model="numpy")
def _inplace_row(op, x, ix, b, ib, sb, n):
    """x[ix + k] = x[ix + k] <op> b[ib + k*sb]. One array is read and written at the same place, so LLVM vectorizes
    the loop; passed as two arrays (a and out of _binary_row) the same memory fails its overlap check and the loop
    runs scalar, 3x slower. +, -, *, /, maximum and minimum with a scalar or unit-stride b have loops here; other
    ops go through _binary_row."""
    if sb == 0 and op <= 3:
        y = b[U(ib)]
        if op == 0:
            for k in range(n):
                x[U(ix + k)] = x[U(ix + k)] + y
        elif op == 1:
            for k in range(n):
                x[U(ix + k)] = x[U(ix + k)] - y
        elif op == 2:
            for k in range(n):
                x[U(ix + k)] = x[U(ix + k)] * y
        else:
            for k in range(n):
                x[U(ix + k)] = x[U(ix + k)] / y
    elif sb == 1 and op <= 3:
        if op == 0:
            for k in range(n):
                x[U(ix + k)] = x[U(ix + k)] + b[U(ib + k)]
        elif op == 1:
            for k in range(n):
                x[U(ix + k)] = x[U(ix + k)] - b[U(ib + k)]
        elif op == 2:
            for k in range(n):
                x[U(ix + k)] = x[U(ix + k)] * b[U(ib + k)]
        else:
            for k in range(n):
                x[U(ix + k)] = x[U(ix + k)] / b[U(ib + k)]
    elif sb == 0 and (op == 7 or op == 8):
        # as _binary_row: NaN in x wins, else y unless x is strictly beyond it (so -0.0 vs 0.0 keeps y); the scalar
        # read once (a stride-0 load inside the loop keeps it from vectorizing: 3x slower)
        y = b[U(ib)]
        if op == 7:
            for k in range(n):
                v = x[U(ix + k)]
                x[U(ix + k)] = v if (v > y or v != v) else y
        else:
            for k in range(n):
                v = x[U(ix + k)]
                x[U(ix + k)] = v if (v < y or v != v) else y
    elif sb == 1 and (op == 7 or op == 8):
        if op == 7:
            for k in range(n):
                v = x[U(ix + k)]
                y = b[U(ib + k)]
                x[U(ix + k)] = v if (v > y or v != v) else y
        else:
            for k in range(n):
                v = x[U(ix + k)]
                y = b[U(ib + k)]
                x[U(ix + k)] = v if (v < y or v != v) else y
    else:
        _binary_row(op, x, ix, 1, b, ib, sb, x, ix, n)


@njit(cache=True, error_model="numpy")
def binary_inplace_flat(op, x, xo, b, bo, sb, n):
    """x[xo:xo + n] = x[xo:xo + n] <op> b (b at bo with stride sb: 1, or 0 for a scalar), in place."""
    _inplace_row(op, x, xo, b, bo, sb, n)


@njit(cache=True, parallel=True, error_model="numpy")
def binary_inplace_flat_par(op, x, xo, b, bo, sb, n):
    for c in prange((n + CHUNK - 1) // CHUNK):
        lo = c * CHUNK
        _inplace_row(op, x, xo + lo, b, bo + lo * sb, sb, min(CHUNK, n - lo))


@njit(cache=True, error_model="numpy")
def binary_rows(op, x, xo, row, ro, row_left, out, rows, cols):
    """out[r, :] = x[r, :] <op> row (row <op> x[r, :] when ``row_left``) for each of ``rows`` rows: x and out
    (rows, cols) and row (cols,) contiguous (a bias added to every row: no strides to pass or walk)."""
    for r in range(rows):
        if row_left:
            _binary_row(op, row, ro, 1, x, xo + r * cols, 1, out, r * cols, cols)
        else:
            _binary_row(op, x, xo + r * cols, 1, row, ro, 1, out, r * cols, cols)


@njit(cache=True, parallel=True, error_model="numpy")
def binary_rows_par(op, x, xo, row, ro, row_left, out, rows, cols):
    nch = _row_chunks(rows, cols)
    for ch in prange(nch):
        for r in range(ch * rows // nch, (ch + 1) * rows // nch):
            if row_left:
                _binary_row(op, row, ro, 1, x, xo + r * cols, 1, out, r * cols, cols)
            else:
                _binary_row(op, x, xo + r * cols, 1, row, ro, 1, out, r * cols, cols)


@njit(cache=True, error_model="numpy")
def _clamp_row(x, xo, lo, hi, out, oo, n):
    for k in range(n):
        v = x[U(xo + k)]
        v = v if (v > lo or v != v) else lo  # maximum, then minimum, as _binary_row's (NaN stays)
        out[U(oo + k)] = v if (v < hi or v != v) else hi


@njit(cache=True, error_model="numpy")
def clamp_flat(x, xo, lo, lo_o, hi, hi_o, out, oo, n):
    """out[oo + k] = minimum(maximum(x[xo + k], lo[lo_o]), hi[hi_o]): clamp to two scalars in one pass."""
    _clamp_row(x, xo, lo[U(lo_o)], hi[U(hi_o)], out, oo, n)


@njit(cache=True, parallel=True, error_model="numpy")
def clamp_flat_par(x, xo, lo, lo_o, hi, hi_o, out, oo, n):
    vlo, vhi = lo[U(lo_o)], hi[U(hi_o)]
    for c in prange((n + CHUNK - 1) // CHUNK):
        s = c * CHUNK
        _clamp_row(x, xo + s, vlo, vhi, out, oo + s, min(CHUNK, n - s))


@njit(cache=True, parallel=True, error_model="numpy")
def binary_flat_stream_par(op, a, ao, sa, b, bo, sb, out, n):
    """binary_flat_par with the output written by non-temporal stores (STREAM_BYTES, for op codes in STREAMED)."""
    block = _STREAM_BLOCK // out.itemsize
    for c in prange((n + _STREAM_CHUNK - 1) // _STREAM_CHUNK):
        lo = c * _STREAM_CHUNK
        hi = min(n, lo + _STREAM_CHUNK)
        s = lo + _stream_head(out, lo, hi)
        _binary_row(op, a, ao + lo * sa, sa, b, bo + lo * sb, sb, out, lo, s - lo)
        buf = np.empty(block, out.dtype)
        while s + block <= hi:
            _binary_row_inlined(op, a, ao + s * sa, sa, b, bo + s * sb, sb, buf, 0, block)
            _stream_block(buf, out, s)
            s += block
        _binary_row(op, a, ao + s * sa, sa, b, bo + s * sb, sb, out, s, hi - s)
        _store_fence()


@njit(cache=True, error_model="numpy")
def _binary_rows(op, a, ao, ast, b, bo, bst, out, shape, r0, r1):
    last = shape.size - 1
    inner = shape[last]
    d = last - 1  # the fastest row dim: consecutive rows step by its strides, a carry recomputes the starts
    k = r0 % shape[d] if d >= 0 else 0
    o0 = _row_start(r0, shape, ast, ao)
    o1 = _row_start(r0, shape, bst, bo)
    for r in range(r0, r1):
        _binary_row_inlined(op, a, o0, ast[last], b, o1, bst[last], out, r * inner, inner)
        k += 1
        if d >= 0 and k < shape[d]:
            o0 += ast[d]
            o1 += bst[d]
        else:
            k = 0
            o0 = _row_start(r + 1, shape, ast, ao)
            o1 = _row_start(r + 1, shape, bst, bo)


@njit(cache=True, error_model="numpy")
def binary_nd(op, a, ao, ast, b, bo, bst, out, shape):
    _binary_rows(op, a, ao, ast, b, bo, bst, out, shape, _I0(), _nrows(shape))


@njit(cache=True, parallel=True, error_model="numpy")
def binary_nd_par(op, a, ao, ast, b, bo, bst, out, shape):
    rows = _nrows(shape)
    nch = _row_chunks(rows, shape[shape.size - 1])
    for ch in prange(nch):
        _binary_rows(op, a, ao, ast, b, bo, bst, out, shape, ch * rows // nch, (ch + 1) * rows // nch)


@njit(cache=True)
def _bitwise_row(op, a, ia, sa, b, ib, sb, out, io, n):
    # integer dtypes only; shifts by the dtype's width or more give 0 (or -1 for a negative >>), as PyTorch
    if op == 0:
        for k in range(n):
            out[U(io + k)] = a[U(ia + k * sa)] & b[U(ib + k * sb)]
    elif op == 1:
        for k in range(n):
            out[U(io + k)] = a[U(ia + k * sa)] | b[U(ib + k * sb)]
    elif op == 2:
        for k in range(n):
            out[U(io + k)] = a[U(ia + k * sa)] ^ b[U(ib + k * sb)]
    elif op == 3:
        bits = out.itemsize * 8
        for k in range(n):
            y = b[U(ib + k * sb)]
            out[U(io + k)] = a[U(ia + k * sa)] << y if 0 <= y < bits else 0
    elif op == 4:
        bits = out.itemsize * 8
        for k in range(n):
            x = a[U(ia + k * sa)]
            y = b[U(ib + k * sb)]
            out[U(io + k)] = x >> y if 0 <= y < bits else (x >> (bits - 1) if x < 0 else 0)


@njit(cache=True)
def bitwise_flat(op, a, ao, sa, b, bo, sb, out, n):
    _bitwise_row(op, a, ao, sa, b, bo, sb, out, _I0(), n)


@njit(cache=True, parallel=True)
def bitwise_flat_par(op, a, ao, sa, b, bo, sb, out, n):
    for c in prange((n + CHUNK - 1) // CHUNK):
        lo = c * CHUNK
        _bitwise_row(op, a, ao + lo * sa, sa, b, bo + lo * sb, sb, out, lo, min(CHUNK, n - lo))


@njit(cache=True)
def _bitwise_rows(op, a, ao, ast, b, bo, bst, out, shape, r0, r1):
    last = shape.size - 1
    inner = shape[last]
    d = last - 1  # the fastest row dim: consecutive rows step by its strides, a carry recomputes the starts
    k = r0 % shape[d] if d >= 0 else 0
    o0 = _row_start(r0, shape, ast, ao)
    o1 = _row_start(r0, shape, bst, bo)
    for r in range(r0, r1):
        _bitwise_row(op, a, o0, ast[last], b, o1, bst[last], out, r * inner, inner)
        k += 1
        if d >= 0 and k < shape[d]:
            o0 += ast[d]
            o1 += bst[d]
        else:
            k = 0
            o0 = _row_start(r + 1, shape, ast, ao)
            o1 = _row_start(r + 1, shape, bst, bo)


@njit(cache=True)
def bitwise_nd(op, a, ao, ast, b, bo, bst, out, shape):
    _bitwise_rows(op, a, ao, ast, b, bo, bst, out, shape, 0, _nrows(shape))


@njit(cache=True, parallel=True)
def bitwise_nd_par(op, a, ao, ast, b, bo, bst, out, shape):
    rows = _nrows(shape)
    nch = _row_chunks(rows, shape[shape.size - 1])
    for ch in prange(nch):
        _bitwise_rows(op, a, ao, ast, b, bo, bst, out, shape, ch * rows // nch, (ch + 1) * rows // nch)


@njit(cache=True, error_model="numpy")
def compare_flat(op, a, ao, sa, b, bo, sb, out, n):
    _compare_row(op, a, ao, sa, b, bo, sb, out, _I0(), n)


@njit(cache=True, parallel=True, error_model="numpy")
def compare_flat_par(op, a, ao, sa, b, bo, sb, out, n):
    for c in prange((n + CHUNK - 1) // CHUNK):
        lo = c * CHUNK
        _compare_row(op, a, ao + lo * sa, sa, b, bo + lo * sb, sb, out, lo, min(CHUNK, n - lo))


@njit(cache=True, error_model="numpy")
def _compare_rows(op, a, ao, ast, b, bo, bst, out, shape, r0, r1):
    last = shape.size - 1
    inner = shape[last]
    d = last - 1  # the fastest row dim: consecutive rows step by its strides, a carry recomputes the starts
    k = r0 % shape[d] if d >= 0 else 0
    o0 = _row_start(r0, shape, ast, ao)
    o1 = _row_start(r0, shape, bst, bo)
    for r in range(r0, r1):
        _compare_row_inlined(op, a, o0, ast[last], b, o1, bst[last], out, r * inner, inner)
        k += 1
        if d >= 0 and k < shape[d]:
            o0 += ast[d]
            o1 += bst[d]
        else:
            k = 0
            o0 = _row_start(r + 1, shape, ast, ao)
            o1 = _row_start(r + 1, shape, bst, bo)


@njit(cache=True, error_model="numpy")
def compare_nd(op, a, ao, ast, b, bo, bst, out, shape):
    _compare_rows(op, a, ao, ast, b, bo, bst, out, shape, _I0(), _nrows(shape))


@njit(cache=True, parallel=True, error_model="numpy")
def compare_nd_par(op, a, ao, ast, b, bo, bst, out, shape):
    rows = _nrows(shape)
    nch = _row_chunks(rows, shape[shape.size - 1])
    for ch in prange(nch):
        _compare_rows(op, a, ao, ast, b, bo, bst, out, shape, ch * rows // nch, (ch + 1) * rows // nch)


# ---------------------------------------------------------------------------------------------------------------
# where(cond, a, b) and strided copy with cast
# ---------------------------------------------------------------------------------------------------------------
@njit(cache=True, inline="always")
def _where_row(c, ic, sc, a, ia, sa, b, ib, sb, out, io, n):
    if sc == 1 and sa + sb == 1 and sa * sb == 0:
        # a contiguous condition and value with a scalar other (masked_fill, its gradient): both values are
        # loaded before the select, so that the loop vectorizes (3-4x faster than the strided form)
        if sa == 0:
            av = a[U(ia)]
            for k in range(n):
                bv = b[U(ib + k)]
                out[U(io + k)] = av if c[U(ic + k)] else bv
        else:
            bv = b[U(ib)]
            for k in range(n):
                av = a[U(ia + k)]
                out[U(io + k)] = av if c[U(ic + k)] else bv
        return
    if sc == 1 and sa == 1 and sb == 1:
        for k in range(n):
            av = a[U(ia + k)]
            bv = b[U(ib + k)]
            out[U(io + k)] = av if c[U(ic + k)] else bv
        return
    for k in range(n):
        out[U(io + k)] = a[U(ia + k * sa)] if c[U(ic + k * sc)] else b[U(ib + k * sb)]


@njit(cache=True, error_model="numpy")
def _where_rows(c, co, cst, a, ao, ast, b, bo, bst, out, shape, r0, r1):
    last = shape.size - 1
    inner = shape[last]
    d = last - 1  # the fastest row dim: consecutive rows step by its strides, a carry recomputes the starts
    k = r0 % shape[d] if d >= 0 else 0
    o0 = _row_start(r0, shape, cst, co)
    o1 = _row_start(r0, shape, ast, ao)
    o2 = _row_start(r0, shape, bst, bo)
    for r in range(r0, r1):
        _where_row(c, o0, cst[last], a, o1, ast[last], b, o2, bst[last], out, r * inner, inner)
        k += 1
        if d >= 0 and k < shape[d]:
            o0 += cst[d]
            o1 += ast[d]
            o2 += bst[d]
        else:
            k = 0
            o0 = _row_start(r + 1, shape, cst, co)
            o1 = _row_start(r + 1, shape, ast, ao)
            o2 = _row_start(r + 1, shape, bst, bo)


@njit(cache=True, error_model="numpy")
def where_nd(c, co, cst, a, ao, ast, b, bo, bst, out, shape):
    _where_rows(c, co, cst, a, ao, ast, b, bo, bst, out, shape, _I0(), _nrows(shape))


@njit(cache=True, parallel=True, error_model="numpy")
def where_nd_par(c, co, cst, a, ao, ast, b, bo, bst, out, shape):
    rows = _nrows(shape)
    nch = _row_chunks(rows, shape[shape.size - 1])
    for ch in prange(nch):
        _where_rows(c, co, cst, a, ao, ast, b, bo, bst, out, shape, ch * rows // nch, (ch + 1) * rows // nch)


@njit(cache=True, inline="always")
def _copy_row(src, si, ss, dst, di, ds, n):
    if ss == 1 and ds == 1:  # unit strides known to LLVM: the loop vectorizes (a permuted copy's rows mostly are)
        for k in range(n):
            dst[U(di + k)] = src[U(si + k)]
    elif ss == 0 and ds == 1:  # one value into a contiguous row (fill_, an expanded row): a vectorized store loop
        v = src[U(si)]
        for k in range(n):
            dst[U(di + k)] = v
    elif ss == -1 and ds == 1:  # a reversed row (flip): vector loads whose lanes are then reversed
        for k in range(n):
            dst[U(di + k)] = src[U(si - k)]
    else:
        for k in range(n):
            dst[U(di + k * ds)] = src[U(si + k * ss)]


@njit(cache=True, error_model="numpy")
def _copy_rows(src, so, sst, dst, do, dst_strides, shape, r0, r1):
    last = shape.size - 1
    inner = shape[last]
    d = last - 1  # the fastest row dim: consecutive rows step by its strides, a carry recomputes the starts
    k = r0 % shape[d] if d >= 0 else 0
    o0 = _row_start(r0, shape, sst, so)
    o1 = _row_start(r0, shape, dst_strides, do)
    for r in range(r0, r1):
        _copy_row(src, o0, sst[last], dst, o1, dst_strides[last], inner)
        k += 1
        if d >= 0 and k < shape[d]:
            o0 += sst[d]
            o1 += dst_strides[d]
        else:
            k = 0
            o0 = _row_start(r + 1, shape, sst, so)
            o1 = _row_start(r + 1, shape, dst_strides, do)


@njit(cache=True, error_model="numpy")
def copy_nd(src, so, sst, dst, do, dst_strides, shape):
    """dst[view] = src[view] with a cast to dst's dtype (bool targets are handled by the launcher)."""
    _copy_rows(src, so, sst, dst, do, dst_strides, shape, _I0(), _nrows(shape))


@njit(cache=True, parallel=True, error_model="numpy")
def copy_nd_par(src, so, sst, dst, do, dst_strides, shape):
    rows = _nrows(shape)
    nch = _row_chunks(rows, shape[shape.size - 1])
    for ch in prange(nch):
        _copy_rows(src, so, sst, dst, do, dst_strides, shape, ch * rows // nch, (ch + 1) * rows // nch)


_TILE = 16  # a transposed copy's tiles: 16x16 (1024^2 float32: 556 us; 32x32 982 us, untiled 1729 us)


@njit(cache=True, error_model="numpy")
def _transpose_tiles(src, so, sst, dst, do, dst_strides, shape, t0, t1):
    """Tiles t0..t1 of a copy whose output rows are contiguous and whose source is contiguous along the output's
    second-to-last dim (a transpose): each tile is written row by row, its reads staying within a few cache lines
    (walking whole output rows reads one line per element and thrashes the cache at power-of-two strides)."""
    nd = shape.size
    R, C = shape[nd - 2], shape[nd - 1]
    sc, dr = sst[nd - 1], dst_strides[nd - 2]
    tr = (R + _TILE - 1) // _TILE
    tc = (C + _TILE - 1) // _TILE
    lead, ls, lds = shape[:nd - 1], sst[:nd - 1], dst_strides[:nd - 1]
    for t in range(t0, t1):
        b = t // (tr * tc)
        i = (t - b * tr * tc) // tc
        j = t - b * tr * tc - i * tc
        sb = _row_start(b, lead, ls, so)  # the batch's start (the dims before the last two)
        db = _row_start(b, lead, lds, do)
        c0 = j * _TILE
        c1 = min(C, c0 + _TILE)
        for r in range(i * _TILE, min(R, i * _TILE + _TILE)):
            for c in range(c0, c1):
                dst[U(db + r * dr + c)] = src[U(sb + r + c * sc)]


@njit(cache=True, error_model="numpy")
def copy_transposed(src, so, sst, dst, do, dst_strides, shape):
    """copy_nd where dst's last dim is contiguous and src is contiguous along dst's second-to-last dim."""
    nd = shape.size
    tiles = _nrows(shape[:nd - 1]) * ((shape[nd - 2] + _TILE - 1) // _TILE) * ((shape[nd - 1] + _TILE - 1) // _TILE)
    _transpose_tiles(src, so, sst, dst, do, dst_strides, shape, 0, tiles)


@njit(cache=True, parallel=True, error_model="numpy")
def copy_transposed_par(src, so, sst, dst, do, dst_strides, shape):
    nd = shape.size
    tiles = _nrows(shape[:nd - 1]) * ((shape[nd - 2] + _TILE - 1) // _TILE) * ((shape[nd - 1] + _TILE - 1) // _TILE)
    nch = max(1, min(tiles, (tiles * _TILE * _TILE + CHUNK - 1) // CHUNK))
    for ch in prange(nch):
        _transpose_tiles(src, so, sst, dst, do, dst_strides, shape, ch * tiles // nch, (ch + 1) * tiles // nch)


@njit(cache=True, error_model="numpy")
def copy_flat(src, so, ss, dst, do, ds, n):
    _copy_row(src, so, ss, dst, do, ds, n)


@njit(cache=True, parallel=True, error_model="numpy")
def copy_flat_par(src, so, ss, dst, do, ds, n):
    for c in prange((n + CHUNK - 1) // CHUNK):
        lo = c * CHUNK
        _copy_row(src, so + lo * ss, ss, dst, do + lo * ds, ds, min(CHUNK, n - lo))
