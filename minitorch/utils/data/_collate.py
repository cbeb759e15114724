"""Collation: turn a list of samples into a batch (``default_collate``) or convert one sample (``default_convert``).

Mirrors ``torch.utils.data._utils.collate``: tensors are stacked along a new first dim, NumPy arrays and numbers
become tensors (Python ints -> int64, floats -> float64), strings stay lists, and mappings, namedtuples and
sequences are collated element by element.
"""
import collections
import copy
import re

import numpy as np

import minitorch
from minitorch.tensor import Tensor

__all__ = ["default_collate", "default_convert", "collate", "default_collate_fn_map"]

# NumPy dtype strings of arrays that cannot become tensors (bytes, unicode, object)
np_str_obj_array_pattern = re.compile(r"[SaUO]")

default_collate_err_msg_format = (
    "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}")


def default_convert(data):
    """Convert NumPy arrays (and NumPy arrays inside sequences and mappings) to tensors; leave the rest as is."""
    elem_type = type(data)
    if isinstance(data, Tensor):
        return data
    if elem_type.__module__ == "numpy" and elem_type.__name__ not in ("str_", "string_", "bytes_"):
        if isinstance(data, np.ndarray) and np_str_obj_array_pattern.search(data.dtype.str) is not None:
            return data
        return minitorch.as_tensor(np.asarray(data))
    if isinstance(data, collections.abc.Mapping):
        try:
            if isinstance(data, collections.abc.MutableMapping):
                clone = copy.copy(data)
                clone.update({key: default_convert(data[key]) for key in data})
                return clone
            return elem_type({key: default_convert(data[key]) for key in data})
        except TypeError:  # the mapping type cannot be built from a dict
            return {key: default_convert(data[key]) for key in data}
    if isinstance(data, tuple) and hasattr(data, "_fields"):  # namedtuple
        return elem_type(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]  # as PyTorch: tuples become lists
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        try:
            if isinstance(data, collections.abc.MutableSequence):
                clone = copy.copy(data)
                for i, d in enumerate(data):
                    clone[i] = default_convert(d)
                return clone
            return elem_type([default_convert(d) for d in data])
        except TypeError:
            return [default_convert(d) for d in data]
    return data


def collate(batch, *, collate_fn_map=None):
    """Collate ``batch`` by the type of its first element, looking element types up in ``collate_fn_map``.

    The map's keys are types (or tuples of types); an exact type match wins, then the first key the element is an
    instance of. Containers (mappings, namedtuples, sequences) are collated field by field.
    """
    elem = batch[0]
    elem_type = type(elem)
    if collate_fn_map is not None:
        if elem_type in collate_fn_map:
            return collate_fn_map[elem_type](batch, collate_fn_map=collate_fn_map)
        for collate_type in collate_fn_map:
            if isinstance(elem, collate_type):
                return collate_fn_map[collate_type](batch, collate_fn_map=collate_fn_map)
    if isinstance(elem, collections.abc.Mapping):
        try:
            if isinstance(elem, collections.abc.MutableMapping):
                clone = copy.copy(elem)
                clone.update({key: collate([d[key] for d in batch], collate_fn_map=collate_fn_map) for key in elem})
                return clone
            return elem_type({key: collate([d[key] for d in batch], collate_fn_map=collate_fn_map) for key in elem})
        except TypeError:
            return {key: collate([d[key] for d in batch], collate_fn_map=collate_fn_map) for key in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return elem_type(*(collate(samples, collate_fn_map=collate_fn_map) for samples in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        if len(set(map(len, batch))) != 1:
            raise RuntimeError("each element in list of batch should be of equal size")
        transposed = list(zip(*batch))
        if isinstance(elem, tuple):
            return [collate(samples, collate_fn_map=collate_fn_map) for samples in transposed]
        try:
            if isinstance(elem, collections.abc.MutableSequence):
                clone = copy.copy(elem)
                for i, samples in enumerate(transposed):
                    clone[i] = collate(samples, collate_fn_map=collate_fn_map)
                return clone
            return elem_type([collate(samples, collate_fn_map=collate_fn_map) for samples in transposed])
        except TypeError:
            return [collate(samples, collate_fn_map=collate_fn_map) for samples in transposed]
    raise TypeError(default_collate_err_msg_format.format(elem_type))


def _one_block(batch):
    """The batch copied in one slice when its tensors are consecutive, equal, contiguous pieces of one CPU storage
    in order (the samples of a batched ``__getitems__``); None otherwise."""
    first = batch[0]
    if type(first) is not Tensor or first._device.type != "cpu" or not first._contig:
        return None
    st, shape, stride, dt, n = first._storage, first._shape, first._stride, first._dtype, first.numel()
    start = end = first._offset
    for t in batch:
        if (type(t) is not Tensor or t._storage is not st or t._offset != end or t._shape != shape
                or t._stride != stride or t._dtype is not dt or t._requires_grad):
            return None
        end += n
    from minitorch.tensor import _contiguous_strides, _make
    out_shape = (len(batch),) + tuple(shape)
    return _make(st[start:end].copy(), out_shape, _contiguous_strides(out_shape), 0, dt, first._device)


def collate_tensor_fn(batch, *, collate_fn_map=None):
    elem = batch[0]
    block = _one_block(batch)
    if block is not None:
        return block
    if all(isinstance(t, Tensor) and t.device.type == "cpu" and not t.requires_grad and t.dtype is elem.dtype
           and t.shape == elem.shape for t in batch):
        # One host copy instead of a stack kernel per sample. It also keeps DataLoader workers off Numba's thread
        # pool, which is unusable in a process forked after the parent used it (GNU OpenMP).
        return minitorch.from_numpy(np.stack([t.numpy() for t in batch]))
    return minitorch.stack(batch, 0)


def collate_numpy_array_fn(batch, *, collate_fn_map=None):
    elem = batch[0]
    if np_str_obj_array_pattern.search(elem.dtype.str) is not None:
        raise TypeError(default_collate_err_msg_format.format(elem.dtype))
    return collate([minitorch.as_tensor(b) for b in batch], collate_fn_map=collate_fn_map)


def collate_numpy_scalar_fn(batch, *, collate_fn_map=None):
    return minitorch.as_tensor(np.asarray(batch))  # keeps the scalars' dtype (float32 stays float32)


def collate_float_fn(batch, *, collate_fn_map=None):
    return minitorch.tensor(batch, dtype=minitorch.float64)


def collate_int_fn(batch, *, collate_fn_map=None):
    if all(type(b) is int for b in batch):  # the common case (class labels), without tensor()'s per-item checks
        try:
            return minitorch.from_numpy(np.array(batch, dtype=np.int64))
        except OverflowError:
            pass
    return minitorch.tensor(batch)  # int64 (bool for a batch of bools)


def collate_str_fn(batch, *, collate_fn_map=None):
    return batch


default_collate_fn_map = {
    Tensor: collate_tensor_fn,
    np.ndarray: collate_numpy_array_fn,
    (np.bool_, np.number, np.object_): collate_numpy_scalar_fn,
    float: collate_float_fn,
    int: collate_int_fn,
    str: collate_str_fn,
    bytes: collate_str_fn,
}


def default_collate(batch):
    """Stack a list of samples into a batch with a new first dim of size ``len(batch)``.

    Tensors are stacked, NumPy arrays and numbers become tensors (``int`` -> int64, ``float`` -> float64), ``str``
    and ``bytes`` are left as lists, and mappings, namedtuples and sequences are collated per field.

    Example::

        >>> default_collate([(minitorch.zeros(2), 0), (minitorch.ones(2), 1)])
        [tensor([[0., 0.],
                [1., 1.]]), tensor([0, 1])]
    """
    return collate(batch, collate_fn_map=default_collate_fn_map)
