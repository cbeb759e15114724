"""``functorch.experimental.control_flow``: ``cond`` is ``minitorch.cond`` (a guard of the graph when compiled)."""
from ..._torch_names import cond

__all__ = ["cond"]
