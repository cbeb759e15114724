"""Composite ops on 16-bit floats compute in float32 and round once, as PyTorch's fused CPU kernels do.

Primitive ops already do (their launchers convert, see ``launch.half_compute``). An op written as several
primitives (lerp = a + w * (b - a), gelu, layer_norm, mean = sum / n ...) would round after every step and drift
from PyTorch by an ulp on a third of its elements; wrapped by name here, it instead runs on float32 copies of its
half operands (differentiable casts, so gradients flow back in the half dtype) and its float32 results are rounded
to that dtype once. Until a half tensor exists a wrapped op costs one flag read; it applies only when every floating
tensor operand has the same 16-bit dtype and no ``dtype`` was asked for.
"""
import functools

from ..dtypes import HALF_SEEN, float32
from ..tensor import Tensor

NAMES = {
    # ops/elementwise.py, ops/reduce.py
    "lerp", "addcmul", "addcdiv", "mean", "nanmean", "var", "std", "var_mean", "std_mean", "norm", "logsumexp",
    "dist",
    # nn/functional.py
    "gelu", "silu", "mish", "softplus", "leaky_relu", "celu", "selu", "logsigmoid", "softsign", "tanhshrink",
    "layer_norm", "group_norm", "batch_norm", "softmin", "cosine_similarity", "normalize", "l1_loss",
    "rms_norm",
    "smooth_l1_loss", "huber_loss", "kl_div", "binary_cross_entropy", "binary_cross_entropy_with_logits",
    "cross_entropy", "nll_loss",
}


def _half_of(args, kwargs):
    """The one 16-bit dtype of the floating tensor operands, or None."""
    h = None
    for a in (*args, *kwargs.values()):
        if isinstance(a, Tensor) and a._dtype.is_floating_point:
            if not a._dtype._half or (h is not None and a._dtype is not h):
                return None
            h = a._dtype
    return h


def wrap(fn):
    if getattr(fn, "_opmath", False):
        return fn

    @functools.wraps(fn)
    def op(*args, **kwargs):
        if not HALF_SEEN[0] or kwargs.get("dtype") is not None:
            return fn(*args, **kwargs)
        h = _half_of(args, kwargs)
        if h is None:
            return fn(*args, **kwargs)
        from .common import cast

        def up(a):
            return cast(a, float32) if isinstance(a, Tensor) and a._dtype is h else a

        def down(r):
            return cast(r, h) if isinstance(r, Tensor) and r._dtype is float32 else r
        out = fn(*(up(a) for a in args), **{k: up(v) for k, v in kwargs.items()})
        if isinstance(out, tuple):
            return type(out)(*(down(r) for r in out)) if hasattr(out, "_fields") else tuple(down(r) for r in out)
        return down(out)
    op._opmath = True
    return op


def install(namespace):
    """Wrap the composites of ``NAMES`` found in a module (or globals dict), aliases included."""
    ns = namespace if isinstance(namespace, dict) else vars(namespace)
    wrapped = {}
    for name in NAMES:
        fn = ns.get(name)
        if callable(fn) and not isinstance(fn, type) and id(fn) not in wrapped:
            wrapped[id(fn)] = wrap(fn)
    for key, value in list(ns.items()):
        w = wrapped.get(id(value))
        if w is not None:
            ns[key] = w
