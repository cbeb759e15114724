"""``minitorch.multiprocessing``: Python's ``multiprocessing`` with tensors that cross processes by shared memory.

Everything of ``multiprocessing`` is here under the same name (``Process``, ``Queue``, ``Pool``, ``get_context``,
``set_start_method`` ...). Importing minitorch registers reducers with ``multiprocessing``'s pickler, so a tensor put
on a queue or passed to a spawned process arrives sharing its storage with the sender (see ``reductions``);
``Tensor.share_memory_()`` / ``Module.share_memory()`` move storages into shared memory up front, which is what
Hogwild training needs. ``spawn`` / ``start_processes`` run a function in several processes and re-raise a child's
failure in the parent.

Numba and fork: Numba's default GNU OpenMP threading layer (the fastest to launch here: ~2 us against ~20 us for
the workqueue layer) kills a forked child that launches a parallel kernel after its parent did. Processes started
with ``spawn`` or ``forkserver`` (as PyTorch's Hogwild example does) are unaffected; to run large ops in *forked*
children, set ``NUMBA_THREADING_LAYER=workqueue`` (or ``tbb``) before importing minitorch.
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
