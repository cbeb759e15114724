"""RAdam: Adam with a rectified adaptive learning rate."""
from ..creation import zeros_like
from . import _functional as F
from ._base import BETAS, EPS, LR, WEIGHT_DECAY, _StatefulOptimizer, new_step

__all__ = ["RAdam", "radam"]

radam = F.radam


class RAdam(_StatefulOptimizer):
    """RAdam with PyTorch's update rule::

        g = ±grad (+ weight_decay * p, or p *= 1 - lr * weight_decay when decoupled)
        m = lerp(m, g, 1 - beta1);  v = beta2 * v + (1 - beta2) * g * g
        rho_inf = 2 / (1 - beta2) - 1;  rho_t = rho_inf - 2 t beta2^t / (1 - beta2^t)
        rho_t > 5: p -= lr * m / (1 - beta1^t) * sqrt(1 - beta2^t) / (sqrt(v) + eps) * r_t
        else:      p -= lr * m / (1 - beta1^t)

    Args:
        params: parameters or parameter groups.
        lr: learning rate (default 1e-3).
        betas: running-average coefficients (default (0.9, 0.999)).
        eps: denominator term (default 1e-8).
        weight_decay: L2 penalty (default 0).
        decoupled_weight_decay: AdamW-style decay.
        maximize: ascend the objective.

    State per parameter: ``step``, ``exp_avg``, ``exp_avg_sq``.
    """

    _checks = (LR, EPS) + BETAS + (WEIGHT_DECAY,)

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, decoupled_weight_decay=False,
                 *, foreach=None, maximize=False, capturable=False, differentiable=False):
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                                  "maximize": maximize, "foreach": foreach, "capturable": capturable,
                                  "decoupled_weight_decay": decoupled_weight_decay,
                                  "differentiable": differentiable})

    def _init_state(self, p, group):
        return {"step": new_step(), "exp_avg": zeros_like(p), "exp_avg_sq": zeros_like(p)}

    def _update(self, group, params, grads):
        states = self._states(group, params)
        beta1, beta2 = group["betas"]
        F.radam(params, grads, [s["exp_avg"] for s in states], [s["exp_avg_sq"] for s in states],
                [s["step"] for s in states], decoupled_weight_decay=group["decoupled_weight_decay"],
                maximize=group["maximize"], beta1=beta1, beta2=beta2, lr=group["lr"],
                weight_decay=group["weight_decay"], eps=group["eps"])
