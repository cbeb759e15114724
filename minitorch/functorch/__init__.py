"""``functorch``, as ``python -m minitorch.run`` resolves it: of PyTorch's older functional-transforms package,
``functorch.experimental.control_flow.cond`` (PyTorch's ``torch.cond``, which tutorials import from here). The
transforms themselves (``vmap``, ``grad``, ``jacrev`` ...) are not in minitorch: using one raises AttributeError."""
from . import experimental  # noqa: F401
