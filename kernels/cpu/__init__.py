"""CPU kernels: ``@njit(cache=True)`` functions over NumPy arrays."""
from . import activation, conv, elementwise, index, matmul, memory, optim, pool, random, reduce  # noqa: F401
