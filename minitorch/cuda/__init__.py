"""``minitorch.cuda``: device queries. Importing this never fails and costs nothing on machines without CUDA.

``is_available()`` is True when Numba finds a CUDA GPU (or runs its simulator, ``NUMBA_ENABLE_CUDASIM=1``); then
tensors and modules move there with ``.to("cuda")`` / ``.cuda()`` and every op runs as ``@cuda.jit`` kernels.
"""
from .. import dispatch
from ..legacy import CUDA_TYPES as _LEGACY_TYPES

globals().update(_LEGACY_TYPES)  # minitorch.cuda.FloatTensor, ...

_current = 0


class OutOfMemoryError(RuntimeError):
    """``torch.cuda.OutOfMemoryError`` (also ``minitorch.OutOfMemoryError``), for ``except`` clauses."""


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


def _index(device):
    """The device index that ``device`` (None: the current one, an int, "cuda:1" or a minitorch.device) names."""
    if device is None:
        return _current
    if isinstance(device, int):
        return device
    from ..device import device as _dev
    if isinstance(device, _dev):
        return _current if device.index is None else device.index
    text = str(device)
    return _current if text == "cuda" else int(text.split(":")[-1])


def set_device(device):
    global _current
    _lazy_check()
    _current = _index(device)


def get_device_name(device=None):
    _lazy_check()
    from numba import config, cuda
    if config.ENABLE_CUDASIM:
        return "Numba CUDA simulator"
    name = cuda.gpus[_index(device)].device.name
    return name.decode() if isinstance(name, bytes) else str(name)


def get_device_capability(device=None):
    """(major, minor) compute capability."""
    _lazy_check()
    from numba import cuda
    return tuple(int(v) for v in cuda.gpus[_index(device)].compute_capability)


def mem_get_info(device=None):
    """(free, total) bytes of device memory as the driver reports them (the simulator reports no limit: 0, 0)."""
    _lazy_check()
    from numba import cuda
    with cuda.gpus[_index(device)]:
        free, total = cuda.current_context().get_memory_info()
    return (int(free), int(total)) if free != float("inf") else (0, 0)


class _CudaDeviceProperties:
    def __init__(self, name, major, minor, total_memory, multi_processor_count):
        self.name, self.major, self.minor = name, major, minor
        self.total_memory, self.multi_processor_count = total_memory, multi_processor_count

    def __repr__(self):
        return (f"_CudaDeviceProperties(name='{self.name}', major={self.major}, minor={self.minor}, "
                f"total_memory={self.total_memory // 2 ** 20}MB, multi_processor_count={self.multi_processor_count})")


def get_device_properties(device=None):
    """Name, compute capability, total memory and multiprocessor count (0 where the simulator has none)."""
    _lazy_check()
    from numba import config, cuda
    idx = _index(device)
    major, minor = get_device_capability(idx)
    sms = 0 if config.ENABLE_CUDASIM else int(cuda.gpus[idx].device.MULTIPROCESSOR_COUNT)
    return _CudaDeviceProperties(get_device_name(idx), major, minor, mem_get_info(idx)[1], sms)


def init():
    """CUDA starts lazily with the first launch; checks that it is available, as torch.cuda.init does."""
    _lazy_check()


def synchronize(device=None):
    """Wait for every kernel launched on the GPU to finish (``AssertionError`` without CUDA, as PyTorch's CPU
    build raises)."""
    _lazy_check()
    from numba import cuda
    cuda.synchronize()


class Event:
    """A CUDA event (``torch.cuda.Event``): a marker in the GPU's stream of work, to wait for or to time kernels
    by (``start.record(); ...; end.record(); end.synchronize(); start.elapsed_time(end)`` in milliseconds). Numba's
    event underneath; on its simulator, whose kernels run synchronously, every elapsed time is 0.0. Without CUDA,
    making one raises ``RuntimeError``, as in PyTorch's CPU build."""

    def __init__(self, enable_timing=False, blocking=False, interprocess=False):
        if not is_available():
            raise RuntimeError("minitorch.cuda.Event needs CUDA: no CUDA device is available")
        from numba import config, cuda
        self.enable_timing = bool(enable_timing)
        self._event = cuda.event() if config.ENABLE_CUDASIM else cuda.event(timing=self.enable_timing)
        self._recorded = False

    def record(self, stream=None):
        self._event.record(0 if stream is None else stream)
        self._recorded = True

    def wait(self, stream=None):
        self._event.wait(0 if stream is None else stream)

    def query(self):
        """Whether the work recorded before the event has finished."""
        return not self._recorded or bool(getattr(self._event, "query", lambda: True)())

    def synchronize(self):
        self._event.synchronize()

    def elapsed_time(self, end_event):
        """Milliseconds between this event and ``end_event`` (both recorded, made with ``enable_timing=True``)."""
        if not (self.enable_timing and end_event.enable_timing):
            raise RuntimeError("Both events must be created with argument 'enable_timing=True'.")
        if not (self._recorded and end_event._recorded):
            raise RuntimeError("Both events must be recorded before calculating elapsed time.")
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the simulator warns that its timings are zeros
            return float(self._event.elapsed_time(end_event._event))


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


def max_memory_allocated(device=None):
    """The most bytes memory_allocated() has reached since start or the last reset_peak_memory_stats()."""
    if not is_available():
        return 0
    return dispatch.kernels("cuda").memory.peak()


def reset_peak_memory_stats(device=None):
    if is_available():
        dispatch.kernels("cuda").memory.reset_peak()


# minitorch keeps no caching allocator (freed storages go back to Numba's allocator), so what it holds in reserve is
# exactly what its live storages hold.
memory_reserved = memory_allocated
max_memory_reserved = max_memory_allocated


def is_initialized():
    return is_available()


from . import amp  # noqa: E402,F401  (the deprecated torch.cuda.amp forms)
