"""dtypes and PyTorch's type-promotion rules."""
import ml_dtypes
import numpy as np

__all__ = ["dtype", "float32", "float64", "float16", "half", "bfloat16", "int64", "int32", "int16", "int8", "uint8",
           "bool", "complex64", "complex128", "cfloat", "cdouble", "get_default_dtype", "set_default_dtype",
           "promote_types", "result_type", "from_numpy_dtype"]


class dtype:
    """A tensor element type (``minitorch.float32`` ...); compares by identity like ``torch.dtype``."""

    __slots__ = ("name", "np", "storage_np", "is_floating_point", "is_signed", "itemsize", "_cat", "_rank", "legacy",
                 "c_name", "_half")

    def __init__(self, name, np_dtype, cat, rank, legacy, c_name, storage_np=None):
        self.name = name
        self.legacy = legacy  # the legacy tensor type's stem: "Float" for torch.FloatTensor
        self.c_name = c_name  # the C type PyTorch's messages name: "float", "long int" ...
        self.np = np.dtype(np_dtype)  # what users see: .numpy(), from_numpy, tolist, printing
        # what storages hold: the same, except for the 16-bit floats, which Numba cannot load or store; their
        # storages hold the bit patterns as uint16 and kernels convert (kernels/*/half.py)
        self.storage_np = self.np if storage_np is None else np.dtype(storage_np)
        self._half = storage_np is not None
        self.is_floating_point = cat == 2
        self.is_signed = name not in ("uint8", "bool")
        self.itemsize = self.np.itemsize
        self._cat = cat  # 0 bool, 1 integer, 2 floating
        self._rank = rank

    @property
    def is_complex(self):
        return False

    def __repr__(self):
        return "minitorch." + self.name

    def __reduce__(self):
        return (_by_name, (self.name,))

    def to_numpy(self):
        return self.np


bool = dtype("bool", np.bool_, 0, 0, "Bool", "bool")  # noqa: A001 - torch.bool
uint8 = dtype("uint8", np.uint8, 1, 1, "Byte", "unsigned char")
int8 = dtype("int8", np.int8, 1, 2, "Char", "signed char")
int16 = dtype("int16", np.int16, 1, 3, "Short", "short int")
int32 = dtype("int32", np.int32, 1, 4, "Int", "int")
int64 = dtype("int64", np.int64, 1, 5, "Long", "long int")
float16 = dtype("float16", np.float16, 2, 6, "Half", "c10::Half", np.uint16)
bfloat16 = dtype("bfloat16", ml_dtypes.bfloat16, 2, 7, "BFloat16", "c10::BFloat16", np.uint16)
float32 = dtype("float32", np.float32, 2, 8, "Float", "float")
float64 = dtype("float64", np.float64, 2, 9, "Double", "double")
half = float16


class _Unsupported(dtype):
    """A dtype minitorch names (as torch does) but has no kernels for: any use that needs its storage, a cast or a
    promotion raises TypeError."""

    __slots__ = ()

    def __init__(self, name, legacy):
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "legacy", legacy)
        object.__setattr__(self, "c_name", "c10::complex<float>" if name == "complex64" else "c10::complex<double>")
        object.__setattr__(self, "is_floating_point", False)
        object.__setattr__(self, "is_signed", True)
        object.__setattr__(self, "_cat", 3)
        object.__setattr__(self, "_rank", 10)
        object.__setattr__(self, "_half", False)

    def _refuse(self):
        raise TypeError(f"minitorch does not support complex dtypes ({self.name})")

    np = property(lambda self: self._refuse())
    storage_np = property(lambda self: self._refuse())
    itemsize = property(lambda self: self._refuse())

    @property
    def is_complex(self):
        return True


complex64 = _Unsupported("complex64", "ComplexFloat")
complex128 = _Unsupported("complex128", "ComplexDouble")
cfloat = complex64
cdouble = complex128

# set once the first float16/bfloat16 tensor is made (tensor._make): until then the launchers' half_compute wrappers
# skip their argument scan, so programs without 16-bit floats pay one list read per launch
HALF_SEEN = [False]

_ALL = (bool, uint8, int8, int16, int32, int64, float16, bfloat16, float32, float64)
_BY_NP = {d.np: d for d in _ALL}
_BY_NAME = {d.name: d for d in _ALL}
_default_float = float32


def _by_name(name):
    return _BY_NAME[name]


def from_numpy_dtype(np_dtype):
    """The minitorch dtype for a NumPy dtype; TypeError for the ones minitorch has no kernels for."""
    d = _BY_NP.get(np.dtype(np_dtype))
    if d is None:
        raise TypeError(
            f"can't convert np.ndarray of type numpy.{np.dtype(np_dtype).name}. The only supported types are: "
            "float64, float32, float16, bfloat16, int64, int32, int16, int8, uint8, and bool.")
    return d


def get_default_dtype():
    return _default_float


def set_default_dtype(d):
    global _default_float
    if not isinstance(d, dtype) or not d.is_floating_point:
        raise TypeError(f"only floating-point types are supported as the default type, got {d}")
    _default_float = d


def promote_types(a, b):
    """The smallest dtype both convert to safely, as ``torch.promote_types``."""
    if a is b:
        if a._cat == 3:
            a._refuse()
        return a
    if a._cat == 3 or b._cat == 3:
        (a if a._cat == 3 else b)._refuse()
    if a._cat != b._cat:
        return a if a._cat > b._cat else b
    if a._cat == 1 and uint8 in (a, b):
        other = b if a is uint8 else a
        return int16 if other is int8 else other  # uint8 and int8 meet in int16; wider signed types hold uint8
    if a._half and b._half:
        return float32  # neither 16-bit float holds the other's range and precision
    return a if a._rank > b._rank else b


def _combine(higher, lower):
    # torch's combine_categories: a lower-priority operand only matters when it is of a higher category
    if higher is None:
        return lower
    if lower is None or higher.is_floating_point:
        return higher
    if higher is bool or lower.is_floating_point:
        return promote_types(higher, lower)
    return higher


def scalar_dtype(value):
    if isinstance(value, (builtins_bool, np.bool_)):
        return bool
    if isinstance(value, (int, np.integer)):
        return int64
    if isinstance(value, (float, np.floating)):
        return _default_float
    raise TypeError(f"unsupported scalar type {type(value).__name__}")


def result_type(*operands):
    """dtype of an op over Tensors and Python scalars, following PyTorch's three priority levels."""
    dim = zero = wrapped = None
    for x in operands:
        d = getattr(x, "_dtype", None)
        if d is None:
            s = scalar_dtype(x)
            wrapped = s if wrapped is None else promote_types(wrapped, s)
        elif len(x._shape):
            dim = d if dim is None else promote_types(dim, d)
        else:
            zero = d if zero is None else promote_types(zero, d)
    return _combine(dim, _combine(zero, wrapped))


import builtins as _builtins  # noqa: E402

builtins_bool = _builtins.bool


# ---------------------------------------------------------------------------------------------------------------
# finfo / iinfo
# ---------------------------------------------------------------------------------------------------------------
def _float_limits(name):
    """(bits, eps, max, tiny, resolution) of a floating dtype, from its IEEE layout."""
    if name == "bfloat16":  # 8 exponent bits like float32, 7 mantissa bits
        return 16, 2.0 ** -7, (2 - 2.0 ** -7) * 2.0 ** 127, 2.0 ** -126, 0.01
    fi = np.finfo(np.dtype(name))
    return fi.bits, float(fi.eps), float(fi.max), float(fi.smallest_normal), 10.0 ** -fi.precision


class finfo:
    """Machine limits of a floating dtype (the default dtype when none is given), as ``torch.finfo``."""

    def __init__(self, type=None):  # noqa: A002 - torch's argument name
        d = get_default_dtype() if type is None else type
        if not isinstance(d, dtype) or not d.is_floating_point:
            raise TypeError(f"torch.finfo() requires a floating point input type. Use torch.iinfo to handle "
                            f"'torch.finfo'")
        self.bits, self.eps, self.max, self.tiny, self.resolution = _float_limits(d.name)
        self.min = -self.max
        self.smallest_normal = self.tiny
        self.dtype = d.name

    def __repr__(self):
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, eps={self.eps:g}, "
                f"smallest_normal={self.smallest_normal:g}, tiny={self.tiny:g}, dtype={self.dtype})")

    def __eq__(self, other):
        return isinstance(other, finfo) and other.dtype == self.dtype

    def __hash__(self):
        return hash(("finfo", self.dtype))


class iinfo:
    """Limits of an integer dtype, as ``torch.iinfo``."""

    def __init__(self, type):  # noqa: A002 - torch's argument name
        if not isinstance(type, dtype) or type.is_floating_point or type is bool:
            raise TypeError("torch.iinfo() requires an integer input type. Use torch.finfo to handle 'torch.iinfo'")
        ii = np.iinfo(type.np)
        self.bits, self.min, self.max, self.dtype = ii.bits, int(ii.min), int(ii.max), type.name

    def __repr__(self):
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"

    def __eq__(self, other):
        return isinstance(other, iinfo) and other.dtype == self.dtype

    def __hash__(self):
        return hash(("iinfo", self.dtype))
