"""Hook handles and the machinery behind ``nn.Module`` full backward hooks (``torch.utils.hooks``)."""
import warnings
import weakref
from collections import OrderedDict

__all__ = ["RemovableHandle", "unserializable_hook", "warn_if_has_hooks", "BackwardHook"]


class RemovableHandle:
    """Handle returned by every ``register_*hook``: ``remove()`` (or leaving a ``with`` block) unregisters it.

    Args:
        hooks_dict (dict): the dict of hooks, keyed by hook ``id``, that holds the hook.
        extra_dict (dict or list of dict): further dicts whose entry under the same id goes with it.
    """

    next_id = 0

    def __init__(self, hooks_dict, *, extra_dict=None):
        self.hooks_dict_ref = weakref.ref(hooks_dict)
        self.id = RemovableHandle.next_id
        RemovableHandle.next_id += 1
        if isinstance(extra_dict, dict):
            self.extra_dict_ref = (weakref.ref(extra_dict),)
        elif isinstance(extra_dict, list):
            self.extra_dict_ref = tuple(weakref.ref(d) for d in extra_dict)
        else:
            self.extra_dict_ref = ()

    def remove(self):
        for ref in (self.hooks_dict_ref,) + self.extra_dict_ref:
            d = ref()
            if d is not None:
                d.pop(self.id, None)

    def __getstate__(self):
        return (self.hooks_dict_ref(), self.id, tuple(ref() for ref in self.extra_dict_ref))

    def __setstate__(self, state):
        # a handle whose dict is gone points at a fresh, unreferenced dict (removing it does nothing)
        self._dead = OrderedDict()
        self.hooks_dict_ref = weakref.ref(state[0] if state[0] is not None else self._dead)
        self.id = state[1]
        RemovableHandle.next_id = max(RemovableHandle.next_id, self.id + 1)
        extra = state[2] if len(state) > 2 and state[2] is not None else ()
        self.extra_dict_ref = tuple(weakref.ref(d) for d in extra)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def unserializable_hook(f):
    """Mark a tensor hook as one that need not survive serialisation (silences the warning)."""
    f.__torch_unserializable__ = True
    return f


def warn_if_has_hooks(tensor):
    for hook in tensor._hooks or ():
        if not hasattr(hook, "__torch_unserializable__"):
            warnings.warn(f"backward hook {hook!r} on tensor will not be serialized.  If this is expected, you can "
                          "decorate the function with @torch.utils.hooks.unserializable_hook to suppress this "
                          "warning", stacklevel=2)


def _tensor_positions(values):
    from ..tensor import Tensor
    return [i for i, v in enumerate(values) if isinstance(v, Tensor)]


class BackwardHook:
    """Joins a module call's input and output gradients for its full backward (pre-)hooks.

    The tensors going into and out of ``forward`` pass through one identity graph node each side (see
    ``autograd.function._HookNode``): the output node sees every gradient w.r.t. the outputs at once (the
    pre-hooks run there and may replace them), the input node sees every gradient w.r.t. the inputs (the
    hooks run there, with the saved output gradients, and may replace the input gradients).
    """

    def __init__(self, module, user_hooks, user_pre_hooks):
        self.module = module
        self.user_hooks = user_hooks
        self.user_pre_hooks = user_pre_hooks
        self.grad_outputs = None
        self.n_inputs = -1
        self.input_tensors_index = None
        self.n_outputs = -1
        self.output_tensors_index = None

    @staticmethod
    def _pack(index, values, n):
        out = [None] * n
        for i, v in zip(index, values):
            out[i] = v
        return tuple(out)

    def _wrap(self, values, on_grads):
        """Pass the tensors among ``values`` through one hook node; returns (new values, tensor positions)."""
        from ..autograd.function import _HookNode
        from ..autograd.grad_mode import is_grad_enabled
        idx = _tensor_positions(values)
        tensors = [values[i] for i in idx]
        if not tensors or not is_grad_enabled() or not any(t.requires_grad for t in tensors):
            return values, None
        new = _HookNode.wrap(tensors, on_grads)
        values = list(values)
        for i, t in zip(idx, new):
            values[i] = t
        return tuple(values), idx

    def setup_input_hook(self, args):
        from ..tensor import Tensor
        def on_input_grads(grads):
            if self.grad_outputs is None:  # the outputs got no gradient: torch does not call the hooks
                return None
            # like an autograd Function, the node hands zeros (not None) for inputs that got no gradient
            grads = tuple(zeros(shape, dtype=dt, device=dev) if g is None else g
                          for g, (shape, dt, dev) in zip(grads, self._input_meta))
            res = self._pack(self.input_tensors_index, grads, self.n_inputs)
            for hook in self.user_hooks:
                out = hook(self.module, res, self.grad_outputs)
                if out is None:
                    continue
                if len(out) != len(res):
                    raise RuntimeError(f"Backward hook returned an invalid number of grad_input, got {len(out)}, "
                                       f"but expected {len(res)}")
                res = out
            self.grad_outputs = None
            return tuple(res[i] for i in self.input_tensors_index)

        from ..creation import zeros
        self.n_inputs = len(args)
        self._input_meta = [(a.shape, a.dtype, a.device) for a in args if isinstance(a, Tensor)]
        args, self.input_tensors_index = self._wrap(tuple(args), on_input_grads)
        return args

    def setup_output_hook(self, result):
        from ..tensor import Tensor
        single = isinstance(result, Tensor)
        if not single and not isinstance(result, tuple):
            return result

        def on_output_grads(grads):
            self.grad_outputs = self._pack(self.output_tensors_index, grads, self.n_outputs)
            for hook in self.user_pre_hooks:
                out = hook(self.module, self.grad_outputs)
                if out is None:
                    continue
                if len(out) != len(self.grad_outputs):
                    raise RuntimeError(f"Backward pre hook returned an invalid number of grad_output, got {len(out)}, "
                                       f"but expected {len(self.grad_outputs)}")
                self.grad_outputs = tuple(out)
            local = self.grad_outputs
            if self.input_tensors_index is None:
                warnings.warn("Full backward hook is firing when gradients are computed with respect to module "
                              "outputs since no inputs require gradients. See https://docs.pytorch.org/docs/main/"
                              "generated/torch.nn.Module.html#torch.nn.Module.register_full_backward_hook for more "
                              "details.", stacklevel=2)
                grad_inputs = (None,) * self.n_inputs
                for hook in self.user_hooks:
                    res = hook(self.module, grad_inputs, self.grad_outputs)
                    if res is not None and not (isinstance(res, tuple) and all(r is None for r in res)):
                        raise RuntimeError("Backward hook for Modules where no input requires gradient should always "
                                           "return None or None for all gradients.")
                self.grad_outputs = None
            return tuple(local[i] for i in self.output_tensors_index)

        values = (result,) if single else result
        self.n_outputs = len(values)
        values, self.output_tensors_index = self._wrap(values, on_output_grads)
        return values[0] if single else values
