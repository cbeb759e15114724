"""Indexing kernels: take/put by precomputed offsets, gather/scatter along a dim, nonzero.

Every index array reaching these kernels has been range-checked and wrapped (negative -> positive) by the
launcher: Numba does no bounds checking, so an unchecked index would read or write outside the storage.
"""
import numpy as np
from numba import njit, prange

from .elementwise import _row_chunks, _row_start

U = np.uint64


@njit(cache=True, inline="always")
def _take_one(src, base, lin, j, rest_shape, rest_strides, out, rows, inner, per, s):
    for r in range(rows):
        i0 = _row_start(r, rest_shape, rest_strides, base + lin[j])
        o0 = j * per + r * inner
        for k in range(inner):
            out[U(o0 + k)] = src[U(i0 + k * s)]


@njit(cache=True)
def take(src, base, lin, rest_shape, rest_strides, out):
    """out[j, rest...] = src[base + lin[j] + offset(rest...)]; out is contiguous (len(lin), prod(rest_shape))."""
    last = rest_shape.size - 1
    inner = rest_shape[last]
    rows = out.size // (lin.size * inner)
    for j in range(lin.size):
        _take_one(src, base, lin, j, rest_shape, rest_strides, out, rows, inner, rows * inner, rest_strides[last])


@njit(cache=True, parallel=True)
def take_par(src, base, lin, rest_shape, rest_strides, out):
    last = rest_shape.size - 1
    inner = rest_shape[last]
    rows = out.size // (lin.size * inner)
    for j in prange(lin.size):
        _take_one(src, base, lin, j, rest_shape, rest_strides, out, rows, inner, rows * inner, rest_strides[last])


@njit(cache=True, inline="always")
def _select_rows(s2, o2, idx, q0, q1, n_in, n_out, inner):
    """Output rows q0..q1 of o2: (outer*n_out, inner) row q = o*n_out + j is row o*n_in + idx[j] of s2; along the
    last dimension (inner 1) o2 is (outer, n_out) and row q a whole output row."""
    if inner == 1:
        for o in range(q0, q1):
            for j in range(n_out):
                o2[o, j] = s2[o, U(idx[j])]
        return
    for q in range(q0, q1):
        o = q // n_out
        r = o * n_in + idx[q - o * n_out]
        o2[q, :] = s2[r, :]  # a whole-row slice copy: 1.3-1.4x faster than indexing element by element


@njit(cache=True)
def select_rows(src, so, idx, out, outer, n_in, inner):
    """index_select of a contiguous source (outer, n_in, inner) at offset so: out (outer, len(idx), inner) gets
    out[o, j, :] = src[o, idx[j], :], each row copied as a run of inner elements."""
    n_out = idx.size
    s2 = src[so:so + outer * n_in * inner].reshape(outer * n_in, inner) if inner > 1 else \
        src[so:so + outer * n_in].reshape(outer, n_in)
    o2 = out.reshape(outer * n_out, inner) if inner > 1 else out.reshape(outer, n_out)
    _select_rows(s2, o2, idx, 0, o2.shape[0], n_in, n_out, inner)


@njit(cache=True, parallel=True)
def select_rows_par(src, so, idx, out, outer, n_in, inner):
    n_out = idx.size
    s2 = src[so:so + outer * n_in * inner].reshape(outer * n_in, inner) if inner > 1 else \
        src[so:so + outer * n_in].reshape(outer, n_in)
    o2 = out.reshape(outer * n_out, inner) if inner > 1 else out.reshape(outer, n_out)
    R = o2.shape[0]
    T = min(R, 64)
    for t in prange(T):
        _select_rows(s2, o2, idx, t * R // T, (t + 1) * R // T, n_in, n_out, inner)


@njit(cache=True)
def put(dst, base, lin, rest_shape, rest_strides, vals, vo, vst, accumulate):
    """dst[base + lin[j] + offset(rest)] (+)= vals viewed as (len(lin), *rest_shape) through offset vo, strides vst.

    Serial on purpose: with accumulate, repeated indices must all land.
    """
    nd = rest_shape.size
    last = nd - 1
    inner = rest_shape[last]
    rows = 1
    for d in range(last):
        rows *= rest_shape[d]
    s = rest_strides[last]
    vs = vst[nd]
    for j in range(lin.size):
        for r in range(rows):
            i0 = _row_start(r, rest_shape, rest_strides, base + lin[j])
            v0 = _row_start(r, rest_shape, vst[1:], vo + j * vst[0])
            if accumulate:
                for k in range(inner):
                    dst[U(i0 + k * s)] += vals[U(v0 + k * vs)]
            else:
                for k in range(inner):
                    dst[U(i0 + k * s)] = vals[U(v0 + k * vs)]


@njit(cache=True)
def _src_row(r, shape, sst, so, dim):
    """Offset of row r in src, leaving out the coordinate along ``dim`` (the index supplies that one)."""
    off = so
    rem = r
    for d in range(shape.size - 2, -1, -1):
        q = rem // shape[d]
        if d != dim:
            off += (rem - q * shape[d]) * sst[d]
        rem = q
    return off


@njit(cache=True, inline="always")
def _gather_rows(src, so, sst, idx, io, ist, dim, shape, out, r0, r1, inner, step, last):
    """Rows r0..r1 of a gather. The strides the inner loop reads are locals: read from their arrays inside it,
    they were loaded again for every element (the stores to ``out`` might have changed them)."""
    si = ist[last]
    sd = sst[dim]
    for r in range(r0, r1):
        s0 = _src_row(r, shape, sst, so, dim)
        i0 = _row_start(r, shape, ist, io)
        for k in range(inner):
            out[U(r * inner + k)] = src[U(s0 + k * step + idx[U(i0 + k * si)] * sd)]


@njit(cache=True)
def gather(src, so, sst, idx, io, ist, dim, shape, out):
    """out[p] = src[p with coordinate dim replaced by idx[p]]; ``shape`` is the index's, out contiguous."""
    last = shape.size - 1
    inner = shape[last]
    step = sst[last] if last != dim else 0
    _gather_rows(src, so, sst, idx, io, ist, dim, shape, out, 0, out.size // inner, inner, step, last)


@njit(cache=True, parallel=True)
def gather_par(src, so, sst, idx, io, ist, dim, shape, out):
    """``gather`` over ranges of about CHUNK elements in parallel (a prange over single short rows spent about
    100 ns per row on the loop's bookkeeping: 8x slower than PyTorch on rows of 32)."""
    last = shape.size - 1
    inner = shape[last]
    step = sst[last] if last != dim else 0
    rows = out.size // inner
    nch = _row_chunks(rows, inner)
    for ch in prange(nch):
        _gather_rows(src, so, sst, idx, io, ist, dim, shape, out, ch * rows // nch, (ch + 1) * rows // nch, inner,
                     step, last)


@njit(cache=True)
def scatter(dst, do, dst_strides, idx, io, ist, vals, vo, vst, dim, shape, accumulate):
    """dst[p with coordinate dim replaced by idx[p]] (+)= vals[p] for p over the index's ``shape``."""
    last = shape.size - 1
    inner = shape[last]
    step = dst_strides[last] if last != dim else 0
    total = 1
    for d in range(shape.size):
        total *= shape[d]
    for r in range(total // inner):
        d0 = _src_row(r, shape, dst_strides, do, dim)
        i0 = _row_start(r, shape, ist, io)
        v0 = _row_start(r, shape, vst, vo)
        for k in range(inner):
            t = U(d0 + k * step + idx[U(i0 + k * ist[last])] * dst_strides[dim])
            if accumulate:
                dst[t] += vals[U(v0 + k * vst[last])]
            else:
                dst[t] = vals[U(v0 + k * vst[last])]


@njit(cache=True)
def nonzero(mask, shape, out):
    """Write the coordinates of the true elements of a contiguous mask into out (count, ndim); return count."""
    nd = shape.size
    n = 0
    for p in range(mask.size):
        if mask[p]:
            rem = p
            for d in range(nd - 1, -1, -1):
                q = rem // shape[d]
                out[n, d] = rem - q * shape[d]
                rem = q
            n += 1
    return n


@njit(cache=True)
def compress(x, xo, mask, out):
    """out[j] = x[xo + i] for the i where mask[i] is True, in order (``x[mask]``). out has one slot more than the
    count: every element is written to out[j] and j moves on only where the mask is set, so the loop has no branch
    (a branch per element mispredicts on a random mask) and the last write may land in the spare slot."""
    j = 0
    for i in range(mask.size):
        out[U(j)] = x[U(xo + i)]
        j += np.int64(mask[U(i)])


@njit(cache=True)
def count_nonzero(mask):
    n = 0
    for p in range(mask.size):
        if mask[p]:
            n += 1
    return n


@njit(cache=True, inline="always")
def _combine(cur, v, op):
    """One step of a scatter reduction: 1 prod, 2 amax, 3 amin (NaN wins, as in PyTorch), else sum."""
    if op == 1:
        return cur * v
    if op == 2:
        return v if (v > cur or v != v) and cur == cur else cur
    if op == 3:
        return v if (v < cur or v != v) and cur == cur else cur
    return cur + v


@njit(cache=True)
def scatter_reduce(dst, do, dst_strides, idx, io, ist, vals, vo, vst, dim, shape, op):
    """dst[p with coordinate dim replaced by idx[p]] = op(that, vals[p]) for p over the index's ``shape``; op codes
    0 sum, 1 prod, 2 amax, 3 amin. Serial: positions that repeat must see every update."""
    last = shape.size - 1
    inner = shape[last]
    step = dst_strides[last] if last != dim else 0
    total = 1
    for d in range(shape.size):
        total *= shape[d]
    for r in range(total // inner):
        d0 = _src_row(r, shape, dst_strides, do, dim)
        i0 = _row_start(r, shape, ist, io)
        v0 = _row_start(r, shape, vst, vo)
        for k in range(inner):
            t = U(d0 + k * step + idx[U(i0 + k * ist[last])] * dst_strides[dim])
            dst[t] = _combine(dst[t], vals[U(v0 + k * vst[last])], op)
