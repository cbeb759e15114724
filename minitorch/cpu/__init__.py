"""``minitorch.cpu``: the CPU device's module, as ``torch.cpu`` (queries that are trivial here, and ``amp``)."""

__all__ = ["is_available", "device_count", "current_device", "synchronize", "amp"]


def is_available():
    """Always True: the CPU kernels need nothing beyond Numba."""
    return True


def device_count():
    return 1


def current_device():
    return "cpu"


def synchronize(device=None):
    """A no-op: CPU kernels finish before they return."""


from . import amp  # noqa: E402,F401
