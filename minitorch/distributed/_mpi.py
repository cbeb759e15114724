"""Loading the MPI engine (mpi4py) on demand: ``import minitorch`` never imports it.

mpi4py initialises MPI when ``mpi4py.MPI`` is first imported, so that import happens in ``init_process_group`` only.
After it, an uncaught exception in any rank prints its traceback and calls ``MPI.COMM_WORLD.Abort``: MPI then
ends every rank of the job (and ``mpiexec`` exits non-zero) instead of leaving the others blocked in a collective
that the dead rank will never join.
"""
import atexit
import importlib.util
import os
import sys
import threading
import time

_MPI = None
_AVAILABLE = None
_HOOKED = False


def _import():
    """``mpi4py.MPI`` imported without initialising MPI (that waits for ``load``)."""
    import mpi4py
    if "mpi4py.MPI" not in sys.modules:
        mpi4py.rc.initialize = False
        mpi4py.rc.finalize = False
    from mpi4py import MPI
    return MPI


def is_available():
    """Whether mpi4py and the MPI library it was built for load here (checked without initialising MPI)."""
    global _AVAILABLE
    if _AVAILABLE is None:
        if _MPI is not None:
            _AVAILABLE = True
        elif importlib.util.find_spec("mpi4py") is None:
            _AVAILABLE = False
        else:
            try:
                _import()
                _AVAILABLE = True
            except Exception:  # e.g. an mpi4py built against an MPI library that is missing here
                _AVAILABLE = False
    return _AVAILABLE


def load():
    """The ``mpi4py.MPI`` module with MPI initialised (thread level MULTIPLE: collectives run on a communication
    thread, see distributed_c10d), or RuntimeError saying how to install it."""
    global _MPI
    if _MPI is None:
        try:
            MPI = _import()
        except ImportError as e:
            raise RuntimeError(
                "minitorch.distributed needs mpi4py and an MPI library: pip install 'minitorch-jit[distributed]' "
                f"(mpi4py and the mpich wheel), or mpi4py built against a system MPI ({e})") from None
        if not MPI.Is_initialized():
            MPI.Init_thread(MPI.THREAD_MULTIPLE)
            atexit.register(_finalize, MPI)
        _MPI = MPI
    return _MPI


def _finalize(MPI):
    if MPI.Is_initialized() and not MPI.Is_finalized():
        MPI.Finalize()


def abort(code):
    """End every rank of the job (MPI_Abort) after this rank's output has had time to leave: mpiexec forwards
    each rank's stdout/stderr through pipes, and the abort would otherwise cut the traceback short."""
    sys.stdout.flush()
    sys.stderr.flush()
    time.sleep(0.25)
    _MPI.COMM_WORLD.Abort(code)


def install_excepthook():
    """Make an uncaught exception in this rank (main thread or any other) end the whole MPI job, after printing
    the traceback with the rank in front, so that no other rank hangs waiting for this one."""
    global _HOOKED
    if _HOOKED or os.environ.get("MINITORCH_DIST_ABORT_ON_ERROR", "1") == "0":
        return
    MPI = load()
    previous = sys.excepthook

    def hook(exc_type, exc, tb):
        if issubclass(exc_type, KeyboardInterrupt) or MPI.COMM_WORLD.Get_size() == 1:
            previous(exc_type, exc, tb)
            return
        rank = MPI.COMM_WORLD.Get_rank()
        sys.stderr.write(f"[rank {rank}] uncaught exception, aborting the job (all ranks):\n")
        previous(exc_type, exc, tb)
        abort(1)

    def thread_hook(args):
        hook(args.exc_type, args.exc_value, args.exc_traceback)

    sys.excepthook = hook
    threading.excepthook = thread_hook
    _HOOKED = True
