"""Storage management for the CUDA device: storages are flat Numba device arrays."""
import weakref

import numpy as np
from numba import cuda

from ._grid import THREADS, blocks

_allocated = [0, 0]  # bytes held by live storages made here, and the peak (minitorch.cuda.memory_allocated)


def _track(arr):
    nbytes = arr.size * arr.dtype.itemsize
    _allocated[0] += nbytes
    if _allocated[0] > _allocated[1]:
        _allocated[1] = _allocated[0]
    weakref.finalize(arr, _release, nbytes)
    return arr


def _release(nbytes):
    _allocated[0] -= nbytes


def allocated():
    return _allocated[0]


def peak():
    return _allocated[1]


def reset_peak():
    _allocated[1] = _allocated[0]


@cuda.jit
def _fill(out, value, n):
    for i in range(cuda.grid(1), n, cuda.gridsize(1)):
        out[i] = value


def empty(n, np_dtype):
    return _track(cuda.device_array(n, dtype=np_dtype))


def empty_large(n, np_dtype):
    """``empty`` for large storages (device allocations are already aligned to at least 256 bytes)."""
    return empty(n, np_dtype)


def zeros(n, np_dtype):
    out = empty(n, np_dtype)
    if n:
        _fill[blocks(n), THREADS](out, np.zeros(1, np_dtype)[0], n)
    return out


def from_host(array):
    """A flat device storage holding a copy of a host array."""
    return _track(cuda.to_device(np.ascontiguousarray(array)))


def to_host(storage):
    return storage.copy_to_host()


def is_storage(obj):
    return hasattr(obj, "copy_to_host") and hasattr(obj, "shape")
