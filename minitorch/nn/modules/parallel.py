"""``nn.DataParallel``: wraps a module; with one device it runs the module as is."""
from .module import Module


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
