"""Margin, embedding, likelihood and CTC losses against PyTorch: forward values and gradients for every reduction,
the legacy size_average/reduce flags, modules, signatures, and the errors (types and messages) of bad input."""
import inspect
import warnings

import numpy as np
import pytest

import minitorch
import minitorch.nn as nn
import minitorch.nn.functional as F

pytestmark = pytest.mark.torch
RNG = np.random.default_rng(2024)
REDUCTIONS = ("none", "mean", "sum")


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def to_np(t):
    return t.detach().cpu().numpy()


def close(m, t, tol=1e-6, equal_nan=False):
    np.testing.assert_allclose(to_np(m), to_np(t), rtol=tol, atol=tol, equal_nan=equal_nan)
    assert tuple(m.shape) == tuple(t.shape)


def f64(*shape, lo=-2.0, hi=2.0):
    return RNG.uniform(lo, hi, size=shape)


def signs(*shape):
    return RNG.choice([-1.0, 1.0], size=shape)


# ---------------------------------------------------------------------------------------------------------------
# composite losses: forward and gradients against torch
# ---------------------------------------------------------------------------------------------------------------
def _close_matrix(a, b):
    # a non-trivial distance: 1 - cosine similarity along the last dim
    return 1 - (a * b).sum(-1) / ((a * a).sum(-1) * (b * b).sum(-1)).sqrt()


# name, positional operands (float arrays are differentiable; int arrays are targets), keyword arguments
CASES = [
    ("soft_margin_loss", [f64(3, 4), signs(3, 4)], {}),
    ("soft_margin_loss", [f64(3, 4), signs(4)], {}),  # target broadcast to the input
    ("soft_margin_loss", [f64(5), f64(5)], {}),  # soft targets
    ("multilabel_soft_margin_loss", [f64(3, 5), RNG.integers(0, 2, (3, 5)).astype(float)], {}),
    ("multilabel_soft_margin_loss", [f64(3, 5), RNG.integers(0, 2, (3, 5)).astype(float)], {"weight": f64(5, lo=0.1)}),
    ("multilabel_soft_margin_loss", [f64(2, 3, 4), RNG.uniform(0, 1, (2, 3, 4))], {}),
    ("multilabel_margin_loss", [f64(3, 5), np.array([[3, 0, -1, 1, 2], [1, 1, 4, -1, 0], [0, 1, 2, 3, 4]])], {}),
    ("multilabel_margin_loss", [f64(4), np.array([2, -1, 0, 1])], {}),
    ("multilabel_margin_loss", [f64(2, 4), np.array([[-1, 2, 0, 1], [3, 2, 1, 0]])], {}),
    ("multi_margin_loss", [f64(4, 5), np.array([0, 4, 2, 2])], {}),
    ("multi_margin_loss", [f64(4, 5), np.array([0, 4, 2, 2])], {"p": 2, "margin": 0.7}),
    ("multi_margin_loss", [f64(4, 5), np.array([1, 3, 0, 4])], {"weight": f64(5, lo=0.1)}),
    ("multi_margin_loss", [f64(5), np.array([3])], {"p": 2}),
    ("multi_margin_loss", [f64(5), np.array(1)], {}),
    ("triplet_margin_loss", [f64(4, 6), f64(4, 6), f64(4, 6)], {}),
    ("triplet_margin_loss", [f64(4, 6), f64(4, 6), f64(4, 6)], {"p": 1, "margin": 2.5, "swap": True}),
    ("triplet_margin_loss", [f64(4, 6), f64(1, 6), f64(4, 6)], {"p": 3, "eps": 1e-3}),  # broadcast positive
    ("triplet_margin_loss", [f64(2, 3, 4), f64(2, 3, 4), f64(2, 3, 4)], {"swap": True, "margin": 3.0}),
    ("triplet_margin_loss", [f64(6), f64(6), f64(6)], {"margin": 4.0}),
    ("triplet_margin_with_distance_loss", [f64(4, 6), f64(4, 6), f64(4, 6)], {"margin": 2.0}),
    ("triplet_margin_with_distance_loss", [f64(4, 6), f64(4, 6), f64(4, 6)],
     {"distance_function": _close_matrix, "swap": True, "margin": 0.5}),
    ("cosine_embedding_loss", [f64(5, 4), f64(5, 4), np.array([1, -1, 1, -1, -1])], {}),
    ("cosine_embedding_loss", [f64(5, 4), f64(1, 4), np.array([1, -1, 0, -1, 1])], {"margin": -0.2}),
    ("cosine_embedding_loss", [f64(4), f64(4), np.array(-1)], {"margin": -0.5}),
    ("margin_ranking_loss", [f64(6), f64(6), signs(6)], {}),
    ("margin_ranking_loss", [f64(1, 4), f64(3, 4), signs(3, 1)], {"margin": 0.5}),
    ("hinge_embedding_loss", [f64(3, 4), signs(3, 4)], {}),
    ("hinge_embedding_loss", [f64(3, 4), signs(4)], {"margin": 1.5}),
    ("poisson_nll_loss", [f64(3, 4), RNG.integers(0, 6, (3, 4)).astype(float)], {}),
    ("poisson_nll_loss", [f64(3, 4, lo=0.1, hi=3), RNG.integers(0, 6, (3, 4)).astype(float)], {"log_input": False}),
    ("poisson_nll_loss", [f64(3, 4), RNG.integers(0, 6, (3, 4)).astype(float)], {"full": True}),
    ("poisson_nll_loss", [f64(3, 4, lo=0.1, hi=3), RNG.integers(0, 6, (4,)).astype(float)],
     {"log_input": False, "full": True, "eps": 1e-3}),
    ("gaussian_nll_loss", [f64(3, 4), f64(3, 4), f64(3, 4, lo=0.1, hi=2)], {}),
    ("gaussian_nll_loss", [f64(3, 4), f64(3, 4), f64(3, lo=0.1, hi=2)], {"full": True}),  # var one dim short
    ("gaussian_nll_loss", [f64(3, 4), f64(3, 4), f64(3, 1, lo=0.1, hi=2)], {}),  # var with a size-1 dim
    ("gaussian_nll_loss", [f64(3, 4), f64(4), f64(3, 4, lo=0.1, hi=2)], {}),  # target broadcast
    # variances below eps are clamped forward, while their gradient passes through unchanged
    ("gaussian_nll_loss", [f64(3, 4), f64(3, 4), f64(3, 4, lo=0.0, hi=0.02)], {"eps": 0.01}),
]


# the operands torch differentiates (its ATen losses refuse a target that requires grad)
DIFFERENTIABLE = {"soft_margin_loss": (0,), "multilabel_soft_margin_loss": (0, 1, "weight"),
                  "multilabel_margin_loss": (0,), "multi_margin_loss": (0,), "triplet_margin_loss": (0, 1, 2),
                  "triplet_margin_with_distance_loss": (0, 1, 2), "cosine_embedding_loss": (0, 1),
                  "margin_ranking_loss": (0, 1), "hinge_embedding_loss": (0,), "poisson_nll_loss": (0,),
                  "gaussian_nll_loss": (0, 1, 2)}


def _operands(lib, arrays, kwargs, device, name=None):
    diff = DIFFERENTIABLE.get(name, ())
    ops = []
    for i, a in enumerate(arrays):
        a = np.asarray(a)
        if a.dtype.kind == "f":
            ops.append(lib.tensor(a, dtype=lib.float64, requires_grad=i in diff, device=device))
        else:
            ops.append(lib.tensor(a, dtype=lib.int64, device=device))
    kw = {k: (lib.tensor(v, dtype=lib.float64, requires_grad=k in diff, device=device) if isinstance(v, np.ndarray)
              else v) for k, v in kwargs.items()}
    return ops, kw


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_loss_and_gradients_match_torch(case, reduction, torch, device):
    name, arrays, kwargs = case
    results = []
    for lib, fn_mod, dev in ((torch, torch.nn.functional, "cpu"), (minitorch, F, device)):
        ops, kw = _operands(lib, arrays, kwargs, dev, name)
        out = getattr(fn_mod, name)(*ops, reduction=reduction, **kw)
        gy = lib.tensor(np.linspace(0.5, 1.5, out.numel()).reshape(tuple(out.shape)), dtype=lib.float64, device=dev)
        (out * gy).sum().backward()
        grads = [t.grad for t in ops + list(kw.values()) if isinstance(t, lib.Tensor) and t.requires_grad]
        results.append((out, grads))
    (t_out, t_grads), (m_out, m_grads) = results
    assert m_out.device.type == device and len(m_grads) == len(t_grads) >= 1
    close(m_out, t_out, 1e-9)
    for mg, tg in zip(m_grads, t_grads):
        close(mg, tg, 1e-9)


@pytest.mark.parametrize("name", ["soft_margin_loss", "multi_margin_loss", "cosine_embedding_loss",
                                  "poisson_nll_loss", "gaussian_nll_loss", "triplet_margin_loss"])
def test_float32_losses_match_torch(name, torch, device):
    _, arrays, kwargs = next(c for c in CASES if c[0] == name)
    outs = []
    for lib, fn_mod, dev in ((torch, torch.nn.functional, "cpu"), (minitorch, F, device)):
        ops = [lib.tensor(np.asarray(a), dtype=lib.float32 if np.asarray(a).dtype.kind == "f" else lib.int64,
                          device=dev) for a in arrays]
        out = getattr(fn_mod, name)(*ops, **kwargs)
        assert out.dtype == lib.float32
        outs.append(out)
    close(outs[1], outs[0], 1e-5)


AUTOCAST = {
    "soft_margin_loss": lambda F_, x, y, t: F_.soft_margin_loss(x, y),
    "hinge_embedding_loss": lambda F_, x, y, t: F_.hinge_embedding_loss(x, y),
    "multi_margin_loss": lambda F_, x, y, t: F_.multi_margin_loss(x, t),
    "multilabel_margin_loss": lambda F_, x, y, t: F_.multilabel_margin_loss(x, t.unsqueeze(1).expand(3, 4)),
    "poisson_nll_loss": lambda F_, x, y, t: F_.poisson_nll_loss(x, y.abs()),
    "cosine_embedding_loss": lambda F_, x, y, t: F_.cosine_embedding_loss(x, y, t * 2 - 1),
    "margin_ranking_loss": lambda F_, x, y, t: F_.margin_ranking_loss(x, y, y),
    "triplet_margin_loss": lambda F_, x, y, t: F_.triplet_margin_loss(x, y, x * 0.5),
    "gaussian_nll_loss": lambda F_, x, y, t: F_.gaussian_nll_loss(x, y, y.abs()),  # not on torch's lists
    "multilabel_soft_margin_loss": lambda F_, x, y, t: F_.multilabel_soft_margin_loss(x, y),  # not on the lists
}


@pytest.mark.parametrize("name", sorted(AUTOCAST))
def test_cpu_autocast_dtypes_as_torch(name, torch):
    x, y = f64(3, 4), signs(3, 4)
    outs = []
    for lib, fn_mod in ((torch, torch.nn.functional), (minitorch, F)):
        with lib.autocast("cpu", dtype=lib.bfloat16):
            out = AUTOCAST[name](fn_mod, lib.tensor(x).to(lib.bfloat16), lib.tensor(y).to(lib.bfloat16),
                                 lib.tensor([1, 0, 1]))
        outs.append(out)
    assert str(outs[1].dtype).split(".")[-1] == str(outs[0].dtype).split(".")[-1]
    close(outs[1].float(), outs[0].float(), 2e-2)


def test_gaussian_nll_float_var(torch):
    x, y = f64(3, 4), f64(3, 4)
    out = [lib.nn.functional.gaussian_nll_loss(lib.tensor(x), lib.tensor(y), 0.3, reduction="none")
           for lib in (torch, minitorch)]
    close(out[1], out[0], 1e-12)


# ---------------------------------------------------------------------------------------------------------------
# legacy size_average / reduce, modules, signatures
# ---------------------------------------------------------------------------------------------------------------
LEGACY = [(None, False, "none"), (False, None, "sum"), (True, True, "mean"), (False, True, "sum"),
          (True, False, "none"), (None, True, "mean")]


@pytest.mark.parametrize("size_average,reduce,expected", LEGACY)
@pytest.mark.parametrize("name", ["soft_margin_loss", "multilabel_soft_margin_loss", "multilabel_margin_loss",
                                  "multi_margin_loss", "triplet_margin_loss", "cosine_embedding_loss",
                                  "margin_ranking_loss", "hinge_embedding_loss", "poisson_nll_loss"])
def test_legacy_size_average_and_reduce(name, size_average, reduce, expected, torch):
    _, arrays, kwargs = next(c for c in CASES if c[0] == name)
    outs = []
    for lib, fn_mod in ((torch, torch.nn.functional), (minitorch, F)):
        ops, kw = _operands(lib, arrays, kwargs, "cpu")
        with pytest.warns(UserWarning, match=f"size_average and reduce args will be deprecated, please use "
                                             f"reduction='{expected}' instead"):
            outs.append(getattr(fn_mod, name)(*ops, size_average=size_average, reduce=reduce, **kw))
    close(outs[1], outs[0], 1e-9)
    ops, kw = _operands(minitorch, arrays, kwargs, "cpu")
    close(outs[1], getattr(F, name)(*ops, reduction=expected, **kw), 0)


def _module_cases(lib):
    nn_ = lib.nn
    return [
        (nn_.SoftMarginLoss(), "soft_margin_loss", {}),
        (nn_.SoftMarginLoss(size_average=False), "soft_margin_loss", {}),
        (nn_.MultiLabelSoftMarginLoss(reduction="sum"), "multilabel_soft_margin_loss", {}),
        (nn_.MultiLabelMarginLoss(reduce=False), "multilabel_margin_loss", {}),
        (nn_.MultiMarginLoss(p=2, margin=0.7, reduction="none"), "multi_margin_loss", {"p": 2, "margin": 0.7}),
        (nn_.TripletMarginLoss(margin=2.5, p=1, swap=True), "triplet_margin_loss", {"p": 1}),
        (nn_.TripletMarginWithDistanceLoss(margin=2.0, reduction="sum"), "triplet_margin_with_distance_loss", {}),
        (nn_.CosineEmbeddingLoss(margin=-0.2), "cosine_embedding_loss", {}),
        (nn_.MarginRankingLoss(margin=0.5, reduction="none"), "margin_ranking_loss", {}),
        (nn_.HingeEmbeddingLoss(margin=1.5), "hinge_embedding_loss", {}),
        (nn_.PoissonNLLLoss(log_input=False, full=True, eps=1e-3), "poisson_nll_loss", {"log_input": False}),
        (nn_.GaussianNLLLoss(full=True, eps=1e-2, reduction="sum"), "gaussian_nll_loss", {}),
    ]


def test_modules_match_torch(torch):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_cases, m_cases = _module_cases(torch), _module_cases(minitorch)
    for (tm, name, sel), (mm, _, _) in zip(t_cases, m_cases):
        assert type(mm).__name__ == type(tm).__name__
        assert mm.reduction == tm.reduction
        _, arrays, _ = next(c for c in CASES if c[0] == name and all(c[2].get(k) == v for k, v in sel.items()))
        outs = []
        for lib, mod in ((torch, tm), (minitorch, mm)):
            ops, _ = _operands(lib, arrays, {}, "cpu")
            outs.append(mod(*ops))
        close(outs[1], outs[0], 1e-9)


def test_weighted_modules_register_weight_buffers(torch):
    w = f64(5, lo=0.1)
    for cls in ("MultiMarginLoss", "MultiLabelSoftMarginLoss"):
        m = getattr(nn, cls)(weight=minitorch.tensor(w))
        t = getattr(torch.nn, cls)(weight=torch.tensor(w))
        assert list(dict(m.named_buffers())) == list(dict(t.named_buffers())) == ["weight"]


MODULES = ["SoftMarginLoss", "MultiLabelSoftMarginLoss", "MultiLabelMarginLoss", "MultiMarginLoss",
           "TripletMarginLoss", "TripletMarginWithDistanceLoss", "CosineEmbeddingLoss", "MarginRankingLoss",
           "HingeEmbeddingLoss", "PoissonNLLLoss", "GaussianNLLLoss", "CTCLoss"]
FUNCTIONS = ["soft_margin_loss", "multilabel_soft_margin_loss", "multilabel_margin_loss", "multi_margin_loss",
             "triplet_margin_loss", "triplet_margin_with_distance_loss", "cosine_embedding_loss",
             "margin_ranking_loss", "hinge_embedding_loss", "poisson_nll_loss", "gaussian_nll_loss", "ctc_loss"]


def _params(fn):
    return [(p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()]


@pytest.mark.parametrize("name", MODULES)
def test_module_signatures_match_torch(name, torch):
    assert _params(getattr(nn, name).__init__) == _params(getattr(torch.nn, name).__init__)
    assert _params(getattr(nn, name).forward) == _params(getattr(torch.nn, name).forward)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_functional_signatures_match_torch(name, torch):
    assert _params(getattr(F, name)) == _params(getattr(torch.nn.functional, name))


# ---------------------------------------------------------------------------------------------------------------
# errors: torch's exception types, and messages that name the problem
# ---------------------------------------------------------------------------------------------------------------
def _i(*v):
    return ("i", np.array(v))


ERRORS = [
    ("soft_margin_loss", [f64(3), f64(2, 3)], {}, RuntimeError,
     r"output with shape \[3\] doesn't match the broadcast shape \[2, 3\]"),
    ("soft_margin_loss", [f64(2, 3), f64(4)], {}, RuntimeError, "must match the size"),
    ("soft_margin_loss", [f64(3), f64(3)], {"reduction": "avg"}, ValueError, "avg is not a valid value for reduction"),
    ("multilabel_soft_margin_loss", [f64(2, 3), f64(2, 3)], {"reduction": "x"}, ValueError, "x is not valid"),
    ("multilabel_margin_loss", [f64(2, 3, 4), _i(1)], {}, RuntimeError,
     r"Expected non-empty vector or matrix with optional 0-dim batch size, but got: \[2, 3, 4\]"),
    ("multilabel_margin_loss", [f64(2, 4), _i([1, 2, -1])], {}, RuntimeError,
     r"inconsistent target size: \[1, 3\] for input of size: \[2, 4\]"),
    ("multilabel_margin_loss", [f64(4), _i([[1, 2, -1, 0]])], {}, RuntimeError, "inconsistent target size"),
    ("multilabel_margin_loss", [f64(2, 4), _i([1, 7, -1, 0], [0, 0, 0, 0])], {}, RuntimeError,
     "'target' is out of range"),
    ("multilabel_margin_loss", [f64(2, 4), _i([1, -3, -1, 0], [0, 0, 0, 0])], {}, RuntimeError,
     "'target' is out of range"),
    ("multilabel_margin_loss", [f64(2, 4), f64(2, 4)], {}, RuntimeError, "expected scalar type Long but found"),
    ("multi_margin_loss", [f64(2, 3, 4), _i(1, 2)], {}, RuntimeError, "Expected non-empty vector or matrix"),
    ("multi_margin_loss", [f64(2, 4), _i(1, 2, 3)], {}, RuntimeError,
     r"Expected target size \[2\], but got \[3\]. Input has shape \[2, 4\]"),
    ("multi_margin_loss", [f64(4), _i(1, 2)], {}, RuntimeError, r"Expected target size \[1\], but got \[2\]"),
    ("multi_margin_loss", [f64(2, 4), _i(1, 4)], {}, RuntimeError, "target out of range"),
    ("multi_margin_loss", [f64(2, 4), _i(-1, 0)], {}, RuntimeError, "target out of range"),
    ("multi_margin_loss", [f64(2, 4), _i(1, 2)], {"p": 3}, ValueError, "only p == 1 and p == 2 supported"),
    ("multi_margin_loss", [f64(2, 4), _i(1, 2)], {"weight": f64(2, 2)}, ValueError, "weight must be one-dimensional"),
    ("multi_margin_loss", [f64(2, 4), _i(1, 2)], {"weight": f64(3)}, RuntimeError,
     r"inconsistent weight size, expected 4 but got \[3\]"),
    ("multi_margin_loss", [f64(2, 4), f64(2)], {}, RuntimeError, "expected scalar type Long but found"),
    ("triplet_margin_loss", [f64(2, 3), f64(2, 3), f64(3)], {}, RuntimeError,
     "anchor 2D, positive 2D, and negative 1D inputs"),
    ("triplet_margin_loss", [f64(2, 3), f64(2, 3), f64(2, 3)], {"margin": 0}, ValueError,
     "margin must be greater than 0, got 0"),
    ("triplet_margin_loss", [f64(2, 3), f64(4, 3), f64(2, 3)], {}, RuntimeError, "must match the size"),
    ("triplet_margin_with_distance_loss", [f64(2, 3), f64(3), f64(2, 3)], {}, RuntimeError,
     "anchor 2D, positive 1D, and negative 2D inputs"),
    ("triplet_margin_with_distance_loss", [f64(2, 3), f64(2, 3), f64(2, 3)], {"margin": -1.0}, ValueError,
     "margin must be greater than 0, got -1.0"),
    ("triplet_margin_with_distance_loss", [f64(2, 3), f64(2, 3), f64(2, 3)], {"reduction": "max"}, ValueError,
     "max is not a valid value for reduction"),
    ("cosine_embedding_loss", [f64(2, 3), f64(2, 3), _i([1, -1])], {}, RuntimeError,
     "0D or 1D target tensor expected, multi-target not supported"),
    ("cosine_embedding_loss", [f64(3), f64(3), _i(1)], {}, RuntimeError,
     r"1D target tensor expects 2D input tensors, but found inputs with sizes \[3\] and \[3\]"),
    ("cosine_embedding_loss", [f64(2, 3), f64(2, 3), ("i", np.array(1))], {}, RuntimeError,
     r"0D target tensor expects 1D input tensors, but found inputs with sizes \[2, 3\] and \[2, 3\]"),
    ("cosine_embedding_loss", [f64(2, 3), f64(2, 3), _i(1, -1, 1)], {}, RuntimeError, "must match the size"),
    ("margin_ranking_loss", [f64(3), f64(3), f64(1, 3)], {}, RuntimeError,
     "margin_ranking_loss : All input tensors should have same dimension"),
    ("margin_ranking_loss", [f64(3), f64(2), f64(3)], {}, RuntimeError, "must match the size"),
    ("hinge_embedding_loss", [f64(3), f64(2)], {}, RuntimeError, "must match the size"),
    ("poisson_nll_loss", [f64(2, 3), f64(2)], {}, RuntimeError, "must match the size"),
    ("poisson_nll_loss", [f64(2, 3), f64(2, 3)], {"reduction": "x"}, ValueError, "x is not a valid value for reduction"),
    ("gaussian_nll_loss", [f64(2, 3), f64(2, 3), f64(3, lo=0.1)], {}, ValueError, "var is of incorrect size"),
    ("gaussian_nll_loss", [f64(2, 3), f64(2, 3), f64(1, 1, lo=0.1)], {}, ValueError, "var is of incorrect size"),
    ("gaussian_nll_loss", [f64(2, 3), f64(2, 3), f64(2, 3, lo=-1, hi=-0.1)], {}, ValueError,
     "var has negative entry/entries"),
    ("gaussian_nll_loss", [f64(2, 3), f64(2, 3), f64(2, 3, lo=0.1)], {"reduction": "x"}, ValueError, "x is not valid"),
]


def _error_operands(lib, arrays):
    out = []
    for a in arrays:
        if isinstance(a, tuple):
            out.append(lib.tensor(np.asarray(a[1]), dtype=lib.int64))
        else:
            out.append(lib.tensor(a, dtype=lib.float64))
    return out


@pytest.mark.parametrize("case", ERRORS, ids=[f"{c[0]}-{i}" for i, c in enumerate(ERRORS)])
def test_errors_match_torch(case, torch):
    name, arrays, kwargs, exc, match = case
    kw_t = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    kw_m = {k: minitorch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    with pytest.raises(exc, match=match):
        getattr(torch.nn.functional, name)(*_error_operands(torch, arrays), **kw_t)
    with pytest.raises(exc, match=match):
        getattr(F, name)(*_error_operands(minitorch, arrays), **kw_m)


@pytest.mark.parametrize("make", [
    lambda nn_: nn_.MultiMarginLoss(p=3),
    lambda nn_: nn_.TripletMarginLoss(margin=0.0),
    lambda nn_: nn_.TripletMarginWithDistanceLoss(margin=-1.0),
])
def test_module_constructor_errors(make, torch):
    with pytest.raises(ValueError) as te:
        make(torch.nn)
    with pytest.raises(ValueError, match=str(te.value).replace("(", r"\(").replace(")", r"\)")):
        make(nn)


# ---------------------------------------------------------------------------------------------------------------
# CTC
# ---------------------------------------------------------------------------------------------------------------
def _ctc_data(T, N, C, S, blank, rng, repeat=False):
    logits = rng.standard_normal((T, N, C))
    labels = [c for c in range(C) if c != blank]
    tg_len = rng.integers(0, S + 1, N)
    tg_len[0] = S
    in_len = rng.integers(max(1, T - 3), T + 1, N)
    in_len[-1] = T
    targets = rng.choice(labels, size=(N, S))
    if repeat and S >= 2:
        targets[0, 1] = targets[0, 0]  # a repeated label needs a blank between the two
    return logits, targets, in_len, tg_len


CTC_SHAPES = [
    # T, N, C, S, blank, repeated labels
    (6, 3, 4, 2, 0, False),
    (10, 4, 5, 4, 0, True),
    (12, 2, 6, 5, 5, True),  # blank is the last class
    (5, 3, 3, 3, 1, True),   # long targets for short inputs: some alignments impossible
    (1, 2, 3, 1, 0, False),  # a single frame
    (20, 3, 7, 8, 2, True),
]


def _ctc_run(lib, logits, targets, in_len, tg_len, dev, layout, lengths_as, from_logits, dtype, **kw):
    dt = getattr(lib, dtype)
    if from_logits:
        x = lib.tensor(logits, dtype=dt, requires_grad=True, device=dev)
        lp = x.log_softmax(2)
    else:
        x = lib.tensor(np.log(np.exp(logits) / np.exp(logits).sum(2, keepdims=True)), dtype=dt, requires_grad=True,
                       device=dev)
        lp = x
    if layout == "padded":
        tg = lib.tensor(targets, device=dev)
    else:
        tg = lib.tensor(np.concatenate([targets[n, :tg_len[n]] for n in range(len(tg_len))]).astype(np.int64),
                        device=dev)
    if lengths_as == "tensor":
        il, tl = lib.tensor(in_len, device=dev), lib.tensor(tg_len, device=dev)
    else:
        il, tl = tuple(int(v) for v in in_len), tuple(int(v) for v in tg_len)
    out = lib.nn.functional.ctc_loss(lp, tg, il, tl, **kw)
    gy = lib.tensor(np.linspace(0.5, 1.5, out.numel()).reshape(tuple(out.shape)), dtype=dt, device=dev)
    (out * gy).sum().backward()
    return out, x.grad


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("zero_infinity", [False, True])
@pytest.mark.parametrize("shape", CTC_SHAPES)
def test_ctc_matches_torch(shape, zero_infinity, reduction, torch):
    T, N, C, S, blank, repeat = shape
    rng = np.random.default_rng(T * 100 + N * 10 + C)
    data = _ctc_data(T, N, C, S, blank, rng, repeat)
    for layout, lengths_as, from_logits in (("padded", "tensor", False), ("concat", "tuple", True)):
        res = [_ctc_run(lib, *data, "cpu", layout, lengths_as, from_logits, "float64", blank=blank,
                        reduction=reduction, zero_infinity=zero_infinity) for lib in (torch, minitorch)]
        (t_out, t_g), (m_out, m_g) = res
        close(m_out, t_out, 1e-9, equal_nan=True)
        close(m_g, t_g, 1e-9, equal_nan=True)


def test_ctc_impossible_alignment_inf_nan_and_zero_infinity(torch):
    logits = np.random.default_rng(0).standard_normal((4, 3, 4))
    targets = np.array([[1, 1, 2], [2, 3, 3], [1, 2, 3]])
    # item 0 needs 3 frames for "1 1" (a blank in between) but gets 2; item 1 needs 4 for "2 3 3" and gets 3
    in_len, tg_len = np.array([2, 3, 4]), np.array([2, 3, 3])
    for zi in (False, True):
        res = [_ctc_run(lib, logits, targets, in_len, tg_len, "cpu", "padded", "tensor", False, "float64",
                        reduction="none", zero_infinity=zi) for lib in (torch, minitorch)]
        (t_out, t_g), (m_out, m_g) = res
        close(m_out, t_out, 1e-9, equal_nan=True)
        close(m_g, t_g, 1e-9, equal_nan=True)
        m = to_np(m_out)
        if zi:
            assert m[0] == 0 and m[1] == 0 and np.isfinite(m[2]) and m[2] > 0
            assert not np.isnan(to_np(m_g)).any() and (to_np(m_g)[:, :2] == 0).all()
        else:
            assert np.isinf(m[:2]).all() and np.isfinite(m[2])
            assert np.isnan(to_np(m_g)[:2, :2]).all()  # torch gives NaN gradients where the loss is inf


def test_ctc_zero_lengths_and_mean_divides_by_target_lengths(torch):
    rng = np.random.default_rng(5)
    logits = rng.standard_normal((5, 4, 4))
    targets = np.array([[1, 2], [3, 3], [2, 1], [1, 1]])
    in_len, tg_len = np.array([5, 0, 0, 3]), np.array([0, 0, 2, 1])  # empty target; empty input (possible or not)
    for red in REDUCTIONS:
        for zi in (False, True):
            res = [_ctc_run(lib, logits, targets, in_len, tg_len, "cpu", "padded", "tensor", True, "float64",
                            reduction=red, zero_infinity=zi) for lib in (torch, minitorch)]
            close(res[1][0], res[0][0], 1e-9, equal_nan=True)
            close(res[1][1], res[0][1], 1e-9, equal_nan=True)
    nll = F.ctc_loss(minitorch.tensor(logits).log_softmax(2), minitorch.tensor(targets), tuple(in_len),
                     tuple(tg_len), reduction="none", zero_infinity=True)
    mean = F.ctc_loss(minitorch.tensor(logits).log_softmax(2), minitorch.tensor(targets), tuple(in_len),
                      tuple(tg_len), zero_infinity=True)
    assert abs(float(mean) - float((nll / minitorch.tensor(np.maximum(tg_len, 1))).mean())) < 1e-12


def test_ctc_float32_and_int32_targets(torch):
    rng = np.random.default_rng(7)
    logits, targets, in_len, tg_len = _ctc_data(8, 3, 5, 3, 0, rng, True)
    outs = []
    for lib in (torch, minitorch):
        lp = lib.tensor(logits, dtype=lib.float32).log_softmax(2)
        outs.append(lib.nn.functional.ctc_loss(lp, lib.tensor(targets, dtype=lib.int32), lib.tensor(in_len),
                                               lib.tensor(tg_len), reduction="none"))
    assert outs[1].dtype == minitorch.float32
    close(outs[1], outs[0], 1e-5)


def test_ctc_unbatched_and_module(torch):
    rng = np.random.default_rng(11)
    logits = rng.standard_normal((7, 5))
    targets = np.array([1, 3, 3])
    for red in REDUCTIONS:
        outs = []
        for lib in (torch, minitorch):
            x = lib.tensor(logits, requires_grad=True)
            loss = lib.nn.CTCLoss(blank=0, reduction=red)(x.log_softmax(1), lib.tensor(targets), lib.tensor(7),
                                                          lib.tensor(3))
            loss.backward()
            outs.append((loss, x.grad))
        close(outs[1][0], outs[0][0], 1e-9)
        close(outs[1][1], outs[0][1], 1e-9)
    for tg, lengths in ((targets, ((7,), (3,))), (targets, ([7], [3])), ([[1, 3, 3, 2]], ((6,), (3,)))):
        outs = [lib.nn.functional.ctc_loss(lib.tensor(logits).log_softmax(1), lib.tensor(tg), *lengths,
                                           reduction="none") for lib in (torch, minitorch)]
        close(outs[1], outs[0], 1e-9)


def test_ctc_noncontiguous_log_probs(torch):
    rng = np.random.default_rng(3)
    logits = rng.standard_normal((3, 6, 4))  # (N, T, C), transposed to (T, N, C)
    targets, in_len, tg_len = np.array([[1, 2], [2, 2], [3, 1]]), np.array([6, 5, 6]), np.array([2, 2, 1])
    outs = []
    for lib in (torch, minitorch):
        x = lib.tensor(logits, requires_grad=True)
        loss = lib.nn.functional.ctc_loss(x.transpose(0, 1).log_softmax(2), lib.tensor(targets), lib.tensor(in_len),
                                          lib.tensor(tg_len))
        loss.backward()
        outs.append((loss, x.grad))
    close(outs[1][0], outs[0][0], 1e-9)
    close(outs[1][1], outs[0][1], 1e-9)


def _ctc_error_args(lib):
    lp = lib.zeros(5, 2, 4).log_softmax(2)
    t = lib.tensor
    return lp, t


CTC_ERRORS = [
    (lambda lp, t: (lp, t([[1, 2], [3, 3]]), t([5, 4]), t([2, 2])), {"blank": 4}, RuntimeError,
     "blank must be in label range"),
    (lambda lp, t: (lp, t([[1, 2], [3, 3]]), t([5, 4]), t([2, 2])), {"blank": -1}, RuntimeError,
     "blank must be in label range"),
    (lambda lp, t: (lp, t([[1, 2], [3, 3]]), t([5, 4, 3]), t([2, 2])), {}, RuntimeError,
     "input_lengths must be of size batch_size"),
    (lambda lp, t: (lp, t([[1, 2], [3, 3]]), t([5, 4]), t([2])), {}, RuntimeError,
     "target_lengths must be of size batch_size"),
    (lambda lp, t: (lp, t([[1, 2], [3, 3]]), t([6, 4]), t([2, 2])), {}, RuntimeError,
     "Expected input_lengths to have value at most 5, but got value 6"),
    (lambda lp, t: (lp, t([[1, 2], [3, 3]]), t([-1, 4]), t([2, 2])), {}, RuntimeError,
     "Expected input_lengths to have value at least 0, but got value -1"),
    (lambda lp, t: (lp, t([[1, 2], [3, 3]]), t([5, 4]), t([-1, 2])), {}, RuntimeError,
     "Expected target_lengths to have value at least 0, but got value -1"),
    (lambda lp, t: (lp, t([[1, 2], [3, 3]]), t([5, 4]), t([3, 2])), {}, RuntimeError,
     "Expected tensor to have size at least 3 at dimension 1, but got size 2"),
    (lambda lp, t: (lp, t([1, 2, 3]), t([5, 4]), t([2, 2])), {}, RuntimeError,
     "Expected tensor to have size 4 at dimension 0, but got size 3"),
    (lambda lp, t: (lp, t([[[1, 2], [3, 3]]]), t([5, 4]), t([2, 2])), {}, RuntimeError,
     "Expected 1 to 2 dimensions, but got 3-dimensional tensor"),
    (lambda lp, t: (lp, t([[1, 2], [3, 3]]), t([5.0, 4.0]), t([2, 2])), {}, RuntimeError,
     "input_lengths must be integral"),
    (lambda lp, t: (lp[None], t([[1, 2], [3, 3]]), t([5, 4]), t([2, 2])), {}, RuntimeError,
     "Expected 3-dimensional tensor, but got 5-dimensional tensor"),  # taken as unbatched, as torch does
    (lambda lp, t: (lp[0, 0], t([[1, 2], [3, 3]]), t([5, 4]), t([2, 2])), {}, RuntimeError,
     "Expected 3-dimensional tensor, but got 2-dimensional tensor"),
    (lambda lp, t: (lp[:, 0], t([1, 2, 3]), t(5), t(2)), {}, RuntimeError,
     "Expected tensor to have size 2 at dimension 0, but got size 3"),  # unbatched 1-D targets are concatenated
    (lambda lp, t: (lp, t([[1, 2], [3, 3]]), t([5, 4]), t([2, 2])), {"reduction": "x"}, ValueError,
     "x is not a valid value for reduction"),
    (lambda lp, t: (lp, t([[1, 2], [3, 3]]), t([5, 4]), (2, 2)), {}, TypeError, r"ctc_loss\(\)"),
    (lambda lp, t: (lp.long(), t([[1, 2], [3, 3]]), t([5, 4]), t([2, 2])), {}, NotImplementedError,
     "not implemented for 'Long'"),
    (lambda lp, t: (lp.half(), t([[1, 2], [3, 3]]), t([5, 4]), t([2, 2])), {}, NotImplementedError,
     "\"ctc_loss_cpu\" not implemented for 'Half'"),
]


@pytest.mark.parametrize("case", CTC_ERRORS, ids=[str(i) for i in range(len(CTC_ERRORS))])
def test_ctc_errors_match_torch(case, torch):
    make, kw, exc, match = case
    with pytest.raises(exc, match=match):
        torch.nn.functional.ctc_loss(*make(*_ctc_error_args(torch)), **kw)
    with pytest.raises(exc, match=match):
        F.ctc_loss(*make(*_ctc_error_args(minitorch)), **kw)


def test_ctc_out_of_range_target_is_an_error_not_a_wild_read():
    # PyTorch's CPU kernel reads past the class dim here; minitorch refuses before any kernel runs
    lp = minitorch.zeros(5, 2, 4).log_softmax(2)
    with pytest.raises(RuntimeError, match="target 7 is out of range for 4 classes"):
        F.ctc_loss(lp, minitorch.tensor([[1, 7], [3, 3]]), (5, 4), (2, 2))
    with pytest.raises(RuntimeError, match="target -2 is out of range"):
        F.ctc_loss(lp, minitorch.tensor([1, -2, 3, 3]), (5, 4), (2, 2))
    # padding past a target length is never read, so it may hold anything
    F.ctc_loss(lp, minitorch.tensor([[1, 99], [3, 3]]), (5, 4), (1, 2))


def test_ctc_double_backward_is_refused():
    x = minitorch.randn(4, 1, 3, requires_grad=True)
    loss = F.ctc_loss(x.log_softmax(2), minitorch.tensor([[1]]), (4,), (1,))
    with pytest.raises(RuntimeError, match="double backward"):
        minitorch.autograd.grad(loss, x, create_graph=True)


@pytest.mark.filterwarnings("ignore:invalid value encountered")  # the simulator computes the NaN rows in Python
@pytest.mark.parametrize("zero_infinity", [False, True])
def test_ctc_device_matches_torch(zero_infinity, torch, device):
    """The CUDA kernels (one block per item for alpha/beta, one thread per (t, n) row for the gradient) against
    torch, with an impossible alignment and a repeated label; tiny for the simulator."""
    logits = np.random.default_rng(1).standard_normal((5, 3, 3))
    targets = np.array([[1, 1], [2, 1], [1, 2]])
    in_len, tg_len = np.array([5, 2, 4]), np.array([2, 2, 1])  # item 1 cannot align "2 1" in... 2 frames: it can
    in_len[1] = 1  # one frame for two labels: impossible
    for red in ("none", "mean"):
        t_out, t_g = _ctc_run(torch, logits, targets, in_len, tg_len, "cpu", "padded", "tensor", False, "float64",
                              reduction=red, zero_infinity=zero_infinity)
        m_out, m_g = _ctc_run(minitorch, logits, targets, in_len, tg_len, device, "padded", "tensor", False,
                              "float64", reduction=red, zero_infinity=zero_infinity)
        assert m_out.device.type == device and m_g.device.type == device
        close(m_out, t_out, 1e-9, equal_nan=True)
        close(m_g, t_g, 1e-9, equal_nan=True)


# ---------------------------------------------------------------------------------------------------------------
# independent oracles: central differences, random shapes, non-contiguous operands
# ---------------------------------------------------------------------------------------------------------------
def test_ctc_gradient_through_log_softmax_is_the_true_gradient():
    """PyTorch's CTC gradient w.r.t. log_probs assumes they come from a log_softmax; through one it is exact."""
    rng = np.random.default_rng(9)
    logits = minitorch.tensor(rng.standard_normal((6, 2, 4)), requires_grad=True)
    targets = minitorch.tensor([[1, 1, 3], [2, 3, 0]])

    def f(x):
        return F.ctc_loss(x.log_softmax(2), targets, (6, 5), (3, 2), reduction="sum")
    assert minitorch.autograd.gradcheck(f, (logits,), eps=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", sorted(DIFFERENTIABLE))
def test_losses_gradcheck(name):
    _, arrays, kwargs = next(c for c in CASES if c[0] == name)
    ops, kw = _operands(minitorch, arrays, kwargs, "cpu", name)
    diff = [i for i, t in enumerate(ops) if t.requires_grad]

    def f(*xs):
        full = list(ops)
        for i, x in zip(diff, xs):
            full[i] = x
        return getattr(F, name)(*full, reduction="sum", **kw)
    assert minitorch.autograd.gradcheck(f, tuple(ops[i] for i in diff), eps=1e-6, atol=1e-5)


@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_noncontiguous_operands_match_torch(case, torch):
    """Every operand of two or more dims (none of size 1) arrives as a transposed view."""
    name, arrays, kwargs = case
    outs = []
    for lib, fn_mod in ((torch, torch.nn.functional), (minitorch, F)):
        ops, kw = _operands(lib, arrays, kwargs, "cpu", name)
        views = []
        for t in ops:
            if t.dim() >= 2 and min(t.shape) > 1:  # (a transposed view with a size-1 dim is still contiguous)
                v = lib.tensor(to_np(t).swapaxes(0, -1).copy(), dtype=t.dtype).transpose(0, -1)
                assert v.is_contiguous() is False
                t = v
            views.append(t)
        outs.append(getattr(fn_mod, name)(*views, reduction="none", **kw))
    close(outs[1], outs[0], 1e-9)


@pytest.mark.parametrize("seed", range(12))
def test_ctc_random_shapes_match_torch(seed, torch):
    rng = np.random.default_rng(100 + seed)
    T, N, C = int(rng.integers(1, 30)), int(rng.integers(1, 6)), int(rng.integers(2, 9))
    S = int(rng.integers(0, T + 2))  # up to impossible lengths
    blank = int(rng.integers(0, C))
    logits = rng.standard_normal((T, N, C))
    labels = [c for c in range(C) if c != blank]
    targets = rng.choice(labels, size=(N, max(S, 1)))
    in_len, tg_len = rng.integers(0, T + 1, N), rng.integers(0, S + 1, N)
    for red in REDUCTIONS:
        for zi in (False, True):
            form = ("padded", "tensor") if seed % 2 else ("concat", "tuple")
            res = [_ctc_run(lib, logits, targets, in_len, tg_len, "cpu", *form, True, "float64", blank=blank,
                            reduction=red, zero_infinity=zi) for lib in (torch, minitorch)]
            close(res[1][0], res[0][0], 1e-9, equal_nan=True)
            close(res[1][1], res[0][1], 1e-9, equal_nan=True)


HALF = {
    "soft_margin_loss": lambda F_, x, y: F_.soft_margin_loss(x, y, reduction="none"),
    "hinge_embedding_loss": lambda F_, x, y: F_.hinge_embedding_loss(x, y, reduction="none"),
    "cosine_embedding_loss": lambda F_, x, y: F_.cosine_embedding_loss(x, y, (y[:, 0] > 0).long() * 2 - 1,
                                                                       reduction="none"),
    "poisson_nll_loss": lambda F_, x, y: F_.poisson_nll_loss(x, y.abs(), reduction="none"),
    "gaussian_nll_loss": lambda F_, x, y: F_.gaussian_nll_loss(x, y, y.abs() + 0.5, reduction="none"),
    "multilabel_soft_margin_loss": lambda F_, x, y: F_.multilabel_soft_margin_loss(x, (y > 0).to(x.dtype),
                                                                                   reduction="none"),
    "triplet_margin_loss": lambda F_, x, y: F_.triplet_margin_loss(x, y, x * 0.5, reduction="none"),
    "margin_ranking_loss": lambda F_, x, y: F_.margin_ranking_loss(x, y, y, reduction="none"),
}


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("name", sorted(HALF))
def test_half_losses_match_torch_exactly(name, dtype, torch):
    """The composites run op by op in the 16-bit dtype, as PyTorch's do: the same rounding, the same bits."""
    x, y = f64(8, 16), signs(8, 16)
    outs = [HALF[name](fn_mod, lib.tensor(x).to(getattr(lib, dtype)), lib.tensor(y).to(getattr(lib, dtype)))
            for lib, fn_mod in ((torch, torch.nn.functional), (minitorch, F))]
    assert str(outs[1].dtype).split(".")[-1] == dtype
    close(outs[1].float(), outs[0].float(), 0)
