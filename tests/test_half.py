"""float16 / bfloat16: conversions (bits against NumPy's float16 and ml_dtypes' bfloat16), ops computed in float32
and rounded once (against PyTorch, bit for bit where PyTorch's CPU kernels do the same), promotion, casts,
printing, save/load, autograd, optimizers, legacy types and the complex-dtype refusal."""

import ml_dtypes
import numpy as np
import pytest

import minitorch
import minitorch.nn.functional as F

torch = pytest.importorskip("torch")
tF = torch.nn.functional

HALVES = ["float16", "bfloat16"]
NP16 = {"float16": np.dtype(np.float16), "bfloat16": np.dtype(ml_dtypes.bfloat16)}
DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32", "float64"]


def _pair(values, dt, device="cpu", requires_grad=False):
    """The same half values as a minitorch tensor (on ``device``) and a torch tensor (rounded by torch)."""
    t = torch.tensor(np.asarray(values, dtype=np.float32)).to(getattr(torch, dt))
    m = minitorch.tensor(t.float().numpy(), device=device).to(getattr(minitorch, dt))
    if requires_grad:
        t.requires_grad_(True)
        m.requires_grad_(True)
    return m, t


def _host(x):
    """float32 NumPy values of a minitorch or torch tensor (exact for the 16-bit floats)."""
    if isinstance(x, torch.Tensor):
        return x.detach().float().numpy()
    return x.detach().float().cpu().numpy()


def assert_bits(m, t):
    """Same dtype and shape, and the same bit patterns (any NaN matches any NaN)."""
    assert m.dtype.name == str(t.dtype).split(".")[1]
    a, b = _host(m), _host(t)
    assert a.shape == b.shape
    nan = np.isnan(a)
    np.testing.assert_array_equal(nan, np.isnan(b))
    np.testing.assert_array_equal(a[~nan].view(np.uint32), b[~nan].view(np.uint32))


def assert_close(m, t, ulps=2):
    """Same dtype and shape, values within a few units in the last place of the 16-bit dtype."""
    assert m.dtype.name == str(t.dtype).split(".")[1]
    a, b = _host(m).astype(np.float64), _host(t).astype(np.float64)
    assert a.shape == b.shape
    eps = 2.0 ** -10 if t.dtype == torch.float16 else 2.0 ** -7
    fin = np.isfinite(b)
    np.testing.assert_array_equal(a[~fin], b[~fin])
    scale = max(1.0, float(np.abs(b[fin]).max(initial=0)))
    np.testing.assert_allclose(a[fin], b[fin], rtol=ulps * eps, atol=ulps * eps * scale)


# ---------------------------------------------------------------------------------------------------------------
# conversion kernels
# ---------------------------------------------------------------------------------------------------------------
def _specials():
    f = np.float32
    vals = [0.0, -0.0, np.inf, -np.inf, np.nan, 1.0, -1.0, 65504.0, 65519.99, 65520.0, 1e5, -1e5,
            2.0 ** -24, 2.0 ** -25, 2.0 ** -25 * 1.0001, 2.0 ** -26, 3 * 2.0 ** -25, 2.0 ** -14,
            2.0 ** -14 * (1 - 2.0 ** -11),
            6e-8, -6e-8, 1e-40, -1e-45, 3.4e38, -3.4e38, 1.17549435e-38, 3.3895314e38, 3.3961776e38]
    # ties: exactly halfway between two neighbours, odd and even
    for e in (-20, -15, -3, 0, 7, 14):
        for k in (1, 2, 3, 1023):
            vals.append((1 + (2 * k + 1) * 2.0 ** -11) * 2.0 ** e)  # float16 ties
            vals.append((1 + (2 * k + 1) * 2.0 ** -8) * 2.0 ** e)  # bfloat16 ties
            vals.append(-(1 + (2 * k + 1) * 2.0 ** -8) * 2.0 ** (e * 6))
    rng = np.random.default_rng(0)
    rand_bits = rng.integers(0, 2 ** 32, 200, dtype=np.uint64).astype(np.uint32).view(np.float32)
    near = (rng.standard_normal(200) * np.exp2(rng.integers(-30, 20, 200))).astype(f)
    return np.concatenate([np.array(vals, dtype=f), rand_bits, near])


@pytest.mark.parametrize("dt", HALVES)
def test_rounding_from_float32_matches_numpy_and_ml_dtypes(device, dt):
    vals = _specials()
    if device == "cuda":
        vals = vals[:80]
    with np.errstate(all="ignore"):
        ref = vals.astype(NP16[dt])
    got = minitorch.tensor(vals, device=device).to(getattr(minitorch, dt)).cpu().numpy()
    assert got.dtype == NP16[dt]
    nan = np.isnan(vals)
    np.testing.assert_array_equal(got[~nan].view(np.uint16), ref[~nan].view(np.uint16))
    assert np.isnan(got[nan].astype(np.float32)).all()


@pytest.mark.parametrize("dt", HALVES)
def test_large_strided_conversions_run_threaded(dt):
    """Past launch.N_PAR elements a strided conversion runs the threaded kernels, both ways: a transposed half to
    float32, and float32 written into a transposed half view."""
    from minitorch.ops.launch import N_PAR
    n = 256
    assert n * n >= N_PAR
    x = np.random.default_rng(3).standard_normal((n, n)).astype(np.float32)
    h = minitorch.from_numpy(x.copy()).to(getattr(minitorch, dt))
    np.testing.assert_array_equal(h.t().float().numpy(), x.astype(NP16[dt]).T.astype(np.float32))
    out = minitorch.zeros(n, n, dtype=getattr(minitorch, dt))
    out.t().copy_(minitorch.from_numpy(x))
    np.testing.assert_array_equal(out.numpy().view(np.uint16), x.T.astype(NP16[dt]).view(np.uint16))


def test_software_float16_rounding_matches_numpy():
    """The bit-operation rounding kernels/cpu/half.py falls back to where the CPU has no float16 instructions
    (``HALF_HARDWARE`` False), on patterns around every exponent boundary and random ones: NumPy's rounding, NaN as
    the quiet NaN 0x7e00 with its sign."""
    from numba import njit
    from minitorch.kernels.cpu import half

    @njit
    def soft(bits, out):
        for k in range(bits.shape[0]):
            out[k] = half._f16_bits_soft(np.int64(bits[k]))

    rng = np.random.default_rng(5)
    edges = (np.arange(256, dtype=np.uint32) << 23)[:, None] + np.array([0, 1, 0xfff, 0x1000, 0x1fff, 0x2000, 0x3fff,
                                                                            0x7fffff], dtype=np.uint32)
    bits = np.concatenate([edges.ravel(), rng.integers(0, 1 << 31, 1 << 18, dtype=np.uint32)])
    bits = np.concatenate([bits, bits | np.uint32(1 << 31)])
    got = np.empty(bits.shape[0], np.uint16)
    soft(bits, got)
    f = bits.view(np.float32)
    with np.errstate(all="ignore"):
        want = f.astype(np.float16).view(np.uint16).copy()
    nan = np.isnan(f)
    want[nan] = 0x7e00 | ((bits[nan] >> 16) & 0x8000).astype(np.uint16)
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dt", HALVES)
def test_nan_bits_as_torch(dt):
    x = np.array([np.nan, -np.nan], dtype=np.float32)
    got = minitorch.tensor(x).to(getattr(minitorch, dt)).view(minitorch.int16).tolist()
    if dt == "float16":
        assert got == torch.tensor(x).half().view(torch.int16).tolist()  # quiet, sign kept
    else:
        assert got == [0x7FC0, 0x7FC0]  # c10::BFloat16's canonical quiet NaN


@pytest.mark.parametrize("dt", HALVES)
def test_every_bit_pattern_widens_exactly(device, dt):
    bits = np.arange(65536, dtype=np.uint16)
    if device == "cuda":
        bits = bits[::997]
    h = bits.view(NP16[dt])
    t = minitorch.from_numpy(h.copy()).to(device)
    got = t.float().cpu().numpy()
    ref = h.astype(np.float32)
    nan = np.isnan(ref)
    np.testing.assert_array_equal(got[~nan].view(np.uint32), ref[~nan].view(np.uint32))
    assert np.isnan(got[nan]).all()
    assert (t.double().cpu().numpy()[~nan] == ref[~nan]).all()


@pytest.mark.parametrize("dt", HALVES)
def test_strided_conversions(device, dt):
    x = minitorch.arange(24, dtype=minitorch.float32, device=device).reshape(2, 3, 4) / 7
    h = x.permute(2, 0, 1).to(getattr(minitorch, dt))  # strided source
    ref = x.permute(2, 0, 1).numpy() if device == "cpu" else x.permute(2, 0, 1).cpu().numpy()
    np.testing.assert_array_equal(h.cpu().numpy(), ref.astype(NP16[dt]))
    out = minitorch.zeros(4, 6, dtype=getattr(minitorch, dt), device=device)
    out[:, ::2].copy_(x.reshape(4, 6)[:, 1::2])  # strided destination, strided source, cast on the way
    expect = np.zeros((4, 6), np.float32)
    expect[:, ::2] = x.cpu().numpy().reshape(4, 6)[:, 1::2]
    np.testing.assert_array_equal(out.cpu().numpy(), expect.astype(NP16[dt]))
    back = h.transpose(0, 2).float()  # half strided -> float32
    np.testing.assert_array_equal(back.cpu().numpy(), h.cpu().numpy().transpose(2, 1, 0).astype(np.float32))


@pytest.mark.parametrize("src", DTYPES)
@pytest.mark.parametrize("dst", DTYPES)
def test_casts_between_every_dtype_pair(src, dst):
    if src not in HALVES and dst not in HALVES:
        pytest.skip("covered by the other dtype tests")
    vals = [0, 1, 2, -3, 100.5, -0.0, 1 / 3, 255, 70000.0, 0.1] if src not in ("bool", "uint8") else [0, 1, 2, 255, 0]
    if src == "bool":
        vals = [0, 1, 1, 0]
    t = torch.tensor(vals, dtype=torch.float64).to(getattr(torch, src))
    m = minitorch.tensor(t.double().numpy() if src != "bool" else t.numpy()).to(getattr(minitorch, src))
    if src in ("float16", "bfloat16", "float32", "float64") and dst in ("uint8", "int8", "int16", "int32", "int64"):
        # out-of-range float -> int casts (negative ones to uint8 included) are undefined behaviour in C++
        keep = ((t.double().abs() < 120) & ((t.double() >= 0) | (dst != "uint8"))).numpy()
        t, m = t[torch.from_numpy(keep)], m[minitorch.from_numpy(keep)]
    got = m.to(getattr(minitorch, dst))
    ref = t.to(getattr(torch, dst))
    assert got.dtype.name == dst
    np.testing.assert_array_equal(got.double().numpy() if dst != "bool" else got.numpy(),
                                  ref.double().numpy() if dst != "bool" else ref.numpy())


def test_double_goes_through_float_as_torch():
    v = [1 + 2.0 ** -11 + 2.0 ** -40, 1 + 2.0 ** -8 + 2.0 ** -40]
    for dt in HALVES:
        ref = torch.tensor(v, dtype=torch.float64).to(getattr(torch, dt)).view(torch.int16).tolist()
        assert minitorch.tensor(v, dtype=minitorch.float64).to(getattr(minitorch, dt)).view(
            minitorch.int16).tolist() == ref
        assert minitorch.tensor(v, dtype=getattr(minitorch, dt)).view(minitorch.int16).tolist() == ref


# launchers that never compute on element values: they move bits (or only allocate, validate, convert); the two
# checks validate through tensor ops that are half-aware themselves (index_range reads int64 indices only)
_BIT_SAFE = {"empty", "broadcast_shapes", "expand_strides", "collapse", "to_float32", "round_to", "half_compute",
             "where", "copy_into", "contiguous", "scalar", "fill_", "bounds", "take", "gather", "nonzero", "to_numpy",
             "index_range", "check_distribution", "select_rows", "flip", "masked_compress"}


def test_every_launcher_is_half_aware():
    """A launcher that computes on values must be wrapped in ``half_compute`` (otherwise it would compute on the
    uint16 bit patterns of a half tensor: sorting them, for one, orders negative numbers backwards)."""
    import inspect
    from minitorch.ops import launch
    for name, fn in vars(launch).items():
        if inspect.isfunction(fn) and fn.__module__ == launch.__name__ and not name.startswith("_"):
            assert getattr(fn, "half_compute", False) or name in _BIT_SAFE, \
                f"launch.{name}: decorate it with @half_compute() or list it as bit-safe in tests/test_half.py"


# ---------------------------------------------------------------------------------------------------------------
# elementwise ops against torch
# ---------------------------------------------------------------------------------------------------------------
_R = np.random.default_rng(1)
_ANY = np.concatenate([_R.standard_normal(20) * 3, [0.0, -0.0, 0.5, -2.5, 1.5, 300.0, -70.0]]).astype(np.float32)
_POS = np.abs(_ANY) + 0.05
_UNIT = np.clip(_ANY / 10, -0.95, 0.95)
UNARY = [("neg", _ANY), ("abs", _ANY), ("sign", _ANY), ("exp", _ANY / 3), ("log", _POS), ("log1p", _POS),
         ("expm1", _ANY / 3), ("sqrt", _POS), ("rsqrt", _POS), ("sin", _ANY), ("cos", _ANY), ("tan", _UNIT),
         ("tanh", _ANY), ("sigmoid", _ANY), ("relu", _ANY), ("reciprocal", _POS), ("floor", _ANY), ("ceil", _ANY),
         ("round", _ANY), ("trunc", _ANY), ("frac", _ANY), ("square", _ANY), ("erf", _ANY), ("log2", _POS),
         ("log10", _POS), ("exp2", _ANY / 3), ("atan", _ANY), ("asin", _UNIT), ("acos", _UNIT), ("sinh", _ANY / 3),
         ("cosh", _ANY / 3)]
# transcendental functions: libm's and PyTorch's float32 results may differ in their last float32 bit, which can
# move a value across a rounding boundary of the 16-bit format; everything else must match bit for bit
EXACT = {"neg", "abs", "sign", "sqrt", "relu", "reciprocal", "floor", "ceil", "round", "trunc", "frac", "square"}


@pytest.mark.parametrize("dt", HALVES)
@pytest.mark.parametrize("name,vals", UNARY, ids=[u[0] for u in UNARY])
def test_unary_as_torch(device, dt, name, vals):
    if device == "cuda":
        vals = vals[::4]
    if name == "relu":
        vals = vals[np.signbit(vals) == (vals < 0)]  # relu(-0.0) is +0.0 here (in float32 too), -0.0 in PyTorch
    m, t = _pair(vals, dt, device)
    got, ref = getattr(minitorch, name)(m), getattr(torch, name)(t)
    (assert_bits if name in EXACT else assert_close)(got, ref, *(() if name in EXACT else (1,)))


_A = (_R.standard_normal((3, 4)) * 4).astype(np.float32)
_B = (_R.standard_normal((4,)) * 2 + 0.3).astype(np.float32)
BINARY = ["add", "sub", "mul", "div", "maximum", "minimum", "fmod", "remainder", "atan2", "pow"]


@pytest.mark.parametrize("dt", HALVES)
@pytest.mark.parametrize("name", BINARY)
def test_binary_as_torch(device, dt, name):
    a, b = (np.abs(_A) + 0.1, _B / 2) if name == "pow" else (_A, _B)
    (ma, ta), (mb, tb) = _pair(a, dt, device), _pair(b, dt, device)
    got, ref = getattr(minitorch, name)(ma, mb), getattr(torch, name)(ta, tb)
    (assert_bits if name not in ("atan2", "pow") else assert_close)(got, ref, *(() if name not in ("atan2", "pow")
                                                                              else (1,)))
    # a strided (transposed) operand
    got = getattr(minitorch, name)(ma.t(), mb[:3].reshape(1, 3))
    ref = getattr(torch, name)(ta.t(), tb[:3].reshape(1, 3))
    (assert_bits if name not in ("atan2", "pow") else assert_close)(got, ref, *(() if name not in ("atan2", "pow")
                                                                              else (1,)))


@pytest.mark.parametrize("dt", HALVES)
def test_scalars_comparisons_where_clamp(device, dt):
    (ma, ta), (mb, tb) = _pair(_A, dt, device), _pair(_B, dt, device)
    assert_bits(ma * 0.1 + 3, ta * 0.1 + 3)  # Python scalars keep the half dtype
    assert_bits(ma / 2.5, ta / 2.5)
    assert_bits(ma ** 2, ta ** 2)
    for op in ("eq", "ne", "lt", "le", "gt", "ge"):
        np.testing.assert_array_equal(getattr(minitorch, op)(ma, mb).cpu().numpy(), getattr(torch, op)(ta, tb).numpy())
    assert_bits(minitorch.where(ma > 0, ma, mb), torch.where(ta > 0, ta, tb))
    assert_bits(ma.clamp(-1.3, 2.7), ta.clamp(-1.3, 2.7))
    assert_close(minitorch.lerp(ma, mb, 0.3), torch.lerp(ta, tb, 0.3), 2)  # a composite here, fused in torch
    assert (ma.isnan() == False).all().item()  # noqa: E712
    assert ma.isfinite().all().item()


@pytest.mark.parametrize("dt", HALVES)
def test_inplace_into_half_views(device, dt):
    m, t = _pair(_A, dt, device)
    m2, t2 = m.clone(), t.clone()
    m2[:, 1::2] += 1.37
    t2[:, 1::2] += 1.37
    assert_bits(m2, t2)
    m2[1].mul_(m[0])
    t2[1].mul_(t[0])
    assert_bits(m2, t2)
    m2.t()[2].exp_()
    t2.t()[2].exp_()
    assert_close(m2, t2, 1)
    m2.fill_(1 / 3)
    t2.fill_(1 / 3)
    assert_bits(m2, t2)


@pytest.mark.parametrize("dt", HALVES)
def test_data_movement(device, dt):
    m, t = _pair(_A, dt, device)
    i = [2, 0, 0, 1]
    assert_bits(m[[2, 0]], t[[2, 0]])
    assert_bits(m[:, [3, 1]], t[:, [3, 1]])
    assert_bits(m.flip(1), t.flip(1))
    assert_bits(minitorch.cat([m, m[:1]]), torch.cat([t, t[:1]]))
    assert_bits(minitorch.stack([m, m]), torch.stack([t, t]))
    assert_bits(m.gather(1, minitorch.tensor([[0, 3]] * 3, device=device)), t.gather(1, torch.tensor([[0, 3]] * 3)))
    assert_bits(m.t().contiguous(), t.t().contiguous())
    assert_bits(m.masked_fill(m > 0, -1.25), t.masked_fill(t > 0, -1.25))
    idx = minitorch.tensor(i, device=device)
    ones = minitorch.ones(4, 4, dtype=m.dtype, device=device) / 3
    assert_bits(minitorch.zeros(3, 4, dtype=m.dtype, device=device).index_add(0, idx[:3], ones[:3]),
                torch.zeros(3, 4, dtype=t.dtype).index_add(0, torch.tensor(i[:3]),
                                                            torch.ones(4, 4, dtype=t.dtype)[:3] / 3))
    src = minitorch.ones(2, 4, dtype=m.dtype, device=device) * 0.7
    assert_bits(m.scatter_add(0, minitorch.tensor([[1, 0, 2, 1], [1, 1, 0, 0]], device=device), src),
                t.scatter_add(0, torch.tensor([[1, 0, 2, 1], [1, 1, 0, 0]]), torch.ones(2, 4, dtype=t.dtype) * 0.7))
    mm, tt = m.clone(), t.clone()
    mm[minitorch.tensor([0, 0, 2], device=device), minitorch.tensor([1, 1, 3], device=device)] = 5.5
    tt[torch.tensor([0, 0, 2]), torch.tensor([1, 1, 3])] = 5.5
    assert_bits(mm, tt)
    mm.t().index_add_(0, minitorch.tensor([1, 1, 3], device=device), m.t()[:3] / 3)  # accumulation, strided
    tt.t().index_add_(0, torch.tensor([1, 1, 3]), t.t()[:3] / 3)
    assert_bits(mm, tt)
    assert_bits(m.view(minitorch.int16).view(m.dtype), t)
    np.testing.assert_array_equal(m.view(minitorch.int16).cpu().numpy(), t.view(torch.int16).numpy())


# ---------------------------------------------------------------------------------------------------------------
# reductions, matmul, conv, softmax, losses
# ---------------------------------------------------------------------------------------------------------------
_X = (_R.standard_normal((4, 6)) * 2).astype(np.float32)


@pytest.mark.parametrize("dt", HALVES)
def test_reductions_as_torch(device, dt):
    m, t = _pair(_X, dt, device)
    for name, args in [("sum", ()), ("sum", (1,)), ("sum", (0, True)), ("mean", ()), ("mean", (1,)),
                       ("prod", (1,)), ("amax", (0,)), ("amin", (1,)), ("cumsum", (1,)), ("var", (1,)),
                       ("std", (0,)), ("logsumexp", (1,)), ("norm", ())]:
        assert_close(getattr(m, name)(*args), getattr(t, name)(*args), 2)
    for name in ("max", "min"):
        mv, mi = getattr(m, name)(1)
        tv, ti = getattr(t, name)(1)
        assert_bits(mv, tv)
        np.testing.assert_array_equal(mi.cpu().numpy(), ti.numpy())
    np.testing.assert_array_equal(m.argmax(0).cpu().numpy(), t.argmax(0).numpy())
    assert_bits(m.sum(), t.sum())  # float32 accumulation, rounded once
    assert m.sum(dtype=minitorch.float32).dtype is minitorch.float32
    np.testing.assert_allclose(m.sum(dtype=minitorch.float32).item(), t.sum(dtype=torch.float32).item(), rtol=1e-6)
    assert m.any().item() and not (m != m).any().item()


@pytest.mark.slow
@pytest.mark.parametrize("dt", HALVES)
def test_long_sum_accumulates_in_float32(dt):
    x = minitorch.full((300000,), 0.1, dtype=getattr(minitorch, dt))  # float16 accumulation would stall at 256
    t = torch.full((300000,), 0.1, dtype=getattr(torch, dt))
    assert_close(x.sum(), t.sum(), 1)
    assert_close(x.reshape(600, 500).sum(0), t.reshape(600, 500).sum(0), 1)


@pytest.mark.parametrize("dt", HALVES)
def test_matmul_linear_as_torch(device, dt):
    (ma, ta), (mb, tb) = _pair(_X, dt, device), _pair(_X.T[:, :5] / 2, dt, device)
    assert_close(ma @ mb, ta @ tb, 1)
    assert_close(minitorch.mm(mb.t(), ma.t()), torch.mm(tb.t(), ta.t()), 1)
    (m3, t3) = _pair(_X.reshape(2, 3, 4), dt, device)
    assert_close(minitorch.bmm(m3, m3.transpose(1, 2)), torch.bmm(t3, t3.transpose(1, 2)), 1)
    assert_close(m3 @ ma[:, :2], t3 @ ta[:, :2], 1)
    (mw, tw), (mbias, tbias) = _pair(_X[:3], dt, device), _pair(_B[:3], dt, device)
    assert_close(F.linear(ma, mw, mbias), tF.linear(ta, tw, tbias), 1)
    assert_close(minitorch.addmm(mbias, ma, mw.t()), torch.addmm(tbias, ta, tw.t()), 2)


@pytest.mark.parametrize("dt", HALVES)
def test_conv_pool_as_torch(device, dt):
    img = _R.standard_normal((2, 2, 5, 5)).astype(np.float32)
    w = _R.standard_normal((3, 2, 3, 3)).astype(np.float32) / 3
    (mx, tx), (mw, tw), (mb, tb) = _pair(img, dt, device), _pair(w, dt, device), _pair(_B[:3], dt, device)
    assert_close(F.conv2d(mx, mw, mb, padding=1), tF.conv2d(tx, tw, tb, padding=1), 2)
    assert_close(F.conv1d(mx[:, :, 0], mw[:, :, 0], None, stride=2), tF.conv1d(tx[:, :, 0], tw[:, :, 0], None,
                                                                               stride=2), 2)
    assert_bits(F.max_pool2d(mx, 2), tF.max_pool2d(tx, 2))
    assert_close(F.avg_pool2d(mx, 2), tF.avg_pool2d(tx, 2), 1)


@pytest.mark.parametrize("dt", HALVES)
def test_softmax_norms_losses_as_torch(device, dt):
    m, t = _pair(_X, dt, device)
    assert_close(F.softmax(m, 1), tF.softmax(t, 1), 1)
    assert_close(F.log_softmax(m, 0), tF.log_softmax(t, 0), 1)
    assert_close(F.gelu(m), tF.gelu(t), 1)
    assert_close(F.silu(m), tF.silu(t), 1)
    assert_close(F.layer_norm(m, (6,)), tF.layer_norm(t, (6,)), 3)
    target = [1, 0, 5, 2]
    mt, tt = minitorch.tensor(target, device=device), torch.tensor(target)
    assert_close(F.cross_entropy(m, mt), tF.cross_entropy(t, tt), 2)
    assert_close(F.cross_entropy(m, mt, reduction="none"), tF.cross_entropy(t, tt, reduction="none"), 2)
    assert_close(F.nll_loss(F.log_softmax(m, 1), mt), tF.nll_loss(tF.log_softmax(t, 1), tt), 2)
    (m2, t2) = _pair(_X[::-1] / 3, dt, device)
    assert_close(F.mse_loss(m, m2), tF.mse_loss(t, t2), 2)
    assert_close(F.l1_loss(m, m2), tF.l1_loss(t, t2), 2)
    assert_close(F.smooth_l1_loss(m, m2), tF.smooth_l1_loss(t, t2), 2)
    p, tp = _pair(1 / (1 + np.exp(-_X)), dt, device)
    q, tq = _pair((_X > 0).astype(np.float32), dt, device)
    assert_close(F.binary_cross_entropy(p, q), tF.binary_cross_entropy(tp, tq), 3)


_Y = (_R.standard_normal((16, 50)) * 2).astype(np.float32)


@pytest.mark.parametrize("dt", HALVES)
def test_composites_round_once_as_torch(device, dt):
    """Ops built from several primitives run on float32 copies and round once, as PyTorch's fused kernels: exact
    where PyTorch's float32 arithmetic is the same, within an ulp where libm and PyTorch's vector math differ."""
    (m, t), (m2, t2) = _pair(_Y, dt, device), _pair(_Y[::-1] / 3, dt, device)
    assert_bits(m.mean(1), t.mean(1))
    assert_bits(m.var(0), t.var(0))
    assert_bits(m.std(1), t.std(1))
    assert_bits(minitorch.addcmul(m, m2, m, value=0.5), torch.addcmul(t, t2, t, value=0.5))
    assert_bits(F.leaky_relu(m, 0.1), tF.leaky_relu(t, 0.1))
    assert_bits(F.softplus(m), tF.softplus(t))
    assert_bits(F.mse_loss(m, m2, reduction="none"), tF.mse_loss(t, t2, reduction="none"))
    for mo, to in ((minitorch.lerp(m, m2, 0.3), torch.lerp(t, t2, 0.3)), (F.gelu(m), tF.gelu(t)),
                   (F.silu(m), tF.silu(t)), (F.layer_norm(m, (50,)), tF.layer_norm(t, (50,))),
                   (m.norm(dim=1), t.norm(dim=1))):
        assert_close(mo, to, 1)
        a, b = _host(mo), _host(to)
        assert (a != b).mean() < 0.05  # rounding after every step differed on about a third
    mx, tx = _pair(_Y[:4, :6], dt, device, True)
    for lib, x, Fn in ((minitorch, mx, F), (torch, tx, tF)):
        (Fn.gelu(x).pow(2).sum() + Fn.softplus(x).mean() + x.var()).backward()
    assert mx.grad.dtype is getattr(minitorch, dt)
    assert_close(mx.grad, tx.grad, 4)


# ---------------------------------------------------------------------------------------------------------------
# autograd and optimizers
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dt", HALVES)
def test_gradients_in_half(device, dt):
    (mx, tx), (mw, tw) = _pair(_X[:3], dt, device, True), _pair(_X.T[:, :2] / 3, dt, device, True)
    for lib, x, w in ((minitorch, mx, mw), (torch, tx, tw)):
        y = lib.nn.functional.log_softmax((x @ w).tanh() * 2.0, 1)
        y.sum().backward()
    assert mx.grad.dtype is getattr(minitorch, dt) and mw.grad.dtype is getattr(minitorch, dt)
    assert_close(mx.grad, tx.grad, 4)
    assert_close(mw.grad, tw.grad, 4)
    # a float32 leaf cast to half gets a float32 gradient
    a = minitorch.tensor([1.0, 2.0, 3.0], device=device, requires_grad=True)
    (a.to(getattr(minitorch, dt)) * 3).sum().backward()
    assert a.grad.dtype is minitorch.float32 and a.grad.tolist() == [3.0, 3.0, 3.0]


@pytest.mark.parametrize("dt", HALVES)
@pytest.mark.parametrize("opt", ["SGD", "Adam"])
def test_optimizer_steps_on_half_params(dt, opt):
    res = []
    for lib in (minitorch, torch):
        w = lib.tensor(_X).to(getattr(lib, dt)).requires_grad_()
        o = getattr(lib.optim, opt)([w], lr=0.05, **({"momentum": 0.9} if opt == "SGD" else {}))
        for _ in range(3):
            o.zero_grad()
            (w * w).sum().backward()
            o.step()
        assert w.dtype is getattr(lib, dt)
        res.append(w)
    assert_close(res[0], res[1], 3)


@pytest.mark.parametrize("dt", HALVES)
def test_module_half_training_step_as_torch(dt):
    res = []
    for lib in (minitorch, torch):
        lib.manual_seed(0)
        model = lib.nn.Sequential(lib.nn.Linear(6, 5), lib.nn.ReLU(), lib.nn.Linear(5, 3))
        with lib.no_grad():
            for i, p in enumerate(model.parameters()):
                p.copy_(lib.tensor(np.sin(np.arange(p.numel()) + i).reshape(tuple(p.shape)).astype(np.float32)))
        model = model.half() if dt == "float16" else model.bfloat16()
        assert all(p.dtype is getattr(lib, dt) for p in model.parameters())
        opt = lib.optim.SGD(model.parameters(), lr=0.1)
        x = lib.tensor(_X[:, :6]).to(getattr(lib, dt))
        loss = lib.nn.functional.cross_entropy(model(x), lib.tensor([0, 1, 2, 1]))
        loss.backward()
        opt.step()
        res.append((loss, [p.detach() for p in model.parameters()]))
    assert_close(res[0][0], res[1][0], 2)
    for a, b in zip(res[0][1], res[1][1]):
        assert_close(a, b, 2)
    assert minitorch.nn.Linear(2, 2).half().float().weight.dtype is minitorch.float32


# ---------------------------------------------------------------------------------------------------------------
# promotion
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("a", DTYPES)
@pytest.mark.parametrize("b", DTYPES)
def test_promotion_table_as_torch(a, b):
    ma, mb = getattr(minitorch, a), getattr(minitorch, b)
    ta, tb = getattr(torch, a), getattr(torch, b)
    assert minitorch.promote_types(ma, mb).name == str(torch.promote_types(ta, tb)).split(".")[1]
    x = minitorch.ones(2, dtype=ma) + minitorch.ones(2, dtype=mb)
    assert x.dtype.name == str((torch.ones(2, dtype=ta) + torch.ones(2, dtype=tb)).dtype).split(".")[1]
    # a 0-d operand and Python scalars
    y = minitorch.ones(2, dtype=ma) * minitorch.ones((), dtype=mb)
    assert y.dtype.name == str((torch.ones(2, dtype=ta) * torch.ones((), dtype=tb)).dtype).split(".")[1]
    for s in (2, 2.5, True):
        if a == "bool" and s is True:
            continue
        z = minitorch.ones(2, dtype=ma) * s
        assert z.dtype.name == str((torch.ones(2, dtype=ta) * s).dtype).split(".")[1]


def test_float16_bfloat16_meet_in_float32():
    assert minitorch.promote_types(minitorch.half, minitorch.bfloat16) is minitorch.float32
    x = minitorch.ones(2, dtype=minitorch.half) + minitorch.ones(2, dtype=minitorch.bfloat16)
    assert x.dtype is minitorch.float32
    assert minitorch.result_type(minitorch.ones(2, dtype=minitorch.half), 1.5) is minitorch.float16


# ---------------------------------------------------------------------------------------------------------------
# API around the dtypes
# ---------------------------------------------------------------------------------------------------------------
def test_names_methods_finfo_legacy():
    assert minitorch.half is minitorch.float16
    assert minitorch.float16.itemsize == 2 and minitorch.bfloat16.is_floating_point
    x = minitorch.tensor([1.0, 2.0])
    assert x.half().dtype is minitorch.float16 and x.bfloat16().dtype is minitorch.bfloat16
    assert x.half().is_floating_point()
    for dt in HALVES:
        mf, tf = minitorch.finfo(getattr(minitorch, dt)), torch.finfo(getattr(torch, dt))
        for k in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution"):
            assert getattr(mf, k) == getattr(tf, k), k
        assert repr(mf) == repr(tf)
    assert isinstance(x.half(), minitorch.HalfTensor) and not isinstance(x, minitorch.HalfTensor)
    assert isinstance(x.bfloat16(), minitorch.BFloat16Tensor)
    assert x.half().type() == "torch.HalfTensor" and x.bfloat16().type() == "torch.BFloat16Tensor"
    assert minitorch.HalfTensor([1, 2]).dtype is minitorch.float16
    assert x.type(minitorch.BFloat16Tensor).dtype is minitorch.bfloat16
    assert minitorch.cuda.HalfTensor.dtype is minitorch.float16


def test_numpy_interop():
    h = np.array([1.5, -2.25, 65504], dtype=np.float16)
    t = minitorch.from_numpy(h)
    assert t.dtype is minitorch.float16
    t.mul_(2)  # shares memory with h
    assert h.tolist() == [3.0, -4.5, np.inf]
    b = np.array([1.5, 3.0], dtype=ml_dtypes.bfloat16)
    tb = minitorch.from_numpy(b)
    assert tb.dtype is minitorch.bfloat16 and tb.numpy().dtype == b.dtype
    assert minitorch.tensor(b).tolist() == [1.5, 3.0]
    assert minitorch.tensor([0.1], dtype=minitorch.half).item() == float(np.float16(0.1))
    assert isinstance(minitorch.tensor([0.1], dtype=minitorch.bfloat16).item(), float)
    assert minitorch.tensor(np.float16(2.5)).dtype is minitorch.float16
    assert np.asarray(minitorch.ones(2, dtype=minitorch.bfloat16)).dtype == np.dtype(ml_dtypes.bfloat16)


def test_set_default_dtype_half():
    old = minitorch.get_default_dtype()
    try:
        for dt in HALVES:
            minitorch.set_default_dtype(getattr(minitorch, dt))
            torch.set_default_dtype(getattr(torch, dt))
            assert minitorch.tensor([1.5]).dtype.name == dt == str(torch.tensor([1.5]).dtype).split(".")[1]
            assert minitorch.zeros(2).dtype.name == dt and minitorch.randn(3).dtype.name == dt
            assert (minitorch.tensor([1, 2]) / 3).dtype.name == dt
            assert minitorch.arange(0, 1, 0.25).dtype.name == str(torch.arange(0, 1, 0.25).dtype).split(".")[1]
            assert repr(minitorch.tensor([1.5])) == "tensor([1.5000])"
    finally:
        minitorch.set_default_dtype(old)
        torch.set_default_dtype(torch.float32)


@pytest.mark.parametrize("dt", HALVES)
def test_printing_as_torch(dt):
    vals = [[1.0, 2.5, -3.25], [1e-6, 300.0, float("nan")], [float("inf"), 0.1, -0.0]]
    m, t = _pair(vals, dt)
    assert repr(m) == repr(t).replace("torch.", "minitorch.")
    assert repr(m[0]) == repr(t[0]).replace("torch.", "minitorch.")
    assert repr(m.sum(1)) == repr(t.sum(1)).replace("torch.", "minitorch.")
    mi, ti = _pair([[1.0, 2.0], [3.0, 4.0]], dt)
    assert repr(mi) == repr(ti).replace("torch.", "minitorch.")


@pytest.mark.parametrize("dt", HALVES)
def test_random_fills(device, dt):
    d = getattr(minitorch, dt)
    minitorch.manual_seed(0)
    u = minitorch.rand(200, dtype=d, device=device)
    assert u.dtype is d and 0 <= u.min().item() and u.max().item() <= 1 and u.std().item() > 0.2
    n = minitorch.empty(200, dtype=d, device=device).normal_(3, 0.5)
    assert abs(n.float().mean().item() - 3) < 0.2
    r = minitorch.empty(100, dtype=d, device=device).random_(0, 10)
    assert (r == r.round()).all().item() and r.min().item() >= 0 and r.max().item() <= 9


def test_save_load_round_trip(tmp_path):
    from safetensors.torch import load_file, save_file
    m16, _ = _pair([1.5, -2.0, 1e-7, 65504.0, float("inf")], "float16")
    mbf, _ = _pair([1.5, -2.0, 1e-30, 3e38, float("nan")], "bfloat16")
    path = tmp_path / "h.pt"
    minitorch.save({"h": m16, "b": mbf, "view": mbf[1:]}, path)
    back = minitorch.load(path)
    for k, ref in (("h", m16), ("b", mbf), ("view", mbf[1:])):
        assert back[k].dtype is ref.dtype
        np.testing.assert_array_equal(back[k].view(minitorch.int16).numpy(), ref.view(minitorch.int16).numpy())
    # the file is a safetensors file torch reads with the same dtypes, and torch's files load here
    plain = tmp_path / "p.safetensors"
    minitorch.save({"h": m16, "b": mbf}, plain)
    tt = load_file(plain)
    assert tt["h"].dtype == torch.float16 and tt["b"].dtype == torch.bfloat16
    np.testing.assert_array_equal(tt["b"].view(torch.int16).numpy(), mbf.view(minitorch.int16).numpy())
    save_file({"x": torch.tensor([0.5, 3.0]).bfloat16(), "y": torch.tensor([0.25]).half()}, tmp_path / "t.safetensors")
    got = minitorch.load(tmp_path / "t.safetensors")
    assert got["x"].dtype is minitorch.bfloat16 and got["x"].tolist() == [0.5, 3.0]
    assert got["y"].dtype is minitorch.float16 and got["y"].tolist() == [0.25]


def test_complex_dtypes_refused():
    assert minitorch.cfloat is minitorch.complex64 and minitorch.cdouble is minitorch.complex128
    assert minitorch.complex64.is_complex and not minitorch.complex64.is_floating_point
    for call in (lambda: minitorch.zeros(2, dtype=minitorch.complex64),
                 lambda: minitorch.ones(2, dtype=minitorch.complex128),
                 lambda: minitorch.tensor([1.0], dtype=minitorch.cfloat),
                 lambda: minitorch.ones(2).to(minitorch.complex64),
                 lambda: minitorch.promote_types(minitorch.float32, minitorch.complex64),
                 lambda: minitorch.empty(2, dtype=minitorch.cdouble)):
        with pytest.raises(TypeError, match=r"minitorch does not support complex dtypes \(complex(64|128)\)"):
            call()
    with pytest.raises(TypeError, match="only floating-point types"):
        minitorch.set_default_dtype(minitorch.complex64)


def test_half_storage_is_bits():
    x = minitorch.tensor([1.0, -2.0], dtype=minitorch.half)
    assert x.numpy().dtype == np.float16
    assert x.view(minitorch.int16).tolist() == [0x3C00, -16384]
    assert x.element_size() == 2


# ---------------------------------------------------------------------------------------------------------------
# the op families whose launchers live in their own modules (sorting, search, contraction) on half tensors
# ---------------------------------------------------------------------------------------------------------------
FAMILY_CASES = {
    "sort": lambda m, t: t.sort(1), "sort_desc": lambda m, t: t.sort(1, descending=True),
    "argsort": lambda m, t: t.argsort(1, descending=True), "msort": lambda m, t: t.msort(),
    "topk": lambda m, t: t.topk(2), "topk_smallest": lambda m, t: t.topk(2, largest=False),
    "kthvalue": lambda m, t: t.kthvalue(2), "median": lambda m, t: t.median(1), "mode": lambda m, t: t.mode(1),
    "unique": lambda m, t: t.unique(return_inverse=True, return_counts=True),
    "cummax": lambda m, t: t.cummax(1), "cummin": lambda m, t: t.cummin(0),
    "logcumsumexp": lambda m, t: t.logcumsumexp(1),
    "searchsorted": lambda m, t: m.searchsorted(t.sort(1).values.contiguous(), t[:, :2].contiguous()),
    "scatter_reduce_amax": lambda m, t: m.zeros(2, 3, dtype=t.dtype, device=t.device).scatter_reduce(
        1, m.tensor([[0, 1, 0, 2, 1], [2, 2, 0, 1, 0]], device=t.device), t, "amax"),
    "einsum": lambda m, t: m.einsum("ij,kj->ik", t, t),
}


@pytest.mark.parametrize("dt", ["float16", "bfloat16"])
@pytest.mark.parametrize("case", list(FAMILY_CASES))
def test_sorting_search_and_contraction_families_on_half(case, dt, device):
    """Their kernels must compare values, not the uint16 bit patterns (which order negative numbers backwards)."""
    x = np.array([[1.5, -2.25, 3.0, -0.5, 3.0], [0.1, -7.0, 2.0, 2.0, -1.0]], dtype=np.float32)
    fn = FAMILY_CASES[case]
    got = fn(minitorch, minitorch.tensor(x, dtype=getattr(minitorch, dt), device=device))
    want = fn(torch, torch.tensor(x, dtype=getattr(torch, dt)))
    got = got if isinstance(got, tuple) else (got,)
    want = want if isinstance(want, tuple) else (want,)
    for g, w in zip(got, want):
        assert str(g.dtype).split(".")[-1] == str(w.dtype).split(".")[-1]
        gv = g.float().cpu().numpy() if g.dtype.is_floating_point else g.cpu().numpy()
        wv = w.float().numpy() if w.dtype.is_floating_point else w.numpy()
        np.testing.assert_allclose(gv, wv, rtol=1e-2 if case == "einsum" else 0)


def test_float16_rounding_on_a_dense_sample_of_bit_patterns():
    """The branch-free float32 -> float16 rounding (kernels/cpu/half.py) against NumPy on every 4099th float32 bit
    pattern (about a million, all exponents) and on each float16 value's rounding midpoints, one ulp either side
    (ties go to even). NaN comes out quiet with its sign: where the CPU converts in hardware (``HALF_HARDWARE``) with
    the top 10 bits of its payload too, as PyTorch's conversion gives, else as 0x7e00 (the software rounding is
    tested on its own above)."""
    from minitorch.kernels.cpu.half import HALF_HARDWARE
    bits = np.arange(0, 2 ** 32, 4099, dtype=np.uint64).astype(np.uint32)
    h = np.arange(0, 0x7c00, dtype=np.uint32)  # every finite positive float16
    lo = h.astype(np.uint16).view(np.float16).astype(np.float32).view(np.uint32)
    hi = (h + 1).astype(np.uint16).view(np.float16).astype(np.float32).view(np.uint32)
    mid = ((lo.astype(np.uint64) + hi) // 2).astype(np.uint32)  # the midpoint's bits (same exponent, or inf's edge)
    pats = np.concatenate([bits, mid - 1, mid, mid + 1, mid | 0x80000000])
    x = pats.view(np.float32)
    got = minitorch.from_numpy(x.copy()).to(minitorch.float16).view(minitorch.int16).numpy().view(np.uint16)
    with np.errstate(all="ignore"):
        ref = x.astype(np.float16).view(np.uint16)
    nan = np.isnan(x)
    np.testing.assert_array_equal(got[~nan], ref[~nan])
    payload = (pats[nan] >> 13) & 0x3ff if HALF_HARDWARE else 0
    np.testing.assert_array_equal(got[nan], np.where(pats[nan] >> 31, 0xfe00, 0x7e00) | payload)
