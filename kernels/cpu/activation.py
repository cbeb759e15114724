"""Row-wise softmax / log-softmax kernels (forward and backward) over contiguous (rows, cols) buffers.

No fastmath here: NaN and -inf must propagate exactly as in PyTorch (a row of -inf gives NaN). The GELU kernels only
allow floating-point contraction (``fastmath={"contract"}``: a*b+c as one FMA, which keeps NaN and inf semantics).
"""
import math

import numpy as np
from numba import njit, prange

from ._intrinsics import f32_from_bits as _bits_to_f32
from ._intrinsics import fma as _fma

U = np.uint64

F = np.float32
_LOG2EF = F(1.4426950408889634)
_LN2_HIF = F(0.693359375)  # ln 2 in two parts: n * _LN2_HIF is exact for |n| <= 127 in float32
_LN2_LOF = F(0.6931471805599453 - 0.693359375)
_LOF, _HIF, _HALF, _ONE = F(-87.0), F(88.0), F(0.5), F(1.0)
_P2, _P3, _P4, _P5, _P6, _P7 = F(1 / 2), F(1 / 6), F(1 / 24), F(1 / 120), F(1 / 720), F(1 / 5040)


@njit(cache=True, inline="always")
def _exp32(x):
    """exp of a float32 in float32 arithmetic (a few ulp) from operations LLVM vectorizes, unlike a call to libm's
    expf: x = n ln2 + r with |r| <= ln2 / 2, e^r by its Taylor polynomial to r**7, 2**n from its bits. The argument
    is clamped to [-87, 88]: below, the result is 0 (a softmax term under 1.7e-38 of the row maximum's);
    NaN passes through."""
    y = min(max(x, _LOF), _HIF)
    n = np.floor(y * _LOG2EF + _HALF)
    r = y - n * _LN2_HIF - n * _LN2_LOF
    p = _ONE + r * (_ONE + r * (_P2 + r * (_P3 + r * (_P4 + r * (_P5 + r * (_P6 + r * _P7))))))
    v = p * _bits_to_f32(np.int32((np.int32(n) + np.int32(127)) << np.int32(23)))  # 2**n (a table gather: 1.8x slower)
    v = v if x > _LOF else F(0.0)
    return v if x == x else x


@njit(cache=True, inline="always")
def _sum4(a, base, C):
    """Sum of a[base:base + C] in float64 with four running sums (one chain is bound by the add latency)."""
    s0 = s1 = s2 = s3 = 0.0
    k = 0
    while k + 4 <= C:
        s0 += a[U(base + k)]
        s1 += a[U(base + k + 1)]
        s2 += a[U(base + k + 2)]
        s3 += a[U(base + k + 3)]
        k += 4
    while k < C:
        s0 += a[U(base + k)]
        k += 1
    return (s0 + s1) + (s2 + s3)


@njit(cache=True, inline="always")
def _row_max(row, n):
    """max(row[:n]) ignoring NaN (-inf for none), eight running maxima so that the selects vectorize."""
    m0 = m1 = m2 = m3 = m4 = m5 = m6 = m7 = row.dtype.type(-np.inf)
    c = 0
    while c + 8 <= n:
        x = row[c]
        m0 = x if x > m0 else m0
        x = row[c + 1]
        m1 = x if x > m1 else m1
        x = row[c + 2]
        m2 = x if x > m2 else m2
        x = row[c + 3]
        m3 = x if x > m3 else m3
        x = row[c + 4]
        m4 = x if x > m4 else m4
        x = row[c + 5]
        m5 = x if x > m5 else m5
        x = row[c + 6]
        m6 = x if x > m6 else m6
        x = row[c + 7]
        m7 = x if x > m7 else m7
        c += 8
    while c < n:
        x = row[c]
        m0 = x if x > m0 else m0
        c += 1
    return max(max(max(m0, m1), max(m2, m3)), max(max(m4, m5), max(m6, m7)))


@njit(cache=True, error_model="numpy", fastmath={"reassoc"})
def _vsum(a):
    """sum(a) of a contiguous 1-D array in float64, reassociated so that LLVM vectorizes it (NaN and inf keep their
    meaning: only the order of the additions is free). Not inlined: its fastmath flag is its own."""
    s = 0.0
    for k in range(a.shape[0]):
        s += a[k]
    return s


@njit(cache=True, error_model="numpy", fastmath={"reassoc"})
def _vsum_exp(a, m):
    """sum(exp(a - m)) of a float32 row without storing the exps (see _vsum for the flag): blocks of 64 terms are
    summed in float32 (vector lanes of a few terms each: within the exps' own few-ulp error) and the block sums in
    float64. Accumulating every term in float64 halves the vector width: 8.4 -> 4.4 us for 10,000 terms."""
    n = a.shape[0]
    s = 0.0
    k0 = 0
    while k0 + 64 <= n:
        b = F(0.0)
        for k in range(k0, k0 + 64):
            d = F(a[k] - m)  # (a no-op: typed so that the caller also compiles for float64 rows)
            v = _exp_f32(d) if d > _LOF else F(0.0)
            b += v if d == d else d
        s += b
        k0 += 64
    for k in range(k0, n):
        d = F(a[k] - m)
        v = _exp_f32(d) if d > _LOF else F(0.0)
        s += v if d == d else d
    return s


@njit(cache=True, inline="always")
def _softmax_row(x, out, base, C, log):
    if x.itemsize == 4:
        # float32: vectorized passes: the row maximum (NaN skipped: a NaN's exp is NaN and so is the row's sum), the
        # exps into ``out``, their sum
        row, o = x[base:base + C], out[base:base + C]
        m32 = _row_max(row, C)
        if log:  # the exps are only summed: no pass writes them
            lse32 = F(m32 + math.log(_vsum_exp(row, m32)))
            for k in range(C):
                o[k] = row[k] - lse32
        else:
            for k in range(C):
                o[k] = _exp32(row[k] - m32)
            inv32 = F(1.0 / _vsum(o))
            for k in range(C):
                o[k] = o[k] * inv32
        return
    m = x[U(base)]
    for k in range(1, C):
        v = x[U(base + k)]
        if v > m or v != v:
            m = v
    s = 0.0
    for k in range(C):
        s += math.exp(x[U(base + k)] - m)
    if log:
        lse = m + math.log(s)
        for k in range(C):
            out[U(base + k)] = x[U(base + k)] - lse
    else:
        inv = 1.0 / s
        for k in range(C):
            out[U(base + k)] = math.exp(x[U(base + k)] - m) * inv


@njit(cache=True, error_model="numpy")
def softmax(x, out, R, C, log):
    for r in range(R):
        _softmax_row(x, out, r * C, C, log)


@njit(cache=True, parallel=True, error_model="numpy")
def softmax_par(x, out, R, C, log):
    for r in prange(R):
        _softmax_row(x, out, r * C, C, log)


@njit(cache=True, inline="always")
def _softmax_grad_row(g, y, out, base, C, log):
    s = 0.0
    if log:
        s = _vsum(g[base:base + C])
        if y.itemsize == 4:
            s32 = F(s)
            for k in range(C):
                out[U(base + k)] = g[U(base + k)] - _exp32(y[U(base + k)]) * s32
            return
        for k in range(C):
            out[U(base + k)] = g[U(base + k)] - math.exp(y[U(base + k)]) * s
    else:
        for k in range(C):
            s += g[U(base + k)] * y[U(base + k)]
        for k in range(C):
            out[U(base + k)] = y[U(base + k)] * (g[U(base + k)] - s)


@njit(cache=True, error_model="numpy")
def softmax_backward(g, y, out, R, C, log):
    """Input gradient of (log-)softmax from its output ``y`` and output gradient ``g``."""
    for r in range(R):
        _softmax_grad_row(g, y, out, r * C, C, log)


@njit(cache=True, parallel=True, error_model="numpy")
def softmax_backward_par(g, y, out, R, C, log):
    for r in prange(R):
        _softmax_grad_row(g, y, out, r * C, C, log)


@njit(cache=True, error_model="numpy")
def cross_entropy_rows(x, logp, do_softmax, target, weight, has_weight, ignore_index, R, C, losses, out, mean):
    """Cross-entropy of contiguous (R, C) logits and class indices in one pass: logp = log_softmax(x) per row
    (unless ``do_softmax`` is False: then the caller has already filled logp),
    losses[r] = -w[t_r] * logp[r, t_r] (0 for ignored rows), and, when ``out`` has an element, out[0] = the sum of
    the losses, divided by the total weight when ``mean`` (0/0 = NaN, as in PyTorch).

    Returns (first out-of-range target or 0, whether one was found, total weight). A target is checked before it
    is used as an index, so a bad one never reads outside the row.
    """
    total = 0.0
    acc = 0.0
    for r in range(R):
        if do_softmax:
            _softmax_row(x, logp, r * C, C, True)
        t = target[r]
        if t == ignore_index:
            losses[r] = 0.0
            continue
        if t < 0 or t >= C:
            return t, True, total
        w = weight[t] if has_weight else 1.0
        losses[r] = -w * logp[U(r * C + t)]
        acc += losses[r]
        total += w
    if out.shape[0] > 0:
        out[0] = acc / total if mean else acc
    return 0, False, total


@njit(cache=True, inline="always")
def _nll_grad_row(logp, target, weight, has_weight, ignore_index, scale, per_row, div, C, out, r):
    t = target[r]
    base = r * C
    if t == ignore_index:
        for c in range(C):
            out[U(base + c)] = 0.0
        return
    s = (scale[r] if per_row else scale[0]) / div * (weight[t] if has_weight else 1.0)
    if logp.itemsize == 4:
        s32 = F(s)
        lp, o = logp[base:base + C], out[base:base + C]
        for c in range(C):
            o[c] = s32 * _exp32(lp[c])
    else:
        for c in range(C):
            out[U(base + c)] = s * math.exp(logp[U(base + c)])
    out[U(base + t)] -= s


@njit(cache=True, error_model="numpy")
def nll_softmax_backward(logp, target, weight, has_weight, ignore_index, scale, per_row, div, R, C, out):
    """out[r, c] = scale[r] / div * w[t_r] * (softmax[r, c] - [c == t_r]): the gradient of cross-entropy w.r.t.
    logits (targets were validated by ``cross_entropy_rows``); ``scale`` is one value, or one per row when
    ``per_row``; ``div`` is the total weight for reduction='mean', else 1."""
    for r in range(R):
        _nll_grad_row(logp, target, weight, has_weight, ignore_index, scale, per_row, div, C, out, r)


@njit(cache=True, parallel=True, error_model="numpy")
def nll_softmax_backward_par(logp, target, weight, has_weight, ignore_index, scale, per_row, div, R, C, out):
    """nll_softmax_backward with the rows split over the threads."""
    for r in prange(R):
        _nll_grad_row(logp, target, weight, has_weight, ignore_index, scale, per_row, div, C, out, r)


# ---------------------------------------------------------------------------------------------------------------
# GELU (exact, x * Phi(x)) forward and backward over contiguous 1-D buffers
# ---------------------------------------------------------------------------------------------------------------
_RSQRT2 = 0.7071067811865476
_RSQRT2PI = 0.3989422804014327
_GELU_CHUNK = 16384


@njit(cache=True, inline="always", fastmath={"contract"})
def _exp_f32(x):
    """exp(x) in float32 arithmetic (a few ulp): x = n ln2 + r (r by two FMAs), e^r by its Taylor polynomial to r**7,
    2**n built from its bits (no table gather), so the loops around it vectorize at full float32 width.
    Clamped to [-87, 88]: callers map what lies below to 0."""
    y = min(max(x, _LOF), _HIF)
    n = np.floor(_fma(y, _LOG2EF, _HALF))
    r = _fma(n, -_LN2_HIF, y)
    r = _fma(n, -_LN2_LOF, r)
    p = _ONE + r * (_ONE + r * (_P2 + r * (_P3 + r * (_P4 + r * (_P5 + r * (_P6 + r * _P7))))))
    return p * _bits_to_f32(np.int32((np.int32(n) + np.int32(127)) << np.int32(23)))


_NR = (F(-1.26551223), F(1.00002368), F(0.37409196), F(0.09678418), F(-0.18628806), F(0.27886807), F(-1.13520398),
       F(1.48851587), F(-0.82215223), F(0.17087277))
_RSQRT2F, _RSQRT2PIF, _TENF, _ZEROF = F(_RSQRT2), F(_RSQRT2PI), F(10.0), F(0.0)


@njit(cache=True, inline="always", fastmath={"contract"})
def _phi_f32(x):
    """Phi(x) = erfc(-x / sqrt 2) / 2 for float32 x in float32 arithmetic: erfc(z) = t exp(-z**2 + P(t)) with
    t = 1 / (1 + z / 2) and a degree-9 polynomial P (the Chebyshev fit of Numerical Recipes' erfcc, relative error
    1.2e-7), 0 beyond z = 10; z*z is split exactly by an FMA (its rounding error would otherwise be amplified by the
    exp in the tails). Absolute error under 4e-7, relative ~1.5e-6 in the lower tail (PyTorch's own float32 GELU
    is off by ~1.1e-6)."""
    z = abs(x) * _RSQRT2F
    t = _ONE / (_ONE + _HALF * z)
    p = _NR[0] + t * (_NR[1] + t * (_NR[2] + t * (_NR[3] + t * (_NR[4] + t * (_NR[5] + t * (_NR[6] + t * (
        _NR[7] + t * (_NR[8] + t * _NR[9]))))))))
    zz = z * z
    v = t * _exp_f32((p - zz) - _fma(z, z, -zz))
    e = _HALF * (v if z < _TENF else _ZEROF)
    return _ONE - e if x >= _ZEROF else e


@njit(cache=True, inline="always", fastmath={"contract"})
def _gelu_run(x, out, lo, hi):
    if x.itemsize == 4:
        for k in range(lo, hi):
            v = F(x[U(k)])  # (a no-op: typed so that the branch also compiles for float64 arrays)
            out[U(k)] = v * _phi_f32(v) if v == v else v
    else:
        for k in range(lo, hi):
            v = x[U(k)]
            out[U(k)] = v * 0.5 * (1.0 + math.erf(v * _RSQRT2))


@njit(cache=True, inline="always", fastmath={"contract"})
def _gelu_grad_run(g, x, out, lo, hi):
    if x.itemsize == 4:
        for k in range(lo, hi):
            v = F(x[U(k)])
            a = -_HALF * v * v
            d = _phi_f32(v) + v * _RSQRT2PIF * (_exp_f32(a) if a > _LOF else _ZEROF)
            out[U(k)] = g[U(k)] * d if v == v else v
    else:
        for k in range(lo, hi):
            v = x[U(k)]
            out[U(k)] = g[U(k)] * (0.5 * (1.0 + math.erf(v * _RSQRT2)) + v * _RSQRT2PI * math.exp(-0.5 * v * v))


@njit(cache=True, error_model="numpy", fastmath={"contract"})
def gelu(x, out, n):
    """out = x * Phi(x) over n contiguous elements (float32 with vectorizable float32 erfc and exp)."""
    _gelu_run(x, out, 0, n)


@njit(cache=True, parallel=True, error_model="numpy", fastmath={"contract"})
def gelu_par(x, out, n):
    for c in prange((n + _GELU_CHUNK - 1) // _GELU_CHUNK):
        _gelu_run(x, out, c * _GELU_CHUNK, min(n, (c + 1) * _GELU_CHUNK))


@njit(cache=True, error_model="numpy", fastmath={"contract"})
def gelu_backward(g, x, out, n):
    """out = g * (Phi(x) + x phi(x)), the input gradient of the exact GELU."""
    _gelu_grad_run(g, x, out, 0, n)


@njit(cache=True, parallel=True, error_model="numpy", fastmath={"contract"})
def gelu_backward_par(g, x, out, n):
    for c in prange((n + _GELU_CHUNK - 1) // _GELU_CHUNK):
        _gelu_grad_run(g, x, out, c * _GELU_CHUNK, min(n, (c + 1) * _GELU_CHUNK))


# ---------------------------------------------------------------------------------------------------------------
# LayerNorm over the rows of a contiguous (R, C) buffer: forward and backward
# ---------------------------------------------------------------------------------------------------------------
# The row sums may be reassociated (fastmath "reassoc" and nothing else, so NaN and inf propagate): LLVM then
# vectorizes them instead of waiting on the float64 add latency element by element (768 rows of 128 float32:
# the statistics took 80 us with four running sums, 22 us so).
@njit(cache=True, error_model="numpy", fastmath={"reassoc"})
def _row_sum(x, base, C):
    s = 0.0
    for k in range(C):
        s += x[U(base + k)]
    return s


@njit(cache=True, error_model="numpy", fastmath={"reassoc"})
def _row_sqdev(x, base, C, m):
    s = 0.0
    for k in range(C):
        d = x[U(base + k)] - m
        s += d * d
    return s


@njit(cache=True, inline="always", error_model="numpy")
def _ln_rows(x, w, b, has_w, has_b, eps, out, mean, rstd, r0, r1, C):
    for r in range(r0, r1):
        base = r * C
        m = _row_sum(x, base, C) / C
        rs = 1.0 / math.sqrt(_row_sqdev(x, base, C, m) / C + eps)
        mean[r] = m
        rstd[r] = rs
        if x.itemsize == 4:  # float32 rows: the output pass in float32 at twice the vector width, as PyTorch does
            m32, rs32 = F(m), F(rs)
            xv, ov = x[base:base + C], out[base:base + C]
            for k in range(C):
                y = (F(xv[k]) - m32) * rs32
                if has_w:
                    y = y * F(w[k])
                if has_b:
                    y = y + F(b[k])
                ov[k] = y
            continue
        for k in range(C):
            y = (x[U(base + k)] - m) * rs
            if has_w:
                y = y * w[k]
            if has_b:
                y = y + b[k]
            out[U(base + k)] = y


@njit(cache=True, error_model="numpy")
def layer_norm(x, w, b, has_w, has_b, eps, out, mean, rstd, R, C):
    """out[r] = (x[r] - mean_r) * rstd_r * w + b with the biased variance; mean and rstd = 1 / sqrt(var + eps) are
    kept per row for the backward (sums in float64, the centred second pass as PyTorch's; float32 rows are
    normalised in float32, 768x128: 55 -> 34 us on 2 threads, closer to a float64 reference than PyTorch's)."""
    _ln_rows(x, w, b, has_w, has_b, eps, out, mean, rstd, 0, R, C)


@njit(cache=True, parallel=True, error_model="numpy")
def layer_norm_par(x, w, b, has_w, has_b, eps, out, mean, rstd, R, C):
    """layer_norm with blocks of rows (about 4096 elements each) split over the threads."""
    per = max(1, 4096 // max(C, 1))
    for p in prange((R + per - 1) // per):
        _ln_rows(x, w, b, has_w, has_b, eps, out, mean, rstd, p * per, min(R, (p + 1) * per), C)


@njit(cache=True, error_model="numpy", fastmath={"reassoc"})
def _ln_grad_sums(g, x, w, has_w, aw, ab, base, C, m, rs):
    """One row: adds g * xhat and g into aw and ab per column; returns the row sums of gw = g * w and gw * xhat."""
    s1 = 0.0
    s2 = 0.0
    for k in range(C):
        gk = np.float64(g[U(base + k)])
        xh = (x[U(base + k)] - m) * rs
        aw[k] += gk * xh
        ab[k] += gk
        gw = gk * w[k] if has_w else gk
        s1 += gw
        s2 += gw * xh
    return s1, s2


@njit(cache=True, inline="always", error_model="numpy")
def _ln_grad_rows(g, x, w, has_w, mean, rstd, dx, aw, ab, r0, r1, C):
    """dx of rows r0..r1, and their g * xhat and g summed per column into aw and ab (float64)."""
    for r in range(r0, r1):
        base = r * C
        m = np.float64(mean[r])
        rs = np.float64(rstd[r])
        s1, s2 = _ln_grad_sums(g, x, w, has_w, aw, ab, base, C, m, rs)
        t1 = s1 / C
        t2 = s2 / C
        if x.itemsize == 4:  # float32 rows: dx in float32 at twice the vector width (the sums stay float64)
            m32, rs32, t132, t232 = F(m), F(rs), F(t1), F(t2)
            gv, xv, dv = g[base:base + C], x[base:base + C], dx[base:base + C]
            for k in range(C):
                gk = F(gv[k])
                gw = gk * F(w[k]) if has_w else gk
                dv[k] = rs32 * (gw - t132 - (F(xv[k]) - m32) * rs32 * t232)
            continue
        for k in range(C):
            gk = np.float64(g[U(base + k)])
            xh = (x[U(base + k)] - m) * rs
            gw = gk * w[k] if has_w else gk
            dx[U(base + k)] = rs * (gw - t1 - xh * t2)


@njit(cache=True, inline="always")
def _fold_partials(parts, out):
    """out[k] = sum over the rows of parts (P, C) of parts[:, k], summed in float64; nothing when out is not a
    full row (a gradient that is not wanted)."""
    C = parts.shape[1]
    if out.shape[0] == C:
        for k in range(C):
            t = 0.0
            for p in range(parts.shape[0]):
                t += parts[p, k]
            out[k] = t


@njit(cache=True, error_model="numpy")
def layer_norm_backward(g, x, w, has_w, mean, rstd, dx, dw, db, R, C):
    """dx[r] = rstd_r * (gw - mean(gw) - xhat * mean(gw * xhat)) with gw = g * w and xhat the normalised row;
    dw = sum over rows of g * xhat and db = sum of g (summed in float64, written when they have C elements)."""
    aw = np.zeros((1, C))
    ab = np.zeros((1, C))
    _ln_grad_rows(g, x, w, has_w, mean, rstd, dx, aw[0], ab[0], 0, R, C)
    _fold_partials(aw, dw)
    _fold_partials(ab, db)


@njit(cache=True, parallel=True, error_model="numpy")
def layer_norm_backward_par(g, x, w, has_w, mean, rstd, dx, dw, db, R, C):
    """layer_norm_backward with the rows split in up to 16 blocks over the threads, each summing dw and db into its
    own row of partial sums, folded at the end."""
    P = min(R, 16)
    per = (R + P - 1) // P
    aw = np.zeros((P, C))
    ab = np.zeros((P, C))
    for p in prange(P):
        _ln_grad_rows(g, x, w, has_w, mean, rstd, dx, aw[p], ab[p], p * per, min(R, (p + 1) * per), C)
    _fold_partials(aw, dw)
    _fold_partials(ab, db)


# ---------------------------------------------------------------------------------------------------------------
# BatchNorm (training) over a contiguous (N, C, HW) buffer: per channel statistics, forward and backward.
# Each channel's N strips of HW values are read while they are hot in cache (the statistics, then the output),
# and channels are independent, so the parallel variants split the channels over the threads.
# ---------------------------------------------------------------------------------------------------------------
@njit(cache=True, inline="always")
def _sqdev4(a, base, n, m):
    """Sum of (a[base:base + n] - m)**2 in float64 with four running sums."""
    s0 = s1 = s2 = s3 = 0.0
    k = 0
    while k + 4 <= n:
        d0 = a[U(base + k)] - m
        d1 = a[U(base + k + 1)] - m
        d2 = a[U(base + k + 2)] - m
        d3 = a[U(base + k + 3)] - m
        s0 += d0 * d0
        s1 += d1 * d1
        s2 += d2 * d2
        s3 += d3 * d3
        k += 4
    while k < n:
        d0 = a[U(base + k)] - m
        s0 += d0 * d0
        k += 1
    return (s0 + s1) + (s2 + s3)


@njit(cache=True, inline="always")
def _bn_channel(x, w, b, has_w, has_b, eps, out, mean, rstd, mean_o, var_o, N, C, HW, c):
    M = N * HW
    s = 0.0
    for n in range(N):
        s += _sum4(x, (n * C + c) * HW, HW)
    m = s / M
    v = 0.0
    for n in range(N):
        v += _sqdev4(x, (n * C + c) * HW, HW, m)
    v /= M
    rs = 1.0 / math.sqrt(v + eps)
    mean[c] = m
    rstd[c] = rs
    mean_o[c] = m
    var_o[c] = v
    a = rs * w[c] if has_w else rs
    bb = np.float64(b[c]) if has_b else 0.0
    for n in range(N):
        base = (n * C + c) * HW
        for k in range(HW):
            out[U(base + k)] = (x[U(base + k)] - m) * a + bb


@njit(cache=True, error_model="numpy", fastmath={"reassoc"})
def batch_norm(x, w, b, has_w, has_b, eps, out, mean, rstd, mean_o, var_o, N, C, HW):
    """Training batch norm of x (N, C, HW): per channel the mean and biased variance over N*HW values (float64
    sums, a centred second pass), rstd = 1/sqrt(var + eps), out = (x - mean) * rstd * w + b. mean and rstd
    (float64) are kept for the backward; mean_o and var_o get the same statistics in x's dtype."""
    for c in range(C):
        _bn_channel(x, w, b, has_w, has_b, eps, out, mean, rstd, mean_o, var_o, N, C, HW, c)


@njit(cache=True, parallel=True, error_model="numpy", fastmath={"reassoc"})
def batch_norm_par(x, w, b, has_w, has_b, eps, out, mean, rstd, mean_o, var_o, N, C, HW):
    for c in prange(C):
        _bn_channel(x, w, b, has_w, has_b, eps, out, mean, rstd, mean_o, var_o, N, C, HW, c)


@njit(cache=True, inline="always")
def _bn_grad_channel(g, x, w, has_w, mean, rstd, dx, dw, db, need_x, N, C, HW, c):
    M = N * HW
    m = np.float64(mean[c])
    rs = np.float64(rstd[c])
    sg0 = sg1 = 0.0
    sx0 = sx1 = 0.0
    for n in range(N):
        base = (n * C + c) * HW
        k = 0
        while k + 2 <= HW:
            g0 = np.float64(g[U(base + k)])
            g1 = np.float64(g[U(base + k + 1)])
            sg0 += g0
            sg1 += g1
            sx0 += g0 * (x[U(base + k)] - m)
            sx1 += g1 * (x[U(base + k + 1)] - m)
            k += 2
        if k < HW:
            g0 = np.float64(g[U(base + k)])
            sg0 += g0
            sx0 += g0 * (x[U(base + k)] - m)
    sg = sg0 + sg1
    sgx = sx0 + sx1
    if dw.shape[0] == C:
        dw[c] = sgx * rs
    if db.shape[0] == C:
        db[c] = sg
    if need_x:
        a = rs * w[c] if has_w else rs
        gm = sg / M
        kx = sgx * rs * rs / M
        for n in range(N):
            base = (n * C + c) * HW
            for k in range(HW):
                dx[U(base + k)] = (g[U(base + k)] - gm - (x[U(base + k)] - m) * kx) * a


@njit(cache=True, error_model="numpy", fastmath={"reassoc"})
def batch_norm_backward(g, x, w, has_w, mean, rstd, dx, dw, db, need_x, N, C, HW):
    """Gradients of training batch norm from the saved per-channel mean and rstd: with xhat = (x - mean) * rstd,
    dx = rstd * w * (g - mean(g) - xhat * mean(g * xhat)) (when need_x), dw = sum(g * xhat), db = sum(g) (written
    when they have C elements); sums over N*HW in float64."""
    for c in range(C):
        _bn_grad_channel(g, x, w, has_w, mean, rstd, dx, dw, db, need_x, N, C, HW, c)


@njit(cache=True, parallel=True, error_model="numpy", fastmath={"reassoc"})
def batch_norm_backward_par(g, x, w, has_w, mean, rstd, dx, dw, db, need_x, N, C, HW):
    for c in prange(C):
        _bn_grad_channel(g, x, w, has_w, mean, rstd, dx, dw, db, need_x, N, C, HW, c)


# ---------------------------------------------------------------------------------------------------------------
# ReLU backward from the saved output, one pass: PyTorch's threshold_backward (0 where y <= 0, else g)
# ---------------------------------------------------------------------------------------------------------------
_RELU_CHUNK = 1 << 14


@njit(cache=True, inline="always")
def _relu_grad_run(g, y, out, lo, hi):
    for k in range(lo, hi):
        out[U(k)] = 0 if y[U(k)] <= 0 else g[U(k)]


@njit(cache=True, error_model="numpy")
def relu_backward(g, y, out, n):
    """out = 0 where y <= 0, else g (y the relu output; a NaN output passes g, as PyTorch's)."""
    _relu_grad_run(g, y, out, 0, n)


@njit(cache=True, parallel=True, error_model="numpy")
def relu_backward_par(g, y, out, n):
    for c in prange((n + _RELU_CHUNK - 1) // _RELU_CHUNK):
        _relu_grad_run(g, y, out, c * _RELU_CHUNK, min(n, (c + 1) * _RELU_CHUNK))


# ---------------------------------------------------------------------------------------------------------------
# mean squared error: the sum of squared differences of two contiguous buffers in one pass
# ---------------------------------------------------------------------------------------------------------------
_SQ_CHUNK = 16384


@njit(cache=True, inline="always", error_model="numpy", fastmath={"reassoc"})
def _sq_diff_run(a, ao, b, bo, lo, hi):
    """The sum of (a[ao + k] - b[bo + k])**2 over lo <= k < hi: each difference and square rounded in the inputs'
    dtype (as the elementwise ops round them), the sum carried in float64 (reassociated, so it vectorizes)."""
    x = a[ao + lo:ao + hi]
    y = b[bo + lo:bo + hi]
    acc = 0.0
    for k in range(x.shape[0]):
        d = x[k] - y[k]
        acc += d * d
    return acc


@njit(cache=True, error_model="numpy", fastmath={"reassoc"})
def sq_diff_sum(a, ao, b, bo, n, scale, out):
    """out[0] = scale * sum((a[ao:ao + n] - b[bo:bo + n])**2), rounded once to out's dtype."""
    out[0] = _sq_diff_run(a, ao, b, bo, 0, n) * scale


@njit(cache=True, parallel=True, error_model="numpy", fastmath={"reassoc"})
def sq_diff_sum_par(a, ao, b, bo, n, scale, out):
    """sq_diff_sum over chunks in parallel, the chunk sums added in order."""
    nc = (n + _SQ_CHUNK - 1) // _SQ_CHUNK
    part = np.empty(nc, np.float64)
    for c in prange(nc):
        part[c] = _sq_diff_run(a, ao, b, bo, c * _SQ_CHUNK, min(n, (c + 1) * _SQ_CHUNK))
    acc = 0.0
    for c in range(nc):
        acc += part[c]
    out[0] = acc * scale
