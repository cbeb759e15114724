"""Random numbers for the CPU device: NumPy's PCG64 generator (the state behind minitorch's Generator) fills the
storage directly, so a seed gives the same numbers as drawing the whole shape at once."""
import numpy as np


def uniform(rng, out, n):
    """out[:n] = U[0, 1) samples in out's float dtype; ``rng`` is a numpy Generator."""
    rng.random(n, dtype=out.dtype, out=out[:n])


def normal(rng, out, n):
    """out[:n] = standard normal samples in out's float dtype."""
    rng.standard_normal(n, dtype=out.dtype, out=out[:n])


def integers(rng, out, n, low, high):
    """out[:n] = integers uniform on [low, high), drawn as int64 and stored in out's dtype."""
    out[:n] = rng.integers(low, high, size=n, dtype=np.int64)


def poisson(rng, rates, out, n):
    """out[:n] = Poisson samples with the rates in rates[:n] (non-negative, checked by the caller), in out's dtype."""
    out[:n] = rng.poisson(rates[:n].astype(np.float64))


def gamma(rng, alpha, out, n):
    """out[:n] = Gamma(alpha[:n], 1) samples (shapes positive, checked by the caller), in out's dtype; draws that
    round to zero in out's dtype become its smallest normal number, so their logarithm stays finite."""
    x = rng.standard_gamma(alpha[:n].astype(np.float64)).astype(out.dtype)
    out[:n] = np.maximum(x, np.finfo(out.dtype).tiny)
