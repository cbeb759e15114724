"""Tensor methods PyTorch has that are other methods' in-place or real-tensor forms: ``addmm_``, ``cumsum_``,
``lgamma_`` ..., the comparison aliases (``greater_`` is ``gt_``), ``fill_diagonal_``, ``masked_scatter_``, and
the complex-number accessors that are identities on real tensors (``conj``, ``real``, ``resolve_conj`` ...; ``imag``
raises, as in PyTorch, since minitorch's tensors are real)."""
from ..tensor import Tensor
from . import elementwise as E

# in-place forms, each the method of the same name written into self (autograd as any in-place op)
_INPLACE_OF = ("addmm", "addbmm", "addmv", "addr", "baddbmm", "cumsum", "cumprod", "digamma", "erfinv", "lgamma",
               "polygamma", "igamma", "igammac", "mvlgamma", "renorm", "masked_scatter", "hardshrink")
_ALIASES = {"greater_": "gt_", "greater_equal_": "ge_", "less_": "lt_", "less_equal_": "le_", "not_equal_": "ne_",
            "arctan2_": "atan2_", "sgn": "sign", "sgn_": "sign_"}


def _hardshrink(self, lambd=0.5):
    from ..nn.functional import hardshrink
    return hardshrink(self, lambd)


def _prelu(self, weight):
    from ..nn.functional import prelu
    return prelu(self, weight)


def _is_same_size(self, other):
    return self._shape == other._shape


def _is_nonzero(self):
    if self.numel() != 1:
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
    return bool(self.item())


def _false(self):
    return False


def _itself(self):
    return self


def _conj_physical(self):
    return self.clone()


def _real(self):
    return self


def _imag(self):
    raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")


def _fill_diagonal_(self, fill_value, wrap=False):
    """Fill the main diagonal (all dims of equal length, or 2-D) in place; ``wrap``: a tall matrix's diagonal
    starts again every cols + 1 rows, as PyTorch's (and NumPy's) do."""
    if self.dim() < 2:
        raise RuntimeError("dimensions must larger than 1")
    if self.dim() > 2 and len(set(self.shape)) != 1:
        raise RuntimeError("all dimensions of input must be of equal length")
    if self.dim() == 2 and wrap and self.shape[0] > self.shape[1] + 1:
        rows, cols = self.shape
        step = cols + 1
        for start in range(0, rows, step):
            block = self[start:start + cols]
            block.diagonal().fill_(fill_value)
        return self
    d = self
    while d.dim() > 2:  # the diagonal of an n-cube: the diagonal of its leading two dims, down to a matrix
        d = d.diagonal(0, 0, 1).movedim(-1, 0)
    d.diagonal().fill_(fill_value)
    return self


def _new(self, *args, device=None):
    """The legacy constructor: ``x.new(2, 3)`` (uninitialized) or ``x.new(size)``, ``x.new(data)`` (a copy), ``x.new()``
    (empty), in x's dtype and on x's device (or ``device``)."""
    from .. import creation
    from ..tensor import Size
    dev = self.device if device is None else device
    if not args:
        return creation.empty((0,), dtype=self.dtype, device=dev)
    if len(args) == 1 and isinstance(args[0], Size):
        return creation.empty(tuple(args[0]), dtype=self.dtype, device=dev)
    if all(isinstance(a, int) and not isinstance(a, bool) for a in args):
        return creation.empty(args, dtype=self.dtype, device=dev)
    if len(args) == 1:
        data = args[0]
        if isinstance(data, Tensor):
            return data.detach().to(dtype=self.dtype, device=dev).clone()
        return creation.tensor(data, dtype=self.dtype, device=dev)
    raise TypeError("new() received an invalid combination of arguments - got "
                    f"({', '.join(type(a).__name__ for a in args)})")


def _layout(self):
    from .._torch_names import strided
    return strided


METHODS = {"new": _new, "layout": property(_layout), "prelu": _prelu, "is_same_size": _is_same_size, "is_nonzero": _is_nonzero, "is_neg": _false,
           "is_conj": _false, "resolve_conj": _itself, "resolve_neg": _itself, "conj": _itself,
           "conj_physical": _conj_physical, "real": property(_real), "imag": property(_imag),
           "fill_diagonal_": _fill_diagonal_}


def install():
    if not hasattr(Tensor, "hardshrink"):
        Tensor.hardshrink = _hardshrink
    for name, fn in METHODS.items():
        if not hasattr(Tensor, name):
            setattr(Tensor, name, fn)
    for name in _INPLACE_OF:
        if not hasattr(Tensor, name + "_") and hasattr(Tensor, name):
            method = E._inplace_unary(getattr(Tensor, name))
            method.__wrapped__ = getattr(Tensor, name)  # its parameters, for numpy_names (cumsum_(axis=1))
            setattr(Tensor, name + "_", method)
    for name, target in _ALIASES.items():
        if not hasattr(Tensor, name):
            setattr(Tensor, name, getattr(Tensor, target))
