"""Test helpers, as ``torch.testing``: ``assert_close``, ``make_tensor`` and the deprecated ``assert_allclose``.

Comparisons run on host copies in NumPy, in the dtype PyTorch would compare in, so that the tolerances, the
mismatch counts and the reported greatest differences read exactly as PyTorch's.
"""
import collections.abc
import cmath
import math
import warnings

import numpy as np

from . import dtypes as _dt
from .tensor import Tensor

__all__ = ["assert_close", "make_tensor", "assert_allclose"]

# (rtol, atol) per dtype name; every other dtype compares exactly
_PRECISIONS = {"float16": (1e-3, 1e-5), "bfloat16": (1.6e-2, 1e-5), "float32": (1.3e-6, 1e-5),
               "float64": (1e-7, 1e-7), "complex64": (1.3e-6, 1e-5), "complex128": (1e-7, 1e-7)}
_NUMBER_DTYPE = {int: "int64", float: "float64", complex: "complex128"}


class _Failure(Exception):
    """A mismatch found while walking the inputs: the exception type to raise, its message, the item path."""

    def __init__(self, type_, msg, path=()):
        super().__init__(msg)
        self.type, self.msg, self.path = type_, msg, path

    def to_error(self, msg):
        if isinstance(msg, str):
            return self.type(msg)
        text = self.msg
        if self.path:
            text += "\n\nThe failure occurred for item " + "".join(str([p]) for p in self.path)
        return self.type(msg(text) if callable(msg) else text)


def _tolerances(names, rtol, atol, path):
    if (rtol is None) != (atol is None):
        raise _Failure(ValueError, "Both 'rtol' and 'atol' must be either specified or omitted, but got no "
                                   f"{'rtol' if rtol is None else 'atol'}.", path)
    if rtol is not None:
        return rtol, atol
    pairs = [_PRECISIONS.get(n, (0.0, 0.0)) for n in names]
    return max(p[0] for p in pairs), max(p[1] for p in pairs)


def _diff_line(kind, diff, idx, tol, equality):
    line = f"{kind.title()} difference: {diff}" if idx is None else f"Greatest {kind} difference: {diff} at index {idx}"
    return line + ("" if equality else f" (up to {tol} allowed)") + "\n"


def _mismatch_msg(what, extra, abs_diff, abs_idx, atol, rel_diff, rel_idx, rtol):
    equality = rtol == 0 and atol == 0
    msg = f"{what} are not {'equal' if equality else 'close'}!\n\n"
    if extra:
        msg += extra.strip() + "\n"
    msg += _diff_line("absolute", abs_diff, abs_idx, atol, equality)
    msg += _diff_line("relative", rel_diff, rel_idx, rtol, equality)
    return msg.strip()


def _scalar_msg(actual, expected, rtol, atol):
    abs_diff = abs(actual - expected)
    rel_diff = float("inf") if expected == 0 else abs_diff / abs(expected)
    return _mismatch_msg("Scalars", f"Expected {expected} but got {actual}.", abs_diff, None, atol, rel_diff, None,
                         rtol)


# ---------------------------------------------------------------------------------------------------------------
# pairs
# ---------------------------------------------------------------------------------------------------------------
def _compare_numbers(actual, expected, rtol, atol, equal_nan, check_dtype, path):
    if isinstance(actual, np.number):
        actual = actual.item()
    if isinstance(expected, np.number):
        expected = expected.item()
    rtol, atol = _tolerances([_NUMBER_DTYPE[type(actual)], _NUMBER_DTYPE[type(expected)]], rtol, atol, path)
    if check_dtype and type(actual) is not type(expected):
        raise _Failure(AssertionError, f"The (d)types do not match: {type(actual)} != {type(expected)}.", path)
    if actual == expected:
        return
    if equal_nan and cmath.isnan(actual) and cmath.isnan(expected):
        return
    abs_diff = abs(actual - expected)
    if cmath.isfinite(abs_diff) and abs_diff <= atol + rtol * abs(expected):
        return
    raise _Failure(AssertionError, _scalar_msg(actual, expected, rtol, atol), path)


def _torch_repr(attr, value):
    if attr == "shape":
        return f"torch.Size({list(value)})"
    if attr == "dtype":
        return f"torch.{value.name}"
    return str(value)


def _as_tensor(x):
    if isinstance(x, np.ndarray):
        from .creation import as_tensor
        return as_tensor(x)
    return x


def _isclose(a, b, rtol, atol, equal_nan):
    """PyTorch's isclose on host arrays of one dtype: |a - b| <= atol + rtol * |b|, computed in that dtype."""
    with np.errstate(invalid="ignore", over="ignore"):
        eq = a == b
        if a.dtype.kind in "biu":
            if rtol == 0 and atol == 0:
                return eq
            a64, b64 = a.astype(np.float64), b.astype(np.float64)
            return eq | (np.abs(a64 - b64) <= atol + rtol * np.abs(b64))
        dt = a.dtype if a.dtype.kind != "c" else np.float64
        close = np.abs(a - b) <= (np.asarray(atol).astype(dt) + np.asarray(rtol).astype(dt) * np.abs(b))
        out = eq | (np.isfinite(a) & np.isfinite(b) & close)
        if equal_nan:
            out |= np.isnan(a) & np.isnan(b)
        return out


def _compare_tensors(actual, expected, rtol, atol, equal_nan, check_device, check_dtype, check_stride, path):
    from .dtypes import promote_types
    actual, expected = _as_tensor(actual), _as_tensor(expected)
    rtol, atol = _tolerances([actual.dtype.name, expected.dtype.name], rtol, atol, path)

    def fail(attr, a, b):
        raise _Failure(AssertionError, f"The values for attribute '{attr}' do not match: {_torch_repr(attr, a)} != "
                                       f"{_torch_repr(attr, b)}.", path)

    if actual.shape != expected.shape:
        fail("shape", actual.shape, expected.shape)
    if check_stride and actual.stride() != expected.stride():
        fail("stride()", actual.stride(), expected.stride())
    if check_device and actual.device != expected.device:
        fail("device", actual.device, expected.device)
    if check_dtype and actual.dtype != expected.dtype:
        fail("dtype", actual.dtype, expected.dtype)
    if actual.dtype != expected.dtype:
        dt = promote_types(actual.dtype, expected.dtype)
        actual, expected = actual.to(dt), expected.to(dt)
    a = actual.detach().cpu().numpy()
    b = expected.detach().cpu().numpy()
    matches = _isclose(a, b, rtol, atol, equal_nan)
    if matches.all():
        return
    if a.ndim == 0:
        raise _Failure(AssertionError, _scalar_msg(a.item(), b.item(), rtol, atol), path)
    total = matches.size
    bad = total - int(matches.sum())
    extra = f"Mismatched elements: {bad} / {total} ({bad / total:.1%})"
    fa, fb, fm = a.reshape(-1), b.reshape(-1), matches.reshape(-1)
    if fa.dtype.kind in "biu":
        fa, fb = fa.astype(np.int64), fb.astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        abs_diff = np.abs(fa - fb)
        abs_diff[fm] = 0
        rel_diff = abs_diff / np.abs(fb)
        if rel_diff.dtype == np.float64 and fa.dtype.kind in "iu":
            rel_diff = rel_diff.astype(np.float32)  # integer true division gives the default float dtype
        rel_diff[fm] = 0
    ia, ir = _argmax_nan(abs_diff), _argmax_nan(rel_diff)
    raise _Failure(AssertionError, _mismatch_msg(
        "Tensor-likes", extra, abs_diff[ia].item(), tuple(int(i) for i in np.unravel_index(ia, a.shape)), atol,
        rel_diff[ir].item(), tuple(int(i) for i in np.unravel_index(ir, a.shape)), rtol), path)


def _argmax_nan(x):
    """Index of the greatest value, NaN counting as greatest (as torch.max propagates NaN)."""
    nan = np.isnan(x) if x.dtype.kind in "fc" or str(x.dtype) == "bfloat16" else np.zeros(x.shape, bool)
    if nan.any():
        return int(np.argmax(nan))
    return int(np.argmax(x))


def _is_tensor_like(x):
    return isinstance(x, (Tensor, np.ndarray))


def _walk(actual, expected, path, options):
    seq = collections.abc.Sequence
    if isinstance(actual, seq) and not isinstance(actual, str) and isinstance(expected, seq) and \
            not isinstance(expected, str):
        if len(actual) != len(expected):
            raise _Failure(AssertionError, f"The length of the sequences mismatch: {len(actual)} != {len(expected)}",
                           path)
        for i in range(len(actual)):
            _walk(actual[i], expected[i], path + (i,), options)
        return
    mp = collections.abc.Mapping
    if isinstance(actual, mp) and isinstance(expected, mp):
        ka, ke = set(actual.keys()), set(expected.keys())
        if ka != ke:
            raise _Failure(AssertionError, "The keys of the mappings do not match:\n"
                                           f"Missing keys in the actual mapping: {sorted(ke - ka)}\n"
                                           f"Additional keys in the actual mapping: {sorted(ka - ke)}", path)
        keys = list(ka)
        try:
            keys = sorted(keys)
        except Exception:  # noqa: BLE001 - unorderable keys keep their order
            pass
        for k in keys:
            _walk(actual[k], expected[k], path + (k,), options)
        return
    if actual is None or expected is None:
        if actual is None and expected is None:
            return
        raise _Failure(AssertionError, f"None mismatch: {actual} is not {expected}", path)
    if isinstance(actual, (bool, np.bool_)) and isinstance(expected, (bool, np.bool_)):
        if bool(actual) is not bool(expected):
            raise _Failure(AssertionError, f"Booleans mismatch: {bool(actual)} is not {bool(expected)}", path)
        return
    numbers = (int, float, complex, np.number)
    if isinstance(actual, numbers) and isinstance(expected, numbers) and not isinstance(actual, bool) and \
            not isinstance(expected, bool):
        _compare_numbers(actual, expected, options["rtol"], options["atol"], options["equal_nan"],
                         options["check_dtype"], path)
        return
    if _is_tensor_like(actual) and _is_tensor_like(expected) and \
            (isinstance(actual, type(expected)) or isinstance(expected, type(actual))) and \
            (options["allow_subclasses"] or type(actual) is type(expected)):
        _compare_tensors(actual, expected, options["rtol"], options["atol"], options["equal_nan"],
                         options["check_device"], options["check_dtype"], options["check_stride"], path)
        return
    raise _Failure(TypeError, f"No comparison pair was able to handle inputs of type {type(actual)} and "
                              f"{type(expected)}.", path)


def assert_close(actual, expected, *, allow_subclasses=True, rtol=None, atol=None, equal_nan=False,
                 check_device=True, check_dtype=True, check_layout=True, check_stride=False, msg=None):
    """Raise AssertionError unless ``actual`` and ``expected`` are close: ``|a - e| <= atol + rtol * |e|``.

    Tensors, NumPy arrays, Python numbers and (nested) sequences and mappings of them are accepted. Omitted
    tolerances default per dtype (float32: rtol 1.3e-6, atol 1e-5; float64: 1e-7 each; integers: exact).
    ``msg`` replaces the message (a string) or rewrites it (a callable taking the generated message).

    Example::

        >>> minitorch.testing.assert_close(minitorch.tensor([1.0]), minitorch.tensor([1.0 + 1e-7]))
    """
    options = dict(allow_subclasses=allow_subclasses, rtol=rtol, atol=atol, equal_nan=equal_nan,
                   check_device=check_device, check_dtype=check_dtype, check_stride=check_stride)
    try:
        _walk(actual, expected, (), options)
    except _Failure as f:
        raise f.to_error(msg) from None


def assert_allclose(actual, expected, rtol=None, atol=None, equal_nan=True, msg=""):
    """Deprecated since PyTorch 1.12: ``assert_close`` with looser defaults and no dtype check."""
    warnings.warn("`torch.testing.assert_allclose()` is deprecated since 1.12 and will be removed in a future release. "
                  "Please use `torch.testing.assert_close()` instead. You can find detailed upgrade instructions in "
                  "https://github.com/pytorch/pytorch/issues/61844.", FutureWarning, stacklevel=2)
    from .creation import tensor
    if not isinstance(actual, Tensor):
        actual = tensor(actual)
    if not isinstance(expected, Tensor):
        expected = tensor(expected, dtype=actual.dtype)
    if rtol is None and atol is None:
        table = {"float16": (1e-3, 1e-3), "float32": (1e-4, 1e-5), "float64": (1e-5, 1e-8)}
        pairs = [table.get(t.dtype.name, (0.0, 0.0)) for t in (actual, expected)]
        rtol, atol = max(p[0] for p in pairs), max(p[1] for p in pairs)
    assert_close(actual, expected, rtol=rtol, atol=atol, equal_nan=equal_nan, check_device=True, check_dtype=False,
                 check_stride=False, msg=msg or None)


_INTEGRAL = ("bool", "uint8", "int8", "int16", "int32", "int64")


def make_tensor(*shape, dtype, device, low=None, high=None, requires_grad=False, noncontiguous=False,
                exclude_zero=False, memory_format=None):
    """A tensor of ``shape`` with values drawn uniformly from ``[low, high)`` (default [-9, 9) / [-9, 10) for
    integers, clamped to what ``dtype`` holds); ``noncontiguous=True`` gives a strided view of a larger tensor."""
    from .creation import rand, randint
    if len(shape) == 1 and isinstance(shape[0], collections.abc.Sequence):
        shape = tuple(shape[0])
    shape = tuple(int(s) for s in shape)
    if noncontiguous and memory_format is not None:
        raise ValueError(f"The parameters `noncontiguous` and `memory_format` are mutually exclusive, but got "
                         f"noncontiguous={noncontiguous!r} and memory_format={memory_format!r}")
    if requires_grad and dtype.name in _INTEGRAL:
        raise ValueError(f"`requires_grad=True` is not supported for boolean and integral dtypes, but got "
                         f"dtype=torch.{dtype.name}")

    def bounds(default_low, default_high, lowest, highest):
        lo = default_low if low is None else low
        hi = default_high if high is None else high
        if isinstance(lo, float) and math.isnan(lo) or isinstance(hi, float) and math.isnan(hi):
            raise ValueError(f"`low` and `high` cannot be NaN, but got low={lo} and high={hi}")
        if lo == hi and dtype.is_floating_point:
            warnings.warn("Passing `low==high` to `torch.testing.make_tensor` for floating or complex types is "
                          "deprecated since 2.1 and will be removed in 2.3. Use `torch.full(...)` instead.",
                          FutureWarning, stacklevel=3)
        elif lo >= hi:
            raise ValueError(f"`low` must be less than `high`, but got {lo} >= {hi}")
        elif hi < lowest or lo >= highest:
            raise ValueError(f"The value interval specified by `low` and `high` is [{lo}, {hi}), but torch."
                             f"{dtype.name} only supports [{lowest}, {highest})")
        return min(max(lo, lowest), highest), min(max(hi, lowest), highest)

    numel = 1
    for s in shape:
        numel *= s
    noncontiguous = noncontiguous and numel > 1
    if noncontiguous:
        shape = shape[:-1] + (2 * shape[-1],)
    if dtype.name == "bool":
        lo, hi = bounds(0, 2, 0, 2)
        result = randint(math.ceil(lo), math.ceil(hi), shape, device=device).to(dtype)
    elif dtype.name in _INTEGRAL:
        info = _dt.iinfo(dtype)
        # randint's bound is exclusive: max + 1, except for int64 where that would overflow
        lo, hi = bounds(-9, 10, info.min, info.max + (1 if dtype.name != "int64" else 0))
        result = randint(math.ceil(lo), math.ceil(hi), shape, device=device, dtype=dtype)
    elif dtype.is_floating_point:
        info = _dt.finfo(dtype)
        lo, hi = bounds(-9, 9, info.min, info.max)
        result = (rand(shape, device=device, dtype=_dt.float64) * (hi - lo) + lo).to(dtype)
    else:
        raise TypeError(f"The requested dtype '{dtype}' is not supported by torch.testing.make_tensor(). To request "
                        "support, file an issue at: https://github.com/pytorch/pytorch/issues")
    if noncontiguous:
        result = result[..., 1::2]
    if exclude_zero:
        zero = result == 0
        if bool(zero.any()):
            result[zero] = 1 if dtype.name in _INTEGRAL else _dt.finfo(dtype).tiny
    if dtype.is_floating_point:
        result.requires_grad_(requires_grad)
    return result
