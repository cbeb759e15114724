"""Reduction and scan kernels.

The launcher brings every reduction to one 3-D form: ``out[o, i] = reduce_r a[ao + o*so + r*sr + i*si]`` with a
contiguous ``out`` of ``O*I`` elements and ``R >= 1``. Two loop orders exist:

* ``reduce_inner``: ``r`` is the innermost loop (the reduced elements are close together, e.g. sum over the last
  dim). One register accumulator per output; ``reassoc`` lets LLVM vectorise the float sum.
* ``reduce_outer``: ``i`` is the innermost loop (the kept elements are close together, e.g. sum over the first
  dim). Rows of ``a`` are folded into the output row, which vectorises along ``i``.

Accumulators start from the first reduced element, so each op works for every dtype without a typed zero; the
launcher handles empty reductions before the launch.

Scans write a contiguous ``(O, R, I)`` output: ``scan`` (cumsum, cumprod), ``argscan`` (cummax/cummin values and
the index each was taken from) and ``scan_logaddexp`` (logcumsumexp, carried in float64).
"""
import numpy as np
from numba import njit, prange, types
from numba.extending import overload

from ._intrinsics import maximum, maxnum_nonan, minimum, minnum_nonan

U = np.uint64
FAST = {"reassoc"}  # no nnan/ninf: max/min must keep propagating NaN


def _extreme_no_nan(is_max, a, i0, s, n):
    """(True, the run's maximum or minimum) when the run holds no NaN, else (False, anything); floats only."""


@overload(_extreme_no_nan, jit_options={"fastmath": FAST})
def _extreme_no_nan_impl(is_max, a, i0, s, n):
    if not isinstance(a.dtype, types.Float):
        def impl(is_max, a, i0, s, n):
            return False, a[U(i0)]
        return impl

    def impl(is_max, a, i0, s, n):
        # vmaxps/vminps (flagged as never seeing NaN) and, in the same pass, a sum: NaN in the run (or +inf with
        # -inf, sent the exact way too) makes the sum NaN. Cheaper than one llvm.maximum pass, whose NaN and
        # signed-zero fixups cost several instructions a vector (amax over the rows of 4096^2 float32 on 2 threads:
        # the sum's speed instead of 1.4-1.7x it), and than the same two folds as two passes over the run (2.03-2.34
        # vs 2.32-3.45 ms on the EPYC)
        acc = a[U(i0)]
        chk = acc
        if is_max:
            for k in range(1, n):
                x = a[U(i0 + k * s)]
                acc = maxnum_nonan(acc, x)
                chk += x
        else:
            for k in range(1, n):
                x = a[U(i0 + k * s)]
                acc = minnum_nonan(acc, x)
                chk += x
        return chk == chk, acc
    return impl


@njit(cache=True, fastmath=FAST, error_model="numpy", inline="always")
def _extreme(is_max, a, i0, s, n):
    """The maximum (or minimum) of a run: ``_extreme_no_nan`` when the run has no NaN, else llvm.maximum/minimum
    (NaN-propagating, -0.0 below +0.0), which LLVM vectorizes as a reduction too. The caller looks zeros up again
    (which zero is kept is PyTorch's rule, not the vector unit's)."""
    ok, acc = _extreme_no_nan(is_max, a, i0, s, n)
    if ok:
        return acc
    acc = a[U(i0)]
    if is_max:
        for k in range(1, n):
            acc = maximum(acc, a[U(i0 + k * s)])
    else:
        for k in range(1, n):
            acc = minimum(acc, a[U(i0 + k * s)])
    return acc


@njit(cache=True, fastmath=FAST, error_model="numpy", inline="always")
def _run(op, a, i0, s, n):
    acc = a[U(i0)]
    if op == 0:
        for k in range(1, n):
            acc = acc + a[U(i0 + k * s)]
    elif op == 1:
        for k in range(1, n):
            acc = acc * a[U(i0 + k * s)]
    elif op == 2 or op == 3:
        # a NaN found is looked up again so that the first one is returned with its own bits, and so is a zero
        # (_extreme orders -0.0 below +0.0, where PyTorch keeps the first zero it meets)
        acc = _extreme(op == 2, a, i0, s, n)
        if acc != acc or acc == 0:
            for k in range(n):
                x = a[U(i0 + k * s)]
                if x != x or (x == 0 and acc == 0):
                    return x
    elif op == 4:
        for k in range(1, n):
            acc = acc and a[U(i0 + k * s)]
    elif op == 5:
        for k in range(1, n):
            acc = acc or a[U(i0 + k * s)]
    return acc


def _fold_extreme_fast(is_max, a, ia, si, out, io, n):
    """The max/min fold of ``_fold`` through llvm.maxnum/minnum; False when the run needs the exact fold."""


@overload(_fold_extreme_fast, jit_options={"fastmath": FAST})
def _fold_extreme_fast_impl(is_max, a, ia, si, out, io, n):
    if not isinstance(a.dtype, types.Float):
        def impl(is_max, a, ia, si, out, io, n):
            return False
        return impl

    def impl(is_max, a, ia, si, out, io, n):
        # vmaxps/vminps with the run's own NaN check (a running sum, NaN when the run holds one; +inf with -inf
        # sends it the exact way too). The exact select, `out = x if x > y else y`, is vectorised with masked
        # stores (only changed elements are written back), which AMD cores run slowly: amax over dim 0 of
        # 4096^2 float32 took 10.0 ms serial against 4.5 for the sum (EPYC Zen 3), about 6 so.
        # maxnum_nonan(x, y) keeps y on ties: the first of equal zeros stays, as in the exact fold.
        chk = a[U(ia)] - a[U(ia)]
        if is_max:
            for k in range(n):
                x = a[U(ia + k * si)]
                out[U(io + k)] = maxnum_nonan(x, out[U(io + k)])
                chk += x
        else:
            for k in range(n):
                x = a[U(ia + k * si)]
                out[U(io + k)] = minnum_nonan(x, out[U(io + k)])
                chk += x
        return chk == chk
    return impl


@njit(cache=True, fastmath=FAST, error_model="numpy")
def _fold(op, a, ia, si, out, io, n, exact):
    """out[io + k] = op(out[io + k], a[ia + k*si]) for k < n. For max/min (op 2, 3) the fast fold runs until a run
    holds NaN (or the dtype is not float); returns whether the rest of the block needs the exact, NaN-propagating
    fold (``exact``)."""
    if (op == 2 or op == 3) and not exact:
        if _fold_extreme_fast(op == 2, a, ia, si, out, io, n):
            return False
        exact = True  # the run is folded again exactly (folding a run twice changes nothing else)
    if op == 0:
        for k in range(n):
            out[U(io + k)] = out[U(io + k)] + a[U(ia + k * si)]
    elif op == 1:
        for k in range(n):
            out[U(io + k)] = out[U(io + k)] * a[U(ia + k * si)]
    elif op == 2:
        for k in range(n):
            x = a[U(ia + k * si)]
            y = out[U(io + k)]
            out[U(io + k)] = x if (x > y) | (x != x) else y  # `|`, not `or`: no branch, so it vectorises
    elif op == 3:
        for k in range(n):
            x = a[U(ia + k * si)]
            y = out[U(io + k)]
            out[U(io + k)] = x if (x < y) | (x != x) else y
    elif op == 4:
        for k in range(n):
            out[U(io + k)] = out[U(io + k)] and a[U(ia + k * si)]
    elif op == 5:
        for k in range(n):
            out[U(io + k)] = out[U(io + k)] or a[U(ia + k * si)]
    return exact


@njit(cache=True, fastmath=FAST, error_model="numpy", inline="always")
def _run_any(op, a, i0, s, n):
    """_run, with a copy specialised to unit stride (a constant stride lets LLVM vectorise without a runtime check;
    measured 1.59 -> 1.49 ms for a 4096^2 float32 sum over the last dim on 2 threads)."""
    if s == 1:
        return _run(op, a, i0, 1, n)
    return _run(op, a, i0, s, n)


@njit(cache=True, fastmath=FAST, error_model="numpy")
def reduce_inner(op, a, ao, so, sr, si, O, R, I, out):
    for o in range(O):
        for i in range(I):
            out[o * I + i] = _run_any(op, a, ao + o * so + i * si, sr, R)


@njit(cache=True, fastmath=FAST, parallel=True, error_model="numpy")
def reduce_inner_par(op, a, ao, so, sr, si, O, R, I, out, nc):
    """Outputs split into ``nc`` contiguous chunks, one serial run per chunk (cheaper than one task per output)."""
    total = O * I
    per = (total + nc - 1) // nc
    for c in prange(nc):
        for j in range(c * per, min(total, (c + 1) * per)):
            o = j // I
            i = j - o * I
            out[j] = _run_any(op, a, ao + o * so + i * si, sr, R)


@njit(cache=True, inline="always")
def _outer_block(op, a, ao, so, sr, si, R, I, out, o, lo, hi):
    base = ao + o * so
    if op == 0 and si == 1:
        # a sum over rows of contiguous segments (dim 0 of a dense matrix): folded here, a constant-stride loop that
        # vectorizes, rather than one _fold call per row (4096x256 float32 over dim 0, one thread: 159 -> 83 us)
        w = out[o * I + lo:o * I + hi]
        w[:] = a[base + lo:base + hi]
        for r in range(1, R):
            x = a[base + r * sr + lo:base + r * sr + hi]
            for k in range(hi - lo):
                w[k] += x[k]
        return
    for i in range(lo, hi):
        out[o * I + i] = a[U(base + i * si)]
    exact = np.bool_(False)  # (not a literal: _fold would compile once more for Literal[bool](False))
    for i in range(lo, hi):  # a NaN in the first row: max/min fold exactly from the start
        v = out[o * I + i]
        exact = exact or v != v
    for r in range(1, R):
        exact = _fold(op, a, base + r * sr + lo * si, si, out, o * I + lo, hi - lo, exact)


@njit(cache=True, fastmath=FAST, error_model="numpy")
def reduce_outer(op, a, ao, so, sr, si, O, R, I, out):
    for o in range(O):
        _outer_block(op, a, ao, so, sr, si, R, I, out, o, 0, I)


@njit(cache=True, fastmath=FAST, parallel=True, error_model="numpy")
def reduce_outer_par(op, a, ao, so, sr, si, O, R, I, out, block):
    nb = (I + block - 1) // block
    for j in prange(O * nb):
        o = j // nb
        lo = (j - o * nb) * block
        _outer_block(op, a, ao, so, sr, si, R, I, out, o, lo, min(I, lo + block))


@njit(cache=True, fastmath=FAST, error_model="numpy")
def _arg_run(op, a, i0, s, n):
    """(value, index) of the first maximum (op 0) or minimum (op 1) of a run, the first NaN when there is one.
    Two passes: the extreme value by llvm.maximum/minimum, which LLVM vectorizes, then the first element equal to
    it (or the first NaN); the value returned is that element's own, so of -0.0 and +0.0 the first met wins, as in
    PyTorch. (argmax over dim 1 of a 4096^2 float32 matrix, 2 threads: 18.6 ms with one compare-and-branch pass,
    5.7 ms so.)"""
    m = _extreme(op == 0, a, i0, s, n)
    if m != m:
        for k in range(n):
            x = a[U(i0 + k * s)]
            if x != x:
                return x, k
    for k in range(n):
        x = a[U(i0 + k * s)]
        if x == m:
            return x, k
    return m, 0


@njit(cache=True, error_model="numpy")
def argreduce(op, a, ao, so, sr, si, O, R, I, values, indices):
    """values/indices[o, i] = max or min over r (first occurrence; NaN wins, as in torch)."""
    for o in range(O):
        for i in range(I):
            v, k = _arg_run(op, a, ao + o * so + i * si, sr, R)
            values[o * I + i] = v
            indices[o * I + i] = k


@njit(cache=True, parallel=True, error_model="numpy")
def argreduce_par(op, a, ao, so, sr, si, O, R, I, values, indices):
    for j in prange(O * I):
        o = j // I
        i = j - o * I
        v, k = _arg_run(op, a, ao + o * so + i * si, sr, R)
        values[j] = v
        indices[j] = k


@njit(cache=True, error_model="numpy", inline="always")
def _arg_outer_block(op, a, ao, so, sr, si, R, I, values, indices, o, lo, hi):
    """argreduce for outputs [lo, hi) of block o, folding one row of the reduced dim at a time into them (the kept
    elements are the close ones: a column-wise walk per output would stride through memory). A later element is
    taken when strictly better, or NaN over a number, so the first occurrence and the first NaN win."""
    base = ao + o * so
    j0 = o * I
    for i in range(lo, hi):
        values[j0 + i] = a[U(base + i * si)]
        indices[j0 + i] = 0
    for r in range(1, R):
        row = base + r * sr
        for i in range(lo, hi):
            x = a[U(row + i * si)]
            v = values[j0 + i]
            better = (x > v) if op == 0 else (x < v)
            take = better | ((x != x) & (v == v))
            values[j0 + i] = x if take else v
            indices[j0 + i] = r if take else indices[j0 + i]


@njit(cache=True, error_model="numpy")
def argreduce_outer(op, a, ao, so, sr, si, O, R, I, values, indices):
    """argreduce when the kept elements are close together (argmax over dim 0 of a matrix)."""
    for o in range(O):
        _arg_outer_block(op, a, ao, so, sr, si, R, I, values, indices, o, 0, I)


@njit(cache=True, parallel=True, error_model="numpy")
def argreduce_outer_par(op, a, ao, so, sr, si, O, R, I, values, indices, block):
    """argreduce_outer with the outputs split into column blocks of ``block`` over the threads."""
    nb = (I + block - 1) // block
    for j in prange(O * nb):
        o = j // nb
        lo = (j - o * nb) * block
        _arg_outer_block(op, a, ao, so, sr, si, R, I, values, indices, o, lo, min(I, lo + block))


def _widen(x):
    """x as a scan's running value: float64 for floating point (PyTorch's CPU cumsum and cumprod carry float32 in
    double), complex128 for complex, int64 for integers and bool."""


@overload(_widen)
def _widen_impl(x):
    if isinstance(x, types.Float):
        return lambda x: np.float64(x)
    if isinstance(x, types.Complex):
        return lambda x: np.complex128(x)
    return lambda x: np.int64(x)


def _wide_empty(a, n):
    """An empty array of n running values for a's elements (_widen's type)."""


@overload(_wide_empty)
def _wide_empty_impl(a, n):
    dt = np.float64 if isinstance(a.dtype, types.Float) else np.complex128 if isinstance(a.dtype, types.Complex) \
        else np.int64
    return lambda a, n: np.empty(n, dtype=dt)


@njit(cache=True, inline="always")
def _scan_rows(op, a, ao, so, sr, R, out, o0, o1):
    """Rows o0..o1 of an I == 1 scan, two rows at a time (the running value is a loop-carried dependency; two
    chains hide half its latency)."""
    o = o0
    while o + 2 <= o1:
        p0 = ao + o * so
        p1 = p0 + so
        q0 = o * R
        q1 = q0 + R
        s0 = _widen(a[U(p0)])
        s1 = _widen(a[U(p1)])
        out[U(q0)] = s0
        out[U(q1)] = s1
        for r in range(1, R):
            x0 = _widen(a[U(p0 + r * sr)])
            x1 = _widen(a[U(p1 + r * sr)])
            s0 = s0 + x0 if op == 0 else s0 * x0
            s1 = s1 + x1 if op == 0 else s1 * x1
            out[U(q0 + r)] = s0
            out[U(q1 + r)] = s1
        o += 2
    if o < o1:
        p0 = ao + o * so
        q0 = o * R
        s0 = _widen(a[U(p0)])
        out[U(q0)] = s0
        for r in range(1, R):
            x0 = _widen(a[U(p0 + r * sr)])
            s0 = s0 + x0 if op == 0 else s0 * x0
            out[U(q0 + r)] = s0


@njit(cache=True, inline="always")
def _scan_cols(op, a, ao, so, sr, si, R, I, out, o, i0, i1):
    """Columns i0..i1 of block o, one r-row at a time into a wide running row (contiguous along i)."""
    base = ao + o * so
    ob = o * R * I
    acc = _wide_empty(a, i1 - i0)
    for i in range(i0, i1):
        acc[i - i0] = _widen(a[U(base + i * si)])
        out[U(ob + i)] = acc[i - i0]
    for r in range(1, R):
        q0 = ob + r * I
        for i in range(i0, i1):
            x = _widen(a[U(base + r * sr + i * si)])
            v = acc[i - i0] + x if op == 0 else acc[i - i0] * x
            acc[i - i0] = v
            out[U(q0 + i)] = v


@njit(cache=True, error_model="numpy")
def scan(op, a, ao, so, sr, si, O, R, I, out):
    """Inclusive cumulative sum (op 0) or product (op 1) along r, carried in float64 / complex128 / int64 (see
    _widen); out is contiguous (O, R, I)."""
    if I == 1:
        _scan_rows(op, a, ao, so, sr, R, out, 0, O)
        return
    for o in range(O):
        _scan_cols(op, a, ao, so, sr, si, R, I, out, o, 0, I)


@njit(cache=True, parallel=True, error_model="numpy")
def scan_par(op, a, ao, so, sr, si, O, R, I, out):
    """scan with one task per group of rows (I == 1) or per (o, block of 256 kept columns i)."""
    if I == 1:
        per = max(2, (O // 64 + 1) // 2 * 2)
        nc = (O + per - 1) // per
        for c in prange(nc):
            _scan_rows(op, a, ao, so, sr, R, out, c * per, min(O, (c + 1) * per))
        return
    nb = (I + 255) // 256
    for j in prange(O * nb):
        o = j // nb
        i0 = (j - o * nb) * 256
        _scan_cols(op, a, ao, so, sr, si, R, I, out, o, i0, min(I, i0 + 256))


@njit(cache=True, inline="always")
def _arg_take(op, x, v):
    """Whether x replaces the running extreme v of cummax (op 0) / cummin (op 1): a NaN always does (so the last
    NaN's index is kept), nothing replaces a NaN, and ties move the index forward (the last occurrence, as torch).
    Bitwise operators keep it branch-free (the loops then compile to selects)."""
    if op == 0:
        return (x != x) | ((v == v) & (x >= v))
    return (x != x) | ((v == v) & (x <= v))


@njit(cache=True, inline="always")
def _argscan_rows(op, a, ao, so, sr, R, values, indices, o0, o1):
    """Rows o0..o1 of an I == 1 scan (contiguous outputs), four rows at a time: the running value is a loop-carried
    dependency, and four independent chains hide its latency (measured 2.35 -> 0.87 ms for 1000 rows of 1000)."""
    o = o0
    while o + 4 <= o1:
        a0 = ao + o * so
        a1 = a0 + so
        a2 = a1 + so
        a3 = a2 + so
        q0 = o * R
        q1 = q0 + R
        q2 = q1 + R
        q3 = q2 + R
        v0 = a[U(a0)]
        v1 = a[U(a1)]
        v2 = a[U(a2)]
        v3 = a[U(a3)]
        k0 = k1 = k2 = k3 = 0
        values[U(q0)] = v0
        values[U(q1)] = v1
        values[U(q2)] = v2
        values[U(q3)] = v3
        indices[U(q0)] = indices[U(q1)] = indices[U(q2)] = indices[U(q3)] = 0
        for r in range(1, R):
            x0 = a[U(a0 + r * sr)]
            x1 = a[U(a1 + r * sr)]
            x2 = a[U(a2 + r * sr)]
            x3 = a[U(a3 + r * sr)]
            t0 = _arg_take(op, x0, v0)
            t1 = _arg_take(op, x1, v1)
            t2 = _arg_take(op, x2, v2)
            t3 = _arg_take(op, x3, v3)
            v0 = x0 if t0 else v0
            v1 = x1 if t1 else v1
            v2 = x2 if t2 else v2
            v3 = x3 if t3 else v3
            k0 = r if t0 else k0
            k1 = r if t1 else k1
            k2 = r if t2 else k2
            k3 = r if t3 else k3
            values[U(q0 + r)] = v0
            values[U(q1 + r)] = v1
            values[U(q2 + r)] = v2
            values[U(q3 + r)] = v3
            indices[U(q0 + r)] = k0
            indices[U(q1 + r)] = k1
            indices[U(q2 + r)] = k2
            indices[U(q3 + r)] = k3
        o += 4
    while o < o1:
        base = ao + o * so
        q = o * R
        v = a[U(base)]
        k = 0
        values[U(q)] = v
        indices[U(q)] = 0
        for r in range(1, R):
            x = a[U(base + r * sr)]
            t = _arg_take(op, x, v)
            v = x if t else v
            k = r if t else k
            values[U(q + r)] = v
            indices[U(q + r)] = k
        o += 1


@njit(cache=True, inline="always")
def _argscan_cols(op, a, ao, so, sr, si, R, I, values, indices, o, i0, i1):
    """Columns i0..i1 of block o, folding one r-row at a time (reads and writes stay contiguous along i)."""
    base = ao + o * so
    ob = o * R * I
    for i in range(i0, i1):
        values[U(ob + i)] = a[U(base + i * si)]
        indices[U(ob + i)] = 0
    for r in range(1, R):
        q0 = ob + r * I
        for i in range(i0, i1):
            x = a[U(base + r * sr + i * si)]
            q = q0 + i
            v = values[U(q - I)]
            t = _arg_take(op, x, v)
            values[U(q)] = x if t else v
            indices[U(q)] = r if t else indices[U(q - I)]


@njit(cache=True, error_model="numpy")
def argscan(op, a, ao, so, sr, si, O, R, I, values, indices):
    """Running max (op 0) or min (op 1) along r and the index where it was last taken; values/indices are
    contiguous (O, R, I)."""
    if I == 1:
        _argscan_rows(op, a, ao, so, sr, R, values, indices, 0, O)
        return
    for o in range(O):
        _argscan_cols(op, a, ao, so, sr, si, R, I, values, indices, o, 0, I)


@njit(cache=True, parallel=True, error_model="numpy")
def argscan_par(op, a, ao, so, sr, si, O, R, I, values, indices):
    """argscan with one task per group of rows (I == 1) or per (o, block of 256 kept columns i)."""
    if I == 1:
        per = max(4, (O // 64 + 3) // 4 * 4)
        nc = (O + per - 1) // per
        for c in prange(nc):
            _argscan_rows(op, a, ao, so, sr, R, values, indices, c * per, min(O, (c + 1) * per))
        return
    nb = (I + 255) // 256
    for j in prange(O * nb):
        o = j // nb
        i0 = (j - o * nb) * 256
        _argscan_cols(op, a, ao, so, sr, si, R, I, values, indices, o, i0, min(I, i0 + 256))


@njit(cache=True, inline="always")
def _logaddexp(acc, x):
    """log(exp(acc) + exp(x)) without overflow; NaN propagates and equal infinities stay infinite."""
    if acc != acc or x != x:
        return acc + x
    hi = acc if acc > x else x
    lo = x if acc > x else acc
    if lo == -np.inf or hi == np.inf:
        return hi
    return hi + np.log1p(np.exp(lo - hi))


@njit(cache=True, inline="always")
def _lse_run(a, ao, so, sr, si, R, I, out, j):
    o = j // I
    i = j - o * I
    base = ao + o * so + i * si
    acc = np.float64(a[U(base)])  # the running value is carried in float64 (torch accumulates float in double)
    out[(o * R) * I + i] = acc
    for r in range(1, R):
        acc = _logaddexp(acc, np.float64(a[U(base + r * sr)]))
        out[(o * R + r) * I + i] = acc


@njit(cache=True, error_model="numpy")
def scan_logaddexp(a, ao, so, sr, si, O, R, I, out):
    """Inclusive log-cumulative-sum-exp along r (floating point); out is contiguous (O, R, I)."""
    for j in range(O * I):
        _lse_run(a, ao, so, sr, si, R, I, out, j)


@njit(cache=True, parallel=True, error_model="numpy")
def scan_logaddexp_par(a, ao, so, sr, si, O, R, I, out):
    for j in prange(O * I):
        _lse_run(a, ao, so, sr, si, R, I, out, j)
