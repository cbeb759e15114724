"""``nn.DataParallel`` lives in ``minitorch.nn.parallel`` (as in PyTorch); this path keeps older imports working."""
from ..parallel.data_parallel import DataParallel

__all__ = ["DataParallel"]
