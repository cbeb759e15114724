"""``ONNXProgram`` (``torch.onnx.ONNXProgram``): what ``export`` returns: the ONNX model in memory, which can be
saved (weights inline or in a ``.data`` file beside it), run in onnxruntime, and simplified further."""
import copy
import os

import numpy as np

_LARGE_MODEL = 2 ** 31  # bytes of initializers past which a protobuf file cannot hold them


def _initializer_bytes(graph):
    return sum(len(t.raw_data) if t.raw_data else 0 for t in graph.initializer)


class ONNXProgram:
    """An exported model. ``model_proto`` (and ``model``) is its ``onnx.ModelProto``; ``save`` writes it;
    calling it runs it in onnxruntime on minitorch tensors and gives a list of tensors back."""

    def __init__(self, model_proto, exported_program=None):
        self.model_proto = model_proto
        self.exported_program = exported_program  # minitorch exports from its own captured graph
        self._session = None

    @property
    def model(self):
        return self.model_proto

    def __repr__(self):
        from onnx import printer
        return f"ONNXProgram(\n    model=\n{printer.to_text(self.model_proto)}\n)"

    # files ------------------------------------------------------------------------------------------------------
    def save(self, destination, *, include_initializers=True, keep_initializers_as_inputs=False, external_data=None):
        """Write the model to the path ``destination``. With ``external_data=True``, or when the weights pass 2 GB,
        the initializers of 1 KB and more go to ``<file name>.data`` beside it (onnx and onnxruntime read them from
        there). ``include_initializers=False`` leaves the weights out; ``keep_initializers_as_inputs=True`` lists them as
        graph inputs too, so that a caller can pass other weights."""
        import onnx
        if external_data and not isinstance(destination, (str, os.PathLike)):
            raise TypeError("The destination must be a file path when external_data is True, got "
                            + type(destination).__name__)
        proto = self._with_initializers(include_initializers, keep_initializers_as_inputs)
        if not isinstance(destination, (str, os.PathLike)):
            destination.write(proto.SerializeToString())
            return
        path = os.fspath(destination)
        if external_data or _initializer_bytes(proto.graph) > _LARGE_MODEL:
            location = os.path.basename(path) + ".data"
            data = os.path.join(os.path.dirname(path), location)
            if os.path.exists(data):
                os.remove(data)  # onnx appends to an existing file
            # tensors under 1 KB (shape vectors, which onnxruntime must read while loading) stay in the model
            onnx.save_model(proto, path, save_as_external_data=True, all_tensors_to_one_file=True, location=location,
                            size_threshold=1024)
        else:
            onnx.save_model(proto, path)

    def _with_initializers(self, include, as_inputs):
        proto = copy.deepcopy(self.model_proto)  # saving with external data rewrites the tensors in place
        g = proto.graph
        if as_inputs:
            from onnx import helper
            have = {i.name for i in g.input}
            for t in g.initializer:
                if t.name not in have:
                    g.input.append(helper.make_tensor_value_info(t.name, t.data_type, list(t.dims)))
        if not include:
            del g.initializer[:]
        return proto

    def apply_weights(self, state_dict):
        """Replace the initializers named like ``state_dict``'s keys with its tensors (same shapes and dtypes)."""
        from onnx import numpy_helper
        inits = {t.name: t for t in self.model_proto.graph.initializer}
        for name, value in state_dict.items():
            t = inits.get(name)
            if t is None:
                continue
            arr = np.ascontiguousarray(value.detach().cpu().numpy() if hasattr(value, "detach") else value)
            old = numpy_helper.to_array(t)
            if arr.shape != old.shape or arr.dtype != old.dtype:
                raise ValueError(f"apply_weights: {name!r} is {old.dtype}{list(old.shape)} in the model, got "
                                 f"{arr.dtype}{list(arr.shape)}")
            t.CopyFrom(numpy_helper.from_array(arr, name))
        self.release()

    def optimize(self):
        """Simplify the graph in place: an ``Identity`` is bypassed (one that names a graph output gives its name
        to the node that computes the value, when nothing else reads it), nodes whose outputs nothing reads are
        dropped, and initializers nothing reads are removed."""
        g = self.model_proto.graph
        outputs = {o.name for o in g.output}
        _name_outputs_at_their_producers(g, outputs)
        rename = {}
        keep = []
        for n in g.node:
            for i, name in enumerate(n.input):
                if name in rename:
                    n.input[i] = rename[name]
            if n.op_type == "Identity" and n.output[0] not in outputs and not n.domain:
                rename[n.output[0]] = n.input[0]
            else:
                keep.append(n)
        used = set(outputs)
        live = []
        for n in reversed(keep):  # nodes are in topological order: walk back from the outputs
            if any(o in used for o in n.output) or not n.output:
                live.append(n)
                used.update(x for x in n.input if x)
                used.update(_subgraph_inputs(n))
        live.reverse()
        del g.node[:]
        g.node.extend(live)
        inits = [t for t in g.initializer if t.name in used or t.name in {i.name for i in g.input}]
        if len(inits) != len(g.initializer):
            del g.initializer[:]
            g.initializer.extend(inits)
        self.release()

    # running ----------------------------------------------------------------------------------------------------
    def initialize_inference_session(self, initializer=None):
        """Start the onnxruntime session ``__call__`` uses (``initializer(model_bytes)`` makes it, when given)."""
        data = self.model_proto.SerializeToString()
        if initializer is None:
            import onnxruntime as ort
            self._session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
        else:
            self._session = initializer(data)

    def release(self):
        """Drop the onnxruntime session (the next call starts a new one)."""
        self._session = None

    def __call__(self, *args, **kwargs):
        """Run the model in onnxruntime on the tensors among ``args`` and ``kwargs`` (in order) and return its
        outputs as a tuple of minitorch tensors."""
        if self._session is None:
            self.initialize_inference_session()
        names = [i.name for i in self._session.get_inputs()]
        return tuple(_from_numpy(o) for o in self._session.run(None, _feeds(names, args, kwargs)))

    def call_reference(self, *args, **kwargs):
        """Run the model in ``onnx.reference`` (the ONNX specification's Python evaluator) instead."""
        from onnx.reference import ReferenceEvaluator
        names = [i.name for i in self.model_proto.graph.input]
        out = ReferenceEvaluator(self.model_proto).run(None, _feeds(names, args, kwargs))
        return tuple(_from_numpy(np.asarray(o)) for o in out)


def _feeds(names, args, kwargs):
    from ..compiler.ir import leaves
    from ..tensor import Tensor
    inputs = [t for t in leaves((args, kwargs)) if t is not None]
    if len(inputs) != len(names):
        raise ValueError(f"the model takes {len(names)} inputs ({', '.join(names)}), got {len(inputs)}")
    return {n: (t.detach().cpu().numpy() if isinstance(t, Tensor) else np.asarray(t)) for n, t in zip(names, inputs)}


def _from_numpy(a):
    from ..creation import tensor
    return tensor(np.ascontiguousarray(a))

def _name_outputs_at_their_producers(g, outputs):
    reads = {}
    for n in g.node:
        for x in list(n.input) + _subgraph_inputs(n):
            reads[x] = reads.get(x, 0) + 1
    producer = {o: n for n in g.node for o in n.output}
    drop = []
    for n in g.node:
        if n.op_type != "Identity" or n.domain or n.output[0] not in outputs:
            continue
        src = n.input[0]
        p = producer.get(src)
        if p is None or src in outputs or reads.get(src, 0) != 1:
            continue
        p.output[list(p.output).index(src)] = n.output[0]
        producer[n.output[0]] = p
        drop.append(n)
    for n in drop:
        g.node.remove(n)


def _subgraph_inputs(node):
    """Names a node's graph attributes (an ``If``'s branches) read from the enclosing graph."""
    out = []
    for a in node.attribute:
        for g in ([a.g] if a.HasField("g") else []) + list(a.graphs):
            for n in g.node:
                out += [x for x in n.input if x]
                out += _subgraph_inputs(n)
    return out
