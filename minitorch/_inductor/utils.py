"""``torch._inductor.utils``: ``fresh_inductor_cache``."""
import contextlib
import os
import shutil
import sys
import tempfile

from ..compiler import codegen

__all__ = ["fresh_inductor_cache"]


@contextlib.contextmanager
def fresh_inductor_cache(cache_entries=None, dir=None, delete=True):  # noqa: A002
    """Inside the block, compiled kernels are generated into an empty temporary cache folder and compiled again
    (neither the disk cache nor kernels already loaded by this process are used): what a first compile costs.
    ``cache_entries`` (a dict) receives each file written there with its size in bytes; ``dir`` is where the
    temporary folder goes; ``delete=False`` keeps it. Kernels loaded before the block are in use again after it."""
    folder = tempfile.mkdtemp(prefix="minitorch_compile_", dir=dir)
    before = os.environ.get("MINITORCH_COMPILE_CACHE")
    hidden = {name: sys.modules.pop(name) for name in list(codegen.LOADED) if name in sys.modules}
    os.environ["MINITORCH_COMPILE_CACHE"] = folder
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("MINITORCH_COMPILE_CACHE", None)
        else:
            os.environ["MINITORCH_COMPILE_CACHE"] = before
        for name in [n for n in codegen.LOADED if n not in hidden]:
            sys.modules.pop(name, None)  # loaded from the temporary folder: not reused from it afterwards
        codegen.LOADED.difference_update(n for n in list(codegen.LOADED) if n not in hidden)
        sys.modules.update(hidden)
        if cache_entries is not None:
            for root, _, files in os.walk(folder):
                for f in files:
                    path = os.path.join(root, f)
                    cache_entries[os.path.relpath(path, folder)] = os.path.getsize(path)
        if delete:
            shutil.rmtree(folder, ignore_errors=True)
