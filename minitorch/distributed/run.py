"""``python -m minitorch.distributed.run`` (also the ``minitorch-run`` command): torchrun for minitorch.

    python -m minitorch.distributed.run --nproc-per-node 2 train.py --epochs 3
    python -m minitorch.distributed.run --nproc-per-node 2 -m mypackage.train
    python -m minitorch.distributed.run --nproc-per-node 2 --as-torch pytorch_program.py

starts ``--nproc-per-node`` copies of the script through ``mpiexec`` (the mpich wheel's, next to this Python, or the
first on PATH; ``--mpiexec`` names another), each with torchrun's environment: ``RANK``, ``LOCAL_RANK``,
``WORLD_SIZE``, ``LOCAL_WORLD_SIZE``, ``GROUP_RANK``, ``ROLE_RANK``, ``MASTER_ADDR``, ``MASTER_PORT``,
``TORCHELASTIC_RUN_ID`` and ``OMP_NUM_THREADS=1`` unless set (minitorch's Numba kernels then also use
``NUMBA_NUM_THREADS=OMP_NUM_THREADS`` threads per process unless that is set). ``--as-torch`` resolves the script's
``torch``/``torchvision`` imports to minitorch in every process, as ``python -m minitorch.run`` does.

Failures: an uncaught exception in a rank prints that rank's traceback and aborts the MPI job (the other ranks
stop instead of waiting for it); the launcher then repeats the failing rank's traceback at the end and exits
non-zero. SIGINT and SIGTERM are forwarded to the processes.

Several machines: MPI starts every process from one place. Run the launcher on node 0 only, with
``--nnodes M --hostfile FILE`` (one host per line; ``mpiexec`` reaches the others over ssh): it starts
``--nproc-per-node`` ranks on each host. A launcher started with ``--node-rank`` other than 0 has nothing to do and
says so. Without any ``mpiexec`` the launcher can only run a single process (MPI cannot join processes it did not
start: MPICH's singleton MPI_Comm_accept/connect refuses them).
"""
import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import uuid

__all__ = ["main", "get_args_parser"]

_ERROR_DIR = "MINITORCH_RUN_ERROR_DIR"


def get_args_parser():
    p = argparse.ArgumentParser(
        prog="python -m minitorch.distributed.run",
        description="Start N processes of a minitorch (or, with --as-torch, a PyTorch) training script on MPI, with "
                    "torchrun's environment variables.", allow_abbrev=False)
    p.add_argument("--nnodes", type=str, default="1", help="number of nodes, or MIN:MAX (both must be equal)")
    p.add_argument("--nproc-per-node", "--nproc_per_node", type=str, default="1",
                   help="processes per node: a number, 'cpu' or 'auto' (one per CPU core), 'gpu' (one per GPU)")
    p.add_argument("--node-rank", "--node_rank", type=int, default=0, help="this node's rank (0: the launching one)")
    p.add_argument("--master-addr", "--master_addr", type=str, default="127.0.0.1",
                   help="MASTER_ADDR given to the processes")
    p.add_argument("--master-port", "--master_port", type=int, default=29500, help="MASTER_PORT given to the "
                   "processes")
    p.add_argument("--standalone", action="store_true", help="single node; pick a free MASTER_PORT")
    p.add_argument("--hostfile", type=str, default=None, help="hosts for --nnodes > 1, one per line (passed to "
                   "mpiexec)")
    p.add_argument("--mpiexec", type=str, default=None, help="the mpiexec to use (default: the one next to this "
                   "Python, then PATH)")
    p.add_argument("--as-torch", action="store_true", help="resolve torch/torchvision imports to minitorch")
    p.add_argument("-m", "--module", action="store_true", help="run the target as a module (python -m)")
    p.add_argument("--no-python", "--no_python", action="store_true", help="run the target as an executable, not "
                   "with Python")
    p.add_argument("--run-path", "--run_path", action="store_true", help="run the script with runpy.run_path "
                   "(what the launcher does anyway)")
    # torchrun's elastic options: accepted; MPI starts a fixed set of processes once
    for flag, kind, default in (("--rdzv-backend", str, "static"), ("--rdzv-endpoint", str, ""),
                                ("--rdzv-id", str, "none"), ("--rdzv-conf", str, ""), ("--max-restarts", int, 0),
                                ("--monitor-interval", float, 0.1), ("--start-method", str, "spawn"),
                                ("--role", str, "default"), ("--log-dir", str, None), ("--redirects", str, "0"),
                                ("--tee", str, "0"), ("--local-addr", str, None),
                                ("--local-ranks-filter", str, "")):
        alias = "--" + flag[2:].replace("-", "_")
        names = (flag, alias) if alias != flag else (flag,)
        p.add_argument(*names, type=kind, default=default, help="accepted for torchrun compatibility (ignored)")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("training_script", type=str, help="the script (or module with -m) to run")
    p.add_argument("training_script_args", nargs=argparse.REMAINDER)
    return p


def _nproc(value):
    if value in ("cpu", "auto"):
        return os.cpu_count() or 1
    if value == "gpu":
        from .. import cuda
        n = cuda.device_count() if cuda.is_available() else 0
        if n == 0:
            raise ValueError("--nproc-per-node gpu: no CUDA device here")
        return n
    try:
        n = int(value)
    except ValueError:
        raise ValueError(f"--nproc-per-node must be a number, 'cpu', 'auto' or 'gpu', got {value!r}") from None
    if n < 1:
        raise ValueError(f"--nproc-per-node must be at least 1, got {n}")
    return n


def _nnodes(value):
    lo, _, hi = value.partition(":")
    lo, hi = int(lo), int(hi or lo)
    if lo != hi:
        raise ValueError(f"--nnodes {value}: elastic ranges are not supported (MPI starts a fixed job); give one "
                         "number")
    if lo < 1:
        raise ValueError(f"--nnodes must be at least 1, got {lo}")
    return lo


def find_mpiexec(explicit=None):
    """The mpiexec to start ranks with: ``explicit``, else the one installed next to this Python (the mpich
    wheel's), else the first on PATH; None when there is none."""
    if explicit:
        return explicit
    here = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    if os.access(here, os.X_OK):
        return here
    return shutil.which("mpiexec") or shutil.which("mpirun")


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("", 0))
        return s.getsockname()[1]


def _worker_argv(args):
    cmd = [sys.executable, "-u", "-m", "minitorch.distributed.run", "--worker"]
    if args.as_torch:
        cmd.append("--as-torch")
    if args.module:
        cmd.append("-m")
    return cmd + [args.training_script] + list(args.training_script_args)


def _launch(args):
    nproc, nnodes = _nproc(args.nproc_per_node), _nnodes(args.nnodes)
    if nnodes > 1 and args.node_rank != 0:
        print(f"minitorch.distributed.run: node {args.node_rank}: MPI starts every rank from node 0 (its launcher "
              "was given --hostfile); nothing to start here", file=sys.stderr)
        return 0
    world = nproc * nnodes
    env = dict(os.environ)
    port = _free_port() if args.standalone else args.master_port
    env.update({"MASTER_ADDR": "127.0.0.1" if args.standalone else args.master_addr, "MASTER_PORT": str(port),
                "WORLD_SIZE": str(world), "LOCAL_WORLD_SIZE": str(nproc), "ROLE_NAME": args.role,
                "ROLE_WORLD_SIZE": str(world), "TORCHELASTIC_RUN_ID": args.rdzv_id if args.rdzv_id != "none"
                else uuid.uuid4().hex[:12], "TORCHELASTIC_RESTART_COUNT": "0", "TORCHELASTIC_MAX_RESTARTS": "0"})
    env.setdefault("OMP_NUM_THREADS", "1")
    env.setdefault("NUMBA_NUM_THREADS", env["OMP_NUM_THREADS"])
    error_dir = tempfile.mkdtemp(prefix="minitorch-run-")
    env[_ERROR_DIR] = error_dir
    if args.no_python:
        target = [args.training_script] + list(args.training_script_args)
    else:
        target = _worker_argv(args)
    mpiexec = find_mpiexec(args.mpiexec)
    if mpiexec is None:
        if world > 1:
            raise RuntimeError("minitorch.distributed.run: no mpiexec found (pip install 'minitorch-jit[distributed]' "
                               "installs the mpich wheel's): MPI cannot join processes it did not start, so only a "
                               "single process can run without it")
        cmd = target
        env.update({"RANK": "0", "LOCAL_RANK": "0", "GROUP_RANK": "0", "ROLE_RANK": "0"})
    else:
        cmd = [mpiexec] + _placement(mpiexec, nproc, nnodes, args.hostfile) + target
    try:
        code = _run(cmd, env)
        if code != 0:
            _report(error_dir, code)
        return code
    finally:
        shutil.rmtree(error_dir, ignore_errors=True)


def _placement(mpiexec, nproc, nnodes, hostfile):
    """mpiexec's arguments for nnodes x nproc ranks (MPICH's hydra and Open MPI spell them differently)."""
    try:
        version = subprocess.run([mpiexec, "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        version = ""
    open_mpi = "Open MPI" in version or "OpenRTE" in version
    if nnodes == 1:
        return ["-n", str(nproc)] + (["--oversubscribe"] if open_mpi else [])
    if hostfile is None:
        raise ValueError(f"--nnodes {nnodes}: give --hostfile FILE (one host per line) so that mpiexec can start "
                         "the ranks on every machine from this one")
    if open_mpi:
        return ["--hostfile", hostfile, "--npernode", str(nproc), "-n", str(nproc * nnodes)]
    return ["-f", hostfile, "-ppn", str(nproc), "-n", str(nproc * nnodes)]


def _run(cmd, env):
    """Run the job, forwarding SIGINT/SIGTERM to it; returns its exit status."""
    proc = subprocess.Popen(cmd, env=env)
    forwarded = []

    def forward(signum, frame):
        forwarded.append(signum)
        try:
            proc.send_signal(signum)
        except ProcessLookupError:
            pass
    old = {s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        while True:
            try:
                code = proc.wait(timeout=0.2)
                break
            except subprocess.TimeoutExpired:
                if forwarded and len(forwarded) > 1:
                    proc.kill()  # a second signal: stop waiting for a clean exit
    finally:
        for s, h in old.items():
            signal.signal(s, h)
    if forwarded and code == 0:
        code = 128 + forwarded[0]
    return code if code >= 0 else 128 - code


def _report(error_dir, code):
    """Repeat the first failing rank's traceback (the root cause) after the job's output."""
    files = sorted((os.path.join(error_dir, f) for f in os.listdir(error_dir)), key=os.path.getmtime)
    if not files:
        print(f"minitorch.distributed.run: the job failed (exit code {code})", file=sys.stderr)
        return
    with open(files[0]) as fh:
        text = fh.read()
    others = len(files) - 1
    print("=" * 100 + f"\nminitorch.distributed.run: the job failed (exit code {code}). Root cause (first failure"
          f"{'' if not others else f'; {others} more rank(s) failed'}):\n{text}" + "=" * 100, file=sys.stderr)


# ---------------------------------------------------------------------------------------------------------------
# one rank
# ---------------------------------------------------------------------------------------------------------------
def _first_env(*names):
    for n in names:
        v = os.environ.get(n)
        if v not in (None, ""):
            return int(v)
    return None


def _set_rank_env():
    """torchrun's per-rank variables from what the MPI launcher set (MPICH hydra, Open MPI, Slurm)."""
    rank = _first_env("PMI_RANK", "OMPI_COMM_WORLD_RANK", "PMIX_RANK", "SLURM_PROCID")
    size = _first_env("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "SLURM_NTASKS")
    if rank is None:
        rank = _first_env("RANK") or 0
    if size is not None:
        os.environ["WORLD_SIZE"] = str(size)
    local_size = _first_env("MPI_LOCALNRANKS", "OMPI_COMM_WORLD_LOCAL_SIZE", "LOCAL_WORLD_SIZE") or 1
    local = _first_env("MPI_LOCALRANKID", "OMPI_COMM_WORLD_LOCAL_RANK", "SLURM_LOCALID")
    if local is None:
        local = rank % local_size
    os.environ.update({"RANK": str(rank), "LOCAL_RANK": str(local), "LOCAL_WORLD_SIZE": str(local_size),
                       "GROUP_RANK": str(rank // local_size), "ROLE_RANK": str(rank)})
    return rank


def _worker(args):
    rank = _set_rank_env()
    argv = ([("-m" if args.module else None), args.training_script] if args.module else [args.training_script])
    argv = [a for a in argv if a is not None] + list(args.training_script_args)
    try:
        if args.as_torch:
            from .. import run as torch_run
            code = torch_run.main(argv)
        else:
            code = _run_plain(args.module, args.training_script, list(args.training_script_args))
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        if not isinstance(e.code, (int, type(None))):
            print(e.code, file=sys.stderr)
    except BaseException as e:
        _fail(rank, e)
        return 1
    if code:
        _abort_others(code)
    return code or 0


def _run_plain(as_module, target, args):
    import runpy
    sys.argv = [target] + args
    if as_module:
        sys.path.insert(0, os.getcwd())
        runpy.run_module(target, run_name="__main__", alter_sys=True)
    else:
        if not os.path.exists(target):
            raise FileNotFoundError(f"minitorch.distributed.run: can't open file '{target}': no such file")
        sys.path.insert(0, os.path.dirname(os.path.abspath(target)))
        runpy.run_path(target, run_name="__main__")
    return 0


def _fail(rank, exc):
    """Print and record this rank's traceback, then end the whole job."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None and _launcher_frame(tb.tb_frame.f_code.co_filename):
        tb = tb.tb_next  # start the traceback at the script, not at this launcher and runpy
    text = "".join(traceback.format_exception(type(exc), exc, tb))
    sys.stdout.flush()
    sys.stderr.write(f"[rank {rank}] uncaught exception, aborting the job (all ranks):\n{text}")
    sys.stderr.flush()
    folder = os.environ.get(_ERROR_DIR)
    if folder and os.path.isdir(folder):
        try:
            with open(os.path.join(folder, f"rank{rank}.txt"), "w") as fh:
                fh.write(f"[rank {rank}] (host {socket.gethostname()}, pid {os.getpid()}, "
                         f"{time.strftime('%H:%M:%S')}):\n{text}")
        except OSError:
            pass
    _abort_others(1)


def _launcher_frame(filename):
    torch_run = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "run.py")
    return filename in (__file__, torch_run, "<frozen runpy>") or filename.endswith(os.sep + "runpy.py")


def _abort_others(code):
    """End every rank when this one stops with an error (an MPI job otherwise waits for it in a collective)."""
    mpi = sys.modules.get("mpi4py.MPI")
    if mpi is not None and mpi.Is_initialized() and not mpi.Is_finalized() and mpi.COMM_WORLD.Get_size() > 1:
        from . import _mpi
        _mpi.load()
        _mpi.abort(code if isinstance(code, int) and 0 < code < 256 else 1)


def main(argv=None):
    args = get_args_parser().parse_args(sys.argv[1:] if argv is None else argv)
    if args.worker:
        return _worker(args)
    return _launch(args)


if __name__ == "__main__":
    sys.exit(main())
