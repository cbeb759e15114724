"""``Function``: a differentiable op with ``forward(ctx, ...)`` and ``backward(ctx, grad)``; its ctx is the graph node."""
from ..tensor import Tensor
from .grad_mode import _state


class _Saved:
    """A tensor saved for backward, with the version it had then (in-place changes after saving are errors)."""

    __slots__ = ("tensor", "version")

    def __init__(self, t):
        self.tensor = t
        self.version = t._vc.value if t is not None else 0


class Node:
    """A node of the backward graph. ``next_functions`` holds one ``(node, 0)`` edge per forward input."""

    _released = False
    _retained = None
    _pre_hooks = None
    _n_outputs = 1
    next_functions = ()

    def name(self):
        return type(self).__name__ + "Backward0"

    def __repr__(self):
        return f"<{self.name()} object at {hex(id(self))}>"

    def _retain(self, tensor):
        import weakref
        self._retained = weakref.ref(tensor)

    def register_hook(self, fn):
        raise RuntimeError("hooks on graph nodes are not supported; use Tensor.register_hook")


class AccumulateGrad(Node):
    """Leaf sink: adds the incoming gradient into ``variable.grad``."""

    __slots__ = ("variable",)

    def __init__(self, variable):
        self.variable = variable

    def name(self):
        return "AccumulateGrad"


class _NoInputsNeedGrad(tuple):
    def __getitem__(self, i):
        return False


class FunctionCtx:
    """Stand-in ctx for calls that record nothing (grad disabled, or no input requires grad)."""

    needs_input_grad = _NoInputsNeedGrad()

    def save_for_backward(self, *tensors):
        pass

    def mark_non_differentiable(self, *tensors):
        pass

    def mark_dirty(self, *tensors):
        pass

    def set_materialize_grads(self, value):
        pass


_NO_CTX = FunctionCtx()


class Function(Node):
    """Subclass with static ``forward(ctx, *args)`` and ``backward(ctx, *grads)``; call ``Cls.apply(*args)``.

    ``backward`` returns one gradient per ``forward`` argument (None for non-tensors or inputs that need none).
    Gradients are written with Tensor ops, so one backward serves every device and supports ``create_graph``.
    """

    def __init__(self, *args, **kwargs):
        self._saved = ()
        self._non_diff = None

    # ctx API -------------------------------------------------------------------------------------------------
    def save_for_backward(self, *tensors):
        self._saved = tuple(_Saved(t) for t in tensors)

    @property
    def saved_tensors(self):
        if self._released:
            raise RuntimeError(
                "Trying to backward through the graph a second time (or directly access saved tensors after they "
                "have already been freed). Saved intermediate values of the graph are freed when you call "
                ".backward() or autograd.grad(). Specify retain_graph=True if you need to backward through the "
                "graph a second time or if you need to access saved tensors after calling backward.")
        out = []
        for s in self._saved:
            t = s.tensor
            if t is not None and t._vc.value != s.version:
                raise RuntimeError(
                    "one of the variables needed for gradient computation has been modified by an inplace "
                    f"operation: [{_type_name(t)} {list(t._shape)}], which is output 0 of {self.name()}, is at "
                    f"version {t._vc.value}; expected version {s.version} instead. Hint: the backtrace further "
                    "above can show the operation that failed to compute its gradient.")
            out.append(t)
        return tuple(out)

    def mark_non_differentiable(self, *tensors):
        self._non_diff = set(id(t) for t in tensors)

    def mark_dirty(self, *tensors):
        pass

    def set_materialize_grads(self, value):
        pass

    def _release(self):
        self._saved = ()
        self._released = True

    # apply ---------------------------------------------------------------------------------------------------
    @classmethod
    def apply(cls, *args):
        if _state["enabled"]:
            needs = tuple(isinstance(a, Tensor) and a._requires_grad for a in args)
            if True in needs:
                return _record(cls, args, needs)
        return cls.forward(_NO_CTX, *args)


def _record(cls, args, needs):
    ctx = cls.__new__(cls)
    ctx._saved = ()
    ctx._non_diff = None
    ctx.needs_input_grad = needs
    _state["enabled"] = False
    try:
        out = cls.forward(ctx, *args)
    finally:
        _state["enabled"] = True
    edges = []
    meta = []
    for a, n in zip(args, needs):
        if n:
            fn = a._grad_fn
            edges.append((fn if fn is not None else AccumulateGrad(a), 0))
            meta.append((a._shape, a._dtype))
        else:
            edges.append((None, 0))
            meta.append(None)
    ctx.next_functions = tuple(edges)
    ctx._input_meta = meta
    outs = out if isinstance(out, tuple) else (out,)
    for o in outs:
        if isinstance(o, Tensor) and o._dtype.is_floating_point and \
                (ctx._non_diff is None or id(o) not in ctx._non_diff):
            o._requires_grad = True
            o._grad_fn = ctx
            ctx._out_meta = (o._shape, o._dtype, o._device)
    return out


def _type_name(t):
    prefix = "torch.cuda." if t._device.type == "cuda" else "torch."
    return prefix + t._dtype.legacy + "Tensor"


class _HookNode(Node):
    """Identity over several tensors as ONE graph node, so one backward call sees all their gradients at once
    (``nn.Module`` full backward hooks). ``on_grads(grads)`` gets a tuple (None where no gradient arrived) and may
    return replacements."""

    def __init__(self, tensors, on_grads):
        self._on_grads = on_grads
        self._n_outputs = len(tensors)
        edges, meta = [], []
        for t in tensors:
            if t._requires_grad:
                edges.append((t._grad_fn if t._grad_fn is not None else AccumulateGrad(t), 0))
                meta.append((t._shape, t._dtype))
            else:
                edges.append((None, 0))
                meta.append(None)
        self.next_functions = tuple(edges)
        self._input_meta = meta

    def name(self):
        return "BackwardHookFunctionBackward"

    def _release(self):
        pass

    @staticmethod
    def backward(self, *grads):
        out = self._on_grads(tuple(grads))
        return tuple(grads) if out is None else tuple(out)

    @classmethod
    def wrap(cls, tensors, on_grads):
        """Aliases of ``tensors`` whose gradients flow through one new node; tensors without grad pass as they are."""
        node = cls(tensors, on_grads)
        out = []
        for i, t in enumerate(tensors):
            if not t._requires_grad:
                out.append(t)
                continue
            a = t.detach()
            a._requires_grad = True
            a._grad_fn = _HookOutput(node, i, t)
            out.append(a)
        return out


class _HookOutput(Node):
    """Output ``i`` of a ``_HookNode``: forwards its gradient into that node's slot ``i``."""

    def __init__(self, node, i, t):
        self.next_functions = ((node, i),)
        self._input_meta = [(t._shape, t._dtype)]

    def name(self):
        return "BackwardHookFunctionBackward"

    def _release(self):
        pass

    @staticmethod
    def backward(self, g):
        return (g,)
