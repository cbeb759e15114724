"""Tensor printing in PyTorch's format: ``tensor([[1.0000, 2.5000], ...], dtype=...)``."""
import numpy as np

PRINT_OPTS = {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80, "sci_mode": None}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None, sci_mode=None):
    if profile == "default":
        PRINT_OPTS.update(precision=4, threshold=1000, edgeitems=3, linewidth=80)
    elif profile == "short":
        PRINT_OPTS.update(precision=2, threshold=1000, edgeitems=2, linewidth=80)
    elif profile == "full":
        PRINT_OPTS.update(precision=4, threshold=float("inf"), edgeitems=3, linewidth=80)
    for k, v in (("precision", precision), ("threshold", threshold), ("edgeitems", edgeitems),
                 ("linewidth", linewidth)):
        if v is not None:
            PRINT_OPTS[k] = v
    PRINT_OPTS["sci_mode"] = sci_mode


class _Formatter:
    """Chooses one format for all elements (as PyTorch does) and pads them to a common width.

    As in PyTorch, a float tensor's width comes from its nonzero finite values only: zeros, nan and inf are printed
    unpadded when they are wider (``tensor([nan, 2.])``, ``tensor([-0., 0.])``)."""

    def __init__(self, values):
        self.floating = values.dtype.kind == "f"
        self.int_mode = True
        self.sci_mode = False
        self.width = 1
        if values.size == 0:
            return
        if not self.floating:
            self.width = max(len(self._plain(v)) for v in values.reshape(-1))
            return
        flat = values.reshape(-1).astype(np.float64)
        nonzero = flat[np.isfinite(flat) & (flat != 0)]
        if nonzero.size:
            big, small = np.abs(nonzero).max(), np.abs(nonzero).min()
            self.int_mode = bool(np.all(nonzero == np.ceil(nonzero)))
            if self.int_mode:
                self.sci_mode = bool(big / small > 1000.0 or big > 1e8)
            else:
                self.sci_mode = bool(big / small > 1000.0 or big > 1e8 or small < 1e-4)
            if PRINT_OPTS["sci_mode"] is not None:
                self.sci_mode = PRINT_OPTS["sci_mode"]  # int_mode stays: sci_mode=False prints whole floats as "3."
            self.width = max(len(self.format(v)) for v in nonzero)

    @staticmethod
    def _plain(v):
        if isinstance(v, (bool, np.bool_)):
            return "True" if v else "False"
        return str(int(v)) if not isinstance(v, (float, np.floating)) else repr(float(v))

    def format(self, v):
        if not self.floating:
            return self._plain(v)
        if np.isnan(v):
            return "nan"
        if np.isinf(v):
            return "inf" if v > 0 else "-inf"
        p = PRINT_OPTS["precision"]
        if self.sci_mode:
            return f"{float(v):.{p}e}"
        if self.int_mode:
            return f"{float(v):.0f}."
        return f"{float(v):.{p}f}"

    def pad(self, v):
        return self.format(v).rjust(self.width)


def _summarize(arr, edge):
    """The elements a summarized print shows: the first and last ``edge`` along every dimension."""
    if arr.ndim == 0:
        return arr
    if arr.shape[0] > 2 * edge:
        idx = list(range(edge)) + list(range(arr.shape[0] - edge, arr.shape[0]))
        arr = arr[idx]
    return np.stack([_summarize(a, edge) for a in arr]) if arr.ndim > 1 else arr


def _fmt(arr, fmt, indent, summarize):
    """``arr`` is the whole array; with ``summarize``, dimensions longer than 2 * edgeitems show "..." between
    their first and last edgeitems entries."""
    edge = PRINT_OPTS["edgeitems"]
    if arr.ndim == 0:
        return fmt.pad(arr.item() if arr.dtype.kind != "b" else bool(arr))
    n = arr.shape[0]
    cut = summarize and n > 2 * edge
    picked = list(range(edge)) + [None] + list(range(n - edge, n)) if cut else range(n)
    if arr.ndim == 1:
        # the gap of a row is " ...", so it stands two spaces after the comma, as in PyTorch
        items = [" ..." if i is None else fmt.pad(arr[i]) for i in picked]
        # wrap lines at the line width like PyTorch
        per_line = max(1, (PRINT_OPTS["linewidth"] - indent) // (fmt.width + 2))
        lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
        return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"
    rows = ["..." if i is None else _fmt(arr[i], fmt, indent + 1, summarize) for i in picked]
    sep = "," + "\n" * (arr.ndim - 1) + " " * (indent + 1)
    return "[" + sep.join(rows) + "]"


def tensor_repr(t):
    from .dtypes import get_default_dtype, int64, bool as t_bool
    arr = t.detach().cpu().numpy()
    if t.dtype._half:
        arr = arr.astype(np.float32)  # exact; formats as the float it is (ml_dtypes' bfloat16 is not kind "f")
    summarize = arr.size > PRINT_OPTS["threshold"]
    shown = _summarize(arr, PRINT_OPTS["edgeitems"]) if summarize else arr
    fmt = _Formatter(shown)
    prefix = "tensor("
    suffixes = []
    if t.device.type != "cpu":  # first, as in PyTorch: tensor([], device='cuda:0', size=(2, 0))
        suffixes.append(f"device='{t.device}'")
    if arr.size == 0:
        body = "[]"
        if arr.ndim != 1:
            suffixes.append(f"size={tuple(arr.shape)}")
    else:
        body = _fmt(arr, fmt, len(prefix), summarize)
    if t.dtype not in (get_default_dtype(), int64, t_bool) or (arr.size == 0 and t.dtype is not get_default_dtype()):
        suffixes.append(f"dtype={t.dtype}")
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t.requires_grad:
        suffixes.append("requires_grad=True")
    return prefix + body + "".join(", " + s for s in suffixes) + ")"
