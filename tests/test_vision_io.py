"""minitorch.vision.io: round trips through PNG and JPEG, read modes, 16-bit PNGs, corrupt data and user errors.

Pillow is the independent reader/writer the results are compared with; 16-bit colour PNGs (which Pillow reads as
8-bit) are written by a small encoder here that uses every PNG row filter.
"""
import io
import struct
import zlib

import numpy as np
import pytest

import minitorch
from minitorch.vision import io as vio
from minitorch.vision.io import ImageReadMode

Image = pytest.importorskip("PIL.Image")


def _t(a):
    return minitorch.from_numpy(np.ascontiguousarray(a))


def _img(c, h=13, w=17, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (c, h, w), dtype=np.uint8)


def _pil_bytes(arr_hwc_or_hw, fmt="PNG", mode=None, **kw):
    buf = io.BytesIO()
    img = Image.fromarray(arr_hwc_or_hw) if mode is None else Image.fromarray(arr_hwc_or_hw).convert(mode)
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def _bytes_t(data):
    return _t(np.frombuffer(data, dtype=np.uint8).copy())


def _hwc(chw):
    return chw[0] if chw.shape[0] == 1 else chw.transpose(1, 2, 0)


# ----------------------------------------------------------------------------------------------------------------
# PNG
# ----------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("c", [1, 3])
@pytest.mark.parametrize("level", [0, 6, 9])
def test_png_round_trip(c, level):
    arr = _img(c, seed=c + level)
    data = vio.encode_png(_t(arr), compression_level=level)
    assert data.dtype is minitorch.uint8 and data.dim() == 1
    raw = data.numpy().tobytes()
    assert raw[:8] == b"\x89PNG\r\n\x1a\n"
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(raw))), _hwc(arr))  # Pillow reads it back
    out = vio.decode_png(data)
    assert out.dtype is minitorch.uint8 and tuple(out.shape) == arr.shape
    np.testing.assert_array_equal(out.numpy(), arr)


def test_png_compression_level_changes_size():
    arr = np.tile(np.arange(64, dtype=np.uint8), (3, 64, 1))
    assert vio.encode_png(_t(arr), 0).numel() > vio.encode_png(_t(arr), 9).numel()


def test_decode_png_read_modes():
    rng = np.random.default_rng(1)
    rgba = rng.integers(0, 256, (9, 7, 4), dtype=np.uint8)
    data = _bytes_t(_pil_bytes(rgba))
    pil = Image.open(io.BytesIO(data.numpy().tobytes()))
    expected = {ImageReadMode.UNCHANGED: rgba, ImageReadMode.RGB_ALPHA: rgba,
                ImageReadMode.RGB: np.asarray(pil.convert("RGB")), ImageReadMode.GRAY: np.asarray(pil.convert("L")),
                ImageReadMode.GRAY_ALPHA: np.asarray(pil.convert("LA"))}
    for mode, exp in expected.items():
        out = vio.decode_png(data, mode=mode).numpy()
        np.testing.assert_array_equal(_hwc(out), exp)
    assert vio.decode_png(data, mode=ImageReadMode.GRAY).shape[0] == 1
    assert vio.decode_png(data, mode=ImageReadMode.GRAY_ALPHA).shape[0] == 2
    np.testing.assert_array_equal(vio.decode_png(data, mode="rgb").numpy(), vio.decode_png(data, ImageReadMode.RGB))
    assert ImageReadMode.RGBA is ImageReadMode.RGB_ALPHA and ImageReadMode.GRAY.value == 1

    gray = rng.integers(0, 256, (5, 6), dtype=np.uint8)
    gdata = _bytes_t(_pil_bytes(gray))
    out = vio.decode_png(gdata, mode=ImageReadMode.RGB_ALPHA).numpy()  # gray gains colour and an opaque alpha
    np.testing.assert_array_equal(out[:3], np.stack([gray] * 3))
    np.testing.assert_array_equal(out[3], 255)
    np.testing.assert_array_equal(vio.decode_png(gdata).numpy(), gray[None])


def test_decode_png_palette_and_1bit():
    rgb = np.zeros((4, 4, 3), dtype=np.uint8)
    rgb[:2] = [10, 20, 30]
    rgb[2:] = [200, 100, 0]
    buf = io.BytesIO()
    Image.fromarray(rgb).quantize(colors=2).save(buf, format="PNG")
    assert Image.open(io.BytesIO(buf.getvalue())).mode == "P"
    data = _bytes_t(buf.getvalue())
    out = vio.decode_png(data)
    assert tuple(out.shape) == (3, 4, 4)  # palette images expand to RGB
    np.testing.assert_array_equal(_hwc(out.numpy()), rgb)
    buf = io.BytesIO()
    pal = Image.fromarray(rgb).quantize(colors=2)
    pal.info["transparency"] = 0
    pal.save(buf, format="PNG", transparency=0)  # a tRNS chunk: palette entry 0 is transparent
    out = vio.decode_png(_bytes_t(buf.getvalue())).numpy()
    assert out.shape == (4, 4, 4)  # ... so the image expands to RGBA
    np.testing.assert_array_equal(out[:3].transpose(1, 2, 0), rgb)
    assert sorted(np.unique(out[3]).tolist()) == [0, 255]
    la = np.random.default_rng(2).integers(0, 256, (3, 5, 2), dtype=np.uint8)
    np.testing.assert_array_equal(vio.decode_png(_bytes_t(_pil_bytes(la))).numpy(), la.transpose(2, 0, 1))
    bits = np.array([[0, 255, 0], [255, 0, 255]], dtype=np.uint8)
    out = vio.decode_png(_bytes_t(_pil_bytes(bits, mode="1")))
    np.testing.assert_array_equal(out.numpy(), bits[None])


def _paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else (b if pb <= pc else c)


def _png16(pixels, filters=(0, 1, 2, 3, 4)):
    """A 16-bit PNG of (H, W, C) uint16 pixels whose rows cycle through the given filter types."""
    h, w, c = pixels.shape
    color = {1: 0, 2: 4, 3: 2, 4: 6}[c]
    raw = pixels.astype(">u2").tobytes()
    stride, bpp = w * c * 2, c * 2
    lines, prev = [], [0] * stride
    for y in range(h):
        line = list(raw[y * stride:(y + 1) * stride])
        f = filters[y % len(filters)]
        out = []
        for i, v in enumerate(line):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            cc = prev[i - bpp] if i >= bpp else 0
            pred = [0, a, b, (a + b) // 2, _paeth(a, b, cc)][f]
            out.append((v - pred) % 256)
        lines.append(bytes([f] + out))
        prev = line

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, color, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"".join(lines))) + chunk(b"IEND", b""))


def _pattern16(c, kind):
    if kind == "random":
        return np.random.default_rng(c).integers(0, 65536, (6, 5, c), dtype=np.uint16)
    # few distinct byte values: many ties between the Paeth predictor's candidates
    rng = np.random.default_rng(10 + c)
    return (rng.integers(0, 4, (10, 9, c)) * 256 + rng.integers(0, 4, (10, 9, c))).astype(np.uint16)


@pytest.mark.parametrize("kind", ["random", "ties"])
@pytest.mark.parametrize("c", [1, 2, 3, 4])
def test_decode_png_16bit(c, kind):
    pixels = _pattern16(c, kind)
    h, w = pixels.shape[:2]
    data = _bytes_t(_png16(pixels))
    out = vio.decode_png(data)
    # full 16-bit values; int32 because minitorch has no uint16 (torchvision < 0.21 also returned int32)
    assert out.dtype is minitorch.int32 and tuple(out.shape) == (c, h, w)
    np.testing.assert_array_equal(out.numpy(), pixels.transpose(2, 0, 1))
    np.testing.assert_array_equal(vio.decode_image(data).numpy(), pixels.transpose(2, 0, 1))
    rgb = vio.decode_png(data, mode=ImageReadMode.RGB).numpy()
    assert rgb.shape == (3, h, w)
    if c in (3, 4):
        np.testing.assert_array_equal(rgb, pixels[..., :3].transpose(2, 0, 1))
        gray = vio.decode_png(data, mode=ImageReadMode.GRAY).numpy()
        ref = np.round(pixels[..., :3].astype(np.float64) @ [0.299, 0.587, 0.114])
        np.testing.assert_array_equal(gray[0], ref)
    else:
        np.testing.assert_array_equal(rgb, np.repeat(pixels[..., :1], 3, axis=2).transpose(2, 0, 1))
    rgba = vio.decode_png(data, mode=ImageReadMode.RGB_ALPHA).numpy()
    np.testing.assert_array_equal(rgba[3], pixels[..., -1] if c in (2, 4) else 65535)


def test_decode_png_16bit_gray_written_by_pillow():
    pixels = np.random.default_rng(9).integers(0, 65536, (7, 9), dtype=np.uint16)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="PNG")
    out = vio.decode_png(_bytes_t(buf.getvalue()))
    assert out.dtype is minitorch.int32
    np.testing.assert_array_equal(out.numpy()[0], pixels)


# ----------------------------------------------------------------------------------------------------------------
# JPEG
# ----------------------------------------------------------------------------------------------------------------
def _smooth(c, h=32, w=40):
    y, x = np.mgrid[0:h, 0:w]
    planes = [(128 + 100 * np.sin(x / 7 + k) * np.cos(y / 9 - k)) for k in range(c)]
    return np.stack(planes).astype(np.uint8)


@pytest.mark.parametrize("c", [1, 3])
def test_jpeg_round_trip(c):
    arr = _smooth(c)
    data = vio.encode_jpeg(_t(arr), quality=95)
    raw = data.numpy().tobytes()
    assert raw[:3] == b"\xff\xd8\xff" and data.dim() == 1
    out = vio.decode_jpeg(data)
    assert out.dtype is minitorch.uint8 and tuple(out.shape) == arr.shape
    # decoded exactly as Pillow decodes the same bytes, and close to the original
    np.testing.assert_array_equal(_hwc(out.numpy()), np.asarray(Image.open(io.BytesIO(raw))))
    assert np.abs(out.numpy().astype(int) - arr).mean() < 3
    low = vio.decode_jpeg(vio.encode_jpeg(_t(arr), quality=5)).numpy().astype(int)
    assert np.abs(low - arr).mean() > np.abs(out.numpy().astype(int) - arr).mean()  # quality is used
    assert vio.encode_jpeg(_t(arr)).numel() < vio.encode_jpeg(_t(arr), quality=100).numel()  # default 75


def test_jpeg_lists_and_modes():
    arrs = [_smooth(3), _smooth(1)]
    encoded = vio.encode_jpeg([_t(a) for a in arrs])
    assert isinstance(encoded, list) and len(encoded) == 2
    decoded = vio.decode_jpeg(encoded)
    assert [tuple(d.shape) for d in decoded] == [(3, 32, 40), (1, 32, 40)]
    rgb = vio.decode_jpeg(encoded[1], mode=ImageReadMode.RGB).numpy()
    np.testing.assert_array_equal(rgb, np.repeat(decoded[1].numpy(), 3, axis=0))
    gray = vio.decode_jpeg(encoded[0], mode=ImageReadMode.GRAY).numpy()
    pil = Image.open(io.BytesIO(encoded[0].numpy().tobytes())).convert("L")
    np.testing.assert_array_equal(gray[0], np.asarray(pil))
    np.testing.assert_array_equal(vio.decode_image(encoded[0]).numpy(), decoded[0].numpy())


def test_decode_jpeg_exif_orientation():
    arr = _smooth(3, 16, 24).transpose(1, 2, 0)
    img = Image.fromarray(np.ascontiguousarray(arr))
    exif = img.getexif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    buf = io.BytesIO()
    img.save(buf, format="JPEG", exif=exif.tobytes(), quality=95)
    data = _bytes_t(buf.getvalue())
    plain = vio.decode_jpeg(data)
    turned = vio.decode_image(data, apply_exif_orientation=True)
    assert tuple(plain.shape) == (3, 16, 24) and tuple(turned.shape) == (3, 24, 16)
    from PIL import ImageOps
    ref = np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(buf.getvalue()))))
    np.testing.assert_array_equal(_hwc(turned.numpy()), ref)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_16bit_orientation_matches_pillow(orientation):
    from PIL import ImageOps

    from minitorch.vision.io.image import _orient
    arr = np.arange(4 * 6, dtype=np.uint8).reshape(4, 6)
    img = Image.fromarray(arr)
    exif = img.getexif()
    exif[0x0112] = orientation
    img.info["exif"] = exif.tobytes()
    buf = io.BytesIO()
    img.save(buf, format="PNG", exif=exif.tobytes())
    ref = np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(buf.getvalue()))))
    np.testing.assert_array_equal(_orient(arr[..., None], orientation)[..., 0], ref)


# ----------------------------------------------------------------------------------------------------------------
# decode_image / read_image / files
# ----------------------------------------------------------------------------------------------------------------
def test_files_round_trip(tmp_path):
    arr = _img(3, seed=4)
    vio.write_png(_t(arr), tmp_path / "a.png")
    np.testing.assert_array_equal(vio.read_image(tmp_path / "a.png").numpy(), arr)
    np.testing.assert_array_equal(vio.read_image(str(tmp_path / "a.png"), ImageReadMode.GRAY).numpy()[0],
                                  np.asarray(Image.open(tmp_path / "a.png").convert("L")))
    np.testing.assert_array_equal(vio.decode_image(str(tmp_path / "a.png")).numpy(), arr)  # a path works too
    vio.write_jpeg(_t(_smooth(3)), tmp_path / "b.jpg", quality=90)
    assert Image.open(tmp_path / "b.jpg").format == "JPEG"
    np.testing.assert_array_equal(_hwc(vio.read_image(tmp_path / "b.jpg").numpy()),
                                  np.asarray(Image.open(tmp_path / "b.jpg")))

    payload = _t(np.frombuffer(b"\x00\x01hello\xff", dtype=np.uint8).copy())
    vio.write_file(tmp_path / "raw.bin", payload)
    assert (tmp_path / "raw.bin").read_bytes() == b"\x00\x01hello\xff"
    back = vio.read_file(tmp_path / "raw.bin")
    assert back.dtype is minitorch.uint8 and back.tolist() == list(b"\x00\x01hello\xff")


def test_decode_gif_and_webp():
    frames = [Image.fromarray(np.full((5, 6, 3), v, dtype=np.uint8)) for v in (0, 120, 250)]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:])
    anim = vio.decode_image(_bytes_t(buf.getvalue()))
    assert tuple(anim.shape) == (3, 3, 5, 6)
    np.testing.assert_array_equal(anim.numpy()[:, :, 0, 0], [[0] * 3, [120] * 3, [250] * 3])
    gray = vio.decode_image(_bytes_t(buf.getvalue()), mode=ImageReadMode.GRAY)
    assert tuple(gray.shape) == (3, 1, 5, 6)  # the mode applies to every frame
    np.testing.assert_array_equal(gray.numpy()[:, 0, 0, 0], [0, 120, 250])
    buf = io.BytesIO()
    frames[1].save(buf, format="GIF")
    assert tuple(vio.decode_gif(_bytes_t(buf.getvalue())).shape) == (3, 5, 6)
    from PIL import features
    if features.check("webp"):
        rgb = _smooth(3, 8, 8).transpose(1, 2, 0)
        data = _bytes_t(_pil_bytes(np.ascontiguousarray(rgb), "WEBP", lossless=True))
        np.testing.assert_array_equal(_hwc(vio.decode_image(data).numpy()), rgb)


def test_corrupt_and_truncated_data(tmp_path):
    good_png = _pil_bytes(_smooth(3, 20, 20).transpose(1, 2, 0).copy())
    good_jpg = _pil_bytes(_smooth(3, 20, 20).transpose(1, 2, 0).copy(), "JPEG")
    with pytest.raises(RuntimeError, match="Unsupported image file. Only jpeg, png, webp and gif"):
        vio.decode_image(_bytes_t(b"this is not an image at all"))
    with pytest.raises(RuntimeError, match="Could not decode the PNG data"):
        vio.decode_png(_bytes_t(good_png[:8] + b"\x00" * 40))
    with pytest.raises(RuntimeError, match="Could not decode the PNG data"):
        vio.decode_image(_bytes_t(good_png[:len(good_png) // 2]))
    with pytest.raises(RuntimeError, match="Could not decode the JPEG data"):
        vio.decode_jpeg(_bytes_t(good_jpg[:len(good_jpg) // 3]))
    with pytest.raises(RuntimeError, match="Content is not png"):
        vio.decode_png(_bytes_t(good_jpg))
    with pytest.raises(RuntimeError, match="Not a JPEG file: starts with 0x89 0x50"):
        vio.decode_jpeg(_bytes_t(good_png))
    png16 = _png16(np.zeros((3, 3, 3), dtype=np.uint16))
    with pytest.raises(RuntimeError, match="Could not decode the PNG data"):
        vio.decode_png(_bytes_t(png16[:45] + b"\x00" * 10 + png16[55:]))
    (tmp_path / "bad.png").write_bytes(good_png[:30])
    with pytest.raises(RuntimeError, match="Could not decode the PNG data"):
        vio.read_image(tmp_path / "bad.png")


def test_input_errors(tmp_path):
    with pytest.raises(RuntimeError, match="Expected a torch.uint8 tensor"):
        vio.decode_image(minitorch.zeros(10))
    with pytest.raises(RuntimeError, match=r"Expected a non empty 1-dimensional tensor, got shape \(2, 5\)"):
        vio.decode_png(minitorch.zeros(2, 5, dtype=minitorch.uint8))
    with pytest.raises(RuntimeError, match="Expected a non empty 1-dimensional tensor"):
        vio.decode_jpeg(minitorch.zeros(0, dtype=minitorch.uint8))
    with pytest.raises(ValueError, match="Unknown image read mode 'CMYK'"):
        vio.decode_png(vio.encode_png(_t(_img(3))), mode="CMYK")
    with pytest.raises(TypeError, match="mode should be an ImageReadMode or a string"):
        vio.decode_png(vio.encode_png(_t(_img(3))), mode=3)
    with pytest.raises(RuntimeError, match=r"No such file or directory: '.*missing.png'"):
        vio.read_image(tmp_path / "missing.png")
    (tmp_path / "empty").write_bytes(b"")
    with pytest.raises(RuntimeError, match="Expected a non empty file"):
        vio.read_file(tmp_path / "empty")
    with pytest.raises(RuntimeError, match="Input tensor dtype should be uint8"):
        vio.write_file(tmp_path / "x", minitorch.zeros(3))
    with pytest.raises(RuntimeError, match="Input data should be a 1-dimensional tensor"):
        vio.write_file(tmp_path / "x", minitorch.zeros(3, 3, dtype=minitorch.uint8))

    img = _t(_img(3))
    with pytest.raises(ValueError, match="Image quality should be a positive number between 1 and 100"):
        vio.encode_jpeg(img, quality=0)
    with pytest.raises(ValueError, match="Image quality should be a positive number between 1 and 100"):
        vio.write_jpeg(img, tmp_path / "q.jpg", quality=101)
    with pytest.raises(ValueError, match="encode_jpeg requires at least one input tensor when a list is passed"):
        vio.encode_jpeg([])
    with pytest.raises(RuntimeError, match="Compression level should be between 0 and 9"):
        vio.encode_png(img, compression_level=10)
    for enc in (vio.encode_png, vio.encode_jpeg):
        with pytest.raises(RuntimeError, match="Input tensor dtype should be uint8"):
            enc(minitorch.zeros(3, 4, 4))
        with pytest.raises(RuntimeError, match="Input data should be a 3-dimensional tensor"):
            enc(minitorch.zeros(1, 3, 4, 4, dtype=minitorch.uint8))
        with pytest.raises(RuntimeError, match="The number of channels should be 1 or 3, got: 4"):
            enc(minitorch.zeros(4, 4, 4, dtype=minitorch.uint8))


def test_io_on_device(device):
    arr = _smooth(3, 8, 8)
    data = vio.encode_jpeg(_t(arr))
    out = vio.decode_jpeg(data, device=device)  # decoded on the host, delivered to the device
    assert out.device.type == minitorch.device(device).type
    np.testing.assert_array_equal(out.cpu().numpy(), vio.decode_jpeg(data).numpy())
    on_dev = _t(arr).to(device)
    enc = vio.encode_jpeg(on_dev)
    assert enc.device.type == minitorch.device(device).type
    np.testing.assert_array_equal(enc.cpu().numpy(), data.numpy())
    if minitorch.device(device).type != "cpu":
        with pytest.raises(RuntimeError, match="Input tensor should be on CPU"):
            vio.encode_png(on_dev)
        with pytest.raises(RuntimeError, match="Expected a CPU tensor"):
            vio.decode_image(data.to(device))
