"""``minitorch.save`` / ``minitorch.load``: checkpoints as safetensors files, never pickle.

A checkpoint is one safetensors file (https://github.com/huggingface/safetensors): every tensor in ``obj`` is
stored as a named tensor (a module state dict's keys are the names, so ``safetensors.torch.load_file`` gives the
same dict back), and the structure around the tensors (nested dicts, lists, tuples, numbers, strings, None, bools)
is JSON in the file's ``__metadata__``. Loading parses that JSON and nothing else, so a file can never run code.
A plain safetensors file written by another library loads as a dict of tensors.

Layout of the metadata: ``format = "pt"`` (what Hugging Face loaders expect), ``minitorch.version = "1"`` and
``minitorch.structure``, the JSON tree. In the tree, JSON numbers, strings, true/false/null and lists stand for
themselves; every JSON object is a tagged node:

* ``{"T": name}`` a tensor (``"rg": true`` when it requires grad, ``"P": true`` for an ``nn.Parameter``,
  ``"dev": "cuda:0"`` when not on the CPU); ``{"A": name}`` a NumPy array
* ``{"tuple": [...]}``, ``{"dict": [[key, value], ...], "kind": "OrderedDict" | "Counter"}`` (keys keep their
  type, so an optimizer state dict's integer keys come back as integers)
* ``{"float": "nan" | "inf" | "-inf"}``, ``{"dtype": "float32"}``, ``{"device": "cpu"}``, ``{"size": [2, 3]}`` (a
  ``minitorch.Size``), ``{"set": [...]}``
* ``{"global": "module:qualname"}`` a class or function (``TransformerEncoderLayer.activation = F.relu``), and
  ``{"obj": "module:qualname", "id": n, "state": {...}}`` an object such as a whole ``nn.Module``: its class and its
  attributes, as PyTorch pickles it; ``{"ref": n}`` is the same object again (shared submodules stay shared).

Loading an object creates it with ``cls.__new__`` and sets its attributes (``__setstate__`` where the class has one),
and only for classes it may: minitorch's own, those named in ``add_safe_globals``/``safe_globals`` (as PyTorch's
``weights_only`` loader asks), or any importable class with ``weights_only=False``. Anything else is refused with
``pickle.UnpicklingError``, as PyTorch refuses it, before the class's module is even imported.

PyTorch's allow-list (``add_safe_globals``, ``safe_globals``, ``get_safe_globals``, ``clear_safe_globals``) decides
which of a program's own classes a file may create, as in PyTorch.
"""
import json
import math
import os
import pickle
import tempfile
import types
from collections import Counter, OrderedDict

import numpy as np

from .tensor import Size, Tensor

__all__ = ["save", "load", "add_safe_globals", "clear_safe_globals", "get_safe_globals", "safe_globals"]

_VERSION = "1"
_STRUCT_KEY = "minitorch.structure"
_VERSION_KEY = "minitorch.version"
_DICT_KINDS = {"dict": dict, "OrderedDict": OrderedDict, "Counter": Counter}


def _safetensors_numpy():
    try:
        import safetensors.numpy as stn
    except ImportError as e:  # pragma: no cover - a declared dependency
        raise RuntimeError("minitorch.save/load need the 'safetensors' package: pip install safetensors") from e
    return stn


# ---------------------------------------------------------------------------------------------------------------
# save
# ---------------------------------------------------------------------------------------------------------------
class _Encoder:
    def __init__(self):
        self.arrays = {}
        self.by_id = {}
        self.objects = {}  # id -> (index, obj): an object met twice is stored once and referred to after

    def _name(self, path):
        base = ".".join(str(p) for p in path) or "tensor"
        if base == "__metadata__":
            base = "tensor.__metadata__"
        name, k = base, 1
        while name in self.arrays:
            name, k = f"{base}#{k}", k + 1
        return name

    def _array(self, obj, path, host):
        key = id(obj)
        if key in self.by_id:
            return self.by_id[key][0]
        name = self._name(path)
        # np.require, not np.ascontiguousarray, which turns a 0-d array into a 1-d one
        self.arrays[name] = np.require(host, requirements="C")
        self.by_id[key] = (name, obj)  # holding obj keeps its id from being reused during the save
        return name

    def encode(self, obj, path):
        if isinstance(obj, Tensor):
            t = obj.detach()
            node = {"T": self._array(obj, path, t.cpu().numpy())}
            if obj.requires_grad:
                node["rg"] = True
            if type(obj).__name__ == "Parameter":
                node["P"] = True
            if obj.device.type != "cpu":
                node["dev"] = str(obj.device)
            return node
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, (np.bool_,)):
            return bool(obj)
        if isinstance(obj, (int, np.integer)):
            return int(obj)
        if isinstance(obj, (float, np.floating)):
            obj = float(obj)
            if math.isfinite(obj):
                return obj
            return {"float": "nan" if obj != obj else ("inf" if obj > 0 else "-inf")}
        if isinstance(obj, np.ndarray):
            from .dtypes import from_numpy_dtype
            from_numpy_dtype(obj.dtype)  # TypeError for dtypes the file format here does not take
            return {"A": self._array(obj, path, obj)}
        if isinstance(obj, list):
            return [self.encode(v, path + (i,)) for i, v in enumerate(obj)]
        if isinstance(obj, Size):
            return {"size": [int(n) for n in obj]}
        if isinstance(obj, tuple):
            return {"tuple": [self.encode(v, path + (i,)) for i, v in enumerate(obj)]}
        if isinstance(obj, dict):
            items = []
            for k, v in obj.items():
                if not (k is None or isinstance(k, (str, int, float, bool))):
                    raise TypeError(f"minitorch.save: dict keys must be strings or numbers, got a key of type "
                                    f"{type(k).__name__} at {_where(path)}")
                items.append([self.encode(k, path), self.encode(v, path + (k,))])
            node = {"dict": items}
            if isinstance(obj, Counter):
                node["kind"] = "Counter"
            elif isinstance(obj, OrderedDict):
                node["kind"] = "OrderedDict"
            return node
        from .dtypes import dtype as _dtype
        from .device import device as _device
        if isinstance(obj, _dtype):
            return {"dtype": obj.name}
        if isinstance(obj, _device):
            return {"device": str(obj)}
        if isinstance(obj, (set, frozenset)):
            node = {"set": [self.encode(v, path) for v in obj]}
            if isinstance(obj, frozenset):
                node["frozen"] = True
            return node
        if isinstance(obj, (type, types.FunctionType, types.BuiltinFunctionType)):
            return {"global": _global_name(obj, path)}
        return self.instance(obj, path)

    def instance(self, obj, path):
        """An object (a whole nn.Module, say) as its class's import path and its attributes, as PyTorch pickles
        it; the same object twice becomes one node and a reference, so shared submodules stay shared."""
        if id(obj) in self.objects:
            return {"ref": self.objects[id(obj)][0]}
        cls = type(obj)
        state = getattr(obj, "__dict__", None)
        custom = cls.__reduce_ex__ is not object.__reduce_ex__ or cls.__reduce__ is not object.__reduce__
        if state is None or custom or getattr(cls, "__slots__", None):
            raise TypeError(f"minitorch.save stores tensors, numbers, strings, None, bools, lists/tuples/dicts/sets "
                            f"of them, modules and objects made of those; got {cls.__module__}.{cls.__qualname__} "
                            f"at {_where(path)}")
        index = len(self.objects)
        self.objects[id(obj)] = (index, obj)  # holding obj keeps its id from being reused during the save
        getstate = getattr(obj, "__getstate__", None)
        if getstate is not None and getattr(cls, "__getstate__", None) is not getattr(object, "__getstate__", None):
            state = getstate()
        if not isinstance(state, dict):
            raise TypeError(f"minitorch.save: {cls.__qualname__}.__getstate__ returned a {type(state).__name__}, "
                            f"not a dict, at {_where(path)}")
        return {"obj": _global_name(cls, path), "id": index, "state": self.encode(dict(state), path)}


def _global_name(obj, path):
    """'module:qualname' of a class or function that can be imported back by that name."""
    module, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    found = None
    if module and qualname and "<locals>" not in qualname and "<lambda>" not in qualname:
        found = _lookup(module, qualname)
    if found is not obj:
        raise TypeError(f"minitorch.save: {obj!r} at {_where(path)} cannot be found again by its name (a lambda, a "
                        "local function or class?); only importable classes and functions can be saved")
    return f"{module}:{qualname}"


def _lookup(module, qualname):
    import importlib
    import sys
    try:
        target = sys.modules.get(module) or importlib.import_module(module)
        for part in qualname.split("."):
            target = getattr(target, part)
        return target
    except (ImportError, AttributeError):
        return None


def _where(path):
    return "the top level" if not path else "obj" + "".join(f"[{p!r}]" for p in path)


def _serialize(obj):
    enc = _Encoder()
    structure = enc.encode(obj, ())
    metadata = {"format": "pt", _VERSION_KEY: _VERSION,
                _STRUCT_KEY: json.dumps(structure, separators=(",", ":"), allow_nan=False)}
    return _safetensors_numpy().save(enc.arrays, metadata=metadata)


def _write_atomic(path, data):
    """Write to a temporary file in the target's directory, fsync, then rename over the target: a reader (or a
    crash) sees the old file or the new one, never a partial one."""
    path = os.fspath(path)
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the file the permissions open() would
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def save(obj, f, pickle_module=None, pickle_protocol=None, _use_new_zipfile_serialization=True,
         _disable_byteorder_record=False):
    """Save ``obj`` (tensors, numbers, strings, None, bools, dicts/lists/tuples/sets of them, and modules or other
    plain objects made of those) to ``f``.

    Args:
        obj: e.g. ``model.state_dict()``, ``optimizer.state_dict()``, a dict of both plus an epoch number, or a whole
            model (loading it back needs its class allowed, see ``load``).
        f: a path (written atomically: a temporary file in the same folder, then a rename) or a binary file
            object open for writing.

    The file is a safetensors file; see the module docstring for the layout. Tensors that share storage are stored
    separately (the same tensor object twice is stored once). ``pickle_module`` and the other arguments are
    accepted for compatibility with ``torch.save`` and ignored.

    Example::

        >>> minitorch.save({"model": model.state_dict(), "optim": opt.state_dict(), "epoch": 3}, "ckpt.pt")
    """
    data = _serialize(obj)
    if hasattr(f, "write"):
        f.write(data)
        return
    _write_atomic(f, data)


# ---------------------------------------------------------------------------------------------------------------
# load
# ---------------------------------------------------------------------------------------------------------------
def _read(f):
    if hasattr(f, "read"):
        data = f.read()
        name = getattr(f, "name", "<file object>")
    else:
        name = os.fspath(f)
        with open(name, "rb") as fh:
            data = fh.read()
    if not isinstance(data, (bytes, bytearray)):
        raise TypeError("minitorch.load needs a path or a file object opened in binary mode")
    return bytes(data), name


def _parse_header(data, name):
    """The safetensors header as a dict, or a RuntimeError that says what the file looks like instead."""
    kind = None
    plausible = len(data) >= 9 and int.from_bytes(data[:8], "little") <= len(data) - 8 and data[8:9] == b"{"
    if data[:4] == b"PK\x03\x04":
        kind = "a zip archive (a PyTorch torch.save checkpoint?)"
    elif data[:1] == b"\x80" and not plausible:  # a header of 128 (mod 256) bytes also starts with 0x80
        kind = "a pickle file"
    if kind is not None:
        raise RuntimeError(f"{name} is {kind}, not a safetensors file. minitorch.load reads only safetensors files "
                           "and never unpickles; convert the checkpoint with safetensors.torch.save_file, or load "
                           "it with torch.load and save it with minitorch.save.")
    if len(data) < 8:
        raise RuntimeError(f"{name} is not a minitorch checkpoint: {len(data)} bytes is too short for a safetensors "
                           "file")
    n = int.from_bytes(data[:8], "little")
    if n > len(data) - 8 or data[8:9] != b"{":
        raise RuntimeError(f"{name} is not a minitorch checkpoint (not a safetensors file: the first 8 bytes give a "
                           f"header of {n} bytes in a {len(data)}-byte file)")
    try:
        header = json.loads(data[8:8 + n].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise RuntimeError(f"{name} is corrupt: its safetensors header is not valid JSON ({e})") from None
    if not isinstance(header, dict):
        raise RuntimeError(f"{name} is corrupt: its safetensors header is not a JSON object")
    return header


class _Decoder:
    def __init__(self, arrays, name, map_location, weights_only=True):
        self.arrays = arrays
        self.name = name
        self.map_location = map_location
        self.weights_only = weights_only
        self.made = {}
        self.objects = {}

    def resolve(self, name):
        """The class or function saved as 'module:qualname', if it may be loaded: minitorch's own, one in
        ``add_safe_globals``/``safe_globals``, or any importable one with ``weights_only=False``."""
        if not isinstance(name, str) or name.count(":") != 1:
            raise self.corrupt(f"a global {name!r} is not 'module:qualname'")
        module, qualname = name.split(":")
        dotted = f"{module}.{qualname}"
        allowed = [g for g in _SAFE_GLOBALS if not isinstance(g, tuple)]
        named = {g[1]: g[0] for g in _SAFE_GLOBALS if isinstance(g, tuple)}
        if dotted in named:
            return named[dotted]
        for g in allowed:
            if getattr(g, "__module__", None) == module and getattr(g, "__qualname__", None) == qualname:
                return g
        own = module == "minitorch" or module.startswith("minitorch.")
        if not (own or self.weights_only is False):
            raise pickle.UnpicklingError(
                f"Weights only load failed: {self.name} holds an object of {dotted}, which is not an allowed global. "
                f"If you trust the file, allow it with minitorch.serialization.add_safe_globals([{qualname}]) (or "
                f"the safe_globals context manager), or pass weights_only=False to minitorch.load.")
        found = _lookup(module, qualname)
        if found is None:
            raise RuntimeError(f"{self.name} holds an object of {dotted}, which cannot be imported here")
        return found

    def instance(self, node):
        cls = self.resolve(node["obj"])
        if not isinstance(cls, type):
            raise self.corrupt(f"{node['obj']!r} is not a class")
        state = node.get("state")
        obj = cls.__new__(cls)
        self.objects[node.get("id")] = obj  # before its state: an attribute may refer back to it
        state = self.decode(state)
        if not isinstance(state, dict):
            raise self.corrupt(f"the state of a {node['obj']} is not a dict")
        if hasattr(obj, "__setstate__") and getattr(cls, "__setstate__", None) is not getattr(object, "__setstate__",
                                                                                               None):
            obj.__setstate__(state)
        else:
            obj.__dict__.update(state)
        return obj

    def corrupt(self, what):
        return RuntimeError(f"{self.name} is corrupt: {what}")

    def tensor(self, node):
        key = node["T"]
        if not isinstance(key, str) or key not in self.arrays:
            raise self.corrupt(f"its structure refers to a tensor {key!r} that the file does not hold")
        memo = ("T", key)
        if memo in self.made:
            return self.made[memo]
        from .creation import from_numpy
        arr = self.arrays[key]
        t = from_numpy(arr)
        location = node.get("dev", "cpu")
        t = _place(t, location, self.map_location)
        if node.get("rg"):
            t.requires_grad_(True)
        if node.get("P"):
            try:
                from .nn.parameter import Parameter
            except ImportError:
                pass
            else:
                t = Parameter(t, requires_grad=bool(node.get("rg")))
        self.made[memo] = t
        return t

    def decode(self, node):
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if isinstance(node, list):
            return [self.decode(v) for v in node]
        if not isinstance(node, dict) or len(node) == 0:
            raise self.corrupt(f"unexpected node {node!r} in its structure")
        if "T" in node:
            return self.tensor(node)
        if "A" in node:
            key = node["A"]
            if not isinstance(key, str) or key not in self.arrays:
                raise self.corrupt(f"its structure refers to an array {key!r} that the file does not hold")
            return self.arrays[key]
        if "tuple" in node and isinstance(node["tuple"], list):
            return tuple(self.decode(v) for v in node["tuple"])
        if "size" in node and isinstance(node["size"], list):
            if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in node["size"]):
                raise self.corrupt(f"a Size {node['size']!r} is not a list of non-negative ints")
            return Size(node["size"])
        if "dict" in node and isinstance(node["dict"], list):
            kind = _DICT_KINDS.get(node.get("kind", "dict"))
            if kind is None:
                raise self.corrupt(f"unknown mapping kind {node.get('kind')!r}")
            out = kind()
            for item in node["dict"]:
                if not isinstance(item, list) or len(item) != 2:
                    raise self.corrupt(f"a dict entry {item!r} is not a [key, value] pair")
                k = self.decode(item[0])
                if not (k is None or isinstance(k, (str, int, float, bool))):
                    raise self.corrupt(f"a dict key {k!r} is not a string or a number")
                out[k] = self.decode(item[1])
            return out
        if "float" in node:
            special = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}
            if node["float"] not in special:
                raise self.corrupt(f"unknown float {node['float']!r}")
            return special[node["float"]]
        if "dtype" in node:
            from .dtypes import _BY_NAME
            if node["dtype"] not in _BY_NAME:
                raise self.corrupt(f"unknown dtype {node['dtype']!r}")
            return _BY_NAME[node["dtype"]]
        if "device" in node:
            from .device import device
            return device(node["device"])
        if "set" in node and isinstance(node["set"], list):
            items = [self.decode(v) for v in node["set"]]
            return frozenset(items) if node.get("frozen") else set(items)
        if "global" in node:
            return self.resolve(node["global"])
        if "obj" in node:
            return self.instance(node)
        if "ref" in node:
            if node["ref"] not in self.objects:
                raise self.corrupt(f"a reference to object {node['ref']!r} that comes before it")
            return self.objects[node["ref"]]
        raise self.corrupt(f"unexpected node {node!r} in its structure")


def _place(t, location, map_location):
    """Move a freshly loaded CPU tensor to where ``map_location`` (or, without one, the saved device) says."""
    from .device import device as _device
    if map_location is None:
        target = location
    elif callable(map_location) and not isinstance(map_location, (str, _device)):
        out = map_location(t, location)
        return t if out is None else out
    elif isinstance(map_location, dict):
        target = map_location.get(location, location)
    else:
        target = map_location
    target = _device(target) if not isinstance(target, _device) else target
    if target.type == "cpu":
        return t
    from . import cuda
    if target.type == "cuda" and not cuda.is_available():
        raise RuntimeError("Attempting to deserialize object on a CUDA device but minitorch.cuda.is_available() is "
                           "False. If you are running on a CPU-only machine, please use minitorch.load with "
                           "map_location=minitorch.device('cpu') to map your storages to the CPU.")
    return t.to(target)


def _load_arrays(data, header):
    """safetensors' NumPy loader, plus BF16 entries (NumPy has no bfloat16; ml_dtypes' is the one .numpy() gives),
    which safetensors.numpy writes but does not read back."""
    stn = _safetensors_numpy()
    if not any(isinstance(v, dict) and v.get("dtype") == "BF16" for v in header.values()):
        return stn.load(data)
    import ml_dtypes
    import safetensors
    out = {}
    for key, v in safetensors.deserialize(data):
        dt = np.dtype(ml_dtypes.bfloat16) if v["dtype"] == "BF16" else np.dtype(stn._getdtype(v["dtype"]))
        out[key] = np.frombuffer(v["data"], dtype=dt).reshape(v["shape"])
    return out


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None, **pickle_load_args):
    """Load an object saved by ``minitorch.save`` (or a plain safetensors file, as a dict of tensors), or a
    PyTorch ``torch.save`` checkpoint of a state dict (zip or legacy format; see ``minitorch._torch_zip``: its
    pickle is read with an unpickler that knows only the globals a state dict needs, whatever ``weights_only`` says).

    Args:
        f: a path or a binary file object.
        map_location: where tensors go: a device or device string, a dict mapping saved locations to new ones
            ({"cuda:0": "cpu"}), or a function ``(tensor, location) -> tensor``. By default each tensor goes back to
            the device it was saved from.
        weights_only: as PyTorch's default (None or True), a saved object is created only if its class is
            minitorch's own or allowed with ``add_safe_globals``/``safe_globals``; False allows any importable class
            (only for files you trust, as in PyTorch). The file itself is never executed: it holds JSON and arrays.
        mmap, pickle_module: accepted for compatibility with ``torch.load``.

    Raises:
        RuntimeError: the file is not a safetensors file or a PyTorch checkpoint, is truncated
            or corrupt, or holds a dtype minitorch has no kernels for.
        pickle.UnpicklingError: the file holds an object whose class is not allowed (see ``weights_only``).
    """
    data, name = _read(f)
    from . import _torch_zip  # PyTorch's own checkpoint formats, read without unpickling arbitrary globals
    if _torch_zip.is_torch_zip(data):
        return _torch_zip.load_torch_zip(data, name, map_location)
    if _torch_zip.is_torch_legacy(data):
        return _torch_zip.load_torch_legacy(data, name, map_location)
    header = _parse_header(data, name)
    try:
        arrays = _load_arrays(data, header)
    except Exception as e:  # SafetensorError, or a dtype safetensors.numpy has no mapping for
        raise RuntimeError(f"{name} is corrupt or not a safetensors file: {e}") from None
    from .dtypes import from_numpy_dtype
    for key, arr in arrays.items():
        try:
            from_numpy_dtype(arr.dtype)
        except TypeError:
            raise RuntimeError(f"{name}: tensor {key!r} has dtype {header.get(key, {}).get('dtype', arr.dtype)}, "
                               "which minitorch does not support (float64, float32, float16, bfloat16, int64, int32, "
                               "int16, int8, uint8, bool)") \
                from None
        if not arr.flags.writeable or not arr.flags.c_contiguous or not arr.dtype.isnative:
            arrays[key] = np.array(arr, dtype=arr.dtype.newbyteorder("="), order="C", copy=True)
    meta = header.get("__metadata__") or {}
    dec = _Decoder(arrays, name, map_location, weights_only)
    if not isinstance(meta, dict) or _STRUCT_KEY not in meta:
        # a plain safetensors file: its tensors, in file order
        names = sorted((k for k in header if k != "__metadata__"),
                       key=lambda k: header[k].get("data_offsets", [0])[0] if isinstance(header[k], dict) else 0)
        return {k: dec.tensor({"T": k}) for k in names}
    version = meta.get(_VERSION_KEY, _VERSION)
    if version != _VERSION:
        raise RuntimeError(f"{name} was written by a newer minitorch (checkpoint format {version!r}; this version "
                           f"reads {_VERSION!r})")
    try:
        structure = json.loads(meta[_STRUCT_KEY])
    except (TypeError, json.JSONDecodeError) as e:
        raise RuntimeError(f"{name} is corrupt: its structure metadata is not valid JSON ({e})") from None
    return dec.decode(structure)


# ---------------------------------------------------------------------------------------------------------------
# PyTorch's allow-list API for weights_only loading: the classes (and functions) a file may name
# ---------------------------------------------------------------------------------------------------------------
_SAFE_GLOBALS = []


def add_safe_globals(safe_globals):
    """Allow files to create these classes (or name these functions); ``(obj, "module.name")`` pairs allow ``obj``
    under that saved name, as PyTorch's call does."""
    if not isinstance(safe_globals, list):
        raise TypeError(f"safe_globals must be a list, got {type(safe_globals).__name__}")
    for g in safe_globals:
        if isinstance(g, tuple) and not (len(g) == 2 and isinstance(g[1], str)):
            raise TypeError(f"a (global, name) pair must hold an object and its dotted name, got {g!r}")
    _SAFE_GLOBALS.extend(safe_globals)


def get_safe_globals():
    return list(_SAFE_GLOBALS)


def clear_safe_globals():
    _SAFE_GLOBALS.clear()


class safe_globals:
    """Context manager form of ``add_safe_globals``: the additions are removed on exit."""

    def __init__(self, safe_globals):
        self._globals = safe_globals

    def __enter__(self):
        self._saved = list(_SAFE_GLOBALS)
        add_safe_globals(self._globals)
        return self

    def __exit__(self, *exc):
        _SAFE_GLOBALS[:] = self._saved
        return False
