"""Sorting kernels for CUDA (the same functions and arguments as kernels/cpu/sort.py).

Rows are flat and contiguous: ``R`` rows of ``n`` elements. Every element gets the CPU's unsigned sort key (floats:
sign-flipped bits, NaN after +inf, -0.0 equal to +0.0; descending: the complement) and its position in the row;
elements are ordered by (key, position), a total order in which every sort is stable.

* ``sort_rows``: one block per tile of ``TILE`` elements sorts it in shared memory with a bitonic network (padded
  with sentinels that order last). Rows longer than a tile are then merged in passes: each pass merges neighbouring
  sorted runs of width w into runs of 2w, one thread per element, which finds its place by a binary search in the
  other run. Any length works; a row of a tile or less needs no merge pass.
* ``topk_rows``: for k <= ``KMAX``, each of C threads per row keeps the k best of every C-th element in registers,
  then the C*k candidates of each row (padded with sentinels) are sorted as above and the first k kept; larger k
  sorts whole rows.
* ``kth_rows`` (kthvalue, median, nanmedian): sorts the rows as above, then one thread per row picks the position
  (a binary search over the sorted keys counts the NaNs, which sort last).
* ``unique_runs``: flags where a sorted neighbour differs, an inclusive scan of the flags (the reduce module's
  scan) numbers the runs, one thread per element writes its run's value and start; the run count is read back to
  the host (one integer) because the caller sizes its outputs by it.
* ``mode_rows``: one thread per sorted row walks its runs.

Under the simulator tiles and blocks are tiny (see ``_grid``), so small test rows take the multi-tile merge path.
"""
import numpy as np
from numba import cuda

from ..sortkeys import key_view as _key_view
from ._grid import MAX_BLOCKS, SIM, THREADS, blocks
from .reduce import scan as _scan

TILE = 16 if SIM else 2048  # elements sorted by one block in shared memory (a power of two)
TT = 8 if SIM else 512  # threads of a tile-sorting block
KMAX = 16  # largest k selected with per-thread candidate lists
U64 = np.uint64
ALL_ONES = U64(0xFFFFFFFFFFFFFFFF)
SENTINEL_IDX = np.int64(0x7FFFFFFFFFFFFFFF)


def _consts(itemsize):
    sign = U64(1) << U64(itemsize * 8 - 1)
    mask = sign | (sign - U64(1))
    inf = U64(0x7FF0000000000000) if itemsize == 8 else U64(0x7F800000)
    return sign, mask, inf


@cuda.jit(device=True)
def _key(b, kind, desc, sign, mask, inf):
    k = U64(b)
    if kind == 1:
        k = k ^ sign
    elif kind == 2:
        mag = k & (mask ^ sign)
        if mag > inf:
            k = mask
        elif mag == U64(0):
            k = sign
        elif (k & sign) != U64(0):
            k = (~k) & mask
        else:
            k = k | sign
    if desc:
        k = (~k) & mask
    return k


@cuda.jit(device=True)
def _less(ka, ia, kb, ib):
    return ka < kb or (ka == kb and ia < ib)


@cuda.jit
def _make_keys(bits, kind, desc, sign, mask, inf, N, n, keys, idx):
    for i in range(cuda.grid(1), N, cuda.gridsize(1)):
        keys[i] = _key(bits[i], kind, desc, sign, mask, inf)
        idx[i] = i % n


@cuda.jit
def _tile_sort(keys, idx, R, n, tiles, okeys, oidx):
    """Block per (row, tile): a bitonic sort of the tile's (key, position) pairs in shared memory."""
    sk = cuda.shared.array(TILE, np.uint64)
    si = cuda.shared.array(TILE, np.int64)
    t = cuda.threadIdx.x
    for b in range(cuda.blockIdx.x, R * tiles, cuda.gridDim.x):
        r = b // tiles
        start = (b - r * tiles) * TILE
        L = n - start
        if L > TILE:
            L = TILE
        base = r * n + start
        for q in range(t, TILE, TT):
            if q < L:
                sk[q] = keys[base + q]
                si[q] = idx[base + q]
            else:
                sk[q] = ALL_ONES
                si[q] = SENTINEL_IDX
        cuda.syncthreads()
        k = 2
        while k <= TILE:
            j = k // 2
            while j > 0:
                for p in range(t, TILE // 2, TT):
                    i = 2 * j * (p // j) + (p % j)
                    q = i + j
                    up = (i & k) == 0
                    if _less(sk[q], si[q], sk[i], si[i]) == up:
                        tk = sk[i]
                        sk[i] = sk[q]
                        sk[q] = tk
                        ti = si[i]
                        si[i] = si[q]
                        si[q] = ti
                cuda.syncthreads()
                j //= 2
            k *= 2
        for q in range(t, L, TT):
            okeys[base + q] = sk[q]
            oidx[base + q] = si[q]
        cuda.syncthreads()


@cuda.jit
def _merge(kin, iin, kout, iout, N, n, w):
    """Merge neighbouring sorted runs of width w of every row into runs of 2w (thread per element)."""
    for i in range(cuda.grid(1), N, cuda.gridsize(1)):
        r = i // n
        base = r * n
        p = i - base
        run = p // w
        start = run * w
        other = start + w if run % 2 == 0 else start - w
        key = kin[i]
        ix = iin[i]
        if other >= n:
            kout[i] = key
            iout[i] = ix
            continue
        olen = n - other
        if olen > w:
            olen = w
        lo = 0
        hi = olen
        while lo < hi:
            mid = (lo + hi) // 2
            if _less(kin[base + other + mid], iin[base + other + mid], key, ix):
                lo = mid + 1
            else:
                hi = mid
        first = start if start < other else other
        dst = base + first + (p - start) + lo
        kout[dst] = key
        iout[dst] = ix


def _sort_keyed(keys, idx, R, n, tk, ti):
    """Sort the (key, position) pairs of R rows of n; uses tk/ti as the second buffer. Returns the (keys, idx)
    pair of arrays that holds the result."""
    N = R * n
    tiles = (n + TILE - 1) // TILE
    _tile_sort[min(R * tiles, MAX_BLOCKS), TT](keys, idx, R, n, tiles, tk, ti)
    src = (tk, ti)
    dst = (keys, idx)
    w = TILE
    while w < n:
        _merge[blocks(N), THREADS](src[0], src[1], dst[0], dst[1], N, n, w)
        src, dst = dst, src
        w *= 2
    return src


@cuda.jit
def _gather_rows(a, order, N, n, vals, idx, write_idx):
    for i in range(cuda.grid(1), N, cuda.gridsize(1)):
        j = order[i]
        vals[i] = a[(i // n) * n + j]
        if write_idx:
            idx[i] = j


def _keys_of(a, N, n, desc):
    bits, kind = _key_view(a)
    sign, mask, inf = _consts(bits.dtype.itemsize)
    keys = cuda.device_array(N, np.uint64)
    idx = cuda.device_array(N, np.int64)
    _make_keys[blocks(N), THREADS](bits, kind, bool(desc), sign, mask, inf, N, n, keys, idx)
    return keys, idx


def sort_rows(a, R, n, descending, vals, idx):
    """Stable sort of each of the R rows of n elements of ``a``: vals[r] = sorted row, idx[r] = int64 positions
    (``idx=None``: values only)."""
    N = R * n
    if N == 0:
        return
    keys, pos = _keys_of(a, N, n, descending)
    _, order = _sort_keyed(keys, pos, R, n, cuda.device_array(N, np.uint64), cuda.device_array(N, np.int64))
    out_idx = idx if idx is not None else order
    _gather_rows[blocks(N), THREADS](a, order, N, n, vals, out_idx, idx is not None)


@cuda.jit
def _topk_candidates(bits, kind, desc, sign, mask, inf, R, n, k, C, ck, ci):
    """Thread per (row, slot c): the k best (key, position) pairs among positions c, c+C, ... of the row, padded
    with sentinels (all-ones key, a distinct position >= n) when the slot has fewer than k elements."""
    lk = cuda.local.array(KMAX, np.uint64)
    li = cuda.local.array(KMAX, np.int64)
    for g in range(cuda.grid(1), R * C, cuda.gridsize(1)):
        r = g // C
        c = g - r * C
        base = r * n
        cnt = 0
        for j in range(c, n, C):
            key = _key(bits[base + j], kind, desc, sign, mask, inf)
            if cnt < k or key < lk[k - 1]:  # positions grow, so a tie never displaces an earlier element
                p = cnt if cnt < k else k - 1
                while p > 0 and key < lk[p - 1]:
                    lk[p] = lk[p - 1]
                    li[p] = li[p - 1]
                    p -= 1
                lk[p] = key
                li[p] = j
                if cnt < k:
                    cnt += 1
        out = g * k
        for t in range(k):
            if t < cnt:
                ck[out + t] = lk[t]
                ci[out + t] = li[t]
            else:
                ck[out + t] = ALL_ONES
                ci[out + t] = n + c * k + t


@cuda.jit
def _take_first(a, order, R, n, m, k, vals, idx):
    """vals/idx (R, k) = the first k of each sorted row of m positions into rows of n elements of a."""
    for i in range(cuda.grid(1), R * k, cuda.gridsize(1)):
        r = i // k
        j = order[r * m + (i - r * k)]
        vals[i] = a[r * n + j]
        idx[i] = j


def topk_rows(a, R, n, k, largest, vals, idx):
    """The k largest (or smallest) elements of each row, best first (ties: lower position first), into flat
    (R, k) vals and int64 idx. NaN is larger than every number. 0 <= k <= n."""
    if R * k == 0:
        return
    C = min(-(-n // (4 * k)), THREADS)
    if k > KMAX or C <= 1:
        N = R * n
        keys, pos = _keys_of(a, N, n, largest)
        _, order = _sort_keyed(keys, pos, R, n, cuda.device_array(N, np.uint64), cuda.device_array(N, np.int64))
        _take_first[blocks(R * k), THREADS](a, order, R, n, n, k, vals, idx)
        return
    bits, kind = _key_view(a)
    sign, mask, inf = _consts(bits.dtype.itemsize)
    m = C * k
    ck = cuda.device_array(R * m, np.uint64)
    ci = cuda.device_array(R * m, np.int64)
    _topk_candidates[blocks(R * C), THREADS](bits, kind, bool(largest), sign, mask, inf, R, n, k, C, ck, ci)
    _, order = _sort_keyed(ck, ci, R, m, cuda.device_array(R * m, np.uint64), cuda.device_array(R * m, np.int64))
    _take_first[blocks(R * k), THREADS](a, order, R, n, m, k, vals, idx)


@cuda.jit
def _pick_kth(a, keys, order, R, n, k, rule, is_float, nan_key, vals, idx):
    """Thread per sorted row: the element at position k, or as median/nanmedian's rule says (see kth_rows); NaN
    keys (all ones) sort last, so a binary search finds how many elements are not NaN."""
    for r in range(cuda.grid(1), R, cuda.gridsize(1)):
        base = r * n
        pos = k
        if rule != 0 and is_float:
            lo = 0
            hi = n
            while lo < hi:
                mid = (lo + hi) // 2
                if keys[base + mid] < nan_key:
                    lo = mid + 1
                else:
                    hi = mid
            if rule == 1:
                if lo < n:
                    pos = lo
            else:
                pos = (lo - 1) // 2 if lo > 0 else 0
        j = order[base + pos]
        vals[r] = a[base + j]
        idx[r] = j


def kth_rows(a, R, n, k, rule, vals, idx):
    """For each of the R rows of n > 0 elements: vals[r], idx[r] = the element (and its position) that a stable
    ascending sort puts at position k (0 <= k < n). ``rule`` 1 (median) picks the row's first NaN instead when it
    has one; rule 2 (nanmedian) picks position max((non-NaN count - 1) // 2, 0). Sorts the rows (no selection
    kernel here), then one thread per row picks."""
    if R == 0:
        return
    N = R * n
    keys, pos = _keys_of(a, N, n, False)
    skeys, order = _sort_keyed(keys, pos, R, n, cuda.device_array(N, np.uint64), cuda.device_array(N, np.int64))
    bits, _ = _key_view(a)
    _, mask, _ = _consts(bits.dtype.itemsize)
    _pick_kth[blocks(R), THREADS](a, skeys, order, R, n, k, rule, a.dtype.kind == "f", mask, vals, idx)


# ---------------------------------------------------------------------------------------------------------------
# runs of equal values
# ---------------------------------------------------------------------------------------------------------------
@cuda.jit
def _run_flags(s, n, flags):
    for i in range(cuda.grid(1), n, cuda.gridsize(1)):
        flags[i] = 1 if i == 0 or s[i] != s[i - 1] else 0  # != : each NaN is its own run


@cuda.jit
def _run_scatter(s, perm, identity, with_inverse, flags, run, n, out, starts, inverse):
    for i in range(cuda.grid(1), n, cuda.gridsize(1)):
        rid = run[i] - 1
        if flags[i]:
            out[rid] = s[i]
            starts[rid] = i
        if with_inverse:
            inverse[i if identity else perm[i]] = rid


@cuda.jit
def _run_counts(starts, m, n, counts):
    for r in range(cuda.grid(1), m, cuda.gridsize(1)):
        end = starts[r + 1] if r + 1 < m else n
        counts[r] = end - starts[r]


def unique_runs(s, perm, n, out, inverse, counts):
    """Compact the runs of equal neighbours of ``s`` (n > 0 elements): out[:m] = the first value of each run and,
    unless None, counts[:m] = their lengths and inverse[perm[i]] = the run of s[i] (inverse[i] when ``perm`` is
    None). Returns m (read back to the host)."""
    flags = cuda.device_array(n, np.int64)
    run = cuda.device_array(n, np.int64)
    _run_flags[blocks(n), THREADS](s, n, flags)
    _scan(0, flags, 0, n, 1, 0, 1, n, 1, run)
    m = int(run[n - 1:n].copy_to_host()[0])
    starts = cuda.device_array(m, np.int64)
    dummy = flags  # stands in for the arrays that are not written
    _run_scatter[blocks(n), THREADS](s, dummy if perm is None else perm, perm is None, inverse is not None, flags,
                                     run, n, out, starts, dummy if inverse is None else inverse)
    if counts is not None:
        _run_counts[blocks(m), THREADS](starts, m, n, counts)
    return m


@cuda.jit
def _mode_rows(s, order, R, n, vals, idx):
    for r in range(cuda.grid(1), R, cuda.gridsize(1)):
        base = r * n
        best = 0
        best_end = base
        run = 0
        for i in range(n):
            run += 1
            if i == n - 1 or s[base + i] != s[base + i + 1]:
                if run > best:
                    best = run
                    best_end = base + i
                run = 0
        vals[r] = s[best_end]
        idx[r] = order[best_end]


def mode_rows(s, order, R, n, vals, idx):
    """For sorted rows: the value of the longest run (the first such run on ties, i.e. the smallest value) and the
    position recorded at the run's last element (for a stable sort, the value's last occurrence)."""
    if R:
        _mode_rows[blocks(R), THREADS](s, order, R, n, vals, idx)
