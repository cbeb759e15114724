"""Symbolic sizes: one captured entry that serves every size of a dimension (or two), made from two captures.

When a compiled callable is captured a second time for arguments that differ from an earlier capture only in one
size (another batch size, a last smaller batch, another sequence length), or in two (a batch size and a sequence
length, each with values of its own in both captures), the two optimized entries are compared object by object
(graphs, nodes, values, fused kernels, programs). Where they agree they are the same code; every integer that
differs must be ``k*s**p`` (``p`` up to 3, ``k`` a positive integer) or ``s + c`` of the changing size ``s`` (a
batch's rows, a stride, a row count of a fused reduction, the ``T*T`` scores of attention, the index ``T - 1`` of
``h[:, [-1]]``); with two sizes, ``k * B**p * T**q`` (rows ``B*T``, scores ``B*H*T*T``) or ``B + c`` or ``T + c``,
and exactly one of those must fit (two captures where both sizes grew by the same step cannot tell ``B + 1`` from
``T - 1``: no template); views of a tensor from before the call follow the size too. Anything else that
differs (a constant tensor with other values, another kernel, a float computed from a size) means the sizes are not
interchangeable, and each new size is captured as before. Otherwise the comparison is a ``Template``: the first
call with a new size ``s >= 2`` (sizes 0 and 1 are never generalized to, as broadcasting treats them apart) is
recorded (an eager run), and if the recording is the template's graph at ``s`` (``Template.holds_at``: what an op
computes from a size inside it, a bounds check or a pooled length, is seen only by running it there) later calls at
``s`` get the entry instantiated at ``s`` (both sizes read off the arguments), running the same generated kernels
with nothing optimized or generated again. What a call replays (the
program, the fused kernels' sizes) is made at once and shares every object whose fields do not depend on ``s``;
the graphs are made only when something reads them (``graphs``, ``code``, explain).

Guards: while the second size is captured, the changing sizes of the arguments read through ``shape``,
``size()`` and ``numel()`` are ``SizeInt``s, which note the comparisons the user's code makes with numbers or other
sizes (``if x.size(0) > 16``, ``assert T <= block_size``), also of integers computed from them (``B * T > n``,
``SizeExpr``); a size for which one of them comes out otherwise does not use the template. Sizes of tensors the
call makes are not followed (which size a dimension is cannot be told from its value): a comparison with one of
them, ``len()`` of a tensor whose first size may change (Python makes its result a plain int), a changing size made
a float or a plain int (``T / 2``, ``int(T)``), or a slice that is clamped or counts from the end, leaves the
capture without a template. ``dynamic=False`` turns templates off.
"""
import gc
import itertools
import math
import operator
import re
import types

import numpy as np

from ..tensor import Size, Tensor, _make, _wrap_dim
from ..ops import index as index_ops
from .ir import _IDS, Graph, Node, SizeExpr, SizeInt, Value, _tree, _unknown_in, eval_tree
from .runtime import Program, _meta


class Mismatch(Exception):
    """The two captures differ in something other than a function of the size that the template can follow."""


class _Same:
    __slots__ = ("obj",)

    def __init__(self, obj):
        self.obj = obj

    def inst(self, s, memo):
        return self.obj


class Sym:
    """An integer ``k * s0**p0 * s1**p1 + c`` of the symbolic sizes ``s = (s0, s1)`` (one or two of them; each
    exponent 0..3; ``c`` only with ``k == 1`` and one size to the first power). ``p`` an int: one size."""

    __slots__ = ("k", "p", "c")

    def __init__(self, k, c, p=1):
        self.k, self.c, self.p = k, c, (p,) if type(p) is int else tuple(p)

    def at(self, s):
        v = self.k
        for x, e in zip((s,) if type(s) is int else s, self.p):
            if e:
                v *= x ** e
        return v + self.c

    def inst(self, s, memo):
        return self.at(s)

    def var(self):
        """The size this integer is ``k*s_i + c`` of (one size, to the first power), else None."""
        if sum(self.p) == 1:
            return self.p.index(1)
        return None

    def __repr__(self):
        names = ["s"] if len(self.p) == 1 else [f"s{i}" for i in range(len(self.p))]
        factors = [n + (f"**{e}" if e != 1 else "") for n, e in zip(names, self.p) if e]
        return "*".join([str(self.k)] + factors) + (f"{self.c:+d}" if self.c else "")


def _unit(i, n):
    return tuple(int(j == i) for j in range(n))


# exponents tried per number of sizes, lowest total degree first (a row count B*T before a B*B)
_EXPONENTS = {n: sorted((p for p in itertools.product(range(4), repeat=n) if any(p)), key=sum)
              for n in (1, 2)}


class _Seq:
    __slots__ = ("kind", "items")

    def __init__(self, kind, items):
        self.kind, self.items = kind, items

    def inst(self, s, memo):
        if self.kind is list:
            out = memo.get(id(self))
            if out is None:
                out = memo[id(self)] = []
                out.extend(t.inst(s, memo) for t in self.items)
            return out
        items = [t.inst(s, memo) for t in self.items]
        if self.kind is tuple or self.kind is Size:
            return self.kind(items)
        return tuple.__new__(self.kind, items)  # a named tuple (as ir.map_tree makes one)


class _Dict:
    __slots__ = ("kind", "items")

    def __init__(self, kind, items):
        self.kind, self.items = kind, items

    def inst(self, s, memo):
        out = memo.get(id(self))
        if out is None:
            out = memo[id(self)] = self.kind()
            for k, v in self.items:
                out[k.inst(s, memo)] = v.inst(s, memo)
        return out


class _Obj:
    """An object of the same type in both captures, rebuilt field by field (``__dict__`` and ``__slots__``)."""

    __slots__ = ("kind", "fields", "after")

    def __init__(self, kind):
        self.kind, self.fields, self.after = kind, [], None

    def inst(self, s, memo):
        out = memo.get(id(self))
        if out is not None:
            return out
        out = memo[id(self)] = object.__new__(self.kind)
        for name, t in self.fields:
            object.__setattr__(out, name, t.inst(s, memo))
        if self.after is not None:
            self.after(out, s, memo)
        return out


class _Fresh:
    """A Value's id: a new one per instance."""

    def inst(self, s, memo):
        return next(_IDS)


class _Program:
    __slots__ = ("graph",)

    def __init__(self, graph):
        self.graph = graph

    def inst(self, s, memo):
        out = memo.get(id(self))
        if out is None:
            out = memo[id(self)] = Program(self.graph.inst(s, memo))
        return out


class _View:
    """A view of a storage both captures read, at the instance's shape, strides and offset (sharing the version
    counter of the storage's tensors, as any view does)."""

    __slots__ = ("t", "shape", "stride", "offset")

    def __init__(self, t, shape, stride, offset):
        self.t, self.shape, self.stride, self.offset = t, shape, stride, offset

    def inst(self, s, memo):
        out = memo.get(id(self))
        if out is None:
            t = self.t
            out = memo[id(self)] = _make(t._storage, self.shape.inst(s, memo), self.stride.inst(s, memo),
                                         self.offset.inst(s, memo), t._dtype, t._device, t._vc)
        return out


class _IntData:
    """A small integer tensor whose elements are integers of the template."""

    __slots__ = ("t", "items")

    def __init__(self, t, items):
        self.t, self.items = t, items

    def inst(self, s, memo):
        out = memo.get(id(self))
        if out is None:
            t = self.t
            data = np.array([x.inst(s, memo) for x in self.items], dtype=t._dtype.storage_np)
            out = memo[id(self)] = _make(data, tuple(t._shape), tuple(_strides(t._shape)), 0, t._dtype, t._device)
        return out


def _strides(shape):
    out, n = [], 1
    for d in reversed(shape):
        out.append(n)
        n *= d
    return out[::-1]


class _Method:
    __slots__ = ("func", "obj")

    def __init__(self, func, obj):
        self.func, self.obj = func, obj

    def inst(self, s, memo):
        return types.MethodType(self.func, self.obj.inst(s, memo))


_PLAIN = (str, bytes, float, complex, bool, type(None), type, types.FunctionType, types.BuiltinFunctionType,
          types.ModuleType)
# fields that hold what the capture happened to see rather than what the entry computes: the later capture's
# value is kept (version counters, caches of loaded kernels, the ids of storages that views share)
_KEEP = {"version", "_fwd", "_bwd", "_strided_mods", "calls", "_fold"}
# per class: fields replay does not read (a fused kernel's input values: only their count, for its sources)
_KEEP_OF = {"FusedKernel": {"inputs"}}


class _Differ:
    """``runtime``: only what replaying needs (programs, kernels, plans); graph values are the later capture's own
    (replay reads their dtypes and devices, not their shapes), graphs and nodes are left out, and every object
    whose fields are all the same is shared rather than copied."""

    def __init__(self, sa, sb, runtime=False):
        self.sa, self.sb = ((sa,), (sb,)) if type(sa) is int else (tuple(sa), tuple(sb))
        self.memo = {}
        self.syms = 0
        self.runtime = runtime

    def fail(self, why):
        raise Mismatch(why)

    def int_(self, a, b):
        if a == b:
            return _Same(b)
        sa, sb = self.sa, self.sb
        n = len(sa)
        if max(abs(a), abs(b)) < 1 << 40:
            # s_i + c (a length less one), k * s0**p0 * s1**p1 (rows, strides, the T*T of attention scores)
            fits = {(1, a - x, _unit(i, n)) for i, (x, y) in enumerate(zip(sa, sb)) if b - a == y - x}
            for p in _EXPONENTS[n]:
                da = db = 1
                for x, y, e in zip(sa, sb, p):
                    da, db = da * x ** e, db * y ** e
                if a > 0 and a % da == 0 and b == a // da * db:
                    fits.add((a // da, 0, p))
            if len(fits) == 1:
                self.syms += 1
                (k, c, p), = fits
                return Sym(k, c, p)
            if fits:
                self.fail(f"{a} vs {b}: more than one function of the sizes fits")
        self.fail(f"{a} vs {b}: not k*s**p or s+c in the size")

    def tensor(self, a, b):
        if a._storage is b._storage and a._dtype == b._dtype and a._device == b._device:
            # views of one tensor from before the call (a causal mask sliced to the sequence length)
            t = _View(b, self.diff(a._shape, b._shape), self.diff(a._stride, b._stride),
                      self.diff(a._offset, b._offset))
            return _Same(b) if all(type(x) is _Same for x in (t.shape, t.stride, t.offset)) else t
        if a._shape != b._shape or a._dtype != b._dtype or a._device != b._device:
            self.fail(f"a constant tensor of another size ({tuple(a._shape)} vs {tuple(b._shape)})")
        x, y = a.detach().cpu().numpy(), b.detach().cpu().numpy()
        if np.array_equal(x, y):
            return _Same(b)
        if x.dtype.kind in "iu" and x.size <= 64 and b._device.type == "cpu":
            # a few indices made from sizes (``h[:, [-1]]`` is position T - 1)
            return _IntData(b, [self.int_(int(p), int(q)) for p, q in zip(x.ravel(), y.ravel())])
        self.fail(f"a constant tensor with other values ({tuple(a._shape)}, {a._dtype})")

    def diff(self, a, b):
        if a is b:
            return _Same(b)
        ta = type(a)
        if (ta is int or isinstance(a, SizeInt)) and (type(b) is int or isinstance(b, SizeInt)):
            return self.int_(int(a), int(b))
        if ta is not type(b):
            self.fail(f"{ta.__name__} vs {type(b).__name__}")
        if ta is int:
            return self.int_(a, b)
        if issubclass(ta, _PLAIN) or issubclass(ta, np.generic):
            if a == b:
                return _Same(b)
            self.fail(f"{a!r} vs {b!r}")
        if ta is np.ndarray:
            if a.dtype == b.dtype and np.array_equal(a, b):
                return _Same(b)
            self.fail("arrays with other values")
        key = (id(a), id(b))
        got = self.memo.get(key)
        if got is not None:
            return got
        if ta is tuple or ta is Size or (issubclass(ta, tuple) and hasattr(a, "_fields")):
            if len(a) != len(b):
                self.fail("tuples of other lengths")
            t = _Seq(ta, [self.diff(x, y) for x, y in zip(a, b)])
            return _Same(b) if self.runtime and all(type(x) is _Same for x in t.items) else t
        if ta is list:
            if len(a) != len(b):
                self.fail("lists of other lengths")
            t = self.memo[key] = _Seq(list, [])
            t.items.extend(self.diff(x, y) for x, y in zip(a, b))
            if self.runtime and all(type(x) is _Same for x in t.items):
                t = self.memo[key] = _Same(b)
            return t
        if ta is dict:
            if len(a) != len(b):
                self.fail("dicts of other lengths")
            t = self.memo[key] = _Dict(dict, [])
            for (ka, va), (kb, vb) in zip(a.items(), b.items()):
                t.items.append((self.diff(ka, kb), self.diff(va, vb)))
            return t
        if ta is frozenset or ta is set:
            if a != b:
                self.fail("sets differ")
            return _Same(b)
        if ta is Tensor:
            t = self.memo[key] = self.tensor(a, b)
            return t
        if ta is Program and not self.runtime:
            t = self.memo[key] = _Program(None)
            t.graph = self.diff(a.graph, b.graph)
            return t
        if ta is types.MethodType:
            if a.__func__ is not b.__func__:
                self.fail("methods of other functions")
            return _Method(a.__func__, self.diff(a.__self__, b.__self__))
        if self.runtime and (issubclass(ta, (Value, Graph, Node)) or ta.__name__ == "_FwdGraph"):
            return _Same(b if issubclass(ta, Value) else None)
        if issubclass(ta, Value):
            return self.value(a, b, key)
        if ta is Graph:
            return self.graph(a, b, key)
        fields = _fields(a)
        if fields is None or fields != _fields(b):
            self.fail(f"{ta.__name__} objects that are not the same")
        t = self.memo[key] = _Obj(ta)
        keep = _KEEP_OF.get(ta.__name__, ())
        if ta is Program:  # (its constants' layouts follow its constants: taken anew at each size)
            fields = [f for f in fields if f not in ("const_meta", "layout_seen")]
            t.after = _program_meta
        for name in fields:
            va, vb = getattr(a, name), getattr(b, name)
            t.fields.append((name, _Same(vb) if name in _KEEP or name in keep else self.diff(va, vb)))
        if self.runtime and all(type(x) is _Same for _, x in t.fields):
            t = self.memo[key] = _Same(b)
        return t

    def value(self, a, b, key):
        t = self.memo[key] = _Obj(type(a))
        for name in _fields(a):
            va, vb = getattr(a, name), getattr(b, name)
            if name == "id":
                t.fields.append((name, _Fresh()))
            elif name == "version":
                t.fields.append((name, _Same(vb)))
            elif name == "geom":
                t.fields.append((name, _Seq(tuple, [self.diff(va[0], vb[0]), self.diff(va[1], vb[1]), _Same(vb[2])])))
            elif name == "tensor" and a.kind != "const":
                # a value computed at the capture (a static view): the capture's tensor, of that capture's size
                t.fields.append((name, _Same(vb if va is vb else None)))
            else:
                t.fields.append((name, self.diff(va, vb)))
        return t

    def graph(self, a, b, key):
        t = self.memo[key] = _Obj(Graph)
        for name in ("inputs", "nodes", "consts", "output_tree"):
            t.fields.append((name, self.diff(getattr(a, name), getattr(b, name))))
        if [x for x, _ in a.checks] != [x for x, _ in b.checks] or any(x is not y for (x, _), (y, _) in
                                                                      zip(a.checks, b.checks)):
            self.fail("other host-read constants")
        t.fields.append(("checks", _Same(b.checks)))
        t.fields.append(("recorder", _Same(None)))
        pa = [i for i, v in enumerate(a.consts) if id(v) in a.private]
        pb = [i for i, v in enumerate(b.consts) if id(v) in b.private]
        if pa != pb:
            self.fail("other graph-private constants")
        t.fields.append(("private", _Same(None)))

        def private(g, s, memo):
            g.private = {id(g.consts[i]) for i in pb}
        t.after = private
        return t


def _program_meta(program, s, memo):
    program.const_meta = [(t, t._storage, _meta(t)) for _, t in program.consts]
    program.layout_seen = -1  # (checked on its first call)


def _fields(o):
    names = []
    for cls in type(o).__mro__:
        names += [n for n in cls.__dict__.get("__slots__", ()) if hasattr(o, n)]
    d = getattr(o, "__dict__", None)
    if d is not None:
        names += list(d)
    elif not names:
        return None
    return names


class Template:
    """What two captures of one callable at sizes ``sa`` and ``sb`` share. ``size_of(tensors)`` is the size a call's
    tensors have (None where they do not fit); ``program(s)`` the entry's program at that size (what a call
    replays, made at once) and ``display(s)`` its (graph, kernels, backward graph), made when something reads them
    (``graphs``, ``code``, explain)."""

    def __init__(self, display, runtime, inputs, syms, checks, guards, n=1):
        self.n = n            # how many sizes are symbolic (1 or 2)
        self._display = display
        self._runtime = runtime
        self.inputs = inputs  # per graph input: (shape, strides) as tuples of ints and Syms
        self.syms = syms      # how many integers are symbolic
        self.checks = checks  # the later capture's host-read constants (the same tensors for every size)
        self.guards = guards  # (op, left, right, outcome): comparisons of sizes the user's code made (size trees)
        self.raw = None       # (sizes, raw_signature) of both captures' recorded graphs, for ``holds_at``
        self.sizes = None     # the sizes of the two captures (ints, or pairs with two symbolic sizes)
        self.failed = set()   # sizes whose recording was not the template's graph

    def size_of(self, tensors):
        if len(tensors) != len(self.inputs):
            return None
        s = [None] * self.n
        for t, (shape, stride) in zip(tensors, self.inputs):
            if len(t._shape) != len(shape):
                return None
            for got, want in zip(t._shape, shape):
                i = want.var() if type(want) is Sym else None
                if i is not None:
                    if (got - want.c) % want.k:
                        return None
                    v = (got - want.c) // want.k
                    if s[i] is None:
                        s[i] = v
                    elif v != s[i]:
                        return None
        if any(v is None or v < 2 for v in s):
            return None
        if not all(_CMP[op](eval_tree(x, s), eval_tree(y, s)) == r for op, x, y, r in self.guards):
            return None
        s = s[0] if self.n == 1 else tuple(s)
        for t, (shape, stride) in zip(tensors, self.inputs):
            if tuple(_at(d, s) for d in shape) != t._shape or tuple(_at(d, s) for d in stride) != t._stride:
                return None
        return s

    def program(self, s):
        return self._runtime.inst(s, {})

    def holds_at(self, raw, s):
        """Whether the graph recorded at size ``s`` (``raw_signature``) is the template's graph at ``s``: the same
        text, an integer the same in both captures the same again, every other one the template's function of the
        size at ``s``. What an op computes from sizes inside (a bounds check, a pooled length ``(T - k) // 2 + 1``,
        a shift modulo the length) is seen only by running the op at that size."""
        if self.raw is None:
            return False
        (sa, (ta, ia)), (sb, (tb, ib)) = self.raw
        text, ints = raw
        if not text == ta == tb or not len(ints) == len(ia) == len(ib):
            return False
        d = _Differ(sa, sb)
        for a, b, x in zip(ia, ib, ints):
            if a == b:
                if x != a:
                    return False
                continue
            try:
                sym = d.int_(a, b)
            except Mismatch:
                return False
            if sym.at(s) != x:
                return False
        return True

    def display(self, s):
        return self._display.inst(s, {})


_TOKENS = re.compile(r"%[A-Za-z_]+\d+|\d+")


def raw_signature(graph):
    """A recorded graph as (its text with every value numbered in order of appearance and every integer written
    ``#``, those integers in order): two recordings of one program at two sizes have the same text."""
    labels = [c.label for c in graph.consts]
    storages = {}
    try:
        for c in graph.consts:   # a constant by the storage it reads (a buffer, or a view of it sliced to a size);
            t = c.tensor         # a number by its value (a divisor ``max(0, T - correction)``)
            scalar = len(c.shape) == 0 and c.device.type == "cpu"
            c.label = f"c{storages.setdefault(id(t._storage), len(storages))}" if t is not None and not scalar \
                else None
        text = str(graph)
    finally:
        for c, label in zip(graph.consts, labels):
            c.label = label
    names, out, ints, pos = {}, [], [], 0
    for m in _TOKENS.finditer(text):
        out.append(text[pos:m.start()])
        tok = m.group()
        if tok[0] == "%":
            out.append(names.setdefault(tok, f"%{len(names)}"))
        else:
            out.append("#")
            ints.append(int(tok))
        pos = m.end()
    out.append(text[pos:])
    for c in graph.consts:   # where a constant is in its storage; small integer ones (indices made from sizes) by value
        t = c.tensor
        if t is None:
            continue
        ints += [t._offset, *t._stride]
        if not t._dtype.is_floating_point and t.numel() <= 64 and t._device.type == "cpu":
            ints += [int(x) for x in t.detach().numpy().ravel()]
    return "".join(out), tuple(ints)


def _ints(tree):
    """The integers among the leaves of nested tuples, lists and dicts (bools left out)."""
    from .ir import leaves
    return [x for x in leaves(tree) if isinstance(x, int) and not isinstance(x, bool)]


def _at(d, s):
    return d.at(s) if type(d) is Sym else d


_CMP = {"lt": operator.lt, "le": operator.le, "gt": operator.gt, "ge": operator.ge, "eq": operator.eq,
        "ne": operator.ne}


class size_guards:
    """While a call is captured at a new size: the sizes of its tensor arguments that differ from the last
    capture's graph inputs read as ``SizeInt`` through ``shape``, ``size()`` and ``numel()``, and comparisons with
    them (or with integers computed from them) collect in ``guards`` (the template built from this capture is used
    only for sizes that compare the same). A comparison with a size of a tensor the call makes (read by the user's
    code), or ``len()`` of such a tensor or of an argument whose first size changes, leaves the capture without a
    template (an ``("opaque", why)`` entry)."""

    def __init__(self, tensors, inputs):
        self.guards = []
        self.dims = {}
        self.args = {id(t) for t in tensors}
        # the tensors alive before the call (any other was made by it), held so that no id of theirs is reused
        self.alive = [o for o in gc.get_objects() if issubclass(type(o), Tensor)]  # (not isinstance: a proxy's
        self.pre = {id(o) for o in self.alive}                                     # __class__ runs code)
        if len(tensors) == len(inputs):
            for t, v in zip(tensors, inputs):
                if len(t._shape) == len(v.shape):
                    d = frozenset(i for i, (x, y) in enumerate(zip(t._shape, v.shape)) if x != y)
                    if d:
                        self.dims[id(t)] = d

    def _made(self, t):
        """Whether ``t`` is a tensor the call made, read by the user's code (not inside a recorded op)."""
        rec = SizeInt.recorder[0]
        return rec is not None and not rec.depth and id(t) not in self.args and id(t) not in self.pre

    def __enter__(self):
        if not self.dims:
            return self
        dims = self.dims
        self.saved = (Tensor.shape, Tensor.size, Tensor.__len__, Tensor.numel, Tensor.nelement, Tensor.stride)
        size, length, numel, stride = Tensor.size, Tensor.__len__, Tensor.numel, Tensor.stride

        def tagged(t):
            d = dims.get(id(t))
            if d is not None:
                return Size(tuple(SizeInt(n) if i in d else n for i, n in enumerate(t._shape)))
            if self._made(t):  # (which size a dimension is cannot be told from its value: a fixed 4 at B = 4)
                return Size(tuple(_unknown(n) for n in t._shape))
            return None

        def shape(t):
            return tagged(t) or Size(t._shape)

        def size_of(t, dim=None):
            sz = tagged(t)
            if sz is None:
                return size(t, dim)
            return sz if dim is None else sz[_wrap_dim(dim, len(t._shape))]

        def len_of(t):
            # len() turns what __len__ gives into a plain int, whose comparisons nothing sees
            if t._shape and (id(t) in dims and 0 in dims[id(t)] and self._outside_ops() or self._made(t)):
                self.guards.append(("opaque", "len() of a tensor whose first size may change", None, None))
            return length(t)

        def numel_of(t):
            sz = tagged(t)
            return numel(t) if sz is None else math.prod(sz)

        def stride_of(t, dim=None):
            if id(t) in dims and self._outside_ops():  # (strides follow the sizes, as plain ints)
                self.guards.append(("opaque", "a stride of a tensor whose sizes may change", None, None))
            return stride(t, dim)

        def bounds(x, d, bs, safe, step=None):
            # an index or slice bound of a dimension that may change: safe when it is that size itself or a small
            # number (no clamping at any size >= 2); a size bounding a fixed dimension is compared with it
            rec = SizeInt.recorder[0]
            if rec is not None and rec.depth:
                return
            sz = tagged(x)
            n = sz[d] if sz is not None else x._shape[d]
            if step not in (None, 1) and isinstance(n, SizeInt):
                self.guards.append(("opaque", "a slice with a step over a size that may change", None, None))
            for b in bs:
                if b is None or type(b) is bool or not isinstance(b, int):
                    continue
                if isinstance(n, SizeInt):
                    ok = _tree(b) == _tree(n) if isinstance(b, SizeInt) else -2 <= b <= safe
                elif isinstance(b, SizeInt):
                    ok = not _unknown_in(_tree(b))
                    if ok:
                        v = int.__int__(b)
                        self.guards += [("ge", _tree(b), ("c", 0), v >= 0), ("le", _tree(b), ("c", n), v <= n)]
                else:
                    ok = True
                if not ok:
                    self.guards.append(("opaque", "an index or slice bound that could clamp at another size", None,
                                        None))

        Tensor.shape, Tensor.size, Tensor.__len__ = property(shape), size_of, len_of
        Tensor.numel = Tensor.nelement = numel_of
        Tensor.stride = stride_of
        index_ops.INDEX_HOOK[0] = bounds
        SizeInt.noting[0] = self.guards
        return self

    def _outside_ops(self):
        rec = SizeInt.recorder[0]
        return rec is None or not rec.depth

    def __exit__(self, *exc):
        self.alive = None
        if self.dims:
            Tensor.shape, Tensor.size, Tensor.__len__, Tensor.numel, Tensor.nelement, Tensor.stride = self.saved
            index_ops.INDEX_HOOK[0] = None
            SizeInt.noting[0] = None
        return False


def _unknown(n):
    """A size of a tensor the call made that is none of the changing sizes: it may be fixed or computed from them
    (rows B*T); a comparison with it cannot be followed."""
    u = SizeExpr(n)
    u.tree = ("u", n)
    return u


def make_template(a, b, guards=()):
    """The template of two captures' entries ``a`` and ``b``, each ``(graph, program, kernels, backward graph)``,
    or None (with the reason) when they are not one entry at two sizes; ``guards``: the comparisons of sizes
    noted while ``b`` was captured."""
    a_inputs, b_inputs = a[0].inputs, b[0].inputs
    pairs = []
    for va, vb in zip(a_inputs, b_inputs):
        if len(va.shape) != len(vb.shape):
            return None, "inputs of other ranks"
        pairs += [(x, y) for x, y in zip(va.shape, vb.shape) if x != y and (x, y) not in pairs]
    if len(a_inputs) != len(b_inputs) or not 1 <= len(pairs) <= 2 or len({x for x, _ in pairs}) != len(pairs) \
            or len({y for _, y in pairs}) != len(pairs):
        return None, "not one or two sizes changed (each with its own values)"
    if min(min(p) for p in pairs) < 2:
        return None, "a size below 2"
    sa, sb = tuple(x for x, _ in pairs), tuple(y for _, y in pairs)
    if len(pairs) == 2 and not _apart(sa, sb):
        return None, "the two captures cannot tell the two sizes apart"
    which = {y: i for i, y in enumerate(sb)}
    for g in guards:
        if g[0] == "opaque":
            return None, g[1]

    def sizes_of(tree):  # a size's value in the later capture -> which of the sizes it is
        if tree[0] == "s":
            if tree[1] not in which:
                raise Mismatch("a comparison of another size")
            return ("s", which[tree[1]])
        return tree if tree[0] == "c" else (tree[0], sizes_of(tree[1]), sizes_of(tree[2]))
    try:
        # an integer computed by floor division, modulo or bit operations that both captures give the same value
        # (``T // 2`` at 2 and 3) is that value only for sizes where it is (a slice's length): pinned as a guard
        stepped = [(sizes_of(x), v) for op, x, v, _ in guards if op == "stepped"]
        guards = [(op, sizes_of(x), sizes_of(y), r) for op, x, y, r in guards if op != "stepped"]
    except Mismatch as e:
        return None, str(e)
    guards += [("eq", x, ("c", v), True) for x, v in stepped if eval_tree(x, sa) == v]
    if not all(_CMP[op](eval_tree(x, sa), eval_tree(y, sa)) == r for op, x, y, r in guards):
        # (the earlier capture took the other side of a comparison the later one made: ``max(T, 4)`` at 3 and 4)
        return None, "the two captures compare their sizes differently"
    d = _Differ(sa, sb)
    try:
        display = d.diff((a[0], a[2], a[3], a[1]), (b[0], b[2], b[3], b[1]))  # (the program: checked whole)
        inputs = [(d.diff(va.shape, vb.shape), d.diff(va.geom[0], vb.geom[0])) for va, vb in zip(a_inputs, b_inputs)]
        runtime = _Differ(sa, sb, runtime=True).diff(a[1], b[1])
    except Mismatch as e:
        return None, str(e)
    display.items.pop()
    inputs = [(_flat(sh), _flat(st)) for sh, st in inputs]
    tpl = Template(display, runtime, inputs, d.syms, b[0].checks, guards, len(pairs))
    tpl.sizes = (sa[0], sb[0]) if len(pairs) == 1 else (sa, sb)
    return tpl, None


def _apart(sa, sb):
    """Whether two captures at sizes ``sa`` and ``sb`` (two sizes each) tell the sizes apart: no product of powers
    of them (``B*T``, ``T**2``) and neither their sum nor their difference keeps its value, so an integer that is the
    same in both captures is no such function of the sizes. (Two functions of the template's forms that agree on
    both captures, ``T + 1`` and ``2*B`` at (2, 3) and (3, 5), are caught where an integer fits both.)"""
    (b1, t1), (b2, t2) = sa, sb
    if b1 + t1 == b2 + t2 or b1 - t1 == b2 - t2:
        return False
    return all(b1 ** p * t1 ** q != b2 ** p * t2 ** q for p, q in _EXPONENTS[2])


def _flat(t):
    """A shape template as a tuple of ints and Syms."""
    return tuple(x if type(x) is Sym else x.obj for x in t.items) if type(t) is _Seq else tuple(t.obj)

