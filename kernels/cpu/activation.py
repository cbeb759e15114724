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
