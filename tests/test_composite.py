"""Composite ops (minitorch/ops/composite.py) beyond the op table: errors, dtypes, warnings, named tuples, in-place
forms and the argument forms the table does not cover, against PyTorch where it is installed."""
import warnings

import numpy as np
import pytest

import minitorch


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def both(torch_mod):
    return [minitorch] + ([torch_mod] if torch_mod is not None else [])


def to_np(t):
    return t.detach().cpu().numpy()


def assert_same(got, want, rtol=1e-6, atol=1e-9):
    """A minitorch result (tensor, or tuple/list of tensors) equals a torch result: shape, dtype and values."""
    if isinstance(want, (tuple, list)):
        assert isinstance(got, (tuple, list)) and len(got) == len(want)
        for g, w in zip(got, want):
            assert_same(g, w, rtol, atol)
        return
    assert tuple(got.shape) == tuple(want.shape)
    assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
    np.testing.assert_allclose(to_np(got).astype(np.float64), want.detach().numpy().astype(np.float64),
                               rtol=rtol, atol=atol, equal_nan=True)


def run(fn, torch, *arrays, dtype="float64", device="cpu"):
    """fn(m, *tensors) on minitorch (on ``device``) and on torch (cpu); both results."""
    got = fn(minitorch, *[minitorch.tensor(a, dtype=getattr(minitorch, dtype), device=device) for a in arrays])
    want = fn(torch, *[torch.tensor(a, dtype=getattr(torch, dtype)) for a in arrays])
    return got, want


RNG = np.random.default_rng(7)
A = RNG.uniform(-2, 2, (3, 4))
B = RNG.uniform(-2, 2, (3, 4))
SPECIAL = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0, 1e-300, 1e300, 5e-324, 0.5, 2.0])


# ---------------------------------------------------------------------------------------------------------------
# errors: every one raised by minitorch, and by torch with the same type and message where torch is installed
# ---------------------------------------------------------------------------------------------------------------
def T(m, data, **kw):
    return m.tensor(data, **kw)


def on(m, data, like, **kw):
    """A tensor of ``data`` on ``like``'s device."""
    return m.tensor(data, device=like.device, **kw)


ERRORS = [
    ("hypot_int", lambda m: m.hypot(T(m, [1, 2]), T(m, [3, 4])), NotImplementedError, "not implemented for 'Long'"),
    ("logaddexp_int", lambda m: m.logaddexp(T(m, [1]), T(m, [2])), NotImplementedError, "not implemented for"),
    ("heaviside_dtypes", lambda m: m.heaviside(T(m, [1.0]), T(m, [1])), RuntimeError,
     "heaviside is not yet implemented for tensors with different dtypes"),
    ("positive_bool", lambda m: m.positive(T(m, [True])), RuntimeError, r"The `\+` operator, on a bool tensor"),
    ("frexp_int", lambda m: m.frexp(T(m, [1, 2])), RuntimeError, "only supports floating-point dtypes"),
    ("fill_1d_value", lambda m: m.fill(T(m, [1.0, 2.0]), T(m, [1.0, 2.0])), RuntimeError,
     "fill_ only supports 0-dimension value tensor but got tensor with 1 dimensions"),
    ("hsplit_0d", lambda m: m.hsplit(T(m, 1.0), 1), RuntimeError,
     "torch.hsplit requires a tensor with at least 1 dimension, but got a tensor with 0 dimensions!"),
    ("hsplit_indivisible", lambda m: m.hsplit(m.ones(2, 5), 2), RuntimeError,
     "torch.hsplit attempted to split along dimension 1, but the size of the dimension 5 is not divisible by the "
     "split_size 2!"),
    ("vsplit_1d", lambda m: m.vsplit(m.ones(4), 2), RuntimeError,
     "torch.vsplit requires a tensor with at least 2 dimension"),
    ("dsplit_2d", lambda m: m.dsplit(m.ones(2, 2), 2), RuntimeError,
     "torch.dsplit requires a tensor with at least 3 dimension"),
    ("fliplr_1d", lambda m: m.fliplr(m.ones(3)), RuntimeError, "Input must be >= 2-d."),
    ("flipud_0d", lambda m: m.flipud(T(m, 1.0)), RuntimeError, "Input must be >= 1-d."),
    ("repeat_interleave_size", lambda m: m.repeat_interleave(m.ones(2, 3), T(m, [1, 2]), dim=1), RuntimeError,
     r"repeats must have the same size as input along dim, but got repeats.size\(0\) = 2 and input.size\(1\) = 3"),
    ("repeat_interleave_negative", lambda m: m.repeat_interleave(m.ones(2), -1), RuntimeError,
     "repeats can not be negative"),
    ("repeat_interleave_negative_tensor", lambda m: m.repeat_interleave(T(m, [1, -1])), RuntimeError,
     "repeats can not be negative"),
    ("repeat_interleave_2d_repeats", lambda m: m.repeat_interleave(m.ones(2), T(m, [[1, 1]])), RuntimeError,
     "repeats must be 0-dim or 1-dim tensor"),
    ("split_with_sizes_sum", lambda m: m.ones(4).split_with_sizes([1, 2]), RuntimeError,
     r"split_with_sizes expects split_sizes to sum exactly to 4 \(input tensor's size at dimension 0\), but got "
     r"split_sizes=\[1, 2\]"),
    ("combinations_2d", lambda m: m.combinations(m.ones(2, 2)), RuntimeError, r"Expect a 1D vector, but got shape "
     r"\[2, 2\]"),
    ("combinations_negative_r", lambda m: m.combinations(m.ones(3), -1), RuntimeError,
     "Expect a non-negative number, but got -1"),
    ("index_fill_float_index", lambda m: m.ones(3).index_fill(0, T(m, [0.0]), 1.0), IndexError,
     "Expected dtype int64 for index"),
    ("index_fill_1d_value", lambda m: m.ones(3).index_fill(0, T(m, [0]), T(m, [1.0, 2.0])), RuntimeError,
     "index_fill_ only supports a 0-dimensional value tensor, but got tensor with 1 dimension"),
    ("index_copy_dtype", lambda m: m.ones(3).index_copy(0, T(m, [0]), T(m, [1])), RuntimeError,
     r"index_copy_\(\): self and source expected to have the same dtype"),
    ("index_copy_negative", lambda m: m.ones(3).index_copy(0, T(m, [-1]), m.zeros(1)), IndexError,
     r"index_copy_\(\): index -1 is out of bounds for dimension 0 with size 3"),
    ("index_copy_count", lambda m: m.ones(3).index_copy(0, T(m, [0, 1]), m.zeros(1)), IndexError,
     r"index_copy_\(\): Number of indices \(2\) should be equal to source.size\(dim\) \(1\)"),
    ("index_copy_slices", lambda m: m.ones(3, 2).index_copy(0, T(m, [0]), m.zeros(1, 3)), RuntimeError,
     r"index_copy_\(\): Source/destination tensor must have same slice shapes. Destination slice shape: 2 at "
     "dimension 0 and source slice shape: 3 at dimension 0"),
    ("index_copy_ndim", lambda m: m.ones(3).index_copy(0, T(m, [0]), m.zeros(1, 1)), IndexError,
     "When source and destination are not scalars, their dimensionality must match"),
    ("aminmax_empty_dim", lambda m: m.aminmax(m.ones(0, 3), dim=0), IndexError,
     "Expected reduction dim 0 to have non-zero size"),
    ("aminmax_empty", lambda m: m.aminmax(m.ones(0)), RuntimeError, "cannot compute aminmax over an empty"),
    ("select_scatter_index", lambda m: m.select_scatter(m.ones(3), T(m, 2.0), 0, 5), IndexError,
     r"select\(\): index 5 out of range for tensor of size \[3\] at dimension 0"),
    ("select_scatter_shape", lambda m: m.select_scatter(m.ones(3, 4), m.ones(3), 0, 0), RuntimeError,
     r"expected src to have a size equal to the slice of self. src size = \[3\], slice size = \[4\]"),
    ("slice_scatter_shape", lambda m: m.slice_scatter(m.ones(4, 2), m.ones(3, 2), 0, 0, 2), RuntimeError,
     r"expected src to have a size equal to the slice of self. src size = \[3, 2\], slice size = \[2, 2\]"),
    ("diagonal_scatter_shape", lambda m: m.diagonal_scatter(m.ones(3, 3), m.ones(2)), RuntimeError,
     r"expected src to have a size equal to the slice of self. src size = \[2\], slice size = \[3\]"),
    ("put_numel", lambda m: m.ones(4).put(T(m, [0, 1]), T(m, [1.0, 2.0, 3.0])), IndexError,
     r"put_\(\): Expected source and index to have the same number of elements, but got source.numel\(\) = 3, "
     r"index.numel\(\) = 2"),
    ("put_out_of_range", lambda m: m.ones(4).put(T(m, [4]), T(m, [1.0])), IndexError,
     "out of range: tried to access index 4 on a tensor of 4 elements"),
    ("put_negative_out_of_range", lambda m: m.ones(4).put(T(m, [-5]), T(m, [1.0])), IndexError,
     "out of range: tried to access index -5 on a tensor of 4 elements"),
    ("constant_pad_odd", lambda m: m.constant_pad_nd(m.ones(2, 2), [1]), RuntimeError,
     "Length of pad must be even but instead it equals 1"),
    ("constant_pad_too_long", lambda m: m.constant_pad_nd(m.ones(2), [1, 1, 1, 1]), RuntimeError,
     "Length of pad should be no more than twice the number of dimensions of the input. Pad length is 4 while the "
     "input has 1 dimensions"),
    ("constant_pad_negative_size", lambda m: m.constant_pad_nd(m.ones(2), [-2, -1]), RuntimeError,
     "The input size 2, plus negative padding -2 and -1 resulted in a negative output size"),
    ("isin_bool", lambda m: m.isin(T(m, [True]), T(m, [False])), RuntimeError,
     "Unsupported input type encountered for isin"),
    ("vander_2d", lambda m: m.vander(m.ones(2, 2)), RuntimeError, "x must be a one-dimensional tensor."),
    ("vander_negative_n", lambda m: m.vander(m.ones(2), -1), RuntimeError, "N must be non-negative."),
    ("quantile_int", lambda m: m.quantile(T(m, [1, 2]), 0.5), RuntimeError,
     r"quantile\(\) input tensor must be either float or double dtype"),
    ("quantile_empty", lambda m: m.quantile(m.ones(0), 0.5), RuntimeError,
     r"quantile\(\) input tensor must be non-empty"),
    ("quantile_q_range", lambda m: m.quantile(m.ones(3), 1.5), RuntimeError,
     r"quantile\(\) q must be in the range \[0, 1\] but got 1.5"),
    ("quantile_q_tensor_range", lambda m: m.quantile(m.ones(3), T(m, [0.5, -0.1])), RuntimeError,
     r"quantile\(\) q values must be in the range \[0, 1\]"),
    ("quantile_q_dtype", lambda m: m.quantile(m.ones(3), T(m, [0.5], dtype=m.float64)), RuntimeError,
     r"quantile\(\) q tensor must be same dtype as the input tensor"),
    ("quantile_q_2d", lambda m: m.quantile(m.ones(3), m.ones(1, 1) * 0.5), RuntimeError,
     r"quantile\(\) q must be a scalar or 1D tensor"),
    ("quantile_interpolation", lambda m: m.quantile(m.ones(3), 0.5, interpolation="cubic"), RuntimeError,
     r"quantile\(\) interpolation must be one of linear, lower, higher, midpoint or nearest. Got cubic"),
    ("nanquantile_q_range", lambda m: m.nanquantile(m.ones(3), -0.5), RuntimeError,
     r"nanquantile\(\) q must be in the range \[0, 1\] but got -0.5"),
    ("cov_3d", lambda m: m.cov(m.ones(2, 2, 2)), RuntimeError,
     r"cov\(\): expected input to have two or fewer dimensions but got an input with 3 dimensions"),
    ("cov_float_fweights", lambda m: m.cov(m.ones(2, 3), fweights=m.ones(3)), RuntimeError,
     r"cov\(\): expected fweights to have integral dtype but got fweights with Float dtype"),
    ("cov_fweights_numel", lambda m: m.cov(m.ones(2, 3), fweights=T(m, [1, 1])), RuntimeError,
     r"cov\(\): expected fweights to have the same numel as there are observations in the input but got 2 != 3"),
    ("cov_negative_fweights", lambda m: m.cov(m.ones(2, 3), fweights=T(m, [1, -1, 1])), RuntimeError,
     r"cov\(\): fweights cannot be negative"),
    ("cov_int_aweights", lambda m: m.cov(m.ones(2, 3), aweights=T(m, [1, 1, 1])), RuntimeError,
     r"cov\(\): expected aweights to have floating point dtype but got aweights with Long dtype"),
    ("cov_negative_aweights", lambda m: m.cov(m.ones(2, 3), aweights=T(m, [1.0, -1.0, 1.0])), RuntimeError,
     r"cov\(\): aweights cannot be negative"),
    ("renorm_1d", lambda m: m.renorm(m.ones(3), 2, 0, 1.0), RuntimeError,
     "renorm: input needs at least 2 dimensions, got 1 dimensions"),
    ("renorm_maxnorm", lambda m: m.renorm(m.ones(3, 3), 2, 0, -1.0), RuntimeError,
     "renorm: expected maxnorm to be >= 0 but got -1"),
    ("gradient_small", lambda m: m.gradient(m.ones(2), edge_order=2), RuntimeError,
     r"torch.gradient expected each dimension size to be at least edge_order\+1"),
    ("gradient_spacing_len", lambda m: m.gradient(m.ones(3, 3), spacing=[1.0]), RuntimeError,
     "torch.gradient expected spacing to be unspecified, a scalar or it's spacing and dim arguments to have the "
     "same length, but got a spacing argument of length 1 and a dim argument of length 2"),
    ("range_sign", lambda m: m.range(3, 1), RuntimeError, "upper bound and larger bound inconsistent with step sign"),
    ("addmv_sizes", lambda m: m.addmv(m.ones(2), m.ones(2, 3), m.ones(2)), RuntimeError, "size mismatch"),
]


@pytest.mark.parametrize("name, fn, exc, match", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors(name, fn, exc, match):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(exc, match=match):
            fn(minitorch)


@pytest.mark.torch
@pytest.mark.parametrize("name, fn, exc, match", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_match_torch(name, fn, exc, match, torch):
    """PyTorch raises the same type for the same call (its message is the model for ours)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(exc):
            fn(torch)


def test_type_errors():
    with pytest.raises(TypeError, match=r"asinh\(\): argument 'input' must be Tensor, not list"):
        minitorch.asinh([1.0])
    with pytest.raises(TypeError, match=r"column_stack\(\): argument 'tensors' \(position 1\) must be tuple of "
                                        "Tensors, not Tensor"):
        minitorch.column_stack(minitorch.ones(2))
    with pytest.raises(TypeError, match="expected at least one Tensor"):
        minitorch.isin(1, 2)
    with pytest.raises(TypeError, match="expected at least one Tensor"):
        minitorch.xlogy(1.0, 2.0)


# ---------------------------------------------------------------------------------------------------------------
# dtypes and promotion
# ---------------------------------------------------------------------------------------------------------------
INT_CASES = [
    ("asinh", lambda m, x: m.asinh(x)), ("acosh", lambda m, x: m.acosh(x.abs() + 1)),
    ("atanh", lambda m, x: m.atanh(x * 0)), ("erfc", lambda m, x: m.erfc(x)), ("deg2rad", lambda m, x: x.deg2rad()),
    ("rad2deg", lambda m, x: m.rad2deg(x)), ("sinc", lambda m, x: m.sinc(x)), ("logit", lambda m, x: m.logit(x)),
    ("xlogy", lambda m, x: m.xlogy(x, x.abs())), ("xlogy_scalar", lambda m, x: m.xlogy(x, 2)),
    ("xlogy_rscalar", lambda m, x: m.xlogy(3, x.abs())), ("ldexp", lambda m, x: m.ldexp(x, x)),
    ("nan_to_num", lambda m, x: m.nan_to_num(x)), ("positive", lambda m, x: +m.positive(x)),
    ("isposinf", lambda m, x: m.isposinf(x)), ("isneginf", lambda m, x: m.isneginf(x)),
    ("isin_float_test", lambda m, x: m.isin(x, on(m, [1.0, 1.5], x))), ("isin_scalar", lambda m, x: m.isin(x, 2)),
    ("isin_scalar_elements", lambda m, x: m.isin(1, x)), ("aminmax", lambda m, x: tuple(m.aminmax(x))),
    ("fill_float_into_int", lambda m, x: m.fill(x, 2.7)), ("vander_int", lambda m, x: m.vander(x[0], 3)),
    ("vander_int32", lambda m, x: m.vander(x[0].int(), 3)), ("vander_bool", lambda m, x: m.vander(x[0] > 0, 3)),
    ("trapezoid_int", lambda m, x: m.trapezoid(x)),
    ("cumulative_trapezoid_int", lambda m, x: m.cumulative_trapezoid(x)),
    ("gradient_int", lambda m, x: m.gradient(x)), ("cov_int", lambda m, x: m.cov(x)),
    ("corrcoef_int", lambda m, x: m.corrcoef(x + m.arange(4, device=x.device))),
    ("repeat_interleave_int", lambda m, x: x.repeat_interleave(2)),
    ("index_fill_int", lambda m, x: x.index_fill(1, on(m, [0], x), 7)),
    ("constant_pad_int", lambda m, x: m.constant_pad_nd(x, (1, 1), 5)),
    ("combinations_int", lambda m, x: m.combinations(x[0], 2)),
    ("heaviside_int", lambda m, x: m.heaviside(x, x[0])),
]


@pytest.mark.torch
@pytest.mark.parametrize("name, fn", INT_CASES, ids=[c[0] for c in INT_CASES])
def test_integer_inputs_match_torch(name, fn, torch, device):
    x = np.array([[0, 1, -2, 3], [2, 2, -1, 0], [1, 4, 2, -3]])
    got, want = run(fn, torch, x, dtype="int64", device=device)
    assert_same(got, want)


@pytest.mark.torch
def test_bool_and_float32_promotion(torch):
    for fn in (lambda m, x: m.asinh(x), lambda m, x: m.deg2rad(x), lambda m, x: m.isreal(x),
               lambda m, x: m.nan_to_num(x)):
        got, want = run(fn, torch, np.array([True, False]), dtype="bool")
        assert_same(got, want)
    for fn in (lambda m, x: m.xlogy(x, x.double()), lambda m, x: m.ldexp(x, on(m, [1, 2, 3, 4], x)),
               lambda m, x: m.hypot(x, x.double()), lambda m, x: m.logaddexp(x, x.double()),
               lambda m, x: m.nan_to_num(x), lambda m, x: m.isin(x, on(m, [1, 2], x))):
        got, want = run(fn, torch, A[0], dtype="float32")
        assert_same(got, want, rtol=1e-5)


# ---------------------------------------------------------------------------------------------------------------
# special values, against torch
# ---------------------------------------------------------------------------------------------------------------
SPECIAL_FNS = {
    "asinh": lambda m, x: m.asinh(x), "acosh": lambda m, x: m.acosh(x), "atanh": lambda m, x: m.atanh(x),
    "sinc": lambda m, x: m.sinc(x), "logit": lambda m, x: m.logit(x), "logit_eps": lambda m, x: m.logit(x, 0.25),
    "erfc": lambda m, x: m.erfc(x), "xlogy": lambda m, x: m.xlogy(x, x.flip(0)),
    "xlogy_zero": lambda m, x: m.xlogy(x * 0, x), "hypot": lambda m, x: m.hypot(x, x.flip(0)),
    "logaddexp": lambda m, x: m.logaddexp(x, x.flip(0)), "logaddexp_self": lambda m, x: m.logaddexp(x, x),
    "logaddexp2": lambda m, x: m.logaddexp2(x, x.flip(0)), "nan_to_num": lambda m, x: m.nan_to_num(x),
    "nan_to_num_args": lambda m, x: m.nan_to_num(x, nan=1.0, posinf=2.0), "frexp": lambda m, x: tuple(m.frexp(x)),
    "isposinf": lambda m, x: m.isposinf(x), "isneginf": lambda m, x: m.isneginf(x),
    "isin_nan": lambda m, x: m.isin(x, x), "heaviside": lambda m, x: m.heaviside(x, x.flip(0)),
    "deg2rad": lambda m, x: m.deg2rad(x), "ldexp": lambda m, x: m.ldexp(x, on(m, 3, x)),
}


@pytest.mark.torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", list(SPECIAL_FNS))
def test_special_values_match_torch(name, dtype, torch, device):
    with np.errstate(all="ignore"):
        data = SPECIAL.astype(dtype)
    got, want = run(SPECIAL_FNS[name], torch, data, dtype=dtype, device=device)
    assert_same(got, want, rtol=1e-5 if dtype == "float32" else 1e-12, atol=0)


@pytest.mark.torch
def test_asinh_acosh_atanh_wide_range(torch):
    x = np.concatenate([-np.logspace(-300, 300, 61), np.logspace(-300, 300, 61)])
    for fn, data in ((lambda m, t: m.asinh(t), x), (lambda m, t: m.acosh(t), 1 + np.abs(x)),
                     (lambda m, t: m.atanh(t), np.tanh(x / 1e299))):
        got, want = run(fn, torch, data)
        assert_same(got, want, rtol=1e-13, atol=0)


# ---------------------------------------------------------------------------------------------------------------
# named tuples, warnings, aliases, in-place forms
# ---------------------------------------------------------------------------------------------------------------
def test_named_tuples(torch):
    x = minitorch.tensor(A)
    r = minitorch.aminmax(x, dim=0)
    assert type(r).__name__ == "aminmax" and r._fields == ("min", "max")
    assert r is not None and r.min.shape == (4,)
    assert "minitorch.return_types.aminmax(" in repr(r)
    assert minitorch.return_types.aminmax is type(r)
    f = x.frexp()
    assert f._fields == ("mantissa", "exponent") and f.exponent.dtype == minitorch.int32
    assert_same(minitorch.aminmax(x, dim=1, keepdim=True), torch.aminmax(torch.tensor(A), dim=1, keepdim=True))
    assert_same(x.aminmax(), torch.tensor(A).aminmax())


def test_range_warns_and_includes_end(torch):
    with pytest.warns(UserWarning, match="torch.range is deprecated"):
        r = minitorch.range(0, 2, 0.5)
    with pytest.warns(UserWarning):
        want = torch.range(0, 2, 0.5)
    assert_same(r, want)
    with pytest.warns(UserWarning):
        assert_same(minitorch.range(5, 1, -2, dtype=minitorch.int64), torch.range(5, 1, -2, dtype=torch.int64))


def test_cov_degrees_of_freedom_warning(torch):
    with pytest.warns(UserWarning, match="degrees of freedom is <= 0"):
        got = minitorch.cov(minitorch.tensor([[1.0, 2.0]]), correction=2)
    with pytest.warns(UserWarning):
        want = torch.cov(torch.tensor([[1.0, 2.0]]), correction=2)
    assert_same(got, want)


def test_aliases_and_methods():
    assert minitorch.arcsinh is minitorch.asinh and minitorch.arccosh is minitorch.acosh
    assert minitorch.arctanh is minitorch.atanh
    x = minitorch.tensor(A)
    assert minitorch.positive(x) is x
    leaf = minitorch.tensor(A, requires_grad=True)
    d = minitorch.detach(leaf)
    assert not d.requires_grad and np.shares_memory(d.numpy(), leaf.detach().numpy())
    assert_np = np.testing.assert_array_equal
    assert_np(minitorch.row_stack([x, x]).numpy(), np.vstack([A, A]))
    assert_np(minitorch.trapz(minitorch.tensor(A)).numpy(), minitorch.trapezoid(minitorch.tensor(A)).numpy())


@pytest.mark.torch
def test_inplace_forms(torch, device):
    for fn in (lambda m, x: x.index_fill_(1, on(m, [0, 3], x), -1.0),
               lambda m, x: x.index_copy_(0, on(m, [2, 0], x), x[:2] * 0 + 5),
               lambda m, x: x.put_(on(m, [0, 11, 0], x), on(m, [1.0, 2.0, 3.0], x, dtype=x.dtype), accumulate=True),
               lambda m, x: x.put_(on(m, [-1], x), on(m, [9.0], x, dtype=x.dtype))):
        xs = []
        for m in (minitorch, torch):
            x = m.tensor(A, device=device) if m is minitorch else torch.tensor(A)
            r = fn(m, x)
            assert r is x
            xs.append(x)
        assert_same(*xs)


@pytest.mark.torch
def test_inplace_forms_backward(torch):
    grads = []
    for m in (minitorch, torch):
        leaf = m.tensor(A, requires_grad=True)
        src = m.tensor(B[:2], requires_grad=True)
        y = leaf * 2
        y.index_copy_(0, m.tensor([2, 0]), src)
        y.index_fill_(1, m.tensor([1]), 0.5)
        (y * m.tensor(B)).sum().backward()
        grads.append((leaf.grad, src.grad))
    assert_same(grads[0], grads[1])


# ---------------------------------------------------------------------------------------------------------------
# argument forms beyond the table, against torch (forward and backward)
# ---------------------------------------------------------------------------------------------------------------
FORMS = {
    "atleast_3d_many": lambda m, x: m.atleast_3d(x[0, 0], x[0], x),
    "atleast_3d_list": lambda m, x: m.atleast_3d([x[0], x.unsqueeze(0)]),
    "column_stack_0d": lambda m, x: m.column_stack([x[0, 0], x[0, :1]]),
    "hsplit_1d": lambda m, x: m.hsplit(x[0], 2), "hsplit_int": lambda m, x: x.hsplit(2),
    "dstack_1d": lambda m, x: m.dstack([x[0], x[1]]),
    "diagflat_2d": lambda m, x: m.diagflat(x[:2, :2], 2),
    "repeat_interleave_0d_repeats": lambda m, x: m.repeat_interleave(x, on(m, 2, x), dim=1),
    "repeat_interleave_1_elem": lambda m, x: m.repeat_interleave(x, on(m, [2], x), dim=0),
    "repeat_interleave_0d_input": lambda m, x: m.repeat_interleave(x[0, 0], 3),
    "combinations_r1": lambda m, x: m.combinations(x[0], 1),
    "combinations_r0": lambda m, x: m.combinations(x[0], 0),
    "combinations_too_long": lambda m, x: m.combinations(x[0, :2], 3),
    "combinations_r4": lambda m, x: m.combinations(x[0], 4, True),
    "index_fill_0d_value_tensor": lambda m, x: m.index_fill(x, 0, on(m, [1], x), x[0, 0]),
    "index_copy_dup_free": lambda m, x: m.index_copy(x, 1, on(m, [1, 3], x), x[:, :2] * 3),
    "select_scatter_neg": lambda m, x: x.select_scatter(x[:, 0] * 2, -1, 2),
    "slice_scatter_neg": lambda m, x: m.slice_scatter(x, x[:, -2:] + 1, 1, -2),
    "diagonal_scatter_dims": lambda m, x: m.diagonal_scatter(x.unsqueeze(0).expand(2, 3, 4).contiguous(),
                                                            x[:2, :3] * 0 + 1, -1, 2, 1),
    "constant_pad_negative": lambda m, x: m.constant_pad_nd(x, (-1, 2, 1, -2), 0.25),
    "constant_pad_default": lambda m, x: m.constant_pad_nd(x, [0, 1]),
    "vander_n0": lambda m, x: m.vander(x[0], 0), "vander_default": lambda m, x: m.vander(x[0]),
    "quantile_all_q_tensor": lambda m, x: m.quantile(x, on(m, [0.25, 0.5], x, dtype=x.dtype)),
    "quantile_keepdim_all": lambda m, x: m.quantile(x, 0.5, keepdim=True),
    "quantile_nan": lambda m, x: m.quantile(m.where(x > 1.5, float("nan"), x), 0.5, dim=1),
    "quantile_nearest_ties": lambda m, x: m.quantile(m.arange(4.0, dtype=x.dtype, device=x.device), on(
        m, [0.5 / 3, 1.5 / 3, 2.5 / 3], x, dtype=x.dtype), interpolation="nearest"),
    "nanquantile_all_nan_row": lambda m, x: m.nanquantile(m.where(x[:, :1] > -9, float("nan"), x[:, :1]), 0.3,
                                                          dim=1, keepdim=True),
    "quantile_0d": lambda m, x: m.quantile(x[0, 0], 0.5, dim=0),
    "cov_1d": lambda m, x: m.cov(x[0]), "cov_correction0": lambda m, x: x.cov(correction=0),
    "cov_aweights": lambda m, x: m.cov(x, aweights=x[0].abs()),
    "corrcoef_1d": lambda m, x: m.corrcoef(x[0]),
    "trapezoid_scalar_x": lambda m, x: m.trapezoid(x, dx=2.5, dim=0),
    "trapezoid_x_nd": lambda m, x: m.trapezoid(x, x.cumsum(1) + 10, dim=1),
    "cumulative_trapezoid_x": lambda m, x: m.cumulative_trapezoid(x, on(m, [0.0, 1.0, 3.0], x, dtype=x.dtype),
                                                                  dim=0),
    "trapezoid_empty": lambda m, x: m.trapezoid(x[:, :0]),
    "trapezoid_single": lambda m, x: m.trapezoid(x[:, :1]),
    "renorm_inf": lambda m, x: m.renorm(x, float("inf"), 1, 1.0),
    "renorm_3d": lambda m, x: m.renorm(x.reshape(3, 2, 2), 2, 1, 2.0),
    "addmv_beta0_nan": lambda m, x: m.addmv(x[:, 0] * float("nan"), x, x[0], beta=0),
    "addr_defaults": lambda m, x: m.addr(x, x[:, 0], x[0]),
    "addbmm_alpha": lambda m, x: x[:, :3].addbmm(x.reshape(3, 4, 1)[:, :3], x.reshape(3, 1, 4)[:, :, :3],
                                                 alpha=0.5, beta=2),
    "gradient_spacing_list": lambda m, x: m.gradient(x, spacing=[2.0, 0.5]),
    "gradient_coordinates": lambda m, x: m.gradient(x, spacing=[on(m, [0.0, 1.0, 3.0], x, dtype=x.dtype),
                                                                on(m, [0.0, 0.5, 2.0, 2.5], x, dtype=x.dtype)]),
    "gradient_coordinates_edge2": lambda m, x: m.gradient(x, spacing=[on(m, [0.0, 0.5, 2.0, 2.5], x, dtype=x.dtype)],
                                                          dim=1, edge_order=2),
    "gradient_dims": lambda m, x: m.gradient(x, dim=[1, 0], edge_order=2),
    "fill_tensor_value": lambda m, x: m.fill(x, x[0, 1]),
    "isin_assume_unique": lambda m, x: m.isin(x.round(), x[0].round(), assume_unique=True),
    "narrow_copy_neg": lambda m, x: x.narrow_copy(-1, 1, 2),
    "logit_eps_grad": lambda m, x: m.logit(x.sigmoid() * 0.8 + 0.1, eps=0.3),
}


# torch's own backward raises on these (an in-place op on a view inside torch)
FORWARD_ONLY = {"trapezoid_empty", "vander_default", "vander_n0"}


@pytest.mark.torch
@pytest.mark.parametrize("name", list(FORMS))
def test_forms_match_torch(name, torch, device):
    fn = FORMS[name]
    got_leaf = minitorch.tensor(A, device=device, requires_grad=True)
    want_leaf = torch.tensor(A, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got, want = fn(minitorch, got_leaf), fn(torch, want_leaf)
    assert_same(got, want, rtol=1e-9, atol=1e-12)
    outs_g = list(got) if isinstance(got, (tuple, list)) else [got]
    outs_w = list(want) if isinstance(want, (tuple, list)) else [want]
    w = [np.random.default_rng(k).standard_normal(tuple(o.shape)) for k, o in enumerate(outs_w)]
    lw = sum(((o * torch.tensor(v)).nan_to_num(0.0)).sum() for o, v in zip(outs_w, w)
             if o.requires_grad and o.dtype.is_floating_point)
    lg = sum(((o * minitorch.tensor(v, device=device)).nan_to_num(0.0)).sum() for o, v in zip(outs_g, w)
             if o.requires_grad and o.dtype.is_floating_point)
    if isinstance(lw, int) or name in FORWARD_ONLY:  # torch's result is not differentiable here
        return
    lw.backward()
    lg.backward()
    want_g = np.zeros(A.shape) if want_leaf.grad is None else want_leaf.grad.numpy()
    got_g = np.zeros(A.shape) if got_leaf.grad is None else to_np(got_leaf.grad)
    np.testing.assert_allclose(got_g, want_g, rtol=1e-9, atol=1e-12, equal_nan=True)


def test_vander_gradcheck():
    """torch's own vander backward raises (an in-place cumprod), so the table cannot compare it; check ours."""
    x = minitorch.tensor([0.5, -1.2, 2.0], dtype=minitorch.float64, requires_grad=True)
    assert minitorch.autograd.gradcheck(lambda t: minitorch.vander(t, 4), [x])
    assert minitorch.autograd.gradcheck(lambda t: minitorch.vander(t, increasing=True), [x])


def test_repeat_interleave_is_one_gather_with_output_size():
    """With output_size no data is read back, and the repeats index is what repeat_interleave(repeats) gives."""
    r = minitorch.tensor([3, 0, 2])
    idx = minitorch.repeat_interleave(r, output_size=5)
    np.testing.assert_array_equal(idx.numpy(), np.repeat(np.arange(3), [3, 0, 2]))
    x = minitorch.tensor(A[:, :3].T.copy())
    np.testing.assert_array_equal(x.repeat_interleave(r, dim=0, output_size=5).numpy(),
                                  np.repeat(A[:, :3].T, [3, 0, 2], axis=0))


# ---------------------------------------------------------------------------------------------------------------
# larger shapes (parallel kernels underneath) and CUDA
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.torch
def test_large_inputs_match_torch(torch, device):
    n = 70000 if device == "cpu" else 300
    rng = np.random.default_rng(3)
    x = rng.uniform(-3, 3, n)
    y = rng.uniform(-3, 3, n)
    for fn in (lambda m, a, b: m.logaddexp(a, b), lambda m, a, b: m.hypot(a, b), lambda m, a, b: m.asinh(a),
               lambda m, a, b: m.isin(a.round(), b.round()), lambda m, a, b: m.quantile(a, 0.37),
               lambda m, a, b: m.nanquantile(a.reshape(-1, 10), 0.9, dim=1),
               lambda m, a, b: m.repeat_interleave(a, 2), lambda m, a, b: m.cov(m.stack([a, b])),
               lambda m, a, b: m.trapezoid(a, b.cumsum(0)), lambda m, a, b: m.gradient(a.reshape(-1, 10))):
        got, want = run(fn, torch, x, y, device=device)
        assert_same(got, want, rtol=1e-9, atol=1e-9)


def test_index_on_another_device_raises(device):
    if device == "cpu":
        pytest.skip("needs a second device")
    x = minitorch.ones(3, device=device)
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        x.index_fill(0, minitorch.tensor([0]), 1.0)
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        x.put(minitorch.tensor([0]), minitorch.tensor([1.0]))


def test_results_stay_on_device(device):
    x = minitorch.tensor(A, device=device)
    outs = [minitorch.asinh(x), minitorch.isin(x, x[0]), minitorch.repeat_interleave(x, minitorch.tensor(
        [1, 2, 0], device=device), dim=0), minitorch.quantile(x, 0.5, dim=1), minitorch.cov(x),
        minitorch.put(x, minitorch.tensor([1], device=device),
                      minitorch.tensor([2.0], dtype=x.dtype, device=device)),
        minitorch.combinations(x[0]), minitorch.diagonal_scatter(x, x[0, :3])]
    for o in outs:
        assert o.device.type == device


@pytest.mark.torch
def test_out_arguments(torch, device):
    for fn in (lambda m, a, o: m.hypot(a, a * 2, out=o), lambda m, a, o: m.asinh(a, out=o),
               lambda m, a, o: m.logaddexp(a, a, out=o), lambda m, a, o: m.nan_to_num(a, out=o),
               lambda m, a, o: m.xlogy(a, a.abs(), out=o)):
        outs = []
        for m in (minitorch, torch):
            a = m.tensor(A, device=device) if m is minitorch else torch.tensor(A)
            o = m.empty_like(a)
            r = fn(m, a, o)
            assert r is o
            outs.append(o)
        assert_same(*outs, rtol=1e-12)
    o = minitorch.empty(3, dtype=minitorch.float64, device=device)
    r = minitorch.quantile(minitorch.tensor(A, device=device), 0.25, dim=1, out=o)
    assert r is o
    np.testing.assert_allclose(to_np(o), torch.quantile(torch.tensor(A), 0.25, dim=1).numpy(), rtol=1e-12)


GRAD_SPECIAL = {
    "asinh": lambda m, x, y: m.asinh(x), "acosh": lambda m, x, y: m.acosh(x), "atanh": lambda m, x, y: m.atanh(x),
    "erfc": lambda m, x, y: m.erfc(x), "hypot": lambda m, x, y: m.hypot(x, y),
    "nan_to_num": lambda m, x, y: m.nan_to_num(x), "ldexp": lambda m, x, y: m.ldexp(x, y),
    "xlogy": lambda m, x, y: m.xlogy(x, y), "logit": lambda m, x, y: m.logit(x),
}


@pytest.mark.torch
@pytest.mark.parametrize("name", list(GRAD_SPECIAL))
def test_gradients_at_special_values_match_torch(name, torch, device):
    """Gradients at 0, +-inf, NaN, tiny and huge values, on every pair, as PyTorch's (small tensors: PyTorch's
    vectorised paths differ from its scalar ones at NaN for some ops). Deliberate differences, all on inputs
    where PyTorch's formula breaks down: sinc near 0 (ours 0, PyTorch NaN from 0/0), frexp's mantissa gradient
    2**-exponent (ours exact, PyTorch inf for exponents below float32's range), logaddexp at equal infinities
    (ours 1 and 0, PyTorch NaN), logit's gradient at -0.0 (ours +inf; PyTorch's scalar loop gives +inf, its vector
    loop -inf, so its answer depends on the element's position and on the CPU's vector width)."""
    vals = [0.0, -0.0, 1.0, -2.0, 0.3, float("inf"), float("-inf"), float("nan"), 1e-300, 1e300]
    X, Y = (g.ravel() for g in np.meshgrid(vals, vals))
    for k in range(0, len(X), 10):
        grads = []
        for m in (minitorch, torch):
            dev = {"device": device} if m is minitorch else {}
            x = m.tensor(X[k:k + 10], requires_grad=True, **dev)
            y = m.tensor(Y[k:k + 10], requires_grad=True, **dev)
            GRAD_SPECIAL[name](m, x, y).sum().backward()
            grads.append([np.zeros(10) if t.grad is None else to_np(t.grad) for t in (x, y)])
        if name == "logit":
            neg_zero = (X[k:k + 10] == 0) & np.signbit(X[k:k + 10])
            assert np.all(grads[0][0][neg_zero] == np.inf)
            grads[1][0][neg_zero] = np.inf
        for got, want in zip(*grads):
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=0, equal_nan=True, err_msg=f"rows {k}..")
