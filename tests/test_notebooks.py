"""Every notebook in examples/ runs top to bottom in a real Jupyter kernel and shows what its text promises.

The kernel is ipykernel on this test's own interpreter (a kernelspec written for the test, so a `python3`
kernelspec elsewhere on the machine cannot swap in another Python). Cells are found by their tags:
``plot-*`` cells must render a PNG, an ``accuracy`` cell prints ``test accuracy: X%`` above the bar the
notebook's text states ("more than **N%**"), a ``reload`` cell prints the same accuracy again, an ``lm-loss``
cell prints a validation loss as far below the unigram entropy as the text promises, a ``module-repr`` cell
shows the module as PyTorch prints the same code, and a ``train`` cell draws a tqdm bar.
CPU only: the notebooks train on the CPU (no ``device`` fixture, so no cuda marker).
"""
import base64
import glob
import importlib.util
import json
import os
import re
import sys

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

EXAMPLES = os.path.normpath(os.path.join(os.path.dirname(__file__), os.pardir, "examples"))
NOTEBOOKS = sorted(glob.glob(os.path.join(EXAMPLES, "*.ipynb")))
# a cold Numba cache compiles every kernel the training cell touches (~15 s here; much more on a loaded machine)
CELL_TIMEOUT = 600
PROBE = "import sys; print('kernel python:', sys.executable)"


def test_notebooks_are_stored_without_outputs():
    """The repository keeps the notebooks as sources: outputs (figures are large PNGs) are cleared."""
    assert any(os.path.basename(p) == "quickstart.ipynb" for p in NOTEBOOKS), NOTEBOOKS
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        kept = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and (c.outputs or c.execution_count)]
        assert not kept, f"{os.path.basename(path)}: cells {kept} have outputs; clear them before committing"


def _kernel_manager(tmp_path):
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    spec = tmp_path / "kernels" / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (test)", "language": "python"}))
    specs = KernelSpecManager(kernel_dirs=[str(tmp_path / "kernels")], ensure_native_kernel=False)
    return KernelManager(kernel_name="python3", kernel_spec_manager=specs)


def _text(cell):
    """Everything a code cell printed or returned, as text."""
    parts = []
    for out in cell.get("outputs", []):
        if out.output_type == "stream":
            parts.append(out.text)
        elif out.output_type in ("execute_result", "display_data"):
            parts.append(out.data.get("text/plain", ""))
    return "".join(parts)


def _tagged(nb, tag):
    return [c for c in nb.cells if c.cell_type == "code" and tag in c.metadata.get("tags", [])]


def _run(path, tmp_path, monkeypatch):
    # the kernel inherits this environment: a forced Agg backend would stop the inline figures from rendering
    monkeypatch.delenv("MPLBACKEND", raising=False)
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(PROBE, metadata={"tags": ["test-probe"]}))
    client = nbclient.NotebookClient(nb, km=_kernel_manager(tmp_path), kernel_name="python3",
                                     timeout=CELL_TIMEOUT, resources={"metadata": {"path": EXAMPLES}})
    failure = None
    try:
        client.execute()
    except nbclient.exceptions.CellExecutionError as e:  # its message holds the cell's source and traceback
        failure = re.sub(r"\x1b\[[0-9;]*m", "", str(e))  # IPython colours its tracebacks
    if failure:  # failed outside the except block, so pytest does not print the coloured original first
        pytest.fail(f"{os.path.basename(path)} failed:\n{failure}", pytrace=False)
    return nb


@pytest.mark.parametrize("path", NOTEBOOKS, ids=os.path.basename)
def test_notebook_runs_and_keeps_its_promises(path, tmp_path, monkeypatch):
    """One test per notebook (under pytest-xdist a second test could run it again in another worker)."""
    nb = _run(path, tmp_path, monkeypatch)
    name = os.path.basename(path)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.get("execution_count") for c in code), f"{name}: a cell did not run"
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors, "\n".join("\n".join(o.traceback) for o in errors)
    assert _text(code[-1]).strip() == f"kernel python: {sys.executable}"

    plots = [c for c in code if any(t.startswith("plot-") for t in c.metadata.get("tags", []))]
    for cell in plots:
        pngs = [o.data["image/png"] for o in cell.outputs
                if o.output_type in ("display_data", "execute_result") and "image/png" in o.data]
        assert len(pngs) == 1, f"{name}: cell {cell.metadata['tags']} rendered {len(pngs)} figures:\n{cell.source}"
        raw = base64.b64decode(pngs[0])
        assert raw.startswith(b"\x89PNG\r\n\x1a\n") and len(raw) > 5000, f"{name}: {cell.metadata['tags']}"

    for cell in _tagged(nb, "accuracy"):
        prose = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
        bar = re.search(r"more than \*\*(\d+(?:\.\d+)?)%\*\*", prose)
        assert bar, f"{name}: the text does not state the accuracy bar (as 'more than **N%**')"
        acc = re.search(r"^test accuracy: (\d+\.\d+)%$", _text(cell), re.M)
        assert acc, f"{name}: no 'test accuracy: X%' line in\n{_text(cell)}"
        assert float(acc.group(1)) > float(bar.group(1)), f"{name}: {acc.group(0)}, promised > {bar.group(1)}%"
        for again in _tagged(nb, "reload"):
            assert f"reloaded test accuracy: {acc.group(1)}%" in _text(again), _text(again)

    for cell in _tagged(nb, "lm-loss"):
        prose = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
        margin = re.search(r"at least \*\*(\d+(?:\.\d+)?) nats/char\*\* below the unigram entropy", prose)
        assert margin, f"{name}: the text does not state the margin (as 'at least **N nats/char** below ...')"
        got = re.search(r"validation loss (\d+\.\d+) nats/char, (-?\d+\.\d+) below the unigram entropy", _text(cell))
        assert got, f"{name}: no validation-loss line in\n{_text(cell)}"
        assert float(got.group(2)) > float(margin.group(1)), f"{name}: {got.group(0)}, promised > {margin.group(1)}"

    for cell in _tagged(nb, "train"):
        bar_shown = "100%|" in _text(cell) or any(
            "application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in cell.outputs)
        assert bar_shown, f"{name}: the training cell drew no finished tqdm bar:\n{_text(cell)[-2000:]}"

    for cell in _tagged(nb, "module-repr"):
        _check_repr_as_pytorch(name, cell)


def _check_repr_as_pytorch(name, cell):
    """The cell's own code run with PyTorch's nn prints exactly what the notebook showed (when torch is here)."""
    if importlib.util.find_spec("torch") is None:
        return
    import torch
    *body, last = cell.source.rstrip().splitlines()
    scope = {"torch": torch, "nn": torch.nn, "F": torch.nn.functional}
    exec("\n".join(body), scope)
    expected = repr(eval(last, scope))
    shown = [o.data["text/plain"] for o in cell.outputs if o.output_type == "execute_result"]
    assert shown == [expected], f"{name}: the module-repr cell differs from PyTorch's print of the same code"
