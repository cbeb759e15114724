"""``torch._dynamo``: the names scripts written for PyTorch's compiler call around ``torch.compile``
(``torch._dynamo.reset()``, ``torch._dynamo.explain(fn)(*args)``, ``torch._dynamo.config.cache_size_limit``), served
by ``minitorch.compiler``."""
from .compiler import api as _api
from .compiler.api import disable, is_compiling, list_backends, reset
from .compiler.capture import CompileError as Unsupported
from .compiler.explain import explain as _explain

__all__ = ["reset", "explain", "config", "disable", "is_compiling", "list_backends", "Unsupported"]


def explain(fn, *args, **kwargs):
    """``explain(fn)(*args)`` (PyTorch 2.1 on) or ``explain(fn, *args)`` (earlier): compile ``fn`` afresh, call it
    once and report its graphs, breaks with their reasons, and generated kernels (``minitorch.compiler.explain``)."""
    if args or kwargs:
        return _explain(fn, *args, **kwargs)
    return lambda *a, **k: _explain(fn, *a, **k)


class _Config:
    """``torch._dynamo.config``: ``cache_size_limit`` (signatures captured per compiled callable before new ones run
    eagerly) is the compiler's own limit. ``suppress_errors`` and ``verbose`` are kept for scripts that set them:
    minitorch's compiler already runs eagerly wherever it cannot capture (a graph break), and prints its graphs and
    passes under ``MINITORCH_COMPILE_DEBUG=1``."""

    suppress_errors = False
    verbose = False

    @property
    def cache_size_limit(self):
        return _api.CACHE_SIZE_LIMIT

    @cache_size_limit.setter
    def cache_size_limit(self, n):
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"cache_size_limit must be a positive int, not {n!r}")
        _api.CACHE_SIZE_LIMIT = n


config = _Config()
