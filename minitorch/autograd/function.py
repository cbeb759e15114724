"""``Function``: a differentiable op with ``forward(ctx, ...)`` and ``backward(ctx, grad)``; its ctx is the graph node."""
import weakref

from ..tensor import Tensor
from ._names import NAMES_FROM_ARGS
from .grad_mode import _state


# saved-tensor hooks (autograd.graph.saved_tensors_hooks): a stack of (pack, unpack); "disabled" holds the error
# message of an active disable_saved_tensors_hooks
_SAVED_HOOKS = {"stack": [], "disabled": None}
_ANOMALY = {"enabled": False, "check_nan": True}
# the recording profiler (autograd.profiler._Recorder) or None: the one check an op pays when none records
_PROFILE = [None]


class _Saved:
    """A tensor saved for backward, with the version it had then (in-place changes after saving are errors)."""

    __slots__ = ("tensor", "version")

    def __init__(self, t):
        self.tensor = t
        self.version = t._vc[0] if t is not None else 0


_SAVED_NONE = _Saved(None)  # every absent saved tensor (nothing writes a _Saved after it is made)


class _PackedSaved:
    """A tensor saved under saved_tensors_hooks: ``pack(tensor)`` is kept, ``unpack`` gives it back."""

    __slots__ = ("tensor", "version", "vc", "shape", "unpack")

    def __init__(self, t, pack, unpack):
        self.vc, self.version, self.shape = t._vc, t._vc[0], t._shape
        self.tensor = pack(t)
        self.unpack = unpack

    def get(self, node):
        from ..tensor import Tensor
        stale = self.vc[0] != self.version
        t = self.unpack(self.tensor)
        if not isinstance(t, Tensor):
            raise TypeError("Output of saved tensor unpack_hook expected to be a Tensor but got result of type "
                            f"{type(t).__name__}")
        if stale:
            _modified(t, self.vc[0], self.version, self.shape, node.name())
        return t


def _modified(t, now, then, shape, name):
    raise RuntimeError(
        "one of the variables needed for gradient computation has been modified by an inplace operation: "
        f"[{_type_name(t)} {list(shape)}], which is output 0 of {name}, is at version {now}; expected version "
        f"{then} instead. Hint: the backtrace further above can show the operation that failed to compute its "
        "gradient.")


class _NodeHandle:
    """Removable handle returned by Node.register_hook / register_prehook."""

    def __init__(self, hooks, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self):
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


class Node:
    """A node of the backward graph (``torch.autograd.graph.Node``).

    ``next_functions`` holds one ``(node, 0)`` edge per differentiable tensor input of the forward call:
    ``AccumulateGrad`` for a leaf that requires grad, ``None`` for an input that needs no gradient.
    """

    _released = False
    _retained = None
    _n_outputs = 1          # several for module backward-hook nodes: one gradient slot per output
    _pre_hooks = None       # tensor hooks of the output (Tensor.register_hook): grad -> grad
    _node_prehooks = None   # register_prehook: grad_outputs -> grad_outputs
    _node_hooks = None      # register_hook: (grad_inputs, grad_outputs) -> grad_inputs
    _edges = ()
    _mask_cache = False
    _input_meta = ()
    _args = None
    _trace = None
    _metadata = None

    def name(self):
        from ._names import node_name
        return node_name(self)

    @property
    def next_functions(self):
        mask = self._edge_mask
        if mask is None:
            return tuple(self._edges)
        return tuple(e for e, keep in zip(self._edges, mask) if keep)

    @property
    def _edge_mask(self):
        # computed on demand: recording stays as cheap as before next_functions was shaped like PyTorch's
        if self._mask_cache is False:
            self._mask_cache = edge_mask(self)
        return self._mask_cache

    @property
    def metadata(self):
        """A dict for the user's own annotations of this node."""
        if self._metadata is None:
            self._metadata = {}
        return self._metadata

    def __repr__(self):
        return f"<{self.name()} object at {hex(id(self))}>"

    def _retain(self, tensor):
        import weakref
        self._retained = weakref.ref(tensor)

    def register_hook(self, fn):
        """``fn(grad_inputs, grad_outputs)`` runs after this node computes its input gradients; a non-None return
        replaces ``grad_inputs``."""
        if self._node_hooks is None:
            self._node_hooks = []
        self._node_hooks.append(fn)
        return _NodeHandle(self._node_hooks, fn)

    def register_prehook(self, fn):
        """``fn(grad_outputs)`` runs before this node's backward; a non-None return replaces ``grad_outputs``."""
        if self._node_prehooks is None:
            self._node_prehooks = []
        self._node_prehooks.append(fn)
        return _NodeHandle(self._node_prehooks, fn)


class AccumulateGrad(Node):
    """Leaf sink: adds the incoming gradient into ``variable.grad``. One node per leaf while the graph lives."""

    def __init__(self, variable):
        self.variable = variable
        self._input_meta = ()

    def name(self):
        return "torch::autograd::AccumulateGrad"


def grad_accumulator(t):
    """The AccumulateGrad node of leaf ``t`` (created on first use, alive as long as a graph refers to it): every
    op using the leaf shares one node, as in PyTorch. The leaf keeps a weak reference to it in ``_acc``."""
    try:
        node = t._acc()
    except AttributeError:  # never asked for (the slot is unset)
        node = None
    if node is None or node.variable is not t:
        node = AccumulateGrad(t)
        t._acc = weakref.ref(node)
    return node


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
        hooks = _SAVED_HOOKS["stack"]
        if hooks:
            pack, unpack = hooks[-1]
            self._saved = tuple(_SAVED_NONE if t is None else _PackedSaved(t, pack, unpack) for t in tensors)
        else:
            self._saved = tuple([_SAVED_NONE if t is None else _Saved(t) for t in tensors])

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
            if type(s) is _Saved:
                t = s.tensor
                if t is not None and t._vc[0] != s.version:
                    _modified(t, t._vc[0], s.version, t._shape, self.name())
                out.append(t)
            else:
                out.append(s.get(self))
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
        if _PROFILE[0] is not None:
            return _PROFILE[0].function(cls, args, _apply)
        # the body of _apply, written out: one Python call less on every op's path
        if _state.enabled:
            for a in args:
                if isinstance(a, Tensor) and a._requires_grad:
                    return _record(cls, args, tuple([isinstance(a, Tensor) and a._requires_grad for a in args]))
        if cls._new_style:
            return cls.forward(*args)
        return cls.forward(_NO_CTX, *args)

    _new_style = False  # forward takes no ctx; setup_context fills it (set per subclass below)
    _names_from_args = False  # the node's name reads its forward arguments (set per subclass below)
    _saved = ()
    _non_diff = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._new_style = cls.setup_context is not Function.setup_context
        cls._names_from_args = cls.__name__ in NAMES_FROM_ARGS

    @staticmethod
    def setup_context(ctx, inputs, output):
        """Override (with a ``forward(*args)`` that takes no ctx) to fill ``ctx`` after the forward, as in
        PyTorch 2: ``inputs`` is the tuple of forward arguments, ``output`` what forward returned."""
        raise NotImplementedError("setup_context is not implemented.")


def _apply(cls, args):
    """``Function.apply`` without the profiler check (the profiler wraps this in an event)."""
    if _state.enabled:
        needs = tuple(isinstance(a, Tensor) and a._requires_grad for a in args)
        if True in needs:
            return _record(cls, args, needs)
    if cls._new_style:
        return cls.forward(*args)
    return cls.forward(_NO_CTX, *args)


# positions of optional tensor arguments that PyTorch lists as (None, 0) edges when absent (conv's bias)
_OPTIONAL_TENSOR_ARGS = {"Conv2d": (2,)}
_MASK_ADJUSTED = {"Clamp", "_Inv", "_Det", "_LogAbsDet", "_Cholesky", "_Solve", "_EighValues", "_EighVectors",
                  "_SvdPart", "_QrPart", "_Pinv"}
_NO_EDGE = (None, 0)


def edge_mask(node):
    """Which recorded edges PyTorch's next_functions show: differentiable tensor inputs (every tensor for custom
    Functions), plus absent optional tensors; None when that is all of them. Read off the recorded metadata."""
    cls = type(node)
    builtin = cls.__module__.startswith("minitorch.")
    optional = _OPTIONAL_TENSOR_ARGS.get(cls.__name__, ()) if builtin else ()
    mask = []
    for i, m in enumerate(node._input_meta):
        if m is not None:
            mask.append(not builtin or m[1].is_floating_point or m[1].is_complex)
        else:
            mask.append(i in optional)
    if builtin and (cls.__name__ in _MASK_ADJUSTED or getattr(cls, "op", None) in ("sub", "pow")):
        from ._names import adjust_edge_mask
        mask = adjust_edge_mask(node, mask)
    return None if all(mask) else mask


def _record(cls, args, needs):
    ctx = cls.__new__(cls)  # _saved and _non_diff start as the class defaults
    ctx.needs_input_grad = needs
    _state.enabled = False
    try:
        if cls._new_style:
            out = cls.forward(*args)
            cls.setup_context(ctx, args, out)
        else:
            out = cls.forward(ctx, *args)
    finally:
        _state.enabled = True
    edges = []
    meta = []
    for a, n in zip(args, needs):
        if n:
            fn = a._grad_fn
            if a._base is not None and a._gv != a._vc[0] and fn is not None:
                fn = refresh_view(a)
            edges.append((fn if fn is not None else grad_accumulator(a), 0))
            meta.append((a._shape, a._dtype))
        else:
            edges.append(_NO_EDGE)
            meta.append((a._shape, a._dtype) if isinstance(a, Tensor) else None)
    ctx._edges = tuple(edges)
    ctx._input_meta = meta
    if cls._names_from_args:
        ctx._args = (None,) + args[1:]  # these Functions take one tensor, first; the rest names the op
    if _ANOMALY["enabled"]:
        ctx._trace = _forward_trace()
    outs = out if isinstance(out, tuple) else (out,)
    for o in outs:
        if isinstance(o, Tensor) and o._dtype.is_floating_point and \
                (ctx._non_diff is None or id(o) not in ctx._non_diff):
            o._requires_grad = True
            o._grad_fn = ctx
            ctx._out_meta = (o._shape, o._dtype, o._device)
    return out


def refresh_view(view):
    """A view whose base was written in place since the view's history was recorded (through a sibling view, or
    the base itself) reads the new values: its history becomes an as_strided of the base's current history, as in
    PyTorch. ``view._gv`` holds the version its history is current for. Returns the new grad_fn."""
    from ..ops.contraction import AsStrided
    base = view._base
    enabled = _state.enabled
    _state.enabled = True
    try:
        fresh = AsStrided.apply(base, view._shape, view._stride, view._offset) if base._requires_grad else None
    finally:
        _state.enabled = enabled
    view._gv = view._vc[0]
    if fresh is not None:
        old = view._grad_fn
        view._grad_fn = fresh._grad_fn
        if view._hooks:
            fresh._grad_fn._pre_hooks = list(view._hooks)
        kept = getattr(old, "_retained", None)
        if kept is not None and kept() is view:  # retain_grad() moves to the new history, as in PyTorch
            old._retained = None
            fresh._grad_fn._retain(view)
    return view._grad_fn


def _forward_trace():
    """The caller's stack as traceback lines, without minitorch's own frames (anomaly mode prints it)."""
    import os
    import traceback
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    frames = traceback.extract_stack()
    while frames and os.path.abspath(frames[-1].filename).startswith(root + os.sep):
        frames.pop()
    return traceback.format_list(frames)


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
                fn = t.grad_fn  # (the property: a view refreshes its history first)
                edges.append((fn if fn is not None else AccumulateGrad(t), 0))
                meta.append((t._shape, t._dtype))
            else:
                edges.append((None, 0))
                meta.append(None)
        self._edges = tuple(edges)
        self._mask_cache = None  # next_functions shows every edge
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
        self._edges = ((node, i),)
        self._mask_cache = None
        self._input_meta = [(t._shape, t._dtype)]

    def name(self):
        return "BackwardHookFunctionBackward"

    def _release(self):
        pass

    @staticmethod
    def backward(self, g):
        return (g,)


class _DelayedError(Function):
    """Stands between a once_differentiable backward's results and the graph: differentiating it raises."""

    @staticmethod
    def forward(ctx, msg, x):
        ctx.msg = msg
        return x.detach()

    @staticmethod
    def backward(ctx, g):
        raise RuntimeError(ctx.msg.decode() if isinstance(ctx.msg, bytes) else ctx.msg)


def once_differentiable(fn):
    """Decorate a Function's ``backward`` that is not itself differentiable: it runs without recording, and a
    double backward through its results raises RuntimeError instead of silently giving wrong gradients."""
    import functools

    @functools.wraps(fn)
    def wrapper(ctx, *grads):
        from .grad_mode import no_grad
        with no_grad():
            outputs = fn(ctx, *grads)
        if not _state.enabled:
            return outputs
        if not any(isinstance(g, Tensor) and g._requires_grad for g in grads):
            return outputs
        msg = "trying to differentiate twice a function that was marked with @once_differentiable"
        # the error node hangs off detached stand-ins: a backward that reaches it raises, autograd.grad towards
        # other inputs never runs it (PyTorch behaves the same)
        wrap = lambda o: _DelayedError.apply(msg, o.detach().requires_grad_(True)) \
            if isinstance(o, Tensor) and o.is_floating_point() else o  # noqa: E731
        return tuple(wrap(o) for o in outputs) if isinstance(outputs, tuple) else wrap(outputs)
    return wrapper
