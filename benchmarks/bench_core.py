"""Core op benchmarks: minitorch vs NumPy (and torch when installed), one run, ratio table.

Run: python benchmarks/bench_core.py            (ratios > 1 mean minitorch is slower)
"""
import argparse
import os
import time

import numpy as np

import minitorch

try:
    import torch
    torch.set_num_threads(os.cpu_count() or 1)
except ImportError:
    torch = None


def best_of(fn, repeat, number):
    fn()  # warm-up (compiles on first call)
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - t0) / number)
    return best


def cases(scale):
    rng = np.random.default_rng(0)
    n = 1024
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    m = 16 * 1024 * 1024 // scale
    x, y, z = (rng.standard_normal(m, dtype=np.float32) for _ in range(3))
    s = 4096 // int(scale ** 0.5)
    big = rng.standard_normal((s, s), dtype=np.float32)
    small = rng.standard_normal(10, dtype=np.float32)

    def mt(arr):
        return minitorch.from_numpy(arr)

    def tt(arr):
        return torch.from_numpy(arr) if torch else None

    A, B, X, Y, Z, BIG, SM = (mt(v) for v in (a, b, x, y, z, big, small))
    if torch:
        TA, TB, TX, TY, TZ, TBIG, TSM = (tt(v) for v in (a, b, x, y, z, big, small))
    else:
        TA = TB = TX = TY = TZ = TBIG = TSM = None
    return [
        # name, minitorch, numpy, torch, (repeat, number), target text
        ("matmul 1024^2 f32", lambda: A @ B, lambda: a @ b, TA is not None and (lambda: TA @ TB), (5, 3),
         "GFLOP/s >= 0.9x numpy"),
        (f"a*b+c {m // 2**20}M f32", lambda: X * Y + Z, lambda: x * y + z,
         TX is not None and (lambda: TX * TY + TZ), (5, 2), "<= 1.3x torch"),
        (f"sum last dim {s}^2", lambda: BIG.sum(1), lambda: big.sum(1), TBIG is not None and (lambda: TBIG.sum(1)),
         (15, 3), "<= 1.0x torch"),
        (f"sum first dim {s}^2", lambda: BIG.sum(0), lambda: big.sum(0), TBIG is not None and (lambda: TBIG.sum(0)),
         (15, 3), "<= 1.0x torch"),
        ("add 10 elem (no grad)", lambda: SM + SM, lambda: small + small, TSM is not None and (lambda: TSM + TSM),
         (5, 20000), "<= 3 us"),
    ]


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--scale", type=int, default=1, help="divide the big sizes by this (for a quick run)")
    args = p.parse_args()
    print(f"numba threads: {minitorch.get_num_threads()}, torch: {torch.__version__ if torch else 'not installed'}")
    header = f"{'case':26s} {'minitorch':>12s} {'numpy':>12s} {'torch':>12s} {'vs numpy':>9s} {'vs torch':>9s}  target"
    print(header)
    print("-" * len(header))
    for name, f_mt, f_np, f_t, (rep, num), target in cases(args.scale):
        t_mt = best_of(f_mt, rep, num)
        t_np = best_of(f_np, rep, num)
        t_t = best_of(f_t, rep, num) if f_t else float("nan")

        def fmt(v):
            return f"{v * 1e6:10.1f}us" if v < 1e-3 else f"{v * 1e3:10.2f}ms"
        print(f"{name:26s} {fmt(t_mt):>12s} {fmt(t_np):>12s} {fmt(t_t) if f_t else 'n/a':>12s} "
              f"{t_mt / t_np:9.2f} {(t_mt / t_t) if f_t else float('nan'):9.2f}  {target}")


if __name__ == "__main__":
    main()
