"""``minitorch.backends``: the switches PyTorch programs set on their backends.

minitorch runs its own kernels, so there is no cuDNN, MKL-DNN or MPS behind it: ``cudnn.is_available()`` and
``mps.is_available()`` are False (``mkl.is_available()`` says whether its CPU GEMMs call Intel MKL), and flags such as ``cudnn.benchmark``, ``cudnn.deterministic`` or
``cuda.matmul.allow_tf32`` can be set and read but change nothing (no kernel here uses TF32 or autotunes).
"""
from . import cuda, cudnn, mkl, mps  # noqa: F401
