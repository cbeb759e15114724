"""``minitorch.save`` / ``minitorch.load``: round trips, the safetensors file format as other readers see it,
atomic writes, and clear errors for corrupt or foreign files (never unpickling anything)."""
import io
import math
import os
import pathlib
import pickle
from collections import Counter, OrderedDict

import numpy as np
import pytest

import minitorch
import minitorch.optim as optim
from minitorch import serialization
from minitorch.serialization import load, save

DTYPES = [minitorch.float32, minitorch.float64, minitorch.int64, minitorch.int32, minitorch.uint8, minitorch.bool]


def to_np(t):
    return t.detach().cpu().numpy()


def _tensor(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape) * 10
    return minitorch.tensor(a.astype(dtype.np) if dtype is not minitorch.bool else a > 0, dtype=dtype)


def _roundtrip(obj, tmp_path):
    path = tmp_path / "obj.pt"
    save(obj, path)
    return load(path)


def test_public_names():
    """``minitorch.save`` / ``minitorch.load`` are these functions (re-exported by minitorch/__init__.py)."""
    assert minitorch.save is save and minitorch.load is load


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.name)
@pytest.mark.parametrize("shape", [(), (0,), (3,), (2, 0, 4), (2, 3, 4, 5)])
def test_tensor_round_trip(dtype, shape, tmp_path):
    t = _tensor(shape, dtype)
    out = _roundtrip(t, tmp_path)
    assert isinstance(out, minitorch.Tensor) and out.dtype is dtype and out.shape == t.shape
    np.testing.assert_array_equal(to_np(out), to_np(t))
    assert out.is_contiguous() and not out.requires_grad


def test_non_contiguous_and_shared_storage_tensors(tmp_path):
    base = minitorch.arange(12, dtype=minitorch.float32).reshape(3, 4)
    obj = {"t": base.t(), "row": base[1], "col": base[:, 2], "base": base}
    out = _roundtrip(obj, tmp_path)
    for k, v in obj.items():
        np.testing.assert_array_equal(to_np(out[k]), to_np(v), err_msg=k)
    out["base"][1, 0] = 100.0  # views are stored as separate tensors: no aliasing after the load
    assert out["row"][0].item() == 4.0


def test_same_tensor_twice_is_stored_once_and_loads_as_one_object(tmp_path):
    t = minitorch.randn(3)
    out = _roundtrip({"a": t, "b": [t, t]}, tmp_path)
    assert out["a"] is out["b"][0] is out["b"][1]
    import safetensors.numpy
    assert len(safetensors.numpy.load_file(tmp_path / "obj.pt")) == 1


def test_nested_structure_round_trip(tmp_path):
    obj = {
        "model": OrderedDict([("fc.weight", minitorch.randn(4, 3)), ("fc.bias", minitorch.zeros(4))]),
        "list": [1, 2.5, "s", None, True, False, [minitorch.tensor([1, 2])], (3, (4, "x"))],
        "tuple": (minitorch.tensor(7), {"k": -1}),
        5: "int key",
        2.5: "float key",
        "specials": [math.inf, -math.inf, 1e-300, -0.0, 2 ** 62],
        "counter": Counter({3: 2, 8: 1}),
        "np": np.arange(4, dtype=np.int32),
        "dtype": minitorch.float64,
        "device": minitorch.device("cpu"),
        "": "empty key",
    }
    out = _roundtrip(obj, tmp_path)
    assert list(out) == list(obj)
    assert type(out["model"]) is OrderedDict and list(out["model"]) == ["fc.weight", "fc.bias"]
    np.testing.assert_array_equal(to_np(out["model"]["fc.weight"]), to_np(obj["model"]["fc.weight"]))
    lst = out["list"]
    assert lst[:6] == [1, 2.5, "s", None, True, False] and type(lst[0]) is int and type(lst[4]) is bool
    assert to_np(lst[6][0]).tolist() == [1, 2] and lst[6][0].dtype is minitorch.int64
    assert lst[7] == (3, (4, "x")) and isinstance(lst[7], tuple) and isinstance(lst[7][1], tuple)
    assert isinstance(out["tuple"], tuple) and out["tuple"][0].item() == 7 and out["tuple"][1] == {"k": -1}
    assert out[5] == "int key" and out[2.5] == "float key" and out[""] == "empty key"
    assert out["specials"][:2] == [math.inf, -math.inf] and out["specials"][2] == 1e-300
    assert math.copysign(1, out["specials"][3]) == -1 and out["specials"][4] == 2 ** 62
    assert type(out["counter"]) is Counter and out["counter"] == Counter({3: 2, 8: 1})
    assert out["np"].dtype == np.int32 and out["np"].tolist() == [0, 1, 2, 3]
    assert out["dtype"] is minitorch.float64 and out["device"] == minitorch.device("cpu")


def test_nan_round_trips(tmp_path):
    out = _roundtrip({"x": float("nan"), "t": minitorch.tensor([float("nan"), 1.0])}, tmp_path)
    assert math.isnan(out["x"]) and math.isnan(out["t"][0].item())


def test_requires_grad_and_parameter_are_kept(tmp_path):
    w = minitorch.randn(2, 2, requires_grad=True)
    obj = {"w": w, "d": w.detach()}
    try:
        from minitorch.nn.parameter import Parameter
    except ImportError:
        Parameter = None
    if Parameter is not None:
        obj["p"] = Parameter(minitorch.ones(3))
    out = _roundtrip(obj, tmp_path)
    assert out["w"].requires_grad and out["w"].is_leaf and not out["d"].requires_grad
    if Parameter is not None:
        assert isinstance(out["p"], Parameter) and out["p"].requires_grad


def test_optimizer_checkpoint_resumes_identically(tmp_path):
    rng = np.random.default_rng(0)
    init = [rng.standard_normal(s).astype(np.float32) for s in [(3, 2), (2,)]]
    grads = [[rng.standard_normal(a.shape).astype(np.float32) for a in init] for _ in range(6)]

    def run(params, opt, steps):
        for step in steps:
            for p, g in zip(params, step):
                p.grad = minitorch.tensor(g)
            opt.step()

    for name, kwargs in [("SGD", {"lr": 0.1, "momentum": 0.9}), ("Adam", {"amsgrad": True}),
                         ("RMSprop", {"centered": True}), ("Adagrad", {}), ("Adadelta", {}), ("AdamW", {})]:
        ref = [minitorch.tensor(a, requires_grad=True) for a in init]
        ref_opt = getattr(optim, name)(ref, **kwargs)
        run(ref, ref_opt, grads)

        params = [minitorch.tensor(a, requires_grad=True) for a in init]
        opt = getattr(optim, name)(params, **kwargs)
        run(params, opt, grads[:3])
        path = tmp_path / f"{name}.ckpt"
        save({"params": [p.detach() for p in params], "optim": opt.state_dict(), "epoch": 3}, path)

        ck = load(path)
        assert ck["epoch"] == 3 and set(ck["optim"]["state"]) == {0, 1}  # int keys come back as ints
        for idx, st in opt.state_dict()["state"].items():
            for key, v in st.items():
                got = ck["optim"]["state"][idx][key]
                assert got.shape == v.shape and got.dtype is v.dtype, (name, key)  # 0-d step stays 0-d
        resumed = [minitorch.tensor(to_np(p), requires_grad=True) for p in ck["params"]]
        opt2 = getattr(optim, name)(resumed, **kwargs)
        opt2.load_state_dict(ck["optim"])
        assert opt2.param_groups[0] == {**opt.param_groups[0], "params": resumed}
        run(resumed, opt2, grads[3:])
        for a, b in zip(ref, resumed):
            np.testing.assert_array_equal(to_np(a), to_np(b), err_msg=name)


def test_scheduler_state_dict_round_trip(tmp_path):
    opt = optim.SGD([minitorch.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9)
    scheds = [optim.lr_scheduler.MultiStepLR(opt, [2, 4]),
              optim.lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=10),
              optim.lr_scheduler.ReduceLROnPlateau(opt)]
    for s in scheds:
        sd = s.state_dict()
        out = _roundtrip(sd, tmp_path)
        assert out == sd


# ---------------------------------------------------------------------------------------------------------------
# the file is a plain safetensors file for other readers
# ---------------------------------------------------------------------------------------------------------------
def test_readable_by_safetensors_numpy(tmp_path):
    import safetensors.numpy
    sd = OrderedDict([("layer.weight", _tensor((3, 4), minitorch.float32)), ("layer.bias", _tensor((3,),
                      minitorch.float64)), ("steps", _tensor((2,), minitorch.int64)),
                      ("mask", _tensor((2, 2), minitorch.bool))])
    path = tmp_path / "m.safetensors"
    save(sd, path)
    arrays = safetensors.numpy.load_file(path)
    assert set(arrays) == set(sd)  # a flat state dict's keys are the tensor names
    for k, t in sd.items():
        assert arrays[k].dtype == t.dtype.np
        np.testing.assert_array_equal(arrays[k], to_np(t))
    with safetensors.safe_open(path, framework="np") as f:
        meta = f.metadata()
    assert meta["format"] == "pt" and "minitorch.structure" in meta


@pytest.mark.torch
def test_readable_by_safetensors_torch(tmp_path):
    torch = pytest.importorskip("torch")
    st = pytest.importorskip("safetensors.torch")
    p = minitorch.randn(3, 2, requires_grad=True)
    p.grad = minitorch.ones(3, 2)
    opt = optim.Adam([p])
    opt.step()
    sd = {"w": minitorch.randn(4, 5), "i": minitorch.tensor([1, 2, 3], dtype=minitorch.int32)}
    save(sd, tmp_path / "m.pt")
    loaded = st.load_file(tmp_path / "m.pt")
    assert loaded["w"].dtype == torch.float32 and loaded["i"].dtype == torch.int32
    np.testing.assert_array_equal(loaded["w"].numpy(), to_np(sd["w"]))
    save(opt.state_dict(), tmp_path / "o.pt")
    loaded = st.load_file(tmp_path / "o.pt")
    np.testing.assert_array_equal(loaded["state.0.exp_avg"].numpy(), to_np(opt.state[p]["exp_avg"]))


def test_plain_safetensors_file_loads_as_dict(tmp_path):
    import safetensors.numpy
    arrays = {"b": np.arange(3, dtype=np.int64), "a": np.ones((2, 2), dtype=np.float32)}
    safetensors.numpy.save_file(arrays, tmp_path / "plain.safetensors")
    out = load(tmp_path / "plain.safetensors")
    assert set(out) == {"a", "b"}
    assert out["a"].dtype is minitorch.float32 and to_np(out["b"]).tolist() == [0, 1, 2]


def test_file_objects_and_path_types(tmp_path):
    t = minitorch.randn(3)
    buf = io.BytesIO()
    save({"t": t}, buf)
    buf.seek(0)
    np.testing.assert_array_equal(to_np(load(buf)["t"]), to_np(t))
    for f in (str(tmp_path / "s.pt"), tmp_path / "p.pt", os.fsencode(tmp_path / "b.pt")):
        save([t], f)
        np.testing.assert_array_equal(to_np(load(f)[0]), to_np(t))
    with open(tmp_path / "h.pt", "wb") as fh:
        save(t, fh)
    with open(tmp_path / "h.pt", "rb") as fh:
        np.testing.assert_array_equal(to_np(load(fh)), to_np(t))


def test_map_location_and_weights_only(tmp_path):
    path = tmp_path / "m.pt"
    save({"t": minitorch.ones(2)}, path)
    for ml in ("cpu", minitorch.device("cpu"), {"cpu": "cpu"}, lambda t, loc: t, None):
        out = load(path, map_location=ml, weights_only=True)
        assert out["t"].device == minitorch.device("cpu")
    seen = []
    load(path, map_location=lambda t, loc: seen.append(loc))
    assert seen == ["cpu"]
    if not minitorch.cuda.is_available():
        with pytest.raises(RuntimeError, match="CUDA"):
            load(path, map_location="cuda")


def test_saved_file_permissions_follow_umask(tmp_path):
    path = tmp_path / "m.pt"
    save([1], path)
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~umask


# ---------------------------------------------------------------------------------------------------------------
# atomic writes
# ---------------------------------------------------------------------------------------------------------------
def test_failed_write_keeps_the_old_file_and_leaves_no_temp_file(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.pt"
    save({"v": minitorch.tensor([1.0])}, path)
    before = path.read_bytes()

    def boom(fd):
        raise OSError("disk full")

    monkeypatch.setattr(serialization.os, "fsync", boom)
    with pytest.raises(OSError, match="disk full"):
        save({"v": minitorch.tensor([2.0])}, path)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["ckpt.pt"]
    monkeypatch.undo()
    assert load(path)["v"].item() == 1.0


def test_unsaveable_object_writes_nothing(tmp_path):
    path = tmp_path / "x.pt"
    with pytest.raises(TypeError, match=r"minitorch.save stores tensors.*got builtins.generator at obj\['a'\]\[1\]"):
        save({"a": [1, (x for x in ())]}, path)
    with pytest.raises(TypeError, match="cannot be found again by its name"):
        save({"f": lambda x: x}, path)
    with pytest.raises(TypeError, match="dict keys must be strings or numbers, got a key of type tuple"):
        save({(1, 2): 3}, path)
    with pytest.raises(TypeError, match="minitorch.save stores tensors"):
        save(object(), path)
    assert os.listdir(tmp_path) == []


# ---------------------------------------------------------------------------------------------------------------
# corrupt and foreign files
# ---------------------------------------------------------------------------------------------------------------
def test_random_bytes(tmp_path):
    rng = np.random.default_rng(0)
    for n in (0, 5, 100, 10000):
        path = tmp_path / f"r{n}.pt"
        path.write_bytes(rng.integers(0, 256, n, dtype=np.uint8).tobytes())
        with pytest.raises(RuntimeError, match="not a minitorch checkpoint|corrupt"):
            load(path)


def test_truncated_file(tmp_path):
    path = tmp_path / "t.pt"
    save({"w": minitorch.randn(100)}, path)
    data = path.read_bytes()
    for cut in (len(data) - 1, len(data) // 2, 20):
        path.write_bytes(data[:cut])
        with pytest.raises(RuntimeError, match="not a minitorch checkpoint|corrupt"):
            load(path)


def test_torch_zip_checkpoint_is_read(tmp_path):
    """PyTorch's own checkpoints of state dicts are read without unpickling globals (tests/test_vision_models.py
    covers the reader); a zip that is not one is still refused."""
    torch = pytest.importorskip("torch")
    torch.save({"a": torch.arange(2.0)}, tmp_path / "t.pt")
    np.testing.assert_array_equal(to_np(load(tmp_path / "t.pt")["a"]), [0.0, 1.0])
    import zipfile
    with zipfile.ZipFile(tmp_path / "other.zip", "w") as z:
        z.writestr("x.txt", "x")
    with pytest.raises(RuntimeError, match="zip archive but not a PyTorch checkpoint"):
        load(tmp_path / "other.zip")


def test_pickle_is_never_executed(tmp_path):
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    path = tmp_path / "evil.pt"
    path.write_bytes(pickle.dumps(Evil(), protocol=2))
    with pytest.raises(RuntimeError, match="pickle file"):
        load(path)
    assert not marker.exists()


def _forged(tmp_path, structure, arrays=None, version="1"):
    import safetensors.numpy
    path = tmp_path / "forged.pt"
    meta = {"format": "pt", "minitorch.version": version, "minitorch.structure": structure}
    safetensors.numpy.save_file(arrays or {"x": np.zeros(2, np.float32)}, path, metadata=meta)
    return path


@pytest.mark.parametrize("structure, match", [
    ("{not json", "structure metadata is not valid JSON"),
    ('{"T": "missing"}', "refers to a tensor 'missing'"),
    ('{"weird": 1}', "unexpected node"),
    ('{"dict": [[1]]}', "not a \\[key, value\\] pair"),
    ('{"dict": [], "kind": "Evil"}', "unknown mapping kind"),
    ('{"dict": [[[1], 2]]}', "is not a string or a number"),
    ('{"float": "big"}', "unknown float"),
    ('{"dtype": "complex128"}', "unknown dtype"),
    ('{"A": 3}', "refers to an array 3"),
])
def test_corrupt_structure(tmp_path, structure, match):
    with pytest.raises(RuntimeError, match=match):
        load(_forged(tmp_path, structure))


def test_newer_format_version_is_refused(tmp_path):
    with pytest.raises(RuntimeError, match="newer minitorch"):
        load(_forged(tmp_path, "1", version="2"))


def test_unsupported_dtype_in_file(tmp_path):
    import safetensors.numpy
    path = tmp_path / "u16.safetensors"
    safetensors.numpy.save_file({"h": np.zeros(3, np.uint16)}, path)
    with pytest.raises(RuntimeError, match="'h' has dtype U16, which minitorch does not support"):
        load(path)


def test_header_that_is_not_json(tmp_path):
    path = tmp_path / "bad.pt"
    header = b"{\xff\xfe garbage"
    path.write_bytes(len(header).to_bytes(8, "little") + header)
    with pytest.raises(RuntimeError, match="corrupt"):
        load(path)


def test_pathlib_and_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        load(pathlib.Path(tmp_path) / "nope.pt")


def test_module_checkpoint_round_trip(tmp_path):
    nn = pytest.importorskip("minitorch.nn")
    model = nn.Sequential(nn.Linear(6, 4), nn.ReLU(), nn.Linear(4, 2))
    sd = model.state_dict()
    save(sd, tmp_path / "model.pt")
    import safetensors.numpy
    assert set(safetensors.numpy.load_file(tmp_path / "model.pt")) == set(sd)
    other = nn.Sequential(nn.Linear(6, 4), nn.ReLU(), nn.Linear(4, 2))
    other.load_state_dict(load(tmp_path / "model.pt"))
    x = minitorch.randn(3, 6)
    np.testing.assert_array_equal(to_np(other(x)), to_np(model(x)))


def test_size_and_small_int_tensors_round_trip():
    buf = io.BytesIO()
    obj = {"shape": minitorch.Size([2, 3]), "i8": minitorch.tensor([-3, 4], dtype=minitorch.int8),
           "i16": minitorch.tensor([[300, -2]], dtype=minitorch.int16), "plain": (2, 3)}
    minitorch.save(obj, buf)
    buf.seek(0)
    back = minitorch.load(buf, weights_only=True)
    assert isinstance(back["shape"], minitorch.Size) and back["shape"] == (2, 3)
    assert type(back["plain"]) is tuple
    assert back["i8"].dtype is minitorch.int8 and back["i8"].tolist() == [-3, 4]
    assert back["i16"].dtype is minitorch.int16 and back["i16"].tolist() == [[300, -2]]


def test_safe_globals_api_exists_and_scopes():
    ser = minitorch.serialization
    ser.clear_safe_globals()
    ser.add_safe_globals([dict])
    with ser.safe_globals([list, (set, "builtins.set")]):
        assert ser.get_safe_globals() == [dict, list, (set, "builtins.set")]
    assert ser.get_safe_globals() == [dict]
    ser.clear_safe_globals()
    assert ser.get_safe_globals() == []
    with pytest.raises(TypeError, match="safe_globals must be a list"):
        ser.add_safe_globals(dict)


# ---------------------------------------------------------------------------------------------------------------
# whole modules (torch.save(model) / torch.load with safe_globals, as PyTorch's example programs do)
# ---------------------------------------------------------------------------------------------------------------
class TinyLM(minitorch.nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = minitorch.nn.Embedding(7, 4)
        self.rnn = minitorch.nn.LSTM(4, 5, num_layers=2)
        self.drop = minitorch.nn.Dropout(0.3)
        self.head = minitorch.nn.Linear(5, 7)
        self.also_head = self.head  # one module under two names stays one module
        self.act = minitorch.nn.functional.relu
        self.kinds = {"lstm", "tied"}
        self.ntoken = 7

    def forward(self, x):
        out, _ = self.rnn(self.drop(self.embed(x)))
        return self.head(self.act(out))


def test_whole_module_round_trip_needs_its_class_allowed(tmp_path):
    minitorch.manual_seed(0)
    model = TinyLM().eval()
    x = minitorch.tensor([[1, 2], [3, 4], [5, 6]])
    want = model(x).detach().numpy()
    path = tmp_path / "model.pt"
    save(model, path)
    with pytest.raises(pickle.UnpicklingError, match="TinyLM, which is not an allowed global"):
        load(path)
    with minitorch.serialization.safe_globals([TinyLM]):
        back = load(path)
    assert minitorch.serialization.get_safe_globals() == []
    assert type(back) is TinyLM and back is not model and not back.training
    np.testing.assert_array_equal(back(x).detach().numpy(), want)
    assert back.also_head is back.head and back.act is minitorch.nn.functional.relu
    assert back.kinds == {"lstm", "tied"} and back.ntoken == 7
    assert [n for n, _ in back.named_parameters()] == [n for n, _ in model.named_parameters()]
    assert all(type(p).__name__ == "Parameter" and p.requires_grad for p in back.parameters())
    # the LSTM's flat weight list holds the very parameters the module registers
    assert all(a is b for a, b in zip(back.rnn._flat_weights, back.rnn.parameters()))
    # it trains on: gradients reach every parameter
    back.train()
    back(x).sum().backward()
    assert all(p.grad is not None for p in back.parameters())
    assert type(load(path, weights_only=False)) is TinyLM


@pytest.mark.parametrize("structure", ['{"obj": "os:system", "id": 0, "state": {"dict": []}}',
                                       '{"global": "subprocess:call"}'])
def test_forged_globals_are_refused_before_import(tmp_path, structure):
    import sys
    sys.modules.pop("this_module_must_not_be_imported", None)
    with pytest.raises(pickle.UnpicklingError, match="not an allowed global"):
        load(_forged(tmp_path, structure))
    path = _forged(tmp_path, '{"obj": "this_module_must_not_be_imported:X", "id": 0, "state": {"dict": []}}')
    with pytest.raises(pickle.UnpicklingError):
        load(path)
    assert "this_module_must_not_be_imported" not in sys.modules


def test_forged_object_references(tmp_path):
    with pytest.raises(RuntimeError, match="a reference to object 3 that comes before it"):
        load(_forged(tmp_path, '{"ref": 3}'))
    with pytest.raises(RuntimeError, match="is not 'module:qualname'"):
        load(_forged(tmp_path, '{"global": "os.system"}'))
