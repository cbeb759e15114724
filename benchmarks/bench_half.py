"""16-bit floats and autocast: minitorch vs torch (when installed), one run, ratio table.

float16/bfloat16 storages hold bit patterns that the launchers convert to float32 around each computing kernel,
so a half op costs its float32 op plus the conversions; this measures that price and the autocast overheads.

Run: python benchmarks/bench_half.py            (ratio > 1 means minitorch is slower)
"""
import os
import time

import numpy as np

import minitorch

try:
    import torch
    torch.set_num_threads(os.cpu_count() or 1)
except ImportError:
    torch = None


def median_ms(fn, repeat=7, number=3):
    fn()  # warm-up (compiles on first call)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - t0) / number)
    return 1e3 * float(np.median(times))


def main():
    rng = np.random.default_rng(0)
    n = 4 * 1024 * 1024
    x = rng.standard_normal(n).astype(np.float32)
    y = rng.standard_normal(n).astype(np.float32)
    a = rng.standard_normal((512, 512)).astype(np.float32)
    small = rng.standard_normal(16).astype(np.float32)
    mx, my, ma, ms = (minitorch.from_numpy(v) for v in (x, y, a, small))
    cases = []
    for dt in ("float16", "bfloat16"):
        md = getattr(minitorch, dt)
        hx, hy, ha, hs = mx.to(md), my.to(md), ma.to(md), ms.to(md)
        t = None
        if torch:
            td = getattr(torch, dt)
            tx, ty, ta, tsm = (torch.from_numpy(v).to(td) for v in (x, y, a, small))
            tf = torch.from_numpy(x)
            t = {"cast": lambda: tf.to(td), "widen": lambda: tx.float(), "add": lambda: tx + ty,
                 "exp": lambda: tx.exp(), "sum": lambda: tx.sum(), "mm": lambda: ta @ ta, "small": lambda: tsm + tsm}
        m = {"cast": lambda: mx.to(md), "widen": lambda: hx.float(), "add": lambda: hx + hy,
             "exp": lambda: hx.exp(), "sum": lambda: hx.sum(), "mm": lambda: ha @ ha, "small": lambda: hs + hs}
        labels = {"cast": f"float32 -> {dt} 4M", "widen": f"{dt} -> float32 4M", "add": f"{dt} a+b 4M",
                  "exp": f"{dt} exp 4M", "sum": f"{dt} sum 4M", "mm": f"{dt} matmul 512^2",
                  "small": f"{dt} a+b 16 (latency)"}
        for k in m:
            cases.append((labels[k], m[k], t[k] if t else None))
    # autocast: a linear layer's forward inside a region, and an op outside any region (the flag read)
    lin = minitorch.nn.Linear(512, 512)
    xin = minitorch.from_numpy(a)

    def auto_m():
        with minitorch.autocast("cpu"):
            return lin(xin)
    auto_t = None
    if torch:
        tlin = torch.nn.Linear(512, 512)
        txin = torch.from_numpy(a)

        def auto_t():
            with torch.autocast("cpu"):
                return tlin(txin)
    cases.append(("autocast cpu linear 512^2 (bf16)", auto_m, auto_t))
    cases.append(("exp 16 f32 outside autocast", lambda: ms.exp(), (lambda: torch.from_numpy(small).exp())
                  if torch else None))
    print(f"{'case':40s} | {'minitorch ms':>12s} | {'torch ms':>9s} | {'ratio':>6s}")
    print("-" * 78)
    for name, fm, ft in cases:
        number = 300 if "16 " in name or "latency" in name else 3
        tm = median_ms(fm, number=number)
        tt = median_ms(ft, number=number) if ft else float("nan")
        print(f"{name:40s} | {tm:12.4f} | {tt:9.4f} | {tm / tt:6.2f}")


if __name__ == "__main__":
    main()
