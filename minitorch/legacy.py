"""PyTorch's legacy tensor types: ``FloatTensor``, ``LongTensor`` ... and their ``minitorch.cuda`` forms.

Each is a constructor (``LongTensor([1, 2])`` copies data, ``FloatTensor(2, 3)`` or ``FloatTensor(Size)`` makes an
uninitialised tensor, ``FloatTensor()`` an empty one) and a type test: ``isinstance(x, minitorch.FloatTensor)`` is
True exactly for float32 tensors on the CPU, as PyTorch answers it. ``x.type(minitorch.LongTensor)`` casts.
Calling one never returns an instance of it in the Python sense: the result is a plain ``Tensor``.
"""
import numpy as np

from . import dtypes as _dt
from .device import device as _device

__all__ = ["TensorType", "TYPES", "CUDA_TYPES", "by_name"]


class TensorType(type):
    """The metaclass of the legacy types: makes them callable constructors and isinstance tests."""

    def __instancecheck__(cls, obj):
        from .tensor import Tensor
        return isinstance(obj, Tensor) and obj._dtype is cls.dtype and obj._device.type == cls._device_type

    def __call__(cls, *args, device=None):
        from .creation import empty, tensor
        from .tensor import Size, Tensor
        dev = _device(cls._device_type) if device is None else _device(device)
        if dev.type != cls._device_type:
            raise RuntimeError(f"legacy constructor expects device type: {cls._device_type} but device type: "
                               f"{dev.type} was passed")
        if not args:
            return empty(0, dtype=cls.dtype, device=dev)
        if len(args) == 1 and not isinstance(args[0], (int, np.integer, Size)):
            data = args[0]
            if isinstance(data, Tensor):
                if data._dtype is not cls.dtype:
                    raise TypeError(f"expected {cls.dtype} (got {data._dtype})")
                return data if data._device == dev else data.to(dev)
            return tensor(data, dtype=cls.dtype, device=dev)
        sizes = tuple(args[0]) if len(args) == 1 and isinstance(args[0], Size) else args
        for s in sizes:
            if not isinstance(s, (int, np.integer)):
                raise TypeError(f"new(): argument 'size' must be tuple of ints, but found element of type "
                                f"{type(s).__name__}")
        return empty(*sizes, dtype=cls.dtype, device=dev)

    def __repr__(cls):
        return f"<class '{cls.__module__}.{cls.__name__}'>"

    @property
    def is_cuda(cls):
        return cls._device_type == "cuda"


def _make(dt, device_type):
    name = dt.legacy + "Tensor"
    return TensorType(name, (), {"dtype": dt, "_device_type": device_type,
                                 "__module__": "torch" if device_type == "cpu" else "torch.cuda",
                                 "__doc__": f"{dt} tensors on the {device_type.upper()} (legacy type)."})


TYPES = {dt.legacy + "Tensor": _make(dt, "cpu") for dt in _dt._ALL}
CUDA_TYPES = {dt.legacy + "Tensor": _make(dt, "cuda") for dt in _dt._ALL}


def by_name(name):
    """The legacy type for ``'torch.FloatTensor'`` / ``'torch.cuda.LongTensor'`` (``minitorch.`` also accepted)."""
    parts = name.split(".")
    if parts[0] in ("torch", "minitorch"):
        parts = parts[1:]
    table = TYPES
    if parts and parts[0] == "cuda":
        table, parts = CUDA_TYPES, parts[1:]
    t = table.get(parts[0]) if len(parts) == 1 else None
    if t is None:
        raise ValueError(f"invalid type: '{name}'")
    return t
