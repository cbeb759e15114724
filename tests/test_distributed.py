"""minitorch.distributed on MPI: 2-process jobs (through mpiexec and through the launcher) run the workers in
tests/dist_workers/, which check every collective and dtype against a NumPy reference; the errors (before init,
mismatches, a rank that raises, timeouts); and the single-process API in this process."""
import datetime
import os
import re
import subprocess
import sys

import numpy as np
import pytest

import minitorch
import minitorch.distributed as dist
from minitorch.distributed import run as launcher

WORKERS = os.path.join(os.path.dirname(__file__), "dist_workers")
needs_mpi = pytest.mark.skipif(not dist.is_available(), reason="mpi4py / an MPI library is not installed")
LAUNCH_TIMEOUT = 240  # a hang fails the test instead of blocking the suite


def _mpiexec():
    exe = launcher.find_mpiexec()
    if exe is None:
        pytest.skip("no mpiexec")
    return exe


def _run(cmd):
    env = dict(os.environ, OMP_NUM_THREADS="1", NUMBA_NUM_THREADS="1")
    # an in-process init_process_group earlier in this worker leaves torchrun's variables in os.environ; the
    # launched ranks must get their own
    for k in ("WORLD_SIZE", "RANK", "LOCAL_RANK", "LOCAL_WORLD_SIZE"):
        env.pop(k, None)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=LAUNCH_TIMEOUT, env=env,
                          cwd=os.path.dirname(WORKERS))


# -------------------------------------------------------------------------------------------------------------
# 2-process jobs
# -------------------------------------------------------------------------------------------------------------
@needs_mpi
def test_every_collective_and_dtype_on_two_ranks_under_mpiexec():
    r = _run([_mpiexec(), "-n", "2", sys.executable, os.path.join(WORKERS, "collectives.py"), "gloo"])
    assert r.returncode == 0, r.stdout + r.stderr
    found = re.findall(r"CHECKS OK (\d+) (\d+)", r.stdout)  # the two ranks' lines may interleave
    assert sorted(int(rank) for rank, _ in found) == [0, 1], r.stdout
    assert all(int(n) > 100 for _, n in found), r.stdout  # the worker really ran its checks


@needs_mpi
def test_launcher_as_torch_rank_failure_ends_the_job_with_its_traceback():
    r = _run([sys.executable, "-m", "minitorch.distributed.run", "--nproc-per-node", "2", "--standalone",
              "--as-torch", os.path.join(WORKERS, "torch_program.py"), "--fail"])
    assert r.returncode != 0
    assert "rank 0 of 2: sum [3.0, 3.0]" in r.stdout and "rank 1 of 2: sum [3.0, 3.0]" in r.stdout, r.stdout
    assert "finished" not in r.stdout  # rank 0 was stopped in its barrier, not left hanging or let through
    assert "ValueError: deliberate failure on rank 1" in r.stderr, r.stderr
    root = r.stderr.split("Root cause")[-1]
    assert "[rank 1]" in root and "torch_program.py\", line" in root and "deliberate failure" in root, r.stderr
    assert "minitorch/distributed/run.py" not in root  # the traceback starts at the script


@needs_mpi
def test_plain_mpiexec_a_rank_that_exits_early_ends_the_job():
    """Rank 1 calls sys.exit(3) while rank 0 waits in a barrier (default timeout: 30 minutes): rank 0 notices
    that its peer's process ended, raises DistBackendError naming it, and its uncaught exception aborts the job."""
    r = _run([_mpiexec(), "-n", "2", sys.executable, "-m", "minitorch.run", os.path.join(WORKERS, "torch_program.py"),
              "--exit", "--plain"])
    assert r.returncode != 0
    assert "finished" not in r.stdout
    noticed = "[rank 0] uncaught exception, aborting the job" in r.stderr and \
        "DistBackendError: barrier (collective #1 of this group) on rank 0: rank(s) [1] exited without joining" \
        in r.stderr
    # or mpiexec saw rank 1's exit status first and ended rank 0 itself: the job stops either way
    ended_by_mpiexec = "EXIT CODE: 3" in r.stdout + r.stderr
    assert noticed or ended_by_mpiexec, r.stdout + r.stderr


def _oracle_results(r, folder):
    import json
    assert r.returncode == 0, r.stdout + r.stderr
    return {rank: json.loads((folder / f"oracle_{rank}.json").read_text()) for rank in (0, 1)}


@needs_mpi
@pytest.mark.torch
@pytest.mark.slow
def test_same_program_same_results_as_pytorch_gloo(tmp_path):
    """tests/dist_workers/oracle.py (a PyTorch program: every dtype and op of all_reduce, broadcast, reduce, the
    gathers and scatters, all_to_all_single, p2p batches, object collectives) under torchrun with gloo and under
    minitorch's launcher with --as-torch: every result on every rank is the same, errors included."""
    pytest.importorskip("torch.distributed")
    script = os.path.join(WORKERS, "oracle.py")
    (tmp_path / "torch").mkdir()
    (tmp_path / "mini").mkdir()
    want = _oracle_results(_run([sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2",
                                 "--standalone", script, str(tmp_path / "torch")]), tmp_path / "torch")
    got = _oracle_results(_run([sys.executable, "-m", "minitorch.distributed.run", "--nproc-per-node", "2",
                                "--standalone", "--as-torch", script, str(tmp_path / "mini")]), tmp_path / "mini")
    for rank in (0, 1):
        assert len(want[rank]) > 70
        for key, value in want[rank].items():
            assert got[rank].get(key) == value, (rank, key, got[rank].get(key), value)


# -------------------------------------------------------------------------------------------------------------
# this process (a world of one)
# -------------------------------------------------------------------------------------------------------------
def test_before_init_process_group_errors_as_pytorch():
    assert not dist.is_initialized()
    msg = "Default process group has not been initialized, please make sure to call init_process_group."
    for call in (lambda: dist.all_reduce(minitorch.ones(2)), dist.get_rank, dist.get_world_size, dist.barrier,
                 dist.get_backend, lambda: dist.broadcast(minitorch.ones(1), src=0), dist.destroy_process_group):
        with pytest.raises(ValueError, match="Default process group has not been initialized"):
            call()
    with pytest.raises(ValueError) as e:
        dist.all_gather_object([None], 1)
    assert str(e.value) == msg


@pytest.mark.torch
def test_names_and_values_match_torch():
    tdist = pytest.importorskip("torch.distributed")
    for name in ("SUM", "AVG", "PRODUCT", "MIN", "MAX", "BAND", "BOR", "BXOR"):
        assert int(getattr(dist.ReduceOp, name)) == int(getattr(tdist.ReduceOp, name).value), name
        assert getattr(dist.ReduceOp, name) is dist.ReduceOp.RedOpType[name]
    assert dist.default_pg_timeout == tdist.default_pg_timeout == datetime.timedelta(minutes=30)
    for dev in ("cpu", "cuda", "cuda:0"):
        assert dist.get_default_backend_for_device(dev) == tdist.get_default_backend_for_device(dev)
    assert dist.Backend("GLOO") == tdist.Backend("GLOO") == "gloo"
    with pytest.raises(ValueError, match="Invalid backend"):
        dist.Backend("carrier-pigeon")
    assert issubclass(dist.DistBackendError, dist.DistError) and issubclass(dist.DistError, RuntimeError)
    assert dist.group.WORLD is None and not dist.is_torchelastic_launched() or "TORCHELASTIC_RUN_ID" in os.environ


@needs_mpi
def test_world_of_one_in_process(device):
    """init_process_group in this process (MPI singleton): collectives are copies, which exercises the host
    staging of CUDA tensors (in and out) and of non-contiguous views; and the argument errors."""
    assert dist.is_available() and dist.is_mpi_available() and dist.is_nccl_available()
    with pytest.raises(TypeError, match="timedelta"):
        dist.init_process_group("gloo", timeout=5)
    with pytest.raises(ValueError, match="does not match"):
        dist.init_process_group("gloo", world_size=2)
    dist.init_process_group("nccl", timeout=datetime.timedelta(seconds=20))
    try:
        assert dist.group.WORLD is not None and dist.get_backend() == "nccl"
        assert (dist.get_rank(), dist.get_world_size()) == (0, 1)
        with pytest.raises(ValueError, match="twice"):
            dist.init_process_group("gloo")
        src = minitorch.arange(12, dtype=minitorch.float32, device=device).reshape(3, 4)
        out = minitorch.zeros(4, 3, device=device).t()  # non-contiguous output
        dist.all_gather_into_tensor(out, src)
        np.testing.assert_array_equal(out.cpu().numpy(), np.arange(12, dtype=np.float32).reshape(3, 4))
        half = minitorch.tensor([1.5, -2.0, 3.25], dtype=minitorch.bfloat16, device=device)
        work = dist.all_reduce(half, op=dist.ReduceOp.AVG, async_op=True)
        assert work.wait() and work.is_completed()
        np.testing.assert_array_equal(half.float().cpu().numpy(), [1.5, -2.0, 3.25])
        objs = [None]
        dist.all_gather_object(objs, {"t": minitorch.ones(2), "k": (1, "a")})
        assert objs[0]["k"] == (1, "a") and objs[0]["t"].tolist() == [1.0, 1.0]
        with pytest.raises(ValueError, match="gather_list"):
            dist.gather(minitorch.ones(1), None, dst=0)
        with pytest.raises(ValueError, match="not part of the group"):
            dist.broadcast(minitorch.ones(1), src=3)
        with pytest.raises(ValueError, match="Must specify global_rank or group_rank"):
            dist.broadcast(minitorch.ones(1))
        with pytest.raises(ValueError, match="Can't specify both group_rank and global_rank"):
            dist.reduce(minitorch.ones(1), dst=0, group_dst=0)
        with pytest.raises(RuntimeError, match="BXOR"):
            dist.all_reduce(minitorch.ones(2), op=dist.ReduceOp.BXOR)
        with pytest.raises(ValueError, match="output tensor size must be equal to world_size"):
            dist.all_gather_into_tensor(minitorch.zeros(3), minitorch.zeros(2))
    finally:
        dist.destroy_process_group()
    assert not dist.is_initialized() and dist.group.WORLD is None


def test_launcher_arguments_and_mpiexec_placement(tmp_path):
    p = launcher.get_args_parser()
    a = p.parse_args(["--nproc_per_node", "4", "--nnodes", "2:2", "--node-rank", "1", "--master-addr", "h0",
                      "--master_port", "1234", "--rdzv-backend", "c10d", "-m", "pkg.train", "--lr", "0.1"])
    assert (a.nproc_per_node, a.nnodes, a.node_rank, a.master_addr, a.master_port, a.module) == \
        ("4", "2:2", 1, "h0", 1234, True)
    assert (a.training_script, a.training_script_args) == ("pkg.train", ["--lr", "0.1"])
    assert launcher._nproc("3") == 3 and launcher._nproc("cpu") == (os.cpu_count() or 1)
    with pytest.raises(ValueError, match="elastic ranges"):
        launcher._nnodes("1:4")
    with pytest.raises(ValueError, match="at least 1"):
        launcher._nproc("0")
    with pytest.raises(ValueError, match="--hostfile"):
        launcher._placement("mpiexec-that-does-not-exist", 2, 2, None)
    assert launcher._placement("mpiexec-that-does-not-exist", 2, 3, "hosts") == ["-f", "hosts", "-ppn", "2", "-n",
                                                                                  "6"]
    assert launcher.main(["--nnodes", "2", "--node-rank", "1", "x.py"]) == 0  # only node 0 starts the job


def test_object_payloads_whose_header_starts_like_a_pickle_load():
    """The object collectives send minitorch.save's format; a safetensors header of 128 (mod 256) bytes starts with
    the byte 0x80, which minitorch.load used to take for a pickle file (1 object in 32 failed to arrive)."""
    import io
    from minitorch.serialization import _serialize
    seen = 0
    for k in range(300):
        obj = {"k": "x" * k, "t": minitorch.ones(2)}
        data = _serialize(obj)
        if data[:1] == b"\x80":
            seen += 1
            back = minitorch.load(io.BytesIO(data))
            assert back["k"] == obj["k"] and back["t"].tolist() == [1.0, 1.0]
    assert seen >= 1
    with pytest.raises(RuntimeError, match="is a pickle file"):
        minitorch.load(io.BytesIO(b"\x80\x04\x95" + b"\x00" * 40))
