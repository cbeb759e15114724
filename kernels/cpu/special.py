"""Special functions for the CPU device: log-gamma, digamma, trigamma, the Hurwitz zeta function (polygamma of
higher orders), the regularised incomplete gamma functions,
and the derivative of a standard gamma draw with respect to its shape (the implicit reparameterisation gradient).
Flat contiguous arrays in, flat arrays out; the math runs in float64 and is stored in out's dtype."""
import math

import numpy as np
from numba import njit, prange

_PI = math.pi


@njit(cache=True)
def _lgamma(x):
    """log|Gamma(x)|, +inf at the poles (0 and the negative integers) without calling lgamma there."""
    if x <= 0.0 and x == math.floor(x):
        return np.inf
    return math.lgamma(x)


@njit(cache=True)
def _digamma(x):
    """psi(x): the reflection formula below 0, the recurrence up to 6, then the asymptotic series in 1/x^2."""
    if x == 0.0:
        return -np.inf  # PyTorch's value at the pole (the limit from the right)
    acc = 0.0
    if x < 0.0:
        if x == math.floor(x):
            return np.nan
        acc = -_PI / math.tan(_PI * x)
        x = 1.0 - x
    while x < 10.0:
        acc -= 1.0 / x
        x += 1.0
    r = 1.0 / (x * x)
    series = r * (1.0 / 12 - r * (1.0 / 120 - r * (1.0 / 252 - r * (1.0 / 240 - r * (1.0 / 132)))))
    return acc + math.log(x) - 0.5 / x - series


@njit(cache=True)
def _trigamma(x):
    """psi'(x): reflection below 0.5, recurrence up to 6, then the asymptotic series."""
    if x <= 0.0 and x == math.floor(x):
        return np.inf
    acc = 0.0
    sign = 1.0
    if x < 0.5:
        s = math.sin(_PI * x)
        acc = _PI * _PI / (s * s)
        sign = -1.0
        x = 1.0 - x
    while x < 10.0:
        acc += sign / (x * x)
        x += 1.0
    r = 1.0 / (x * x)
    series = (1.0 / x) * (1.0 + 0.5 / x + r * (1.0 / 6 - r * (1.0 / 30 - r * (1.0 / 42 - r * (1.0 / 30)))))
    return acc + sign * series


# (2k)! / B_2k for k = 1 .. 12: the Euler-Maclaurin tail of the Hurwitz zeta sum
_ZETA_A = (12.0, -720.0, 30240.0, -1209600.0, 47900160.0, -1.8924375803183791606e9, 7.47242496e10,
           -2.950130727918164224e12, 1.1646782814350067249e14, -4.5979787224074726105e15,
           1.8152105401943546773e17, -7.1661652561756670113e18)


@njit(cache=True, error_model="numpy")
def _zeta(x, q):
    """Hurwitz zeta: the sum over k >= 0 of (k + q)^-x, for x > 1 (inf at x = 1 and at the poles q = 0, -1, ...;
    NaN for x < 1, or q < 0 with x not an integer): terms summed directly until k + q passes 9 (at least 9 of
    them), then the Euler-Maclaurin tail with 12 Bernoulli terms, stopping once a term is below float64's
    resolution."""
    if x == 1.0:
        return math.inf
    if x < 1.0:
        return math.nan
    if q <= 0.0:
        if q == math.floor(q):
            return math.inf
        if x != math.floor(x):
            return math.nan
    s = q ** -x
    a = q
    i = 0
    b = 0.0
    while i < 9 or a <= 9.0:
        i += 1
        a += 1.0
        b = a ** -x
        s += b
        if abs(b / s) < 1.1102230246251565e-16:
            return s
    w = a
    s += b * w / (x - 1.0)
    s -= 0.5 * b
    fac = 1.0
    k = 0.0
    for j in range(12):
        fac *= x + k
        b /= w
        t = fac * b / _ZETA_A[j]
        s += t
        if abs(t / s) < 1.1102230246251565e-16:
            return s
        k += 1.0
        fac *= x + k
        b /= w
        k += 1.0
    return s


@njit(cache=True)
def _gamma_p_or_q(a, x, upper):
    """Regularised incomplete gamma: P(a, x) (upper=False) by its power series, or Q(a, x) = 1 - P (upper=True) by
    its continued fraction (modified Lentz); each is used only where it converges fast and loses nothing."""
    if x <= 0.0:
        return 0.0 if not upper else 1.0
    front = math.exp(a * math.log(x) - x - math.lgamma(a))
    if not upper:
        term = 1.0 / a
        total = term
        for n in range(1, 100000):
            term *= x / (a + n)
            total += term
            if term < total * 1e-17:
                break
        return total * front
    tiny = 1e-300
    b = x + 1.0 - a
    c = 1.0 / tiny
    d = 1.0 / b
    h = d
    for i in range(1, 100000):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        if abs(d) < tiny:
            d = tiny
        c = b + an / c
        if abs(c) < tiny:
            c = tiny
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-16:
            break
    return front * h


@njit(cache=True)
def _gammainc(a, x, upper):
    """P(a, x) (upper=False) or Q(a, x) = 1 - P(a, x): each from the expansion that converges at (a, x), the other
    as its complement; NaN for a < 0, x < 0 or NaN inputs, and the limits at a = 0 and x = 0 or inf."""
    if not (a >= 0.0 and x >= 0.0):
        return np.nan
    if a == 0.0:
        p = 1.0 if x > 0.0 else np.nan
    elif x == 0.0:
        p = 0.0
    elif x == np.inf:
        p = 1.0 if a != np.inf else np.nan
    elif a == np.inf:
        p = 0.0
    else:
        use_q = x >= a + 1.0
        v = _gamma_p_or_q(a, x, use_q)
        if use_q == upper:
            return v
        return 1.0 - v
    return 1.0 - p if upper else p


@njit(cache=True)
def _beta_cf(a, b, x):
    """The continued fraction of the regularised incomplete beta function (modified Lentz), converging fast for
    x < (a + 1) / (a + b + 2)."""
    tiny = 1e-300
    qab = a + b
    qap = a + 1.0
    qam = a - 1.0
    c = 1.0
    d = 1.0 - qab * x / qap
    if abs(d) < tiny:
        d = tiny
    d = 1.0 / d
    h = d
    for m in range(1, 100000):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        if abs(d) < tiny:
            d = tiny
        c = 1.0 + aa / c
        if abs(c) < tiny:
            c = tiny
        d = 1.0 / d
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        if abs(d) < tiny:
            d = tiny
        c = 1.0 + aa / c
        if abs(c) < tiny:
            c = tiny
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-16:
            break
    return h


@njit(cache=True)
def _beta_inc(a, b, x, flip):
    """I_x(a, b) (flip=False) or 1 - I_x(a, b) = I_(1-x)(b, a) (flip=True), from the continued fraction of
    whichever side converges; the caller fixes ``flip`` so that neighbouring (a, b) use the same expansion."""
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x))
    if not flip:
        return front * _beta_cf(a, b, x) / a
    return front * _beta_cf(b, a, 1.0 - x) / b


@njit(cache=True)
def _dirichlet_grad_one(x, a, total):
    """d x / d a for x ~ Beta(a, total - a) at a fixed CDF value, total held fixed: -(dI/da - dI/db) / density,
    the derivatives by central differences of the incomplete beta function (steps proportional to a and b)."""
    b = total - a
    if not (x > 0.0 and x < 1.0 and a > 0.0 and b > 0.0):
        return 0.0
    flip = x >= (a + 1.0) / (a + b + 2.0)
    sign = -1.0 if flip else 1.0
    ha = 1e-4 * a
    hb = 1e-4 * b
    d_a = sign * (_beta_inc(a + ha, b, x, flip) - _beta_inc(a - ha, b, x, flip)) / (2.0 * ha)
    d_b = sign * (_beta_inc(a, b + hb, x, flip) - _beta_inc(a, b - hb, x, flip)) / (2.0 * hb)
    log_density = ((a - 1.0) * math.log(x) + (b - 1.0) * math.log1p(-x) + math.lgamma(a + b) - math.lgamma(a)
                   - math.lgamma(b))
    density = math.exp(log_density)
    if density == 0.0:
        return 0.0
    return -(d_a - d_b) / density


@njit(cache=True)
def _gamma_sample_grad(a, x):
    """d x / d a for x ~ Gamma(a, 1) at fixed CDF value: -(dP/da) / (dP/dx). dP/da by a central difference of the
    series (or of Q, with the sign flipped) in float64, with a step proportional to a."""
    if x <= 0.0 or a <= 0.0:
        return 0.0
    upper = x >= a + 1.0
    h = 1e-4 * a
    dp = (_gamma_p_or_q(a + h, x, upper) - _gamma_p_or_q(a - h, x, upper)) / (2.0 * h)
    if upper:
        dp = -dp
    density = math.exp((a - 1.0) * math.log(x) - x - math.lgamma(a))
    if density == 0.0:
        return 0.0
    return -dp / density


@njit(cache=True)
def _apply(op, a, out, n):
    for i in range(n):
        v = float(a[i])
        if op == 0:
            out[i] = _lgamma(v)
        elif op == 1:
            out[i] = _digamma(v)
        else:
            out[i] = _trigamma(v)


@njit(cache=True, parallel=True)
def _apply_par(op, a, out, n):
    for i in prange(n):
        v = float(a[i])
        if op == 0:
            out[i] = _lgamma(v)
        elif op == 1:
            out[i] = _digamma(v)
        else:
            out[i] = _trigamma(v)


def unary(op, a, out, n):
    """out[:n] = f(a[:n]) for f = lgamma (op 0), digamma (1) or trigamma (2)."""
    (_apply_par if n >= 4096 else _apply)(op, a, out, n)


@njit(cache=True)
def standard_gamma_grad(x, alpha, out, n):
    """out[:n] = d x / d alpha of standard gamma samples x[:n] drawn with shapes alpha[:n]."""
    for i in range(n):
        out[i] = _gamma_sample_grad(float(alpha[i]), float(x[i]))


@njit(cache=True)
def gammainc(a, x, out, n, upper):
    """out[:n] = P(a[:n], x[:n]) (regularised lower incomplete gamma), or Q = 1 - P when ``upper``."""
    for i in range(n):
        out[i] = _gammainc(float(a[i]), float(x[i]), upper)


@njit(cache=True)
def dirichlet_grad(x, alpha, total, out, n):
    """out[:n] = d x / d alpha of Beta(alpha, total - alpha) samples x[:n] (the Dirichlet marginals), total fixed."""
    for i in range(n):
        out[i] = _dirichlet_grad_one(float(x[i]), float(alpha[i]), float(total[i]))


@njit(cache=True, error_model="numpy")
def zeta(x, q, out, n):
    """out[:n] = the Hurwitz zeta function of (x[:n], q[:n]) (float64 math)."""
    for i in range(n):
        out[i] = _zeta(float(x[i]), float(q[i]))
