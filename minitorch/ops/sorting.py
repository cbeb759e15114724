"""Sorting and selection: sort, argsort, msort, topk, kthvalue, median, nanmedian, mode, unique, unique_consecutive.

The kernels (``kernels/<device>/sort.py``) work on contiguous rows: the launchers here move the selected dim last
and make it contiguous (one copy when it is not already), run the kernel over the ``R`` rows of ``n`` elements and
move the result back. Sorting is stable (a valid answer for ``stable=False`` too), NaN sorts after +inf (first when
descending), and ties between equal values keep their input order, as in PyTorch's stable sort.

Values picked out of the input (sort, msort, topk, kthvalue, median/nanmedian with a dim, mode) are differentiable:
the gradient is scattered back to the returned indices. median()/nanmedian() of all elements share the gradient
evenly between the elements equal to the result, as PyTorch does. argsort and unique are not differentiable.

``unique`` and ``unique_consecutive`` return tensors whose size depends on the data: on CUDA the number of unique
elements is read back to the host (one integer) before the outputs are sized, as in PyTorch.
"""
import operator

import numpy as np

from ..autograd.function import Function
from ..dtypes import bool as t_bool, int64
from ..tensor import Tensor
from . import launch
from .common import return_type, wrap_dim
from .reduce import Select

FUNCTIONS = ["sort", "argsort", "msort", "topk", "kthvalue", "median", "nanmedian", "mode", "unique",
             "unique_consecutive"]  # exported as minitorch.<name>
METHODS = list(FUNCTIONS)  # attached as Tensor.<name>

RETURN_TYPES = {name: return_type(name) for name in ("sort", "topk", "kthvalue", "median", "nanmedian", "mode")}


# ---------------------------------------------------------------------------------------------------------------
# launchers: Tensors in, Tensors out, no autograd
# ---------------------------------------------------------------------------------------------------------------
def _flat(t):
    """The flat run of a contiguous tensor's storage that holds its elements."""
    n = t.numel()
    if t._offset == 0 and t._storage.shape[0] == n:
        return t._storage
    return t._storage[t._offset:t._offset + n]


def _rows(x, dim):
    """x (ndim >= 1) with ``dim`` moved last and contiguous: (y, R, n)."""
    y = x if dim == x.dim() - 1 else x.movedim(dim, -1)
    if not y._contig:
        y = launch.contiguous(y)
    n = y._shape[-1]
    return y, (y.numel() // n if n else 0), n


def _back(t, dim, nd):
    """Undo _rows' move of ``dim`` (a contiguous result, as PyTorch returns)."""
    return t if dim == nd - 1 else launch.contiguous(t.movedim(-1, dim))


def _sort_rows(y, R, n, descending, with_idx=True):
    """Sorted copies of the rows of a contiguous (..., n) tensor: (values, int64 indices or None), y's shape."""
    vals = launch.empty(y._shape, y._dtype, y._device)
    idx = launch.empty(y._shape, int64, y._device) if with_idx else None
    if R * n:
        launch._k(y).sort.sort_rows(_flat(y), R, n, bool(descending), vals._storage,
                                    idx._storage if with_idx else None)
    return vals, idx


@launch.half_compute()
def sort_launch(x, dim, descending, with_idx=True):
    """(values, indices) of x sorted along ``dim`` (x has ndim >= 1)."""
    y, R, n = _rows(x, dim)
    vals, idx = _sort_rows(y, R, n, descending, with_idx)
    nd = x.dim()
    return _back(vals, dim, nd), (_back(idx, dim, nd) if with_idx else None)


@launch.half_compute()
def topk_launch(x, k, dim, largest):
    """(values, indices) of the k largest/smallest along ``dim``, best first."""
    y, R, n = _rows(x, dim)
    shape = y._shape[:-1] + (k,)
    vals = launch.empty(shape, x._dtype, x._device)
    idx = launch.empty(shape, int64, x._device)
    if R * k:
        launch._k(x).sort.topk_rows(_flat(y), R, n, k, bool(largest), vals._storage, idx._storage)
    nd = x.dim()
    return _back(vals, dim, nd), _back(idx, dim, nd)


@launch.half_compute()
def kth_launch(x, dim, keepdim, k, rule):
    """(values, indices) of the element a stable ascending sort puts at position k along ``dim`` (rule 1: a
    slice's first NaN when it has one, as median; rule 2: the lower median of the non-NaN elements, as
    nanmedian); a radix select per row on the CPU."""
    y, R, n = _rows(x, dim)
    kept = _kept(x._shape, dim, keepdim)
    vals = launch.empty(kept, x._dtype, x._device)
    idx = launch.empty(kept, int64, x._device)
    if R:
        launch._k(x).sort.kth_rows(_flat(y), R, n, k, rule, vals._storage, idx._storage)
    return vals, idx


def _kept(shape, dim, keepdim):
    return tuple((1 if d == dim else s) for d, s in enumerate(shape)) if keepdim else \
        tuple(s for d, s in enumerate(shape) if d != dim)


# ---------------------------------------------------------------------------------------------------------------
# differentiable selection
# ---------------------------------------------------------------------------------------------------------------
def _select(name, input, dim, keepdim, pick):
    """Run ``pick`` (x with ndim >= 1 -> (values, indices)) through Select; a 0-d input is treated as one element."""
    if input.dim() == 0:
        def pick0(x):
            v, i = pick(x.reshape(1))
            return v.reshape(()), i.reshape(())
        values, indices = Select.apply(input, 0, keepdim, pick0)
    else:
        values, indices = Select.apply(input, dim, keepdim, pick)
    return RETURN_TYPES[name](values, indices)


def _int_arg(k, fn, name="k"):
    """An int argument as PyTorch takes it: ints, NumPy integers and 0-d integer tensors, not bools or floats."""
    if isinstance(k, Tensor) and k.dim() == 0 and not k._dtype.is_floating_point and k._dtype is not t_bool:
        return int(k.item())
    if not isinstance(k, (bool, float, Tensor)):
        try:
            return operator.index(k)
        except TypeError:
            pass
    raise TypeError(f"{fn}(): argument '{name}' (position 2) must be int, not {type(k).__name__}")


def sort(input, dim=-1, descending=False, *, stable=False):
    """Sorted values along ``dim`` and the int64 indices they came from (a ``return_types.sort`` named tuple).

    The sort is always stable (equal values keep their input order), which is also a valid result for
    ``stable=False``; NaN sorts after +inf (first when ``descending``).

    Example::

        >>> values, indices = minitorch.sort(minitorch.tensor([3.0, 1.0, 2.0]))
        >>> indices
        tensor([1, 2, 0])
    """
    d = wrap_dim(dim, input.dim())
    return _select("sort", input, d, True, lambda x: sort_launch(x, d, descending))


def argsort(input, dim=-1, descending=False, *, stable=False):
    """The int64 indices that sort ``input`` along ``dim`` (stable; not differentiable)."""
    d = wrap_dim(dim, input.dim())
    if input.dim() == 0:
        return launch.fill_(launch.empty((), int64, input._device), 0)
    return sort_launch(input.detach(), d, descending)[1]


def msort(input):
    """``sort(input, dim=0).values``."""
    return sort(input, 0).values


def topk(input, k, dim=-1, largest=True, sorted=True):
    """The ``k`` largest (or smallest) elements along ``dim`` and their indices, best first (always sorted, which
    is a valid result for ``sorted=False``); NaN counts as larger than every number."""
    k = _int_arg(k, "topk")
    d = wrap_dim(dim, input.dim())
    if input._dtype is t_bool:
        raise RuntimeError(f"topk does not support bool dtypes on {input._device.type.upper()}")
    n = input._shape[d] if input.dim() else 1
    if k < 0 or k > n:
        raise RuntimeError("selected index k out of range")
    if input.dim() == 0 and k == 0:  # PyTorch returns 0-d tensors here too
        return RETURN_TYPES["topk"](launch.contiguous(input.detach()),
                                    launch.fill_(launch.empty((), int64, input._device), 0))
    return _select("topk", input, d, True, lambda x: topk_launch(x, k, d, largest))


def _check_reduction(name, input, d):
    if input._dtype is t_bool and name != "mode":
        raise NotImplementedError(f"\"{name}_{input._device.type}\" not implemented for 'Bool'")
    if input.dim() and input._shape[d] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")


def kthvalue(input, k, dim=-1, keepdim=False):
    """The k-th smallest element along ``dim`` (k counts from 1) and its index."""
    k = _int_arg(k, "kthvalue")
    d = wrap_dim(dim, input.dim())
    _check_reduction("kthvalue", input, d)
    n = input._shape[d] if input.dim() else 1
    if k < 1 or k > n:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d}")

    def pick(x):
        return kth_launch(x, d, keepdim, k - 1, 0)
    return _select("kthvalue", input, d, keepdim, pick)


def _median_dim(name, input, dim, keepdim):
    d = wrap_dim(dim, input.dim())
    _check_reduction(name, input, d)

    def pick(x):
        n = x._shape[d] if x.dim() else 1
        rule = (1 if name == "median" else 2) if x._dtype.is_floating_point else 0
        return kth_launch(x, d, keepdim, (n - 1) // 2, rule)
    return _select(name, input, d, keepdim, pick)


class MedianAll(Function):
    """median()/nanmedian() of all elements: the gradient is shared evenly by the elements equal to the result
    (the NaNs, when the result is NaN)."""

    @staticmethod
    def forward(ctx, x, ignore_nan):
        n = x.numel()
        if n == 0:  # NaN; integers get NaN cast to the dtype (its minimum), as PyTorch returns
            fill = float("nan") if x._dtype.is_floating_point else int(np.iinfo(x._dtype.np).min)
            return launch.fill_(launch.empty((), x._dtype, x._device), fill)
        rule = (2 if ignore_nan else 1) if x._dtype.is_floating_point else 0
        out, _ = kth_launch(x.reshape(-1), 0, False, (n - 1) // 2, rule)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        mask = (x == out) | (x.isnan() & out.isnan())
        return mask * (g / mask.sum()), None


def median(input, dim=None, keepdim=False):
    """``median(input)``: the lower median of all elements (NaN when any is NaN), a 0-d tensor.
    ``median(input, dim, keepdim=False)``: (values, indices) of the lower median along ``dim``; a row holding a NaN
    gives NaN and the index of its first NaN."""
    if dim is None:
        if keepdim:
            raise TypeError("median() missing 1 required positional arguments: \"dim\"")
        if input._dtype is t_bool:
            raise NotImplementedError(f"\"median_{input._device.type}\" not implemented for 'Bool'")
        return MedianAll.apply(input, False)
    return _median_dim("median", input, dim, keepdim)


def nanmedian(input, dim=None, keepdim=False):
    """As ``median``, ignoring NaNs (NaN only where every element is NaN)."""
    if dim is None:
        if keepdim:
            raise TypeError("nanmedian() missing 1 required positional arguments: \"dim\"")
        if input._dtype is t_bool:
            raise NotImplementedError(f"\"nanmedian_{input._device.type}\" not implemented for 'Bool'")
        return MedianAll.apply(input, True)
    return _median_dim("nanmedian", input, dim, keepdim)


def mode(input, dim=-1, keepdim=False):
    """The most frequent value along ``dim`` (the smallest of equally frequent ones) and the index of its last
    occurrence. NaNs never compare equal, so each counts once."""
    d = wrap_dim(dim, input.dim())
    _check_reduction("mode", input, d)

    @launch.half_compute()
    def pick(x):
        y, R, n = _rows(x, d)
        vals, idx = _sort_rows(y, R, n, False)
        kept = _kept(x._shape, d, keepdim)
        mv = launch.empty(kept, x._dtype, x._device)
        mi = launch.empty(kept, int64, x._device)
        if R:
            launch._k(x).sort.mode_rows(vals._storage, idx._storage, R, n, mv._storage, mi._storage)
        return mv, mi
    return _select("mode", input, d, keepdim, pick)


# ---------------------------------------------------------------------------------------------------------------
# unique
# ---------------------------------------------------------------------------------------------------------------
def _result(out, inverse, counts, return_inverse, return_counts):
    if not (return_inverse or return_counts):
        return out
    res = (out,)
    if return_inverse:
        res += (inverse,)
    if return_counts:
        res += (counts,)
    return res


def _trim(t, m, n):
    """The first m elements of a length-n buffer (a copy of its own when that frees more than half of it)."""
    return t if m == n else t[:m] if 2 * m >= n else launch.contiguous(t[:m])


@launch.half_compute()
def _unique_flat(x, sort_first, return_inverse, return_counts):
    n = x.numel()
    dev = x._device
    flat = x.reshape(-1)
    if not flat._contig:
        flat = launch.contiguous(flat)
    if n == 0:
        return _result(launch.empty((0,), x._dtype, dev), launch.empty(x._shape, int64, dev),
                       launch.empty((0,), int64, dev), return_inverse, return_counts)
    perm = None
    if sort_first:
        s, perm = _sort_rows(flat, 1, n, False, with_idx=return_inverse)
    else:
        s = flat
    out = launch.empty((n,), x._dtype, dev)
    counts = launch.empty((n,), int64, dev) if return_counts else None
    inverse = launch.empty((n,), int64, dev) if return_inverse else None
    m = launch._k(x).sort.unique_runs(_flat(s), None if perm is None else perm._storage, n, out._storage,
                                      None if inverse is None else inverse._storage,
                                      None if counts is None else counts._storage)
    return _result(_trim(out, m, n), inverse.reshape(x._shape) if return_inverse else None,
                   _trim(counts, m, n) if return_counts else None, return_inverse, return_counts)


@launch.half_compute()
def _unique_dim(x, dim, sort_first, return_inverse, return_counts):
    """Unique slices along ``dim``: sort the slices lexicographically (stable sorts by each column, last column
    first), then compact the runs of equal neighbours."""
    from ..creation import arange, ones, tensor, zeros
    from .shape import cat
    if x.dim() == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    d = wrap_dim(dim, x.dim())
    dev = x._device
    N = x._shape[d]
    moved = x.movedim(d, 0)
    slice_shape = moved._shape[1:]
    if N == 0 or 0 in slice_shape:
        if N and 0 in slice_shape:
            raise RuntimeError("There are 0 sized dimensions, and they aren't selected, so unique cannot be applied")
        return _result(launch.contiguous(x), launch.empty((0,), int64, dev), launch.empty((0,), int64, dev),
                       return_inverse, return_counts)
    rows = launch.contiguous(moved).reshape(N, -1)
    M = rows._shape[1]
    perm = None
    if sort_first:
        perm = arange(N, device=dev)
        for j in range(M - 1, -1, -1):
            col = launch.contiguous(rows[:, j].index_select(0, perm))
            order = sort_launch(col, 0, False)[1]
            perm = perm.index_select(0, order)
        rows = rows.index_select(0, perm)
    differs = (rows[1:] != rows[:-1]).any(1)
    starts = cat([ones(1, dtype=t_bool, device=dev), differs])
    first = starts.nonzero().reshape(-1)
    m = first.numel()
    out = rows.index_select(0, first).reshape((m,) + slice_shape).movedim(0, d)
    out = launch.contiguous(out)
    inverse = counts = None
    if return_inverse:
        run = starts.to(int64).cumsum(0) - 1
        inverse = run if perm is None else zeros(N, dtype=int64, device=dev).scatter(0, perm, run)
    if return_counts:
        ends = cat([first[1:], tensor([N], dtype=int64, device=dev)])
        counts = ends - first
    return _result(out, inverse, counts, return_inverse, return_counts)


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The unique elements of ``input`` (always sorted, which is a valid result for ``sorted=False``), and
    optionally the index of each input element in them (``return_inverse``, input's shape) and how often each
    occurs (``return_counts``). With ``dim``: the unique slices along ``dim``, sorted lexicographically.
    Returns a tensor, or a tuple (output, inverse, counts) holding the parts asked for. NaNs never compare equal,
    so each NaN is unique."""
    x = input.detach()
    if dim is None:
        return _unique_flat(x, True, return_inverse, return_counts)
    return _unique_dim(x, dim, True, return_inverse, return_counts)


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """Keep the first element of every run of equal consecutive elements (slices along ``dim`` when given), with
    optional inverse indices and run lengths, as ``unique``."""
    x = input.detach()
    if dim is None:
        return _unique_flat(x, False, return_inverse, return_counts)
    return _unique_dim(x, dim, False, return_inverse, return_counts)
