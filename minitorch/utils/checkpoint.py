"""Activation checkpointing, as ``torch.utils.checkpoint``: trade compute for memory.

``checkpoint(fn, *args, use_reentrant=False)`` runs ``fn`` keeping none of its intermediate activations; the
backward recomputes them (with the forward's RNG state, so dropout masks match) and the gradients equal those of
running ``fn`` plainly.

- ``use_reentrant=False`` (recommended): the forward records its graph as usual, but every tensor an op saves for
  backward, other than the checkpoint's inputs and the leaves, is dropped (a saved-tensor hook) and recomputed on
  first use. Works with ``autograd.grad``, keyword arguments and nested checkpoints.
- ``use_reentrant=True``: the forward runs under ``no_grad``; one graph node per output re-runs ``fn`` and calls
  ``backward`` inside the backward. Not usable under ``autograd.grad``.
"""
import warnings

from ..autograd.function import Function
from ..autograd.graph import saved_tensors_hooks
from ..autograd.grad_mode import enable_grad, no_grad
from ..tensor import Tensor

__all__ = ["checkpoint", "checkpoint_sequential", "CheckpointError"]


class CheckpointError(RuntimeError):
    """The recomputation did not save the same tensors as the forward (a non-deterministic function)."""


class _RngFork:
    """Run a block with the generator state of the checkpointed forward, then give back the current state."""

    def __init__(self, state):
        self.state = state

    def __enter__(self):
        from .. import random
        if self.state is not None:
            self.saved = random.get_rng_state()
            random.set_rng_state(self.state)

    def __exit__(self, *exc):
        from .. import random
        if self.state is not None:
            random.set_rng_state(self.saved)
        return False


def _rng_state(preserve):
    from .. import random
    return random.get_rng_state() if preserve else None


# ---------------------------------------------------------------------------------------------------------------
# non-reentrant
# ---------------------------------------------------------------------------------------------------------------
class _Frame:
    """One checkpointed call: what to re-run, and the recomputed saved tensors waiting to be unpacked."""

    def __init__(self, function, args, kwargs, rng):
        self.function, self.args, self.kwargs, self.rng = function, args, kwargs, rng
        self.kept = {id(a) for a in args if isinstance(a, Tensor)}
        self.count = 0
        self.recomputed = {}

    def keeps(self, t):
        # inputs and leaves stay alive anyway: saving them costs nothing, so only intermediates are dropped
        return id(t) in self.kept or (t._grad_fn is None and t._requires_grad)

    def pack(self, t):
        if self.keeps(t):
            return (None, t)
        idx = self.count
        self.count += 1
        return (self, idx)

    def recompute(self):
        got = {}
        counter = [0]

        def pack(t):
            if not self.keeps(t):
                # kept attached to the recomputed graph: a create_graph backward differentiates through it
                got[counter[0]] = t
                counter[0] += 1
            return t

        def unpack(t):
            return t

        with _RngFork(self.rng), enable_grad(), saved_tensors_hooks(pack, unpack):
            self.function(*self.args, **self.kwargs)
        if counter[0] != self.count:
            raise CheckpointError(
                "torch.utils.checkpoint: A different number of tensors was saved during the original forward and "
                f"recomputation.\nNumber of tensors saved during forward: {self.count}\nNumber of tensors saved "
                f"during recomputation: {counter[0]}.")
        for k, v in got.items():
            self.recomputed.setdefault(k, v)


def _unpack(packed):
    from ..autograd.grad_mode import is_grad_enabled
    frame, v = packed
    if frame is None:
        return v
    if v not in frame.recomputed:
        frame.recompute()
    t = frame.recomputed.pop(v)
    return t if is_grad_enabled() else t.detach()


def _checkpoint_without_reentrant(function, preserve, args, kwargs):
    frame = _Frame(function, args, kwargs, _rng_state(preserve))
    with saved_tensors_hooks(frame.pack, _unpack):
        return function(*args, **kwargs)


# ---------------------------------------------------------------------------------------------------------------
# reentrant
# ---------------------------------------------------------------------------------------------------------------
class _CheckpointFunction(Function):
    """One output of a checkpointed call; its backward re-runs the function and backpropagates inside."""

    @staticmethod
    def forward(ctx, call, index, *args):
        ctx.call, ctx.index = call, index
        ctx.save_for_backward(*[a for a in args if isinstance(a, Tensor)])
        return call["outputs"][index].detach()

    @staticmethod
    def backward(ctx, g):
        from ..autograd import engine
        if engine._CAPTURING[0]:
            raise RuntimeError(
                "When use_reentrant=True, torch.utils.checkpoint is incompatible with .grad() or passing an `inputs` "
                "parameter to .backward(). To resolve this error, you can either set use_reentrant=False, or call "
                ".backward() without passing the `inputs` argument.")
        call = ctx.call
        saved = iter(ctx.saved_tensors)
        inputs = []
        for a in call["args"]:
            if isinstance(a, Tensor):
                t = next(saved).detach()
                t.requires_grad_(a.requires_grad)
                inputs.append(t)
            else:
                inputs.append(a)
        with _RngFork(call["rng"]), enable_grad():
            outs = call["function"](*inputs)
        out = outs[ctx.index] if isinstance(outs, tuple) else outs
        if isinstance(out, Tensor) and out.requires_grad:
            engine.backward((out,), (g,))
        grads = tuple(t.grad if isinstance(t, Tensor) else None for t in inputs)
        return (None, None) + grads


def _checkpoint_reentrant(function, preserve, args):
    rng = _rng_state(preserve)
    with no_grad():
        outputs = function(*args)
    if not any(isinstance(a, Tensor) and a.requires_grad for a in args):
        warnings.warn("None of the inputs have requires_grad=True. Gradients will be None", UserWarning,
                      stacklevel=3)
        return outputs
    call = {"function": function, "args": args, "rng": rng,
            "outputs": outputs if isinstance(outputs, tuple) else (outputs,)}
    res = tuple(_CheckpointFunction.apply(call, i, *args) if isinstance(o, Tensor) and o.is_floating_point() else o
                for i, o in enumerate(call["outputs"]))
    del call["outputs"]  # the backward re-runs the function; only the returned aliases keep the results
    return res if isinstance(outputs, tuple) else res[0]


def checkpoint(function, *args, use_reentrant=None, context_fn=None, determinism_check="default", debug=False,
               early_stop=True, **kwargs):
    """Run ``function(*args, **kwargs)`` without keeping its activations; the backward recomputes them.

    Args:
        function: what to run; its saved activations are recomputed in backward.
        use_reentrant: pass it explicitly (``False`` is recommended); omitted, it warns and means ``True``.
        preserve_rng_state (keyword, default True): recompute with the forward's RNG state (same dropout masks).

    Example::

        >>> y = checkpoint(block, x, use_reentrant=False)
    """
    if use_reentrant is None:
        warnings.warn(
            "torch.utils.checkpoint: the use_reentrant parameter should be passed explicitly. Starting in PyTorch "
            "2.9, calling checkpoint without use_reentrant will raise an exception. use_reentrant=False is "
            "recommended, but if you need to preserve the current default behavior, you can pass use_reentrant=True."
            " Refer to docs for more details on the differences between the two variants.", UserWarning,
            stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs and use_reentrant:
        raise ValueError("Unexpected keyword arguments: " + ",".join(arg for arg in kwargs))
    if use_reentrant:
        if context_fn is not None or debug is not False:
            raise ValueError("Passing `context_fn` or `debug` is only supported when use_reentrant=False.")
        return _checkpoint_reentrant(function, preserve, args)
    if context_fn is not None:
        raise NotImplementedError("minitorch's checkpoint does not support context_fn")
    return _checkpoint_without_reentrant(function, preserve, args, kwargs)


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    """Run ``functions`` (a Sequential or a list) in order, checkpointing all but the last of ``segments`` chunks."""
    if use_reentrant is None:
        warnings.warn(
            "torch.utils.checkpoint.checkpoint_sequential: the use_reentrant parameter should be passed explicitly. "
            "In version 2.9 we will raise an exception if use_reentrant is not passed. use_reentrant=False is "
            "recommended, but if you need to preserve the current default behavior, you can pass use_reentrant=True."
            " Refer to docs for more details on the differences between the two variants.", UserWarning,
            stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(arg for arg in kwargs))
    from ..nn import Sequential
    if isinstance(functions, Sequential):
        functions = list(functions.children())
    functions = list(functions)

    def run(start, end):
        def forward(x):
            for j in range(start, end + 1):
                x = functions[j](x)
            return x
        return forward

    size = len(functions) // segments
    end = -1
    for start in range(0, size * (segments - 1), size):
        end = start + size - 1
        input = checkpoint(run(start, end), input, use_reentrant=use_reentrant, preserve_rng_state=preserve)
    return run(end + 1, len(functions) - 1)(input)
