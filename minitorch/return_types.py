"""``minitorch.return_types``: the named tuples that ops with several results return (``torch.return_types``).

``minitorch.return_types.max`` is the type of ``x.max(dim=0)``, ``sort`` of ``x.sort()``, ``linalg_svd`` of
``minitorch.linalg.svd(A)`` and so on; each unpacks like a tuple and names its fields.
"""
from .ops.common import RETURN_TYPES as _RETURN_TYPES

globals().update(_RETURN_TYPES)
__all__ = sorted(_RETURN_TYPES)
