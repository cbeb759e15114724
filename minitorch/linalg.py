"""``minitorch.linalg``: PyTorch's ``torch.linalg`` (decompositions, solvers, inverses, norms).

The differentiable ops live in ``minitorch/ops/linalg.py``; this module gives them their ``torch.linalg`` names.
On CUDA, ``svd``, ``svdvals``, ``qr``, ``eigh``, ``eigvalsh``, ``lstsq``, ``pinv``, ``matrix_rank`` and the
``'nuc'``/2/-2 matrix norms run LAPACK on a host copy of the input (see ``kernels/cuda/linalg.py``); ``inv``,
``solve``, ``det``, ``slogdet`` and ``cholesky`` are CUDA kernels.
"""
from .ops.linalg import LinAlgError  # noqa: F401
from .ops.linalg import (linalg_cholesky as cholesky, linalg_cholesky_ex as cholesky_ex, linalg_det as det,
                         linalg_eigh as eigh, linalg_eigvalsh as eigvalsh, linalg_inv as inv,
                         linalg_inv_ex as inv_ex, linalg_lstsq as lstsq, linalg_matrix_norm as matrix_norm,
                         linalg_matrix_power as matrix_power, linalg_matrix_rank as matrix_rank,
                         linalg_multi_dot as multi_dot, linalg_norm as norm, linalg_pinv as pinv,
                         linalg_qr as qr, linalg_slogdet as slogdet, linalg_solve as solve, linalg_svd as svd,
                         linalg_svdvals as svdvals, linalg_vector_norm as vector_norm)
from .ops.contraction import linalg_cross as cross  # noqa: F401
from .ops.matmul import matmul  # noqa: F401

__all__ = ["LinAlgError", "cholesky", "cholesky_ex", "cross", "det", "eigh", "eigvalsh", "inv", "inv_ex", "lstsq",
           "matmul", "matrix_norm", "matrix_power", "matrix_rank", "multi_dot", "norm", "pinv", "qr", "slogdet",
           "solve", "svd", "svdvals", "vector_norm"]
