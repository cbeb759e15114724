"""Sorting and selection benchmarks: minitorch vs torch (CPU), one run, median of several repetitions each.

Run: python benchmarks/bench_sort.py            (ratio = minitorch / torch; > 1 means minitorch is slower)

Targets (issue 10): sort of 1M float32, topk(k=5) of each row of 4096x1000 float32 and unique of 1M int64 each
within 1.5x of PyTorch. The other rows are for information.
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


def median_ms(fn, repeat):
    fn()  # warm-up (compiles on first call)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1e3 * float(np.median(times))


def cases(scale):
    rng = np.random.default_rng(0)
    n = 1_000_000 // scale
    f = rng.standard_normal(n).astype(np.float32)
    rows = rng.standard_normal((4096 // scale, 1000)).astype(np.float32)
    ints = rng.integers(0, n, n)
    wide = rng.integers(-2 ** 62, 2 ** 62, n)
    mt = {k: minitorch.from_numpy(v) for k, v in (("f", f), ("rows", rows), ("ints", ints), ("wide", wide))}
    tt = {k: torch.from_numpy(v) for k, v in (("f", f), ("rows", rows), ("ints", ints), ("wide", wide))} \
        if torch else None

    def both(call):
        return (lambda: call(minitorch, mt)), (tt is not None and (lambda: call(torch, tt)))

    return [
        # name, (minitorch, torch), repeat, target
        (f"sort {n // 1000}k float32", both(lambda m, d: m.sort(d["f"])), 9, "<= 1.5x"),
        (f"topk k=5 {rows.shape[0]}x1000", both(lambda m, d: m.topk(d["rows"], 5)), 15, "<= 1.5x"),
        (f"unique {n // 1000}k int64", both(lambda m, d: m.unique(d["ints"])), 9, "<= 1.5x"),
        (f"unique {n // 1000}k int64 +inv+counts",
         both(lambda m, d: m.unique(d["ints"], return_inverse=True, return_counts=True)), 9, ""),
        (f"unique {n // 1000}k int64 62-bit", both(lambda m, d: m.unique(d["wide"])), 9, ""),
        (f"sort {n // 1000}k int64 62-bit", both(lambda m, d: m.sort(d["wide"])), 9, ""),
        (f"sort {rows.shape[0]}x1000 dim 1", both(lambda m, d: m.sort(d["rows"], 1)), 5, ""),
        (f"argsort {rows.shape[0]}x1000 dim 0", both(lambda m, d: m.argsort(d["rows"], 0)), 5, ""),
        (f"median {rows.shape[0]}x1000 dim 1", both(lambda m, d: m.median(d["rows"], 1)), 5, ""),
        (f"kthvalue k=500 {rows.shape[0]}x1000", both(lambda m, d: m.kthvalue(d["rows"], 500)), 5, ""),
    ]


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--scale", type=int, default=1, help="divide the big sizes by this (for a quick run)")
    p.add_argument("--threads", type=int, default=0, help="threads for both libraries (default: all cores)")
    args = p.parse_args()
    if args.threads:
        minitorch.set_num_threads(args.threads)
        if torch:
            torch.set_num_threads(args.threads)
    print(f"numba threads: {minitorch.get_num_threads()}, torch: "
          f"{f'{torch.__version__}, {torch.get_num_threads()} threads' if torch else 'not installed'}")
    header = f"{'case':34s} | {'minitorch ms':>12s} | {'torch ms':>9s} | {'ratio':>6s} | target"
    print(header)
    print("-" * len(header))
    for name, (f_mt, f_t), rep, target in cases(args.scale):
        t_mt = median_ms(f_mt, rep)
        t_t = median_ms(f_t, rep) if f_t else float("nan")
        print(f"{name:34s} | {t_mt:12.2f} | {t_t:9.2f} | {t_mt / t_t:6.2f} | {target}")


if __name__ == "__main__":
    main()
