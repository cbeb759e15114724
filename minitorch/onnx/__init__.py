"""``minitorch.onnx`` (``torch.onnx``): export a model to an ONNX file from the graph ``minitorch.compile``
captures. Needs the ``onnx`` package (the ``onnx`` extra)."""
import contextlib
import inspect
import types

from ._program import ONNXProgram

__all__ = ["export", "is_in_onnx_export", "TrainingMode", "ONNXProgram"]

_EXPORTING = [False]


class TrainingMode:
    """``torch.onnx.TrainingMode``: the mode the model is exported in (EVAL by default)."""
    EVAL = 0
    PRESERVE = 1
    TRAINING = 2


def is_in_onnx_export():
    """True while ``export`` runs the model."""
    return _EXPORTING[0]


def _default_input_names(fn, args, kwargs):
    """The forward's parameter names; an argument holding several tensors (an LSTM's (h, c)) gives name_0, ..."""
    from ..compiler.ir import leaves
    from ..tensor import Tensor
    try:
        params = [p for p in inspect.signature(fn).parameters if p != "self"]
    except (TypeError, ValueError):
        params = []
    names, seen = [], set()
    pairs = [(params[i] if i < len(params) else f"input_{i}", a) for i, a in enumerate(args)]
    pairs += list(kwargs.items())
    for pname, a in pairs:
        ts = [t for t in leaves(a) if isinstance(t, Tensor)]
        for k, t in enumerate(ts):
            if id(t) not in seen:
                seen.add(id(t))
                names.append(pname if len(ts) == 1 else f"{pname}_{k}")
    return names


def _axes_of_dynamic_shapes(fn, args, kwargs, spec, input_names, ranges=None):
    """``dynamic_shapes`` as ``dynamic_axes`` ({input name: {axis: label}}): ``spec`` is keyed by the forward's
    parameter names or gives one entry per argument in order; an entry is None (all static), {axis: dim} or a
    sequence with one dim per axis (nested like the argument when it holds several tensors). A dim is a name, a
    ``minitorch.export.Dim`` (its name; ``Dim.AUTO``/``Dim.DYNAMIC`` get ``s0``, ``s1``, ...; ``Dim.STATIC`` and
    None stay static). ``ranges`` gets each bounded Dim's name: (min, max), either None where not given."""
    from ..compiler.ir import leaves
    from ..export import Dim, _DimHint
    from ..tensor import Tensor
    try:
        params = [p for p in inspect.signature(fn).parameters if p != "self"]
    except (TypeError, ValueError):
        params = []
    pairs = [(params[i] if i < len(params) else f"input_{i}", a) for i, a in enumerate(args)] + list(kwargs.items())
    if isinstance(spec, dict):
        unknown = [k for k in spec if k not in dict(pairs)]
        if unknown:
            raise RuntimeError(f"dynamic_shapes names {unknown}, which are not arguments of the call (they are "
                               f"{[k for k, _ in pairs]})")
        entries = [spec.get(k) for k, _ in pairs]
    elif isinstance(spec, (tuple, list)):
        if len(spec) != len(pairs):
            raise RuntimeError(f"dynamic_shapes has {len(spec)} entries for {len(pairs)} arguments")
        entries = list(spec)
    else:
        raise TypeError(f"dynamic_shapes must be a dict, tuple or list, got {type(spec).__name__}")
    auto = [0]

    def label(d, size, where):
        if d is None or d is Dim.STATIC or isinstance(d, int):
            return None
        if isinstance(d, _DimHint):
            auto[0] += 1
            return f"s{auto[0] - 1}"
        if isinstance(d, str):
            return d
        if isinstance(d, Dim):
            lo, hi = d.min, d.max
            if (lo is not None and size < lo) or (hi is not None and size > hi):
                raise RuntimeError(f"dynamic_shapes: {where} has size {size}, outside {d!r}")
            if ranges is not None and (lo is not None or hi is not None):
                ranges[d.__name__] = (lo, hi)
            return d.__name__
        raise TypeError(f"dynamic_shapes: {where}: expected a name, a Dim or None, got {type(d).__name__}")

    out, seen = {}, set()
    flat = []
    for (pname, a), entry in zip(pairs, entries):
        ts = [t for t in leaves(a) if isinstance(t, Tensor)]
        per = [entry] if len(ts) == 1 else _per_tensor(entry, len(ts))
        for t, e in zip(ts, per):
            if id(t) in seen:
                continue
            seen.add(id(t))
            flat.append((t, e, pname))
    for i, (t, e, pname) in enumerate(flat):
        if e is None or i >= len(input_names):
            continue
        items = e.items() if isinstance(e, dict) else enumerate(e)
        dims = {}
        for ax, d in items:
            ax = int(ax)
            if not -len(t._shape) <= ax < len(t._shape):
                raise RuntimeError(f"dynamic_shapes: {pname} has {len(t._shape)} dimensions, got axis {ax}")
            ax %= len(t._shape)
            lab = label(d, t._shape[ax], f"{pname} dimension {ax}")
            if lab is not None:
                dims[ax] = lab
        if dims:
            out[input_names[i]] = dims
    return out


def _per_tensor(entry, n):
    """The per-tensor entries of an argument that holds ``n`` tensors (a tuple of specs, one per tensor)."""
    if entry is None:
        return [None] * n
    if isinstance(entry, (tuple, list)) and len(entry) == n and all(
            e is None or isinstance(e, (dict, tuple, list)) for e in entry):
        return list(entry)
    raise RuntimeError(f"dynamic_shapes: an argument holding {n} tensors needs one entry per tensor, got {entry!r}")


def export(model, args=(), f=None, *, kwargs=None, verbose=None, input_names=None, output_names=None,
           opset_version=None, dynamo=True, external_data=True, dynamic_shapes=None, custom_translation_table=None,
           report=False, optimize=True, verify=False, profile=False, dump_exported_program=False, artifacts_dir=".",
           export_params=True, keep_initializers_as_inputs=False, dynamic_axes=None, training=TrainingMode.EVAL,
           operator_export_type=None, do_constant_folding=True, custom_opsets=None, export_modules_as_functions=False,
           autograd_inlining=True):
    """Export ``model`` called with ``args`` (and ``kwargs``) to ONNX.

    The model runs once, in eval mode (``training=TrainingMode.EVAL``, restored afterwards) and without autograd,
    with ``minitorch.compile``'s recorder; every recorded op becomes ONNX operators of ``opset_version`` (default
    20, at least 11). Parameters and buffers are initializers under their ``state_dict`` names. Inputs are named
    after the forward's parameters unless ``input_names`` says otherwise. An op without an ONNX mapping raises
    RuntimeError naming it and the line that called it; the model is checked with ``onnx.checker``.

    With ``dynamo=True`` (the default) it returns an ``ONNXProgram``, and also saves it to ``f`` when a path is
    given (``external_data=True``: the weights in ``<f>.data`` beside it). Dimensions are marked symbolic by
    ``dynamic_shapes`` ({argument name: {axis: name or minitorch.export.Dim}}, or one entry per argument in
    order) or ``dynamic_axes``; output dimensions that follow from them are symbolic too. Other integers are
    fixed in the file, so the model is captured a second time with each dynamic axis one longer, and a graph
    that differs there (a size read into a constant, a slice or a reshape) raises RuntimeError instead of being
    written. ``optimize=True`` runs ``ONNXProgram.optimize``.

    With ``dynamo=False`` (deprecated in PyTorch too) it writes the model, weights inline, to ``f`` (a path or a
    binary file object, required), with ``dynamic_axes`` ({name: [axes]} or {name: {axis: label}}), and returns
    None; ``export_params=False`` makes the weights graph inputs instead.
    """
    import warnings
    from ._exporter import _onnx
    from ._program import ONNXProgram
    _onnx()
    if not dynamo:
        warnings.warn("You are using the legacy TorchScript-based ONNX export. Starting in PyTorch 2.9, the new "
                      "torch.export-based ONNX exporter has become the default.", DeprecationWarning, stacklevel=2)
        if dynamic_shapes:
            raise ValueError("The exporter only supports dynamic shapes through parameter dynamic_axes when "
                             "dynamo=False.")
        if f is None:
            raise TypeError("export() missing required argument: 'f' (the file to write)")
    if custom_translation_table:
        raise TypeError("minitorch.onnx.export maps every op itself; custom_translation_table (onnxscript "
                        "functions) is not taken")
    proto = _export_model(model, args, kwargs, input_names, output_names, opset_version, dynamic_axes,
                          dynamic_shapes, export_params or bool(dynamo), training, infer_outputs=True,
                          verbose=verbose)
    if not dynamo:
        if keep_initializers_as_inputs:  # the weights listed as graph inputs too (a caller may pass others)
            proto = ONNXProgram(proto)._with_initializers(True, True)
        _write(proto, f)
        return None
    program = ONNXProgram(proto)
    if optimize:
        program.optimize()
    if f is not None:
        if hasattr(f, "write"):
            warnings.warn("Saving ONNX model to a BytesIO object is deprecated. Please use a file path instead.",
                          DeprecationWarning, stacklevel=2)
            f.write(program.model_proto.SerializeToString())
        else:
            program.save(f, include_initializers=export_params, keep_initializers_as_inputs=keep_initializers_as_inputs,
                         external_data=external_data)
    return program


def _export(model, args, f, export_params=True, verbose=False, training=TrainingMode.EVAL, input_names=None,
            output_names=None, operator_export_type=None, export_type=None, opset_version=None,
            do_constant_folding=True, dynamic_axes=None, keep_initializers_as_inputs=None, fixed_batch_size=False,
            custom_opsets=None, add_node_names=True, onnx_shape_inference=True, export_modules_as_functions=False,
            autograd_inlining=True):
    """The private exporter entry of PyTorch releases before 2.6 (pytorch/examples' fast_neural_style calls it):
    writes ``f`` as ``export(..., dynamo=False)`` does, without its deprecation warning, and returns the model's
    output for ``args``."""
    if f is None:
        raise TypeError("_export() missing required argument: 'f' (the file to write)")
    proto = _export_model(model, args, None, input_names, output_names, opset_version, dynamic_axes, None,
                          export_params, training, infer_outputs=False, verbose=verbose)
    if keep_initializers_as_inputs:
        proto = ONNXProgram(proto)._with_initializers(True, True)
    _write(proto, f)
    from ..autograd.grad_mode import no_grad
    with no_grad():
        return model(*args) if isinstance(args, tuple) else model(args)


def _write(proto, f):
    import onnx
    if hasattr(f, "write"):
        f.write(proto.SerializeToString())
    else:
        onnx.save(proto, f)


def _export_model(model, args, kwargs, input_names, output_names, opset_version, dynamic_axes, dynamic_shapes,
                  export_params, training, infer_outputs, verbose):
    """The model captured and converted: an ``onnx.ModelProto``, checked."""
    from ..autograd.grad_mode import no_grad
    from ..compiler.capture import capture
    from ..nn.modules.module import Module
    from ..tensor import Tensor
    from ._exporter import MAPPED_FUNCTIONAL, export_graph
    if isinstance(args, Tensor):
        args = (args,)
    args = tuple(args)
    kw = dict(kwargs or {})
    if args and isinstance(args[-1], dict):
        kw.update(args[-1])
        args = args[:-1]
    opset = 20 if opset_version is None else int(opset_version)
    if opset < 11:
        raise ValueError(f"minitorch.onnx.export writes opset 11 and newer: opset_version={opset_version}")
    names = {}
    is_module = isinstance(model, Module)
    forward = model.forward if is_module else model
    if is_module:
        names = {id(p): n for n, p in model.named_parameters()}
        names.update((id(b), n) for n, b in model.named_buffers())
        was_training = model.training
        if training == TrainingMode.EVAL:
            model.eval()
        elif training == TrainingMode.TRAINING:
            model.train()
    if input_names is None:
        input_names = _default_input_names(forward, args, kw)
    axes, ranges = dict(dynamic_axes or {}), {}
    if dynamic_shapes is not None:
        axes.update(_axes_of_dynamic_shapes(forward, args, kw, dynamic_shapes, list(input_names), ranges))
    _EXPORTING[0] = True
    try:
        with no_grad():
            # a module through __call__: a top-level recurrent layer is kept whole; prints pass (nothing replays)
            graph, _ = capture(model, args, kw, names, fullgraph=True, python_effects=False, whole=MAPPED_FUNCTIONAL)
    finally:
        _EXPORTING[0] = False
        if is_module:
            model.train(was_training)
    from ..compiler.passes import dead_code
    graph = dead_code(graph)
    title = type(model).__name__ if is_module else getattr(model, "__name__", "graph")
    proto = export_graph(graph, names, list(input_names or []), list(output_names or []), axes, opset,
                         export_params, title, infer_outputs)
    if axes:
        _check_dynamic(model, args, kw, names, list(input_names or []), list(output_names or []), axes, opset,
                       export_params, title, infer_outputs, training, proto, ranges)
    if verbose:
        print(graph)
    return proto


def _check_dynamic(model, args, kw, names, input_names, output_names, axes, opset, export_params, title,
                   infer_outputs, training, proto, ranges=None):
    """A graph exported with dynamic axes holds every other integer fixed: the model is captured again at two other
    sizes of each dynamic axis of its inputs (n + 1 and 2n + 1, see ``_SIZE_RULES``; axes under other names at
    other sizes, see ``_other_sizes``), and where that graph differs
    from the first (a size read into a reshape, a slice bound, a constant computed from it) the export raises, since
    the file would give other values at other sizes. A model that runs at none of the sizes tried is refused too:
    its file could not be checked. ``ranges`` ({Dim name: (min, max)}) keeps the sizes tried, and the search for
    where a comparison flips, inside each bounded Dim's range: the file is not meant for sizes outside it."""
    from ..autograd.grad_mode import no_grad
    from ..compiler.capture import capture
    from ..compiler.ir import leaves, map_tree
    from ..compiler.passes import dead_code
    from ..compiler.symbolic import size_guards
    from ..nn.modules.module import Module
    from ..ops.shape import cat
    from ..tensor import Tensor
    from ._exporter import export_graph
    order, seen = [], set()
    for t in leaves((args, kw)):
        if isinstance(t, Tensor) and id(t) not in seen:
            seen.add(id(t))
            order.append(t)
    grow, labels = {}, {}
    for t, name in zip(order, input_names):
        dims = axes.get(name)
        if dims:
            grow[id(t)] = sorted(dims.keys() if isinstance(dims, dict) else dims)
            for d in grow[id(t)]:   # (a list of axes names each axis on its own, as the file does)
                labels[(id(t), d)] = dims[d] if isinstance(dims, dict) else (name, d)
    if not grow:
        return
    keys = [(id(t), d) for t in order if id(t) in grow for d in grow[id(t)]]
    shape_of = {(id(t), d): t._shape[d] for t in order if id(t) in grow for d in grow[id(t)]}

    is_module = isinstance(model, Module)

    def recapture(args2, kw2, noted=None):
        was_training = model.training if is_module else None
        if is_module and training == TrainingMode.EVAL:
            model.eval()
        _EXPORTING[0] = True
        try:
            with no_grad(), (noted if noted is not None else contextlib.nullcontext()):
                return capture(model, tuple(args2), kw2, names, fullgraph=True, python_effects=False)[0]
        finally:
            _EXPORTING[0] = False
            if is_module:
                model.train(was_training)

    def differs(graph2):
        try:
            other = export_graph(dead_code(graph2), names, input_names, output_names, axes, opset, export_params,
                                 title, infer_outputs)
        except RuntimeError as e:   # (another op at the other size: an adaptive pooling over pieces)
            return f"at another size it records an op the file does not have: {e}"
        return _first_difference(proto.graph, other.graph)

    def resized(target):
        # the arguments with each dynamic axis ``target[key]`` long, made from the values it has (repeated or cut),
        # contiguous as the export's own input is, so the layout makes no other graph; a tensor passed twice stays
        # one tensor
        done = {}

        def one(t):
            if not isinstance(t, Tensor) or id(t) not in grow:
                return t
            if id(t) not in done:
                r = t
                for d in grow[id(t)]:
                    n, m = r._shape[d], target[(id(t), d)]
                    r = (cat([r] * -(-m // n), d) if m > n else r).narrow(d, 0, m).contiguous()
                done[id(t)] = r
            return done[id(t)]
        return map_tree(one, (list(args), kw))

    used = set()
    for rule in (0, 1):
        # the first of the rule's sizes the model runs at (a model that takes even sizes only, or multiples of 32,
        # refuses n + 1 but takes 2n): skipping the check where the model raises would write an unchecked file
        graph2, tried, failure = None, [], None
        for target in _other_sizes(rule, keys, labels, shape_of, ranges or {}):
            sizes = tuple(target[k] for k in keys)
            if sizes in used or min(sizes) < 2:
                continue
            tried.append(sizes)
            args2, kw2 = resized(target)
            grown, met = [], set()
            for t in leaves((args2, kw2)):
                if isinstance(t, Tensor) and id(t) not in met:
                    met.add(id(t))
                    grown.append(t)
            noted = size_guards(grown, [types.SimpleNamespace(shape=t._shape) for t in order])
            try:
                graph2 = recapture(args2, kw2, noted)
            except Exception as e:  # noqa: BLE001 - the model does not take these sizes: the rule's next ones
                failure = e
                continue
            used.add(sizes)
            break
        if graph2 is None:
            raise RuntimeError("minitorch.onnx.export: the model runs at none of the other sizes of its dynamic axes "
                               f"tried ({', '.join(map(str, tried))}; the last raised {failure!r}), so the export "
                               "cannot check that its graph does not depend on their sizes. Export without those axes "
                               "dynamic") from failure
        bounds = {}     # each size's range (axes checked at one size: the range all of theirs share)
        for k in keys:
            lo, hi = (ranges or {}).get(labels[k], (None, None))
            was_lo, was_hi = bounds.get(target[k], (None, None))
            bounds[target[k]] = (max(v for v in (lo, was_lo, 2) if v is not None),
                                 min((v for v in (hi, was_hi) if v is not None), default=None))
        for what, value, n in _size_flips(noted.guards, bounds=bounds):
            # a comparison of a dynamic size that comes out otherwise at size n (the other sizes as captured): a
            # branch, unless the model refuses that size (``assert T <= block_size``: a constraint of the model, not
            # another graph)
            try:
                graph3 = recapture(*resized({k: n if target[k] == value else target[k] for k in keys}))
            except Exception:  # noqa: BLE001 - the model does not run at that size
                continue
            if differs(graph3) is not None:
                raise RuntimeError("minitorch.onnx.export: the exported graph depends on the size of a dynamic axis "
                                   f"(the code compares it: {what}, and at size {n} the model records another "
                                   "graph): the file would hold only one side of that branch. Export without that "
                                   "axis dynamic")
        where = differs(graph2)
        if where is not None:
            raise RuntimeError(f"minitorch.onnx.export: the exported graph depends on the size of a dynamic axis "
                               f"({where}): the file would compute other values at other sizes. Export without "
                               "that axis dynamic (a size read into a reshape, a slice or a constant is fixed in the "
                               "graph)")
        hidden = sorted({g[1] for g in noted.guards if g[0] == "opaque" and g[1].startswith(_UNFOLLOWED)})
        if hidden:
            raise RuntimeError("minitorch.onnx.export: the model's code uses the size of a dynamic axis in a way "
                               f"the export cannot follow ({'; '.join(hidden)}): a branch on what it gives (`if h / w "
                               "> 1.5`) would be written with one side only. Compare sizes as ints (x.size(d), "
                               "x.shape[d]; 2 * h > 3 * w), or export without that axis dynamic")


# the other sizes a dynamic axis ``n`` long is captured at, in two rounds (a = 1, then 2): a*n + 1 (n + 1 and 2n + 1:
# ``T // 2`` is the same at 4 and 5, not at 9), or where the model refuses that, a*n + 2 and (a + 1)*n (a model that
# takes even sizes or multiples of n only), then smaller sizes (n - 1, n // 2) for a model exported at its largest
_SIZE_RULES = (lambda n, a: a * n + 1, lambda n, a: a * n + 2, lambda n, a: (a + 1) * n,
               lambda n, a: n - 1 if a == 1 else n // a)


def _other_sizes(rule, keys, labels, shape_of, ranges):
    """The sizes round ``rule`` (0 or 1) of the dynamic-axes check tries, in order: for each of ``_SIZE_RULES``,
    {axis key: size}. Axes under other names that are as long at the export take the rule at other rounds' ``a`` at
    once (an 8x8 image with H and W dynamic at 9x17, then 17x9): the comparisons the capture notes tell sizes apart
    by their values only, so at one size for both a branch ``if h > w`` could not be seen to flip. Where the model
    refuses those (it takes only equal sizes: ``a + b`` of inputs whose batches are named apart), the same rule
    follows with those axes equally long. Sizes outside an axis's ``ranges`` entry (min, max) are skipped."""
    first = {}
    for k in keys:
        first.setdefault(labels[k], shape_of[k])
    by_size = {}
    for lab, n in first.items():
        by_size.setdefault(n, []).append(lab)
    shared = any(len(labs) > 1 for labs in by_size.values())
    for size_of in _SIZE_RULES:
        for apart in ((True, False) if shared else (True,)):
            a = {}
            for labs in by_size.values():
                for j, lab in enumerate(labs):
                    a[lab] = 1 + (rule + (j if apart else 0)) % max(2, len(labs))
            target = {k: size_of(shape_of[k], a[labels[k]]) for k in keys}
            owner = {}
            if apart and any(owner.setdefault(target[k], labels[k]) != labels[k] for k in keys):
                continue    # (two names at one size all the same: n // 2 of 8 and of 9)
            if any(not _within(target[k], ranges.get(labels[k])) for k in keys):
                continue
            yield target


def _within(n, bounds):
    lo, hi = bounds or (None, None)
    return (lo is None or n >= lo) and (hi is None or n <= hi)


# the uses of a dynamic size that give Python a plain number (a float, an int, a hash, a stride), whose comparisons
# no guard sees, so neither ``_size_flips`` nor the captures at other sizes can tell whether the code branches on it
# (the opaque guards of index and slice bounds are not among them: those values are in the graph, compared at the
# other sizes). ``len(x)`` is not either: ``x.view(len(x), -1)`` is common and exports right (the graph comparison
# sees a length fixed in the file); a branch on it is the one case written unchecked
_UNFOLLOWED = ("a size made a float", "abs() of a size", "a size used as a key", "a stride of a tensor")


def _size_flips(guards, top=2048, bounds=None):
    """The comparisons of dynamic sizes the model's Python code made (``if x.size(1) > 16``) that come out otherwise
    at some size from 2 to ``top`` (each size alone, the others as captured; sizes are told apart by their values,
    so ``_other_sizes`` gives axes of other names other sizes), or within ``bounds[value]`` ((min, max), either None)
    for a size of that value (a Dim's range: a flip outside it is at a size the file is not for): (the comparison in
    words, the size's value at the capture, the first size where it flips), one per comparison."""
    from ..compiler.symbolic import _CMP
    which = {}

    def index(tree):
        if tree[0] == "s":
            return ("s", which.setdefault(tree[1], len(which)))
        return tree if tree[0] == "c" else (tree[0], index(tree[1]), index(tree[2]))
    checks = [(op, index(x), index(y), r) for op, x, y, r in guards if op in _CMP]
    base = list(which)
    flips = []
    for op, x, y, r in checks:
        for i in range(len(base)):
            lo, hi = (bounds or {}).get(base[i], (None, None))
            sizes = range(max(2, lo or 2), min(top, top if hi is None else hi) + 1)
            n = next((n for n in sizes if not _holds(op, x, y, r, base[:i] + [n] + base[i + 1:])), None)
            if n is not None:
                at = ", ".join(f"size{j} = {v}" for j, v in enumerate(base))
                flips.append((f"{_show_tree(x)} {_OPS[op]} {_show_tree(y)} is {r} at {at}, {not r} at size{i} = {n}",
                              base[i], n))
                break
    return flips


def _holds(op, x, y, r, sizes):
    from ..compiler.ir import eval_tree
    from ..compiler.symbolic import _CMP
    try:
        return _CMP[op](eval_tree(x, sizes), eval_tree(y, sizes)) == r
    except ZeroDivisionError:
        return False


_OPS = {"lt": "<", "le": "<=", "gt": ">", "ge": ">=", "eq": "==", "ne": "!=", "add": "+", "sub": "-", "mul": "*",
        "floordiv": "//", "mod": "%"}


def _show_tree(tree):
    if tree[0] == "s":
        return f"size{tree[1]}"
    if tree[0] == "c":
        return str(tree[1])
    return f"({_show_tree(tree[1])} {_OPS.get(tree[0], tree[0])} {_show_tree(tree[2])})"


def _first_difference(a, b):
    """Where two exported graphs differ other than in names and shapes (None where they do not): operators,
    attributes, constants, and which values each operator reads (``a - b`` and ``b - a`` are the same operators
    wired otherwise)."""
    from onnx import numpy_helper
    import numpy as np
    if len(a.node) != len(b.node):
        return f"{len(a.node)} vs {len(b.node)} operators"
    if len(a.initializer) != len(b.initializer):
        return f"{len(a.initializer)} vs {len(b.initializer)} initializers"
    wa, wb = _wiring(a), _wiring(b)
    if [wa.get(o.name, o.name) for o in a.output] != [wb.get(o.name, o.name) for o in b.output]:
        return "which values the graph returns"
    for x, y in zip(a.node, b.node):
        if x.op_type != y.op_type or len(x.attribute) != len(y.attribute):
            return f"{x.op_type} vs {y.op_type}"
        if [wa.get(n, n) for n in x.input] != [wb.get(n, n) for n in y.input]:
            return f"the inputs of a {x.op_type} node"
        for p, q in zip(x.attribute, y.attribute):
            if p.name != q.name or p.type != q.type:
                return f"{x.op_type}.{p.name}"
            if p.t.ByteSize() or q.t.ByteSize():
                u, v = numpy_helper.to_array(p.t), numpy_helper.to_array(q.t)
                if u.shape != v.shape or not np.array_equal(u, v):
                    return f"the constant of a {x.op_type} node"
            elif (list(p.ints), list(p.floats), p.i, p.f, p.s) != (list(q.ints), list(q.floats), q.i, q.f, q.s):
                return f"{x.op_type}.{p.name}"
    for x, y in zip(a.initializer, b.initializer):
        u, v = numpy_helper.to_array(x), numpy_helper.to_array(y)
        if u.shape != v.shape or not np.array_equal(u, v):
            return f"the initializer {x.name}"
    return None


def _wiring(g):
    """Each value name of graph ``g`` as where it comes from (the k-th graph input or initializer, output j of the
    k-th node), so that two graphs' nodes compare by what they read whatever the values are named."""
    where = {v.name: ("input", k) for k, v in enumerate(g.input)}
    where.update((v.name, ("initializer", k)) for k, v in enumerate(g.initializer))
    for k, node in enumerate(g.node):
        where.update((o, ("node", k, j)) for j, o in enumerate(node.output))
    return where
