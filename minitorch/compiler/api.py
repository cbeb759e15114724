"""``minitorch.compile``: capture a call into a graph, optimize it, and replay it on later calls that pass its guards.

A compiled callable keeps one entry per guard key: the call's signature (each tensor argument's shape, strides,
dtype, device and requires_grad; every other argument's value), the grad mode, the default dtype, autocast, and for
a module the identity of its parameters and buffers and every submodule's ``training`` flag. The first call with a
new key captures (and returns the captured run's result); later calls with that key replay the optimized graph.

A plain function (or a module's forward, while the module has no hooks) whose capture broke (``.item()``, a backward
pass, a print) is cut at the statement of the break (compiler/resume.py): from the next call that statement runs
eagerly and the statements around it are compiled on their own; statements that change Python state are cut out
before the first capture. A module with hooks, or a function that cannot be cut, runs eagerly from then on under
that key, with the graphs resuming at module boundaries: every
module it calls directly (a model's layers) is compiled on its own, so only the code around the break stays eager.
A layer that breaks in turn splits the same way. For a plain function the key also holds the Python values it
reads through attribute and item chains (``resume.chain_reader``), and the state of every module its captures ran
is checked before each call.
"""
import collections
import functools
import types
import weakref

import numpy as np

from .. import dtypes as _dtypes
from ..autograd.function import _PROFILE
from ..ops import autocast as _autocast
from ..autograd.grad_mode import _state
from ..tensor import Tensor, _contiguous_strides
from . import capture as _capture
from . import logs, resume
from .capture import CompileError, ConstantChanged, GraphBreak, GuardFailed
from .joint import capture_backward, optimize_plan
from .passes import drop_contexts, fusable_nodes, optimize, reduced_chains
from .runtime import Program, flat_tensors
from .symbolic import make_template, raw_signature, size_guards

_MODES = ("default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs")
_BACKENDS = ("inductor", "minitorch", "eager", "aot_eager")
_ALL = []  # every compiled callable (reset() clears their entries)
counters = collections.defaultdict(collections.Counter)  # torch._dynamo.utils.counters: captures, graphs, breaks
CACHE_SIZE_LIMIT = 8  # signatures captured per compiled callable, as torch._dynamo.config.cache_size_limit
TEMPLATES = 4  # symbolic templates kept per signature without sizes
VARIANTS = 4  # graphs kept per signature for the paths that branches on tensor values take (guards)


def _show(part):
    """A key's part in words: a tensor argument as its dtype, shape, device and requires_grad."""
    if isinstance(part, tuple) and len(part) == 6 and part[0] == "T":
        _, shape, stride, dtype, device, rg = part
        return f"tensor {dtype}{list(shape)} on {device}" + (" requiring grad" if rg & 1 else "") + \
            ("" if stride == _contiguous_strides(shape) else f" strides {stride}")
    if isinstance(part, tuple) and len(part) == 2 and part[0] in (float, bool, complex):
        return repr(part[1])
    if isinstance(part, tuple) and len(part) == 3 and part[0] == "id":
        return "not bound yet" if part[1] == "Unbound" else f"the same {part[1]} object (by identity)"
    return repr(part)


class _Entry:
    __slots__ = ("_graph", "program", "brk", "_kernels", "calls", "_backward", "split", "checks", "lazy", "alts",
                 "resume", "raw")

    def __init__(self, graph=None, program=None, brk=None, kernels=(), split=False):
        self._graph, self.program, self.brk, self._kernels, self.calls = graph, program, brk, list(kernels), 0
        self.alts = ()  # graphs of the same signature whose guards (branches on tensor values) took other paths
        self._backward = None  # the compiled backward graph, when there is one
        self.split = split     # a graph break: the call runs eagerly with the modules it calls compiled
        self.resume = None     # or, for a function cut at the break, its pieces (compiler/resume.py)
        self.checks = graph.checks if graph is not None else []  # (tensor, version) read on the host
        self.lazy = None       # (template, size) of an entry made from a symbolic template, until its graphs are
        #                        made (when read; False then)
        self.raw = None        # symbolic.raw_signature of the recorded graph, for templates

    def _show(self):
        tpl, s = self.lazy
        self.lazy = False
        self._graph, self._kernels, self._backward = tpl.display(s)

    @property
    def graph(self):
        if self.lazy:
            self._show()
        return self._graph

    @property
    def kernels(self):
        if self.lazy:
            self._show()
        return self._kernels

    @property
    def backward(self):
        if self.lazy:
            self._show()
        return self._backward

    @backward.setter
    def backward(self, g):
        self._backward = g


class _Router:
    """Installed as the module-call hook while a broken call runs eagerly: modules called at its own level run
    through their own compiled callables (kept by the parent, one per module); calls nested inside them (made
    eagerly, when such a module runs eagerly itself) pass through."""

    def __init__(self, parent):
        self.parent = parent
        self.depth = 0
        self.met = set()  # ids of the modules without state this call met first

    def __call__(self, mod, args, kwargs):
        if self.depth:
            return mod._call_impl(*args, **kwargs)
        p = self.parent
        cf = p._children.get(id(mod))
        if cf is None:
            if (p._stateless.get(id(mod)) is not mod or id(mod) in self.met) and not _has_state(mod):
                # a module without parameters or buffers may be made by the call itself (``nn.CrossEntropyLoss()(
                # pred, y)``) and dropped after it: it runs eagerly, and is compiled only if a later call uses it
                p._stateless[id(mod)] = mod
                self.met.add(id(mod))
                cf = mod._call_impl
            else:
                cf = p._children[id(mod)] = CompiledFunction(mod._call_impl, mod, False, p._backend,
                                                             p._dynamic, p._mode, p._options)
        self.depth += 1
        try:
            return cf(*args, **kwargs)
        finally:
            self.depth -= 1


class _AllEager:
    """The pieces of a function each of whose statements has a Python side effect: one, run eagerly on every call
    (the modules it calls compiled)."""

    def __init__(self, owner, spec):
        self.owner = owner
        self.parts = []
        self.lines = [(spec.stmts[0].lineno, spec.stmts[-1].end_lineno)]
        self.eager = [True]

    def run(self, args, kwargs):
        return self.owner._run_split(args, kwargs)


def _hooked(mod):
    """Whether calling the module runs hooks around its forward."""
    from ..nn.modules import module as M
    d = mod.__dict__
    return bool(d["_forward_hooks"] or d["_forward_pre_hooks"] or d["_backward_hooks"] or d["_backward_pre_hooks"]
                or M._global_forward_hooks or M._global_forward_pre_hooks or M._global_backward_hooks
                or M._global_backward_pre_hooks)


def _has_state(mod):
    """Whether a module or one of its submodules holds a parameter or a buffer (walked by identity: a module that
    defines ``__eq__`` is not hashable)."""
    todo, seen = [mod], set()
    while todo:
        m = todo.pop()
        if id(m) in seen:
            continue
        seen.add(id(m))
        d = m.__dict__
        if any(v is not None for v in d.get("_parameters", {}).values()) or \
                any(v is not None for v in d.get("_buffers", {}).values()):
            return True
        todo += [c for c in d.get("_modules", {}).values() if c is not None]
    return False


def _arg_key(a):
    if isinstance(a, Tensor):
        if a._is_sparse_coo:  # no graph takes a sparse tensor: the call runs eagerly (see __call__)
            raise TypeError("sparse COO tensor argument")
        # requires_grad, whether it has autograd history and whether it is a view (a branch on ``x.is_leaf`` or
        # ``x._base is None`` reads them), as one number
        return ("T", a._shape, a._stride, a._dtype, a._device,
                a._requires_grad + 2 * (a._grad_fn is not None) + 4 * (a._base is not None))
    if isinstance(a, (tuple, list)):
        return (type(a).__name__,) + tuple(_arg_key(x) for x in a)
    if isinstance(a, dict):
        return ("dict",) + tuple((k, _arg_key(v)) for k, v in a.items())
    if a is None or isinstance(a, (bool, int, float, str, complex)):
        return _scalar_key(a)
    if type(a) is np.ndarray:
        return _content_key(a)  # (its values may be read into the graph: changed in place, another argument)
    return ("id", type(a).__name__, id(a))


def _scalar_key(a):
    """A plain value as a key: a float, bool or complex with its type (``1``, ``1.0`` and ``True`` are equal as
    dictionary keys, but a graph captured with one computes in another dtype than with another)."""
    t = type(a)
    return (t, a) if t is float or t is bool or t is complex else a


def _sizeless(k):
    """An argument key with each tensor's sizes and strides left out (only its number of dimensions kept)."""
    if isinstance(k, tuple):
        if k and k[0] == "T" and len(k) == 6 and isinstance(k[1], tuple):
            return ("T", len(k[1])) + k[3:]
        return tuple(_sizeless(x) for x in k)
    return k


def _numberless(k):
    """An argument key with every int and float argument (not a tensor's size) left out."""
    t = type(k)
    if t is int:
        return _NUMBER
    if t is tuple and k and not (k[0] == "T" and len(k) == 6) and k[0] != "id":
        if len(k) == 2 and k[0] is float:
            return (float, _NUMBER)
        return tuple(_numberless(x) for x in k)
    return k


def _chain_key(v):
    """A value read through an attribute chain, as a key: a plain value as itself, a list, tuple, set or dict by its
    contents (a list appended to in place is another value: the call may read it whole), a NumPy array by its
    bytes, anything else by identity."""
    return _content_key(v)


def _content_key(v, depth=3):
    t = type(v)
    if t in _SCALAR_TYPES:
        return _scalar_key(v)
    if depth and t in (list, tuple, set, frozenset):
        return (t.__name__,) + tuple(_content_key(x, depth - 1) for x in v)
    if depth and t is dict:
        return ("dict",) + tuple((_content_key(k, 0), _content_key(x, depth - 1)) for k, x in v.items())
    if t is np.ndarray:
        return ("ndarray", v.shape, v.dtype.str, hash(v.tobytes()))
    return ("id", t.__name__, id(v))


def _sizeless_key(key):
    return (_sizeless(key[0]), _sizeless(key[1])) + key[2:]


def _sources(kernel):
    """A graph kernel's generated sources (a fused group's strided variants too)."""
    return kernel.sources() if hasattr(kernel, "sources") else [kernel.source]


def _parts(entry):
    return (entry.graph, entry.program, entry.kernels, entry.backward)


class CompiledFunction:
    """What ``minitorch.compile(fn)`` returns: call it like ``fn``; ``.code`` shows the generated kernels."""

    def __init__(self, fn, module=None, fullgraph=False, backend="inductor", dynamic=None, mode=None, options=None):
        self._fn = fn
        self._module = module
        self._fullgraph = fullgraph
        self._first_done = False  # a call was made under an "..._then_compile" stance (set_stance)
        self._hooks_seen = None  # (the module's hook ids, the side effect found among those hooks or None)
        self._backend = backend
        self._children = {}  # id(module) -> compiled callable, for calls whose graph broke
        # modules without parameters or buffers that earlier calls met (by id: a module need not be hashable)
        self._stateless = weakref.WeakValueDictionary()
        self._dynamic = dynamic
        self._mode = mode
        self._options = dict(options or {})
        self._entries = {}
        self._captures = 0  # calls captured so far
        self._piece = hasattr(fn, "__minitorch_piece__")  # a piece of a function cut at a break
        self._volatile = set()  # keys without their numbers whose numbers kept changing (pieces run those eagerly)
        self._chains = None  # reads the Python values the function reads through attributes (False: none)
        self._effects = None  # pieces around statements with Python side effects (False: none; None: not looked)
        self._pieces = {}  # line of a break -> the function's pieces around it (or None: it cannot be cut)
        self._templates = {}  # sizeless key -> [symbolic.Template], each made from two captures' entries
        self._last = None
        self._whole = None  # which contexts the last compiled backward called whole (joint.capture_backward's hint)
        self._mods = None
        self._used = []  # a function's: the modules its captures ran, watched as _state_key reads them
        self._used_ids = set()
        self._used_state = None
        self._reads = []  # readers of what the program's functions the captures ran read (_note_reads)
        self._read_codes = set()     # (code, id of its module) pairs already read
        self._read_globals = set()   # codes whose globals are read
        self._reads_state = None
        self._stashed = {}  # (modules state, reads state) -> (entries, templates) made under it (_modules_changed)
        code = getattr(fn, "__code__", None)
        self._names_read = _globals_read(code) if code is not None and module is None else None
        _ALL.append(self)
        functools.update_wrapper(self, fn, updated=())
        if not hasattr(self, "__name__"):  # a functools.partial, a callable object
            inner = getattr(fn, "func", fn)
            self.__name__ = getattr(inner, "__name__", type(inner).__name__)

    def _settings(self):
        """The keyword arguments it was made with (a pickled compiled module is compiled again with them)."""
        return {"fullgraph": self._fullgraph, "backend": self._backend, "dynamic": self._dynamic, "mode": self._mode,
                "options": dict(self._options)}

    # guards --------------------------------------------------------------------------------------------------
    def _key(self, args, kwargs):
        key = (_arg_key(args), _arg_key(kwargs) if kwargs else None, _aliasing(args, kwargs),
               _state.enabled if not _state.inference else "inference_mode", _dtypes.get_default_dtype(),
               _autocast_key())
        if _STANCE[1] is not None:  # set_stance(force_backend=...): graphs of that backend, kept apart
            key += (("backend", _STANCE[1]),)
        if self._module is not None:
            key += (self._module_key(), _global_hooks_key())
        elif self._names_read is not None:
            key += (self._python_values(),)
        if self._chains is None:
            fn = self._target()  # a module's forward while it has no hooks
            self._chains = fn is not None and resume.chain_reader(fn, args, kwargs) or False
        if self._chains and (self._module is None or not _hooked(self._module)):
            key += (tuple(_chain_key(v) for v in self._chains(args, kwargs)),)
        return key

    def _fusing(self):
        """Whether captures fuse now: the callable's backend, or the one ``set_stance(force_backend=)`` forces."""
        return (_STANCE[1] or self._backend) in ("inductor", "minitorch")

    def _python_values(self):
        """The function's closure variables and the globals its code names, where they hold plain Python values:
        the graph has them baked in (``x * scale``), so a new value captures again."""
        fn = self._fn
        out = []
        cells = getattr(fn, "__closure__", None) or ()
        for c in cells:
            try:
                v = c.cell_contents
            except ValueError:
                continue
            out.append(_value_key(v))
        g = getattr(fn, "__globals__", None)
        if g is not None:
            for name in self._names_read:
                out.append(_value_key(g.get(name)))
        return tuple(out)

    def _module_key(self):
        """Every submodule's training flag and the identity of each parameter, buffer and child (``_state_key``).
        The submodule list is the one of the last capture; a changed child shows up in its parent's entry."""
        mods = self._mods
        if mods is None:
            mods = self._watch()
        return _state_key(mods)

    def _watch(self):
        self._mods = _watch_modules(self._module.modules())
        return self._mods

    def _modules_changed(self):
        """Whether a module a capture of this function ran (however the function reached it: a global, an
        argument, an attribute) or a value its code read has changed since (``train()``/``eval()``, a replaced
        parameter or layer): then the graphs made before are put aside (up to ``CACHE_SIZE_LIMIT`` states' worth)
        and the call captures again, unless the new state is one seen before, whose graphs come back."""
        used = _state_key(self._used)
        reads = self._reads_key() if self._reads else self._reads_state
        if used == self._used_state and reads == self._reads_state:
            return False
        # the graphs made under the old state are put aside, and those of the new one, if it was seen before, come
        # back: a nanoGPT-style loop that switches eval() and train() around its evaluation (which a layer's
        # ``self.training`` reads) captures each setting once, as PyTorch's guards keep a graph per setting
        stash = self._stashed
        try:
            stash[(self._used_state, self._reads_state)] = (self._entries, self._templates)
            back = stash.pop((used, reads), None)
        except TypeError:  # (a value read that cannot be hashed: nothing is kept)
            back = None
        while len(stash) > CACHE_SIZE_LIMIT:
            del stash[next(iter(stash))]
        self._entries, self._templates = back or ({}, {})
        self._used_state, self._reads_state = used, reads
        return True

    def _reads_key(self):
        return tuple(r() for r in self._reads)

    def _note_reads(self, codes):
        """What the program's functions that a capture ran read, read again before every call (a graph holds it
        fixed): the globals each names, as ``_python_values`` reads the compiled function's own, and the chains of
        ``self`` a module's method reads (``self.cfg.scale``, a class attribute, ``self.act`` replaced)."""
        top = getattr(getattr(self._fn, "__func__", self._fn), "__code__", None) if self._module is None else None
        for key, (code, g, mod) in codes.items():
            if key in self._read_codes:
                continue
            self._read_codes.add(key)
            if code is not top and code not in self._read_globals:   # (the globals once per function)
                self._read_globals.add(code)
                names = _globals_read(code)
                if names:
                    self._reads.append(lambda g=g, names=names: tuple(_value_key(g.get(n)) for n in names))
                chains = resume.global_chains(code, g)  # (``cfg.scale`` read by a helper, a hook, a layer)
                if chains is not None:
                    self._reads.append(lambda r=chains: tuple(_chain_key(v) for v in r()))
            if mod is not None:
                fn = getattr(type(mod), code.co_name, None)
                if getattr(fn, "__code__", None) is code:
                    reader = resume.self_chains(fn.__get__(mod))
                    if reader is not None:
                        self._reads.append(lambda r=reader, m=mod: tuple(_chain_key(v) for v in r(m)))
        self._reads_state = self._reads_key()

    def _note_modules(self, modules):
        new = [m for m in modules.values() if id(m) not in self._used_ids]
        self._used_ids.update(id(m) for m in new)
        self._used += _watch_modules(new)
        self._used_state = _state_key(self._used)

    def _names(self):
        m = self._module
        if m is None:
            return {}
        names = {id(p): n for n, p in m.named_parameters()}
        names.update((id(b), n) for n, b in m.named_buffers())
        return names

    # calls ---------------------------------------------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        if _PROFILE[0] is not None or _capture.is_capturing():
            return self._fn(*args, **kwargs)
        if _STANCE[0] != "default":
            how = self._by_stance()
            if how == "eager":
                return self._fn(*args, **kwargs)
            if how == "aot_eager":  # the first call of "aot_eager_then_compile": captured without fusing
                prev = _set_stance(("default", "aot_eager", False))
                try:
                    return self(*args, **kwargs)
                finally:
                    _set_stance(prev)
        if self._module is not None and _hooked(self._module) and self._impure_hooks():
            return self._run_split(args, kwargs)  # its hooks and forward eagerly, the modules it calls compiled
        if self._effects is not False:
            if self._effects is None:
                self._effects = self._effects_cut(args, kwargs)
            if self._effects and (self._module is None or not _hooked(self._module)):
                return self._effects.run(args, kwargs)
        if self._used or self._reads:
            self._modules_changed()
        try:
            key = self._key(args, kwargs)
            entry = self._entries.get(key)
        except TypeError:  # an unhashable argument: no guard can be built, so the call runs eagerly
            return self._fn(*args, **kwargs)
        if entry is None:
            return self._miss(key, args, kwargs)
        entry.calls += 1
        if entry.program is None:
            if entry.split:
                if entry.resume is not None:
                    return entry.resume.run(args, kwargs)
                return self._run_split(args, kwargs)
            return self._fn(*args, **kwargs)
        checks = entry.checks
        if checks and not all(t._vc[0] == v for t, v in checks):
            return self._capture(key, args, kwargs)  # a constant the call read on the host has changed
        try:
            return entry.program(flat_tensors(args, kwargs))
        except ConstantChanged:
            return self._capture(key, args, kwargs)  # (a tensor it reads has new memory: this graph is stale)
        except GuardFailed:
            return self._other_path(key, entry, args, kwargs)

    def _other_path(self, key, entry, args, kwargs):
        """A guard of ``entry``'s graph failed (a branch on a tensor's value goes the other way this time): the
        other graphs of the signature are tried, newest first, and the one that runs becomes the first; if none
        does, the call is captured again as a new graph beside them (up to ``VARIANTS``; past that the signature
        runs eagerly, split at its modules, as at a break)."""
        flat = flat_tensors(args, kwargs)
        for alt in entry.alts:
            if alt.checks and not all(t._vc[0] == v for t, v in alt.checks):
                continue  # a constant it read on the host has changed since
            try:
                result = alt.program(flat)
            except GuardFailed:
                continue
            alt.alts, entry.alts = (entry,) + tuple(a for a in entry.alts if a is not alt), ()
            self._entries[key] = alt
            return result
        if 1 + len(entry.alts) >= VARIANTS:
            self._entries[key] = _Entry(brk=GraphBreak(f"branches on tensor values took more than {VARIANTS} paths"),
                                        split=True)
            return self._run_split(args, kwargs)
        self._last = None
        result = self._capture(key, args, kwargs)
        new = self._last
        if new is not None and new.program is not None:
            new.alts = (entry,) + tuple(entry.alts)
        return result

    def _miss(self, key, args, kwargs):
        """A new key: an entry made from one of the callable's symbolic templates when only sizes changed and a
        template fits them; otherwise a capture, which (after an earlier capture at another size) makes a template.
        Up to ``TEMPLATES`` templates per signature, newest first (a branch on a size gives one per side)."""
        if self._piece and self._numbers_vary(key):
            return self._run_split(args, kwargs)
        sk = prev = None
        tpls = ()
        if self._dynamic is not False and self._fusing():
            sk = _sizeless_key(key)
            tpls = self._templates.get(sk, ())
            prev = next((e for k, e in reversed(self._entries.items())
                         if e.program is not None and e.lazy is None and _sizeless_key(k) == sk), None)
        if len(self._entries) >= CACHE_SIZE_LIMIT and not self._evict_other_sizes(key):
            return self._too_many(key, args, kwargs)
        flat = flat_tensors(args, kwargs) if tpls or prev is not None else None
        for tpl in tpls:
            s = tpl.size_of(flat)
            if s is None or s in tpl.failed:
                continue
            if _STANCE[0] not in ("eager_on_recompile", "fail_on_recompile"):
                # the first call at a size is recorded (an eager run): the template serves the size from the next
                # call on if the recording is its graph there (ops check and compute from sizes inside)
                return self._capture(key, args, kwargs, verify=(tpl, s))
            entry = self._from_template(key, tpl, s)
            if entry.checks and not all(t._vc[0] == v for t, v in entry.checks):
                return self._capture(key, args, kwargs)
            try:
                return entry.program(flat)
            except GuardFailed:
                return self._other_path(key, entry, args, kwargs)
        self._last = None
        if prev is None:
            result = self._capture(key, args, kwargs)
        else:
            with size_guards(flat, prev.graph.inputs) as noted:
                result = self._capture(key, args, kwargs)
        new = self._last
        if prev is not None and new is not None and new.program is not None:
            tpl, why = make_template(_parts(prev), _parts(new), noted.guards)
            if tpl is not None:
                if prev.raw is not None and new.raw is not None:
                    tpl.raw = ((tpl.sizes[0], prev.raw), (tpl.sizes[1], new.raw))
                self._templates[sk] = [tpl] + list(tpls)[:TEMPLATES - 1]
            logs.log("dynamic", f"{self.__name__}: " + (f"sizes are symbolic ({tpl.syms} integers)"
                                                          if tpl is not None else f"sizes stay static: {why}"))
        return result

    def _from_template(self, key, tpl, s, recorded=False):
        """The entry at size ``s`` made from ``tpl`` (``recorded``: after the call was recorded there)."""
        entry = self._entries[key] = _Entry(program=tpl.program(s))
        entry.lazy = (tpl, s)
        entry.checks = tpl.checks
        entry.calls = 1
        return entry

    def _numbers_vary(self, key):
        """A piece of a cut function takes the previous piece's locals, often a number read on the host (a loss
        value, a count) that differs on every call: after two captures that differ only in such numbers, calls
        with other numbers run eagerly (with the modules they call compiled) instead of capturing each value."""
        mk = _numberless(key)
        if mk in self._volatile:
            return True
        if sum(1 for k in self._entries if _numberless(k) == mk) < 2:
            return False
        self._volatile.add(mk)
        logs.log("dynamic", f"{self.__name__}: numbers among its arguments change from call to call; it runs "
                 "eagerly for new ones")
        return True

    def _evict_other_sizes(self, key):
        """Unless ``dynamic=False``, sizes are dynamic: a call that differs from captured ones only in its tensors'
        sizes (a last smaller batch, another sequence length) replaces the oldest of them instead of counting
        against the cache limit. Fused kernels take any size, so a new size only records the graph again (the
        recording run is the call itself) and loads the same kernels."""
        if self._dynamic is False:
            return False
        want = _sizeless_key(key)
        for k in self._entries:
            if _sizeless_key(k) == want:
                del self._entries[k]
                return True
        return False

    def _run_split(self, args, kwargs, fn=None):
        from ..nn.modules import module
        prev = module._MODULE_HOOK[0]
        module._MODULE_HOOK[0] = _Router(self)
        try:
            return (fn or self._fn)(*args, **kwargs)
        finally:
            module._MODULE_HOOK[0] = prev

    def _target(self):
        """The function to cut: a plain function itself; a module's ``forward`` (bound), while the module has no
        hooks (its call then is just its forward); None when there is nothing to cut."""
        if self._module is None:
            return self._fn
        m = self._module
        fwd = getattr(m, "forward", None)
        if _hooked(m) or not isinstance(fwd, types.MethodType) or fwd.__self__ is not m:
            return None
        return fwd

    def _pieces_at(self, brk):
        """A function (or a module's forward) whose capture broke is cut around the statement of the break
        (compiler/resume.py): the statements before and after it are compiled on their own, so capture resumes
        after the break."""
        fn = None if self._fullgraph else self._target()
        if fn is None:
            return None
        code = getattr(fn, "__code__", None)
        line = next((n for c, n in reversed(brk.frames) if c is code), None)
        if line is None:
            return None
        if line not in self._pieces:
            spec = resume.spec_of(fn)
            k = None if spec is None else resume._top_statement(spec.stmts, line)
            self._pieces[line] = None if k is None else self._cut(spec, {k}, fn)
        return self._pieces[line]

    def _cut(self, spec, eager, fn):
        specs = resume.cut(spec, eager)
        if specs is None:
            return None
        return resume.Pieces(spec, specs, lambda f: CompiledFunction(f, None, False, self._backend, self._dynamic,
                                                                      self._mode, self._options),
                             lambda f, args, kwargs: self._run_split(args, kwargs, f),
                             (fn.__self__,) if isinstance(fn, types.MethodType) else ())

    def _effects_cut(self, args, kwargs):
        """A plain function whose statements change Python state (``resume.effects``: a print, ``self.n += 1``,
        ``log.append(...)``) is cut around them before its first capture: they run on every call, eagerly."""
        fn = None if self._piece else self._target()
        spec = None if fn is None else resume.spec_of(fn)
        if spec is None:
            return False
        bound = (fn.__self__,) if isinstance(fn, types.MethodType) else ()
        try:
            values = dict(zip(spec.origin.args, resume.binder(spec.origin)(*bound, *args, **kwargs)))
        except TypeError:  # arguments that do not fit: the call itself raises
            return False
        eager = resume.effects(spec, values, self._module)
        if not eager:
            return False
        if self._fullgraph:
            why, line = eager[min(eager)]
            raise CompileError(f"minitorch.compile(fullgraph=True): graph break: a Python side effect, {why}, at "
                               f"{spec.origin.filename}:{line}")
        pieces = self._cut(spec, eager, fn)
        if pieces is None:
            if len(eager) < len(spec.stmts):
                return False
            pieces = _AllEager(self, spec)  # every statement has one: the function runs eagerly on every call
        pieces.why = [GraphBreak(f"a Python side effect, {why} (runs eagerly on every call)",
                                 f"{spec.origin.filename}:{line}") for why, line in eager.values()]
        for b in pieces.why:
            logs.log("graph_breaks", f"cut {self.__name__} before its first capture: {b}")
        return pieces

    def _too_many(self, key, args, kwargs):
        """Past ``CACHE_SIZE_LIMIT`` signatures (PyTorch's cache_size_limit) a new one runs eagerly for good."""
        import warnings
        warnings.warn(f"minitorch.compile: {self.__name__} has been captured for {len(self._entries)} signatures "
                      f"(cache_size_limit={CACHE_SIZE_LIMIT}); new signatures run eagerly", stacklevel=3)
        self._entries[key] = _Entry(brk=GraphBreak("cache_size_limit reached"))
        return self._fn(*args, **kwargs)

    def _impure_hooks(self):
        """Whether a hook the compiled module's call runs has a Python side effect (``resume.hooks_effect``), which
        a replay would skip; decided again when the hooks change."""
        from ..nn.modules import module as M
        d = self._module.__dict__
        key = tuple(tuple(h) for h in (d["_forward_pre_hooks"], d["_forward_hooks"], d["_backward_pre_hooks"],
                                       d["_backward_hooks"], M._global_forward_pre_hooks, M._global_forward_hooks,
                                       M._global_backward_pre_hooks, M._global_backward_hooks))
        if self._hooks_seen is None or self._hooks_seen[0] != key:
            why = resume.hooks_effect(self._module)
            self._hooks_seen = (key, why)
            if why is not None:
                logs.log("graph_breaks", f"{self.__name__} runs eagerly (the modules it calls compiled): {why}")
        return self._hooks_seen[1] is not None

    def _by_stance(self):
        """How the compiler's stance (``set_stance``) runs this call: "eager" always under "force_eager", and for
        the first call of a callable that has not captured yet under "eager_then_compile" ("aot_eager" under
        "aot_eager_then_compile"); None: as usual."""
        stance = _STANCE[0]
        if stance == "force_eager":
            return "eager"
        if stance not in _STANCES:
            raise RuntimeError(f"invalid minitorch.compile stance {stance!r}: one of {', '.join(_STANCES)}")
        if stance in ("eager_then_compile", "aot_eager_then_compile") and not self._first_done:
            self._first_done = True
            if not self._captures:
                return "eager" if stance == "eager_then_compile" else "aot_eager"
        return None

    def _capture(self, key, args, kwargs, verify=None):
        """Record the call (it runs eagerly) and make its entry. ``verify``: (template, size) of a template that
        fits the call's sizes; it serves them if the recording is its graph at that size."""
        stance = _STANCE[0]
        if stance in ("eager_on_recompile", "fail_on_recompile"):
            if stance == "eager_on_recompile":
                return self._fn(*args, **kwargs)
            fn = self._target() or (self._module.forward if self._module is not None else self._fn)
            code = getattr(getattr(fn, "__func__", fn), "__code__", None)
            where = f"filename: {code.co_filename!r}, function name: {code.co_name!r}, line number: " \
                f"{code.co_firstlineno}" if code is not None else f"function: {self.__name__}"
            why = f"{len(self._entries)} graph(s) captured before, whose guards this call does not pass" \
                if self._entries else "nothing captured yet"
            raise RuntimeError(f"Detected recompile when torch.compile stance is 'fail_on_recompile'. {where}\n"
                               f"    triggered by: {why}")
        if self._module is not None:
            self._watch()
            key = self._key(args, kwargs)
        if self._entries and logs.on("recompiles"):
            logs.log("recompiles", f"Recompiling {self.__name__}\n    triggered by the following guard failure(s):\n"
                     + "\n".join(f"    - {r}" for r in self._recompile_reason(key)))
        self._captures += 1
        fuse = self._fusing()
        # (a template's recording needs no watch for Python effects: those depend on no size the template's guards
        # let through, and a recording that is not the template's graph at the size is not kept)
        graph, result = _capture.capture(self._fn, args, kwargs, self._names(), self._fullgraph,
                                         python_effects=verify is None)
        counters["frames"]["total"] += 1
        if isinstance(graph, GraphBreak):
            counters["graph_break"][graph.reason] += 1
        else:
            counters["frames"]["ok"] += 1
            counters["stats"]["unique_graphs"] += 1
            counters["stats"]["calls_captured"] += len(graph.nodes)
        if isinstance(graph, GraphBreak):
            entry = self._entries[key] = _Entry(brk=graph, split=True)
            entry.resume = self._pieces_at(graph)
            if logs.on("graph_breaks"):
                logs.log("graph_breaks", f"graph break in {self.__name__}: {graph}")
            return result
        if self._piece and not resume.safe_outputs(graph.output_tree):
            graph = GraphBreak("a local variable that the rest of the function reads holds an object made here "
                               "(a list, a function, an object): it is not replayed")
            self._entries[key] = _Entry(brk=graph, split=True)
            return result
        if self._module is None:
            self._note_modules(graph.recorder.modules)
        else:  # modules the call ran that are not the module's own (held in a plain list)
            own = {id(m) for m in self._module.modules()}
            self._note_modules({k: m for k, m in graph.recorder.modules.items() if k not in own})
        self._note_reads(graph.recorder.codes)
        raw = raw_signature(graph) if self._dynamic is not False and self._fusing() else None
        if verify is not None:
            tpl, s = verify
            graph.recorder = None
            if raw is not None and tpl.holds_at(raw, s):
                self._from_template(key, tpl, s, recorded=True)
            else:
                tpl.failed.add(s)   # the next call at this size is captured on its own
                logs.log("dynamic", f"{self.__name__}: the graph recorded at size {s} is not the template's there: "
                         "the size is captured on its own")
            return result
        kernels = []
        if logs.on("graph"):  # (a graph's text is only made when it is asked for)
            logs.log("graph", f"captured graph of {self.__name__}:\n{graph}")
        plan = None
        if fuse and (2 * fusable_nodes(graph) < len(graph.nodes) or not reduced_chains(graph)):
            # a graph made mostly of elementwise chains that end in a reduction (a loss written out, a softmax) is
            # better fused with each chain's own backward kernel (one pass over the inputs each way) than split to
            # save the intermediates a captured backward reads; otherwise the whole backward is compiled (tanh-GELU
            # forward and backward: 21 ms against 28)
            plan = capture_backward(graph, result, flat_tensors(args, kwargs), self._whole)
        graph.recorder = None
        if plan is not None:
            self._whole = plan.whole
            if logs.on("aot_graphs"):
                logs.log("aot_graphs", f"captured backward of {self.__name__}:\n{plan.bgraph}")
            plan = optimize_plan(plan, optimize, fuse, kernels, logs.on("passes"))
            entry = _Entry(plan.graph, plan, kernels=kernels)
            entry.raw = raw
            entry.backward = plan.bgraph
            self._entries[key] = self._last = entry
            self._log_new(key, kernels)
            return result
        drop_contexts(graph)  # replayed through autograd: no context is handed out
        graph = optimize(graph, fuse=fuse, kernels=kernels, debug=logs.on("passes"))
        self._entries[key] = self._last = entry = _Entry(graph, Program(graph), kernels=kernels)
        entry.raw = raw
        self._log_new(key, kernels)
        return result

    def _log_new(self, key, kernels):
        if logs.on("guards"):
            logs.log("guards", f"guards of the new graph of {self.__name__}:\n" +
                     "\n".join(f"    - {line}" for line in self._guard_lines(key)))
        if logs.on("output_code"):
            for k in kernels:
                logs.log("output_code", f"kernel of {self.__name__}:\n{k.source}")

    def _guard_lines(self, key):
        """The guards of the graph captured under ``key``, in words, one per line."""
        names = self._arg_names()
        lines = [f"{names(j)}: {_show(a)}" for j, a in enumerate(key[0][1:])]
        return lines + [f"{name}: {_show(part)}" for name, part in zip(self._key_names()[1:], key[1:])
                        if part is not None]

    def _key_names(self):
        """What each part of a key (``_key``) holds, in words."""
        names = ["positional arguments", "keyword arguments", "arguments that are the same tensor", "grad mode",
                 "default dtype", "autocast"]
        if _STANCE[1] is not None:
            names.append("forced backend")
        if self._module is not None:
            names += ["the module's state (train/eval, its parameters, buffers, layers and plain attributes)",
                      "global module hooks"]
        elif self._names_read is not None:
            names.append("closure variables and globals it reads")
        if self._chains and (self._module is None or not _hooked(self._module)):
            names.append("values read through " + ", ".join(getattr(self._chains, "names", ("attributes",))))
        return names

    def _arg_names(self):
        """The name of the positional argument at an index, as a function (the parameters of the function or of
        the piece of one, else its index)."""
        import inspect
        spec = getattr(self._fn, "__minitorch_piece__", None)
        if spec is not None:
            params = list(spec.params)
        else:
            try:
                params = [p.name for p in inspect.signature(self._target() or self._fn).parameters.values()
                          if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
            except (TypeError, ValueError):
                params = []
        return lambda j: f"argument {params[j]!r}" if j < len(params) else f"argument {j}"

    def _recompile_reason(self, key):
        """Which guards of the closest captured signature ``key`` fails, in words."""
        names = self._key_names()
        best = min(self._entries, key=lambda k: sum(a != b for a, b in zip(k, key)) + abs(len(k) - len(key)))
        out = []
        for i, (old, new) in enumerate(zip(best, key)):
            if old == new:
                continue
            name = names[i] if i < len(names) else f"guard {i}"
            if i == 0 and len(old) == len(new):
                arg = self._arg_names()
                for j, (a, b) in enumerate(zip(old[1:], new[1:])):
                    if a != b:
                        out.append(f"{arg(j)}: {_show(b)} (captured: {_show(a)})")
            else:
                out.append(f"{name}: {_show(new)} (captured: {_show(old)})")
        if len(best) != len(key):
            out.append("the guards themselves differ (a stance's forced backend, values read)")
        return out

    # inspection ----------------------------------------------------------------------------------------------
    @property
    def graphs(self):
        """Every graph captured so far: this callable's, then those of its pieces (a function cut at a break)."""
        return [e.graph for c in [self] + self._parts() for e in c._all_entries() if e.graph is not None]

    def _all_entries(self):
        """Every entry, with the graphs of other paths kept beside each (``alts``)."""
        return [x for e in self._entries.values() for x in (e, *e.alts)]

    def _parts(self):
        """The compiled pieces of this function cut at its breaks or side effects (compiler/resume.py), each
        followed by its own pieces."""
        out = []
        for p in [self._effects or None] + list(self._pieces.values()):
            for _, c, _ in (p.parts if p is not None else ()):
                if c is not None:
                    out += [c] + c._parts()
        return out

    @property
    def code(self):
        """The generated source of every fused kernel of every graph captured so far (with the variants that read
        strided inputs in place, once calls have made them)."""
        parts = []
        for e in self._all_entries():
            for k in e.kernels:
                parts += _sources(k)
        parts += [c.code for c in self._children.values() if c.code]
        parts += [s for c in self._parts() for e in c._all_entries() for k in e.kernels for s in _sources(k)]
        return "\n\n".join(parts)

    def _reset(self):
        self._entries.clear()
        self._templates.clear()
        self._children.clear()
        self._pieces.clear()
        self._effects = None
        self._chains = None
        self._volatile.clear()
        self._used, self._used_ids, self._used_state = [], set(), None
        self._reads, self._read_codes, self._read_globals, self._reads_state = [], set(), set(), None
        self._stashed.clear()
        self._stateless = weakref.WeakValueDictionary()

    def __get__(self, obj, objtype=None):
        # a compiled function stored on a class binds like a method
        return self if obj is None else functools.partial(self, obj)


def _globals_read(code):
    """The global names a code object (and the functions and comprehensions inside it) loads: ``co_names`` also
    holds every attribute name, which would be looked up on every call for nothing."""
    import dis
    out, todo = [], [code]
    while todo:
        c = todo.pop()
        for ins in dis.get_instructions(c):
            if ins.opname in ("LOAD_GLOBAL", "LOAD_NAME", "STORE_GLOBAL") and ins.argval not in out:
                out.append(ins.argval)
        todo += [k for k in c.co_consts if hasattr(k, "co_code")]
    return tuple(out)


def _value_key(v):
    """A plain value as itself; a tensor as its identity and requires_grad (the graph reads it by reference, and
    took the autograd or the plain path by its flag); anything else not at all (modules the call ran are checked
    apart: ``CompiledFunction._modules_changed``)."""
    if type(v) in _SCALAR_TYPES:
        return _scalar_key(v)
    if isinstance(v, Tensor):
        return (id(v), v._requires_grad)
    if type(v) in (list, tuple, set, frozenset, dict, np.ndarray):
        return _content_key(v)  # (read whole by the call: changed in place, it is another value)
    return id(v)  # (a module, an optimizer or a function rebound: the graph ran the old one)


def _watch_modules(modules):
    """(``__dict__``, names of its plain attributes) of every module given, for ``_state_key``."""
    internal = _module_internals()
    return [(m.__dict__, tuple(k for k in m.__dict__ if k not in internal)) for m in modules]


def _state_key(mods):
    """Every submodule's training flag and the identity of each parameter (with requires_grad), buffer and
    child: a replaced layer or parameter, or train()/eval(), makes a new key. Plain attributes the forward may
    read (a scale, a step count, a mask) count by the names the module had when watched, plus how many
    attributes it has, so that one added since captures again (the Module's own bookkeeping entries are not
    walked on every call: that made the key 2x slower)."""
    parts = []
    add = parts.append
    for d, names in mods:
        add(d.get("training"))  # (a compiled module inside reads its original's)
        add(len(d))
        for k in names:
            v = d.get(k, _ABSENT)
            t = type(v)
            if t in _SCALAR_TYPES:
                add(v)
            elif t is Tensor:
                add(id(v))
                add(v._requires_grad)
            elif t is tuple:
                add(id(v))  # (replaced: another tuple)
            elif t in _MUTABLE:
                add(_content_key(v))  # (a list appended to, an array written in place)
            else:
                add(v if v is _ABSENT else id(v))  # (a function, a dtype, an object replaced)
        for hooks in (d["_forward_hooks"], d["_forward_pre_hooks"], d["_backward_hooks"],
                      d["_backward_pre_hooks"]):
            if hooks:
                add(tuple(hooks))
        for p in d["_parameters"].values():
            add(id(p))
            add(p is not None and p._requires_grad)
        for b in d["_buffers"].values():
            add(id(b))
        for c in d["_modules"].values():
            add(id(c))
    return tuple(parts)


def _aliasing(args, kwargs):
    """Which tensor arguments are the same tensor: the graph has one input per distinct tensor."""
    if not kwargs and not any(isinstance(a, (tuple, list, dict)) for a in args):  # flat arguments: no walk
        if len(args) < 2:
            return None
        ids = [id(t) for t in args if isinstance(t, Tensor)]
    else:
        from .ir import leaves
        ids = [id(t) for t in leaves((args, kwargs)) if isinstance(t, Tensor)]
    if len(ids) < 2 or len(set(ids)) == len(ids):
        return None
    first = {}
    return tuple(first.setdefault(i, k) for k, i in enumerate(ids))


def _global_hooks_key():
    from ..nn.modules import module as M
    if not (M._global_forward_hooks or M._global_forward_pre_hooks or M._global_backward_hooks
            or M._global_backward_pre_hooks):
        return None
    return (tuple(M._global_forward_hooks), tuple(M._global_forward_pre_hooks), tuple(M._global_backward_hooks),
            tuple(M._global_backward_pre_hooks))


def _autocast_key():
    if not any(st[0] for st in _autocast._STATE.values()):  # no region is on: the target dtypes do not matter
        return None
    return tuple(tuple(v) for v in _autocast._STATE.values())


_NUMBER = object()
_SCALAR_TYPES = (bool, int, float, str, complex, type(None))
_MUTABLE = (list, dict, set, np.ndarray)
_ABSENT = object()  # in module keys: an attribute gone
_INTERNALS = []


def _module_internals():
    """The attribute names every Module has from ``Module.__init__`` (its stores and hook tables)."""
    if not _INTERNALS:
        from ..nn.modules.module import Module
        _INTERNALS.append(frozenset(Module().__dict__))
    return _INTERNALS[0]


def _check(mode, options, backend):
    if mode is not None and options is not None:
        raise RuntimeError("Either mode or options can be specified, but both can't be specified at the same time.")
    if mode is not None and mode not in _MODES:
        raise RuntimeError(f"Unrecognized mode={mode}, should be one of: {', '.join(_MODES)}")
    if callable(backend) and not isinstance(backend, str):
        raise RuntimeError("minitorch.compile takes a backend by name: one of " + ", ".join(map(repr, _BACKENDS)))
    if backend not in _BACKENDS:
        raise RuntimeError(f"Invalid backend: {backend!r}, see `minitorch.compiler.list_backends()` for available "
                           "backends.")


def compile(model=None, *, fullgraph=False, dynamic=None, backend="inductor", mode=None, options=None,  # noqa: A001
            disable=False):
    """Compile a function or module: capture its ops into a graph on the first call, fuse elementwise chains into
    generated Numba kernels, and replay the graph on later calls (``torch.compile``).

    Usable as ``compile(fn)``, ``@compile`` and ``@compile(fullgraph=True)``. A module gives an
    ``OptimizedModule`` whose ``_orig_mod`` is the module (its ``state_dict`` keys start with ``_orig_mod.``).
    ``backend="eager"`` (or ``"aot_eager"``) replays the captured graph without fusing; ``disable=True`` returns
    ``model`` unchanged.
    """
    _check(mode, options, backend)
    if model is None:
        return lambda m: compile(m, fullgraph=fullgraph, dynamic=dynamic, backend=backend, mode=mode,
                                 options=options, disable=disable)
    if disable:
        return model
    from ..nn.modules.module import Module
    if isinstance(model, Module):
        from .module import OptimizedModule
        return OptimizedModule(model, CompiledFunction(model._call_impl, model, fullgraph, backend, dynamic, mode,
                                                       options))
    if not callable(model):
        raise RuntimeError("torch.compile() expects a callable: got " + type(model).__name__)
    return CompiledFunction(model, None, fullgraph, backend, dynamic, mode, options)


def reset():
    """Forget every captured graph (``torch.compiler.reset``); the next calls capture again."""
    for c in _ALL:
        c._reset()


def list_backends(exclude_tags=()):
    return sorted(_BACKENDS)


def is_compiling():
    """True while minitorch.compile is capturing a call."""
    return _capture.is_capturing()


def is_dynamo_compiling():
    """True while minitorch.compile is capturing a call (``torch.compiler.is_dynamo_compiling``)."""
    return _capture.is_capturing()


def is_exporting():
    """True while ``minitorch.onnx.export`` is capturing the model."""
    rec = _capture._ACTIVE[0]
    return rec is not None and rec.python_effects is False


_STANCES = ("default", "force_eager", "eager_on_recompile", "fail_on_recompile", "eager_then_compile",
            "aot_eager_then_compile")
_STANCE = ["default", None, False]  # stance, forced backend, skip_guard_eval_unsafe


def _set_stance(new):
    old = tuple(_STANCE)
    _STANCE[:] = new
    return old


def _forbidden(what):
    if _capture.is_capturing():
        raise AssertionError(f"Attempt to trace forbidden callable {what}: the compiler's stance cannot change "
                             "inside a compiled call")


class set_stance:
    """Set how compiled callables behave from now on (``torch.compiler.set_stance``), as a plain call, a context
    manager (the previous stance comes back at its end) or a decorator (the stance holds while the decorated
    function runs).

    Stances: ``"default"`` (capture and replay); ``"force_eager"`` (every compiled callable runs its original code);
    ``"eager_on_recompile"`` (graphs already captured are replayed, a call that would capture runs eagerly instead);
    ``"fail_on_recompile"`` (a call that would capture raises ``RuntimeError``); ``"eager_then_compile"`` (the first
    call of a compiled callable runs eagerly, later ones compile: its sizes are seen before the first capture) and
    ``"aot_eager_then_compile"`` (the first call is captured and replayed without fusing, as ``backend="aot_eager"``;
    later ones are fused). ``force_backend`` (with the default stance) makes captures use that backend; its graphs
    are kept apart from the others. ``skip_guard_eval_unsafe`` is accepted, and the guards are still checked (safe,
    and they cost microseconds here). Calling it inside a compiled call raises ``AssertionError``."""

    def __init__(self, stance="default", *, skip_guard_eval_unsafe=False, force_backend=None):
        _forbidden(set_stance)
        if force_backend is not None:
            if stance != "default":
                raise RuntimeError("non-default stance cannot have force_backend set")
            _check(None, None, force_backend)
        self.stance = (stance, force_backend, bool(skip_guard_eval_unsafe))
        self.prev = _set_stance(self.stance)

    def __call__(self, fn):
        _set_stance(self.prev)  # a decorator: the stance holds only while fn runs
        stance = self.stance

        @functools.wraps(fn)
        def under_stance(*args, **kwargs):
            _forbidden(fn)
            prev = _set_stance(stance)
            try:
                return fn(*args, **kwargs)
            finally:
                _set_stance(prev)
        return under_stance

    def __enter__(self):
        _set_stance(self.stance)

    def __exit__(self, *exc):
        _set_stance(self.prev)
        return False


def allow_in_graph(fn):
    """Mark ``fn`` as code the compiler records without looking into it for Python side effects
    (``torch.compiler.allow_in_graph``): its ops join the graph like any other (minitorch records every op a call
    runs), and effects inside it happen at the capture only, as in PyTorch. Returns ``fn``."""
    _mark(fn, "__minitorch_in_graph__")
    return fn


def assume_constant_result(fn):
    """Mark ``fn`` as returning the same value on every call (``torch.compiler.assume_constant_result``): a call
    of it in a compiled function is not cut out as Python state that changes (``cfg.get_scale()``), its value is
    the capture's. Nothing checks that it really is constant. Returns ``fn``."""
    _mark(fn, "__minitorch_constant__")
    return fn


def _mark(fn, name):
    f = getattr(fn, "__func__", fn)
    try:
        setattr(f, name, True)
    except (AttributeError, TypeError):
        raise TypeError(f"cannot mark {fn!r}: a Python function or method is expected") from None
    code = getattr(f, "__code__", None)
    if code is not None:
        resume.MARKED.add(code)  # (the calls the capture watches are known by their code)


def cudagraph_mark_step_begin():
    """``torch.compiler.cudagraph_mark_step_begin``: a new training or inference iteration begins. PyTorch's CUDA
    graphs reuse the output memory of the previous iteration from then on; minitorch does not record CUDA graphs
    and never hands out a tensor twice, so there is nothing to release."""


def disable(fn=None, recursive=True, *, reason=None):
    """Run ``fn`` eagerly even inside a compiled call (as ``torch.compiler.disable``): a graph break at the call,
    whose reason names ``reason`` when given."""
    if fn is None:
        return lambda f: disable(f, recursive, reason=reason)

    @functools.wraps(fn)
    def run_eagerly(*args, **kwargs):
        rec = _capture._ACTIVE[0]
        if rec is not None and rec.depth == 0:
            rec.stop(f"{getattr(fn, '__qualname__', fn)} is marked minitorch.compiler.disable"
                     + (f" ({reason})" if reason else ""))
        return fn(*args, **kwargs)
    return run_eagerly


__all__ = ["compile", "CompiledFunction", "CompileError", "reset", "list_backends", "is_compiling", "disable",
           "set_stance", "is_dynamo_compiling", "is_exporting", "allow_in_graph", "assume_constant_result",
           "cudagraph_mark_step_begin"]
