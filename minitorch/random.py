"""Random number generation: ``Generator``, ``manual_seed``, and the default generator.

Draws come from NumPy's PCG64 bit generator on the host, so a seed gives the same numbers on every device.
"""
import numpy as np

__all__ = ["Generator", "manual_seed", "seed", "initial_seed", "get_rng_state", "set_rng_state", "default_generator"]


class Generator:
    """A random-number generator with its own state (``minitorch.Generator().manual_seed(0)``)."""

    def __init__(self, device="cpu"):
        from .device import as_device
        self.device = as_device("cpu" if device is None else device)
        self._seed = 67280421310721
        self._rng = np.random.Generator(np.random.PCG64(self._seed))

    def manual_seed(self, seed):
        seed = int(seed)
        if seed < 0:
            seed += 1 << 64
        if not 0 <= seed < (1 << 64):
            raise RuntimeError(f"Overflow when unpacking long")
        self._seed = seed
        # reseeded in place: the numpy Generator object stays the same, so anything holding it (a compiled graph's
        # random draws) follows the new seed
        self._rng.bit_generator.state = np.random.PCG64(seed).state
        return self

    def seed(self):
        s = int(np.random.SeedSequence().entropy) % (1 << 63)
        self.manual_seed(s)
        return s

    def initial_seed(self):
        return self._seed

    def get_state(self):
        from .creation import tensor
        import pickle
        raw = pickle.dumps(self._rng.bit_generator.state)
        return tensor(np.frombuffer(raw, dtype=np.uint8).copy())

    def set_state(self, new_state):
        import pickle
        state = pickle.loads(new_state.numpy().tobytes())  # noqa: S301 - a state we wrote ourselves
        if not isinstance(state, dict) or state.get("bit_generator") != "PCG64":
            raise RuntimeError("Invalid generator state")
        self._rng.bit_generator.state = state
        return self

    # draws (host arrays) ----------------------------------------------------------------------------------------
    def _permutation(self, n):
        return self._rng.permutation(n).astype(np.int64)


default_generator = Generator()


def manual_seed(seed):
    """Seed the default generator (and CUDA's, when present); returns the default generator."""
    return default_generator.manual_seed(seed)


def seed():
    return default_generator.seed()


def initial_seed():
    return default_generator.initial_seed()


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(new_state):
    default_generator.set_state(new_state)


def gen(generator):
    return default_generator if generator is None else generator
