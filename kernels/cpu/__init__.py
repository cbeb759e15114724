"""CPU kernels: ``@njit(cache=True)`` functions over NumPy arrays."""
from . import _threads  # noqa: F401  (first: picks the threading layer before any kernel runs)
from . import activation, conv, elementwise, half, index, linalg, matmul, memory, optim, pool, random, reduce, search, sort  # noqa: F401,E501
from . import ctc  # noqa: F401,E402
from . import pool3d  # noqa: F401,E402
from . import sample  # noqa: F401,E402
from . import special  # noqa: F401,E402
from . import attention  # noqa: F401,E402
from . import rnn  # noqa: F401,E402
from . import sparse  # noqa: F401,E402
