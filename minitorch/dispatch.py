"""Device type -> kernel package registry. The only module that knows which devices exist.

A device registers its kernel package (``minitorch.kernels.<name>``); that package provides the same modules
(``elementwise``, ``reduce``, ``matmul``, ``index``, ``memory``) with the same function names. Adding a device
is one folder under ``kernels/`` plus one line in ``_REGISTRY``.
"""
import importlib

_REGISTRY = {
    "cpu": "minitorch.kernels.cpu",
    "cuda": "minitorch.kernels.cuda",
}
_loaded = {}


def registered():
    """Names of all registered device types (for tests and for ``device`` validation)."""
    return list(_REGISTRY)


def available():
    """Registered device types whose kernels can run here."""
    out = []
    for name in _REGISTRY:
        try:
            kernels(name)
        except RuntimeError:
            continue
        out.append(name)
    return out


def kernels(device_type):
    """The kernel package for a device type, imported on first use."""
    pkg = _loaded.get(device_type)
    if pkg is None:
        if device_type not in _REGISTRY:
            raise RuntimeError(f"no kernels are registered for device type '{device_type}'")
        try:
            pkg = importlib.import_module(_REGISTRY[device_type])
        except ImportError as e:
            raise RuntimeError(f"the {device_type} kernels cannot be loaded here: {e}") from e
        _loaded[device_type] = pkg
    return pkg
