"""``minitorch.nn.parallel``: ``DataParallel``, ``data_parallel`` and ``DistributedDataParallel`` (which needs
``minitorch.distributed.init_process_group``)."""
from .data_parallel import DataParallel, data_parallel
from .distributed import DistributedDataParallel

__all__ = ["DataParallel", "data_parallel", "DistributedDataParallel"]
