"""The on-disk kernel cache is stamped with the whole kernel tree (kernels/__init__.py says why)."""
import os

from numba.core.registry import CPUDispatcher

from minitorch import kernels
from minitorch.kernels import cpu


def _write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def test_tree_stamp_follows_every_source_file_and_nothing_else(tmp_path):
    root = str(tmp_path)
    _write(os.path.join(root, "a.py"), "x = 1\n")
    _write(os.path.join(root, "sub", "b.py"), "y = 2\n")
    first = kernels.tree_stamp(root)
    assert first == kernels.tree_stamp(root)
    _write(os.path.join(root, "__pycache__", "a.cpython.nbi"), "index")  # cache files and other files: no change
    _write(os.path.join(root, "sub", "notes.txt"), "text")
    assert kernels.tree_stamp(root) == first
    _write(os.path.join(root, "sub", "b.py"), "y = 3\n")  # an edit in another file than the kernel's own
    edited = kernels.tree_stamp(root)
    assert edited != first
    _write(os.path.join(root, "sub", "c.py"), "")  # a new (even empty) file
    assert kernels.tree_stamp(root) not in (first, edited)
    os.rename(os.path.join(root, "sub", "c.py"), os.path.join(root, "d.py"))  # a file moved
    assert len({first, edited, kernels.tree_stamp(root)}) == 3


def test_cached_cpu_kernels_are_stamped_with_the_whole_tree():
    seen = 0
    for mod in (cpu.matmul, cpu.conv, cpu.rnn, cpu.reduce, cpu.elementwise, cpu.attention):
        for name, fn in vars(mod).items():
            if isinstance(fn, CPUDispatcher) and fn._cache.__class__.__name__ != "NullCache":
                locator = fn._cache._impl._locator
                assert type(locator).__name__.startswith("WholeTree"), name
                assert locator.get_source_stamp() == kernels.tree_stamp(kernels.ROOT)
                seen += 1
    assert seen > 20
