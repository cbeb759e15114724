"""Large flat binary outputs are written with non-temporal stores (kernels/cpu/elementwise.py, STREAM_BYTES): the
streamed kernel must give the same numbers as NumPy whatever the output's alignment, and must really stream."""
import platform

import numpy as np
import pytest
from numba import njit

import minitorch
from minitorch.kernels.cpu import elementwise as E
from minitorch.kernels.opcodes import BINARY

_NUMPY = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "maximum": np.maximum, "minimum": np.minimum,
          "rsub": lambda x, y: y - x, "copysign": np.copysign, "div": np.divide}


def _operands(dtype, n, rng):
    if np.dtype(dtype).kind == "f":
        x, y = rng.standard_normal(n + 8).astype(dtype), rng.standard_normal(n + 8).astype(dtype)
        x[5], y[6] = np.nan, np.nan  # maximum/minimum keep NaN
        x[7] = -0.0
    else:
        x, y = (rng.integers(-1000, 1000, n + 8).astype(dtype) for _ in range(2))
    return x, y


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32])
@pytest.mark.parametrize("shift", [0, 1, 3])
def test_streamed_binary_matches_numpy_at_every_alignment(dtype, shift):
    rng = np.random.default_rng(shift)
    size = np.dtype(dtype).itemsize
    n = E.STREAM_BYTES // size + 77  # a tail after the last whole block
    x, y = _operands(dtype, n, rng)
    store = np.full(n + 16, 7, dtype)
    out = store[shift:shift + n]  # the head before the first 32-byte boundary differs with the shift
    names = ["add", "sub", "mul", "maximum", "minimum", "rsub"] + (["copysign"] if dtype != np.int32 else [])
    for name in names:
        E.binary_flat_stream_par(BINARY[name], x, 1, 1, y, 2, 1, out, n)
        want = _NUMPY[name](x[1:n + 1], y[2:n + 2])
        np.testing.assert_array_equal(out, want, err_msg=name)
    assert (store[:shift] == 7).all() and (store[shift + n:] == 7).all()  # nothing written outside the output


def test_streamed_binary_with_a_broadcast_operand():
    rng = np.random.default_rng(1)
    n = E.STREAM_BYTES // 4 + 5
    x = rng.standard_normal(n).astype(np.float32)
    y = np.array([1.5], np.float32)
    out = np.empty(n, np.float32)
    E.binary_flat_stream_par(BINARY["mul"], x, 0, 1, y, 0, 0, out, n)
    np.testing.assert_array_equal(out, x * np.float32(1.5))
    E.binary_flat_stream_par(BINARY["rsub"], x, 0, 1, y, 0, 0, out, n)
    np.testing.assert_array_equal(out, np.float32(1.5) - x)


def test_misaligned_output_is_written_without_streaming():
    n = E.STREAM_BYTES // 4 + 3
    rng = np.random.default_rng(2)
    x, y = (rng.standard_normal(n).astype(np.float32) for _ in range(2))
    raw = np.zeros(4 * n + 1, np.uint8)
    out = raw[1:].view(np.float32)  # no element on a 4-byte boundary: nothing can stream
    assert out.ctypes.data % 4 == 1
    E.binary_flat_stream_par(BINARY["add"], x, 0, 1, y, 0, 1, out, n)
    np.testing.assert_array_equal(out, x + y)


def test_the_launcher_streams_only_large_outputs_of_cheap_ops(monkeypatch):
    calls = []
    real = E.binary_flat_stream_par
    monkeypatch.setattr(E, "binary_flat_stream_par", lambda *a: calls.append(a[0]) or real(*a))
    n = E.STREAM_BYTES // 4
    X, Y = minitorch.ones(n), minitorch.full((n,), 2.0)
    np.testing.assert_array_equal((X * Y)[-3:].numpy(), [2.0, 2.0, 2.0])
    assert calls == [BINARY["mul"]]
    (X / Y, X[1:] * Y[1:])  # div computes more than it moves; one element short of the bound
    assert calls == [BINARY["mul"]]
    assert {BINARY[k] for k in ("add", "sub", "mul", "maximum", "minimum", "rsub", "copysign")} == E.STREAMED


def test_ops_on_large_tensors_match_numpy():
    rng = np.random.default_rng(3)
    n = E.STREAM_BYTES // 4 + 11
    x, y, z = (rng.standard_normal(n).astype(np.float32) for _ in range(3))
    X, Y, Z = (minitorch.from_numpy(v) for v in (x, y, z))
    np.testing.assert_array_equal((X * Y + Z).numpy(), x * y + z)
    np.testing.assert_array_equal((X[3:] - Y[:-3]).numpy(), x[3:] - y[:-3])
    np.testing.assert_array_equal(minitorch.maximum(X, Y).numpy(), np.maximum(x, y))


@pytest.mark.skipif(platform.machine().lower() not in ("x86_64", "amd64"), reason="x86 instruction names")
def test_blocks_are_written_with_non_temporal_stores():
    @njit
    def copy_block(buf, out, io):
        E._stream_block(buf, out, io)
        E._store_fence()

    out = np.zeros(64, np.float32)
    buf = np.arange(16, dtype=np.float32)
    io = (-out.ctypes.data) % 32 // 4 + 8  # an element on a 32-byte boundary
    copy_block(buf, out, io)
    np.testing.assert_array_equal(out[io:io + 16], buf)
    assert (out[:io] == 0).all() and (out[io + 16:] == 0).all()
    asm = "".join(copy_block.inspect_asm().values())
    assert "movnt" in asm
