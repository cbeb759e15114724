"""Row-wise softmax / log-softmax kernels (forward and backward) over contiguous (rows, cols) buffers.

No fastmath here: NaN and -inf must propagate exactly as in PyTorch (a row of -inf gives NaN).
"""
import math

import numpy as np
from numba import njit, prange

U = np.uint64


@njit(cache=True, inline="always")
def _softmax_row(x, out, base, C, log):
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
        for k in range(C):
            s += g[U(base + k)]
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


@njit(cache=True, error_model="numpy")
def nll_softmax_backward(logp, target, weight, has_weight, ignore_index, scale, per_row, div, R, C, out):
    """out[r, c] = scale[r] / div * w[t_r] * (softmax[r, c] - [c == t_r]): the gradient of cross-entropy w.r.t.
    logits (targets were validated by ``cross_entropy_rows``); ``scale`` is one value, or one per row when
    ``per_row``; ``div`` is the total weight for reduction='mean', else 1."""
    for r in range(R):
        t = target[r]
        base = r * C
        if t == ignore_index:
            for c in range(C):
                out[U(base + c)] = 0.0
            continue
        s = (scale[r] if per_row else scale[0]) / div * (weight[t] if has_weight else 1.0)
        for c in range(C):
            out[U(base + c)] = s * math.exp(logp[U(base + c)])
        out[U(base + t)] -= s
