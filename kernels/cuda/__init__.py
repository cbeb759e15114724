"""CUDA kernels: ``@cuda.jit`` kernels behind the same module and function names (and arguments) as ``kernels/cpu``.

Storages are flat Numba device arrays. Each public function here is a host-side launcher that picks a grid and
launches one or more ``@cuda.jit`` kernels on the arrays it was given; the ``*_par`` names of the CPU package are
aliases of the plain ones (a GPU launch is always parallel). Small host arrays of shape/stride metadata are copied
to the device with the launch; no op copies tensor data back to the host, except where the CPU kernel returns a
value the caller needs (a count, a validation result).

Importing this package raises ImportError when no CUDA device is usable, so ``dispatch.available()`` leaves the
device out. ``NUMBA_ENABLE_CUDASIM=1`` runs everything on Numba's CUDA simulator (one Python thread per CUDA
thread): block sizes shrink then (see ``_grid``), so keep simulated shapes tiny.
"""
from numba import cuda

if not cuda.is_available():
    raise ImportError("no CUDA device is available (set NUMBA_ENABLE_CUDASIM=1 to use Numba's simulator)")

from . import (activation, conv, elementwise, half, index, linalg, matmul, memory, optim, pool,  # noqa: E402,F401
               random, reduce, search, sort)
from . import ctc  # noqa: E402,F401
from . import pool3d  # noqa: F401,E402
from . import sample  # noqa: F401,E402
from . import special  # noqa: F401,E402
from . import attention  # noqa: F401,E402
from . import rnn  # noqa: E402,F401
from . import sparse  # noqa: E402,F401
