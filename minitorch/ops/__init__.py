"""Differentiable ops. Each is one function, exported as ``minitorch.<name>`` and attached as ``Tensor.<name>``.

``FUNCTIONS`` lists what becomes a ``minitorch`` function; ``METHODS`` what becomes a Tensor method (most names
are both); operators (``+``, ``@``, ``[]`` ...) are attached at the end.
"""
from ..tensor import Tensor
from . import activation as A, elementwise as E, index as I, matmul as M, methods as X, reduce as R, shape as S
from . import composite as CO, contraction as C, linalg as LA, search as SE, sorting as SO
from . import autocast as _autocast, conv as _conv, opmath as _opmath
from . import special as SP
_autocast.install(SP)  # erfinv runs in float32 under autocast, as on PyTorch's list

# composites on 16-bit floats compute in float32 and round once; ops on PyTorch's autocast lists get their cast
# policy (each wrapper is a flag read while unused), by name, aliases too
for _mod in (E, R):
    _opmath.install(_mod)
for _mod in (E, R, M, A, S, I, C, LA, SE, SO, CO, _conv):
    _autocast.install(_mod)

_EW = ["neg", "negative", "abs", "absolute", "sign", "exp", "log", "log1p", "expm1", "sqrt", "rsqrt", "sin", "cos",
       "tan", "tanh", "sigmoid", "relu", "reciprocal", "floor", "ceil", "round", "trunc", "fix", "frac", "square",
       "erf", "log2", "log10", "exp2", "atan", "arctan", "asin", "arcsin", "acos", "arccos", "sinh", "cosh",
       "isnan", "isfinite", "isinf", "signbit", "logical_not", "add", "sub", "subtract", "rsub", "mul", "multiply",
       "div", "divide", "true_divide", "floor_divide", "remainder", "fmod", "pow", "float_power", "maximum",
       "minimum", "fmax", "fmin", "atan2", "arctan2", "copysign", "eq", "ne", "lt", "le", "gt", "ge", "not_equal",
       "less", "less_equal", "greater", "greater_equal", "logical_and", "logical_or", "logical_xor", "bitwise_and",
       "bitwise_or", "bitwise_xor", "bitwise_not", "bitwise_left_shift", "bitwise_right_shift", "where", "clamp", "clip", "clamp_min", "clamp_max", "lerp",
       "addcmul", "addcdiv"]
_RED = ["sum", "nansum", "mean", "nanmean", "prod", "amax", "amin", "max", "min", "argmax", "argmin", "var", "std",
        "var_mean", "std_mean", "logsumexp", "all", "any", "norm", "cumsum", "cumprod", "count_nonzero", "isclose",
        "allclose", "equal"]
_SHAPE = ["view", "reshape", "view_as", "reshape_as", "permute", "transpose", "swapaxes", "swapdims", "t",
          "movedim", "moveaxis", "adjoint", "expand", "expand_as", "broadcast_to", "sum_to_size", "squeeze",
          "unsqueeze", "flatten", "ravel", "unflatten", "narrow", "select", "contiguous", "clone", "split",
          "tensor_split", "chunk", "unbind", "flip", "repeat", "tile", "tril", "triu", "diagonal", "diag"]
_INDEX = ["index_select", "index_add", "gather", "scatter", "scatter_add", "masked_fill", "masked_select",
          "masked_scatter", "nonzero", "argwhere", "take", "take_along_dim"]
_MM = ["matmul", "mm", "bmm", "mv", "dot", "inner", "vdot", "outer", "ger", "addmm", "baddbmm"]

FUNCTIONS = {}
for _mod, _names in ((E, _EW), (R, _RED), (S, _SHAPE), (I, _INDEX), (M, _MM), (A, ["softmax", "log_softmax"])):
    for _n in _names:
        FUNCTIONS[_n] = getattr(_mod, _n)
for _n in ("cat", "concat", "concatenate", "stack", "hstack", "vstack", "broadcast_tensors", "broadcast_shapes",
           "atleast_1d", "atleast_2d"):
    FUNCTIONS[_n] = getattr(S, _n)
for _n in ("matmul_reference",):
    FUNCTIONS[_n] = getattr(M, _n)

_NOT_METHODS = {"cat", "concat", "concatenate", "stack", "hstack", "vstack", "broadcast_tensors",
                "broadcast_shapes", "atleast_1d", "atleast_2d", "matmul_reference", "where"}
METHODS = {n: f for n, f in FUNCTIONS.items() if n not in _NOT_METHODS}
METHODS["where"] = lambda self, condition, other: E.where(condition, self, other)
METHODS["type"] = X.type_
METHODS.update(X.CASTS)
for _n in ("to", "cpu", "cuda", "half", "type_as", "new_tensor", "new_zeros", "new_ones", "new_empty",
           "new_full", "uniform_", "normal_", "random_", "bernoulli_", "exponential_", "geometric_", "cauchy_",
           "log_normal_", "resize_", "apply_", "dim_order", "storage", "pin_memory", "is_pinned"):
    METHODS[_n] = getattr(X, _n)
for _n in ("add_", "sub_", "mul_", "div_", "pow_", "zero_", "fill_", "copy_", "clamp_", "clip_", "masked_fill_"):
    METHODS[_n] = getattr(E, _n)
for _n in ("scatter_", "scatter_add_", "index_add_"):
    METHODS[_n] = getattr(I, _n)
METHODS["subtract_"] = E.sub_
METHODS["multiply_"] = E.mul_
METHODS["divide_"] = E.div_
# families in modules of their own list what they export: FUNCTIONS (minitorch.X) and METHODS (Tensor.X)
for _mod in (SO, SE, C, LA, CO, SP):
    FUNCTIONS.update((_n, getattr(_mod, _n)) for _n in _mod.FUNCTIONS)
    METHODS.update((_n, getattr(_mod, _n)) for _n in _mod.METHODS)
# in-place forms of unary ops: x.exp_(), x.relu_(), ...
for _n in ("neg", "abs", "sign", "exp", "log", "log1p", "expm1", "sqrt", "rsqrt", "sin", "cos", "tan", "tanh",
           "sigmoid", "relu", "reciprocal", "floor", "ceil", "round", "trunc", "frac", "square", "erf", "log2",
           "log10", "exp2", "atan", "asin", "acos", "sinh", "cosh", "remainder", "fmod", "floor_divide",
           "maximum", "minimum", "atan2", "lerp", "addcmul", "addcdiv", "clamp_min", "clamp_max", "copysign",
           "logical_not", "logical_and", "logical_or", "logical_xor", "eq", "ne", "lt", "le", "gt", "ge",
           "tril", "triu", "arccos", "arcsin", "arctan", "fix", "negative",
           "absolute", "asinh", "arcsinh", "acosh", "arccosh", "atanh", "arctanh", "erfc", "deg2rad", "rad2deg",
           "sinc", "logit", "nan_to_num", "xlogy", "hypot", "heaviside", "ldexp", "float_power", "true_divide"):
    if _n in FUNCTIONS and _n + "_" not in METHODS:  # names of later families are skipped until they exist
        METHODS[_n + "_"] = E._inplace_unary(FUNCTIONS[_n])
# in-place view ops change the tensor's own shape and strides
for _n in ("t", "transpose", "squeeze", "unsqueeze", "swapdims", "swapaxes", "as_strided"):
    METHODS[_n + "_"] = E._inplace_view(FUNCTIONS.get(_n) or METHODS[_n])
for _n, _f in METHODS.items():
    setattr(Tensor, _n, _f)
# convolutions are functions only (torch.conv2d, torch.conv_transpose2d ...), not Tensor methods
for _n in ("conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d"):
    FUNCTIONS[_n] = getattr(_conv, _n)
# PyTorch also exports these in-place methods as functions (``torch.sin_(x)``); each is the method itself
_INPLACE_FUNCTIONS = (
    "abs_", "acos_", "acosh_", "arccos_", "arccosh_", "arcsin_", "arcsinh_", "arctan_", "arctanh_", "asin_", "asinh_",
    "atan_", "atanh_", "ceil_", "clamp_", "clamp_max_", "clamp_min_", "clip_", "cos_", "cosh_", "deg2rad_", "erf_",
    "erfc_", "exp2_", "exp_", "expm1_", "fill_", "fix_", "floor_", "frac_", "index_put_", "log10_", "log1p_", "log2_",
    "log_", "logit_", "nan_to_num_", "neg_", "negative_", "rad2deg_", "reciprocal_", "relu_", "round_", "rsqrt_",
    "sigmoid_", "sin_", "sinc_", "sinh_", "sqrt_", "square_", "tan_", "tanh_", "trunc_", "xlogy_", "zero_")
for _n in _INPLACE_FUNCTIONS:
    if _n in METHODS:
        FUNCTIONS[_n] = METHODS[_n]


def _r(fn):
    return lambda self, other: fn(other, self)


def _rdiv(self, other):
    """``other / self`` for a number ``other``: ``self.reciprocal() * other``, as PyTorch computes it (the same
    rounding, and the same graph)."""
    if isinstance(other, Tensor):
        return E.div(other, self)
    return E.mul(E.reciprocal(self), other)


def _invert(self):
    return E.bitwise_not(self)


def _iop(name):
    method = METHODS[name]

    def op(self, other):
        return method(self, other)
    return op


def _fast(name):
    binary = E._binary

    def op(self, other):
        return binary(name, self, other)
    return op


_OPS = {
    "__add__": _fast("add"), "__radd__": _fast("add"), "__sub__": _fast("sub"), "__rsub__": _r(E.sub), "__mul__": _fast("mul"),
    "__rmul__": _fast("mul"), "__truediv__": E.div, "__rtruediv__": _rdiv, "__floordiv__": E.floor_divide,
    "__rfloordiv__": _r(E.floor_divide), "__mod__": E.remainder, "__rmod__": _r(E.remainder), "__pow__": E.pow,
    "__rpow__": _r(E.pow), "__matmul__": M.matmul, "__rmatmul__": _r(M.matmul), "__neg__": E.neg,
    "__pos__": lambda self: self, "__abs__": E.abs, "__invert__": _invert,
    "__eq__": E.eq, "__ne__": E.ne, "__lt__": E.lt, "__le__": E.le, "__gt__": E.gt, "__ge__": E.ge,
    "__and__": E.bitwise_and, "__or__": E.bitwise_or, "__xor__": E.bitwise_xor, "__rand__": _r(E.bitwise_and),
    "__ror__": _r(E.bitwise_or), "__rxor__": _r(E.bitwise_xor),
    "__lshift__": E.bitwise_left_shift, "__rshift__": E.bitwise_right_shift,
    "__rlshift__": _r(E.bitwise_left_shift), "__rrshift__": _r(E.bitwise_right_shift),
    "__iadd__": _iop("add_"), "__isub__": _iop("sub_"), "__imul__": _iop("mul_"), "__itruediv__": _iop("div_"),
    "__ipow__": _iop("pow_"), "__ifloordiv__": _iop("floor_divide_"), "__imod__": _iop("remainder_"),
    "__getitem__": I.getitem, "__setitem__": I.setitem,
}
for _n, _f in _OPS.items():
    setattr(Tensor, _n, _f)
Tensor.__hash__ = lambda self: id(self)
Tensor.T = property(lambda self: S.permute(self, tuple(reversed(range(self.dim())))))
Tensor.mT = property(lambda self: S.transpose(self, -2, -1))
Tensor.H = Tensor.T
Tensor.mH = Tensor.mT


def _ior(self, other):
    return E.assign_(self, E.bitwise_or(self, other))


def _iand(self, other):
    return E.assign_(self, E.bitwise_and(self, other))


def _ixor(self, other):
    return E.assign_(self, E.bitwise_xor(self, other))


def _ilshift(self, other):
    return E.assign_(self, E.bitwise_left_shift(self, other))


def _irshift(self, other):
    return E.assign_(self, E.bitwise_right_shift(self, other))


Tensor.__ior__ = _ior
Tensor.__iand__ = _iand
Tensor.__ixor__ = _ixor
Tensor.__ilshift__ = _ilshift
Tensor.__irshift__ = _irshift
for _n, _f in (("bitwise_and_", _iand), ("bitwise_or_", _ior), ("bitwise_xor_", _ixor),
               ("bitwise_left_shift_", _ilshift), ("bitwise_right_shift_", _irshift)):
    setattr(Tensor, _n, _f)
Tensor.bitwise_not_ = lambda self: E.assign_(self, E.bitwise_not(self))
# spatial shuffles (pixel_shuffle, channel_shuffle ...): functions only, as in PyTorch
from . import spatial as _spatial  # noqa: E402
FUNCTIONS.update((_n, getattr(_spatial, _n)) for _n in _spatial.FUNCTIONS)
