"""``minitorch.optim``: optimizers and learning-rate schedulers with PyTorch's API, update rules and state dicts.

Every optimizer updates each parameter with one fused kernel launch (``minitorch.kernels.<device>.optim``).
"""
from . import lr_scheduler  # noqa: F401
from . import swa_utils  # noqa: F401
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam
from .adamw import AdamW
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD
from .adamax import Adamax
from .asgd import ASGD
from .lbfgs import LBFGS
from .nadam import NAdam
from .radam import RAdam
from .rprop import Rprop

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "lr_scheduler",
           "Adamax", "ASGD", "LBFGS", "NAdam", "RAdam", "Rprop", "swa_utils"]
