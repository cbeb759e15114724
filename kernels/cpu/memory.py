"""Storage management for the CPU device: storages are flat NumPy arrays."""
import numpy as np


def empty(n, np_dtype):
    return np.empty(n, dtype=np_dtype)


def zeros(n, np_dtype):
    return np.zeros(n, dtype=np_dtype)


def from_host(array):
    """A flat storage holding a copy of a host array (the CPU keeps host memory, so this is the identity)."""
    return array


def to_host(storage):
    return storage


def is_storage(obj):
    return isinstance(obj, np.ndarray)
