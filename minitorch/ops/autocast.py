"""Autocast at the op layer: the state behind ``minitorch.autocast`` and the cast policies of PyTorch's op lists.

Ops named in the lists below are wrapped once, by name, where their modules are assembled (``install``). While no
autocast region is active a wrapped op costs one flag read on top of the call. Inside a region, an op on the list of
its tensors' device type casts its eligible operands (floating-point tensors on that device type, float64 excepted)
before running, as PyTorch's Autocast dispatch keys do:

* ``lower``: to the region's dtype (bfloat16 by default on "cpu", float16 on "cuda"): GEMMs and convolutions;
* ``fp32``: to float32: ops whose range or accuracy needs it (losses, exp/log/pow on "cuda", norms ...);
* ``fp32_opt``: the first operand to float32 unless a ``dtype`` was given (PyTorch's fp32_set_opt_dtype: sum,
  softmax, cumsum ... on "cuda");
* ``promote``: all to the widest floating dtype among them (cat/stack on "cpu"; addcmul, atan2 ... on "cuda");
* ``banned``: a RuntimeError (binary_cross_entropy on "cuda", as PyTorch's).

The op itself then runs with autocast suspended, so the ops it calls internally are not cast again (PyTorch
excludes the autocast key below an autocast kernel). The state is process-wide (PyTorch's is per thread).
Lists follow PyTorch 2.13's ``aten/src/ATen/autocast_mode.{h,cpp}`` for the ops minitorch has.
"""
import functools
import weakref

from ..dtypes import bfloat16, float16, float32, float64
from ..tensor import Tensor

ACTIVE = [False]  # some device type has autocast enabled (the one flag a wrapped op reads)
_STATE = {"cpu": [False, bfloat16], "cuda": [False, float16]}
_CACHE = {}  # id(fp32 leaf) -> (weakref to it, its lower-precision cast), kept while regions are nested
_CACHE_ON = [True]
_NESTING = [0]

_GEMM_CONV = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "prelu",
              "addmm", "addbmm", "baddbmm", "bmm", "mm", "matmul", "linear", "linalg_vecdot", "vecdot",
              "scaled_dot_product_attention"]
_LOSSES = ["mse_loss", "cosine_embedding_loss", "nll_loss", "hinge_embedding_loss", "poisson_nll_loss",
           "smooth_l1_loss", "cross_entropy", "l1_loss", "huber_loss", "margin_ranking_loss", "soft_margin_loss",
           "triplet_margin_loss", "multi_margin_loss", "kl_div", "multilabel_margin_loss",
           "binary_cross_entropy_with_logits"]
POLICIES = {
    "cpu": dict(
        [(n, "lower") for n in _GEMM_CONV] +
        [(n, "fp32") for n in _LOSSES + [
            "binary_cross_entropy", "prod", "cdist", "trace", "cholesky", "cholesky_inverse", "cholesky_solve",
            "inverse", "lu_solve", "pinverse", "max_pool3d", "avg_pool3d", "adaptive_avg_pool3d",
            "adaptive_max_pool3d", "quantile", "nanquantile", "qr", "svd", "geqrf", "triangular_solve",
            # torch.linalg's entries of the CPU list (names as minitorch.linalg spells them)
            "solve", "inv", "inv_ex", "cholesky_ex", "svdvals", "eig", "eigh", "eigvals", "eigvalsh", "lstsq",
            "matrix_rank", "cond", "householder_product", "tensorinv", "tensorsolve"]] +
        [(n, "promote") for n in ["cat", "concat", "concatenate", "stack", "index_copy"]]),
    "cuda": dict(
        [(n, "lower") for n in _GEMM_CONV + ["conv_tbc", "addmv", "addr", "einsum", "mv", "chain_matmul",
                                             "multi_dot", "lstm_cell", "gru_cell", "rnn_tanh_cell",
                                             "rnn_relu_cell"]] +
        [(n, "fp32") for n in _LOSSES + [
            "acos", "asin", "cosh", "erfinv", "exp", "expm1", "log", "log10", "log2", "log1p", "reciprocal",
            "rsqrt", "sinh", "tan", "pow", "softplus", "layer_norm", "group_norm", "cosine_similarity", "dist",
            "pdist", "cdist", "renorm", "logsumexp", "norm"]] +
        [(n, "fp32_opt") for n in ["prod", "softmax", "log_softmax", "cumprod", "cumsum", "sum", "vector_norm",
                                   "matrix_norm"]] +
        [(n, "promote") for n in ["addcdiv", "addcmul", "atan2", "bilinear", "cross", "dot", "grid_sample",
                                  "index_put", "tensordot", "scatter_add"]] +
        [("binary_cross_entropy", "banned")]),
}
_BANNED = ("torch.nn.functional.binary_cross_entropy and torch.nn.BCELoss are unsafe to autocast.\n"
           "Many models use a sigmoid layer right before the binary cross entropy layer.\n"
           "In this case, combine the two layers using torch.nn.functional.binary_cross_entropy_with_logits\n"
           "or torch.nn.BCEWithLogitsLoss.  binary_cross_entropy_with_logits and BCEWithLogits are\n"
           "safe to autocast.")


# ---------------------------------------------------------------------------------------------------------------
# state (torch.is_autocast_enabled, torch.set_autocast_dtype ...)
# ---------------------------------------------------------------------------------------------------------------
def _entry(device_type):
    st = _STATE.get(device_type)
    if st is None:
        raise RuntimeError(f"User specified an unsupported autocast device_type '{device_type}'")
    return st


def is_autocast_enabled(device_type=None):
    """Whether autocast is on for ``device_type`` (with no argument: for "cuda", as PyTorch's legacy form)."""
    return _entry("cuda" if device_type is None else device_type)[0]


def set_autocast_enabled(device_type, enabled=None):
    if enabled is None:  # torch's legacy one-argument form sets CUDA's state
        device_type, enabled = "cuda", device_type
    _entry(device_type)[0] = bool(enabled)
    ACTIVE[0] = any(st[0] for st in _STATE.values())


def get_autocast_dtype(device_type):
    return _entry(device_type)[1]


def set_autocast_dtype(device_type, dtype):
    _entry(device_type)[1] = dtype


def is_autocast_cache_enabled():
    return _CACHE_ON[0]


def set_autocast_cache_enabled(enabled):
    _CACHE_ON[0] = bool(enabled)


def clear_autocast_cache():
    _CACHE.clear()


def autocast_increment_nesting():
    _NESTING[0] += 1
    return _NESTING[0]


def autocast_decrement_nesting():
    _NESTING[0] -= 1
    return _NESTING[0]


# ---------------------------------------------------------------------------------------------------------------
# casts
# ---------------------------------------------------------------------------------------------------------------
def _eligible(t, dev):
    return isinstance(t, Tensor) and t._device.type == dev and t._dtype.is_floating_point and t._dtype is not float64


def _cast(t, dt, cache):
    if t._dtype is dt:
        return t
    if cache and t._dtype is float32 and t._requires_grad and t._grad_fn is None and t._base is None:
        hit = _CACHE.get(id(t))
        if hit is not None and hit[0]() is t and hit[1]._dtype is dt:
            return hit[1]
        out = t.to(dt)
        _CACHE[id(t)] = (weakref.ref(t), out)
        return out
    return t.to(dt)


def _map(x, fn):
    if isinstance(x, Tensor):
        return fn(x)
    if isinstance(x, (list, tuple)) and any(isinstance(v, Tensor) for v in x):
        return type(x)(fn(v) if isinstance(v, Tensor) else v for v in x)
    return x


def _device_type(args, kwargs):
    for a in list(args) + list(kwargs.values()):
        if isinstance(a, Tensor):
            return a._device.type
        if isinstance(a, (list, tuple)):
            for v in a:
                if isinstance(v, Tensor):
                    return v._device.type
    return None


def _widest(args, kwargs, dev, dt):
    for a in list(args) + list(kwargs.values()):
        for v in (a if isinstance(a, (list, tuple)) else (a,)):
            if _eligible(v, dev) and v._dtype is float32:
                return float32
    return dt


def _run(fn, name, args, kwargs):
    dev = _device_type(args, kwargs)
    st = _STATE.get(dev)
    policy = POLICIES[dev].get(name) if st is not None and st[0] else None
    if policy is None:
        return fn(*args, **kwargs)
    dt = st[1]
    if policy == "banned":
        raise RuntimeError(_BANNED)
    if policy == "fp32_opt":
        if kwargs.get("dtype") is None and args and _eligible(args[0], dev):
            args = (_cast(args[0], float32, False),) + tuple(args[1:])
    else:
        target = dt if policy == "lower" else float32 if policy == "fp32" else _widest(args, kwargs, dev, dt)
        cache = policy == "lower" and _CACHE_ON[0]

        def cast(t):
            return _cast(t, target, cache) if _eligible(t, dev) else t
        args = tuple(_map(a, cast) for a in args)
        kwargs = {k: _map(v, cast) for k, v in kwargs.items()}
    ACTIVE[0] = False  # the op's own internals are not cast again
    try:
        return fn(*args, **kwargs)
    finally:
        ACTIVE[0] = any(s[0] for s in _STATE.values())


def wrap(fn, name):
    """``fn`` with the autocast policies of op ``name`` (a flag read when autocast is off)."""
    if getattr(fn, "_autocast_name", None) is not None:
        return fn

    @functools.wraps(fn)
    def op(*args, **kwargs):
        if not ACTIVE[0]:
            return fn(*args, **kwargs)
        return _run(fn, name, args, kwargs)
    op._autocast_name = name
    return op


_NAMES = set(POLICIES["cpu"]) | set(POLICIES["cuda"])


def install(namespace):
    """Wrap the listed ops found in a module (or a module's globals dict), aliases included: every name bound to
    the same function object as a listed name gets the one wrapper."""
    ns = namespace if isinstance(namespace, dict) else vars(namespace)
    wrapped = {}
    for name in _NAMES:
        fn = ns.get(name)
        if callable(fn) and not isinstance(fn, type) and id(fn) not in wrapped:
            wrapped[id(fn)] = wrap(fn, name)
    for key, value in list(ns.items()):
        w = wrapped.get(id(value))
        if w is not None:
            ns[key] = w
