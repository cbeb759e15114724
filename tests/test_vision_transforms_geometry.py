"""vision.transforms geometry: resize, crops, affine/rotate/perspective, blur, erase and their random classes.

Oracles: PyTorch's ``F.interpolate``, ``F.grid_sample`` and ``F.conv2d`` (fed with grids and kernels built here from
torchvision's documented conventions, with matrices composed and inverted independently in NumPy), Pillow, and
NumPy slicing.
"""
import math
import random

import numpy as np
import pytest

import minitorch
from minitorch.vision import transforms as T
from minitorch.vision.transforms import functional as F

try:
    from PIL import Image
except ImportError:  # pragma: no cover
    Image = None

needs_pil = pytest.mark.skipif(Image is None, reason="Pillow is not installed")
IM = T.InterpolationMode


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def _rgb(h=17, w=23, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def _chw(a):
    return minitorch.from_numpy(np.ascontiguousarray(a.transpose(2, 0, 1)))


def _hwc(t):
    return np.moveaxis(t.numpy(), -3, -1)


# ----------------------------------------------------------------------------------------------------------------
# resize
# ----------------------------------------------------------------------------------------------------------------
@pytest.mark.torch
@pytest.mark.parametrize("size", [(8, 11), (34, 40), (5, 47), (17, 9)])
@pytest.mark.parametrize("mode, antialias", [("bilinear", True), ("bilinear", False), ("bicubic", True),
                                             ("bicubic", False), ("nearest", False), ("nearest-exact", False)])
def test_resize_matches_interpolate(torch, size, mode, antialias):
    a = np.random.default_rng(1).random((2, 3, 17, 23), dtype=np.float32)  # batched (N, C, H, W)
    out = F.resize(minitorch.from_numpy(a), list(size), IM(mode), antialias=antialias)
    kwargs = dict(align_corners=False, antialias=antialias) if mode in ("bilinear", "bicubic") else {}
    ref = torch.nn.functional.interpolate(torch.from_numpy(a), size=size, mode=mode, **kwargs).numpy()
    assert out.dtype is minitorch.float32 and tuple(out.shape) == ref.shape
    np.testing.assert_allclose(out.numpy(), ref, atol=3e-6, rtol=0)


@pytest.mark.torch
@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
def test_resize_float64_and_uint8(torch, mode):
    a = np.random.default_rng(2).random((3, 30, 20))
    out = F.resize(minitorch.from_numpy(a), [13, 44], IM(mode))
    ref = torch.nn.functional.interpolate(torch.from_numpy(a)[None], size=(13, 44), mode=mode, antialias=True)[0]
    assert out.dtype is minitorch.float64
    np.testing.assert_allclose(out.numpy(), ref.numpy(), atol=1e-12)
    u = (a * 255).astype(np.uint8)
    out = F.resize(minitorch.from_numpy(u), [13, 44], IM(mode))
    # torchvision: interpolate in float, clamp (bicubic), round
    ref = torch.nn.functional.interpolate(torch.from_numpy(u)[None].float(), size=(13, 44), mode=mode,
                                          antialias=True)[0].clamp(0, 255).round().byte().numpy()
    assert out.dtype is minitorch.uint8
    assert np.abs(out.numpy().astype(int) - ref.astype(int)).max() <= 1


def test_resize_smaller_edge_and_max_size():
    x = minitorch.zeros(3, 20, 30)
    assert tuple(F.resize(x, 10).shape) == (3, 10, 15)
    assert tuple(F.resize(x, [10]).shape) == (3, 10, 15)
    assert tuple(F.resize(x, 10, max_size=12).shape) == (3, 8, 12)  # the longer edge capped at max_size
    assert tuple(F.resize(x, None, max_size=15).shape) == (3, 10, 15)
    assert tuple(F.resize(minitorch.zeros(1, 30, 20), 10).shape) == (1, 15, 10)
    assert F.resize(x, [20, 30]) is x  # same size: returned as is, as torchvision
    assert tuple(T.Resize(None, max_size=15)(x).shape) == (3, 10, 15)
    assert tuple(T.Resize(10, IM.BICUBIC, antialias=False)(x).shape) == (3, 10, 15)
    assert T.Resize(4).__repr__() == "Resize(size=4, interpolation=bilinear, max_size=None, antialias=True)"


@needs_pil
def test_resize_pil_matches_pillow_and_tensor():
    a = _rgb(40, 60)
    img = Image.fromarray(a)
    for mode, pil in [(IM.BILINEAR, Image.BILINEAR), (IM.BICUBIC, Image.BICUBIC), (IM.NEAREST, Image.NEAREST),
                      (IM.LANCZOS, Image.LANCZOS), (IM.BOX, Image.BOX), (2, Image.BILINEAR)]:
        out = F.resize(img, [17, 25], mode)
        np.testing.assert_array_equal(np.asarray(out), np.asarray(img.resize((25, 17), pil)))
    with pytest.warns(UserWarning, match="Anti-alias option is always applied for PIL Image input"):
        F.resize(img, 10, antialias=False)
    # torchvision: antialiased bilinear on tensors is close to Pillow's
    t = _hwc(F.resize(_chw(a), [17, 25], IM.BILINEAR, antialias=True)).astype(int)
    p = np.asarray(F.resize(img, [17, 25], IM.BILINEAR)).astype(int)
    assert np.abs(t - p).mean() < 1.0 and np.abs(t - p).max() <= 2


def test_resized_crop():
    a = np.arange(2 * 12 * 16, dtype=np.float32).reshape(2, 12, 16)
    x = minitorch.from_numpy(a)
    out = F.resized_crop(x, 2, 3, 6, 8, [3, 4], IM.NEAREST)
    np.testing.assert_array_equal(out.numpy(), a[:, 2:8:2, 3:11:2])
    np.testing.assert_array_equal(F.resized_crop(x, 1, 2, 5, 7, [5, 7]).numpy(), a[:, 1:6, 2:9])


def test_resize_errors():
    x = minitorch.zeros(3, 8, 8)
    with pytest.raises(ValueError, match="Size must be an int or a 1 or 2 element tuple/list, not a 3 element"):
        F.resize(x, [1, 2, 3])
    with pytest.raises(ValueError, match="max_size should only be passed if size is None or specifies the length "
                                         "of the smaller edge"):
        F.resize(x, [4, 4], max_size=10)
    with pytest.raises(ValueError, match=r"max_size = 4 must be strictly greater than the requested size for the "
                                         r"smaller edge size = \[4\]"):
        F.resize(x, 4, max_size=4)
    with pytest.raises(ValueError, match="max_size must be an integer when size is None, but got None instead."):
        F.resize(x, None)
    with pytest.raises(TypeError, match="Argument interpolation should be a InterpolationMode or a corresponding "
                                        "Pillow integer constant"):
        F.resize(x, 4, interpolation="linear")
    with pytest.raises(ValueError, match="Interpolation mode 'lanczos' is unsupported with Tensor input"):
        F.resize(x, 4, IM.LANCZOS)
    with pytest.raises(TypeError, match="Size should be int or sequence. Got <class 'float'>"):
        T.Resize(2.5)
    with pytest.raises(ValueError, match="If size is a sequence, it should have 1 or 2 values"):
        T.Resize([])


def test_resize_is_vectorised():
    import time
    x = minitorch.rand(8, 3, 256, 256)
    F.resize(x, [224, 224])
    start = time.perf_counter()
    out = F.resize(x, [224, 224], IM.BICUBIC)
    assert tuple(out.shape) == (8, 3, 224, 224)
    assert time.perf_counter() - start < 5.0  # two matrix products, not a per-pixel loop


# ----------------------------------------------------------------------------------------------------------------
# crops
# ----------------------------------------------------------------------------------------------------------------
def test_five_and_ten_crop_geometry():
    a = np.arange(3 * 9 * 11, dtype=np.float32).reshape(3, 9, 11)
    x = minitorch.from_numpy(a)
    tl, tr, bl, br, c = F.five_crop(x, (4, 5))
    np.testing.assert_array_equal(tl.numpy(), a[:, :4, :5])
    np.testing.assert_array_equal(tr.numpy(), a[:, :4, 6:])
    np.testing.assert_array_equal(bl.numpy(), a[:, 5:, :5])
    np.testing.assert_array_equal(br.numpy(), a[:, 5:, 6:])
    np.testing.assert_array_equal(c.numpy(), a[:, 2:6, 3:8])  # top = round(5 / 2) = 2, left = round(6 / 2) = 3
    ten = T.TenCrop((4, 5))(x)
    assert len(ten) == 10
    np.testing.assert_array_equal(ten[5].numpy(), a[:, :4, ::-1][:, :, :5])  # top-left of the mirror image
    np.testing.assert_array_equal(ten[8].numpy(), a[:, :, ::-1][:, 5:, 6:])
    vten = T.TenCrop(3, vertical_flip=True)(x)
    np.testing.assert_array_equal(vten[5].numpy(), a[:, ::-1][:, :3, :3])
    assert [tuple(t.shape) for t in T.FiveCrop(2)(minitorch.zeros(2, 3, 5, 5))] == [(2, 3, 2, 2)] * 5
    assert repr(T.FiveCrop(2)) == "FiveCrop(size=(2, 2))"


@needs_pil
def test_five_crop_pil_agrees_with_tensor():
    a = _rgb(9, 12)
    for p, t in zip(T.TenCrop((5, 6))(Image.fromarray(a)), T.TenCrop((5, 6))(_chw(a))):
        np.testing.assert_array_equal(np.asarray(p), _hwc(t))


def test_crop_errors():
    x = minitorch.zeros(1, 4, 4)
    with pytest.raises(ValueError, match=r"Requested crop size \(5, 2\) is bigger than input size \(4, 4\)"):
        F.five_crop(x, (5, 2))
    with pytest.raises(ValueError, match=r"Please provide only two dimensions \(h, w\) for size."):
        F.ten_crop(x, (1, 2, 3))
    with pytest.raises(ValueError, match=r"Please provide only two dimensions \(h, w\) for size."):
        T.FiveCrop((1, 2, 3))
    with pytest.raises(ValueError, match=r"Please provide only two dimensions \(h, w\) for size."):
        T.RandomResizedCrop((1, 2, 3))


# ----------------------------------------------------------------------------------------------------------------
# affine, rotate, perspective against grid_sample on torchvision's grid
# ----------------------------------------------------------------------------------------------------------------
def _forward_affine(angle, translate, scale, shear):
    """T * R(angle) * S(scale) * ShearY * ShearX as a 3x3 matrix about the origin (degrees, clockwise on screen)."""
    a, sx, sy = (math.radians(v) for v in (angle, shear[0], shear[1]))
    R = np.array([[math.cos(a), -math.sin(a), 0], [math.sin(a), math.cos(a), 0], [0, 0, 1]])
    Shx = np.array([[1, -math.tan(sx), 0], [0, 1, 0], [0, 0, 1]])
    Shy = np.array([[1, 0, 0], [-math.tan(sy), 1, 0], [0, 0, 1]])
    Tr = np.array([[1, 0, translate[0]], [0, 1, translate[1]], [0, 0, 1]])
    return Tr @ R @ np.diag([scale, scale, 1.0]) @ Shy @ Shx


def _about(M, cx, cy):
    C = np.array([[1, 0, cx], [0, 1, cy], [0, 0, 1.0]])
    Ci = np.array([[1, 0, -cx], [0, 1, -cy], [0, 0, 1.0]])
    Tpart = np.eye(3)
    Tpart[:2, 2] = M[:2, 2]
    L = M.copy()
    L[:2, 2] = 0
    return Tpart @ C @ L @ Ci  # translate after turning about the centre


def _torch_sample(torch, a, in_x, in_y, mode, fill):
    """grid_sample at input positions in corner coordinates (pixel i covers [i, i+1)), with torchvision's fill mask."""
    h, w = a.shape[-2:]
    img = torch.from_numpy(a.astype(np.float64)).reshape(-1, a.shape[-3], h, w)
    n, c = img.shape[:2]
    grid = torch.stack([torch.from_numpy(in_x / (0.5 * w) - 1), torch.from_numpy(in_y / (0.5 * h) - 1)], -1)
    img = torch.cat([img, torch.ones(n, 1, h, w, dtype=torch.float64)], 1)
    out = torch.nn.functional.grid_sample(img, grid.expand(n, -1, -1, -1), mode=mode, padding_mode="zeros",
                                          align_corners=False)
    out, mask = out[:, :-1], out[:, -1:].expand_as(out[:, :-1])
    if fill is not None:
        fill_img = torch.tensor(fill, dtype=torch.float64).view(1, -1, 1, 1).expand_as(out)
        out = torch.where(mask < 0.5, fill_img, out) if mode == "nearest" else out * mask + (1 - mask) * fill_img
    # positions halfway between two pixel centres: nearest may round them either way
    tie = (np.abs((in_x - 0.5) % 1 - 0.5) < 1e-6) | (np.abs((in_y - 0.5) % 1 - 0.5) < 1e-6)
    return out.numpy().reshape(a.shape[:-2] + out.shape[-2:]), tie


def _torch_affine(torch, a, inverse, ow, oh, mode, fill):
    """Map output pixel centres through ``inverse`` (corner coordinates, 3x3) and sample with grid_sample."""
    yo, xo = np.mgrid[0:oh, 0:ow] + 0.5
    pts = inverse @ np.stack([xo.ravel(), yo.ravel(), np.ones(xo.size)])
    return _torch_sample(torch, a, pts[0].reshape(oh, ow), pts[1].reshape(oh, ow), mode, fill)


def _assert_warp_close(out, ref, tie, mode, atol):
    diff = np.abs(out - ref) > atol
    if mode == "nearest":
        assert not (diff & ~tie).any()
    else:
        np.testing.assert_allclose(out, ref, atol=atol)


@pytest.mark.torch
@pytest.mark.parametrize("angle, translate, scale, shear, center", [
    (30.0, (0, 0), 1.0, (0.0, 0.0), None), (-47.0, (3, -2), 0.8, (10.0, 0.0), None),
    (12.0, (1, 4), 1.3, (-8.0, 15.0), (5, 4)), (0.0, (2, 1), 1.0, (0.0, 0.0), None), (90.0, (0, 0), 2.0, (0, 0), None)])
@pytest.mark.parametrize("mode, fill", [("nearest", None), ("bilinear", None), ("nearest", [9.0, 8.0, 7.0]),
                                        ("bilinear", [0.5])])
def test_affine_matches_grid_sample(torch, angle, translate, scale, shear, center, mode, fill):
    a = np.random.default_rng(3).random((2, 3, 13, 16))
    h, w = a.shape[-2:]
    cx, cy = (w * 0.5, h * 0.5) if center is None else center
    inverse = np.linalg.inv(_about(_forward_affine(angle, translate, scale, shear), cx, cy))
    ref, tie = _torch_affine(torch, a, inverse, w, h, mode, fill)
    out = F.affine(minitorch.from_numpy(a), angle, list(translate), scale, list(shear), IM(mode), fill, center)
    _assert_warp_close(out.numpy(), ref, tie, mode, 1e-9)


@pytest.mark.torch
@pytest.mark.parametrize("angle, expand, center", [(33.0, False, None), (-120.0, True, None), (77.0, True, None),
                                                   (20.0, False, (3, 9))])
@pytest.mark.parametrize("mode", ["nearest", "bilinear"])
def test_rotate_matches_grid_sample(torch, angle, expand, center, mode):
    a = np.random.default_rng(4).random((3, 11, 14)).astype(np.float32)
    h, w = a.shape[-2:]
    cx, cy = (w * 0.5, h * 0.5) if center is None else center
    forward = _about(_forward_affine(-angle, (0, 0), 1.0, (0, 0)), cx, cy)  # counter-clockwise
    ow, oh = w, h
    inverse = np.linalg.inv(forward)
    if expand:  # the rotated corners' bounding box, the image centre kept at the output centre
        corners = forward @ np.array([[0, w, w, 0], [0, 0, h, h], [1, 1, 1, 1.0]])
        ow = int(math.ceil(corners[0].max() - 1e-4) - math.floor(corners[0].min() + 1e-4))
        oh = int(math.ceil(corners[1].max() - 1e-4) - math.floor(corners[1].min() + 1e-4))
        shift = np.array([[1, 0, (w - ow) / 2], [0, 1, (h - oh) / 2], [0, 0, 1.0]])
        inverse = inverse @ shift
    ref, tie = _torch_affine(torch, a, inverse, ow, oh, mode, [1.0, 2.0, 3.0])
    out = F.rotate(minitorch.from_numpy(a), angle, IM(mode), expand, center, [1.0, 2.0, 3.0])
    assert tuple(out.shape) == ref.shape and out.dtype is minitorch.float32
    _assert_warp_close(out.numpy(), ref, tie, mode, 1e-5)


def test_rotate_quarter_turns_and_integer_translation():
    a = np.arange(2 * 6 * 6, dtype=np.float32).reshape(2, 6, 6)
    x = minitorch.from_numpy(a)
    np.testing.assert_array_equal(F.rotate(x, 90).numpy(), np.rot90(a, 1, axes=(1, 2)))
    np.testing.assert_array_equal(F.rotate(x, -90.0, IM.BILINEAR).numpy(), np.rot90(a, -1, axes=(1, 2)))
    np.testing.assert_array_equal(F.rotate(x, 180, expand=True).numpy(), a[:, ::-1, ::-1])
    shifted = F.affine(x, 0.0, [2, -1], 1.0, 0.0, fill=-1.0).numpy()
    expect = np.full_like(a, -1.0)
    expect[:, :5, 2:] = a[:, 1:, :4]
    np.testing.assert_array_equal(shifted, expect)
    u = minitorch.from_numpy(np.full((1, 9, 9), 200, np.uint8))
    out = F.rotate(u, 45, IM.BILINEAR, fill=[10])
    assert out.dtype is minitorch.uint8 and out.numpy()[0, 4, 4] == 200 and out.numpy()[0, 0, 0] == 10
    edge = out.numpy()[0, 0, 2]  # partly inside: torchvision blends sampled * mask + (1 - mask) * fill
    assert 10 < edge < 200


@needs_pil
@pytest.mark.parametrize("angle, translate, scale, shear", [(25.0, (2, -3), 1.1, (5.0, 0.0)), (-60.0, (0, 0), 0.7,
                                                                                                (0.0, 12.0))])
def test_affine_tensor_agrees_with_pil(angle, translate, scale, shear):
    a = _rgb(19, 24)
    pil = np.asarray(F.affine(Image.fromarray(a), angle, list(translate), scale, list(shear), fill=(4, 5, 6)))
    # Pillow's own transform with the inverse of the composed matrix about the image centre
    inverse = np.linalg.inv(_about(_forward_affine(angle, translate, scale, shear), 12.0, 9.5))
    direct = np.asarray(Image.fromarray(a).transform((24, 19), Image.AFFINE, tuple(inverse[:2].ravel()),
                                                     Image.NEAREST, fillcolor=(4, 5, 6)))
    assert (pil != direct).any(-1).mean() < 0.01
    tensor = _hwc(F.affine(_chw(a), angle, list(translate), scale, list(shear), fill=[4.0, 5.0, 6.0]))
    assert (tensor != pil).any(-1).mean() < 0.03  # torchvision's tensor-vs-PIL tolerance for nearest warps


@needs_pil
@pytest.mark.parametrize("angle, expand, center", [(30.0, False, None), (135.0, True, None), (-10.0, False, (4, 6))])
def test_rotate_pil_and_tensor_agree(angle, expand, center):
    a = _rgb(15, 21)
    pil = np.asarray(F.rotate(Image.fromarray(a), angle, expand=expand, center=center, fill=(1, 2, 3)))
    direct = np.asarray(Image.fromarray(a).rotate(angle, Image.NEAREST, expand, center, fillcolor=(1, 2, 3)))
    np.testing.assert_array_equal(pil, direct)
    tensor = _hwc(F.rotate(_chw(a), angle, expand=expand, center=center, fill=[1.0, 2.0, 3.0]))
    assert tensor.shape == pil.shape
    assert (tensor != pil).any(-1).mean() < 0.03


def _homography(src, dst):
    """The 3x3 projective map taking each ``src`` point to its ``dst`` point (DLT: null space of an 8x9 system)."""
    rows = []
    for (x, y), (u, v) in zip(src, dst):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y, -u])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y, -v])
    H = np.linalg.svd(np.array(rows, dtype=np.float64))[2][-1].reshape(3, 3)
    return H / H[2, 2]


@pytest.mark.torch
@pytest.mark.parametrize("mode, fill", [("bilinear", None), ("nearest", [3.0]), ("bilinear", [1.0, 2.0, 3.0])])
def test_perspective_matches_grid_sample(torch, mode, fill):
    a = np.random.default_rng(5).random((3, 18, 22)).astype(np.float32)
    start = [[0, 0], [21, 0], [21, 17], [0, 17]]
    end = [[3, 2], [19, 1], [20, 15], [1, 16]]
    out = F.perspective(minitorch.from_numpy(a), start, end, IM(mode), fill)
    inverse = _homography(end, start)  # output corner -> input corner
    yo, xo = np.mgrid[0:18, 0:22] + 0.5
    p = inverse @ np.stack([xo.ravel(), yo.ravel(), np.ones(xo.size)])
    ref, _ = _torch_sample(torch, a, (p[0] / p[2]).reshape(18, 22), (p[1] / p[2]).reshape(18, 22), mode, fill)
    if mode == "nearest":  # torchvision rounds the coefficients to float32: a rare near-tie may round apart
        assert (np.abs(out.numpy() - ref) > 1e-6).mean() < 0.01
    else:
        np.testing.assert_allclose(out.numpy(), ref, atol=2e-4)


@needs_pil
def test_perspective_pil_and_tensor():
    a = _rgb(20, 24)
    start = [[0, 0], [23, 0], [23, 19], [0, 19]]
    end = [[2, 3], [21, 0], [23, 16], [4, 18]]
    pil = np.asarray(F.perspective(Image.fromarray(a), start, end, IM.NEAREST, fill=(7, 7, 7)))
    H = _homography(end, start)
    direct = np.asarray(Image.fromarray(a).transform((24, 20), Image.PERSPECTIVE, tuple((H.ravel() / H[2, 2])[:8]),
                                                     Image.NEAREST, fillcolor=(7, 7, 7)))
    assert (pil != direct).any(-1).mean() < 0.01
    tensor = _hwc(F.perspective(_chw(a), start, end, IM.NEAREST, fill=[7.0, 7.0, 7.0]))
    assert (tensor != pil).any(-1).mean() < 0.05


def test_warp_errors():
    x = minitorch.zeros(3, 6, 6)
    with pytest.raises(ValueError, match=r"The number of elements in 'fill' cannot broadcast to match the number of "
                                         r"channels of the image \(2 != 3\)"):
        F.affine(x, 10.0, [0, 0], 1.0, 0.0, fill=[1.0, 2.0])
    with pytest.raises(ValueError, match="Interpolation mode 'bicubic' is unsupported with Tensor input"):
        F.rotate(x, 10.0, IM.BICUBIC)
    with pytest.raises(ValueError, match="Interpolation mode 'bicubic' is unsupported with Tensor input"):
        F.perspective(x, [[0, 0]] * 4, [[0, 0]] * 4, IM.BICUBIC)
    with pytest.raises(TypeError, match="Argument interpolation should be a InterpolationMode or a corresponding "
                                        "Pillow integer constant"):
        F.affine(x, 10.0, [0, 0], 1.0, 0.0, interpolation="bilinear")
    with pytest.raises(TypeError, match="Argument angle should be int or float"):
        F.affine(x, "10", [0, 0], 1.0, 0.0)
    with pytest.raises(TypeError, match="Argument translate should be a sequence"):
        F.affine(x, 10.0, 1, 1.0, 0.0)
    with pytest.raises(ValueError, match="Argument translate should be a sequence of length 2"):
        F.affine(x, 10.0, [1], 1.0, 0.0)
    with pytest.raises(ValueError, match="Argument scale should be positive"):
        F.affine(x, 10.0, [0, 0], 0.0, 0.0)
    with pytest.raises(TypeError, match="Shear should be either a single value or a sequence of two values"):
        F.affine(x, 10.0, [0, 0], 1.0, "0")
    with pytest.raises(ValueError, match=r"Shear should be a sequence containing two values. Got \[1, 2, 3\]"):
        F.affine(x, 10.0, [0, 0], 1.0, [1, 2, 3])
    with pytest.raises(TypeError, match="Argument center should be a sequence"):
        F.affine(x, 10.0, [0, 0], 1.0, 0.0, center=3)
    with pytest.raises(TypeError, match="Argument angle should be int or float"):
        F.rotate(x, None)
    with pytest.raises(TypeError, match="Argument center should be a sequence"):
        F.rotate(x, 3, center=1)
    with pytest.raises(ValueError, match="Please provide exactly four corners, got 3 startpoints and 4 endpoints."):
        F.perspective(x, [[0, 0]] * 3, [[0, 0]] * 4)
    if Image is not None:
        with pytest.raises(ValueError, match=r"The number of elements in 'fill' does not match the number of "
                                             r"channels of the image \(2 != 3\)"):
            F.rotate(Image.fromarray(_rgb(4, 4)), 10, fill=(1, 2))


# ----------------------------------------------------------------------------------------------------------------
# pad on tensors
# ----------------------------------------------------------------------------------------------------------------
@pytest.mark.torch
@pytest.mark.parametrize("mode, torch_mode", [("constant", "constant"), ("edge", "replicate"),
                                              ("reflect", "reflect")])
def test_pad_tensor_matches_torch(torch, mode, torch_mode):
    a = np.random.default_rng(6).random((2, 3, 5, 6)).astype(np.float32)
    out = F.pad(minitorch.from_numpy(a), [1, 2, 3, 4], padding_mode=mode)
    ref = torch.nn.functional.pad(torch.from_numpy(a), (1, 3, 2, 4), mode=torch_mode).numpy()
    np.testing.assert_array_equal(out.numpy(), ref)
    sym = F.pad(minitorch.from_numpy(a), [2, 1], padding_mode="symmetric").numpy()
    np.testing.assert_array_equal(sym, np.pad(a, [(0, 0), (0, 0), (1, 1), (2, 2)], mode="symmetric"))


def test_pad_tensor_errors():
    x = minitorch.zeros(1, 3, 3)
    with pytest.raises(TypeError, match="Got inappropriate fill arg"):
        F.pad(x, 1, fill=(1, 2, 3))
    with pytest.raises(RuntimeError, match=r"Padding size should be less than the corresponding input dimension, "
                                           r"but got: padding \(3, 3\) at dimension 2 of input \[1, 3, 3\]"):
        F.pad(x, 3, padding_mode="reflect")


# ----------------------------------------------------------------------------------------------------------------
# gaussian blur
# ----------------------------------------------------------------------------------------------------------------
def _torch_blur(torch, a, kernel_size, sigma):
    kx, ky = kernel_size
    def k1(k, s):
        x = torch.arange(k, dtype=torch.float64) - (k - 1) / 2
        p = torch.exp(-0.5 * (x / s) ** 2)
        return p / p.sum()
    kernel = torch.outer(k1(ky, sigma[1]), k1(kx, sigma[0]))
    t = torch.from_numpy(a.astype(np.float64)).reshape(-1, a.shape[-3], *a.shape[-2:])
    c = t.shape[1]
    t = torch.nn.functional.pad(t, (kx // 2, kx // 2, ky // 2, ky // 2), mode="reflect")
    return torch.nn.functional.conv2d(t, kernel.expand(c, 1, ky, kx), groups=c).numpy().reshape(a.shape)


@pytest.mark.torch
@pytest.mark.parametrize("kernel_size, sigma", [(3, None), ((5, 3), (1.5, 0.7)), ([7, 7], 2.0), (5, [0.8])])
def test_gaussian_blur_matches_conv(torch, kernel_size, sigma):
    a = np.random.default_rng(7).random((2, 3, 12, 15)).astype(np.float32)
    out = F.gaussian_blur(minitorch.from_numpy(a), kernel_size, sigma)
    ks = [kernel_size] * 2 if isinstance(kernel_size, int) else list(kernel_size)
    sg = [k * 0.15 + 0.35 for k in ks] if sigma is None else (
        [float(sigma)] * 2 if isinstance(sigma, (int, float)) else list(sigma) * (2 // len(sigma)))
    assert out.dtype is minitorch.float32
    np.testing.assert_allclose(out.numpy(), _torch_blur(torch, a, ks, sg), atol=1e-6)


@needs_pil
@pytest.mark.torch
def test_gaussian_blur_pil_and_uint8(torch):
    a = _rgb(10, 13)
    ref = np.round(_torch_blur(torch, a.transpose(2, 0, 1), [5, 3], [1.2, 0.9])).astype(np.uint8)
    t = F.gaussian_blur(_chw(a), [5, 3], [1.2, 0.9])
    assert t.dtype is minitorch.uint8
    assert np.abs(t.numpy().astype(int) - ref.astype(int)).max() <= 1
    p = F.gaussian_blur(Image.fromarray(a), [5, 3], [1.2, 0.9])
    assert p.mode == "RGB"
    np.testing.assert_array_equal(np.asarray(p), _hwc(t))


def test_gaussian_blur_errors():
    x = minitorch.zeros(1, 8, 8)
    with pytest.raises(TypeError, match="kernel_size should be int or a sequence of integers. Got <class 'float'>"):
        F.gaussian_blur(x, 3.0)
    with pytest.raises(ValueError, match="If kernel_size is a sequence its length should be 2. Got 3"):
        F.gaussian_blur(x, [3, 3, 3])
    with pytest.raises(ValueError, match=r"kernel_size should have odd and positive integers. Got \[4, 3\]"):
        F.gaussian_blur(x, [4, 3])
    with pytest.raises(TypeError, match="sigma should be either float or sequence of floats. Got <class 'str'>"):
        F.gaussian_blur(x, 3, "1")
    with pytest.raises(ValueError, match="If sigma is a sequence, its length should be 2. Got 3"):
        F.gaussian_blur(x, 3, [1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match=r"sigma should have positive values. Got \[0.0, 0.0\]"):
        F.gaussian_blur(x, 3, 0.0)
    with pytest.raises(TypeError, match="img should be PIL Image or Tensor. Got <class 'list'>"):
        F.gaussian_blur([[1]], 3)
    with pytest.raises(ValueError, match="Kernel size value should be an odd and positive number."):
        T.GaussianBlur(4)
    with pytest.raises(ValueError, match="Kernel size should be a tuple/list of two integers"):
        T.GaussianBlur((3, 3, 3))
    with pytest.raises(ValueError, match="If sigma is a single number, it must be positive."):
        T.GaussianBlur(3, -1.0)
    with pytest.raises(ValueError, match=r"sigma values should be positive and of the form \(min, max\)."):
        T.GaussianBlur(3, (2.0, 1.0))
    with pytest.raises(ValueError, match="sigma should be a single number or a list/tuple with length 2."):
        T.GaussianBlur(3, (1.0, 2.0, 3.0))


@pytest.mark.torch
def test_gaussian_blur_class_draws_sigma(torch):
    a = np.random.default_rng(8).random((1, 9, 9)).astype(np.float32)
    minitorch.manual_seed(5)
    out = T.GaussianBlur(5, (0.5, 1.5))(minitorch.from_numpy(a))
    minitorch.manual_seed(5)
    sigma = minitorch.empty(1).uniform_(0.5, 1.5).item()
    assert 0.5 <= sigma < 1.5
    np.testing.assert_allclose(out.numpy(), _torch_blur(torch, a, [5, 5], [sigma, sigma]), atol=1e-6)


# ----------------------------------------------------------------------------------------------------------------
# erase, RandomErasing
# ----------------------------------------------------------------------------------------------------------------
def test_erase():
    a = np.random.default_rng(9).random((2, 3, 6, 7)).astype(np.float32)
    x = minitorch.from_numpy(a.copy())
    out = F.erase(x, 1, 2, 3, 4, 0.5)
    expect = a.copy()
    expect[..., 1:4, 2:6] = 0.5
    np.testing.assert_array_equal(out.numpy(), expect)
    np.testing.assert_array_equal(x.numpy(), a)  # not in place by default
    v = minitorch.arange(3.0).reshape(3, 1, 1)
    same = F.erase(x, 0, 0, 2, 2, v, inplace=True)
    assert same is x
    assert x.numpy()[1, :, :2, :2].tolist() == [[[0.0] * 2] * 2, [[1.0] * 2] * 2, [[2.0] * 2] * 2]
    with pytest.raises(TypeError, match="img should be Tensor Image. Got <class 'numpy.ndarray'>"):
        F.erase(a, 0, 0, 1, 1, 0.0)


def test_random_erasing_draws_and_values():
    x = minitorch.ones(3, 20, 30)
    minitorch.manual_seed(11)
    out = T.RandomErasing(p=1.0, value=(2.0, 3.0, 4.0))(x)
    changed = (out.numpy() != 1.0).any(0)
    rows, cols = np.nonzero(changed)
    h, w = rows.max() - rows.min() + 1, cols.max() - cols.min() + 1
    assert changed.sum() == h * w and 0.02 * 600 * 0.5 <= h * w <= 0.33 * 600 * 1.5  # one rectangle
    assert out.numpy()[:, rows[0], cols[0]].tolist() == [2.0, 3.0, 4.0]
    np.testing.assert_array_equal(x.numpy(), 1.0)
    # the same draws, in torchvision's order: p, then area and log-ratio, then noise, then the corner
    minitorch.manual_seed(11)
    assert minitorch.rand(1).item() < 1.0
    i, j, hh, ww, _ = T.RandomErasing.get_params(x, scale=(0.02, 0.33), ratio=(0.3, 3.3), value=[2.0, 3.0, 4.0])
    assert (i, j, hh, ww) == (rows.min(), cols.min(), h, w)
    minitorch.manual_seed(3)
    noisy = T.RandomErasing(p=1.0, value="random")(x)
    region = noisy.numpy()[noisy.numpy() != 1.0]
    assert region.size > 10 and abs(region.mean()) < 1.0 and region.std() > 0.3  # standard normal noise
    assert T.RandomErasing(p=0.0)(x) is x
    inplace = minitorch.ones(1, 10, 10)
    assert T.RandomErasing(p=1.0, inplace=True)(inplace) is inplace and (inplace.numpy() == 0).any()
    # no window fits: the image itself comes back unchanged
    assert T.RandomErasing.get_params(x, scale=(1.0, 1.0), ratio=(1.0, 1.0))[4] is x


def test_random_erasing_errors():
    with pytest.raises(TypeError, match="Argument value should be either a number or str or a sequence"):
        T.RandomErasing(value={1})
    with pytest.raises(ValueError, match="If value is str, it should be 'random'"):
        T.RandomErasing(value="noise")
    with pytest.raises(TypeError, match="Scale should be a sequence"):
        T.RandomErasing(scale=0.5)
    with pytest.raises(TypeError, match="Ratio should be a sequence"):
        T.RandomErasing(ratio=1.0)
    with pytest.raises(ValueError, match="Scale should be between 0 and 1"):
        T.RandomErasing(scale=(0.5, 2.0))
    with pytest.raises(ValueError, match="Random erasing probability should be between 0 and 1"):
        T.RandomErasing(p=1.5)
    with pytest.warns(UserWarning, match=r"Scale and ratio should be of kind \(min, max\)"):
        T.RandomErasing(scale=(0.3, 0.1))
    with pytest.raises(ValueError, match=r"If value is a sequence, it should have either a single value or 3 "
                                         r"\(number of input channels\)"):
        T.RandomErasing(p=1.0, value=(1, 2))(minitorch.zeros(3, 5, 5))


# ----------------------------------------------------------------------------------------------------------------
# RandomResizedCrop
# ----------------------------------------------------------------------------------------------------------------
def test_random_resized_crop_get_params_statistics():
    img = minitorch.zeros(1, 200, 200)
    minitorch.manual_seed(0)
    params = [T.RandomResizedCrop.get_params(img, (0.08, 0.5), (3 / 4, 4 / 3)) for _ in range(400)]
    area = np.array([h * w for _, _, h, w in params]) / (200 * 200)
    ratio = np.array([w / h for _, _, h, w in params])
    for i, j, h, w in params:
        assert 0 <= i <= 200 - h and 0 <= j <= 200 - w and h > 0 and w > 0
    assert area.min() >= 0.075 and area.max() <= 0.52
    assert ratio.min() > 0.73 and ratio.max() < 1.36
    assert abs(np.median(np.log(ratio))) < 0.04  # log-uniform ratio: symmetric about 1
    assert abs(area.mean() - 0.29) < 0.03  # uniform area fraction on [0.08, 0.5]
    assert len({(i, j) for i, j, _, _ in params}) > 350  # the corner is drawn too
    # reproducible from the seed
    minitorch.manual_seed(0)
    again = [T.RandomResizedCrop.get_params(img, (0.08, 0.5), (3 / 4, 4 / 3)) for _ in range(400)]
    assert again == params


def test_random_resized_crop_draw_order():
    img = minitorch.zeros(3, 50, 70)
    minitorch.manual_seed(21)
    got = T.RandomResizedCrop.get_params(img, (0.2, 0.5), (0.5, 2.0))
    minitorch.manual_seed(21)  # torchvision's draws, spelled out
    log_r = np.log(np.float32([0.5, 2.0]))
    while True:
        area = 3500 * minitorch.empty(1).uniform_(0.2, 0.5).item()
        r = math.exp(minitorch.empty(1).uniform_(float(log_r[0]), float(log_r[1])).item())
        w, h = int(round(math.sqrt(area * r))), int(round(math.sqrt(area / r)))
        if 0 < w <= 70 and 0 < h <= 50:
            break
    i = minitorch.randint(0, 50 - h + 1, size=(1,)).item()
    j = minitorch.randint(0, 70 - w + 1, size=(1,)).item()
    assert got[2:] == (h, w) and got[:2] == (i, j)


def test_random_resized_crop_fallback_and_call():
    wide = minitorch.zeros(1, 10, 100)
    # no draw fits (area 5x the image): the central crop with the ratio clamped to 4/3
    assert T.RandomResizedCrop.get_params(wide, (5.0, 6.0), (3 / 4, 4 / 3)) == (0, 43, 10, 13)
    tall = minitorch.zeros(1, 100, 10)
    assert T.RandomResizedCrop.get_params(tall, (5.0, 6.0), (3 / 4, 4 / 3)) == (43, 0, 13, 10)
    assert T.RandomResizedCrop.get_params(minitorch.zeros(1, 10, 11), (5.0, 6.0), (3 / 4, 4 / 3)) == (0, 0, 10, 11)
    a = np.random.default_rng(12).random((3, 40, 50)).astype(np.float32)
    x = minitorch.from_numpy(a)
    t = T.RandomResizedCrop((16, 20), antialias=True)
    minitorch.manual_seed(2)
    out = t(x)
    minitorch.manual_seed(2)
    i, j, h, w = t.get_params(x, t.scale, t.ratio)
    np.testing.assert_array_equal(out.numpy(), F.resize(minitorch.from_numpy(a[:, i:i + h, j:j + w].copy()),
                                                        [16, 20]).numpy())
    assert repr(T.RandomResizedCrop(8)) == ("RandomResizedCrop(size=(8, 8), scale=(0.08, 1.0), ratio=(0.75, 1.3333), "
                                            "interpolation=bilinear, antialias=True)")
    if Image is not None:
        minitorch.manual_seed(2)
        assert T.RandomResizedCrop(12)(Image.fromarray(_rgb(30, 40))).size == (12, 12)
    with pytest.raises(TypeError, match="Scale should be a sequence"):
        T.RandomResizedCrop(8, scale=0.5)
    with pytest.raises(TypeError, match="Ratio should be a sequence"):
        T.RandomResizedCrop(8, ratio=1.0)
    with pytest.warns(UserWarning, match=r"Scale and ratio should be of kind \(min, max\)"):
        T.RandomResizedCrop(8, ratio=(2.0, 1.0))


# ----------------------------------------------------------------------------------------------------------------
# RandomAffine, RandomPerspective, RandomRotation, RandomCrop draws
# ----------------------------------------------------------------------------------------------------------------
def test_random_affine_get_params_and_call():
    minitorch.manual_seed(4)
    draws = [T.RandomAffine.get_params([-20.0, 30.0], (0.1, 0.2), (0.7, 1.2), [-5.0, 5.0, -3.0, 3.0], [50, 40])
             for _ in range(200)]
    for angle, (tx, ty), scale, (sx, sy) in draws:
        assert -20 <= angle < 30 and abs(tx) <= 5 and abs(ty) <= 8 and 0.7 <= scale < 1.2
        assert -5 <= sx < 5 and -3 <= sy < 3 and isinstance(tx, int)
    assert len({d[0] for d in draws}) == 200
    assert T.RandomAffine.get_params([0.0, 0.0], None, None, None, [5, 5]) == (0.0, (0, 0), 1.0, (0.0, 0.0))
    x = minitorch.from_numpy(np.random.default_rng(13).random((3, 12, 14)).astype(np.float32))
    t = T.RandomAffine(25, translate=(0.1, 0.1), scale=(0.9, 1.1), shear=8, interpolation=IM.BILINEAR, fill=0.5)
    minitorch.manual_seed(6)
    out = t(x)
    minitorch.manual_seed(6)
    angle, translate, scale, shear = t.get_params(t.degrees, t.translate, t.scale, t.shear, [14, 12])
    expect = F.affine(x, angle, list(translate), scale, list(shear), IM.BILINEAR, [0.5] * 3)
    np.testing.assert_array_equal(out.numpy(), expect.numpy())
    assert t.degrees == [-25.0, 25.0] and t.shear == [-8.0, 8.0]


def test_random_affine_errors():
    with pytest.raises(ValueError, match="If degrees is a single number, it must be positive."):
        T.RandomAffine(-1)
    with pytest.raises(ValueError, match="degrees should be a sequence of length 2."):
        T.RandomAffine([1, 2, 3])
    with pytest.raises(TypeError, match="translate should be a sequence of length 2."):
        T.RandomAffine(0, translate=0.1)
    with pytest.raises(ValueError, match="translation values should be between 0 and 1"):
        T.RandomAffine(0, translate=(0.1, 1.5))
    with pytest.raises(ValueError, match="scale values should be positive"):
        T.RandomAffine(0, scale=(0.0, 1.0))
    with pytest.raises(ValueError, match="shear should be a sequence of length 2 or 4."):
        T.RandomAffine(0, shear=(1, 2, 3))
    with pytest.raises(TypeError, match="Fill should be either a sequence or a number."):
        T.RandomAffine(0, fill={1})
    with pytest.raises(ValueError, match="center should be a sequence of length 2."):
        T.RandomAffine(0, center=(1, 2, 3))


def test_random_perspective():
    minitorch.manual_seed(7)
    for _ in range(50):
        start, end = T.RandomPerspective.get_params(40, 30, 0.5)
        assert start == [[0, 0], [39, 0], [39, 29], [0, 29]]
        (tlx, tly), (trx, try_), (brx, bry), (blx, bly) = end
        assert 0 <= tlx <= 10 and 0 <= tly <= 7 and 29 <= trx <= 39 and 0 <= try_ <= 7
        assert 29 <= brx <= 39 and 22 <= bry <= 29 and 0 <= blx <= 10 and 22 <= bly <= 29
    x = minitorch.from_numpy(np.random.default_rng(14).random((3, 16, 20)).astype(np.float32))
    assert T.RandomPerspective(p=0.0)(x) is x
    t = T.RandomPerspective(0.4, p=1.0, fill=1)
    minitorch.manual_seed(8)
    out = t(x)
    minitorch.manual_seed(8)
    assert minitorch.rand(1).item() < 1.0
    start, end = t.get_params(20, 16, 0.4)
    np.testing.assert_array_equal(out.numpy(), F.perspective(x, start, end, IM.BILINEAR, [1.0] * 3).numpy())
    with pytest.raises(TypeError, match="Fill should be either a sequence or a number."):
        T.RandomPerspective(fill={1})


def test_random_rotation_draws_as_torchvision():
    x = minitorch.from_numpy(np.random.default_rng(15).random((1, 9, 9)).astype(np.float32))
    t = T.RandomRotation((10, 40), interpolation=IM.BILINEAR)
    minitorch.manual_seed(9)
    out = t(x)
    minitorch.manual_seed(9)
    angle = minitorch.empty(1).uniform_(10.0, 40.0).item()
    minitorch.manual_seed(9)
    assert t.get_params([10.0, 40.0]) == angle
    np.testing.assert_array_equal(out.numpy(), F.rotate(x, angle, IM.BILINEAR, fill=[0.0]).numpy())


# ----------------------------------------------------------------------------------------------------------------
# containers and LinearTransformation
# ----------------------------------------------------------------------------------------------------------------
def test_random_apply_choice_order():
    add1 = T.Lambda(lambda v: v + 1)
    double = T.Lambda(lambda v: v * 2)
    minitorch.manual_seed(1)
    results = [T.RandomApply([add1, double], p=0.5)(1) for _ in range(200)]
    assert set(results) == {1, 4} and 60 < results.count(4) < 140
    assert T.RandomApply([add1], p=1.0)(1) == 2 and T.RandomApply([add1], p=0.0)(1) == 1
    minitorch.manual_seed(1)
    assert [T.RandomApply([add1, double], p=0.5)(1) for _ in range(200)] == results
    random.seed(0)
    picks = [T.RandomChoice([add1, double], p=[0.9, 0.1])(5) for _ in range(200)]
    assert set(picks) == {6, 10} and picks.count(6) > 150
    random.seed(0)
    orders = {T.RandomOrder([add1, double])(1) for _ in range(50)}
    assert orders == {3, 4}  # (1 * 2) + 1 and (1 + 1) * 2
    with pytest.raises(TypeError, match="Argument transforms should be a sequence"):
        T.RandomApply(add1)
    with pytest.raises(TypeError, match="Argument transforms should be a sequence"):
        T.RandomOrder(add1)
    assert repr(T.RandomApply([T.CenterCrop(2)], p=0.3)) == "RandomApply(\n    p=0.3\n    CenterCrop(size=(2, 2))\n)"


@pytest.mark.torch
def test_linear_transformation_matches_torch(torch):
    rng = np.random.default_rng(16)
    m = rng.standard_normal((12, 12)).astype(np.float32)
    mean = rng.standard_normal(12).astype(np.float32)
    x = rng.standard_normal((2, 3, 2, 2)).astype(np.float32)
    lt = T.LinearTransformation(minitorch.from_numpy(m), minitorch.from_numpy(mean))
    out = lt(minitorch.from_numpy(x))
    ref = ((torch.from_numpy(x).view(-1, 12) - torch.from_numpy(mean)) @ torch.from_numpy(m)).view(2, 3, 2, 2)
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match=r"transformation_matrix should be square. Got \(2, 3\) rectangular matrix."):
        T.LinearTransformation(minitorch.zeros(2, 3), minitorch.zeros(2))
    with pytest.raises(ValueError, match=r"mean_vector should have the same length 3 as any one of the dimensions "
                                         r"of the transformation_matrix \[\(2, 2\)\]"):
        T.LinearTransformation(minitorch.zeros(2, 2), minitorch.zeros(3))
    with pytest.raises(ValueError, match="Input tensors should have the same dtype. Got minitorch.float32 and "
                                         "minitorch.float64"):
        T.LinearTransformation(minitorch.zeros(2, 2), minitorch.zeros(2, dtype=minitorch.float64))
    with pytest.raises(ValueError, match=r"Input tensor and transformation matrix have incompatible "
                                         r"shape.\[1 x 2 x 2\] != 12"):
        lt(minitorch.zeros(1, 2, 2))


def test_image_size_and_channels():
    x = minitorch.zeros(2, 3, 5, 7)
    assert F.get_image_size(x) == [7, 5] and F.get_image_num_channels(x) == 3
    assert F.get_image_num_channels(minitorch.zeros(5, 7)) == 1
    if Image is not None:
        img = Image.fromarray(_rgb(5, 7))
        assert F.get_image_size(img) == [7, 5] and F.get_image_num_channels(img) == 3


def test_random_resize_draws_the_smaller_edge():
    from minitorch.vision.transforms._geometry_classes import RandomResize
    x = minitorch.zeros(1, 20, 30)
    minitorch.manual_seed(3)
    sizes = [RandomResize(8, 12)(x).shape[-2] for _ in range(60)]
    assert set(sizes) == {8, 9, 10, 11}
    minitorch.manual_seed(3)
    assert [int(minitorch.randint(8, 12, ())) for _ in range(60)] == sizes
    assert "RandomResize" not in T.__all__  # torchvision has it in transforms.v2 only


def test_numpy_images_follow_the_tensor_path():
    a = _rgb(9, 11)
    t = _chw(a)
    pairs = [(F.affine(a, 20.0, [1, 2], 1.1, 3.0, fill=[4, 5, 6]), F.affine(t, 20.0, [1, 2], 1.1, 3.0, fill=[4, 5, 6])),
             (F.rotate(a, 33, IM.BILINEAR, True), F.rotate(t, 33, IM.BILINEAR, True)),
             (F.perspective(a, [[0, 0], [10, 0], [10, 8], [0, 8]], [[1, 1], [9, 0], [10, 8], [0, 7]]),
              F.perspective(t, [[0, 0], [10, 0], [10, 8], [0, 8]], [[1, 1], [9, 0], [10, 8], [0, 7]])),
             (F.resize(a, [5, 7], IM.BICUBIC), F.resize(t, [5, 7], IM.BICUBIC)),
             (F.gaussian_blur(a, 3), F.gaussian_blur(t, 3))]
    for arr, ten in pairs:
        assert arr.dtype == np.uint8
        np.testing.assert_array_equal(arr, _hwc(ten))
