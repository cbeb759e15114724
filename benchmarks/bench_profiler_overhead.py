"""What an op pays for the profiler hooks when no profiler records.

A no-grad ``a + b`` goes straight to its launcher, whose code the profiler leaves alone unless it records, so its
path is unchanged. The one added check sits in ``Function.apply`` (every differentiable op, e.g. ``a + b`` with
``requires_grad``) and one per backward pass. Machines shared with other work time too noisily for a before/after
of two separate runs, so this script times both forms of ``Function.apply`` in one process, interleaved: the
current one (with the ``_PROFILE[0] is not None`` check) and the same body without the check (as before the
profiler existed). Prints the minimum over the rounds, in µs per call.

Run: python benchmarks/bench_profiler_overhead.py [--rounds 60] [--calls 10000]
"""
import argparse
import time

import minitorch as torch
from minitorch.autograd import function as fn_mod


def _apply_without_check(cls, *args):
    # Function.apply's body as it was before the profiler hook
    if fn_mod._state.enabled:
        needs = tuple(isinstance(a, fn_mod.Tensor) and a._requires_grad for a in args)
        if True in needs:
            return fn_mod._record(cls, args, needs)
    if cls._new_style:
        return cls.forward(*args)
    return cls.forward(fn_mod._NO_CTX, *args)


def per_call_us(f, n):
    t = time.perf_counter()
    for _ in range(n):
        f()
    return (time.perf_counter() - t) / n * 1e6


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=60)
    p.add_argument("--calls", type=int, default=10000)
    args = p.parse_args()
    a, b = torch.randn(10), torch.randn(10)
    ga, gb = torch.randn(10, requires_grad=True), torch.randn(10, requires_grad=True)
    cases = {"a + b, 10 elements, no grad (launcher path)": lambda: a + b,
             "a + b, 10 elements, requires_grad (Function.apply)": lambda: ga + gb}
    with_check = fn_mod.Function.__dict__["apply"]
    without = classmethod(_apply_without_check)
    best = {(c, v): float("inf") for c in cases for v in ("with check", "without check")}
    variants = [("with check", with_check), ("without check", without)]
    for r in range(args.rounds):
        for variant, impl in (variants if r % 2 else variants[::-1]):  # alternate which goes first
            fn_mod.Function.apply = impl
            for c, f in cases.items():
                f()
                best[c, variant] = min(best[c, variant], per_call_us(f, args.calls))
    fn_mod.Function.apply = with_check
    print(f"{'case':55s} {'without check':>14s} {'with check':>11s} {'diff':>8s}")
    for c in cases:
        w, wo = best[c, "with check"], best[c, "without check"]
        print(f"{c:55s} {wo:11.3f} us {w:8.3f} us {w - wo:+6.3f} us")
    import timeit
    check = min(timeit.repeat("_PROFILE[0] is not None", globals={"_PROFILE": fn_mod._PROFILE}, number=1_000_000,
                              repeat=7))
    empty = min(timeit.repeat("pass", number=1_000_000, repeat=7))
    print(f"the check alone (_PROFILE[0] is not None): {(check - empty) * 1e3:.1f} ns")


if __name__ == "__main__":
    main()
