"""``torch._dynamo.utils``: ``counters``, what the compiler has done so far in this process, by category:
``counters["frames"]["total"]`` (captures) and ``["ok"]`` (captures that made a graph), ``counters["stats"]``
``["unique_graphs"]`` and ``["calls_captured"]`` (ops recorded into graphs), ``counters["graph_break"][reason]``.
Tests clear it with ``counters.clear()``."""
from ..compiler.api import counters

__all__ = ["counters"]
