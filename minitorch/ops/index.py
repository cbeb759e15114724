"""Indexing: ``x[...]`` and ``x[...] = v`` (basic and advanced), index_select, gather, scatter(_add),
masked_fill, masked_select, nonzero.

Advanced indices are checked against their dim sizes and wrapped in Python, then turned into element offsets
(``lin``) that the take/put kernels walk; nothing reaches a kernel unchecked.
"""
import numpy as np

from ..autograd.function import Function
from ..autograd.grad_mode import _state
from ..dtypes import bool as t_bool, int64, uint8
from ..tensor import Tensor
from . import launch
from .common import recording, wrap_dim
from .elementwise import assign_, check_inplace
from .shape import apply_spec, sliced

# set by compiler/symbolic.py while a call is captured at a new size: told of every integer index and slice bound
# (dimension, bounds, the largest plain bound that can never clamp), so that one that could clamp at another size
# keeps that capture from making a template
INDEX_HOOK = [None]


def _to_index_tensor(obj, device):
    from ..creation import tensor
    if isinstance(obj, Tensor):
        return obj
    arr = np.asarray(obj)
    if arr.dtype == np.bool_:
        return tensor(arr, dtype=t_bool, device=device)
    if arr.size == 0:
        arr = arr.astype(np.int64)
    if not np.issubdtype(arr.dtype, np.integer):
        raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
    return tensor(arr.astype(np.int64), device=device)


def _parse(x, key):
    """Split an index into a basic spec (for a view) and the advanced indices that remain.

    Returns (spec, advanced) where advanced is a list of (dim in the view, int64 tensor)."""
    if not isinstance(key, tuple):
        key = (key,)
    # how many input dims the key consumes (bool tensors consume their ndim)
    used = 0
    for k in key:
        if k is None or k is Ellipsis:
            continue
        if isinstance(k, Tensor) and k._dtype in (t_bool, uint8):
            used += max(k.dim(), 1) if k.dim() else 0
        elif isinstance(k, bool):
            continue
        else:
            used += 1
    nd = x.dim()
    if used > nd:
        raise IndexError(f"too many indices for tensor of dimension {nd}")
    spec, advanced = [], []
    d = 0       # input dim
    vd = 0      # dim in the resulting view
    seen_ellipsis = False
    for k in key:
        if k is Ellipsis:
            if seen_ellipsis:
                raise IndexError("an index can only have a single ellipsis ('...')")
            seen_ellipsis = True
            skip = nd - used
            d += skip
            vd += skip
        elif k is None:
            spec.append(("n", d))
            vd += 1
        elif isinstance(k, bool):
            # x[True] adds a dim of size 1; x[False] one of size 0
            spec.append(("n", d))
            if not k:
                advanced.append((vd, _to_index_tensor(np.zeros(0, np.int64), x.device)))
            vd += 1
        elif isinstance(k, (int, np.integer)) or (isinstance(k, Tensor) and k.dim() == 0 and
                                                   not k._dtype.is_floating_point and k._dtype is not t_bool):
            if INDEX_HOOK[0] is not None:
                INDEX_HOOK[0](x, d, (k,), 1)
            k = int(k)
            n = x._shape[d]
            if k < -n or k >= n:
                raise IndexError(f"index {k} is out of bounds for dimension {d} with size {n}")
            spec.append(("i", d, k % n))
            d += 1
        elif isinstance(k, slice):
            if INDEX_HOOK[0] is not None:
                INDEX_HOOK[0](x, d, (k.start, k.stop), 2, k.step)
            n = x._shape[d]
            start, stop, step = k.start, k.stop, k.step
            step = 1 if step is None else int(step)
            if step <= 0:
                raise ValueError("step must be greater than zero")
            start, stop, _ = slice(start, stop, step).indices(n)
            length = max(0, (stop - start + step - 1) // step)
            if not (start == 0 and step == 1 and length == n):
                spec.append(("s", d, start if length else 0, step, length))
            d += 1
            vd += 1
        else:
            if isinstance(k, float):
                raise IndexError("only integers, slices (`:`), ellipsis (`...`), None and long or byte or bool "
                                 "tensors are valid indices")
            t = _to_index_tensor(k, x.device)
            if t._dtype.is_floating_point:
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
            if t._dtype in (t_bool, uint8):
                k_nd = t.dim()
                for j in range(k_nd):
                    if t._shape[j] != x._shape[d + j]:
                        raise IndexError(f"The shape of the mask {list(t._shape)} at index {j} does not match the "
                                         f"shape of the indexed tensor {list(x._shape)} at index {d + j}")
                if k_nd == 0:
                    spec.append(("n", d))
                    advanced.append((vd, launch.nonzero(t.reshape(1))[:, 0] if bool(t) else
                                     _to_index_tensor(np.zeros(0, np.int64), x.device)))
                    vd += 1
                    continue
                coords = launch.nonzero(t)
                for j in range(k_nd):
                    advanced.append((vd + j, coords[:, j]))
                d += k_nd
                vd += k_nd
            else:
                advanced.append((vd, t if t._dtype is int64 else t.to(int64)))
                d += 1
                vd += 1
    return tuple(spec), advanced


class _Advanced:
    """Offsets and layout of an advanced index applied to a view."""

    def __init__(self, v, advanced):
        idx_dims = [d for d, _ in advanced]
        tensors = [t for _, t in advanced]
        shape = launch.broadcast_shapes(*(t._shape for t in tensors))
        self.index = []
        for d, t in zip(idx_dims, tensors):
            self.index.append((d, launch.index_range(t, v._shape[d], d)))
        self.idx_shape = shape
        self.lin = self.offsets(v)
        self.rest = [d for d in range(v.dim()) if d not in idx_dims]
        adjacent = idx_dims == list(range(idx_dims[0], idx_dims[0] + len(idx_dims)))
        # result layout: the index dims replace the indexed dims when those are adjacent, else they go first
        self.lead = sum(1 for d in self.rest if d < idx_dims[0]) if adjacent else 0
        self.view_shape = v._shape
        self.strides = v._stride

    def offsets(self, t):
        """Flat element offsets (relative to t's storage offset) of the indexed positions, for t's strides."""
        lin = None
        for d, idx in self.index:
            term = launch.binary("mul", idx, launch.scalar(t._stride[d], int64, idx._device))
            lin = term if lin is None else launch.binary("add", lin, term)
        shape = self.idx_shape
        if lin._shape != shape or not lin._contig:
            lin = launch.contiguous(lin.expand(shape))
        return lin.reshape(-1)

    def result_perm(self):
        """Permutation taking (idx dims..., rest dims...) to the result's dim order."""
        k = len(self.idx_shape)
        rest = list(range(k, k + len(self.rest)))
        return rest[:self.lead] + list(range(k)) + rest[self.lead:]

    def gather(self, v):
        flat = launch.take(v, self.lin if v._stride == self.strides else self.offsets(v), self.rest)
        out = flat.reshape(tuple(self.idx_shape) + tuple(v._shape[d] for d in self.rest))
        return out.permute(self.result_perm()) if self.lead else out

    def values_for_put(self, values):
        """Values broadcast to the result layout, brought to the (idx..., rest...) layout the put kernel walks."""
        res_shape = self.result_shape()
        values = values.expand(res_shape) if values._shape != tuple(res_shape) else values
        if self.lead:
            perm = self.result_perm()
            inv = [0] * len(perm)
            for i, p in enumerate(perm):
                inv[p] = i
            values = values.permute(inv)
        return values.reshape((self.lin.numel(),) + tuple(self.view_shape[d] for d in self.rest)) \
            if values._contig else values.contiguous().reshape((self.lin.numel(),) +
                                                               tuple(self.view_shape[d] for d in self.rest))

    def result_shape(self):
        rest = [self.view_shape[d] for d in self.rest]
        return tuple(rest[:self.lead]) + tuple(self.idx_shape) + tuple(rest[self.lead:])


class IndexAdvanced(Function):
    @staticmethod
    def forward(ctx, v, adv):
        ctx.adv = adv
        ctx.shape = v._shape
        return adv.gather(v)

    @staticmethod
    def backward(ctx, g):
        return IndexPutAcc.apply(g, ctx.shape, ctx.adv), None


class IndexPutAcc(Function):
    """zeros(shape)[index] += g: the backward of advanced indexing."""

    @staticmethod
    def forward(ctx, g, shape, adv):
        from ..creation import zeros
        ctx.adv = adv
        out = zeros(shape, dtype=g.dtype, device=g.device)
        launch.put_(out, adv.offsets(out), adv.rest, adv.values_for_put(g), True)
        return out

    @staticmethod
    def backward(ctx, gg):
        return IndexAdvanced.apply(gg, ctx.adv), None, None


def getitem(self, key):
    """``x[key]`` with ints, slices (with steps), None, Ellipsis, int/bool tensors, lists and mixtures."""
    if self.dim() == 0 and key not in (None, Ellipsis) and not isinstance(key, (tuple, Tensor, bool)) and \
            not (isinstance(key, tuple) and all(k is None or k is Ellipsis for k in key)):
        raise IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` in Python or `tensor.item<T>()` in "
                         "C++ to convert a 0-dim tensor to a number")
    if isinstance(key, int) and self.dim():
        n = self._shape[0]
        if key < -n or key >= n:
            raise IndexError(f"index {key} is out of bounds for dimension 0 with size {n}")
        return sliced(self, (("i", 0, key % n),))
    if type(key) is Tensor and key._dtype is t_bool and key._shape == self._shape and self._shape \
            and key._device == self._device and not (_state.enabled and self._requires_grad):
        return launch.masked_compress(self, key)  # x[mask] with a whole-shape mask
    spec, advanced = _parse(self, key)
    if not advanced:
        return sliced(self, spec)  # a new view even for x[:] and x[...], as in PyTorch
    v = sliced(self, spec) if spec else self
    adv = _Advanced(v, advanced)
    if _state.enabled and v._requires_grad:
        return IndexAdvanced.apply(v, adv)
    return adv.gather(v)


def setitem(self, key, value):
    """``x[key] = value`` in place (value broadcast and cast to x's dtype)."""
    check_inplace(self)
    if not isinstance(value, Tensor):
        from ..creation import tensor
        value = tensor(value, dtype=self._dtype, device=self._device) if not isinstance(value, (int, float, bool)) \
            else launch.scalar(value, self._dtype, self._device)
    elif value._dtype is not self._dtype:
        value = value.to(self._dtype)
    if recording(self, value):
        assign_(self, IndexPut.apply(self, value, key))
        return
    spec, advanced = _parse(self, key)
    v = apply_spec(self, spec) if spec else self
    if value._storage is self._storage:
        value = launch.contiguous(value)
    if not advanced:
        if value._shape != v._shape:
            launch.broadcast_shapes(v._shape, value._shape)
            if len(value._shape) > len(v._shape):
                value = value.reshape(value._shape[len(value._shape) - len(v._shape):]) \
                    if all(n == 1 for n in value._shape[:len(value._shape) - len(v._shape)]) else value
        launch.copy_into(v, value)
    else:
        adv = _Advanced(v, advanced)
        launch.put_(v, adv.lin, adv.rest, adv.values_for_put(value), False)
    self._vc[0] += 1


class IndexPut(Function):
    """Out-of-place ``x[key] = value`` for the graph: grad of x is g with the written region zeroed, grad of value
    is g at the written region (summed over value's broadcast dims by the engine)."""

    @staticmethod
    def forward(ctx, x, value, key):
        ctx.key = key
        out = launch.contiguous(x)
        setitem(out, key, value)
        return out

    @staticmethod
    def backward(ctx, g):
        gx = None
        if ctx.needs_input_grad[0]:
            gx = g.clone()
            with_grad = _state.enabled
            _state.enabled = False
            setitem(gx, ctx.key, 0.0)
            _state.enabled = with_grad
        gv = getitem(g, ctx.key) if ctx.needs_input_grad[1] else None
        return gx, gv, None


# ---------------------------------------------------------------------------------------------------------------
# index_select / gather / scatter / masked ops
# ---------------------------------------------------------------------------------------------------------------
def _check_index(index, name, input):
    if not isinstance(index, Tensor):
        raise TypeError(f"{name}(): argument 'index' must be Tensor, not {type(index).__name__}")
    if index._device != input._device:  # a kernel must never read another device's memory
        raise RuntimeError(f"Expected all tensors to be on the same device, but found at least two devices, "
                           f"{input._device} and {index._device}! (when checking argument for argument index in "
                           f"method {name})")
    if index._dtype is not int64:
        if index._dtype is int64.__class__ or index._dtype.name == "int32":
            return index.to(int64)
        raise RuntimeError(f"{name}(): Expected dtype int64 for index")
    return index


class IndexSelect(Function):
    @staticmethod
    def forward(ctx, x, dim, index):
        ctx.shape, ctx.dim, ctx.index = x._shape, dim, index
        if x._contig and x.dim():
            return launch.select_rows(x, dim, index)
        lin = launch.binary("mul", index, launch.scalar(x._stride[dim] if x.dim() else 0, int64, x._device))
        rest = [d for d in range(x.dim()) if d != dim]
        out = launch.take(x, lin, rest)
        if x.dim() == 0:
            return out.reshape(())
        perm = list(range(1, dim + 1)) + [0] + list(range(dim + 1, x.dim()))
        return launch.contiguous(out.permute(perm)) if dim else out

    @staticmethod
    def backward(ctx, g):
        from ..creation import zeros
        return zeros(ctx.shape, dtype=g.dtype, device=g.device).index_add(ctx.dim, ctx.index, g), None, None


def index_select(input, dim, index):
    index = _check_index(index, "index_select", input)
    if index.dim() > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    d = wrap_dim(dim, input.dim())
    n = input._shape[d] if input.dim() else 1
    index = index.reshape(-1)
    index = launch.index_range(index, n, d)
    return IndexSelect.apply(input, d, index)


class IndexAdd(Function):
    @staticmethod
    def forward(ctx, x, dim, index, src):
        ctx.dim, ctx.index = dim, index
        out = launch.contiguous(x)
        lin = launch.binary("mul", index, launch.scalar(out._stride[dim], int64, out._device))
        rest = [d for d in range(out.dim()) if d != dim]
        perm = [dim] + rest
        launch.put_(out, lin, rest, src.permute(perm), True)
        return out

    @staticmethod
    def backward(ctx, g):
        return g, None, None, index_select(g, ctx.dim, ctx.index)


def index_add(input, dim, index, source, *, alpha=1):
    index = _check_index(index, "index_add", input)
    d = wrap_dim(dim, input.dim())
    n = input._shape[d]
    index = launch.index_range(index, n, d)
    exp = list(input._shape)
    exp[d] = index.numel()
    if list(source._shape) != exp and source.numel() != 1:
        raise RuntimeError(f"index_add_(): Source/destination tensor must have same slice shapes. Destination "
                           f"slice shape: {list(input._shape)} at dimension {d} and source slice shape: "
                           f"{list(source._shape)} at dimension 0.")
    if alpha != 1:
        source = source * alpha
    source = source.to(input.dtype).expand(exp)
    return IndexAdd.apply(input, d, index, source)


def _check_gather_shapes(x, dim, index, name, src=None):
    if index.dim() != x.dim() and not (index.dim() <= 1 and x.dim() <= 1):
        raise RuntimeError(f"Index tensor must have the same number of dimensions as {'self' if src is not None else 'input'} tensor")
    for d in range(index.dim()):
        if d != dim and index._shape[d] > x._shape[d]:
            raise RuntimeError(f"Size does not match at dimension {d} expected index {list(index._shape)} to be no "
                               f"larger than self {list(x._shape)} apart from dimension {dim}")
        if src is not None and index._shape[d] > src._shape[d]:
            raise RuntimeError(f"Expected index {list(index._shape)} to be no larger than self {list(x._shape)} "
                               f"apart from dimension {dim} and to be no larger size than src {list(src._shape)}")


class Gather(Function):
    @staticmethod
    def forward(ctx, x, dim, index):
        ctx.shape, ctx.dim, ctx.index = x._shape, dim, index
        return launch.gather(x, dim, index)

    @staticmethod
    def backward(ctx, g):
        from ..creation import zeros
        return zeros(ctx.shape, dtype=g.dtype, device=g.device).scatter_add(ctx.dim, ctx.index, g), None, None


def gather(input, dim, index, *, sparse_grad=False):
    index = _check_index(index, "gather", input)
    d = wrap_dim(dim, input.dim())
    _check_gather_shapes(input, d, index, "gather")
    n = input._shape[d] if input.dim() else 1
    index = launch.index_range(index, n, d)
    return Gather.apply(input, d, index)


class Scatter(Function):
    @staticmethod
    def forward(ctx, x, dim, index, src, accumulate):
        ctx.dim, ctx.index, ctx.acc = dim, index, accumulate
        out = launch.contiguous(x)
        launch.scatter_(out, dim, index, src, accumulate)
        return out

    @staticmethod
    def backward(ctx, g):
        gx = g if ctx.acc else g.scatter(ctx.dim, ctx.index, 0.0)
        gs = g.gather(ctx.dim, ctx.index) if ctx.needs_input_grad[3] else None
        return gx, None, None, gs, None


def _scatter(input, dim, index, src, value, accumulate, name):
    index = _check_index(index, name, input)
    d = wrap_dim(dim, input.dim())
    if src is None:
        if value is None:
            raise TypeError(f"{name}() missing 1 required positional argument: 'src' or 'value'")
        src = launch.scalar(value, input._dtype, input._device).expand(index._shape)
    elif not isinstance(src, Tensor):
        src = launch.scalar(src, input._dtype, input._device).expand(index._shape)
    else:
        if src._dtype is not input._dtype:
            raise RuntimeError(f"{name}(): Expected self.dtype to be equal to src.dtype")
        _check_gather_shapes(input, d, index, name, src)
    if index.dim() != input.dim() and not (index.dim() <= 1 and input.dim() <= 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as self tensor")
    n = input._shape[d] if input.dim() else 1
    index = launch.index_range(index, n, d)
    if src._shape != index._shape:
        src = sliced(src, tuple(("s", k, 0, 1, index._shape[k]) for k in range(index.dim()))) \
            if src.dim() == index.dim() and src._shape != index._shape and all(
                s >= i for s, i in zip(src._shape, index._shape)) and 0 not in src._stride else src
    return Scatter.apply(input, d, index, src, accumulate)


def scatter(input, dim, index, src=None, value=None, *, reduce=None):
    """Out-of-place scatter: positions named by ``index`` along ``dim`` take ``src`` (or ``value``)."""
    if reduce not in (None, "add"):
        raise RuntimeError(f"reduce argument must be either add or multiply, got {reduce}") \
            if reduce != "multiply" else RuntimeError("scatter(reduce='multiply') is not supported in minitorch")
    if src is not None and not isinstance(src, Tensor) and value is None:
        value, src = src, None
    return _scatter(input, dim, index, src, value, reduce == "add", "scatter")


def scatter_add(input, dim, index, src):
    return _scatter(input, dim, index, src, None, True, "scatter_add")


def scatter_(self, dim, index, src=None, value=None, *, reduce=None):
    check_inplace(self)
    return assign_(self, scatter(self, dim, index, src, value, reduce=reduce))


def scatter_add_(self, dim, index, src):
    check_inplace(self)
    return assign_(self, scatter_add(self, dim, index, src))


def index_add_(self, dim, index, source, *, alpha=1):
    check_inplace(self)
    return assign_(self, index_add(self, dim, index, source, alpha=alpha))


def masked_fill(input, mask, value):
    """Where ``mask`` (bool, broadcastable) is True take ``value`` (a number or 0-d tensor), else ``input``."""
    from .elementwise import Where
    if not isinstance(mask, Tensor) or mask._dtype is not t_bool:
        raise RuntimeError("masked_fill_ only supports boolean masks, but got mask with dtype "
                           f"{getattr(mask, 'dtype', type(mask).__name__)}")
    if isinstance(value, Tensor) and value.dim() != 0:
        raise RuntimeError(f"masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                           f"{value.dim()} dimension(s).")
    shape = launch.broadcast_shapes(input._shape, mask._shape)
    if shape != input._shape:
        raise RuntimeError(f"The expanded size of the tensor ({input._shape[-1] if input._shape else 0}) must match "
                           f"the existing size ({mask._shape[-1]}) at non-singleton dimension "
                           f"{len(shape) - 1}.  Target sizes: {list(input._shape)}.  Tensor sizes: "
                           f"{list(mask._shape)}")
    if isinstance(value, Tensor):
        v = value.to(input._dtype)
    else:
        if isinstance(value, float) and not input._dtype.is_floating_point:
            v = launch.scalar(int(value), input._dtype, input._device)
        else:
            v = launch.scalar(value, input._dtype, input._device)
    return Where.apply(mask, v, input)


def masked_select(input, mask):
    shape = launch.broadcast_shapes(input._shape, mask._shape)
    return getitem(input.expand(shape), mask.expand(shape))


def masked_scatter(input, mask, source):
    out = input.clone()
    n = int(mask.sum())
    setitem(out, mask.expand(input._shape), source.reshape(-1)[:n])
    return out


def nonzero(input, *, as_tuple=False):
    """Coordinates of the nonzero elements: (n, ndim) int64, or a tuple of 1-D tensors with ``as_tuple``."""
    coords = launch.nonzero(input.detach())
    if as_tuple:
        if input.dim() == 0:
            return (coords.reshape(-1) if coords.numel() else coords.reshape(0),)
        return tuple(coords[:, j] for j in range(input.dim()))
    return coords


def argwhere(input):
    return nonzero(input)


def take(input, index):
    _check_index(index, "take", input)
    return getitem(input.reshape(-1), index)


def _take_along_dim(input, indices, dim=None):
    if dim is None:
        return gather(input.reshape(-1), 0, indices.reshape(-1))
    shape = launch.broadcast_shapes(tuple(n if i != wrap_dim(dim, input.dim()) else 1 for i, n in enumerate(input._shape)),
                                    tuple(n if i != wrap_dim(dim, input.dim()) else 1 for i, n in enumerate(indices._shape)))
    d = wrap_dim(dim, input.dim())
    ishape = list(shape)
    ishape[d] = indices._shape[d]
    xshape = list(shape)
    xshape[d] = input._shape[d]
    return gather(input.expand(xshape), d, indices.expand(ishape))


take_along_dim = _take_along_dim
