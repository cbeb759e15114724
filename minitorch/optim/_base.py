"""The machinery every per-parameter optimizer shares: argument checks, group defaults, lazy state and the step loop.

An optimizer class built on ``_StatefulOptimizer`` states only what differs between algorithms:

* ``__init__`` with PyTorch's signature, passing its options as the ``defaults`` dict;
* ``_checks``: the argument checks in PyTorch's order, as ``(ok(defaults) -> bool, message)`` pairs whose message
  is a ``str.format`` template over the defaults (``"Invalid learning rate: {lr}"``);
* ``_init_state(p, group)``: the state a parameter gets on its first step (PyTorch's keys: ``step``, ``exp_avg`` ...);
* ``_update(group, params, grads)``: the update rule, normally one call into ``optim._functional``.

Options missing from an older state dict's groups are filled from the ``__init__`` signature on load, and a
numeric ``step`` from an old state dict becomes a 0-d tensor, as PyTorch's ``__setstate__`` methods do.
"""
import inspect

from ..creation import tensor, zeros
from ..dtypes import float32, float64, get_default_dtype
from ..tensor import Tensor
from .optimizer import Optimizer

__all__ = ["ge0", "LR", "EPS", "WEIGHT_DECAY", "BETAS", "scalar_dtype", "new_step", "new_scalar"]


def scalar_dtype():
    """PyTorch keeps ``step`` (and other scalar state) in float64 when that is the default dtype, else float32."""
    return float64 if get_default_dtype() is float64 else float32


def new_step():
    return zeros((), dtype=scalar_dtype())


def new_scalar(value):
    """A 0-d state tensor in the scalar dtype (``mu_product``, ``eta``, ``mu``)."""
    v = float(value.item()) if isinstance(value, Tensor) else float(value)
    return tensor(v, dtype=scalar_dtype())


def ge0(key, what):
    """The check ``0 <= defaults[key]`` with PyTorch's message ``Invalid <what>: <value>``."""
    return (lambda d: 0.0 <= d[key]), f"Invalid {what}: {{{key}}}"


BETAS = (((lambda d: 0.0 <= d["betas"][0] < 1.0), "Invalid beta parameter at index 0: {betas[0]}"),
         ((lambda d: 0.0 <= d["betas"][1] < 1.0), "Invalid beta parameter at index 1: {betas[1]}"))
LR = ge0("lr", "learning rate")
EPS = ge0("eps", "epsilon value")
WEIGHT_DECAY = ge0("weight_decay", "weight_decay value")


class _StatefulOptimizer(Optimizer):
    """An optimizer with PyTorch's validation, per-parameter state created on first use, and a per-group update."""

    _checks = ()
    _setstate_defaults = {}  # group options whose load-time default differs from the __init__ default

    def __init__(self, params, defaults):
        lr = defaults.get("lr")
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        for ok, message in self._checks:
            if not ok(defaults):
                raise ValueError(message.format(**defaults))
        if defaults.get("differentiable"):
            raise RuntimeError("differentiable=True is not supported by minitorch optimizers")
        super().__init__(params, self._prepare(defaults))

    def _prepare(self, defaults):
        """The validated defaults as the groups keep them (a subclass may normalise an option here)."""
        return defaults

    @classmethod
    def _option_defaults(cls):
        sig = inspect.signature(cls.__init__)
        out = {name: p.default for name, p in sig.parameters.items()
               if name not in ("self", "params") and p.default is not inspect.Parameter.empty}
        out.update(cls._setstate_defaults)
        return out

    def __setstate__(self, state):
        super().__setstate__(state)
        options = self._option_defaults()
        for group in self.param_groups:
            for key, value in options.items():
                group.setdefault(key, value)
        self._steps_as_tensors()

    # -- what a subclass supplies ----------------------------------------------------------------------------
    def _init_state(self, p, group):
        """The state dict of parameter ``p`` before its first step."""
        raise NotImplementedError(f"{type(self).__name__} does not define _init_state()")

    def _update(self, group, params, grads):
        """Apply the update rule to ``params`` (the group's parameters that have a gradient)."""
        raise NotImplementedError(f"{type(self).__name__} does not define _update()")

    # -- shared ----------------------------------------------------------------------------------------------
    def _states(self, group, params):
        """Each parameter's state, created by ``_init_state`` on its first step."""
        states = []
        for p in params:
            st = self.state[p]
            if len(st) == 0:
                st.update(self._init_state(p, group))
            states.append(st)
        return states

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns ``closure()`` when given."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            if params:
                self._update(group, params, [p.grad for p in params])
        return loss
