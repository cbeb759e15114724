"""Stochastic depth (Huang et al. 2016, "Deep Networks with Stochastic Depth"): randomly drop a residual branch,
as ``torchvision.ops.stochastic_depth``."""
import minitorch
from minitorch import nn

__all__ = ["stochastic_depth", "StochasticDepth"]


def stochastic_depth(input, p, mode, training=True):
    """Zero ``input`` with probability ``p`` and scale what survives by ``1 / (1 - p)``.

    Args:
        input: a tensor whose first dimension is the batch (the output of a residual branch).
        p: probability of dropping.
        mode: ``"batch"`` drops the whole batch at once, ``"row"`` each sample independently.
        training: identity when False.

    Returns:
        A tensor of ``input``'s shape.
    """
    if p < 0.0 or p > 1.0:
        raise ValueError(f"drop probability has to be between 0 and 1, but got {p}")
    if mode not in ("batch", "row"):
        raise ValueError(f"mode has to be either 'batch' or 'row', but got {mode}")
    if not training or p == 0.0:
        return input
    keep = 1.0 - p
    if mode == "row":
        shape = [input.shape[0]] + [1] * (input.dim() - 1)
    else:
        shape = [1] * input.dim()
    mask = minitorch.empty(shape, dtype=input.dtype, device=input.device).bernoulli_(keep)
    if keep > 0.0:
        mask.div_(keep)
    return input * mask


class StochasticDepth(nn.Module):
    """Module form of :func:`stochastic_depth` (active in training mode only).

    Example:
        >>> sd = StochasticDepth(0.2, "row")
        >>> out = residual + sd(branch(residual))
    """

    def __init__(self, p, mode):
        super().__init__()
        self.p = p
        self.mode = mode

    def forward(self, input):
        return stochastic_depth(input, self.p, self.mode, self.training)

    def __repr__(self):
        return f"{self.__class__.__name__}(p={self.p}, mode={self.mode})"
