"""Eager-mode speed on the CPU against PyTorch, at the shapes the examples train (the targets of the eager-speed
work): conv2d and GEMM forward+backward, dispatch of tiny ops, reductions along either dim, and a memory-bound
elementwise chain. One run; each case is timed in alternating rounds (minitorch, torch, minitorch, ...) and the
table gives the min and median of the per-round ratio.

Run: python benchmarks/bench_eager.py [--rounds 5] [--only conv,gemm,dispatch,reduce,elementwise,process]
Ratios > 1 mean minitorch is slower. Name the CPU (lscpu) next to any figure you quote.
"""
import argparse
import os
import platform
import statistics
import subprocess
import sys
import time

import numpy as np

import minitorch

try:
    import torch
    torch.set_num_threads(os.cpu_count() or 1)
except ImportError:
    torch = None


def per_call(fn, number):
    for _ in range(3):  # untimed: lets the other library's worker threads go to sleep first
        fn()
    t0 = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - t0) / number


def calibrate(fn, budget=0.05):
    """How many calls make one timing round last about `budget` seconds (at least one)."""
    fn()
    fn()
    t = per_call(fn, 1)
    return max(1, int(budget / max(t, 1e-7)))


def conv_cases(rng):
    shapes = [  # name, (N, C, H, W), (O, k), padding
        ("conv 1->32 28x28 pad1", (64, 1, 28, 28), (32, 3), 1),
        ("conv 32->64 14x14 pad1", (64, 32, 14, 14), (64, 3), 1),
        ("conv 32->64 26x26 pad0", (64, 32, 26, 26), (64, 3), 0),
        ("conv 64->128 7x7 pad1", (64, 64, 7, 7), (128, 3), 1),
    ]
    for name, (n, c, h, w), (o, k), pad in shapes:
        x = rng.standard_normal((n, c, h, w), dtype=np.float32)
        wt = rng.standard_normal((o, c, k, k), dtype=np.float32)
        b = rng.standard_normal(o, dtype=np.float32)

        def make(lib, x=x, wt=wt, b=b, pad=pad):
            xx = lib.from_numpy(x).requires_grad_()
            ww = lib.from_numpy(wt).requires_grad_()
            bb = lib.from_numpy(b).requires_grad_()
            F = lib.nn.functional

            def run():
                xx.grad = ww.grad = bb.grad = None
                F.conv2d(xx, ww, bb, padding=pad).sum().backward()
            return run
        yield name + " fwd+bwd", make


def gemm_cases(rng):
    shapes = [(64, 784, 128), (64, 128, 64), (64, 128, 10), (700, 200, 10000), (768, 128, 384)]
    for m, k, n in shapes:
        a = rng.standard_normal((m, k), dtype=np.float32)
        b = rng.standard_normal((k, n), dtype=np.float32)
        g = rng.standard_normal((m, n), dtype=np.float32)
        tag = f"{m}x{k}x{n}"

        def fwd(lib, a=a, b=b):
            A, B = lib.from_numpy(a), lib.from_numpy(b)
            return lambda: A @ B

        def grad_a(lib, b=b, g=g):  # dA = G @ B^T
            G, B = lib.from_numpy(g), lib.from_numpy(b)
            return lambda: G @ B.t()

        def grad_b(lib, a=a, g=g):  # dB = A^T @ G
            A, G = lib.from_numpy(a), lib.from_numpy(g)
            return lambda: A.t() @ G
        yield f"gemm {tag} A@B", fwd
        yield f"gemm {tag} G@B^T", grad_a
        yield f"gemm {tag} A^T@G", grad_b


def dispatch_cases(rng):
    v = rng.standard_normal(10, dtype=np.float32)

    def add(lib):
        x = lib.from_numpy(v)
        return lambda: x + x

    def mul_sum_backward(lib):
        x = lib.from_numpy(v).requires_grad_()

        def run():
            x.grad = None
            (x * x).sum().backward()
        return run
    yield "add 10 elem", add
    yield "mul+sum+backward 10 elem", mul_sum_backward


def reduce_cases(rng):
    big = rng.standard_normal((4096, 4096), dtype=np.float32)
    for op in ("amax", "amin", "argmax", "argmin", "max"):
        for dim in (1, 0):
            def make(lib, op=op, dim=dim):
                t = lib.from_numpy(big)
                f = getattr(t, op)
                return lambda: f(dim)
            yield f"{op}(dim={dim}) 4096^2", make


def elementwise_cases(rng):
    m = 16 * 1024 * 1024
    x, y, z = (rng.standard_normal(m, dtype=np.float32) for _ in range(3))

    def fma(lib):
        X, Y, Z = (lib.from_numpy(v) for v in (x, y, z))
        return lambda: X * Y + Z
    yield "a*b+c 16M f32", fma


# a*b+c again, each library in a process of its own: minitorch keeps freed large blocks in the heap (kernels/cpu/
# memory.py), and in a shared process PyTorch's 64 MB temporaries get that too; alone, its allocator hands them back
# to the kernel after every op and each fresh one page-faults
_OWN_PROCESS = r"""
import sys, time, numpy as np
lib = __import__(sys.argv[1])
if sys.argv[1] == "torch":
    lib.set_num_threads(int(sys.argv[2]))
rng = np.random.default_rng(0)
X, Y, Z = (lib.from_numpy(rng.standard_normal(16 * 1024 * 1024, dtype=np.float32)) for _ in range(3))
for _ in range(3):
    X * Y + Z
best = 1e9
for _ in range(int(sys.argv[3])):
    t0 = time.perf_counter()
    for _ in range(10):
        X * Y + Z
    best = min(best, (time.perf_counter() - t0) / 10)
print(best)
"""


def own_process_cases(rng):
    def make(lib):
        cmd = [sys.executable, "-c", _OWN_PROCESS, lib.__name__, str(os.cpu_count() or 1), "3"]

        def run():
            out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
            return float(out.split()[-1])
        return run
    yield "a*b+c 16M f32, own process", make


GROUPS = {"conv": conv_cases, "gemm": gemm_cases, "dispatch": dispatch_cases, "reduce": reduce_cases,
          "elementwise": elementwise_cases, "process": own_process_cases}


def fmt(t):
    return f"{t * 1e6:9.1f}us" if t < 1e-3 else f"{t * 1e3:9.2f}ms"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--only", default=",".join(GROUPS), help="comma-separated groups: " + ",".join(GROUPS))
    args = p.parse_args()
    if torch is None:
        raise SystemExit("bench_eager compares with PyTorch: pip install torch==2.13.0 (CPU)")
    print(f"cpu: {platform.processor() or platform.machine()}, threads: numba {minitorch.get_num_threads()}, "
          f"torch {torch.get_num_threads()} ({torch.__version__}, {torch.backends.cpu.get_cpu_capability()})")
    print(f"{'case':34s} {'minitorch':>11s} {'torch':>11s} {'min':>6s} {'median':>6s}")
    rng = np.random.default_rng(0)
    for group in args.only.split(","):
        for name, make in GROUPS[group](rng):
            f_m, f_t = make(minitorch), make(torch)
            if group == "process":  # each call is a whole process that reports its own best time
                tm, tt = [], []
                for _ in range(args.rounds):
                    tm.append(f_m())
                    tt.append(f_t())
                ratios = [a / b for a, b in zip(tm, tt)]
                print(f"{name:34s} {fmt(min(tm)):>11s} {fmt(min(tt)):>11s} {min(ratios):6.2f} "
                      f"{statistics.median(ratios):6.2f}", flush=True)
                continue
            n = max(calibrate(f_m), calibrate(f_t))
            tm, tt, ratios = [], [], []
            for _ in range(args.rounds):
                a = per_call(f_m, n)
                b = per_call(f_t, n)
                tm.append(a)
                tt.append(b)
                ratios.append(a / b)
            print(f"{name:34s} {fmt(min(tm)):>11s} {fmt(min(tt)):>11s} {min(ratios):6.2f} "
                  f"{statistics.median(ratios):6.2f}", flush=True)


if __name__ == "__main__":
    main()
