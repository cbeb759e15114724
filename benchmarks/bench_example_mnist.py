"""Whole-process time of PyTorch's own `mnist` example program (pytorch/examples, mnist/main.py, unchanged):
minitorch through `python -m minitorch.run` vs PyTorch, run in turn, as issue 16's whole-run target asks.

The program trains its CNN (conv 1->32 and 32->64, 3x3, no padding; Adadelta; batch 64) over ``root/data/MNIST/raw``
and tests it. Put the four MNIST IDX files (or Fashion-MNIST's, same format and size: Debian's
dataset-fashion-mnist, gunzipped) there first. PyTorch's process gets benchmarks/oracle_torchvision on its
PYTHONPATH, since torchvision does not install beside torch==2.13.0 here.

Run: python benchmarks/bench_example_mnist.py --examples PATH/TO/pytorch-examples [--epochs 1] [--rounds 3]
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def timed(cmd, cwd, env):
    t0 = time.perf_counter()
    r = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    dt = time.perf_counter() - t0
    if r.returncode:
        sys.exit(f"{' '.join(cmd)} failed (rc {r.returncode}):\n{r.stdout[-3000:]}")
    acc = [ln for ln in r.stdout.splitlines() if "Accuracy" in ln]
    return dt, (acc[-1].strip() if acc else "?")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--examples", required=True, help="a checkout of pytorch/examples")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--rounds", type=int, default=3, help="pairs of runs, minitorch first in each")
    args = p.parse_args()
    cwd = os.path.join(args.examples, "mnist")
    raw = os.path.join(args.examples, "data", "MNIST", "raw")
    if not os.path.exists(os.path.join(raw, "train-images-idx3-ubyte")):
        sys.exit(f"put the MNIST IDX files under {raw} first")
    prog = ["main.py", "--epochs", str(args.epochs)]
    env_mt = dict(os.environ)
    env_pt = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [os.path.join(HERE, "oracle_torchvision")] + [q for q in [os.environ.get("PYTHONPATH")] if q]))
    try:
        import torch  # noqa: F401
    except ImportError:
        torch = None
    ratios = []
    for r in range(args.rounds):
        t_mt, acc_mt = timed([sys.executable, "-m", "minitorch.run"] + prog, cwd, env_mt)
        print(f"round {r + 1}: minitorch {t_mt:7.1f} s  ({acc_mt})", flush=True)
        if torch is None:
            continue
        t_pt, acc_pt = timed([sys.executable] + prog, cwd, env_pt)
        ratios.append(t_mt / t_pt)
        print(f"round {r + 1}: torch     {t_pt:7.1f} s  ({acc_pt})  ratio {ratios[-1]:.2f}x", flush=True)
    if ratios:
        print(f"mnist example, {args.epochs} epoch(s), whole process: minitorch/torch min {min(ratios):.2f}x "
              f"median {statistics.median(ratios):.2f}x over {len(ratios)} rounds")


if __name__ == "__main__":
    main()
