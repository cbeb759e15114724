"""Stochastic gradient descent, optionally with momentum, Nesterov momentum and weight decay."""
from . import _functional as F
from ._base import WEIGHT_DECAY, _StatefulOptimizer
from .optimizer import required

__all__ = ["SGD", "sgd"]

sgd = F.sgd


class SGD(_StatefulOptimizer):
    """SGD with PyTorch's update rule::

        g = -grad if maximize else grad;  g += weight_decay * p
        buf = g (first step) or momentum * buf + (1 - dampening) * g
        g = g + momentum * buf if nesterov else buf;  p -= lr * g

    Args:
        params: parameters or parameter groups.
        lr: learning rate (default 1e-3).
        momentum, dampening, weight_decay: (default 0).
        nesterov: Nesterov momentum; needs momentum > 0 and zero dampening.
        maximize: ascend the objective instead of descending.

    Example::

        >>> opt = minitorch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        >>> opt.zero_grad(); loss_fn(model(x), y).backward(); opt.step()
    """

    _checks = (
        ((lambda d: d["lr"] is required or d["lr"] >= 0.0), "Invalid learning rate: {lr}"),
        ((lambda d: d["momentum"] >= 0.0), "Invalid momentum value: {momentum}"),
        WEIGHT_DECAY,
        ((lambda d: not d["nesterov"] or (d["momentum"] > 0 and d["dampening"] == 0)),
         "Nesterov momentum requires a momentum and zero dampening"),
    )
    _setstate_defaults = {"fused": False}

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *, maximize=False,
                 foreach=None, differentiable=False, fused=None):
        super().__init__(params, {"lr": lr, "momentum": momentum, "dampening": dampening,
                                  "weight_decay": weight_decay, "nesterov": nesterov, "maximize": maximize,
                                  "foreach": foreach, "differentiable": differentiable, "fused": fused})

    def _update(self, group, params, grads):
        # the momentum buffer is made by the first update (a copy of the gradient); without momentum there is no
        # state at all, as in PyTorch
        momentum = group["momentum"]
        bufs = [self.state[p].get("momentum_buffer") for p in params] if momentum != 0 else []
        F.sgd(params, grads, bufs, weight_decay=group["weight_decay"], momentum=momentum, lr=group["lr"],
              dampening=group["dampening"], nesterov=group["nesterov"], maximize=group["maximize"])
        for p, buf in zip(params, bufs):
            self.state[p]["momentum_buffer"] = buf
