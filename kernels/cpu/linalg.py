"""Linear-algebra kernels for the CPU (LAPACK through NumPy inside @njit)."""
