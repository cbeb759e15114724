"""Every learning-rate scheduler against PyTorch over 50 steps, and state-dict round trips.

Each case builds the same optimizer (two parameter groups) and scheduler in minitorch and in PyTorch, steps both 50
times, and compares the whole sequence of learning rates (and momentum where a scheduler cycles it) exactly, up to
float rounding. Round trips save after k steps, load optimizer and scheduler state into fresh objects, continue,
and must give PyTorch's uninterrupted sequence.
"""
import math
import warnings

import numpy as np
import pytest

import minitorch

pytestmark = pytest.mark.torch
STEPS = 50


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


class Halve:
    """A callable object (its ``__dict__`` is saved in state dicts, unlike a lambda's)."""

    def __init__(self, base=0.97):
        self.base = base

    def __call__(self, epoch):
        return self.base ** epoch


def _opt(lib, kind="SGD"):
    p1, p2 = lib.zeros(2, requires_grad=True), lib.zeros(3, requires_grad=True)
    if kind == "Adam":
        return lib.optim.Adam([{"params": [p1]}, {"params": [p2], "lr": 0.05}], lr=0.1)
    return lib.optim.SGD([{"params": [p1]}, {"params": [p2], "lr": 0.05}], lr=0.1, momentum=0.9)


def S(lib):
    return lib.optim.lr_scheduler


CASES = {
    "LambdaLR": lambda lib, o: S(lib).LambdaLR(o, lambda e: 0.95 ** e),
    "LambdaLR-list": lambda lib, o: S(lib).LambdaLR(o, [lambda e: 1 / (e + 1), Halve()]),
    "MultiplicativeLR": lambda lib, o: S(lib).MultiplicativeLR(o, lambda e: 0.9 if e % 3 else 1.05),
    "StepLR": lambda lib, o: S(lib).StepLR(o, step_size=7, gamma=0.5),
    "MultiStepLR": lambda lib, o: S(lib).MultiStepLR(o, milestones=[5, 12, 12, 30], gamma=0.3),
    "ConstantLR": lambda lib, o: S(lib).ConstantLR(o, factor=0.25, total_iters=8),
    "LinearLR": lambda lib, o: S(lib).LinearLR(o, start_factor=0.1, end_factor=0.9, total_iters=20),
    "LinearLR-down": lambda lib, o: S(lib).LinearLR(o, start_factor=1.0, end_factor=0.05, total_iters=45),
    "ExponentialLR": lambda lib, o: S(lib).ExponentialLR(o, gamma=0.93),
    "PolynomialLR": lambda lib, o: S(lib).PolynomialLR(o, total_iters=30, power=2.0),
    "CosineAnnealingLR": lambda lib, o: S(lib).CosineAnnealingLR(o, T_max=10, eta_min=0.01),
    "CosineAnnealingLR-long": lambda lib, o: S(lib).CosineAnnealingLR(o, T_max=60),
    "CosineAnnealingWarmRestarts": lambda lib, o: S(lib).CosineAnnealingWarmRestarts(o, T_0=5, T_mult=2,
                                                                                     eta_min=0.001),
    "CosineAnnealingWarmRestarts-1": lambda lib, o: S(lib).CosineAnnealingWarmRestarts(o, T_0=7),
    "OneCycleLR": lambda lib, o: S(lib).OneCycleLR(o, max_lr=1.0, total_steps=STEPS),
    "OneCycleLR-linear-3phase": lambda lib, o: S(lib).OneCycleLR(o, max_lr=[1.0, 0.5], epochs=5, steps_per_epoch=10,
                                                                 anneal_strategy="linear", three_phase=True,
                                                                 pct_start=0.25),
    "CyclicLR": lambda lib, o: S(lib).CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=4),
    "CyclicLR-triangular2": lambda lib, o: S(lib).CyclicLR(o, base_lr=[0.01, 0.02], max_lr=[0.1, 0.3],
                                                           step_size_up=3, step_size_down=5, mode="triangular2",
                                                           base_momentum=0.7, max_momentum=0.95),
    "CyclicLR-exp_range": lambda lib, o: S(lib).CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=6,
                                                         mode="exp_range", gamma=0.97),
    "CyclicLR-scale_fn-cycle": lambda lib, o: S(lib).CyclicLR(o, 0.01, 0.1, step_size_up=5,
                                                              scale_fn=lambda x: 1 / x, cycle_momentum=False),
    "CyclicLR-scale_fn-iterations": lambda lib, o: S(lib).CyclicLR(o, 0.01, 0.1, step_size_up=5, scale_fn=Halve(),
                                                                   scale_mode="iterations"),
    "SequentialLR": lambda lib, o: S(lib).SequentialLR(
        o, [S(lib).LinearLR(o, start_factor=0.1, total_iters=10), S(lib).ExponentialLR(o, gamma=0.9)],
        milestones=[10]),
    "SequentialLR-3": lambda lib, o: S(lib).SequentialLR(
        o, [S(lib).ConstantLR(o, factor=0.5, total_iters=4), S(lib).StepLR(o, 3, gamma=0.5),
            S(lib).CosineAnnealingLR(o, T_max=8)], milestones=[6, 20]),
    "ChainedScheduler": lambda lib, o: S(lib).ChainedScheduler(
        [S(lib).ConstantLR(o, factor=0.2, total_iters=6), S(lib).ExponentialLR(o, gamma=0.95)]),
    "ChainedScheduler-3": lambda lib, o: S(lib).ChainedScheduler(
        [S(lib).LinearLR(o, 0.5, total_iters=5), S(lib).MultiStepLR(o, [8, 20], 0.5),
         S(lib).CosineAnnealingWarmRestarts(o, T_0=6)], optimizer=o),
}
ADAM_CASES = {"OneCycleLR", "CyclicLR-triangular2", "CyclicLR-exp_range"}


def _momenta(opt):
    out = []
    for g in opt.param_groups:
        out.append(g["betas"][0] if "betas" in g else g.get("momentum"))
    return out


def _run(lib, name, kind, steps=STEPS, split=None, metrics=None):
    """(lrs, momenta) after construction and after each of ``steps`` steps; with ``split``, the optimizer and
    scheduler are rebuilt from their state dicts after ``split`` steps."""
    opt = _opt(lib, kind)
    sched = CASES[name](lib, opt)
    lrs, moms = [list(sched.get_last_lr())], [_momenta(opt)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i in range(steps):
            if split is not None and i == split:
                osd, ssd = opt.state_dict(), sched.state_dict()
                opt = _opt(lib, kind)
                sched = CASES[name](lib, opt)
                opt.load_state_dict(osd)
                sched.load_state_dict(ssd)
            opt.step()
            sched.step()
            lrs.append(list(sched.get_last_lr()))
            moms.append(_momenta(opt))
            assert [g["lr"] for g in opt.param_groups] == lrs[-1]
    return np.array(lrs, dtype=float), np.array(moms, dtype=float)


def _kind(name):
    return "Adam" if name in ADAM_CASES else "SGD"


@pytest.mark.parametrize("name", list(CASES))
def test_sequence_matches_torch(name, torch):
    mine = _run(minitorch, name, _kind(name))
    theirs = _run(torch, name, _kind(name))
    np.testing.assert_allclose(mine[0], theirs[0], rtol=1e-13, atol=1e-15, err_msg="lr")
    np.testing.assert_allclose(mine[1], theirs[1], rtol=1e-13, atol=1e-15, err_msg="momentum")


@pytest.mark.parametrize("split", [1, 17])
@pytest.mark.parametrize("name", list(CASES))
def test_state_dict_round_trip_matches_torch(name, split, torch):
    mine = _run(minitorch, name, _kind(name), split=split)
    theirs = _run(torch, name, _kind(name))
    np.testing.assert_allclose(mine[0], theirs[0], rtol=1e-13, atol=1e-15, err_msg="lr")
    np.testing.assert_allclose(mine[1], theirs[1], rtol=1e-13, atol=1e-15, err_msg="momentum")


def _plain(value):
    """A state-dict value as comparable Python data (scheduler objects' states are nested dicts)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if callable(value):
        return "<callable>"
    return value


@pytest.mark.parametrize("name", list(CASES))
def test_state_dict_layout_matches_torch(name, torch):
    mo, to = _opt(minitorch, _kind(name)), _opt(torch, _kind(name))
    ms, ts = CASES[name](minitorch, mo), CASES[name](torch, to)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(3):
            mo.step(), to.step(), ms.step(), ts.step()
    msd, tsd = _plain(ms.state_dict()), _plain(ts.state_dict())
    assert sorted(msd) == sorted(tsd)
    for key in tsd:
        if key in ("_get_lr_called_within_step", "_is_initial"):
            continue
        if isinstance(tsd[key], float):
            assert msd[key] == pytest.approx(tsd[key], rel=1e-13, abs=1e-15), key
        elif key != "_schedulers":
            assert msd[key] == tsd[key], key


# -------------------------------------------------------------------------------------------------------------------
# ReduceLROnPlateau
# -------------------------------------------------------------------------------------------------------------------
METRICS = [1.0, 0.9, 0.95, 0.95, 0.96, 0.97, 0.89, 0.89, 0.9, 0.91, 0.92, 0.93, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5,
           0.49999, 0.6, 0.7, 0.8] + [0.8 - 0.01 * math.sin(i) for i in range(28)]

PLATEAU = [
    {},
    {"patience": 2},
    {"mode": "max", "factor": 0.5, "patience": 1, "threshold": 0.01, "threshold_mode": "abs"},
    {"patience": 1, "cooldown": 3, "min_lr": [0.02, 0.001]},
    {"factor": 0.3, "patience": 0, "min_lr": 0.004, "eps": 1e-3},
    {"mode": "max", "patience": 3, "threshold": 0.05},
]


def _plateau(lib, kwargs, split=None):
    opt = _opt(lib)
    sched = lib.optim.lr_scheduler.ReduceLROnPlateau(opt, **kwargs)
    lrs = [list(sched.get_last_lr())]
    for i, m in enumerate(METRICS):
        if split is not None and i == split:
            osd, ssd = opt.state_dict(), sched.state_dict()
            opt = _opt(lib)
            sched = lib.optim.lr_scheduler.ReduceLROnPlateau(opt, **kwargs)
            opt.load_state_dict(osd)
            sched.load_state_dict(ssd)
        opt.step()
        sched.step(lib.tensor(m) if i % 2 else m)
        lrs.append(list(sched.get_last_lr()) + [g["lr"] for g in opt.param_groups] + [sched.num_bad_epochs,
                                                                                       sched.cooldown_counter])
    return np.array(lrs[1:], dtype=float)


@pytest.mark.parametrize("split", [None, 9])
@pytest.mark.parametrize("kwargs", PLATEAU, ids=str)
def test_reduce_lr_on_plateau_matches_torch(kwargs, split, torch):
    np.testing.assert_allclose(_plateau(minitorch, kwargs, split), _plateau(torch, kwargs), rtol=1e-13, atol=1e-15)


def test_reduce_lr_on_plateau_state_dict_keys(torch):
    m = minitorch.optim.lr_scheduler.ReduceLROnPlateau(_opt(minitorch))
    t = torch.optim.lr_scheduler.ReduceLROnPlateau(_opt(torch))
    assert sorted(m.state_dict()) == sorted(t.state_dict())


# -------------------------------------------------------------------------------------------------------------------
# CyclicLR arguments and errors
# -------------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("make, exc", [
    (lambda lib, o: S(lib).CyclicLR(o, 0.01, 0.1, mode="zigzag"), ValueError),
    (lambda lib, o: S(lib).CyclicLR(o, [0.01], 0.1), ValueError),
    (lambda lib, o: S(lib).CyclicLR(o, 0.01, [0.1, 0.2, 0.3]), ValueError),
    (lambda lib, o: S(lib).CyclicLR(lib.optim.Adagrad([lib.zeros(2, requires_grad=True)]), 0.01, 0.1), ValueError),
    (lambda lib, o: S(lib).CyclicLR(object(), 0.01, 0.1), TypeError),
])
def test_cyclic_lr_errors_equal_torch(make, exc, torch):
    with pytest.raises(exc) as theirs:
        make(torch, _opt(torch))
    with pytest.raises(exc) as mine:
        make(minitorch, _opt(minitorch))
    assert str(mine.value) == str(theirs.value)


def test_cyclic_lr_signature_and_group_keys(torch):
    import inspect
    mine = inspect.signature(minitorch.optim.lr_scheduler.CyclicLR).parameters
    theirs = inspect.signature(torch.optim.lr_scheduler.CyclicLR).parameters
    assert [(n, p.default) for n, p in mine.items()] == [(n, p.default) for n, p in theirs.items()]
    mo, to = _opt(minitorch), _opt(torch)
    minitorch.optim.lr_scheduler.CyclicLR(mo, 0.01, 0.1)
    torch.optim.lr_scheduler.CyclicLR(to, 0.01, 0.1)
    assert [sorted(g) for g in mo.param_groups] == [sorted(g) for g in to.param_groups]
    assert [g["lr"] for g in mo.param_groups] == [g["lr"] for g in to.param_groups] == [0.01, 0.01]


# -------------------------------------------------------------------------------------------------------------------
# closed forms, resuming, messages
# -------------------------------------------------------------------------------------------------------------------
CLOSED_FORM = [n for n in CASES if not n.startswith(("Sequential", "Chained", "OneCycle", "CyclicLR"))]


@pytest.mark.parametrize("name", CLOSED_FORM)
def test_step_with_epoch_matches_torch(name, torch):
    """The deprecated ``step(epoch)`` (closed form where one exists), then chainable steps again."""
    def run(lib):
        o = _opt(lib)
        s = CASES[name](lib, o)
        out = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for e in [1, 2, 5, 5, 3, 10, 11, 30, 7, 40]:
                o.step()
                s.step(e)
                out.append(list(s.get_last_lr()))
            for _ in range(5):
                s.step()
                out.append(list(s.get_last_lr()))
        return np.array(out, dtype=float)
    np.testing.assert_allclose(run(minitorch), run(torch), rtol=1e-13, atol=1e-15)


RESUMABLE = {
    "StepLR": lambda lib, o: S(lib).StepLR(o, 7, 0.5, last_epoch=9),
    "MultiStepLR": lambda lib, o: S(lib).MultiStepLR(o, [5, 12, 30], 0.3, last_epoch=9),
    "ExponentialLR": lambda lib, o: S(lib).ExponentialLR(o, 0.9, last_epoch=9),
    "CosineAnnealingLR": lambda lib, o: S(lib).CosineAnnealingLR(o, 10, 0.01, last_epoch=9),
    "CosineAnnealingWarmRestarts": lambda lib, o: S(lib).CosineAnnealingWarmRestarts(o, 5, 2, 0.001, last_epoch=9),
    "PolynomialLR": lambda lib, o: S(lib).PolynomialLR(o, 30, 2.0, last_epoch=9),
    "LinearLR": lambda lib, o: S(lib).LinearLR(o, 0.1, 0.9, 20, last_epoch=9),
    "ConstantLR": lambda lib, o: S(lib).ConstantLR(o, 0.25, 20, last_epoch=9),
    "LambdaLR": lambda lib, o: S(lib).LambdaLR(o, lambda e: 0.9 ** e, last_epoch=9),
    "CyclicLR": lambda lib, o: S(lib).CyclicLR(o, 0.01, 0.1, step_size_up=4, last_epoch=9),
}


@pytest.mark.parametrize("name", list(RESUMABLE))
def test_resume_with_last_epoch_matches_torch(name, torch):
    def run(lib):
        o = _opt(lib)
        for g in o.param_groups:
            g["initial_lr"] = g["lr"] * 2
            g["max_momentum"], g["base_momentum"] = 0.9, 0.8
        s = RESUMABLE[name](lib, o)
        out = [list(s.get_last_lr())]
        for _ in range(20):
            o.step()
            s.step()
            out.append(list(s.get_last_lr()) + _momenta(o))
        return np.array(out[1:], dtype=float)
    np.testing.assert_allclose(run(minitorch), run(torch), rtol=1e-13, atol=1e-15)


def test_resume_without_initial_lr_error_equals_torch(torch):
    with pytest.raises(KeyError) as theirs:
        torch.optim.lr_scheduler.StepLR(_opt(torch), 3, last_epoch=4)
    with pytest.raises(KeyError, match="initial_lr") as mine:
        minitorch.optim.lr_scheduler.StepLR(_opt(minitorch), 3, last_epoch=4)
    assert str(mine.value) == str(theirs.value)


def _warnings(lib, how):
    o = _opt(lib)
    s = S(lib).StepLR(o, 3)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        if how == "before":
            s.step()
        elif how == "epoch":
            o.step()
            s.step(2)
        elif how == "overridden":
            o.step = lambda closure=None: None
            o.step()
            s.step()
        else:
            s.get_lr()
    return [(type(x.message), str(x.message)) for x in w]


@pytest.mark.parametrize("how", ["before", "epoch", "overridden", "get_lr"])
def test_warnings_equal_torch(how, torch):
    mine, theirs = _warnings(minitorch, how), _warnings(torch, how)
    assert mine and mine == theirs
