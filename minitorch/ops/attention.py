"""Scaled dot-product attention as one differentiable node over fused (flash-attention style) kernels.

``scaled_dot_product_attention`` validates and canonicalises its inputs (bool masks become additive 0/-inf masks,
grouped key/value heads are repeated, batch dims broadcast), then runs ``SDPA``: its forward streams over key blocks
keeping only the per-row log-sum-exp, its backward recomputes the probabilities from it. A broadcast mask is passed
by strides, never expanded, and ``is_causal`` builds no mask at all. Query, key and value are read in place
through their strides (heads sliced out of a packed projection are not copied).

Two cases take a composite path of existing differentiable ops instead (matmul, softmax, dropout, matmul), which
holds the (L, S) probabilities: ``dropout_p > 0`` (dropout is not fused into the kernel) and a float ``attn_mask``
that itself requires grad (the kernels give no mask gradient).
"""
import math

from ..autograd.function import Function
from ..autograd.grad_mode import _state
from ..dtypes import bool as t_bool
from ..tensor import Tensor
from . import launch


def _flat(t):
    return t._storage[t._offset:t._offset + t.numel()]


class SDPA(Function):
    """(N, H, L, E), (N, H, S, E), (N, H, S, Ev) views with unit last stride -> (N, H, L, Ev), laid out in memory in
    q's dim order (heads read from an (N, L, H, E) projection give an (N, L, H, Ev) output, ready for the out
    projection); ``mask`` is None or an additive float (N, H, L, S) view of any strides (0 along broadcast dims)."""

    @staticmethod
    @launch.half_compute(layout=True)  # (the output follows q's dim order in float16/bfloat16 too)
    def forward(ctx, q, k, v, mask, causal, scale):
        out, lse = _forward(q, k, v, mask, causal, scale)
        if ctx.needs_input_grad[0] or ctx.needs_input_grad[1] or ctx.needs_input_grad[2]:
            ctx.save_for_backward(q, k, v, out, lse)
            ctx.args = (mask, causal, scale)
        return out

    @staticmethod
    @launch.half_compute()
    def backward(ctx, g):
        q, k, v, out, lse = ctx.saved_tensors
        mask, causal, scale = ctx.args
        if _state.enabled:  # create_graph: the gradients themselves must be differentiable
            return _composite_backward(q, k, v, mask, causal, scale, g) + (None, None, None)
        dq, dk, dv = _dense_like(q, q._shape[3]), _dense_like(k, k._shape[3]), _dense_like(v, v._shape[3])
        _backward(q, k, v, mask, causal, scale, out, lse, g, dq, dk, dv)
        return dq, dk, dv, None, None, None


def _forward(q, k, v, mask, causal, scale):
    """The fused forward kernel on (N, H, rows, width) views: the output (laid out in q's dim order) and lse."""
    N, H, L, E = q._shape
    S, Ev = v._shape[2], v._shape[3]
    out = _dense_like(q, Ev)
    lse = launch.empty((N, H, L), q._dtype, q._device)
    m, mst = _mask_args(mask, q)
    launch._k(q).attention.sdpa_forward(*_sv(q), *_sv(k), *_sv(v), m, *mst, mask is not None, bool(causal),
                                        float(scale), N, H, L, S, E, Ev, *_sv(out), lse._storage)
    return out, lse


def _backward(q, k, v, mask, causal, scale, out, lse, g, dq, dk, dv):
    """The fused backward kernel: writes every element of the views dq, dk, dv (no zeroing needed before)."""
    N, H, L, E = q._shape
    S, Ev = v._shape[2], v._shape[3]
    g = g if _unit_last(g) else launch.contiguous(g)
    m, mst = _mask_args(mask, q)
    launch._k(q).attention.sdpa_backward(*_sv(q), *_sv(k), *_sv(v), m, *mst, mask is not None, bool(causal),
                                         float(scale), N, H, L, S, E, Ev, *_sv(out), lse._storage, *_sv(g),
                                         *_sv(dq), *_sv(dk), *_sv(dv))


def _unit_last(t):
    return t._shape[-1] <= 1 or t._stride[-1] == 1


def _sv(t):
    """A 4-D view's storage from its offset and its (N, H, rows) strides, as the kernels take them."""
    return t._storage[t._offset:], (int(t._stride[0]), int(t._stride[1]), int(t._stride[2]))


def _dense_like(t, width):
    """A fresh (N, H, rows, width) tensor stored densely with its first three dims in t's stride order."""
    N, H, R = t._shape[:3]
    order = sorted(range(3), key=lambda d: -t._stride[d])
    stride = [0, 0, 0, 1]
    step = width
    for d in reversed(order):
        stride[d] = step
        step *= (N, H, R)[d]
    buf = launch.empty((N * H * R * width,), t._dtype, t._device)
    return launch._make(buf._storage, (N, H, R, width), tuple(stride), 0, t._dtype, t._device)


def _mask_args(mask, q):
    """The mask's storage from its offset and its four strides; a one-element dummy when there is no mask."""
    if mask is None:
        return launch.empty((1,), q._dtype, q._device)._storage, (0, 0, 0, 0)
    return mask._storage[mask._offset:], tuple(mask._stride)


def _check_inputs(query, key, value, attn_mask):
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor):
            raise TypeError(f"scaled_dot_product_attention(): argument '{name}' must be Tensor, not "
                            f"{type(t).__name__}")
    if query.dim() < 2 or key.dim() < 2 or value.dim() < 2:
        raise RuntimeError("Expected query, key, and value to all be  at least 2 dimensional, but got query.dim: "
                           f"{query.dim()} key.dim: {key.dim()} and value.dim: {value.dim()} instead.")
    if not (query.dtype == key.dtype == value.dtype):
        raise RuntimeError("Expected query, key, and value to have the same dtype, but got query.dtype: "
                           f"{query.dtype.legacy.lower()} key.dtype: {key.dtype.legacy.lower()} and value.dtype: "
                           f"{value.dtype.legacy.lower()} instead.")
    if not query.dtype.is_floating_point:
        raise RuntimeError(f"scaled_dot_product_attention(): expected floating point inputs, got {query.dtype}")
    if not (query.device == key.device == value.device):
        raise RuntimeError("Expected query, key, and value to have the same device type, but got query.device: "
                           f"{query.device} key.device: {key.device} and value.device: {value.device} instead.")
    if key.shape[-1] != query.shape[-1]:
        raise RuntimeError(f"scaled_dot_product_attention(): query and key must have the same embedding size, but "
                           f"got query {tuple(query.shape)} and key {tuple(key.shape)}")
    if key.shape[:-1] != value.shape[:-1]:
        raise RuntimeError(f"scaled_dot_product_attention(): key {tuple(key.shape)} and value "
                           f"{tuple(value.shape)} must agree in every dim but the last")
    if attn_mask is not None:
        if not isinstance(attn_mask, Tensor):
            raise TypeError(f"scaled_dot_product_attention(): attn_mask must be a Tensor or None, not "
                            f"{type(attn_mask).__name__}")
        if attn_mask.dtype is not t_bool and attn_mask.dtype != query.dtype:
            raise RuntimeError(f"Expected attn_mask dtype to be bool or float or to match query dtype, but got "
                               f"attn_mask.dtype: {attn_mask.dtype} and  query.dtype: {query.dtype} instead.")
        if attn_mask.device != query.device:
            raise RuntimeError(f"Expected attn_mask to be on {query.device}, but got {attn_mask.device}")


def _canonical_mask(attn_mask, query):
    """A bool mask (True: take part) as an additive mask of query's dtype (0 kept, -inf hidden)."""
    if attn_mask.dtype is t_bool:
        from ..creation import zeros
        return zeros(attn_mask.shape, dtype=query.dtype, device=query.device).masked_fill(attn_mask.logical_not(),
                                                                                          -math.inf)
    return attn_mask


def _collapse(shape, stride):
    """Strides of the (N, H) view of the batch dims ``shape`` (None when they do not collapse to one stride)."""
    if not shape:
        return 0, 0
    sh = stride[-1]
    n_stride = None
    prev = None  # (size, stride) of the inner dim already merged
    for size, st in zip(reversed(shape[:-1]), reversed(stride[:-1])):
        if size == 1:
            continue
        if prev is not None and st != prev[0] * prev[1]:
            return None
        n_stride = st if prev is None else n_stride
        prev = (size, st)
    return (0 if n_stride is None else n_stride), sh


def _probs(q, k, mask, causal, scale):
    """softmax(q k^T * scale + mask) from differentiable ops, with the causal cut; rows with no visible key give 0."""
    from .. import creation
    L, S = q.shape[-2], k.shape[-2]
    scores = q.matmul(k.transpose(-2, -1)) * scale
    if causal:
        keep = creation.ones((L, S), dtype=t_bool, device=q.device).tril()
        scores = scores.masked_fill(keep.logical_not(), -math.inf)
    if mask is not None:
        scores = scores + mask
    dead = (scores == -math.inf).all(-1, keepdim=True)
    return scores.masked_fill(dead, 0.0).softmax(-1).masked_fill(dead, 0.0)


def _composite(q, k, v, mask, dropout_p, causal, scale):
    """The unfused reference: softmax(q k^T * scale + mask) with dropout, times v; rows with no visible key give 0."""
    from .. import creation
    p = _probs(q, k, mask, causal, scale)
    if dropout_p > 0.0:
        keep = creation.rand(p.shape, dtype=p.dtype, device=p.device) >= dropout_p
        p = p * keep.to(p.dtype) * (1.0 / (1.0 - dropout_p)) if dropout_p < 1.0 else p * 0.0
    return p.matmul(v)


def _composite_backward(q, k, v, mask, causal, scale, g):
    """The SDPA gradients as differentiable ops (used under create_graph, for double backward): the probabilities P
    are recomputed; dV = P^T g, dS = P * (g V^T - rowsum(g V^T * P)), dQ = dS K * scale, dK = dS^T Q * scale."""
    p = _probs(q, k, mask, causal, scale)
    dv = p.transpose(-2, -1).matmul(g)
    dp = g.matmul(v.transpose(-2, -1))
    ds = p * (dp - (dp * p).sum(-1, keepdim=True))
    return ds.matmul(k) * scale, ds.transpose(-2, -1).matmul(q) * scale, dv


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                                 enable_gqa=False):
    """softmax(query key^T * scale + mask) value over the last two dims, computed by a fused kernel.

    Args:
        query (..., L, E), key (..., S, E), value (..., S, Ev): batch dims broadcast; with ``enable_gqa`` the
            head dim (-3) of key/value may divide query's, each key/value head serving a group of query heads.
        attn_mask: bool (True: the pair takes part) or float (added to the scores), broadcastable to (..., L, S).
        dropout_p: dropout on the attention weights (a composite, unfused path; pass 0.0 in eval).
        is_causal: hide key j from query i when j > i (top-left aligned); with ``attn_mask`` too, both apply (as
            PyTorch's math backend does).
        scale: defaults to 1 / sqrt(E).
    Returns: (..., L, Ev). Rows in which every key is masked give 0.
    """
    _check_inputs(query, key, value, attn_mask)
    if not 0.0 <= dropout_p <= 1.0:
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got {dropout_p}")
    L, E = query.shape[-2], query.shape[-1]
    S, Ev = key.shape[-2], value.shape[-1]
    if enable_gqa and query.dim() >= 3 and key.dim() >= 3 and key.shape[-3] != query.shape[-3]:
        hq, hk = query.shape[-3], key.shape[-3]
        if hk == 0 or hq % hk:
            raise RuntimeError(f"Number of heads in key and value must divide the number of heads in query, but got "
                               f"{hk} key/value heads for {hq} query heads")
        key = key.repeat_interleave(hq // hk, -3)
        value = value.repeat_interleave(hq // hk, -3)
    batch = launch.broadcast_shapes(tuple(query.shape[:-2]), tuple(key.shape[:-2]))
    scale = 1.0 / math.sqrt(E) if scale is None else float(scale)
    mask = _checked_mask(attn_mask, query, batch, L, S)
    if _composite_needed(mask, dropout_p):
        return _composite(query, key, value, mask, dropout_p, is_causal, scale)
    H = batch[-1] if batch else 1
    N = math.prod(batch[:-1]) if batch else 1

    def heads(t, last):
        """t as an (N, H, rows, last) view when its batch dims merge and its last stride is 1 (else a copy)."""
        t = t.expand(batch + (t.shape[-2], last))
        if not _unit_last(t) or _collapse(batch, list(t._stride[:-2])) is None:
            t = t.contiguous()
        return t.reshape(N, H, t.shape[-2], last)

    q, k, v = heads(query, E), heads(key, E), heads(value, Ev)
    out = SDPA.apply(q, k, v, _mask_heads(mask, batch, L, S), bool(is_causal), scale)
    return out.reshape(batch + (L, Ev))


def _checked_mask(attn_mask, query, batch, L, S):
    """attn_mask (None, bool or float) checked to broadcast to batch + (L, S), as an additive float mask."""
    if attn_mask is None:
        return None
    try:
        launch.broadcast_shapes(tuple(attn_mask.shape), batch + (L, S))
    except RuntimeError:
        raise RuntimeError(f"scaled_dot_product_attention(): attn_mask of shape {tuple(attn_mask.shape)} does "
                           f"not broadcast to the attention shape {batch + (L, S)}") from None
    if launch.broadcast_shapes(tuple(attn_mask.shape), batch + (L, S)) != batch + (L, S):
        raise RuntimeError(f"scaled_dot_product_attention(): attn_mask of shape {tuple(attn_mask.shape)} does "
                           f"not broadcast to the attention shape {batch + (L, S)}")
    return _canonical_mask(attn_mask, query)


def _composite_needed(mask, dropout_p):
    """Dropout, or a mask that needs a gradient: the fused kernels do neither."""
    return dropout_p > 0.0 or (mask is not None and mask.requires_grad and _state.enabled)


def _mask_heads(mask, batch, L, S):
    """The additive mask as the (N, H, L, S) view the kernels read (stride 0 along broadcast dims); None stays."""
    if mask is None:
        return None
    N, H = (math.prod(batch[:-1]), batch[-1]) if batch else (1, 1)
    full = batch + (L, S)
    st = launch.expand_strides(mask, full)
    nh = _collapse(batch, st[:-2])
    if nh is None:  # batch dims whose broadcast strides do not merge: a contiguous copy of the user's mask
        mask = mask.expand(full).contiguous()
        st = list(mask._stride)
        nh = _collapse(batch, st[:-2])
    return launch._make(mask._storage, (N, H, L, S), (nh[0], nh[1], st[-2], st[-1]), mask._offset, mask._dtype,
                        mask._device)


class PackedSDPA(Function):
    """Self-attention whose query, key and value are the three E-wide blocks of the last dim of one (L, N, 3E)
    in-projection (unit last stride), with H heads of width D = E / H: the kernels read the heads in place, and the
    backward writes dq, dk and dv straight into one gradient laid out as the projection, so neither direction
    copies a head or sums per-block gradients. Output (N, H, L, D), stored in the projection's (L, N) order."""

    @staticmethod
    @launch.half_compute()
    def forward(ctx, qkv, heads, mask, causal, scale):
        out, lse = _forward(*_packed_heads(qkv, heads), mask, causal, scale)
        if ctx.needs_input_grad[0]:
            ctx.save_for_backward(qkv, out, lse)
            ctx.args = (heads, mask, causal, scale)
        return out

    @staticmethod
    @launch.half_compute()
    def backward(ctx, g):
        qkv, out, lse = ctx.saved_tensors
        heads, mask, causal, scale = ctx.args
        if _state.enabled:  # create_graph: differentiable views and gradient formulas, packed by a cat
            from .shape import cat
            L, N, E3 = qkv.shape
            grads = _composite_backward(*_head_views(qkv, heads), mask, causal, scale, g)
            return cat([d.permute(2, 0, 1, 3).reshape(L, N, E3 // 3) for d in grads], -1), None, None, None, None
        dqkv = _dense_same_order(qkv)
        _backward(*_packed_heads(qkv, heads), mask, causal, scale, out, lse, g, *_packed_heads(dqkv, heads))
        return dqkv, None, None, None, None


def _packed_heads(t, heads):
    """The (N, H, L, D) query, key and value views of a packed (L, N, 3E) tensor with unit last stride."""
    L, N, E3 = t._shape
    E = E3 // 3
    sL, sN = t._stride[0], t._stride[1]
    shape, stride = (N, heads, L, E // heads), (sN, E // heads, sL, 1)
    return tuple(launch._make(t._storage, shape, stride, t._offset + b * E, t._dtype, t._device) for b in range(3))


def _head_views(qkv, heads):
    """``_packed_heads`` as differentiable views (narrow, reshape, permute) of a packed (L, N, 3E) tensor."""
    L, N, E3 = qkv.shape
    E = E3 // 3
    return tuple(qkv.narrow(-1, b * E, E).reshape(L, N, heads, E // heads).permute(1, 2, 0, 3) for b in range(3))


def _dense_same_order(t):
    """A fresh tensor of t's shape stored densely with its dims in t's stride order."""
    order = sorted(range(t.dim()), key=lambda d: -t._stride[d])
    stride = [0] * t.dim()
    step = 1
    for d in reversed(order):
        stride[d] = step
        step *= t._shape[d]
    buf = launch.empty((t.numel(),), t._dtype, t._device)
    return launch._make(buf._storage, tuple(t._shape), tuple(stride), 0, t._dtype, t._device)


def packed_self_attention(qkv, num_heads, attn_mask=None, dropout_p=0.0, is_causal=False):
    """Scaled dot-product self-attention over the heads of one packed (L, N, 3E) in-projection, as
    ``nn.MultiheadAttention`` runs it when query, key and value are one tensor: returns (N, H, L, E / H), equal
    to ``scaled_dot_product_attention`` on the three (N, H, L, E / H) head views of its E-wide blocks.
    ``attn_mask`` broadcasts to (N, H, L, L)."""
    L, N, E3 = qkv.shape
    E = E3 // 3
    if E3 != 3 * E or E % num_heads:
        raise RuntimeError(f"packed_self_attention(): the last dim {E3} is not 3 * num_heads * head_dim for "
                           f"num_heads={num_heads}")
    batch = (N, num_heads)
    mask = _checked_mask(attn_mask, qkv, batch, L, L)
    if _composite_needed(mask, dropout_p) or not qkv.dtype.is_floating_point:
        return scaled_dot_product_attention(*_head_views(qkv, num_heads), attn_mask, dropout_p, is_causal)
    if not _unit_last(qkv):
        qkv = qkv.contiguous()
    scale = 1.0 / math.sqrt(E // num_heads) if E else 1.0
    return PackedSDPA.apply(qkv, num_heads, _mask_heads(mask, batch, L, L), bool(is_causal), scale)
