"""Tensor creation: tensor, as_tensor, from_numpy, zeros/ones/full/empty, arange, linspace, eye, random tensors."""
import math


import numpy as np

from . import dispatch
from . import dtypes as _dt
from .device import CPU, as_device
from .autograd.function import Function
from .ops import launch
from .random import gen
from .tensor import Size, Tensor, _contiguous_strides, _make

__all__ = ["tensor", "as_tensor", "from_numpy", "zeros", "ones", "full", "empty", "arange", "linspace", "logspace",
           "eye", "zeros_like", "ones_like", "full_like", "empty_like", "rand", "randn", "randint", "randperm",
           "rand_like", "randn_like", "randint_like", "normal", "is_tensor", "numel", "scalar_tensor",
           "empty_strided", "bernoulli", "multinomial"]


def _from_host(arr, dt, device):
    dev = as_device(device)
    if dt._half and np.asarray(arr).dtype != dt.np:
        # as PyTorch: other types reach a 16-bit float through float32 (double -> float -> half)
        arr = np.asarray(arr, dtype=np.float32).astype(dt.np)
    flat = np.ascontiguousarray(arr, dtype=dt.np).reshape(-1)
    if flat.base is not None or flat is arr:
        flat = flat.copy()
    if dt._half:
        flat = flat.view(dt.storage_np)
    storage = dispatch.kernels(dev.type).memory.from_host(flat)
    shape = tuple(arr.shape)
    return _make(storage, shape, _contiguous_strides(shape), 0, dt, dev)


def _infer_array(data):
    """A NumPy array and the minitorch dtype PyTorch would infer for ``data``."""
    if isinstance(data, Tensor):
        return data.detach().cpu().numpy(), data.dtype
    if isinstance(data, np.ndarray):
        return data, _dt.from_numpy_dtype(data.dtype)
    if isinstance(data, (np.generic,)):
        return np.asarray(data), _dt.from_numpy_dtype(data.dtype)
    if isinstance(data, (list, tuple)):
        data = _unwrap(data)
        first = data
        while isinstance(first, list) and first:
            first = first[0]
        if isinstance(first, np.generic):
            # NumPy scalars carry their dtype (torch.tensor([np.float64(1.0)]) is float64), Python numbers the
            # default ones; the result is their promotion
            arr = np.asarray(data)
            return arr, _leaf_dtype(data)
    arr = np.asarray(data)
    if arr.dtype == object:
        raise ValueError("expected sequence of equal-length sequences (could not infer a rectangular shape)")
    if arr.dtype.kind == "f":
        return arr, _dt.get_default_dtype()
    if arr.dtype.kind in "iu":
        return arr, _dt.int64
    if arr.dtype.kind == "b":
        return arr, _dt.bool
    if arr.dtype.kind in "US":
        raise TypeError(f"new(): invalid data type '{type(data).__name__}'")
    if arr.dtype.kind == "c":
        raise TypeError("complex tensors are not supported by minitorch")
    return arr, _dt.from_numpy_dtype(arr.dtype)


def _leaf_dtype(seq):
    out = None
    stack = [seq]
    while stack:
        x = stack.pop()
        if isinstance(x, list):
            stack.extend(x)
            continue
        d = _dt.from_numpy_dtype(x.dtype) if isinstance(x, (np.generic, np.ndarray)) else _dt.scalar_dtype(x)
        out = d if out is None else _dt.promote_types(out, d)
    return out


def _unwrap(seq):
    out = []
    for x in seq:
        if isinstance(x, Tensor):
            out.append(x.detach().cpu().numpy() if x.dim() else x.item())
        elif isinstance(x, (list, tuple)):
            out.append(_unwrap(x))
        else:
            out.append(x)
    return out


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new tensor holding a copy of ``data`` (nested lists, numbers, NumPy arrays or tensors)."""
    arr, inferred = _infer_array(data)
    dt = dtype or inferred
    if dtype is not None and not isinstance(dtype, _dt.dtype):
        raise TypeError(f"tensor(): argument 'dtype' must be minitorch.dtype, not {type(dtype).__name__}")
    t = _from_host(np.asarray(arr), dt, device)
    if requires_grad:
        t.requires_grad_(True)
    return t


def as_tensor(data, dtype=None, device=None):
    """Like ``tensor`` but shares memory with a matching Tensor or CPU NumPy array."""
    if isinstance(data, Tensor):
        out = data
        if dtype is not None or device is not None:
            out = data.to(device=device if device is not None else data.device, dtype=dtype or data.dtype)
        return out
    if isinstance(data, np.ndarray) and as_device(device).type == "cpu":
        t = from_numpy(data)
        return t if dtype is None or dtype is t.dtype else t.to(dtype)
    return tensor(data, dtype=dtype, device=device)


asarray = as_tensor


def from_numpy(ndarray):
    """A CPU tensor sharing memory with ``ndarray`` (writes through either are seen by the other)."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    dt = _dt.from_numpy_dtype(ndarray.dtype)
    item = ndarray.itemsize
    if any(s % item for s in ndarray.strides) or any(s < 0 for s in ndarray.strides):
        raise ValueError("At least one stride in the given numpy array is negative, or not a multiple of the element "
                         "size. This is currently not supported.")
    if not ndarray.flags.writeable:
        import warnings
        warnings.warn("The given NumPy array is not writable, and minitorch does not support non-writable tensors.",
                      UserWarning, stacklevel=2)
    if ndarray.dtype.byteorder not in ("=", "|") and ndarray.dtype.byteorder != np.dtype(dt.np).byteorder:
        raise TypeError("can't convert a byte-swapped (non-native byte order) array")
    shape = tuple(ndarray.shape)
    stride = tuple(s // item for s in ndarray.strides)
    # flat storage over the array's memory: the base pointer plus the span the strides reach
    if ndarray.size == 0:
        storage = np.empty(0, dtype=dt.storage_np)
        return _make(storage, shape, _contiguous_strides(shape), 0, dt, CPU)
    if ndarray.flags.c_contiguous:
        storage = ndarray.reshape(-1)  # a view, no copy
    else:
        span = 1 + sum((n - 1) * s for n, s in zip(shape, stride))
        storage = np.lib.stride_tricks.as_strided(ndarray, shape=(span,), strides=(item,), writeable=True)
    if dt._half:
        storage = storage.view(dt.storage_np)  # the same memory, as the bit patterns kernels take
    return _make(storage, shape, stride, 0, dt, CPU)


def _sizes(size_args, size):
    """The shape from ``f(2, 3)``, ``f((2, 3))`` or ``f(size=(2, 3))``."""
    if size is not None:
        if size_args:
            raise TypeError("got multiple values for argument 'size'")
        size_args = (size,)
    return _size_args(size_args)


def _into(result, out):
    """``out=``: the result written into ``out`` (resized when its shape differs), as PyTorch's out arguments."""
    if out is None:
        return result
    if not isinstance(out, Tensor):
        raise TypeError(f"argument 'out' must be Tensor, not {type(out).__name__}")
    if out._dtype is not result._dtype:
        raise RuntimeError(f"Expected out tensor to have dtype {result._dtype}, but got {out._dtype} instead")
    if out._device != result._device:
        raise RuntimeError(f"Expected out tensor to be on {result._device}, but it is on {out._device}")
    if tuple(out._shape) != tuple(result._shape):
        out.resize_(result._shape)
    from .autograd import no_grad
    with no_grad():
        out.copy_(result)
    return out


def _size_args(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list, Size)):
        size = tuple(size[0])
    out = []
    for n in size:
        if isinstance(n, Tensor):
            n = int(n.item())
        if not isinstance(n, (int, np.integer)):
            raise TypeError(f"empty(): argument 'size' must be tuple of ints, but found element of type "
                            f"{type(n).__name__}")
        if n < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {n}: {list(size)}")
        out.append(int(n))
    return tuple(out)


def _new(shape, dtype, device, requires_grad, fill=None):
    dt = dtype or _dt.get_default_dtype()
    dev = as_device(device)
    t = launch.empty(shape, dt, dev)
    if fill is not None:
        launch.fill_(t, fill)
    if requires_grad:
        t.requires_grad_(True)
    return t


def empty(*size_args, size=None, dtype=None, device=None, requires_grad=False, out=None, layout=None, pin_memory=False,
          memory_format=None):
    return _into(_new(_sizes(size_args, size), dtype, device, requires_grad), out)


def empty_strided(size, stride, *, dtype=None, device=None, requires_grad=False):
    t = empty(size, dtype=dtype, device=device)
    return t.as_strided(size, stride) if tuple(stride) != t.stride() else t


def zeros(*size_args, size=None, dtype=None, device=None, requires_grad=False, out=None, layout=None):
    shape = _sizes(size_args, size)
    if out is not None:
        return _into(zeros(shape, dtype=dtype or out.dtype, device=device or out.device), out)
    dt = dtype or _dt.get_default_dtype()
    dev = as_device(device)
    storage = dispatch.kernels(dev.type).memory.zeros(math.prod(shape), dt.storage_np)
    t = _make(storage, shape, _contiguous_strides(shape), 0, dt, dev)
    if requires_grad:
        t.requires_grad_(True)
    return t


def ones(*size_args, size=None, dtype=None, device=None, requires_grad=False, out=None, layout=None):
    if out is not None:
        return _into(ones(_sizes(size_args, size), dtype=dtype or out.dtype, device=device or out.device), out)
    return _new(_sizes(size_args, size), dtype, device, requires_grad, 1)


def full(size, fill_value, *, dtype=None, device=None, requires_grad=False, out=None, layout=None):
    if dtype is None:
        dtype = _dt.scalar_dtype(fill_value) if not isinstance(fill_value, Tensor) else fill_value.dtype
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    if out is not None:
        return _into(full(size, fill_value, dtype=dtype, device=device if device is not None else out.device), out)
    return _new(_size_args((size,) if isinstance(size, int) else (tuple(size),)), dtype, device, requires_grad,
                fill_value)


def _like(x, dtype, device):
    return x.shape, dtype or x.dtype, device if device is not None else x.device


def empty_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=None):
    s, d, dev = _like(input, dtype, device)
    return empty(s, dtype=d, device=dev, requires_grad=requires_grad)


def zeros_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=None):
    s, d, dev = _like(input, dtype, device)
    return zeros(s, dtype=d, device=dev, requires_grad=requires_grad)


def ones_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=None):
    s, d, dev = _like(input, dtype, device)
    return ones(s, dtype=d, device=dev, requires_grad=requires_grad)


def full_like(input, fill_value, *, dtype=None, device=None, requires_grad=False, memory_format=None):
    s, d, dev = _like(input, dtype, device)
    return full(s, fill_value, dtype=d, device=dev, requires_grad=requires_grad)


def scalar_tensor(s, *, dtype=None, device=None, requires_grad=False):
    return full((), s, dtype=dtype or _dt.get_default_dtype(), device=device, requires_grad=requires_grad)


def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad=False, out=None):
    """Values from ``start`` to ``end`` (exclusive) by ``step``; int64 unless an argument (or dtype) is float."""
    if end is None:
        start, end = 0, start
    vals = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    start, end, step = vals
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) * step < 0 and end != start:
        raise RuntimeError("upper bound and larger bound inconsistent with step sign")
    is_float = any(isinstance(v, (float, np.floating)) for v in vals)
    dt = dtype or (out.dtype if out is not None else _dt.get_default_dtype() if is_float else _dt.int64)
    n = max(0, math.ceil((end - start) / step))
    if dt.is_floating_point:
        arr = (start + np.arange(n, dtype=np.float64) * step).astype(dt.np)
    else:
        arr = (np.arange(n, dtype=np.int64) * int(step) + int(start)).astype(dt.np) if not is_float else \
            np.floor(start + np.arange(n) * step).astype(dt.np)
    t = _from_host(arr, dt, device if device is not None or out is None else out.device)
    if requires_grad:
        t.requires_grad_(True)
    return _into(t, out)


def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False, out=None):
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    dt = dtype or (out.dtype if out is not None else _dt.get_default_dtype())
    # computed from both ends like PyTorch, so the last value is exactly `end`
    idx = np.arange(steps, dtype=np.float64)
    step = (end - start) / (steps - 1) if steps > 1 else 0.0
    half = steps // 2
    arr = np.where(idx < half, start + step * idx, end - step * (steps - 1 - idx)) if steps > 1 else \
        np.full(steps, start, dtype=np.float64)
    t = _from_host(arr.astype(dt.np) if dt.is_floating_point else np.trunc(arr).astype(dt.np), dt,
                   device if device is not None or out is None else out.device)
    if requires_grad:
        t.requires_grad_(True)
    return _into(t, out)


def logspace(start, end, steps, base=10.0, *, dtype=None, device=None, requires_grad=False):
    lin = linspace(start, end, steps, dtype=_dt.float64)
    t = tensor(np.power(base, lin.numpy()), dtype=dtype or _dt.get_default_dtype(), device=device)
    return t.requires_grad_(True) if requires_grad else t


def eye(n, m=None, *, dtype=None, device=None, requires_grad=False, offset=0):
    if n < 0 or (m is not None and m < 0):
        raise RuntimeError(f"n must be greater or equal to 0, got {n}")
    dt = dtype or _dt.get_default_dtype()
    t = _from_host(np.eye(n, n if m is None else m, dtype=dt.np), dt, device)
    if requires_grad:
        t.requires_grad_(True)
    return t


def is_tensor(obj):
    return isinstance(obj, Tensor)


def numel(input):
    return input.numel()


# --------------------------------------------------------------------------------------------------------------
# random
# --------------------------------------------------------------------------------------------------------------
def _float_dtype(dtype, name):
    dt = dtype or _dt.get_default_dtype()
    if not dt.is_floating_point:
        raise RuntimeError(f"\"{name}\" not implemented for '{dt.name}'")
    return dt


def rand(*size_args, size=None, generator=None, dtype=None, device=None, requires_grad=False, out=None):
    """Uniform samples on [0, 1)."""
    dt = _float_dtype(dtype or (out.dtype if out is not None else None), "check_uniform_bounds")
    dev = as_device(device if device is not None or out is None else out.device)
    t = launch.random_fill("uniform", launch.empty(_sizes(size_args, size), dt, dev), gen(generator)._rng)
    if out is not None:
        return _into(t, out)
    return t.requires_grad_(True) if requires_grad else t


def randn(*size_args, size=None, generator=None, dtype=None, device=None, requires_grad=False, out=None):
    """Standard normal samples."""
    dt = _float_dtype(dtype or (out.dtype if out is not None else None), "normal_kernel_cpu")
    dev = as_device(device if device is not None or out is None else out.device)
    t = launch.random_fill("normal", launch.empty(_sizes(size_args, size), dt, dev), gen(generator)._rng)
    if out is not None:
        return _into(t, out)
    return t.requires_grad_(True) if requires_grad else t


def randint(low=0, high=None, size=None, *, generator=None, out=None, dtype=None, device=None,
            requires_grad=False):
    """Integers uniform on [low, high): ``randint(high, size)``, ``randint(low, high, size)``, and the keyword forms
    ``randint(10, size=(3,))``, ``randint(low=2, high=5, size=(3,))``."""
    if size is None:
        if high is None or not isinstance(high, (tuple, list, Size)):
            raise TypeError("randint() missing 1 required positional arguments: \"size\"")
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    if isinstance(size, (int, np.integer)):
        raise TypeError("randint(): argument 'size' must be tuple of ints, not int")
    if out is not None:
        dtype, device = dtype or out.dtype, device if device is not None else out.device
    t = launch.empty(_size_args((size,)), dtype or _dt.int64, as_device(device))
    return _into(launch.random_fill("integers", t, gen(generator)._rng, low, high), out)


def randperm(n, *, generator=None, dtype=None, device=None, requires_grad=False):
    if n < 0:
        raise RuntimeError(f"n must be non-negative, got{n}")
    return _from_host(gen(generator)._permutation(n), dtype or _dt.int64, device)


def rand_like(input, *, dtype=None, device=None, requires_grad=False):
    s, d, dev = _like(input, dtype, device)
    return rand(s, dtype=d, device=dev, requires_grad=requires_grad)


def randn_like(input, *, dtype=None, device=None, requires_grad=False):
    s, d, dev = _like(input, dtype, device)
    return randn(s, dtype=d, device=dev, requires_grad=requires_grad)


def randint_like(input, low=0, high=None, *, dtype=None, device=None):
    if high is None:
        low, high = 0, low
    s, d, dev = _like(input, dtype, device)
    return randint(low, high, s, dtype=d, device=dev)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None, device=None, requires_grad=False):
    """Normal samples with the given mean and std (numbers, or tensors broadcast together)."""
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        ref = mean if isinstance(mean, Tensor) else std
        shape = launch.broadcast_shapes(getattr(mean, "_shape", ()), getattr(std, "_shape", ()))
        z = randn(shape, generator=generator, dtype=ref.dtype, device=ref.device)
        return z * std + mean
    if size is None:
        raise TypeError("normal() missing required argument 'size'")
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    z = randn(size, generator=generator, dtype=dtype, device=device)
    out = z * std + mean if (std != 1 or mean != 0) else z
    return out.requires_grad_(True) if requires_grad else out


def bernoulli(input, p=None, *, generator=None):
    probs = input if p is None else full_like(input, p)
    u = rand(input.shape, generator=generator, dtype=probs.dtype if probs.dtype.is_floating_point else None,
             device=input.device)
    return (u < probs).to(input.dtype)


class _Poisson(Function):
    @staticmethod
    def forward(ctx, rates, generator):
        return launch.poisson(rates, gen(generator)._rng)

    @staticmethod
    def backward(ctx, g):
        return g * 0, None  # as PyTorch: the samples are treated as constant in the rates


def poisson(input, generator=None):
    """Samples from Poisson distributions with the rates in ``input`` (a floating tensor of non-negative rates)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"poisson(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f"\"poisson_cpu\" not implemented for '{input.dtype.legacy}'")  # torch's type
    if input.numel() and not (input >= 0).all().item():  # also catches NaN rates
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    return _Poisson.apply(input, generator)


def multinomial(input, num_samples, replacement=False, *, generator=None, out=None):
    """Category indices drawn from the (unnormalised) weights in each row of ``input`` (1-D or 2-D), on its device.

    With replacement, uniforms are placed in each row's cumulative weights (``searchsorted``); without, each
    category gets an exponential arrival time ``-log(u) / p`` and the first ``num_samples`` arrivals are taken
    (``topk``), which draws them in order, one at a time, as sequential sampling does. One read-back validates
    the weights."""
    from .ops.search import searchsorted
    from .ops.sorting import topk
    if not isinstance(input, Tensor):
        raise TypeError(f"multinomial(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: {input.dtype.legacy}")
    if input.dim() not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    C = input.shape[-1]
    if not replacement and num_samples > C:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    p = input.detach()
    p = p if p.dim() == 2 else p.unsqueeze(0)
    rows = p.shape[0]
    launch.check_distribution(p)
    if replacement:
        cdf = p.cumsum(-1)
        u = rand(rows, num_samples, generator=generator, dtype=p.dtype, device=p.device) * cdf[:, -1:]
        idx = searchsorted(cdf, u, right=True)
        # u can round up to the row's total: such draws take the last category of positive weight
        last = (C - 1) - (p > 0).flip(-1).to(_dt.uint8).argmax(-1, keepdim=True)
        idx = idx.minimum(last)
    else:
        u = rand(rows, C, generator=generator, dtype=p.dtype, device=p.device)
        arrival = u.log() / p  # minus the exponential arrival time; -inf for zero weights (drawn last)
        idx = topk(arrival, num_samples, dim=-1, largest=True, sorted=True).indices
    idx = idx if input.dim() == 2 else idx.squeeze(0)
    if out is not None:
        return _into(idx, out)
    return idx



