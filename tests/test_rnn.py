"""Recurrent layers, cells and nn.utils.rnn against PyTorch: the same state_dict must give the same outputs, final
states and gradients (of the input, the initial state and every parameter) for every layer option, packed
sequences of unsorted lengths, and the same errors (types and messages) for bad input."""
import warnings

import numpy as np
import pytest

import minitorch
import minitorch.nn as nn
from minitorch.nn.utils import rnn as U

pytestmark = pytest.mark.torch
RNG = np.random.default_rng(7)
I, H, T, B = 4, 3, 3, 2  # tiny, so that the CUDA simulator runs them too

CONFIGS = [
    ("RNN", {}),
    ("RNN", {"nonlinearity": "relu", "num_layers": 2}),
    ("RNN", {"bias": False, "bidirectional": True}),
    ("GRU", {}),
    ("GRU", {"num_layers": 2, "bidirectional": True}),
    ("GRU", {"bias": False}),
    ("LSTM", {}),
    ("LSTM", {"num_layers": 2, "bidirectional": True}),
    ("LSTM", {"bias": False}),
    ("LSTM", {"proj_size": 2}),
    ("LSTM", {"proj_size": 2, "num_layers": 2, "bidirectional": True}),
]
IDS = [f"{c}-{'-'.join(f'{k}={v}' for k, v in kw.items()) or 'default'}" for c, kw in CONFIGS]


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def to_np(t):
    return t.detach().cpu().numpy()


def close(m, t, tol=1e-10):
    assert tuple(m.shape) == tuple(t.shape), (tuple(m.shape), tuple(t.shape))
    np.testing.assert_allclose(to_np(m), to_np(t), rtol=tol, atol=tol)


def pair(torch, cls, kw, device="cpu", dtype="float64"):
    """A torch module (float64) and a minitorch module on ``device`` loaded from its state_dict."""
    tm = getattr(torch.nn, cls)(I, H, dtype=getattr(torch, dtype), **kw)
    with torch.no_grad():  # spread the weights beyond the default init, so saturation and sign changes show up
        for p in tm.parameters():
            p.mul_(2.0)
    mm = getattr(nn, cls)(I, H, dtype=getattr(minitorch, dtype), device=device, **kw)
    missing = mm.load_state_dict({k: minitorch.tensor(to_np(v)).to(device) for k, v in tm.state_dict().items()})
    assert not missing.missing_keys and not missing.unexpected_keys
    return tm, mm


def leaf(torch, arr, device="cpu"):
    return torch.tensor(arr, requires_grad=True), minitorch.tensor(arr, requires_grad=True, device=device)


def weighted_loss(outs, ws):
    total = None
    for o, w in zip(outs, ws):
        term = (o * w).sum()
        total = term if total is None else total + term
    return total


def check_run(torch, tm, mm, x_np, hx_np, device, make_loss_weights=True):
    """Run both modules on the same input (and initial state), compare outputs/states and all gradients."""
    xt, xm = leaf(torch, x_np, device)
    is_lstm = isinstance(tm, torch.nn.LSTM)
    hts, hms = [], []
    if hx_np is not None:
        for a in hx_np:
            t, m = leaf(torch, a, device)
            hts.append(t)
            hms.append(m)
        ot, st = tm(xt, tuple(hts) if is_lstm else hts[0])
        om, sm = mm(xm, tuple(hms) if is_lstm else hms[0])
    else:
        ot, st = tm(xt)
        om, sm = mm(xm)
    st = st if is_lstm else (st,)
    sm = sm if is_lstm else (sm,)
    close(om, ot)
    for a, b in zip(sm, st):
        close(a, b)
    ws = [RNG.standard_normal(tuple(o.shape)) for o in (ot,) + tuple(st)]
    weighted_loss((ot,) + tuple(st), [torch.tensor(w) for w in ws]).backward()
    weighted_loss((om,) + tuple(sm), [minitorch.tensor(w, device=device) for w in ws]).backward()
    close(xm.grad, xt.grad)
    for a, b in zip(hms, hts):
        close(a.grad, b.grad)
    mp = dict(mm.named_parameters())
    for name, p in tm.named_parameters():
        close(mp[name].grad, p.grad)


# ---------------------------------------------------------------------------------------------------------------
# layers
# ---------------------------------------------------------------------------------------------------------------
def _hidden(tm, batch):
    D = 2 if tm.bidirectional else 1
    L = tm.num_layers
    P = tm.proj_size or tm.hidden_size
    lead = (L * D,) + ((batch,) if batch else ())
    h = RNG.standard_normal(lead + (P,))
    if tm.mode == "LSTM":
        return [h, RNG.standard_normal(lead + (tm.hidden_size,))]
    return [h]


@pytest.mark.parametrize("form", ["seq_first", "batch_first", "unbatched"])
@pytest.mark.parametrize("with_h0", [False, True])
@pytest.mark.parametrize("cls,kw", CONFIGS, ids=IDS)
def test_layer_matches_torch(torch, cls, kw, form, with_h0):
    kw = dict(kw, batch_first=form == "batch_first")
    tm, mm = pair(torch, cls, kw)
    shape = {"seq_first": (T, B, I), "batch_first": (B, T, I), "unbatched": (T, I)}[form]
    x = RNG.standard_normal(shape)
    hx = _hidden(tm, None if form == "unbatched" else B) if with_h0 else None
    check_run(torch, tm, mm, x, hx, "cpu")


@pytest.mark.parametrize("cls,kw", CONFIGS, ids=IDS)
def test_layer_on_device(torch, device, cls, kw):
    """Every configuration on every device (the CUDA kernels on the simulator), against torch on the CPU."""
    tm, mm = pair(torch, cls, kw, device)
    check_run(torch, tm, mm, RNG.standard_normal((T, B, I)), _hidden(tm, B), device)


def test_float32_layer(torch):
    tm, mm = pair(torch, "LSTM", {"num_layers": 2}, dtype="float32")
    x = RNG.standard_normal((5, 3, I)).astype(np.float32)
    ot, (ht, ct) = tm(torch.tensor(x))
    om, (hm, cm) = mm(minitorch.tensor(x))
    assert om.dtype == minitorch.float32
    for a, b in ((om, ot), (hm, ht), (cm, ct)):
        close(a, b, tol=2e-6)


def test_longer_sequence_larger_batch(torch):
    """More steps and a wider state than the parametrised tiny cases (errors that grow along time show here)."""
    tm = torch.nn.LSTM(7, 9, num_layers=2, dtype=torch.float64)
    mm = nn.LSTM(7, 9, num_layers=2, dtype=minitorch.float64)
    mm.load_state_dict({k: minitorch.tensor(to_np(v)) for k, v in tm.state_dict().items()})
    check_run(torch, tm, mm, RNG.standard_normal((40, 5, 7)), None, "cpu")


# ---------------------------------------------------------------------------------------------------------------
# packed sequences through the layers
# ---------------------------------------------------------------------------------------------------------------
PACKED_CONFIGS = [("RNN", {}), ("GRU", {"bidirectional": True}), ("LSTM", {"num_layers": 2, "bidirectional": True}),
                  ("LSTM", {"proj_size": 2, "bidirectional": True})]


@pytest.mark.parametrize("with_h0", [False, True])
@pytest.mark.parametrize("enforce_sorted", [False, True])
@pytest.mark.parametrize("cls,kw", PACKED_CONFIGS, ids=[f"{c}-{kw}" for c, kw in PACKED_CONFIGS])
def test_packed_matches_torch(torch, cls, kw, enforce_sorted, with_h0):
    check_packed(torch, "cpu", cls, kw, enforce_sorted, with_h0)


@pytest.mark.parametrize("cls,kw", PACKED_CONFIGS, ids=[f"{c}-{kw}" for c, kw in PACKED_CONFIGS])
def test_packed_on_device(torch, device, cls, kw):
    check_packed(torch, device, cls, kw, False, True)


def check_packed(torch, device, cls, kw, enforce_sorted, with_h0):
    tm, mm = pair(torch, cls, kw, device)
    lengths = [4, 2, 1] if enforce_sorted else [2, 4, 1]
    x = RNG.standard_normal((4, 3, I))
    xt, xm = leaf(torch, x, device)
    pt = torch.nn.utils.rnn.pack_padded_sequence(xt, lengths, enforce_sorted=enforce_sorted)
    pm = U.pack_padded_sequence(xm, lengths, enforce_sorted=enforce_sorted)
    is_lstm = cls == "LSTM"
    hts, hms = [], []
    if with_h0:
        for a in _hidden(tm, 3):
            t, m = leaf(torch, a, device)
            hts.append(t)
            hms.append(m)
        ot, st = tm(pt, tuple(hts) if is_lstm else hts[0])
        om, sm = mm(pm, tuple(hms) if is_lstm else hms[0])
    else:
        ot, st = tm(pt)
        om, sm = mm(pm)
    assert isinstance(om, U.PackedSequence)
    assert om.batch_sizes.tolist() == ot.batch_sizes.tolist()
    for a, b in ((om.sorted_indices, ot.sorted_indices), (om.unsorted_indices, ot.unsorted_indices)):
        assert (a is None and b is None) or a.tolist() == b.tolist()
    close(om.data, ot.data)
    st = st if is_lstm else (st,)
    sm = sm if is_lstm else (sm,)
    for a, b in zip(sm, st):  # each sequence's state at its own last step, in the caller's order
        close(a, b)
    padded_t, len_t = torch.nn.utils.rnn.pad_packed_sequence(ot, batch_first=True)
    padded_m, len_m = U.pad_packed_sequence(om, batch_first=True)
    close(padded_m, padded_t)
    assert len_m.tolist() == len_t.tolist()
    ws = [RNG.standard_normal(tuple(o.shape)) for o in (padded_t,) + tuple(st)]
    weighted_loss((padded_t,) + tuple(st), [torch.tensor(w) for w in ws]).backward()
    weighted_loss((padded_m,) + tuple(sm), [minitorch.tensor(w, device=device) for w in ws]).backward()
    close(xm.grad, xt.grad)
    for a, b in zip(hms, hts):
        close(a.grad, b.grad)
    mp = dict(mm.named_parameters())
    for name, p in tm.named_parameters():
        close(mp[name].grad, p.grad)


# ---------------------------------------------------------------------------------------------------------------
# dropout between layers, module API
# ---------------------------------------------------------------------------------------------------------------
def test_dropout_between_layers_only(torch):
    """dropout=1 zeroes every layer's output except the last: deterministic, so torch must agree exactly; in eval
    mode dropout is off."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tm, mm = pair(torch, "LSTM", {"num_layers": 3, "dropout": 1.0})
    x = RNG.standard_normal((T, B, I))
    check_run(torch, tm, mm, x, None, "cpu")
    tm.eval()
    mm.eval()
    for p in list(tm.parameters()) + list(mm.parameters()):
        p.grad = None
    check_run(torch, tm, mm, x, None, "cpu")


def test_dropout_random_in_training():
    mm = nn.GRU(I, H, num_layers=2, dropout=0.5)
    x = minitorch.randn(T, B, I)
    outs = [mm(x)[0] for _ in range(4)]
    assert any(float((o - outs[0]).abs().max()) > 0 for o in outs[1:])
    mm.eval()
    assert float((mm(x)[0] - mm(x)[0]).abs().max()) == 0


@pytest.mark.parametrize("cls,kw", CONFIGS, ids=IDS)
def test_parameters_names_shapes_init(torch, cls, kw):
    tm = getattr(torch.nn, cls)(I, H, **kw)
    mm = getattr(nn, cls)(I, H, **kw)
    assert list(mm.state_dict().keys()) == list(tm.state_dict().keys())
    for (n1, p1), (n2, p2) in zip(mm.named_parameters(), tm.named_parameters()):
        assert n1 == n2 and tuple(p1.shape) == tuple(p2.shape)
    assert mm._flat_weights_names == tm._flat_weights_names
    assert [len(w) for w in mm.all_weights] == [len(w) for w in tm.all_weights]
    assert mm._flat_weights[0] is mm.weight_ih_l0 and mm.all_weights[0][1] is mm.weight_hh_l0
    bound = 1 / np.sqrt(H)
    values = np.concatenate([to_np(p).ravel() for p in mm.parameters()])
    assert values.min() >= -bound and values.max() <= bound and values.std() > bound / 4
    assert repr(mm) == repr(tm)
    assert mm.flatten_parameters() is None


def test_state_dict_round_trip_and_float32_default(torch):
    tm = torch.nn.GRU(I, H, num_layers=2)
    mm = nn.GRU(I, H, num_layers=2)
    assert mm.weight_ih_l1.dtype == minitorch.float32
    mm.load_state_dict({k: minitorch.tensor(to_np(v)) for k, v in tm.state_dict().items()})
    tm2 = torch.nn.GRU(I, H, num_layers=2)
    tm2.load_state_dict({k: torch.tensor(to_np(v)) for k, v in mm.state_dict().items()})
    x = RNG.standard_normal((T, B, I)).astype(np.float32)
    close(mm(minitorch.tensor(x))[0], tm2(torch.tensor(x))[0], tol=2e-6)


def test_one_graph_node_per_layer_and_direction():
    """The time loop is one autograd node (not a tape of per-step elementwise nodes)."""
    from minitorch.ops.rnn import RNNLayer
    mm = nn.LSTM(I, H, num_layers=2, bidirectional=True)
    out, _ = mm(minitorch.randn(50, B, I))
    seen, stack, layers = set(), [out.grad_fn], 0
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        layers += isinstance(node, RNNLayer)
        stack.extend(n for n, _ in node.next_functions)
    assert layers == 4
    assert len(seen) < 40


# ---------------------------------------------------------------------------------------------------------------
# cells
# ---------------------------------------------------------------------------------------------------------------
CELLS = [("RNNCell", {}), ("RNNCell", {"nonlinearity": "relu"}), ("RNNCell", {"bias": False}), ("GRUCell", {}),
         ("GRUCell", {"bias": False}), ("LSTMCell", {}), ("LSTMCell", {"bias": False})]


@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("with_hx", [False, True])
@pytest.mark.parametrize("cls,kw", CELLS, ids=[f"{c}-{kw}" for c, kw in CELLS])
def test_cell_matches_torch(torch, cls, kw, with_hx, batched):
    check_cell(torch, "cpu", cls, kw, with_hx, batched)


@pytest.mark.parametrize("cls,kw", CELLS, ids=[f"{c}-{kw}" for c, kw in CELLS])
def test_cell_on_device(torch, device, cls, kw):
    check_cell(torch, device, cls, kw, True, True)


def check_cell(torch, device, cls, kw, with_hx, batched):
    tm, mm = pair(torch, cls, kw, device)
    lead = (B,) if batched else ()
    x = RNG.standard_normal(lead + (I,))
    xt, xm = leaf(torch, x, device)
    is_lstm = cls == "LSTMCell"
    hts, hms = [], []
    if with_hx:
        for _ in range(2 if is_lstm else 1):
            t, m = leaf(torch, RNG.standard_normal(lead + (H,)), device)
            hts.append(t)
            hms.append(m)
        rt = tm(xt, tuple(hts) if is_lstm else hts[0])
        rm = mm(xm, tuple(hms) if is_lstm else hms[0])
    else:
        rt, rm = tm(xt), mm(xm)
    rt = rt if is_lstm else (rt,)
    rm = rm if is_lstm else (rm,)
    for a, b in zip(rm, rt):
        close(a, b)
    ws = [RNG.standard_normal(tuple(o.shape)) for o in rt]
    weighted_loss(rt, [torch.tensor(w) for w in ws]).backward()
    weighted_loss(rm, [minitorch.tensor(w, device=device) for w in ws]).backward()
    close(xm.grad, xt.grad)
    for a, b in zip(hms, hts):
        close(a.grad, b.grad)
    mp = dict(mm.named_parameters())
    for name, p in tm.named_parameters():
        close(mp[name].grad, p.grad)


def test_cell_unrolled_equals_layer(torch):
    """An LSTMCell stepped by hand gives the LSTM layer's numbers (same weights)."""
    tm, mm = pair(torch, "LSTM", {})
    cell = nn.LSTMCell(I, H, dtype=minitorch.float64)
    cell.load_state_dict({k[:-3]: v for k, v in mm.state_dict().items()})
    x = minitorch.tensor(RNG.standard_normal((T, B, I)))
    out, (hn, cn) = mm(x)
    h = c = None
    for t in range(T):
        h, c = cell(x[t], None if h is None else (h, c))
        close(h, out[t].detach())
    close(c, cn[0])


def test_cell_repr_and_names(torch):
    for cls, kw in CELLS:
        tm = getattr(torch.nn, cls)(I, H, **kw)
        mm = getattr(nn, cls)(I, H, **kw)
        assert repr(mm) == repr(tm)
        assert list(mm.state_dict().keys()) == list(tm.state_dict().keys())


# ---------------------------------------------------------------------------------------------------------------
# nn.utils.rnn
# ---------------------------------------------------------------------------------------------------------------
def _seqs(torch, lengths, feat=(2,)):
    arrs = [RNG.standard_normal((n,) + feat) for n in lengths]
    return [torch.tensor(a, requires_grad=True) for a in arrs], [minitorch.tensor(a, requires_grad=True)
                                                                  for a in arrs]


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_pad_sequence(torch, batch_first, padding_side):
    st, sm = _seqs(torch, [2, 4, 1])
    pt = torch.nn.utils.rnn.pad_sequence(st, batch_first=batch_first, padding_value=-3.0, padding_side=padding_side)
    pm = U.pad_sequence(sm, batch_first=batch_first, padding_value=-3.0, padding_side=padding_side)
    close(pm, pt)
    w = RNG.standard_normal(tuple(pt.shape))
    (pt * torch.tensor(w)).sum().backward()
    (pm * minitorch.tensor(w)).sum().backward()
    for a, b in zip(sm, st):
        close(a.grad, b.grad)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("enforce_sorted", [False, True])
def test_pack_pad_round_trip(torch, batch_first, enforce_sorted):
    lengths = [5, 3, 2, 2] if enforce_sorted else [2, 5, 2, 3]
    x = RNG.standard_normal((4, 5, 3) if batch_first else (5, 4, 3))
    xt, xm = leaf(torch, x)
    pt = torch.nn.utils.rnn.pack_padded_sequence(xt, torch.tensor(lengths), batch_first=batch_first,
                                                 enforce_sorted=enforce_sorted)
    pm = U.pack_padded_sequence(xm, minitorch.tensor(lengths), batch_first=batch_first,
                                enforce_sorted=enforce_sorted)
    close(pm.data, pt.data)
    assert pm.batch_sizes.tolist() == pt.batch_sizes.tolist() and pm.batch_sizes.dtype == minitorch.int64
    assert (pm.sorted_indices is None) == (pt.sorted_indices is None)
    if pt.sorted_indices is not None:
        assert pm.sorted_indices.tolist() == pt.sorted_indices.tolist()
        assert pm.unsorted_indices.tolist() == pt.unsorted_indices.tolist()
    yt, lt = torch.nn.utils.rnn.pad_packed_sequence(pt, batch_first=batch_first, padding_value=9.0, total_length=7)
    ym, lm = U.pad_packed_sequence(pm, batch_first=batch_first, padding_value=9.0, total_length=7)
    close(ym, yt)
    assert lm.tolist() == lt.tolist() and lm.dtype == minitorch.int64
    w = RNG.standard_normal(tuple(yt.shape))
    (yt * torch.tensor(w)).sum().backward()
    (ym * minitorch.tensor(w)).sum().backward()
    close(xm.grad, xt.grad)


def test_pack_sequence_unpack_unpad(torch):
    st, sm = _seqs(torch, [3, 1, 4], feat=())
    pt = torch.nn.utils.rnn.pack_sequence(st, enforce_sorted=False)
    pm = U.pack_sequence(sm, enforce_sorted=False)
    close(pm.data, pt.data)
    assert pm.batch_sizes.tolist() == pt.batch_sizes.tolist()
    for a, b in zip(U.unpack_sequence(pm), torch.nn.utils.rnn.unpack_sequence(pt)):
        close(a, b)
    padded_t = torch.nn.utils.rnn.pad_sequence(st, batch_first=True)
    padded_m = U.pad_sequence(sm, batch_first=True)
    for a, b in zip(U.unpad_sequence(padded_m, minitorch.tensor([3, 1, 4]), batch_first=True),
                    torch.nn.utils.rnn.unpad_sequence(padded_t, torch.tensor([3, 1, 4]), batch_first=True)):
        close(a, b)
    sorted_t = torch.nn.utils.rnn.pack_sequence([s.detach() for s in sorted(st, key=len, reverse=True)])
    sorted_m = U.pack_sequence([s.detach() for s in sorted(sm, key=lambda s: s.shape[0], reverse=True)])
    close(sorted_m.data, sorted_t.data)


def test_packed_sequence_type():
    p = U.pack_sequence([minitorch.randn(3, 2), minitorch.randn(2, 2)])
    assert isinstance(p, tuple) and p._fields == ("data", "batch_sizes", "sorted_indices", "unsorted_indices")
    data, batch_sizes, si, ui = p
    assert si is None and ui is None and batch_sizes.tolist() == [2, 2, 1]
    q = p.to(minitorch.float64)
    assert isinstance(q, U.PackedSequence) and q.data.dtype == minitorch.float64 and q.batch_sizes is p.batch_sizes
    assert p.double().data.dtype == minitorch.float64 and p.to("cpu") is p and not p.is_cuda
    r = U.PackedSequence(p.data, p.batch_sizes, minitorch.tensor([1, 0]))
    assert r.unsorted_indices.tolist() == [1, 0]
    assert nn.utils.rnn.PackedSequence is U.PackedSequence


# ---------------------------------------------------------------------------------------------------------------
# errors: torch's types and messages
# ---------------------------------------------------------------------------------------------------------------
def same_error(torch_call, mini_call):
    with pytest.raises(Exception) as et:
        torch_call()
    with pytest.raises(type(et.value)) as em:
        mini_call()
    assert str(em.value) == str(et.value)


def _both(torch, cls, *args, **kw):
    return getattr(torch.nn, cls)(*args, **kw), getattr(nn, cls)(*args, **kw)


def _arr(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def _run(lib, mod, x, hx=None):
    t = lib.tensor(x)
    if hx is None:
        return lambda: mod(t)
    h = tuple(lib.tensor(a) for a in hx) if isinstance(hx, tuple) else lib.tensor(hx)
    return lambda: mod(t, h)


LAYER_ERRORS = [
    ("LSTM", (10, 20, 2), _arr(5, 3, 5), None),  # input size
    ("LSTM", (10, 20, 2), _arr(5, 3, 10), (_arr(1, 3, 20), _arr(2, 3, 20))),  # h0 shape
    ("LSTM", (10, 20, 2), _arr(5, 3, 10), (_arr(2, 3, 20), _arr(2, 4, 20))),  # c0 shape
    ("LSTM", (10, 20, 1), _arr(5, 3, 10), (_arr(3, 20), _arr(3, 20))),  # 2-D states for a batch
    ("LSTM", (10, 20, 1), _arr(3, 10), (_arr(1, 3, 20), _arr(1, 3, 20))),  # 3-D states unbatched
    ("LSTM", (10, 20), _arr(2, 5, 3, 10), None),  # 4-D input
    ("GRU", (10, 20), _arr(5, 3, 10), _arr(1, 4, 20)),  # hidden shape
    ("GRU", (10, 20), _arr(5, 3, 10), _arr(1, 3, 20, 1)),  # hidden dims
    ("RNN", (10, 20), _arr(5, 10), _arr(2, 1, 20)),  # unbatched, 3-D hidden
    ("RNN", (10, 20), _arr(5, 3, 10).astype(np.float64), None),  # dtype
    ("LSTM", (10, 20, 1, True, False, 0.0, False, 5), _arr(5, 3, 10), (_arr(1, 3, 20), _arr(1, 3, 20))),  # proj
    ("GRU", (10, 20), _arr(5, 3, 10), _arr(1, 3, 20).astype(np.float64)),  # hidden dtype
    ("LSTM", (10, 20), _arr(0, 3, 10), None),  # no steps
]


@pytest.mark.parametrize("case", range(len(LAYER_ERRORS)))
def test_layer_errors(torch, case):
    cls, args, x, hx = LAYER_ERRORS[case]
    tm, mm = _both(torch, cls, *args)
    same_error(_run(torch, tm, x, hx), _run(minitorch, mm, x, hx))


CONSTRUCTION_ERRORS = [
    ("RNN", (3, 4), {"nonlinearity": "sigmoid"}),
    ("LSTM", (3, 4), {"proj_size": 4}),
    ("LSTM", (3, 4), {"proj_size": -1}),
    ("GRU", (3, 4), {"proj_size": 2}),
    ("RNN", (3, 4), {"proj_size": 2}),
    ("LSTM", (3, 4), {"dropout": 1.5}),
    ("LSTM", (3, 0), {}),
    ("GRU", (3, 4), {"num_layers": 0}),
    ("LSTM", (3.0, 4), {}),
]


@pytest.mark.parametrize("case", range(len(CONSTRUCTION_ERRORS)))
def test_construction_errors(torch, case):
    cls, args, kw = CONSTRUCTION_ERRORS[case]
    same_error(lambda: getattr(torch.nn, cls)(*args, **kw), lambda: getattr(nn, cls)(*args, **kw))


def test_dropout_single_layer_warns(torch):
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1, but got dropout=0.5 "
                                         "and num_layers=1"):
        nn.LSTM(3, 4, dropout=0.5)


CELL_ERRORS = [
    ("LSTMCell", _arr(3, 5), None),
    ("LSTMCell", _arr(3, 10), (_arr(4, 20), _arr(3, 20))),
    ("LSTMCell", _arr(3, 10), (_arr(3, 21), _arr(3, 20))),
    ("LSTMCell", _arr(3, 10), (_arr(3, 20), _arr(3, 19))),
    ("LSTMCell", _arr(2, 3, 10), None),
    ("GRUCell", _arr(3, 10), _arr(4, 20)),
    ("RNNCell", _arr(3, 10), _arr(3, 20, 1)),
    ("RNNCell", _arr(10), _arr(3, 20)),
    ("LSTMCell", _arr(3, 10).astype(np.float64), None),
    ("GRUCell", _arr(3, 10), _arr(3, 20).astype(np.float64)),
]


@pytest.mark.parametrize("case", range(len(CELL_ERRORS)))
def test_cell_errors(torch, case):
    cls, x, hx = CELL_ERRORS[case]
    tm, mm = _both(torch, cls, 10, 20)
    same_error(_run(torch, tm, x, hx), _run(minitorch, mm, x, hx))


def test_rnn_cell_unknown_nonlinearity(torch):
    tm, mm = _both(torch, "RNNCell", 3, 4, nonlinearity="gelu")
    x = _arr(2, 3)
    same_error(_run(torch, tm, x), _run(minitorch, mm, x))


def test_pack_errors(torch):
    R = torch.nn.utils.rnn
    x = _arr(5, 3, 2)
    for lengths in ([2, 5, 3], [5, 0, 0], [5, 3]):
        same_error(lambda: R.pack_padded_sequence(torch.tensor(x), lengths),
                   lambda: U.pack_padded_sequence(minitorch.tensor(x), lengths))
    pt = R.pack_padded_sequence(torch.tensor(x), [5, 3, 2])
    pm = U.pack_padded_sequence(minitorch.tensor(x), [5, 3, 2])
    same_error(lambda: R.pad_packed_sequence(pt, total_length=3), lambda: U.pad_packed_sequence(pm, total_length=3))
    a, b = _arr(2, 3), _arr(3, 3)
    same_error(lambda: R.pad_sequence([torch.tensor(a), torch.tensor(b)], padding_side="middle"),
               lambda: U.pad_sequence([minitorch.tensor(a), minitorch.tensor(b)], padding_side="middle"))
    with pytest.raises(RuntimeError, match="longer than the padded input's 5 steps"):
        U.pack_padded_sequence(minitorch.tensor(x), [6, 5, 3])


def test_packed_hidden_shape_error(torch):
    """With a packed input the expected hidden batch is the largest batch size."""
    tm, mm = _both(torch, "GRU", 2, 4)
    x = _arr(3, 2, 2)
    pt = torch.nn.utils.rnn.pack_padded_sequence(torch.tensor(x), [3, 1])
    pm = U.pack_padded_sequence(minitorch.tensor(x), [3, 1])
    h = _arr(1, 3, 4)
    same_error(lambda: tm(pt, torch.tensor(h)), lambda: mm(pm, minitorch.tensor(h)))


@pytest.mark.parametrize("cls", ["RNN", "GRU", "LSTM"])
def test_saturated_and_nan_inputs(torch, cls):
    """Gates driven far into saturation (tanh and sigmoid near +-1 and 0) and NaN inputs give torch's values."""
    tm, mm = pair(torch, cls, {})
    x = RNG.standard_normal((T, B, I)) * 200.0
    x[1, 1, 2] = np.nan
    ot, _ = tm(torch.tensor(x))
    om, _ = mm(minitorch.tensor(x))
    np.testing.assert_allclose(to_np(om), to_np(ot), rtol=1e-12, atol=1e-12)
    assert np.isnan(to_np(om)).sum() == np.isnan(to_np(ot)).sum() > 0


@pytest.mark.parametrize("M", [37, 11])  # split by rows (M > In) and by output features
@pytest.mark.parametrize("threads", [1, 2])
def test_linear_backward_serial_and_split(threads, M):
    """The linear backward kernels, serial and split over threads by rows (per-thread partial weight and bias
    gradients added afterwards), at sizes that do not split evenly, against numpy."""
    from minitorch.kernels.cpu import matmul as MM
    O, In = 101, 23
    rng = np.random.default_rng(M * 10 + threads)  # its own data, whatever ran before it in this worker
    g, x, w = (rng.standard_normal(s) for s in ((M, O), (M, In), (O, In)))
    gx, gw, gb = np.empty((M, In)), np.empty((O, In)), np.empty(O)
    gt = np.empty(threads * MM.linear_scratch(M, In, O, threads))
    MM.linear_backward_flat(g.ravel(), 0, x.ravel(), 0, w.ravel(), 0, False, gx.ravel(), gw.ravel(), gb, M, In, O,
                            True, True, True, gt, threads, gt, 0, 0)
    # partial sums add in another order than numpy's: relative to the terms' size, not to a sum that may cancel
    np.testing.assert_allclose(gx, g @ w, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gw, g.T @ x, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gb, g.sum(0), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("shape", [(300, 100, 80), (40, 400, 150), (120, 200, 100)])  # (M, In, O): rows, columns;
# the last splits by rows when only the bias gradient is needed (then the kernel knows no In) and by columns otherwise
@pytest.mark.parametrize("need", [(True, True, True), (False, True, True), (True, False, False),
                                  (False, False, True), (True, False, True)])
@pytest.mark.parametrize("tw", [False, True])
def test_linear_layer_gradients_for_every_subset_of_needs(shape, need, tw):
    """F.linear's backward at sizes that take the threaded kernels (both splits), for every combination of input,
    weight and bias gradients (frozen weights with a trainable bias among them: the kernel then sees stand-ins for
    the arrays it does not need), with the weight stored as given or transposed, against numpy in float64."""
    M, In, O = shape
    rng = np.random.default_rng(M + 7 * sum(need) + tw)
    x, b, g = rng.standard_normal((M, In)), rng.standard_normal(O), rng.standard_normal((M, O))
    w = rng.standard_normal((In, O)).T if tw else rng.standard_normal((O, In))
    xm = minitorch.tensor(x, requires_grad=need[0])
    base = minitorch.tensor(np.ascontiguousarray(w.T) if tw else w, requires_grad=need[1])
    wm = base.t() if tw else base
    bm = minitorch.tensor(b, requires_grad=need[2])
    y = nn.functional.linear(xm, wm, bm)
    np.testing.assert_allclose(to_np(y), x @ w.T + b, rtol=1e-10, atol=1e-10)
    y.backward(minitorch.tensor(g))
    grads = (xm.grad, base.grad, bm.grad)
    wants = (g @ w, (g.T @ x).T if tw else g.T @ x, g.sum(0))
    for flag, got, want in zip(need, grads, wants):
        if flag:
            np.testing.assert_allclose(to_np(got), want, rtol=1e-10, atol=1e-10)
        else:
            assert got is None


def test_linear_layer_takes_the_feature_split(monkeypatch):
    """A batch of few rows through a large layer splits the output features, to float32 rounding of the product
    (BLAS blocks a narrower GEMM differently, so the last bit may differ from one whole GEMM)."""
    from minitorch.kernels.cpu import matmul as MM
    if minitorch.get_num_threads() < 2:
        pytest.skip("needs two Numba threads")
    calls = []
    real = MM.linear_forward_flat
    monkeypatch.setattr(MM, "linear_forward_flat", lambda *a: (calls.append(a[9:13]), real(*a)))
    lin = nn.Linear(784, 128)
    x = minitorch.randn(64, 784)
    y = lin(x)
    assert calls == [(64, 784, 128, 2)]  # M, In, O and the split: 2, the output features
    want = to_np(x).astype(np.float64) @ to_np(lin.weight).astype(np.float64).T + to_np(lin.bias)
    np.testing.assert_allclose(to_np(y), want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dt", ["float16", "bfloat16"])
def test_half_layers(torch, dt):
    """16-bit layers compute in float32 and round once, as PyTorch's CPU kernels do, within rounding of torch."""
    mm = nn.LSTM(I, H, num_layers=2, dtype=getattr(minitorch, dt))
    tm = torch.nn.LSTM(I, H, num_layers=2, dtype=getattr(torch, dt))
    tm.load_state_dict({k: torch.tensor(to_np(v.float())).to(getattr(torch, dt)) for k, v in mm.state_dict().items()})
    x = RNG.standard_normal((5, B, I))
    xm = minitorch.tensor(x, dtype=getattr(minitorch, dt), requires_grad=True)
    xt = torch.tensor(x, dtype=getattr(torch, dt), requires_grad=True)
    om, _ = mm(xm)
    ot, _ = tm(xt)
    assert om.dtype == getattr(minitorch, dt)
    om.sum().backward()
    ot.sum().backward()
    tol = 1e-2 if dt == "bfloat16" else 1e-3
    np.testing.assert_allclose(to_np(om.float()), ot.float().detach().numpy(), atol=tol)
    np.testing.assert_allclose(to_np(xm.grad.float()), xt.grad.float().numpy(), atol=tol)


def test_bad_weights_and_batch_sizes_raise():
    """A weight replaced by one of the wrong shape, or a hand-made PackedSequence whose batch sizes do not fit its
    data, is an error before any kernel runs (the kernels do no bounds checks)."""
    m = nn.GRU(I, H)
    m.weight_hh_l0 = nn.Parameter(minitorch.randn(3 * H, H + 1))
    with pytest.raises(RuntimeError, match=r"weight_hh of shape \[9, 4\] does not fit the layer"):
        m(minitorch.randn(T, B, I))
    m = nn.LSTM(I, H)
    bad = U.PackedSequence(minitorch.randn(5, I), minitorch.tensor([2, 3]))
    with pytest.raises(RuntimeError, match="do not describe a packed sequence"):
        m(bad)


def test_empty_batch(torch):
    tm, mm = pair(torch, "LSTM", {"num_layers": 2})
    ot, (ht, ct) = tm(torch.zeros(T, 0, I, dtype=torch.float64))
    om, (hm, cm) = mm(minitorch.zeros(T, 0, I, dtype=minitorch.float64))
    for a, b in ((om, ot), (hm, ht), (cm, ct)):
        assert tuple(a.shape) == tuple(b.shape)


@pytest.mark.parametrize("cls,kw", CONFIGS, ids=IDS)
def test_inference_without_grad(torch, device, cls, kw):
    """Under no_grad the layers keep nothing per step (a separate kernel path): same numbers, padded and packed."""
    tm, mm = pair(torch, cls, kw, device)
    x = RNG.standard_normal((4, 3, I))
    hx = _hidden(tm, 3)
    is_lstm = cls == "LSTM"
    with torch.no_grad():
        ht = tuple(torch.tensor(a) for a in hx)
        ot, st = tm(torch.tensor(x), ht if is_lstm else ht[0])
        pt, pst = tm(torch.nn.utils.rnn.pack_padded_sequence(torch.tensor(x), [2, 4, 1], enforce_sorted=False),
                     ht if is_lstm else ht[0])
    with minitorch.no_grad():
        hm = tuple(minitorch.tensor(a, device=device) for a in hx)
        om, sm = mm(minitorch.tensor(x, device=device), hm if is_lstm else hm[0])
        pm, psm = mm(U.pack_padded_sequence(minitorch.tensor(x, device=device), [2, 4, 1], enforce_sorted=False),
                     hm if is_lstm else hm[0])
    close(om, ot)
    close(pm.data, pt.data)
    for a, b in zip(sm if is_lstm else (sm,), st if is_lstm else (st,)):
        close(a, b)
    for a, b in zip(psm if is_lstm else (psm,), pst if is_lstm else (pst,)):
        close(a, b)


def test_kernel_exp_accuracy():
    """The gate kernels' vectorizable exp: relative error < 1e-13 over the range where sigmoid and tanh have not
    saturated, saturating (not overflowing) beyond it, and NaN passing through."""
    from minitorch.kernels.cpu import rnn as K
    xs = np.concatenate([np.linspace(-87, 88, 2001), RNG.uniform(-5, 5, 500)])
    got = np.array([K._exp(float(x)) for x in xs])
    np.testing.assert_allclose(got, np.exp(xs), rtol=1e-13)
    assert 0 < K._exp(-1000.0) < 1e-37 and np.isfinite(K._exp(1000.0)) and K._exp(1000.0) > 1e38
    assert np.isnan(K._exp(float("nan")))
    assert K._sig(float("inf")) == 1.0 and K._sig(-float("inf")) < 1e-38 and K._tanh(-float("inf")) == -1.0


@pytest.mark.parametrize("cls,kw", [("LSTM", {"num_layers": 2}), ("LSTM", {"proj_size": 2, "bidirectional": True}),
                                    ("GRU", {"bidirectional": True}), ("RNN", {"nonlinearity": "relu"}),
                                    ("RNN", {})])
@pytest.mark.parametrize("packed", [False, True])
def test_double_backward_matches_torch(torch, device, cls, kw, packed):
    """create_graph=True through the fused layers (a gradient penalty on the input gradient), as PyTorch's CPU
    layers allow: the first gradients come from a differentiable recomputation of each layer."""
    tm, mm = pair(torch, cls, kw, device)
    x = RNG.standard_normal((4, 3, I))
    lengths = [4, 2, 3]
    res = []
    for lib, mod, dev in ((torch, tm, "cpu"), (minitorch, mm, device)):
        xt = lib.tensor(x, requires_grad=True, device=dev) if lib is minitorch else lib.tensor(x, requires_grad=True)
        inp = lib.nn.utils.rnn.pack_padded_sequence(xt, lengths, enforce_sorted=False) if packed else xt
        out = mod(inp)[0]
        out = lib.nn.utils.rnn.pad_packed_sequence(out)[0] if packed else out
        (gx,) = lib.autograd.grad((out * out.detach().cos()).sum(), xt, create_graph=True)
        (gx * gx).sum().backward()
        res.append((out, gx, xt.grad, [p.grad for p in mod.parameters()]))
    (to, tg, tgg, tp), (mo, mg, mgg, mp) = res
    close(mo, to)
    close(mg, tg)
    for a, b in zip([mgg] + mp, [tgg] + tp):  # None (no second-order path, e.g. through relu) counts as zeros
        if a is None or b is None:
            other = a if b is None else b
            assert other is None or not to_np(other).any()
        else:
            close(a, b)
