"""``minitorch.onnx`` (``torch.onnx``): export a model to an ONNX file from the graph ``minitorch.compile``
captures. Needs the ``onnx`` package (the ``onnx`` extra)."""
import inspect

__all__ = ["export", "is_in_onnx_export", "TrainingMode"]

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


def export(model, args=(), f=None, kwargs=None, export_params=True, verbose=False, training=TrainingMode.EVAL,
           input_names=None, output_names=None, operator_export_type=None, opset_version=None,
           do_constant_folding=True, dynamic_axes=None, keep_initializers_as_inputs=None, custom_opsets=None,
           export_modules_as_functions=False, autograd_inlining=True, dynamo=False, **unused):
    """Export ``model`` called with ``args`` to the ONNX file ``f`` (a path or a binary file object).

    The model runs once, in eval mode (``training=TrainingMode.EVAL``, restored afterwards) and without autograd,
    with ``minitorch.compile``'s recorder; every recorded op becomes ONNX operators of ``opset_version``
    (default 17). Parameters and buffers are stored as initializers under their ``state_dict`` names
    (``export_params=False`` makes them graph inputs instead). ``dynamic_axes`` ({name: [axes]} or
    {name: {axis: label}}) marks dimensions symbolic. The model is checked with ``onnx.checker``. An op without an
    ONNX mapping raises RuntimeError naming it and the line that called it.

    Returns None (the file is the result).
    """
    from ..autograd.grad_mode import no_grad
    from ..compiler.capture import capture
    from ..nn.modules.module import Module
    from ..tensor import Tensor
    from ._exporter import _onnx, export_graph
    _onnx()
    if f is None:
        raise TypeError("export() missing required argument: 'f' (the file to write)")
    if isinstance(args, Tensor):
        args = (args,)
    args = tuple(args)
    kw = dict(kwargs or {})
    if args and isinstance(args[-1], dict):
        kw.update(args[-1])
        args = args[:-1]
    opset = 17 if opset_version is None else int(opset_version)
    if opset < 13:
        raise ValueError(f"minitorch.onnx.export writes opset 13 and newer: opset_version={opset_version}")
    names = {}
    is_module = isinstance(model, Module)
    if is_module:
        names = {id(p): n for n, p in model.named_parameters()}
        names.update((id(b), n) for n, b in model.named_buffers())
        was_training = model.training
        if training == TrainingMode.EVAL:
            model.eval()
        elif training == TrainingMode.TRAINING:
            model.train()
    fn = model  # a module is called through __call__, so a top-level recurrent layer is kept whole
    if input_names is None:
        input_names = _default_input_names(model.forward if is_module else model, args, kw)
    _EXPORTING[0] = True
    try:
        with no_grad():
            graph, _ = capture(fn, args, kw, names, fullgraph=True)
    finally:
        _EXPORTING[0] = False
        if is_module:
            model.train(was_training)
    from ..compiler.passes import dead_code
    graph = dead_code(graph)
    export_graph(graph, names, list(input_names or []), list(output_names or []), dict(dynamic_axes or {}), opset,
                 export_params, f, type(model).__name__ if is_module else getattr(model, "__name__", "graph"))
    if verbose:
        print(graph)
    return None
