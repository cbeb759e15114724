"""Kernel launchers: Tensors in, Tensors out, no autograd.

This is the layer between the differentiable ops and the device kernels. It picks the kernel package for the
tensors' device, brings operands to the form the kernels take (flat storage, offset, element strides, with
broadcast dims given stride 0 and mergeable dims collapsed), validates everything a kernel would otherwise read
out of bounds, allocates the output and launches. Preconditions (checked by the ops layer): operands share a
device and, unless stated, a dtype.
"""
import functools
import math

import numpy as np
from numba import from_dtype as numba_from_dtype, types as numba_types
from numba.core.registry import CPUDispatcher

from .. import dispatch
from ..autograd.function import _PROFILE
from ..dtypes import HALF_SEEN, bool as t_bool, dtype as _dtype_cls, float32, float64, int64
from ..tensor import Tensor, _contiguous_strides, _is_contig, _make
from ..kernels import opcodes

N_PAR = 1 << 15  # below this many elements a serial kernel beats a prange launch
CUM_PAR = 1 << 17  # cumsum/cumprod cost about 1 ns per element: threads pay off from about 128K elements
BLAS_PAR = 1 << 24  # multiply-adds from which a GEMM is worth all cores (MLP epoch: 2^20 or 2^22 ran 20% slower)
BMM_BATCH_PAR = 1 << 20  # multiply-adds from which a batch of small GEMMs is split over the threads
_FLAT = {(f, par): f + ("_flat_par" if par else "_flat") for f in ("unary", "predicate", "binary", "compare",
                                                                   "bitwise")
         for par in (False, True)}


_PKG = {}


def _k(t):
    pkg = _PKG.get(t._device.type)
    if pkg is None:
        pkg = _PKG[t._device.type] = dispatch.kernels(t._device.type)
    return pkg


_STRIDES = {}


def _strides_for(shape):
    st = _STRIDES.get(shape)
    if st is None:
        if len(_STRIDES) > 2048:
            _STRIDES.clear()
        st = _STRIDES[shape] = _contiguous_strides(shape)
    return st


def _threads():
    """Numba's thread count (``kernels/cpu/_threads.num_threads``: ~90 ns instead of numba's ~560)."""
    return _THREADS[0]()


def _first_threads():
    from ..kernels.cpu._threads import num_threads
    _THREADS[0] = num_threads
    return num_threads()


_THREADS = [_first_threads]


def _entry(fn, dtype, kinds):
    """``fn``'s compiled entry point for arguments of the kinds in ``kinds`` ("a": a 1-D C-contiguous array of the
    numpy ``dtype``, "i": an int64, "b": a bool) when ``fn`` is a Numba CPU kernel, else ``fn``. Calling it skips the
    dispatcher's matching of the argument types against its compiled versions (measured 450 -> 275 ns for a
    9-argument elementwise launch), so the caller must pass exactly those kinds: tensor storages on the CPU are
    1-D C-contiguous arrays of their dtype's ``storage_np`` (``tensor._make``); read-only or unaligned ones are only
    ever read."""
    if not isinstance(fn, CPUDispatcher):
        return fn
    arr = numba_types.Array(numba_from_dtype(np.dtype(dtype)), 1, "C")
    kind = {"a": arr, "i": numba_types.int64, "b": numba_types.boolean}
    return fn.compile(tuple(kind[k] for k in kinds))


def _arr(values):
    return np.array(values, dtype=np.int64)


def empty(shape, dtype, device):
    shape = tuple(shape)
    n = shape[0] if len(shape) == 1 else math.prod(shape)
    pkg = _PKG.get(device.type)
    if pkg is None:
        pkg = _PKG[device.type] = dispatch.kernels(device.type)
    if n < _LARGE_ELEMENTS:
        storage = pkg.memory.empty(n, dtype.storage_np)
    else:  # page-aligned: a fixed layout between large inputs and outputs (kernels/cpu/memory.py says why)
        storage = pkg.memory.empty_large(n, dtype.storage_np)
    return _make(storage, shape, _strides_for(shape), 0, dtype, device, None, True)


_LARGE_ELEMENTS = 1 << 16  # 256 KiB of float32


def broadcast_shapes(*shapes):
    nd = max(len(s) for s in shapes)
    out = [1] * nd
    for k in range(1, nd + 1):  # from the last dim, as PyTorch reports mismatches
        for s in shapes:
            if k <= len(s):
                n = s[-k]
                if n != 1:
                    if out[-k] != 1 and out[-k] != n:
                        raise RuntimeError(
                            f"The size of tensor a ({out[-k]}) must match the size of tensor b ({n}) at "
                            f"non-singleton dimension {nd - k}")
                    out[-k] = n
    return tuple(out)


def expand_strides(t, shape):
    """t's strides for a broadcast to ``shape`` (0 along broadcast dims)."""
    lead = len(shape) - len(t._shape)
    st = [0] * lead
    for n, s in zip(t._shape, t._stride):
        st.append(s if n != 1 else 0)
    return st


def collapse(shape, strides_list):
    """Drop size-1 dims and merge neighbours that every operand walks as one run."""
    keep = [i for i, n in enumerate(shape) if n != 1]
    if not keep:
        return [1], [[0] for _ in strides_list]
    i0 = keep[0]
    cshape = [shape[i0]]
    cstr = [[st[i0]] for st in strides_list]
    for i in keep[1:]:
        if all(cs[-1] == st[i] * shape[i] for cs, st in zip(cstr, strides_list)):
            cshape[-1] *= shape[i]
            for cs, st in zip(cstr, strides_list):
                cs[-1] = st[i]
        else:
            cshape.append(shape[i])
            for cs, st in zip(cstr, strides_list):
                cs.append(st[i])
    return cshape, cstr


def _out_view(out, n):
    """A flat run of ``n`` elements of out's (contiguous) storage, starting at its offset."""
    if out._offset == 0 and out._storage.shape[0] == n:
        return out._storage
    return out._storage[out._offset:out._offset + n]


# ---------------------------------------------------------------------------------------------------------------
# 16-bit floats: storages of bit patterns, computed in float32
# ---------------------------------------------------------------------------------------------------------------
# float16/bfloat16 storages hold uint16 bit patterns (Numba has no 16-bit float). Launchers that move data (copy,
# where, take, gather, put/scatter without accumulation, views) work on the bits; launchers that compute are wrapped
# in ``half_compute``: their half operands become float32 temporaries, the float32 kernels run, and results are
# rounded back once (to nearest even), so an elementwise op on halves gives what PyTorch's CPU kernels give and
# reductions and GEMMs accumulate in float32.
_KIND = {"float16": 0, "bfloat16": 1}


def _bits32(t):
    """The uint32 view of a float32 storage, as the conversion kernels take it."""
    return t._storage.view(np.uint32)


def _convert(src, dst, to_float):
    """dst[...] = src (same shape): half bits -> float32 (``to_float``) or float32 -> half bits, any strides."""
    n = dst.numel()
    if n == 0:
        return dst
    hv = _k(dst).half
    kind = _KIND[(src if to_float else dst)._dtype.name]
    s_arr = src._storage if to_float else _bits32(src)
    d_arr = _bits32(dst) if to_float else dst._storage
    cshape, (ss, ds) = collapse(dst._shape, [expand_strides(src, dst._shape), list(dst._stride)])
    name = "to_float32" if to_float else "from_float32"
    if len(cshape) == 1:
        getattr(hv, name + ("_flat_par" if n >= N_PAR else "_flat"))(kind, s_arr, src._offset, ss[0], d_arr,
                                                                      dst._offset, ds[0], n)
    else:
        getattr(hv, name + ("_nd_par" if n >= N_PAR else "_nd"))(kind, s_arr, src._offset, _arr(ss), d_arr,
                                                                  dst._offset, _arr(ds), _arr(cshape))
    return dst


def to_float32(t, layout=False):
    """A float32 copy of a half tensor: contiguous, or (``layout``) a view with t's own shape, strides and offset
    into a float32 copy of its whole storage (for launchers given storage offsets computed from t)."""
    if not layout:
        return _convert(t, empty(t._shape, float32, t._device), True)
    n = t._storage.shape[0]
    flat = _make(t._storage, (n,), (1,), 0, t._dtype, t._device)
    full = _convert(flat, empty((n,), float32, t._device), True)
    return _make(full._storage, t._shape, t._stride, t._offset, float32, t._device)


def round_to(t, dt):
    """A float32 tensor rounded to the 16-bit float ``dt``, with t's shape, strides and offset (the whole storage
    is converted when t is a view into a larger one)."""
    n = t._storage.shape[0]
    if t._contig and t._offset == 0 and n == t.numel():
        return _convert(t, empty(t._shape, dt, t._device), False)
    flat = _make(t._storage, (n,), (1,), 0, float32, t._device)
    full = _convert(flat, empty((n,), dt, t._device), False)
    return _make(full._storage, t._shape, t._stride, t._offset, dt, t._device)


def half_compute(inplace=(), layout=False, only_if=None):
    """Decorator for launchers (and Function forward/backward methods that launch kernels themselves) that compute.

    Until a half tensor exists it costs one flag read, then a scan of the arguments. With a half operand,
    float16/bfloat16 tensor arguments run as float32 (a half dtype argument as float32), float32 results are
    rounded to the half dtype (unless a non-half dtype was asked for explicitly), and the arguments named in
    ``inplace`` get the float32 result written back into their bits. ``layout``: operands keep their strides and
    offset (storage offsets were computed from them). ``only_if``: the name of a flag argument without which the
    launcher runs on the bits unchanged."""
    def deco(fn):
        code = fn.__code__
        names = code.co_varnames[:code.co_argcount]
        gate = names.index(only_if) if only_if else None

        @functools.wraps(fn)
        def wrapper(*args, **kw):
            if not HALF_SEEN[0]:
                return fn(*args, **kw)
            for a in args:
                if (isinstance(a, Tensor) or isinstance(a, _dtype_cls)) and getattr(a, "_dtype", a)._half:
                    break
            else:
                for a in kw.values():
                    if (isinstance(a, Tensor) or isinstance(a, _dtype_cls)) and getattr(a, "_dtype", a)._half:
                        break
                else:
                    return fn(*args, **kw)
            if gate is not None and not (args[gate] if gate < len(args) else kw.get(only_if)):
                return fn(*args, **kw)
            return _in_float32(fn, names, inplace, layout, args, kw)
        wrapper.half_compute = True
        return wrapper
    return deco


def _in_float32(fn, names, inplace, layout, args, kw):
    state = {"half": None, "explicit": False}
    temps = {}  # id(original) -> float32 stand-in, so that an operand passed twice (x op= x) stays one tensor
    written = []

    def conv(a, name):
        if isinstance(a, Tensor) and a._dtype._half:
            state["half"] = state["half"] or a._dtype
            f = temps.get(id(a))
            if f is None:
                f = temps[id(a)] = to_float32(a, layout)
            if name in inplace:
                written.append((a, f))
            return f
        if isinstance(a, _dtype_cls):
            if a._half:
                state["half"] = state["half"] or a
                return float32
            state["explicit"] = True
        return a

    args = tuple(conv(a, names[i] if i < len(names) else None) for i, a in enumerate(args))
    kw = {k: conv(v, k) for k, v in kw.items()}
    result = fn(*args, **kw)
    back = {}
    for orig, f in written:
        if layout:
            _convert(_make(f._storage, orig._shape, orig._stride, orig._offset, float32, f._device), orig, False)
        else:
            _convert(f, orig, False)
        back[id(f)] = orig
    h = None if state["explicit"] else state["half"]

    def out(r):
        if isinstance(r, Tensor):
            if id(r) in back:
                return back[id(r)]
            if h is not None and r._dtype is float32:
                return round_to(r, h)
        return r
    if isinstance(result, tuple):
        return tuple(out(r) for r in result)
    return out(result)


@half_compute(inplace=("g",))
def amp_unscale_(g, inv_scale, found_inf):
    """g *= inv_scale in place, and found_inf = 1 if g holds an inf or NaN: one launch (GradScaler.unscale_).
    ``inv_scale`` and ``found_inf`` are 0-d float32 tensors on g's device; nothing is read back."""
    n = g.numel()
    if n == 0:
        return g
    if not g._contig:
        t = contiguous(g)
        amp_unscale_(t, inv_scale, found_inf)
        return copy_into(g, t)
    k = _k(g).optim
    (k.amp_unscale_par if n >= N_PAR else k.amp_unscale)(g._storage, g._offset, n, inv_scale._storage,
                                                         inv_scale._offset, found_inf._storage, found_inf._offset)
    return g


# ---------------------------------------------------------------------------------------------------------------
# elementwise
# ---------------------------------------------------------------------------------------------------------------
@half_compute(inplace=("out",))
def unary(name, x, out_dtype=None, family="unary", out=None):
    """Apply a unary op (``family`` "unary": same dtype out; "predicate": bool out)."""
    ew = _k(x).elementwise
    table = opcodes.UNARY if family == "unary" else opcodes.PREDICATE
    code = table[name]
    if out is None:
        out = empty(x._shape, out_dtype or (x._dtype if family == "unary" else t_bool), x._device)
    n = out.numel()
    if n == 0:
        return out
    ov = _out_view(out, n)
    if x._is_contiguous():
        if n < N_PAR and family == "unary" and out._dtype is x._dtype:
            fn = _UNARY.get((x._device.type, x._dtype))
            if fn is None:  # the serial kernel's entry point on the CPU (see _entry)
                fn = _UNARY[x._device.type, x._dtype] = _entry(ew.unary_flat, x._dtype.storage_np, "iaiiai")
        else:
            fn = getattr(ew, family + ("_flat_par" if n >= N_PAR else "_flat"))
        fn(code, x._storage, x._offset, 1, ov, n)
        return out
    shape, (st,) = collapse(x._shape, [list(x._stride)])
    if len(shape) == 1:
        fn = getattr(ew, family + ("_flat_par" if n >= N_PAR else "_flat"))
        fn(code, x._storage, x._offset, st[0], ov, n)
    else:
        fn = getattr(ew, family + ("_nd_par" if n >= N_PAR else "_nd"))
        fn(code, x._storage, x._offset, _arr(st), ov, _arr(shape))
    return out


_CODES = {"binary": opcodes.BINARY, "compare": opcodes.COMPARE, "bitwise": opcodes.BITWISE}


@half_compute()
def binary_same(name, a, b):
    """``binary(name, a, b)`` for two contiguous tensors of one shape, dtype and device: the common case of eager
    arithmetic, on the shortest Python path (tiny tensors spend most of their time here)."""
    shape = a._shape
    n = shape[0] if len(shape) == 1 else math.prod(shape)
    dt, dev = a._dtype, a._device
    pkg = _PKG.get(dev.type)
    if pkg is None:
        pkg = _PKG[dev.type] = dispatch.kernels(dev.type)
    out = _make(pkg.memory.empty(n, dt.storage_np), shape, _strides_for(shape), 0, dt, dev, None, True)
    if n >= N_PAR:
        ew, code = pkg.elementwise, opcodes.BINARY[name]
        # outputs too large for the cache go out by non-temporal stores (kernels/cpu/elementwise.py, STREAM_BYTES)
        kernel = ew.binary_flat_stream_par if n * out._storage.itemsize >= ew.STREAM_BYTES and code in ew.STREAMED \
            else ew.binary_flat_par
        kernel(code, a._storage, a._offset, 1, b._storage, b._offset, 1, out._storage, n)
    elif n:
        fn = _SAME.get((dev.type, dt))
        if fn is None:
            fn = _SAME[dev.type, dt] = _entry(pkg.elementwise.binary_flat, dt.storage_np, "iaiiaiiai")
        fn(opcodes.BINARY[name], a._storage, a._offset, 1, b._storage, b._offset, 1, out._storage, n)
    return out


@half_compute()
def unary_same(name, x):
    """``unary(name, x)`` for a contiguous tensor whose result keeps its dtype (float math, neg/abs/relu/square of
    any number): the shortest Python path, as ``binary_same`` is for arithmetic."""
    shape = x._shape
    n = shape[0] if len(shape) == 1 else math.prod(shape)
    dt, dev = x._dtype, x._device
    pkg = _PKG.get(dev.type)
    if pkg is None:
        pkg = _PKG[dev.type] = dispatch.kernels(dev.type)
    out = _make(pkg.memory.empty(n, dt.storage_np), shape, _strides_for(shape), 0, dt, dev, None, True)
    if n >= N_PAR:
        pkg.elementwise.unary_flat_par(opcodes.UNARY[name], x._storage, x._offset, 1, out._storage, n)
    elif n:
        fn = _UNARY.get((dev.type, dt))
        if fn is None:
            fn = _UNARY[dev.type, dt] = _entry(pkg.elementwise.unary_flat, dt.storage_np, "iaiiai")
        fn(opcodes.UNARY[name], x._storage, x._offset, 1, out._storage, n)
    return out


_SAME = {}  # (device type, dtype) -> binary_same's serial kernel (its entry point on the CPU, see _entry)
_MM = {}  # (device type, dtype) -> mm's single-threaded GEMM (the same)
_UNARY = {}  # (device type, dtype) -> unary's serial kernel for same-dtype results (the same)


@half_compute(inplace=("out",))
def binary(name, a, b, family="binary", out=None):
    """Apply a broadcasting binary op to same-dtype tensors ("binary" and, for integers, "bitwise": dtype out;
    "compare": bool out)."""
    ew = _k(a).elementwise
    code = _CODES[family][name]
    same = a._shape == b._shape
    shape = a._shape if same else broadcast_shapes(a._shape, b._shape)
    if out is None:
        out = empty(shape, t_bool if family == "compare" else a._dtype, a._device)
    n = shape[0] if len(shape) == 1 else out.numel()
    if n == 0:
        return out
    if out is a and family == "binary" and a._contig and (b._contig and same or not b._shape or b.numel() == 1):
        # in place (x.add_(y), x *= 0.5): the kernel that reads and writes one array (kernels/cpu/elementwise.py)
        ew2 = ew.binary_inplace_flat_par if n >= N_PAR else ew.binary_inplace_flat
        ew2(code, a._storage, a._offset, b._storage, b._offset, 1 if same and n > 1 else 0, n)
        return out
    ov = _out_view(out, n)
    if same and a._contig and b._contig:
        fn = _FLAT[family, n >= N_PAR]
        getattr(ew, fn)(code, a._storage, a._offset, 1, b._storage, b._offset, 1, ov, n)
        return out
    if not same and family == "binary" and a._contig and b._contig:
        # one operand whole, the other one of its rows (x + bias): a row kernel, no strides to work out
        full, row = (a, b) if a._shape == shape else (b, a) if b._shape == shape else (None, None)
        if full is not None:
            rs = row._shape
            while rs and rs[0] == 1:
                rs = rs[1:]
            if rs and shape[len(shape) - len(rs):] == rs:
                cols = row.numel()
                if cols > 1:
                    (ew.binary_rows_par if n >= N_PAR else ew.binary_rows)(
                        code, full._storage, full._offset, row._storage, row._offset, full is b, ov, n // cols, cols)
                    return out
    if len(shape) == 1 and len(a._shape) <= 1 and len(b._shape) <= 1:
        # one run each (stride 0 for a broadcast scalar or a size-1 dim): no collapse to compute
        sa = a._stride[0] if a._shape and a._shape[0] != 1 else 0
        sb = b._stride[0] if b._shape and b._shape[0] != 1 else 0
        getattr(ew, _FLAT[family, n >= N_PAR])(code, a._storage, a._offset, sa, b._storage, b._offset, sb, ov, n)
        return out
    cshape, (sa, sb) = collapse(shape, [expand_strides(a, shape), expand_strides(b, shape)])
    if len(cshape) == 1:
        fn = getattr(ew, family + ("_flat_par" if n >= N_PAR else "_flat"))
        fn(code, a._storage, a._offset, sa[0], b._storage, b._offset, sb[0], ov, n)
    else:
        fn = getattr(ew, family + ("_nd_par" if n >= N_PAR else "_nd"))
        fn(code, a._storage, a._offset, _arr(sa), b._storage, b._offset, _arr(sb), ov, _arr(cshape))
    return out


@half_compute()
def clamp_scalars(x, lo, hi):
    """minimum(maximum(x, lo), hi) for a contiguous x and one-element lo and hi of its dtype, in one pass."""
    out = empty(x._shape, x._dtype, x._device)
    n = out.numel()
    if n:
        ew = _k(x).elementwise
        (ew.clamp_flat_par if n >= N_PAR else ew.clamp_flat)(x._storage, x._offset, lo._storage, lo._offset,
                                                              hi._storage, hi._offset, out._storage, 0, n)
    return out


def where(cond, a, b):
    """Elementwise select; ``cond`` is bool, ``a``/``b`` share a dtype; all three broadcast."""
    ew = _k(a).elementwise
    shape = broadcast_shapes(cond._shape, a._shape, b._shape)
    out = empty(shape, a._dtype, a._device)
    n = out.numel()
    if n == 0:
        return out
    cshape, (sc, sa, sb) = collapse(shape, [expand_strides(t, shape) for t in (cond, a, b)])
    fn = ew.where_nd_par if n >= N_PAR else ew.where_nd
    fn(cond._storage, cond._offset, _arr(sc), a._storage, a._offset, _arr(sa), b._storage, b._offset, _arr(sb),
       out._storage, _arr(cshape))
    return out


def copy_into(dst, src):
    """dst[...] = src broadcast to dst's shape, cast to dst's dtype; dst may be any strided view."""
    n = dst.numel()
    if n == 0:
        return dst
    if dst._dtype is not src._dtype and (dst._dtype._half or src._dtype._half):
        if dst._dtype is float32:  # half -> float32: straight into dst
            return _convert(src, dst, True)
        if not dst._dtype._half:  # half -> other: through float32
            return copy_into(dst, _convert(src, empty(dst._shape, float32, dst._device), True))
        if src._dtype is not float32:  # other -> half: to float32 first (PyTorch's double -> half also goes so)
            src = contiguous(src, float32)
        return _convert(src, dst, False)
    if dst._dtype is t_bool and src._dtype is not t_bool:
        src = unary("nonzero", src, family="predicate")
    ew = _k(dst).elementwise
    shape = dst._shape
    cshape, (ss, ds) = collapse(shape, [expand_strides(src, shape), list(dst._stride)])
    if len(cshape) == 1:
        fn = ew.copy_flat_par if n >= N_PAR else ew.copy_flat
        fn(src._storage, src._offset, ss[0], dst._storage, dst._offset, ds[0], n)
    else:
        if ds[-1] == 1 and ss[-2] == 1 and ss[-1] != 1 and cshape[-1] >= 16 and cshape[-2] >= 16:
            # a transpose (src contiguous down dst's columns): copied in tiles
            fn = ew.copy_transposed_par if n >= N_PAR else ew.copy_transposed
        else:
            fn = ew.copy_nd_par if n >= N_PAR else ew.copy_nd
        fn(src._storage, src._offset, _arr(ss), dst._storage, dst._offset, _arr(ds), _arr(cshape))
    return dst


def flip(x, dims):
    """A contiguous copy of x reversed along ``dims``: the copy of a view of x whose strides along them are negated
    (the copy kernels take any strides; such a view never leaves this function)."""
    offset, strides = x._offset, list(x._stride)
    for d in dims:
        if x._shape[d] > 1:
            offset += (x._shape[d] - 1) * strides[d]
            strides[d] = -strides[d]
    return contiguous(_make(x._storage, x._shape, tuple(strides), offset, x._dtype, x._device))


def contiguous(x, dtype=None):
    """A contiguous copy of x (cast to ``dtype`` when given)."""
    out = empty(x._shape, dtype or x._dtype, x._device)
    return copy_into(out, x)


@half_compute(inplace=("t",))
def random_fill(kind, t, rng, *bounds):
    """Fill a contiguous tensor from its device's random kernels: U[0, 1) ("uniform") or N(0, 1) ("normal") samples
    for float32/float64, or integers on [low, high) ("integers", with ``bounds`` = (low, high)) for any dtype;
    ``rng`` is the numpy Generator behind minitorch's Generator."""
    n = t.numel()
    if n:
        getattr(_k(t).random, kind)(rng, t._storage[t._offset:t._offset + n], n, *(int(b) for b in bounds))
    return t


@half_compute()
def relu_backward(g, y):
    """0 where the relu output y <= 0, else g: one kernel pass (PyTorch's threshold_backward)."""
    g = g if g._contig and g._shape == y._shape else contiguous(g.expand(y._shape))
    y = y if y._contig else contiguous(y)
    out = empty(y._shape, y._dtype, y._device)
    n = out.numel()
    if n:
        act = _k(y).activation
        (act.relu_backward_par if n >= N_PAR else act.relu_backward)(
            g._storage[g._offset:g._offset + n], y._storage[y._offset:y._offset + n], out._storage, n)
    return out


@half_compute()
def poisson(rates, rng):
    """Poisson samples with the given (validated, non-negative) rates, in their dtype."""
    rates = contiguous(rates)
    out = empty(rates._shape, rates._dtype, rates._device)
    n = out.numel()
    if n:
        _k(rates).random.poisson(rng, rates._storage[rates._offset:rates._offset + n], out._storage, n)
    return out


def scalar(value, dtype, device):
    """A 0-d tensor holding a Python number."""
    host = np.array([value], dtype=dtype.np) if not dtype._half else \
        np.array([value], dtype=np.float32).astype(dtype.np).view(dtype.storage_np)
    storage = dispatch.kernels(device.type).memory.from_host(host)
    return _make(storage, (), (), 0, dtype, device)


# ---------------------------------------------------------------------------------------------------------------
# reductions
# ---------------------------------------------------------------------------------------------------------------
def _reduce_form(x, dims):
    """Express a reduction over ``dims`` as (array, offset, so, sr, si, O, R, I), copying only when the kept or the
    reduced dims cannot be walked with one (resp. two) strides."""
    nd = len(x._shape)
    kept = [d for d in range(nd) if d not in dims]
    ks, (kst,) = collapse([x._shape[d] for d in kept], [[x._stride[d] for d in kept]])
    rs, (rst,) = collapse([x._shape[d] for d in dims], [[x._stride[d] for d in dims]])
    if len(rs) == 1 and len(ks) <= 2:
        R, sr = rs[0], rst[0]
        if len(ks) == 2:
            O, I, so, si = ks[0], ks[1], kst[0], kst[1]
        elif abs(kst[0]) < abs(sr):
            O, I, so, si = 1, ks[0], 0, kst[0]  # kept elements are the close ones: fold rows (sum over dim 0)
        else:
            O, I, so, si = ks[0], 1, kst[0], 0
        if I == 1:
            si = 0
        return x, O, R, I, so, sr, si
    y = contiguous(x.permute(*(kept + list(dims))))
    R = math.prod(x._shape[d] for d in dims)
    O = math.prod(x._shape[d] for d in kept)
    return y, O, R, 1, R, 1, 0


def _column_block(O, I):
    """Columns per task when O rows of I kept elements are folded in parallel: one long block per thread streams
    whole rows (small blocks thrash: 256 -> 4.5 ms, 2048 -> 2.1 ms for a 4096^2 sum over dim 0 on 2 threads);
    a multiple of 16, at least 256."""
    per_task = -(-I // max(1, _threads() // O))
    return max(256, -(-per_task // 16) * 16)


_RED = {}  # (kernel name, device type, dtype) -> a serial reduction kernel's entry point (see _entry)
_ROW_SPLIT = ("sum", "amax", "amin")  # reductions over dim 0 that may fold row ranges on separate threads


def _serial_reduce(red, name, y, out):
    """``red.<name>`` (reduce_inner or reduce_outer) for input y and output out: its compiled entry point when both
    have one dtype (the dispatcher's matching of ten arguments cost ~1 us of a 64x1024 sum over rows), else the
    dispatcher itself."""
    if out._dtype is not y._dtype:
        return getattr(red, name)
    key = (name, y._device.type, y._dtype)
    fn = _RED.get(key)
    if fn is None:
        fn = _RED[key] = _entry(getattr(red, name), y._dtype.storage_np, "iaiiiiiiia")
    return fn


@half_compute()
def reduce(name, x, dims, keepdim, out_dtype=None):
    """sum/prod/amax/amin/all/any over ``dims`` (a tuple of normalised dims; empty means all dims)."""
    nd = len(x._shape)
    if not dims or len(dims) == nd:  # every dim (the usual loss.sum() / mean())
        dims = tuple(range(nd))
        out_shape = (1,) * nd if keepdim else ()
    else:
        dims = tuple(sorted(dims))
        out_shape = tuple((1 if d in dims else n) for d, n in enumerate(x._shape)) if keepdim else \
            tuple(n for d, n in enumerate(x._shape) if d not in dims)
    out = empty(out_shape, out_dtype or x._dtype, x._device)
    if out.numel() == 0:
        return out
    if not nd:
        y, O, R, I, so, sr, si = x, 1, 1, 1, 0, 0, 0
    elif x._contig and (len(dims) == nd or dims == (nd - 1,)):
        # the common cases of a dense tensor (everything, or the last dim) need no stride analysis
        R = x._shape[-1] if len(dims) < nd else x.numel()
        y, O, I, so, sr, si = x, out.numel(), 1, R, 1, 0
    else:
        y, O, R, I, so, sr, si = _reduce_form(x, dims)
    if R == 0:
        fill_(out, {"sum": 0, "prod": 1, "all": True, "any": False}[name])
        return out
    red = _k(x).reduce
    code = opcodes.REDUCE[name]
    if O == 1 and I == 1 and R >= 4 * N_PAR and sr != 0:
        # one output over many elements: partial results per chunk in parallel, then fold the partials
        P = 64
        rc = R // P
        part = empty((P + 1,), out._dtype, x._device)
        red.reduce_inner_par(code, y._storage, y._offset, rc * sr, sr, 0, P, rc, 1, part._storage, 4 * _threads())
        red.reduce_inner(code, y._storage, y._offset + P * rc * sr, 0, sr, 0, 1, R - P * rc, 1,
                         part._storage[P:]) if R > P * rc else None
        n_part = P + 1 if R > P * rc else P
        red.reduce_inner(code, part._storage, 0, 0, 1, 0, 1, n_part, 1, out._storage)
        return out
    work = O * I * R
    if I == 1 or abs(sr) <= abs(si):
        if work >= RED_PAR and O * I > 1:
            red.reduce_inner_par(code, y._storage, y._offset, so, sr, si, O, R, I, out._storage,
                                     min(O * I, 4 * _threads()))
        else:
            _serial_reduce(red, "reduce_inner", y, out)(code, y._storage, y._offset, so, sr, si, O, R, I,
                                                         out._storage)
    elif work < 2 * RED_PAR:
        _serial_reduce(red, "reduce_outer", y, out)(code, y._storage, y._offset, so, sr, si, O, R, I, out._storage)
    else:
        T = _threads()
        block = _column_block(O, I)
        if name in _ROW_SPLIT and O == 1 and T > 1 and -(-I // block) < T and R >= 4 * T and out._dtype is y._dtype:
            # too few columns to give every thread a block: each thread folds its own range of rows into a row of
            # partial results, which are then folded in order (4096x256 float32 sum over dim 0 on 2 threads: 116 ->
            # ~50 us). For amax/amin that order keeps the exact fold's choices: the last NaN of a column, and the
            # first of equal zeros.
            rc = R // T
            part = empty((T + 1, I), out._dtype, x._device)
            red.reduce_outer_par(code, y._storage, y._offset, rc * sr, sr, si, T, rc, I, part._storage, block)
            if R > T * rc:
                red.reduce_outer(code, y._storage, y._offset + T * rc * sr, 0, sr, si, 1, R - T * rc, I,
                                 part._storage[T * I:])
            red.reduce_outer(code, part._storage, 0, 0, I, 1, 1, T + 1 if R > T * rc else T, I, out._storage)
        else:
            red.reduce_outer_par(code, y._storage, y._offset, so, sr, si, O, R, I, out._storage, block)
    return out


@half_compute()
def argreduce(name, x, dim, keepdim):
    """(values, indices) of max/min along one dim (``dim=None``: over the flattened tensor)."""
    if dim is None:
        x = x.reshape(-1)
        dim = 0
        out_shape = ()
    else:
        out_shape = tuple((1 if d == dim else n) for d, n in enumerate(x._shape)) if keepdim else \
            tuple(n for d, n in enumerate(x._shape) if d != dim)
    values = empty(out_shape, x._dtype, x._device)
    indices = empty(out_shape, int64, x._device)
    if values.numel() == 0:
        return values, indices
    if len(x._shape) == 0:
        copy_into(values, x)
        fill_(indices, 0)
        return values, indices
    y, O, R, I, so, sr, si = _reduce_form(x, (dim,))
    red = _k(x).reduce
    code = opcodes.ARGREDUCE[name]
    if I > 1 and abs(si) < abs(sr):
        # the kept elements are the close ones: fold whole rows (1.85x faster than a strided walk per output
        # for argmax over dim 0 of a 4096^2 float32 matrix)
        if O * I * R >= N_PAR:
            red.argreduce_outer_par(code, y._storage, y._offset, so, sr, si, O, R, I, values._storage,
                                    indices._storage, _column_block(O, I))
        else:
            red.argreduce_outer(code, y._storage, y._offset, so, sr, si, O, R, I, values._storage, indices._storage)
        return values, indices
    fn = red.argreduce_par if O * I * R >= N_PAR and O * I > 1 else red.argreduce
    fn(code, y._storage, y._offset, so, sr, si, O, R, I, values._storage, indices._storage)
    return values, indices


@half_compute()
def scan(name, x, dim):
    out = empty(x._shape, x._dtype, x._device)
    if out.numel() == 0:
        return out
    if len(x._shape) == 0:
        return copy_into(out, x)
    n = x._shape[dim]
    O = math.prod(x._shape[:dim])
    I = math.prod(x._shape[dim + 1:])
    if not x._is_contiguous():
        x = contiguous(x)
    red = _k(x).reduce
    fn = red.scan_par if out.numel() >= CUM_PAR and (O >= 4 or I >= 512) else red.scan
    fn(opcodes.SCAN[name], x._storage, x._offset, n * I, I, 1, O, n, I, out._storage)
    return out


# ---------------------------------------------------------------------------------------------------------------
# matmul
# ---------------------------------------------------------------------------------------------------------------
def _stack_form(t):
    """(array (B, r, c) C-ordered, transposed?) for a 3-D tensor whose matrices are C- or F-ordered, else None."""
    B, r, c = t._shape
    sb, s0, s1 = t._stride
    n = r * c
    if B > 1 and sb != n:
        return None
    if (s1 == 1 or c == 1) and (s0 == c or r == 1):
        return t._storage[t._offset:t._offset + B * n].reshape(B, r, c), False
    if (s0 == 1 or r == 1) and (s1 == r or c == 1):
        return t._storage[t._offset:t._offset + B * n].reshape(B, c, r), True
    return None


@half_compute()
def mm(a, b):
    """(M, K) @ (K, N) for same-dtype 2-D tensors: one GEMM launch for float32/float64 (C- or F-ordered operands
    go to BLAS as they are), else the batched launcher on a batch of one."""
    M, K = a._shape
    N = b._shape[1]
    dt = a._dtype
    if dt is not float32 and dt is not float64:
        return bmm(a.reshape(1, M, K), b.reshape(1, K, N)).reshape(M, N)
    out = empty((M, N), dt, a._device)
    if M == 0 or N == 0:
        return out
    if K == 0:
        return fill_(out, 0)
    k = _k(a).matmul
    mnk = M * N * K
    sa, ao, ta = _flat_form(a)
    sb, bo, tb = _flat_form(b)
    k.set_blas_threads(1)
    if mnk < LINEAR_PAR:
        # one single-threaded GEMM (through its entry point on the CPU, see _entry)
        fn = _MM.get((a._device.type, dt))
        if fn is None:
            fn = _MM[a._device.type, dt] = _entry(k.gemm_flat, dt.storage_np, "aibaibaiiii")
        fn(sa, ao, ta, sb, bo, tb, out._storage, M, N, K, 1)
        return out
    if k.BLAS_SEQUENTIAL:
        # on a one-thread BLAS (MKL) large products split over the Numba threads: the rows or the columns of out,
        # each block written in place (64x784 @ 784x128: 77 -> 53 us on 2 threads; 768x128 @ 128x384 383 -> 196 us)
        k.gemm_flat(sa, ao, ta, sb, bo, tb, out._storage, M, N, K, _threads())
        return out
    T = _threads()
    if mnk < BLAS_PAR and T > 1 and M > 1 and (M > LINEAR_COLS_M or tb and N >= 2 * T):
        # mid-size, split over the Numba threads with single-threaded GEMMs as linear layers do: few rows times a
        # transposed operand (x @ w.T) by output columns, else by rows (few rows times a row-major operand run as
        # one single-threaded GEMM below: on the 2-core AMD EPYC 64x784 @ 784x128 took 256 us split by rows,
        # 191 us as one GEMM, and 171-290 us on the threaded BLAS, whose threads fight the Numba ones); b is the
        # layer's weight, stored (N, K) when transposed, else its transpose stored (K, N)
        if ta:
            a = contiguous(a)
            sa, ao = a._storage, a._offset
        split, T = (2, T) if M <= LINEAR_COLS_M else (1, min(T, M))
        k.linear_forward_flat(sa, ao, sb, bo, not tb, sa, 0, False, out._storage, M, K, N, split, T, 0,
                              out._storage, 0)
        return out
    k.set_blas_threads(T if mnk >= BLAS_PAR else 1)
    k.gemm_flat(sa, ao, ta, sb, bo, tb, out._storage, M, N, K, 1)
    return out


@half_compute()
def bmm(a, b):
    """(B, M, K) @ (B, K, N) for same-dtype 3-D tensors whose batch sizes match or are 1."""
    Ba, M, K = a._shape
    Bb, _, N = b._shape
    B = max(Ba, Bb)
    mm = _k(a).matmul
    if a._dtype in (float32, float64):
        if Bb == 1 and Ba > 1 and a._is_contiguous():
            # a batch times one matrix is one GEMM over the stacked rows
            out = bmm(a.reshape(1, Ba * M, K), b)
            return out.reshape(Ba, M, N)
        fa = _stack_form(a)
        if fa is None:
            a = contiguous(a)
            fa = _stack_form(a)
        fb = _stack_form(b)
        if fb is None:
            b = contiguous(b)
            fb = _stack_form(b)
        out = empty((B, M, N), a._dtype, a._device)
        if out.numel() == 0:
            return out
        if K == 0:
            return fill_(out, 0)
        if B > 1 and M * N * K < BLAS_PAR and B * M * N * K >= BMM_BATCH_PAR and _threads() > 1:
            mm.set_blas_threads(1)  # the batch is split over the threads instead
            mm.bmm_blas_par(fa[0], fa[1], fb[0], fb[1], out._storage.reshape(B, M, N))
            return out
        big = B * M * N * K >= BLAS_PAR and _threads() > 1
        if big and mm.BLAS_SEQUENTIAL:  # a one-thread BLAS: split the batch, or the one product, over the threads
            if B > 1:
                mm.bmm_blas_par(fa[0], fa[1], fb[0], fb[1], out._storage.reshape(B, M, N))
            else:
                mm.gemm_par(fa[0][0], fa[1], fb[0][0], fb[1], out._storage.reshape(M, N), _threads())
            return out
        mm.set_blas_threads(_threads() if big else 1)
        mm.bmm_blas(fa[0], fa[1], fb[0], fb[1], out._storage.reshape(B, M, N))
        return out
    out = empty((B, M, N), a._dtype, a._device)
    fill_(out, 0)
    if out.numel() == 0 or K == 0:
        return out
    sab = a._stride[0] if Ba > 1 else 0
    sbb = b._stride[0] if Bb > 1 else 0
    mm.bmm_tiled(a._storage, a._offset, sab, a._stride[1], a._stride[2],
                 b._storage, b._offset, sbb, b._stride[1], b._stride[2], out._storage, B, M, N, K)
    return out


RED_PAR = 1 << 17  # elements from which a reduction over rows runs threaded (twice that over columns): measured
# serial vs threaded kernels on 2 threads, float32 sum along the last dim: 64K 4.7 vs 7.4 us, 128K 8.8 vs 8.8,
# 256K 17.3 vs 13.2; along dim 0: 64K 3.6 vs 9.1, 256K 18.6 vs 14.7
LINEAR_PAR = 1 << 21  # multiply-adds from which a linear layer's GEMMs are split over the threads
LINEAR_COLS_M = 256  # up to this many rows, the forward splits the output features (not the rows) over the threads


def _flat_form(t):
    """(1-D storage, element offset, transposed?) of a 2-D tensor for the kernels' flat entry points
    (``gemm_flat``): its own storage when it is C- or F-ordered, else a contiguous copy's."""
    r, c = t._shape
    s0, s1 = t._stride
    if (s1 == 1 or c == 1) and (s0 == c or r == 1):
        return t._storage, t._offset, False
    if (s0 == 1 or r == 1) and (s1 == r or c == 1):
        return t._storage, t._offset, True
    t = contiguous(t)
    return t._storage, 0, False


# activations a linear layer applies in its own pass (``linear``'s ``act``): name -> (kernel act code, unary opcode)
LINEAR_ACTS = {"relu": (1, 0), "gelu": (2, 0), "tanh": (3, opcodes.UNARY["tanh"]),
               "sigmoid": (3, opcodes.UNARY["sigmoid"]), "silu": (4, opcodes.UNARY["sigmoid"])}


@half_compute()
def linear(x, w, b, act=None, pre=False):
    """x (M, I) @ w.T + b for float tensors of one dtype (w (O, I), b (O) or None) in one launch: the rows of x are
    split over the threads when the GEMM is large. ``act`` (a ``LINEAR_ACTS`` name: relu, the exact gelu, tanh,
    sigmoid, silu) applies that activation to each block of the result while it is in cache on the CPU (the fusion
    minitorch.compile makes of linear -> activation; a second launch on CUDA), rounding as the activation's own
    kernel (silu: as its ops, the result times its sigmoid); with ``pre`` the result is (the pre-activation, the
    activation) for a backward that reads the first."""
    M, In = x._shape
    O = w._shape[0]
    if act is not None and act not in LINEAR_ACTS:
        raise ValueError(f"linear: act must be one of {sorted(LINEAR_ACTS)} or None, not {act!r}")
    code, op = LINEAR_ACTS[act] if act is not None else (0, 0)
    if pre and code == 1:
        code, op = 3, opcodes.UNARY["relu"]  # relu into a second tensor, keeping the pre-activation
    out = empty((M, O), x._dtype, x._device)
    y = empty((M, O), x._dtype, x._device) if code >= 2 else out
    if M == 0 or O == 0 or In == 0:
        if M and O:
            fill_(out, 0)
            if b is not None:
                binary("add", out, b, out=out)
            if act == "silu":
                y = binary("mul", out, unary("sigmoid", out))
            elif act is not None:
                y = gelu(out) if act == "gelu" else unary(act, out)
        return (out, y) if pre else y
    if not x._contig:
        x = contiguous(x)
    ws, wo, tw = _flat_form(w)
    if b is not None:
        if not b._contig:
            b = contiguous(b)
        bs, bo = b._storage, b._offset
    else:
        bs, bo = ws, 0  # unused
    mm = _k(x).matmul
    mm.set_blas_threads(1)
    T = _threads()
    split = 0
    if M * O * In >= LINEAR_PAR and T > 1:
        if M <= LINEAR_COLS_M and not tw and O >= 2 * T:
            split = 2  # the output features over the threads
        elif M > 1:
            split, T = 1, min(T, M)  # the rows
    mm.linear_forward_flat(x._storage, x._offset, ws, wo, tw, bs, bo, b is not None, out._storage, M, In, O, split,
                           T, code, y._storage, op)
    return (out, y) if pre else y


@half_compute()
def linear_backward(g, x, w, In, need_x, need_w, need_b, relu_out=None, gelu_in=None, tanh_out=None,
                    sigmoid_out=None):
    """(g @ w, g.T @ x, g.sum(0)) for g (M, O), x (M, In) (None unless need_w), w (O, In) (None unless need_x);
    entries not needed are None. ``relu_out`` (M, In): x's gradient then goes through the backward of the relu
    that gave ``relu_out`` (``relu_backward``), applied in the same kernel to each block as it is made; ``gelu_in``
    (M, In): through the backward of the exact GELU of ``gelu_in`` (``gelu_backward``) the same way; ``tanh_out``,
    ``sigmoid_out``: through tanh's or the sigmoid's backward from their output (g * (1 - y * y), g * (y * (1 - y)),
    each step rounded as those ops round). At most one of the four."""
    M, O = g._shape
    dt, dev = g._dtype, g._device
    gx = empty((M, In), dt, dev) if need_x else None
    gw = empty((O, In), dt, dev) if need_w else None
    gb = empty((O,), dt, dev) if need_b else None
    if not g._contig:
        g = contiguous(g)
    gs = g._storage
    if need_w:
        if not x._contig:
            x = contiguous(x)
        xs, xo = x._storage, x._offset
    else:
        xs, xo = gs, 0
    ws, wo, tw = _flat_form(w) if need_x else (gs, 0, False)
    mm = _k(g).matmul
    mm.set_blas_threads(1)
    T = _threads()
    if M * O * In >= LINEAR_PAR and T > 1:
        # the kernel reads In from gx or x, which are stand-ins of width O when only the bias gradient is needed
        gt = empty((T * mm.linear_scratch(M, In if need_x or need_w else O, O, T),), dt, dev)._storage
    else:
        T, gt = 1, gs  # the serial kernel takes no scratch
    mask = act = None
    if relu_out is not None or gelu_in is not None or tanh_out is not None or sigmoid_out is not None:
        given = [(n, t, c) for n, t, c in (("relu_out", relu_out, 1), ("gelu_in", gelu_in, 2),
                                           ("tanh_out", tanh_out, 3), ("sigmoid_out", sigmoid_out, 4))
                 if t is not None]
        if len(given) > 1:
            raise ValueError(f"linear_backward: at most one of {', '.join(n for n, _, _ in given)} may be given")
        name, mask, act = given[0]
    if mask is not None and need_x:
        if mask._shape != (M, In) or mask._dtype != dt:
            raise RuntimeError(f"linear_backward: {name} must be {dt} of shape {(M, In)}, not {mask._dtype} "
                               f"{tuple(mask._shape)}")
        if not mask._contig:
            mask = contiguous(mask)
        mm.linear_backward_flat(gs, g._offset, xs, xo, ws, wo, tw, gx._storage, gw._storage if need_w else gs,
                                gb._storage if need_b else gs, M, In, O, need_x, need_w, need_b, gt, T,
                                mask._storage, mask._offset, act)
    else:
        mm.linear_backward_flat(gs, g._offset, xs, xo, ws, wo, tw, gx._storage if need_x else gs,
                                gw._storage if need_w else gs, gb._storage if need_b else gs, M, In, O, need_x,
                                need_w, need_b, gt, T, gs, 0, 0)
    return gx, gw, gb


@half_compute()
def bmm_reference(a, b):
    """The tiled kernel for any dtype (tests compare the BLAS path against it)."""
    Ba, M, K = a._shape
    Bb, _, N = b._shape
    B = max(Ba, Bb)
    out = empty((B, M, N), a._dtype, a._device)
    fill_(out, 0)
    _k(a).matmul.bmm_tiled(a._storage, a._offset, a._stride[0] if Ba > 1 else 0, a._stride[1], a._stride[2],
                           b._storage, b._offset, b._stride[0] if Bb > 1 else 0, b._stride[1], b._stride[2],
                           out._storage, B, M, N, K)
    return out


# ---------------------------------------------------------------------------------------------------------------
# fill / indexing
# ---------------------------------------------------------------------------------------------------------------
def fill_(t, value):
    src = scalar(value, t._dtype, t._device)
    return copy_into(t, src)


def bounds(t):
    """(min, max) of a non-empty integer tensor as Python ints, read back from its device in one copy (a
    contiguous CPU tensor: NumPy's min and max of its storage, 2 us instead of 6 for two launches and a copy)."""
    if t._device.type == "cpu" and _PROFILE[0] is None:  # (the profiler and the compiler see launches)
        shape = t._shape
        if not t._contig and 0 in t._stride:  # an expanded index: only its distinct entries matter
            shape = tuple(1 if st == 0 else n for n, st in zip(shape, t._stride))
        if t._contig or _is_contig(shape, t._stride):
            a = t._storage[t._offset:t._offset + math.prod(shape)]
            return int(a.min()), int(a.max())
    k = _k(t)
    pair = empty((2,), t._dtype, t._device)
    for j, name in enumerate(("amin", "amax")):
        k.elementwise.copy_flat(reduce(name, t, (), False)._storage, 0, 1, pair._storage, j, 1, 1)
    lo, hi = k.memory.to_host(pair._storage).tolist()
    return int(lo), int(hi)


def index_range(index, n, dim):
    """``index`` (an int64 tensor) checked against a dim of size ``n``: IndexError naming the first bad bound when an
    entry lies outside [-n, n), and negative entries wrapped (n added). A launcher of its own, so that a compiled
    graph replays the check before the unchecked kernel that reads the index."""
    if index.numel():
        lo, hi = bounds(index)
        if lo < -n or hi >= n:
            raise IndexError(f"index {lo if lo < -n else hi} is out of bounds for dimension {dim} with size {n}")
        if lo < 0:
            lt0 = binary("lt", index, scalar(0, int64, index._device), family="compare")
            return where(lt0, binary("add", index, scalar(n, int64, index._device)), index)
    return index


def check_distribution(p):
    """RuntimeError unless every weight in the rows of ``p`` is finite and non-negative and every row sums above
    zero (what ``multinomial`` draws from), in one read-back; a launcher of its own, so that a compiled graph
    replays the check."""
    from .shape import stack
    bad_value, bad_sum = stack([(~(p.isfinite() & (p >= 0))).any(), (p.sum(-1) <= 0).any()]).tolist()
    if bad_value:
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    if bad_sum:
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")


def _check_span(x, lin, rest_dims):
    """Last resort before an unchecked kernel: every offset must land inside x's storage."""
    if lin.numel() == 0:
        return
    lo, hi = bounds(lin)
    reach = sum((x._shape[d] - 1) * x._stride[d] for d in rest_dims if x._shape[d])
    if x._offset + lo < 0 or x._offset + hi + reach >= x._storage.shape[0]:
        raise IndexError("index out of range for the tensor's storage")


def take(x, lin, rest_dims):
    """out[j, rest...] = x[offset lin[j] + rest...]: ``lin`` is a contiguous int64 tensor of checked offsets,
    ``rest_dims`` the dims of x walked for each offset. Returns a tensor of shape (len(lin), *rest sizes)."""
    rest_shape = [x._shape[d] for d in rest_dims] or [1]
    rest_strides = [x._stride[d] for d in rest_dims] or [0]
    out = empty((lin.numel(),) + tuple(x._shape[d] for d in rest_dims), x._dtype, x._device)
    if out.numel() == 0:
        return out
    lin = lin if lin._is_contiguous() and lin._offset == 0 else contiguous(lin)
    _check_span(x, lin, rest_dims)
    ix = _k(x).index
    (ix.take_par if out.numel() >= N_PAR else ix.take)(x._storage, x._offset, lin._storage[:lin.numel()],
                                                        _arr(rest_shape), _arr(rest_strides), out._storage)
    return out


def select_rows(x, dim, index):
    """index_select of a contiguous x along ``dim`` by ``index`` (a checked int64 vector, each in range): the output
    (..., len(index), ...) copied a run of x's trailing dims at a time (a copy: bit-safe for 16-bit floats)."""
    shape = x._shape[:dim] + (index.numel(),) + x._shape[dim + 1:]
    out = empty(shape, x._dtype, x._device)
    if out.numel():
        index = index if index._is_contiguous() else contiguous(index)
        idx = index._storage[index._offset:index._offset + index.numel()]
        ix = _k(x).index
        (ix.select_rows_par if out.numel() >= N_PAR else ix.select_rows)(
            x._storage, x._offset, idx, out._storage, math.prod(x._shape[:dim]), x._shape[dim],
            math.prod(x._shape[dim + 1:]))
    return out


@half_compute(inplace=("x",), layout=True, only_if="accumulate")
def put_(x, lin, rest_dims, values, accumulate):
    """x[offset lin[j] + rest...] (+)= values, values broadcast to (len(lin), *rest sizes)."""
    shape = (lin.numel(),) + tuple(x._shape[d] for d in rest_dims)
    if math.prod(shape) == 0:
        return x
    rest_shape = [x._shape[d] for d in rest_dims] or [1]
    rest_strides = [x._stride[d] for d in rest_dims] or [0]
    vst = expand_strides(values, shape)
    if not rest_dims:
        vst = vst + [0]
    lin = lin if lin._is_contiguous() and lin._offset == 0 else contiguous(lin)
    _check_span(x, lin, rest_dims)
    _k(x).index.put(x._storage, x._offset, lin._storage[:lin.numel()], _arr(rest_shape), _arr(rest_strides),
                    values._storage, values._offset, _arr(vst), accumulate)
    return x


def gather(x, dim, index):
    out = empty(index._shape, x._dtype, x._device)
    if out.numel() == 0:
        return out
    shape = list(index._shape) or [1]
    xst = list(x._stride) or [0]
    ist = list(index._stride) or [0]
    ix = _k(x).index
    (ix.gather_par if out.numel() >= N_PAR else ix.gather)(x._storage, x._offset, _arr(xst), index._storage,
                                                            index._offset, _arr(ist), dim, _arr(shape), out._storage)
    return out


@half_compute(inplace=("x",), only_if="accumulate")
def scatter_(x, dim, index, src, accumulate):
    """In place on a contiguous-or-strided x: x[... index ...] (+)= src over index's shape."""
    if index.numel() == 0:
        return x
    shape = list(index._shape) or [1]
    _k(x).index.scatter(x._storage, x._offset, _arr(list(x._stride) or [0]), index._storage, index._offset,
                        _arr(list(index._stride) or [0]), src._storage, src._offset,
                        _arr(expand_strides(src, index._shape) if src._shape != index._shape else
                             (list(src._stride) or [0])),
                        dim, _arr(shape), accumulate)
    return x


def nonzero(x):
    """(count, ndim) int64 coordinates of the nonzero elements of x, in row-major order."""
    mask = x if x._dtype is t_bool else unary("nonzero", x, family="predicate")
    if not mask._is_contiguous():
        mask = contiguous(mask)
    flat = mask._storage[mask._offset:mask._offset + mask.numel()]
    idx = _k(x).index
    count = idx.count_nonzero(flat)
    nd = len(x._shape)
    out = empty((count, nd), int64, x._device)
    if count and nd:
        idx.nonzero(flat, _arr(list(x._shape)), out._storage.reshape(count, nd))
    return out


def masked_compress(x, mask):
    """``x[mask]`` for a bool ``mask`` of x's shape: x's elements where it is True, in row-major order, as one 1-D
    tensor (one pass, instead of the mask's coordinates and a gather by them)."""
    x = x if x._contig else contiguous(x)
    mask = mask if mask._contig else contiguous(mask)
    n = x.numel()
    flat = mask._storage[mask._offset:mask._offset + n]
    pkg = _k(x)
    count = pkg.index.count_nonzero(flat)
    store = pkg.memory.empty(count + 1, x._dtype.storage_np)  # a spare slot for the kernel's last write
    if count:
        pkg.index.compress(x._storage, x._offset, flat, store)
    return _make(store, (count,), (1,), 0, x._dtype, x._device, None, True)


def to_numpy(t):
    """A host NumPy array with t's shape (a view when t is a CPU tensor)."""
    host = _k(t).memory.to_host(t._storage)
    if t._dtype._half:
        host = host.view(t._dtype.np)
    if t._contig:
        n = t.numel()
        return host[t._offset:t._offset + n].reshape(t._shape)
    itemsize = host.itemsize
    return np.lib.stride_tricks.as_strided(host[t._offset:] if t.numel() else host, t._shape,
                                           [s * itemsize for s in t._stride])


@half_compute()
def softmax(x, dim, log):
    """(log-)softmax along ``dim``; the reduced dim is brought last and made contiguous for the row kernel."""
    nd = len(x._shape)
    last = nd - 1
    y = x if dim == last else x.transpose(dim, last)
    if not y._contig:
        y = contiguous(y)
    out = empty(y._shape, x._dtype, x._device)
    C = y._shape[-1] if nd else 1
    R = out.numel() // C if C else 0
    if R:
        act = _k(x).activation
        src = y._storage[y._offset:y._offset + R * C]
        (act.softmax_par if R * C >= N_PAR else act.softmax)(src, out._storage, R, C, log)
    return out if dim == last else out.transpose(dim, last)


@half_compute()
def softmax_backward(g, y, dim, log):
    nd = len(y._shape)
    last = nd - 1
    if dim != last:
        g, y = g.transpose(dim, last), y.transpose(dim, last)
    g = g if g._contig else contiguous(g)
    y = y if y._contig else contiguous(y)
    out = empty(y._shape, y._dtype, y._device)
    C = y._shape[-1] if nd else 1
    R = out.numel() // C if C else 0
    if R:
        act = _k(y).activation
        gs = g._storage[g._offset:g._offset + R * C]
        ys = y._storage[y._offset:y._offset + R * C]
        (act.softmax_backward_par if R * C >= N_PAR else act.softmax_backward)(gs, ys, out._storage, R, C, log)
    return out if dim == last else out.transpose(dim, last)


# ---------------------------------------------------------------------------------------------------------------
# contractions, products, shape and indexing (ops/contraction.py)
# ---------------------------------------------------------------------------------------------------------------
_SCATTER_REDUCE = {"sum": 0, "prod": 1, "amax": 2, "amin": 3}


@half_compute(inplace=("x",), layout=True)
def scatter_reduce_(x, dim, index, src, reduce):
    """In place: x[... index ...] = reduce(x[... index ...], src) over index's shape, for reduce in sum, prod, amax,
    amin; ``index`` is range-checked and non-negative, ``src`` covers index's shape and has x's dtype."""
    if index.numel() == 0:
        return x
    shape = list(index._shape) or [1]
    _k(x).index.scatter_reduce(x._storage, x._offset, _arr(list(x._stride) or [0]), index._storage, index._offset,
                               _arr(list(index._stride) or [0]), src._storage, src._offset,
                               _arr(expand_strides(src, index._shape) if src._shape != index._shape else
                                    (list(src._stride) or [0])),
                               dim, _arr(shape), _SCATTER_REDUCE[reduce])
    return x


# ---------------------------------------------------------------------------------------------------------------
# special functions and gamma draws (ops/special.py)
# ---------------------------------------------------------------------------------------------------------------
_SPECIAL = {"lgamma": 0, "digamma": 1, "trigamma": 2}


@half_compute()
def special(name, x):
    """lgamma, digamma or trigamma of a floating tensor, in its dtype."""
    x = contiguous(x)
    out = empty(x._shape, x._dtype, x._device)
    n = out.numel()
    if n:
        _k(x).special.unary(_SPECIAL[name], x._storage[x._offset:x._offset + n], out._storage, n)
    return out


@half_compute()
def standard_gamma(alpha, rng):
    """Gamma(alpha, 1) samples for (validated, positive) shapes ``alpha``, in their dtype."""
    alpha = contiguous(alpha)
    out = empty(alpha._shape, alpha._dtype, alpha._device)
    n = out.numel()
    if n:
        _k(alpha).random.gamma(rng, alpha._storage[alpha._offset:alpha._offset + n], out._storage, n)
    return out


def _special_pair(kernel, a, b, *extra, like=None):
    """out = the special kernel ``kernel`` over two same-shape tensors, element by element, in the shape and dtype of
    ``like`` (a when None)."""
    a, b = contiguous(a), contiguous(b)
    like = a if like is None else like
    out = empty(like._shape, like._dtype, like._device)
    n = out.numel()
    if n:
        getattr(_k(a).special, kernel)(a._storage[a._offset:a._offset + n], b._storage[b._offset:b._offset + n],
                                       out._storage, n, *extra)
    return out


@half_compute()
def standard_gamma_grad(x, alpha):
    """d x / d alpha of Gamma(alpha, 1) samples ``x`` at a fixed CDF value (same shape and dtype as alpha)."""
    return _special_pair("standard_gamma_grad", x, alpha, like=alpha)


@half_compute()
def gammainc(a, x, upper):
    """Regularised incomplete gamma P(a, x) (or Q when ``upper``) of two same-shape floating tensors."""
    return _special_pair("gammainc", a, x, bool(upper))


@half_compute()
def zeta(x, q):
    """The Hurwitz zeta function of two same-shape floating tensors, in x's dtype."""
    return _special_pair("zeta", x, q)


@half_compute()
def dirichlet_grad(x, alpha, total):
    """d x / d alpha for Dirichlet draws x (same-shape x, alpha and total = alpha's sum along the event)."""
    x, alpha, total = contiguous(x), contiguous(alpha), contiguous(total)
    out = empty(alpha._shape, alpha._dtype, alpha._device)
    n = out.numel()
    if n:
        _k(alpha).special.dirichlet_grad(x._storage[x._offset:x._offset + n],
                                         alpha._storage[alpha._offset:alpha._offset + n],
                                         total._storage[total._offset:total._offset + n], out._storage, n)
    return out


@half_compute()
def sq_diff_sum(a, b, scale):
    """scale * sum((a - b)**2) for two contiguous floating tensors of one shape, dtype and device, as a 0-d tensor
    of their dtype: one pass, the sum carried in float64 (mse_loss)."""
    n = a.numel()
    out = empty((), a._dtype, a._device)
    act = _k(a).activation
    (act.sq_diff_sum_par if n >= N_PAR else act.sq_diff_sum)(a._storage, a._offset, b._storage, b._offset, n,
                                                             float(scale), out._storage)
    return out


@half_compute()
def gelu(x):
    """The exact GELU x * Phi(x) of a floating tensor (a fresh contiguous result)."""
    x = x if x._contig else contiguous(x)
    out = empty(x._shape, x._dtype, x._device)
    n = out.numel()
    if n:
        act = _k(x).activation
        (act.gelu_par if n >= N_PAR else act.gelu)(x._storage[x._offset:x._offset + n], out._storage, n)
    return out


@half_compute()
def gelu_backward(g, x):
    """g * (Phi(x) + x phi(x)) for same-shape g and x."""
    g = g if g._contig else contiguous(g)
    x = x if x._contig else contiguous(x)
    out = empty(x._shape, x._dtype, x._device)
    n = out.numel()
    if n:
        act = _k(x).activation
        (act.gelu_backward_par if n >= N_PAR else act.gelu_backward)(
            g._storage[g._offset:g._offset + n], x._storage[x._offset:x._offset + n], out._storage, n)
    return out


@half_compute()
def layer_norm(x, C, weight, bias, eps):
    """LayerNorm over the last C elements of each row of x: (out, mean, rstd); mean and rstd are float64 (R,)."""
    x = x if x._contig else contiguous(x)
    out = empty(x._shape, x._dtype, x._device)
    R = out.numel() // C
    mean = empty((R,), float64, x._device)
    rstd = empty((R,), float64, x._device)
    if R:
        xs = x._storage[x._offset:x._offset + R * C]
        w = weight if weight is None or weight._contig else contiguous(weight)
        b = bias if bias is None or bias._contig else contiguous(bias)
        wv = w._storage[w._offset:w._offset + C] if w is not None else xs[:1]
        bv = b._storage[b._offset:b._offset + C] if b is not None else xs[:1]
        act = _k(x).activation
        fn = act.layer_norm_par if R > 1 and R * C >= N_PAR else act.layer_norm
        fn(xs, wv, bv, w is not None, b is not None, float(eps), out._storage, mean._storage, rstd._storage, R, C)
    return out, mean, rstd


@half_compute()
def layer_norm_backward(g, x, C, weight, mean, rstd, need_w, need_b):
    """(dx, dw or None, db or None) of layer_norm from its saved per-row mean and rstd."""
    g = g if g._contig else contiguous(g)
    x = x if x._contig else contiguous(x)
    dx = empty(x._shape, x._dtype, x._device)
    R = dx.numel() // C
    dw = empty((C,), x._dtype, x._device) if need_w else None
    db = empty((C,), x._dtype, x._device) if need_b else None
    xs = x._storage[x._offset:x._offset + R * C]
    w = weight if weight is None or weight._contig else contiguous(weight)
    wv = w._storage[w._offset:w._offset + C] if w is not None else xs[:1]
    act = _k(x).activation
    fn = act.layer_norm_backward_par if R > 1 and R * C >= N_PAR else act.layer_norm_backward
    fn(g._storage[g._offset:g._offset + R * C], xs, wv, w is not None, mean._storage, rstd._storage, dx._storage,
       dw._storage if need_w else xs[:0], db._storage if need_b else xs[:0], R, C)
    return dx, dw, db
