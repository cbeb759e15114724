"""Graph passes: dead-code elimination, identity views, constant folding, common subexpressions and fusion of
elementwise chains into generated kernels.

Each pass takes a graph and returns it changed in place; ``optimize`` runs them in order and, with
``MINITORCH_COMPILE_DEBUG=1``, prints the graph after each.
"""
import math
import sys

from .ir import Node, Value

# nodes that may be dropped when nothing uses their outputs: pure ops of minitorch itself. Launchers (fills,
# random draws, in-place updates), nn.functional composites (running statistics) and user Functions stay.
_PURE_KINDS = ("view", "fused", "op")


def _pure(node):
    if node.kind in _PURE_KINDS:
        return True
    if node.kind == "function":
        cls = getattr(node.target, "__self__", None)
        # CopySlices and the like write into their first argument
        return cls is not None and cls.__module__.startswith("minitorch.ops.") and "Copy" not in cls.__name__
    if node.kind == "launcher":
        return node.name in ("empty", "unary", "binary", "binary_same", "contiguous", "reduce") and \
            not node.kwargs.get("out")
    return False


def dead_code(graph):
    """Drop pure nodes whose outputs nothing reads (the graph's outputs count as reads)."""
    live = {id(v) for v in graph.outputs()}
    kept = []
    for n in reversed(graph.nodes):
        if _pure(n) and not any(id(v) in live for v in n.outputs):
            continue
        kept.append(n)
        live.update(id(v) for v in n.inputs())
    kept.reverse()
    graph.nodes = kept
    graph.consts = [c for c in graph.consts if id(c) in live]
    return graph


def _substitute(graph, mapping):
    """Make every reader of a Value in ``mapping`` read its replacement instead."""
    if not mapping:
        return
    from .ir import map_tree

    def sub(a):
        return mapping.get(id(a), a) if isinstance(a, Value) else a
    for n in graph.nodes:
        n.args = map_tree(sub, n.args)
        n.kwargs = map_tree(sub, n.kwargs)
    graph.output_tree = map_tree(sub, graph.output_tree)


def identity_views(graph, autograd=True, keep_outputs=True):
    """Drop views that change nothing: same shape, strides, offset and dtype as their base (the backward's
    ``as_strided(g, g.shape, g.stride(), 0)`` around each gradient); readers read the base. Where the graph replays
    through autograd, only views of bases that take no part in it (the view has no autograd history)."""
    mapping = {}
    kept = []
    # a view the caller gets is another tensor than its base (a backward's gradients are not handed out as such)
    outputs = {id(v) for v in graph.outputs()} if keep_outputs else ()
    for n in graph.nodes:
        if n.kind == "view" and mapping:
            n.args = (mapping.get(id(n.args[0]), n.args[0]),) + tuple(n.args[1:])
        if n.kind == "view" and n.name == "as_strided":
            base, shape, stride, delta = n.args
            out = n.outputs[0]
            if isinstance(base, Value) and not (autograd and (base.rg or out.rg)) and delta == 0 \
                    and id(out) not in outputs and tuple(shape) == base.shape and tuple(stride) == base.geom[0] \
                    and out.dtype == base.dtype:
                mapping[id(out)] = base
                continue
        kept.append(n)
    graph.nodes = kept
    _substitute(graph, mapping)
    return graph


def drop_contexts(graph, read=()):
    """Forget the autograd contexts nodes hand out (``Node.extras``) unless one of them is in ``read`` (the values
    a compiled backward reads); a node that hands out none replays as recorded and may fuse."""
    read = {id(v) for v in read}
    for n in graph.nodes:
        if n.extras and not any(id(v) in read for v in n.extras[0]):
            n.outputs = n.outputs[:len(n.outputs) - len(n.extras[0])]
            n.extras = None
    return graph


def _linear_act(x, w, b, act, pre):
    """F.linear(x, w, b) and its activation ``act`` in one launch (``launch.linear``), for x of any rank >= 2;
    ``pre``: (the pre-activation, the activation)."""
    from ..ops import launch
    lead = x.shape[:-1]
    if len(lead) != 1:
        x = x.reshape(-1, x.shape[-1])
    r = launch.linear(x, w, b, act=act, pre=pre)
    if len(lead) == 1:
        return r
    shape = tuple(lead) + (w.shape[0],)
    return (r[0].view(shape), r[1].view(shape)) if pre else r.view(shape)


def _readers(graph):
    """id(value) -> the nodes that read it, in graph order."""
    readers = {}
    for n in graph.nodes:
        for v in n.inputs():
            readers.setdefault(id(v), []).append(n)
    return readers


def _epilogue_target(n):
    """What kind of GEMM node ``n`` is when an activation can be its epilogue: "linear" for F.linear with x and
    weight (and bias) passed positionally, x of rank 2 or more; "conv" for the Conv2d autograd function and
    "conv_bn" for a convolution with a folded batch norm (``fold_batch_norm``) (relu only); else None."""
    from ..nn import functional as F
    from ..ops import conv
    if n.extras or len(n.outputs) != 1 or not n.args or not isinstance(n.args[0], Value) or n.kwargs:
        return None
    if n.kind == "functional" and n.target is F.linear and len(n.args) in (2, 3) and len(n.args[0].shape) >= 2:
        return "linear"
    if n.kind == "function" and getattr(n.target, "__self__", None) is conv.Conv2d and len(n.args) == 7:
        return "conv"
    if n.kind == "launcher" and type(n.target) is conv._ConvBatchNorm and n.target.act == 0 and len(n.args) == 12:
        return "conv_bn"
    return None


def _activation_of(r, v):
    """The name of the activation (a ``launch.LINEAR_ACTS`` key) that node ``r`` applies to ``v`` alone, else None:
    F.relu (not in place), F.gelu (exact), F.tanh, F.sigmoid, their Tensor-method or torch.* forms (the elementwise
    Functions, or launchers under no_grad), and the GELU Function."""
    from ..nn import functional as F
    from ..ops.activation import Gelu
    if r.extras or len(r.outputs) != 1 or [a for a in r.inputs()] != [v] or r.outputs[0].dtype is not v.dtype:
        return None
    if r.kind == "functional":
        if r.args != (v,):
            return None
        if r.target is F.relu and set(r.kwargs) <= {"inplace"} and not r.kwargs.get("inplace"):
            return "relu"
        if r.target is F.gelu and set(r.kwargs) <= {"approximate"} and r.kwargs.get("approximate", "none") == "none":
            return "gelu"
        if r.target in (F.tanh, F.sigmoid) and not r.kwargs:
            return r.target.__name__
        return None
    if r.kind == "function" and getattr(r.target, "__self__", None) is Gelu and r.args == (v,) and not r.kwargs:
        return "gelu"
    op = elementwise_op(r)
    return op if op in ("relu", "tanh", "sigmoid") else None


def _silu_mul(r, v, readers, drop, n):
    """The node multiplying ``v`` by its sigmoid (node ``r``), when it is the sigmoid's only reader, of v's shape and
    dtype, recorded as the GEMM ``n`` was (SiLU recorded op by op, or written out); else None."""
    s = r.outputs[0]
    ms = readers.get(id(s), ())
    if s.users != 1 or len(ms) != 1:
        return None
    m = ms[0]
    ins = list(m.inputs())
    if id(m) in drop or elementwise_op(m) != "mul" or len(ins) != 2 or {id(a) for a in ins} != {id(v), id(s)} \
            or len(m.outputs) != 1 or m.outputs[0].shape != v.shape or m.outputs[0].dtype is not v.dtype \
            or m.grad_mode != n.grad_mode or m.epoch != n.epoch:
        return None
    return m


def _inference_batch_norm(r, v):
    """(mean, var, gamma, beta, eps) when node ``r`` is ``F.batch_norm`` of ``v`` with training=False and running
    statistics; else None."""
    import inspect

    from ..nn import functional as F
    if r.kind != "functional" or r.target is not F.batch_norm or r.extras or len(r.outputs) != 1:
        return None
    try:
        a = inspect.signature(F.batch_norm).bind(*r.args, **r.kwargs)
    except TypeError:
        return None
    a.apply_defaults()
    p = a.arguments
    if p["input"] is not v or p["training"] is not False or not isinstance(p["eps"], float):
        return None
    stats = (p["running_mean"], p["running_var"], p["weight"], p["bias"])
    if not all(isinstance(t, Value) for t in stats[:2]) or not all(t is None or isinstance(t, Value) for t in stats):
        return None
    if any(t is not None and (t.dtype is not v.dtype or t.shape != (v.shape[1],)) for t in stats):
        return None
    return stats + (p["eps"],)


def fold_batch_norm(graph, autograd=False):
    """A 2-D convolution whose result only an inference batch norm reads (``F.batch_norm`` with training=False,
    float32/float64) becomes one launch with the batch norm folded into the convolution's weights and bias
    (``ops.conv._ConvBatchNorm``, which folds again when a tensor it folded is written or replaced), in a graph
    replayed without autograd or where both were recorded under no_grad: the normalization's pass over the
    activation is gone, and a relu after it can become the convolution's epilogue (``gemm_epilogues``)."""
    from ..ops import conv
    graph.count_users()
    readers = _readers(graph)
    drop = {}
    for n in graph.nodes:
        if _epilogue_target(n) != "conv" or autograd and n.grad_mode is not False:
            continue
        v = n.outputs[0]
        rs = readers.get(id(v), ())
        if v.users != 1 or len(rs) != 1 or v.dtype.name not in ("float32", "float64") \
                or any(a.dtype is not v.dtype for a in n.inputs()):
            continue
        r = rs[0]
        bn = _inference_batch_norm(r, v)
        if bn is None or r.grad_mode != n.grad_mode or r.epoch != n.epoch:
            continue
        fused = Node("launcher", "conv2d_bn", conv._ConvBatchNorm(0), tuple(n.args) + bn, {}, grad_mode=n.grad_mode,
                     line=r.line)
        fused.outputs, fused.out_tree, fused.epoch, fused.group = list(r.outputs), r.out_tree, r.epoch, [n, r]
        for out in fused.outputs:
            out.node = fused
        drop[id(n)] = None
        drop[id(r)] = fused
    if drop:
        graph.nodes = [drop.get(id(n), n) for n in graph.nodes if drop.get(id(n), n) is not None]
    return graph


def gemm_epilogues(graph, autograd=False):
    """``F.linear`` whose result an activation reads (relu, the exact gelu, tanh, sigmoid, or SiLU as its recorded
    ops: the result times its sigmoid), or a 2-D convolution
    whose result only ``F.relu`` reads, becomes one launch applying the activation while each block of the GEMM's
    result is in cache (CPU, float inputs of one dtype): in a graph replayed without autograd, or (``autograd``)
    where both were recorded under no_grad. Where something else reads the linear layer's result too (a compiled
    backward saves a GELU's input), the launch gives both."""
    from ..ops import conv
    from .ir import leaves
    graph.count_users()
    readers = _readers(graph)
    drop = {}
    for n in graph.nodes:
        kind = _epilogue_target(n)
        if kind is None or autograd and n.grad_mode is not False:
            continue
        v = n.outputs[0]
        rs = readers.get(id(v), ())
        tensors = [a for a in leaves((n.args, n.kwargs)) if isinstance(a, Value)]
        if v.device.type != "cpu" or v.dtype.name not in ("float32", "float64") \
                or any(a.dtype is not v.dtype for a in tensors):
            continue
        acts = [(r, _activation_of(r, v)) for r in rs if id(r) not in drop]
        acts = [(r, a) for r, a in acts if a is not None and r.grad_mode == n.grad_mode and r.epoch == n.epoch]
        if not acts:
            continue
        r, act = acts[0]
        m = _silu_mul(r, v, readers, drop, n) if act == "sigmoid" and kind == "linear" else None
        group = [n, r]
        if m is not None:  # x * sigmoid(x) (SiLU's recorded ops): the launch gives the product
            drop[id(r)] = None
            r, act = m, "silu"
            group.append(m)
            pre = v.users != 2 or len(rs) != 2
        else:
            pre = v.users != 1 or len(rs) != 1
        if kind == "conv":
            if act != "relu" or pre:
                continue
            fused = Node("launcher", "conv2d_relu", conv._conv2d_relu, n.args, {}, grad_mode=n.grad_mode, line=r.line)
        elif kind == "conv_bn":
            if act != "relu" or pre:
                continue
            fused = Node("launcher", "conv2d_bn_relu", conv._ConvBatchNorm(1), n.args, {}, grad_mode=n.grad_mode,
                         line=r.line)
        else:
            fused = Node("launcher", f"linear_{act}", _linear_act, tuple(n.args) + (None,) * (3 - len(n.args)) +
                         (act, pre), {}, grad_mode=n.grad_mode, line=r.line)
        fused.outputs = [v, r.outputs[0]] if pre else list(r.outputs)
        fused.out_tree = (v, r.outputs[0]) if pre else r.out_tree
        fused.epoch = r.epoch
        fused.group = group
        for out in fused.outputs:
            out.node = fused
        drop[id(n)] = fused  # where the GEMM was: other readers of its result may come before the activation
        drop[id(r)] = None
    if drop:
        graph.nodes = [drop.get(id(n), n) for n in graph.nodes if drop.get(id(n), n) is not None]
    return graph


def _linear_backward_act(g, x, w, In, need_x, need_w, need_b, saved, act, shape):
    """``launch.linear_backward`` with the backward of the activation that gave x applied to x's gradient in the
    same kernel (``act`` "relu", "tanh", "sigmoid": ``saved`` is its output; "gelu": its input), that gradient
    given ``shape``."""
    from ..ops import launch
    if len(saved.shape) != 2:
        saved = saved.reshape(-1, In)
    gx, gw, gb = launch.linear_backward(g, x, w, In, need_x, need_w, need_b, **{_SAVED_ARG[act]: saved})
    return (gx.view(shape) if tuple(gx.shape) != shape else gx), gw, gb


_SAVED_ARG = {"relu": "relu_out", "gelu": "gelu_in", "tanh": "tanh_out", "sigmoid": "sigmoid_out"}


def _output_grad_of(r, g):
    """"tanh" or "sigmoid" when fused node ``r`` is exactly that activation's backward from its output y applied to
    ``g`` (the ops its formula records: g * (1 - y * y), g * (y * (1 - y))), with y; else None."""
    from .codegen import FusedKernel
    k = r.target
    if r.kind != "fused" or not isinstance(k, FusedKernel) or k.reduce or k.sgrad is not None or k.ln is not None \
            or len(k.inputs) != 2 or k.modes != ["full", "full"] or len(k.ops) != 3 or g not in k.inputs:
        return None
    gn = f"a{k.inputs.index(g)}"
    yn = "a1" if gn == "a0" else "a0"
    one = f"np.{k.dtype.name}(1.0)"
    (o0, n0, t0), (o1, n1, t1), (o2, n2, t2) = k.ops
    last = o2 == "mul" and sorted(n2) == sorted([gn, t1])
    if last and o0 == "mul" and n0 == [yn, yn] and o1 == "sub" and n1 == [one, t0]:
        return "tanh", k.inputs[int(yn[1])]
    if last and o0 == "sub" and n0 == [one, yn] and o1 == "mul" and sorted(n1) == sorted([yn, t0]):
        return "sigmoid", k.inputs[int(yn[1])]
    return None


def _reshape_of(n, base):
    """Whether ``n`` is a view giving the dense layout of ``base`` another shape (the backward's reshapes)."""
    if n.kind != "view" or n.name != "as_strided" or len(n.args) != 4 or n.args[0] is not base or n.args[3] != 0:
        return False
    shape, stride = tuple(n.args[1]), tuple(n.args[2])
    want, acc = [], 1
    for d in reversed(shape):
        want.append(acc)
        acc *= d
    return stride == tuple(reversed(want)) and acc == math.prod(base.shape) and n.outputs[0].dtype is base.dtype


def activation_backward_epilogues(graph, kernels=None):
    """A linear layer's backward whose input gradient only ``relu_backward`` or ``gelu_backward`` reads (directly
    or through a reshape: the layer read that activation's output) becomes one launch applying the activation's
    backward to each block of that gradient while it is in cache (CPU, float32/float64), where the value that
    backward reads (the relu's output, the GELU's input) is ready before the layer's backward runs. After
    elementwise fusion, so does a fused kernel that is tanh's or the sigmoid's backward (``_output_grad_of``; its
    kernel leaves ``kernels``)."""
    from ..ops import launch
    graph.count_users()
    readers, made_at = {}, {}
    for i, n in enumerate(graph.nodes):
        for v in n.inputs():
            readers.setdefault(id(v), []).append(n)
        for v in n.outputs:
            made_at[id(v)] = i

    def only_reader(v):
        rs = readers.get(id(v), ())
        return rs[0] if isinstance(v, Value) and v.users == 1 and len(rs) == 1 else None
    acts = {launch.relu_backward: "relu", launch.gelu_backward: "gelu"}
    drop = {}
    for i, n in enumerate(graph.nodes):
        if n.kind != "launcher" or n.target is not launch.linear_backward or len(n.args) != 7 or n.kwargs \
                or n.args[4] is not True or type(n.out_tree) is not tuple or len(n.out_tree) != 3:
            continue
        gx = n.out_tree[0]
        r = only_reader(gx)
        if r is None or gx.device.type != "cpu" or gx.dtype.name not in ("float32", "float64"):
            continue
        view = None
        if _reshape_of(r, gx):
            view, r = r, only_reader(r.outputs[0])
            if r is None:
                continue
        g_in = view.outputs[0] if view is not None else gx
        if len(r.outputs) != 1 or r.grad_mode != n.grad_mode or id(r) in drop:
            continue
        out_grad = _output_grad_of(r, g_in)
        if out_grad is not None:
            act, y = out_grad
        elif r.kind != "launcher" or r.target not in acts or len(r.args) != 2 or r.args[0] is not g_in or r.kwargs:
            continue
        else:
            act, y = acts[r.target], r.args[1]
        if not isinstance(y, Value) or y.shape != g_in.shape or y.dtype is not gx.dtype \
                or made_at.get(id(y), -1) >= i:
            continue
        if out_grad is not None and kernels is not None and r.target in kernels:
            kernels.remove(r.target)
        fused = Node("launcher", f"linear_backward_{act}", _linear_backward_act,
                     n.args + (y, act, tuple(g_in.shape)), {}, grad_mode=n.grad_mode, line=r.line)
        fused.out_tree = (r.outputs[0],) + n.out_tree[1:]
        fused.outputs = [v for v in fused.out_tree if isinstance(v, Value)]
        fused.epoch = n.epoch
        fused.group = [n] + ([view] if view is not None else []) + [r]
        for v in fused.outputs:
            v.node = fused
        drop[id(n)] = fused
        drop[id(r)] = None
        if view is not None:
            drop[id(view)] = None
    if drop:
        graph.nodes = [drop.get(id(n), n) for n in graph.nodes if drop.get(id(n), n) is not None]
    return graph


def _is_add(n):
    return n.kind == "launcher" and n.name in ("binary", "binary_same") and not n.kwargs and len(n.args) == 3 \
        and n.args[0] == "add" and n.grad_mode is False and len(n.outputs) == 1


def _written_offsets(v):
    """The storage offsets (relative to its base) of every element of view ``v`` (node ``view.as_strided``)."""
    import numpy as np
    _, shape, stride, delta = v.node.args
    off = np.full((), delta, dtype=np.int64)
    for n, st in zip(shape, stride):
        off = off[..., None] + np.arange(n, dtype=np.int64) * st
    return off.ravel()


def merge_slice_gradients(graph):
    """The gradients of slices of one tensor (``split``/``chunk``/``q, k, v = qkv(x).split(...)`` in a compiled
    backward): each slice's backward fills a zeros buffer of the whole tensor, copies its gradient into its part,
    and the buffers are added. When the parts are disjoint, every gradient is copied into the first buffer instead
    and the additions and the other buffers go (for three slices: two of three zero fills and a whole-tensor
    addition fewer). Only nodes recorded under no_grad, and buffers nothing else reads."""
    graph.count_users()
    readers = _readers(graph)
    producer = {id(v): n for n in graph.nodes for v in n.outputs}
    pos = {id(n): i for i, n in enumerate(graph.nodes)}
    outputs = {id(v) for v in graph.outputs()}
    drop, mapping = set(), {}
    for root in graph.nodes:
        if not _is_add(root) or id(root) in drop or any(_is_add(r) for r in readers.get(id(root.outputs[0]), ())):
            continue
        plan = _slice_gradient_plan(root, readers, producer, outputs, pos)
        if plan is None:
            continue
        first, adds, others, leaf = plan
        for buf, leaf_view, writes in others:
            for w in writes:  # the part's view now points into the first buffer
                w.args = (first,) + tuple(w.args[1:])
            drop.update((id(buf), id(leaf_view)))
        drop.update(id(a) for a in adds)
        mapping[id(root.outputs[0])] = leaf
    if mapping:
        graph.nodes = [n for n in graph.nodes if id(n) not in drop]
        _substitute(graph, mapping)
    return graph


def _slice_gradient_plan(root, readers, producer, outputs, pos):
    """(first buffer's value, the add nodes, [(other buffer's node, its whole view's node, its part views' nodes)],
    the first buffer's whole view) when ``root`` adds whole views of zeros buffers whose parts are written once
    each by copy_into and are disjoint; else None."""
    import numpy as np

    from ..tensor import _contiguous_strides
    adds, leaves, stack = [], [], [root]
    while stack:
        n = stack.pop()
        adds.append(n)
        for v in n.args[1:]:
            p = producer.get(id(v)) if isinstance(v, Value) else None
            if p is None:
                return None
            if _is_add(p) and v.users == 1 and id(v) not in outputs:
                stack.append(p)
            else:
                leaves.append(v)
    out = root.outputs[0]
    bufs = []
    for v in leaves:
        view = producer[id(v)]
        if view.kind != "view" or view.name != "as_strided" or v.users != 1 or id(v) in outputs or v.shape != out.shape:
            return None
        base, shape, stride, delta = view.args
        bp = producer.get(id(base)) if isinstance(base, Value) else None
        if bp is None or bp.kind != "launcher" or bp.name != "zeros" or delta != 0 or id(base) in outputs \
                or v.dtype is not out.dtype or any(bp is b[0] for b in bufs) \
                or tuple(stride) != _contiguous_strides(tuple(shape)) or math.prod(shape) != bp.args[0]:
            return None
        writes = []
        for r in readers.get(id(base), ()):
            if r is view:
                continue
            w = r.outputs[0] if r.kind == "view" and r.name == "as_strided" and len(r.outputs) == 1 else None
            rs = readers.get(id(w), ()) if w is not None else ()
            if w is None or id(w) in outputs or len(rs) != 1 or rs[0].kind != "launcher" or rs[0].name != "copy_into" \
                    or rs[0].args[0] is not w or rs[0].grad_mode is not False or rs[0].outputs[0].users:
                return None
            writes.append(r)
        bufs.append((bp, view, writes))
    if len(bufs) < 2 or len({(b[0].args[0], b[0].args[1]) for b in bufs}) != 1:
        return None
    offsets = [_written_offsets(w.outputs[0]) for b in bufs for w in b[2]]
    every = np.concatenate(offsets) if offsets else np.zeros(0, np.int64)
    if every.size and (every.min() < 0 or np.bincount(every).max() > 1):  # (a count, not a sort: 60x faster)
        return None  # parts overlap: the additions are needed
    bufs.sort(key=lambda b: pos[id(b[0])])  # the earliest buffer: every part's view comes after it
    first = bufs[0]
    return first[0].outputs[0], adds, bufs[1:], first[1].outputs[0]


def _hashable(tree):
    from .ir import leaves
    try:
        for x in leaves(tree):
            hash(x)
    except TypeError:
        return False
    return True


def common_subexpressions(graph):
    """A pure node whose op and arguments repeat an earlier node's is dropped; its readers read the earlier one's
    outputs (``x.exp()`` twice is one kernel)."""
    from .runtime import _written_value
    # memory the graph writes in place (by storage): a node whose result lives there is no copy of another (``a =
    # x.exp(); b = x.exp(); a.add_(1)`` leaves b as it was)
    written = {w.geom[2] for w in map(_written_value, graph.nodes) if w is not None and w.geom[2] is not None}
    seen = {}
    mapping = {}
    kept = []
    for n in graph.nodes:
        if mapping:
            from .ir import map_tree
            n.args = map_tree(lambda a: mapping.get(id(a), a) if isinstance(a, Value) else a, n.args)
            n.kwargs = map_tree(lambda a: mapping.get(id(a), a) if isinstance(a, Value) else a, n.kwargs)
        if not _pure(n) or n.name == "empty" or not _hashable((n.args, n.kwargs)):
            kept.append(n)
            continue
        if written and any(v.geom[2] in written for v in n.outputs):
            kept.append(n)
            continue
        key = (id(n.target), n.kind, n.name, _key_of(n.args), _key_of(n.kwargs), n.grad_mode, n.epoch)
        first = seen.get(key)
        if first is None or len(first.outputs) != len(n.outputs):
            seen[key] = n
            kept.append(n)
            continue
        for old, new in zip(n.outputs, first.outputs):
            mapping[id(old)] = new
    graph.nodes = kept
    _substitute(graph, mapping)
    return graph


def _key_of(tree):
    from .ir import map_tree
    return repr(map_tree(lambda a: ("value", a.id) if isinstance(a, Value) else (type(a).__name__, a), tree))


def _fold_scalars(graph):
    """Arithmetic on two internal scalar constants (a backward's exponent ``3.0 - 1.0``) becomes the constant it
    gives, so that the code generator writes it as a literal (``x ** 2.0`` as ``x * x``)."""
    from ..ops.common import scalar_tensor
    from .codegen import _fold, _literal
    mapping = {}
    kept = []
    outputs = {id(v) for v in graph.outputs()}
    for n in graph.nodes:
        ins = [mapping.get(id(a), a) for a in n.args if isinstance(a, Value)]
        op = elementwise_op(n) if len(ins) == 2 and len(n.outputs) == 1 and not n.outputs[0].shape else None
        names = [_literal(v) for v in ins] if op else []
        if op and None not in names and id(n.outputs[0]) not in outputs:
            lits = {t: v.tensor._storage[v.tensor._offset] for t, v in zip(names, ins)}
            out = n.outputs[0]
            text = _fold(op, names, lits, out.dtype)
            if text is not None:
                c = Value("const", scalar_tensor(float(lits[text]), out.dtype, out.device))
                c.folded = True
                graph.consts.append(c)
                graph.private.add(id(c))
                mapping[id(out)] = c
                continue
        kept.append(n)
    if mapping:
        graph.nodes = kept
        _substitute(graph, mapping)


def fold_constants(graph):
    """Nodes computed from graph-private constants alone (a causal mask built from ``full`` and ``triu`` in the
    forward) are computed once: their values become constants and the nodes leave the graph. Parameters, buffers
    and tensors from outside the call never fold (they change between calls), nor does a value that is returned,
    written in place or read by anything but pure ops (each call must get its own)."""
    _fold_scalars(graph)
    private = graph.private
    candidate = set()
    for n in graph.nodes:
        ins = n.inputs()
        if n.outputs and all((id(v) in private) if v.kind == "const" else (id(v) in candidate) for v in ins) \
                and all(v.static for v in n.outputs):
            candidate.update(id(v) for v in n.outputs)
    if not candidate:
        return graph
    readers = _readers(graph)
    outputs = {id(v) for v in graph.outputs()}
    final = set()
    for n in reversed(graph.nodes):
        for v in n.outputs:
            if id(v) not in candidate or id(v) in outputs or v.stale or v.tensor is None or \
                    v.tensor._vc[0] != v.version:
                continue  # (a stale value: its tensor was overwritten later, so its captured value is gone)
            if all(_pure(r) and (r.kind != "view" or all(id(o) in final for o in r.outputs))
                   for r in readers.get(id(v), ())):
                final.add(id(v))
    mapping = {}
    kept = []
    for n in graph.nodes:
        if n.outputs and all(id(v) in final for v in n.outputs):
            for v in n.outputs:
                c = Value("const", _snapshot(v.tensor))
                c.folded = True
                graph.consts.append(c)
                private.add(id(c))
                mapping[id(v)] = c
            continue
        kept.append(n)
    if not mapping:
        return graph
    graph.nodes = kept
    _substitute(graph, mapping)
    return dead_code(graph)


def _snapshot(t):
    from ..ops import launch
    return launch.contiguous(t.detach()) if not t._contig else t.detach()


# ---------------------------------------------------------------------------------------------------------------
# elementwise fusion
# ---------------------------------------------------------------------------------------------------------------
def elementwise_op(node):
    """The elementwise op name of a node the code generator can fuse, or None."""
    from .codegen import BINARY, UNARY
    if node.kind == "function":
        cls = getattr(node.target, "__self__", None)
        op = "where" if cls is not None and cls.__name__ == "Where" else getattr(cls, "op", None)
        if op is None or not cls.__module__.startswith("minitorch.ops.elementwise"):
            return None
    elif node.kind == "launcher" and node.name in ("unary", "binary", "binary_same"):
        if node.kwargs or len(node.args) != (2 if node.name == "unary" else 3):
            return None
        op = node.args[0]
    else:
        return None
    ins = [a for a in node.args if isinstance(a, Value)]
    if op == "where":  # (masked_fill): a bool condition; the two values are of the result's dtype
        if len(ins) != 3 or len(node.args) != 3 or ins[0].dtype.name != "bool" or ins[0].device != ins[1].device:
            return None
        ins = ins[1:]
    if len(ins) == 1 and op in UNARY or len(ins) == 2 and op in BINARY or op == "where":
        out = node.outputs[0] if len(node.outputs) == 1 else None
        if out is None or out.device.type not in ("cpu", "cuda") or out.dtype.name not in ("float32", "float64"):
            return None
        if any(v.dtype is not out.dtype or v.device != out.device for v in ins):
            return None
        return op
    return None


def fusable_nodes(graph):
    """How many nodes ``fuse_elementwise`` would merge into chains of two or more."""
    return sum(len(g) for g in _groups(graph) if len(g) > 1)


def reduced_chains(graph):
    """Whether a chain that ``fuse_elementwise`` would merge ends in a sum, a mean, a softmax, a log_softmax or a
    cross-entropy (its epilogue: the fused kernel and its generated backward then each make one pass)."""
    from ..nn import functional as F
    from ..ops import activation
    readers = _readers(graph)
    outs = {id(v) for v in graph.outputs()}
    for g in _groups(graph):
        v = g[-1].outputs[0]
        rs = readers.get(id(v), ())
        if len(g) < 2 or len(rs) != 1 or id(v) in outs or not rs[0].args or rs[0].args[0] is not v:
            continue
        r = rs[0]
        if r.kind == "functional" and r.target in (activation.softmax, activation.log_softmax, F.cross_entropy):
            return True
        cls = getattr(r.target, "__self__", None) if r.kind == "function" else None
        if cls is not None and cls.__module__ == "minitorch.ops.reduce" and cls.__name__ in ("Sum", "Mean"):
            return True
    return False


def fuse_elementwise(graph, kernels, autograd=True):
    """Merge every chain of fusable elementwise nodes, whose intermediate values have one reader inside the chain
    and are not graph outputs, into one ``fused`` node running a generated kernel (forward and backward). A sum or
    mean over trailing dimensions that is the only reader of a chain's result (on the CPU) joins the chain as its
    epilogue: the kernel accumulates instead of writing the elementwise result. A softmax or log_softmax over the
    last dimension that is the only reader of a chain's result (on the CPU) joins it the same way: the kernel
    computes each row of the chain and then the row's softmax (the scale and causal mask of attention scores). A
    layer norm of a chain's result (CPU, run without autograd: ``autograd=False`` graphs or no_grad regions) joins
    it too, whoever else reads the result (a residual sum): the kernel writes each row of the chain, then normalizes
    it while it is in cache, and hands out the LayerNorm context a compiled backward calls."""
    from .codegen import CrossEntropyGradPrologue, CrossEntropyPrologue, FusedKernel, LayerNormPrologue
    groups = _groups(graph)
    readers = _readers(graph)
    new_nodes = {}
    producer = {id(v): n for n in graph.nodes for v in n.outputs}
    pos = {id(n): i for i, n in enumerate(graph.nodes)}
    for g in groups:
        xe = _cross_entropy_after(g, readers)
        if xe is not None:
            r, ignore_index, reduction, keep = xe
            kernel = FusedKernel(g, softmax=True, cross_entropy=True)
            kernels.append(kernel)
            _fuse_into(g, r, kernel, CrossEntropyPrologue(kernel, ignore_index, reduction, keep),
                       (*kernel.inputs, _arg(r, "target", None), _arg(r, "weight", None)), new_nodes,
                       (r.outputs[0], r.outputs[1:]) if keep else r.outputs[0])
            continue
        xg = _xent_grad_before(g, producer, readers)
        if xg is not None:
            kernel = FusedKernel(g, xent_grad=xg)
            kernels.append(kernel)
            _fuse_into([xg] + g, g[-1], kernel, CrossEntropyGradPrologue(kernel), (*xg.args, *kernel.inputs),
                       new_nodes, g[-1].outputs[0])
            continue
        red = _reduction_after(g, readers)
        sm = _softmax_after(g, readers) if red is None else None
        sg = _softmax_grad_before(g, producer, readers) if red is None and sm is None else None
        ln = _layer_norm_after(g, readers, producer, pos, autograd) if red is None and sm is None and sg is None \
            else None
        if ln is not None:
            kernel = FusedKernel(g, layer_norm=ln[1])
            if all(m != "tail" or math.prod(v.shape) % ln[1] == 0 for v, m in zip(kernel.inputs, kernel.modes)):
                kernels.append(kernel)
                _fuse_layer_norm(g, ln, kernel, LayerNormPrologue, new_nodes)
                continue
        if len(g) < 2 and red is None and sm is None and sg is None:
            continue
        if sg is not None:
            kernel = FusedKernel(g, softmax_grad=sg)
            g = [sg] + g
        elif red is not None:
            cls = red.target.__self__
            kernel = FusedKernel(g, reduce=("sum" if cls.__name__ == "Sum" else "mean", red.outputs[0].shape))
            g = g + [red]
        elif sm is not None:
            kernel = FusedKernel(g, softmax=sm.target.__name__ == "log_softmax")
            g = g + [sm]
        else:
            kernel = FusedKernel(g)
        kernels.append(kernel)
        last = g[-1]
        node = Node("fused", kernel.name, kernel, tuple(kernel.inputs), {}, grad_mode=last.grad_mode, line=last.line)
        node.outputs = [last.outputs[0]]
        node.out_tree = last.outputs[0]
        node.group = g
        node.epoch = last.epoch
        last.outputs[0].node = node
        for m in g[:-1]:
            new_nodes[id(m)] = None
        new_nodes[id(last)] = node
    graph.nodes = [new_nodes.get(id(n), n) for n in graph.nodes if new_nodes.get(id(n), n) is not None]
    return graph


def _fuse_layer_norm(g, ln, kernel, runner, new_nodes):
    """One node for the chain ``g`` and the layer norm ``ln`` of its result (``_layer_norm_after``), at the chain's
    place: it gives the chain's result, the normalized result and the layer norm's context (where one is read)."""
    r, C, w, b, eps, needs = ln
    last = g[-1]
    node = Node("fused", kernel.name, runner(kernel, eps, needs), tuple(kernel.inputs) + (w, b), {},
                grad_mode=last.grad_mode, line=last.line)
    ctxs = list(r.outputs[1:]) if needs is not None else []
    node.outputs = [last.outputs[0], r.outputs[0]] + ctxs
    node.out_tree = (last.outputs[0], r.outputs[0], ctxs) if ctxs else (last.outputs[0], r.outputs[0])
    for v in node.outputs:
        v.node = node
    node.group = g + [r]
    node.epoch = last.epoch
    for m in g[:-1]:
        new_nodes[id(m)] = None
    new_nodes[id(last)] = node
    new_nodes[id(r)] = None


def _fuse_into(g, r, kernel, runner, args, new_nodes, out_tree):
    """One node for the nodes ``g`` (in order) and ``r`` (the last of them, or the node that reads their result),
    at ``r``'s place, giving its outputs as ``out_tree``: ``runner(*args)``."""
    node = Node("fused", kernel.name, runner, args, {}, grad_mode=r.grad_mode, line=r.line)
    node.outputs = list(r.outputs)
    node.out_tree = out_tree
    for v in node.outputs:
        v.node = node
    node.group = g + [r] if r is not g[-1] else g
    node.epoch = r.epoch
    for m in node.group:
        new_nodes[id(m)] = None
    new_nodes[id(r)] = node


_XENT_PARAMS = ("input", "target", "weight", "size_average", "ignore_index", "reduce", "reduction", "label_smoothing")
_XENT_DEFAULTS = {"weight": None, "size_average": None, "ignore_index": -100, "reduce": None, "reduction": "mean",
                  "label_smoothing": 0.0}


def _arg(node, name, default):
    """A cross_entropy node's argument by name."""
    if name in node.kwargs:
        return node.kwargs[name]
    i = _XENT_PARAMS.index(name)
    return node.args[i] if i < len(node.args) else default


def _cross_entropy_after(group, readers):
    """``(node, ignore_index, reduction, keep)`` for the ``F.cross_entropy`` node whose logits are the chain's
    result (its only reader; CPU, float32 or float64, (N, C) with class indices, no label smoothing): the kernel
    computes each row of the chain and its log-softmax, the library's loss rows the rest; ``keep``: a compiled
    backward calls its context. None when there is no such node."""
    from ..dtypes import int64
    from ..nn import functional as F
    last = group[-1]
    v = last.outputs[0]
    rs = readers.get(id(v), ())
    if v.users != 1 or len(rs) != 1 or v.device.type != "cpu" or v.dtype.name not in ("float32", "float64") \
            or len(v.shape) != 2 or not math.prod(v.shape):
        return None
    r = rs[0]
    if r.kind != "functional" or r.target is not F.cross_entropy or len(r.args) > len(_XENT_PARAMS) \
            or set(r.kwargs) - set(_XENT_PARAMS[len(r.args):]) or r.grad_mode != last.grad_mode \
            or r.epoch != last.epoch or not r.args or r.args[0] is not v or r.outputs[0].dtype is not v.dtype:
        return None
    a = {k: _arg(r, k, d) for k, d in _XENT_DEFAULTS.items()}
    t, w, ignore = _arg(r, "target", None), a["weight"], a["ignore_index"]
    N, C = v.shape
    if not isinstance(t, Value) or t.dtype is not int64 or t.shape != (N,) or t.device.type != "cpu" \
            or a["size_average"] is not None or a["reduce"] is not None or a["reduction"] not in ("none", "mean", "sum") \
            or a["label_smoothing"] != 0 or not isinstance(ignore, int) or isinstance(ignore, bool):
        return None
    if w is not None and (not isinstance(w, Value) or w.shape != (C,) or w.dtype is not v.dtype
                          or w.device.type != "cpu"):
        return None
    keep = False
    if r.extras:
        vals, _ = r.extras
        if len(vals) != 1 or vals[0].cls != "_CrossEntropy2d":
            return None
        keep = True
    return r, ignore, a["reduction"], keep


def _xent_grad_before(group, producer, readers):
    """The cross-entropy backward node (a compiled backward's, under no_grad, CPU) whose gradient of the logits
    only the chain reads, of the chain's shape and dtype; else None."""
    return _gradient_read_by(group, producer, readers, lambda p, v, out: (
        len(out.shape) == 2 and p.kind == "backward" and p.name == "_CrossEntropy2d.backward" and len(p.args) == 2
        and not p.kwargs and p.outputs == [v] and p.args[0].cls == "_CrossEntropy2d"))


def _gradient_read_by(group, producer, readers, accept):
    """The node (of a compiled backward: under no_grad, CPU, as the chain) making a value of the chain's shape and
    dtype that only the chain reads, once, for which ``accept(node, value, chain result)`` holds; else None."""
    last = group[-1]
    out = last.outputs[0]
    if out.device.type != "cpu" or not out.shape or not math.prod(out.shape) \
            or any(m.grad_mode is not False for m in group):
        return None
    inside = {id(m.outputs[0]) for m in group}
    for m in group:
        for v in m.inputs():
            p = producer.get(id(v))
            if id(v) in inside or p is None or p.grad_mode is not False or p.epoch != last.epoch or v.users != 1 \
                    or len(readers.get(id(v), ())) != 1 or v.shape != out.shape or v.dtype is not out.dtype:
                continue
            if accept(p, v, out):
                return p
    return None


_LN_PARAMS = ("input", "normalized_shape", "weight", "bias", "eps")


def _layer_norm_after(group, readers, producer, pos, autograd):
    """``(node, C, weight, bias, eps, needs)`` for the ``F.layer_norm`` node that normalizes the chain's result over
    its trailing C elements (CPU, float32 or float64, run without autograd), its weight and bias (Values or None)
    made before the chain ends; ``needs`` which of input, weight and bias require grad when a compiled backward
    calls its context (else None). None when there is no such node."""
    from ..nn import functional as F
    from .ir import leaves
    last = group[-1]
    v = last.outputs[0]
    if v.device.type != "cpu" or v.dtype.name not in ("float32", "float64") or not math.prod(v.shape):
        return None
    for r in readers.get(id(v), ()):
        if r.kind != "functional" or r.target is not F.layer_norm or len(r.args) > 5 \
                or set(r.kwargs) - set(_LN_PARAMS[len(r.args):]) or r.grad_mode != last.grad_mode \
                or r.epoch != last.epoch or (autograd and r.grad_mode is not False):
            continue
        a = {"weight": None, "bias": None, "eps": 1e-5, **dict(zip(_LN_PARAMS, r.args)), **r.kwargs}
        shape = a["normalized_shape"]
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        C, w, b, eps = math.prod(shape), a["weight"], a["bias"], a["eps"]
        if a["input"] is not v or not shape or tuple(v.shape[len(v.shape) - len(shape):]) != shape or not C \
                or not isinstance(eps, (int, float)) or r.outputs[0].dtype is not v.dtype:
            continue
        if any(p is not None and (not isinstance(p, Value) or p.dtype is not v.dtype or p.device.type != "cpu"
                                  or math.prod(p.shape) != C or pos.get(id(producer.get(id(p))), -1) > pos[id(last)])
               for p in (w, b)):
            continue
        needs = None
        if r.extras:
            vals, rg = r.extras
            if len(vals) != 1 or vals[0].cls != "LayerNorm":
                continue
            flag = {id(t): f for t, f in zip([t for t in leaves((r.args, r.kwargs)) if isinstance(t, Value)], rg)}
            needs = tuple(p is not None and flag.get(id(p), False) for p in (v, w, b))
        return r, C, w, b, float(eps), needs
    return None


def _reduction_after(group, readers):
    """The node summing or averaging the chain's result over its trailing dimensions, when it is that result's
    only reader, on the CPU, with nothing written in between; else None."""
    last = group[-1]
    v = last.outputs[0]
    rs = readers.get(id(v), ())
    if v.users != 1 or len(rs) != 1 or v.device.type != "cpu" or not math.prod(v.shape):
        return None
    r = rs[0]
    cls = getattr(r.target, "__self__", None) if r.kind == "function" else None
    if cls is None or cls.__module__ != "minitorch.ops.reduce" or cls.__name__ not in ("Sum", "Mean"):
        return None
    if len(r.args) != 3 or r.args[0] is not v or r.grad_mode != last.grad_mode or r.epoch != last.epoch \
            or r.extras:  # a compiled backward calls its context
        return None
    dims = tuple(sorted(r.args[1]))
    nd = len(v.shape)
    if dims != tuple(range(nd - len(dims), nd)) or r.outputs[0].dtype is not v.dtype:
        return None
    return r


def _softmax_after(group, readers):
    """The ``F.softmax``/``F.log_softmax`` node over the last dimension of the chain's result (in its dtype), when it
    is that result's only reader, on the CPU; else None."""
    from ..ops import activation
    last = group[-1]
    v = last.outputs[0]
    rs = readers.get(id(v), ())
    if v.users != 1 or len(rs) != 1 or v.device.type != "cpu" or not v.shape or not math.prod(v.shape):
        return None
    r = rs[0]
    if r.kind != "functional" or r.target not in (activation.softmax, activation.log_softmax) or r.extras \
            or not r.args or r.args[0] is not v or len(r.args) > 2 or set(r.kwargs) - {"dim", "dtype"} \
            or r.kwargs.get("dtype") is not None or len(r.outputs) != 1 or r.grad_mode != last.grad_mode \
            or r.epoch != last.epoch or r.outputs[0].dtype is not v.dtype:
        return None
    dim = r.args[1] if len(r.args) == 2 else r.kwargs.get("dim")
    nd = len(v.shape)
    if not isinstance(dim, int) or isinstance(dim, bool) or dim not in (-1, nd - 1):
        return None
    return r


def _softmax_grad_before(group, producer, readers):
    """The ``launch.softmax_backward`` node (a compiled backward's, under no_grad, over the last dimension, CPU)
    whose result only the chain reads, of the chain's shape and dtype; else None."""
    return _gradient_read_by(group, producer, readers, lambda p, v, out: (
        p.kind == "launcher" and p.name == "softmax_backward" and len(p.args) == 4 and not p.kwargs
        and p.args[2] == len(out.shape) - 1
        and all(isinstance(a, Value) and a.shape == out.shape and a.dtype is out.dtype for a in p.args[:2])))


def _groups(graph):
    graph.count_users()
    pos = {id(n): i for i, n in enumerate(graph.nodes)}
    group_of = {}          # id(value) -> the group (list of nodes) whose last node computes it
    groups = {}            # id(group) -> group, in creation order
    for n in graph.nodes:
        if elementwise_op(n) is None:
            continue
        members = [n]
        out = n.outputs[0]
        for v in n.inputs():
            g = group_of.get(id(v))
            if g is None or id(g) not in groups or v.users != 1:
                continue
            last = g[-1]
            if last.grad_mode != n.grad_mode or last.outputs[0].dtype is not out.dtype or last.epoch != n.epoch:
                continue
            del groups[id(g)]
            members = g + members
        members.sort(key=lambda m: pos[id(m)])
        groups[id(members)] = members
        group_of[id(out)] = members
    _merge_shared(groups, pos)
    return list(groups.values())


def _merge_shared(groups, pos):
    """A chain whose result is read more than once, every time by one other chain (a recomputed tanh that a
    gradient chain reads twice), joins that chain: the kernel computes the value once and uses it twice (the
    generated backward adds up both uses' gradients)."""
    changed = True
    while changed:
        changed = False
        last_of = {id(g[-1].outputs[0]): gid for gid, g in groups.items()}
        for gid, g in list(groups.items()):
            counts = {}
            for m in g:
                for v in m.inputs():
                    counts[id(v)] = counts.get(id(v), 0) + 1
            for m in g:
                for v in m.inputs():
                    hid = last_of.get(id(v))
                    if hid is None or hid == gid or v.users < 2 or counts[id(v)] != v.users:
                        continue
                    h, last = groups[hid], g[-1]
                    if h[-1].grad_mode != last.grad_mode or v.dtype is not last.outputs[0].dtype \
                            or h[-1].epoch != last.epoch:
                        continue
                    merged = sorted(h + g, key=lambda n: pos[id(n)])
                    del groups[hid], groups[gid]
                    groups[id(merged)] = merged
                    changed = True
                    break
                if changed:
                    break
            if changed:
                break


def optimize(graph, fuse=True, kernels=None, debug=False, autograd=True, backward=False):
    """The passes in order; ``autograd=False`` for graphs that replay without autograd (a compiled forward and
    backward pair), ``backward`` for the backward of such a pair."""
    passes = [("dead code", dead_code), ("identity views", lambda g: identity_views(g, autograd, not backward)),
              ("constant folding", fold_constants), ("common subexpressions", common_subexpressions),
              ("dead code", dead_code)]
    if fuse:
        passes.append(("slice gradients", merge_slice_gradients))
        passes.append(("batch norm folding", lambda g: fold_batch_norm(g, autograd)))
        passes.append(("GEMM epilogues", lambda g: gemm_epilogues(g, autograd)))
        if not autograd:
            passes.append(("activation backward epilogues", activation_backward_epilogues))
        passes.append(("elementwise fusion", lambda g: fuse_elementwise(g, kernels if kernels is not None else [],
                                                                          autograd)))
        if not autograd:
            passes.append(("activation backward epilogues", lambda g: activation_backward_epilogues(g, kernels)))
    for name, fn in passes:
        graph = fn(graph)
        if debug:
            print(f"[minitorch.compile] after {name}:\n{graph}", file=sys.stderr)
    return graph
