"""``functorch.experimental``: ``control_flow.cond``."""
from . import control_flow  # noqa: F401
