"""``Chi2``: the sum of ``df`` squared standard normals, a Gamma(df / 2, 1 / 2)."""
from ..tensor import Size, Tensor
from . import constraints
from .gamma import Gamma

__all__ = ["Chi2"]


class Chi2(Gamma):
    """Chi2(df)."""

    arg_constraints = {"df": constraints.positive}

    def __init__(self, df, validate_args=None):
        if not isinstance(df, Tensor):
            from ..creation import tensor
            from ..dtypes import get_default_dtype
            df = tensor(float(df), dtype=get_default_dtype())
        super().__init__(0.5 * df, df.new_full(df.shape, 0.5), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Chi2, _instance)
        new.concentration = self.concentration.expand(Size(batch_shape))
        new.rate = self.rate.expand(Size(batch_shape))
        super(Gamma, new).__init__(Size(batch_shape), validate_args=False)
        new._validate_args = self._validate_args
        return new

    def _expand_params(self):
        return ["concentration", "rate"]

    @property
    def df(self):
        return self.concentration * 2
