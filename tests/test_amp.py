"""minitorch.amp: autocast regions (output dtypes against torch's CPU autocast, the CUDA lists on the device
fixture), the deprecated torch.cpu.amp / torch.cuda.amp forms, custom_fwd/custom_bwd, and GradScaler against
torch's (scale sequence of a training loop whose gradients overflow, errors, state_dict)."""
import warnings

import numpy as np
import pytest

import minitorch
import minitorch.nn as mnn
import minitorch.nn.functional as F
from minitorch.ops import autocast as ac

torch = pytest.importorskip("torch")
tF = torch.nn.functional

_R = np.random.default_rng(0)
X = _R.standard_normal((4, 6)).astype(np.float32)
W = (_R.standard_normal((3, 6)) / 3).astype(np.float32)
IMG = _R.standard_normal((2, 2, 5, 5)).astype(np.float32)
K = (_R.standard_normal((3, 2, 3, 3)) / 3).astype(np.float32)


def _name(dt):
    return str(dt).split(".")[-1]


def _cases(lib, Fn, device="cpu"):
    """name -> thunk of an op call on float32 inputs of library ``lib`` (minitorch or torch) on ``device``."""
    x, w = lib.tensor(X, device=device), lib.tensor(W, device=device)
    img, k = lib.tensor(IMG, device=device), lib.tensor(K, device=device)
    t = lib.tensor([0, 2, 1, 5], device=device)
    p = lib.tensor(1 / (1 + np.exp(-X)), device=device)
    x3 = x.reshape(2, 2, 6)
    return {
        "linear": lambda: Fn.linear(x, w),
        "matmul": lambda: x @ w.t(),
        "mm": lambda: lib.mm(x, w.t()),
        "bmm": lambda: lib.bmm(x3, x3.transpose(1, 2)),
        "addmm": lambda: lib.addmm(lib.zeros(4, 3, device=device), x, w.t()),
        "baddbmm": lambda: lib.baddbmm(lib.zeros(2, 2, 2, device=device), x3, x3.transpose(1, 2)),
        "conv2d": lambda: Fn.conv2d(img, k, padding=1),
        "conv1d": lambda: Fn.conv1d(img[:, :, 0], k[:, :, 0]),
        "exp": lambda: x.exp(),
        "log": lambda: p.log(),
        "pow": lambda: x.pow(2),
        "sum": lambda: x.sum(),
        "prod": lambda: x.prod(1),
        "cumsum": lambda: x.cumsum(1),
        "softmax": lambda: Fn.softmax(x, 1),
        "log_softmax": lambda: Fn.log_softmax(x, 1),
        "layer_norm": lambda: Fn.layer_norm(x, (6,)),
        "relu": lambda: Fn.relu(x),
        "tanh": lambda: x.tanh(),
        "mse_loss": lambda: Fn.mse_loss(x, x * 0.5),
        "l1_loss": lambda: Fn.l1_loss(x, x * 0.5),
        "smooth_l1_loss": lambda: Fn.smooth_l1_loss(x, x * 0.5),
        "huber_loss": lambda: Fn.huber_loss(x, x * 0.5),
        "cross_entropy": lambda: Fn.cross_entropy(x, t),
        "nll_loss": lambda: Fn.nll_loss(x, t),
        "kl_div": lambda: Fn.kl_div(x, p, reduction="batchmean"),
        "bce_with_logits": lambda: Fn.binary_cross_entropy_with_logits(x, p),
        "binary_cross_entropy": lambda: Fn.binary_cross_entropy(p, p),
        "cat": lambda: lib.cat([x, x.to(lib.bfloat16)]),
        "stack": lambda: lib.stack([x, x.to(lib.float16)]),
        "add_mixed": lambda: x + x.to(lib.bfloat16),
        "linear_float64": lambda: Fn.linear(x.double(), w.double()),
        "linear_after_matmul": lambda: Fn.linear(x @ w.t(), w[:, :3]),
    }


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_cpu_autocast_dtypes_as_torch(dtype):
    mine, theirs = _cases(minitorch, F), _cases(torch, tF)
    with minitorch.autocast("cpu", dtype=getattr(minitorch, dtype)), torch.autocast("cpu",
                                                                                     dtype=getattr(torch, dtype)):
        for name in mine:
            got, ref = mine[name](), theirs[name]()
            assert _name(got.dtype) == _name(ref.dtype), name
    # outside the region everything is float32 again
    for name in ("linear", "matmul", "conv2d"):
        assert mine[name]().dtype is minitorch.float32


def test_cpu_autocast_values_and_backward_as_torch():
    res = []
    for lib, Fn in ((minitorch, F), (torch, tF)):
        x = lib.tensor(X, requires_grad=True)
        w = lib.tensor(W, requires_grad=True)
        with lib.autocast("cpu"):
            y = Fn.linear(x, w)
            loss = Fn.cross_entropy(y, lib.tensor([0, 2, 1, 1]))
        loss.backward()
        assert _name(y.dtype) == "bfloat16" and _name(loss.dtype) == "float32"
        assert _name(w.grad.dtype) == "float32" and _name(x.grad.dtype) == "float32"
        res.append([v.detach().float().numpy() for v in (y, loss, w.grad, x.grad)])
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=2e-2, atol=2e-2)


def test_region_semantics():
    x = minitorch.tensor(X)
    w = minitorch.tensor(W)
    assert not minitorch.is_autocast_enabled("cpu") and not ac.ACTIVE[0]
    assert minitorch.get_autocast_dtype("cpu") is minitorch.bfloat16
    assert minitorch.get_autocast_dtype("cuda") is minitorch.float16
    with minitorch.autocast("cpu"):
        assert minitorch.is_autocast_enabled("cpu") and not minitorch.is_autocast_enabled()
        with minitorch.autocast("cpu", enabled=False):
            assert (x @ w.t()).dtype is minitorch.float32
        with minitorch.autocast("cpu", dtype=minitorch.float16):
            assert (x @ w.t()).dtype is minitorch.float16
        assert (x @ w.t()).dtype is minitorch.bfloat16
    assert not minitorch.is_autocast_enabled("cpu") and not ac.ACTIVE[0]
    assert minitorch.amp.autocast is minitorch.autocast

    @minitorch.autocast("cpu")
    def f(a, b):
        return a @ b

    assert f(x, w.t()).dtype is minitorch.bfloat16
    assert (x @ w.t()).dtype is minitorch.float32
    # an exception inside the region still restores the state
    with pytest.raises(ZeroDivisionError):
        with minitorch.autocast("cpu"):
            1 / 0
    assert not minitorch.is_autocast_enabled("cpu")


def test_cast_cache_for_weights():
    w = minitorch.tensor(W, requires_grad=True)
    x = minitorch.tensor(X)
    with minitorch.autocast("cpu"):
        a = F.linear(x, w)
        b = F.linear(x, w)
        cached = ac._CACHE.get(id(w))
        assert cached is not None and cached[1].dtype is minitorch.bfloat16
        (a.sum() + b.sum()).backward()
    assert not ac._CACHE  # dropped when the outermost region exits
    np.testing.assert_allclose(w.grad.numpy(), 2 * np.tile(X.sum(0), (3, 1)), rtol=2e-2, atol=5e-2)
    with minitorch.autocast("cpu", cache_enabled=False):
        F.linear(x, w)
        assert not ac._CACHE


def test_errors_and_warnings_as_torch():
    with pytest.raises(ValueError, match="Expected `device_type` of type `str`"):
        minitorch.autocast(0)
    with pytest.raises(ValueError, match="Expected `device_type` of type `str`"):
        torch.autocast(0)
    with pytest.raises(RuntimeError, match="unsupported autocast device_type 'tpu'"):
        minitorch.autocast("tpu")
    with pytest.raises(TypeError, match="requires a callable"):
        minitorch.autocast("cpu")(3)
    with pytest.warns(UserWarning, match="In CPU autocast, but the target dtype is not supported"):
        a = minitorch.autocast("cpu", dtype=minitorch.float32)
    with pytest.warns(UserWarning, match="In CPU autocast, but the target dtype is not supported"):
        torch.autocast("cpu", dtype=torch.float32)
    with a:
        assert not minitorch.is_autocast_enabled("cpu")
        assert (minitorch.tensor(X) @ minitorch.tensor(W).t()).dtype is minitorch.float32


def test_cuda_autocast_without_cuda_warns_as_torch():
    if minitorch.cuda.is_available():
        pytest.skip("CUDA is available here")
    with pytest.warns(UserWarning, match="CUDA is not available"):
        ctx = minitorch.autocast("cuda")
    with pytest.warns(UserWarning, match="CUDA is not available"):
        torch.autocast("cuda")
    with ctx:
        assert not minitorch.is_autocast_enabled("cuda")


def test_deprecated_forms_warn_as_torch():
    for mod, tmod in ((minitorch.cpu.amp, torch.cpu.amp), (minitorch.cuda.amp, torch.cuda.amp)):
        with warnings.catch_warnings(record=True) as mine:
            warnings.simplefilter("always")
            a = mod.autocast(enabled=False)
        with warnings.catch_warnings(record=True) as theirs:
            warnings.simplefilter("always")
            tmod.autocast(enabled=False)
        assert [str(w.message).replace("torch.", "") for w in mine if w.category is FutureWarning] == \
            [str(w.message).replace("torch.", "") for w in theirs if w.category is FutureWarning]
        assert mine and isinstance(a, minitorch.autocast)
    with pytest.warns(FutureWarning, match=r"torch.cuda.amp.GradScaler\(args...\)` is deprecated"):
        s = minitorch.cuda.amp.GradScaler(enabled=False)
    assert isinstance(s, minitorch.amp.GradScaler) and not s.is_enabled()
    with pytest.warns(FutureWarning, match=r"torch.cpu.amp.autocast\(args...\)` is deprecated"):
        with minitorch.cpu.amp.autocast():
            assert minitorch.is_autocast_enabled("cpu")
            assert minitorch.get_autocast_dtype("cpu") is minitorch.bfloat16


def test_custom_fwd_bwd():
    seen = {}

    class Scale(minitorch.autograd.Function):
        @staticmethod
        @minitorch.amp.custom_fwd(device_type="cpu", cast_inputs=minitorch.float32)
        def forward(ctx, a, b):
            seen["fwd"] = (a.dtype, b.dtype, minitorch.is_autocast_enabled("cpu"))
            ctx.save_for_backward(a, b)
            return a @ b

        @staticmethod
        @minitorch.amp.custom_bwd(device_type="cpu")
        def backward(ctx, g):
            a, b = ctx.saved_tensors
            seen["bwd"] = minitorch.is_autocast_enabled("cpu")
            return g @ b.t(), a.t() @ g

    a = minitorch.tensor(X, requires_grad=True)
    b = minitorch.tensor(W.T.copy()).to(minitorch.bfloat16).requires_grad_()
    with minitorch.autocast("cpu"):
        out = Scale.apply(a, b)
    assert seen["fwd"] == (minitorch.float32, minitorch.float32, False) and out.dtype is minitorch.float32
    out.sum().backward()
    assert seen["bwd"] is False and b.grad.dtype is minitorch.bfloat16

    class Plain(minitorch.autograd.Function):
        @staticmethod
        @minitorch.amp.custom_fwd(device_type="cpu")
        def forward(ctx, a):
            seen["plain"] = minitorch.is_autocast_enabled("cpu")
            return a * 2

        @staticmethod
        @minitorch.amp.custom_bwd(device_type="cpu")
        def backward(ctx, g):
            seen["plain_bwd"] = minitorch.is_autocast_enabled("cpu")
            return g * 2

    with minitorch.autocast("cpu"):
        y = Plain.apply(a)
    y.sum().backward()
    assert seen["plain"] is True and seen["plain_bwd"] is True
    with pytest.raises(ValueError, match="Expected `device_type` of type `str`"):
        minitorch.amp.custom_fwd(device_type=None)


# ---------------------------------------------------------------------------------------------------------------
# CUDA lists (on the simulator: tiny shapes)
# ---------------------------------------------------------------------------------------------------------------
# PyTorch's CUDA autocast lists (aten/src/ATen/autocast_mode.h): lower precision for GEMMs and convolutions;
# float32 for exp/log/pow/softmax/sum/layer_norm and losses; binary_cross_entropy refused
CUDA_EXPECT = {"linear": "low", "matmul": "low", "mm": "low", "bmm": "low", "addmm": "low", "baddbmm": "low",
               "conv2d": "low", "conv1d": "low", "exp": "float32", "log": "float32", "pow": "float32",
               "sum": "float32", "prod": "float32", "cumsum": "float32", "softmax": "float32",
               "log_softmax": "float32", "layer_norm": "float32", "relu": "float32", "tanh": "float32",
               "mse_loss": "float32", "l1_loss": "float32", "smooth_l1_loss": "float32", "huber_loss": "float32",
               "cross_entropy": "float32", "nll_loss": "float32", "kl_div": "float32",
               "bce_with_logits": "float32", "cat": "float32", "stack": "float32", "add_mixed": "float32",
               "linear_float64": "float64", "linear_after_matmul": "low"}


def test_cuda_autocast_lists(device):
    if device != "cuda":
        pytest.skip("the CUDA lists")
    cases = _cases(minitorch, F)
    with minitorch.autocast("cuda"):
        # CPU tensors are not affected by a CUDA region
        assert cases["linear"]().dtype is minitorch.float32
    cases = _cases(minitorch, F, "cuda")
    with minitorch.autocast("cuda"):
        for name, kind in CUDA_EXPECT.items():
            out = cases[name]()
            assert out.device.type == "cuda"
            assert out.dtype.name == ("float16" if kind == "low" else kind), name
        with pytest.raises(RuntimeError, match="unsafe to autocast"):
            cases["binary_cross_entropy"]()
        x = minitorch.ones(2, 3, device="cuda").half()
        assert minitorch.addcmul(x, x.float(), x).dtype is minitorch.float32  # promote
        assert minitorch.atan2(x, x).dtype is minitorch.float16


# ---------------------------------------------------------------------------------------------------------------
# GradScaler
# ---------------------------------------------------------------------------------------------------------------
def _train(lib, steps, init_scale, growth_interval, use_autocast, data_scale=1.0):
    """Scales, skipped-or-not flags and final weights of a small regression trained with a GradScaler."""
    rng = np.random.default_rng(3)
    xs = (rng.standard_normal((steps, 8, 5)) * data_scale).astype(np.float32)
    ys = rng.standard_normal((steps, 8, 2)).astype(np.float32)
    model = lib.nn.Linear(5, 2)
    with lib.no_grad():
        model.weight.copy_(lib.tensor(np.linspace(-1, 1, 10, dtype=np.float32).reshape(2, 5)))
        model.bias.copy_(lib.tensor([0.1, -0.2]))
    opt = lib.optim.SGD(model.parameters(), lr=0.01)
    scaler = lib.amp.GradScaler("cpu", init_scale=init_scale, growth_interval=growth_interval)
    scales = []
    for i in range(steps):
        opt.zero_grad()
        with lib.autocast("cpu", enabled=use_autocast):
            out = model(lib.tensor(xs[i]))
            loss = lib.nn.functional.mse_loss(out, lib.tensor(ys[i]))
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        scales.append(scaler.get_scale())
    return scales, model.weight.detach().float().numpy(), scaler


@pytest.mark.parametrize("use_autocast", [False, True])
def test_grad_scaler_scale_sequence_as_torch(use_autocast):
    # at 2**127 some gradients overflow float32: the scale backs off after those steps and grows again after
    # every 2 clean ones; with 30x larger inputs it keeps backing off
    for steps, interval, data_scale in ((30, 2, 1.0), (25, 3, 30.0)):
        mine = _train(minitorch, steps, 2.0 ** 127, interval, use_autocast, data_scale)
        ref = _train(torch, steps, 2.0 ** 127, interval, use_autocast, data_scale)
        assert mine[0] == ref[0]
        ups = sum(b > a for a, b in zip(mine[0], mine[0][1:]))
        downs = sum(b < a for a, b in zip(mine[0], mine[0][1:]))
        assert downs >= 4 and (ups >= 4 or data_scale > 1)
    np.testing.assert_allclose(mine[1], ref[1], rtol=3e-2 if use_autocast else 1e-5, atol=1e-2 if use_autocast
                               else 1e-6)
    assert mine[2].state_dict() == ref[2].state_dict()


def test_grad_scaler_state_dict_round_trip():
    _, _, s = _train(minitorch, 7, 2.0 ** 20, 4, False)
    sd = s.state_dict()
    assert set(sd) == {"scale", "growth_factor", "backoff_factor", "growth_interval", "_growth_tracker"}
    fresh = minitorch.amp.GradScaler("cpu")
    fresh.load_state_dict(sd)
    assert fresh.state_dict() == sd and fresh.get_scale() == s.get_scale()
    loss = minitorch.tensor(2.0)
    assert fresh.scale(loss).item() == 2.0 * sd["scale"]
    assert fresh._get_growth_tracker() == sd["_growth_tracker"]
    # torch's scaler reads ours
    t = torch.amp.GradScaler("cpu")
    t.load_state_dict(sd)
    assert t.state_dict() == sd
    with pytest.raises(RuntimeError, match="The source state dict is empty"):
        minitorch.amp.GradScaler("cpu").load_state_dict({})
    s2 = minitorch.amp.GradScaler("cpu")
    s2.scale(loss)
    s2.load_state_dict(sd)  # into an initialised scaler: the tensors are refilled
    assert s2.get_scale() == sd["scale"]


def _one_param_setup(lib, grad):
    p = lib.nn.Parameter(lib.tensor([1.0, 2.0]))
    opt = lib.optim.SGD([p], lr=0.1)
    scaler = lib.amp.GradScaler("cpu", init_scale=4.0)
    loss = scaler.scale((p * lib.tensor(grad)).sum())
    loss.backward()
    return p, opt, scaler


def test_grad_scaler_errors_as_torch():
    for lib in (minitorch, torch):
        p, opt, scaler = _one_param_setup(lib, [1.0, 1.0])
        scaler.unscale_(opt)
        np.testing.assert_array_equal(p.grad.detach().numpy(), [1.0, 1.0])
        with pytest.raises(RuntimeError, match=r"unscale_\(\) has already been called on this optimizer"):
            scaler.unscale_(opt)
        scaler.step(opt)
        with pytest.raises(RuntimeError, match=r"step\(\) has already been called since the last update"):
            scaler.step(opt)
        with pytest.raises(RuntimeError, match=r"unscale_\(\) is being called after step"):
            scaler.unscale_(opt)
        with pytest.raises(RuntimeError, match="Closure use is not currently supported"):
            scaler.step(opt, closure=lambda: 0)
        scaler.update()
        with pytest.raises(ValueError, match="outputs must be a Tensor or an iterable of Tensors"):
            scaler.scale(3.0)
        fresh = lib.amp.GradScaler("cpu")
        with pytest.raises(AssertionError, match="Attempted step but _scale is None"):
            fresh.step(opt)
        with pytest.raises(AssertionError, match="The growth factor must be > 1.0"):
            lib.amp.GradScaler("cpu", growth_factor=0.5)
        with pytest.raises(AssertionError, match="The backoff factor must be < 1.0"):
            lib.amp.GradScaler("cpu", backoff_factor=1.5)
        q = lib.nn.Parameter(lib.tensor([1.0]).half())
        opt16 = lib.optim.SGD([q], lr=0.1)
        s16 = lib.amp.GradScaler("cpu")
        s16.scale((q * 2).sum()).backward()
        with pytest.raises(ValueError, match="Attempting to unscale FP16 gradients"):
            s16.step(opt16)


def test_grad_scaler_skips_inf_step_and_update_forms():
    for lib in (minitorch, torch):
        p, opt, scaler = _one_param_setup(lib, [float("inf"), 1.0])
        assert scaler.step(opt) is None
        np.testing.assert_array_equal(p.detach().numpy(), [1.0, 2.0])  # skipped
        scaler.update()
        assert scaler.get_scale() == 2.0
        scaler.update(new_scale=64.0)
        assert scaler.get_scale() == 64.0
        scaler.update(new_scale=lib.tensor(8.0))
        assert scaler.get_scale() == 8.0
        out = scaler.scale([lib.tensor(1.0), (lib.tensor(2.0), lib.tensor(3.0))])
        assert isinstance(out, list) and isinstance(out[1], tuple) and out[1][1].item() == 24.0
        with pytest.raises(AssertionError, match="new_scale should be a float or a 1-element"):
            scaler.update(new_scale=lib.tensor([1.0, 2.0]))


def test_grad_scaler_one_read_per_optimizer_step(monkeypatch):
    model = mnn.Sequential(mnn.Linear(4, 8), mnn.ReLU(), mnn.Linear(8, 2))
    opt = minitorch.optim.SGD(model.parameters(), lr=0.1)
    scaler = minitorch.amp.GradScaler("cpu")
    scaler.scale(model(minitorch.tensor(X[:, :4])).sum()).backward()
    reads = []
    real = minitorch.Tensor.item
    monkeypatch.setattr(minitorch.Tensor, "item", lambda self: reads.append(1) or real(self))
    scaler.unscale_(opt)
    assert reads == []  # unscaling and the inf check stay on the device
    scaler.step(opt)
    assert len(reads) == 1  # four parameters, one read of the found-inf flag
    scaler.update()
    assert len(reads) == 1


def test_grad_scaler_disabled_pass_through():
    s = minitorch.amp.GradScaler("cpu", enabled=False)
    loss = minitorch.tensor(3.0)
    assert s.scale(loss) is loss and s.get_scale() == 1.0 and s.state_dict() == {} and not s.is_enabled()
    p = minitorch.nn.Parameter(minitorch.tensor([1.0]))
    opt = minitorch.optim.SGD([p], lr=0.5)
    (p * 2).sum().backward()
    s.step(opt)
    s.update()
    assert p.item() == 0.0


def test_grad_scaler_cuda_without_cuda_warns_as_torch():
    if minitorch.cuda.is_available():
        pytest.skip("CUDA is available here")
    with pytest.warns(UserWarning, match="GradScaler is enabled, but CUDA is not available.  Disabling."):
        s = minitorch.amp.GradScaler()
    with pytest.warns(UserWarning, match="GradScaler is enabled, but CUDA is not available.  Disabling."):
        torch.amp.GradScaler()
    assert not s.is_enabled()


def test_grad_scaler_on_device(device):
    p = minitorch.nn.Parameter(minitorch.tensor([1.0, 2.0], device=device))
    opt = minitorch.optim.SGD([p], lr=0.5)
    scaler = minitorch.amp.GradScaler(device, init_scale=8.0, growth_interval=1)
    with minitorch.autocast(device):
        loss = (p * minitorch.tensor([3.0, float("inf")], device=device)).sum()
    scaler.scale(loss).backward()
    scaler.step(opt)
    scaler.update()
    assert p.tolist() == [1.0, 2.0] and scaler.get_scale() == 4.0
    opt.zero_grad()
    scaler.scale((p * 3).sum()).backward()
    scaler.step(opt)
    scaler.update()
    assert p.tolist() == [-0.5, 0.5] and scaler.get_scale() == 8.0
