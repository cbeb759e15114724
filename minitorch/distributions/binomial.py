"""``Binomial``: the number of successes in ``total_count`` independent trials with success probability ``probs``."""
from ..autograd.grad_mode import no_grad
from ..creation import arange, rand
from ..ops.special import lgamma
from ..tensor import Size, Tensor
from . import constraints
from .distribution import Distribution
from .utils import _softplus, broadcast_all, lazy_property, logits_to_probs, probs_to_logits

__all__ = ["Binomial"]


class Binomial(Distribution):
    """Binomial(total_count=1, probs=None, logits=None): exactly one of ``probs`` and ``logits``; ``total_count``
    is a number or a tensor broadcastable with it."""

    arg_constraints = {"total_count": constraints.nonnegative_integer, "probs": constraints.unit_interval,
                       "logits": constraints.real}
    has_enumerate_support = True

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            self.total_count, self.probs = broadcast_all(total_count, probs)
            self.total_count = self.total_count.type_as(self.probs)
        else:
            self.total_count, self.logits = broadcast_all(total_count, logits)
            self.total_count = self.total_count.type_as(self.logits)
        self._param = self.probs if probs is not None else self.logits
        super().__init__(self._param.size(), validate_args=validate_args)

    def _expand_params(self):
        return [n for n in ("total_count", "probs", "logits") if n in self.__dict__]

    def expand(self, batch_shape, _instance=None):
        new = super().expand(batch_shape, _instance)
        new._param = new.__dict__["probs"] if "probs" in new.__dict__ else new.__dict__["logits"]
        return new

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self):
        return constraints.integer_interval(0, self.total_count)

    @property
    def mean(self):
        return self.total_count * self.probs

    @property
    def mode(self):
        return ((self.total_count + 1) * self.probs).floor().clamp(max=self.total_count)

    @property
    def variance(self):
        return self.total_count * self.probs * (1 - self.probs)

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self):
        return logits_to_probs(self.logits, is_binary=True)

    @property
    def param_shape(self):
        return self._param.size()

    def sample(self, sample_shape=Size()):
        """Counts of uniforms below ``probs`` over max(total_count) trials, the trials past each element's own count
        masked off (so the cost grows with the largest count)."""
        shape = self._extended_shape(sample_shape)
        with no_grad():
            n_max = int(self.total_count.max().item()) if self.total_count.numel() else 0
            p = self.probs.expand(shape).unsqueeze(-1)
            n = self.total_count.expand(shape).unsqueeze(-1)
            trials = arange(n_max, dtype=p.dtype, device=p.device)
            u = rand(tuple(shape) + (n_max,), dtype=p.dtype, device=p.device)
            return ((u < p) & (trials < n)).to(p.dtype).sum(-1)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        n = self.total_count
        log_factorial_n = lgamma(n + 1)
        log_factorial_k = lgamma(value + 1)
        log_factorial_nmk = lgamma(n - value + 1)
        # n log(1 + exp(logits)) written so that logits of +-inf stay finite where the count is 0
        normalize_term = n * _softplus(self.logits) - log_factorial_n
        value_logits = value * self.logits
        value_logits = value_logits.masked_fill((value == 0) & self.logits.isinf(), 0.0) \
            if isinstance(value, Tensor) else value_logits
        return value_logits - log_factorial_k - log_factorial_nmk - normalize_term

    def entropy(self):
        total_count = int(self.total_count.max().item())
        if not (self.total_count == total_count).all():
            raise NotImplementedError("Inhomogeneous total count not supported by `entropy`.")
        log_prob = self.log_prob(self.enumerate_support(False))
        return -(log_prob.exp() * log_prob).sum(0)

    def enumerate_support(self, expand=True):
        total_count = int(self.total_count.max().item())
        if not (self.total_count == total_count).all():
            raise NotImplementedError("Inhomogeneous total count not supported by `enumerate_support`.")
        values = arange(1 + total_count, dtype=self._param.dtype, device=self._param.device)
        values = values.view((-1,) + (1,) * len(self._batch_shape))
        if expand:
            values = values.expand((-1,) + tuple(self._batch_shape))
        return values


