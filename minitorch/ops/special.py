"""Gamma-family special functions and gamma draws: ``lgamma``, ``digamma``, ``polygamma`` (any order: 0 and 1 by
their own kernels, higher ones from the Hurwitz ``zeta``),
``_standard_gamma`` (with its implicit reparameterisation gradient), ``_standard_gamma_grad`` and
``_sample_dirichlet``. Each primitive launches its own kernel (kernels/*/special.py, kernels/*/random.py)."""
import math

from ..autograd.function import Function
from ..autograd.grad_mode import _state
from ..dtypes import get_default_dtype
from ..random import gen
from ..tensor import Tensor
from . import elementwise as E, launch, shape as S
from .common import cast

FUNCTIONS = ["lgamma", "digamma", "polygamma", "erfinv", "igamma", "igammac", "_standard_gamma", "_standard_gamma_grad",
             "_sample_dirichlet", "_dirichlet_grad"]
METHODS = ["lgamma", "digamma", "polygamma", "erfinv", "igamma", "igammac"]


def _floating(x, fn):
    if not isinstance(x, Tensor):
        raise TypeError(f"{fn}(): argument 'input' (position 1) must be Tensor, not {type(x).__name__}")
    return x if x._dtype.is_floating_point else cast(x, get_default_dtype())


class _Special(Function):
    op = None

    @classmethod
    def forward(cls, ctx, x):
        ctx.save_for_backward(x)
        return launch.special(cls.op, x)

    @classmethod
    def backward(cls, ctx, g):
        (x,) = ctx.saved_tensors
        if cls.op == "trigamma":
            return g * polygamma(2, x)
        return g * _apply({"lgamma": "digamma", "digamma": "trigamma"}[cls.op], x)


_SPECIAL_FN = {name: type(fn_name, (_Special,), {"op": name})
               for name, fn_name in (("lgamma", "Lgamma"), ("digamma", "Digamma"), ("trigamma", "Polygamma"))}


def _apply(name, x):
    if _state.enabled and x._requires_grad:
        return _SPECIAL_FN[name].apply(x)
    return launch.special(name, x)


def lgamma(input, *, out=None):
    """log |Gamma(x)| elementwise."""
    return E._write_out(out, _apply("lgamma", _floating(input, "lgamma")))


def digamma(input, *, out=None):
    """The logarithmic derivative of Gamma elementwise (``-inf`` at 0, NaN at negative integers)."""
    return E._write_out(out, _apply("digamma", _floating(input, "digamma")))


def polygamma(n, input, *, out=None):
    """The n-th derivative of digamma: orders 0 and 1 by their own kernels, higher ones as
    (-1)^(n+1) n! zeta(n + 1, x)."""
    if isinstance(n, Tensor):  # Tensor.polygamma(self, n)
        n, input = input, n
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    x = _floating(input, "polygamma")
    if n <= 1:
        return E._write_out(out, _apply("digamma" if n == 0 else "trigamma", x))
    if _state.enabled and x._requires_grad:
        return E._write_out(out, Polygamma.apply(x, n))
    return E._write_out(out, _polygamma_values(x, n))


def _polygamma_values(x, n):
    from ..creation import full_like
    scale = (1.0 if n % 2 else -1.0) * math.exp(math.lgamma(n + 1.0))
    return launch.zeta(full_like(x, n + 1.0), x) * scale


class Polygamma(Function):
    """polygamma(n, x) for n >= 2; its derivative is polygamma(n + 1, x)."""

    @staticmethod
    def forward(ctx, x, n):
        ctx.save_for_backward(x)
        ctx.n = n
        return _polygamma_values(x, n)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * polygamma(ctx.n + 1, x), None


class Zeta(Function):
    @staticmethod
    def forward(ctx, x, q):
        ctx.save_for_backward(x, q)
        return launch.zeta(x, q)

    @staticmethod
    def backward(ctx, g):
        x, q = ctx.saved_tensors
        if ctx.needs_input_grad[0]:
            raise RuntimeError("the derivative for 'self' (x) of zeta is not implemented.")
        return None, g * -x * zeta(x + 1, q)


def zeta(input, other, *, out=None):
    """The Hurwitz zeta function: the sum over k >= 0 of (k + other)^-input (``torch.special.zeta``); either may be
    a Python number. Differentiable in ``other``."""
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError(f"zeta(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    from ..dtypes import result_type
    ref = input if isinstance(input, Tensor) else other
    x = input if isinstance(input, Tensor) else scalar_like(input, ref)
    q = other if isinstance(other, Tensor) else scalar_like(other, ref)
    dt = result_type(x, q)
    if not dt.is_floating_point:
        dt = get_default_dtype()
    x, q = S.broadcast_tensors(cast(x, dt) if x._dtype is not dt else x, cast(q, dt) if q._dtype is not dt else q)
    if _state.enabled and (x._requires_grad or q._requires_grad):
        return E._write_out(out, Zeta.apply(x, q))
    return E._write_out(out, launch.zeta(x, q))


def _erfinv_values(x):
    """erfinv computed in float64 from existing ops: Winitzki's closed-form estimate (relative error below 2e-3),
    then three Newton steps on erf(y) = x; +-inf at +-1 and NaN outside [-1, 1]."""
    import math
    from ..dtypes import float64
    xd = cast(x, float64) if x._dtype is not float64 else x
    a = 0.147
    ln = (1 - xd * xd).clamp(min=1e-300).log()
    t = 2 / (math.pi * a) + ln / 2
    y = ((t * t - ln / a).sqrt() - t).clamp(min=0).sqrt() * xd.sign()
    c = 2 / math.sqrt(math.pi)
    for _ in range(3):
        y = y - (y.erf() - xd) / ((-(y * y)).exp() * c)
    edge = xd.abs() == 1
    y = E.where(edge, xd * math.inf, y)
    y = E.where(xd.abs() > 1, xd * math.nan, y)
    return cast(y, x._dtype) if x._dtype is not float64 else y


class Erfinv(Function):
    @staticmethod
    def forward(ctx, x):
        y = _erfinv_values(x)
        ctx.save_for_backward(x)
        return y

    @staticmethod
    def backward(ctx, g):
        import math
        (x,) = ctx.saved_tensors
        y = erfinv(x)
        return g * (y * y).exp() * (math.sqrt(math.pi) / 2)


def erfinv(input, *, out=None):
    """The inverse of erf on [-1, 1] elementwise."""
    x = _floating(input, "erfinv")
    if _state.enabled and x._requires_grad:
        return E._write_out(out, Erfinv.apply(x))
    from ..autograd.grad_mode import no_grad
    with no_grad():
        return E._write_out(out, _erfinv_values(x))


class _Igamma(Function):
    upper = False

    @classmethod
    def forward(cls, ctx, a, x):
        ctx.save_for_backward(a, x)
        return launch.gammainc(a, x, cls.upper)

    @classmethod
    def backward(cls, ctx, g):
        a, x = ctx.saved_tensors
        if ctx.needs_input_grad[0]:
            raise RuntimeError(f"the derivative for 'igamma{'c' if cls.upper else ''}' with respect to 'self' (the "
                               "shape a) is not implemented.")
        density = ((a - 1) * x.log() - x - lgamma(a)).exp()  # d P / d x
        return None, g * (-density if cls.upper else density)


class Igamma(_Igamma):
    upper = False


class Igammac(_Igamma):
    upper = True


def _igamma(cls, name, input, other, out):
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    from ..dtypes import result_type
    ref = input if isinstance(input, Tensor) else other
    a = input if isinstance(input, Tensor) else scalar_like(input, ref)
    x = other if isinstance(other, Tensor) else scalar_like(other, ref)
    dt = result_type(a, x)
    if not dt.is_floating_point:
        dt = get_default_dtype()
    a, x = S.broadcast_tensors(cast(a, dt) if a._dtype is not dt else a, cast(x, dt) if x._dtype is not dt else x)
    if _state.enabled and (a._requires_grad or x._requires_grad):
        return E._write_out(out, cls.apply(a, x))
    return E._write_out(out, launch.gammainc(a, x, cls.upper))


def scalar_like(v, ref):
    from ..creation import tensor
    return tensor(v, dtype=ref.dtype if ref.dtype.is_floating_point else get_default_dtype(), device=ref.device)


def igamma(input, other, *, out=None):
    """The regularised lower incomplete gamma function P(input, other)."""
    return _igamma(Igamma, "igamma", input, other, out)


def igammac(input, other, *, out=None):
    """The regularised upper incomplete gamma function Q(input, other) = 1 - P(input, other)."""
    return _igamma(Igammac, "igammac", input, other, out)


class StandardGamma(Function):
    @staticmethod
    def forward(ctx, alpha, generator):
        x = launch.standard_gamma(alpha, gen(generator)._rng)
        ctx.save_for_backward(alpha, x)
        return x

    @staticmethod
    def backward(ctx, g):
        alpha, x = ctx.saved_tensors
        return g * launch.standard_gamma_grad(x, alpha), None


def _standard_gamma(input, generator=None):
    """Gamma(input, 1) samples, differentiable in the shapes ``input`` (implicit reparameterisation: the gradient
    of a sample is -dF/dalpha / dF/dx, F the gamma CDF, at the sample)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"_standard_gamma(): argument 'self' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    if not input._dtype.is_floating_point:
        raise NotImplementedError(f"\"gamma_cpu\" not implemented for '{input.dtype.legacy}'")
    if input.numel() and not (input > 0).all().item():
        raise RuntimeError("gamma: the concentration (input) must be positive, got a value <= 0 or NaN")
    if _state.enabled and input._requires_grad:
        return StandardGamma.apply(input, generator)
    return launch.standard_gamma(input, gen(generator)._rng)


def _standard_gamma_grad(self, output):
    """d output / d self for standard gamma samples ``output`` drawn with shapes ``self`` (not differentiable)."""
    a, x = S.broadcast_tensors(self.detach(), output.detach())
    return launch.standard_gamma_grad(x.to(a.dtype), a)


class Dirichlet(Function):
    @staticmethod
    def forward(ctx, alpha, generator):
        g = launch.standard_gamma(alpha, gen(generator)._rng)
        x = g / g.sum(-1, keepdim=True)
        ctx.save_for_backward(alpha, x)
        return x

    @staticmethod
    def backward(ctx, g):
        alpha, x = ctx.saved_tensors
        total = alpha.sum(-1, keepdim=True).expand(alpha.shape)
        grad = _dirichlet_grad(x, alpha, total)
        return grad * (g - (x * g).sum(-1, keepdim=True)), None


def _sample_dirichlet(input, generator=None):
    """Dirichlet samples along the last dim (normalised gamma draws), differentiable in the concentrations: each
    coordinate's implicit-reparameterisation gradient through its Beta(alpha_i, sum - alpha_i) marginal, as
    PyTorch computes it."""
    if not isinstance(input, Tensor):
        raise TypeError(f"_sample_dirichlet(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    if not input._dtype.is_floating_point:
        raise NotImplementedError(f"\"dirichlet\" not implemented for '{input.dtype.legacy}'")
    if input.numel() and not (input > 0).all().item():
        raise RuntimeError("dirichlet: the concentration must be positive, got a value <= 0 or NaN")
    if _state.enabled and input._requires_grad:
        return Dirichlet.apply(input, generator)
    g = launch.standard_gamma(input, gen(generator)._rng)
    return g / g.sum(-1, keepdim=True)


def _dirichlet_grad(x, alpha, total):
    """d x / d alpha of Beta(alpha, total - alpha) draws x, with total fixed (not differentiable)."""
    x, alpha, total = S.broadcast_tensors(x.detach(), alpha.detach(), total.detach())
    return launch.dirichlet_grad(x.to(alpha.dtype), alpha, total.to(alpha.dtype))

