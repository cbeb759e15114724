"""minitorch.vision.ops (torchvision.ops' building blocks) against PyTorch: conv-norm-activation stacks,
squeeze-and-excitation, MLP, Permute, FrozenBatchNorm2d and stochastic depth, forward and gradients."""
import numpy as np
import pytest

import minitorch
from minitorch import nn
from minitorch.vision import ops

pytestmark = pytest.mark.torch


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def _mt(t, device="cpu", requires_grad=False):
    x = minitorch.from_numpy(t.detach().numpy().copy()).to(device)
    return x.requires_grad_(requires_grad) if requires_grad else x


def _np(x):
    return x.detach().cpu().numpy()


def _load_from_torch(module, tmodule, device="cpu"):
    module.load_state_dict({k: _mt(v) for k, v in tmodule.state_dict().items()})
    return module.to(device)


def _randomize_bn(torch, tmodule):
    for m in tmodule.modules():
        if isinstance(m, (torch.nn.BatchNorm2d, torch.nn.BatchNorm3d)):
            with torch.no_grad():
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.5, 0.5)
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 1.5)


# ---------------------------------------------------------------------------------------------------- ConvNormAct
@pytest.mark.parametrize("train", [False, True])
def test_conv2d_norm_activation_matches_torch(torch, device, train):
    torch.manual_seed(0)
    tm = torch.nn.Sequential(torch.nn.Conv2d(4, 6, 3, 2, 1, bias=False), torch.nn.BatchNorm2d(6), torch.nn.ReLU6())
    _randomize_bn(torch, tm)
    m = _load_from_torch(ops.Conv2dNormActivation(4, 6, stride=2, activation_layer=nn.ReLU6), tm, device)
    assert list(m.state_dict()) == list(tm.state_dict())
    tm.train(train)
    m.train(train)
    tx = torch.randn(2, 4, 5, 5, requires_grad=True)
    x = _mt(tx, device, requires_grad=True)
    ty, y = tm(tx), m(x)
    np.testing.assert_allclose(_np(y), ty.detach().numpy(), rtol=1e-4, atol=1e-5)
    g = torch.randn(ty.shape)
    ty.backward(g)
    y.backward(_mt(g, device))
    np.testing.assert_allclose(_np(x.grad), tx.grad.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(_np(m[0].weight.grad), tm[0].weight.grad.numpy(), rtol=1e-4, atol=1e-4)
    if train:  # running statistics move as torch's do
        np.testing.assert_allclose(_np(m[1].running_mean), tm[1].running_mean.numpy(), rtol=1e-5, atol=1e-6)


def test_conv2d_norm_activation_padding_bias_and_inplace(torch):
    m = ops.Conv2dNormActivation(2, 4, kernel_size=(3, 5), dilation=(1, 2), norm_layer=None,
                                 activation_layer=nn.GELU, inplace=None)
    conv = m[0]
    assert conv.padding == (1, 4) and conv.dilation == (1, 2)
    assert conv.bias is not None  # no norm layer: the convolution carries the bias
    assert len(m) == 2 and isinstance(m[1], nn.GELU) and m.out_channels == 4
    tconv = torch.nn.Conv2d(2, 4, (3, 5), padding=(1, 4), dilation=(1, 2))
    _load_from_torch(m, torch.nn.Sequential(tconv))
    tx = torch.randn(1, 2, 6, 9)
    np.testing.assert_allclose(_np(m(_mt(tx))), torch.nn.functional.gelu(tconv(tx)).detach().numpy(), rtol=1e-4,
                               atol=1e-5)
    m = ops.Conv2dNormActivation(2, 4, kernel_size=5, dilation=2, activation_layer=None, bias=True)
    assert m[0].padding == (4, 4) and m[0].bias is not None and len(m) == 2
    # an activation without an inplace argument needs inplace=None, as in torchvision
    with pytest.raises(TypeError):
        ops.Conv2dNormActivation(2, 4, activation_layer=nn.GELU)


def test_conv_norm_activation_base_warns():
    from minitorch.vision.ops.misc import ConvNormActivation
    with pytest.warns(UserWarning, match="Don't use ConvNormActivation directly"):
        ConvNormActivation(1, 2)


def test_conv3d_norm_activation_matches_torch(torch):
    torch.manual_seed(1)
    tm = torch.nn.Sequential(torch.nn.Conv3d(2, 3, (1, 3, 3), 1, (0, 1, 1), bias=False), torch.nn.BatchNorm3d(3),
                             torch.nn.ReLU())
    _randomize_bn(torch, tm)
    m = _load_from_torch(ops.Conv3dNormActivation(2, 3, kernel_size=(1, 3, 3)), tm)
    assert isinstance(m[0], nn.Conv3d) and isinstance(m[1], nn.BatchNorm3d) and m[0].padding == (0, 1, 1)
    tm.eval()
    m.eval()
    tx = torch.randn(1, 2, 3, 4, 4)
    np.testing.assert_allclose(_np(m(_mt(tx))), tm(tx).detach().numpy(), rtol=1e-4, atol=1e-5)


# ---------------------------------------------------------------------------------------------------- SE / MLP
def test_squeeze_excitation_matches_torch(torch, device):
    torch.manual_seed(2)
    m = ops.SqueezeExcitation(6, 2, activation=nn.SiLU, scale_activation=nn.Hardsigmoid)
    assert sorted(m.state_dict()) == ["fc1.bias", "fc1.weight", "fc2.bias", "fc2.weight"]
    sd = {"fc1.weight": torch.randn(2, 6, 1, 1), "fc1.bias": torch.randn(2), "fc2.weight": torch.randn(6, 2, 1, 1),
          "fc2.bias": torch.randn(6)}
    m.load_state_dict({k: _mt(v) for k, v in sd.items()})
    m.to(device)
    tx = torch.randn(2, 6, 3, 3, requires_grad=True)
    F = torch.nn.functional
    s = F.adaptive_avg_pool2d(tx, 1)
    s = F.hardsigmoid(F.conv2d(F.silu(F.conv2d(s, sd["fc1.weight"], sd["fc1.bias"])), sd["fc2.weight"],
                               sd["fc2.bias"]))
    ty = tx * s
    x = _mt(tx, device, requires_grad=True)
    y = m(x)
    np.testing.assert_allclose(_np(y), ty.detach().numpy(), rtol=1e-4, atol=1e-5)
    ty.sum().backward()
    y.sum().backward()
    np.testing.assert_allclose(_np(x.grad), tx.grad.numpy(), rtol=1e-4, atol=1e-5)


def test_mlp_structure_and_forward(torch):
    torch.manual_seed(3)
    m = ops.MLP(5, [8, 7, 3], norm_layer=nn.LayerNorm, activation_layer=nn.GELU, dropout=0.25)
    kinds = [type(c).__name__ for c in m]
    assert kinds == ["Linear", "LayerNorm", "GELU", "Dropout", "Linear", "LayerNorm", "GELU", "Dropout", "Linear",
                     "Dropout"]
    assert m[3].p == 0.25 and m[8].out_features == 3
    tm = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.LayerNorm(8), torch.nn.GELU(), torch.nn.Dropout(0.25),
                             torch.nn.Linear(8, 7), torch.nn.LayerNorm(7), torch.nn.GELU(), torch.nn.Dropout(0.25),
                             torch.nn.Linear(7, 3), torch.nn.Dropout(0.25))
    _load_from_torch(m, tm)
    tm.eval()
    m.eval()
    tx = torch.randn(4, 5)
    np.testing.assert_allclose(_np(m(_mt(tx))), tm(tx).detach().numpy(), rtol=1e-4, atol=1e-5)
    m = ops.MLP(3, [4, 2], inplace=True, bias=False)
    assert m[1].inplace and m[2].inplace and m[0].bias is None


def test_permute_matches_torch(torch, device):
    tx = torch.randn(2, 3, 4, 5, requires_grad=True)
    x = _mt(tx, device, requires_grad=True)
    y = ops.Permute([0, 2, 3, 1])(x)
    ty = tx.permute(0, 2, 3, 1)
    np.testing.assert_array_equal(_np(y), ty.detach().numpy())
    g = torch.randn(ty.shape)
    ty.backward(g)
    y.backward(_mt(g, device))
    np.testing.assert_array_equal(_np(x.grad), tx.grad.numpy())


# ---------------------------------------------------------------------------------------------------- FrozenBN
def test_frozen_batchnorm_matches_torch_eval(torch, device):
    torch.manual_seed(4)
    tbn = torch.nn.BatchNorm2d(5, eps=1e-3)
    _randomize_bn(torch, torch.nn.Sequential(tbn))
    tbn.eval()
    f = ops.FrozenBatchNorm2d(5, eps=1e-3)
    assert list(f.parameters()) == []
    assert sorted(f.state_dict()) == ["bias", "running_mean", "running_var", "weight"]
    assert repr(f) == "FrozenBatchNorm2d(5, eps=0.001)"
    sd = tbn.state_dict()
    assert "num_batches_tracked" in sd
    result = f.load_state_dict({k: _mt(v) for k, v in sd.items()})  # strict: num_batches_tracked is dropped
    assert list(result.missing_keys) == [] and list(result.unexpected_keys) == []
    f.to(device)
    tx = torch.randn(2, 5, 3, 3, requires_grad=True)
    x = _mt(tx, device, requires_grad=True)
    y = f(x)
    ty = tbn(tx)
    np.testing.assert_allclose(_np(y), ty.detach().numpy(), rtol=1e-4, atol=1e-5)
    ty.sum().backward()
    y.sum().backward()
    np.testing.assert_allclose(_np(x.grad), tx.grad.numpy(), rtol=1e-4, atol=1e-5)
    f.train()  # frozen: the same numbers in training mode
    np.testing.assert_allclose(_np(f(x)), ty.detach().numpy(), rtol=1e-4, atol=1e-5)


# ---------------------------------------------------------------------------------------------------- stochastic depth
def test_stochastic_depth_errors():
    x = minitorch.ones(2, 3)
    with pytest.raises(ValueError, match=r"drop probability has to be between 0 and 1, but got 1.5"):
        ops.stochastic_depth(x, 1.5, "row")
    with pytest.raises(ValueError, match=r"drop probability has to be between 0 and 1, but got -0.1"):
        ops.stochastic_depth(x, -0.1, "batch")
    with pytest.raises(ValueError, match=r"mode has to be either 'batch' or 'row', but got col"):
        ops.stochastic_depth(x, 0.5, "col")
    with pytest.raises(ValueError, match="mode has to be"):  # checked even when inactive
        ops.stochastic_depth(x, 0.5, "col", training=False)


def test_stochastic_depth_identity_cases(device):
    x = minitorch.randn(4, 3, 2, device=device)
    assert ops.stochastic_depth(x, 0.7, "row", training=False) is x
    assert ops.stochastic_depth(x, 0.0, "batch") is x
    for mode in ("row", "batch"):
        np.testing.assert_array_equal(_np(ops.stochastic_depth(x, 1.0, mode)), np.zeros((4, 3, 2), np.float32))
    sd = ops.StochasticDepth(0.3, "row")
    assert repr(sd) == "StochasticDepth(p=0.3, mode=row)"
    sd.eval()
    assert sd(x) is x


@pytest.mark.parametrize("mode", ["row", "batch"])
def test_stochastic_depth_masks_and_gradient(device, mode):
    minitorch.manual_seed(0)
    p = 0.25
    x = minitorch.ones(200, 3, 2, device=device).requires_grad_(True)
    y = ops.StochasticDepth(p, mode)(x)
    out = _np(y)
    values = np.unique(out)
    assert set(values.tolist()) <= {0.0, np.float32(1 / (1 - p))}
    # the whole of a row (mode "row") or of the batch (mode "batch") is kept or dropped together
    per_row = out.reshape(200, -1)
    assert np.all(per_row == per_row[:, :1])
    if mode == "batch":
        assert np.all(out == out.flat[0])
    else:
        kept = float((per_row[:, 0] > 0).mean())
        assert 0.6 < kept < 0.9  # about 1 - p of 200 rows survive
    y.sum().backward()
    np.testing.assert_allclose(_np(x.grad), out)  # d(x * mask)/dx is the mask
    assert y.dtype == x.dtype


def test_stochastic_depth_keeps_expectation():
    minitorch.manual_seed(1)
    x = minitorch.ones(4000, 1)
    assert abs(float(ops.stochastic_depth(x, 0.4, "row").mean()) - 1.0) < 0.06


# ---------------------------------------------------------------------------------------------------- in-place acts
@pytest.mark.parametrize("name", ["relu6", "hardswish", "hardsigmoid", "silu", "hardtanh", "elu", "selu", "celu",
                                  "mish"])
def test_inplace_activation_after_a_layer_backprops_as_torch(torch, name):
    """The models apply ``ReLU6/Hardswish/SiLU(inplace=True)`` to a BatchNorm output; the backward must see the
    pre-activation values, as PyTorch's does (it used to fail with "modified by an inplace operation")."""
    torch.manual_seed(5)
    tw = torch.randn(9, requires_grad=True)
    w = _mt(tw, requires_grad=True)
    ty = getattr(torch.nn.functional, name)(tw * 3.0, inplace=True)
    y = getattr(nn.functional, name)(w * 3.0, inplace=True)
    np.testing.assert_allclose(_np(y), ty.detach().numpy(), rtol=1e-5, atol=1e-6)
    ty.backward(torch.arange(9.0))
    y.backward(minitorch.arange(9.0))
    np.testing.assert_allclose(_np(w.grad), tw.grad.numpy(), rtol=1e-5, atol=1e-6)
