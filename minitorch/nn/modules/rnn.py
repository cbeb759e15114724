"""Recurrent layers: RNN, LSTM, GRU and their single-step cells, with PyTorch's parameters, gate order and shapes.

Every layer and direction runs as one differentiable op (``ops.rnn``): the input projection of all steps is one
GEMM, each step one GEMM of the hidden state and one fused gate kernel, and the backward its own fused kernels.
"""
import math
import numbers
import warnings

from ... import creation
from ...ops import rnn as R
from ...ops.index import index_select
from .. import functional as F, init
from ..parameter import Parameter
from ..utils.rnn import PackedSequence
from .module import Module

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _dropout(t, p, training):
    return F.dropout(t, p, training)


class RNNBase(Module):
    """The parameters and the forward shared by ``RNN``, ``LSTM`` and ``GRU`` (``mode`` names the cell)."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__()
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        num_directions = 2 if bidirectional else 1
        if not isinstance(dropout, numbers.Number) or not 0 <= dropout <= 1 or isinstance(dropout, bool):
            raise ValueError("dropout should be a number in range [0, 1] representing the probability of an element "
                             "being zeroed")
        if not isinstance(hidden_size, int):
            raise TypeError(f"hidden_size should be of type int, got: {type(hidden_size).__name__}")
        if not isinstance(input_size, int):
            raise TypeError(f"input_size should be of type int, got: {type(input_size).__name__}")
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so non-zero dropout "
                          f"expects num_layers greater than 1, but got dropout={dropout} and num_layers={num_layers}")
        if mode not in _GATES:
            raise ValueError(f"Unrecognized RNN mode: {mode}")
        gate_size = _GATES[mode] * hidden_size
        self._flat_weights_names = []
        self._all_weights = []
        kw = {"device": device, "dtype": dtype}
        for layer in range(num_layers):
            for direction in range(num_directions):
                real_hidden = proj_size if proj_size > 0 else hidden_size
                layer_input = input_size if layer == 0 else real_hidden * num_directions
                w_ih = Parameter(creation.empty(gate_size, layer_input, **kw))
                w_hh = Parameter(creation.empty(gate_size, real_hidden, **kw))
                params = [w_ih, w_hh]
                if bias:
                    params += [Parameter(creation.empty(gate_size, **kw)), Parameter(creation.empty(gate_size, **kw))]
                if proj_size > 0:
                    params.append(Parameter(creation.empty(proj_size, hidden_size, **kw)))
                suffix = "_reverse" if direction == 1 else ""
                names = ["weight_ih_l{}{}", "weight_hh_l{}{}"]
                if bias:
                    names += ["bias_ih_l{}{}", "bias_hh_l{}{}"]
                if proj_size > 0:
                    names += ["weight_hr_l{}{}"]
                names = [n.format(layer, suffix) for n in names]
                for name, p in zip(names, params):
                    setattr(self, name, p)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    @property
    def _flat_weights(self):
        return [getattr(self, n, None) for n in self._flat_weights_names]

    @property
    def all_weights(self):
        return [[getattr(self, w) for w in ws] for ws in self._all_weights]

    def flatten_parameters(self):
        """A no-op: the weights are used where they are (PyTorch compacts them for cuDNN)."""

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for w in self.parameters():
            init.uniform_(w, -stdv, stdv)

    def extra_repr(self):
        s = "{input_size}, {hidden_size}"
        if self.proj_size != 0:
            s += ", proj_size={proj_size}"
        if self.num_layers != 1:
            s += ", num_layers={num_layers}"
        if self.bias is not True:
            s += ", bias={bias}"
        if self.batch_first is not False:
            s += ", batch_first={batch_first}"
        if self.dropout != 0:
            s += ", dropout={dropout}"
        if self.bidirectional is not False:
            s += ", bidirectional={bidirectional}"
        return s.format(**self.__dict__)

    def __setstate__(self, state):
        self.__dict__.update(state)

    # forward -------------------------------------------------------------------------------------------------
    def _weights(self):
        D = 2 if self.bidirectional else 1
        ws = []
        for i in range(self.num_layers * D):
            names = self._all_weights[i]
            p = [getattr(self, n) for n in names]
            w_ih, w_hh = p[0], p[1]
            b_ih, b_hh = (p[2], p[3]) if self.bias else (None, None)
            w_hr = p[-1] if self.proj_size > 0 else None
            ws.append((w_ih, w_hh, b_ih, b_hh, w_hr))
        return ws

    def _check_input(self, data, batch_sizes_given):
        w = self.weight_ih_l0
        if data.dtype != w.dtype:
            a, b = f"torch.{data.dtype.name}", f"torch.{w.dtype.name}"  # PyTorch's words (import ... as torch)
            raise ValueError(f"RNN input dtype ({a}) does not match weight dtype ({b}). Convert input: "
                             f"input.to({b}), or convert model: model.to({a})")
        expected = 2 if batch_sizes_given else 3
        if data.dim() != expected:
            raise RuntimeError(f"input must have {expected} dimensions, got {data.dim()}")
        if self.input_size != data.shape[-1]:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected {self.input_size}, got "
                               f"{data.shape[-1]}")
        if data.device != w.device:
            raise RuntimeError(f"Input and parameter tensors are not at the same device, found input tensor at "
                               f"{data.device} and parameter tensor at {w.device}")

    def _expected_hidden(self, mini_batch):
        D = 2 if self.bidirectional else 1
        real = self.proj_size if self.proj_size > 0 else self.hidden_size
        return (self.num_layers * D, mini_batch, real)

    @staticmethod
    def _check_hidden(hx, expected, msg="Expected hidden size {}, got {}"):
        if tuple(hx.shape) != expected:
            raise RuntimeError(msg.format(expected, list(hx.shape)))

    def forward(self, input, hx=None):
        is_lstm = self.mode == "LSTM"
        name = type(self).__name__ if type(self).__name__ in ("RNN", "LSTM", "GRU") else self.mode
        packed = isinstance(input, PackedSequence)
        batched = True
        if packed:
            data, batch_sizes, sorted_indices, unsorted_indices = input
            bsz = batch_sizes.tolist()
            B = int(bsz[0]) if bsz else 0
            self._check_input(data, True)
        else:
            sorted_indices = unsorted_indices = None
            if input.dim() not in (2, 3):
                raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.dim()}D instead")
            batched = input.dim() == 3
            if not batched:
                input = input.unsqueeze(1)
            elif self.batch_first:
                input = input.transpose(0, 1)
            self._check_input(input, False)
            T, B = input.shape[0], input.shape[1]
            if T == 0:
                raise RuntimeError("Expected sequence length to be larger than 0 in RNN")
            bsz = [B] * T
            data = input.reshape(T * B, self.input_size)
        D = 2 if self.bidirectional else 1
        h_shape = self._expected_hidden(B)
        c_shape = (self.num_layers * D, B, self.hidden_size)
        if hx is None:
            kw = {"dtype": data.dtype, "device": data.device}
            h0 = creation.zeros(h_shape, **kw)
            c0 = creation.zeros(c_shape, **kw) if is_lstm else None
        else:
            if is_lstm:
                if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                    raise RuntimeError("LSTM expects hx to be a tuple (h_0, c_0)")
                h0, c0 = hx
            else:
                h0, c0 = hx, None
            hs = (h0, c0) if is_lstm else (h0,)
            if not packed:
                want = 3 if batched else 2
                if any(t.dim() != want for t in hs):
                    kind = "batched 3-D" if batched else "unbatched 2-D"
                    if is_lstm:
                        raise RuntimeError(f"For {kind} input, hx and cx should also be {want}-D but got "
                                           f"({h0.dim()}-D, {c0.dim()}-D) tensors")
                    raise RuntimeError(f"For {kind} input, hx should also be {want}-D but got {h0.dim()}-D tensor")
                if not batched:
                    h0 = h0.unsqueeze(1)
                    c0 = c0.unsqueeze(1) if is_lstm else None
            elif sorted_indices is not None:
                h0 = index_select(h0, 1, sorted_indices)
                c0 = index_select(c0, 1, sorted_indices) if is_lstm else None
            if is_lstm:
                self._check_hidden(h0, h_shape, "Expected hidden[0] size {}, got {}")
                self._check_hidden(c0, c_shape, "Expected hidden[1] size {}, got {}")
            else:
                self._check_hidden(h0, h_shape)
            for t in (h0, c0) if is_lstm else (h0,):
                if t.dtype != data.dtype:
                    raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got {t.dtype.legacy} and "
                                       f"{data.dtype.legacy}")
                if t.device != data.device:
                    raise RuntimeError(f"Input and hidden tensors are not at the same device, found input tensor at "
                                       f"{data.device} and hidden tensor at {t.device}")
        L = self.num_layers
        hx_list = [h0[i] for i in range(L * D)]
        cx_list = [c0[i] for i in range(L * D)] if is_lstm else None
        out, h_n, c_n = R.rnn(R.MODES[self.mode], data, bsz, hx_list, cx_list, self._weights(), L, self.dropout,
                              self.training, self.bidirectional, _dropout)
        if packed:
            output = PackedSequence(out, batch_sizes, sorted_indices, unsorted_indices)
            if unsorted_indices is not None:
                h_n = index_select(h_n, 1, unsorted_indices)
                c_n = index_select(c_n, 1, unsorted_indices) if is_lstm else None
        else:
            output = out.view(len(bsz), B, out.shape[1])
            if not batched:
                output = output.squeeze(1)
                h_n = h_n.squeeze(1)
                c_n = c_n.squeeze(1) if is_lstm else None
            elif self.batch_first:
                output = output.transpose(0, 1)
        return (output, (h_n, c_n)) if is_lstm else (output, h_n)


class RNN(RNNBase):
    """Elman RNN: h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), act tanh or relu.

    Args: input_size, hidden_size, num_layers=1, nonlinearity='tanh', bias=True, batch_first=False, dropout=0.0,
    bidirectional=False. Returns (output, h_n).
    Shape: input (L, N, H_in) (N, L, H_in with batch_first, or (L, H_in) unbatched, or a PackedSequence);
    h_0/h_n (D * num_layers, N, H_out); output (L, N, D * H_out).

    Example::

        >>> rnn = nn.RNN(10, 20, 2)
        >>> output, hn = rnn(minitorch.randn(5, 3, 10), minitorch.randn(2, 3, 20))
    """

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if len(args) > 3:
            self.nonlinearity = args[3]
            args = args[:3] + args[4:]
        else:
            self.nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if self.nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif self.nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"Unknown nonlinearity '{self.nonlinearity}'. Select from 'tanh' or 'relu'.")
        super().__init__(mode, *args, **kwargs)


class LSTM(RNNBase):
    """Long short-term memory (gates i, f, g, o), optionally with a projection of the hidden state (proj_size).

    Returns (output, (h_n, c_n)); h_n is (D * num_layers, N, proj_size or hidden_size), c_n
    (D * num_layers, N, hidden_size).

    Example::

        >>> lstm = nn.LSTM(10, 20, 2)
        >>> output, (hn, cn) = lstm(minitorch.randn(5, 3, 10))
    """

    def __init__(self, *args, **kwargs):
        super().__init__("LSTM", *args, **kwargs)


class GRU(RNNBase):
    """Gated recurrent unit (gates r, z, n; n = tanh(W_in x + b_in + r * (W_hn h + b_hn))). Returns (output, h_n).

    Example::

        >>> gru = nn.GRU(10, 20, 2)
        >>> output, hn = gru(minitorch.randn(5, 3, 10))
    """

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", *args, **kwargs)


# ---------------------------------------------------------------------------------------------------------------
# cells: one step, (batch, features) in and out
# ---------------------------------------------------------------------------------------------------------------
class RNNCellBase(Module):
    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        kw = {"device": device, "dtype": dtype}
        self.weight_ih = Parameter(creation.empty(num_chunks * hidden_size, input_size, **kw))
        self.weight_hh = Parameter(creation.empty(num_chunks * hidden_size, hidden_size, **kw))
        if bias:
            self.bias_ih = Parameter(creation.empty(num_chunks * hidden_size, **kw))
            self.bias_hh = Parameter(creation.empty(num_chunks * hidden_size, **kw))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def extra_repr(self):
        s = "{input_size}, {hidden_size}"
        if "bias" in self.__dict__ and self.bias is not True:
            s += ", bias={bias}"
        if "nonlinearity" in self.__dict__ and self.nonlinearity != "tanh":
            s += ", nonlinearity={nonlinearity}"
        return s.format(**self.__dict__)

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for w in self.parameters():
            init.uniform_(w, -stdv, stdv)

    def _step(self, mode, input, hx):
        """One step for input (B, I) or (I,), hx a tensor or an (h, c) pair (or None)."""
        is_lstm = mode == 2
        name = type(self).__name__
        if input.dim() not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.dim()}D instead")
        hs = None if hx is None else (tuple(hx) if is_lstm else (hx,))
        if hs is not None:
            for t in hs:
                if t.dim() not in (1, 2):
                    raise ValueError(f"{name}: Expected hidden to be 1D or 2D, got {t.dim()}D instead")
        batched = input.dim() == 2
        if not batched:
            input = input.unsqueeze(0)
        B = input.shape[0]
        if hs is None:
            z = creation.zeros(B, self.hidden_size, dtype=input.dtype, device=input.device)
            hs = (z, z) if is_lstm else (z,)
        elif not batched:
            hs = tuple(t.unsqueeze(0) for t in hs)
        if input.shape[1] != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {input.shape[1]} expected {self.input_size}")
        for i, t in enumerate(hs):
            if t.shape[0] != B:
                raise RuntimeError(f"Input batch size {B} doesn't match hidden{i} batch size {t.shape[0]}")
            if t.shape[1] != self.hidden_size:
                raise RuntimeError(f"hidden{i} has inconsistent hidden_size: got {t.shape[1]}, expected "
                                   f"{self.hidden_size}")
        w = self.weight_ih
        for t in (input,) + hs:
            if t.dtype != w.dtype:
                raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got {t.dtype.legacy} and "
                                   f"{w.dtype.legacy}")
        bsz, offs = R.steps([B])
        _, h, c = R.rnn_layer(mode, input, hs[0], hs[1] if is_lstm else None, self.weight_ih, self.weight_hh,
                              self.bias_ih, self.bias_hh, None, bsz, offs, False)
        if not batched:
            h = h.squeeze(0)
            c = c.squeeze(0) if is_lstm else None
        return (h, c) if is_lstm else h


class RNNCell(RNNCellBase):
    """One Elman RNN step: h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh) (act 'tanh' or 'relu').

    Example::

        >>> cell = nn.RNNCell(10, 20)
        >>> h = cell(minitorch.randn(3, 10))
    """

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        if self.nonlinearity == "tanh":
            mode = 0
        elif self.nonlinearity == "relu":
            mode = 1
        else:
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        return self._step(mode, input, hx)


class LSTMCell(RNNCellBase):
    """One LSTM step: (h', c') from x and (h, c) (zeros when hx is None).

    Example::

        >>> cell = nn.LSTMCell(10, 20)
        >>> h, c = cell(minitorch.randn(3, 10))
    """

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        return self._step(2, input, hx)


class GRUCell(RNNCellBase):
    """One GRU step: h' from x and h (zeros when hx is None).

    Example::

        >>> cell = nn.GRUCell(10, 20)
        >>> h = cell(minitorch.randn(3, 10))
    """

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        return self._step(3, input, hx)

