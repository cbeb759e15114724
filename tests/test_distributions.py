"""minitorch.distributions against torch.distributions: densities, moments, entropies, CDFs, their gradients,
reparameterised-sample gradients, sample shapes/support/moments, KL divergences and validation errors.

Every comparison builds the same distribution in both libraries from the same float64 numbers. Draws cannot be
compared number for number (the generators differ), so rsample gradients are checked against a formula evaluated
by PyTorch at minitorch's own draws (the noise is recovered from the draw), and sample moments against PyTorch's
mean and variance within a few standard errors of a fixed-seed sample.
"""
import math

import numpy as np
import pytest

import minitorch
import minitorch.distributions as D
from minitorch.distributions import constraints, transforms as T

pytestmark = pytest.mark.torch


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def mt(x, device="cpu", grad=False, dtype=None):
    t = minitorch.tensor(np.asarray(x), dtype=dtype or minitorch.float64, device=device)
    return t.requires_grad_(True) if grad else t


def tt(torch, x, grad=False):
    t = torch.tensor(np.asarray(x), dtype=torch.float64)
    return t.requires_grad_(True) if grad else t


def npy(t):
    if isinstance(t, (int, float)):
        return np.asarray(t)
    return t.detach().cpu().numpy() if hasattr(t, "detach") else np.asarray(t)


def close(a, b, rtol=1e-6, atol=1e-8):
    a, b = npy(a), npy(b)
    assert a.shape == b.shape, (a.shape, b.shape)
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, equal_nan=True)


# ----------------------------------------------------------------------------------------------------------------
# one table: name -> (parameters, a value in the support, methods to compare)
# ----------------------------------------------------------------------------------------------------------------
RNG = np.random.default_rng(7)
_MOM = ["mean", "variance", "stddev"]
_DIR_C = np.array([[0.7, 2.0, 3.5], [1.5, 0.4, 0.9]])
_COV = np.array([[2.0, 0.3, 0.1], [0.3, 1.0, -0.2], [0.1, -0.2, 0.5]])
_COVB = np.stack([_COV, np.array([[1.0, 0.0, 0.2], [0.0, 3.0, 0.4], [0.2, 0.4, 2.0]])])
_OH = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])

CASES = {
    "Normal": (dict(loc=[0.3, -1.2, 2.0], scale=[0.5, 1.5, 2.0]), [0.1, 0.7, -1.0],
               ["log_prob", "entropy", "cdf", "icdf", "mode"] + _MOM),
    "LogNormal": (dict(loc=[0.3, -1.2, 0.5], scale=[0.5, 1.5, 0.8]), [0.4, 1.7, 3.0],
                  ["log_prob", "entropy", "cdf", "icdf", "mode"] + _MOM),
    "Uniform": (dict(low=[0.0, -1.0, 2.0], high=[1.0, 3.0, 2.5]), [0.25, 2.9, 2.1],
                ["log_prob", "entropy", "cdf", "icdf"] + _MOM),
    "Exponential": (dict(rate=[0.5, 1.0, 3.0]), [0.2, 1.5, 0.01],
                    ["log_prob", "entropy", "cdf", "icdf", "mode"] + _MOM),
    "Laplace": (dict(loc=[0.3, -1.2, 2.0], scale=[0.5, 1.5, 2.0]), [0.1, 0.7, 2.0 + 1e-3],
                ["log_prob", "entropy", "cdf", "icdf", "mode"] + _MOM),
    "Gamma": (dict(concentration=[0.5, 2.0, 7.5], rate=[1.0, 0.3, 4.0]), [0.3, 5.0, 1.9],
              ["log_prob", "entropy", "cdf", "mode"] + _MOM),
    "Beta": (dict(concentration1=[0.5, 2.0, 7.5], concentration0=[1.3, 0.8, 4.0]), [0.3, 0.9, 0.6],
             ["log_prob", "entropy", "mode"] + _MOM),
    "Dirichlet": (dict(concentration=_DIR_C), [[0.2, 0.3, 0.5], [0.6, 0.1, 0.3]],
                  ["log_prob", "entropy", "mode"] + _MOM),
    "Poisson": (dict(rate=[0.5, 3.0, 12.0]), [0.0, 2.0, 15.0], ["log_prob", "mode"] + _MOM),
    "Bernoulli": (dict(probs=[0.1, 0.5, 0.85]), [1.0, 0.0, 1.0], ["log_prob", "entropy", "mode"] + _MOM),
    "Bernoulli(logits)": (dict(logits=[-2.0, 0.3, 4.0]), [1.0, 0.0, 0.0], ["log_prob", "entropy"] + _MOM),
    "Categorical": (dict(probs=[[1.0, 2.0, 3.0, 4.0], [0.5, 0.0, 0.25, 0.25]]), [3, 0],
                    ["log_prob", "entropy", "mode", "probs", "logits"]),
    "Categorical(logits)": (dict(logits=[[1.0, -2.0, 0.5], [3.0, 3.0, -1.0]]), [[1, 2], [0, 1]],
                            ["log_prob", "entropy", "mode", "probs", "logits"]),
    "OneHotCategorical": (dict(probs=[[0.2, 0.3, 0.5], [1.0, 1.0, 2.0]]), _OH,
                          ["log_prob", "entropy", "mode", "mean", "variance"]),
    "Binomial": (dict(total_count=[5.0, 10.0, 3.0], probs=[0.2, 0.5, 0.9]), [1.0, 7.0, 3.0],
                 ["log_prob", "mode"] + _MOM),
    "Binomial(logits)": (dict(total_count=4.0, logits=[-1.0, 0.5, 2.0]), [0.0, 4.0, 2.0],
                         ["log_prob", "entropy"] + _MOM),
    "MultivariateNormal": (dict(loc=[[0.1, -0.5, 1.0], [0.0, 2.0, -1.0]], covariance_matrix=_COV),
                           [[0.3, 0.2, 0.1], [1.0, 1.5, -2.0]],
                           ["log_prob", "entropy", "mode", "covariance_matrix", "precision_matrix", "scale_tril"]
                           + _MOM),
    "MultivariateNormal(precision)": (dict(loc=[0.1, -0.5, 1.0], precision_matrix=_COVB), [[0.3, 0.2, 0.1]],
                                      ["log_prob", "entropy", "covariance_matrix", "scale_tril"] + _MOM),
    "MultivariateNormal(scale_tril)": (dict(loc=[0.1, -0.5, 1.0], scale_tril=np.linalg.cholesky(_COV)),
                                       [[0.3, 0.2, 0.1], [1.0, 1.5, -2.0]],
                                       ["log_prob", "entropy", "covariance_matrix", "precision_matrix"] + _MOM),
    "Cauchy": (dict(loc=[0.3, -1.2, 2.0], scale=[0.5, 1.5, 2.0]), [0.1, 0.7, -1.0],
               ["log_prob", "entropy", "cdf", "icdf", "mode", "mean", "variance"]),
    "HalfNormal": (dict(scale=[0.5, 1.5, 2.0]), [0.1, 0.7, 3.0],
                   ["log_prob", "entropy", "cdf", "icdf", "mode"] + _MOM),
    "HalfCauchy": (dict(scale=[0.5, 1.5, 2.0]), [0.1, 0.7, 3.0], ["log_prob", "entropy", "cdf", "icdf", "mode"]),
    "Chi2": (dict(df=[0.5, 3.0, 10.0]), [0.3, 2.0, 12.0], ["log_prob", "entropy", "cdf", "mode"] + _MOM),
    "StudentT": (dict(df=[0.8, 1.5, 9.0], loc=[0.3, -1.2, 2.0], scale=[0.5, 1.5, 2.0]), [0.1, 0.7, -1.0],
                 ["log_prob", "entropy", "mode", "mean", "variance"]),
    "Geometric": (dict(probs=[0.2, 0.5, 0.9]), [0.0, 3.0, 1.0], ["log_prob", "entropy", "mode"] + _MOM),
    "Gumbel": (dict(loc=[0.3, -1.2, 2.0], scale=[0.5, 1.5, 2.0]), [0.1, 0.7, -1.0],
               ["log_prob", "entropy", "cdf", "icdf", "mode"] + _MOM),
    "Weibull": (dict(scale=[0.5, 1.5, 2.0], concentration=[0.7, 1.5, 4.0]), [0.1, 0.7, 3.0],
                ["log_prob", "entropy", "cdf", "icdf", "mode"] + _MOM),
    "Pareto": (dict(scale=[0.5, 1.5, 2.0], alpha=[0.5, 2.5, 9.0]), [0.6, 1.7, 3.0],
               ["log_prob", "entropy", "cdf", "icdf", "mode"] + _MOM),
    "NegativeBinomial": (dict(total_count=[2.0, 5.0, 0.5], probs=[0.3, 0.6, 0.1]), [0.0, 4.0, 2.0],
                         ["log_prob", "mode"] + _MOM),
    "Multinomial": (dict(total_count=10, probs=[[0.2, 0.3, 0.5], [1.0, 1.0, 2.0]]), [[2.0, 3.0, 5.0],
                                                                                     [0.0, 10.0, 0.0]],
                    ["log_prob", "entropy", "mean", "variance"]),
    "InverseGamma": (dict(concentration=[0.5, 2.5, 7.5], rate=[1.0, 0.3, 4.0]), [0.3, 5.0, 1.9],
                     ["log_prob", "entropy", "cdf", "mode"] + _MOM),
    "FisherSnedecor": (dict(df1=[1.5, 3.0, 10.0], df2=[1.0, 4.0, 12.0]), [0.3, 5.0, 1.9],
                       ["log_prob", "mode"] + _MOM),
    "LogisticNormal": (dict(loc=[[0.3, -0.4], [1.0, 0.2]], scale=[[0.5, 1.1], [0.3, 0.6]]),
                       [[0.2, 0.5, 0.3], [0.6, 0.1, 0.3]], ["log_prob"]),
    "RelaxedBernoulli": (dict(temperature=[0.5], probs=[0.1, 0.5, 0.85]), [0.3, 0.01, 0.9], ["log_prob"]),
    "RelaxedOneHotCategorical": (dict(temperature=[0.7], logits=[[1.0, -2.0, 0.5], [3.0, 3.0, -1.0]]),
                                 [[0.2, 0.5, 0.3], [0.6, 0.1, 0.3]], ["log_prob"]),
}

_NON_FLOAT = {("Binomial(logits)", "total_count"), ("Multinomial", "total_count")}
_INT_VALUES = {"Categorical", "Categorical(logits)"}


def _build(lib, name, params, torch=None, grad=False, device="cpu"):
    cls = getattr(lib, name.split("(")[0])
    kw, leaves = {}, {}
    for k, v in params.items():
        if (name, k) in _NON_FLOAT:
            kw[k] = v
            continue
        leaf = tt(torch, v, grad) if torch is not None else mt(v, device, grad)
        kw[k] = leaves[k] = leaf
    return cls(**kw), leaves


def _value(lib_torch, name, v, device="cpu"):
    if lib_torch is not None:
        t = lib_torch.tensor(np.asarray(v), dtype=lib_torch.float64)
        return t.long() if name in _INT_VALUES else t
    t = mt(v, device)
    return t.long() if name in _INT_VALUES else t


def _icdf_points(name):
    return [0.1, 0.5, 0.93]


def _call(d, method, value, name):
    if method in ("log_prob", "cdf"):
        return getattr(d, method)(value)
    if method == "icdf":
        return d.icdf(value)
    if method == "entropy":
        return d.entropy()
    return getattr(d, method)


@pytest.mark.parametrize("name", list(CASES))
def test_values_match_torch(torch, name):
    params, value, methods = CASES[name]
    dm, _ = _build(D, name, params)
    dt, _ = _build(torch.distributions, name, params, torch)
    assert tuple(dm.batch_shape) == tuple(dt.batch_shape)
    assert tuple(dm.event_shape) == tuple(dt.event_shape)
    for method in methods:
        if method == "icdf":
            vm, vt = mt(_icdf_points(name)), tt(torch, _icdf_points(name))
        else:
            vm, vt = _value(None, name, value), _value(torch, name, value)
        got, want = _call(dm, method, vm, name), _call(dt, method, vt, name)
        assert got.dtype == getattr(minitorch, str(want.dtype).split(".")[1]), (method, got.dtype, want.dtype)
        close(got, want, rtol=1e-6, atol=1e-9), method


@pytest.mark.parametrize("name", [n for n in CASES if n not in ("Poisson",)])
def test_gradients_match_torch(torch, name):
    """d/dparams of sum(log_prob) and (where defined) sum(entropy), sum(mean), sum(variance)."""
    params, value, methods = CASES[name]
    # Gamma.cdf has no gradient in the concentration in either library (tested below)
    for method in [m for m in ("log_prob", "entropy", "cdf", "mean", "variance") if m in methods
                   and (name, m) not in (("Gamma", "cdf"), ("Chi2", "cdf"), ("InverseGamma", "cdf"))]:
        dm, lm = _build(D, name, params, grad=True)
        dt, lt = _build(torch.distributions, name, params, torch, grad=True)
        got = _call(dm, method, _value(None, name, value), name).sum()
        want = _call(dt, method, _value(torch, name, value), name).sum()
        if not want.requires_grad:  # a constant (Cauchy's mean): no graph in either library
            assert not got.requires_grad, method
            continue
        keys = list(lm)
        gm = minitorch.autograd.grad(got, [lm[k] for k in keys], allow_unused=True)
        gt = torch.autograd.grad(want, [lt[k] for k in keys], allow_unused=True)
        for k, a, b in zip(keys, gm, gt):
            if b is None:
                assert a is None or not npy(a).any(), (method, k)
                continue
            close(a, b, rtol=1e-6, atol=1e-9)


def test_poisson_log_prob_gradient(torch):
    rate_m, rate_t = mt([0.5, 3.0, 12.0], grad=True), tt(torch, [0.5, 3.0, 12.0], True)
    v = [0.0, 2.0, 15.0]
    D.Poisson(rate_m).log_prob(mt(v)).sum().backward()
    torch.distributions.Poisson(rate_t).log_prob(tt(torch, v)).sum().backward()
    close(rate_m.grad, rate_t.grad)


# ----------------------------------------------------------------------------------------------------------------
# transformed distributions and transforms
# ----------------------------------------------------------------------------------------------------------------
def _transformed(lib, torch_mod, loc, scale, which):
    tr = lib.transforms
    base = lib.Normal(loc, scale)
    if which == "affine_exp":
        return lib.TransformedDistribution(base, [tr.AffineTransform(1.0, 2.0), tr.ExpTransform()])
    if which == "affine_neg":
        return lib.TransformedDistribution(base, tr.AffineTransform(0.5, -3.0))
    if which == "sigmoid":
        return lib.TransformedDistribution(base, [tr.SigmoidTransform()])
    if which == "tanh":
        return lib.TransformedDistribution(base, [tr.TanhTransform()])
    if which == "exp_power":
        return lib.TransformedDistribution(base, [tr.ExpTransform(), tr.PowerTransform(1.5)])
    if which == "compose":
        return lib.TransformedDistribution(base, tr.ComposeTransform([tr.AffineTransform(0.2, 0.5),
                                                                      tr.TanhTransform()]))
    if which == "inverse":
        return lib.TransformedDistribution(base, [tr.ExpTransform().inv, tr.AffineTransform(-1.0, 2.0)])
    raise AssertionError(which)


_TVALUES = {"affine_exp": [0.5, 3.0, 9.0], "affine_neg": [0.1, -1.0, 4.0], "sigmoid": [0.2, 0.5, 0.97],
            "tanh": [-0.7, 0.1, 0.95], "exp_power": [0.5, 2.0, 5.0], "compose": [-0.5, 0.3, 0.9],
            "inverse": [-3.0, 0.4, 1.0]}


@pytest.mark.parametrize("which", list(_TVALUES))
def test_transformed_distribution_matches_torch(torch, which):
    loc, scale = [0.3, -0.4, 0.8], [0.5, 1.1, 0.9]
    if which == "inverse":
        loc, scale = [2.0, 1.5, 3.0], [0.3, 0.2, 0.4]  # base draws stay positive for the log
    lm, sm = mt(loc, grad=True), mt(scale, grad=True)
    lt, st = tt(torch, loc, True), tt(torch, scale, True)
    dm = _transformed(D, None, lm, sm, which)
    dt = _transformed(torch.distributions, torch, lt, st, which)
    v = _TVALUES[which]
    got, want = dm.log_prob(mt(v)), dt.log_prob(tt(torch, v))
    close(got, want)
    got.sum().backward()
    want.sum().backward()
    close(lm.grad, lt.grad)
    close(sm.grad, st.grad)
    if which != "inverse":
        close(dm.cdf(mt(v)), dt.cdf(tt(torch, v)))
        q = [0.05, 0.5, 0.9]
        close(dm.icdf(mt(q)), dt.icdf(tt(torch, q)), rtol=1e-6, atol=1e-9)
    s = dm.sample((5,))
    assert tuple(s.shape) == (5, 3)
    assert bool(dm.support.check(s).all())


@pytest.mark.parametrize("cls", ["ExpTransform", "SigmoidTransform", "TanhTransform", "SoftmaxTransform",
                                 "StickBreakingTransform", "PowerTransform", "AffineTransform", "SoftplusTransform",
                                 "LowerCholeskyTransform"])
def test_transforms_match_torch(torch, cls):
    x = np.array([[0.3, -1.2, 0.7], [1.5, 0.2, -0.4]])
    if cls == "LowerCholeskyTransform":
        x = np.array([[0.3, -1.2, 0.7], [1.5, 0.2, -0.4], [0.1, 0.9, -2.0]])
    args = {"PowerTransform": (2.5,), "AffineTransform": (0.7, -1.5)}.get(cls, ())
    if cls == "PowerTransform":
        x = np.abs(x) + 0.1
    tm, tt_ = getattr(T, cls)(*args), getattr(torch.distributions.transforms, cls)(*args)
    xm, xt = mt(x, grad=True), tt(torch, x, True)
    ym, yt = tm(xm), tt_(xt)
    close(ym, yt)
    close(tm.inv(mt(npy(yt))), tt_.inv(yt.detach()), rtol=1e-6, atol=1e-7)
    if cls == "LowerCholeskyTransform":
        ym.sum().backward()
        yt.sum().backward()
        close(xm.grad, xt.grad)
    elif cls != "SoftmaxTransform":
        lm, lt = tm.log_abs_det_jacobian(xm, ym), tt_.log_abs_det_jacobian(xt, yt)
        close(lm, lt)
        (lm.sum() + ym.sum()).backward()
        (lt.sum() + yt.sum()).backward()
        close(xm.grad, xt.grad)
    assert tuple(tm.forward_shape((4, 3))) == tuple(tt_.forward_shape((4, 3)))
    assert tm.bijective == tt_.bijective
    assert repr(tm.domain) == repr(tt_.domain) and repr(tm.codomain) == repr(tt_.codomain)


def test_biject_to_and_transform_to_match_torch(torch):
    tc = torch.distributions.constraints
    x = np.array([[0.3, -1.2, 0.7], [1.5, 0.2, -0.4]])
    for name, args in (("real", None), ("positive", None), ("nonnegative", None), ("unit_interval", None),
                       ("simplex", None), ("real_vector", None), ("interval", (-1.0, 3.0)),
                       ("greater_than", (2.0,)), ("less_than", (-1.0,)), ("half_open_interval", (0.5, 2.0))):
        cm, ct = getattr(constraints, name), getattr(tc, name)
        if args is not None:
            cm, ct = cm(*args), ct(*args)
        for reg in ("biject_to", "transform_to"):
            tm, tt_ = getattr(D, reg)(cm), getattr(torch.distributions, reg)(ct)
            xm, xt = mt(x, grad=True), tt(torch, x, True)
            ym, yt = tm(xm), tt_(xt)
            close(ym, yt)
            assert bool(cm.check(ym).all())
            if tm.bijective:
                close(tm.log_abs_det_jacobian(xm, ym), tt_.log_abs_det_jacobian(xt, yt))
    with pytest.raises(NotImplementedError, match="Cannot transform"):
        D.biject_to(constraints.boolean)
    L = D.transform_to(constraints.lower_cholesky)(mt(np.ones((3, 3))))
    assert bool(constraints.lower_cholesky.check(L))


def test_cumulative_distribution_transform_matches_torch(torch):
    x = [0.3, -1.2, 0.7]
    tm = T.CumulativeDistributionTransform(D.Normal(mt([0.0, 1.0, 2.0]), mt([1.0, 0.5, 2.0])))
    tt_ = torch.distributions.transforms.CumulativeDistributionTransform(
        torch.distributions.Normal(tt(torch, [0.0, 1.0, 2.0]), tt(torch, [1.0, 0.5, 2.0])))
    ym, yt = tm(mt(x)), tt_(tt(torch, x))
    close(ym, yt)
    close(tm.inv(ym), tt_.inv(yt))
    close(tm.log_abs_det_jacobian(mt(x), ym), tt_.log_abs_det_jacobian(tt(torch, x), yt))


def test_stick_breaking_distribution_on_simplex(torch):
    loc, scale = [[0.3, -0.4], [1.0, 0.2]], [[0.5, 1.1], [0.3, 0.6]]
    dm = D.TransformedDistribution(D.Normal(mt(loc), mt(scale)), T.StickBreakingTransform())
    dt = torch.distributions.TransformedDistribution(torch.distributions.Normal(tt(torch, loc), tt(torch, scale)),
                                                     torch.distributions.StickBreakingTransform())
    assert tuple(dm.event_shape) == tuple(dt.event_shape) == (3,)
    assert tuple(dm.batch_shape) == tuple(dt.batch_shape) == (2,)
    v = [[0.2, 0.5, 0.3], [0.6, 0.1, 0.3]]
    close(dm.log_prob(mt(v)), dt.log_prob(tt(torch, v)))
    s = dm.sample((4,))
    assert tuple(s.shape) == (4, 2, 3) and bool(constraints.simplex.check(s).all())


def test_independent_matches_torch(torch):
    loc, scale = RNG.normal(size=(2, 3)), RNG.uniform(0.5, 2, size=(2, 3))
    lm, lt = mt(loc, grad=True), tt(torch, loc, True)
    dm = D.Independent(D.Normal(lm, mt(scale)), 1)
    dt = torch.distributions.Independent(torch.distributions.Normal(lt, tt(torch, scale)), 1)
    assert (tuple(dm.batch_shape), tuple(dm.event_shape)) == (tuple(dt.batch_shape), tuple(dt.event_shape))
    v = RNG.normal(size=(4, 2, 3))
    got, want = dm.log_prob(mt(v)), dt.log_prob(tt(torch, v))
    close(got, want)
    close(dm.entropy(), dt.entropy())
    close(dm.mean, dt.mean)
    close(dm.variance, dt.variance)
    got.sum().backward()
    want.sum().backward()
    close(lm.grad, lt.grad)
    assert tuple(dm.sample((5,)).shape) == (5, 2, 3)
    assert repr(dm.support) == repr(dt.support)


# ----------------------------------------------------------------------------------------------------------------
# sampling: shapes, dtypes, support, moments
# ----------------------------------------------------------------------------------------------------------------
_SAMPLE_N = 20000


@pytest.mark.parametrize("name", [n for n in CASES if "(" not in n or n == "Categorical(logits)"])
def test_sample_shape_dtype_support_and_moments(torch, name):
    params, _, _ = CASES[name]
    dm, _ = _build(D, name, params)
    dt, _ = _build(torch.distributions, name, params, torch)
    minitorch.manual_seed(123)
    s = dm.sample((_SAMPLE_N,))
    ts = dt.sample((2,))
    assert tuple(s.shape) == (_SAMPLE_N,) + tuple(dt.batch_shape) + tuple(dt.event_shape)
    assert str(s.dtype).split(".")[1] == str(ts.dtype).split(".")[1]
    assert not s.requires_grad
    assert bool(dm.support.check(s).all())
    assert tuple(dm.sample().shape) == tuple(dt.sample().shape)
    assert tuple(dm.sample((2, 3)).shape) == tuple(dt.sample((2, 3)).shape)
    x = npy(s).astype(np.float64)
    if name.startswith("Categorical"):
        # empirical frequencies against the normalised probabilities
        p = npy(dt.probs)
        freq = np.stack([(x == k).mean(0) for k in range(p.shape[-1])], -1)
        se = np.sqrt(p * (1 - p) / _SAMPLE_N)
        assert np.all(np.abs(freq - p) <= 5 * se + 1e-12)
        return
    try:
        mean, var = npy(dt.mean), npy(dt.variance)
    except NotImplementedError:  # no closed-form moments (relaxed and logistic-normal families)
        assert np.isfinite(x).all()
        return
    if name in ("Cauchy", "HalfCauchy"):  # no moments: the sample median against the distribution's
        np.testing.assert_allclose(np.median(x, 0), npy(dt.icdf(torch.tensor(0.5, dtype=torch.float64))), atol=0.05)
        return
    ok = np.isfinite(mean) & np.isfinite(var)  # heavy-tailed rows (StudentT df <= 2, Pareto alpha <= 2)
    assert ok.any()
    x, mean, var = x[:, ok], mean[ok], var[ok]
    se_mean = np.sqrt(var / _SAMPLE_N)
    assert np.all(np.abs(x.mean(0) - mean) <= 5 * se_mean + 1e-12), (x.mean(0), mean)
    # the sample variance's standard error, from the fourth central moment of the sample
    m4 = ((x - x.mean(0)) ** 4).mean(0)
    se_var = np.sqrt(np.maximum(m4 - var ** 2, 0) / _SAMPLE_N)
    assert np.all(np.abs(x.var(0) - var) <= 6 * se_var + 1e-12), (x.var(0), var)


def test_seed_makes_samples_reproducible():
    d = D.Normal(mt([0.0, 1.0]), mt([1.0, 2.0]))
    minitorch.manual_seed(5)
    a = d.sample((3,))
    minitorch.manual_seed(5)
    b = d.sample((3,))
    assert np.array_equal(npy(a), npy(b))


def test_float32_parameters_give_float32_samples_and_densities():
    d = D.Gamma(minitorch.tensor([2.0, 0.5]), minitorch.tensor([1.0, 3.0]))
    s = d.rsample((4,))
    assert s.dtype == minitorch.float32 and d.log_prob(s).dtype == minitorch.float32
    assert D.Categorical(minitorch.tensor([0.5, 0.5])).sample((3,)).dtype == minitorch.int64


# ----------------------------------------------------------------------------------------------------------------
# rsample gradients: PyTorch's formula evaluated at minitorch's own draws
# ----------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["Normal", "Exponential", "Laplace", "Uniform", "LogNormal"])
def test_rsample_gradient_is_the_implicit_reparameterisation(torch, name):
    """For a scalar draw x = F^-1(u; theta), dx/dtheta = -(dF/dtheta) / p(x); PyTorch's cdf and log_prob evaluate
    the right side at minitorch's draws, whatever noise produced them."""
    params, _, _ = CASES[name]
    dm, lm = _build(D, name, params, grad=True)
    minitorch.manual_seed(0)
    x = dm.rsample((7,))
    keys = list(lm)
    grads = minitorch.autograd.grad(x.sum(), [lm[k] for k in keys], allow_unused=True)
    dt, lt = _build(torch.distributions, name, params, torch, grad=True)
    xt = tt(torch, npy(x))
    F = dt.cdf(xt)
    dens = dt.log_prob(xt).exp().detach()
    for k, g in zip(keys, grads):
        (dF,) = torch.autograd.grad(F, lt[k], grad_outputs=-1 / dens, retain_graph=True)
        close(g, dF, rtol=1e-6, atol=1e-8)


def test_gamma_rsample_gradient_matches_torch_standard_gamma_grad(torch):
    conc, rate = [0.05, 0.6, 2.0, 9.0, 150.0], [1.0, 0.5, 2.0, 0.25, 3.0]
    cm, rm = mt(conc, grad=True), mt(rate, grad=True)
    minitorch.manual_seed(1)
    x = D.Gamma(cm, rm).rsample((6,))
    x.sum().backward()
    xs = npy(x)
    g_std = torch._standard_gamma_grad(tt(torch, conc).expand(6, 5), tt(torch, xs * np.array(rate)))
    want_c = (g_std.numpy() / np.array(rate)).sum(0)
    want_r = (-xs / np.array(rate)).sum(0)
    np.testing.assert_allclose(npy(cm.grad), want_c, rtol=1e-3)
    np.testing.assert_allclose(npy(rm.grad), want_r, rtol=1e-10)


def test_standard_gamma_grad_matches_torch(torch):
    alpha = np.array([0.01, 0.1, 0.5, 1.0, 3.0, 20.0, 400.0, 1e4])
    x = np.array([1e-20, 1e-3, 0.2, 1.5, 0.7, 25.0, 380.0, 1.01e4])
    got = minitorch._standard_gamma_grad(mt(alpha), mt(x))
    want = torch._standard_gamma_grad(tt(torch, alpha), tt(torch, x))
    np.testing.assert_allclose(npy(got), want.numpy(), rtol=5e-4)


def test_dirichlet_grad_is_the_beta_marginal_implicit_gradient(torch):
    """d x / d a for x ~ Beta(a, total - a) at a fixed CDF value (total fixed), against mpmath's incomplete beta.
    PyTorch's _dirichlet_grad approximates the same quantity, but coarsely (28% off at x=0.8, a=2.5, total=4), so
    it is no oracle here; the unbiasedness test below checks the whole rsample gradient."""
    mp = pytest.importorskip("mpmath")
    mp.mp.dps = 30
    x, a, tot = [0.2, 0.4, 0.8, 0.45, 0.3], [0.3, 1.0, 2.5, 30.0, 3.0], [1.0, 3.0, 4.0, 60.0, 5.5]

    def exact(xi, ai, ti):
        bi = ti - ai
        dF = mp.diff(lambda aa: mp.betainc(aa, ti - aa, 0, xi, regularized=True), ai)
        return float(-dF / (mp.mpf(xi) ** (ai - 1) * (1 - mp.mpf(xi)) ** (bi - 1) / mp.beta(ai, bi)))

    got = npy(minitorch._dirichlet_grad(mt(x), mt(a), mt(tot)))
    np.testing.assert_allclose(got, [exact(*p) for p in zip(x, a, tot)], rtol=1e-6)


def test_dirichlet_rsample_gradient_uses_the_marginal_formula(torch):
    """PyTorch's Dirichlet backward: grad_alpha = dirichlet_grad(x) * (g - <x, g>), replayed at minitorch's draws."""
    conc = np.array([[0.7, 2.0, 3.5], [1.5, 0.4, 0.9]])
    cm = mt(conc, grad=True)
    minitorch.manual_seed(8)
    x = D.Dirichlet(cm).rsample()
    w = RNG.normal(size=conc.shape)
    (x * mt(w)).sum().backward()
    xs = npy(x)
    dg = npy(minitorch._dirichlet_grad(mt(xs), mt(conc), mt(np.broadcast_to(conc.sum(-1, keepdims=True), conc.shape))))
    close(cm.grad, dg * (w - (xs * w).sum(-1, keepdims=True)))


def test_multivariate_normal_rsample_gradient_replays_the_noise(torch):
    loc, L = np.array([0.1, -0.5, 1.0]), np.linalg.cholesky(_COV)
    lm, Lm = mt(loc, grad=True), mt(L, grad=True)
    minitorch.manual_seed(2)
    x = D.MultivariateNormal(lm, scale_tril=Lm).rsample((4,))
    (x * mt([1.0, 2.0, 3.0])).sum().backward()
    eps = np.linalg.solve(L, (npy(x) - loc).T).T  # the standard normal noise behind the draws
    lt, Lt = tt(torch, loc, True), tt(torch, L, True)
    xt = lt + (Lt @ tt(torch, eps).unsqueeze(-1)).squeeze(-1)
    close(xt, x)
    (xt * tt(torch, [1.0, 2.0, 3.0])).sum().backward()
    close(lm.grad, lt.grad)
    close(Lm.grad.tril(), Lt.grad.tril())


@pytest.mark.slow
@pytest.mark.parametrize("name", ["Beta", "Dirichlet"])
def test_rsample_gradient_is_unbiased_for_the_mean(torch, name):
    """E[d x / d concentration] = d E[x] / d concentration (the mean from PyTorch's formula)."""
    params = {"Beta": dict(concentration1=[0.7, 3.0], concentration0=[2.0, 1.5]),
              "Dirichlet": dict(concentration=[[0.7, 2.0, 3.5]])}[name]
    dm, lm = _build(D, name, params, grad=True)
    minitorch.manual_seed(3)
    n = 20000
    x = dm.rsample((n,))
    w = RNG.normal(size=tuple(x.shape[1:]))
    keys = list(lm)
    got = minitorch.autograd.grad((x * mt(w)).sum() / n, [lm[k] for k in keys])
    dt, lt = _build(torch.distributions, name, params, torch, grad=True)
    want = torch.autograd.grad((dt.mean * tt(torch, w)).sum(), [lt[k] for k in keys])
    for a, b in zip(got, want):
        np.testing.assert_allclose(npy(a), b.numpy(), atol=0.03, rtol=0.1)


# ----------------------------------------------------------------------------------------------------------------
# KL divergences
# ----------------------------------------------------------------------------------------------------------------
_KL_PAIRS = [
    ("Normal", dict(loc=[0.0, 1.0], scale=[1.0, 0.5]), "Normal", dict(loc=[0.5, -1.0], scale=[2.0, 0.7])),
    ("Categorical", dict(probs=[[0.2, 0.3, 0.5], [0.0, 0.5, 0.5]]), "Categorical",
     dict(logits=[[0.1, -1.0, 2.0], [0.0, 0.0, 3.0]])),
    ("OneHotCategorical", dict(probs=[[0.2, 0.3, 0.5]]), "OneHotCategorical", dict(probs=[[0.6, 0.3, 0.1]])),
    ("Bernoulli", dict(probs=[0.2, 0.0, 1.0, 0.7]), "Bernoulli", dict(probs=[0.5, 0.3, 0.9, 1.0])),
    ("MultivariateNormal", dict(loc=[0.1, -0.5, 1.0], covariance_matrix=_COV), "MultivariateNormal",
     dict(loc=[[0.0, 0.0, 0.0], [1.0, 0.0, -1.0]], covariance_matrix=_COVB)),
    ("Uniform", dict(low=[0.0, 0.0], high=[1.0, 2.0]), "Uniform", dict(low=[-1.0, 0.5], high=[2.0, 3.0])),
    ("Exponential", dict(rate=[0.5, 2.0]), "Exponential", dict(rate=[1.5, 0.1])),
    ("Gamma", dict(concentration=[0.5, 3.0], rate=[1.0, 2.0]), "Gamma", dict(concentration=[2.0, 1.0],
                                                                             rate=[0.3, 1.5])),
    ("Beta", dict(concentration1=[0.5, 3.0], concentration0=[1.0, 2.0]), "Beta",
     dict(concentration1=[2.0, 1.0], concentration0=[0.3, 1.5])),
    ("Dirichlet", dict(concentration=_DIR_C), "Dirichlet", dict(concentration=_DIR_C[::-1].copy())),
    ("Laplace", dict(loc=[0.0, 1.0], scale=[1.0, 0.5]), "Laplace", dict(loc=[0.5, -1.0], scale=[2.0, 0.7])),
    ("Poisson", dict(rate=[0.5, 4.0]), "Poisson", dict(rate=[2.0, 3.0])),
    ("Binomial", dict(total_count=[5.0, 8.0], probs=[0.3, 0.6]), "Binomial",
     dict(total_count=[5.0, 8.0], probs=[0.5, 0.1])),
    ("Exponential", dict(rate=[0.5, 2.0]), "Gamma", dict(concentration=[2.0, 0.7], rate=[0.3, 1.5])),
    ("Uniform", dict(low=[0.0, -1.0], high=[1.0, 2.0]), "Normal", dict(loc=[0.5, -1.0], scale=[2.0, 0.7])),
    ("LogNormal", dict(loc=[0.0, 1.0], scale=[1.0, 0.5]), "LogNormal", dict(loc=[0.5, -1.0], scale=[2.0, 0.7])),
    ("HalfNormal", dict(scale=[1.0, 0.5]), "HalfNormal", dict(scale=[2.0, 0.7])),
    ("Chi2", dict(df=[1.0, 4.5]), "Chi2", dict(df=[2.0, 0.7])),
    ("Geometric", dict(probs=[0.2, 0.7]), "Geometric", dict(probs=[0.5, 0.1])),
    ("Gumbel", dict(loc=[0.0, 1.0], scale=[1.0, 0.5]), "Gumbel", dict(loc=[0.5, -1.0], scale=[2.0, 0.7])),
    ("Pareto", dict(scale=[1.0, 0.5], alpha=[2.0, 3.0]), "Pareto", dict(scale=[0.5, 0.7], alpha=[1.0, 2.5])),
]


@pytest.mark.parametrize("pair", _KL_PAIRS, ids=[f"{a}-{c}" for a, _, c, _ in _KL_PAIRS])
def test_kl_divergence_matches_torch(torch, pair):
    np_, pp, nq, pq = pair
    pm, lm = _build(D, np_, pp, grad=True)
    qm, _ = _build(D, nq, pq)
    pt, lt = _build(torch.distributions, np_, pp, torch, grad=True)
    qt, _ = _build(torch.distributions, nq, pq, torch)
    got, want = D.kl_divergence(pm, qm), torch.distributions.kl_divergence(pt, qt)
    close(got, want)
    finite_m, finite_t = got.isfinite(), want.isfinite()
    keys = list(lm)
    gm = minitorch.autograd.grad(got.where(finite_m, mt(0.0)).sum(), [lm[k] for k in keys])
    gt = torch.autograd.grad(want.where(finite_t, tt(torch, 0.0)).sum(), [lt[k] for k in keys])
    for a, b in zip(gm, gt):
        b = b.numpy()
        ok = np.isfinite(b)
        np.testing.assert_allclose(npy(a)[ok], b[ok], rtol=1e-6, atol=1e-8)


def test_kl_independent_and_errors(torch):
    loc = RNG.normal(size=(2, 3))
    pm = D.Independent(D.Normal(mt(loc), mt(np.ones((2, 3)))), 1)
    qm = D.Independent(D.Normal(mt(np.zeros((2, 3))), mt(np.full((2, 3), 2.0))), 1)
    pt = torch.distributions.Independent(torch.distributions.Normal(tt(torch, loc), tt(torch, np.ones((2, 3)))), 1)
    qt = torch.distributions.Independent(torch.distributions.Normal(tt(torch, np.zeros((2, 3))),
                                                                    tt(torch, np.full((2, 3), 2.0))), 1)
    close(D.kl_divergence(pm, qm), torch.distributions.kl_divergence(pt, qt))
    with pytest.raises(NotImplementedError, match="No KL\\(p \\|\\| q\\) is implemented for p type Normal and q type "
                                                  "Poisson"):
        D.kl_divergence(D.Normal(0.0, 1.0), D.Poisson(mt([1.0])))


def test_register_kl_picks_the_most_specific_pair():
    class MyNormal(D.Normal):
        pass

    @D.register_kl(MyNormal, D.Normal)
    def _kl(p, q):
        return p.loc * 0 + 42.0

    try:
        assert float(D.kl_divergence(MyNormal(mt([0.0]), mt([1.0])), D.Normal(mt([0.0]), mt([1.0])))) == 42.0
        # the general pair still applies the other way round
        assert float(D.kl_divergence(D.Normal(mt([0.0]), mt([1.0])), MyNormal(mt([0.0]), mt([1.0])))) == 0.0
    finally:
        from minitorch.distributions import kl
        del kl._KL_REGISTRY[MyNormal, D.Normal]
        kl._KL_MEMOIZE.clear()


# ----------------------------------------------------------------------------------------------------------------
# validation, shapes and errors
# ----------------------------------------------------------------------------------------------------------------
def _torch_message(torch, fn):
    with pytest.raises(Exception) as info:
        fn()
    return type(info.value), str(info.value)


def _first_line(msg, torch_msg=False):
    line = msg.split("\n")[0]
    return line.replace("torch.", "minitorch.") if torch_msg else line


_ERRORS = [
    ("Normal", lambda L, t: L.Normal(t([0.0, 1.0]), t([1.0, -1.0]))),
    ("Exponential", lambda L, t: L.Exponential(t([0.0]))),
    ("Gamma", lambda L, t: L.Gamma(t([1.0]), t([-2.0]))),
    ("Beta", lambda L, t: L.Beta(t([-1.0]), t([2.0]))),
    ("Dirichlet", lambda L, t: L.Dirichlet(t([[1.0, 0.0]]))),
    ("Bernoulli", lambda L, t: L.Bernoulli(t([1.5]))),
    ("Categorical", lambda L, t: L.Categorical(t([0.5, -0.5]))),
    ("Categorical both", lambda L, t: L.Categorical(probs=t([0.5, 0.5]), logits=t([0.0, 0.0]))),
    ("Bernoulli none", lambda L, t: L.Bernoulli()),
    ("Uniform", lambda L, t: L.Uniform(t([0.0, 2.0]), t([1.0, 1.0]))),
    ("Poisson", lambda L, t: L.Poisson(t([-1.0]))),
    ("MVN none", lambda L, t: L.MultivariateNormal(t([0.0, 0.0]))),
    ("MVN loc", lambda L, t: L.MultivariateNormal(t(0.0), covariance_matrix=t([[1.0]]))),
    ("MVN not pd", lambda L, t: L.MultivariateNormal(t([0.0, 0.0]), covariance_matrix=t([[1.0, 2.0], [2.0, 1.0]]))),
    ("MVN tril", lambda L, t: L.MultivariateNormal(t([0.0, 0.0]), scale_tril=t([[1.0, 0.5], [0.0, 1.0]]))),
    ("Independent", lambda L, t: L.Independent(L.Normal(t([0.0]), t([1.0])), 2)),
    ("Categorical 0-d", lambda L, t: L.Categorical(t(0.5))),
    ("Geometric", lambda L, t: L.Geometric(t([0.0, 0.5]))),
    ("StudentT", lambda L, t: L.StudentT(t([-1.0]))),
    ("Multinomial", lambda L, t: L.Multinomial(3, t([0.5, -0.5]))),
    ("Pareto value", lambda L, t: L.Pareto(t([1.0]), t([2.0])).log_prob(t([0.5]))),
    ("MixtureSameFamily", lambda L, t: L.MixtureSameFamily(L.Categorical(t([0.5, 0.5])), L.Normal(t([0.0]), t([1.0])))),
    # values outside the support, or of the wrong shape
    ("Exponential value", lambda L, t: L.Exponential(t([1.0, 2.0])).log_prob(t([-1.0, 1.0]))),
    ("Categorical value", lambda L, t: L.Categorical(t([0.5, 0.5])).log_prob(t([2.0]))),
    ("Bernoulli value", lambda L, t: L.Bernoulli(t([0.5, 0.5])).log_prob(t([0.5, 1.0]))),
    ("Dirichlet value", lambda L, t: L.Dirichlet(t([1.0, 2.0])).log_prob(t([0.5, 0.6]))),
    ("Dirichlet event", lambda L, t: L.Dirichlet(t([1.0, 2.0])).log_prob(t([0.2, 0.3, 0.5]))),
    ("Normal broadcast", lambda L, t: L.Normal(t([0.0, 1.0]), t([1.0, 1.0])).log_prob(t([0.0, 1.0, 2.0]))),
    ("Normal not tensor", lambda L, t: L.Normal(t([0.0]), t([1.0])).log_prob(0.5)),
    ("Uniform value", lambda L, t: L.Uniform(t([0.0]), t([1.0])).log_prob(t([1.5]))),
]


@pytest.mark.parametrize("case", _ERRORS, ids=[c[0] for c in _ERRORS])
def test_validation_errors_match_torch(torch, case):
    _, build = case
    want_type, want = _torch_message(torch, lambda: build(torch.distributions,
                                                          lambda v: torch.tensor(v, dtype=torch.float64)))
    with pytest.raises(want_type) as info:
        build(D, lambda v: minitorch.tensor(v, dtype=minitorch.float64))
    got = str(info.value)
    assert _first_line(got) == _first_line(want, True), (got, want)


def test_validation_can_be_turned_off():
    D.Normal(mt([0.0]), mt([-1.0]), validate_args=False)  # no error
    assert float(D.Exponential(mt([1.0]), validate_args=False).log_prob(mt([-1.0]))) == 1.0
    D.Distribution.set_default_validate_args(False)
    try:
        d = D.Normal(mt([0.0]), mt([-1.0]))
        assert not d._validate_args
    finally:
        D.Distribution.set_default_validate_args(True)
    with pytest.raises(ValueError, match="Expected parameter scale"):
        D.Normal(mt([0.0]), mt([-1.0]))
    with pytest.raises(ValueError):
        D.Distribution.set_default_validate_args("yes")


def test_constraint_reprs_match_torch(torch):
    tc = torch.distributions.constraints
    for name in ("real", "positive", "nonnegative", "unit_interval", "simplex", "boolean", "nonnegative_integer",
                 "positive_integer", "real_vector", "lower_cholesky", "positive_definite", "one_hot"):
        assert repr(getattr(constraints, name)) == repr(getattr(tc, name)), name
    assert repr(constraints.interval(-1.0, 2.0)) == repr(tc.interval(-1.0, 2.0))
    assert repr(constraints.integer_interval(0, 3)) == repr(tc.integer_interval(0, 3))
    assert repr(constraints.greater_than(1.5)) == repr(tc.greater_than(1.5))
    assert constraints.is_dependent(constraints.dependent(is_discrete=False, event_dim=0))
    u = D.Uniform(mt([0.0]), mt([2.0]))
    assert repr(u.arg_constraints["low"]) == repr(constraints.less_than(u.high))
    assert not constraints.is_dependent(constraints.real)


@pytest.mark.parametrize("name", ["Normal", "Gamma", "Dirichlet", "Categorical", "Bernoulli", "Binomial",
                                  "MultivariateNormal", "OneHotCategorical", "LogNormal", "Uniform", "Beta"])
def test_expand_matches_torch(torch, name):
    params, value, _ = CASES[name]
    dm, _ = _build(D, name, params)
    dt, _ = _build(torch.distributions, name, params, torch)
    new_batch = (4,) + tuple(dt.batch_shape)
    em, et = dm.expand(new_batch), dt.expand(new_batch)
    assert type(em) is type(dm)
    assert tuple(em.batch_shape) == tuple(et.batch_shape) and tuple(em.event_shape) == tuple(et.event_shape)
    close(em.log_prob(_value(None, name, value)), et.log_prob(_value(torch, name, value)))
    assert tuple(em.sample((2,)).shape) == tuple(et.sample((2,)).shape)


def test_enumerate_support_matches_torch(torch):
    for dm, dt in ((D.Categorical(mt([[0.2, 0.8], [0.5, 0.5]])),
                    torch.distributions.Categorical(tt(torch, [[0.2, 0.8], [0.5, 0.5]]))),
                   (D.Bernoulli(mt([0.3, 0.6])), torch.distributions.Bernoulli(tt(torch, [0.3, 0.6]))),
                   (D.Binomial(3, mt([0.3, 0.6])), torch.distributions.Binomial(3, tt(torch, [0.3, 0.6]))),
                   (D.OneHotCategorical(mt([0.2, 0.3, 0.5])),
                    torch.distributions.OneHotCategorical(tt(torch, [0.2, 0.3, 0.5])))):
        for expand in (True, False):
            close(dm.enumerate_support(expand), dt.enumerate_support(expand))


def _mixtures(lib, t, event):
    mix = lib.Categorical(logits=t([[0.3, -0.2, 1.0], [0.0, 0.5, -1.0]]))
    if event:
        comp = lib.MultivariateNormal(t(np.arange(12.0).reshape(2, 3, 2) / 4 - 1), scale_tril=t(
            np.broadcast_to(np.array([[1.0, 0.0], [0.3, 0.5]]), (2, 3, 2, 2)).copy()))
    else:
        comp = lib.Normal(t([[0.0, 1.0, -2.0], [0.5, 0.0, 3.0]]), t([[1.0, 0.5, 2.0], [0.3, 1.0, 1.5]]))
    return lib.MixtureSameFamily(mix, comp)


@pytest.mark.parametrize("event", [False, True])
def test_mixture_same_family_matches_torch(torch, event):
    dm = _mixtures(D, lambda v: mt(v), event)
    dt = _mixtures(torch.distributions, lambda v: tt(torch, v), event)
    assert (tuple(dm.batch_shape), tuple(dm.event_shape)) == (tuple(dt.batch_shape), tuple(dt.event_shape))
    v = RNG.normal(size=(4, 2) + ((2,) if event else ()))
    close(dm.log_prob(mt(v)), dt.log_prob(tt(torch, v)))
    close(dm.mean, dt.mean)
    close(dm.variance, dt.variance)
    if not event:
        close(dm.cdf(mt(v)), dt.cdf(tt(torch, v)))
    minitorch.manual_seed(9)
    s = npy(dm.sample((20000,)))
    assert s.shape == (20000,) + tuple(dt.batch_shape) + tuple(dt.event_shape)
    se = np.sqrt(npy(dt.variance) / 20000)
    assert np.all(np.abs(s.mean(0) - npy(dt.mean)) <= 5 * se)
    em, et = dm.expand((3, 2)), dt.expand((3, 2))
    assert tuple(em.batch_shape) == tuple(et.batch_shape)
    close(em.log_prob(mt(v[:3])), et.log_prob(tt(torch, v[:3])))


def test_scalar_parameters_and_repr(torch):
    dm, dt = D.Normal(0.0, 1.0), torch.distributions.Normal(0.0, 1.0)
    assert tuple(dm.batch_shape) == () and dm.loc.dtype == minitorch.float32
    close(dm.log_prob(minitorch.tensor(0.5)), dt.log_prob(torch.tensor(0.5)), rtol=1e-6)
    assert tuple(dm.sample((3,)).shape) == (3,)
    dm2 = D.Normal(mt([0.0, 1.0]), mt([1.0, 2.0]))
    dt2 = torch.distributions.Normal(tt(torch, [0.0, 1.0]), tt(torch, [1.0, 2.0]))
    assert repr(dm2) == repr(dt2).replace("torch.", "minitorch.")
    assert D.Normal.has_rsample and not D.Categorical.has_rsample and D.Categorical.has_enumerate_support
    assert dm.arg_constraints is D.Normal.arg_constraints
    assert isinstance(dm, D.ExponentialFamily) and not isinstance(D.Laplace(0.0, 1.0), D.ExponentialFamily)


def test_clamp_gradient_is_a_select(torch):
    """An infinite upstream gradient stays out where clamp cut the input (Pareto's mean at alpha < 1)."""
    xm, xt = mt([0.5, 2.0], grad=True), tt(torch, [0.5, 2.0], True)
    (1 / (xm.clamp(min=1) - 1)).sum().backward()
    (1 / (xt.clamp(min=1) - 1)).sum().backward()
    close(xm.grad, xt.grad)


def test_exponential_family_bregman_entropy_matches_closed_form():
    for d in (D.Normal(mt([0.3, -1.0]), mt([0.5, 2.0])), D.Exponential(mt([0.5, 3.0])),
              D.Gamma(mt([0.5, 3.0]), mt([2.0, 0.7]))):
        close(D.ExponentialFamily.entropy(d), d.entropy())


# ----------------------------------------------------------------------------------------------------------------
# the REINFORCE example's path: Categorical(probs); a = m.sample(); m.log_prob(a)
# ----------------------------------------------------------------------------------------------------------------
def test_reinforce_path_matches_torch(torch):
    state = RNG.normal(size=(1, 4))
    tnet = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    net = minitorch.nn.Sequential(minitorch.nn.Linear(4, 8), minitorch.nn.ReLU(), minitorch.nn.Linear(8, 2))
    net.load_state_dict({k: minitorch.tensor(v.detach().numpy()) for k, v in tnet.state_dict().items()})
    log_probs, tlog_probs = [], []
    for reward in (1.0, -0.5, 2.0):
        probs = minitorch.nn.functional.softmax(net(minitorch.tensor(state, dtype=minitorch.float32)), dim=1)
        m = D.Categorical(probs)
        action = m.sample()
        assert tuple(action.shape) == (1,) and action.dtype == minitorch.int64
        assert isinstance(action.item(), int) and action.item() in (0, 1)
        lp = m.log_prob(action)
        assert tuple(lp.shape) == (1,)
        log_probs.append(-lp * reward)
        tprobs = torch.nn.functional.softmax(tnet(torch.tensor(state, dtype=torch.float32)), dim=1)
        tm = torch.distributions.Categorical(tprobs)
        tlp = tm.log_prob(torch.tensor([action.item()]))
        close(lp, tlp, rtol=1e-5)
        tlog_probs.append(-tlp * reward)
    minitorch.cat(log_probs).sum().backward()
    torch.cat(tlog_probs).sum().backward()
    for (name, p), (_, tp) in zip(net.named_parameters(), tnet.named_parameters()):
        close(p.grad, tp.grad, rtol=1e-4, atol=1e-6)


# ----------------------------------------------------------------------------------------------------------------
# the new special functions
# ----------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("fn", ["lgamma", "digamma", "polygamma", "erfinv"])
def test_special_functions_match_torch(torch, fn, device):
    if fn == "erfinv":
        xs = np.array([-0.999, -0.7, -0.1, 0.0, 0.3, 0.95])
    else:
        xs = np.array([-3.7, -0.5, 1e-3, 0.2, 1.0, 5.5, 30.0]) if device == "cpu" else np.array([-0.5, 0.7, 12.0])
    xm, xt = mt(xs, device, grad=True), tt(torch, xs, True)
    args_m, args_t = ((1, xm), (1, xt)) if fn == "polygamma" else ((xm,), (xt,))
    ym, yt = getattr(minitorch, fn)(*args_m), getattr(torch, fn)(*args_t)
    close(ym, yt, rtol=1e-9 if fn != "erfinv" else 1e-7, atol=1e-10)
    if fn != "polygamma":
        ym.sum().backward()
        yt.sum().backward()
        close(xm.grad, xt.grad, rtol=1e-8, atol=1e-9)
    x32 = minitorch.tensor(xs, dtype=minitorch.float32, device=device)
    close(getattr(minitorch, fn)(*((1, x32) if fn == "polygamma" else (x32,))),
          getattr(torch, fn)(*((1, torch.tensor(xs, dtype=torch.float32)) if fn == "polygamma"
                               else (torch.tensor(xs, dtype=torch.float32),))), rtol=2e-6, atol=1e-6)


def test_special_function_poles_match_torch(torch):
    xs = [0.0, -2.0, math.inf]
    for fn in ("lgamma", "digamma"):
        close(getattr(minitorch, fn)(mt(xs)), getattr(torch, fn)(tt(torch, xs)))
    close(minitorch.erfinv(mt([-1.0, 1.0, 1.5])), torch.erfinv(tt(torch, [-1.0, 1.0, 1.5])))


@pytest.mark.parametrize("fn", ["igamma", "igammac"])
def test_incomplete_gamma_matches_torch(torch, fn, device):
    a = np.array([0.0, 0.5, 2.0, 10.0, 100.0, 3.0, 1.0, -1.0, 2.0, 1e4])
    x = np.array([1.0, 0.3, 5.0, 9.0, 110.0, 0.0, np.inf, 1.0, -1.0, 1.01e4])
    if device != "cpu":
        a, x = a[[1, 2, 4, 7]], x[[1, 2, 4, 7]]
    xm, xt = mt(x, device, grad=True), tt(torch, x, True)
    got, want = getattr(minitorch, fn)(mt(a, device), xm), getattr(torch, fn)(tt(torch, a), xt)
    close(got, want, rtol=1e-9, atol=1e-9)  # PyTorch is off by ~1e-10 at a = 100 (checked against mpmath)
    ok = np.isfinite(x) & (x > 0) & (a > 0)
    got.masked_fill(~mt(ok, device, dtype=minitorch.bool), 0.0).sum().backward()
    want.masked_fill(~torch.tensor(ok), 0.0).sum().backward()
    close(xm.grad, xt.grad, rtol=1e-9, atol=1e-12)
    close(getattr(minitorch, fn)(mt(a, device), 2.0), getattr(torch, fn)(tt(torch, a), tt(torch, 2.0)),
          rtol=1e-9, atol=1e-9)
    am = mt([2.0], device, grad=True)
    with pytest.raises(RuntimeError, match="not implemented"):
        getattr(minitorch, fn)(am, mt([1.0], device)).sum().backward()
    with pytest.raises(RuntimeError, match="not implemented"):
        getattr(torch, fn)(tt(torch, [2.0], True), tt(torch, [1.0])).sum().backward()


def test_standard_gamma_errors(torch):
    with pytest.raises(RuntimeError, match="must be positive"):
        minitorch._standard_gamma(mt([1.0, 0.0]))
    with pytest.raises(TypeError):
        minitorch._standard_gamma([1.0])


# ----------------------------------------------------------------------------------------------------------------
# CUDA (tiny shapes on the simulator)
# ----------------------------------------------------------------------------------------------------------------
def test_distributions_on_device(torch, device):
    loc, scale = [0.3, -1.2], [0.5, 1.5]
    lm, sm = mt(loc, device, grad=True), mt(scale, device, grad=True)
    d = D.Normal(lm, sm)
    x = d.rsample((2,))
    assert x.device.type == device
    v = [0.1, 0.7]
    lp = d.log_prob(mt(v, device))
    close(lp, torch.distributions.Normal(tt(torch, loc), tt(torch, scale)).log_prob(tt(torch, v)))
    (lp.sum() + x.sum()).backward()
    assert lm.grad.device.type == device
    c = D.Categorical(mt([[0.2, 0.8], [0.9, 0.1]], device))
    a = c.sample((3,))
    assert a.device.type == device and tuple(a.shape) == (3, 2) and a.dtype == minitorch.int64
    assert bool(((a >= 0) & (a <= 1)).all())
    close(c.log_prob(mt([1, 0], device, dtype=minitorch.int64)), np.log([0.8, 0.9]))


def test_gamma_family_on_device(torch, device):
    conc, rate = [0.4, 3.0], [1.0, 2.0]
    cm = mt(conc, device, grad=True)
    g = D.Gamma(cm, mt(rate, device))
    minitorch.manual_seed(4)
    x = g.rsample((2,))
    assert x.device.type == device and bool((x > 0).all())
    x.sum().backward()
    xs = npy(x)
    want = (torch._standard_gamma_grad(tt(torch, conc).expand(2, 2), tt(torch, xs * np.array(rate))).numpy()
            / np.array(rate)).sum(0)
    np.testing.assert_allclose(npy(cm.grad), want, rtol=1e-3)
    dm = D.Dirichlet(mt([[0.5, 1.0, 2.0]], device))
    s = dm.sample((2,))
    assert s.device.type == device and bool(constraints.simplex.check(s).all())
    conc = mt([[0.5, 1.0, 2.0]], device, grad=True)
    x = D.Dirichlet(conc).rsample()
    x[..., 0].sum().backward()
    xs, c = npy(x), np.array([[0.5, 1.0, 2.0]])
    dg = npy(minitorch._dirichlet_grad(mt(xs), mt(c), mt(np.full_like(c, c.sum()))))  # on the CPU
    close(conc.grad, dg * (np.array([[1.0, 0.0, 0.0]]) - xs[..., :1]), rtol=1e-6)
    close(D.kl_divergence(dm, D.Dirichlet(mt([[1.0, 1.0, 1.0]], device))),
          torch.distributions.kl_divergence(torch.distributions.Dirichlet(tt(torch, [[0.5, 1.0, 2.0]])),
                                            torch.distributions.Dirichlet(tt(torch, [[1.0, 1.0, 1.0]]))))


@pytest.mark.parametrize("name", ["Bernoulli", "Poisson", "Uniform", "Exponential", "Laplace", "Beta", "Binomial",
                                  "MultivariateNormal", "OneHotCategorical", "StudentT", "Geometric"])
def test_sampling_and_densities_on_device(torch, device, name):
    params, value, _ = CASES[name]
    dm, _ = _build(D, name, params, device=device)
    dt, _ = _build(torch.distributions, name, params, torch)
    s = dm.sample((2,))
    assert s.device.type == device
    assert tuple(s.shape) == (2,) + tuple(dt.batch_shape) + tuple(dt.event_shape)
    assert bool(dm.support.check(s).all())
    close(dm.log_prob(mt(value, device)), dt.log_prob(tt(torch, value)))


@pytest.mark.slow
def test_cuda_gamma_sample_moments(device):
    if device == "cpu":
        pytest.skip("the CPU sampler is numpy's, covered by the moment test above")
    from numba import config
    n = 256 if config.ENABLE_CUDASIM else 200000
    conc = mt([0.3, 2.5], device)
    minitorch.manual_seed(6)
    x = npy(minitorch._standard_gamma(conc.expand(n, 2)))
    se = np.sqrt(np.array([0.3, 2.5]) / n)
    assert np.all(np.abs(x.mean(0) - np.array([0.3, 2.5])) <= 5 * se)
