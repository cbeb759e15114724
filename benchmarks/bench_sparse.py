"""Sparse COO products against PyTorch, at the sizes of a Cora graph (2708 nodes, 1433 bag-of-words features at
1.3% density, about 5400 edges plus self-loops): sparse @ dense forward, forward+backward (values and dense side),
dense @ sparse, and a two-layer GCN training step (the model of pytorch/examples' gcn: sparse features @ W,
normalised adjacency @ that, relu, again, log_softmax, NLL, Adam). Rounds alternate the libraries; the table gives
the min and median of the per-round ratio.

Run: python benchmarks/bench_sparse.py [--rounds 5]
Ratios > 1 mean minitorch is slower.
"""
import argparse
import statistics
import time

import numpy as np

import minitorch

try:
    import torch
except ImportError:
    torch = None


def graph(rng, V=2708, F=1433, E=5429):
    feats = (rng.random((V, F)) < 0.013).astype(np.float32)
    feats /= np.maximum(feats.sum(1, keepdims=True), 1)
    edges = rng.integers(0, V, (E, 2))
    adj = np.eye(V, dtype=np.float32)
    np.add.at(adj, (edges[:, 0], edges[:, 1]), 1)
    deg = 1 / np.sqrt(adj.sum(1))
    adj = deg[:, None] * adj * deg[None, :]
    return feats, adj


def cases(rng):
    feats, adj = graph(rng)
    w1 = rng.standard_normal((feats.shape[1], 16)).astype(np.float32) * 0.05
    w2 = rng.standard_normal((16, 7)).astype(np.float32) * 0.3
    labels = rng.integers(0, 7, feats.shape[0])

    def spmm(lib):
        s, w = lib.tensor(feats).to_sparse(), lib.tensor(w1)
        return lambda: s @ w

    def spmm_backward(lib):
        s = lib.tensor(feats).to_sparse().requires_grad_()
        w = lib.tensor(w1, requires_grad=True)

        def run():
            w.grad = None
            (s @ w).sum().backward()
        return run

    def dense_spmm(lib):
        a = lib.tensor(adj).to_sparse()
        x = lib.tensor(np.random.default_rng(1).standard_normal((16, adj.shape[0])).astype(np.float32))
        return lambda: x @ a

    def gcn_step(lib):
        lib.manual_seed(0)
        s, a = lib.tensor(feats).to_sparse(), lib.tensor(adj).to_sparse()
        p1, p2 = lib.nn.Parameter(lib.tensor(w1)), lib.nn.Parameter(lib.tensor(w2))
        opt = lib.optim.Adam([p1, p2], lr=0.01, weight_decay=5e-4)
        y = lib.tensor(labels)
        F = lib.nn.functional

        def run():
            opt.zero_grad()
            h = F.relu(lib.spmm(a, lib.mm(s, p1)))
            out = F.log_softmax(lib.spmm(a, lib.mm(h, p2)), dim=1)
            F.nll_loss(out, y).backward()
            opt.step()
        return run

    yield "sparse @ dense (2708x1433 @ 1433x16)", spmm
    yield "  forward+backward (values, dense)", spmm_backward
    yield "dense @ sparse (16x2708 @ 2708x2708)", dense_spmm
    yield "GCN training step (Cora-sized)", gcn_step


def per_call(fn, number):
    for _ in range(2):
        fn()
    t0 = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - t0) / number


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=5)
    args = p.parse_args()
    if torch is None:
        raise SystemExit("bench_sparse compares with PyTorch: pip install torch==2.13.0 (CPU)")
    import warnings
    warnings.filterwarnings("ignore", message="Sparse invariant checks")
    torch.set_num_threads(minitorch.get_num_threads())
    print(f"threads: {minitorch.get_num_threads()}; torch {torch.__version__}")
    print(f"{'case':40s} {'minitorch':>10s} {'torch':>10s} {'min':>6s} {'median':>6s}")
    for name, make in cases(np.random.default_rng(0)):
        f_m, f_t = make(minitorch), make(torch)
        n = max(1, int(0.2 / max(per_call(f_m, 1), per_call(f_t, 1))))
        tm, tt = [], []
        for _ in range(args.rounds):
            tm.append(per_call(f_m, n))
            tt.append(per_call(f_t, n))
        ratios = [a / b for a, b in zip(tm, tt)]
        print(f"{name:40s} {min(tm) * 1e3:8.3f}ms {min(tt) * 1e3:8.3f}ms {min(ratios):6.2f} "
              f"{statistics.median(ratios):6.2f}", flush=True)


if __name__ == "__main__":
    main()
