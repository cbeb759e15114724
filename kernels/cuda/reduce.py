"""CUDA reduction and scan kernels.

Same functions and arguments as ``kernels/cpu/reduce.py``: ``out[o, i] = reduce_r a[ao + o*so + r*sr + i*si]``
with a contiguous ``out`` of ``O*I`` elements and ``R >= 1``. Three grid mappings:

* block per output (``_reduce_block``, ``_arg_block``, ``_scan_block``): the block's threads stride over ``r``
  (any ``R``), then fold their partials with a shared-memory tree (the scan walks ``r`` in block-sized tiles with a
  shared-memory Hillis-Steele scan and a carry).
* column tiles (``_reduce_cols``, for ``reduce_outer``): a 2-D block whose x threads cover neighbouring ``i`` (so
  loads coalesce) and whose y threads split ``r``, folded by a tree along y.
* thread per output (``*_serial``): a plain loop over ``r``, used when ``R`` is too short to fill a block.

Every block loops over its outputs grid-stride, so any ``O*I`` is covered. Partials start from an element, never
from a typed identity, and max/min keep propagating NaN; argmax/argmin break ties (and pick among NaNs) by the
lowest index, as the CPU's first-occurrence rule does.
"""

from numba import cuda

from ._grid import MAX_BLOCKS, SIM, THREADS, blocks

CX = 4 if SIM else 32  # x threads of a column-tile block (one warp of neighbouring outputs on a GPU)
CY = THREADS // CX  # y threads splitting r; a power of two


def _serial(R, n_out):
    """Thread per output when R is too short to fill a block's threads and the outputs alone fill the GPU."""
    return R <= 4 or (R < THREADS and n_out >= 64 * THREADS)


@cuda.jit(device=True)
def _combine(op, acc, x):
    if op == 0:
        return acc + x
    elif op == 1:
        return acc * x
    elif op == 2:
        return x if (x > acc or x != x) else acc
    elif op == 3:
        return x if (x < acc or x != x) else acc
    elif op == 4:
        return acc and x
    return acc or x


# ---------------------------------------------------------------------------------------------------------------
# sum / prod / amax / amin / all / any
# ---------------------------------------------------------------------------------------------------------------
@cuda.jit
def _reduce_serial(op, a, ao, so, sr, si, O, R, I, out):
    for j in range(cuda.grid(1), O * I, cuda.gridsize(1)):
        o = j // I
        base = ao + o * so + (j - o * I) * si
        acc = a[base]
        for r in range(1, R):
            acc = _combine(op, acc, a[base + r * sr])
        out[j] = acc


@cuda.jit
def _reduce_block(op, a, ao, so, sr, si, O, R, I, out):
    vals = cuda.shared.array(THREADS, a.dtype)
    t = cuda.threadIdx.x
    for j in range(cuda.blockIdx.x, O * I, cuda.gridDim.x):
        o = j // I
        base = ao + o * so + (j - o * I) * si
        if t < R:
            acc = a[base + t * sr]
            for r in range(t + THREADS, R, THREADS):
                acc = _combine(op, acc, a[base + r * sr])
            vals[t] = acc
        cuda.syncthreads()
        # vals[t] holds a partial exactly when t < R, at every level of the tree
        s = THREADS // 2
        while s > 0:
            if t < s and t + s < R:
                vals[t] = _combine(op, vals[t], vals[t + s])
            cuda.syncthreads()
            s //= 2
        if t == 0:
            out[j] = vals[0]
        cuda.syncthreads()


@cuda.jit
def _reduce_cols(op, a, ao, so, sr, si, O, R, I, out):
    vals = cuda.shared.array((CY, CX), a.dtype)
    tx = cuda.threadIdx.x
    ty = cuda.threadIdx.y
    tiles = (I + CX - 1) // CX
    for b in range(cuda.blockIdx.x, O * tiles, cuda.gridDim.x):
        o = b // tiles
        i = (b - o * tiles) * CX + tx
        if i < I and ty < R:
            base = ao + o * so + i * si
            acc = a[base + ty * sr]
            for r in range(ty + CY, R, CY):
                acc = _combine(op, acc, a[base + r * sr])
            vals[ty, tx] = acc
        cuda.syncthreads()
        s = CY // 2
        while s > 0:
            if ty < s and ty + s < R and i < I:
                vals[ty, tx] = _combine(op, vals[ty, tx], vals[ty + s, tx])
            cuda.syncthreads()
            s //= 2
        if ty == 0 and i < I:
            out[o * I + i] = vals[0, tx]
        cuda.syncthreads()


def reduce_inner(op, a, ao, so, sr, si, O, R, I, out):
    n = O * I
    if n <= 0:
        return
    if _serial(R, n):
        _reduce_serial[blocks(n), THREADS](op, a, ao, so, sr, si, O, R, I, out)
    else:
        _reduce_block[min(n, MAX_BLOCKS), THREADS](op, a, ao, so, sr, si, O, R, I, out)


def reduce_inner_par(op, a, ao, so, sr, si, O, R, I, out, nc):
    """``nc`` (the CPU's chunk count) is ignored: the launch covers every output."""
    reduce_inner(op, a, ao, so, sr, si, O, R, I, out)


def reduce_outer(op, a, ao, so, sr, si, O, R, I, out):
    if O * I <= 0:
        return
    if I < CX:  # too narrow for coalesced column tiles: reduce each output along r instead
        reduce_inner(op, a, ao, so, sr, si, O, R, I, out)
        return
    n = O * ((I + CX - 1) // CX)
    _reduce_cols[min(n, MAX_BLOCKS), (CX, CY)](op, a, ao, so, sr, si, O, R, I, out)


def reduce_outer_par(op, a, ao, so, sr, si, O, R, I, out, block):
    """``block`` (the CPU's column block) is ignored: the launch covers every output."""
    reduce_outer(op, a, ao, so, sr, si, O, R, I, out)


# ---------------------------------------------------------------------------------------------------------------
# argmax / argmin
# ---------------------------------------------------------------------------------------------------------------
@cuda.jit(device=True)
def _arg_better(op, v, k, x, m):
    """Whether (x at index m) replaces (v at index k): the first NaN wins, else the extreme, else the lower index."""
    if x != x:
        return v == v or m < k
    if v != v:
        return False
    if x == v:
        return m < k
    return x > v if op == 0 else x < v


@cuda.jit
def _arg_serial(op, a, ao, so, sr, si, O, R, I, values, indices):
    for j in range(cuda.grid(1), O * I, cuda.gridsize(1)):
        o = j // I
        base = ao + o * so + (j - o * I) * si
        best = a[base]
        idx = 0
        if best == best:
            for r in range(1, R):
                x = a[base + r * sr]
                if x != x:
                    best = x
                    idx = r
                    break
                if (op == 0 and x > best) or (op == 1 and x < best):
                    best = x
                    idx = r
        values[j] = best
        indices[j] = idx


@cuda.jit
def _arg_block(op, a, ao, so, sr, si, O, R, I, values, indices):
    vals = cuda.shared.array(THREADS, a.dtype)
    idxs = cuda.shared.array(THREADS, indices.dtype)
    t = cuda.threadIdx.x
    for j in range(cuda.blockIdx.x, O * I, cuda.gridDim.x):
        o = j // I
        base = ao + o * so + (j - o * I) * si
        if t < R:
            best = a[base + t * sr]
            idx = t
            if best == best:
                for r in range(t + THREADS, R, THREADS):
                    x = a[base + r * sr]
                    if x != x:
                        best = x
                        idx = r
                        break
                    if (op == 0 and x > best) or (op == 1 and x < best):
                        best = x
                        idx = r
            vals[t] = best
            idxs[t] = idx
        cuda.syncthreads()
        s = THREADS // 2
        while s > 0:
            if t < s and t + s < R:
                if _arg_better(op, vals[t], idxs[t], vals[t + s], idxs[t + s]):
                    vals[t] = vals[t + s]
                    idxs[t] = idxs[t + s]
            cuda.syncthreads()
            s //= 2
        if t == 0:
            values[j] = vals[0]
            indices[j] = idxs[0]
        cuda.syncthreads()


def argreduce(op, a, ao, so, sr, si, O, R, I, values, indices):
    """values/indices[o, i] = max or min over r (first occurrence; NaN wins, as in torch)."""
    n = O * I
    if n <= 0:
        return
    if _serial(R, n):
        _arg_serial[blocks(n), THREADS](op, a, ao, so, sr, si, O, R, I, values, indices)
    else:
        _arg_block[min(n, MAX_BLOCKS), THREADS](op, a, ao, so, sr, si, O, R, I, values, indices)


argreduce_par = argreduce


# ---------------------------------------------------------------------------------------------------------------
# cumsum / cumprod
# ---------------------------------------------------------------------------------------------------------------
@cuda.jit
def _scan_serial(op, a, ao, so, sr, si, O, R, I, out):
    for j in range(cuda.grid(1), O * I, cuda.gridsize(1)):
        o = j // I
        i = j - o * I
        base = ao + o * so + i * si
        acc = a[base]
        out[o * R * I + i] = acc
        for r in range(1, R):
            acc = _combine(op, acc, a[base + r * sr])
            out[(o * R + r) * I + i] = acc


@cuda.jit
def _scan_block(op, a, ao, so, sr, si, O, R, I, out):
    buf = cuda.shared.array(THREADS, out.dtype)
    carry = cuda.shared.array(1, out.dtype)
    t = cuda.threadIdx.x
    for j in range(cuda.blockIdx.x, O * I, cuda.gridDim.x):
        o = j // I
        i = j - o * I
        base = ao + o * so + i * si
        for lo in range(0, R, THREADS):
            r = lo + t
            if r < R:
                buf[t] = a[base + r * sr]
            c = carry[0]
            cuda.syncthreads()
            d = 1
            while d < THREADS:
                v = buf[t]
                if t >= d and r < R:
                    v = _combine(op, buf[t - d], v)
                cuda.syncthreads()
                if t >= d and r < R:
                    buf[t] = v
                cuda.syncthreads()
                d *= 2
            if r < R:
                v = buf[t]
                if lo > 0:
                    v = _combine(op, c, v)
                out[(o * R + r) * I + i] = v
                if r == R - 1 or t == THREADS - 1:
                    carry[0] = v
            cuda.syncthreads()


def scan(op, a, ao, so, sr, si, O, R, I, out):
    """Inclusive cumulative sum (op 0) or product (op 1) along r; out is contiguous (O, R, I)."""
    n = O * I
    if n <= 0 or R <= 0:
        return
    if _serial(R, n):
        _scan_serial[blocks(n), THREADS](op, a, ao, so, sr, si, O, R, I, out)
    else:
        _scan_block[min(n, MAX_BLOCKS), THREADS](op, a, ao, so, sr, si, O, R, I, out)
