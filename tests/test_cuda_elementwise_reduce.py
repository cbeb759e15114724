"""CUDA elementwise and reduce kernels against the CPU kernels of the same name, on the same tiny inputs:
contiguous, strided, broadcast (stride 0) and offset operands, every dtype the launchers send, and edge values
(NaN, inf, signed zeros, ties, integer signs). Runs where CUDA is available (CI: NUMBA_ENABLE_CUDASIM=1).

A CUDA elementwise ``*_par`` kernel is compared with the CPU's serial kernel of its name: the CPU ``*_par`` twin runs
the same per-element body over chunks (one chunk at these sizes), and compiling it for every integer dtype here only
for the comparison cost this suite minutes (the CPU suite tests it through the ops)."""
import numpy as np
import pytest

import minitorch

pytestmark = pytest.mark.cuda
if "cuda" not in minitorch.dispatch.available():
    pytest.skip("CUDA is not available here (set NUMBA_ENABLE_CUDASIM=1 for the simulator)", allow_module_level=True)

from numba import cuda  # noqa: E402

from minitorch.kernels import opcodes  # noqa: E402
from minitorch.kernels.cpu import elementwise as cpu_ew, reduce as cpu_red  # noqa: E402
from minitorch.kernels.cuda import elementwise as gpu_ew, reduce as gpu_red  # noqa: E402
from minitorch.kernels.cuda._grid import THREADS  # noqa: E402

RNG = np.random.default_rng(11)
FLOATS = (np.float32, np.float64)
INTS = (np.int64, np.int32, np.uint8)
SPECIAL = [np.nan, np.inf, -np.inf, -0.0, 0.0, 0.5, -0.5, 1.5, -2.5, 2.5, 3.7, -1.2, 0.3, 7.0, -7.0, 1.0]


class S:
    """A storage argument: a host array copied to the device for the CUDA call (metadata stays on the host)."""

    def __init__(self, arr):
        self.arr = np.ascontiguousarray(arr)


def serial(fn):
    """The CPU elementwise kernel that a CUDA kernel named ``fn`` is compared with (see the module docstring)."""
    return getattr(cpu_ew, fn.removesuffix("_par"))


def both(cpu_fn, gpu_fn, *args, outs):
    """Call the CPU and the CUDA kernel on copies of the same arguments; return the storages at ``outs``."""
    host = [a.arr.copy() if isinstance(a, S) else a for a in args]
    dev = [cuda.to_device(a.arr) if isinstance(a, S) else a for a in args]
    r_cpu = cpu_fn(*host)
    r_gpu = gpu_fn(*dev)
    assert (r_cpu is None) == (r_gpu is None)
    return [host[k] for k in outs], [dev[k].copy_to_host() for k in outs]


def check(expected, got, exact=False):
    assert got.dtype == expected.dtype and got.shape == expected.shape
    if exact or expected.dtype.kind in "biu":
        np.testing.assert_array_equal(got, expected)
    else:
        rtol = 1e-5 if expected.dtype == np.float32 else 1e-12
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=rtol, equal_nan=True)


def floats(dt, n):
    vals = np.array(SPECIAL * (n // len(SPECIAL) + 1))[:n]
    return (vals + RNG.standard_normal(n) * (np.arange(n) >= len(SPECIAL))).astype(dt)


def ints(dt, n, lo=-9, hi=10):
    if dt == np.uint8:
        lo = 0
    return RNG.integers(lo, hi, n).astype(dt)


def bools(n):
    return RNG.random(n) < 0.5


# (storage offset, stride) of a flat operand run: contiguous, offset, strided, broadcast
FLAT_VIEWS = [(0, 1), (3, 1), (2, 3), (5, 0)]


def flat_data(make, n):
    """A storage long enough for every FLAT_VIEWS walk of n elements."""
    return make(5 + 3 * n)


# ---------------------------------------------------------------------------------------------------------------
# unary / predicate
# ---------------------------------------------------------------------------------------------------------------
INT_UNARY = ["neg", "abs", "sign", "relu", "square"]


@pytest.mark.parametrize("dt", FLOATS + INTS)
def test_unary_flat(dt):
    n = 13
    names = opcodes.UNARY if dt in FLOATS else INT_UNARY
    a = flat_data(lambda m: floats(dt, m) if dt in FLOATS else ints(dt, m), n)
    a[:len(SPECIAL)] = np.array(SPECIAL, dtype=np.float64).astype(dt) if dt in FLOATS else a[:len(SPECIAL)]
    for name in names:
        op = opcodes.UNARY[name]
        for ao, sa in FLAT_VIEWS:
            for fn in ("unary_flat", "unary_flat_par"):
                (e,), (g,) = both(serial(fn), getattr(gpu_ew, fn), op, S(a), ao, sa,
                                  S(np.zeros(n, dt)), n, outs=[4])
                check(e, g, exact=name in ("neg", "abs", "sign", "relu", "floor", "ceil", "round", "trunc"))


def test_unary_exact_edge_values():
    """Rounding is half to even, sign(NaN) is 0, relu keeps NaN, and signed zeros survive floor/trunc/round."""
    a = np.array([0.5, 1.5, 2.5, -0.5, -2.5, np.nan, -0.0, -0.3, np.inf], np.float64)
    for name in ("round", "sign", "relu", "floor", "trunc", "ceil", "neg", "abs"):
        (e,), (g,) = both(cpu_ew.unary_flat, gpu_ew.unary_flat, opcodes.UNARY[name], S(a), 0, 1,
                          S(np.zeros(9)), 9, outs=[4])
        check(e, g, exact=True)
        np.testing.assert_array_equal(np.signbit(g), np.signbit(e))


@pytest.mark.parametrize("dt", FLOATS + INTS)
def test_unary_nd(dt):
    base = floats(dt, 40) if dt in FLOATS else ints(dt, 40)
    # (offset, strides, shape): transposed, broadcast middle dim, offset 3-D
    views = [(0, [1, 4], [4, 3]), (2, [5, 0, 1], [3, 2, 4]), (1, [12, 1, 3], [2, 3, 4])]
    for name in (("exp", "tanh", "sigmoid", "gelu_tanh", "neg") if dt in FLOATS else INT_UNARY):
        for ao, st, shape in views:
            n = int(np.prod(shape))
            for fn in ("unary_nd", "unary_nd_par"):
                (e,), (g,) = both(serial(fn), getattr(gpu_ew, fn), opcodes.UNARY[name], S(base), ao,
                                  np.array(st), S(np.zeros(n, dt)), np.array(shape), outs=[4])
                check(e, g)


@pytest.mark.parametrize("dt", FLOATS + INTS + (np.bool_,))
def test_predicate_flat_and_nd(dt):
    n = 13
    if dt in FLOATS:
        a = flat_data(lambda m: floats(dt, m), n)
        a[:len(SPECIAL)] = np.array(SPECIAL).astype(dt)
        a[20] = -np.nan  # a NaN with the sign bit set
    else:
        a = flat_data(lambda m: bools(m) if dt == np.bool_ else ints(dt, m), n)
    for name, op in opcodes.PREDICATE.items():
        for ao, sa in FLAT_VIEWS:
            for fn in ("predicate_flat", "predicate_flat_par"):
                (e,), (g,) = both(serial(fn), getattr(gpu_ew, fn), op, S(a), ao, sa,
                                  S(np.zeros(n, np.bool_)), n, outs=[4])
                check(e, g)
        for fn in ("predicate_nd", "predicate_nd_par"):
            (e,), (g,) = both(serial(fn), getattr(gpu_ew, fn), op, S(a), 1, np.array([1, 4, 0]),
                              S(np.zeros(24, np.bool_)), np.array([4, 3, 2]), outs=[4])
            check(e, g)


# ---------------------------------------------------------------------------------------------------------------
# binary / compare
# ---------------------------------------------------------------------------------------------------------------
# integer fmod is checked against NumPy instead: the CPU kernel takes an unsigned remainder for negative int64
INT_BINARY = ["add", "sub", "mul", "floor_divide", "remainder", "pow", "maximum", "minimum", "rsub", "copysign"]


def binary_operands(dt, name, n):
    if dt in FLOATS:
        a = flat_data(lambda m: floats(dt, m), n)
        b = flat_data(lambda m: floats(dt, m), n)[::-1].copy()
        b[7] = 0.0  # x // 0, x % 0, fmod(x, 0)
        return a, b
    a = flat_data(lambda m: ints(dt, m), n)
    if name == "pow":
        return a, flat_data(lambda m: ints(dt, m, 0, 4), n)
    b = flat_data(lambda m: ints(dt, m), n)
    if name in ("floor_divide", "remainder", "fmod"):
        b[b == 0] = 3  # the launcher rejects integer division by zero
    return a, b


@pytest.mark.parametrize("dt", FLOATS + INTS)
def test_binary_flat(dt):
    n = 11
    for name in (opcodes.BINARY if dt in FLOATS else INT_BINARY):
        op = opcodes.BINARY[name]
        a, b = binary_operands(dt, name, n)
        for (ao, sa), (bo, sb) in zip(FLAT_VIEWS, FLAT_VIEWS[1:] + FLAT_VIEWS[:1]):
            for fn in ("binary_flat", "binary_flat_par"):
                (e,), (g,) = both(serial(fn), getattr(gpu_ew, fn), op, S(a), ao, sa, S(b), bo, sb,
                                  S(np.zeros(n, dt)), n, outs=[7])
                check(e, g, exact=name in ("floor_divide", "remainder", "maximum", "minimum", "fmod", "copysign"))


def test_binary_integer_signs_and_wide_values():
    """floor_divide/remainder follow the divisor's sign, fmod the dividend's, exactly, even past 2**53."""
    big = 2 ** 60 + 7
    a = np.array([7, -7, 7, -7, big, -big, 3, 0], np.int64)
    b = np.array([2, 2, -2, -2, 10, 10, 5, 4], np.int64)
    for dt in (np.int64, np.int32):
        x, y = (a, b) if dt == np.int64 else (a.astype(dt) % 97 - 40, b.astype(dt))
        out = cuda.to_device(np.zeros(8, dt))
        gpu_ew.binary_flat(opcodes.BINARY["fmod"], cuda.to_device(x), 0, 1, cuda.to_device(y), 0, 1, out, 8)
        check(np.fmod(x, y), out.copy_to_host(), exact=True)
    for name in ("floor_divide", "remainder", "pow", "mul"):
        bb = np.abs(b) % 4 if name == "pow" else b
        (e,), (g,) = both(cpu_ew.binary_flat, gpu_ew.binary_flat, opcodes.BINARY[name], S(a), 0, 1, S(bb), 0, 1,
                          S(np.zeros(8, np.int64)), 8, outs=[7])
        check(e, g, exact=True)


def test_binary_float_floor_and_nan_rules():
    a = np.array([7.5, -7.5, 7.5, -7.5, 1.0, -1.0, np.nan, 2.0, np.nan, 0.0], np.float64)
    b = np.array([2.0, 2.0, -2.0, -2.0, 0.0, 0.0, 1.0, np.nan, np.nan, -0.0], np.float64)
    for name in ("floor_divide", "remainder", "fmod", "maximum", "minimum", "copysign", "div", "pow"):
        (e,), (g,) = both(cpu_ew.binary_flat, gpu_ew.binary_flat, opcodes.BINARY[name], S(a), 0, 1, S(b), 0, 1,
                          S(np.zeros(10)), 10, outs=[7])
        check(e, g, exact=True)
        np.testing.assert_array_equal(np.signbit(g), np.signbit(e))


@pytest.mark.parametrize("dt", FLOATS + INTS)
def test_binary_nd_broadcast(dt):
    # a (3, 4) transposed view, b broadcast along dim 0 at an offset; then a 3-D pair with a stride-0 middle dim
    cases = [([3, 4], 0, [1, 3], 2, [0, 1]), ([2, 3, 2], 1, [6, 0, 1], 0, [1, 2, 6])]
    for name in (("add", "mul", "div", "maximum", "atan2", "remainder") if dt in FLOATS else INT_BINARY):
        a, b = binary_operands(dt, name, 12)
        for shape, ao, ast, bo, bst in cases:
            n = int(np.prod(shape))
            for fn in ("binary_nd", "binary_nd_par"):
                (e,), (g,) = both(serial(fn), getattr(gpu_ew, fn), opcodes.BINARY[name], S(a), ao,
                                  np.array(ast), S(b), bo, np.array(bst), S(np.zeros(n, dt)), np.array(shape),
                                  outs=[7])
                check(e, g)


@pytest.mark.parametrize("dt", FLOATS + INTS + (np.bool_,))
def test_compare_flat_and_nd(dt):
    n = 12
    if dt == np.bool_:
        a, b = flat_data(bools, n), flat_data(bools, n)
    elif dt in FLOATS:
        a, b = flat_data(lambda m: floats(dt, m), n), flat_data(lambda m: floats(dt, m), n)
        b[:6] = a[:6]  # equal pairs, NaN == NaN, inf == inf, -0.0 == 0.0
        b[3] = 0.0
    else:
        a, b = flat_data(lambda m: ints(dt, m, 0, 3), n), flat_data(lambda m: ints(dt, m, 0, 3), n)
    for name, op in opcodes.COMPARE.items():
        for (ao, sa), (bo, sb) in zip(FLAT_VIEWS, FLAT_VIEWS[::-1]):
            for fn in ("compare_flat", "compare_flat_par"):
                (e,), (g,) = both(serial(fn), getattr(gpu_ew, fn), op, S(a), ao, sa, S(b), bo, sb,
                                  S(np.zeros(n, np.bool_)), n, outs=[7])
                check(e, g)
        for fn in ("compare_nd", "compare_nd_par"):
            (e,), (g,) = both(serial(fn), getattr(gpu_ew, fn), op, S(a), 0, np.array([1, 3]), S(b), 4,
                              np.array([0, 1]), S(np.zeros(12, np.bool_)), np.array([4, 3]), outs=[7])
            check(e, g)


# ---------------------------------------------------------------------------------------------------------------
# where / copy
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dt", FLOATS + (np.int64, np.bool_))
def test_where_nd(dt):
    make = bools if dt == np.bool_ else (lambda m: floats(dt, m)) if dt in FLOATS else (lambda m: ints(dt, m))
    c, a, b = bools(30), make(30), make(30)
    # cond broadcast along rows, a transposed, b at an offset; then all contiguous in 1-D
    cases = [([4, 3], 2, [0, 1], 0, [1, 4], 5, [3, 1]), ([12], 0, [1], 3, [1], 0, [2])]
    for shape, co, cst, ao, ast, bo, bst in cases:
        n = int(np.prod(shape))
        for fn in ("where_nd", "where_nd_par"):
            (e,), (g,) = both(serial(fn), getattr(gpu_ew, fn), S(c), co, np.array(cst), S(a), ao,
                              np.array(ast), S(b), bo, np.array(bst), S(np.zeros(n, dt)), np.array(shape), outs=[9])
            check(e, g, exact=True)


CASTS = [(np.float64, np.float32), (np.float32, np.float64), (np.float32, np.int64), (np.int64, np.float64),
         (np.int64, np.int32), (np.bool_, np.float32), (np.bool_, np.int64), (np.int64, np.bool_),
         (np.uint8, np.int64), (np.float64, np.float64), (np.bool_, np.bool_)]


def cast_source(src_dt, n):
    if src_dt == np.bool_:
        return bools(n)
    if src_dt in FLOATS:
        return (RNG.standard_normal(n) * 50).astype(src_dt)  # finite and in range of every integer target
    return ints(src_dt, n)


@pytest.mark.parametrize("src_dt,dst_dt", CASTS)
def test_copy_flat_casts_into_strided_views(src_dt, dst_dt):
    n = 7
    src = cast_source(src_dt, 30)
    dst = cast_source(dst_dt, 40)  # untouched elements must survive
    for (so, ss), (do, ds) in [((0, 1), (0, 1)), ((3, 2), (1, 3)), ((4, 0), (2, 1)), ((1, 3), (5, 2))]:
        for fn in ("copy_flat", "copy_flat_par"):
            (e,), (g,) = both(serial(fn), getattr(gpu_ew, fn), S(src), so, ss, S(dst), do, ds, n, outs=[3])
            check(e, g, exact=True)


@pytest.mark.parametrize("src_dt,dst_dt", CASTS[:6])
def test_copy_nd(src_dt, dst_dt):
    src = cast_source(src_dt, 30)
    dst = cast_source(dst_dt, 40)
    # transposed source into a contiguous block; broadcast source into a strided destination (every other column)
    cases = [(0, [1, 4], 2, [3, 1], [4, 3]), (1, [0, 1, 0], 3, [12, 2, 6], [2, 3, 2])]
    for so, sst, do, dst_st, shape in cases:
        for fn in ("copy_nd", "copy_nd_par"):
            (e,), (g,) = both(serial(fn), getattr(gpu_ew, fn), S(src), so, np.array(sst), S(dst), do,
                              np.array(dst_st), np.array(shape), outs=[3])
            check(e, g, exact=True)


def test_empty_sizes_launch_nothing():
    a = cuda.to_device(np.ones(4, np.float32))
    out = cuda.to_device(np.full(4, 7.0, np.float32))
    gpu_ew.unary_flat(0, a, 0, 1, out, 0)
    gpu_ew.copy_flat(a, 0, 1, out, 0, 1, 0)
    gpu_ew.copy_nd(a, 0, np.array([1, 1]), out, 0, np.array([1, 1]), np.array([0, 4]))
    gpu_ew.binary_flat(0, a, 0, 1, a, 0, 1, out, 0)
    gpu_red.reduce_inner(0, a, 0, 0, 1, 0, 0, 4, 1, out)
    np.testing.assert_array_equal(out.copy_to_host(), np.full(4, 7.0, np.float32))


# ---------------------------------------------------------------------------------------------------------------
# reductions
# ---------------------------------------------------------------------------------------------------------------
def reduce_input(dt, name, n):
    if dt == np.bool_:
        a = bools(n)
        if name == "all":
            a[::4] = True
            a[1::5] = True
        return a
    if dt in FLOATS:
        if name == "prod":
            return (1 + RNG.standard_normal(n) * 0.05).astype(dt)
        return (RNG.standard_normal(n) * 10).astype(dt)
    if name == "prod":
        return RNG.choice(np.array([-1, 1, 1, 2], dtype=dt) if dt != np.uint8 else np.array([1, 1, 2], dt), n)
    return ints(dt, n, -50, 50)


REDUCE_CASES = {
    "sum": FLOATS + (np.int64,), "prod": FLOATS + (np.int64,), "amax": FLOATS + INTS + (np.bool_,),
    "amin": FLOATS + INTS + (np.bool_,), "all": (np.bool_,), "any": (np.bool_,),
}
# (O, R, I): R from 1 (one element) over 2..4 (thread per output) to several block tiles; I = 5 fills column tiles
SHAPES = [(3, 1, 1), (2, 3, 2), (4, 5, 1), (2, 6 * THREADS + 3, 1), (1, 2 * THREADS + 1, 3), (3, 17, 5)]
FEW_SHAPES = [SHAPES[1], SHAPES[3], SHAPES[5]]  # the simulator is slow: fewer launches for the non-float dtypes


def forms(R, I, all_forms):
    """(so, sr, si) for a row-major (O, R, I) block and, with ``all_forms``, for an (O, I, R) one (r innermost)."""
    if I == 1:
        return [(R, 1, 0)]
    return [(R * I, I, 1), (R * I, 1, R)] if all_forms else [(R * I, I, 1)]


@pytest.mark.parametrize("name", list(REDUCE_CASES))
def test_reduce_inner_and_outer(name):
    op = opcodes.REDUCE[name]
    for dt in REDUCE_CASES[name]:
        wide = dt in FLOATS or dt == np.bool_
        for O, R, I in (SHAPES if wide else FEW_SHAPES):
            ao = 2
            a = reduce_input(dt, name, ao + O * R * I + 3)
            if dt in FLOATS and name in ("amax", "amin") and R > 2:
                a[ao + R // 2] = np.nan  # propagates from the middle of the first row
            for so, sr, si in forms(R, I, wide):
                for fn in ("reduce_inner", "reduce_outer"):
                    (e,), (g,) = both(getattr(cpu_red, fn), getattr(gpu_red, fn), op, S(a), ao, so, sr, si, O, R,
                                      I, S(np.zeros(O * I, dt)), outs=[9])
                    check(e, g)


def test_par_variants_take_and_ignore_their_extra_argument():
    O, R, I = 2, 2 * THREADS + 3, 5
    a = reduce_input(np.float64, "sum", O * R * I)
    args = (0, R * I, I, 1, O, R, I)
    for fn, extra in (("reduce_inner_par", 3), ("reduce_outer_par", 16)):
        (e,), (g,) = both(getattr(cpu_red, fn), getattr(gpu_red, fn), 0, S(a), *args, S(np.zeros(O * I)), extra,
                          outs=[9])
        check(e, g)
    (v, k), (gv, gk) = both(cpu_red.argreduce_par, gpu_red.argreduce_par, 0, S(a), *args, S(np.zeros(O * I)),
                            S(np.zeros(O * I, np.int64)), outs=[9, 10])
    check(v, gv, exact=True)
    check(k, gk, exact=True)


def test_reduce_broadcast_rows_and_wide_outer():
    """A stride-0 reduced dim (an expanded tensor) and an outer reduction wide enough for several column tiles."""
    O, R, I = 2, 9, 4 * THREADS + 1
    a = RNG.standard_normal(3 + O * R * I)
    for op in (0, 2, 3):
        (e,), (g,) = both(cpu_red.reduce_inner, gpu_red.reduce_inner, op, S(a), 1, 1, 0, 0, 5, 3 * THREADS, 1,
                          S(np.zeros(5)), outs=[9])
        check(e, g)
        for r in (1, 3, R):  # fewer reduced rows than the tile has y threads, then more
            (e,), (g,) = both(cpu_red.reduce_outer, gpu_red.reduce_outer, op, S(a), 3, r * I, I, 1, O, r, I,
                              S(np.zeros(O * I)), outs=[9])
            check(e, g)


def test_reduce_integer_sums_are_exact():
    a = RNG.integers(-(2 ** 40), 2 ** 40, 100).astype(np.int64)
    (e,), (g,) = both(cpu_red.reduce_inner, gpu_red.reduce_inner, 0, S(a), 0, 0, 1, 0, 1, 100, 1,
                      S(np.zeros(1, np.int64)), outs=[9])
    check(e, g, exact=True)


def test_long_reductions_over_few_outputs_run_in_two_stages():
    """Few outputs over a long r: chunk partials, then a second reduction over them (the chunk bounds fall at
    uneven places, a NaN sits in a late chunk, and ties span chunks)."""
    R = 301
    assert gpu_red._split(1, R, gpu_red.SPLIT_ROW)[1] > 1 and gpu_red._split(2, R, gpu_red.SPLIT_COL)[1] > 1
    a = RNG.integers(-3, 4, 2 * R * 5 + 1).astype(np.float64)
    a[R - 7] = np.nan
    for op in (0, 2, 3):
        (e,), (g,) = both(cpu_red.reduce_inner, gpu_red.reduce_inner, op, S(a), 1, R, 1, 0, 2, R, 1,
                          S(np.zeros(2)), outs=[9])
        check(e, g)
        (e,), (g,) = both(cpu_red.reduce_outer, gpu_red.reduce_outer, op, S(a), 1, R * 5, 5, 1, 2, R, 5,
                          S(np.zeros(10)), outs=[9])
        check(e, g)
    for arr in (a, np.nan_to_num(a)):
        for op in (0, 1):
            (v, k), (gv, gk) = both(cpu_red.argreduce, gpu_red.argreduce, op, S(arr), 1, R, 1, 0, 2, R, 1,
                                    S(np.zeros(2)), S(np.zeros(2, np.int64)), outs=[9, 10])
            check(v, gv, exact=True)
            check(k, gk, exact=True)


def argreduce_input(dt, n):
    if dt == np.bool_:
        return bools(n)
    if dt in FLOATS:
        return RNG.integers(-3, 4, n).astype(dt)  # many ties
    return ints(dt, n, -3, 4)


@pytest.mark.parametrize("dt", FLOATS + (np.int64, np.int32, np.uint8, np.bool_))
def test_argreduce(dt):
    for O, R, I in (SHAPES if dt in FLOATS else FEW_SHAPES):
        ao = 1
        a = argreduce_input(dt, ao + O * R * I + 2)
        variants = [a]
        if dt in FLOATS and R > 2:
            b = a.copy()
            b[ao + R - 1] = np.nan  # NaN last in row 0: it wins over the max
            b[ao + R + 1:ao + O * R * I:3] = np.nan  # several NaNs: the first one wins
            variants.append(b)
        for arr in variants:
            for op in (0, 1):
                for so, sr, si in forms(R, I, dt in FLOATS):
                    (v, k), (gv, gk) = both(cpu_red.argreduce, gpu_red.argreduce, op, S(arr), ao, so, sr, si, O, R,
                                            I, S(np.zeros(O * I, dt)), S(np.zeros(O * I, np.int64)), outs=[9, 10])
                    check(v, gv, exact=True)
                    check(k, gk, exact=True)


def test_argmax_signed_zero_ties_take_the_first():
    a = np.array([0.0, -0.0, 0.0, -1.0] * THREADS, np.float64)
    a[0] = -0.0
    for op in (0, 1):
        (v, k), (gv, gk) = both(cpu_red.argreduce, gpu_red.argreduce, op, S(a), 0, 0, 1, 0, 1, a.size, 1,
                                S(np.zeros(1)), S(np.zeros(1, np.int64)), outs=[9, 10])
        check(k, gk, exact=True)
        np.testing.assert_array_equal(np.signbit(gv), np.signbit(v))


@pytest.mark.parametrize("dt", FLOATS + (np.int64,))
def test_scan(dt):
    assert gpu_red._split(2, 9 * THREADS + 5, gpu_red.SPLIT_ROW)[1] > 1
    for name, op in opcodes.SCAN.items():
        # (2, 9*THREADS + 5, 1) is long enough over few outputs for the three-stage scan
        for O, R, I in [(3, 1, 1), (2, 3, 2), (1, 3 * THREADS, 1), (3, 17, 5), (2, 9 * THREADS + 5, 1)]:
            a = reduce_input(dt, "prod" if name == "cumprod" else "sum", O * R * I + 2)
            # the launcher passes a contiguous (O, R, I) input: so = R*I, sr = I, si = 1
            (e,), (g,) = both(cpu_red.scan, gpu_red.scan, op, S(a), 2, R * I, I, 1, O, R, I,
                              S(np.zeros(O * R * I, dt)), outs=[9])
            check(e, g)
