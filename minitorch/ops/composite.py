"""Composites PyTorch programs use that are built entirely from other differentiable ops (elementwise math such as
logaddexp and hypot, shape helpers such as column_stack and repeat_interleave, statistics such as quantile).

Nothing here launches a kernel of its own: every function is a few calls of existing ops, so autograd, every
device and the dtype rules come from those ops. Where an op needs a number from the data to size its output
(``repeat_interleave`` with tensor repeats and no ``output_size``, ``quantile``'s q range check, ``cov``'s
weight checks), it reads it back to the host once, as PyTorch does.
"""
import builtins
import itertools
import math

import numpy as np

from ..autograd.function import Function
from ..dtypes import bool as t_bool, float64, get_default_dtype, int32, int64, result_type
from ..tensor import Tensor
from . import elementwise as E, index as I, matmul as M, reduce as R, shape as S
from .common import cast, return_type, type_label, warn, wrap_dim

_range = builtins.range

FUNCTIONS = [
    # elementwise
    "asinh", "arcsinh", "acosh", "arccosh", "atanh", "arctanh", "erfc", "deg2rad", "rad2deg", "sinc", "logit",
    "xlogy", "hypot", "logaddexp", "logaddexp2", "heaviside", "nan_to_num", "positive", "isneginf", "isposinf",
    "isreal", "isin", "aminmax", "frexp", "ldexp", "fill", "detach", "range",
    # shape
    "atleast_3d", "column_stack", "row_stack", "dstack", "hsplit", "vsplit", "dsplit", "fliplr", "flipud",
    "diagflat", "repeat_interleave", "split_with_sizes", "unsafe_split", "unsafe_chunk", "narrow_copy",
    "combinations", "index_fill", "index_copy", "select_scatter", "slice_scatter", "diagonal_scatter", "put",
    "constant_pad_nd", "vander",
    # statistics and calculus
    "quantile", "nanquantile", "cov", "corrcoef", "trapezoid", "trapz", "cumulative_trapezoid", "renorm", "addmv",
    "addr", "addbmm", "gradient",
]  # exported as minitorch.<name>
METHODS = [
    "asinh", "arcsinh", "acosh", "arccosh", "atanh", "arctanh", "erfc", "deg2rad", "rad2deg", "sinc", "logit",
    "xlogy", "hypot", "logaddexp", "logaddexp2", "heaviside", "nan_to_num", "positive", "isneginf", "isposinf",
    "isreal", "aminmax", "frexp", "ldexp", "hsplit", "vsplit", "dsplit", "fliplr", "flipud", "diagflat",
    "repeat_interleave", "split_with_sizes", "unsafe_split", "unsafe_chunk", "narrow_copy", "index_fill",
    "index_fill_", "index_copy", "index_copy_", "select_scatter", "slice_scatter", "diagonal_scatter", "put",
    "put_", "quantile", "nanquantile", "cov", "corrcoef", "renorm", "addmv", "addr", "addbmm",
]  # attached as Tensor.<name>


def _tensor_arg(x, fn, name="input", pos=None):
    if not isinstance(x, Tensor):
        where = f" (position {pos})" if pos is not None else ""
        raise TypeError(f"{fn}(): argument '{name}'{where} must be Tensor, not {type(x).__name__}")


def _floating(x, fn):
    """``x`` as a floating tensor (integers and bool go to the default dtype, as PyTorch's unary float ops)."""
    _tensor_arg(x, fn)
    return x if x._dtype.is_floating_point else cast(x, get_default_dtype())


def _full(value, like, dtype=None):
    from ..creation import full
    return full(like._shape, value, dtype=dtype or like._dtype, device=like.device)


class _Pointwise(Function):
    """f(x) computed by ``fwd`` (any ops, unrecorded) with gradient ``g * dfdx(x)`` written in Tensor ops."""

    @staticmethod
    def forward(ctx, x, fwd, dfdx):
        ctx.save_for_backward(x)
        ctx.dfdx = dfdx
        return fwd(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * ctx.dfdx(x), None, None


# ---------------------------------------------------------------------------------------------------------------
# elementwise
# ---------------------------------------------------------------------------------------------------------------
def _asinh_fwd(x):
    a = x.abs()
    big = a > 1
    ab = E.where(big, a, 1.0)
    as_ = E.where(big, 0.0, a)
    # log(a + sqrt(a^2 + 1)) without overflow for large a nor cancellation for small a
    r = E.where(big, ab.log() + (1 + (1 / (ab * ab))).sqrt().log1p(),
                (as_ + as_ * as_ / (1 + (1 + as_ * as_).sqrt())).log1p())
    return E.copysign(r, x)


def asinh(input, *, out=None):
    """Inverse hyperbolic sine, elementwise (integers promote to the default float dtype)."""
    x = _floating(input, "asinh")
    r = _Pointwise.apply(x, _asinh_fwd, lambda x: (x * x + 1).rsqrt())
    return E._write_out(out, r)


def _acosh_fwd(x):
    big = x > 2
    xb = E.where(big, x, 2.0)
    t = E.where(big, 0.0, x - 1)
    return E.where(big, xb.log() + (1 - 1 / (xb * xb)).sqrt().log1p(), (t + (t * 2 + t * t).sqrt()).log1p())


def acosh(input, *, out=None):
    """Inverse hyperbolic cosine, elementwise; NaN below 1."""
    x = _floating(input, "acosh")
    r = _Pointwise.apply(x, _acosh_fwd, lambda x: ((x - 1) * (x + 1)).rsqrt())
    return E._write_out(out, r)


def _atanh_fwd(x):
    a = x.abs()  # odd: computing on |x| keeps the precision of 1 - |x| near -1 as near 1
    return E.copysign((a * 2 / (1 - a)).log1p() * 0.5, x)


def atanh(input, *, out=None):
    """Inverse hyperbolic tangent, elementwise; +-inf at +-1, NaN outside [-1, 1]."""
    x = _floating(input, "atanh")
    r = _Pointwise.apply(x, _atanh_fwd, lambda x: 1 / ((1 - x) * (1 + x)))
    return E._write_out(out, r)


arcsinh, arccosh, arctanh = asinh, acosh, atanh


def _erfc_fwd(x):
    """1 - erf(x) up to 2.5; above, the continued fraction erfc(x) = exp(-x^2) / (sqrt(pi) (x + (1/2) / (x + 1 /
    (x + (3/2) / ...)))), 30 terms (relative error below 1e-14 from 2.5), so the tail keeps its precision."""
    xd = cast(x, float64)
    tail = xd > 2.5
    xt = E.where(tail, xd, 3.0)
    f = xt
    for k in _range(30, 0, -1):
        f = xt + (k * 0.5) / f
    cf = (-(xt * xt)).exp() / (f * math.sqrt(math.pi))
    return cast(E.where(tail, cf, 1 - E.erf(xd)), x._dtype)


def erfc(input, *, out=None):
    """Complementary error function 1 - erf(x), accurate in the tail (float32 is computed in float64)."""
    x = _floating(input, "erfc")
    r = _Pointwise.apply(x, _erfc_fwd, lambda x: (-(x * x)).exp() * (-2.0 / math.sqrt(math.pi)))
    return E._write_out(out, r)


def deg2rad(input, *, out=None):
    """Degrees to radians."""
    x = _floating(input, "deg2rad")
    return E._write_out(out, x * (math.pi / 180.0))


def rad2deg(input, *, out=None):
    """Radians to degrees."""
    x = _floating(input, "rad2deg")
    return E._write_out(out, x * (180.0 / math.pi))


def _sinc_fwd(x):
    zero = x == 0
    px = E.where(zero, 1.0, x) * math.pi
    return E.where(zero, 1.0, px.sin() / px)


def _sinc_grad(x):
    zero = x == 0
    xs = E.where(zero, 1.0, x)
    px = xs * math.pi
    return E.where(zero, 0.0, (px.cos() * px - px.sin()) / (px * xs))


def sinc(input, *, out=None):
    """Normalised sinc: sin(pi x) / (pi x), and 1 at 0."""
    x = _floating(input, "sinc")
    return E._write_out(out, _Pointwise.apply(x, _sinc_fwd, _sinc_grad))


def _logit_grad(eps):
    def dfdx(x):
        d = 1 / (x * (1 - x)).abs()  # x (1 - x) >= 0 wherever d is used; abs makes -0.0 give +inf, as PyTorch
        if eps is None:
            return E.where((x < 0) | (x > 1), float("nan"), d)
        return E.where((x < eps) | (x > 1 - eps), 0.0, d)
    return dfdx


def logit(input, eps=None, *, out=None):
    """log(p / (1 - p)); with ``eps``, p is first clamped to [eps, 1 - eps] (zero gradient outside). The gradient
    is 1 / (p (1 - p)) as PyTorch's (+-inf at 0 and 1, NaN outside [0, 1] without eps)."""
    x = _floating(input, "logit")

    def fwd(x):
        if eps is not None:
            x = E.clamp(x, eps, 1 - eps)
        return (x / (1 - x)).log()
    return E._write_out(out, _Pointwise.apply(x, fwd, _logit_grad(eps)))


def _pair(input, other, fn, float_op=True):
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError(f"{fn}() received an invalid combination of arguments: expected at least one Tensor")
    from .common import operands
    return operands(input, other, float_op=float_op)


class _XLogY(Function):
    """x * log(y), 0 where x == 0 (unless y is NaN); d/dx = log(y) (0 where x == 0 and y <= 0) and d/dy = x / y,
    as PyTorch's."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        zero = (x == 0) & ~y.isnan()
        return E.where(zero, 0.0, x * E.where(zero, 1.0, y).log())

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        gx = None
        if ctx.needs_input_grad[0]:
            gx = E.where((x == 0) & (y <= 0), 0.0, g * y.log()).sum_to_size(x._shape)
        gy = (g * x / y).sum_to_size(y._shape) if ctx.needs_input_grad[1] else None
        return gx, gy


def xlogy(input, other, *, out=None):
    """input * log(other), with 0 wherever input is 0 (unless other is NaN)."""
    x, y = _pair(input, other, "xlogy")
    return E._write_out(out, _XLogY.apply(x, y))


def _float_pair(input, other, fn):
    _tensor_arg(input, fn)
    _tensor_arg(other, fn, "other")
    x, y = _pair(input, other, fn, float_op=False)
    if not x._dtype.is_floating_point:
        raise NotImplementedError(f"\"{fn}_cpu\" not implemented for '{type_label(x._dtype).replace('Tensor', '')}'")
    return x, y


def hypot(input, other, *, out=None):
    """sqrt(input^2 + other^2) without overflow or underflow in the squares."""
    x, y = _float_pair(input, other, "hypot")
    ax, ay = x.abs(), y.abs()
    m = E.maximum(ax, ay).detach()
    inf = ax.isinf() | ay.isinf()
    ms = E.where((m == 0) | inf, 1.0, m)
    # m is a constant scale: d/dx [m sqrt((x/m)^2 + (y/m)^2)] = x / hypot, as it should
    h = ((x / ms).square() + (y / ms).square()).sqrt() * ms
    return E._write_out(out, E.where(inf, float("inf"), h))


def logaddexp(input, other, *, out=None):
    """log(exp(input) + exp(other)) without overflow."""
    x, y = _float_pair(input, other, "logaddexp")
    both_inf = (x == y) & x.isinf()
    d = E.where(both_inf, 0.0, x - y)
    r = E.maximum(x, y) + (-d.abs()).exp().log1p()
    return E._write_out(out, E.where(both_inf, x, r))


def logaddexp2(input, other, *, out=None):
    """log2(2**input + 2**other) without overflow."""
    x, y = _float_pair(input, other, "logaddexp2")
    both_inf = (x == y) & x.isinf()
    d = E.where(both_inf, 0.0, x - y)
    r = E.maximum(x, y) + (-d.abs()).exp2().log1p() * (1 / math.log(2.0))
    return E._write_out(out, E.where(both_inf, x, r))


def heaviside(input, values, *, out=None):
    """Step function: 0 below 0, 1 above, ``values`` at 0 (not differentiable, as in PyTorch)."""
    _tensor_arg(input, "heaviside")
    _tensor_arg(values, "heaviside", "values")
    if input._dtype is not values._dtype:
        raise RuntimeError("heaviside is not yet implemented for tensors with different dtypes.")
    x, v = input.detach(), values.detach()
    return E._write_out(out, E.where(x == 0, v, (x > 0).to(x._dtype)))


def nan_to_num(input, nan=0.0, posinf=None, neginf=None, *, out=None):
    """NaN -> ``nan``, +inf -> ``posinf`` (default: the dtype's largest value), -inf -> ``neginf`` (its lowest)."""
    _tensor_arg(input, "nan_to_num")
    if not input._dtype.is_floating_point:
        return E._write_out(out, input.clone())
    fi = np.finfo(input._dtype.np)
    posinf = float(fi.max) if posinf is None else posinf
    neginf = float(fi.min) if neginf is None else neginf
    x = input
    r = E.where(x.isnan(), float(nan), E.where(x == float("inf"), float(posinf),
                                              E.where(x == float("-inf"), float(neginf), x)))
    return E._write_out(out, r.to(x._dtype))


def positive(input):
    """``input`` itself (bool raises, as PyTorch's unary plus)."""
    _tensor_arg(input, "positive")
    if input._dtype is t_bool:
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input


def isposinf(input, *, out=None):
    """Whether each element is +inf."""
    _tensor_arg(input, "isposinf")
    if not input._dtype.is_floating_point:
        return E._write_out(out, _full(False, input, t_bool))
    return E._write_out(out, input.detach() == float("inf"))


def isneginf(input, *, out=None):
    """Whether each element is -inf."""
    _tensor_arg(input, "isneginf")
    if not input._dtype.is_floating_point:
        return E._write_out(out, _full(False, input, t_bool))
    return E._write_out(out, input.detach() == float("-inf"))


def isreal(input):
    """Whether each element has zero imaginary part: always True for minitorch's real dtypes."""
    _tensor_arg(input, "isreal")
    return _full(True, input, t_bool)


def isin(elements, test_elements, *, assume_unique=False, invert=False):
    """Whether each of ``elements`` occurs in ``test_elements`` (a sort of the test set and one binary search per
    element). Either argument may be a Python number, not both."""
    from .search import searchsorted
    from .sorting import sort
    from ..creation import tensor
    if not isinstance(elements, Tensor) and not isinstance(test_elements, Tensor):
        raise TypeError("isin() received an invalid combination of arguments: expected at least one Tensor")
    dev = elements.device if isinstance(elements, Tensor) else test_elements.device
    dt = result_type(elements, test_elements)
    e = elements if isinstance(elements, Tensor) else tensor(elements, dtype=dt, device=dev)
    t = test_elements if isinstance(test_elements, Tensor) else tensor([test_elements], dtype=dt, device=dev)
    if dt is t_bool:
        raise RuntimeError("Unsupported input type encountered for isin(): Bool")
    e, t = cast(e.detach(), dt), cast(t.detach(), dt).reshape(-1)
    if t.numel() == 0:
        found = _full(False, e, t_bool)
    else:
        s = sort(t).values  # NaN last
        # search a copy whose NaNs read +inf (still sorted); the first position >= e then holds e if e is there
        key = E.where(s.isnan(), float("inf"), s) if dt.is_floating_point else s
        pos = E.clamp(searchsorted(key, e.contiguous()), max=t.numel() - 1)
        found = s[pos.reshape(-1)].reshape(e._shape) == e
    return ~found if invert else found


_AMINMAX = return_type("aminmax", ("min", "max"))


def aminmax(input, *, dim=None, keepdim=False):
    """(min, max) over ``dim`` (all elements when None), as the named tuple ``aminmax(min, max)``."""
    _tensor_arg(input, "aminmax")
    if input.numel() == 0:
        if dim is None:
            raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the operation has no "
                               "identity.")
    if dim is None:
        if keepdim:
            dims = tuple(_range(input.dim()))
            return _AMINMAX(R.amin(input, dims, True), R.amax(input, dims, True))
        flat = input.reshape(-1)
        return _AMINMAX(R.amin(flat, 0), R.amax(flat, 0))
    if input.dim() == 0:
        wrap_dim(dim, 1)
        return _AMINMAX(input.clone(), input.clone())
    d = wrap_dim(dim, input.dim())
    if input._shape[d] == 0:
        raise IndexError(f"aminmax: Expected reduction dim {d} to have non-zero size.")
    return _AMINMAX(R.amin(input, dim, keepdim), R.amax(input, dim, keepdim))


_FREXP = return_type("frexp", ("mantissa", "exponent"))


def frexp(input, *, out=None):
    """(mantissa, exponent) with input = mantissa * 2**exponent and 0.5 <= |mantissa| < 1 (0, inf, NaN are kept
    with exponent 0); exponent is int32."""
    _tensor_arg(input, "frexp")
    if not input._dtype.is_floating_point:
        raise RuntimeError("torch.frexp() only supports floating-point dtypes")
    x = input
    xd = x.detach()
    special = (xd == 0) | ~xd.isfinite()
    a = E.where(special, 1.0, xd.abs())
    e = a.log2().floor() + 1
    # scale in two halves so that 2**-e stays finite for subnormal inputs, then fix a rounding off by one
    h = (e * 0.5).floor()
    m = a * (-h).exp2() * (h - e).exp2()
    up = m >= 1
    e = E.where(up, e + 1, e)
    down = m < 0.5
    e = E.where(down, e - 1, e)
    e = E.where(special, 0.0, e)
    h = (e * 0.5).floor()
    mant = E.where(special, x, x * (-h).exp2() * (h - e).exp2())
    r = _FREXP(mant, e.to(int32))
    if out is not None:
        out[0].copy_(r[0])
        out[1].copy_(r[1])
        return _FREXP(*out)
    return r


def ldexp(input, other, *, out=None):
    """input * 2**other."""
    _tensor_arg(input, "ldexp")
    _tensor_arg(other, "ldexp", "other")
    return E._write_out(out, input * E.exp2(other))


def fill(input, value):
    """A new tensor of ``input``'s shape, dtype and device filled with ``value`` (a number or a 0-d tensor)."""
    _tensor_arg(input, "fill")
    if isinstance(value, Tensor):
        if value.dim() != 0:
            raise RuntimeError("fill_ only supports 0-dimension value tensor but got tensor with "
                               f"{value.dim()} dimensions.")
        return cast(value, input._dtype).expand(input._shape).clone()
    # a where with an all-true mask: the result is part of the graph (zero gradient), as PyTorch's
    return E.where(_full(True, input, t_bool), value, input).to(input._dtype)


def detach(input):
    """``input.detach()``."""
    _tensor_arg(input, "detach")
    return input.detach()


def range(start=0, end=None, step=1, *, out=None, dtype=None, layout=None, device=None,  # noqa: A001
          requires_grad=False):
    """Deprecated: values start, start + step, ... up to and INCLUDING end, in the default float dtype."""
    from ..creation import arange
    warn("torch.range is deprecated and will be removed in a future release because its behavior is inconsistent "
         "with Python's range builtin. Instead, use torch.arange, which produces values in [start, end).")
    if end is None:
        raise TypeError("range() missing 1 required positional argument: 'end'")
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (step > 0 and start > end) or (step < 0 and start < end):
        raise RuntimeError("upper bound and larger bound inconsistent with step sign")
    n = int(math.floor((end - start) / step)) + 1
    dt = dtype or get_default_dtype()
    r = (arange(n, dtype=float64, device=device) * step + start).to(dt)
    if requires_grad:
        r.requires_grad_()
    return E._write_out(out, r)


# ---------------------------------------------------------------------------------------------------------------
# shape
# ---------------------------------------------------------------------------------------------------------------
def _many(args, fn):
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        return list(args[0]), True
    for a in args:
        _tensor_arg(a, fn, "tensors")
    return list(args), len(args) != 1


def atleast_3d(*tensors):
    """Views with at least three dims: () -> (1, 1, 1), (N,) -> (1, N, 1), (M, N) -> (M, N, 1)."""
    ts, seq = _many(tensors, "atleast_3d")
    out = []
    for t in ts:
        if t.dim() == 0:
            t = t.reshape(1, 1, 1)
        elif t.dim() == 1:
            t = t.reshape(1, t._shape[0], 1)
        elif t.dim() == 2:
            t = t.unsqueeze(2)
        out.append(t)
    return tuple(out) if seq else out[0]


def _check_seq(tensors, fn):
    if isinstance(tensors, Tensor) or not isinstance(tensors, (tuple, list)):
        raise TypeError(f"{fn}(): argument 'tensors' (position 1) must be tuple of Tensors, not "
                        f"{type(tensors).__name__}")
    if not tensors:
        raise RuntimeError(f"{fn} expects a non-empty TensorList")


def column_stack(tensors, *, out=None):
    """Stack as columns: 0-d and 1-d tensors become (N, 1) columns, then concatenate along dim 1."""
    _check_seq(tensors, "column_stack")
    cols = [t.reshape(t.numel(), 1) if t.dim() <= 1 else t for t in tensors]
    return E._write_out(out, S.cat(cols, 1))


def row_stack(tensors, *, out=None):
    """Alias of vstack."""
    _check_seq(tensors, "row_stack")
    return E._write_out(out, S.vstack(tensors))


def dstack(tensors, *, out=None):
    """Concatenate along dim 2 after atleast_3d."""
    _check_seq(tensors, "dstack")
    return E._write_out(out, S.cat(list(atleast_3d(list(tensors))), 2))


def _nsplit(input, indices_or_sections, dim, fn, need):
    _tensor_arg(input, fn)
    if input.dim() < need:
        raise RuntimeError(f"torch.{fn} requires a tensor with at least {need} dimension{'s' if need > 1 else ''}, "
                           f"but got a tensor with {input.dim()} dimensions!")
    if isinstance(indices_or_sections, int):
        n = input._shape[dim]
        k = indices_or_sections
        if k == 0 or n % k:
            raise RuntimeError(f"torch.{fn} attempted to split along dimension {dim}, but the size of the dimension "
                               f"{n} is not divisible by the split_size {k}!")
    return S.tensor_split(input, indices_or_sections, dim)


def hsplit(input, indices_or_sections):
    """Split along dim 1 (dim 0 for 1-D inputs); an int must divide that dim exactly."""
    _tensor_arg(input, "hsplit")
    return _nsplit(input, indices_or_sections, 1 if input.dim() > 1 else 0, "hsplit", 1)


def vsplit(input, indices_or_sections):
    """Split along dim 0 of an input with at least 2 dims."""
    return _nsplit(input, indices_or_sections, 0, "vsplit", 2)


def dsplit(input, indices_or_sections):
    """Split along dim 2 of an input with at least 3 dims."""
    return _nsplit(input, indices_or_sections, 2, "dsplit", 3)


def fliplr(input):
    """Reverse dim 1."""
    _tensor_arg(input, "fliplr")
    if input.dim() < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return S.flip(input, (1,))


def flipud(input):
    """Reverse dim 0."""
    _tensor_arg(input, "flipud")
    if input.dim() < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return S.flip(input, (0,))


def diagflat(input, offset=0):
    """A 2-D matrix with the flattened input on diagonal ``offset``."""
    from .contraction import diag_embed
    _tensor_arg(input, "diagflat")
    return diag_embed(input.reshape(-1), offset)


def _repeat_index(repeats, output_size):
    """Index i repeated repeats[i] times, as one searchsorted over the running totals."""
    from ..creation import arange
    from .search import searchsorted
    if repeats.dim() > 1:
        raise RuntimeError("repeats must be 0-dim or 1-dim tensor")
    if repeats._dtype not in (int64, int32):
        raise RuntimeError(f"repeat_interleave only accept int32 and int64 repeats, got {type_label(repeats._dtype)}")
    repeats = repeats.reshape(-1).to(int64)
    if repeats.numel() == 0:
        return arange(0, dtype=int64, device=repeats.device)
    ends = R.cumsum(repeats, 0)
    if output_size is None:
        if int(R.amin(repeats, 0).item()) < 0:
            raise RuntimeError("repeats can not be negative")
        output_size = int(ends[-1].item())
    return searchsorted(ends, arange(output_size, dtype=int64, device=repeats.device), right=True)


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Repeat each element (or slice along ``dim``) ``repeats`` times, as one index_select; ``repeats`` is an int
    or a tensor with one count per element. ``repeat_interleave(repeats)`` gives the index itself.

    A tensor ``repeats`` without ``output_size`` reads its total back to the host (to size the output).
    """
    from ..creation import arange
    _tensor_arg(input, "repeat_interleave")
    if repeats is None:
        if dim is not None:
            raise TypeError("repeat_interleave() received an invalid combination of arguments")
        return _repeat_index(input, output_size)
    x = input.reshape(-1) if dim is None else input
    d = 0 if dim is None else wrap_dim(dim, max(x.dim(), 1))
    if x.dim() == 0:
        x = x.reshape(1)
    n = x._shape[d]
    if isinstance(repeats, Tensor) and repeats.dim() == 1 and repeats.numel() != 1:
        if repeats.numel() != n:
            raise RuntimeError(f"repeats must have the same size as input along dim, but got repeats.size(0) = "
                               f"{repeats.numel()} and input.size({d}) = {n}")
        idx = _repeat_index(repeats, output_size)
    else:
        if isinstance(repeats, Tensor):
            if repeats.dim() > 1:
                raise RuntimeError("repeats must be 0-dim or 1-dim tensor")
            r = int(repeats.item())
        else:
            r = int(repeats)
        if r < 0:
            raise RuntimeError("repeats can not be negative")
        if output_size is not None and output_size != n * r:
            raise RuntimeError(f"allocated size does not match required size: output_size = {output_size}, "
                               f"required = {n * r}")
        idx = arange(n, dtype=int64, device=x.device).unsqueeze(1).expand(n, r).reshape(-1)
    if idx._device != x._device:
        idx = idx.to(x.device)
    return I.index_select(x, d, idx)


def split_with_sizes(input, split_sizes, dim=0):
    """Split into pieces of the given sizes (which must add up to the dim)."""
    _tensor_arg(input, "split_with_sizes")
    return S.split(input, list(split_sizes), dim)


def _unsafe(pieces, input, *args):
    """The pieces as ordinary views, each its own Slice node, rather than outputs of one multi-output node: PyTorch
    lets them be written in place."""
    prev, S.SPLIT_NODE[0] = S.SPLIT_NODE[0], False
    try:
        return pieces(input, *args)
    finally:
        S.SPLIT_NODE[0] = prev


def unsafe_split(input, split_size, dim=0):
    """``split`` whose pieces may be written in place."""
    return _unsafe(S.split, input, split_size, dim)


def unsafe_chunk(input, chunks, dim=0):
    """``chunk`` whose pieces may be written in place."""
    return _unsafe(S.chunk, input, chunks, dim)


def narrow_copy(input, dim, start, length):
    """``narrow`` as a fresh copy."""
    return S.narrow(input, dim, start, length).clone()


def combinations(input, r=2, with_replacement=False):
    """All length-``r`` combinations of a 1-D tensor's elements, as the rows of a (count, r) tensor (the index
    lists depend only on the length, so they are made on the host and gathered once per column)."""
    from ..creation import tensor
    _tensor_arg(input, "combinations")
    if input.dim() != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(input._shape)}")
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return input[:0].clone()
    n = input._shape[0]
    gen = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    combos = list(gen(_range(n), r))
    idx = tensor(np.asarray(combos, dtype=np.int64).reshape(-1, r), device=input.device)
    cols = [I.index_select(input, 0, idx[:, k].contiguous()) for k in _range(r)]
    return S.stack(cols, 1)


def _same_device(a, b):
    if a._device != b._device:
        raise RuntimeError("Expected all tensors to be on the same device, but found at least two devices, "
                           f"{a._device} and {b._device}!")


def _dim_mask(input, dim, index, fn):
    """A bool tensor broadcastable to ``input``: True on the slices along ``dim`` that ``index`` names."""
    from ..creation import zeros
    _tensor_arg(index, fn, "index")
    if index._dtype is not int64:
        raise IndexError(f"{fn}_(): Expected dtype int64 for index.")
    if index.dim() > 1:
        raise IndexError(f"{fn}_(): Index is supposed to be a vector")
    _same_device(input, index)
    d = wrap_dim(dim, max(input.dim(), 1))
    n = input._shape[d] if input.dim() else 1
    hits = I.index_add(zeros(n, dtype=int64, device=input.device), 0, index.reshape(-1),
                       _full(1, index.reshape(-1)))
    shape = [1] * input.dim()
    if input.dim():
        shape[d] = n
    return hits.reshape(shape) > 0, d


def index_fill(input, dim, index, value):
    """A copy of ``input`` with the slices ``index`` along ``dim`` set to ``value`` (number or 0-d tensor)."""
    _tensor_arg(input, "index_fill")
    if isinstance(value, Tensor):
        if value.dim() != 0:
            raise RuntimeError("index_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                               f"{value.dim()} dimension(s).")
        value = cast(value, input._dtype)
    mask, _ = _dim_mask(input, dim, index, "index_fill")
    return E.where(mask, value, input).to(input._dtype)


def index_fill_(self, dim, index, value):
    """In-place index_fill."""
    return E.inplace_record(self, lambda x: index_fill(x, dim, index, value))


def index_copy(input, dim, index, source):
    """A copy of ``input`` whose slices ``index`` along ``dim`` are the slices of ``source`` in order."""
    from ..creation import zeros
    _tensor_arg(input, "index_copy")
    _tensor_arg(source, "index_copy", "source")
    if source._dtype is not input._dtype:
        raise RuntimeError(f"index_copy_(): self and source expected to have the same dtype, but got (self) "
                           f"{type_label(input._dtype)} and (source) {type_label(source._dtype)}")
    _tensor_arg(index, "index_copy", "index")
    if index._dtype is int64 and index.dim() <= 1:
        _check_index_copy(input, wrap_dim(dim, max(input.dim(), 1)), index, source)
    mask, d = _dim_mask(input, dim, index, "index_copy")
    if input.dim() == 0:
        return E.where(mask, source.reshape(()), input)
    placed = I.index_add(zeros(input._shape, dtype=input._dtype, device=input.device), d, index.reshape(-1),
                         source)
    return E.where(mask, placed, input)


def _check_index_copy(input, d, index, source):
    if input.dim() and source.dim() and source.dim() != input.dim():
        raise IndexError("index_copy_(): When source and destination are not scalars, their dimensionality must match. "
                         f"Source dimensionality ({source.dim()}), destination dimensionality ({input.dim()})")
    n_src = source._shape[d] if source.dim() else 1
    if index.numel() != n_src:
        raise IndexError(f"index_copy_(): Number of indices ({index.numel()}) should be equal to source.size(dim) "
                         f"({n_src})")
    dest_slice = [n for k, n in enumerate(input._shape) if k != d]
    src_slice = [n for k, n in enumerate(source._shape) if k != d]
    for k, (a, b) in enumerate(zip(dest_slice, src_slice)):
        if a != b:
            raise RuntimeError("index_copy_(): Source/destination tensor must have same slice shapes. Destination "
                               f"slice shape: {a} at dimension {k} and source slice shape: {b} at dimension {k}.")
    n = input._shape[d] if input.dim() else 1
    if index.numel():  # the one read-back: index_add would wrap negative indices, index_copy rejects them
        lo, hi = int(R.amin(index.reshape(-1), 0).item()), int(R.amax(index.reshape(-1), 0).item())
        if lo < 0 or hi >= n:
            raise IndexError(f"index_copy_(): index {lo if lo < 0 else hi} is out of bounds for dimension {d} with "
                             f"size {n}")


def index_copy_(self, dim, index, source):
    """In-place index_copy."""
    return E.inplace_record(self, lambda x: index_copy(x, dim, index, source))


def _scatter_into(input, src, key, name, view):
    _tensor_arg(input, name)
    _tensor_arg(src, name, "src")
    target = view(input)
    if tuple(src._shape) != tuple(target._shape):
        raise RuntimeError(f"expected src to have a size equal to the slice of self. src size = {list(src._shape)}, "
                           f"slice size = {list(target._shape)}")
    y = input.clone()
    y[key] = src
    return y


def select_scatter(input, src, dim, index):
    """A copy of ``input`` with ``input.select(dim, index)`` replaced by ``src``."""
    _tensor_arg(input, "select_scatter")
    d = wrap_dim(dim, input.dim())
    n = input._shape[d]
    if not -n <= index < n:
        raise IndexError(f"select(): index {index} out of range for tensor of size {list(input._shape)} at dimension "
                         f"{d}")
    key = (slice(None),) * d + (index,)
    return _scatter_into(input, src, key, "select_scatter", lambda t: S.select(t, d, index))


def slice_scatter(input, src, dim=0, start=None, end=None, step=1):
    """A copy of ``input`` with ``input[..., start:end:step, ...]`` (along ``dim``) replaced by ``src``."""
    d = wrap_dim(dim, input.dim())
    key = (slice(None),) * d + (slice(start, end, step),)
    return _scatter_into(input, src, key, "slice_scatter", lambda t: t[key])


def diagonal_scatter(input, src, offset=0, dim1=0, dim2=1):
    """A copy of ``input`` with ``input.diagonal(offset, dim1, dim2)`` replaced by ``src`` (an index_put on the
    flattened copy)."""
    from ..creation import arange
    _tensor_arg(input, "diagonal_scatter")
    _tensor_arg(src, "diagonal_scatter", "src")
    diag = S.diagonal(input, offset, dim1, dim2)
    if tuple(src._shape) != tuple(diag._shape):
        raise RuntimeError(f"expected src to have a size equal to the slice of self. src size = {list(src._shape)}, "
                           f"slice size = {list(diag._shape)}")
    # the flat positions of the diagonal in a contiguous copy, laid out as diagonal() lays them out
    lin = arange(input.numel(), dtype=int64, device=input.device).reshape(input._shape)
    pos = S.diagonal(lin, offset, dim1, dim2).reshape(-1)
    from .contraction import index_put
    flat = index_put(input.reshape(-1), (pos.contiguous(),), src.reshape(-1).to(input._dtype))
    return flat.reshape(input._shape)


def put(input, index, source, accumulate=False):
    """A copy of ``input`` (seen as 1-D) with ``source`` written at the flat positions ``index`` (added with
    ``accumulate``); negative indices count from the end."""
    from .contraction import index_put
    _tensor_arg(input, "put")
    _tensor_arg(index, "put", "index")
    _tensor_arg(source, "put", "source")
    if index._dtype is not int64:
        raise RuntimeError(f"put_(): Expected a long tensor for index, but got {type_label(index._dtype)}")
    if source._dtype is not input._dtype:
        raise RuntimeError(f"put_(): self and source expected to have the same dtype, but got self.dtype = "
                           f"{input.dtype} and source.dtype = {source.dtype}")
    if index.numel() != source.numel():
        raise IndexError(f"put_(): Expected source and index to have the same number of elements, but got "
                           f"source.numel() = {source.numel()}, index.numel() = {index.numel()}")
    _same_device(input, index)
    _same_device(input, source)
    n = input.numel()
    if index.numel():
        lo, hi = int(R.amin(index.reshape(-1), 0).item()), int(R.amax(index.reshape(-1), 0).item())
        if lo < -n or hi >= n:
            bad = hi if hi >= n else lo
            raise IndexError(f"out of range: tried to access index {bad} on a tensor of {n} elements.")
    flat = index_put(input.reshape(-1), (index.reshape(-1),), source.reshape(-1), accumulate)
    return flat.reshape(input._shape)


def put_(self, index, source, accumulate=False):
    """In-place put."""
    return E.inplace_record(self, lambda x: put(x, index, source, accumulate))


def constant_pad_nd(input, pad, value=0):
    """Pad (or, with negative amounts, crop) the last len(pad)//2 dims with ``value``; ``pad`` lists (before,
    after) pairs from the last dim backwards."""
    from ..creation import full
    _tensor_arg(input, "constant_pad_nd")
    pad = [int(p) for p in pad]
    if len(pad) % 2:
        raise RuntimeError(f"Length of pad must be even but instead it equals {len(pad)}")
    if len(pad) // 2 > input.dim():
        raise RuntimeError(f"Length of pad should be no more than twice the number of dimensions of the input. "
                           f"Pad length is {len(pad)} while the input has {input.dim()} dimensions.")
    out = input
    for i in _range(len(pad) // 2):
        d = input.dim() - 1 - i
        lo, hi = pad[2 * i], pad[2 * i + 1]
        n = out._shape[d]
        if n + lo + hi < 0:
            raise RuntimeError(f"The input size {n}, plus negative padding {lo} and {hi} resulted in a negative "
                               f"output size, which is invalid. Check dimension {d} of your input.")
        start, stop = builtins.max(-lo, 0), n - builtins.max(-hi, 0)
        out = S.narrow(out, d, start, builtins.max(stop - start, 0))
        parts = []
        for k in (lo, None, hi):
            if k is None:
                parts.append(out)
            elif k > 0:
                shape = list(out._shape)
                shape[d] = k
                parts.append(full(shape, value, dtype=input._dtype, device=input.device))
        out = S.cat(parts, d) if len(parts) > 1 else out
    return out if out is not input else input.clone()


def vander(x, N=None, increasing=False):
    """The Vandermonde matrix of a 1-D tensor: columns x**(N-1), ..., x**0 (reversed with ``increasing``);
    integer and bool inputs give int64."""
    from ..creation import ones
    _tensor_arg(x, "vander", "x")
    if x.dim() != 1:
        raise RuntimeError("x must be a one-dimensional tensor.")
    n = x._shape[0] if N is None else N
    if n < 0:
        raise RuntimeError("N must be non-negative.")
    dt = x._dtype if x._dtype.is_floating_point else int64
    xx = cast(x, dt)
    if n == 0:
        return xx.new_empty((x._shape[0], 0))
    cols = [ones(x._shape[0], 1, dtype=dt, device=x.device)]
    if n > 1:
        cols.append(xx.unsqueeze(1).expand(x._shape[0], n - 1))
    v = R.cumprod(S.cat(cols, 1), 1)
    return v if increasing else S.flip(v, (1,))


# ---------------------------------------------------------------------------------------------------------------
# statistics and calculus
# ---------------------------------------------------------------------------------------------------------------
_INTERP = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile(input, q, dim, keepdim, interpolation, ignore_nan, fn):
    from ..creation import tensor
    from .sorting import sort
    _tensor_arg(input, fn)
    if input.numel() == 0:
        raise RuntimeError(f"{fn}() input tensor must be non-empty")
    if not input._dtype.is_floating_point or input._dtype.itemsize < 4:
        raise RuntimeError(f"{fn}() input tensor must be either float or double dtype")
    if interpolation not in _INTERP:
        raise RuntimeError(f"{fn}() interpolation must be one of linear, lower, higher, midpoint or nearest. Got "
                           f"{interpolation}")
    if isinstance(q, Tensor):
        if q.dim() > 1:
            raise RuntimeError(f"{fn}() q must be a scalar or 1D tensor")
        if q._dtype is not input._dtype:
            raise RuntimeError(f"{fn}() q tensor must be same dtype as the input tensor")
        scalar_q = q.dim() == 0
        qs = q.detach().reshape(-1)
        if qs.numel():
            lo, hi = float(R.amin(qs, 0).item()), float(R.amax(qs, 0).item())
            if lo < 0 or hi > 1:
                raise RuntimeError(f"{fn}() q values must be in the range [0, 1]")
    else:
        if not 0 <= q <= 1:
            raise RuntimeError(f"{fn}() q must be in the range [0, 1] but got {q}")
        scalar_q = True
        qs = tensor([float(q)], dtype=input._dtype, device=input.device)
    if dim is None:
        x, d = input.reshape(-1), 0
    else:
        d = wrap_dim(dim, max(input.dim(), 1))
        x = input.reshape(1) if input.dim() == 0 else input
    x = S.movedim(x, d, -1)
    n = x._shape[-1]
    s = sort(x, -1).values  # NaN sorts last
    nq = qs.numel()
    if ignore_nan:
        valid = (~x.isnan()).sum(-1, keepdim=True)
    else:
        valid = _full(n, s[..., :1], int64)
    cnt = valid.to(x._dtype)
    lead = s._shape[:-1]
    qv = qs.reshape((nq,) + (1,) * len(lead) + (1,))
    rank = qv * (cnt - 1).unsqueeze(0)  # (nq, *lead, 1)
    rank = E.clamp(rank, min=0)
    if interpolation == "lower":
        rank = rank.floor()
    elif interpolation == "higher":
        rank = rank.ceil()
    elif interpolation == "nearest":
        rank = rank.round()
    lo_i = rank.floor().to(int64)
    hi_i = rank.ceil().to(int64)
    lo_i = E.clamp(lo_i, 0, n - 1)
    hi_i = E.clamp(hi_i, 0, n - 1)
    se = s.unsqueeze(0).expand((nq,) + s._shape)
    vlo = I.gather(se, -1, lo_i)
    vhi = I.gather(se, -1, hi_i)
    if interpolation == "midpoint":
        w = E.where(hi_i > lo_i, 0.5, 0.0).to(x._dtype)
    else:
        w = (rank - lo_i.to(x._dtype)).detach()
    r = vlo + (vhi - vlo) * w
    if ignore_nan:
        r = E.where(valid.unsqueeze(0) == 0, float("nan"), r)
    else:
        has_nan = s[..., -1:].isnan().unsqueeze(0)
        r = E.where(has_nan, float("nan"), r)
    r = r.squeeze(-1)  # (nq, *lead)
    if keepdim:
        if dim is None:
            r = r.reshape((nq,) + (1,) * input.dim())
        elif input.dim():
            r = r.unsqueeze(d + 1)
    return r.squeeze(0) if scalar_q else r


def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear", out=None):
    """The q-th quantiles of ``input`` along ``dim`` (all elements when None); ``q`` is a number or a 0-d/1-d
    tensor (a leading dim of len(q)). NaN anywhere in a row makes its quantiles NaN. A tensor ``q`` is read back
    to check its range."""
    return E._write_out(out, _quantile(input, q, dim, keepdim, interpolation, False, "quantile"))


def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear", out=None):
    """``quantile`` ignoring NaNs (a row of NaNs only gives NaN)."""
    return E._write_out(out, _quantile(input, q, dim, keepdim, interpolation, True, "nanquantile"))


def cov(input, *, correction=1, fweights=None, aweights=None):
    """Covariance matrix of the rows (variables) of a 2-D input whose columns are observations (a 1-D input is
    one variable: a 0-d result). ``fweights`` (integer frequencies) and ``aweights`` (float weights) weight the
    observations; their sign checks read them back to the host."""
    _tensor_arg(input, "cov")
    if input.dim() > 2:
        raise RuntimeError(f"cov(): expected input to have two or fewer dimensions but got an input with "
                           f"{input.dim()} dimensions")
    x = input.reshape(1, -1) if input.dim() < 2 else input
    if not x._dtype.is_floating_point:
        x = cast(x, get_default_dtype())
    nobs = x._shape[1]
    w = None
    if fweights is not None:
        _tensor_arg(fweights, "cov", "fweights")
        if fweights.dim() > 1:
            raise RuntimeError(f"cov(): expected fweights to have one or fewer dimensions but got fweights with "
                               f"{fweights.dim()} dimensions")
        if fweights._dtype.is_floating_point:
            raise RuntimeError(f"cov(): expected fweights to have integral dtype but got fweights with "
                               f"{type_label(fweights._dtype)} dtype")
        if fweights.numel() != nobs:
            raise RuntimeError(f"cov(): expected fweights to have the same numel as there are observations in the "
                               f"input but got {fweights.numel()} != {nobs}")
        if fweights.numel() and int(R.amin(fweights.reshape(-1), 0).item()) < 0:
            raise RuntimeError("cov(): fweights cannot be negative")
        w = fweights.reshape(-1)
    if aweights is not None:
        _tensor_arg(aweights, "cov", "aweights")
        if aweights.dim() > 1:
            raise RuntimeError(f"cov(): expected aweights to have one or fewer dimensions but got aweights with "
                               f"{aweights.dim()} dimensions")
        if not aweights._dtype.is_floating_point:
            raise RuntimeError(f"cov(): expected aweights to have floating point dtype but got aweights with "
                               f"{type_label(aweights._dtype)} dtype")
        if aweights.numel() != nobs:
            raise RuntimeError(f"cov(): expected aweights to have the same numel as there are observations in the "
                               f"input but got {aweights.numel()} != {nobs}")
        if aweights.numel() and float(R.amin(aweights.detach().reshape(-1), 0).item()) < 0:
            raise RuntimeError("cov(): aweights cannot be negative")
        w = aweights.reshape(-1) if w is None else w * aweights.reshape(-1)
    if w is None:
        wsum = float(nobs)
        avg = x.mean(1, keepdim=True)
        norm = wsum - correction
    else:
        w = cast(w, result_type(w, x) if w._dtype.is_floating_point else x._dtype)
        wsum = w.sum()
        avg = (x * w).sum(1, keepdim=True) / wsum
        if aweights is None:
            norm = wsum - correction
        else:
            norm = wsum - correction * (w * aweights.reshape(-1)).sum() / wsum
    if isinstance(norm, Tensor):
        norm = E.clamp(norm, min=0)
    elif norm <= 0:
        warn("cov(): degrees of freedom is <= 0. Correction should be strictly less than the number of "
             "observations.")
        norm = 0.0
    xc = x - avg
    xw = xc if w is None else xc * w
    c = M.mm(xw, xc.t()) / norm
    return c.reshape(()) if c._shape == (1, 1) else c  # a single variable gives a 0-d result, as PyTorch


def corrcoef(input):
    """Pearson correlation coefficients of the rows of ``input`` (clamped to [-1, 1])."""
    _tensor_arg(input, "corrcoef")
    c = cov(input)
    if c.dim() == 0:
        return c / c
    n = c._shape[0]
    # the diagonal as a strided slice of the flat matrix (twice differentiable, unlike Diagonal's backward today)
    d = c.reshape(-1)[::n + 1].sqrt()
    c = c / d.unsqueeze(1) / d.unsqueeze(0)
    return E.clamp(c, -1, 1)


def _spacing(y, x, dx, dim, fn):
    """(dim, spacing): spacing is a number, or a tensor of differences broadcastable along dim."""
    _tensor_arg(y, fn, "y")
    d = wrap_dim(dim, max(y.dim(), 1))
    if x is not None:
        if dx is not None:
            raise TypeError(f"{fn}() received an invalid combination of arguments: x and dx both given")
        if not isinstance(x, Tensor):
            return d, x
        if x.dim() == 1:
            if x._shape[0] != y._shape[d]:
                raise RuntimeError(f"{fn}: There must be one `x` value for each sample point")
            h = x[1:] - x[:-1]
            shape = [1] * y.dim()
            shape[d] = h._shape[0]
            return d, h.reshape(shape)
        h = x.diff(dim=d) if x.dim() == y.dim() else x.diff(dim=dim)
        return d, h
    return d, 1 if dx is None else dx


def trapezoid(y, x=None, *, dx=None, dim=-1):
    """Trapezoidal rule along ``dim``: sample points ``x`` (a tensor) or a constant spacing (``dx``, or a number
    given as ``x``; default 1)."""
    d, h = _spacing(y, x, dx, dim, "trapezoid")
    n = y._shape[d]
    yf = y if y._dtype.is_floating_point else cast(y, get_default_dtype())
    if n == 0:
        return (yf * 0).sum(d)
    left = S.narrow(yf, d, 0, n - 1)
    right = S.narrow(yf, d, 1, n - 1)
    if isinstance(h, Tensor):
        return ((left + right) * h).sum(d) / 2
    return (left + right).sum(d) * (h / 2)


def trapz(y, x=None, *, dx=None, dim=-1):
    """Alias of trapezoid."""
    return trapezoid(y, x, dx=dx, dim=dim)


def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    """Running trapezoidal integrals along ``dim`` (one fewer element than ``y`` there)."""
    d, h = _spacing(y, x, dx, dim, "cumulative_trapezoid")
    n = y._shape[d]
    yf = y if y._dtype.is_floating_point else cast(y, get_default_dtype())
    if n == 0:
        return yf
    left = S.narrow(yf, d, 0, n - 1)
    right = S.narrow(yf, d, 1, n - 1)
    if isinstance(h, Tensor):
        return R.cumsum((left + right) * h / 2, d)
    return R.cumsum((left + right) * (h / 2), d)


def renorm(input, p, dim, maxnorm):
    """Rescale each slice along ``dim`` whose p-norm exceeds ``maxnorm`` to norm ``maxnorm``."""
    _tensor_arg(input, "renorm")
    if not input._dtype.is_floating_point:
        raise RuntimeError(f"renorm: input must be floating point, got {type_label(input._dtype)}")
    if input.dim() < 2:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {input.dim()} dimensions")
    if p <= 0:
        raise RuntimeError(f"renorm: non-positive-norm not supported")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm}")
    d = wrap_dim(dim, input.dim())
    others = tuple(k for k in _range(input.dim()) if k != d)
    a = input.abs()
    if p == float("inf"):
        nrm = R.amax(a, others, True)
    else:
        nrm = (a ** p).sum(others, keepdim=True) ** (1.0 / p)
    factor = E.where(nrm > maxnorm, maxnorm / (nrm + 1e-7), 1.0)
    return input * factor


def _scaled_sum(prod, input, beta, alpha):
    r = prod if alpha == 1 else prod * alpha
    if beta == 0:  # input's values are ignored (its NaNs too); it gets a zero gradient, as in PyTorch
        return E.where(_full(True, r, t_bool), r, input)
    return r + (input if beta == 1 else input * beta)


def addmv(input, mat, vec, *, beta=1, alpha=1, out=None):
    """beta * input + alpha * (mat @ vec) (``input`` ignored, NaN included, when beta is 0)."""
    _tensor_arg(input, "addmv")
    if mat.dim() != 2 or vec.dim() != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {input.dim()}, {mat.dim()}, {vec.dim()}")
    if mat._shape[1] != vec._shape[0]:
        raise RuntimeError(f"size mismatch, got input ({input._shape[0] if input.dim() else 1}), mat "
                           f"({mat._shape[0]}x{mat._shape[1]}), vec ({vec._shape[0]})")
    return E._write_out(out, _scaled_sum(M.mv(mat, vec), input, beta, alpha))


def addr(input, vec1, vec2, *, beta=1, alpha=1, out=None):
    """beta * input + alpha * outer(vec1, vec2)."""
    _tensor_arg(input, "addr")
    if vec1.dim() != 1 or vec2.dim() != 1:
        raise RuntimeError(f"addr: Expected 1-D argument vec1, but got {vec1.dim()}-D" if vec1.dim() != 1 else
                           f"addr: Expected 1-D argument vec2, but got {vec2.dim()}-D")
    return E._write_out(out, _scaled_sum(M.outer(vec1, vec2), input, beta, alpha))


def addbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    """beta * input + alpha * sum_b(batch1[b] @ batch2[b])."""
    _tensor_arg(input, "addbmm")
    if batch1.dim() != 3 or batch2.dim() != 3:
        raise RuntimeError(f"batch1 must be a 3D tensor" if batch1.dim() != 3 else "batch2 must be a 3D tensor")
    return E._write_out(out, _scaled_sum(M.bmm(batch1, batch2).sum(0), input, beta, alpha))


def _grad_dim(f, d, h, edge_order):
    """The derivative of ``f`` along ``d``; ``h`` is a number (uniform spacing) or 1-D coordinates."""
    n = f._shape[d]

    def at(a, length):
        return S.narrow(f, d, a, length)

    def bshape(t):
        shape = [1] * f.dim()
        shape[d] = t._shape[0]
        return t.reshape(shape)

    if not isinstance(h, Tensor):
        mid = (at(2, n - 2) - at(0, n - 2)) / (2 * h)
        if edge_order == 1:
            first = (at(1, 1) - at(0, 1)) / h
            last = (at(n - 1, 1) - at(n - 2, 1)) / h
        else:
            first = (at(0, 1) * -1.5 + at(1, 1) * 2 - at(2, 1) * 0.5) / h
            last = (at(n - 3, 1) * 0.5 - at(n - 2, 1) * 2 + at(n - 1, 1) * 1.5) / h
        return S.cat([first, mid, last], d)
    c = h if h._dtype.is_floating_point else cast(h, f._dtype)  # float64 coordinates promote, as PyTorch
    dx = c[1:] - c[:-1]
    hl, hr = bshape(dx[:-1]), bshape(dx[1:])
    mid = (at(2, n - 2) * (hl * hl) - at(0, n - 2) * (hr * hr) + at(1, n - 2) * (hr * hr - hl * hl)) / \
        (hl * hr * (hl + hr))
    if edge_order == 1:
        first = (at(1, 1) - at(0, 1)) / dx[0]
        last = (at(n - 1, 1) - at(n - 2, 1)) / dx[-1]
    else:
        h1, h2 = dx[0], dx[1]
        first = at(0, 1) * (-(2 * h1 + h2) / (h1 * (h1 + h2))) + at(1, 1) * ((h1 + h2) / (h1 * h2)) + \
            at(2, 1) * (-h1 / (h2 * (h1 + h2)))
        h1, h2 = dx[-2], dx[-1]
        last = at(n - 3, 1) * (h2 / (h1 * (h1 + h2))) + at(n - 2, 1) * (-(h1 + h2) / (h1 * h2)) + \
            at(n - 1, 1) * ((2 * h2 + h1) / (h2 * (h1 + h2)))
    return S.cat([first, mid, last], d)


def gradient(input, *, spacing=1, dim=None, edge_order=1):
    """Second-order central differences inside, one-sided (order ``edge_order``) at the ends; one tensor per
    dim. ``spacing``: a number, a list of numbers (one per dim), or a list of 1-D coordinate tensors."""
    _tensor_arg(input, "gradient")
    if edge_order not in (1, 2):
        raise RuntimeError(f"torch.gradient only supports edge_order=1 and edge_order=2.")
    if dim is None:
        dims = list(_range(input.dim()))
    elif isinstance(dim, int):
        dims = [wrap_dim(dim, input.dim())]
    else:
        dims = [wrap_dim(k, input.dim()) for k in dim]
    if isinstance(spacing, (list, tuple)):
        if len(spacing) != len(dims):
            raise RuntimeError(f"torch.gradient expected spacing to be unspecified, a scalar or it's spacing and dim "
                               f"arguments to have the same length, but got a spacing argument of length "
                               f"{len(spacing)} and a dim argument of length {len(dims)}.")
        hs = list(spacing)
    else:
        hs = [spacing] * len(dims)
    for d in dims:
        if input._shape[d] < edge_order + 1:
            raise RuntimeError("torch.gradient expected each dimension size to be at least edge_order+1")
    f = input if input._dtype.is_floating_point else cast(input, get_default_dtype())
    out = []
    for d, h in zip(dims, hs):
        if isinstance(h, Tensor):
            if h.dim() == 0:
                h = h.item()
            elif h._shape[0] != input._shape[d]:
                raise RuntimeError(f"torch.gradient expected each tensor to be on the same device and the size of "
                                   f"each coordinate tensor to match its dim, got {h._shape[0]} for dim {d} of "
                                   f"size {input._shape[d]}")
        out.append(_grad_dim(f, d, h, edge_order))
    return tuple(out)
