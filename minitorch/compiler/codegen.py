"""Code generation: a fused group of elementwise ops becomes the Python source of ``@njit(cache=True)`` kernels.

The forward kernel computes the whole chain per element in registers and writes one output; the backward kernel
recomputes the chain per element and runs it in reverse (one adjoint per intermediate) to write each input's
gradient. Inputs broadcast in three ways without copies: the full output shape (``x[i]``), a single element
(``x[0]``), or the output's trailing dimensions (``x[i % m]``, a bias); any other broadcast is expanded to the full
shape first.

Sources go to a cache folder (``$MINITORCH_COMPILE_CACHE``, else ``$XDG_CACHE_HOME/minitorch/compiler``, else
``~/.cache/minitorch/compiler``) under a hash of their text and are imported from there, so Numba's on-disk cache
(``cache=True``) serves every later process: a second process compiles nothing.
"""
import hashlib
import importlib.util
import math
import os
import sys

import numpy as np

from ..autograd.function import Function
from ..autograd.grad_mode import _state
from ..dtypes import float64
from ..ops import launch
from .ir import Value

_VERSION = "8"  # part of every hash: bump when the generated code changes shape


def _deps_digest():
    """A digest of the kernel sources that generated kernels inline (rnn's tanh, the intrinsics, the CUDA
    elementwise helpers, and whatever those call): Numba's cache of a kernel does not notice when they change, so
    the kernel tree's stamp is part of each kernel's hash (a changed library compiles anew)."""
    from ..kernels import source_stamp
    return source_stamp()[:12]


_DEPS = _deps_digest()

# op -> expression of its operand ``{a}``; its gradient from the output adjoint ``{g}``, ``{a}`` and output ``{y}``
UNARY = {
    "neg": ("-{a}", "-{g}"),
    "exp": ("exp_({a})", "{g} * {y}"),
    "log": ("log_({a})", "{g} / {a}"),
    "log1p": ("log1p_({a})", "{g} / (1.0 + {a})"),
    "expm1": ("expm1_({a})", "{g} * ({y} + 1.0)"),
    "sqrt": ("sqrt_({a})", "{g} / (2.0 * {y})"),
    "rsqrt": ("1.0 / sqrt_({a})", "-0.5 * {g} * {y} * {y} * {y}"),
    "sin": ("sin_({a})", "{g} * cos_({a})"),
    "cos": ("cos_({a})", "-{g} * sin_({a})"),
    "tan": ("tan_({a})", "{g} * (1.0 + {y} * {y})"),
    "tanh": ("tanh_({a})", "{g} * (1.0 - {y} * {y})"),
    "sigmoid": ("1.0 / (1.0 + exp_(-{a}))", "{g} * {y} * (1.0 - {y})"),
    "relu": ("({a} if not {a} <= 0 else 0.0)", "({g} if {y} > 0 else 0.0)"),
    "abs": ("abs({a})", "({g} if {a} > 0 else (-{g} if {a} < 0 else 0.0 * {g}))"),
    "square": ("{a} * {a}", "2.0 * {a} * {g}"),
    "reciprocal": ("1.0 / {a}", "-{g} * {y} * {y}"),
    "erf": ("erf_({a})", "{g} * 1.1283791670955126 * exp_(-{a} * {a})"),
}
# op -> expression of ``{a}``, ``{b}``; the gradients of a and of b
BINARY = {
    "add": ("{a} + {b}", "{g}", "{g}"),
    "sub": ("{a} - {b}", "{g}", "-{g}"),
    "mul": ("{a} * {b}", "{g} * {b}", "{g} * {a}"),
    "div": ("{a} / {b}", "{g} / {b}", "-{g} * {a} / ({b} * {b})"),
    "pow": ("{a} ** {b}", "(0.0 if {b} == 0 else {g} * {b} * {a} ** ({b} - 1.0))",
            "(0.0 if {a} == 0 and {b} >= 0 else {g} * {y} * log_({a}))"),
}
# float32 on the CPU: the library's float32 sigmoid (its bits; the float64 expression above differs in the last one)
UNARY_F32 = {"sigmoid": ("sigmoid32_({a})", UNARY["sigmoid"][1])}
# where(c, a, b) (``masked_fill``): the bool condition ``{c}`` gets no gradient; the gradients of a and of b
WHERE = ("({a} if {c} else {b})", "({g} if {c} else 0.0)", "(0.0 if {c} else {g})")


def _literal(v):
    """The source text of an internal scalar constant (``x * 0.5``'s 0.5, or one that constant folding computed from
    such constants: a backward's ``3.0 - 1.0``), so that it is folded into the code."""
    from ..ops.common import _SCALARS
    t = v.tensor
    if v.kind != "const" or v.shape or v.label or not (v.folded or any(c is t for c in _SCALARS.values())):
        return None
    x = t._storage[t._offset].item()
    if not math.isfinite(x):  # masked_fill's -inf: ``inf`` and ``nan`` are not names in the generated module
        return f"np.{v.dtype.name}(float({str(x)!r}))"
    return f"np.{v.dtype.name}({x!r})"


def _fold(op, names, lits, dtype):
    """The literal of an arithmetic op on two literals (computed in ``dtype``, as the kernel would), else None."""
    if op not in ("add", "sub", "mul", "div") or len(names) != 2 or not all(x in lits for x in names):
        return None
    a, b = lits[names[0]], lits[names[1]]
    with np.errstate(all="ignore"):
        r = {"add": a + b, "sub": a - b, "mul": a * b, "div": a / b if b else None}[op]
    if r is None or not math.isfinite(r) or np.dtype(type(r)).name != dtype.name:
        return None
    text = f"np.{dtype.name}({float(r)!r})"
    lits[text] = r
    return text


# integer powers written as products (a generic pow per element is several times slower)
_POW = {}
for _k, _fwd, _grad in ((2, "{a} * {a}", "{g} * 2.0 * {a}"), (3, "{a} * {a} * {a}", "{g} * 3.0 * {a} * {a}"),
                        (1, "{a}", "{g}"), (0.5, "sqrt_({a})", "{g} * 0.5 / sqrt_({a})")):
    for _dt in ("float32", "float64"):
        _POW[f"np.{_dt}({float(_k)!r})"] = (_fwd, _grad)


def cache_dir():
    d = os.environ.get("MINITORCH_COMPILE_CACHE")
    if not d:
        xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        d = os.path.join(xdg, "minitorch", "compiler")
    return d


def _mode(shape, out_shape):
    if tuple(shape) == tuple(out_shape):
        return "full"
    if math.prod(shape) == 1:
        return "one"
    s = list(shape)
    while s and s[0] == 1:
        s.pop(0)
    if tuple(s) == tuple(out_shape[len(out_shape) - len(s):]):
        return "tail"
    return "expand"


LOADED = set()  # names of the generated modules this process has imported (_inductor.utils hides them)


def _load(name, source):
    """Write ``source`` to the cache folder as ``<name>.py`` (once) and import it."""
    mod = sys.modules.get(name)
    if mod is not None:
        return mod
    LOADED.add(name)
    d = cache_dir()
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, name + ".py")
    if not os.path.exists(path) or open(path).read() != source:
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "w") as f:
            f.write(source)
        os.replace(tmp, path)
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


_HEADERS = {
    "cpu": ('"""Generated by minitorch.compile: {what}."""\nfrom math import erf as erf_  # noqa: F401\n\n'
            'import numpy as np  # noqa: F401\nfrom numba import njit, prange\n'
            'from numpy import cos as cos_, expm1 as expm1_, log as log_, log1p as log1p_  # noqa: F401\n'
            'from numpy import sin as sin_, sqrt as sqrt_, tan as tan_  # noqa: F401\n\n'
            'from {exp_mod} import {exp} as exp_  # noqa: F401\n'
            'from minitorch.kernels.cpu.elementwise import _sigmoid_f32 as sigmoid32_  # noqa: F401\n'
            'from minitorch.kernels.cpu.rnn import {tanh} as tanh_  # noqa: F401\n'),
    # the CUDA maths functions of the library's own kernels (NumPy's under the simulator, as there)
    "cuda": ('"""Generated by minitorch.compile: {what}."""\nfrom math import erf as erf_  # noqa: F401\n\n'
             'import numpy as np  # noqa: F401\nfrom numba import cuda\n\n'
             'from minitorch.kernels.cuda.elementwise import _cos as cos_, _exp as exp_, _expm1 as expm1_  # noqa: F401\n'
             'from minitorch.kernels.cuda.elementwise import _log as log_, _log1p as log1p_, _sin as sin_  # noqa: F401\n'
             'from minitorch.kernels.cuda.elementwise import _sqrt as sqrt_, _tan as tan_, _tanh as tanh_  # noqa: F401\n'),
}


def _header(device, dtype, what):
    """The imports of a generated module. float32 kernels on the CPU take the library's float32 maths, so that a
    fused chain gives eager mode's bits: tanh in float32 arithmetic, and exp computed in float64 (``_exp_f32``,
    rounded once where the chain rounds each op's result)."""
    f32 = dtype.name == "float32"
    return _HEADERS[device].format(what=what, tanh="_tanh_f32" if f32 else "_tanh_f64",
                                   exp_mod="minitorch.kernels.cpu.elementwise" if f32 else "numpy",
                                   exp="_exp_f32" if f32 else "exp")


def _contract():
    from .._inductor import config
    return config.cpp.enable_floating_point_contract_flag in ("on", "fast")


def _kernels(device, dtype, what, name, params, body, row_starts=None):
    """Source of the kernels of one loop body: serial and parallel @njit on the CPU, a grid-stride @cuda.jit.
    float32 kernels on the CPU take tanh in float32 arithmetic (the library's eager tanh does too).
    ``row_starts`` (CPU): the loop runs over rows of ``C`` elements, each beginning with these lines (where each
    input broadcast over leading dimensions starts: no division per element)."""
    src = [_header(device, dtype, what), ""]
    if device == "cuda":
        src += ["", "@cuda.jit(cache=True)", f"def {name}({params}):", "    i = cuda.grid(1)",
                "    step = cuda.gridsize(1)", "    while i < n:"]
        src += ["        " + b for b in body] + ["        i += step", ""]
        return "\n".join(src)
    # contraction only where asked (torch._inductor.config.cpp.enable_floating_point_contract_flag, off as in
    # PyTorch): a multiply and an add become one fused multiply-add, one rounding instead of two (a last bit may
    # differ from eager mode's; NaN, infinities and signed zeros keep their rules); tanh-GELU over 16M float32
    # 16 -> 11.3 ms
    fm = "error_model='numpy'" + (", fastmath={'contract'}" if _contract() else "")
    for suffix, deco, rng in (("", f"@njit(cache=True, {fm})", "range"),
                              ("_par", f"@njit(cache=True, {fm}, parallel=True)", "prange")):
        if row_starts is not None:
            src += ["", deco, f"def {name}{suffix}({params}):", f"    for r in {rng}(n // C):", "        base = r * C"]
            src += ["    " + b for b in row_starts]
            src += ["        for k in range(C):", "            i = np.uint64(base + k)"]
            src += ["            " + b for b in body]
        else:
            src += ["", deco, f"def {name}{suffix}({params}):", f"    for i in {rng}(n):"]
            src += ["        " + b for b in body]
        src.append("")
    return "\n".join(src)


def _reduction_kernels(dtype, what, name, params, body, reassoc=None, softmax=False, layer_norm=False, contract=False):
    """Serial and parallel @njit kernels of a reduction body (lines with ``{rng}`` for the outer loop);
    ``softmax``: the body uses the library's float32 softmax helpers (its exp, row maximum and sums);
    ``layer_norm``: the library's layer-norm row kernel."""
    src = [_header("cpu", dtype, what)]
    if softmax:
        src.append("from minitorch.kernels.cpu.activation import _exp32, _row_max, _vsum, _vsum_exp  # noqa: F401")
    if layer_norm:
        src.append("from minitorch.kernels.cpu.activation import _ln_rows")
    src.append("")
    # reassociation (only) lets LLVM keep partial sums in vector lanes (a mean of squared differences over 16M
    # float32: 10.0 -> 4.8 ms); NaN and infinities follow the same rules
    reassoc = name == "forward" if reassoc is None else reassoc
    fm = "error_model='numpy'" + (", fastmath={'reassoc'}" if reassoc else
                                  ", fastmath={'contract'}" if contract else "")
    for suffix, deco, rng in (("", f"@njit(cache=True, {fm})", "range"),
                              ("_par", f"@njit(cache=True, {fm}, parallel=True)", "prange")):
        src += ["", deco, f"def {name}{suffix}({params}):"]
        src += ["    " + b.replace("{rng}", rng) for b in body]
        src.append("")
    return "\n".join(src)


def _broadcast_strides(x, shape):
    """``x``'s element strides against the result's ``shape``: 0 along the dimensions it is broadcast over."""
    lead = len(shape) - len(x._shape)
    return [0 if k < lead or x._shape[k - lead] == 1 else x._stride[k - lead] for k in range(len(shape))]


def _collapse(shape, strides, tails):
    """Merge neighbouring dimensions of ``shape`` that every strided input walks as one (and drop those of size
    1): (outer dimensions, last dimension's size C, each input's strides over the outer dimensions and then the
    last one). The last dimension takes in the one before it only while C stays a divisor of every broadcast
    (tail) input's size, whose row starts are ``base % m``."""
    dims = [(n, [s[k] for s in strides]) for k, n in enumerate(shape) if n != 1] or [(1, [0] * len(strides))]
    merged = [dims[-1]]
    for n, st in reversed(dims[:-1]):
        size, inner = merged[-1]
        last = len(merged) == 1
        if all(a == b * size for a, b in zip(st, inner)) and (not last or all(m % (n * size) == 0 for m in tails)):
            merged[-1] = (n * size, inner)
        else:
            merged.append((n, st))
    merged.reverse()
    outer = [n for n, _ in merged[:-1]]
    return outer, merged[-1][0], [[st[j] for _, st in merged] for j in range(len(strides))]


_XENT_PARAMS = "y, tg, w, has_w, ignore, sv, per_row, div"  # the cross-entropy gradient's arguments (``_xent_args``)


class FusedKernel:
    """One fused group: its inputs (graph values), the generated forward source, and backward sources per
    combination of inputs that need a gradient. Calling it runs the group (through autograd when needed)."""

    def __init__(self, nodes, reduce=None, softmax=None, softmax_grad=None, layer_norm=None, cross_entropy=False,
                 xent_grad=None):
        """``nodes``: the chain, in order. ``reduce``: None, or ``(op, red_shape)`` with op "sum" or "mean" over the
        trailing dimensions of the chain's result (all of them: a full reduction), written as ``red_shape``.
        ``softmax``: None, or whether the chain's result goes through log_softmax (True) or softmax (False) over
        its last dimension: the kernel computes each row of the chain and then that row's (log-)softmax.
        ``softmax_grad``: None, or the ``launch.softmax_backward(g, y, last dim, log)`` node whose result the chain
        reads (a compiled backward, no autograd): the kernel computes that gradient per row (``sg``) as it goes.
        ``layer_norm``: None, or the number C of trailing elements a layer norm of the chain's result normalizes
        (without autograd: a compiled forward or a no_grad region): the kernel writes each row of the chain and then
        normalizes it with the library's layer-norm row kernel (``forward_layer_norm``).
        ``cross_entropy``: the chain's result is the logits of a cross-entropy (with ``softmax=True``): the forward
        is the log-softmax kernel's, the backward starts from the cross-entropy's gradient of the logits
        (``scale * w[t] * (softmax - onehot(t))`` per row) in the same pass.
        ``xent_grad``: None, or the cross-entropy backward node (a compiled backward, no autograd) whose gradient of
        the logits the chain reads: the kernel computes it per element (``sg``) from the saved log-probabilities."""
        from .passes import elementwise_op
        self.inputs = []
        index = {}
        local = {}
        self.sgrad = None
        self.xent = bool(cross_entropy)
        self.xgrad = xent_grad is not None
        if xent_grad is not None:
            local[id(xent_grad.outputs[0])] = "sg"
        if softmax_grad is not None:  # its g and y are the first two inputs
            g_v, y_v, _, log = softmax_grad.args
            self.inputs += [g_v, y_v]
            index.update({id(g_v): 0, id(y_v): 1})
            local[id(softmax_grad.outputs[0])] = "sg"
            self.sgrad = bool(log)
        lines = []
        ops = []
        lits = {}  # literal source text -> its value
        for k, n in enumerate(nodes):
            op = elementwise_op(n)
            names = []
            for v in [a for a in n.args if isinstance(a, Value)]:
                if id(v) in local:
                    names.append(local[id(v)])
                    continue
                lit = _literal(v)
                if lit is not None:
                    names.append(lit)
                    lits[lit] = v.tensor._storage[v.tensor._offset]
                    continue
                if id(v) not in index:
                    index[id(v)] = len(self.inputs)
                    self.inputs.append(v)
                names.append(f"a{index[id(v)]}")
            folded = _fold(op, names, lits, n.outputs[0].dtype) if k < len(nodes) - 1 else None
            if folded is not None:  # (a backward's exponent 3.0 - 1.0: then pow(x, 2.0) is x * x)
                local[id(n.outputs[0])] = folded
                continue
            out = f"t{k}"
            local[id(n.outputs[0])] = out
            ops.append((op, names, out))
        out_v = nodes[-1].outputs[0]
        self.out_shape = out_v.shape
        self.dtype = out_v.dtype
        self.device = out_v.device
        self.modes = [_mode(v.shape, self.out_shape) for v in self.inputs]
        self.ops = ops
        # an elementwise kernel on the CPU with inputs broadcast over leading dimensions (a bias) walks rows as long
        # as the smallest of them: a division per element to find the broadcast index made it slower than eager
        self.ln = layer_norm
        self._flat_rows = reduce is None and softmax is None and softmax_grad is None and layer_norm is None and \
            not self.xgrad and self.device.type == "cpu" and "tail" in self.modes
        self._row = min((math.prod(v.shape) for v, m in zip(self.inputs, self.modes) if m == "tail"), default=1)
        self.reduce = None
        if reduce is not None:
            op, red_shape = reduce
            R = math.prod(red_shape)
            # (op, rows, row length, shape of the result); rows == 0: one sum over everything
            self.reduce = (op, 0 if R == 1 else R, math.prod(self.out_shape) // R, tuple(red_shape))
        self.softmax = softmax is not None
        if self.softmax:
            C = self.out_shape[-1]
            self.reduce = ("log_softmax" if softmax else "softmax", math.prod(self.out_shape) // C, C,
                           tuple(self.out_shape))
        red = None if self.reduce is None else (self.reduce[0], "rows" if self.reduce[1] else "all")
        if self.sgrad is not None:
            C = self.out_shape[-1]
            self.reduce = ("log_softmax_grad" if self.sgrad else "softmax_grad", math.prod(self.out_shape) // C, C,
                           tuple(self.out_shape))
            red = ("grad", self.sgrad)
        if self.ln is not None:
            red = "layer_norm"
        if self.xent:
            red = "cross_entropy"
        if self.xgrad:
            C = self.out_shape[-1]
            self.reduce = ("cross_entropy_grad", math.prod(self.out_shape) // C, C, tuple(self.out_shape))
            red = "cross_entropy_grad"
        self._contract = contract = _contract()  # (another kernel: its own name)
        sig = repr((_VERSION, _DEPS, ops, self.modes, self.dtype.name, self.device.type, red) + (("contract",) if
                                                                                              contract else ()))
        self.hash = hashlib.sha1(sig.encode()).hexdigest()[:16]
        tail = f"_{self.reduce[0]}" if self.reduce and self.sgrad is None and not self.xgrad else ""
        tail = "_layer_norm" if self.ln is not None else "_cross_entropy" if self.xent else tail
        head = "" if self.sgrad is None and not self.xgrad else self.reduce[0] + "_"
        self.name = f"fused_{head}{'_'.join(o[0] for o in ops[:4])}{'_etc' if len(ops) > 4 else ''}{tail}"
        self.source = self._forward_source()
        self._fwd = None
        self._bwd = {}
        # a plain elementwise kernel on the CPU reads strided and broadcast inputs in place (``_strided``), one
        # generated module per pattern of such inputs
        self._plain = self.reduce is None and self.ln is None and not self.xent and self.device.type == "cpu"
        self._strided_mods = {}
        del lines

    # sources -------------------------------------------------------------------------------------------------
    def _rowwise(self):
        """Whether the kernel walks rows of the last dimension (softmax, its gradient) or of its smallest broadcast
        input: then an input broadcast over leading dimensions starts each row at ``base % m`` (a multiple of the
        row length), computed once per row rather than a division per element."""
        return self.softmax or self.sgrad is not None or self._flat_rows or self.ln is not None or self.xgrad

    def _loads(self):
        """In row loops ``i`` is unsigned (``np.uint64``): a signed index computed from the row's start is checked
        for wrap-around on every load, which keeps LLVM from vectorizing the loop (mask-and-scale rows 14x slower)."""
        out = []
        rows = bool(self.reduce and self.reduce[1])
        for j, m in enumerate(self.modes):
            # a sum's rows (below) either hold whole repeats of the broadcast input (its index is k % m) or lie
            # inside one repeat (b + k): the choice is the same for every row, so LLVM takes it out of the loop
            tail = f"np.uint64(b{j} + k)" if self._rowwise() else \
                f"np.uint64(b{j} + k if w{j} else k % m{j})" if rows else f"i % m{j}"
            idx = {"full": "i", "expand": "i", "one": "0", "tail": tail}[m]
            out.append(f"a{j} = x{j}[{idx}]")
        return out

    def _row_starts(self, wrap=False):
        """Where each broadcast (tail) input's values for the row start; ``wrap``: also whether the row lies
        inside one repeat of the input (``w``)."""
        out = [f"    b{j} = base % m{j}" for j, m in enumerate(self.modes) if m == "tail"]
        return out + [f"    w{j} = m{j} % C == 0" for j, m in enumerate(self.modes) if m == "tail" and wrap]

    def _chain(self):
        """One line per op. A float32 chain on the CPU rounds each op's result to float32, as eager mode stores it
        (an expression such as ``1.0 / sqrt_(a)`` is float64; a float32 one is left as it is)."""
        out = []
        f32 = self.dtype.name == "float32" and self.device.type == "cpu"
        unary = {**UNARY, **UNARY_F32} if f32 else UNARY
        for op, names, t in self.ops:
            if op in UNARY:
                expr = unary[op][0].format(a=names[0])
            elif op == "where":
                expr = WHERE[0].format(c=names[0], a=names[1], b=names[2])
            elif op == "pow" and _POW.get(names[1]):
                expr = _POW[names[1]][0].format(a=names[0])
            else:
                expr = BINARY[op][0].format(a=names[0], b=names[1])
            out.append(f"{t} = np.float32({expr})" if f32 else f"{t} = {expr}")
        return out

    def _params(self):
        return ", ".join(f"x{j}, m{j}" for j in range(len(self.inputs)))

    def _what(self, direction):
        what = f"{direction} of " + " -> ".join(o[0] for o in self.ops)
        if self.xgrad:
            return f"{direction} of cross_entropy_grad (of the logits) -> " + " -> ".join(o[0] for o in self.ops)
        if self.xent:
            return what + " -> cross_entropy (log_softmax of each row)"
        if self.sgrad is not None:
            return f"{direction} of {self.reduce[0]} (last dimension) -> " + " -> ".join(o[0] for o in self.ops)
        if self.ln is not None:
            what += " -> layer_norm of each row"
        if self.reduce:
            what += f" -> {self.reduce[0]}" + (" over every element" if not self.reduce[1] else " of each row")
            what += " (last dimension)" if self.softmax else ""
        return what

    def _forward_source(self):
        last = self.ops[-1][2]
        if self.ln is not None:  # each row of the chain is written to ``out``, then normalized into ``y``
            body = ["for r in {rng}(n):", "    base = r * C"] + self._row_starts()
            body += ["    for k in range(C):", "        i = np.uint64(base + k)"]
            body += ["        " + b for b in self._loads() + self._chain()]
            body += [f"        out[i] = {last}", "    _ln_rows(out, w, b, has_w, has_b, eps, y, mean, rstd, r, r + 1, C)"]
            return _reduction_kernels(self.dtype, self._what("forward"), "forward",
                                      f"out, y, mean, rstd, w, b, has_w, has_b, eps, n, C, {self._params()}", body,
                                      reassoc=False, layer_norm=True)
        if self.xgrad:  # the cross-entropy's gradient of the logits, per element, read by the chain as ``sg``
            body = ["for r in {rng}(n):", "    base = r * C"] + self._xent_row() + self._row_starts()
            body += ["    for k in range(C):", "        i = np.uint64(base + k)"]
            body += ["        " + b for b in self._loads() + self._xent_grad("sg") + self._chain()]
            body.append(f"        out[i] = {last}")
            return _reduction_kernels(self.dtype, self._what("forward"), "forward",
                                      f"out, {_XENT_PARAMS}, n, C, {self._params()}", body, reassoc=False,
                                      softmax=True)
        if self.sgrad is not None:  # the softmax's input gradient from g (x0) and y (x1): a row sum, then per element
            dt = f"np.{self.dtype.name}"
            if self.sgrad:
                exp = "_exp32" if self.dtype.name == "float32" else "exp_"
                acc, sg = "x0[np.uint64(base + k)]", f"a0 - {exp}(a1) * s"
            else:
                acc, sg = "x0[np.uint64(base + k)] * x1[np.uint64(base + k)]", "a1 * (a0 - s)"
            body = ["for r in {rng}(n):", "    base = r * C", "    s = 0.0", "    for k in range(C):",
                    f"        s += {acc}"] + self._row_starts()
            if self.sgrad and self.dtype.name == "float32":
                body.append(f"    s = {dt}(s)")
            body += ["    for k in range(C):", "        i = np.uint64(base + k)"]
            body += ["        " + b for b in self._loads() + [f"sg = {dt}({sg})"] + self._chain()]
            body.append(f"        out[i] = {last}")
            return _reduction_kernels(self.dtype, self._what("forward"), "forward", f"out, n, C, {self._params()}",
                                      body, reassoc=False, softmax=True)
        if self.softmax:  # the row of the chain is written to ``out``, then the softmax row kernel runs in place
            body = ["for r in {rng}(n):", "    base = r * C"] + self._row_starts()
            body += ["    for k in range(C):", "        i = np.uint64(base + k)"]
            body += ["        " + b for b in self._loads() + self._chain()]
            body += [f"        out[i] = {last}"] + ["    " + b for b in self._softmax_row()]
            return _reduction_kernels(self.dtype, self._what("forward"), "forward", f"out, n, C, {self._params()}",
                                      body, reassoc=False, softmax=True)
        if self.reduce:
            op, rows = self.reduce[:2]
            if not rows:  # Numba turns ``acc +=`` in a prange loop into a parallel reduction
                body = ["acc = 0.0", "for i in {rng}(n):"] + ["    " + b for b in self._loads() + self._chain()]
                body += [f"    acc += {last}", "out[0] = acc" + (" / n" if op == "mean" else "")]
                return _reduction_kernels(self.dtype, self._what("forward"), "forward",
                                          f"out, n, C, {self._params()}", body)
            body = ["for r in {rng}(n):", "    acc = 0.0", "    base = r * C", *self._row_starts(True),
                    "    for k in range(C):", "        i = np.uint64(base + k)"]
            body += ["        " + b for b in self._loads() + self._chain()]
            body += [f"        acc += {last}", "    out[r] = acc" + (" / C" if op == "mean" else "")]
            return _reduction_kernels(self.dtype, self._what("forward"), "forward", f"out, n, C, {self._params()}",
                                      body)
        body = self._loads() + self._chain() + [f"out[i] = {last}"]
        return _kernels(self.device.type, self.dtype, self._what("forward"), "forward",
                        f"out, n, {'C, ' if self._flat_rows else ''}{self._params()}", body,
                        self._row_starts() if self._flat_rows else None)

    def _softmax_row(self):
        """(log-)softmax of the row ``out[base:base + C]`` in place, as the library's row kernel computes it (float32:
        its vectorized maximum, float32 exps and sums; float64: plain loops). One array is read and written: two
        views of the same memory would keep LLVM from vectorizing."""
        log = self.reduce[0] == "log_softmax"
        if self.dtype.name == "float32":
            src = ["o = out[base:base + C]", "m_ = _row_max(o, C)"]
            if log:
                return src + ["lse = np.float32(m_ + log_(_vsum_exp(o, m_)))", "for k in range(C):",
                              "    o[k] = o[k] - lse"]
            return src + ["for k in range(C):", "    o[k] = _exp32(o[k] - m_)", "inv = np.float32(1.0 / _vsum(o))",
                          "for k in range(C):", "    o[k] = o[k] * inv"]
        src = ["o = out[base:base + C]", "m_ = o[0]", "for k in range(1, C):", "    v = o[k]",
               "    if v > m_ or v != v:", "        m_ = v", "s_ = 0.0", "for k in range(C):",
               "    s_ += exp_(o[k] - m_)"]
        if log:
            return src + ["lse = m_ + log_(s_)", "for k in range(C):", "    o[k] = o[k] - lse"]
        return src + ["inv = 1.0 / s_", "for k in range(C):", "    o[k] = exp_(o[k] - m_) * inv"]

    def _xent_row(self):
        """Row lines of the cross-entropy's gradient of the logits (``nll_softmax_backward``'s numbers): the row's
        target, whether it is ignored, and its scale (the loss's gradient, divided by the total weight for a
        mean, times the target's class weight)."""
        dt = f"np.{self.dtype.name}"
        return ["    t_ = tg[r]", "    z_ = t_ == ignore",
                "    sc = 0.0 if z_ else (sv[r] if per_row else sv[0]) / div * (w[t_] if has_w else 1.0)",
                f"    sc_ = {dt}(sc)"]

    def _xent_grad(self, name):
        """Element lines: ``name`` = the gradient of the logits at ``i`` (column ``k`` of row ``r``). The target's
        column subtracts the scale unrounded, as the library's kernel does (float32 ``1 / N`` is not exact)."""
        exp = "_exp32" if self.dtype.name == "float32" else "exp_"
        dt = f"np.{self.dtype.name}"
        return [f"{name} = sc_ * {exp}(y[i])", "if k == t_:", f"    {name} = {dt}({name} - sc)", "if z_:",
                f"    {name} = np.{self.dtype.name}(0.0)"]

    def _backward_source(self, need):
        body = self._loads() + self._chain()
        log = self.reduce is not None and self.reduce[0] == "log_softmax"
        if self.xent:
            body += self._xent_grad("gr")
        elif self.softmax:  # the softmax's input gradient from its output y and the row's s (below)
            exp = "_exp32" if self.dtype.name == "float32" else "exp_"  # (float32: the softmax's vectorized exp)
            body.append(f"gr = g[i] - {exp}(y[i]) * s" if log else "gr = y[i] * (g[i] - s)")
        adj = {t: f"d_{t}" for _, _, t in self.ops}
        adj.update({f"a{j}": f"d_a{j}" for j in range(len(self.inputs))})
        body += [f"{d} = 0.0" for d in adj.values() if d != adj[self.ops[-1][2]]]
        body.append(f"{adj[self.ops[-1][2]]} = " + ("gr" if self.reduce else "g[i]"))
        for op, names, t in reversed(self.ops):
            if op in UNARY and names[0] not in adj:
                continue
            if op == "where":
                for which, expr in zip(names[1:], WHERE[1:]):
                    if which in adj:
                        body.append(f"{adj[which]} += {expr.format(g=adj[t], c=names[0])}")
                continue
            if op in UNARY:
                body.append(f"{adj[names[0]]} += {UNARY[op][1].format(g=adj[t], a=names[0], y=t)}")
            else:
                exprs = BINARY[op][1:]
                if op == "pow" and _POW.get(names[1]):
                    exprs = (_POW[names[1]][1], None)
                for which, expr in zip(names, exprs):
                    if which not in adj or expr is None:  # a literal: no adjoint
                        continue
                    body.append(f"{adj[which]} += {expr.format(g=adj[t], a=names[0], b=names[1], y=t)}")
        grads = [j for j in range(len(self.inputs)) if need[j]]
        body += [f"gx{j}[i] = d_a{j}" for j in grads]
        gparams = "".join(f", gx{j}" for j in grads)
        if self.xent:
            body = ["for r in {rng}(n):", "    base = r * C", *self._xent_row(), *self._row_starts(),
                    "    for k in range(C):", "        i = np.uint64(base + k)"] + ["        " + b for b in body]
            return _reduction_kernels(self.dtype, self._what("backward"), "backward",
                                      f"{_XENT_PARAMS}, n, C, {self._params()}{gparams}", body, softmax=True)
        if self.softmax:
            acc = "g[np.uint64(base + k)]" if log else "g[np.uint64(base + k)] * y[np.uint64(base + k)]"
            body = ["for r in {rng}(n):", "    base = r * C", "    s = 0.0", "    for k in range(C):",
                    f"        s += {acc}", *self._row_starts(), "    for k in range(C):",
                    "        i = np.uint64(base + k)"] + ["        " + b for b in body]
            return _reduction_kernels(self.dtype, self._what("backward"), "backward",
                                      f"g, y, n, C, {self._params()}{gparams}", body, softmax=True)
        if self.reduce:
            op, rows = self.reduce[:2]
            scale = " / C" if op == "mean" else ""
            if not rows:
                body = [f"gr = g[0]{scale}", "for i in {rng}(n):"] + ["    " + b for b in body]
            else:
                body = ["for r in {rng}(n):", f"    gr = g[r]{scale}", "    base = r * C", *self._row_starts(True),
                        "    for k in range(C):", "        i = np.uint64(base + k)"] + ["        " + b for b in body]
            return _reduction_kernels(self.dtype, self._what("backward"), "backward",
                                      f"g, n, C, {self._params()}{gparams}", body)
        return _kernels(self.device.type, self.dtype, self._what("backward"), "backward",
                        f"g, n, {'C, ' if self._flat_rows else ''}{self._params()}{gparams}", body,
                        self._row_starts() if self._flat_rows else None)

    def backward_source(self, need):
        return self._backward_source(need)

    # running -------------------------------------------------------------------------------------------------
    def _args(self, xs):
        out = []
        n = math.prod(self.out_shape)
        for x, m in zip(xs, self.modes):
            if m == "expand":
                x = launch.contiguous(x.expand(self.out_shape))
            elif not x._contig:
                x = launch.contiguous(x)
            k = n if m != "one" and m != "tail" else x.numel()
            out += [x._storage[x._offset:x._offset + k], k]
        return out

    def _row_arg(self):
        return (self._row,) if self._flat_rows else ()

    def forward(self, xs):
        if self._fwd is None:
            self._fwd = _load(f"minitorch_fused_{self.hash}", self.source)
        if self.reduce:
            op, rows, C, shape = self.reduce
            out = launch.empty(shape, self.dtype, self.device)
            _launch(self._fwd, "forward", math.prod(self.out_shape),
                    (out._storage, rows or math.prod(self.out_shape), C, *self._args(xs)))
            return out
        out = launch.empty(self.out_shape, self.dtype, self.device)
        n = out.numel()
        if n and not (self._plain and self._strided(out, xs)):
            _launch(self._fwd, "forward", n, (out._storage, n, *self._row_arg(), *self._args(xs)))
        return out

    # strided inputs ------------------------------------------------------------------------------------------
    def _strided(self, out, xs):
        """Run the chain into ``out`` reading its broadcast and non-contiguous inputs through their strides, when
        there are any (then True): copying them to contiguous memory first cost more than the chain (rotary
        embeddings read halves of the last dimension, stride 2, and position tables broadcast over batch and
        heads; a norm's per-row scale is broadcast over the last dimension)."""
        pat = tuple(m == "expand" or (m != "one" and not x._contig) for x, m in zip(xs, self.modes))
        if True not in pat:
            return False
        mod = self._strided_mods.get(pat)
        if mod is None:
            tag = hashlib.sha1((self.hash + repr(pat)).encode()).hexdigest()[:16]
            src = self._strided_source(pat)
            mod = self._strided_mods[pat] = _load(f"minitorch_fused_strided_{tag}", src)
            mod.SOURCE = src
        shape = self.out_shape
        strided = [j for j, p in enumerate(pat) if p]
        tails = [math.prod(x._shape) for x, m, p in zip(xs, self.modes, pat) if m == "tail" and not p]
        outer, C, st = _collapse(shape, [_broadcast_strides(xs[j], shape) for j in strided], tails)
        args = [out._storage, math.prod(outer), C, np.array(outer, np.int64)]
        it = iter(st)
        for x, m, p in zip(xs, self.modes, pat):
            if p:
                args += [x._storage[x._offset:], np.array(next(it), np.int64)]
            else:
                k = x.numel() if m in ("one", "tail") else math.prod(shape)
                args += [x._storage[x._offset:x._offset + k], k]
        _launch(mod, "forward", math.prod(shape), args)
        return True

    def sources(self):
        """The generated source of this group's kernels: its own, then a variant per pattern of strided inputs it
        has been called with so far."""
        return [self.source] + [m.SOURCE for m in self._strided_mods.values()]

    def _strided_source(self, pat):
        """The chain's kernel over rows of the last (collapsed) dimension ``C``: each strided input's start in a
        row comes from the row's index in the outer dimensions (``shp``; one division per outer dimension and row,
        none per element), and its elements follow the last dimension's stride (its strides ``m<j>``: one per
        outer dimension, then the last one's)."""
        head = ["    base = r * C"]
        head += [f"    b{j} = base % m{j}" for j, m in enumerate(self.modes) if m == "tail" and not pat[j]]
        sj = [j for j, p in enumerate(pat) if p]
        head += [f"    o{j} = 0" for j in sj] + ["    q = r * 1", "    for d in range(D - 1, -1, -1):",
                                                  "        e = q % shp[d]", "        q //= shp[d]"]
        head += [f"        o{j} += e * m{j}[d]" for j in sj] + [f"    l{j} = m{j}[D]" for j in sj]
        loads = []
        for j, m in enumerate(self.modes):
            idx = f"o{j} + k * l{j}" if pat[j] else {"full": "i", "one": "0", "tail": f"np.uint64(b{j} + k)"}[m]
            loads.append(f"a{j} = x{j}[{idx}]")
        body = ["D = shp.shape[0]", "for r in {rng}(n):"] + head
        body += ["    for k in range(C):", "        i = np.uint64(base + k)"]
        body += ["        " + b for b in loads + self._chain() + [f"out[i] = {self.ops[-1][2]}"]]
        return _reduction_kernels(self.dtype, self._what("forward") + " (strided inputs)", "forward",
                                  f"out, n, C, shp, {self._params()}", body, reassoc=False,
                                  contract=self._contract)

    def forward_layer_norm(self, xs, weight, bias, eps):
        """The chain's result and its layer norm over the last C elements of each row: (result, normalized, mean,
        rstd), as ``launch.layer_norm`` gives them (the same row kernel, so the same numbers)."""
        if self._fwd is None:
            self._fwd = _load(f"minitorch_fused_{self.hash}", self.source)
        C = self.ln
        out = launch.empty(self.out_shape, self.dtype, self.device)
        y = launch.empty(self.out_shape, self.dtype, self.device)
        n = out.numel()
        R = n // C
        mean = launch.empty((R,), float64, self.device)
        rstd = launch.empty((R,), float64, self.device)
        if n:
            w = weight if weight is None or weight._contig else launch.contiguous(weight)
            b = bias if bias is None or bias._contig else launch.contiguous(bias)
            wv = w._storage[w._offset:w._offset + C] if w is not None else out._storage[:1]
            bv = b._storage[b._offset:b._offset + C] if b is not None else out._storage[:1]
            fn = self._fwd.forward_par if R > 1 and n >= launch.N_PAR else self._fwd.forward
            fn(out._storage, y._storage, mean._storage, rstd._storage, wv, bv, w is not None, b is not None,
               float(eps), R, C, *self._args(xs))
        return out, y, mean, rstd

    @staticmethod
    def _xent_args(g, logp, args):
        """The cross-entropy gradient's kernel arguments from the loss's gradient ``g``, the log-probabilities and
        the host arguments ``_CrossEntropy2d`` keeps."""
        tv, wv, has_w, ignore_index, reduction, total = args
        g = g if g._contig else launch.contiguous(g)
        sv = g._storage[g._offset:g._offset + g.numel()]
        y = logp if logp._contig else launch.contiguous(logp)
        return (y._storage[y._offset:y._offset + y.numel()], tv, wv, has_w, ignore_index, sv, reduction == "none",
                total if reduction == "mean" else 1.0)

    def forward_xent_grad(self, ctx, g, xs):
        """The chain (a compiled backward's) on the cross-entropy's gradient of the logits, from the context the
        cross-entropy left and the loss's gradient ``g``."""
        if self._fwd is None:
            self._fwd = _load(f"minitorch_fused_{self.hash}", self.source)
        logp = ctx.saved_tensors[1]
        out = launch.empty(self.out_shape, self.dtype, self.device)
        n = out.numel()
        if n:
            _launch(self._fwd, "forward", n, (out._storage, *self._xent_args(g, logp, ctx.args), self.reduce[1],
                                              self.reduce[2], *self._args(xs)))
        return out

    def backward(self, g, xs, need, y=None, xent=None):
        """The inputs' gradients from the output's ``g``; a softmax kernel also reads its output ``y``; a
        cross-entropy kernel (``g`` the loss's gradient) its log-probabilities ``y`` and host arguments ``xent``."""
        key = tuple(need)
        mod = self._bwd.get(key)
        if mod is None:
            tag = hashlib.sha1((self.hash + repr(key)).encode()).hexdigest()[:16]
            mod = self._bwd[key] = _load(f"minitorch_fused_bwd_{tag}", self._backward_source(need))
        n = math.prod(self.out_shape)
        grads = [launch.empty(self.out_shape, self.dtype, self.device) if need[j] else None
                 for j in range(len(xs))]
        if self.xent:
            op, rows, C, shape = self.reduce
            if n:
                _launch(mod, "backward", n, (*self._xent_args(g, y, xent), rows, C, *self._args(xs),
                                             *(gr._storage for gr in grads if gr is not None)))
        elif self.softmax:
            op, rows, C, shape = self.reduce
            g = launch.contiguous(g.expand(self.out_shape)) if not g._contig or g._shape != self.out_shape else g
            y = y if y._contig else launch.contiguous(y)
            if n:
                _launch(mod, "backward", n, (g._storage[g._offset:g._offset + n],
                                             y._storage[y._offset:y._offset + n], rows, C, *self._args(xs),
                                             *(gr._storage for gr in grads if gr is not None)))
        elif self.reduce:
            op, rows, C, shape = self.reduce
            g = g if g._contig else launch.contiguous(g)
            if n:
                _launch(mod, "backward", n, (g._storage[g._offset:g._offset + max(rows, 1)], rows or n, C,
                                                     *self._args(xs), *(gr._storage for gr in grads if gr is not None)))
        else:
            g = launch.contiguous(g.expand(self.out_shape)) if not g._contig or g._shape != self.out_shape else g
            if n:
                _launch(mod, "backward", n, (g._storage[g._offset:g._offset + n], n, *self._row_arg(), *self._args(xs),
                                             *(gr._storage for gr in grads if gr is not None)))
        out = []
        for gr, x in zip(grads, xs):
            if gr is not None and gr._shape != x._shape:
                gr = gr.sum_to_size(x._shape) if x._shape else gr.sum()
            out.append(gr)
        return out

    def __call__(self, *xs):
        if self.sgrad is None and not self.xgrad and _state.enabled and any(x._requires_grad for x in xs):
            return _Fused.apply(self, *xs)
        return self.forward(xs)


class LayerNormPrologue:
    """The target of a chain fused with the layer norm of its result (``passes.fuse_elementwise``): gives the
    chain's result, the normalized result and, where a compiled backward calls the layer norm's backward whole
    (``needs``: which of x, weight and bias require grad), the LayerNorm context the eager op would have left."""

    def __init__(self, kernel, eps, needs):
        self.kernel, self.eps, self.needs = kernel, eps, needs
        self.name = kernel.name

    def __call__(self, *args):
        from ..ops.layer_norm import context
        *xs, w, b = args
        s, y, mean, rstd = self.kernel.forward_layer_norm(xs, w, b, self.eps)
        if self.needs is None:
            return s, y
        return s, y, [context(s, w, b, self.kernel.ln, self.eps, mean, rstd, self.needs)]


class CrossEntropyPrologue:
    """The target of a chain fused with the cross-entropy of its result (``passes.fuse_elementwise``): called with
    the chain's inputs, the target and the class weights, it gives the loss and, where a compiled backward calls
    the cross-entropy's backward whole (``keep``), the context the eager op would have left."""

    def __init__(self, kernel, ignore_index, reduction, keep):
        self.kernel, self.ignore_index, self.reduction, self.keep = kernel, ignore_index, reduction, keep
        self.name = kernel.name

    def __call__(self, *args):
        from ..nn.functional import _CrossEntropy2d
        *xs, target, weight = args
        if not self.keep and _state.enabled and any(x._requires_grad for x in xs):
            return _FusedCrossEntropy.apply(self, target, weight, *xs)
        out, ctx = _CrossEntropy2d.fused(self.kernel.forward(xs), target, weight, self.ignore_index, self.reduction,
                                         self.keep)
        return (out, [ctx]) if self.keep else out


class CrossEntropyGradPrologue:
    """The target of a compiled backward's chain fused with the cross-entropy backward it reads: called with the
    cross-entropy's context, the loss's gradient and the chain's other inputs."""

    def __init__(self, kernel):
        self.kernel = kernel
        self.name = kernel.name

    def __call__(self, ctx, g, *xs):
        return self.kernel.forward_xent_grad(ctx, g, xs)


def _launch(mod, name, n, args):
    fn = getattr(mod, name, None)
    if hasattr(mod, name + "_par"):
        (getattr(mod, name + "_par") if n >= launch.N_PAR else fn)(*args)
        return
    from ..kernels.cuda._grid import THREADS, blocks
    fn[blocks(n), THREADS](*args)


def _first_derivative_only():
    if _state.enabled:
        raise RuntimeError("minitorch.compile: a second derivative (create_graph=True) through a fused kernel is "
                           "not supported; compile with backend='eager' for higher-order gradients")


class _Fused(Function):
    """A fused elementwise group as one differentiable op: its backward is the generated backward kernel."""

    @staticmethod
    def forward(ctx, kernel, *xs):
        ctx.kernel = kernel
        y = kernel.forward(xs)
        ctx.save_for_backward(*xs, *((y.detach(),) if kernel.softmax else ()))
        return y

    @staticmethod
    def backward(ctx, g):
        _first_derivative_only()
        xs = ctx.saved_tensors
        need = ctx.needs_input_grad[1:]
        if ctx.kernel.softmax:
            return (None, *ctx.kernel.backward(g, xs[:-1], need, xs[-1]))
        return (None, *ctx.kernel.backward(g, xs, need))


class _FusedCrossEntropy(Function):
    """A chain and the cross-entropy of its result as one differentiable op: the forward is the chain's fused
    log-softmax kernel and the library's loss rows, the backward one generated kernel from the loss's gradient to
    the chain's inputs."""

    @staticmethod
    def forward(ctx, runner, target, weight, *xs):
        from ..nn.functional import _CrossEntropy2d
        kernel = runner.kernel
        logp = kernel.forward(xs)
        out, ctx.args = _CrossEntropy2d.fused(logp, target, weight, runner.ignore_index, runner.reduction, False)
        ctx.kernel = kernel
        ctx.save_for_backward(*xs, logp)
        return out

    @staticmethod
    def backward(ctx, g):
        _first_derivative_only()
        *xs, logp = ctx.saved_tensors
        return (None, None, None, *ctx.kernel.backward(g, xs, ctx.needs_input_grad[3:], logp, ctx.args))
