"""Tensor-only methods: conversions (to/cpu/cuda/float/...), new_*, in-place random fills."""
from ..autograd.function import Function
from ..device import as_device, device as _device_cls
from .. import dtypes as _dt
from ..dtypes import float32, float64
from ..random import gen
from ..tensor import LAYOUT_EPOCH, Tensor, _contiguous_strides
from . import launch
from . import elementwise
from .elementwise import check_inplace


class ToDevice(Function):
    """Copy to another device (and dtype); the gradient is copied back."""

    @staticmethod
    def forward(ctx, x, dev, dt):
        ctx.src_device, ctx.src_dtype = x._device, x._dtype
        host = launch.to_numpy(launch.contiguous(x, dt) if x._device.type == "cpu" else x)
        if dev.type == "cpu" and x._device.type != "cpu":
            host = host.copy()
        from ..creation import _from_host
        out = _from_host(host, dt, dev) if (dev.type != "cpu" or x._device.type != "cpu") else None
        if out is None:
            out = launch.contiguous(x, dt)
        return out

    @staticmethod
    def backward(ctx, g):
        return g.to(ctx.src_device, ctx.src_dtype), None, None


def _parse_to(args, kwargs):
    dev = kwargs.pop("device", None)
    dt = kwargs.pop("dtype", None)
    copy = kwargs.pop("copy", False)
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"to() got an unexpected keyword argument '{next(iter(kwargs))}'")
    for a in args:
        if isinstance(a, _dt.dtype):
            dt = a
        elif isinstance(a, (str, _device_cls, int)) and not isinstance(a, bool):
            dev = a
        elif isinstance(a, Tensor):
            dev, dt = a.device, a.dtype
        elif isinstance(a, bool):
            continue
        elif a is not None:
            raise TypeError(f"to() received an invalid combination of arguments - got ({type(a).__name__})")
    return dev, dt, copy


def to(self, *args, **kwargs):
    """``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(other)``: self when nothing changes."""
    dev, dt, copy = _parse_to(args, dict(kwargs))
    dev = as_device(dev) if dev is not None else self._device
    if dev.type != "cpu":
        from .. import dispatch
        if dev.type not in dispatch.available():
            raise RuntimeError(f"Torch not compiled with CUDA enabled") if dev.type == "cuda" else \
                RuntimeError(f"device type {dev.type} is not available")
    dt = dt or self._dtype
    if dev == self._device and dt is self._dtype and not copy:
        return self
    if dev == self._device:
        from .common import cast
        return cast(self, dt) if dt is not self._dtype else self.clone()
    return ToDevice.apply(self, dev, dt)


def cpu(self, memory_format=None):
    return to(self, "cpu")


def cuda(self, device=None, non_blocking=False, memory_format=None):
    return to(self, as_device("cuda" if device is None else device))


def pin_memory(self, device=None):
    """A copy of a CPU tensor for fast host-to-GPU copies. minitorch storages are plain host arrays, so this is a
    copy (as torch's is), not page-locked; ``.to("cuda")`` works the same from either."""
    if self._device.type != "cpu":
        raise RuntimeError(f"cannot pin '{self.type()}' only dense CPU tensors can be pinned")
    return self.clone()


def is_pinned(self, device=None):
    """False: minitorch never page-locks host memory."""
    return False


def _caster(dt):
    def method(self, memory_format=None):
        return to(self, dt)
    method.__name__ = method.__qualname__ = dt.name
    return method


CASTS = {"float": _caster(_dt.float32), "double": _caster(_dt.float64), "long": _caster(_dt.int64),
         "int": _caster(_dt.int32), "short": _caster(_dt.int16), "char": _caster(_dt.int8),
         "bool": _caster(_dt.bool), "byte": _caster(_dt.uint8), "bfloat16": _caster(_dt.bfloat16)}


def half(self, memory_format=None):
    return to(self, _dt.float16)


def type_as(self, other):
    return to(self, other.dtype)


def type_(self, dtype=None, non_blocking=False, **kwargs):
    """``x.type()`` names the legacy type (``'torch.FloatTensor'``); ``x.type(T)`` casts to a dtype, a legacy type
    (``minitorch.LongTensor``) or a type name (``'torch.cuda.FloatTensor'``, which also moves to that device)."""
    from .. import legacy
    if dtype is None:
        prefix = "torch.cuda." if self._device.type == "cuda" else "torch."
        return prefix + self._dtype.legacy + "Tensor"
    if isinstance(dtype, str):
        dtype = legacy.by_name(dtype)
    if isinstance(dtype, legacy.TensorType):
        dev = self._device if self._device.type == dtype._device_type else dtype._device_type
        return to(self, dev, dtype.dtype)
    return to(self, dtype)


def new_tensor(self, data, *, dtype=None, device=None, requires_grad=False):
    from ..creation import tensor
    return tensor(data, dtype=dtype or self._dtype, device=device or self._device, requires_grad=requires_grad)


def _new_factory(name):
    def method(self, *size, dtype=None, device=None, requires_grad=False, **kw):
        from .. import creation
        fn = getattr(creation, name)
        if name == "full":
            (size, fill) = size
            return fn(size, fill, dtype=dtype or self._dtype, device=device or self._device,
                      requires_grad=requires_grad)
        return fn(*size, dtype=dtype or self._dtype, device=device or self._device, requires_grad=requires_grad)
    method.__name__ = method.__qualname__ = "new_" + name
    return method


new_zeros = _new_factory("zeros")
new_ones = _new_factory("ones")
new_empty = _new_factory("empty")
new_full = _new_factory("full")


def _fill_random(self, kind, generator, label, scale=1.0, shift=0.0, exponential=False):
    """Fill self in place with scale * sample + shift, samples drawn on self's device ("uniform" or "normal");
    ``exponential`` first maps a uniform u to -log(1 - u) (an Exp(1) sample)."""
    check_inplace(self)
    dt = self._dtype if self._dtype in (float32, float64) else float32
    t = self if self._contig and dt is self._dtype else launch.empty(self._shape, dt, self._device)
    launch.random_fill(kind, t, gen(generator)._rng)
    if exponential and t.numel():
        launch.unary("neg", t, out=t)
        launch.unary("log1p", t, out=t)
        launch.unary("neg", t, out=t)
    if (scale, shift) != (1.0, 0.0) and t.numel():
        launch.binary("mul", t, launch.scalar(scale, dt, t._device), out=t)
        launch.binary("add", t, launch.scalar(shift, dt, t._device), out=t)
    if t is not self:
        launch.copy_into(self, t)
    self._vc[0] += 1
    return elementwise.overwritten(self, label)


def uniform_(self, a=0.0, b=1.0, *, generator=None):
    """Fill with samples from U[a, b)."""
    return _fill_random(self, "uniform", generator, "UniformBackward0", b - a, a)


def normal_(self, mean=0.0, std=1.0, *, generator=None):
    """Fill with samples from N(mean, std**2)."""
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    return _fill_random(self, "normal", generator, "NormalBackward0", std, mean)


def random_(self, from_=0, to=None, *, generator=None):
    """Integers uniform on [from, to); with no bounds, on [0, 2**mantissa] for floats and the dtype's range."""
    if to is None:
        if from_:
            from_, to = 0, from_
        else:
            to = {"float32": 2 ** 24 + 1, "float64": 2 ** 53 + 1, "float16": 2 ** 11 + 1, "bfloat16": 2 ** 8 + 1,
                  "int64": 2 ** 63 - 1, "int32": 2 ** 31 - 1,
                  "int16": 2 ** 15, "int8": 2 ** 7, "uint8": 256, "bool": 2}[self._dtype.name]
    if from_ >= to:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={from_} >= to={to}")
    check_inplace(self)
    t = self if self._contig else launch.empty(self._shape, self._dtype, self._device)
    launch.random_fill("integers", t, gen(generator)._rng, from_, to)
    if t is not self:
        launch.copy_into(self, t)
    self._vc[0] += 1
    return elementwise.overwritten(self, "RandomBackward0")


def bernoulli_(self, p=0.5, *, generator=None):
    """Fill with 1 where a U[0, 1) sample on self's device is below ``p`` (a number or a tensor), else 0."""
    check_inplace(self)
    dt = self._dtype if self._dtype in (float32, float64) else float32
    u = launch.random_fill("uniform", launch.empty(self._shape, dt, self._device), gen(generator)._rng)
    if isinstance(p, Tensor):
        from .common import check_device
        check_device(self, p)
        probs = p.detach() if p._dtype is dt else launch.contiguous(p.detach(), dt)
    else:
        probs = launch.scalar(p, dt, self._device)
    launch.copy_into(self, launch.binary("lt", u, probs, family="compare"))
    self._vc[0] += 1
    return elementwise.overwritten(self, "BernoulliBackward1" if isinstance(p, Tensor) else "BernoulliBackward2")


def exponential_(self, lambd=1.0, *, generator=None):
    """Fill with samples from Exp(lambd): -log(1 - u) / lambd for u uniform on [0, 1), drawn on self's device."""
    if not lambd > 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd:g}")
    return _fill_random(self, "uniform", generator, "ExponentialBackward0", 1.0 / lambd, 0.0, exponential=True)


def _set_samples(self, draw):
    """Write ``draw(u)`` (a function of a float tensor u of U[0, 1) samples on self's device) into self."""
    from ..autograd import no_grad
    check_inplace(self)
    dt = self._dtype if self._dtype in (float32, float64) else float64
    with no_grad():
        u = launch.random_fill("uniform", launch.empty(self._shape, dt, self._device), gen(draw.generator)._rng)
        launch.copy_into(self, draw(u))
    self._vc[0] += 1
    return elementwise.overwritten(self, draw.label)


def geometric_(self, p, *, generator=None):
    """Fill with Geometric(p) samples on {1, 2, ...} (trials up to the first success): ceil(log(1-u) / log(1-p))."""
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p:g}")
    import math

    def draw(u):
        return ((-u).log1p() / math.log1p(-p)).ceil().clamp_min(1)
    draw.generator, draw.label = generator, "GeometricBackward0"
    return _set_samples(self, draw)


def cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
    """Fill with Cauchy(median, sigma) samples: median + sigma * tan(pi * (u - 1/2))."""
    if not sigma > 0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={sigma:g}")
    _floating_only(self, "cauchy")

    def draw(u):
        return ((u - 0.5) * 3.141592653589793).tan() * sigma + median
    draw.generator, draw.label = generator, "CauchyBackward0"
    return _set_samples(self, draw)


def log_normal_(self, mean=1.0, std=2.0, *, generator=None):
    """Fill with samples whose log is Normal(mean, std)."""
    if not std > 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std:g}")
    _floating_only(self, "log_normal")

    def draw(u):  # the normal draw comes from its own kernel; u only fixes the shape and dtype
        z = launch.random_fill("normal", launch.empty(u._shape, u._dtype, u._device), gen(generator)._rng)
        return (z * std + mean).exp()
    draw.generator, draw.label = generator, "LogNormalBackward0"
    return _set_samples(self, draw)


def _floating_only(self, name):
    if not self._dtype.is_floating_point:
        raise NotImplementedError(f"\"{name}_cpu\" not implemented for '{self._dtype.legacy}'")  # torch's type


def resize_(self, *size):
    """Resize in place; storage is reallocated (contents kept in row-major order) when it must grow."""
    if self._requires_grad:
        raise RuntimeError("cannot resize variables that require grad")
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    size = tuple(size)
    import math
    n = math.prod(size)
    if not self._contig or self._offset + n > self._storage.shape[0]:
        new = launch.empty(size, self._dtype, self._device)
        old = self.reshape(-1)
        k = min(n, old.numel())
        if k:
            launch.copy_into(new.reshape(-1)[:k], old[:k])
        self._storage, self._offset = new._storage, 0
    self._shape, self._stride = size, _contiguous_strides(size)
    self._contig = True
    LAYOUT_EPOCH[0] += 1
    return self


def apply_(self, callable):
    raise TypeError("apply_ is only implemented on CPU tensors with Python callables in PyTorch; minitorch keeps "
                    "data in Numba kernels, use vectorised ops instead")


def dim_order(self):
    return tuple(sorted(range(self.dim()), key=lambda d: -self._stride[d]))


def storage(self):
    return self._storage
