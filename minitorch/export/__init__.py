"""``minitorch.export`` (``torch.export``): the ``Dim`` objects that mark dimensions symbolic in
``minitorch.onnx.export(..., dynamic_shapes=...)``."""

__all__ = ["Dim", "dims"]


class _DimHint:
    """``Dim.AUTO``, ``Dim.DYNAMIC`` and ``Dim.STATIC``: a dimension left to the exporter, symbolic, or fixed."""

    def __init__(self, kind):
        self.kind = kind

    def __repr__(self):
        return f"Dim.{self.kind}"


class Dim:
    """A named symbolic dimension, optionally bounded: ``Dim("batch", min=1, max=1024)``. Every axis given the
    same ``Dim`` has the same size."""

    AUTO = _DimHint("AUTO")
    DYNAMIC = _DimHint("DYNAMIC")
    STATIC = _DimHint("STATIC")

    def __init__(self, name, *, min=None, max=None):  # noqa: A002 (PyTorch's argument names)
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"Dim name must be a valid identifier, got {name!r}")
        if min is not None and max is not None and min > max:
            raise ValueError(f"Cannot create Dim with inconsistent min={min}, max={max}")
        self.__name__ = name
        self.min = min
        self.max = max

    def __repr__(self):
        bounds = "".join(f", {k}={v}" for k, v in (("min", self.min), ("max", self.max)) if v is not None)
        return f"Dim({self.__name__!r}{bounds})"


def dims(*names, min=None, max=None):  # noqa: A002
    """One ``Dim`` per name, all with the same bounds."""
    return tuple(Dim(n, min=min, max=max) for n in names)
