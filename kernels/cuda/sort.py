"""Sorting kernels for CUDA (the same functions as kernels/cpu/sort.py)."""
