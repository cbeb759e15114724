"""One epoch of the MNIST MLP (784-128-64-10, batch 64, SGD momentum 0.9, cross-entropy) on 60,000 random
MNIST-shaped samples: minitorch vs torch (when installed), the same program with different imports.

Run: python benchmarks/bench_mlp.py [--samples 60000] [--profile]
"""
import argparse
import statistics
import time

import numpy as np


def build(lib):
    nn = lib.nn
    return nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10))


def epoch_time(lib, X, Y, batch, make=build, warmup=20, device="cpu"):
    """Seconds for one pass of SGD-momentum training over X on ``device`` (after ``warmup`` batches that compile
    kernels; the data sits on the device beforehand, and the final ``loss.item()`` waits for the last step)."""
    F = lib.nn.functional
    lib.manual_seed(0)
    model = make(lib).to(device)
    opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x, y = lib.from_numpy(X).to(device), lib.from_numpy(Y).to(device)

    def run(n):
        for i in range(0, n, batch):
            xb, yb = x[i:i + batch], y[i:i + batch]
            opt.zero_grad()
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
        return loss.item()

    run(batch * warmup)  # warm-up: compiles kernels on the first call
    t0 = time.perf_counter()
    loss = run(len(X))
    return time.perf_counter() - t0, loss


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--samples", type=int, default=60000)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--profile", action="store_true", help="print where minitorch's time goes")
    p.add_argument("--rounds", type=int, default=1,
                   help="epochs of each library in turn; with more than one, the min/median of the per-round ratio")
    args = p.parse_args()
    rng = np.random.default_rng(0)
    X = rng.random((args.samples, 784), dtype=np.float32)
    Y = rng.integers(0, 10, args.samples).astype(np.int64)
    import minitorch
    try:
        import torch
    except ImportError:
        torch = None
    ratios = []
    for _ in range(args.rounds):
        t_mt, l_mt = epoch_time(minitorch, X, Y, args.batch)
        t_t, l_t = epoch_time(torch, X, Y, args.batch) if torch else (float("nan"), float("nan"))
        ratios.append(t_mt / t_t)
    if args.rounds > 1:
        print(f"per-round ratios: {' '.join(f'{r:.2f}' for r in ratios)}; min {min(ratios):.2f}, "
              f"median {statistics.median(ratios):.2f}")
    steps = -(-args.samples // args.batch)
    print(f"{'':12s} {'epoch':>9s} {'per step':>10s} {'final loss':>11s}")
    print(f"{'minitorch':12s} {t_mt:8.2f}s {t_mt / steps * 1e3:8.3f}ms {l_mt:11.4f}")
    print(f"{'torch':12s} {t_t:8.2f}s {t_t / steps * 1e3:8.3f}ms {l_t:11.4f}")
    print(f"ratio minitorch/torch: {t_mt / t_t:.2f}x  (target <= 0.9x, the eager-speed issue)")
    if args.profile:
        import cProfile
        import pstats
        cProfile.runctx("epoch_time(minitorch, X[:6400], Y[:6400], args.batch)", globals(), locals(), "/tmp/mlp.prof")
        pstats.Stats("/tmp/mlp.prof").sort_stats("tottime").print_stats(15)


if __name__ == "__main__":
    main()
