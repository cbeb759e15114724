"""What the compiler reports as it works, by artifact (``minitorch._logging.set_logs``, PyTorch's
``torch._logging.set_logs``; the ``TORCH_LOGS`` environment variable; ``MINITORCH_COMPILE_DEBUG=1`` turns on all).

Artifacts the compiler writes to stderr, one ``[minitorch.compile] [__artifact]`` block per event:

- ``graph``: each captured graph (the IR, one node per op);
- ``graph_breaks``: each graph break with its reason and line, and each statement cut out for its side effects;
- ``recompiles``: each capture of a callable that has captured before, with the guard that failed (which
  argument, grad mode, module state or Python value differs from the closest captured signature);
- ``guards``: the guards (the signature) of each new graph;
- ``passes``: the graph after each optimization pass (before and after fusion);
- ``output_code``: the generated source of each new kernel;
- ``aot_graphs``: the captured backward graph of a training forward;
- ``dynamic``: whether a callable's sizes became symbolic, and pieces whose numbers keep changing.
"""
import logging
import os
import sys
import warnings

ARTIFACTS = ("graph", "graph_breaks", "recompiles", "guards", "passes", "output_code", "aot_graphs", "dynamic")
_ON = set()

# PyTorch's artifact names -> ours (the ones with no counterpart here name events minitorch does not have:
# distributed graphs, CUDA graphs, bytecode; they are accepted and log nothing)
ALIASES = {"graph": "graph", "graph_code": "graph", "graph_code_verbose": "graph", "graph_breaks": "graph_breaks",
           "side_effects": "graph_breaks", "recompiles": "recompiles", "recompiles_verbose": "recompiles",
           "guards": "guards", "fusion": "passes", "ir_pre_fusion": "passes", "ir_post_fusion": "passes",
           "pre_grad_graphs": "passes", "post_grad_graphs": "passes", "schedule": "passes",
           "output_code": "output_code", "kernel_code": "output_code", "aot_graphs": "aot_graphs",
           "aot_joint_graph": "aot_graphs", "graph_sizes": "dynamic", "sym_node": "dynamic"}
# components whose log level turns artifacts on: (those at INFO, those at DEBUG)
COMPONENTS = {"all": (("graph_breaks", "recompiles", "dynamic"), ARTIFACTS),
              "dynamo": (("graph_breaks", "recompiles"), ("graph_breaks", "recompiles", "graph", "guards")),
              "aot": (("aot_graphs",), ("aot_graphs", "passes")),
              "inductor": (("output_code",), ("output_code", "passes")),
              "dynamic": (("dynamic",), ("dynamic",))}


def on(artifact):
    return artifact in _ON or os.environ.get("MINITORCH_COMPILE_DEBUG", "") not in ("", "0")


_OUTPUT = [None, None]  # (a logging.Formatter, a file name) set by torch._logging._internal._init_logs


def log(artifact, text):
    """Write ``text`` under ``artifact`` when it is on."""
    if on(artifact):
        fmt, path = _OUTPUT
        if fmt is None:
            line = f"[minitorch.compile] [__{artifact}] {text}"
        else:
            record = logging.LogRecord("torch._dynamo", logging.INFO, __file__, 0, text, None, None)
            record.artifact = artifact
            line = fmt.format(record)
        if path is None:
            sys.stderr.write(line + "\n")
        else:
            with open(path, "a") as f:
                f.write(line + "\n")


def set_output(formatter, path=None):
    """Format every report line with ``formatter`` (a ``logging.Formatter``; None: minitorch's own form) and write
    it to ``path`` (None: stderr)."""
    _OUTPUT[0], _OUTPUT[1] = formatter, path


def configure(artifacts, levels):
    """Turn on exactly the given PyTorch artifact names and component log levels (others off)."""
    new = {ALIASES[a] for a in artifacts if a in ALIASES}
    for comp, level in levels.items():
        info, debug = COMPONENTS.get(comp, ((), ()))
        if level is not None and level <= logging.DEBUG:
            new.update(debug)
        elif level is not None and level <= logging.INFO:
            new.update(info)
    _ON.clear()
    _ON.update(new)


def from_env(value):
    """``TORCH_LOGS="recompiles,graph_breaks,+dynamo"``: artifact names, and components at INFO (``name``),
    DEBUG (``+name``) or ERROR (``-name``)."""
    artifacts, levels = [], {}
    for part in (p.strip() for p in value.split(",")):
        if not part:
            continue
        name = part.lstrip("+-")
        if name in COMPONENTS or name in _OTHER_COMPONENTS:
            levels[name] = logging.DEBUG if part[0] == "+" else logging.ERROR if part[0] == "-" else logging.INFO
        elif name in ALIASES or name in _OTHER_ARTIFACTS:
            artifacts.append(name)
        else:
            warnings.warn(f"TORCH_LOGS: unknown log name {name!r}", stacklevel=2)
    configure(artifacts, levels)


_OTHER_COMPONENTS = {"autograd", "distributed", "c10d", "ddp", "fsdp", "dtensor", "onnx", "export"}
_OTHER_ARTIFACTS = {"bytecode", "ddp_graphs", "trace_source", "trace_call", "trace_bytecode", "perf_hints",
                    "onnx_diagnostics", "overlap", "cudagraphs", "compiled_autograd", "compiled_autograd_verbose",
                    "cudagraph_static_inputs", "benchmarking", "autotuning", "incremental", "graph_region_expansion",
                    "inductor_metrics", "hierarchical_compile", "compute_dependencies", "caching"}

if os.environ.get("TORCH_LOGS"):
    from_env(os.environ["TORCH_LOGS"])
