"""``nn.Parameter``: a Tensor that a Module registers as a learnable parameter."""
from ..tensor import _STATE_SLOTS, LAYOUT_EPOCH, Tensor


class Parameter(Tensor):
    """A leaf tensor (sharing ``data``'s storage) that ``Module`` picks up as a parameter.

    Example::

        >>> w = nn.Parameter(minitorch.zeros(3))
        >>> w.requires_grad
        True
    """

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            from ..creation import empty
            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Parameter data must be a Tensor, got {type(data).__name__}")
        p = object.__new__(cls)
        src = data.detach()
        for name in _STATE_SLOTS:
            setattr(p, name, getattr(src, name))
        p._requires_grad = False
        p._grad = None
        p._grad_fn = None
        p.requires_grad_(requires_grad)
        return p

    def __init__(self, data=None, requires_grad=True):
        pass

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, protocol):
        return (_rebuild_parameter, (self.detach(), self._requires_grad))


def _rebuild_parameter(data, requires_grad):
    return Parameter(data, requires_grad)


# ---------------------------------------------------------------------------------------------------------------
# nn.Buffer and the uninitialised parameters/buffers of lazy modules
# ---------------------------------------------------------------------------------------------------------------
def _copy_slots(dst, src):
    for name in _STATE_SLOTS:
        setattr(dst, name, getattr(src, name))
    return dst


def _plain(t):
    """A plain Tensor sharing ``t``'s storage, view, autograd state and version counter."""
    return _copy_slots(object.__new__(Tensor), t)


class Buffer(Tensor):
    """Marks a tensor as a module buffer: ``self.x = nn.Buffer(t, persistent=True)`` registers ``t`` as
    ``register_buffer("x", t, persistent)`` does (the module then holds a plain Tensor sharing ``t``'s storage).

    Example::

        >>> class M(nn.Module):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.steps = nn.Buffer(minitorch.zeros(()))
        >>> list(M().state_dict())
        ['steps']
    """

    def __new__(cls, data=None, *, persistent=True):
        if data is None:
            from ..creation import empty
            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Buffer data must be a Tensor, got {type(data).__name__}")
        b = _copy_slots(object.__new__(cls), data.detach())
        b.requires_grad_(data.requires_grad)
        b.persistent = persistent
        return b

    def __init__(self, data=None, *, persistent=True):
        pass


_UNINIT_SHAPE = ("Can't access the shape of an uninitialized parameter or buffer. This error usually happens in "
                 "`load_state_dict` when trying to load an uninitialized parameter into an initialized one. Call "
                 "`forward` to initialize the parameters before accessing their attributes.")
# what may touch an uninitialised tensor: module registration, moves and casts (Module.to, .cuda(), .double()
# on a lazy module change the dtype/device it will be materialised with), state_dict and materialize itself
_UNINIT_ALLOWED = frozenset(("materialize", "requires_grad_", "to", "cuda", "cpu", "half", "float", "double",
                             "bfloat16", "is_floating_point", "is_complex", "get_device", "detach", "type",
                             "is_leaf", "requires_grad", "grad", "grad_fn", "device", "dtype", "data", "is_cuda",
                             "persistent", "cls_to_become", "register_hook", "retains_grad", "share_memory_",
                             "size", "ndim"))


class UninitializedTensorMixin:
    """Shared behaviour of the tensors that lazy modules create before they know their shape: ``materialize``
    gives them storage (in place, so that an optimizer built earlier keeps working) and turns them into
    ``cls_to_become``; until then any use of their values or shape is an error."""
    __slots__ = ()
    cls_to_become = None

    def __getattribute__(self, name):
        if name[:1] != "_" and name not in _UNINIT_ALLOWED:
            if name == "shape":
                raise RuntimeError(_UNINIT_SHAPE)
            if callable(getattr(Tensor, name, None)):
                raise ValueError(f"Attempted to use an uninitialized parameter in <method '{name}' of 'minitorch."
                                 "Tensor' objects>. This error happens when "
                                 "you are using a `LazyModule` or explicitly manipulating `torch.nn.parameter."
                                 "UninitializedParameter` objects. When using LazyModules Call `forward` with a "
                                 "dummy batch to initialize the parameters before calling torch functions")
        return object.__getattribute__(self, name)

    def materialize(self, shape, device=None, dtype=None):
        """Give the tensor uninitialised storage of ``shape`` (on ``device``, of ``dtype``: by default the ones it
        was created or moved with) and make it a ``cls_to_become``."""
        from ..creation import empty
        device = self.device if device is None else device
        dtype = self.dtype if dtype is None else dtype
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        data = empty(shape, device=device, dtype=dtype)
        for name in ("_storage", "_shape", "_stride", "_offset", "_dtype", "_device", "_contig"):
            setattr(self, name, getattr(data, name))
        LAYOUT_EPOCH[0] += 1
        self.__class__ = self.cls_to_become

    def _converted(self, method, *args, **kwargs):
        """A move/cast keeps the tensor uninitialised: only the device/dtype it will be materialised with change."""
        t = getattr(Tensor, method)(_plain(self), *args, **kwargs)
        if not isinstance(t, Tensor):
            return t
        out = _copy_slots(object.__new__(type(self)), t.detach())
        out._requires_grad = object.__getattribute__(self, "_requires_grad")
        out._grad, out._grad_fn = None, None
        if "persistent" in self.__dict__:
            out.persistent = self.persistent
        return out

    def detach(self):
        out = object.__new__(type(self))
        _copy_slots(out, self)
        out._requires_grad, out._grad, out._grad_fn = False, None, None
        if "persistent" in self.__dict__:
            out.persistent = self.persistent
        return out

    def __repr__(self):
        return f"<{type(self).__name__}>"

    def _args(self):
        args = (self._requires_grad, self.device, self.dtype)
        return args + (self.persistent,) if "persistent" in self.__dict__ else args

    def __reduce_ex__(self, protocol):
        return (type(self), self._args())

    def __deepcopy__(self, memo):
        if id(self) not in memo:
            memo[id(self)] = type(self)(*self._args())
        return memo[id(self)]


def _refuse(name):
    def op(self, *args, **kwargs):
        raise ValueError(f"Attempted to use an uninitialized parameter in <method '{name}' of 'minitorch.Tensor' "
                         "objects>. This error happens when you are "
                         "using a `LazyModule` or explicitly manipulating `torch.nn.parameter.UninitializedParameter` "
                         "objects. When using LazyModules Call `forward` with a dummy batch to initialize the "
                         "parameters before calling torch functions")
    op.__name__ = name
    return op


# operators bypass __getattribute__, so they refuse explicitly
for _name in ("__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__", "__rtruediv__",
              "__matmul__", "__rmatmul__", "__pow__", "__rpow__", "__neg__", "__getitem__", "__setitem__",
              "__iadd__", "__isub__", "__imul__", "__itruediv__", "__lt__", "__le__", "__gt__", "__ge__",
              "__len__", "__iter__", "__bool__", "__float__", "__int__", "__array__"):
    setattr(UninitializedTensorMixin, _name, _refuse(_name))
UninitializedTensorMixin.__hash__ = object.__hash__


def _mover(name):
    def op(self, *args, **kwargs):
        return self._converted(name, *args, **kwargs)
    op.__name__ = name
    return op


for _name in ("to", "cuda", "cpu", "half", "float", "double", "bfloat16", "type"):
    setattr(UninitializedTensorMixin, _name, _mover(_name))


class UninitializedParameter(UninitializedTensorMixin, Parameter):
    """A parameter whose shape is not known yet (lazy modules); ``materialize(shape)`` turns it into a
    ``Parameter``.

    Example::

        >>> p = nn.UninitializedParameter()
        >>> p.materialize((2, 3))
        >>> type(p).__name__, p.shape
        ('Parameter', minitorch.Size([2, 3]))
    """
    cls_to_become = Parameter

    def __new__(cls, requires_grad=True, device=None, dtype=None):
        from ..creation import empty
        return Parameter.__new__(cls, empty(0, device=device, dtype=dtype), requires_grad)

    def __init__(self, requires_grad=True, device=None, dtype=None):
        pass


class _MaterializedBuffer(Tensor):
    """What an ``UninitializedBuffer`` becomes in place; lazy modules swap it for a plain Tensor sharing its
    storage right after initialisation (a Tensor has no room for the buffer's ``persistent`` flag)."""


class UninitializedBuffer(UninitializedTensorMixin, Tensor):
    """A buffer whose shape is not known yet (lazy modules); ``materialize(shape)`` gives it storage."""
    cls_to_become = _MaterializedBuffer

    def __new__(cls, requires_grad=False, device=None, dtype=None, persistent=True):
        from ..creation import empty
        b = _copy_slots(object.__new__(cls), empty(0, device=device, dtype=dtype))
        b._requires_grad, b._grad, b._grad_fn = False, None, None
        if requires_grad:
            b.requires_grad_(True)
        b.persistent = persistent
        return b

    def __init__(self, requires_grad=False, device=None, dtype=None, persistent=True):
        pass


def is_lazy(param):
    """True for an ``UninitializedParameter`` or ``UninitializedBuffer`` that is not materialised yet."""
    return isinstance(param, UninitializedTensorMixin)
