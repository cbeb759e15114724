"""``minitorch.multiprocessing``: Python's ``multiprocessing`` with tensors that cross processes by shared memory.

Everything of ``multiprocessing`` is here under the same name (``Process``, ``Queue``, ``Pool``, ``get_context``,
``set_start_method`` ...). Importing minitorch registers reducers with ``multiprocessing``'s pickler, so a tensor put
on a queue or passed to a spawned process arrives sharing its storage with the sender (see ``reductions``);
``Tensor.share_memory_()`` / ``Module.share_memory()`` move storages into shared memory up front, which is what
Hogwild training needs. ``spawn`` / ``start_processes`` run a function in several processes and re-raise a child's
failure in the parent.

Numba and fork: GNU OpenMP's thread pool cannot be used in a process forked after its parent used it (the child
dies at its first parallel kernel). minitorch therefore runs its kernels on Numba's TBB layer where the ``tbb``
package is installed (a dependency on Linux x86_64; see ``kernels/cpu/_threads.py``), so forked children (``Process``
with the fork start method, DataLoader workers) can run any op. Elsewhere, or with ``MINITORCH_TBB=0``, start such
processes with ``spawn``/``forkserver`` (as PyTorch's Hogwild example does) or set
``NUMBA_THREADING_LAYER=workqueue`` before importing minitorch (its launches cost ~20 us instead of ~7 us).
"""
import multiprocessing

from multiprocessing import *  # noqa: F401,F403

from . import _shared_memory
from .reductions import init_reductions
from .spawn import (ProcessContext, ProcessExitedException, ProcessRaisedException, SpawnContext, spawn,  # noqa: F401
                    start_processes)

__all__ = ["set_sharing_strategy", "get_sharing_strategy", "get_all_sharing_strategies"]  # as PyTorch's
__all__ += multiprocessing.__all__  # noqa: PLE0605


def set_sharing_strategy(new_strategy):
    """How shared CPU storages are handed to other processes: ``"file_descriptor"`` (default) or
    ``"file_system"`` (see ``get_all_sharing_strategies``)."""
    if new_strategy not in _shared_memory.ALL_STRATEGIES:
        raise AssertionError(f"unknown sharing strategy {new_strategy!r}; expected one of "
                             f"{sorted(_shared_memory.ALL_STRATEGIES)}")
    _shared_memory._STRATEGY[0] = new_strategy


def get_sharing_strategy():
    """The current sharing strategy."""
    return _shared_memory._STRATEGY[0]


def get_all_sharing_strategies():
    """The sharing strategies this platform supports (a set)."""
    return set(_shared_memory.ALL_STRATEGIES)


init_reductions()
