"""Storage management for the CPU device: storages are flat NumPy arrays.

Every op allocates its output, so a training step frees and reallocates the same large activation buffers many
times. glibc hands blocks above its mmap threshold straight back to the kernel and trims the heap's free top, so
each reallocation page-faults afresh (measured here: a relu -> mul -> max-pool chain on a 6.4 MB batch took 12.4 ms
instead of 5.8 ms; filling a fresh 100 MB array took 12.3 ms instead of 5.1 ms). On import we therefore ask glibc to
keep freed blocks of up to 1 GiB in the heap (``mallopt``), as a caching allocator would. Set
``MINITORCH_MALLOC_CACHE=0`` before importing minitorch to leave the process's malloc settings alone.
"""
import ctypes
import os
import sys

import numpy as np

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_KEEP = 1 << 30


def _keep_freed_memory():
    """Raise glibc's mmap and trim thresholds to 1 GiB; returns whether it was done."""
    if os.environ.get("MINITORCH_MALLOC_CACHE", "1") == "0" or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl, ...): nothing to tune
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, _KEEP)) and bool(mallopt(_M_TRIM_THRESHOLD, _KEEP))


MALLOC_CACHE = _keep_freed_memory()


# empty(n, np_dtype): numpy's own function, bound directly (a Python wrapper around it cost ~100 ns per tensor)
empty = np.empty

PAGE = 4096


def empty_large(n, np_dtype):
    """``empty`` starting on a 4 KiB page boundary, for large storages (one page more is allocated).

    With the heap keeping freed blocks (above), a large block starts wherever the heap's history leaves it, and the
    distance between an input's and an output's start, modulo 4 KiB, changes from run to run. Streaming kernels
    care: the fused tanh-GELU over 16M float32 took 11.4-13.3 ms with output and input 0-512 bytes apart modulo
    4 KiB and 20.7-23.2 ms at 1-3 KiB (the store and load streams collide in the core's 4 KiB-aliasing check and
    cache sets). Page-aligned storages are always 0 apart."""
    dt = np.dtype(np_dtype)
    raw = np.empty(n * dt.itemsize + PAGE, np.uint8)
    start = -raw.ctypes.data % PAGE
    return raw[start:start + n * dt.itemsize].view(dt)


def zeros(n, np_dtype):
    return np.zeros(n, dtype=np_dtype)


def from_host(array):
    """A flat storage holding a copy of a host array (the CPU keeps host memory, so this is the identity)."""
    return array


def to_host(storage):
    return storage


def is_storage(obj):
    return isinstance(obj, np.ndarray)
