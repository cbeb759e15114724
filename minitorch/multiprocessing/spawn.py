"""``spawn`` / ``start_processes``: run ``fn(i, *args)`` in ``nprocs`` processes and report the first failure.

A child that raises writes its formatted traceback to a file of its own and exits with status 1; the parent reads
it and raises ``ProcessRaisedException`` carrying that text. A child that dies without a Python exception (a
signal, ``os._exit``) gives ``ProcessExitedException`` with its exit code or signal name. On the first failure the
other children are terminated.
"""
import multiprocessing
import multiprocessing.connection
import os
import pickle
import signal
import sys
import tempfile
import time
import traceback
import warnings

__all__ = ["ProcessContext", "ProcessException", "ProcessExitedException", "ProcessRaisedException",
           "SpawnContext", "spawn", "start_processes"]


class ProcessException(Exception):
    """A child process of ``spawn``/``start_processes`` failed; ``error_index`` is its rank, ``pid`` its id."""

    def __init__(self, msg, error_index, pid):
        super().__init__(msg)
        self.msg = msg
        self.error_index = error_index
        self.pid = pid

    def __reduce__(self):
        return type(self), (self.msg, self.error_index, self.pid)


class ProcessRaisedException(ProcessException):
    """The child raised an exception; the message holds its traceback."""


class ProcessExitedException(ProcessException):
    """The child exited without raising: ``exit_code``, and ``signal_name`` when a signal killed it."""

    def __init__(self, msg, error_index, error_pid, exit_code, signal_name=None):
        super().__init__(msg, error_index, error_pid)
        self.exit_code = exit_code
        self.signal_name = signal_name

    def __reduce__(self):
        return type(self), (self.msg, self.error_index, self.pid, self.exit_code, self.signal_name)


def _wrap(fn, i, args, error_file):
    try:
        fn(i, *args)
    except KeyboardInterrupt:
        pass  # the parent is shutting everything down
    except Exception:
        with open(error_file, "wb") as f:
            pickle.dump(traceback.format_exc(), f)
        sys.exit(1)


class ProcessContext:
    """The processes ``start_processes(join=False)`` started: ``join(timeout)`` until it returns True."""

    def __init__(self, processes, error_files):
        self.error_files = error_files
        self.processes = processes
        self.sentinels = {p.sentinel: i for i, p in enumerate(processes)}

    def pids(self):
        return [int(p.pid) for p in self.processes]

    def join(self, timeout=None, grace_period=None):
        """Wait for the processes; True once all have exited successfully, False if some still run after
        ``timeout`` seconds. Raises ``ProcessRaisedException``/``ProcessExitedException`` for the first that
        failed, after terminating the rest (SIGTERM, then SIGKILL after ``grace_period`` seconds)."""
        if not self.sentinels:
            return True
        ready = multiprocessing.connection.wait(list(self.sentinels), timeout=timeout)
        failed = None
        for sentinel in ready:
            index = self.sentinels.pop(sentinel)
            p = self.processes[index]
            p.join()
            if p.exitcode != 0:
                failed = index
                break
        if failed is None:
            return not self.sentinels
        self._terminate_rest(grace_period)
        p = self.processes[failed]
        code = p.exitcode
        error_file = self.error_files[failed]
        if not os.path.exists(error_file) or os.path.getsize(error_file) == 0:
            self._cleanup()
            if code < 0:
                name = signal.Signals(-code).name
                raise ProcessExitedException(f"process {failed} terminated with signal {name}", error_index=failed,
                                             error_pid=p.pid, exit_code=code, signal_name=name)
            raise ProcessExitedException(f"process {failed} terminated with exit code {code}", error_index=failed,
                                         error_pid=p.pid, exit_code=code)
        with open(error_file, "rb") as f:
            original = pickle.load(f)
        self._cleanup()
        msg = f"\n\n-- Process {failed} terminated with the following error:\n{original}"
        raise ProcessRaisedException(msg, failed, p.pid)

    def _terminate_rest(self, grace_period):
        alive = [p for p in self.processes if p.is_alive()]
        for p in alive:
            p.terminate()
        deadline = time.monotonic() + (grace_period if grace_period is not None else 30.0)
        for p in alive:
            p.join(max(deadline - time.monotonic(), 0))
        for p in alive:
            if p.is_alive():
                p.kill()
                p.join()
        self.sentinels.clear()

    def _cleanup(self):
        for path in self.error_files:
            try:
                os.unlink(path)
            except OSError:
                pass


class SpawnContext(ProcessContext):
    """The context ``spawn(join=False)`` returns (kept for older code; same as ``ProcessContext``)."""


def start_processes(fn, args=(), nprocs=1, join=True, daemon=False, start_method="spawn"):
    """Start ``nprocs`` processes with ``start_method`` running ``fn(i, *args)`` for i in ``range(nprocs)``.

    Returns None after all have finished when ``join`` is True, else a ``ProcessContext``.
    """
    ctx = multiprocessing.get_context(start_method)
    error_files = []
    processes = []
    for i in range(nprocs):
        fd, path = tempfile.mkstemp(prefix="minitorch_spawn_", suffix=".err")
        os.close(fd)
        os.unlink(path)  # the child creates it only when it has an error to report
        error_files.append(path)
        p = ctx.Process(target=_wrap, args=(fn, i, args, path), daemon=daemon)
        p.start()
        processes.append(p)
    context = ProcessContext(processes, error_files)
    if not join:
        return context
    while not context.join():
        pass
    context._cleanup()
    return None


def spawn(fn, args=(), nprocs=1, join=True, daemon=False, start_method="spawn"):
    """``start_processes`` with the ``"spawn"`` start method (other methods work, with a FutureWarning).

    Example::

        >>> def work(i, x):
        ...     print(i, x)
        >>> minitorch.multiprocessing.spawn(work, args=("hi",), nprocs=2)   # doctest: +SKIP
    """
    if start_method != "spawn":
        warnings.warn(f"spawn() only supports start_method='spawn' (got {start_method!r}); use "
                      "minitorch.multiprocessing.start_processes(...) for other start methods.",
                      FutureWarning, stacklevel=2)
    return start_processes(fn, args, nprocs, join, daemon, start_method="spawn")
