"""Scaled dot-product attention, forward + backward: minitorch's fused kernel vs torch (when installed), and the
memory the fused op holds, to show it grows as O(L) rather than O(L * S).

Time: (batch, heads, length, head dim) = (8, 8, 512, 64) by default, causal, float32; the median of --reps
interleaved runs of each library after a warm-up, with both libraries on the same thread count.

Memory, two measures at growing length (batch 1, 1 head, head dim 64):
- the bytes the autograd node saves beyond its inputs (the output and the per-row log-sum-exp), next to the
  L * S probabilities an unfused attention keeps for its backward;
- tracemalloc's peak over one forward + backward, minus the inputs and their gradients (this sees allocations made
  from Python, i.e. every tensor; the kernels' own scratch is one (64, 128) score block and one (64, Ev)
  accumulator per worker by construction).

Run: python benchmarks/bench_attention.py [--batch 8 --heads 8 --length 512 --dim 64 --reps 5 --threads 2 --no-causal]
"""
import argparse
import os
import statistics
import time
import tracemalloc

import numpy as np


def fwd_bwd(lib, q, k, v, g, causal):
    for t in (q, k, v):
        t.grad = None
    out = lib.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=causal)
    out.backward(g)
    return out


def make(lib, arrs):
    q, k, v, g = (lib.tensor(a) for a in arrs)
    for t in (q, k, v):
        t.requires_grad_(True)
    return q, k, v, g


def timing(args):
    import minitorch
    libs = {"minitorch": minitorch}
    try:
        import torch
        torch.set_num_threads(args.threads)
        libs["torch"] = torch
    except ImportError:
        pass
    rng = np.random.default_rng(0)
    shape = (args.batch, args.heads, args.length, args.dim)
    arrs = [rng.standard_normal(shape, dtype=np.float32) for _ in range(4)]
    ins = {name: make(lib, arrs) for name, lib in libs.items()}
    times = {name: [] for name in libs}
    outs = {}
    for name, lib in libs.items():  # warm-up (compiles the kernels on a first run)
        outs[name] = fwd_bwd(lib, *ins[name], args.causal).detach().numpy()
    for _ in range(args.reps):
        for name, lib in libs.items():
            t0 = time.perf_counter()
            fwd_bwd(lib, *ins[name], args.causal)
            times[name].append(time.perf_counter() - t0)
    print(f"SDPA forward+backward, {'causal' if args.causal else 'not causal'}, float32, shape {shape}, {args.threads} threads, "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    for name in libs:
        print(f"  {name:10s} median {statistics.median(times[name]) * 1e3:8.1f} ms   "
              f"(min {min(times[name]) * 1e3:.1f}, max {max(times[name]) * 1e3:.1f})")
    if "torch" in libs:
        ratio = statistics.median(times["minitorch"]) / statistics.median(times["torch"])
        diff = np.abs(outs["minitorch"] - outs["torch"]).max()
        print(f"  ratio minitorch/torch: {ratio:.2f}x (target <= 1.5x); max |out difference| {diff:.2e}")


def memory(lengths, dim):
    import minitorch
    print(f"memory, batch 1, 1 head, head dim {dim}, float32, causal=False (L = S)")
    print(f"  {'L':>6s} {'saved extra':>12s} {'lse part':>10s} {'L*S probs':>11s} {'py peak extra':>14s}")
    rng = np.random.default_rng(0)
    for L in lengths:
        arrs = [rng.standard_normal((1, 1, L, dim), dtype=np.float32) for _ in range(4)]
        q, k, v, g = make(minitorch, arrs)
        out = minitorch.nn.functional.scaled_dot_product_attention(q, k, v)
        node = out.grad_fn  # the reshape back to (..., L, Ev); the fused node is its input
        while type(node).__name__ != "SDPA":
            node = node.next_functions[0][0]
        saved = [s.tensor for s in node._saved]
        # q, k, v reach the node as (N, H, L, E) views of the inputs' storages: only new storages count
        extra = sum(t.numel() * t.element_size() for t in saved
                    if all(t._storage is not x._storage for x in (q, k, v)))
        lse = saved[-1].numel() * saved[-1].element_size()
        del out, node, saved
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        out = minitorch.nn.functional.scaled_dot_product_attention(q, k, v)
        out.backward(g)
        peak = tracemalloc.get_traced_memory()[1] - base
        tracemalloc.stop()
        grads = 3 * L * dim * 4
        print(f"  {L:6d} {extra:12d} {lse:10d} {L * L * 4:11d} {peak - grads:14d}")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--heads", type=int, default=8)
    p.add_argument("--length", type=int, default=512)
    p.add_argument("--dim", type=int, default=64)
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--causal", action=argparse.BooleanOptionalAction, default=True)
    p.add_argument("--memory-lengths", type=int, nargs="*", default=[512, 1024, 2048, 4096])
    args = p.parse_args()
    import numba
    numba.set_num_threads(min(args.threads, numba.config.NUMBA_NUM_THREADS))
    timing(args)
    memory(args.memory_lengths, args.dim)


if __name__ == "__main__":
    main()
