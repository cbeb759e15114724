"""Resuming capture after a graph break inside a plain function, and keeping its Python side effects.

A compiled function is cut, from its source, into runs of top-level statements of its body:

- when its capture breaks (``loss.item()``, a backward pass, a branch the graph cannot hold), at the statement
  where it broke: that statement runs eagerly on every later call (the modules it calls compiled, as in a call
  that breaks), the statements before it and after it are compiled on their own, and a piece that breaks in turn
  is cut again;
- before its first capture, around statements that change Python state a graph cannot replay, or read it in a way
  the graph would hold fixed (``effects``: a print, ``self.steps += 1``, ``history.append(...)``,
  ``state["n"] = ...``, ``sched.get_last_lr()``, ``random.random()``): they run eagerly on every call;
- at the statement whose call (one the source cannot name: ``fns[i](x)``, a callback in a list, an installed
  package's method) runs a function with such an effect, which the capture sees as it runs (``call_effect``).

Values a function reads through attribute and item chains (``opt.param_groups[0]["lr"]``) are not cut out: they
are guards (``chain_reader``), read at the start of every call.

Each piece is a real Python function made from the original's syntax tree (same file and line numbers, the same
globals and closure cells), so the Python code between the graphs runs as written on every call. A function with
the original's signature binds the arguments (defaults included); the local variables then pass between pieces in
a dict: each piece takes the names it reads and gives back those it binds that later pieces read, so a later piece
sees the tensors and numbers an earlier one made, and its guards key on them. Every piece returns
``(done, value)``; ``done`` when the original returned ``value`` (a ``return`` inside a piece ends the call). A
compiled piece whose capture hands on an object it made (a list, a lambda) is not replayed: the graph would hand
on the captured object itself; it runs eagerly instead.

A function is not cut when its source is not available (made by ``exec``, a lambda inside an expression), when it
is a generator or a coroutine, or when a local variable that an inner
scope (a lambda, a comprehension) reads would be bound in two pieces, or read through an inner scope made in an
earlier piece than the one that binds it (cells do not cross pieces). Then a call that breaks runs eagerly with the
modules it calls compiled, and statements with side effects stay in the graph (their effect happens once, at the
capture).
"""
import ast
import functools
import inspect
import os
import textwrap
import types
import weakref

_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef, ast.ListComp, ast.SetComp,
           ast.DictComp, ast.GeneratorExp)
_NOT_CUT = 0x20 | 0x80 | 0x100 | 0x200  # generator, coroutine, iterable coroutine, async generator
_UNBOUND = type("Unbound", (), {"__repr__": lambda self: "<unbound>"})()  # a local not (yet) bound
_RET = "__minitorch_locals"
_U = "__minitorch_unbound"


class _Spec:
    """A run of statements: the names it reads from the function's locals (``params``) and those it binds that later
    pieces read (``ret``); ``end`` when it holds the function's last statement (falling off it returns None)."""

    def __init__(self, origin, stmts, params, ret, end, eager=False):
        self.origin = origin  # the _Origin of the function it was cut from
        self.stmts = stmts
        self.params = params
        self.ret = ret
        self.end = end
        self.eager = eager
        self.readers = {}  # the expressions read -> their reader (chain_reader), made once


class _Origin:
    """What every piece of one function shares: its globals, closure cells, locals and top-level declarations."""

    def __init__(self, fn, tree):
        code = fn.__code__
        self.fn = fn
        self.filename = code.co_filename
        self.locals = set(code.co_varnames) | set(code.co_cellvars)
        self.cellvars = set(code.co_cellvars)
        self.cells = dict(zip(code.co_freevars, fn.__closure__ or ()))
        self.tree = tree
        a = tree.args
        self.args = [x.arg for x in a.posonlyargs + a.args + [a.vararg] + a.kwonlyargs + [a.kwarg] if x is not None]
        self.decls = []  # global / nonlocal statements, repeated at the top of every piece
        for node in _walk_scope(tree.body):
            if isinstance(node, (ast.Global, ast.Nonlocal)):
                self.decls.append(node)
        self.declared = {n for d in self.decls for n in d.names}
        self.binder = None
        self.made = None  # the locals holding objects the function made (_made)


def _walk_scope(stmts):
    """Every node of ``stmts`` outside nested scopes (the nested scope's own node is given, its body is not)."""
    todo = list(stmts)
    while todo:
        node = todo.pop()
        yield node
        if isinstance(node, _SCOPES):
            # a nested function's decorators, defaults and a comprehension's first iterable are evaluated here
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                todo += node.decorator_list
                if not isinstance(node, ast.ClassDef):
                    todo += node.args.defaults + [d for d in node.args.kw_defaults if d is not None]
                else:
                    todo += node.bases + [k.value for k in node.keywords]
            elif isinstance(node, ast.Lambda):
                todo += node.args.defaults + [d for d in node.args.kw_defaults if d is not None]
            else:
                todo.append(node.generators[0].iter)
            continue
        todo += ast.iter_child_nodes(node)


def _bound_by(node):
    """The name a binding node other than a plain name binds (a def, an import, ``except E as e``, a match
    capture), or None."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return node.name
    if isinstance(node, ast.alias):
        return (node.asname or node.name).split(".")[0]
    if isinstance(node, (ast.ExceptHandler, ast.MatchAs, ast.MatchStar)):
        return node.name
    if isinstance(node, ast.MatchMapping):
        return node.rest
    return None


def _names(stmts):
    """Every name the statements mention, nested scopes included (a lambda reading a local needs it passed)."""
    out = set()
    for s in stmts:
        for node in ast.walk(s):
            out.add(node.id if isinstance(node, ast.Name) else _bound_by(node))
    out.discard(None)
    return out


def _stores(stmt):
    """The names a top-level statement binds in the function's scope."""
    out = set()
    for node in _walk_scope([stmt]):
        out.add(node.id if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del))
                else _bound_by(node))
    for node in ast.walk(stmt):  # an assignment expression binds in the function even inside a comprehension
        if isinstance(node, ast.NamedExpr):
            out.add(node.target.id)
    out.discard(None)
    return out


def _closes_over(stmt):
    """The names read by the nested scopes (functions, lambdas, comprehensions) a top-level statement makes."""
    out = set()
    for node in _walk_scope([stmt]):
        if isinstance(node, _SCOPES):
            for x in ast.walk(node):
                if isinstance(x, ast.Name):
                    out.add(x.id)
    return out


def _source_tree(fn):
    """The ``FunctionDef`` of ``fn`` with the file's line numbers, or None."""
    try:
        lines, first = inspect.getsourcelines(fn)
    except (OSError, TypeError):
        return None
    try:
        mod = ast.parse(textwrap.dedent("".join(lines)))
    except SyntaxError:  # a lambda inside an expression: its lines are not a statement
        return None
    if len(mod.body) != 1 or not isinstance(mod.body[0], ast.FunctionDef) or mod.body[0].name != fn.__name__:
        return None
    ast.increment_lineno(mod, first - 1)
    return mod.body[0]


def spec_of(fn):
    """The whole function as one piece (None when it cannot be cut). A bound method is cut as its function."""
    piece = getattr(fn, "__minitorch_piece__", None)
    if piece is not None:
        return piece
    fn = getattr(fn, "__func__", fn)
    if not isinstance(fn, types.FunctionType):
        return None
    code, spec = _SPECS.get(fn, (None, None))
    if code is not fn.__code__:  # (read once per function: every instance of a module class shares its forward's)
        spec = _read_spec(fn)
        _SPECS[fn] = (fn.__code__, spec)
    return spec


_SPECS = weakref.WeakKeyDictionary()  # function -> (its code, its whole-function piece or None)


def _read_spec(fn):
    code = fn.__code__
    if code.co_flags & _NOT_CUT:
        return None
    tree = _source_tree(fn)
    if tree is None or not _mangle(tree, fn) or not _same_code(tree, fn):
        return None
    scope = list(_walk_scope(tree.body))
    if any(isinstance(n, (ast.Yield, ast.YieldFrom, ast.Await)) for n in scope) or \
            any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in ("locals", "vars")
                and not n.args for n in scope):
        return None  # a generator, or a function that reads its own locals() (a piece sees only some of them)
    inner = {d for n in ast.walk(tree) if isinstance(n, ast.Nonlocal) and n not in scope for d in n.names}
    if inner & set(code.co_cellvars):
        return None  # an inner function writes a local of this one: that cell would not cross the pieces
    origin = _Origin(fn, tree)
    stmts = [s for s in tree.body if not isinstance(s, (ast.Global, ast.Nonlocal))]
    return _Spec(origin, stmts, origin.args, [], True)


def _mangle(tree, fn):
    """Private names (``self.__scale``) spelled as Python mangles them inside the class the function was defined in
    (the pieces are compiled outside it); False when that class is not known."""
    parts = fn.__qualname__.split(".")
    cls = parts[-2] if len(parts) > 1 and parts[-2] != "<locals>" else None
    for node in ast.walk(tree):
        for field in ("attr", "id"):
            name = getattr(node, field, None) if isinstance(node, (ast.Attribute, ast.Name)) else None
            if isinstance(name, str) and name.startswith("__") and not name.endswith("__"):
                if cls is None or not cls.strip("_"):
                    return False
                setattr(node, field, f"_{cls.lstrip('_')}{name}")
    return True


def _same_code(tree, fn):
    """Whether the source read now is the code that runs (a file edited since it was imported is not)."""
    import copy
    f = copy.deepcopy(tree)
    f.decorator_list = []
    try:
        code = compile(ast.Module([f], []), fn.__code__.co_filename, "exec")
    except SyntaxError:
        return False
    made = next((c for c in code.co_consts if isinstance(c, types.CodeType)), None)
    ours = fn.__code__
    free = set(ours.co_freevars)  # closure variables: globals of the code compiled here
    return made is not None and made.co_varnames == ours.co_varnames and made.co_argcount == ours.co_argcount \
        and set(made.co_names) - free == set(ours.co_names) - free


def _top_statement(stmts, line):
    for i, s in enumerate(stmts):
        if s.lineno <= line <= (s.end_lineno or s.lineno):
            return i
    return None


def cut(spec, eager):
    """``spec`` cut into runs of statements: each statement whose index is in ``eager`` runs eagerly, each run of
    the others is compiled. None when that leaves one piece, or when cells would cross pieces."""
    stmts = spec.stmts
    groups, flags = [], []
    for i, s in enumerate(stmts):
        e = i in eager
        if groups and flags[-1] == e:
            groups[-1].append(s)
        else:
            groups.append([s])
            flags.append(e)
    origin = spec.origin
    if len(groups) < 2 or not _cells_safe(origin, groups, spec):
        return None
    specs = []
    for i, g in enumerate(groups):
        later = set(spec.ret).union(*(_names(x) for x in groups[i + 1:]))
        bound = set().union(*(_stores(x) for x in g))
        last = i + 1 == len(groups)
        names = _names(g)
        params = sorted(names & origin.locals)
        if "super" in names and origin.args:  # super() reads the first argument (self) of the piece's frame
            params = [origin.args[0]] + [n for n in params if n != origin.args[0]]
        specs.append(_Spec(origin, g, params, sorted(bound & later & origin.locals), spec.end and last, flags[i]))
    return specs


def effects(spec, bound=None, module=None):
    """{index: (what, line)} of the statements that change Python state or read it in ways a graph cannot replay:
    a print, an attribute store (``self.steps += 1``), an item store or a mutating method call (``append``,
    ``update``...) on an object the function did not make, a write of a global or nonlocal name,
    ``setattr``/``delattr``/``next``/``input``/``open``, a random draw outside minitorch (``random.random()``,
    ``np.random.rand(3)``), and a call without arguments of a method of an object outside the graph
    (``sched.get_last_lr()``, ``time.time()``: its value would be the capture's). ``bound`` holds the arguments of
    the first call by name (what a root name is). A call of a function written outside minitorch and outside
    the installed libraries (a helper of the program, a method of its objects, the ``forward`` of its modules and
    of their submodules) is one when that function's own statements have one (``_called``, a few levels deep).
    They run eagerly on every call, the statements between them compiled. For a module's forward (``module``), a
    submodule whose forward has an effect but that no statement calls by a name that can be followed (``for block
    in self.blocks: x = block(x)``, or a forward of the library's, such as ``Sequential``'s) makes every statement
    run eagerly: the submodules are then compiled on their own, each cut around its own effects."""
    origin = spec.origin
    seen = {}
    out = {}
    for i, stmt in enumerate(spec.stmts):
        why = _first_effect([stmt], origin, bound or {}, seen)
        if why is not None:
            out[i] = why
    if module is not None:
        for fn, this in _program_code(module)[1 if _own(type(module).forward) else 0:]:
            if fn.__code__ not in seen and _code_effect(fn, this, seen) is not None:
                why = (f"a call of {fn.__qualname__}(), which makes {seen[fn.__code__]}", spec.stmts[0].lineno)
                return dict.fromkeys(range(len(spec.stmts)), why)
    return out


def _first_effect(stmts, origin, bound, seen):
    """(what, line) of the first statement among ``stmts`` that has an effect, or None."""
    made = _made(origin)
    for stmt in stmts:
        for node in _walk_scope([stmt]):
            why = _effect(node, made, origin, bound) or \
                (_called(node, origin, bound, seen) if isinstance(node, ast.Call) else None)
            if why is not None:
                return why, getattr(node, "lineno", stmt.lineno)
    return None


def _made(origin):
    """The locals that hold objects the function made itself: not its arguments, nor names bound to an object
    reached from elsewhere (aliases: ``h = self.history``, ``h = state.get("h")``, ``a, b = self.pair``, the target
    of a loop over anything but ``range()``), whose mutation changes that object."""
    if origin.made is None:
        alias = set()

        def reached(v):
            if isinstance(v, (ast.Name, ast.Attribute, ast.Subscript, ast.Starred)):
                return True
            if isinstance(v, ast.Call):
                f = v.func
                return isinstance(f, ast.Name) and f.id in ("getattr", "next", "iter", "reversed") or \
                    isinstance(f, ast.Attribute) and f.attr in ("get", "setdefault", "pop", "popitem", "popleft")
            return isinstance(v, (ast.IfExp, ast.BoolOp))  # ``h = self.h or []``: may be either

        def bind(target, value):
            if isinstance(target, (ast.Tuple, ast.List)):
                values = value.elts if isinstance(value, (ast.Tuple, ast.List)) and \
                    len(value.elts) == len(target.elts) else [value] * len(target.elts)
                for t, v in zip(target.elts, values):
                    bind(t, v)
            elif isinstance(target, ast.Starred):
                bind(target.value, value)
            elif isinstance(target, ast.Name) and (value is None or reached(value)):
                alias.add(target.id)

        for node in _walk_scope(origin.tree.body):
            if isinstance(node, ast.Assign):
                for t in node.targets:
                    bind(t, node.value)
            elif isinstance(node, (ast.AnnAssign, ast.NamedExpr)) and node.value is not None:
                bind(node.target, node.value)
            elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
                it = node.iter
                if not (isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and it.func.id == "range"):
                    bind(node.target, None)
            elif isinstance(node, ast.withitem) and node.optional_vars is not None:
                bind(node.optional_vars, None)
        origin.made = origin.locals - set(origin.args) - alias
    return origin.made


_LOOK_INTO = 64  # functions looked into per compiled function at most (the rest are taken as they are)


def _called(node, origin, bound, seen):
    """The effect a call of the program's own code has inside it (``effects``), or None. ``seen`` maps the code
    objects looked into to their answer (a function calling itself is looked into once)."""
    f = node.func
    callee = _value_of(f.id, origin, bound) if isinstance(f, ast.Name) else \
        _resolve(f, origin, bound) if isinstance(f, (ast.Attribute, ast.Subscript)) else _MISSING
    for fn, this in _program_code(callee):
        if _code_effect(fn, this, seen) is not None:
            return f"a call of {fn.__qualname__}(), which makes {seen[fn.__code__]}"
    return None


def hooks_effect(module):
    """The first Python side effect among the hooks a call of ``module`` runs (its own forward and backward hooks
    and the global ones), or None. A hook of the program's own code or of an installed package is looked into as
    ``effects`` does; one whose source cannot be read (a lambda) counts as having one; minitorch's own hooks
    (weight normalisation's) do not."""
    from ..nn.modules import module as M
    d = module.__dict__
    seen = {}
    for store in (d["_forward_pre_hooks"], d["_forward_hooks"], d["_backward_pre_hooks"], d["_backward_hooks"],
                  M._global_forward_pre_hooks, M._global_forward_hooks, M._global_backward_pre_hooks,
                  M._global_backward_hooks):
        for hook in store.values():
            for fn, this in _program_code(hook) or _library_code(hook):
                if spec_of(fn) is None:
                    return f"the hook {fn.__qualname__} (its source cannot be read)"
                why = _code_effect(fn, this, seen)
                if why is not None:
                    return f"the hook {fn.__qualname__}, which makes {why}"
    return None


def _code_effect(fn, this, seen):
    """The first effect among the statements of the program's function ``fn`` (bound to ``this``), or None."""
    code = fn.__code__
    if code not in seen:
        if len(seen) >= _LOOK_INTO:
            return None
        seen[code] = None
        spec = spec_of(fn)
        if spec is not None:
            inner = spec.origin
            at = {inner.args[0]: this} if this is not None and inner.args else {}
            found = _first_effect(spec.stmts, inner, at, seen)
            if found is not None:
                seen[code] = f"{found[0]} at {inner.filename}:{found[1]}"
    return seen[code]


def _program_code(v):
    """(function, the object it is bound to or None) for what calling ``v`` runs of the program's own code: a
    function or method, a callable object's ``__call__``, a module's ``forward`` and its submodules' ones."""
    from ..nn.modules.module import Module
    if _marked(v):
        return []  # allow_in_graph / assume_constant_result: the program vouches for it
    if isinstance(v, Module):
        out, todo, ids = [], [v], set()
        while todo:  # (by identity: a module that defines __eq__ is not hashable)
            m = todo.pop()
            if m is not None and id(m) not in ids:
                ids.add(id(m))
                todo += m._modules.values()
                if _own(type(m).forward):
                    out.append((type(m).forward, m))
        return out
    if isinstance(v, types.MethodType):
        f = _unwrapped(v.__func__)
        return [(f, v.__self__)] if f is not None else []
    if isinstance(v, types.FunctionType):
        f = _unwrapped(v)
        return [(f, None)] if f is not None else []
    if v is _MISSING or isinstance(v, type):  # making an object is not an effect on another one
        return []
    call = getattr(type(v), "__call__", None)
    return [(call, v)] if _own(call) else []


def _unwrapped(f):
    """The program's own function ``f`` is, or wraps through decorators that keep ``__wrapped__``
    (``@minitorch.no_grad()``, ``functools.wraps``), or None."""
    for _ in range(8):
        if _own(f):
            return f
        f = getattr(f, "__wrapped__", None)
        if not isinstance(f, types.FunctionType):
            return None
    return None


def _library_code(v):
    """(function, the object it is bound to or None) for a function or method of an installed package."""
    f = getattr(v, "__func__", v)
    if not isinstance(f, types.FunctionType) or code_kind(f.__code__) != "library" or _marked(v):
        return []
    return [(f, getattr(v, "__self__", None))]


def _marked(v):
    f = getattr(v, "__func__", v)
    return getattr(f, "__minitorch_in_graph__", False) is True or getattr(f, "__minitorch_constant__", False) is True


@functools.lru_cache(maxsize=4096)
def _own(fn):
    """Whether ``fn`` is a Python function of the program itself (not minitorch's, nor of an installed library
    or of Python's standard library)."""
    if not isinstance(fn, types.FunctionType):
        return False
    if (fn.__module__ or "").split(".")[0] == "minitorch":
        return False
    return code_kind(fn.__code__) == "program"


@functools.lru_cache(maxsize=1)
def _paths():
    """(installed packages' folders, the standard library's folders), each ending in a separator."""
    import sysconfig
    paths = sysconfig.get_paths()
    return tuple(tuple({os.path.realpath(paths[k]) + os.sep for k in keys})
                 for keys in (("purelib", "platlib"), ("stdlib", "platstdlib")))


_KIND = {}  # file name -> its kind (code_kind)


@functools.lru_cache(maxsize=1)
def _minitorch_dirs():
    """minitorch's folders: the package's, and its kernels' (a folder beside it in a checkout)."""
    from .. import kernels
    return tuple({os.path.dirname(os.path.dirname(os.path.realpath(__file__))) + os.sep,
                  os.path.dirname(os.path.realpath(kernels.__file__)) + os.sep})


def code_kind(code):
    """Whose code a code object is: "minitorch", "library" (an installed package), "stdlib" (Python's own) or
    "program" (anything else: the program's files, code made by ``exec``)."""
    name = code.co_filename
    kind = _KIND.get(name)
    if kind is None:
        path = os.path.realpath(name)
        libraries, stdlib = _paths()
        kind = "stdlib" if name.startswith("<frozen") else "minitorch" if path.startswith(_minitorch_dirs()) else \
            "library" if path.startswith(libraries) else "stdlib" if path.startswith(stdlib) else "program"
        _KIND[name] = kind
    return kind


# effects met while a call is captured ---------------------------------------------------------------------------
# A call the static reading above cannot follow (``fns[i](x)``, a callback held in a local or a container, a
# function of an installed package) is looked into when the capture runs it (compiler/capture.py traces the calls
# the program's code makes): the function it starts is read by the same rules, from its source, or from its
# bytecode where there is none (a lambda, code made by ``exec``).
_CALLS = {}  # code object -> the effect of running it (a string) or None
_MAKERS = {"__init__", "__new__", "__post_init__", "__init_subclass__", "__set_name__", "__del__"}


MARKED = set()  # code of the functions marked allow_in_graph or assume_constant_result


def call_effect(frame):
    """The Python side effect of the call that starts ``frame`` (a function of the program or of an installed
    package called by the program's code while it is captured), or None. Making an object (``__init__``) is
    not an effect on another one, and a function marked ``allow_in_graph`` or ``assume_constant_result`` is not
    looked into, nor what it calls."""
    code = frame.f_code
    f = frame if MARKED else None
    while f is not None and code_kind(f.f_code) != "minitorch":
        if f.f_code in MARKED:
            return None
        f = f.f_back
    why = _CALLS.get(code, _MISSING)
    if why is _MISSING:
        why = None if code.co_name in _MAKERS else _frame_effect(frame, code)
        if len(_CALLS) > 4096:
            _CALLS.clear()
        _CALLS[code] = why
    return why


def _frame_effect(frame, code):
    names = frame.f_locals
    cells = tuple(types.CellType(names[n]) if n in names else types.CellType() for n in code.co_freevars)
    fn = types.FunctionType(code, frame.f_globals, code.co_name, None, cells)
    fn.__qualname__ = getattr(code, "co_qualname", code.co_name)
    spec = spec_of(fn)
    if spec is None:
        return _bytecode_effect(code)
    origin = spec.origin
    this = names.get(code.co_varnames[0], _MISSING) if code.co_argcount and origin.args else _MISSING
    found = _first_effect(spec.stmts, origin, {} if this is _MISSING else {origin.args[0]: this}, {})
    return None if found is None else f"{found[0]} at {origin.filename}:{found[1]}"


_NAMED_EFFECTS = {"print", "setattr", "delattr", "next", "input", "open"}


def _bytecode_effect(code):
    """The first effect the instructions of ``code`` make (a function without source): a store of an attribute,
    an item or a global or nonlocal name, a container's mutating method, an output method, ``print()``..."""
    import dis
    for ins in dis.get_instructions(code):
        op, name = ins.opname, ins.argval
        if op in ("STORE_ATTR", "DELETE_ATTR"):
            return f"an attribute store (.{name})"
        if op in ("STORE_SUBSCR", "DELETE_SUBSCR"):
            return "an item store"
        if op in ("STORE_GLOBAL", "DELETE_GLOBAL") or op == "STORE_DEREF" and name in code.co_freevars:
            return f"a write of the global or nonlocal name {name}"
        if op in ("LOAD_METHOD", "LOAD_ATTR") and name in _CONTAINER | _WRITES:
            return f".{name}()"
        if op in ("LOAD_GLOBAL", "LOAD_NAME") and name in _NAMED_EFFECTS:
            return f"{name}()"
    return None


def _effect(node, made, origin, bound):
    store = isinstance(getattr(node, "ctx", None), (ast.Store, ast.Del))
    if isinstance(node, ast.Attribute) and store:
        return f"an attribute store (.{node.attr})"
    if isinstance(node, ast.Subscript) and store and _root(node) not in made:
        return "an item store into an object the function did not make"
    if isinstance(node, ast.Name) and store and node.id in origin.declared:
        return f"a write of the global or nonlocal name {node.id}"
    if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name) and node.target.id not in made and \
            node.target.id in origin.locals and _extended(node.target.id, origin, bound):
        return f"an augmented assignment to {node.target.id} (it changes an object the function did not make)"
    if isinstance(node, ast.Attribute) and _resolve(node, origin, bound) is _PROPERTY:
        return f"a read of the property .{node.attr} (it runs code on every read)"
    if not isinstance(node, ast.Call):
        return None
    f = node.func
    if isinstance(f, ast.Name):
        if f.id in _NAMED_EFFECTS:
            return f"{f.id}()"
        if f.id not in made and not node.args and not node.keywords and \
                not _replayable(_value_of(f.id, origin, bound)):
            return f"{f.id}() (its value would be the capture's)"
        return None
    if not isinstance(f, ast.Attribute):
        return None
    root = _root(f.value)
    if root in made:
        return None
    if _mutates(f, root, origin, bound):
        return f".{f.attr}() on an object the function did not make"
    value = _value_of(root, origin, bound)
    chain = _chain_names(f)
    if "random" in chain and not _replayable(value):
        return f"{'.'.join(chain)}() (a random draw outside minitorch)"
    if not node.args and not node.keywords and not _marked(_resolve(f, origin, bound)):
        receiver = _resolve(f.value, origin, bound)
        if receiver is _MISSING or receiver is _PROPERTY:
            receiver = value
        if not _replayable(receiver) and not isinstance(receiver, _PURE_CONTAINERS):
            return f".{f.attr}() of an object outside the graph (its value would be the capture's)"
    return None


def _extended(name, origin, bound):
    """Whether ``name += ...`` may change in place an object the function did not make: an argument holding a
    list, a dict, a set or an object of the program, or an alias (a tensor argument is the graph's business)."""
    from ..tensor import Tensor
    if name not in origin.args:
        return True
    v = bound.get(name, _MISSING)
    return v is not _MISSING and not isinstance(v, (Tensor, *_SAFE, tuple, frozenset, bytes))


_MISSING = object()
_PROPERTY = object()
_PURE_CONTAINERS = (dict, list, tuple, set, frozenset, str, bytes)  # their methods without arguments only read


def _computed(attr):
    """Whether a class attribute found without running it computes the value each read: a property or another
    descriptor written in Python (not a method, nor an attribute of a built-in type)."""
    if isinstance(attr, property):
        return True
    t = type(attr)
    return hasattr(t, "__get__") and t.__module__ != "builtins" and \
        not isinstance(attr, (types.FunctionType, staticmethod, classmethod))


def _resolve(node, origin, bound, keys=()):
    """The object an attribute or item chain of names the function did not make reaches, walked without running
    any property (``_PROPERTY`` where a step is a property or another computed attribute of an object outside
    minitorch; ``_MISSING`` where it cannot be told). Item keys are constants, or names in ``keys`` (read from
    ``bound``)."""
    from ..tensor import Tensor
    steps = []
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        steps.append(node)
        node = node.value
    if not isinstance(node, ast.Name):
        return _MISSING
    obj = _value_of(node.id, origin, bound)
    for step in reversed(steps):
        if obj is _MISSING or isinstance(obj, (Tensor, types.ModuleType)):
            return _MISSING
        if isinstance(step, ast.Attribute):
            try:
                static = inspect.getattr_static(obj, step.attr)
            except AttributeError:
                static = _MISSING
            if _computed(static) and not type(obj).__module__.startswith("minitorch"):
                return _PROPERTY
            try:
                obj = getattr(obj, step.attr)
            except Exception:  # noqa: BLE001 - whatever it raises, it is raised when the code runs
                return _MISSING
        elif isinstance(obj, (dict, list, tuple)) and (_constant(step.slice) or _key_name(step.slice, keys)):
            key = ast.literal_eval(step.slice) if _constant(step.slice) else bound.get(step.slice.id, _MISSING)
            try:
                obj = _MISSING if key is _MISSING else obj[key]
            except Exception:  # noqa: BLE001
                return _MISSING
        else:
            return _MISSING
    return obj


def _value_of(name, origin, bound):
    """What a name the function reads (an argument of the first call, a closure variable, a global, a builtin)
    holds, or ``_MISSING``."""
    import builtins
    if name in bound:
        return bound[name]
    cell = origin.cells.get(name)
    if cell is not None:
        try:
            return cell.cell_contents
        except ValueError:
            return _MISSING
    return origin.fn.__globals__.get(name, getattr(builtins, name, _MISSING)) if name else _MISSING


def _replayable(v):
    """Whether a call without arguments on ``v`` (or of ``v``) is something a graph records or a pure function: a
    tensor, a module, an optimizer, minitorch itself or ``math``, a builtin, a class (anything else, such as an LR
    scheduler's ``get_last_lr()`` or ``time.time()``, hands back Python state the graph would hold fixed)."""
    from ..nn.modules.module import Module
    from ..optim.optimizer import Optimizer
    from ..tensor import Tensor
    if v is _MISSING or isinstance(v, (Tensor, Module, Optimizer, types.BuiltinFunctionType, type)) or _marked(v):
        return True
    if isinstance(v, types.ModuleType):
        return v.__name__.split(".")[0] in ("minitorch", "math")
    return False


def _chain_names(node):
    names = []
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        if isinstance(node, ast.Attribute):
            names.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        names.append(node.id)
    return names[::-1]


def _root(node):
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _mutates(f, root, origin, bound):
    """Whether the call ``obj.name(...)`` changes an object the function did not make: a container method on one,
    or an output method (a write, a log line, a TensorBoard scalar) of an object that is not a tensor or a module
    of functions (``torch.log(x)`` and ``x.log()`` are ops)."""
    if f.attr in _CONTAINER:
        return True
    if f.attr not in _OUTPUT:
        return False
    from ..tensor import Tensor
    value = _value_of(root, origin, bound)
    if value is _MISSING:
        return not hasattr(Tensor, f.attr)
    return not isinstance(value, (Tensor, types.ModuleType))


_CONTAINER = {"append", "extend", "insert", "pop", "popleft", "appendleft", "remove", "discard", "clear", "update",
              "setdefault", "popitem"}
_OUTPUT = {"write", "writelines", "flush", "put", "put_nowait", "add_scalar", "add_scalars", "add_histogram",
           "add_image", "add_images", "add_text", "add_figure", "log", "info", "debug", "warning", "error",
           "exception", "critical"}
_WRITES = {"write", "writelines", "flush", "put", "put_nowait"}


def _cells_safe(origin, groups, spec):
    """Whether every local that an inner scope reads is bound in one piece only, and read through inner scopes
    only in that piece or later ones (a later piece gets the value and makes its own cell of it)."""
    if not origin.cellvars:
        return True
    for name in origin.cellvars:
        bound, read = set(), set()
        if name in spec.params:
            bound.add(-1)
        for i, g in enumerate(groups):
            for s in g:
                if name in _stores(s):
                    bound.add(i)
                if name in _closes_over(s):
                    read.add(i)
        bound.discard(-1)  # the argument's own binding: what a closure sees until a piece binds it again
        if len(bound) > 1 or read and bound and min(read) < min(bound):
            return False
    return True


_SAFE = (bool, int, float, complex, str, type(None), type(_UNBOUND))


def safe_outputs(tree):
    """Whether a piece's captured result can be replayed as the locals it hands on: tensors (graph values), plain
    numbers and strings, in tuples. Anything else made by the piece (a list, a lambda, an object) would be the
    capture's own object on every replay."""
    from ..device import device
    from ..dtypes import dtype
    from .ir import Value
    todo = [tree]
    while todo:
        x = todo.pop()
        if isinstance(x, tuple):
            todo += x
        elif not isinstance(x, (Value, dtype, device) + _SAFE):
            return False
    return True


def chain_reader(fn, args, kwargs):
    """A function of a call's arguments giving the Python values the function reads through attribute and item
    chains of objects it did not make (``opt.param_groups[0]["lr"]``, ``self.n``, ``state["step"]``,
    ``len(history)``), or None. A graph holds such values fixed, so the compiled callable keys its graphs on them
    (a guard): read at the call's start, a number by value, anything else by identity. Chains through a tensor's
    attributes are left to the tensor's own key, and chains that give a new object each time they are read (a
    view, a property that builds its value) are dropped."""
    if isinstance(fn, functools.partial):  # its function, with the arguments the partial adds
        inner = chain_reader(fn.func, fn.args + tuple(args), {**fn.keywords, **kwargs})
        if inner is None:
            return None

        def read_partial(args, kwargs):
            return inner(fn.args + tuple(args), {**fn.keywords, **kwargs})
        read_partial.names = inner.names
        return read_partial
    if not isinstance(fn, (types.FunctionType, types.MethodType)) and isinstance(
            getattr(fn, "__call__", None), types.MethodType):
        return chain_reader(fn.__call__, args, kwargs)  # a callable object: its __call__, bound
    spec = spec_of(fn)
    if spec is None:
        return _bytecode_reader(fn, args, kwargs) if isinstance(fn, types.FunctionType) else None
    origin = spec.origin
    outside = set(spec.params) | (set(origin.args) if spec.params is origin.args else set())
    stored = set().union(*(_stores(x) for x in spec.stmts)) if spec.stmts else set()
    keys = outside - stored  # names whose value at the call's start is the one an item step reads (``d[k]``)
    exprs = {}
    bound = (fn.__self__,) if isinstance(fn, types.MethodType) else ()
    try:
        bound_args = dict(zip(origin.args, binder(origin)(*bound, *args, **kwargs))) if spec.params is origin.args \
            else dict(zip(spec.params, args))
    except TypeError:
        return None
    for node, parent in _value_reads(spec.stmts):
        chain = node.args[0] if isinstance(node, ast.Call) else node
        root = _root(chain) if isinstance(chain, (ast.Attribute, ast.Subscript)) else getattr(chain, "id", None)
        if root is None or root in stored or root in origin.locals and root not in outside:
            continue
        if not _plain_chain(chain, keys):
            continue
        if isinstance(chain, (ast.Attribute, ast.Subscript)):
            reached = _resolve(chain, origin, bound_args, keys)
            if reached is _PROPERTY or reached is _MISSING:
                continue  # (a chain through a tensor is _MISSING: the tensor's own key covers it)
        exprs.setdefault(ast.unparse(node), node)
    # a module called through an argument's attribute (``h.m(x)``: h.m replaced is another module; the modules of
    # ``self`` are keyed by the module's own state)
    from ..nn.modules.module import Module
    me = origin.args[0] if bound and origin.args else None
    for node in _called_chains(spec.stmts):
        root = _root(node)
        if root is None or root == me or root in stored or root in origin.locals and root not in outside \
                or not _plain_chain(node, keys):
            continue
        if isinstance(_resolve(node, origin, bound_args, keys), Module):
            exprs.setdefault(ast.unparse(node), node)
    if not exprs:
        return None
    nodes = list(exprs.values())
    if spec.params is origin.args:
        sig = _signature(origin)
    else:
        sig = ast.arguments([], [ast.arg(n) for n in spec.params], None, [], [], None, [])
    reader = _reader(spec, nodes, sig)
    try:
        first, again = reader(*bound, *args, **kwargs), reader(*bound, *args, **kwargs)
    except TypeError:
        return None
    keep = [k for k, (x, y) in enumerate(zip(first, again))
            if x is y or type(x) in _SAFE and type(x) is type(y) and x == y]
    if not keep:
        return None
    if len(keep) < len(nodes):
        reader = _reader(spec, [nodes[k] for k in keep], sig)

    def read(args, kwargs):
        return reader(*bound, *args, **kwargs)
    read.names = [ast.unparse(nodes[k]) for k in keep]  # (what a recompile names: compiler/logs.py)
    return read


def self_chains(fn):
    """A function of the object a method is bound to giving the values the method's source reads through attribute
    and item chains of its ``self`` (``self.cfg.scale``, ``self.scale`` of the class, ``len(self.blocks)``), or None:
    the forward of a module the compiled call runs inside, whose chains no argument of the call reaches. Made once
    per function; chains that give a new object on each read (a property) are left out."""
    spec = spec_of(fn)
    func = getattr(fn, "__func__", fn)
    obj = getattr(fn, "__self__", None)
    if spec is None or obj is None or spec.params is not spec.origin.args or not spec.origin.args:
        return None
    made = _SELF_CHAINS.get(func, _MISSING)
    if made is not _MISSING:
        return made
    origin = spec.origin
    me = origin.args[0]
    stored = set().union(*(_stores(x) for x in spec.stmts)) if spec.stmts else set()
    nodes = {}
    if me not in stored:
        for node, _ in _value_reads(spec.stmts):
            chain = node.args[0] if isinstance(node, ast.Call) else node
            if isinstance(chain, (ast.Attribute, ast.Subscript)) and _root(chain) == me and _plain_chain(chain):
                reached = _resolve(chain, origin, {me: obj})
                if reached is not _PROPERTY and reached is not _MISSING:
                    nodes.setdefault(ast.unparse(node), node)
    reader = None
    if nodes:
        sig = ast.arguments([], [ast.arg(me)], None, [], [], None, [])
        body = [x for k, n in enumerate(nodes.values())
                for x in ast.parse(f"try:\n    v{k} = {ast.unparse(n)}\nexcept Exception:\n    v{k} = {_U}").body]
        body += ast.parse(f"return ({''.join(f'v{k}, ' for k in range(len(nodes)))})").body
        made_fn = _make(origin, ast.FunctionDef("self_chains", sig, body, [], None, None), spec.stmts[0].lineno,
                        f"{func.__qualname__}.<self chains>", None)
        first, again = made_fn(obj), made_fn(obj)
        keep = [k for k, (x, y) in enumerate(zip(first, again))
                if x is y or type(x) in _SAFE and type(x) is type(y) and x == y]
        if keep:
            reader = made_fn if len(keep) == len(nodes) else (lambda o, f=made_fn, k=tuple(keep): tuple(
                f(o)[i] for i in k))
    _SELF_CHAINS[func] = reader
    return reader


_SELF_CHAINS = weakref.WeakKeyDictionary()  # function -> its self_chains reader (None: none)


def _bytecode_chains(code):
    """((root kind, root name), steps) of the attribute chains, with constant item steps, that the instructions of
    ``code`` read from its arguments (not rebound), its globals and its closure variables (``o.a.b``, ``cfg.t[0]``:
    a function without source, a lambda)."""
    import dis
    ins = list(dis.get_instructions(code))
    params = set(code.co_varnames[:code.co_argcount + code.co_kwonlyargcount])
    stored = {i.argval for i in ins if i.opname in ("STORE_FAST", "DELETE_FAST")}
    found = {}
    k = 0
    while k < len(ins):
        op, name = ins[k].opname, ins[k].argval
        root = ("arg", name) if op == "LOAD_FAST" and name in params and name not in stored else \
            ("global", name) if op in ("LOAD_GLOBAL", "LOAD_NAME") else \
            ("cell", name) if op == "LOAD_DEREF" and name in code.co_freevars else None
        k += 1
        steps = []
        while root is not None and k < len(ins):
            if ins[k].opname == "LOAD_ATTR":
                steps.append(("attr", ins[k].argval))
                k += 1
            elif ins[k].opname == "LOAD_CONST" and k + 1 < len(ins) and ins[k + 1].opname == "BINARY_SUBSCR" and \
                    type(ins[k].argval) in (int, str):
                steps.append(("item", ins[k].argval))
                k += 2
            else:
                break
        if steps:
            found[(root, tuple(steps))] = None
    return list(found)


@functools.cache
def _opaque():
    """The types whose attributes a chain does not guard (imported on first use: the tensor module imports this
    package)."""
    from ..tensor import Tensor
    return (Tensor, types.ModuleType)


def _walk(obj, steps):
    """Follow ``steps`` (("attr", name) or ("item", key) pairs) from ``obj``: the value reached; the missing marker
    where the chain passes through a tensor or a module (a tensor's own key covers what is read from it; a module's
    names stay put) or a property computed outside minitorch, and the unbound marker where a step raises (it
    raises again when the code runs)."""
    for how, step in steps:
        if obj is _MISSING or isinstance(obj, _opaque()):
            return _MISSING
        if how == "attr":
            try:
                static = inspect.getattr_static(obj, step)
            except AttributeError:
                static = _MISSING
            if _computed(static) and not type(obj).__module__.startswith("minitorch"):
                return _MISSING
        try:
            obj = getattr(obj, step) if how == "attr" else obj[step]
        except Exception:  # noqa: BLE001 - whatever it raises, it is raised when the code runs
            return _UNBOUND
    return obj


def _bytecode_reader(fn, args, kwargs):
    """``chain_reader`` for a function without source: the chains its bytecode reads (``_bytecode_chains``) that
    give the same object twice (not a property building a new value), or None."""
    import builtins
    chains = _bytecode_chains(fn.__code__)
    if not chains:
        return None
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    cells = dict(zip(fn.__code__.co_freevars, fn.__closure__ or ()))

    def walk(root, steps, named):
        kind, name = root
        if kind == "arg":
            obj = named.get(name, _MISSING)
        elif kind == "cell":
            try:
                obj = cells[name].cell_contents
            except ValueError:
                return _UNBOUND
        else:
            obj = fn.__globals__.get(name, getattr(builtins, name, _MISSING))
        return _walk(obj, steps)

    def values(chosen, args, kwargs):
        try:
            bound = sig.bind(*args, **kwargs)
        except TypeError:
            return None
        bound.apply_defaults()
        return [walk(root, steps, bound.arguments) for root, steps in chosen]

    first, again = values(chains, args, kwargs), values(chains, args, kwargs)
    if first is None:
        return None
    keep = [c for c, x, y in zip(chains, first, again) if x is not _MISSING and (
        x is y or type(x) in _SAFE and type(x) is type(y) and x == y)]
    if not keep:
        return None

    def read(args, kwargs):
        got = values(keep, args, kwargs)
        return (_UNBOUND,) * len(keep) if got is None else tuple(got)
    read.names = [name + "".join(f".{s}" if how == "attr" else f"[{s!r}]" for how, s in steps)
                  for (_, name), steps in keep]
    return read


def global_chains(code, g):
    """A reader of the attribute chains rooted at globals that ``code`` reads (``cfg.scale`` in a helper the
    compiled function calls, run with globals ``g``): ``read()`` gives their values. None when it reads none that
    give the same value twice (a property building a new value each read is left out, as are tensors and modules,
    whose own guards cover them)."""
    import builtins
    chains = [(name, steps) for (kind, name), steps in _bytecode_chains(code) if kind == "global"]
    if not chains:
        return None

    def walk(name, steps):
        return _walk(g.get(name, getattr(builtins, name, _MISSING)), steps)
    keep = []
    for name, steps in chains:
        x, y = walk(name, steps), walk(name, steps)
        if x is not _MISSING and (x is y or type(x) in _SAFE and type(x) is type(y) and x == y):
            keep.append((name, steps))
    if not keep:
        return None
    return lambda: tuple(walk(name, steps) for name, steps in keep)


def _reader(spec, nodes, sig):
    """A function of ``sig`` that gives the values of the expressions ``nodes`` (the unbound marker for one that
    raises). Made once per spec and set of expressions."""
    key = tuple(ast.unparse(n) for n in nodes)
    made = spec.readers.get(key)
    if made is None:
        made = spec.readers[key] = _make_reader(spec, nodes, sig)
    return made


def _make_reader(spec, nodes, sig):
    origin = spec.origin
    line = spec.stmts[0].lineno
    body = []
    for k, node in enumerate(nodes):
        body += ast.parse(f"try:\n    v{k} = {ast.unparse(node)}\nexcept Exception:\n    v{k} = {_U}").body
    body += ast.parse(f"return ({''.join(f'v{k}, ' for k in range(len(nodes)))})").body
    return _make(origin, ast.FunctionDef("chains", sig, body, [], None, None), line,
                 f"{origin.fn.__qualname__}.<chains>", None, defaults=spec.params is origin.args)


def _value_reads(stmts):
    """(node, parent) of every maximal attribute or item chain read as a value (not called; the receiver of a
    called method is read) and of every ``len(...)`` call, outside functions and lambdas defined in ``stmts``
    (comprehensions run now: included)."""
    todo = [(s, None) for s in stmts]
    while todo:
        node, parent = todo.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords and (
                node.func.id == "len" and len(node.args) == 1 or node.func.id in ("getattr", "hasattr") and
                len(node.args) in (2, 3) and all(_constant(a) for a in node.args[1:])):
            yield node, parent
        if isinstance(node, (ast.Attribute, ast.Subscript)) and isinstance(node.ctx, ast.Load) and not (
                isinstance(parent, (ast.Attribute, ast.Subscript)) and parent.value is node) and not (
                isinstance(parent, ast.Call) and parent.func is node):
            yield node, parent
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                isinstance(node.func.value, (ast.Attribute, ast.Subscript)):
            yield node.func.value, node.func  # a method's receiver is read too (``o.w`` of ``o.w.sum()``)
        todo += [(c, node) for c in ast.iter_child_nodes(node)]


def _called_chains(stmts):
    """The attribute chains called in ``stmts`` (``h.m`` of ``h.m(x)``), outside functions and lambdas defined
    there."""
    todo = list(stmts)
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            yield node.func
        todo += list(ast.iter_child_nodes(node))


def _plain_chain(node, keys=()):
    """Attribute steps and item steps with constant keys (or keys named in ``keys``), down to a name."""
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        if isinstance(node, ast.Subscript) and not (_constant(node.slice) or _key_name(node.slice, keys)):
            return False
        node = node.value
    return isinstance(node, ast.Name)


def _key_name(node, keys):
    return isinstance(node, ast.Name) and node.id in keys


def _constant(node):
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return _constant(node.operand)
    if isinstance(node, ast.Tuple):
        return all(_constant(x) for x in node.elts)
    return False


class _Returns(ast.NodeTransformer):
    """``return x`` becomes ``return True, x`` (outside nested scopes)."""

    def visit_Return(self, node):
        value = node.value if node.value is not None else ast.Constant(None)
        return ast.copy_location(ast.Return(ast.Tuple([ast.Constant(True), value], ast.Load())), node)

    def _skip(self, node):
        return node
    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = visit_ClassDef = _skip


def build(spec, name):
    """The piece as a function of the original's globals and closure cells, taking ``spec.params`` and giving back
    ``(True, value)`` when it returns, else ``(False, values of spec.ret)``."""
    import copy
    origin = spec.origin
    line = spec.stmts[0].lineno
    body = [copy.deepcopy(d) for d in origin.decls]
    args = ast.arguments([], [ast.arg(n) for n in spec.params], None, [], [], None, [])
    for n in spec.params:  # a local not bound when the previous piece ended is not bound here either
        body.append(ast.parse(f"if {n} is {_U}:\n    del {n}").body[0])
    body += [_Returns().visit(copy.deepcopy(s)) for s in spec.stmts]
    if spec.end:
        body.append(ast.parse("return True, None").body[0])
    else:
        names = "".join(f"{_RET}.get({n!r}, {_U}), " for n in spec.ret)
        body += ast.parse(f"{_RET} = locals()\nreturn False, ({names})").body
    return _make(origin, ast.FunctionDef(name, args, body, [], None, None), line,
                 f"{origin.fn.__qualname__}.<lines {line}-{spec.stmts[-1].end_lineno}>", spec)


def binder(origin):
    """A function with the original's signature and defaults that gives back its arguments' values in order."""
    if origin.binder is None:
        body = ast.parse(f"return ({''.join(n + ', ' for n in origin.args)})").body
        origin.binder = _make(origin, ast.FunctionDef(origin.fn.__name__, _signature(origin), body, [], None, None),
                              origin.tree.lineno, origin.fn.__qualname__, None, defaults=True)
    return origin.binder


def _signature(origin):
    """The original's arguments without their defaults' expressions and annotations (``_make(defaults=True)``
    gives the function the original's default values, so nothing is evaluated again)."""
    import copy
    args = copy.deepcopy(origin.tree.args)
    args.defaults, args.kw_defaults = [], [None] * len(args.kwonlyargs)
    for a in args.posonlyargs + args.args + args.kwonlyargs + [args.vararg, args.kwarg]:
        if a is not None:
            a.annotation = None
    return args


def _make(origin, fdef, line, qualname, spec, defaults=False):
    free = sorted(set(origin.cells) | {_U})
    outer = ast.FunctionDef("__minitorch_outer", ast.arguments([], [], None, [], [], None, []),
                            [ast.parse(f"{n} = None").body[0] for n in free]
                            + [fdef, ast.Return(ast.Name(fdef.name, ast.Load()))], [], None, None)
    mod = ast.Module([outer], [])
    for node in ast.walk(mod):
        if "lineno" in getattr(node, "_attributes", ()) and (getattr(node, "lineno", None) or 0) < line:
            node.lineno = node.end_lineno = line
            node.col_offset = node.end_col_offset = 0
    ast.fix_missing_locations(mod)
    ns = {}
    exec(compile(mod, origin.filename, "exec"), ns)  # noqa: S102 - the user's own statements, recompiled
    code = ns["__minitorch_outer"]().__code__
    cells = tuple(types.CellType(_UNBOUND) if n == _U else origin.cells[n] for n in code.co_freevars)
    fn = types.FunctionType(code, origin.fn.__globals__, fdef.name, None, cells)
    fn.__qualname__ = qualname
    fn.__module__ = origin.fn.__module__
    if defaults:
        fn.__defaults__, fn.__kwdefaults__ = origin.fn.__defaults__, origin.fn.__kwdefaults__
    if spec is not None:
        fn.__minitorch_piece__ = spec
    return fn


class Pieces:
    """The pieces of a function (or of a piece) cut at graph breaks: ``run(args, kwargs)`` calls them in turn,
    the compiled ones through ``CompiledFunction``s of the same options, the others eagerly through
    ``eager(fn, args)`` (the owner's module router). The locals pass between them in a dict."""

    def __init__(self, whole, specs, make_compiled, eager, bound=()):
        self.whole = whole  # the spec cut (the function's own, or a piece's)
        self.bound = bound  # (self,) of a bound method
        self.top = whole.params is whole.origin.args  # the function's own statements (not a piece's)
        self.binder = binder(whole.origin) if self.top else None
        self.parts = []
        for i, s in enumerate(specs):
            fn = build(s, f"{whole.origin.fn.__name__}_piece{i}")
            self.parts.append((fn, None if s.eager else make_compiled(fn), s))
        self.lines = [(s.stmts[0].lineno, s.stmts[-1].end_lineno) for s in specs]
        self.eager = [s.eager for s in specs]  # which pieces run eagerly
        self.run_eagerly = eager

    def run(self, args, kwargs):
        if self.top:
            env = dict(zip(self.whole.params, self.binder(*self.bound, *args, **kwargs)))
        else:
            env = dict(zip(self.whole.params, args))
        unbound = _UNBOUND
        for fn, compiled, spec in self.parts:
            a = [env.get(n, unbound) for n in spec.params]
            done, out = self.run_eagerly(fn, a, {}) if compiled is None else compiled(*a)
            if done:
                return out if self.top else (True, out)
            env.update(zip(spec.ret, out))
        return None if self.top else (False, tuple(env.get(n, unbound) for n in self.whole.ret))
