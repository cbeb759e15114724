"""minitorch.multiprocessing: shared storages (Hogwild), tensors on queues, spawn's error propagation, Numba after
fork, and the nn.parallel namespace. Children are forked where the start method does not matter (fast) and
spawned where it does; every join has a timeout so a hang fails instead of blocking the suite."""
import copy
import gc
import glob
import os
import signal
import sys
from multiprocessing.reduction import ForkingPickler

import numpy as np
import pytest

import minitorch
import minitorch.multiprocessing as mp
import minitorch.nn as nn
import minitorch.nn.functional as F

TIMEOUT = 120  # a spawned child imports minitorch (and Numba) first: seconds on a loaded machine


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def _shm_files():
    return set(glob.glob("/dev/shm/minitorch_*"))


@pytest.fixture(params=["file_descriptor", "file_system"])
def strategy(request):
    old = mp.get_sharing_strategy()
    mp.set_sharing_strategy(request.param)
    yield request.param
    mp.set_sharing_strategy(old)


def _join(p):
    p.join(TIMEOUT)
    if p.is_alive():
        p.kill()
        p.join()
        pytest.fail("child process did not finish (deadlock?)")
    assert p.exitcode == 0, f"child exited with {p.exitcode}"


# ---------------------------------------------------------------------------------------------------------------
# children (module level: spawned children import them by name)
# ---------------------------------------------------------------------------------------------------------------
def _data():
    g = np.random.default_rng(0)
    x = minitorch.tensor(g.standard_normal((16, 4)), dtype=minitorch.float32)
    y = minitorch.tensor(g.standard_normal((16, 1)), dtype=minitorch.float32)
    return x, y


def _train(model, steps):
    opt = minitorch.optim.SGD(model.parameters(), lr=0.1)
    x, y = _data()
    for _ in range(steps):
        opt.zero_grad()
        F.mse_loss(model(x), y).backward()
        opt.step()


def _hogwild_child(model, steps, results):
    results.put([p.is_shared() for p in model.parameters()])
    _train(model, steps)


def _queue_child(inq, outq, done):
    t = inq.get()
    made = minitorch.full((3,), 7.0)
    outq.put((t.is_shared(), t.tolist()))
    t.add_(1)           # seen by the parent
    outq.put(t)         # goes back to the parent's own storage
    outq.put(made)      # a tensor made here, shared with the parent
    done.wait(TIMEOUT)  # stay alive until the parent has mapped what we sent
    outq.put(made.tolist())  # the parent's write to `made` is seen here


def _raise_on_rank(i, bad):
    if i == bad:
        raise ValueError(f"boom from rank {i}")


def _kill_self(i):
    os.kill(os.getpid(), signal.SIGKILL)


def _exit_3(i):
    os._exit(3)


def _write_rank(i, t):
    t[i] = i + 1


def _numba_child(q):
    x = minitorch.ones(2_000_000)
    q.put(((x * 2).sum().item(), minitorch.get_num_threads()))


# ---------------------------------------------------------------------------------------------------------------
# share_memory_ / is_shared / Module.share_memory
# ---------------------------------------------------------------------------------------------------------------
def test_namespace_matches_pytorch(torch):
    missing = [n for n in torch.multiprocessing.__all__ if not hasattr(mp, n)]
    assert missing == []
    assert mp.get_all_sharing_strategies() == torch.multiprocessing.get_all_sharing_strategies()
    assert mp.get_sharing_strategy() == torch.multiprocessing.get_sharing_strategy()
    for name in ("spawn", "start_processes", "ProcessContext", "SpawnContext", "ProcessRaisedException",
                 "ProcessExitedException"):
        assert hasattr(torch.multiprocessing, name) and hasattr(mp, name)
    for name in ("ProcessRaisedException", "ProcessExitedException"):
        assert [c.__name__ for c in getattr(mp, name).__mro__] == \
            [c.__name__ for c in getattr(torch.multiprocessing, name).__mro__]
    with pytest.raises(AssertionError):
        torch.multiprocessing.set_sharing_strategy("nope")
    with pytest.raises(AssertionError, match="nope"):
        mp.set_sharing_strategy("nope")
    assert minitorch.multiprocessing is mp


def test_share_memory_keeps_values_views_grad(torch, strategy):
    g = np.random.default_rng(1).standard_normal((4, 5)).astype(np.float32)
    t = minitorch.tensor(g, requires_grad=True)
    (t * t).sum().backward()
    view = t.detach()[1:3, ::2]
    alias = t.data
    ref = torch.tensor(g)
    assert t.is_shared() == ref.is_shared() == False  # noqa: E712
    assert t.share_memory_() is t
    ref.share_memory_()
    assert t.is_shared() == ref.is_shared() == True  # noqa: E712
    assert view.is_shared() and alias.is_shared()
    np.testing.assert_array_equal(t.detach().numpy(), g)
    np.testing.assert_array_equal(view.numpy(), g[1:3, ::2])
    np.testing.assert_allclose(t.grad.numpy(), 2 * g)
    assert t.requires_grad and t.is_leaf
    view.mul_(0)  # views still alias the (moved) storage
    g[1:3, ::2] = 0
    np.testing.assert_array_equal(t.detach().numpy(), g)
    before = t.untyped_storage_id()
    t.share_memory_()  # already shared: nothing moves
    assert t.untyped_storage_id() == before
    (t * 3).sum().backward()  # autograd still works on the moved storage
    np.testing.assert_allclose(t.grad.numpy(), 2 * np.random.default_rng(1).standard_normal((4, 5)) + 3, rtol=1e-6)


def test_freeing_a_shared_storage_under_the_cache_lock_does_not_deadlock(strategy):
    """A shared storage's weakref callback can run on a thread that holds the storage cache's lock (a garbage
    collection that an allocation under the lock started frees another shared storage; a DataLoader test hung there
    for good). Freeing one while the lock is held must return."""
    import threading
    from minitorch.multiprocessing import _shared_memory as shm
    t = minitorch.randn(64).share_memory_()
    assert any(r() is t._storage for r in list(shm._cache.values()))

    def free_under_lock():
        nonlocal t
        with shm._lock:
            del t  # the storage's last reference: its cache callback runs here, on this thread
        done.set()

    done = threading.Event()
    worker = threading.Thread(target=free_under_lock, daemon=True)
    worker.start()
    assert done.wait(30), "freeing a shared storage while its cache lock was held deadlocked"
    gc.collect()
    assert all(r() is not None for r in shm._cache.values())  # the dead storage's entry was dropped


def test_module_share_memory(torch):
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    opt = minitorch.optim.SGD(model.parameters(), lr=0.1)
    model(minitorch.randn(5, 3)).pow(2).sum().backward()  # (a plain sum through batch norm has zero gradient)
    ref = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    assert ref.share_memory() is ref and model.share_memory() is model
    tensors = list(model.parameters()) + [p.grad for p in model.parameters()] + list(model.buffers())
    assert all(t.is_shared() for t in tensors)
    w = model[0].weight.detach().numpy().copy()
    opt.step()  # the optimizer built before keeps updating the same (now shared) parameters
    assert not np.array_equal(w, model[0].weight.detach().numpy())
    assert model[0].weight.is_shared()
    ada = minitorch.optim.Adagrad(model.parameters())
    ada.share_memory()
    assert all(ada.state[p]["sum"].is_shared() for p in model.parameters())


def test_cuda_tensors_and_in_process_pickling(device):
    t = minitorch.arange(6.0, device=device)
    if device == "cuda" or getattr(device, "type", device) == "cuda":
        assert t.share_memory_() is t and t.is_shared()  # a no-op, as in PyTorch
        with pytest.raises(RuntimeError, match="cannot share cuda tensors"):
            ForkingPickler.dumps(t)
        return
    v = t[2:5]
    back = ForkingPickler.loads(ForkingPickler.dumps(v))
    assert t.is_shared() and back.untyped_storage_id() == t.untyped_storage_id()
    back.fill_(-1)
    assert t.tolist() == [0, 1, -1, -1, -1, 5]
    w = minitorch.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="non-leaf tensor which requires_grad"):
        ForkingPickler.dumps(w * 2)
    p = ForkingPickler.loads(ForkingPickler.dumps(nn.Parameter(minitorch.ones(2))))
    assert isinstance(p, nn.Parameter) and p.requires_grad and p.is_shared()


# ---------------------------------------------------------------------------------------------------------------
# Hogwild: children update the parent's parameters in place
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_hogwild_update_seen_in_parent(method):
    ctx = mp.get_context(method)
    minitorch.manual_seed(0)
    model = nn.Linear(4, 1)
    expected = copy.deepcopy(model)
    _train(expected, 5)
    model.share_memory()
    results = ctx.Queue()
    p = ctx.Process(target=_hogwild_child, args=(model, 5, results))
    p.start()
    assert results.get(timeout=TIMEOUT) == [True, True]
    _join(p)
    for got, want in zip(model.parameters(), expected.parameters()):
        np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------------------------------------------------------
# queues
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_queue_round_trip_shares_storage(method, strategy):
    if method == "spawn" and strategy == "file_system":
        pytest.skip("one spawned round trip is enough")
    before = _shm_files()
    ctx = mp.get_context(method)
    inq, outq, done = ctx.Queue(), ctx.Queue(), ctx.Event()
    base = minitorch.zeros(6)
    assert not base.is_shared()
    p = ctx.Process(target=_queue_child, args=(inq, outq, done))
    p.start()
    inq.put(base[2:5])  # not shared yet: moved to shared memory on the way, as in PyTorch
    shared, seen = outq.get(timeout=TIMEOUT)
    assert shared and seen == [0.0, 0.0, 0.0]
    back = outq.get(timeout=TIMEOUT)
    made = outq.get(timeout=TIMEOUT)
    assert base.is_shared()
    assert base.tolist() == [0, 0, 1, 1, 1, 0]  # the child's add_ wrote into the parent's storage
    assert back.untyped_storage_id() == base.untyped_storage_id() and back.storage_offset() == 2
    assert made.tolist() == [7.0, 7.0, 7.0] and made.is_shared()
    made.fill_(9)
    done.set()
    assert outq.get(timeout=TIMEOUT) == [9.0, 9.0, 9.0]
    _join(p)
    del base, back, made
    gc.collect()
    assert _shm_files() == before


def test_no_leaked_shm_segments(strategy):
    before = _shm_files()
    ctx = mp.get_context("fork")
    ts = [minitorch.randn(100).share_memory_() for _ in range(3)]
    if strategy == "file_system":
        assert len(_shm_files() - before) == 3
    p = ctx.Process(target=_write_rank, args=(0, ts[0]))
    p.start()
    _join(p)
    assert ts[0][0].item() == 1.0
    q = ctx.SimpleQueue()
    q.put(ts[1])
    got = q.get()
    assert got.untyped_storage_id() == ts[1].untyped_storage_id()
    del ts, got
    gc.collect()
    assert _shm_files() == before


# ---------------------------------------------------------------------------------------------------------------
# spawn / start_processes
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_spawn_runs_every_rank_and_shares():
    t = minitorch.zeros(2).share_memory_()
    assert mp.spawn(_write_rank, args=(t,), nprocs=2) is None
    assert t.tolist() == [1.0, 2.0]


@pytest.mark.slow
def test_spawn_error_propagation():
    with pytest.raises(mp.ProcessRaisedException) as info:
        mp.spawn(_raise_on_rank, args=(1,), nprocs=2)
    msg = str(info.value)
    assert "-- Process 1 terminated with the following error:" in msg
    assert "Traceback (most recent call last)" in msg and "_raise_on_rank" in msg
    assert "ValueError: boom from rank 1" in msg
    assert info.value.error_index == 1 and isinstance(info.value.pid, int)


def test_start_processes_exit_and_signal():
    with pytest.raises(mp.ProcessExitedException, match="process 0 terminated with signal SIGKILL") as info:
        mp.start_processes(_kill_self, nprocs=1, start_method="fork")
    assert info.value.signal_name == "SIGKILL" and info.value.exit_code == -signal.SIGKILL
    with pytest.raises(mp.ProcessExitedException, match="process 0 terminated with exit code 3") as info:
        mp.start_processes(_exit_3, nprocs=1, start_method="fork")
    assert info.value.exit_code == 3 and info.value.signal_name is None


def test_start_processes_join_false_context():
    t = minitorch.zeros(2).share_memory_()
    ctx = mp.start_processes(_write_rank, args=(t,), nprocs=2, join=False, start_method="fork")
    assert isinstance(ctx, mp.ProcessContext) and len(ctx.pids()) == 2 and len(ctx.processes) == 2
    assert all(isinstance(pid, int) for pid in ctx.pids())
    for _ in range(TIMEOUT * 10):
        if ctx.join(timeout=0.1):
            break
    else:
        pytest.fail("processes did not finish")
    assert t.tolist() == [1.0, 2.0]
    with pytest.warns(FutureWarning, match="start_method"):
        mp.spawn(_write_rank, args=(t,), nprocs=1, start_method="fork")


# ---------------------------------------------------------------------------------------------------------------
# Numba's threading layer after fork
# ---------------------------------------------------------------------------------------------------------------
_FORKED_KERNEL = """
import multiprocessing as mp
import numba
import minitorch
from test_multiprocessing import _numba_child
x = minitorch.ones(2_000_000)
assert (x * 2).sum().item() == 4_000_000.0  # the parent runs parallel kernels first
assert numba.threading_layer() == "workqueue", numba.threading_layer()
ctx = mp.get_context("fork")
q = ctx.Queue()
p = ctx.Process(target=_numba_child, args=(q,))
p.start()
total, threads = q.get(timeout=120)
p.join(120)
assert p.exitcode == 0 and total == 4_000_000.0 and threads == minitorch.get_num_threads(), (p.exitcode, total)
print("ok")
"""


@pytest.mark.skipif(not (sys.platform.startswith("linux") and os.uname().machine == "x86_64"),
                    reason="the tbb dependency is for Linux x86_64")
def test_forked_child_runs_parallel_kernels_by_default():
    """With the tbb dependency minitorch's kernels run on Numba's TBB layer, which survives fork."""
    import numba
    if os.environ.get("NUMBA_THREADING_LAYER") or os.environ.get("MINITORCH_TBB") == "0":
        pytest.skip("the threading layer was chosen by the environment")
    x = minitorch.ones(2_000_000)
    assert (x * 2).sum().item() == 4_000_000.0  # the parent runs parallel kernels first
    assert numba.threading_layer() == "tbb"
    ctx = mp.get_context("fork")
    q = ctx.Queue()
    p = ctx.Process(target=_numba_child, args=(q,))
    p.start()
    total, threads = q.get(timeout=TIMEOUT)
    _join(p)
    assert total == 4_000_000.0 and threads == minitorch.get_num_threads()


def test_numba_parallel_kernel_in_forked_child_with_workqueue_layer():
    """The documented recipe for forked children that run large ops: the workqueue threading layer."""
    import subprocess
    env = dict(os.environ, NUMBA_THREADING_LAYER="workqueue",
               PYTHONPATH=os.pathsep.join([os.path.dirname(__file__), os.environ.get("PYTHONPATH", "")]))
    r = subprocess.run([sys.executable, "-c", _FORKED_KERNEL], env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr[-2000:]


# ---------------------------------------------------------------------------------------------------------------
# nn.parallel
# ---------------------------------------------------------------------------------------------------------------
def test_nn_parallel_namespace(torch):
    from minitorch.nn.modules.parallel import DataParallel as Old
    assert nn.parallel.DataParallel is nn.DataParallel is Old
    from minitorch.nn.parallel.distributed import DistributedDataParallel
    assert nn.parallel.DistributedDataParallel is DistributedDataParallel  # torch.nn.parallel.distributed path
    g = np.random.default_rng(2)
    w, b = g.standard_normal((3, 4)).astype(np.float32), g.standard_normal(3).astype(np.float32)
    x = g.standard_normal((5, 4)).astype(np.float32)
    lin, ref = nn.Linear(4, 3), torch.nn.Linear(4, 3)
    with minitorch.no_grad():
        lin.weight.copy_(minitorch.tensor(w))
        lin.bias.copy_(minitorch.tensor(b))
    with torch.no_grad():
        ref.weight.copy_(torch.tensor(w))
        ref.bias.copy_(torch.tensor(b))
    want = ref(torch.tensor(x)).detach().numpy()
    np.testing.assert_allclose(nn.DataParallel(lin)(minitorch.tensor(x)).detach().numpy(), want, rtol=1e-5,
                               atol=1e-6)
    if not torch.cuda.is_available() and not minitorch.cuda.is_available():
        # the functional form needs an accelerator, in PyTorch as here
        with pytest.raises(RuntimeError, match="device type could not be determined"):
            torch.nn.parallel.data_parallel(ref, torch.tensor(x))
        with pytest.raises(RuntimeError, match="device type could not be determined"):
            nn.parallel.data_parallel(lin, minitorch.tensor(x))
    assert sys.modules["minitorch.nn.parallel"] is nn.parallel


@pytest.mark.cuda
def test_data_parallel_on_cuda():
    if not minitorch.cuda.is_available():
        pytest.skip("no CUDA device (or simulator)")
    g = np.random.default_rng(3)
    x = minitorch.tensor(g.standard_normal((2, 4)), dtype=minitorch.float32)
    lin = nn.Linear(4, 3)
    want = lin(x).detach().numpy()
    with pytest.raises(RuntimeError, match="module must have its parameters and buffers on device cuda:0"):
        nn.parallel.data_parallel(lin, x)
    lin = lin.cuda()
    got = nn.parallel.data_parallel(lin, x, output_device=-1)  # the CPU input is moved to the module's device
    assert got.device.type == "cpu"
    np.testing.assert_allclose(got.detach().numpy(), want, rtol=1e-5, atol=1e-6)

    class Scale(nn.Module):
        def forward(self, a, scale=1.0):
            return a * scale

    out = nn.parallel.data_parallel(Scale(), (minitorch.ones(2),), module_kwargs={"scale": 3.0})
    assert out.device.type == "cuda" and out.tolist() == [3.0, 3.0]


# ---------------------------------------------------------------------------------------------------------------
# the data pipeline's batched path gives the same batches as the per-image path
# ---------------------------------------------------------------------------------------------------------------
def _mnist(tmp_path, n=300, transform=None, target_transform=None, cls=None):
    from minitorch.vision import datasets
    g = np.random.default_rng(4)
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    (raw / "train-images-idx3-ubyte").write_bytes(np.array([0x803, n, 28, 28], ">u4").tobytes()
                                                   + g.integers(0, 256, (n, 28, 28), dtype=np.uint8).tobytes())
    (raw / "train-labels-idx1-ubyte").write_bytes(np.array([0x801, n], ">u4").tobytes()
                                                   + g.integers(0, 10, n, dtype=np.uint8).tobytes())
    return (cls or datasets.MNIST)(str(tmp_path), train=True, transform=transform, target_transform=target_transform)


@pytest.mark.parametrize("case", ["to_tensor", "normalize", "two_normalize", "target_transform", "other"])
def test_batched_getitems_matches_per_item(tmp_path, case, torch):
    from minitorch.utils.data import DataLoader, default_collate
    from minitorch.vision import transforms as T
    tf = {"to_tensor": T.ToTensor(),
          "normalize": T.Compose([T.ToTensor(), T.Normalize((0.1307,), (0.3081,))]),
          "two_normalize": T.Compose([T.ToTensor(), T.Normalize((0.5,), (0.25,)), T.Normalize(0.1, 2.0, True)]),
          "target_transform": T.Compose([T.ToTensor(), T.Normalize((0.1307,), (0.3081,))]),
          "other": T.Compose([T.ToTensor(), T.Lambda(lambda x: x * 2)])}[case]
    tt = (lambda y: y + 100) if case == "target_transform" else None
    ds = _mnist(tmp_path, transform=tf, target_transform=tt)
    idx = [5, 3, 299, -1, 0, 7, 7]
    x, y = default_collate(ds.__getitems__(idx))
    x_ref, y_ref = default_collate([ds[i] for i in idx])
    assert x.dtype is x_ref.dtype and x.shape == x_ref.shape == (7, 1, 28, 28)
    np.testing.assert_array_equal(x.numpy(), x_ref.numpy())  # bit for bit
    assert y.tolist() == y_ref.tolist() and y.dtype is y_ref.dtype
    # the per-image reference itself against PyTorch's ops on the same pixels
    img = torch.from_numpy(ds.data.numpy()[idx]).float().div(255).unsqueeze(1)
    if case in ("normalize", "target_transform"):
        np.testing.assert_allclose(x.numpy(), ((img - 0.1307) / 0.3081).numpy(), rtol=1e-6, atol=1e-6)
    perm = np.random.default_rng(5).permutation(len(ds)).tolist()
    batches = list(DataLoader(ds, batch_size=64, sampler=perm))
    for k in (0, len(batches) - 1):
        ref = default_collate([ds[i] for i in perm[64 * k:64 * (k + 1)]])
        np.testing.assert_array_equal(batches[k][0].numpy(), ref[0].numpy())
        assert batches[k][1].tolist() == ref[1].tolist()
    with pytest.raises(IndexError):
        ds.__getitems__([0, 300])
    with pytest.raises(TypeError):
        ds.__getitems__([0, 1.5])


def test_batched_getitems_respects_overrides(tmp_path):
    from minitorch.vision import datasets, transforms as T

    class Flipped(datasets.MNIST):
        raw_folder = property(lambda self: os.path.join(self.root, "MNIST", "raw"))

        def __getitem__(self, i):
            x, y = super().__getitem__(i)
            return x.flip(-1), y

    ds = _mnist(tmp_path, transform=T.ToTensor(), cls=Flipped)
    got = ds.__getitems__([1, 2])
    np.testing.assert_array_equal(got[0][0].numpy(), ds[1][0].numpy())


def test_collate_copies_consecutive_views():
    from minitorch.utils.data import DataLoader, TensorDataset, default_collate
    data = minitorch.arange(24.0).reshape(6, 4)
    batch = default_collate([data[i] for i in range(3)])
    np.testing.assert_array_equal(batch.numpy(), data.numpy()[:3])
    batch.fill_(-1)  # a new tensor, never a view of the samples
    assert data.min().item() == 0.0
    (xb,) = next(iter(DataLoader(TensorDataset(data), batch_size=4)))
    xb.zero_()
    assert data.sum().item() == sum(range(24))
    w = minitorch.ones(2, 3, requires_grad=True)
    s = default_collate([w[0], w[1]])
    assert s.requires_grad  # not the copying fast path: stacking tracks the graph


# ---------------------------------------------------------------------------------------------------------------
# minitorch.run: processes spawned by a PyTorch script also see minitorch under the torch name
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_run_spawned_children_use_the_hook(tmp_path):
    import subprocess
    script = tmp_path / "prog.py"
    script.write_text(
        "import torch\n"
        "import torch.multiprocessing as mp\n"
        "\n"
        "class Box:\n"
        "    def __init__(self, t):\n"
        "        self.t = t\n"
        "\n"
        "def work(rank, box):\n"
        "    box.t[rank] = float(torch.__name__ == 'minitorch') + rank\n"
        "\n"
        "if __name__ == '__main__':\n"
        "    box = Box(torch.zeros(2).share_memory_())\n"
        "    mp.spawn(work, args=(box,), nprocs=2)\n"
        "    print('RESULT', box.t.tolist(), torch.__name__)\n")
    out = subprocess.run([sys.executable, "-m", "minitorch.run", str(script)], capture_output=True, text=True,
                         timeout=TIMEOUT * 2, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "RESULT [1.0, 2.0] minitorch" in out.stdout


def test_worker_batches_arrive_in_shared_memory(torch):
    # as in PyTorch: a batch a DataLoader worker sends crosses the queue as shared memory, not as a pickled copy
    from minitorch.utils.data import DataLoader, TensorDataset
    data = np.arange(40, dtype=np.float32).reshape(10, 4)
    ours = list(DataLoader(TensorDataset(minitorch.tensor(data)), batch_size=4, num_workers=1,
                           multiprocessing_context="fork"))
    ref = list(torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.tensor(data)), batch_size=4,
                                           num_workers=1, multiprocessing_context="fork"))
    assert [b[0].is_shared() for b in ours] == [b[0].is_shared() for b in ref] == [True, True, True]
    for a, b in zip(ours, ref):
        np.testing.assert_array_equal(a[0].numpy(), b[0].numpy())


def _share_in_child(q):
    t = minitorch.arange(3.0).share_memory_()  # registers the new segment under the storage lock
    q.put(t.tolist())


@pytest.mark.parametrize("strategy", ["file_descriptor", "file_system"])
def test_a_child_forked_while_another_thread_holds_the_storage_lock_can_share(strategy):
    """Another thread of the parent (a queue's feeder, or a garbage collection running a storage's weakref callback)
    may hold the shared-storage lock at the moment of a fork; the child must not inherit it locked."""
    import threading

    from minitorch.multiprocessing import _shared_memory as shm
    old = mp.get_sharing_strategy()
    mp.set_sharing_strategy(strategy)
    held, release = threading.Event(), threading.Event()

    def hold():
        with shm._lock:
            held.set()
            release.wait(60)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert held.wait(10)
        ctx = mp.get_context("fork")
        q = ctx.SimpleQueue()
        p = ctx.Process(target=_share_in_child, args=(q,))
        p.start()
        p.join(20)
        hung = p.is_alive()
        if hung:
            p.kill()
            p.join()
        assert not hung, "the forked child blocked on the storage lock it inherited"
        assert p.exitcode == 0 and q.get() == [0.0, 1.0, 2.0]
    finally:
        release.set()
        holder.join()
        mp.set_sharing_strategy(old)
