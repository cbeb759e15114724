"""Searching and counting: searchsorted, bucketize, bincount, histc, histogram; cumulative max/min, logcumsumexp.

The launchers at the top bring operands to the flat contiguous form the kernels take (``kernels/<device>/search.py``
and the scans in ``kernels/<device>/reduce.py``) and validate everything a kernel would otherwise read out of
bounds. Host reads, on any device, happen only where PyTorch's semantics need a value before the launch: the
(min, max) of a bincount input (output length and the non-negative check), of a sorter (range check), and of the
data of histc/histogram when no range is given (bin edges and the finiteness check).
"""
import math

import numpy as np

from ..autograd.function import Function
from ..autograd.grad_mode import _state
from ..dtypes import bool as t_bool, float32, float64, int32, int64
from ..tensor import Tensor
from . import launch
from .common import cast, is_scalar, operands, return_type, type_label, wrap_dim

FUNCTIONS = ["searchsorted", "bucketize", "bincount", "histc", "histogram", "cummax", "cummin", "logcumsumexp"]
METHODS = ["bincount", "histc", "histogram", "cummax", "cummin", "logcumsumexp"]


RETURN_TYPES = {"cummax": return_type("cummax", ["values", "indices"]),
                "cummin": return_type("cummin", ["values", "indices"]),
                "histogram": return_type("histogram", ["hist", "bin_edges"])}


def _shape_list(t):
    return "[" + ", ".join(str(n) for n in t._shape) + "]"


# ---------------------------------------------------------------------------------------------------------------
# launchers (tensors in, tensors out, no autograd)
# ---------------------------------------------------------------------------------------------------------------
def _flat(t):
    """t's elements as a contiguous run of its (possibly copied) storage."""
    if not t._is_contiguous():
        t = launch.contiguous(t)
    n = t.numel()
    if t._offset == 0 and t._storage.shape[0] == n:
        return t._storage
    return t._storage[t._offset:t._offset + n]


def _zeros(shape, dtype, device):
    out = launch.empty(shape, dtype, device)
    return launch.fill_(out, 0) if out.numel() else out


# Counting is a load and an increment per element (about 0.5 ns serially, measured: 1M ints in 0.5 ms), so
# per-thread tables pay off only for very large inputs; binning and searching cost several times more per element.
# Scans run at about 1 ns per element serially (1000 rows of 1000 in 0.9 ms); on this two-core test machine,
# shared with other jobs, the prange versions of count, histogram and scan kernels measured slower than serial for
# 1M elements, so they start only at sizes where the work clearly dominates the launch.
COUNT_PAR = 1 << 22
HIST_PAR = 1 << 20
SCAN_PAR = 1 << 22
SEARCH_PAR = launch.N_PAR  # a binary search costs ~50-100 ns, so a prange pays off early


def _use_par(n, least):
    return n >= least and launch._threads() > 1


@launch.half_compute()
def _launch_searchsorted(ss, values, sorter, right, out_dtype):
    out = launch.empty(values._shape, out_dtype, values._device)
    if out.numel() == 0:
        return out
    n = ss._shape[-1]
    m = values._shape[-1] if ss.dim() > 1 else values.numel()
    srt = _flat(sorter) if sorter is not None else launch.empty((1,), int64, ss._device)._storage
    k = launch._k(values)
    fn = k.search.searchsorted_par if _use_par(out.numel(), SEARCH_PAR) else k.search.searchsorted
    fn(_flat(ss), n, _flat(values), m, srt, sorter is not None, bool(right), out._storage)
    return out


@launch.half_compute()
def _launch_bincount(x, w, nbins, out_dtype):
    out = _zeros((nbins,), out_dtype, x._device)
    n = x.numel()
    if n == 0:
        return out
    wf = _flat(w) if w is not None else out._storage
    s = launch._k(x).search
    T = launch._threads()
    if _use_par(n, COUNT_PAR) and nbins * T <= n:  # per-thread tables must be small next to the input
        s.bincount_par(_flat(x), wf, w is not None, out._storage, T)
    else:
        s.bincount(_flat(x), wf, w is not None, out._storage)
    return out


@launch.half_compute()
def _launch_histogram(x, w, edges, mode):
    """Counts (weights) of x in the bins of ``edges``; ``mode`` 0: any sorted edges, 1: uniform edges (linear
    position corrected against the edges), 2: uniform edges, linear position only (histc)."""
    nb = edges.numel() - 1
    nbf = x._dtype.np.type(nb)
    out = _zeros((nb,), x._dtype, x._device)
    n = x.numel()
    if n == 0:
        return out
    wf = _flat(w) if w is not None else out._storage
    s = launch._k(x).search
    T = launch._threads()
    if _use_par(n, HIST_PAR) and nb * T <= n:
        s.histogram_par(_flat(x), wf, w is not None, _flat(edges), mode, nbf, out._storage, T)
    else:
        s.histogram(_flat(x), wf, w is not None, _flat(edges), mode, nbf, out._storage)
    return out


def _scan_form(x, dim):
    """(contiguous x, O, R, I) for a scan along ``dim``."""
    if not x._is_contiguous():
        x = launch.contiguous(x)
    return x, math.prod(x._shape[:dim]), x._shape[dim], math.prod(x._shape[dim + 1:])


@launch.half_compute()
def _launch_argscan(x, dim, op):
    values = launch.empty(x._shape, x._dtype, x._device)
    indices = launch.empty(x._shape, int64, x._device)
    if values.numel() == 0:
        return values, indices
    if x.dim() == 0:
        launch.copy_into(values, x)
        return values, launch.fill_(indices, 0)
    y, O, R, I = _scan_form(x, dim)
    red = launch._k(x).reduce
    fn = red.argscan_par if _use_par(O * R * I, SCAN_PAR) and O * I > 1 else red.argscan
    fn(op, y._storage, y._offset, R * I, I, 1, O, R, I, values._storage, indices._storage)
    return values, indices


@launch.half_compute()
def _launch_logcumsumexp(x, dim):
    out = launch.empty(x._shape, x._dtype, x._device)
    if out.numel() == 0:
        return out
    if x.dim() == 0:
        return launch.copy_into(out, x)
    y, O, R, I = _scan_form(x, dim)
    red = launch._k(x).reduce
    fn = red.scan_logaddexp_par if _use_par(O * R * I, SCAN_PAR // 16) and O * I > 1 else red.scan_logaddexp
    fn(y._storage, y._offset, R * I, I, 1, O, R, I, out._storage)
    return out


@launch.half_compute()
def _host_bounds(t):
    """(min, max) of a non-empty tensor as Python numbers (NaN-propagating), read back in one copy."""
    pair = launch.empty((2,), t._dtype, t._device)
    k = launch._k(t)
    k.search.bounds(_flat(t), pair._storage)
    lo, hi = k.memory.to_host(pair._storage).tolist()
    return lo, hi


# ---------------------------------------------------------------------------------------------------------------
# searchsorted / bucketize
# ---------------------------------------------------------------------------------------------------------------
def _not_implemented(kernel, dt):
    return NotImplementedError(f"\"{kernel}\" not implemented for '{type_label(dt)}'")


def _search_operands(boundaries, input, name):
    """(boundaries, values) in one dtype and on one device; a Python number becomes a 0-d tensor."""
    if not isinstance(input, Tensor) and not is_scalar(input):
        raise TypeError(f"{name}(): argument 'input' must be Tensor or Number, not {type(input).__name__}")
    if isinstance(input, Tensor) and input._device != boundaries._device:
        raise RuntimeError("Expected all tensors to be on the same device, but found at least two devices, "
                           f"{boundaries._device} and {input._device}!")
    b, v = operands(boundaries.detach(), input.detach() if isinstance(input, Tensor) else input)
    if b._dtype is t_bool:
        raise _not_implemented("searchsorted_out_cpu", t_bool)
    return b, v


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None, sorter=None):
    """Indices at which ``input`` would be inserted into the last dim of ``sorted_sequence`` to keep it sorted.

    ``sorted_sequence`` is 1-D (searched by every value) or N-D with the same leading dims as ``input`` (row by
    row). ``right=False`` (``side='left'``) gives the first position whose boundary is >= the value, ``right=True``
    the first whose boundary is > the value. ``sorter`` (int64, same shape as ``sorted_sequence``) gives the
    sorting permutation of an unsorted sequence. Returns int64 (int32 with ``out_int32``) of ``input``'s shape.

    Example::

        >>> minitorch.searchsorted(minitorch.tensor([1, 3, 5, 7]), minitorch.tensor([3, 6, 9]))
        tensor([1, 3, 4])
    """
    ss = sorted_sequence
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but got {side}")
        if right and side == "left":
            raise RuntimeError("torch.searchsorted(): side and right can't be set to opposites, got side of left "
                               "while right was True")
        right = side == "right"
    if ss.dim() == 0:
        raise RuntimeError("torch.searchsorted(): boundaries tensor should have positive dimension, but got 0 "
                           "dimension")
    if (not isinstance(input, Tensor) or input.dim() == 0) and ss.dim() != 1:
        raise RuntimeError("torch.searchsorted(): input value can be a scalar only when boundaries tensor dimension "
                           f"is 1, but we got boundaries tensor dim({ss.dim()}) and input value's dim(0) numel(1)")
    if isinstance(input, Tensor) and ss.dim() > 1 and \
            (input.dim() != ss.dim() or input._shape[:-1] != ss._shape[:-1]):
        raise RuntimeError("torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 "
                           "dimensions of boundaries tensor and input value tensor must match, but we got "
                           f"boundaries tensor {_shape_list(ss)} and input value tensor {_shape_list(input)}")
    b, v = _search_operands(ss, input, "searchsorted")
    if sorter is not None:
        if not isinstance(sorter, Tensor):
            raise TypeError(f"searchsorted(): argument 'sorter' must be Tensor, not {type(sorter).__name__}")
        if sorter._dtype is not int64:
            raise RuntimeError("torch.searchsorted(): sorter must be a tensor of long dtype but got dtype "
                               f"{type_label(sorter._dtype)}")
        if sorter._shape != ss._shape:
            raise RuntimeError("torch.searchsorted(): boundary and sorter must have the same size, but got boundary "
                               f"tensor {_shape_list(ss)}and got sorter tensor {_shape_list(sorter)}")
        if sorter._device != ss._device:
            raise RuntimeError("Expected all tensors to be on the same device, but found at least two devices, "
                               f"{ss._device} and {sorter._device}!")
        if sorter.numel():
            lo, hi = _host_bounds(sorter)
            if lo < 0 or hi >= ss._shape[-1]:
                raise RuntimeError("torch.searchsorted(): sorter index out of range")
    if out_int32 and ss._shape[-1] >= 2 ** 31 - 1:
        raise RuntimeError("torch.searchsorted(): the size of boundaries' last dimension should be less than "
                           f"2147483647, but we got {ss._shape[-1]}")
    return _launch_searchsorted(b, v, sorter, right, int32 if out_int32 else int64)


def bucketize(input, boundaries, *, out_int32=False, right=False):
    """Index of the bucket of each element of ``input`` for the 1-D sorted ``boundaries``.

    ``right=False``: ``boundaries[i-1] < x <= boundaries[i]``; ``right=True``: ``boundaries[i-1] <= x <
    boundaries[i]``. Returns int64 (int32 with ``out_int32``) of ``input``'s shape."""
    if boundaries.dim() != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({boundaries.dim()})")
    b, v = _search_operands(boundaries, input, "bucketize")
    return _launch_searchsorted(b, v, None, right, int32 if out_int32 else int64)


# ---------------------------------------------------------------------------------------------------------------
# bincount / histc / histogram
# ---------------------------------------------------------------------------------------------------------------
def bincount(input, weights=None, minlength=0):
    """Count of each value of the 1-D non-negative integer ``input`` (summed ``weights`` when given).

    The result has ``max(input.max() + 1, minlength)`` elements: int64 counts, or float32 for float32 weights and
    float64 for other weights. Not differentiable (as in PyTorch). Reads input's (min, max) back to the host."""
    if _int_arg(minlength, "minlength", "bincount", 3) < 0:
        raise RuntimeError("minlength should be >= 0")
    if input._dtype.is_floating_point or input._dtype is t_bool:
        raise _not_implemented("bincount_cpu", input._dtype)
    if input.dim() == 1 and input.numel() == 0:
        return _zeros((minlength,), int64, input._device)
    if input.dim() != 1:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    lo, hi = _host_bounds(input)
    if lo < 0:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    w = None
    out_dtype = int64
    if weights is not None:
        if weights.dim() != 1 or weights._shape[0] != input._shape[0]:
            raise RuntimeError("weights should be 1-d and have the same length as input")
        if weights._device != input._device:
            raise RuntimeError("Expected all tensors to be on the same device, but found at least two devices, "
                               f"{input._device} and {weights._device}!")
        out_dtype = float32 if weights._dtype is float32 else float64
        w = cast(weights.detach(), out_dtype)
    return _launch_bincount(input, w, max(minlength, hi + 1), out_dtype)


def _edges(lo, hi, bins, dtype, device):
    from ..creation import linspace
    return linspace(lo, hi, bins + 1, dtype=dtype, device=device)


def _check_float(input, kernel):
    if not input._dtype.is_floating_point:
        raise _not_implemented(kernel, input._dtype)


def _int_arg(value, name, fn, position):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{fn}(): argument '{name}' (position {position}) must be int, not {type(value).__name__}")
    return int(value)


def _check_bins(bins):
    if bins <= 0:
        raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for dimension 0")


def histc(input, bins=100, min=0, max=0):  # noqa: A002
    """Histogram of ``input`` (all elements) in ``bins`` equal bins between ``min`` and ``max``.

    With ``min == max`` the data's minimum and maximum are used (read back to the host); elements outside the
    range, and NaNs, are ignored; the last bin includes ``max``. Returns counts in input's (floating) dtype; not
    differentiable."""
    _check_float(input, "histogram_cpu")
    _check_bins(_int_arg(bins, "bins", "histc", 2))
    x = input.detach()
    lo, hi = float(min), float(max)
    if lo > hi:
        raise RuntimeError("torch.histc: max must be larger than min")
    if lo == hi and x.numel():
        lo, hi = _host_bounds(x)
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise RuntimeError(f"torch.histc: range of [{_num(lo)}, {_num(hi)}] is not finite")
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    return _launch_histogram(x, None, _edges(lo, hi, bins, x._dtype, x._device), 2)


def _num(v):
    return str(int(v)) if math.isfinite(v) and v == int(v) else str(v)


def histogram(input, bins, *, range=None, weight=None, density=False):  # noqa: A002
    """Histogram of ``input`` (all elements): ``bins`` equal bins over ``range`` (default: the data's min and max,
    read back to the host) or a 1-D tensor of increasing bin edges. Returns ``(hist, bin_edges)`` in input's
    dtype; ``weight`` (input's shape and dtype) weights each element; ``density`` normalises to a density."""
    _check_float(input, "histogramdd")
    x = input.detach()
    for other in (weight, bins):
        if isinstance(other, Tensor) and other._device != x._device:
            raise RuntimeError("Expected all tensors to be on the same device, but found at least two devices, "
                               f"{x._device} and {other._device}!")
    if weight is not None:
        if weight._shape != x._shape:
            raise RuntimeError("torch.histogramdd: if weight tensor is provided it should have the same shape as the "
                               "input tensor excluding its innermost dimension, but got input with shape "
                               f"[{x.numel()}, 1] and weight with shape {_shape_list(weight)}")
        if weight._dtype is not x._dtype:
            raise RuntimeError("torch.histogramdd: if weight tensor is provided, input tensor and weight tensor "
                               f"should have the same dtype, but got input({_ctype(x._dtype)}), "
                               f"and weight({_ctype(weight._dtype)})")
        weight = weight.detach()
    if isinstance(bins, Tensor):
        if range is not None:
            raise TypeError("histogram(): received an invalid combination of arguments - got (Tensor, Tensor, "
                            "range=tuple): range is only accepted with an int number of bins")
        if bins.dim() != 1:
            raise RuntimeError("torch.histogramdd: bins tensor should have one dimension, but got "
                               f"{bins.dim()} dimensions in the bins tensor for dimension 0")
        if bins._dtype is not x._dtype:
            raise RuntimeError("torch.histogramdd: input tensor and bins tensors should have the same dtype, but got "
                               f"input with dtype {_ctype(x._dtype)} and bins for dimension 0 with dtype "
                               f"{_ctype(bins._dtype)}")
        _check_bins(bins.numel() - 1)
        edges = bins.detach().contiguous()
        hist = _launch_histogram(x, weight, edges, 0)
    else:
        _check_bins(_int_arg(bins, "bins", "histogram", 2))
        if range is not None:
            lo, hi = float(range[0]), float(range[1])
            if lo > hi:
                raise RuntimeError("torch.histogramdd: min should not exceed max, but got min "
                                   f"{_num(lo)} max {_num(hi)} for dimension 0")
        elif x.numel():
            lo, hi = _host_bounds(x)
        else:
            lo, hi = 0.0, 1.0
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise RuntimeError(f"torch.histogramdd: dimension 0's range [{_num(lo)}, {_num(hi)}] is not finite")
        if lo == hi:
            lo, hi = lo - 0.5, hi + 0.5
        edges = _edges(lo, hi, bins, x._dtype, x._device)
        hist = _launch_histogram(x, weight, edges, 1)
    if density:
        widths = edges[1:] - edges[:-1]
        hist = hist / (hist.sum() * widths)
    return RETURN_TYPES["histogram"](hist, edges.clone() if isinstance(bins, Tensor) else edges)


def _ctype(dt):
    return {"float32": "float", "float64": "double"}.get(dt.name, dt.name)


# ---------------------------------------------------------------------------------------------------------------
# cummax / cummin / logcumsumexp
# ---------------------------------------------------------------------------------------------------------------
class CumExtreme(Function):
    """Running max/min along a dim: the gradient of each output goes to the index it was taken from."""

    @staticmethod
    def forward(ctx, x, dim, op):
        values, indices = _launch_argscan(x, dim, op)
        ctx.save_for_backward(indices)
        ctx.shape, ctx.dim = x._shape, dim
        ctx.mark_non_differentiable(indices)
        return values, indices

    @staticmethod
    def backward(ctx, g):
        (indices,) = ctx.saved_tensors
        from ..creation import zeros
        if not ctx.shape:
            return g.clone(), None, None
        return zeros(ctx.shape, dtype=g.dtype, device=g.device).scatter_add(ctx.dim, indices, g), None, None


def _cum_extreme(name, input, dim):
    if input.dim() == 0 and dim not in (0, -1):
        raise IndexError(f"{name}(): Expected reduction dim -1 or 0 for scalar but got {dim}")
    d = wrap_dim(dim, input.dim())
    values, indices = CumExtreme.apply(input, d, 0 if name == "cummax" else 1)
    return RETURN_TYPES[name](values, indices)


def cummax(input, dim):
    """``(values, indices)``: the running maximum along ``dim`` and the index it comes from (the last of equal
    maxima; a NaN, once seen, stays, with the index of the latest NaN)."""
    return _cum_extreme("cummax", input, dim)


def cummin(input, dim):
    """``(values, indices)``: the running minimum along ``dim`` and the index it comes from (as ``cummax``)."""
    return _cum_extreme("cummin", input, dim)


def _reverse_logcumsumexp(x, dim):
    return logcumsumexp(x.flip(dim), dim).flip(dim)


class LogCumSumExp(Function):
    @staticmethod
    def forward(ctx, x, dim):
        out = _launch_logcumsumexp(x, dim)
        ctx.save_for_backward(x, out.detach())
        ctx.dim = dim
        return out

    @staticmethod
    def backward(ctx, g):
        # d out_i / d x_j = exp(x_j - out_i) for j <= i, so grad_j = sum_{i >= j} g_i exp(x_j - out_i). The sum runs
        # in log space, split by the sign of g: exp(x_j + reverse_logcumsumexp(log|g| - out)_j) for each sign.
        x, out = ctx.saved_tensors
        if x.dim() == 0 or x.numel() == 0:
            return g, None
        if _state.enabled:
            out = LogCumSumExp.apply(x, ctx.dim)  # create_graph: the output as a function of x
        floor = float(np.finfo(g.dtype.np).min)  # exp(floor - anything finite) is 0 without inf - inf = NaN
        log_abs = g.abs().log()
        pos = log_abs.masked_fill(~(g > 0), floor)
        neg = log_abs.masked_fill(~(g < 0), floor)
        d = ctx.dim
        return (_reverse_logcumsumexp(pos - out, d) + x).exp() - (_reverse_logcumsumexp(neg - out, d) + x).exp(), \
            None


def logcumsumexp(input, dim):
    """log(cumsum(exp(input))) along ``dim``, computed without overflow (floating point inputs)."""
    if not input._dtype.is_floating_point:
        raise _not_implemented("logcumsumexp_out_cpu", input._dtype)
    return LogCumSumExp.apply(input, wrap_dim(dim, input.dim()))
