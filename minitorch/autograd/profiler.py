"""The autograd profiler (``torch.autograd.profiler``): op events from the dispatch layer, their tables and traces.

Where events come from while a profiler records (and nothing else is recorded):

- every ``Function.apply`` (the differentiable ops): one event named after PyTorch's ATen op where one maps
  (``aten::linear``, ``aten::relu``, ``aten::cross_entropy_loss``; see ``_FUNCTION_NAMES``), ``aten::<op>`` for the
  elementwise families, the snake-cased class name otherwise; Functions defined outside minitorch by class name;
- every public function of ``nn.functional`` (``aten::<name>``, ``aten::cross_entropy_loss``), so that composites
  (``nll_loss``, ``dropout``, ``mse_loss``) show as one op around the ops they are built from;
- every kernel launcher of ``minitorch.ops.launch`` (the choke point that also serves the no-grad paths and the
  optimizers' in-place updates): ``aten::addmm``, ``aten::add_``, ``aten::_log_softmax`` ...; an event directly
  inside an open event of the same name (``F.relu`` -> ``_Unary`` relu -> the ``unary`` launcher) is not repeated;
- every node the backward engine runs: ``autograd::engine::evaluate_function: <node>`` around ``<node>``, named as
  ``grad_fn.name()`` names it (``AddmmBackward0``, ``torch::autograd::AccumulateGrad``);
- Numba compilation: each ``numba:compile`` event of Numba's event API (a kernel signature compiled) becomes
  ``numba::compile <kernel>``, and each signature loaded from Numba's on-disk cache (the first call of a kernel in a
  fresh process: ``Cache.load_overload`` timed while recording) ``numba::cache_load <kernel>``; their time counts
  inside the op that triggered them;
- ``record_function`` ranges, ``Optimizer.step#<Class>.step``, ``Optimizer.zero_grad#<Class>.zero_grad`` and the
  profiler's steps (``ProfilerStep*`` in tables, ``ProfilerStep#<n>`` in traces).

With ``profile_memory`` the bytes of every output allocated by ``launch.empty`` count for the innermost open event
(allocations only: frees are not tracked, so memory columns never go negative as PyTorch's can). On CUDA tensors
(with ``use_cuda`` / ``ProfilerActivity.CUDA``) each op event also records a pair of CUDA events; their elapsed time
is the op's device time.

Cost when no profiler is active: one ``is not None`` test per ``Function.apply`` and per backward run; launchers
and ``nn.functional`` functions are wrapped only while a profiler records.
"""
import itertools
import json
import os
import threading
import time
import warnings
from collections import defaultdict

from numba.core import event as _nev

from .function import _PROFILE

_now = time.perf_counter_ns

__all__ = ["profile", "record_function", "emit_nvtx", "EventList", "FunctionEvent", "FunctionEventAvg"]


# ---------------------------------------------------------------------------------------------------------------
# events
# ---------------------------------------------------------------------------------------------------------------
class Interval:
    def __init__(self, start, end):
        self.start, self.end = start, end

    def elapsed_us(self):
        return self.end - self.start


class FunctionEvent:
    """One recorded range: ``name``, ``time_range`` (µs from the profiler's start), ``input_shapes``, ``stack``,
    nesting (``cpu_parent``, ``cpu_children``), allocated bytes and, on CUDA, device time."""

    def __init__(self, id, name, thread, start_us, end_us, input_shapes=None, stack=None, cat="cpu_op",
                 sequence_nr=-1, device_type="CPU"):
        self.id = id
        self.name = name
        self.thread = thread
        self.time_range = Interval(start_us, end_us)
        self.input_shapes = input_shapes if input_shapes is not None else []
        self.stack = stack if stack is not None else []
        self.cpu_children = []
        self.cpu_parent = None
        self.cat = cat
        self.sequence_nr = sequence_nr
        self.device_type = device_type
        self.count = 1
        self.is_async = False
        self.is_legacy = False
        self.node_id = -1
        self.overload_name = ""
        self.trace_name = name
        self.flops = 0
        self._self_mem = 0
        self.device_time = 0.0   # this op's device time (its own CUDA events), µs
        self.args = None         # extra chrome-trace args (compile signatures)
        self.device_start = None
        self._cuda = None

    key = property(lambda self: self.name)
    cpu_time_total = property(lambda self: self.time_range.elapsed_us())
    cpu_time = cpu_time_total

    @property
    def self_cpu_time_total(self):
        return self.cpu_time_total - sum(c.cpu_time_total for c in self.cpu_children)

    @property
    def cpu_memory_usage(self):
        return self._self_mem + sum(c.cpu_memory_usage for c in self.cpu_children)

    @property
    def self_cpu_memory_usage(self):
        return self._self_mem

    @property
    def device_time_total(self):
        return self.device_time

    @property
    def self_device_time_total(self):
        return max(0.0, self.device_time - sum(c.device_time for c in self.cpu_children))

    cuda_time_total = device_time_total
    self_cuda_time_total = self_device_time_total
    device_memory_usage = self_device_memory_usage = 0
    cuda_memory_usage = self_cuda_memory_usage = 0

    def __repr__(self):
        return (f"<FunctionEvent id={self.id} name={self.name} cpu_time={_format_time(self.cpu_time_total)} "
                f"start_us={self.time_range.start:.3f} end_us={self.time_range.end:.3f} "
                f"cpu_children={[c.id for c in self.cpu_children]} input_shapes={self.input_shapes} "
                f"cpu_memory_usage={self.cpu_memory_usage}>")


class FunctionEventAvg:
    """Events with one key added up (``key_averages``): totals, ``count`` and per-call averages."""

    def __init__(self):
        self.key = None
        self.count = 0
        self.node_id = 0
        self.is_async = False
        self.is_legacy = False
        self.cpu_time_total = 0.0
        self.self_cpu_time_total = 0.0
        self.device_time_total = 0.0
        self.self_device_time_total = 0.0
        self.cpu_memory_usage = 0
        self.self_cpu_memory_usage = 0
        self.device_memory_usage = 0
        self.self_device_memory_usage = 0
        self.input_shapes = None
        self.stack = None
        self.scope = None
        self.cpu_parent = None
        self.cpu_children = None
        self.device_type = "CPU"
        self.overload_name = None
        self.flops = 0

    cuda_time_total = property(lambda self: self.device_time_total)
    self_cuda_time_total = property(lambda self: self.self_device_time_total)
    cuda_memory_usage = property(lambda self: self.device_memory_usage)
    self_cuda_memory_usage = property(lambda self: self.self_device_memory_usage)
    cpu_time = property(lambda self: 0.0 if not self.count else self.cpu_time_total / self.count)
    device_time = property(lambda self: 0.0 if not self.count else self.device_time_total / self.count)
    cuda_time = device_time

    def add(self, other):
        if self.key is None:
            self.key = other.key
            self.input_shapes = other.input_shapes
            self.stack = other.stack
            self.cpu_parent = other.cpu_parent
            self.cpu_children = other.cpu_children
            self.device_type = other.device_type
        self.cpu_time_total += other.cpu_time_total
        self.self_cpu_time_total += other.self_cpu_time_total
        self.device_time_total += other.device_time_total
        self.self_device_time_total += other.self_device_time_total
        self.cpu_memory_usage += other.cpu_memory_usage
        self.self_cpu_memory_usage += other.self_cpu_memory_usage
        self.count += other.count
        return self

    __iadd__ = add

    def __repr__(self):
        return (f"<FunctionEventAvg key={self.key} self_cpu_time={_format_time(self.self_cpu_time_total)} "
                f"cpu_time={_format_time(self.cpu_time)}  self_cuda_time={_format_time(self.self_device_time_total)} "
                f"cuda_time={_format_time(self.device_time)} input_shapes={self.input_shapes} "
                f"cpu_memory_usage={self.cpu_memory_usage} cuda_memory_usage=0>")


def _format_time(us):
    if us >= 1e6:
        return f"{us / 1e6:.3f}s"
    if us >= 1e3:
        return f"{us / 1e3:.3f}ms"
    return f"{us:.3f}us"


def _format_share(us, total):
    if total == 0:
        return "NaN"
    return f"{us * 100.0 / total:.2f}%"


def _format_memory(n):
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if abs(n) >= size:
            return f"{n / size:.2f} {unit}"
    return f"{n} B"


_SORT_KEYS = {"cuda_time": "device_time", "cuda_time_total": "device_time_total",
              "self_cuda_time_total": "self_device_time_total", "cuda_memory_usage": "device_memory_usage",
              "self_cuda_memory_usage": "self_device_memory_usage", "xpu_time_total": "device_time_total",
              "self_xpu_time_total": "self_device_time_total"}


class EventList(list):
    """A list of ``FunctionEvent`` (or, from ``key_averages``, ``FunctionEventAvg``) with PyTorch's reports."""

    def __init__(self, *args, use_device=None, profile_memory=False, with_flops=False):
        super().__init__(*args)
        self._use_device = use_device
        self._profile_memory = profile_memory
        self._with_flops = with_flops

    @property
    def self_cpu_time_total(self):
        return sum(e.self_cpu_time_total for e in self)

    def table(self, sort_by=None, row_limit=100, max_src_column_width=75, max_name_column_width=55,
              max_shapes_column_width=80, header=None, top_level_events_only=False, time_unit=None):
        """The events as a text table in PyTorch's layout, sorted (descending) by the attribute ``sort_by``
        (``"cpu_time_total"``, ``"self_cpu_time_total"``, ``"cpu_memory_usage"``, ``"cuda_time_total"`` ...)."""
        return _build_table(self, sort_by, row_limit, max_name_column_width, max_shapes_column_width, header,
                            top_level_events_only, self._profile_memory, self._use_device)

    def __str__(self):
        return self.table()

    def key_averages(self, group_by_input_shapes=False, group_by_stack_n=0, group_by_overload_name=False):
        """One ``FunctionEventAvg`` per event name (and input shapes / top ``group_by_stack_n`` stack frames)."""
        groups = defaultdict(FunctionEventAvg)
        for e in self:
            key = (e.key,)
            if group_by_input_shapes:
                key += (str(e.input_shapes),)
            if group_by_stack_n > 0:
                key += tuple(e.stack[:group_by_stack_n])
            groups[key].add(e)
        out = EventList(groups.values(), use_device=self._use_device, profile_memory=self._profile_memory)
        for avg in out:
            avg.stack = avg.stack[:group_by_stack_n] if group_by_stack_n else []
            if not group_by_input_shapes:
                avg.input_shapes = ""
        return out

    def total_average(self):
        """All events added up into one ``FunctionEventAvg`` with key ``"Total"``."""
        total = FunctionEventAvg()
        for e in self:
            total.add(e)
            total.key = None
        total.key = "Total"
        return total

    def export_chrome_trace(self, path):
        """Write the events as Chrome trace JSON (complete ``"ph": "X"`` events, µs timestamps), the format
        chrome://tracing, Perfetto and TensorBoard's profile plugin read. A path ending in .gz is gzipped."""
        _write_trace(path, _trace_dict(self, {}))

    def export_stacks(self, path, metric="self_cpu_time_total"):
        """Write ``frame;frame;...;op <value>`` lines (flame-graph input) for events recorded ``with_stack``."""
        _export_stacks(self, path, metric)


def _build_table(events, sort_by, row_limit, max_name, max_shapes, header, top_level_only, profile_memory,
                 use_device):
    if len(events) == 0:
        return ""
    events = list(events)
    if top_level_only:
        events = [e for e in events if e.cpu_parent is None]
    if sort_by is not None:
        attr = _SORT_KEYS.get(sort_by, sort_by).replace("gpu", "device")
        events = sorted(events, key=lambda e: getattr(e, attr), reverse=True)
    has_device = any(e.self_device_time_total > 0 for e in events)
    has_shapes = any(e.input_shapes not in (None, "", []) for e in events)
    name_w = max(len(e.key) for e in events) + 4
    if max_name is not None:
        name_w = min(name_w, max_name)
    shapes_w = max(len(str(e.input_shapes)) for e in events) + 4
    if max_shapes is not None:
        shapes_w = min(shapes_w, max_shapes)
    dev = (use_device or "cuda").upper()
    headers = ["Name", "Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg"]
    if has_device:
        headers += [f"Self {dev}", f"Self {dev} %", f"{dev} total", f"{dev} time avg"]
    if profile_memory:
        headers += ["CPU Mem", "Self CPU Mem"]
    headers.append("# of Calls")
    widths = [name_w] + [12] * (len(headers) - 1)
    if has_shapes:
        headers.append("Input Shapes")
        widths.append(shapes_w)
    fmt = "".join(("{:>%d}" % w) + "  " for w in widths)
    line = "".join("-" * w + "  " for w in widths)
    total_self = sum(e.self_cpu_time_total for e in events)
    total_dev = sum(e.self_device_time_total for e in events)
    rows = [line]
    if header is not None:
        rows = ["=" * len(line), header] + rows
    rows += [fmt.format(*headers), line]
    shown = events[:row_limit] if row_limit is not None and row_limit > 0 else events
    for e in shown:
        name = e.key
        if max_name is not None and len(name) >= max_name - 3:
            name = name[:max_name - 3] + "..."
        count = max(e.count, 1)
        vals = [name, _format_share(e.self_cpu_time_total, total_self), _format_time(e.self_cpu_time_total),
                _format_share(e.cpu_time_total, total_self), _format_time(e.cpu_time_total),
                _format_time(e.cpu_time_total / count)]
        if has_device:
            vals += [_format_time(e.self_device_time_total), _format_share(e.self_device_time_total, total_dev),
                     _format_time(e.device_time_total), _format_time(e.device_time_total / count)]
        if profile_memory:
            vals += [_format_memory(e.cpu_memory_usage), _format_memory(e.self_cpu_memory_usage)]
        vals.append(e.count)
        if has_shapes:
            vals.append(str(e.input_shapes)[:shapes_w])
        rows.append(fmt.format(*vals))
    rows.append(line)
    rows.append(f"Self CPU time total: {_format_time(total_self)}")
    if has_device:
        rows.append(f"Self {dev} time total: {_format_time(total_dev)}")
    return "\n".join(rows) + "\n"


def _trace_dict(events, meta):
    pid = os.getpid()
    out = []
    for e in events:
        args = {"External id": e.id}
        if e.input_shapes:
            args["Input Dims"] = e.input_shapes
        if e.sequence_nr >= 0:
            args["Sequence number"] = e.sequence_nr
        if e.args:
            args.update(e.args)
        out.append({"ph": "X", "cat": e.cat, "name": e.trace_name, "pid": pid, "tid": e.thread,
                    "ts": round(e.time_range.start, 3), "dur": round(e.cpu_time_total, 3), "args": args})
        if e.device_time > 0 and e.device_start is not None:
            # device rows as Kineto lays them out: pid = device index, tid = stream
            out.append({"ph": "X", "cat": "kernel", "name": e.name, "pid": 0, "tid": 7,
                        "ts": round(e.device_start, 3), "dur": round(e.device_time, 3),
                        "args": {"External id": e.id, "device": 0, "stream": 7}})
    import socket
    d = {"schemaVersion": 1, "deviceProperties": [], "host_name": socket.gethostname(), "displayTimeUnit": "ms", "traceName": meta.get("name", ""),
         "baseTimeNanoseconds": meta.get("base_ns", 0), "traceEvents": out}
    return d


def _write_trace(path, d):
    if str(path).endswith(".gz"):
        import gzip
        with gzip.open(path, "wt") as f:
            json.dump(d, f)
    else:
        with open(path, "w") as f:
            json.dump(d, f)


def _export_stacks(events, path, metric):
    attr = _SORT_KEYS.get(metric, metric)
    with open(path, "w") as f:
        for e in events:
            value = getattr(e, attr)
            if e.stack and value > 0:
                frames = ";".join(s.replace(";", ":") for s in reversed(e.stack))
                f.write(f"{frames};{e.name.replace(';', ':')} {int(value)}\n")


# ---------------------------------------------------------------------------------------------------------------
# the recorder: what the dispatch hooks call while a profiler is active
# ---------------------------------------------------------------------------------------------------------------
_FUNCTION_NAMES = {
    "Linear": "aten::linear", "_CrossEntropy2d": "aten::cross_entropy_loss", "Conv2d": "aten::conv2d",
    "Conv3d": "aten::conv3d", "ConvTranspose": "aten::conv_transpose2d", "MaxPool2d": "aten::max_pool2d",
    "AvgPool2d": "aten::avg_pool2d", "AvgPool3d": "aten::avg_pool3d", "View": "aten::view",
    "Reshape": "aten::reshape", "Permute": "aten::permute", "Expand": "aten::expand", "Slice": "aten::slice",
    "Contiguous": "aten::contiguous", "Cat": "aten::cat", "MatMul": "aten::matmul", "Sum": "aten::sum",
    "Mean": "aten::mean", "Prod": "aten::prod", "AMax": "aten::amax", "Norm2": "aten::linalg_vector_norm",
    "CumSum": "aten::cumsum", "CumProd": "aten::cumprod", "ToCopy": "aten::_to_copy", "ToDevice": "aten::to",
    "BatchNormTrain": "aten::batch_norm", "LayerNorm": "aten::layer_norm", "Embedding": "aten::embedding",
    "Gelu": "aten::gelu", "SDPA": "aten::scaled_dot_product_attention",
    "PackedSDPA": "aten::scaled_dot_product_attention", "Where": "aten::where",
    "Clamp": "aten::clamp", "Gather": "aten::gather", "Scatter": "aten::scatter", "IndexSelect": "aten::index_select",
    "IndexAdvanced": "aten::index", "IndexPut": "aten::index_put_", "IndexPutAcc": "aten::index_put_",
    "_ConstantPad": "aten::constant_pad_nd", "Unfold": "aten::unfold", "AsStrided": "aten::as_strided",
    "Diagonal": "aten::diagonal", "RNNLayer": "aten::rnn", "CTCLoss": "aten::ctc_loss", "CDist": "aten::cdist",
    "Dropout": "aten::dropout",
}
_NAME_CACHE = {}


def _snake(name):
    out = []
    for i, ch in enumerate(name.lstrip("_")):
        if ch.isupper() and i and not name.lstrip("_")[i - 1].isupper():
            out.append("_")
        out.append(ch.lower())
    return "".join(out)


def function_name(cls, args):
    """The event name of a ``Function`` call (see the module docstring)."""
    if cls.__name__ == "Softmax" and len(args) > 2:
        return "aten::log_softmax" if args[2] else "aten::softmax"
    name = _NAME_CACHE.get(cls)
    if name is None:
        if not cls.__module__.startswith("minitorch."):
            name = cls.__name__
        elif cls.__name__ in _FUNCTION_NAMES:
            name = _FUNCTION_NAMES[cls.__name__]
        elif isinstance(getattr(cls, "op", None), str):
            name = "aten::" + cls.op
        else:
            name = "aten::" + _snake(cls.__name__)
        _NAME_CACHE[cls] = name
    return name


def _shapes(args):
    from ..tensor import Tensor
    out = []
    for a in args:
        if isinstance(a, Tensor):
            out.append(list(a._shape))
        elif isinstance(a, (list, tuple)) and a and all(isinstance(t, Tensor) for t in a):
            out.append([list(t._shape) for t in a])
        else:
            out.append([])
    return out


def _cuda_args(args):
    from ..tensor import Tensor
    for a in args:
        if isinstance(a, Tensor) and a._device.type == "cuda":
            return True
    return False


def _user_stack():
    import traceback
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    frames = [f for f in traceback.extract_stack()[:-3]
              if not os.path.abspath(f.filename).startswith(root + os.sep)]
    return [f"{f.filename}({f.lineno}): {f.name}" for f in reversed(frames)]


class _ThreadStack(list):
    """The open events of one thread (innermost last), with the thread's id as traces show it."""

    def __init__(self):
        super().__init__()
        self.tid = threading.get_native_id()  # a system call: once per thread, not per event


class _Recorder:
    """Collects events between ``start`` and ``stop``; installed as ``function._PROFILE[0]``."""

    def __init__(self, record_shapes=False, profile_memory=False, with_stack=False, use_cuda=False):
        self.record_shapes = record_shapes
        self.profile_memory = profile_memory
        self.with_stack = with_stack
        self.use_cuda = use_cuda
        self.events = []
        self._ids = itertools.count()
        self._stacks = {}
        self._t0 = _now()
        self.base_ns = time.time_ns()
        self._cuda_pending = []

    # ranges ----------------------------------------------------------------------------------------------------
    def _stack(self):
        tid = threading.get_ident()
        st = self._stacks.get(tid)
        if st is None:
            st = self._stacks[tid] = _ThreadStack()
        return st

    def begin(self, name, args=None, cat="cpu_op", stack=None):
        if stack is None:
            stack = self._stack()
        ev = FunctionEvent(next(self._ids), name, stack.tid, 0.0, 0.0, cat=cat)
        if self.record_shapes and args is not None:
            ev.input_shapes = _shapes(args)
        if self.with_stack:
            ev.stack = _user_stack()
        if stack:
            ev.cpu_parent = stack[-1]
            stack[-1].cpu_children.append(ev)
        self.events.append(ev)
        stack.append(ev)
        if self.use_cuda and args is not None and _cuda_args(args):
            from numba import cuda
            ev._cuda = (cuda.event(), cuda.event())
            ev._cuda[0].record()
        else:
            ev._cuda = None
        ev._t = _now()
        return ev

    def end(self, ev):
        t = _now()
        ev.time_range.start = (ev._t - self._t0) / 1e3
        ev.time_range.end = (t - self._t0) / 1e3
        if ev._cuda is not None:
            ev._cuda[1].record()
            self._cuda_pending.append(ev)
        stack = self._stack()
        if stack and stack[-1] is ev:
            stack.pop()
        elif ev in stack:
            stack.remove(ev)

    def finish(self):
        """Read the device times back (one synchronize) once recording has stopped."""
        if self._cuda_pending:
            import warnings
            from numba import cuda
            cuda.synchronize()
            first = None
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the simulator's events warn that their timings are zeros
                for ev in self._cuda_pending:
                    start, stop = ev._cuda
                    ev.device_time = start.elapsed_time(stop) * 1e3
                    if first is None:
                        first = (start, ev.time_range.start)
                    ev.device_start = first[1] + first[0].elapsed_time(start) * 1e3
            self._cuda_pending = []
        for ev in self.events:
            ev._cuda = None

    # hooks -----------------------------------------------------------------------------------------------------
    def function(self, cls, args, apply):
        name = function_name(cls, args)
        stack = self._stack()
        if stack and stack[-1].name == name:  # the functional call of the same op is already open
            return apply(cls, args)
        ev = self.begin(name, args, stack=stack)
        try:
            return apply(cls, args)
        finally:
            self.end(ev)

    def backward(self, node, g, call):
        name = node.name()
        outer = self.begin("autograd::engine::evaluate_function: " + name)
        inner = self.begin(name, (g,) if not isinstance(g, list) else g)
        try:
            return call(node, g)
        finally:
            self.end(inner)
            self.end(outer)

    def accumulate(self, node, acc, *args):
        name = "torch::autograd::AccumulateGrad"
        outer = self.begin("autograd::engine::evaluate_function: " + name)
        inner = self.begin(name, args[1:2])
        try:
            return acc(*args)
        finally:
            self.end(inner)
            self.end(outer)

    def launcher(self, name, fn, args, kw):
        if name is None:
            return fn(*args, **kw)
        stack = self._stack()
        if stack and stack[-1].name == name:
            return fn(*args, **kw)
        ev = self.begin(name, args, stack=stack)
        try:
            return fn(*args, **kw)
        finally:
            self.end(ev)

    def optimizer_step(self, opt, step, args, kwargs):
        ev = self.begin(f"Optimizer.step#{type(opt).__name__}.step", cat="user_annotation")
        try:
            return step(opt, *args, **kwargs)
        finally:
            self.end(ev)

    def discard(self, ev):
        """Forget a finished event that turned out not to matter (it has no children)."""
        if ev.cpu_parent is not None and ev in ev.cpu_parent.cpu_children:
            ev.cpu_parent.cpu_children.remove(ev)
        if self.events and self.events[-1] is ev:
            self.events.pop()
        elif ev in self.events:
            self.events.remove(ev)

    def allocated(self, nbytes):
        stack = self._stack()
        if stack:
            stack[-1]._self_mem += nbytes


# ---------------------------------------------------------------------------------------------------------------
# launcher wrapping (only while recording) and Numba compile events
# ---------------------------------------------------------------------------------------------------------------
def _inplace(name, args, kw, pos):
    out = kw.get("out", args[pos] if len(args) > pos else None)
    return name + "_" if out is not None and any(out is a for a in args[1:pos]) else name


_LAUNCHER_NAMES = {
    "unary": lambda a, k: "aten::" + _inplace(a[0], a, k, 4),
    "binary": lambda a, k: "aten::" + _inplace(a[0], a, k, 4),
    "binary_same": lambda a, k: "aten::" + a[0],
    "select_rows": "aten::index_select",
    "reduce": lambda a, k: "aten::" + a[0],
    "argreduce": lambda a, k: "aten::" + a[0],
    "scan": lambda a, k: "aten::" + a[0],
    "special": lambda a, k: "aten::special_" + a[0],
    "random_fill": lambda a, k: "aten::" + a[0] + "_",
    "linear": lambda a, k: "aten::addmm" if (a[2] if len(a) > 2 else k.get("b")) is not None else "aten::mm",
    "softmax": lambda a, k: "aten::_log_softmax" if (a[2] if len(a) > 2 else k.get("log")) else "aten::_softmax",
    "softmax_backward": lambda a, k: "aten::_log_softmax_backward_data" if (a[3] if len(a) > 3 else k.get("log"))
    else "aten::_softmax_backward_data",
    "copy_into": "aten::copy_", "contiguous": "aten::clone", "fill_": "aten::fill_", "take": "aten::index",
    "put_": "aten::index_put_", "layer_norm": "aten::native_layer_norm",
    "layer_norm_backward": "aten::native_layer_norm_backward", "amp_unscale_": "aten::_amp_foreach_non_finite_check_and_unscale_",
    "to_numpy": "aten::_local_scalar_dense", "relu_backward": "aten::threshold_backward",
    # checks inside an op's own event (the op's validation, as PyTorch's kernels do it): recorded by the compiler
    "index_range": None, "check_distribution": None,
}
_NOT_LAUNCHERS = {"empty", "broadcast_shapes", "expand_strides", "collapse", "half_compute", "bounds", "scalar",
                  "to_float32", "round_to"}
_PATCHED = {}


def _launcher_wrapper(fn, namer):
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kw):
        rec = _PROFILE[0]
        if rec is None:
            return fn(*args, **kw)
        return rec.launcher(namer(args, kw) if callable(namer) else namer, fn, args, kw)
    return wrapper


def _empty_wrapper(fn):
    import functools
    import math

    @functools.wraps(fn)
    def empty(shape, dtype, device):
        rec = _PROFILE[0]
        if rec is not None and rec.profile_memory:
            rec.allocated(math.prod(shape) * dtype.itemsize)
        return fn(shape, dtype, device)
    return empty


_FUNCTIONAL_NAMES = {"cross_entropy": "aten::cross_entropy_loss"}


def _wrappers(ns, pick, make):
    """``(name, function, wrapper)`` for the functions of module ``ns`` that ``pick(name, fn)`` chooses, each
    wrapper made by ``make(name, fn)`` once and kept while the module holds the same function (a profiler or a
    compiler capture patches them in and out many times)."""
    import inspect
    memo = _WRAPPERS.setdefault(ns.__name__, {})
    names = vars(ns)
    if memo and all(names.get(name) is fn for name, (fn, _) in memo.items()):
        return [(name, fn, w) for name, (fn, w) in memo.items()]
    memo.clear()
    for name, fn in list(names.items()):
        if inspect.isfunction(fn) and pick(name, fn):
            memo[name] = (fn, make(name, fn))
    return [(name, fn, w) for name, (fn, w) in memo.items()]


_WRAPPERS = {}


def _patch_functional():
    """Wrap the public functions of ``nn.functional`` (``aten::<name>``): composites such as ``nll_loss`` and
    ``dropout`` get their own event around the ops they are built from."""
    from ..nn import functional as F
    public = set(F.__all__)
    for name, fn, wrapper in _wrappers(F, lambda name, fn: name in public, lambda name, fn: _launcher_wrapper(
            fn, _FUNCTIONAL_NAMES.get(name, "aten::" + name))):
        _PATCHED_F[name] = fn
        setattr(F, name, wrapper)


_PATCHED_F = {}


def _patch_launchers():
    """Wrap every kernel launcher of ``ops.launch`` (module attributes: callers look them up at call time)."""
    from ..ops import launch
    if _PATCHED:
        return
    _patch_functional()
    for name, fn, wrapper in _wrappers(
            launch, lambda name, fn: not name.startswith("_") and name not in _NOT_LAUNCHERS
            and fn.__module__ == launch.__name__,
            lambda name, fn: _launcher_wrapper(fn, _LAUNCHER_NAMES.get(name, "aten::" + name))):
        _PATCHED[name] = fn
        setattr(launch, name, wrapper)
    _PATCHED["empty"] = launch.empty
    launch.empty = _empty_wrapper(launch.empty)
    from numba.core import caching
    _PATCHED["numba_cache_load"] = caching.Cache.load_overload
    caching.Cache.load_overload = _cache_load_wrapper(caching.Cache.load_overload)


def _unpatch_launchers():
    from numba.core import caching

    from ..ops import launch
    load = _PATCHED.pop("numba_cache_load", None)
    if load is not None:
        caching.Cache.load_overload = load
    for name, fn in _PATCHED.items():
        setattr(launch, name, fn)
    _PATCHED.clear()
    from ..nn import functional as F
    for name, fn in _PATCHED_F.items():
        setattr(F, name, fn)
    _PATCHED_F.clear()


def _kernel_label(fn, fallback):
    label = getattr(fn, "__qualname__", None) or str(fallback)
    mod = getattr(fn, "__module__", "") or ""
    if mod.startswith("minitorch.kernels."):
        label = mod[len("minitorch.kernels."):] + "." + label
    return label


def _cache_load_wrapper(load):
    import functools

    @functools.wraps(load)
    def load_overload(self, sig, target_context):
        rec = _PROFILE[0]
        if rec is None:
            return load(self, sig, target_context)
        ev = rec.begin("numba::cache_load " + _kernel_label(getattr(self, "_py_func", None), self))
        try:
            out = load(self, sig, target_context)
        finally:
            rec.end(ev)
        if out is None:  # a miss: the compile event that follows tells the story
            rec.discard(ev)
        else:
            ev.args = {"signature": str(sig)}
        return out
    return load_overload


class _CompileListener(_nev.Listener):
    """Numba ``numba:compile`` events (a real compilation, not a cache load) as ``numba::compile <kernel>``."""

    def __init__(self, rec):
        self.rec = rec
        self.open = []

    def on_start(self, event):
        self.notify(event)

    def on_end(self, event):
        self.notify(event)

    def notify(self, event):
        if event.is_start:
            data = event.data or {}
            disp = data.get("dispatcher")
            ev = self.rec.begin("numba::compile " + _kernel_label(getattr(disp, "py_func", None), disp))
            ev.args = {"signature": str(tuple(str(a) for a in data.get("args", ())))}
            self.open.append(ev)
        elif event.is_end and self.open:
            self.rec.end(self.open.pop())


_ACTIVE_COUNT = [0]


def _start(rec):
    if _PROFILE[0] is not None:
        raise RuntimeError("Profiler is already enabled on this thread")
    _patch_launchers()
    listener = _CompileListener(rec)
    _nev.register("numba:compile", listener)
    rec._listener = listener
    _PROFILE[0] = rec


def _stop(rec):
    _PROFILE[0] = None
    _unpatch_launchers()
    _nev.unregister("numba:compile", rec._listener)
    rec.finish()


# ---------------------------------------------------------------------------------------------------------------
# public API (the legacy autograd profiler)
# ---------------------------------------------------------------------------------------------------------------
class record_function:
    """Label a range of code in the profile: a context manager (``with record_function("step"):``) or a
    decorator (``@record_function("loss")``). Costs one check when no profiler records."""

    def __init__(self, name, args=None):
        self.name = name
        self.args = args
        self._ev = None
        self._rec = None

    def __enter__(self):
        rec = _PROFILE[0]
        if rec is not None:
            self._rec = rec
            self._ev = rec.begin(self.name, cat="user_annotation")
        return self

    def __exit__(self, *exc):
        if self._ev is not None:
            self._rec.end(self._ev)
            self._ev = self._rec = None
        return False

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapped(*args, **kwargs):
            with record_function(self.name, self.args):
                return fn(*args, **kwargs)
        return wrapped


def _cuda_is_available():
    from .. import cuda
    return cuda.is_available()


class profile:
    """The legacy autograd profiler (``torch.autograd.profiler.profile``): a context manager that records the
    events described in this module's docstring; ``function_events`` / ``key_averages()`` / ``table()`` /
    ``export_chrome_trace()`` read them after exit."""

    def __init__(self, enabled=True, *, use_cuda=False, use_device=None, record_shapes=False, with_flops=False,
                 profile_memory=False, with_stack=False, with_modules=False, use_kineto=False, use_cpu=True,
                 experimental_config=None, acc_events=False, custom_trace_id_callback=None):
        self.enabled = enabled
        if use_cuda:
            use_device = "cuda"
        if use_device is not None and use_device != "cuda":
            warnings.warn(f"The {use_device} is not a valid device option.", stacklevel=2)
            use_device = None
        if use_device == "cuda" and not _cuda_is_available():
            warnings.warn("CUDA is not available, disabling CUDA profiling", stacklevel=2)
            use_device = None
        self.use_device = use_device
        self.use_cuda = use_device == "cuda"
        self.record_shapes = record_shapes
        self.with_flops = with_flops
        self.profile_memory = profile_memory
        self.with_stack = with_stack
        self.with_modules = with_modules
        self.use_cpu = use_cpu
        self.acc_events = acc_events
        self.entered = False
        self.function_events = None
        self._rec = None

    def _cuda_available(self):
        return self.use_cuda

    def __enter__(self):
        if not self.enabled:
            return self
        if self.entered:
            raise RuntimeError("Profiler context manager is not reentrant")
        self.entered = True
        self._start_trace()
        return self

    def _start_trace(self):
        self._rec = _Recorder(self.record_shapes, self.profile_memory, self.with_stack, self._cuda_available())
        _start(self._rec)

    def __exit__(self, *exc):
        if not self.enabled:
            return False
        self._stop_trace()
        self.entered = False
        return False

    def _stop_trace(self):
        rec = self._rec
        if rec is None:
            return
        _stop(rec)
        events = [e for e in rec.events if e.time_range.end > 0 or e.cpu_time_total > 0]
        if self.acc_events and self.function_events is not None:
            events = list(self.function_events) + events
        self.function_events = EventList(sorted(events, key=lambda e: (e.time_range.start, -e.time_range.end)),
                                         use_device=self.use_device, profile_memory=self.profile_memory,
                                         with_flops=self.with_flops)
        self._base_ns = rec.base_ns
        self._rec = None

    def _check_finish(self):
        if self.function_events is None:
            raise RuntimeError("Profiler didn't finish running")

    def __repr__(self):
        return "<unfinished torch.autograd.profile>" if self.function_events is None else repr(self.function_events)

    def __str__(self):
        return "<unfinished torch.autograd.profile>" if self.function_events is None else str(self.function_events)

    def table(self, sort_by=None, row_limit=100, max_src_column_width=75, max_name_column_width=55,
              max_shapes_column_width=80, header=None, top_level_events_only=False, time_unit=None):
        self._check_finish()
        return self.function_events.table(sort_by, row_limit, max_src_column_width, max_name_column_width,
                                          max_shapes_column_width, header, top_level_events_only)

    def export_chrome_trace(self, path):
        self._check_finish()
        _write_trace(path, _trace_dict(self.function_events, {"base_ns": getattr(self, "_base_ns", 0)}))

    def export_stacks(self, path, metric="self_cpu_time_total"):
        self._check_finish()
        if not self.with_stack:
            raise AssertionError("export_stacks() requires with_stack=True")
        _export_stacks(self.function_events, path, metric)

    def key_averages(self, group_by_input_shape=False, group_by_stack_n=0, group_by_overload_name=False):
        self._check_finish()
        return self.function_events.key_averages(group_by_input_shape, group_by_stack_n, group_by_overload_name)

    def total_average(self):
        self._check_finish()
        return self.function_events.total_average()

    @property
    def self_cpu_time_total(self):
        self._check_finish()
        return self.function_events.self_cpu_time_total


class emit_nvtx:
    """NVTX ranges for nvprof/Nsight: minitorch emits none; kept so that code using it runs (a no-op context)."""

    def __init__(self, enabled=True, record_shapes=False):
        self.enabled = enabled

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

