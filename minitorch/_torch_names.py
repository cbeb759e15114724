"""Names in PyTorch's top-level namespace that programs reach for and that are thin forms of what minitorch has
elsewhere: constants (``pi``, ``inf`` ...), the ATen-level forms of ``nn.functional`` ops (``torch.dropout(x, p,
train)``, ``torch.layer_norm``, losses taking ``reduction`` as an int: 1 mean, 2 sum, else none, the default),
signal windows, ``unravel_index``, ``cond``, memory formats and layouts, and process settings (matmul precision,
deterministic algorithms, interop threads, warn-always).

Settings that select among kernels in PyTorch are recorded and reported here: minitorch has one float32 matmul
(full precision, whatever ``set_float32_matmul_precision`` says) and its CPU kernels are deterministic for a fixed
thread count (prange splits are static), so ``use_deterministic_algorithms(True)`` changes nothing on the CPU; the
CUDA kernels that add with atomics (index_add, scatter_add, embedding's backward) do not check it.
"""
import math

import numpy as np

pi = math.pi
e = math.e
inf = math.inf
nan = math.nan
newaxis = None

__all__ = ["pi", "e", "inf", "nan", "newaxis", "dropout", "alpha_dropout", "feature_alpha_dropout", "layer_norm",
           "batch_norm", "group_norm", "instance_norm", "embedding", "selu", "celu", "rrelu", "threshold", "prelu",
           "hardshrink", "cosine_similarity", "pairwise_distance", "pdist", "bilinear", "max_pool1d", "max_pool2d",
           "max_pool3d", "avg_pool1d", "adaptive_avg_pool1d", "adaptive_max_pool1d", "kl_div",
           "binary_cross_entropy_with_logits", "cosine_embedding_loss", "margin_ranking_loss",
           "hinge_embedding_loss", "triplet_margin_loss", "poisson_nll_loss", "ctc_loss", "rms_norm",
           "is_same_size", "is_signed", "is_complex", "is_inference", "is_inference_mode_enabled", "typename",
           "unravel_index", "hann_window", "hamming_window", "blackman_window", "bartlett_window", "kaiser_window",
           "cond", "memory_format", "contiguous_format", "channels_last", "channels_last_3d", "preserve_format",
           "layout", "strided", "sparse_coo", "spmm", "sparse_coo_tensor", "set_float32_matmul_precision", "get_float32_matmul_precision",
           "use_deterministic_algorithms", "are_deterministic_algorithms_enabled",
           "is_deterministic_algorithms_warn_only_enabled", "set_deterministic_debug_mode",
           "get_deterministic_debug_mode", "set_num_interop_threads", "get_num_interop_threads", "set_warn_always",
           "is_warn_always_enabled"]


def _F():
    from .nn import functional
    return functional


def _reduction(r):
    """An int reduction as PyTorch's torch.* losses read it: 1 mean, 2 sum, anything else none (their default)."""
    return {1: "mean", 2: "sum"}.get(r, "none")


def _reduce(loss, r):
    r = _reduction(r)
    return loss if r == "none" else loss.mean() if r == "mean" else loss.sum()


# ---------------------------------------------------------------------------------------------------------------
# ATen-level forms of nn.functional ops (positional arguments as PyTorch's torch.* functions take them)
# ---------------------------------------------------------------------------------------------------------------
def dropout(input, p, train):
    return _F().dropout(input, p, train)


def alpha_dropout(input, p, train):
    return _F().alpha_dropout(input, p, train)


def feature_alpha_dropout(input, p, train):
    return _F().feature_alpha_dropout(input, p, train)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5, cudnn_enable=True):
    return _F().layer_norm(input, normalized_shape, weight, bias, eps)


def batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps, cudnn_enabled):
    return _F().batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5, cudnn_enabled=True):
    return _F().group_norm(input, num_groups, weight, bias, eps)


def instance_norm(input, weight, bias, running_mean, running_var, use_input_stats, momentum, eps, cudnn_enabled):
    return _F().instance_norm(input, running_mean, running_var, weight, bias, use_input_stats, momentum, eps)


def embedding(weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False):
    """``torch.embedding(weight, indices)``: the weight first; a negative padding_idx means none."""
    return _F().embedding(indices, weight, padding_idx if padding_idx >= 0 else None,
                          scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)


def selu(input):
    return _F().selu(input)


def celu(input, alpha=1.0):
    return _F().celu(input, alpha)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, generator=None):
    return _F().rrelu(input, lower, upper, training)


def threshold(input, threshold, value):
    return _F().threshold(input, threshold, value)


def prelu(input, weight):
    return _F().prelu(input, weight)


def hardshrink(input, lambd=0.5):
    return _F().hardshrink(input, lambd)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    return _F().cosine_similarity(x1, x2, dim, eps)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    return _F().pairwise_distance(x1, x2, p, eps, keepdim)


def pdist(input, p=2):
    return _F().pdist(input, p)


def bilinear(input1, input2, weight, bias=None):
    return _F().bilinear(input1, input2, weight, bias)


def max_pool1d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    return _F().max_pool1d(input, kernel_size, stride or None, padding, dilation, ceil_mode)


def max_pool2d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    return _F().max_pool2d(input, kernel_size, stride or None, padding, dilation, ceil_mode)


def max_pool3d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    return _F().max_pool3d(input, kernel_size, stride or None, padding, dilation, ceil_mode)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    return _F().avg_pool1d(input, kernel_size, stride, padding, ceil_mode, count_include_pad)


def adaptive_avg_pool1d(input, output_size):
    return _F().adaptive_avg_pool1d(input, output_size)


def adaptive_max_pool1d(input, output_size):
    """(values, indices), as ``torch.adaptive_max_pool1d`` always returns both."""
    return _F().adaptive_max_pool1d(input, output_size, return_indices=True)


def kl_div(input, target, reduction=0, *, log_target=False):
    """Pointwise KL divergence reduced by an int (1: the mean over every element, without F.kl_div's warning;
    none by default)."""
    return _reduce(_F().kl_div(input, target, reduction="none", log_target=log_target), reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, pos_weight=None, reduction=0):
    return _F().binary_cross_entropy_with_logits(input, target, weight, reduction=_reduction(reduction),
                                                 pos_weight=pos_weight)


def cosine_embedding_loss(input1, input2, target, margin=0.0, reduction=0):
    return _F().cosine_embedding_loss(input1, input2, target, margin, reduction=_reduction(reduction))


def margin_ranking_loss(input1, input2, target, margin=0.0, reduction=0):
    return _F().margin_ranking_loss(input1, input2, target, margin, reduction=_reduction(reduction))


def hinge_embedding_loss(input, target, margin=1.0, reduction=0):
    return _F().hinge_embedding_loss(input, target, margin, reduction=_reduction(reduction))


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2.0, eps=1e-6, swap=False, reduction=0):
    return _F().triplet_margin_loss(anchor, positive, negative, margin, p, eps, swap, reduction=_reduction(reduction))


def poisson_nll_loss(input, target, log_input, full, eps, reduction):
    return _F().poisson_nll_loss(input, target, log_input, full, eps=eps, reduction=_reduction(reduction))


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction=0, zero_infinity=False):
    return _F().ctc_loss(log_probs, targets, input_lengths, target_lengths, blank, _reduction(reduction),
                         zero_infinity)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    return _F().rms_norm(input, normalized_shape, weight, eps)


# ---------------------------------------------------------------------------------------------------------------
# predicates and small utilities
# ---------------------------------------------------------------------------------------------------------------
def is_same_size(input, other):
    return tuple(input.shape) == tuple(other.shape)


def is_signed(input):
    return input.is_signed()


def is_complex(input):
    return input.is_complex()


def is_inference(input):
    return input.is_inference()


def is_inference_mode_enabled():
    """Whether an ``inference_mode()`` block is active."""
    from .autograd.grad_mode import _state
    return _state.inference


def typename(obj):
    """'torch.FloatTensor' for a tensor (as ``Tensor.type()``), else the object's class as module.QualName."""
    from .tensor import Tensor
    if isinstance(obj, Tensor):
        return obj.type()
    cls = obj if isinstance(obj, type) else type(obj)
    module = cls.__module__
    return cls.__qualname__ if module in (None, "builtins") else f"{module}.{cls.__qualname__}"


def unravel_index(indices, shape):
    """The coordinates of flat ``indices`` in a tensor of ``shape``: a tuple of int64 tensors."""
    from .creation import as_tensor
    from .dtypes import int64
    from .tensor import Tensor
    if not isinstance(indices, Tensor):
        raise TypeError(f"expected 'indices' to be a tensor, but got {type(indices).__name__}")
    if indices.dtype.is_floating_point or indices.dtype.name == "bool":
        raise TypeError("expected 'indices' to be an integer tensor, but got " + str(indices.dtype))
    shape = (shape,) if isinstance(shape, int) else tuple(int(s) for s in shape)
    if any(s < 0 for s in shape):
        raise ValueError("'shape' cannot have negative values, but got " + str(shape))
    total = math.prod(shape)
    flat = as_tensor(indices, dtype=int64)
    if flat.numel() and (bool((flat < -total).any()) or bool((flat >= total).any())):
        raise RuntimeError("'indices' must be in range [-{0}, {1})".format(total, total - 1 + 1))
    flat = flat % total if total else flat
    out = []
    for s in reversed(shape):
        out.append(flat % s)
        flat = flat.div(s, rounding_mode="floor")
    return tuple(reversed(out))


def cond(pred, true_fn, false_fn, operands=()):
    """``true_fn(*operands)`` if ``pred`` (a bool or a one-element tensor) else ``false_fn(*operands)``. Inside a
    compiled call the branch taken is a guard of the graph, also with ``fullgraph=True`` (the other branch is
    captured as a graph of its own the first time it is taken)."""
    from .tensor import Tensor
    if not isinstance(operands, (tuple, list)):
        raise RuntimeError(f"Expect operands to be a tuple of possibly nested dict/list/tuple that only consists of "
                           f"tensor leaves, but got {operands}.")
    if isinstance(pred, Tensor) and pred.numel() != 1:
        raise RuntimeError(f"Expected pred to be bool or single-element tensor, but got {pred}.")
    from .compiler.capture import cond_predicate
    return (true_fn if cond_predicate(pred) else false_fn)(*operands)


# ---------------------------------------------------------------------------------------------------------------
# signal windows (computed in float64, returned in the default dtype or ``dtype``)
# ---------------------------------------------------------------------------------------------------------------
def _window(name, window_length, periodic, values, dtype, device, requires_grad):
    from .creation import tensor
    from .dtypes import get_default_dtype
    if window_length < 0:
        raise RuntimeError(f"{name} requires non-negative window length, got window_length={window_length}")
    dtype = dtype or get_default_dtype()
    if not dtype.is_floating_point:
        raise RuntimeError(f"{name} expects floating point dtypes, got: {dtype}")
    if window_length <= 1:
        out = np.ones(window_length)
    else:
        n = window_length + 1 if periodic else window_length
        out = values(np.arange(n, dtype=np.float64), n - 1)[:window_length]
    return tensor(out, dtype=dtype, device=device, requires_grad=requires_grad)


def hann_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, requires_grad=False):
    return _window("hann_window", window_length, periodic, lambda k, N: 0.5 - 0.5 * np.cos(2 * np.pi * k / N),
                   dtype, device, requires_grad)


def hamming_window(window_length, periodic=True, alpha=0.54, beta=0.46, *, dtype=None, layout=None, device=None,
                   requires_grad=False):
    return _window("hamming_window", window_length, periodic,
                   lambda k, N: alpha - beta * np.cos(2 * np.pi * k / N), dtype, device, requires_grad)


def blackman_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, requires_grad=False):
    return _window("blackman_window", window_length, periodic,
                   lambda k, N: 0.42 - 0.5 * np.cos(2 * np.pi * k / N) + 0.08 * np.cos(4 * np.pi * k / N),
                   dtype, device, requires_grad)


def bartlett_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, requires_grad=False):
    return _window("bartlett_window", window_length, periodic, lambda k, N: 1 - np.abs(2 * k / N - 1), dtype,
                   device, requires_grad)


def kaiser_window(window_length, periodic=True, beta=12.0, *, dtype=None, layout=None, device=None,
                  requires_grad=False):
    return _window("kaiser_window", window_length, periodic,
                   lambda k, N: np.i0(beta * np.sqrt(np.maximum(0.0, 1 - ((k - N / 2) / (N / 2)) ** 2))) / np.i0(beta),
                   dtype, device, requires_grad)


# ---------------------------------------------------------------------------------------------------------------
# memory formats and layouts: names programs pass; minitorch keeps its own (row-major) layout for results
# ---------------------------------------------------------------------------------------------------------------
class memory_format:  # noqa: N801  (PyTorch's name)
    def __init__(self, name):
        self._name = name

    def __repr__(self):
        return "torch." + self._name

    def __reduce__(self):
        return self._name


contiguous_format = memory_format("contiguous_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")
preserve_format = memory_format("preserve_format")


class layout:  # noqa: N801
    def __init__(self, name):
        self._name = name

    def __repr__(self):
        return "torch." + self._name

    def __reduce__(self):
        return self._name


strided = layout("strided")
sparse_coo = layout("sparse_coo")


def spmm(input, mat2):
    """``input @ mat2`` with a sparse COO ``input`` (any layouts work, as in PyTorch)."""
    from .sparse import mm
    return mm(input, mat2)


def sparse_coo_tensor(indices, values, size=None, *, dtype=None, device=None, pin_memory=False, requires_grad=False,
                      check_invariants=None, is_coalesced=None):
    """See ``minitorch.sparse.coo.sparse_coo_tensor``."""
    from .sparse.coo import sparse_coo_tensor as make
    return make(indices, values, size, dtype=dtype, device=device, requires_grad=requires_grad,
                is_coalesced=is_coalesced)


# ---------------------------------------------------------------------------------------------------------------
# process settings
# ---------------------------------------------------------------------------------------------------------------
_SETTINGS = {"matmul_precision": "highest", "deterministic": False, "warn_only": False, "interop": None,
             "warn_always": False}


def set_float32_matmul_precision(precision):
    """Recorded ('highest', 'high' or 'medium'; anything else warns and changes nothing, as in PyTorch):
    minitorch's float32 matmul is always full precision."""
    if precision not in ("highest", "high", "medium"):
        import warnings
        warnings.warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the current "
                      "setFloat32MatmulPrecision call has no effect.", UserWarning, stacklevel=2)
        return
    _SETTINGS["matmul_precision"] = precision


def get_float32_matmul_precision():
    return _SETTINGS["matmul_precision"]


def use_deterministic_algorithms(mode, *, warn_only=False):
    """Recorded (see the module's docstring for what it means here)."""
    if not isinstance(mode, bool):
        raise RuntimeError(f"use_deterministic_algorithms expects a bool, but got {type(mode).__name__}")
    _SETTINGS["deterministic"] = mode
    _SETTINGS["warn_only"] = bool(warn_only) and mode


def are_deterministic_algorithms_enabled():
    return _SETTINGS["deterministic"]


def is_deterministic_algorithms_warn_only_enabled():
    return _SETTINGS["warn_only"]


def set_deterministic_debug_mode(debug_mode):
    """0/'default', 1/'warn', 2/'error': ``use_deterministic_algorithms`` off, on with warn_only, on."""
    names = {"default": 0, "warn": 1, "error": 2}
    if isinstance(debug_mode, str):
        if debug_mode not in names:
            raise RuntimeError("invalid value of debug_mode, expected one of `default`, `warn`, `error`, but got "
                               + debug_mode)
        debug_mode = names[debug_mode]
    if debug_mode not in (0, 1, 2):
        raise RuntimeError(f"invalid value of debug_mode, expected 0, 1, or 2, but got {debug_mode}")
    use_deterministic_algorithms(debug_mode > 0, warn_only=debug_mode == 1)


def get_deterministic_debug_mode():
    if not _SETTINGS["deterministic"]:
        return 0
    return 1 if _SETTINGS["warn_only"] else 2


def set_num_interop_threads(n):
    """Recorded: minitorch runs no inter-op thread pool (ops run one after another on the calling thread)."""
    if not isinstance(n, int) or n <= 0:
        raise RuntimeError("Expected positive number of threads")
    _SETTINGS["interop"] = n


def get_num_interop_threads():
    import os
    return _SETTINGS["interop"] or os.cpu_count() or 1


def set_warn_always(b):
    _SETTINGS["warn_always"] = bool(b)


def is_warn_always_enabled():
    return _SETTINGS["warn_always"]
