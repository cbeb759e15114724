"""matmul / mm / bmm / mv / dot / outer with PyTorch's 1-D, 2-D, batched and broadcast rules."""
import math

from ..autograd.function import _PROFILE, Function
from ..autograd.grad_mode import _state
from ..dtypes import bool as t_bool
from ..tensor import Tensor
from . import launch


class MatMul(Function):
    """(..., M, K) @ (..., K, N) with broadcast batch dims (both operands at least 2-D)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None, b if ctx.needs_input_grad[0] else None)
        ctx.b_shape = b._shape
        return _matmul_nd(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        ga = gb = None
        if ctx.needs_input_grad[0]:
            ga = g @ b.transpose(-1, -2)
        if ctx.needs_input_grad[1]:
            if len(ctx.b_shape) == 2 and g.dim() > 2:
                # fold the batch into the rows: one GEMM instead of a batch of them and a sum
                K, N = ctx.b_shape
                gb = a.reshape(-1, K).t() @ g.reshape(-1, N)
            else:
                gb = a.transpose(-1, -2) @ g
        return ga, gb


def _matmul_nd(a, b):
    if len(a._shape) == 2 and len(b._shape) == 2:
        return launch.mm(a, b)
    M, K = a._shape[-2:]
    N = b._shape[-1]
    ba, bb = a._shape[:-2], b._shape[:-2]
    batch = launch.broadcast_shapes(ba, bb) if ba != bb else ba
    B = math.prod(batch)
    if ba == batch:
        a3 = a.reshape(B, M, K)
    elif math.prod(ba) == 1:
        a3 = a.reshape(1, M, K)
    else:
        a3 = launch.contiguous(a.expand(batch + (M, K))).reshape(B, M, K)
    if bb == batch:
        b3 = b.reshape(B, K, N)
    elif math.prod(bb) == 1:
        b3 = b.reshape(1, K, N)
    else:
        b3 = launch.contiguous(b.expand(batch + (K, N))).reshape(B, K, N)
    out = launch.bmm(a3, b3)
    return out.reshape(batch + (M, N))


def _check(a, b, name):
    for x, arg in ((a, "input"), (b, "other")):
        if not isinstance(x, Tensor):
            raise TypeError(f"{name}(): argument '{arg}' must be Tensor, not {type(x).__name__}")
    if a._dtype is not b._dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {_tn(a)} != {_tn(b)}")
    if a._dtype is t_bool:
        raise RuntimeError("\"addmm_impl_cpu_\" not implemented for 'Bool'")
    if a._device != b._device:
        raise RuntimeError("Expected all tensors to be on the same device, but found at least two devices, "
                           f"{a._device} and {b._device}!")


def _tn(t):
    return t._dtype.c_name


def matmul(input, other, *, out=None):
    """Matrix product with PyTorch's rules for 1-D (dot/mv), 2-D and batched (broadcast) operands."""
    a, b = input, other
    _check(a, b, "matmul")
    if a._is_sparse_coo or b._is_sparse_coo:
        from ..sparse.coo import matmul as sparse_matmul
        r = sparse_matmul(a, b)
        if out is not None:
            from .elementwise import _write_out
            return _write_out(out, r)
        return r
    da, db = len(a._shape), len(b._shape)
    if da == 0 or db == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are {da}D and {db}D")
    if da == 1 and db == 1:
        if a._shape[0] != b._shape[0]:
            raise RuntimeError(f"inconsistent tensor size, expected tensor [{a._shape[0]}] and src [{b._shape[0]}] "
                               f"to have the same number of elements, but got {a._shape[0]} and {b._shape[0]} "
                               "elements respectively")
        r = MatMul.apply(a.reshape(1, -1), b.reshape(-1, 1)).reshape(())
    elif da == 2 and db == 2:
        if a._shape[1] != b._shape[0]:
            raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({a._shape[0]}x{a._shape[1]} and "
                               f"{b._shape[0]}x{b._shape[1]})")
        if _PROFILE[0] is None and not (_state.enabled and (a._requires_grad or b._requires_grad)):
            r = launch.mm(a, b)  # nothing to record: the launcher itself (MatMul.forward's path) without a Function
        else:
            r = MatMul.apply(a, b)
    else:
        a2 = a.unsqueeze(0) if da == 1 else a
        b2 = b.unsqueeze(-1) if db == 1 else b
        if a2._shape[-1] != b2._shape[-2]:
            if db == 1 or da == 1:
                raise RuntimeError(f"size mismatch, got input ({a2._shape[-2]}), mat ({a2._shape[-2]}x"
                                   f"{a2._shape[-1]}), vec ({b2._shape[-2]})" if db == 1 else
                                   f"mat1 and mat2 shapes cannot be multiplied ({a2._shape[-2]}x{a2._shape[-1]} and "
                                   f"{b2._shape[-2]}x{b2._shape[-1]})")
            raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                               f"[{math.prod(b2._shape[:-2]) or 1}, {a2._shape[-1]}] but got: "
                               f"[{math.prod(b2._shape[:-2]) or 1}, {b2._shape[-2]}].")
        launch.broadcast_shapes(a2._shape[:-2], b2._shape[:-2])
        r = MatMul.apply(a2, b2)
        if da == 1:
            r = r.squeeze(-2)
        if db == 1:
            r = r.squeeze(-1)
    if out is not None:
        from .elementwise import _write_out
        return _write_out(out, r)
    return r


def mm(input, mat2, *, out=None):
    _check(input, mat2, "mm")
    if input.dim() != 2:
        raise RuntimeError(f"self must be a matrix")
    if mat2.dim() != 2:
        raise RuntimeError(f"mat2 must be a matrix")
    return matmul(input, mat2, out=out)


def bmm(input, mat2, *, out=None):
    _check(input, mat2, "bmm")
    if input.dim() != 3:
        raise RuntimeError(f"batch1 must be a 3D tensor")
    if mat2.dim() != 3:
        raise RuntimeError(f"batch2 must be a 3D tensor")
    if input._shape[0] != mat2._shape[0] or input._shape[2] != mat2._shape[1]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: [{input._shape[0]}, "
                           f"{input._shape[2]}] but got: [{mat2._shape[0]}, {mat2._shape[1]}].")
    return matmul(input, mat2, out=out)


def mv(input, vec):
    _check(input, vec, "mv")
    if input.dim() != 2 or vec.dim() != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {input.dim()}, {vec.dim()}")
    return matmul(input, vec)


def dot(input, other):
    _check(input, other, "dot")
    if input.dim() != 1 or other.dim() != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.dim()}D and {other.dim()}D tensors")
    return matmul(input, other)


def inner(input, other, *, out=None):
    """Sum of products over the last dims (``dot`` for vectors; a 0-d operand scales the other)."""
    if not isinstance(input, Tensor) or not isinstance(other, Tensor):
        raise TypeError(f"inner(): arguments must be Tensors, got {type(input).__name__} and {type(other).__name__}")
    if input.dim() == 0 or other.dim() == 0:
        r = input * other
    elif input.dim() == 1 and other.dim() == 1:
        r = dot(input, other)
    else:
        if input._shape[-1] != other._shape[-1]:
            raise RuntimeError(f"inner() the last dimension must match on both input tensors but got shapes "
                               f"{list(input._shape)} and {list(other._shape)}")
        a = input.reshape(-1, input._shape[-1])
        r = matmul(a, other.reshape(-1, other._shape[-1]).t()).reshape(input._shape[:-1] + other._shape[:-1])
    if out is not None:
        from .elementwise import _write_out
        return _write_out(out, r)
    return r
vdot = dot


def outer(input, vec2):
    return input.reshape(-1, 1) * vec2.reshape(1, -1)


ger = outer


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    r = mm(mat1, mat2)
    if alpha != 1:
        r = r * alpha
    return r + (input if beta == 1 else input * beta)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    r = bmm(batch1, batch2)
    if alpha != 1:
        r = r * alpha
    return r + (input if beta == 1 else input * beta)


def matmul_reference(a, b):
    """The hand-tiled GEMM (any dtype, no BLAS) on 2-D or 3-D operands; for tests and benchmarks."""
    squeeze = a.dim() == 2
    a3 = a.reshape((1,) + a._shape) if a.dim() == 2 else a
    b3 = b.reshape((1,) + b._shape) if b.dim() == 2 else b
    out = launch.bmm_reference(a3.detach(), b3.detach())
    return out.reshape(out._shape[1:]) if squeeze else out

