"""Variable-length sequences: ``PackedSequence`` and the pad/pack conversions of ``torch.nn.utils.rnn``.

A packed sequence stores the steps of a batch of sequences sorted by decreasing length: step t holds the t-th
element of the ``batch_sizes[t]`` sequences that are that long, so recurrent layers skip the padding entirely.
All conversions are row gathers (``index_select``) of the data, so gradients flow through them.
"""
from collections import namedtuple

import numpy as np

from ... import creation
from ...dtypes import int64
from ...tensor import Tensor

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence", "pad_packed_sequence", "pad_sequence",
           "unpad_sequence", "pack_sequence", "unpack_sequence"]


def _host_ints(v):
    if isinstance(v, Tensor):
        return np.asarray(v.detach().cpu().tolist(), dtype=np.int64).reshape(-1)
    return np.asarray([int(x) for x in v], dtype=np.int64).reshape(-1)


def _index(values, device=None):
    return creation.tensor(np.asarray(values, dtype=np.int64).tolist(), dtype=int64, device=device)


def invert_permutation(permutation):
    """The inverse of a permutation tensor (None stays None)."""
    if permutation is None:
        return None
    p = _host_ints(permutation)
    inv = np.empty_like(p)
    inv[p] = np.arange(p.shape[0], dtype=np.int64)
    return _index(inv, permutation.device)


class PackedSequence(namedtuple("PackedSequence_", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])):
    """Holds the data and per-step batch sizes of a packed batch of sequences (build it with
    ``pack_padded_sequence`` or ``pack_sequence``, not directly).

    ``data`` (sum of lengths, *) holds the steps one after another; ``batch_sizes`` (CPU int64) how many sequences
    each step has; ``sorted_indices`` the original batch position of each sorted sequence (None when the input was
    already sorted) and ``unsorted_indices`` its inverse.
    """

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:  # PyTorch's positional form PackedSequence((data, batch_sizes))
            data, batch_sizes = data[0], data[1]
        if not isinstance(batch_sizes, Tensor):
            batch_sizes = _index(batch_sizes)
        if batch_sizes.device.type != "cpu":
            raise ValueError("batch_sizes should always be on CPU. Instances of PackedSequence should never be "
                             "created manually. They should be instantiated by functions like pack_sequence and "
                             "pack_padded_sequences in nn.utils.rnn. https://pytorch.org/docs/stable/nn.html#"
                             "torch.nn.utils.rnn.pack_sequence")
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs):
        """The same sequence with ``data`` moved/cast by ``Tensor.to`` (indices follow the device; batch_sizes
        stays on the CPU)."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        dev = data.device
        si = self.sorted_indices.to(dev) if self.sorted_indices is not None else None
        ui = self.unsorted_indices.to(dev) if self.unsorted_indices is not None else None
        return type(self)(data, self.batch_sizes, si, ui)

    def cuda(self, *args, **kwargs):
        return self.to(self.data.cuda(*args, **kwargs).device)

    def cpu(self, *args, **kwargs):
        return self.to("cpu")

    def double(self):
        return self.to(dtype=_dt("float64"))

    def float(self):
        return self.to(dtype=_dt("float32"))

    def half(self):
        return self.to(dtype=_dt("float16"))

    @property
    def is_cuda(self):
        return self.data.is_cuda

    def is_pinned(self):
        return False


def _dt(name):
    from ... import dtypes
    return getattr(dtypes, name)


def _lengths(lengths, B):
    ln = _host_ints(lengths)
    if ln.shape[0] != B:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got {ln.shape[0]} "
                           f"(batch_size={B})")
    return ln


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Pack a padded batch (T, B, *) ((B, T, *) with ``batch_first``) of sequences with the given lengths.

    With ``enforce_sorted`` the lengths must be decreasing; otherwise the batch is sorted here and the permutation
    kept in the result, so that the layers and ``pad_packed_sequence`` restore the original order.
    """
    if isinstance(lengths, Tensor) and (lengths.dtype.is_floating_point or lengths.dtype.is_complex):
        lengths = lengths.to(int64)
    if batch_first:
        input = input.transpose(0, 1)
    T, B = input.shape[0], input.shape[1]
    ln = _lengths(lengths, B)
    sorted_indices = None
    if enforce_sorted:
        if B > 1 and np.any(ln[1:] > ln[:-1]):
            raise RuntimeError("`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. "
                               "You can pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence "
                               "to sidestep this requirement if you do not need ONNX exportability.")
    else:
        order = np.argsort(-ln, kind="stable")
        ln = ln[order]
        sorted_indices = _index(order, input.device)
        input = input.index_select(1, sorted_indices)
    if B and ln.min() <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an element in 'lengths' that "
                           "is <= 0")
    if B and ln.max() > T:
        raise RuntimeError(f"pack_padded_sequence(): a length of {int(ln.max())} is longer than the padded input's "
                           f"{T} steps")
    steps = int(ln[0]) if B else 0
    batch_sizes = np.array([int(np.sum(ln > t)) for t in range(steps)], dtype=np.int64)
    rows = np.concatenate([t * B + np.arange(n, dtype=np.int64) for t, n in enumerate(batch_sizes)]) \
        if steps else np.zeros(0, np.int64)
    flat = input.reshape((T * B,) + tuple(input.shape[2:]))
    data = flat.index_select(0, _index(rows, input.device))
    return PackedSequence(data, _index(batch_sizes), sorted_indices, None)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """Unpack a ``PackedSequence`` into a padded batch (T, B, *) ((B, T, *) with ``batch_first``) and the lengths.

    Returns:
        (padded, lengths): lengths is a CPU int64 tensor in the original batch order.
    """
    data, batch_sizes, sorted_indices, unsorted_indices = sequence
    bs = _host_ints(batch_sizes)
    T = bs.shape[0]
    B = int(bs[0]) if T else 0
    if total_length is not None:
        if total_length < T:
            raise ValueError("Expected total_length to be at least the length of the longest sequence in input, but "
                             f"got total_length={total_length} and max sequence length being {T}")
    else:
        total_length = T
    N = data.shape[0]
    rest = tuple(data.shape[1:])
    # every (t, b) slot reads its packed row, or the padding row appended after the data
    rows = np.full((total_length, B), N, dtype=np.int64)
    off = 0
    for t in range(T):
        rows[t, :bs[t]] = off + np.arange(bs[t], dtype=np.int64)
        off += bs[t]
    pad = creation.full((1,) + rest, padding_value, dtype=data.dtype, device=data.device)
    from ...ops.shape import cat
    padded = cat([data, pad], 0).index_select(0, _index(rows.reshape(-1), data.device))
    padded = padded.reshape((total_length, B) + rest)
    lengths = np.array([int(np.sum(bs > b)) for b in range(B)], dtype=np.int64)
    if unsorted_indices is not None:
        padded = padded.index_select(1, unsorted_indices)
        lengths = lengths[_host_ints(unsorted_indices)]
    if batch_first:
        padded = padded.transpose(0, 1)
    return padded, _index(lengths)


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stack sequences of different lengths (L_i, *) into (L, B, *) ((B, L, *) with ``batch_first``), filling
    the shorter ones with ``padding_value`` after (``padding_side='right'``) or before ('left') their elements."""
    if padding_side not in ("left", "right"):
        raise RuntimeError(f"Expected padding_side to be one of left or right, but got {padding_side}.")
    if isinstance(sequences, Tensor):
        sequences = list(sequences.unbind(0))
    sequences = list(sequences)
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    from ...ops.shape import cat, stack
    L = max(s.shape[0] for s in sequences)
    parts = []
    for s in sequences:
        n = L - s.shape[0]
        if n:
            fill = creation.full((n,) + tuple(s.shape[1:]), padding_value, dtype=s.dtype, device=s.device)
            s = cat([s, fill] if padding_side == "right" else [fill, s], 0)
        parts.append(s)
    return stack(parts, 0 if batch_first else 1)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """The list of sequences (without padding) of a padded batch and its lengths."""
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    ln = _host_ints(lengths)
    return [padded_sequences[i][:int(n)] for i, n in enumerate(ln)]


def pack_sequence(sequences, enforce_sorted=True):
    """Pack a list of sequences (L_i, *) (sorted by decreasing length unless ``enforce_sorted`` is False)."""
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences):
    """The list of sequences of a ``PackedSequence``, in the original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
