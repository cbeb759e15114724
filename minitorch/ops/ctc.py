"""Connectionist temporal classification: the per-sequence negative log-likelihood as one differentiable node.

``ctc_nll`` validates everything the kernels would otherwise read out of bounds (lengths, target values, blank)
and returns the (N,) losses; reductions, ``zero_infinity`` masking of the loss and unbatched inputs are composed
on top of it by ``nn.functional.ctc_loss``.
"""
import numpy as np

from ..autograd.function import Function
from ..autograd.grad_mode import _state
from ..dtypes import int64
from ..tensor import Tensor
from . import launch


def _flat(t):
    return t._storage[t._offset:t._offset + t.numel()]


def _lengths(v, name):
    """input_lengths / target_lengths (a tensor, or a tuple/list of ints) as a host int64 array."""
    if isinstance(v, Tensor):
        if v._dtype.is_floating_point or v._dtype.is_complex:
            raise RuntimeError(f"{name} must be integral")
        return np.asarray(launch.to_numpy(v), dtype=np.int64).reshape(-1)
    return np.asarray([int(x) for x in v], dtype=np.int64).reshape(-1)


class CTCLoss(Function):
    """(T, N, C) log-probabilities -> (N,) negative log-likelihoods of the targets, by the alpha recursion forward
    and the beta recursion backward, in log space."""

    @staticmethod
    @launch.half_compute()
    def forward(ctx, log_probs, targets, tg_off, in_len, tg_len, S_max, blank, zero_infinity):
        T, N, C = log_probs._shape
        lp = log_probs if log_probs._contig else launch.contiguous(log_probs)
        L = 2 * S_max + 1
        log_alpha = launch.empty((N, T, L), lp._dtype, lp._device)
        nll = launch.empty((N,), lp._dtype, lp._device)
        launch._k(lp).ctc.ctc_loss(_flat(lp), targets._storage, tg_off, in_len, tg_len, blank, T, N, C, L,
                                   log_alpha._storage, nll._storage)
        if ctx.needs_input_grad[0]:
            ctx.save_for_backward(lp, log_alpha, nll)
            ctx.args = (targets, tg_off, in_len, tg_len, blank, L, zero_infinity)
        return nll

    @staticmethod
    @launch.half_compute()
    def backward(ctx, g):
        if _state.enabled:
            raise RuntimeError("double backward (create_graph=True) through ctc_loss is not supported; PyTorch "
                               "does not implement it either")
        lp, log_alpha, nll = ctx.saved_tensors
        targets, tg_off, in_len, tg_len, blank, L, zero_infinity = ctx.args
        T, N, C = lp._shape
        g = g if g._contig else launch.contiguous(g)
        log_beta = launch.empty((N, T, L), lp._dtype, lp._device)
        grad = launch.empty((T, N, C), lp._dtype, lp._device)
        launch._k(lp).ctc.ctc_loss_backward(_flat(lp), targets._storage, tg_off, in_len, tg_len, blank, T, N, C, L,
                                            log_alpha._storage, nll._storage, _flat(g), bool(zero_infinity),
                                            log_beta._storage, grad._storage)
        return grad, None, None, None, None, None, None, None


def ctc_nll(log_probs, targets, input_lengths, target_lengths, blank=0, zero_infinity=False):
    """Per-sequence CTC losses (N,) for log_probs (T, N, C); targets padded (N, S) or concatenated (sum of
    target_lengths,); lengths as integer tensors or sequences of ints."""
    if not isinstance(log_probs, Tensor) or not isinstance(targets, Tensor):
        raise TypeError("ctc_loss(): log_probs and targets must be Tensors")
    if isinstance(input_lengths, Tensor) != isinstance(target_lengths, Tensor):
        raise TypeError("ctc_loss(): input_lengths and target_lengths must both be Tensors or both be tuples of "
                        f"ints, but got {type(input_lengths).__name__} and {type(target_lengths).__name__}")
    if not log_probs._dtype.is_floating_point or log_probs._dtype._half:  # PyTorch's kernels: float32/float64
        raise NotImplementedError(f"\"ctc_loss_{log_probs._device.type}\" not implemented for "
                                  f"'{log_probs._dtype.legacy}'")
    if log_probs.dim() != 3:
        raise RuntimeError(f"Expected 3-dimensional tensor, but got {log_probs.dim()}-dimensional tensor for "
                           "argument #1 'log_probs'")
    T, N, C = log_probs._shape
    if not 0 <= blank < C:
        raise RuntimeError("blank must be in label range")
    in_len = _lengths(input_lengths, "input_lengths")
    tg_len = _lengths(target_lengths, "target_lengths")
    if in_len.shape[0] != N:
        raise RuntimeError("input_lengths must be of size batch_size")
    if tg_len.shape[0] != N:
        raise RuntimeError("target_lengths must be of size batch_size")
    for name, arr, hi in (("input_lengths", in_len, T), ("target_lengths", tg_len, None)):
        if N and arr.min() < 0:
            raise RuntimeError(f"Expected {name} to have value at least 0, but got value {int(arr.min())}")
        if hi is not None and N and arr.max() > hi:
            raise RuntimeError(f"Expected {name} to have value at most {hi}, but got value {int(arr.max())}")
    if targets.dim() not in (1, 2):
        raise RuntimeError(f"Expected 1 to 2 dimensions, but got {targets.dim()}-dimensional tensor for argument "
                           "#2 'targets'")
    if targets._dtype.is_complex:
        raise RuntimeError("ctc_loss(): targets must hold integer class indices")
    if targets._dtype is not int64:
        targets = targets.to(int64)
    if targets._device != log_probs._device:
        targets = targets.to(log_probs._device)  # a small int tensor; PyTorch also takes CPU targets for CUDA
    targets = targets if targets._contig else launch.contiguous(targets)
    S_max = int(tg_len.max()) if N else 0
    if targets.dim() == 2:
        if targets._shape[0] < N and N:
            raise RuntimeError(f"Expected tensor to have size at least {N} at dimension 0, but got size "
                               f"{targets._shape[0]} for argument #2 'targets'")
        if S_max > targets._shape[1]:
            raise RuntimeError(f"Expected tensor to have size at least {S_max} at dimension 1, but got size "
                               f"{targets._shape[1]} for argument #2 'targets'")
        tg_off = targets._offset + np.arange(N, dtype=np.int64) * targets._stride[0]
        # only the first target_lengths[n] entries of row n are labels; the padding may hold anything
        host = launch.to_numpy(targets)[:N, :S_max]
        used = host[np.arange(S_max)[None, :] < tg_len[:, None]]
    else:
        total = int(tg_len.sum())
        if targets._shape[0] != total:
            raise RuntimeError(f"Expected tensor to have size {total} at dimension 0, but got size "
                               f"{targets._shape[0]} for argument #2 'targets'")
        tg_off = targets._offset + np.concatenate(([0], np.cumsum(tg_len)[:-1])).astype(np.int64) if N else \
            np.zeros(0, np.int64)
        used = launch.to_numpy(targets)
    if used.size:
        lo, hi = int(used.min()), int(used.max())
        if lo < 0 or hi >= C:
            raise RuntimeError(f"ctc_loss(): target {hi if hi >= C else lo} is out of range for {C} classes "
                               f"(expected a value in [0, {C}))")
    return CTCLoss.apply(log_probs, targets, tg_off, in_len, tg_len, S_max, blank, zero_infinity)
