"""minitorch.vision.utils against torchvision's documented behaviour.

make_grid is checked against a reference built a different way with PyTorch ops (each image padded on its top and
left, rows and columns concatenated, then the right and bottom border), save_image by reading the file back with
Pillow, and the draw_* functions pixel by pixel (box edges, the alpha blend of masks, keypoint discs and lines).
"""
import io
import math
import warnings

import numpy as np
import pytest

import minitorch
from minitorch.vision import utils

Image = pytest.importorskip("PIL.Image")


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def _t(a):
    return minitorch.from_numpy(np.ascontiguousarray(a))


def _rand(*shape, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _torch_grid(torch, batch, nrow, padding, pad_value):
    """The grid layout from PyTorch ops: every cell is an image with `padding` pixels above and to its left."""
    F = torch.nn.functional
    b, c, h, w = batch.shape
    xmaps = min(nrow, b)
    ymaps = math.ceil(b / xmaps)
    blank = torch.full((c, h, w), float(pad_value), dtype=batch.dtype)
    cells = [F.pad(batch[k] if k < b else blank, (padding, 0, padding, 0), value=float(pad_value))
             for k in range(xmaps * ymaps)]
    rows = [torch.cat(cells[r * xmaps:(r + 1) * xmaps], dim=2) for r in range(ymaps)]
    return F.pad(torch.cat(rows, dim=1), (0, padding, 0, padding), value=float(pad_value))


def _torch_norm(torch, x, low, high):
    return x.clamp(low, high).sub(low).div(max(high - low, 1e-5))


# ----------------------------------------------------------------------------------------------------------------
# make_grid
# ----------------------------------------------------------------------------------------------------------------
@pytest.mark.torch
@pytest.mark.parametrize("b,c,nrow,padding,pad_value", [
    (5, 3, 2, 2, 0.0), (8, 3, 8, 2, 0.5), (10, 1, 4, 3, 1.0), (7, 4, 3, 0, 0.0), (3, 2, 8, 1, -1.0), (2, 3, 1, 5, 0.25)])
def test_make_grid_layout(torch, b, c, nrow, padding, pad_value):
    x = _rand(b, c, 5, 6)
    got = utils.make_grid(_t(x), nrow=nrow, padding=padding, pad_value=pad_value)
    ref_in = torch.from_numpy(x)
    if c == 1:
        ref_in = ref_in.repeat(1, 3, 1, 1)  # single-channel images become RGB
    ref = _torch_grid(torch, ref_in, nrow, padding, pad_value)
    assert got.dtype is minitorch.float32 and tuple(got.shape) == tuple(ref.shape)
    np.testing.assert_array_equal(got.numpy(), ref.numpy())


@pytest.mark.torch
def test_make_grid_inputs_of_every_rank(torch):
    img = _rand(3, 4, 5)
    np.testing.assert_array_equal(utils.make_grid(_t(img)).numpy(), img)  # one image: returned unpadded
    gray = _rand(4, 5, seed=1)
    for x in (gray, gray[None], gray[None, None]):
        got = utils.make_grid(_t(x), padding=7)
        np.testing.assert_array_equal(got.numpy(), np.stack([gray] * 3))
    imgs = [_rand(3, 4, 5, seed=s) for s in range(3)]
    got = utils.make_grid([_t(a) for a in imgs], nrow=2)
    ref = _torch_grid(torch, torch.from_numpy(np.stack(imgs)), 2, 2, 0.0)
    np.testing.assert_array_equal(got.numpy(), ref.numpy())


def test_make_grid_keeps_dtype_and_leaves_input_alone():
    x = _rand(4, 3, 3, 3, dtype=np.float64)
    before = x.copy()
    xt = _t(x)
    out = utils.make_grid(xt, normalize=True, pad_value=0.5)
    assert out.dtype is minitorch.float64
    np.testing.assert_array_equal(xt.numpy(), before)
    u = np.arange(2 * 3 * 2 * 2, dtype=np.uint8).reshape(2, 3, 2, 2)
    out = utils.make_grid(_t(u), padding=1, pad_value=9)
    assert out.dtype is minitorch.uint8 and int(out[0, 0, 0]) == 9 and int(out[0, 1, 1]) == u[0, 0, 0, 0]


def test_make_grid_of_a_tensor_that_requires_grad():
    x = minitorch.rand(2, 3, 4, 4, requires_grad=True)
    out = utils.make_grid(x)
    assert not out.requires_grad and tuple(out.shape) == (3, 8, 14)


@pytest.mark.torch
def test_make_grid_normalize(torch):
    x = _rand(6, 3, 4, 4) * 3
    tx = torch.from_numpy(x)
    got = utils.make_grid(_t(x), nrow=3, normalize=True)
    ref = _torch_grid(torch, _torch_norm(torch, tx, float(tx.min()), float(tx.max())), 3, 2, 0.0)
    np.testing.assert_array_equal(got.numpy(), ref.numpy())

    got = utils.make_grid(_t(x), nrow=3, normalize=True, value_range=(-1, 2))
    ref = _torch_grid(torch, _torch_norm(torch, tx, -1, 2), 3, 2, 0.0)
    np.testing.assert_array_equal(got.numpy(), ref.numpy())
    assert float(got.min()) == 0.0 and float(got.max()) == 1.0  # clamped to the range first

    got = utils.make_grid(_t(x), nrow=3, normalize=True, scale_each=True)
    each = torch.stack([_torch_norm(torch, t, float(t.min()), float(t.max())) for t in tx])
    np.testing.assert_array_equal(got.numpy(), _torch_grid(torch, each, 3, 2, 0.0).numpy())

    got = utils.make_grid(_t(x), nrow=3, normalize=True, scale_each=True, value_range=(0, 1))
    np.testing.assert_array_equal(got.numpy(), _torch_grid(torch, _torch_norm(torch, tx, 0, 1), 3, 2, 0.0).numpy())

    const = np.full((2, 3, 2, 2), 4.0, dtype=np.float32)  # max == min: divided by 1e-5, all zeros
    np.testing.assert_array_equal(utils.make_grid(_t(const), normalize=True, padding=0).numpy(), 0.0)


@pytest.mark.torch
def test_make_grid_errors(torch):
    with pytest.raises(TypeError, match="tensor or list of tensors expected, got <class 'numpy.ndarray'>"):
        utils.make_grid(np.zeros((2, 3, 4, 4)))
    with pytest.raises(TypeError, match="tensor or list of tensors expected, got a list containing <class 'int'>"):
        utils.make_grid([minitorch.zeros(3, 4, 4), 1])
    with pytest.raises(TypeError, match=r"value_range has to be a tuple \(min, max\)"):
        utils.make_grid(minitorch.zeros(2, 3, 4, 4), normalize=True, value_range=[0, 1])
    with pytest.raises(RuntimeError, match="stack expects a non-empty TensorList"):
        utils.make_grid([])
    with pytest.raises(RuntimeError, match="stack expects each tensor to be equal size"):
        utils.make_grid([minitorch.zeros(3, 4, 4), minitorch.zeros(3, 5, 5)])
    with pytest.raises(ValueError, match=r"2, 3 or 4 dimensions .* got shape \(1, 2, 3, 4, 4\)"):
        utils.make_grid(minitorch.zeros(1, 2, 3, 4, 4))
    # PyTorch's own error for normalizing an integer tensor in place
    with pytest.raises(RuntimeError) as theirs:
        torch.zeros(2, 3, 4, 4, dtype=torch.uint8).clamp_(min=0.0, max=1.0)
    with pytest.raises(RuntimeError, match=str(theirs.value)):
        utils.make_grid(minitorch.zeros(2, 3, 4, 4, dtype=minitorch.uint8), normalize=True)


def test_make_grid_on_device(device):
    x = minitorch.rand(3, 1, 4, 4)
    out = utils.make_grid(x.to(device), nrow=2, padding=1)
    assert out.device.type == minitorch.device(device).type
    np.testing.assert_array_equal(out.cpu().numpy(), utils.make_grid(x, nrow=2, padding=1).numpy())


# ----------------------------------------------------------------------------------------------------------------
# save_image
# ----------------------------------------------------------------------------------------------------------------
def _expected_pixels(grid):
    """torchvision's 8-bit rounding of a [0, 1] float grid, HWC."""
    return np.clip(grid * np.float32(255) + np.float32(0.5), 0, 255).astype(np.uint8).transpose(1, 2, 0)


@pytest.mark.torch
def test_save_image_round_trip(torch, tmp_path):
    x = np.random.default_rng(3).uniform(-0.1, 1.1, (5, 3, 6, 7)).astype(np.float32)
    x[0, 0, 0, :3] = [0.5 / 255, 1.5 / 255, 254.5 / 255]  # values at rounding boundaries
    path = tmp_path / "grid.png"
    utils.save_image(_t(x), path, nrow=3, padding=1, pad_value=0.2)
    back = np.asarray(Image.open(path))
    ref = _torch_grid(torch, torch.from_numpy(x), 3, 1, 0.2).numpy()
    np.testing.assert_array_equal(back, _expected_pixels(ref))
    # the rounding itself matches PyTorch's mul(255).add_(0.5).clamp_(0, 255).to(uint8)
    tref = torch.from_numpy(ref).mul(255).add_(0.5).clamp_(0, 255).permute(1, 2, 0).to(torch.uint8).numpy()
    np.testing.assert_array_equal(back, tref)


def test_save_image_to_file_object_and_formats(tmp_path):
    x = minitorch.rand(1, 8, 9)
    buf = io.BytesIO()
    utils.save_image(x, buf, format="PNG")
    buf.seek(0)
    img = Image.open(buf)
    assert img.format == "PNG" and img.mode == "RGB" and img.size == (9, 8)
    expected = _expected_pixels(np.stack([x.numpy()[0]] * 3))
    np.testing.assert_array_equal(np.asarray(img), expected)

    buf = io.BytesIO()
    utils.save_image(minitorch.rand(4, 3, 8, 8), buf, format="JPEG", nrow=2)
    buf.seek(0)
    assert Image.open(buf).format == "JPEG"

    rgba = minitorch.rand(4, 5, 6)  # 4 channels are written as RGBA
    utils.save_image(rgba, tmp_path / "a.png")
    assert Image.open(tmp_path / "a.png").mode == "RGBA"
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "a.png")), _expected_pixels(rgba.numpy()))


def test_save_image_errors(tmp_path):
    with pytest.raises(ValueError, match="unknown file extension"):
        utils.save_image(minitorch.rand(3, 4, 4), tmp_path / "x.nosuchformat")
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output type Byte"):
        utils.save_image(minitorch.zeros(3, 4, 4, dtype=minitorch.uint8), tmp_path / "x.png")
    with pytest.raises(TypeError, match="tensor or list of tensors expected"):
        utils.save_image("not a tensor", tmp_path / "x.png")


def test_save_image_from_device(device, tmp_path):
    x = minitorch.rand(2, 3, 4, 4)
    utils.save_image(x.to(device), tmp_path / "d.png")
    utils.save_image(x, tmp_path / "h.png")
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "d.png")), np.asarray(Image.open(tmp_path / "h.png")))


# ----------------------------------------------------------------------------------------------------------------
# draw_bounding_boxes
# ----------------------------------------------------------------------------------------------------------------
def _outline(h, w, x0, y0, x1, y1, width):
    """Pixels of a rectangle outline of `width` pixels drawn inside (x0, y0)-(x1, y1), both corners inclusive."""
    m = np.zeros((h, w), dtype=bool)
    m[y0:y1 + 1, x0:x1 + 1] = True
    m[y0 + width:y1 + 1 - width, x0 + width:x1 + 1 - width] = False
    return m


@pytest.mark.parametrize("width", [1, 2])
def test_draw_bounding_boxes_edges(width):
    img = np.full((3, 20, 24), 7, dtype=np.uint8)
    boxes = _t(np.array([[2.7, 3.0, 10.2, 12.9], [12, 1, 22, 18]], dtype=np.float32))  # truncated to ints
    out = utils.draw_bounding_boxes(_t(img), boxes, colors=["red", (10, 200, 30)], width=width)
    assert out.dtype is minitorch.uint8 and tuple(out.shape) == (3, 20, 24)
    got = out.numpy()
    m0 = _outline(20, 24, 2, 3, 10, 12, width)
    m1 = _outline(20, 24, 12, 1, 22, 18, width)
    np.testing.assert_array_equal(got[:, m0], np.array([[255], [0], [0]]).repeat(m0.sum(), 1))
    np.testing.assert_array_equal(got[:, m1], np.array([[10], [200], [30]]).repeat(m1.sum(), 1))
    np.testing.assert_array_equal(got[:, ~(m0 | m1)], 7)


def test_draw_bounding_boxes_fill_gray_and_float():
    img = np.full((1, 12, 12), 40, dtype=np.uint8)  # grayscale comes back RGB
    out = utils.draw_bounding_boxes(_t(img), minitorch.tensor([[2, 2, 9, 9]]), colors="#0000ff", fill=True)
    got = out.numpy()
    assert got.shape == (3, 12, 12)
    np.testing.assert_array_equal(got[:, 2, 2:10], np.array([[0], [0], [255]]).repeat(8, 1))
    inside = got[:, 5, 5].astype(int)  # the box colour at alpha 100/255 over the image
    expected = np.array([40, 40, 255]) * 100 / 255 + 40 * 155 / 255
    expected[:2] = 40 * 155 / 255
    assert np.abs(inside - expected).max() <= 1
    np.testing.assert_array_equal(got[:, 0, 0], [40, 40, 40])

    fimg = minitorch.full((3, 12, 12), 0.5)
    fout = utils.draw_bounding_boxes(fimg, minitorch.tensor([[1, 1, 8, 8]]), colors="white")
    assert fout.dtype is minitorch.float32
    np.testing.assert_allclose(fout.numpy()[:, 1, 1:9], 1.0, rtol=0, atol=1e-7)
    np.testing.assert_allclose(fout.numpy()[:, 0, 0], 127 / 255, rtol=0, atol=1e-7)  # 0.5 -> 127 in 8 bits


def test_draw_bounding_boxes_labels_and_default_colors():
    img = minitorch.zeros(3, 40, 60, dtype=minitorch.uint8)
    out = utils.draw_bounding_boxes(img, minitorch.tensor([[0, 0, 58, 38], [5, 5, 6, 6]]), labels=["Hello", "x"],
                                    label_colors="yellow").numpy()
    text = out[:, 2:15, 2:30]  # the label is written inside the box's top-left corner
    inked = (text[0] > 0) & (text[0] == text[1]) & (text[2] == 0)  # yellow, maybe anti-aliased over black
    assert inked.sum() > 5 and text[0].max() > 200
    # torchvision's fixed palette: object i gets (i * (2**25 - 1, 2**15 - 1, 2**21 - 1)) % 255
    second = [(2 ** 25 - 1) % 255, (2 ** 15 - 1) % 255, (2 ** 21 - 1) % 255]
    np.testing.assert_array_equal(out[:, 6, 5], second)
    np.testing.assert_array_equal(out[:, 38, 30], [0, 0, 0])  # the first palette colour is black


def test_draw_bounding_boxes_errors():
    img = minitorch.zeros(3, 10, 10, dtype=minitorch.uint8)
    box = minitorch.tensor([[1, 1, 5, 5]])
    with pytest.raises(TypeError, match="Tensor expected, got <class 'numpy.ndarray'>"):
        utils.draw_bounding_boxes(np.zeros((3, 10, 10), np.uint8), box)
    with pytest.raises(ValueError, match="The image dtype must be uint8 or float, got minitorch.int64"):
        utils.draw_bounding_boxes(minitorch.zeros(3, 10, 10, dtype=minitorch.int64), box)
    with pytest.raises(ValueError, match="Pass individual images, not batches"):
        utils.draw_bounding_boxes(minitorch.zeros(1, 3, 10, 10, dtype=minitorch.uint8), box)
    with pytest.raises(ValueError, match="Only grayscale and RGB images are supported"):
        utils.draw_bounding_boxes(minitorch.zeros(4, 10, 10, dtype=minitorch.uint8), box)
    with pytest.raises(ValueError, match=r"Boxes need to be in \(xmin, ymin, xmax, ymax\) format"):
        utils.draw_bounding_boxes(img, minitorch.tensor([[5, 1, 1, 5]]))
    with pytest.raises(ValueError, match=r"boxes must be of shape \(N, 4\), got \(4,\)"):
        utils.draw_bounding_boxes(img, minitorch.tensor([1, 1, 5, 5]))
    with pytest.raises(ValueError, match=r"Number of boxes \(1\) and labels \(2\) mismatch"):
        utils.draw_bounding_boxes(img, box, labels=["a", "b"])
    with pytest.raises(ValueError, match=r"Number of colors must be equal or larger .* got 1 < 2"):
        utils.draw_bounding_boxes(img, minitorch.tensor([[1, 1, 5, 5], [2, 2, 3, 3]]), colors=["red"])
    with pytest.raises(ValueError, match="`colors` must be a tuple or a string, or a list thereof, but got 5"):
        utils.draw_bounding_boxes(img, box, colors=5)
    with pytest.raises(ValueError, match=r"colors should be an RGB triplet, but got \(1, 2, 3, 4\)"):
        utils.draw_bounding_boxes(img, box, colors=(1, 2, 3, 4))
    with pytest.raises(ValueError, match="unknown color specifier"):  # Pillow's own error for a bad name
        utils.draw_bounding_boxes(img, box, colors="notacolor")
    with pytest.warns(UserWarning, match="boxes doesn't contain any box. No box was drawn"):
        same = utils.draw_bounding_boxes(img, minitorch.zeros(0, 4))
    assert same is img
    with pytest.warns(UserWarning, match="Argument 'font_size' will be ignored since 'font' is not set."):
        utils.draw_bounding_boxes(img, box, font_size=20)


def test_draw_bounding_boxes_on_device(device):
    img = minitorch.zeros(3, 8, 8, dtype=minitorch.uint8)
    box = minitorch.tensor([[1, 1, 6, 6]])
    out = utils.draw_bounding_boxes(img.to(device), box.to(device), colors="red")
    assert out.device.type == minitorch.device(device).type
    np.testing.assert_array_equal(out.cpu().numpy(), utils.draw_bounding_boxes(img, box, colors="red").numpy())


# ----------------------------------------------------------------------------------------------------------------
# draw_segmentation_masks
# ----------------------------------------------------------------------------------------------------------------
def _blend_ref(img, masks, colors, alpha):
    painted = img.astype(np.float64).copy()
    for m, c in zip(masks, colors):
        painted[:, m] = np.asarray(c, dtype=np.float64)[:, None]
    painted[:, masks.sum(0) > 1] = 0  # pixels under two masks are black
    return img * (1 - alpha) + painted * alpha


@pytest.mark.parametrize("alpha", [0.8, 0.3, 1.0, 0.0])
def test_draw_segmentation_masks_blend(alpha):
    rng = np.random.default_rng(5)
    img = rng.integers(0, 256, (3, 9, 11), dtype=np.uint8)
    masks = np.zeros((2, 9, 11), dtype=bool)
    masks[0, 1:5, 2:8] = True
    masks[1, 3:8, 6:10] = True
    colors = ["red", (20, 40, 60)]
    out = utils.draw_segmentation_masks(_t(img), _t(masks), alpha=alpha, colors=colors)
    assert out.dtype is minitorch.uint8
    ref = _blend_ref(img, masks, [(255, 0, 0), (20, 40, 60)], alpha)
    got = out.numpy().astype(np.float64)
    assert np.abs(got - ref).max() < 1.0 + 1e-9  # truncated back to uint8
    np.testing.assert_array_equal(out.numpy(), np.floor(ref + 1e-4).astype(np.uint8))


def test_draw_segmentation_masks_float_and_single_mask():
    rng = np.random.default_rng(6)
    img = rng.uniform(0, 1, (3, 6, 6)).astype(np.float32)
    mask = np.zeros((6, 6), dtype=bool)
    mask[2:4, 1:5] = True
    out = utils.draw_segmentation_masks(_t(img), _t(mask), alpha=0.6, colors="blue")
    assert out.dtype is minitorch.float32
    ref = _blend_ref(img, mask[None], [(0, 0, 1)], 0.6)  # colours scale to [0, 1] for float images
    np.testing.assert_allclose(out.numpy(), ref, rtol=0, atol=1e-6)
    default = utils.draw_segmentation_masks(_t(img), _t(mask[None].repeat(2, 0)) & False)  # no pixels: unchanged
    np.testing.assert_allclose(default.numpy(), img, rtol=0, atol=1e-6)


def test_draw_segmentation_masks_errors():
    img = minitorch.zeros(3, 4, 4, dtype=minitorch.uint8)
    mask = minitorch.ones(4, 4, dtype=minitorch.bool)
    with pytest.raises(TypeError, match="The image must be a tensor, got <class 'list'>"):
        utils.draw_segmentation_masks([1], mask)
    with pytest.raises(ValueError, match="The image dtype must be uint8 or float, got minitorch.int32"):
        utils.draw_segmentation_masks(minitorch.zeros(3, 4, 4, dtype=minitorch.int32), mask)
    with pytest.raises(ValueError, match="Pass individual images, not batches"):
        utils.draw_segmentation_masks(minitorch.zeros(4, 4, dtype=minitorch.uint8), mask)
    with pytest.raises(ValueError, match="Pass an RGB image. Other Image formats are not supported"):
        utils.draw_segmentation_masks(minitorch.zeros(1, 4, 4, dtype=minitorch.uint8), mask)
    with pytest.raises(ValueError, match=r"masks must be of shape \(H, W\) or \(batch_size, H, W\)"):
        utils.draw_segmentation_masks(img, minitorch.ones(1, 1, 4, 4, dtype=minitorch.bool))
    with pytest.raises(ValueError, match="The masks must be of dtype bool. Got minitorch.uint8"):
        utils.draw_segmentation_masks(img, minitorch.ones(4, 4, dtype=minitorch.uint8))
    with pytest.raises(ValueError, match="The image and the masks must have the same height and width"):
        utils.draw_segmentation_masks(img, minitorch.ones(4, 5, dtype=minitorch.bool))
    with pytest.raises(ValueError, match="Number of colors must be equal or larger"):
        utils.draw_segmentation_masks(img, minitorch.ones(2, 4, 4, dtype=minitorch.bool), colors=["red"])
    with pytest.warns(UserWarning, match="masks doesn't contain any mask. No mask was drawn"):
        assert utils.draw_segmentation_masks(img, minitorch.ones(0, 4, 4, dtype=minitorch.bool)) is img


def test_draw_segmentation_masks_on_device(device):
    img = minitorch.full((3, 4, 4), 100, dtype=minitorch.uint8)
    mask = minitorch.zeros(4, 4, dtype=minitorch.bool)
    mask[1, 1] = True
    out = utils.draw_segmentation_masks(img.to(device), mask.to(device), alpha=0.5, colors="white")
    assert out.device.type == minitorch.device(device).type
    assert out.cpu().numpy()[:, 1, 1].tolist() == [177] * 3 and out.cpu().numpy()[:, 0, 0].tolist() == [100] * 3


# ----------------------------------------------------------------------------------------------------------------
# draw_keypoints
# ----------------------------------------------------------------------------------------------------------------
def test_draw_keypoints_discs_lines_and_visibility():
    img = minitorch.zeros(3, 30, 30, dtype=minitorch.uint8)
    kpts = minitorch.tensor([[[5.0, 5.0], [25.0, 5.0], [15.0, 25.0]]])
    out = utils.draw_keypoints(img, kpts, colors="red", radius=2).numpy()
    for x, y in ((5, 5), (25, 5), (15, 25)):
        np.testing.assert_array_equal(out[:, y - 1:y + 2, x - 1:x + 2], np.array([255, 0, 0])[:, None, None]
                                      .repeat(3, 1).repeat(3, 2))
        np.testing.assert_array_equal(out[:, y, x + 4], [0, 0, 0])  # outside the radius
    assert out.sum() > 0 and (out[:, 15, 15] == 0).all()

    out = utils.draw_keypoints(img, kpts, connectivity=[(0, 1)], colors=(0, 255, 0), width=3).numpy()
    np.testing.assert_array_equal(out[:, 5, 15], [255, 255, 255])  # lines are drawn in white
    np.testing.assert_array_equal(out[:, 6, 15], [255, 255, 255])  # 3 pixels wide
    np.testing.assert_array_equal(out[:, 8, 15], [0, 0, 0])
    np.testing.assert_array_equal(out[:, 25, 15], [0, 255, 0])

    vis = minitorch.tensor([[True, False, True]])
    out = utils.draw_keypoints(img, kpts, connectivity=[(0, 1), (0, 2)], colors="blue", visibility=vis).numpy()
    np.testing.assert_array_equal(out[:, 5, 25], [0, 0, 0])  # invisible keypoint ...
    np.testing.assert_array_equal(out[:, 5, 15], [0, 0, 0])  # ... and its connection are skipped
    np.testing.assert_array_equal(out[:, 15, 10], [255, 255, 255])  # the visible pair is joined
    out3 = utils.draw_keypoints(img, kpts, connectivity=[(0, 1), (0, 2)], colors="blue", visibility=vis[..., None])
    np.testing.assert_array_equal(out3.numpy(), out)


def test_draw_keypoints_float_image():
    img = minitorch.full((3, 10, 10), 0.25)
    out = utils.draw_keypoints(img, minitorch.tensor([[[4, 4]]]), colors="white")
    assert out.dtype is minitorch.float32
    np.testing.assert_allclose(out.numpy()[:, 4, 4], 1.0, atol=1e-7)
    np.testing.assert_allclose(out.numpy()[:, 0, 0], 63 / 255, atol=1e-7)


def test_draw_keypoints_errors():
    img = minitorch.zeros(3, 10, 10, dtype=minitorch.uint8)
    kp = minitorch.zeros(1, 2, 2)
    with pytest.raises(TypeError, match="The image must be a tensor"):
        utils.draw_keypoints(None, kp)
    with pytest.raises(ValueError, match="The image dtype must be uint8 or float, got minitorch.bool"):
        utils.draw_keypoints(minitorch.zeros(3, 10, 10, dtype=minitorch.bool), kp)
    with pytest.raises(ValueError, match="Pass individual images, not batches"):
        utils.draw_keypoints(minitorch.zeros(2, 3, 10, 10, dtype=minitorch.uint8), kp)
    with pytest.raises(ValueError, match="Pass an RGB image"):
        utils.draw_keypoints(minitorch.zeros(1, 10, 10, dtype=minitorch.uint8), kp)
    with pytest.raises(ValueError, match=r"keypoints must be of shape \(num_instances, K, 2\)"):
        utils.draw_keypoints(img, minitorch.zeros(2, 2))
    with pytest.raises(ValueError, match=r"visibility must be of shape \(num_instances, K\). Got ndim=1"):
        utils.draw_keypoints(img, kp, visibility=minitorch.ones(2, dtype=minitorch.bool))
    with pytest.raises(ValueError, match="keypoints and visibility must have the same dimensionality"):
        utils.draw_keypoints(img, kp, visibility=minitorch.ones(1, 3, dtype=minitorch.bool))


def test_no_warnings_on_ordinary_use():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        utils.draw_bounding_boxes(minitorch.zeros(3, 8, 8, dtype=minitorch.uint8), minitorch.tensor([[1, 1, 4, 4]]))
        utils.make_grid(minitorch.rand(3, 3, 4, 4), normalize=True)


DEJAVU = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


@pytest.mark.skipif(not __import__("os").path.isfile(DEJAVU), reason="no DejaVu TrueType font here")
def test_draw_bounding_boxes_truetype_font():
    img = minitorch.zeros(3, 60, 120, dtype=minitorch.uint8)
    box = minitorch.tensor([[0, 0, 119, 59]])

    def inked(**kw):
        out = utils.draw_bounding_boxes(img, box, labels=["Wg"], colors="white", font=DEJAVU, **kw).numpy()
        return int((out[0, 2:58, 2:118] > 0).sum())

    assert inked(font_size=30) > 2 * inked(font_size=12) > 0
    assert inked() == inked(font_size=10)  # the default size is 10
    with pytest.raises(OSError):
        utils.draw_bounding_boxes(img, box, labels=["x"], font="/no/such/font.ttf")


@pytest.mark.slow
def test_vision_imports_without_pillow_and_explains_what_is_missing():
    import subprocess
    import sys
    code = ("import sys; sys.modules['PIL'] = None\n"
            "import minitorch\nfrom minitorch.vision import utils, io\n"
            "g = utils.make_grid(minitorch.rand(2, 3, 4, 4))\n"
            "try:\n    utils.save_image(g, 'x.png')\nexcept ImportError as e:\n    print('ERR', e)\n"
            "try:\n    io.encode_png(minitorch.zeros(3, 2, 2, dtype=minitorch.uint8))\n"
            "except ImportError as e:\n    print('ERR', e)\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "ERR minitorch.vision.utils needs Pillow to write and draw images: pip install pillow" in r.stdout
    assert "ERR minitorch.vision.io needs Pillow to decode and encode images: pip install pillow" in r.stdout


SCRIPT = '''
import torch, torchvision
from torchvision.utils import save_image, make_grid, draw_bounding_boxes
from torchvision.io import read_image, ImageReadMode, write_png
x = torch.rand(6, 1, 8, 8)
save_image(x, "grid.png", nrow=3)
img = read_image("grid.png", mode=ImageReadMode.RGB)
print(tuple(img.shape), img.dtype)
boxed = draw_bounding_boxes(img, torch.tensor([[1, 1, 10, 10]]), colors="red")
write_png(boxed, "boxed.png")
print(tuple(torchvision.io.read_image("boxed.png").shape), torchvision.utils.make_grid(x).shape[0])
'''


@pytest.mark.slow
def test_torchvision_names_through_minitorch_run(tmp_path):
    import subprocess
    import sys
    (tmp_path / "prog.py").write_text(SCRIPT)
    r = subprocess.run([sys.executable, "-m", "minitorch.run", "prog.py"], capture_output=True, text=True,
                       timeout=300, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split("\n")[:2] == ["(3, 22, 32) minitorch.uint8", "(3, 22, 32) 3"]
    assert np.asarray(Image.open(tmp_path / "boxed.png"))[1, 5].tolist() == [255, 0, 0]


# ----------------------------------------------------------------------------------------------------------------
# flow_to_image
# ----------------------------------------------------------------------------------------------------------------
def test_flow_to_image_directions_and_magnitudes():
    # (u, v) per pixel; expected colours worked out by hand from the Middlebury wheel (ramps of 15, 6, 4, 11, 13,
    # 6 entries from red): right = red, down = between wheel entries 13 and 14, left = entry 27, up = between 40
    # and 41; zero flow is white and a half-length vector is half saturated.
    vectors = {(0, 0): (1.0, 0.0), (0, 1): (0.0, 1.0), (0, 2): (-1.0, 0.0), (1, 0): (0.0, -1.0), (1, 1): (0.0, 0.0),
               (1, 2): (0.5, 0.0)}
    flow = np.zeros((2, 2, 3), dtype=np.float32)
    for (y, x), (u, v) in vectors.items():
        flow[:, y, x] = (u, v)
    out = utils.flow_to_image(_t(flow))
    assert out.dtype is minitorch.uint8 and tuple(out.shape) == (3, 2, 3)
    got = out.numpy().transpose(1, 2, 0).astype(int)
    expected = {(0, 0): (255, 0, 0), (0, 1): (255, (221 + 238) // 2, 0), (0, 2): (0, 255 - 46, 255),
                (1, 0): ((78 + 98) // 2, 0, 255), (1, 1): (255, 255, 255), (1, 2): (255, 127, 127)}
    for pos, colour in expected.items():
        assert np.abs(got[pos] - colour).max() <= 1, (pos, got[pos], colour)


def test_flow_to_image_batches_scale_by_the_largest_vector():
    flow = np.zeros((2, 2, 1, 2), dtype=np.float32)
    flow[0, :, 0, 0] = (3.0, 0.0)
    flow[0, :, 0, 1] = (6.0, 0.0)
    flow[1, :, 0, 0] = (0.0, 0.0)
    out = utils.flow_to_image(_t(flow)).numpy()
    assert out.shape == (2, 3, 1, 2)
    np.testing.assert_array_equal(out[0, :, 0, 1], [255, 0, 0])
    np.testing.assert_array_equal(out[0, :, 0, 0], [255, 127, 127])  # half of the largest norm in the batch
    np.testing.assert_array_equal(out[1, :, 0, 0], [255, 255, 255])
    scaled = utils.flow_to_image(_t(flow * 10)).numpy()
    np.testing.assert_array_equal(scaled, out)  # only directions and relative lengths matter


def test_flow_to_image_errors():
    with pytest.raises(ValueError, match="Flow should be of dtype torch.float, got minitorch.float64."):
        utils.flow_to_image(minitorch.zeros(2, 3, 3, dtype=minitorch.float64))
    with pytest.raises(ValueError, match=r"Input flow should have shape \(2, H, W\) or \(N, 2, H, W\), got \(3, 3, 3\)"):
        utils.flow_to_image(minitorch.zeros(3, 3, 3))
    with pytest.raises(ValueError, match=r"got \(3, 3\)"):
        utils.flow_to_image(minitorch.zeros(3, 3))


def test_flow_to_image_on_device(device):
    flow = minitorch.randn(2, 3, 4)
    out = utils.flow_to_image(flow.to(device))
    assert out.device.type == minitorch.device(device).type
    np.testing.assert_array_equal(out.cpu().numpy(), utils.flow_to_image(flow).numpy())
