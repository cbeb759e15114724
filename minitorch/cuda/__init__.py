"""``minitorch.cuda``: device queries. Importing this never fails and costs nothing on machines without CUDA.

``is_available()`` is True when Numba finds a CUDA GPU (or runs its simulator, ``NUMBA_ENABLE_CUDASIM=1``); then
tensors and modules move there with ``.to("cuda")`` / ``.cuda()`` and every op runs as ``@cuda.jit`` kernels.
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
    from numba import config, cuda
    if config.ENABLE_CUDASIM:
        return "Numba CUDA simulator"
    idx = _current if device is None else (device.index if hasattr(device, "index") else int(device)) or 0
    name = cuda.gpus[idx].device.name
    return name.decode() if isinstance(name, bytes) else str(name)


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
    """Bytes held by the live CUDA storages minitorch has allocated (0 without CUDA)."""
    if not is_available():
        return 0
    return dispatch.kernels("cuda").memory.allocated()


def is_initialized():
    return is_available()
