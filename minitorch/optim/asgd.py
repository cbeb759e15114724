"""ASGD: averaged stochastic gradient descent."""
from ..creation import zeros_like
from . import _functional as F
from ._base import LR, WEIGHT_DECAY, _StatefulOptimizer, new_scalar, new_step

__all__ = ["ASGD", "asgd"]

asgd = F.asgd


class ASGD(_StatefulOptimizer):
    """ASGD with PyTorch's update rule::

        g = ±grad (+ weight_decay * p);  p = p * (1 - lambd * eta) - eta * g
        ax = p while mu == 1, else ax += (p - ax) * mu
        eta = lr / (1 + lambd * lr * t)^alpha;  mu = 1 / max(1, t - t0)

    Args:
        params: parameters or parameter groups.
        lr: learning rate (default 1e-2).
        lambd: decay term (default 1e-4).
        alpha: power of the eta schedule (default 0.75).
        t0: the step at which averaging starts (default 1e6).
        weight_decay: L2 penalty (default 0).
        maximize: ascend the objective.

    State per parameter: ``step``, ``eta``, ``mu`` (0-d tensors) and ``ax`` (the average).
    """

    _checks = (LR, WEIGHT_DECAY)

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0, foreach=None,
                 maximize=False, differentiable=False, capturable=False):
        super().__init__(params, {"lr": lr, "lambd": lambd, "alpha": alpha, "t0": t0, "weight_decay": weight_decay,
                                  "foreach": foreach, "maximize": maximize, "differentiable": differentiable,
                                  "capturable": capturable})

    def __setstate__(self, state):
        super().__setstate__(state)
        for st in self.state.values():
            for key in ("eta", "mu"):
                if key in st and not hasattr(st[key], "item"):
                    st[key] = new_scalar(st[key])

    def _init_state(self, p, group):
        return {"step": new_step(), "eta": new_scalar(group["lr"]), "mu": new_scalar(1.0), "ax": zeros_like(p)}

    def _update(self, group, params, grads):
        states = self._states(group, params)
        F.asgd(params, grads, [s["ax"] for s in states], [s["mu"] for s in states], [s["eta"] for s in states],
               [s["step"] for s in states], lambd=group["lambd"], lr=group["lr"], t0=group["t0"],
               alpha=group["alpha"], weight_decay=group["weight_decay"], maximize=group["maximize"])
