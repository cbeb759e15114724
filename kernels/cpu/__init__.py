"""CPU kernels: ``@njit(cache=True)`` functions over NumPy arrays."""
from . import elementwise, index, matmul, memory, reduce  # noqa: F401
