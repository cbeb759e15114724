"""Linear-algebra kernels for CUDA (the same functions as kernels/cpu/linalg.py)."""
