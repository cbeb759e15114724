"""``OptimizedModule``: what ``minitorch.compile(module)`` returns (``torch._dynamo.eval_frame.OptimizedModule``)."""
from ..nn.modules.module import Module

# the wrapper's own attributes; every other one set on it is set on the original module, as in PyTorch
_OWN = ("_orig_mod", "_compiled", "forward")


class OptimizedModule(Module):
    """A compiled module. Calling it runs the compiled ``_orig_mod(...)`` (with the hooks registered on the wrapper
    itself around it); every other attribute, read or set, is the original module's (``training`` too), and its
    ``state_dict`` keys carry the ``_orig_mod.`` prefix, as PyTorch's do."""

    def __init__(self, mod, compiled):
        super().__init__()
        self.__dict__.pop("training", None)  # (the original module's, through the property)
        self._orig_mod = mod
        self.__dict__["_compiled"] = compiled
        self.__dict__["forward"] = compiled

    def __call__(self, *args, **kwargs):
        d = self.__dict__
        if d["_forward_hooks"] or d["_forward_pre_hooks"] or d["_backward_hooks"] or d["_backward_pre_hooks"]:
            return self._call_with_hooks(args, kwargs)  # (hooks on the wrapper; forward is the compiled call)
        return d["_compiled"](*args, **kwargs)

    def __getattr__(self, name):
        if name == "_orig_mod":
            return self._modules["_orig_mod"]
        return getattr(self._modules["_orig_mod"], name)

    def __setattr__(self, name, value):
        if name in _OWN or hasattr(type(self), name) or "_orig_mod" not in self.__dict__.get("_modules", ()):
            return super().__setattr__(name, value)
        setattr(self._modules["_orig_mod"], name, value)

    def __delattr__(self, name):
        if name in _OWN or name in self.__dict__ or "_orig_mod" not in self.__dict__.get("_modules", ()):
            return super().__delattr__(name)
        delattr(self._modules["_orig_mod"], name)

    @property
    def training(self):
        return self._modules["_orig_mod"].training

    @training.setter
    def training(self, mode):
        if "_orig_mod" in self.__dict__.get("_modules", ()):
            self._modules["_orig_mod"].training = mode

    def train(self, mode=True):
        self._orig_mod.train(mode)
        return self

    def __getstate__(self):
        """Pickled (``pickle``, ``minitorch.save``, ``copy.deepcopy``) as the original module plus the settings it
        was compiled with; the compiled graphs and kernels are made again after loading."""
        state = {k: v for k, v in self.__dict__.items() if k not in ("_compiled", "forward")}
        state["_compile_settings"] = self.__dict__["_compiled"]._settings()
        return state

    def __setstate__(self, state):
        from .api import CompiledFunction
        settings = state.pop("_compile_settings")
        self.__dict__.update(state)
        mod = self._modules["_orig_mod"]
        compiled = CompiledFunction(mod._call_impl, mod, **settings)
        self.__dict__["_compiled"] = compiled
        self.__dict__["forward"] = compiled

    @property
    def code(self):
        return self.__dict__["_compiled"].code
