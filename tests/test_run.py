"""python -m minitorch.run: unmodified PyTorch scripts run with torch/torchvision imports resolved to minitorch."""
import subprocess
import sys
import textwrap

import pytest

import minitorch
import minitorch.run as mrun


def run_script(tmp_path, body, *args):
    script = tmp_path / "prog.py"
    script.write_text(textwrap.dedent(body))
    return subprocess.run([sys.executable, "-m", "minitorch.run", str(script), *args], capture_output=True,
                          text=True, cwd=tmp_path, timeout=300)


def test_imports_resolve_to_minitorch_and_arguments_pass_through(tmp_path):
    r = run_script(tmp_path, """
        import sys
        import torch
        import torch.nn as nn
        import torch.nn.functional as F
        from torch.utils.data import DataLoader
        from torchvision import datasets, transforms
        import torchvision.transforms as T
        print(torch.__name__, nn.__name__, F.__name__, DataLoader.__module__.split(".")[0])
        print(datasets.__name__, T.__name__)
        print(sys.argv[1:], __name__)
        x = torch.ones(2, 3)
        print(type(x).__module__, (x * 2).sum().item())
    """, "--epochs", "3")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "minitorch minitorch.nn minitorch.nn.functional minitorch"
    assert lines[1] == "minitorch.vision.datasets minitorch.vision.transforms"
    assert lines[2] == "['--epochs', '3'] __main__"
    assert lines[3] == "minitorch 12.0"


def test_exit_status_and_missing_names(tmp_path):
    assert run_script(tmp_path, "import sys; sys.exit(3)").returncode == 3
    r = run_script(tmp_path, "import torch.no_such_module")
    assert r.returncode != 0
    assert "ModuleNotFoundError: No module named 'torch.no_such_module'" in r.stderr
    r = run_script(tmp_path, "import torch\ntorch.no_such_function(1)")
    assert "AttributeError" in r.stderr and "no_such_function" in r.stderr
    r = run_script(tmp_path, "from torch import no_such_name")
    assert "ImportError: cannot import name 'no_such_name'" in r.stderr


def test_functorch_resolves_to_minitorch_and_its_cond(tmp_path):
    r = run_script(tmp_path, """
        from functorch.experimental.control_flow import cond
        import functorch
        import torch
        print(functorch.__name__, cond is torch.cond)
        print(cond(torch.tensor(True), lambda y: y + 1, lambda y: y - 1, (torch.zeros(2),)).tolist())
        functorch.vmap
    """)
    assert r.stdout.splitlines() == ["minitorch.functorch True", "[1.0, 1.0]"]
    assert "AttributeError" in r.stderr and "vmap" in r.stderr  # a transform minitorch lacks: a clear error


def test_module_form_and_usage(tmp_path):
    (tmp_path / "pkgmod.py").write_text("import torch\nprint('ran', torch.__name__)\n")
    r = subprocess.run([sys.executable, "-m", "minitorch.run", "-m", "pkgmod"], capture_output=True, text=True,
                       cwd=tmp_path, timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "ran minitorch"
    r = subprocess.run([sys.executable, "-m", "minitorch.run"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and "usage" in r.stderr
    with pytest.raises(FileNotFoundError, match="no_such_script.py"):
        mrun.main([str(tmp_path / "no_such_script.py")])


def test_main_in_process_restores_the_import_system(tmp_path):
    script = tmp_path / "inproc.py"
    script.write_text("import torch\nRESULT = torch.__name__\nimport sys\nsys.exit(0 if RESULT == 'minitorch' else 5)\n")
    before = list(sys.meta_path)
    assert mrun.main([str(script)]) == 0
    assert sys.meta_path == before
    assert "torch" not in sys.modules or sys.modules["torch"] is not minitorch
    assert minitorch.__spec__.name == "minitorch"  # the alias did not rename the package


def test_a_real_torch_is_left_alone_after_uninstall():
    pytest.importorskip("torch")
    mrun.install()
    try:
        import torch as aliased
        assert aliased is minitorch
    finally:
        mrun.uninstall()
    import torch as real
    assert real is not minitorch and hasattr(real, "_C")


def test_pytorch_script_calling_torch_compile_runs_and_matches_eager(tmp_path):
    # a nanoGPT-style loop: torch.compile(model), AdamW, a logging .item() each step, the compiled module's
    # _orig_mod for checkpointing
    body = """
        import sys
        import torch
        import torch.nn as nn
        import torch.nn.functional as F
        torch.manual_seed(0)
        model = nn.Sequential(nn.Embedding(32, 16), nn.LayerNorm(16), nn.Linear(16, 64), nn.GELU(),
                              nn.Linear(64, 32))
        if sys.argv[1] == "compile":
            model = torch.compile(model)
        opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
        g = torch.Generator().manual_seed(1)
        for step in range(5):
            x = torch.randint(0, 32, (4, 8), generator=g)
            logits = model(x)
            loss = F.cross_entropy(logits.view(-1, 32), x.view(-1))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            print(f"{loss.item():.6f}")
        sd = getattr(model, "_orig_mod", model).state_dict()
        print(sorted(sd)[0], type(model).__name__)
    """
    eager = run_script(tmp_path, body, "eager")
    compiled = run_script(tmp_path, body, "compile")
    assert eager.returncode == 0 and compiled.returncode == 0, eager.stderr + compiled.stderr
    e, c = eager.stdout.splitlines(), compiled.stdout.splitlines()
    assert c[:5] == e[:5] and len(set(e[:5])) == 5
    assert e[5] == "0.weight Sequential" and c[5] == "0.weight OptimizedModule"
