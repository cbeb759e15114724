"""DistributedDataParallel on this machine: minitorch (MPI) against PyTorch's DDP with gloo, 2 ranks x 1 thread,
the MNIST CNN of examples/mnist_cnn.py (PyTorch's classic one, 1.2M parameters) on the same random MNIST-shaped
batches of 64 per rank, SGD with momentum.

Reports, from one run (medians of 3 repetitions each):
  - epoch: the time of --steps training steps (2 ranks, batch 64 each), minitorch vs PyTorch;
  - throughput: samples/s of the 2-rank job and of one process with one thread (no DDP), and their ratio;
  - all-reduce of a 25 MB bucket (PyTorch's default bucket size) and of the model's gradients (4.8 MB) between the
    2 ranks, and of 4 bytes (the latency);
  - overlap: the time DDP adds to a one-process step (2-rank step - 1-process step at the same batch per rank), as a
    fraction of the all-reduce time of the gradients: 0 = fully hidden behind backward, 1 = none hidden. On a
    machine with fewer free cores than ranks that difference is mostly the ranks competing for cores, so the time
    added to the same 2-rank job's step under no_sync() (no gradient communication) is reported as well.

Run: python benchmarks/bench_ddp.py [--steps 20] [--epochs 3] [--skip-torch]
(it starts the ranks itself: minitorch through `python -m minitorch.distributed.run`, PyTorch through torchrun).
"""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
BATCH = 64
AR_BIG = 25 * 1024 * 1024 // 4  # float32 elements of a 25 MiB bucket


def framework(name):
    if name == "torch":
        import torch
        import torch.distributed as dist
        import torch.nn as nn
        import torch.nn.functional as F
        from torch.nn.parallel import DistributedDataParallel as DDP
    else:
        import minitorch as torch
        import minitorch.distributed as dist
        import minitorch.nn as nn
        import minitorch.nn.functional as F
        from minitorch.nn.parallel import DistributedDataParallel as DDP
    return torch, dist, nn, F, DDP


def make_net(torch, nn, F):
    class Net(nn.Module):  # examples/mnist_cnn.py's model, written once for both libraries
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 32, 3, 1)
            self.conv2 = nn.Conv2d(32, 64, 3, 1)
            self.dropout1 = nn.Dropout(0.25)
            self.dropout2 = nn.Dropout(0.5)
            self.fc1 = nn.Linear(9216, 128)
            self.fc2 = nn.Linear(128, 10)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.conv2(F.relu(self.conv1(x)))), 2)
            x = torch.flatten(self.dropout1(x), 1)
            x = self.fc2(self.dropout2(F.relu(self.fc1(x))))
            return F.log_softmax(x, dim=1)

    torch.manual_seed(0)
    return Net()


def batches(torch, rank, n):
    rng = np.random.default_rng(100 + rank)
    return [(torch.from_numpy(rng.random((BATCH, 1, 28, 28), dtype=np.float32)),
             torch.from_numpy(rng.integers(0, 10, BATCH).astype(np.int64))) for _ in range(n)]


def timed_epochs(step, data, epochs, sync):
    for x, y in data[:3]:
        step(x, y)  # warm-up (first calls compile)
    times = []
    for _ in range(epochs):
        sync()
        t0 = time.perf_counter()
        for x, y in data:
            step(x, y)
        sync()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def allreduce_time(torch, dist, numel, reps):
    """Mean time of ``reps`` back-to-back all-reduces (a barrier before each would time the barrier's skew)."""
    t = torch.ones(numel)
    for _ in range(2):
        dist.all_reduce(t)
    ts = []
    for _ in range(3):
        dist.barrier()
        t0 = time.perf_counter()
        for _ in range(reps):
            dist.all_reduce(t)
        ts.append((time.perf_counter() - t0) / reps)
    return float(np.median(ts))


def worker(name, steps, epochs, single):
    torch, dist, nn, F, DDP = framework(name)
    torch.set_num_threads(1)
    if single:
        model = make_net(torch, nn, F)
        data = batches(torch, 0, steps)
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

        def step(x, y):
            opt.zero_grad()
            F.nll_loss(model(x), y).backward()
            opt.step()

        print("RESULT " + json.dumps({"epoch": timed_epochs(step, data, epochs, lambda: None)}), flush=True)
        return
    dist.init_process_group("gloo")
    rank = dist.get_rank()
    model = DDP(make_net(torch, nn, F))
    data = batches(torch, rank, steps)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def step(x, y):
        opt.zero_grad()
        F.nll_loss(model(x), y).backward()
        opt.step()

    def local_step(x, y):  # the same step without gradient communication, in the same 2-rank job
        opt.zero_grad()
        with model.no_sync():
            F.nll_loss(model(x), y).backward()
        opt.step()

    res = {"epoch": timed_epochs(step, data, epochs, dist.barrier),
           "epoch_local": timed_epochs(local_step, data, epochs, dist.barrier)}
    grads = sum(p.numel() for p in model.parameters())
    res["ar_big"] = allreduce_time(torch, dist, AR_BIG, 5)
    res["ar_grads"] = allreduce_time(torch, dist, grads, 10)
    res["ar_tiny"] = allreduce_time(torch, dist, 1, 200)
    res["grad_bytes"] = grads * 4
    if rank == 0:
        print("RESULT " + json.dumps(res), flush=True)
    dist.destroy_process_group()


def launch(name, steps, epochs, single):
    env = dict(os.environ, OMP_NUM_THREADS="1", NUMBA_NUM_THREADS="1", MKL_NUM_THREADS="1")
    me = [os.path.abspath(__file__), "--worker", name, "--steps", str(steps), "--epochs", str(epochs)]
    if single:
        cmd = [sys.executable] + me + ["--single"]
    elif name == "torch":
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2"] + me
    else:
        cmd = [sys.executable, "-m", "minitorch.distributed.run", "--nproc-per-node", "2"] + me
    for attempt in range(2):  # one retry: a loaded machine has made a gloo rank abort at start-up once
        r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=1800)
        lines = [ln for ln in r.stdout.splitlines() if ln.startswith("RESULT ")]
        if r.returncode == 0 and lines:
            break
        print(f"{' '.join(cmd)} failed (attempt {attempt + 1}):\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}")
    else:
        raise SystemExit("giving up")
    return json.loads(lines[-1][len("RESULT "):])


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=20, help="training steps per timed epoch")
    p.add_argument("--epochs", type=int, default=3, help="timed epochs (the median is reported)")
    p.add_argument("--skip-torch", action="store_true")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    p.add_argument("--single", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        worker(args.worker, args.steps, args.epochs, args.single)
        return
    names = ["minitorch"] + ([] if args.skip_torch else ["torch"])
    if not args.skip_torch:
        try:
            import torch  # noqa: F401
        except ImportError:
            names = ["minitorch"]
    load = os.getloadavg()
    res = {n: (launch(n, args.steps, args.epochs, False), launch(n, args.steps, args.epochs, True)) for n in names}
    rows = []
    for n in names:
        ddp, one = res[n]
        step2, step1 = ddp["epoch"] / args.steps, one["epoch"] / args.steps
        tput2, tput1 = 2 * BATCH / step2, BATCH / step1
        added = step2 - step1
        comm = (ddp["epoch"] - ddp["epoch_local"]) / args.steps
        res[n] = {
            f"epoch ({args.steps} steps, 2 ranks x {BATCH}) s": ddp["epoch"],
            "step, 2 ranks (ms)": 1e3 * step2,
            "step, 1 process 1 thread (ms)": 1e3 * step1,
            "throughput 2 ranks (samples/s)": tput2,
            "throughput 1 rank (samples/s)": tput1,
            "2 ranks / 1 rank throughput (x)": tput2 / tput1,
            "all-reduce 25 MB (ms)": 1e3 * ddp["ar_big"],
            "all-reduce 25 MB (GB/s, algorithm)": AR_BIG * 4 / ddp["ar_big"] / 1e9,
            f"all-reduce gradients {ddp['grad_bytes'] / 1e6:.1f} MB (ms)": 1e3 * ddp["ar_grads"],
            "all-reduce 4 bytes (us)": 1e6 * ddp["ar_tiny"],
            "DDP time added per step vs 1 process (ms)": 1e3 * added,
            "  / gradient all-reduce (overlap vs 1 process)": added / ddp["ar_grads"],
            "DDP time added per step vs no_sync (ms)": 1e3 * comm,
            "  / gradient all-reduce (overlap vs no_sync)": comm / ddp["ar_grads"],
        }
    print(f"load average before the run: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; "
          f"after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; cpus: {os.cpu_count()}")
    head = f"{'case':50s} | {'minitorch':>10s} | {'torch':>10s} | {'ratio':>6s}"
    print(head)
    print("-" * len(head))
    for key in res["minitorch"]:
        a = res["minitorch"][key]
        b = res["torch"][key] if "torch" in res else None
        ratio = f"{a / b:6.2f}" if b else "     -"
        print(f"{key:50s} | {a:10.3f} | {b if b is not None else float('nan'):10.3f} | {ratio}")
    if "torch" in res:
        m, t = res["minitorch"], res["torch"]
        ep = f"epoch ({args.steps} steps, 2 ranks x {BATCH}) s"
        print(f"\ntargets: epoch {m[ep] / t[ep]:.2f}x of PyTorch DDP (<= 1.2); 2-rank throughput "
              f"{m['2 ranks / 1 rank throughput (x)']:.2f}x of one rank (>= 1.6); all-reduce 25 MB "
              f"{m['all-reduce 25 MB (ms)'] / t['all-reduce 25 MB (ms)']:.2f}x of gloo (<= 1.5)")


if __name__ == "__main__":
    main()
