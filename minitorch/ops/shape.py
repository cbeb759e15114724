"""Views and joins: view/reshape/permute/transpose/expand/squeeze/unsqueeze/flatten/unflatten/narrow/select,
basic slicing, contiguous/clone, cat/stack/split/chunk/unbind.

Views share the input's storage and version counter; their backward maps the gradient back onto the input's
shape (a reshape, an inverse permutation, or a scatter into zeros for slices).
"""
import math

from ..autograd.function import _PROFILE, Function, Node, grad_accumulator
from ..autograd.grad_mode import _state
from ..tensor import Size, Tensor, _contiguous_strides, _is_contig, _make
from . import launch
from .common import cast, promote_types, wrap_dim


def as_view(x, shape, stride, offset):
    """A tensor over x's storage (and version counter); ``_base`` names the tensor that owns the memory. A view of a
    tensor that requires grad made with grad mode off is marked (``_ngv``): written in place with grad mode on, it
    is refused, as in PyTorch (the write would go unrecorded)."""
    t = _make(x._storage, tuple(shape), tuple(stride), offset, x._dtype, x._device, x._vc, None,
              x._base if x._base is not None else x)
    if x._requires_grad:
        if not _state.enabled:
            t._ngv = True
    elif x._base is not None and x._base._requires_grad and getattr(x, "_ngv", False):
        t._ngv = True  # (a view of such a view, made with grad mode on, inherits the mark, as in PyTorch)
    return t


def _infer_shape(shape, numel):
    if -1 not in shape and math.prod(shape) == numel and min(shape, default=0) >= 0:
        return tuple(shape)
    shape = list(shape)
    neg = [i for i, n in enumerate(shape) if n == -1]
    if len(neg) > 1:
        raise RuntimeError("only one dimension can be inferred")
    for n in shape:
        if n < -1:
            raise RuntimeError(f"invalid shape dimension {n}")
    known = math.prod(n for n in shape if n != -1)
    if neg:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape[neg[0]] = numel // known
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return tuple(shape)


def _view_strides(old_shape, old_stride, new_shape):
    """Strides giving ``new_shape`` over the same memory, or None when a copy is needed."""
    if _is_contig(old_shape, old_stride) or math.prod(old_shape) == 0:
        return _contiguous_strides(new_shape)
    # group old dims into contiguous chunks, then carve new dims out of each chunk
    old = [(n, s) for n, s in zip(old_shape, old_stride) if n != 1]
    new_stride = [0] * len(new_shape)
    oi = 0
    ni = 0
    while ni < len(new_shape) and new_shape[ni] == 1:
        new_stride[ni] = 1
        ni += 1
    while oi < len(old):
        chunk_n, chunk_s = old[oi]
        oi += 1
        while oi < len(old) and old[oi - 1][1] == old[oi][0] * old[oi][1]:
            chunk_n *= old[oi][0]
            chunk_s = old[oi][1]
            oi += 1
        # new dims whose product equals this chunk
        acc = 1
        dims = []
        while ni < len(new_shape) and acc < chunk_n:
            acc *= new_shape[ni]
            dims.append(ni)
            ni += 1
        if acc != chunk_n:
            return None
        s = chunk_s
        for d in reversed(dims):
            new_stride[d] = s
            s *= new_shape[d]
        while ni < len(new_shape) and new_shape[ni] == 1:
            new_stride[ni] = 1
            ni += 1
    return tuple(new_stride) if ni == len(new_shape) else None


def _shape_args(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list, Size)):
        shape = tuple(shape[0])
    for n in shape:
        if type(n) is not int:
            return tuple([int(n) for n in shape])
    return shape


def _plain_dims(dims, nd):
    """The dims of a permutation, wrapped, when all are Python ints in range and distinct (the common call);
    None sends the caller down its checking path."""
    out = []
    for d in dims:
        if type(d) is not int or d >= nd or d < -nd:
            return None
        out.append(d + nd if d < 0 else d)
    return tuple(out) if len(set(out)) == nd else None


class View(Function):
    @staticmethod
    def forward(ctx, x, shape, stride):
        ctx.in_shape = x._shape
        return as_view(x, shape, stride, x._offset)

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.in_shape), None, None


class Reshape(Function):
    """reshape that needs a copy (the input's strides do not allow a view)."""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x._shape
        out = launch.contiguous(x)
        return as_view(out, shape, _contiguous_strides(shape), 0)

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.in_shape), None


def view(input, *shape):
    """A view with a new shape over the same storage; raises when the strides do not allow one."""
    if len(shape) == 1 and not isinstance(shape[0], (tuple, list, Size, int)):
        from ..dtypes import dtype as _dtype_cls
        if isinstance(shape[0], _dtype_cls):
            if shape[0].itemsize != input._dtype.itemsize:
                raise RuntimeError("view(dtype) with a different element size is not supported")
            return _make(input._storage.view(shape[0].storage_np), input._shape, input._stride, input._offset, shape[0],
                         input._device, input._vc)
    shape = _infer_shape(_shape_args(shape), input.numel())
    if shape == input._shape:
        stride = input._stride
    elif input._contig:
        stride = _contiguous_strides(shape)
    else:
        stride = _view_strides(input._shape, input._stride, shape)
        if stride is None:
            raise RuntimeError(
                "view size is not compatible with input tensor's size and stride (at least one dimension spans "
                "across two contiguous subspaces). Use .reshape(...) instead.")
    if not (_state.enabled and input._requires_grad):  # no autograd node to make (as reshape)
        return as_view(input, shape, stride, input._offset)
    return View.apply(input, shape, stride)


def reshape(input, *shape):
    """A view when the strides allow it, else a contiguous copy."""
    shape = _infer_shape(_shape_args(shape), input.numel())
    stride = _view_strides(input._shape, input._stride, shape)
    if stride is not None:
        if not (_state.enabled and input._requires_grad):
            return as_view(input, shape, stride, input._offset)
        return View.apply(input, shape, stride)
    return Reshape.apply(input, shape)


def view_as(input, other):
    return view(input, other._shape)


def reshape_as(input, other):
    return reshape(input, other._shape)


class Permute(Function):
    """permute, transpose and t; ``name`` is the node's PyTorch name (PermuteBackward0, TransposeBackward0,
    TBackward0), which the dims alone do not tell."""
    @staticmethod
    def forward(ctx, x, dims, name):
        ctx.dims = dims
        return as_view(x, [x._shape[d] for d in dims], [x._stride[d] for d in dims], x._offset)

    @staticmethod
    def backward(ctx, g):
        inv = [0] * len(ctx.dims)
        for i, d in enumerate(ctx.dims):
            inv[d] = i
        return g.permute(inv), None, None


def permute(input, *dims):
    nd = len(input._shape)
    plain = _plain_dims(dims[0] if len(dims) == 1 and isinstance(dims[0], (tuple, list)) else dims, nd)
    if plain is not None:
        return Permute.apply(input, plain, "PermuteBackward0")
    dims = _shape_args(dims)
    if len(dims) != nd:
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does not match the "
                           f"length of the desired ordering of dimensions i.e. input.dim() = {nd} is not equal to "
                           f"len(dims) = {len(dims)}")
    dims = tuple(wrap_dim(d, nd) for d in dims)
    if len(set(dims)) != nd:
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return Permute.apply(input, dims, "PermuteBackward0")


def transpose(input, dim0, dim1, *, _name="TransposeBackward0"):
    nd = len(input._shape)
    if nd == 0:
        wrap_dim(dim0, 0), wrap_dim(dim1, 0)
        return input
    d0 = dim0 % nd if type(dim0) is int and -nd <= dim0 < nd else wrap_dim(dim0, nd)
    d1 = dim1 % nd if type(dim1) is int and -nd <= dim1 < nd else wrap_dim(dim1, nd)
    if _PROFILE[0] is None and not (input._requires_grad and _state.enabled):
        # nothing to record: the view itself, without a Function (x.t() 2.1 -> 0.9 us)
        shape, stride = list(input._shape), list(input._stride)
        shape[d0], shape[d1] = shape[d1], shape[d0]
        stride[d0], stride[d1] = stride[d1], stride[d0]
        return as_view(input, shape, stride, input._offset)
    dims = list(range(nd))
    dims[d0], dims[d1] = dims[d1], dims[d0]
    return Permute.apply(input, tuple(dims), _name)


swapaxes = swapdims = transpose


def t(input):
    nd = len(input._shape)
    if nd > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {nd}D")
    return transpose(input, 0, 1, _name="TBackward0") if nd == 2 else input


def movedim(input, source, destination):
    nd = input.dim()
    src = [wrap_dim(s, nd) for s in ([source] if isinstance(source, int) else source)]
    dst = [wrap_dim(s, nd) for s in ([destination] if isinstance(destination, int) else destination)]
    order = [None] * nd
    for s, d in zip(src, dst):
        order[d] = s
    rest = iter(d for d in range(nd) if d not in src)
    order = [o if o is not None else next(rest) for o in order]
    return permute(input, order)


moveaxis = movedim


def adjoint(input):
    return transpose(input, -2, -1)


class Expand(Function):
    @staticmethod
    def forward(ctx, x, shape, stride):
        ctx.in_shape = x._shape
        return as_view(x, shape, stride, x._offset)

    @staticmethod
    def backward(ctx, g):
        return g.sum_to_size(ctx.in_shape), None, None


def expand(input, *sizes):
    sizes = _shape_args(sizes)
    nd = input.dim()
    if len(sizes) < nd:
        raise RuntimeError(f"expand(torch.FloatTensor{{{list(input._shape)}}}, size={list(sizes)}): the number of "
                           f"sizes provided ({len(sizes)}) must be greater or equal to the number of dimensions in "
                           f"the tensor ({nd})")
    lead = len(sizes) - nd
    shape, stride = [], []
    for i, n in enumerate(sizes):
        if i < lead:
            if n < 0:
                raise RuntimeError(f"The expanded size of the tensor ({n}) isn't allowed in a leading, "
                                   "non-existing dimension 0")
            shape.append(n)
            stride.append(0)
            continue
        cur = input._shape[i - lead]
        if n == -1:
            n = cur
        if cur != n:
            if cur != 1:
                raise RuntimeError(f"The expanded size of the tensor ({n}) must match the existing size ({cur}) at "
                                   f"non-singleton dimension {i}.  Target sizes: {list(sizes)}.  Tensor sizes: "
                                   f"{list(input._shape)}")
            shape.append(n)
            stride.append(0)
        else:
            shape.append(n)
            stride.append(input._stride[i - lead])
    shape = tuple(shape)
    if shape == input._shape:
        return input
    return Expand.apply(input, shape, tuple(stride))


def expand_as(input, other):
    return expand(input, other._shape)


def broadcast_to(input, size):
    return expand(input, size)


def broadcast_tensors(*tensors):
    shape = launch.broadcast_shapes(*(t._shape for t in tensors))
    return tuple(expand(t, shape) for t in tensors)


def broadcast_shapes(*shapes):
    return Size(launch.broadcast_shapes(*(tuple(s) if not isinstance(s, int) else (s,) for s in shapes)))


def sum_to_size(input, *size):
    """Sum broadcast dims away so that the result has ``size`` (the reverse of ``expand``)."""
    size = _shape_args(size)
    if tuple(size) == input._shape:
        return input
    lead = input.dim() - len(size)
    if lead < 0:
        raise RuntimeError(f"size {{{list(size)}}} is not expandable to size {{{list(input._shape)}}}.")
    dims = list(range(lead))
    for i, n in enumerate(size):
        if n == 1 and input._shape[lead + i] != 1:
            dims.append(lead + i)
        elif n != input._shape[lead + i]:
            raise RuntimeError(f"size {{{list(size)}}} is not expandable to size {{{list(input._shape)}}}.")
    out = input.sum(tuple(dims), keepdim=True) if dims else input
    return out.reshape(size) if out._shape != tuple(size) else out


def squeeze(input, dim=None):
    nd = input.dim()
    if dim is None:
        dims = [d for d in range(nd) if input._shape[d] == 1]
    else:
        dims = [wrap_dim(d, nd) for d in (dim if isinstance(dim, (tuple, list)) else (dim,))]
        dims = [d for d in dims if nd and input._shape[d] == 1]
    shape = [n for d, n in enumerate(input._shape) if d not in dims]
    stride = [s for d, s in enumerate(input._stride) if d not in dims]
    if len(shape) == nd:
        return View.apply(input, input._shape, input._stride) if _state.enabled and input._requires_grad \
            else as_view(input, input._shape, input._stride, input._offset)
    return View.apply(input, tuple(shape), tuple(stride))


def unsqueeze(input, dim):
    nd = input.dim()
    d = wrap_dim(dim, nd + 1)
    shape = list(input._shape)
    stride = list(input._stride)
    st = stride[d] * shape[d] if d < nd else 1
    shape.insert(d, 1)
    stride.insert(d, st)
    if _state.enabled and input._requires_grad:
        return View.apply(input, tuple(shape), tuple(stride))
    return as_view(input, shape, stride, input._offset)


def flatten(input, start_dim=0, end_dim=-1):
    nd = input.dim()
    if nd == 0:
        return reshape(input, 1)
    s, e = wrap_dim(start_dim, nd), wrap_dim(end_dim, nd)
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:
        return input
    shape = input._shape[:s] + (math.prod(input._shape[s:e + 1]),) + input._shape[e + 1:]
    return reshape(input, shape)


def ravel(input):
    return reshape(input, -1)


def unflatten(input, dim, sizes):
    nd = input.dim()
    d = wrap_dim(dim, nd)
    sizes = tuple(sizes)
    n = input._shape[d]
    if -1 in sizes:
        known = math.prod(s for s in sizes if s != -1)
        sizes = tuple(n // known if s == -1 else s for s in sizes)
    if math.prod(sizes) != n:
        raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim {dim} "
                           f"({n}) in the input tensor")
    return view(input, input._shape[:d] + sizes + input._shape[d + 1:])


class Slice(Function):
    """A strided sub-view; backward writes the gradient into zeros of the input's shape."""

    @staticmethod
    def forward(ctx, x, spec):
        ctx.in_shape = x._shape
        ctx.spec = spec
        return apply_spec(x, spec)

    @staticmethod
    def backward(ctx, g):
        from ..creation import zeros
        out = zeros(ctx.in_shape, dtype=g.dtype, device=g.device)
        if _state.enabled:
            return SliceBackward.apply(g, ctx.in_shape, ctx.spec), None
        launch.copy_into(apply_spec(out, ctx.spec), g)
        return out, None


class SliceBackward(Function):
    @staticmethod
    def forward(ctx, g, in_shape, spec):
        from ..creation import zeros
        ctx.spec = spec
        out = zeros(in_shape, dtype=g.dtype, device=g.device)
        launch.copy_into(apply_spec(out, spec), g)
        return out

    @staticmethod
    def backward(ctx, gg):
        return Slice.apply(gg, ctx.spec), None, None


def apply_spec(x, spec):
    """Apply a basic-index spec: a tuple of ('s', dim, start, step, length) / ('i', dim, index) / ('n', dim) (a new
    axis before ``dim``) items, ordered by dim; dims not named stay whole."""
    shape, stride, offset = [], [], x._offset
    d = 0
    for item in spec:
        kind = item[0]
        while d < item[1]:
            shape.append(x._shape[d])
            stride.append(x._stride[d])
            d += 1
        if kind == "n":
            shape.append(1)
            stride.append(0)
            continue
        if kind == "i":
            offset += item[2] * x._stride[d]
        else:
            _, _, start, step, length = item
            offset += start * x._stride[d] if length else 0
            shape.append(length)
            stride.append(x._stride[d] * step)
        d += 1
    while d < x.dim():
        shape.append(x._shape[d])
        stride.append(x._stride[d])
        d += 1
    return as_view(x, shape, stride, offset)


def sliced(x, spec):
    if _state.enabled and x._requires_grad:
        return Slice.apply(x, spec)
    return apply_spec(x, spec)


def narrow(input, dim, start, length):
    d = wrap_dim(dim, input.dim())
    n = input._shape[d]
    if isinstance(start, Tensor):
        start = int(start.item())
    if start < 0:
        start += n
    if start < 0 or start > n:
        raise IndexError(f"start out of range (expected to be in range of [{-n}, {n}], but got {start})")
    if length < 0 or start + length > n:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({n}).")
    return sliced(input, (("s", d, start, 1, length),))


def select(input, dim, index):
    nd = input.dim()
    if nd == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = wrap_dim(dim, nd)
    n = input._shape[d]
    if index < -n or index >= n:
        raise IndexError(f"index {index} is out of bounds for dimension {d} with size {n}")
    return sliced(input, (("i", d, index % n),))


class Contiguous(Function):
    @staticmethod
    def forward(ctx, x):
        return launch.contiguous(x)

    @staticmethod
    def backward(ctx, g):
        return g


def contiguous(input, memory_format=None):
    if input._contig:
        return input
    return Contiguous.apply(input)


def clone(input, *, memory_format=None):
    return Contiguous.apply(input)


class Cat(Function):
    @staticmethod
    def forward(ctx, dim, *tensors):
        ctx.sizes = [t._shape[dim] for t in tensors]
        ctx.dim = dim
        shape = list(tensors[0]._shape)
        shape[dim] = sum(ctx.sizes)
        out = launch.empty(tuple(shape), tensors[0]._dtype, tensors[0]._device)
        start = 0
        for t, n in zip(tensors, ctx.sizes):
            if n:
                launch.copy_into(apply_spec(out, (("s", dim, start, 1, n),)), t)
            start += n
        return out

    @staticmethod
    def backward(ctx, g):
        grads, start = [], 0
        for n in ctx.sizes:
            grads.append(narrow(g, ctx.dim, start, n))
            start += n
        return (None, *grads)


def cat(tensors, dim=0, *, out=None):
    """Concatenate along an existing dim (dtypes promote; 1-D empty tensors are skipped, as in PyTorch)."""
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("torch.cat(): expected a non-empty list of Tensors")
    for t in tensors:
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element in argument 0, but got {type(t).__name__}")
    parts = [t for t in tensors if not (t.dim() == 1 and t._shape[0] == 0)] or tensors[:1]
    ref = parts[0]
    if ref.dim() == 0:
        raise RuntimeError("zero-dimensional tensor (at position 0) cannot be concatenated")
    d = wrap_dim(dim, ref.dim())
    dt = ref._dtype
    for i, t in enumerate(parts):
        if t.dim() != ref.dim():
            raise RuntimeError(f"Tensors must have same number of dimensions: got {ref.dim()} and {t.dim()}")
        for k in range(ref.dim()):
            if k != d and t._shape[k] != ref._shape[k]:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {d}. Expected size "
                                   f"{ref._shape[k]} but got size {t._shape[k]} for tensor number {i} in the list.")
        if t._device != ref._device:
            raise RuntimeError("Expected all tensors to be on the same device, but found at least two devices, "
                               f"{ref._device} and {t._device}!")
        dt = promote_types(dt, t._dtype)
    parts = [cast(t, dt) for t in parts]
    r = Cat.apply(d, *parts)
    if out is not None:
        from .elementwise import _write_out
        return _write_out(out, r)
    return r


concat = concatenate = cat


def stack(tensors, dim=0, *, out=None):
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    shape = tensors[0]._shape
    for i, t in enumerate(tensors):
        if t._shape != shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(shape)} at entry 0 and "
                               f"{list(t._shape)} at entry {i}")
    d = wrap_dim(dim, len(shape) + 1)
    return cat([unsqueeze(t, d) for t in tensors], d, out=out)


def hstack(tensors):
    tensors = [t if t.dim() else t.reshape(1) for t in tensors]
    return cat(tensors, 0 if tensors[0].dim() == 1 else 1)


def vstack(tensors):
    return cat([t if t.dim() >= 2 else t.reshape(1, -1) for t in tensors], 0)


# Whether split/chunk/unbind may record one multi-output node (``_split_views``). The compiler's replay of an op
# with its autograd contexts clears it, so that the op makes the same nodes as at its capture (which, recording
# Functions, took the per-view Slice path).
SPLIT_NODE = [True]


class _SplitNode(Node):
    """The one backward node of split/chunk/unbind (PyTorch's SplitBackward0): a gradient slot per output, filled
    by the outputs' ``_SplitOutput`` nodes; its backward writes them into one gradient of the input's shape (zeros
    only where an output got none). Per-view Slice nodes would each scatter into a zeroed input-sized tensor and
    the engine would sum those: for q, k, v split from a (12, 64, 384) projection, 596 -> 140 us forward+backward."""

    def __init__(self, x, specs, name):
        self._n_outputs = len(specs)
        fn = x.grad_fn  # (the property: a view refreshes its history first)
        self._edges = ((fn if fn is not None else grad_accumulator(x), 0),)
        self._mask_cache = None
        self._input_meta = [(x._shape, x._dtype)]
        self._in = (x._shape, x._dtype, x._device)
        self._specs = specs
        self._label = name

    def name(self):
        return self._label

    def _release(self):
        pass

    @staticmethod
    def backward(self, *grads):
        shape, dtype, device = self._in
        if _state.enabled:  # create_graph: the same scatter from differentiable ops
            from ..creation import zeros
            out = None
            for spec, g in zip(self._specs, grads):
                if g is not None:
                    part = SliceBackward.apply(g, shape, spec)
                    out = part if out is None else out + part
            return (out if out is not None else zeros(shape, dtype=dtype, device=device)),
        out = launch.empty(shape, dtype, device)
        for spec, g in zip(self._specs, grads):
            region = apply_spec(out, spec)
            if g is None:
                launch.fill_(region, 0)
            else:
                launch.copy_into(region, g)
        return (out,)


class _SplitOutput(Node):
    """Output ``i`` of a split: hands its gradient to slot ``i`` of the ``_SplitNode`` (and shows that node's
    name and next_functions, as PyTorch's outputs of one SplitBackward0 node do)."""

    def __init__(self, node, i, t):
        self._edges = ((node, i),)
        self._mask_cache = None
        self._input_meta = [(t._shape, t._dtype)]

    def name(self):
        return self._edges[0][0].name()

    @property
    def next_functions(self):
        return self._edges[0][0].next_functions

    def _release(self):
        pass

    @staticmethod
    def backward(self, g):
        return (g,)


def _split_views(x, specs, name):
    """The views ``apply_spec(x, spec)``, recorded as one multi-output node when x needs a gradient (and
    nothing records the ops, as the profiler and the compiler do Function by Function); else per-view Slices."""
    if not (_state.enabled and x._requires_grad):
        return tuple(apply_spec(x, spec) for spec in specs)
    if _PROFILE[0] is not None or not SPLIT_NODE[0] or not specs:
        return tuple(Slice.apply(x, spec) for spec in specs)
    node = _SplitNode(x, specs, name)
    outs = []
    for i, spec in enumerate(specs):
        t = apply_spec(x, spec)
        t._requires_grad = True
        t._grad_fn = _SplitOutput(node, i, t)
        outs.append(t)
    return tuple(outs)


def split(tensor, split_size_or_sections, dim=0):
    d = wrap_dim(dim, tensor.dim())
    n = tensor._shape[d]
    if isinstance(split_size_or_sections, int):
        size = split_size_or_sections
        if size <= 0 and not (size == 0 and n == 0):
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension size of {n}")
        sections = [min(size, n - s) for s in range(0, n, size)] if size else [0]
    else:
        sections = list(split_size_or_sections)
        if sum(sections) != n:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's size at "
                               f"dimension {d}), but got split_sizes={sections}")
    specs, start = [], 0
    for s in sections:
        specs.append((("s", d, start, 1, s),))
        start += s
    return _split_views(tensor, specs, "SplitWithSizesBackward0" if isinstance(split_size_or_sections, (list, tuple))
                        else "SplitBackward0")


def _slices(tensor, d, sections):
    """Per-section narrow views (tensor_split's: PyTorch records one SliceBackward0 per piece)."""
    out, start = [], 0
    for s in sections:
        out.append(narrow(tensor, d, start, s))
        start += s
    return tuple(out)


def tensor_split(input, indices_or_sections, dim=0):
    d = wrap_dim(dim, input.dim())
    n = input._shape[d]
    if isinstance(indices_or_sections, int):
        k = indices_or_sections
        sizes = [n // k + (1 if i < n % k else 0) for i in range(k)]
    else:
        bounds = [0] + [min(max(int(i), 0), n) for i in indices_or_sections] + [n]
        sizes = [max(b - a, 0) for a, b in zip(bounds, bounds[1:])]
    return _slices(input, d, sizes)


def chunk(input, chunks, dim=0):
    if chunks <= 0:
        raise RuntimeError("chunk expects `chunks` to be greater than 0, got: " + str(chunks))
    d = wrap_dim(dim, input.dim())
    n = input._shape[d]
    size = -(-n // chunks) if n else 0
    if size == 0:
        return tuple(split(input, [0] * min(chunks, 1) if n == 0 else 1, d)) if n == 0 else split(input, 1, d)
    return split(input, size, d)


def unbind(input, dim=0):
    d = wrap_dim(dim, input.dim())
    return _split_views(input, [(("i", d, i),) for i in range(input._shape[d])], "UnbindBackward0")


class Flip(Function):
    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return launch.flip(x, dims)

    @staticmethod
    def backward(ctx, g):
        return Flip.apply(g, ctx.dims), None


def flip(input, *dims, **kwargs):
    """Reverse the order along ``dims`` (a copy, as in PyTorch): ``flip(x, (0, 1))``, ``x.flip(0, 1)``,
    ``flip(x, dims=[0])``."""
    if "dims" in kwargs:
        dims = kwargs.pop("dims")
    elif len(dims) == 1:
        dims = dims[0]
    if kwargs:
        raise TypeError(f"flip() got an unexpected keyword argument '{next(iter(kwargs))}'")
    dims = [dims] if isinstance(dims, int) else list(dims)
    nd = input.dim()
    seen = []
    for d in dims:
        d = wrap_dim(d, max(nd, 1))
        if d in seen:
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
        seen.append(d)
    if nd == 0:
        return Contiguous.apply(input)
    return Flip.apply(input, tuple(seen))


def repeat(input, *sizes):
    sizes = _shape_args(sizes)
    if len(sizes) < input.dim():
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of dimensions of "
                           "tensor")
    x = input.reshape((1,) * (len(sizes) - input.dim()) + input._shape)
    # interleave a new axis of each repeat count before each dim, expand, then fold
    shape, exp = [], []
    for r, n in zip(sizes, x._shape):
        shape += [1, n]
        exp += [r, n]
    y = x.reshape(shape).expand(exp).reshape([r * n for r, n in zip(sizes, x._shape)])
    # every count 1: the reshapes are views of the input; a repeat is a new tensor (writing it leaves input alone)
    return y.clone() if y._storage is input._storage else y


def tile(input, dims):
    dims = tuple(dims)
    if len(dims) < input.dim():
        dims = (1,) * (input.dim() - len(dims)) + dims
    return repeat(input, dims)


def atleast_1d(input):
    return input.reshape(1) if input.dim() == 0 else input


def atleast_2d(input):
    return input.reshape(1, -1) if input.dim() < 2 else input


def _triangle_drop(input, diagonal, lower):
    """The (rows, cols) bool mask of the entries tril (lower) / triu zeroes: column j of row i is dropped when
    j > i + diagonal (tril) or j < i + diagonal (triu). One broadcast compare of two index vectors (no full-size
    integer difference and no negation pass)."""
    from ..creation import arange
    n, m = input._shape[-2], input._shape[-1]
    cols = arange(m, device=input.device).unsqueeze(0)
    rows = (arange(n, device=input.device) + diagonal).unsqueeze(1)
    return cols > rows if lower else cols < rows


def tril(input, diagonal=0):
    return input.masked_fill(_triangle_drop(input, diagonal, True), 0)


def triu(input, diagonal=0):
    return input.masked_fill(_triangle_drop(input, diagonal, False), 0)


def _diagonal_view(input, offset, d1, d2):
    n1, n2 = input._shape[d1], input._shape[d2]
    length = max(0, min(n1, n2 - offset) if offset >= 0 else min(n1 + offset, n2))
    start = input._offset + (offset * input._stride[d2] if offset >= 0 else -offset * input._stride[d1])
    shape = [n for i, n in enumerate(input._shape) if i not in (d1, d2)] + [length]
    stride = [s for i, s in enumerate(input._stride) if i not in (d1, d2)] + [input._stride[d1] + input._stride[d2]]
    return as_view(input, shape, stride, start if length else input._offset)


class Diagonal(Function):
    @staticmethod
    def forward(ctx, x, offset, d1, d2):
        ctx.args, ctx.shape = (offset, d1, d2), x._shape
        return _diagonal_view(x, offset, d1, d2)

    @staticmethod
    def backward(ctx, g):
        return _OnDiagonal.apply(g, ctx.shape, *ctx.args), None, None, None


class _OnDiagonal(Function):
    """A zero tensor of ``shape`` with ``v`` on its (offset, d1, d2) diagonal: Diagonal's adjoint, so each is the
    other's backward and gradients of any order flow through both."""

    @staticmethod
    def forward(ctx, v, shape, offset, d1, d2):
        from ..creation import zeros
        ctx.args = (offset, d1, d2)
        out = zeros(shape, dtype=v.dtype, device=v.device)
        launch.copy_into(_diagonal_view(out, offset, d1, d2), v)
        return out

    @staticmethod
    def backward(ctx, g):
        return Diagonal.apply(g, *ctx.args), None, None, None, None


def diagonal(input, offset=0, dim1=0, dim2=1):
    """A view of the diagonal along (dim1, dim2), appended as the last dim."""
    nd = input.dim()
    return Diagonal.apply(input, offset, wrap_dim(dim1, nd), wrap_dim(dim2, nd))


def diag(input, diagonal=0):
    if input.dim() == 1:
        n = input._shape[0] + abs(diagonal)
        return _OnDiagonal.apply(input, (n, n), diagonal, 0, 1)
    return clone(Diagonal.apply(input, diagonal, 0, 1))
