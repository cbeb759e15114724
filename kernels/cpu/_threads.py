"""Numba's threading layer for the CPU kernels: Intel TBB when its library is installed, so that processes forked
after the parent ran parallel kernels (Hogwild workers, DataLoader workers) can run them too.

Numba tries TBB first, then GNU OpenMP, then its workqueue. GNU OpenMP's thread pool cannot be used in a forked
child once the parent used it (the child dies at its first parallel kernel); TBB can, and launches about as fast
(measured here: ~6-8 us per launch for both under load, workqueue ~18 us). The ``tbb`` wheel puts ``libtbb.so.12``
in the environment's ``lib`` folder, where Numba's TBB pool does not look (its extension has no rpath), so it is
loaded here before the first parallel launch. Nothing is done when ``NUMBA_THREADING_LAYER`` is set, with
``MINITORCH_TBB=0``, or off Linux; without the library Numba keeps its own choice (GNU OpenMP).
"""
import ctypes
import glob
import os
import sys


def _preload_tbb():
    """Load libtbb.so.12 from this environment's lib folder; returns its path, or None."""
    if os.environ.get("NUMBA_THREADING_LAYER") or os.environ.get("MINITORCH_TBB", "1") == "0" \
            or not sys.platform.startswith("linux"):
        return None
    for prefix in dict.fromkeys((sys.prefix, sys.base_prefix, os.path.dirname(os.path.dirname(sys.executable)))):
        for path in sorted(glob.glob(os.path.join(prefix, "lib", "libtbb.so.12*"))):
            try:
                ctypes.CDLL(path, mode=ctypes.RTLD_GLOBAL)
                return path
            except OSError:
                continue
    return None


TBB = _preload_tbb()


_GETTER = []


def num_threads():
    """``numba.get_num_threads()`` for launchers, without its two lock acquisitions per call (~560 ns -> ~90 ns
    here, paid by every launch that sizes a split): the first call starts the pool through Numba, later calls read
    the threading layer's own count directly (per thread, so ``numba.set_num_threads`` is followed as before)."""
    if _GETTER:
        return _GETTER[0]()
    import numba
    n = numba.get_num_threads()
    try:
        from numba.np.ufunc import parallel
        getter = parallel._get_num_threads
        if getter() == n:
            _GETTER.append(getter)
    except (ImportError, AttributeError, TypeError):  # another Numba: keep its public function
        _GETTER.append(numba.get_num_threads)
    return n
