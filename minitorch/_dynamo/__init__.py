"""``torch._dynamo``: the names scripts written for PyTorch's compiler call around ``torch.compile``
(``torch._dynamo.reset()``, ``torch._dynamo.explain(fn)(*args)``, ``torch._dynamo.config.cache_size_limit``), served
by ``minitorch.compiler``."""
from ..compiler import api as _api
from ..compiler import capture as _capture
from ..compiler.api import allow_in_graph, assume_constant_result, disable, is_compiling, list_backends, reset
from ..compiler.capture import CompileError as Unsupported
from ..compiler.explain import explain as _explain
from . import utils

__all__ = ["reset", "explain", "config", "disable", "is_compiling", "list_backends", "Unsupported", "graph_break",
           "allow_in_graph", "assume_constant_result", "utils"]


def graph_break():
    """End the graph here (``torch._dynamo.graph_break()``): inside a compiled call the capture stops at this line
    and the rest runs as after any break; outside one it does nothing."""
    rec = _capture._ACTIVE[0]
    if rec is not None and rec.depth == 0:
        rec.stop("torch._dynamo.graph_break() was called")


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
