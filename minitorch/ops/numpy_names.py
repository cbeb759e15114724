"""NumPy's argument names as aliases, as PyTorch's native functions take them: ``axis`` for ``dim`` and
``keepdims`` for ``keepdim`` (``x.sum(axis=1, keepdims=True)``, ``torch.cat(ts, axis=0)``).

``install`` wraps, once at import, every function of a namespace (the ``minitorch`` module, the ``Tensor`` class)
that has a ``dim`` or ``keepdim`` parameter; the wrapper renames the two keywords when given and otherwise only
forwards the call.
"""
import functools
import types

_ALIASES = (("axis", "dim"), ("keepdims", "keepdim"))


def _params(fn):
    while hasattr(fn, "__wrapped__") and isinstance(fn.__wrapped__, types.FunctionType):
        fn = fn.__wrapped__  # through the wrappers (autocast, half-precision) to the op's own parameters
    code = fn.__code__
    return code.co_varnames[:code.co_argcount + code.co_kwonlyargcount]


def _aliased(fn):
    names = _params(fn)
    pairs = tuple((a, b) for a, b in _ALIASES if b in names and a not in names)

    @functools.wraps(fn)
    def call(*args, **kwargs):
        if kwargs:
            for alias, name in pairs:
                if alias in kwargs:
                    if name in kwargs:
                        raise TypeError(f"{fn.__name__}() got multiple values for argument '{name}' (as '{alias}')")
                    kwargs[name] = kwargs.pop(alias)
        return fn(*args, **kwargs)
    call._numpy_names = True
    return call if pairs else fn


def install(namespace):
    """Wrap the functions of ``namespace`` (a dict such as a module's globals, or a class) taking ``dim`` or
    ``keepdim``; every name bound to one function object gets the same wrapper."""
    items = namespace.items() if isinstance(namespace, dict) else list(vars(namespace).items())
    done = {}
    for name, obj in list(items):
        if name.startswith("__") or not isinstance(obj, types.FunctionType) or getattr(obj, "_numpy_names", False):
            continue
        if id(obj) not in done:
            new = _aliased(obj)
            if new is not obj:  # pickle finds a function by module and name: point them at the wrapper
                new.__module__ = namespace.get("__name__", obj.__module__) if isinstance(namespace, dict) \
                    else namespace.__module__
                new.__qualname__ = name if isinstance(namespace, dict) else f"{namespace.__qualname__}.{name}"
            done[id(obj)] = new
        new = done[id(obj)]
        if new is not obj:
            if isinstance(namespace, dict):
                namespace[name] = new
            else:
                setattr(namespace, name, new)
