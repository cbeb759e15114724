"""Adamax, NAdam, RAdam, ASGD, Rprop and LBFGS against PyTorch, plus the shared optimizer machinery.

PyTorch is the oracle: the same initial parameters and gradients, step after step, must give the same parameters
and state (float32 to 1e-6; float64 to 1e-12), the same state-dict layout, signatures and validation messages.
"""
import inspect
import warnings

import numpy as np
import pytest

import minitorch
import minitorch.optim as optim
from minitorch.optim import _functional

pytestmark = pytest.mark.torch

NEW = ["Adamax", "NAdam", "RAdam", "ASGD", "Rprop"]
ALL = NEW + ["LBFGS", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta"]

CASES = [
    ("Adamax", {}),
    ("Adamax", {"lr": 0.05, "weight_decay": 0.1, "maximize": True}),
    ("Adamax", {"lr": 0.05, "betas": (0.3, 0.5), "eps": 1e-3}),  # 1 - beta1 >= 0.5: lerp's other formula
    ("NAdam", {}),
    ("NAdam", {"lr": 0.05, "weight_decay": 0.1, "momentum_decay": 0.02}),
    ("NAdam", {"lr": 0.05, "weight_decay": 0.1, "decoupled_weight_decay": True, "maximize": True}),
    ("RAdam", {}),
    ("RAdam", {"lr": 0.05, "betas": (0.9, 0.9)}),  # rho_t passes 5 after a few steps: both branches
    ("RAdam", {"lr": 0.05, "betas": (0.8, 0.8), "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("RAdam", {"lr": 0.05, "betas": (0.9, 0.9), "weight_decay": 0.1, "maximize": True}),
    ("ASGD", {}),
    ("ASGD", {"lr": 0.05, "t0": 3, "lambd": 0.1, "alpha": 0.5, "weight_decay": 0.1}),  # averaging starts at t0
    ("ASGD", {"lr": 0.05, "t0": 0, "maximize": True}),
    ("Rprop", {}),
    ("Rprop", {"lr": 0.05, "etas": (0.3, 1.5), "step_sizes": (1e-3, 0.08)}),  # clamps at both ends
    ("Rprop", {"maximize": True}),
]


def _case_id(case):
    name, kw = case
    return name + "-" + ",".join(f"{k}={v}" for k, v in kw.items())


def to_np(t):
    return t.detach().cpu().numpy()


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def _problem(seed, dtype=np.float32, shapes=((3, 2), (4,), ()), steps=10):
    rng = np.random.default_rng(seed)
    init = [rng.standard_normal(s).astype(dtype) for s in shapes]
    grads = [[rng.standard_normal(s).astype(dtype) for s in shapes] for _ in range(steps)]
    grads[2][1] = None  # no gradient at step 2: skipped, its state does not advance
    if steps < 6:
        return init, grads
    # the same gradient sign twice in a row and a sign flip, so Rprop takes every branch
    grads[4][0] = np.abs(grads[3][0]) + 0.1
    grads[3][0] = np.abs(grads[3][0]) + 0.2
    grads[5][0] = -grads[4][0]
    return init, grads


def _run(lib, name, kwargs, init, grads, device="cpu", make=None):
    make = make or (lambda a: lib.tensor(a, device=device, requires_grad=True) if lib is minitorch
                    else lib.tensor(a, requires_grad=True))
    params = [make(a) for a in init]
    opt = getattr(lib.optim, name)(params, **kwargs)
    for step in grads:
        for p, g in zip(params, step):
            p.grad = None if g is None else (minitorch.tensor(g, device=device) if lib is minitorch
                                             else lib.tensor(g)).to(p.dtype)
        opt.step()
    return params, opt


def _assert_same(mopt, topt, mp, tp, rtol, atol):
    for m, t in zip(mp, tp):
        np.testing.assert_allclose(to_np(m), t.detach().numpy(), rtol=rtol, atol=atol)
        ms, ts = mopt.state[m], topt.state[t]
        assert list(ms) == list(ts)
        for key, tv in ts.items():
            assert isinstance(ms[key], minitorch.Tensor), key
            assert ms[key].shape == tuple(tv.shape), key
            np.testing.assert_allclose(to_np(ms[key]), tv.detach().numpy(), rtol=rtol, atol=atol, err_msg=key)


# -------------------------------------------------------------------------------------------------------------------
# update rules
# -------------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed, case", list(enumerate(CASES)), ids=[_case_id(c) for c in CASES])
def test_matches_torch(seed, case, device, torch):
    name, kwargs = case
    init, grads = _problem(seed)
    if device == "cuda":  # the simulator runs a Python thread per CUDA thread: fewer, tiny steps
        init, grads = _problem(seed, shapes=((2, 2), (3,)), steps=6)
    tp, topt = _run(torch, name, kwargs, init, grads)
    mp, mopt = _run(minitorch, name, kwargs, init, grads, device)
    assert all(p.device.type == device for p in mp)
    _assert_same(mopt, topt, mp, tp, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("case", [c for c in CASES if len(c[1]) > 1], ids=_case_id)
def test_matches_torch_float64(case, torch):
    name, kwargs = case
    init, grads = _problem(11, dtype=np.float64)
    tp, topt = _run(torch, name, kwargs, init, grads)
    mp, mopt = _run(minitorch, name, kwargs, init, grads)
    assert all(p.dtype is minitorch.float64 for p in mp)
    _assert_same(mopt, topt, mp, tp, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_tensor_op_path_matches_torch(case, torch, monkeypatch):
    """Parameters the flat kernels cannot take (views, 16-bit floats) go through tensor ops: same numbers."""
    calls = []
    real = _functional._fused
    monkeypatch.setattr(_functional, "_fused", lambda *a: calls.append(1))
    name, kwargs = case
    init, grads = _problem(5)
    tp, topt = _run(torch, name, kwargs, init, grads)
    mp, mopt = _run(minitorch, name, kwargs, init, grads)
    assert calls and real is not None
    _assert_same(mopt, topt, mp, tp, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", NEW)
def test_parallel_kernel_matches_serial_and_torch(name, torch, monkeypatch):
    """Large parameters use the prange variant of each kernel (two chunks here): same numbers as the serial one."""
    init, grads = _problem(8, shapes=((200, 100), (3,)), steps=3)
    serial, _ = _run(minitorch, name, {}, init, grads)
    monkeypatch.setattr(_functional, "PAR_MIN", 1)
    par, _ = _run(minitorch, name, {}, init, grads)
    tp, _ = _run(torch, name, {}, init, grads)
    for s, p, t in zip(serial, par, tp):
        np.testing.assert_array_equal(to_np(s), to_np(p))
        np.testing.assert_allclose(to_np(p), t.detach().numpy(), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", NEW)
def test_non_contiguous_parameter(name, torch):
    """A transposed view as the parameter: updated in place through the view, as PyTorch does."""
    rng = np.random.default_rng(3)
    base = rng.standard_normal((3, 4)).astype(np.float32)
    grads = [[rng.standard_normal((4, 3)).astype(np.float32)] for _ in range(5)]
    mbase = minitorch.tensor(base)
    mp = mbase.t().detach().requires_grad_()
    assert not mp.is_contiguous()
    mopt = getattr(optim, name)([mp])
    tp = torch.tensor(base).t().detach().requires_grad_()
    topt = getattr(torch.optim, name)([tp])
    for (g,) in grads:
        mp.grad, tp.grad = minitorch.tensor(g), torch.tensor(g)
        mopt.step()
        topt.step()
    np.testing.assert_allclose(to_np(mp), tp.detach().numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name, kwargs", [(n, {"lr": 0.01}) for n in NEW + ["Adam", "SGD", "RMSprop", "Adagrad",
                                                                              "Adadelta", "AdamW"]])
def test_small_model_trains_like_torch(name, kwargs, torch):
    """A 4-5-1 tanh network, ten steps of backward + step: every parameter equal to torch's to 1e-6."""
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((8, 4)).astype(np.float32), rng.standard_normal((8, 1)).astype(np.float32)
    init = [rng.standard_normal(s).astype(np.float32) * 0.5 for s in ((4, 5), (5,), (5, 1), (1,))]

    def train(lib):
        ps = [lib.tensor(a, requires_grad=True) for a in init]
        opt = getattr(lib.optim, name)(ps, **kwargs)
        xs, ys = lib.tensor(x), lib.tensor(y)
        losses = []
        for _ in range(10):
            opt.zero_grad()
            loss = ((lib.tanh(xs @ ps[0] + ps[1]) @ ps[2] + ps[3] - ys) ** 2).mean()
            loss.backward()
            opt.step()
            losses.append(float(loss.item()))
        return ps, losses

    mp, mloss = train(minitorch)
    tp, tloss = train(torch)
    np.testing.assert_allclose(mloss, tloss, rtol=1e-6, atol=1e-6)
    for m, t in zip(mp, tp):
        np.testing.assert_allclose(to_np(m), t.detach().numpy(), rtol=1e-6, atol=1e-6)
    assert mloss[-1] < mloss[0]


# -------------------------------------------------------------------------------------------------------------------
# arguments, validation, state dicts
# -------------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ALL)
def test_signature_matches_torch(name, torch):
    mine = inspect.signature(getattr(optim, name).__init__).parameters
    theirs = inspect.signature(getattr(torch.optim, name).__init__).parameters
    assert [(n, p.kind, p.default) for n, p in mine.items()] == [(n, p.kind, p.default) for n, p in theirs.items()]


BAD = [
    ("Adamax", {"lr": -1}), ("Adamax", {"eps": -1e-3}), ("Adamax", {"betas": (1.0, 0.9)}),
    ("Adamax", {"betas": (0.9, -0.1)}), ("Adamax", {"weight_decay": -1}),
    ("NAdam", {"lr": -0.5}), ("NAdam", {"eps": -1}), ("NAdam", {"betas": (-0.1, 0.9)}),
    ("NAdam", {"betas": (0.9, 1.0)}), ("NAdam", {"weight_decay": -2}), ("NAdam", {"momentum_decay": -1}),
    ("RAdam", {"lr": -1}), ("RAdam", {"eps": -1}), ("RAdam", {"betas": (1.5, 0.9)}),
    ("RAdam", {"betas": (0.9, 1.0)}), ("RAdam", {"weight_decay": -0.1}),
    ("ASGD", {"lr": -1}), ("ASGD", {"weight_decay": -1}),
    ("Rprop", {"lr": -1}), ("Rprop", {"etas": (1.0, 1.2)}), ("Rprop", {"etas": (0.5, 0.9)}),
    ("Rprop", {"etas": (0.0, 1.2)}),
    ("LBFGS", {"lr": -1}),
    ("SGD", {"lr": -1}), ("SGD", {"momentum": -1}), ("SGD", {"nesterov": True}), ("Adam", {"betas": (0.9, 1)}),
    ("RMSprop", {"alpha": -1}), ("Adagrad", {"lr_decay": -1}), ("Adadelta", {"rho": 2}),
]


@pytest.mark.parametrize("name, kwargs", BAD, ids=[_case_id(c) for c in BAD])
def test_validation_errors_equal_torch(name, kwargs, torch):
    with pytest.raises(ValueError) as theirs:
        getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)], **kwargs)
    with pytest.raises(ValueError, match="Invalid|Nesterov|betas") as mine:
        getattr(optim, name)([minitorch.zeros(2, requires_grad=True)], **kwargs)
    assert str(mine.value) == str(theirs.value)


@pytest.mark.parametrize("name", NEW + ["LBFGS"])
def test_tensor_lr_must_have_one_element(name):
    with pytest.raises(ValueError, match="Tensor lr must be 1-element"):
        getattr(optim, name)([minitorch.zeros(2, requires_grad=True)], lr=minitorch.tensor([0.1, 0.2]))


@pytest.mark.parametrize("case", CASES[::2], ids=_case_id)
def test_state_dict_layout_matches_torch(case, torch):
    name, kwargs = case
    init, grads = _problem(2, steps=3)
    tp, topt = _run(torch, name, kwargs, init, grads)
    mp, mopt = _run(minitorch, name, kwargs, init, grads)
    tsd, msd = topt.state_dict(), mopt.state_dict()
    assert list(msd) == ["state", "param_groups"]
    assert list(msd["state"]) == list(tsd["state"])
    for k, ts in tsd["state"].items():
        assert list(msd["state"][k]) == list(ts)
        for key, tv in ts.items():
            assert str(msd["state"][k][key].dtype).split(".")[-1] == str(tv.dtype).split(".")[-1], key
    assert msd["param_groups"] == tsd["param_groups"]


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_state_dict_round_trip_continues_like_torch(case, torch):
    """Save after 4 steps, load into a fresh optimizer over fresh parameters (and PyTorch's state dict into a
    third), continue 6 steps: all equal to PyTorch's uninterrupted run."""
    name, kwargs = case
    init, grads = _problem(9)
    tp, topt = _run(torch, name, kwargs, init, grads)
    mp, mopt = _run(minitorch, name, kwargs, init, grads[:4])
    tp4, topt4 = _run(torch, name, kwargs, init, grads[:4])
    resumed = []
    for sd in (mopt.state_dict(), {"state": {k: {n: minitorch.tensor(v.numpy()) for n, v in s.items()}
                                             for k, s in topt4.state_dict()["state"].items()},
                                   "param_groups": topt4.state_dict()["param_groups"]}):
        fresh = [minitorch.tensor(to_np(p), requires_grad=True) for p in mp]
        opt = getattr(optim, name)(fresh, lr=0.123)  # the options come back from the state dict
        opt.load_state_dict(sd)
        assert opt.param_groups[0]["lr"] == topt.param_groups[0]["lr"]
        for step in grads[4:]:
            for p, g in zip(fresh, step):
                p.grad = None if g is None else minitorch.tensor(g)
            opt.step()
        resumed.append((fresh, opt))
    for fresh, opt in resumed:
        _assert_same(opt, topt, fresh, tp, rtol=1e-6, atol=1e-6)


def test_missing_group_options_are_filled_on_load(torch):
    """An older state dict without the newer flags loads with their defaults, as in PyTorch."""
    for name in NEW + ["Adam", "SGD"]:
        p = minitorch.zeros(2, requires_grad=True)
        opt = getattr(optim, name)([p])
        sd = opt.state_dict()
        for key in ("maximize", "foreach", "differentiable"):
            sd["param_groups"][0].pop(key, None)
        opt.load_state_dict(sd)
        tp = torch.zeros(2, requires_grad=True)
        topt = getattr(torch.optim, name)([tp])
        tsd = topt.state_dict()
        for key in ("maximize", "foreach", "differentiable"):
            tsd["param_groups"][0].pop(key, None)
        topt.load_state_dict(tsd)
        assert opt.param_groups[0].keys() == topt.param_groups[0].keys(), name
        for key in ("maximize", "foreach", "differentiable"):
            assert opt.param_groups[0][key] == topt.param_groups[0][key], (name, key)


@pytest.mark.parametrize("name", NEW)
def test_accepts_torch_flags(name):
    sig = inspect.signature(getattr(optim, name).__init__).parameters
    flags = {k: False for k in ("foreach", "capturable", "maximize") if k in sig}
    opt = getattr(optim, name)([minitorch.zeros(2, requires_grad=True)], **flags)
    for k in flags:
        assert opt.param_groups[0][k] is False
    with pytest.raises(RuntimeError, match="differentiable=True is not supported"):
        getattr(optim, name)([minitorch.zeros(2, requires_grad=True)], differentiable=True)


# -------------------------------------------------------------------------------------------------------------------
# LBFGS
# -------------------------------------------------------------------------------------------------------------------
def _lbfgs_run(lib, dtype, problem, steps=2, **kwargs):
    r = np.random.default_rng(1)
    x, y = r.standard_normal((20, 4)), r.standard_normal((20, 1))
    w, v = r.standard_normal((4, 3)) * 0.5, r.standard_normal((3, 1)) * 0.5
    w, v = (lib.tensor(a.astype(dtype), requires_grad=True) for a in (w, v))
    x, y = lib.tensor(x.astype(dtype)), lib.tensor(y.astype(dtype))
    opt = lib.optim.LBFGS([w, v], **kwargs)

    def closure():
        opt.zero_grad()
        h = lib.tanh(x @ w) if problem == "tanh" else x @ w
        loss = ((h @ v - y) ** 2).mean()
        loss.backward()
        return loss

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        losses = [float(opt.step(closure)) for _ in range(steps)]
    return w, v, losses, opt.state[w]


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
@pytest.mark.parametrize("dtype, problem, kwargs, tol", [
    (np.float64, "tanh", {}, 1e-7),
    (np.float64, "tanh", {"history_size": 3, "max_iter": 7, "lr": 0.5}, 1e-12),
    (np.float64, "linear", {"tolerance_grad": 1e-12, "tolerance_change": 1e-14}, 1e-12),
    # float32 to convergence: LBFGS's dot products and GEMMs round differently from PyTorch's in the last bit
    # (neither MKL nor OpenBLAS sums a dot in PyTorch's order, and which of them runs changes the bits again); two
    # steps of up to 20 iterations carry that to ~1e-4, and once the loss stalls at rounding level the strong-Wolfe
    # search may take a different number of evaluations and keep one curvature pair less (both compared only
    # where the tolerance is tight)
    (np.float32, "linear", {}, 1e-3),
    (np.float32, "tanh", {"history_size": 3, "max_iter": 7, "lr": 0.5}, 2e-5),
])
def test_lbfgs_matches_torch(line_search_fn, dtype, problem, kwargs, tol, torch):
    mw, mv, mloss, mst = _lbfgs_run(minitorch, dtype, problem, line_search_fn=line_search_fn, **kwargs)
    tw, tv, tloss, tst = _lbfgs_run(torch, dtype, problem, line_search_fn=line_search_fn, **kwargs)
    np.testing.assert_allclose(to_np(mw), tw.detach().numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(to_np(mv), tv.detach().numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(mloss, tloss, rtol=tol, atol=tol)
    if tol < 1e-4:
        assert (mst["func_evals"], mst["n_iter"]) == (tst["func_evals"], tst["n_iter"])
        assert len(mst["old_dirs"]) == len(tst["old_dirs"])
    assert set(mst) == set(tst)
    np.testing.assert_allclose(to_np(mst["prev_flat_grad"]), tst["prev_flat_grad"].numpy(), rtol=tol, atol=tol)
    assert mloss[-1] < mloss[0]


def test_lbfgs_state_dict_layout_and_defaults(torch):
    mw, _, _, _ = _lbfgs_run(minitorch, np.float64, "linear", steps=1)
    tw, _, _, _ = _lbfgs_run(torch, np.float64, "linear", steps=1)
    m = optim.LBFGS([minitorch.zeros(2, requires_grad=True)])
    t = torch.optim.LBFGS([torch.zeros(2, requires_grad=True)])
    assert m.state_dict()["param_groups"] == t.state_dict()["param_groups"]
    assert m.param_groups[0]["max_eval"] == 25


def test_lbfgs_errors(torch):
    p = minitorch.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="LBFGS doesn't support per-parameter options"):
        optim.LBFGS([{"params": [p]}, {"params": [minitorch.zeros(1, requires_grad=True)]}])
    opt = optim.LBFGS([p], line_search_fn="armijo")

    def closure():
        opt.zero_grad()
        loss = ((p - 1) ** 2).sum()
        loss.backward()
        return loss

    with pytest.raises(RuntimeError, match="only 'strong_wolfe' is supported"):
        opt.step(closure)
    with pytest.raises(RuntimeError, match="closure"):
        optim.LBFGS([p]).step(None)
    with pytest.raises(TypeError):
        optim.LBFGS([p]).step()


def test_lbfgs_stops_at_an_optimum():
    """Zero gradient: one closure call, parameters untouched."""
    p = minitorch.ones(3, requires_grad=True)
    opt = optim.LBFGS([p])
    calls = []

    def closure():
        calls.append(1)
        opt.zero_grad()
        loss = ((p - 1) ** 2).sum()
        loss.backward()
        return loss

    assert float(opt.step(closure)) == 0.0
    assert len(calls) == 1 and opt.state[p]["func_evals"] == 1
    np.testing.assert_array_equal(to_np(p), np.ones(3, np.float32))


# -------------------------------------------------------------------------------------------------------------------
# swa_utils
# -------------------------------------------------------------------------------------------------------------------
def _models(torch):
    """The same Linear-BatchNorm-Linear model in both libraries (minitorch's weights copied from torch's)."""
    torch.manual_seed(0)
    tm = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    mm = minitorch.nn.Sequential(minitorch.nn.Linear(3, 4), minitorch.nn.BatchNorm1d(4), minitorch.nn.Tanh(),
                                 minitorch.nn.Linear(4, 2))
    mm.load_state_dict({k: minitorch.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    return mm, tm


def _train_and_average(lib, model, make_avg, steps=6):
    rng = np.random.default_rng(4)
    avg = make_avg(lib, model)
    opt = lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.5)
    for _ in range(steps):
        x = lib.tensor(rng.standard_normal((5, 3)).astype(np.float32))
        opt.zero_grad()
        (model(x) ** 2).mean().backward()
        opt.step()
        avg.update_parameters(model)
    return avg


SU = lambda lib: lib.optim.swa_utils  # noqa: E731
AVERAGES = {
    "swa": lambda lib, m: SU(lib).AveragedModel(m),
    "swa-buffers": lambda lib, m: SU(lib).AveragedModel(m, use_buffers=True),
    "ema-multi": lambda lib, m: SU(lib).AveragedModel(m, multi_avg_fn=SU(lib).get_ema_multi_avg_fn(0.9)),
    "ema-multi-buffers": lambda lib, m: SU(lib).AveragedModel(m, multi_avg_fn=SU(lib).get_ema_multi_avg_fn(0.8),
                                                              use_buffers=True),
    "ema-avg": lambda lib, m: SU(lib).AveragedModel(m, avg_fn=SU(lib).get_ema_avg_fn(0.7)),
    "swa-multi": lambda lib, m: SU(lib).AveragedModel(m, multi_avg_fn=SU(lib).get_swa_multi_avg_fn()),
    "swa-avg": lambda lib, m: SU(lib).AveragedModel(m, avg_fn=SU(lib).get_swa_avg_fn()),
}


@pytest.mark.parametrize("kind", list(AVERAGES))
def test_averaged_model_matches_torch(kind, torch):
    mm, tm = _models(torch)
    ma = _train_and_average(minitorch, mm, AVERAGES[kind])
    ta = _train_and_average(torch, tm, AVERAGES[kind])
    msd, tsd = ma.state_dict(), ta.state_dict()
    assert list(msd) == list(tsd)
    for k, tv in tsd.items():
        np.testing.assert_allclose(to_np(msd[k]), tv.detach().numpy(), rtol=1e-5, atol=1e-6, err_msg=k)
    assert int(ma.n_averaged.item()) == 6 and ma.n_averaged.dtype is minitorch.int64
    x = np.random.default_rng(1).standard_normal((4, 3)).astype(np.float32)
    ma.eval(), ta.eval()
    np.testing.assert_allclose(to_np(ma(minitorch.tensor(x))), ta(torch.tensor(x)).detach().numpy(), rtol=1e-5,
                               atol=1e-6)
    # the average is a copy: the model's own weights differ from it
    assert not np.allclose(to_np(mm[0].weight), to_np(ma.module[0].weight))


def test_averaged_model_errors(torch):
    m = minitorch.nn.Linear(2, 2)
    with pytest.raises(AssertionError, match="Only one of avg_fn and multi_avg_fn"):
        optim.swa_utils.AveragedModel(m, avg_fn=optim.swa_utils.get_swa_avg_fn(),
                                      multi_avg_fn=optim.swa_utils.get_swa_multi_avg_fn())
    for fn in ("get_ema_multi_avg_fn", "get_ema_avg_fn"):
        with pytest.raises(ValueError) as theirs:
            getattr(torch.optim.swa_utils, fn)(1.5)
        with pytest.raises(ValueError, match="Invalid decay value 1.5") as mine:
            getattr(optim.swa_utils, fn)(1.5)
        assert str(mine.value) == str(theirs.value)


def test_update_bn_matches_torch(torch):
    mm, tm = _models(torch)
    mm.eval(), tm.eval()
    rng = np.random.default_rng(6)
    data = [rng.standard_normal((5, 3)).astype(np.float32) * 2 + 1 for _ in range(4)]
    optim.swa_utils.update_bn([(minitorch.tensor(d), 0) for d in data], mm)
    torch.optim.swa_utils.update_bn([(torch.tensor(d), 0) for d in data], tm)
    assert not mm.training and mm[1].momentum == tm[1].momentum == 0.1
    for k, tv in tm.state_dict().items():
        np.testing.assert_allclose(to_np(mm.state_dict()[k]), tv.numpy(), rtol=1e-5, atol=1e-6, err_msg=k)
    # no BatchNorm: nothing happens
    lin = minitorch.nn.Linear(2, 2)
    optim.swa_utils.update_bn([minitorch.zeros(1, 2)], lin)


SWALR_CASES = [{"swa_lr": 0.05}, {"swa_lr": 0.5, "anneal_epochs": 3, "anneal_strategy": "linear"},
               {"swa_lr": [0.01, 0.02], "anneal_epochs": 0}, {"swa_lr": 0.02, "anneal_epochs": 7}]


@pytest.mark.parametrize("split", [None, 4])
@pytest.mark.parametrize("kwargs", SWALR_CASES, ids=str)
def test_swalr_matches_torch(kwargs, split, torch):
    def run(lib, split):
        def build():
            ps = [lib.zeros(2, requires_grad=True), lib.zeros(1, requires_grad=True)]
            o = lib.optim.SGD([{"params": ps[:1]}, {"params": ps[1:], "lr": 0.3}], lr=0.1)
            return o, lib.optim.swa_utils.SWALR(o, **kwargs)
        opt, sched = build()
        out = [list(sched.get_last_lr())]
        for i in range(15):
            if i == split:
                osd, ssd = opt.state_dict(), sched.state_dict()
                opt, sched = build()
                opt.load_state_dict(osd)
                sched.load_state_dict(ssd)
            opt.step()
            sched.step()
            out.append(list(sched.get_last_lr()))
        return np.array(out)
    np.testing.assert_allclose(run(minitorch, split), run(torch, None), rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("kwargs", [{"anneal_strategy": "exp"}, {"anneal_epochs": -1}, {"anneal_epochs": 2.5}])
def test_swalr_errors_equal_torch(kwargs, torch):
    with pytest.raises(ValueError) as theirs:
        torch.optim.swa_utils.SWALR(torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1), 0.05, **kwargs)
    with pytest.raises(ValueError) as mine:
        optim.swa_utils.SWALR(optim.SGD([minitorch.zeros(1, requires_grad=True)], lr=0.1), 0.05, **kwargs)
    assert str(mine.value) == str(theirs.value)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_16_bit_parameters_follow_torch(case, dtype, torch):
    """16-bit parameters take the tensor-op path. It agrees with PyTorch to a couple of ulps, not bit for bit:
    minitorch's in-place 16-bit scalar ops (``mul_(0.995)``) round the scalar to the dtype first, where
    PyTorch's CPU kernels keep it in float32."""
    name, kwargs = case
    init, grads = _problem(3, steps=6)
    mdt, tdt = getattr(minitorch, dtype), getattr(torch, dtype)
    mp, _ = _run(minitorch, name, kwargs, init, grads, make=lambda a: minitorch.tensor(a).to(mdt).requires_grad_())
    tp, _ = _run(torch, name, kwargs, init, grads, make=lambda a: torch.tensor(a).to(tdt).requires_grad_())
    eps = float(torch.finfo(tdt).eps)
    for m, t in zip(mp, tp):
        assert m.dtype is mdt
        ref = t.detach().float().numpy()
        np.testing.assert_allclose(to_np(m.to(minitorch.float32)), ref, rtol=4 * eps, atol=4 * eps)


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_lbfgs_on_device(line_search_fn, device, torch):
    """LBFGS is tensor ops only: on every device it follows PyTorch (CPU) on a tiny least-squares problem."""
    r = np.random.default_rng(2)
    x, y, w0 = (r.standard_normal(s).astype(np.float32) for s in ((6, 3), (6,), (3,)))

    def run(lib, dev):
        w = (lib.tensor(w0, device=dev) if lib is minitorch else lib.tensor(w0)).requires_grad_()
        xs = lib.tensor(x, device=dev) if lib is minitorch else lib.tensor(x)
        ys = lib.tensor(y, device=dev) if lib is minitorch else lib.tensor(y)
        opt = lib.optim.LBFGS([w], max_iter=5, line_search_fn=line_search_fn)

        def closure():
            opt.zero_grad()
            loss = ((xs @ w - ys) ** 2).sum()
            loss.backward()
            return loss
        loss = opt.step(closure)
        return w, float(loss.item()), opt.state[w]["func_evals"]

    mw, ml, mf = run(minitorch, device)
    tw, tl, tf = run(torch, None)
    assert mw.device.type == device and mf == tf
    np.testing.assert_allclose(to_np(mw), tw.detach().numpy(), rtol=1e-5, atol=1e-5)
    assert ml == pytest.approx(tl, rel=1e-6)


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_lbfgs_state_dict_round_trip_continues_like_torch(line_search_fn, torch):
    """One step, save, load into a fresh LBFGS over fresh parameters, a second step: PyTorch's two steps."""
    kwargs = {"history_size": 4, "max_iter": 5, "line_search_fn": line_search_fn}
    tw, tv, tloss, tst = _lbfgs_run(torch, np.float64, "tanh", steps=2, **kwargs)
    r = np.random.default_rng(1)  # the problem of _lbfgs_run
    x, y = minitorch.tensor(r.standard_normal((20, 4))), minitorch.tensor(r.standard_normal((20, 1)))
    w1, v1 = (minitorch.tensor(r.standard_normal(s) * 0.5, requires_grad=True) for s in ((4, 3), (3, 1)))
    first = minitorch.optim.LBFGS([w1, v1], **kwargs)

    def closure_for(o, w, v):
        def closure():
            o.zero_grad()
            loss = ((minitorch.tanh(x @ w) @ v - y) ** 2).mean()
            loss.backward()
            return loss
        return closure

    first.step(closure_for(first, w1, v1))
    sd = first.state_dict()
    w2 = minitorch.tensor(to_np(w1), requires_grad=True)
    v2 = minitorch.tensor(to_np(v1), requires_grad=True)
    second = minitorch.optim.LBFGS([w2, v2], lr=0.3)
    second.load_state_dict(sd)
    assert second.param_groups[0]["history_size"] == 4
    loss = second.step(closure_for(second, w2, v2))
    np.testing.assert_allclose(to_np(w2), tw.detach().numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(to_np(v2), tv.detach().numpy(), rtol=1e-10, atol=1e-10)
    assert float(loss) == pytest.approx(tloss[1], rel=1e-10)
    assert second.state[w2]["n_iter"] == tst["n_iter"] and second.state[w2]["func_evals"] == tst["func_evals"]
