"""Sorting and selection: sort, topk, kthvalue, median, mode, unique, searchsorted, histograms, cumulative extremes."""

FUNCTIONS = []  # exported as minitorch.<name>
METHODS = []  # attached as Tensor.<name>
