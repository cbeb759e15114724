"""The fast paths of the sequence-model benchmarks against PyTorch: float32 (log-)softmax and cross-entropy over
long rows (the vectorized float32 exp), and the fused exact GELU (forward, backward, double backward), including
NaN / +-inf / saturated inputs and non-contiguous operands."""
import numpy as np
import pytest

import minitorch
import minitorch.nn.functional as F

pytestmark = pytest.mark.torch

RNG = np.random.default_rng(5)


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def check(m, t, rtol, atol):
    assert tuple(m.shape) == tuple(t.shape)
    np.testing.assert_allclose(m.detach().cpu().numpy(), t.detach().numpy(), rtol=rtol, atol=atol)


def rows_with_specials(R, C, scale):
    x = (RNG.standard_normal((R, C)) * scale).astype(np.float32)
    x[0, 3] = -np.inf
    x[1, :] = -np.inf  # a row of -inf: NaN everywhere
    x[2, C // 2] = np.nan  # a NaN: its row is NaN
    x[3, C - 1] = 200.0  # one term dominates: the others underflow to 0
    return x


@pytest.mark.parametrize("log", [False, True])
@pytest.mark.parametrize("shape,dim", [((6, 1000), 1), ((6, 37), 1), ((50, 6), 0), ((2, 6, 33), 1)])
def test_float32_softmax_matches_torch(torch, device, log, shape, dim):
    C = shape[dim]
    rest = tuple(s for i, s in enumerate(shape) if i != dim)
    base = rows_with_specials(int(np.prod(rest)), C, 8.0)  # softmax rows with the special values in them
    x = np.ascontiguousarray(np.moveaxis(base.reshape(rest + (C,)), -1, dim))
    name = "log_softmax" if log else "softmax"
    mx = minitorch.tensor(x, device=device, requires_grad=True)
    tx = torch.tensor(x, requires_grad=True)
    my, ty = getattr(F, name)(mx, dim), getattr(torch.nn.functional, name)(tx, dim)
    check(my, ty, 2e-6, 2e-6 if not log else 1e-5)
    g = RNG.standard_normal(x.shape).astype(np.float32)
    fin = np.isfinite(ty.detach().numpy())
    gm = np.where(fin, g, 0).astype(np.float32)
    my.backward(minitorch.tensor(gm, device=device))
    ty.backward(torch.tensor(gm))
    ok = np.isfinite(tx.grad.numpy())
    np.testing.assert_allclose(mx.grad.cpu().numpy()[ok], tx.grad.numpy()[ok], rtol=1e-5, atol=1e-5)
    assert np.array_equal(np.isnan(my.detach().cpu().numpy()), np.isnan(ty.detach().numpy()))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_float32_cross_entropy_long_rows_matches_torch(torch, device, reduction):
    N, C = 40, 1500  # N * C above the parallel-kernel threshold: the separate log-softmax path
    x = (RNG.standard_normal((N, C)) * 5).astype(np.float32)
    t = RNG.integers(0, C, N)
    t[3] = -100
    mx = minitorch.tensor(x, device=device, requires_grad=True)
    tx = torch.tensor(x, requires_grad=True)
    ml = F.cross_entropy(mx, minitorch.tensor(t, device=device), reduction=reduction)
    tl = torch.nn.functional.cross_entropy(tx, torch.tensor(t), reduction=reduction)
    check(ml, tl, 1e-5, 1e-5)
    g = RNG.standard_normal(tuple(tl.shape)).astype(np.float32)
    ml.backward(minitorch.tensor(g, device=device))
    tl.backward(torch.tensor(g))
    check(mx.grad, tx.grad, 1e-5, 1e-7)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("n", [7, 70000])  # serial and parallel kernels
def test_gelu_forward_backward_matches_torch(torch, device, dtype, n):
    x = RNG.standard_normal(n) * 4
    x[:8] = [0.0, -30.0, 30.0, -9.0, 1e-8, -1e-8, 5.5, -5.5][:min(8, n)]
    mx = minitorch.tensor(x, dtype=getattr(minitorch, dtype), device=device, requires_grad=True)
    tx = torch.tensor(x, dtype=getattr(torch, dtype), requires_grad=True)
    my, ty = F.gelu(mx), torch.nn.functional.gelu(tx)
    tol = 2e-6 if dtype == "float32" else 1e-12  # torch's float32 GELU is itself off by up to ~1.1e-6
    check(my, ty, tol, tol)
    g = RNG.standard_normal(n)
    my.backward(minitorch.tensor(g, dtype=getattr(minitorch, dtype), device=device))
    ty.backward(torch.tensor(g, dtype=getattr(torch, dtype)))
    check(mx.grad, tx.grad, tol, tol)
    if dtype == "float32":  # against the float64 result: float32 rounding of the exact value
        x64 = torch.tensor(np.float32(x), dtype=torch.float64, requires_grad=True)
        y64 = torch.nn.functional.gelu(x64)
        y64.backward(torch.tensor(g))
        check(my, y64.float(), 5e-7, 1e-7)
        check(mx.grad, x64.grad.float(), 5e-7, 1e-6)


def test_gelu_nan_inf_and_non_contiguous(torch, device):
    x = np.array([[np.nan, np.inf, -np.inf, 1.0], [2.0, -2.0, 0.5, -0.5]], np.float32)
    mx = minitorch.tensor(x, device=device, requires_grad=True)
    tx = torch.tensor(x, dtype=torch.float64, requires_grad=True)  # float64: torch's float32 gelu(inf) is NaN
    my, ty = F.gelu(mx.t()), torch.nn.functional.gelu(tx.t())
    check(my, ty.float(), 1e-6, 1e-6)
    my.sum().backward()
    ty.sum().backward()
    check(mx.grad, tx.grad.float(), 1e-6, 1e-6)


def test_gelu_double_backward_matches_torch(torch, device):
    x = RNG.standard_normal((3, 5))
    mx = minitorch.tensor(x, device=device, requires_grad=True)
    tx = torch.tensor(x, requires_grad=True)
    (mg,) = minitorch.autograd.grad(F.gelu(mx).sum(), mx, create_graph=True)
    (tg,) = torch.autograd.grad(torch.nn.functional.gelu(tx).sum(), tx, create_graph=True)
    check(mg, tg, 1e-12, 1e-12)
    (mg * mg).sum().backward()
    (tg * tg).sum().backward()
    check(mx.grad, tx.grad, 1e-12, 1e-12)


def test_gelu_integer_input_and_bad_approximate_raise(torch):
    with pytest.raises(RuntimeError, match="approximate argument must be either none or tanh"):
        F.gelu(minitorch.ones(3), approximate="exact")
    with pytest.raises(RuntimeError):
        torch.nn.functional.gelu(torch.ones(3), approximate="exact")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape,ns,affine", [((12, 16), (16,), "wb"), ((2, 3, 4, 5), (4, 5), "wb"),
                                             ((5, 7), (7,), ""), ((4, 6), (6,), "w"), ((3, 8), (8,), "b"),
                                             # big enough for the CPU's multi-threaded kernels (uneven row blocks)
                                             ((257, 160), (160,), "wb"), ((1030, 33), (33,), "w")])
def test_layer_norm_forward_backward_matches_torch(torch, device, dtype, shape, ns, affine):
    if device != "cpu" and np.prod(shape) > 1000:
        pytest.skip("the threaded CPU kernels' shapes: too big for the CUDA simulator")
    rng = np.random.default_rng(sum(shape) * 10 + len(affine))  # its own data, whatever ran before in the worker
    x = rng.standard_normal(shape) * 3 + 1
    g = rng.standard_normal(shape)
    w, b = rng.standard_normal(ns), rng.standard_normal(ns)
    if dtype == "float32":  # every library sees the same float32 values
        x, g, w, b = (a.astype(np.float32).astype(np.float64) for a in (x, g, w, b))
    outs = []
    # the weight and bias gradients sum over every row: ours are summed in float64, PyTorch's float32 sums carry an
    # error that grows with the row count (2.3e-5 on a 1030-row sum here), so the float32 case also runs PyTorch in
    # float64 and takes those two gradients from it
    runs = [(minitorch, device, dtype), (torch, "cpu", dtype)]
    if dtype == "float32":
        runs.append((torch, "cpu", "float64"))
    for lib, dev, dname in runs:
        dt = getattr(lib, dname)
        mk = (lambda a: lib.tensor(a, dtype=dt, device=dev, requires_grad=True))
        leaf = mk(np.ascontiguousarray(np.swapaxes(x, 0, -1)))
        ww = mk(w) if "w" in affine else None
        bb = mk(b) if "b" in affine else None
        y = lib.nn.functional.layer_norm(leaf.transpose(0, -1), ns, ww, bb, eps=1e-4)  # a non-contiguous input
        y.backward(lib.tensor(g, dtype=dt, device=dev))
        outs.append([y, leaf.grad] + [t.grad for t in (ww, bb) if t is not None])
    if dtype == "float32":
        outs[1][2:] = [t.float() for t in outs[2][2:]]
    tol = 2e-5 if dtype == "float32" else 1e-11
    for m, t in zip(outs[0], outs[1]):
        check(m, t, tol, tol)


def test_layer_norm_double_backward_matches_torch(torch, device):
    x, w, b = RNG.standard_normal((4, 6)), RNG.standard_normal(6), RNG.standard_normal(6)
    res = []
    for lib, dev in ((minitorch, device), (torch, "cpu")):
        xx, ww, bb = (lib.tensor(a, device=dev, requires_grad=True) for a in (x, w, b))
        y = lib.nn.functional.layer_norm(xx, (6,), ww, bb)
        gx, gw = lib.autograd.grad((y * y * y).sum(), (xx, ww), create_graph=True)
        (gx * gx).sum().add((gw * gw).sum()).backward()
        res.append([gx, gw, xx.grad, ww.grad, bb.grad])
    for m, t in zip(*res):
        check(m, t, 1e-10, 1e-10)


def test_layer_norm_bad_shape_raises(torch):
    with pytest.raises(RuntimeError, match=r"Given normalized_shape=\[5\], expected input with shape \[\*, 5\]"):
        F.layer_norm(minitorch.ones(2, 4), (5,))
    with pytest.raises(RuntimeError, match=r"Given normalized_shape=\[5\], expected input with shape \[\*, 5\]"):
        torch.nn.functional.layer_norm(torch.ones(2, 4), (5,))


@pytest.mark.parametrize("cls", ["LSTM", "GRU"])
def test_float32_recurrent_gates_match_torch_over_a_long_sequence(torch, cls):
    """The CPU's float32 gate exp: 200 steps of a 2-layer float32 net against torch's, outputs and gradients (the
    GPU's gates use math.exp; its layers are checked at small sizes in test_rnn.py)."""
    device = "cpu"
    tm = getattr(torch.nn, cls)(8, 16, 2)
    mm = getattr(minitorch.nn, cls)(8, 16, 2).to(device)
    mm.load_state_dict({k: minitorch.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    x = (RNG.standard_normal((200, 3, 8)) * 2).astype(np.float32)
    mx = minitorch.tensor(x, device=device, requires_grad=True)
    tx = torch.tensor(x, requires_grad=True)
    mo, to = mm(mx)[0], tm(tx)[0]
    check(mo, to, 1e-5, 1e-5)
    g = RNG.standard_normal(x.shape[:2] + (16,)).astype(np.float32)
    mo.backward(minitorch.tensor(g, device=device))
    to.backward(torch.tensor(g))
    check(mx.grad, tx.grad, 1e-4, 1e-5)
    for (name, p) in tm.named_parameters():
        check(dict(mm.named_parameters())[name].grad, p.grad, 1e-4, 1e-5)


@pytest.mark.parametrize("cls,kw", [("LSTM", {}), ("LSTM", {"proj_size": 3}), ("GRU", {}),
                                    ("RNN", {"nonlinearity": "relu"})])
@pytest.mark.parametrize("grad", [True, False])
def test_recurrent_batch_rows_split_over_threads_match_torch(torch, monkeypatch, cls, kw, grad):
    """The time loop with the batch rows in 3 ranges, one thread each (packed sequences of unequal lengths, so
    ranges run out at different steps; both directions), against torch."""
    import minitorch.ops.rnn as rnn_ops
    monkeypatch.setattr(rnn_ops, "_row_parts", lambda B, N, GH, P: min(3, B))
    tm = getattr(torch.nn, cls)(4, 6, 2, bidirectional=True, **kw)
    mm = getattr(minitorch.nn, cls)(4, 6, 2, bidirectional=True, **kw)
    mm.load_state_dict({k: minitorch.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    lengths = [9, 3, 7, 7, 1, 5, 9]
    x = RNG.standard_normal((9, 7, 4)).astype(np.float32)
    outs = []
    for lib, net in ((minitorch, mm), (torch, tm)):
        xx = lib.tensor(x, requires_grad=grad)
        packed = lib.nn.utils.rnn.pack_padded_sequence(xx, lengths, enforce_sorted=False)
        with lib.set_grad_enabled(grad):
            out, state = net(packed)
        y = lib.nn.utils.rnn.pad_packed_sequence(out)[0]
        h = state[0] if cls == "LSTM" else state
        res = [y, h] + ([state[1]] if cls == "LSTM" else [])
        if grad:
            (y.square().sum() + h.sum()).backward()
            res += [xx.grad] + [p.grad for _, p in sorted(net.named_parameters())]
        outs.append(res)
    assert len(outs[0]) == len(outs[1])
    for m, t in zip(*outs):
        check(m, t, 1e-5, 1e-5)


@pytest.mark.parametrize("M,In,O,wt", [(70, 20, 1000, False), (70, 20, 1000, True), (5, 3, 4, False),
                                       (0, 3, 4, False)])
def test_linear_gradients_one_thread_match_torch(torch, M, In, O, wt):
    """The CPU's single-thread linear backward (g.T read in place, the bias summed by rows); wt: a transposed
    weight."""
    device = "cpu"
    x, w, b, g = (RNG.standard_normal(s).astype(np.float32) for s in ((M, In), (O, In), (O,), (M, O)))
    res = []
    old = minitorch.get_num_threads()
    minitorch.set_num_threads(1)
    try:
        for lib, dev in ((minitorch, device), (torch, "cpu")):
            xx, bb = (lib.tensor(a, device=dev, requires_grad=True) for a in (x, b))
            wl = lib.tensor(np.ascontiguousarray(w.T) if wt else w, device=dev, requires_grad=True)
            y = lib.nn.functional.linear(xx, wl.t() if wt else wl, bb)
            y.backward(lib.tensor(g, device=dev))
            res.append([y, xx.grad, wl.grad, bb.grad])
    finally:
        minitorch.set_num_threads(old)
    for m, t in zip(*res):
        check(m, t, 1e-4, 1e-4)  # float32 sums of up to 1000 products in another order


@pytest.mark.parametrize("batch_first", [True, False])
@pytest.mark.parametrize("mask", ["none", "float", "causal"])
def test_sdpa_reads_heads_of_a_packed_projection_in_place(torch, device, batch_first, mask):
    """q, k, v sliced out of one (N, L, 3E) (or (L, N, 3E)) buffer and split into heads are strided views: the
    kernels read them through their strides; values and gradients as PyTorch's."""
    N, L, H, hd = 3, 13, 2, 8
    E = H * hd
    x = RNG.standard_normal((N, L, 3 * E) if batch_first else (L, N, 3 * E)).astype(np.float32)
    m = np.where(RNG.random((L, L)) < 0.3, -np.inf, RNG.standard_normal((L, L))).astype(np.float32)
    np.fill_diagonal(m, 0.0)
    gout = RNG.standard_normal((N, H, L, hd)).astype(np.float32)
    outs, grads = [], []
    for lib, dev in ((minitorch, device), (torch, "cpu")):
        t = lib.tensor(x, device=dev, requires_grad=True)
        parts = t.chunk(3, -1)
        if batch_first:
            q, k, v = (p.reshape(N, L, H, hd).transpose(1, 2) for p in parts)
        else:
            q, k, v = (p.reshape(L, N, H, hd).permute(1, 2, 0, 3) for p in parts)
        kw = {"attn_mask": lib.tensor(m, device=dev)} if mask == "float" else {"is_causal": mask == "causal"}
        o = lib.nn.functional.scaled_dot_product_attention(q, k, v, **kw)
        o.backward(lib.tensor(gout, device=dev) if lib is minitorch else lib.tensor(gout))
        outs.append(o)
        grads.append(t.grad)
    check(outs[0], outs[1], 2e-5, 2e-6)
    check(grads[0], grads[1], 2e-5, 2e-6)


def test_sdpa_nan_in_a_query_row_gives_nan_in_that_row(torch, device):
    q = RNG.standard_normal((1, 2, 5, 4)).astype(np.float32)
    q[0, 1, 3, 2] = np.nan
    k = RNG.standard_normal((1, 2, 6, 4)).astype(np.float32)
    v = RNG.standard_normal((1, 2, 6, 3)).astype(np.float32)
    mo = F.scaled_dot_product_attention(*(minitorch.tensor(a, device=device) for a in (q, k, v)))
    to = torch.nn.functional.scaled_dot_product_attention(*(torch.tensor(a) for a in (q, k, v)))
    assert np.isnan(to.numpy()[0, 1, 3]).all()
    np.testing.assert_array_equal(np.isnan(mo.cpu().numpy()), np.isnan(to.numpy()))
    check(mo, to, 1e-5, 1e-6)


@pytest.mark.parametrize("kind", ["none", "float", "causal"])
def test_sdpa_double_backward_matches_torch(torch, device, kind):
    """create_graph=True through the fused kernel: the gradients are built from differentiable ops, so a second
    backward (a gradient penalty) gives the numbers of PyTorch's math backend (its CPU flash kernel has no double
    backward)."""
    import contextlib
    from torch.nn.attention import SDPBackend, sdpa_kernel
    q, k, v = (RNG.standard_normal((2, 2, 5, 3)) for _ in range(3))
    m = np.where(RNG.random((5, 5)) < 0.3, -np.inf, RNG.standard_normal((5, 5)))
    np.fill_diagonal(m, 0.0)
    res = []
    for lib, dev in ((minitorch, device), (torch, "cpu")):
        ts = [lib.tensor(a, device=dev, requires_grad=True) for a in (q, k, v)]
        kw = {"attn_mask": lib.tensor(m, device=dev)} if kind == "float" else {"is_causal": kind == "causal"}
        with sdpa_kernel(SDPBackend.MATH) if lib is torch else contextlib.nullcontext():
            out = lib.nn.functional.scaled_dot_product_attention(*ts, **kw)
            gs = lib.autograd.grad((out * out.detach().sin()).sum(), ts, create_graph=True)
            sum((gi * gi).sum() for gi in gs).backward()
        res.append((gs, [t.grad for t in ts]))
    for a, b in zip(res[0][0] + tuple(res[0][1]), res[1][0] + tuple(res[1][1])):
        check(a, b, 1e-9, 1e-10)
