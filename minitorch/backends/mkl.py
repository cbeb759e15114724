"""``minitorch.backends.mkl``: whether the CPU kernels' GEMMs run on Intel MKL (see ``kernels/cpu/_blas.py``)."""


def is_available():
    """True when this process's CPU GEMMs call MKL (the ``mkl`` extra is installed and ``MINITORCH_BLAS`` is not
    ``openblas``); False when they call SciPy's OpenBLAS."""
    from ..kernels.cpu import _blas
    return _blas.BACKEND.startswith("mkl")
