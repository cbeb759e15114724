"""Rprop: resilient backpropagation (sign-based, per-element step sizes)."""
from ..creation import full_like, zeros_like
from . import _functional as F
from ._base import LR, _StatefulOptimizer, new_step

__all__ = ["Rprop", "rprop"]

rprop = F.rprop


class Rprop(_StatefulOptimizer):
    """Rprop with PyTorch's update rule::

        g = ±grad;  s = sign(g * prev)
        step = clamp(step * (etaplus if s > 0, etaminus if s < 0, else 1), *step_sizes)
        g = 0 where s < 0;  p -= sign(g) * step;  prev = g

    Args:
        params: parameters or parameter groups.
        lr: initial step size (default 1e-2).
        etas: (etaminus, etaplus), the shrink and growth factors (default (0.5, 1.2)).
        step_sizes: (min, max) step size (default (1e-6, 50)).
        maximize: ascend the objective.

    State per parameter: ``step``, ``prev``, ``step_size``.
    """

    _checks = (LR, ((lambda d: 0.0 < d["etas"][0] < 1.0 < d["etas"][1]), "Invalid eta values: {etas[0]}, {etas[1]}"))

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *, capturable=False, foreach=None,
                 maximize=False, differentiable=False):
        super().__init__(params, {"lr": lr, "etas": etas, "step_sizes": step_sizes, "foreach": foreach,
                                  "maximize": maximize, "differentiable": differentiable, "capturable": capturable})

    def _init_state(self, p, group):
        lr = group["lr"]
        lr = float(lr.item()) if hasattr(lr, "item") else lr
        return {"step": new_step(), "prev": zeros_like(p), "step_size": full_like(p.grad, lr)}

    def _update(self, group, params, grads):
        states = self._states(group, params)
        etaminus, etaplus = group["etas"]
        step_size_min, step_size_max = group["step_sizes"]
        F.rprop(params, grads, [s["prev"] for s in states], [s["step_size"] for s in states],
                [s["step"] for s in states], step_size_min=step_size_min, step_size_max=step_size_max,
                etaminus=etaminus, etaplus=etaplus, maximize=group["maximize"])
