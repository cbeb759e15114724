"""Adamax: Adam with the infinity norm in place of the second moment."""
from ..creation import zeros_like
from . import _functional as F
from ._base import BETAS, EPS, LR, WEIGHT_DECAY, _StatefulOptimizer, new_step

__all__ = ["Adamax", "adamax"]

adamax = F.adamax


class Adamax(_StatefulOptimizer):
    """Adamax with PyTorch's update rule::

        g = ±grad (+ weight_decay * p);  m = lerp(m, g, 1 - beta1);  u = max(beta2 * u, |g| + eps)
        p -= lr / (1 - beta1^t) * m / u

    Args:
        params: parameters or parameter groups.
        lr: learning rate (default 2e-3).
        betas: coefficients of the running average and of the infinity norm (default (0.9, 0.999)).
        eps: added to |g| (default 1e-8).
        weight_decay: L2 penalty (default 0).
        maximize: ascend the objective.

    State per parameter: ``step``, ``exp_avg``, ``exp_inf``.
    """

    _checks = (LR, EPS) + BETAS + (WEIGHT_DECAY,)

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, foreach=None, *,
                 maximize=False, differentiable=False, capturable=False):
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                                  "foreach": foreach, "maximize": maximize, "differentiable": differentiable,
                                  "capturable": capturable})

    def _init_state(self, p, group):
        return {"step": new_step(), "exp_avg": zeros_like(p), "exp_inf": zeros_like(p)}

    def _update(self, group, params, grads):
        states = self._states(group, params)
        beta1, beta2 = group["betas"]
        F.adamax(params, grads, [s["exp_avg"] for s in states], [s["exp_inf"] for s in states],
                 [s["step"] for s in states], eps=group["eps"], beta1=beta1, beta2=beta2, lr=group["lr"],
                 weight_decay=group["weight_decay"], maximize=group["maximize"])
