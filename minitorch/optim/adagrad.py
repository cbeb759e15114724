"""Adagrad."""
from ..creation import full_like
from . import _functional as F
from ._base import EPS, LR, WEIGHT_DECAY, _StatefulOptimizer, ge0, new_step

__all__ = ["Adagrad", "adagrad"]

adagrad = F.adagrad


class Adagrad(_StatefulOptimizer):
    """Adagrad with PyTorch's update rule::

        g = ±grad (+ weight_decay * p);  clr = lr / (1 + (t - 1) * lr_decay)
        sum += g * g;  p -= clr * g / (sqrt(sum) + eps)

    Args:
        params: parameters or parameter groups.
        lr: learning rate (default 1e-2).
        lr_decay, weight_decay: (default 0).
        initial_accumulator_value: starting value of ``sum`` (default 0).
        eps: denominator term (default 1e-10).
        maximize: ascend the objective.

    Unlike the other optimizers, the state (``step``, ``sum``) is created for every parameter at construction.
    """

    _checks = (LR, ge0("lr_decay", "lr_decay value"), WEIGHT_DECAY,
               ge0("initial_accumulator_value", "initial_accumulator_value value"), EPS)

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                 foreach=None, *, maximize=False, differentiable=False, fused=None):
        super().__init__(params, {"lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
                                  "initial_accumulator_value": initial_accumulator_value, "foreach": foreach,
                                  "maximize": maximize, "differentiable": differentiable, "fused": fused})
        for group in self.param_groups:
            self._states(group, group["params"])

    def _init_state(self, p, group):
        return {"step": new_step(), "sum": full_like(p, group["initial_accumulator_value"])}

    def share_memory(self):
        """Move the accumulated squared gradients into shared memory (for Hogwild training across processes)."""
        for group in self.param_groups:
            for st in self._states(group, group["params"]):
                st["sum"].share_memory_()

    def _update(self, group, params, grads):
        states = self._states(group, params)
        F.adagrad(params, grads, [s["sum"] for s in states], [s["step"] for s in states], lr=group["lr"],
                  weight_decay=group["weight_decay"], lr_decay=group["lr_decay"], eps=group["eps"],
                  maximize=group["maximize"])
