"""Searching and counting kernels for CUDA (the same functions as kernels/cpu/search.py).

Thread per element, grid-stride: ``searchsorted`` runs one binary search per value; ``bincount`` and
``histogram`` add with atomics into a per-block table in shared memory (when it fits, else straight into the
output), then each block adds its table into the output (so the order of float additions, and hence the last bits
of a weighted float sum, may vary from run to run, as in PyTorch). The ``*_par`` names are the same launches (the CPU's
thread count ``T`` is ignored).
"""

from numba import cuda

from .. import scalar
from ._grid import THREADS, blocks
from ..opcodes import REDUCE
from .reduce import reduce_inner


@cuda.jit(device=True)
def _search(bnd, lo, n, sorter, use_sorter, v, right):
    """Position in [0, n] of v among bnd[lo : lo + n] (read through sorter when use_sorter); NaN compares false."""
    a = 0
    b = n
    while a < b:
        mid = (a + b) >> 1
        x = bnd[lo + sorter[lo + mid]] if use_sorter else bnd[lo + mid]
        if right:
            go_right = not (x > v)
        else:
            go_right = not (x >= v)
        if go_right:
            a = mid + 1
        else:
            b = mid
    return a


@cuda.jit
def _searchsorted(bnd, n, vals, m, sorter, use_sorter, right, out):
    for j in range(cuda.grid(1), vals.shape[0], cuda.gridsize(1)):
        out[j] = _search(bnd, (j // m) * n, n, sorter, use_sorter, vals[j], right)


def searchsorted(bnd, n, vals, m, sorter, use_sorter, right, out):
    """out[j] = insertion point of vals[j] in boundary row j // m (rows of n elements)."""
    total = vals.shape[0]
    if total:
        _searchsorted[blocks(total), THREADS](bnd, n, vals, m, sorter, use_sorter, right, out)


searchsorted_par = searchsorted


@cuda.jit
def _bincount(x, w, use_w, out):
    for k in range(cuda.grid(1), x.shape[0], cuda.gridsize(1)):
        if use_w:
            cuda.atomic.add(out, x[k], w[k])
        else:
            cuda.atomic.add(out, x[k], 1)


@cuda.jit
def _bincount_shared(x, w, use_w, out):
    """_bincount into a per-block table in (dynamic) shared memory, added to out once per block: many threads
    hitting the same few bins contend in fast shared memory instead of global memory."""
    table = cuda.shared.array(0, out.dtype)
    nb = out.shape[0]
    t = cuda.threadIdx.x
    for b in range(t, nb, cuda.blockDim.x):
        table[b] = 0
    cuda.syncthreads()
    for k in range(cuda.grid(1), x.shape[0], cuda.gridsize(1)):
        if use_w:
            cuda.atomic.add(table, x[k], w[k])
        else:
            cuda.atomic.add(table, x[k], 1)
    cuda.syncthreads()
    for b in range(t, nb, cuda.blockDim.x):
        if table[b] != 0:
            cuda.atomic.add(out, b, table[b])


SHARED_TABLE_BYTES = 16 * 1024  # per-block tables up to this size (2048 int64/float64 bins) go to shared memory


def _shared_ok(out):
    return out.shape[0] * out.dtype.itemsize <= SHARED_TABLE_BYTES


def bincount(x, w, use_w, out):
    """out[x[k]] += w[k] (or 1); out is zeroed by the caller and long enough for max(x) + 1."""
    n = x.shape[0]
    if not n:
        return
    if _shared_ok(out):
        _bincount_shared[blocks(n), THREADS, 0, out.shape[0] * out.dtype.itemsize](x, w, use_w, out)
    else:
        _bincount[blocks(n), THREADS](x, w, use_w, out)


def bincount_par(x, w, use_w, out, T):
    bincount(x, w, use_w, out)


_bin = cuda.jit(device=True)(scalar.bin_of)


@cuda.jit
def _histogram(x, w, use_w, edges, mode, nbf, out):
    for k in range(cuda.grid(1), x.shape[0], cuda.gridsize(1)):
        p = _bin(edges, mode, nbf, x[k])
        if p >= 0:
            if use_w:
                cuda.atomic.add(out, p, w[k])
            else:
                cuda.atomic.add(out, p, 1)


@cuda.jit
def _histogram_shared(x, w, use_w, edges, mode, nbf, out):
    """_histogram into a per-block table in (dynamic) shared memory, as _bincount_shared."""
    table = cuda.shared.array(0, out.dtype)
    nb = out.shape[0]
    t = cuda.threadIdx.x
    for b in range(t, nb, cuda.blockDim.x):
        table[b] = 0
    cuda.syncthreads()
    for k in range(cuda.grid(1), x.shape[0], cuda.gridsize(1)):
        p = _bin(edges, mode, nbf, x[k])
        if p >= 0:
            if use_w:
                cuda.atomic.add(table, p, w[k])
            else:
                cuda.atomic.add(table, p, 1)
    cuda.syncthreads()
    for b in range(t, nb, cuda.blockDim.x):
        if table[b] != 0:
            cuda.atomic.add(out, b, table[b])


def histogram(x, w, use_w, edges, mode, nbf, out):
    """out[bin(x[k])] += w[k] (or 1) for the elements inside the edges; out (len(edges) - 1) zeroed by the caller."""
    n = x.shape[0]
    if not n:
        return
    if _shared_ok(out):
        _histogram_shared[blocks(n), THREADS, 0, out.shape[0] * out.dtype.itemsize](x, w, use_w, edges, mode, nbf,
                                                                                    out)
    else:
        _histogram[blocks(n), THREADS](x, w, use_w, edges, mode, nbf, out)


def histogram_par(x, w, use_w, edges, mode, nbf, out, T):
    histogram(x, w, use_w, edges, mode, nbf, out)


def bounds(x, out):
    """out[0], out[1] = min and max of the non-empty x (NaN-propagating): two reductions of kernels/cuda/reduce."""
    n = x.shape[0]
    reduce_inner(REDUCE["amin"], x, 0, 0, 1, 0, 1, n, 1, out[0:1])
    reduce_inner(REDUCE["amax"], x, 0, 0, 1, 0, 1, n, 1, out[1:2])
