"""Image files in and out, as ``torchvision.io.image``, decoded and encoded with Pillow.

Encoded data is a 1-D ``uint8`` tensor of the file's bytes; images are ``(C, H, W)`` ``uint8`` tensors. A 16-bit
PNG decodes to the full 0..65535 range; minitorch has no ``uint16`` dtype, so those values come back as ``int32``
(what torchvision returned before it gained ``uint16`` in 0.21). Pillow reads 16-bit colour PNGs as 8-bit, so
16-bit PNGs are decoded here (chunks, zlib and the five row filters) instead.

Decoding runs on the host. ``decode_jpeg(..., device="cuda")`` and ``encode_jpeg`` of a CUDA tensor work by
copying through the host (torchvision uses nvjpeg there); the other functions take CPU tensors, as torchvision's.
"""
import io
import struct
import zlib
from enum import Enum

import numpy as np

import minitorch
from minitorch.tensor import Tensor

__all__ = ["ImageReadMode", "read_file", "write_file", "decode_image", "read_image", "decode_png", "decode_jpeg",
           "decode_gif", "decode_webp", "encode_png", "encode_jpeg", "write_png", "write_jpeg"]


class ImageReadMode(Enum):
    """How many channels a decoded image gets: as stored (UNCHANGED) or converted to gray/RGB with or without
    alpha."""

    UNCHANGED = 0
    GRAY = 1
    GRAY_ALPHA = 2
    RGB = 3
    RGB_ALPHA = 4
    RGBA = RGB_ALPHA  # alias, as torchvision


_PIL_MODES = {ImageReadMode.GRAY: "L", ImageReadMode.GRAY_ALPHA: "LA", ImageReadMode.RGB: "RGB",
              ImageReadMode.RGB_ALPHA: "RGBA"}


def _pil():
    try:
        from PIL import Image, ImageOps
    except ImportError as e:  # Pillow is the optional "vision" extra
        raise ImportError("minitorch.vision.io needs Pillow to decode and encode images: pip install pillow") from e
    return Image, ImageOps


def _mode(mode):
    if isinstance(mode, str):
        try:
            return ImageReadMode[mode.upper()]
        except KeyError:
            raise ValueError(f"Unknown image read mode {mode!r}; expected one of "
                             f"{[m.name for m in ImageReadMode]}") from None
    if not isinstance(mode, ImageReadMode):
        raise TypeError(f"mode should be an ImageReadMode or a string, got {type(mode)}")
    return mode


# ----------------------------------------------------------------------------------------------------------------
# raw bytes
# ----------------------------------------------------------------------------------------------------------------
def _bytes_tensor(data):
    return minitorch.from_numpy(np.frombuffer(data, dtype=np.uint8).copy())


def _check_encoded(input):
    """The bytes of a 1-D uint8 CPU tensor of encoded data (RuntimeError with torchvision's messages otherwise)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"Expected a tensor of encoded image bytes, got {type(input)}")
    if input.device.type != "cpu":
        raise RuntimeError(f"Expected a CPU tensor, got a tensor on {input.device}")
    if input.dtype is not minitorch.uint8:
        raise RuntimeError(f"Expected a torch.uint8 tensor, got {input.dtype}")
    if input.dim() != 1 or input.numel() == 0:
        raise RuntimeError(f"Expected a non empty 1-dimensional tensor, got shape {tuple(input.shape)}")
    return input.detach().numpy().tobytes()


def read_file(path):
    """The bytes of a file as a 1-D uint8 tensor."""
    path = str(path)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise RuntimeError(f"[Errno {e.errno}] {e.strerror}: '{path}'") from e
    if not data:
        raise RuntimeError(f"Expected a non empty file: '{path}'")
    return _bytes_tensor(data)


def write_file(filename, data):
    """Write the bytes of a 1-D uint8 CPU tensor to a file."""
    if not isinstance(data, Tensor):
        raise TypeError(f"Expected a tensor, got {type(data)}")
    if data.device.type != "cpu":
        raise RuntimeError("Input tensor should be on CPU")
    if data.dtype is not minitorch.uint8:
        raise RuntimeError(f"Input tensor dtype should be uint8, got {data.dtype}")
    if data.dim() != 1:
        raise RuntimeError(f"Input data should be a 1-dimensional tensor, got shape {tuple(data.shape)}")
    with open(str(filename), "wb") as f:
        f.write(data.detach().numpy().tobytes())


# ----------------------------------------------------------------------------------------------------------------
# decoding
# ----------------------------------------------------------------------------------------------------------------
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _kind(data):
    if data[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if data[:8] == _PNG_MAGIC:
        return "png"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def _open(data, what):
    Image = _pil()[0]
    try:
        img = Image.open(io.BytesIO(data))
        img.load()
    except Exception as e:  # Pillow raises OSError, SyntaxError, ValueError ... for damaged files
        raise RuntimeError(f"Could not decode the {what} data: {e}") from e
    return img


def _pil_to_chw(img, mode, apply_exif_orientation):
    """A decoded PIL image as a (C, H, W) uint8 tensor in the channel layout ``mode`` asks for."""
    ImageOps = _pil()[1]
    if apply_exif_orientation:
        img = ImageOps.exif_transpose(img)
    if mode is ImageReadMode.UNCHANGED:
        if img.mode == "P":
            img = img.convert("RGBA" if "transparency" in img.info else "RGB")
        elif img.mode == "PA":
            img = img.convert("RGBA")
        elif img.mode == "1":
            img = img.convert("L")
        elif img.mode not in ("L", "LA", "RGB", "RGBA"):  # CMYK, YCbCr, I, F ...
            img = img.convert("RGB")
    else:
        img = img.convert(_PIL_MODES[mode])
    arr = np.array(img, dtype=np.uint8)  # a writable copy
    arr = arr[None] if arr.ndim == 2 else arr.transpose(2, 0, 1)
    return minitorch.from_numpy(np.ascontiguousarray(arr))


def _unfilter(rows, height, stride, bpp):
    """Undo PNG's per-row filters (None, Sub, Up, Average, Paeth) of non-interlaced image data."""
    out = np.zeros((height, stride), dtype=np.int32)
    prev = np.zeros(stride, dtype=np.int32)
    for y in range(height):
        kind, line = rows[y, 0], rows[y, 1:].astype(np.int32)
        if kind == 0:
            cur = line
        elif kind == 1:  # Sub: a running sum along each byte lane of the pixels
            cur = np.cumsum(line.reshape(-1, bpp), axis=0).reshape(-1) & 255
        elif kind == 2:
            cur = (line + prev) & 255
        elif kind in (3, 4):
            cur = line.reshape(-1, bpp).copy()
            up = prev.reshape(-1, bpp)
            left = np.zeros(bpp, dtype=np.int32)
            upleft = np.zeros(bpp, dtype=np.int32)
            for x in range(cur.shape[0]):
                if kind == 3:
                    pred = (left + up[x]) >> 1
                else:
                    p = left + up[x] - upleft
                    pa, pb, pc = np.abs(p - left), np.abs(p - up[x]), np.abs(p - upleft)
                    pred = np.where((pa <= pb) & (pa <= pc), left, np.where(pb <= pc, up[x], upleft))
                cur[x] = (cur[x] + pred) & 255
                left, upleft = cur[x], up[x]
            cur = cur.reshape(-1)
        else:
            raise RuntimeError(f"Could not decode the PNG data: unknown row filter {kind}")
        out[y] = cur
        prev = cur
    return out.astype(np.uint8)


def _decode_png16(data):
    """(H, W, C) uint16 pixels of a non-interlaced 16-bit PNG (colour types gray, RGB, gray+alpha, RGBA)."""
    pos, header, idat = 8, None, []
    while pos + 8 <= len(data):
        length, ctype = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if len(body) != length:
            raise RuntimeError("Could not decode the PNG data: the file is truncated")
        if ctype == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif ctype == b"IDAT":
            idat.append(body)
        elif ctype == b"IEND":
            break
        pos += 12 + length
    width, height, _, color, _, _, interlace = header
    channels = {0: 1, 2: 3, 4: 2, 6: 4}.get(color)
    if channels is None:
        raise RuntimeError(f"Could not decode the PNG data: colour type {color} cannot have 16 bits per sample")
    if interlace:
        raise RuntimeError("Could not decode the PNG data: interlaced 16-bit PNGs are not supported")
    bpp = 2 * channels
    stride = width * bpp
    try:
        raw = zlib.decompress(b"".join(idat))
    except zlib.error as e:
        raise RuntimeError(f"Could not decode the PNG data: {e}") from e
    if len(raw) < height * (stride + 1):
        raise RuntimeError("Could not decode the PNG data: the image data is truncated")
    rows = np.frombuffer(raw, dtype=np.uint8)[:height * (stride + 1)].reshape(height, stride + 1)
    pixels = _unfilter(rows, height, stride, bpp)
    return pixels.view(">u2").reshape(height, width, channels).astype(np.uint16)


def _convert16(arr, mode):
    """Channel conversion of (H, W, C) 16-bit pixels; gray uses the ITU-R 601 weights Pillow uses for 8 bits."""
    c = arr.shape[2]
    color, alpha = arr[..., :3 if c >= 3 else 1], (arr[..., -1:] if c in (2, 4) else None)
    if mode is ImageReadMode.UNCHANGED:
        return arr
    if mode in (ImageReadMode.GRAY, ImageReadMode.GRAY_ALPHA):
        if color.shape[2] == 3:
            color = np.round(color.astype(np.float64) @ np.array([0.299, 0.587, 0.114]))[..., None]
    elif color.shape[2] == 1:
        color = np.repeat(color, 3, axis=2)
    if mode in (ImageReadMode.GRAY_ALPHA, ImageReadMode.RGB_ALPHA):
        if alpha is None:
            alpha = np.full(arr.shape[:2] + (1,), 65535, dtype=np.uint16)
        return np.concatenate([color.astype(np.uint16), alpha], axis=2)
    return color.astype(np.uint16)


def _to_device(t, device):
    device = minitorch.device(device) if not isinstance(device, minitorch.device) else device
    return t if device.type == "cpu" else t.to(device)


def decode_png(input, mode=ImageReadMode.UNCHANGED, apply_exif_orientation=False):
    """Decode PNG bytes (a 1-D uint8 tensor) into a (C, H, W) tensor: uint8, or int32 for 16-bit PNGs."""
    data = _check_encoded(input)
    mode = _mode(mode)
    if data[:8] != _PNG_MAGIC:
        raise RuntimeError("Content is not png")
    if len(data) > 24 and data[12:16] == b"IHDR" and data[24] == 16:
        arr = _convert16(_decode_png16(data), mode)
        if apply_exif_orientation:
            arr = _orient(arr, _open(data, "PNG").getexif().get(0x0112, 1))
        return minitorch.from_numpy(np.ascontiguousarray(arr.transpose(2, 0, 1).astype(np.int32)))
    return _pil_to_chw(_open(data, "PNG"), mode, apply_exif_orientation)


def _orient(arr, orientation):
    """Apply an EXIF orientation (1-8) to (H, W, C) pixels."""
    ops = {2: lambda a: a[:, ::-1], 3: lambda a: a[::-1, ::-1], 4: lambda a: a[::-1],
           5: lambda a: a.transpose(1, 0, 2), 6: lambda a: np.rot90(a, -1), 7: lambda a: a[::-1, ::-1].transpose(1, 0, 2),
           8: lambda a: np.rot90(a, 1)}
    return ops[orientation](arr) if orientation in ops else arr


def decode_jpeg(input, mode=ImageReadMode.UNCHANGED, device="cpu", apply_exif_orientation=False):
    """Decode JPEG bytes (a 1-D uint8 tensor, or a list of them) into (C, H, W) uint8 tensor(s) on ``device``."""
    if isinstance(input, (list, tuple)):
        return [decode_jpeg(t, mode, device, apply_exif_orientation) for t in input]
    data = _check_encoded(input)
    mode = _mode(mode)
    if data[:2] != b"\xff\xd8":
        raise RuntimeError(f"Not a JPEG file: starts with 0x{data[0]:02x} 0x{data[1] if len(data) > 1 else 0:02x}")
    return _to_device(_pil_to_chw(_open(data, "JPEG"), mode, apply_exif_orientation), device)


def decode_webp(input, mode=ImageReadMode.UNCHANGED):
    """Decode WEBP bytes into a (C, H, W) uint8 tensor (RGB, or RGBA when the file has alpha)."""
    data = _check_encoded(input)
    mode = _mode(mode)
    if _kind(data) != "webp":
        raise RuntimeError("Content is not webp")
    return _pil_to_chw(_open(data, "WEBP"), mode, False)


def decode_gif(input):
    """Decode GIF bytes into RGB uint8 ``(3, H, W)``, or ``(N, 3, H, W)`` for an animation of N frames."""
    return _decode_gif(input, ImageReadMode.RGB)


def _decode_gif(input, mode):
    data = _check_encoded(input)
    if _kind(data) != "gif":
        raise RuntimeError("Content is not gif")
    img = _open(data, "GIF")
    frames = []
    for i in range(getattr(img, "n_frames", 1)):
        img.seek(i)
        frames.append(_pil_to_chw(img.convert("RGB"), mode, False).numpy())
    arr = frames[0] if len(frames) == 1 else np.stack(frames)
    return minitorch.from_numpy(np.ascontiguousarray(arr))


def decode_image(input, mode=ImageReadMode.UNCHANGED, apply_exif_orientation=False):
    """Decode a JPEG, PNG, GIF or WEBP image given as bytes (a 1-D uint8 tensor) or a path."""
    if not isinstance(input, Tensor):
        input = read_file(input)
    data = _check_encoded(input)
    mode = _mode(mode)
    kind = _kind(data)
    if kind == "jpeg":
        return decode_jpeg(input, mode, apply_exif_orientation=apply_exif_orientation)
    if kind == "png":
        return decode_png(input, mode, apply_exif_orientation)
    if kind == "webp":
        return decode_webp(input, mode)
    if kind == "gif":
        return _decode_gif(input, ImageReadMode.RGB if mode is ImageReadMode.UNCHANGED else mode)
    raise RuntimeError("Unsupported image file. Only jpeg, png, webp and gif are currently supported. "
                       f"The file starts with {data[:8]!r}")


def read_image(path, mode=ImageReadMode.UNCHANGED, apply_exif_orientation=False):
    """Read a JPEG, PNG, GIF or WEBP file into a (C, H, W) tensor (uint8; int32 for 16-bit PNGs)."""
    return decode_image(read_file(path), mode, apply_exif_orientation)


# ----------------------------------------------------------------------------------------------------------------
# encoding
# ----------------------------------------------------------------------------------------------------------------
def _check_image(input, who):
    if not isinstance(input, Tensor):
        raise TypeError(f"{who}: expected a tensor, got {type(input)}")
    if input.dtype is not minitorch.uint8:
        raise RuntimeError(f"Input tensor dtype should be uint8, got {input.dtype}")
    if input.dim() != 3:
        raise RuntimeError(f"Input data should be a 3-dimensional tensor, got shape {tuple(input.shape)}")
    if input.shape[0] not in (1, 3):
        raise RuntimeError(f"The number of channels should be 1 or 3, got: {input.shape[0]}")


def _to_pil(input):
    Image = _pil()[0]
    arr = input.detach().cpu().numpy()
    return Image.fromarray(np.ascontiguousarray(arr[0] if arr.shape[0] == 1 else arr.transpose(1, 2, 0)))


def encode_png(input, compression_level=6):
    """Encode a (C, H, W) uint8 CPU image (C = 1 or 3) as PNG bytes (a 1-D uint8 tensor)."""
    if isinstance(input, Tensor) and input.device.type != "cpu":
        raise RuntimeError("Input tensor should be on CPU")
    _check_image(input, "encode_png")
    if not 0 <= compression_level <= 9:
        raise RuntimeError(f"Compression level should be between 0 and 9, got {compression_level}")
    buf = io.BytesIO()
    _to_pil(input).save(buf, format="PNG", compress_level=int(compression_level))
    return _bytes_tensor(buf.getvalue())


def encode_jpeg(input, quality=75):
    """Encode a (C, H, W) uint8 image (C = 1 or 3), or a list of them, as JPEG bytes (1-D uint8 tensors).

    A CUDA image is encoded on the host; its bytes come back on its device, as torchvision's GPU encoder does.
    """
    if quality < 1 or quality > 100:
        raise ValueError("Image quality should be a positive number between 1 and 100")
    if isinstance(input, (list, tuple)):
        if not input:
            raise ValueError("encode_jpeg requires at least one input tensor when a list is passed")
        return [encode_jpeg(t, quality) for t in input]
    _check_image(input, "encode_jpeg")
    buf = io.BytesIO()
    _to_pil(input).save(buf, format="JPEG", quality=int(quality))
    return _to_device(_bytes_tensor(buf.getvalue()), input.device)


def write_png(input, filename, compression_level=6):
    """Encode a (C, H, W) uint8 image as PNG and write it to ``filename``."""
    write_file(filename, encode_png(input, compression_level))


def write_jpeg(input, filename, quality=75):
    """Encode a (C, H, W) uint8 image as JPEG and write it to ``filename``."""
    output = encode_jpeg(input, quality)
    write_file(filename, output if output.device.type == "cpu" else output.cpu())
