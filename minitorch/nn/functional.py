"""``nn.functional``: layers and losses as functions (``import minitorch.nn.functional as F``)."""
import math

from .. import creation
from ..autograd.function import Function
from ..autograd.grad_mode import _state
from ..dtypes import bool as t_bool, float64, int64
from ..ops import launch
from ..ops.activation import log_softmax, softmax
from ..ops.common import warn
from ..ops.conv import (adaptive_avg_pool2d, adaptive_max_pool2d, avg_pool1d, avg_pool2d, conv1d, conv2d,  # noqa: F401
                        max_pool1d, max_pool2d)
from ..ops.conv import conv3d, conv_transpose1d, conv_transpose2d, conv_transpose3d  # noqa: F401
from ..ops.elementwise import check_inplace, relu as _relu, sigmoid as _sigmoid, tanh as _tanh
from ..ops.shape import as_view
from ..ops.sample import affine_grid, grid_sample  # noqa: F401
from ..tensor import Tensor
from ..ops.spatial import (channel_shuffle, check_pad as _check_pad, fold, native_channel_shuffle,  # noqa: F401
                           pixel_shuffle, pixel_unshuffle, unfold)

__all__ = ["linear", "relu", "relu_", "leaky_relu", "elu", "gelu", "silu", "sigmoid", "tanh", "softmax",
           "log_softmax", "softplus", "hardtanh", "relu6", "dropout", "one_hot", "embedding", "layer_norm",
           "batch_norm", "normalize", "pad", "cross_entropy", "nll_loss", "mse_loss", "l1_loss", "smooth_l1_loss",
           "huber_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div", "softmin", "mish",
           "logsigmoid", "softsign", "tanhshrink", "threshold", "glu", "cosine_similarity", "conv1d", "conv2d",
           "max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "adaptive_avg_pool2d", "adaptive_max_pool2d",
           "interpolate", "upsample"]
__all__ += ["hardsigmoid", "hardswish", "hardshrink", "softshrink", "prelu", "rrelu", "rrelu_", "elu_", "celu",
            "celu_", "selu", "selu_", "leaky_relu_", "hardtanh_", "threshold_", "gumbel_softmax",
            "pdist", "embedding_bag", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout",
            "upsample_nearest", "upsample_bilinear"]
__all__ += ["conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d"]
__all__ += ["pixel_shuffle", "pixel_unshuffle", "channel_shuffle", "native_channel_shuffle", "unfold", "fold",
            "affine_grid", "grid_sample"]


# ---------------------------------------------------------------------------------------------------------------
# linear
# ---------------------------------------------------------------------------------------------------------------
def _mm(a, b):
    """2-D a @ b straight through the GEMM launcher (no autograd, no shape checks: callers guarantee them)."""
    M, K = a._shape
    N = b._shape[1]
    out = launch.bmm(as_view(a, (1, M, K), (M * a._stride[0], a._stride[0], a._stride[1]), a._offset),
                     as_view(b, (1, K, N), (K * b._stride[0], b._stride[0], b._stride[1]), b._offset))
    return as_view(out, (M, N), (N, 1), out._offset)


class Linear(Function):
    """x @ W^T + b as one node: a GEMM and an in-place bias add forward; two GEMMs and a column sum backward."""

    @staticmethod
    def forward(ctx, x, w, b):
        ctx.save_for_backward(x if ctx.needs_input_grad[1] else None, w if ctx.needs_input_grad[0] else None)
        ctx.x_shape = x._shape
        x2 = x.reshape(-1, x._shape[-1]) if x.dim() != 2 else x
        if x._dtype.is_floating_point:
            out = launch.linear(x2, w, b)
        else:
            out = _mm(x2, as_view(w, (w._shape[1], w._shape[0]), (w._stride[1], w._stride[0]), w._offset))
            if b is not None:
                launch.binary("add", out, b, out=out)
        return out.reshape(x._shape[:-1] + (w._shape[0],)) if x.dim() != 2 else out

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        g2 = g.reshape(-1, g._shape[-1]) if g.dim() != 2 else g
        gx = gw = gb = None
        fast = not _state.enabled  # with create_graph the products must be recorded
        need = ctx.needs_input_grad
        need_b = len(need) > 2 and need[2]
        if fast and g._dtype.is_floating_point:
            x2 = x.reshape(-1, x._shape[-1]) if need[1] and x.dim() != 2 else x
            gx, gw, gb = launch.linear_backward(g2, x2, w, ctx.x_shape[-1], need[0], need[1], need_b)
            return (gx.reshape(ctx.x_shape) if gx is not None else None), gw, gb
        if ctx.needs_input_grad[0]:
            gx = (_mm(g2, w) if fast else g2 @ w).reshape(ctx.x_shape)
        if ctx.needs_input_grad[1]:
            x2 = x.reshape(-1, x._shape[-1]) if x.dim() != 2 else x
            if fast:
                gw = _mm(as_view(g2, (g2._shape[1], g2._shape[0]), (g2._stride[1], g2._stride[0]), g2._offset), x2)
            else:
                gw = g2.t() @ x2
        if len(ctx.needs_input_grad) > 2 and ctx.needs_input_grad[2]:
            gb = g2.sum(0)
        return gx, gw, gb


def linear(input, weight, bias=None):
    """y = input @ weight.T + bias.

    Shape: input (*, in_features), weight (out_features, in_features), bias (out_features), output (*, out).
    """
    if input.dim() == 0 or weight.dim() not in (1, 2):
        raise RuntimeError(f"linear(): input and weight must have at least one dim and weight at most two, got "
                           f"{input.dim()}-D input and {weight.dim()}-D weight")
    if weight.dim() == 1 or input._dtype is not weight._dtype or (bias is not None and bias._dtype is not input._dtype):
        out = input @ weight.t() if weight.dim() == 2 else input @ weight
        return out + bias if bias is not None else out
    if input._shape[-1] != weight._shape[1]:
        rows = math.prod(input._shape[:-1]) if input.dim() > 1 else 1
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows}x{input._shape[-1]} and "
                           f"{weight._shape[1]}x{weight._shape[0]})")
    if input.dim() == 1:
        return Linear.apply(input.reshape(1, -1), weight, bias).reshape(-1)
    return Linear.apply(input, weight, bias)


def bilinear(input1, input2, weight, bias=None):
    out = ((input1.unsqueeze(-2).unsqueeze(-2) @ weight.unsqueeze(0)).squeeze(-2) * input2.unsqueeze(-2)).sum(-1)
    return out + bias if bias is not None else out


# ---------------------------------------------------------------------------------------------------------------
# activations
# ---------------------------------------------------------------------------------------------------------------
def _maybe_inplace(input, result, inplace):
    """``result`` (a tensor, or a function of ``input`` giving it), written into ``input`` when ``inplace``. Pass a
    function when result's backward keeps ``input``: it then runs on a snapshot that the write cannot clobber."""
    if not inplace:
        return result(input) if callable(result) else result
    from ..ops.elementwise import assign_, inplace_record
    check_inplace(input)
    if callable(result):
        if input.requires_grad and _state.enabled:
            return inplace_record(input, result)
        result = result(input)
    return assign_(input, result)


def relu(input, inplace=False):
    if inplace:
        return input.relu_()
    return _relu(input)


def relu_(input):
    return input.relu_()


def relu6(input, inplace=False):
    return hardtanh(input, 0.0, 6.0, inplace)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    return _maybe_inplace(input, lambda x: x.clamp(min_val, max_val), inplace)


def threshold(input, threshold, value, inplace=False):
    return _maybe_inplace(input, input.masked_fill(input <= threshold, value), inplace)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    return _maybe_inplace(input, input.where(input > 0, input * negative_slope), inplace)


def elu(input, alpha=1.0, inplace=False):
    return _maybe_inplace(input, lambda x: x.where(x > 0, x.expm1() * alpha), inplace)


def selu(input, inplace=False):
    alpha, scale = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
    return _maybe_inplace(input, lambda x: x.where(x > 0, x.expm1() * alpha) * scale, inplace)


def celu(input, alpha=1.0, inplace=False):
    return _maybe_inplace(input, lambda x: x.where(x > 0, (x / alpha).expm1() * alpha), inplace)


def gelu(input, approximate="none"):
    """x * Phi(x) (``approximate='tanh'``: the tanh approximation)."""
    if approximate == "none":
        if input.dtype.is_floating_point and not input.dtype.is_complex:
            from ..ops.activation import Gelu
            return Gelu.apply(input)
        return input * 0.5 * (1.0 + (input * (1.0 / math.sqrt(2.0))).erf())
    if approximate == "tanh":
        inner = (input + input * input * input * 0.044715) * math.sqrt(2.0 / math.pi)
        return input * 0.5 * (1.0 + inner.tanh())
    raise RuntimeError("approximate argument must be either none or tanh.")


def silu(input, inplace=False):
    return _maybe_inplace(input, lambda x: x * _sigmoid(x), inplace)


def mish(input, inplace=False):
    return _maybe_inplace(input, lambda x: x * _tanh(softplus(x)), inplace)


def sigmoid(input):
    return _sigmoid(input)


def tanh(input):
    return _tanh(input)


def softplus(input, beta=1.0, threshold=20.0):
    scaled = input * beta
    soft = (scaled.clamp(max=threshold).exp().log1p()) / beta
    return input.where(scaled > threshold, soft)


def logsigmoid(input):
    return -softplus(-input)


def softsign(input):
    return input / (1 + input.abs())


def tanhshrink(input):
    return input - input.tanh()


def softmin(input, dim=None, dtype=None):
    return softmax(-input, dim, dtype)


def glu(input, dim=-1):
    a, b = input.chunk(2, dim)
    return a * _sigmoid(b)


def hardsigmoid(input, inplace=False):
    """relu6(x + 3) / 6: 0 below -3, 1 above 3, linear between."""
    return _maybe_inplace(input, ((input + 3.0).clamp(0.0, 6.0)) * (1.0 / 6.0), inplace)


def hardswish(input, inplace=False):
    """x * relu6(x + 3) / 6."""
    return _maybe_inplace(input, lambda x: x * ((x + 3.0).clamp(0.0, 6.0) * (1.0 / 6.0)), inplace)


def hardshrink(input, lambd=0.5):
    """x where |x| > lambd, else 0."""
    return input.masked_fill(input.abs() <= lambd, 0.0)


def softshrink(input, lambd=0.5):
    """x - lambd above lambd, x + lambd below -lambd, 0 between."""
    if lambd < 0:
        from ..dtypes import finfo
        top = finfo(input.dtype).max if input.dtype.is_floating_point else 0
        raise RuntimeError(f"lambda must be in range [0, {top:g}] for input dtype {input.dtype.legacy}, but found "
                           f"{lambd:g}")
    return (input - input.clamp(-lambd, lambd)).masked_fill(input.abs() <= lambd, 0.0)


def prelu(input, weight):
    """max(0, x) + weight * min(0, x), with one weight per channel (dim 1) or one shared weight."""
    c = input.shape[1] if input.dim() >= 2 else 1
    if weight.numel() != 1 and weight.numel() != c:
        raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found parameter numbers = "
                           f"{weight.numel()} and channel size = {c}.")
    if weight.dim() > 1:
        raise RuntimeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: ndim = {weight.dim()}")
    w = weight.reshape((-1,) + (1,) * (input.dim() - 2)) if input.dim() >= 2 else weight.reshape(())
    return input.where(input > 0, input * w)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """Leaky ReLU whose negative slope is drawn from U(lower, upper) per element in training, (lower+upper)/2 else."""
    if lower > upper:
        raise RuntimeError("Lower bound should be less than or equal to the upper bound")
    if training:
        slope = creation.empty(input.shape, dtype=input.dtype, device=input.device).uniform_(lower, upper)
    else:
        slope = (lower + upper) / 2.0
    return _maybe_inplace(input, input.where(input >= 0, input * slope), inplace)


def _inplace_form(fn):
    def inplace(input, *args, **kwargs):
        return fn(input, *args, inplace=True, **kwargs)
    inplace.__name__ = inplace.__qualname__ = fn.__name__ + "_"
    inplace.__doc__ = f"In-place ``{fn.__name__}``."
    return inplace


elu_, celu_, selu_, leaky_relu_, hardtanh_, rrelu_, threshold_ = map(
    _inplace_form, (elu, celu, selu, leaky_relu, hardtanh, rrelu, threshold))


def gumbel_softmax(logits, tau=1.0, hard=False, eps=1e-10, dim=-1):
    """Softmax of (logits + Gumbel noise) / tau; ``hard=True`` returns one-hot samples whose gradient is the soft
    sample's (straight-through)."""
    gumbels = -creation.empty(logits.shape, dtype=logits.dtype, device=logits.device).exponential_().log()
    soft = softmax((logits + gumbels) / tau, dim)
    if not hard:
        return soft
    index = soft.argmax(dim, keepdim=True)
    hard_sample = creation.zeros(logits.shape, dtype=logits.dtype, device=logits.device).scatter(dim, index, 1.0)
    return hard_sample - soft.detach() + soft


# ---------------------------------------------------------------------------------------------------------------
# dropout, embedding, one_hot, normalisation, padding
# ---------------------------------------------------------------------------------------------------------------
def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability ``p`` and scale the rest by 1/(1-p) (identity when not training)."""
    _check_p(p)
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return _maybe_inplace(input, input * 0.0, inplace)
    keep = creation.rand(input.shape, dtype=input.dtype if input.dtype.is_floating_point else None,
                         device=input.device) >= p
    scale = keep.to(input.dtype) * (1.0 / (1.0 - p))
    return _maybe_inplace(input, input * scale, inplace)


def _check_p(p):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _feature_mask(input, p):
    """A keep mask with one draw per (batch, channel), broadcasting over the dims after them."""
    shape = tuple(input.shape[:2]) + (1,) * (input.dim() - 2)
    return creation.rand(shape, device=input.device) >= p


def _feature_dropout(input, p, training, inplace):
    _check_p(p)
    if not training or p == 0.0:
        return input
    scale = 0.0 if p == 1.0 else 1.0 / (1.0 - p)
    return _maybe_inplace(input, input * (_feature_mask(input, p).to(input.dtype) * scale), inplace)


def _maybe_batched_dropout(input, p, training, inplace, batched_dim):
    """Channel dropout of input with or without its batch dim (``batched_dim`` dims when it has one)."""
    if input.dim() == batched_dim:
        return _feature_dropout(input, p, training, inplace)
    _check_p(p)
    if not training or p == 0.0:
        return input
    out = _feature_dropout(input.unsqueeze(0), p, training, False).squeeze(0)
    return _maybe_inplace(input, out, inplace)


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, L) or (C, L) input with probability ``p``, scaling the rest by 1/(1-p)."""
    if input.dim() not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {input.dim()}D input. Note that "
                           "dropout1d exists to provide channel-wise dropout on inputs with 1 spatial dimension, a "
                           "channel dimension, and an optional batch dimension (i.e. 2D or 3D inputs).")
    return _maybe_batched_dropout(input, p, training, inplace, 3)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, H, W) input with probability ``p``; 3-D input is taken as (N, C, L), as in
    PyTorch (which warns about it)."""
    if input.dim() not in (3, 4):
        warn(f"dropout2d: Received a {input.dim()}-D input to dropout2d, which is deprecated and will result in an "
             "error in a future release. To retain the behavior and silence this warning, please use dropout instead. "
             "Note that dropout2d exists to provide channel-wise dropout on inputs with 2 spatial dimensions, a "
             "channel dimension, and an optional batch dimension (i.e. 3D or 4D inputs).", UserWarning)
    if input.dim() == 3:
        warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout behavior is "
             "desired - input is interpreted as shape (N, C, L), where C is the channel dim. This behavior will "
             "change in a future release to interpret the input as one without a batch dimension, i.e. shape "
             "(C, H, W). To maintain the 1D channel-wise dropout behavior, please switch to using dropout1d "
             "instead.", UserWarning)
    return _feature_dropout(input, p, training, inplace)


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) input with probability ``p``."""
    if input.dim() not in (4, 5):
        warn(f"dropout3d: Received a {input.dim()}-D input to dropout3d, which is deprecated and will result in an "
             "error in a future release. To retain the behavior and silence this warning, please use dropout instead. "
             "Note that dropout3d exists to provide channel-wise dropout on inputs with 3 spatial dimensions, a "
             "channel dimension, and an optional batch dimension (i.e. 4D or 5D inputs).", UserWarning)
    return _maybe_batched_dropout(input, p, training, inplace, 5)


# SELU's negative saturation value, -scale * alpha: alpha dropout sets dropped units to it
_SELU_SATURATION = -1.0507009873554804934193349852946 * 1.6732632423543772848170429916717


def _alpha_dropout(input, p, training, inplace, per_channel):
    _check_p(p)
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return _maybe_inplace(input, input * 0.0, inplace)
    # an affine map a * x + b keeps zero mean and unit variance after units are set to the saturation value
    a = ((1.0 - p) * (1.0 + p * _SELU_SATURATION ** 2)) ** -0.5
    b = -a * _SELU_SATURATION * p
    keep = (_feature_mask(input, p) if per_channel else creation.rand(input.shape, device=input.device) >= p)
    keep = keep.to(input.dtype)
    out = (input * keep + (1.0 - keep) * _SELU_SATURATION) * a + b
    return _maybe_inplace(input, out, inplace)


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Dropout for SELU networks: dropped units take SELU's saturation value, then an affine map restores the
    input's mean and variance."""
    return _alpha_dropout(input, p, training, inplace, False)


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Alpha dropout of whole channels."""
    return _alpha_dropout(input, p, training, inplace, True)


def one_hot(tensor, num_classes=-1):
    """int64 one-hot encoding with a new last dim of size ``num_classes`` (max + 1 when -1)."""
    if tensor.dtype is not int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    lo, hi = launch.bounds(tensor) if tensor.numel() else (0, -1)
    if lo < 0:
        raise RuntimeError("Class values must be non-negative.")
    if num_classes == -1:
        if tensor.numel() == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = hi + 1
    elif hi >= num_classes:
        raise RuntimeError("Class values must be smaller than num_classes.")
    out = creation.zeros(tuple(tensor.shape) + (num_classes,), dtype=int64, device=tensor.device)
    return out.scatter_(-1, tensor.unsqueeze(-1), 1)


class Embedding(Function):
    @staticmethod
    def forward(ctx, idx, weight, padding_idx, scale_grad_by_freq=False):
        ctx.idx, ctx.num, ctx.padding_idx = idx, weight._shape[0], padding_idx
        ctx.scale_grad_by_freq = scale_grad_by_freq
        flat = idx.reshape(-1)
        lin = launch.binary("mul", flat, launch.scalar(weight._stride[0], int64, weight._device))
        out = launch.take(weight, lin, [1])
        return out.reshape(idx._shape + (weight._shape[1],))

    @staticmethod
    def backward(ctx, g):
        flat = ctx.idx.reshape(-1)
        gw = creation.zeros(ctx.num, g._shape[-1], dtype=g.dtype, device=g.device)
        rows = g.reshape(-1, g._shape[-1])
        if not _state.enabled and not ctx.scale_grad_by_freq:
            # the rows summed straight into the fresh zeros (index_add would copy the whole table first: a
            # 33278x200 table's gradient from 700 rows took 2.27 ms, PyTorch 0.70); the forward checked the indices
            lin = launch.binary("mul", flat, launch.scalar(gw._stride[0], int64, gw._device))
            launch.put_(gw, lin, [1], rows, True)
            if ctx.padding_idx is not None:
                launch.fill_(gw[ctx.padding_idx], 0)
            return None, gw, None, None
        if ctx.scale_grad_by_freq:
            # each row's gradient is divided by how often its index occurs in the batch
            counts = creation.zeros(ctx.num, dtype=g.dtype, device=g.device).index_add(
                0, flat, creation.ones(flat._shape[0], dtype=g.dtype, device=g.device))
            rows = rows / counts.index_select(0, flat).unsqueeze(1)
        gw = gw.index_add(0, flat, rows)
        if ctx.padding_idx is not None:
            gw[ctx.padding_idx] = 0.0
        return None, gw, None, None


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
              sparse=False):
    """Rows of ``weight`` picked by the integer ``input``; the row at ``padding_idx`` gets no gradient."""
    if input.dtype.is_floating_point or input.dtype is t_bool:
        raise RuntimeError("Expected tensor for argument #1 'indices' to have one of the following scalar types: "
                           f"Long, Int; but got {input.dtype} instead")
    if input.device != weight.device:
        raise RuntimeError(f"Expected all tensors to be on the same device, but found at least two devices, "
                           f"{weight.device} and {input.device}! (when checking argument for argument indices in "
                           f"method embedding)")
    idx = input.to(int64)
    n = weight.shape[0]
    if idx.numel():
        lo, hi = launch.bounds(idx)
        if lo < 0 or hi >= n:
            raise IndexError("index out of range in self")
    if padding_idx is not None and padding_idx < 0:
        padding_idx += n
    if max_norm is not None:
        from ..autograd.grad_mode import no_grad
        with no_grad():
            rows = weight[idx.reshape(-1)]
            norms = rows.norm(p=norm_type, dim=1, keepdim=True)
            scale = (max_norm / (norms + 1e-7)).clamp(max=1.0)
            weight[idx.reshape(-1)] = rows * scale
    return Embedding.apply(idx, weight, padding_idx, scale_grad_by_freq)


def _bag_of_each_index(input, offsets, include_last_offset):
    """(flat indices, the bag each belongs to, number of bags) for embedding_bag's two input layouts."""
    if input.dim() == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated is a mini-batch of "
                             f"fixed length sequences. However, found offsets of type {type(offsets)}")
        bags, length = input.shape
        bag = creation.arange(bags, device=input.device).repeat_interleave(length)
        return input.reshape(-1), bag, bags
    if input.dim() != 1:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension {input.dim()}")
    if offsets is None:
        raise ValueError("offsets has to be a 1D Tensor but got None")
    if offsets.dim() != 1:
        raise ValueError("offsets has to be a 1D Tensor")
    if offsets.dtype.is_floating_point or offsets.dtype is t_bool:
        raise RuntimeError(f"embedding_bag: expected offsets to be an integer tensor, got {offsets.dtype}")
    offsets = offsets.to(int64)
    n = input.shape[0]
    if offsets.numel():
        first, last = int(offsets[0].item()), int(offsets[-1].item())
        if first != 0:
            raise RuntimeError("offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to start "
                               f"from position 0. However, got {first}")
        if last > n:
            raise RuntimeError(f"offsets[-1] can not be greater than input's length {n} but got offsets[-1] of "
                               f"{last}")
        if offsets.numel() > 1 and bool((offsets[1:] < offsets[:-1]).any()):
            raise RuntimeError("embedding_bag: offsets have to be non-decreasing")
    bags = offsets.numel() - 1 if include_last_offset else offsets.numel()
    if bags < 0:
        raise RuntimeError("embedding_bag: include_last_offset=True needs at least one offset")
    # the bag of element k is the number of bag starts at or before k, minus one
    starts = offsets[:bags] if include_last_offset else offsets
    from ..ops.search import searchsorted
    bag = searchsorted(starts, creation.arange(n, device=input.device), right=True) - 1
    return input, bag, bags


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False, mode="mean",
                  sparse=False, per_sample_weights=None, include_last_offset=False, padding_idx=None):
    """Sums, means or maxima of bags of embeddings, without materialising the bags' rows per bag.

    ``input`` is either (B, L) (B bags of L indices) or 1-D with ``offsets`` giving each bag's start. Indices equal
    to ``padding_idx`` are left out of their bag (and of a mean's count); an empty bag gives zeros.
    """
    if mode not in ("sum", "mean", "max"):
        raise ValueError("mode has to be one of sum, mean or max")
    if per_sample_weights is not None:
        if mode != "sum":
            raise NotImplementedError(
                f"embedding_bag: per_sample_weights was not None. per_sample_weights is only supported for "
                f"mode='sum' (got mode='{mode}'). Please open a feature request on GitHub.")
        if tuple(per_sample_weights.shape) != tuple(input.shape):
            raise ValueError(f"embedding_bag: If per_sample_weights ({tuple(per_sample_weights.shape)}) is not None, "
                             f"then it must have the same shape as the input ({tuple(input.shape)})")
    if input.dtype.is_floating_point or input.dtype is t_bool:
        raise RuntimeError("Expected tensor for argument #1 'indices' to have one of the following scalar types: "
                           f"Long, Int; but got {input.dtype} instead")
    flat, bag, bags = _bag_of_each_index(input, offsets, include_last_offset)
    num, dim = weight.shape
    if padding_idx is not None:
        if not -num <= padding_idx < num:
            raise AssertionError("padding_idx must be within the number of embeddings")
        padding_idx %= num
    flat = flat.to(int64)
    if flat.numel():
        lo, hi = launch.bounds(flat)
        if lo < 0 or hi >= num:
            raise IndexError("index out of range in self")
    rows = embedding(flat, weight, None, max_norm, norm_type, scale_grad_by_freq)
    keep = None
    if padding_idx is not None:
        keep = flat != padding_idx
        rows = rows * keep.unsqueeze(1).to(rows.dtype)
    if per_sample_weights is not None:
        rows = rows * per_sample_weights.reshape(-1, 1).to(rows.dtype)
    out = creation.zeros(bags, dim, dtype=weight.dtype, device=weight.device)
    if mode == "max":
        fill = creation.full((bags, dim), float("-inf"), dtype=weight.dtype, device=weight.device)
        if keep is not None:
            rows = rows.masked_fill(~keep.unsqueeze(1), float("-inf"))
        peak = fill.scatter_reduce(0, bag.unsqueeze(1).expand(-1, dim), rows, "amax", include_self=False)
        return peak.masked_fill(peak == float("-inf"), 0.0)
    out = out.index_add(0, bag, rows)
    if mode == "mean":
        ones = keep.to(weight.dtype) if keep is not None else creation.ones(flat.shape[0], dtype=weight.dtype,
                                                                             device=weight.device)
        count = creation.zeros(bags, dtype=weight.dtype, device=weight.device).index_add(0, bag, ones)
        out = out / count.clamp(min=1.0).unsqueeze(1)
    return out


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalise over the trailing ``normalized_shape`` dims (biased variance), then scale and shift."""
    normalized_shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(normalized_shape)
    if tuple(input.shape[input.dim() - k:]) != normalized_shape:
        raise RuntimeError(f"Given normalized_shape={list(normalized_shape)}, expected input with shape "
                           f"[*, {', '.join(str(n) for n in normalized_shape)}], but got input of size"
                           f"{list(input.shape)}")
    C = math.prod(normalized_shape)
    if C and input.dtype.is_floating_point and all(
            t is None or (t.dtype == input.dtype and t.device == input.device) for t in (weight, bias)):
        from ..ops.layer_norm import LayerNorm
        return LayerNorm.apply(input, weight, bias, C, eps)
    dims = tuple(range(input.dim() - k, input.dim()))
    mean = input.mean(dims, keepdim=True)
    centered = input - mean
    var = (centered * centered).mean(dims, keepdim=True)
    out = centered * (var + eps).rsqrt()
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    N, C = input.shape[0], input.shape[1]
    if C % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by num_groups, but got input of "
                           f"shape {list(input.shape)} and num_groups={num_groups}")
    x = input.reshape(N, num_groups, -1)
    mean = x.mean(-1, keepdim=True)
    var = ((x - mean) ** 2).mean(-1, keepdim=True)
    out = ((x - mean) * (var + eps).rsqrt()).reshape(input.shape)
    shape = (1, C) + (1,) * (input.dim() - 2)
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Batch normalisation over dim 1 (channels): batch statistics when training (updating the running
    estimates in place, the variance unbiased), the running estimates otherwise."""
    if input.dim() < 2:
        raise ValueError(f"expected 2D or more input (got {input.dim()}D input)")
    C = input.shape[1]
    dims = (0,) + tuple(range(2, input.dim()))
    shape = (1, C) + (1,) * (input.dim() - 2)
    n = input.numel() // C
    if training:
        if n <= 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input size "
                             f"{list(input.shape)}")
        from ..ops.batch_norm import BatchNormTrain, fused_ok
        fused = fused_ok(input, weight, bias)
        if fused:
            out, mean, var = BatchNormTrain.apply(input, weight, bias, eps)
        else:
            mean = input.mean(dims)
            centered = input - mean.reshape(shape)
            var = (centered * centered).mean(dims)
        if running_mean is not None:
            from ..autograd.grad_mode import no_grad
            with no_grad():
                m = momentum
                running_mean.mul_(1 - m).add_(mean.detach() * m)
                running_var.mul_(1 - m).add_(var.detach() * (m * n / (n - 1)))
        if fused:
            return out
        out = centered * (var.reshape(shape) + eps).rsqrt()
    else:
        if running_mean is None or running_var is None:
            raise RuntimeError("running_mean and running_var must be defined in evaluation mode")
        # per channel out = x * alpha + beta (alpha = weight / sqrt(var + eps), beta = bias - mean * alpha): two
        # passes over the activation instead of four, and PyTorch's own inference arithmetic
        alpha = (running_var + eps).rsqrt()
        if weight is not None:
            alpha = alpha * weight
        beta = -running_mean * alpha
        if bias is not None:
            beta = beta + bias
        return input * alpha.reshape(shape) + beta.reshape(shape)
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """input / max(||input||_p along dim, eps)."""
    norm = input.norm(p, dim, keepdim=True).clamp(min=eps)
    return input / norm


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """Sum over ``dim`` of x1 / max(||x1||, eps) * x2 / max(||x2||, eps) (inputs broadcast)."""
    n1 = x1.norm(2, dim, keepdim=True).clamp(min=eps)
    n2 = x2.norm(2, dim, keepdim=True).clamp(min=eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def pdist(input, p=2):
    """The p-norm distances between the rows of an (N, M) input: the upper triangle of cdist, row by row."""
    if input.dim() != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.dim()}D")
    if p < 0:
        raise RuntimeError("pdist only supports non-negative p values")
    from ..ops.contraction import triu_indices
    n = input.shape[0]
    i, j = triu_indices(n, n, 1, device=input.device).unbind(0)
    return (input.index_select(0, i) - input.index_select(0, j)).norm(p, -1)


def _pad_index(n, left, right, mode, device):
    """Source index along one dim for each padded position (reflect / replicate / circular)."""
    import numpy as np
    pos = np.arange(-left, n + right)
    if mode == "replicate":
        src = np.clip(pos, 0, n - 1)
    elif mode == "circular":
        # PyTorch crops by the negative pads first, then wraps around what is left
        lo_cut, hi_cut = max(-left, 0), max(-right, 0)
        m = n - lo_cut - hi_cut
        if m <= 0 and n + left + right > 0:
            raise RuntimeError(f"Negative padding value is resulting in an empty dimension: padding ({left}, "
                               f"{right}) of a dimension of size {n} leaves nothing to wrap around")
        src = lo_cut + np.mod(np.arange(-max(left, 0), m + max(right, 0)), max(m, 1))
    else:  # reflect
        if left >= n or right >= n:
            raise RuntimeError(f"Argument #4: Padding size should be less than the corresponding input dimension, "
                               f"but got: padding ({left}, {right}) at dimension with size {n}")
        period = 2 * (n - 1) if n > 1 else 1
        m = np.mod(pos, period)
        src = np.where(m >= n, period - m, m)
    return creation.tensor(src.astype(np.int64), device=device)


class _ConstantPad(Function):
    @staticmethod
    def forward(ctx, x, pads, value):
        ctx.spec = []
        shape = list(x._shape)
        for i, (lo, hi) in enumerate(pads):
            d = x.dim() - 1 - i
            shape[d] = x._shape[d] + lo + hi
        out = creation.full(shape, value, dtype=x.dtype, device=x.device)
        from ..ops.shape import apply_spec
        src_spec, dst_spec = [], []
        for d in range(x.dim()):
            i = x.dim() - 1 - d
            lo, hi = pads[i] if i < len(pads) else (0, 0)
            n = x._shape[d]
            s0, d0 = max(0, -lo), max(0, lo)
            length = n - s0 - max(0, -hi)
            src_spec.append(("s", d, s0, 1, max(length, 0)))
            dst_spec.append(("s", d, d0, 1, max(length, 0)))
        ctx.src_spec, ctx.dst_spec, ctx.in_shape = tuple(src_spec), tuple(dst_spec), x._shape
        if all(s[4] > 0 for s in src_spec):
            launch.copy_into(apply_spec(out, ctx.dst_spec), apply_spec(x, ctx.src_spec))
        return out

    @staticmethod
    def backward(ctx, g):
        from ..ops.shape import sliced
        gx = creation.zeros(ctx.in_shape, dtype=g.dtype, device=g.device)
        if all(s[4] > 0 for s in ctx.src_spec):
            gx[tuple(slice(s[2], s[2] + s[4]) for s in ctx.src_spec)] = sliced(g, ctx.dst_spec)
        return gx, None, None


def pad(input, pad, mode="constant", value=None):
    """Pad the last len(pad)//2 dims: ``pad = (left_last, right_last, left_prev, right_prev, ...)``."""
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pad) // 2 > input.dim():
        raise RuntimeError("Padding length should be less than or equal to two times the input dimension but got "
                           f"padding length {len(pad)} and input of dimension {input.dim()}")
    pairs = [(int(pad[2 * i]), int(pad[2 * i + 1])) for i in range(len(pad) // 2)]
    if mode == "constant":
        return _ConstantPad.apply(input, pairs, 0.0 if value is None else value)
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    _check_pad(input, pairs, mode, value)
    out = input
    for i, (lo, hi) in enumerate(pairs):
        d = input.dim() - 1 - i
        out = out.index_select(d, _pad_index(input.shape[d], lo, hi, mode, input.device))
    return out


def _interp_sizes(input, size, scale_factor, recompute_scale_factor):
    """Output sizes and the source-per-output scales of the spatial dims, as PyTorch computes them."""
    nsp = input.dim() - 2
    if (size is None) == (scale_factor is None):
        raise ValueError("either size or scale_factor should be defined" if size is None else
                         "only one of size or scale_factor should be defined")
    ins = list(input.shape[2:])
    if size is not None:
        sizes = list(size) if isinstance(size, (tuple, list)) else [size] * nsp
        if len(sizes) != nsp:
            raise ValueError(f"Input and output must have the same number of spatial dimensions, but got input with "
                             f"spatial dimensions of {ins} and output size of {sizes}. Please provide input tensor "
                             "in (N, C, d1, d2, ...,dK) format and output size in (o1, o2, ...,oK) format.")
        sizes = [int(v) for v in sizes]
        return sizes, [i / o if o > 0 else 0.0 for i, o in zip(ins, sizes)]
    factors = list(scale_factor) if isinstance(scale_factor, (tuple, list)) else [scale_factor] * nsp
    if len(factors) != nsp:
        raise ValueError(f"Input and scale_factor must have the same number of spatial dimensions, but got input "
                         f"with spatial dimensions of {ins} and scale_factor of shape {factors}. Please provide "
                         "input tensor in (N, C, d1, d2, ...,dK) format and scale_factor in (s1, s2, ...,sK) format.")
    sizes = [int(math.floor(i * float(f))) for i, f in zip(ins, factors)]
    if recompute_scale_factor:
        return sizes, [i / o if o > 0 else 0.0 for i, o in zip(ins, sizes)]
    return sizes, [1.0 / float(f) for f in factors]


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize the spatial dims of (N, C, L), (N, C, H, W) or (N, C, D, H, W) input, as PyTorch does.

    Modes: 'nearest' (source index floor(dst * scale), PyTorch's legacy rule) and 'nearest-exact'
    (floor((dst + 0.5) * scale)) on any of them; 'linear' (3-D input), 'bilinear' (4-D), 'trilinear' (5-D) and
    'bicubic' (4-D; Keys' cubic, a = -0.75), with ``align_corners``; 'area' (adaptive average pooling);
    ``antialias=True`` (4-D bilinear or bicubic, and 'lanczos', which needs it) widens the filter over every input
    sample that an output sample covers when shrinking, as PIL and torchvision do. The interpolating modes run one
    spatial dimension at a time (``ops.sample.resample``, a kernel per device, differentiable); uint8 input runs
    PyTorch's fixed-point passes (weights in 2**-22 units, each pass rounded and clamped) and returns uint8.

    Example::

        >>> F.interpolate(torch.arange(4.).reshape(1, 1, 2, 2), scale_factor=2).shape
        (1, 1, 4, 4)
    """
    import numpy as np

    from ..ops.sample import interp_taps, resample
    nsp = input.dim() - 2
    torch_modes = ("nearest", "linear", "bilinear", "bicubic", "trilinear", "lanczos", "area", "nearest-exact")
    if mode not in torch_modes or nsp not in (1, 2, 3) or mode in ("bicubic", "lanczos") and nsp != 2:
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.dim()}D) "
                                  f"for the modes: {' | '.join(torch_modes)} (got {mode})")
    if mode in ("linear", "bilinear", "trilinear") and nsp != {"linear": 1, "bilinear": 2, "trilinear": 3}[mode]:
        need = {"linear": 3, "bilinear": 4, "trilinear": 5}[mode]
        raise NotImplementedError(f"Got {input.dim()}D input, but {mode} mode needs {need}D input")
    if mode in ("nearest", "nearest-exact", "area") and align_corners is not None:
        raise ValueError("align_corners option can only be set with the interpolating modes: linear | bilinear | "
                         "bicubic | trilinear")
    if antialias and (mode not in ("bilinear", "bicubic", "lanczos") or nsp != 2):
        raise ValueError("Anti-alias option is restricted to bilinear, bicubic, and lanczos modes and requires a 4-D "
                         "tensor as input")
    if mode == "lanczos" and not antialias:
        raise ValueError("Lanczos mode requires antialias=True")
    if mode == "lanczos" and align_corners:
        raise ValueError("Lanczos mode does not support align_corners=True")
    sizes, scales = _interp_sizes(input, size, scale_factor, recompute_scale_factor)
    if any(o <= 0 for o in sizes):
        raise RuntimeError(f"Input and output sizes should be greater than 0, but got input {list(input.shape[2:])} "
                           f"and output {sizes}")
    if mode == "area":
        return (adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d)[nsp - 1](input, sizes)
    dt = input.dtype
    if mode.startswith("nearest"):
        out = input
        for k in reversed(range(nsp)):
            d = 2 + k
            n_in = input.shape[d]
            off = 0.5 if mode == "nearest-exact" else 0.0
            src = np.minimum(np.floor((np.arange(sizes[k]) + off) * scales[k]).astype(np.int64), n_in - 1)
            if dt.is_floating_point:  # one tap of weight 1: exact, and the resample kernel's speed
                out = resample(out, d, src[:, None], np.ones((sizes[k], 1)))
            else:
                out = out.index_select(d, creation.tensor(src, dtype=int64, device=input.device))
        return out
    if not dt.is_floating_point and dt.name != "uint8":
        kernel = {"linear": "upsample_linear1d", "bilinear": "upsample_bilinear2d", "trilinear": "upsample_trilinear3d",
                  "bicubic": "upsample_bicubic2d", "lanczos": "upsample_lanczos2d_aa"}[mode]
        raise NotImplementedError(f'"{kernel}" not implemented for \'{dt.legacy}\'')
    out = input if dt.is_floating_point else input.double()
    recomputed = size is not None or recompute_scale_factor
    kind = "bicubic" if mode == "bicubic" else "lanczos" if mode == "lanczos" else "linear"
    for k in reversed(range(nsp)):  # the last dimension first, as PyTorch's kernels sum their taps
        d = 2 + k
        n_in, n_out = input.shape[d], sizes[k]
        idx, w = interp_taps(n_in, n_out, kind, bool(align_corners), None if recomputed else scales[k], antialias,
                             single=dt.is_floating_point and dt is not float64)
        if n_in == n_out and np.array_equal(idx[:, 0], np.arange(n_in)) and np.all(w[:, 0] == 1) \
                and not np.any(w[:, 1:]):
            continue  # every sample reads its own position: nothing to do
        if dt.is_floating_point:
            out = resample(out, d, idx, w)
            continue
        # uint8 as PyTorch's (Pillow's) fixed-point passes: weights in units of 2**-22, each pass rounded half up
        # and clamped to [0, 255] (exact in float64: the sums are integers below 2**53)
        w = np.where(w < 0, np.trunc(w * 2.0 ** 22 - 0.5), np.trunc(w * 2.0 ** 22 + 0.5)) / 2.0 ** 22
        out = (resample(out, d, idx, w) + 0.5).floor().clamp(0, 255)
    if out is input:
        out = input.clone()
    return out if dt.is_floating_point else out.to(dt)


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Deprecated alias of ``interpolate`` (warns, as PyTorch does)."""
    warn("`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` instead.", UserWarning)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """``interpolate(mode='nearest')`` (deprecated, warns)."""
    warn("`nn.functional.upsample_nearest` is deprecated. Use `nn.functional.interpolate` instead.", UserWarning)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """``interpolate(mode='bilinear', align_corners=True)`` (deprecated, warns)."""
    warn("`nn.functional.upsample_bilinear` is deprecated. Use `nn.functional.interpolate` instead.", UserWarning)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# ---------------------------------------------------------------------------------------------------------------
# losses
# ---------------------------------------------------------------------------------------------------------------
def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{reduction} is not a valid value for reduction")


def _check_reduction(reduction):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")


def _legacy_reduction(size_average, reduce, reduction):
    """The reduction the deprecated ``size_average``/``reduce`` flags ask for (each defaults to True), with
    PyTorch's warning; ``reduction`` itself when neither is given."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    ret = ("mean" if size_average else "sum") if reduce else "none"
    warn(f"size_average and reduce args will be deprecated, please use reduction='{ret}' instead.")
    return ret


def _class_dim_last(x):
    """(N, C, d1, ...) -> (N*d1*..., C) for per-class ops."""
    if x.dim() <= 2:
        return x
    return x.movedim(1, -1).reshape(-1, x.shape[1])


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    """Negative log-likelihood of ``target`` classes under log-probabilities ``input`` (N, C[, d...])."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if target.dtype is not int64:
        raise RuntimeError(f"expected scalar type Long but found {target.dtype}")
    if input.dim() < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {input.dim()})")
    if input.dim() == 1:
        if target.dim() != 0:
            raise ValueError(f"Expected input batch_size (1) to match target batch_size ({target.shape[0]}).")
        input, target = input.unsqueeze(0), target.unsqueeze(0)
        squeeze = True
    else:
        squeeze = False
        if input.shape[0] != target.shape[0]:
            raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target batch_size "
                             f"({target.shape[0]}).")
        if tuple(input.shape[2:]) != tuple(target.shape[1:]):
            raise RuntimeError(f"Expected target size {[input.shape[0]] + list(input.shape[2:])}, got "
                               f"{list(target.shape)}")
    C = input.shape[1]
    out_shape = target.shape
    logp = _class_dim_last(input)
    t = target.reshape(-1)
    valid = t != ignore_index
    safe = t.masked_fill(~valid, 0)  # ignored targets read class 0 (weighted out below)
    if t.numel():
        lo, hi = launch.bounds(safe)  # one read-back checks every target
        if lo < 0 or hi >= C:
            raise IndexError(f"Target {hi if hi >= C else lo} is out of bounds.")
    picked = logp.gather(1, safe.unsqueeze(1)).squeeze(1)
    w = valid.to(input.dtype)
    if weight is not None:
        if weight.shape != (C,):
            raise RuntimeError(f"weight tensor should be defined either for all {C} classes or no classes but got "
                               f"weight tensor of shape: {list(weight.shape)}")
        w = w * weight.gather(0, safe)
    loss = -picked * w
    if reduction == "none":
        loss = loss.reshape(out_shape)
        return loss.squeeze(0) if squeeze else loss
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / w.sum()


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                  label_smoothing=0.0):
    """log_softmax over dim 1 (dim 0 for 1-D input) followed by nll_loss; ``target`` holds class indices or,
    when floating, class probabilities. ``label_smoothing`` mixes in the uniform distribution."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    if input.dim() == 2 and target.dim() == 1 and target.dtype is int64 and label_smoothing == 0 and \
            input.dtype.is_floating_point and input.shape[0] == target.shape[0] and input.device == target.device \
            and (weight is None or (weight.shape == (input.shape[1],) and weight.dtype is input.dtype)):
        return _CrossEntropy2d.apply(input, target, weight, ignore_index, reduction)
    class_dim = 0 if input.dim() == 1 else 1
    logp = log_softmax(input, class_dim)
    C = input.shape[class_dim]
    if target.dtype.is_floating_point:
        if target.shape != input.shape:
            raise RuntimeError(f"Expected target size {list(input.shape)}, got {list(target.shape)}")
        if label_smoothing > 0:
            target = target * (1 - label_smoothing) + label_smoothing / C
        prod = logp * target
        if weight is not None:
            prod = prod * weight.reshape((C,) + (1,) * (input.dim() - class_dim - 1))
        loss = -prod.sum(class_dim)
        if reduction == "mean":
            return loss.sum() / (input.numel() // C) if input.dim() > 1 else loss.sum()
        return _reduce(loss, reduction)
    nll = nll_loss(logp, target, weight, ignore_index=ignore_index, reduction=reduction)
    if label_smoothing <= 0:
        return nll
    ignore = target == ignore_index
    if weight is not None:
        smooth = -(logp * weight.reshape((C,) + (1,) * (input.dim() - class_dim - 1))).sum(class_dim)
    else:
        smooth = -logp.sum(class_dim)
    smooth = smooth.masked_fill(ignore, 0.0)
    if reduction == "mean":
        if weight is not None:
            denom = weight.gather(0, target[~ignore].reshape(-1)).sum()
        else:
            denom = (~ignore).sum()
        ret = smooth.sum() / denom
    elif reduction == "sum":
        ret = smooth.sum()
    else:
        ret = smooth
    return nll * (1 - label_smoothing) + ret * (label_smoothing / C)


class _CrossEntropy2d(Function):
    """cross_entropy for (N, C) logits and class indices as one node: a log-softmax kernel and an NLL kernel
    forward, one fused kernel backward."""

    @staticmethod
    @launch.half_compute()
    def forward(ctx, x, target, weight, ignore_index, reduction):
        N, C = x._shape
        x = x if x._contig else launch.contiguous(x)
        big = N * C >= launch.N_PAR
        # a large batch gets its log-softmax from the parallel kernel first; a small one in the same pass
        logp = launch.softmax(x, 1, True) if big else launch.empty((N, C), x._dtype, x._device)
        out, ctx.args = _CrossEntropy2d._rows(x, logp, not big, target, weight, ignore_index, reduction)
        ctx.save_for_backward(x, logp, target, weight)
        return out

    @staticmethod
    def _rows(x, logp, do_softmax, target, weight, ignore_index, reduction):
        """The loss from contiguous (N, C) logits ``x`` (their log-softmax is written to ``logp`` when
        ``do_softmax``; else ``logp`` holds it already), and the host arguments of ``backward``."""
        N, C = logp._shape
        t = target if target._contig else launch.contiguous(target)
        tv = t._storage[t._offset:t._offset + N]
        w = weight
        if w is not None and not w._contig:
            w = launch.contiguous(w)
        wv = w._storage[w._offset:w._offset + C] if w is not None else logp._storage[:1]
        losses = launch.empty((N,), logp._dtype, logp._device)
        out = losses if reduction == "none" else launch.empty((), logp._dtype, logp._device)
        act = launch._k(logp).activation
        bad, found, total = act.cross_entropy_rows(x._storage[x._offset:x._offset + N * C], logp._storage, do_softmax,
                                                   tv, wv, w is not None, ignore_index, N, C, losses._storage,
                                                   out._storage[:0 if reduction == "none" else 1],
                                                   reduction == "mean")
        if found:
            raise IndexError(f"Target {bad} is out of bounds.")
        return out, (tv, wv, w is not None, ignore_index, reduction, total)

    @staticmethod
    @launch.half_compute()
    def backward(ctx, g):
        x, logp, target, weight = ctx.saved_tensors
        tv, wv, has_w, ignore_index, reduction, total = ctx.args
        N, C = logp._shape
        if _state.enabled:
            if x is None:
                raise RuntimeError("cross_entropy: a second derivative (create_graph=True) through a compiled kernel "
                                   "that fused the logits' ops is not supported; compile with backend='eager'")
            # create_graph: the same gradient from recorded ops
            valid = (target != ignore_index)
            safe = target.masked_fill(~valid, 0)
            w_row = valid.to(x.dtype) if weight is None else valid.to(x.dtype) * weight.gather(0, safe)
            scale = g.expand(N) / total if reduction == "mean" else g.expand(N) if reduction == "sum" else g
            onehot = creation.zeros(N, C, dtype=x.dtype, device=x.device).scatter(1, safe.unsqueeze(1), 1.0)
            return (softmax(x, 1) - onehot) * (w_row * scale).unsqueeze(1), None, None, None, None
        scale = g if g._contig else launch.contiguous(g)
        sv = scale._storage[scale._offset:scale._offset + scale.numel()]
        out = launch.empty((N, C), logp._dtype, logp._device)
        act = launch._k(logp).activation
        (act.nll_softmax_backward_par if N * C >= launch.N_PAR and N > 1 else act.nll_softmax_backward)(
            logp._storage, tv, wv, has_w, ignore_index, sv, reduction == "none",
            total if reduction == "mean" else 1.0, N, C, out._storage)
        return out, None, None, None, None

    @staticmethod
    def fused(logp, target, weight, ignore_index, reduction, keep):
        """The loss of contiguous (N, C) log-probabilities computed elsewhere (a compiled kernel that fuses the
        elementwise ops before the log-softmax), and, when ``keep``, the autograd context ``forward`` would have
        left (without the logits: they were never written out)."""
        out, args = _CrossEntropy2d._rows(logp, logp, False, target, weight, ignore_index, reduction)
        if not keep:
            return out, args
        ctx = _CrossEntropy2d.__new__(_CrossEntropy2d)
        ctx.needs_input_grad = (True, False, False, False, False)
        ctx.save_for_backward(None, logp, target, weight)
        ctx.args = args
        return out, ctx


def _check_same_size(input, target, name):
    if input.shape != target.shape:
        from ..ops.common import warn
        warn(f"Using a target size ({target.shape}) that is different to the input size ({input.shape}). This will "
             "likely lead to incorrect results due to broadcasting. Please ensure they have the same size.")


class _MSELoss(Function):
    """mean or sum of (input - target)**2 for same-shape contiguous floating tensors: one pass forward (no
    difference or square tensors), (input - target) * 2g/n backward, written with Tensor ops (create_graph works)."""

    @staticmethod
    def forward(ctx, input, target, scale):
        ctx.save_for_backward(input, target)
        ctx.scale = scale
        return launch.sq_diff_sum(input, target, scale)

    @staticmethod
    def backward(ctx, g):
        input, target = ctx.saved_tensors
        need = ctx.needs_input_grad
        gi = (input - target) * (g * (2.0 * ctx.scale))
        return (gi if need[0] else None), (-gi if need[1] else None), None


def _weighted(loss, weight, input, reduction, mean_over_weight):
    """``loss * weight`` reduced as PyTorch's weighted regression losses do: 'mean' divides by the sum of the weights
    (``mean_over_weight``: mse_loss, l1_loss) or by the number of elements (huber_loss)."""
    if tuple(weight.shape) != tuple(input.shape):
        raise ValueError("Weights and input must have the same size.")
    loss = loss * weight
    if reduction == "mean" and mean_over_weight:
        return loss.sum() / weight.sum()
    return _reduce(loss, reduction)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    _check_same_size(input, target, "mse_loss")
    if weight is None and reduction != "none" and type(input) is Tensor and type(target) is Tensor \
            and input._shape == target._shape and input._dtype is target._dtype and input._device == target._device \
            and input._dtype.is_floating_point and input._contig and target._contig and input.numel() > 0:
        return _MSELoss.apply(input, target, 1.0 / input.numel() if reduction == "mean" else 1.0)
    d = input - target
    if weight is not None:
        return _weighted(d * d, weight, input, reduction, True)
    return _reduce(d * d, reduction)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    _check_same_size(input, target, "l1_loss")
    if weight is not None:
        return _weighted((input - target).abs(), weight, input, reduction, True)
    return _reduce((input - target).abs(), reduction)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    d = (input - target).abs()
    if beta == 0:
        return _reduce(d, reduction)
    loss = (d * d * (0.5 / beta)).where(d < beta, d - 0.5 * beta)
    return _reduce(loss, reduction)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    _check_reduction(reduction)
    d = (input - target).abs()
    loss = (d * d * 0.5).where(d < delta, (d - 0.5 * delta) * delta)
    if weight is not None:
        return _weighted(loss, weight, input, reduction, False)
    return _reduce(loss, reduction)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """-(t log x + (1 - t) log(1 - x)), each log clamped at -100 as in PyTorch."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if input.shape != target.shape:
        raise ValueError(f"Using a target size ({target.shape}) that is different to the input size "
                         f"({input.shape}) is deprecated. Please ensure they have the same size.")
    if input.numel() and (float(input.detach().min()) < 0 or float(input.detach().max()) > 1):
        raise RuntimeError("all elements of input should be between 0 and 1")
    log_x = input.log().clamp(min=-100)
    log_1mx = (1 - input).log().clamp(min=-100)
    loss = -(target * log_x + (1 - target) * log_1mx)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None, reduction="mean",
                                     pos_weight=None):
    """Sigmoid + binary cross-entropy in one numerically stable expression."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if input.shape != target.shape:
        raise ValueError(f"Target size ({target.shape}) must be the same as input size ({input.shape})")
    # log(1 + exp(-|x|)) + max(-x, 0) == -log(sigmoid(x)), without overflow
    log_sig_neg = (-input.abs()).exp().log1p() + (-input).clamp(min=0)
    if pos_weight is not None:
        coef = (pos_weight - 1) * target + 1
        loss = (1 - target) * input + coef * log_sig_neg
    else:
        loss = (1 - target) * input + log_sig_neg
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if log_target:
        loss = target.exp() * (target - input)
    else:
        loss = (target * (target.log() - input)).masked_fill(target == 0, 0.0)
    if reduction == "batchmean":
        return loss.sum() / input.shape[0] if input.dim() else loss.sum()
    return _reduce(loss, reduction)


# margin, embedding, likelihood and CTC losses (nn/_loss_functional.py)
from ._loss_functional import (__all__ as _loss_all, cosine_embedding_loss, ctc_loss, gaussian_nll_loss,  # noqa: E402,F401
                               hinge_embedding_loss, margin_ranking_loss, multi_margin_loss, multilabel_margin_loss,
                               multilabel_soft_margin_loss, pairwise_distance, poisson_nll_loss, soft_margin_loss,
                               triplet_margin_loss, triplet_margin_with_distance_loss)

__all__ += _loss_all
# ---------------------------------------------------------------------------------------------------------------
# 3-D, adaptive 1-D/3-D and power-average pooling; instance, local response and RMS normalisation
# ---------------------------------------------------------------------------------------------------------------
from ..ops.pooling import (adaptive_avg_pool1d, adaptive_avg_pool3d, adaptive_max_pool1d,  # noqa: E402
                           adaptive_max_pool3d, avg_pool3d, lp_pool1d, lp_pool2d, lp_pool3d, max_pool3d)

__all__ += ["max_pool3d", "avg_pool3d", "adaptive_avg_pool1d", "adaptive_avg_pool3d", "adaptive_max_pool1d",
            "adaptive_max_pool3d", "lp_pool1d", "lp_pool2d", "lp_pool3d", "instance_norm", "local_response_norm",
            "rms_norm"]


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-5):
    """Normalise each (sample, channel) plane over its spatial dims (biased variance), then scale and shift per
    channel. With ``use_input_stats`` the running estimates (if given) move by ``momentum`` towards the batch's
    mean statistics (the variance unbiased); without, they are used instead of the plane's own."""
    if input.dim() < 3:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size {list(input.shape)}")
    C = input.shape[1]
    dims = tuple(range(2, input.dim()))
    shape = (1, C) + (1,) * (input.dim() - 2)
    if use_input_stats:
        n = math.prod(input.shape[2:])
        if n <= 1:
            raise ValueError(f"Expected more than 1 spatial element when training, got input size "
                             f"{list(input.shape)}")
        mean = input.mean(dims, keepdim=True)
        centered = input - mean
        var = (centered * centered).mean(dims, keepdim=True)
        if running_mean is not None or running_var is not None:
            from ..autograd.grad_mode import no_grad
            with no_grad():
                if running_mean is not None:
                    running_mean.mul_(1 - momentum).add_(mean.detach().reshape(input.shape[0], C).mean(0) * momentum)
                if running_var is not None:
                    batch_var = var.detach().reshape(input.shape[0], C).mean(0)
                    running_var.mul_(1 - momentum).add_(batch_var * (momentum * n / (n - 1)))
        out = centered * (var + eps).rsqrt()
    else:
        if running_mean is None or running_var is None:
            raise RuntimeError("Expected running_mean and running_var to be defined when use_input_stats is false")
        out = (input - running_mean.reshape(shape)) * (running_var.reshape(shape) + eps).rsqrt()
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """Divide each element by (k + alpha / size * sum of squares over ``size`` neighbouring channels) ** beta; the
    channel window runs from c - size // 2 to c + (size - 1) // 2, zero outside.

    Shape: input (N, C, *) with at least one trailing dim; output the same.
    """
    if input.dim() < 3:
        raise ValueError(f"Expected 3D or higher dimensionality input (got {input.dim()} dimensions)")
    if input.numel() == 0:
        return input
    N, C = input.shape[0], input.shape[1]
    sq = (input * input).reshape(N, 1, C, -1)
    sq = pad(sq, (0, 0, size // 2, (size - 1) // 2))
    div = avg_pool2d(sq, (size, 1), stride=1).reshape(input.shape)
    return input / (div * alpha + k).pow(beta)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """x / sqrt(mean(x ** 2 over the trailing ``normalized_shape`` dims) + eps) * weight; ``eps`` None means the
    machine epsilon of the input's dtype."""
    normalized_shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(normalized_shape)
    if input.dim() < k or tuple(input.shape[input.dim() - k:]) != normalized_shape:
        raise RuntimeError(f"Given normalized_shape={list(normalized_shape)}, expected input with shape "
                           f"[*{', '.join(str(n) for n in normalized_shape)}], but got input of size"
                           f"{list(input.shape)}")
    if eps is None:
        from ..dtypes import finfo
        eps = finfo(input.dtype).eps
    dims = tuple(range(input.dim() - k, input.dim()))
    out = input * ((input * input).mean(dims, keepdim=True) + eps).rsqrt()
    if weight is not None:
        out = out * weight
    return out


# composites on 16-bit floats compute in float32 and round once; losses, norms, linear/conv and the other ops on
# PyTorch's autocast lists get their cast policy
from ..ops import autocast as _autocast, opmath as _opmath  # noqa: E402

_opmath.install(globals())
_autocast.install(globals())
from ..ops.attention import scaled_dot_product_attention  # noqa: E402,F401
from ._attention_functional import _canonical_mask, _none_or_dtype, multi_head_attention_forward  # noqa: E402,F401,E501
__all__ += ["scaled_dot_product_attention", "multi_head_attention_forward"]
scaled_dot_product_attention = _autocast.wrap(scaled_dot_product_attention, "scaled_dot_product_attention")


# max unpooling, the *_with_indices pooling forms, fractional max pooling
from ..ops.pool_extra import (adaptive_max_pool1d_with_indices, adaptive_max_pool2d_with_indices,  # noqa: E402,F401
                              adaptive_max_pool3d_with_indices, fractional_max_pool2d,
                              fractional_max_pool2d_with_indices, fractional_max_pool3d,
                              fractional_max_pool3d_with_indices, max_pool1d_with_indices, max_pool2d_with_indices,
                              max_pool3d_with_indices, max_unpool1d, max_unpool2d, max_unpool3d)

__all__ += ["max_unpool1d", "max_unpool2d", "max_unpool3d", "max_pool1d_with_indices", "max_pool2d_with_indices",
            "max_pool3d_with_indices", "adaptive_max_pool1d_with_indices", "adaptive_max_pool2d_with_indices",
            "adaptive_max_pool3d_with_indices", "fractional_max_pool2d", "fractional_max_pool2d_with_indices",
            "fractional_max_pool3d", "fractional_max_pool3d_with_indices"]
