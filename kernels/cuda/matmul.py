"""Matrix-multiply kernels on the GPU (same names and arguments as ``kernels/cpu/matmul.py``).

Every product goes through one shared-memory tiled GEMM, ``_gemm``, over flat arrays and element strides, so the
same kernel serves transposed operands, batches with a broadcast (stride-0) batch dim, the linear layers and the
strided any-dtype ``bmm_tiled``. Grid: blocks of TILE x TILE threads, one thread per output element of a
TILE x TILE output tile (x: columns, y: rows, z: batch, each grid-strided). Each step over K stages a TILE x KT
tile of a and a KT x TILE tile of b in shared memory (KT = 4 * TILE: four loads per thread and operand between two
barriers); the load is laid out so that neighbouring threads read neighbouring addresses whichever stride of the
operand is 1. A linear layer's bias is added in the GEMM's epilogue; its
gradient, a column sum, is a small kernel of its own.
"""
from numba import cuda, float64

from ..opcodes import BINARY
from ._grid import SIM, THREADS, TILE, blocks
from .activation import gelu as _gelu
from .activation import gelu_backward as _gelu_backward
from .activation import relu_backward as _relu_backward
from .elementwise import binary_flat as _binary_flat
from .elementwise import unary_flat as _unary_flat

KT = 4 * TILE  # the K extent of a shared tile: each thread stages 4 elements of each operand per step
_PAD = TILE + 1  # row lengths of the shared tiles (compile-time constants); the padding column keeps transposed
_KPAD = KT + 1  # stores into a tile free of shared-memory bank conflicts
_GRID_CAP = 2 if SIM else 65535  # y and z grid dims are limited to 65535 on the GPU; the kernels grid-stride


@cuda.jit
def _gemm(a, ao, sab, sam, sak, b, bo, sbb, sbk, sbn, out, oo, sob, som, son, B, M, N, K, kt, zero, accumulate,
          bias, has_bias):
    """out[bi, i, j] (=, or += when ``accumulate``) sum_k a[bi, i, k] * b[bi, k, j] (+ bias[j]); ``kt`` (a multiple
    of TILE, at most KT) is the K extent staged per step."""
    ta = cuda.shared.array((TILE, _KPAD), dtype=a.dtype)
    tb = cuda.shared.array((KT, _PAD), dtype=b.dtype)
    tx = cuda.threadIdx.x
    ty = cuda.threadIdx.y
    # load layout: the thread index that walks memory with stride 1 goes along x
    a_rowwise = sam != 1 or sak == 1
    b_rowwise = sbn == 1 or sbk != 1
    for bi in range(cuda.blockIdx.z, B, cuda.gridDim.z):
        a0 = ao + bi * sab
        b0 = bo + bi * sbb
        for i0 in range(cuda.blockIdx.y * TILE, M, cuda.gridDim.y * TILE):
            for j0 in range(cuda.blockIdx.x * TILE, N, cuda.gridDim.x * TILE):
                acc = zero
                for k0 in range(0, K, kt):
                    # ta[r, c] = a[i0 + r, k0 + c] (TILE x kt), tb[r, c] = b[k0 + r, j0 + c] (kt x TILE), zero
                    # outside the matrices; each thread stages kt / TILE elements of each
                    for q in range(0, kt, TILE):
                        if a_rowwise:
                            r, c = ty, tx + q
                        else:
                            r, c = tx, ty + q
                        if i0 + r < M and k0 + c < K:
                            ta[r, c] = a[a0 + (i0 + r) * sam + (k0 + c) * sak]
                        else:
                            ta[r, c] = zero
                        if b_rowwise:
                            r, c = ty + q, tx
                        else:
                            r, c = tx + q, ty
                        if k0 + r < K and j0 + c < N:
                            tb[r, c] = b[b0 + (k0 + r) * sbk + (j0 + c) * sbn]
                        else:
                            tb[r, c] = zero
                    cuda.syncthreads()
                    for kk in range(kt):
                        acc += ta[ty, kk] * tb[kk, tx]
                    cuda.syncthreads()
                i = i0 + ty
                j = j0 + tx
                if i < M and j < N:
                    o = oo + bi * sob + i * som + j * son
                    if accumulate:
                        out[o] += acc
                    elif has_bias:
                        out[o] = acc + bias[j]
                    else:
                        out[o] = acc


def _launch_gemm(a, ao, sab, sam, sak, b, bo, sbb, sbk, sbn, out, oo, sob, som, son, B, M, N, K, accumulate,
                 bias=None):
    if B == 0 or M == 0 or N == 0:
        return
    grid = (min(_GRID_CAP, -(-N // TILE)), min(_GRID_CAP, -(-M // TILE)), min(_GRID_CAP, B))
    zero = out.dtype.type(0)
    kt = min(KT, max(1, -(-K // TILE)) * TILE)  # a short K is staged in one step without padding to KT
    has_bias = bias is not None
    _gemm[grid, (TILE, TILE)](a, ao, sab, sam, sak, b, bo, sbb, sbk, sbn, out, oo, sob, som, son, B, M, N, K,
                              kt, zero, accumulate, bias if has_bias else out, has_bias)


def _flat(arr):
    """A C-contiguous device array as a 1-D view of the same memory."""
    return arr if arr.ndim == 1 else arr.reshape(arr.size)


def bmm_blas(a, ta, b, tb, out):
    """out[i] = op(a[i]) @ op(b[i]) where op transposes when the flag is set; batch dims of size 1 broadcast.

    a, b: C-contiguous 3-D stacks (holding the transposes when ``ta``/``tb``); out: (B, M, N) C-contiguous.
    """
    B, M, N = out.shape
    K = a.shape[1] if ta else a.shape[2]
    sam, sak = (1, M) if ta else (K, 1)
    sbk, sbn = (1, K) if tb else (N, 1)
    sab = M * K if a.shape[0] > 1 else 0
    sbb = K * N if b.shape[0] > 1 else 0
    _launch_gemm(_flat(a), 0, sab, sam, sak, _flat(b), 0, sbb, sbk, sbn, _flat(out), 0, M * N, N, 1, B, M, N, K,
                 False)


def gemm(a, ta, b, tb, out):
    """out = op(a) @ op(b) for C-contiguous 2-D arrays (``bmm_blas`` on a batch of one)."""
    bmm_blas(a.reshape((1,) + a.shape), ta, b.reshape((1,) + b.shape), tb, out.reshape((1,) + out.shape))


def bmm_tiled(a, ao, sab, sa0, sa1, b, bo, sbb, sb0, sb1, out, B, M, N, K):
    """out (B*M*N, zero-filled by the launcher) += a[B, M, K] @ b[B, K, N] over element strides, any dtype."""
    _launch_gemm(a, ao, sab, sa0, sa1, b, bo, sbb, sb0, sb1, out, 0, M * N, N, 1, B, M, N, K, True)


@cuda.jit
def _relu_in_place(v, n):
    i = cuda.grid(1)
    step = cuda.gridsize(1)
    while i < n:
        x = v[i]
        if x <= 0:
            v[i] = x * 0  # NaN passes, as torch.relu
        i += step


def linear_forward(x, w, tw, b, has_b, out, act, y, op):
    """out (M, O) = x (M, I) @ w.T + b with w (O, I) (or, when ``tw``, its transpose stored as (I, O)), and the
    activation ``act`` (1 relu in place, 2 the exact GELU into y, 3 the unary elementwise op ``op`` into y, 4 out
    times that op of out, SiLU's recorded ops): a second launch here; the CPU's kernel applies it in the GEMM's
    pass."""
    M, In = x.shape
    O = out.shape[1]
    sbk, sbn = (O, 1) if tw else (1, In)
    _launch_gemm(_flat(x), 0, 0, In, 1, _flat(w), 0, 0, sbk, sbn, _flat(out), 0, 0, O, 1, 1, M, O, In, False,
                 b if has_b else None)
    n = M * O
    if act == 1 and n:
        _relu_in_place[blocks(n), THREADS](_flat(out), n)
    elif act == 2:
        _gelu(_flat(out), _flat(y), n)
    elif act >= 3:
        _unary_flat(op, _flat(out), 0, 1, _flat(y), n)
        if act == 4:
            _binary_flat(BINARY["mul"], _flat(out), 0, 1, _flat(y), 0, 1, _flat(y), n)


@cuda.jit
def _col_sum(g, M, N, out):
    """out[j] = sum over the M rows of g (M, N) flat: TILE columns per block, the rows split over threadIdx.y."""
    part = cuda.shared.array((TILE, TILE), dtype=float64)
    tx = cuda.threadIdx.x
    ty = cuda.threadIdx.y
    for j0 in range(cuda.blockIdx.x * TILE, N, cuda.gridDim.x * TILE):
        j = j0 + tx
        acc = 0.0
        if j < N:
            for r in range(ty, M, TILE):
                acc += g[r * N + j]
        part[ty, tx] = acc
        cuda.syncthreads()
        if ty == 0 and j < N:
            for r in range(1, TILE):
                acc += part[r, tx]
            out[j] = acc
        cuda.syncthreads()


def linear_backward(g, x, w, tw, gx, gw, gb, need_x, need_w, need_b, gt):
    """gx = g @ op(w), gw = g.T @ x, gb = g.sum(0) for g (M, O), x (M, I); ``gt`` (CPU scratch) is unused."""
    M, O = g.shape
    gf = _flat(g)
    if need_x:
        In = gx.shape[1]
        sbk, sbn = (1, O) if tw else (In, 1)
        _launch_gemm(gf, 0, 0, O, 1, _flat(w), 0, 0, sbk, sbn, _flat(gx), 0, 0, In, 1, 1, M, In, O, False)
    if need_w:
        In = gw.shape[1]
        _launch_gemm(gf, 0, 0, 1, O, _flat(x), 0, 0, In, 1, _flat(gw), 0, 0, In, 1, 1, O, In, M, False)
    if need_b and O > 0:
        _col_sum[min(_GRID_CAP, -(-O // TILE)), (TILE, TILE)](gf, M, O, gb)




def linear_split_rows(M, In):
    """The CPU kernel's split rule (one launch covers every row here)."""
    return M > In


def linear_scratch(M, In, O, T):
    """Elements per thread of the scratch linear_backward_flat takes when split: none on the device."""
    return 1
bmm_blas_par = bmm_blas  # a launch covers the whole batch already
BLAS_SEQUENTIAL = False  # one launch uses the whole device: launchers never split a product for it


def gemm_par(a, ta, b, tb, out, T):
    """gemm: one launch already spreads a product over the device (``T``, the CPU's thread split, is unused)."""
    gemm(a, ta, b, tb, out)


def _mat(s, o, r, c):
    """The C-ordered (r, c) matrix at element offset o of the 1-D device storage s."""
    return s[o:o + r * c].reshape(r, c)


def gemm_flat(a, ao, ta, b, bo, tb, out, M, N, K, T):
    """The CPU's flat entry point of ``gemm`` (operands as 1-D storages and offsets; ``T`` unused)."""
    gemm(_mat(a, ao, K, M) if ta else _mat(a, ao, M, K), ta, _mat(b, bo, N, K) if tb else _mat(b, bo, K, N), tb,
         out.reshape(M, N))


def linear_forward_flat(x, xo, w, wo, tw, b, bo, has_b, out, M, In, O, split, T, act, y, op):
    """The CPU's flat entry point of ``linear_forward`` (``split`` and ``T``, the CPU's thread split, unused)."""
    linear_forward(_mat(x, xo, M, In), _mat(w, wo, In, O) if tw else _mat(w, wo, O, In), tw, b[bo:bo + O], has_b,
                   out.reshape(M, O), act, y.reshape(M, O), op)


def linear_backward_flat(g, go, x, xo, w, wo, tw, gx, gw, gb, M, In, O, need_x, need_w, need_b, gt, T, mask, mo,
                         act):
    """The CPU's flat entry point of ``linear_backward`` (``gt`` and ``T`` unused); ``mask`` (M, In) at mo, what the
    backward of the activation that gave x reads (``act`` 1: a relu's output; 2: a GELU's input; 3, 4: the output
    of tanh, of the sigmoid; 0: none), applied to gx in place."""
    linear_backward(_mat(g, go, M, O), _mat(x, xo, M, In) if need_w else None,
                    (_mat(w, wo, In, O) if tw else _mat(w, wo, O, In)) if need_x else None, tw,
                    gx.reshape(M, In) if need_x else None, gw.reshape(O, In) if need_w else None,
                    gb if need_b else None, need_x, need_w, need_b, None)
    if act and need_x and M * In > 0:
        gxf = gx[:M * In]
        if act >= 3:
            n = M * In
            _act_out_grad[blocks(n), THREADS](gxf, mask[mo:mo + n], n, act == 3, gxf.dtype.type(1))
        else:
            (_relu_backward if act == 1 else _gelu_backward)(gxf, mask[mo:mo + M * In], gxf, M * In)


@cuda.jit
def _act_out_grad(g, y, n, tanh, one):
    """g *= tanh's derivative 1 - y * y (``tanh``) or the sigmoid's y * (1 - y), from the activation's output y
    (``one``: 1 in their dtype, so each step rounds in it)."""
    i = cuda.grid(1)
    step = cuda.gridsize(1)
    while i < n:
        v = y[i]
        g[i] = g[i] * (one - v * v) if tanh else g[i] * (v * (one - v))
        i += step


def set_blas_threads(n):
    """No BLAS on the GPU: a no-op, so launchers can call it for every device."""
