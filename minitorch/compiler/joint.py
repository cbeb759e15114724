"""Compiled backward: the backward of a captured forward, recorded once and replayed without the autograd engine.

Right after a capture whose outputs carry autograd history, ``capture_backward`` runs ``autograd.grad`` of those
outputs (seeded with ones) with respect to every input, parameter and other leaf that requires grad, under the same
recorder: what the backward formulas run becomes a second graph whose inputs are the seeds and the forward values
they read. The backward of an autograd node that a whole recorded op made (``nn.functional`` calls, recurrent
layers) is recorded op by op when all it reads are values of the graph (a linear's input and weight); where it
reads a tensor kept inside its op or starts kernels itself (layer norm's statistics, attention's softmax
statistics: the first recording blames such contexts) it is one ``backward`` node that calls it on the current
call's context (a ``CtxValue``, which the forward replay hands out), so what such contexts keep inside is always
the current call's; other nodes' ops are recorded one by one. Later calls then
run as one autograd node: the forward replays the forward graph without building a tape (only the ops whose
contexts the backward needs run with autograd on, inputs detached) and keeps the values the backward graph reads;
the backward replays the backward graph and hands the gradients to the engine, which accumulates them into
``.grad`` as usual.

The backward graph is only used when it is complete and checked: no graph break while recording it, no tensor the
backward read that is neither a value of the forward graph, a parameter or buffer, nor made during the backward,
and replaying it on the capture's own tensors with other seeds reproduces ``autograd.grad``'s gradients exactly.
Otherwise the forward replays through autograd as before.
"""
import math

from ..autograd.function import Node, _modified, grad_accumulator
from ..autograd.grad_mode import _state
from ..ops.shape import SPLIT_NODE
from ..tensor import Tensor
from .capture import _contexts, _install, _Recorder, _scalar_constant, _uninstall
from .ir import CtxValue, Value, leaves, map_tree
from .runtime import Program


class JointPlan:
    """A forward program that also returns the values the backward needs, and the backward program."""

    def __init__(self, graph, outs, diff_outs, sources, saved, bgraph, user_tree):
        self.graph = graph
        self.user_tree = user_tree        # the call's result structure, with Values of ``outs``
        self.outs = outs                  # unique output Values, in the order the Function returns them
        self.out_rg = [v.rg for v in outs]
        self.diff = diff_outs             # positions in outs of the differentiable outputs (the seeds' order)
        self.sources = sources            # (position among the call's tensors, or None, Value) per gradient
        self.params = [v for pos, v in sources if pos is None]
        self.saved = saved                # forward Values the backward graph reads
        self.forward = Program(_FwdGraph(graph, outs, saved))
        self.backward = Program(bgraph)
        self.backward.guard_consts = False
        self.bgraph = bgraph
        self.shapes = [v.shape for v in outs]
        self.n_out = len(outs)
        self.whole = None                 # the contexts whose backward it calls whole (see capture_backward)

    def __call__(self, inputs):
        res = _run_joint(self, inputs)
        values = dict(zip((id(v) for v in self.outs), res))
        return map_tree(lambda a: values[id(a)] if isinstance(a, Value) else a, self.user_tree)


class _FwdGraph:
    """The forward graph with the saved values as extra outputs (what ``Program`` needs of a graph); nodes whose
    autograd contexts the backward calls replay so that they hand those out too."""

    def __init__(self, graph, outs, saved):
        self.inputs, self.consts = graph.inputs, graph.consts
        self.nodes = [_handing_out_contexts(n) if n.extras else n for n in graph.nodes]
        self.output_tree = (list(outs), list(saved))

    def outputs(self):
        return [v for v in leaves(self.output_tree) if isinstance(v, Value)]


class _Source(Node):
    """Stands for the history of the tensors a replayed op reads (never run: the op's contexts are only read)."""

    _edges = ()

    def name(self):
        return "CompiledForwardInput"


_SOURCE = _Source()
_SOURCE_STOP = {id(_SOURCE)}


def _handing_out_contexts(node):
    import copy
    vals, rg = node.extras
    n = copy.copy(node)
    n.target = _WithContexts(node.target, len(vals), rg, _flat_positions(node.args, node.kwargs))
    n.out_tree = (node.out_tree, list(vals))
    return n


def _flat_positions(args, kwargs):
    """Where the node's tensor arguments are, in leaf order (positions and keyword names), when each is a whole
    argument; None when one sits inside a container (the general path then walks the arguments)."""
    out = []
    for where, a in list(enumerate(args)) + list(kwargs.items()):
        if isinstance(a, Value):
            out.append(where)
        elif any(isinstance(x, Value) for x in leaves(a)):
            return None
    return out


class _WithContexts:
    """Runs a node's op with autograd on (its tensor arguments detached, requiring grad as at the capture) and
    hands out the autograd nodes it made, in the captured order, with the result (stripped of its history)."""

    def __init__(self, target, count, rg, flat=None):
        self.target, self.count, self.rg = target, count, rg
        # the position or keyword of each tensor argument that requires grad, when every one is a whole argument
        self.flat = None if flat is None or len(flat) != len(rg) else [w for w, f in zip(flat, rg) if f]

    def _detached(self, args, kwargs):
        seen = {}  # one stand-in per tensor: an op may test its arguments' identity (self-attention's q is k is v)

        def stand_in(a):
            t = seen.get(id(a))
            if t is None:
                t = seen[id(a)] = a.detach()
                t._requires_grad = True
                t._grad_fn = _SOURCE  # not a leaf: an in-place op (relu_) may write it, as in the forward
            return t
        if self.flat is not None:
            args = list(args)
            for where in self.flat:
                if type(where) is int:
                    args[where] = stand_in(args[where])
                else:
                    kwargs[where] = stand_in(kwargs[where])
            return args, kwargs
        flags = iter(self.rg)
        return map_tree(lambda a: stand_in(a) if isinstance(a, Tensor) and next(flags) else a, (list(args), kwargs))

    def __call__(self, *args, **kwargs):
        args, kwargs = self._detached(args, kwargs)
        grad = _state.enabled
        _state.enabled = True
        split_node, SPLIT_NODE[0] = SPLIT_NODE[0], False  # split as at the capture: one Slice node per view
        try:
            out = self.target(*args, **kwargs)
        finally:
            _state.enabled = grad
            SPLIT_NODE[0] = split_node
        outs = [t for t in leaves(out) if isinstance(t, Tensor)]
        ctxs = _contexts(outs, _SOURCE_STOP)
        if len(ctxs) != self.count:
            raise RuntimeError("minitorch.compile: an op made other autograd nodes than at its capture; compile "
                               "with backend='eager' to replay without a compiled backward")
        for t in outs:
            t._grad_fn = None
            t._requires_grad = False
        return out, ctxs


class _JointNode(Node):
    """The backward-graph node of one compiled call: one gradient slot per output (each output's grad_fn is a
    ``_JointOutput`` routing into its slot), one edge per tensor that receives a gradient."""

    def __init__(self, plan, saved, sources):
        self.plan, self.saved = plan, saved
        # the versions of what the backward reads (saved values, parameters): an in-place write to one of them
        # before the backward is an error, as in eager mode
        self.versions = [(t, t._vc[0]) for t in saved if isinstance(t, Tensor)] + \
            [(t, t._vc[0]) for t, _, _ in plan.backward.const_meta]
        self._n_outputs = plan.n_out
        edges, meta = [], []
        for t in sources:
            if t._requires_grad:
                fn = t.grad_fn  # (the property: a view refreshes its history first)
                edges.append((fn if fn is not None else grad_accumulator(t), 0))
                meta.append((t._shape, t._dtype))
            else:
                edges.append((None, 0))
                meta.append(None)
        self._edges = tuple(edges)
        self._mask_cache = None
        self._input_meta = meta

    def name(self):
        return "CompiledFunctionBackward"

    def _release(self):
        self.saved = None
        self.versions = ()

    @staticmethod
    def backward(self, *grads):
        if _state.enabled:
            raise RuntimeError("minitorch.compile: a second derivative (create_graph=True) through a compiled "
                               "backward is not supported; compile with backend='eager' for higher-order gradients")
        if self.saved is None:
            raise RuntimeError("Trying to backward through the graph a second time (or directly access saved tensors "
                               "after they have already been freed). Specify retain_graph=True if you need to "
                               "backward through the graph a second time or if you need to access saved tensors "
                               "after calling backward.")
        plan = self.plan
        for t, then in self.versions:
            if t._vc[0] != then:
                _modified(t, t._vc[0], then, t._shape, "CompiledFunctionBackward")
        from ..ops import launch
        seeds = []
        for i in plan.diff:
            g = grads[i] if i < len(grads) else None
            if g is None:
                v = plan.outs[i]
                g = launch.fill_(launch.empty(plan.shapes[i], v.dtype, v.device), 0)
            elif not g._contig or g._offset:
                g = launch.contiguous(g)  # the graph's views of a seed assume the dense layout it was recorded with
            seeds.append(g)
        return tuple(plan.backward(seeds + list(self.saved)))


class _JointOutput(Node):
    """Output ``i`` of a compiled call: forwards its gradient into slot ``i`` of the call's ``_JointNode``."""

    def __init__(self, node, i, t):
        self._edges = ((node, i),)
        self._mask_cache = None
        self._input_meta = [(t._shape, t._dtype)]

    def name(self):
        return "CompiledFunctionBackward"

    def _release(self):
        pass

    @staticmethod
    def backward(self, g):
        return (g,)


def _run_joint(plan, inputs):
    """Forward graph without a tape, outputs wired to one backward node (when grad is on and something needs it)."""
    outs, saved = plan.forward(list(inputs), no_grad=True)
    params = [v.tensor for v in plan.params]
    sources = [inputs[p] if p is not None else params.pop(0) for p, _ in plan.sources]
    if _state.enabled and any(t._requires_grad for t in sources):
        node = _JointNode(plan, saved, sources)
        for i in plan.diff:
            o = outs[i]
            o._requires_grad = True
            o._grad_fn = _JointOutput(node, i, o)
    return outs


def capture_backward(graph, result, inputs, hint=None):
    """The ``JointPlan`` of a fresh capture (``result`` its eager result, ``inputs`` the call's flat tensors), or
    None when its backward cannot be compiled. The plan's ``whole`` says which contexts' backward it calls whole:
    (the graph's number of contexts, the positions of those among them or True for all); ``hint``, the ``whole``
    of an earlier capture of the same function (another batch size: the same graph with other sizes), is tried
    first, which skips the recordings that failed then."""
    rec = graph.recorder
    graph.recorder = None
    if rec is None or not _state.enabled:
        return None
    pairs = []
    _pair_leaves(graph.output_tree, result, pairs)
    outs, seen = [], set()
    for v, t in pairs:
        if id(v) not in seen:
            seen.add(id(v))
            outs.append((v, t))
    if not outs or any(v.kind != "node" for v, _ in outs):
        return None
    diff = [i for i, (v, t) in enumerate(outs) if v.rg and t._grad_fn is not None]
    if not diff:
        return None
    sources = [(i, v, t) for i, (v, t) in enumerate(zip(graph.inputs, inputs)) if v.rg]
    sources += [(None, v, v.tensor) for v in graph.consts if v.rg and v.tensor._requires_grad]
    # leaves that ops read inside themselves (a recurrent layer's weights) receive gradients too
    known = {id(t) for _, _, t in sources}
    # each source is an independent variable of the compiled backward: the engine carries its gradient into the
    # source's own history afterwards (a leaf behind an input or a constant with history is not a source then)
    stop = {id(t._grad_fn) for _, _, t in sources if t._grad_fn is not None}
    for leaf in _reached_leaves([outs[i][1] for i in diff], stop):
        if not rec.existed(leaf):
            return None  # a leaf the call made (``requires_grad_()`` on a new tensor): no tensor to bind it to later
        if id(leaf) not in known:
            known.add(id(leaf))
            sources.append((None, rec.value(leaf), leaf))
    if not sources:
        return None
    # backward formulas recorded op by op where that is complete (their elementwise parts fuse, and the forward
    # replays those ops without autograd); the contexts whose backward read a tensor kept inside their op (layer
    # norm's statistics, attention's softmax) are then called whole, the others recorded op by op; and if that
    # fails too, every context an op recorded whole made is called whole
    ctx_values = [v for n in graph.nodes for v in n.outputs if type(v) is CtxValue]
    if hint and hint[1] and hint[0] == len(ctx_values):
        # every recording is checked against autograd (_record_backward), so a hint that does not fit this graph
        # only costs the attempt
        contexts = True if hint[1] is True else {id(ctx_values[k]) for k in hint[1]}
        plan = _record_backward(graph, rec, outs, diff, sources, contexts, None)
        if plan is not None:
            plan.whole = hint
            return plan
    blamed = set()
    plan = _record_backward(graph, rec, outs, diff, sources, set(), blamed)
    whole = (len(ctx_values), frozenset())
    if plan is None and blamed:
        plan = _record_backward(graph, rec, outs, diff, sources, blamed, None)
        whole = (len(ctx_values), frozenset(k for k, v in enumerate(ctx_values) if id(v) in blamed))
    if plan is None:
        plan = _record_backward(graph, rec, outs, diff, sources, True, None)
        whole = (len(ctx_values), True)
    if plan is not None:
        plan.whole = whole
    return plan


def _record_backward(graph, rec, outs, diff, sources, contexts, blamed):
    """The JointPlan with the backward recorded as ``contexts`` says (see ``_Recorder.contexts``), or None; the ids
    of the contexts whose backward read a tensor the graphs do not make are added to ``blamed`` (a set, or None)."""
    from ..ops import launch
    seeds = [launch.fill_(launch.empty(outs[i][1]._shape, outs[i][1]._dtype, outs[i][1]._device), 1) for i in diff]
    brec = _Recorder({})
    brec.of_backward = True
    brec.contexts = contexts
    brec.vals.update(rec.vals)
    brec.storages.update(rec.storages)
    brec.keep = list(rec.keep)
    seed_values = [brec.add_input(s) for s in seeds]
    for k, v in enumerate(seed_values):
        v.label = f"grad{k}"
    saved_hooks = _install(brec)
    try:
        grads = _partial_grads([outs[i][1] for i in diff], [t for _, _, t in sources], seeds)
    finally:
        _uninstall(saved_hooks)
    if brec.raw and blamed is not None:
        blamed.update(brec.raw)
    if brec.broken is not None or any(g is None for g in grads):
        return None
    bgraph = brec.graph
    bgraph.output_tree = [brec.value(g) for g in grads]
    # what the backward read: forward values (saved), forward constants (parameters: by reference), its own work
    produced = {id(v) for n in bgraph.nodes for v in n.outputs} | {id(v) for v in seed_values}
    fwd_consts = {id(v): v for v in graph.consts}
    own_consts = {id(v) for v in bgraph.consts}
    saved, seen, stale = [], set(), False
    for v in _read_values(bgraph):
        if id(v) in produced or id(v) in seen:
            continue
        seen.add(id(v))
        if v.kind == "const":
            if id(v) in own_consts:
                if not (id(v) in bgraph.private or _scalar_constant(v.tensor)):
                    # a tensor kept inside an op's context: its value would be stale next call
                    stale = True
                    ctx = brec.blame.get(id(v))
                    if ctx is None or blamed is None:
                        return None
                    blamed.add(id(ctx))
                continue
            if id(v) in fwd_consts:
                bgraph.consts.append(v)
                continue
            return None
        saved.append(v)
    if stale or brec.raw:
        return None
    bgraph.inputs = seed_values + saved
    plan = JointPlan(graph, [v for v, _ in outs], diff, [(p, v) for p, v, _ in sources], saved, bgraph,
                     graph.output_tree)
    # check: the backward graph on the capture's own tensors gives autograd's gradients
    tensor_of = {}
    for t in rec.keep:
        v = rec.vals.get(id(t))
        if v is not None:
            tensor_of[id(v)] = t
    if any(id(v) not in tensor_of for v in saved):
        return None
    # with other seeds than the recorded ones (a seed's value baked in anywhere would show), against autograd
    from ..random import Generator
    gen = Generator().manual_seed(len(saved))
    other = [launch.random_fill("uniform", launch.empty(s._shape, s._dtype, s._device), gen._rng) for s in seeds]
    want = _partial_grads([outs[i][1] for i in diff], [t for _, _, t in sources], other)
    try:
        got = plan.backward(other + [tensor_of[id(v)] for v in saved])
    except Exception:  # noqa: BLE001 - a backward graph that cannot replay is not used
        return None
    for a, b in zip(got, want):
        if not isinstance(a, Tensor) or b is None or a._shape != b._shape or \
                not bool(((a == b) | (a != a) & (b != b)).all().item()):  # NaN where autograd has NaN
            return None
    return plan


def _partial_grads(outs, sources, seeds):
    """``autograd.grad`` of ``outs`` (seeded with ``seeds``) with respect to each source as an independent variable:
    the compiled backward's gradients, which the engine then carries into each source's own history (a total
    derivative here would count a path through another source's history twice)."""
    from ..autograd import engine
    engine._PARTIAL[0] = True
    try:
        return engine.grad(outs, sources, grad_outputs=seeds, retain_graph=True, allow_unused=True)
    finally:
        engine._PARTIAL[0] = False


def _reached_leaves(outs, stop):
    """The leaf tensors whose gradient accumulators the autograd graph of ``outs`` reaches (not past ``stop``)."""
    from ..autograd.function import AccumulateGrad
    from .capture import autograd_nodes
    return [n.variable for n in autograd_nodes(outs, stop) if isinstance(n, AccumulateGrad)]


def _read_values(graph):
    for n in graph.nodes:
        yield from n.inputs()
    for v in leaves(graph.output_tree):
        if isinstance(v, Value):
            yield v


def _pair_leaves(tree, obj, out):
    if isinstance(tree, Value):
        out.append((tree, obj))
    elif isinstance(tree, (tuple, list)):
        for t, o in zip(tree, obj):
            _pair_leaves(t, o, out)
    elif isinstance(tree, dict):
        for k, t in tree.items():
            _pair_leaves(t, obj[k], out)


_RECOMPUTE_LIMIT = 16  # forward nodes a backward may recompute for one saved value


def recompute_elementwise(plan):
    """Values the backward reads that the forward made by elementwise ops (a hand-written GELU's pieces) are
    recomputed in the backward from the values those ops read, when that saves no more elements than it drops: the
    forward then writes none of them and fuses its whole chain, and the backward fuses the recomputation into the
    gradient's kernel. Skipped where the forward writes anything in place."""
    import copy
    from . import ir
    from .passes import elementwise_op
    g, b = plan.graph, plan.bgraph
    if any(n.epoch for n in g.nodes):
        return plan
    producer = {id(v): n for n in g.nodes for v in n.outputs}
    order = {id(n): i for i, n in enumerate(g.nodes)}

    def cheap(n):
        return n is not None and n.kind in ("function", "launcher") and not n.extras and len(n.outputs) == 1 \
            and isinstance(n.out_tree, Value) and elementwise_op(n) is not None

    # a value some other kind of node (a linear layer) or the caller reads is written by the forward anyway:
    # saving it costs nothing, recomputing it would cost a pass
    written = {id(v) for v in plan.outs}
    for n in g.nodes:
        if not cheap(n):
            written.update(id(v) for v in n.inputs())
    chosen, bases = {}, {}
    for s in plan.saved:
        if id(s) in written or not cheap(producer.get(id(s))):
            continue
        nodes, base, stack = {}, {}, [producer[id(s)]]
        while stack and len(nodes) <= _RECOMPUTE_LIMIT:
            n = stack.pop()
            if id(n) in nodes:
                continue
            nodes[id(n)] = n
            for v in n.inputs():
                p = producer.get(id(v))
                if cheap(p):
                    stack.append(p)
                else:
                    base[id(v)] = v
        if len(nodes) > _RECOMPUTE_LIMIT or any(v.stale for v in base.values()):
            continue
        chosen[id(s)] = nodes
        bases.update(base)
    if not chosen:
        return plan
    kept = [v for v in plan.saved if id(v) not in chosen]
    have = {id(v) for v in kept}
    added = [v for v in bases.values() if v.kind != "const" and id(v) not in have and id(v) not in chosen]
    size = lambda vs: sum(math.prod(v.shape) for v in vs if not isinstance(v, CtxValue))  # noqa: E731
    if size(kept + added) > size(plan.saved):
        return plan
    # clone the forward nodes into the backward, each before the first backward node that reads what it gives
    clones, mapping = {}, {}

    def sub(a):
        return mapping.get(id(a), a) if isinstance(a, Value) else a

    every = sorted({id(n): n for ns in chosen.values() for n in ns.values()}.values(), key=lambda n: order[id(n)])
    for n in every:
        c = copy.copy(n)
        c.args, c.kwargs = map_tree(sub, n.args), map_tree(sub, n.kwargs)
        v = copy.copy(n.outputs[0])
        v.id, v.node, v.users = next(ir._IDS), c, 0
        c.outputs, c.out_tree, c.grad_mode, c.group = [v], v, False, None
        clones[id(n)] = c
        mapping[id(n.outputs[0])] = v
    needs = {}  # clone id -> the clones it reads
    for n in every:
        needs[id(clones[id(n)])] = [clones[id(p)] for p in (producer.get(id(v)) for v in n.inputs())
                                   if p is not None and id(p) in clones]
    placed, nodes = set(), []

    def place(c, at):
        if id(c) in placed:
            return
        for d in needs[id(c)]:
            place(d, at)
        c.epoch = at.epoch
        placed.add(id(c))
        nodes.append(c)
    for n in b.nodes:
        for v in n.inputs():
            if id(v) in chosen:
                place(clones[id(producer[id(v)])], n)
        n.args, n.kwargs = map_tree(sub, n.args), map_tree(sub, n.kwargs)
        nodes.append(n)
    b.output_tree = map_tree(sub, b.output_tree)
    b.nodes = nodes
    b.inputs = b.inputs[:len(b.inputs) - len(plan.saved)] + kept + added
    b.consts += [v for v in bases.values() if v.kind == "const" and all(v is not c for c in b.consts)]
    plan.saved = kept + added
    return plan


def optimize_plan(plan, optimize, fuse, kernels, debug):
    """Run the passes over the forward graph (its outputs and saved values kept) and the backward graph, then
    rebuild the programs; with ``fuse``, the backward first recomputes the elementwise values it reads
    (``recompute_elementwise``)."""
    from .passes import drop_contexts
    if fuse:
        plan = recompute_elementwise(plan)
    g = drop_contexts(plan.graph, plan.saved)
    g.output_tree = (list(plan.outs), list(plan.saved), plan.user_tree)
    g = optimize(g, fuse=fuse, kernels=kernels, debug=debug, autograd=False)
    outs, saved, user_tree = g.output_tree
    plan.graph, plan.outs, plan.saved, plan.user_tree = g, list(outs), list(saved), user_tree
    b = plan.bgraph
    plan.bgraph = optimize(b, fuse=fuse, kernels=kernels, debug=debug, autograd=False, backward=True)
    plan.forward = Program(_FwdGraph(plan.graph, plan.outs, plan.saved))
    plan.backward = Program(plan.bgraph)
    plan.backward.guard_consts = False
    return plan
