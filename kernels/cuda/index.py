"""CUDA indexing kernels: take/put by precomputed offsets, gather/scatter along a dim, nonzero.

take, put, gather and scatter run one thread per element of the index space (grid-stride over
``len(lin) * prod(rest_shape)`` or over the index's shape); each thread finds its coordinates with one divmod
chain. Accumulating writes use ``cuda.atomic.add`` where the GPU has it (int32/int64/uint32/uint64/float32/float64),
so repeated indices all land; bool accumulates as a logical or (every writer stores True, so no atomic is needed);
uint8 (no byte atomics) accumulates its increments into an int32 temporary with atomics, then adds that back with
wrap-around, which is exact. Plain writes to a repeated
index keep one of the values, not necessarily the last as on the CPU.

nonzero is a stream compaction in three launches: each block counts the true elements of its contiguous span,
one block scans the counts into start offsets, then each block walks its span in tiles of one element per thread,
scanning the tile's flags in shared memory so coordinates come out in row-major order.

As on the CPU, every index reaching these kernels has been range-checked and wrapped by the launcher.
"""
import numpy as np
from numba import cuda

from ._grid import MAX_BLOCKS, SIM, THREADS, blocks, meta
from .memory import zeros

# dtypes that cuda.atomic.add compiles for
ATOMIC_ADD = frozenset(np.dtype(t) for t in (np.int32, np.int64, np.uint32, np.uint64, np.float32, np.float64))


def accumulate_kind(dtype):
    """How an accumulating write lands for this dtype: 'atomic', 'or' (bool) or 'widen' (uint8: int32 atomics into
    a temporary, folded back with wrap-around)."""
    dtype = np.dtype(dtype)
    if dtype in ATOMIC_ADD:
        return "atomic"
    return "or" if dtype == np.bool_ else "widen"


@cuda.jit(device=True)
def imin(a, b):
    """min of two scalars (the builtin min does not compile for two int64 scalars in Numba 0.68's CUDA target)."""
    return a if a < b else b


@cuda.jit(device=True)
def imax(a, b):
    return a if a > b else b


@cuda.jit(device=True)
def _offset(q, shape, strides, base):
    """base + the strided offset of flat (row-major) position q in ``shape``."""
    off = base
    for d in range(shape.size - 1, -1, -1):
        c = q % shape[d]
        q //= shape[d]
        off += c * strides[d]
    return off


@cuda.jit(device=True)
def _put_offsets(e, per, base, lin, rest_shape, rest_strides, vo, vst):
    """(dst offset, vals offset) of element e of the (len(lin), *rest_shape) put space."""
    j = e // per
    q = e - j * per
    t = base + lin[j]
    v = vo + j * vst[0]
    for d in range(rest_shape.size - 1, -1, -1):
        c = q % rest_shape[d]
        q //= rest_shape[d]
        t += c * rest_strides[d]
        v += c * vst[d + 1]
    return t, v


@cuda.jit(device=True)
def _along_offsets(e, shape, dst_strides, do, idx, io, ist, vo, vst, dim):
    """(dst offset, vals offset) of flat position e of the index's ``shape``."""
    t = do
    i = io
    v = vo
    for d in range(shape.size - 1, -1, -1):
        c = e % shape[d]
        e //= shape[d]
        if d != dim:
            t += c * dst_strides[d]
        i += c * ist[d]
        v += c * vst[d]
    return t + idx[i] * dst_strides[dim], v


# ----------------------------------------------------------------------------------------------------------------
# take / put
# ----------------------------------------------------------------------------------------------------------------
@cuda.jit
def _select_rows(src, so, idx, out, n_in, inner, n_out, n):
    for p in range(cuda.grid(1), n, cuda.gridsize(1)):
        q = p // inner
        i = p - q * inner
        o = q // n_out
        out[p] = src[so + (o * n_in + idx[q - o * n_out]) * inner + i]


def select_rows(src, so, idx, out, outer, n_in, inner):
    """As the CPU's: a thread per output element (grid-stride)."""
    n = out.size
    if n:
        _select_rows[blocks(n), THREADS](src, so, idx, out, n_in, inner, idx.size, n)


select_rows_par = select_rows


@cuda.jit
def _take(src, base, lin, rest_shape, rest_strides, out, per, n):
    for e in range(cuda.grid(1), n, cuda.gridsize(1)):
        j = e // per
        out[e] = src[_offset(e - j * per, rest_shape, rest_strides, base + lin[j])]


def take(src, base, lin, rest_shape, rest_strides, out):
    """out[j, rest...] = src[base + lin[j] + offset(rest...)]; out is contiguous (len(lin), prod(rest_shape))."""
    n = out.size
    if n == 0:
        return
    per = n // lin.size
    _take[blocks(n), THREADS](src, base, lin, meta(rest_shape), meta(rest_strides), out, per, n)


take_par = take


@cuda.jit
def _put_set(dst, base, lin, rest_shape, rest_strides, vals, vo, vst, per, n):
    for e in range(cuda.grid(1), n, cuda.gridsize(1)):
        t, v = _put_offsets(e, per, base, lin, rest_shape, rest_strides, vo, vst)
        dst[t] = vals[v]


@cuda.jit
def _put_add(dst, base, lin, rest_shape, rest_strides, vals, vo, vst, per, n):
    for e in range(cuda.grid(1), n, cuda.gridsize(1)):
        t, v = _put_offsets(e, per, base, lin, rest_shape, rest_strides, vo, vst)
        cuda.atomic.add(dst, t, vals[v])


@cuda.jit
def _put_or(dst, base, lin, rest_shape, rest_strides, vals, vo, vst, per, n):
    for e in range(cuda.grid(1), n, cuda.gridsize(1)):
        t, v = _put_offsets(e, per, base, lin, rest_shape, rest_strides, vo, vst)
        if vals[v]:
            dst[t] = True


@cuda.jit
def _fold_wide(dst, wide):
    """dst += wide, elementwise, wrapping to dst's dtype (the second half of a widened accumulate)."""
    for k in range(cuda.grid(1), dst.size, cuda.gridsize(1)):
        if wide[k] != 0:
            dst[k] = dst[k] + wide[k]


def _widened(kern, dst, *args):
    """Accumulate into an int32 copy of the increments with int32 atomics, then fold it into dst: the sum of the
    increments mod 2**32 is exact mod 256, so uint8 wraps as the CPU's sequential adds do."""
    wide = zeros(dst.size, np.int32)
    kern[blocks(args[-1]), THREADS](wide, *args)
    _fold_wide[blocks(dst.size), THREADS](dst, wide)


_PUT = {"atomic": _put_add, "or": _put_or}


def put(dst, base, lin, rest_shape, rest_strides, vals, vo, vst, accumulate):
    """dst[base + lin[j] + offset(rest)] (+)= vals viewed as (len(lin), *rest_shape) through offset vo, strides vst."""
    per = int(np.prod(rest_shape))
    n = lin.size * per
    if n == 0:
        return
    kind = accumulate_kind(dst.dtype) if accumulate else None
    args = (base, lin, meta(rest_shape), meta(rest_strides), vals, vo, meta(vst), per, n)
    if kind == "widen":
        _widened(_put_add, dst, *args)
    else:
        (_put_set if kind is None else _PUT[kind])[blocks(n), THREADS](dst, *args)


# ----------------------------------------------------------------------------------------------------------------
# gather / scatter
# ----------------------------------------------------------------------------------------------------------------
@cuda.jit
def _gather(src, so, sst, idx, io, ist, dim, shape, out, n):
    for e in range(cuda.grid(1), n, cuda.gridsize(1)):
        s, _ = _along_offsets(e, shape, sst, so, idx, io, ist, 0, ist, dim)
        out[e] = src[s]


def gather(src, so, sst, idx, io, ist, dim, shape, out):
    """out[p] = src[p with coordinate dim replaced by idx[p]]; ``shape`` is the index's, out contiguous."""
    n = out.size
    if n:
        _gather[blocks(n), THREADS](src, so, meta(sst), idx, io, meta(ist), dim, meta(shape), out, n)


gather_par = gather


@cuda.jit
def _scatter_set(dst, do, dst_strides, idx, io, ist, vals, vo, vst, dim, shape, n):
    for e in range(cuda.grid(1), n, cuda.gridsize(1)):
        t, v = _along_offsets(e, shape, dst_strides, do, idx, io, ist, vo, vst, dim)
        dst[t] = vals[v]


@cuda.jit
def _scatter_add(dst, do, dst_strides, idx, io, ist, vals, vo, vst, dim, shape, n):
    for e in range(cuda.grid(1), n, cuda.gridsize(1)):
        t, v = _along_offsets(e, shape, dst_strides, do, idx, io, ist, vo, vst, dim)
        cuda.atomic.add(dst, t, vals[v])


@cuda.jit
def _scatter_or(dst, do, dst_strides, idx, io, ist, vals, vo, vst, dim, shape, n):
    for e in range(cuda.grid(1), n, cuda.gridsize(1)):
        t, v = _along_offsets(e, shape, dst_strides, do, idx, io, ist, vo, vst, dim)
        if vals[v]:
            dst[t] = True


_SCATTER = {"atomic": _scatter_add, "or": _scatter_or}


def scatter(dst, do, dst_strides, idx, io, ist, vals, vo, vst, dim, shape, accumulate):
    """dst[p with coordinate dim replaced by idx[p]] (+)= vals[p] for p over the index's ``shape``."""
    n = int(np.prod(shape))
    if n == 0:
        return
    kind = accumulate_kind(dst.dtype) if accumulate else None
    args = (do, meta(dst_strides), idx, io, meta(ist), vals, vo, meta(vst), dim, meta(shape), n)
    if kind == "widen":
        _widened(_scatter_add, dst, *args)
    else:
        (_scatter_set if kind is None else _SCATTER[kind])[blocks(n), THREADS](dst, *args)


# ----------------------------------------------------------------------------------------------------------------
# nonzero / count_nonzero
# ----------------------------------------------------------------------------------------------------------------
@cuda.jit
def _span_counts(mask, n, span, counts):
    """counts[b] = true elements of mask[b*span : (b+1)*span] (one block per span, coalesced reads)."""
    part = cuda.shared.array(THREADS, dtype=np.int64)
    tid = cuda.threadIdx.x
    for b in range(cuda.blockIdx.x, counts.size, cuda.gridDim.x):
        hi = imin(n, (b + 1) * span)
        c = 0
        for e in range(b * span + tid, hi, THREADS):
            if mask[e]:
                c += 1
        part[tid] = c
        cuda.syncthreads()
        s = THREADS // 2
        while s > 0:
            if tid < s:
                part[tid] += part[tid + s]
            cuda.syncthreads()
            s //= 2
        if tid == 0:
            counts[b] = part[0]
        cuda.syncthreads()


@cuda.jit
def _exclusive_scan(counts, starts, total):
    """One block: starts = exclusive prefix sums of counts, total[0] = their sum."""
    part = cuda.shared.array(THREADS, dtype=np.int64)
    tid = cuda.threadIdx.x
    seg = (counts.size + THREADS - 1) // THREADS
    lo = imin(counts.size, tid * seg)
    hi = imin(counts.size, lo + seg)
    s = 0
    for k in range(lo, hi):
        s += counts[k]
    part[tid] = s
    cuda.syncthreads()
    if tid == 0:
        run = 0
        for k in range(THREADS):
            c = part[k]
            part[k] = run
            run += c
        total[0] = run
    cuda.syncthreads()
    run = part[tid]
    for k in range(lo, hi):
        starts[k] = run
        run += counts[k]


@cuda.jit
def _write_coords(mask, n, span, starts, shape, out):
    """Coordinates of the true elements of each block's span, from starts[b] on, in row-major order."""
    flags = cuda.shared.array(THREADS, dtype=np.int64)
    tid = cuda.threadIdx.x
    nd = shape.size
    for b in range(cuda.blockIdx.x, starts.size, cuda.gridDim.x):
        hi = imin(n, (b + 1) * span)
        pos = starts[b]
        for t0 in range(b * span, hi, THREADS):
            e = t0 + tid
            f = 0
            if e < hi:
                if mask[e]:
                    f = 1
            flags[tid] = f
            cuda.syncthreads()
            step = 1
            while step < THREADS:  # inclusive Hillis-Steele scan of the tile's flags
                add = flags[tid - step] if tid >= step else 0
                cuda.syncthreads()
                flags[tid] += add
                cuda.syncthreads()
                step *= 2
            if f:
                row = pos + flags[tid] - 1
                if row < out.shape[0]:
                    rem = e
                    for d in range(nd - 1, -1, -1):
                        out[row, d] = rem % shape[d]
                        rem //= shape[d]
            pos += flags[THREADS - 1]
            cuda.syncthreads()


_SPANS = THREADS * (2 if SIM else 16)  # most spans nonzero splits a mask into (one block each)


def _scan_spans(mask):
    """(span, starts, total) of the true elements of a 1-D mask split into spans of one block each."""
    n = mask.size
    nb = max(1, min(_SPANS, -(-n // THREADS)))
    span = -(-n // nb)
    nb = -(-n // span)
    counts = cuda.device_array(nb, np.int64)
    starts = cuda.device_array(nb, np.int64)
    total = cuda.device_array(1, np.int64)
    _span_counts[min(nb, MAX_BLOCKS), THREADS](mask, n, span, counts)
    _exclusive_scan[1, THREADS](counts, starts, total)
    return span, starts, total


def nonzero(mask, shape, out):
    """Write the coordinates of the true elements of a contiguous mask into out (count, ndim); return count."""
    if mask.size == 0:
        return 0
    span, starts, total = _scan_spans(mask)
    _write_coords[min(starts.size, MAX_BLOCKS), THREADS](mask, mask.size, span, starts, meta(shape), out)
    return int(total.copy_to_host()[0])


def compress(x, xo, mask, out):
    """out[j] = x[xo + i] for the i where mask[i] is True, in order (out has one spare slot, as on the CPU): the
    linear positions from ``nonzero``, then ``take``."""
    count = out.size - 1
    if count > 0:
        lin = cuda.device_array((count, 1), np.int64)
        nonzero(mask, np.array([mask.size], np.int64), lin)
        take(x, xo, lin.reshape(count), np.array([1], np.int64), np.array([0], np.int64), out[:count])


def count_nonzero(mask):
    if mask.size == 0:
        return 0
    return int(_scan_spans(mask)[2].copy_to_host()[0])


# ----------------------------------------------------------------------------------------------------------------
# scatter_reduce: prod / amax / amin by compare-and-swap loops
# ----------------------------------------------------------------------------------------------------------------
# A float is combined through its bit pattern: read the bits, combine as a float, swap the new bits in if nobody
# wrote in between, else retry with what they wrote. The result does not depend on the order of the updates for
# amax/amin; for prod it is the product in some order (rounding may differ from the CPU's sequential order).
if SIM:
    @cuda.jit(device=True)
    def _f64_bits(x):
        return np.array([x], np.float64).view(np.int64)[0]

    @cuda.jit(device=True)
    def _bits_f64(b):
        return np.array([b], np.int64).view(np.float64)[0]

    @cuda.jit(device=True)
    def _f32_bits(x):
        return np.array([x], np.float32).view(np.int32)[0]

    @cuda.jit(device=True)
    def _bits_f32(b):
        return np.array([b], np.int32).view(np.float32)[0]
else:
    from numba.cuda import libdevice

    @cuda.jit(device=True)
    def _f64_bits(x):
        return libdevice.double_as_longlong(x)

    @cuda.jit(device=True)
    def _bits_f64(b):
        return libdevice.longlong_as_double(b)

    @cuda.jit(device=True)
    def _f32_bits(x):
        return libdevice.float_as_int(x)

    @cuda.jit(device=True)
    def _bits_f32(b):
        return libdevice.int_as_float(b)


@cuda.jit(device=True)
def _combine(cur, v, op):
    """1 prod, 2 amax, 3 amin (NaN wins, as on the CPU)."""
    if op == 1:
        return cur * v
    if op == 2:
        return v if (v > cur or v != v) and cur == cur else cur
    return v if (v < cur or v != v) and cur == cur else cur


@cuda.jit
def _scatter_cas_f64(bits, do, dst_strides, idx, io, ist, vals, vo, vst, dim, shape, n, op):
    for e in range(cuda.grid(1), n, cuda.gridsize(1)):
        t, s = _along_offsets(e, shape, dst_strides, do, idx, io, ist, vo, vst, dim)
        v = vals[s]
        old = bits[t]
        while True:
            new = _f64_bits(_combine(_bits_f64(old), v, op))
            if new == old:
                break
            prev = cuda.atomic.cas(bits, t, old, new)
            if prev == old:
                break
            old = prev


@cuda.jit
def _scatter_cas_f32(bits, do, dst_strides, idx, io, ist, vals, vo, vst, dim, shape, n, op):
    for e in range(cuda.grid(1), n, cuda.gridsize(1)):
        t, s = _along_offsets(e, shape, dst_strides, do, idx, io, ist, vo, vst, dim)
        v = vals[s]
        old = bits[t]
        while True:
            new = _f32_bits(_combine(_bits_f32(old), v, op))
            if new == old:
                break
            prev = cuda.atomic.cas(bits, t, old, new)
            if prev == old:
                break
            old = prev


@cuda.jit
def _scatter_cas_int(dst, do, dst_strides, idx, io, ist, vals, vo, vst, dim, shape, n, op):
    for e in range(cuda.grid(1), n, cuda.gridsize(1)):
        t, s = _along_offsets(e, shape, dst_strides, do, idx, io, ist, vo, vst, dim)
        v = vals[s]
        old = dst[t]
        while True:
            new = _combine(old, v, op)
            if new == old:
                break
            prev = cuda.atomic.cas(dst, t, old, new)
            if prev == old:
                break
            old = prev


@cuda.jit
def _cast_copy(src, out):
    """out[k] = src[k] converted to out's dtype (int -> bool is != 0, int32 -> uint8 wraps)."""
    for k in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        out[k] = src[k]


_CAS_FLOAT = {np.dtype(np.float64): (_scatter_cas_f64, np.int64), np.dtype(np.float32): (_scatter_cas_f32, np.int32)}
_CAS_INT = frozenset(np.dtype(t) for t in (np.int32, np.int64, np.uint32, np.uint64))


def _widen(arr):
    wide = cuda.device_array(arr.size, np.int32)
    _cast_copy[blocks(arr.size), THREADS](arr, wide)
    return wide


def scatter_reduce(dst, do, dst_strides, idx, io, ist, vals, vo, vst, dim, shape, op):
    """dst[p with coordinate dim replaced by idx[p]] = op(that, vals[p]) for p over the index's ``shape``; op codes
    0 sum, 1 prod, 2 amax, 3 amin. Sum is the atomic scatter-add; the others are compare-and-swap loops on
    float32/float64/int32/int64. uint8 and bool (no 8-bit compare-and-swap) reduce in an int32 copy that is then
    converted back: amax/amin are exact there, and a product mod 2**32 is exact mod 256 (uint8 wraps as on the CPU;
    bool: nonzero is True)."""
    if op == 0:
        scatter(dst, do, dst_strides, idx, io, ist, vals, vo, vst, dim, shape, True)
        return
    n = int(np.prod(shape))
    if n == 0:
        return
    dt = np.dtype(dst.dtype)
    meta_args = (meta(dst_strides), idx, io, meta(ist))
    if dt in _CAS_FLOAT:
        kern, bits = _CAS_FLOAT[dt]
        kern[blocks(n), THREADS](dst.view(bits), do, *meta_args, vals, vo, meta(vst), dim, meta(shape), n, op)
    elif dt in _CAS_INT:
        _scatter_cas_int[blocks(n), THREADS](dst, do, *meta_args, vals, vo, meta(vst), dim, meta(shape), n, op)
    else:
        wide = _widen(dst)
        _scatter_cas_int[blocks(n), THREADS](wide, do, *meta_args, _widen(vals), vo, meta(vst), dim, meta(shape), n,
                                             op)
        _cast_copy[blocks(dst.size), THREADS](wide, dst)
