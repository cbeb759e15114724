"""TensorBoard logging, as ``torch.utils.tensorboard``: ``SummaryWriter`` and ``FileWriter``.

Needs the ``tensorboard`` package (``pip install "minitorch-jit[tensorboard]"``); importing this module without it
raises the ImportError PyTorch raises. ``import minitorch`` never imports it.
"""
import re

import tensorboard


def _too_old(version):
    parts = [int(p) for p in re.findall(r"\d+", version)[:2]]
    return tuple(parts + [0] * (2 - len(parts))) < (1, 15)


if not hasattr(tensorboard, "__version__") or _too_old(tensorboard.__version__):
    raise ImportError("TensorBoard logging requires TensorBoard version 1.15 or above")

del tensorboard, _too_old

from tensorboard.summary.writer.record_writer import RecordWriter  # noqa: E402

from .writer import FileWriter, SummaryWriter  # noqa: E402

__all__ = ["FileWriter", "RecordWriter", "SummaryWriter"]
