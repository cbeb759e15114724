"""A survey of common tensor ops against PyTorch on the CPU: one 1024x1024 float32 operand (a second one, a bool mask
or 256 indices where the op takes them), forward only, to find ops far behind PyTorch that the targeted benchmarks
(bench_eager.py and the others) do not cover; and the Python cost of small calls (100 elements).

Run: python benchmarks/bench_ops_survey.py [--only NAME,NAME] [--small]
Each case: best of 5 rounds of as many calls as fill 50 ms, minitorch then PyTorch. Ratios > 1 mean minitorch is
slower. This machine's memory bandwidth moves over minutes; repeat a case before trusting a ratio near 1.
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


def best_per_call(fn, budget=0.05):
    fn()
    t0 = time.perf_counter()
    fn()
    once = max(time.perf_counter() - t0, 1e-7)
    number = max(3, min(20000, int(budget / once)))
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - t0) / number)
    return best


def _gelu(L, A):
    return L.nn.functional.gelu(A)


# name -> f(lib, A, B, M, I) returning the call to time
CASES = {
    "clone": lambda L, A, B, M, I: lambda: A.clone(),
    "t().contiguous()": lambda L, A, B, M, I: lambda: A.t().contiguous(),
    "cat dim0": lambda L, A, B, M, I: lambda: L.cat([A, B], 0),
    "cat dim1": lambda L, A, B, M, I: lambda: L.cat([A, B], 1),
    "stack": lambda L, A, B, M, I: lambda: L.stack([A, B]),
    "where": lambda L, A, B, M, I: lambda: L.where(M, A, B),
    "masked_fill": lambda L, A, B, M, I: lambda: A.masked_fill(M, 0.0),
    "to float64": lambda L, A, B, M, I: lambda: A.to(L.float64),
    "to float16": lambda L, A, B, M, I: lambda: A.to(L.float16),
    "to bfloat16": lambda L, A, B, M, I: lambda: A.to(L.bfloat16),
    "sum": lambda L, A, B, M, I: lambda: A.sum(),
    "sum dim0": lambda L, A, B, M, I: lambda: A.sum(0),
    "sum dim1": lambda L, A, B, M, I: lambda: A.sum(1),
    "mean dim1": lambda L, A, B, M, I: lambda: A.mean(1),
    "var dim1": lambda L, A, B, M, I: lambda: A.var(1),
    "softmax -1": lambda L, A, B, M, I: lambda: A.softmax(-1),
    "log_softmax 0": lambda L, A, B, M, I: lambda: A.log_softmax(0),
    "exp": lambda L, A, B, M, I: lambda: A.exp(),
    "tanh": lambda L, A, B, M, I: lambda: A.tanh(),
    "sigmoid": lambda L, A, B, M, I: lambda: A.sigmoid(),
    "gelu": lambda L, A, B, M, I: lambda: _gelu(L, A),
    "relu": lambda L, A, B, M, I: lambda: A.relu(),
    "abs": lambda L, A, B, M, I: lambda: A.abs(),
    "add": lambda L, A, B, M, I: lambda: A + B,
    "add row broadcast": lambda L, A, B, M, I: lambda: A + B[0],
    "add column broadcast": lambda L, A, B, M, I: lambda: A + B[:, :1],
    "mul scalar": lambda L, A, B, M, I: lambda: A * 2.0,
    "A.t() + B": lambda L, A, B, M, I: lambda: A.t() + B,
    "div": lambda L, A, B, M, I: lambda: A / B,
    "pow 2": lambda L, A, B, M, I: lambda: A ** 2,
    "clamp": lambda L, A, B, M, I: lambda: A.clamp(-1, 1),
    "add_ (in place)": lambda L, A, B, M, I: lambda: A.add_(B),
    "mul_ scalar (in place)": lambda L, A, B, M, I: lambda: A.mul_(1.0),
    "gt": lambda L, A, B, M, I: lambda: A > B,
    "argmax dim1": lambda L, A, B, M, I: lambda: A.argmax(1),
    "max": lambda L, A, B, M, I: lambda: A.max(),
    "topk 5": lambda L, A, B, M, I: lambda: A.topk(5, 1),
    "sort dim1": lambda L, A, B, M, I: lambda: A.sort(1),
    "cumsum dim1": lambda L, A, B, M, I: lambda: A.cumsum(1),
    "index_select dim0": lambda L, A, B, M, I: lambda: A.index_select(0, I),
    "A[I]": lambda L, A, B, M, I: lambda: A[I],
    "A[mask]": lambda L, A, B, M, I: lambda: A[M],
    "gather (expanded index)": lambda L, A, B, M, I: lambda: A.gather(1, I.view(1, -1).expand(1024, 256)),
    "zeros_like": lambda L, A, B, M, I: lambda: L.zeros_like(A),
    "fill_": lambda L, A, B, M, I: lambda: A.fill_(0.5),
    "randn": lambda L, A, B, M, I: lambda: L.randn(1024, 1024),
    "rand": lambda L, A, B, M, I: lambda: L.rand(1024, 1024),
    "layer_norm": lambda L, A, B, M, I: lambda: L.nn.functional.layer_norm(A, (1024,)),
    "dropout": lambda L, A, B, M, I: lambda: L.nn.functional.dropout(A, 0.5),
    "mse_loss": lambda L, A, B, M, I: lambda: L.nn.functional.mse_loss(A, B),
    "norm": lambda L, A, B, M, I: lambda: A.norm(),
    "flip dim1": lambda L, A, B, M, I: lambda: A.flip(1),
    "roll": lambda L, A, B, M, I: lambda: A.roll(3, 1),
    "repeat": lambda L, A, B, M, I: lambda: A[:256].repeat(2, 2),
    "tril": lambda L, A, B, M, I: lambda: A.tril(),
    "nonzero": lambda L, A, B, M, I: lambda: M.nonzero(),
    "unique (256 ints)": lambda L, A, B, M, I: lambda: I.unique(),
}

# the Python path of small calls: name -> f(lib, a, b, m, r) on 100 elements
SMALL = {
    "relu": lambda L, a, b, m, r: lambda: a.relu(),
    "a * 2.0": lambda L, a, b, m, r: lambda: a * 2.0,
    "a + b": lambda L, a, b, m, r: lambda: a + b,
    "(10,10) + (10,)": lambda L, a, b, m, r: lambda: m + r,
    "add_": lambda L, a, b, m, r: lambda: a.add_(b),
    "mul_ scalar": lambda L, a, b, m, r: lambda: a.mul_(1.0),
    "clamp": lambda L, a, b, m, r: lambda: a.clamp(-1, 1),
    "exp": lambda L, a, b, m, r: lambda: a.exp(),
    "sum": lambda L, a, b, m, r: lambda: a.sum(),
    "sum(1)": lambda L, a, b, m, r: lambda: m.sum(1),
    "softmax": lambda L, a, b, m, r: lambda: m.softmax(-1),
    "t()": lambda L, a, b, m, r: lambda: m.t(),
    "view": lambda L, a, b, m, r: lambda: m.view(100),
    "a[3]": lambda L, a, b, m, r: lambda: a[3],
    "a[2:5]": lambda L, a, b, m, r: lambda: a[2:5],
    "item": lambda L, a, b, m, r: lambda: a[3].item(),
}


def _large_inputs(lib):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((1024, 1024), dtype=np.float32)
    b = rng.standard_normal((1024, 1024), dtype=np.float32)
    m = rng.random((1024, 1024)) > 0.5
    i = rng.integers(0, 1024, 256)
    return lib.from_numpy(a), lib.from_numpy(b), lib.from_numpy(m), lib.from_numpy(i)


def _small_inputs(lib):
    rng = np.random.default_rng(1)
    return (lib.from_numpy(rng.standard_normal(100).astype(np.float32)),
            lib.from_numpy(rng.standard_normal(100).astype(np.float32)),
            lib.from_numpy(rng.standard_normal((10, 10)).astype(np.float32)),
            lib.from_numpy(rng.standard_normal(10).astype(np.float32)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", default="", help="comma-separated case names")
    ap.add_argument("--small", action="store_true", help="the small-call table instead of the 1024^2 one")
    args = ap.parse_args()
    table, inputs, unit = (SMALL, _small_inputs, 1e6) if args.small else (CASES, _large_inputs, 1e6)
    only = [n.strip() for n in args.only.split(",") if n.strip()]
    libs = [("minitorch", minitorch)] + ([("torch", torch)] if torch is not None else [])
    print(f"{'case':26s} " + " ".join(f"{name + ' us':>14s}" for name, _ in libs) + ("   ratio" if torch else ""))
    for name, make in table.items():
        if only and name not in only:
            continue
        times = []
        for _, lib in libs:
            try:
                times.append(best_per_call(make(lib, *inputs(lib))) * unit)
            except Exception as e:  # noqa: BLE001 (a case one library lacks is reported, not fatal)
                times.append(None)
                print(f"{name}: {type(e).__name__}: {e}")
        cells = " ".join(f"{t:14.2f}" if t is not None else f"{'-':>14s}" for t in times)
        ratio = f"{times[0] / times[1]:8.2f}" if len(times) == 2 and None not in times else ""
        print(f"{name:26s} {cells}{ratio}", flush=True)


if __name__ == "__main__":
    main()
