"""Numba kernels for minitorch: arrays in, arrays out.

Installed as ``minitorch.kernels``. Each device has a sub-package (``cpu``, later ``cuda``) exposing the same
module and function names; ``minitorch.dispatch`` picks the package for a tensor's device.
"""
