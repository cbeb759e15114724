"""Building blocks of the vision models, as ``torchvision.ops``: conv-norm-activation stacks, squeeze-and-excitation,
MLP, permutation, frozen batch norm and stochastic depth."""
from .misc import (Conv2dNormActivation, Conv3dNormActivation, FrozenBatchNorm2d, MLP, Permute,  # noqa: F401
                   SqueezeExcitation)
from .stochastic_depth import StochasticDepth, stochastic_depth  # noqa: F401

__all__ = ["Conv2dNormActivation", "Conv3dNormActivation", "FrozenBatchNorm2d", "MLP", "Permute", "SqueezeExcitation",
           "StochasticDepth", "stochastic_depth"]
