"""Spatial re-arrangement, padding and sampling layers against PyTorch: pixel_shuffle / pixel_unshuffle /
channel_shuffle, unfold / fold, the padding modes and modules, affine_grid and grid_sample (forward, gradients,
non-contiguous inputs, user errors), on every device (CUDA on the simulator with tiny shapes)."""
import re
import warnings

import numpy as np
import pytest

import minitorch

pytestmark = pytest.mark.torch


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


RNG = np.random.default_rng(11)


def to_np(t):
    return t.detach().cpu().numpy()


def _leaf(m, a, device, noncontig, grad):
    """(leaf, input): input equals ``a``; non-contiguous (a transposed view of the leaf) when asked and 2-D+."""
    kw = {"device": device} if m is minitorch else {}
    if noncontig and a.ndim >= 2:
        leaf = m.tensor(np.ascontiguousarray(np.swapaxes(a, -1, -2)), requires_grad=grad, **kw)
        x = leaf.transpose(-1, -2)
        assert m is not minitorch or min(a.shape[-2:]) == 1 or not x.is_contiguous()
        return leaf, x
    leaf = m.tensor(a, requires_grad=grad, **kw)
    return leaf, leaf


def _grad_of(leaf, x):
    return leaf.grad if leaf is x else leaf.grad.transpose(-1, -2)


def check(torch, fn, arrays, device, noncontig=False, grad=True, rtol=1e-7, atol=1e-10):
    """fn(module, *tensors) on minitorch (on ``device``) and on torch: the outputs and, when ``grad``, the
    gradients of sum(out * r) for a random r, to every input, must agree."""
    grads = [grad and np.asarray(a).dtype.kind == "f" for a in arrays]
    mt = [_leaf(minitorch, a, device, noncontig, g) for a, g in zip(arrays, grads)]
    tt = [_leaf(torch, a, "cpu", False, g) for a, g in zip(arrays, grads)]
    got = fn(minitorch, *[x for _, x in mt])
    want = fn(torch, *[x for _, x in tt])
    assert tuple(got.shape) == tuple(want.shape)
    assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
    assert got.device.type == device
    np.testing.assert_allclose(to_np(got), want.detach().numpy(), rtol=rtol, atol=atol)
    if any(grads):
        r = RNG.standard_normal(tuple(want.shape))
        (got * minitorch.tensor(r, dtype=got.dtype, device=device)).sum().backward()
        (want * torch.tensor(r, dtype=want.dtype)).sum().backward()
        for (ml, mx), (tl, tx), g in zip(mt, tt, grads):
            if g:
                np.testing.assert_allclose(to_np(_grad_of(ml, mx)), _grad_of(tl, tx).numpy(), rtol=rtol, atol=atol)
    return got


def F(m):
    return m.nn.functional


def rand(*shape):
    return RNG.standard_normal(shape)


# ---------------------------------------------------------------------------------------------------------------
# pixel / channel shuffles
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape,r", [((2, 8, 3, 5), 2), ((9, 2, 1), 3), ((2, 1, 4, 1, 3), 2), ((3, 1, 1), 1)])
@pytest.mark.parametrize("noncontig", [False, True])
def test_pixel_shuffle(torch, device, shape, r, noncontig):
    check(torch, lambda m, x: F(m).pixel_shuffle(x, r), [rand(*shape)], device, noncontig)
    check(torch, lambda m, x: m.pixel_shuffle(x, r), [rand(*shape)], device)
    check(torch, lambda m, x: m.nn.PixelShuffle(r)(x), [rand(*shape)], device)


@pytest.mark.parametrize("shape,r", [((2, 3, 4, 6), 2), ((1, 6, 3), 3), ((2, 1, 2, 4, 2), 2)])
@pytest.mark.parametrize("noncontig", [False, True])
def test_pixel_unshuffle(torch, device, shape, r, noncontig):
    check(torch, lambda m, x: F(m).pixel_unshuffle(x, r), [rand(*shape)], device, noncontig)
    check(torch, lambda m, x: m.nn.PixelUnshuffle(r)(x), [rand(*shape)], device)


def test_pixel_shuffle_round_trip_and_integers(torch, device):
    a = RNG.integers(-50, 50, (2, 12, 3, 2))
    check(torch, lambda m, x: F(m).pixel_unshuffle(F(m).pixel_shuffle(x, 2), 2), [a], device)
    check(torch, lambda m, x: F(m).pixel_shuffle(x, 2), [a.astype(np.int32)], device)


@pytest.mark.parametrize("shape,g", [((2, 6, 3), 3), ((1, 6, 2, 3), 2), ((2, 4, 1, 2, 3), 4), ((3, 5, 2), 1)])
@pytest.mark.parametrize("noncontig", [False, True])
def test_channel_shuffle(torch, device, shape, g, noncontig):
    check(torch, lambda m, x: F(m).channel_shuffle(x, g), [rand(*shape)], device, noncontig)
    check(torch, lambda m, x: m.channel_shuffle(x, g), [rand(*shape)], device)
    check(torch, lambda m, x: m.nn.ChannelShuffle(g)(x), [rand(*shape)], device)


# ---------------------------------------------------------------------------------------------------------------
# unfold / fold
# ---------------------------------------------------------------------------------------------------------------
BLOCKS = [  # shape, kernel_size, dilation, padding, stride
    ((2, 3, 5, 7), 2, 1, 0, 1),
    ((1, 2, 5, 6), (2, 3), (2, 1), (1, 2), (2, 3)),
    ((2, 1, 4, 4), 3, 1, 1, 2),
    ((3, 6, 5), (1, 2), 1, (0, 1), 1),  # unbatched
    ((1, 1, 3, 2), (3, 2), 1, 0, 1),  # a single block
]


@pytest.mark.parametrize("shape,k,d,p,s", BLOCKS)
@pytest.mark.parametrize("noncontig", [False, True])
def test_unfold(torch, device, shape, k, d, p, s, noncontig):
    check(torch, lambda m, x: F(m).unfold(x, k, d, p, s), [rand(*shape)], device, noncontig)
    check(torch, lambda m, x: m.nn.Unfold(k, dilation=d, padding=p, stride=s)(x), [rand(*shape)], device)


@pytest.mark.parametrize("shape,k,d,p,s", BLOCKS)
@pytest.mark.parametrize("noncontig", [False, True])
def test_fold(torch, device, shape, k, d, p, s, noncontig):
    # the columns fold() takes are unfold()'s output shape for an image of `shape`
    cols = F(torch).unfold(torch.zeros(shape, dtype=torch.float64), k, d, p, s).shape
    hw = shape[-2:]
    check(torch, lambda m, c: F(m).fold(c, hw, k, d, p, s), [rand(*cols)], device, noncontig)
    check(torch, lambda m, c: m.nn.Fold(hw, k, dilation=d, padding=p, stride=s)(c), [rand(*cols)], device)


def test_fold_of_unfold_counts_the_overlaps(torch, device):
    check(torch, lambda m, x: F(m).fold(F(m).unfold(x, 2, padding=1), (3, 4), 2, padding=1), [rand(1, 2, 3, 4)],
          device)


def test_unfold_bool_and_float32(torch, device):
    a = RNG.standard_normal((1, 2, 3, 4)) > 0
    check(torch, lambda m, x: F(m).unfold(x, 2, padding=1), [a], device)
    check(torch, lambda m, x: F(m).unfold(x, 2, stride=2), [rand(1, 2, 4, 4).astype(np.float32)], device,
          rtol=1e-6)


def test_module_reprs(torch):
    for make in (lambda m: m.nn.PixelShuffle(2), lambda m: m.nn.PixelUnshuffle(3), lambda m: m.nn.ChannelShuffle(2),
                 lambda m: m.nn.Fold((5, 6), 2, padding=1), lambda m: m.nn.Unfold((2, 3), stride=2),
                 lambda m: m.nn.ZeroPad2d(1), lambda m: m.nn.ZeroPad1d((1, 2)), lambda m: m.nn.ConstantPad3d(1, 3.5),
                 lambda m: m.nn.ConstantPad1d((1, 2), 2), lambda m: m.nn.ReflectionPad2d((1, 2, 0, 1)),
                 lambda m: m.nn.ReplicationPad3d(2), lambda m: m.nn.CircularPad1d(2)):
        assert repr(make(minitorch)) == repr(make(torch))
    assert minitorch.nn.ConstantPad2d(1, 2.5).padding == torch.nn.ConstantPad2d(1, 2.5).padding
    assert minitorch.nn.ZeroPad3d(1).value == torch.nn.ZeroPad3d(1).value


# ---------------------------------------------------------------------------------------------------------------
# padding
# ---------------------------------------------------------------------------------------------------------------
PADS = [  # input shape, pad
    ((2, 3, 5), (2, 1)),
    ((3, 5), (4, 0)),
    ((3, 5), (-1, 2)),
    ((1, 2, 4, 5), (1, 2, 3, 0)),
    ((2, 4, 5), (-1, 3, 2, -1)),
    ((1, 1, 3, 4, 5), (1, 2, 2, 0, 1, 1)),
    ((2, 3, 4, 3), (0, 2, 1, 1, 2, 0)),
]


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("shape,pad", PADS)
@pytest.mark.parametrize("noncontig", [False, True])
def test_pad_modes(torch, device, mode, shape, pad, noncontig):
    check(torch, lambda m, x: F(m).pad(x, pad, mode=mode), [rand(*shape)], device, noncontig)


def test_pad_modes_on_integers(torch, device):
    a = RNG.integers(-9, 9, (2, 3, 4))
    for mode in ("reflect", "replicate", "circular"):
        check(torch, lambda m, x: F(m).pad(x, (2, 1, 1, 2), mode=mode), [a], device)
    check(torch, lambda m, x: F(m).pad(x, (1, 1), mode="circular"), [a > 0], device)


@pytest.mark.parametrize("kind", ["Zero", "Constant", "Reflection", "Replication", "Circular"])
@pytest.mark.parametrize("n,shape,padding", [(1, (2, 3, 5), 2), (1, (3, 5), (1, 3)), (2, (1, 2, 4, 5), (1, 2, 3, 0)),
                                             (2, (2, 4, 5), 1), (3, (2, 3, 3, 4), (1, 0, 2, 1, 0, 2)),
                                             (3, (1, 1, 3, 4, 4), 1)])
def test_padding_modules(torch, device, kind, n, shape, padding):
    def make(m):
        cls = getattr(m.nn, f"{kind}Pad{n}d")
        return cls(padding, 1.5) if kind == "Constant" else cls(padding)
    check(torch, lambda m, x: make(m)(x), [rand(*shape)], device)


# ---------------------------------------------------------------------------------------------------------------
# affine_grid / grid_sample
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("size", [(2, 3, 4, 5), (1, 1, 1, 3), (2, 1, 3, 1), (2, 2, 3, 2, 4), (1, 1, 1, 2, 1)])
@pytest.mark.parametrize("align_corners", [False, True])
def test_affine_grid(torch, device, size, align_corners):
    theta = rand(size[0], 2, 3) if len(size) == 4 else rand(size[0], 3, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # align_corners=True with a unit size warns (on both)
        check(torch, lambda m, t: F(m).affine_grid(t, size, align_corners=align_corners), [theta], device)


@pytest.mark.parametrize("mode", ["bilinear", "nearest", "bicubic"])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align_corners", [False, True])
def test_grid_sample(torch, device, mode, padding_mode, align_corners):
    x = rand(2, 3, 4, 5)
    grid = RNG.uniform(-1.6, 1.6, (2, 3, 4, 2))  # inside and outside the image
    check(torch, lambda m, a, g: F(m).grid_sample(a, g, mode, padding_mode, align_corners), [x, grid], device)


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
def test_grid_sample_far_outside_and_non_contiguous(torch, device, mode, padding_mode):
    x = rand(1, 2, 3, 4)
    grid = RNG.uniform(-5, 5, (1, 2, 3, 2))  # reflection folds several times
    check(torch, lambda m, a, g: F(m).grid_sample(a, g, mode, padding_mode, False), [x, grid], device,
          noncontig=True)


@pytest.mark.parametrize("shape,out_hw", [((1, 1, 1, 1), (2, 3)), ((2, 1, 1, 4), (1, 2)), ((1, 2, 5, 1), (3, 1))])
@pytest.mark.parametrize("align_corners", [False, True])
def test_grid_sample_degenerate_sizes(torch, device, shape, out_hw, align_corners):
    grid = RNG.uniform(-1.2, 1.2, (shape[0],) + out_hw + (2,))
    for mode in ("bilinear", "bicubic"):
        for padding_mode in ("zeros", "border", "reflection"):
            check(torch, lambda m, a, g: F(m).grid_sample(a, g, mode, padding_mode, align_corners),
                  [rand(*shape), grid], device)


@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align_corners", [False, True])
def test_grid_sample_5d(torch, device, mode, padding_mode, align_corners):
    x = rand(2, 2, 3, 2, 4)
    grid = RNG.uniform(-1.6, 1.6, (2, 2, 1, 3, 3))
    check(torch, lambda m, a, g: F(m).grid_sample(a, g, mode, padding_mode, align_corners), [x, grid], device,
          noncontig=padding_mode == "border")


@pytest.mark.parametrize("mode", ["bilinear", "nearest", "bicubic"])
def test_grid_sample_large_enough_for_the_threaded_kernels(torch, mode):
    """N * C * points past the kernels' threading threshold (8192), as a spatial transformer on an MNIST batch is:
    the threaded forward once failed to compile (Numba's array analysis of the bicubic taps inlined in its loop)."""
    x = rand(3, 2, 24, 28)
    grid = RNG.uniform(-1.2, 1.2, (3, 40, 36, 2))
    check(torch, lambda m, a, g: F(m).grid_sample(a, g, mode, "reflection", False), [x, grid], "cpu")
    x5 = rand(2, 2, 5, 6, 7)
    grid5 = RNG.uniform(-1.2, 1.2, (2, 8, 16, 20, 3))
    if mode != "bicubic":
        check(torch, lambda m, a, g: F(m).grid_sample(a, g, mode, "zeros", True), [x5, grid5], "cpu")


def test_grid_sample_5d_of_affine_grid(torch, device):
    theta = np.array([[[0.9, 0.1, 0.0, 0.05], [-0.1, 1.1, 0.1, 0.0], [0.0, 0.2, 0.8, -0.1]]])

    def stn(m, x, t):
        grid = F(m).affine_grid(t, (1, 1, 2, 3, 3), align_corners=True)
        return F(m).grid_sample(x, grid, align_corners=True, padding_mode="zeros")
    check(torch, stn, [rand(1, 1, 3, 2, 3), theta], device)


def test_grid_sample_of_affine_grid_rotates(torch, device):
    """A spatial transformer: sample an image at an affine grid; gradients flow to the image and to theta."""
    c, s = np.cos(0.3), np.sin(0.3)
    theta = np.array([[[c, -s, 0.1], [s, c, -0.2]]])

    def stn(m, x, t):
        grid = F(m).affine_grid(t, (1, 2, 4, 3), align_corners=False)
        return F(m).grid_sample(x, grid, align_corners=False, padding_mode="border")
    check(torch, stn, [rand(1, 2, 4, 3), theta], device)


def test_grid_sample_float32_and_half(torch, device):
    # data of its own (not the module's generator, whose state depends on which tests ran before in this worker):
    # in half precision a sample point near a pixel edge can round to the other side of it in one library only
    rng = np.random.default_rng(5)
    x = rng.standard_normal((1, 2, 3, 4)).astype(np.float32)
    grid = rng.uniform(-1.1, 1.1, (1, 2, 2, 2)).astype(np.float32)
    check(torch, lambda m, a, g: F(m).grid_sample(a, g, align_corners=True), [x, grid], device, rtol=1e-5,
          atol=1e-6)
    mx = minitorch.tensor(x, device=device).half().requires_grad_()
    mg = minitorch.tensor(grid, device=device).half().requires_grad_()
    tx, tg = torch.tensor(x).half().requires_grad_(), torch.tensor(grid).half().requires_grad_()
    got = F(minitorch).grid_sample(mx, mg, align_corners=True)
    want = F(torch).grid_sample(tx, tg, align_corners=True)
    assert got.dtype is minitorch.float16
    np.testing.assert_allclose(to_np(got.float()), want.detach().float().numpy(), rtol=1e-2, atol=1e-2)
    got.sum().backward()
    want.sum().backward()
    assert mx.grad.dtype is minitorch.float16 and mg.grad.dtype is minitorch.float16
    np.testing.assert_allclose(to_np(mx.grad.float()), tx.grad.float().numpy(), rtol=1e-2, atol=1e-2)
    np.testing.assert_allclose(to_np(mg.grad.float()), tg.grad.float().numpy(), rtol=2e-2, atol=2e-2)


def test_grid_sample_needs_only_what_is_asked(torch, device):
    x = minitorch.tensor(rand(1, 1, 3, 3), device=device, requires_grad=True)
    grid = minitorch.tensor(RNG.uniform(-1, 1, (1, 2, 2, 2)), device=device)
    F(minitorch).grid_sample(x, grid, align_corners=False).sum().backward()
    xt = torch.tensor(to_np(x), requires_grad=True)
    F(torch).grid_sample(xt, torch.tensor(to_np(grid)), align_corners=False).sum().backward()
    assert grid.grad is None
    np.testing.assert_allclose(to_np(x.grad), xt.grad.numpy(), rtol=1e-7, atol=1e-10)


def test_grid_sample_grid_only_and_double_backward(torch, device):
    x = rand(1, 2, 3, 3)
    grid = RNG.uniform(-1.2, 1.2, (1, 2, 2, 2))
    g = minitorch.tensor(grid, device=device, requires_grad=True)
    F(minitorch).grid_sample(minitorch.tensor(x, device=device), g, align_corners=True).sum().backward()
    gt = torch.tensor(grid, requires_grad=True)
    F(torch).grid_sample(torch.tensor(x), gt, align_corners=True).sum().backward()
    np.testing.assert_allclose(to_np(g.grad), gt.grad.numpy(), rtol=1e-7, atol=1e-10)
    xm = minitorch.tensor(x, device=device, requires_grad=True)
    out = F(minitorch).grid_sample(xm, minitorch.tensor(grid, device=device), align_corners=True).sum()
    with pytest.raises(RuntimeError, match="double backward"):
        minitorch.autograd.grad(out, xm, create_graph=True)


def test_align_corners_default_warns_as_torch(torch):
    x, g = rand(1, 1, 2, 2), RNG.uniform(-1, 1, (1, 1, 1, 2))
    theta = rand(1, 2, 3)
    for m in (minitorch, torch):
        with pytest.warns(UserWarning, match="Default grid_sample and affine_grid behavior has changed"):
            F(m).grid_sample(m.tensor(x), m.tensor(g))
        with pytest.warns(UserWarning, match="Default grid_sample and affine_grid behavior has changed"):
            F(m).affine_grid(m.tensor(theta), (1, 1, 2, 2))
        with pytest.warns(UserWarning, match="affine_grid behavior has changed for unit-size grids"):
            F(m).affine_grid(m.tensor(theta), (1, 1, 1, 2), align_corners=True)


# ---------------------------------------------------------------------------------------------------------------
# user errors: the type and message PyTorch raises
# ---------------------------------------------------------------------------------------------------------------
def _t(m, *shape, dtype="float32"):
    return m.zeros(*shape, dtype=getattr(m, dtype))


_NONCONST = r"Padding size {} is not supported for {}D input tensor\.\nSupported combinations for non-constant"

ERRORS = [
    # pixel / channel shuffle
    (lambda m: F(m).pixel_shuffle(_t(m, 2, 8, 3, 5), 3), RuntimeError,
     r"pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of upscale_factor, but "
     r"input\.size\(-3\)=8 is not divisible by 9"),
    (lambda m: F(m).pixel_shuffle(_t(m, 4, 2, 2), 0), RuntimeError,
     "pixel_shuffle expects a positive upscale_factor, but got 0"),
    (lambda m: F(m).pixel_shuffle(_t(m, 4, 2), 2), RuntimeError,
     r"pixel_shuffle expects input to have at least 3 dimensions, but got input with 2 dimension\(s\)"),
    (lambda m: F(m).pixel_unshuffle(_t(m, 2, 8, 3, 4), 2), RuntimeError,
     r"pixel_unshuffle expects height to be divisible by downscale_factor, but input\.size\(-2\)=3 is not "
     "divisible by 2"),
    (lambda m: F(m).pixel_unshuffle(_t(m, 2, 2, 4, 6), 4), RuntimeError,
     r"pixel_unshuffle expects width to be divisible by downscale_factor, but input\.size\(-1\)=6"),
    (lambda m: F(m).pixel_unshuffle(_t(m, 2, 2, 4, 6), -1), RuntimeError,
     "pixel_unshuffle expects a positive downscale_factor, but got -1"),
    (lambda m: F(m).channel_shuffle(_t(m, 2, 8, 3), 3), RuntimeError,
     r"Number of channels must be divisible by groups\. Got 8 channels and 3 groups\."),
    (lambda m: F(m).channel_shuffle(_t(m, 2, 8, 3), 0), RuntimeError,
     "Number of groups to divide channels in must be positive. Value of groups:0"),
    (lambda m: F(m).channel_shuffle(_t(m, 3, 4), 2), RuntimeError,
     r"channel_shuffle expects input with > 2 dims, but got input with sizes \[3, 4\]"),
    # unfold / fold
    (lambda m: F(m).unfold(_t(m, 2, 3, 5, 6), 7), RuntimeError,
     r"Given input with spatial size \(5, 6\), kernel_size=\(7, 7\), dilation=\(1, 1\), padding=\(0, 0\), "
     r"calculated shape of the array of sliding blocks as \(-1, 0\), but its components must be at least one\."),
    (lambda m: F(m).unfold(_t(m, 2, 3, 5, 6), 0), RuntimeError,
     "kernel size should be greater than zero, but got kernel_height: 0 kernel_width: 0"),
    (lambda m: F(m).unfold(_t(m, 2, 3, 5, 6), 2, stride=(1, 0)), RuntimeError,
     "stride should be greater than zero, but got stride_height: 1 stride_width: 0"),
    (lambda m: F(m).unfold(_t(m, 2, 3, 5, 6), 2, dilation=0), RuntimeError,
     "dilation should be greater than zero, but got dilation_height: 0 dilation_width: 0"),
    (lambda m: F(m).unfold(_t(m, 2, 3, 5, 6), 2, padding=-1), RuntimeError,
     "padding should be non-negative, but got pad_height: -1 pad_width: -1"),
    (lambda m: F(m).unfold(_t(m, 2, 3, 5, 6), (2, 2, 2)), RuntimeError,
     "It is expected kernel_size equals to 2, but got size 3"),
    (lambda m: F(m).unfold(_t(m, 1, 2, 3, 4, 5), 2), RuntimeError,
     r"Expected 3D or 4D \(batch mode\) tensor with possibly 0 batch size and other non-zero dimensions for input, "
     r"but got: \[1, 2, 3, 4, 5\]"),
    (lambda m: F(m).unfold(_t(m, 2, 0, 5, 6), 2), RuntimeError, r"but got: \[2, 0, 5, 6\]"),
    (lambda m: F(m).unfold(_t(m, 5, 6), 2), IndexError,
     r"Dimension out of range \(expected to be in range of \[-2, 1\], but got 2\)"),
    (lambda m: F(m).unfold(_t(m, 1, 2, 3, 4, dtype="int64"), 2), NotImplementedError,
     "\"im2col_out_cpu\" not implemented for 'Long'"),
    (lambda m: F(m).fold(_t(m, 2, 12, 20), (5, 6), 3), RuntimeError,
     r"Expected size of input's dimension 1 to be divisible by the product of kernel_size, but got "
     r"input\.size\(1\)=12 and kernel_size=\(3, 3\)\."),
    (lambda m: F(m).fold(_t(m, 2, 12, 20), (5, 7), 2), RuntimeError,
     r"Given output_size=\(5, 7\), kernel_size=\(2, 2\), dilation=\(1, 1\), padding=\(0, 0\), stride=\(1, 1\), "
     r"expected size of input's dimension 2 to match the calculated number of sliding blocks 4 \* 6 = 24, but got "
     r"input\.size\(2\)=20\."),
    (lambda m: F(m).fold(_t(m, 1, 2, 3, 4), (5, 6), 2), RuntimeError,
     r"Expected 2D or 3D \(batch mode\) tensor for input with possibly 0 batch size and non-zero dimensions for "
     r"input, but got: \[1, 2, 3, 4\]"),
    (lambda m: F(m).fold(_t(m, 2, 12, 20), (5, 6, 7), 2), RuntimeError,
     "It is expected output_size equals to 2, but got size 3"),
    (lambda m: F(m).fold(_t(m, 2, 12, 20), (5, 6), 2, stride=0), RuntimeError,
     "stride should be greater than zero, but got stride_height: 0 stride_width: 0"),
    (lambda m: F(m).fold(_t(m, 2, 12, 20, dtype="int32"), (5, 6), 2), NotImplementedError,
     "\"col2im_out_cpu\" not implemented for 'Int'"),
    # padding
    (lambda m: F(m).pad(_t(m, 2, 4, 5), (5, 0), mode="reflect"), RuntimeError,
     r"Argument #4: Padding size should be less than the corresponding input dimension, but got: padding \(5, 0\) "
     r"at dimension 2 of input \[2, 4, 5\]"),
    (lambda m: F(m).pad(_t(m, 2, 3, 4, 5), (1, 1, 4, 0), mode="reflect"), RuntimeError,
     r"Argument #6: Padding size should be less than the corresponding input dimension, but got: padding \(4, 0\) "
     r"at dimension 2 of input \[2, 3, 4, 5\]"),
    (lambda m: F(m).pad(_t(m, 1, 2, 3, 4, 5), (1, 1, 1, 1, 3, 0), mode="reflect"), RuntimeError,
     r"Argument #8: .* padding \(3, 0\) at dimension 2 of input \[1, 2, 3, 4, 5\]"),
    (lambda m: F(m).pad(_t(m, 2, 3, 4, 5), (1, 1), mode="reflect"), NotImplementedError, _NONCONST.format(2, 4)),
    (lambda m: F(m).pad(_t(m, 5), (1, 1), mode="replicate"), NotImplementedError, _NONCONST.format(2, 1)),
    (lambda m: F(m).pad(_t(m, 2, 3, 4), (1, 1, 1, 1, 1, 1), mode="circular"), NotImplementedError,
     _NONCONST.format(6, 3)),
    (lambda m: F(m).pad(_t(m, 2, 3, 4), (1, 1), mode="reflect", value=2.0), RuntimeError,
     'Padding mode "reflect" doesn\'t take in value argument'),
    (lambda m: F(m).pad(_t(m, 2, 3, 4), (1, 1), mode="foo"), NotImplementedError, "Unrecognised padding mode foo"),
    (lambda m: F(m).pad(_t(m, 2, 3, 4), (1, 1, 1)), RuntimeError, "Padding length must be divisible by 2"),
    (lambda m: F(m).pad(_t(m, 2, 4, 5), (6, 0), mode="circular"), RuntimeError,
     "Padding value causes wrapping around more than once."),
    (lambda m: F(m).pad(_t(m, 2, 4, 5), (-7, 1), mode="circular"), RuntimeError,
     "Negative padding value is resulting in an empty dimension"),
    (lambda m: F(m).pad(_t(m, 2, 4, 5), (-5, 0), mode="replicate"), RuntimeError,
     r"input \(W: 5\) is too small\. Calculated output W: 0"),
    (lambda m: F(m).pad(_t(m, 2, 0, 5), (1, 1), mode="reflect"), RuntimeError,
     r"Expected 2D or 3D \(batch mode\) tensor with possibly 0 batch size and other non-zero dimensions for input, "
     r"but got: \[2, 0, 5\]"),
    (lambda m: F(m).pad(_t(m, 1, 0, 3, 4, 5), (1, 1, 1, 1, 1, 1), mode="replicate"), RuntimeError,
     r"Expected 4D or 5D \(batch mode\) tensor .* but got: \[1, 0, 3, 4, 5\]"),
    (lambda m: F(m).pad(_t(m, 2, 3, 4, dtype="bool"), (1, 1), mode="reflect"), NotImplementedError,
     "\"reflection_pad1d\" not implemented for 'Bool'"),
    (lambda m: m.nn.ReflectionPad2d(1)(_t(m, 5)), RuntimeError,
     "Padding length should be less than or equal to two times the input dimension but got padding length 4 and "
     "input of dimension 1"),
    (lambda m: m.nn.CircularPad1d(1)(_t(m, 5)), ValueError, r"expected 2D or 3D input \(got 1D input\)"),
    (lambda m: m.nn.CircularPad3d(1)(_t(m, 2, 3, 4)), ValueError, r"expected 4D or 5D input \(got 3D input\)"),
    # grid_sample / affine_grid
    (lambda m: F(m).grid_sample(_t(m, 2, 3, 4, 5), _t(m, 2, 3, 3, 2), mode="foo"), ValueError,
     "nn.functional.grid_sample\\(\\): expected mode to be 'bilinear', 'nearest' or 'bicubic', but got: 'foo'"),
    (lambda m: F(m).grid_sample(_t(m, 2, 3, 4, 5), _t(m, 2, 3, 3, 2), padding_mode="foo"), ValueError,
     "nn.functional.grid_sample\\(\\): expected padding_mode to be 'zeros', 'border', or 'reflection', but got: "
     "'foo'"),
    (lambda m: F(m).grid_sample(_t(m, 2, 3, 4, 5), _t(m, 1, 3, 3, 2), align_corners=False), RuntimeError,
     r"grid_sampler\(\): expected grid and input to have same batch size, but got input with sizes \[2, 3, 4, 5\] "
     r"and grid with sizes \[1, 3, 3, 2\]"),
    (lambda m: F(m).grid_sample(_t(m, 2, 3, 4, 5), _t(m, 2, 3, 3, 1), align_corners=False), RuntimeError,
     r"grid_sampler\(\): expected grid to have size 2 in last dimension, but got grid with sizes \[2, 3, 3, 1\]"),
    (lambda m: F(m).grid_sample(_t(m, 2, 3, 0, 5), _t(m, 2, 3, 3, 2), align_corners=False), RuntimeError,
     r"grid_sampler\(\): expected input to have non-empty spatial dimensions, but input has sizes \[2, 3, 0, 5\] "
     "with dimension 2 being empty"),
    (lambda m: F(m).grid_sample(_t(m, 2, 3, 4, 5), _t(m, 2, 3, 3, 2, dtype="float64"), align_corners=False),
     RuntimeError, "expected scalar type Float but found Double"),
    (lambda m: F(m).grid_sample(_t(m, 2, 3, 4, 5, dtype="int64"), _t(m, 2, 3, 3, 2, dtype="int64"),
                                align_corners=False), NotImplementedError,
     "\"grid_sampler_2d_cpu_kernel_impl\" not implemented for 'Long'"),
    (lambda m: F(m).grid_sample(_t(m, 1, 2, 2, 2, 2, dtype="int64"), _t(m, 1, 1, 1, 1, 3, dtype="int64"),
                                align_corners=False), NotImplementedError,
     "\"grid_sampler3d_cpu\" not implemented for 'Long'"),
    (lambda m: F(m).grid_sample(_t(m, 2, 3, 4, 5, 6), _t(m, 2, 3, 3, 3, 2), align_corners=False), RuntimeError,
     r"grid_sampler\(\): expected grid to have size 3 in last dimension, but got grid with sizes \[2, 3, 3, 3, 2\]"),
    (lambda m: F(m).grid_sample(_t(m, 2, 3, 4, 5, 6), _t(m, 2, 3, 3, 2, 3), mode="bicubic", align_corners=False),
     RuntimeError, r"grid_sampler\(\): bicubic interpolation only supports 4D input"),
    (lambda m: F(m).affine_grid(_t(m, 2, 2, 3), (2, 3, 4), align_corners=False), NotImplementedError,
     r"affine_grid only supports 4D and 5D sizes, for 2D and 3D affine transforms, respectively\. Got size "
     r"\(2, 3, 4\)\."),
    (lambda m: F(m).affine_grid(_t(m, 2, 2, 3), (2, 3, 4, 5, 6), align_corners=False), ValueError,
     r"Expected a batch of 3D affine matrices of shape Nx3x4 for size \(2, 3, 4, 5, 6\)\. Got "),
    (lambda m: F(m).affine_grid(_t(m, 2, 3), (2, 3, 4, 5), align_corners=False), ValueError,
     r"Expected a batch of 2D affine matrices of shape Nx2x3 for size \(2, 3, 4, 5\)\. Got "),
    (lambda m: F(m).affine_grid(_t(m, 2, 2, 3, dtype="int64"), (2, 3, 4, 5), align_corners=False), ValueError,
     r"Expected theta to have floating point type, but got \w+\.int64"),
    (lambda m: F(m).affine_grid(_t(m, 2, 2, 3), (2, 3, 0, 5), align_corners=False), ValueError,
     r"Expected non-zero, positive output size\. Got \(2, 3, 0, 5\)"),
]


@pytest.mark.parametrize("case", range(len(ERRORS)))
def test_errors_match_torch(torch, case):
    fn, exc, pattern = ERRORS[case]
    for m in (minitorch, torch):
        with pytest.raises(exc, match=pattern):
            fn(m)


def test_grid_sample_on_two_devices_is_refused(device):
    if device == "cpu":
        pytest.skip("needs a second device")
    x = minitorch.zeros(1, 1, 2, 2)
    g = minitorch.zeros(1, 1, 1, 2, device=device)
    with pytest.raises(RuntimeError, match=re.escape("grid_sampler(): expected input and grid to be on same device")):
        F(minitorch).grid_sample(x, g, align_corners=False)


# ---------------------------------------------------------------------------------------------------------------
# drawn shapes and arguments
# ---------------------------------------------------------------------------------------------------------------
from hypothesis import given, strategies as st  # noqa: E402


@st.composite
def block_args(draw):
    """An image shape with kernel, dilation, padding and stride that leave at least one block."""
    k = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    d = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    p = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    s = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    hw = [draw(st.integers(max(1, d[i] * (k[i] - 1) + 1 - 2 * p[i]), 6)) for i in range(2)]
    lead = (draw(st.integers(1, 2)), draw(st.integers(1, 3)))
    return lead + tuple(hw), k, d, p, s


@given(args=block_args(), noncontig=st.booleans())
def test_unfold_and_fold_drawn(torch, device, args, noncontig):
    shape, k, d, p, s = args
    check(torch, lambda m, x: F(m).unfold(x, k, d, p, s), [rand(*shape)], device, noncontig)
    cols = F(torch).unfold(torch.zeros(shape, dtype=torch.float64), k, d, p, s).shape
    check(torch, lambda m, c: F(m).fold(c, shape[-2:], k, d, p, s), [rand(*cols)], device, noncontig)


@st.composite
def pad_args(draw):
    mode = draw(st.sampled_from(["reflect", "replicate", "circular"]))
    n = draw(st.integers(1, 3))
    shape = tuple(draw(st.integers(1, 2)) for _ in range(draw(st.integers(0, 1)) + 1)) + \
        tuple(draw(st.integers(2, 4)) for _ in range(n))
    pad = []
    for i in range(n):
        size = shape[-1 - i]
        # circular: PyTorch crops by the negative pads first and wraps at most once around what is left
        cut = [draw(st.integers(-((size - 1) // 2), 0)) if draw(st.booleans()) else 0 for _ in range(2)]
        left = size + sum(cut) if mode == "circular" else size - 1 if mode == "reflect" else size
        pad += [c if c < 0 else draw(st.integers(0, left)) for c in cut]
    return mode, shape, tuple(pad)


@given(args=pad_args(), noncontig=st.booleans())
def test_pad_drawn(torch, device, args, noncontig):
    mode, shape, pad = args
    check(torch, lambda m, x: F(m).pad(x, pad, mode=mode), [rand(*shape)], device, noncontig)


def test_top_level_names(torch):
    x = rand(1, 8, 2, 2)
    for name in ("pixel_shuffle", "pixel_unshuffle", "channel_shuffle", "native_channel_shuffle"):
        got = getattr(minitorch, name)(minitorch.tensor(x), 2)
        want = getattr(torch, name)(torch.tensor(x), 2)
        np.testing.assert_allclose(to_np(got), want.numpy())
        assert hasattr(minitorch.nn.functional, name) == hasattr(torch.nn.functional, name)
