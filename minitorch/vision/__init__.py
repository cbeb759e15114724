"""Vision datasets and image transforms, as ``torchvision``: ``from minitorch.vision import datasets, transforms``."""
from . import datasets, transforms  # noqa: F401
from . import io, utils  # noqa: F401,E402  (torchvision.io, torchvision.utils)
from . import ops  # noqa: F401,E402
from . import models  # noqa: F401,E402
