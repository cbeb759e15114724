"""Read PyTorch ``torch.save`` checkpoints (a state dict of tensors) without running any code from the file.

Two formats exist. The zip format (PyTorch >= 1.6, the default): a zip archive whose one top-level folder holds
``data.pkl`` (the object, a pickle whose tensors refer to storages by a persistent id), ``data/<key>`` (each
storage's raw bytes), and ``byteorder`` ("little" or "big"; absent in old files, which are little-endian). The
legacy format (``_use_new_zipfile_serialization=False``): five pickles in a row (magic number, protocol version,
system info, the object, the list of storage keys) followed by each storage as an int64 element count and its bytes.

The pickle is read by an unpickler that knows only the handful of globals a state dict needs
(``collections.OrderedDict``, ``torch._utils._rebuild_tensor_v2`` / ``_rebuild_parameter``, the storage classes and
dtypes); each is replaced by a local stand-in, so ``torch`` is never imported and no class from the file is ever
created. Any other global raises ``pickle.UnpicklingError`` before it is looked up.
"""
import io
import pickle
import struct
import zipfile
from collections import OrderedDict

import numpy as np

from . import dtypes as _dt

__all__ = ["is_torch_legacy", "is_torch_zip", "load_torch_legacy", "load_torch_zip"]

# torch.save's legacy format starts with pickle protocol 2 of this long integer
_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_LEGACY_PROTOCOL = 1001

# storage class name -> minitorch dtype
_STORAGE_DTYPES = {
    "FloatStorage": _dt.float32, "DoubleStorage": _dt.float64, "HalfStorage": _dt.float16,
    "BFloat16Storage": _dt.bfloat16, "LongStorage": _dt.int64, "IntStorage": _dt.int32, "ShortStorage": _dt.int16,
    "CharStorage": _dt.int8, "ByteStorage": _dt.uint8, "BoolStorage": _dt.bool, "UntypedStorage": _dt.uint8,
}
_DTYPE_NAMES = {"float32": _dt.float32, "float": _dt.float32, "float64": _dt.float64, "double": _dt.float64,
                "float16": _dt.float16, "half": _dt.float16, "bfloat16": _dt.bfloat16, "int64": _dt.int64,
                "long": _dt.int64, "int32": _dt.int32, "int": _dt.int32, "int16": _dt.int16, "short": _dt.int16,
                "int8": _dt.int8, "uint8": _dt.uint8, "bool": _dt.bool}


def is_torch_zip(data):
    return data[:4] == b"PK\x03\x04"


def is_torch_legacy(data):
    """Whether ``data`` starts with the legacy torch.save magic number (pickle protocol 2, a 10-byte long)."""
    return data[:4] == b"\x80\x02\x8a\x0a" and int.from_bytes(data[4:14], "little") == _LEGACY_MAGIC


class _StorageType:
    """Stands in for ``torch.FloatStorage`` and the others: only its dtype is used."""

    def __init__(self, name, dtype):
        self.name = name
        self.dtype = dtype


class _Storage:
    """One storage of the file: a writable 1-D NumPy array every tensor on it views (so views stay shared)."""

    def __init__(self, array, dtype):
        self.array = array
        self.dtype = dtype


def _rebuild_parameter(data, requires_grad, backward_hooks, *state):
    from .nn.parameter import Parameter
    return Parameter(data, requires_grad=bool(requires_grad))


class _Unpickler(pickle.Unpickler):
    def __init__(self, file, name, storage_loader):
        super().__init__(file)
        self.name = name
        self.storage_loader = storage_loader
        self.storages = {}

    def find_class(self, module, name):
        if module == "collections" and name == "OrderedDict":
            return OrderedDict
        if module == "torch._utils" and name in ("_rebuild_tensor_v2", "_rebuild_tensor"):
            return self._rebuild_tensor
        if module == "torch._utils" and name in ("_rebuild_parameter", "_rebuild_parameter_with_state"):
            return _rebuild_parameter
        if module in ("torch", "torch.storage") and name in _STORAGE_DTYPES:
            return _StorageType(name, _STORAGE_DTYPES[name])
        if module == "torch" and name in _DTYPE_NAMES:
            return _DTYPE_NAMES[name]
        if module == "torch" and name == "Size":
            from .tensor import Size
            return Size
        raise pickle.UnpicklingError(
            f"{self.name}: refusing to load the global {module}.{name}. minitorch reads PyTorch checkpoints that hold "
            "state dicts (tensors, OrderedDicts, numbers, strings) and never runs code from a file; save "
            "model.state_dict() instead of the whole object.")

    def persistent_load(self, pid):
        if not isinstance(pid, tuple) or len(pid) < 5 or pid[0] != "storage":
            raise pickle.UnpicklingError(f"{self.name}: unsupported persistent id {pid!r}")
        storage_type, key, location, numel = pid[1], str(pid[2]), pid[3], pid[4]
        if isinstance(storage_type, _StorageType):
            dtype = storage_type.dtype
        elif isinstance(storage_type, _dt.dtype):  # a storage saved with its dtype object
            dtype = storage_type
        else:
            raise pickle.UnpicklingError(f"{self.name}: unsupported storage type {storage_type!r}")
        if key not in self.storages:
            self.storages[key] = _Storage(self.storage_loader(key, dtype, int(numel)), dtype)
        storage = self.storages[key]
        storage.location = location
        if len(pid) > 5 and pid[5] is not None:  # legacy view of a storage: (view key, offset, numel)
            _, offset, view_numel = pid[5]
            return _Storage(storage.array[offset:offset + view_numel], dtype)
        return storage

    def _rebuild_tensor(self, storage, storage_offset, size, stride, requires_grad=False, backward_hooks=None,
                        metadata=None):
        from .creation import from_numpy
        if not isinstance(storage, _Storage):
            raise pickle.UnpicklingError(f"{self.name}: a tensor refers to {storage!r}, not to a storage")
        arr = storage.array
        size, stride, offset = tuple(int(s) for s in size), tuple(int(s) for s in stride), int(storage_offset)
        if any(s < 0 for s in size) or any(s < 0 for s in stride) or offset < 0:
            raise RuntimeError(f"{self.name} is corrupt: a tensor has size {size}, stride {stride}, offset {offset}")
        numel = int(np.prod(size)) if size else 1
        if numel == 0:
            view = np.empty(size, dtype=arr.dtype)
        else:
            last = offset + sum((n - 1) * s for n, s in zip(size, stride))
            if last >= arr.shape[0]:
                raise RuntimeError(f"{self.name} is corrupt: a tensor of size {size} and stride {stride} at offset "
                                   f"{offset} reaches past its storage of {arr.shape[0]} elements")
            item = arr.itemsize
            view = np.lib.stride_tricks.as_strided(arr[offset:], shape=size, strides=tuple(s * item for s in stride),
                                                   writeable=True)
        t = from_numpy(view)
        t = self.place(t, getattr(storage, "location", "cpu"))
        if requires_grad:
            t.requires_grad_(True)
        return t

    place = staticmethod(lambda t, location: t)


def _array(raw, dtype, numel, byteorder, name, key):
    np_dtype = np.dtype(dtype.np)
    nbytes = numel * np_dtype.itemsize
    if len(raw) < nbytes:
        raise RuntimeError(f"{name} is corrupt or truncated: storage {key} holds {len(raw)} bytes, {nbytes} expected")
    if byteorder == "big" and np_dtype.itemsize > 1:
        arr = np.frombuffer(raw, dtype=np_dtype.newbyteorder(">"), count=numel).astype(np_dtype)
    else:
        arr = np.frombuffer(raw, dtype=np_dtype, count=numel).copy()
    return arr


def _unpickle(stream, name, loader, map_location):
    from .serialization import _place
    up = _Unpickler(stream, name, loader)
    up.place = lambda t, location: _place(t, location, map_location)
    try:
        return _storages_as_tensors(up.load())
    except pickle.UnpicklingError:
        raise
    except (EOFError, ValueError, struct.error, IndexError, KeyError) as e:
        raise RuntimeError(f"{name} is corrupt: its pickle could not be read ({type(e).__name__}: {e})") from None


def _storages_as_tensors(obj):
    """A storage saved on its own (not through a tensor) comes back as a 1-D tensor of its elements."""
    if isinstance(obj, _Storage):
        from .creation import from_numpy
        return from_numpy(obj.array)
    if isinstance(obj, dict):
        for k in list(obj):
            obj[k] = _storages_as_tensors(obj[k])
        return obj
    if isinstance(obj, list):
        obj[:] = [_storages_as_tensors(v) for v in obj]
        return obj
    if type(obj) is tuple:  # not minitorch.Size (its items are ints)
        return tuple(_storages_as_tensors(v) for v in obj)
    return obj


def load_torch_zip(data, name, map_location=None):
    """The object in a zip-format ``torch.save`` file (bytes ``data``), its tensors as minitorch tensors."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as e:
        raise RuntimeError(f"{name} is not a valid PyTorch checkpoint: {e}") from None
    with zf:
        names = zf.namelist()
        pkl = [n for n in names if n.endswith("data.pkl") and n.count("/") == 1]
        if not pkl:
            raise RuntimeError(f"{name} is a zip archive but not a PyTorch checkpoint (it has no <folder>/data.pkl)")
        prefix = pkl[0][:-len("data.pkl")]
        byteorder = "little"
        if prefix + "byteorder" in names:
            byteorder = zf.read(prefix + "byteorder").decode("ascii", "replace").strip()
            if byteorder not in ("little", "big"):
                raise RuntimeError(f"{name} is corrupt: unknown byteorder {byteorder!r}")

        def loader(key, dtype, numel):
            entry = f"{prefix}data/{key}"
            if entry not in names:
                raise RuntimeError(f"{name} is corrupt: the storage {entry} is missing")
            return _array(zf.read(entry), dtype, numel, byteorder, name, key)

        return _unpickle(io.BytesIO(zf.read(pkl[0])), name, loader, map_location)


class _HeaderUnpickler(pickle.Unpickler):
    """For the plain-value pickles around the object in the legacy format: no globals at all."""

    def find_class(self, module, name):
        raise pickle.UnpicklingError(f"refusing to load the global {module}.{name}")


def load_torch_legacy(data, name, map_location=None):
    """The object in a legacy (pre-zip) ``torch.save`` file."""
    f = io.BytesIO(data)
    try:
        magic = _HeaderUnpickler(f).load()
        protocol = _HeaderUnpickler(f).load()
        sys_info = _HeaderUnpickler(f).load()
    except (pickle.UnpicklingError, EOFError, ValueError, IndexError) as e:
        raise RuntimeError(f"{name} is corrupt: its legacy torch.save header could not be read ({e})") from None
    if magic != _LEGACY_MAGIC or protocol != _LEGACY_PROTOCOL:
        raise RuntimeError(f"{name} is not a legacy PyTorch checkpoint of a known version (protocol {protocol!r})")
    little = not isinstance(sys_info, dict) or sys_info.get("little_endian", True)
    pending = {}

    def loader(key, dtype, numel):
        arr = np.zeros(numel, dtype=dtype.np)  # filled once the storages after the object are read
        pending[key] = arr
        return arr

    obj = _unpickle(f, name, loader, "cpu")  # filled in place below, then moved where map_location says
    try:
        keys = _HeaderUnpickler(f).load()
    except (pickle.UnpicklingError, EOFError, ValueError, IndexError) as e:
        raise RuntimeError(f"{name} is corrupt or truncated: its storage list could not be read ({e})") from None
    for key in keys:
        head = f.read(8)
        if len(head) < 8:
            raise RuntimeError(f"{name} is truncated: storage {key} is missing")
        n = int.from_bytes(head, "little" if little else "big")
        arr = pending.get(str(key))
        if arr is None:
            raise RuntimeError(f"{name} is corrupt: it holds storage {key}, which no tensor uses")
        raw = f.read(n * arr.itemsize)
        if n != arr.shape[0]:
            raise RuntimeError(f"{name} is corrupt: storage {key} has {n} elements, {arr.shape[0]} expected")
        dtype = _dt.from_numpy_dtype(arr.dtype)
        arr[...] = _array(raw, dtype, n, "little" if little else "big", name, key)
    return _moved(obj, map_location)


def _moved(obj, map_location):
    from .serialization import _place
    from .tensor import Tensor
    if map_location is None or isinstance(map_location, str) and map_location == "cpu":
        return obj
    if isinstance(obj, Tensor):
        return _place(obj, "cpu", map_location)
    if isinstance(obj, dict):
        for k in list(obj):
            obj[k] = _moved(obj[k], map_location)
        return obj
    if isinstance(obj, list):
        return [_moved(v, map_location) for v in obj]
    if isinstance(obj, tuple):
        return tuple(_moved(v, map_location) for v in obj)
    return obj
