"""``ExponentialFamily``: distributions with density h(x) exp(<theta, t(x)> - F(theta))."""
from .distribution import Distribution

__all__ = ["ExponentialFamily"]


class ExponentialFamily(Distribution):
    """Base for exponential-family distributions: subclasses give ``_natural_params``, ``_log_normalizer`` and
    ``_mean_carrier_measure``; ``entropy`` defaults to the Bregman-divergence form computed with autograd."""

    @property
    def _natural_params(self):
        raise NotImplementedError

    def _log_normalizer(self, *natural_params):
        raise NotImplementedError

    @property
    def _mean_carrier_measure(self):
        raise NotImplementedError

    def entropy(self):
        """-E[log p] = F(theta) - <theta, grad F(theta)> - E[log h(x)]."""
        from ..autograd import grad
        from ..autograd.grad_mode import enable_grad
        result = -self._mean_carrier_measure
        nparams = [p.detach().requires_grad_() for p in self._natural_params]
        with enable_grad():
            lg_normal = self._log_normalizer(*nparams)
            gradients = grad(lg_normal.sum(), nparams, create_graph=True)
        result = result + lg_normal
        for np_, g in zip(nparams, gradients):
            result = result - (np_ * g).reshape(self._batch_shape + (-1,)).sum(-1)
        return result
