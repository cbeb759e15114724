"""The backward graph seen from Python, as ``torch.autograd.graph``: ``Node``, saved-tensor hooks, ``save_on_cpu``.

``saved_tensors_hooks(pack, unpack)`` replaces every tensor a Function saves for backward by ``pack(tensor)``
and hands ``unpack(packed)`` back to the backward; ``save_on_cpu`` is the pair that parks them in host memory.
"""
from typing import NamedTuple

from .function import Node, _SAVED_HOOKS

__all__ = ["Node", "saved_tensors_hooks", "save_on_cpu", "disable_saved_tensors_hooks",
           "increment_version", "register_multi_grad_hook", "GradientEdge", "get_gradient_edge"]


class GradientEdge(NamedTuple):
    """An edge of the backward graph: the gradient flowing into input ``output_nr`` of ``node``. Usable as an
    ``inputs`` entry of ``autograd.grad``."""

    node: Node
    output_nr: int


def get_gradient_edge(tensor):
    """The edge through which ``tensor``'s gradient flows: ``autograd.grad(loss, get_gradient_edge(t))`` equals
    ``autograd.grad(loss, t)``, even after ``t`` itself is gone."""
    from .function import grad_accumulator
    if not tensor.requires_grad:
        raise RuntimeError("It is not possible to get the gradient edge for a Tensor that does not require gradients")
    node = tensor.grad_fn if tensor.grad_fn is not None else grad_accumulator(tensor)
    return GradientEdge(node, 0)


class saved_tensors_hooks:
    """Context manager: inside it, tensors saved for backward go through ``pack_hook`` and come back through
    ``unpack_hook`` when the backward needs them. Nested contexts: the innermost pair wins."""

    def __init__(self, pack_hook, unpack_hook):
        self.pack_hook = pack_hook
        self.unpack_hook = unpack_hook

    def __enter__(self):
        if _SAVED_HOOKS["disabled"] is not None:
            raise RuntimeError(_SAVED_HOOKS["disabled"])
        _SAVED_HOOKS["stack"].append((self.pack_hook, self.unpack_hook))
        return self

    def __exit__(self, *exc):
        _SAVED_HOOKS["stack"].pop()
        return False


class save_on_cpu(saved_tensors_hooks):
    """Saved tensors are copied to the CPU in the forward and moved back to their device in the backward."""

    def __init__(self, pin_memory=False, device_type="cuda"):
        def pack(t):
            return t.device, t.cpu()

        def unpack(packed):
            device, t = packed
            return t.to(device)

        super().__init__(pack, unpack)


class disable_saved_tensors_hooks:
    """Inside this context, entering ``saved_tensors_hooks`` raises RuntimeError with ``error_message``."""

    def __init__(self, error_message):
        self.error_message = error_message

    def __enter__(self):
        self._prev = _SAVED_HOOKS["disabled"]
        _SAVED_HOOKS["disabled"] = self.error_message
        return self

    def __exit__(self, *exc):
        _SAVED_HOOKS["disabled"] = self._prev
        return False


def increment_version(tensor):
    """Mark ``tensor`` (or each tensor of an iterable) as modified in place, as an in-place op would."""
    from ..tensor import Tensor
    for t in ((tensor,) if isinstance(tensor, Tensor) else tensor):
        t._vc[0] += 1


class _MultiHandle:
    def __init__(self, handles):
        self._handles = handles

    def remove(self):
        for h in self._handles:
            h.remove()


def register_multi_grad_hook(tensors, fn, *, mode="all"):
    """One hook over several tensors. ``mode="all"``: ``fn(grads)`` once per backward, after the gradient of every
    tensor that this backward computes is ready (None for the others). ``mode="any"``: ``fn(grad)`` with the first
    gradient computed. Returns a handle whose ``remove()`` takes the hook off."""
    from .engine import current_run, will_execute
    from .function import grad_accumulator
    if mode not in ("all", "any"):
        raise ValueError(f"Expects mode to be one of ('all', 'any') but got {mode}")
    tensors = tuple(tensors)
    if mode == "all":
        count, buffer = {}, {}
        nodes = [t.grad_fn if t.grad_fn is not None else grad_accumulator(t) for t in tensors]
        expected = {}

        def make(i):
            def hook(grad):
                run = current_run()
                if run == -1:
                    raise AssertionError("expected this hook to be called inside a backward call")
                if run not in count:
                    count[run] = 0
                    buffer[run] = [None] * len(tensors)
                    expected[run] = sum(will_execute(n) for n in nodes)
                count[run] += 1
                buffer[run][i] = grad
                if count[run] == expected[run]:
                    grads = buffer.pop(run)
                    del count[run], expected[run]
                    fn(grads)
            return hook
    else:
        ran = set()

        def make(i):
            def hook(grad):
                run = current_run()
                if run == -1:
                    raise AssertionError("expected this hook to be called inside a backward call")
                if run in ran:
                    return
                ran.add(run)
                fn(grad)
            return hook

    return _MultiHandle(tuple(t.register_hook(make(i)) for i, t in enumerate(tensors)))
