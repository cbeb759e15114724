"""``minitorch.nn.parallel``: ``DataParallel`` and ``data_parallel`` (``DistributedDataParallel`` belongs to
``minitorch.distributed``, which minitorch does not have yet)."""
from .data_parallel import DataParallel, data_parallel

__all__ = ["DataParallel", "data_parallel"]
