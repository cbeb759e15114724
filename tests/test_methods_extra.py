"""Tensor methods that are other methods' in-place or real-tensor forms (minitorch/ops/methods_extra.py) against
PyTorch: values, autograd through the in-place forms, and the errors."""
import numpy as np
import pytest

import minitorch

RNG = np.random.default_rng(8)


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


CASES = [  # name, fn(lib, *tensors), shapes
    ("addmm_", lambda L, x, a, b: x.addmm_(a, b, beta=0.5, alpha=2.0), [(3, 4), (3, 5), (5, 4)]),
    ("addmv_", lambda L, x, a, v: x.addmv_(a, v), [(3,), (3, 5), (5,)]),
    ("addr_", lambda L, x, a, b: x.addr_(a, b), [(3, 4), (3,), (4,)]),
    ("baddbmm_", lambda L, x, a, b: x.baddbmm_(a, b), [(2, 3, 4), (2, 3, 5), (2, 5, 4)]),
    ("addbmm_", lambda L, x, a, b: x.addbmm_(a, b), [(3, 4), (2, 3, 5), (2, 5, 4)]),
    ("cumsum_", lambda L, x: x.cumsum_(1), [(3, 4)]),
    ("cumsum_ axis", lambda L, x: x.cumsum_(axis=0), [(3, 4)]),
    ("cumprod_", lambda L, x: x.cumprod_(0), [(3, 4)]),
    ("lgamma_", lambda L, x: x.abs().lgamma_(), [(3, 4)]),
    ("digamma_", lambda L, x: x.abs().digamma_(), [(3, 4)]),
    ("polygamma_", lambda L, x: x.abs().polygamma_(2), [(3, 4)]),
    ("erfinv_", lambda L, x: (x.tanh() * 0.9).erfinv_(), [(3, 4)]),
    ("mvlgamma_", lambda L, x: (x.abs() + 2).mvlgamma_(2), [(3, 4)]),
    ("igamma_", lambda L, a, x: a.abs().igamma_(x.abs()), [(3, 4), (3, 4)]),
    ("renorm_", lambda L, x: x.renorm_(2, 0, 1.0), [(3, 4)]),
    ("greater_", lambda L, x, y: x.greater_(y), [(3, 4), (3, 4)]),
    ("less_equal_", lambda L, x, y: x.less_equal_(y), [(3, 4), (3, 4)]),
    ("not_equal_", lambda L, x, y: x.not_equal_(y.round()), [(3, 4), (3, 4)]),
    ("arctan2_", lambda L, x, y: x.arctan2_(y), [(3, 4), (3, 4)]),
    ("masked_scatter_", lambda L, x, s: x.masked_scatter_(x > 0, s), [(3, 4), (3, 4)]),
    ("hardshrink", lambda L, x: x.hardshrink(0.3), [(3, 4)]),
    ("hardshrink_", lambda L, x: x.hardshrink_(0.3) if hasattr(x, "hardshrink_") else x.hardshrink(0.3), [(3, 4)]),
    ("prelu", lambda L, x: x.prelu(L.tensor([0.25], dtype=x.dtype)), [(3, 4)]),
    ("sgn", lambda L, x: x.sgn(), [(3, 4)]),
    ("conj", lambda L, x: x.conj(), [(3, 4)]),
    ("conj_physical", lambda L, x: x.conj_physical(), [(3, 4)]),
    ("resolve_conj", lambda L, x: x.resolve_conj().resolve_neg(), [(3, 4)]),
    ("real", lambda L, x: x.real, [(3, 4)]),
    ("fill_diagonal_", lambda L, x: x.fill_diagonal_(7.0), [(4, 4)]),
    ("fill_diagonal_ wide", lambda L, x: x.fill_diagonal_(7.0), [(3, 5)]),
    ("fill_diagonal_ tall", lambda L, x: x.fill_diagonal_(7.0), [(9, 3)]),
    ("fill_diagonal_ wrap", lambda L, x: x.fill_diagonal_(7.0, wrap=True), [(9, 3)]),
    ("fill_diagonal_ cube", lambda L, x: x.fill_diagonal_(-1.0), [(3, 3, 3)]),
]


@pytest.mark.torch
@pytest.mark.parametrize("name, fn, shapes", CASES, ids=[c[0] for c in CASES])
def test_matches_torch(name, fn, shapes, torch):
    arrs = [RNG.standard_normal(s) for s in shapes]
    got = fn(minitorch, *[minitorch.tensor(a) for a in arrs])
    want = fn(torch, *[torch.tensor(a) for a in arrs])
    assert got.dtype.name == str(want.dtype).split(".")[1]
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.torch
def test_in_place_forms_keep_autograd(torch):
    for lib in (minitorch, torch):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = x * 2
        y.cumsum_(0)
        (y * y).sum().backward()
        if lib is minitorch:
            got = x.grad.numpy()
        else:
            want = x.grad.numpy()
    np.testing.assert_allclose(got, want)


def test_predicates_and_errors():
    x = minitorch.ones(2, 3)
    assert x.is_same_size(minitorch.zeros(2, 3)) and not x.is_same_size(minitorch.zeros(3, 2))
    assert minitorch.ones(1).is_nonzero() and not minitorch.zeros(1).is_nonzero()
    assert not x.is_conj() and not x.is_neg()
    with pytest.raises(RuntimeError, match="Boolean value of Tensor with more than one value is ambiguous"):
        x.is_nonzero()
    with pytest.raises(RuntimeError, match="imag is not implemented for tensors with non-complex dtypes"):
        x.imag
    with pytest.raises(RuntimeError, match="dimensions must larger than 1"):
        minitorch.ones(3).fill_diagonal_(0)
    with pytest.raises(RuntimeError, match="all dimensions of input must be of equal length"):
        minitorch.ones(2, 3, 3).fill_diagonal_(0)


def test_legacy_new_and_layout():
    x = minitorch.ones(2, 3, dtype=minitorch.float64)
    assert tuple(x.new(2, 2).shape) == (2, 2) and x.new(2, 2).dtype is minitorch.float64
    assert tuple(x.new(minitorch.Size([3])).shape) == (3,)
    assert tuple(x.new().shape) == (0,)
    y = x.new([1, 2])
    assert y.dtype is minitorch.float64 and y.tolist() == [1.0, 2.0]
    z = x.new(minitorch.tensor([3, 4]))
    assert z.dtype is minitorch.float64 and z.tolist() == [3.0, 4.0]
    assert x.layout is minitorch.strided
    with pytest.raises(TypeError, match="invalid combination of arguments"):
        x.new(2, "a")
