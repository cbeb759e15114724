"""Run a program written for PyTorch on minitorch, unchanged.

``python -m minitorch.run SCRIPT.py [ARGS...]`` (or ``python -m minitorch.run -m PACKAGE.MODULE [ARGS...]``) runs
the script as ``__main__`` with every ``torch`` import resolved to ``minitorch``, every ``torchvision`` import to
``minitorch.vision`` and ``functorch`` to ``minitorch.functorch``: ``import torch``, ``import torch.nn as nn``,
``from torch.utils.data import DataLoader``, ``from torchvision import datasets, transforms`` all give minitorch's
modules. The mapping is an import hook in this
process only; an installed PyTorch is neither imported nor changed.

A name minitorch lacks fails as it would in any script: ``import torch.foo`` raises ModuleNotFoundError naming
``torch.foo`` (and the minitorch module it looked for), ``torch.foo(...)`` raises AttributeError naming ``foo``.

From Python, ``minitorch.run.main(["script.py", "--epochs", "1"])`` does the same and removes the hook when the
script ends; ``install()`` and ``uninstall()`` switch it on and off around code of your own.
"""
import importlib
import importlib.abc
import importlib.machinery
import os
import runpy
import sys

__all__ = ["main", "install", "uninstall", "ALIASES"]

# The first matching prefix wins: ``torchvision`` must not be read as ``torch`` + ``vision``.
ALIASES = (
    ("torchvision", "minitorch.vision"),
    ("torch", "minitorch"),
    ("functorch", "minitorch.functorch"),
)


def _target(fullname):
    for src, dst in ALIASES:
        if fullname == src:
            return dst
        if fullname.startswith(src + "."):
            return dst + fullname[len(src):]
    return None


class _AliasLoader(importlib.abc.Loader):
    """Hands out the already-imported minitorch module under the torch name."""

    def __init__(self, module):
        self._module = module
        self._spec = module.__spec__

    def create_module(self, spec):
        return self._module

    def exec_module(self, module):
        module.__spec__ = self._spec  # the import system stamped the alias spec on it; minitorch keeps its own


class _TorchAliasFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        real = _target(fullname)
        if real is None:
            return None
        try:
            module = importlib.import_module(real)
        except ModuleNotFoundError as e:
            if e.name is not None and real.startswith(e.name) and e.name.startswith("minitorch"):
                raise ModuleNotFoundError(
                    f"No module named '{fullname}' (minitorch.run maps it to '{real}', which minitorch does not "
                    f"have)", name=fullname) from None
            raise
        # is_package keeps `import torch.nn.functional` working through the alias of `torch.nn`
        spec = importlib.machinery.ModuleSpec(fullname, _AliasLoader(module),
                                              is_package=hasattr(module, "__path__"))
        return spec


_FINDER = _TorchAliasFinder()


_SAVED = {}  # modules named torch* / torchvision* that were imported before install()


def install():
    """Resolve ``torch``/``torchvision`` imports to minitorch from now on (in this process)."""
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)
    for name in [n for n in sys.modules if _target(n) is not None]:
        module = sys.modules.pop(name)  # a real torch imported earlier would otherwise win
        if not getattr(module, "__name__", "").startswith("minitorch"):
            _SAVED[name] = module


def uninstall():
    """Undo ``install``: ``torch`` is again whatever it was before (the real PyTorch, if it is installed)."""
    if _FINDER in sys.meta_path:
        sys.meta_path.remove(_FINDER)
    for name in [n for n in sys.modules if _target(n) is not None]:
        if getattr(sys.modules[name], "__name__", "").startswith("minitorch"):
            del sys.modules[name]
    sys.modules.update(_SAVED)  # never import PyTorch's C extension twice
    _SAVED.clear()


_USAGE = ("usage: python -m minitorch.run SCRIPT.py [ARGS...]\n"
          "       python -m minitorch.run -m MODULE [ARGS...]\n"
          "Runs a PyTorch program with its torch/torchvision imports resolved to minitorch.")


def main(argv=None):
    """Run ``argv[0]`` (a script path, or ``-m MODULE``) as ``__main__`` with ``argv[1:]`` as its arguments.

    Returns the script's exit status (0 when it ends normally, the code of a ``SystemExit`` otherwise); other
    exceptions propagate with the script's own traceback. The import hook is removed again when it returns.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(_USAGE, file=sys.stderr if not argv else sys.stdout)
        return 2 if not argv else 0
    as_module = argv[0] == "-m"
    if as_module:
        if len(argv) < 2:
            print(_USAGE, file=sys.stderr)
            return 2
        target, args = argv[1], argv[2:]
    else:
        target, args = argv[0], argv[1:]
        if not os.path.exists(target):
            raise FileNotFoundError(f"minitorch.run: can't open file '{target}': no such file")
    import minitorch  # noqa: F401  (imported before the hook so its own imports are untouched)
    saved_argv, saved_path0 = sys.argv, sys.path[0] if sys.path else None
    install()
    restore_spawn = _spawn_children_through_hook(target if as_module else os.path.abspath(target), as_module)
    try:
        if as_module:
            sys.argv = [target] + args
            sys.path.insert(0, os.getcwd())
            runpy.run_module(target, run_name="__main__", alter_sys=True)
        else:
            sys.argv = [target] + args
            sys.path.insert(0, os.path.dirname(os.path.abspath(target)))
            runpy.run_path(target, run_name="__main__")
    except SystemExit as e:
        code = e.code
        if code is None:
            return 0
        if isinstance(code, int):
            return code
        print(code, file=sys.stderr)
        return 1
    finally:
        restore_spawn()
        uninstall()
        sys.argv = saved_argv
        if sys.path and saved_path0 is not None and sys.path[0] != saved_path0:
            sys.path.pop(0)
    return 0


# ---------------------------------------------------------------------------------------------------------------
# processes that multiprocessing spawns from the script (``set_start_method("spawn")``, DataLoader workers with a
# spawn context) start a fresh interpreter that re-imports the script as ``__mp_main__``: they must do so through the
# hook too. While the script runs, the spawn preparation names this module as the child's main module, and the
# child's copy of it (``__name__ == "__mp_main__"``) installs the hook and runs the script, whose definitions then
# make up the child's ``__main__`` as usual.
# ---------------------------------------------------------------------------------------------------------------
_CHILD_ENV = "MINITORCH_RUN_MAIN"  # "path:<script>" or "module:<name>", inherited by spawned children


def _spawn_children_through_hook(target, as_module):
    """Route the main module of processes spawned from now on through this module; returns the undo function."""
    from multiprocessing import spawn
    original = spawn.get_preparation_data
    saved_env = os.environ.get(_CHILD_ENV)

    def get_preparation_data(name):
        data = original(name)
        if "init_main_from_path" in data or "init_main_from_name" in data:
            data.pop("init_main_from_path", None)
            data["init_main_from_name"] = "minitorch.run"
        return data

    spawn.get_preparation_data = get_preparation_data
    os.environ[_CHILD_ENV] = ("module:" if as_module else "path:") + target

    def restore():
        spawn.get_preparation_data = original
        if saved_env is None:
            os.environ.pop(_CHILD_ENV, None)
        else:
            os.environ[_CHILD_ENV] = saved_env
    return restore


if __name__ == "__mp_main__" and os.environ.get(_CHILD_ENV):
    import minitorch  # noqa: F401
    install()
    _kind, _, _main_target = os.environ[_CHILD_ENV].partition(":")
    _spawn_children_through_hook(_main_target, _kind == "module")  # for the processes this child spawns in turn
    if _kind == "module":
        globals().update(runpy.run_module(_main_target, run_name="__mp_main__"))
    else:
        globals().update(runpy.run_path(_main_target, run_name="__mp_main__"))

if __name__ == "__main__":
    sys.exit(main())
