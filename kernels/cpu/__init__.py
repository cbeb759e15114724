"""CPU kernels: ``@njit(cache=True)`` functions over NumPy arrays."""
from . import activation, conv, elementwise, half, index, linalg, matmul, memory, optim, pool, random, reduce, search, sort  # noqa: F401,E501
from . import sample  # noqa: F401,E402
