"""The compiler's IR: a straight-line graph of minitorch ops over tensor values, printable one node per line.

A ``Value`` is one tensor of the graph: a graph input (an argument of the captured call), a constant (a tensor the
call read but did not compute: parameters, buffers, cached scalars, tensors built from Python values), or the
output of a node. A ``Node`` is one call the capture saw: a differentiable primitive (``Function.apply``), a kernel
launcher called outside any primitive (comparisons, random fills, in-place updates), a public ``nn.functional``
composite kept whole, a view made without autograd, or (after the passes) a fused group of elementwise ops. Its
arguments are the call's own, with every tensor replaced by its ``Value``.
"""
import copy
import itertools
import sys

_IDS = itertools.count()


def _float_cmp(a, o, op):
    if not isinstance(o, float):
        return NotImplemented
    return {"<": int.__float__(a) < o, "<=": int.__float__(a) <= o, ">": int.__float__(a) > o,
            ">=": int.__float__(a) >= o}[op]


_ARITH = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
          "floordiv": lambda a, b: a // b, "mod": lambda a, b: a % b, "pow": lambda a, b: a ** b,
          "lshift": lambda a, b: a << b, "rshift": lambda a, b: a >> b, "and": lambda a, b: a & b,
          "or": lambda a, b: a | b, "xor": lambda a, b: a ^ b}


def _size_expr(op, a, b):
    """``a op b`` of integers, one of them a size: an int that remembers how it was computed."""
    if type(a) is bool or type(b) is bool or not isinstance(a, int) or not isinstance(b, int):
        if isinstance(a, float) or isinstance(b, float):  # float arithmetic (T * 0.5): not followed
            _note_float(a if isinstance(a, SizeInt) else b, 3)
        return NotImplemented
    v = _ARITH[op](int.__int__(a), int.__int__(b))
    if type(v) is not int:  # a negative power gives a float
        _note_float(a if isinstance(a, SizeInt) else b, 3)
        return v
    r = SizeExpr(v)
    r.tree = (op, _tree(a), _tree(b))
    if op in _STEPPED:  # (not affine: two sizes may give it one value where others give another)
        g = SizeInt.noting[0]
        rec = SizeInt.recorder[0]
        if g is not None and not (rec is not None and rec.depth) and _changing_in(r.tree) and not _library(2):
            # (symbolic.make_template pins it where both captures agree; of a size that cannot be told: opaque)
            g.append(("opaque", f"a size of a tensor the call made under {op}", None, None) if _unknown_in(r.tree)
                     else ("stepped", r.tree, v, None))
    return r


def _tree(x):
    return x.tree if type(x) is SizeExpr else ("s", int.__int__(x)) if isinstance(x, SizeInt) else ("c", x)


def _library(depth):
    """Whether the code ``depth`` frames up from the caller is minitorch's own."""
    return sys._getframe(depth + 1).f_globals.get("__name__", "").startswith("minitorch.")


def _unknown_in(tree):
    return tree[0] == "u" or tree[0] not in ("s", "c") and (_unknown_in(tree[1]) or _unknown_in(tree[2]))


def eval_tree(tree, sizes):
    """The value of a size expression (``SizeExpr.tree``) with ``sizes[i]`` for ``("s", i)``."""
    op = tree[0]
    if op == "s":
        return sizes[tree[1]]
    if op == "c":
        return tree[1]
    return _ARITH[op](eval_tree(tree[1], sizes), eval_tree(tree[2], sizes))


class SizeInt(int):
    """A size of a graph input as the user's code reads it (``x.size(0)``, ``x.shape``, ``len(x)``, ``x.numel()``)
    during a capture at a new size (compiler/symbolic.py): a comparison with it, or with an integer computed from
    it (``SizeExpr``: ``B * T``, ``T // 2``), is noted as a guard of the symbolic template while noting is on, unless
    it is made inside a recorded op (which decides again when it replays). Recorded arguments hold plain ints."""

    __slots__ = ()
    noting = [None]  # the list comparisons go to, or None
    recorder = [None]  # the capture's recorder (its depth tells whether an op is running)

    def _note(self, op, other, r):
        g = SizeInt.noting[0]
        rec = SizeInt.recorder[0]
        if g is None or r is NotImplemented or rec is not None and rec.depth:
            return r
        if isinstance(other, SizeInt):
            g.append((op, _tree(self), _tree(other), r))
        # (the library's own equality checks against an equal plain number are taken to be of two sizes that
        # follow the input's: rows == the length of the flattened index, as the op found them)
        elif type(other) in (int, float) and (other != int.__int__(self) or op not in ("eq", "ne")
                                              or not _library(2)):
            g.append((op, _tree(self), ("c", other), r))
        else:
            return r
        if _unknown_in(g[-1][1]) or _unknown_in(g[-1][2]):
            if _library(2):
                g.pop()  # the library's own bookkeeping on sizes the user passed (view strides, contiguity)
            else:
                g[-1] = ("opaque", "a comparison with a size of a tensor the call made", None, None)
        return r

    def __lt__(self, o):
        return self._note("lt", o, int.__lt__(self, o) if isinstance(o, int) else _float_cmp(self, o, "<"))

    def __le__(self, o):
        return self._note("le", o, int.__le__(self, o) if isinstance(o, int) else _float_cmp(self, o, "<="))

    def __gt__(self, o):
        return self._note("gt", o, int.__gt__(self, o) if isinstance(o, int) else _float_cmp(self, o, ">"))

    def __ge__(self, o):
        return self._note("ge", o, int.__ge__(self, o) if isinstance(o, int) else _float_cmp(self, o, ">="))

    def __eq__(self, o):
        return self._note("eq", o, int.__eq__(self, o))

    def __ne__(self, o):
        return self._note("ne", o, int.__ne__(self, o))

    def __hash__(self):  # a dict or set lookup compares hashes, not sizes: no guard follows it
        _note_opaque(self, 2, "a size used as a key (a dict or set lookup)")
        return int.__hash__(self)

    def __abs__(self):
        _note_opaque(self, 2, "abs() of a size")
        return int.__abs__(self)

    def __bool__(self):  # ``if T % 2:`` compares with zero
        r = int.__bool__(self)
        g = SizeInt.noting[0]
        rec = SizeInt.recorder[0]
        if g is not None and not (rec is not None and rec.depth):
            g.append(("ne", _tree(self), ("c", 0), r))
            if _unknown_in(g[-1][1]):
                if _library(1):
                    g.pop()
                else:
                    g[-1] = ("opaque", "a size of a tensor the call made tested for zero", None, None)
        return r

    def __neg__(self):
        return _size_expr("sub", 0, self)

    def __divmod__(self, o):
        return _size_expr("floordiv", self, o), _size_expr("mod", self, o)

    def __rdivmod__(self, o):
        return _size_expr("floordiv", o, self), _size_expr("mod", o, self)


def _pow3(a, b, m):
    return _size_expr("mod", _size_expr("pow", a, b), m)


for _op in _ARITH:  # arithmetic with ints gives a SizeExpr (either side; pow(T, 2, m) too)
    setattr(SizeInt, f"__{_op}__", (lambda op: lambda self, o, *m: _pow3(self, o, *m) if m
                                    else _size_expr(op, self, o))(_op))
    setattr(SizeInt, f"__r{_op}__", (lambda op: lambda self, o, *m: _pow3(o, self, *m) if m
                                     else _size_expr(op, o, self))(_op))


_STEPPED = {"floordiv", "mod", "lshift", "rshift", "and", "or", "xor"}


def _note_opaque(size, depth, why):
    """The user's code (``depth`` frames up) used a changing size in a way no guard follows: no template."""
    g = SizeInt.noting[0]
    rec = SizeInt.recorder[0]
    if g is not None and not (rec is not None and rec.depth) and _changing_in(_tree(size)) \
            and not _library(depth):
        g.append(("opaque", why, None, None))


def _note_float(size, depth):
    """A size made a float (``T / 2``, ``float(T)``, ``math.sqrt(T)``) or a plain int (``int(T)``) by the user's
    code (``depth`` frames up):
    comparisons of the float cannot be followed, so the capture makes no template (unless the size is none of the
    changing ones)."""
    g = SizeInt.noting[0]
    rec = SizeInt.recorder[0]
    if g is not None and not (rec is not None and rec.depth) and _changing_in(_tree(size)) \
            and not _library(depth):
        g.append(("opaque", "a size made a float, a plain int or a string", None, None))


def _to_float(how):
    def conv(self, *o):
        _note_float(self, 2)
        return getattr(int, how)(self, *o)
    return conv


def _changing_in(tree):
    return tree[0] == "s" or tree[0] not in ("u", "c") and (_changing_in(tree[1]) or _changing_in(tree[2]))


# made a float, a plain int or a string (int(T), str(T), an index into a list, range(T)): not followed either
for _how in ("__truediv__", "__rtruediv__", "__float__", "__int__", "__index__", "__str__", "__repr__", "__format__"):
    setattr(SizeInt, _how, _to_float(_how))


class SizeExpr(SizeInt):
    """An integer computed from sizes (``tree``: ``("s", value)`` a size, ``("c", n)`` a number, or
    ``(op, left, right)``); compares and computes as a ``SizeInt``."""


class Value:
    """One tensor of a graph: its shape, dtype and device as captured, and where it comes from."""

    __slots__ = ("id", "kind", "shape", "dtype", "device", "node", "tensor", "label", "users", "rg", "contig", "static",
                 "version", "geom", "stale", "folded")

    def __init__(self, kind, t, node=None, label=None):
        self.id = next(_IDS)
        self.kind = kind            # "input", "const" or "node"
        self.shape = tuple(map(int, t._shape))
        self.contig = t._contig
        self.geom = (tuple(t._stride), t._offset, id(t._storage))  # layout at capture (ONNX reads views by it)
        self.static = kind == "const"  # computed from constants alone by deterministic ops
        self.version = t._vc[0]
        self.stale = False  # an op wrote into its memory later in the capture: the tensor no longer holds it
        self.folded = False  # a constant computed by constant folding from graph-private constants (never changes)
        self.dtype = t._dtype
        self.device = t._device
        self.node = node
        self.tensor = t if kind == "const" else None  # constants are held by reference (parameters stay live)
        self.label = label
        self.users = 0
        self.rg = False             # whether eager would have made this tensor require grad on the capture call

    def name(self):
        if self.kind == "const" and self.label:
            return self.label
        return f"%{self.label}" if self.label else f"%v{self.id}"

    def type_str(self):
        dims = ", ".join(str(d) for d in self.shape)
        dev = "" if self.device.type == "cpu" else f", {self.device}"
        return f"{_dtype_name(self.dtype)}[{dims}]{dev}"


def _dtype_name(dt):
    return str(dt).replace("minitorch.", "")


class CtxValue(Value):
    """An autograd node (a ``Function`` context) that an op made during the forward: a compiled backward calls its
    backward whole, so whatever it keeps (statistics, masks, host values) is the current call's."""

    def __init__(self, ctx, node):
        self.id = next(_IDS)
        self.kind = "node"
        self.shape, self.contig, self.geom = (), True, ((), 0, None)
        self.static, self.version, self.stale, self.rg = False, 0, False, False
        self.dtype = self.device = self.tensor = None
        self.node = node
        self.label = None
        self.users = 0
        self.cls = type(ctx).__name__

    def type_str(self):
        return f"ctx[{self.cls}]"


class Node:
    """One op of the graph: ``outputs = target(*args, **kwargs)`` with values in place of tensors."""

    __slots__ = ("kind", "name", "target", "args", "kwargs", "outputs", "out_tree", "grad_mode", "line", "group",
                 "epoch", "extras")

    def __init__(self, kind, name, target, args, kwargs, grad_mode=None, line=None):
        self.kind = kind            # "function", "launcher", "functional", "module", "op", "view", "backward",
        #                             "optimizer" or "fused"
        self.name = name
        self.target = target
        self.args = args
        self.kwargs = kwargs
        self.outputs = []           # Values, in the order they appear in the result
        self.out_tree = None        # the result's structure with Values at the tensors' places
        self.grad_mode = grad_mode  # False: recorded inside a no_grad region (replayed there too)
        self.line = line            # "file:line" of the user's code that called it
        self.group = None           # a fused node's member nodes
        self.epoch = 0              # in-place writes recorded before this node (views read memory as of then)
        self.extras = None          # (CtxValues, requires_grad of its tensor arguments): the autograd nodes its
        #                             op made, handed out for a compiled backward (compiler/capture.py)

    def inputs(self):
        """The values among the arguments, in order (a list made afresh: passes call this very often)."""
        out = _values_in(self.args, []) if isinstance(self.args, (tuple, list, dict)) else \
            [self.args] if isinstance(self.args, Value) else []
        return _values_in(self.kwargs, out) if isinstance(self.kwargs, (dict, tuple, list)) else out

    def format(self):
        outs = ", ".join(f"{v.name()}: {v.type_str()}" for v in self.outputs) or "()"
        args = ", ".join(_fmt(a) for a in self.args)
        if self.kwargs:
            args += (", " if args else "") + ", ".join(f"{k}={_fmt(v)}" for k, v in self.kwargs.items())
        tail = "" if self.grad_mode is not False else "  # no_grad"
        text = f"{outs} = {self.kind}.{self.name}({args}){tail}"
        if self.group:
            text += "".join(f"\n        | {m.format()}" for m in self.group)
        return text


def _fmt(a):
    if isinstance(a, Value):
        return a.name()
    if isinstance(a, tuple):
        return "(" + ", ".join(_fmt(x) for x in a) + ("," if len(a) == 1 else "") + ")"
    if isinstance(a, list):
        return "[" + ", ".join(_fmt(x) for x in a) + "]"
    if isinstance(a, dict):
        return "{" + ", ".join(f"{k!r}: {_fmt(v)}" for k, v in a.items()) + "}"
    if isinstance(a, type):
        return a.__name__
    if callable(a) and hasattr(a, "__name__"):
        return a.__name__
    text = " ".join(repr(a).split())
    return text if len(text) <= 40 else text[:37] + "..."


def _values_in(tree, out):
    """Append to ``out`` every ``Value`` in the nested tuples, lists and dicts ``tree``, in ``leaves`` order."""
    for x in (tree.values() if isinstance(tree, dict) else tree):
        if isinstance(x, Value):
            out.append(x)
        elif isinstance(x, (tuple, list, dict)):
            _values_in(x, out)
    return out


def leaves(tree):
    """Every non-container item of nested tuples, lists and dicts."""
    if isinstance(tree, (tuple, list)):
        for x in tree:
            yield from leaves(x)
    elif isinstance(tree, dict):
        for x in tree.values():
            yield from leaves(x)
    else:
        yield tree


def map_tree(fn, tree):
    """The same nesting of tuples (named tuples too), lists and dicts with ``fn`` applied to every leaf."""
    t = type(tree)  # exact types first: this runs for every argument of every replayed node
    if t is tuple:
        return tuple([map_tree(fn, x) for x in tree])
    if t is list:
        return [map_tree(fn, x) for x in tree]
    if t is dict:
        return {k: map_tree(fn, v) for k, v in tree.items()}
    if not isinstance(tree, (tuple, list, dict)):
        return fn(tree)
    if isinstance(tree, tuple):
        items = [map_tree(fn, x) for x in tree]
        if hasattr(tree, "_fields"):  # (not through the type's own __new__: PackedSequence converts its fields)
            return tuple.__new__(type(tree), items)
        try:
            return type(tree)(items)  # minitorch.Size and other tuple types made from their items
        except TypeError:
            return tuple(items)
    if isinstance(tree, list):
        return [map_tree(fn, x) for x in tree]
    items = {k: map_tree(fn, v) for k, v in tree.items()}
    try:  # a dict subclass keeps its type and its own fields (OrderedDict, a defaultdict's factory)
        out = copy.copy(tree)
        out.clear()
        out.update(items)
        return out
    except Exception:  # noqa: BLE001 - one that cannot be copied that way comes back a plain dict
        return items


class Graph:
    """A captured call: its inputs, nodes in execution order, constants and the output structure."""

    def __init__(self):
        self.inputs = []            # Values, in the order the call's tensor arguments are flattened
        self.nodes = []
        self.consts = []
        self.output_tree = None     # the call's result with Values at the tensors' places
        self.checks = []            # (tensor, version): constants whose values the call read on the host
        self.private = set()        # ids of constants only the graph holds (copies of tensors the call made, scalars)
        self.recorder = None        # the capture's recorder, until the backward has been captured

    def outputs(self):
        return [v for v in leaves(self.output_tree) if isinstance(v, Value)]

    def count_users(self):
        for v in self.inputs + self.consts:
            v.users = 0
        for n in self.nodes:
            for v in n.outputs:
                v.users = 0
        for n in self.nodes:
            for v in n.inputs():
                v.users += 1
        for v in self.outputs():
            v.users += 1

    def __str__(self):
        lines = ["graph(" + ", ".join(f"{v.name()}: {v.type_str()}" for v in self.inputs) + "):"]
        for c in self.consts:
            value = ""
            if not c.label and len(c.shape) == 0 and c.device.type == "cpu":
                t = c.tensor
                value = f"({t._storage[t._offset].item()!r})"
            lines.append(f"    {c.name()}: {c.type_str()} = constant{value}")
        for n in self.nodes:
            lines.append("    " + n.format())
        lines.append("    return " + _fmt(self.output_tree))
        return "\n".join(lines)
