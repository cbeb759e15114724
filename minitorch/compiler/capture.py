"""Graph capture: run a call once with every op it makes from the user's code recorded into a ``Graph``.

The capture is the eager run of the call (its results are the first call's results): a recorder sits in the
dispatch hook the profiler uses and, at the outermost level only (an op called from the user's code, not from
inside another op), records

- every differentiable primitive (``Function.apply``) with all its arguments;
- every public ``nn.functional`` function, as one node (batch_norm, cross_entropy replay whole: running-statistics
  updates on every call), except dropout (its mask drawn by a recorded launcher, fresh on every call) and silu
  unless in place, which are recorded op by op;
- every kernel launcher called outside a primitive (comparisons, fills, random draws, in-place updates of buffers,
  ``empty``), so tensors made inside the call are fresh on every replay;
- recurrent layers (``nn.RNN/LSTM/GRU``) as one module node;
- views made without autograd of a tensor of the graph, and tensors the call made outside the recorded layers
  (``zeros``, ``tensor([...])``), which replay as fresh copies of their captured value;
- optimizer steps (one node each, replayed through the optimizer's ``step``).

Ops recorded whole that take part in autograd also list the autograd contexts they made as extra outputs
(``CtxValue``), for a compiled backward that calls those contexts' backwards (compiler/joint.py).

Parameters, buffers and tensors that existed before the call are read by reference. Anything the graph could not
replay faithfully is a graph break: reading a value on the host (``.item()``, ``bool(t)``, ``.tolist()``,
printing, ``.numpy()``), a kernel started outside the recorded layers on a traced tensor, an in-place op on a
tensor that takes part in autograd, a backward pass inside the call. At a break the recording stops and the call
finishes eagerly.
"""
import gc
import os
import sys
import threading

import numpy as np

from ..autograd.function import _PROFILE, AccumulateGrad
from ..autograd.grad_mode import _state
from ..tensor import _EPOCH, HOST_READ, Size, Tensor, _make
from .ir import CtxValue, Graph, Node, SizeInt, Value, map_tree

_LAUNCH = "minitorch.ops.launch"
# nn.functional composites recorded op by op rather than whole (their pieces are all recordable, and the backward
# then reads values of the graph rather than tensors hidden inside one node)
_TRANSPARENT = {"dropout", "dropout1d", "dropout2d", "dropout3d"}
# composites of elementwise ops recorded op by op unless in place: they fuse, and a compiled backward recomputes
# their pieces instead of calling their contexts whole (``F.relu(x + 1) * 2`` is one kernel, as with torch.relu)
_ELEMENTWISE_COMPOSITES = {"silu", "relu", "tanh", "sigmoid"}
_PKG = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


class GraphBreak(Exception):
    """The capture met something it cannot put in a graph; ``reason`` says what and ``line`` where."""

    def __init__(self, reason, line=None):
        super().__init__(f"{reason}" + (f" (at {line})" if line else ""))
        self.reason = reason
        self.line = line
        self.frames = ()  # (code, line) of every frame at the break, innermost first

    @property
    def user_stack(self):
        """The frames of the program's own code at the break, outermost first (``traceback.FrameSummary``s)."""
        import traceback
        own = [traceback.FrameSummary(c.co_filename, n, c.co_name) for c, n in reversed(self.frames)
               if not os.path.abspath(c.co_filename).startswith(_PKG)]
        if not own and self.line:
            path, _, n = self.line.rpartition(":")
            own = [traceback.FrameSummary(path, int(n) if n.isdigit() else 0, "<unknown>")]
        return own


def user_line():
    """``file:line`` of the innermost frame outside minitorch (the user's code that called the op)."""
    f = sys._getframe(1)
    inside = _INSIDE
    while f is not None:
        name = f.f_code.co_filename
        own = inside.get(name)
        if own is None:
            own = inside[name] = os.path.abspath(name).startswith(_PKG)
        if not own:
            return f"{name}:{f.f_lineno}"
        f = f.f_back
    return None


_INSIDE = {}  # file name -> whether it is minitorch's (user_line runs per recorded op)


class CompileError(RuntimeError):
    """A call that ``fullgraph=True`` requires to be one graph is not (``torch._dynamo.exc.Unsupported``)."""


class _Event:
    """What the numba cache-load hook of the profiler expects back from ``begin``."""
    args = None


class _Recorder:
    """Installed as the dispatch hook (``autograd.function._PROFILE[0]``) while a call is captured."""

    profile_memory = False

    def __init__(self, names, fullgraph=False):
        self.fullgraph = fullgraph
        self.whole = None  # (capture: the functional calls recorded whole; None: all)
        self.cond_pred = False  # reading ``cond``'s predicate: a guard even with fullgraph (``cond_predicate``)
        self.broken = None
        self.graph = Graph()
        self.vals = {}       # id(tensor) -> Value
        self.storages = {}   # id(storage) -> (Value, tensor): tensors computed in the graph, for untracked views
        self.keep = []       # tensors whose ids are keys above (an id must not be reused while capturing)
        # recording a backward: the backward of a context made by a recorded op is one node (True), or one node for
        # the contexts whose ids are in a set and recorded op by op for the others (an empty set: all op by op)
        self.contexts = True
        self.in_ctx = None    # the context whose backward is being recorded op by op
        self.blame = {}       # id(constant made while recording a context's backward) -> that CtxValue
        self.raw = set()      # ids of the CtxValues whose backward started kernels outside the recorded ops
        self.of_backward = False  # recording a backward (compiler/joint.py); else a backward run is a break
        self.names = names   # id(parameter or buffer) -> its dotted name
        self.tracer = None   # the trace function watching the program's calls (_calls_watcher), when one is set
        self.outer = None    # the trace function set before the capture (a debugger's, a coverage tool's)
        self._depth = 0
        self.thread = threading.get_ident()  # the thread making the call (the only one recorded)
        self.modules = {}     # id -> every module the call ran (their state is checked before each replay)
        self.codes = {}       # (code, id of its module) -> (code, globals, the module whose method it is, or None)
        self.call_grad = False
        self.on_storage = {}  # id(storage) -> (Value, tensor) on it (a write into the storage makes them stale)
        self.writes = 0       # in-place writes recorded so far
        self.effects = 0      # ops recorded so far that change what outlives the call (no guard may follow them)
        # tensors whose storage is older than the call (``existed``) are read by reference (closures, globals); any
        # other tensor the recorded ops did not make was made by the call itself
        _EPOCH[0] += 1
        self.epoch = _EPOCH[0]
        self.met = []  # (tensor, version) of the older tensors the capture met, as first met (``_side_effects``)
        self.rng = _rng_state()  # (random numbers drawn inside an op: a side effect too)
        self.autocast = _autocast_state()
        self.python_effects = True  # False: an export, whose graph is not replayed by Python

    @property
    def depth(self):
        """How deep inside recorded ops and passed-through hooks the call is (0: in the program's code). Another
        thread's ops pass straight through (the hooks are process-wide; what another thread runs meanwhile is not
        the call's)."""
        return self._depth if threading.get_ident() == self.thread else 1 << 30

    @depth.setter
    def depth(self, n):
        self._depth = n
        if self.tracer is not None:  # the program's calls are watched outside ops only (their kernels' loading
            sys.settrace(self.outer if n else self.tracer)  # runs much Python)

    def existed(self, t):
        """Whether ``t``'s storage was made before the call (a storage born in an earlier capture epoch)."""
        vc = t._vc
        return len(vc) < 2 or vc[1] < self.epoch

    # values --------------------------------------------------------------------------------------------------
    def bind(self, t, v, computed=True):
        self.vals[id(t)] = v
        self.keep.append(t)
        self.on_storage.setdefault(id(t._storage), []).append((v, t))
        if computed:
            old = self.storages.get(id(t._storage))
            # the first tensor computed on a storage is the base of later untracked views of it; an in-place op
            # that writes that tensor (and hands the same tensor back) makes its new version the base
            if old is None or old[1] is t:
                self.storages[id(t._storage)] = (v, t)

    def add_input(self, t):
        self.met.append((t, t._vc[0]))
        v = Value("input", t, label=f"x{len(self.graph.inputs)}")
        v.rg = self.call_grad and t._requires_grad
        self.graph.inputs.append(v)
        self.bind(t, v)
        return v

    def stop(self, reason):
        """A graph break: with fullgraph an error; else the recording stops and the call goes on eagerly."""
        line = user_line()
        if self.fullgraph:
            raise CompileError(f"minitorch.compile(fullgraph=True): graph break: {reason}"
                               + (f" at {line}" if line else ""))
        self.broken = GraphBreak(reason, line)
        f, frames = sys._getframe(1), []
        while f is not None:
            frames.append((f.f_code, f.f_lineno))
            f = f.f_back
        self.broken.frames = frames  # where each caller was: the compiled function is cut at its own line
        self.depth = 1 << 30   # every hook passes straight through from now on

    def value(self, t):
        v = self.vals.get(id(t))
        if v is not None:
            return v
        base = self.storages.get(id(t._storage))
        if base is not None:
            return self._view(base, t)
        label = self.names.get(id(t))
        old = self.existed(t)
        if label is None and not old and not _scalar_constant(t):
            return self._made_here(t)
        if old:
            self.met.append((t, t._vc[0]))
        v = Value("const", t, label=label)
        v.rg = t._requires_grad
        self.graph.consts.append(v)
        if self.in_ctx is not None:
            self.blame[id(v)] = self.in_ctx
        if label is None and _scalar_constant(t):
            self.graph.private.add(id(v))
        self.bind(t, v, computed=False)
        return v

    def _made_here(self, t):
        """A tensor the call made outside the recorded ops (``zeros``, ``tensor([...])``): its value then depends
        on nothing but the code, so each replay starts from a fresh copy of it (later writes stay per call)."""
        from ..ops import launch
        whole = _make(t._storage, (int(t._storage.shape[0]),), (1,), 0, t._dtype, t._device)
        self.depth += 1
        try:
            snap = launch.contiguous(whole)
        finally:
            self.depth -= 1
        fill = _fill_of(snap) if t._device.type == "cpu" else None
        if fill is not None:
            # all zero bits (a slice's gradient starts as zeros), one value repeated (``ones``) or a progression
            # (``arange``): each replay fills a fresh buffer, writing it once instead of reading a snapshot too,
            # and a size is then an argument (symbolic sizes can change it)
            node = Node("launcher", fill[0], fill[1], fill[2] + (t._dtype, t._device), {},
                        grad_mode=_state.enabled, line=user_line())
        else:
            c = Value("const", snap)
            self.graph.consts.append(c)
            self.graph.private.add(id(c))
            node = Node("launcher", "copy", _fresh_copy, (c,), {}, grad_mode=_state.enabled, line=user_line())
        v = Value("node", whole, node)
        v.static = True
        v.tensor = whole
        node.outputs = [v]
        node.out_tree = v
        self.graph.nodes.append(node)
        self.bind(whole, v)
        return self.value(t)   # a view of the copy

    def _view(self, base, t):
        """A view of a graph tensor made without autograd (``detach``, views of integer tensors, no_grad views)."""
        bv, bt = base
        # a detached tensor shares the version counter but names no base
        kw = {} if t._base is not None and t._vc is bt._vc else {"shared": t._vc is bt._vc, "based": False}
        node = Node("view", "as_strided", _view_of, (bv, tuple(map(int, t._shape)), t._stride,
                                                      t._offset - bt._offset), kw, line=user_line())
        node.epoch = self.writes
        v = Value("node", t, node)
        v.static = bv.static and not bv.stale
        if v.static:
            v.tensor = t
        node.outputs = [v]
        node.out_tree = v
        self.graph.nodes.append(node)
        self.bind(t, v)
        return v

    def args_tree(self, tree):
        return map_tree(lambda a: self.value(a) if isinstance(a, Tensor) else int(a) if isinstance(a, SizeInt) else a,
                        tree)

    # recording ----------------------------------------------------------------------------------------------
    def record(self, kind, name, target, args, kwargs, run, differentiable, vargs=None):
        if self.depth == 0 and _autocast_state() != self.autocast:
            # nodes replay under the autocast state of the call, not of a region entered inside it
            self.stop("an autocast region entered or left inside the compiled call")
            return run()
        if any(isinstance(a, Tensor) and a._is_sparse_coo for a in _leaves((args, kwargs))):
            self.stop("an op on a sparse COO tensor (graphs hold dense tensors only)")
            return run()
        if kind == "function" and self._holds_values(args, kwargs):
            self.stop(f"{name} with an argument that holds tensors of this call (an index made from tensors)")
            return run()
        vargs = self.args_tree(args) if vargs is None else vargs
        vkw = self.args_tree(kwargs) if kwargs else {}
        grad_mode = _state.enabled
        node = Node(kind, name, target, vargs, vkw, grad_mode=grad_mode, line=user_line())
        node.epoch = self.writes  # (no pass moves a read of memory past a write: fusion groups share an epoch)
        # the inputs' autograd history as it was before the op (an in-place op gives its input a new one)
        before = [a._grad_fn for a in _leaves((args, kwargs)) if isinstance(a, Tensor)] if differentiable else ()
        self.depth += 1
        try:
            out = run()
        finally:
            self.depth -= 1
        rg = differentiable and grad_mode and any(v.rg for v in node.inputs())
        static = all(v.static for v in node.inputs()) and _deterministic(kind, name)
        written = _written(kind, name, args, kwargs)
        if not _deterministic(kind, name) or written is not None and self.existed(written):
            self.effects += 1
        if written is not None:
            self.writes += 1
            on = self.on_storage.get(id(written._storage), ())
            if any(v.kind == "const" and id(v) not in self.graph.private for v, _ in on):
                # a tensor from outside the call that the graph writes changes from call to call (a buffer's step
                # count): nothing computed from it is static, so reading it on the host is a break
                static = False
                for v, _ in on:
                    v.static = False
            # the op writes into this storage: the tensors read from it before no longer hold their values
            for v, t in on:
                v.stale = True
                if self.vals.get(id(t)) is v and v.kind == "node":
                    # a later read of this tensor is a new value of the graph (a view read after the write), so
                    # no pass takes it for the earlier one
                    del self.vals[id(t)]

        def out_value(t):
            if not isinstance(t, Tensor):
                return t
            v = Value("node", t, node)
            v.rg = rg and (t._dtype.is_floating_point or t._dtype.is_complex)
            v.static = static
            if v.static:
                v.tensor = t  # its value, for constant folding (valid while nothing writes its storage)
            node.outputs.append(v)
            self.bind(t, v)
            return v
        node.out_tree = map_tree(out_value, out)
        if rg and (kind in ("functional", "module", "op") or kind == "function" and not _fusable(node)):
            self._register_contexts(node, out, args, kwargs, before)
        self.graph.nodes.append(node)
        return out

    def _register_contexts(self, node, out, args, kwargs, before):
        """The autograd nodes this node's op made (between its outputs and its inputs' history) become extra
        outputs of the node: a compiled backward calls their backward whole, so what they keep (layer norm's
        statistics, cross-entropy's log-softmax and count, a convolution's workspaces) is the current call's.
        compiler/joint.py replays such a node so that it hands its contexts out."""
        ins = [a for a in _leaves((args, kwargs)) if isinstance(a, Tensor)]
        stop = {id(fn) for fn in before if fn is not None}
        ctxs = _contexts([t for t in _leaves(out) if isinstance(t, Tensor)], stop)
        if not ctxs:
            return
        vals = []
        for c in ctxs:
            v = CtxValue(c, node)
            node.outputs.append(v)
            self.vals[id(c)] = v
            self.keep.append(c)
            vals.append(v)
        node.extras = (vals, [a._requires_grad for a in ins])

    # the dispatch hook's interface ---------------------------------------------------------------------------
    def function(self, cls, args, apply):
        if self.depth:
            return apply(cls, args)
        return self.record("function", cls.__name__, cls.apply, args, None, lambda: apply(cls, args), True)

    def launcher(self, name, fn, args, kw):
        if self.depth:
            return fn(*args, **kw)
        short = fn.__name__
        if fn.__module__ != _LAUNCH:
            if short in _TRANSPARENT and not (kw.get("inplace") or len(args) > 3 and args[3]):
                return fn(*args, **kw)  # recorded op by op: its random mask becomes a value of the graph
            if short in _ELEMENTWISE_COMPOSITES and not (kw.get("inplace") or len(args) > 1 and args[1]):
                return fn(*args, **kw)
            if self.whole is not None and short not in self.whole:
                return fn(*args, **kw)
            return self.record("functional", short, fn, args, kw, lambda: fn(*args, **kw), True)
        if short == "to_numpy":
            t = args[0]
            v = self.vals.get(id(t)) if isinstance(t, Tensor) else None
            if v is None and isinstance(t, Tensor):
                v = self.value(t)
            if v is not None and v.static and not v.stale:
                # a value computed from constants alone (a mask compared with the causal mask): the graph holds
                # for as long as those constants keep their versions
                self.graph.checks += [(c.tensor, c.tensor._vc[0]) for c in _constants_under(v)]
                self.depth += 1
                try:
                    return fn(*args, **kw)
                finally:
                    self.depth -= 1
            convert = HOST_READ[0]
            if convert is not None and v is not None and (not self.fullgraph or self.cond_pred) \
                    and not self.of_backward and not self._side_effects():
                # (a backward graph's guard could not stop the engine's pass)
                self.depth += 1
                try:
                    host = fn(*args, **kw)
                finally:
                    self.depth -= 1
                return self._guard(v, convert, host)
            self.stop("a tensor's value is read on the host (.item(), bool(), .tolist(), .numpy() or printing)"
                      + (" after an op with side effects (an in-place write into a tensor from outside the call, "
                         "random numbers)" if convert is not None and self.effects else ""))
            return fn(*args, **kw)
        if short in _DATA_SIZED:
            self.stop(f"{short}: a result whose size depends on the values (boolean mask indexing, nonzero, "
                      "masked_select)")
            return fn(*args, **kw)
        return self.record("launcher", short, fn, args, kw, lambda: fn(*args, **kw), False)

    def _side_effects(self):
        """Whether an op recorded so far changed what outlives the call: random numbers drawn (by a random op, or
        inside one: attention's dropout), an optimizer step, a tensor from before the call written in place (by the
        op itself or inside it: a batch norm's running statistics)."""
        if not self.effects and (any(t._vc[0] != n for t, n in self.met)
                                 or _rng_state() != self.rng):
            self.effects += 1
        return self.effects > 0

    def _guard(self, v, convert, host):
        """``bool(t)`` or an index conversion of a one-element tensor (a branch on its value): the graph goes on,
        with a guard node that checks on every replay that the value converts as it did here (the Python code
        took the same path); when it does not, the replay stops and the call runs eagerly (``GuardFailed``). Only
        before any op with side effects: a stopped replay must have changed nothing."""
        node = Node("guard", convert.__name__, host_guard, (v, convert, convert(host.reshape(-1)[0].item())), {},
                    grad_mode=_state.enabled, line=user_line())
        node.out_tree = None
        self.graph.nodes.append(node)
        return host

    def empty(self, fn, shape, dtype, device):
        if self.depth:
            return fn(shape, dtype, device)
        return self.record("launcher", "empty", fn, (tuple(shape), dtype, device), None,
                           lambda: fn(shape, dtype, device), False)

    def module_call(self, mod, args, kwargs):
        """Recurrent layers are kept whole (one node; ONNX has an operator for each); other modules run inside."""
        from ..nn.modules.rnn import RNNBase
        from .api import _hooked
        from .resume import hooks_effect
        if self.depth and threading.get_ident() != self.thread:
            return mod._call_impl(*args, **kwargs)  # (another thread's module)
        self.modules[id(mod)] = mod
        if not self.depth and self.python_effects and _hooked(mod):
            why = hooks_effect(mod)
            if why is not None:  # a replay would skip the hook: the call runs eagerly, as after a break
                self.stop(f"a module hook with a Python side effect: {why}")
        if self.depth or not isinstance(mod, RNNBase):
            return mod._call_impl(*args, **kwargs)
        return self.record("module", type(mod).__name__, call_module, (mod,) + tuple(args), kwargs,
                           lambda: mod._call_impl(*args, **kwargs), True)

    def walked(self, mod):
        if self.depth == 0 and threading.get_ident() == self.thread:
            self.modules[id(mod)] = mod

    def kernels_for(self, fn, t):
        if self.depth == 0 and self.in_ctx is not None:
            # a context's backward that starts kernels itself: recorded op by op, its graph would miss them
            self.raw.add(id(self.in_ctx))
        elif self.depth == 0 and isinstance(t, Tensor) and (id(t) in self.vals or id(t._storage) in self.storages):
            self.stop("a kernel is started outside minitorch's ops on a traced tensor")
        return fn(t)

    def assign(self, fn, target, result):
        if self.depth == 0 and result._grad_fn is not None:
            self.stop("an in-place op on a tensor that takes part in autograd")
        return fn(target, result)

    def overwritten(self, fn, target, label, src):
        """``zero_``, ``fill_``, ``copy_`` or a random fill of a tensor that takes part in autograd: as ``assign``."""
        if self.depth == 0 and _state.enabled and target._dtype.is_floating_point and (
                target._requires_grad or src is not None and src._requires_grad):
            self.stop("an in-place op on a tensor that takes part in autograd")
        return fn(target, label, src)

    # profiler interface parts that other code calls while the hook is installed
    def begin(self, *a, **k):
        return _Event()

    def end(self, ev):
        pass

    def discard(self, ev):
        pass

    def allocated(self, nbytes):
        pass

    def backward(self, node, g, call):
        """The engine calls an autograd node's backward: the backward of a context an op made in the forward is
        recorded whole (a ``backward`` node reading its ``CtxValue``) where ``contexts`` says so; other nodes' ops
        are recorded one by one."""
        if not self.of_backward and self.depth == 0:
            # loss.backward() or autograd.grad inside the compiled call (a training step): as for PyTorch's
            # compiler, a graph break; the step then runs with the modules it calls compiled, forward and backward
            self.stop("a backward pass inside the compiled call (loss.backward(), autograd.grad)")
            return call(node, g)
        v = self.vals.get(id(node)) if self.depth == 0 else None
        if type(v) is not CtxValue:
            return call(node, g)
        if self.contexts is not True and id(v) not in self.contexts:
            self.in_ctx = v  # recorded op by op; a tensor it reads that the graph does not make is blamed on it
            try:
                return call(node, g)
            finally:
                self.in_ctx = None
        return self.record("backward", f"{v.cls}.backward", call, None, None, lambda: call(node, g), False,
                           vargs=(v, self.args_tree(g)))

    def accumulate(self, node, acc, *args):
        return acc(*args)

    def optimizer_step(self, opt, step, args, kwargs):
        """An optimizer step is one node (replayed through the optimizer's ``step``, hooks included: it reads the
        current gradients, hyperparameters and state by reference). It writes every parameter in place, so
        nothing read before it is reused after it. A step with a closure re-evaluates the model: a break."""
        if self.depth:
            return step(opt, *args, **kwargs)
        if args or kwargs:
            self.stop("an optimizer step with a closure")
            return step(opt, *args, **kwargs)
        out = self.record("optimizer", f"{type(opt).__name__}.step", type(opt).step, (opt,), None, lambda: step(opt),
                          False)
        self.writes += 1
        self.effects += 1
        for group in opt.param_groups:
            for p in group["params"]:
                self._overwritten(p._storage)
        return out

    def _overwritten(self, storage):
        """Something the graph cannot see into writes ``storage``: the tensors read from it before no longer
        hold their values, and a later read of one is a new value of the graph."""
        for v, t in self.on_storage.get(id(storage), ()):
            v.stale = True
            if self.vals.get(id(t)) is v and v.kind == "node":
                del self.vals[id(t)]

    def _holds_values(self, args, kwargs):
        """Whether an argument that is no tensor keeps tensors inside (an advanced index's offsets) that the call
        computed from its inputs: a graph would replay the capture's. Ones computed from constants alone (an index
        written in the source, ``h[:, [-1]]``) stay what they were."""
        for a in _leaves((args, kwargs)):
            for t in _held_tensors(a):
                v = self.value(t)
                if not v.static or v.stale:
                    return True
        return False

    def python_effect(self, what):
        """Something the call does changes Python state (a print, an LR scheduler's step): no graph replays that,
        so it is a break (PyTorch's compiler breaks at them too)."""
        if self.depth == 0 and self.python_effects:
            self.stop(f"{what} (a Python side effect)")

    def grad_access(self):
        """``t.grad`` read or set by the call itself: a break. Gradients are new tensors after every
        ``zero_grad()`` and backward, so a graph that read one would hold this call's (a norm clipped, a manual
        SGD step, a logged gradient norm); the statement runs eagerly instead."""
        if self.depth == 0:
            self.stop("a tensor's .grad read or set (gradients are other tensors on every call)")

    def optimizer_zero_grad(self, opt, set_to_none):
        """``opt.zero_grad()``: one node, replayed through the optimizer (it sets each ``.grad`` to None, a change
        no op makes, or zeroes the gradients in place)."""
        if self.depth:
            return opt._zero_grad(set_to_none)
        out = self.record("optimizer", f"{type(opt).__name__}.zero_grad", _zero_grad, (opt, set_to_none), None,
                          lambda: opt._zero_grad(set_to_none), False)
        self.writes += 1
        self.effects += 1
        for group in opt.param_groups:
            for p in group["params"]:
                if p._grad is not None:  # the gradients read before hold other values after
                    self._overwritten(p._grad._storage)
        return out


def _zero_grad(opt, set_to_none):
    return opt._zero_grad(set_to_none)


# launchers that write into a tensor argument (position), besides any ``out=``
_WRITES = {"fill_": 0, "copy_into": 0, "put_": 0, "scatter_": 0, "scatter_reduce_": 0, "random_fill": 1,
           "amp_unscale_": 0}


def _written(kind, name, args, kwargs):
    """The tensor a node writes into in place, if any."""
    if kind == "launcher":
        out = kwargs.get("out") if kwargs else None
        if isinstance(out, Tensor):
            return out
        pos = _WRITES.get(name)
        if pos is not None and len(args) > pos and isinstance(args[pos], Tensor):
            return args[pos]
    elif kind == "function" and "Copy" in name and name != "ToCopy" and args and isinstance(args[0], Tensor):
        return args[0]
    return None


_RANDOM_LAUNCHERS = ("random_fill", "poisson", "standard_gamma", "dirichlet_grad")


def _deterministic(kind, name):
    if kind == "launcher":
        return name not in _RANDOM_LAUNCHERS
    if kind == "functional":
        return "dropout" not in name and name not in ("rrelu", "gumbel_softmax")
    return kind != "module"


def _constants_under(v):
    """The constants a static value was computed from."""
    out, seen, todo = [], set(), [v]
    while todo:
        x = todo.pop()
        if id(x) in seen:
            continue
        seen.add(id(x))
        if x.kind == "const":
            out.append(x)
        elif x.node is not None:
            todo += x.node.inputs()
    return out


def call_module(mod, *args, **kwargs):
    return mod(*args, **kwargs)


def _fresh_copy(t):
    from ..ops import launch
    return launch.contiguous(t)


def _fresh_zeros(n, dtype, device):
    from .. import dispatch
    return _make(dispatch.kernels(device.type).memory.zeros(n, dtype.storage_np), (n,), (1,), 0, dtype, device)


def _fill_of(snap):
    """(name, launcher, arguments) that remake a made-here tensor's storage ``snap`` from its length and at most
    two numbers, or None."""
    a = snap._storage
    n = int(a.shape[0])
    if not a.view(np.uint8).any():
        return "zeros", _fresh_zeros, (n,)
    if n < 2 or a.dtype.kind not in "iufb":
        return None
    if (a == a[0]).all():
        return "full", _fresh_full, (n, a[0].item())
    if a.dtype.kind in "iu" and snap._dtype.storage_np == snap._dtype.np:
        step = a[1].item() - a[0].item()
        if (np.arange(n, dtype=np.int64) * step + a[0].item() == a).all():
            return "arange", _fresh_arange, (n, a[0].item(), step)
    return None


def _fresh_full(n, value, dtype, device):
    return _make(np.full(n, value, dtype=dtype.storage_np), (n,), (1,), 0, dtype, device)


def _fresh_arange(n, start, step, dtype, device):
    return _make((np.arange(n, dtype=np.int64) * step + start).astype(dtype.np), (n,), (1,), 0, dtype, device)


def _scalar_constant(t):
    from ..ops.common import _SCALARS
    return not t._shape and any(c is t for c in _SCALARS.values())


def _view_of(base, shape, stride, delta, shared=True, based=True):
    # a view as eager made it: sharing the version counter and naming the tensor that owns the memory
    root = (base._base if base._base is not None else base) if based else None
    return _make(base._storage, shape, stride, base._offset + delta, base._dtype, base._device,
                 base._vc if shared else None, None, root)


def _plain_output(rec):
    """A leaf of the call's result as the graph returns it: a tensor's Value, a size read at a new size a plain int
    (``SizeInt`` only lives while the call is captured)."""
    def leaf(a):
        if isinstance(a, Tensor):
            return rec.value(a) if rec is not None else a
        if isinstance(a, SizeInt):
            return int(a)
        if type(a) is Size and any(isinstance(n, SizeInt) for n in a):
            return Size(int(n) for n in a)
        return a
    return leaf


def _leaves(tree):
    from .ir import leaves
    return leaves(tree)


def _fusable(node):
    # elementwise primitives keep their backward recorded op by op (the fusion pass fuses them, both ways)
    from .passes import elementwise_op
    return elementwise_op(node) is not None


def autograd_nodes(outs, stop):
    """The autograd nodes between the tensors ``outs`` and the nodes in ``stop`` (ids), leaves' gradient
    accumulators included but not walked past, depth first from the outputs: the same op on inputs with the same
    requires_grad gives them in the same order."""
    found, seen = [], set()
    stack = [t._grad_fn for t in reversed(outs) if t._grad_fn is not None]
    while stack:
        n = stack.pop()
        if id(n) in seen or id(n) in stop:
            continue
        seen.add(id(n))
        found.append(n)
        for fn, _ in reversed(getattr(n, "_edges", ())):
            if fn is not None:
                stack.append(fn)
    return found


def _contexts(outs, stop):
    """The autograd nodes (not gradient accumulators) between ``outs`` and ``stop``."""
    return [n for n in autograd_nodes(outs, stop) if not isinstance(n, AccumulateGrad)]


# ---------------------------------------------------------------------------------------------------------------
# installing the recorder
# ---------------------------------------------------------------------------------------------------------------
_ACTIVE = [None]


def _install(rec):
    from ..autograd.profiler import _patch_launchers
    from ..ops import launch
    _patch_launchers()
    saved = {"empty": launch.empty, "_k": launch._k}
    empty, kfor = saved["empty"], saved["_k"]
    launch.empty = lambda shape, dtype, device: rec.empty(empty, shape, dtype, device)
    launch._k = lambda t: rec.kernels_for(kfor, t)
    for mod in _assign_holders():
        fn = saved[mod] = mod.assign_
        mod.assign_ = (lambda f: lambda target, result: rec.assign(f, target, result))(fn)
    from ..ops import elementwise
    over = saved["overwritten"] = elementwise.overwritten
    elementwise.overwritten = lambda target, label, src=None: rec.overwritten(over, target, label, src)
    from ..nn.modules import module
    saved["module_hook"] = module._MODULE_HOOK[0]  # a broken graph's router (compiler/api.py) comes back after
    module._MODULE_HOOK[0] = rec.module_call
    saved["opaque"] = _patch_opaque()
    _PROFILE[0] = rec
    _ACTIVE[0] = rec
    saved["size_rec"], SizeInt.recorder[0] = SizeInt.recorder[0], rec
    grad = saved["grad"] = Tensor.__dict__["grad"]
    Tensor.grad = property(lambda t: (rec.grad_access(), grad.fget(t))[1],
                           lambda t, g: (rec.grad_access(), grad.fset(t, g))[1], None, grad.__doc__)
    train = saved["train"] = module.Module.train
    module.Module.train = lambda m, mode=True: (rec.python_effect("Module.train() or eval()"), train(m, mode))[1]
    # a module whose parameters, buffers or children the code walks (an EMA update over ``parameters()``) is
    # watched like one it calls: a layer or parameter replaced since is another graph
    for name in ("named_modules", "named_children"):
        walk = saved[name] = vars(module.Module)[name]
        setattr(module.Module, name, (lambda f: lambda m, *a, **k: (rec.walked(m), f(m, *a, **k))[1])(walk))
    saved["effects"] = []
    for owner, name, what in _EFFECT_METHODS():
        f = vars(owner).get(name)
        if f is None:
            continue
        saved["effects"].append((owner, name, f))
        setattr(owner, name, _effect_method(rec, f, what))
    import builtins
    saved["print"] = builtins.print
    builtins.print = (lambda out: lambda *a, **k: (rec.python_effect("print()"), out(*a, **k))[1])(builtins.print)
    return saved


# sorting, searching and linear algebra start their kernels from the public function itself (no primitive or
# launcher to record), so each call is recorded whole; those whose output shape depends on the data stay out
_OPAQUE_MODULES = ("linalg", "sorting", "search")
_DATA_DEPENDENT = {"unique", "unique_consecutive", "bincount"}


_OPAQUE = []  # (namespace, name, function, its recording wrapper): found once, checked at each capture


def _patch_opaque():
    if not _OPAQUE or any(vars(ns).get(name) is not fn for ns, name, fn, _ in _OPAQUE):
        _OPAQUE[:] = [(ns, name, fn, _opaque_wrapper(name, fn)) for ns, name, fn in _opaque_functions()]
    for ns, name, _, op in _OPAQUE:
        setattr(ns, name, op)
    return [(ns, name, fn) for ns, name, fn, _ in _OPAQUE]


def _opaque_functions():
    import inspect

    from .. import linalg as public_linalg
    from ..ops import linalg, search, sorting
    import minitorch
    targets = {}
    for mod in (linalg, sorting, search):
        for name, fn in vars(mod).items():
            if inspect.isfunction(fn) and not name.startswith("_") and fn.__module__ == mod.__name__ \
                    and name not in _DATA_DEPENDENT and not name.endswith("_launch"):
                targets[id(fn)] = fn
    found = []
    for ns in (minitorch, public_linalg, Tensor, linalg, sorting, search):
        for name, val in list(vars(ns).items()):
            # the function itself, or the wrapper that takes NumPy's argument names for it (ops/numpy_names.py),
            # which is what gets recorded then
            fn = targets.get(id(val)) or targets.get(id(getattr(val, "__wrapped__", None)))
            if fn is not None:
                found.append((ns, name, val))
    return found


def _opaque_wrapper(name, fn):
    def op(*args, **kwargs):
        rec = _ACTIVE[0]
        if rec is None or rec.depth:
            return fn(*args, **kwargs)
        return rec.record("op", name, fn, args, kwargs, lambda: fn(*args, **kwargs), True)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = fn.__doc__
    return op


_DATA_SIZED = {"nonzero", "masked_compress"}  # launchers whose result's size is counted from the data


def _held_tensors(a):
    """The tensors ``a``, an argument that is no tensor, keeps in its attributes (one level, and in lists and tuples
    there)."""
    if isinstance(a, (Tensor, int, float, bool, str, type(None))):
        return []
    fields = getattr(a, "__dict__", None)
    out = []
    for v in (fields or {}).values():
        if isinstance(v, Tensor):
            out.append(v)
        elif isinstance(v, (list, tuple)):
            for x in v:
                out += [x] if isinstance(x, Tensor) else [y for y in x if isinstance(y, Tensor)] \
                    if isinstance(x, tuple) else []
    return out


def _EFFECT_METHODS():
    """Methods whose call changes state that a replayed graph would not change again: a break at the statement."""
    import minitorch
    from ..random import Generator
    return ((Generator, "manual_seed", "a random generator seeded"), (Generator, "seed", "a random generator seeded"),
            (Generator, "set_state", "a random generator's state set"),
            (Generator, "get_state", "a random generator's state read (a replay would hand back the capture's)"),
            (Generator, "_permutation", "a random permutation drawn on the host (randperm)"),
            (Tensor, "register_hook", "a hook registered on a tensor"),
            (Tensor, "register_post_accumulate_grad_hook", "a hook registered on a tensor"),
            (Tensor, "retain_grad", "retain_grad() on a tensor"),
            (Tensor, "requires_grad_", "a tensor's requires_grad set"),
            (Tensor, "requires_grad", "a tensor's requires_grad set"),
            (Tensor, "data_ptr", "a tensor's memory address read"),
            (Tensor, "data", "a tensor's .data set"),
            (Tensor, "resize_", "a tensor resized in place"),
            (Tensor, "t_", "a tensor's shape changed in place (t_)"),
            (Tensor, "transpose_", "a tensor's shape changed in place (transpose_)"),
            (Tensor, "swapdims_", "a tensor's shape changed in place (swapdims_)"),
            (Tensor, "swapaxes_", "a tensor's shape changed in place (swapaxes_)"),
            (Tensor, "squeeze_", "a tensor's shape changed in place (squeeze_)"),
            (Tensor, "unsqueeze_", "a tensor's shape changed in place (unsqueeze_)"),
            (Tensor, "as_strided_", "a tensor's shape changed in place (as_strided_)"),
            (Tensor, "storage_offset", "a tensor's storage offset read")) + tuple(
        (minitorch, name, f"minitorch.{name}()") for name in _SETTERS)


# process-wide settings a replayed graph would not set again
_SETTERS = ("set_default_dtype", "set_default_tensor_type", "set_default_device", "use_deterministic_algorithms",
            "set_num_threads", "set_num_interop_threads", "set_printoptions", "set_float32_matmul_precision",
            "set_warn_always", "set_anomaly_enabled")


def _effect_method(rec, f, what):
    if isinstance(f, property):  # (its setter)
        return property(f.fget, _effect_method(rec, f.fset, what), f.fdel, f.__doc__)

    def method(*args, **kwargs):
        rec.python_effect(what)
        return f(*args, **kwargs)
    method.__name__, method.__doc__ = f.__name__, f.__doc__
    return method


def _assign_holders():
    from ..ops import contraction, elementwise, index
    return (elementwise, index, contraction)


def _uninstall(saved):
    from ..autograd.profiler import _unpatch_launchers
    from ..ops import launch
    from ..nn.modules import module
    module._MODULE_HOOK[0] = saved.get("module_hook")
    for ns, name, val in saved.get("opaque", ()):
        setattr(ns, name, val)
    _PROFILE[0] = None
    _ACTIVE[0] = None
    SizeInt.recorder[0] = saved.get("size_rec")
    import builtins
    builtins.print = saved["print"]
    Tensor.grad = saved["grad"]
    module.Module.train = saved["train"]
    for name in ("named_modules", "named_children"):
        setattr(module.Module, name, saved[name])
    for owner, name, f in saved.get("effects", ()):
        setattr(owner, name, f)
    for mod in _assign_holders():
        mod.assign_ = saved[mod]
    from ..ops import elementwise
    elementwise.overwritten = saved["overwritten"]
    launch._k = saved["_k"]
    _unpatch_launchers()   # puts back launch.empty too


def _autocast_state():
    from ..ops.autocast import _STATE
    return tuple(tuple(v) for v in _STATE.values())


def _rng_state():
    from ..random import default_generator
    return default_generator._rng.bit_generator.state["state"]["state"]


class GuardFailed(Exception):
    """A guard node found a value other than the capture's: the replay stops (nothing it did is visible)."""


class ConstantChanged(GuardFailed):
    """A tensor the graph reads by reference has other memory or another layout (checked before the replay runs
    anything): the call is captured again, replacing the graph."""


def host_guard(t, convert, expected):
    """The guard node's op: ``convert`` (bool, int) of the one-element tensor ``t``'s value must be ``expected``."""
    from ..ops.launch import to_numpy
    if convert(to_numpy(t).reshape(-1)[0].item()) != expected:
        raise GuardFailed(f"{convert.__name__}() of a tensor gave another value than at the capture")


_UNWATCHED = ("minitorch", "stdlib")


def _calls_watcher(rec, outer=None):
    """A trace function (``sys.settrace``) that looks into every function of the program or of an installed
    package that the program's code calls while it is captured (``resume.call_effect``): a call with a Python
    side effect is a graph break there, so the compiled function is cut at the statement that made it. This finds
    calls its source does not name (``fns[i](x)``, a callback held in a container), and the program's functions
    that minitorch's code calls (a checkpointed function, the forward of a module reached through a list). Not
    watched: the captured function itself and its pieces (their statements are read before the capture), an
    optimizer's step hooks (the step node runs them on every call), and what runs inside an op (an autograd
    Function's forward). A trace function set before (``outer``: a debugger, a coverage tool) still sees every
    call: the watcher hands each on to it and returns what it returns."""
    from .resume import call_effect, code_kind
    from ..nn.modules.module import Module
    from ..optim.optimizer import _with_hooks
    handled = {capture.__code__, _with_hooks(lambda self: None).__code__}

    def watch(frame, event, arg):
        kind = code_kind(frame.f_code)
        if kind == "program" and event == "call" and rec.broken is None and not rec.depth:
            code = frame.f_code
            me = frame.f_locals.get(code.co_varnames[0]) if code.co_argcount else None
            me = me if isinstance(me, Module) else None
            if (code, id(me)) not in rec.codes:  # what the program's functions read (api: CompiledFunction._reads)
                rec.codes[(code, id(me))] = (code, frame.f_globals, me)
        if kind not in _UNWATCHED and event == "call" and rec.broken is None and not rec.depth:
            # a package's function called by the program's code; the program's called by it, by way of the
            # standard library's or packages' functions (a callback), or by minitorch's code
            caller = frame.f_back
            while caller is not None and kind == "program" and code_kind(caller.f_code) in ("stdlib", "library"):
                caller = caller.f_back
            if caller is not None and (code_kind(caller.f_code) == "program"
                                       or kind == "program" and caller.f_code not in handled):
                why = call_effect(frame)
                if why is not None:
                    code = frame.f_code
                    rec.python_effect(f"a call of {getattr(code, 'co_qualname', code.co_name)}(), which makes {why}")
        if outer is None:
            return None
        local = outer(frame, event, arg)
        if sys.gettrace() is not watch:  # (a tool that sets itself again when called: coverage's C tracer)
            sys.settrace(watch)
        return local
    return watch


def is_capturing():
    return _ACTIVE[0] is not None


def cond_predicate(pred):
    """``bool(pred)`` for ``minitorch.cond``: under capture the branch taken is a guard of the graph (one graph per
    branch, each replayed while its guard holds), also with ``fullgraph=True``, where another branch on a tensor's
    value is an error: ``cond`` is how PyTorch programs make such a branch part of one graph."""
    rec = _ACTIVE[0]
    if rec is None:
        return bool(pred)
    prev, rec.cond_pred = rec.cond_pred, True
    try:
        return bool(pred)
    finally:
        rec.cond_pred = prev


def capture(fn, args, kwargs, names, fullgraph=False, python_effects=True, whole=None):
    """Run ``fn(*args, **kwargs)`` once, recording it. Returns ``(graph, result)``. The run is the eager run:
    ops are only observed. At a graph break the recording stops and the call finishes eagerly; then ``graph`` is
    the ``GraphBreak`` (with ``fullgraph=True`` the break is raised as an error instead). ``python_effects=False``
    (a graph that is exported, never replayed in Python) lets prints and other Python effects pass. ``whole``:
    None, or the names of the ``nn.functional`` calls recorded as one node each; the others are recorded op by op
    (ONNX export: the calls its exporter maps)."""
    from .ir import leaves
    rec = _Recorder(names, fullgraph)
    rec.python_effects = python_effects
    rec.whole = whole
    rec.call_grad = _state.enabled
    seen = set()
    for t in leaves((args, kwargs)):
        if isinstance(t, Tensor) and id(t) not in seen:
            seen.add(id(t))
            rec.add_input(t)
    saved = _install(rec)
    if python_effects:
        rec.outer = sys.gettrace()  # (a debugger's or a coverage tool's: the watcher hands each call on to it)
        rec.tracer = _calls_watcher(rec, rec.outer)
    collecting = gc.isenabled()
    try:
        if rec.tracer is not None:
            # no collection of cyclic garbage while the calls are watched: a collection runs code of other objects
            # (a generator closed, a finalizer) in the middle of the program's, which is no call of the program's
            gc.disable()
            sys.settrace(rec.tracer)
        result = fn(*args, **kwargs)
    finally:
        if rec.tracer is not None:
            rec.tracer = None
            sys.settrace(rec.outer)
            if collecting:
                gc.enable()
        _uninstall(saved)
    if any(isinstance(a, SizeInt) for a in leaves(result)):  # (sizes read at a new size: the caller gets ints)
        result = map_tree(_plain_output(None), result)
    if rec.broken is None and _state.enabled != rec.call_grad:
        # (``set_grad_enabled(False)`` or ``no_grad().__enter__()`` as a statement: a replay would not do it again)
        rec.stop("the grad mode was switched by the call and left so")
    if rec.broken is None:
        odd = next((a for a in leaves(result) if _held_tensors(a) or hasattr(type(a), "__next__")), None)
        if odd is not None:  # (a dataclass of tensors, a generator: a graph would hand back the capture's object)
            rec.stop(f"the call returns a {type(odd).__name__} holding tensors or values to come (a graph rebuilds "
                     "tuples, lists, dicts and named tuples only)")
    if rec.broken is not None:
        return rec.broken, result
    graph = rec.graph
    graph.output_tree = map_tree(_plain_output(rec), result)
    graph.recorder = rec  # for capturing the backward right after (compiler/joint.py); dropped then
    return graph, result
