"""conv2d forward+backward (grad input, weight, bias) and max_pool2d at the MNIST CNN's shapes, batch 64:
minitorch vs torch (when installed), one run, best of several repeats.

Run: python benchmarks/bench_conv.py
"""
import time

import numpy as np

CASES = [  # name, (N, C, H, W), (O, k), padding
    ("conv 1->32 28x28 pad1", (64, 1, 28, 28), (32, 3), 1),
    ("conv 32->64 14x14 pad1", (64, 32, 14, 14), (64, 3), 1),
    ("conv 32->64 26x26 (classic net)", (64, 32, 26, 26), (64, 3), 0),
]


def best(fn, repeat=5):
    fn()
    t = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        t = min(t, time.perf_counter() - t0)
    return t


def conv_step(lib, x, w, b, pad):
    F = lib.nn.functional

    def run():
        xx = lib.from_numpy(x).requires_grad_()
        ww = lib.from_numpy(w).requires_grad_()
        bb = lib.from_numpy(b).requires_grad_()
        F.conv2d(xx, ww, bb, padding=pad).sum().backward()
    return run


def main():
    import minitorch
    try:
        import torch
    except ImportError:
        torch = None
    rng = np.random.default_rng(0)
    print(f"{'case':34s} {'minitorch':>10s} {'torch':>10s} {'ratio':>7s}  target")
    for name, (N, C, H, W), (O, k), pad in CASES:
        x = rng.standard_normal((N, C, H, W), dtype=np.float32)
        w = rng.standard_normal((O, C, k, k), dtype=np.float32)
        b = rng.standard_normal(O, dtype=np.float32)
        t_m = best(conv_step(minitorch, x, w, b, pad))
        t_t = best(conv_step(torch, x, w, b, pad)) if torch else float("nan")
        print(f"{name:34s} {t_m * 1e3:8.2f}ms {t_t * 1e3:8.2f}ms {t_m / t_t:7.2f}  <= 1.5x")
    x = rng.standard_normal((64, 32, 28, 28), dtype=np.float32)
    t_m = best(lambda: minitorch.nn.functional.max_pool2d(minitorch.from_numpy(x), 2))
    t_t = best(lambda: torch.nn.functional.max_pool2d(torch.from_numpy(x), 2)) if torch else float("nan")
    print(f"{'max_pool2d 64x32x28x28':34s} {t_m * 1e3:8.2f}ms {t_t * 1e3:8.2f}ms {t_m / t_t:7.2f}")


if __name__ == "__main__":
    main()
