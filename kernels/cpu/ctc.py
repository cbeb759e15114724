"""Connectionist temporal classification: the log-space alpha (forward) and beta (backward) recursions.

Layouts (all flat, contiguous): ``lp`` holds log-probabilities (T, N, C); the targets of batch item n are
``targets[tg_off[n] + k]`` for k < tg_len[n]; ``log_alpha`` and ``log_beta`` are (N, T, L) with L = 2 * S_max + 1,
position s of the extended label sequence being the blank for even s and target (s - 1) / 2 for odd s.
Only rows t < in_len[n] and columns s < 2 * tg_len[n] + 1 are meaningful; the rest is set to -inf.
"""
import math

import numpy as np
from numba import njit, prange

NEG_INF = -np.inf


@njit(cache=True, inline="always")
def _lse2(a, b):
    m = a if a > b else b
    if m == NEG_INF:
        return NEG_INF
    return m + math.log(math.exp(a - m) + math.exp(b - m))


@njit(cache=True, inline="always")
def _lse3(a, b, c):
    m = a if a > b else b
    m = m if m > c else c
    if m == NEG_INF:
        return NEG_INF
    return m + math.log(math.exp(a - m) + math.exp(b - m) + math.exp(c - m))


@njit(cache=True, inline="always")
def _label(targets, off, s, blank):
    return blank if s % 2 == 0 else targets[off + s // 2]


@njit(cache=True, parallel=True, error_model="numpy")
def ctc_loss(lp, targets, tg_off, in_len, tg_len, blank, T, N, C, L, log_alpha, nll):
    """nll[n] = -log p(targets of n | lp), and the alphas the backward pass reuses."""
    for n in prange(N):
        Tn = in_len[n]
        S = tg_len[n]
        Ln = 2 * S + 1
        off = tg_off[n]
        a = n * T * L
        for i in range(T * L):
            log_alpha[a + i] = NEG_INF
        if Tn == 0:
            nll[n] = 0.0 if S == 0 else np.inf
            continue
        log_alpha[a] = lp[n * C + blank]
        if S > 0:
            log_alpha[a + 1] = lp[n * C + targets[off]]
        for t in range(1, Tn):
            row = a + t * L
            prev = row - L
            base = (t * N + n) * C
            for s in range(Ln):
                c = _label(targets, off, s, blank)
                v1 = log_alpha[prev + s]
                v2 = log_alpha[prev + s - 1] if s > 0 else NEG_INF
                # a label may skip the blank before it unless it repeats the previous label
                v3 = NEG_INF
                if s > 1 and s % 2 == 1 and targets[off + s // 2 - 1] != c:
                    v3 = log_alpha[prev + s - 2]
                log_alpha[row + s] = _lse3(v1, v2, v3) + lp[base + c]
        last = a + (Tn - 1) * L
        ll = log_alpha[last + Ln - 1]
        if S > 0:
            ll = _lse2(ll, log_alpha[last + Ln - 2])
        nll[n] = -ll


@njit(cache=True, parallel=True, error_model="numpy")
def ctc_loss_backward(lp, targets, tg_off, in_len, tg_len, blank, T, N, C, L, log_alpha, nll, grad_out,
                      zero_infinity, log_beta, grad):
    """grad[t, n, c] = (exp(lp) - exp(log sum_{s: label s == c} alpha*beta + nll - lp)) * grad_out[n] for
    t < in_len[n], else 0 (PyTorch's gradient, which assumes lp came from a log_softmax); rows of items whose
    loss is infinite are zero under ``zero_infinity``."""
    for n in prange(N):
        Tn = in_len[n]
        S = tg_len[n]
        Ln = 2 * S + 1
        off = tg_off[n]
        b = n * T * L
        for i in range(T * L):
            log_beta[b + i] = NEG_INF
        start = Tn
        if Tn == 0 or (zero_infinity and nll[n] == np.inf):
            start = 0
        else:
            last = b + (Tn - 1) * L
            base = ((Tn - 1) * N + n) * C
            log_beta[last + Ln - 1] = lp[base + blank]
            if S > 0:
                log_beta[last + Ln - 2] = lp[base + targets[off + S - 1]]
            for t in range(Tn - 2, -1, -1):
                row = b + t * L
                nxt = row + L
                base = (t * N + n) * C
                for s in range(Ln):
                    c = _label(targets, off, s, blank)
                    v1 = log_beta[nxt + s]
                    v2 = log_beta[nxt + s + 1] if s < Ln - 1 else NEG_INF
                    v3 = NEG_INF
                    if s < Ln - 2 and s % 2 == 1 and targets[off + s // 2 + 1] != c:
                        v3 = log_beta[nxt + s + 2]
                    log_beta[row + s] = _lse3(v1, v2, v3) + lp[base + c]
            g = grad_out[n]
            ln = nll[n]
            for t in range(Tn):
                base = (t * N + n) * C
                for c in range(C):
                    grad[base + c] = NEG_INF
                row = t * L
                for s in range(Ln):
                    c = _label(targets, off, s, blank)
                    grad[base + c] = _lse2(grad[base + c], log_alpha[b + row + s] + log_beta[b + row + s])
                for c in range(C):
                    v = lp[base + c]
                    grad[base + c] = (math.exp(v) - math.exp(grad[base + c] + ln - v)) * g
        for t in range(start, T):
            base = (t * N + n) * C
            for c in range(C):
                grad[base + c] = 0.0
