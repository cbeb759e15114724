"""Row-wise softmax / log-softmax and cross-entropy kernels on the GPU (same names and arguments as
``kernels/cpu/activation.py``), over contiguous (rows, cols) buffers.

Grid: one block per row (grid-strided over the rows); the block's threads stride over the row's columns and
combine their partial max and sum in shared memory, so rows of any length work. Sums are taken in float64, as the
CPU kernels take them. Cross-entropy: a per-row loss kernel, then one block that adds the losses and weights up to
the first out-of-range target; only that target, a found flag and the total weight come back to the host.
NaN and -inf propagate as on the CPU (no fastmath): a NaN in a row makes its max NaN, a row of -inf gives NaN.
"""
import math

import numpy as np
from numba import cuda, float64

from ._grid import SIM, THREADS, blocks


def _row_threads(C):
    """Threads per row block: a power of two (for the tree reduction), at least a warp, at most THREADS."""
    t = min(THREADS, 1 if SIM else 32)
    while t < C and t < THREADS:
        t *= 2
    return t


@cuda.jit(device=True, inline=True)
def _nanmax(a, b):
    if a != a:
        return a
    if b != b or b > a:
        return b
    return a


@cuda.jit(device=True)
def _block_max(buf, v):
    """The NaN-propagating max of v over the block (blockDim.x a power of two); every thread gets it."""
    t = cuda.threadIdx.x
    buf[t] = v
    cuda.syncthreads()
    h = cuda.blockDim.x // 2
    while h > 0:
        if t < h:
            buf[t] = _nanmax(buf[t], buf[t + h])
        cuda.syncthreads()
        h //= 2
    r = buf[0]
    cuda.syncthreads()
    return r


@cuda.jit(device=True)
def _block_sum(buf, v):
    """The sum of v over the block (blockDim.x a power of two); every thread gets it."""
    t = cuda.threadIdx.x
    buf[t] = v
    cuda.syncthreads()
    h = cuda.blockDim.x // 2
    while h > 0:
        if t < h:
            buf[t] += buf[t + h]
        cuda.syncthreads()
        h //= 2
    r = buf[0]
    cuda.syncthreads()
    return r


@cuda.jit
def _softmax_rows(x, out, R, C, log):
    mx = cuda.shared.array(THREADS, dtype=x.dtype)
    sm = cuda.shared.array(THREADS, dtype=float64)
    t = cuda.threadIdx.x
    nt = cuda.blockDim.x
    for r in range(cuda.blockIdx.x, R, cuda.gridDim.x):
        base = r * C
        m = x[base]
        for k in range(t, C, nt):
            m = _nanmax(m, x[base + k])
        m = _block_max(mx, m)
        s = 0.0
        for k in range(t, C, nt):
            s += math.exp(x[base + k] - m)
        s = _block_sum(sm, s)
        if log:
            lse = m + math.log(s)
            for k in range(t, C, nt):
                out[base + k] = x[base + k] - lse
        else:
            inv = 1.0 / s
            for k in range(t, C, nt):
                out[base + k] = math.exp(x[base + k] - m) * inv


def softmax(x, out, R, C, log):
    """out = (log-)softmax of each row of the contiguous (R, C) buffer x."""
    if R == 0 or C == 0:
        return
    _softmax_rows[blocks(R, 1), _row_threads(C)](x, out, R, C, log)


softmax_par = softmax


@cuda.jit
def _softmax_grad_rows(g, y, out, R, C, log):
    sm = cuda.shared.array(THREADS, dtype=float64)
    t = cuda.threadIdx.x
    nt = cuda.blockDim.x
    for r in range(cuda.blockIdx.x, R, cuda.gridDim.x):
        base = r * C
        s = 0.0
        if log:
            for k in range(t, C, nt):
                s += g[base + k]
        else:
            for k in range(t, C, nt):
                s += g[base + k] * y[base + k]
        s = _block_sum(sm, s)
        if log:
            for k in range(t, C, nt):
                out[base + k] = g[base + k] - math.exp(y[base + k]) * s
        else:
            for k in range(t, C, nt):
                out[base + k] = y[base + k] * (g[base + k] - s)


def softmax_backward(g, y, out, R, C, log):
    """Input gradient of (log-)softmax from its output ``y`` and output gradient ``g``."""
    if R == 0 or C == 0:
        return
    _softmax_grad_rows[blocks(R, 1), _row_threads(C)](g, y, out, R, C, log)


softmax_backward_par = softmax_backward


@cuda.jit
def _ce_losses(logp, target, weight, has_weight, ignore_index, R, C, losses, first_bad):
    """losses[r] = -w[t_r] * logp[r, t_r] (0 for ignored rows); first_bad[0] = min over rows with a bad target."""
    for r in range(cuda.grid(1), R, cuda.gridsize(1)):
        t = target[r]
        if t == ignore_index:
            losses[r] = 0.0
        elif t < 0 or t >= C:
            cuda.atomic.min(first_bad, 0, r)
        else:
            w = weight[t] if has_weight else 1.0
            losses[r] = -w * logp[r * C + t]


@cuda.jit
def _ce_reduce(target, weight, has_weight, ignore_index, R, losses, first_bad, out, has_out, mean, result, info):
    """One block: the loss sum and total weight over the rows before the first bad one; result[0] = total,
    info = (first bad row or R, its target), out[0] = sum or mean (when ``has_out`` and no target was bad)."""
    sa = cuda.shared.array(THREADS, dtype=float64)
    sw = cuda.shared.array(THREADS, dtype=float64)
    tid = cuda.threadIdx.x
    n = first_bad[0]
    acc = 0.0
    total = 0.0
    for r in range(tid, n, cuda.blockDim.x):
        t = target[r]
        if t != ignore_index:
            acc += losses[r]
            total += weight[t] if has_weight else 1.0
    acc = _block_sum(sa, acc)
    total = _block_sum(sw, total)
    if tid == 0:
        result[0] = total
        info[0] = n
        info[1] = 0
        if n < R:
            info[1] = target[n]
        elif has_out:
            if not mean:
                out[0] = acc
            elif total != 0:
                out[0] = acc / total
            elif acc == 0 or acc != acc:
                out[0] = math.nan  # 0/0, as in PyTorch
            else:
                out[0] = math.copysign(math.inf, acc)


def cross_entropy_rows(x, logp, do_softmax, target, weight, has_weight, ignore_index, R, C, losses, out, mean):
    """Cross-entropy of contiguous (R, C) logits and class indices: logp = log_softmax(x) per row (unless
    ``do_softmax`` is False: then the caller has already filled logp), losses[r] = -w[t_r] * logp[r, t_r] (0 for
    ignored rows), and, when ``out`` has an element, out[0] = the sum of the losses, divided by the total weight
    when ``mean`` (0/0 = NaN).

    Returns (first out-of-range target or 0, whether one was found, total weight of the rows before it), as the
    CPU kernel does; a bad target is never used as an index.
    """
    if do_softmax:
        softmax(x, logp, R, C, True)
    first_bad = cuda.to_device(np.array([R], dtype=np.int64))
    if R > 0:
        _ce_losses[blocks(R), THREADS](logp, target, weight, has_weight, ignore_index, R, C, losses, first_bad)
    result = cuda.device_array(1, dtype=np.float64)
    info = cuda.device_array(2, dtype=np.int64)
    has_out = out.shape[0] > 0
    _ce_reduce[1, THREADS](target, weight, has_weight, ignore_index, R, losses, first_bad, out if has_out else losses,
                           has_out, mean, result, info)
    n, bad = (int(v) for v in info.copy_to_host())
    return bad, n < R, float(result.copy_to_host()[0])


@cuda.jit
def _nll_softmax_grad(logp, target, weight, has_weight, ignore_index, scale, per_row, div, R, C, out):
    for i in range(cuda.grid(1), R * C, cuda.gridsize(1)):
        r = i // C
        c = i - r * C
        t = target[r]
        if t == ignore_index:
            out[i] = 0.0
            continue
        s = (scale[r] if per_row else scale[0]) / div * (weight[t] if has_weight else 1.0)
        out[i] = s * math.exp(logp[i])
        if c == t:
            out[i] -= s


def nll_softmax_backward(logp, target, weight, has_weight, ignore_index, scale, per_row, div, R, C, out):
    """out[r, c] = scale[r] / div * w[t_r] * (softmax[r, c] - [c == t_r]): the gradient of cross-entropy w.r.t.
    logits (targets were validated by ``cross_entropy_rows``); ``scale`` is one value, or one per row when
    ``per_row``; ``div`` is the total weight for reduction='mean', else 1."""
    n = R * C
    if n == 0:
        return
    _nll_softmax_grad[blocks(n), THREADS](logp, target, weight, has_weight, ignore_index, scale, per_row,
                                          float(div), R, C, out)


# ---------------------------------------------------------------------------------------------------------------
# GELU (exact, x * Phi(x)) forward and backward over contiguous 1-D buffers, grid-strided
# ---------------------------------------------------------------------------------------------------------------
_RSQRT2 = 0.7071067811865476
_RSQRT2PI = 0.3989422804014327


@cuda.jit
def _gelu(x, out, n):
    for k in range(cuda.grid(1), n, cuda.gridsize(1)):
        v = float64(x[k])
        out[k] = v * 0.5 * (1.0 + math.erf(v * _RSQRT2))


@cuda.jit
def _gelu_grad(g, x, out, n):
    for k in range(cuda.grid(1), n, cuda.gridsize(1)):
        v = float64(x[k])
        out[k] = g[k] * (0.5 * (1.0 + math.erf(v * _RSQRT2)) + v * _RSQRT2PI * math.exp(-0.5 * v * v))


def gelu(x, out, n):
    """out = x * Phi(x) over n contiguous elements."""
    if n > 0:
        _gelu[blocks(n), THREADS](x, out, n)


def gelu_backward(g, x, out, n):
    """out = g * (Phi(x) + x phi(x)), the input gradient of the exact GELU."""
    if n > 0:
        _gelu_grad[blocks(n), THREADS](g, x, out, n)


gelu_par = gelu
gelu_backward_par = gelu_backward


# ---------------------------------------------------------------------------------------------------------------
# LayerNorm over the rows of a contiguous (R, C) buffer: one thread per row (dx), one per column (dw, db)
# ---------------------------------------------------------------------------------------------------------------
@cuda.jit
def _layer_norm_rows(x, w, b, has_w, has_b, eps, out, mean, rstd, R, C):
    for r in range(cuda.grid(1), R, cuda.gridsize(1)):
        base = r * C
        s = 0.0
        for k in range(C):
            s += x[base + k]
        m = s / C
        v = 0.0
        for k in range(C):
            d = x[base + k] - m
            v += d * d
        rs = 1.0 / math.sqrt(v / C + eps)
        mean[r] = m
        rstd[r] = rs
        for k in range(C):
            y = (x[base + k] - m) * rs
            if has_w:
                y = y * w[k]
            if has_b:
                y = y + b[k]
            out[base + k] = y


@cuda.jit
def _layer_norm_dx(g, x, w, has_w, mean, rstd, dx, R, C):
    for r in range(cuda.grid(1), R, cuda.gridsize(1)):
        base = r * C
        m = float64(mean[r])
        rs = float64(rstd[r])
        s1 = 0.0
        s2 = 0.0
        for k in range(C):
            gw = float64(g[base + k]) * (w[k] if has_w else 1.0)
            s1 += gw
            s2 += gw * (x[base + k] - m) * rs
        s1 /= C
        s2 /= C
        for k in range(C):
            gw = float64(g[base + k]) * (w[k] if has_w else 1.0)
            dx[base + k] = rs * (gw - s1 - (x[base + k] - m) * rs * s2)


@cuda.jit
def _layer_norm_dwdb(g, x, mean, rstd, dw, db, has_dw, has_db, R, C):
    for k in range(cuda.grid(1), C, cuda.gridsize(1)):
        aw = 0.0
        ab = 0.0
        for r in range(R):
            gk = float64(g[r * C + k])
            aw += gk * (x[r * C + k] - mean[r]) * rstd[r]
            ab += gk
        if has_dw:
            dw[k] = aw
        if has_db:
            db[k] = ab


def layer_norm(x, w, b, has_w, has_b, eps, out, mean, rstd, R, C):
    """out[r] = (x[r] - mean_r) * rstd_r * w + b; mean and rstd kept per row."""
    if R > 0:
        _layer_norm_rows[blocks(R), THREADS](x, w, b, has_w, has_b, eps, out, mean, rstd, R, C)


def layer_norm_backward(g, x, w, has_w, mean, rstd, dx, dw, db, R, C):
    """dx, and dw / db when they have C elements."""
    if R > 0:
        _layer_norm_dx[blocks(R), THREADS](g, x, w, has_w, mean, rstd, dx, R, C)
    if C > 0 and (dw.shape[0] == C or db.shape[0] == C):
        _layer_norm_dwdb[blocks(C), THREADS](g, x, mean, rstd, dw, db, dw.shape[0] == C, db.shape[0] == C, R, C)


layer_norm_par = layer_norm  # the GPU kernels are parallel over the rows already
layer_norm_backward_par = layer_norm_backward


# ---------------------------------------------------------------------------------------------------------------
# BatchNorm (training) over a contiguous (N, C, HW) buffer: one block per channel for the statistics and the
# gradient sums (the block's threads stride over the channel's N*HW values), then one thread per element.
# ---------------------------------------------------------------------------------------------------------------
@cuda.jit
def _bn_stats(x, eps, mean, rstd, mean_o, var_o, N, C, HW):
    sm = cuda.shared.array(THREADS, dtype=float64)
    t = cuda.threadIdx.x
    nt = cuda.blockDim.x
    M = N * HW
    for c in range(cuda.blockIdx.x, C, cuda.gridDim.x):
        s = 0.0
        for i in range(t, M, nt):
            n = i // HW
            s += x[(n * C + c) * HW + i - n * HW]
        m = _block_sum(sm, s) / M
        v = 0.0
        for i in range(t, M, nt):
            n = i // HW
            d = x[(n * C + c) * HW + i - n * HW] - m
            v += d * d
        v = _block_sum(sm, v) / M
        if t == 0:
            mean[c] = m
            rstd[c] = 1.0 / math.sqrt(v + eps)
            mean_o[c] = m
            var_o[c] = v


@cuda.jit
def _bn_apply(x, w, b, has_w, has_b, mean, rstd, out, n_all, C, HW):
    for i in range(cuda.grid(1), n_all, cuda.gridsize(1)):
        c = (i // HW) % C
        a = rstd[c] * w[c] if has_w else rstd[c]
        bb = float64(b[c]) if has_b else 0.0
        out[i] = (x[i] - mean[c]) * a + bb


def batch_norm(x, w, b, has_w, has_b, eps, out, mean, rstd, mean_o, var_o, N, C, HW):
    """Training batch norm: per-channel mean, biased variance and rstd, out = (x - mean) * rstd * w + b."""
    if C == 0:
        return
    _bn_stats[blocks(C, 1), _row_threads(N * HW)](x, eps, mean, rstd, mean_o, var_o, N, C, HW)
    n_all = N * C * HW
    if n_all:
        _bn_apply[blocks(n_all), THREADS](x, w, b, has_w, has_b, mean, rstd, out, n_all, C, HW)


batch_norm_par = batch_norm


@cuda.jit
def _bn_grad_sums(g, x, mean, rstd, sums, N, C, HW):
    sm = cuda.shared.array(THREADS, dtype=float64)
    t = cuda.threadIdx.x
    nt = cuda.blockDim.x
    M = N * HW
    for c in range(cuda.blockIdx.x, C, cuda.gridDim.x):
        m = mean[c]
        sg = 0.0
        sx = 0.0
        for i in range(t, M, nt):
            n = i // HW
            j = (n * C + c) * HW + i - n * HW
            gv = float64(g[j])
            sg += gv
            sx += gv * (x[j] - m)
        sg = _block_sum(sm, sg)
        sx = _block_sum(sm, sx)
        if t == 0:
            sums[c, 0] = sg
            sums[c, 1] = sx


@cuda.jit
def _bn_dx(g, x, w, has_w, mean, rstd, sums, dx, n_all, M, C, HW):
    for i in range(cuda.grid(1), n_all, cuda.gridsize(1)):
        c = (i // HW) % C
        rs = rstd[c]
        a = rs * w[c] if has_w else rs
        kx = sums[c, 1] * rs * rs / M
        dx[i] = (g[i] - sums[c, 0] / M - (x[i] - mean[c]) * kx) * a


@cuda.jit
def _bn_dwdb(sums, rstd, dw, db, has_dw, has_db, C):
    for c in range(cuda.grid(1), C, cuda.gridsize(1)):
        if has_dw:
            dw[c] = sums[c, 1] * rstd[c]
        if has_db:
            db[c] = sums[c, 0]


def batch_norm_backward(g, x, w, has_w, mean, rstd, dx, dw, db, need_x, N, C, HW):
    """dx (when need_x), dw = sum(g * xhat) and db = sum(g) (when they have C elements) of training batch norm."""
    if C == 0:
        return
    sums = cuda.device_array((C, 2), dtype=np.float64)
    _bn_grad_sums[blocks(C, 1), _row_threads(N * HW)](g, x, mean, rstd, sums, N, C, HW)
    n_all = N * C * HW
    if need_x and n_all:
        _bn_dx[blocks(n_all), THREADS](g, x, w, has_w, mean, rstd, sums, dx, n_all, N * HW, C, HW)
    if dw.shape[0] == C or db.shape[0] == C:
        _bn_dwdb[blocks(C), THREADS](sums, rstd, dw, db, dw.shape[0] == C, db.shape[0] == C, C)


batch_norm_backward_par = batch_norm_backward


@cuda.jit
def _relu_grad(g, y, out, n):
    for k in range(cuda.grid(1), n, cuda.gridsize(1)):
        out[k] = 0 if y[k] <= 0 else g[k]


def relu_backward(g, y, out, n):
    """out = 0 where y <= 0, else g (y the relu output)."""
    if n > 0:
        _relu_grad[blocks(n), THREADS](g, y, out, n)


relu_backward_par = relu_backward

nll_softmax_backward_par = nll_softmax_backward  # the GPU kernel is parallel over the rows already


# ---------------------------------------------------------------------------------------------------------------
# mean squared error: each block adds its threads' squared differences (float64) into one accumulator
# ---------------------------------------------------------------------------------------------------------------
@cuda.jit
def _sq_diff_partial(a, ao, b, bo, n, acc):
    buf = cuda.shared.array(THREADS, dtype=float64)
    s = 0.0
    for k in range(cuda.grid(1), n, cuda.gridsize(1)):
        d = a[ao + k] - b[bo + k]
        s += d * d
    s = _block_sum(buf, s)
    if cuda.threadIdx.x == 0:
        cuda.atomic.add(acc, 0, s)


@cuda.jit
def _sq_diff_store(acc, scale, out):
    if cuda.grid(1) == 0:
        out[0] = acc[0] * scale


def sq_diff_sum(a, ao, b, bo, n, scale, out):
    """out[0] = scale * sum((a[ao:ao + n] - b[bo:bo + n])**2), summed in float64."""
    acc = cuda.to_device(np.zeros(1, np.float64))
    if n > 0:
        _sq_diff_partial[blocks(n), THREADS](a, ao, b, bo, n, acc)
    _sq_diff_store[1, 1](acc, scale, out)


sq_diff_sum_par = sq_diff_sum
