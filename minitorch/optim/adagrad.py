"""Adagrad."""
from ..creation import full_like
from ..tensor import Tensor
from . import _functional as F
from .adam import _new_step
from .optimizer import Optimizer

__all__ = ["Adagrad", "adagrad"]

adagrad = F.adagrad


class Adagrad(Optimizer):
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

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                 foreach=None, *, maximize=False, differentiable=False, fused=None):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(f"Invalid initial_accumulator_value value: {initial_accumulator_value}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if differentiable:
            raise RuntimeError("differentiable=True is not supported by minitorch optimizers")
        defaults = {"lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
                    "initial_accumulator_value": initial_accumulator_value, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable, "fused": fused}
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                state = self.state[p]
                state["step"] = _new_step()
                state["sum"] = full_like(p, initial_accumulator_value)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("foreach", None)
            group.setdefault("maximize", False)
            group.setdefault("differentiable", False)
            group.setdefault("fused", None)
        self._steps_as_tensors()

    def share_memory(self):
        """No-op: minitorch tensors live in one process."""

    def step(self, closure=None):
        """One Adagrad update of every parameter that has a gradient; returns ``closure()`` when given."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            params, grads, sums, steps = [], [], [], []
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                params.append(p)
                grads.append(g)
                state = self.state[p]
                sums.append(state["sum"])
                steps.append(state["step"])
            if not params:
                continue
            F.adagrad(params, grads, sums, steps, lr=group["lr"], weight_decay=group["weight_decay"],
                      lr_decay=group["lr_decay"], eps=group["eps"], maximize=group["maximize"])
        return loss
