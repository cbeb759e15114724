"""``minitorch.cuda``: device queries. Importing this never fails and costs nothing on machines without CUDA.

CUDA kernels are not part of this release: ``is_available()`` is False and CUDA tensors cannot be created yet.
"""
from .. import dispatch

_current = 0


def is_available():
    """True when a CUDA device and the CUDA kernels are both usable."""
    return "cuda" in dispatch.available()


def device_count():
    return 0 if not is_available() else _device_count()


def _device_count():
    from numba import cuda
    return len(cuda.gpus)


def _lazy_check():
    if not is_available():
        raise AssertionError("Torch not compiled with CUDA enabled")


def current_device():
    _lazy_check()
    return _current


def set_device(device):
    global _current
    _lazy_check()
    from ..device import device as _dev
    idx = device.index if isinstance(device, _dev) else int(str(device).split(":")[-1]) if str(device) != "cuda" \
        else 0
    _current = idx or 0


def get_device_name(device=None):
    _lazy_check()
    from numba import cuda
    return cuda.get_current_device().name.decode() if isinstance(cuda.get_current_device().name, bytes) else \
        cuda.get_current_device().name


def synchronize(device=None):
    if is_available():
        from numba import cuda
        cuda.synchronize()


def empty_cache():
    """Nothing is cached by minitorch on the host side; kept for API compatibility."""


def manual_seed(seed):
    from .. import random
    random.manual_seed(seed)


manual_seed_all = manual_seed


def memory_allocated(device=None):
    return 0


def is_initialized():
    return is_available()
