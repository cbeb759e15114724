"""minitorch.compile against minitorch eager and PyTorch (eager, and torch.compile where it runs here).

Cases: a hand-written tanh-GELU on 16M float32 elements (forward), a hand-written mean squared error over 16M
pairs (an elementwise chain with a reduction epilogue), the cross-entropy of soft-capped logits (an elementwise
prologue fused into the loss, forward and backward), the MNIST MLP training step (784-128-64-10, batch 64, SGD
momentum 0.9, cross-entropy) with the model compiled and written as one compiled function that logs ``loss.item()``
(cut at its breaks, against the same function compiled only at its modules), bench_seq.py's GPT training step (AdamW) with the model compiled, a GPT training step
written the way nanoGPT-style scripts write it (own attention module over scaled_dot_product_attention, a
hand-written tanh-GELU, the loss computed in the model's forward, AdamW; the script compiles the model), a
Llama-style training step as llama2.c-style scripts write it (hand-written RMSNorm and rotary embeddings,
grouped keys and values, SwiGLU, gradient clipping, AdamW; the script compiles the model), causal
self-attention written out as nanoGPT's fallback path writes it (scores scaled, masked_fill with a causal buffer,
softmax: the scale and mask fuse into the softmax kernel, forward and backward), and the first-call time of the
compiled MLP step in a new process with a cold and then a warm kernel cache. Libraries alternate in rounds; the
table shows the median time of each and ratios against PyTorch eager.

Run: python benchmarks/bench_compile.py [--rounds 5]
     [--only gelu,mse,softcap,mlp,stepfn,gpt,nanogpt,llama,attn,sample,resnet,first,regional]
"""
import argparse
import math
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap

import numpy as np

from bench_conv import best  # min over repeats, after one untimed call


def gelu_of(lib):
    def gelu(x):
        return 0.5 * x * (1.0 + lib.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * lib.pow(x, 3.0))))
    return gelu


def mlp_step_of(lib, compiled):
    nn, F = lib.nn, lib.nn.functional
    lib.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10))
    run = lib.compile(model) if compiled else model
    opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    rng = np.random.default_rng(0)
    xs = [lib.from_numpy(rng.random((64, 784), dtype=np.float32)) for _ in range(8)]
    ys = [lib.from_numpy(rng.integers(0, 10, 64)) for _ in range(8)]

    def steps():
        for x, y in zip(xs, ys):
            opt.zero_grad()
            loss = F.cross_entropy(run(x), y)
            loss.backward()
            opt.step()
        return loss
    return steps


def row(name, times, base):
    cells = [f"{name:<34}"]
    for label, t in times.items():
        if t is None:
            cells.append(f"{label} n/a")
            continue
        r = f" ({t / base:.2f}x)" if base else ""
        cells.append(f"{label} {t * 1e3:9.3f} ms{r}")
    print("  ".join(cells))


def bench_gelu(rounds, torch):
    import minitorch
    x = minitorch.randn(1 << 24)
    fns = {"minitorch eager": (lambda f: lambda: f(x))(gelu_of(minitorch)),
           "minitorch compiled": (lambda f: lambda: f(x))(minitorch.compile(gelu_of(minitorch)))}
    if torch is not None:
        tx = torch.randn(1 << 24)
        fns["torch eager"] = (lambda f: lambda: f(tx))(gelu_of(torch))
        try:
            tc = torch.compile(gelu_of(torch))
            tc(tx)
            fns["torch.compile"] = lambda: tc(tx)
        except Exception as e:  # noqa: BLE001 - inductor needs a working C++ toolchain
            print(f"  (torch.compile does not run here: {type(e).__name__})")
    return run_rounds("tanh-GELU 16M float32 forward", fns, rounds, reps=3)


def mse_of(lib):
    def mse(a, b):
        return ((a - b) ** 2).mean()
    return mse


def bench_mse(rounds, torch):
    """A hand-written mean squared error over 16M float32 pairs: an elementwise chain with a reduction epilogue."""
    import minitorch
    gen = minitorch.Generator().manual_seed(0)
    a, b = minitorch.randn(1 << 24, generator=gen), minitorch.randn(1 << 24, generator=gen)
    fns = {"minitorch eager": (lambda f: lambda: f(a, b))(mse_of(minitorch)),
           "minitorch compiled": (lambda f: lambda: f(a, b))(minitorch.compile(mse_of(minitorch)))}
    if torch is not None:
        ta, tb = torch.from_numpy(a.numpy()), torch.from_numpy(b.numpy())
        fns["torch eager"] = (lambda f: lambda: f(ta, tb))(mse_of(torch))
        try:
            tc = torch.compile(mse_of(torch))
            tc(ta, tb)
            fns["torch.compile"] = lambda: tc(ta, tb)
        except Exception as e:  # noqa: BLE001 - inductor needs a working C++ toolchain
            print(f"  (torch.compile does not run here: {type(e).__name__})")
    return run_rounds("((a - b) ** 2).mean() 16M float32", fns, rounds, reps=3)


def softcap_loss_of(lib, cap=30.0):
    def loss(logits, y):
        return lib.nn.functional.cross_entropy(cap * lib.tanh(logits / cap), y)
    return loss


def bench_softcap(rounds, torch, rows=2048, classes=4096):
    """Cross-entropy of soft-capped logits (``cap * tanh(logits / cap)``, as Gemma-style language models write
    it), forward and backward over 2048 rows of 4096 classes: an elementwise prologue fused into the loss."""
    import minitorch
    gen = minitorch.Generator().manual_seed(0)
    x = minitorch.randn(rows, classes, generator=gen, requires_grad=True)
    y = minitorch.randint(0, classes, (rows,), generator=gen)

    def step_of(f, x, y):
        def step():
            f(x, y).backward()
            x.grad = None
        return step
    fns = {"minitorch eager": step_of(softcap_loss_of(minitorch), x, y),
           "minitorch compiled": step_of(minitorch.compile(softcap_loss_of(minitorch)), x, y)}
    if torch is not None:
        tx = torch.from_numpy(x.detach().numpy()).requires_grad_()
        ty = torch.from_numpy(y.numpy())
        fns["torch eager"] = step_of(softcap_loss_of(torch), tx, ty)
        try:
            tc = torch.compile(softcap_loss_of(torch))
            step_of(tc, tx, ty)()
            fns["torch.compile"] = step_of(tc, tx, ty)
        except Exception as e:  # noqa: BLE001 - inductor needs a working C++ toolchain
            print(f"  (torch.compile does not run here: {type(e).__name__})")
    return run_rounds("soft-capped cross-entropy fwd+bwd", fns, rounds, reps=3)


def run_three(rounds, torch, builder, name, reps):
    """``builder(lib, compiled)`` for minitorch eager, minitorch compiled and PyTorch eager, timed in rounds."""
    import minitorch
    fns = {"minitorch eager": builder(minitorch, False), "minitorch compiled": builder(minitorch, True)}
    if torch is not None:
        fns["torch eager"] = builder(torch, False)
    return run_rounds(name, fns, rounds, reps=reps)


def run_rounds(name, fns, rounds, reps):
    for f in fns.values():
        f()
        f()
    samples = {k: [] for k in fns}
    for _ in range(rounds):
        for k, f in fns.items():
            samples[k].append(best(f, reps))
    med = {k: statistics.median(v) for k, v in samples.items()}
    base = med.get("torch eager")
    row(name, med, base)
    if "minitorch eager" in med and "minitorch compiled" in med:
        print(f"{'':<34}  compiled vs minitorch eager: {med['minitorch eager'] / med['minitorch compiled']:.2f}x "
              "faster")
    return med


def bench_mlp(rounds, torch):
    return run_three(rounds, torch, mlp_step_of, "MLP train step x8 (batch 64)", reps=5)


def step_function_of(lib, how):
    """The MLP training step written as one function (zero_grad, forward, cross-entropy, backward, SGD step, the
    loss read with ``.item()`` for a log) and run eagerly (``how`` None), compiled as a whole (``"cut"``: the
    function is cut at its backward and its ``.item()``), or compiled through a wrapper whose source cannot be
    cut (``"modules"``: the break runs the step eagerly with the model compiled on its own), eight batches."""
    nn, F = lib.nn, lib.nn.functional
    lib.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10))
    opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    rng = np.random.default_rng(0)
    xs = [lib.from_numpy(rng.random((64, 784), dtype=np.float32)) for _ in range(8)]
    ys = [lib.from_numpy(rng.integers(0, 10, 64)) for _ in range(8)]
    log = []

    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        log.append(loss.item())

    run = {None: step, "cut": lambda: lib.compile(step), "modules": lambda: lib.compile(lambda x, y: step(x, y))}
    run = run[how]() if how else step

    def steps():
        for x, y in zip(xs, ys):
            run(x, y)
        return log[-1]
    return steps


def bench_step_function(rounds, torch):
    import minitorch
    fns = {"minitorch eager": step_function_of(minitorch, None),
           "minitorch compiled": step_function_of(minitorch, "cut"),
           "compiled at modules": step_function_of(minitorch, "modules")}
    if torch is not None:
        fns["torch eager"] = step_function_of(torch, None)
        try:
            tc = step_function_of(torch, "cut")
            tc()
            fns["torch.compile"] = tc
        except Exception as e:  # noqa: BLE001 - inductor needs a working C++ toolchain
            print(f"  (torch.compile does not run here: {type(e).__name__})")
    return run_rounds("MLP step function with .item() x8", fns, rounds, reps=5)


def gpt_steps_of(lib, compiled):
    """The GPT training step of bench_seq.py (4 pre-norm layers of width 128, 4 heads, context 64, batch 12,
    AdamW), with the model compiled or not."""
    from bench_seq import GPT_BATCH, GPT_CTX, GPT_VOCAB, gpt_build
    model = gpt_build(lib)
    run = lib.compile(model) if compiled else model
    opt = lib.optim.AdamW(model.parameters(), lr=3e-4)
    rng = np.random.default_rng(0)
    x = lib.from_numpy(rng.integers(0, GPT_VOCAB, (GPT_BATCH, GPT_CTX)))
    y = lib.from_numpy(rng.integers(0, GPT_VOCAB, (GPT_BATCH, GPT_CTX)))
    mask = lib.triu(lib.ones(GPT_CTX, GPT_CTX, dtype=lib.bool), diagonal=1)
    pos = lib.arange(GPT_CTX)

    def steps():
        for _ in range(2):
            opt.zero_grad()
            logits = run(x, mask, pos)
            loss = lib.nn.functional.cross_entropy(logits.reshape(-1, GPT_VOCAB), y.reshape(-1))
            loss.backward()
            opt.step()
        return loss
    return steps


def bench_gpt(rounds, torch):
    return run_three(rounds, torch, gpt_steps_of, "GPT train step x2 (4x128, AdamW)", reps=2)


def nanogpt_model(lib, layers=4, heads=4, width=128, ctx=64, vocab=65):
    """A GPT written as nanoGPT-style scripts write theirs: a fused q/k/v projection split into heads for
    ``scaled_dot_product_attention(is_causal=True)``, the tanh-GELU written out, pre-norm blocks, positions from
    ``arange`` of the sequence length, the cross-entropy computed in the model's forward when there are targets and
    the last position's logits alone when there are none (generation)."""
    nn, F = lib.nn, lib.nn.functional

    def tanh_gelu(x):
        return 0.5 * x * (1.0 + lib.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * lib.pow(x, 3.0))))

    class Attention(nn.Module):
        def __init__(self):
            super().__init__()
            self.qkv = nn.Linear(width, 3 * width)
            self.proj = nn.Linear(width, width)

        def forward(self, x):
            B, T, C = x.size()
            q, k, v = (t.view(B, T, heads, C // heads).transpose(1, 2) for t in self.qkv(x).split(width, dim=2))
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            return self.proj(y.transpose(1, 2).contiguous().view(B, T, C))

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.norm1, self.norm2 = nn.LayerNorm(width), nn.LayerNorm(width)
            self.attn = Attention()
            self.up, self.down = nn.Linear(width, 4 * width), nn.Linear(4 * width, width)

        def forward(self, x):
            x = x + self.attn(self.norm1(x))
            return x + self.down(tanh_gelu(self.up(self.norm2(x))))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.tok, self.pos = nn.Embedding(vocab, width), nn.Embedding(ctx, width)
            self.blocks = nn.ModuleList([Block() for _ in range(layers)])
            self.norm = nn.LayerNorm(width)
            self.head = nn.Linear(width, vocab, bias=False)

        def forward(self, idx, targets=None):
            h = self.tok(idx) + self.pos(lib.arange(0, idx.size(1), dtype=lib.long))
            for b in self.blocks:
                h = b(h)
            if targets is None:
                return self.head(self.norm(h[:, [-1], :])), None
            logits = self.head(self.norm(h))
            return logits, F.cross_entropy(logits.view(-1, vocab), targets.view(-1))

    lib.manual_seed(0)
    return GPT()


def nanogpt_steps_of(lib, compiled, batch=12, ctx=64, vocab=65):
    """A training step of ``nanogpt_model`` (4 layers, width 128, context 64, batch 12): AdamW,
    ``zero_grad(set_to_none=True)``; the script compiles the model."""
    model = nanogpt_model(lib, ctx=ctx, vocab=vocab)
    run = lib.compile(model) if compiled else model
    opt = lib.optim.AdamW(model.parameters(), lr=3e-4)
    rng = np.random.default_rng(0)
    x = lib.from_numpy(rng.integers(0, vocab, (batch, ctx)))
    y = lib.from_numpy(rng.integers(0, vocab, (batch, ctx)))

    def steps():
        for _ in range(2):
            _, loss = run(x, y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        return loss
    return steps


def bench_nanogpt(rounds, torch):
    return run_three(rounds, torch, nanogpt_steps_of, "nanoGPT-style step x2 (4x128)", reps=2)


def llama_model(lib, layers=4, heads=4, kv_heads=2, width=128, ctx=128, vocab=256, hidden=352):
    """A Llama-style decoder written as small training scripts write theirs: RMSNorm by hand (a mean of squares,
    rsqrt, two scales), rotary position embeddings by hand (each head's dimension read as (even, odd) pairs through
    stride 2, cos/sin tables broadcast over batch and heads, the rotated pairs stacked back), keys and values shared
    by two query heads (expand + reshape), ``scaled_dot_product_attention(is_causal=True)``, a SwiGLU feed-forward
    (``silu(gate(x)) * up(x)``), no biases, the output layer tied to the embedding."""
    nn, F = lib.nn, lib.nn.functional
    hd = width // heads

    class RMSNorm(nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = nn.Parameter(lib.ones(width))

        def forward(self, x):
            return x * lib.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * self.scale

    def rotate(x, cos, sin):
        even, odd = x.reshape(*x.shape[:-1], hd // 2, 2).unbind(-1)
        return lib.stack((even * cos - odd * sin, even * sin + odd * cos), dim=-1).flatten(3)

    class Attention(nn.Module):
        def __init__(self):
            super().__init__()
            self.q = nn.Linear(width, heads * hd, bias=False)
            self.kv = nn.Linear(width, 2 * kv_heads * hd, bias=False)
            self.out = nn.Linear(width, width, bias=False)

        def forward(self, x, cos, sin):
            B, T, _ = x.shape
            q = rotate(self.q(x).view(B, T, heads, hd), cos, sin)
            k, v = self.kv(x).view(B, T, 2, kv_heads, hd).unbind(2)
            k = rotate(k, cos, sin)
            rep = heads // kv_heads
            k, v = (t[:, :, :, None, :].expand(B, T, kv_heads, rep, hd).reshape(B, T, heads, hd) for t in (k, v))
            y = F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2),
                                               is_causal=True)
            return self.out(y.transpose(1, 2).reshape(B, T, width))

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.n1, self.n2 = RMSNorm(), RMSNorm()
            self.attn = Attention()
            self.gate, self.up = nn.Linear(width, hidden, bias=False), nn.Linear(width, hidden, bias=False)
            self.down = nn.Linear(hidden, width, bias=False)

        def forward(self, x, cos, sin):
            x = x + self.attn(self.n1(x), cos, sin)
            h = self.n2(x)
            return x + self.down(F.silu(self.gate(h)) * self.up(h))

    class Llama(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(vocab, width)
            self.blocks = nn.ModuleList([Block() for _ in range(layers)])
            self.norm = RMSNorm()
            self.head = nn.Linear(width, vocab, bias=False)
            self.head.weight = self.emb.weight
            ang = lib.outer(lib.arange(ctx, dtype=lib.float32),
                            10000.0 ** (-lib.arange(0, hd, 2, dtype=lib.float32) / hd))
            self.register_buffer("cos", ang.cos().view(1, ctx, 1, hd // 2), persistent=False)
            self.register_buffer("sin", ang.sin().view(1, ctx, 1, hd // 2), persistent=False)

        def forward(self, idx, targets):
            T = idx.shape[1]
            h = self.emb(idx)
            for b in self.blocks:
                h = b(h, self.cos[:, :T], self.sin[:, :T])
            logits = self.head(self.norm(h))
            return F.cross_entropy(logits.view(-1, vocab), targets.view(-1))

    lib.manual_seed(0)
    return Llama()


def llama_steps_of(lib, compiled, batch=8, ctx=128, vocab=256):
    """A training step of ``llama_model`` (4 layers, width 128, context 128, batch 8): forward, backward, gradient
    norm clipped at 1, AdamW; the script compiles the model."""
    model = llama_model(lib, ctx=ctx, vocab=vocab)
    run = lib.compile(model) if compiled else model
    opt = lib.optim.AdamW(model.parameters(), lr=5e-4, weight_decay=0.1)
    rng = np.random.default_rng(0)
    x = lib.from_numpy(rng.integers(0, vocab, (batch, ctx)))
    y = lib.from_numpy(rng.integers(0, vocab, (batch, ctx)))

    def steps():
        for _ in range(2):
            loss = run(x, y)
            loss.backward()
            lib.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            opt.zero_grad(set_to_none=True)
        return loss
    return steps


def bench_llama(rounds, torch):
    return run_three(rounds, torch, llama_steps_of, "Llama-style step x2 (4x128)", reps=2)


def nanogpt_sample_of(lib, mode, batch=4, tokens=64):
    """Generation as nanoGPT's sample.py does it without a key/value cache: ``tokens`` forwards under no_grad, the
    sequence one longer each time (1 to ``tokens``), the next token the argmax of the last position's logits. Each
    run compiles the model afresh (kernels come from the warm cache). ``mode``: "eager", "compiled", or
    "recapture" (compiled, each new length recorded again: the compiler without its symbolic sizes)."""
    model = nanogpt_model(lib).eval()
    start = lib.zeros(batch, 1, dtype=lib.long)

    def sample():
        import minitorch.compiler.api as api
        real = api.make_template
        if mode == "recapture":
            api.make_template = lambda *a: (None, "off")
        run = model if mode == "eager" else lib.compile(model)
        try:
            idx = start
            with lib.no_grad():
                for _ in range(tokens):
                    logits, _ = run(idx)
                    idx = lib.cat((idx, logits[:, -1, :].argmax(-1, keepdim=True)), dim=1)
        finally:
            api.make_template = real
        return idx
    return sample


def bench_sample(rounds, torch):
    import minitorch
    fns = {"minitorch eager": nanogpt_sample_of(minitorch, "eager"),
           "minitorch compiled": nanogpt_sample_of(minitorch, "compiled"),
           "minitorch compiled, recapture": nanogpt_sample_of(minitorch, "recapture")}
    if torch is not None:
        fns["torch eager"] = nanogpt_sample_of(torch, "eager")
    return run_rounds("nanoGPT sampling, 64 lengths", fns, rounds, reps=1)


def attention_steps_of(lib, compiled, batch=12, ctx=128, width=128, heads=4):
    """Forward and backward of one causal self-attention layer written out (width 128, 4 heads, batch 12), its
    module compiled or not."""
    F = lib.nn.functional

    class Attention(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.qkv = lib.nn.Linear(width, 3 * width)
            self.proj = lib.nn.Linear(width, width)
            self.register_buffer("bias", lib.tril(lib.ones(ctx, ctx)).view(1, 1, ctx, ctx))

        def forward(self, x):
            B, T, C = x.shape
            q, k, v = self.qkv(x).split(C, dim=2)
            q, k, v = (t.view(B, T, heads, C // heads).transpose(1, 2) for t in (q, k, v))
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
            att = att.masked_fill(self.bias[:, :, :T, :T] == 0, float("-inf"))
            att = F.softmax(att, dim=-1)
            return self.proj((att @ v).transpose(1, 2).contiguous().view(B, T, C))

    lib.manual_seed(0)
    model = Attention()
    run = lib.compile(model) if compiled else model
    x = lib.from_numpy(np.random.default_rng(0).standard_normal((batch, ctx, width)).astype(np.float32))

    def steps():
        for _ in range(2):
            model.zero_grad()
            y = run(x)
            (y * y).mean().backward()
        return y
    return steps


def bench_attention(rounds, torch):
    import minitorch
    out = {}
    for ctx in (128, 256):
        fns = {"minitorch eager": attention_steps_of(minitorch, False, ctx=ctx),
               "minitorch compiled": attention_steps_of(minitorch, True, ctx=ctx)}
        if torch is not None:
            fns["torch eager"] = attention_steps_of(torch, False, ctx=ctx)
        out[ctx] = run_rounds(f"causal attn fwd+bwd x2 (T {ctx})", fns, rounds, reps=3)
    return out


def resnet18_infer_of(lib, compiled, batch=8, size=64):
    """ResNet-18 inference (eval, no_grad; batch 8 of 3x64x64), built the way torchvision builds it: every
    convolution is followed by an inference batch norm, which the compiler folds into it (and the relu after it
    becomes the convolution's epilogue)."""
    nn, F = lib.nn, lib.nn.functional

    class Block(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.c1, self.b1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout)
            self.c2, self.b2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout)
            self.down = None
            if stride != 1 or cin != cout:
                self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

        def forward(self, x):
            h = F.relu(self.b1(self.c1(x)))
            h = self.b2(self.c2(h))
            return F.relu(h + (x if self.down is None else self.down(x)))

    lib.manual_seed(0)
    layers = [nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(3, 2, 1)]
    cin = 64
    for cout, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
        layers += [Block(cin, cout, stride), Block(cout, cout, 1)]
        cin = cout
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(512, 1000)]
    model = nn.Sequential(*layers).eval()
    with lib.no_grad():
        for m in model.modules():  # statistics away from 0 and 1, as a trained model has
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
    run = lib.compile(model) if compiled else model
    x = lib.randn(batch, 3, size, size)

    def infer():
        with lib.no_grad():
            return run(x)
    return infer


def bench_resnet(rounds, torch):
    return run_three(rounds, torch, resnet18_infer_of, "ResNet-18 inference (8x3x64x64)", reps=3)


_FIRST = textwrap.dedent("""
    import time, numpy as np
    t0 = time.perf_counter()
    import minitorch
    import minitorch.nn as nn, minitorch.nn.functional as F
    model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10))
    c = minitorch.compile(model)
    opt = minitorch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x, y = minitorch.rand(64, 784), minitorch.randint(0, 10, (64,))
    t1 = time.perf_counter()
    for _ in range(2):   # the capture, then the first replay
        opt.zero_grad(); F.cross_entropy(c(x), y).backward(); opt.step()
    print(time.perf_counter() - t1)
""")


def bench_first():
    with tempfile.TemporaryDirectory() as d:
        env = dict(os.environ, MINITORCH_COMPILE_CACHE=d)
        out = []
        for label in ("cold compile cache", "warm compile cache"):
            r = subprocess.run([sys.executable, "-c", _FIRST], env=env, capture_output=True, text=True, check=True)
            out.append(float(r.stdout.split()[-1]))
            print(f"{'MLP step, first two calls':<34}  {label}: {out[-1]:.2f} s (new process)")
    return out


_REGIONAL = textwrap.dedent("""
    import sys, time
    lib = __import__(sys.argv[1])
    nn = lib.nn

    class Layer(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(10, 10)

        def forward(self, x):
            return lib.sigmoid(self.linear(x).relu()).relu()

    class Model(nn.Module):
        def __init__(self, regional):
            super().__init__()
            self.linear = nn.Linear(10, 10)
            layers = [Layer() for _ in range(64)]
            self.layers = nn.ModuleList([lib.compile(m) for m in layers] if regional else layers)

        def forward(self, x):
            x = self.linear(x)
            for layer in self.layers:
                x = layer(x)
            return x

    regional = sys.argv[2] == "regional"
    model = Model(regional)
    model = model if regional else lib.compile(model)
    x = lib.randn(10, 10)
    t = time.perf_counter()
    model(x)
    model(x)
    print(time.perf_counter() - t)
""")


def bench_regional(torch):
    """First two calls of a model of 64 small layers (a new process, the compile caches warm from a run before):
    each layer compiled on its own (regional compilation) against the whole model compiled."""
    with tempfile.TemporaryDirectory() as d:
        env = dict(os.environ, MINITORCH_COMPILE_CACHE=d)
        for mode in ("regional", "whole"):
            times = []
            for lib in ("minitorch",) + (("torch",) if torch is not None else ()):
                r = None
                for _ in range(2):  # the second run finds the kernels of the first on disk
                    r = subprocess.run([sys.executable, "-c", _REGIONAL, lib, mode], env=env, capture_output=True,
                                       text=True)
                times.append(float(r.stdout.split()[-1]) if r.returncode == 0 else None)
            ratio = f"  {times[0] / times[1]:.2f}x torch.compile" if len(times) > 1 and times[1] else ""
            print(f"{'64 layers ' + mode + ', first 2 calls':<34}  {times[0]:.2f} s"
                  + (f"  torch.compile {times[1]:.2f} s" if len(times) > 1 and times[1] else "") + ratio)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--only", default="gelu,mse,softcap,mlp,stepfn,gpt,nanogpt,llama,attn,sample,resnet,first,"
                                       "regional")
    args = p.parse_args()
    try:
        import torch
        torch.set_num_threads(2)
    except ImportError:
        torch = None
    import platform
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; rounds {args.rounds}")
    only = args.only.split(",")
    if "gelu" in only:
        bench_gelu(args.rounds, torch)
    if "mse" in only:
        bench_mse(args.rounds, torch)
    if "softcap" in only:
        bench_softcap(args.rounds, torch)
    if "mlp" in only:
        bench_mlp(args.rounds, torch)
    if "stepfn" in only:
        bench_step_function(args.rounds, torch)
    if "gpt" in only:
        bench_gpt(args.rounds, torch)
    if "nanogpt" in only:
        bench_nanogpt(args.rounds, torch)
    if "llama" in only:
        bench_llama(args.rounds, torch)
    if "attn" in only:
        bench_attention(args.rounds, torch)
    if "sample" in only:
        bench_sample(args.rounds, torch)
    if "resnet" in only:
        bench_resnet(args.rounds, torch)
    if "first" in only:
        bench_first()
    if "regional" in only:
        bench_regional(torch)


if __name__ == "__main__":
    main()
