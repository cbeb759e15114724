"""``Variable``: PyTorch's pre-0.4 wrapper, kept for old programs. It makes plain Tensors."""

__all__ = ["Variable"]


class _VariableMeta(type):
    def __instancecheck__(cls, obj):
        from ..tensor import Tensor
        return isinstance(obj, Tensor)

    def __call__(cls, data=None, requires_grad=False, volatile=False):
        """``Variable(t, requires_grad=True)``: a Tensor sharing ``t``'s data, detached from its graph, that
        requires grad as asked (``volatile`` is accepted and ignored, with PyTorch's warning)."""
        from ..creation import empty
        from ..tensor import Tensor
        if volatile:
            import warnings
            warnings.warn("volatile was removed and now has no effect. Use `with torch.no_grad():` instead.",
                          UserWarning, stacklevel=2)
        if data is None:
            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        out = data.detach()
        if requires_grad:
            out.requires_grad_(True)
        return out


class Variable(metaclass=_VariableMeta):
    """``minitorch.autograd.Variable(tensor, requires_grad=False)``; ``isinstance(x, Variable)`` holds for every
    Tensor, as in PyTorch."""


class _ExecutionEngine:
    """``Variable._execution_engine``: PyTorch's handle on the autograd engine (only ``queue_callback`` here)."""

    @staticmethod
    def queue_callback(callback):
        from .engine import queue_callback
        queue_callback(callback)


Variable._execution_engine = _ExecutionEngine()
