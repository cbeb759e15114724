"""The BLAS GEMM that every CPU kernel calls: ``dot`` (``np.dot(a, b, out)`` for 2-D float arrays) and ``gemm`` (a
strided GEMM with leading dimensions, alpha and beta).

Which library runs it is chosen once per process, when this module is imported:

* **Intel MKL** (``libmkl_rt`` of the ``mkl`` wheel, the ``mkl`` extra on x86-64 Linux and Windows), switched to its
  sequential threading layer: the kernels call it from inside their own Numba threads, one single-threaded GEMM per
  thread, so no second thread pool competes for the cores. It is the BLAS PyTorch's CPU build uses, and measured
  here (2-vCPU Xeon, AVX-512, one thread) 1.2-1.45x faster than OpenBLAS at the shapes of our layers: 64x784x128
  70 vs 103 us, conv-shaped 64x288x784 158 vs 232 us, 700x200x10000 13.6 vs 18.8 ms.
  Small products with B not transposed still go to SciPy's OpenBLAS (``SMALL``, below): up to twice as fast there.
* **SciPy's OpenBLAS** otherwise (the library Numba's own ``np.dot`` calls, reached through
  ``scipy.linalg.cython_blas``): it threads large products itself (``matmul.set_blas_threads`` sets how far).

The sequential layer is a setting of the loaded ``libmkl_rt``: where NumPy runs on the same MKL (conda builds), its
own products become single-threaded as well. ``MINITORCH_BLAS=openblas`` (or ``scipy``) keeps SciPy's OpenBLAS and
leaves MKL alone even where it is installed; ``MINITORCH_BLAS=mkl`` makes a missing MKL an ImportError instead of a
silent fallback. ``BACKEND`` names the choice; ``SEQUENTIAL`` says that the library runs each product on one thread
(large products are then split over the Numba threads by the launchers, see ``matmul.gemm_par``).

Both libraries are reached through the Fortran interface (``sgemm``/``dgemm``, 32-bit integers, arguments by
pointer) under one process-wide symbol per type, ``minitorch_sgemm``/``minitorch_dgemm``, registered with LLVM
here before any kernel loads: kernels cached on disk under one library resolve to the other in a later process.
"""
import ctypes
import glob
import os
import sys

import numpy as np
from llvmlite import binding as llvm_binding
from llvmlite import ir as llvm_ir
from numba import njit, types
from numba.core import cgutils
from numba.core.imputils import impl_ret_borrowed
from numba.extending import intrinsic, overload

_SYMBOLS = {"s": "minitorch_sgemm", "d": "minitorch_dgemm"}
_SMALL_SYMBOLS = {"s": "minitorch_sgemm_small", "d": "minitorch_dgemm_small"}

# OpenBLAS worker threads busy-wait for about 2**28 cycles after each call before they sleep, so after a threaded
# GEMM they keep both cores away from the Numba kernels that follow (measured: a CNN training step took 88 ms
# instead of 32 ms). 2**4 cycles makes them sleep at once. OpenBLAS reads this when SciPy's copy loads, which is
# below unless the program imported scipy.linalg first.
os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")


def _mkl_candidates():
    """Paths where the ``mkl`` wheel puts its single dynamic library, in this environment and its base."""
    prefixes = dict.fromkeys((sys.prefix, sys.base_prefix, os.path.dirname(os.path.dirname(sys.executable))))
    for prefix in prefixes:
        if sys.platform.startswith("win"):
            pattern = os.path.join(prefix, "Library", "bin", "mkl_rt*.dll")
        elif sys.platform == "darwin":
            pattern = os.path.join(prefix, "lib", "libmkl_rt*.dylib")
        else:
            pattern = os.path.join(prefix, "lib", "libmkl_rt.so*")
        yield from sorted(glob.glob(pattern), reverse=True)


def _address(fn):
    return ctypes.cast(fn, ctypes.c_void_p).value


def _load_mkl():
    """(name, {kind: address}) of MKL's sgemm/dgemm in its sequential LP64 layers, or None when not installed."""
    for path in _mkl_candidates():
        try:
            lib = ctypes.CDLL(path)  # local symbols: nothing else in the process binds to this copy by accident
            set_interface, set_threading = lib.MKL_Set_Interface_Layer, lib.MKL_Set_Threading_Layer
            sgemm, dgemm = lib.sgemm_, lib.dgemm_
        except (OSError, AttributeError):
            continue
        set_interface.argtypes = set_threading.argtypes = [ctypes.c_int]
        set_interface(0)   # MKL_INTERFACE_LP64: 32-bit integers, as in SciPy's BLAS
        set_threading(1)   # MKL_THREADING_SEQUENTIAL
        name = "mkl"
        try:
            get_version = lib.MKL_Get_Version_String
            buf = ctypes.create_string_buffer(256)
            get_version(buf, 256)
            words = buf.value.decode(errors="replace").split()
            name += " " + words[words.index("Version") + 1].split("-")[0]
        except (AttributeError, ValueError, IndexError):
            pass
        _KEEP.append(lib)
        return name, {"s": _address(sgemm), "d": _address(dgemm)}
    return None


def _load_scipy():
    """(name, {kind: address}) of the sgemm/dgemm that SciPy's cython_blas exports (its bundled OpenBLAS)."""
    from scipy.linalg import cython_blas
    get_name = ctypes.pythonapi.PyCapsule_GetName
    get_name.restype, get_name.argtypes = ctypes.c_char_p, [ctypes.py_object]
    get_pointer = ctypes.pythonapi.PyCapsule_GetPointer
    get_pointer.restype, get_pointer.argtypes = ctypes.c_void_p, [ctypes.py_object, ctypes.c_char_p]
    capi = cython_blas.__pyx_capi__
    out = {}
    for kind in ("s", "d"):
        capsule = capi[kind + "gemm"]
        out[kind] = get_pointer(capsule, get_name(capsule))
    return "scipy openblas", out


_KEEP = []


def _select():
    choice = os.environ.get("MINITORCH_BLAS", "auto").strip().lower() or "auto"
    if choice not in ("auto", "mkl", "openblas", "scipy"):
        raise ValueError(f"MINITORCH_BLAS must be 'auto', 'mkl' or 'openblas', not {choice!r}")
    if choice in ("auto", "mkl"):
        found = _load_mkl()
        if found is not None:
            return found[0], found[1], True
        if choice == "mkl":
            raise ImportError("MINITORCH_BLAS=mkl but no MKL library was found in this environment: "
                              "pip install 'minitorch[mkl]' (x86-64 Linux or Windows)")
    name, addresses = _load_scipy()
    return name, addresses, False


BACKEND, _ADDRESSES, SEQUENTIAL = _select()
for _kind, _addr in _ADDRESSES.items():
    llvm_binding.add_symbol(_SYMBOLS[_kind], _addr)

# Small products on MKL go to SciPy's OpenBLAS instead: row-major C (m, n) = A @ B with B not transposed and
# m * n * k <= SMALL. Measured on the 2-vCPU AMD EPYC (Zen 4), one GEMM per Numba thread on both threads, float32
# GFLOP/s MKL / OpenBLAS: 64x98x32 (a 14x14 Winograd GEMM) 88/207, 128x64x64 133/224, 64x64x128 124/228, 32x32x32
# 142/206, 8x8x8 13/31; at 2**20 MKL leads (64x128x128 152/136, 128x128x64 150/140), and with B transposed it is
# level or ahead at every size (64x128x64 136/116, 32x32x32 139/114). OpenBLAS runs products this small on the
# calling thread whatever its thread count (a 128x128x64 one, twice SMALL, split over its own threads inside the
# Numba ones: 32-51 GFLOP/s). MINITORCH_BLAS_SMALL sets the bound (0: MKL runs everything); it is 0 off MKL. A
# process-wide symbol read at run time, as NARROW below.
def _small_bound():
    if not BACKEND.startswith("mkl"):
        return 0
    text = os.environ.get("MINITORCH_BLAS_SMALL", "").strip()
    if not text:
        return 1 << 19
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise ValueError(f"MINITORCH_BLAS_SMALL must be a product size m*n*k >= 0 (0: off), not {text!r}")
    return value


_SMALL = ctypes.c_int64(_small_bound())
SMALL = _SMALL.value
_SMALL_ADDRESSES = _load_scipy()[1] if SMALL else _ADDRESSES
for _kind, _addr in _SMALL_ADDRESSES.items():
    llvm_binding.add_symbol(_SMALL_SYMBOLS[_kind], _addr)
llvm_binding.add_symbol("minitorch_blas_small", ctypes.addressof(_SMALL))


def small_products():
    """The current SMALL: products up to this many multiply-adds (B not transposed) run on SciPy's OpenBLAS."""
    return _SMALL.value


# Row-major products (m, n) with n < NARROW output columns, or n < 4 * NARROW not a multiple of NARROW, and at least
# as many rows as columns are computed transposed. MKL is slow when BLAS's column-major m (our row-major n) is under
# 16, at least on AMD's Zen 3 (2-vCPU EPYC, one thread, float32 64x128 @ 128x10: 12.1 us, where the same product
# computed as its transpose took 3.0 us and OpenBLAS 3.8 us; 64x784 @ (10x784)^T: 232 vs 35 us on OpenBLAS), and
# slower below 64 when it is not a multiple of 16 (64x256 @ 256xn, GFLOP/s as is / transposed: n = 19 35/55, 23
# 33/58, 31 35/64, 47 45/68; but 16 73/61, 32 80/70, 48 84/77). OpenBLAS has no such gap (it is the other way
# round: its m = 10 runs faster than n = 10), so it keeps 0. A process-wide symbol, read at run time, so that kernels
# cached under one library keep the right choice under the other.
_NARROW = ctypes.c_int64(16 if BACKEND.startswith("mkl") else 0)
NARROW = _NARROW.value
llvm_binding.add_symbol("minitorch_blas_narrow", ctypes.addressof(_NARROW))


def _global_int(name):
    """An intrinsic that loads the process-wide int64 registered under ``name``."""
    @intrinsic
    def load(typingctx):
        def codegen(context, builder, signature, args):
            i64 = llvm_ir.IntType(64)
            try:
                gv = builder.module.get_global(name)
            except KeyError:
                gv = llvm_ir.GlobalVariable(builder.module, i64, name)
                gv.linkage = "external"
            return builder.load(gv)
        return types.int64(), codegen
    return load


_narrow = _global_int("minitorch_blas_narrow")   # the current process's NARROW (above)
_small = _global_int("minitorch_blas_small")     # and its SMALL (below)


@intrinsic
def _load_at(typingctx, c, i):
    """``c``'s element ``i`` places after the one its data pointer points at, whatever ``c``'s shape."""
    if not isinstance(c, types.Array):
        return None

    def codegen(context, builder, signature, args):
        arr = context.make_array(signature.args[0])(context, builder, args[0])
        return builder.load(builder.gep(arr.data, [args[1]]))
    return c.dtype(c, types.intp), codegen


@intrinsic
def _store_at(typingctx, c, i, v):
    """Store ``v`` (cast to ``c``'s dtype) into ``c``'s element ``i`` places after its data pointer (see
    ``_load_at``)."""
    if not isinstance(c, types.Array) or not isinstance(v, types.Number):
        return None

    def codegen(context, builder, signature, args):
        arr = context.make_array(signature.args[0])(context, builder, args[0])
        value = context.cast(builder, args[2], signature.args[2], signature.args[0].dtype)
        builder.store(value, builder.gep(arr.data, [args[1]]))
        return context.get_dummy_value()
    return types.void(c, types.intp, v), codegen


# ---------------------------------------------------------------------------------------------------------------
# the call: Fortran sgemm/dgemm with every argument in a stack slot
# ---------------------------------------------------------------------------------------------------------------
def _xgemm_typer(symbols, typingctx, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc):
    """Column-major ``C = alpha * op(A) op(B) + beta * C`` (BLAS's own convention) on the data pointers of arrays
    a, b, c of one float dtype; ta/tb are booleans; m..ldc integers; the library is the one under ``symbols``."""
    if not all(isinstance(x, types.Array) for x in (a, b, c)):
        return None
    dt = c.dtype
    if not isinstance(dt, types.Float) or a.dtype != dt or b.dtype != dt:
        return None
    symbol = symbols["s" if dt == types.float32 else "d"]
    sig = types.void(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)

    def codegen(context, builder, signature, args):
        ta_, tb_, m_, n_, k_, alpha_, a_, lda_, b_, ldb_, beta_, c_, ldc_ = args
        i32 = llvm_ir.IntType(32)
        i8 = llvm_ir.IntType(8)
        ft = context.get_value_type(dt)
        fnty = llvm_ir.FunctionType(llvm_ir.VoidType(),
                                    [i8.as_pointer()] * 2 + [i32.as_pointer()] * 3 + [ft.as_pointer()] * 2
                                    + [i32.as_pointer(), ft.as_pointer(), i32.as_pointer(), ft.as_pointer(),
                                       ft.as_pointer(), i32.as_pointer()])
        fn = cgutils.get_or_insert_function(builder.module, fnty, symbol)

        def flag(value, ty):
            v = context.cast(builder, value, ty, types.boolean)
            return builder.select(v, i8(ord("T")), i8(ord("N")))

        def int_slot(value, ty):
            return cgutils.alloca_once_value(builder, builder.trunc(context.cast(builder, value, ty, types.intp),
                                                                    i32))

        def float_slot(value, ty):
            return cgutils.alloca_once_value(builder, context.cast(builder, value, ty, dt))

        def data(value, ty):
            return context.make_array(ty)(context, builder, value).data

        sa = signature.args
        call_args = [cgutils.alloca_once_value(builder, flag(ta_, sa[0])),
                     cgutils.alloca_once_value(builder, flag(tb_, sa[1])),
                     int_slot(m_, sa[2]), int_slot(n_, sa[3]), int_slot(k_, sa[4]), float_slot(alpha_, sa[5]),
                     data(a_, sa[6]), int_slot(lda_, sa[7]), data(b_, sa[8]), int_slot(ldb_, sa[9]),
                     float_slot(beta_, sa[10]), data(c_, sa[11]), int_slot(ldc_, sa[12])]
        builder.call(fn, call_args)
        return context.get_dummy_value()
    return sig, codegen


@intrinsic
def _xgemm(typingctx, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc):
    """The call on the process's BLAS (BACKEND)."""
    return _xgemm_typer(_SYMBOLS, typingctx, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)


@intrinsic
def _xgemm_small(typingctx, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc):
    """The call on SciPy's OpenBLAS, what small products take under MKL (see SMALL)."""
    return _xgemm_typer(_SMALL_SYMBOLS, typingctx, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)


def gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc):
    """``C = alpha * op(A) @ op(B) + beta * C`` for row-major ``C`` (m, n) with rows ``ldc`` elements apart starting
    at ``c[0]``; ``op(A)`` is (m, k): ``A`` (m, k) with row stride ``lda`` read from ``a[0]``, or ``A^T`` when ``ta``
    (``A`` stored (k, m)); the same for ``B``. float32 and float64 arrays (one dtype for all three). With
    ``beta == 0`` C's old contents are not read (NaN in it does not propagate, as BLAS specifies). Called from
    compiled code; this NumPy body is the reference the tests compare it with."""
    def view(x, rows, cols, ld, t):
        v = np.lib.stride_tricks.as_strided(x, (cols, rows) if t else (rows, cols), (ld * x.itemsize, x.itemsize))
        return v.T if t else v
    cv = np.lib.stride_tricks.as_strided(c, (m, n), (ldc * c.itemsize, c.itemsize))
    prod = alpha * (view(a, m, k, lda, ta) @ view(b, k, n, ldb, tb))
    cv[...] = prod if beta == 0 else prod + beta * cv


@overload(gemm)
def _gemm_impl(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc):
    if not (isinstance(c, types.Array) and isinstance(c.dtype, types.Float)):
        return None

    def impl(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc):
        if m <= 0 or n <= 0:
            return
        narrow = _narrow()
        if m >= narrow > 0 and m >= n and k > 0 and (n < narrow or (n < 4 * narrow and n % narrow != 0)):
            # few output columns: BLAS computes C itself as a column-major (m, n) block (its m is our m, not n), which
            # is then written into C's rows (see NARROW)
            tmp = np.empty(m * n, c.dtype)
            _xgemm(not ta, not tb, m, n, k, alpha, a, max(lda, 1), b, max(ldb, 1), 0.0, tmp, m)
            for i in range(m):
                for j in range(n):
                    v = tmp[j * m + i]
                    if beta != 0:
                        v += beta * _load_at(c, i * ldc + j)
                    _store_at(c, i * ldc + j, v)
            return
        # column-major BLAS on row-major data: C^T = op(B)^T op(A)^T, where a row-major (r, c) matrix with row
        # stride ld is its column-major transpose with leading dimension ld
        if m * n * k <= _small() and not tb:
            _xgemm_small(tb, ta, n, m, k, alpha, b, max(ldb, 1), a, max(lda, 1), beta, c, max(ldc, 1))
        else:
            _xgemm(tb, ta, n, m, k, alpha, b, max(ldb, 1), a, max(lda, 1), beta, c, max(ldc, 1))
    return impl


# ---------------------------------------------------------------------------------------------------------------
# dot: np.dot(a, b, out) for 2-D float arrays of any strides
# ---------------------------------------------------------------------------------------------------------------
@intrinsic
def _as_any(typingctx, a):
    """``a`` itself, typed as an array of any layout (every layout has the same data model): callees then compile
    once per dtype instead of once per combination of their arguments' layouts."""
    if not isinstance(a, types.Array):
        return None
    ty = types.Array(a.dtype, a.ndim, "A", readonly=not a.mutable, aligned=a.aligned)

    def codegen(context, builder, signature, args):
        return impl_ret_borrowed(context, builder, signature.return_type, args[0])
    return ty(a), codegen


@njit(cache=True)
def _form(s0, s1, r, c):
    """How BLAS reads a 2-D array of shape (r, c) and element strides (s0, s1): (0, ld) row-major with row stride
    ld, (1, ld) the transpose of a row-major (c, r) array, (-1, 0) neither (copied first)."""
    if (s1 == 1 or c <= 1) and (r <= 1 or s0 >= max(c, 1)):
        return 0, s0 if r > 1 else max(c, 1)
    if (s0 == 1 or r <= 1) and (c <= 1 or s1 >= max(r, 1)):
        return 1, s1 if c > 1 else max(r, 1)
    return -1, 0


@njit(cache=True)
def _zero_any(out):
    """out[:, :] = 0 as a loop: a slice assignment compiles Numba's shape-error formatting into every caller."""
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = 0


@njit(cache=True)
def _dot_any(a, b, out):
    """dot for operands of any layout (Numba's 'A' arrays): the BLAS form of each is read off its strides at run
    time, and an operand that has none (or an output) goes through a contiguous copy."""
    m, k = a.shape
    n = b.shape[1]
    if m == 0 or n == 0:
        return
    if k == 0:
        _zero_any(out)
        return
    sz = a.itemsize
    ta, lda = _form(a.strides[0] // sz, a.strides[1] // sz, m, k)
    if ta < 0:
        a = np.ascontiguousarray(a)
        ta, lda = 0, k
    tb, ldb = _form(b.strides[0] // sz, b.strides[1] // sz, k, n)
    if tb < 0:
        b = np.ascontiguousarray(b)
        tb, ldb = 0, n
    fc, ldc = _form(out.strides[0] // sz, out.strides[1] // sz, m, n)
    if fc == 0:
        gemm(ta == 1, tb == 1, m, n, k, 1.0, a, lda, b, ldb, 0.0, out, ldc)
    elif fc == 1:  # out^T (n, m) row-major = op(B)^T op(A)^T
        gemm(tb == 0, ta == 0, n, m, k, 1.0, b, ldb, a, lda, 0.0, out, ldc)
    else:
        tmp = np.empty((m, n), out.dtype)
        gemm(ta == 1, tb == 1, m, n, k, 1.0, a, lda, b, ldb, 0.0, tmp, n)
        for i in range(m):
            for j in range(n):
                out[i, j] = tmp[i, j]


def dot(a, b, out):
    """``out[...] = a @ b`` for 2-D float arrays of one dtype, any strides (``np.dot(a, b, out)`` inside compiled
    code, on the library chosen above). Shapes are the caller's to check."""
    np.dot(a, b, out)


@overload(dot)
def _dot_impl(a, b, out):
    if not all(isinstance(x, types.Array) and x.ndim == 2 for x in (a, b, out)):
        return None
    if not isinstance(out.dtype, types.Float) or a.dtype != out.dtype or b.dtype != out.dtype:
        return None
    if a.layout not in "CF" or b.layout not in "CF" or out.layout not in "CF" or len(out.layout) != 1:
        def impl_any(a, b, out):
            _dot_any(_as_any(a), _as_any(b), _as_any(out))
        return impl_any
    # C- and F-typed operands (what the kernels pass): the transposes are known now, one GEMM call is compiled
    ta, tb, out_f = a.layout == "F", b.layout == "F", out.layout == "F"

    def impl(a, b, out):
        m, k = a.shape
        n = b.shape[1]
        if m == 0 or n == 0:
            return
        if k == 0:
            _zero_any(_as_any(out))
            return
        sz = a.itemsize
        # leading dimensions: the stride between rows of the stored (row-major) matrix; a single row may carry any
        # stride, so it gets its length (BLAS checks ld >= that length)
        lda = (a.strides[1] // sz if k > 1 else m) if ta else (a.strides[0] // sz if m > 1 else k)
        ldb = (b.strides[1] // sz if n > 1 else k) if tb else (b.strides[0] // sz if k > 1 else n)
        if out_f:  # out^T (n, m) row-major = op(B)^T op(A)^T
            gemm(not tb, not ta, n, m, k, 1.0, b, ldb, a, lda, 0.0, out, out.strides[1] // sz if n > 1 else m)
        else:
            gemm(ta, tb, m, n, k, 1.0, a, lda, b, ldb, 0.0, out, out.strides[0] // sz if m > 1 else n)
    return impl
