"""Tensors as MPI buffers, and the reductions MPI cannot do itself.

A contiguous CPU tensor is handed to MPI as a NumPy view of its own storage (offset and length of the view, no
copy). A non-contiguous tensor is copied into a contiguous buffer first and the result copied back into the view.
A tensor on another device (CUDA) is staged through host memory: copied to a host array, communicated, copied
back. (A CUDA-aware MPI could read device memory directly; the mpich wheel is not one, and minitorch always stages,
so the same code runs with any MPI. On a GPU the staging costs two PCIe copies per collective.)

Element types: float32/float64/int8/16/32/64/uint8 map to MPI's types; bool travels as uint8 (SUM and MAX are a
logical or, PRODUCT and MIN a logical and, as on 0/1 values); float16 and bfloat16 (stored as uint16 bit patterns)
travel as 16-bit words and are reduced by a user-defined MPI operation that computes in NumPy (each pairwise step
in float32, rounded back to the 16-bit type, as PyTorch's gloo reduces half tensors in half precision).
``ReduceOp.AVG`` is a SUM followed by a division by the group size (truncating for integer tensors).
"""
import numpy as np

from .. import dispatch
from .. import dtypes as _dt
from ..ops import launch
from ..tensor import _contiguous_strides, _make


class HostBuffer:
    """A tensor's elements as a flat, contiguous host array (``arr``) that MPI reads or writes; ``finish()`` puts
    written results back into the tensor when ``arr`` is not the tensor's own memory."""

    __slots__ = ("tensor", "arr", "alias")

    def __init__(self, t, need_values=True):
        self.tensor = t
        n = t.numel()
        src = t if t._contig else (launch.contiguous(t) if need_values else launch.empty(t._shape, t._dtype,
                                                                                         t._device))
        seg = src._storage[src._offset:src._offset + n]
        host = dispatch.kernels(t._device.type).memory.to_host(seg)  # the same array on the CPU: no copy
        self.alias = src is t and host is seg
        self.arr = host

    def finish(self):
        """Copy the (written) host array back into the tensor, if it is a copy; bump the version counter."""
        t = self.tensor
        if not self.alias and t.numel():
            storage = dispatch.kernels(t._device.type).memory.from_host(self.arr)
            src = _make(storage, t._shape, _contiguous_strides(t._shape), 0, t._dtype, t._device)
            launch.copy_into(t, src)
        t._vc[0] += 1


def mpi_type(MPI, dtype):
    """The MPI datatype of a minitorch dtype's storage elements."""
    table = {
        "float32": MPI.FLOAT, "float64": MPI.DOUBLE, "int8": MPI.INT8_T, "int16": MPI.INT16_T,
        "int32": MPI.INT32_T, "int64": MPI.INT64_T, "uint8": MPI.UINT8_T, "bool": MPI.UINT8_T,
        "float16": MPI.UINT16_T, "bfloat16": MPI.UINT16_T,
    }
    try:
        return table[dtype.name]
    except KeyError:
        raise TypeError(f"minitorch.distributed cannot communicate tensors of dtype {dtype}") from None


def mpi_view(arr):
    """The array as MPI sees it (bool as uint8)."""
    return arr.view(np.uint8) if arr.dtype == np.bool_ else arr


_HALF_OPS = {}


def _half_op(MPI, dtype, op):
    """A user-defined MPI operation reducing 16-bit float words in NumPy (MPI has no float16/bfloat16 type)."""
    key = (dtype.name, op)
    if key not in _HALF_OPS:
        np_t = dtype.np
        fn = {"SUM": np.add, "PRODUCT": np.multiply, "MIN": np.fmin, "MAX": np.fmax, "AVG": np.add}[op]
        if op in ("MIN", "MAX"):  # PyTorch propagates NaN in min/max reductions
            fn = {"MIN": np.minimum, "MAX": np.maximum}[op]

        def reduce(inbuf, inoutbuf, datatype):
            a = np.frombuffer(inbuf, dtype=np.uint16).view(np_t)
            b = np.frombuffer(inoutbuf, dtype=np.uint16).view(np_t)
            b[...] = fn(a.astype(np.float32), b.astype(np.float32)).astype(np_t)

        _HALF_OPS[key] = MPI.Op.Create(reduce, commute=True)
    return _HALF_OPS[key]


def mpi_op(MPI, op_name, dtype):
    """The MPI operation for a ReduceOp name on a dtype, or RuntimeError when the pair makes no sense."""
    if op_name in ("BAND", "BOR", "BXOR") and dtype.is_floating_point:
        raise RuntimeError(f"Cannot use ReduceOp.{op_name} with a {dtype} tensor: bitwise reductions need an "
                           "integer or bool tensor")
    if dtype is _dt.bool:
        if op_name == "AVG":
            raise RuntimeError("Cannot use ReduceOp.AVG with a bool tensor")
        op_name = {"SUM": "MAX", "PRODUCT": "MIN"}.get(op_name, op_name)
    if dtype._half:
        if op_name in ("BAND", "BOR", "BXOR"):
            raise RuntimeError(f"Cannot use ReduceOp.{op_name} with a {dtype} tensor")
        return _half_op(MPI, dtype, op_name)
    return {"SUM": MPI.SUM, "AVG": MPI.SUM, "PRODUCT": MPI.PROD, "MIN": MPI.MIN, "MAX": MPI.MAX,
            "BAND": MPI.BAND, "BOR": MPI.BOR, "BXOR": MPI.BXOR}[op_name]


def finish_avg(arr, dtype, size):
    """Divide a SUM result by the group size in place (the AVG of ``ReduceOp.AVG``)."""
    if dtype._half:
        v = arr.view(dtype.np)
        v[...] = (v.astype(np.float32) / size).astype(dtype.np)
    elif dtype.is_floating_point:
        arr /= size
    else:
        np.copyto(arr, np.trunc(arr / size).astype(arr.dtype))
