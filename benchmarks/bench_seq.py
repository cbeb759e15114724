"""Sequence models, minitorch vs torch (the same program with different imports):

* a training step of a word-level LSTM language model (embedding 200, 2 LSTM layers of 200, 35 steps, batch 20,
  vocabulary 10,000, cross-entropy, SGD) — target within 1.25x of torch;
* LSTM inference (one layer of 200, no_grad) over a 1000-step sequence of batch 1 — target within 1.5x;
* the LM's LSTM layers alone (forward + backward), and the same inference for a GRU;
* a training step of a small GPT (4 pre-norm layers of width 128, 4 heads, causal context 64, batch 12,
  vocabulary 65, AdamW), built from nn.Embedding + nn.TransformerEncoderLayer + LayerNorm + Linear with torch's
  weights copied into minitorch — target within 1.25x of torch.

The two libraries run in alternating rounds and each reports its median round, so a load change on a shared machine
hits both about equally. Run: python benchmarks/bench_seq.py [--rounds 5] [--steps 5]
"""
import argparse
import statistics
import time

import numpy as np

VOCAB, EMB, HID, LAYERS, SEQ, BATCH = 10000, 200, 200, 2, 35, 20


def lm_setup(lib, X, Y):
    nn = lib.nn

    class LM(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = nn.Embedding(VOCAB, EMB)
            self.rnn = nn.LSTM(EMB, HID, LAYERS)
            self.decoder = nn.Linear(HID, VOCAB)

        def forward(self, x, hidden):
            out, hidden = self.rnn(self.encoder(x), hidden)
            return self.decoder(out.reshape(-1, HID)), hidden

    lib.manual_seed(0)
    model = LM()
    opt = lib.optim.SGD(model.parameters(), lr=1.0)
    crit = nn.CrossEntropyLoss()
    x, y = lib.from_numpy(X), lib.from_numpy(Y)

    def steps(n):
        loss = None
        for _ in range(n):
            opt.zero_grad()
            logits, _ = model(x, None)
            loss = crit(logits, y.reshape(-1))
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 0.25)
            opt.step()
        return loss.item()
    return steps


def layers_setup(lib, X):
    """Forward and backward of the LM's two LSTM layers alone (no embedding, decoder or loss)."""
    lib.manual_seed(0)
    model = lib.nn.LSTM(EMB, HID, LAYERS)
    x = lib.from_numpy(X).requires_grad_()

    def steps(n):
        for _ in range(n):
            out, _ = model(x)
            out.sum().backward()
        return float(x.grad.sum().item())
    return steps


def infer_setup(lib, cls, X):
    lib.manual_seed(0)
    model = getattr(lib.nn, cls)(EMB, HID)
    x = lib.from_numpy(X)

    def steps(n):
        with lib.no_grad():
            for _ in range(n):
                out, _ = model(x)
        return float(out.sum().item())
    return steps


GPT_LAYERS, GPT_HEADS, GPT_WIDTH, GPT_CTX, GPT_BATCH, GPT_VOCAB = 4, 4, 128, 64, 12, 65


def gpt_build(lib):
    nn = lib.nn

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.tok = nn.Embedding(GPT_VOCAB, GPT_WIDTH)
            self.pos = nn.Embedding(GPT_CTX, GPT_WIDTH)
            self.blocks = nn.ModuleList([
                nn.TransformerEncoderLayer(GPT_WIDTH, GPT_HEADS, 4 * GPT_WIDTH, dropout=0.0, activation="gelu",
                                           batch_first=True, norm_first=True) for _ in range(GPT_LAYERS)])
            self.ln = nn.LayerNorm(GPT_WIDTH)
            self.head = nn.Linear(GPT_WIDTH, GPT_VOCAB)

        def forward(self, idx, mask, pos):
            h = self.tok(idx) + self.pos(pos)
            for b in self.blocks:
                h = b(h, src_mask=mask)
            return self.head(self.ln(h))

    lib.manual_seed(0)
    return GPT()


def gpt_setup(lib, X, Y, weights):
    """One AdamW training step of the GPT; ``weights`` (name -> numpy) are loaded so both libraries start equal."""
    model = gpt_build(lib)
    model.load_state_dict({k: lib.from_numpy(v.copy()) for k, v in weights.items()})
    opt = lib.optim.AdamW(model.parameters(), lr=3e-4)
    mask = lib.triu(lib.ones(GPT_CTX, GPT_CTX, dtype=lib.bool), diagonal=1)
    x, y, pos = lib.from_numpy(X), lib.from_numpy(Y), lib.arange(GPT_CTX)

    def steps(n):
        loss = None
        for _ in range(n):
            opt.zero_grad()
            logits = model(x, mask, pos)
            loss = lib.nn.functional.cross_entropy(logits.reshape(-1, GPT_VOCAB), y.reshape(-1))
            loss.backward()
            opt.step()
        return loss.item()
    return steps


def race(runners, rounds, steps):
    """Median seconds per step of each runner, rounds interleaved."""
    times = {k: [] for k in runners}
    for r in runners.values():
        r(1)  # compile / warm up
    for _ in range(rounds):
        for k, r in runners.items():
            t0 = time.perf_counter()
            r(steps)
            times[k].append((time.perf_counter() - t0) / steps)
    return {k: statistics.median(v) for k, v in times.items()}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--long", type=int, default=1000, help="steps of the inference sequence")
    p.add_argument("--threads", type=int, default=0, help="threads for both libraries (default: their own)")
    p.add_argument("--only", default="", help="run only the rows whose name contains this text (e.g. GPT, LM)")
    args = p.parse_args()
    import minitorch
    import torch
    if args.threads:
        torch.set_num_threads(args.threads)
        minitorch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    X = rng.integers(0, VOCAB, (SEQ, BATCH)).astype(np.int64)
    Y = rng.integers(0, VOCAB, (SEQ, BATCH)).astype(np.int64)
    S = rng.standard_normal((args.long, 1, EMB)).astype(np.float32)
    print(f"threads: torch {torch.get_num_threads()}, numba {minitorch.get_num_threads()}")
    E = rng.standard_normal((SEQ, BATCH, EMB)).astype(np.float32)
    rows = [("LSTM LM train step (35x20, 2x200, V=10k)", 1.25, lm_setup, (X, Y)),
            ("  its 2 LSTM layers alone, forward+backward", 1.25, layers_setup, (E,)),
            (f"LSTM inference {args.long} steps, batch 1", 1.5, lambda lib, s: infer_setup(lib, "LSTM", s), (S,)),
            (f"GRU inference {args.long} steps, batch 1", 1.5, lambda lib, s: infer_setup(lib, "GRU", s), (S,))]
    GX = rng.integers(0, GPT_VOCAB, (GPT_BATCH, GPT_CTX)).astype(np.int64)
    GY = rng.integers(0, GPT_VOCAB, (GPT_BATCH, GPT_CTX)).astype(np.int64)
    gw = {k: v.detach().numpy().copy() for k, v in gpt_build(torch).state_dict().items()}
    rows.append(("GPT train step (4x128, 4 heads, 64x12, AdamW)", 1.25, gpt_setup, (GX, GY, gw)))
    if args.only:
        rows = [r for r in rows if args.only.lower() in r[0].lower()]
    print(f"{'':46s} {'minitorch':>11s} {'torch':>11s} {'ratio':>7s} {'target':>7s}")
    for name, target, setup, data in rows:
        t = race({"mt": setup(minitorch, *data), "torch": setup(torch, *data)}, args.rounds, args.steps)
        print(f"{name:46s} {t['mt'] * 1e3:9.2f}ms {t['torch'] * 1e3:9.2f}ms {t['mt'] / t['torch']:6.2f}x "
              f"{target:6.2f}x", flush=True)


if __name__ == "__main__":
    main()
