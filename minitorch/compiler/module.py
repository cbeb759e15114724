"""``OptimizedModule``: what ``minitorch.compile(module)`` returns (``torch._dynamo.eval_frame.OptimizedModule``)."""
from ..nn.modules.module import Module


class OptimizedModule(Module):
    """A compiled module. Calling it runs the compiled ``_orig_mod(...)``; every other attribute is the original
    module's, and its ``state_dict`` keys carry the ``_orig_mod.`` prefix, as PyTorch's do."""

    def __init__(self, mod, compiled):
        super().__init__()
        self._orig_mod = mod
        self.__dict__["_compiled"] = compiled
        self.__dict__["forward"] = compiled
        self.training = mod.training

    def __call__(self, *args, **kwargs):
        return self.__dict__["_compiled"](*args, **kwargs)

    def __getattr__(self, name):
        if name == "_orig_mod":
            return self._modules["_orig_mod"]
        return getattr(self._modules["_orig_mod"], name)

    def train(self, mode=True):
        self._orig_mod.train(mode)
        self.training = mode
        return self

    @property
    def code(self):
        return self.__dict__["_compiled"].code
