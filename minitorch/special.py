"""``torch.special``: the special functions minitorch has kernels for, under their SciPy-style names, and the ones
built here from them (differentiable like any composite).

Aliases: ``expit`` (sigmoid), ``gammaln`` (lgamma), ``psi``/``digamma``, ``polygamma``, ``zeta`` (Hurwitz),
``gammainc``/``gammaincc``
(the regularized incomplete gamma functions), ``erf``, ``erfc``, ``erfinv``, ``exp2``, ``expm1``, ``log1p``,
``logit``, ``logsumexp``, ``round``, ``sinc``, ``softmax``, ``log_softmax``, ``xlogy``.
Built here: ``entr`` (-x log x), ``ndtr`` (the standard normal CDF), ``xlog1py`` (x log1p(y)) and ``multigammaln``
(the multivariate log-gamma function, also ``minitorch.mvlgamma``).
Not here (no kernels yet): the Bessel, Airy and orthogonal-polynomial families, ``erfcx``, ``log_ndtr``,
``ndtri``.
"""
import math

from . import creation
from .ops import FUNCTIONS as _F
from .ops.special import zeta

__all__ = ["digamma", "entr", "erf", "erfc", "erfinv", "exp2", "expit", "expm1", "gammainc", "gammaincc",
           "gammaln", "log1p", "log_softmax", "logit", "logsumexp", "multigammaln", "ndtr", "polygamma", "psi",
           "round", "sinc", "softmax", "xlog1py", "xlogy", "zeta"]

digamma = psi = _F["digamma"]
erf = _F["erf"]
erfc = _F["erfc"]
erfinv = _F["erfinv"]
exp2 = _F["exp2"]
expm1 = _F["expm1"]
log1p = _F["log1p"]
logit = _F["logit"]
logsumexp = _F["logsumexp"]
polygamma = _F["polygamma"]
round = _F["round"]  # noqa: A001
sinc = _F["sinc"]
xlogy = _F["xlogy"]
expit = _F["sigmoid"]
gammaln = _F["lgamma"]
gammainc = _F["igamma"]
gammaincc = _F["igammac"]


def softmax(input, dim, *, dtype=None):
    return input.softmax(dim, dtype=dtype)


def log_softmax(input, dim, *, dtype=None):
    return input.log_softmax(dim, dtype=dtype)


def entr(input):
    """-x log(x) elementwise: 0 at 0, -inf below 0 (NaN stays NaN)."""
    x = input if input.dtype.is_floating_point else input.float()
    pos = x > 0
    safe = x.where(pos, creation.ones((), dtype=x.dtype, device=x.device))
    val = -x * safe.log()
    neg = creation.full((), -math.inf, dtype=x.dtype, device=x.device)
    zero = creation.zeros((), dtype=x.dtype, device=x.device)
    return val.where(pos, zero.where(x == 0, neg.where(x < 0, x)))


def ndtr(input):
    """The standard normal distribution's CDF: (1 + erf(x / sqrt(2))) / 2, as erfc(-x / sqrt(2)) / 2."""
    x = input if input.dtype.is_floating_point else input.float()
    return 0.5 * (x * -math.sqrt(0.5)).erfc()


def xlog1py(input, other):
    """x * log1p(y), 0 where x is 0 (unless y is NaN); either may be a Python number."""
    from .tensor import Tensor
    x = input if isinstance(input, Tensor) else creation.tensor(input, device=other.device)
    y = other if isinstance(other, Tensor) else creation.tensor(other, device=x.device)
    out = x * y.log1p()
    zero = creation.zeros((), dtype=out.dtype, device=out.device)
    return zero.where((x == 0) & ~y.isnan(), out)


def multigammaln(input, p):
    """log of the multivariate gamma function of dimension p: sum_i lgamma(a - i/2) + p(p-1)/4 log(pi); every
    element must exceed (p - 1) / 2."""
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    if not input.dtype.is_floating_point:
        raise RuntimeError("mvlgamma is not implemented for " + input.dtype.legacy)
    if input.numel() and not bool((input > 0.5 * (p - 1)).all()):
        raise RuntimeError(f"All elements must be greater than (p-1)/2 = {0.5 * (p - 1)}")
    out = input.lgamma()
    for i in range(1, p):
        out = out + (input - 0.5 * i).lgamma()
    return out + p * (p - 1) / 4 * math.log(math.pi)
