"""Running a graph: each node's target is called with the tensors the earlier nodes made, in capture order.

A ``Program`` is a graph prepared for replay: every argument position is resolved ahead of time to a slot of a flat
environment list, and each slot is cleared after its last use so intermediate tensors are freed as early as eager
mode frees them. Differentiable nodes replay through ``Function.apply``, so autograd records them exactly as in
eager mode; nodes captured inside a ``no_grad`` region replay under ``no_grad``.
"""
from ..autograd.grad_mode import _state
from ..tensor import LAYOUT_EPOCH
from .ir import Value, leaves, map_tree


class _Ref:
    """An argument position that takes a slot of the environment."""

    __slots__ = ("slot",)

    def __init__(self, slot):
        self.slot = slot


class _Const:
    """Keyword arguments without graph values: passed as they are."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


def _plan(tree, slots):
    """The argument structure with each Value as a _Ref to its slot."""
    return map_tree(lambda a: _Ref(slots[a]) if isinstance(a, Value) else a, tree)


def _fill(tree, env):
    return map_tree(lambda a: env[a.slot] if type(a) is _Ref else a, tree)


def _has_ref(tree):
    if type(tree) is _Ref:
        return True
    if isinstance(tree, (tuple, list)):
        return any(_has_ref(x) for x in tree)
    if isinstance(tree, dict):
        return any(_has_ref(x) for x in tree.values())
    return False


def _is_flat(tree):
    """Whether every graph value among the arguments is a whole argument (a nested argument without one, such as a
    shape, is passed as it is)."""
    return all(type(x) is _Ref or not _has_ref(x) for x in tree)


def _bind(tree, obj, env):
    if type(tree) is _Ref:
        env[tree.slot] = obj
    elif isinstance(tree, (tuple, list)):
        for t, o in zip(tree, obj):
            _bind(t, o, env)
    elif isinstance(tree, dict):
        for k, t in tree.items():
            _bind(t, obj[k], env)


class Program:
    """A graph ready to run: ``program(flat_input_tensors)`` gives the call's result."""

    def __init__(self, graph):
        self.graph = graph
        slots = {}
        for v in graph.inputs:
            slots[v] = len(slots)
        for v in graph.consts:
            slots[v] = len(slots)
        for n in graph.nodes:
            for v in n.outputs:
                slots[v] = len(slots)
        self.n_slots = len(slots)
        self.n_inputs = len(graph.inputs)
        self.consts = [(slots[v], v.tensor) for v in graph.consts]
        # what the graph took each constant tensor to be: one the code reads from outside the call (a global, a
        # closure variable) can be given another shape, dtype or memory between calls (``w.data = ...``)
        self.const_meta = [(t, t._storage, _meta(t)) for _, t in self.consts]
        self.layout_seen = LAYOUT_EPOCH[0]  # (the constants are checked again only after a layout change)
        self.guard_consts = True  # False for a compiled backward (its forward checked them)
        keep = {slots[v] for v in graph.outputs()} | {slots[v] for v in graph.consts}
        last = {}
        for i, n in enumerate(graph.nodes):
            for v in n.inputs():
                last[slots[v]] = i
        frees = [[] for _ in graph.nodes]
        for s, i in last.items():
            if s not in keep:
                frees[i].append(s)
        self.steps = []
        for i, n in enumerate(graph.nodes):
            args = _plan(n.args, slots)
            kwargs = _plan(n.kwargs, slots)
            if kwargs and not _has_ref(kwargs):
                kwargs = _Const(kwargs)
            flat_args = [a.slot if type(a) is _Ref else None for a in args] if _is_flat(args) else None
            simple_out = isinstance(n.out_tree, Value)
            out = slots[n.out_tree] if simple_out else _plan(n.out_tree, slots)
            w = _written_value(n)
            self.steps.append((n.target, args, flat_args, kwargs or None, simple_out, out, n.grad_mode,
                               tuple(frees[i]), slots[w] if w is not None else None))
        self.output = _plan(graph.output_tree, slots)

    def __call__(self, inputs, no_grad=False):
        """Run the graph on ``inputs`` (flat tensors in graph-input order). ``no_grad`` runs every node without
        autograd (the forward of a graph whose backward is compiled too)."""
        if self.layout_seen != LAYOUT_EPOCH[0] and self.guard_consts:
            self._check_consts()
        env = [None] * self.n_slots
        env[:self.n_inputs] = inputs
        for s, t in self.consts:
            env[s] = t
        grad = _state.enabled
        if no_grad:
            _state.enabled = False
            try:
                return self._run(env, False, True)
            finally:
                _state.enabled = grad
        return self._run(env, grad, False)

    def _check_consts(self):
        for t, st, m in self.const_meta:
            if t._storage is not st or (t._shape, t._stride, t._offset, t._dtype, t._device) != m:
                from .capture import ConstantChanged
                raise ConstantChanged("a constant tensor's shape, dtype or memory changed since the capture")
        self.layout_seen = LAYOUT_EPOCH[0]

    def _run(self, env, grad, fixed):
        for target, args, flat, kwargs, simple_out, out, grad_mode, frees, bump in self.steps:
            if flat is not None:
                a = [env[s] if s is not None else x for s, x in zip(flat, args)]
            else:
                a = _fill(args, env)
            if kwargs is not None:
                kw = kwargs.value if type(kwargs) is _Const else _fill(kwargs, env)
            if not fixed and grad_mode is not None and grad_mode != grad:
                _state.enabled = grad_mode
                try:
                    r = target(*a, **kw) if kwargs is not None else target(*a)
                finally:
                    _state.enabled = grad
            else:
                r = target(*a, **kw) if kwargs is not None else target(*a)
            if simple_out:
                env[out] = r
            else:
                _bind(out, r, env)
            if bump is not None:
                env[bump]._vc[0] += 1  # (an in-place write: the tensor's version goes up as in eager mode)
            for s in frees:
                env[s] = None
        return _fill(self.output, env)


def _written_value(n):
    """The value a launcher node writes into in place (``out=``, or the tensor a filling launcher writes), or None."""
    if n.kind != "launcher":
        return None
    from .capture import _WRITES
    w = n.kwargs.get("out") if isinstance(n.kwargs, dict) else None
    if w is None:
        pos = _WRITES.get(n.name)
        w = n.args[pos] if pos is not None and len(n.args) > pos else None
    return w if isinstance(w, Value) else None


def _meta(t):
    return (t._shape, t._stride, t._offset, t._dtype, t._device)


def flat_tensors(args, kwargs):
    """The call's tensor arguments in capture order (each tensor once)."""
    from ..tensor import Tensor
    out, seen = [], set()
    for t in leaves((args, kwargs)):
        if isinstance(t, Tensor) and id(t) not in seen:
            seen.add(id(t))
            out.append(t)
    return out
