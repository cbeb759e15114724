from .activation import (ELU, GELU, GLU, Hardtanh, LeakyReLU, LogSoftmax, Mish, ReLU, ReLU6, SELU, Sigmoid, SiLU,
                         Softmax, Softmin, Softplus, Tanh)
from .conv import (AdaptiveAvgPool2d, AdaptiveMaxPool2d, AvgPool1d, AvgPool2d, Conv1d, Conv2d, MaxPool1d,
                   MaxPool2d)
from .container import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
from .linear import Bilinear, Identity, Linear
from .loss import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, KLDivLoss, L1Loss, MSELoss, NLLLoss,
                   SmoothL1Loss)
from .misc import Dropout, Dropout1d, Dropout2d, Embedding, Flatten, Unflatten, Upsample
from .module import Module
from .normalization import BatchNorm1d, BatchNorm2d, GroupNorm, LayerNorm
from .parallel import DataParallel
# PyTorch's submodule paths (torch.nn.modules.batchnorm._BatchNorm ...); nn.modules.utils is left to explicit
# imports so that `from .modules import *` in nn/__init__ never shadows nn.utils
from . import (batchnorm, dropout, flatten, padding, pixelshuffle, pooling, rnn, sparse,  # noqa: F401,E402
               transformer, upsampling)
