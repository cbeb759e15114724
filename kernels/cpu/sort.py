"""Sorting kernels for the CPU."""
