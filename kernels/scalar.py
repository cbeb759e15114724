"""Scalar functions compiled for every device: each kernel package wraps them (``njit`` on the CPU, a CUDA device
function on the GPU) at import, so one definition serves both."""


def bin_of(edges, mode, nbf, v):
    """Bin of v for the sorted edges (nb + 1 of them), or -1 when v lies outside [edges[0], edges[nb]] or is NaN.

    The last bin includes its right edge. ``mode`` 0: binary search in the edges; 1: the linear position for
    uniform edges, moved to the bin whose edges bracket v (histogram); 2: the linear position alone (histc, as
    PyTorch computes it, so values within rounding of an inner edge may land in either neighbour)."""
    nb = edges.shape[0] - 1
    lo = edges[0]
    hi = edges[nb]
    if not (v >= lo and v <= hi):
        return -1
    if mode > 0:
        p = int((v - lo) * nbf / (hi - lo))  # nbf: nb in x's dtype, so float32 data is binned in float32
        if p > nb - 1:
            p = nb - 1
        if p < 0:
            p = 0
        if mode == 2:
            return p
        while p > 0 and v < edges[p]:
            p -= 1
        while p < nb - 1 and v >= edges[p + 1]:
            p += 1
        return p
    # the last edge e with e <= v (upper bound minus one), the top edge counted in the last bin
    a = 0
    b = nb + 1
    while a < b:
        mid = (a + b) >> 1
        if not (edges[mid] > v):
            a = mid + 1
        else:
            b = mid
    p = a - 1
    if p >= nb:
        p = nb - 1
    return p
