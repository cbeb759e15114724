"""Random numbers on the GPU: a counter-based generator, so every element is drawn independently by its own thread
and nothing is copied from the host but one seed.

Element i of a draw gets SplitMix64's output for the counter i under a 64-bit seed, which the host takes from
minitorch's Generator (numpy's PCG64) for each call: ``manual_seed`` makes CUDA draws reproducible, though they
differ from the CPU's numbers (as in PyTorch). Uniform floats take the top 24 (float32) or 53 (float64) bits;
normals use the Box-Muller transform of two such draws (counters 2i and 2i + 1). Integers on [low, high) take the
high 64 bits of the 128-bit product of a draw with the span (Lemire's multiply-shift: no division, no rejection;
the bias is below span / 2**64).
"""
import math

import numpy as np
from numba import cuda, int64, uint64

from ._grid import THREADS, blocks

# On Numba's CUDA simulator the arithmetic below runs on NumPy scalars, which warn about the wrap-around a GPU does
# silently. The first warning would add ``__warningregistry__`` to this module's globals while the simulator's
# other threads iterate them (to swap in its fake ``cuda`` module), failing the launch ("dictionary changed size
# during iteration"); made here, the registry is only filled.
__warningregistry__ = {}

_GOLDEN = uint64(0x9E3779B97F4A7C15)
_M1 = uint64(0xBF58476D1CE4E5B9)
_M2 = uint64(0x94D049BB133111EB)
_LO32 = uint64(0xFFFFFFFF)
_32 = uint64(32)


@cuda.jit(device=True)
def _mix(seed, i):
    """SplitMix64: the i-th output of the stream that starts at ``seed`` (all arithmetic mod 2**64)."""
    z = seed + (i + uint64(1)) * _GOLDEN
    z = (z ^ (z >> uint64(30))) * _M1
    z = (z ^ (z >> uint64(27))) * _M2
    return z ^ (z >> uint64(31))


@cuda.jit(device=True)
def _unit(z, wide):
    """A float in [0, 1) from the top 53 (``wide``) or 24 bits of z; exact in float64 or float32."""
    if wide:
        return (z >> uint64(11)) * 1.1102230246251565e-16  # 2**-53
    return (z >> uint64(40)) * 5.9604644775390625e-08  # 2**-24


@cuda.jit
def _uniform(out, n, seed, wide):
    for i in range(cuda.grid(1), n, cuda.gridsize(1)):
        out[i] = _unit(_mix(seed, uint64(i)), wide)


@cuda.jit
def _normal(out, n, seed, wide):
    for i in range(cuda.grid(1), n, cuda.gridsize(1)):
        u1 = 1.0 - _unit(_mix(seed, uint64(2 * i)), True)  # in (0, 1]: log(u1) is finite
        u2 = _unit(_mix(seed, uint64(2 * i + 1)), True)
        out[i] = math.sqrt(-2.0 * math.log(u1)) * math.cos(6.283185307179586 * u2)


@cuda.jit(device=True)
def _mulhi(a, b):
    """The high 64 bits of the 128-bit product a * b, from 32-bit halves (no partial product overflows)."""
    al = a & _LO32
    ah = a >> _32
    bl = b & _LO32
    bh = b >> _32
    ll = al * bl
    hl = ah * bl
    cross = (ll >> _32) + (hl & _LO32) + al * bh
    return ah * bh + (hl >> _32) + (cross >> _32)


@cuda.jit
def _integers(out, n, seed, low, span):
    for i in range(cuda.grid(1), n, cuda.gridsize(1)):
        h = _mulhi(_mix(seed, uint64(i)), span)  # in [0, span)
        a = h >> uint64(1)  # two halves below 2**63, so each step stays inside [low, low + span)
        out[i] = (low + int64(a)) + int64(h - a)


def _seed(rng):
    return np.uint64(rng.integers(0, 2 ** 64, dtype=np.uint64))


def uniform(rng, out, n):
    """out[:n] = U[0, 1) samples in out's float dtype; ``rng`` (a numpy Generator) only supplies the seed."""
    if n > 0:
        _uniform[blocks(n), THREADS](out, n, _seed(rng), out.dtype == np.float64)


def normal(rng, out, n):
    """out[:n] = standard normal samples in out's float dtype."""
    if n > 0:
        _normal[blocks(n), THREADS](out, n, _seed(rng), out.dtype == np.float64)


def integers(rng, out, n, low, high):
    """out[:n] = integers uniform on [low, high) (low < high, both within int64), stored in out's dtype."""
    if n > 0:
        _integers[blocks(n), THREADS](out, n, _seed(rng), np.int64(low), np.uint64(high - low))


@cuda.jit(device=True)
def _poisson_one(lam, s):
    """One Poisson(lam) sample from the stream seeded ``s``: multiplication of uniforms for small rates, Hormann's
    transformed rejection with squeeze (PTRS) from 10 on, where the product method would take too many draws."""
    j = uint64(0)
    if lam < 10.0:
        limit = math.exp(-lam)
        p = 1.0
        k = 0
        while True:
            p *= _unit(_mix(s, j), True)
            j += uint64(1)
            if p <= limit:
                return float(k)
            k += 1
    slam = math.sqrt(lam)
    loglam = math.log(lam)
    b = 0.931 + 2.53 * slam
    a = -0.059 + 0.02483 * b
    inv_alpha = 1.1239 + 1.1328 / (b - 3.4)
    vr = 0.9277 - 3.6224 / (b - 2.0)
    while True:
        u = _unit(_mix(s, j), True) - 0.5
        v = _unit(_mix(s, j + uint64(1)), True)
        j += uint64(2)
        us = 0.5 - abs(u)
        k = math.floor((2.0 * a / us + b) * u + lam + 0.43)
        if us >= 0.07 and v <= vr:
            return k
        if k < 0.0 or (us < 0.013 and v > us):
            continue
        if v > 0.0 and (math.log(v) + math.log(inv_alpha) - math.log(a / (us * us) + b)
                        <= -lam + k * loglam - math.lgamma(k + 1.0)):
            return k


@cuda.jit
def _poisson(rates, out, n, seed):
    for i in range(cuda.grid(1), n, cuda.gridsize(1)):
        lam = float(rates[i])
        out[i] = 0.0 if lam == 0.0 else _poisson_one(lam, _mix(seed, uint64(i)))


def poisson(rng, rates, out, n):
    """out[:n] = Poisson samples with the rates in rates[:n] (non-negative, checked by the caller); each element
    draws from its own counter stream, seeded from the element's index."""
    if n > 0:
        _poisson[blocks(n), THREADS](rates, out, n, _seed(rng))


@cuda.jit(device=True)
def _gamma_one(alpha, s):
    """One Gamma(alpha, 1) sample from the stream seeded ``s``: Marsaglia and Tsang's squeeze-and-reject method on
    a Box-Muller normal; shapes below 1 draw with alpha + 1 and scale by u ** (1 / alpha)."""
    j = uint64(0)
    boost = 1.0
    if alpha < 1.0:
        u = 1.0 - _unit(_mix(s, j), True)
        j += uint64(1)
        boost = math.exp(math.log(u) / alpha)
        alpha += 1.0
    d = alpha - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * d)
    while True:
        u1 = 1.0 - _unit(_mix(s, j), True)
        u2 = _unit(_mix(s, j + uint64(1)), True)
        u = 1.0 - _unit(_mix(s, j + uint64(2)), True)
        j += uint64(3)
        z = math.sqrt(-2.0 * math.log(u1)) * math.cos(6.283185307179586 * u2)
        v = 1.0 + c * z
        if v <= 0.0:
            continue
        v = v * v * v
        if u < 1.0 - 0.0331 * z * z * z * z or math.log(u) < 0.5 * z * z + d * (1.0 - v + math.log(v)):
            return d * v * boost


@cuda.jit
def _gamma(alpha, out, n, seed, tiny):
    for i in range(cuda.grid(1), n, cuda.gridsize(1)):
        x = _gamma_one(float(alpha[i]), _mix(seed, uint64(i)))
        out[i] = x if x > tiny else tiny


def gamma(rng, alpha, out, n):
    """out[:n] = Gamma(alpha[:n], 1) samples (shapes positive, checked by the caller), at least the smallest normal
    number of out's dtype; each element draws from its own counter stream."""
    if n > 0:
        _gamma[blocks(n), THREADS](alpha, out, n, _seed(rng), float(np.finfo(out.dtype).tiny))
