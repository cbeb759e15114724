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
    assert proto.opset_import[0].version == 17


def test_cnn_round_trips_and_the_model_returns_to_training_mode(tmp_path):
    m = CNN()
    m.train()
    minitorch.onnx.export(m, minitorch.randn(2, 1, 28, 28), str(tmp_path / "cnn.onnx"))
    assert m.training and m.dropout1.training
    assert m.exporting == [True]
    _check(m, minitorch.randn(2, 1, 28, 28), tmp_path / "cnn2.onnx", 3)
    assert m.exporting == [True, True, False, False]


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


def test_file_object_and_export_params_false(tmp_path):
    m = nn.Linear(3, 2)
    buf = io.BytesIO()
    minitorch.onnx.export(m, (minitorch.randn(1, 3),), buf)
    proto = onnx.load_from_string(buf.getvalue())
    assert {i.name for i in proto.graph.initializer} == {"weight", "bias"}
    path = tmp_path / "noparams.onnx"
    minitorch.onnx.export(m, (minitorch.randn(1, 3),), str(path), export_params=False)
    proto = onnx.load(str(path))
    assert not proto.graph.initializer
    assert [i.name for i in proto.graph.input] == ["input", "weight", "bias"]
    x = minitorch.randn(1, 3)
    (got,) = _run(path, {"input": x.numpy(), "weight": m.weight.detach().numpy(), "bias": m.bias.detach().numpy()})
    np.testing.assert_allclose(got, m(x).detach().numpy(), rtol=1e-5)


def test_an_op_without_mapping_is_named_in_the_error(tmp_path):
    class Cum(nn.Module):
        def forward(self, x):
            return x.cumsum(0)

    path = tmp_path / "cum.onnx"
    with pytest.raises(RuntimeError, match=r"no ONNX mapping for function\.CumSum.*test_onnx\.py:\d+"):
        minitorch.onnx.export(Cum(), (minitorch.randn(3),), str(path))
    assert not path.exists()


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
