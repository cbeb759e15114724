"""Image classification models, as ``torchvision.models``: the same builders, module structure and parameter names
(state dicts are interchangeable with torchvision's), the ``*_Weights`` enums, and the model registry.

    >>> from minitorch.vision import models
    >>> model = models.resnet18(weights=None)
    >>> models.list_models(include="resnet*")
"""
from ._api import Weights, WeightsEnum, get_model, get_model_builder, get_model_weights, get_weight, list_models  # noqa: F401,E501
# one line per model family module (each defines __all__)
from .resnet import *  # noqa: F401,F403
from .vgg import *  # noqa: F401,F403
from .alexnet import *  # noqa: F401,F403
from .squeezenet import *  # noqa: F401,F403
from .mobilenet import *  # noqa: F401,F403
from .densenet import *  # noqa: F401,F403
from .efficientnet import *  # noqa: F401,F403
from .googlenet import *  # noqa: F401,F403
