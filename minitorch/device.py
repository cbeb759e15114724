"""Devices: ``minitorch.device("cpu")``, ``minitorch.device("cuda:0")``."""

__all__ = ["device"]


_INTERNED = {}  # (argument, index) and (type, index) -> the one device object of that type and index


class device:
    """A device type plus an optional index; compares equal to an equivalent device. There is one object per
    type and index (``minitorch.device("cuda:0") is minitorch.device("cuda", 0)``), so fast paths that compare
    tensors' devices by identity hold on every device."""

    __slots__ = ("type", "index")

    def __new__(cls, type, index=None):  # noqa: A002 - torch's argument name
        key = (type, index) if isinstance(type, str) and (index is None or isinstance(index, int)) else None
        d = _INTERNED.get(key) if key is not None else None
        if d is None:
            d = object.__new__(cls)
            d._parse(type, index)
            d = _INTERNED.setdefault((d.type, d.index), d)
            if key is not None:
                _INTERNED[key] = d
        return d

    def __init__(self, type, index=None):  # noqa: A002
        pass  # (made in __new__)

    def _parse(self, type, index):  # noqa: A002
        if isinstance(type, device):
            self.type, self.index = type.type, type.index
            return
        if not isinstance(type, str):
            raise TypeError(f"device() received an invalid combination of arguments - got ({type!r})")
        kind, _, idx = type.partition(":")
        if kind not in ("cpu", "cuda"):
            raise RuntimeError(
                f"Expected one of cpu, cuda device type at start of device string: {type}")
        if idx:
            if index is not None:
                raise RuntimeError(f"type (string) must not include an index because index was passed explicitly: {type}")
            if not idx.isdigit():
                raise RuntimeError(f"Invalid device string: '{type}'")
            index = int(idx)
        if index is not None and (not isinstance(index, int) or index < 0):
            raise RuntimeError(f"Device index must not be negative, got {index}")
        if kind == "cpu" and index not in (None, 0):
            raise RuntimeError(f"CPU device index must be -1 or zero, got {index}")
        self.type = kind
        self.index = index

    def __eq__(self, other):
        if isinstance(other, str):
            try:
                other = device(other)
            except RuntimeError:
                return False
        if not isinstance(other, device):
            return NotImplemented
        return self.type == other.type and self.index == other.index

    def __hash__(self):
        return hash((self.type, self.index))

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self):
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __reduce__(self):
        return (device, (str(self),))


CPU = device("cpu")
_default = CPU


def set_default_device(device_):
    """Make creation functions (``zeros``, ``tensor``, ``randn`` ...) allocate on ``device_`` when given none
    (None restores the CPU), as ``torch.set_default_device``. ``from_numpy`` and generators stay on the CPU. As in
    PyTorch, a CUDA device is checked when a tensor is made there, not here."""
    global _default
    if device_ is None:
        _default = CPU
    else:
        d = device(device_) if not isinstance(device_, int) else device("cuda", device_)
        _default = CPU if d.type == "cpu" else d


def get_default_device():
    """The device creation functions use when given none (``torch.get_default_device``)."""
    return as_device(_default)


def as_device(d):
    """Normalise a device argument (None: the default device, str, int, device) to a device; tensors live on
    indexed CUDA devices."""
    if d is None:
        if _default is CPU:
            return CPU
        d = _default
    if isinstance(d, device):
        dev = d
    elif isinstance(d, int):
        dev = device("cuda", d)
    else:
        dev = device(d)
    if dev.type == "cuda" and dev.index is None:
        from . import cuda
        dev = device("cuda", cuda.current_device())
    if dev.type == "cpu":
        return CPU
    return dev
