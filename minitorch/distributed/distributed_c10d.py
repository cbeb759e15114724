"""Process groups and collectives (PyTorch's ``torch.distributed`` API) on MPI through mpi4py.

Every collective of a process runs, in program order, on one communication thread (as PyTorch's gloo backend runs
them on a worker thread): ``async_op=True`` queues it and returns a ``Work`` at once, so the caller computes while
MPI communicates (MPI calls release the GIL); a synchronous call runs in the calling thread when nothing is queued,
else queues and waits. Program order on one thread keeps every rank issuing the same collectives in the same order.

Before its data moves, each collective checks that every rank of the group has arrived at the same collective with
matching tensors: the ranks exchange a small fingerprint (sequence number, collective, dtype, shape, root, reduce
op; 16 int64s) point to point on a separate communicator (each rank sends N-1 such messages: tens of
microseconds on one machine, a few network latencies across machines). A mismatch raises RuntimeError on every
rank ("Detected mismatch between collectives on ranks ..."), and a rank that has not arrived when the group's timeout runs out (the
``timeout`` of ``init_process_group``/``new_group``, 30 minutes by default, as PyTorch's) raises ``DistBackendError``
naming the collective and the ranks missing. ``MINITORCH_DISTRIBUTED_CHECK=0`` turns the fingerprint off: the ranks
then meet at a non-blocking barrier (the timeout still names the collective, not the missing ranks) and a mismatched
collective is undefined behaviour, as in MPI. Once everyone has arrived the data moves with MPI's blocking calls.
A rank whose process ends (its program finished or called ``sys.exit``) tells the others at exit; one waiting for
it in a collective or a receive then raises ``DistBackendError`` at once ("rank(s) [1] exited without joining it"),
as gloo reports a closed connection. An uncaught exception aborts the whole MPI job (see ``_mpi``).

Point-to-point ``send``/``recv``/``isend``/``irecv`` start MPI's non-blocking calls at once, outside the queue (so a
send never waits behind a collective the receiver has not reached).
"""
import atexit
import datetime
import enum
import io
import os
import threading
import time
import warnings
from collections import deque

import numpy as np

from . import _buffers, _mpi

__all__ = [
    "Backend", "ReduceOp", "Work", "ProcessGroup", "GroupMember", "group", "DistError", "DistBackendError",
    "default_pg_timeout", "init_process_group", "destroy_process_group", "is_initialized", "is_available",
    "is_mpi_available", "is_gloo_available", "is_nccl_available", "is_torchelastic_launched", "get_rank",
    "get_world_size", "get_backend", "get_default_backend_for_device", "get_process_group_ranks",
    "get_global_rank", "get_group_rank", "new_group", "barrier", "monitored_barrier", "all_reduce", "reduce",
    "broadcast", "all_gather", "all_gather_into_tensor", "reduce_scatter", "reduce_scatter_tensor", "gather",
    "scatter", "all_to_all", "all_to_all_single", "send", "recv", "isend", "irecv", "all_gather_object",
    "broadcast_object_list", "gather_object", "scatter_object_list", "P2POp", "batch_isend_irecv",
    "send_object_list", "recv_object_list", "get_node_local_rank", "is_backend_available",
]

default_pg_timeout = datetime.timedelta(minutes=30)
_NOT_INIT = "Default process group has not been initialized, please make sure to call init_process_group."


class DistError(RuntimeError):
    """Base of the errors minitorch.distributed raises (as ``torch.distributed.DistError``)."""


class DistBackendError(DistError):
    """The communication itself failed: a timeout, a rank missing."""


class Backend(str):
    """A backend name (a lowercase string). ``"mpi"`` is minitorch's engine; ``"gloo"`` and ``"nccl"`` (PyTorch's
    CPU and CUDA backends) are accepted and select the same MPI transport, so PyTorch programs run unchanged."""

    UNDEFINED = "undefined"
    GLOO = "gloo"
    NCCL = "nccl"
    MPI = "mpi"
    backend_list = [UNDEFINED, GLOO, NCCL, MPI]
    default_device_backend_map = {"cpu": GLOO, "cuda": NCCL}

    def __new__(cls, name):
        if not isinstance(name, str):
            raise ValueError(f"Backend constructor parameter must be string-ish, but got: {type(name).__name__}")
        value = name.lower()
        if value not in (cls.GLOO, cls.NCCL, cls.MPI) and not _is_device_backend_string(value):
            raise ValueError(f"Invalid backend: '{name}'")
        return str.__new__(cls, value)


def _is_device_backend_string(value):
    """'cpu:gloo,cuda:nccl' style strings (what PyTorch makes of backend=None)."""
    parts = [p.split(":") for p in value.split(",")]
    return all(len(p) == 2 and p[1] in (Backend.GLOO, Backend.NCCL, Backend.MPI) for p in parts)


class ReduceOp:
    """Reduction operations: ``ReduceOp.SUM``, ``AVG``, ``PRODUCT``, ``MIN``, ``MAX``, ``BAND``, ``BOR``, ``BXOR``
    (members of ``ReduceOp.RedOpType``, as in PyTorch)."""

    class RedOpType(enum.IntEnum):
        SUM = 0
        AVG = 1
        PRODUCT = 2
        MIN = 3
        MAX = 4
        BAND = 5
        BOR = 6
        BXOR = 7

    SUM = RedOpType.SUM
    AVG = RedOpType.AVG
    PRODUCT = RedOpType.PRODUCT
    MIN = RedOpType.MIN
    MAX = RedOpType.MAX
    BAND = RedOpType.BAND
    BOR = RedOpType.BOR
    BXOR = RedOpType.BXOR


def _op_name(op):
    if isinstance(op, ReduceOp.RedOpType):
        return op.name
    if isinstance(op, str) and op.upper() in ReduceOp.RedOpType.__members__:
        return op.upper()
    raise ValueError(f"Invalid reduce operation {op!r}: use minitorch.distributed.ReduceOp.SUM, AVG, PRODUCT, MIN, "
                     "MAX, BAND, BOR or BXOR")


# -------------------------------------------------------------------------------------------------------------
# Work: the handle of a (possibly asynchronous) operation
# -------------------------------------------------------------------------------------------------------------
class Work:
    """A running or finished operation: ``wait()`` blocks until it is done (raising its error, if it failed),
    ``is_completed()`` asks without blocking, ``result()`` gives its output tensors."""

    def __init__(self, name, outputs=()):
        self._name = name
        self._outputs = list(outputs)
        self._done = threading.Event()
        self._exc = None

    def _finish(self, exc=None):
        self._exc = exc
        self._done.set()

    def is_completed(self):
        return self._done.is_set()

    def is_success(self):
        return self._done.is_set() and self._exc is None

    def exception(self):
        return self._exc

    def wait(self, timeout=None):
        """Block until done; raise the operation's error. ``timeout`` (a timedelta) bounds the wait."""
        seconds = None if timeout is None else _seconds(timeout)
        if not self._done.wait(seconds):
            raise DistBackendError(f"Timed out after {seconds} s waiting for {self._name} to finish")
        if self._exc is not None:
            raise self._exc
        return True

    synchronize = wait

    def result(self):
        self.wait()
        return self._outputs

    def source_rank(self):
        return getattr(self, "_source", -1)

    def get_future(self):
        return _Future(self)


class _Future:
    """The little of ``torch.futures.Future`` that code waiting on a Work uses."""

    def __init__(self, work):
        self._work = work

    def wait(self):
        return self._work.result()

    value = wait

    def done(self):
        return self._work.is_completed()

    def then(self, callback):
        self._work.wait()
        out = _Future(Work(self._work._name))
        out._value = callback(self)
        out._work._outputs = out._value
        out._work._finish()
        return out


class _P2PWork(Work):
    """A send or receive: an MPI request started at once; ``wait`` polls it until done or the group's timeout."""

    def __init__(self, name, request, pg, on_done=None, keep=(), peer=None):
        super().__init__(name)
        self._peer = peer  # the other side's global rank (None: any)
        self._request = request
        self._pg = pg
        self._on_done = on_done
        self._keep = keep  # buffers MPI reads or writes until the request completes
        self._status = _mpi.load().Status()
        self._lock = threading.Lock()

    def _complete(self):
        self._request = None
        if self._on_done is not None:
            self._source = self._on_done(self._status)
        self._keep = None
        self._finish()

    def is_completed(self):
        with self._lock:
            if not self._done.is_set() and self._request.Test(self._status):
                self._complete()
        return self._done.is_set()

    def wait(self, timeout=None):
        seconds = _seconds(timeout) if timeout is not None else self._pg._timeout_s

        def test():
            if self._request.Test(self._status):
                return True
            if self._peer is not None and _STATE.departures is not None and \
                    self._peer in _STATE.departures.poll():
                raise DistBackendError(f"{self._name}: rank {self._peer} exited before it completed")
            return False
        with self._lock:
            if not self._done.is_set():
                _poll(test, time.monotonic() + seconds,
                      lambda: DistBackendError(f"{self._name} timed out after {seconds:g} s"))
                self._complete()
        return super().wait()


def _seconds(timeout):
    if isinstance(timeout, datetime.timedelta):
        return timeout.total_seconds()
    return float(timeout)


_yield = getattr(os, "sched_yield", lambda: time.sleep(0))


def _poll(test, deadline, on_timeout):
    """Call ``test()`` until it is true; raise ``on_timeout()`` past ``deadline``. For the first millisecond it
    yields the core between tests (a peer that is already there answers within microseconds, and one that waits
    for a core on a busy machine gets it at once), then sleeps between tests for a hundredth of the time waited so
    far (at most 1 ms), which keeps a long wait cheap."""
    start = time.monotonic()
    while not test():
        now = time.monotonic()
        if now > deadline:
            raise on_timeout()
        waited = now - start
        if waited > 1e-3:
            time.sleep(min(1e-3, waited / 100))
        else:
            _yield()


# -------------------------------------------------------------------------------------------------------------
# the communication thread
# -------------------------------------------------------------------------------------------------------------
class _Executor:
    """Runs jobs one at a time in submission order: inline for a synchronous call when idle, else on a thread."""

    def __init__(self):
        self._cv = threading.Condition()
        self._queue = deque()
        self._running = False
        self._thread = None
        self._stop = False

    def submit(self, work, job, async_op):
        with self._cv:
            inline = not async_op and not self._queue and not self._running
            if inline:
                self._running = True
            else:
                self._queue.append((work, job))
                if self._thread is None:
                    self._thread = threading.Thread(target=self._loop, name="minitorch-distributed", daemon=True)
                    self._thread.start()
                self._cv.notify_all()
        if inline:
            try:
                _run_job(work, job)
            finally:
                with self._cv:
                    self._running = False
                    self._cv.notify_all()
        return work

    def _loop(self):
        while True:
            with self._cv:
                while (not self._queue or self._running) and not self._stop:
                    self._cv.wait()
                if self._stop and not self._queue:
                    return
                work, job = self._queue.popleft()
                self._running = True
            try:
                _run_job(work, job)
            finally:
                with self._cv:
                    self._running = False
                    self._cv.notify_all()

    def drain(self):
        """Wait until everything queued has run, then stop the thread."""
        with self._cv:
            while self._queue or self._running:
                self._cv.wait()
            self._stop = True
            self._cv.notify_all()
        if self._thread is not None:
            self._thread.join()


def _run_job(work, job):
    try:
        job()
    except BaseException as e:  # the waiter re-raises it
        work._finish(e)
    else:
        work._finish()


# -------------------------------------------------------------------------------------------------------------
# process groups
# -------------------------------------------------------------------------------------------------------------
_DTYPE_CODES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32", "float64"]
_OPCODES = ["barrier", "all_reduce", "reduce", "broadcast", "all_gather", "all_gather_into_tensor",
            "reduce_scatter", "reduce_scatter_tensor", "gather", "scatter", "all_to_all", "all_to_all_single",
            "all_gather_object", "broadcast_object_list", "gather_object", "scatter_object_list", "new_group",
            "monitored_barrier"]
_MAXDIM = 8
_FP_LEN = 8 + _MAXDIM  # seq, opcode, dtype, root, reduce op, count, ndim, extra, dims...
_FP_TAG = 7
_BYE_TAG = 8


class _Departures:
    """Notices that peers' processes ended (as gloo notices a closed connection): at exit every rank sends each
    peer a message on its own communicator, for which every rank keeps a receive posted; a rank waiting in a
    collective for a peer that has left raises instead of waiting for the timeout."""

    def __init__(self, MPI):
        self._MPI = MPI
        self._comm = MPI.COMM_WORLD.Dup()
        me, size = self._comm.Get_rank(), self._comm.Get_size()
        self._peers = [r for r in range(size) if r != me]
        self._bufs = np.zeros((size, 1), dtype=np.int64)
        self._reqs = [self._comm.Irecv([self._bufs[r], MPI.INT64_T], source=r, tag=_BYE_TAG) for r in self._peers]
        self.gone = set()

    def poll(self):
        for r, q in zip(self._peers, self._reqs):
            if r not in self.gone and q.Test():
                self.gone.add(r)
        return self.gone

    def announce(self):
        """Tell every peer that this process is ending (at exit, before MPI_Finalize)."""
        MPI = self._MPI
        if not MPI.Is_initialized() or MPI.Is_finalized():
            return
        note = np.ones(1, dtype=np.int64)
        sends = [self._comm.Isend([note, MPI.INT64_T], dest=r, tag=_BYE_TAG) for r in self._peers]
        try:
            _poll(lambda: MPI.Request.Testall(sends), time.monotonic() + 5.0, lambda: TimeoutError())
        except TimeoutError:
            pass


class ProcessGroup:
    """A group of ranks with its own MPI communicator (``rank()``, ``size()`` as in PyTorch)."""

    def __init__(self, comm, ranks, backend, timeout):
        self._comm = comm  # the data moves here
        self._ctl = comm.Dup()  # fingerprints move here, never mixed with a user's send/recv
        self._ranks = list(ranks)  # global rank of each group rank
        self._backend = backend
        self._timeout_s = _seconds(timeout)
        self._seq = 0
        self._check = os.environ.get("MINITORCH_DISTRIBUTED_CHECK", "1") != "0"

    def rank(self):
        return self._comm.Get_rank()

    def size(self):
        return self._comm.Get_size()

    def name(self):
        return self._backend

    def __repr__(self):
        return f"ProcessGroup(backend={self._backend!r}, ranks={self._ranks})"

    # the arrival check -----------------------------------------------------------------------------------
    def _arrive(self, name, fp, timeout_s=None):
        """Meet the other ranks at collective ``name`` with fingerprint ``fp`` (see _fingerprint): returns once
        every rank is there with a matching one; RuntimeError on a mismatch, DistBackendError on a timeout."""
        seq = self._seq
        self._seq += 1
        size = self.size()
        if size == 1:
            return
        seconds = self._timeout_s if timeout_s is None else timeout_s
        deadline = time.monotonic() + seconds
        MPI = _mpi.load()
        if not self._check:
            req = self._ctl.Ibarrier()

            def met():
                if req.Test():
                    return True
                gone = _STATE.departures.poll() if _STATE.departures is not None else ()
                left = sorted(r for r in self._ranks if r in gone)
                if left:
                    raise DistBackendError(f"{name} (collective #{seq} of this group): rank(s) {left} exited without "
                                           "joining it")
                return False
            _poll(met, deadline, lambda: DistBackendError(
                f"Timed out after {seconds:g} s in {name} (collective #{seq} of this group): some ranks of "
                f"{self._ranks} did not arrive (set MINITORCH_DISTRIBUTED_CHECK=1 to learn which)"))
            return
        fp = np.asarray(fp, dtype=np.int64).copy()
        fp[0] = seq
        me = self.rank()
        got = np.empty((size, _FP_LEN), dtype=np.int64)
        got[me] = fp
        peers = [r for r in range(size) if r != me]
        recvs = [self._ctl.Irecv([got[r], MPI.INT64_T], source=r, tag=_FP_TAG) for r in peers]
        sends = [self._ctl.Isend([fp, MPI.INT64_T], dest=r, tag=_FP_TAG) for r in peers]
        reqs = recvs + sends

        def timed_out():
            missing = [self._ranks[r] for r, q in zip(peers, recvs) if not q.Test()]
            self._leaked = (got, fp, reqs)  # MPI still owns these buffers
            return DistBackendError(
                f"Timed out after {seconds:g} s in {name} (collective #{seq} of this group) on rank "
                f"{self._ranks[me]}: rank(s) {missing} did not arrive")
        def arrived():
            if MPI.Request.Testall(reqs):
                return True
            gone = _STATE.departures.poll() if _STATE.departures is not None else ()
            if gone:
                left = [self._ranks[r] for r, q in zip(peers, recvs) if self._ranks[r] in gone and not q.Test()]
                if left:
                    raise DistBackendError(
                        f"{name} (collective #{seq} of this group) on rank {self._ranks[me]}: rank(s) {left} exited "
                        "without joining it (its process ended: the program finished or called sys.exit)")
            return False
        _poll(arrived, deadline, timed_out)
        diff = [r for r in range(size) if not np.array_equal(got[r], fp)]
        if diff:
            r = diff[0]
            raise RuntimeError(
                "Detected mismatch between collectives on ranks. "
                f"Rank {self._ranks[me]} is running collective: {_describe(fp)}, but Rank {self._ranks[r]} is "
                f"running collective: {_describe(got[r])}.")


def _fingerprint(op, dtype=None, shape=None, root=-1, reduce_op=None, count=-1, extra=-1):
    fp = np.full(_FP_LEN, -1, dtype=np.int64)
    fp[1] = _OPCODES.index(op)
    if dtype is not None:
        fp[2] = _DTYPE_CODES.index(dtype.name)
    fp[3] = root
    if reduce_op is not None:
        fp[4] = int(ReduceOp.RedOpType[reduce_op])
    fp[5] = count
    if shape is not None:
        shape = tuple(shape)
        fp[6] = len(shape)
        dims = list(shape[:_MAXDIM])
        if len(shape) > _MAXDIM:
            dims[-1] = int(np.prod(shape[_MAXDIM - 1:]))
        fp[8:8 + len(dims)] = dims
    fp[7] = extra
    return fp


def _describe(fp):
    fp = [int(v) for v in fp]
    parts = [f"SequenceNumber={fp[0]}", f"OpType={_OPCODES[fp[1]]}"]
    if fp[6] >= 0:
        parts.append(f"TensorShape={fp[8:8 + min(fp[6], _MAXDIM)]}")
    if fp[2] >= 0:
        parts.append(f"TensorDtype={_DTYPE_CODES[fp[2]]}")
    if fp[3] >= 0:
        parts.append(f"Root={fp[3]}")
    if fp[4] >= 0:
        parts.append(f"ReduceOp={ReduceOp.RedOpType(fp[4]).name}")
    if fp[5] >= 0:
        parts.append(f"Count={fp[5]}")
    if fp[7] >= 0:
        parts.append(f"Extra={fp[7]}")
    return "CollectiveFingerPrint(" + ", ".join(parts) + ")"


class _GroupMember:
    """``group.WORLD`` is the default process group once ``init_process_group`` ran (None before);
    ``NON_GROUP_MEMBER`` is what ``new_group`` gives a rank outside the group."""

    def __init__(self):
        self.NON_GROUP_MEMBER = _NonMember()

    @property
    def WORLD(self):
        return _STATE.world


class _NonMember:
    def __repr__(self):
        return "GroupMember.NON_GROUP_MEMBER"


class _State:
    world = None
    executor = None
    groups = []
    departures = None


_STATE = _State()
GroupMember = _GroupMember()
group = GroupMember


# -------------------------------------------------------------------------------------------------------------
# setup
# -------------------------------------------------------------------------------------------------------------
def is_available():
    """Whether the MPI engine (mpi4py and an MPI library) is installed."""
    return _mpi.is_available()


def is_mpi_available():
    return _mpi.is_available()


def is_gloo_available():
    """True when MPI is available: backend "gloo" runs on it."""
    return _mpi.is_available()


def is_nccl_available():
    """True when MPI is available: backend "nccl" runs on it (CUDA tensors staged through host memory)."""
    return _mpi.is_available()


def is_initialized():
    return _STATE.world is not None


def is_torchelastic_launched():
    return os.environ.get("TORCHELASTIC_RUN_ID") is not None


def get_default_backend_for_device(device):
    from ..device import device as _device
    kind = _device(device).type if not isinstance(device, _device) else device.type
    if kind not in Backend.default_device_backend_map:
        raise ValueError(f"Default backend not registered for device : {kind}")
    return Backend.default_device_backend_map[kind]


def _env_int(name):
    value = os.environ.get(name)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"Error initializing torch.distributed using env:// rendezvous: environment variable "
                         f"{name} is expected to be an integer, got {value!r}") from None


def init_process_group(backend=None, init_method=None, timeout=None, world_size=-1, rank=-1, store=None,
                       group_name="", pg_options=None, device_id=None):
    """Join the default process group: every process of the job (started by ``mpiexec -n N`` or
    ``python -m minitorch.distributed.run``) calls it once.

    Args:
        backend: ``"mpi"`` (minitorch's engine), or PyTorch's ``"gloo"``/``"nccl"``, which run on the same MPI
            transport; None means ``"mpi"``. ``get_backend()`` gives back the name asked for.
        init_method: None or ``"env://"`` (rank and size come from MPI; ``RANK``/``WORLD_SIZE`` from the
            environment, when set, must agree). ``tcp://`` and ``file://`` URLs are accepted for compatibility; MPI
            does the rendezvous either way.
        timeout: a ``datetime.timedelta``; a collective whose ranks have not all arrived by then raises
            ``DistBackendError`` naming the missing ranks (default 30 minutes, as PyTorch's).
        world_size, rank: when given (not -1), must equal MPI's view, else ValueError.
        store, group_name, pg_options, device_id: accepted for compatibility; unused.
    """
    if _STATE.world is not None:
        raise ValueError("trying to initialize the default process group twice!")
    name = Backend(backend) if backend is not None else Backend(Backend.MPI)
    if timeout is None:
        timeout = default_pg_timeout
    elif not isinstance(timeout, datetime.timedelta):
        raise TypeError(f"Expected timeout argument to be of type datetime.timedelta, got {type(timeout).__name__}")
    if init_method is not None and not isinstance(init_method, str):
        raise TypeError(f"init_method must be a string, got {type(init_method).__name__}")
    if init_method is not None and init_method.split("://")[0] not in ("env", "tcp", "file"):
        raise ValueError(f"Invalid init_method {init_method!r}: minitorch.distributed accepts env://, tcp:// and "
                         "file:// (MPI does the rendezvous)")
    MPI = _mpi.load()
    comm = MPI.COMM_WORLD
    mpi_rank, mpi_size = comm.Get_rank(), comm.Get_size()
    env_size, env_rank = _env_int("WORLD_SIZE"), _env_int("RANK")
    if mpi_size == 1 and (env_size or 1) > 1:
        raise RuntimeError(
            f"WORLD_SIZE={env_size} in the environment, but MPI sees this process alone: minitorch.distributed "
            "runs on MPI, so start the processes with `python -m minitorch.distributed.run --nproc-per-node N "
            "script.py` or `mpiexec -n N python script.py`, not one by one")
    for what, value in (("world_size", world_size), ("WORLD_SIZE", env_size)):
        if value not in (None, -1) and int(value) != mpi_size:
            raise ValueError(f"{what}={value} does not match the {mpi_size} processes MPI started")
    for what, value in (("rank", rank), ("RANK", env_rank)):
        if value not in (None, -1) and int(value) != mpi_rank:
            raise ValueError(f"{what}={value} does not match this process's MPI rank {mpi_rank}")
    # what torchrun would have set, for code that reads the environment after init (plain mpiexec runs)
    os.environ.setdefault("RANK", str(mpi_rank))
    os.environ.setdefault("WORLD_SIZE", str(mpi_size))
    local = comm.Split_type(MPI.COMM_TYPE_SHARED, key=mpi_rank)
    os.environ.setdefault("LOCAL_RANK", str(local.Get_rank()))
    os.environ.setdefault("LOCAL_WORLD_SIZE", str(local.Get_size()))
    local.Free()
    _STATE.executor = _Executor()
    _STATE.world = ProcessGroup(comm.Dup(), range(mpi_size), name, timeout)
    _STATE.groups = [_STATE.world]
    _mpi.install_excepthook()
    if _STATE.departures is None and mpi_size > 1:
        _STATE.departures = _Departures(MPI)
    global _EXIT_HOOKED
    if not _EXIT_HOOKED:  # runs before MPI_Finalize (registered earlier): queued collectives finish first
        atexit.register(_drain_at_exit)
        _EXIT_HOOKED = True


_EXIT_HOOKED = False


def _drain_at_exit():
    if _STATE.executor is not None:
        _STATE.executor.drain()
    if _STATE.departures is not None:
        _STATE.departures.announce()


def destroy_process_group(group=None):
    """Finish queued work and free the group (the default group and every other one when ``group`` is None)."""
    if _STATE.world is None:
        raise ValueError(_NOT_INIT)
    if group is None or group is _STATE.world:
        _STATE.executor.drain()
        for pg in _STATE.groups:
            if isinstance(pg, ProcessGroup):
                pg._ctl.Free()
                pg._comm.Free()
        _STATE.world, _STATE.executor, _STATE.groups = None, None, []
    elif isinstance(group, ProcessGroup) and group in _STATE.groups:
        _STATE.groups.remove(group)
        group._ctl.Free()
        group._comm.Free()


def _default():
    if _STATE.world is None:
        raise ValueError(_NOT_INIT)
    return _STATE.world


def _resolve(group):
    pg = _default()
    if group is None:
        return pg
    if isinstance(group, (ProcessGroup, _NonMember)):
        return group
    raise TypeError(f"group must be a ProcessGroup from minitorch.distributed.new_group, got "
                    f"{type(group).__name__}")


def get_rank(group=None):
    """This process's rank in ``group`` (the default group by default); -1 outside the group."""
    pg = _resolve(group)
    return -1 if isinstance(pg, _NonMember) else pg.rank()


def get_world_size(group=None):
    """The number of ranks in ``group``; -1 outside the group."""
    pg = _resolve(group)
    return -1 if isinstance(pg, _NonMember) else pg.size()


def get_backend(group=None):
    pg = _resolve(group)
    if isinstance(pg, _NonMember):
        raise ValueError("Invalid process group specified")
    return pg._backend


def get_process_group_ranks(group):
    pg = _resolve(group)
    if isinstance(pg, _NonMember):
        raise ValueError("Invalid process group specified")
    return list(pg._ranks)


def get_global_rank(group, group_rank):
    ranks = get_process_group_ranks(group)
    if not 0 <= group_rank < len(ranks):
        raise ValueError(f"Group rank {group_rank} is not part of group {ranks}")
    return ranks[group_rank]


def get_group_rank(group, global_rank):
    ranks = get_process_group_ranks(group)
    if global_rank not in ranks:
        raise ValueError(f"Global rank {global_rank} is not part of group {ranks}")
    return ranks.index(global_rank)


def new_group(ranks=None, timeout=None, backend=None, pg_options=None, use_local_synchronization=False,
              group_desc=None, device_id=None, sort_ranks=True):
    """A process group of the given global ranks (all of them by default). Every rank of the default group must
    call it, in the same order; ranks outside ``ranks`` get ``GroupMember.NON_GROUP_MEMBER``."""
    world = _default()
    size = world.size()
    ranks = list(range(size)) if ranks is None else [int(r) for r in ranks]
    if sort_ranks:
        ranks = sorted(ranks)
    for r in ranks:
        if not 0 <= r < size:
            raise ValueError(f"The new group's rank should be within the world_size set by init_process_group, "
                             f"got rank {r} for world size {size}")
    if len(set(ranks)) != len(ranks):
        raise ValueError(f"new_group: duplicate ranks in {ranks}")
    name = world._backend if backend is None else Backend(backend)
    timeout = world._timeout_s if timeout is None else _seconds(timeout)
    MPI = _mpi.load()
    me = world.rank()
    out = []

    def job():
        world._arrive("new_group", _fingerprint("new_group", count=len(ranks), extra=_ranks_hash(ranks)))
        color = 0 if me in ranks else MPI.UNDEFINED
        key = ranks.index(me) if me in ranks else 0
        comm = world._comm.Split(color, key)
        out.append(comm)
    _STATE.executor.submit(Work("new_group"), job, False).wait()
    if me not in ranks:
        return GroupMember.NON_GROUP_MEMBER
    pg = ProcessGroup(out[0], ranks, name, datetime.timedelta(seconds=timeout))
    _STATE.groups.append(pg)
    return pg


def _ranks_hash(ranks):
    h = 0
    for r in ranks:
        h = (h * 1000003 + r + 1) % (1 << 61)
    return h


# -------------------------------------------------------------------------------------------------------------
# running a collective
# -------------------------------------------------------------------------------------------------------------
def _submit(pg, name, fp, body, async_op, outputs=(), timeout_s=None):
    if isinstance(pg, _NonMember):
        warnings.warn(f"Running {name} on global rank {_default().rank()}, which does not belong to the given "
                      "group.")
        return None
    work = Work(name, outputs)

    def job():
        pg._arrive(name, fp, timeout_s)
        body(pg, _mpi.load())
    _STATE.executor.submit(work, job, async_op)
    if async_op:
        return work
    work.wait()
    return None


def _check_tensor(t, name, what="tensor"):
    from ..tensor import Tensor
    if not isinstance(t, Tensor):
        raise TypeError(f"{name}: {what} must be a minitorch Tensor, got {type(t).__name__}")


def _check_list(ts, name, what):
    if not isinstance(ts, (list, tuple)):
        raise TypeError(f"{name}: {what} must be a list of tensors, got {type(ts).__name__}")
    for t in ts:
        _check_tensor(t, name, what)


def _root(pg, name, rank, group_rank, what, required=False):
    """The group rank of a collective's root, given as a global rank or (``group_src``/``group_dst``) a group
    rank; rank 0 when neither is given, unless ``required`` (as PyTorch's broadcast, reduce and send)."""
    if rank is None and group_rank is None and required:
        raise ValueError("Must specify global_rank or group_rank")
    if isinstance(pg, _NonMember):
        return -1
    if rank is not None and group_rank is not None:
        raise ValueError("Can't specify both group_rank and global_rank")
    if group_rank is not None:
        if not 0 <= group_rank < pg.size():
            raise ValueError(f"{name}: group_{what}={group_rank} is not a rank of a group of size {pg.size()}")
        return group_rank
    if rank is None:
        rank = 0
    if rank not in pg._ranks:
        raise ValueError(f"{name}: {what}={rank} is not part of the group (global ranks {pg._ranks})")
    return pg._ranks.index(rank)


def _flat_host(tensors):
    """The tensors' elements one after another in a new host array (storage dtype)."""
    parts = [_buffers.HostBuffer(t).arr for t in tensors]
    return np.concatenate(parts) if parts else np.empty(0)


def _write(t, host):
    """Copy a flat host array into tensor ``t``."""
    buf = _buffers.HostBuffer(t, need_values=False)
    np.copyto(buf.arr, host.reshape(buf.arr.shape).view(buf.arr.dtype))
    buf.finish()


def _same_dtype(name, tensors, dtype):
    for t in tensors:
        if t.dtype is not dtype:
            raise TypeError(f"{name}: tensors must all have dtype {dtype}, got one of dtype {t.dtype}")


# -------------------------------------------------------------------------------------------------------------
# collectives
# -------------------------------------------------------------------------------------------------------------
def barrier(group=None, async_op=False, device_ids=None, timeout=None):
    """Wait until every rank of the group gets here."""
    pg = _resolve(group)
    return _submit(pg, "barrier", _fingerprint("barrier"), lambda pg, MPI: None, async_op,
                   timeout_s=None if timeout is None else _seconds(timeout))


def monitored_barrier(group=None, timeout=None, wait_all_ranks=False):
    """A barrier whose timeout names the ranks that did not arrive (every barrier here does)."""
    pg = _resolve(group)
    return _submit(pg, "monitored_barrier", _fingerprint("monitored_barrier"), lambda pg, MPI: None, False,
                   timeout_s=None if timeout is None else _seconds(timeout))


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce ``tensor`` over the group in place: afterwards every rank holds the same result."""
    _check_tensor(tensor, "all_reduce")
    pg = _resolve(group)
    opn = _op_name(op)
    MPI = _mpi.load()
    mop = _buffers.mpi_op(MPI, opn, tensor.dtype)

    def body(pg, MPI):
        buf = _buffers.HostBuffer(tensor)
        arr = _buffers.mpi_view(buf.arr)
        pg._comm.Allreduce(MPI.IN_PLACE, [arr, _buffers.mpi_type(MPI, tensor.dtype)], mop)
        if opn == "AVG":
            _buffers.finish_avg(buf.arr, tensor.dtype, pg.size())
        buf.finish()
    return _submit(pg, "all_reduce", _fingerprint("all_reduce", tensor.dtype, tensor.shape, reduce_op=opn), body,
                   async_op, [tensor])


def reduce(tensor, dst=None, op=ReduceOp.SUM, group=None, async_op=False, group_dst=None):
    """Reduce ``tensor`` over the group into rank ``dst``'s tensor (the others' tensors are left as they are)."""
    _check_tensor(tensor, "reduce")
    pg = _resolve(group)
    root = _root(pg, "reduce", dst, group_dst, "dst", required=True)
    opn = _op_name(op)
    MPI = _mpi.load()
    mop = _buffers.mpi_op(MPI, opn, tensor.dtype)

    def body(pg, MPI):
        buf = _buffers.HostBuffer(tensor)
        arr = [_buffers.mpi_view(buf.arr), _buffers.mpi_type(MPI, tensor.dtype)]
        if pg.rank() == root:
            pg._comm.Reduce(MPI.IN_PLACE, arr, mop, root=root)
            if opn == "AVG":
                _buffers.finish_avg(buf.arr, tensor.dtype, pg.size())
            buf.finish()
        else:
            pg._comm.Reduce(arr, None, mop, root=root)
    return _submit(pg, "reduce", _fingerprint("reduce", tensor.dtype, tensor.shape, root, opn), body, async_op,
                   [tensor])


def broadcast(tensor, src=None, group=None, async_op=False, group_src=None):
    """Copy rank ``src``'s ``tensor`` into every other rank's ``tensor``."""
    _check_tensor(tensor, "broadcast")
    pg = _resolve(group)
    root = _root(pg, "broadcast", src, group_src, "src", required=True)

    def body(pg, MPI):
        is_root = pg.rank() == root
        buf = _buffers.HostBuffer(tensor, need_values=is_root)
        pg._comm.Bcast([_buffers.mpi_view(buf.arr), _buffers.mpi_type(MPI, tensor.dtype)], root=root)
        if not is_root:
            buf.finish()
    return _submit(pg, "broadcast", _fingerprint("broadcast", tensor.dtype, tensor.shape, root), body, async_op,
                   [tensor])


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """``tensor_list[i]`` = rank i's ``tensor``, on every rank."""
    _check_tensor(tensor, "all_gather")
    _check_list(tensor_list, "all_gather", "tensor_list")
    pg = _resolve(group)
    if not isinstance(pg, _NonMember):
        _gather_list_shapes("all_gather", tensor_list, tensor, pg.size())

    def body(pg, MPI):
        n = tensor.numel()
        send = _buffers.mpi_view(_buffers.HostBuffer(tensor).arr)
        recv = np.empty(n * pg.size(), dtype=send.dtype)
        t = _buffers.mpi_type(MPI, tensor.dtype)
        pg._comm.Allgather([send, t], [recv, t])
        for i, out in enumerate(tensor_list):
            _write(out, recv[i * n:(i + 1) * n])
    return _submit(pg, "all_gather", _fingerprint("all_gather", tensor.dtype, tensor.shape), body, async_op,
                   tensor_list)


def _gather_list_shapes(name, tensor_list, tensor, size):
    if len(tensor_list) != size:
        raise ValueError(f"{name}: the tensor list has {len(tensor_list)} tensors for a group of {size} ranks")
    for out in tensor_list:
        if out.numel() != tensor.numel() or out.dtype is not tensor.dtype:
            raise ValueError(f"{name}: every tensor of the list must have the input's size and dtype "
                             f"({list(tensor.shape)}, {tensor.dtype}); got {list(out.shape)}, {out.dtype}")


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op=False):
    """Every rank's ``input_tensor`` concatenated (rank order) into ``output_tensor`` (``world_size`` times as
    many elements: stacked or concatenated along dim 0)."""
    _check_tensor(output_tensor, "all_gather_into_tensor", "output_tensor")
    _check_tensor(input_tensor, "all_gather_into_tensor", "input_tensor")
    pg = _resolve(group)
    if not isinstance(pg, _NonMember):
        if output_tensor.numel() != input_tensor.numel() * pg.size():
            raise ValueError(f"all_gather_into_tensor: output tensor size must be equal to world_size times input "
                             f"tensor size: {list(output_tensor.shape)} vs {pg.size()} x {list(input_tensor.shape)}")
        if output_tensor.dtype is not input_tensor.dtype:
            raise TypeError(f"all_gather_into_tensor: output dtype {output_tensor.dtype} does not match the input's "
                            f"{input_tensor.dtype}")

    def body(pg, MPI):
        send = _buffers.mpi_view(_buffers.HostBuffer(input_tensor).arr)
        out = _buffers.HostBuffer(output_tensor, need_values=False)
        t = _buffers.mpi_type(MPI, input_tensor.dtype)
        pg._comm.Allgather([send, t], [_buffers.mpi_view(out.arr), t])
        out.finish()
    return _submit(pg, "all_gather_into_tensor",
                   _fingerprint("all_gather_into_tensor", input_tensor.dtype, input_tensor.shape), body, async_op,
                   [output_tensor])


def reduce_scatter(output, input_list, op=ReduceOp.SUM, group=None, async_op=False):
    """``output`` on rank i = the reduction over ranks of their ``input_list[i]``."""
    _check_tensor(output, "reduce_scatter", "output")
    _check_list(input_list, "reduce_scatter", "input_list")
    pg = _resolve(group)
    if not isinstance(pg, _NonMember):
        _gather_list_shapes("reduce_scatter", input_list, output, pg.size())
    opn = _op_name(op)
    mop = _buffers.mpi_op(_mpi.load(), opn, output.dtype)

    def body(pg, MPI):
        send = _buffers.mpi_view(_flat_host(input_list))
        out = _buffers.HostBuffer(output, need_values=False)
        t = _buffers.mpi_type(MPI, output.dtype)
        pg._comm.Reduce_scatter_block([send, t], [_buffers.mpi_view(out.arr), t], mop)
        if opn == "AVG":
            _buffers.finish_avg(out.arr, output.dtype, pg.size())
        out.finish()
    return _submit(pg, "reduce_scatter", _fingerprint("reduce_scatter", output.dtype, output.shape,
                                                      reduce_op=opn), body, async_op, [output])


def reduce_scatter_tensor(output, input, op=ReduceOp.SUM, group=None, async_op=False):
    """``input`` (``world_size`` times ``output``'s elements) reduced over ranks, chunk i to rank i's
    ``output``."""
    _check_tensor(output, "reduce_scatter_tensor", "output")
    _check_tensor(input, "reduce_scatter_tensor", "input")
    pg = _resolve(group)
    if not isinstance(pg, _NonMember) and input.numel() != output.numel() * pg.size():
        raise ValueError(f"reduce_scatter_tensor: input tensor must be the same size as output size times world "
                         f"size: {list(input.shape)} vs {pg.size()} x {list(output.shape)}")
    if input.dtype is not output.dtype:
        raise TypeError(f"reduce_scatter_tensor: input dtype {input.dtype} does not match the output's "
                        f"{output.dtype}")
    opn = _op_name(op)
    mop = _buffers.mpi_op(_mpi.load(), opn, output.dtype)

    def body(pg, MPI):
        send = _buffers.mpi_view(_buffers.HostBuffer(input).arr)
        out = _buffers.HostBuffer(output, need_values=False)
        t = _buffers.mpi_type(MPI, output.dtype)
        pg._comm.Reduce_scatter_block([send, t], [_buffers.mpi_view(out.arr), t], mop)
        if opn == "AVG":
            _buffers.finish_avg(out.arr, output.dtype, pg.size())
        out.finish()
    return _submit(pg, "reduce_scatter_tensor", _fingerprint("reduce_scatter_tensor", output.dtype, output.shape,
                                                             reduce_op=opn), body, async_op, [output])


def _root_list(pg, root, op, tensors, tensor, side):
    """Whether this rank is the root of a gather/scatter; the root's list is checked, other ranks must pass none."""
    is_root = not isinstance(pg, _NonMember) and pg.rank() == root
    if is_root:
        if tensors is None:
            raise ValueError(f"Argument ``{op}_list`` must be specified on {side} rank.")
        _check_list(tensors, op, f"{op}_list")
        _gather_list_shapes(op, tensors, tensor, pg.size())
    elif tensors:
        raise ValueError(f"Argument ``{op}_list`` must NOT be specified on non-{side} ranks.")
    return is_root


def gather(tensor, gather_list=None, dst=None, group=None, async_op=False, group_dst=None):
    """Rank ``dst``'s ``gather_list[i]`` = rank i's ``tensor`` (``gather_list`` only on ``dst``)."""
    _check_tensor(tensor, "gather")
    pg = _resolve(group)
    root = _root(pg, "gather", dst, group_dst, "dst")
    is_root = _root_list(pg, root, "gather", gather_list, tensor, "destination")

    def body(pg, MPI):
        n = tensor.numel()
        send = _buffers.mpi_view(_buffers.HostBuffer(tensor).arr)
        t = _buffers.mpi_type(MPI, tensor.dtype)
        recv = np.empty(n * pg.size(), dtype=send.dtype) if is_root else None
        pg._comm.Gather([send, t], [recv, t] if is_root else None, root=root)
        if is_root:
            for i, out in enumerate(gather_list):
                _write(out, recv[i * n:(i + 1) * n])
    return _submit(pg, "gather", _fingerprint("gather", tensor.dtype, tensor.shape, root), body, async_op,
                   gather_list or [])


def scatter(tensor, scatter_list=None, src=None, group=None, async_op=False, group_src=None):
    """Rank i's ``tensor`` = rank ``src``'s ``scatter_list[i]`` (``scatter_list`` only on ``src``)."""
    _check_tensor(tensor, "scatter")
    pg = _resolve(group)
    root = _root(pg, "scatter", src, group_src, "src")
    is_root = _root_list(pg, root, "scatter", scatter_list, tensor, "source")

    def body(pg, MPI):
        t = _buffers.mpi_type(MPI, tensor.dtype)
        send = [_buffers.mpi_view(_flat_host(scatter_list)), t] if is_root else None
        out = _buffers.HostBuffer(tensor, need_values=False)
        pg._comm.Scatter(send, [_buffers.mpi_view(out.arr), t], root=root)
        out.finish()
    return _submit(pg, "scatter", _fingerprint("scatter", tensor.dtype, tensor.shape, root), body, async_op,
                   [tensor])


def all_to_all(output_tensor_list, input_tensor_list, group=None, async_op=False):
    """Rank i's ``output_tensor_list[j]`` = rank j's ``input_tensor_list[i]`` (sizes may differ per pair)."""
    _check_list(output_tensor_list, "all_to_all", "output_tensor_list")
    _check_list(input_tensor_list, "all_to_all", "input_tensor_list")
    pg = _resolve(group)
    if not isinstance(pg, _NonMember):
        for what, ts in (("output_tensor_list", output_tensor_list), ("input_tensor_list", input_tensor_list)):
            if len(ts) != pg.size():
                raise ValueError(f"all_to_all: {what} has {len(ts)} tensors for a group of {pg.size()} ranks")
    dtype = input_tensor_list[0].dtype if input_tensor_list else None
    _same_dtype("all_to_all", list(input_tensor_list) + list(output_tensor_list), dtype)

    def body(pg, MPI):
        send = _buffers.mpi_view(_flat_host(input_tensor_list))
        scounts = [t.numel() for t in input_tensor_list]
        rcounts = [t.numel() for t in output_tensor_list]
        recv = np.empty(sum(rcounts), dtype=send.dtype)
        t = _buffers.mpi_type(MPI, dtype)
        pg._comm.Alltoallv([send, (scounts, _offsets(scounts)), t], [recv, (rcounts, _offsets(rcounts)), t])
        for out, lo, n in zip(output_tensor_list, _offsets(rcounts), rcounts):
            _write(out, recv[lo:lo + n])
    return _submit(pg, "all_to_all", _fingerprint("all_to_all", dtype), body, async_op, output_tensor_list)


def _offsets(counts):
    return [int(v) for v in np.concatenate([[0], np.cumsum(counts)[:-1]])] if len(counts) else []


def all_to_all_single(output, input, output_split_sizes=None, input_split_sizes=None, group=None, async_op=False):
    """``input`` split along dim 0 (evenly, or by ``input_split_sizes``), piece j to rank j; ``output`` = the
    pieces received, in rank order (split by ``output_split_sizes``)."""
    _check_tensor(output, "all_to_all_single", "output")
    _check_tensor(input, "all_to_all_single", "input")
    pg = _resolve(group)
    if input.dtype is not output.dtype:
        raise TypeError(f"all_to_all_single: output dtype {output.dtype} does not match the input's {input.dtype}")
    size = 1 if isinstance(pg, _NonMember) else pg.size()

    def splits(t, given, what):
        rows = t.shape[0] if t.dim() else 1
        row = t.numel() // rows if rows else 0
        if given is None or len(given) == 0:
            if rows % size:
                raise ValueError(f"all_to_all_single: {what} dim 0 ({rows}) is not divisible by the group size "
                                 f"{size}")
            given = [rows // size] * size
        given = [int(s) for s in given]
        if len(given) != size or sum(given) != rows:
            raise ValueError(f"all_to_all_single: {what} split sizes {given} must be {size} numbers summing to "
                             f"dim 0 ({rows})")
        return [s * row for s in given]
    scounts = splits(input, input_split_sizes, "input")
    rcounts = splits(output, output_split_sizes, "output")

    def body(pg, MPI):
        send = _buffers.mpi_view(_buffers.HostBuffer(input).arr)
        out = _buffers.HostBuffer(output, need_values=False)
        t = _buffers.mpi_type(MPI, input.dtype)
        pg._comm.Alltoallv([send, (scounts, _offsets(scounts)), t],
                           [_buffers.mpi_view(out.arr), (rcounts, _offsets(rcounts)), t])
        out.finish()
    return _submit(pg, "all_to_all_single", _fingerprint("all_to_all_single", input.dtype), body, async_op,
                   [output])


# -------------------------------------------------------------------------------------------------------------
# point to point
# -------------------------------------------------------------------------------------------------------------
def _peer(pg, name, rank, group_rank, what):
    if isinstance(pg, _NonMember):
        raise ValueError(f"{name}: this rank is not part of the given group")
    if rank is None and group_rank is None and what == "src":
        return None  # recv from any source
    r = _root(pg, name, rank, group_rank, what, required=True)
    if r == pg.rank():
        raise ValueError(f"Invalid {what} rank: {what} must not be the same as rank of the current process.")
    return r


def isend(tensor, dst=None, group=None, tag=0, group_dst=None):
    """Start sending ``tensor`` to rank ``dst``; returns a Work (``wait()`` until it is sent)."""
    _check_tensor(tensor, "isend")
    pg = _resolve(group)
    peer = _peer(pg, "isend", dst, group_dst, "dst")
    MPI = _mpi.load()
    arr = _buffers.mpi_view(_buffers.HostBuffer(tensor).arr)
    req = pg._comm.Isend([arr, _buffers.mpi_type(MPI, tensor.dtype)], dest=peer, tag=tag)
    return _P2PWork(f"send to rank {pg._ranks[peer]} (tag {tag})", req, pg, keep=(arr,), peer=pg._ranks[peer])


def irecv(tensor, src=None, group=None, tag=0, group_src=None):
    """Start receiving into ``tensor`` from rank ``src`` (any rank when None); returns a Work."""
    _check_tensor(tensor, "irecv")
    pg = _resolve(group)
    peer = _peer(pg, "irecv", src, group_src, "src")
    MPI = _mpi.load()
    buf = _buffers.HostBuffer(tensor, need_values=False)
    req = pg._comm.Irecv([_buffers.mpi_view(buf.arr), _buffers.mpi_type(MPI, tensor.dtype)],
                         source=MPI.ANY_SOURCE if peer is None else peer, tag=tag)

    def done(status):
        buf.finish()
        return pg._ranks[status.Get_source()]
    who = "any rank" if peer is None else f"rank {pg._ranks[peer]}"
    return _P2PWork(f"recv from {who} (tag {tag})", req, pg, on_done=done, keep=(buf,),
                    peer=None if peer is None else pg._ranks[peer])


def send(tensor, dst=None, group=None, tag=0, group_dst=None):
    """Send ``tensor`` to rank ``dst`` and wait until it is sent."""
    isend(tensor, dst, group, tag, group_dst).wait()


def recv(tensor, src=None, group=None, tag=0, group_src=None):
    """Receive into ``tensor`` from rank ``src`` (any rank when None); returns the sender's rank."""
    work = irecv(tensor, src, group, tag, group_src)
    work.wait()
    return work.source_rank()


class P2POp:
    """One send or receive for ``batch_isend_irecv``: ``op`` is ``isend`` or ``irecv``."""

    def __init__(self, op, tensor, peer=None, group=None, tag=0, group_peer=None):
        if op not in (isend, irecv):
            raise ValueError("Invalid ``op``. Expected ``op`` to be of type ``torch.distributed.isend`` or "
                             "``torch.distributed.irecv``.")
        _check_tensor(tensor, "P2POp")
        self.op, self.tensor, self.peer, self.group, self.tag, self.group_peer = op, tensor, peer, group, tag, \
            group_peer

    def __repr__(self):
        return f"P2POp(op={self.op.__name__}, peer={self.peer}, tag={self.tag})"


def batch_isend_irecv(p2p_op_list):
    """Start every send and receive of the list at once; returns their Works."""
    if not isinstance(p2p_op_list, (list, tuple)) or not all(isinstance(p, P2POp) for p in p2p_op_list):
        raise ValueError("Invalid ``p2p_op_list``. Each op is expected to to be of type ``torch.distributed.P2POp``.")
    return [p.op(p.tensor, p.peer, p.group, p.tag, p.group_peer) for p in p2p_op_list]


_OBJ_TAG = 9  # object messages travel on the fingerprint communicator: no clash with a user's tags


def send_object_list(object_list, dst=None, group=None, device=None, group_dst=None, use_batch=False):
    """Send the objects of ``object_list`` (minitorch.save's format, no pickle) to rank ``dst``."""
    pg = _resolve(group)
    peer = _peer(pg, "send_object_list", dst, group_dst, "dst")
    MPI = _mpi.load()
    data = _dumps(list(object_list))
    pg._ctl.Send([np.array([data.size], dtype=np.int64), MPI.INT64_T], dest=peer, tag=_OBJ_TAG)
    req = pg._ctl.Isend([data, MPI.BYTE], dest=peer, tag=_OBJ_TAG)
    _P2PWork(f"send_object_list to rank {pg._ranks[peer]}", req, pg, keep=(data,), peer=pg._ranks[peer]).wait()


def recv_object_list(object_list, src=None, group=None, device=None, group_src=None, use_batch=False):
    """Receive into ``object_list`` the objects rank ``src`` (any rank when None) sent; returns the sender."""
    pg = _resolve(group)
    peer = _peer(pg, "recv_object_list", src, group_src, "src")
    MPI = _mpi.load()
    size = np.empty(1, dtype=np.int64)
    src_rank = MPI.ANY_SOURCE if peer is None else peer
    work = _P2PWork(f"recv_object_list from rank {src_rank}", pg._ctl.Irecv([size, MPI.INT64_T], source=src_rank,
                                                                            tag=_OBJ_TAG), pg,
                    on_done=lambda st: st.Get_source(), peer=None if peer is None else pg._ranks[peer])
    work.wait()
    sender = work.source_rank()
    data = np.empty(int(size[0]), dtype=np.uint8)
    _P2PWork("recv_object_list", pg._ctl.Irecv([data, MPI.BYTE], source=sender, tag=_OBJ_TAG), pg,
             peer=pg._ranks[sender]).wait()
    got = _loads(data)
    object_list[:len(got)] = got
    return pg._ranks[sender]


def get_node_local_rank(fallback_rank=None):
    """``LOCAL_RANK`` from the environment (the launcher and init_process_group set it), else ``fallback_rank``."""
    if "LOCAL_RANK" in os.environ:
        return int(os.environ["LOCAL_RANK"])
    if fallback_rank is not None:
        return int(fallback_rank)
    raise RuntimeError("LOCAL_RANK is not in the environment. Consider passing fallback_rank to allow "
                       "`get_node_local_rank` to work, assuming you are not running in a multi-device context and "
                       "want the code to run locally instead.")


def is_backend_available(backend):
    """Whether ``backend`` ("mpi", "gloo", "nccl") can run here: all three are MPI."""
    return backend.lower() in (Backend.MPI, Backend.GLOO, Backend.NCCL) and _mpi.is_available()


# -------------------------------------------------------------------------------------------------------------
# objects: serialised by minitorch.save's format (safetensors + JSON, never pickle) and loaded by its safe loader
# -------------------------------------------------------------------------------------------------------------
def _dumps(obj):
    from ..serialization import _serialize
    return np.frombuffer(_serialize(obj), dtype=np.uint8)


def _loads(data):
    from ..serialization import load
    return load(io.BytesIO(np.ascontiguousarray(data).tobytes()))


def all_gather_object(object_list, obj, group=None):
    """``object_list[i]`` = rank i's ``obj`` (tensors, numbers, strings, lists/dicts of them, minitorch objects:
    what ``minitorch.save`` stores; sent in its format, never pickled)."""
    pg = _resolve(group)
    if isinstance(pg, _NonMember):
        return None
    if len(object_list) != pg.size():
        raise ValueError(f"all_gather_object: object_list has {len(object_list)} entries for a group of "
                         f"{pg.size()} ranks")
    data = _dumps(obj)

    def body(pg, MPI):
        sizes = np.empty(pg.size(), dtype=np.int64)
        pg._comm.Allgather([np.array([data.size], dtype=np.int64), MPI.INT64_T], [sizes, MPI.INT64_T])
        recv = np.empty(int(sizes.sum()), dtype=np.uint8)
        pg._comm.Allgatherv([data, MPI.BYTE], [recv, (list(sizes), _offsets(sizes)), MPI.BYTE])
        for i, (lo, n) in enumerate(zip(_offsets(sizes), sizes)):
            object_list[i] = _loads(recv[lo:lo + n])
    _submit(pg, "all_gather_object", _fingerprint("all_gather_object"), body, False)


def broadcast_object_list(object_list, src=None, group=None, device=None, group_src=None):
    """Replace the entries of ``object_list`` on every rank with rank ``src``'s (same length on every rank)."""
    pg = _resolve(group)
    if isinstance(pg, _NonMember):
        return None
    root = _root(pg, "broadcast_object_list", src, group_src, "src")

    def body(pg, MPI):
        is_root = pg.rank() == root
        data = _dumps(list(object_list)) if is_root else None
        size = np.array([data.size if is_root else 0], dtype=np.int64)
        pg._comm.Bcast([size, MPI.INT64_T], root=root)
        if not is_root:
            data = np.empty(int(size[0]), dtype=np.uint8)
        pg._comm.Bcast([data, MPI.BYTE], root=root)
        if not is_root:
            got = _loads(data)
            object_list[:len(got)] = got
    _submit(pg, "broadcast_object_list", _fingerprint("broadcast_object_list", root=root,
                                                      count=len(object_list)), body, False)


def gather_object(obj, object_gather_list=None, dst=None, group=None, group_dst=None):
    """On rank ``dst``, ``object_gather_list[i]`` = rank i's ``obj`` (the list only on ``dst``)."""
    pg = _resolve(group)
    if isinstance(pg, _NonMember):
        return None
    root = _root(pg, "gather_object", dst, group_dst, "dst")
    is_root = pg.rank() == root
    if is_root and (object_gather_list is None or len(object_gather_list) != pg.size()):
        raise ValueError(f"gather_object: on the destination rank object_gather_list must be a list of "
                         f"{pg.size()} entries")
    data = _dumps(obj)

    def body(pg, MPI):
        sizes = np.empty(pg.size(), dtype=np.int64)
        pg._comm.Gather([np.array([data.size], dtype=np.int64), MPI.INT64_T],
                        [sizes, MPI.INT64_T] if is_root else None, root=root)
        recv = np.empty(int(sizes.sum()) if is_root else 0, dtype=np.uint8)
        pg._comm.Gatherv([data, MPI.BYTE], [recv, (list(sizes), _offsets(sizes)), MPI.BYTE] if is_root else None,
                         root=root)
        if is_root:
            for i, (lo, n) in enumerate(zip(_offsets(sizes), sizes)):
                object_gather_list[i] = _loads(recv[lo:lo + n])
    _submit(pg, "gather_object", _fingerprint("gather_object", root=root), body, False)


def scatter_object_list(scatter_object_output_list, scatter_object_input_list=None, src=None, group=None,
                        group_src=None):
    """``scatter_object_output_list[0]`` on rank i = rank ``src``'s ``scatter_object_input_list[i]``."""
    pg = _resolve(group)
    if isinstance(pg, _NonMember):
        return None
    if not isinstance(scatter_object_output_list, list) or len(scatter_object_output_list) < 1:
        raise ValueError("Expected argument scatter_object_output_list to be a list of size at least 1.")
    root = _root(pg, "scatter_object_list", src, group_src, "src")
    is_root = pg.rank() == root
    if is_root and (scatter_object_input_list is None or len(scatter_object_input_list) != pg.size()):
        raise ValueError(f"scatter_object_list: on the source rank scatter_object_input_list must be a list of "
                         f"{pg.size()} entries")
    parts = [_dumps(o) for o in scatter_object_input_list] if is_root else []

    def body(pg, MPI):
        sizes = np.array([p.size for p in parts] if is_root else [0] * pg.size(), dtype=np.int64)
        mine = np.empty(1, dtype=np.int64)
        pg._comm.Scatter([sizes, MPI.INT64_T] if is_root else None, [mine, MPI.INT64_T], root=root)
        send = [np.concatenate(parts), (list(sizes), _offsets(sizes)), MPI.BYTE] if is_root else None
        recv = np.empty(int(mine[0]), dtype=np.uint8)
        pg._comm.Scatterv(send, [recv, MPI.BYTE], root=root)
        scatter_object_output_list[0] = _loads(recv)
    _submit(pg, "scatter_object_list", _fingerprint("scatter_object_list", root=root), body, False)
