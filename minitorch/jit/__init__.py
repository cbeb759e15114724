"""``torch.jit`` for programs written against it: the markers TorchScript reads in model code, and ``script`` /
``trace`` / ``save`` / ``load`` on minitorch's own compiler instead of TorchScript.

* Markers (``is_scripting``, ``is_tracing``, ``annotate``, ``ignore``, ``unused``, ``export``, ``interface``,
  ``_overload``, ``_overload_method``, ``Final``, ``Attribute``) tell the TorchScript compiler how to read Python
  code; here, as in PyTorch's eager mode, the code simply runs: ``is_scripting()`` is False, ``annotate(T, v)``
  is ``v``, the decorators return what they decorate.
* ``script(fn_or_module)`` and ``trace(fn_or_module, example_inputs)`` return a ``ScriptFunction`` /
  ``ScriptModule`` that runs the same computation through ``minitorch.compile`` (graph capture and fused kernels;
  ``.graph`` and ``.code`` show the captured graphs and the generated source). A ``ScriptModule`` shares the
  module's parameters, buffers and submodules: its ``state_dict`` has the same keys, and training it trains the
  module. ``trace`` runs the call once on the example inputs (capturing it) and returns the traced object.
* ``save(m, f)`` / ``m.save(f)`` write the (scripted) module with ``minitorch.save`` (its class must be importable
  where it is loaded; scripted functions are not stored); ``load(f)`` reads it back scripted. TorchScript
  archives written by PyTorch hold TorchScript code, which minitorch does not run: loading one raises a
  RuntimeError that says so.
* As in PyTorch 2.13, ``script``, ``trace``, ``save`` and ``load`` warn that they are deprecated
  (DeprecationWarning), pointing at ``minitorch.compile``.
"""
import contextlib
import functools
import typing
import zipfile

from ..nn.modules.module import Module

__all__ = ["Attribute", "Final", "ScriptFunction", "ScriptModule", "annotate", "export", "ignore", "interface",
           "is_scripting", "is_tracing", "load", "save", "script", "script_method", "trace", "unused"]

Final = typing.Final
_TRACING = [0]


def _deprecated(name):
    """PyTorch 2.13 deprecates the TorchScript entry points with a DeprecationWarning; so does minitorch."""
    import warnings
    warnings.warn(f"`minitorch.jit.{name}` is deprecated (as `torch.jit.{name}` is). Please switch to "
                  "`minitorch.compile`.", DeprecationWarning, stacklevel=3)


def is_scripting():
    """False: minitorch never compiles Python source to TorchScript (code under ``if not is_scripting()`` runs)."""
    return False


def is_tracing():
    """True while ``trace`` runs the function on its example inputs."""
    return _TRACING[0] > 0


def annotate(the_type, the_value):
    """A type hint for TorchScript: returns ``the_value``."""
    return the_value


def Attribute(value, type):  # noqa: A002,N802  (PyTorch's names)
    """A typed module attribute for TorchScript: returns ``value``."""
    return value


def _marker(fn=None, **_):
    """A decorator that only directs TorchScript (usable bare or called): returns what it decorates."""
    if fn is None or not callable(fn):
        return lambda f: f
    return fn


ignore = _marker
unused = _marker
export = _marker
interface = _marker
_overload = _marker
_overload_method = _marker
script_method = _marker  # the method of a ScriptModule subclass (PyTorch's older style): it runs as written


def _graphs(compiled):
    graphs = compiled.graphs
    if not graphs:
        return ("(no whole graph captured: minitorch captures one on the first call, and a call whose graph breaks "
                "keeps only its parts)")
    return "\n".join(str(g) for g in graphs)


class ScriptFunction:
    """A function run through ``minitorch.compile``; ``graph`` and ``code`` show what it captured and generated."""

    def __init__(self, fn):
        from ..compiler import compile as _compile
        self._fn = fn
        self._compiled = _compile(fn)
        self.__name__ = getattr(fn, "__name__", type(fn).__name__)
        self.__doc__ = getattr(fn, "__doc__", None)

    def __call__(self, *args, **kwargs):
        return self._compiled(*args, **kwargs)

    @property
    def graph(self):
        """The captured graphs (minitorch's IR), one per input signature seen so far."""
        return _graphs(self._compiled)

    @property
    def code(self):
        """The generated source of the fused kernels."""
        return self._compiled.code

    def __reduce__(self):
        return ScriptFunction, (self._fn,)


class ScriptModule(Module):
    """A module run through ``minitorch.compile``: the module's parameters, buffers, submodules and hooks are this
    object's too (same ``state_dict`` keys; training either trains both), its other attributes are read through."""

    def __init__(self, mod=None):
        from ..compiler.api import CompiledFunction
        super().__init__()
        d = self.__dict__
        if mod is None:  # subclassed, PyTorch's older style: the subclass defines forward (``@script_method``)
            d["_jit_module"] = None
            d["_jit_compiled"] = CompiledFunction(functools.partial(Module._call_impl, self), self)
            return
        if not isinstance(mod, Module):
            raise TypeError(f"ScriptModule wraps an nn.Module, not {type(mod).__name__}")
        for name, value in mod.__dict__.items():  # the stores themselves, not copies
            if name.startswith("_") and isinstance(value, (dict, set)):
                d[name] = value
        d["training"] = mod.training
        d["_jit_module"] = mod
        d["_jit_compiled"] = CompiledFunction(mod._call_impl, mod)

    def __call__(self, *args, **kwargs):
        return self.__dict__["_jit_compiled"](*args, **kwargs)

    def forward(self, *args, **kwargs):
        return self.__dict__["_jit_module"](*args, **kwargs)

    def __getattr__(self, name):
        if name == "forward":  # reached by ``m.__getattr__("forward")``: PyTorch's ScriptMethod, with its graph
            return _ScriptMethod(self)
        try:
            return Module.__getattr__(self, name)
        except AttributeError:
            mod = self.__dict__.get("_jit_module")
            if mod is None:
                raise
            return getattr(mod, name)

    def train(self, mode=True):
        if self.__dict__["_jit_module"] is None:
            return Module.train(self, mode)
        self.__dict__["_jit_module"].train(mode)
        object.__setattr__(self, "training", mode)
        return self

    @property
    def original_name(self):
        return type(self.__dict__["_jit_module"] or self).__name__

    @property
    def graph(self):
        """The captured graphs (minitorch's IR), one per input signature seen so far."""
        return _graphs(self.__dict__["_jit_compiled"])

    @property
    def code(self):
        """The generated source of the fused kernels."""
        return self.__dict__["_jit_compiled"].code

    def save(self, f, _extra_files=None):
        """``minitorch.jit.save(self, f)``."""
        save(self, f, _extra_files)

    def __reduce__(self):
        if self.__dict__["_jit_module"] is None:
            return Module.__reduce_ex__(self, 2)
        return ScriptModule, (self.__dict__["_jit_module"],)

    def __repr__(self):
        mod = self.__dict__["_jit_module"]
        return Module.__repr__(self) if mod is None else "Script" + repr(mod)


class _ScriptMethod:
    """A scripted module's ``forward`` as PyTorch's ``ScriptMethod``: callable, with ``graph`` and ``code``."""

    def __init__(self, module):
        self._module = module

    def __call__(self, *args, **kwargs):
        return self._module(*args, **kwargs)

    @property
    def graph(self):
        return self._module.graph

    @property
    def code(self):
        return self._module.code


def script(obj, optimize=None, _frames_up=0, _rcb=None, example_inputs=None):
    """A ``ScriptModule`` for a module, a ``ScriptFunction`` for a function (already scripted: itself)."""
    _deprecated("script")
    return _script(obj)


def _script(obj):
    if isinstance(obj, (ScriptModule, ScriptFunction)):
        return obj
    if isinstance(obj, Module):
        return ScriptModule(obj)
    if isinstance(obj, type):
        raise RuntimeError(f"minitorch.jit.script takes a function or an nn.Module instance, not the class "
                           f"{obj.__name__}: script an instance of it")
    if not callable(obj):
        raise RuntimeError(f"minitorch.jit.script takes a function or an nn.Module instance, not "
                           f"{type(obj).__name__}")
    return ScriptFunction(obj)


def trace(func, example_inputs=None, optimize=None, check_trace=True, check_inputs=None, check_tolerance=1e-5,
          strict=True, _force_outplace=False, _module_class=None, _compilation_unit=None, example_kwarg_inputs=None,
          _store_inputs=True):
    """``script`` of ``func``, run once on ``example_inputs`` (a tensor or a tuple of them; or
    ``example_kwarg_inputs``, a dict) so that its graph is captured now."""
    _deprecated("trace")
    if example_inputs is None and example_kwarg_inputs is None:
        raise RuntimeError("trace() needs example_inputs or example_kwarg_inputs")
    traced = _script(func)
    args = () if example_inputs is None else \
        tuple(example_inputs) if isinstance(example_inputs, (tuple, list)) else (example_inputs,)
    _TRACING[0] += 1
    try:
        traced(*args, **(example_kwarg_inputs or {}))
    finally:
        _TRACING[0] -= 1
    return traced


def save(m, f, _extra_files=None):
    """Write a scripted (or plain) module with ``minitorch.save``; ``_extra_files`` (name -> bytes or str) go
    alongside it."""
    from ..serialization import save as _save
    _deprecated("save")
    if isinstance(m, ScriptModule) and m.__dict__["_jit_module"] is not None:
        m = m.__dict__["_jit_module"]
    if not isinstance(m, Module):
        raise TypeError(f"minitorch.jit.save stores modules (their parameters, buffers and attributes), not "
                        f"{type(m).__name__}: save the module that calls it")
    extra = {k: (v.encode() if isinstance(v, str) else bytes(v)).decode("latin-1")
             for k, v in (_extra_files or {}).items()}
    _save({"minitorch.jit": m, "extra_files": extra}, f)


def load(f, map_location=None, _extra_files=None):
    """Read what ``save`` wrote, scripted (fills ``_extra_files``' keys with the saved contents, as bytes)."""
    from ..serialization import load as _load
    _deprecated("load")
    if isinstance(f, (str, bytes)) or hasattr(f, "__fspath__"):
        with contextlib.suppress(OSError, zipfile.BadZipFile):
            with zipfile.ZipFile(f) as z:
                if any(n.split("/")[1:2] == ["code"] or n.endswith("/constants.pkl") for n in z.namelist()):
                    raise RuntimeError(f"{f} is a TorchScript archive written by PyTorch: its model is TorchScript "
                                       "code, which minitorch does not run. Save the model's state_dict with "
                                       "torch.save in PyTorch and load it into the Python model class instead.")
    obj = _load(f, map_location=map_location, weights_only=False)
    if not isinstance(obj, dict) or "minitorch.jit" not in obj:
        raise RuntimeError("minitorch.jit.load reads what minitorch.jit.save wrote; use minitorch.load for other "
                           "files")
    if _extra_files is not None:
        for name in _extra_files:
            if name in obj["extra_files"]:
                _extra_files[name] = obj["extra_files"][name].encode("latin-1")
    return _script(obj["minitorch.jit"])
