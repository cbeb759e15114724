"""Tensor: a flat storage plus shape, strides and offset (a view), and its autograd state.

Only the data model, properties and the Python protocol live here. Every operation is a function in
``minitorch.ops`` (one definition, used as ``minitorch.exp(x)`` and ``x.exp()``); ``minitorch.ops`` attaches them
to the class as methods.
"""
import math

import numpy as np

from . import dtypes as _dt
from .device import CPU

__all__ = ["Tensor", "Size"]

# autograd.engine.backward, bound on the first Tensor.backward (the engine imports this module)
_ENGINE_BACKWARD = [None]
# set while bool() or an index conversion reads a tensor's value on the host: the conversion the Python code sees
# (a compiled call's capture turns such a read into a guard on the value; compiler/capture.py)
HOST_READ = [None]
# bumped whenever an existing tensor takes other memory or another layout (``.data = ...``, ``resize_``, an in-place
# view op, a move into shared memory): a compiled graph checks the tensors it reads by reference only after a bump
LAYOUT_EPOCH = [0]


class Size(tuple):
    """A tensor's shape: a tuple that prints as ``minitorch.Size([2, 3])``."""

    def __repr__(self):
        return f"minitorch.Size({list(self)})"

    __str__ = __repr__

    def numel(self):
        return math.prod(self)

    def __getitem__(self, item):
        r = tuple.__getitem__(self, item)
        return Size(r) if isinstance(item, slice) else r

    def __add__(self, other):
        return Size(tuple(self) + tuple(other))


def _contiguous_strides(shape):
    st = []
    acc = 1
    for n in reversed(shape):
        st.append(acc)
        acc *= n
    return tuple(reversed(st))


_NON_LEAF_GRAD = ("The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad attribute "
                  "won't be populated during autograd.backward(). If you indeed want the .grad field to be populated "
                  "for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. If you access the non-leaf "
                  "Tensor by mistake, make sure you access the leaf Tensor instead.")


def _is_contig(shape, stride):
    acc = 1
    for n, s in zip(reversed(shape), reversed(stride)):
        if n != 1:
            if s != acc:
                return False
            acc *= n
    return True


# The capture epoch a new storage is born in (its version counter's second item): a capture (compiler/capture.py)
# starts a new epoch, so the tensors whose storage is older were there before the call, without a scan of the heap.
_EPOCH = [0]


def _make(storage, shape, stride, offset, dtype, device, version=None, contig=None, base=None):
    """A tensor over ``storage``: on the CPU a 1-D C-contiguous numpy array of ``dtype.storage_np`` (launchers call
    compiled kernels for exactly that type, see ops/launch.py ``_entry``). ``version``: the version counter it
    shares with the other views of the storage, a one-element list (``t._vc[0]``, bumped by in-place ops; a list
    because making one costs a third of making a slotted object, and every op result makes one); a new counter when
    None (holding the epoch the storage is born in, ``_EPOCH``)."""
    t = object.__new__(Tensor)
    t._base = base
    t._storage = storage
    t._shape = shape
    t._stride = stride
    t._offset = offset
    t._dtype = dtype
    if dtype._half:
        _dt.HALF_SEEN[0] = True
    t._device = device
    t._vc = version if version is not None else [0, _EPOCH[0]]
    t._gv = t._vc[0]
    t._contig = _is_contig(shape, stride) if contig is None else contig
    t._requires_grad = False
    t._grad = None
    t._grad_fn = None
    t._retains_grad = False
    t._hooks = None
    return t


class Tensor:
    """A multi-dimensional array with autograd, on a device (``minitorch.Tensor(data)`` makes a float32 tensor)."""

    __slots__ = ("_storage", "_shape", "_stride", "_offset", "_dtype", "_device", "_vc", "_contig",
                 "_requires_grad", "_grad", "_grad_fn", "_retains_grad", "_hooks", "_base", "_gv", "_acc",
                 "_ngv", "__weakref__")  # (_ngv: set only on views made with grad mode off, ops/shape.py as_view)

    _is_sparse_coo = False  # True on minitorch.sparse's COO tensors
    __array_priority__ = 1000  # numpy scalars and arrays defer to Tensor's reflected operators

    def __new__(cls, *args, device=None):
        """Legacy constructor: ``Tensor(data)`` (float32 copy) or ``Tensor(*sizes)`` (uninitialised float32)."""
        from .creation import empty, tensor
        if len(args) == 1 and not isinstance(args[0], (int, np.integer)):
            t = tensor(args[0], dtype=_dt.get_default_dtype(), device=device)
        else:
            sizes = args[0] if len(args) == 1 and isinstance(args[0], (tuple, list)) else args
            t = empty(*sizes, dtype=_dt.get_default_dtype(), device=device)
        if cls is not Tensor:
            out = object.__new__(cls)
            for name in _STATE_SLOTS:
                setattr(out, name, getattr(t, name))
            return out
        return t

    # ----------------------------------------------------------------------------------------------------------
    # metadata
    # ----------------------------------------------------------------------------------------------------------
    @property
    def shape(self):
        return Size(self._shape)

    def size(self, dim=None):
        if dim is None:
            return Size(self._shape)
        return self._shape[_wrap_dim(dim, len(self._shape))]

    def stride(self, dim=None):
        if dim is None:
            return tuple(self._stride)
        return self._stride[_wrap_dim(dim, len(self._shape))]

    def storage_offset(self):
        return self._offset

    def dim(self):
        return len(self._shape)

    ndimension = dim

    @property
    def ndim(self):
        return len(self._shape)

    def numel(self):
        return math.prod(self._shape)

    nelement = numel

    def element_size(self):
        return self._dtype.itemsize

    @property
    def dtype(self):
        return self._dtype

    @property
    def device(self):
        return self._device

    @property
    def is_cuda(self):
        return self._device.type == "cuda"

    @property
    def is_cpu(self):
        return self._device.type == "cpu"

    # device kinds and layouts minitorch has none of: always False, as PyTorch answers for a CPU/CUDA dense tensor
    is_xpu = is_mps = is_meta = is_mtia = is_ipu = is_hpu = is_xla = is_vulkan = is_maia = property(lambda self: False)
    is_sparse = is_sparse_csr = is_mkldnn = is_quantized = is_nested = property(lambda self: False)

    def is_floating_point(self):
        return self._dtype.is_floating_point

    def is_signed(self):
        return self._dtype.is_signed

    def is_inference(self):
        """False: minitorch has no inference tensors (``inference_mode`` is ``no_grad`` here)."""
        return False

    def is_complex(self):
        return False

    def get_device(self):
        return -1 if self._device.type == "cpu" else self._device.index

    def _is_contiguous(self):
        return self._contig

    def is_contiguous(self, memory_format=None):
        return self._contig

    def untyped_storage_id(self):
        return id(self._storage)

    def share_memory_(self):
        """Move a CPU tensor's storage into shared memory, in place (a no-op for CUDA tensors and for storages
        already shared): every view of it, in this process and in children it is sent to, sees the same memory."""
        if self._device.type == "cpu":
            from .multiprocessing._shared_memory import share_tensors_
            share_tensors_([self])
        return self

    def is_shared(self):
        """True when the storage lives in shared memory (always for CUDA tensors, as in PyTorch)."""
        if self._device.type != "cpu":
            return True
        from .multiprocessing._shared_memory import is_shared
        return is_shared(self._storage)

    @property
    def _version(self):
        return self._vc[0]

    def _bump_version(self):
        self._vc[0] += 1

    # ----------------------------------------------------------------------------------------------------------
    # autograd state
    # ----------------------------------------------------------------------------------------------------------
    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag):
        self.requires_grad_(flag)

    def requires_grad_(self, requires_grad=True):
        requires_grad = bool(requires_grad)
        if self._grad_fn is not None:
            if not requires_grad:
                raise RuntimeError(
                    "you can only change requires_grad flags of leaf variables. If you want to use a computed "
                    "variable in a subgraph that doesn't require differentiation use var_no_grad = var.detach().")
            return self
        if requires_grad and not self._dtype.is_floating_point:
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        self._requires_grad = requires_grad
        return self

    @property
    def grad(self):
        g = self._grad
        if g is None and self._grad_fn is not None and not self._retains_grad:
            import warnings
            warnings.warn(_NON_LEAF_GRAD, UserWarning, stacklevel=2)
        return g

    @grad.setter
    def grad(self, value):
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of type {type(value).__name__}")
            if value._shape != self._shape:
                raise RuntimeError(
                    f"assigned grad has data of a different size: expected {list(self._shape)}, got {list(value._shape)}")
            if value._dtype is not self._dtype:
                raise RuntimeError("assigned grad has data of a different type")
            if value._device != self._device:
                raise RuntimeError("assigned grad has data located on a different device")
        self._grad = value

    @property
    def grad_fn(self):
        if self._base is not None and self._gv != self._vc[0] and self._grad_fn is not None:
            from .autograd.function import refresh_view
            refresh_view(self)
        return self._grad_fn

    @property
    def is_leaf(self):
        return self._grad_fn is None

    @property
    def retains_grad(self):
        return self._retains_grad

    def retain_grad(self):
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self._grad_fn is not None and not self._retains_grad:
            self._grad_fn._retain(self)
        self._retains_grad = True

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; a non-None return replaces the grad."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        from .autograd.engine import register_tensor_hook
        return register_tensor_hook(self, hook)

    def detach(self):
        """A new tensor sharing storage (and version counter) with this one, outside the graph."""
        return _make(self._storage, self._shape, self._stride, self._offset, self._dtype, self._device,
                     self._vc, self._contig)

    def detach_(self):
        self._grad_fn = None
        self._requires_grad = False
        return self

    @property
    def data(self):
        return self.detach()

    @data.setter
    def data(self, value):
        if not isinstance(value, Tensor):
            raise TypeError(f"data must be a Tensor, got {type(value).__name__}")
        self._storage, self._shape, self._stride, self._offset = value._storage, value._shape, value._stride, value._offset
        self._dtype, self._device, self._contig = value._dtype, value._device, value._contig
        self._vc = value._vc
        LAYOUT_EPOCH[0] += 1

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad``; see ``minitorch.autograd.backward``."""
        backward = _ENGINE_BACKWARD[0]
        if backward is None:
            from .autograd.engine import backward
            _ENGINE_BACKWARD[0] = backward
        backward((self,), None if gradient is None else (gradient,), retain_graph, create_graph, inputs)

    # ----------------------------------------------------------------------------------------------------------
    # conversion
    # ----------------------------------------------------------------------------------------------------------
    def numpy(self, force=False):
        if self._device.type != "cpu" and not force:
            raise TypeError(
                f"can't convert {self._device.type}:{self._device.index} device type tensor to numpy. "
                "Use Tensor.cpu() to copy the tensor to host memory first.")
        if self._requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        from .ops.launch import to_numpy
        arr = to_numpy(self)
        return arr.copy() if self._device.type != "cpu" else arr

    def __array__(self, dtype=None, copy=None):
        arr = self.detach().cpu().numpy()
        if dtype is not None:
            arr = arr.astype(dtype)
        return arr

    def tolist(self):
        return self.detach().cpu().numpy().tolist()

    def item(self):
        if self.numel() != 1:
            raise RuntimeError(f"a Tensor with {self.numel()} elements cannot be converted to Scalar")
        from .ops.launch import to_numpy
        return to_numpy(self.detach()).reshape(-1)[0].item()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self._dtype.is_floating_point or self.numel() != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return self._converted(int)

    def __bool__(self):
        if self.numel() != 1:
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return self._converted(bool)

    def _converted(self, convert):
        HOST_READ[0] = convert
        try:
            return convert(self.item())
        finally:
            HOST_READ[0] = None

    def __len__(self):
        if not self._shape:
            raise TypeError("len() of a 0-d tensor")
        return self._shape[0]

    def __iter__(self):
        if not self._shape:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __hash__(self):
        return id(self)

    def __contains__(self, element):
        return bool((self == element).any())

    def __repr__(self, *, tensor_contents=None):
        from ._tensor_str import tensor_repr
        return tensor_repr(self)

    def __format__(self, spec):
        if self.dim() == 0 and spec:
            return self.item().__format__(spec)
        return object.__format__(self, spec) if spec else repr(self)

    def __reduce_ex__(self, protocol):
        return (_rebuild, (self.detach().cpu().numpy().copy(), self._dtype.name, str(self._device),
                           self._requires_grad))

    def __deepcopy__(self, memo):
        if not self.is_leaf:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) support the deepcopy "
                               "protocol at the moment.")
        new = self.clone().detach()
        new._requires_grad = self._requires_grad
        if self._grad is not None:
            new._grad = self._grad.clone()
        if type(self) is not Tensor:
            out = object.__new__(type(self))
            for name in _STATE_SLOTS:
                setattr(out, name, getattr(new, name))
            if hasattr(self, "__dict__"):
                import copy
                out.__dict__.update(copy.deepcopy(self.__dict__, memo))
            new = out
        memo[id(self)] = new
        return new


def _rebuild(array, dtype_name, device, requires_grad):
    from .creation import tensor
    t = tensor(array, dtype=_dt._by_name(dtype_name), device=device)
    t._requires_grad = requires_grad
    return t


# the slots that make up a tensor's state, copied when a Tensor subclass instance is made from a tensor (not the weak
# reference to its AccumulateGrad node, which belongs to the one leaf, nor the no-grad-view mark, set only on some
# views, nor __weakref__)
_STATE_SLOTS = tuple(n for n in Tensor.__slots__ if n not in ("_acc", "_ngv", "__weakref__"))


def _wrap_dim(dim, ndim):
    if not isinstance(dim, (int, np.integer)):
        raise TypeError(f"dim must be an int, got {type(dim).__name__}")
    n = max(ndim, 1)
    if dim < -n or dim >= n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return int(dim) % n


__all__ += ["CPU"]
