"""Helpers shared by the op modules: operand promotion, device checks, dims, casts."""
import collections

import numpy as np

from ..autograd.function import Function
from ..autograd.grad_mode import _state
from ..dtypes import bool as t_bool, get_default_dtype, promote_types, result_type, scalar_dtype
from ..tensor import Tensor, _wrap_dim
from . import launch

_SCALARS = {}


def scalar_tensor(value, dt, device):
    """A cached 0-d tensor for a Python number (internal operands only; never returned to users)."""
    key = (type(value), value, dt, device)
    t = _SCALARS.get(key)
    if t is None:
        if len(_SCALARS) > 4096:
            _SCALARS.clear()
        t = launch.scalar(value, dt, device)
        _SCALARS[key] = t
    return t


def is_scalar(x):
    return isinstance(x, (int, float, bool, np.number, np.bool_))


def check_device(a, b):
    if a._device != b._device and a._shape and b._shape:
        raise RuntimeError(
            "Expected all tensors to be on the same device, but found at least two devices, "
            f"{a._device} and {b._device}!")


class ToCopy(Function):
    """Differentiable dtype cast (a fresh contiguous copy)."""

    @staticmethod
    def forward(ctx, x, dt):
        ctx.src = x._dtype
        return launch.contiguous(x, dt)

    @staticmethod
    def backward(ctx, g):
        return (g.to(ctx.src) if ctx.src.is_floating_point else None), None


def cast(x, dt):
    if x._dtype is dt:
        return x
    return ToCopy.apply(x, dt)


def operands(a, b, float_op=False):
    """Promote two operands (Tensors or numbers) to one dtype and device; returns (a, b) as tensors."""
    ta = isinstance(a, Tensor)
    tb = isinstance(b, Tensor)
    if ta and tb:
        if a._device != b._device:
            check_device(a, b)
            dev = a._device if a._shape else b._device
        else:
            dev = a._device
        dt = a._dtype if a._dtype is b._dtype else result_type(a, b)
    elif ta:
        if not is_scalar(b):
            raise TypeError(f"unsupported operand type: '{type(b).__name__}'")
        dev = a._device
        dt = a._dtype if _fits(b, a._dtype) else result_type(a, b)
    elif tb:
        if not is_scalar(a):
            raise TypeError(f"unsupported operand type: '{type(a).__name__}'")
        dev = b._device
        dt = b._dtype if _fits(a, b._dtype) else result_type(a, b)
    else:
        raise TypeError("expected at least one Tensor operand")
    if float_op and not dt.is_floating_point:
        dt = get_default_dtype()
    a = cast(a, dt) if ta else scalar_tensor(a, dt, dev)
    b = cast(b, dt) if tb else scalar_tensor(b, dt, dev)
    return a, b


def _fits(value, dt):
    """Whether a Python scalar leaves a tensor's dtype unchanged (the common fast case)."""
    if dt.is_floating_point:
        return not isinstance(value, complex)
    if dt is t_bool:
        return isinstance(value, (bool, np.bool_))
    return isinstance(value, (int, np.integer, bool, np.bool_))


def dims_arg(dim, ndim):
    """Normalise a dim argument (None, int, tuple/list) to a sorted tuple of distinct non-negative dims."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, (tuple, list)):
        out = []
        for d in dim:
            w = _wrap_dim(d, ndim)
            if w in out:
                raise RuntimeError(f"dim {w} appears multiple times in the list of dims")
            out.append(w)
        return tuple(sorted(out))
    return (_wrap_dim(dim, ndim),)


wrap_dim = _wrap_dim  # one call, not two, on every op that takes a dim


def can_cast(src, dst):
    """torch.can_cast: no float -> integral and no non-bool -> bool."""
    if src.is_floating_point and not dst.is_floating_point:
        return False
    if src is not t_bool and dst is t_bool:
        return False
    return True


def recording(*tensors):
    return _state.enabled and any(t._requires_grad for t in tensors if isinstance(t, Tensor))


def type_label(dt):
    return dt.legacy


def warn(message, category=UserWarning):
    """``warnings.warn`` attributed to the first caller outside minitorch (the user's line), however many of
    minitorch's own wrappers (autocast, 16-bit float, Tensor methods) stand between it and the op."""
    import os
    import sys
    import warnings
    pkg = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    level, frame = 2, sys._getframe(1)  # stacklevel 2 is warn's caller
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(pkg + os.sep):
        level, frame = level + 1, frame.f_back
    warnings.warn(message, category, stacklevel=level)


RETURN_TYPES = {}  # every structured return type, by PyTorch's name (minitorch.return_types exposes them)


def return_type(name, fields=("values", "indices")):
    """The named tuple PyTorch returns as ``torch.return_types.<name>`` (made once, registered by name)."""
    if name in RETURN_TYPES:
        return RETURN_TYPES[name]
    fields = tuple(fields)
    base = collections.namedtuple(name, fields)

    def __repr__(self):
        body = ",\n".join(f"{f}={getattr(self, f)!r}" for f in fields)
        return f"minitorch.return_types.{name}(\n{body})"
    cls = type(name, (base,), {"__repr__": __repr__, "__slots__": (), "__module__": "minitorch.return_types",
                               "__doc__": f"``({', '.join(fields)})`` returned by ``{name}``."})
    RETURN_TYPES[name] = cls
    return cls


__all__ = ["warn", "return_type", "RETURN_TYPES", "scalar_tensor", "operands", "cast", "dims_arg", "wrap_dim", "can_cast", "recording", "check_device",
           "promote_types", "scalar_dtype", "type_label"]
