"""Tape autograd: ``backward``, ``grad``, ``Function``, grad modes and ``gradcheck``."""
from .engine import backward, grad
from .function import Function, FunctionCtx
from .gradcheck import GradcheckError, gradcheck
from .grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .variable import Variable

__all__ = ["backward", "grad", "Function", "FunctionCtx", "gradcheck", "GradcheckError", "no_grad",
           "enable_grad", "set_grad_enabled", "is_grad_enabled", "inference_mode", "Variable"]
