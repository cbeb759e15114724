"""pytest plugin: record the argument types of every CUDA-simulator kernel launch, for ``ptx_compile.py``.

The simulator runs kernels as Python, so it never types them: a kernel that Numba's CUDA target cannot compile
still passes there. Without a GPU, record the launches and compile them to PTX:

    NUMBA_ENABLE_CUDASIM=1 HYPOTHESIS_PROFILE=sim PYTHONPATH=.ci python -m pytest -q -p ptx_signatures -m cuda tests/...
    python .ci/ptx_compile.py kernels/cuda      # compiles every recorded signature for sm_90; lists failures

Each pytest process writes /tmp/ptxrec_<pid>.json.
"""
import json
import os

import numpy as np
from numba.cuda.simulator import kernel as K

_rec = set()
_orig = K.FakeCUDAKernel.__call__


def _ty(a):
    arr = getattr(a, "_ary", None)
    if arr is None and isinstance(a, np.ndarray):
        arr = a
    if arr is not None:
        return ["A", str(arr.dtype), arr.ndim, "C" if arr.flags.c_contiguous else "A"]
    if isinstance(a, (bool, np.bool_)):
        return ["S", "bool"]
    if isinstance(a, int):
        return ["S", "int64"]
    if isinstance(a, float):
        return ["S", "float64"]
    if isinstance(a, (np.integer, np.floating)):
        return ["S", str(np.dtype(type(a)))]
    if isinstance(a, tuple) and all(isinstance(v, int) for v in a):
        return ["T", "int64", len(a)]
    return ["?", type(a).__name__]


def _call(self, *args):
    if not self._device:
        _rec.add(json.dumps([self.fn.__module__, self.fn.__name__, [_ty(a) for a in args]]))
    return _orig(self, *args)


K.FakeCUDAKernel.__call__ = _call


def pytest_sessionfinish(session):
    with open(f"/tmp/ptxrec_{os.getpid()}.json", "w") as f:
        json.dump(sorted(_rec), f)
