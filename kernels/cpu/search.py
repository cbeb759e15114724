"""Searching and counting kernels for the CPU (searchsorted, bincount, histograms)."""
