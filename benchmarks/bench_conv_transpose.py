"""ConvTranspose2d forward+backward (grad input, weight, bias) at a DCGAN-style upsampling shape, batch 64:
minitorch vs torch (when installed), one run, best of several interleaved repeats.

Run: python benchmarks/bench_conv_transpose.py
"""
import time

import numpy as np

CASES = [  # name, (N, Cin, H, W), (Cout, k), stride, padding
    ("convT 128->64 16x16->32x32 k4 s2 p1", (64, 128, 16, 16), (64, 4), 2, 1),
]


def best_pair(fm, ft, repeat=7):
    """Best time of each, their repeats interleaved so that both see the same machine load."""
    fm()
    if ft:
        ft()
    tm = tt = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fm()
        tm = min(tm, time.perf_counter() - t0)
        if ft:
            t0 = time.perf_counter()
            ft()
            tt = min(tt, time.perf_counter() - t0)
    return tm, (tt if ft else float("nan"))


def step(lib, x, w, b, stride, pad):
    F = lib.nn.functional

    def run():
        xx = lib.from_numpy(x).requires_grad_()
        ww = lib.from_numpy(w).requires_grad_()
        bb = lib.from_numpy(b).requires_grad_()
        F.conv_transpose2d(xx, ww, bb, stride=stride, padding=pad).sum().backward()
    return run


def main():
    import minitorch
    try:
        import torch
    except ImportError:
        torch = None
    rng = np.random.default_rng(0)
    print(f"{'case':38s} {'minitorch':>10s} {'torch':>10s} {'ratio':>7s}  target")
    for name, (N, C, H, W), (O, k), stride, pad in CASES:
        x = rng.standard_normal((N, C, H, W), dtype=np.float32)
        w = rng.standard_normal((C, O, k, k), dtype=np.float32)
        b = rng.standard_normal(O, dtype=np.float32)
        t_m, t_t = best_pair(step(minitorch, x, w, b, stride, pad), torch and step(torch, x, w, b, stride, pad))
        print(f"{name:38s} {t_m * 1e3:8.2f}ms {t_t * 1e3:8.2f}ms {t_m / t_t:7.2f}  <= 1.5x")


if __name__ == "__main__":
    main()
