"""``minitorch.nn``: modules, parameters, initialisation and functional layers (``import minitorch.nn as nn``)."""
from . import functional, init, utils  # noqa: F401
from .modules import *  # noqa: F401,F403
from .modules import __dict__ as _mods
from .parameter import Parameter

__all__ = ["Parameter", "functional", "init", "utils"] + [n for n in _mods if n[:1].isupper()]
