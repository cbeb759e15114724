"""Contractions and products (einsum, tensordot, kron, cdist ...) and the shape/indexing ops built on them.

Everything here is composed of existing differentiable ops (views, sums, the batched GEMM, cat, index_select ...),
so gradients and device dispatch come from those; the few new primitives (``DiagEmbed``, ``CDist``,
``ScatterReduce``, ``Unfold``, ``AsStrided``, ``IndexPutAccumulate``) write their backward once in Tensor ops.
"""
import math

from ..autograd.function import Function
from ..autograd.grad_mode import _state
from ..dtypes import bool as t_bool, int64, promote_types
from ..tensor import Tensor
from . import launch
from .common import cast, type_label, warn, wrap_dim
from .elementwise import assign_, check_inplace
from .shape import _diagonal_view, as_view

FUNCTIONS = ["einsum", "tensordot", "kron", "cross", "cdist", "dist", "trace", "diag_embed", "block_diag",
             "cartesian_prod", "meshgrid", "tril_indices", "triu_indices", "roll", "rot90", "diff", "index_put",
             "scatter_reduce", "as_strided"]  # exported as minitorch.<name>
METHODS = ["kron", "cross", "dist", "trace", "diag_embed", "roll", "rot90", "diff", "index_put",
           "index_put_", "scatter_reduce", "scatter_reduce_", "unfold", "nbytes", "itemsize", "data_ptr",
           "as_strided"]  # attached as Tensor.<name>

_WARNED = set()


def _warn_once(key, message):
    """A UserWarning the first time only, as PyTorch's TORCH_WARN_ONCE."""
    if key not in _WARNED:
        _WARNED.add(key)
        warn(message)


def _check_tensor(x, pos, name="argument"):
    if not isinstance(x, Tensor):
        raise TypeError(f"expected Tensor as element {pos} in {name}, but got {type(x).__name__}")


# ---------------------------------------------------------------------------------------------------------------
# einsum
# ---------------------------------------------------------------------------------------------------------------
_ELL = 1000  # label ids from here on are the dims an ellipsis covers (right-aligned)


def _label_id(c):
    """PyTorch orders implicit outputs with upper case before lower case."""
    return ord(c) - ord("A") if c <= "Z" else 26 + ord(c) - ord("a")


def _parse_term(eq, start, stop, who):
    """Labels of one term: a list of label ids with None standing for the ellipsis."""
    labels = []
    ell = False
    i = start
    while i < stop:
        c = eq[i]
        if c == " ":
            i += 1
            continue
        if c == ".":
            if eq[i:i + 3] != "..." or i + 3 > stop:
                raise RuntimeError(f"einsum(): found '.' for {who} that is not part of any ellipsis" +
                                   (" (...)" if who == "output" else ""))
            if ell:
                raise RuntimeError(f"einsum(): found '.' for {who} for which an ellipsis was already found")
            ell = True
            labels.append(None)
            i += 3
            continue
        if not ("a" <= c <= "z" or "A" <= c <= "Z"):
            raise RuntimeError(f"einsum(): invalid subscript given at index {i} in the equation string, subscripts "
                               "must be in [a-zA-Z]")
        labels.append(_label_id(c))
        i += 1
    return labels


def _letter(label):
    return chr(ord("A") + label) if label < 26 else chr(ord("a") + label - 26)


def _sublist_equation(args):
    """einsum(op0, sub0, op1, sub1, ..., [out]) in the equation form."""
    def term(sub):
        s = ""
        for v in sub:
            if v is Ellipsis:
                s += "..."
            elif isinstance(v, int) and 0 <= v < 52:
                s += _letter(v)
            else:
                raise ValueError("einsum(): subscript in subscript list is not within the valid range [0, 52)")
        return s
    ops = list(args[0::2])
    subs = list(args[1::2])
    out = None
    if len(ops) > len(subs):
        out = ops.pop()
        if isinstance(out, Tensor):
            raise ValueError("einsum(): fewer subscript lists than operands")
    eq = ",".join(term(s) for s in subs)
    if out is not None:
        eq += "->" + term(out)
    return eq, ops


def einsum(*args):
    """Sum of products over the subscripts of an Einstein-summation ``equation``.

    Repeated subscripts in one operand take a diagonal (a view), subscripts that appear in one operand only and not
    in the output are summed first, and operands are then contracted pairwise, each pair as one batched GEMM
    (batch subscripts, then the free subscripts of each side, against the contracted ones), the pair with the
    smallest result first (left to right on ties). ``...`` covers broadcast
    dims; size-1 dims broadcast as in PyTorch.

    Example: ``einsum("bhqd,bhkd->bhqk", q, k)`` is ``q @ k.transpose(-1, -2)``.
    """
    if len(args) < 2:
        raise ValueError("einsum(): must specify the equation string and at least one operand, or at least one "
                         "operand and its subscripts list")
    if isinstance(args[0], str):
        equation, operands = args[0], list(args[1:])
        if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
            operands = list(operands[0])
    else:
        equation, operands = _sublist_equation(args)
    for i, t in enumerate(operands):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 1, but got {type(t).__name__}")
    key = (equation, tuple(t._shape for t in operands))
    program = _PLANS.get(key)
    if program is None:
        program = _program(key[1], *_plan(equation, key[1]))
        if len(_PLANS) > 1024:
            _PLANS.clear()
        _PLANS[key] = program
    return _run(operands, program)


_PLANS = {}  # (equation, operand shapes) -> the program _run executes (worked out once from the shapes)


def _plan(equation, shapes):
    """Parse and check an equation against the operand shapes: (label ids of each operand's dims, output ids)."""
    arrow = equation.find("->")
    lhs_end = arrow if arrow >= 0 else len(equation)
    # operand terms
    terms, start = [], 0
    for i in range(lhs_end + 1):
        if i == lhs_end or equation[i] == ",":
            if len(terms) >= len(shapes):
                raise RuntimeError("einsum(): fewer operands were provided than specified in the equation")
            terms.append(_parse_term(equation, start, i, f"operand {len(terms)}"))
            start = i + 1
    if len(terms) < len(shapes):
        raise RuntimeError("einsum(): more operands were provided than specified in the equation")
    # dims of each operand, as label ids; ellipsis dims get ids _ELL + k, aligned to the right
    ell_nd = 0
    for k, (labels, shape) in enumerate(zip(terms, shapes)):
        named = sum(1 for lab in labels if lab is not None)
        if None in labels:
            if named > len(shape):
                raise RuntimeError(f"einsum(): the number of subscripts in the equation ({named}) is more than the "
                                   f"number of dimensions ({len(shape)}) for operand {k}")
            ell_nd = max(ell_nd, len(shape) - named)
        elif named != len(shape):
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({named}) does not match the "
                               f"number of dimensions ({len(shape)}) for operand {k} and no ellipsis was given")
    dims = []
    for labels, shape in zip(terms, shapes):
        e = len(shape) - sum(1 for lab in labels if lab is not None)
        ids = []
        for lab in labels:
            ids.extend(range(_ELL + ell_nd - e, _ELL + ell_nd) if lab is None else [lab])
        dims.append(ids)
    # sizes, with PyTorch's broadcasting of size-1 dims
    size = {}
    counts = {}
    for k, (ids, shape) in enumerate(zip(dims, shapes)):
        seen = {}
        for lab, n in zip(ids, shape):
            if lab in seen and seen[lab] != n:
                raise RuntimeError(f"einsum(): subscript {_letter(lab)} is repeated for operand {k} but the sizes "
                                   f"don't match, {n} != {seen[lab]}")
            seen[lab] = n
            counts[lab] = counts.get(lab, 0) + 1
        for lab, n in seen.items():
            prev = size.get(lab)
            if prev is not None and prev != n and prev != 1 and n != 1:
                if lab >= _ELL:
                    raise RuntimeError(f"einsum(): dimension {lab - _ELL} covered by ellipsis in operand {k}has size "
                                       f"{n} which does not broadcast with previously seen ellipsis with size {prev} "
                                       "for the respective dimension")
                raise RuntimeError(f"einsum(): subscript {_letter(lab)} has size {n} for operand {k} which does not "
                                   f"broadcast with previously seen size {prev}")
            size[lab] = n if prev is None or prev == 1 else prev
    # output labels
    if arrow >= 0:
        out_terms = _parse_term(equation, arrow + 2, len(equation), "output")
        out = []
        for lab in out_terms:
            if lab is None:
                out.extend(range(_ELL, _ELL + ell_nd))
                continue
            if lab in out:
                raise RuntimeError(f"einsum(): output subscript {_letter(lab)} appears more than once in the output")
            if lab not in counts:
                raise RuntimeError(f"einsum(): output subscript {_letter(lab)} does not appear in the equation for "
                                   "any input operand")
            out.append(lab)
    else:
        out = list(range(_ELL, _ELL + ell_nd)) + sorted(lab for lab, c in counts.items() if c == 1 and lab < _ELL)
    return dims, out


def _diagonals(shape, ids):
    """(dim pairs whose diagonals to take, in order; shape and ids after them) for subscripts repeated within one
    operand. ``diagonal(0, i, j)`` drops dims i and j and appends their diagonal last."""
    shape, ids, steps = list(shape), list(ids), []
    while True:
        for i, lab in enumerate(ids):
            if ids.count(lab) > 1:
                j = ids.index(lab, i + 1)
                steps.append((i, j))
                n = shape[i]
                shape = [x for k, x in enumerate(shape) if k not in (i, j)] + [n]
                ids = [x for k, x in enumerate(ids) if k not in (i, j)] + [lab]
                break
        else:
            return steps, shape, ids


def _sum_out(shape, ids, keep):
    """(dims to sum, shape and ids after) for the subscripts not in ``keep``."""
    drop = tuple(i for i, lab in enumerate(ids) if lab not in keep)
    return drop, [n for n, lab in zip(shape, ids) if lab in keep], [lab for lab in ids if lab in keep]


def _program(shapes, dims, out):
    """The contraction as tensor calls worked out from the shapes alone: per operand its diagonals; then per pair
    (which two of the remaining operands, their sums, expands, permutations and GEMM shapes, the result's shape);
    then the final permutation. With three or more operands, each step contracts the pair with the smallest result
    (the leftmost such pair on ties, so chains go left to right)."""
    diags, work = [], []
    for shape, ids in zip(shapes, dims):
        steps, shape, ids = _diagonals(shape, ids)
        diags.append(steps)
        work.append((shape, ids))
    order = {lab: i for i, lab in enumerate(out)}
    first = ()
    if len(work) == 1:
        first, sa, la = _sum_out(work[0][0], work[0][1], set(out))
        work = [(sa, la)]
    pairs = []
    while len(work) > 1:
        best = None
        for i in range(len(work)):
            for j in range(i + 1, len(work)):
                keep = set(out)
                for k, (_, ids) in enumerate(work):
                    if k != i and k != j:
                        keep.update(ids)
                (sa, la), (sb, lb) = work[i], work[j]
                da, sa, la = _sum_out(sa, la, keep | set(lb))
                db, sb, lb = _sum_out(sb, lb, keep | set(la))
                step, shape, ids = _pair(sa, la, sb, lb, keep, order)
                size = math.prod(shape)
                if best is None or size < best[0]:
                    best = (size, (i, j, da, db) + step, shape, ids)
        _, step, shape, ids = best
        i, j = step[:2]
        pairs.append(step)
        work = work[:i] + [(shape, ids)] + work[i + 1:j] + work[j + 1:]
    la = work[0][1]
    perm = None if la == out else [la.index(lab) for lab in out]
    return diags, first, pairs, perm


def _pair(sa, la, sb, lb, keep, order):
    """One pair as a (batched) GEMM: every subscript is kept (batch or free) or shared (contracted). Returns the
    step (expand of a, of b, permutation of a, of b, GEMM shape of a, of b, result shape) and the result's shape and
    subscripts; None marks a call that is not needed."""
    def rank(lab):
        return order.get(lab, len(order) + lab)
    setb, seta = set(lb), set(la)
    batch = sorted((lab for lab in la if lab in setb and lab in keep), key=rank)
    con = [lab for lab in la if lab in setb and lab not in keep]
    m = sorted((lab for lab in la if lab not in setb), key=rank)
    n = sorted((lab for lab in lb if lab not in seta), key=rank)
    ea = eb = None
    for lab in con:  # contracted dims of size 1 on one side broadcast against the other side
        na, nb = sa[la.index(lab)], sb[lb.index(lab)]
        if na != nb:
            if na == 1:
                sa = [nb if x == lab else s for x, s in zip(la, sa)]
                ea = sa
            else:
                sb = [na if x == lab else s for x, s in zip(lb, sb)]
                eb = sb
    pa = [la.index(lab) for lab in batch + m + con]
    pb = [lb.index(lab) for lab in batch + con + n]
    ash = [sa[i] for i in pa]
    bsh = [sb[i] for i in pb]
    nbt = len(batch)
    M = math.prod(ash[nbt:nbt + len(m)])
    K = math.prod(ash[nbt + len(m):])
    N = math.prod(bsh[nbt + len(con):])
    ra = None if len(m) == 1 and len(con) == 1 else tuple(ash[:nbt]) + (M, K)
    rb = None if len(n) == 1 and len(con) == 1 else tuple(bsh[:nbt]) + (K, N)
    bshape = [x if x != 1 else y for x, y in zip(ash[:nbt], bsh[:nbt])]
    shape = tuple(bshape + ash[nbt:nbt + len(m)] + bsh[nbt + len(con):])
    gemm_shape = tuple(bshape) + (M, N)
    step = (ea, eb, None if pa == sorted(pa) else pa, None if pb == sorted(pb) else pb, ra, rb,
            None if gemm_shape == shape else shape)
    return step, list(shape), batch + m + n


def _run(operands, program):
    diags, first, pairs, perm = program
    ts = []
    for t, steps in zip(operands, diags):
        for i, j in steps:
            t = t.diagonal(0, i, j)
        ts.append(t)
    if first:
        ts[0] = ts[0].sum(first)
    for i, j, da, db, ea, eb, pa, pb, ra, rb, shape in pairs:
        a, b = ts[i], ts[j]
        if da:
            a = a.sum(da)
        if db:
            b = b.sum(db)
        if a._dtype is not b._dtype:
            raise RuntimeError(f"expected scalar type {_scalar_name(a._dtype)} but found {_scalar_name(b._dtype)}")
        if a._dtype is t_bool:
            raise NotImplementedError("\"bmm\" not implemented for 'Bool'")
        if ea is not None:
            a = a.expand(ea)
        if eb is not None:
            b = b.expand(eb)
        if pa is not None:
            a = a.permute(pa)
        if pb is not None:
            b = b.permute(pb)
        if ra is not None:
            a = a.reshape(ra)
        if rb is not None:
            b = b.reshape(rb)
        a = a @ b
        if shape is not None:
            a = a.reshape(shape)
        ts = ts[:i] + [a] + ts[i + 1:j] + ts[j + 1:]
    a = ts[0]
    return a if perm is None else a.permute(perm)


def _scalar_name(dt):
    return type_label(dt)


# ---------------------------------------------------------------------------------------------------------------
# tensordot / kron / trace / cross
# ---------------------------------------------------------------------------------------------------------------
def tensordot(a, b, dims=2, out=None):
    """Contract ``dims`` of ``a`` with ``dims`` of ``b``: an int (a's last n with b's first n), a pair of lists,
    or a tensor holding either."""
    if isinstance(dims, Tensor):
        dims = int(dims.item()) if dims.numel() == 1 else dims.tolist()
    if isinstance(dims, bool) or not isinstance(dims, (int, tuple, list)):
        raise RuntimeError(f"tensordot expects dims to be int or tuple[list[int], list[int]] or list[list[int]] "
                           f"containing two lists, but got dims={dims}")
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > a.dim() or dims > b.dim():
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={dims}")
        da, db = list(range(-dims, 0)), list(range(dims))
    else:
        if len(dims) != 2:
            raise RuntimeError(f"tensordot expects dims to be int or tuple[list[int], list[int]] or "
                               f"list[list[int]] containing two lists, but got dims={dims}")
        da, db = dims
        if isinstance(da, int) or isinstance(db, int):
            raise TypeError("tensordot(): argument 'dims_self' (position 3) must be tuple of ints, not int")
        da, db = list(da), list(db)
    if len(da) != len(db):
        raise RuntimeError("both dimension lists should have same length")
    if a._dtype is not b._dtype:
        raise RuntimeError("both inputs should have same dtype")
    wa = [wrap_dim(d, a.dim()) for d in da]
    wb = [wrap_dim(d, b.dim()) for d in db]
    for d0, d1, w0, w1 in zip(da, db, wa, wb):
        if a._shape[w0] != b._shape[w1]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size {a._shape[w0]} in dim {d0} "
                               f"and second has size {b._shape[w1]} in dim {d1}")
    fa = [d for d in range(a.dim()) if d not in wa]
    fb = [d for d in range(b.dim()) if d not in wb]
    K = math.prod(a._shape[d] for d in wa)
    pa, pb = fa + wa, wb + fb
    a2 = a if pa == list(range(a.dim())) else a.permute(pa)
    b2 = b if pb == list(range(b.dim())) else b.permute(pb)
    sa = (math.prod(a._shape[d] for d in fa), K)
    sb = (K, math.prod(b._shape[d] for d in fb))
    r = (a2 if a2._shape == sa else a2.reshape(sa)) @ (b2 if b2._shape == sb else b2.reshape(sb))
    shape = tuple(a._shape[d] for d in fa) + tuple(b._shape[d] for d in fb)
    r = r if r._shape == shape else r.reshape(shape)
    if out is not None:
        from .elementwise import _write_out
        return _write_out(out, r)
    return r


def kron(input, other, *, out=None):
    """Kronecker product: every element of ``input`` times the whole of ``other``, blocks laid out by input."""
    nd = max(input.dim(), other.dim())
    a = input.reshape((1,) * (nd - input.dim()) + input._shape)
    b = other.reshape((1,) * (nd - other.dim()) + other._shape)
    ia, ib = [], []
    for na, nb in zip(a._shape, b._shape):
        ia += [na, 1]
        ib += [1, nb]
    r = (a.reshape(ia) * b.reshape(ib)).reshape([na * nb for na, nb in zip(a._shape, b._shape)])
    if out is not None:
        from .elementwise import _write_out
        return _write_out(out, r)
    return r


def trace(input):
    """Sum of the main diagonal of a matrix (integers sum to int64, as ``sum``)."""
    if input.dim() != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input.dim()}")
    if input._dtype is t_bool:
        raise NotImplementedError("\"trace\" not implemented for 'Bool'")
    return input.diagonal().sum()


def _cross(input, other, dim, label):
    if input._dtype is not other._dtype:
        raise RuntimeError(f"expected scalar type {type_label(input._dtype)} but found {type_label(other._dtype)}")
    if input._dtype is t_bool:
        raise NotImplementedError("\"cross\" not implemented for 'Bool'")
    shape = launch.broadcast_shapes(input._shape, other._shape)
    d = wrap_dim(dim, len(shape))
    if input._shape[d] != 3 or other._shape[d] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {label} must have length 3. Got {input._shape[d]} and "
                           f"{other._shape[d]}")
    from ..creation import tensor
    i1 = tensor([1, 2, 0], device=input.device)
    i2 = tensor([2, 0, 1], device=input.device)
    return input.index_select(d, i1) * other.index_select(d, i2) - input.index_select(d, i2) * other.index_select(d, i1)


def linalg_cross(input, other, *, dim=-1):
    """``minitorch.linalg.cross``: the cross product of 3-vectors along ``dim`` (inputs broadcast)."""
    if input.dim() != other.dim():
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    return _cross(input, other, dim, dim)


def cross(input, other, dim=None, *, out=None):
    """Cross product along ``dim``; without ``dim``, the first dim of size 3 (deprecated, warns once)."""
    if dim is None:
        _warn_once("cross", "Using torch.cross without specifying the dim arg is deprecated.\nPlease either pass the "
                   "dim explicitly or simply use torch.linalg.cross.\nThe default value of dim will change to agree "
                   "with that of linalg.cross in a future release.")
        dim = next((d for d, n in enumerate(input._shape) if n == 3), None)
        if dim is None:
            raise RuntimeError("no dimension of size 3 in input")
    r = linalg_cross(input, other, dim=dim)
    if out is not None:
        from .elementwise import _write_out
        return _write_out(out, r)
    return r


# ---------------------------------------------------------------------------------------------------------------
# distances
# ---------------------------------------------------------------------------------------------------------------
_MODES = ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist", "donot_use_mm_for_euclid_dist")


def _pnorm_rows(diff, p):
    """p-norm over the last dim (no autograd needed: CDist writes its own backward)."""
    ad = diff.abs()
    if p == 0:
        return (diff != 0).to(diff.dtype).sum(-1)
    if p == 1:
        return ad.sum(-1)
    if p == 2:
        return (diff * diff).sum(-1).sqrt()
    if p == float("inf"):
        return ad.amax(-1)
    return (ad ** p).sum(-1) ** (1.0 / p)


class CDist(Function):
    """Pairwise p-norm distances of the rows of x1 (..., P, M) and x2 (..., R, M); the batch dims are expanded
    already. Zero distances get zero gradient (as PyTorch)."""

    @staticmethod
    def forward(ctx, x1, x2, p, use_mm):
        ctx.p = p
        if use_mm:
            n1 = (x1 * x1).sum(-1, keepdim=True)
            n2 = (x2 * x2).sum(-1).unsqueeze(-2)
            d = (n1 + n2 - 2 * (x1 @ x2.transpose(-1, -2))).clamp_min(0).sqrt()
        else:
            d = _by_row_chunks(lambda a: _pnorm_rows(a.unsqueeze(-2) - x2.unsqueeze(-3), p), x1, x2)
        ctx.save_for_backward(x1, x2, d)
        return d

    @staticmethod
    def backward(ctx, g):
        x1, x2, d = ctx.saved_tensors
        p = ctx.p
        if p == 0 or x1._shape[-2] == 0 or x2._shape[-2] == 0:
            from ..creation import zeros_like
            return zeros_like(x1), zeros_like(x2), None, None
        if p == 2:
            # grad_x1[i] = sum_j g_ij (x1_i - x2_j) / d_ij: two GEMMs, no (P, R, M) temporary
            r = (g / d).masked_fill(d == 0, 0)
            g1 = x1 * r.sum(-1, keepdim=True) - r @ x2
            g2 = x2 * r.sum(-2).unsqueeze(-1) - r.transpose(-1, -2) @ x1
            return g1, g2, None, None
        g2 = None
        parts = []
        for start, n in _chunks(x1, x2):
            w = _cdist_weights(x1.narrow(-2, start, n), x2, d.narrow(-2, start, n), g.narrow(-2, start, n), p)
            parts.append(w.sum(-2))
            g2 = -w.sum(-3) if g2 is None else g2 - w.sum(-3)
        from .shape import cat
        return (cat(parts, -2) if len(parts) > 1 else parts[0]), g2, None, None


_CHUNK = 1 << 22  # elements of the (rows, R, M) difference tensor that cdist builds at a time


def _chunks(x1, x2):
    """(start, length) runs of x1's rows such that a run's (..., rows, R, M) difference stays near _CHUNK elements."""
    P = x1._shape[-2]
    per_row = max(1, math.prod(x1._shape[:-2]) * x2._shape[-2] * x1._shape[-1])
    step = max(1, _CHUNK // per_row)
    return [(start, min(step, P - start)) for start in range(0, P, step)]


def _by_row_chunks(fn, x1, x2):
    from .shape import cat
    parts = [fn(x1.narrow(-2, start, n)) for start, n in _chunks(x1, x2)]
    return cat(parts, -2) if len(parts) > 1 else parts[0]


def _cdist_weights(x1, x2, d, g, p):
    """d(loss)/d(x1_i - x2_j) for every pair: (..., P, R, M); zero where the distance (or, for p < 1, the
    coordinate difference) is zero, as PyTorch."""
    diff = x1.unsqueeze(-2) - x2.unsqueeze(-3)
    dd = d.unsqueeze(-1)
    gg = g.unsqueeze(-1)
    if p == 1:
        w = diff.sign() * gg
    elif p == float("inf"):
        hit = (diff.abs() == dd).to(diff.dtype)
        w = diff.sign() * hit * gg
    else:
        ad = diff.abs()
        w = diff.sign() * ad ** (p - 1) * gg / dd ** (p - 1)
        bad = dd == 0
        if p < 1:
            bad = bad | (ad == 0)
        return w.masked_fill(bad, 0)
    return w.masked_fill(dd == 0, 0)


def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """Pairwise p-norm distances between the rows of ``x1`` (B.., P, M) and ``x2`` (B.., R, M): (B.., P, R).

    For p=2 the distances come from one GEMM (``|x|^2 + |y|^2 - 2 x.y``) when ``compute_mode`` asks for it, or, by
    default, when P or R exceeds 25, as in PyTorch."""
    if x1.dim() < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X1 got: {x1.dim()}D")
    if x2.dim() < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X2 got: {x2.dim()}D")
    if x1._shape[-1] != x2._shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {x1._shape[-1]} X2: "
                           f"{x2._shape[-1]}")
    if not x1._dtype.is_floating_point:
        raise RuntimeError(f"cdist only supports floating-point dtypes, X1 got: {type_label(x1._dtype)}")
    if not x2._dtype.is_floating_point:
        raise RuntimeError(f"cdist only supports floating-point dtypes, X2 got: {type_label(x2._dtype)}")
    if x1._dtype is not x2._dtype:
        raise RuntimeError(f"expected scalar type {type_label(x1._dtype)} but found {type_label(x2._dtype)}")
    if x1._dtype.itemsize < 4:  # PyTorch's type for this
        raise NotImplementedError(f"\"cdist\" not implemented for '{type_label(x1._dtype)}'")
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    if compute_mode not in _MODES and compute_mode is not None:
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    batch = launch.broadcast_shapes(x1._shape[:-2], x2._shape[:-2])
    a = x1.expand(batch + x1._shape[-2:])
    b = x2.expand(batch + x2._shape[-2:])
    P, R = x1._shape[-2], x2._shape[-2]
    use_mm = p == 2 and (compute_mode == "use_mm_for_euclid_dist" or
                         (compute_mode in (None, _MODES[0]) and (P > 25 or R > 25)))
    return CDist.apply(a, b, float(p), use_mm)


def dist(input, other, p=2):
    """The p-norm of ``input - other`` (broadcast)."""
    if input._dtype is not other._dtype:
        raise RuntimeError(f"expected scalar type {type_label(input._dtype)} but found {type_label(other._dtype)}")
    if not input._dtype.is_floating_point:
        raise RuntimeError(f"norm(): input dtype should be either floating point or complex. Got "
                           f"{type_label(input._dtype)} instead.")
    return (input - other).norm(p)


# ---------------------------------------------------------------------------------------------------------------
# diagonals, blocks, grids
# ---------------------------------------------------------------------------------------------------------------
class DiagEmbed(Function):
    @staticmethod
    def forward(ctx, x, offset, d1, d2, shape):
        ctx.args = (offset, d1, d2)
        from ..creation import zeros
        out = zeros(shape, dtype=x.dtype, device=x.device)
        if x.numel():
            launch.copy_into(_diagonal_view(out, offset, d1, d2), x)
        return out

    @staticmethod
    def backward(ctx, g):
        return g.diagonal(*ctx.args), None, None, None, None


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """A tensor whose (dim1, dim2) diagonals (at ``offset``) hold the last dim of ``input``; zeros elsewhere."""
    nd = input.dim() + 1
    d1, d2 = wrap_dim(dim1, nd), wrap_dim(dim2, nd)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    n = (input._shape[-1] if input.dim() else 1) + abs(offset)
    rest = list(input._shape[:-1])
    shape = []
    for d in range(nd):
        shape.append(n if d in (d1, d2) else rest.pop(0))
    x = input if input.dim() else input.reshape(1)
    return DiagEmbed.apply(x, offset, d1, d2, tuple(shape))


def block_diag(*tensors):
    """The tensors (0-, 1- or 2-D, as 1x1, 1xn, mxn blocks) along the diagonal of one matrix; zeros elsewhere."""
    from ..creation import zeros
    from .shape import cat
    if not tensors:
        return zeros(1, 0)
    blocks = []
    dt = tensors[0]._dtype
    for i, t in enumerate(tensors):
        _check_tensor(t, i, "argument 0")
        if t.dim() > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer dimensions. Input {i} has "
                               f"{t.dim()} dimensions")
        blocks.append(t.reshape(1, 1) if t.dim() == 0 else t.reshape(1, -1) if t.dim() == 1 else t)
        dt = promote_types(dt, t._dtype)
        if t._device != tensors[0]._device:
            raise RuntimeError("torch.block_diag: input tensors must all be on the same device. Input 0 is on "
                               f"device {tensors[0].device} and input {i} is on device {t.device}.")
    C = sum(b._shape[1] for b in blocks)
    dev = tensors[0].device
    rows, left = [], 0
    for b in blocks:
        r, c = b._shape
        parts = [zeros(r, left, dtype=dt, device=dev), cast(b, dt), zeros(r, C - left - c, dtype=dt, device=dev)]
        rows.append(cat(parts, 1))
        left += c
    return cat(rows, 0)


def meshgrid(*tensors, indexing=None):
    """Coordinate grids (broadcast views) of 0-D or 1-D tensors: 'ij' (matrix) or 'xy' (Cartesian) indexing."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        _warn_once("meshgrid", "torch.meshgrid: in an upcoming release, it will be required to pass the indexing "
                   "argument.")
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but received: {indexing}")
    if not tensors:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    for i, t in enumerate(tensors):
        _check_tensor(t, i, "argument 0")
        if t._dtype is not tensors[0]._dtype:
            raise RuntimeError("meshgrid expects all tensors to have the same dtype")
        if t._device != tensors[0]._device:
            raise RuntimeError("meshgrid expects all tensors to have the same device")
        if t.dim() > 1:
            raise RuntimeError("torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: " +
                               repr(t).replace("\n", " "))
    k = len(tensors)
    pos = list(range(k))
    if indexing == "xy" and k >= 2:
        pos[0], pos[1] = 1, 0
    shape = [0] * k
    for i, t in enumerate(tensors):
        shape[pos[i]] = t.numel()
    out = []
    for i, t in enumerate(tensors):
        view = [1] * k
        view[pos[i]] = -1
        out.append(t.reshape(view).expand(shape))
    return tuple(out)


def cartesian_prod(*tensors):
    """Every combination of one element from each 1-D tensor, as rows (N, k); one tensor comes back as is."""
    from .shape import stack
    for t in tensors:
        if t.dim() != 1:
            raise RuntimeError(f"Expect a 1D vector, but got shape {list(t._shape)}")
    if len(tensors) == 1:
        return tensors[0]
    grids = meshgrid(*tensors, indexing="ij")
    return stack([g.reshape(-1) for g in grids], 1)


def _tri_indices(row, col, offset, dtype, device, lower, name):
    from ..creation import arange
    from ..device import device as _device
    if row < 0:
        raise RuntimeError(f"row must be non-negative, got{row}")
    if col < 0:
        raise RuntimeError(f"col must be non-negative, got{col}")
    if dtype.is_floating_point or dtype is t_bool:
        raise NotImplementedError(f"\"{name}\" not implemented for '{type_label(dtype)}'")
    dev = _device(device) if device is not None else None
    r = arange(row, device=dev).unsqueeze(1)
    c = arange(col, device=dev).unsqueeze(0)
    mask = (c - r <= offset) if lower else (c - r >= offset)
    idx = mask.nonzero().t()
    return idx if dtype is int64 else idx.to(dtype)


def tril_indices(row, col, offset=0, *, dtype=int64, device=None, layout=None):
    """(2, N) coordinates of the lower triangle (diagonal ``offset``) of a row x col matrix, row by row."""
    return _tri_indices(row, col, offset, dtype, device, True, "tril_indices")


def triu_indices(row, col, offset=0, *, dtype=int64, device=None, layout=None):
    """(2, N) coordinates of the upper triangle (diagonal ``offset``) of a row x col matrix, row by row."""
    return _tri_indices(row, col, offset, dtype, device, False, "triu_indices")


# ---------------------------------------------------------------------------------------------------------------
# roll / rot90 / diff / unfold
# ---------------------------------------------------------------------------------------------------------------
def roll(input, shifts, dims=None):
    """Rotate elements along ``dims`` by ``shifts`` (over the flattened tensor when dims is None); a copy."""
    from .shape import cat
    shifts = list(shifts) if isinstance(shifts, (tuple, list)) else [shifts]
    if dims is None:
        dims = []
    else:
        dims = list(dims) if isinstance(dims, (tuple, list)) else [dims]
    if not shifts:
        raise RuntimeError("`shifts` required")
    if not dims:
        if len(shifts) != 1:
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims)}")
        return roll(input.flatten(), shifts, 0).view(input._shape)
    if len(shifts) != len(dims):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims)}")
    out = input
    for s, d in zip(shifts, dims):
        d = wrap_dim(d, input.dim())
        n = input._shape[d]
        s = int(s) % n if n else 0
        if s:
            out = cat([out.narrow(d, n - s, s), out.narrow(d, 0, n - s)], d)
    return out.clone() if out is input else out


def rot90(input, k=1, dims=(0, 1)):
    """Rotate by 90 degrees ``k`` times in the plane of ``dims``, from the first towards the second; a copy."""
    dims = list(dims)
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    nd = input.dim()
    if nd < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {nd}")
    d0, d1 = wrap_dim(dims[0], nd), wrap_dim(dims[1], nd)
    if d0 == d1:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {dims[0]} and dim1 = {dims[1]}")
    k %= 4
    if k == 1:
        return input.flip([d1]).transpose(d0, d1)
    if k == 2:
        return input.flip([d0, d1])
    if k == 3:
        return input.flip([d0]).transpose(d0, d1)
    return input.clone()


def diff(input, n=1, dim=-1, prepend=None, append=None):
    """``n``-th forward difference along ``dim`` (logical xor for bool), after joining prepend/append."""
    from .shape import cat
    if input.dim() == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    d = wrap_dim(dim, input.dim())
    parts = [input]
    for extra, first in ((prepend, True), (append, False)):
        if extra is None:
            continue
        if extra.dim() != input.dim():
            raise RuntimeError("diff expects prepend or append to be the same dimension as input")
        for k in range(input.dim()):
            if k != d and extra._shape[k] != input._shape[k]:
                raise RuntimeError(f"diff expects the shape of tensor to prepend or append to match that of input "
                                   f"except along the differencing dimension; input.size({k}) = {input._shape[k]}, "
                                   f"but got tensor.size({k}) = {extra._shape[k]}")
        parts.insert(0, extra) if first else parts.append(extra)
    x = cat(parts, d) if len(parts) > 1 else input
    for _ in range(n):
        m = x._shape[d]
        if m == 0:
            break
        hi, lo = x.narrow(d, 1, m - 1), x.narrow(d, 0, m - 1)
        x = (hi != lo) if x._dtype is t_bool else hi - lo
    return x


class Unfold(Function):
    """Sliding windows along one dim as a view; backward adds each window's gradient back (windows may overlap)."""

    @staticmethod
    def forward(ctx, x, d, size, step):
        ctx.args = (x._shape, d, size, step)
        return _unfold_view(x, d, size, step)

    @staticmethod
    def backward(ctx, g):
        from ..creation import arange, zeros
        shape, d, size, step = ctx.args
        if not shape:
            return g.reshape(()), None, None, None
        L = g._shape[d]
        dev = g.device
        idx = (arange(L, device=dev) * step).unsqueeze(1) + arange(size, device=dev).unsqueeze(0)
        src = g.movedim(-1, d + 1).flatten(d, d + 1)
        return zeros(shape, dtype=g.dtype, device=dev).index_add(d, idx.reshape(-1), src), None, None, None


def _unfold_view(x, d, size, step):
    if not x._shape:
        return as_view(x, (size,), (1,), x._offset)
    n = x._shape[d]
    shape = list(x._shape)
    stride = list(x._stride)
    shape[d] = (n - size) // step + 1
    stride[d] = x._stride[d] * step
    return as_view(x, shape + [size], stride + [x._stride[d]], x._offset)


def unfold(self, dimension, size, step):
    """A view of every window of ``size`` elements, ``step`` apart, along ``dimension``; windows go last."""
    nd = self.dim()
    d = wrap_dim(dimension, nd)
    n = self._shape[d] if nd else 1
    if size < 0:
        raise RuntimeError(f"size is {size} but must be >= 0")
    if size > n:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {n} but size is {size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    if _state.enabled and self._requires_grad:
        return Unfold.apply(self, d, size, step)
    return _unfold_view(self, d, size, step)


# ---------------------------------------------------------------------------------------------------------------
# memory facts: nbytes, itemsize, data_ptr, as_strided
# ---------------------------------------------------------------------------------------------------------------
nbytes = property(lambda self: self.numel() * self._dtype.itemsize)
itemsize = property(lambda self: self._dtype.itemsize)


def data_ptr(self):
    """Address of the first element: the storage's base address (host or device) plus the offset in bytes."""
    st = self._storage
    iface = getattr(st, "__cuda_array_interface__", None)
    if iface is None:
        iface = st.__array_interface__
    return int(iface["data"][0]) + self._offset * self._dtype.itemsize


class AsStrided(Function):
    """A view with any geometry over x's storage. Backward: the gradient is added into a flat image of the storage
    at every position the view reads, then read back at x's own positions (x must not overlap itself)."""

    @staticmethod
    def forward(ctx, x, size, stride, offset):
        ctx.geo = (x._shape, x._stride, x._offset, size, stride, offset)
        return as_view(x, size, stride, offset)

    @staticmethod
    def backward(ctx, g):
        from ..creation import zeros
        xs, xst, xo, size, stride, off = ctx.geo
        lo = min(xo, off)
        span = max(_reach(xs, xst, xo), _reach(size, stride, off)) - lo + 1
        flat = zeros(span, dtype=g.dtype, device=g.device)
        if g.numel():
            flat = flat.index_add(0, _positions(size, stride, off - lo, g.device), g.reshape(-1))
        gx = flat.take(_positions(xs, xst, xo - lo, g.device)).reshape(xs) if math.prod(xs) else \
            zeros(xs, dtype=g.dtype, device=g.device)
        return gx, None, None, None


def _reach(shape, stride, off):
    return off + sum((n - 1) * s for n, s in zip(shape, stride)) if all(shape) else off


def _positions(shape, stride, off, dev):
    """Flat storage positions of a geometry, row-major, as a device int64 tensor."""
    from ..creation import arange, tensor
    pos = tensor(off, device=dev)
    for n, s in zip(shape, stride):
        pos = pos.unsqueeze(-1) + arange(n, device=dev) * s
    return pos.reshape(-1)


def as_strided(input, size, stride, storage_offset=None):
    """A view of ``input``'s storage with the given size, stride and storage offset (differentiable)."""
    size, stride = tuple(int(n) for n in size), tuple(int(s) for s in stride)
    off = input._offset if storage_offset is None else int(storage_offset)
    if len(size) != len(stride):
        raise RuntimeError("mismatch in length of strides and shape")
    for s in stride:
        if s < 0:
            raise RuntimeError("as_strided: Negative strides are not supported at the moment, got strides: "
                               f"{list(stride)}")
    if off < 0:
        raise RuntimeError(f"Tensor: invalid storage offset {off}")
    need = _reach(size, stride, off) + 1 if all(size) else 0
    if need > input._storage.shape[0]:
        isz = input._dtype.itemsize
        raise RuntimeError(f"setStorage: sizes {list(size)}, strides {list(stride)}, storage offset {off}, and "
                           f"itemsize {isz} requiring a storage size of {need * isz} are out of bounds for storage "
                           f"of size {input._storage.shape[0] * isz}")
    if _state.enabled and input._requires_grad:
        return AsStrided.apply(input, size, stride, off)
    return as_view(input, size, stride, off)


# ---------------------------------------------------------------------------------------------------------------
# index_put
# ---------------------------------------------------------------------------------------------------------------
class IndexPutAccumulate(Function):
    """out = x with ``values`` added at x[key]; repeated positions all add."""

    @staticmethod
    def forward(ctx, x, values, key):
        from .index import _Advanced, _parse
        from .shape import apply_spec
        ctx.key = key
        out = launch.contiguous(x)
        spec, adv = _parse(out, key)
        v = apply_spec(out, spec) if spec else out
        if adv:
            a = _Advanced(v, adv)
            launch.put_(v, a.lin, a.rest, a.values_for_put(values), True)
        else:
            launch.copy_into(v, launch.binary("add", v, values))
        return out

    @staticmethod
    def backward(ctx, g):
        from .index import getitem
        gv = getitem(g, ctx.key) if ctx.needs_input_grad[1] else None
        return g, gv, None


def index_put(input, indices, values, accumulate=False):
    """Out of place ``input[indices] = values`` (``+=`` with ``accumulate``, where repeated indices all add)."""
    if isinstance(indices, Tensor) or not isinstance(indices, (tuple, list)):
        raise TypeError(f"index_put(): argument 'indices' (position 1) must be tuple of Tensors, not "
                        f"{type(indices).__name__}")
    for i, t in enumerate(indices):
        _check_tensor(t, i, "argument 0")
        if t._dtype.is_floating_point:
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
    if not isinstance(values, Tensor):
        raise TypeError(f"index_put(): argument 'values' (position 2) must be Tensor, not {type(values).__name__}")
    if values._dtype is not input._dtype:
        raise RuntimeError(f"Index put requires the source and destination dtypes match, got "
                           f"{type_label(input._dtype)} for the destination and {type_label(values._dtype)} for the "
                           "source.")
    key = tuple(indices)
    target = input[key] if key else input
    try:
        launch.broadcast_shapes(target._shape, values._shape)
        if len(values._shape) > len(target._shape) and any(n != 1 for n in values._shape[:values.dim() - target.dim()]):
            raise RuntimeError
    except RuntimeError:
        raise RuntimeError(f"shape mismatch: value tensor of shape {list(values._shape)} cannot be broadcast to "
                           f"indexing result of shape {list(target._shape)}") from None
    if values.dim() > target.dim():
        values = values.reshape(values._shape[values.dim() - target.dim():])
    if accumulate:
        return IndexPutAccumulate.apply(input, values, key)
    out = input.clone()
    out[key] = values
    return out


def index_put_(self, indices, values, accumulate=False):
    check_inplace(self)
    return assign_(self, index_put(self, indices, values, accumulate))


# ---------------------------------------------------------------------------------------------------------------
# scatter_reduce
# ---------------------------------------------------------------------------------------------------------------
_REDUCES = ("sum", "prod", "mean", "amax", "amin")


def _identity(reduce, dt):
    """What a position starts from when input's own values are left out (include_self=False)."""
    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    if dt.is_floating_point:
        return float("-inf") if reduce == "amax" else float("inf")
    if dt is t_bool:
        return reduce == "amin"
    import numpy as np
    info = np.iinfo(dt.np)
    return int(info.min) if reduce == "amax" else int(info.max)


class ScatterReduce(Function):
    @staticmethod
    def forward(ctx, x, dim, index, src, reduce, include_self):
        ctx.args = (dim, index, reduce, include_self)
        out = launch.contiguous(x)
        if not include_self:
            fill = launch.scalar(_identity(reduce, x._dtype), x._dtype, x._device)
            launch.scatter_(out, dim, index, fill.expand(index._shape), False)
        if reduce in ("sum", "mean"):
            launch.scatter_(out, dim, index, src, True)
        else:
            launch.scatter_reduce_(out, dim, index, src, reduce)
        count = None
        if reduce == "mean":
            count = launch.empty(x._shape, x._dtype, x._device)
            launch.fill_(count, 1 if include_self else 0)
            launch.scatter_(count, dim, index, launch.scalar(1, x._dtype, x._device).expand(index._shape), True)
            one = launch.scalar(1, x._dtype, x._device)
            count = launch.binary("maximum", count, one)
            out = launch.binary("div" if x._dtype.is_floating_point else "floor_divide", out, count)
        ctx.count = count
        ctx.save_for_backward(x, src, out)
        return out

    @staticmethod
    def backward(ctx, g):
        dim, index, reduce, include_self = ctx.args
        x, src, result = ctx.saved_tensors
        if reduce == "sum":
            gx, gs = g, g.gather(dim, index)
        elif reduce == "mean":
            gn = g / ctx.count
            gx, gs = gn, gn.gather(dim, index)
        elif reduce == "prod":
            masked_x = x.masked_fill(x == 0, 1)
            gx = g * scatter_reduce(masked_x, dim, index, src, "prod", include_self=include_self) / masked_x
            src_zero = src == 0
            from ..creation import zeros_like
            zeros_in = zeros_like(x).scatter_add(dim, index, src_zero.to(x.dtype)).gather(dim, index)
            single = src_zero & (zeros_in == 1)
            masked_src_result = scatter_reduce(x, dim, index, src.masked_fill(single, 1), "prod",
                                               include_self=include_self)
            gs = ((g * masked_src_result).gather(dim, index)).where(
                single, (g * result).gather(dim, index) / src.masked_fill(src_zero, 1))
        else:
            value = result.gather(dim, index)
            x_is = (x == result).to(x.dtype)
            src_is = (src == value).to(x.dtype)
            share = g / x_is.scatter_add(dim, index, src_is)
            gx = x_is * share
            gs = src_is * share.gather(dim, index)
        if not include_self:
            gx = gx.scatter(dim, index, 0.0)
        return gx, None, None, gs, None, None


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    """Reduce ``src`` into a copy of ``input`` at the positions ``index`` names along ``dim``: sum, prod, mean,
    amax or amin, with input's own values taking part unless ``include_self=False``; ``mean`` of integers rounds
    down, and amax/amin propagate NaN, as in PyTorch."""
    from .index import _check_gather_shapes, _check_index
    from .shape import sliced
    if reduce not in _REDUCES:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}")
    if not isinstance(src, Tensor):
        raise TypeError(f"scatter_reduce(): argument 'src' (position 4) must be Tensor, not {type(src).__name__}")
    index = _check_index(index, "scatter_reduce", input)
    if reduce == "mean" and input._dtype is t_bool:
        raise NotImplementedError("\"scatter_gather_tensor_cpu_reduce_mean\" not implemented for 'Bool'")
    if src._dtype is not input._dtype:
        raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
    d = wrap_dim(dim, input.dim())
    if index.dim() != input.dim() and not (index.dim() <= 1 and input.dim() <= 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as self tensor")
    _check_gather_shapes(input, d, index, "scatter_reduce", src)
    n = input._shape[d] if input.dim() else 1
    if index.numel():
        lo, hi = launch.bounds(index)
        if lo < 0 or hi >= n:
            raise RuntimeError(f"index {lo if lo < 0 else hi} is out of bounds for dimension {d} with size {n}")
    if src._shape != index._shape:
        src = sliced(src, tuple(("s", k, 0, 1, index._shape[k]) for k in range(index.dim())))
    return ScatterReduce.apply(input, d, index, src, reduce, include_self)


def scatter_reduce_(self, dim, index, src, reduce, *, include_self=True):
    check_inplace(self)
    return assign_(self, scatter_reduce(self, dim, index, src, reduce, include_self=include_self))
