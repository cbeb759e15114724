"""``torch._logging``: ``set_logs`` turns on what the compiler reports (``minitorch.compiler.logs``);
``_internal`` holds the formatter its lines go through (``TORCH_LOGS_FORMAT``)."""
from ..compiler import logs as _logs
from . import _internal  # noqa: F401

__all__ = ["set_logs"]


def set_logs(*, all=None, dynamo=None, aot=None, autograd=None, dynamic=None, inductor=None,  # noqa: A002
             distributed=None, c10d=None, ddp=None, fsdp=None, dtensor=None, onnx=None, bytecode=False,
             aot_graphs=False, aot_joint_graph=False, ddp_graphs=False, graph=False, graph_code=False,
             graph_code_verbose=False, graph_breaks=False, side_effects=False, graph_sizes=False, guards=False,
             recompiles=False, recompiles_verbose=False, trace_source=False, trace_call=False, trace_bytecode=False,
             output_code=False, kernel_code=False, schedule=False, perf_hints=False, pre_grad_graphs=False,
             post_grad_graphs=False, ir_pre_fusion=False, ir_post_fusion=False, onnx_diagnostics=False, fusion=False,
             overlap=False, export=None, modules=None, cudagraphs=False, sym_node=False, compiled_autograd=False,
             compiled_autograd_verbose=False, cudagraph_static_inputs=False, benchmarking=False, autotuning=False,
             incremental=False, graph_region_expansion=False, inductor_metrics=False, hierarchical_compile=False,
             compute_dependencies=False, caching=False):
    """Choose what the compiler writes to stderr, as PyTorch's ``torch._logging.set_logs`` does (each call replaces
    the previous settings): artifacts by name (``recompiles=True``, ``graph_breaks=True``, ``graph_code=True``,
    ``output_code=True``, ``guards=True``, ``aot_graphs=True``, ``fusion=True``...), or a component's log level
    (``dynamo=logging.DEBUG`` turns on all of the capture's reports, ``logging.INFO`` its breaks and recompiles;
    ``inductor``, ``aot``, ``dynamic``, ``all`` likewise). Names for things minitorch does not have (distributed
    graphs, CUDA graphs, bytecode) are accepted and report nothing. ``modules`` maps further names to levels or
    flags."""
    flags = {"aot_graphs": aot_graphs, "aot_joint_graph": aot_joint_graph, "graph": graph, "graph_code": graph_code,
             "graph_code_verbose": graph_code_verbose, "graph_breaks": graph_breaks, "side_effects": side_effects,
             "graph_sizes": graph_sizes, "guards": guards, "recompiles": recompiles,
             "recompiles_verbose": recompiles_verbose, "output_code": output_code, "kernel_code": kernel_code,
             "schedule": schedule, "pre_grad_graphs": pre_grad_graphs, "post_grad_graphs": post_grad_graphs,
             "ir_pre_fusion": ir_pre_fusion, "ir_post_fusion": ir_post_fusion, "fusion": fusion, "sym_node": sym_node}
    levels = {"all": all, "dynamo": dynamo, "aot": aot, "dynamic": dynamic, "inductor": inductor}
    for name, value in (modules or {}).items():
        if isinstance(value, bool):
            flags[name] = flags.get(name, False) or value
        else:
            levels[name] = value
    _logs.configure([name for name, value in flags.items() if value], levels)
