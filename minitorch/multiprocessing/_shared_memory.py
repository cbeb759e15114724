"""Shared-memory storages: the flat NumPy array behind CPU tensors, mapped from a segment other processes can map.

Two ways to hand a segment to another process, as PyTorch's two sharing strategies:

- ``"file_descriptor"`` (the default): the segment is an anonymous memory file (``memfd_create``) that has no name
  at all; pickling sends a duplicate of its file descriptor (``multiprocessing.reduction.DupFd``), so nothing is
  ever left behind in ``/dev/shm``. Each shared storage keeps one descriptor open.
- ``"file_system"``: the segment is a named file in ``/dev/shm``; pickling sends its name and the receiver maps it
  by name. A reference count kept at the end of the segment (changed under ``flock``) counts the mappings of all
  processes plus the pickles in flight; whoever drops it to zero unlinks the file. Each process drops its
  references when its storages are freed or when it exits (``multiprocessing.util.Finalize``, which a forked child
  does not run for the mappings it inherited). The resource tracker unlinks what a crash leaves behind.

Moving a tensor's storage in place: the data is copied into a new segment and every tensor that holds the old
array (its views, ``.data`` aliases, saved tensors) is pointed at the new one. A tensor's ``_storage`` is a plain
``ndarray``, so the holders are found with ``gc.get_referrers``; one scan serves a whole module.
"""
import gc
import itertools
import mmap
import os
import secrets
import struct
import sys
import threading
import weakref
from multiprocessing import util

import numpy as np

_STRATEGY = ["file_descriptor"]
ALL_STRATEGIES = frozenset(("file_descriptor", "file_system"))
_SHM_DIR = "/dev/shm"
_COUNT = struct.Struct("q")
_names = itertools.count()
# re-entrant: a weakref callback (_forget) can run on a thread that holds it, when an allocation made under the
# lock starts a garbage collection that frees another cached storage (a plain Lock deadlocked there)
_lock = threading.RLock()


def _new_lock_after_fork():
    """A forked child has only the forking thread, but inherits the lock in whatever state another thread of the
    parent left it (a queue's feeder pickling a storage, a garbage collection running ``_forget``): held, it would
    block the child's first shared storage forever. The child starts with a free lock of its own."""
    global _lock
    _lock = threading.RLock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_new_lock_after_fork)
# receiver side: segment key -> weakref to the storage array already mapped here, so that a segment that arrives
# twice (or comes back to the process that made it) maps to the same storage object
_cache = {}


class _Segment(mmap.mmap):
    """A shared mapping; ``np.frombuffer`` arrays over it keep it alive (it is their ``.base``)."""

    strategy = None  # "file_descriptor" | "file_system"
    fd = -1          # file_descriptor: the memory file, kept open to send
    name = None      # file_system: the name under /dev/shm
    key = None
    nbytes = 0


def _round8(n):
    return (n + 7) // 8 * 8


def _map(fd, length):
    return _Segment(fd, max(length, 1), flags=mmap.MAP_SHARED, prot=mmap.PROT_READ | mmap.PROT_WRITE)


def _close_fd(fd):
    try:
        os.close(fd)
    except OSError:
        pass


def _array(seg, dtype, count, offset=0):
    """An array over ``seg``; one that spans the whole segment is remembered as the segment's storage here."""
    arr = np.frombuffer(seg, dtype=dtype, count=count, offset=offset)
    if offset == 0 and count * arr.itemsize == seg.nbytes:
        key = seg.key
        ref = weakref.ref(arr, lambda _r, key=key: _forget(key, _r))
        with _lock:
            _cache[key] = ref
    return arr


def _forget(key, ref):
    with _lock:
        if _cache.get(key) is ref:
            del _cache[key]


def _cached(key):
    with _lock:
        ref = _cache.get(key)
    return None if ref is None else ref()


# ---------------------------------------------------------------------------------------------------------------
# file_system: named segments with a cross-process reference count
# ---------------------------------------------------------------------------------------------------------------
def _path(name):
    return _SHM_DIR + name


def _add_ref(name, nbytes, delta):
    """Change the segment's reference count by ``delta`` under an exclusive lock; unlink it at zero."""
    try:
        fd = os.open(_path(name), os.O_RDWR)
    except FileNotFoundError:
        return
    try:
        import fcntl
        fcntl.flock(fd, fcntl.LOCK_EX)
        pos = _round8(nbytes)
        (count,) = _COUNT.unpack(os.pread(fd, _COUNT.size, pos))
        count += delta
        os.pwrite(fd, _COUNT.pack(count), pos)
        if count <= 0:
            _unlink(name)
    finally:
        os.close(fd)  # also releases the lock


def _unlink(name):
    try:
        os.unlink(_path(name))
    except FileNotFoundError:
        return
    try:
        from multiprocessing import resource_tracker
        resource_tracker.unregister(name, "shared_memory")
    except Exception:  # noqa: BLE001  (no tracker in this process: nothing registered here)
        pass


def _new_file_system(nbytes):
    name = f"/minitorch_{os.getpid()}_{next(_names)}_{secrets.token_hex(4)}"
    fd = os.open(_path(name), os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)
    try:
        os.ftruncate(fd, _round8(nbytes) + _COUNT.size)
        os.pwrite(fd, _COUNT.pack(1), _round8(nbytes))
        seg = _map(fd, nbytes)
    except BaseException:
        os.unlink(_path(name))
        raise
    finally:
        os.close(fd)
    from multiprocessing import resource_tracker
    resource_tracker.register(name, "shared_memory")  # unlinked by the tracker if every process crashes
    seg.strategy, seg.name, seg.key, seg.nbytes = "file_system", name, ("fs", name), nbytes
    util.Finalize(seg, _add_ref, args=(name, nbytes, -1), exitpriority=0)
    return seg


def _attach_file_system(name, nbytes):
    try:
        fd = os.open(_path(name), os.O_RDWR)
    except FileNotFoundError:
        raise RuntimeError(
            f"shared memory segment {name!r} no longer exists: every process that held it has freed it (with the "
            "'file_system' sharing strategy the sender must keep the tensor alive until it is received)") from None
    try:
        seg = _map(fd, nbytes)
    finally:
        os.close(fd)
    seg.strategy, seg.name, seg.key, seg.nbytes = "file_system", name, ("fs", name), nbytes
    util.Finalize(seg, _add_ref, args=(name, nbytes, -1), exitpriority=0)
    return seg


# ---------------------------------------------------------------------------------------------------------------
# file_descriptor: anonymous memory files
# ---------------------------------------------------------------------------------------------------------------
def _fd_key(fd):
    st = os.fstat(fd)
    return ("fd", st.st_dev, st.st_ino)


def _new_memfd(nbytes):
    if hasattr(os, "memfd_create"):
        fd = os.memfd_create("minitorch_shared", os.MFD_CLOEXEC)
    else:  # an unlinked file in /dev/shm is just as anonymous
        path = _path(f"/minitorch_{os.getpid()}_{next(_names)}_{secrets.token_hex(4)}")
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)
        os.unlink(path)
    try:
        os.ftruncate(fd, max(nbytes, 1))
        seg = _map(fd, nbytes)
    except BaseException:
        os.close(fd)
        raise
    return _own_fd(seg, fd, nbytes)


def _own_fd(seg, fd, nbytes):
    seg.strategy, seg.fd, seg.key, seg.nbytes = "file_descriptor", fd, _fd_key(fd), nbytes
    util.Finalize(seg, _close_fd, args=(fd,), exitpriority=0)
    return seg


# ---------------------------------------------------------------------------------------------------------------
# storages
# ---------------------------------------------------------------------------------------------------------------
def segment_of(storage):
    """The ``_Segment`` a storage array lives in, or None."""
    base = storage
    while isinstance(base, np.ndarray):
        base = base.base
    if isinstance(base, memoryview):  # np.frombuffer keeps a memoryview of the mapping
        base = base.obj
    return base if isinstance(base, _Segment) else None


def is_shared(storage):
    return segment_of(storage) is not None


def new_shared(storage):
    """A copy of ``storage`` (a flat array) in a new segment of the current strategy."""
    nbytes = storage.size * storage.itemsize
    seg = _new_memfd(nbytes) if _STRATEGY[0] == "file_descriptor" else _new_file_system(nbytes)
    arr = _array(seg, storage.dtype, storage.size)
    arr[...] = storage
    return arr


def share_tensors_(tensors):
    """Move the storages of the given CPU tensors into shared memory, in place, for every tensor viewing them."""
    from ..tensor import LAYOUT_EPOCH, Tensor
    old = {}      # id(storage) -> storage
    holders = {}  # id(storage) -> {id(tensor): tensor} among the given tensors
    for t in tensors:
        st = t._storage
        if isinstance(st, np.ndarray) and not is_shared(st):
            old[id(st)] = st
            holders.setdefault(id(st), {})[id(t)] = t
    st = None  # the loop variable must not count as a reference below
    if not old:
        return
    new = {k: new_shared(st) for k, st in old.items()}
    scan = []
    for k in old:
        if _only_held_by(old, k, len(holders[k])):
            for t in holders[k].values():  # nothing else refers to the storage: no search needed
                t._storage = new[k]
                LAYOUT_EPOCH[0] += 1
        else:
            scan.append(old[k])
    if not scan:
        return
    for obj in gc.get_referrers(*scan):
        if isinstance(obj, Tensor):
            st = obj._storage
            if old.get(id(st)) is st:
                obj._storage = new[id(st)]
                LAYOUT_EPOCH[0] += 1


def _only_held_by(old, key, n):
    """True when the storage ``old[key]`` has no references beyond the ``n`` given tensors and ``old`` itself (a fresh
    tensor, e.g. a batch put on a queue, skips the search through every object)."""
    # getrefcount counts: the n tensors, the ``old`` dict, and its own argument
    return sys.getrefcount(old[key]) <= n + 2


# ---------------------------------------------------------------------------------------------------------------
# pickling a storage to another process
# ---------------------------------------------------------------------------------------------------------------
def reduce_storage(storage):
    """``(rebuild, args)`` that maps ``storage``'s segment in the receiving process (``storage`` must be shared)."""
    seg = segment_of(storage)
    base = np.frombuffer(seg, dtype=np.uint8, count=seg.nbytes)
    offset = (storage.__array_interface__["data"][0] - base.__array_interface__["data"][0]) if storage.size else 0
    meta = (storage.dtype, storage.size, offset)
    if seg.strategy == "file_system":
        _add_ref(seg.name, seg.nbytes, +1)  # the pickle in flight holds a reference until it is received
        return rebuild_storage_filename, (seg.name, seg.nbytes, meta)
    from multiprocessing.reduction import DupFd
    return rebuild_storage_fd, (DupFd(seg.fd), seg.nbytes, meta)


def _from_cache(key, meta):
    """The storage this process already maps for ``key`` (or a view of its segment), or None."""
    arr = _cached(key)
    if arr is None:
        return None
    dtype, size, offset = meta
    if offset == 0 and arr.dtype == dtype and arr.size == size:
        return arr
    return np.frombuffer(segment_of(arr), dtype=dtype, count=size, offset=offset)


def rebuild_storage_fd(dupfd, nbytes, meta):
    fd = dupfd.detach()
    key = _fd_key(fd)
    arr = _from_cache(key, meta)
    if arr is not None:
        os.close(fd)
        return arr
    try:
        seg = _map(fd, nbytes)
    except BaseException:
        os.close(fd)
        raise
    _own_fd(seg, fd, nbytes)
    return _array(seg, *meta)


def rebuild_storage_filename(name, nbytes, meta):
    arr = _from_cache(("fs", name), meta)
    if arr is not None:
        _add_ref(name, nbytes, -1)  # this process already holds a reference: drop the in-flight one
        return arr
    return _array(_attach_file_system(name, nbytes), *meta)
