"""minitorch.onnx.export: models exported from the captured graph pass onnx.checker and give minitorch's outputs
in onnxruntime, at the export batch size and (with dynamic_axes) at another."""
import io

import numpy as np
import pytest

import minitorch
import minitorch.nn as nn
import minitorch.nn.functional as F
from minitorch.compiler import CompileError

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


class CNN(nn.Module):
    """The pytorch/examples MNIST network."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, 1)
        self.conv2 = nn.Conv2d(8, 16, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.fc1 = nn.Linear(16 * 12 * 12, 32)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, x):
        self.__dict__.setdefault("exporting", []).append(minitorch.onnx.is_in_onnx_export())
        x = F.relu(self.conv1(x))
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = minitorch.flatten(self.dropout1(x), 1)
        return F.log_softmax(self.fc2(F.relu(self.fc1(x))), dim=1)


class Mixer(nn.Module):
    """Embedding, matmul, permute, softmax, gelu, layer-free reductions and elementwise ops."""

    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(11, 6)
        self.proj = nn.Linear(6, 6)

    def forward(self, idx):
        h = self.emb(idx)                       # (B, T, 6)
        att = (h @ h.permute(0, 2, 1)).softmax(-1)
        y = F.gelu(self.proj(att @ h)) * 0.5 + h.tanh()
        return y.mean(-1), y.sum(1, keepdim=True).sigmoid()


def _run(path, feeds):
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, feeds)


def _check(model, x, path, batch2, atol=1e-5):
    minitorch.onnx.export(model, (x,), str(path), input_names=["x"], output_names=["y"],
                          dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}})
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto)
    model.eval()
    for n in (x.shape[0], batch2):
        xb = minitorch.randn(n, *x.shape[1:])
        with minitorch.no_grad():
            want = model(xb).numpy()
        (got,) = _run(path, {"x": xb.numpy()})
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=atol)
    return proto


def test_mlp_round_trips_with_state_dict_names_and_dynamic_batch(tmp_path):
    m = nn.Sequential(nn.Linear(20, 16), nn.ReLU(), nn.Linear(16, 4), nn.LogSoftmax(dim=1))
    proto = _check(m, minitorch.randn(5, 20), tmp_path / "mlp.onnx", 2)
    inits = {i.name for i in proto.graph.initializer}
    assert {"0.weight", "0.bias", "2.weight", "2.bias"} <= inits
    assert [i.name for i in proto.graph.input] == ["x"]
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    assert proto.opset_import[0].version == 20  # PyTorch 2.13's default


def test_cnn_round_trips_and_the_model_returns_to_training_mode(tmp_path):
    m = CNN()
    m.train()
    minitorch.onnx.export(m, minitorch.randn(2, 1, 28, 28), str(tmp_path / "cnn.onnx"))
    assert m.training and m.dropout1.training
    assert m.exporting == [True]
    _check(m, minitorch.randn(2, 1, 28, 28), tmp_path / "cnn2.onnx", 3)
    assert m.exporting == [True, True, True, True, False, False]  # (a dynamic axis: captured at two more sizes)


def test_resnet18_round_trips(tmp_path):
    from minitorch.vision import models
    _check(models.resnet18(num_classes=10), minitorch.randn(1, 3, 32, 32), tmp_path / "r18.onnx", 2, atol=1e-4)


def test_embedding_attention_style_model_with_two_outputs(tmp_path):
    m = Mixer()
    idx = minitorch.randint(0, 11, (2, 5))
    path = tmp_path / "mix.onnx"
    minitorch.onnx.export(m, (idx,), str(path), output_names=["mean", "total"])
    with minitorch.no_grad():
        want = [t.numpy() for t in m(idx)]
    got = _run(path, {"idx": idx.numpy()})
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-5)


def test_legacy_export_to_a_file_object_and_export_params_false(tmp_path):
    m = nn.Linear(3, 2)
    buf = io.BytesIO()
    with pytest.warns(DeprecationWarning, match="legacy"):
        assert minitorch.onnx.export(m, (minitorch.randn(1, 3),), buf, dynamo=False) is None
    proto = onnx.load_from_string(buf.getvalue())
    assert {i.name for i in proto.graph.initializer} == {"weight", "bias"}
    path = tmp_path / "noparams.onnx"
    with pytest.warns(DeprecationWarning):
        minitorch.onnx.export(m, (minitorch.randn(1, 3),), str(path), export_params=False, dynamo=False)
    proto = onnx.load(str(path))
    assert not proto.graph.initializer
    assert [i.name for i in proto.graph.input] == ["input", "weight", "bias"]
    x = minitorch.randn(1, 3)
    (got,) = _run(path, {"input": x.numpy(), "weight": m.weight.detach().numpy(), "bias": m.bias.detach().numpy()})
    np.testing.assert_allclose(got, m(x).detach().numpy(), rtol=1e-5)


def test_an_op_without_mapping_is_named_in_the_error(tmp_path):
    class Cummax(nn.Module):
        def forward(self, x):
            return x.cummax(0)[0]

    path = tmp_path / "cummax.onnx"
    with pytest.raises(RuntimeError, match=r"no ONNX mapping for op\.cummax.*test_onnx\.py:\d+"):
        minitorch.onnx.export(Cummax(), (minitorch.randn(3),), str(path))
    assert not path.exists()
    with pytest.raises(RuntimeError, match=r"no ONNX mapping for functional\.interpolate \(mode='area'\)"):
        minitorch.onnx.export(lambda x: F.interpolate(x, size=(3, 3), mode="area"), (minitorch.randn(1, 1, 4, 4),))


class Styler(nn.Module):
    """Padding, instance norm, resizing, comparisons, casts, where/flip/cumsum/expand, softmax over a middle axis
    and layer norm: the ops of pytorch/examples' fast_neural_style and a few more."""

    def __init__(self):
        super().__init__()
        self.pad = nn.ReflectionPad2d(1)
        self.norm = nn.InstanceNorm2d(3, affine=True)
        self.ln = nn.LayerNorm(4)
        with minitorch.no_grad():
            self.norm.weight.uniform_(0.5, 1.5)
            self.norm.bias.uniform_(-1, 1)

    def forward(self, x):
        y = F.interpolate(self.norm(self.pad(x)), scale_factor=2, mode="nearest")
        outs = [F.interpolate(y, size=(5, 7), mode="bilinear"),
                F.interpolate(x, scale_factor=1.5, mode="bilinear", align_corners=True),
                F.interpolate(x, size=(7, 6), mode="nearest-exact"),
                F.interpolate(x, size=(6, 9), mode="bicubic"),
                F.pad(x, (1, 2, 0, 1), value=0.5) + F.pad(x, (1, 1, 1, 1), mode="replicate").sum(),
                minitorch.where(x >= 0, x, x * 0.1).flip(-1, 1).cumsum(1) + x[:, :1].expand(-1, 3, -1, -1),
                x.softmax(1) + (x <= 0.2) * 1.0 + (x != 0.3).float() - (x < -0.5).to(minitorch.float32),
                self.ln(x)]
        return tuple(outs)


@pytest.mark.parametrize("opset", [11, 13, 17, 20])
def test_style_transfer_ops_round_trip_at_every_opset(opset, tmp_path):
    # opsets before 13 take Squeeze/ReduceSum axes as attributes and normalize Softmax over trailing axes;
    # LayerNormalization exists from 17, GreaterOrEqual from 12: each is written in the opset's own terms
    minitorch.manual_seed(0)
    model = Styler().eval()
    x = minitorch.randn(2, 3, 4, 4)
    with minitorch.no_grad():
        want = [t.numpy() for t in model(x)]
    path = tmp_path / "style.onnx"
    minitorch.onnx.export(model, (x,), str(path), opset_version=opset, dynamo=False)
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto)
    assert proto.opset_import[0].version == opset
    ops = {n.op_type for n in proto.graph.node}
    assert {"Pad", "InstanceNormalization", "Resize", "Where", "CumSum", "Expand", "Cast"} <= ops
    assert ("LayerNormalization" in ops) == (opset >= 17)
    got = _run(path, {"x": x.numpy()})
    assert len(got) == len(want)
    for i, (g, w) in enumerate(zip(got, want)):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5, err_msg=f"output {i}")


class Upsampler(nn.Module):
    """A generator's upsampling ops: transposed convolutions (strided, padded, grouped, dilated, with output
    padding; 2-D and 3-D), pixel (un)shuffle and the smooth activations."""

    def __init__(self):
        super().__init__()
        self.up = nn.ConvTranspose2d(8, 6, 4, stride=2, padding=1)
        self.grouped = nn.ConvTranspose2d(6, 4, 3, stride=2, padding=1, output_padding=1, groups=2, dilation=2,
                                          bias=False)
        self.vol = nn.ConvTranspose3d(2, 3, (2, 3, 3), stride=(1, 2, 1), padding=(0, 1, 1))
        self.shuffle, self.unshuffle = nn.PixelShuffle(2), nn.PixelUnshuffle(2)
        self.soft, self.mish = nn.Softplus(beta=2.0, threshold=3.0), nn.Mish()

    def forward(self, x):
        y = self.grouped(F.relu(self.up(x)))
        z = self.vol(y[:, :2].unsqueeze(2).expand(-1, -1, 2, -1, -1).contiguous())
        return (self.shuffle(y), self.unshuffle(y), self.soft(y * 4), self.mish(y * 8), z,
                F.softplus(x), F.pixel_shuffle(x.unsqueeze(0), 2))


@pytest.mark.parametrize("opset", [11, 17])
def test_transposed_convolutions_pixel_shuffles_and_smooth_activations_round_trip(opset, tmp_path):
    minitorch.manual_seed(0)
    model = Upsampler().eval()
    x = minitorch.randn(2, 8, 5, 5)
    with minitorch.no_grad():
        want = [t.numpy() for t in model(x)]
    path = tmp_path / "up.onnx"
    minitorch.onnx.export(model, (x,), str(path), opset_version=opset, dynamo=False)
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto)
    ops = {n.op_type for n in proto.graph.node}
    assert {"ConvTranspose", "Softplus", "DepthToSpace"} <= ops  # (a 5-D pixel_shuffle by reshapes)
    got = _run(path, {"x": x.numpy()})
    assert [g.shape for g in got] == [w.shape for w in want]
    for i, (g, w) in enumerate(zip(got, want)):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5, err_msg=f"output {i}")
    assert (want[2] > 3 / 2).any() and (want[2] < 1).any()  # both sides of the softplus threshold are exercised


class Assorted(nn.Module):
    """Rounding, remainders, logical ops, products, norms, truth reductions and the less common activations."""

    def __init__(self):
        super().__init__()
        self.prelu, self.prelu1 = nn.PReLU(3), nn.PReLU()
        self.lrn = nn.LocalResponseNorm(3, alpha=0.1, beta=0.6, k=1.5)
        with minitorch.no_grad():
            self.prelu.weight.copy_(minitorch.tensor([0.1, -0.5, 2.0]))

    def forward(self, x, i):
        h = x * 3
        return (h.round(), h.trunc(), h.remainder(0.7), h.fmod(-0.7), h.floor_divide(0.7),
                i.remainder(3), i.fmod(3), i.floor_divide(-3), (i // 3).remainder(-2),
                (x > 0).logical_and(x < 1), (x > 0).logical_or(i > 2), x.logical_xor(x > 0.5), (x > 0).logical_not(),
                x.prod(1), x.norm(dim=1), x.norm(), (x > -5).all(1), (x > 1).any(), x.any(-1, keepdim=True),
                (x > 0).sum(1), F.normalize(x, dim=1), F.normalize(x, p=1.0, dim=-1), x.logsumexp(1),
                x.abs().log1p(), x.expm1(), self.prelu(x), self.prelu1(x), F.softsign(x), F.logsigmoid(h),
                F.selu(x), F.celu(x, 0.7), F.tanhshrink(x), F.hardshrink(x, 0.6), F.softshrink(x, 0.3),
                F.glu(x, 2), self.lrn(x), x.isfinite(), x.tan(), x.sinh(), x.cosh(), x.atan(), x.asinh(),
                (x * 0.3).asin(), (x * 0.3).acos(), (x * 0.3).atanh(), (x.abs() + 1).acosh(),
                F.interpolate(x, size=(2, 1), mode="area"), x.div(0.3, rounding_mode="trunc"))


def test_assorted_ops_round_trip_through_onnxruntime(tmp_path):
    minitorch.manual_seed(0)
    model = Assorted().eval()
    x = minitorch.randn(2, 3, 4, 4)
    x[0, 0, 0, 0] = 0.5 / 3  # ties of round and of the remainders
    x[1, 2, 3, 3] = -0.5
    i = minitorch.randint(-9, 9, (2, 3, 4, 4))
    with minitorch.no_grad():
        want = [t.numpy() for t in model(x, i)]
    path = tmp_path / "assorted.onnx"
    minitorch.onnx.export(model, (x, i), str(path), input_names=["x", "i"])
    onnx.checker.check_model(onnx.load(str(path)))
    got = _run(path, {"x": x.numpy(), "i": i.numpy()})
    assert len(got) == len(want)
    for k, (g, w) in enumerate(zip(got, want)):
        assert g.dtype == w.dtype and g.shape == w.shape, k
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5, err_msg=f"output {k}")
    with pytest.raises(RuntimeError, match=r"local_response_norm of size 2"):
        minitorch.onnx.export(nn.LocalResponseNorm(2), (x,))


def test_private_export_writes_the_file_and_returns_the_output(tmp_path):
    # PyTorch's pre-2.6 private entry, which pytorch/examples' fast_neural_style calls (opset 11)
    model = Styler().eval()
    x = minitorch.randn(1, 3, 4, 4)
    out = minitorch.onnx._export(model, x, str(tmp_path / "s.onnx"), opset_version=11)
    with minitorch.no_grad():
        want = model(x)
    assert len(out) == len(want) and not out[0].requires_grad
    np.testing.assert_allclose(out[0].numpy(), want[0].numpy())
    got = _run(tmp_path / "s.onnx", {"x": x.numpy()})
    np.testing.assert_allclose(got[0], want[0].numpy(), rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="opset 11 and newer"):
        minitorch.onnx.export(model, (x,), str(tmp_path / "t.onnx"), opset_version=10, dynamo=False)


def test_data_dependent_control_flow_cannot_be_exported(tmp_path):
    class Branchy(nn.Module):
        def forward(self, x):
            return x * 2 if x.sum().item() > 0 else x

    with pytest.raises(CompileError, match="graph break"):
        minitorch.onnx.export(Branchy(), (minitorch.ones(3),), str(tmp_path / "b.onnx"))


class Seq(nn.Module):
    """Embedding, a recurrent layer and a decoder: the word_language_model shape of network."""

    def __init__(self, kind, **kw):
        super().__init__()
        self.emb = nn.Embedding(30, 8)
        self.rnn = getattr(nn, kind)(8, 12, **kw)
        self.dec = nn.Linear(12 * (2 if kw.get("bidirectional") else 1), 30)

    def forward(self, idx, hidden=None):
        out, hidden = self.rnn(self.emb(idx), hidden)
        return F.log_softmax(self.dec(out), dim=-1), hidden


@pytest.mark.parametrize("kind, kw", [
    ("LSTM", dict(num_layers=2)),
    ("LSTM", dict(bidirectional=True, batch_first=True)),
    ("GRU", dict(num_layers=2, batch_first=True)),
    ("RNN", dict(nonlinearity="relu", bidirectional=True)),
    ("RNN", dict(num_layers=3)),
], ids=["lstm2", "lstm_bi_bf", "gru2_bf", "rnn_relu_bi", "rnn_tanh3"])
def test_recurrent_layers_round_trip_with_and_without_initial_state(kind, kw, tmp_path):
    minitorch.manual_seed(0)
    m = Seq(kind, **kw).eval()
    idx = minitorch.randint(0, 30, (4, 3))
    layers = kw.get("num_layers", 1) * (2 if kw.get("bidirectional") else 1)
    h = minitorch.randn(layers, 4 if kw.get("batch_first") else 3, 12)
    hidden = (h, minitorch.randn(*h.shape)) if kind == "LSTM" else h
    for args in ((idx, hidden), (idx,)):
        path = tmp_path / f"{kind}{len(args)}.onnx"
        minitorch.onnx.export(m, args, str(path))
        with minitorch.no_grad():
            out, hn = m(*args)
        want = [out] + (list(hn) if kind == "LSTM" else [hn])
        feeds = [idx] + ([] if len(args) == 1 else (list(hidden) if kind == "LSTM" else [hidden]))
        sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        got = sess.run(None, {i.name: t.numpy() for i, t in zip(sess.get_inputs(), feeds)})
        assert [i.name for i in sess.get_inputs()] == (["idx"] if len(args) == 1 else
                                                        ["idx", "hidden_0", "hidden_1"] if kind == "LSTM" else
                                                        ["idx", "hidden"])
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w.numpy(), rtol=1e-4, atol=1e-5)


def test_lstm_projection_is_refused_by_name(tmp_path):
    m = nn.LSTM(4, 6, proj_size=3)
    with pytest.raises(RuntimeError, match=r"no ONNX mapping for module\.LSTM \(proj_size\)"):
        minitorch.onnx.export(m, (minitorch.randn(2, 1, 4),), str(tmp_path / "p.onnx"))


class TinyTransformerLM(nn.Module):
    """word_language_model's TransformerModel shape: embedding, sinusoid-free position buffer, a causal-masked
    nn.TransformerEncoder, a decoder."""

    def __init__(self, ntoken=40, d=16, nhead=2, layers=2):
        super().__init__()
        self.emb = nn.Embedding(ntoken, d)
        self.register_buffer("pos", minitorch.randn(64, 1, d) * 0.1)
        layer = nn.TransformerEncoderLayer(d, nhead, 32, dropout=0.1)
        self.encoder = nn.TransformerEncoder(layer, layers)
        self.dec = nn.Linear(d, ntoken)

    def forward(self, src):
        mask = nn.Transformer.generate_square_subsequent_mask(src.shape[0])
        h = self.emb(src) * 4.0 + self.pos[:src.shape[0]]
        return F.log_softmax(self.dec(self.encoder(h, mask=mask)), dim=-1)


def test_causal_transformer_encoder_round_trips_with_its_mask_folded(tmp_path):
    minitorch.manual_seed(0)
    m = TinyTransformerLM().eval()
    src = minitorch.randint(0, 40, (9, 2))
    path = tmp_path / "tf.onnx"
    minitorch.onnx.export(m, (src,), str(path))
    proto = onnx.load(str(path))
    ops = {n.op_type for n in proto.graph.node}
    assert {"LayerNormalization", "Softmax", "MatMul", "Gather"} <= ops
    with minitorch.no_grad():
        want = m(src).numpy()
    (got,) = _run(path, {"src": src.numpy()})
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    used = {i for n in proto.graph.node for i in n.input}
    assert all(i.name in used for i in proto.graph.initializer)  # no dead initializers


def test_slicing_views_become_slice_operators(tmp_path):
    class Slicer(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(6, 6)

        def forward(self, x):
            h = self.fc(x)                                   # (B, T, 6)
            last = h[:, -1]                                  # select
            every = h[:, ::2, 1:5]                           # stepped slices
            return last * 2, every.sum(-1), x[0, 1:3].tanh()  # an untracked view of the input too

    m = Slicer()
    x = minitorch.randn(2, 5, 6)
    path = tmp_path / "slice.onnx"
    minitorch.onnx.export(m, (x,), str(path))
    assert "Slice" in {n.op_type for n in onnx.load(str(path)).graph.node}
    with minitorch.no_grad():
        want = [t.numpy() for t in m(x)]
    got = _run(path, {"x": x.numpy()})
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------------------------------------------------------
# the exporter's program object (PyTorch 2.13's default, dynamo=True): ONNXProgram, dynamic_shapes, saving
# ---------------------------------------------------------------------------------------------------------------
def _io_dims(vi):
    return [d.dim_param or d.dim_value for d in vi.type.tensor_type.shape.dim]


def test_export_without_a_file_returns_a_program_that_runs_in_onnxruntime():
    m = CNN()
    x = minitorch.randn(2, 1, 28, 28)
    prog = minitorch.onnx.export(m, (x,))
    assert isinstance(prog, minitorch.onnx.ONNXProgram)
    assert prog.model is prog.model_proto and prog.model_proto.opset_import[0].version == 20
    onnx.checker.check_model(prog.model_proto)
    m.eval()
    with minitorch.no_grad():
        want = m(x)
    (got,) = prog(x)
    assert isinstance(got, minitorch.Tensor) and got.shape == want.shape
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-4, atol=1e-5)
    (ref,) = prog.call_reference(x)
    np.testing.assert_allclose(ref.numpy(), want.numpy(), rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="takes 1 inputs"):
        prog(x, x)
    assert "ONNXProgram(" in repr(prog) and "Conv" in repr(prog)


def test_a_file_path_gets_the_weights_in_an_external_data_file_by_default(tmp_path):
    m = nn.Sequential(nn.Linear(60, 50), nn.Tanh(), nn.Linear(50, 2))
    x = minitorch.randn(3, 60)
    path = tmp_path / "ext.onnx"
    prog = minitorch.onnx.export(m, (x,), str(path))
    assert isinstance(prog, minitorch.onnx.ONNXProgram)
    data = tmp_path / "ext.onnx.data"
    assert data.exists()
    proto = onnx.load(str(path), load_external_data=False)
    where = {t.name: t.data_location == onnx.TensorProto.EXTERNAL for t in proto.graph.initializer}
    # tensors of 1 KB and more go to the data file, smaller ones stay in the model
    assert where == {"0.weight": True, "0.bias": False, "2.weight": False, "2.bias": False}
    assert data.stat().st_size >= 4 * 60 * 50
    (got,) = _run(path, {"input": x.numpy()})
    np.testing.assert_allclose(got, m(x).detach().numpy(), rtol=1e-5, atol=1e-5)
    # the program in memory keeps its weights inline; saving it again without external data writes one file
    assert all(t.data_location != onnx.TensorProto.EXTERNAL for t in prog.model_proto.graph.initializer)
    inline = tmp_path / "inline.onnx"
    prog.save(str(inline))
    assert not (tmp_path / "inline.onnx.data").exists()
    assert len(onnx.load(str(inline)).graph.initializer) == 4
    minitorch.onnx.export(m, (x,), str(tmp_path / "one.onnx"), external_data=False)
    assert not (tmp_path / "one.onnx.data").exists()


def test_save_options_for_initializers(tmp_path):
    m = nn.Linear(3, 2)
    prog = minitorch.onnx.export(m, (minitorch.randn(4, 3),))
    prog.save(tmp_path / "as_inputs.onnx", keep_initializers_as_inputs=True)
    proto = onnx.load(str(tmp_path / "as_inputs.onnx"))
    assert [i.name for i in proto.graph.input] == ["input", "weight", "bias"]
    assert {t.name for t in proto.graph.initializer} == {"weight", "bias"}
    x, w, b = minitorch.randn(4, 3), minitorch.randn(2, 3), minitorch.randn(2)
    (got,) = _run(tmp_path / "as_inputs.onnx", {"input": x.numpy(), "weight": w.numpy(), "bias": b.numpy()})
    np.testing.assert_allclose(got, (x @ w.T + b).numpy(), rtol=1e-5, atol=1e-6)
    prog.save(tmp_path / "bare.onnx", include_initializers=False)
    proto = onnx.load(str(tmp_path / "bare.onnx"))
    assert not proto.graph.initializer and [i.name for i in proto.graph.input] == ["input"]
    assert len(prog.model_proto.graph.initializer) == 2  # saving leaves the program as it was
    with pytest.raises(TypeError, match="file path"):
        prog.save(io.BytesIO(), external_data=True)


def test_functional_calls_without_a_mapping_of_their_own_export_as_their_ops(tmp_path):
    # F.conv2d and F.conv_transpose2d called directly (not through the modules), and composites such as
    # cosine_similarity, are recorded op by op when exporting: their convolutions and elementwise ops are mapped
    minitorch.manual_seed(0)
    w, wt, w1 = minitorch.randn(6, 4, 3, 3), minitorch.randn(6, 2, 3, 3), minitorch.randn(5, 4, 3)
    b = minitorch.randn(6)

    def f(x):
        y = F.conv2d(x, w, b, stride=2, padding=1)
        z = F.conv_transpose2d(y, wt, stride=2, padding=1, output_padding=1)
        return (z, F.conv1d(x.flatten(2), w1, padding=2, dilation=2), F.cosine_similarity(x, x.flip(1) + 1),
                F.binary_cross_entropy_with_logits(x, x.sigmoid()))

    x = minitorch.randn(2, 4, 5, 5)
    path = tmp_path / "functional.onnx"
    minitorch.onnx.export(f, (x,), str(path), input_names=["x"])
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto)
    assert {"Conv", "ConvTranspose"} <= {n.op_type for n in proto.graph.node}
    got = _run(path, {"x": x.numpy()})
    for k, (g, want) in enumerate(zip(got, f(x))):
        np.testing.assert_allclose(g, want.numpy(), rtol=1e-5, atol=1e-5, err_msg=f"output {k}")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_edge_values_of_remainders_shrinks_truth_reductions_and_log1p(dtype, tmp_path):
    # the rounded x / y loses the exact remainder (1 // 0.1 is 9), Shrink made NaN 0 and rounded to float32, an
    # any() over an empty dimension was true, and log(1 + x) loses small x: each is written so that the numbers
    # are the library's
    dt = getattr(minitorch, dtype)
    x = minitorch.tensor([1.0, 1e10, 2.0, 7.0, float("inf"), 263.17783, -5.0, 0.0, float("nan"), -0.0], dtype=dt)
    y = minitorch.tensor([0.1, 3.0, float("inf"), -0.7, 2.0, 1.3, 0.0, -2.0, 1.0, 3.0], dtype=dt)
    s = minitorch.tensor([float("nan"), 0.30000001192092896, -0.3, 1.5, -2.0, 0.29], dtype=dt)
    t = minitorch.tensor([1e-8, 1e-6, -3e-7, 1e-4, 0.0, -1.0, 30.0, float("inf"), float("-inf"), 100.0], dtype=dt)

    def f(x, y, s, t):
        return (x.remainder(y), x.floor_divide(y), x.fmod(y), F.hardshrink(s, 0.3), F.softshrink(s, 0.3),
                minitorch.zeros(3, 0, dtype=dt).any(1), minitorch.zeros(3, 0, dtype=dt).all(1), t.log1p(),
                t.expm1())

    path = tmp_path / "edges.onnx"
    minitorch.onnx.export(f, (x, y, s, t), str(path), input_names=["x", "y", "s", "t"])
    feeds = {"x": x.numpy(), "y": y.numpy(), "s": s.numpy(), "t": t.numpy()}
    want = [w.numpy() for w in f(x, y, s, t)]
    got = _run(path, feeds)
    for k, (g, w) in enumerate(zip(got, want)):
        assert g.dtype == w.dtype and g.shape == w.shape, k
        tol = 4 * np.finfo(w.dtype).eps if w.dtype.kind == "f" else 0
        np.testing.assert_allclose(g, w, rtol=tol, atol=0, err_msg=f"output {k}")


@pytest.mark.parametrize("entry", ["export", "_export"])
def test_legacy_export_keeps_initializers_as_inputs_and_warns_of_unknown_dynamic_axes(entry, tmp_path):
    m = nn.Linear(3, 2)
    path = tmp_path / "legacy.onnx"
    kw = dict(input_names=["x"], output_names=["y"], dynamic_axes={"x": {0: "b"}, "yy": {0: "b"}},
              keep_initializers_as_inputs=True)
    with pytest.warns(UserWarning, match="Provided key yy for dynamic axes is not a valid input/output name"):
        if entry == "export":
            minitorch.onnx.export(m, (minitorch.randn(4, 3),), str(path), dynamo=False, **kw)
        else:
            minitorch.onnx._export(m, (minitorch.randn(4, 3),), str(path), **kw)
    proto = onnx.load(str(path))
    assert [i.name for i in proto.graph.input] == ["x", "weight", "bias"]
    x, w, b = minitorch.randn(5, 3), minitorch.randn(2, 3), minitorch.randn(2)
    (got,) = _run(path, {"x": x.numpy(), "weight": w.numpy(), "bias": b.numpy()})
    np.testing.assert_allclose(got, (x @ w.T + b).numpy(), rtol=1e-5, atol=1e-6)


def test_dynamic_shapes_by_name_dim_and_position():
    from minitorch.export import Dim
    m = nn.Sequential(nn.Linear(8, 4), nn.ReLU(), nn.Linear(4, 3))
    x = minitorch.randn(5, 8)
    by_name = minitorch.onnx.export(m, (x,), dynamic_shapes={"input": {0: "batch"}})
    g = by_name.model_proto.graph
    assert _io_dims(g.input[0]) == ["batch", 8]
    assert _io_dims(g.output[0]) == ["batch", 3]  # carried through by shape inference
    by_dim = minitorch.onnx.export(m, (x,), dynamic_shapes=({0: Dim("n", min=1, max=64)},))
    assert _io_dims(by_dim.model_proto.graph.input[0]) == ["n", 8]
    auto = minitorch.onnx.export(m, (x,), dynamic_shapes=[[Dim.AUTO, Dim.STATIC]])
    assert _io_dims(auto.model_proto.graph.input[0]) == ["s0", 8]
    static = minitorch.onnx.export(m, (x,))
    assert _io_dims(static.model_proto.graph.input[0]) == [5, 8]
    for prog in (by_name, by_dim, auto):
        for n in (1, 7):
            xb = minitorch.randn(n, 8)
            (got,) = prog(xb)
            np.testing.assert_allclose(got.numpy(), m(xb).detach().numpy(), rtol=1e-5, atol=1e-6)


def test_dynamic_shapes_errors(tmp_path):
    from minitorch.export import Dim
    m = nn.Linear(4, 2)
    x = minitorch.randn(5, 4)
    with pytest.raises(RuntimeError, match="outside Dim\\('b', max=4\\)"):
        minitorch.onnx.export(m, (x,), dynamic_shapes={"input": {0: Dim("b", max=4)}})
    with pytest.raises(RuntimeError, match="not arguments of the call"):
        minitorch.onnx.export(m, (x,), dynamic_shapes={"x": {0: "b"}})
    with pytest.raises(RuntimeError, match="2 dimensions, got axis 2"):
        minitorch.onnx.export(m, (x,), dynamic_shapes={"input": {2: "b"}})
    with pytest.raises(ValueError, match="valid identifier"):
        Dim("not a name")
    with pytest.raises(ValueError, match="dynamic_axes when dynamo=False"), pytest.warns(DeprecationWarning):
        minitorch.onnx.export(m, (x,), str(tmp_path / "l.onnx"), dynamo=False, dynamic_shapes={"input": {0: "b"}})
    with pytest.raises(TypeError, match="'f'"), pytest.warns(DeprecationWarning):
        minitorch.onnx.export(m, (x,), dynamo=False)


def test_optimize_bypasses_identities_and_apply_weights_swaps_the_parameters():
    m = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5), nn.ReLU(), nn.Linear(4, 2))
    x = minitorch.randn(3, 4)
    raw = minitorch.onnx.export(m, (x,), optimize=False)
    ops = [n.op_type for n in raw.model_proto.graph.node]
    assert "Identity" in ops  # the dropout, at eval
    raw.optimize()
    assert [n.op_type for n in raw.model_proto.graph.node] == [o for o in ops if o != "Identity"]
    onnx.checker.check_model(raw.model_proto)
    m.eval()
    (got,) = raw(x)
    np.testing.assert_allclose(got.numpy(), m(x).detach().numpy(), rtol=1e-5, atol=1e-6)
    other = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5), nn.ReLU(), nn.Linear(4, 2)).eval()
    raw.apply_weights(other.state_dict())
    (got,) = raw(x)
    np.testing.assert_allclose(got.numpy(), other(x).detach().numpy(), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="0.weight"):
        raw.apply_weights({"0.weight": minitorch.zeros(3, 4)})


@pytest.mark.parametrize("dynamo", [False, True])
def test_a_graph_that_depends_on_a_dynamic_axis_size_is_not_exported(tmp_path, dynamo):
    # a size read into a constant, a slice or a reshape is fixed in the file: at other sizes it would give other
    # values, so the export raises instead of writing it
    class MeanOverT(nn.Module):
        def forward(self, x):
            return x.sum(1) / x.size(1)

    class Flat(nn.Module):
        def forward(self, x):
            return x.view(x.size(0), -1) * 2

    class Half(nn.Module):   # T // 2 is 2 at 4 and at 5 (the check also tries 2T + 1)
        def forward(self, x):
            return x[:, :x.size(1) // 2].sum(1)

    # at 8x8 an average pooling of 4x4 windows; at other sizes made of other ops (was: written anyway)
    with pytest.raises(RuntimeError, match="depends on the size of a dynamic axis"):
        minitorch.onnx.export(nn.AdaptiveAvgPool2d(2), (minitorch.randn(2, 2, 8, 8),), str(tmp_path / "p.onnx"),
                              input_names=["x"], dynamic_axes={"x": {2: "H", 3: "W"}}, dynamo=dynamo)
    for m in (MeanOverT(), Flat(), Half()):
        with pytest.raises(RuntimeError, match="depends on the size of a dynamic axis"):
            minitorch.onnx.export(m, (minitorch.randn(2, 4, 4),), str(tmp_path / "m.onnx"), input_names=["x"],
                                  dynamic_axes={"x": {0: "B", 1: "T"}}, dynamo=dynamo)
    # a branch on the size in the model's code that the two other sizes tried (n + 1, 2n + 1) take the same way
    class Branch(nn.Module):
        def forward(self, x):
            return x * 2 if x.size(1) > 16 else x + 1

    with pytest.raises(RuntimeError, match=r"depends on the size of a dynamic axis \(the code compares it: size0 > 16"):
        minitorch.onnx.export(Branch(), (minitorch.randn(2, 5),), str(tmp_path / "b.onnx"), input_names=["x"],
                              dynamic_axes={"x": {1: "T"}}, dynamo=dynamo)

    # a comparison that only refuses sizes (nanoGPT's ``assert t <= block_size``) is a constraint, not a branch
    class Bounded(nn.Module):
        def forward(self, x):
            assert x.size(1) <= 64, "longer than the block"
            return x * 2

    path = tmp_path / "bounded.onnx"
    minitorch.onnx.export(Bounded(), (minitorch.randn(2, 5),), str(path), input_names=["x"],
                          dynamic_axes={"x": {1: "T"}}, dynamo=dynamo)
    x = minitorch.randn(2, 9)
    (got,) = _run(path, {"x": x.numpy()})
    np.testing.assert_allclose(got, (x * 2).numpy())
    # the same models with only the batch axis dynamic follow it (what differs is only the batch)
    path = tmp_path / "mean.onnx"
    minitorch.onnx.export(MeanOverT(), (minitorch.randn(2, 5, 3),), str(path), input_names=["x"],
                          dynamic_axes={"x": {0: "B"}}, dynamo=dynamo)
    x = minitorch.randn(4, 5, 3)
    (got,) = _run(path, {"x": x.numpy()})
    np.testing.assert_allclose(got, (x.sum(1) / 5).numpy(), rtol=1e-5, atol=1e-6)


def test_a_model_that_refuses_odd_sizes_is_still_checked_at_other_sizes():
    # a down- and up-sampling skip takes even sizes only, so n + 1 and 2n + 1 raise: the check tries even sizes
    # (was: skipped altogether, and h * w was written as a constant of the export's size)
    def mean_of_skip(x):
        y = x + F.interpolate(F.avg_pool2d(x, 2), scale_factor=2)
        return y.sum((2, 3)) / (y.shape[2] * y.shape[3])

    with pytest.raises(RuntimeError, match="depends on the size of a dynamic axis"):
        minitorch.onnx.export(mean_of_skip, (minitorch.randn(1, 2, 4, 4),), input_names=["x"],
                              dynamic_axes={"x": {2: "H", 3: "W"}})

    def skip(x):
        return x + F.interpolate(F.avg_pool2d(x, 2), scale_factor=2)

    prog = minitorch.onnx.export(skip, (minitorch.randn(1, 2, 4, 4),), input_names=["x"],
                                 dynamic_axes={"x": {2: "H", 3: "W"}})
    sess = ort.InferenceSession(prog.model_proto.SerializeToString(), providers=["CPUExecutionProvider"])
    for shape in ((1, 2, 4, 4), (1, 2, 8, 6)):
        x = minitorch.randn(*shape)
        np.testing.assert_allclose(sess.run(None, {"x": x.numpy()})[0], skip(x).numpy(), rtol=1e-5, atol=1e-6)

    def only_at_4(x):   # no other size to check the graph at: refused, not written unchecked
        assert x.shape[1] == 4, "length 4 only"
        return x * 2

    with pytest.raises(RuntimeError, match=r"runs at none of the other sizes .*length 4 only"):
        minitorch.onnx.export(only_at_4, (minitorch.randn(2, 4),), input_names=["x"], dynamic_axes={"x": {1: "T"}})


def test_a_dynamic_size_made_a_float_or_a_plain_int_refuses_the_export(tmp_path):
    # h / w and float(h) give Python numbers whose comparisons no guard sees, and the other sizes tried take the
    # same side: the file held one branch (was: written, wrong for tall images)
    def aspect(x):
        return x * 2 if x.shape[2] / x.shape[3] > 1.5 else x + 1

    def half(x):
        return x * 2 if float(x.shape[0]) * 0.5 > 4 else x + 1

    for fn, axes in ((aspect, {2: "H", 3: "W"}), (half, {0: "B"})):
        with pytest.raises(RuntimeError, match=r"uses the size of a dynamic axis in a way the export cannot follow"):
            minitorch.onnx.export(fn, (minitorch.randn(2, 2, 8, 8),), input_names=["x"], dynamic_axes={"x": axes})
    # len(x) as a size (not a branch) still exports, and follows the batch
    lin = minitorch.nn.Linear(12, 2).eval()

    def flat(x):
        return lin(x.view(len(x), -1))
    minitorch.onnx.export(flat, (minitorch.randn(2, 3, 4),), str(tmp_path / "f.onnx"), input_names=["x"],
                          dynamic_axes={"x": {0: "B"}})
    for n in (2, 5):
        x = minitorch.randn(n, 3, 4)
        (got,) = _run(tmp_path / "f.onnx", {"x": x.numpy()})
        np.testing.assert_allclose(got, flat(x).detach().numpy(), rtol=1e-5, atol=1e-6)


def test_a_branch_whose_sides_differ_only_in_wiring_refuses_the_export():
    # both sides record the same operators and constants, reading their inputs in another order (was: written
    # with the even side only, wrong at odd lengths)
    def swap(a, b):
        return a - b if a.shape[1] % 2 == 0 else b - a

    def order(a, b):
        return minitorch.cat([a, b], 1) if a.shape[1] % 2 == 0 else minitorch.cat([b, a], 1)

    for fn in (swap, order):
        with pytest.raises(RuntimeError, match="depends on the size of a dynamic axis"):
            minitorch.onnx.export(fn, (minitorch.randn(2, 8), minitorch.randn(2, 8)), input_names=["a", "b"],
                                  dynamic_axes={"a": {1: "L"}, "b": {1: "L"}})
    # the same operators wired the same way at every size export, and follow the length
    prog = minitorch.onnx.export(lambda a, b: b - a, (minitorch.randn(2, 8), minitorch.randn(2, 8)),
                                 input_names=["a", "b"], dynamic_axes={"a": {1: "L"}, "b": {1: "L"}})
    sess = ort.InferenceSession(prog.model_proto.SerializeToString(), providers=["CPUExecutionProvider"])
    for n in (8, 9):
        a, b = minitorch.randn(2, n), minitorch.randn(2, n)
        np.testing.assert_allclose(sess.run(None, {"a": a.numpy(), "b": b.numpy()})[0], (b - a).numpy())


def test_a_branch_comparing_two_dynamic_axes_exported_square_refuses_the_export():
    # at 8x8 the check captured H and W at one size (9x9, 17x17), and a comparison of the two read as one size: the
    # file was written with the side 8x8 takes only (wrong for tall images); axes of other names now get other sizes
    for fn in (lambda x: x * 2 if 2 * x.shape[2] > 3 * x.shape[3] else x + 1,
               lambda x: x * 2 if x.shape[2] > x.shape[3] else x + 1):
        with pytest.raises(RuntimeError, match=r"the code compares it: .*size1"):
            minitorch.onnx.export(fn, (minitorch.randn(1, 1, 8, 8),), input_names=["x"],
                                  dynamic_axes={"x": {2: "H", 3: "W"}})
    # a model without such a branch exports at a square size and runs at others
    minitorch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 3, 3)).eval()
    prog = minitorch.onnx.export(net, (minitorch.randn(1, 2, 8, 8),), input_names=["x"],
                                 dynamic_axes={"x": {0: "N", 2: "H", 3: "W"}})
    sess = ort.InferenceSession(prog.model_proto.SerializeToString(), providers=["CPUExecutionProvider"])
    for shape in ((1, 2, 8, 8), (2, 2, 12, 6)):
        x = minitorch.randn(*shape)
        with minitorch.no_grad():
            np.testing.assert_allclose(sess.run(None, {"x": x.numpy()})[0], net(x).numpy(), rtol=1e-5, atol=1e-5)
    # inputs whose axes are named apart but that the model takes only at one size (each axis of a list of axes
    # has a name of its own) are checked at equal sizes
    prog = minitorch.onnx.export(lambda a, b: a + b * 2, (minitorch.randn(2, 3), minitorch.randn(2, 3)),
                                 input_names=["a", "b"], dynamic_axes={"a": [0], "b": [0]})
    sess = ort.InferenceSession(prog.model_proto.SerializeToString(), providers=["CPUExecutionProvider"])
    a, b = minitorch.randn(5, 3), minitorch.randn(5, 3)
    np.testing.assert_allclose(sess.run(None, {"a": a.numpy(), "b": b.numpy()})[0], (a + b * 2).numpy(), rtol=1e-6)


@pytest.mark.parametrize("opset", [11, 20])
def test_interpolate_to_a_size_exports_with_a_dynamic_batch(opset):
    # Resize's sizes take the batch and channels from the input when the file runs (was: the export's batch
    # written into them, so the check refused a dynamic batch)
    minitorch.manual_seed(0)
    for m in (nn.Upsample(size=(5, 7), mode="bilinear"), nn.Upsample(size=(6, 3), mode="nearest")):
        prog = minitorch.onnx.export(m, (minitorch.randn(1, 2, 4, 4),), input_names=["x"],
                                     dynamic_axes={"x": {0: "N"}}, opset_version=opset)
        sess = ort.InferenceSession(prog.model_proto.SerializeToString(), providers=["CPUExecutionProvider"])
        for n in (1, 3):
            x = minitorch.randn(n, 2, 4, 4)
            np.testing.assert_allclose(sess.run(None, {"x": x.numpy()})[0], m(x).numpy(), rtol=1e-5, atol=1e-6)


def test_a_value_returned_twice_is_two_named_outputs():
    # was: one name written twice (``a``, ``a``; ``output_0`` twice without names), no output ``b`` to ask for
    def twice(x):
        y = x.relu()
        return y, y, x, x

    for names, want in ((["a", "b", "c", "d"], ["a", "b", "c", "d"]), (None, [f"output_{i}" for i in range(4)])):
        prog = minitorch.onnx.export(twice, (minitorch.randn(2, 3),), input_names=["x"], output_names=names,
                                     dynamic_axes={"x": {0: "B"}})
        assert [o.name for o in prog.model_proto.graph.output] == want
        sess = ort.InferenceSession(prog.model_proto.SerializeToString(), providers=["CPUExecutionProvider"])
        for n in (2, 5):
            x = minitorch.randn(n, 3)
            got = dict(zip(want, sess.run(want, {"x": x.numpy()})))
            for name, w in zip(want, twice(x)):
                np.testing.assert_allclose(got[name], w.numpy())


def test_a_selection_exported_at_batch_1_keeps_a_dynamic_batch():
    # x[:, 0] (a class token) at batch 1: the batch axis is kept, not squeezed and put back (was: refused, the
    # graph at batch 1 differed from the one at other batches)
    def token(x):
        return x[:, 0] * 2, x[..., -1] + 1, x[:, 1:3, 0]

    prog = minitorch.onnx.export(token, (minitorch.randn(1, 5, 4),), input_names=["x"], dynamic_axes={"x": {0: "N"}})
    sess = ort.InferenceSession(prog.model_proto.SerializeToString(), providers=["CPUExecutionProvider"])
    for n in (1, 3):
        x = minitorch.randn(n, 5, 4)
        for got, want in zip(sess.run(None, {"x": x.numpy()}), token(x)):
            assert got.shape == tuple(want.shape)
            np.testing.assert_allclose(got, want.numpy())


def test_unary_launchers_are_mapped_or_named_and_legacy_outputs_follow_the_dynamic_axes(tmp_path):
    class Rs(nn.Module):
        def forward(self, x):
            return self.lin(x).abs().rsqrt() + x.square().sum(1, keepdim=True)

        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(4, 3)

    model = Rs()
    path = tmp_path / "rs.onnx"
    minitorch.onnx.export(model, (minitorch.randn(2, 4),), str(path), input_names=["x"],
                          dynamic_axes={"x": {0: "B"}}, dynamo=False)
    proto = onnx.load(str(path))
    dims = [d.dim_param or d.dim_value for d in proto.graph.output[0].type.tensor_type.shape.dim]
    assert dims == ["B", 3]  # (was: [2, 3], the traced batch)
    x = minitorch.randn(5, 4)
    (got,) = _run(path, {"x": x.numpy()})
    with minitorch.no_grad():
        np.testing.assert_allclose(got, model(x).numpy(), rtol=1e-5, atol=1e-6)
    with pytest.raises(RuntimeError, match=r"no ONNX mapping for launcher\.unary \('frac'\)"):
        minitorch.onnx.export(lambda x: x.frac(), (minitorch.randn(3),), str(tmp_path / "t.onnx"), dynamo=False)


def test_topk_sort_and_argsort_are_topk_operators(tmp_path):
    def f(x):
        v, i = x.topk(2, dim=1)
        s, j = x.sort(0, descending=True)
        u, w = x.topk(3, largest=False)
        return v, i, s, j, x.argsort(1), u, w

    x = minitorch.tensor([[3.0, 1.0, 2.0, 1.0, 5.0], [0.5, 0.5, -1.0, 4.0, 0.5], [2.0, 2.0, 2.0, 2.0, 2.0]])
    path = tmp_path / "topk.onnx"
    minitorch.onnx.export(f, (x,), str(path), input_names=["x"], dynamo=False, opset_version=11)
    assert {n.op_type for n in onnx.load(str(path)).graph.node} - {"Identity"} == {"TopK"}
    got = _run(path, {"x": x.numpy()})
    want = f(x)
    assert len(got) == len(want)
    for k, (g, w) in enumerate(zip(got, want)):
        np.testing.assert_array_equal(g, w.numpy(), err_msg=str(k))   # ties too: in index order


def test_float64_models_write_their_constants_as_float64(tmp_path):
    minitorch.manual_seed(0)
    models = [nn.GELU(approximate="tanh"), nn.LayerNorm(4, elementwise_affine=False), nn.Hardtanh(),
              nn.TransformerEncoderLayer(4, 2, 8, dropout=0.0).double().eval()]
    x = minitorch.randn(2, 3, 4, dtype=minitorch.float64)
    for i, m in enumerate(models):
        path = tmp_path / f"m{i}.onnx"
        minitorch.onnx.export(m, (x,), str(path), input_names=["x"])
        onnx.checker.check_model(onnx.load(str(path)), full_check=True)  # (a float32 constant beside doubles fails)
        (got,) = _run(path, {"x": x.numpy()})
        assert got.dtype == np.float64
        np.testing.assert_allclose(got, m(x).detach().numpy(), rtol=1e-10, atol=1e-12)
    # onnxruntime has no double Erf or InstanceNormalization: the files are checked only
    for i, m in enumerate((nn.GELU(), nn.InstanceNorm1d(3))):
        path = tmp_path / f"c{i}.onnx"
        minitorch.onnx.export(m, (x,), str(path), input_names=["x"])
        onnx.checker.check_model(onnx.load(str(path)), full_check=True)


def test_concatenation_extremes_clamps_and_gelu_layers_export(tmp_path):
    minitorch.manual_seed(0)

    class Ops(nn.Module):
        def forward(self, x):
            parts = x.chunk(2, 1)
            return (minitorch.cat([x, x * 2], 1), minitorch.stack([x, x], 2), x.amax(1), x.amin(0, keepdim=True),
                    x.argmax(1), x.argmin(), x.argmax(0, keepdim=True), x.max(1).values + 1,
                    minitorch.roll(x, 1, 1), parts[1] - parts[0], x.clamp(-0.5, 0.5), x.clamp(min=0.1),
                    minitorch.clamp(x, max=minitorch.tensor(0.2)))

    x = minitorch.randn(3, 6)
    path = tmp_path / "ops.onnx"
    minitorch.onnx.export(Ops(), (x,), str(path), input_names=["x"])
    got = _run(path, {"x": x.numpy()})
    want = Ops()(x)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w.numpy(), rtol=1e-6, atol=1e-6)
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, activation="gelu", batch_first=True).eval()
    src = minitorch.randn(2, 5, 8)
    path = tmp_path / "layer.onnx"
    minitorch.onnx.export(layer, (src,), str(path), input_names=["src"])
    (got,) = _run(path, {"src": src.numpy()})
    np.testing.assert_allclose(got, layer(src).detach().numpy(), rtol=1e-4, atol=1e-5)


def test_integer_ops_an_opset_lacks_are_refused_and_run_where_it_has_them(tmp_path):
    class IntPow(nn.Module):
        def forward(self, x):
            return (x * 3).long() ** 2

    x = minitorch.randn(2, 5)
    with pytest.raises(RuntimeError, match="Pow on int64 needs opset_version=12 or later"):
        minitorch.onnx.export(IntPow(), (x,), str(tmp_path / "p11.onnx"), opset_version=11)
    path = tmp_path / "p13.onnx"
    minitorch.onnx.export(IntPow(), (x,), str(path), input_names=["x"], opset_version=13)
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    (got,) = _run(path, {"x": x.numpy()})
    np.testing.assert_array_equal(got, IntPow()(x).numpy())

    class SmallAdd(nn.Module):
        def forward(self, x):
            return x.to(minitorch.int8) + x.to(minitorch.int8)

    with pytest.raises(RuntimeError, match="Add on int8 needs opset_version=14 or later"):
        minitorch.onnx.export(SmallAdd(), (x,), str(tmp_path / "a13.onnx"), opset_version=13)


def test_the_last_step_of_a_batch_first_lstm_exports_with_a_dynamic_batch(tmp_path):
    class Clf(nn.Module):  # the usual classifier head: the last step of a batch-first recurrent layer's output
        def __init__(self):
            super().__init__()
            self.rnn, self.fc = nn.LSTM(4, 6, batch_first=True), nn.Linear(6, 3)

        def forward(self, x):
            out, _ = self.rnn(x)
            return self.fc(out[:, -1, :]), out[:, 1:3]

    minitorch.manual_seed(0)
    m = Clf().eval()
    path = tmp_path / "clf.onnx"
    minitorch.onnx.export(m, (minitorch.randn(2, 5, 4),), str(path), input_names=["x"], dynamic_axes={"x": {0: "B"}})
    x = minitorch.randn(3, 5, 4)
    got = _run(path, {"x": x.numpy()})
    with minitorch.no_grad():
        want = m(x)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w.numpy(), rtol=1e-5, atol=1e-6)


def test_attention_exports_with_dynamic_batch_and_length(tmp_path):
    minitorch.manual_seed(0)
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True)
    m = nn.TransformerEncoder(layer, 1, enable_nested_tensor=False).eval()
    path = tmp_path / "enc.onnx"
    minitorch.onnx.export(m, (minitorch.randn(2, 5, 8),), str(path), input_names=["x"],
                          dynamic_axes={"x": {0: "B", 1: "T"}})
    for shape in ((3, 5, 8), (1, 7, 8)):
        x = minitorch.randn(*shape)
        (got,) = _run(path, {"x": x.numpy()})
        with minitorch.no_grad():
            np.testing.assert_allclose(got, m(x).numpy(), rtol=1e-4, atol=1e-5)


def _matches(model, prog, shapes, atol=1e-5, dtype=None):
    """The program's onnxruntime outputs equal the model's eager ones at each of ``shapes``."""
    sess = ort.InferenceSession(prog.model_proto.SerializeToString(), providers=["CPUExecutionProvider"])
    for shape in shapes:
        x = minitorch.randn(*shape, dtype=dtype)
        with minitorch.no_grad():
            want = model(x).numpy()
        got = sess.run(None, {"x": x.numpy()})[0]
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=atol)


@pytest.mark.parametrize("opset", [11, 20])
def test_the_functional_adaptive_average_pooling_exports_as_the_layer_does(opset):
    # F.adaptive_avg_pool2d called by the model (mobilenet_v2's and densenet's head) is kept whole by the capture
    # (was: no ONNX mapping); over the whole input a GlobalAveragePool, which any H and W take
    class Head(nn.Module):
        def __init__(self, size):
            super().__init__()
            self.conv, self.size = nn.Conv2d(3, 4, 3, padding=1), size

        def forward(self, x):
            y = F.adaptive_avg_pool2d(self.conv(x), self.size)
            return y.flatten(1) if self.size == (1, 1) else y

    minitorch.manual_seed(0)
    m = Head((1, 1)).eval()
    prog = minitorch.onnx.export(m, (minitorch.randn(2, 3, 8, 8),), input_names=["x"], opset_version=opset,
                                 dynamic_axes={"x": {0: "N", 2: "H", 3: "W"}})
    assert "GlobalAveragePool" in [n.op_type for n in prog.model_proto.graph.node]
    _matches(m, prog, [(2, 3, 8, 8), (3, 3, 6, 10)])
    m = Head(2).eval()     # windows of 4x4 at 8x8 (with H and W dynamic, refused as the layer is)
    prog = minitorch.onnx.export(m, (minitorch.randn(2, 3, 8, 8),), input_names=["x"], opset_version=opset,
                                 dynamic_axes={"x": {0: "N"}})
    _matches(m, prog, [(2, 3, 8, 8), (1, 3, 8, 8)])
    with pytest.raises(RuntimeError, match="depends on the size of a dynamic axis"):
        minitorch.onnx.export(m, (minitorch.randn(2, 3, 8, 8),), input_names=["x"], opset_version=opset,
                              dynamic_axes={"x": {2: "H", 3: "W"}})

    def unbatched(x):
        return F.adaptive_avg_pool2d(x, 1) * 2
    prog = minitorch.onnx.export(unbatched, (minitorch.randn(3, 5, 6),), input_names=["x"], opset_version=opset)
    _matches(unbatched, prog, [(3, 5, 6)])
    with pytest.raises(RuntimeError, match=r"adaptive_avg_pool2d \(an output size 3x3 that does not divide"):
        minitorch.onnx.export(Head(3).eval(), (minitorch.randn(1, 3, 8, 8),), input_names=["x"])


@pytest.mark.parametrize("opset", [11, 13, 14, 20])
def test_hardswish_and_hardsigmoid_export_at_every_opset(opset):
    # mobilenet_v3's activations (was: no ONNX mapping); HardSwish is opset 14, before it x * HardSigmoid(x)
    class Hard(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv, self.act = nn.Conv2d(2, 4, 1), nn.Hardswish(inplace=True)

        def forward(self, x):
            y = self.conv(x)
            return F.hardswish(y) + F.hardsigmoid(y * 3) + self.act(y - 1)

    minitorch.manual_seed(0)
    m = Hard().eval()
    prog = minitorch.onnx.export(m, (minitorch.randn(2, 2, 4, 4) * 4,), input_names=["x"], opset_version=opset,
                                 dynamic_axes={"x": {0: "N"}})
    ops = [n.op_type for n in prog.model_proto.graph.node]
    assert ("HardSwish" in ops) == (opset >= 14) and "HardSigmoid" in ops
    _matches(m, prog, [(2, 2, 4, 4), (3, 2, 4, 4)])

    def hard64(x):   # (onnxruntime has HardSigmoid for float32 only: float64 gets the definition)
        return F.hardswish(x) - F.hardsigmoid(x)
    prog = minitorch.onnx.export(hard64, (minitorch.randn(2, 5, dtype=minitorch.float64),), input_names=["x"],
                                 opset_version=opset)
    _matches(hard64, prog, [(2, 5)], atol=1e-12, dtype=minitorch.float64)


def test_a_channel_shuffle_exports_with_a_dynamic_batch():
    # ShuffleNet's view -> transpose -> contiguous -> view: contiguous() is an Identity, since ONNX values have no
    # layout (was: no ONNX mapping for the Contiguous function)
    class Shuffle(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(6, 6, 1)

        def forward(self, x):
            y = self.conv(x)
            n, c, h, w = y.shape
            return y.view(n, 3, c // 3, h, w).transpose(1, 2).contiguous().view(n, c, h, w) - y

    minitorch.manual_seed(0)
    m = Shuffle().eval()
    prog = minitorch.onnx.export(m, (minitorch.randn(2, 6, 4, 5),), input_names=["x"], dynamic_axes={"x": {0: "N"}},
                                 optimize=False)
    assert "Identity" in [n.op_type for n in prog.model_proto.graph.node]
    _matches(m, prog, [(2, 6, 4, 5), (3, 6, 4, 5)])


@pytest.mark.parametrize("opset", [11, 20])
def test_a_reshape_merging_dimensions_after_a_permute_exports(opset):
    # an SSD head's channels-last flattening is a view of the input's memory that merges H and W (was: no ONNX
    # mapping for view.as_strided); written as that layout reshaped and transposed into the view's order
    def head(x):
        return x.permute(0, 2, 3, 1).reshape(x.shape[0], -1, 4) * 2, x.transpose(1, 3).reshape(x.shape[0], 5, -1)

    minitorch.manual_seed(0)
    prog = minitorch.onnx.export(head, (minitorch.randn(2, 4, 3, 5),), input_names=["x"], opset_version=opset,
                                 dynamic_axes={"x": {0: "N"}})
    sess = ort.InferenceSession(prog.model_proto.SerializeToString(), providers=["CPUExecutionProvider"])
    for n in (2, 3):
        x = minitorch.randn(n, 4, 3, 5)
        for got, want in zip(sess.run(None, {"x": x.numpy()}), head(x)):
            assert got.shape == tuple(want.shape)
            np.testing.assert_allclose(got, want.numpy())


def test_a_branch_outside_a_dims_range_does_not_refuse_the_export():
    # the file is declared for the Dim's range only: a comparison that comes out otherwise beyond it is no branch of
    # the file's (was: refused, "at size 5 the model records another graph" for Dim("N", max=4))
    from minitorch.export import Dim

    def big(x):
        return x * 2 if x.shape[0] > 4 else x + 1

    def small(x):
        return x * 2 if x.shape[0] < 3 else x + 1

    for fn, dim, sizes in ((big, Dim("N", min=1, max=4), (1, 3, 4)), (small, Dim("N", min=3), (3, 4, 7))):
        prog = minitorch.onnx.export(fn, (minitorch.randn(sizes[0], 3),), dynamic_shapes={"x": {0: dim}})
        sess = ort.InferenceSession(prog.model_proto.SerializeToString(), providers=["CPUExecutionProvider"])
        for n in sizes:
            x = minitorch.randn(n, 3)
            np.testing.assert_allclose(sess.run(None, {"x": x.numpy()})[0], fn(x).numpy())
    # a branch inside the range still refuses
    with pytest.raises(RuntimeError, match=r"the code compares it: size0 > 4 .* True at size0 = 5"):
        minitorch.onnx.export(big, (minitorch.randn(2, 3),), dynamic_shapes={"x": {0: Dim("N", max=8)}})
