"""nn: modules, functional layers and losses against PyTorch (same weights and inputs -> same outputs and grads),
plus Module bookkeeping and user errors."""
import math
from collections import OrderedDict

import numpy as np
import pytest

import minitorch
import minitorch.nn as nn
import minitorch.nn.functional as F

RNG = np.random.default_rng(1234)


def arr(*shape, lo=-2.0, hi=2.0):
    return RNG.uniform(lo, hi, size=shape).astype(np.float32)


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def copy_weights(src_torch_module, dst):
    dst.load_state_dict({k: minitorch.tensor(v.detach().numpy()) for k, v in src_torch_module.state_dict().items()})


def assert_close(a, b, tol=1e-5):
    a = a.detach().cpu().numpy() if hasattr(a, "detach") else np.asarray(a)
    b = b.detach().cpu().numpy() if hasattr(b, "detach") else np.asarray(b)
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


# ---------------------------------------------------------------------------------------------------------------
# layers vs torch: forward and parameter/input gradients
# ---------------------------------------------------------------------------------------------------------------
LINEAR_CASES = [
    # x shape, out features, bias, weight transposed view, x transposed view, dtype, which inputs need grad
    ((5, 7), 3, True, False, False, "float32", (True, True, True)),
    ((64, 784), 128, True, False, False, "float32", (False, True, True)),  # large: split over the threads
    ((64, 300), 200, False, True, False, "float32", (True, True, False)),  # large, W given as a transposed view
    ((96, 256), 100, True, False, True, "float64", (True, False, True)),  # large, x non-contiguous
    ((2, 3, 6), 4, True, True, False, "float64", (True, True, True)),
    ((0, 6), 4, True, False, False, "float32", (True, True, True)),  # empty batch
]


@pytest.mark.torch
@pytest.mark.parametrize("case", LINEAR_CASES)
def test_linear_fused_kernels_match_torch(case, torch):
    xshape, out_f, bias, wt, xt, dt, needs = case
    x = RNG.standard_normal(xshape[::-1] if xt else xshape).astype(dt)
    w = RNG.standard_normal((xshape[-1], out_f) if wt else (out_f, xshape[-1])).astype(dt)
    b = RNG.standard_normal(out_f).astype(dt)
    gy = RNG.standard_normal(xshape[:-1] + (out_f,)).astype(dt)
    results = []
    for lib in (torch, minitorch):
        tx, tw, tb = (lib.tensor(v, requires_grad=r) for v, r in zip((x, w, b), needs))
        ux = tx.t() if xt else tx
        uw = tw.t() if wt else tw
        y = lib.nn.functional.linear(ux, uw, tb if bias else None)
        (y * lib.tensor(gy)).sum().backward()
        results.append([y] + [t.grad for t in (tx, tw, tb)])
    for i, (t, m) in enumerate(zip(*results)):
        if t is None or (i == 3 and not bias):
            assert m is None
            continue
        tol = 1e-4 if dt == "float32" else 1e-10
        np.testing.assert_allclose(m.detach().numpy(), t.detach().numpy(), rtol=tol, atol=tol)


LAYERS = [
    ("Linear", lambda m: m.Linear(6, 4), (3, 6)),
    ("Linear_nobias_3d", lambda m: m.Linear(6, 4, bias=False), (2, 3, 6)),
    ("ReLU", lambda m: m.ReLU(), (4, 5)),
    ("LeakyReLU", lambda m: m.LeakyReLU(0.2), (4, 5)),
    ("ELU", lambda m: m.ELU(0.7), (4, 5)),
    ("GELU", lambda m: m.GELU(), (4, 5)),
    ("GELU_tanh", lambda m: m.GELU(approximate="tanh"), (4, 5)),
    ("SiLU", lambda m: m.SiLU(), (4, 5)),
    ("Sigmoid", lambda m: m.Sigmoid(), (4, 5)),
    ("Tanh", lambda m: m.Tanh(), (4, 5)),
    ("Softmax", lambda m: m.Softmax(dim=1), (4, 5)),
    ("Softmax_dim0", lambda m: m.Softmax(dim=0), (4, 5)),
    ("LogSoftmax", lambda m: m.LogSoftmax(dim=-1), (2, 4, 5)),
    ("Flatten", lambda m: m.Flatten(), (2, 3, 4)),
    ("Unflatten", lambda m: m.Unflatten(1, (2, 3)), (4, 6)),
    ("Identity", lambda m: m.Identity(), (4, 5)),
    ("LayerNorm", lambda m: m.LayerNorm(5), (3, 5)),
    ("LayerNorm_2d", lambda m: m.LayerNorm((4, 5)), (3, 4, 5)),
    ("BatchNorm1d", lambda m: m.BatchNorm1d(5), (8, 5)),
    ("BatchNorm1d_3d", lambda m: m.BatchNorm1d(3), (4, 3, 6)),
    ("BatchNorm2d", lambda m: m.BatchNorm2d(3), (4, 3, 5, 6)),
    ("BatchNorm2d_noaffine", lambda m: m.BatchNorm2d(2, affine=False, momentum=None), (3, 2, 4, 4)),
    ("Upsample_nearest", lambda m: m.Upsample(scale_factor=2), (2, 3, 4, 5)),
    ("Upsample_bilinear", lambda m: m.Upsample(size=(7, 3), mode="bilinear"), (2, 3, 4, 5)),
    ("Sequential", lambda m: m.Sequential(m.Linear(6, 8), m.ReLU(), m.Linear(8, 3)), (5, 6)),
    # the layers of the nn/optim issue, one row each (their own test files cover the options)
    ("ConvTranspose1d", lambda m: m.ConvTranspose1d(3, 2, 3, stride=2, padding=1, output_padding=1), (2, 3, 5)),
    ("ConvTranspose2d", lambda m: m.ConvTranspose2d(4, 2, 4, stride=2, padding=1, groups=2), (2, 4, 3, 3)),
    ("Conv3d", lambda m: m.Conv3d(2, 3, 2, padding=1), (2, 2, 3, 3, 3)),
    ("MaxPool3d", lambda m: m.MaxPool3d(2), (2, 2, 4, 4, 4)),
    ("AvgPool3d", lambda m: m.AvgPool3d(2, stride=1, padding=1), (1, 2, 3, 3, 3)),
    ("AdaptiveAvgPool1d", lambda m: m.AdaptiveAvgPool1d(3), (2, 3, 7)),
    ("AdaptiveAvgPool3d", lambda m: m.AdaptiveAvgPool3d((2, 3, 2)), (1, 2, 5, 6, 4)),
    ("AdaptiveMaxPool1d", lambda m: m.AdaptiveMaxPool1d(3), (2, 3, 7)),
    ("LPPool2d", lambda m: m.LPPool2d(2, 2), (2, 3, 4, 4)),
    ("BatchNorm3d", lambda m: m.BatchNorm3d(2), (3, 2, 2, 3, 3)),
    ("InstanceNorm1d_affine", lambda m: m.InstanceNorm1d(3, affine=True), (2, 3, 6)),
    ("InstanceNorm2d", lambda m: m.InstanceNorm2d(3, track_running_stats=True), (2, 3, 4, 4)),
    ("LocalResponseNorm", lambda m: m.LocalResponseNorm(3), (2, 5, 3, 3)),
    ("RMSNorm", lambda m: m.RMSNorm(5), (3, 5)),
    ("PixelShuffle", lambda m: m.PixelShuffle(2), (2, 8, 3, 3)),
    ("PixelUnshuffle", lambda m: m.PixelUnshuffle(2), (2, 2, 4, 4)),
    ("ChannelShuffle", lambda m: m.ChannelShuffle(2), (2, 4, 3, 3)),
    ("Unfold", lambda m: m.Unfold(2, padding=1), (2, 3, 4, 4)),
    ("Fold", lambda m: m.Fold((4, 5), 2), (2, 12, 12)),
    ("ReflectionPad2d", lambda m: m.ReflectionPad2d((1, 2, 2, 1)), (2, 3, 4, 4)),
    ("ReplicationPad1d", lambda m: m.ReplicationPad1d(2), (2, 3, 4)),
    ("CircularPad2d", lambda m: m.CircularPad2d(1), (2, 3, 4, 4)),
    ("ZeroPad2d", lambda m: m.ZeroPad2d((1, 0, 2, 1)), (2, 3, 4, 4)),
    ("PReLU", lambda m: m.PReLU(3), (2, 3, 4)),
    ("Hardswish", lambda m: m.Hardswish(), (4, 5)),
    ("Hardsigmoid", lambda m: m.Hardsigmoid(), (4, 5)),
    ("CELU", lambda m: m.CELU(0.5), (4, 5)),
    ("LogSigmoid", lambda m: m.LogSigmoid(), (4, 5)),
    ("Softshrink", lambda m: m.Softshrink(0.3), (4, 5)),
    ("Softmax2d", lambda m: m.Softmax2d(), (2, 3, 2, 2)),
]


@pytest.mark.torch
@pytest.mark.parametrize("name, make, shape", LAYERS, ids=[x[0] for x in LAYERS])
def test_layer_matches_torch(name, make, shape, torch, device):
    tm = make(torch.nn)
    mm = make(nn)
    copy_weights(tm, mm)
    mm.to(device)
    x = arr(*shape)
    tx = torch.tensor(x, requires_grad=True)
    mx = minitorch.tensor(x, requires_grad=True, device=device)
    ty, my = tm(tx), mm(mx)
    w = arr(*ty.shape)  # a random output gradient
    assert tuple(my.shape) == tuple(ty.shape) and my.device.type == device
    assert_close(my, ty)
    (ty * torch.tensor(w)).sum().backward()
    (my * minitorch.tensor(w, device=device)).sum().backward()
    assert_close(mx.grad, tx.grad)
    for (tn, tp), (mn, mp) in zip(tm.named_parameters(), mm.named_parameters()):
        assert tn == mn
        assert_close(mp.grad, tp.grad)
    for (tn, tb), (mn, mb) in zip(tm.named_buffers(), mm.named_buffers()):
        assert tn == mn
        assert_close(mb, tb)


@pytest.mark.torch
def test_batchnorm_eval_and_momentum_none(torch):
    for momentum in (0.1, None):
        tm, mm = torch.nn.BatchNorm1d(3, momentum=momentum), nn.BatchNorm1d(3, momentum=momentum)
        for _ in range(3):
            x = arr(6, 3)
            assert_close(mm(minitorch.tensor(x)), tm(torch.tensor(x)))
        assert_close(mm.running_mean, tm.running_mean)
        assert_close(mm.running_var, tm.running_var)
        assert int(mm.num_batches_tracked) == 3
        tm.eval()
        mm.eval()
        x = arr(4, 3)
        assert_close(mm(minitorch.tensor(x)), tm(torch.tensor(x)))


def test_dropout_train_and_eval():
    minitorch.manual_seed(0)
    d = nn.Dropout(0.25)
    x = minitorch.ones(10000)
    y = d(x)
    kept = y != 0
    frac = float(kept.float().mean())
    assert abs(frac - 0.75) < 0.03
    assert minitorch.allclose(y[kept], minitorch.full((int(kept.sum()),), 1 / 0.75))
    d.eval()
    assert minitorch.equal(d(x), x)


@pytest.mark.torch
def test_embedding_matches_torch(torch):
    tm = torch.nn.Embedding(7, 3, padding_idx=1)
    mm = nn.Embedding(7, 3, padding_idx=1)
    copy_weights(tm, mm)
    idx = np.array([[0, 1, 6], [1, 3, 3]])
    ty, my = tm(torch.tensor(idx)), mm(minitorch.tensor(idx))
    assert_close(my, ty)
    w = arr(2, 3, 3)
    (ty * torch.tensor(w)).sum().backward()
    (my * minitorch.tensor(w)).sum().backward()
    assert_close(mm.weight.grad, tm.weight.grad)
    assert float(mm.weight.grad[1].abs().sum()) == 0.0


def test_default_init_bounds():
    minitorch.manual_seed(3)
    lin = nn.Linear(100, 50)
    bound = 1 / math.sqrt(100)  # kaiming_uniform(a=sqrt(5)) gives the same bound as the bias
    w = lin.weight.detach().numpy()
    assert w.shape == (50, 100) and np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert np.abs(lin.bias.detach().numpy()).max() <= bound
    emb = nn.Embedding(1000, 8)
    assert abs(float(emb.weight.std()) - 1.0) < 0.05


def test_init_functions():
    t = minitorch.empty(64, 32)
    nn.init.xavier_uniform_(t)
    a = math.sqrt(6 / (64 + 32))
    assert float(t.abs().max()) <= a
    nn.init.kaiming_normal_(t, nonlinearity="relu")
    assert abs(float(t.std()) - math.sqrt(2 / 32)) < 0.03
    nn.init.constant_(t, 0.5)
    assert float(t.min()) == 0.5 == float(t.max())
    nn.init.zeros_(t)
    assert float(t.abs().sum()) == 0
    assert nn.init.calculate_gain("tanh") == pytest.approx(5 / 3)
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        nn.init.calculate_gain("foo")
    with pytest.raises(ValueError, match="Fan in and fan out can not be computed"):
        nn.init.xavier_uniform_(minitorch.empty(3))


# ---------------------------------------------------------------------------------------------------------------
# losses vs torch
# ---------------------------------------------------------------------------------------------------------------
def _ce_cases():
    w = arr(5, lo=0.1, hi=1.0)
    return [
        ("plain", {}),
        ("sum", {"reduction": "sum"}),
        ("none", {"reduction": "none"}),
        ("weight", {"weight": w}),
        ("ignore", {"ignore_index": 2}),
        ("smoothing", {"label_smoothing": 0.2}),
        ("smoothing_weight_ignore", {"label_smoothing": 0.1, "weight": w, "ignore_index": 0}),
    ]


@pytest.mark.torch
@pytest.mark.parametrize("case, kw", _ce_cases(), ids=[c[0] for c in _ce_cases()])
@pytest.mark.parametrize("spatial", [False, True])
def test_cross_entropy_and_nll_match_torch(case, kw, spatial, torch, device):
    shape, tshape = ((4, 5, 3), (4, 3)) if spatial else ((6, 5), (6,))
    x = arr(*shape)
    t = RNG.integers(0, 5, size=tshape)
    tkw = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
    mkw = {k: minitorch.tensor(v, device=device) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
    tx, mx = torch.tensor(x, requires_grad=True), minitorch.tensor(x, requires_grad=True, device=device)
    tl = torch.nn.functional.cross_entropy(tx, torch.tensor(t), **tkw)
    ml = F.cross_entropy(mx, minitorch.tensor(t, device=device), **mkw)
    assert_close(ml, tl)
    tl.sum().backward()
    ml.sum().backward()
    assert_close(mx.grad, tx.grad)
    if "label_smoothing" not in kw:
        tn = torch.nn.functional.nll_loss(torch.log_softmax(torch.tensor(x), 1), torch.tensor(t), **tkw)
        logp = F.log_softmax(minitorch.tensor(x, device=device), 1)
        mn = F.nll_loss(logp, minitorch.tensor(t, device=device), **mkw)
        assert_close(mn, tn)


@pytest.mark.torch
def test_cross_entropy_probability_targets(torch):
    x = arr(4, 3)
    p = RNG.dirichlet(np.ones(3), size=4).astype(np.float32)
    for kw in ({}, {"label_smoothing": 0.3}, {"reduction": "none"}):
        tl = torch.nn.functional.cross_entropy(torch.tensor(x), torch.tensor(p), **kw)
        ml = F.cross_entropy(minitorch.tensor(x), minitorch.tensor(p), **kw)
        assert_close(ml, tl)


@pytest.mark.torch
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_regression_and_binary_losses_match_torch(reduction, torch, device):
    x, y = arr(5, 3), arr(5, 3)
    prob, target = arr(5, 3, lo=0.05, hi=0.95), (arr(5, 3) > 0).astype(np.float32)
    pw = arr(3, lo=0.5, hi=2.0)
    cases = [
        ("mse_loss", (x, y), {}),
        ("l1_loss", (x, y), {}),
        ("smooth_l1_loss", (x, y), {"beta": 0.5}),
        ("huber_loss", (x, y), {"delta": 0.7}),
        ("binary_cross_entropy", (prob, target), {}),
        ("binary_cross_entropy_with_logits", (x, target), {}),
        ("binary_cross_entropy_with_logits", (x, target), {"pos_weight": pw}),
    ]
    for name, (a, b), kw in cases:
        tkw = {k: torch.tensor(v) for k, v in kw.items() if isinstance(v, np.ndarray)}
        tkw.update({k: v for k, v in kw.items() if not isinstance(v, np.ndarray)})
        mkw = {k: minitorch.tensor(v, device=device) for k, v in kw.items() if isinstance(v, np.ndarray)}
        mkw.update({k: v for k, v in kw.items() if not isinstance(v, np.ndarray)})
        ta, ma = torch.tensor(a, requires_grad=True), minitorch.tensor(a, requires_grad=True, device=device)
        tl = getattr(torch.nn.functional, name)(ta, torch.tensor(b), reduction=reduction, **tkw)
        ml = getattr(F, name)(ma, minitorch.tensor(b, device=device), reduction=reduction, **mkw)
        assert_close(ml, tl)
        tl.sum().backward()
        ml.sum().backward()
        assert_close(ma.grad, ta.grad, tol=1e-4)


@pytest.mark.torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("n", [1, 4099, 70001])
def test_mse_loss_is_one_pass_with_torch_values_and_gradients(n, dtype, torch, monkeypatch):
    """mse_loss of same-shape contiguous tensors runs one kernel (launch.sq_diff_sum, threaded from launch.N_PAR
    elements): PyTorch's value, both gradients, and second derivatives through create_graph."""
    from minitorch.ops import launch
    calls = []
    fused = launch.sq_diff_sum
    monkeypatch.setattr(launch, "sq_diff_sum", lambda *a: calls.append(a) or fused(*a))
    a, b = RNG.standard_normal((2, n)).astype(dtype)
    tol = 2e-6 if dtype == "float32" else 1e-12
    for reduction in ("mean", "sum"):
        ma, mb = minitorch.tensor(a, requires_grad=True), minitorch.tensor(b, requires_grad=True)
        ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
        ml = F.mse_loss(ma, mb, reduction=reduction)
        tl = torch.nn.functional.mse_loss(ta, tb, reduction=reduction)
        assert ml.dtype == getattr(minitorch, dtype) and ml.shape == ()
        np.testing.assert_allclose(ml.item(), tl.item(), rtol=tol)
        got = minitorch.autograd.grad(ml * 3, [ma, mb], create_graph=True)
        want = torch.autograd.grad(tl * 3, [ta, tb], create_graph=True)
        for g, w in zip(got, want):
            np.testing.assert_allclose(g.detach().numpy(), w.detach().numpy(), rtol=tol, atol=tol * 1e-3)
        (gg,) = minitorch.autograd.grad((got[0] * got[1]).sum(), [ma])
        (tgg,) = torch.autograd.grad((want[0] * want[1]).sum(), [ta])
        np.testing.assert_allclose(gg.numpy(), tgg.numpy(), rtol=tol, atol=tol * 1e-3)
    assert len(calls) == 2


@pytest.mark.torch
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss"])
def test_weighted_regression_losses_match_torch(name, torch):
    """``weight`` scales each element's loss; 'mean' divides by the weights' sum for mse/l1 and by the count for
    huber, as PyTorch does; a weight of another shape is a ValueError."""
    x, y, w = arr(4, 5), arr(4, 5), arr(4, 5, lo=0.1, hi=2.0)
    for reduction in ("mean", "sum", "none"):
        mx, tx = minitorch.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        ml = getattr(F, name)(mx, minitorch.tensor(y), reduction=reduction, weight=minitorch.tensor(w))
        tl = getattr(torch.nn.functional, name)(tx, torch.tensor(y), reduction=reduction, weight=torch.tensor(w))
        assert_close(ml, tl)
        ml.sum().backward()
        tl.sum().backward()
        assert_close(mx.grad, tx.grad)
    for lib, mod in ((minitorch, F), (torch, torch.nn.functional)):
        with pytest.raises(ValueError, match="Weights and input must have the same size"):
            getattr(mod, name)(lib.ones(4, 5), lib.zeros(4, 5), weight=lib.ones(5))


def test_bce_with_logits_is_stable_for_large_logits():
    x = minitorch.tensor([100.0, -100.0, 50.0])
    y = minitorch.tensor([1.0, 0.0, 0.0])
    loss = F.binary_cross_entropy_with_logits(x, y, reduction="none")
    np.testing.assert_allclose(loss.numpy(), [0.0, 0.0, 50.0], atol=1e-6)


def test_loss_modules_forward_to_functional():
    x, t = minitorch.randn(4, 3), minitorch.tensor([0, 2, 1, 1])
    assert float(nn.CrossEntropyLoss()(x, t)) == pytest.approx(float(F.cross_entropy(x, t)))
    assert float(nn.NLLLoss(reduction="sum")(x, t)) == pytest.approx(float(F.nll_loss(x, t, reduction="sum")))
    assert float(nn.MSELoss()(x, x * 2)) == pytest.approx(float(((x - 2 * x) ** 2).mean()), rel=1e-6)


# ---------------------------------------------------------------------------------------------------------------
# functional odds and ends
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.torch
def test_functional_misc_match_torch(torch):
    x = arr(2, 3, 4)
    tx, mx = torch.tensor(x), minitorch.tensor(x)
    TF = torch.nn.functional
    assert_close(F.normalize(mx, dim=1), TF.normalize(tx, dim=1))
    assert_close(F.softplus(mx), TF.softplus(tx))
    for pads in [(1, 2), (1, 0, 2, 1), (0, -1)]:
        assert_close(F.pad(mx, pads, value=0.5), TF.pad(tx, pads, value=0.5))
    for mode in ("reflect", "replicate", "circular"):
        assert_close(F.pad(mx, (1, 2), mode=mode), TF.pad(tx, (1, 2), mode=mode))
    t = np.array([0, 3, 1])
    assert minitorch.equal(F.one_hot(minitorch.tensor(t), 5), minitorch.tensor(TF.one_hot(torch.tensor(t), 5).numpy()))
    assert F.one_hot(minitorch.tensor(t)).shape == (3, 4)


def test_pad_gradient_is_the_cropped_gradient():
    x = minitorch.randn(2, 3, requires_grad=True)
    F.pad(x, (1, 1, 2, 0)).sum().backward()
    assert minitorch.equal(x.grad, minitorch.ones(2, 3))


@pytest.mark.torch
def test_batchnorm2d_running_stats_and_eval(torch):
    tm, mm = torch.nn.BatchNorm2d(3, momentum=0.3), nn.BatchNorm2d(3, momentum=0.3)
    for _ in range(3):
        x = arr(5, 3, 4, 4)
        assert_close(mm(minitorch.tensor(x)), tm(torch.tensor(x)))
    assert_close(mm.running_mean, tm.running_mean)
    assert_close(mm.running_var, tm.running_var)
    tm.eval()
    mm.eval()
    x = arr(2, 3, 4, 4)
    tx, mx = torch.tensor(x, requires_grad=True), minitorch.tensor(x, requires_grad=True)
    ty, my = tm(tx), mm(mx)
    assert_close(my, ty)
    g = arr(2, 3, 4, 4)
    (ty * torch.tensor(g)).sum().backward()
    (my * minitorch.tensor(g)).sum().backward()
    assert_close(mx.grad, tx.grad)
    assert_close(mm.weight.grad, tm.weight.grad)
    with pytest.raises(ValueError, match="expected 4D input"):
        mm(minitorch.randn(2, 3, 4))


INTERP_CASES = [
    ((2, 3, 5), dict(scale_factor=2)),
    ((2, 3, 5), dict(size=3, mode="nearest-exact")),
    ((1, 2, 4, 6), dict(size=(3, 9))),
    ((1, 2, 4, 6), dict(scale_factor=(1.5, 0.5))),
    ((1, 2, 4, 6), dict(scale_factor=1.7, recompute_scale_factor=True, mode="nearest-exact")),
    ((2, 3, 5), dict(size=8, mode="linear")),
    ((2, 3, 5), dict(scale_factor=0.6, mode="linear", align_corners=True)),
    ((1, 2, 4, 6), dict(size=(7, 4), mode="bilinear")),
    ((1, 2, 4, 6), dict(scale_factor=2.5, mode="bilinear")),
    ((1, 2, 4, 6), dict(size=(1, 5), mode="bilinear", align_corners=True)),
]


@pytest.mark.torch
@pytest.mark.parametrize("shape, kw", INTERP_CASES)
def test_interpolate_matches_torch(shape, kw, torch):
    x = arr(*shape)
    tx, mx = torch.tensor(x, requires_grad=True), minitorch.tensor(x, requires_grad=True)
    ty = torch.nn.functional.interpolate(tx, **kw)
    my = F.interpolate(mx, **kw)
    assert tuple(my.shape) == tuple(ty.shape)
    assert_close(my, ty)
    g = arr(*ty.shape)
    (ty * torch.tensor(g)).sum().backward()
    (my * minitorch.tensor(g)).sum().backward()
    assert_close(mx.grad, tx.grad)


def test_interpolate_user_errors():
    x = minitorch.randn(1, 1, 4, 4)
    with pytest.raises(ValueError, match="either size or scale_factor should be defined"):
        F.interpolate(x)
    with pytest.raises(ValueError, match="only one of size or scale_factor should be defined"):
        F.interpolate(x, size=2, scale_factor=2)
    with pytest.raises(ValueError, match="same number of spatial dimensions"):
        F.interpolate(x, size=(2,))
    with pytest.raises(ValueError, match="align_corners option can only be set"):
        F.interpolate(x, scale_factor=2, align_corners=True)
    with pytest.raises(NotImplementedError, match="linear mode needs 3D input"):
        F.interpolate(x, scale_factor=2, mode="linear")
    with pytest.raises(NotImplementedError, match="Only 3D, 4D and 5D input"):
        F.interpolate(x, scale_factor=2, mode="foo")
    with pytest.raises(ValueError, match="Anti-alias option is restricted"):
        F.interpolate(x, scale_factor=2, mode="nearest", antialias=True)


def test_layer_norm_and_batch_norm_shape_errors():
    with pytest.raises(RuntimeError, match="Given normalized_shape"):
        F.layer_norm(minitorch.randn(3, 4), (5,))
    with pytest.raises(ValueError, match="expected 2D or 3D input"):
        nn.BatchNorm1d(3)(minitorch.randn(2, 3, 4, 5))
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        nn.BatchNorm1d(3)(minitorch.randn(1, 3))


# ---------------------------------------------------------------------------------------------------------------
# Module bookkeeping
# ---------------------------------------------------------------------------------------------------------------
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 3)
        self.block = nn.Sequential(OrderedDict([("act", nn.ReLU()), ("fc", nn.Linear(3, 2))]))
        self.scale = nn.Parameter(minitorch.ones(1))
        self.register_buffer("steps", minitorch.zeros(1))
        self.register_buffer("scratch", minitorch.zeros(2), persistent=False)

    def forward(self, x):
        return self.block(self.fc1(x)) * self.scale


def test_registration_and_traversal():
    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == ["scale", "fc1.weight", "fc1.bias", "block.fc.weight", "block.fc.bias"] or \
        set(names) == {"scale", "fc1.weight", "fc1.bias", "block.fc.weight", "block.fc.bias"}
    assert [n for n, _ in net.named_buffers()] == ["steps", "scratch"]
    assert list(net.state_dict().keys()) == ["scale", "steps", "fc1.weight", "fc1.bias", "block.fc.weight",
                                             "block.fc.bias"]
    assert [n for n, _ in net.named_children()] == ["fc1", "block"]
    assert len(list(net.modules())) == 5
    assert net.get_submodule("block.fc") is net.block.fc
    assert isinstance(net.fc1.weight, nn.Parameter) and net.fc1.weight.requires_grad


def test_train_eval_apply_zero_grad():
    net = Net()
    net.eval()
    assert not net.training and not net.block.act.training
    net.train()
    assert net.block.fc.training
    net(minitorch.randn(2, 4)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    seen = []
    net.apply(lambda m: seen.append(type(m).__name__))
    assert seen[-1] == "Net" and "Linear" in seen


def test_state_dict_round_trip_and_errors():
    a, b = Net(), Net()
    b.load_state_dict(a.state_dict())
    x = minitorch.randn(3, 4)
    assert minitorch.allclose(a(x), b(x))
    sd = a.state_dict()
    del sd["fc1.bias"]
    with pytest.raises(RuntimeError, match=r'Missing key\(s\) in state_dict: "fc1.bias"'):
        b.load_state_dict(sd)
    res = b.load_state_dict(sd, strict=False)
    assert res.missing_keys == ["fc1.bias"] and res.unexpected_keys == []
    sd = a.state_dict()
    sd["extra"] = minitorch.zeros(1)
    with pytest.raises(RuntimeError, match=r'Unexpected key\(s\) in state_dict: "extra"'):
        b.load_state_dict(sd)
    sd = a.state_dict()
    sd["fc1.weight"] = minitorch.zeros(5, 4)
    with pytest.raises(RuntimeError, match="size mismatch for fc1.weight"):
        b.load_state_dict(sd)


def test_repr_matches_pytorch_layout():
    m = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Dropout(0.2), nn.Linear(128, 10))
    assert repr(m) == ("Sequential(\n"
                       "  (0): Linear(in_features=784, out_features=128, bias=True)\n"
                       "  (1): ReLU()\n"
                       "  (2): Dropout(p=0.2, inplace=False)\n"
                       "  (3): Linear(in_features=128, out_features=10, bias=True)\n"
                       ")")


def test_to_dtype_keeps_parameter_objects():
    lin = nn.Linear(3, 2)
    w = lin.weight
    lin.double()
    assert lin.weight is w and w.dtype == minitorch.float64
    assert lin(minitorch.randn(4, 3, dtype=minitorch.float64)).dtype == minitorch.float64
    lin.to(minitorch.float32)
    assert w.dtype == minitorch.float32
    assert lin.to("cpu") is lin


def test_containers():
    ml = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    assert len(ml) == 3 and len(list(ml.parameters())) == 6
    ml.append(nn.ReLU())
    assert isinstance(ml[-1], nn.ReLU)
    md = nn.ModuleDict({"a": nn.Linear(2, 3), "b": nn.ReLU()})
    assert list(md.keys()) == ["a", "b"] and len(list(md.parameters())) == 2
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert isinstance(seq[1], nn.ReLU) and len(seq[:2]) == 2
    with pytest.raises(IndexError, match="index 5 is out of range"):
        seq[5]


def test_module_assignment_errors():
    net = Net()
    with pytest.raises(TypeError, match="cannot assign 'Tensor' as parameter 'scale'"):
        net.scale = minitorch.ones(1)
    with pytest.raises(KeyError, match="attribute 'fc1' already exists"):
        net.register_buffer("fc1", minitorch.zeros(1))
    with pytest.raises(NotImplementedError, match='missing the required "forward" function'):
        nn.Module()(1)

    class Early(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(minitorch.ones(1))
    with pytest.raises(AttributeError, match="before Module.__init__"):
        Early()


def test_a_replaced_parameter_keeps_its_place_in_the_module():
    # parameters(), state_dict() and an optimizer made afterwards keep their order (was: moved to the end)
    m = nn.Linear(2, 2)
    w = nn.Parameter(minitorch.ones(2, 2))
    m.weight = w
    assert list(m.state_dict()) == ["weight", "bias"] and next(m.parameters()) is w
    m.bias = None
    m.bias = nn.Parameter(minitorch.zeros(2))
    assert [n for n, _ in m.named_parameters()] == ["weight", "bias"]


def test_clip_grad_and_vector_utils(torch):
    tp = [torch.nn.Parameter(torch.tensor(arr(3, 2))) for _ in range(2)]
    mp = [nn.Parameter(minitorch.tensor(p.detach().numpy())) for p in tp]
    g = [arr(3, 2) * 5 for _ in range(2)]
    for p, q, gg in zip(tp, mp, g):
        p.grad = torch.tensor(gg)
        q.grad = minitorch.tensor(gg)
    tn = torch.nn.utils.clip_grad_norm_(tp, 1.0)
    mn = nn.utils.clip_grad_norm_(mp, 1.0)
    assert_close(mn, tn)
    for p, q in zip(tp, mp):
        assert_close(q.grad, p.grad)
    nn.utils.clip_grad_value_(mp, 0.01)
    assert float(max(q.grad.abs().max() for q in mp)) <= 0.01 + 1e-9
    v = nn.utils.parameters_to_vector(mp)
    assert v.shape == (12,)
    nn.utils.vector_to_parameters(v * 0 + 2, mp)
    assert all(float(q.min()) == 2.0 for q in mp)


def test_data_parallel_wraps_module():
    net = Net()
    dp = nn.DataParallel(net)
    x = minitorch.randn(2, 4)
    assert minitorch.allclose(dp(x), net(x))
    assert all(k.startswith("module.") for k in dp.state_dict())


def test_user_errors():
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied \(2x5 and 4x3\)"):
        nn.Linear(4, 3)(minitorch.randn(2, 5))
    with pytest.raises(IndexError, match="Target 7 is out of bounds"):
        F.cross_entropy(minitorch.randn(2, 5), minitorch.tensor([1, 7]))
    with pytest.raises(ValueError, match="is not a valid value for reduction"):
        F.mse_loss(minitorch.randn(2), minitorch.randn(2), reduction="avg")
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
        nn.Dropout(1.5)
    with pytest.raises(ValueError, match=r"Expected input batch_size \(3\) to match target batch_size \(2\)"):
        F.nll_loss(minitorch.randn(3, 4), minitorch.tensor([0, 1]))
    with pytest.raises(IndexError, match="index out of range in self"):
        nn.Embedding(3, 2)(minitorch.tensor([3]))
    with pytest.raises(RuntimeError, match="all elements of input should be between 0 and 1"):
        F.binary_cross_entropy(minitorch.tensor([1.5]), minitorch.tensor([1.0]))
    with pytest.raises(RuntimeError, match="Class values must be smaller than num_classes"):
        F.one_hot(minitorch.tensor([3]), 3)


def test_mlp_loss_falls():
    minitorch.manual_seed(0)
    x = minitorch.randn(128, 10)
    y = (x[:, 0] > 0).long() + (x[:, 1] > 0).long()
    model = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 3))
    first = None
    for _ in range(60):
        loss = F.cross_entropy(model(x), y)
        model.zero_grad()
        loss.backward()
        with minitorch.no_grad():
            for p in model.parameters():
                p -= 0.5 * p.grad
        first = first if first is not None else float(loss)
    assert float(loss) < 0.5 * first


@pytest.mark.torch
@pytest.mark.parametrize("size_average, reduce", [(False, None), (None, False), (True, True), (False, True)])
def test_legacy_reduction_flags_of_the_classic_losses(size_average, reduce, torch):
    x, y = arr(4, 3), arr(4, 3, lo=0.1, hi=0.9)
    cls = np.array([0, 2, 1, 2])
    cases = [("mse_loss", (x, y)), ("l1_loss", (x, y)), ("smooth_l1_loss", (x, y)), ("kl_div", (x, y)),
             ("binary_cross_entropy", (y, y[::-1].copy())), ("binary_cross_entropy_with_logits", (x, y)),
             ("nll_loss", (x, cls)), ("cross_entropy", (x, cls))]
    for name, (a, b) in cases:
        kw = {"size_average": size_average, "reduce": reduce}
        with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
            got = getattr(F, name)(minitorch.tensor(a), minitorch.tensor(b), **kw)
        with pytest.warns(UserWarning):
            want = getattr(torch.nn.functional, name)(torch.tensor(a), torch.tensor(b), **kw)
        assert_close(got, want)
    with pytest.warns(UserWarning, match="please use reduction='sum' instead"):
        assert nn.MSELoss(size_average=False).reduction == "sum"
