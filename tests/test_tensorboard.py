"""minitorch.utils.tensorboard: every kind of summary read back with TensorBoard's own EventAccumulator, compared
with numpy and (where installed) with what torch.utils.tensorboard writes for the same calls. CPU only."""
import io
import os
import re
import socket
import sys

import numpy as np
import pytest

import minitorch
import minitorch.nn as nn
import minitorch.nn.functional as F

pytest.importorskip("tensorboard")
from tensorboard.backend.event_processing import event_accumulator as ea  # noqa: E402

from minitorch.utils.tensorboard import FileWriter, SummaryWriter  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))
from test_examples import load_example, mnist_root  # noqa: E402,F401  (the fixture: a tiny MNIST on disk)


def read(logdir):
    acc = ea.EventAccumulator(str(logdir), size_guidance={k: 0 for k in ea.DEFAULT_SIZE_GUIDANCE})
    acc.Reload()
    return acc


@pytest.fixture
def torch_writer():
    """torch.utils.tensorboard.SummaryWriter (the oracle), or a skip."""
    pytest.importorskip("torch")
    from torch.utils.tensorboard import SummaryWriter as TorchWriter
    return TorchWriter


def png_pixels(image_event):
    from PIL import Image
    return np.asarray(Image.open(io.BytesIO(image_event.encoded_image_string)))


# --------------------------------------------------------------------------------------------------------------------
# writer basics
# --------------------------------------------------------------------------------------------------------------------
def test_default_log_dir_is_named_as_pytorch_names_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    w = SummaryWriter(comment="_lr0.1")
    w.close()
    d = w.get_logdir()
    assert re.fullmatch(r"runs/[A-Z][a-z]{2}\d{2}_\d{2}-\d{2}-\d{2}_" + re.escape(socket.gethostname()) + "_lr0.1", d)
    assert any(f.startswith("events.out.tfevents.") for f in os.listdir(d))
    w2 = SummaryWriter(log_dir=str(tmp_path / "given"), comment="ignored", filename_suffix=".sfx")
    w2.close()
    assert w2.get_logdir() == str(tmp_path / "given")
    assert all(f.endswith(".sfx") for f in os.listdir(tmp_path / "given"))


def test_scalars_from_numbers_tensors_and_arrays(tmp_path):
    values = [0.5, minitorch.tensor(1.25), np.float32(2.5), np.array([3.75]), minitorch.tensor([[5.0]]), 7]
    with SummaryWriter(tmp_path) as w:
        for step, v in enumerate(values):
            w.add_scalar("loss/train", v, step * 10, walltime=100.0 + step)
        w.add_scalar("new", 0.125, 3, new_style=True)
        w.add_scalar("dbl", 1 / 3, 4, new_style=True, double_precision=True)
        with pytest.raises(AssertionError, match="scalar should be 0D"):
            w.add_scalar("bad", minitorch.ones(2), 0)
    acc = read(tmp_path)
    got = acc.Scalars("loss/train")
    assert [e.step for e in got] == [0, 10, 20, 30, 40, 50]
    assert [e.value for e in got] == [0.5, 1.25, 2.5, 3.75, 5.0, 7.0]
    assert [e.wall_time for e in got] == [100.0 + i for i in range(6)]
    from tensorboard.util import tensor_util
    new = acc.Tensors("new")[0]
    assert new.step == 3 and tensor_util.make_ndarray(new.tensor_proto) == np.float32(0.125)
    dbl = acc.Tensors("dbl")[0].tensor_proto
    assert dbl.dtype == 2 and tensor_util.make_ndarray(dbl) == 1 / 3  # DT_DOUBLE keeps every digit
    assert acc.SummaryMetadata("new").plugin_data.plugin_name == "scalars"


def test_add_scalars_writes_one_run_per_tag(tmp_path):
    with SummaryWriter(tmp_path) as w:
        for step in range(3):
            w.add_scalars("run/14h", {"xsinx": step * np.sin(step), "xcosx": minitorch.tensor(float(step))}, step)
    for tag, f in (("xsinx", lambda s: s * np.sin(s)), ("xcosx", float)):
        sub = read(tmp_path / f"run_14h_{tag}")
        ev = sub.Scalars("run/14h")
        assert [e.step for e in ev] == [0, 1, 2]
        np.testing.assert_allclose([e.value for e in ev], [f(s) for s in range(3)], rtol=1e-6)


def test_close_then_write_again_and_purge_step(tmp_path):
    w = SummaryWriter(tmp_path, purge_step=5, max_queue=1, flush_secs=1)
    w.add_scalar("a", 1.0, 5)
    w.close()
    w.close()  # twice is harmless
    w.add_scalar("a", 2.0, 6)  # reopens: a new event file in the same directory
    w.flush()
    w.close()
    assert len([f for f in os.listdir(tmp_path) if f.startswith("events")]) == 2
    assert [(e.step, e.value) for e in read(tmp_path).Scalars("a")] == [(5, 1.0), (6, 2.0)]
    fw = FileWriter(tmp_path / "fw")
    assert fw.get_logdir() == str(tmp_path / "fw")
    fw.close()


# --------------------------------------------------------------------------------------------------------------------
# histograms
# --------------------------------------------------------------------------------------------------------------------
def test_histogram_counts_match_numpy(tmp_path):
    rng = np.random.default_rng(0)
    values = rng.normal(size=1000).astype(np.float32)
    with SummaryWriter(tmp_path) as w:
        w.add_histogram("default", minitorch.tensor(values), 1)
        w.add_histogram("ten", values, 2, bins=10)
        w.add_histogram("auto", values.tolist(), 3, bins="auto", max_bins=7)
        with pytest.raises(ValueError, match="no element"):
            w.add_histogram("empty", np.array([]), 0)
    acc = read(tmp_path)
    v64 = values.astype(np.float64)
    for tag in ("default", "ten", "auto"):
        h = acc.Histograms(tag)[0].histogram_value
        assert h.num == 1000 and h.min == v64.min() and h.max == v64.max()
        assert h.sum == pytest.approx(v64.sum()) and h.sum_squares == pytest.approx(v64 @ v64)
        assert sum(h.bucket) == 1000
        assert h.bucket[0] == 0  # the empty left bucket that carries the lowest edge
    counts, edges = np.histogram(v64, bins=10)
    ten = acc.Histograms("ten")[0].histogram_value
    assert list(ten.bucket_limit) == pytest.approx(edges.tolist())
    assert list(ten.bucket) == [0] + counts.tolist()
    n_auto = len(np.histogram(v64, bins="auto")[0])
    group = n_auto // 7  # max_bins merges groups of n // max_bins buckets, as PyTorch does
    assert len(acc.Histograms("auto")[0].histogram_value.bucket) <= -(-n_auto // group) + 1 < n_auto
    default = acc.Histograms("default")[0].histogram_value
    limits = np.array(default.bucket_limit)
    assert np.all(np.diff(limits) > 0) and limits[0] <= v64.min() and limits[-1] >= v64.max()


@pytest.mark.torch
def test_histograms_match_torch(tmp_path, torch_writer):
    import torch
    values = np.random.default_rng(1).exponential(size=300) - 0.5
    for i, W, conv in ((0, SummaryWriter, minitorch.tensor), (1, torch_writer, torch.tensor)):
        with W(str(tmp_path / str(i))) as w:
            w.add_histogram("tf", conv(values), 0)
            w.add_histogram("fd", conv(values), 0, bins="fd", max_bins=5)
    for tag in ("tf", "fd"):
        ours, theirs = (read(tmp_path / str(i)).Histograms(tag)[0].histogram_value for i in (0, 1))
        assert ours == theirs


# --------------------------------------------------------------------------------------------------------------------
# images, figures, text
# --------------------------------------------------------------------------------------------------------------------
def test_images_in_every_layout(tmp_path):
    rng = np.random.default_rng(2)
    chw = rng.random((3, 5, 7)).astype(np.float32)
    u8 = rng.integers(0, 256, (5, 7, 3), dtype=np.uint8)
    hw = rng.random((4, 6)).astype(np.float32) * 1.5 - 0.25  # out of [0, 1]: clipped
    batch = rng.random((10, 1, 3, 2)).astype(np.float32)
    with SummaryWriter(tmp_path) as w:
        w.add_image("chw", minitorch.tensor(chw), 0)
        w.add_image("hwc", u8, 1, dataformats="HWC")
        w.add_image("hw", hw, 2, dataformats="HW")
        w.add_images("grid", minitorch.tensor(batch), 3)
        w.add_images("nhwc", batch.transpose(0, 2, 3, 1), 4, dataformats="NHWC")
        with pytest.raises(AssertionError, match="size of input tensor and input format are different"):
            w.add_image("bad", chw, 0, dataformats="HW")
    acc = read(tmp_path)
    tb = acc.Images("chw")[0]
    assert (tb.height, tb.width, tb.step) == (5, 7, 0)
    np.testing.assert_array_equal(png_pixels(tb), (chw.transpose(1, 2, 0) * 255).astype(np.uint8))
    np.testing.assert_array_equal(png_pixels(acc.Images("hwc")[0]), u8)
    gray = (hw * 255).clip(0, 255).astype(np.uint8)
    np.testing.assert_array_equal(png_pixels(acc.Images("hw")[0]), np.repeat(gray[:, :, None], 3, axis=2))
    grid = acc.Images("grid")[0]
    assert (grid.height, grid.width) == (2 * 3, 8 * 2)  # 10 images: 8 per row, two rows
    px = png_pixels(grid)
    np.testing.assert_array_equal(px[3:6, 2:4, 0], (batch[9, 0] * 255).astype(np.uint8))  # second row, second cell
    assert not px[3:6, 4:].any()  # the unused cells stay black
    np.testing.assert_array_equal(png_pixels(acc.Images("nhwc")[0]), px)


@pytest.mark.torch
def test_images_match_torch(tmp_path, torch_writer):
    import torch
    img = np.random.default_rng(3).random((12, 3, 4, 5)).astype(np.float32)
    for i, W, conv in ((0, SummaryWriter, minitorch.tensor), (1, torch_writer, torch.tensor)):
        with W(str(tmp_path / str(i))) as w:
            w.add_images("b", conv(img), 0)
            w.add_image("one", conv(img[0]).permute(1, 2, 0), 0, dataformats="HWC")
    for tag in ("b", "one"):
        ours, theirs = (read(tmp_path / str(i)).Images(tag)[0] for i in (0, 1))
        assert (ours.height, ours.width) == (theirs.height, theirs.width)
        np.testing.assert_array_equal(png_pixels(ours), png_pixels(theirs))


def test_figure_and_text(tmp_path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig = plt.figure(figsize=(2, 1), dpi=50)
    fig.add_subplot().plot([0, 1], [1, 0])
    figs = [plt.figure(figsize=(1, 1), dpi=40) for _ in range(2)]
    with SummaryWriter(tmp_path) as w:
        w.add_figure("fig", fig, 7)
        w.add_figure("figs", figs, 8, close=False)
        w.add_text("notes", "**lr** = 0.1", 9)
    assert not plt.fignum_exists(fig.number) and all(plt.fignum_exists(f.number) for f in figs)
    plt.close("all")
    acc = read(tmp_path)
    im = acc.Images("fig")[0]
    assert (im.height, im.width, im.step) == (50, 100, 7)
    assert png_pixels(im).min() < 128 < png_pixels(im).max()  # a dark line on a white canvas
    assert (acc.Images("figs")[0].height, acc.Images("figs")[0].width) == (40, 80)
    from tensorboard.util import tensor_util
    text = acc.Tensors("notes/text_summary")[0]
    assert text.step == 9 and tensor_util.make_ndarray(text.tensor_proto).tolist() == [b"**lr** = 0.1"]
    assert acc.SummaryMetadata("notes/text_summary").plugin_data.plugin_name == "text"


def test_boxes_audio_and_video(tmp_path):
    import wave
    from PIL import Image
    img = np.zeros((3, 20, 30), np.float32)
    boxes = minitorch.tensor([[2.0, 3.0, 12.0, 15.0]])
    sound = np.sin(np.linspace(0, 20, 800)).astype(np.float32)
    clips = np.random.default_rng(6).random((3, 4, 1, 5, 6)).astype(np.float32)  # 3 clips padded to 4, in one row
    with SummaryWriter(tmp_path) as w:
        w.add_image_with_boxes("boxes", minitorch.tensor(img), boxes, 1, labels=["cat", "extra"])  # count differs
        w.add_audio("sound", minitorch.tensor(sound), 2, sample_rate=8000)
        w.add_video("clip", minitorch.tensor(clips), 3, fps=5)
    acc = read(tmp_path)
    px = png_pixels(acc.Images("boxes")[0])
    assert px.shape == (20, 30, 3)
    assert (px[3, 2:13] == [255, 0, 0]).all() and (px[3:16, 12] == [255, 0, 0]).all()  # the box outline, red
    assert not px[6:12, 5:10].any()  # inside stays black
    clip = acc.Audio("sound")[0]
    assert (clip.step, clip.sample_rate, clip.length_frames, clip.content_type) == (2, 8000, 800, "audio/wav")
    with wave.open(io.BytesIO(clip.encoded_audio_string)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 8000)
        pcm = np.frombuffer(wav.readframes(800), "<i2")
    np.testing.assert_array_equal(pcm, (sound * 32767).astype(np.int16))
    gif_event = acc.Images("clip")[0]
    assert (gif_event.height, gif_event.width) == (5, 24)  # PyTorch's grid for 3 clips: 1 row of 4
    gif = Image.open(io.BytesIO(gif_event.encoded_image_string))
    assert gif.n_frames == 4 and gif.info["duration"] == 200
    first = np.asarray(gif.convert("RGB"))
    np.testing.assert_array_equal(first[:, 6:12, 0], (clips[1, 0, 0] * 255).astype(np.uint8))
    assert not first[:, 18:].any()  # the padding clip


@pytest.mark.torch
def test_boxes_and_audio_match_torch(tmp_path, torch_writer):
    import torch
    img = np.random.default_rng(7).random((3, 24, 40)).astype(np.float32)
    boxes = np.array([[1, 2, 20, 18], [5, 6, 30, 22]], np.float32)
    sound = np.random.default_rng(8).random(300).astype(np.float32) * 2.4 - 1.2
    for i, W, conv in ((0, SummaryWriter, minitorch.tensor), (1, torch_writer, torch.tensor)):
        with W(str(tmp_path / str(i))) as w:
            w.add_image_with_boxes("b", conv(img), conv(boxes), 0, labels=["a", "bb"])
            w.add_audio("s", conv(sound), 0, sample_rate=1000)
    ours, theirs = read(tmp_path / "0"), read(tmp_path / "1")
    np.testing.assert_array_equal(png_pixels(ours.Images("b")[0]), png_pixels(theirs.Images("b")[0]))
    assert ours.Audio("s")[0].encoded_audio_string == theirs.Audio("s")[0].encoded_audio_string


@pytest.mark.torch
def test_signatures_match_torch():
    import inspect
    pytest.importorskip("torch")
    from torch.utils.tensorboard import FileWriter as TorchFileWriter
    from torch.utils.tensorboard import SummaryWriter as TorchWriter
    checked = 0
    for ours, theirs in ((SummaryWriter, TorchWriter), (FileWriter, TorchFileWriter)):
        for name, fn in vars(theirs).items():
            if not callable(fn) or (name.startswith("_") and name != "__init__"):
                continue
            if name in ("add_onnx_graph", "add_mesh") and ours is SummaryWriter:
                continue  # not provided (README)
            params = [(p.name, p.default) for p in inspect.signature(fn).parameters.values()]
            assert [(p.name, p.default) for p in inspect.signature(getattr(ours, name)).parameters.values()] \
                == params, name
            checked += 1
    assert checked > 25


# --------------------------------------------------------------------------------------------------------------------
# graph
# --------------------------------------------------------------------------------------------------------------------
class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(6, 5)
        self.act = nn.ReLU()

    def forward(self, x):
        return self.act(self.fc(x))


class TinyNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(Block(), nn.Linear(5, 3))
        self.head = nn.Linear(3, 2)

    def forward(self, x):
        return F.log_softmax(self.head(F.relu(self.body(x * 2))), dim=1)


def test_graph_nodes_are_named_by_module_scope(tmp_path, capsys):
    model = TinyNet()
    x = minitorch.randn(4, 6)
    with SummaryWriter(tmp_path) as w:
        w.add_graph(model, x, verbose=True)
    assert "input/input.0 = IO Node()" in capsys.readouterr().out
    assert x.grad is None and not x.requires_grad  # the caller's tensor is untouched
    acc = read(tmp_path)
    assert acc.Tags()["graph"] and acc.Tags()["run_metadata"] == ["step1"]
    nodes = {n.name: n for n in acc.Graph().node}
    linear = "TinyNet/Sequential[body]/Block[0]/Linear[fc]"
    assert nodes[f"{linear}/weight"].op == "prim::GetAttr"
    addmm = nodes[f"{linear}/addmm_0"]
    assert addmm.op == "aten::addmm"
    assert set(addmm.input) == {"TinyNet/mul_0", f"{linear}/weight", f"{linear}/bias"}
    assert nodes["TinyNet/mul_0"].input == ["input/input.0"]
    assert "TinyNet/Sequential[body]/Block[0]/ReLU[act]/relu_0" in nodes
    assert "TinyNet/Sequential[body]/Linear[1]/addmm_0" in nodes
    assert nodes["TinyNet/relu_0"].input == ["TinyNet/Sequential[body]/Linear[1]/addmm_0"]
    assert nodes["output/output.0"].input == ["TinyNet/log_softmax_0"]
    shape = nodes["TinyNet/Linear[head]/addmm_0"].attr["_output_shapes"].list.shape[0]
    assert [d.size for d in shape.dim] == [4, 2]
    assert {n.split("/")[0] for n in nodes} == {"TinyNet", "input", "output"}


def test_graph_of_a_conv_model_with_tuple_inputs(tmp_path):
    class Two(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 2, 3)

        def forward(self, a, b):
            return self.conv(a).flatten(1) + b

    class Outer(nn.Module):
        def __init__(self):
            super().__init__()
            self.two = Two()

        def forward(self, a, b):
            return self.two(a.exp(), b=b * 3)  # b by keyword: its mul stays in Outer's scope

    with SummaryWriter(tmp_path) as w:
        w.add_graph(Two(), (minitorch.randn(1, 1, 4, 4), minitorch.randn(1, 8)))
    with SummaryWriter(tmp_path / "outer") as w:
        w.add_graph(Outer(), [minitorch.randn(1, 1, 4, 4), minitorch.randn(1, 8)])
    outer = {n.name: n for n in read(tmp_path / "outer").Graph().node}
    assert set(outer["Outer/Two[two]/add_0"].input) == {"Outer/Two[two]/view_0", "Outer/mul_0"}
    assert outer["Outer/Two[two]/Conv2d[conv]/convolution_0"].input[0] == "Outer/exp_0"
    nodes = {n.name: n for n in read(tmp_path).Graph().node}
    assert nodes["Two/Conv2d[conv]/convolution_0"].op == "aten::convolution"
    assert "input/input.0" in nodes["Two/Conv2d[conv]/convolution_0"].input
    assert "input/input.1" in nodes["Two/add_0"].input


# --------------------------------------------------------------------------------------------------------------------
# embeddings, hparams, PR curves, custom scalars
# --------------------------------------------------------------------------------------------------------------------
def test_embedding_projector_files(tmp_path):
    from google.protobuf import text_format
    from PIL import Image
    from tensorboard.plugins.projector.projector_config_pb2 import ProjectorConfig
    mat = np.arange(15, dtype=np.float32).reshape(5, 3) / 4
    imgs = np.random.default_rng(4).random((5, 1, 2, 3)).astype(np.float32)
    with SummaryWriter(tmp_path) as w:
        w.add_embedding(minitorch.tensor(mat), metadata=["a", "b", "c", "d", 5], label_img=minitorch.tensor(imgs))
        w.add_embedding(mat, metadata=[[i, i * i] for i in range(5)], metadata_header=["n", "sq"], global_step=3,
                        tag="sq/x")
        with pytest.raises(AssertionError, match="#labels should equal with #data points"):
            w.add_embedding(mat, metadata=["a"], global_step=9)
    d = tmp_path / "00000" / "default"
    rows = [[float(v) for v in line.split("\t")] for line in (d / "tensors.tsv").read_text().splitlines()]
    np.testing.assert_array_equal(rows, mat)
    assert (d / "metadata.tsv").read_text() == "a\nb\nc\nd\n5\n"
    sprite = np.asarray(Image.open(d / "sprite.png"))
    assert sprite.shape == (9, 9, 3)  # 3x3 cells of 2x3 images, padded square
    np.testing.assert_array_equal(sprite[2:4, 3:6, 0], (imgs[4, 0] * 255).astype(np.uint8))
    sq = tmp_path / "00003" / "sq%2fx"
    assert (sq / "metadata.tsv").read_text().splitlines() == ["n\tsq"] + [f"{i}\t{i * i}" for i in range(5)]
    config = text_format.Parse((tmp_path / "projector_config.pbtxt").read_text(), ProjectorConfig())
    first, second = config.embeddings
    assert (first.tensor_name, first.tensor_path, first.metadata_path) == \
        ("default:00000", "00000/default/tensors.tsv", "00000/default/metadata.tsv")
    assert first.sprite.image_path == "00000/default/sprite.png" and list(first.sprite.single_image_dim) == [3, 2]
    assert second.tensor_name == "sq/x:00003" and second.tensor_path == "00003/sq%2fx/tensors.tsv"


def _hparams_content(logdir):
    from tensorboard.plugins.hparams import plugin_data_pb2
    acc = read(logdir)
    out = {}
    for tag in ("_hparams_/experiment", "_hparams_/session_start_info", "_hparams_/session_end_info"):
        meta = acc.SummaryMetadata(tag).plugin_data
        assert meta.plugin_name == "hparams"
        out[tag] = plugin_data_pb2.HParamsPluginData.FromString(meta.content)
    return acc, out


def test_hparams_sub_run(tmp_path):
    hp = {"lr": 0.1, "bsize": 16, "opt": "sgd", "nesterov": True, "skip": None, "wd": minitorch.tensor(0.5)}
    with SummaryWriter(tmp_path) as w:
        w.add_hparams(hp, {"hparam/accuracy": 0.75, "hparam/loss": minitorch.tensor(0.25)}, run_name="trial1",
                      hparam_domain_discrete={"opt": ["sgd", "adam"]})
        w.add_hparams({"lr": 0.01}, {"hparam/accuracy": 0.5})
        with pytest.raises(TypeError, match="hparam_dict and metric_dict should be dictionary"):
            w.add_hparams([("lr", 1)], {})
        with pytest.raises(ValueError, match="value should be one of int, float, str, bool, or torch.Tensor"):
            w.add_hparams({"lr": [1]}, {})
    acc, content = _hparams_content(tmp_path / "trial1")
    start = content["_hparams_/session_start_info"].session_start_info.hparams
    assert start["lr"].number_value == 0.1 and start["bsize"].number_value == 16
    assert start["opt"].string_value == "sgd" and start["nesterov"].number_value == 1.0
    assert start["wd"].number_value == 0.5 and "skip" not in start
    exp = content["_hparams_/experiment"].experiment
    assert [h.name for h in exp.hparam_infos] == ["lr", "bsize", "opt", "nesterov", "wd"]
    assert [v.string_value for v in exp.hparam_infos[2].domain_discrete.values] == ["sgd", "adam"]
    assert [m.name.tag for m in exp.metric_infos] == ["hparam/accuracy", "hparam/loss"]
    assert content["_hparams_/session_end_info"].session_end_info.status == 1  # STATUS_SUCCESS
    assert acc.Scalars("hparam/accuracy")[0].value == 0.75 and acc.Scalars("hparam/loss")[0].value == 0.25
    timed = [d for d in os.listdir(tmp_path) if d != "trial1" and os.path.isdir(tmp_path / d)]
    assert len(timed) == 1 and float(timed[0]) > 1e9  # the default run name is time.time()


@pytest.mark.torch
def test_hparams_pr_curve_and_custom_scalars_match_torch(tmp_path, torch_writer):
    import torch
    rng = np.random.default_rng(5)
    labels, preds = rng.integers(0, 2, 200), rng.random(200)
    layout = {"Taiwan": {"twse": ["Multiline", ["twse/0050", "twse/2330"]]},
              "USA": {"dow": ["Margin", ["dow/aaa", "dow/bbb", "dow/ccc"]]}}
    for i, W, conv in ((0, SummaryWriter, minitorch.tensor), (1, torch_writer, torch.tensor)):
        with W(str(tmp_path / str(i))) as w:
            w.add_pr_curve("pr", conv(labels), conv(preds), 2, num_thresholds=50)
            w.add_custom_scalars(layout)
            w.add_hparams({"lr": 0.1, "opt": "adam", "flag": False}, {"m": 1.0}, run_name="r",
                          hparam_domain_discrete={"lr": [0.1, 0.01]})
    ours, theirs = read(tmp_path / "0"), read(tmp_path / "1")
    for tag in ("pr", "custom_scalars__config__"):
        a, b = ours.Tensors(tag)[0], theirs.Tensors(tag)[0]
        assert a.step == b.step and a.tensor_proto == b.tensor_proto
        assert ours.SummaryMetadata(tag) == theirs.SummaryMetadata(tag)
    assert _hparams_content(tmp_path / "0" / "r")[1] == _hparams_content(tmp_path / "1" / "r")[1]


def test_pr_curve_and_custom_scalars_read_back(tmp_path):
    from tensorboard.plugins.custom_scalar import layout_pb2
    from tensorboard.plugins.pr_curve import plugin_data_pb2
    from tensorboard.util import tensor_util
    labels = np.array([1, 0, 1, 1, 0, 0])
    preds = np.array([0.9, 0.8, 0.7, 0.2, 0.1, 0.05])
    with SummaryWriter(tmp_path) as w:
        w.add_pr_curve("pr", minitorch.tensor(labels), minitorch.tensor(preds), 1, num_thresholds=11)
        w.add_custom_scalars_multilinechart(["a", "b"], category="cat", title="both")
    acc = read(tmp_path)
    data = tensor_util.make_ndarray(acc.Tensors("pr")[0].tensor_proto)
    assert data.shape == (6, 11)
    for j, thr in enumerate(np.arange(11) / 10):
        pos = np.floor(preds * 10) >= j  # a prediction counts at the thresholds up to its bucket
        tp, fp = (pos & (labels == 1)).sum(), (pos & (labels == 0)).sum()
        np.testing.assert_allclose(data[:4, j], [tp, fp, 3 - fp, 3 - tp])
        np.testing.assert_allclose(data[5, j], tp / 3)
    meta = acc.SummaryMetadata("pr").plugin_data
    assert meta.plugin_name == "pr_curves"
    assert plugin_data_pb2.PrCurvePluginData.FromString(meta.content).num_thresholds == 11
    proto = acc.Tensors("custom_scalars__config__")[0].tensor_proto
    layout = layout_pb2.Layout.FromString(proto.string_val[0])
    assert layout.category[0].title == "cat" and layout.category[0].chart[0].title == "both"
    assert list(layout.category[0].chart[0].multiline.tag) == ["a", "b"]


# --------------------------------------------------------------------------------------------------------------------
# import errors, examples
# --------------------------------------------------------------------------------------------------------------------
def _import_error(name, monkeypatch):
    for mod in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
        monkeypatch.delitem(sys.modules, mod)
    with pytest.raises(ImportError) as info:
        __import__(name)
    return info


def test_missing_or_old_tensorboard_raises_pytorchs_import_error(monkeypatch):
    import types
    monkeypatch.setitem(sys.modules, "tensorboard", None)  # as if not installed
    missing = _import_error("minitorch.utils.tensorboard", monkeypatch)
    assert isinstance(missing.value, ModuleNotFoundError) and missing.value.name == "tensorboard"
    monkeypatch.setitem(sys.modules, "tensorboard", types.ModuleType("tensorboard"))  # no __version__
    old = _import_error("minitorch.utils.tensorboard", monkeypatch)
    assert str(old.value) == "TensorBoard logging requires TensorBoard version 1.15 or above"
    fake = types.ModuleType("tensorboard")
    fake.__version__ = "1.14.0"
    monkeypatch.setitem(sys.modules, "tensorboard", fake)
    assert str(_import_error("minitorch.utils.tensorboard", monkeypatch).value) == str(old.value)
    assert "minitorch.utils.tensorboard" not in sys.modules
    import minitorch.utils  # noqa: F401  (minitorch itself never needs tensorboard)


@pytest.mark.torch
def test_import_errors_match_torch(monkeypatch):
    import types
    pytest.importorskip("torch")
    errors = []
    for value in (None, types.ModuleType("tensorboard")):
        monkeypatch.setitem(sys.modules, "tensorboard", value)
        ours = _import_error("minitorch.utils.tensorboard", monkeypatch).value
        theirs = _import_error("torch.utils.tensorboard", monkeypatch).value
        errors.append((type(ours), str(ours)))
        assert (type(ours), str(ours)) == (type(theirs), str(theirs))
    assert errors[0][0] is ModuleNotFoundError and errors[1][0] is ImportError


@pytest.mark.parametrize("name, extra", [("mnist_mlp", ["--epochs", "2", "--hidden", "8", "8"]),
                                         ("mnist_cnn", ["--epochs", "2", "--channels", "2", "2", "--hidden", "8"])])
def test_examples_log_to_tensorboard(name, extra, mnist_root, tmp_path, capsys):  # noqa: F811
    mod = load_example(name)
    logdir = tmp_path / "tb"
    mod.main(["--data-root", str(mnist_root), "--no-download", "--out", str(tmp_path / "run"), "--limit", "32",
              "--batch-size", "16", "--tensorboard", str(logdir)] + extra)
    printed = capsys.readouterr().out
    assert f"TensorBoard logs in {logdir}" in printed
    acc = read(logdir)
    assert set(acc.Tags()["scalars"]) == {"Loss/train", "Loss/test", "Accuracy/test", "LearningRate"}
    for tag in acc.Tags()["scalars"]:
        assert [e.step for e in acc.Scalars(tag)] == [1, 2]
    accs = re.findall(r"epoch \d+: .*test accuracy ([\d.]+)%", printed)
    assert [e.value for e in acc.Scalars("Accuracy/test")] == pytest.approx([float(a) / 100 for a in accs], abs=1e-4)
    losses = re.findall(r"epoch \d+: .*test loss ([\d.]+),", printed)
    assert [e.value for e in acc.Scalars("Loss/test")] == pytest.approx([float(v) for v in losses], abs=1e-4)
    lrs = [e.value for e in acc.Scalars("LearningRate")]
    assert lrs == pytest.approx([0.01, 0.01] if name == "mnist_mlp" else [1.0, 0.7])
    assert all(np.isfinite(e.value) and e.value > 0 for e in acc.Scalars("Loss/train"))
