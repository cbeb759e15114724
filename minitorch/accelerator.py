"""``minitorch.accelerator``: the device-agnostic queries of recent PyTorch (``torch.accelerator``); the only
accelerator minitorch knows is CUDA."""
from . import cuda as _cuda
from .device import device as _device


def is_available():
    return _cuda.is_available()


def device_count():
    return _cuda.device_count()


def current_accelerator(check_available=False):
    """``device("cuda")`` when CUDA is available; otherwise None (``check_available`` makes no difference here:
    the only accelerator type minitorch has is CUDA, and it counts only when usable)."""
    return _device("cuda") if _cuda.is_available() else None


def current_device_index():
    return _cuda.current_device()


def set_device_index(device):
    _cuda.set_device(device)


def synchronize(device=None):
    _cuda.synchronize(device)
