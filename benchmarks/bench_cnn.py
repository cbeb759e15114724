"""One epoch of the MNIST CNN from the convolution issue (conv 1->32 3x3 pad 1, relu, maxpool 2; conv 32->64 3x3
pad 1, relu, maxpool 2; linear 3136->128, relu, linear 128->10; batch 64, SGD momentum 0.9, cross-entropy) on
random MNIST-shaped samples: minitorch vs torch (when installed), the same program with different imports.

The full epoch (60,000 samples) takes minutes; by default the time of --samples samples is scaled to 60,000.

Run: python benchmarks/bench_cnn.py [--samples 6400] [--profile]
"""
import argparse

import numpy as np

import bench_mlp  # the same training loop, with this model


def build(lib):
    nn = lib.nn
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(3136, 128), nn.ReLU(), nn.Linear(128, 10))


def epoch_time(lib, X, Y, batch, device="cpu"):
    return bench_mlp.epoch_time(lib, X, Y, batch, make=build, warmup=5, device=device)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--samples", type=int, default=6400)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--profile", action="store_true", help="print where minitorch's time goes")
    args = p.parse_args()
    rng = np.random.default_rng(0)
    X = rng.random((args.samples, 1, 28, 28), dtype=np.float32)
    Y = rng.integers(0, 10, args.samples).astype(np.int64)
    import minitorch
    t_mt, l_mt = epoch_time(minitorch, X, Y, args.batch)
    try:
        import torch
        t_t, l_t = epoch_time(torch, X, Y, args.batch)
    except ImportError:
        t_t = l_t = float("nan")
    steps = -(-args.samples // args.batch)
    scale = 60000 / args.samples
    print(f"{'':12s} {'60k epoch':>10s} {'per step':>10s} {'final loss':>11s}")
    print(f"{'minitorch':12s} {t_mt * scale:9.2f}s {t_mt / steps * 1e3:8.2f}ms {l_mt:11.4f}")
    print(f"{'torch':12s} {t_t * scale:9.2f}s {t_t / steps * 1e3:8.2f}ms {l_t:11.4f}")
    print(f"ratio minitorch/torch: {t_mt / t_t:.2f}x  (target <= 0.9x, the eager-speed issue)")
    if args.profile:
        import cProfile
        import pstats
        cProfile.runctx("epoch_time(minitorch, X[:1280], Y[:1280], args.batch)", globals(), locals(), "/tmp/cnn.prof")
        pstats.Stats("/tmp/cnn.prof").sort_stats("tottime").print_stats(15)


if __name__ == "__main__":
    main()
