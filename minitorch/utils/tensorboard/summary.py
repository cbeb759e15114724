"""Summary protocol buffers (tensorboard's own messages) built from minitorch tensors, numpy arrays and numbers.

Each function returns a ``tensorboard.compat.proto.summary_pb2.Summary`` that ``FileWriter.add_summary`` wraps in
an ``Event``; the layouts (tags, plugin names, plugin data) are the ones TensorBoard's plugins read.
"""
import io

import numpy as np
from tensorboard.compat.proto.summary_pb2 import HistogramProto, Summary, SummaryMetadata
from tensorboard.compat.proto.tensor_pb2 import TensorProto
from tensorboard.compat.proto.tensor_shape_pb2 import TensorShapeProto

__all__ = ["make_np", "scalar", "histogram", "histogram_raw", "image", "text", "pr_curve", "pr_curve_raw",
           "custom_scalars", "hparams", "convert_to_HWC", "make_grid", "figure_to_image", "default_bins"]


def make_np(x):
    """A numpy array from a minitorch tensor (any device, detached), a numpy array, a python number or a list."""
    from ...tensor import Tensor
    if isinstance(x, Tensor):
        return x.detach().cpu().numpy()
    if isinstance(x, np.ndarray):
        return x
    if isinstance(x, (int, float, bool, np.number, np.bool_)):
        return np.array([x])
    if isinstance(x, (list, tuple)):
        return np.array([make_np(v) if isinstance(v, Tensor) else v for v in x])
    raise NotImplementedError(f"Got {type(x)}, but numpy array or torch tensor are expected.")


def _shape_proto(shape):
    return TensorShapeProto(dim=[TensorShapeProto.Dim(size=int(s)) for s in shape])


def _plugin(name, content=b""):
    return SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name=name, content=content))


# ----------------------------------------------------------------------------------------------------------------
# scalars and histograms
# ----------------------------------------------------------------------------------------------------------------
def scalar(name, value, new_style=False, double_precision=False):
    """A one-value summary: ``simple_value`` (the classic layout), or with ``new_style`` a 0-d tensor read by the
    scalars plugin (float32, or float64 with ``double_precision``)."""
    arr = make_np(value)
    if arr.squeeze().ndim != 0:
        raise AssertionError(f"scalar should be 0D, got a value of shape {tuple(arr.shape)}")
    v = float(arr.reshape(-1)[0])
    if not new_style:
        return Summary(value=[Summary.Value(tag=name, simple_value=v)])
    if double_precision:
        tensor = TensorProto(dtype="DT_DOUBLE", double_val=[v], tensor_shape=TensorShapeProto())
    else:
        tensor = TensorProto(dtype="DT_FLOAT", float_val=[v], tensor_shape=TensorShapeProto())
    return Summary(value=[Summary.Value(tag=name, tensor=tensor, metadata=_plugin("scalars"))])


def default_bins():
    """TensorBoard's bucket edges for ``bins='tensorflow'``: +-1e-12 growing by 10% up to 1e20, and 0."""
    pos = []
    v = 1e-12
    while v < 1e20:
        pos.append(v)
        v *= 1.1
    return [-b for b in reversed(pos)] + [0] + pos


def histogram_raw(name, min, max, num, sum, sum_squares, bucket_limits, bucket_counts):  # noqa: A002
    hist = HistogramProto(min=min, max=max, num=num, sum=sum, sum_squares=sum_squares,
                          bucket_limit=list(bucket_limits), bucket=list(bucket_counts))
    return Summary(value=[Summary.Value(tag=name, histo=hist)])


def histogram(name, values, bins, max_bins=None):
    """A histogram of ``values`` with numpy's ``bins`` (edges, a count or a rule name), trimmed to the buckets between
    the first and last nonzero ones (plus one empty bucket on the left, since TensorBoard stores right edges only)."""
    values = make_np(values).astype(np.float64).reshape(-1)
    if values.size == 0:
        raise ValueError("The input has no element.")
    counts, edges = np.histogram(values, bins=bins)
    if max_bins is not None and len(counts) > max_bins:
        group = len(counts) // max_bins
        pad = (-len(counts)) % group
        counts = np.concatenate([counts, np.zeros(pad, counts.dtype)]).reshape(-1, group).sum(axis=1)
        edges = np.concatenate([edges[:-1:group], edges[-1:]])
    nonzero = np.flatnonzero(counts)
    first, last = int(nonzero[0]), int(nonzero[-1]) + 1
    if first > 0:
        counts = counts[first - 1:last]
    else:
        counts = np.concatenate([[0], counts[:last]])
    edges = edges[first:last + 1]
    return histogram_raw(name, float(values.min()), float(values.max()), values.size, float(values.sum()),
                         float(values.dot(values)), edges.tolist(), counts.tolist())


# ----------------------------------------------------------------------------------------------------------------
# images
# ----------------------------------------------------------------------------------------------------------------
def make_grid(images, ncols=8):
    """Tile ``N x C x H x W`` images (C 1 or 3; 1 is repeated to RGB) into one ``3 x H*rows x W*cols`` canvas."""
    if images.ndim != 4 or images.shape[1] not in (1, 3):
        raise AssertionError(f"Input should be a 4D array with 1 or 3 channels, got shape {images.shape}")
    if images.shape[1] == 1:
        images = np.repeat(images, 3, axis=1)
    n, _, h, w = images.shape
    ncols = min(n, ncols)
    nrows = -(-n // ncols)
    canvas = np.zeros((3, h * nrows, w * ncols), dtype=images.dtype)
    for i in range(n):
        r, c = divmod(i, ncols)
        canvas[:, r * h:(r + 1) * h, c * w:(c + 1) * w] = images[i]
    return canvas


def convert_to_HWC(array, input_format):  # noqa: N802  (PyTorch's name)
    """``array`` laid out as ``input_format`` (NCHW, CHW, HWC, HW ... in any order) as an H x W x C image."""
    fmt = input_format.upper()
    if len(set(fmt)) != len(fmt):
        raise AssertionError(f"You can not use the same dimension shorthand twice. input_format: {input_format}")
    if array.ndim != len(fmt):
        raise AssertionError(f"size of input tensor and input format are different. tensor shape: {array.shape}, "
                             f"input_format: {input_format}")
    if len(fmt) == 4:
        return make_grid(array.transpose([fmt.find(c) for c in "NCHW"])).transpose(1, 2, 0)
    if len(fmt) == 3:
        hwc = array.transpose([fmt.find(c) for c in "HWC"])
        return np.repeat(hwc, 3, axis=2) if hwc.shape[2] == 1 else hwc
    if len(fmt) == 2:
        return np.repeat(array.transpose([fmt.find(c) for c in "HW"])[:, :, None], 3, axis=2)
    raise AssertionError(f"dataformats must have 2, 3 or 4 letters, got {input_format!r}")


def _to_uint8(hwc):
    # uint8 input is taken as 0..255; anything else as 0..1 (PyTorch decides by dtype, not by values)
    scale = 1 if hwc.dtype == np.uint8 else 255
    return (hwc.astype(np.float32) * scale).clip(0, 255).astype(np.uint8)


def _png(hwc_uint8):
    from PIL import Image
    buf = io.BytesIO()
    Image.fromarray(hwc_uint8).save(buf, format="PNG")
    h, w, c = hwc_uint8.shape
    return Summary.Image(height=h, width=w, colorspace=c, encoded_image_string=buf.getvalue())


def image(tag, tensor, dataformats="NCHW"):
    """A PNG image summary; float images are in [0, 1], uint8 in [0, 255]; out-of-range values are clipped."""
    hwc = _to_uint8(convert_to_HWC(make_np(tensor), dataformats))
    return Summary(value=[Summary.Value(tag=tag, image=_png(hwc))])


def figure_to_image(figures, close=True):
    """Render a matplotlib figure (or a list of them) with the Agg canvas: a CHW (or NCHW) uint8 RGB array."""
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    def render(fig):
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
        rgba = np.asarray(canvas.buffer_rgba())
        if close:
            plt.close(fig)
        return np.ascontiguousarray(rgba[:, :, :3].transpose(2, 0, 1))

    if isinstance(figures, list):
        return np.stack([render(f) for f in figures])
    return render(figures)


# ----------------------------------------------------------------------------------------------------------------
# text, PR curves, custom scalars
# ----------------------------------------------------------------------------------------------------------------
def text(tag, text_string):
    """A text-plugin summary: a 1-element string tensor under ``<tag>/text_summary``."""
    from tensorboard.plugins.text.plugin_data_pb2 import TextPluginData
    tensor = TensorProto(dtype="DT_STRING", string_val=[text_string.encode("utf-8")],
                         tensor_shape=_shape_proto([1]))
    meta = _plugin("text", TextPluginData(version=0).SerializeToString())
    return Summary(value=[Summary.Value(tag=tag + "/text_summary", metadata=meta, tensor=tensor)])


def pr_curve_raw(tag, tp, fp, tn, fn, precision, recall, num_thresholds=127):
    from tensorboard.plugins.pr_curve.plugin_data_pb2 import PrCurvePluginData
    num_thresholds = min(num_thresholds, 127)
    data = np.stack([np.asarray(a, dtype=np.float64) for a in (tp, fp, tn, fn, precision, recall)])
    tensor = TensorProto(dtype="DT_FLOAT", float_val=data.reshape(-1).tolist(), tensor_shape=_shape_proto(data.shape))
    meta = _plugin("pr_curves", PrCurvePluginData(version=0, num_thresholds=num_thresholds).SerializeToString())
    return Summary(value=[Summary.Value(tag=tag, metadata=meta, tensor=tensor)])


def compute_curve(labels, predictions, num_thresholds, weights=None):
    """Rows tp, fp, tn, fn, precision, recall at ``num_thresholds`` thresholds evenly spaced over [0, 1]."""
    w = 1.0 if weights is None else np.asarray(weights, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.float64)
    bucket = np.floor(np.asarray(predictions, dtype=np.float64) * (num_thresholds - 1)).reshape(-1)
    pos = np.broadcast_to(labels * w, labels.shape).reshape(-1)
    neg = np.broadcast_to((1.0 - labels) * w, labels.shape).reshape(-1)
    keep = (bucket >= 0) & (bucket <= num_thresholds - 1)  # predictions outside [0, 1] count nowhere
    bucket = bucket[keep].astype(np.int64)
    tp_b = np.bincount(bucket, weights=pos[keep], minlength=num_thresholds)
    fp_b = np.bincount(bucket, weights=neg[keep], minlength=num_thresholds)
    tp = np.cumsum(tp_b[::-1])[::-1]
    fp = np.cumsum(fp_b[::-1])[::-1]
    tn = fp[0] - fp
    fn = tp[0] - tp
    precision = tp / np.maximum(1e-7, tp + fp)
    recall = tp / np.maximum(1e-7, tp + fn)
    return np.stack([tp, fp, tn, fn, precision, recall])


def pr_curve(tag, labels, predictions, num_thresholds=127, weights=None):
    num_thresholds = min(num_thresholds, 127)
    weights = None if weights is None else make_np(weights)
    data = compute_curve(make_np(labels), make_np(predictions), num_thresholds, weights)
    return pr_curve_raw(tag, *data, num_thresholds=num_thresholds)


def custom_scalars(layout):
    """The custom-scalars plugin's layout: ``{category: {chart title: ['Multiline' | 'Margin', [tags]]}}``
    (a margin chart takes three tags: value, lower, upper)."""
    from tensorboard.plugins.custom_scalar import layout_pb2
    categories = []
    for category, charts in layout.items():
        protos = []
        for title, (kind, tags) in charts.items():
            if kind == "Margin":
                if len(tags) != 3:
                    raise AssertionError(f"a Margin chart takes 3 tags (value, lower, upper), got {len(tags)}")
                series = layout_pb2.MarginChartContent.Series(value=tags[0], lower=tags[1], upper=tags[2])
                protos.append(layout_pb2.Chart(title=title, margin=layout_pb2.MarginChartContent(series=[series])))
            else:
                protos.append(layout_pb2.Chart(title=title, multiline=layout_pb2.MultilineChartContent(tag=tags)))
        categories.append(layout_pb2.Category(title=category, chart=protos))
    tensor = TensorProto(dtype="DT_STRING", string_val=[layout_pb2.Layout(category=categories).SerializeToString()],
                         tensor_shape=TensorShapeProto())
    return Summary(value=[Summary.Value(tag="custom_scalars__config__", tensor=tensor,
                                        metadata=_plugin("custom_scalars"))])


# ----------------------------------------------------------------------------------------------------------------
# hyperparameters
# ----------------------------------------------------------------------------------------------------------------
def hparams(hparam_dict=None, metric_dict=None, hparam_domain_discrete=None):
    """The hparams plugin's three summaries: experiment (hparam and metric names), session start (the values) and
    session end (status success)."""
    from google.protobuf import struct_pb2
    from tensorboard.plugins.hparams import metadata
    from tensorboard.plugins.hparams.api_pb2 import DataType, Experiment, HParamInfo, MetricInfo, MetricName, Status
    from tensorboard.plugins.hparams.plugin_data_pb2 import HParamsPluginData, SessionEndInfo, SessionStartInfo

    from ...tensor import Tensor
    if not isinstance(hparam_dict, dict):
        raise TypeError("parameter: hparam_dict should be a dictionary, nothing logged.")
    if not isinstance(metric_dict, dict):
        raise TypeError("parameter: metric_dict should be a dictionary, nothing logged.")
    hparam_domain_discrete = hparam_domain_discrete or {}
    if not isinstance(hparam_domain_discrete, dict):
        raise TypeError("parameter: hparam_domain_discrete should be a dictionary, nothing logged.")
    for k, v in hparam_domain_discrete.items():
        if k not in hparam_dict or not isinstance(v, list) or not all(isinstance(d, type(hparam_dict[k])) for d in v):
            raise TypeError(f"parameter: hparam_domain_discrete[{k}] should be a list of same type as "
                            f"hparam_dict[{k}].")

    start = SessionStartInfo()
    infos = []
    for k, v in hparam_dict.items():
        if v is None:
            continue
        domain = None
        if isinstance(v, Tensor):
            v = float(make_np(v).reshape(-1)[0])
        # a bool is an int: it logs as a number, as in PyTorch
        if isinstance(v, (int, float)):
            start.hparams[k].number_value = v
            kind, field = "DATA_TYPE_FLOAT64", "number_value"
        elif isinstance(v, str):
            start.hparams[k].string_value = v
            kind, field = "DATA_TYPE_STRING", "string_value"
        else:
            raise ValueError("value should be one of int, float, str, bool, or torch.Tensor")
        if k in hparam_domain_discrete:
            domain = struct_pb2.ListValue(values=[struct_pb2.Value(**{field: d}) for d in hparam_domain_discrete[k]])
        infos.append(HParamInfo(name=k, type=DataType.Value(kind), domain_discrete=domain))

    def wrap(tag, **content):
        data = HParamsPluginData(version=metadata.PLUGIN_DATA_VERSION, **content).SerializeToString()
        return Summary(value=[Summary.Value(tag=tag, metadata=_plugin(metadata.PLUGIN_NAME, data))])

    exp = Experiment(hparam_infos=infos, metric_infos=[MetricInfo(name=MetricName(tag=k)) for k in metric_dict])
    return (wrap(metadata.EXPERIMENT_TAG, experiment=exp),
            wrap(metadata.SESSION_START_INFO_TAG, session_start_info=start),
            wrap(metadata.SESSION_END_INFO_TAG,
                 session_end_info=SessionEndInfo(status=Status.Value("STATUS_SUCCESS"))))


# ----------------------------------------------------------------------------------------------------------------
# boxes, audio, video
# ----------------------------------------------------------------------------------------------------------------
def image_boxes(tag, tensor_image, tensor_boxes, rescale=1, dataformats="CHW", labels=None):
    """An image with red rectangles (rows ``xmin, ymin, xmax, ymax`` in pixels) and optional labels drawn on it."""
    from PIL import Image, ImageDraw, ImageFont
    hwc = _to_uint8(convert_to_HWC(make_np(tensor_image), dataformats))
    boxes = make_np(tensor_boxes).reshape(-1, 4)
    picture = Image.fromarray(hwc)
    draw = ImageDraw.Draw(picture)
    font = ImageFont.load_default()
    for i, (x0, y0, x1, y1) in enumerate(boxes.tolist()):
        draw.line([(x0, y0), (x0, y1), (x1, y1), (x1, y0), (x0, y0)], width=2, fill="Red")
        if labels is not None and labels[i]:
            left, top, right, bottom = font.getbbox(labels[i])
            margin = np.ceil(0.05 * (bottom - top))
            draw.rectangle([(x0, y1 - (bottom - top) - 2 * margin), (x0 + right - left, y1)], fill="Red")
            draw.text((x0 + margin, y1 - (bottom - top) - margin), labels[i], fill="black", font=font)
    if rescale != 1:
        picture = picture.resize((int(picture.width * rescale), int(picture.height * rescale)),
                                 Image.Resampling.LANCZOS)
    return Summary(value=[Summary.Value(tag=tag, image=_png(np.asarray(picture)))])


def audio(tag, tensor, sample_rate=44100):
    """A mono 16-bit WAV clip of samples in [-1, 1] (louder samples are clipped, with a warning)."""
    import wave
    samples = make_np(tensor).squeeze()
    if abs(samples).max() > 1:
        print("warning: audio amplitude out of range, auto clipped.")
        samples = samples.clip(-1, 1)
    if samples.ndim != 1:
        raise AssertionError("input tensor should be 1 dimensional.")
    pcm = (samples * np.iinfo(np.int16).max).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(sample_rate)
        wav.writeframes(pcm.tobytes())
    clip = Summary.Audio(sample_rate=sample_rate, num_channels=1, length_frames=pcm.shape[-1],
                         encoded_audio_string=buf.getvalue(), content_type="audio/wav")
    return Summary(value=[Summary.Value(tag=tag, audio=clip)])


def video(tag, tensor, fps=4):
    """An animated GIF of an ``N x T x C x H x W`` batch of clips: each frame tiles the N clips in a grid of
    power-of-two rows (N padded with black clips to a power of two), as PyTorch lays them out."""
    from PIL import Image
    v = make_np(tensor)
    if v.ndim != 5:
        raise AssertionError(f"video tensor should be 5D (N, T, C, H, W), got shape {v.shape}")
    if v.dtype == np.uint8:
        v = v.astype(np.float32) / 255.0
    n, t, c, h, w = v.shape
    total = n if n & (n - 1) == 0 else 1 << n.bit_length()
    if total != n:
        v = np.concatenate([v, np.zeros((total - n, t, c, h, w), v.dtype)])
    rows = 2 ** ((n.bit_length() - 1) // 2)
    cols = total // rows
    frames = v.reshape(rows, cols, t, c, h, w).transpose(2, 0, 4, 1, 5, 3).reshape(t, rows * h, cols * w, c)
    frames = (frames.astype(np.float32) * 255).clip(0, 255).astype(np.uint8)
    if c == 1:
        frames = np.repeat(frames, 3, axis=3)
    pictures = [Image.fromarray(f) for f in frames]
    buf = io.BytesIO()
    pictures[0].save(buf, format="GIF", save_all=True, append_images=pictures[1:], duration=int(1000 / fps),
                     loop=0)
    gif = Summary.Image(height=rows * h, width=cols * w, colorspace=c, encoded_image_string=buf.getvalue())
    return Summary(value=[Summary.Value(tag=tag, image=gif)])
