"""PyTorch's names for minitorch's graph nodes (``grad_fn.name()``).

minitorch's Functions are coarser than ATen's derivative formulas (one ``View`` serves view, squeeze and
unsqueeze), so a few names are read off the recorded call: the non-tensor arguments and the input/output shapes.
Nodes of Functions defined outside minitorch are named ``<Class>Backward``, as PyTorch names custom Functions.
"""

_FIXED = {
    "Square": "PowBackward0",
    "Log1p": "Log1PBackward0",
    "CumSum": "CumsumBackward0",
    "CumProd": "CumprodBackward0",
    "LogCumSumExp": "LogcumsumexpBackward0",
    "Norm2": "LinalgVectorNormBackward0",
    "IndexAdvanced": "IndexBackward0",
    "IndexPut": "IndexPutBackward0",
    "IndexPutAcc": "IndexPutBackward0",
    "IndexPutAccumulate": "IndexPutBackward0",
    "Contiguous": "CloneBackward0",
    "Reshape": "UnsafeViewBackward0",
    "ToDevice": "ToCopyBackward0",
    "Conv2d": "ConvolutionBackward0",
    "MaxPool2d": "MaxPool2DWithIndicesBackward0",
    "AvgPool2d": "AvgPool2DBackward0",
    "_ConstantPad": "ConstantPadNdBackward0",
    "_Inv": "LinalgInvExBackward0",
    "_Det": "LinalgDetBackward0",
    "_LogAbsDet": "LinalgSlogdetBackward0",
    "_Solve": "LinalgSolveExBackward0",
    "_Cholesky": "LinalgCholeskyExBackward0",
    "_EighValues": "LinalgEighBackward0",
    "_EighVectors": "LinalgEighBackward0",
    "_SvdPart": "LinalgSvdBackward0",
    "_QrPart": "LinalgQrBackward0",
    "_Pinv": "LinalgPinvBackward0",
    "_XLogY": "XlogyBackward0",
    "_Poisson": "PoissonBackward0",
    "_CrossEntropy2d": "NllLoss2DBackward0",
    "CDist": "CdistBackward0",
    "SDPA": "ScaledDotProductFlashAttentionForCpuBackward0",
    "PackedSDPA": "ScaledDotProductFlashAttentionForCpuBackward0",
    "MedianAll": "MedianBackward0",
    "SliceBackward": "SliceBackwardBackward0",
    "CopySlices": "torch::autograd::CopySlices",
    "_DelayedError": "DelayedError",
}

def _in_shape(node, i):
    meta = node._input_meta[i]
    return tuple(meta[0]) if meta is not None else None


def _out_shape(node):
    meta = getattr(node, "_out_meta", None)
    return tuple(meta[0]) if meta is not None else None


def _is_scalar_operand(node, i):
    """A 0-d operand that needs no grad: how a python number reaches a binary op."""
    meta = node._input_meta[i]
    return node._edges[i][0] is None and meta is not None and len(meta[0]) == 0


def _binary(node, base):
    if base == "Pow":
        if _is_scalar_operand(node, 1):
            return "PowBackward0"
        if _is_scalar_operand(node, 0):
            return "PowBackward2"
        return "PowBackward1"
    if base == "Sub" and _is_scalar_operand(node, 0) and not _is_scalar_operand(node, 1):
        return "RsubBackward1"
    return None


def _view(node):
    src, dst = _in_shape(node, 0), _out_shape(node)
    if src is None or dst is None or len(dst) == len(src):
        return "ViewBackward0"
    if len(dst) == len(src) + 1:
        for k in range(len(dst)):
            if dst[k] == 1 and dst[:k] + dst[k + 1:] == src:
                return "UnsqueezeBackward0"
        return "ViewBackward0"
    if dst == tuple(s for s in src if s != 1):
        return "SqueezeBackward0"  # every size-1 dim gone: read as squeeze() (squeeze(dim) looks the same)
    i = j = 0
    while i < len(src):
        if j < len(dst) and src[i] == dst[j]:
            j += 1
        elif src[i] != 1:
            return "ViewBackward0"
        i += 1
    if j == len(dst):
        return "SqueezeBackward1" if len(src) - len(dst) == 1 else "SqueezeBackward2"
    return "ViewBackward0"


def _permute(node):
    return node._args[2]


def _reduction(base):
    def name(node):
        dims = node._args[1]
        src = _in_shape(node, 0)
        full = dims is None or (src is not None and tuple(sorted(dims)) == tuple(range(len(src))) and
                                not node._args[2] and _out_shape(node) == ())
        return f"{base}Backward{0 if full else 1}"
    return name


def _amax(node):
    kind = node._args[3]
    if _out_shape(node) == () and kind in ("amax", "amin"):
        # max()/min() over everything reach the same node as amax()/amin() over everything; read as the former
        return "MaxBackward1" if kind == "amax" else "MinBackward1"
    return "AmaxBackward0" if kind == "amax" else "AminBackward0"


_SELECT_NAMES = {"argmax": "MaxBackward0", "argmin": "MinBackward0", "median": "MedianBackward1",
                 "nanmedian": "NanmedianBackward1", "mode": "ModeBackward0", "kthvalue": "KthvalueBackward0",
                 "sort": "SortBackward0", "topk": "TopkBackward0"}


def _select(node):
    """max(dim), sort, topk ... share one Function; the picking closure tells them apart."""
    pick = node._args[3]
    if type(pick).__name__ == "_Pick":  # max/min along a dim (ops/reduce.py): the picker names its reduction
        return _SELECT_NAMES.get(pick.name, "MaxBackward0")
    for _ in range(3):
        code = getattr(pick, "__code__", None)
        if code is None:
            break
        cells = dict(zip(code.co_freevars, pick.__closure__ or ()))
        if "name" in cells:
            label = cells["name"].cell_contents
            if label in _SELECT_NAMES:
                return _SELECT_NAMES[label]
        for g in code.co_names:
            for key in ("sort", "topk", "kthvalue", "mode", "nanmedian", "median"):
                if g.startswith(key):
                    return _SELECT_NAMES[key]
        pick = cells["pick"].cell_contents if "pick" in cells else None
    return "MaxBackward0"


def _slice(node):
    src, dst = _in_shape(node, 0), _out_shape(node)
    if src is not None and dst is not None and len(dst) < len(src):
        return "SelectBackward0"
    return "SliceBackward0"


def _matmul(node):
    a, b = _in_shape(node, 0), _in_shape(node, 1)
    if (a is None or len(a) == 2) and (b is None or len(b) == 2):
        return "MmBackward0"
    return "BmmBackward0"


def _linear(node):
    x = _in_shape(node, 0)
    if x is not None and len(x) == 2:
        return "AddmmBackward0" if node._input_meta[2] is not None else "MmBackward0"
    return "LinearBackward0"


def _clamp(node):
    # python-number bounds arrive as 0-d tensors
    return "ClampBackward0" if any(m is not None and len(m[0]) for m in node._input_meta[1:]) else "ClampBackward1"


def _pointwise(node):
    fwd = node._args[1]
    n = getattr(fwd, "__name__", "")
    if n.startswith("_") and n.endswith("_fwd"):
        return n[1:-4].capitalize() + "Backward0"
    return "LogitBackward0" if n == "fwd" else "PointwiseBackward0"


# Functions whose name depends on non-tensor arguments: their nodes keep those (cheap) arguments
NAMES_FROM_ARGS = {"Permute", "Sum", "Mean", "Prod", "AMax", "Select", "_Pointwise", "Softmax", "CumExtreme"}

_DYNAMIC = {
    "View": _view,
    "Permute": _permute,
    "Sum": _reduction("Sum"),
    "Mean": _reduction("Mean"),
    "Prod": _reduction("Prod"),
    "AMax": _amax,
    "Select": _select,
    "Slice": _slice,
    "MatMul": _matmul,
    "Linear": _linear,
    "Clamp": _clamp,
    "_Pointwise": _pointwise,
    "Softmax": lambda node: "LogSoftmaxBackward0" if node._args[2] else "SoftmaxBackward0",
    "CumExtreme": lambda node: "CummaxBackward0" if node._args[2] == 0 else "CumminBackward0",
    "Overwrite": lambda node: node.label,
}


def node_name(node):
    cls = type(node)
    if not cls.__module__.startswith("minitorch."):
        return cls.__name__ + "Backward"
    base = cls.__name__
    try:
        if base in _DYNAMIC:
            return _DYNAMIC[base](node)
        if base in _FIXED:
            return _FIXED[base]
        op = getattr(cls, "op", None)
        if op is not None and len(node._edges) == 2:
            special = _binary(node, base)
            if special is not None:
                return special
    except (IndexError, TypeError, AttributeError):
        pass
    return base + "Backward0"


# Functions whose extra tensor arguments are precomputed results, not inputs PyTorch would list as edges
_EDGE_POSITIONS = {"_Inv": (0,), "_Det": (0,), "_LogAbsDet": (0,), "_Cholesky": (0,), "_Solve": (0, 1),
                   "_EighValues": (0,), "_EighVectors": (0,), "_SvdPart": (0,), "_QrPart": (0,), "_Pinv": (0,)}


def adjust_edge_mask(node, mask):
    """Drop edges PyTorch does not list: python-number operands of rsub/pow/clamp, precomputed results."""
    cls = type(node)
    name = cls.__name__
    pos = _EDGE_POSITIONS.get(name)
    if pos is not None:
        return [m and i in pos for i, m in enumerate(mask)]
    op = getattr(cls, "op", None)
    scalar = [_is_scalar_operand(node, i) for i in range(len(mask))]
    if name == "Clamp":
        return [m and (i == 0 or not scalar[i]) for i, m in enumerate(mask)]
    if op == "pow" and (scalar[0] or scalar[1]) or op == "sub" and scalar[0] and not scalar[1]:
        return [m and not sc for m, sc in zip(mask, scalar)]
    return mask
