"""Launch configuration shared by the CUDA kernels.

On a real GPU a 1-D launch uses 256-thread blocks and a 2-D tile is 16 x 16. Under the simulator every CUDA thread
is a Python thread, so blocks are tiny and grids are capped: the kernels use grid-stride loops, so any size is
still covered.
"""
import numpy as np
from numba import config, cuda

SIM = bool(config.ENABLE_CUDASIM)
THREADS = 8 if SIM else 256  # threads per block of a 1-D launch
MAX_BLOCKS = 2 if SIM else 4096  # 1-D kernels loop over the grid, so the cap only bounds the launch
TILE = 4 if SIM else 16  # edge of a square 2-D tile (matmul: TILE x TILE threads and shared-memory tiles)


def blocks(n, threads=THREADS):
    """Blocks for ``n`` work items of a grid-stride kernel."""
    return max(1, min(MAX_BLOCKS, (int(n) + threads - 1) // threads))


def meta(values):
    """Shape/stride metadata (a host sequence or array) as an int64 device array."""
    return cuda.to_device(np.ascontiguousarray(values, dtype=np.int64))
