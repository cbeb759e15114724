"""minitorch.compile with symbolic sizes: after captures at two sizes, new sizes replay a template of the entry
without recording, and give eager's outputs and gradients; what is not affine in the size keeps capturing."""
import copy
import math

import numpy as np
import pytest

import minitorch
import minitorch.nn as nn
import minitorch.nn.functional as F
from minitorch.compiler import api
from minitorch.compiler import capture as _capture
from minitorch.compiler import symbolic


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MINITORCH_COMPILE_CACHE", str(tmp_path / "compiled"))


@pytest.fixture
def captures(monkeypatch):
    """How many calls were compiled as graphs of their own: recorded, and not served by a template (the first call
    at a new size is recorded, and a template that fits serves the size when the recording is its graph there)."""
    calls = []
    real = _capture.capture
    monkeypatch.setattr(_capture, "capture", lambda *a, **k: calls.append(1) or real(*a, **k))
    made = api.CompiledFunction._from_template

    def from_template(self, key, tpl, s, recorded=False):
        if recorded:
            calls.pop()
        return made(self, key, tpl, s, recorded)
    monkeypatch.setattr(api.CompiledFunction, "_from_template", from_template)
    return calls


def _compiled(c):
    return getattr(c, "_compiled", c)


def _train_compare(model, make, sizes, captures, recorded):
    """Run the compiled model and an eager copy at each size (forward, backward); check outputs, gradients and
    how many calls were recorded."""
    eager = copy.deepcopy(model)
    c = minitorch.compile(model)
    for n, want in zip(sizes, recorded):
        x = make(n)
        before = len(captures)
        for m in (model, eager):
            m.zero_grad()
        got = c(x)
        ref = eager(x)
        (got.square().mean() + got.sum()).backward()
        (ref.square().mean() + ref.sum()).backward()
        assert got.shape == ref.shape
        np.testing.assert_allclose(got.detach().numpy(), ref.detach().numpy(), rtol=1e-5, atol=1e-6)
        for p, q in zip(model.parameters(), eager.parameters()):
            np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-5, atol=1e-6)
        assert len(captures) - before == want, n
    return c


def test_a_third_batch_size_replays_the_template_of_the_first_two(captures):
    minitorch.manual_seed(0)
    model = nn.Sequential(nn.Linear(12, 16), nn.GELU(), nn.LayerNorm(16), nn.Linear(16, 5), nn.Tanh())
    c = _train_compare(model, lambda n: minitorch.randn(n, 12), (6, 4, 9, 2, 33, 6), captures, (1, 1, 0, 0, 0, 0))
    (tpl,), = _compiled(c)._templates.values()
    assert isinstance(tpl, symbolic.Template) and tpl.syms > 0
    sizes = sorted(g.inputs[0].shape[0] for g in _compiled(c).graphs)
    assert sizes == [2, 4, 6, 9, 33]
    g = [g for g in _compiled(c).graphs if g.inputs[0].shape[0] == 33][0]
    assert all(v.shape[0] == 33 for n in g.nodes for v in n.outputs if v.shape and v.shape[-1] in (16, 5))


def test_the_template_prints_as_a_fresh_capture_at_that_size():
    import re
    minitorch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 8), nn.LayerNorm(8), nn.ReLU(), nn.Linear(8, 3))

    def text(c, n):
        e = [e for e in _compiled(c)._entries.values() if e.graph.inputs[0].shape[0] == n][0]
        names = {}
        return [re.sub(r"%v[0-9]+", lambda m: names.setdefault(m.group(0), f"%{len(names)}"), str(g))
                for g in (e.graph, e.backward)]

    c = minitorch.compile(model)
    for n in (5, 3, 7):
        c(minitorch.randn(n, 6, requires_grad=True)).sum().backward()
    fresh = minitorch.compile(model)
    fresh(minitorch.randn(7, 6, requires_grad=True)).sum().backward()
    assert text(c, 7) == text(fresh, 7)
    assert "float32[7, 8]" in text(c, 7)[0]


class _TinyGPT(nn.Module):
    """Positions from ``arange`` of the sequence length and a causal mask sliced from a buffer."""

    def __init__(self, vocab=11, width=16, ctx=12):
        super().__init__()
        self.tok = nn.Embedding(vocab, width)
        self.pos = nn.Embedding(ctx, width)
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)
        self.ln = nn.LayerNorm(width)
        self.head = nn.Linear(width, vocab)
        self.register_buffer("mask", minitorch.tril(minitorch.ones(ctx, ctx)).view(1, 1, ctx, ctx))

    def forward(self, idx):
        B, T = idx.size()
        x = self.tok(idx) + self.pos(minitorch.arange(0, T, dtype=minitorch.long))
        q, k, v = self.qkv(self.ln(x)).split(16, dim=2)
        q, k, v = (t.view(B, T, 2, 8).transpose(1, 2) for t in (q, k, v))
        att = (q @ k.transpose(-2, -1)) * (1.0 / 8 ** 0.5)
        att = att.masked_fill(self.mask[:, :, :T, :T] == 0, float("-inf")).softmax(dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(B, T, 16)
        return self.head(x + self.proj(y))


def test_sequence_length_is_symbolic_through_arange_and_a_sliced_mask(captures):
    minitorch.manual_seed(0)
    model = _TinyGPT()
    g = np.random.default_rng(0)
    c = _train_compare(model, lambda t: minitorch.from_numpy(g.integers(0, 11, (3, t))), (8, 5, 12, 3, 8),
                       captures, (1, 1, 0, 0, 0))
    assert isinstance(next(iter(_compiled(c)._templates.values()))[0], symbolic.Template)
    fills = {n.name for gr in _compiled(c).graphs for n in gr.nodes if n.kind == "launcher"}
    assert "arange" in fills  # the positions are made per call from the length, not a captured constant


def test_sampling_without_grad_takes_new_lengths_from_the_template(captures):
    # generation: forwards under no_grad, one longer each time (the graph's constants include the mask's slice)
    # and the last position picked by a list index (a constant index array whose value follows the length)
    minitorch.manual_seed(0)
    model = _TinyGPT().eval()

    def last(x):
        return model(x)[:, [-1], :]
    c = minitorch.compile(last)
    g = np.random.default_rng(0)
    with minitorch.no_grad():
        for t, want in zip((5, 6, 7, 8, 9, 10), (1, 1, 0, 0, 0, 0)):
            x = minitorch.from_numpy(g.integers(0, 11, (2, t)))
            before = len(captures)
            np.testing.assert_allclose(c(x).numpy(), last(x).numpy(), rtol=1e-5, atol=1e-6)
            assert len(captures) - before == want, t


def test_batch_and_sequence_length_changing_together_are_two_symbolic_sizes(captures):
    minitorch.manual_seed(0)
    model = _TinyGPT()
    g = np.random.default_rng(0)
    sizes = ((3, 8), (2, 5), (4, 7), (5, 3), (2, 12), (4, 5), (3, 8))
    c = _train_compare(model, lambda bt: minitorch.from_numpy(g.integers(0, 11, bt)), sizes, captures,
                       (1, 1, 0, 0, 0, 0, 0))
    (tpl,), = _compiled(c)._templates.values()
    assert tpl.n == 2

    def rows(x):  # B*T rows: (2, 12) and (4, 6) have the same number, so they make no template
        B, T, C = x.shape
        return (x * 2).reshape(B * T, C).exp().sum(1)

    def doubled(x):  # 2*B rows, which T + 1 also fits at (2, 3) and (3, 5)
        return (minitorch.cat([x, x], 0) * 2).exp().sum(1)

    for f, shapes in ((rows, ((2, 12, 3), (4, 6, 3), (3, 5, 3), (5, 7, 3))),
                      (doubled, ((2, 3), (3, 5), (5, 3), (4, 9)))):
        c3 = minitorch.compile(f)
        for shape in shapes:
            x = minitorch.randn(*shape)
            got, want = c3(x), f(x)
            assert got.shape == want.shape, (f.__name__, shape)
            np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5)
    # sizes whose captures cannot tell the two apart (both grew by the same step) keep capturing
    c2 = minitorch.compile(lambda x: (x * 2).sum(1))
    for shape in ((4, 5), (6, 7), (3, 2), (5, 9)):
        before = len(captures)
        x = minitorch.randn(*shape)
        np.testing.assert_allclose(c2(x).numpy(), (x * 2).sum(1).numpy(), rtol=1e-6)
        assert len(captures) - before == (0 if shape == (5, 9) else 1)


def test_a_batch_of_one_is_captured_rather_than_generalized_to(captures):
    minitorch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU())
    _train_compare(model, lambda n: minitorch.randn(n, 4), (5, 3, 1, 7), captures, (1, 1, 1, 0))


def test_what_is_not_affine_in_the_size_keeps_capturing_each_size(captures):
    def per_row(x):  # a float computed from the size: 1 / n is baked into the graph
        return x * (1.0 / x.shape[0])

    def square_count(x):  # n * n + 1 elements: not k*n**p or n + c
        return x.sum() + minitorch.ones(x.shape[0] * x.shape[0] + 1).cumsum(0)

    for fn in (per_row, square_count):
        c = minitorch.compile(fn)
        for n in (6, 4, 5, 9):
            x = minitorch.randn(n)
            before = len(captures)
            np.testing.assert_allclose(c(x).numpy(), fn(x).numpy(), rtol=1e-6)
            assert len(captures) - before == 1
        assert not c._templates


def test_three_sizes_changing_at_once_and_dynamic_false_keep_capturing(captures):
    c = minitorch.compile(lambda x: (x * 2).sum(1).sum(1))
    for shape in ((4, 5, 6), (6, 7, 3), (3, 2, 5)):
        x = minitorch.randn(*shape)
        before = len(captures)
        np.testing.assert_allclose(c(x).numpy(), (x * 2).sum(1).sum(1).numpy(), rtol=1e-5)
        assert len(captures) - before == 1
    assert not c._templates
    s = minitorch.compile(lambda x: F.gelu(x) * 3, dynamic=False)
    for n in (4, 5, 6):
        before = len(captures)
        x = minitorch.randn(n, 3)
        np.testing.assert_allclose(s(x).numpy(), (F.gelu(x) * 3).numpy(), rtol=1e-6)
        assert len(captures) - before == 1
    assert not s._templates


def test_a_fused_reduction_and_a_loss_take_new_sizes_from_the_template(captures):
    def mse(a, b):
        return ((a - b) ** 2).mean()

    def ce(logits, y):
        return F.cross_entropy(logits * 2.0, y)

    c, k = minitorch.compile(mse), minitorch.compile(ce)
    for n, want in ((7, 2), (5, 2), (11, 0), (2, 0)):
        before = len(captures)
        a = minitorch.randn(n, 3, requires_grad=True)
        b = minitorch.randn(n, 3)
        y = minitorch.randint(0, 3, (n,))
        for f, comp, args in ((mse, c, (a, b)), (ce, k, (a, y))):
            got, ref = comp(*args), f(*args)
            np.testing.assert_allclose(got.item(), ref.item(), rtol=1e-6)
            ga, = minitorch.autograd.grad(got, a)
            ra, = minitorch.autograd.grad(ref, a)
            np.testing.assert_allclose(ga.numpy(), ra.numpy(), rtol=1e-5, atol=1e-7)
        assert len(captures) - before == want


def test_template_arithmetic():
    assert repr(symbolic.Sym(64, 0)) == "64*s" and repr(symbolic.Sym(1, -1)) == "1*s-1"
    assert repr(symbolic.Sym(2, 0, 2)) == "2*s**2" and repr(symbolic.Sym(4, 0, (1, 2))) == "4*s0*s1**2"
    d2 = symbolic._Differ((3, 8), (2, 5))
    assert d2.int_(24 * 16, 10 * 16).at((4, 7)) == 28 * 16  # rows B*T of width 16
    assert d2.int_(3 * 64, 2 * 25).at((4, 7)) == 4 * 49     # B*T*T
    assert d2.int_(7, 4).at((4, 7)) == 6                    # T - 1
    with pytest.raises(symbolic.Mismatch):
        symbolic._Differ((2, 4), (3, 5)).int_(3, 4)         # B + 1 or T - 1: both grew by one
    d = symbolic._Differ(4, 6)
    assert d.int_(256, 384).at(10) == 640   # 64 * s
    assert d.int_(3, 5).at(10) == 9         # s - 1
    assert d.int_(32, 72).at(10) == 200     # 2 * s**2
    assert d.int_(7, 7).obj == 7
    for a, b in ((4, 7), (3, 2), (5, 8), (16, 37), (1 << 41, (1 << 41) + 2)):  # 1.5*s, falling, s*s+1, an id
        with pytest.raises(symbolic.Mismatch):
            d.int_(a, b)


def test_templates_on_every_device(device, captures):
    """Tiny sizes: on CUDA (the simulator in CI) the template's fused kernels and views run there too."""
    minitorch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh()).to(device)
    eager = copy.deepcopy(model)
    c = minitorch.compile(model)
    for n, want in ((5, 1), (2, 1), (6, 0), (7, 0)):
        x = minitorch.randn(n, 3).to(device)
        before = len(captures)
        got, ref = c(x), eager(x)
        got.sum().backward()
        ref.sum().backward()
        assert got.device.type == device and len(captures) - before == want
        np.testing.assert_allclose(got.detach().cpu().numpy(), ref.detach().cpu().numpy(), rtol=1e-6, atol=1e-7)
        for p, q in zip(model.parameters(), eager.parameters()):
            np.testing.assert_allclose(p.grad.cpu().numpy(), q.grad.cpu().numpy(), rtol=1e-5, atol=1e-6)


def test_a_template_entry_shows_its_graph_and_kernels_when_read(captures):
    def f(x):
        return (x * 0.5 + 1.0).tanh() * x

    c = minitorch.compile(f)
    for n in (6, 4, 9):
        x = minitorch.randn(n, 5)
        np.testing.assert_allclose(c(x).numpy(), f(x).numpy(), rtol=1e-6, atol=1e-7)
    assert len(captures) == 2
    entry = list(c._entries.values())[-1]
    assert entry.lazy  # nothing but its program made yet
    (g,) = [g for g in c.graphs if g.inputs[0].shape == (9, 5)]
    assert not entry.lazy and [n.kind for n in g.nodes] == ["fused"] and g.nodes[0].outputs[0].shape == (9, 5)
    assert entry.kernels and entry.kernels[0].out_shape == (9, 5)
    assert c.code.count("Generated by minitorch.compile: forward") == 3  # every entry's kernels, the template's too


def test_a_branch_on_a_size_is_a_guard_of_the_template(captures):
    def f(x):
        n, k = x.shape
        y = x.view(n * k) if x.size(0) > 6 else x.reshape(n, k) * 3
        return y * 2

    c = minitorch.compile(f)
    for n, want in ((4, 1), (5, 1), (3, 0), (8, 1), (7, 1), (2, 0), (9, 0)):
        x = minitorch.randn(n, 3)
        before = len(captures)
        got = c(x)
        assert got.shape == f(x).shape
        np.testing.assert_allclose(got.numpy(), f(x).numpy(), rtol=1e-6)
        assert len(captures) - before == want, n
    # what the graphs record are plain integers, whatever the user's code read
    for g in c.graphs:
        ints = [a for n in g.nodes for a in symbolic._ints((n.args, n.kwargs))] + [d for v in g.inputs for d in v.shape]
        assert ints and all(type(a) is int for a in ints)


def test_branches_on_sizes_computed_from_sizes_are_guards_and_unseen_ones_make_no_template(captures):
    def by_product(x):
        B, T = x.shape
        return x * 2 if B * T > 20 else x * 3

    def by_numel(x):
        return x * 2 if x.numel() // 2 >= 10 else x * 3

    def by_two_sizes(x):
        return x * 2 if x.size(0) > x.size(1) - 3 else x * 3

    def by_len(x):
        return x * 2 if len(x) > 4 else x * 3

    def by_made_rows(x):  # the size of a tensor the call made: which size it is cannot be told from its value
        h = x * 2
        return h * 2 if h.size(0) > 4 else h * 3

    def by_made_flat(x):  # (rows B*T)
        h = x.reshape(-1)
        return h * 2 if h.size(0) > 24 else h * 3

    def by_made_fixed(x):  # a fixed 6 equal to B = 6 at a capture
        h = x * 2
        return h * 2 if h.size(1) >= h.size(0) else h * 3

    def by_parity(x):  # the truth of a size expression
        return x * 2 if x.size(0) % 2 else x * 3

    def by_boundary(x):  # an order comparison with a number equal to the size
        return x * 3 if x.size(0) >= 5 else x * 2

    def by_tuple(x):
        return x * 3 if x.shape > (5, 6) else x * 2

    def by_made_len(x):
        h = x * 2
        return h * 2 if len(h) > 4 else h * 3

    def by_half(x):  # a size made a float: its comparisons cannot be followed
        return x * 2 if x.size(0) / 2 > 2.2 else x * 3

    def by_int(x):  # int() of a size: a plain int, whose comparisons cannot be followed
        return x * 2 if int(x.size(0)) > 4 else x * 3

    def by_square(x):
        return x * 2 if x.size(0) ** 2 > 20 else x * 3

    def scaled(x):  # a float of a size that does not change keeps the template
        return x * (1.0 / math.sqrt(x.size(1)))

    for f, shapes in ((by_half, ((5, 6), (6, 6), (3, 6), (7, 6))), (by_square, ((5, 6), (6, 6), (3, 6), (7, 6))),
                      (by_int, ((5, 6), (6, 6), (3, 6), (7, 6))),
                      (scaled, ((5, 6), (6, 6), (3, 6), (7, 6))),
                      (by_product, ((5, 6), (6, 6), (2, 6), (7, 6), (3, 6))),
                      (by_made_rows, ((5, 6), (6, 6), (3, 6), (7, 6))),
                      (by_made_fixed, ((5, 6), (6, 6), (8, 6), (3, 6))),
                      (by_parity, ((5, 6), (7, 6), (4, 6), (9, 6), (6, 6))),
                      (by_boundary, ((8, 6), (5, 6), (3, 6), (2, 6), (9, 6))),
                      (by_tuple, ((8, 6), (5, 6), (3, 6), (2, 6), (9, 6))),
                      (by_made_flat, ((5, 6), (6, 6), (3, 6), (7, 6))),
                      (by_made_len, ((5, 6), (6, 6), (3, 6), (7, 6))),
                      (by_numel, ((5, 6), (6, 6), (2, 6), (7, 6), (3, 6))),
                      (by_two_sizes, ((5, 6), (6, 6), (2, 6), (7, 6), (3, 6))),
                      (by_len, ((5, 6), (6, 6), (3, 6), (7, 6)))):
        c = minitorch.compile(f)
        for shape in shapes:
            x = minitorch.randn(*shape)
            np.testing.assert_allclose(c(x).numpy(), f(x).numpy(), rtol=1e-6, err_msg=f"{f.__name__} {shape}")
        assert bool(c._templates) == (f in (by_product, by_numel, by_two_sizes, by_square, scaled, by_parity,
                                            by_boundary, by_tuple)), f.__name__
    # a template with such a guard still serves the sizes on its side without recording
    c = minitorch.compile(by_product)
    for n, want in ((5, 1), (6, 1), (9, 0), (2, 1), (3, 1), (4, 0), (7, 0)):
        before = len(captures)
        c(minitorch.randn(n, 6))
        assert len(captures) - before == want, n


def test_slices_that_could_clamp_at_another_size_make_no_template(captures):
    def crop(x):  # nanoGPT's idx[:, -block_size:]
        return (x[:, -8:] * 2).sum(0)

    def head(x):
        return (x[:, :8] * 2).sum(0)

    def last(x):  # small bounds never clamp: the template stays
        return (x[:, 1:-1] * 2).sum(1) + x[:, -1]

    for f in (crop, head, last):
        c = minitorch.compile(f)
        for T in (5, 6, 12, 7, 9, 3):
            x = minitorch.randn(2, T)
            got, want = c(x), f(x)
            assert got.shape == want.shape, (f.__name__, T)
            np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)
        assert bool(c._templates) == (f is last), f.__name__


def test_sizes_that_two_captures_cannot_tell_apart_make_no_wrong_template():
    # each of these gives one value at the two captured sizes and another at a later one: a dict lookup by a size
    # (hashes, not comparisons), a stride, a stepped slice, a floor division, max() taking the other side
    scales = {8: 2.0}
    fns = {"dict": lambda x: x * scales.get(x.size(0), 1.0),
           "stride": lambda x: x * (2.0 if x.stride(0) > 6 else 1.0),
           "step": lambda x: x[1::2] * 2,
           "narrow": lambda x: x.narrow(0, 0, x.size(0) // 2) * 2,
           "max": lambda x: x.sum() * max(x.size(0), 4)}
    for name, f in fns.items():
        c = minitorch.compile(f)
        for n in (2, 3, 8, 5, 9) if name != "max" else (3, 4, 5, 9):
            # (2, n): its first stride is n
            x = minitorch.arange(float(n * 2)).reshape(2, n) if name == "stride" else minitorch.arange(float(n))
            np.testing.assert_array_equal(c(x).numpy(), f(x).numpy(), err_msg=f"{name} at {n}")


def _outcome(fn, *args):
    try:
        out = fn(*args)
    except Exception as e:  # noqa: BLE001 - the error is the outcome compared
        return ("raise", type(e))
    return ("ok", [t.tolist() for t in out] if isinstance(out, (list, tuple)) else out.tolist())


def test_a_template_serves_a_new_size_only_where_the_ops_compute_the_same_graph_there(captures):
    # what an op computes from sizes inside (a bounds check, a pooled length, a shift modulo the length, a number of
    # chunks, a divisor max(0, n - correction)) cannot be told from two captures: the first call at a new size is
    # recorded, and the template serves the size only if that recording is its graph there (all of these gave
    # wrong values, read out of bounds or failed inside the replay when the template was instantiated blindly)
    F_ = F
    cases = [
        (lambda x: x[3] * 2, (4, 6, 3, 5)),                                   # IndexError at 3
        (lambda x: x[x.shape[0] - 3] * 2, (4, 6, 2)),                         # -1 wraps at 2
        (lambda x: x.roll(3) * 2, (4, 6, 2, 5)),                              # 3 % 2 at 2
        (lambda x: F_.max_pool1d(x[None, None], 3, 2)[0, 0] + 1, (8, 9, 10)),  # (n - 3) // 2 + 1
        (lambda x: x.var(correction=3) + 1, (2, 3, 5)),                       # inf, then a number
        (lambda x: x.unfold(0, 4, 3) * 2, (4, 5, 7, 10)),                     # (n - 4) // 3 + 1 windows
        (lambda x: [c.sum() for c in x.split(3)], (2, 3, 4, 7)),              # one chunk, then two, then three
        (lambda x: x.diff(n=3) * 2, (4, 6, 2)),                               # empty at 2
    ]
    for fn, sizes in cases:
        c = minitorch.compile(fn)
        for n in sizes * 2:
            x = minitorch.arange(n, dtype=minitorch.float32) * 1.5 + 1
            assert _outcome(c, x) == _outcome(fn, x), (sizes, n)
    # where the recording is the template's graph, the template serves the size: recorded once, compiled never
    def f(x):
        return (x * 2).tanh().sum(0)

    c = minitorch.compile(f)
    for n in (3, 5):
        c(minitorch.randn(n, 4))
    before = list(captures)
    recorded = []
    real = _capture.capture
    _capture.capture = lambda *a, **k: recorded.append(1) or real(*a, **k)
    try:
        for n in (7, 7, 9, 9, 7):
            x = minitorch.randn(n, 4)
            np.testing.assert_allclose(c(x).numpy(), f(x).numpy(), rtol=1e-6)
    finally:
        _capture.capture = real
    assert len(recorded) == 2 and captures == before  # 7 and 9 recorded once each, and served by the template
    assert all(e.lazy is not None for k, e in _compiled(c)._entries.items() if k[0][1][1][0] in (7, 9))


def test_a_size_python_reads_without_asking_is_seen_at_the_recording_of_a_new_size():
    # lst[T], math.isqrt(T), bin(T) turn the size into a plain int unseen; the value reaches the graph as a number,
    # and a table value that the two captures share (0 at 4 and 5) is caught when length 6 is recorded
    table = [0, 0, 0, 0, 1.0, 1.0, 2.0, 3.0, 3.0, 3.0]

    def f(x):
        T = x.shape[0]
        return x * table[T] + math.isqrt(T) + len(bin(T))

    c = minitorch.compile(f)
    for n in (4, 5, 6, 7, 8, 9, 6, 7):
        x = minitorch.ones(n)
        assert c(x).tolist() == f(x).tolist(), n
