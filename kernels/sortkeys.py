"""Sort keys shared by every device's sort kernels (host-side, no Numba).

A sort key is the element's bit pattern read as an unsigned integer of the same width and then mapped so that
unsigned order is value order (the kernels do the mapping: flip the sign bit of integers; for floats flip all bits
of negatives and the sign bit of positives, with NaN above +inf).
"""
import numpy as np

UNSIGNED = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}


def key_view(a):
    """(unsigned view of a's bits, kind): kind 0 unsigned/bool, 1 signed integer, 2 float (float32/float64)."""
    dt = a.dtype
    if dt.kind == "b":
        return a.view(np.uint8), 0
    if dt.kind == "u":
        return a, 0
    return a.view(UNSIGNED[dt.itemsize]), 2 if dt.kind == "f" else 1
