"""minitorch on a CUDA GPU against minitorch on the CPU (and torch on the same devices when it is installed):
core ops, a conv layer's forward and backward, and training steps of the MLP and CNN benchmarks.

Needs a real GPU: on a machine without one (or under NUMBA_ENABLE_CUDASIM=1, where every CUDA thread is a Python
thread) it says so and exits.

Run: python benchmarks/bench_cuda.py [--repeat 20] [--samples 6400]
"""
import argparse
import time

import numpy as np

import bench_cnn
import bench_mlp


def timed(lib, device, fn, repeat):
    """Best seconds per call of fn() over ``repeat`` calls, after a warm-up call, waiting for the device."""
    sync = lib.cuda.synchronize if device == "cuda" else (lambda: None)
    fn()
    sync()
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        sync()
        best = min(best, time.perf_counter() - t0)
    return best


def cases(lib, device):
    """(name, callable) pairs on ``device``; inputs are made once, outside the timed calls."""
    rng = np.random.default_rng(0)

    def put(shape):
        return lib.from_numpy(rng.standard_normal(shape).astype(np.float32)).to(device)

    a, b = put((1024, 1024)), put((1024, 1024))
    x, y, z = put((1 << 24,)), put((1 << 24,)), put((1 << 24,))
    m = put((4096, 4096))
    conv = lib.nn.Conv2d(32, 64, 3, padding=1).to(device)
    img = put((64, 32, 14, 14)).requires_grad_(True)

    def conv_step():
        conv(img).sum().backward()

    return [
        ("matmul 1024^2", lambda: a @ b),
        ("a*b+c 16M", lambda: x * y + z),
        ("sum 16M (all)", lambda: x.sum()),
        ("sum 4096^2 dim 0", lambda: m.sum(0)),
        ("sum 4096^2 dim 1", lambda: m.sum(1)),
        ("argmax 4096^2 dim 1", lambda: m.argmax(1)),
        ("conv 32->64 14x14 fwd+bwd", conv_step),
    ]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=20)
    p.add_argument("--samples", type=int, default=6400, help="training samples per model (batch 64)")
    args = p.parse_args()
    import minitorch
    from numba import config
    if not minitorch.cuda.is_available() or config.ENABLE_CUDASIM:
        print("no CUDA GPU here (or the simulator is on): nothing to measure")
        return
    libs = [("minitorch", minitorch)]
    try:
        import torch
        libs.append(("torch", torch))
    except ImportError:
        pass
    rows = {}
    for name, lib in libs:
        for device in ("cpu", "cuda"):
            if device == "cuda" and not lib.cuda.is_available():
                continue
            for case, fn in cases(lib, device):
                rows.setdefault(case, {})[f"{name} {device}"] = timed(lib, device, fn, args.repeat)
    rng = np.random.default_rng(0)
    X = rng.random((args.samples, 784), dtype=np.float32)
    Xi = X.reshape(-1, 1, 28, 28)
    Y = rng.integers(0, 10, args.samples).astype(np.int64)
    steps = -(-args.samples // 64)
    for name, lib in libs:
        for device in ("cpu", "cuda"):
            if device == "cuda" and not lib.cuda.is_available():
                continue
            rows.setdefault("MLP step (batch 64)", {})[f"{name} {device}"] = \
                bench_mlp.epoch_time(lib, X, Y, 64, device=device)[0] / steps
            rows.setdefault("CNN step (batch 64)", {})[f"{name} {device}"] = \
                bench_cnn.epoch_time(lib, Xi, Y, 64, device=device)[0] / steps
    cols = sorted({c for r in rows.values() for c in r})
    print(f"device: {minitorch.cuda.get_device_name()}")
    print(f"{'ms':28s}" + "".join(f"{c:>16s}" for c in cols) + f"{'cuda/cpu':>10s}")
    for case, r in rows.items():
        ratio = r["minitorch cuda"] / r["minitorch cpu"]
        print(f"{case:28s}" + "".join(f"{r.get(c, float('nan')) * 1e3:16.3f}" for c in cols) + f"{ratio:9.3f}x")


if __name__ == "__main__":
    main()
