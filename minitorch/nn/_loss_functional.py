"""Margin, embedding, likelihood and CTC losses of ``nn.functional`` (re-exported there).

All but ``ctc_loss`` are composites of differentiable tensor ops, so their gradients and devices come for free;
``ctc_loss`` composes the reductions around the ``ops.ctc`` primitive. Shapes and arguments are checked first,
with PyTorch's exception types, so nothing bad reaches a kernel.
"""
import math

from ..autograd.grad_mode import no_grad
from ..dtypes import int64
from ..ops.ctc import ctc_nll
from ..ops.launch import bounds, broadcast_shapes
from ..tensor import Tensor
from .functional import _check_reduction, _legacy_reduction as _legacy, _reduce, logsigmoid

__all__ = ["soft_margin_loss", "multilabel_soft_margin_loss", "multilabel_margin_loss", "multi_margin_loss",
           "triplet_margin_loss", "triplet_margin_with_distance_loss", "pairwise_distance", "cosine_embedding_loss",
           "margin_ranking_loss", "hinge_embedding_loss", "poisson_nll_loss", "gaussian_nll_loss", "ctc_loss"]


def _sizes(t):
    return list(t.shape)


def _check_long_target(target):
    if target.dtype is not int64:
        raise RuntimeError(f"expected scalar type Long but found {target.dtype.legacy}")


def _frames(input):
    """(nframe, dim) of a multi-class margin loss input: a vector or a matrix (0-d counts as one class)."""
    if input.dim() > 2 or (input.dim() == 2 and input.shape[1] == 0):
        raise RuntimeError(f"Expected non-empty vector or matrix with optional 0-dim batch size, but got: "
                           f"{_sizes(input)}")
    if input.dim() <= 1:
        return 1, (1 if input.dim() == 0 else input.shape[0])
    return input.shape[0], input.shape[1]


# ---------------------------------------------------------------------------------------------------------------
# margin losses
# ---------------------------------------------------------------------------------------------------------------
def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Two-class logistic loss log(1 + exp(-target * input)), targets in {1, -1}."""
    reduction = _legacy(size_average, reduce, reduction)
    _check_reduction(reduction)
    shape = broadcast_shapes(tuple(input.shape), tuple(target.shape))
    if shape != tuple(input.shape):
        raise RuntimeError(f"output with shape {_sizes(input)} doesn't match the broadcast shape {list(shape)}")
    return _reduce((-input * target).exp().log1p(), reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """Per-class logistic losses averaged over the classes (the last dim) of each sample."""
    reduction = _legacy(size_average, reduce, reduction)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    class_dim = input.dim() - 1
    loss = loss.sum(dim=class_dim) / input.size(class_dim)
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not valid")
    return _reduce(loss, reduction)


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Multi-class multi-label hinge loss. Each row of ``target`` lists class indices of the sample, ended by the
    first -1; every (target class j, non-target class i) pair adds max(0, 1 - (x[j] - x[i])) / C."""
    reduction = _legacy(size_average, reduce, reduction)
    _check_reduction(reduction)
    nframe, dim = _frames(input)
    _check_long_target(target)
    if input.dim() <= 1:
        ok = target.dim() <= 1 and target.numel() == dim
    else:
        ok = target.dim() == 2 and tuple(target.shape) == (nframe, dim)
    if not ok:
        raise RuntimeError(f"inconsistent target size: {_sizes(target)} for input of size: {_sizes(input)}")
    x = input.reshape(nframe, dim)
    t = target.reshape(nframe, dim)
    valid = (t == -1).to(int64).cumsum(1) == 0  # the labels before the first -1
    if t.numel():
        used = t[valid]
        if used.numel():
            lo, hi = bounds(used)
            if lo < 0 or hi >= dim:
                raise RuntimeError("argument #2 'target' is out of range")
    safe = t.masked_fill(~valid, 0)
    is_target = x.new_zeros((nframe, dim)).scatter_add(1, safe, valid.to(x.dtype)) > 0
    picked = x.gather(1, safe)
    hinge = (1 - picked.unsqueeze(2) + x.unsqueeze(1)).clamp(min=0)  # [n, j, i]
    pair = valid.unsqueeze(2) & ~is_target.unsqueeze(1)
    loss = hinge.masked_fill(~pair, 0).sum((1, 2)) / dim
    if reduction == "none":
        return loss.reshape(()) if input.dim() <= 1 else loss
    return _reduce(loss, reduction)


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None, reduce=None,
                      reduction="mean"):
    """Multi-class hinge loss: sum over i != y of max(0, margin - x[y] + x[i])^p (times weight[y]) / C."""
    reduction = _legacy(size_average, reduce, reduction)
    _check_reduction(reduction)
    if p != 1 and p != 2:
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.dim() != 1:
        raise ValueError("weight must be one-dimensional")
    nframe, dim = _frames(input)
    if target.dim() > 1 or target.numel() != nframe:
        raise RuntimeError(f"multi_margin_loss: target tensor should be 1-D with size equal to the number of input "
                           f"samples (batch size). Expected target size [{nframe}], but got {_sizes(target)}. Input "
                           f"has shape {_sizes(input)}.")
    if weight is not None and weight.numel() != dim:
        raise RuntimeError(f"inconsistent weight size, expected {dim} but got {_sizes(weight)}")
    _check_long_target(target)
    t = target.reshape(nframe)
    if nframe:
        lo, hi = bounds(t)
        if lo < 0 or hi >= dim:
            raise RuntimeError("target out of range")
    x = input.reshape(nframe, dim)
    idx = t.unsqueeze(1)
    z = (margin - x.gather(1, idx) + x).clamp(min=0)
    if p == 2:
        z = z * z
    if weight is not None:
        z = z * weight.gather(0, t).unsqueeze(1)
    own = x.new_zeros((nframe, dim), dtype=x.dtype).scatter(1, idx, 1.0) > 0
    loss = z.masked_fill(own, 0).sum(1) / dim
    if reduction == "none":
        return loss if target.dim() > 0 else loss.reshape(())
    return _reduce(loss, reduction)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """p-norm of ``x1 - x2 + eps`` over the last dimension (of the higher-dimensional operand)."""
    d = x1 - x2 + eps
    if max(x1.dim(), x2.dim()) == 0:
        return (d != 0).to(d.dtype) if p == 0 else d.abs()
    return d.norm(p, dim=max(x1.dim(), x2.dim()) - 1, keepdim=keepdim)


def _check_triplet_dims(anchor, positive, negative):
    a, p, n = anchor.dim(), positive.dim(), negative.dim()
    if not (a == p and p == n):
        raise RuntimeError(f"The anchor, positive, and negative tensors are expected to have the same number of "
                           f"dimensions, but got: anchor {a}D, positive {p}D, and negative {n}D inputs")


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False, size_average=None,
                        reduce=None, reduction="mean"):
    """max(0, margin + d(a, p) - d(a, n)) with d the pairwise p-norm distance; ``swap`` uses min(d(a, n), d(p, n))."""
    reduction = _legacy(size_average, reduce, reduction)
    _check_reduction(reduction)
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    _check_triplet_dims(anchor, positive, negative)
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        from ..ops.elementwise import minimum
        d_neg = minimum(d_neg, pairwise_distance(positive, negative, p, eps))
    return _reduce((margin + d_pos - d_neg).clamp(min=0), reduction)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None, margin=1.0, swap=False,
                                      reduction="mean"):
    """triplet_margin_loss with any distance (default ``pairwise_distance``)."""
    _check_reduction(reduction)
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    _check_triplet_dims(anchor, positive, negative)
    dist = pairwise_distance if distance_function is None else distance_function
    d_pos = dist(anchor, positive)
    d_neg = dist(anchor, negative)
    if swap:
        from ..ops.elementwise import minimum
        d_neg = minimum(d_neg, dist(positive, negative))
    return _reduce((margin + d_pos - d_neg).clamp(min=0), reduction)


def cosine_embedding_loss(input1, input2, target, margin=0, size_average=None, reduce=None, reduction="mean"):
    """1 - cos(x1, x2) where target == 1, max(0, cos(x1, x2) - margin) where target == -1, 0 elsewhere."""
    reduction = _legacy(size_average, reduce, reduction)
    _check_reduction(reduction)
    tdim = target.dim()
    if tdim not in (0, 1):
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    want = 2 if tdim == 1 else 1
    if input1.dim() != want or input2.dim() != want:
        raise RuntimeError(f"{tdim}D target tensor expects {want}D input tensors, but found inputs with sizes "
                           f"{_sizes(input1)} and {_sizes(input2)}.")
    eps = 1e-12  # keeps zero vectors from dividing by zero
    dot = (input1 * input2).sum(tdim)
    sq1 = (input1 * input1).sum(tdim) + eps
    sq2 = (input2 * input2).sum(tdim) + eps
    cos = dot / (sq1 * sq2).sqrt()
    zero = cos.new_zeros(())
    loss = (1 - cos).where(target == 1, zero) + (cos - margin).clamp(min=0).where(target == -1, zero)
    return _reduce(loss, reduction)


def margin_ranking_loss(input1, input2, target, margin=0, size_average=None, reduce=None, reduction="mean"):
    """max(0, -target * (input1 - input2) + margin)."""
    reduction = _legacy(size_average, reduce, reduction)
    _check_reduction(reduction)
    if input1.dim() != input2.dim() or input1.dim() != target.dim():
        raise RuntimeError(f"margin_ranking_loss : All input tensors should have same dimension but got sizes: "
                           f"input1: {input1.size()}, input2: {input2.size()}, target: {target.size()} ")
    return _reduce((-target * (input1 - input2) + margin).clamp(min=0), reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None, reduction="mean"):
    """input where target == 1, max(0, margin - input) where target == -1 (both terms for other targets)."""
    reduction = _legacy(size_average, reduce, reduction)
    _check_reduction(reduction)
    zero = input.new_zeros(())
    loss = (margin - input).clamp(min=0).where(target != 1, zero) + input.where(target != -1, zero)
    return _reduce(loss, reduction)


# ---------------------------------------------------------------------------------------------------------------
# likelihood losses
# ---------------------------------------------------------------------------------------------------------------
def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None,
                     reduction="mean"):
    """Poisson negative log-likelihood: exp(input) - target * input for log rates, input - target * log(input + eps)
    otherwise; ``full`` adds Stirling's approximation of log(target!) where target > 1."""
    reduction = _legacy(size_average, reduce, reduction)
    _check_reduction(reduction)
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:
        stirling = target * target.log() - target + 0.5 * (2 * math.pi * target).log()
        loss = loss + stirling.masked_fill(target <= 1, 0)
    return _reduce(loss, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """Gaussian negative log-likelihood 0.5 * (log var + (input - target)^2 / var), var clamped below at ``eps``.

    ``var`` has input's shape, or input's without the last dim, or input's with exactly one dim of size 1
    (broadcast); a float is one variance for all."""
    if isinstance(var, float):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = var * input.new_ones(input.shape)
    elif not isinstance(var, Tensor):
        raise TypeError(f"gaussian_nll_loss(): var must be a Tensor or a float, not {type(var).__name__}")
    elif bool((var < 0).any()):
        raise ValueError("var has negative entry/entries")
    if tuple(var.shape) != tuple(input.shape):
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = var.unsqueeze(-1)
        elif input.dim() == var.dim() and sum(v for i, v in zip(input.shape, var.shape) if i != v) == 1:
            pass  # one dim of size 1 in var: broadcast
        else:
            raise ValueError("var is of incorrect size")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not valid")
    # the clamp is invisible to autograd (var's gradient passes through unchanged), as in PyTorch
    var = var.clone()
    with no_grad():
        var.clamp_(min=eps)
    loss = 0.5 * (var.log() + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


# ---------------------------------------------------------------------------------------------------------------
# connectionist temporal classification
# ---------------------------------------------------------------------------------------------------------------
def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean", zero_infinity=False):
    """Connectionist temporal classification loss.

    Args:
        log_probs: (T, N, C) or unbatched (T, C) log-probabilities (e.g. from ``log_softmax(2)``).
        targets: (N, S) padded or 1-D concatenated target sequences; never the blank.
        input_lengths, target_lengths: (N,) integer tensors, or tuples/lists of ints.
        blank: the blank class. reduction: 'none' | 'mean' (each loss divided by its target length, then the
            batch mean) | 'sum'. zero_infinity: impossible alignments give a zero loss and gradient.
    """
    _check_reduction(reduction)
    # anything but (T, N, C) is taken as one unbatched sequence (T, C) (other ranks fail the 3-D check after);
    # its targets keep their form: 1-D targets read as the concatenated layout
    unbatched = isinstance(log_probs, Tensor) and log_probs.dim() != 3
    if unbatched:
        log_probs = log_probs.unsqueeze(1)
    nll = ctc_nll(log_probs, targets, input_lengths, target_lengths, blank, zero_infinity)
    if zero_infinity:
        nll = nll.where(nll != math.inf, nll.new_zeros(()))
    if reduction == "mean":
        if isinstance(target_lengths, Tensor):
            lengths = target_lengths.reshape(-1).to(device=nll.device, dtype=nll.dtype)
        else:
            from ..creation import tensor
            lengths = tensor([float(v) for v in target_lengths], dtype=nll.dtype, device=nll.device)
        return (nll / lengths.clamp(min=1)).mean()
    if reduction == "sum":
        return nll.sum()
    return nll.reshape(()) if unbatched else nll
