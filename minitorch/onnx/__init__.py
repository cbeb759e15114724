"""``minitorch.onnx`` (``torch.onnx``): the namespace programs import. Exporting to ONNX needs the graph capture of
the compiler, which minitorch does not have yet, so ``export`` raises a RuntimeError that says so; importing the
module and everything that does not export works."""

__all__ = ["export", "is_in_onnx_export"]


def is_in_onnx_export():
    """Always False: minitorch never runs a model inside an ONNX export."""
    return False


def export(model, args=(), f=None, *pos, **kwargs):
    """Not available yet: raises RuntimeError (ONNX export comes with minitorch's graph compiler)."""
    raise RuntimeError("minitorch.onnx.export is not available yet: exporting a model to ONNX needs graph capture, "
                       "which minitorch does not have. Save the weights with minitorch.save(model.state_dict(), path) "
                       "instead.")
