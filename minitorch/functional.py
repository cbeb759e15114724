"""``minitorch.functional``: the module PyTorch calls ``torch.functional``.

It holds functions that are also in the top-level namespace (``minitorch.functional.einsum is minitorch.einsum``);
programs that import them from here (``from torch.functional import F`` patterns, ``torch.functional.split``) get the
same objects.
"""
import minitorch as _mt

__all__ = ["atleast_1d", "atleast_2d", "atleast_3d", "block_diag", "broadcast_shapes", "broadcast_tensors",
           "cartesian_prod", "cdist", "chain_matmul", "einsum", "meshgrid", "norm", "split", "tensordot", "unique",
           "unique_consecutive", "unravel_index"]


def __getattr__(name):
    if name in __all__ and hasattr(_mt, name):
        return getattr(_mt, name)
    raise AttributeError(f"module 'minitorch.functional' has no attribute '{name}'")


def __dir__():
    return [n for n in __all__ if hasattr(_mt, n)]
