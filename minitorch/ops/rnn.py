"""Recurrent layers as differentiable ops: one autograd node per layer and direction holds the whole time loop.

The sequence is always in packed form: ``x`` (N, I) rows grouped by step, step t holding the first ``bsz[t]``
sequences of the batch (a padded (T, B, I) input is the packed form with every batch size B). A node's forward is
one GEMM for the input projection of all steps, then per step one GEMM of the hidden state and one fused gate
kernel; its backward runs the steps in reverse with one GEMM and one fused kernel each, then one GEMM per weight
for the weight gradients of all steps at once (the gates and states it needs were saved by the forward).

The autograd engine gives a node one output, so a node returns the flat concatenation of its output (N, P), final
hidden state (B, P) and, for LSTM, final cell state (B, H); ``rnn`` cuts them apart with views.
"""
import numpy as np

from ..autograd.function import Function
from ..autograd.grad_mode import _state
from ..tensor import _contiguous_strides, _make
from . import launch
from .shape import cat, stack

MODES = {"RNN_TANH": 0, "RNN_RELU": 1, "LSTM": 2, "GRU": 3}
GATES = {0: 1, 1: 1, 2: 4, 3: 3}
_LSTM, _GRU = 2, 3


def _arr(t, shape=None):
    """The kernel array of a contiguous tensor (its storage run, reshaped)."""
    n = t.numel()
    a = t._storage[t._offset:t._offset + n] if (t._offset or t._storage.shape[0] != n) else t._storage
    return a.reshape(shape or t._shape)


def _contig(t):
    return t if t._contig else launch.contiguous(t)


def _view(flat, start, shape):
    return _make(flat._storage, tuple(shape), _contiguous_strides(tuple(shape)), flat._offset + start, flat._dtype,
                 flat._device)


ROWS_PER_PART = 4  # fewer batch rows per thread than this run serially
PAR_WORK = 1 << 18  # nor when all steps' hidden GEMMs (N rows x G*H x P) are this few multiply-adds (~10 us):
# a parallel launch costs ~5 us, once for the whole time loop


def _row_parts(B, N, GH, P):
    """How many row ranges (threads) a layer's time loop splits its batch of B into (N rows over all steps):
    independent sequences need no synchronisation, so each range runs its whole loop on its own thread."""
    if N * GH * P < PAR_WORK:
        return 1
    return max(1, min(launch._threads(), B // ROWS_PER_PART))


class RNNLayer(Function):
    """One layer and direction over a packed sequence: (x (N, I), h0 (B, P), c0 (B, H) or None, w_ih, w_hh, b_ih,
    b_hh, w_hr (or None)) -> flat [output (N, P) | h_n (B, P) | c_n (B, H) for LSTM]."""

    @staticmethod
    @launch.half_compute()
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, mode, bsz, offs, reverse):
        N = x._shape[0]
        B, P = h0._shape
        G = GATES[mode]
        GH = w_hh._shape[0]
        H = GH // G
        dt, dev = x._dtype, x._device
        k = launch._k(x)
        xw = launch.linear(x, w_ih, b_ih)
        whh = _contig(w_hh)
        bhh = _contig(b_hh) if b_hh is not None else launch.fill_(launch.empty((GH,), dt, dev), 0)
        nc = B * H if mode == _LSTM else 0
        flat = launch.empty((N * P + B * P + nc,), dt, dev)
        out, h = _view(flat, 0, (N, P)), _view(flat, N * P, (B, P))
        launch.copy_into(h, h0)
        if mode == _LSTM:
            c = _view(flat, N * P + B * P, (B, H))
            launch.copy_into(c, c0)
        else:
            c = out  # unused by the kernel
        save = any(ctx.needs_input_grad)  # inference keeps nothing per step: tc and rr shrink to (B, H) scratch
        R = N if save else B
        hprev = launch.empty((N, P), dt, dev) if save else out
        cprev = launch.empty((N, H), dt, dev) if mode == _LSTM and save else out
        gates = launch.empty((N, 4 * H), dt, dev) if mode in (_LSTM, _GRU) and save else out
        tc = launch.empty((R, H), dt, dev) if mode == _LSTM else launch.empty((1, H), dt, dev)
        has_proj = w_hr is not None
        rr = launch.empty((R, H), dt, dev) if has_proj else out
        whr = _contig(w_hr) if has_proj else whh
        hg = launch.empty((B, GH), dt, dev)
        k.matmul.set_blas_threads(1)
        if N:
            args = (mode, _arr(xw), _arr(bhh), _arr(whh), _arr(whr), has_proj, bsz, offs, bool(reverse), _arr(h),
                    _arr(c), _arr(out), _arr(hprev), _arr(cprev), _arr(gates), _arr(tc), _arr(rr), _arr(hg), save)
            parts = _row_parts(B, N, GH, P)
            if parts > 1:
                k.rnn.rnn_forward_par(*args, parts)
            else:
                k.rnn.rnn_forward(*args)
        if save:
            ctx.save_for_backward(x, w_ih, w_hh, w_hr)
            ctx.state = (hprev, cprev, gates, tc, rr, out, whr)
            ctx.args = (mode, bsz, offs, reverse, B, P, H, b_ih is not None, b_hh is not None)
            ctx.inputs = (x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr)  # for a double backward's recomputation
        return flat

    @staticmethod
    @launch.half_compute()
    def backward(ctx, g):
        if _state.enabled:  # create_graph: gradients through a differentiable recomputation of the layer
            return _composite_backward(ctx, g)
        x, w_ih, w_hh, w_hr = ctx.saved_tensors
        hprev, cprev, gates, tc, rr, out, whr = ctx.state
        mode, bsz, offs, reverse, B, P, H, has_bih, has_bhh = ctx.args
        need = ctx.needs_input_grad
        N, In = x._shape
        GH = w_hh._shape[0]
        dt, dev = x._dtype, x._device
        k = launch._k(x)
        g = _contig(g)
        dout = _view(g, 0, (N, P))
        dh = _copy(_view(g, N * P, (B, P)))
        if mode == _LSTM:
            dc = _copy(_view(g, N * P + B * P, (B, H)))
        else:
            dc = dh
        dgx = launch.empty((N, GH), dt, dev)
        dgh = launch.empty((N, GH), dt, dev) if mode == _GRU else dgx
        has_proj = w_hr is not None
        dproj = launch.empty((N, P), dt, dev) if has_proj else dgx
        dht = launch.empty((B, P), dt, dev)
        dr = launch.empty((B, H), dt, dev) if has_proj else dht
        tmp = launch.empty((B, P), dt, dev)
        whh = _contig(w_hh)
        k.matmul.set_blas_threads(1)
        if N:
            args = (mode, _arr(dout), _arr(dh), _arr(dc), _arr(whh), _arr(whr), has_proj, bsz, offs, bool(reverse),
                    _arr(hprev), _arr(cprev), _arr(gates), _arr(tc), _arr(out), _arr(dgx), _arr(dgh), _arr(dproj),
                    _arr(dht), _arr(dr), _arr(tmp))
            parts = _row_parts(B, N, GH, P)
            if parts > 1:
                k.rnn.rnn_backward_par(*args, parts)
            else:
                k.rnn.rnn_backward(*args)
        else:
            launch.fill_(dgx, 0)
            launch.fill_(dgh, 0)
            if has_proj:
                launch.fill_(dproj, 0)
        gx, gwih, gbih = launch.linear_backward(dgx, x if need[3] else None, w_ih if need[0] else None, In, need[0],
                                                need[3], need[5])
        _, gwhh, gbhh = launch.linear_backward(dgh, hprev if need[4] else None, None, P, False, need[4], need[6])
        gwhr = None
        if has_proj and need[7]:
            _, gwhr, _ = launch.linear_backward(dproj, rr, None, H, False, True, False)
        return (gx, dh if need[1] else None, dc if mode == _LSTM and need[2] else None, gwih, gwhh, gbih, gbhh, gwhr,
                None, None, None, None)


def _composite_backward(ctx, g):
    """The layer's gradients as differentiable ops (create_graph=True, for double backward): the time loop is run
    again from ops with their own backward (``_composite_layer``) and differentiated with the engine."""
    from ..autograd.engine import grad
    from ..autograd.grad_mode import enable_grad
    mode, bsz, offs, reverse = ctx.args[:4]
    inputs = ctx.inputs
    need = ctx.needs_input_grad
    wrt = [t for t, n in zip(inputs, need) if n]
    with enable_grad():
        flat = _composite_layer(mode, *inputs, bsz, offs, reverse)
        got = iter(grad(flat, wrt, g, create_graph=True, allow_unused=True))
    return tuple(next(got) if n else None for n in need[:8]) + (None, None, None, None)


def _composite_layer(mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, bsz, offs, reverse):
    """The RNNLayer forward (same flat result) from differentiable ops, step by step: PyTorch's gate order (LSTM
    i, f, g, o; GRU r, z, n), rows of step t the first bsz[t] sequences (rows not yet or no longer active keep their
    state, which makes the reverse direction start each sequence from h0 at its last step)."""
    from ..nn.functional import linear
    B = h0._shape[0]
    xw = linear(x, w_ih, b_ih)
    h, c = h0, c0
    outs = [None] * len(bsz)
    order = range(len(bsz) - 1, -1, -1) if reverse else range(len(bsz))
    for t in order:
        n, o = int(bsz[t]), int(offs[t])
        gx = xw.narrow(0, o, n)
        hp = h.narrow(0, 0, n)
        gh = linear(hp, w_hh, b_hh)
        if mode == _LSTM:
            i, f, gg, og = (gx + gh).chunk(4, 1)
            cn = f.sigmoid() * c.narrow(0, 0, n) + i.sigmoid() * gg.tanh()
            hn = og.sigmoid() * cn.tanh()
            if w_hr is not None:
                hn = linear(hn, w_hr)
            c = cat([cn, c.narrow(0, n, B - n)], 0) if n < B else cn
        elif mode == _GRU:
            xr, xz, xn = gx.chunk(3, 1)
            hr, hz, hn_ = gh.chunk(3, 1)
            r, z = (xr + hr).sigmoid(), (xz + hz).sigmoid()
            hn = (1 - z) * (xn + r * hn_).tanh() + z * hp
        else:
            a = gx + gh
            hn = a.tanh() if mode == 0 else a.relu()
        h = cat([hn, h.narrow(0, n, B - n)], 0) if n < B else hn
        outs[t] = hn
    parts = ([cat(outs, 0)] if outs else []) + [h] + ([c] if mode == _LSTM else [])
    return cat([p.reshape(-1) for p in parts], 0)


def _copy(t):
    """A fresh contiguous copy (the kernel writes into it; the incoming gradient is not ours to change)."""
    out = launch.empty(t._shape, t._dtype, t._device)
    launch.copy_into(out, t)
    return out


def steps(batch_sizes):
    """(bsz, offs) int64 host arrays from a sequence of per-step batch sizes."""
    bsz = np.ascontiguousarray(batch_sizes, dtype=np.int64)
    offs = np.zeros_like(bsz)
    if bsz.shape[0] > 1:
        np.cumsum(bsz[:-1], out=offs[1:])
    return bsz, offs


def _check_layer(mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, bsz):
    """Everything the kernels would otherwise read out of bounds: shapes, dtypes, devices, the step sizes."""
    N, In = x._shape
    B, P = h0._shape
    GH = w_hh._shape[0] if w_hh.dim() == 2 else -1
    H = GH // GATES[mode]
    want = [("weight_ih", w_ih, (GH, In)), ("weight_hh", w_hh, (GATES[mode] * H, P))]
    want += [("bias_ih", b_ih, (GH,)), ("bias_hh", b_hh, (GH,))]
    if w_hr is not None:
        want.append(("weight_hr", w_hr, (P, H)))
    elif P != H:
        raise RuntimeError(f"hidden state of size {P} for a layer of hidden size {H} without a projection")
    if mode == _LSTM:
        want.append(("cell state", c0, (B, H)))
    for name, t, shape in want:
        if t is None:
            continue
        if t._shape != shape:
            raise RuntimeError(f"{name} of shape {list(t._shape)} does not fit the layer: expected {list(shape)} "
                               f"(input size {In}, hidden size {H}, {GATES[mode]} gates, state size {P})")
        if t._dtype is not x._dtype:
            raise RuntimeError(f"expected {name} to have dtype {x._dtype}, but got {t._dtype}")
        if t._device != x._device:
            raise RuntimeError(f"expected {name} on {x._device}, but it is on {t._device}")
    if h0._dtype is not x._dtype or h0._device != x._device:
        raise RuntimeError(f"hidden state ({h0._dtype}, {h0._device}) does not match the input ({x._dtype}, "
                           f"{x._device})")
    if int(bsz.sum()) != N or (bsz.shape[0] and (bsz.min() < min(B, 1) or bsz[0] > B or np.any(bsz[1:] > bsz[:-1]))):
        raise RuntimeError(f"batch_sizes {bsz.tolist()} do not describe a packed sequence of {N} rows and batch {B} "
                           "(positive, non-increasing, summing to the rows)")


def rnn_layer(mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, bsz, offs, reverse):
    """One layer and direction: (output (N, P), h_n (B, P), c_n (B, H) or None)."""
    _check_layer(mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, bsz)
    N = x._shape[0]
    B, P = h0._shape
    flat = RNNLayer.apply(x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, mode, bsz, offs, reverse)
    out = flat.narrow(0, 0, N * P).view(N, P)
    hn = flat.narrow(0, N * P, B * P).view(B, P)
    cn = None
    if mode == _LSTM:
        H = c0._shape[1]
        cn = flat.narrow(0, N * P + B * P, B * H).view(B, H)
    return out, hn, cn


def rnn(mode, x, batch_sizes, hx, cx, weights, num_layers, dropout, training, bidirectional, dropout_fn=None):
    """A stack of recurrent layers over a packed sequence x (N, I) with per-step ``batch_sizes``.

    hx (L*D, B, P), cx (L*D, B, H) or None; weights: one (w_ih, w_hh, b_ih, b_hh, w_hr) tuple per layer and
    direction (None for absent ones). ``dropout_fn(t, p, training)`` applies dropout between layers.
    Returns (output (N, D*P), h_n (L*D, B, P), c_n (L*D, B, H) or None).
    """
    bsz, offs = steps(batch_sizes)
    D = 2 if bidirectional else 1
    hs, cs = [], []
    layer_in = x
    for layer in range(num_layers):
        outs = []
        for d in range(D):
            i = layer * D + d
            w_ih, w_hh, b_ih, b_hh, w_hr = weights[i]
            out, hn, cn = rnn_layer(mode, layer_in, hx[i], cx[i] if cx is not None else None, w_ih, w_hh, b_ih, b_hh,
                                    w_hr, bsz, offs, d == 1)
            outs.append(out)
            hs.append(hn)
            cs.append(cn)
        layer_in = outs[0] if D == 1 else cat(outs, 1)
        if dropout and training and layer < num_layers - 1 and dropout_fn is not None:
            layer_in = dropout_fn(layer_in, dropout, training)
    h_n = stack(hs, 0)
    c_n = stack(cs, 0) if mode == _LSTM else None
    return layer_in, h_n, c_n
