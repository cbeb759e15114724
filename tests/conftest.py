"""Shared test configuration: the hypothesis ``ci`` profile and the ``device`` fixture.

The ``device`` fixture comes from the dispatch registry, so a new device is tested by registering it; devices whose
kernels cannot load here (no GPU, no simulator) are skipped, not silently dropped.
"""
import os

import pytest
from hypothesis import HealthCheck, Phase, settings

import minitorch

# First calls of each kernel compile (seconds), so no per-example deadline; a modest number of examples keeps
# the suite to a few minutes. The "explain" phase traces coverage and makes every failing test slow, so it is off;
# failures still shrink to a minimal example. HYPOTHESIS_PROFILE=dev runs many more examples locally.
_PHASES = [Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink]
settings.register_profile(
    "ci",
    deadline=None,
    max_examples=25,
    phases=_PHASES,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
settings.register_profile(
    "dev",
    deadline=None,
    max_examples=200,
    phases=_PHASES,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session", params=minitorch.dispatch.registered())
def device(request):
    """Every registered device type; skipped where its kernels cannot run."""
    name = request.param
    if name not in minitorch.dispatch.available():
        pytest.skip(f"device type '{name}' is registered but not available here")
    return name
