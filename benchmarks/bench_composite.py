"""Composite ops (minitorch/ops/composite.py) against torch: forward time of each case, median of repetitions.

Every case is written once against the PyTorch API and runs on both libraries with the same data (float32, CPU).

Run: python benchmarks/bench_composite.py [--reps 7]
"""
import argparse
import time

import numpy as np

CASES = [
    ("logaddexp 1M", lambda m, a, b, r: m.logaddexp(a, b)),
    ("hypot 1M", lambda m, a, b, r: m.hypot(a, b)),
    ("asinh 1M", lambda m, a, b, r: m.asinh(a)),
    ("erfc 1M", lambda m, a, b, r: m.erfc(a)),
    ("xlogy 1M", lambda m, a, b, r: m.xlogy(a, b.abs())),
    ("isin 1M in 1k", lambda m, a, b, r: m.isin((a * 100).round(), (b[:1000] * 100).round())),
    ("quantile 1000x1000 dim=1", lambda m, a, b, r: m.quantile(a.reshape(1000, 1000), 0.3, dim=1)),
    ("repeat_interleave tensor 1M", lambda m, a, b, r: m.repeat_interleave(a, r)),
    ("cov 100x10000", lambda m, a, b, r: m.cov(a[:1000000].reshape(100, 10000))),
    ("gradient 1000x1000", lambda m, a, b, r: m.gradient(a.reshape(1000, 1000))),
    ("trapezoid 1000x1000", lambda m, a, b, r: m.trapezoid(a.reshape(1000, 1000))),
    ("index_fill 1000x1000", lambda m, a, b, r: a.reshape(1000, 1000).index_fill(1, r[:100].cumsum(0) % 1000, 0.0)),
]


def median_ms(fn, reps):
    fn()  # compile / warm up
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times)) * 1e3


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--reps", type=int, default=7)
    args = p.parse_args()
    rng = np.random.default_rng(0)
    a = rng.uniform(-3, 3, 1_000_000).astype(np.float32)
    b = rng.uniform(-3, 3, 1_000_000).astype(np.float32)
    r = rng.integers(0, 3, 1_000_000)
    import minitorch
    libs = [("minitorch", minitorch)]
    try:
        import torch
        libs.append(("torch", torch))
    except ImportError:
        torch = None
    print(f"{'case':32s} | {'minitorch ms':>12s} | {'torch ms':>9s} | {'ratio':>6s}")
    for name, fn in CASES:
        ms = {}
        for label, m in libs:
            ta, tb, tr = m.tensor(a), m.tensor(b), m.tensor(r)
            ms[label] = median_ms(lambda: fn(m, ta, tb, tr), args.reps)
        t = ms.get("torch", float("nan"))
        print(f"{name:32s} | {ms['minitorch']:12.2f} | {t:9.2f} | {ms['minitorch'] / t:6.2f}")


if __name__ == "__main__":
    main()
