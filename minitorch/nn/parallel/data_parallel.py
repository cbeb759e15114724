"""``nn.DataParallel`` and ``data_parallel``: with one device per process they run the module as is."""
from ..modules.module import Module


class DataParallel(Module):
    """Runs ``module`` on the input (minitorch uses one device per process, so no scatter/gather is needed).

    State-dict keys carry the ``module.`` prefix, as in PyTorch.
    """

    def __init__(self, module, device_ids=None, output_device=None, dim=0):
        super().__init__()
        self.module = module
        self.device_ids = list(device_ids) if device_ids is not None else []
        self.output_device = output_device
        self.dim = dim

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)


def data_parallel(module, inputs, device_ids=None, output_device=None, dim=0, module_kwargs=None):
    """Evaluate ``module(*inputs, **module_kwargs)`` on the GPUs in ``device_ids``, as ``DataParallel`` would.

    ``inputs`` is one input or a tuple of them. minitorch runs one device per process: the module must already be
    on ``device_ids[0]``, tensor inputs are moved there and the output to ``output_device``. As in PyTorch, this
    functional form needs an accelerator (``RuntimeError`` without one).
    """
    from ...cuda import is_available
    from ...device import device as _device
    from ...tensor import Tensor
    if not isinstance(inputs, tuple):
        inputs = (inputs,) if inputs is not None else ()
    if not is_available():
        raise RuntimeError("device type could not be determined")
    ids = [0] if not device_ids else list(device_ids)
    dev = _device(ids[0] if not isinstance(ids[0], int) else f"cuda:{ids[0]}")
    for t in list(module.parameters()) + list(module.buffers()):
        if t.device != dev:
            raise RuntimeError(f"module must have its parameters and buffers on device {dev} (device_ids[0]) but "
                               f"found one of them on device: {t.device}")
    inputs = tuple(x.to(dev) if isinstance(x, Tensor) else x for x in inputs)
    out = module(*inputs, **(module_kwargs or {}))
    if output_device is not None:
        target = _device(f"cuda:{output_device}" if isinstance(output_device, int) and output_device >= 0 else
                         "cpu" if output_device == -1 else output_device)
        if isinstance(out, Tensor):
            out = out.to(target)
    return out
