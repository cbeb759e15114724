"""Adadelta."""
from ..creation import zeros_like
from . import _functional as F
from ._base import EPS, LR, WEIGHT_DECAY, _StatefulOptimizer, new_step

__all__ = ["Adadelta", "adadelta"]

adadelta = F.adadelta


class Adadelta(_StatefulOptimizer):
    """Adadelta with PyTorch's update rule::

        g = ±grad (+ weight_decay * p);  sq = rho * sq + (1 - rho) * g * g
        delta = sqrt(acc + eps) / sqrt(sq + eps) * g;  acc = rho * acc + (1 - rho) * delta * delta;  p -= lr * delta

    Args:
        params: parameters or parameter groups.
        lr: scale of the update (default 1.0).
        rho: running-average coefficient (default 0.9).
        eps: term inside the square roots (default 1e-6).
        weight_decay: L2 penalty (default 0).
        maximize: ascend the objective.
    """

    _checks = (LR, ((lambda d: 0.0 <= d["rho"] <= 1.0), "Invalid rho value: {rho}"), EPS, WEIGHT_DECAY)

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *, capturable=False,
                 maximize=False, differentiable=False):
        super().__init__(params, {"lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay,
                                  "maximize": maximize, "capturable": capturable, "foreach": foreach,
                                  "differentiable": differentiable})

    def _init_state(self, p, group):
        return {"step": new_step(), "square_avg": zeros_like(p), "acc_delta": zeros_like(p)}

    def _update(self, group, params, grads):
        states = self._states(group, params)
        F.adadelta(params, grads, [s["square_avg"] for s in states], [s["acc_delta"] for s in states],
                   [s["step"] for s in states], lr=group["lr"], rho=group["rho"], eps=group["eps"],
                   weight_decay=group["weight_decay"], maximize=group["maximize"])
