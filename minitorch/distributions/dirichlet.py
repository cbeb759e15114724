"""``Dirichlet``: distributions over the probability simplex with a concentration vector."""
from ..dtypes import finfo
from ..ops.composite import xlogy
from ..ops.special import _sample_dirichlet, digamma, lgamma
from . import constraints
from .exp_family import ExponentialFamily

__all__ = ["Dirichlet"]


class Dirichlet(ExponentialFamily):
    """Dirichlet(concentration): density prod x_i^(c_i - 1) / B(c) on the simplex (the last dim is the event).

    ``rsample`` normalises gamma draws; its gradient in the concentration is PyTorch's pathwise formula (each
    coordinate's implicit reparameterisation through its Beta(alpha_i, sum - alpha_i) marginal, see
    ``minitorch._dirichlet_grad``), evaluated to ~1e-7 where PyTorch uses a coarser approximation."""

    arg_constraints = {"concentration": constraints.independent(constraints.positive, 1)}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, concentration, validate_args=None):
        if concentration.dim() < 1:
            raise ValueError("`concentration` parameter must be at least one-dimensional.")
        self.concentration = concentration
        batch_shape, event_shape = concentration.shape[:-1], concentration.shape[-1:]
        super().__init__(batch_shape, event_shape, validate_args=validate_args)

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        x = _sample_dirichlet(self.concentration.expand(shape))
        tiny = finfo(x.dtype).tiny
        return x.clamp(min=tiny, max=1 - finfo(x.dtype).eps)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        c = self.concentration
        return xlogy(c - 1.0, value).sum(-1) + lgamma(c.sum(-1)) - lgamma(c).sum(-1)

    @property
    def mean(self):
        return self.concentration / self.concentration.sum(-1, True)

    @property
    def mode(self):
        cm1 = (self.concentration - 1).clamp(min=0.0)
        mode = cm1 / cm1.sum(-1, True)
        # all concentrations below 1: the density peaks at the vertex of the largest one
        from ..nn.functional import one_hot
        vertex = one_hot(mode.argmax(-1), cm1.shape[-1]).to(mode.dtype)
        below = (self.concentration < 1).all(-1, keepdim=True)
        return vertex.where(below, mode)

    @property
    def variance(self):
        con0 = self.concentration.sum(-1, True)
        return self.concentration * (con0 - self.concentration) / (con0.pow(2) * (con0 + 1))

    def entropy(self):
        c = self.concentration
        k = c.size(-1)
        a0 = c.sum(-1)
        return lgamma(c).sum(-1) - lgamma(a0) - (k - a0) * digamma(a0) - ((c - 1.0) * digamma(c)).sum(-1)

    @property
    def _natural_params(self):
        return (self.concentration,)

    def _log_normalizer(self, x):
        return lgamma(x).sum(-1) - lgamma(x.sum(-1))


