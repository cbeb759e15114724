"""Helpers shared by the distributions: broadcasting parameters, probability/logit conversions, lazy properties."""
from numbers import Number

from ..creation import tensor as _tensor
from ..dtypes import finfo, get_default_dtype
from ..ops.shape import broadcast_tensors
from ..tensor import Tensor

__all__ = ["broadcast_all", "clamp_probs", "logits_to_probs", "probs_to_logits", "lazy_property", "euler_constant"]

euler_constant = 0.57721566490153286060  # Euler-Mascheroni


def broadcast_all(*values):
    """Broadcast tensors and numbers together; numbers become tensors of the tensors' dtype and device (or of the
    default dtype when all are numbers)."""
    if not all(isinstance(v, (Tensor, Number)) for v in values):
        raise ValueError("Input arguments must all be instances of numbers.Number, torch.Tensor or objects "
                         "implementing __torch_function__.")
    ref = next((v for v in values if isinstance(v, Tensor)), None)
    if ref is None:
        dt = get_default_dtype()
        return broadcast_tensors(*(_tensor(float(v), dtype=dt) for v in values))
    values = [v if isinstance(v, Tensor) else _tensor(v, dtype=ref.dtype, device=ref.device) for v in values]
    return broadcast_tensors(*values)


def _sum_rightmost(value, dim):
    """Sum out the ``dim`` rightmost dims of ``value``."""
    if dim == 0:
        return value
    return value.reshape(value.shape[:-dim] + (-1,)).sum(-1)


def clamp_probs(probs):
    """Probabilities clamped to [eps, 1 - eps] of their dtype, so logarithms stay finite."""
    eps = finfo(probs.dtype).eps
    return probs.clamp(min=eps, max=1 - eps)


def logits_to_probs(logits, is_binary=False):
    """Sigmoid of binary logits, softmax of categorical ones along the last dim."""
    if is_binary:
        return logits.sigmoid()
    return logits.softmax(-1)


def probs_to_logits(probs, is_binary=False):
    """log(p) - log(1 - p) for binary probabilities, log(p) for categorical ones (clamped first)."""
    ps_clamped = clamp_probs(probs)
    if is_binary:
        return ps_clamped.log() - (-ps_clamped).log1p()
    return ps_clamped.log()


def _softplus(x):
    """log(1 + exp(x)) without overflow, with the exact gradient sigmoid(x) everywhere (also at 0, where the
    max(x, 0) + log1p(exp(-|x|)) form would give 1); each branch only sees inputs where its exp cannot overflow."""
    pos = x + (-x.clamp(min=0)).exp().log1p()
    neg = x.clamp(max=0).exp().log1p()
    return pos.where(x > 0, neg)


class lazy_property:
    """A property computed on first access and then stored on the instance (under the same name)."""

    def __init__(self, wrapped):
        self.wrapped = wrapped
        self.__doc__ = wrapped.__doc__
        self.__name__ = wrapped.__name__

    def __get__(self, instance, obj_type=None):
        if instance is None:
            return _lazy_property_and_property(self.wrapped)
        from ..autograd.grad_mode import enable_grad
        with enable_grad():
            value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value


class _lazy_property_and_property(lazy_property, property):
    """What ``Class.attr`` gives for a lazy property: a property too, so documentation tools see one."""

    def __init__(self, wrapped):
        property.__init__(self, wrapped)
        lazy_property.__init__(self, wrapped)
