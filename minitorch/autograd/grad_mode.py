"""Grad mode: ``no_grad``, ``enable_grad``, ``set_grad_enabled`` (context managers and decorators)."""
import functools
import threading


class _ThreadState(threading.local):
    """Grad mode is per thread, as in PyTorch: ``no_grad`` in one thread leaves the others recording. A new thread
    starts with grad enabled and outside inference mode (these class attributes), whatever the thread that started
    it was in."""
    enabled = True
    inference = False  # whether an enabled ``inference_mode`` block is active


_state = _ThreadState()


def is_grad_enabled():
    return _state.enabled


class _GradMode:
    _value = None

    def __enter__(self):
        self._prev = _state.enabled
        _state.enabled = self._value

    def __exit__(self, *exc):
        _state.enabled = self._prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)
        return wrapper

    def clone(self):
        return self.__class__()


class no_grad(_GradMode):
    """Disable gradient recording inside a ``with`` block or a decorated function."""
    _value = False


class enable_grad(_GradMode):
    """Enable gradient recording inside a ``with`` block or a decorated function."""
    _value = True


class inference_mode(_GradMode):
    """Like ``no_grad`` (minitorch has no separate inference tensors: ``Tensor.is_inference()`` is False);
    ``minitorch.is_inference_mode_enabled()`` says whether an enabled block is active."""

    def __init__(self, mode=True):
        self._value = not mode

    def __enter__(self):
        super().__enter__()
        self._prev_active = _state.inference
        _state.inference = not self._value

    def __exit__(self, *exc):
        _state.inference = self._prev_active
        return super().__exit__(*exc)

    def clone(self):
        return inference_mode(not self._value)


class set_grad_enabled(_GradMode):
    """Set grad mode to ``mode``: takes effect at once, and as a context manager restores the old mode on exit."""

    def __init__(self, mode):
        self._prev = _state.enabled
        self._value = bool(mode)
        _state.enabled = self._value

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        _state.enabled = self._prev
        return False

    def __call__(self, fn):
        _state.enabled = self._prev
        value = self._value

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(value):
                return fn(*args, **kwargs)
        return wrapper

    def clone(self):
        return set_grad_enabled(self._value)
