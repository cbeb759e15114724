"""``minitorch.autocast`` / ``minitorch.amp.autocast``: regions where listed ops run in a lower precision.

The cast policies live with the ops (``minitorch/ops/autocast.py``); this module holds the user-facing context
manager and decorators.
"""
import functools
import warnings

from .. import dispatch
from ..dtypes import bfloat16, dtype as _dtype_cls, float16
from ..ops import autocast as _ac
from ..tensor import Tensor

__all__ = ["autocast", "custom_fwd", "custom_bwd", "is_autocast_available"]

_DEVICES = ("cpu", "cuda")


def is_autocast_available(device_type):
    """Whether autocast knows ``device_type`` ("cpu" and "cuda")."""
    return device_type in _DEVICES


def _check_device_type(device_type):
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")


class autocast:
    """Context manager (and decorator) for mixed precision: inside it, ops on PyTorch's lower-precision list
    (linear, matmul, mm, bmm, addmm, baddbmm, conv1d/conv2d ...) cast floating inputs to ``dtype`` and ops on its
    float32 list (losses; on "cuda" also softmax/log_softmax, sum, exp/log/pow, layer_norm ...) run in float32,
    for the tensors on ``device_type``.

    Args:
        device_type: "cpu" or "cuda".
        dtype: the lower precision: ``minitorch.bfloat16`` (default on "cpu") or ``minitorch.float16`` (default
            on "cuda").
        enabled: False makes the region a no-op (and switches autocast off inside an enclosing region).
        cache_enabled: reuse the lower-precision casts of float32 leaf tensors that require grad (model weights)
            until the outermost region exits (default: the current setting, True).

    Example::

        with minitorch.autocast("cpu"):
            y = model(x)          # linear layers in bfloat16
            loss = F.cross_entropy(y, t)   # float32
        loss.backward()
    """

    def __init__(self, device_type, dtype=None, enabled=True, cache_enabled=None):
        _check_device_type(device_type)
        if not is_autocast_available(device_type):
            raise RuntimeError(f"User specified an unsupported autocast device_type '{device_type}'")
        self.device = device_type
        self.fast_dtype = _ac.get_autocast_dtype(device_type) if dtype is None else dtype
        self._cache_enabled = _ac.is_autocast_cache_enabled() if cache_enabled is None else cache_enabled
        if enabled:
            if device_type == "cuda":
                if "cuda" not in dispatch.available():
                    warnings.warn("CUDA is not available or torch_xla is imported. Disabling autocast.",
                                  stacklevel=2)
                    enabled = False
            elif self.fast_dtype not in (bfloat16, float16):
                name = device_type.upper()
                warnings.warn(f"In {name} autocast, but the target dtype is not supported. Disabling autocast.\n"
                              f"{name} Autocast only supports dtypes of minitorch.bfloat16, minitorch.float16 "
                              "currently.", stacklevel=2)
                enabled = False
        if not isinstance(self.fast_dtype, _dtype_cls):
            raise TypeError(f"autocast: dtype must be a minitorch.dtype, got {type(self.fast_dtype).__name__}")
        self._enabled = bool(enabled)

    def __enter__(self):
        self.prev_cache_enabled = _ac.is_autocast_cache_enabled()
        self.prev = _ac.is_autocast_enabled(self.device)
        self.prev_fastdtype = _ac.get_autocast_dtype(self.device)
        _ac.set_autocast_enabled(self.device, self._enabled)
        _ac.set_autocast_dtype(self.device, self.fast_dtype)
        _ac.autocast_increment_nesting()
        _ac.set_autocast_cache_enabled(self._cache_enabled)
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        if _ac.autocast_decrement_nesting() == 0:
            _ac.clear_autocast_cache()
        _ac.set_autocast_enabled(self.device, self.prev)
        _ac.set_autocast_dtype(self.device, self.prev_fastdtype)
        _ac.set_autocast_cache_enabled(self.prev_cache_enabled)
        return False

    def __call__(self, func):
        if not callable(func):
            raise TypeError(f"autocast()(func) requires a callable, but got {type(func).__name__}. Did you mean to "
                            "use autocast as a context manager? For example:\n"
                            "    with torch.autocast(device_type=...):\n"
                            "        output = model(input)")

        @functools.wraps(func)
        def decorated(*args, **kwargs):
            with self:
                return func(*args, **kwargs)
        return decorated


def _cast_inputs(value, device_type, dt):
    if isinstance(value, Tensor):
        if value._device.type == device_type and value.is_floating_point() and value._dtype is not dt:
            return value.to(dt)
        return value
    if isinstance(value, dict):
        return {k: _cast_inputs(v, device_type, dt) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_cast_inputs(v, device_type, dt) for v in value)
    return value


def custom_fwd(fwd=None, *, device_type, cast_inputs=None):
    """Decorator for the ``forward`` of a custom ``autograd.Function``: records the autocast state for
    ``custom_bwd``; with ``cast_inputs``, inside an autocast region, casts floating tensor inputs on
    ``device_type`` to that dtype and runs ``forward`` with autocast off."""
    _check_device_type(device_type)
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)

    @functools.wraps(fwd)
    def decorate_fwd(*args, **kwargs):
        ctx = args[0]
        ctx._dtype = _ac.get_autocast_dtype(device_type)
        if cast_inputs is None:
            ctx._fwd_used_autocast = _ac.is_autocast_enabled(device_type)
            return fwd(*args, **kwargs)
        ctx._fwd_used_autocast = False
        if _ac.is_autocast_enabled(device_type):
            with autocast(device_type=device_type, enabled=False):
                return fwd(*_cast_inputs(args, device_type, cast_inputs),
                           **_cast_inputs(kwargs, device_type, cast_inputs))
        return fwd(*args, **kwargs)
    return decorate_fwd


def custom_bwd(bwd=None, *, device_type):
    """Decorator for the ``backward`` of a custom ``autograd.Function``: runs it with the autocast state its
    ``forward`` (decorated with ``custom_fwd``) saw."""
    _check_device_type(device_type)
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)

    @functools.wraps(bwd)
    def decorate_bwd(*args, **kwargs):
        ctx = args[0]
        with autocast(device_type=device_type, enabled=ctx._fwd_used_autocast, dtype=ctx._dtype):
            return bwd(*args, **kwargs)
    return decorate_bwd
