"""Elementwise ops: unary math, binary arithmetic, comparisons, logical ops, where, clamp, in-place forms."""
import math

from ..autograd.function import _PROFILE, Function, refresh_view
from ..autograd.grad_mode import _state
from ..dtypes import (bool as t_bool, float32, float64, get_default_dtype, int8, int16, int32, int64,
                      uint8)
from ..tensor import LAYOUT_EPOCH, Tensor
from . import launch
from .common import can_cast, cast, is_scalar, operands, recording, scalar_tensor, type_label

# ---------------------------------------------------------------------------------------------------------------
# unary
# ---------------------------------------------------------------------------------------------------------------
# name -> (gradient from (x, out, g), whether ints promote to float first, keeps integer dtype)
_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_UNARY = {
    "neg": (lambda x, y, g: -g, False),
    "abs": (lambda x, y, g: g * x.sign(), False),
    "sign": (None, False),
    "exp": (lambda x, y, g: g * y, True),
    "log": (lambda x, y, g: g / x, True),
    "log1p": (lambda x, y, g: g / (x + 1), True),
    "expm1": (lambda x, y, g: g * (y + 1), True),
    "sqrt": (lambda x, y, g: g / (y * 2), True),
    "rsqrt": (lambda x, y, g: g * (y * y * y) * -0.5, True),
    "sin": (lambda x, y, g: g * x.cos(), True),
    "cos": (lambda x, y, g: -g * x.sin(), True),
    "tan": (lambda x, y, g: g * (y * y + 1), True),
    "tanh": (lambda x, y, g: g * (1 - y * y), True),
    "sigmoid": (lambda x, y, g: g * (y * (1 - y)), True),
    "relu": (lambda x, y, g: g * (y > 0), False),
    "reciprocal": (lambda x, y, g: -g * (y * y), True),
    "floor": (None, False),
    "ceil": (None, False),
    "round": (None, False),
    "trunc": (None, False),
    "frac": (lambda x, y, g: g, True),
    "square": (lambda x, y, g: g * x * 2, False),
    "erf": (lambda x, y, g: g * (-(x * x)).exp() * (2.0 / math.sqrt(math.pi)), True),
    "log2": (lambda x, y, g: g / (x * _LN2), True),
    "log10": (lambda x, y, g: g / (x * _LN10), True),
    "exp2": (lambda x, y, g: g * y * _LN2, True),
    "atan": (lambda x, y, g: g / (x * x + 1), True),
    "asin": (lambda x, y, g: g / (1 - x * x).sqrt(), True),
    "acos": (lambda x, y, g: -g / (1 - x * x).sqrt(), True),
    "sinh": (lambda x, y, g: g * x.cosh(), True),
    "cosh": (lambda x, y, g: g * x.sinh(), True),
}
_INT_IDENTITY = {"floor", "ceil", "round", "trunc"}


class _Unary(Function):
    op = None
    grad = None

    @classmethod
    def forward(cls, ctx, x):
        out = launch.unary(cls.op, x)
        # the output is saved detached (saving it attached would make a reference cycle through its grad_fn);
        # with create_graph the backward recomputes it from x so that second derivatives stay exact
        ctx.save_for_backward(x, out.detach())
        return out

    @classmethod
    def backward(cls, ctx, g):
        x, y = ctx.saved_tensors
        if cls.grad is None:
            return g * 0
        if _state.enabled:
            y = _UNARY_FN[cls.op].apply(x)
        return cls.grad(x, y, g)


_UNARY_FN = {name: type(name.capitalize(), (_Unary,), {"op": name, "grad": staticmethod(gr) if gr else None})
             for name, (gr, _) in _UNARY.items()}


class Relu(_UNARY_FN["relu"]):
    """relu saves only its output: the gradient needs y > 0 alone, so an in-place relu_ needs no snapshot of its
    input, and the backward is one kernel pass."""

    @classmethod
    def forward(cls, ctx, x):
        out = launch.unary("relu", x)
        ctx.save_for_backward(out.detach())
        return out

    @classmethod
    def backward(cls, ctx, g):
        (y,) = ctx.saved_tensors
        if _state.enabled or g._dtype is not y._dtype:
            return g * (y > 0)
        return launch.relu_backward(g, y)


_UNARY_FN["relu"] = Relu


# name -> the dtypes whose result keeps the dtype with no conversion on the way (float math; neg/abs/sign/relu/
# square of integers too): for them a contiguous tensor outside autograd and the profiler takes launch.unary_same
_UNARY_SAME_DTYPES = {name: frozenset((float32, float64) if promote or name in _INT_IDENTITY
                                      else (float32, float64, uint8, int8, int16, int32, int64))
                      for name, (_, promote) in _UNARY.items()}
_UNARY_SAME = launch.unary_same.__wrapped__  # what half_compute wraps (no half dtype takes this path)


def _unary(name, x):
    if type(x) is Tensor and x._contig and x._dtype in _UNARY_SAME_DTYPES[name] and _PROFILE[0] is None \
            and not (x._requires_grad and _state.enabled):
        return _UNARY_SAME(name, x)
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument 'input' must be Tensor, not {type(x).__name__}")
    dt = x._dtype
    if not dt.is_floating_point:
        if _UNARY[name][1]:
            x = cast(x, get_default_dtype())
        elif name in _INT_IDENTITY:
            return x.clone()
        elif dt is t_bool:
            if name == "neg":
                raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If you are trying "
                                   "to invert a mask, use the `~` or `logical_not()` operator instead.")
            return launch.unary(name, x.to(uint8)).to(t_bool) if name != "sign" else x.clone()
    if _state.enabled and x._requires_grad:
        return _UNARY_FN[name].apply(x)
    return launch.unary(name, x)


def _make_unary(name):
    def fn(input, *, out=None):
        r = _unary(name, input)
        return r if out is None else _write_out(out, r)
    fn.__name__ = fn.__qualname__ = name  # (errors name it: "sin() takes 1 positional argument ...")
    fn.__doc__ = f"Elementwise {name}."
    return fn


neg = _make_unary("neg")
negative = neg
abs = _make_unary("abs")  # noqa: A001
absolute = abs
sign = _make_unary("sign")
exp = _make_unary("exp")
log = _make_unary("log")
log1p = _make_unary("log1p")
expm1 = _make_unary("expm1")
sqrt = _make_unary("sqrt")
rsqrt = _make_unary("rsqrt")
sin = _make_unary("sin")
cos = _make_unary("cos")
tan = _make_unary("tan")
tanh = _make_unary("tanh")
sigmoid = _make_unary("sigmoid")
relu = _make_unary("relu")
relu.saves_output_only = True
reciprocal = _make_unary("reciprocal")
floor = _make_unary("floor")
ceil = _make_unary("ceil")
trunc = _make_unary("trunc")
fix = trunc
frac = _make_unary("frac")
square = _make_unary("square")
erf = _make_unary("erf")
log2 = _make_unary("log2")
log10 = _make_unary("log10")
exp2 = _make_unary("exp2")
atan = _make_unary("atan")
arctan = atan
asin = _make_unary("asin")
arcsin = asin
acos = _make_unary("acos")
arccos = acos
sinh = _make_unary("sinh")
cosh = _make_unary("cosh")


def round(input, *, decimals=0, out=None):  # noqa: A001
    """Round half to even, as torch.round; ``decimals`` scales by 10**decimals first."""
    if decimals == 0:
        return _write_out(out, _unary("round", input))
    s = 10.0 ** decimals
    return _write_out(out, _unary("round", input * s) / s)


def _predicate(name, x):
    return launch.unary(name, x, family="predicate")


def isnan(input):
    return _predicate("isnan", input)


def isfinite(input):
    return _predicate("isfinite", input)


def isinf(input):
    return _predicate("isinf", input)


def signbit(input):
    return _predicate("signbit", input)


def logical_not(input, *, out=None):
    return _write_out(out, _predicate("logical_not", input))


# ---------------------------------------------------------------------------------------------------------------
# binary
# ---------------------------------------------------------------------------------------------------------------
def _maxmin_grad(a, b, g, pick_a):
    half = (a == b)
    share = g.where(~half, g * 0.5)
    if pick_a:
        return share.masked_fill(a < b, 0), share.masked_fill(a > b, 0)
    return share.masked_fill(a > b, 0), share.masked_fill(a < b, 0)


def _pow_grad(a, b, out, g, need_a=True, need_b=True):
    ga = None
    if need_a:
        ga = g * b * a.pow(b - 1)
        # an exponent of 0 has gradient 0 everywhere (0 ** -1 included), as in PyTorch; a number's exponent (a 0-dim
        # CPU tensor) is looked at directly, so the usual case costs no pass
        if b.dim() or b._device.type != "cpu" or b._dtype._half or b._storage[b._offset] == 0:
            ga = ga.masked_fill(b == 0, 0)
    gb = g * (out * a.log()).masked_fill((a == 0) & (b >= 0), 0) if need_b else None
    return ga, gb


_BINARY = {
    "add": lambda a, b, y, g: (g, g),
    "sub": lambda a, b, y, g: (g, -g),
    "mul": lambda a, b, y, g: (g * b if b is not None else None, g * a if a is not None else None),
    "div": lambda a, b, y, g: (g / b, -g * a / (b * b)),
    "pow": lambda a, b, y, g: _pow_grad(a, b, y, g),
    "maximum": lambda a, b, y, g: _maxmin_grad(a, b, g, True),
    "minimum": lambda a, b, y, g: _maxmin_grad(a, b, g, False),
    "atan2": lambda a, b, y, g: (g * b / (a * a + b * b), -g * a / (a * a + b * b)),
    "remainder": lambda a, b, y, g: (g, -g * (a / b).floor()),
    "fmod": lambda a, b, y, g: (g, -g * (a / b).trunc()),
    "floor_divide": lambda a, b, y, g: (g * 0, g * 0),
    "copysign": lambda a, b, y, g: (g * a.sign() * y.sign(), g * 0),
}


class _Binary(Function):
    op = None
    grad = None

    @classmethod
    def forward(cls, ctx, a, b):
        if a._shape == b._shape and a._contig and b._contig:
            out = launch.binary_same(cls.op, a, b)
        else:
            out = launch.binary(cls.op, a, b)
        need_a, need_b = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        if cls.op in ("add", "sub"):
            ctx.save_for_backward()
        elif cls.op == "mul":
            ctx.save_for_backward(a if need_b else None, b if need_a else None, None)
        else:
            ctx.save_for_backward(a, b, out.detach() if cls.op == "copysign" or cls.op == "pow" and need_b else None)
        return out

    @classmethod
    def backward(cls, ctx, g):
        saved = ctx.saved_tensors
        a, b, y = saved if saved else (None, None, None)
        need_a, need_b = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        if cls.op == "pow":  # (a scalar exponent's gradient, a log and a mask per element, is never needed)
            if need_b and _state.enabled:
                y = _BINARY_FN[cls.op].apply(a, b)
            return _pow_grad(a, b, y, g, need_a, need_b)
        if y is not None and _state.enabled:
            y = _BINARY_FN[cls.op].apply(a, b)
        ga, gb = cls.grad(a, b, y, g)
        return (ga if need_a else None), (gb if need_b else None)


_BINARY_FN = {name: type("".join(p.capitalize() for p in name.split("_")), (_Binary,),
                         {"op": name, "grad": staticmethod(gr)})
              for name, gr in _BINARY.items()}
_ARITH_BOOL = {"add": "logical_or", "mul": "logical_and", "maximum": "logical_or", "minimum": "logical_and"}


_BINARY_SAME = launch.binary_same.__wrapped__  # what half_compute wraps; launchers are patched only while recording


def _binary(name, a, b, float_op=False):
    if type(a) is Tensor and type(b) is Tensor and a._dtype is b._dtype and a._device is b._device \
            and not float_op and a._dtype is not t_bool \
            and not ((a._requires_grad or b._requires_grad) and _state.enabled):
        if a._shape == b._shape and a._contig and b._contig:
            if _PROFILE[0] is None and not a._dtype._half:
                # nothing records launches and no half to widen: the launcher's body, without its wrapper (140 ns
                # of the 1.3 us of a 10-element add)
                return _BINARY_SAME(name, a, b)
            return launch.binary_same(name, a, b)
        return launch.binary(name, a, b)
    a, b = operands(a, b, float_op)
    dt = a._dtype
    if dt is t_bool:
        if name in _ARITH_BOOL:
            return launch.binary(_ARITH_BOOL[name], a, b, family="compare")
        if name == "sub":
            raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` "
                               "or `logical_xor()` operator instead.")
        a, b = a.to(uint8), b.to(uint8)
        dt = uint8
    if not dt.is_floating_point:
        if name in ("floor_divide", "remainder", "fmod") and bool((b == 0).any()):
            raise RuntimeError("ZeroDivisionError")
        if name == "pow" and bool((b < 0).any()):
            raise RuntimeError("Integers to negative integer powers are not allowed.")
    if _state.enabled and (a._requires_grad or b._requires_grad):
        return _BINARY_FN[name].apply(a, b)
    return launch.binary(name, a, b)


def _write_out(out, result):
    if out is None:
        return result
    if not isinstance(out, Tensor):
        raise TypeError(f"argument 'out' must be Tensor, not {type(out).__name__}")
    if out._shape != result._shape:
        out.resize_(result._shape)
    if not can_cast(result._dtype, out._dtype):
        raise RuntimeError(f"result type {type_label(result._dtype)} can't be cast to the desired output type "
                           f"{type_label(out._dtype)}")
    launch.copy_into(out, result)
    out._vc[0] += 1
    return out


def add(input, other, *, alpha=1, out=None):
    """input + alpha * other, with broadcasting and type promotion."""
    if alpha != 1:
        other = mul(other, alpha)
    return _write_out(out, _binary("add", input, other))


def sub(input, other, *, alpha=1, out=None):
    if alpha != 1:
        other = mul(other, alpha)
    return _write_out(out, _binary("sub", input, other))


subtract = sub


def rsub(input, other, *, alpha=1):
    return sub(other, input, alpha=alpha)


def mul(input, other, *, out=None):
    return _write_out(out, _binary("mul", input, other))


multiply = mul


def div(input, other, *, rounding_mode=None, out=None):
    """True division (ints give float32); rounding_mode 'trunc' or 'floor' rounds the quotient."""
    if rounding_mode is None:
        r = _binary("div", input, other, float_op=True)
    elif rounding_mode == "floor":
        r = floor_divide(input, other)
    elif rounding_mode == "trunc":
        a, b = operands(input, other)
        if a._dtype.is_floating_point:
            r = _binary("div", a, b).trunc()
        else:
            q = floor_divide(a, b)
            fix_up = (remainder(a, b) != 0) & ((a < 0) != (b < 0))
            r = q + fix_up.to(q.dtype)
    else:
        raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
                           f"'{rounding_mode}'")
    return _write_out(out, r)


divide = div
true_divide = div


def floor_divide(input, other, *, out=None):
    """Python's floor division: floor(a / b) with the remainder's sign rule (PyTorch's div_floor)."""
    return _write_out(out, _binary("floor_divide", input, other))


def remainder(input, other, *, out=None):
    return _write_out(out, _binary("remainder", input, other))


def fmod(input, other, *, out=None):
    return _write_out(out, _binary("fmod", input, other))


def pow(input, exponent, *, out=None):  # noqa: A001
    """input ** exponent (either may be a number)."""
    if isinstance(input, Tensor) and is_scalar(exponent) and not isinstance(exponent, bool):
        if exponent == 2 and input._dtype.is_floating_point:
            return _write_out(out, square(input))
        if exponent == 1:
            return _write_out(out, input.clone() if not input._requires_grad else input * 1)
    return _write_out(out, _binary("pow", input, exponent))


float_power = pow


def maximum(input, other, *, out=None):
    return _write_out(out, _binary("maximum", input, other))


def minimum(input, other, *, out=None):
    return _write_out(out, _binary("minimum", input, other))


fmax = maximum
fmin = minimum


def atan2(input, other, *, out=None):
    return _write_out(out, _binary("atan2", input, other, float_op=True))


arctan2 = atan2


def copysign(input, other, *, out=None):
    return _write_out(out, _binary("copysign", input, other, float_op=True))


def _compare(name, a, b):
    if type(a) is Tensor and type(b) is Tensor and a._dtype is b._dtype and a._device == b._device:
        return launch.binary(name, a, b, family="compare")
    a, b = operands(a, b)
    return launch.binary(name, a, b, family="compare")


def eq(input, other, *, out=None):
    return _write_out(out, _compare("eq", input, other))


def ne(input, other, *, out=None):
    return _write_out(out, _compare("ne", input, other))


def lt(input, other, *, out=None):
    return _write_out(out, _compare("lt", input, other))


def le(input, other, *, out=None):
    return _write_out(out, _compare("le", input, other))


def gt(input, other, *, out=None):
    return _write_out(out, _compare("gt", input, other))


def ge(input, other, *, out=None):
    return _write_out(out, _compare("ge", input, other))


not_equal, less, less_equal, greater, greater_equal = ne, lt, le, gt, ge


def logical_and(input, other, *, out=None):
    return _write_out(out, _compare("logical_and", input, other))


def logical_or(input, other, *, out=None):
    return _write_out(out, _compare("logical_or", input, other))


def logical_xor(input, other, *, out=None):
    return _write_out(out, _compare("logical_xor", input, other))


def _bitwise(name, a, b):
    a, b = operands(a, b)
    if a._dtype is t_bool and name in ("bitwise_and", "bitwise_or", "bitwise_xor"):
        return launch.binary({"bitwise_and": "logical_and", "bitwise_or": "logical_or",
                              "bitwise_xor": "logical_xor"}[name], a, b, family="compare")
    if a._dtype.is_floating_point or a._dtype is t_bool:
        kernel = {"bitwise_left_shift": "lshift", "bitwise_right_shift": "rshift"}.get(name, name)
        raise NotImplementedError(f"\"{kernel}_cpu\" not implemented for '{a._dtype.legacy}'")  # torch's type
    return launch.binary(name, a, b, family="bitwise")


def bitwise_and(input, other):
    return _bitwise("bitwise_and", input, other)


def bitwise_or(input, other):
    return _bitwise("bitwise_or", input, other)


def bitwise_xor(input, other):
    return _bitwise("bitwise_xor", input, other)


def bitwise_left_shift(input, other):
    return _bitwise("bitwise_left_shift", input, other)


def bitwise_right_shift(input, other):
    return _bitwise("bitwise_right_shift", input, other)


def bitwise_not(input):
    """``~x``: logical not of a bool tensor, two's-complement not of an integer tensor."""
    if input._dtype is t_bool:
        return logical_not(input)
    if input._dtype.is_floating_point:
        raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type tensors")
    ones = launch.scalar(-1 if input._dtype.is_signed else (1 << 8 * input._dtype.itemsize) - 1, input._dtype,
                         input._device)  # every bit set
    return launch.binary("bitwise_xor", input.contiguous() if not input._contig else input, ones, family="bitwise")


# ---------------------------------------------------------------------------------------------------------------
# where / clamp
# ---------------------------------------------------------------------------------------------------------------
class Where(Function):
    @staticmethod
    def forward(ctx, cond, a, b):
        ctx.save_for_backward(cond)
        return launch.where(cond, a, b)

    @staticmethod
    def backward(ctx, g):
        (cond,) = ctx.saved_tensors
        ga = where(cond, g, 0.0) if ctx.needs_input_grad[1] else None
        gb = where(cond, 0.0, g) if ctx.needs_input_grad[2] else None
        return None, ga, gb


def where(condition, input=None, other=None, *, out=None):
    """Elements of ``input`` where ``condition`` else ``other``; ``where(condition)`` is ``nonzero(as_tuple=True)``."""
    if input is None and other is None:
        from .index import nonzero
        return nonzero(condition, as_tuple=True)
    if not isinstance(condition, Tensor):
        raise TypeError("where(): argument 'condition' must be Tensor")
    if condition._dtype is not t_bool:
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor with dtype "
                           f"{type_label(condition._dtype)}")
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        from ..dtypes import result_type as _rt
        input = scalar_tensor(input, _rt(input, other), condition._device)
    a, b = operands(input, other)
    return _write_out(out, Where.apply(condition, a, b))


class Clamp(Function):
    @staticmethod
    def forward(ctx, x, lo, hi):
        if lo is not None and hi is not None and x._contig and lo.numel() == 1 and hi.numel() == 1 \
                and len(lo._shape) <= len(x._shape) and len(hi._shape) <= len(x._shape):
            y = launch.clamp_scalars(x, lo, hi)  # one pass
        else:
            y = x
            if lo is not None:
                y = launch.binary("maximum", y, lo)
            if hi is not None:
                # into the first pass's fresh result when it has the final shape (no second output to allocate)
                fresh = y is not x and y._shape == launch.broadcast_shapes(y._shape, hi._shape)
                y = launch.binary("minimum", y, hi, out=y if fresh else None)
        ctx.save_for_backward(x, lo, hi)
        return y

    @staticmethod
    def backward(ctx, g):
        x, lo, hi = ctx.saved_tensors
        keep = None
        if lo is not None:
            keep = x >= lo
        if hi is not None:
            keep = (x <= hi) if keep is None else keep & (x <= hi)
        return where(keep, g, 0.0), None, None  # a select, as PyTorch: an infinite g stays out where clamped


def clamp(input, min=None, max=None, *, out=None):  # noqa: A002
    """Limit values to [min, max] (numbers or tensors); gradient passes where min <= x <= max."""
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) and min._requires_grad or isinstance(max, Tensor) and max._requires_grad:
        r = input
        if min is not None:
            r = maximum(r, min)
        if max is not None:
            r = minimum(r, max)
        return _write_out(out, r)
    x = input
    lo = hi = None
    if min is not None:
        x, lo = operands(x, min)
    if max is not None:
        x, hi = operands(x, max)
        if lo is not None and lo._dtype is not x._dtype:
            x, lo = operands(x, lo)
    return _write_out(out, Clamp.apply(x, lo, hi))


clip = clamp


def clamp_min(input, min):  # noqa: A002
    return clamp(input, min=min)


def clamp_max(input, max):  # noqa: A002
    return clamp(input, max=max)


def lerp(input, end, weight):
    """input + weight * (end - input), evaluated from the nearer end as PyTorch does (exact at weight 0 and 1)."""
    if isinstance(input, Tensor) and not input._dtype.is_floating_point:  # PyTorch's type for this
        raise NotImplementedError(f"\"lerp_kernel_scalar\" not implemented for '{input._dtype.legacy}'")
    diff = end - input
    if isinstance(weight, Tensor):
        return where(weight.abs() < 0.5, input + weight * diff, end - diff * (1 - weight))
    return input + diff * weight if -0.5 < weight < 0.5 else end - diff * (1 - weight)


def addcmul(input, tensor1, tensor2, *, value=1):
    return input + tensor1 * tensor2 * value if value != 1 else input + tensor1 * tensor2


def addcdiv(input, tensor1, tensor2, *, value=1):
    return input + tensor1 / tensor2 * value if value != 1 else input + tensor1 / tensor2


# ---------------------------------------------------------------------------------------------------------------
# in-place forms
# ---------------------------------------------------------------------------------------------------------------
def check_inplace(t):
    for n, st in zip(t._shape, t._stride):
        if st == 0 and n > 1:
            raise RuntimeError("unsupported operation: more than one element of the written-to tensor refers to a "
                               "single memory location. Please clone() the tensor before performing the operation.")
    if _state.enabled:
        if t._requires_grad and t._grad_fn is None:
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
        base = t._base
        if base is not None and base._requires_grad and base._grad_fn is None:
            raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place operation.")
        if base is not None and not t._requires_grad and base._requires_grad and getattr(t, "_ngv", False):
            raise RuntimeError("A view was created in no_grad mode and is being modified inplace with grad mode "
                               "enabled. Given that this use case is ambiguous and error-prone, it is forbidden. "
                               "Move both the view and the in-place op inside the no_grad block (if the write should "
                               "not be tracked) or both outside it (if it should).")
        fn = t._grad_fn
        if fn is not None and type(fn).__name__ == "_SplitOutput":
            op = fn.name()[:-len("Backward0")]
            raise RuntimeError(f"Output {fn._edges[0][1]} of {op} is a view and is being modified inplace. This view "
                               "is the output of a function that returns multiple views. Such functions do not allow "
                               "the output views to be modified inplace. You should replace the inplace operation by "
                               "an out-of-place one.")


def _snapshot(t):
    """The current value of ``t`` as a separate tensor that keeps t's place in the graph: an in-place op records
    its out-of-place form on the snapshot, so what backward saves is not overwritten by the write-back."""
    snap = launch.contiguous(t)
    snap._requires_grad = t._requires_grad
    snap._grad_fn = t.grad_fn  # (the property: a view refreshes its history first)
    if _off_base(t):
        from .contraction import AsStrided
        snap._grad_fn = AsStrided.apply(t._base, t._shape, t._stride, t._offset)._grad_fn
    return snap


def _off_base(t):
    """Whether ``t`` is an as_strided view taken of another view of its base (``y[1:].as_strided(...)``): its own
    history reaches only what that view covers, but an in-place write into it replaces base elements it may
    address outside that view, so the old values' gradient goes to the base's history (as PyTorch's CopySlices
    routes it)."""
    from .contraction import AsStrided
    fn, base = t._grad_fn, t._base
    return type(fn) is AsStrided and base is not None and base._requires_grad and \
        fn.geo[:3] != (base._shape, base._stride, base._offset)


class CopySlices(Function):
    """An in-place write into a view of ``base``: base's new history. Gradient: the written region of g goes to
    the written value, the rest to base's old history."""

    @staticmethod
    def forward(ctx, base, value, geometry):
        ctx.geometry = geometry
        return base

    @staticmethod
    def backward(ctx, g):
        g = g.detach().contiguous()
        shape, stride, offset = ctx.geometry
        region = g.as_strided(shape, stride, g._offset + offset)
        g_value = launch.contiguous(region)
        g_base = launch.contiguous(g)
        launch.fill_(g_base.as_strided(shape, stride, offset), 0)
        return g_base, g_value, None


def inplace_record(self, compute):
    """Run ``compute(snapshot_of_self)`` (an out-of-place, recorded op) and write the result into self."""
    result = compute(_snapshot(self))
    return assign_(self, result)


def assign_(self, result):
    """Write ``result`` into ``self`` in place and make ``self`` take over result's place in the graph."""
    if result._shape != self._shape:
        raise RuntimeError(f"output with shape {list(self._shape)} doesn't match the broadcast shape "
                           f"{list(result._shape)}")
    if result._dtype is not self._dtype and not can_cast(result._dtype, self._dtype):
        raise RuntimeError(f"result type {type_label(result._dtype)} can't be cast to the desired output type "
                           f"{type_label(self._dtype)}")
    launch.copy_into(self, result.detach())
    self._vc[0] += 1
    if result._grad_fn is not None and self._dtype.is_floating_point:
        base = self._base
        if base is not None and _state.enabled:
            _copy_slices(base, result, self)
        # (a written view keeps the op's node rather than an as_strided of its base's new one, as PyTorch makes:
        # the compiler replays a composite op on a detached input, which is no view, and checks that it makes the
        # same nodes as at its capture)
        _take_place(self, result._grad_fn)
    return self


def _copy_slices(base, value, view):
    """Record the write of ``value`` into ``view`` (a view of ``base``): base's new history."""
    if not base._contig:
        raise RuntimeError("an in-place operation on a view of a non-contiguous tensor cannot be recorded "
                           "for autograd in minitorch; call .contiguous() on the base first")
    CopySlices.apply(base, value, (view._shape, view._stride, view._offset - base._offset))


def _take_place(self, fn):
    """``self``, just written in place, gets the history ``fn``. Hooks registered on it before stay with its old
    history (they see the old value's gradient, as in PyTorch); ``retain_grad()`` moves to the new one."""
    old = self._grad_fn
    self._grad_fn = fn
    self._gv = self._vc[0]
    self._requires_grad = True
    self._hooks = None
    if self._retains_grad:
        kept = getattr(old, "_retained", None)
        if kept is not None and kept() is self:
            old._retained = None
        fn._retain(self)


def _view_takes_place(view):
    """A view just written in place (its base's new history recorded): its own history is an as_strided of the
    base's, as in PyTorch (gradient from the view passes through the base's node: a hook or retain_grad on the base
    sees it). Hooks registered on the view before stay with its old history; retain_grad() moves."""
    view._hooks = None
    view._requires_grad = True
    refresh_view(view)


class Overwrite(Function):
    """The history of a tensor written in place with values that read none of its old ones (``zero_``, ``fill_``
    with a number, ``copy_``, the random fills): its old values get a zero gradient, as PyTorch's ZeroBackward0,
    FillBackward2, NormalBackward0 ... give them; ``copy_``'s source, when it requires grad, gets the gradient
    summed over the dimensions it was broadcast along and cast to its dtype."""

    @staticmethod
    def forward(ctx, old, label, src):
        ctx.label = label
        if src is not None:
            ctx.src = (src._shape, src._dtype)
        return old.detach()

    @staticmethod
    def backward(ctx, g):
        from ..creation import zeros_like
        g_src = None
        if ctx.needs_input_grad[2]:
            shape, dtype = ctx.src
            g_src = g.sum_to_size(shape) if g._shape != shape else g
            g_src = g_src.to(dtype)
        return zeros_like(g) if ctx.needs_input_grad[0] else None, None, g_src


def overwritten(self, label, src=None):
    """Record an in-place write to ``self`` that read none of its old values (called after the write and its
    version bump; ``label`` is the node's PyTorch name, ``src`` copy_'s source). A view records the write into its
    base (the written region gets no gradient of the base's old history); its own history is then regenerated
    from the base's on first use (an as_strided of it, as in PyTorch)."""
    if not _state.enabled or not self._dtype.is_floating_point:
        return self
    grad_src = src is not None and src._requires_grad
    if not (self._requires_grad or grad_src):
        return self
    base = self._base
    if base is None:
        _take_place(self, Overwrite.apply(self, label, src if grad_src else None)._grad_fn)
    elif base._requires_grad or grad_src:
        value = Overwrite.apply(self.detach(), label, src) if grad_src else self.detach()
        _copy_slices(base, value, self)
        _view_takes_place(self)
    return self


_OVERLAP = ("unsupported operation: some elements of the input tensor and the written-to tensor refer to a single "
            "memory location. Please clone() the tensor before performing the operation.")


def _overlaps(a, b):
    """Whether two views of one storage share memory without being the same view (written-to vs read-from)."""
    if a._storage is not b._storage:
        return False
    if a._offset == b._offset and a._stride == b._stride and a._shape == b._shape:
        return False
    if not (a._contig and b._contig):
        return False  # interleaved views may be disjoint; like PyTorch, only provable overlap is an error
    lo_a, hi_a = a._offset, a._offset + sum((n - 1) * s for n, s in zip(a._shape, a._stride))
    lo_b, hi_b = b._offset, b._offset + sum((n - 1) * s for n, s in zip(b._shape, b._stride))
    return lo_a <= hi_b and lo_b <= hi_a and a.numel() > 0 and b.numel() > 0


def _binary_inplace(name, self, other):
    check_inplace(self)
    if type(other) is not float and isinstance(other, Tensor) and _overlaps(self, other):
        raise RuntimeError(_OVERLAP)
    if type(other) is Tensor:
        fast = other._dtype is self._dtype and other._device == self._device
    else:
        fast = is_scalar(other) and (self._dtype.is_floating_point or not isinstance(other, float))
        if fast:
            other = scalar_tensor(other, self._dtype, self._device)
    if fast and self._contig and self._dtype is not t_bool and not recording(self, other) \
            and (other._shape == self._shape or len(other._shape) <= len(self._shape)):
        if other._shape == self._shape or launch.broadcast_shapes(self._shape, other._shape) == self._shape:
            if not self._dtype.is_floating_point and name in ("floor_divide", "remainder") and bool((other == 0).any()):
                raise RuntimeError("ZeroDivisionError")
            launch.binary(name, self, other, out=self)
            self._vc[0] += 1
            return self
    if recording(self, other):
        return inplace_record(self, lambda snap: _binary(name, snap, other))
    return assign_(self, _binary(name, self, other))


def add_(self, other, *, alpha=1):
    if alpha != 1:
        other = mul(other, alpha)
    return _binary_inplace("add", self, other)


def sub_(self, other, *, alpha=1):
    if alpha != 1:
        other = mul(other, alpha)
    return _binary_inplace("sub", self, other)


def mul_(self, other):
    return _binary_inplace("mul", self, other)


def div_(self, other, *, rounding_mode=None):
    if rounding_mode is None and self._dtype.is_floating_point:
        return _binary_inplace("div", self, other)
    check_inplace(self)
    return inplace_record(self, lambda snap: div(snap, other, rounding_mode=rounding_mode))


def pow_(self, exponent):
    return _binary_inplace("pow", self, exponent)


def _inplace_unary(fn):
    def method(self, *args, **kwargs):
        check_inplace(self)
        if recording(self, *args):
            if getattr(fn, "saves_output_only", False) and not _off_base(self):  # its node never reads self again
                return assign_(self, fn(self, *args, **kwargs))
            return inplace_record(self, lambda snap: fn(snap, *args, **kwargs))
        return assign_(self, fn(self, *args, **kwargs))
    method.__name__ = method.__qualname__ = fn.__name__ + "_"
    return method


def _inplace_view(fn):
    """``x.unsqueeze_(0)``, ``x.t_()`` ...: x itself takes the view's shape and strides (its data stays where it is),
    and, when recording, the view's place in the graph, as PyTorch's in-place view ops do."""
    def method(self, *args, **kwargs):
        if _state.enabled and self._requires_grad and self._grad_fn is None:
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
        v = fn(self, *args, **kwargs)
        self._shape, self._stride, self._offset, self._contig = v._shape, v._stride, v._offset, v._contig
        self._vc[0] += 1  # (a change of the tensor, as PyTorch counts it: a value saved before is refused)
        LAYOUT_EPOCH[0] += 1
        if v._grad_fn is not None:
            self._grad_fn = v._grad_fn
            self._gv = self._vc[0]
        return self
    method.__name__ = method.__qualname__ = fn.__name__ + "_"
    return method


def zero_(self):
    return fill_(self, 0, _label="ZeroBackward0")


def fill_(self, value, *, _label="FillBackward2"):
    """Fill with a number (or a 0-d tensor) in place."""
    check_inplace(self)
    if isinstance(value, Tensor):
        if value.dim() != 0:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with "
                               f"{value.dim()} dimensions.")
        if recording(value):
            return copy_(self, value, _label="FillBackward3")
        value = value.item()
    launch.fill_(self, value)
    self._vc[0] += 1
    return overwritten(self, _label)


def copy_(self, src, non_blocking=False, *, _label="torch::autograd::CopyBackwards"):
    """Copy ``src`` (broadcast, cast) into this tensor in place."""
    check_inplace(self)
    if not isinstance(src, Tensor):
        raise TypeError(f"copy_(): argument 'src' must be Tensor, not {type(src).__name__}")
    launch.broadcast_shapes(self._shape, src._shape)
    if src._device != self._device:
        src = src.to(self._device)
    if src._storage is self._storage and not (src._shape == self._shape and src._stride == self._stride and
                                              src._offset == self._offset):
        if _overlaps(self, src):
            raise RuntimeError(_OVERLAP)
        launch.copy_into(self, launch.contiguous(src))  # (interleaved views may still share elements)
    else:
        launch.copy_into(self, src)
    self._vc[0] += 1
    return overwritten(self, _label, src if src._dtype.is_floating_point else None)


def clamp_(self, min=None, max=None):  # noqa: A002
    check_inplace(self)
    return inplace_record(self, lambda snap: clamp(snap, min, max))


clip_ = clamp_


def masked_fill_(self, mask, value):
    from .index import masked_fill
    check_inplace(self)
    return inplace_record(self, lambda snap: masked_fill(snap, mask, value))
