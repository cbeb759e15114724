"""What an op pays for the profiler hooks when no profiler records: a 10-element ``a + b`` (no grad: straight to
the launcher) and the same add with ``requires_grad`` (through ``Function.apply``, where the one profiler check
sits). Prints the best of several repeats of 100k calls, in µs per call; run it on a tree without the hooks for
the 'before' number."""
import time

import minitorch as torch


def per_call_us(fn, n=100_000, repeats=7):
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, time.perf_counter() - t)
    return best / n * 1e6


def main():
    a, b = torch.randn(10), torch.randn(10)
    ga, gb = torch.randn(10, requires_grad=True), torch.randn(10, requires_grad=True)
    a + b
    ga + gb
    print(f"a + b (10 elements, no grad)        {per_call_us(lambda: a + b):.3f} us")
    print(f"a + b (10 elements, requires_grad)  {per_call_us(lambda: ga + gb, n=50_000):.3f} us")
    with torch.no_grad():
        print(f"relu (10 elements, no_grad, Function.apply) {per_call_us(lambda: torch.relu(ga)):.3f} us")


if __name__ == "__main__":
    main()
