"""The backward pass: walk the graph from the outputs in dependency order, accumulate into leaves."""
from ..tensor import Tensor
from .function import _ANOMALY, _PROFILE, AccumulateGrad, Function, grad_accumulator
from .grad_mode import _state


# depth of autograd.grad calls in progress (reentrant checkpoint cannot run inside one)
_CAPTURING = [0]
# minitorch.ops.launch, bound on first use (ops imports the autograd package)
_LAUNCH = [None]
# per backward pass in progress (innermost last): (its number, the set of nodes it will run)
_RUNS = []
# set by the compiler while it records a compiled call's backward (compiler/joint.py): each input of autograd.grad
# is an independent variable, a gradient that reaches one goes no further (not through its history to another)
_PARTIAL = [False]
_RUN_COUNTER = [0]
# run number -> callbacks queued during that backward pass (queue_callback), run when its graph is done
_FINAL_CALLBACKS = {}


class _RemovableHandle:
    def __init__(self, hooks, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self):
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


def register_tensor_hook(t, hook):
    if t._hooks is None:
        t._hooks = []
    t._hooks.append(hook)
    if t.grad_fn is not None:
        fn = t._grad_fn
        if fn._pre_hooks is None:
            fn._pre_hooks = []
        fn._pre_hooks.append(hook) if hook not in fn._pre_hooks else None
        return _RemovableHandle(fn._pre_hooks, hook)
    return _RemovableHandle(t._hooks, hook)


def _run_hooks(hooks, grad):
    for h in list(hooks):
        r = h(grad)
        if r is not None:
            grad = r
    return grad


def _run_node_prehooks(node, g):
    for h in list(node._node_prehooks):
        r = h((g,))
        if r is not None:
            g = r[0] if isinstance(r, (tuple, list)) else r
    return g


def _masked(node, grads):
    """Gradients for the tensor inputs only (next_functions order), as node hooks see them."""
    if node._edge_mask is None:
        return tuple(grads)
    return tuple(gr for gr, keep in zip(grads, node._edge_mask) if keep)


def _run_node_hooks(node, in_grads, g):
    for h in list(node._node_hooks):
        r = h(_masked(node, in_grads), (g,))
        if r is not None:
            r = tuple(r) if isinstance(r, (tuple, list)) else (r,)
            if node._edge_mask is None:
                in_grads = r
            else:
                it = iter(r)
                in_grads = tuple(next(it) if keep else old for old, keep in zip(in_grads, node._edge_mask))
    return in_grads


def _call_backward(node, g):
    # a node with several outputs (module backward hooks) gets one gradient slot per output
    return type(node).backward(node, *g) if node._n_outputs > 1 else type(node).backward(node, g)


def _backward_checked(node, g):
    """Anomaly mode: run ``node``'s backward, raise on NaN gradients, and on any error warn with the forward trace."""
    try:
        in_grads = _call_backward(node, g)
        if _ANOMALY["check_nan"]:
            for i, ig in enumerate(_masked(node, in_grads if isinstance(in_grads, tuple) else (in_grads,))):
                if isinstance(ig, Tensor) and (ig._dtype.is_floating_point or ig._dtype.is_complex) and \
                        bool(ig.isnan().any()):
                    raise RuntimeError(f"Function '{node.name()}' returned nan values in its {i}th output.")
        return in_grads
    except Exception:
        import warnings
        if node._trace is not None:
            trace = "".join(node._trace)
            warnings.warn(f"Error detected in {node.name()}. Traceback of forward call that caused the error:\n"
                          f"{trace}", UserWarning, stacklevel=2)
        else:
            warnings.warn(f"Error detected in {node.name()}. No forward pass information available. Enable detect "
                          "anomaly during forward pass for more information.", UserWarning, stacklevel=2)
        raise


def _make_grads(outputs, grads):
    launch = _LAUNCH[0]
    if launch is None:
        from ..ops import launch
        _LAUNCH[0] = launch
    out = []
    for i, t in enumerate(outputs):
        g = None if grads is None else grads[i]
        if g is None:
            if not t._requires_grad:
                raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn")
            if t.numel() != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            g = launch.empty(t._shape, t._dtype, t._device)  # ones_like(t), on the short path
            if t._device.type == "cpu" and t._dtype.name in ("float32", "float64"):
                g._storage.fill(1.0)  # a fresh buffer of exactly its elements: no kernel launch (a 3x shorter path)
            else:
                launch.fill_(g, 1)
        else:
            if not isinstance(g, Tensor):
                from ..creation import tensor
                g = tensor(g, dtype=t._dtype, device=t._device)
            if g._shape != t._shape:
                raise RuntimeError(
                    f"Mismatch in shape: grad_output[{i}] has a shape of {g.shape} and output[{i}] has a shape of "
                    f"{t.shape}.")
            if not t._requires_grad:
                raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn")
        out.append(g)
    return out


def _conform(g, meta):
    """Bring an input's gradient to the input's shape (sum over broadcast dims) and dtype."""
    shape, dt = meta
    if g._shape != shape:
        g = g.sum_to_size(shape)
    if g._dtype is not dt:
        g = g.to(dt)
    return g


# id(leaf) -> its post-accumulate-grad hooks (Tensor.register_post_accumulate_grad_hook)
_POST_ACCUMULATE = {}


def register_post_accumulate_grad_hook(self, hook):
    """Call ``hook(tensor)`` after a backward has accumulated into this leaf's ``.grad`` (e.g. to step an optimizer
    per parameter inside the backward). Returns a handle whose ``remove()`` takes the hook off."""
    if not self._requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    if self._grad_fn is not None:
        raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
    key = id(self)
    hooks = _POST_ACCUMULATE.get(key)
    if hooks is None:
        import weakref
        hooks = _POST_ACCUMULATE[key] = []
        weakref.finalize(self, _POST_ACCUMULATE.pop, key, None)
    hooks.append(hook)
    return _RemovableHandle(hooks, hook)


def _run_post_accumulate(var):
    for h in list(_POST_ACCUMULATE.get(id(var), ())):
        if h(var) is not None:
            raise RuntimeError("Tensor post accumulate grad hooks should return None.")


Tensor.register_post_accumulate_grad_hook = register_post_accumulate_grad_hook


def _accumulate(var, g, create_graph, stolen, hooks=True):
    if hooks and var._hooks:
        g = _run_hooks(var._hooks, g)
    if not create_graph:
        g = g.detach()
    if var._grad is None:
        sid = id(g._storage)
        if create_graph:
            var._grad = g
        elif sid in stolen or not g._contig or g._storage.shape[0] != g.numel():
            var._grad = g.contiguous() if sid not in stolen and not g._contig else g.clone()
        else:
            var._grad = g
        stolen.add(id(var._grad._storage))
    elif create_graph or var._grad._requires_grad:
        var._grad = var._grad + g
    else:
        var._grad.add_(g)
    if _POST_ACCUMULATE:
        _run_post_accumulate(var)


def _nodes_leading_to(starts, capture, partial=False):
    """The nodes from which some captured tensor (a leaf by id, a non-leaf by its grad_fn's id) is reachable
    (``partial``: not by way of another one)."""
    needed = set()
    done = set()
    for start in starts:
        if start in done:
            continue
        stack = [(start, 0)]
        while stack:
            node, i = stack[-1]
            edges = () if partial and id(node) in capture else node._edges
            if i < len(edges):
                stack[-1] = (node, i + 1)
                nxt = edges[i][0]
                if nxt is not None and nxt not in done:
                    stack.append((nxt, 0))
                continue
            stack.pop()
            if node in done:
                continue
            done.add(node)
            if id(node) in capture or (isinstance(node, AccumulateGrad) and id(node.variable) in capture) or \
                    any(e[0] in needed for e in edges if e[0] is not None):
                needed.add(node)
    return needed


def run_backward(roots, grads, retain_graph, create_graph, capture=None, user_grads=()):
    """Propagate ``grads`` from the ``roots`` (tensors). With ``capture`` (a dict id(tensor) -> None), gradients
    reaching those tensors are stored there instead of being accumulated into ``.grad``."""
    partial, _PARTIAL[0] = _PARTIAL[0], False  # (this run's alone: not a nested one's, a backward calling grad)
    deps = {}
    starts = []
    for t in roots:
        fn = t.grad_fn  # (refreshes a view whose base was written since)
        node = fn if fn is not None else grad_accumulator(t)
        starts.append(node)
    seen = set(starts)
    stack = list(starts)
    while stack:
        node = stack.pop()
        if partial and id(node) in capture:
            continue  # (the compiler's backward: nothing past an input runs, its history is not walked)
        for nxt, _ in node._edges:
            if nxt is None:
                continue
            deps[nxt] = deps.get(nxt, 0) + 1
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    # autograd.grad runs only the nodes on a path to a requested input, as PyTorch does
    needed = None if capture is None else _nodes_leading_to(starts, capture, partial)
    if len(starts) == 1:  # one root (the usual loss.backward()): nothing leads to it in an acyclic graph
        pending = {starts[0]: grads[0]}
        ready = [starts[0]]
    else:
        pending = {}
        for node, g in zip(starts, grads):
            pending[node] = g if node not in pending else pending[node] + g
        ready = [n for n in dict.fromkeys(starts) if deps.get(n, 0) == 0]
    # storages that a leaf's .grad must not alias: the caller's gradient tensors (later accumulation writes in place)
    stolen = {id(g._storage) for g in user_grads} if user_grads else set()
    prev = _state.enabled
    _state.enabled = bool(create_graph)
    _RUN_COUNTER[0] += 1
    _RUNS.append((_RUN_COUNTER[0], seen if needed is None else needed))
    anomaly = _ANOMALY["enabled"]
    prof = _PROFILE[0]
    try:
        while ready:
            node = ready.pop()
            g = pending.pop(node, None)
            if isinstance(node, AccumulateGrad):
                if needed is not None and node not in needed:
                    continue
                # autograd.grad captures a leaf's gradient on the edge: its AccumulateGrad node (and node hooks)
                # never runs; the leaf's tensor hooks do
                if g is not None and node._node_prehooks and capture is None:
                    g = _run_node_prehooks(node, g)
                if g is not None:
                    var = node.variable
                    if capture is not None:
                        if id(var) in capture:
                            if var._hooks and not partial:  # (the compiler's: they run when it is accumulated)
                                g = _run_hooks(var._hooks, g)
                            capture[id(var)] = g if capture[id(var)] is None else capture[id(var)] + g
                    elif prof is None:
                        _accumulate(var, g, create_graph, stolen)
                    else:
                        prof.accumulate(node, _accumulate, var, g, create_graph, stolen)
                    if node._node_hooks and capture is None:
                        for h in list(node._node_hooks):
                            h((), (g,))
                continue
            if g is not None and (needed is None or node in needed):
                if partial and id(node) in capture:
                    # the compiler's backward: an input's own gradient as it arrives; its hooks run when the engine
                    # carries it on through the input's history
                    capture[id(node)] = g if capture[id(node)] is None else capture[id(node)] + g
                    continue
                if node._pre_hooks:
                    g = _run_hooks(node._pre_hooks, g)
                if node._node_prehooks:
                    g = _run_node_prehooks(node, g)
                if node._retained is not None:
                    t = node._retained()
                    if t is not None and capture is None:
                        t._grad = g.detach() if t._grad is None else t._grad + g.detach()
                if capture is not None and id(node) in capture:
                    capture[id(node)] = g if capture[id(node)] is None else capture[id(node)] + g
                    if not any(nxt in needed for nxt, _ in node._edges if nxt is not None):
                        # an input of autograd.grad that leads to no other one: its own backward does not run
                        # (as in PyTorch; its saved tensors may be gone, a backward having run through it before)
                        continue
                if anomaly:
                    in_grads = _backward_checked(node, g)
                elif prof is not None:
                    in_grads = prof.backward(node, g, _call_backward)
                else:  # _call_backward, written out
                    in_grads = type(node).backward(node, *g) if node._n_outputs > 1 else type(node).backward(node, g)
                if not isinstance(in_grads, tuple):
                    in_grads = (in_grads,)
                if len(in_grads) != len(node._edges):
                    raise RuntimeError(
                        f"function {node.name()} returned an incorrect number of gradients (expected "
                        f"{len(node._edges)}, got {len(in_grads)})")
                if node._node_hooks:
                    in_grads = _run_node_hooks(node, in_grads, g)
                if not retain_graph:
                    node._release()
            else:
                in_grads = (None,) * len(node._edges)
            for (nxt, nr), ig, meta in zip(node._edges, in_grads, node._input_meta):
                if nxt is None:
                    continue
                if ig is not None:
                    if ig._shape != meta[0] or ig._dtype is not meta[1]:
                        ig = _conform(ig, meta)
                    if nxt._n_outputs > 1:
                        slots = pending.setdefault(nxt, [None] * nxt._n_outputs)
                        slots[nr] = ig if slots[nr] is None else slots[nr] + ig
                    elif nxt in pending and pending[nxt] is not None:
                        pending[nxt] = pending[nxt] + ig
                    else:
                        pending[nxt] = ig
                deps[nxt] -= 1
                if deps[nxt] == 0:
                    ready.append(nxt)
        callbacks = _FINAL_CALLBACKS.get(_RUNS[-1][0])
        while callbacks:  # a callback may queue another one
            callbacks.pop(0)()
    finally:
        _state.enabled = prev
        _FINAL_CALLBACKS.pop(_RUNS.pop()[0], None)


def queue_callback(callback):
    """Run ``callback()`` once the backward pass in progress has run its whole graph (PyTorch's
    ``Variable._execution_engine.queue_callback``; DistributedDataParallel waits for its gradient all-reduces here)."""
    if not _RUNS:
        raise RuntimeError("Final callbacks can only be installed during backward pass.")
    _FINAL_CALLBACKS.setdefault(_RUNS[-1][0], []).append(callback)


def current_run():
    """An id of the backward pass in progress (-1 outside one), like torch._C._current_graph_task_id()."""
    return _RUNS[-1][0] if _RUNS else -1


def will_execute(node):
    """Whether the backward pass in progress runs ``node`` (reachable, and needed for autograd.grad's inputs)."""
    return bool(_RUNS) and node in _RUNS[-1][1]


def _as_tuple(x):
    if x is None:
        return None
    if isinstance(x, Tensor):
        return (x,)
    return tuple(x)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Compute the sum of gradients of ``tensors`` w.r.t. graph leaves, accumulated into their ``.grad``."""
    tensors = _as_tuple(tensors)
    grad_tensors = _as_tuple(grad_tensors)
    if retain_graph is None:
        retain_graph = create_graph
    grads = _make_grads(tensors, grad_tensors)
    if inputs is not None:
        inputs = _as_tuple(inputs)
        if not inputs:
            raise RuntimeError("'inputs' argument to backward() cannot be empty.")
        res = grad(tensors, inputs, grads, retain_graph=retain_graph, create_graph=create_graph, allow_unused=True)
        for t, g in zip(inputs, res):
            if g is not None:
                _accumulate(t, g, create_graph, set(), hooks=False)  # grad() already ran the leaf's hooks
        return
    run_backward(tensors, grads, retain_graph, create_graph, user_grads=grads)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, only_inputs=True,
         allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """Return d(outputs)/d(inputs) without touching any ``.grad``."""
    import collections.abc
    from .graph import GradientEdge
    if materialize_grads and allow_unused is False:
        raise ValueError("Expected allow_unused to be True or not passed when materialize_grads=True, but got: "
                         "allow_unused=False.")
    if allow_unused is None:
        allow_unused = materialize_grads
    outputs = _as_tuple(outputs)
    names = None
    if isinstance(inputs, GradientEdge):
        inputs = (inputs,)
    elif type(inputs) is dict:
        names, inputs = tuple(inputs.keys()), tuple(inputs.values())
    elif isinstance(inputs, collections.abc.Mapping):
        raise TypeError(f"`inputs` argument to `grad()` must be a dict, not {type(inputs).__name__}. Other Mapping "
                        "types are not supported.")
    else:
        inputs = _as_tuple(inputs)
    if not inputs:
        raise RuntimeError("`inputs` argument to `grad()` cannot be empty.")
    if not only_inputs:
        import warnings
        warnings.warn("only_inputs argument is deprecated and is ignored now (defaults to True). To accumulate "
                      "gradient for other parts of the graph, please use torch.autograd.backward.", FutureWarning,
                      stacklevel=2)
    grad_outputs = _as_tuple(grad_outputs)
    if retain_graph is None:
        retain_graph = create_graph
    if is_grads_batched:
        return _batched_grad(outputs, inputs, names, grad_outputs, retain_graph, create_graph, allow_unused,
                             materialize_grads)
    for t in inputs:
        if not isinstance(t, GradientEdge) and not t._requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    grads = _make_grads(outputs, grad_outputs)
    keys = [_capture_key(t, GradientEdge) for t in inputs]
    capture = dict.fromkeys(keys)
    _CAPTURING[0] += 1
    try:
        run_backward(outputs, grads, retain_graph, create_graph, capture)
    finally:
        _CAPTURING[0] -= 1
    result = []
    for i, (t, key) in enumerate(zip(inputs, keys)):
        g = capture[key]
        if g is None:
            if materialize_grads:
                if isinstance(t, GradientEdge):
                    raise RuntimeError("materialize_grads cannot be used when the given input is a GradientEdge")
                g = _zeros_for(t, GradientEdge)
                if create_graph:
                    g.requires_grad_(True)
            elif not allow_unused:
                raise RuntimeError(
                    f"The differentiated Tensor at index {i} appears to not have been used in the graph. Set "
                    "allow_unused=True if this is the desired behavior.")
        elif not create_graph:
            g = g.detach()
        result.append(g)
    return dict(zip(names, result)) if names is not None else tuple(result)


def _batched_grad(outputs, inputs, names, grad_outputs, retain_graph, create_graph, allow_unused, materialize):
    """is_grads_batched: the first dim of every grad_output indexes independent vector-Jacobian products; one
    backward per index (retaining the graph between them), results stacked along a new first dim."""
    from ..ops.shape import stack
    from .graph import GradientEdge
    if grad_outputs is None or any(g is None for g in grad_outputs):
        raise RuntimeError("grad_outputs must be given for each output when is_grads_batched=True")
    for i, (out, g) in enumerate(zip(outputs, grad_outputs)):
        if isinstance(out, GradientEdge):
            raise RuntimeError("Batched grads are not supported with GradientEdge")
        first = g[0]  # a 0-d grad_output raises IndexError here, as in PyTorch
        if first.shape != out.shape:
            # PyTorch's message drops one more leading dim of grad_output[i][0]; kept word for word
            shown = first.shape[1:]
            raise RuntimeError(
                "If `is_grads_batched=True`, we interpret the first dimension of each grad_output as the batch "
                "dimension. The sizes of the remaining dimensions are expected to match the shape of corresponding "
                f"output, but a mismatch was detected: grad_output[{i}] has a shape of {shown} and output[{i}] "
                f"has a shape of {out.shape}. If you only want some tensors in `grad_output` to be considered "
                "batched, consider using vmap.")
    n = grad_outputs[0].shape[0]
    per_batch = []
    for b in range(n):
        per_batch.append(grad(outputs, inputs, tuple(g[b] for g in grad_outputs),
                              retain_graph=True if b < n - 1 else retain_graph, create_graph=create_graph,
                              allow_unused=allow_unused, materialize_grads=materialize))
    result = []
    for k in range(len(inputs)):
        col = [r[k] for r in per_batch]
        result.append(None if any(c is None for c in col) else stack(col, 0))
    return dict(zip(names, result)) if names is not None else tuple(result)


def _capture_key(t, edge_type):
    """Where grad() collects an input's gradient: a leaf by its id, anything else by its node's id."""
    if isinstance(t, edge_type):
        return id(t.node.variable) if isinstance(t.node, AccumulateGrad) else id(t.node)
    return id(t) if t._grad_fn is None else id(t._grad_fn)


def _zeros_for(t, edge_type):
    from ..creation import zeros, zeros_like
    if not isinstance(t, edge_type):
        return zeros_like(t)
    if isinstance(t.node, AccumulateGrad):
        return zeros_like(t.node.variable)
    shape, dtype, device = t.node._out_meta
    return zeros(shape, dtype=dtype, device=device)


__all__ = ["backward", "grad", "Function"]
