"""Searching and counting: searchsorted, bucketize, bincount, histc, histogram; cumulative max/min, logcumsumexp."""

FUNCTIONS = []  # exported as minitorch.<name>
METHODS = []  # attached as Tensor.<name>
