"""einsum and the other contractions: minitorch vs its own bmm/matmul (the target: einsum within 1.1x of bmm) and
vs torch when installed. One run, median of several repetitions per case.

Run: python benchmarks/bench_einsum.py [--device cuda]     (ratios > 1 mean minitorch is slower)
"""
import argparse
import os
import statistics
import time

import numpy as np

import minitorch

try:
    import torch
except ImportError:
    torch = None


def median_ms(fns, repeat, sync=lambda: None):
    """Median ms of each function; the functions take turns within each repetition (first place alternating), so
    that load from other processes on a shared machine falls on all of them alike."""
    for fn in fns:
        fn()  # warm-up (compiles on first call)
    sync()
    times = [[] for _ in fns]
    for r in range(repeat):
        turns = list(zip(fns, times))
        for fn, ts in (turns if r % 2 else turns[::-1]):  # alternate who goes first
            t0 = time.perf_counter()
            fn()
            sync()
            ts.append(time.perf_counter() - t0)
    return [1e3 * statistics.median(ts) for ts in times]


def cases(device):
    rng = np.random.default_rng(0)

    def pair(*shape):
        a = rng.standard_normal(shape, dtype=np.float32)
        return minitorch.tensor(a, device=device), (torch.from_numpy(a) if torch else None)

    q, tq = pair(8, 8, 128, 64)
    k, tk = pair(8, 8, 128, 64)
    a, ta = pair(32, 128, 64)
    b, tb = pair(32, 64, 128)
    x, tx = pair(512, 64)
    y, ty = pair(256, 64)
    s, ts = pair(64, 2000)
    idx = rng.integers(0, 500, (64, 2000))
    mi, ti = minitorch.tensor(idx, device=device), (torch.from_numpy(idx) if torch else None)
    base, tbase = pair(64, 500)
    kt = k.transpose(-1, -2)
    tkt = tk.transpose(-1, -2) if torch else None
    return [
        # name, minitorch, torch, minitorch's own baseline (name, fn) or None
        ("einsum bhqd,bhkd->bhqk 8x8x128x64", lambda: minitorch.einsum("bhqd,bhkd->bhqk", q, k),
         torch and (lambda: torch.einsum("bhqd,bhkd->bhqk", tq, tk)), ("q @ k.mT", lambda: q @ kt)),
        ("q @ k.mT (matmul baseline)", lambda: q @ kt, torch and (lambda: tq @ tkt), None),
        ("einsum bij,bjk->bik 32x128x64x128", lambda: minitorch.einsum("bij,bjk->bik", a, b),
         torch and (lambda: torch.einsum("bij,bjk->bik", ta, tb)), ("bmm", lambda: minitorch.bmm(a, b))),
        ("bmm 32x128x64x128 (baseline)", lambda: minitorch.bmm(a, b), torch and (lambda: torch.bmm(ta, tb)), None),
        ("einsum bhqd,bhkd->bhqk + backward", lambda: _fwd_bwd(minitorch, q, k),
         torch and (lambda: _fwd_bwd(torch, tq, tk)), None),
        ("tensordot dims=([1],[1]) 512x64 . 256x64", lambda: minitorch.tensordot(x, y, dims=([1], [1])),
         torch and (lambda: torch.tensordot(tx, ty, dims=([1], [1]))), ("x @ y.T", lambda: x @ y.t())),
        ("cdist 512x64, 256x64 (mm path)", lambda: minitorch.cdist(x, y), torch and (lambda: torch.cdist(tx, ty)),
         None),
        ("scatter_reduce amax 64x2000 -> 64x500", lambda: base.scatter_reduce(1, mi, s, "amax"),
         torch and (lambda: tbase.scatter_reduce(1, ti, ts, "amax")), None),
        ("scatter_reduce mean 64x2000 -> 64x500", lambda: base.scatter_reduce(1, mi, s, "mean"),
         torch and (lambda: tbase.scatter_reduce(1, ti, ts, "mean")), None),
    ]


def _fwd_bwd(m, q, k):
    q = q.detach().requires_grad_()
    k = k.detach().requires_grad_()
    m.einsum("bhqd,bhkd->bhqk", q, k).sum().backward()


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                        help="threads for minitorch (Numba and BLAS) and torch alike; 1 steadies numbers on a busy box")
    args = parser.parse_args()
    import numba
    numba.set_num_threads(min(args.threads, numba.config.NUMBA_NUM_THREADS))
    if torch:
        torch.set_num_threads(args.threads)
    sync = minitorch.cuda.synchronize if args.device.startswith("cuda") else (lambda: None)
    print(f"device {args.device}, {args.threads} thread(s), median of {args.repeat}")
    print(f"{'case':44s} | {'minitorch ms':>12s} | {'torch ms':>9s} | {'ratio':>6s} | vs own baseline")
    # every minitorch case first, then every torch case: torch's OpenMP workers spin for a while after each call and
    # would take the cores from a minitorch GEMM that follows; minitorch's op and its own baseline take turns
    table = cases(args.device)
    ours = [median_ms([fn] + ([own[1]] if own else []), args.repeat, sync) for _, fn, _, own in table]
    theirs = [median_ms([tfn], args.repeat)[0] if tfn else float("nan") for _, _, tfn, _ in table]
    for (name, _, _, own), got, tms in zip(table, ours, theirs):
        ms = got[0]
        extra = f"{own[0]} {got[1]:.2f} ms, this/{own[0]} = {ms / got[1]:.2f}x" if own else ""
        print(f"{name:44s} | {ms:12.2f} | {tms:9.2f} | {ms / tms:6.2f} | {extra}")

if __name__ == "__main__":
    main()
