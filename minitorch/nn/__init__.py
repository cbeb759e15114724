"""``minitorch.nn``: modules, parameters, initialisation and functional layers (``import minitorch.nn as nn``)."""
from . import functional, init, utils  # noqa: F401
from .modules import *  # noqa: F401,F403
from .modules import __dict__ as _mods
from .parameter import Parameter

__all__ = ["Parameter", "functional", "init", "utils"] + [n for n in _mods if n[:1].isupper()]
from .parameter import Buffer, UninitializedBuffer, UninitializedParameter  # noqa: E402,F401
from . import parameter  # noqa: E402,F401

__all__ += ["Buffer", "UninitializedBuffer", "UninitializedParameter", "parameter"]
# the nn.parallel package (not the nn.modules.parallel module that `from .modules import *` brought in)
parallel = __import__("importlib").import_module(".parallel", __name__)
