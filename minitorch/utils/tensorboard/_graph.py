"""``add_graph``'s tracer: one forward pass of a Module, read back as a TensorBoard ``GraphDef``.

The forward runs with gradients enabled on detached copies of the inputs that require grad, so every
differentiable op records a node of the autograd graph. A global module forward hook labels, when a module
returns, the nodes between its outputs and its inputs that no inner module has claimed with that module's
scope (``Net/Linear[fc1]``, as PyTorch's tracer names scopes). The graph is then walked from the outputs back:
one ``NodeDef`` per op (``<scope>/<op>_<k>``, op ``aten::<op>``), per parameter (``<scope>/<name>``, op
``prim::GetAttr``), per input (``input/input.<i>``) and per output (``output/output.<i>``), with edges from the
recorded inputs and each node's output shape in ``_output_shapes``.

What it cannot show: ops on values that need no gradient (integer indexing, argmax, masks built by comparisons,
anything under ``no_grad`` inside forward) record no autograd node, so they are absent; a module whose output
needs no gradient shows no ops.
"""
import re

__all__ = ["graph"]


def _flatten(obj):
    from ...tensor import Tensor
    if isinstance(obj, Tensor):
        return [obj]
    if isinstance(obj, (list, tuple)):
        return [t for o in obj for t in _flatten(o)]
    if isinstance(obj, dict):
        return [t for o in obj.values() for t in _flatten(o)]
    return []


def _op_name(node):
    """``AddmmBackward0`` -> ``addmm``; ``MaxPool2DWithIndicesBackward0`` -> ``max_pool2d_with_indices``."""
    base = re.sub(r"(\d)D", r"\1d", re.sub(r"Backward\d*$", "", node.name()))
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", base).lower() or "op"


def _scopes(model):
    """id(module) -> scope string; id(parameter or buffer) -> (scope, name) of the module owning it."""
    root = type(model).__name__
    scopes = {id(model): root}
    for name, mod in model.named_modules():
        if not name or id(mod) in scopes:
            continue
        parent = name.rpartition(".")[0]
        parent_scope = scopes[id(model.get_submodule(parent))] if parent else root
        scopes[id(mod)] = f"{parent_scope}/{type(mod).__name__}[{name.rpartition('.')[2]}]"
    owners = {}
    for name, p in list(model.named_parameters()) + list(model.named_buffers()):
        mod_path, _, leaf = name.rpartition(".")
        owner = model.get_submodule(mod_path) if mod_path else model
        owners.setdefault(id(p), (scopes[id(owner)], leaf))
    return scopes, owners


def _shape_attr(shape):
    from tensorboard.compat.proto.attr_value_pb2 import AttrValue
    from tensorboard.compat.proto.tensor_shape_pb2 import TensorShapeProto
    dims = [TensorShapeProto.Dim(size=int(s)) for s in shape]
    return AttrValue(list=AttrValue.ListValue(shape=[TensorShapeProto(dim=dims)]))


def graph(model, args, verbose=False):
    """(GraphDef, RunMetadata) for ``model(*args)``; see the module docstring for what the graph holds."""
    from tensorboard.compat.proto.config_pb2 import RunMetadata
    from tensorboard.compat.proto.graph_pb2 import GraphDef
    from tensorboard.compat.proto.node_def_pb2 import NodeDef
    from tensorboard.compat.proto.step_stats_pb2 import DeviceStepStats, StepStats
    from tensorboard.compat.proto.versions_pb2 import VersionDef

    from ...autograd.function import AccumulateGrad
    from ...autograd.grad_mode import enable_grad
    from ...nn.modules.module import register_module_forward_hook
    from ...tensor import Tensor

    if args is None:
        args = ()
    elif isinstance(args, Tensor):
        args = (args,)
    elif isinstance(args, list):
        args = tuple(args)
    elif not isinstance(args, tuple):
        args = (args,)
    inputs = []

    def prepare(a):
        if isinstance(a, Tensor):
            t = a.detach()
            if t.dtype.is_floating_point:
                t.requires_grad_(True)
            inputs.append(t)
            return t
        if isinstance(a, (list, tuple)):
            return type(a)(prepare(x) for x in a)
        return a
    args = tuple(prepare(a) for a in args)

    scopes, owners = _scopes(model)
    node_scope = {}   # id(node) -> scope of the innermost module that produced it
    keep = []         # the nodes stay alive (and their ids unique) until the graph is written

    def label(module, mod_args, mod_kwargs, output):
        scope = scopes.get(id(module))
        if scope is None:
            return
        stop = {id(t.grad_fn) for t in _flatten([mod_args, mod_kwargs]) if t.grad_fn is not None}
        todo = [t.grad_fn for t in _flatten(output) if t.grad_fn is not None]
        while todo:
            node = todo.pop()
            if node is None or isinstance(node, AccumulateGrad) or id(node) in stop or id(node) in node_scope:
                continue
            node_scope[id(node)] = scope
            keep.append(node)
            todo.extend(nxt for nxt, _ in node.next_functions)

    handle = register_module_forward_hook(label, with_kwargs=True)
    try:
        with enable_grad():
            out = model(*args)
    finally:
        handle.remove()
    outputs = _flatten(out)

    root = scopes[id(model)]
    input_names = {id(t): f"input/input.{i}" for i, t in enumerate(inputs)}
    names, order, counters = {}, [], {}

    def node_name(node):
        key = id(node)
        if key in names:
            return names[key]
        if isinstance(node, AccumulateGrad):
            v = node.variable
            if id(v) in input_names:
                name = input_names[id(v)]
            elif id(v) in owners:
                scope, leaf = owners[id(v)]
                name = f"{scope}/{leaf}"
            else:
                k = counters[root, "constant"] = counters.get((root, "constant"), -1) + 1
                name = f"{root}/constant_{k}"
        else:
            scope = node_scope.get(key, root)
            op = _op_name(node)
            k = counters[scope, op] = counters.get((scope, op), -1) + 1
            name = f"{scope}/{op}_{k}"
        names[key] = name
        return name

    # post-order walk from the outputs: producers before consumers, as the forward ran
    seen = set()
    for t in outputs:
        if t.grad_fn is None:
            continue
        stack = [(t.grad_fn, False)]
        while stack:
            node, done = stack.pop()
            if done:
                order.append(node)
                continue
            if id(node) in seen:
                continue
            seen.add(id(node))
            stack.append((node, True))
            if not isinstance(node, AccumulateGrad):
                for nxt, _ in reversed(node.next_functions):
                    if nxt is not None and id(nxt) not in seen:
                        stack.append((nxt, False))

    device = "/device:CPU:0"
    nodes = []
    for node in order:
        name = node_name(node)
        if isinstance(node, AccumulateGrad):
            v = node.variable
            op = "IO Node" if id(v) in input_names else "prim::GetAttr"
            shape = v.shape
        else:
            op = "aten::" + _op_name(node)
            meta = getattr(node, "_out_meta", None)
            shape = meta[0] if meta is not None else None
        inputs_of = [] if isinstance(node, AccumulateGrad) else \
            [node_name(nxt) for nxt, _ in node.next_functions if nxt is not None]
        nd = NodeDef(name=name, op=op, input=inputs_of, device=device)
        if shape is not None:
            nd.attr["_output_shapes"].CopyFrom(_shape_attr(shape))
        nodes.append(nd)
    for t in inputs:  # inputs no op used (or that need no grad) still show as input nodes
        if id(t) not in {id(n.variable) for n in order if isinstance(n, AccumulateGrad)}:
            nd = NodeDef(name=input_names[id(t)], op="IO Node", device=device)
            nd.attr["_output_shapes"].CopyFrom(_shape_attr(t.shape))
            nodes.insert(0, nd)
    for i, t in enumerate(outputs):
        src = [names[id(t.grad_fn)]] if t.grad_fn is not None and id(t.grad_fn) in names else []
        nd = NodeDef(name=f"output/output.{i}", op="IO Node", input=src, device=device)
        nd.attr["_output_shapes"].CopyFrom(_shape_attr(t.shape))
        nodes.append(nd)

    if verbose:
        for nd in nodes:
            print(f"{nd.name} = {nd.op}({', '.join(nd.input)})")
    stats = RunMetadata(step_stats=StepStats(dev_stats=[DeviceStepStats(device=device)]))
    return GraphDef(node=nodes, versions=VersionDef(producer=22)), stats
