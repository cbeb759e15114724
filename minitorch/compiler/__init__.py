"""``minitorch.compiler`` (``torch.compiler``): graph capture, passes and code generation behind
``minitorch.compile``.

Layout: ``ir.py`` (the graph), ``capture.py`` (recording a call), ``passes.py`` (dead code, elementwise fusion),
``codegen.py`` (generated Numba kernels and their disk cache), ``runtime.py`` (replaying a graph), ``api.py``
(``compile``, guards), ``module.py`` (``OptimizedModule``), ``explain.py``.
"""
from .api import (CompiledFunction, allow_in_graph, assume_constant_result, compile,  # noqa: A004
                  cudagraph_mark_step_begin, disable, is_compiling, is_dynamo_compiling, is_exporting, list_backends,
                  reset, set_stance)
from .capture import CompileError, GraphBreak
from .explain import ExplainOutput, explain

__all__ = ["compile", "reset", "explain", "ExplainOutput", "list_backends", "is_compiling", "disable",
           "CompiledFunction", "CompileError", "GraphBreak", "set_stance", "is_dynamo_compiling", "is_exporting",
           "allow_in_graph", "assume_constant_result", "cudagraph_mark_step_begin"]
