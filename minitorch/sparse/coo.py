"""Sparse COO tensors (``layout=minitorch.sparse_coo``): ``sparse_coo_tensor``, ``Tensor.to_sparse``, and the ops
graph networks use on them (sparse @ dense, dense @ sparse, dense + sparse, scaling, coalescing, ``to_dense``).

A sparse tensor of shape ``(*sparse_sizes, *dense_sizes)`` holds two dense tensors: ``indices`` (int64, (sparse_dim,
nnz)) and ``values`` (nnz, *dense_sizes). It is a ``Tensor`` (``isinstance`` holds, ``shape``/``dtype``/``device``
are its own) without a strided storage. The float32/float64 products sparse @ dense run on kernels of their own
(kernels/*/sparse.py: the entries in CSR order, built once per sparse tensor and kept); every other op is written
with the dense ops (index_select, index_add, advanced indexing) on the two parts, so it runs on every device, and
autograd flows through ``values``.
``requires_grad`` and ``grad`` are those of ``values``: a sparse leaf's gradient is sparse, with its indices (what
``torch.sparse.mm`` gives). Index bookkeeping (``coalesce``) runs on the host. A dense op handed a sparse tensor
raises NotImplementedError, as PyTorch does for an op without a sparse kernel.
"""
import math

import numpy as np

from .. import dtypes as _dt
from ..autograd.function import Function
from ..tensor import _EPOCH, Tensor

_INT64 = _dt.int64


def _no_strided(self):
    raise NotImplementedError("this operation does not support sparse COO tensors (layout=torch.sparse_coo); "
                              "convert with .to_dense() first")


class SparseTensor(Tensor):
    """A sparse COO tensor (see the module docstring); made by ``sparse_coo_tensor`` and ``Tensor.to_sparse``."""

    __slots__ = ("_sp_indices", "_sp_values", "_sp_coalesced", "_sp_plan")
    _is_sparse_coo = True

    # a dense kernel reaching for the strided storage of a sparse tensor stops here, before any launch
    _storage = property(_no_strided)
    _stride = property(_no_strided)
    _offset = property(_no_strided)
    _contig = property(lambda self: False)
    _requires_grad = property(lambda self: self._sp_values._requires_grad)
    _grad_fn = property(lambda self: self._sp_values._grad_fn)

    def __new__(cls, *args, **kwargs):
        raise TypeError("sparse tensors are made by minitorch.sparse_coo_tensor or Tensor.to_sparse")

    # -- structure --------------------------------------------------------------------------------------------
    is_sparse = property(lambda self: True)

    @property
    def layout(self):
        from .._torch_names import sparse_coo
        return sparse_coo

    def sparse_dim(self):
        return self._sp_indices._shape[0]

    def dense_dim(self):
        return len(self._shape) - self._sp_indices._shape[0]

    def _nnz(self):
        return self._sp_indices._shape[1]

    def is_coalesced(self):
        return self._sp_coalesced

    def _indices(self):
        return self._sp_indices

    def _values(self):
        return self._sp_values

    def indices(self):
        if not self._sp_coalesced:
            raise RuntimeError("Cannot get indices on an uncoalesced tensor, please call .coalesce() first")
        return self._sp_indices

    def values(self):
        if not self._sp_coalesced:
            raise RuntimeError("Cannot get values on an uncoalesced tensor, please call .coalesce() first")
        return self._sp_values

    def stride(self, dim=None):
        raise RuntimeError("sparse tensors do not have strides")

    def is_contiguous(self, memory_format=None):
        raise RuntimeError("sparse tensors do not have is_contiguous")

    def numel(self):
        return math.prod(self._shape)

    def __len__(self):
        if not self._shape:
            raise TypeError("len() of a 0-d tensor")
        return self._shape[0]

    # -- autograd: that of values -----------------------------------------------------------------------------
    @property
    def requires_grad(self):
        return self._sp_values._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag):
        self._sp_values.requires_grad_(flag)

    def requires_grad_(self, requires_grad=True):
        self._sp_values.requires_grad_(requires_grad)
        return self

    @property
    def grad(self):
        """The gradient at the tensor's positions: per entry when coalesced; else one entry per distinct index
        (repeated entries of an uncoalesced tensor share their position's gradient, counted once, as PyTorch's
        dense gradient masked to those positions)."""
        g = self._sp_values.grad
        if g is None:
            return None
        if self._sp_coalesced:
            return _make(self._sp_indices, g, self._shape, True)
        from .. import creation
        from ..ops import index
        keys, first = np.unique(self._flat_index().cpu().numpy(), return_index=True)
        sd = self.sparse_dim()
        coords = np.stack(np.unravel_index(keys, self._shape[:sd])) if sd else np.zeros((0, len(keys)))
        dev = self._device
        picked = index.index_select(g, 0, creation.tensor(first.astype(np.int64), device=dev))
        return _make(creation.tensor(coords.astype(np.int64).reshape(sd, len(keys)), device=dev), picked,
                     self._shape, True)

    @grad.setter
    def grad(self, value):
        if value is not None:
            raise RuntimeError("only None can be assigned to the grad of a sparse tensor")
        self._sp_values.grad = None

    @property
    def grad_fn(self):
        return self._sp_values.grad_fn

    @property
    def is_leaf(self):
        return self._sp_values.is_leaf

    def detach(self):
        return _make(self._sp_indices, self._sp_values.detach(), self._shape, self._sp_coalesced)

    def clone(self, *, memory_format=None):
        return _make(self._sp_indices.clone(), self._sp_values.clone(), self._shape, self._sp_coalesced)

    # -- conversions ------------------------------------------------------------------------------------------
    def to(self, *args, **kwargs):
        v = self._sp_values.to(*args, **kwargs)
        if v is self._sp_values:
            return self
        return _make(self._sp_indices.to(v._device), v, self._shape, self._sp_coalesced)

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None, non_blocking=False):
        return self.to("cuda" if device is None else device)

    def float(self):
        return self.to(_dt.float32)

    def double(self):
        return self.to(_dt.float64)

    def half(self):
        return self.to(_dt.float16)

    def long(self):
        return self.to(_INT64)

    def int(self):
        return self.to(_dt.int32)

    def type(self, dtype=None, non_blocking=False):
        if dtype is None:
            return "torch.sparse." + _dt_name(self._dtype)
        return self.to(dtype)

    def to_sparse(self, sparse_dim=None):
        if sparse_dim is not None and sparse_dim != self.sparse_dim():
            raise RuntimeError("to_sparse: conversion from Sparse to Sparse with sparse_dim argument !="
                               " self.sparse_dim() is not supported")
        return self

    to_sparse_coo = to_sparse

    def to_dense(self, dtype=None, *, masked_grad=None):
        """The dense tensor: values summed into a zero tensor at their indices (duplicates add up)."""
        from .. import creation
        from ..ops import index
        sd = self.sparse_dim()
        rows = math.prod(self._shape[:sd])
        out = creation.zeros((rows,) + self._shape[sd:], dtype=self._dtype, device=self._device)
        out = index.index_add(out, 0, self._flat_index(), self._sp_values).reshape(self._shape)
        return out if dtype is None else out.to(dtype)

    def _flat_index(self):
        """Each entry's position in the row-major order of the sparse dims (an int64 tensor of nnz)."""
        sd = self.sparse_dim()
        idx = self._sp_indices
        flat = idx[sd - 1] if sd else idx.new_zeros(self._nnz())
        step = 1
        for d in range(sd - 2, -1, -1):
            step *= self._shape[d + 1]
            flat = flat + idx[d] * step
        return flat

    def coalesce(self):
        """The same tensor with its indices sorted (row-major) and unique, the values of repeated ones summed."""
        if self._sp_coalesced:
            return self
        from .. import creation
        from ..ops import index
        sd = self.sparse_dim()
        flat = self._flat_index().cpu().numpy()
        keys, inverse = np.unique(flat, return_inverse=True)
        dev = self._device
        inv = creation.tensor(inverse.reshape(-1).astype(np.int64), device=dev)
        values = creation.zeros((len(keys),) + self._shape[sd:], dtype=self._dtype, device=dev)
        values = index.index_add(values, 0, inv, self._sp_values)
        coords = np.stack(np.unravel_index(keys, self._shape[:sd])) if sd else np.zeros((0, len(keys)))
        indices = creation.tensor(coords.astype(np.int64).reshape(sd, len(keys)), device=dev)
        return _make(indices, values, self._shape, True)

    # -- shape ------------------------------------------------------------------------------------------------
    def t(self):
        if self.sparse_dim() != 2 or self.dense_dim() != 0:
            if len(self._shape) < 2:
                return self
            raise RuntimeError(f"t() expects a tensor with <= 2 sparse and 0 dense dimensions, but got "
                               f"{self.sparse_dim()} sparse and {self.dense_dim()} dense dimensions")
        return _make(self._sp_indices.flip(0), self._sp_values, (self._shape[1], self._shape[0]), False)

    def transpose(self, dim0, dim1):
        n = len(self._shape)
        d0, d1 = dim0 % n if n else 0, dim1 % n if n else 0
        if d0 == d1:
            return self
        if max(d0, d1) >= self.sparse_dim():
            raise RuntimeError("transpose of a sparse tensor is supported between sparse dimensions only")
        order = list(range(self.sparse_dim()))
        order[d0], order[d1] = order[d1], order[d0]
        shape = list(self._shape)
        shape[d0], shape[d1] = shape[d1], shape[d0]
        return _make(self._sp_indices[order], self._sp_values, tuple(shape), False)

    # -- arithmetic -------------------------------------------------------------------------------------------
    def __neg__(self):
        return _make(self._sp_indices, -self._sp_values, self._shape, self._sp_coalesced)

    def __mul__(self, other):
        if isinstance(other, SparseTensor):
            return (self.to_dense() * other.to_dense()).to_sparse(self.sparse_dim())
        if isinstance(other, Tensor):
            if other.dim() == 0:
                return _make(self._sp_indices, self._sp_values * other, self._shape, self._sp_coalesced)
            if tuple(other._shape) != self._shape:
                raise RuntimeError(f"mul of a sparse tensor of size {list(self._shape)} and a dense one of size "
                                   f"{list(other._shape)}: sizes must match")
            picked = other[tuple(self._sp_indices[d] for d in range(self.sparse_dim()))]
            return _make(self._sp_indices, self._sp_values * picked, self._shape, self._sp_coalesced)
        return _make(self._sp_indices, self._sp_values * other, self._shape, self._sp_coalesced)

    __rmul__ = __mul__

    def __truediv__(self, other):
        if isinstance(other, Tensor) and other.dim() != 0:
            raise RuntimeError("a sparse tensor can only be divided by a scalar or a 0-dim tensor")
        return _make(self._sp_indices, self._sp_values / other, self._shape, self._sp_coalesced)

    def __rtruediv__(self, other):
        return NotImplemented

    def add(self, other, *, alpha=1):
        if isinstance(other, SparseTensor):
            _same_shape(self, other, "add")
            if other._dtype is not self._dtype or other._device != self._device:
                other = other.to(device=self._device, dtype=self._dtype)
            from .. import ops
            v = other._sp_values if alpha == 1 else other._sp_values * alpha
            both = _make(ops.shape.cat([self._sp_indices, other._sp_indices], 1),
                         ops.shape.cat([self._sp_values, v], 0), self._shape, False).coalesce()
            both._sp_coalesced = self._sp_coalesced and other._sp_coalesced
            return both
        if isinstance(other, Tensor):
            raise RuntimeError("add(sparse, dense) is not supported. Use add(dense, sparse) instead.")
        raise TypeError(f"unsupported operand type(s) for +: 'Tensor' and '{type(other).__name__}'")

    def sub(self, other, *, alpha=1):
        if isinstance(other, SparseTensor):
            return self.add(other, alpha=-alpha)
        if isinstance(other, Tensor):
            raise RuntimeError("sub(sparse, dense) is not supported. Use sub(dense, sparse) instead.")
        raise TypeError(f"unsupported operand type(s) for -: 'Tensor' and '{type(other).__name__}'")

    def __add__(self, other):
        return self.add(other)

    def __sub__(self, other):
        return self.sub(other)

    def __radd__(self, other):  # dense + sparse: a dense result
        if isinstance(other, Tensor):
            return other + self.to_dense()
        return NotImplemented

    def __rsub__(self, other):
        if isinstance(other, Tensor):
            return other - self.to_dense()
        return NotImplemented

    def sum(self, dim=None, keepdim=False, dtype=None):
        if dim is not None:
            return self.to_dense().sum(dim, keepdim=keepdim, dtype=dtype)
        return self._sp_values.sum(dtype=dtype)

    def __repr__(self, *, tensor_contents=None):
        """PyTorch's layout: indices and values without their dtypes, then size, nnz, dtype (other than the
        default float and int64), layout, device, autograd."""
        ind = _bare(self._sp_indices).replace("\n", "\n" + " " * len("tensor(indices="))
        val = _bare(self._sp_values).replace("\n", "\n" + " " * len("       values="))
        size = "(" + ", ".join(str(s) for s in self._shape) + ("," if len(self._shape) == 1 else "") + ")"
        tail = f"size={size}, nnz={self._nnz()}"
        if self._dtype not in (_dt.get_default_dtype(), _INT64, _dt.bool):
            tail += f", dtype={self._dtype}"
        tail += ", layout=torch.sparse_coo"
        if self._device.type != "cpu":
            tail += f", device='{self._device}'"
        if self.grad_fn is not None:
            tail += f",\n       grad_fn=<{type(self.grad_fn).__name__}>"
        elif self.requires_grad:
            tail += ", requires_grad=True"
        return f"tensor(indices={ind},\n       values={val},\n       {tail})"

    __str__ = __repr__


def _bare(t):
    """repr of a dense tensor without its dtype, device and autograd suffixes."""
    text = repr(t.detach().cpu())
    cut = text.find(", dtype=")
    text = text[:cut] + ")" if cut >= 0 else text
    if t.numel() == 0 and "size=" not in text:  # an empty part always shows its size
        text = text[:-1] + f", size={tuple(t.shape)})"
    return text


def _dt_name(dtype):
    names = {_dt.float32: "FloatTensor", _dt.float64: "DoubleTensor", _dt.float16: "HalfTensor",
             _INT64: "LongTensor", _dt.int32: "IntTensor"}
    return names.get(dtype, "Tensor")


def _same_shape(a, b, name):
    if a._shape != b._shape:
        raise RuntimeError(f"{name}: expected sizes of the two sparse tensors to match, but got {list(a._shape)} "
                           f"and {list(b._shape)}")


def _make(indices, values, shape, coalesced):
    t = object.__new__(SparseTensor)
    t._base = None
    t._shape = tuple(int(s) for s in shape)
    t._dtype = values._dtype
    t._device = values._device
    t._vc = [0, _EPOCH[0]]
    t._grad = None
    t._retains_grad = False
    t._hooks = None
    t._sp_indices = indices
    t._sp_values = values
    t._sp_coalesced = coalesced
    t._sp_plan = None
    return t


def sparse_coo_tensor(indices, values, size=None, *, dtype=None, device=None, pin_memory=False, requires_grad=False,
                      check_invariants=None, is_coalesced=None):
    """A sparse COO tensor with ``values[k]`` at ``indices[:, k]`` (repeated indices add up); ``size`` defaults to
    the smallest that holds the indices, followed by the values' trailing sizes. Indices are checked against the
    size (PyTorch checks them only under ``check_invariants``; here an index out of range is always an error)."""
    from .. import creation
    ind = creation.as_tensor(indices, device=device)
    if ind._dtype is not _INT64:
        if ind._dtype.is_floating_point or ind._dtype is _dt.bool:
            raise RuntimeError("indices must be an int64 tensor")
        ind = ind.to(_INT64)
    val = creation.as_tensor(values, dtype=dtype, device=device if device is not None else ind._device)
    if ind._device != val._device:
        ind = ind.to(val._device)
    if ind.dim() != 2:
        raise RuntimeError(f"indices must be sparse_dim x nnz, but got: {list(ind._shape)}")
    sd, nnz = ind._shape
    if val.dim() == 0:
        raise RuntimeError("values must have at least one dimension (nnz)")
    if val._shape[0] != nnz:
        raise RuntimeError(f"indices and values must have same nnz, but got nnz from indices: {nnz}, nnz from "
                           f"values: {val._shape[0]}")
    coords = ind.cpu().numpy()
    if coords.size and coords.min() < 0:
        d = int(np.nonzero((coords < 0).any(1))[0][0])
        raise RuntimeError(f"found negative index {int(coords[d].min())} for dim {d}")
    if size is None:
        shape = tuple(int(coords[d].max()) + 1 if nnz else 0 for d in range(sd)) + tuple(val._shape[1:])
    else:
        shape = tuple(int(s) for s in size)
        dense_dim = val.dim() - 1
        if len(shape) != sd + dense_dim:
            raise RuntimeError(f"'len(size) == sparse_dim + dense_dim' is not satisfied: len(size) = {len(shape)}, "
                               f"sparse_dim = {sd}, dense_dim = {dense_dim}")
        if tuple(val._shape[1:]) != shape[sd:]:
            raise RuntimeError(f"values has incorrect size, expected {[nnz] + list(shape[sd:])}, got "
                               f"{list(val._shape)}")
        for d in range(sd):
            if nnz and coords[d].max() >= shape[d]:
                raise RuntimeError(f"size is inconsistent with indices: for dim {d}, size is {shape[d]} but found "
                                   f"index {int(coords[d].max())}")
    if requires_grad:
        if not val._dtype.is_floating_point:
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        val = val.detach().requires_grad_(True)
    return _make(ind, val, shape, bool(is_coalesced) if is_coalesced is not None else nnz <= 1)


def to_sparse(self, sparse_dim=None, *, layout=None, blocksize=None, dense_dim=None):
    """The sparse COO form of a dense tensor: its nonzero entries (over the leading ``sparse_dim`` dims, whole
    trailing slices kept as values), coalesced."""
    from .. import creation
    from ..ops import index
    if layout is not None and repr(layout) != "torch.sparse_coo":
        raise RuntimeError(f"to_sparse: layout {layout} is not supported (only torch.sparse_coo)")
    n = self.dim()
    sd = n if sparse_dim is None else int(sparse_dim)
    if not 0 <= sd <= n:
        raise RuntimeError(f"sparse_dim argument must be in [0, {n}] range, but {sd} is given")
    if sd == 0:
        return _make(creation.zeros((0, 1), dtype=_INT64, device=self._device), self.unsqueeze(0), self._shape, True)
    nz = self != 0
    if sd < n:
        nz = nz.reshape(self._shape[:sd] + (-1,)).any(-1)
    coords = index.nonzero(nz).t().contiguous()  # row-major order: already coalesced
    values = self[tuple(coords[d] for d in range(sd))]
    return _make(coords, values, self._shape, True)


def _dense_to_dense(self, dtype=None, *, masked_grad=None):
    return self if dtype is None else self.to(dtype)


# ---------------------------------------------------------------------------------------------------------------
# products
# ---------------------------------------------------------------------------------------------------------------
def _plan(s):
    """The CSR forms of a 2-D sparse tensor, built on the host once and kept: (rowptr, columns, order) of S sorted
    by row, the same of S^T (sorted by column), and the rows and columns in the entries' own order; each an int64
    tensor on S's device. ``order`` is the stable sort of the entries, so repeated indices all count."""
    if s._sp_plan is None:
        from .. import creation
        rows, cols = s._sp_indices.cpu().numpy()
        M, K = s._shape
        if rows.size and (min(rows.min(), cols.min()) < 0 or rows.max() >= M or cols.max() >= K):
            # the indices tensor is the caller's own (as in PyTorch) and may have been written since construction
            raise RuntimeError(f"sparse tensor of size {list(s._shape)} has an index out of range")

        def csr(major, minor, n):
            order = np.argsort(major, kind="stable")
            ptr = np.zeros(n + 1, np.int64)
            np.cumsum(np.bincount(major, minlength=n), out=ptr[1:])
            return ptr, minor[order], order

        def dev(a):
            return creation.tensor(np.ascontiguousarray(a, dtype=np.int64), device=s._device)
        s._sp_plan = tuple(dev(a) for a in csr(rows, cols, M) + csr(cols, rows, K) + (rows, cols))
    return s._sp_plan


class _SpMM(Function):
    """S @ D for a 2-D sparse S (its values the first input, its structure in ``plan``) and a 2-D dense D, on the
    csr_mm kernel; backward: the values' gradient G[row] . D[col] per entry (coo_dots), D's gradient S^T @ G."""

    @staticmethod
    def forward(ctx, vals, d, plan, M, trans=False):
        from ..ops import launch
        rowptr, ccols, order = plan[3:6] if trans else plan[:3]
        K, N = d._shape
        d = launch.contiguous(d)
        out = launch.empty((M, N), d._dtype, d._device)
        v = launch.select_rows(launch.contiguous(vals), 0, order)
        launch._k(d).sparse.csr_mm(rowptr._storage, ccols._storage, v._storage, d._storage, d._offset, K, N,
                                   out._storage)
        ctx.vals, ctx.d, ctx.plan, ctx.M, ctx.trans = vals, d, plan, M, trans
        return out

    @staticmethod
    def backward(ctx, g):
        from ..ops import launch
        d, plan, M = ctx.d, ctx.plan, ctx.M
        K, N = d._shape
        g = launch.contiguous(g)
        k = launch._k(g).sparse
        gv = gd = None
        if ctx.needs_input_grad[0]:
            rows, cols = (plan[7], plan[6]) if ctx.trans else (plan[6], plan[7])
            gv = launch.empty((rows.numel(),), g._dtype, g._device)
            k.coo_dots(rows._storage, cols._storage, g._storage, g._offset, M, d._storage, d._offset, K, N,
                       gv._storage)
        if ctx.needs_input_grad[1]:
            rowptr_t, crows_t, order_t = plan[:3] if ctx.trans else plan[3:6]
            vt = launch.select_rows(launch.contiguous(ctx.vals), 0, order_t)
            gd = launch.empty((K, N), g._dtype, g._device)
            k.csr_mm(rowptr_t._storage, crows_t._storage, vt._storage, g._storage, g._offset, M, N, gd._storage)
        return gv, gd, None, None, None


def _spmm(s, d, trans=False):
    """sparse (2 sparse dims, no dense ones) @ dense (2-D or 1-D), or with ``trans`` S^T @ dense (on the plan S
    keeps for its transpose). float32/float64 run the CSR kernels; other dtypes gather the rows of d each entry's
    column names, scale them by the entry and add them into the entry's output row with the dense index ops."""
    from .. import creation
    from ..ops import index
    if s.sparse_dim() != 2 or s.dense_dim() != 0:
        raise RuntimeError(f"matmul of a sparse tensor needs 2 sparse and 0 dense dimensions, but got "
                           f"{s.sparse_dim()} sparse and {s.dense_dim()} dense dimensions")
    vec = d.dim() == 1
    d2 = d.unsqueeze(1) if vec else d
    if d2.dim() != 2:
        raise RuntimeError(f"a sparse matrix can only be multiplied by a 1-D or 2-D dense tensor, got {d.dim()}-D")
    M, K = (s._shape[1], s._shape[0]) if trans else s._shape
    if d2._shape[0] != K:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({M}x{K} and "
                           f"{d2._shape[0]}x{d2._shape[1]})")
    if d._dtype in (_dt.float32, _dt.float64) and s._sp_values._dtype is d._dtype:
        out = _SpMM.apply(s._sp_values, d2, _plan(s), M, trans)
    else:
        rows, cols = s._sp_indices[1 if trans else 0], s._sp_indices[0 if trans else 1]
        picked = index.index_select(d2, 0, cols) * s._sp_values.unsqueeze(1)
        out = creation.zeros((M, d2._shape[1]), dtype=d._dtype, device=d._device)
        out = index.index_add(out, 0, rows, picked)
    return out.squeeze(1) if vec else out


def matmul(a, b):
    """``a @ b`` where at least one side is sparse: sparse @ dense and dense @ sparse give dense results, sparse @
    sparse a sparse one (computed through the dense product of the right side)."""
    from ..ops.matmul import _check
    _check(a, b, "mm")
    sa, sb = isinstance(a, SparseTensor), isinstance(b, SparseTensor)
    if sa and sb:
        return _spmm(a, b.to_dense()).to_sparse()
    if sa:
        return _spmm(a, b)
    if b.sparse_dim() != 2 or b.dense_dim() != 0:
        raise RuntimeError("matmul of a sparse tensor needs 2 sparse and 0 dense dimensions")
    if a.dim() == 1:
        return _spmm(b, a, trans=True)
    if a.dim() != 2:
        raise RuntimeError(f"a sparse matrix can only be multiplied by a 1-D or 2-D dense tensor, got {a.dim()}-D")
    return _spmm(b, a.t(), trans=True).t().contiguous()
