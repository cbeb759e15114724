"""DistributedSampler against PyTorch's (one process), and DistributedDataParallel / SyncBatchNorm with two MPI
processes against one process on the whole batch (tests/ddp_worker.py runs in each rank)."""
import itertools
import os
import subprocess
import sys

import pytest

import minitorch
import minitorch.distributed as dist
from minitorch.distributed import run as launcher
from minitorch.utils.data import DistributedSampler
from minitorch.utils.data.distributed import DistributedSampler as DistributedSamplerAtPath


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


# --- DistributedSampler (no MPI needed) ---------------------------------------------------------------------------

SPLITS = [(n, reps) for n in (0, 1, 2, 5, 7, 10, 16, 33) for reps in (1, 2, 3, 4, 8)]


@pytest.mark.torch
@pytest.mark.parametrize("drop_last", [False, True])
def test_sampler_unshuffled_matches_torch(torch, drop_last):
    """Padding, dropping and per-rank strides as PyTorch's, over dataset sizes smaller and larger than the world."""
    from torch.utils.data.distributed import DistributedSampler as TorchSampler
    for n, reps in SPLITS:
        data = list(range(n))
        for rank in range(reps):
            ours = DistributedSampler(data, num_replicas=reps, rank=rank, shuffle=False, drop_last=drop_last)
            ref = TorchSampler(data, num_replicas=reps, rank=rank, shuffle=False, drop_last=drop_last)
            assert list(ours) == list(ref), (n, reps, rank)
            assert len(ours) == len(ref) == ours.num_samples == ref.num_samples
            assert ours.total_size == ref.total_size


@pytest.mark.torch
@pytest.mark.parametrize("drop_last", [False, True])
def test_sampler_shuffled_split_matches_torch(torch, monkeypatch, drop_last):
    """Given PyTorch's permutation for seed + epoch (minitorch's generator draws different numbers), every rank
    reads the indices PyTorch's sampler gives it, for several epochs and seeds."""
    from torch.utils.data.distributed import DistributedSampler as TorchSampler
    seen = []

    def torch_randperm(n, *, generator=None, **kw):
        seen.append(generator.initial_seed())
        g = torch.Generator().manual_seed(generator.initial_seed())
        return minitorch.tensor(torch.randperm(n, generator=g).tolist())

    monkeypatch.setattr(minitorch, "randperm", torch_randperm)
    for (n, reps), seed, epoch in itertools.product([(10, 3), (7, 2), (33, 4), (2, 3)], (0, 5), (0, 1, 3)):
        for rank in range(reps):
            ours = DistributedSampler(range(n), num_replicas=reps, rank=rank, seed=seed, drop_last=drop_last)
            ref = TorchSampler(range(n), num_replicas=reps, rank=rank, seed=seed, drop_last=drop_last)
            ours.set_epoch(epoch)
            ref.set_epoch(epoch)
            assert list(ours) == list(ref), (n, reps, rank, seed, epoch)
            assert seen[-1] == seed + epoch


def test_sampler_shuffled_partition():
    """With minitorch's own generator: the ranks share one order per epoch (disjoint shares covering the data), and
    set_epoch changes it."""
    n, reps = 23, 4
    shares = [list(DistributedSampler(range(n), reps, r, seed=3)) for r in range(reps)]
    assert set(sum(shares, [])) == set(range(n)) and all(len(s) == 6 for s in shares)
    again = [list(DistributedSampler(range(n), reps, r, seed=3)) for r in range(reps)]
    assert again == shares
    s = DistributedSampler(range(n), reps, 0, seed=3)
    s.set_epoch(1)
    assert list(s) != shares[0]
    dropped = [list(DistributedSampler(range(n), reps, r, seed=3, drop_last=True)) for r in range(reps)]
    flat = sum(dropped, [])
    assert len(flat) == len(set(flat)) == 20


def test_randperm_differs_from_torch_documented(torch):
    """minitorch.Generator is NumPy's PCG64, not PyTorch's MT19937: a seeded randperm is a valid permutation with
    other numbers. The DistributedSampler docstring says so; this test fails if that ever changes."""
    g = minitorch.Generator().manual_seed(0)
    ours = minitorch.randperm(50, generator=g).tolist()
    ref = torch.randperm(50, generator=torch.Generator().manual_seed(0)).tolist()
    assert sorted(ours) == list(range(50))
    assert ours != ref
    assert "PCG64" in DistributedSampler.__doc__


@pytest.mark.torch
def test_sampler_errors_and_paths(torch):
    from torch.utils.data.distributed import DistributedSampler as TorchSampler
    assert DistributedSampler is DistributedSamplerAtPath
    for rank in (2, -1):
        with pytest.raises(ValueError) as ref:
            TorchSampler(range(4), num_replicas=2, rank=rank)
        with pytest.raises(ValueError, match=r"Invalid rank .*interval \[0, 1\]") as ours:
            DistributedSampler(range(4), num_replicas=2, rank=rank)
        assert str(ours.value) == str(ref.value)
    # num_replicas / rank from the process group: PyTorch's error without init_process_group
    assert not dist.is_initialized()
    with pytest.raises(ValueError) as ref:
        TorchSampler(range(4))
    with pytest.raises(ValueError, match="Default process group has not been initialized") as ours:
        DistributedSampler(range(4))
    assert str(ours.value) == str(ref.value)


# --- DistributedDataParallel and SyncBatchNorm on 2 MPI processes --------------------------------------------------

WORKER = os.path.join(os.path.dirname(__file__), "ddp_worker.py")
needs_mpi = pytest.mark.skipif(not dist.is_available(), reason="mpi4py / an MPI library is not installed")
CHECKS = ["construction broadcast", "2 ranks on B/2 == 1 process on B", "register_comm_hook", "SyncBatchNorm: parameters and running",
          "BatchNorm: parameters and buffers", "no_sync:", "find_unused_parameters:", "join():", "join(throw_on_early_termination=True)",
          "errors"]


def _run(cmd):
    env = dict(os.environ, OMP_NUM_THREADS="1", NUMBA_NUM_THREADS="1")
    for k in ("WORLD_SIZE", "RANK", "LOCAL_RANK", "LOCAL_WORLD_SIZE"):
        env.pop(k, None)
    # a hang fails the test instead of blocking the suite
    return subprocess.run(cmd, capture_output=True, text=True, timeout=240, env=env,
                          cwd=os.path.dirname(os.path.dirname(WORKER)))


@needs_mpi
def test_ddp_two_ranks_equal_one_process_on_the_whole_batch():
    """Launched as torchrun would be: every check of tests/ddp_worker.py passes in both ranks (parameters after
    several SGD steps, BatchNorm buffers, SyncBatchNorm, no_sync, find_unused_parameters, join, errors)."""
    r = _run([sys.executable, "-m", "minitorch.distributed.run", "--nproc-per-node", "2", WORKER])
    assert r.returncode == 0, r.stdout + r.stderr
    for rank in (0, 1):
        lines = [ln for ln in r.stdout.splitlines() if f"rank {rank} ok:" in ln]
        for check in CHECKS:
            assert any(check in ln for ln in lines), (rank, check, r.stdout)
        assert f"rank {rank} all ok" in r.stdout


@needs_mpi
def test_ddp_rank_raising_mid_training_ends_the_job():
    """Under plain mpiexec: rank 1 raises at step 2 while rank 0 waits in a gradient all-reduce; the job ends with
    rank 1's traceback and a non-zero exit instead of hanging."""
    exe = launcher.find_mpiexec()
    if exe is None:
        pytest.skip("no mpiexec")
    r = _run([exe, "-n", "2", sys.executable, WORKER, "crash"])
    assert r.returncode != 0
    assert "ValueError: boom in rank 1 at step 2" in r.stderr, r.stderr
    assert 'ddp_worker.py", line' in r.stderr


@needs_mpi
@pytest.mark.cuda
@pytest.mark.slow
def test_ddp_cuda_module_with_sync_batchnorm_on_two_ranks():
    """On the GPU (or the simulator, NUMBA_ENABLE_CUDASIM=1, inherited by the ranks): DDP buckets and
    SyncBatchNorm statistics on CUDA tensors give one process's gradients and running statistics."""
    if not minitorch.cuda.is_available():
        pytest.skip("no CUDA device (or simulator)")
    r = _run([sys.executable, "-m", "minitorch.distributed.run", "--nproc-per-node", "2", WORKER, "cuda"])
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.count("ok: CUDA module with SyncBatchNorm") == 2, r.stdout


def test_ddp_before_init_process_group_errors_as_torch(torch):
    from minitorch.nn.parallel import DistributedDataParallel
    assert not dist.is_initialized()
    with pytest.raises(ValueError) as ref:
        torch.nn.parallel.DistributedDataParallel(torch.nn.Linear(2, 2))
    with pytest.raises(ValueError, match="Default process group has not been initialized") as ours:
        DistributedDataParallel(minitorch.nn.Linear(2, 2))
    assert str(ours.value) == str(ref.value)


def test_sync_batchnorm_without_process_group_is_batchnorm(torch):
    """No process group (and eval mode): SyncBatchNorm computes what BatchNorm does, forward, backward and running
    statistics, as PyTorch's SyncBatchNorm falls back to batch_norm then; convert_sync_batchnorm keeps the
    parameters and buffers."""
    import numpy as np
    nn, tnn = minitorch.nn, torch.nn
    x = np.random.default_rng(0).standard_normal((4, 3, 5, 5)).astype(np.float32)
    model = nn.Sequential(nn.Conv2d(3, 3, 1), nn.BatchNorm2d(3, momentum=None))
    conv = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    assert isinstance(conv[1], nn.SyncBatchNorm) and conv[1].weight is model[1].weight
    assert conv[1].running_mean is model[1].running_mean
    ref = tnn.SyncBatchNorm(3, momentum=None)
    ours = nn.SyncBatchNorm(3, momentum=None)
    xt, xm = torch.tensor(x, requires_grad=True), minitorch.tensor(x, requires_grad=True)
    for _ in range(2):
        (ref(xt) ** 2).sum().backward()
        (ours(xm) ** 2).sum().backward()
    np.testing.assert_allclose(xm.grad.numpy(), xt.grad.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ours.weight.grad.numpy(), ref.weight.grad.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ours.running_var.numpy(), ref.running_var.numpy(), rtol=1e-5)
    assert int(ours.num_batches_tracked) == int(ref.num_batches_tracked) == 2
    ours.eval(), ref.eval()
    np.testing.assert_allclose(ours(xm).detach().numpy(), ref(xt).detach().numpy(), rtol=1e-4, atol=1e-5)
    for bad, match in ((minitorch.ones(3), "expected at least 2D input"),
                       (minitorch.ones(2, 0), "number of input channels should be non-zero")):
        with pytest.raises(ValueError, match=match):
            nn.SyncBatchNorm(0 if bad.shape[-1] == 0 else 3)(bad)
    assert repr(nn.SyncBatchNorm(3)) == repr(tnn.SyncBatchNorm(3))


@needs_mpi
def test_mnist_ddp_example_trains_on_two_ranks_and_saves(tmp_path):
    """examples/mnist_ddp.py under the launcher, on 256 of the offline digits with a narrow CNN: the loss is
    reported once (rank 0) and falls, the checkpoint appears without its temporary file and loads into the plain Net."""
    example = os.path.join(os.path.dirname(WORKER), os.pardir, "examples", "mnist_ddp.py")
    out = tmp_path / "run"
    r = _run([sys.executable, "-m", "minitorch.distributed.run", "--nproc-per-node", "2", example, "--no-download",
              "--data-root", str(tmp_path / "data"), "--out", str(out), "--limit", "256", "--batch-size", "32",
              "--channels", "4", "8", "--hidden", "16", "--epochs", "2"])
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.count("epoch 2: train") == 1 and "2 ranks x batch 32 (4 steps per epoch)" in r.stdout, r.stdout
    losses = [float(ln.split("(loss ")[1].split(")")[0]) for ln in r.stdout.splitlines() if "(loss " in ln]
    assert len(losses) == 2 and losses[1] < losses[0], r.stdout
    assert sorted(os.listdir(out)) == ["mnist_cnn.safetensors"]
    state = minitorch.load(str(out / "mnist_cnn.safetensors"))
    assert sorted(state) == ["conv1.bias", "conv1.weight", "conv2.bias", "conv2.weight", "fc1.bias", "fc1.weight",
                             "fc2.bias", "fc2.weight"]


def _numbers(text):
    import re
    lines = sorted(ln for ln in text.splitlines() if ln.startswith(("epoch ", "rank ")))
    return lines, [float(v) for ln in lines for v in re.findall(r"-?\d+\.\d+", ln)]


@needs_mpi
@pytest.mark.slow
@pytest.mark.torch
def test_pytorch_ddp_program_runs_unchanged_as_torch(torch):
    """tests/ddp_torch_program.py (init_process_group, DistributedSampler, DDP with BatchNorm, no_sync, all_reduce
    of a metric) under torchrun with PyTorch and under our launcher with --as-torch: the same losses, accuracies
    and final parameters on both ranks (to float32 rounding)."""
    prog = os.path.join(os.path.dirname(WORKER), "ddp_torch_program.py")
    ref = _run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2", prog])
    if ref.returncode != 0:
        pytest.skip(f"torchrun does not run here: {ref.stderr[-500:]}")
    ours = _run([sys.executable, "-m", "minitorch.distributed.run", "--as-torch", "--nproc-per-node", "2", prog])
    assert ours.returncode == 0, ours.stdout + ours.stderr
    ref_lines, ref_nums = _numbers(ref.stdout)
    our_lines, our_nums = _numbers(ours.stdout)
    assert len(ref_lines) == len(our_lines) == 5, (ref.stdout, ours.stdout)
    assert [ln.split()[:2] for ln in our_lines] == [ln.split()[:2] for ln in ref_lines]
    assert our_nums == pytest.approx(ref_nums, rel=1e-4, abs=1e-4), (ref.stdout, ours.stdout)


@pytest.mark.torch
def test_queue_callback_runs_after_the_graph_as_torch(torch):
    """Variable._execution_engine.queue_callback (DDP's end-of-backward wait): queued from a leaf's
    post-accumulate-grad hook, it runs once after every leaf has its gradient; outside backward it raises."""
    def record(lib):
        a, b = lib.ones(2, requires_grad=True), lib.ones(3, requires_grad=True)
        events = []

        def hook(p):
            events.append(("grad", p.shape[0]))
            if len(events) == 1:
                lib.autograd.Variable._execution_engine.queue_callback(
                    lambda: events.append(("callback", a.grad is not None and b.grad is not None)))

        for t in (a, b):
            t.register_post_accumulate_grad_hook(hook)
        ((a * 2).sum() + (b * 3).sum()).backward()
        with pytest.raises(RuntimeError) as err:
            lib.autograd.Variable._execution_engine.queue_callback(lambda: None)
        return sorted(events[:2]) + events[2:], str(err.value)

    assert record(minitorch) == record(torch)
