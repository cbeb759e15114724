"""Image transforms, as ``torchvision.transforms``: the classes, and their functions in ``transforms.functional``.

    >>> transform = transforms.Compose([transforms.RandomRotation(10), transforms.ToTensor(),
    ...                                 transforms.Normalize((0.1307,), (0.3081,))])
"""
from . import functional  # noqa: F401
from .functional import InterpolationMode  # noqa: F401
from .transforms import *  # noqa: F401,F403
from .transforms import __all__ as _classes

__all__ = list(_classes) + ["InterpolationMode", "functional"]

# colour transforms and augmentation policies
from . import autoaugment  # noqa: E402,F401
from ._color_classes import *  # noqa: E402,F401,F403
from ._color_classes import __all__ as _color_classes  # noqa: E402
from .autoaugment import *  # noqa: E402,F401,F403
from .autoaugment import __all__ as _policies  # noqa: E402

__all__ += list(_color_classes) + list(_policies)
