"""``minitorch.compiler.explain``: what compiling a call does, for reading (graphs, breaks, fused kernels)."""


class ExplainOutput:
    """The result of ``explain``: ``graphs``, ``graph_count``, ``graph_break_count``, ``break_reasons``,
    ``ops_per_graph``, ``guards`` (the guard nodes: a branch on a tensor's value that the graph holds for, with its
    line), ``backward_graphs`` (compiled backwards), ``kernels`` (the fused groups) and ``code`` (their generated
    source); ``str()`` shows all."""

    def __init__(self, graphs, breaks, kernels, backward_graphs=()):
        self.graphs = graphs
        self.backward_graphs = list(backward_graphs)  # the compiled backward of each graph that has one
        self.graph_count = len(graphs)
        self.break_reasons = breaks
        self.graph_break_count = len(breaks)
        self.ops_per_graph = [[n.name for n in g.nodes] for g in graphs]
        self.guards = [n for g in graphs for n in g.nodes if n.kind == "guard"]
        self.kernels = kernels
        self.code = "\n\n".join(k.source for k in kernels)

    def __str__(self):
        out = [f"Graph Count: {self.graph_count}", f"Graph Break Count: {self.graph_break_count}",
               f"Op Count: {sum(len(o) for o in self.ops_per_graph)}"]
        if self.break_reasons:
            out.append("Break Reasons:")
            out += [f"  Break Reason {i + 1}: {b.reason}" + (f"\n    at {b.line}" if b.line else "")
                    for i, b in enumerate(self.break_reasons)]
        if self.guards:
            out.append(f"Guards: {len(self.guards)} (a value read on the host, checked on every replay: another "
                       "value runs the call eagerly and captures that path too)")
            out += [f"  {n.name}() of {n.args[0].name()} was {n.args[2]!r}" + (f" at {n.line}" if n.line else "")
                    for n in self.guards]
        for i, g in enumerate(self.graphs):
            out += [f"Graph {i + 1}:", str(g)]
        for i, g in enumerate(self.backward_graphs):
            out += [f"Backward Graph {i + 1}:", str(g)]
        if self.kernels:
            out.append(f"Fused Kernels: {len(self.kernels)}")
            for k in self.kernels:
                out += [f"--- {k.name} ({k.hash}): " + " -> ".join(o[0] for o in k.ops), k.source]
        return "\n".join(out)

    __repr__ = __str__


def explain(fn, *args, **kwargs):
    """Compile ``fn`` afresh, call it once with ``args``, and report what the compiler did."""
    from .api import CompiledFunction
    from ..nn.modules.module import Module
    if isinstance(fn, CompiledFunction):
        fn = fn._fn
    module = fn if isinstance(fn, Module) else None
    c = CompiledFunction(fn._call_impl if module is not None else fn, module)
    c(*args, **kwargs)
    entries = list(c._entries.values())
    graphs = [e.graph for e in entries if e.graph is not None]
    breaks = [e.brk for e in entries if e.brk is not None]
    kernels = [k for e in entries for k in e.kernels]
    return ExplainOutput(graphs, breaks, kernels, [e.backward for e in entries if e.backward is not None])
