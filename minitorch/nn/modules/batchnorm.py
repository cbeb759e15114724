"""``nn.modules.batchnorm``: the batch-norm layers (defined in ``normalization.py``), at PyTorch's import path, and
``SyncBatchNorm``."""
from ...autograd.grad_mode import no_grad
from .. import functional as F
from .normalization import BatchNorm1d, BatchNorm2d, _BatchNorm

# PyTorch's _BatchNorm derives from _NormBase; here one class plays both roles, so isinstance checks agree
_NormBase = _BatchNorm

__all__ = ["BatchNorm1d", "BatchNorm2d", "_BatchNorm", "_NormBase", "SyncBatchNorm"]


def _group_size(process_group):
    """The size of the group to synchronise over, or None when minitorch.distributed is not initialised (without
    importing MPI: a program that never called init_process_group runs plain batch norm)."""
    import sys
    dist = sys.modules.get("minitorch.distributed")
    if dist is None or not dist.is_available() or not dist.is_initialized():
        return None
    return dist.get_world_size(process_group) if process_group is not None else dist.get_world_size()


class SyncBatchNorm(_BatchNorm):
    """Batch normalisation whose training-mode statistics are those of the whole batch across all processes of
    ``process_group`` (default: the world), for data-parallel training with small per-process batches.

    In training with an initialised process group of two or more ranks, each forward all-reduces the per-channel
    count, sum and sum of squares (one collective), normalises with the global mean and variance and updates the
    running estimates with them (the same on every rank); backward all-reduces the two per-channel gradient sums.
    Otherwise (eval mode, one process, no process group) it is ``BatchNorm`` with the same arguments.

    Unlike PyTorch, which raises ``ValueError`` for CPU input ("SyncBatchNorm expected input tensor to be on GPU"),
    minitorch synchronises CPU tensors too: its collectives run on CPU tensors (MPI).

    Shape: (N, C, ...) with at least 2 dimensions.

    Example::

        >>> model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
        >>> ddp = nn.parallel.DistributedDataParallel(model)
    """

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 process_group=None, device=None, dtype=None, *, bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias)
        self.process_group = process_group

    def _check_input_dim(self, input):
        if input.dim() < 2:
            raise ValueError(f"expected at least 2D input (got {input.dim()}D input)")

    def _check_non_zero_input_channels(self, input):
        if input.shape[1] == 0:
            raise ValueError("SyncBatchNorm number of input channels should be non-zero")

    def forward(self, input):
        self._check_input_dim(input)
        self._check_non_zero_input_channels(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.add_(1)
            if self.momentum is None:
                factor = 1.0 / float(self.num_batches_tracked.item())
        bn_training = self.training or (self.running_mean is None and self.running_var is None)
        running_mean = self.running_mean if not self.training or self.track_running_stats else None
        running_var = self.running_var if not self.training or self.track_running_stats else None
        size = _group_size(self.process_group) if bn_training and self.training else None
        if size is None or size < 2:
            return F.batch_norm(input, running_mean, running_var, self.weight, self.bias, bn_training, factor,
                                self.eps)
        from ._functions import SyncBatchNormFunction
        out, mean, var = SyncBatchNormFunction.apply(input, self.weight, self.bias, self.eps, self.process_group)
        if running_mean is not None:
            with no_grad():
                running_mean.mul_(1 - factor).add_(mean * factor)
                running_var.mul_(1 - factor).add_(var * factor)
        return out

    @classmethod
    def convert_sync_batchnorm(cls, module, process_group=None):
        """``module`` with every ``BatchNorm*d`` replaced by a ``SyncBatchNorm`` sharing its parameters and
        buffers (a new layer when ``module`` itself is a batch norm)."""
        out = module
        if isinstance(module, _BatchNorm) and not isinstance(module, SyncBatchNorm):
            out = SyncBatchNorm(module.num_features, module.eps, module.momentum, module.affine,
                                module.track_running_stats, process_group, bias=module.bias is not None)
            if module.affine:
                with no_grad():
                    out.weight = module.weight
                    out.bias = module.bias
            out.running_mean = module.running_mean
            out.running_var = module.running_var
            out.num_batches_tracked = module.num_batches_tracked
            out.training = module.training
            if hasattr(module, "qconfig"):
                out.qconfig = module.qconfig
        for name, child in module.named_children():
            out.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        del module
        return out
