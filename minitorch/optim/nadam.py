"""NAdam: Adam with Nesterov momentum and a momentum schedule."""
from ..creation import zeros_like
from . import _functional as F
from ._base import BETAS, EPS, LR, WEIGHT_DECAY, _StatefulOptimizer, ge0, new_scalar, new_step

__all__ = ["NAdam", "nadam"]

nadam = F.nadam


class NAdam(_StatefulOptimizer):
    """NAdam with PyTorch's update rule::

        g = ±grad (+ weight_decay * p, or p *= 1 - lr * weight_decay when decoupled)
        mu_t = beta1 * (1 - 0.5 * 0.96^(t * momentum_decay));  prod *= mu_t
        m = lerp(m, g, 1 - beta1);  v = beta2 * v + (1 - beta2) * g * g;  denom = sqrt(v / (1 - beta2^t)) + eps
        p -= lr * (1 - mu_t) / (1 - prod) * g / denom + lr * mu_{t+1} / (1 - prod * mu_{t+1}) * m / denom

    Args:
        params: parameters or parameter groups.
        lr: learning rate (default 2e-3).
        betas: running-average coefficients (default (0.9, 0.999)).
        eps: denominator term (default 1e-8).
        weight_decay: L2 penalty (default 0).
        momentum_decay: the schedule's psi (default 4e-3).
        decoupled_weight_decay: NAdamW's decay.
        maximize: ascend the objective.

    State per parameter: ``step``, ``mu_product`` (0-d tensors), ``exp_avg``, ``exp_avg_sq``.
    """

    _checks = (LR, EPS) + BETAS + (WEIGHT_DECAY, ge0("momentum_decay", "momentum_decay value"))

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False):
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                                  "momentum_decay": momentum_decay, "decoupled_weight_decay": decoupled_weight_decay,
                                  "maximize": maximize, "foreach": foreach, "capturable": capturable,
                                  "differentiable": differentiable})

    def __setstate__(self, state):
        super().__setstate__(state)
        for st in self.state.values():
            if "mu_product" in st and not hasattr(st["mu_product"], "item"):
                st["mu_product"] = new_scalar(st["mu_product"])

    def _init_state(self, p, group):
        return {"step": new_step(), "mu_product": new_scalar(1.0), "exp_avg": zeros_like(p),
                "exp_avg_sq": zeros_like(p)}

    def _update(self, group, params, grads):
        states = self._states(group, params)
        beta1, beta2 = group["betas"]
        F.nadam(params, grads, [s["exp_avg"] for s in states], [s["exp_avg_sq"] for s in states],
                [s["mu_product"] for s in states], [s["step"] for s in states],
                decoupled_weight_decay=group["decoupled_weight_decay"], maximize=group["maximize"], beta1=beta1,
                beta2=beta2, lr=group["lr"], weight_decay=group["weight_decay"],
                momentum_decay=group["momentum_decay"], eps=group["eps"])
