"""Shared test configuration: the hypothesis ``ci`` profile and the ``device`` fixture.

The ``device`` fixture comes from the dispatch registry, so a new device is tested by registering it; devices whose
kernels cannot load here (no GPU, no simulator) are skipped, not silently dropped.
"""
import os
import sys

import pytest
from hypothesis import HealthCheck, Phase, settings

import minitorch



def _speed_up_the_simulator():
    """The simulator runs each CUDA thread as a Python thread while the launching thread polls them, holding the GIL
    for a whole switch interval (5 ms) between polls; every syncthreads() waits out such a slice. A 0.5 ms interval
    made a two-step training run of the CNN example 3x faster (47 s -> 15 s).

    Switching that often exposes a race in the simulator's cuda.shared.array: each thread of a block looks the
    array up by its source line and creates it when missing, so two threads preempted between lookup and insert
    get different "shared" arrays (a reduction then returns garbage). The same lookup under a lock fixes it."""
    import threading

    import numpy as np
    from numba import types
    from numba.cuda.simulator import kernelapi
    from numba.np import numpy_support

    lock = threading.Lock()
    dynamic = kernelapi.FakeCUDAShared.array

    def array(self, shape, dtype):
        if shape == 0:
            return dynamic(self, shape, dtype)
        if isinstance(dtype, types.Type):
            dtype = numpy_support.as_dtype(dtype)
        caller = sys._getframe(1)
        key = (caller.f_code.co_filename, caller.f_lineno)  # one shared array per source line, as the simulator
        with lock:
            res = self._allocations.get(key)
            if res is None:
                res = self._allocations[key] = np.empty(shape, dtype)
        return res

    kernelapi.FakeCUDAShared.array = array
    sys.setswitchinterval(5e-4)


if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
    _speed_up_the_simulator()

# First calls of each kernel compile (seconds), so no per-example deadline; a modest number of examples keeps
# the suite to a few minutes. The "explain" phase traces coverage and makes every failing test slow, so it is off;
# failures still shrink to a minimal example. HYPOTHESIS_PROFILE=dev runs many more examples locally.
_PHASES = [Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink]
# "sim": a short profile for CUDA runs on Numba's simulator, where every kernel launch runs Python threads.
# The profiles build on hypothesis's "default" profile, not on whichever one is active: hypothesis loads its own
# derandomized "ci" profile where a CI variable is set, and the suite must draw the same examples here and there.
# "ci" and "sim" are derandomized (the same examples every run, so CI cannot fail on a draw nobody saw); "dev"
# draws fresh examples each run.
for _name, _examples, _fixed in (("ci", 25, True), ("dev", 200, False), ("sim", 2, True)):
    settings.register_profile(_name, parent=settings.get_profile("default"), deadline=None, max_examples=_examples,
                              phases=_PHASES, print_blob=True,
                              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
                              **({"derandomize": True, "database": None} if _fixed else {}))
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

_GIVEN_SETTINGS = {}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    """Hypothesis's pytest plugin wraps a parametrised test's settings in one more layer on every call, and reading
    an uncached setting walks all the layers: a test with a thousand parameters (the op table) then overflows the
    stack. Each call starts from the settings the first call had."""
    fn = getattr(item.obj, "__func__", item.obj)
    if hasattr(fn, "_hypothesis_internal_use_settings"):
        fn._hypothesis_internal_use_settings = _GIVEN_SETTINGS.setdefault(fn, fn._hypothesis_internal_use_settings)
    yield


@pytest.fixture(scope="session", params=minitorch.dispatch.registered())
def device(request):
    """Every registered device type; skipped where its kernels cannot run."""
    name = request.param
    if name not in minitorch.dispatch.available():
        pytest.skip(f"device type '{name}' is registered but not available here")
    return name


# On the simulator every CUDA thread is a Python thread, so CI time matters: the op-table checks that make hundreds of
# launches per example (numerical Jacobians, double backward; about 8 minutes on two workers) are left to real GPUs.
# test_device_parity compares every op's CUDA outputs and gradients with the CPU's, whose gradients gradcheck checks.
_HEAVY_ON_SIM = {"test_gradcheck", "test_double_backward_against_torch"}
# The simulator's slowest cases (12-72 s each on two workers; sibling cases of each still run in CI) are ``slow`` there
# (run them with ``-m slow``); on a real GPU they stay in the default run.
_SLOW_ON_SIM = {
    "test_vision_models2.py::test_tiny_models_agree_across_devices[cuda-efficientnet]",
    "test_cuda_index_conv_pool.py::test_conv2d_backward[case0-float64]",
    "test_cuda_index_conv_pool.py::test_conv2d_backward[case0-int64]",
    "test_cuda_index_conv_pool.py::test_conv2d_forward[case0-True-float64]",
    "test_ops_table.py::test_device_parity[cuda-cholesky_method-float32]",
    "test_ops_table.py::test_device_parity[cuda-linalg_cholesky_upper-float64]",
    "test_rnn.py::test_double_backward_matches_torch[cuda-False-GRU-kw2]",
    "test_rnn.py::test_double_backward_matches_torch[cuda-False-LSTM-kw0]",
    "test_rnn.py::test_double_backward_matches_torch[cuda-False-LSTM-kw1]",
    "test_rnn.py::test_double_backward_matches_torch[cuda-True-LSTM-kw0]",
}


def pytest_collection_modifyitems(config, items):
    """Tests parametrised with the cuda device get the ``cuda`` marker, so ``-m cuda`` selects them."""
    from numba import config as numba_config
    for item in items:
        if numba_config.ENABLE_CUDASIM and f"{os.path.basename(str(item.fspath))}::{item.name}" in _SLOW_ON_SIM:
            item.add_marker(pytest.mark.slow)
        spec = getattr(item, "callspec", None)
        if spec is not None and spec.params.get("device") == "cuda":
            item.add_marker(pytest.mark.cuda)
            if numba_config.ENABLE_CUDASIM and item.originalname in _HEAVY_ON_SIM:
                item.add_marker(pytest.mark.skip(reason="too slow on the CUDA simulator; run on a real GPU"))
