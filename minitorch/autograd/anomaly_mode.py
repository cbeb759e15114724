"""Anomaly detection: ``detect_anomaly()`` / ``set_detect_anomaly(mode)``.

While it is on, every recorded op keeps the Python stack of its forward call; in backward a node whose gradient
holds NaN raises ``RuntimeError("Function 'XBackward0' returned nan values in its 0th output.")``, and any error
inside a node's backward is preceded by a warning that prints that forward stack.
"""
import warnings

from .function import _ANOMALY

__all__ = ["detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled", "is_anomaly_check_nan_enabled",
           "set_anomaly_enabled"]


def is_anomaly_enabled():
    return _ANOMALY["enabled"]


def is_anomaly_check_nan_enabled():
    return _ANOMALY["check_nan"]


def set_anomaly_enabled(enabled, check_nan=True):
    _ANOMALY["enabled"] = bool(enabled)
    _ANOMALY["check_nan"] = bool(check_nan)


class _AnomalyContext:
    """Restores the anomaly mode found at construction on exit (context managers only, as in PyTorch)."""

    def __exit__(self, *exc):
        set_anomaly_enabled(self.prev, self.prev_check_nan)
        return False


class detect_anomaly(_AnomalyContext):
    """Context manager that turns anomaly detection on (and warns that it slows things down)."""

    def __init__(self, check_nan=True):
        self.prev = is_anomaly_enabled()
        self.check_nan = check_nan
        self.prev_check_nan = is_anomaly_check_nan_enabled()
        warnings.warn("Anomaly Detection has been enabled. This mode will increase the runtime and should only be "
                      "enabled for debugging.", UserWarning, stacklevel=2)

    def __enter__(self):
        set_anomaly_enabled(True, self.check_nan)


class set_detect_anomaly(_AnomalyContext):
    """Turn anomaly detection on or off at once; as a context manager the previous mode comes back on exit."""

    def __init__(self, mode, check_nan=True):
        self.prev = is_anomaly_enabled()
        self.prev_check_nan = is_anomaly_check_nan_enabled()
        self.mode, self.check_nan = mode, check_nan
        set_anomaly_enabled(mode, check_nan)

    def __enter__(self):
        pass
