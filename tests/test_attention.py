"""Attention against PyTorch: F.scaled_dot_product_attention (fused kernels), nn.MultiheadAttention and the
Transformer family loaded from the same state_dict: outputs, gradients of inputs and parameters, and user errors."""
import math

import numpy as np
import pytest

import minitorch
import minitorch.nn as nn
import minitorch.nn.functional as F

pytestmark = pytest.mark.torch

RNG = np.random.default_rng(11)


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def arr(*shape):
    return RNG.standard_normal(shape)


def close(m, t, tol=1e-7):
    assert tuple(m.shape) == tuple(t.shape)
    np.testing.assert_allclose(m.detach().cpu().numpy(), t.detach().numpy(), rtol=tol, atol=tol)


def mask_pair(torch, device, a):
    return (None, None) if a is None else (minitorch.tensor(a, device=device), torch.tensor(a))


# ---------------------------------------------------------------------------------------------------------------
# scaled_dot_product_attention
# ---------------------------------------------------------------------------------------------------------------
def sdpa_both(torch, device, q, k, v, mask=None, tol=1e-7, dtype="float64", **kw):
    ts = [torch.tensor(a, dtype=getattr(torch, dtype), requires_grad=True) for a in (q, k, v)]
    ms = [minitorch.tensor(a, dtype=getattr(minitorch, dtype), device=device, requires_grad=True)
          for a in (q, k, v)]
    mm, tm = mask_pair(torch, device, mask)
    ty = torch.nn.functional.scaled_dot_product_attention(*ts, attn_mask=tm, **kw)
    my = F.scaled_dot_product_attention(*ms, attn_mask=mm, **kw)
    close(my, ty, tol)
    w = arr(*ty.shape)
    (ty * torch.tensor(w, dtype=ty.dtype)).sum().backward()
    (my * minitorch.tensor(w, dtype=my.dtype, device=device)).sum().backward()
    for m, t in zip(ms, ts):
        close(m.grad, t.grad, tol)
    return my


SHAPES = [  # (q, k, v)
    ((2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7)),
    ((3, 5, 4), (3, 2, 4), (3, 2, 3)),
    ((4, 3), (5, 3), (5, 2)),
    ((2, 1, 2, 3, 4), (2, 1, 2, 5, 4), (2, 1, 2, 5, 4)),
]


@pytest.mark.parametrize("shapes", SHAPES)
@pytest.mark.parametrize("causal", [False, True])
def test_sdpa_shapes(torch, device, shapes, causal):
    sdpa_both(torch, device, *(arr(*s) for s in shapes), is_causal=causal)


@pytest.mark.parametrize("mask_shape", [(4, 6), (1, 6), (4, 1), (2, 1, 4, 6), (1, 3, 1, 6), (3, 4, 6), (2, 3, 4, 6)])
@pytest.mark.parametrize("kind", ["bool", "float"])
def test_sdpa_masks_broadcast(torch, device, mask_shape, kind):
    q, k, v = arr(2, 3, 4, 5), arr(2, 3, 6, 5), arr(2, 3, 6, 5)
    if kind == "bool":
        mask = RNG.random(mask_shape) < 0.6
    else:
        mask = arr(*mask_shape)
        mask[RNG.random(mask_shape) < 0.3] = -np.inf
    sdpa_both(torch, device, q, k, v, mask)


@pytest.mark.parametrize("kind", ["bool", "float"])
def test_sdpa_mask_and_causal_together(torch, device, kind):
    mask = RNG.random((2, 1, 4, 6)) < 0.7 if kind == "bool" else arr(2, 1, 4, 6)
    sdpa_both(torch, device, arr(2, 3, 4, 5), arr(2, 3, 6, 5), arr(2, 3, 6, 5), mask, is_causal=True)


def test_sdpa_fully_masked_rows_give_zero(torch, device):
    q, k, v = arr(1, 2, 3, 4), arr(1, 2, 5, 4), arr(1, 2, 5, 4)
    mask = RNG.random((3, 5)) < 0.5
    mask[1] = False
    y = sdpa_both(torch, device, q, k, v, mask)
    assert np.all(y.detach().cpu().numpy()[:, :, 1] == 0)


@pytest.mark.parametrize("L,S", [(3, 6), (6, 3), (5, 5)])
def test_sdpa_causal_top_left(torch, device, L, S):
    sdpa_both(torch, device, arr(2, 2, L, 4), arr(2, 2, S, 4), arr(2, 2, S, 3), is_causal=True)


@pytest.mark.parametrize("scale", [0.3, 2.0])
def test_sdpa_scale(torch, device, scale):
    sdpa_both(torch, device, arr(2, 2, 4, 3), arr(2, 2, 5, 3), arr(2, 2, 5, 3), scale=scale)


@pytest.mark.parametrize("hk", [1, 2])
def test_sdpa_gqa(torch, device, hk):
    sdpa_both(torch, device, arr(2, 4, 3, 4), arr(2, hk, 5, 4), arr(2, hk, 5, 2), enable_gqa=True, is_causal=True)


def test_sdpa_noncontiguous_inputs(torch, device):
    """(N, L, H, E) layouts viewed as (N, H, L, E), and a transposed mask."""
    q, k, v = arr(2, 4, 3, 5), arr(2, 6, 3, 5), arr(2, 6, 3, 5)
    mask = arr(6, 4)
    ts = [torch.tensor(a, requires_grad=True) for a in (q, k, v)]
    ms = [minitorch.tensor(a, device=device, requires_grad=True) for a in (q, k, v)]
    ty = torch.nn.functional.scaled_dot_product_attention(*(t.transpose(1, 2) for t in ts),
                                                          attn_mask=torch.tensor(mask).t())
    my = F.scaled_dot_product_attention(*(m.transpose(1, 2) for m in ms),
                                        attn_mask=minitorch.tensor(mask, device=device).t())
    assert not ms[0].transpose(1, 2).is_contiguous()
    close(my, ty)
    ty.pow(2).sum().backward()
    my.pow(2).sum().backward()
    for m, t in zip(ms, ts):
        close(m.grad, t.grad)


@pytest.mark.parametrize("causal", [False, True])
def test_sdpa_many_blocks_float32(torch, causal):
    """Lengths spanning several query and key blocks of the CPU kernel, float32, with a broadcast float mask."""
    mask = None if causal else arr(1, 2, 150, 300).astype(np.float32)
    sdpa_both(torch, "cpu", arr(2, 2, 150, 8), arr(2, 2, 300, 8), arr(2, 2, 300, 8), mask=mask, tol=2e-4,
              dtype="float32", is_causal=causal)


@pytest.mark.parametrize("dtype,causal", [("float64", False), ("float64", True), ("float32", True)])
def test_sdpa_heads_of_a_packed_projection_over_many_blocks(torch, dtype, causal):
    """q, k, v as head views of one (N, L, 3, H, E) projection (rows 3*H*E apart, read in place by the CPU
    kernel's strided block products), lengths over several query and key blocks, head dim 40 (key blocks of 102
    rows), a padding mask; gradients land in the packed layout."""
    N, L, H, E = 2, 150, 3, 40
    x = arr(N, L, 3, H, E)
    mask = arr(N, 1, 1, L) > -1.5
    w = arr(N, H, L, E)
    out = {}
    for lib in (torch, minitorch):
        t = lib.tensor(x, dtype=getattr(lib, dtype), requires_grad=True)
        q, k, v = (t[:, :, i].transpose(1, 2) for i in range(3))
        y = lib.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=lib.tensor(mask), is_causal=causal)
        (y * lib.tensor(w, dtype=y.dtype)).sum().backward()
        out[lib] = (y, t.grad)
    tol = 1e-9 if dtype == "float64" else 2e-4
    for m, t in zip(out[minitorch], out[torch]):
        close(m, t, tol)


def test_sdpa_gradcheck():
    q, k, v = (minitorch.tensor(arr(1, 2, 3, 4), requires_grad=True) for _ in range(3))
    mask = minitorch.tensor(RNG.random((3, 3)) < 0.7)
    assert minitorch.autograd.gradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, attn_mask=mask),
                                        (q, k, v))
    assert minitorch.autograd.gradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, is_causal=True),
                                        (q, k, v))


def test_sdpa_float_mask_gradient(torch, device):
    """A mask that requires grad takes the composite path and gets its gradient, summed over broadcast dims."""
    q, k, v, mask = arr(2, 2, 3, 4), arr(2, 2, 5, 4), arr(2, 2, 5, 4), arr(1, 2, 3, 5)
    tm, mm = torch.tensor(mask, requires_grad=True), minitorch.tensor(mask, device=device, requires_grad=True)
    ty = torch.nn.functional.scaled_dot_product_attention(*(torch.tensor(a) for a in (q, k, v)), attn_mask=tm)
    my = F.scaled_dot_product_attention(*(minitorch.tensor(a, device=device) for a in (q, k, v)), attn_mask=mm)
    close(my, ty)
    ty.pow(2).sum().backward()
    my.pow(2).sum().backward()
    close(mm.grad, tm.grad)


def test_sdpa_dropout(torch, device):
    q, k, v = arr(2, 2, 3, 4), arr(2, 2, 5, 4), arr(2, 2, 5, 4)
    sdpa_both(torch, device, q, k, v, dropout_p=1.0)  # every weight dropped: zeros and zero gradients in both
    ms = [minitorch.tensor(a, device=device, requires_grad=True) for a in (q, k, v)]
    base = F.scaled_dot_product_attention(*ms).detach().cpu().numpy()
    minitorch.manual_seed(0)
    y = F.scaled_dot_product_attention(*ms, dropout_p=0.5)
    y.sum().backward()
    assert not np.allclose(y.detach().cpu().numpy(), base)
    assert all(np.isfinite(m.grad.cpu().numpy()).all() for m in ms)


def test_sdpa_float16_runs_as_float32(torch):
    q, k, v = arr(1, 2, 4, 8), arr(1, 2, 6, 8), arr(1, 2, 6, 8)
    y = F.scaled_dot_product_attention(*(minitorch.tensor(a, dtype=minitorch.float16) for a in (q, k, v)),
                                       is_causal=True)
    ty = torch.nn.functional.scaled_dot_product_attention(*(torch.tensor(a, dtype=torch.float16) for a in (q, k, v)),
                                                          is_causal=True)
    assert y.dtype == minitorch.float16
    np.testing.assert_allclose(y.float().numpy(), ty.float().numpy(), atol=2e-3)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_sdpa_half_output_keeps_the_query_layout(torch, dtype):
    """Heads split from an (N, L, H, E) projection give an output in that order, as in float32 and as PyTorch's:
    ``y.transpose(1, 2).view(N, L, H * E)`` works."""
    a = arr(2, 8, 4, 16)
    q = minitorch.tensor(a, dtype=getattr(minitorch, dtype)).transpose(1, 2)
    tq = torch.tensor(a, dtype=getattr(torch, dtype)).transpose(1, 2)
    y = F.scaled_dot_product_attention(q, q, q, is_causal=True)
    ty = torch.nn.functional.scaled_dot_product_attention(tq, tq, tq, is_causal=True)
    assert y.stride() == ty.stride() == (512, 16, 64, 1)
    np.testing.assert_allclose(y.transpose(1, 2).view(2, 8, 64).float().numpy(),
                               ty.transpose(1, 2).reshape(2, 8, 64).float().numpy(), atol=2e-2)


def sdpa_error(torch, exc, match, *arrays, **kw):
    """The same bad call in both libraries raises the same exception type; minitorch's message matches."""
    def build(lib):
        out = []
        for a in arrays:
            out.append(lib.tensor(a) if isinstance(a, np.ndarray) else a)
        return out
    tkw = {k: (torch.tensor(v) if isinstance(v, np.ndarray) else v) for k, v in kw.items()}
    mkw = {k: (minitorch.tensor(v) if isinstance(v, np.ndarray) else v) for k, v in kw.items()}
    with pytest.raises(exc):
        torch.nn.functional.scaled_dot_product_attention(*build(torch), **tkw)
    with pytest.raises(exc, match=match):
        F.scaled_dot_product_attention(*build(minitorch), **mkw)


def test_sdpa_errors(torch):
    q, k, v = arr(1, 2, 3, 4), arr(1, 2, 5, 4), arr(1, 2, 5, 4)
    sdpa_error(torch, RuntimeError, "at least 2 dimensional", q[0, 0, 0], k[0, 0], v[0, 0])
    sdpa_error(torch, RuntimeError, "same dtype", q, k.astype(np.float32), v)
    sdpa_error(torch, RuntimeError, "same embedding size", q, arr(1, 2, 5, 3), v)
    sdpa_error(torch, RuntimeError, "must divide the number of heads", q, arr(1, 3, 5, 4), arr(1, 3, 5, 4),
               enable_gqa=True)
    sdpa_error(torch, RuntimeError, "attn_mask of shape", q, k, v, attn_mask=np.ones((4, 5), bool))
    sdpa_error(torch, RuntimeError, "dropout probability has to be between 0 and 1", q, k, v, dropout_p=1.5)


def test_sdpa_autocast(torch):
    a = arr(1, 2, 3, 4).astype(np.float32)
    with minitorch.autocast("cpu"):
        y = F.scaled_dot_product_attention(*(minitorch.tensor(a) for _ in range(3)), is_causal=True)
    with torch.autocast("cpu"):
        ty = torch.nn.functional.scaled_dot_product_attention(*(torch.tensor(a) for _ in range(3)), is_causal=True)
    assert y.dtype == minitorch.bfloat16 and ty.dtype == torch.bfloat16
    np.testing.assert_allclose(y.float().numpy(), ty.float().numpy(), atol=1e-2)


def test_sdpa_saves_no_score_matrix():
    """The fused node keeps q, k, v (views of the inputs), the output and one log-sum-exp per row: O(L) new memory,
    no (L, S) tensor, however long the sequences."""
    q = minitorch.randn(1, 2, 300, 4, requires_grad=True)
    kv = minitorch.randn(1, 2, 400, 4, requires_grad=True)
    out = F.scaled_dot_product_attention(q, kv, kv, is_causal=True)
    node = out.grad_fn
    while type(node).__name__ != "SDPA":
        node = node.next_functions[0][0]
    shapes = sorted(tuple(s.tensor.shape) for s in node._saved)
    assert shapes == sorted([(1, 2, 300, 4), (1, 2, 400, 4), (1, 2, 400, 4), (1, 2, 300, 4), (1, 2, 300)])


# ---------------------------------------------------------------------------------------------------------------
# MultiheadAttention
# ---------------------------------------------------------------------------------------------------------------
def load_from(torch, m_mod, t_mod, device="cpu"):
    assert sorted(m_mod.state_dict()) == sorted(t_mod.state_dict())
    m_mod.load_state_dict({k: minitorch.tensor(v.detach().numpy(), device=device)
                           for k, v in t_mod.state_dict().items()})
    m_mod.eval()
    t_mod.eval()


def compare_params(m_mod, t_mod, tol=1e-7):
    tp = dict(t_mod.named_parameters())
    mp = dict(m_mod.named_parameters())
    assert sorted(tp) == sorted(mp)
    for name, p in tp.items():
        assert p.grad is not None and mp[name].grad is not None, name
        close(mp[name].grad, p.grad, tol)


def run_module(torch, m_mod, t_mod, arrays, device="cpu", m_kw=None, t_kw=None, pick=lambda out: out):
    """Call both modules on the same inputs; compare outputs, input gradients and parameter gradients."""
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    ms = [minitorch.tensor(a, device=device, requires_grad=True) for a in arrays]
    t_out = t_mod(*ts, **(t_kw or {}))
    m_out = m_mod(*ms, **(m_kw or {}))
    ty, my = pick(t_out), pick(m_out)
    close(my, ty)
    w = arr(*ty.shape)
    (ty * torch.tensor(w)).sum().backward()
    (my * minitorch.tensor(w, device=device)).sum().backward()
    for m, t in zip(ms, ts):
        close(m.grad, t.grad)
    compare_params(m_mod, t_mod)
    return m_out, t_out


def masks_both(torch, device, **arrays):
    m_kw, t_kw = {}, {}
    for name, a in arrays.items():
        if isinstance(a, np.ndarray):
            m_kw[name], t_kw[name] = minitorch.tensor(a, device=device), torch.tensor(a)
        else:
            m_kw[name] = t_kw[name] = a
    return m_kw, t_kw


MHA_CONFIGS = [
    {},
    {"bias": False},
    {"kdim": 3, "vdim": 5},
    {"add_bias_kv": True},
    {"add_zero_attn": True},
    {"add_bias_kv": True, "add_zero_attn": True, "kdim": 3, "vdim": 2},
    {"batch_first": True},
]


@pytest.mark.parametrize("cfg", MHA_CONFIGS)
@pytest.mark.parametrize("need_weights,average", [(True, True), (True, False), (False, True)])
def test_mha_against_torch(torch, cfg, need_weights, average):
    E, H, L, S, N = 8, 2, 3, 5, 2
    torch.manual_seed(0)
    t_mod = torch.nn.MultiheadAttention(E, H, **cfg).double()
    m_mod = nn.MultiheadAttention(E, H, **cfg).double()
    load_from(torch, m_mod, t_mod)
    kd, vd = cfg.get("kdim", E), cfg.get("vdim", E)
    if cfg.get("batch_first"):
        arrays = (arr(N, L, E), arr(N, S, kd), arr(N, S, vd))
    else:
        arrays = (arr(L, N, E), arr(S, N, kd), arr(S, N, vd))
    kpm = RNG.random((N, S)) < 0.4
    kpm[:, 0] = False
    m_kw, t_kw = masks_both(torch, "cpu", key_padding_mask=kpm, need_weights=need_weights,
                            average_attn_weights=average)
    m_out, t_out = run_module(torch, m_mod, t_mod, arrays, m_kw=m_kw, t_kw=t_kw, pick=lambda o: o[0])
    if need_weights:
        close(m_out[1], t_out[1])
    else:
        assert m_out[1] is None and t_out[1] is None


MASK_CASES = {
    "kpm_float": lambda L, S, N, H: {"key_padding_mask": np.where(RNG.random((N, S)) < 0.3, -np.inf, 0.0)},
    "attn_bool_2d": lambda L, S, N, H: {"attn_mask": np.triu(np.ones((L, S), bool), 1)},
    "attn_float_2d": lambda L, S, N, H: {"attn_mask": arr(L, S)},
    "attn_float_3d": lambda L, S, N, H: {"attn_mask": arr(N * H, L, S)},
    "attn_and_kpm": lambda L, S, N, H: {"attn_mask": arr(L, S),
                                        "key_padding_mask": np.eye(N, S, dtype=bool)[:, ::-1].copy()},
    "causal_hint": lambda L, S, N, H: {"attn_mask": np.triu(np.full((L, S), -np.inf), 1), "is_causal": True},
}


@pytest.mark.parametrize("case", sorted(MASK_CASES))
@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_masks(torch, case, need_weights):
    E, H, L, N = 6, 3, 4, 2
    S = L  # the causal hint needs a square mask
    t_mod = torch.nn.MultiheadAttention(E, H).double()
    m_mod = nn.MultiheadAttention(E, H).double()
    load_from(torch, m_mod, t_mod)
    masks = MASK_CASES[case](L, S, N, H)
    if "key_padding_mask" in masks:
        kpm = masks["key_padding_mask"]
        kpm[:, 0] = False if kpm.dtype == bool else 0.0
    m_kw, t_kw = masks_both(torch, "cpu", need_weights=need_weights, **masks)
    x = arr(L, N, E)
    run_module(torch, m_mod, t_mod, (x, x, x), m_kw=m_kw, t_kw=t_kw, pick=lambda o: o[0])


def graph_names(t):
    seen, stack, names = set(), [t.grad_fn], set()
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        names.add(type(node).__name__)
        stack.extend(f for f, _ in node.next_functions)
    return names


def self_attention_pair(torch, batch_first=False, device="cpu", **kw):
    E, H = 6, 3
    torch.manual_seed(0)
    t_mod = torch.nn.MultiheadAttention(E, H, batch_first=batch_first, **kw).double()
    m_mod = nn.MultiheadAttention(E, H, batch_first=batch_first, **kw).double()
    load_from(torch, m_mod, t_mod, device)
    return t_mod, m_mod


@pytest.mark.parametrize("case", sorted(MASK_CASES))
@pytest.mark.parametrize("batch_first", [False, True])
def test_mha_self_attention_packed(torch, device, case, batch_first):
    """Self-attention (query, key and value one tensor) projects once with the packed in_proj_weight and the fused
    kernels read the heads from that projection in place (one PackedSDPA node, no per-head slices): outputs, the
    input gradient and every parameter gradient match PyTorch's."""
    L, N = 4, 2
    t_mod, m_mod = self_attention_pair(torch, batch_first, device)
    masks = MASK_CASES[case](L, L, N, 3)
    if "key_padding_mask" in masks:
        kpm = masks["key_padding_mask"]
        kpm[:, 0] = False if kpm.dtype == bool else 0.0
    m_kw, t_kw = masks_both(torch, device, need_weights=False, **masks)
    x = arr(N, L, 6) if batch_first else arr(L, N, 6)
    tx, mx = torch.tensor(x, requires_grad=True), minitorch.tensor(x, device=device, requires_grad=True)
    ty, my = t_mod(tx, tx, tx, **t_kw)[0], m_mod(mx, mx, mx, **m_kw)[0]
    close(my, ty)
    names = graph_names(my)
    assert "PackedSDPA" in names and "Slice" not in names and "SDPA" not in names
    w = arr(*ty.shape)
    (ty * torch.tensor(w)).sum().backward()
    (my * minitorch.tensor(w, device=device)).sum().backward()
    close(mx.grad, tx.grad)
    compare_params(m_mod, t_mod)


def test_mha_self_attention_packed_double_backward(torch):
    """create_graph through the packed node: the gradient of the input gradient matches PyTorch's math backend."""
    from torch.nn.attention import SDPBackend, sdpa_kernel
    t_mod, m_mod = self_attention_pair(torch)
    x, w = arr(4, 2, 6), arr(4, 2, 6)
    mask = np.triu(np.ones((4, 4), bool), 1)
    tx, mx = torch.tensor(x, requires_grad=True), minitorch.tensor(x, requires_grad=True)
    with sdpa_kernel(SDPBackend.MATH):
        ty = t_mod(tx, tx, tx, attn_mask=torch.tensor(mask), need_weights=False)[0]
        tg, = torch.autograd.grad((ty * torch.tensor(w)).sum(), tx, create_graph=True)
        (tg ** 2).sum().backward()
    my = m_mod(mx, mx, mx, attn_mask=minitorch.tensor(mask), need_weights=False)[0]
    mg, = minitorch.autograd.grad((my * minitorch.tensor(w)).sum(), mx, create_graph=True)
    (mg ** 2).sum().backward()
    close(mg, tg)
    close(mx.grad, tx.grad)
    tp, mp = dict(t_mod.named_parameters()), dict(m_mod.named_parameters())
    for name, p in tp.items():  # out_proj.bias does not reach the input gradient: no grad in either library
        assert (p.grad is None) == (mp[name].grad is None), name
        if p.grad is not None:
            close(mp[name].grad, p.grad)


def test_mha_self_attention_full_dropout(torch):
    """Dropout on the packed path takes the composite route; with p = 1 every weight drops, so the output is the
    out-projection's bias in both libraries, and the gradients agree."""
    t_mod, m_mod = self_attention_pair(torch, dropout=1.0)
    t_mod.train()
    m_mod.train()
    x = arr(3, 2, 6)
    tx, mx = torch.tensor(x, requires_grad=True), minitorch.tensor(x, requires_grad=True)
    ty, my = t_mod(tx, tx, tx, need_weights=False)[0], m_mod(mx, mx, mx, need_weights=False)[0]
    close(my, ty)
    close(my, t_mod.out_proj.bias.expand(3, 2, 6))
    ty.sum().backward()
    my.sum().backward()
    compare_params(m_mod, t_mod)


def test_mha_self_attention_packed_bfloat16(torch):
    """Under autocast the packed projection is bfloat16; the packed node computes in float32 and rounds back."""
    t_mod, m_mod = self_attention_pair(torch)
    t_mod.float()
    m_mod.float()
    x = arr(5, 2, 6).astype(np.float32)
    tx, mx = torch.tensor(x, requires_grad=True), minitorch.tensor(x, requires_grad=True)
    with torch.autocast("cpu"):
        ty = t_mod(tx, tx, tx, need_weights=False)[0]
    with minitorch.autocast("cpu"):
        my = m_mod(mx, mx, mx, need_weights=False)[0]
    assert my.dtype == minitorch.bfloat16 and ty.dtype == torch.bfloat16
    np.testing.assert_allclose(my.float().detach().numpy(), ty.float().detach().numpy(), atol=2e-2)
    ty.float().sum().backward()
    my.float().sum().backward()
    np.testing.assert_allclose(mx.grad.numpy(), tx.grad.numpy(), atol=5e-2)


@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_unbatched(torch, need_weights):
    E, H, L, S = 4, 2, 3, 5
    t_mod = torch.nn.MultiheadAttention(E, H, batch_first=True).double()
    m_mod = nn.MultiheadAttention(E, H, batch_first=True).double()
    load_from(torch, m_mod, t_mod)
    kpm = np.array([False, True, False, False, True])
    m_kw, t_kw = masks_both(torch, "cpu", key_padding_mask=kpm, need_weights=need_weights,
                            attn_mask=arr(H, L, S))
    m_out, t_out = run_module(torch, m_mod, t_mod, (arr(L, E), arr(S, E), arr(S, E)), m_kw=m_kw, t_kw=t_kw,
                              pick=lambda o: o[0])
    if need_weights:
        close(m_out[1], t_out[1])


def test_mha_functional_matches_module(torch):
    E, H = 4, 2
    t_mod = torch.nn.MultiheadAttention(E, H).double()
    x = arr(3, 2, E)
    tx = torch.tensor(x)
    t_out, t_w = torch.nn.functional.multi_head_attention_forward(
        tx, tx, tx, E, H, t_mod.in_proj_weight, t_mod.in_proj_bias, None, None, False, 0.0, t_mod.out_proj.weight,
        t_mod.out_proj.bias, training=False)
    mp = {k: minitorch.tensor(v.detach().numpy()) for k, v in t_mod.state_dict().items()}
    mx = minitorch.tensor(x)
    m_out, m_w = F.multi_head_attention_forward(mx, mx, mx, E, H, mp["in_proj_weight"], mp["in_proj_bias"], None,
                                                None, False, 0.0, mp["out_proj.weight"], mp["out_proj.bias"],
                                                training=False)
    close(m_out, t_out)
    close(m_w, t_w)


def test_mha_names_and_types():
    m = nn.MultiheadAttention(8, 2, kdim=4, vdim=4, add_bias_kv=True)
    names = dict(m.named_parameters())
    assert {"q_proj_weight", "k_proj_weight", "v_proj_weight", "in_proj_bias", "bias_k", "bias_v",
            "out_proj.weight", "out_proj.bias"} == set(names)
    assert m.in_proj_weight is None
    assert isinstance(m.out_proj, nn.Linear) and type(m.out_proj).__name__ == "NonDynamicallyQuantizableLinear"
    assert tuple(names["k_proj_weight"].shape) == (8, 4)
    m2 = nn.MultiheadAttention(8, 2, bias=False)
    assert m2.in_proj_bias is None and m2.out_proj.bias is None and m2.bias_k is None


def test_mha_errors(torch):
    with pytest.raises(AssertionError, match="embed_dim must be divisible by num_heads"):
        nn.MultiheadAttention(10, 3)
    with pytest.raises(AssertionError):
        torch.nn.MultiheadAttention(10, 3)
    with pytest.raises(ValueError, match="embed_dim and num_heads must be greater than 0"):
        nn.MultiheadAttention(0, 2)
    t_mod = torch.nn.MultiheadAttention(4, 2).double()
    m_mod = nn.MultiheadAttention(4, 2).double()
    load_from(torch, m_mod, t_mod)
    x, tx = minitorch.tensor(arr(3, 2, 4)), torch.tensor(arr(3, 2, 4))
    cases = [
        (RuntimeError, r"The shape of the 2D attn_mask is .*, but should be \(3, 3\)", {"attn_mask": arr(3, 4)}),
        (RuntimeError, r"The shape of the 3D attn_mask is .*, but should be \(4, 3, 3\)",
         {"attn_mask": arr(2, 3, 3)}),
        (RuntimeError, "Need attn_mask if specifying the is_causal hint", {"is_causal": True}),
        (AssertionError, "expected `key_padding_mask` to be `None` or 2-D",
         {"key_padding_mask": np.zeros(3, bool)}),
        (AssertionError, "only bool and floating types of key_padding_mask",
         {"key_padding_mask": np.zeros((2, 3), np.int64)}),
    ]
    for exc, match, kw in cases:
        m_kw, t_kw = masks_both(torch, "cpu", **kw)
        with pytest.raises(exc):
            t_mod(tx, tx, tx, **t_kw)
        with pytest.raises(exc, match=match):
            m_mod(x, x, x, **m_kw)
    with pytest.raises(AssertionError, match="query should be unbatched 2D or batched 3D"):
        m_mod(x.unsqueeze(0), x.unsqueeze(0), x.unsqueeze(0))
    with pytest.raises(AssertionError, match="was expecting embedding dimension of 4, but got 5"):
        y = minitorch.tensor(arr(3, 2, 5))
        F.multi_head_attention_forward(y, y, y, 4, 2, m_mod.in_proj_weight, m_mod.in_proj_bias, None, None, False,
                                       0.0, m_mod.out_proj.weight, m_mod.out_proj.bias)


# ---------------------------------------------------------------------------------------------------------------
# Transformer family
# ---------------------------------------------------------------------------------------------------------------
def gelu_fn(lib):
    return lambda x: lib.nn.functional.gelu(x) * 0.5


LAYER_CFGS = [
    {},
    {"activation": "gelu", "norm_first": True},
    {"batch_first": True, "bias": False, "layer_norm_eps": 1e-3},
    {"activation": "callable"},
]


def layer_kw(lib, cfg):
    kw = dict(cfg)
    if kw.get("activation") == "callable":
        kw["activation"] = gelu_fn(lib)
    return kw


@pytest.mark.parametrize("cfg", LAYER_CFGS)
def test_encoder_layer(torch, cfg):
    d, h, ff, L, N = 8, 2, 12, 5, 2
    torch.manual_seed(1)
    t_mod = torch.nn.TransformerEncoderLayer(d, h, ff, **layer_kw(torch, cfg)).double()
    m_mod = nn.TransformerEncoderLayer(d, h, ff, **layer_kw(minitorch, cfg)).double()
    load_from(torch, m_mod, t_mod)
    x = arr(N, L, d) if cfg.get("batch_first") else arr(L, N, d)
    kpm = np.zeros((N, L), bool)
    kpm[1, 3:] = True
    m_kw, t_kw = masks_both(torch, "cpu", src_mask=arr(L, L), src_key_padding_mask=kpm)
    run_module(torch, m_mod, t_mod, (x,), m_kw=m_kw, t_kw=t_kw)


def test_encoder_layer_causal_unbatched(torch):
    d, h, L = 4, 2, 5
    t_mod = torch.nn.TransformerEncoderLayer(d, h, 8).double()
    m_mod = nn.TransformerEncoderLayer(d, h, 8).double()
    load_from(torch, m_mod, t_mod)
    m_kw = {"src_mask": nn.Transformer.generate_square_subsequent_mask(L, dtype=minitorch.float64),
            "is_causal": True}
    t_kw = {"src_mask": torch.nn.Transformer.generate_square_subsequent_mask(L, dtype=torch.float64),
            "is_causal": True}
    run_module(torch, m_mod, t_mod, (arr(L, d),), m_kw=m_kw, t_kw=t_kw)


@pytest.mark.parametrize("cfg", LAYER_CFGS)
def test_decoder_layer(torch, cfg):
    d, h, ff, T, S, N = 8, 2, 12, 4, 5, 2
    torch.manual_seed(2)
    t_mod = torch.nn.TransformerDecoderLayer(d, h, ff, **layer_kw(torch, cfg)).double()
    m_mod = nn.TransformerDecoderLayer(d, h, ff, **layer_kw(minitorch, cfg)).double()
    load_from(torch, m_mod, t_mod)
    bf = cfg.get("batch_first")
    tgt, mem = (arr(N, T, d), arr(N, S, d)) if bf else (arr(T, N, d), arr(S, N, d))
    kpm = np.zeros((N, S), bool)
    kpm[0, 4:] = True
    m_kw, t_kw = masks_both(torch, "cpu", tgt_mask=np.triu(np.full((T, T), -np.inf), 1), tgt_is_causal=True,
                            memory_mask=RNG.random((T, S)) < 0.2, memory_key_padding_mask=kpm)
    run_module(torch, m_mod, t_mod, (tgt, mem), m_kw=m_kw, t_kw=t_kw)


@pytest.mark.parametrize("norm", [False, True])
def test_encoder_stack(torch, norm):
    d, h, L, N = 8, 2, 5, 2
    torch.manual_seed(3)
    t_layer = torch.nn.TransformerEncoderLayer(d, h, 16)
    t_mod = torch.nn.TransformerEncoder(t_layer, 3, norm=torch.nn.LayerNorm(d) if norm else None,
                                        enable_nested_tensor=False).double()
    m_mod = nn.TransformerEncoder(nn.TransformerEncoderLayer(d, h, 16), 3, norm=nn.LayerNorm(d) if norm else None,
                                  enable_nested_tensor=False, mask_check=True).double()
    assert "layers.2.self_attn.in_proj_weight" in m_mod.state_dict()
    load_from(torch, m_mod, t_mod)
    mask = np.triu(np.full((L, L), -np.inf), 1)  # detected as causal when is_causal is None
    kpm = np.zeros((N, L), bool)
    kpm[0, 4] = True
    m_kw, t_kw = masks_both(torch, "cpu", mask=mask, src_key_padding_mask=kpm)
    run_module(torch, m_mod, t_mod, (arr(L, N, d),), m_kw=m_kw, t_kw=t_kw)


def test_decoder_stack(torch):
    d, h, T, S, N = 8, 4, 4, 6, 3
    torch.manual_seed(4)
    t_mod = torch.nn.TransformerDecoder(torch.nn.TransformerDecoderLayer(d, h, 16, batch_first=True), 2,
                                        norm=torch.nn.LayerNorm(d)).double()
    m_mod = nn.TransformerDecoder(nn.TransformerDecoderLayer(d, h, 16, batch_first=True), 2,
                                  norm=nn.LayerNorm(d)).double()
    load_from(torch, m_mod, t_mod)
    m_kw, t_kw = masks_both(torch, "cpu", tgt_mask=np.triu(np.ones((T, T), bool), 1))
    run_module(torch, m_mod, t_mod, (arr(N, T, d), arr(N, S, d)), m_kw=m_kw, t_kw=t_kw)


@pytest.mark.parametrize("batch_first", [False, True])
def test_transformer(torch, batch_first):
    d, h, S, T, N = 8, 2, 5, 4, 2
    kw = dict(d_model=d, nhead=h, num_encoder_layers=2, num_decoder_layers=2, dim_feedforward=16,
              batch_first=batch_first, activation="gelu")
    torch.manual_seed(5)
    t_mod = torch.nn.Transformer(**kw).double()
    m_mod = nn.Transformer(**kw).double()
    load_from(torch, m_mod, t_mod)
    src, tgt = (arr(N, S, d), arr(N, T, d)) if batch_first else (arr(S, N, d), arr(T, N, d))
    kpm = np.zeros((N, S), bool)
    kpm[1, 3:] = True
    tgt_kpm = np.zeros((N, T), bool)
    tgt_kpm[0, 3] = True
    m_kw, t_kw = masks_both(torch, "cpu", src_key_padding_mask=kpm, memory_key_padding_mask=kpm,
                            tgt_key_padding_mask=tgt_kpm)
    m_kw["tgt_mask"] = nn.Transformer.generate_square_subsequent_mask(T, dtype=minitorch.float64)
    t_kw["tgt_mask"] = torch.nn.Transformer.generate_square_subsequent_mask(T, dtype=torch.float64)
    run_module(torch, m_mod, t_mod, (src, tgt), m_kw=m_kw, t_kw=t_kw)


def test_transformer_defaults_and_mask(torch):
    m = nn.Transformer()
    t = torch.nn.Transformer()
    assert sorted(m.state_dict()) == sorted(t.state_dict())
    assert (m.d_model, m.nhead, m.batch_first) == (512, 8, False)
    assert len(m.encoder.layers) == 6 and len(m.decoder.layers) == 6
    assert m.encoder.layers[0].linear1.out_features == 2048 and m.encoder.layers[0].dropout.p == 0.1
    for sz in (1, 4):
        mm = nn.Transformer.generate_square_subsequent_mask(sz)
        tm = torch.nn.Transformer.generate_square_subsequent_mask(sz)
        assert mm.dtype == minitorch.float32
        np.testing.assert_array_equal(mm.numpy(), tm.numpy())


def test_transformer_errors(torch):
    m = nn.Transformer(d_model=4, nhead=2, num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=8)
    t = torch.nn.Transformer(d_model=4, nhead=2, num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=8)
    for src, tgt, match in (((5, 2, 4), (3, 3, 4), "the batch number of src and tgt must be equal"),
                            ((5, 2, 4), (3, 2, 6), "the feature number of src and tgt must be equal to d_model")):
        with pytest.raises(RuntimeError):
            t(torch.randn(*src), torch.randn(*tgt))
        with pytest.raises(RuntimeError, match=match):
            m(minitorch.randn(*src), minitorch.randn(*tgt))
    with pytest.raises(RuntimeError):
        torch.nn.TransformerEncoderLayer(4, 2, activation="tanh")
    with pytest.raises(RuntimeError, match="activation should be relu/gelu, not tanh"):
        nn.TransformerEncoderLayer(4, 2, activation="tanh")
    with pytest.raises(AssertionError, match="embed_dim must be divisible by num_heads"):
        nn.TransformerDecoderLayer(6, 4)


def test_transformer_trains():
    """A few Adam steps on a copy task lower the loss (dropout on, train mode)."""
    minitorch.manual_seed(0)
    model = nn.Transformer(d_model=8, nhead=2, num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=16,
                           dropout=0.1, batch_first=True)
    opt = minitorch.optim.Adam(model.parameters(), lr=1e-2)
    src = minitorch.randn(4, 6, 8)
    mask = nn.Transformer.generate_square_subsequent_mask(6)
    losses = []
    for _ in range(15):
        opt.zero_grad()
        loss = (model(src, src, tgt_mask=mask) - src).pow(2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]


# ---------------------------------------------------------------------------------------------------------------
# modules on every device (the CUDA simulator: tiny shapes)
# ---------------------------------------------------------------------------------------------------------------
def test_mha_on_device(torch, device):
    E, H, L, S, N = 4, 2, 2, 3, 2
    t_mod = torch.nn.MultiheadAttention(E, H).double()
    m_mod = nn.MultiheadAttention(E, H).double().to(device)
    load_from(torch, m_mod, t_mod, device=device)
    kpm = np.array([[False, False, True], [False, False, False]])
    for nw in (True, False):
        for p in list(m_mod.parameters()) + list(t_mod.parameters()):
            p.grad = None
        m_kw, t_kw = masks_both(torch, device, key_padding_mask=kpm, need_weights=nw)
        run_module(torch, m_mod, t_mod, (arr(L, N, E), arr(S, N, E), arr(S, N, E)), device=device, m_kw=m_kw,
                   t_kw=t_kw, pick=lambda o: o[0])


def test_encoder_layer_on_device(torch, device):
    d, h, L, N = 4, 2, 3, 2
    t_mod = torch.nn.TransformerEncoderLayer(d, h, 6, norm_first=True).double()
    m_mod = nn.TransformerEncoderLayer(d, h, 6, norm_first=True).double().to(device)
    load_from(torch, m_mod, t_mod, device=device)
    run_module(torch, m_mod, t_mod, (arr(L, N, d),), device=device, m_kw={"is_causal": True,
               "src_mask": nn.Transformer.generate_square_subsequent_mask(L, device=device, dtype=minitorch.float64)},
               t_kw={"is_causal": True,
                     "src_mask": torch.nn.Transformer.generate_square_subsequent_mask(L, dtype=torch.float64)})


def test_scale_default_is_inverse_sqrt_dim(torch, device):
    q, k, v = arr(1, 3, 9), arr(1, 4, 9), arr(1, 4, 2)
    a = sdpa_both(torch, device, q, k, v)
    b = F.scaled_dot_product_attention(*(minitorch.tensor(x, device=device) for x in (q, k, v)),
                                       scale=1 / math.sqrt(9))
    np.testing.assert_allclose(a.detach().cpu().numpy(), b.cpu().numpy(), rtol=1e-12)


@pytest.mark.parametrize("attn_dim", [None, 2, 3])
@pytest.mark.parametrize("with_kpm", [False, True])
def test_mha_merge_masks(torch, attn_dim, with_kpm):
    N, H, L, E = 2, 2, 3, 4
    t_mod, m_mod = torch.nn.MultiheadAttention(E, H, batch_first=True), nn.MultiheadAttention(E, H, batch_first=True)
    q = arr(N, L, E)
    attn = {None: None, 2: arr(L, L), 3: arr(N * H, L, L)}[attn_dim]
    kpm = arr(N, L) if with_kpm else None
    t_m, t_type = t_mod.merge_masks(None if attn is None else torch.tensor(attn),
                                    None if kpm is None else torch.tensor(kpm), torch.tensor(q))
    m_m, m_type = m_mod.merge_masks(None if attn is None else minitorch.tensor(attn),
                                    None if kpm is None else minitorch.tensor(kpm), minitorch.tensor(q))
    assert m_type == t_type
    if t_m is None:
        assert m_m is None
    else:
        close(m_m, t_m)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_cpu_strided_gemm_matches_numpy(dtype):
    """kernels/cpu/_blas.gemm (the SDPA kernels' block products) from compiled code: every transpose combination,
    row strides larger than the rows, an offset start, alpha, and beta 0 (old NaN ignored) or 1 (accumulate)."""
    from numba import njit

    from minitorch.kernels.cpu._blas import gemm

    @njit
    def call(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc):
        gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)

    rng = np.random.default_rng(3)
    m, n, k = 5, 7, 4
    for ta in (False, True):
        for tb in (False, True):
            for beta in (0.0, 1.0):
                a = rng.standard_normal(200).astype(dtype)
                b = rng.standard_normal(200).astype(dtype)
                lda, ldb, ldc = 11, 9, 10
                A = np.lib.stride_tricks.as_strided(a[3:], (k, m) if ta else (m, k), (lda * a.itemsize, a.itemsize))
                B = np.lib.stride_tricks.as_strided(b[1:], (n, k) if tb else (k, n), (ldb * b.itemsize, b.itemsize))
                c = rng.standard_normal(m * ldc).astype(dtype)
                if beta == 0.0:
                    c[0] = np.nan
                want = 0.5 * ((A.T if ta else A) @ (B.T if tb else B)) + (c.reshape(m, ldc)[:, :n] if beta else 0.0)
                call(ta, tb, m, n, k, 0.5, a[3:], lda, b[1:], ldb, beta, c, ldc)
                np.testing.assert_allclose(c.reshape(m, ldc)[:, :n], want, rtol=1e-5, atol=1e-5)
