"""Tape autograd: ``backward``, ``grad``, ``Function``, grad modes and ``gradcheck``."""
from .engine import backward, grad
from .function import Function, FunctionCtx
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .variable import Variable
from . import anomaly_mode, functional, graph  # noqa: E402
from .anomaly_mode import detect_anomaly, set_detect_anomaly
from . import profiler  # noqa: E402,F401

__all__ = ["backward", "grad", "Function", "FunctionCtx", "gradcheck", "GradcheckError", "no_grad",
           "enable_grad", "set_grad_enabled", "is_grad_enabled", "inference_mode", "Variable"]
__all__ += ["functional", "graph", "anomaly_mode", "detect_anomaly", "set_detect_anomaly", "gradgradcheck"]
