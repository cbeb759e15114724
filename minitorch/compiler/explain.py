"""``minitorch.compiler.explain``: what compiling a call does, for reading (graphs, breaks, fused kernels)."""


class ExplainOutput:
    """The result of ``explain``: ``graphs``, ``graph_count``, ``graph_break_count``, ``break_reasons``,
    ``op_count``, ``ops_per_graph``, ``out_guards`` (what each graph's signature requires of a call, in words),
    ``compile_times`` (the time the call took to capture and compile), ``guards`` (the guard nodes: a branch on a
    tensor's value that the graph holds for, with its line), ``backward_graphs`` (compiled backwards), ``kernels``
    (the fused groups), ``code`` (their generated source) and ``resumes`` (for each break, where the function is
    cut to resume capture after it, or None); ``str()`` shows all."""

    def __init__(self, graphs, breaks, kernels, backward_graphs=(), resumes=(), out_guards=(), compile_times=None):
        self.graphs = graphs
        # per break: ((first, last) lines of each piece, whether each runs eagerly, whether the cut is made before
        # the first capture (side effects) rather than at a break) or None
        self.resumes = list(resumes)
        self.backward_graphs = list(backward_graphs)  # the compiled backward of each graph that has one
        self.graph_count = len(graphs)
        self.break_reasons = breaks
        self.graph_break_count = len(breaks)
        self.ops_per_graph = [[n.name for n in g.nodes] for g in graphs]
        self.op_count = sum(len(o) for o in self.ops_per_graph)
        self.out_guards = list(out_guards)  # what each graph's signature requires of a call, in words
        self.compile_times = compile_times
        self.guards = [n for g in graphs for n in g.nodes if n.kind == "guard"]
        self.kernels = kernels
        self.code = "\n\n".join(k.source for k in kernels)

    def __str__(self):
        out = [f"Graph Count: {self.graph_count}", f"Graph Break Count: {self.graph_break_count}",
               f"Op Count: {self.op_count}"]
        if self.break_reasons:
            out.append("Break Reasons:")
            for i, b in enumerate(self.break_reasons):
                out.append(f"  Break Reason {i + 1}: {b.reason}" + (f"\n    at {b.line}" if b.line else ""))
                cut = self.resumes[i] if i < len(self.resumes) else None
                if cut is not None:
                    lines, eager, first = cut
                    parts = [f"lines {a}-{z} " + ("run eagerly" if e else "are compiled")
                             for (a, z), e in zip(lines, eager)]
                    out.append(("    the function is cut around it: " if first else
                                "    capture resumes after it: from the next call, ") + ", ".join(parts))
        if self.guards:
            out.append(f"Guards: {len(self.guards)} (a value read on the host, checked on every replay: another "
                       "value runs the call eagerly and captures that path too)")
            out += [f"  {n.name}() of {n.args[0].name()} was {n.args[2]!r}" + (f" at {n.line}" if n.line else "")
                    for n in self.guards]
        if self.out_guards:
            out.append("Out Guards:")
            out += [f"  Guard {i + 1}: {g}" for i, g in enumerate(self.out_guards)]
        if self.compile_times is not None:
            out.append(f"Compile Times: {self.compile_times}")
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
    import time
    c = CompiledFunction(fn._call_impl if module is not None else fn, module)
    start = time.perf_counter()
    c(*args, **kwargs)
    took = time.perf_counter() - start
    parts = [c] + c._parts()
    entries = [e for part in parts for e in part._entries.values()]
    guards = [f"{p.__name__}: {line}" for p in parts for k, e in p._entries.items() if e.graph is not None
              for line in p._guard_lines(k)]
    graphs = [e.graph for e in entries if e.graph is not None]
    broken = [e for e in entries if e.brk is not None]
    kernels = [k for e in entries for k in e.kernels]
    breaks = [e.brk for e in broken]
    resumes = [(e.resume.lines, e.resume.eager, False) if e.resume is not None else None for e in broken]
    if c._effects:  # statements with Python side effects, cut out before the first capture
        breaks = c._effects.why + breaks
        resumes = [(c._effects.lines, c._effects.eager, True)] + [None] * (len(c._effects.why) - 1) + resumes
    return ExplainOutput(graphs, breaks, kernels, [e.backward for e in entries if e.backward is not None],
                         resumes, guards, f"{took:.3f} s to capture, optimize and compile the call ({c.__name__})")
