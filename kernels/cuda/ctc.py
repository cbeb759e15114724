"""CUDA connectionist temporal classification: the log-space alpha and beta recursions (layouts as on the CPU).

The recursions run one block per batch item: the block's threads share the positions s of the extended label
sequence and step through time together (a ``syncthreads`` per step, since step t reads step t - 1). The gradient
then runs one thread per (t, n) row, which owns grad[t, n, :] and so needs no atomics to gather alpha * beta per
class. The small per-item arrays (target offsets, lengths) arrive as host arrays and are copied with the launch.
"""
import math

from numba import cuda

from ._grid import MAX_BLOCKS, THREADS, blocks, meta

NEG_INF = -math.inf


@cuda.jit(device=True, inline=True)
def _lse2(a, b):
    m = a if a > b else b
    if m == NEG_INF:
        return NEG_INF
    return m + math.log(math.exp(a - m) + math.exp(b - m))


@cuda.jit(device=True, inline=True)
def _lse3(a, b, c):
    m = a if a > b else b
    m = m if m > c else c
    if m == NEG_INF:
        return NEG_INF
    return m + math.log(math.exp(a - m) + math.exp(b - m) + math.exp(c - m))


@cuda.jit(device=True, inline=True)
def _label(targets, off, s, blank):
    return blank if s % 2 == 0 else targets[off + s // 2]


@cuda.jit
def _alpha(lp, targets, tg_off, in_len, tg_len, blank, T, N, C, L, la, nll):
    tid = cuda.threadIdx.x
    nt = cuda.blockDim.x
    for n in range(cuda.blockIdx.x, N, cuda.gridDim.x):
        Tn = in_len[n]
        S = tg_len[n]
        Ln = 2 * S + 1
        off = tg_off[n]
        a = n * T * L
        for i in range(tid, T * L, nt):
            la[a + i] = NEG_INF
        cuda.syncthreads()
        if Tn > 0:  # the same for the whole block, so every thread reaches each syncthreads
            if tid == 0:
                la[a] = lp[n * C + blank]
                if S > 0:
                    la[a + 1] = lp[n * C + targets[off]]
            cuda.syncthreads()
            for t in range(1, Tn):
                row = a + t * L
                prev = row - L
                base = (t * N + n) * C
                for s in range(tid, Ln, nt):
                    c = _label(targets, off, s, blank)
                    v1 = la[prev + s]
                    v2 = la[prev + s - 1] if s > 0 else NEG_INF
                    v3 = NEG_INF
                    if s > 1 and s % 2 == 1 and targets[off + s // 2 - 1] != c:
                        v3 = la[prev + s - 2]
                    la[row + s] = _lse3(v1, v2, v3) + lp[base + c]
                cuda.syncthreads()
            if tid == 0:
                last = a + (Tn - 1) * L
                ll = la[last + Ln - 1]
                if S > 0:
                    ll = _lse2(ll, la[last + Ln - 2])
                nll[n] = -ll
        elif tid == 0:
            nll[n] = 0.0 if S == 0 else math.inf
        cuda.syncthreads()


@cuda.jit
def _beta(lp, targets, tg_off, in_len, tg_len, blank, T, N, C, L, nll, zero_infinity, lb):
    tid = cuda.threadIdx.x
    nt = cuda.blockDim.x
    for n in range(cuda.blockIdx.x, N, cuda.gridDim.x):
        Tn = in_len[n]
        S = tg_len[n]
        Ln = 2 * S + 1
        off = tg_off[n]
        b = n * T * L
        for i in range(tid, T * L, nt):
            lb[b + i] = NEG_INF
        cuda.syncthreads()
        if Tn > 0 and not (zero_infinity and nll[n] == math.inf):
            if tid == 0:
                last = b + (Tn - 1) * L
                base = ((Tn - 1) * N + n) * C
                lb[last + Ln - 1] = lp[base + blank]
                if S > 0:
                    lb[last + Ln - 2] = lp[base + targets[off + S - 1]]
            cuda.syncthreads()
            for t in range(Tn - 2, -1, -1):
                row = b + t * L
                nxt = row + L
                base = (t * N + n) * C
                for s in range(tid, Ln, nt):
                    c = _label(targets, off, s, blank)
                    v1 = lb[nxt + s]
                    v2 = lb[nxt + s + 1] if s < Ln - 1 else NEG_INF
                    v3 = NEG_INF
                    if s < Ln - 2 and s % 2 == 1 and targets[off + s // 2 + 1] != c:
                        v3 = lb[nxt + s + 2]
                    lb[row + s] = _lse3(v1, v2, v3) + lp[base + c]
                cuda.syncthreads()
        cuda.syncthreads()


@cuda.jit
def _grad(lp, targets, tg_off, in_len, tg_len, blank, T, N, C, L, la, lb, nll, grad_out, zero_infinity, grad):
    for e in range(cuda.grid(1), T * N, cuda.gridsize(1)):
        t = e // N
        n = e - t * N
        base = e * C
        Tn = in_len[n]
        ln = nll[n]
        if t >= Tn or (zero_infinity and ln == math.inf):
            for c in range(C):
                grad[base + c] = 0.0
            continue
        S = tg_len[n]
        off = tg_off[n]
        for c in range(C):
            grad[base + c] = NEG_INF
        row = (n * T + t) * L
        for s in range(2 * S + 1):
            c = _label(targets, off, s, blank)
            grad[base + c] = _lse2(grad[base + c], la[row + s] + lb[row + s])
        g = grad_out[n]
        for c in range(C):
            v = lp[base + c]
            grad[base + c] = (math.exp(v) - math.exp(grad[base + c] + ln - v)) * g


def _item_blocks(N):
    return max(1, min(N, MAX_BLOCKS))


def ctc_loss(lp, targets, tg_off, in_len, tg_len, blank, T, N, C, L, log_alpha, nll):
    if N:
        _alpha[_item_blocks(N), THREADS](lp, targets, meta(tg_off), meta(in_len), meta(tg_len), blank, T, N, C, L,
                                         log_alpha, nll)


def ctc_loss_backward(lp, targets, tg_off, in_len, tg_len, blank, T, N, C, L, log_alpha, nll, grad_out,
                      zero_infinity, log_beta, grad):
    if N == 0 or T == 0:
        return
    off, il, tl = meta(tg_off), meta(in_len), meta(tg_len)
    _beta[_item_blocks(N), THREADS](lp, targets, off, il, tl, blank, T, N, C, L, nll, zero_infinity, log_beta)
    _grad[blocks(T * N), THREADS](lp, targets, off, il, tl, blank, T, N, C, L, log_alpha, log_beta, nll, grad_out,
                                  zero_infinity, grad)
