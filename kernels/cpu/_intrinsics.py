"""LLVM instructions the CPU kernels call directly, where Numba's Python semantics would give slower code.

* ``fma(a, b, c)``: a * b + c rounded once (``llvm.fma``).
* ``f32_from_bits(i)``: the float32 whose bit pattern is the int32 ``i`` (a register move; ``2**n`` is
  ``(n + 127) << 23``), which vectorizes where a table lookup does not. ``f64_from_bits(i)`` the same for a float64
  and an int64 (``2**n`` is ``(n + 1023) << 52``); ``f32_bits(x)`` the int32 bit pattern of a float32.
* ``maximum(a, b)`` / ``minimum(a, b)``: for floats ``llvm.maximum`` / ``llvm.minimum``, which propagate NaN and
  order -0.0 below +0.0; for integers ``llvm.smax``/``umax`` (``smin``/``umin``); for bools or/and. LLVM
  recognises a loop folding either of them as a reduction and vectorizes it, which it does not do for Numba's
  ``x if x > m else m`` (its select carries no fast-math flags): amax over the rows of a 4096^2 float32 matrix went
  from 1.76 to 0.76 ms on one thread.
* ``maxnum_nonan(a, b)`` / ``minnum_nonan(a, b)``: floats only, ``llvm.maxnum``/``minnum`` flagged as seeing no NaN
  and no signed zeros, so a reduction over them is one vmaxps/vminps per vector. The result is undefined where an
  operand is NaN: callers check the run for NaN separately and discard it then (see kernels/cpu/reduce.py).
* ``f16_widen(h)`` / ``f16_narrow(x)``: a float16 bit pattern (the low 16 bits of an integer) to the float32 it
  holds, and a float32 to the float16 bit pattern nearest to it (ties to even), as ``fpext``/``fptrunc`` through
  LLVM's ``half``: one vcvtph2ps/vcvtps2ph per vector with F16C, and an instruction on AArch64. Without hardware
  support LLVM would call a runtime helper that a Numba process may not have: kernels/cpu/half.py calls these only
  where ``HALF_HARDWARE`` holds. NaN payloads follow the hardware (a signaling NaN comes out quiet).
* ``address(arr)``: the integer address of ``arr``'s first element.
* ``stream32(dst, i, src, j)``: copies the 32 bytes at ``src``'s element ``j`` to ``dst``'s element ``i`` with a
  non-temporal store (``!nontemporal``: vmovntps on x86), which writes the line to memory without first reading it
  into the cache. ``dst``'s element ``i`` must lie on a 32-byte boundary. ``store_fence()`` (a sequentially
  consistent fence) orders such stores before what follows; kernels call it once per block they stream.
"""
from llvmlite import ir as llvm_ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic


@intrinsic
def fma(typingctx, a, b, c):
    """a * b + c with one rounding (``llvm.fma``: one instruction on FMA hardware, exact in software elsewhere)."""
    if not (isinstance(a, types.Float) and a == b and b == c):
        return None

    def codegen(context, builder, signature, args):
        return builder.fma(*args)
    return a(a, b, c), codegen


@intrinsic
def f32_from_bits(typingctx, bits):
    """The float32 whose bit pattern is the int32 ``bits``."""
    if not isinstance(bits, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], llvm_ir.FloatType())
    return types.float32(types.int32), codegen


@intrinsic
def f64_from_bits(typingctx, bits):
    """The float64 whose bit pattern is the int64 ``bits``."""
    if not isinstance(bits, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], llvm_ir.DoubleType())
    return types.float64(types.int64), codegen


@intrinsic
def f32_bits(typingctx, x):
    """The int32 bit pattern of the float32 ``x``."""
    if not isinstance(x, types.Float) or x.bitwidth != 32:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], llvm_ir.IntType(32))
    return types.int32(types.float32), codegen


@intrinsic
def f16_widen(typingctx, h):
    """The float32 value of the float16 bit pattern in ``h``'s low 16 bits."""
    if not isinstance(h, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        bits = args[0] if h.bitwidth == 16 else builder.trunc(args[0], llvm_ir.IntType(16))
        return builder.fpext(builder.bitcast(bits, llvm_ir.HalfType()), llvm_ir.FloatType())
    return types.float32(h), codegen


@intrinsic
def f16_narrow(typingctx, x):
    """The float16 bit pattern (an int32) nearest to the float32 ``x`` (ties to even)."""
    if not isinstance(x, types.Float) or x.bitwidth != 32:
        return None

    def codegen(context, builder, signature, args):
        bits = builder.bitcast(builder.fptrunc(args[0], llvm_ir.HalfType()), llvm_ir.IntType(16))
        return builder.zext(bits, llvm_ir.IntType(32))
    return types.int32(types.float32), codegen


def half_hardware():
    """Whether the kernels are compiled for a CPU that converts float16 in hardware: x86-64 with F16C (every such CPU
    since 2012), or AArch64. Follows Numba's target: NUMBA_CPU_NAME / NUMBA_CPU_FEATURES choose other features than
    the host's (a portable cache)."""
    import platform

    from llvmlite import binding as llvm
    from numba.core import config
    machine = platform.machine().lower()
    if machine in ("aarch64", "arm64"):
        return True
    if machine not in ("x86_64", "amd64"):
        return False
    if config.CPU_FEATURES is not None:
        return "+f16c" in config.CPU_FEATURES.split(",")
    if config.CPU_NAME is not None and config.CPU_NAME != "host":
        return False
    llvm.initialize_native_target()
    return bool(llvm.get_host_cpu_features().get("f16c"))


def _extremum(largest):
    def typer(typingctx, a, b):
        if a != b:
            return None
        if isinstance(a, types.Float):
            name = "llvm.maximum" if largest else "llvm.minimum"
        elif isinstance(a, types.Boolean):
            name = None
        elif isinstance(a, types.Integer):
            name = "llvm." + ("s" if a.signed else "u") + ("max" if largest else "min")
        else:
            return None

        def codegen(context, builder, signature, args):
            x, y = args
            if name is None:
                return builder.or_(x, y) if largest else builder.and_(x, y)
            lt = x.type
            suffix = {"float": "f32", "double": "f64"}.get(str(lt), str(lt))
            fn = cgutils.get_or_insert_function(builder.module, llvm_ir.FunctionType(lt, [lt, lt]),
                                                f"{name}.{suffix}")
            return builder.call(fn, [x, y])
        return a(a, b), codegen
    typer.__name__ = typer.__qualname__ = "maximum" if largest else "minimum"
    return typer


maximum = intrinsic(_extremum(True))
minimum = intrinsic(_extremum(False))


def _num_extremum(largest):
    def typer(typingctx, a, b):
        if a != b or not isinstance(a, types.Float):
            return None

        def codegen(context, builder, signature, args):
            lt = args[0].type
            suffix = "f32" if str(lt) == "float" else "f64"
            fn = cgutils.get_or_insert_function(builder.module, llvm_ir.FunctionType(lt, [lt, lt]),
                                                f"llvm.{'maxnum' if largest else 'minnum'}.{suffix}")
            return builder.call(fn, list(args), fastmath=("nnan", "nsz"))
        return a(a, b), codegen
    typer.__name__ = typer.__qualname__ = "maxnum_nonan" if largest else "minnum_nonan"
    return typer


maxnum_nonan = intrinsic(_num_extremum(True))
minnum_nonan = intrinsic(_num_extremum(False))


@intrinsic
def address(typingctx, arr):
    """The address of ``arr``'s first element, as an int64."""
    if not isinstance(arr, types.Array):
        return None

    def codegen(context, builder, signature, args):
        data = context.make_array(signature.args[0])(context, builder, args[0]).data
        return builder.ptrtoint(data, llvm_ir.IntType(64))
    return types.int64(arr), codegen


@intrinsic
def stream32(typingctx, dst, i, src, j):
    """Non-temporal copy of 32 bytes from ``src``'s element ``j`` to ``dst``'s element ``i`` (32-byte aligned)."""
    if not (isinstance(dst, types.Array) and isinstance(src, types.Array) and isinstance(i, types.Integer)
            and isinstance(j, types.Integer)):
        return None

    def codegen(context, builder, signature, args):
        vec = llvm_ir.VectorType(llvm_ir.IntType(64), 4).as_pointer()
        d = context.make_array(signature.args[0])(context, builder, args[0]).data
        s = context.make_array(signature.args[2])(context, builder, args[2]).data
        value = builder.load(builder.bitcast(builder.gep(s, [args[3]]), vec), align=1)
        store = builder.store(value, builder.bitcast(builder.gep(d, [args[1]]), vec), align=32)
        store.set_metadata("nontemporal", builder.module.add_metadata([llvm_ir.Constant(llvm_ir.IntType(32), 1)]))
        return context.get_dummy_value()
    return types.void(dst, i, src, j), codegen


@intrinsic
def store_fence(typingctx):
    """A sequentially consistent fence: non-temporal stores before it are visible to every thread after it."""
    def codegen(context, builder, signature, args):
        builder.fence("seq_cst")
        return context.get_dummy_value()
    return types.void(), codegen
