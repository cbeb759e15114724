"""Convolution and pooling against PyTorch (forward and gradients of input, weight and bias), gradcheck in
float64, modules, and the user errors."""
import numpy as np
import pytest

import minitorch
import minitorch.nn as nn
import minitorch.nn.functional as F
from minitorch.autograd import gradcheck

RNG = np.random.default_rng(7)


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def arr(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


CONV_CASES = [
    # N, C, H, W, O, k, stride, padding, dilation, groups, bias
    (2, 1, 8, 8, 4, 3, 1, 1, 1, 1, True),
    (2, 4, 9, 7, 6, 3, 2, 1, 1, 2, True),
    (1, 3, 10, 10, 3, 3, 1, 2, 2, 3, False),  # depthwise, dilated
    (3, 2, 5, 6, 4, (2, 3), (1, 2), (0, 1), 1, 1, True),
    (2, 3, 7, 7, 5, 1, 1, 0, 1, 1, True),
    (2, 2, 6, 6, 2, 3, 1, "same", 1, 1, True),
    (2, 2, 6, 6, 2, 4, 1, "same", 1, 1, False),  # even kernel: uneven 'same' padding
    (2, 2, 6, 5, 2, 3, 1, "valid", 1, 1, True),
    (7, 4, 5, 5, 6, 3, 1, 1, 1, 2, True),  # batch split unevenly over the threads
]


@pytest.mark.torch
@pytest.mark.parametrize("case", CONV_CASES)
def test_conv2d_matches_torch(case, torch):
    N, C, H, W, O, k, s, p, d, g, bias = case
    kh, kw = (k, k) if isinstance(k, int) else k
    x, w, b = arr(N, C, H, W), arr(O, C // g, kh, kw), arr(O)
    tx, tw, tb = (torch.tensor(v, requires_grad=True) for v in (x, w, b))
    mx, mw, mb = (minitorch.tensor(v, requires_grad=True) for v in (x, w, b))
    ty = torch.nn.functional.conv2d(tx, tw, tb if bias else None, s, p, d, g)
    my = F.conv2d(mx, mw, mb if bias else None, s, p, d, g)
    assert tuple(my.shape) == tuple(ty.shape)
    np.testing.assert_allclose(my.detach().numpy(), ty.detach().numpy(), rtol=1e-4, atol=1e-4)
    gy = arr(*ty.shape)
    (ty * torch.tensor(gy)).sum().backward()
    (my * minitorch.tensor(gy)).sum().backward()
    np.testing.assert_allclose(mx.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(mw.grad.numpy(), tw.grad.numpy(), rtol=1e-4, atol=1e-4)
    if bias:
        np.testing.assert_allclose(mb.grad.numpy(), tb.grad.numpy(), rtol=1e-4, atol=1e-4)


# stride 1 with the output as wide as the input: im2col/col2im copy whole shifted runs (kernels/cpu/conv.py
# _im2col_runs) and zero what fell in the padding; images narrower than the kernel's reach, width-only dilation,
# rows without any valid input, and batches small enough (one image per thread) and large enough (chunks of images
# side by side in one GEMM) for both layouts of the column buffer
RUN_CASES = [
    # N, C, H, W, O, (kh, kw), (ph, pw), (dh, dw)
    (2, 3, 7, 7, 4, (3, 3), (1, 1), (1, 1)),
    (9, 2, 5, 4, 3, (5, 5), (2, 2), (1, 1)),
    (3, 2, 2, 1, 3, (5, 5), (2, 2), (1, 1)),   # kernel reaches past every side
    (2, 2, 6, 5, 2, (3, 3), (1, 2), (1, 2)),   # width dilated: shifts of -2, 0, 2
    (2, 2, 3, 4, 2, (7, 1), (3, 0), (1, 1)),   # tall kernel: some kernel rows see no input row
    (5, 1, 4, 6, 2, (1, 3), (0, 1), (1, 1)),
    (2, 2, 8, 8, 3, (3, 3), (2, 1), (1, 1)),   # taller output than input, same width
]


@pytest.mark.torch
@pytest.mark.parametrize("case", RUN_CASES)
def test_conv2d_same_width_runs(case, torch):
    N, C, H, W, O, k, p, d = case
    x, w, b = (RNG.standard_normal(s) for s in ((N, C, H, W), (O, C) + k, (O,)))
    tx, tw, tb = (torch.tensor(v, requires_grad=True) for v in (x, w, b))
    mx, mw, mb = (minitorch.tensor(v, requires_grad=True) for v in (x, w, b))
    ty = torch.nn.functional.conv2d(tx, tw, tb, 1, p, d)
    my = F.conv2d(mx, mw, mb, 1, p, d)
    assert my.shape[-1] == W
    np.testing.assert_allclose(my.detach().numpy(), ty.detach().numpy(), rtol=1e-10, atol=1e-10)
    gy = RNG.standard_normal(tuple(ty.shape))
    ty.backward(torch.tensor(gy))
    my.backward(minitorch.tensor(gy))
    for m, t in ((mx, tx), (mw, tw), (mb, tb)):
        np.testing.assert_allclose(m.grad.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-10)


def _conv2d_numpy(x, w, b, stride, padding, dilation, groups):
    """Direct-loop reference: out[n, o, i, j] = b[o] + sum over the window of the padded input."""
    N, C, H, W = x.shape
    O, Cg, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    OH = (H + 2 * padding - dilation * (kh - 1) - 1) // stride + 1
    OW = (W + 2 * padding - dilation * (kw - 1) - 1) // stride + 1
    out = np.zeros((N, O, OH, OW))
    Og = O // groups
    for o in range(O):
        g = o // Og
        for i in range(OH):
            for j in range(OW):
                win = xp[:, g * Cg:(g + 1) * Cg, i * stride:i * stride + dilation * (kh - 1) + 1:dilation,
                         j * stride:j * stride + dilation * (kw - 1) + 1:dilation]
                out[:, o, i, j] = (win * w[o]).sum(axis=(1, 2, 3)) + (b[o] if b is not None else 0)
    return out


# 3x3 stride-1 convolutions with at least 16 input and 16 output channels and 512 channel pairs run as Winograd
# F(2x2, 3x3) on the CPU
# (kernels/cpu/conv.py): odd output sizes (tiles past the edge), padding 0-2, a 1x1 image, a batch that is not a
# whole number of the kernel's image chunks, one big image per chunk, float64
WINOGRAD_CASES = [
    # N, C, H, W, O, padding, dtype
    (2, 16, 5, 5, 32, 1, np.float32),
    (3, 16, 6, 7, 33, 0, np.float32),
    (1, 20, 1, 1, 32, 1, np.float32),
    (13, 16, 7, 7, 40, 1, np.float32),
    (2, 16, 9, 4, 32, 2, np.float32),
    (1, 16, 30, 29, 32, 1, np.float32),
    (2, 16, 8, 6, 32, 1, np.float32),  # even width: the tile rows' last input column is inside the image
    (3, 32, 6, 8, 16, 1, np.float64),
]


def conv_kernels():
    from minitorch.kernels.cpu import conv
    return conv


@pytest.mark.torch
@pytest.mark.parametrize("case", WINOGRAD_CASES)
def test_conv2d_winograd_matches_torch(case, torch):
    N, C, H, W, O, p, dt = case
    x = RNG.standard_normal((N, C, H, W)).astype(dt)
    w = RNG.standard_normal((O, C, 3, 3)).astype(dt)
    b = RNG.standard_normal(O).astype(dt)
    assert conv_kernels()._winograd_plan_for(x, w.reshape(1, O, C * 9), 3, 3, 1, 1, p, p, 1, 1, H + 2 * p - 2,
                                             W + 2 * p - 2, 2) is not None
    tx, tw, tb = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (x, w, b))
    mx, mw, mb = (minitorch.tensor(v, requires_grad=True) for v in (x, w, b))
    ty = torch.nn.functional.conv2d(tx, tw, tb, padding=p)
    got = F.conv2d(mx, mw, mb, padding=p)
    ref = ty.detach().numpy()
    assert got.dtype == (minitorch.float64 if dt == np.float64 else minitorch.float32)
    tol = 1e-12 if dt == np.float64 else 1e-6

    def close(a, r):  # to the precision's rounding, relative to the largest value
        np.testing.assert_allclose(a, r, rtol=0, atol=tol * 10 * np.abs(r).max())
    close(got.detach().numpy(), ref)
    gy = RNG.standard_normal(ref.shape).astype(dt)
    (ty * torch.tensor(gy, dtype=torch.float64)).sum().backward()
    (got * minitorch.tensor(gy)).sum().backward()
    close(mx.grad.numpy(), tx.grad.numpy())
    close(mw.grad.numpy(), tw.grad.numpy())
    close(mb.grad.numpy(), tb.grad.numpy())
    # the fused conv2d -> relu of minitorch.compile
    from minitorch.ops.conv import _conv2d_relu
    fused = _conv2d_relu(minitorch.tensor(x), minitorch.tensor(w), minitorch.tensor(b), (1, 1), (p, p), (1, 1), 1)
    np.testing.assert_allclose(fused.numpy(), np.maximum(ref, 0), rtol=0, atol=tol * 10 * np.abs(ref).max())


def test_conv2d_winograd_is_only_taken_where_it_applies():
    conv = conv_kernels()
    x = np.zeros((2, 16, 8, 8), np.float32)
    w = np.zeros((1, 32, 16 * 9), np.float32)
    assert conv._winograd_plan_for(x, w, 3, 3, 1, 1, 1, 1, 1, 1, 8, 8, 2) is not None
    assert conv._winograd_plan_for(x, w[:, :16], 3, 3, 1, 1, 1, 1, 1, 1, 8, 8, 2) is None  # 16 x 16 channel pairs
    assert conv._winograd_plan_for(x, w, 3, 3, 2, 2, 1, 1, 1, 1, 4, 4, 2) is None  # stride 2
    assert conv._winograd_plan_for(x, w, 3, 3, 1, 1, 2, 2, 2, 2, 8, 8, 2) is None  # dilation 2
    assert conv._winograd_plan_for(x, np.zeros((2, 8, 8 * 9), np.float32), 3, 3, 1, 1, 1, 1, 1, 1, 8, 8, 2) is None
    assert conv._winograd_plan_for(x[:, :8], np.zeros((1, 64, 8 * 9), np.float32), 3, 3, 1, 1, 1, 1, 1, 1, 8,
                                   8, 2) is None  # 8 input channels
    assert conv._winograd_plan_for(x.astype(np.int32), w.astype(np.int32), 3, 3, 1, 1, 1, 1, 1, 1, 8, 8, 2) is None
    big = np.zeros((1, 16, 40, 40), np.float32)  # 400 tiles per image: im2col
    assert conv._winograd_plan_for(big, w, 3, 3, 1, 1, 1, 1, 1, 1, 40, 40, 2) is None


@pytest.mark.torch
@pytest.mark.parametrize("needs", [(True, False), (False, True)])
def test_conv2d_winograd_partial_grads_match_torch(needs, torch):
    x, w, b = arr(3, 16, 8, 6), arr(32, 16, 3, 3), arr(32)
    tx, tw = (torch.tensor(v, requires_grad=r) for v, r in zip((x, w), needs))
    mx, mw = (minitorch.tensor(v, requires_grad=r) for v, r in zip((x, w), needs))
    gy = arr(3, 32, 8, 6)
    (torch.nn.functional.conv2d(tx, tw, torch.tensor(b), padding=1) * torch.tensor(gy)).sum().backward()
    (F.conv2d(mx, mw, minitorch.tensor(b), padding=1) * minitorch.tensor(gy)).sum().backward()
    for m_, t_ in ((mx, tx), (mw, tw)):
        assert (m_.grad is None) == (t_.grad is None)
        if t_.grad is not None:
            np.testing.assert_allclose(m_.grad.numpy(), t_.grad.numpy(), rtol=1e-4, atol=1e-4)


def _winograd_grads(x, w, b, gy, before_backward=None, retain=False):
    """Input and weight gradients of F.conv2d(x, w, b, padding=1) against gy, the graph node's kept input transform
    (minitorch.ops.conv.Conv2d.kept) before the backward, and the output."""
    mx, mw = minitorch.tensor(x, requires_grad=True), minitorch.tensor(w, requires_grad=True)
    y = F.conv2d(mx, mw, minitorch.tensor(b), padding=1)
    kept = y.grad_fn.kept
    if before_backward is not None:
        before_backward()
    y.backward(minitorch.tensor(gy), retain_graph=retain)
    return mx, mw, kept, y


@pytest.mark.torch
def test_conv2d_winograd_keeps_its_input_transform_for_the_weight_gradient(torch):
    """The forward keeps the transformed input when the weight needs a gradient and the backward uses it (a
    retained graph uses it twice); the graph's release frees it; 13 images are several chunks per thread."""
    x, w, b, gy = arr(13, 16, 7, 7), arr(32, 16, 3, 3), arr(32), arr(13, 32, 7, 7)
    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    torch.nn.functional.conv2d(tx, tw, torch.tensor(b), padding=1).backward(torch.tensor(gy))
    mx, mw, kept, y = _winograd_grads(x, w, b, gy, retain=True)
    assert kept is not None and kept[1].size >= 16 * 16 * 13 * 16  # 16 planes of (channels, 16 tiles per image)
    gx, gw = mx.grad.numpy().copy(), mw.grad.numpy().copy()
    np.testing.assert_allclose(gx, tx.grad.numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(gw, tw.grad.numpy(), rtol=1e-4, atol=1e-4)
    # the kept transform is what the weight gradient reads: spoil it and that gradient changes, the input's not
    kept[1][:] = 0
    mx.grad = mw.grad = None
    y.backward(minitorch.tensor(gy))
    assert not np.allclose(mw.grad.numpy(), gw, atol=1e-2)
    np.testing.assert_allclose(mx.grad.numpy(), gx, rtol=1e-5, atol=1e-5)
    assert y.grad_fn.kept is None  # released with the graph's saved tensors


@pytest.mark.torch
@pytest.mark.parametrize("case", ["no weight grad", "over the size limit", "threads changed", "saved tensor hooks"])
def test_conv2d_winograd_recomputes_what_it_did_not_keep(case, torch, monkeypatch):
    x, w, b, gy = arr(4, 16, 6, 6), arr(32, 16, 3, 3), arr(32), arr(4, 32, 6, 6)
    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    torch.nn.functional.conv2d(tx, tw, torch.tensor(b), padding=1).backward(torch.tensor(gy))
    if case == "no weight grad":
        mx = minitorch.tensor(x, requires_grad=True)
        y = F.conv2d(mx, minitorch.tensor(w), minitorch.tensor(b), padding=1)
        assert y.grad_fn.kept is None
        y.backward(minitorch.tensor(gy))
        np.testing.assert_allclose(mx.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-4)
        return
    before, expect_kept, n = None, False, minitorch.get_num_threads()
    if case == "over the size limit":
        monkeypatch.setattr(conv_kernels(), "WINOGRAD_KEEP_BYTES", 1024)
    elif case == "threads changed":  # kept in 2 threads' chunks, the backward runs on 1: laid out differently
        if n < 2:
            pytest.skip("needs 2 threads")
        before, expect_kept = (lambda: minitorch.set_num_threads(1)), True
    try:
        if case == "saved tensor hooks":
            with minitorch.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
                mx, mw, kept, _ = _winograd_grads(x, w, b, gy)
        else:
            mx, mw, kept, _ = _winograd_grads(x, w, b, gy, before)
    finally:
        minitorch.set_num_threads(n)
    assert (kept is not None) == expect_kept
    np.testing.assert_allclose(mx.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(mw.grad.numpy(), tw.grad.numpy(), rtol=1e-4, atol=1e-4)


@pytest.mark.torch
@pytest.mark.parametrize("where", ["grad", "weight"])
def test_conv2d_winograd_backward_non_finite_matches_torch(where, torch):
    """An infinite output gradient or weight: the gradients are computed directly (see the forward's test)."""
    x, w, b, gy = arr(2, 16, 6, 6), arr(32, 16, 3, 3), arr(32), arr(2, 32, 6, 6)
    if where == "grad":
        gy[1, 2, 3, 3] = np.inf
    else:
        w[4, 5, 1, 1] = -np.inf
    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    mx, mw = minitorch.tensor(x, requires_grad=True), minitorch.tensor(w, requires_grad=True)
    torch.nn.functional.conv2d(tx, tw, torch.tensor(b), padding=1).backward(torch.tensor(gy))
    F.conv2d(mx, mw, minitorch.tensor(b), padding=1).backward(minitorch.tensor(gy))
    for m_, t_ in ((mx.grad.numpy(), tx.grad.numpy()), (mw.grad.numpy(), tw.grad.numpy())):
        np.testing.assert_array_equal(np.isnan(m_), np.isnan(t_))
        np.testing.assert_array_equal(np.isposinf(m_), np.isposinf(t_))
        np.testing.assert_array_equal(np.isneginf(m_), np.isneginf(t_))
        fin = np.isfinite(t_)
        np.testing.assert_allclose(m_[fin], t_[fin], rtol=1e-4, atol=1e-4)
    assert not np.isfinite(tx.grad.numpy()).all()


@pytest.mark.torch
@pytest.mark.parametrize("val", [np.inf, -np.inf, np.nan])
def test_conv2d_winograd_non_finite_inputs_match_torch(val, torch):
    """The transforms would turn an infinite input into NaN where the direct sum gives an infinity: such calls are
    computed directly, so NaN and infinities land where PyTorch puts them."""
    x, w, b = arr(2, 16, 6, 6), arr(32, 16, 3, 3), arr(32)
    x[1, 3, 2, 4] = val
    ref = torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), torch.tensor(b), padding=1).numpy()
    got = F.conv2d(minitorch.tensor(x), minitorch.tensor(w), minitorch.tensor(b), padding=1).numpy()
    np.testing.assert_array_equal(np.isnan(got), np.isnan(ref))
    np.testing.assert_array_equal(np.isposinf(got), np.isposinf(ref))
    np.testing.assert_array_equal(np.isneginf(got), np.isneginf(ref))
    assert np.isinf(ref).any() or val != val
    fin = np.isfinite(ref)
    np.testing.assert_allclose(got[fin], ref[fin], rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("case", [(5, 4, 7, 6, 6, 3, 1, 1, 1, 2), (3, 3, 9, 8, 2, 2, 2, 0, 2, 1),
                                  (2, 4, 6, 6, 4, 3, 1, 1, 1, 4)])
def test_conv2d_forward_matches_numpy_reference(case):
    N, C, H, W, O, k, s, p, d, g = case
    x, w, b = arr(N, C, H, W), arr(O, C // g, k, k), arr(O)
    ref = _conv2d_numpy(x.astype(np.float64), w.astype(np.float64), b, s, p, d, g)
    out = F.conv2d(minitorch.tensor(x), minitorch.tensor(w), minitorch.tensor(b), s, p, d, g)
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-4, atol=1e-4)


@pytest.mark.torch
@pytest.mark.parametrize("needs", [(False, True, False), (True, False, True), (False, False, True)])
def test_conv2d_partial_grads_match_torch(needs, torch):
    x, w, b = arr(3, 4, 6, 6), arr(4, 2, 3, 3), arr(4)
    tt = [torch.tensor(v, requires_grad=r) for v, r in zip((x, w, b), needs)]
    mm = [minitorch.tensor(v, requires_grad=r) for v, r in zip((x, w, b), needs)]
    gy = arr(3, 4, 6, 6)
    (torch.nn.functional.conv2d(*tt, padding=1, groups=2) * torch.tensor(gy)).sum().backward()
    (F.conv2d(*mm, padding=1, groups=2) * minitorch.tensor(gy)).sum().backward()
    for t, m, r in zip(tt, mm, needs):
        assert (m.grad is None) == (not r)
        if r:
            np.testing.assert_allclose(m.grad.numpy(), t.grad.numpy(), rtol=1e-4, atol=1e-4)


@pytest.mark.torch
def test_conv2d_integer_matches_torch(torch):
    x = RNG.integers(-5, 5, (3, 2, 6, 5))
    w = RNG.integers(-3, 3, (4, 2, 3, 2))
    b = RNG.integers(-3, 3, 4)
    ty = torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), torch.tensor(b), 1, 1)
    my = F.conv2d(minitorch.tensor(x), minitorch.tensor(w), minitorch.tensor(b), 1, 1)
    assert my.dtype is minitorch.int64
    np.testing.assert_array_equal(my.numpy(), ty.numpy())


@pytest.mark.torch
def test_conv1d_and_unbatched_match_torch(torch):
    x, w, b = arr(2, 3, 11), arr(4, 3, 3), arr(4)
    ty = torch.nn.functional.conv1d(torch.tensor(x), torch.tensor(w), torch.tensor(b), 2, 1)
    my = F.conv1d(minitorch.tensor(x), minitorch.tensor(w), minitorch.tensor(b), 2, 1)
    np.testing.assert_allclose(my.numpy(), ty.numpy(), rtol=1e-4, atol=1e-5)
    x3 = arr(3, 6, 6)
    w3 = arr(2, 3, 3, 3)
    ty = torch.nn.functional.conv2d(torch.tensor(x3), torch.tensor(w3), padding=1)
    my = F.conv2d(minitorch.tensor(x3), minitorch.tensor(w3), padding=1)
    np.testing.assert_allclose(my.numpy(), ty.numpy(), rtol=1e-4, atol=1e-5)


def test_conv2d_gradcheck_float64():
    x = minitorch.tensor(RNG.standard_normal((2, 2, 5, 4)), requires_grad=True)
    w = minitorch.tensor(RNG.standard_normal((4, 1, 3, 2)), requires_grad=True)
    b = minitorch.tensor(RNG.standard_normal(4), requires_grad=True)
    assert gradcheck(lambda x, w, b: F.conv2d(x, w, b, stride=(2, 1), padding=1, groups=2), (x, w, b))
    # a permuted (non-contiguous) input
    assert gradcheck(lambda x, w: F.conv2d(x.transpose(2, 3), w.transpose(2, 3), padding=(1, 0), groups=2), (x, w))


POOL_CASES = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=3, stride=2, ceil_mode=True),
    dict(kernel_size=(2, 3), stride=(1, 2)),
]


@pytest.mark.torch
@pytest.mark.parametrize("kw", POOL_CASES + [dict(kernel_size=2, dilation=2)])
def test_max_pool2d_matches_torch_including_indices_and_ties(kw, torch):
    x = np.round(arr(2, 3, 9, 8) * 2) / 2  # many ties: the gradient must go to the first maximum
    tx, mx = torch.tensor(x, requires_grad=True), minitorch.tensor(x, requires_grad=True)
    ty, ti = torch.nn.functional.max_pool2d(tx, return_indices=True, **kw)
    my, mi = F.max_pool2d(mx, return_indices=True, **kw)
    np.testing.assert_array_equal(my.detach().numpy(), ty.detach().numpy())
    np.testing.assert_array_equal(mi.numpy(), ti.numpy())
    gy = arr(*ty.shape)
    (ty * torch.tensor(gy)).sum().backward()
    (my * minitorch.tensor(gy)).sum().backward()
    np.testing.assert_allclose(mx.grad.numpy(), tx.grad.numpy(), rtol=1e-6, atol=1e-6)


@pytest.mark.torch
@pytest.mark.parametrize("kw", POOL_CASES)
def test_max_pool2d_nan_and_inf_match_torch(kw, torch):
    x = np.round(arr(2, 3, 9, 8) * 2) / 2
    x[0, 0, 1, 1] = x[0, 1, 4, 5] = x[1, 2, 0, 0] = np.nan
    x[0, 0, 1, 2] = x[1, 2, 0, 1] = np.nan  # two NaNs in one window: the first one's index
    x[1, 0, :4, :4] = -np.inf  # windows of -inf only
    ty, ti = torch.nn.functional.max_pool2d(torch.tensor(x), return_indices=True, **kw)
    my, mi = F.max_pool2d(minitorch.tensor(x), return_indices=True, **kw)
    np.testing.assert_array_equal(my.numpy(), ty.numpy())
    np.testing.assert_array_equal(mi.numpy(), ti.numpy())


@pytest.mark.torch
@pytest.mark.parametrize("kw", POOL_CASES + [dict(kernel_size=3, stride=2, padding=1, count_include_pad=False),
                                             dict(kernel_size=2, divisor_override=3)])
def test_avg_pool2d_matches_torch(kw, torch):
    x = arr(2, 3, 9, 8)
    tx, mx = torch.tensor(x, requires_grad=True), minitorch.tensor(x, requires_grad=True)
    ty = torch.nn.functional.avg_pool2d(tx, **kw)
    my = F.avg_pool2d(mx, **kw)
    np.testing.assert_allclose(my.detach().numpy(), ty.detach().numpy(), rtol=1e-5, atol=1e-6)
    ty.sum().backward()
    my.sum().backward()
    np.testing.assert_allclose(mx.grad.numpy(), tx.grad.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.torch
def test_pool1d_and_adaptive_match_torch(torch):
    x = arr(2, 3, 10)
    TF = torch.nn.functional
    np.testing.assert_array_equal(F.max_pool1d(minitorch.tensor(x), 3, 2).numpy(), TF.max_pool1d(torch.tensor(x), 3, 2).numpy())
    np.testing.assert_allclose(F.avg_pool1d(minitorch.tensor(x), 2).numpy(), TF.avg_pool1d(torch.tensor(x), 2).numpy(),
                               rtol=1e-6)
    x4 = arr(2, 3, 9, 7)
    for size in [(1, 1), (3, 3), (4, 2), 5]:
        np.testing.assert_allclose(F.adaptive_avg_pool2d(minitorch.tensor(x4), size).numpy(),
                                   TF.adaptive_avg_pool2d(torch.tensor(x4), size).numpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_array_equal(F.adaptive_max_pool2d(minitorch.tensor(x4), size).numpy(),
                                      TF.adaptive_max_pool2d(torch.tensor(x4), size).numpy())


@pytest.mark.torch
def test_modules_init_and_repr_like_torch(torch):
    for args, kw in [((1, 32, 3), dict(padding=1)), ((4, 8, (3, 2)), dict(stride=2, groups=2, bias=False)),
                     ((2, 2, 3), dict(dilation=2, padding="same"))]:
        assert repr(nn.Conv2d(*args, **kw)) == repr(torch.nn.Conv2d(*args, **kw))
    assert repr(nn.MaxPool2d(2)) == repr(torch.nn.MaxPool2d(2))
    assert repr(nn.Conv1d(3, 4, 5)) == repr(torch.nn.Conv1d(3, 4, 5))
    minitorch.manual_seed(0)
    conv = nn.Conv2d(16, 8, 3)
    bound = 1 / np.sqrt(16 * 9)
    assert float(conv.weight.abs().max()) <= bound and float(conv.weight.abs().max()) > 0.9 * bound
    assert float(conv.bias.abs().max()) <= bound


def test_small_cnn_loss_falls():
    minitorch.manual_seed(0)
    x = minitorch.randn(32, 1, 8, 8)
    y = (x[:, 0, :4].sum((1, 2)) > x[:, 0, 4:].sum((1, 2))).long()
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(4 * 16, 2))
    opt = minitorch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    losses = []
    for _ in range(30):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        losses.append(float(loss))
    assert losses[-1] < 0.5 * losses[0]


def test_conv_and_pool_user_errors():
    x = minitorch.randn(2, 3, 8, 8)
    with pytest.raises(RuntimeError, match=r"expected input\[2, 3, 8, 8\] to have 1 channels, but got 3 channels"):
        F.conv2d(x, minitorch.randn(4, 1, 3, 3))
    with pytest.raises(RuntimeError, match="Kernel size can't be greater than actual input size"):
        F.conv2d(x, minitorch.randn(4, 3, 9, 9))
    with pytest.raises(RuntimeError, match="Expected 4-dimensional weight"):
        F.conv2d(x, minitorch.randn(4, 3, 3))
    with pytest.raises(RuntimeError, match="Expected 3D \\(unbatched\\) or 4D \\(batched\\) input to conv2d"):
        F.conv2d(minitorch.randn(8, 8), minitorch.randn(4, 3, 3, 3))
    with pytest.raises(RuntimeError, match="expected bias to be 1-dimensional with 4 elements"):
        F.conv2d(x, minitorch.randn(4, 3, 3, 3), minitorch.randn(5))
    with pytest.raises(RuntimeError, match="and bias type .* should be the same"):
        F.conv2d(x, minitorch.randn(4, 3, 3, 3), minitorch.randn(4, dtype=minitorch.float64))
    with pytest.raises(RuntimeError, match="and weight type .* should be the same"):
        F.conv2d(x, minitorch.randn(4, 3, 3, 3, dtype=minitorch.float64))
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(RuntimeError, match="pad should be at most half of effective kernel size"):
        F.max_pool2d(x, 2, padding=2)
    with pytest.raises(RuntimeError, match="Output size is too small"):
        F.max_pool2d(minitorch.randn(1, 1, 1, 1), 2)
