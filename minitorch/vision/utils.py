"""Image grids, saving and drawing, as ``torchvision.utils``.

These are host-side helpers: they read a tensor's values with NumPy, draw with Pillow's ``ImageDraw`` (imported
lazily, so ``import minitorch.vision`` works without Pillow) and hand back a tensor on the input's device. Tensors
on a CUDA device are accepted: their values are copied to the host, and results go back to that device.

Example::

    >>> from minitorch.vision.utils import make_grid, save_image
    >>> grid = make_grid(minitorch.rand(16, 1, 28, 28), nrow=4)   # (3, 122, 122)
    >>> save_image(minitorch.rand(16, 1, 28, 28), "samples.png", nrow=4)
"""
import math
import warnings

import numpy as np

import minitorch
from minitorch.tensor import Tensor

__all__ = ["make_grid", "save_image", "draw_bounding_boxes", "draw_segmentation_masks", "draw_keypoints",
           "flow_to_image"]


# ----------------------------------------------------------------------------------------------------------------
# host <-> tensor
# ----------------------------------------------------------------------------------------------------------------
def _host(t):
    """The values of a tensor as a NumPy array on the host (no autograd, no copy for CPU tensors)."""
    return t.detach().cpu().numpy()


def _to_tensor(arr, device):
    out = minitorch.from_numpy(np.ascontiguousarray(arr))
    return out if device.type == "cpu" else out.to(device)


def _pil():
    try:
        from PIL import Image, ImageColor, ImageDraw, ImageFont
    except ImportError as e:  # Pillow is the optional "vision" extra
        raise ImportError("minitorch.vision.utils needs Pillow to write and draw images: pip install pillow") from e
    return Image, ImageColor, ImageDraw, ImageFont


# ----------------------------------------------------------------------------------------------------------------
# make_grid / save_image
# ----------------------------------------------------------------------------------------------------------------
def _normalize_(arr, low, high):
    """Clamp ``arr`` to [low, high] and map it onto [0, 1] in place, in the array's own precision."""
    lo, hi = arr.dtype.type(low), arr.dtype.type(high)
    np.clip(arr, lo, hi, out=arr)
    arr -= lo
    arr /= arr.dtype.type(max(high - low, 1e-5))


def make_grid(tensor, nrow=8, padding=2, normalize=False, value_range=None, scale_each=False, pad_value=0.0):
    """Tile a batch of images into one image.

    Args:
        tensor: a ``(B, C, H, W)`` batch, one ``(C, H, W)`` or ``(H, W)`` image, or a list of same-sized images.
            Single-channel images are repeated into 3 channels.
        nrow: images per row; the grid has ``ceil(B / nrow)`` rows.
        padding: pixels between images and around the border.
        normalize: map values onto [0, 1] using ``value_range`` (default: the tensor's min and max).
        value_range: a ``(min, max)`` tuple used by ``normalize``; values are clamped to it first.
        scale_each: normalize every image with its own min and max.
        pad_value: the value of the padding pixels.

    Returns:
        a ``(C, H', W')`` tensor with the input's dtype and device; a single image is returned unpadded.
    """
    if isinstance(tensor, list):
        for t in tensor:
            if not isinstance(t, Tensor):
                raise TypeError(f"tensor or list of tensors expected, got a list containing {type(t)}")
        tensor = minitorch.stack(tensor, dim=0)  # raises PyTorch's errors for empty or ragged lists
    elif not isinstance(tensor, Tensor):
        raise TypeError(f"tensor or list of tensors expected, got {type(tensor)}")
    device = tensor.device
    arr = _host(tensor)
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim == 3:
        if arr.shape[0] == 1:
            arr = np.concatenate([arr, arr, arr], axis=0)
        arr = arr[None]
    if arr.ndim != 4:
        raise ValueError(f"make_grid expects a tensor of 2, 3 or 4 dimensions (B x C x H x W), got shape "
                         f"{tuple(tensor.shape)}")
    if arr.shape[1] == 1:
        arr = np.concatenate([arr, arr, arr], axis=1)

    if normalize is True:
        if value_range is not None and not isinstance(value_range, tuple):
            raise TypeError("value_range has to be a tuple (min, max) if specified. min and max are numbers")
        if not np.issubdtype(arr.dtype, np.floating):
            # PyTorch's in-place sub_/div_ by a float cannot write an integer tensor
            raise RuntimeError(f"result type Float can't be cast to the desired output type {tensor.dtype.c_name}")
        arr = np.array(arr)  # never write into the caller's tensor
        groups = arr if scale_each is True else [arr]
        for img in groups:
            if value_range is not None:
                low, high = value_range
            else:
                low, high = float(img.min()), float(img.max())
            _normalize_(img, low, high)

    if arr.shape[0] == 1:
        return _to_tensor(arr[0], device)

    nmaps = arr.shape[0]
    xmaps = min(nrow, nmaps)
    ymaps = math.ceil(nmaps / xmaps)
    cell_h, cell_w = arr.shape[2] + padding, arr.shape[3] + padding
    grid = np.full((arr.shape[1], cell_h * ymaps + padding, cell_w * xmaps + padding), pad_value, dtype=arr.dtype)
    for k in range(nmaps):
        y, x = divmod(k, xmaps)
        top, left = y * cell_h + padding, x * cell_w + padding
        grid[:, top:top + cell_h - padding, left:left + cell_w - padding] = arr[k]
    return _to_tensor(grid, device)


def save_image(tensor, fp, format=None, **kwargs):
    """Write an image, or a batch tiled by :func:`make_grid`, to a file with Pillow.

    Values are taken in [0, 1] and rounded to 8 bits (``x * 255 + 0.5``, clamped, truncated).

    Args:
        tensor: what :func:`make_grid` accepts (floating-point values).
        fp: a path or a writable binary file object.
        format: Pillow's format name ("PNG", "JPEG" ...); needed for file objects, else taken from the extension.
        **kwargs: the other arguments of :func:`make_grid`.
    """
    Image = _pil()[0]
    grid = _host(make_grid(tensor, **kwargs))
    if not np.issubdtype(grid.dtype, np.floating):
        # PyTorch's in-place add_(0.5) cannot write an integer tensor
        dt = minitorch.from_numpy(grid[:0]).dtype
        raise RuntimeError(f"result type Float can't be cast to the desired output type {dt.legacy}")
    scaled = grid * grid.dtype.type(255)
    scaled += grid.dtype.type(0.5)
    np.clip(scaled, 0, 255, out=scaled)
    pixels = np.ascontiguousarray(scaled.transpose(1, 2, 0).astype(np.uint8))
    Image.fromarray(pixels).save(fp, format=format)


# ----------------------------------------------------------------------------------------------------------------
# drawing
# ----------------------------------------------------------------------------------------------------------------
def _palette(num_objects):
    """torchvision's deterministic default colours: object ``i`` gets ``(i * (2**25-1, 2**15-1, 2**21-1)) % 255``."""
    return [tuple(int(i * p % 255) for p in (2 ** 25 - 1, 2 ** 15 - 1, 2 ** 21 - 1)) for i in range(num_objects)]


def _parse_colors(colors, num_objects, floating=False):
    """A list of ``num_objects`` RGB triplets (scaled to [0, 1] when ``floating``) from the user's colour argument."""
    ImageColor = _pil()[1]
    if colors is None:
        colors = _palette(num_objects)
    elif isinstance(colors, list):
        if len(colors) < num_objects:
            raise ValueError(f"Number of colors must be equal or larger than the number of objects, but got "
                             f"{len(colors)} < {num_objects}.")
    elif not isinstance(colors, (tuple, str)):
        raise ValueError(f"`colors` must be a tuple or a string, or a list thereof, but got {colors}.")
    elif isinstance(colors, tuple) and len(colors) != 3:
        raise ValueError(f"If passed as tuple, colors should be an RGB triplet, but got {colors}.")
    else:  # one colour for every object
        colors = [colors] * num_objects
    out = [ImageColor.getrgb(c) if isinstance(c, str) else tuple(c) for c in colors]
    if floating:
        out = [tuple(v / 255 for v in c) for c in out]
    return out


def _uint8_image(arr):
    """An image array in uint8, scaling a float [0, 1] one as torchvision's ``to_dtype(scale=True)``."""
    if arr.dtype == np.uint8:
        return arr
    scaled = arr.astype(np.float64 if arr.dtype == np.float64 else np.float32) * (255 + 1.0 - 1e-3)
    return np.clip(scaled, 0, 255).astype(np.uint8)


def _restore_dtype(arr, dtype, device):
    """A drawn uint8 ``(C, H, W)`` array back as a tensor of the input image's dtype (floats scaled to [0, 1])."""
    out = _to_tensor(arr, device)
    if dtype.is_floating_point:
        out = (out.to(dtype) / 255).to(dtype)
    return out


def _check_image(image, allow_gray=False, tensor_msg="The image must be a tensor, got {}"):
    if not isinstance(image, Tensor):
        raise TypeError(tensor_msg.format(type(image)))
    if not (image.dtype is minitorch.uint8 or image.dtype.is_floating_point):
        raise ValueError(f"The image dtype must be uint8 or float, got {image.dtype}")
    if image.dim() != 3:
        raise ValueError("Pass individual images, not batches")
    if allow_gray:
        if image.shape[0] not in (1, 3):
            raise ValueError("Only grayscale and RGB images are supported")
    elif image.shape[0] != 3:
        raise ValueError("Pass an RGB image. Other Image formats are not supported")


def draw_bounding_boxes(image, boxes, labels=None, colors=None, fill=False, width=1, font=None, font_size=None,
                        label_colors=None):
    """Draw boxes (and optional labels) on a ``(C, H, W)`` image, C = 1 or 3, uint8 or float in [0, 1].

    Args:
        image: the image; a grayscale one comes back with 3 channels.
        boxes: ``(N, 4)`` boxes as ``(xmin, ymin, xmax, ymax)`` pixel coordinates.
        labels: N strings written inside the boxes' top-left corners.
        colors: one colour or a list (names such as "red", "#FF00FF", or RGB tuples); default: a fixed palette.
        fill: fill the boxes with their colour at alpha 100/255.
        width: outline width in pixels.
        font: a TrueType font file for the labels (Pillow's default font otherwise); font_size: its size (10).
        label_colors: colours of the label text (default: the box colours).

    Returns:
        a ``(3, H, W)`` tensor with the input's dtype.
    """
    Image, _, ImageDraw, ImageFont = _pil()
    _check_image(image, allow_gray=True, tensor_msg="Tensor expected, got {}")
    box_arr = _host(boxes)
    if box_arr.ndim != 2 or box_arr.shape[1] != 4:
        raise ValueError(f"boxes must be of shape (N, 4), got {tuple(boxes.shape)}")
    if (box_arr[:, 0] > box_arr[:, 2]).any() or (box_arr[:, 1] > box_arr[:, 3]).any():
        raise ValueError("Boxes need to be in (xmin, ymin, xmax, ymax) format. Use torchvision.ops.box_convert to "
                         "convert them")
    num_boxes = box_arr.shape[0]
    if num_boxes == 0:
        warnings.warn("boxes doesn't contain any box. No box was drawn")
        return image
    if labels is None:
        labels = [None] * num_boxes
    elif len(labels) != num_boxes:
        raise ValueError(f"Number of boxes ({num_boxes}) and labels ({len(labels)}) mismatch. Please specify labels "
                         "for each box.")
    colors = _parse_colors(colors, num_boxes)
    label_colors = _parse_colors(label_colors, num_boxes) if label_colors else list(colors)
    if font is None:
        if font_size is not None:
            warnings.warn("Argument 'font_size' will be ignored since 'font' is not set.")
        txt_font = ImageFont.load_default()
    else:
        txt_font = ImageFont.truetype(font=font, size=font_size or 10)

    arr = _uint8_image(_host(image))
    if arr.shape[0] == 1:
        arr = np.concatenate([arr, arr, arr], axis=0)
    canvas = Image.fromarray(np.ascontiguousarray(arr.transpose(1, 2, 0)))
    draw = ImageDraw.Draw(canvas, "RGBA") if fill else ImageDraw.Draw(canvas)
    # coordinates truncate toward zero, as a cast to int64
    for bbox, color, label, label_color in zip(box_arr.astype(np.int64).tolist(), colors, labels, label_colors):
        if fill:
            draw.rectangle(bbox, width=width, outline=color, fill=color + (100,))
        else:
            draw.rectangle(bbox, width=width, outline=color)
        if label is not None:
            margin = width + 1
            draw.text((bbox[0] + margin, bbox[1] + margin), label, fill=label_color, font=txt_font)
    return _restore_dtype(np.asarray(canvas).transpose(2, 0, 1), image.dtype, image.device)


def draw_segmentation_masks(image, masks, alpha=0.8, colors=None):
    """Blend boolean masks onto an RGB image: ``out = image * (1 - alpha) + painted * alpha``.

    ``painted`` is the image with each mask's pixels set to its colour (later masks win) and pixels covered by
    more than one mask set to black, as torchvision.

    Args:
        image: a ``(3, H, W)`` uint8 image, or float in [0, 1].
        masks: ``(N, H, W)`` or ``(H, W)`` bool masks.
        alpha: opacity of the masks, 0 (invisible) to 1 (opaque).
        colors: one colour or a list of them; default: a fixed palette.

    Returns:
        a tensor with the image's shape and dtype.
    """
    _check_image(image)
    if not isinstance(masks, Tensor):
        raise TypeError(f"The masks must be a tensor, got {type(masks)}")
    if masks.dim() == 2:
        masks = masks[None]
    if masks.dim() != 3:
        raise ValueError("masks must be of shape (H, W) or (batch_size, H, W)")
    if masks.dtype is not minitorch.bool:
        raise ValueError(f"The masks must be of dtype bool. Got {masks.dtype}")
    if tuple(masks.shape[-2:]) != tuple(image.shape[-2:]):
        raise ValueError("The image and the masks must have the same height and width")
    num_masks = masks.shape[0]
    if num_masks == 0:
        warnings.warn("masks doesn't contain any mask. No mask was drawn")
        return image
    floating = image.dtype.is_floating_point
    colors = _parse_colors(colors, num_masks, floating=floating)
    img = _host(image)
    mask_arr = _host(masks)
    painted = img.copy()
    for mask, color in zip(mask_arr, colors):
        painted[:, mask] = np.asarray(color, dtype=img.dtype)[:, None]
    painted[:, mask_arr.sum(axis=0) > 1] = 0
    if floating:
        out = img * img.dtype.type(1 - alpha) + painted * img.dtype.type(alpha)
    else:
        # a uint8 image times a Python float computes in float32, then truncates back to uint8
        out = img.astype(np.float32) * np.float32(1 - alpha) + painted.astype(np.float32) * np.float32(alpha)
        out = out.astype(np.uint8)
    return _to_tensor(out.astype(img.dtype), image.device)


def draw_keypoints(image, keypoints, connectivity=None, colors=None, radius=2, width=3, visibility=None):
    """Draw keypoints (filled circles) and the lines between connected ones on an RGB image.

    Args:
        image: a ``(3, H, W)`` uint8 image, or float in [0, 1].
        keypoints: ``(num_instances, K, 2)`` ``[x, y]`` locations.
        connectivity: pairs ``(i, j)`` of keypoint indices to join with a line.
        colors: the colour of the keypoints (a name or an RGB tuple); default white.
        radius: the circles' radius in pixels.
        width: the lines' width in pixels.
        visibility: ``(num_instances, K)`` bools; invisible keypoints and their connections are not drawn.

    Returns:
        a tensor with the image's shape and dtype.
    """
    Image, _, ImageDraw, _ = _pil()
    _check_image(image)
    if not isinstance(keypoints, Tensor):
        raise TypeError(f"The keypoints must be a tensor, got {type(keypoints)}")
    if keypoints.dim() != 3:
        raise ValueError("keypoints must be of shape (num_instances, K, 2)")
    if visibility is None:
        vis = np.ones(tuple(keypoints.shape[:-1]), dtype=bool)
    else:
        vis = _host(visibility)
        if vis.ndim == 3:  # a (num_instances, K, 1) slice of the model's [x, y, v] output
            vis = vis[..., 0]
        if vis.ndim != 2:
            raise ValueError(f"visibility must be of shape (num_instances, K). Got ndim={vis.ndim}")
        if vis.shape != tuple(keypoints.shape[:-1]):
            raise ValueError("keypoints and visibility must have the same dimensionality for num_instances and K. "
                             f"Got visibility.shape = {tuple(visibility.shape)} and keypoints.shape = "
                             f"{tuple(keypoints.shape)}")
        vis = vis.astype(bool)
    arr = _uint8_image(_host(image))
    canvas = Image.fromarray(np.ascontiguousarray(arr.transpose(1, 2, 0)))
    draw = ImageDraw.Draw(canvas)
    if isinstance(colors, list):
        colors = tuple(colors)
    for kpts, kvis in zip(_host(keypoints).astype(np.int64).tolist(), vis.tolist()):
        for (x, y), visible in zip(kpts, kvis):
            if visible:
                draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=colors, outline=None, width=0)
        for start, end in connectivity or ():
            if kvis[start] and kvis[end]:
                draw.line((tuple(kpts[start]), tuple(kpts[end])), width=width)
    return _restore_dtype(np.asarray(canvas).transpose(2, 0, 1), image.dtype, image.device)


# ----------------------------------------------------------------------------------------------------------------
# optical flow
# ----------------------------------------------------------------------------------------------------------------
# The Middlebury flow colour wheel (Baker et al., "A Database and Evaluation Methodology for Optical Flow"): hue
# ramps of these lengths from red through yellow, green, cyan, blue and magenta back to red.
_WHEEL_SEGMENTS = (15, 6, 4, 11, 13, 6)


def _colour_wheel():
    """(55, 3) float32 RGB values of the wheel, each ramp ``floor(255 * i / n)`` up or down in one channel."""
    rows = []
    # (channel that ramps, ramp direction, channels held at 255) per segment
    plan = ((1, +1, (0,)), (0, -1, (1,)), (2, +1, (1,)), (1, -1, (2,)), (0, +1, (2,)), (2, -1, (0,)))
    for n, (ramp_ch, direction, full) in zip(_WHEEL_SEGMENTS, plan):
        seg = np.zeros((n, 3), dtype=np.float32)
        ramp = np.floor(np.float32(255) * np.arange(n, dtype=np.float32) / np.float32(n))
        seg[:, ramp_ch] = ramp if direction > 0 else np.float32(255) - ramp
        for ch in full:
            seg[:, ch] = 255
        rows.append(seg)
    return np.concatenate(rows)


def flow_to_image(flow):
    """Colour-code optical flow: direction as hue on the Middlebury colour wheel, magnitude as saturation.

    Args:
        flow: a float32 ``(2, H, W)`` or ``(N, 2, H, W)`` tensor of (horizontal, vertical) displacements. It is
            scaled by its largest vector norm first, so the longest vector is fully saturated.

    Returns:
        a uint8 ``(3, H, W)`` or ``(N, 3, H, W)`` RGB tensor on the flow's device.
    """
    if not isinstance(flow, Tensor):
        raise TypeError(f"flow should be a tensor, got {type(flow)}")
    if flow.dtype is not minitorch.float32:
        raise ValueError(f"Flow should be of dtype torch.float, got {flow.dtype}.")
    orig_shape = tuple(flow.shape)
    arr = _host(flow)
    if arr.ndim == 3:
        arr = arr[None]
    if arr.ndim != 4 or arr.shape[1] != 2:
        raise ValueError(f"Input flow should have shape (2, H, W) or (N, 2, H, W), got {orig_shape}.")
    max_norm = np.sqrt(np.sum(arr ** 2, axis=1)).max() if arr.size else np.float32(0)
    arr = arr / (max_norm + np.finfo(np.float32).eps)

    wheel = _colour_wheel()
    ncols = wheel.shape[0]
    norm = np.sqrt(np.sum(arr ** 2, axis=1))
    angle = np.arctan2(-arr[:, 1], -arr[:, 0]) / np.float32(np.pi)  # in [-1, 1]
    pos = (angle + 1) / 2 * (ncols - 1)
    k0 = np.floor(pos).astype(np.int64)
    k1 = np.where(k0 + 1 == ncols, 0, k0 + 1)
    frac = pos - k0
    image = np.empty((arr.shape[0], 3, arr.shape[2], arr.shape[3]), dtype=np.uint8)
    for c in range(3):
        col = (1 - frac) * (wheel[k0, c] / np.float32(255.0)) + frac * (wheel[k1, c] / np.float32(255.0))
        col = 1 - norm * (1 - col)  # short vectors fade to white
        image[:, c] = np.floor(np.float32(255) * col)
    if len(orig_shape) == 3:
        image = image[0]
    return _to_tensor(image, flow.device)
