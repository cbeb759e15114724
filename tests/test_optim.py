"""Optimizers and learning-rate schedulers.

PyTorch is the oracle: the same initial parameters and the same gradients, step after step, must give the same
parameters and state as ``torch.optim`` (to float32 rounding; PyTorch's float32 sqrt is not correctly rounded, so
bit equality is not expected). The fused kernels are also checked against the tensor-op path (non-contiguous
parameters) and against a training run whose loss must fall.
"""
import math
import warnings

import numpy as np
import pytest

import minitorch
import minitorch.optim as optim
from minitorch.optim import _functional
from minitorch.optim import lr_scheduler as mls

SHAPES = [(4, 3), (5,), (), (2, 3, 2)]
STEPS = 6


def to_np(t):
    return t.detach().cpu().numpy()


def _problem(seed, dtype=np.float32, shapes=SHAPES, steps=STEPS):
    rng = np.random.default_rng(seed)
    init = [rng.standard_normal(s).astype(dtype) for s in shapes]
    grads = [[rng.standard_normal(s).astype(dtype) for s in shapes] for _ in range(steps)]
    if len(shapes) > 1 and steps > 2:
        grads[2][1] = None  # no gradient at step 2: the parameter is skipped and its state does not advance
    return init, grads


def _run_torch(torch, cls_name, kwargs, init, grads):
    params = [torch.tensor(a, requires_grad=True) for a in init]
    opt = getattr(torch.optim, cls_name)(params, **kwargs)
    for step in grads:
        for p, g in zip(params, step):
            p.grad = None if g is None else torch.tensor(g)
        opt.step()
    return params, opt


def _run_mini(cls_name, kwargs, init, grads, device="cpu", make_param=None):
    make_param = make_param or (lambda a: minitorch.tensor(a, device=device, requires_grad=True))
    params = [make_param(a) for a in init]
    opt = getattr(optim, cls_name)(params, **kwargs)
    for step in grads:
        for p, g in zip(params, step):
            p.grad = None if g is None else minitorch.tensor(g, device=device)
        opt.step()
    return params, opt


def _assert_state_matches(mini_opt, torch_opt, mini_params, torch_params, rtol, atol):
    for mp, tp in zip(mini_params, torch_params):
        np.testing.assert_allclose(to_np(mp), tp.detach().numpy(), rtol=rtol, atol=atol)
        ms, ts = mini_opt.state[mp], torch_opt.state[tp]
        assert set(ms) == set(ts)
        for key, tv in ts.items():
            mv = ms[key]
            assert isinstance(mv, minitorch.Tensor)
            assert mv.shape == tuple(tv.shape), key
            np.testing.assert_allclose(to_np(mv), tv.detach().numpy(), rtol=rtol, atol=atol, err_msg=key)


CASES = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.9}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.3}),
    ("SGD", {"lr": 0.05, "momentum": 0.8, "nesterov": True}),
    ("SGD", {"lr": 0.1, "weight_decay": 0.1}),
    ("SGD", {"lr": 0.1, "maximize": True}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01, "maximize": True}),
    ("Adam", {}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.01, "amsgrad": True}),
    ("Adam", {"lr": 0.01, "betas": (0.3, 0.5)}),  # 1 - beta1 >= 0.5: lerp's other formula
    ("Adam", {"lr": 0.01, "amsgrad": True, "weight_decay": 0.1, "maximize": True, "eps": 1e-3}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("AdamW", {}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.5, "amsgrad": True}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.0, "maximize": True, "betas": (0.8, 0.9)}),
    ("RMSprop", {}),
    ("RMSprop", {"lr": 0.01, "centered": True}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.9}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.3, "centered": True, "momentum": 0.5, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.01, "maximize": True, "eps": 1e-4}),
    ("Adagrad", {}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.05}),
    ("Adagrad", {"lr": 0.1, "weight_decay": 0.1, "initial_accumulator_value": 0.5}),
    ("Adagrad", {"lr": 0.1, "maximize": True, "eps": 1e-3}),
    ("Adadelta", {}),
    ("Adadelta", {"lr": 0.5, "rho": 0.5, "eps": 1e-4}),
    ("Adadelta", {"weight_decay": 0.1, "maximize": True}),
]


def _case_id(case):
    name, kw = case
    return name + "-" + ",".join(f"{k}={v}" for k, v in kw.items())


@pytest.mark.torch
@pytest.mark.parametrize("seed, case", list(enumerate(CASES)), ids=[_case_id(c) for c in CASES])
def test_matches_torch(seed, case, device):
    torch = pytest.importorskip("torch")
    name, kwargs = case
    init, grads = _problem(seed=seed)
    tp, topt = _run_torch(torch, name, kwargs, init, grads)
    mp, mopt = _run_mini(name, kwargs, init, grads, device)
    _assert_state_matches(mopt, topt, mp, tp, rtol=1e-5, atol=1e-6)


@pytest.mark.torch
@pytest.mark.parametrize("name, kwargs", [("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
                                          ("Adam", {"lr": 0.01, "amsgrad": True}),
                                          ("RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.5}),
                                          ("Adagrad", {"lr": 0.1}), ("Adadelta", {})])
def test_matches_torch_float64(name, kwargs):
    torch = pytest.importorskip("torch")
    init, grads = _problem(seed=7, dtype=np.float64)
    tp, topt = _run_torch(torch, name, kwargs, init, grads)
    mp, mopt = _run_mini(name, kwargs, init, grads)
    assert all(p.dtype is minitorch.float64 for p in mp)
    _assert_state_matches(mopt, topt, mp, tp, rtol=1e-12, atol=1e-14)


@pytest.mark.torch
@pytest.mark.parametrize("case", [c for c in CASES if len(c[1]) > 1 or c[0] in ("Adagrad", "Adadelta")],
                         ids=_case_id)
def test_non_contiguous_params_take_the_tensor_op_path(case, monkeypatch):
    """A parameter that is a transposed view cannot go through the flat kernel; the tensor-op path must give the
    same numbers (and the kernel must not be called for it)."""
    torch = pytest.importorskip("torch")
    name, kwargs = case
    shapes = [(4, 3), (3, 2)]
    init, grads = _problem(seed=3, shapes=shapes)

    def make_param(a):
        base = minitorch.tensor(np.ascontiguousarray(a.T))
        p = base.t()
        p.requires_grad_(True)
        assert not p.is_contiguous()
        return p

    calls = []
    real = _functional._fused
    monkeypatch.setattr(_functional, "_fused", lambda p, g, bufs: calls.append(1) or real(p, g, bufs))
    tp, topt = _run_torch(torch, name, kwargs, init, grads)
    mp, mopt = _run_mini(name, kwargs, init, grads, make_param=make_param)
    assert calls  # the launcher was asked, and declined
    _assert_state_matches(mopt, topt, mp, tp, rtol=1e-5, atol=1e-6)


def _strided_param(x):
    """A leaf parameter holding ``x`` as a non-contiguous view (every other element of a bigger buffer)."""
    if x.ndim == 0:
        return minitorch.tensor(x, requires_grad=True)
    base = minitorch.zeros(2 * x.size)
    strides = [2 * s // x.itemsize for s in np.zeros(x.shape, x.dtype).strides]
    p = base.as_strided(x.shape, strides, 0)
    p.copy_(minitorch.tensor(x))
    p.requires_grad_(True)
    assert not p.is_contiguous()
    return p


def test_fused_and_tensor_paths_agree():
    init, grads = _problem(seed=11)
    for name, kwargs in CASES:
        fused, _ = _run_mini(name, kwargs, init, grads)
        tensor_ops, _ = _run_mini(name, kwargs, init, grads, make_param=_strided_param)
        for a, b in zip(fused, tensor_ops):
            np.testing.assert_allclose(to_np(a), to_np(b), rtol=1e-5, atol=1e-6, err_msg=name)


def test_non_contiguous_grad_is_accepted():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    a, g = rng.standard_normal((3, 4)).astype(np.float32), rng.standard_normal((4, 3)).astype(np.float32)
    p = minitorch.tensor(a, requires_grad=True)
    p.grad = minitorch.tensor(g).t()
    assert not p.grad.is_contiguous()
    optim.SGD([p], lr=0.1, momentum=0.9).step()
    tp = torch.tensor(a, requires_grad=True)
    tp.grad = torch.tensor(g).t()
    torch.optim.SGD([tp], lr=0.1, momentum=0.9).step()
    np.testing.assert_allclose(to_np(p), tp.detach().numpy(), rtol=1e-6)


# ---------------------------------------------------------------------------------------------------------------
# kernels, version counters, autograd interplay
# ---------------------------------------------------------------------------------------------------------------
def test_kernels_come_from_the_dispatch_registry(device):
    mod = _functional._optim_kernels(device)
    pkg = minitorch.dispatch.kernels(device)
    assert mod is not None and mod.__name__ == pkg.__name__ + ".optim"
    for name in ("sgd", "adam", "rmsprop", "adagrad", "adadelta"):
        assert callable(getattr(mod, name + "_step")) and callable(getattr(mod, name + "_step_par"))


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop", "Adagrad", "Adadelta"])
def test_parallel_kernel_matches_serial(name, monkeypatch):
    init, grads = _problem(seed=5, shapes=[(200, 100), (3,)])  # split over the threads
    kwargs = {"lr": 0.01, "momentum": 0.9} if name == "SGD" else {}
    serial, _ = _run_mini(name, kwargs, init, grads)
    monkeypatch.setattr(_functional, "PAR_MIN", 1)
    par, _ = _run_mini(name, kwargs, init, grads)
    np.testing.assert_array_equal(to_np(serial[0]), to_np(par[0]))


def test_step_bumps_version_counters():
    p = minitorch.randn(3, requires_grad=True)
    p.grad = minitorch.ones(3)
    opt = optim.Adam([p])
    v0 = p._version
    opt.step()
    assert p._version > v0
    m = opt.state[p]["exp_avg"]
    v1 = m._version
    opt.step()
    assert m._version > v1 and opt.state[p]["step"].item() == 2.0


def test_saved_tensor_modified_by_step_is_detected():
    """A parameter saved for backward and then updated in place must make that backward fail, as in PyTorch."""
    w = minitorch.tensor([1.0, 2.0], requires_grad=True)
    y = (w * w).sum()
    w.grad = minitorch.ones(2)
    optim.SGD([w], lr=0.1).step()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_step_runs_without_recording_and_closure_with_it():
    w = minitorch.tensor([1.0, -2.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    seen = {}

    def closure():
        seen["enabled"] = minitorch.is_grad_enabled()
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with minitorch.no_grad():
        loss = opt.step(closure)
    assert seen["enabled"] and loss.item() == 5.0
    np.testing.assert_allclose(to_np(w), [0.8, -1.6], rtol=1e-6)
    assert w.is_leaf and w.grad_fn is None and w.requires_grad


def test_training_loss_falls():
    rng = np.random.default_rng(0)
    X = minitorch.tensor(rng.standard_normal((64, 5)).astype(np.float32))
    true_w = rng.standard_normal((5, 1)).astype(np.float32)
    y = X @ minitorch.tensor(true_w)
    for name, kwargs in [("SGD", {"lr": 0.05, "momentum": 0.9}), ("Adam", {"lr": 0.05}),
                         ("AdamW", {"lr": 0.05}), ("RMSprop", {"lr": 0.01}), ("Adagrad", {"lr": 0.3}),
                         ("Adadelta", {"lr": 5.0})]:
        w = minitorch.zeros((5, 1), requires_grad=True)
        b = minitorch.zeros(1, requires_grad=True)
        opt = getattr(optim, name)([w, b], **kwargs)
        losses = []
        for _ in range(60):
            opt.zero_grad()
            loss = ((X @ w + b - y) ** 2).mean()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        assert losses[-1] < 0.2 * losses[0], (name, losses[0], losses[-1])


# ---------------------------------------------------------------------------------------------------------------
# Optimizer API: groups, zero_grad, hooks, state dicts
# ---------------------------------------------------------------------------------------------------------------
def test_zero_grad():
    p = minitorch.randn(3, requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    p.grad = minitorch.ones(3)
    g = p.grad
    opt.zero_grad(set_to_none=False)
    assert p.grad is g and np.all(to_np(g) == 0)
    opt.zero_grad()
    assert p.grad is None
    opt.zero_grad()  # no grad: nothing to do


def test_param_groups_and_add_param_group():
    a, b, c = (minitorch.randn(2, requires_grad=True) for _ in range(3))
    opt = optim.SGD([{"params": [a]}, {"params": b, "lr": 0.5, "momentum": 0.9}], lr=0.1)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    assert opt.param_groups[0]["momentum"] == 0 and opt.param_groups[1]["momentum"] == 0.9
    assert opt.param_groups[1]["params"] == [b] or opt.param_groups[1]["params"][0] is b
    opt.add_param_group({"params": [c], "lr": 0.01})
    assert len(opt.param_groups) == 3 and opt.param_groups[2]["nesterov"] is False
    for p in (a, b, c):
        p.grad = minitorch.ones(2)
    before = [to_np(p).copy() for p in (a, b, c)]
    opt.step()
    for p, x, lr in zip((a, b, c), before, (0.1, 0.5, 0.01)):
        np.testing.assert_allclose(to_np(p), x - lr, rtol=1e-6)
    assert "momentum_buffer" in opt.state[b] and a not in opt.state
    assert "SGD (" in repr(opt) and "Parameter Group 2" in repr(opt)


def test_named_parameters():
    a, b = minitorch.randn(2, requires_grad=True), minitorch.randn(2, requires_grad=True)
    opt = optim.Adam([("w", a), ("b", b)])
    assert opt.param_groups[0]["param_names"] == ["w", "b"]
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["w", "b"]


@pytest.mark.parametrize("make, exc, match", [
    (lambda p: optim.SGD([p], lr=-1), ValueError, "Invalid learning rate: -1"),
    (lambda p: optim.SGD([p], lr=0.1, momentum=-0.5), ValueError, "Invalid momentum value: -0.5"),
    (lambda p: optim.SGD([p], lr=0.1, weight_decay=-1), ValueError, "Invalid weight_decay value: -1"),
    (lambda p: optim.SGD([p], lr=0.1, nesterov=True), ValueError, "Nesterov momentum requires a momentum and zero"),
    (lambda p: optim.SGD([p], lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), ValueError,
     "Nesterov momentum requires a momentum and zero dampening"),
    (lambda p: optim.SGD([], lr=0.1), ValueError, "optimizer got an empty parameter list"),
    (lambda p: optim.SGD(p, lr=0.1), TypeError, "should be an iterable of Tensors or dicts"),
    (lambda p: optim.SGD([p, 3], lr=0.1), TypeError,
     "optimizer can only optimize Tensors, but one of the params is int"),
    (lambda p: optim.SGD([p * 2], lr=0.1), ValueError, "can't optimize a non-leaf Tensor"),
    (lambda p: optim.SGD([{"params": {p}}], lr=0.1), TypeError, "ordered collections"),
    (lambda p: optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1), ValueError,
     "some parameters appear in more than one parameter group"),
    (lambda p: optim.Adam([p], lr=-0.1), ValueError, "Invalid learning rate: -0.1"),
    (lambda p: optim.Adam([p], eps=-1.0), ValueError, "Invalid epsilon value: -1.0"),
    (lambda p: optim.Adam([p], betas=(1.0, 0.999)), ValueError, "Invalid beta parameter at index 0: 1.0"),
    (lambda p: optim.Adam([p], betas=(0.9, -0.1)), ValueError, "Invalid beta parameter at index 1: -0.1"),
    (lambda p: optim.Adam([p], betas=(0, 0.9)), ValueError, "betas must be either both floats or both Tensors"),
    (lambda p: optim.Adam([p], weight_decay=-1), ValueError, "Invalid weight_decay value: -1"),
    (lambda p: optim.AdamW([p], lr=-1), ValueError, "Invalid learning rate: -1"),
    (lambda p: optim.RMSprop([p], alpha=-1), ValueError, "Invalid alpha value: -1"),
    (lambda p: optim.RMSprop([p], momentum=-1), ValueError, "Invalid momentum value: -1"),
    (lambda p: optim.Adagrad([p], lr_decay=-1), ValueError, "Invalid lr_decay value: -1"),
    (lambda p: optim.Adagrad([p], initial_accumulator_value=-1), ValueError,
     "Invalid initial_accumulator_value value: -1"),
    (lambda p: optim.Adadelta([p], rho=1.5), ValueError, "Invalid rho value: 1.5"),
    (lambda p: optim.Adadelta([p], eps=-1), ValueError, "Invalid epsilon value: -1"),
    (lambda p: optim.SGD([p], lr=0.1, differentiable=True), RuntimeError, "differentiable=True is not supported"),
])
def test_argument_validation(make, exc, match):
    p = minitorch.randn(2, requires_grad=True)
    with pytest.raises(exc, match=match):
        make(p)


@pytest.mark.torch
@pytest.mark.parametrize("make, exc", [
    (lambda m, p: m.optim.SGD([p], lr=-1), ValueError),
    (lambda m, p: m.optim.SGD([], lr=0.1), ValueError),
    (lambda m, p: m.optim.Adam([p], betas=(0.9, 1.0)), ValueError),
    (lambda m, p: m.optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1), ValueError),
])
def test_validation_messages_equal_torch(make, exc):
    torch = pytest.importorskip("torch")
    with pytest.raises(exc) as mine:
        make(minitorch, minitorch.randn(2, requires_grad=True))
    with pytest.raises(exc) as theirs:
        make(torch, torch.randn(2, requires_grad=True))
    assert str(mine.value) == str(theirs.value)


def test_duplicate_param_in_one_group_warns():
    p = minitorch.randn(2, requires_grad=True)
    with pytest.warns(UserWarning, match="duplicate parameters"):
        optim.SGD([p, p], lr=0.1)


def test_step_hooks():
    p = minitorch.randn(2, requires_grad=True)
    p.grad = minitorch.ones(2)
    opt = optim.SGD([p], lr=0.1)
    calls = []
    h1 = opt.register_step_pre_hook(lambda o, args, kwargs: calls.append(("pre", o is opt)))
    opt.register_step_post_hook(lambda o, args, kwargs: calls.append(("post", o is opt)))
    opt.step()
    assert calls == [("pre", True), ("post", True)]
    h1.remove()
    opt.step()
    assert calls[-1] == ("post", True) and len(calls) == 3


@pytest.mark.torch
@pytest.mark.parametrize("name, kwargs", [("SGD", {"lr": 0.1, "momentum": 0.9}), ("Adam", {"amsgrad": True}),
                                          ("RMSprop", {"centered": True, "momentum": 0.1}), ("Adagrad", {}),
                                          ("Adadelta", {}), ("AdamW", {})])
def test_state_dict_layout_matches_torch(name, kwargs):
    torch = pytest.importorskip("torch")
    init, grads = _problem(seed=2, steps=2)
    tp, topt = _run_torch(torch, name, kwargs, init, grads)
    mp, mopt = _run_mini(name, kwargs, init, grads)
    tsd, msd = topt.state_dict(), mopt.state_dict()
    assert list(msd) == ["state", "param_groups"]
    assert set(msd["state"]) == set(tsd["state"])
    for k in tsd["state"]:
        assert set(msd["state"][k]) == set(tsd["state"][k])
        step = msd["state"][k].get("step")
        if step is not None:
            assert step.dtype is minitorch.float32 and step.shape == ()
    assert msd["param_groups"] == tsd["param_groups"]


@pytest.mark.torch
@pytest.mark.parametrize("name, kwargs", [("SGD", {"lr": 0.1, "momentum": 0.9}), ("Adam", {"amsgrad": True}),
                                          ("RMSprop", {"centered": True, "momentum": 0.1}), ("Adagrad", {}),
                                          ("Adadelta", {})])
def test_load_torch_state_dict_and_continue(name, kwargs):
    """A PyTorch optimizer's state dict, converted tensor by tensor, resumes the run exactly where PyTorch would."""
    torch = pytest.importorskip("torch")
    init, grads = _problem(seed=4, steps=6)
    tp, topt = _run_torch(torch, name, kwargs, init, grads[:3])
    tsd = topt.state_dict()
    msd = {"state": {k: {n: minitorch.tensor(v.numpy()) for n, v in s.items()} for k, s in tsd["state"].items()},
           "param_groups": tsd["param_groups"]}
    mp = [minitorch.tensor(p.detach().numpy(), requires_grad=True) for p in tp]
    mopt = getattr(optim, name)(mp, **kwargs)
    mopt.load_state_dict(msd)
    for step in grads[3:]:
        for p, q, g in zip(mp, tp, step):
            p.grad = None if g is None else minitorch.tensor(g)
            q.grad = None if g is None else torch.tensor(g)
        mopt.step()
        topt.step()
    _assert_state_matches(mopt, topt, mp, tp, rtol=1e-5, atol=1e-6)


def test_state_dict_round_trip_resumes_identically():
    init, grads = _problem(seed=8, steps=6)
    for name, kwargs in [("SGD", {"lr": 0.1, "momentum": 0.9}), ("Adam", {"amsgrad": True}),
                         ("RMSprop", {"centered": True, "momentum": 0.5}), ("Adagrad", {}), ("Adadelta", {})]:
        full, _ = _run_mini(name, kwargs, init, grads)
        half, opt = _run_mini(name, kwargs, init, grads[:3])
        sd = opt.state_dict()
        fresh = [minitorch.tensor(to_np(p), requires_grad=True) for p in half]
        opt2 = getattr(optim, name)(fresh, lr=123.0)  # options come back from the state dict
        opt2.load_state_dict(sd)
        assert opt2.param_groups[0]["lr"] == opt.param_groups[0]["lr"]
        assert opt2.param_groups[0]["params"][0] is fresh[0]
        for step in grads[3:]:
            for p, g in zip(fresh, step):
                p.grad = None if g is None else minitorch.tensor(g)
            opt2.step()
        for a, b in zip(full, fresh):
            np.testing.assert_array_equal(to_np(a), to_np(b), err_msg=name)


def test_load_state_dict_errors_and_casts():
    p = minitorch.randn(3, requires_grad=True)
    p.grad = minitorch.ones(3)
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    opt.step()
    sd = opt.state_dict()
    two = optim.SGD([{"params": [minitorch.randn(3, requires_grad=True)]},
                     {"params": [minitorch.randn(3, requires_grad=True)]}], lr=0.1)
    with pytest.raises(ValueError, match="different number of parameter groups"):
        two.load_state_dict(sd)
    bigger = optim.SGD([minitorch.randn(3, requires_grad=True), minitorch.randn(3, requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match="doesn't match the size of optimizer's group"):
        bigger.load_state_dict(sd)
    q = minitorch.randn(3, dtype=minitorch.float64, requires_grad=True)
    opt64 = optim.SGD([q], lr=0.1, momentum=0.9)
    opt64.load_state_dict(sd)
    assert opt64.state[q]["momentum_buffer"].dtype is minitorch.float64  # cast to the parameter's dtype


def test_old_style_numeric_step_is_converted():
    p = minitorch.randn(3, requires_grad=True)
    opt = optim.Adam([p])
    opt.load_state_dict({"state": {0: {"step": 3, "exp_avg": minitorch.zeros(3), "exp_avg_sq": minitorch.zeros(3)}},
                         "param_groups": [dict(opt.state_dict()["param_groups"][0])]})
    step = opt.state[p]["step"]
    assert isinstance(step, minitorch.Tensor) and step.item() == 3.0
    p.grad = minitorch.ones(3)
    opt.step()
    assert opt.state[p]["step"].item() == 4.0


def test_state_buffer_of_wrong_shape_is_an_error_not_a_crash():
    p = minitorch.randn(3, requires_grad=True)
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    opt.state[p]["momentum_buffer"] = minitorch.zeros(5)
    p.grad = minitorch.ones(3)
    with pytest.raises(RuntimeError, match="size"):
        opt.step()


# ---------------------------------------------------------------------------------------------------------------
# learning-rate schedulers against torch.optim.lr_scheduler
# ---------------------------------------------------------------------------------------------------------------
def _sched_pair(torch, opt_name, opt_kwargs, sched_name, sched_kwargs, groups=1):
    mp = [minitorch.zeros(2, requires_grad=True) for _ in range(groups)]
    tp = [torch.zeros(2, requires_grad=True) for _ in range(groups)]
    lrs = [0.1 * (i + 1) for i in range(groups)]
    mopt = getattr(optim, opt_name)([{"params": [p], "lr": lr} for p, lr in zip(mp, lrs)], **opt_kwargs)
    topt = getattr(torch.optim, opt_name)([{"params": [p], "lr": lr} for p, lr in zip(tp, lrs)], **opt_kwargs)
    ms = getattr(mls, sched_name)(mopt, **sched_kwargs(mopt) if callable(sched_kwargs) else sched_kwargs)
    ts = getattr(torch.optim.lr_scheduler, sched_name)(topt, **sched_kwargs(topt) if callable(sched_kwargs)
                                                        else sched_kwargs)
    return mopt, topt, ms, ts


def _group_view(opt):
    keys = ("lr", "momentum", "betas")
    return [{k: g[k] for k in keys if k in g} for g in opt.param_groups]


SCHEDULES = [
    ("SGD", {"lr": 0.1}, "StepLR", {"step_size": 7, "gamma": 0.5}),
    ("SGD", {"lr": 0.1}, "MultiStepLR", {"milestones": [3, 8, 8, 20], "gamma": 0.3}),
    ("SGD", {"lr": 0.1}, "ExponentialLR", {"gamma": 0.9}),
    ("SGD", {"lr": 0.1}, "CosineAnnealingLR", {"T_max": 10, "eta_min": 0.001}),
    ("SGD", {"lr": 0.1}, "CosineAnnealingLR", {"T_max": 35}),
    ("SGD", {"lr": 0.1}, "LambdaLR", {"lr_lambda": lambda e: 1.0 / (1 + e)}),
    ("SGD", {"lr": 0.1}, "MultiplicativeLR", {"lr_lambda": lambda e: 0.95}),
    ("SGD", {"lr": 0.1}, "ConstantLR", {"factor": 0.5, "total_iters": 4}),
    ("SGD", {"lr": 0.1}, "LinearLR", {"start_factor": 0.25, "total_iters": 10}),
    ("SGD", {"lr": 0.1}, "PolynomialLR", {"total_iters": 20, "power": 2.0}),
    ("SGD", {"lr": 0.1}, "CosineAnnealingWarmRestarts", {"T_0": 5, "T_mult": 2, "eta_min": 0.01}),
    ("SGD", {"lr": 0.1, "momentum": 0.9}, "OneCycleLR", {"max_lr": 1.0, "total_steps": 31}),
    ("SGD", {"lr": 0.1, "momentum": 0.9}, "OneCycleLR", {"max_lr": [1.0, 0.5], "total_steps": 31,
                                                          "anneal_strategy": "linear"}),
    ("SGD", {"lr": 0.1, "momentum": 0.9}, "OneCycleLR", {"max_lr": 0.3, "epochs": 3, "steps_per_epoch": 11,
                                                          "three_phase": True, "pct_start": 0.25}),
    ("Adam", {"lr": 0.1}, "OneCycleLR", {"max_lr": 0.01, "total_steps": 31, "base_momentum": 0.8,
                                         "max_momentum": 0.9}),
    ("Adam", {"lr": 0.1}, "OneCycleLR", {"max_lr": 0.01, "total_steps": 31, "cycle_momentum": False,
                                         "div_factor": 10.0, "final_div_factor": 100.0}),
]


@pytest.mark.torch
@pytest.mark.parametrize("opt_name, opt_kwargs, sched_name, sched_kwargs", SCHEDULES,
                         ids=[f"{s[2]}-{i}" for i, s in enumerate(SCHEDULES)])
def test_scheduler_matches_torch(opt_name, opt_kwargs, sched_name, sched_kwargs):
    torch = pytest.importorskip("torch")
    mopt, topt, ms, ts = _sched_pair(torch, opt_name, opt_kwargs, sched_name, sched_kwargs, groups=2)
    assert ms.get_last_lr() == pytest.approx(ts.get_last_lr(), rel=1e-12)
    for _ in range(30):
        mopt.step()
        topt.step()
        ms.step()
        ts.step()
        assert ms.get_last_lr() == pytest.approx(ts.get_last_lr(), rel=1e-12, abs=1e-15)
        for mg, tg in zip(_group_view(mopt), _group_view(topt)):
            assert set(mg) == set(tg)
            for k in mg:
                assert np.allclose(np.asarray(mg[k]), np.asarray(tg[k]), rtol=1e-12, atol=1e-15), k
    assert ms.last_epoch == ts.last_epoch


@pytest.mark.torch
def test_sequential_and_chained_match_torch():
    torch = pytest.importorskip("torch")
    runs = []
    for m in (minitorch, torch):
        p = (m.zeros(2, requires_grad=True),)
        opt = m.optim.SGD(p, lr=0.1)
        L = m.optim.lr_scheduler
        warm = L.LinearLR(opt, start_factor=0.1, total_iters=5)
        decay = L.ExponentialLR(opt, gamma=0.9)
        seq = L.SequentialLR(opt, schedulers=[warm, decay], milestones=[5])
        lrs = []
        for _ in range(20):
            opt.step()
            seq.step()
            lrs.append(seq.get_last_lr()[0])
        opt2 = m.optim.SGD((m.zeros(2, requires_grad=True),), lr=1.0)
        chain = L.ChainedScheduler([L.StepLR(opt2, 3, gamma=0.5), L.ExponentialLR(opt2, gamma=0.9)])
        for _ in range(10):
            opt2.step()
            chain.step()
            lrs.append(chain.get_last_lr()[0])
        runs.append(lrs)
    assert runs[0] == pytest.approx(runs[1], rel=1e-12)


@pytest.mark.torch
@pytest.mark.parametrize("kwargs", [
    {}, {"mode": "max", "factor": 0.5, "patience": 2}, {"threshold_mode": "abs", "threshold": 0.05, "patience": 1},
    {"mode": "max", "threshold_mode": "abs", "cooldown": 2, "patience": 0}, {"min_lr": [0.02, 0.05], "patience": 0},
    {"factor": 0.5, "patience": 0, "eps": 0.01}, {"cooldown": 3, "patience": 1, "min_lr": 0.001},
])
def test_reduce_lr_on_plateau_matches_torch(kwargs):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    metrics = list(np.round(np.cumsum(rng.standard_normal(30) * 0.1) + 1.0, 2))
    mopt, topt, ms, ts = _sched_pair(torch, "SGD", {}, "ReduceLROnPlateau", kwargs, groups=2)
    for i, v in enumerate(metrics):
        metric = minitorch.tensor(v) if i % 3 == 0 else float(v)  # a 0-d tensor works as in torch
        ms.step(metric)
        ts.step(float(v))
        assert ms.get_last_lr() == pytest.approx(ts.get_last_lr(), rel=1e-12)
        assert (ms.best, ms.num_bad_epochs, ms.cooldown_counter) == (ts.best, ts.num_bad_epochs,
                                                                      ts.cooldown_counter)


def test_scheduler_state_dict_round_trip():
    p = minitorch.zeros(2, requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    s = mls.StepLR(opt, step_size=3, gamma=0.5)
    for _ in range(4):
        opt.step()
        s.step()
    sd = s.state_dict()
    assert "optimizer" not in sd and sd["last_epoch"] == 4
    opt2 = optim.SGD([minitorch.zeros(2, requires_grad=True)], lr=0.1)
    s2 = mls.StepLR(opt2, step_size=100)
    s2.load_state_dict(sd)
    opt2.load_state_dict(opt.state_dict())
    for _ in range(5):
        opt.step()
        s.step()
        opt2.step()
        s2.step()
    assert s.get_last_lr() == s2.get_last_lr() and opt.param_groups[0]["lr"] == opt2.param_groups[0]["lr"]
    lam = mls.LambdaLR(opt2, lr_lambda=lambda e: 0.5)
    assert lam.state_dict()["lr_lambdas"] == [None]
    plateau = mls.ReduceLROnPlateau(opt2)
    plateau.step(1.0)
    sd = plateau.state_dict()
    plateau2 = mls.ReduceLROnPlateau(opt2, mode="max")
    plateau2.load_state_dict(sd)
    assert plateau2.mode == "min" and plateau2.best == 1.0


def test_scheduler_before_optimizer_step_warns():
    opt = optim.SGD([minitorch.zeros(2, requires_grad=True)], lr=0.1)
    s = mls.StepLR(opt, 2)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        s.step()
    opt2 = optim.SGD([minitorch.zeros(2, requires_grad=True)], lr=0.1)
    s2 = mls.StepLR(opt2, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt2.step()
        s2.step()


@pytest.mark.parametrize("make, exc, match", [
    (lambda o: mls.StepLR(object(), 3), TypeError, "object is not an Optimizer"),
    (lambda o: mls.StepLR(o, 3, last_epoch=5), KeyError, "initial_lr"),
    (lambda o: mls.LambdaLR(o, [lambda e: 1, lambda e: 2]), ValueError, "Expected 1 lr_lambdas, but got 2"),
    (lambda o: mls.ReduceLROnPlateau(o, factor=1.0), ValueError, "Factor should be < 1.0."),
    (lambda o: mls.ReduceLROnPlateau(o, mode="up"), ValueError, "mode up is unknown!"),
    (lambda o: mls.ReduceLROnPlateau(o, threshold_mode="x"), ValueError, "threshold mode x is unknown!"),
    (lambda o: mls.ReduceLROnPlateau(o, min_lr=[0.1, 0.2]), ValueError, "expected 1 min_lrs, got 2"),
    (lambda o: mls.OneCycleLR(o, max_lr=0.1), ValueError, "You must define either total_steps OR"),
    (lambda o: mls.OneCycleLR(o, max_lr=0.1, total_steps=0), ValueError, "Expected positive integer total_steps"),
    (lambda o: mls.OneCycleLR(o, max_lr=0.1, total_steps=10, pct_start=1.5), ValueError, "pct_start"),
    (lambda o: mls.OneCycleLR(o, max_lr=0.1, total_steps=10, anneal_strategy="exp"), ValueError,
     "anneal_strategy must be one of 'cos' or 'linear', instead got exp"),
    (lambda o: mls.OneCycleLR(o, max_lr=[0.1, 0.2], total_steps=10), ValueError,
     "max_lr must have the same length as optimizer.param_groups"),
    (lambda o: mls.OneCycleLR(optim.Adagrad([minitorch.zeros(1, requires_grad=True)]), max_lr=0.1,
                              total_steps=10), ValueError, "optimizer must support momentum or beta1"),
    (lambda o: mls.CosineAnnealingWarmRestarts(o, T_0=0), ValueError, "Expected positive integer T_0"),
    (lambda o: mls.LinearLR(o, start_factor=0), ValueError, "Starting multiplicative factor"),
])
def test_scheduler_argument_validation(make, exc, match):
    opt = optim.SGD([minitorch.zeros(2, requires_grad=True)], lr=0.1, momentum=0.9)
    with pytest.raises(exc, match=match):
        make(opt)


def test_one_cycle_past_total_steps_raises():
    opt = optim.SGD([minitorch.zeros(2, requires_grad=True)], lr=0.1, momentum=0.9)
    s = mls.OneCycleLR(opt, max_lr=0.1, total_steps=3)
    for _ in range(3):
        opt.step()
        s.step()
    with pytest.raises(ValueError, match="Tried to step 4 times. The specified number of total steps is 3"):
        s.step()


def test_scheduler_drives_the_optimizer_update():
    p = minitorch.zeros(1, requires_grad=True)
    opt = optim.SGD([p], lr=1.0)
    s = mls.ExponentialLR(opt, gamma=0.5)
    total = 0.0
    for _ in range(4):
        p.grad = minitorch.ones(1)
        total += opt.param_groups[0]["lr"]
        opt.step()
        s.step()
    assert math.isclose(p.item(), -total) and total == 1.875


def test_trains_an_nn_module():
    nn = pytest.importorskip("minitorch.nn")
    minitorch.manual_seed(0)
    model = nn.Sequential(nn.Linear(20, 32), nn.ReLU(), nn.Linear(32, 5))
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    sched = mls.StepLR(opt, step_size=20, gamma=0.5)
    x, y = minitorch.randn(64, 20), minitorch.randint(0, 5, (64,))
    loss_fn = nn.CrossEntropyLoss()
    losses = []
    for _ in range(40):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        sched.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
    assert all(type(p).__name__ == "Parameter" and p.is_leaf for p in model.parameters())
    assert len(opt.state) == len(list(model.parameters()))


@pytest.mark.torch
@pytest.mark.parametrize("name, kwargs", [("Adam", {"amsgrad": True}), ("SGD", {"lr": 0.1, "momentum": 0.9}),
                                          ("RMSprop", {}), ("Adagrad", {}), ("Adadelta", {})])
def test_nan_and_inf_gradients_propagate_as_in_torch(name, kwargs):
    torch = pytest.importorskip("torch")
    init = [np.linspace(-1, 1, 6, dtype=np.float32)]
    g1 = np.array([np.nan, 1.0, -np.inf, 0.5, 0.0, 2.0], np.float32)
    g2 = np.array([1.0, np.nan, 1.0, np.inf, 0.0, -2.0], np.float32)
    grads = [[g1], [g2], [np.ones(6, np.float32)]]
    tp, _ = _run_torch(torch, name, kwargs, init, grads)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mp, _ = _run_mini(name, kwargs, init, grads)
    np.testing.assert_allclose(to_np(mp[0]), tp[0].detach().numpy(), rtol=1e-6, equal_nan=True)
