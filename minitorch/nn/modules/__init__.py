from .activation import (CELU, ELU, GELU, GLU, Hardshrink, Hardsigmoid, Hardswish, Hardtanh, LeakyReLU, LogSigmoid,
                         LogSoftmax, Mish, PReLU, ReLU, ReLU6, RReLU, SELU, Sigmoid, SiLU, Softmax, Softmax2d, Softmin,
                         Softplus, Softshrink, Softsign, Tanh, Tanhshrink, Threshold)
from .distance import CosineSimilarity, PairwiseDistance
from .conv import (AdaptiveAvgPool2d, AdaptiveMaxPool2d, AvgPool1d, AvgPool2d, Conv1d, Conv2d, MaxPool1d,
                   MaxPool2d)
from .conv import Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d  # noqa: F401
from .container import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
from .linear import Bilinear, Identity, Linear
from .loss import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, KLDivLoss, L1Loss, MSELoss, NLLLoss,
                   SmoothL1Loss)
from .misc import (AlphaDropout, Dropout, Dropout1d, Dropout2d, Dropout3d, Embedding, EmbeddingBag, FeatureAlphaDropout,
                   Flatten, Unflatten, Upsample, UpsamplingBilinear2d, UpsamplingNearest2d)
from .module import Module
from .normalization import BatchNorm1d, BatchNorm2d, GroupNorm, LayerNorm
from .parallel import DataParallel
from .loss import (CosineEmbeddingLoss, CTCLoss, GaussianNLLLoss, HingeEmbeddingLoss, MarginRankingLoss,  # noqa: E402,F401
                   MultiLabelMarginLoss, MultiLabelSoftMarginLoss, MultiMarginLoss, PoissonNLLLoss, SoftMarginLoss,
                   TripletMarginLoss, TripletMarginWithDistanceLoss)
# PyTorch's submodule paths (torch.nn.modules.batchnorm._BatchNorm ...); nn.modules.utils is left to explicit
# imports so that `from .modules import *` in nn/__init__ never shadows nn.utils
from . import (batchnorm, dropout, flatten, padding, pixelshuffle, pooling, rnn, sparse,  # noqa: F401,E402
               transformer, upsampling)
from .instancenorm import InstanceNorm1d, InstanceNorm2d, InstanceNorm3d  # noqa: E402
from .normalization import BatchNorm3d, LocalResponseNorm, RMSNorm  # noqa: E402
from .pooling import (AdaptiveAvgPool1d, AdaptiveAvgPool3d, AdaptiveMaxPool1d, AdaptiveMaxPool3d,  # noqa: E402
                      AvgPool3d, LPPool1d, LPPool2d, LPPool3d, MaxPool3d)
from .fold import Fold, Unfold
from .padding import (CircularPad1d, CircularPad2d, CircularPad3d, ConstantPad1d, ConstantPad2d, ConstantPad3d,
                      ReflectionPad1d, ReflectionPad2d, ReflectionPad3d, ReplicationPad1d, ReplicationPad2d,
                      ReplicationPad3d, ZeroPad1d, ZeroPad2d, ZeroPad3d)
from .pixelshuffle import ChannelShuffle, PixelShuffle, PixelUnshuffle
from .activation import MultiheadAttention  # noqa: E402,F401
from .linear import NonDynamicallyQuantizableLinear  # noqa: E402,F401
from .transformer import (Transformer, TransformerDecoder, TransformerDecoderLayer, TransformerEncoder,  # noqa: E402,F401
                          TransformerEncoderLayer)
from .rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell, RNNCellBase  # noqa: E402,F401
from .pooling import (FractionalMaxPool2d, FractionalMaxPool3d, MaxUnpool1d, MaxUnpool2d,  # noqa: E402,F401
                      MaxUnpool3d)
from .lazy import (LazyBatchNorm1d, LazyBatchNorm2d, LazyBatchNorm3d, LazyConv1d, LazyConv2d,  # noqa: E402,F401
                   LazyConv3d, LazyConvTranspose1d, LazyConvTranspose2d, LazyConvTranspose3d, LazyInstanceNorm1d,
                   LazyInstanceNorm2d, LazyInstanceNorm3d, LazyLinear)
from . import lazy  # noqa: E402,F401
from .adaptive import AdaptiveLogSoftmaxWithLoss  # noqa: E402,F401
from .loss import NLLLoss2d  # noqa: E402,F401
from .normalization import CrossMapLRN2d  # noqa: E402,F401
from . import adaptive  # noqa: E402,F401
from .batchnorm import SyncBatchNorm  # noqa: E402,F401
