"""Train a character-level language model (a 2-layer LSTM or a small GPT) with minitorch, offline.

By default the text is Python's own standard library: the first --max-chars characters of its top-level ``*.py``
files (sorted by name, so every run on a machine sees the same text); --text PATH trains on any UTF-8 file instead.
It holds out the last 10% for validation, trains with AdamW and gradient clipping, prints the validation loss at
intervals next to the text's unigram entropy (the loss of a model that only knows character frequencies), saves a
checkpoint (model + optimizer state + vocabulary) and a loss-curve PNG under --out, and prints a sampled
continuation (temperature + top-k).

Run:  python examples/char_lm.py [--model gpt|lstm] [--steps 600] [--batch-size 32] [--context 64] [--lr 3e-3]
                                 [--device cpu] [--seed 1] [--eval-interval 100] [--text PATH] [--out runs/char_lm]
                                 [--compile]
"""
import argparse
import math
import os
import sys
import time
from collections import Counter

import minitorch as torch
import minitorch.nn as nn
import minitorch.nn.functional as F
import minitorch.optim as optim

try:
    from tqdm.auto import tqdm  # a widget in Jupyter, text in a terminal
except ImportError:  # progress bars are optional
    def tqdm(iterable, **kwargs):
        return iterable
    tqdm.write = print


def stdlib_text(max_chars):
    """The first ``max_chars`` characters of the standard library's top-level modules, in file-name order."""
    root = os.path.dirname(os.__file__)
    parts, n = [], 0
    for name in sorted(os.listdir(root)):
        if not name.endswith(".py"):
            continue
        with open(os.path.join(root, name), encoding="utf-8", errors="replace") as f:
            src = f.read()
        parts.append(f"# ---- {name}\n{src}\n")
        n += len(parts[-1])
        if n >= max_chars:
            break
    return "".join(parts)[:max_chars], f"Python {sys.version.split()[0]} standard library ({root})"


def load_text(path, max_chars):
    if path is None:
        return stdlib_text(max_chars)
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    return (text[:max_chars] if max_chars else text), path


def unigram_entropy(text):
    """Entropy of the character distribution in nats/char: the loss of the best context-free predictor."""
    n = len(text)
    return -sum(c / n * math.log(c / n) for c in Counter(text).values())


class LSTMLM(nn.Module):
    def __init__(self, vocab_size, width=128, num_layers=2, dropout=0.0):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, width)
        self.lstm = nn.LSTM(width, width, num_layers=num_layers, batch_first=True, dropout=dropout)
        self.head = nn.Linear(width, vocab_size)

    def forward(self, idx):
        out, _ = self.lstm(self.embed(idx))
        return self.head(out)


class GPT(nn.Module):
    """Token + learned position embeddings, pre-norm causal Transformer blocks, a final LayerNorm, a Linear head."""

    def __init__(self, vocab_size, context, width=64, num_layers=2, nhead=4, dropout=0.0):
        super().__init__()
        self.context = context
        self.tok = nn.Embedding(vocab_size, width)
        self.pos = nn.Embedding(context, width)
        layer = nn.TransformerEncoderLayer(width, nhead, dim_feedforward=4 * width, dropout=dropout,
                                           activation="gelu", batch_first=True, norm_first=True)
        self.blocks = nn.TransformerEncoder(layer, num_layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(width)
        self.head = nn.Linear(width, vocab_size)

    def forward(self, idx):
        t = idx.shape[1]
        if t > self.context:
            raise ValueError(f"sequence of length {t} is longer than the model's context {self.context}")
        x = self.tok(idx) + self.pos(torch.arange(t, device=idx.device))
        mask = nn.Transformer.generate_square_subsequent_mask(t, device=idx.device)
        x = self.blocks(x, mask=mask, is_causal=True)
        return self.head(self.norm(x))


def get_batch(data, batch_size, context, device, generator=None):
    """``batch_size`` random windows of ``context`` characters and the same windows shifted by one."""
    starts = torch.randint(len(data) - context - 1, (batch_size, 1), generator=generator)
    idx = starts + torch.arange(context)
    return data[idx].to(device), data[idx + 1].to(device)


def lm_loss(model, x, y):
    logits = model(x)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))


@torch.no_grad()
def estimate_loss(model, data, args, device):
    """Mean loss over ``--eval-iters`` batches drawn with a fixed seed, so successive evaluations are comparable."""
    model.eval()
    gen = torch.Generator().manual_seed(1234)
    losses = [lm_loss(model, *get_batch(data, args.batch_size, args.context, device, gen)).item()
              for _ in range(args.eval_iters)]
    model.train()
    return sum(losses) / len(losses)


@torch.no_grad()
def sample(model, prompt, length, context, temperature=0.8, top_k=10):
    """Extend ``prompt`` (1, T) by ``length`` characters, each drawn from the top-k of the tempered softmax."""
    model.eval()
    idx = prompt
    for _ in range(length):
        logits = model(idx[:, -context:])[:, -1, :] / temperature
        if top_k:
            kth = torch.topk(logits, min(top_k, logits.shape[-1])).values[:, -1:]
            logits = logits.masked_fill(logits < kth, float("-inf"))
        nxt = torch.multinomial(F.softmax(logits, dim=-1), num_samples=1)
        idx = torch.cat([idx, nxt], dim=1)
    return idx


def save_plot(train_curve, val_curve, entropy, path, title):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not installed: skipping the loss plot")
        return
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(*zip(*train_curve), label="train (batch)", alpha=0.6)
    ax.plot(*zip(*val_curve), "o-", label="validation")
    ax.axhline(entropy, color="gray", linestyle="--", label=f"unigram entropy {entropy:.2f}")
    ax.set_xlabel("step")
    ax.set_ylabel("cross-entropy (nats/char)")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", choices=["lstm", "gpt"], default="gpt")
    p.add_argument("--steps", type=int, default=600)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--context", type=int, default=64, help="characters per training window")
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--weight-decay", type=float, default=0.01)
    p.add_argument("--grad-clip", type=float, default=1.0, help="max gradient norm")
    p.add_argument("--width", type=int, default=None, help="model width (default: gpt 64, lstm 128)")
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--heads", type=int, default=4, help="attention heads (gpt)")
    p.add_argument("--dropout", type=float, default=0.0)
    p.add_argument("--device", default="cpu")
    p.add_argument("--compile", action="store_true", help="train through minitorch.compile (graph capture + fusion)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--eval-interval", type=int, default=100)
    p.add_argument("--eval-iters", type=int, default=10, help="validation batches per evaluation")
    p.add_argument("--text", default=None, help="train on this UTF-8 file instead of the standard library")
    p.add_argument("--max-chars", type=int, default=1_000_000, help="use at most this many characters of text")
    p.add_argument("--out", default="runs/char_lm")
    p.add_argument("--sample-len", type=int, default=300)
    p.add_argument("--temperature", type=float, default=0.8)
    p.add_argument("--top-k", type=int, default=10)
    p.add_argument("--prompt", default="def ")
    return p.parse_args(argv)


def main(argv=None):
    """Train, evaluate, save and sample; returns a dict of the run's numbers (losses, entropy, time, paths)."""
    args = parse_args(argv)
    torch.manual_seed(args.seed)
    device = torch.device(args.device)

    text, source = load_text(args.text, args.max_chars)
    chars = sorted(set(text))
    stoi = {c: i for i, c in enumerate(chars)}
    data = torch.tensor([stoi[c] for c in text], dtype=torch.long)
    split = int(0.9 * len(data))
    train_data, val_data = data[:split], data[split:]
    if len(val_data) <= args.context + 1:
        raise SystemExit(f"the text ({len(text)} characters) is too short for --context {args.context}")
    entropy = unigram_entropy(text)
    print(f"data: {source}: {len(text):,} characters ({len(train_data):,} train / {len(val_data):,} validation), "
          f"vocabulary {len(chars)}, unigram entropy {entropy:.3f} nats/char; device: {device}")

    if args.model == "gpt":
        model = GPT(len(chars), args.context, args.width or 64, args.layers, args.heads, args.dropout)
    else:
        model = LSTMLM(len(chars), args.width or 128, args.layers, args.dropout)
    model = model.to(device)
    print(f"model: {args.model}, {sum(p.numel() for p in model.parameters()):,} parameters")
    optimizer = optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    raw_model = model  # saved and sampled from; the compiled wrapper's state_dict keys carry "_orig_mod."
    if args.compile:
        model = torch.compile(model)

    train_curve, val_curve = [], []
    t0 = time.perf_counter()
    model.train()
    bar = tqdm(range(1, args.steps + 1), desc=args.model, leave=False)
    for step in bar:
        x, y = get_batch(train_data, args.batch_size, args.context, device)
        loss = lm_loss(model, x, y)
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), args.grad_clip)
        optimizer.step()
        train_curve.append((step, loss.item()))
        if hasattr(bar, "set_postfix"):
            bar.set_postfix(loss=f"{train_curve[-1][1]:.3f}")
        if step % args.eval_interval == 0 or step == args.steps:
            val_curve.append((step, estimate_loss(model, val_data, args, device)))
            tqdm.write(f"step {step}: train loss {train_curve[-1][1]:.4f}, validation loss {val_curve[-1][1]:.4f} "
                       f"({time.perf_counter() - t0:.0f}s)")
            sys.stdout.flush()
    train_time = time.perf_counter() - t0
    val_loss = val_curve[-1][1] if val_curve else float("nan")

    os.makedirs(args.out, exist_ok=True)
    ckpt = os.path.join(args.out, f"char_lm_{args.model}.safetensors")
    torch.save({"model": raw_model.state_dict(), "optimizer": optimizer.state_dict(), "vocab": "".join(chars),
                "args": vars(args)}, ckpt)
    plot = os.path.join(args.out, f"loss_{args.model}.png")
    save_plot(train_curve, val_curve, entropy, plot, f"character LM: {args.model} (minitorch)")

    prompt = "".join(c for c in args.prompt if c in stoi) or chars[0]
    start = torch.tensor([[stoi[c] for c in prompt]], dtype=torch.long, device=device)
    out = sample(raw_model, start, args.sample_len, args.context, args.temperature, args.top_k)
    print(f"--- sample (temperature {args.temperature}, top-k {args.top_k}):")
    print("".join(chars[i] for i in out[0].tolist()))
    print("---")
    print(f"{args.model}: {args.steps} steps in {train_time:.0f}s; validation loss {val_loss:.4f} nats/char vs "
          f"unigram entropy {entropy:.4f} ({entropy - val_loss:+.4f} better); checkpoint {ckpt}; plot {plot}")
    return {"train_losses": [v for _, v in train_curve], "val_losses": [v for _, v in val_curve],
            "val_loss": val_loss, "entropy": entropy, "train_time": train_time, "checkpoint": ckpt, "plot": plot}


if __name__ == "__main__":
    main()
