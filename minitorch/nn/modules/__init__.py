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
from .instancenorm import InstanceNorm1d, InstanceNorm2d, InstanceNorm3d  # noqa: E402
from .normalization import BatchNorm3d, LocalResponseNorm, RMSNorm  # noqa: E402
from .pooling import (AdaptiveAvgPool1d, AdaptiveAvgPool3d, AdaptiveMaxPool1d, AdaptiveMaxPool3d,  # noqa: E402
                      AvgPool3d, LPPool1d, LPPool2d, LPPool3d, MaxPool3d)
