"""Searching and counting kernels for CUDA (the same functions as kernels/cpu/search.py)."""
