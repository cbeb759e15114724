"""``torch.sparse``: sparse COO tensors (see ``coo``) and the functions PyTorch keeps under this name."""
from .coo import SparseTensor, sparse_coo_tensor  # noqa: F401  (torch.sparse.sparse_coo_tensor as well)
from .coo import matmul as _matmul


def mm(mat1, mat2, reduce="sum"):
    """``mat1 @ mat2`` with a sparse COO ``mat1`` (or ``mat2``): a dense result for a dense other side. The
    gradient of a sparse leaf is sparse, with its indices."""
    if reduce != "sum":
        raise RuntimeError(f"sparse.mm: reduce={reduce!r} is not supported (only 'sum')")
    if not isinstance(mat1, SparseTensor) and not isinstance(mat2, SparseTensor):
        return mat1 @ mat2
    if mat1.dim() != 2 or mat2.dim() != 2:
        raise RuntimeError("sparse.mm: both arguments must be matrices")
    return _matmul(mat1, mat2)


def addmm(mat, mat1, mat2, *, beta=1.0, alpha=1.0):
    """``beta * mat + alpha * (mat1 @ mat2)`` with a sparse ``mat1`` and dense ``mat`` and ``mat2``."""
    prod = mm(mat1, mat2)
    if isinstance(mat, SparseTensor):
        mat = mat.to_dense()
    return (mat if beta == 1 else mat * beta) + (prod if alpha == 1 else prod * alpha)


def sum(input, dim=None, dtype=None):  # noqa: A001 - torch.sparse.sum
    """The sum of a sparse tensor's entries: all of them (a 0-dim dense tensor) or over ``dim`` (dense)."""
    if not isinstance(input, SparseTensor):
        return input.sum() if dim is None else input.sum(dim)
    return input.sum(dim, dtype=dtype)
