"""F.interpolate against PyTorch on the CPU: forward (no_grad) and forward+backward, float32, at the shapes where
models resize feature maps (a UNet/FPN-style 2x upsampling of 16x32x64x64, bicubic to 100x100, a 3-D 2x trilinear)
and an image batch shrunk with antialias (torchvision's Resize). One run; each case is timed in alternating rounds
(minitorch, torch, ...) and the table gives the min and median of the per-round ratio (> 1: minitorch is slower).

Run: python benchmarks/bench_interpolate.py [--rounds 5]
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

CASES = [
    ((16, 32, 64, 64), dict(scale_factor=2, mode="nearest")),
    ((16, 32, 64, 64), dict(scale_factor=2, mode="bilinear")),
    ((16, 32, 64, 64), dict(scale_factor=2, mode="bilinear", align_corners=True)),
    ((16, 32, 64, 64), dict(size=(100, 100), mode="bicubic")),
    ((4, 8, 16, 32, 32), dict(scale_factor=2, mode="trilinear")),
    ((16, 3, 256, 256), dict(size=(224, 224), mode="bilinear", antialias=True)),
]


def per_call(fn, number):
    for _ in range(2):  # untimed: lets the other library's worker threads go to sleep first
        fn()
    t0 = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - t0) / number


def make(lib, x, kw, backward):
    X = lib.from_numpy(x).requires_grad_(backward)
    F = lib.nn.functional
    if not backward:
        def fwd():
            with lib.no_grad():
                F.interpolate(X, **kw)
        return fwd
    g = lib.ones_like(F.interpolate(X, **kw))

    def fwd_bwd():
        X.grad = None
        F.interpolate(X, **kw).backward(g)
    return fwd_bwd


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=5)
    args = p.parse_args()
    if torch is None:
        raise SystemExit("bench_interpolate compares with PyTorch: pip install torch==2.13.0 (CPU)")
    print(f"threads: numba {minitorch.get_num_threads()}, torch {torch.get_num_threads()} ({torch.__version__})")
    print(f"{'case':72s} {'minitorch':>10s} {'torch':>10s} {'min':>6s} {'median':>6s}")
    rng = np.random.default_rng(0)
    for shape, kw in CASES:
        x = rng.standard_normal(shape, dtype=np.float32)
        for backward in (False, True):
            f_m, f_t = make(minitorch, x, kw, backward), make(torch, x, kw, backward)
            tm, tt, ratios = [], [], []
            for _ in range(args.rounds):
                a, b = per_call(f_m, 5), per_call(f_t, 5)
                tm.append(a)
                tt.append(b)
                ratios.append(a / b)
            opts = ", ".join(f"{k}={v}" for k, v in kw.items())
            name = f"{'x'.join(map(str, shape))} {opts}{' fwd+bwd' if backward else ''}"
            print(f"{name:72s} {min(tm) * 1e3:8.2f}ms {min(tt) * 1e3:8.2f}ms {min(ratios):6.2f} "
                  f"{statistics.median(ratios):6.2f}", flush=True)


if __name__ == "__main__":
    main()
