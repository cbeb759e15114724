"""Matrix-multiply kernels.

* ``bmm_blas``: float32/float64 through ``_blas.dot`` (Intel MKL, or SciPy's OpenBLAS: see ``_blas``).
  Operands are C-contiguous 3-D stacks; a flag says that a stack holds the transposes, so a transposed operand
  (an F-ordered matrix) reaches BLAS without a copy.
* ``bmm_tiled``: a hand-written, cache-tiled GEMM over arbitrary strides for every other dtype (integers), and the
  independent reference that the tests compare the BLAS path against.
"""
import numpy as np
from numba import njit, prange

from ._blas import SEQUENTIAL as BLAS_SEQUENTIAL  # noqa: F401  (launchers split large products themselves)
from ._blas import dot as _dot
from ._blas import gemm as _strided_gemm
from .activation import gelu as _gelu
from .activation import gelu_backward as _gelu_backward
from .elementwise import _unary_row

TILE = 64


@njit(cache=True, inline="always")
def _gemm_one(a, ta, b, tb, out, i):
    x = a[i if a.shape[0] > 1 else np.int64(0)]
    y = b[i if b.shape[0] > 1 else np.int64(0)]
    if ta and tb:
        _dot(x.T, y.T, out[i])
    elif ta:
        _dot(x.T, y, out[i])
    elif tb:
        _dot(x, y.T, out[i])
    else:
        _dot(x, y, out[i])


@njit(cache=True)
def bmm_blas(a, ta, b, tb, out):
    """out[i] = op(a[i]) @ op(b[i]) where op transposes when the flag is set; batch dims of size 1 broadcast."""
    for i in range(out.shape[0]):
        _gemm_one(a, ta, b, tb, out, i)


@njit(cache=True)
def gemm(a, ta, b, tb, out):
    """out = op(a) @ op(b) for C-ordered 2-D arrays, op transposing when the flag is set (``bmm_blas`` without the
    batch dim: a plain matrix product skips the three reshapes to and from a batch of one)."""
    if ta and tb:
        _dot(a.T, b.T, out)
    elif ta:
        _dot(a.T, b, out)
    elif tb:
        _dot(a, b.T, out)
    else:
        _dot(a, b, out)


@njit(cache=True, inline="always")
def _gemm_block(a, ta, b, tb, out, r0, r1, c0, c1):
    """out[r0:r1, c0:c1] = (op(a) @ op(b))[r0:r1, c0:c1] (a stored (K, M) when ta, b stored (N, K) when tb)."""
    o = out[r0:r1, c0:c1]
    if ta and tb:
        _dot(a[:, r0:r1].T, b[c0:c1].T, o)
    elif ta:
        _dot(a[:, r0:r1].T, b[:, c0:c1], o)
    elif tb:
        _dot(a[r0:r1], b[c0:c1].T, o)
    else:
        _dot(a[r0:r1], b[:, c0:c1], o)


@njit(cache=True, inline="always")
def _gemm_split(a, ta, b, tb, out, T):
    M, N = out.shape
    by_rows = M >= N
    for t in prange(T):
        if by_rows:
            r0, r1, c0, c1 = t * M // T, (t + 1) * M // T, 0, N
        else:
            r0, r1, c0, c1 = 0, M, t * N // T, (t + 1) * N // T
        if r1 > r0 and c1 > c0:
            _gemm_block(a, ta, b, tb, out, r0, r1, c0, c1)


@njit(cache=True, parallel=True)
def gemm_par(a, ta, b, tb, out, T):
    """``gemm`` split over T Numba threads, one single-threaded GEMM each (large products on a sequential BLAS,
    ``BLAS_SEQUENTIAL``): out's rows are split when it has at least as many rows as columns, else its columns."""
    _gemm_split(a, ta, b, tb, out, T)


@njit(cache=True, inline="always")
def _mat(s, o, r, c):
    """The C-ordered (r, c) matrix at element offset o of the 1-D storage s."""
    return s[o:o + r * c].reshape(r, c)


@njit(cache=True, parallel=True)
def gemm_flat(a, ao, ta, b, bo, tb, out, M, N, K, T):
    """out (a fresh 1-D storage of M*N) = op(a) @ op(b), a stored (M, K) (or (K, M) when ``ta``) at offset ao of
    its 1-D storage, b (K, N) (or (N, K) when ``tb``) at bo: ``gemm`` when T is 1, else ``gemm_par``.

    The launchers' entry point: 1-D storages and scalars unbox in a fraction of the time Numba takes for fresh 2-D
    views, which cost ~0.5-1 us each per call (more than a 64x128x10 GEMM)."""
    am = _mat(a, ao, K, M) if ta else _mat(a, ao, M, K)
    bm = _mat(b, bo, N, K) if tb else _mat(b, bo, K, N)
    om = out.reshape(M, N)
    if T <= 1:  # a call, as in linear_backward_flat
        gemm(am, ta, bm, tb, om)
    else:
        _gemm_split(am, ta, bm, tb, om, T)


@njit(cache=True, parallel=True)
def bmm_blas_par(a, ta, b, tb, out):
    """bmm_blas with the batch split over the Numba threads, each calling a single-threaded GEMM (for batches of
    small matrices, where one threaded GEMM per matrix spends its time starting and stopping BLAS threads)."""
    for i in prange(out.shape[0]):
        _gemm_one(a, ta, b, tb, out, np.int64(i))


# ---------------------------------------------------------------------------------------------------------------
# linear layers: y = x @ w.T + b and its three gradients, one launch each way
# ---------------------------------------------------------------------------------------------------------------
@njit(cache=True, inline="always")
def _epilogue(v, act):
    """The activation fused after a GEMM: 0 none, 1 relu (NaN passes, as torch.relu; +0.0 for -0.0 and -inf, as
    the eager relu kernel gives: ``v * 0`` would give -0.0 and NaN)."""
    if act == 1:
        return v if (v > 0 or v != v) else 0
    return v


@njit(cache=True, inline="always")
def _bias_act(out, r0, r1, c0, c1, b, has_b, act, y, op):
    """out[r0:r1, c0:c1] += b[c0:c1] (without b when not ``has_b``) and the activation ``act`` (``_act_rows``), a
    contiguous row segment at a time with the flags decided outside the loop, so it vectorizes (one loop over
    out[r, c] with the bias lookup and the flags inside cost 7.7 us of a 54 us 64x784x128 layer)."""
    relu = act == 1
    if has_b or relu:
        n = c1 - c0
        bb = b[c0:c1]
        for r in range(r0, r1):
            row = out[r, c0:c1]
            if has_b and relu:
                for c in range(n):
                    row[c] = _epilogue(row[c] + bb[c], 1)
            elif has_b:
                for c in range(n):
                    row[c] += bb[c]
            else:
                for c in range(n):
                    row[c] = _epilogue(row[c], 1)
    if act >= 2:
        _act_rows(out, y, r0, r1, c0, c1, act, op)


@njit(cache=True, inline="always")
def _act_rows(out, y, r0, r1, c0, c1, act, op):
    """y[r0:r1, c0:c1] = f(out[r0:r1, c0:c1]) while the block is in cache (y may be out): ``act`` 2 the exact GELU,
    3 the elementwise kernels' unary op ``op`` (tanh, sigmoid, relu), 4 SiLU as its recorded ops compute it, out
    times the unary op ``op`` (sigmoid) of out, each by its eager kernel's own compiled function, so a fused layer
    rounds as the eager ops do. In place, each row goes through a scratch row: the kernels' loops run ~10x slower
    (unvectorized) when their input and output are one array."""
    n = c1 - c0
    tmp = np.empty(n if out.ctypes.data == y.ctypes.data else 0, out.dtype)
    for r in range(r0, r1):
        dst = y[r, c0:c1] if tmp.size == 0 else tmp
        if act == 2:
            _gelu(out[r, c0:c1], dst, n)
        else:
            src = out[r, c0:c1]
            _unary_row(op, src, 0, 1, dst, 0, n)
            if act == 4:
                for i in range(n):
                    dst[i] = src[i] * dst[i]
        if tmp.size:
            y[r, c0:c1] = tmp


@njit(cache=True, inline="always")
def _rows_xwt(x, w, tw, b, has_b, out, r0, r1, act, y, op):
    """out[r0:r1] = x[r0:r1] @ op(w).T (+ b) and its activation (``_bias_act``); op(w) is w, or w.T when ``tw``
    (w stored as (in, out))."""
    if tw:
        _dot(x[r0:r1], w, out[r0:r1])
    else:
        _dot(x[r0:r1], w.T, out[r0:r1])
    _bias_act(out, r0, r1, 0, out.shape[1], b, has_b, act, y, op)


@njit(cache=True, error_model="numpy")
def linear_forward(x, w, tw, b, has_b, out, act, y, op):
    """out (M, O) = x (M, I) @ w.T + b with w (O, I) (or, when ``tw``, its transpose stored as (I, O)), and an
    activation applied while the rows are in cache (minitorch.compile fuses linear -> relu/gelu/tanh/sigmoid):
    ``act`` 0 none, 1 relu in place, 2 the exact GELU into y, 3 the unary elementwise op ``op`` into y (y may be
    out; a distinct y keeps the pre-activation in out, for a backward that reads it)."""
    _rows_xwt(x, w, tw, b, has_b, out, 0, x.shape[0], act, y, op)


@njit(cache=True, inline="always")
def _rows_split(x, w, tw, b, has_b, out, T, act, y, op):
    """linear_forward with the rows of x split over T threads (each runs a single-threaded GEMM)."""
    M = x.shape[0]
    for t in prange(T):
        r0 = t * M // T
        r1 = (t + 1) * M // T
        if r1 > r0:
            _rows_xwt(x, w, tw, b, has_b, out, r0, r1, act, y, op)


@njit(cache=True, inline="always")
def _features_split(x, w, b, has_b, out, T, act, y, op):
    """The output features split over T threads (w (O, I) as stored, not transposed): each multiplies all rows of x
    by its own block of w's rows straight into its columns of out (BLAS writes a block with out's row stride), then
    adds the bias there. For few rows this beats splitting the rows, where every thread would pack the whole weight
    (measured on a 2-core AMD EPYC: 64x9216 @ 9216x128 1.91 ms -> 1.49 ms)."""
    M = x.shape[0]
    O = w.shape[0]
    for t in prange(T):
        o0 = t * O // T
        o1 = (t + 1) * O // T
        if o1 > o0:
            _dot(x, w[o0:o1].T, out[:, o0:o1])
            _bias_act(out, 0, M, o0, o1, b, has_b, act, y, op)


@njit(cache=True, parallel=True, error_model="numpy")
def linear_forward_flat(x, xo, w, wo, tw, b, bo, has_b, out, M, In, O, split, T, act, y, op):
    """The launchers' entry point for linear layers, from 1-D storages (``gemm_flat`` says why): x (M, In) at offset
    xo, w (O, In) (or (In, O) when ``tw``) at wo, b (O) at bo (any storage when not ``has_b``), out and y fresh M*O
    storages (y may be out; ``act`` and ``op`` as in linear_forward). ``split`` 0 runs linear_forward on this
    thread, 1 splits the rows of x over T threads, 2 the output features (``_features_split``, which takes w as
    stored: with ``tw`` the rows are split instead)."""
    xm = _mat(x, xo, M, In)
    wm = _mat(w, wo, In, O) if tw else _mat(w, wo, O, In)
    bv = b[bo:bo + O]
    om = out.reshape(M, O)
    ym = y.reshape(M, O)
    if split == 0:  # a call, as in linear_backward_flat
        linear_forward(xm, wm, tw, bv, has_b, om, act, ym, op)
    elif split == 1 or tw:
        _rows_split(xm, wm, tw, bv, has_b, om, T, act, ym, op)
    else:
        _features_split(xm, wm, bv, has_b, om, T, act, ym, op)


@njit(cache=True, inline="always")
def _grad_cols(g, x, w, tw, gx, gw, gb, need_x, need_w, need_b, gt, t, T):
    """Thread t's share of the gradients when the batch is short (M <= In): a block of columns of each.

    gx[:, i0:i1] = g @ op(w)[:, i0:i1], gw[o0:o1] = g[:, o0:o1].T @ x and gb[o0:o1] = g[:, o0:o1].sum(0), the
    blocks read in place through the strided GEMM (``_blas.gemm``). Splitting gx by columns, each thread packs only
    its block of w: splitting its rows made both threads pack all of w (64 x 128 @ 128 x 784: 89 -> 60 us on 2
    threads). ``gt`` is unused (the launcher's scratch for the row split).
    """
    M, O = g.shape
    gf = g.reshape(M * O)
    if need_x and M > 0:
        In = gx.shape[1]
        i0 = t * In // T
        i1 = (t + 1) * In // T
        if i1 > i0:
            if tw:  # w stored as (In, O): op(w)[:, i0:i1] is the transpose of its rows i0:i1
                _strided_gemm(False, True, M, i1 - i0, O, 1.0, gf, O, w.reshape(In * O)[i0 * O:], O, 0.0,
                              gx.reshape(M * In)[i0:], In)
            else:
                _strided_gemm(False, False, M, i1 - i0, O, 1.0, gf, O, w.reshape(O * In)[i0:], In, 0.0,
                              gx.reshape(M * In)[i0:], In)
    o0 = t * O // T
    o1 = (t + 1) * O // T
    n = o1 - o0
    if n > 0 and need_w:
        In = x.shape[1]
        if M > 0:
            _strided_gemm(True, False, n, In, M, 1.0, gf[o0:], O, x.reshape(M * In), In, 0.0,
                          gw.reshape(O * In)[o0 * In:], In)
        else:
            gw[o0:o1] = 0
    if n > 0 and need_b:
        acc = np.zeros(n)
        for r in range(M):
            gr = g[r]
            for c in range(n):
                acc[c] += gr[o0 + c]
        for c in range(n):
            gb[o0 + c] = acc[c]


@njit(cache=True, error_model="numpy")
def linear_backward(g, x, w, tw, gx, gw, gb, need_x, need_w, need_b, gt):
    """gx = g @ op(w), gw = g.T @ x, gb = g.sum(0) for g (M, O), x (M, I); ``gt`` is unused (the threaded form's).

    On one thread the GEMM takes g.T as it is (BLAS reads the transposed operand in place) and the bias gradient
    is summed row by row, so g is never copied (the transpose of a 700 x 10000 gradient cost more than 15 ms)."""
    M, O = g.shape
    if need_x and M > 0:
        if tw:
            _dot(g, w.T, gx)
        else:
            _dot(g, w, gx)
    if need_w:
        if M > 0:
            _dot(g.T, x, gw)
        else:
            gw[:] = 0
    if need_b:
        acc = np.zeros(O)
        for r in range(M):
            gr = g[r]
            for o in range(O):
                acc[o] += gr[o]
        for o in range(O):
            gb[o] = acc[o]


@njit(cache=True)
def linear_split_rows(M, In):
    """Whether linear_backward_flat's split takes the batch rows (else the columns of each gradient) per thread."""
    return M > In


@njit(cache=True)
def linear_scratch(M, In, O, T):
    """Elements per thread of the scratch ``gt`` that linear_backward_flat takes when split."""
    return O * In + O if linear_split_rows(M, In) else 1


@njit(cache=True, inline="always")
def _backward_split(g, x, w, tw, gx, gw, gb, need_x, need_w, need_b, gt, mk, has_mask, act):
    """linear_backward split over gt.shape[0] threads; ``linear_split_rows(M, In)`` picks how (the launcher sizes gt
    with ``linear_scratch``).

    By rows (M > In): thread t takes rows r0:r1: gx[r0:r1] = g[r0:r1] @ op(w), and its partial
    gw_t = g[r0:r1].T @ x[r0:r1] (BLAS reads the transposed row block in place) and column sums gb_t into gt[t]; a
    second pass adds the partials (O*In*T reads). By columns otherwise (``_grad_cols``). Rows were 20-25% faster at
    the GPT's 768 x 128 x 384 and the LM decoder's 700 x 200 x 10000; columns at the MLP's 64 x 784 x 128.
    ``has_mask``: each thread applies the activation's backward (``_act_grad``) to its block of gx."""
    T = gt.shape[0]
    M, O = g.shape
    # the arrays not needed are stand-ins (g itself): In is read from one that is needed, and is O when only the
    # bias gradient is (the launcher sizes ``gt`` by the same rule, so both take the same split)
    In = gx.shape[1] if need_x else x.shape[1]
    if not linear_split_rows(M, In):
        for t in prange(T):
            _grad_cols(g, x, w, tw, gx, gw, gb, need_x, need_w, need_b, gt[t], t, T)
            if has_mask:
                _act_grad(gx, mk, 0, M, t * In // T, (t + 1) * In // T, act)
        return
    for t in prange(T):
        r0 = t * M // T
        r1 = (t + 1) * M // T
        if need_x and r1 > r0:
            if tw:
                _dot(g[r0:r1], w.T, gx[r0:r1])
            else:
                _dot(g[r0:r1], w, gx[r0:r1])
            if has_mask:
                _act_grad(gx, mk, r0, r1, 0, In, act)
        if need_w:
            pw = gt[t, :O * In].reshape(O, In)
            if r1 > r0:
                _dot(g[r0:r1].T, x[r0:r1], pw)
            else:
                pw[:] = 0
        if need_b:
            pb = gt[t, O * In:O * In + O]
            pb[:] = 0
            for r in range(r0, r1):
                gr = g[r]
                for o in range(O):
                    pb[o] += gr[o]
    if need_w or need_b:
        nch = max(1, min(T * 8, O))
        for c in prange(nch):
            o0 = c * O // nch
            o1 = (c + 1) * O // nch
            if need_w:
                for o in range(o0, o1):
                    for i in range(In):
                        acc = gt[0, o * In + i]
                        for t in range(1, T):
                            acc += gt[t, o * In + i]
                        gw[o, i] = acc
            if need_b:
                for o in range(o0, o1):
                    acc = gt[0, O * In + o]
                    for t in range(1, T):
                        acc += gt[t, O * In + o]
                    gb[o] = acc


@njit(cache=True, inline="always")
def _act_grad(gx, mk, r0, r1, i0, i1, act):
    """The backward of the activation that gave the layer's input, on a block gx[r0:r1, i0:i1] while it is in cache:
    ``act`` 1 zeroes it where the relu output mk <= 0 (relu_backward), 2 multiplies it by the exact GELU's
    derivative at its input mk (gelu_backward's own compiled function, so it rounds as the eager kernel; into a
    scratch row and back, as that loop runs ~10x slower in place), 3 by tanh's derivative 1 - mk * mk at its output
    mk, 4 by the sigmoid's mk * (1 - mk) (each step rounded in gx's dtype, as the backward formulas' ops round)."""
    if act >= 3:
        one = np.ones(1, gx.dtype)[0]
        for r in range(r0, r1):
            gr = gx[r]
            mr = mk[r]
            if act == 3:
                for i in range(i0, i1):
                    y = mr[i]
                    gr[i] = gr[i] * (one - y * y)
            else:
                for i in range(i0, i1):
                    y = mr[i]
                    gr[i] = gr[i] * (y * (one - y))
        return
    if act == 1:
        for r in range(r0, r1):
            gr = gx[r]
            mr = mk[r]
            for i in range(i0, i1):
                if mr[i] <= 0:
                    gr[i] = 0
        return
    n = i1 - i0
    tmp = np.empty(n, gx.dtype)
    for r in range(r0, r1):
        gr = gx[r]
        _gelu_backward(gr[i0:i1], mk[r, i0:i1], tmp, n)
        for i in range(n):
            gr[i0 + i] = tmp[i]


@njit(cache=True, parallel=True, error_model="numpy")
def linear_backward_flat(g, go, x, xo, w, wo, tw, gx, gw, gb, M, In, O, need_x, need_w, need_b, gt, T, mask, mo,
                         act):
    """The launchers' entry point for linear_backward*, from 1-D storages (``gemm_flat`` says why): g (M, O) at
    offset go, x (M, In) at xo (read when ``need_w``), w (O, In) (or (In, O) when ``tw``) at wo (read when
    ``need_x``); gx (M*In), gw (O*In) and gb (O) fresh storages where needed, any storage where not. T 1 runs
    linear_backward on this thread, else ``_backward_split`` over T threads with gt (T*S, S from
    ``linear_scratch``) as scratch. ``mask`` (M, In) at offset mo, read when ``act`` is not 0 and with ``need_x``:
    what the backward of the activation that gave x reads (``act`` 1: the relu's output; 2: the GELU's input;
    3, 4: the output of tanh, of the sigmoid),
    applied to each block of gx as it is made (minitorch.compile fuses linear_backward -> relu_backward or
    gelu_backward). Every argument is passed (a default argument's type made each call ~90 us slower)."""
    gm = _mat(g, go, M, O)
    xm = _mat(x, xo, M, In) if need_w else gm
    wm = (_mat(w, wo, In, O) if tw else _mat(w, wo, O, In)) if need_x else gm
    gxm = gx.reshape(M, In) if need_x else gm
    gwm = gw.reshape(O, In) if need_w else gm
    gbv = gb if need_b else g
    has_mask = act != 0 and need_x
    mk = _mat(mask, mo, M, In) if has_mask else gxm
    if T <= 1:  # a call, not inlined: parallel=True would turn its zeroing and sums into thread launches
        linear_backward(gm, xm, wm, tw, gxm, gwm, gbv, need_x, need_w, need_b, gm)
        if has_mask:
            _act_grad(gxm, mk, 0, M, 0, In, act)
    else:
        _backward_split(gm, xm, wm, tw, gxm, gwm, gbv, need_x, need_w, need_b, gt.reshape(T, gt.size // T), mk,
                        has_mask, act)


@njit(cache=True, inline="always")
def _tile(a, ao, sa0, sa1, b, bo, sb0, sb1, out, oo, N, K, i0, i1, j0, j1):
    for k0 in range(0, K, TILE):
        k1 = min(K, k0 + TILE)
        for i in range(i0, i1):
            for k in range(k0, k1):
                x = a[ao + i * sa0 + k * sa1]
                for j in range(j0, j1):
                    out[oo + i * N + j] += x * b[bo + k * sb0 + j * sb1]


@njit(cache=True, parallel=True)
def bmm_tiled(a, ao, sab, sa0, sa1, b, bo, sbb, sb0, sb1, out, B, M, N, K):
    """out (B*M*N, zero-filled by the launcher) += a[B, M, K] @ b[B, K, N] over element strides."""
    mt = (M + TILE - 1) // TILE
    nt = (N + TILE - 1) // TILE
    for t in prange(B * mt * nt):
        bi = t // (mt * nt)
        rest = t - bi * mt * nt
        ti = rest // nt
        tj = rest - ti * nt
        _tile(a, ao + bi * sab, sa0, sa1, b, bo + bi * sbb, sb0, sb1, out, bi * M * N, N, K,
              ti * TILE, min(M, ti * TILE + TILE), tj * TILE, min(N, tj * TILE + TILE))


# ---------------------------------------------------------------------------------------------------------------
# BLAS threads (host side, not a kernel)
# ---------------------------------------------------------------------------------------------------------------
_blas = {"controller": None, "threads": None}


def set_blas_threads(n):
    """Set the thread count of SciPy's OpenBLAS (what ``_blas.dot`` calls when MKL is not in use; MKL runs
    sequentially and the launchers split its large products themselves).

    Small GEMMs run single-threaded: OpenBLAS worker threads spin after each call and would take the cores
    from the Numba kernels that follow. Large GEMMs use every core. A no-op when threadpoolctl is missing.
    """
    if _blas["threads"] == n:
        return
    ctl = _blas["controller"]
    if ctl is None:
        try:
            import scipy.linalg.cython_blas  # noqa: F401  (make sure the library Numba binds to is loaded)
            from threadpoolctl import ThreadpoolController
            ctl = [c for c in ThreadpoolController().lib_controllers
                   if c.user_api == "blas" and "scipy" in c.filepath and "numpy" not in c.filepath]
        except ImportError:
            ctl = []
        _blas["controller"] = ctl
    for c in ctl:
        c.set_num_threads(n)
    _blas["threads"] = n
