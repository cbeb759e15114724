"""Searching and counting benchmarks: minitorch vs torch (when installed), one run, ratio table.

Run: python benchmarks/bench_search.py [--device cuda]     (ratio > 1 means minitorch is slower)
Each time is the median of several repetitions after a warm-up call (which compiles the kernels).
"""
import argparse
import os
import statistics
import time

import numpy as np

import minitorch

try:
    import torch
    torch.set_num_threads(os.cpu_count() or 1)
except ImportError:
    torch = None


def median_ms(fn, repeat, sync):
    fn()
    sync()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t0)
    return 1e3 * statistics.median(times)


def cases(device):
    rng = np.random.default_rng(0)
    bnd = np.sort(rng.standard_normal(1000).astype(np.float32))
    vals = rng.standard_normal(1_000_000).astype(np.float32)
    ints = rng.integers(0, 1000, 1_000_000)
    floats = rng.standard_normal(1_000_000).astype(np.float32)
    mat = rng.standard_normal((1000, 1000)).astype(np.float32)

    def m(a):
        return minitorch.tensor(a, device=device)

    def t(a):
        return torch.from_numpy(a) if torch else None

    B, V, I, F, M = (m(a) for a in (bnd, vals, ints, floats, mat))
    TB, TV, TI, TF, TM = (t(a) for a in (bnd, vals, ints, floats, mat))
    return [
        ("searchsorted 1M into 1000", lambda: minitorch.searchsorted(B, V), torch and (lambda: torch.searchsorted(TB, TV))),
        ("bincount 1M ints (1000 bins)", lambda: minitorch.bincount(I), torch and (lambda: torch.bincount(TI))),
        ("histc 1M floats (100 bins)", lambda: minitorch.histc(F), torch and (lambda: torch.histc(TF))),
        ("histc 1M floats, range given", lambda: minitorch.histc(F, 100, -3, 3),
         torch and (lambda: torch.histc(TF, 100, -3, 3))),
        ("cummax rows 1000x1000", lambda: minitorch.cummax(M, 1), torch and (lambda: torch.cummax(TM, 1))),
        ("cummax cols 1000x1000", lambda: minitorch.cummax(M, 0), torch and (lambda: torch.cummax(TM, 0))),
        ("logcumsumexp rows 1000x1000", lambda: minitorch.logcumsumexp(M, 1),
         torch and (lambda: torch.logcumsumexp(TM, 1))),
    ]


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--device", default="cpu")
    p.add_argument("--repeat", type=int, default=15)
    args = p.parse_args()
    sync = minitorch.cuda.synchronize if args.device == "cuda" else (lambda: None)
    print(f"device {args.device}, numba threads: {minitorch.get_num_threads()}, "
          f"torch: {torch.__version__ + ' (cpu, ' + str(torch.get_num_threads()) + ' threads)' if torch else 'not installed'}")
    header = f"{'case':32s} | {'minitorch ms':>12s} | {'torch ms':>9s} | {'ratio':>6s}"
    print(header)
    print("-" * len(header))
    for name, f_mt, f_t in cases(args.device):
        t_mt = median_ms(f_mt, args.repeat, sync)
        t_t = median_ms(f_t, args.repeat, lambda: None) if f_t else float("nan")
        print(f"{name:32s} | {t_mt:12.3f} | {t_t:9.3f} | {t_mt / t_t:6.2f}")


if __name__ == "__main__":
    main()
