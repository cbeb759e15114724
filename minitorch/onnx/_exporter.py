"""ONNX export from a captured graph: each node of ``minitorch.compiler``'s IR maps to ONNX operators.

The model is captured once (in eval mode, without autograd) with the compiler's recorder; parameters and buffers
become initializers under their ``state_dict`` names, other constants initializers named ``const_<n>``. A node with
no mapping stops the export with a RuntimeError naming the op and the line that called it.
"""
import inspect
import math
import warnings

import numpy as np


def _onnx():
    try:
        import onnx
        from onnx import helper, numpy_helper
    except ImportError as e:
        raise ModuleNotFoundError("minitorch.onnx.export needs the onnx package: pip install 'minitorch[onnx]' "
                                  "(or pip install onnx)") from e
    return onnx, helper, numpy_helper


_DTYPES = {"float32": 1, "uint8": 2, "int8": 3, "int16": 5, "int32": 6, "int64": 7, "bool": 9, "float16": 10,
           "float64": 11, "bfloat16": 16}
_UNARY = {"exp": "Exp", "log": "Log", "tanh": "Tanh", "sigmoid": "Sigmoid", "relu": "Relu", "neg": "Neg",
          "sqrt": "Sqrt", "abs": "Abs", "sin": "Sin", "cos": "Cos", "erf": "Erf", "reciprocal": "Reciprocal",
          "floor": "Floor", "ceil": "Ceil", "sign": "Sign", "tan": "Tan", "asin": "Asin", "acos": "Acos",
          "atan": "Atan", "sinh": "Sinh", "cosh": "Cosh"}
_BINARY = {"add": "Add", "sub": "Sub", "mul": "Mul", "div": "Div", "pow": "Pow", "maximum": "Max", "minimum": "Min"}
_COMPARE = {"eq": ("Equal", False), "ne": ("Equal", True), "lt": ("Less", False), "gt": ("Greater", False),
            "le": ("LessOrEqual", False), "ge": ("GreaterOrEqual", False)}  # op, negated
# the integer types an elementwise operator takes, from which opset (ONNX's type constraints: an integer op
# outside them makes a file onnxruntime refuses); operators not named take floating types only
_SMALL_INTS = ("int8", "uint8", "int16")
_INT_TYPES = {
    "Add": ((7, ("int32", "int64")), (14, _SMALL_INTS)), "Sub": ((7, ("int32", "int64")), (14, _SMALL_INTS)),
    "Mul": ((7, ("int32", "int64")), (14, _SMALL_INTS)), "Div": ((7, ("int32", "int64")), (14, _SMALL_INTS)),
    "Pow": ((12, ("int32", "int64")),), "Max": ((12, ("int32", "int64") + _SMALL_INTS),),
    "Min": ((12, ("int32", "int64") + _SMALL_INTS),), "Relu": ((14, ("int32", "int64", "int8", "int16")),),
    "Neg": ((6, ("int32", "int64", "int8", "int16")),), "Abs": ((6, ("int32", "int64") + _SMALL_INTS),),
    "Sign": ((9, ("int32", "int64") + _SMALL_INTS),)}
_IDENTITY_FUNCTIONAL = {"dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout"}


def _np(t):
    return t.detach().cpu().numpy()


class _Builder:
    """The ONNX graph under construction: names of values, nodes, initializers."""

    def __init__(self, helper, numpy_helper, opset):
        self.helper, self.numpy_helper, self.opset = helper, numpy_helper, opset
        self.names = {}
        self.nodes = []
        self.initializers = []
        self.count = 0
        self.export_params = True
        self.param_inputs = []

    def fresh(self, hint):
        self.count += 1
        return f"{hint}_{self.count}"

    def name(self, v):
        n = self.names.get(id(v))
        if n is None:
            n = self.names[id(v)] = self.fold(v)
        return n

    def fold(self, v):
        if v.kind == "const":   # written when first read, so unused constants stay out of the file
            label = v.label or self.fresh("const")
            if v.label and not self.export_params:
                self.param_inputs.append((label, v))
            else:
                self.initializers.append(self.numpy_helper.from_array(np.ascontiguousarray(_np(v.tensor)), label))
            return label
        """A value computed from constants alone (a causal mask, a slice of a buffer) as an initializer."""
        t = v.tensor
        if not v.static or v.stale or t is None or t._vc[0] != v.version:
            raise RuntimeError(f"minitorch.onnx.export: the value {v.name()} has no ONNX producer")
        return self.const(np.ascontiguousarray(_np(t)), "folded")

    def const(self, array, hint="const"):
        name = self.fresh(hint)
        self.initializers.append(self.numpy_helper.from_array(np.asarray(array), name))
        return name

    def op(self, op_type, inputs, outputs=None, **attrs):
        outputs = outputs or [self.fresh(op_type.lower())]
        self.nodes.append(self.helper.make_node(op_type, inputs, outputs, name=self.fresh("n_" + op_type),
                                                **attrs))
        return outputs[0]

    def ints(self, values, hint="ints"):
        return self.const(np.array([int(v) for v in values], np.int64), hint)

    def squeeze(self, op_type, x, axes):
        """Squeeze/Unsqueeze: the axes an input from opset 13, an attribute before."""
        if self.opset >= 13:
            return self.op(op_type, [x, self.ints(axes, "axes")])
        return self.op(op_type, [x], axes=[int(a) for a in axes])


def _bound(node):
    """A functional node's arguments by parameter name, with defaults filled in."""
    sig = inspect.signature(node.target)
    b = sig.bind(*node.args, **node.kwargs)
    b.apply_defaults()
    return b.arguments


def _pair(v, n=2):
    return list(v) if isinstance(v, (tuple, list)) else [v] * n


def _convert(b, node):
    """Emit ONNX nodes for one IR node; returns the ONNX name of each output Value (in order)."""
    from ..compiler.ir import Value
    kind, name = node.kind, node.name
    def ins():  # named on use: a constant no operator reads stays out of the file
        return [b.name(a) if isinstance(a, Value) else a for a in node.args]
    out = node.outputs[0]
    if kind == "functional":
        a = _bound(node)
        x = b.name(node.args[0]) if isinstance(node.args[0], Value) else None
        if name in _IDENTITY_FUNCTIONAL and not a.get("training", True):
            return [b.op("Identity", [x])]
        if name == "linear":
            w, bias = b.name(a["weight"]), a.get("bias")
            if len(a["input"].shape) == 2:
                return [b.op("Gemm", [x, w] + ([b.name(bias)] if bias is not None else []), transB=1)]
            y = b.op("MatMul", [x, b.op("Transpose", [w], perm=[1, 0])])
            return [b.op("Add", [y, b.name(bias)]) if bias is not None else y]
        if name in _ACTIVATIONS:
            return [_activation(b, name, x, a, _ft(node.args[0]))]
        if name in ("log_softmax", "softmax"):
            dim = a.get("dim")
            rank = len(node.args[0].shape)
            return [_softmax(b, "LogSoftmax" if name == "log_softmax" else "Softmax", x,
                             dim if dim is not None else (0 if rank in (0, 1, 3) else 1), rank)]
        if name in ("max_pool2d", "avg_pool2d") and not a.get("return_indices"):
            k = _pair(a["kernel_size"])
            s = _pair(a["stride"]) if a.get("stride") not in (None, [], ()) else k
            p = _pair(a["padding"])
            attrs = dict(kernel_shape=k, strides=s, pads=p + p, ceil_mode=int(bool(a.get("ceil_mode", False))))
            if name == "max_pool2d":
                attrs["dilations"] = _pair(a.get("dilation", 1))
                return [b.op("MaxPool", [x], **attrs)]
            if a.get("divisor_override"):
                raise _unsupported(node, "avg_pool2d with divisor_override")
            return [b.op("AveragePool", [x], count_include_pad=int(bool(a.get("count_include_pad", True))),
                         **attrs)]
        if name == "adaptive_avg_pool2d":
            # the pooling nn.AdaptiveAvgPool2d records where the output size divides the input's (over the whole
            # input a GlobalAveragePool, which any size takes); otherwise the layer is made of other ops
            src = node.args[0]
            (h, w), (oh, ow) = src.shape[-2:], out.shape[-2:]
            if h % oh or w % ow:
                raise _unsupported(node, f"an output size {oh}x{ow} that does not divide the input's {h}x{w} (the "
                                         "module form, nn.AdaptiveAvgPool2d, exports it)")
            k = [h // oh, w // ow]
            batched = b.squeeze("Unsqueeze", x, [0]) if len(src.shape) == 3 else x
            y = _avg_pool(b, batched, [h, w], k, k, [0, 0], False, True)
            return [b.squeeze("Squeeze", y, [0]) if len(src.shape) == 3 else y]
        if name == "batch_norm" and not a.get("training"):
            c = node.args[0].shape[1]
            ft = _ft(node.args[0])
            w = b.name(a["weight"]) if a.get("weight") is not None else b.const(np.ones(c, ft), "bn_ones")
            bias = b.name(a["bias"]) if a.get("bias") is not None else b.const(np.zeros(c, _ft(node.args[0])),
                                                                               "bn_zeros")
            return [b.op("BatchNormalization", [x, w, bias, b.name(a["running_mean"]), b.name(a["running_var"])],
                         epsilon=float(a["eps"]))]
        if name == "embedding" and a.get("max_norm") is None:
            return [b.op("Gather", [b.name(a["weight"]), b.name(a["input"])], axis=0)]
        if name == "layer_norm":
            shape = list(a["normalized_shape"]) if isinstance(a["normalized_shape"], (tuple, list)) else \
                [a["normalized_shape"]]
            ft = _ft(node.args[0])
            w = b.name(a["weight"]) if a.get("weight") is not None else b.const(np.ones(shape, ft), "ln1")
            bias = b.name(a["bias"]) if a.get("bias") is not None else b.const(np.zeros(shape, _ft(node.args[0])),
                                                                               "ln0")
            if b.opset >= 17:
                return [b.op("LayerNormalization", [x, w, bias], axis=-len(shape), epsilon=float(a["eps"]))]
            # opsets before 17: its definition, over the last len(shape) axes
            axes = list(range(-len(shape), 0))
            d = b.op("Sub", [x, _reduce(b, "ReduceMean", x, axes, True)])
            var = _reduce(b, "ReduceMean", b.op("Mul", [d, d]), axes, True)
            std = b.op("Sqrt", [b.op("Add", [var, b.const(_ft(node.args[0])(a["eps"]), "eps")])])
            return [b.op("Add", [b.op("Mul", [b.op("Div", [d, std]), w]), bias])]
        if name == "pad":
            return [_pad(b, node, x, a)]
        if name in ("pixel_shuffle", "pixel_unshuffle"):
            return [_shuffle(b, node, x)]
        if name in _MORE_FUNCTIONAL:
            return [_more_functional(b, node, name, x, a)]
        if name == "instance_norm":
            c = node.args[0].shape[1]
            ft = _ft(node.args[0])
            w = b.name(a["weight"]) if a.get("weight") is not None else b.const(np.ones(c, ft), "in_ones")
            bias = b.name(a["bias"]) if a.get("bias") is not None else b.const(np.zeros(c, _ft(node.args[0])),
                                                                               "in_zeros")
            if a.get("use_input_stats", True):
                return [b.op("InstanceNormalization", [x, w, bias], epsilon=float(a["eps"]))]
            return [b.op("BatchNormalization", [x, w, bias, b.name(a["running_mean"]), b.name(a["running_var"])],
                         epsilon=float(a["eps"]))]
        if name == "interpolate":
            return [_resize(b, node, x, a)]
        if name == "multi_head_attention_forward":
            return _mha(b, node, a)
        if name == "flatten":
            return [_reshape(b, x, out.shape, node.args[0].shape)]
        raise _unsupported(node)
    if kind == "function":
        cls = node.target.__self__
        op = getattr(cls, "op", None)
        if op in _UNARY and len(ins()) == 1:
            return [_typed(b, node, _UNARY[op], ins())]
        if op in _BINARY:
            return [_typed(b, node, _BINARY[op], ins()[:2])]
        cname = cls.__name__
        if cname == "_Pointwise" and getattr(node.args[1], "__name__", "") in _POINTWISE:  # (x, forward, gradient)
            return [b.op(_POINTWISE[node.args[1].__name__], ins()[:1])]
        if cname == "Conv2d":
            x, w, bias, stride, padding, dilation, groups = node.args[:7]
            if isinstance(padding, str):
                raise _unsupported(node, f"padding={padding!r}")
            p = _pair(padding)
            return [b.op("Conv", [b.name(x), b.name(w)] + ([b.name(bias)] if bias is not None else []),
                         strides=_pair(stride), pads=p + p, dilations=_pair(dilation), group=int(groups),
                         kernel_shape=list(w.shape[2:]))]
        if cname == "ConvTranspose":  # 2-D and 3-D; PyTorch's weight layout (Cin, Cout/groups, *k) is ONNX's
            x, w, bias, stride, padding, output_padding, dilation, groups = node.args[:8]
            nd = len(x.shape) - 2
            p = _pair(padding, nd)
            return [b.op("ConvTranspose", [b.name(x), b.name(w)] + ([b.name(bias)] if bias is not None else []),
                         strides=_pair(stride, nd), pads=p + p, dilations=_pair(dilation, nd), group=int(groups),
                         output_padding=_pair(output_padding, nd), kernel_shape=list(w.shape[2:]))]
        if cname == "MaxPool2d":
            x, k, s, p, d, ceil = node.args[:6]
            if len(node.outputs) > 1 and node.outputs[1].users:
                raise _unsupported(node, "max_pool2d indices")
            y = b.op("MaxPool", [b.name(x)], kernel_shape=_pair(k), strides=_pair(s), pads=_pair(p) + _pair(p),
                     dilations=_pair(d), ceil_mode=int(bool(ceil)))
            return [y] + [None] * (len(node.outputs) - 1)
        if cname == "AvgPool2d":
            x, k, s, p, ceil, include_pad, divisor = node.args[:7]
            if divisor:
                raise _unsupported(node, "divisor_override")
            return [_avg_pool(b, b.name(x), list(x.shape[2:]), _pair(k), _pair(s), _pair(p), ceil, include_pad)]
        if cname == "MatMul":
            return [b.op("MatMul", ins()[:2])]
        if cname == "Permute":
            return [b.op("Transpose", [ins()[0]], perm=[int(d) for d in node.args[1]])]
        if cname in ("View", "Reshape", "Flatten", "Unsqueeze", "Squeeze", "Unflatten"):
            return [_reshape(b, ins()[0], out.shape, node.args[0].shape)]
        if cname == "Softmax":
            x, dim, log = node.args[:3]
            return [_softmax(b, "LogSoftmax" if log else "Softmax", b.name(x), dim, len(x.shape))]
        if cname == "ToCopy" and node.args[1].name in _DTYPES:
            return [b.op("Cast", ins()[:1], to=_DTYPES[node.args[1].name])]
        if cname == "Where":
            return [b.op("Where", ins()[:3])]
        if cname == "Flip":
            dims = [int(d) for d in node.args[1]]
            big = np.iinfo(np.int64)
            return [b.op("Slice", [ins()[0], b.ints([-1] * len(dims), "starts"),
                                   b.ints([big.min] * len(dims), "ends"), b.ints(dims, "axes"),
                                   b.ints([-1] * len(dims), "steps")])]
        if cname == "CumSum":
            return [b.op("CumSum", [ins()[0], b.const(np.array(int(node.args[1]), np.int64), "axis")])]
        if cname == "Expand":
            return [b.op("Expand", [ins()[0], b.ints(node.args[1], "shape")])]
        if cname in ("Prod", "Norm2"):  # (x, dims, keepdim); dims empty: every dimension
            x, dims, keep = node.args[:3]
            dims = list(dims) if dims else list(range(len(x.shape)))
            return [_reduce(b, "ReduceProd" if cname == "Prod" else "ReduceL2", b.name(x), dims, keep)]
        if cname in ("Sum", "Mean"):
            x, dims, keep = node.args[:3]
            return [_reduce(b, "ReduceSum" if cname == "Sum" else "ReduceMean", b.name(x), dims, keep)]
        if cname == "AMax" and node.args[3] in ("amax", "amin"):
            x, dims, keep = node.args[:3]
            return [_reduce(b, "ReduceMax" if node.args[3] == "amax" else "ReduceMin", b.name(x), dims, keep)]
        if cname == "Cat":  # (dim, *tensors); torch.stack is unsqueezes and a Cat
            parts = [b.name(t) for t in node.args[1:] if isinstance(t, Value) and math.prod(t.shape)]
            if not parts:
                raise _unsupported(node, "cat of empty tensors")
            return [b.op("Concat", parts, axis=int(node.args[0]) % len(out.shape))]
        if cname == "Select" and type(node.args[3]).__name__ == "_Pick":  # max/min along a dim: values, indices
            pick = node.args[3]
            big, x = pick.name == "argmax", node.args[0]
            values = _reduce(b, "ReduceMax" if big else "ReduceMin", b.name(x), [pick.dim], pick.keepdim)
            idx = b.op("ArgMax" if big else "ArgMin", [b.name(x)], axis=int(pick.dim), keepdims=int(bool(pick.keepdim)))
            return [values, idx]
        if cname == "Contiguous":   # (ONNX values have no layout: a transposed value is already dense)
            return [b.op("Identity", ins()[:1])]
        if cname == "Gelu":
            return [_activation(b, "gelu", ins()[0], {}, _ft(node.args[0]))]
        if cname == "Clamp":
            x, lo, hi = node.args[:3]
            if all(v is None or isinstance(v, Value) and not v.shape for v in (lo, hi)) and b.opset >= 11:
                return [b.op("Clip", [b.name(x), b.name(lo) if lo is not None else "",
                                      b.name(hi) if hi is not None else ""])]
            y = b.name(x)
            y = b.op("Max", [y, b.name(lo)]) if lo is not None else y
            return [b.op("Min", [y, b.name(hi)]) if hi is not None else y]
        x = node.args[0] if node.args else None
        if isinstance(x, Value) and len(node.outputs) == 1 and out.geom[2] == x.geom[2] and x.contig:
            # a view primitive (select, narrow, slicing, squeeze ...): read off the output's layout
            y = _slice_view(b, b.name(x), x.shape, out.shape, out.geom[0], out.geom[1] - x.geom[1])
            if y is not None:
                return [y]
        raise _unsupported(node)
    if kind == "launcher":
        if name in ("unary",) and node.args[0] in _UNARY and not node.kwargs:
            return [_typed(b, node, _UNARY[node.args[0]], [ins()[1]])]
        if name == "unary" and node.args[0] in ("rsqrt", "square") and not node.kwargs:
            x = ins()[1]
            return [b.op("Reciprocal", [b.op("Sqrt", [x])]) if node.args[0] == "rsqrt" else b.op("Mul", [x, x])]
        if name in ("binary", "binary_same") and node.args[0] in _BINARY and not node.kwargs.get("family"):
            return [_typed(b, node, _BINARY[node.args[0]], ins()[1:3])]
        if name == "argreduce" and node.args[0] in ("argmax", "argmin") and not node.kwargs:
            _, x, dim, keep = node.args
            src, axis, rank = b.name(x), dim, len(x.shape)
            if dim is None:  # over the flattened tensor
                src, axis, keep, rank = _reshape(b, src, (math.prod(x.shape),), x.shape), 0, False, 1
            big = node.args[0] == "argmax"
            idx = b.op("ArgMax" if big else "ArgMin", [src], axis=int(axis) % max(rank, 1), keepdims=int(bool(keep)))
            values = _reduce(b, "ReduceMax" if big else "ReduceMin", src, [axis], keep) if node.outputs[0].users \
                else None
            return [values, idx]
        if name == "unary" and node.args[0] in _UNARY_COMPOSED and node.kwargs.get("family") in (None, "predicate"):
            return [_unary_composed(b, node, node.args[0], ins()[1])]
        if name in ("binary", "binary_same") and node.args[0] in ("fmod", "remainder", "floor_divide") and \
                not node.kwargs.get("family"):
            return [_division(b, node, node.args[0], *ins()[1:3])]
        if name == "binary" and node.kwargs.get("family") == "compare" and node.args[0] in _LOGICAL:
            a, c = (_truth(b, v, n) for v, n in zip(node.args[1:3], ins()[1:3]))
            return [b.op(_LOGICAL[node.args[0]], [a, c])]
        if name == "reduce" and node.args[0] in ("sum", "prod", "amax", "amin", "all", "any"):
            op, x, dims = node.args[:3]
            keep = node.args[3] if len(node.args) > 3 else node.kwargs.get("keepdim", False)
            dims = list(dims) if dims else list(range(len(x.shape)))
            src = b.name(x)
            if op in ("all", "any"):   # the truth of each element as int32, its minimum (all) or maximum (any)
                # (compared with 0, not cast: over an empty dimension ReduceMax gives INT32_MIN, which is not true)
                y = _reduce(b, "ReduceMin" if op == "all" else "ReduceMax", b.op("Cast", [_truth(b, x, src)], to=6),
                            dims, keep)
                y = b.op("Greater", [y, b.const(np.zeros((), np.int32), "zero")])
                return [y if out.dtype.name == "bool" else b.op("Cast", [y], to=_DTYPES[out.dtype.name])]
            if x.dtype.name != out.dtype.name:  # (a sum of bools or small integers is an int64)
                src = b.op("Cast", [src], to=_DTYPES[out.dtype.name])
            onnx_op = {"sum": "ReduceSum", "prod": "ReduceProd", "amax": "ReduceMax", "amin": "ReduceMin"}[op]
            return [_reduce(b, onnx_op, src, dims, keep)]
        if name == "binary" and node.kwargs.get("family") == "compare" and node.args[0] in _COMPARE:
            op, negate = _COMPARE[node.args[0]]
            if b.opset < 12 and op.endswith("OrEqual"):   # a >= b as not (a < b), a <= b as not (a > b)
                op, negate = ("Less" if op == "GreaterOrEqual" else "Greater"), True
            y = b.op(op, ins()[1:3])
            return [b.op("Not", [y]) if negate else y]
        raise _unsupported(node)
    if kind == "op" and name in ("topk", "sort", "argsort"):
        # TopK: the k largest (or smallest) along an axis, sorted, ties in index order as a stable sort gives them
        a = _bound(node)
        x = node.args[0]
        rank = len(x.shape)
        dim = int(a.get("dim", -1)) % max(rank, 1)
        if name == "topk":
            k, largest, ordered = int(a["k"]), a.get("largest", True), a.get("sorted", True)
        else:
            k, largest, ordered = x.shape[dim] if rank else 1, a.get("descending", False), True
        outs = [b.fresh("values"), b.fresh("indices")]
        b.op("TopK", [b.name(x), b.ints([k], "k")], outputs=outs, axis=dim, largest=int(bool(largest)),
             sorted=int(bool(ordered)))
        return [outs[1]] if name == "argsort" else outs
    if kind == "module" and name in ("RNN", "LSTM", "GRU"):
        return _rnn(b, node)
    if kind == "view":
        base, shape, stride, delta = node.args
        from ..tensor import _is_contig
        if delta == 0 and _is_contig(tuple(shape), tuple(stride)) and \
                int(np.prod(shape)) == int(np.prod(base.shape)) and _base_contiguous(base):
            return [_reshape(b, b.name(base), tuple(shape), base.shape)]
        if _base_contiguous(base):
            y = _slice_view(b, b.name(base), base.shape, tuple(shape), tuple(stride), delta)
            if y is not None:
                return [y]
        y = _permuted_view(b, base, tuple(shape), tuple(stride), delta)
        if y is not None:
            return [y]
        raise _unsupported(node, "a strided view (slicing)")
    raise _unsupported(node)


_GATE_ORDER = {"LSTM": (0, 3, 1, 2), "GRU": (1, 0, 2), "RNN_TANH": (0,), "RNN_RELU": (0,)}  # PyTorch -> ONNX


def _rnn(b, node):
    """nn.RNN/LSTM/GRU as one ONNX RNN/LSTM/GRU operator per layer (gates reordered to ONNX's i,o,f,c / z,r,h)."""
    from ..compiler.ir import Value
    mod, x = node.args[0], node.args[1]
    hx = node.args[2] if len(node.args) > 2 else node.kwargs.get("hx")
    if not isinstance(x, Value):
        raise _unsupported(node, "a PackedSequence input")
    if mod.proj_size:
        raise _unsupported(node, "proj_size")
    mode, H, L = mod.mode, mod.hidden_size, mod.num_layers
    D = 2 if mod.bidirectional else 1
    order = _GATE_ORDER[mode]
    op = {"LSTM": "LSTM", "GRU": "GRU"}.get(mode, "RNN")
    lstm = op == "LSTM"
    h0 = c0 = None
    if hx is not None:
        h0, c0 = (hx if lstm else (hx, None))
    unbatched = len(x.shape) == 2
    xs = b.name(x)
    if unbatched:
        xs = b.squeeze("Unsqueeze", xs, [1])
    elif mod.batch_first:
        xs = b.op("Transpose", [xs], perm=[1, 0, 2])

    def state(v):
        s = b.name(v)
        return b.squeeze("Unsqueeze", s, [1]) if unbatched else s

    def gates(w):
        a = _np(w)
        chunks = np.split(a, len(order), axis=0)
        return np.concatenate([chunks[i] for i in order], axis=0)

    h_states, c_states = [], []
    h_all = state(h0) if h0 is not None else None
    c_all = state(c0) if c0 is not None else None
    for layer in range(L):
        Ws, Rs, Bs = [], [], []
        for d in range(D):
            sfx = f"_l{layer}" + ("_reverse" if d else "")
            Ws.append(gates(getattr(mod, "weight_ih" + sfx)))
            Rs.append(gates(getattr(mod, "weight_hh" + sfx)))
            if mod.bias:
                Bs.append(np.concatenate([gates(getattr(mod, "bias_ih" + sfx)), gates(getattr(mod, "bias_hh" + sfx))]))
            else:
                Bs.append(np.zeros(2 * len(order) * H, Ws[-1].dtype))
        ins = [xs, b.const(np.stack(Ws), f"rnn_W_l{layer}"), b.const(np.stack(Rs), f"rnn_R_l{layer}"),
               b.const(np.stack(Bs), f"rnn_B_l{layer}"), ""]

        def piece(all_states):
            if all_states is None:
                return ""
            return b.op("Slice", [all_states, b.const(np.array([layer * D], np.int64), "starts"),
                                  b.const(np.array([(layer + 1) * D], np.int64), "ends"),
                                  b.const(np.array([0], np.int64), "axes")])
        ins.append(piece(h_all))
        if lstm:
            ins.append(piece(c_all))
        while ins and ins[-1] == "":
            ins.pop()
        outs = [b.fresh("rnn_y"), b.fresh("rnn_h")] + ([b.fresh("rnn_c")] if lstm else [])
        attrs = dict(hidden_size=H, direction="bidirectional" if D == 2 else "forward")
        if op == "RNN":
            attrs["activations"] = ["Tanh" if mode == "RNN_TANH" else "Relu"] * D
        if op == "GRU":
            attrs["linear_before_reset"] = 1
        b.op(op, ins, outs, **attrs)
        y = b.op("Transpose", [outs[0]], perm=[0, 2, 1, 3])          # (T, B, D, H)
        xs = b.op("Reshape", [y, b.const(np.array([0, 0, -1], np.int64), "shape")])
        h_states.append(outs[1])
        if lstm:
            c_states.append(outs[2])
    out = xs
    h_n = h_states[0] if L == 1 else b.op("Concat", h_states, axis=0)
    c_n = (c_states[0] if L == 1 else b.op("Concat", c_states, axis=0)) if lstm else None
    if unbatched:
        out = b.squeeze("Squeeze", out, [1])
        h_n = b.squeeze("Squeeze", h_n, [1])
        c_n = b.squeeze("Squeeze", c_n, [1]) if lstm else None
    elif mod.batch_first:
        out = b.op("Transpose", [out], perm=[1, 0, 2])
    return [out, h_n] + ([c_n] if lstm else [])


def _mha(b, node, a):
    """nn.MultiheadAttention's functional form (batched, packed or separate projections, optional float/bool
    attention mask, need_weights off or unused) from MatMul/Softmax."""
    from ..compiler.ir import Value
    if len(a["query"].shape) != 3 or a.get("bias_k") is not None or a.get("add_zero_attn") or \
            a.get("static_k") is not None or a.get("key_padding_mask") is not None:
        raise _unsupported(node, "this attention configuration")
    if len(node.outputs) > 1 and any(v.users for v in node.outputs[1:]):
        raise _unsupported(node, "attention weights output")
    L, N, E = a["query"].shape
    S = a["key"].shape[0]
    H = int(a["num_heads"])
    hd = E // H

    def val(v):
        return np.asarray(_np(v.tensor if v.kind == "const" or v.static else None))

    def weights():
        if a.get("use_separate_proj_weight"):
            return [val(a[k]) for k in ("q_proj_weight", "k_proj_weight", "v_proj_weight")]
        return np.split(val(a["in_proj_weight"]), 3)
    ws = weights()
    bs = np.split(val(a["in_proj_bias"]), 3) if a.get("in_proj_bias") is not None else [None] * 3

    def proj(x, w, bias, rows):
        y = b.op("MatMul", [b.name(x), b.const(np.ascontiguousarray(w.T), "w")])
        if bias is not None:
            y = b.op("Add", [y, b.const(bias, "b")])
        # (0 keeps the length, -1 the batch times the heads: no size of a dynamic axis written into the file)
        y = b.op("Reshape", [y, b.const(np.array([0, -1, hd], np.int64), "shape")])
        return b.op("Transpose", [y], perm=[1, 0, 2])          # (N*H, rows, hd)
    q = proj(a["query"], ws[0], bs[0], L)
    k = proj(a["key"], ws[1], bs[1], S)
    v = proj(a["value"], ws[2], bs[2], S)
    scores = b.op("MatMul", [q, b.op("Transpose", [k], perm=[0, 2, 1])])
    ft = _ft(a["query"])
    scores = b.op("Mul", [scores, b.const(ft(1.0 / np.sqrt(hd)), "scale")])
    mask = a.get("attn_mask")
    if isinstance(mask, Value):
        if mask.dtype.name == "bool":
            m = b.op("Where", [b.name(mask), b.const(ft(-np.inf), "ninf"), b.const(ft(0), "zero")])
        else:
            m = b.name(mask)
        if len(mask.shape) == 3:
            m = b.op("Reshape", [m, b.const(np.array([N * H, L, S], np.int64), "shape")])
        scores = b.op("Add", [scores, m])
    elif a.get("is_causal"):
        scores = b.op("Add", [scores, b.const(np.triu(np.full((L, S), -np.inf, ft), 1), "causal")])
    att = b.op("Softmax", [scores], axis=-1)
    out = b.op("Transpose", [b.op("MatMul", [att, v])], perm=[1, 0, 2])   # (L, N*H, hd)
    out = b.op("Reshape", [out, b.const(np.array([0, -1, E], np.int64), "shape")])
    out = b.op("MatMul", [out, b.const(np.ascontiguousarray(val(a["out_proj_weight"]).T), "w")])
    if a.get("out_proj_bias") is not None:
        out = b.op("Add", [out, b.name(a["out_proj_bias"])])
    return [out] + [None] * (len(node.outputs) - 1)


def _slice_view(b, x, bshape, shape, stride, offset):
    """A view of a contiguous (bshape) tensor at ``offset`` with ``stride`` as Slice (start/end/step per base
    dimension) then Reshape; None when the view is not such a slice (a permutation, an overlapping as_strided)."""
    from ..tensor import _contiguous_strides
    bstr = _contiguous_strides(tuple(bshape))
    starts, rem = [], offset
    for d, st in zip(bshape, bstr):
        k = rem // st if st else 0
        if k >= d:
            return None
        starts.append(k)
        rem -= k * st
    if rem:
        return None
    ends = [s + 1 for s in starts]
    steps = [1] * len(bshape)
    j = 0
    mapped = []  # the base dimension each view dimension walks, in order
    kept = set()  # the view's 1-long dimensions that are a 1-long base dimension kept in place
    for i, (size, st) in enumerate(zip(shape, stride)):
        if size == 1:
            # (a batch of 1 kept by ``x[:, 0]`` stays that axis, not squeezed and put back: a dynamic batch goes on
            # following its size)
            if j < len(bshape) and bshape[j] == 1:
                mapped.append(j)
                kept.add(i)
                j += 1
            continue
        while j < len(bshape) and not (bshape[j] > 1 and st >= bstr[j] and st % bstr[j] == 0):
            j += 1
        if j == len(bshape):
            return None
        step = st // bstr[j]
        ends[j] = starts[j] + step * (size - 1) + 1
        steps[j] = step
        if ends[j] > bshape[j]:
            return None
        mapped.append(j)
        j += 1
    sliced = [len(range(s, e, st)) for s, e, st in zip(starts, ends, steps)]
    if int(np.prod(sliced)) != int(np.prod(shape)):
        return None
    # a dimension taken whole ends at "the end" (not at its size: a dynamic axis keeps following its size)
    big = np.iinfo(np.int64).max
    ends = [big if s == 0 and st == 1 and e == n else e for s, e, st, n in zip(starts, ends, steps, bshape)]
    y = b.op("Slice", [x, b.const(np.array(starts, np.int64), "starts"), b.const(np.array(ends, np.int64), "ends"),
                       b.const(np.arange(len(bshape), dtype=np.int64), "axes"),
                       b.const(np.array(steps, np.int64), "steps")])
    if tuple(sliced) != tuple(shape):
        # the base dimensions no view dimension walks are 1 long here: squeezed, and the view's own 1-long
        # dimensions put in (no constant shape, so a dynamic axis keeps following its size)
        drop = [d for d in range(len(bshape)) if d not in mapped]
        y = b.squeeze("Squeeze", y, drop) if drop else y
        ones = [d for d, n in enumerate(shape) if n == 1 and d not in kept]
        y = b.squeeze("Unsqueeze", y, ones) if ones else y
    return y


def _permuted_view(b, base, shape, stride, delta):
    """A view whose base or whose own dimensions are a permutation of a dense layout (an LSTM's batch_first output,
    ``out[:, 1:3]`` of it, a transpose made without autograd): the base transposed into its memory order, sliced
    there (or reshaped, where the view in its memory order is dense: ``x.permute(0, 2, 3, 1).reshape(N, -1, C)``
    merges H and W), and that transposed into the view's order. None when it is no such view."""
    from ..tensor import _is_contig
    bst = base.geom[0]
    pb = sorted(range(len(bst)), key=lambda d: -bst[d])
    pshape, pst = tuple(base.shape[d] for d in pb), tuple(bst[d] for d in pb)
    if not _is_contig(pshape, pst):
        return None
    q = sorted(range(len(stride)), key=lambda d: -stride[d])
    x = b.name(base) if pb == sorted(pb) else b.op("Transpose", [b.name(base)], perm=pb)
    qshape, qstride = tuple(shape[d] for d in q), tuple(stride[d] for d in q)
    y = _slice_view(b, x, pshape, qshape, qstride, delta)
    if y is None and delta == 0 and _is_contig(qshape, qstride) and math.prod(qshape) == math.prod(pshape):
        y = _reshape(b, x, qshape, pshape)
    if y is None or q == sorted(q):
        return y
    return b.op("Transpose", [y], perm=[q.index(d) for d in range(len(q))])


def _avg_pool(b, x, hw, k, s, p, ceil, include_pad):
    """AveragePool over (N, C, H, W); a window over the whole of an unpadded input is a GlobalAveragePool, which
    holds no size (a dynamic H and W keep working)."""
    if list(hw) == list(k) and list(p) == [0, 0]:
        return b.op("GlobalAveragePool", [x])
    return b.op("AveragePool", [x], kernel_shape=list(k), strides=list(s), pads=list(p) + list(p),
                ceil_mode=int(bool(ceil)), count_include_pad=int(bool(include_pad)))


def _base_contiguous(v):
    return v.contig


def _activation(b, name, x, a, ft=np.float32):
    """``ft``: the numpy type of x (of the constants written beside it)."""
    if name == "relu":
        return b.op("Relu", [x])
    if name == "sigmoid":
        return b.op("Sigmoid", [x])
    if name == "tanh":
        return b.op("Tanh", [x])
    if name == "elu":
        return b.op("Elu", [x], alpha=float(a.get("alpha", 1.0)))
    if name == "leaky_relu":
        return b.op("LeakyRelu", [x], alpha=float(a.get("negative_slope", 0.01)))
    if name == "silu":
        return b.op("Mul", [x, b.op("Sigmoid", [x])])
    if name in ("hardsigmoid", "hardswish"):
        # relu6(x + 3) / 6 is HardSigmoid at alpha 1/6, beta 1/2; HardSwish (x times that) came in opset 14.
        # onnxruntime has them for float32 only: other types get the definition, from Add, Max, Min and Mul
        if ft is np.float32 and name == "hardswish" and b.opset >= 14:
            return b.op("HardSwish", [x])
        if ft is np.float32:
            hs = b.op("HardSigmoid", [x], alpha=1.0 / 6, beta=0.5)
        else:
            hs = b.op("Min", [b.op("Max", [b.op("Add", [x, b.const(ft(3.0), "three")]), b.const(ft(0.0), "zero")]),
                              b.const(ft(6.0), "six")])
            hs = b.op("Mul", [hs, b.const(ft(1.0 / 6.0), "sixth")])
        return hs if name == "hardsigmoid" else b.op("Mul", [x, hs])
    if name in ("softplus", "mish"):
        # log(1 + exp(beta x)) / beta, and x itself where beta x passes the threshold (as the library computes it);
        # mish is x * tanh(softplus(x)) at beta 1, threshold 20
        beta, threshold = (float(a.get("beta", 1.0)), float(a.get("threshold", 20.0))) if name == "softplus" else \
            (1.0, 20.0)
        s = x if beta == 1.0 else b.op("Mul", [x, b.const(ft(beta), "beta")])
        y = b.op("Softplus", [s])
        y = y if beta == 1.0 else b.op("Div", [y, b.const(ft(beta), "beta")])
        y = b.op("Where", [b.op("Greater", [s, b.const(ft(threshold), "threshold")]), x, y])
        return y if name == "softplus" else b.op("Mul", [x, b.op("Tanh", [y])])
    if name in ("relu6", "hardtanh"):
        lo, hi = (0.0, 6.0) if name == "relu6" else (float(a.get("min_val", -1.0)), float(a.get("max_val", 1.0)))
        return b.op("Clip", [x, b.const(ft(lo), "lo"), b.const(ft(hi), "hi")])
    # gelu: exact (erf) or tanh approximation, from primitive ops (Gelu is opset 20)
    half, one = b.const(ft(0.5), "half"), b.const(ft(1.0), "one")
    if a.get("approximate", "none") == "tanh":
        inner = b.op("Mul", [x, b.op("Mul", [x, x])])
        inner = b.op("Add", [x, b.op("Mul", [inner, b.const(ft(0.044715), "c")])])
        t = b.op("Tanh", [b.op("Mul", [inner, b.const(ft(np.sqrt(2 / np.pi)), "k")])])
    else:
        t = b.op("Erf", [b.op("Div", [x, b.const(ft(np.sqrt(2.0)), "sqrt2")])])
    return b.op("Mul", [b.op("Mul", [x, half]), b.op("Add", [t, one])])


def _shuffle(b, node, x):
    """pixel_shuffle / pixel_unshuffle as the library computes them: a reshape splitting the channels (or the
    height and width) by the factor r, a transpose, a reshape (pixel_shuffle of a 4-D input is DepthToSpace in CRD
    mode, which keeps height and width free for dynamic axes)."""
    src, r = node.args[0].shape, int(node.args[1])
    *batch, C, H, W = src
    n = len(batch)
    if node.name == "pixel_shuffle":
        if n == 1:
            return b.op("DepthToSpace", [x], blocksize=r, mode="CRD")
        mid = batch + [C // (r * r), r, r, H, W]
        perm = list(range(n)) + [n, n + 3, n + 1, n + 4, n + 2]
    else:
        mid = batch + [C, H // r, r, W // r, r]
        perm = list(range(n)) + [n, n + 2, n + 4, n + 1, n + 3]
    y = b.op("Transpose", [_reshape(b, x, mid, src)], perm=perm)
    return _reshape(b, y, list(node.outputs[0].shape), src)


def _reshape(b, x, shape, in_shape):
    # a leading dimension kept from the input is written 0 (copy it), so a dynamic batch size stays dynamic
    dims = [0 if i == 0 and len(in_shape) and d == in_shape[0] else int(d) for i, d in enumerate(shape)]
    return b.op("Reshape", [x, b.const(np.array(dims, np.int64), "shape")])


def _softmax(b, op, x, axis, rank):
    """Softmax/LogSoftmax over one axis: before opset 13 the operator normalizes over every axis from ``axis`` on,
    so another axis than the last is moved last and back."""
    axis = int(axis) % max(rank, 1)
    if b.opset >= 13 or axis == rank - 1 or rank == 0:
        return b.op(op, [x], axis=axis if b.opset >= 13 else (axis if rank else 0))
    perm = list(range(rank))
    perm[axis], perm[-1] = perm[-1], perm[axis]
    y = b.op(op, [b.op("Transpose", [x], perm=perm)], axis=rank - 1)
    return b.op("Transpose", [y], perm=perm)


_PAD_MODES = {"constant": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def _pad(b, node, x, a):
    """F.pad: PyTorch lists (before, after) pairs from the last axis backwards, ONNX every start then every end."""
    mode = a.get("mode") or "constant"
    if mode not in _PAD_MODES or (mode == "circular" and b.opset < 19):
        raise _unsupported(node, f"mode={mode!r}" + (" before opset 19" if mode == "circular" else ""))
    pad, rank = [int(p) for p in a["pad"]], len(node.args[0].shape)
    begins, ends = [0] * rank, [0] * rank
    for i in range(len(pad) // 2):
        begins[rank - 1 - i], ends[rank - 1 - i] = pad[2 * i], pad[2 * i + 1]
    inputs = [x, b.ints(begins + ends, "pads")]
    value = a.get("value")
    if mode == "constant" and value:
        inputs.append(b.const(np.array(value, dtype=_np_dtype(node.args[0])), "pad_value"))
    return b.op("Pad", inputs, mode=_PAD_MODES[mode])


def _ft(v):
    """The numpy type of constants computed with a floating value ``v`` (float32 unless it is float64 or float16)."""
    name = getattr(v.dtype, "name", "")
    return np.float64 if name == "float64" else np.float16 if name == "float16" else np.float32


def _np_dtype(v):
    return v.dtype.storage_np if hasattr(v.dtype, "storage_np") else np.float32


_RESIZE = {"nearest": ("nearest", "asymmetric", "floor"),   # PyTorch's mode: ONNX mode, coordinates, rounding
           "nearest-exact": ("nearest", "half_pixel", "round_prefer_ceil"), "linear": ("linear", None, None),
           "bilinear": ("linear", None, None), "trilinear": ("linear", None, None), "bicubic": ("cubic", None, None)}


def _resize(b, node, x, a):
    """F.interpolate as Resize: by the scale factor where the call gave one (PyTorch then computes source
    positions from it too), else by the output size."""
    mode = a.get("mode", "nearest")
    in_shape, out_shape = node.args[0].shape, node.outputs[0].shape
    if mode == "area" and len(in_shape) == 4 and all(i % o == 0 for i, o in zip(in_shape[2:], out_shape[2:])):
        # area is the adaptive average pooling: where each output size divides the input's, windows of in / out
        k = [i // o for i, o in zip(in_shape[2:], out_shape[2:])]
        return _avg_pool(b, x, list(in_shape[2:]), k, k, [0, 0], False, True)
    if mode not in _RESIZE or a.get("antialias"):
        raise _unsupported(node, f"mode={mode!r}" + (" with antialias" if a.get("antialias") else ""))
    onnx_mode, coords, nearest = _RESIZE[mode]
    attrs = {"mode": onnx_mode}
    if onnx_mode == "nearest":
        attrs.update(coordinate_transformation_mode=coords, nearest_mode=nearest)
    else:
        attrs["coordinate_transformation_mode"] = "align_corners" if a.get("align_corners") else "pytorch_half_pixel"
        if onnx_mode == "cubic":
            attrs.update(cubic_coeff_a=-0.75, exclude_outside=0)
    roi = b.const(np.zeros(0, np.float32), "roi")
    sf = a.get("scale_factor")
    if sf is not None and not a.get("recompute_scale_factor"):
        sf = list(sf) if isinstance(sf, (tuple, list)) else [sf] * (len(in_shape) - 2)
        scales = b.const(np.array([1.0, 1.0] + [float(f) for f in sf], np.float32), "scales")
        return b.op("Resize", [x, roi, scales], **attrs)
    empty = b.const(np.zeros(0, np.float32), "scales")
    # the batch and channels read off the input when the file runs (a dynamic batch keeps following its size),
    # the spatial sizes the call fixed
    lead = b.op("Slice", [b.op("Shape", [x]), b.ints([0], "starts"), b.ints([2], "ends"), b.ints([0], "axes")])
    sizes = b.op("Concat", [lead, b.ints(out_shape[2:], "sizes")], axis=0)
    return b.op("Resize", [x, roi, empty, sizes], **attrs)


_ACTIVATIONS = ("relu", "relu6", "sigmoid", "tanh", "elu", "leaky_relu", "gelu", "silu", "hardtanh", "hardsigmoid",
                "hardswish", "softplus", "mish")
_POINTWISE = {"_asinh_fwd": "Asinh", "_acosh_fwd": "Acosh", "_atanh_fwd": "Atanh"}  # composite ops by forward
_MORE_FUNCTIONAL = {"prelu", "normalize", "softsign", "logsigmoid", "selu", "celu", "tanhshrink", "hardshrink",
                    "softshrink", "glu", "local_response_norm"}
# the functional calls _convert maps as one node; an export records every other one op by op (F.conv2d becomes
# its convolution, F.softplus its clamp, exp, log1p and where), so that only ops without a mapping stop it
MAPPED_FUNCTIONAL = frozenset(_IDENTITY_FUNCTIONAL | set(_ACTIVATIONS) | _MORE_FUNCTIONAL | {
    "linear", "log_softmax", "softmax", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "batch_norm", "embedding",
    "layer_norm", "pad", "pixel_shuffle", "pixel_unshuffle", "instance_norm", "interpolate",
    "multi_head_attention_forward", "flatten"})


def _more_functional(b, node, name, x, a):
    """Functional ops with an ONNX operator of their own (PRelu, Softsign, Selu, Shrink, LRN) or written from a
    few: normalize is x / max(norm, eps), celu and logsigmoid their definitions, glu a * sigmoid(b) of the halves."""
    src = node.args[0]
    ft = _ft(src)
    rank = len(src.shape)
    if name == "prelu":  # the weight per channel (dim 1) as a (C, 1, ...) slope, which broadcasts from the right
        w = a["weight"]
        slope = b.name(w)
        if math.prod(w.shape) > 1 and rank > 2:
            slope = _reshape(b, slope, [math.prod(w.shape)] + [1] * (rank - 2), list(w.shape))
        return b.op("PRelu", [x, slope])
    if name == "normalize":
        p, dim, eps = float(a["p"]), int(a["dim"]), float(a["eps"])
        if p not in (1.0, 2.0):
            raise _unsupported(node, f"normalize with p={p}")
        norm = _reduce(b, "ReduceL2" if p == 2.0 else "ReduceL1", x, [dim], True)
        return b.op("Div", [x, b.op("Max", [norm, b.const(ft(eps), "eps")])])
    if name == "softsign":
        return b.op("Softsign", [x])
    if name == "logsigmoid":
        return b.op("Neg", [b.op("Softplus", [b.op("Neg", [x])])])
    if name == "selu":  # (ONNX's default alpha and gamma are the same constants)
        return b.op("Selu", [x])
    if name == "celu":  # max(0, x) + min(0, alpha * (exp(x / alpha) - 1))
        al = b.const(ft(a["alpha"]), "alpha")
        neg = b.op("Mul", [al, b.op("Sub", [b.op("Exp", [b.op("Div", [x, al])]), b.const(ft(1.0), "one")])])
        zero = b.const(ft(0.0), "zero")
        return b.op("Add", [b.op("Max", [x, zero]), b.op("Min", [neg, zero])])
    if name == "tanhshrink":
        return b.op("Sub", [x, b.op("Tanh", [x])])
    if name in ("hardshrink", "softshrink"):  # from comparisons (ONNX's Shrink makes NaN 0 and rounds to float32)
        lam, neg = b.const(ft(a["lambd"]), "lambd"), b.const(ft(-a["lambd"]), "neg_lambd")
        zero = b.const(ft(0.0), "zero")
        if name == "hardshrink":  # 0 inside [-lambd, lambd]; NaN fails both tests and stays
            inside = b.op("And", [b.op("Or", [b.op("Greater", [x, neg]), b.op("Equal", [x, neg])]),
                                  b.op("Or", [b.op("Less", [x, lam]), b.op("Equal", [x, lam])])])
            return b.op("Where", [inside, zero, x])
        below = b.op("Where", [b.op("Less", [x, neg]), b.op("Add", [x, lam]), b.op("Mul", [x, zero])])
        return b.op("Where", [b.op("Greater", [x, lam]), b.op("Sub", [x, lam]), below])
    if name == "glu":
        dim = int(a["dim"]) % rank
        half = src.shape[dim] // 2
        first = b.op("Slice", [x, b.ints([0], "starts"), b.ints([half], "ends"), b.ints([dim], "axes")])
        second = b.op("Slice", [x, b.ints([half], "starts"), b.ints([2 * half], "ends"), b.ints([dim], "axes")])
        return b.op("Mul", [first, b.op("Sigmoid", [second])])
    # local_response_norm: ONNX's LRN sums the window c - (size - 1) // 2 .. c + size // 2 and the library's
    # c - size // 2 .. c + (size - 1) // 2: the same window for an odd size
    size = int(a["size"])
    if size % 2 == 0 or rank != 4:
        raise _unsupported(node, f"local_response_norm of size {size}" if size % 2 == 0 else
                           f"local_response_norm of a {rank}-D input")
    return b.op("LRN", [x], size=size, alpha=float(a["alpha"]), beta=float(a["beta"]), bias=float(a["k"]))


_LOGICAL = {"logical_and": "And", "logical_or": "Or", "logical_xor": "Xor"}
_UNARY_COMPOSED = ("round", "trunc", "log1p", "expm1", "logical_not", "nonzero", "isfinite")


def _truth(b, v, name):
    """A bool tensor of whether each element of ``v`` (ONNX name ``name``) is nonzero."""
    if v.dtype.name == "bool":
        return name
    return b.op("Not", [b.op("Equal", [name, b.const(np.zeros((), v.dtype.name), "zero")])])


def _unary_composed(b, node, op, x):
    """Unary ops ONNX has no operator for (or, Round, one of another name), from others: trunc as
    sign(x) * floor(|x|), log1p and expm1 through Log and Exp with the classic corrections near 0."""
    v = node.args[1]
    if op == "logical_not":
        return b.op("Not", [_truth(b, v, x)])
    if op == "nonzero":  # (a tensor's truth, as logical ops take it)
        return _truth(b, v, x) if v.dtype.name != "bool" else b.op("Identity", [x])
    if op == "isfinite":
        if v.dtype.name not in ("float32", "float64", "float16"):
            return b.op("Equal", [x, x])  # every integer is finite
        return b.op("Not", [b.op("Or", [b.op("IsInf", [x]), b.op("IsNaN", [x])])])
    if v.dtype.name not in ("float32", "float64", "float16"):
        if op in ("round", "trunc"):
            return b.op("Identity", [x])
        raise _unsupported(node, f"{op} of {v.dtype.name}")
    if op == "round":  # half to even, as the library rounds
        return b.op("Round", [x])
    if op == "trunc":
        return b.op("Mul", [b.op("Sign", [x]), b.op("Floor", [b.op("Abs", [x])])])
    # accurate near 0 without an operator of their own: log1p(x) = log(u) * x / (u - 1) with u = 1 + x (x itself
    # where u - 1 is 0, log(u) where u - 1 is x), expm1(x) = (u - 1) * x / log(u) with u = exp(x) (x where u is 1,
    # -1 where u - 1 is, u where it is infinite)
    one = b.const(np.ones((), v.dtype.name), "one")
    if op == "log1p":
        u = b.op("Add", [x, one])
        d = b.op("Sub", [u, one])
        lu = b.op("Log", [u])
        y = b.op("Where", [b.op("Equal", [d, x]), lu, b.op("Div", [b.op("Mul", [lu, x]), d])])
        return b.op("Where", [b.op("Equal", [d, b.const(np.zeros((), v.dtype.name), "zero")]), x, y])
    u = b.op("Exp", [x])
    d = b.op("Sub", [u, one])
    y = b.op("Where", [b.op("IsInf", [u]), u, b.op("Div", [b.op("Mul", [d, x]), b.op("Log", [u])])])
    y = b.op("Where", [b.op("Equal", [d, b.const(-np.ones((), v.dtype.name), "minus_one")]), d, y])
    return b.op("Where", [b.op("Equal", [u, one]), x, y])


def _division(b, node, op, x, y):
    """fmod (C's remainder: the dividend's sign), remainder (the divisor's sign) and floor_divide. Integers: ONNX's
    Mod. Floats as the library computes them: r = fmod(x, y), exact, moved to the divisor's sign (remainder), and
    (x - r) / y, less one where r was moved, rounded to the nearest integer (floor_divide; x / y where y is 0, a
    signed zero where the quotient is 0); Floor(x / y) would round x / y first (1 // 0.1 is 9, not 10)."""
    floating = node.outputs[0].dtype.name in ("float32", "float64", "float16")
    if op == "fmod":
        return b.op("Mod", [x, y], fmod=1)
    if not floating:
        r = b.op("Mod", [x, y], fmod=0)
        return r if op == "remainder" else b.op("Div", [b.op("Sub", [x, r]), y])  # exact: x - r is a multiple of y
    ft = _ft(node.outputs[0])
    zero = b.const(ft(0.0), "zero")
    r = b.op("Mod", [x, y], fmod=1)
    moved = b.op("And", [b.op("Not", [b.op("Equal", [r, zero])]),
                         b.op("Xor", [b.op("Less", [r, zero]), b.op("Less", [y, zero])])])
    if op == "remainder":
        return b.op("Where", [moved, b.op("Add", [r, y]), r])
    one = b.const(ft(1.0), "one")
    div = b.op("Div", [b.op("Sub", [x, r]), y])
    div = b.op("Where", [moved, b.op("Sub", [div, one]), div])
    fl = b.op("Floor", [div])
    fl = b.op("Where", [b.op("Greater", [b.op("Sub", [div, fl]), b.const(ft(0.5), "half")]), b.op("Add", [fl, one]),
                        fl])
    quotient = b.op("Div", [x, y])
    fl = b.op("Where", [b.op("Equal", [div, zero]), b.op("Mul", [quotient, zero]), fl])  # (0 with x / y's sign)
    return b.op("Where", [b.op("Equal", [y, zero]), quotient, fl])


def _reduce(b, op, x, dims, keep):
    dims = [int(d) for d in (dims if isinstance(dims, (tuple, list)) else [dims])]
    if (op == "ReduceSum" and b.opset >= 13) or b.opset >= 18:
        return b.op(op, [x, b.const(np.array(dims, np.int64), "axes")], keepdims=int(bool(keep)))
    return b.op(op, [x], axes=dims, keepdims=int(bool(keep)))


def _typed(b, node, op_type, inputs):
    """``b.op(op_type, inputs)`` for an elementwise node, refusing an integer type the operator does not take at
    the file's opset."""
    from ..compiler.ir import Value
    v = next((a for a in node.args if isinstance(a, Value)), None)
    dt = v.dtype.name if v is not None else "float32"
    if dt not in ("float32", "float64", "float16", "bfloat16"):
        ok = any(b.opset >= since and dt in types for since, types in _INT_TYPES.get(op_type, ()))
        if not ok:
            since = [f for f, types in _INT_TYPES.get(op_type, ()) if dt in types]
            need = f"opset_version={since[0]} or later" if since else "a floating dtype (cast the tensor first)"
            raise _unsupported(node, f"{op_type} on {dt} needs {need}")
    return b.op(op_type, inputs)


def _unsupported(node, what=None):
    if what is None and node.kind == "launcher" and node.args and isinstance(node.args[0], str):
        what = repr(node.args[0]) + (f", {node.kwargs}" if node.kwargs else "")   # which unary or binary op
    label = f"{node.kind}.{node.name}" + (f" ({what})" if what else "")
    where = f" called at {node.line}" if node.line else ""
    return RuntimeError(f"minitorch.onnx.export: no ONNX mapping for {label}{where}")


def export_graph(graph, params, input_names, output_names, dynamic_axes, opset, export_params, model_name,
                 infer_outputs=False):
    """``graph`` as a checked ONNX ``ModelProto``. With ``infer_outputs``, an output dimension that ONNX shape
    inference derives from a symbolic input dimension is written symbolic too."""
    onnx, helper, numpy_helper = _onnx()
    from ..compiler.ir import Value, leaves
    b = _Builder(helper, numpy_helper, opset)
    graph.count_users()
    inputs, initializers = [], []
    for i, v in enumerate(graph.inputs):
        n = input_names[i] if i < len(input_names) else f"input_{i}"
        b.names[id(v)] = n
        inputs.append((n, v))
    b.export_params = export_params
    outs = [v for v in leaves(graph.output_tree) if isinstance(v, Value)]
    # one name per returned position: a value returned twice (``return y, y``) is one output under its first name
    # and an Identity under the second
    position_names = [output_names[i] if i < len(output_names) else f"output_{i}" for i in range(len(outs))]
    out_names = {}
    for v, n in zip(outs, position_names):
        out_names.setdefault(id(v), n)
    for key in dynamic_axes or {}:  # (the default output names, output_<i>, count)
        if key not in set(b.names.values()) | set(position_names):
            warnings.warn(f"Provided key {key} for dynamic axes is not a valid input/output name")
    for node in graph.nodes:
        if node.outputs and all(v.static for v in node.outputs) and \
                not any(id(v) in out_names for v in node.outputs):
            continue  # folded into an initializer where a later node reads it
        names = _convert(b, node)
        for v, n in zip(node.outputs, names):
            if n is None:
                continue
            want = out_names.get(id(v))
            if want is not None and n != want:
                b.op("Identity", [n], [want])
                n = want
            b.names[id(v)] = n
    for v, n in zip(outs, position_names):  # an input or constant returned as is, a value returned again
        if b.names[id(v)] != n:
            b.op("Identity", [b.names[id(v)]], [n])
            if out_names[id(v)] == n:
                b.names[id(v)] = n

    def info(name, v):
        axes = dynamic_axes.get(name, {})
        if isinstance(axes, (list, tuple)):
            axes = {int(a): f"{name}_dynamic_axes_{k + 1}" for k, a in enumerate(axes)}
        dims = [axes.get(i, d) for i, d in enumerate(v.shape)]
        return helper.make_tensor_value_info(name, _DTYPES[v.dtype.name], dims)

    inputs += b.param_inputs
    g = helper.make_graph(b.nodes, model_name, [info(n, v) for n, v in inputs],
                          [info(n, v) for v, n in zip(outs, position_names)], initializer=initializers + b.initializers)
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], producer_name="minitorch")
    onnx.checker.check_model(model)
    if infer_outputs:
        _symbolic_outputs(onnx, model, dynamic_axes)
    return model


def _symbolic_outputs(onnx, model, dynamic_axes):
    """Output dimensions written as sizes that shape inference finds symbolic (a batch dimension carried through)
    take that symbol, unless ``dynamic_axes`` named them already."""
    if not any(d.dim_param for i in model.graph.input for d in i.type.tensor_type.shape.dim):
        return
    bare = onnx.ModelProto()
    bare.CopyFrom(model)
    for o in bare.graph.output:  # the captured sizes would win over what inference derives
        o.type.tensor_type.ClearField("shape")
    try:
        inferred = onnx.shape_inference.infer_shapes(bare, strict_mode=False)
    except Exception:  # noqa: BLE001 (an op inference does not cover: the outputs keep their captured sizes)
        return
    for out, inf in zip(model.graph.output, inferred.graph.output):
        if out.name in dynamic_axes:
            continue
        have, got = out.type.tensor_type.shape.dim, inf.type.tensor_type.shape.dim
        if len(have) != len(got):
            continue
        for d, g in zip(have, got):
            if g.dim_param and not d.dim_param:
                d.dim_param = g.dim_param
