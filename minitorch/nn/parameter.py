"""``nn.Parameter``: a Tensor that a Module registers as a learnable parameter."""
from ..tensor import Tensor


class Parameter(Tensor):
    """A leaf tensor (sharing ``data``'s storage) that ``Module`` picks up as a parameter.

    Example::

        >>> w = nn.Parameter(minitorch.zeros(3))
        >>> w.requires_grad
        True
    """

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            from ..creation import empty
            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Parameter data must be a Tensor, got {type(data).__name__}")
        p = object.__new__(cls)
        src = data.detach()
        for name in Tensor.__slots__[:-1]:
            setattr(p, name, getattr(src, name))
        p._requires_grad = False
        p._grad = None
        p._grad_fn = None
        p.requires_grad_(requires_grad)
        return p

    def __init__(self, data=None, requires_grad=True):
        pass

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, protocol):
        return (_rebuild_parameter, (self.detach(), self._requires_grad))


def _rebuild_parameter(data, requires_grad):
    return Parameter(data, requires_grad)
