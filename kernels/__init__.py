"""Numba kernels for minitorch: arrays in, arrays out.

Installed as ``minitorch.kernels``. Each device has a sub-package (``cpu``, later ``cuda``) exposing the same
module and function names; ``minitorch.dispatch`` picks the package for a tensor's device.

Cached kernels (``cache=True``) are stamped with a hash of every kernel source file, not only their own: Numba's
own stamp is its file's content, but a kernel compiles in the helpers and overloads it calls from other files (the
BLAS call of ``cpu/_blas.py`` is inlined into the GEMM, conv and RNN kernels), so after an edit or an upgrade of one
file the kernels of the others would load from the cache with the old code in them. With the stamp over the whole
tree, any change to a kernel file recompiles every cached kernel once. The cache stays where Numba puts it
(``NUMBA_CACHE_DIR``, else ``__pycache__`` beside the source, else the user-wide cache directory); the locators
added to Numba claim this package's files only.
"""
import hashlib
import os

from numba.core import caching as _caching

ROOT = os.path.dirname(os.path.abspath(__file__))


def tree_stamp(root):
    """sha256 (hex) of the relative paths and contents of every ``.py`` file under ``root`` (``__pycache__``
    skipped), in a fixed order."""
    h = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for name in sorted(filenames):
            if name.endswith(".py"):
                path = os.path.join(dirpath, name)
                h.update(os.path.relpath(path, root).replace(os.sep, "/").encode() + b"\0")
                with open(path, "rb") as f:
                    h.update(f.read())
                h.update(b"\0")
    return h.hexdigest()


_STAMP = []


def source_stamp():
    """The stamp of this package's sources, computed once per process (when the first cached kernel loads)."""
    if not _STAMP:
        _STAMP.append(tree_stamp(ROOT))
    return _STAMP[0]


def _whole_tree(base):
    class Locator(base):
        @classmethod
        def from_function(cls, py_func, py_file):
            if not os.path.abspath(py_file).startswith(ROOT + os.sep):
                return None
            return super().from_function(py_func, py_file)

        def get_source_stamp(self):
            return source_stamp()
    Locator.__name__ = Locator.__qualname__ = "WholeTree" + base.__name__
    return Locator


LOCATORS = tuple(_whole_tree(base) for base in (_caching.UserProvidedCacheLocator, _caching.InTreeCacheLocator,
                                                  _caching.UserWideCacheLocator))
# the list Numba tries in order (CacheImpl, _CacheImpl before Numba 0.61; shared by the CUDA cache's subclass)
_IMPL = getattr(_caching, "CacheImpl", None) or getattr(_caching, "_CacheImpl", None)
_LIST = getattr(_IMPL, "_locator_classes", None)
if isinstance(_LIST, list) and not any(c.__name__.startswith("WholeTree") for c in _LIST):
    _LIST[:0] = LOCATORS
