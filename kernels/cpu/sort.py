"""Sorting kernels for the CPU: stable row sorts, top-k selection, and run compaction for unique and mode.

Every public function takes flat contiguous arrays: ``R`` rows of ``n`` elements, row ``r`` at ``a[r*n:(r+1)*n]``
(the launcher moves the sorted dim last and makes it contiguous). Outputs are preallocated flat arrays.

Sorting is an LSD radix sort on an unsigned key per element, so it is stable and O(n) per digit:

* floats: the bits with the sign bit flipped for positives and all bits flipped for negatives, so unsigned order is
  numeric order; every NaN maps to the largest key (NaN sorts after +inf, as in PyTorch) and -0.0 to +0.0's key
  (they compare equal, so a stable sort keeps their input order);
* signed integers: the bits with the sign bit flipped; unsigned and bool: the bits;
* descending: the complement of the key, which reverses the order and keeps ties in input order.

A first pass computes the keys and which bits differ between them; digits in which no key differs (e.g. the high
bytes of small int64 values) are skipped, and one more pass counts the remaining digits' histograms. Long rows
of wide keys sorted with positions take one MSD pass into 2048 buckets first, then sort each bucket in cache.
Integers are written back from their keys (no gather); floats are gathered from the row so that -0.0 and NaN
payloads survive.
Rows of up to ``SMALL`` elements use an insertion sort instead. Many rows are split over the threads in chunks;
one long row is sorted by one thread (a barrier per digit pass made a two-thread version 2-7x slower on the
shared, loaded machine this was measured on).

kthvalue/median/nanmedian (``kth_rows``) use a radix select per row: bytes from the most significant one, keeping
only the bucket that holds the wanted rank, so the result is the element a stable sort would put there.

Top-k keeps a sorted buffer of the k best (value, index) pairs per row and screens blocks of ``BLOCK`` elements
with one vectorisable comparison against the current k-th best; k above ``TOPK_BUF`` sorts the whole row.
"""
import numpy as np
from numba import njit, prange

from ..sortkeys import key_view as _key_view
from ._threads import num_threads

U64 = np.uint64
SMALL = 16  # rows up to this length: insertion sort (no histograms to clear)
TOPK_BUF = 64  # largest k selected with the sorted buffer; larger k sorts the whole row
PAR = 1 << 15  # elements from which rows are split over threads
BIG_ROW = 1 << 16  # rows from this length use 11-bit digits (fewer passes; the 2048-bucket histograms amortise)
MAX_PASSES = 8
BLOCK = 16  # top-k screens this many elements per test


def _key_dtype(a):
    return np.uint64 if a.dtype.itemsize == 8 else np.uint32


@njit(cache=True, inline="always")
def _consts(itemsize):
    """(sign bit, all-ones mask, bits of +inf) for keys of ``itemsize`` bytes."""
    sign = U64(1) << U64(itemsize * 8 - 1)
    mask = sign | (sign - U64(1))
    inf = U64(0x7FF0000000000000) if itemsize == 8 else U64(0x7F800000)
    return sign, mask, inf


@njit(cache=True, inline="always")
def _key(b, kind, desc, exact, sign, mask, inf):
    """The unsigned sort key of element bits ``b``; ``exact`` keeps -0.0 apart from +0.0 (so that the key can be
    turned back into the value), otherwise -0.0 takes +0.0's key (they compare equal: a stable sort keeps them in
    input order)."""
    k = U64(b)
    if kind == 1:
        k = k ^ sign
    elif kind == 2:
        mag = k & (mask ^ sign)
        if mag > inf:
            k = mask  # NaN (any sign or payload): after +inf
        elif mag == U64(0) and not exact:
            k = sign
        elif (k & sign) != U64(0):
            k = (~k) & mask
        else:
            k = k | sign
    if desc:
        k = (~k) & mask
    return k


@njit(cache=True, inline="always")
def _unkey(k, kind, desc, sign, mask):
    """The element bits of key ``k`` (NaN keys give a NaN)."""
    k = U64(k)
    if desc:
        k = (~k) & mask
    if kind == 1:
        return k ^ sign
    if kind == 2:
        return k ^ sign if (k & sign) != U64(0) else (~k) & mask
    return k


@njit(cache=True, inline="always")
def _lsd_range(ck, ci, tk, ti, lo, hi, with_idx, hist):
    """Stable LSD sort (bytes) of ck[lo:hi] (and positions ci) with tk/ti[lo:hi] as scratch, skipping bytes in
    which no key of the range differs; the result ends in ck/ci."""
    if hi - lo <= SMALL:
        for j in range(lo + 1, hi):
            kj = ck[j]
            ij = ci[j] if with_idx else 0
            p = j
            while p > lo and ck[p - 1] > kj:
                ck[p] = ck[p - 1]
                if with_idx:
                    ci[p] = ci[p - 1]
                p -= 1
            ck[p] = kj
            if with_idx:
                ci[p] = ij
        return
    k0 = U64(ck[lo])
    differ = U64(0)
    for j in range(lo, hi):
        differ |= U64(ck[j]) ^ k0
    in_t = False
    for p in range(ck.itemsize):
        sh = U64(8 * p)
        if ((differ >> sh) & U64(255)) == U64(0):
            continue
        sk, si, dk, di = (tk, ti, ck, ci) if in_t else (ck, ci, tk, ti)
        for d in range(256):
            hist[d] = 0
        for j in range(lo, hi):
            hist[(U64(sk[j]) >> sh) & U64(255)] += 1
        total = lo
        for d in range(256):
            c = hist[d]
            hist[d] = total
            total += c
        for j in range(lo, hi):
            k = sk[j]
            d = (U64(k) >> sh) & U64(255)
            q = hist[d]
            hist[d] = q + 1
            dk[q] = k
            if with_idx:
                di[q] = si[j]
        in_t = not in_t
    if in_t:
        for j in range(lo, hi):
            ck[j] = tk[j]
            if with_idx:
                ci[j] = ti[j]


@njit(cache=True)
def _msd_sort(keys, idx, tk, ti, n, differ, with_idx, hist):
    """Sort keys (positions: the identity) into tk/ti: one stable pass on the 11 highest differing bits scatters
    into 2048 buckets, then each bucket is LSD-sorted by bytes while it sits in cache. Measured on 1M keys with
    positions, one thread: 62-bit int64 40 -> 30 ms, float64 41 -> 32 ms; without positions, and for keys of three
    or fewer 11-bit digits, the plain LSD passes were faster, so they keep them."""
    hb = 0
    d = differ
    while d > U64(1):
        d = d >> U64(1)
        hb += 1
    B = 2048
    sh = U64(max(hb + 1 - 11, 0))
    bmask = U64(B - 1)
    start = hist[1]
    fill = hist[2]
    for b in range(B):
        fill[b] = 0
    for j in range(n):
        fill[(U64(keys[j]) >> sh) & bmask] += 1
    total = 0
    for b in range(B):
        c = fill[b]
        start[b] = total
        fill[b] = total
        total += c
    for j in range(n):
        k = keys[j]
        b = (U64(k) >> sh) & bmask
        q = fill[b]
        fill[b] = q + 1
        tk[q] = k
        if with_idx:
            ti[q] = j
    for b in range(B):
        lo = start[b]
        hi = start[b + 1] if b + 1 < B else n
        if hi > lo:
            _lsd_range(tk, ti, keys, idx, lo, hi, with_idx, hist[0])
    return tk, ti


@njit(cache=True)
def _sort_row(bits, kind, desc, with_idx, base, n, keys, idx, tk, ti, hist):
    """Stable sort of row ``bits[base:base+n]`` by key. Returns (keys, positions) arrays holding the sorted row:
    (keys, idx) or (tk, ti); positions are only written when ``with_idx``."""
    sign, mask, inf = _consts(bits.itemsize)
    exact = not with_idx
    if n <= SMALL:
        for j in range(n):
            k = _key(bits[base + j], kind, desc, exact, sign, mask, inf)
            p = j
            while p > 0 and U64(keys[p - 1]) > k:
                keys[p] = keys[p - 1]
                idx[p] = idx[p - 1]
                p -= 1
            keys[p] = k
            idx[p] = j
        return keys, idx
    D = 11 if n >= BIG_ROW else 8
    B = 1 << D
    dmask = U64(B - 1)
    P = (bits.itemsize * 8 + D - 1) // D
    k0 = _key(bits[base], kind, desc, exact, sign, mask, inf)
    differ = U64(0)  # bits in which some key differs from the first: digits without any are skipped
    for j in range(n):
        k = _key(bits[base + j], kind, desc, exact, sign, mask, inf)
        keys[j] = k
        differ |= k ^ k0
    live = 0
    for p in range(P):
        if (differ >> U64(p * D)) & dmask:
            live |= 1 << p
            for d in range(B):
                hist[p, d] = 0
    if live == 0:  # all keys equal: already in order
        if with_idx:
            for j in range(n):
                idx[j] = j
        return keys, idx
    passes = 0
    for p in range(P):
        passes += (live >> p) & 1
    if with_idx and n >= BIG_ROW and passes >= 4:  # wide keys with positions: one MSD pass first is faster
        return _msd_sort(keys, idx, tk, ti, n, differ, with_idx, hist)
    for j in range(n):
        k = U64(keys[j])
        for p in range(P):
            if live & (1 << p):
                hist[p, (k >> U64(p * D)) & dmask] += 1
    sk, si, dk, di = keys, idx, tk, ti
    first = True
    for p in range(P):
        if not live & (1 << p):
            continue
        sh = U64(p * D)
        total = 0
        for d in range(B):
            c = hist[p, d]
            hist[p, d] = total
            total += c
        if not with_idx:
            for j in range(n):
                k = sk[j]
                d = (U64(k) >> sh) & dmask
                q = hist[p, d]
                hist[p, d] = q + 1
                dk[q] = k
        elif first:  # the initial order is the identity: no index array to read
            for j in range(n):
                k = sk[j]
                d = (U64(k) >> sh) & dmask
                q = hist[p, d]
                hist[p, d] = q + 1
                dk[q] = k
                di[q] = j
        else:
            for j in range(n):
                k = sk[j]
                d = (U64(k) >> sh) & dmask
                q = hist[p, d]
                hist[p, d] = q + 1
                dk[q] = k
                di[q] = si[j]
        first = False
        sk, si, dk, di = dk, di, sk, si
    return sk, si


@njit(cache=True, inline="always")
def _emit(a, bits, kind, desc, with_idx, base, sk, si, n, vals, vbits, idx, ob):
    """Write a sorted row: integers come back from their keys (no gather); floats are gathered from the row so
    that -0.0 and NaN payloads survive (except without positions, where the keys are exact)."""
    sign, mask, inf = _consts(bits.itemsize)
    if with_idx:
        for j in range(n):
            idx[ob + j] = si[j]
        if kind == 2:
            for j in range(n):
                vals[ob + j] = a[base + si[j]]
            return
    for j in range(n):
        vbits[ob + j] = _unkey(sk[j], kind, desc, sign, mask)


@njit(cache=True)
def _sort_rows(a, bits, kind, desc, with_idx, R, n, vals, vbits, idx, proto):
    hist = np.empty((MAX_PASSES, 2048), np.int64)
    keys = np.empty(n, proto.dtype)
    tk = np.empty(n, proto.dtype)
    order = np.empty(n, np.int64)
    ti = np.empty(n, np.int64)
    for r in range(R):
        sk, si = _sort_row(bits, kind, desc, with_idx, r * n, n, keys, order, tk, ti, hist)
        _emit(a, bits, kind, desc, with_idx, r * n, sk, si, n, vals, vbits, idx, r * n)


@njit(cache=True, parallel=True)
def _sort_rows_par(a, bits, kind, desc, with_idx, R, n, vals, vbits, idx, proto, nc):
    per = (R + nc - 1) // nc
    for c in prange(nc):
        # scratch per chunk of rows (not per row)
        hist = np.empty((MAX_PASSES, 2048), np.int64)
        keys = np.empty(n, proto.dtype)
        tk = np.empty(n, proto.dtype)
        order = np.empty(n, np.int64)
        ti = np.empty(n, np.int64)
        for r in range(c * per, min(R, (c + 1) * per)):
            sk, si = _sort_row(bits, kind, desc, with_idx, r * n, n, keys, order, tk, ti, hist)
            _emit(a, bits, kind, desc, with_idx, r * n, sk, si, n, vals, vbits, idx, r * n)


def sort_rows(a, R, n, descending, vals, idx):
    """Stable sort of each of the R rows of n elements of ``a``: vals[r] = sorted row, idx[r] = int64 positions.
    ``idx=None`` sorts the values only (faster: no positions to carry)."""
    if R * n == 0:
        return
    bits, kind = _key_view(a)
    vbits, _ = _key_view(vals)
    with_idx = idx is not None
    if not with_idx:
        idx = np.empty(0, np.int64)
    proto = np.empty(0, _key_dtype(a))
    if R > 1 and R * n >= PAR:
                _sort_rows_par(a, bits, kind, bool(descending), with_idx, R, n, vals, vbits, idx, proto,
                       min(R, 4 * num_threads()))
    else:
        _sort_rows(a, bits, kind, bool(descending), with_idx, R, n, vals, vbits, idx, proto)


# ---------------------------------------------------------------------------------------------------------------
# top-k
# ---------------------------------------------------------------------------------------------------------------
@njit(cache=True, inline="always")
def _before(x, y, largest):
    """Whether x is selected before y (NaN counts as the largest value)."""
    if largest:
        return x > y or (x != x and y == y)
    return x < y or (y != y and x == x)


@njit(cache=True, inline="always")
def _topk_row(a, base, n, k, largest, bv, bi):
    """The k best (value, position) pairs of a row into bv/bi, best first, ties by lower position."""
    for j in range(k):
        x = a[base + j]
        p = j
        while p > 0 and _before(x, bv[p - 1], largest):
            bv[p] = bv[p - 1]
            bi[p] = bi[p - 1]
            p -= 1
        bv[p] = x
        bi[p] = j
    last = k - 1
    j = k
    while j < n:
        # a block of BLOCK elements is screened with one vectorisable test: "not (x <= worst)" (resp. >=) holds for
        # every element that could enter the buffer (and for NaNs, which the exact test below sorts out)
        end = min(n, j + BLOCK)
        worst = bv[last]
        hit = False
        if largest:
            for t in range(j, end):
                hit |= not (a[base + t] <= worst)
        else:
            for t in range(j, end):
                hit |= not (a[base + t] >= worst)
        if hit:
            for t in range(j, end):
                x = a[base + t]
                if _before(x, bv[last], largest):
                    p = last
                    while p > 0 and _before(x, bv[p - 1], largest):
                        bv[p] = bv[p - 1]
                        bi[p] = bi[p - 1]
                        p -= 1
                    bv[p] = x
                    bi[p] = t
        j = end


@njit(cache=True)
def _topk_rows(a, R, n, k, largest, vals, idx):
    bv = np.empty(k, a.dtype)
    bi = np.empty(k, np.int64)
    for r in range(R):
        _topk_row(a, r * n, n, k, largest, bv, bi)
        for t in range(k):
            vals[r * k + t] = bv[t]
            idx[r * k + t] = bi[t]


@njit(cache=True, parallel=True)
def _topk_rows_par(a, R, n, k, largest, vals, idx, nc):
    per = (R + nc - 1) // nc
    for c in prange(nc):
        bv = np.empty(k, a.dtype)
        bi = np.empty(k, np.int64)
        for r in range(c * per, min(R, (c + 1) * per)):
            _topk_row(a, r * n, n, k, largest, bv, bi)
            for t in range(k):
                vals[r * k + t] = bv[t]
                idx[r * k + t] = bi[t]


@njit(cache=True)
def _take_first(src_v, src_i, R, n, k, vals, idx):
    for r in range(R):
        for t in range(k):
            vals[r * k + t] = src_v[r * n + t]
            idx[r * k + t] = src_i[r * n + t]


def topk_rows(a, R, n, k, largest, vals, idx):
    """The k largest (or smallest) elements of each row, best first (ties: lower position first), into flat
    (R, k) vals and int64 idx. NaN is larger than every number. 0 <= k <= n."""
    if R * k == 0:
        return
    if k > TOPK_BUF:
        sv = np.empty(R * n, a.dtype)
        si = np.empty(R * n, np.int64)
        sort_rows(a, R, n, largest, sv, si)
        _take_first(sv, si, R, n, k, vals, idx)
    elif R > 1 and R * n >= PAR:
                _topk_rows_par(a, R, n, k, bool(largest), vals, idx, min(R, 4 * num_threads()))
    else:
        _topk_rows(a, R, n, k, bool(largest), vals, idx)


# ---------------------------------------------------------------------------------------------------------------
# k-th smallest: kthvalue, median, nanmedian
# ---------------------------------------------------------------------------------------------------------------
@njit(cache=True, inline="always")
def _kth_row(a, bits, kind, base, n, k, rule, keys, idx, tk, ti, hist):
    """(value, position) of the selected element of one row: rule 0 the k-th smallest (from 0); 1 (median) the
    k-th, or the first NaN when the row has one; 2 (nanmedian) the lower median of the non-NaN elements, or the
    first NaN when all are NaN.

    Radix select, most significant byte first: count the current candidates' byte, keep (in input order) only
    those in the bucket that holds the target rank, repeat on the next byte. What is left after the last byte has
    one key, in input order, so the target is the one a stable sort puts at that rank."""
    sign, mask, inf = _consts(bits.itemsize)
    nans = 0
    for j in range(n):
        kk = _key(bits[base + j], kind, False, False, sign, mask, inf)
        keys[j] = kk
        if kind == 2 and kk == mask:
            nans += 1
    target = k
    if rule == 1 and nans:
        target = n - nans
    elif rule == 2:
        target = max((n - nans - 1) // 2, 0)
    m = n
    ck, ci, dk, di = keys, idx, tk, ti
    ident = True  # candidates are still the whole row in order: positions are implicit
    for p in range(bits.itemsize - 1, -1, -1):
        sh = U64(8 * p)
        for d in range(256):
            hist[d] = 0
        for j in range(m):
            hist[(U64(ck[j]) >> sh) & U64(255)] += 1
        b = 0
        while target >= hist[b]:
            target -= hist[b]
            b += 1
        if hist[b] == m:
            continue  # every candidate has this byte
        q = 0
        bb = U64(b)
        for j in range(m):
            kk = ck[j]
            if ((U64(kk) >> sh) & U64(255)) == bb:
                dk[q] = kk
                di[q] = j if ident else ci[j]
                q += 1
        ident = False
        m = q
        ck, ci, dk, di = dk, di, ck, ci
    i = target if ident else ci[target]
    return a[base + i], i


@njit(cache=True)
def _kth_rows(a, bits, kind, R, n, k, rule, vals, idx, proto):
    keys = np.empty(n, proto.dtype)
    pos = np.empty(n, np.int64)
    tk = np.empty(n, proto.dtype)
    ti = np.empty(n, np.int64)
    hist = np.empty(256, np.int64)
    for r in range(R):
        v, i = _kth_row(a, bits, kind, r * n, n, k, rule, keys, pos, tk, ti, hist)
        vals[r] = v
        idx[r] = i


@njit(cache=True, parallel=True)
def _kth_rows_par(a, bits, kind, R, n, k, rule, vals, idx, proto, nc):
    per = (R + nc - 1) // nc
    for c in prange(nc):
        keys = np.empty(n, proto.dtype)
        pos = np.empty(n, np.int64)
        tk = np.empty(n, proto.dtype)
        ti = np.empty(n, np.int64)
        hist = np.empty(256, np.int64)
        for r in range(c * per, min(R, (c + 1) * per)):
            v, i = _kth_row(a, bits, kind, r * n, n, k, rule, keys, pos, tk, ti, hist)
            vals[r] = v
            idx[r] = i


def kth_rows(a, R, n, k, rule, vals, idx):
    """For each of the R rows of n > 0 elements: vals[r], idx[r] = the element (and its position) that a stable
    ascending sort puts at position k (0 <= k < n). ``rule`` 1 (median) picks the row's first NaN instead when it
    has one; rule 2 (nanmedian) picks position max((non-NaN count - 1) // 2, 0). Radix select: O(n) per row."""
    if R == 0:
        return
    bits, kind = _key_view(a)
    proto = np.empty(0, _key_dtype(a))
    if R > 1 and R * n >= PAR:
                _kth_rows_par(a, bits, kind, R, n, k, rule, vals, idx, proto, min(R, 4 * num_threads()))
    else:
        _kth_rows(a, bits, kind, R, n, k, rule, vals, idx, proto)


# ---------------------------------------------------------------------------------------------------------------
# runs of equal values: unique, unique_consecutive, mode
# ---------------------------------------------------------------------------------------------------------------
@njit(cache=True)
def _unique_runs(s, perm, identity, with_inverse, with_counts, n, out, inverse, counts):
    m = 0
    start = 0
    for i in range(n):
        x = s[i]
        if i == 0 or x != s[i - 1]:  # != : NaNs are never equal, so each NaN is its own run (as in PyTorch)
            if with_counts and i:
                counts[m - 1] = i - start
            out[m] = x
            start = i
            m += 1
        if with_inverse:
            inverse[i if identity else perm[i]] = m - 1
    if with_counts:
        counts[m - 1] = n - start
    return m


def unique_runs(s, perm, n, out, inverse, counts):
    """Compact the runs of equal neighbours of ``s`` (n > 0 elements): out[:m] = the first value of each run and,
    unless None, counts[:m] = their lengths and inverse[perm[i]] = the run of s[i] (inverse[i] when ``perm`` is
    None). Returns m."""
    dummy = np.empty(0, np.int64)
    return int(_unique_runs(s, dummy if perm is None else perm, perm is None, inverse is not None,
                            counts is not None, n, out, dummy if inverse is None else inverse,
                            dummy if counts is None else counts))


@njit(cache=True)
def mode_rows(s, order, R, n, vals, idx):
    """For sorted rows: the value of the longest run (the first such run on ties, i.e. the smallest value) and the
    position recorded at the run's last element (for a stable sort, the value's last occurrence)."""
    for r in range(R):
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
