"""Adam (and, with ``decoupled_weight_decay=True``, AdamW)."""
from ..creation import zeros_like
from ..tensor import Tensor
from . import _functional as F
from ._base import BETAS, EPS, LR, WEIGHT_DECAY, _StatefulOptimizer, new_step

__all__ = ["Adam", "adam"]

adam = F.adam


def _same_kind(betas):
    return (isinstance(betas[0], float) and isinstance(betas[1], float)) or (
        isinstance(betas[0], Tensor) and isinstance(betas[1], Tensor))


class Adam(_StatefulOptimizer):
    """Adam with PyTorch's update rule::

        g = ±grad (+ weight_decay * p, or p *= 1 - lr * weight_decay when decoupled)
        m = lerp(m, g, 1 - beta1);  v = beta2 * v + (1 - beta2) * g * g;  vmax = max(vmax, v) (amsgrad)
        p -= lr / (1 - beta1^t) * m / (sqrt(v or vmax) / sqrt(1 - beta2^t) + eps)

    Args:
        params: parameters or parameter groups.
        lr: learning rate (default 1e-3).
        betas: running-average coefficients (default (0.9, 0.999)).
        eps: denominator term (default 1e-8).
        weight_decay: L2 penalty (default 0).
        amsgrad: use the running maximum of the second moment.
        maximize: ascend the objective.
        decoupled_weight_decay: AdamW's decay (see ``AdamW``).

    State per parameter: ``step`` (0-d float tensor), ``exp_avg``, ``exp_avg_sq`` (and ``max_exp_avg_sq``).
    """

    _checks = (LR, EPS) + BETAS + (
        WEIGHT_DECAY, ((lambda d: _same_kind(d["betas"])), "betas must be either both floats or both Tensors"))

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 foreach=None, maximize=False, capturable=False, differentiable=False, fused=None,
                 decoupled_weight_decay=False):
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                                  "amsgrad": amsgrad, "maximize": maximize, "foreach": foreach,
                                  "capturable": capturable, "differentiable": differentiable, "fused": fused,
                                  "decoupled_weight_decay": decoupled_weight_decay})

    def _prepare(self, defaults):
        defaults["betas"] = tuple(float(b.item()) if isinstance(b, Tensor) else b for b in defaults["betas"])
        return defaults

    def _init_state(self, p, group):
        state = {"step": new_step(), "exp_avg": zeros_like(p), "exp_avg_sq": zeros_like(p)}
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = zeros_like(p)
        return state

    def _update(self, group, params, grads):
        states = self._states(group, params)
        amsgrad = group["amsgrad"]
        beta1, beta2 = group["betas"]
        F.adam(params, grads, [s["exp_avg"] for s in states], [s["exp_avg_sq"] for s in states],
               [s["max_exp_avg_sq"] for s in states] if amsgrad else [], [s["step"] for s in states],
               decoupled_weight_decay=group["decoupled_weight_decay"], amsgrad=amsgrad, beta1=beta1, beta2=beta2,
               lr=group["lr"], weight_decay=group["weight_decay"], eps=group["eps"], maximize=group["maximize"])
