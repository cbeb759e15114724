"""Image classification models, as ``torchvision.models``: the same builders, module structure and parameter names
(state dicts are interchangeable with torchvision's), the ``*_Weights`` enums, and the model registry.

    >>> from minitorch.vision import models
    >>> model = models.resnet18(weights=None)
    >>> models.list_models(include="resnet*")
"""
from ._api import (  # noqa: F401
    Weights,
    WeightsEnum,
    get_model,
    get_model_builder,
    get_model_weights,
    get_weight,
    list_models,
)

# one line per model family module (each defines __all__)
from .alexnet import *
from .resnet import *
from .squeezenet import *
from .vgg import *
from .densenet import *
from .efficientnet import *
from .googlenet import *
from .mobilenet import *
