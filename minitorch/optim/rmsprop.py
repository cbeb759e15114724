"""RMSprop."""
from ..creation import zeros_like
from . import _functional as F
from ._base import EPS, LR, WEIGHT_DECAY, _StatefulOptimizer, ge0, new_step

__all__ = ["RMSprop", "rmsprop"]

rmsprop = F.rmsprop


class RMSprop(_StatefulOptimizer):
    """RMSprop with PyTorch's update rule::

        g = ±grad (+ weight_decay * p);  sq = alpha * sq + (1 - alpha) * g * g
        centered: ga = lerp(ga, g, 1 - alpha), avg = sqrt(sq - ga * ga) + eps;  else avg = sqrt(sq) + eps
        momentum > 0: buf = momentum * buf + g / avg, p -= lr * buf;  else p -= lr * g / avg

    Args:
        params: parameters or parameter groups.
        lr: learning rate (default 1e-2).
        alpha: smoothing constant (default 0.99).
        eps: denominator term (default 1e-8).
        weight_decay, momentum: (default 0).
        centered: normalise by the estimated variance of the gradient.
        maximize: ascend the objective.
    """

    _checks = (LR, EPS, ge0("momentum", "momentum value"), WEIGHT_DECAY, ge0("alpha", "alpha value"))

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        super().__init__(params, {"lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps, "centered": centered,
                                  "weight_decay": weight_decay, "capturable": capturable, "foreach": foreach,
                                  "maximize": maximize, "differentiable": differentiable})

    def _init_state(self, p, group):
        state = {"step": new_step(), "square_avg": zeros_like(p)}
        if group["momentum"] > 0:
            state["momentum_buffer"] = zeros_like(p)
        if group["centered"]:
            state["grad_avg"] = zeros_like(p)
        return state

    def _update(self, group, params, grads):
        states = self._states(group, params)
        momentum, centered = group["momentum"], group["centered"]
        F.rmsprop(params, grads, [s["square_avg"] for s in states],
                  [s["grad_avg"] for s in states] if centered else [],
                  [s["momentum_buffer"] for s in states] if momentum > 0 else [], [s["step"] for s in states],
                  maximize=group["maximize"], lr=group["lr"], alpha=group["alpha"], eps=group["eps"],
                  weight_decay=group["weight_decay"], momentum=momentum, centered=centered)
