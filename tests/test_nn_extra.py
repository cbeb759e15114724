"""Activations, distances, embedding bags and dropout variants against PyTorch: forward, gradients, errors."""
import numpy as np
import pytest

import minitorch
import minitorch.nn as nn
import minitorch.nn.functional as F

RNG = np.random.default_rng(7)


def arr(*shape, lo=-2.0, hi=2.0):
    return RNG.uniform(lo, hi, size=shape)


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def close(m, t, tol=1e-5):
    np.testing.assert_allclose(m.detach().cpu().numpy(), t.detach().numpy(), rtol=tol, atol=tol)


def run_both(torch, device, fn_m, fn_t, *arrays, grad=True):
    """Apply fn to the same float64 arrays in both libraries; compare outputs and input gradients."""
    ts = [torch.tensor(a, requires_grad=grad) for a in arrays]
    ms = [minitorch.tensor(a, requires_grad=grad, device=device) for a in arrays]
    ty, my = fn_t(*ts), fn_m(*ms)
    assert tuple(my.shape) == tuple(ty.shape)
    close(my, ty)
    if grad:
        w = arr(*ty.shape)
        (ty * torch.tensor(w)).sum().backward()
        (my * minitorch.tensor(w, device=device)).sum().backward()
        for m, t in zip(ms, ts):
            close(m.grad, t.grad)


# ---------------------------------------------------------------------------------------------------------------
# activations: modules and functional forms
# ---------------------------------------------------------------------------------------------------------------
ACTIVATIONS = [
    ("Hardswish", lambda m: m.Hardswish()),
    ("Hardsigmoid", lambda m: m.Hardsigmoid()),
    ("Softsign", lambda m: m.Softsign()),
    ("Tanhshrink", lambda m: m.Tanhshrink()),
    ("Threshold", lambda m: m.Threshold(0.3, -2.0)),
    ("CELU", lambda m: m.CELU(0.7)),
    ("LogSigmoid", lambda m: m.LogSigmoid()),
    ("Hardshrink", lambda m: m.Hardshrink(0.4)),
    ("Softshrink", lambda m: m.Softshrink(0.4)),
    ("RReLU_eval", lambda m: m.RReLU(0.1, 0.3).eval()),
    ("Softmax2d", lambda m: m.Softmax2d()),
    ("SELU", lambda m: m.SELU()),
]


@pytest.mark.torch
@pytest.mark.parametrize("name, make", ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
def test_activation_modules_match_torch(name, make, torch, device):
    x = arr(2, 3, 4, 5, lo=-4.0, hi=4.0)
    x[np.abs(np.abs(x) - 3.0) < 1e-2] = 1.0  # keep off hardswish/hardsigmoid kinks
    x[np.abs(np.abs(x) - 0.4) < 1e-2] = 1.0
    x[np.abs(x - 0.3) < 1e-2] = 1.0
    tm, mm = make(torch.nn), make(nn)
    assert repr(mm) == repr(tm)
    run_both(torch, device, mm, tm, x)


@pytest.mark.torch
@pytest.mark.parametrize("name, make", [("PReLU_shared", lambda m: m.PReLU()),
                                        ("PReLU_channels", lambda m: m.PReLU(3, init=0.1))])
def test_prelu_matches_torch_and_learns_its_slope(name, make, torch, device):
    tm, mm = make(torch.nn), make(nn)
    mm.to(device)
    assert repr(mm) == repr(tm)
    x = arr(2, 3, 4)
    tx, mx = torch.tensor(x, dtype=torch.float32, requires_grad=True), minitorch.tensor(
        x, dtype=minitorch.float32, requires_grad=True, device=device)
    ty, my = tm(tx), mm(mx)
    close(my, ty)
    ty.sum().backward()
    my.sum().backward()
    close(mx.grad, tx.grad)
    close(mm.weight.grad, tm.weight.grad, 1e-4)
    # 1-D input: one shared slope
    close(F.prelu(minitorch.tensor(x[0, 0]), minitorch.tensor([0.2])),
          torch.nn.functional.prelu(torch.tensor(x[0, 0]), torch.tensor([0.2], dtype=torch.float64)))


def test_inplace_activations_write_into_their_input(torch):
    x = arr(3, 4)
    for name, args in [("elu_", ()), ("celu_", (0.5,)), ("selu_", ()), ("leaky_relu_", (0.2,)),
                       ("hardtanh_", (-0.5, 0.5)), ("threshold_", (0.1, 9.0))]:
        m, t = minitorch.tensor(x), torch.tensor(x)
        rm, rt = getattr(F, name)(m, *args), getattr(torch.nn.functional, name)(t, *args)
        assert rm is m
        close(m, t)
    m = minitorch.tensor(x)
    assert F.hardswish(m, inplace=True) is m
    close(m, torch.nn.functional.hardswish(torch.tensor(x)))


def test_rrelu_training_draws_slopes_in_range():
    minitorch.manual_seed(0)
    x = -minitorch.rand(2000, dtype=minitorch.float64) - 0.5
    y = F.rrelu(x, 0.1, 0.3, training=True)
    slope = (y / x).numpy()
    assert slope.min() >= 0.1 - 1e-12 and slope.max() <= 0.3 + 1e-12
    assert abs(slope.mean() - 0.2) < 0.01 and slope.std() > 0.04  # uniform on [0.1, 0.3]: sd 0.058
    pos = minitorch.rand(10, dtype=minitorch.float64)
    np.testing.assert_array_equal(F.rrelu(pos, training=True).numpy(), pos.numpy())
    with pytest.raises(RuntimeError, match="Lower bound should be less than or equal to the upper bound"):
        F.rrelu(x, 0.5, 0.2, training=True)


def test_activation_errors(torch):
    with pytest.raises(ValueError, match="Softmax2d: expected input to be 3D or 4D, got 2D instead"):
        nn.Softmax2d()(minitorch.zeros(2, 2))
    with pytest.raises(RuntimeError, match="Found parameter numbers = 3 and channel size = 4"):
        nn.PReLU(3)(minitorch.zeros(2, 4, 5))
    with pytest.raises(RuntimeError, match=r"lambda must be in range \[0, 3.40282e\+38\] for input dtype Float, but "
                                           "found -1"):
        F.softshrink(minitorch.zeros(3), -1.0)


# ---------------------------------------------------------------------------------------------------------------
# distances, gumbel softmax
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.torch
@pytest.mark.parametrize("shapes, kw", [(((4, 5), (4, 5)), {}), (((3, 4, 5), (4, 5)), {"dim": -1}),
                                        (((2, 6), (1, 6)), {"dim": 1, "eps": 0.5})])
def test_cosine_similarity_matches_torch(shapes, kw, torch, device):
    a, b = arr(*shapes[0]), arr(*shapes[1])
    run_both(torch, device, lambda x, y: nn.CosineSimilarity(**kw)(x, y),
             lambda x, y: torch.nn.CosineSimilarity(**kw)(x, y), a, b)


@pytest.mark.torch
@pytest.mark.parametrize("shapes, kw", [(((4, 5), (4, 5)), {}), (((3, 5), (5,)), {"p": 1.0}),
                                        (((4, 5), (4, 5)), {"p": 3.0, "keepdim": True}),
                                        (((6,), (6,)), {"eps": 0.1})])
def test_pairwise_distance_matches_torch(shapes, kw, torch, device):
    a, b = arr(*shapes[0]), arr(*shapes[1])
    run_both(torch, device, lambda x, y: nn.PairwiseDistance(**kw)(x, y),
             lambda x, y: torch.nn.PairwiseDistance(**kw)(x, y), a, b)
    with pytest.raises(RuntimeError, match="must match the size"):
        F.pairwise_distance(minitorch.zeros(2, 4), minitorch.zeros(3, 4))


@pytest.mark.torch
@pytest.mark.parametrize("p", [2.0, 1.0, 3.5])
def test_pdist_matches_torch(p, torch):
    x = arr(5, 3)
    run_both(torch, "cpu", lambda t: F.pdist(t, p), lambda t: torch.nn.functional.pdist(t, p), x)
    with pytest.raises(RuntimeError, match="pdist only supports 2D tensors, got: 3D"):
        F.pdist(minitorch.zeros(2, 2, 2))


def test_gumbel_softmax_soft_and_hard(torch):
    minitorch.manual_seed(3)
    logits = minitorch.tensor(np.log([[0.7, 0.2, 0.1]] * 4000), requires_grad=True)
    soft = F.gumbel_softmax(logits, tau=0.5)
    np.testing.assert_allclose(soft.sum(-1).detach().numpy(), 1.0, rtol=1e-12)
    hard = F.gumbel_softmax(logits, tau=0.5, hard=True)
    h = hard.detach().numpy()
    assert set(np.unique(h)) == {0.0, 1.0} and np.all(h.sum(-1) == 1)
    # samples follow the softmax of the logits (Gumbel-max trick)
    np.testing.assert_allclose(h.mean(0), [0.7, 0.2, 0.1], atol=0.03)
    # the straight-through gradient is the soft sample's
    w = minitorch.tensor(arr(4000, 3))
    minitorch.manual_seed(5)
    (F.gumbel_softmax(logits, tau=0.5, hard=True) * w).sum().backward()
    g_hard = logits.grad.numpy().copy()
    logits.grad = None
    minitorch.manual_seed(5)
    (F.gumbel_softmax(logits, tau=0.5) * w).sum().backward()
    np.testing.assert_allclose(g_hard, logits.grad.numpy(), rtol=1e-10)
    with pytest.raises(IndexError, match="Dimension out of range"):
        F.gumbel_softmax(minitorch.zeros(2, 4), dim=3)


# ---------------------------------------------------------------------------------------------------------------
# embedding bags
# ---------------------------------------------------------------------------------------------------------------
BAGS = [
    ({"mode": "sum"}, "offsets", {}),
    ({"mode": "mean"}, "offsets", {}),
    ({"mode": "max"}, "offsets", {}),
    ({"mode": "mean"}, "2d", {}),
    ({"mode": "max"}, "2d", {}),
    ({"mode": "sum"}, "offsets", {"per_sample_weights": True}),
    ({"mode": "mean", "padding_idx": 2}, "offsets", {}),
    ({"mode": "sum", "padding_idx": 2}, "2d", {}),
    ({"mode": "max", "padding_idx": 2}, "offsets", {}),
    ({"mode": "sum", "include_last_offset": True}, "offsets", {}),
    ({"mode": "mean", "include_last_offset": True}, "offsets_empty_bag", {}),
    ({"mode": "max"}, "offsets_empty_bag", {}),
]


@pytest.mark.torch
@pytest.mark.parametrize("kw, layout, extra", BAGS, ids=[f"{i}" for i in range(len(BAGS))])
def test_embedding_bag_matches_torch(kw, layout, extra, torch, device):
    tm = torch.nn.EmbeddingBag(7, 4, **kw)
    mm = nn.EmbeddingBag(7, 4, **kw)
    assert repr(mm) == repr(tm)
    with torch.no_grad():
        tm.weight.copy_(torch.tensor(arr(7, 4), dtype=torch.float32))
    mm.weight.data = minitorch.tensor(tm.weight.detach().numpy())
    mm.to(device)
    if layout == "2d":
        idx = np.array([[0, 2, 2, 5], [1, 2, 6, 6], [3, 3, 3, 3]])
        offsets = None
    else:
        idx = np.array([4, 2, 0, 2, 6, 6, 1, 5, 3])
        offsets = np.array([0, 2, 2, 7, 9] if layout == "offsets_empty_bag" else [0, 3, 4, 7])
        if kw.get("include_last_offset") and layout == "offsets":
            offsets = np.array([0, 3, 4, 9])
    args_t = [torch.tensor(idx)] + ([torch.tensor(offsets)] if offsets is not None else [])
    args_m = [minitorch.tensor(idx, device=device)] + (
        [minitorch.tensor(offsets, device=device)] if offsets is not None else [])
    kwt, kwm = {}, {}
    if extra.get("per_sample_weights"):
        psw = arr(*idx.shape)
        kwt["per_sample_weights"] = torch.tensor(psw, dtype=torch.float32, requires_grad=True)
        kwm["per_sample_weights"] = minitorch.tensor(psw, dtype=minitorch.float32, requires_grad=True,
                                                     device=device)
    ty, my = tm(*args_t, **kwt), mm(*args_m, **kwm)
    assert tuple(my.shape) == tuple(ty.shape)
    close(my, ty)
    w = arr(*ty.shape)
    (ty * torch.tensor(w)).sum().backward()
    (my * minitorch.tensor(w, device=device)).sum().backward()
    close(mm.weight.grad, tm.weight.grad)
    if extra.get("per_sample_weights"):
        close(kwm["per_sample_weights"].grad, kwt["per_sample_weights"].grad)


@pytest.mark.torch
def test_embedding_bag_from_pretrained_and_functional(torch):
    w = arr(5, 3)
    tm = torch.nn.EmbeddingBag.from_pretrained(torch.tensor(w), mode="sum")
    mm = nn.EmbeddingBag.from_pretrained(minitorch.tensor(w), mode="sum")
    assert not mm.weight.requires_grad and not tm.weight.requires_grad
    idx, off = [1, 4, 4, 0], [0, 1]
    close(mm(minitorch.tensor(idx), minitorch.tensor(off)), tm(torch.tensor(idx), torch.tensor(off)))
    close(F.embedding_bag(minitorch.tensor(idx), minitorch.tensor(w), minitorch.tensor(off), max_norm=1.0),
          torch.nn.functional.embedding_bag(torch.tensor(idx), torch.tensor(w), torch.tensor(off), max_norm=1.0))


def test_embedding_bag_errors():
    w = minitorch.zeros(5, 3)
    with pytest.raises(ValueError, match="mode has to be one of sum, mean or max"):
        F.embedding_bag(minitorch.tensor([1, 2]), w, minitorch.tensor([0, 1]), mode="bad")
    with pytest.raises(NotImplementedError, match="per_sample_weights is only supported for mode='sum'"):
        F.embedding_bag(minitorch.tensor([1, 2]), w, minitorch.tensor([0, 1]), mode="max",
                        per_sample_weights=minitorch.ones(2))
    with pytest.raises(ValueError, match="if input is 2D, then offsets has to be None"):
        F.embedding_bag(minitorch.tensor([[1, 2]]), w, minitorch.tensor([0, 1]))
    with pytest.raises(ValueError, match="offsets has to be a 1D Tensor but got None"):
        F.embedding_bag(minitorch.tensor([1, 2]), w)
    with pytest.raises(IndexError, match="index out of range"):
        F.embedding_bag(minitorch.tensor([1, 7]), w, minitorch.tensor([0, 1]))
    with pytest.raises(RuntimeError, match="offsets\\[0\\] has to be 0"):
        F.embedding_bag(minitorch.tensor([1, 2]), w, minitorch.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="offsets\\[-1\\] can not be greater than input's length 2"):
        F.embedding_bag(minitorch.tensor([1, 2]), w, minitorch.tensor([0, 3]))


@pytest.mark.torch
def test_embedding_scale_grad_by_freq_matches_torch(torch):
    w = arr(6, 3)
    idx = [[0, 2, 2], [5, 2, 0]]
    tm = torch.nn.Embedding(6, 3, scale_grad_by_freq=True, _weight=torch.tensor(w))
    mm = nn.Embedding(6, 3, scale_grad_by_freq=True, _weight=minitorch.tensor(w))
    g = arr(2, 3, 3)
    (tm(torch.tensor(idx)) * torch.tensor(g)).sum().backward()
    (mm(minitorch.tensor(idx)) * minitorch.tensor(g)).sum().backward()
    close(mm.weight.grad, tm.weight.grad)


# ---------------------------------------------------------------------------------------------------------------
# dropout variants
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("fn, shape", [(F.dropout1d, (4, 50, 6)), (F.dropout1d, (50, 6)), (F.dropout2d, (4, 50, 3, 3)),
                                       (F.dropout3d, (2, 50, 2, 2, 2)), (F.dropout3d, (50, 2, 2, 2))])
def test_channel_dropout_zeroes_whole_channels(fn, shape):
    minitorch.manual_seed(1)
    x = minitorch.ones(*shape, dtype=minitorch.float64)
    y = fn(x, 0.4, training=True).numpy()
    batched = len(shape) in (3, 4, 5) and not (fn is F.dropout3d and len(shape) == 4)
    per_channel = y.reshape(shape[:2] + (-1,)) if batched else y.reshape((1, shape[0], -1))
    # each channel is either all zero or all 1 / (1 - p)
    assert np.all((per_channel == 0).all(-1) | np.isclose(per_channel, 1 / 0.6).all(-1))
    frac = (per_channel[..., 0] == 0).mean()
    assert 0.2 < frac < 0.6
    assert fn(x, 0.4, training=False) is x
    z = minitorch.ones(*shape, dtype=minitorch.float64)
    assert fn(z, 0.4, training=True, inplace=True) is z
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but got 1.5"):
        fn(x, 1.5)


def test_dropout_variant_errors_and_warnings():
    with pytest.raises(RuntimeError, match="dropout1d: Expected 2D or 3D input, but received a 4D input"):
        F.dropout1d(minitorch.ones(2, 2, 2, 2))
    with pytest.warns(UserWarning, match="Received a 3D input to dropout2d"):
        F.dropout2d(minitorch.ones(2, 3, 4))
    with pytest.warns(UserWarning, match="Received a 2-D input to dropout3d"):
        F.dropout3d(minitorch.ones(2, 3))


def _most_common(values):
    v, c = np.unique(values, return_counts=True)
    return v[c.argmax()], c.max() / values.size


@pytest.mark.torch
def test_alpha_dropout_matches_torch_statistically(torch):
    minitorch.manual_seed(2)
    x = np.random.default_rng(0).standard_normal(200000)
    y = F.alpha_dropout(minitorch.tensor(x), 0.3, training=True).numpy()
    ty = torch.nn.functional.alpha_dropout(torch.tensor(x), 0.3, True).numpy()
    assert abs(y.mean()) < 0.01 and abs(y.std() - 1.0) < 0.01
    # dropped units all take the same value as torch's, about p of them
    (value, frac), (tvalue, _) = _most_common(y), _most_common(ty)
    assert value == pytest.approx(tvalue, rel=1e-12) and abs(frac - 0.3) < 0.01
    # kept units are one affine map of the input, the same as torch's
    kept, tkept = y != value, ty != tvalue
    slope = np.polyfit(x[kept], y[kept], 1)
    np.testing.assert_allclose(slope, np.polyfit(x[tkept], ty[tkept], 1), rtol=1e-9)
    m = nn.AlphaDropout(0.3)
    m.eval()
    mx = minitorch.tensor(x)
    assert m(mx) is mx
    f = F.feature_alpha_dropout(minitorch.randn(8, 1000, 4, dtype=minitorch.float64), 0.3, training=True).numpy()
    dropped = np.isclose(f, tvalue, rtol=1e-12).all(-1)  # whole channels take the dropped value
    assert 0.25 < dropped.mean() < 0.35


@pytest.mark.torch
def test_embedding_bag_scale_grad_by_freq(torch):
    for idx in ([3, 6, 6], [6, 6, 3, 1]):
        grads = []
        for lib in (torch, minitorch):
            w = lib.ones(7, 2, dtype=lib.float64, requires_grad=True)
            lib.nn.functional.embedding_bag(lib.tensor(idx), w, lib.tensor([0, 1]), mode="sum",
                                            scale_grad_by_freq=True).sum().backward()
            grads.append(w.grad.numpy())
        np.testing.assert_allclose(grads[0], grads[1])
        assert grads[1][6, 0] == 1.0  # two occurrences, each scaled by 1/2


@pytest.mark.torch
def test_upsampling_modules_match_torch(torch, device):
    x = arr(1, 2, 3, 4)
    for make in (lambda m: m.UpsamplingNearest2d(scale_factor=2), lambda m: m.UpsamplingBilinear2d(size=(5, 7))):
        run_both(torch, device, make(nn), make(torch.nn), x)
    with pytest.warns(UserWarning, match="upsample_bilinear` is deprecated"):
        close(F.upsample_bilinear(minitorch.tensor(x), scale_factor=2),
              torch.nn.functional.interpolate(torch.tensor(x), scale_factor=2, mode="bilinear", align_corners=True))
