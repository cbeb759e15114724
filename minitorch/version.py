"""``torch.version``: minitorch's version; ``cuda`` and ``hip`` are None (minitorch is not built against a CUDA
toolkit: its CUDA kernels compile through Numba at run time, see ``minitorch.cuda.is_available()``)."""
__version__ = "0.1.0"
cuda = None
hip = None
git_version = "unknown"
debug = False
