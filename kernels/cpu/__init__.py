"""CPU kernels: ``@njit(cache=True)`` functions over NumPy arrays."""
from . import activation, elementwise, index, matmul, memory, optim, reduce  # noqa: F401
