"""linalg.solve / inv / det / cholesky on 64 batches of 64x64 float32 matrices against PyTorch (when installed).

Prints "case | minitorch ms | torch ms | ratio" from one run: the median of several repetitions of each case.
"""
import time

import numpy as np

import minitorch
import minitorch.linalg  # noqa: F401

try:
    import torch
except ImportError:  # torch is optional: the table then shows minitorch alone
    torch = None

B, N, REPS = 64, 64, 30


def median_ms(fn, reps=REPS):
    fn()  # the first call compiles (or loads the cache)
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1e3 * float(np.median(times))


def main():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((B, N, N)).astype(np.float32)
    a = x @ x.transpose(0, 2, 1) + N * np.eye(N, dtype=np.float32)
    b = rng.standard_normal((B, N, N)).astype(np.float32)
    A, Bm = minitorch.tensor(a), minitorch.tensor(b)
    cases = [
        ("linalg.solve", lambda m, A, Bm: m.linalg.solve(A, Bm)),
        ("linalg.inv", lambda m, A, Bm: m.linalg.inv(A)),
        ("linalg.det", lambda m, A, Bm: m.linalg.det(Bm)),
        ("linalg.cholesky", lambda m, A, Bm: m.linalg.cholesky(A)),
    ]
    print(f"{B} x ({N} x {N}) float32")
    print(f"{'case':18s} | {'minitorch ms':>12s} | {'torch ms':>9s} | {'ratio':>6s}")
    for name, fn in cases:
        mt = median_ms(lambda: fn(minitorch, A, Bm))
        if torch is not None:
            tA, tB = torch.from_numpy(a), torch.from_numpy(b)
            th = median_ms(lambda: fn(torch, tA, tB))
            print(f"{name:18s} | {mt:12.3f} | {th:9.3f} | {mt / th:6.2f}")
        else:
            print(f"{name:18s} | {mt:12.3f} | {'-':>9s} | {'-':>6s}")


if __name__ == "__main__":
    main()
