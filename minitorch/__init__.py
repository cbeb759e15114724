"""minitorch: a small PyTorch-compatible deep-learning framework whose tensor ops are Numba kernels.

``import minitorch as torch`` gives PyTorch's tensor API: creation functions, math, reductions, indexing,
matmul, autograd (``backward``, ``minitorch.autograd.grad``, ``no_grad``) and devices.
"""
from . import dtypes as _dtype_mod
from .dtypes import (bool, dtype, finfo, float32, float64, get_default_dtype, iinfo, int8, int16, int32, int64,  # noqa: A004,E501
                    promote_types, set_default_dtype, uint8, float16, half, bfloat16, complex64, complex128, cfloat,
                    cdouble)
from .device import device, get_default_device, set_default_device
from .tensor import Size, Tensor
from . import ops as _ops  # attaches the Tensor methods
from .ops import FUNCTIONS as _FUNCTIONS
from .creation import (arange, as_tensor, asarray, bernoulli, empty, empty_like, empty_strided, eye, from_numpy, poisson,
                       full, full_like, is_tensor, linspace, logspace, multinomial, normal, numel, ones, ones_like,
                       rand, rand_like, randint, randint_like, randn, randn_like, randperm, scalar_tensor, tensor,
                       zeros, zeros_like)
from .random import Generator, default_generator, get_rng_state, initial_seed, manual_seed, seed, set_rng_state
from .autograd import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from ._tensor_str import set_printoptions
from . import accelerator, autograd, backends, cuda, dispatch, functional, linalg, nn, optim, return_types, utils  # noqa: F401,E501
from . import amp, cpu  # noqa: F401
from . import distributions  # noqa: F401
from . import export, jit, onnx, testing  # noqa: F401
from . import multiprocessing  # noqa: F401
from . import hub  # noqa: F401
from . import profiler  # noqa: F401
from . import compiler  # noqa: F401
from .compiler import compile  # noqa: A004
from . import _dynamo, _inductor, _logging  # noqa: F401,E402
from . import distributed  # noqa: F401  (never imports mpi4py: MPI starts in init_process_group)
from .autograd.anomaly_mode import is_anomaly_check_nan_enabled, is_anomaly_enabled, set_anomaly_enabled  # noqa: F401
from .amp import autocast
from .ops.autocast import (autocast_decrement_nesting, autocast_increment_nesting, clear_autocast_cache,
                           get_autocast_dtype, is_autocast_cache_enabled, is_autocast_enabled,
                           set_autocast_cache_enabled, set_autocast_dtype, set_autocast_enabled)
from .serialization import load, save
from ._torch_names import *  # noqa: F401,F403,E402  (pi, inf, torch.dropout(x, p, train), windows, settings ...)
from . import special, version  # noqa: F401
from . import sparse  # noqa: F401,E402
from .sparse import coo as _coo  # noqa: E402
from .special import multigammaln as mvlgamma  # noqa: F401,E402
Tensor.mvlgamma = mvlgamma
from .amp import GradScaler  # noqa: F401
from .cuda import OutOfMemoryError  # noqa: F401
from .legacy import TYPES as _LEGACY_TYPES

globals().update(_LEGACY_TYPES)  # FloatTensor, LongTensor, ...
Tensor.multinomial = multinomial
Tensor.bernoulli = bernoulli

globals().update(_FUNCTIONS)
for _cls in (Tensor, Size, dtype, device):
    _cls.__module__ = "minitorch"  # printed as <class 'minitorch.Tensor'>, as PyTorch prints torch.Tensor

float = float32  # noqa: A001
double = float64
long = int64
int = int32  # noqa: A001
short = int16
char = int8

from .version import __version__  # noqa: E402


def is_floating_point(input):
    return input.is_floating_point()


def result_type(tensor1, tensor2):
    return _dtype_mod.result_type(tensor1, tensor2)


def can_cast(from_, to):
    from .ops.common import can_cast as _cc
    return _cc(from_, to)


def is_nonzero(input):
    if input.numel() != 1:
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
    return builtins_bool(input.item())


def get_num_threads():
    import numba
    return numba.get_num_threads()


def set_num_threads(n):
    import numba
    numba.set_num_threads(n)


import builtins as _builtins  # noqa: E402

builtins_bool = _builtins.bool

from .ops import methods_extra as _methods_extra  # noqa: E402
from .ops import numpy_names as _numpy_names  # noqa: E402

_methods_extra.install()  # addmm_, cumsum_, greater_, fill_diagonal_, conj/real ...
Tensor.to_sparse = Tensor.to_sparse_coo = _coo.to_sparse
Tensor.to_dense = _coo._dense_to_dense

_numpy_names.install(globals())  # axis= / keepdims= as PyTorch's native functions take them
_numpy_names.install(Tensor)
