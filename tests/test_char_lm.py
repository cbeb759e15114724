"""Smoke tests for examples/char_lm.py: both models train a few steps at tiny sizes, save, plot and sample."""
import importlib.util
import math
import os

import numpy as np
import pytest

import minitorch

EXAMPLES = os.path.join(os.path.dirname(__file__), os.pardir, "examples")


def load_char_lm():
    spec = importlib.util.spec_from_file_location("char_lm", os.path.join(EXAMPLES, "char_lm.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


TINY = {"gpt": ["--width", "16", "--heads", "2", "--layers", "1"], "lstm": ["--width", "24", "--layers", "2"]}


@pytest.mark.parametrize("model", ["gpt", "lstm"])
def test_char_lm_trains_saves_and_samples(model, tmp_path, capsys):
    mod = load_char_lm()
    out = tmp_path / "run"
    res = mod.main(["--model", model, "--steps", "40", "--batch-size", "8", "--context", "16", "--lr", "1e-2",
                    "--eval-interval", "20", "--eval-iters", "2", "--max-chars", "20000", "--sample-len", "20",
                    "--out", str(out)] + TINY[model])
    printed = capsys.readouterr().out
    assert "standard library" in printed and "unigram entropy" in printed

    # a 96-ish character vocabulary starts near log(V) nats; 40 steps get well below it
    first, last = np.mean(res["train_losses"][:5]), np.mean(res["train_losses"][-5:])
    assert last < first - 0.5, (first, last)
    assert len(res["val_losses"]) == 2 and res["val_losses"][1] < res["val_losses"][0]
    assert all(math.isfinite(v) for v in res["val_losses"])

    text, _ = mod.stdlib_text(20000)
    counts = np.unique(np.array(list(text)), return_counts=True)[1] / len(text)
    assert res["entropy"] == pytest.approx(-(counts * np.log(counts)).sum(), rel=1e-9)

    ckpt = minitorch.load(res["checkpoint"])
    assert set(ckpt) == {"model", "optimizer", "vocab", "args"}
    assert ckpt["vocab"] == "".join(sorted(set(text)))
    vocab = len(ckpt["vocab"])
    fresh = (mod.GPT(vocab, 16, 16, 1, 2) if model == "gpt" else mod.LSTMLM(vocab, 24, 2))
    fresh.load_state_dict(ckpt["model"])  # same keys and shapes
    assert ckpt["optimizer"]["state"] and ckpt["optimizer"]["param_groups"][0]["lr"] == pytest.approx(1e-2)

    sample = printed.split("--- sample")[1].split("\n", 1)[1].split("\n---")[0]
    assert sample.startswith("def ") and len(sample) == 4 + 20
    try:
        import matplotlib  # noqa: F401
        assert os.path.getsize(res["plot"]) > 0
    except ImportError:
        pass


def test_char_lm_reads_a_text_file_and_rejects_a_too_short_one(tmp_path, capsys):
    mod = load_char_lm()
    path = tmp_path / "abc.txt"
    path.write_text("abcab" * 200)
    res = mod.main(["--text", str(path), "--model", "lstm", "--steps", "2", "--batch-size", "2", "--context", "8",
                    "--width", "8", "--eval-interval", "1", "--eval-iters", "1", "--sample-len", "3",
                    "--prompt", "xyz", "--out", str(tmp_path / "run")])
    assert f"data: {path}: 1,000 characters (900 train / 100 validation), vocabulary 3" in capsys.readouterr().out
    assert res["entropy"] == pytest.approx(-(0.4 * math.log(0.4) * 2 + 0.2 * math.log(0.2)))
    assert len(res["val_losses"]) == 2
    path.write_text("abc" * 20)
    with pytest.raises(SystemExit, match="too short for --context 8"):
        mod.main(["--text", str(path), "--context", "8", "--out", str(tmp_path / "run2")])


@pytest.mark.cuda
@pytest.mark.parametrize("model", ["gpt", "lstm"])
def test_char_lm_runs_on_cuda(model, tmp_path, capsys):
    """Two steps of a very narrow model with --device cuda: the simulator runs every CUDA thread as a Python thread."""
    if "cuda" not in minitorch.dispatch.available():
        pytest.skip("no CUDA device (run with NUMBA_ENABLE_CUDASIM=1 for the simulator)")
    mod = load_char_lm()
    res = mod.main(["--model", model, "--device", "cuda", "--steps", "2", "--batch-size", "2", "--context", "4",
                    "--width", "4", "--heads", "1", "--layers", "1", "--eval-interval", "2", "--eval-iters", "1",
                    "--max-chars", "2000", "--sample-len", "2", "--out", str(tmp_path / "run")])
    assert "device: cuda" in capsys.readouterr().out
    assert all(math.isfinite(v) for v in res["train_losses"] + res["val_losses"])
    state = minitorch.load(res["checkpoint"])["model"]
    assert {w.device.type for w in state.values()} == {"cuda"}
