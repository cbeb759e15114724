"""Every registered device provides every kernel module and public function that the CPU's kernel package has.

Read from the source files, so it runs (and fails) on machines where a device's kernels cannot be imported."""
import ast
import importlib.util
import os

import pytest

import minitorch


def public_names(path):
    """Top-level public functions and aliases (``take_par = take``, ``sgd_step_par = _par(sgd_step)``) of a kernel
    module."""
    tree = ast.parse(open(path).read())
    names = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name) and not target.id.startswith("_") and not target.id.isupper() \
                        and isinstance(node.value, (ast.Name, ast.Lambda, ast.Call)):
                    names.add(target.id)
    return names


def package_dir(device_type):
    spec = importlib.util.find_spec(minitorch.dispatch._REGISTRY[device_type].rsplit(".", 1)[0])
    root = os.path.dirname(spec.origin)
    return os.path.join(root, device_type)


CPU = package_dir("cpu")
MODULES = sorted(f[:-3] for f in os.listdir(CPU) if f.endswith(".py") and not f.startswith("_"))


def test_the_cpu_package_is_found():
    assert {"elementwise", "reduce", "matmul", "index", "memory", "conv", "pool", "optim", "random"} <= set(MODULES)
    assert {"reduce_inner", "reduce_outer", "argreduce", "scan"} <= public_names(os.path.join(CPU, "reduce.py"))


@pytest.mark.parametrize("device_type", [d for d in minitorch.dispatch.registered() if d != "cpu"])
@pytest.mark.parametrize("module", MODULES)
def test_every_device_has_every_cpu_kernel(device_type, module):
    path = os.path.join(package_dir(device_type), module + ".py")
    assert os.path.exists(path), f"kernels/{device_type} has no {module}.py"
    missing = public_names(os.path.join(CPU, module + ".py")) - public_names(path)
    assert not missing, f"kernels/{device_type}/{module}.py lacks {sorted(missing)}"


def test_every_subpackage_is_listed_for_installation():
    """A package folder missing from pyproject's list imports from a source checkout but not from a wheel."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with open(os.path.join(root, "pyproject.toml"), "rb") as f:
        listed = set(tomllib.load(f)["tool"]["setuptools"]["packages"])
    found = set()
    for base, prefix in (("minitorch", "minitorch"), ("kernels", "minitorch.kernels")):
        for dirpath, _, files in os.walk(os.path.join(root, base)):
            if "__init__.py" in files:
                rel = os.path.relpath(dirpath, os.path.join(root, base))
                found.add(prefix if rel == "." else prefix + "." + rel.replace(os.sep, "."))
    assert found <= listed, f"add {sorted(found - listed)} to [tool.setuptools] packages in pyproject.toml"
