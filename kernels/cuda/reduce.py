"""CUDA reduction and scan kernels.

Same functions and arguments as ``kernels/cpu/reduce.py``: ``out[o, i] = reduce_r a[ao + o*so + r*sr + i*si]``
with a contiguous ``out`` of ``O*I`` elements and ``R >= 1``. Three grid mappings:

* block per output (``_reduce_block``, ``_arg_block``, ``_scan_block``): the block's threads stride over ``r``
  (any ``R``), then fold their partials with a shared-memory tree (the scan walks ``r`` in block-sized tiles with a
  shared-memory Hillis-Steele scan and a carry).
* column tiles (``_reduce_cols``, for ``reduce_outer``): a 2-D block whose x threads cover neighbouring ``i`` (so
  loads coalesce) and whose y threads split ``r``, folded by a tree along y.
* thread per output (``*_serial``): a plain loop over ``r``, used when ``R`` is too short to fill a block.

Reductions, arg-reductions and scans with too few outputs to fill the GPU are multi-stage: ``r`` is cut into
chunks, a block (or column tile) per (output, chunk) writes a partial, and the same reduction runs again over the
partials (arg-reductions carry each partial's index along), so a full sum of a large tensor spreads over the whole
grid. A scan adds a third stage: each chunk's scan continues from the scanned total of the chunks before it.

Every block loops over its outputs grid-stride, so any ``O*I`` is covered. Partials start from an element, never
from a typed identity, and max/min keep propagating NaN; argmax/argmin break ties (and pick among NaNs) by the
lowest index, as the CPU's first-occurrence rule does.
"""

import math

from numba import cuda

from ._grid import MAX_BLOCKS, SIM, THREADS, blocks

CX = 4 if SIM else 32  # x threads of a column-tile block (one warp of neighbouring outputs on a GPU)
CY = THREADS // CX  # y threads splitting r; a power of two
# Long reductions over few outputs are split into chunks (a first launch writes partials, a second folds them)
# until about SPLIT_TARGET blocks have work: a few per multiprocessor on a GPU, more than the grid cap under the
# simulator so that tiny test shapes take the split path too.
SPLIT_TARGET = 4 * MAX_BLOCKS if SIM else 1024
SPLIT_ROW = 2 * THREADS if SIM else 8 * THREADS  # least elements per chunk of a row (block per output)
SPLIT_COL = 2 * CY if SIM else 8 * CY  # least rows per chunk of a column tile


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


@cuda.jit(device=True)
def _chunk(b, ao, so, sr, si, I, R, C, P):
    """For block item b = j*P + p (output j, chunk p): the offset of the chunk's first element, its first r and
    its length."""
    j = b // P
    p = b - j * P
    o = j // I
    L = R - p * C
    if L > C:
        L = C
    return ao + o * so + (j - o * I) * si + p * C * sr, p * C, L


@cuda.jit
def _reduce_block(op, a, ao, so, sr, si, O, R, I, C, P, out):
    """Block per (output j, chunk p): folds r in [p*C, p*C + C) of output j into out[j*P + p]."""
    vals = cuda.shared.array(THREADS, a.dtype)
    t = cuda.threadIdx.x
    for b in range(cuda.blockIdx.x, O * I * P, cuda.gridDim.x):
        base, _, L = _chunk(b, ao, so, sr, si, I, R, C, P)
        if t < L:
            acc = a[base + t * sr]
            for r in range(t + THREADS, L, THREADS):
                acc = _combine(op, acc, a[base + r * sr])
            vals[t] = acc
        cuda.syncthreads()
        # vals[t] holds a partial exactly when t < L, at every level of the tree
        s = THREADS // 2
        while s > 0:
            if t < s and t + s < L:
                vals[t] = _combine(op, vals[t], vals[t + s])
            cuda.syncthreads()
            s //= 2
        if t == 0:
            out[b] = vals[0]
        cuda.syncthreads()


@cuda.jit
def _reduce_cols(op, a, ao, so, sr, si, O, R, I, C, P, out):
    """Block per (o, chunk p, tile of CX outputs i): folds r in [p*C, p*C + C) into out[(o*P + p)*I + i]."""
    vals = cuda.shared.array((CY, CX), a.dtype)
    tx = cuda.threadIdx.x
    ty = cuda.threadIdx.y
    tiles = (I + CX - 1) // CX
    for b in range(cuda.blockIdx.x, O * P * tiles, cuda.gridDim.x):
        q = b // tiles
        o = q // P
        p = q - o * P
        i = (b - q * tiles) * CX + tx
        L = R - p * C
        if L > C:
            L = C
        if i < I and ty < L:
            base = ao + o * so + i * si + p * C * sr
            acc = a[base + ty * sr]
            for r in range(ty + CY, L, CY):
                acc = _combine(op, acc, a[base + r * sr])
            vals[ty, tx] = acc
        cuda.syncthreads()
        s = CY // 2
        while s > 0:
            if ty < s and ty + s < L and i < I:
                vals[ty, tx] = _combine(op, vals[ty, tx], vals[ty + s, tx])
            cuda.syncthreads()
            s //= 2
        if ty == 0 and i < I:
            out[q * I + i] = vals[0, tx]
        cuda.syncthreads()


def _split(units, R, per_thread):
    """(C, P): chunks of C elements, P per output, so that ``units`` blocks of work become about SPLIT_TARGET.

    A few long reductions (a full sum, a column sum of a tall matrix) would otherwise run on a handful of blocks
    and leave most of the GPU idle; each chunk gets at least ``per_thread`` elements per thread."""
    if units >= SPLIT_TARGET or R < 2 * per_thread:
        return R, 1
    P = min(-(-SPLIT_TARGET // units), R // per_thread)
    C = -(-R // P)
    return C, -(-R // C)


def reduce_inner(op, a, ao, so, sr, si, O, R, I, out):
    n = O * I
    if n <= 0:
        return
    if _serial(R, n):
        _reduce_serial[blocks(n), THREADS](op, a, ao, so, sr, si, O, R, I, out)
        return
    C, P = _split(n, R, SPLIT_ROW)
    if P == 1:
        _reduce_block[min(n, MAX_BLOCKS), THREADS](op, a, ao, so, sr, si, O, R, I, R, 1, out)
        return
    part = cuda.device_array(n * P, out.dtype)  # (n, P) partials, folded by a second (smaller) reduction
    _reduce_block[min(n * P, MAX_BLOCKS), THREADS](op, a, ao, so, sr, si, O, R, I, C, P, part)
    reduce_inner(op, part, 0, P, 1, 0, n, P, 1, out)


def reduce_inner_par(op, a, ao, so, sr, si, O, R, I, out, nc):
    """``nc`` (the CPU's chunk count) is ignored: the launch covers every output."""
    reduce_inner(op, a, ao, so, sr, si, O, R, I, out)


def reduce_outer(op, a, ao, so, sr, si, O, R, I, out):
    if O * I <= 0:
        return
    if I < CX:  # too narrow for coalesced column tiles: reduce each output along r instead
        reduce_inner(op, a, ao, so, sr, si, O, R, I, out)
        return
    tiles = O * ((I + CX - 1) // CX)
    C, P = _split(tiles, R, SPLIT_COL)
    if P == 1:
        _reduce_cols[min(tiles, MAX_BLOCKS), (CX, CY)](op, a, ao, so, sr, si, O, R, I, R, 1, out)
        return
    part = cuda.device_array(O * P * I, out.dtype)  # (O, P, I) partials, folded over P by a second launch
    _reduce_cols[min(tiles * P, MAX_BLOCKS), (CX, CY)](op, a, ao, so, sr, si, O, R, I, C, P, part)
    reduce_outer(op, part, 0, P * I, I, 1, O, P, I, out)


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
def _arg_block(op, a, ao, so, sr, si, O, R, I, C, P, ix, given, values, indices):
    """Block per (output j, chunk p) over r in [p*C, p*C + C), into values/indices[j*P + p].

    The index of element r is p*C + r, or, when ``given``, ix[its offset in a] (a second pass over the partials of
    a split reduction, which are laid out like ``a``)."""
    vals = cuda.shared.array(THREADS, a.dtype)
    idxs = cuda.shared.array(THREADS, indices.dtype)
    t = cuda.threadIdx.x
    for b in range(cuda.blockIdx.x, O * I * P, cuda.gridDim.x):
        base, r0, L = _chunk(b, ao, so, sr, si, I, R, C, P)
        if t < L:
            # indices grow with r, so a strict comparison and the first NaN keep the first occurrence
            best = a[base + t * sr]
            idx = ix[base + t * sr] if given else r0 + t
            if best == best:
                for r in range(t + THREADS, L, THREADS):
                    x = a[base + r * sr]
                    if x != x or (op == 0 and x > best) or (op == 1 and x < best):
                        best = x
                        idx = ix[base + r * sr] if given else r0 + r
                        if x != x:
                            break
            vals[t] = best
            idxs[t] = idx
        cuda.syncthreads()
        s = THREADS // 2
        while s > 0:
            if t < s and t + s < L:
                if _arg_better(op, vals[t], idxs[t], vals[t + s], idxs[t + s]):
                    vals[t] = vals[t + s]
                    idxs[t] = idxs[t + s]
            cuda.syncthreads()
            s //= 2
        if t == 0:
            values[b] = vals[0]
            indices[b] = idxs[0]
        cuda.syncthreads()


def argreduce(op, a, ao, so, sr, si, O, R, I, values, indices):
    """values/indices[o, i] = max or min over r (first occurrence; NaN wins, as in torch)."""
    n = O * I
    if n <= 0:
        return
    if _serial(R, n):
        _arg_serial[blocks(n), THREADS](op, a, ao, so, sr, si, O, R, I, values, indices)
    else:
        _argreduce_blocks(op, a, ao, so, sr, si, O, R, I, None, values, indices)


def argreduce_outer(op, a, ao, so, sr, si, O, R, I, values, indices):
    """The CPU's row-folding variant; on the GPU one thread per output already reads neighbouring columns together."""
    argreduce(op, a, ao, so, sr, si, O, R, I, values, indices)


def argreduce_outer_par(op, a, ao, so, sr, si, O, R, I, values, indices, block):
    """``block`` (the CPU's column block) is ignored."""
    argreduce(op, a, ao, so, sr, si, O, R, I, values, indices)


def _argreduce_blocks(op, a, ao, so, sr, si, O, R, I, ix, values, indices):
    """Block per output (and chunk); ``ix``: the indices of a's elements, or None for their positions."""
    n = O * I
    given = ix is not None
    ix = ix if given else indices  # never read then
    C, P = _split(n, R, SPLIT_ROW)
    if P == 1:
        _arg_block[min(n, MAX_BLOCKS), THREADS](op, a, ao, so, sr, si, O, R, I, R, 1, ix, given, values, indices)
        return
    pv = cuda.device_array(n * P, values.dtype)  # (n, P) partial values and their indices in the full row
    pi = cuda.device_array(n * P, indices.dtype)
    _arg_block[min(n * P, MAX_BLOCKS), THREADS](op, a, ao, so, sr, si, O, R, I, C, P, ix, given, pv, pi)
    _argreduce_blocks(op, pv, 0, P, 1, 0, n, P, 1, pi, values, indices)


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
def _scan_block(op, a, ao, so, sr, si, O, R, I, C, P, pre, out):
    """Block per (output j, chunk p): the inclusive scan of r in [p*C, p*C + C), continued from pre[j*P + p - 1]
    (the scan of the chunk totals) when p > 0."""
    buf = cuda.shared.array(THREADS, out.dtype)
    carry = cuda.shared.array(1, out.dtype)
    t = cuda.threadIdx.x
    for b in range(cuda.blockIdx.x, O * I * P, cuda.gridDim.x):
        j = b // P
        p = b - j * P
        o = j // I
        i = j - o * I
        base = ao + o * so + i * si
        r0 = p * C
        r1 = r0 + C
        if r1 > R:
            r1 = R
        if t == 0 and p > 0:
            carry[0] = pre[b - 1]
        cuda.syncthreads()
        for lo in range(r0, r1, THREADS):
            r = lo + t
            if r < r1:
                buf[t] = a[base + r * sr]
            c = carry[0]
            cuda.syncthreads()
            d = 1
            while d < THREADS:
                v = buf[t]
                if t >= d and r < r1:
                    v = _combine(op, buf[t - d], v)
                cuda.syncthreads()
                if t >= d and r < r1:
                    buf[t] = v
                cuda.syncthreads()
                d *= 2
            if r < r1:
                v = buf[t]
                if lo > r0 or p > 0:
                    v = _combine(op, c, v)
                out[(o * R + r) * I + i] = v
                if r == r1 - 1 or t == THREADS - 1:
                    carry[0] = v
            cuda.syncthreads()


def scan(op, a, ao, so, sr, si, O, R, I, out):
    """Inclusive cumulative sum (op 0) or product (op 1) along r; out is contiguous (O, R, I).

    Few long scans run in three stages: chunk totals (the block reduction), a scan of those totals, then each
    chunk's scan continued from the total before it."""
    n = O * I
    if n <= 0 or R <= 0:
        return
    if _serial(R, n):
        _scan_serial[blocks(n), THREADS](op, a, ao, so, sr, si, O, R, I, out)
        return
    C, P = _split(n, R, SPLIT_ROW)
    if P == 1:
        _scan_block[min(n, MAX_BLOCKS), THREADS](op, a, ao, so, sr, si, O, R, I, R, 1, out, out)
        return
    totals = cuda.device_array(n * P, out.dtype)
    _reduce_block[min(n * P, MAX_BLOCKS), THREADS](op, a, ao, so, sr, si, O, R, I, C, P, totals)
    pre = cuda.device_array(n * P, out.dtype)
    scan(op, totals, 0, P, 1, 0, n, P, 1, pre)
    _scan_block[min(n * P, MAX_BLOCKS), THREADS](op, a, ao, so, sr, si, O, R, I, C, P, pre, out)


scan_par = scan  # (the CPU's threaded variant; one kernel serves both here)


# ---------------------------------------------------------------------------------------------------------------
# cummax / cummin (argscan) and logcumsumexp (scan_logaddexp)
# ---------------------------------------------------------------------------------------------------------------
# These scans carry a pair (value, index) or a float in a combine that is not one of _combine's codes, so they run
# thread per (output, chunk of r) in three stages: each thread folds its chunk into a summary, one thread per output
# scans its P summaries serially (P is capped, so this stays short), and each thread rescans its chunk starting from
# the summary of the chunks before it. A thread per output alone covers the case where the outputs fill the GPU.
CHUNK_THREADS = 4 * THREADS * MAX_BLOCKS if SIM else 1 << 16  # (output, chunk) threads a split aims at
CHUNK_MIN = 2 if SIM else 64  # least elements per chunk
CHUNK_MAX_P = 4096  # most chunks per output


def _chunks(n, R):
    """(C, P): P chunks of C elements per output for n outputs of length R (P == 1: thread per output)."""
    if n >= CHUNK_THREADS or R < 2 * CHUNK_MIN:
        return R, 1
    P = min(-(-CHUNK_THREADS // n), R // CHUNK_MIN, CHUNK_MAX_P)
    C = -(-R // P)
    return C, -(-R // C)


@cuda.jit(device=True)
def _arg_take(op, x, v):
    """Whether x replaces the running extreme v (op 0 max, 1 min): a NaN always does, nothing replaces a NaN, and
    ties move the index forward (the last occurrence, as torch's cummax/cummin)."""
    if x != x:
        return True
    if v != v:
        return False
    return x >= v if op == 0 else x <= v


@cuda.jit
def _argscan_chunks(op, a, ao, so, sr, si, O, R, I, C, P, stage, sv, sx, values, indices):
    """Thread per (output j, chunk p) over r in [p*C, p*C + C). Stage 0 writes the chunk's (extreme, index) to
    sv/sx[j*P + p]; stage 1 writes the running values/indices, starting from the prefix summary sv/sx[j*P + p - 1]
    when p > 0."""
    for b in range(cuda.grid(1), O * I * P, cuda.gridsize(1)):
        j = b // P
        p = b - j * P
        o = j // I
        i = j - o * I
        base = ao + o * so + i * si
        r0 = p * C
        r1 = r0 + C
        if r1 > R:
            r1 = R
        if stage == 1 and p > 0:
            v = sv[b - 1]
            k = sx[b - 1]
            r = r0
        else:
            v = a[base + r0 * sr]
            k = r0
            if stage == 1:
                values[(o * R + r0) * I + i] = v
                indices[(o * R + r0) * I + i] = k
            r = r0 + 1
        while r < r1:
            x = a[base + r * sr]
            if _arg_take(op, x, v):
                v = x
                k = r
            if stage == 1:
                values[(o * R + r) * I + i] = v
                indices[(o * R + r) * I + i] = k
            r += 1
        if stage == 0:
            sv[b] = v
            sx[b] = k


@cuda.jit
def _argscan_summaries(op, n, P, sv, sx):
    """Thread per output: sv/sx[j*P + p] becomes the summary of chunks 0..p (an inclusive scan over p)."""
    for j in range(cuda.grid(1), n, cuda.gridsize(1)):
        v = sv[j * P]
        k = sx[j * P]
        for p in range(1, P):
            x = sv[j * P + p]
            if _arg_take(op, x, v):
                v = x
                k = sx[j * P + p]
            sv[j * P + p] = v
            sx[j * P + p] = k


def argscan(op, a, ao, so, sr, si, O, R, I, values, indices):
    """Running max (op 0) or min (op 1) along r and the index where it was last taken; values/indices are
    contiguous (O, R, I)."""
    n = O * I
    if n <= 0 or R <= 0:
        return
    C, P = _chunks(n, R)
    if P > 1:
        sv = cuda.device_array(n * P, values.dtype)
        sx = cuda.device_array(n * P, indices.dtype)
        _argscan_chunks[blocks(n * P), THREADS](op, a, ao, so, sr, si, O, R, I, C, P, 0, sv, sx, values, indices)
        _argscan_summaries[blocks(n), THREADS](op, n, P, sv, sx)
    else:
        sv, sx = values, indices  # not read with P == 1
    _argscan_chunks[blocks(n * P), THREADS](op, a, ao, so, sr, si, O, R, I, C, P, 1, sv, sx, values, indices)


argscan_par = argscan


@cuda.jit(device=True)
def _logaddexp(acc, x):
    """log(exp(acc) + exp(x)) without overflow; NaN propagates and equal infinities stay infinite."""
    if acc != acc or x != x:
        return acc + x
    hi = acc if acc > x else x
    lo = x if acc > x else acc
    if lo == -math.inf or hi == math.inf:
        return hi
    return hi + math.log1p(math.exp(lo - hi))


@cuda.jit
def _lse_chunks(a, ao, so, sr, si, O, R, I, C, P, stage, sv, out):
    """Thread per (output j, chunk p), as _argscan_chunks, for the running log-sum-exp."""
    for b in range(cuda.grid(1), O * I * P, cuda.gridsize(1)):
        j = b // P
        p = b - j * P
        o = j // I
        i = j - o * I
        base = ao + o * so + i * si
        r0 = p * C
        r1 = r0 + C
        if r1 > R:
            r1 = R
        if stage == 1 and p > 0:
            v = sv[b - 1]
            r = r0
        else:
            v = a[base + r0 * sr]
            if stage == 1:
                out[(o * R + r0) * I + i] = v
            r = r0 + 1
        while r < r1:
            v = _logaddexp(v, a[base + r * sr])
            if stage == 1:
                out[(o * R + r) * I + i] = v
            r += 1
        if stage == 0:
            sv[b] = v


@cuda.jit
def _lse_summaries(n, P, sv):
    for j in range(cuda.grid(1), n, cuda.gridsize(1)):
        v = sv[j * P]
        for p in range(1, P):
            v = _logaddexp(v, sv[j * P + p])
            sv[j * P + p] = v


def scan_logaddexp(a, ao, so, sr, si, O, R, I, out):
    """Inclusive log-cumulative-sum-exp along r (floating point); out is contiguous (O, R, I)."""
    n = O * I
    if n <= 0 or R <= 0:
        return
    C, P = _chunks(n, R)
    if P > 1:
        sv = cuda.device_array(n * P, out.dtype)
        _lse_chunks[blocks(n * P), THREADS](a, ao, so, sr, si, O, R, I, C, P, 0, sv, out)
        _lse_summaries[blocks(n), THREADS](n, P, sv)
    else:
        sv = out  # not read with P == 1
    _lse_chunks[blocks(n * P), THREADS](a, ao, so, sr, si, O, R, I, C, P, 1, sv, out)


scan_logaddexp_par = scan_logaddexp
