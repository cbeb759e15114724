"""minitorch.profiler and minitorch.autograd.profiler: events from the dispatch layer, tables in PyTorch's layout,
schedules, Chrome traces and TensorBoard trace files."""
import gzip
import json
import os

import pytest

import minitorch
import minitorch.nn as nn
import minitorch.nn.functional as F
from minitorch.autograd import profiler as aprof
from minitorch.profiler import (ProfilerAction, ProfilerActivity, profile, record_function, schedule,
                                tensorboard_trace_handler)


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def _mlp_step(lib, seed=0):
    """One MLP training step in ``lib`` (minitorch or torch): Linear, ReLU, Linear, cross_entropy, backward, SGD."""
    lib.manual_seed(seed)
    model = lib.nn.Sequential(lib.nn.Linear(20, 16), lib.nn.ReLU(), lib.nn.Linear(16, 5))
    opt = lib.optim.SGD(model.parameters(), lr=0.1)
    x, y = lib.randn(8, 20), lib.randint(0, 5, (8,))

    def step():
        loss = lib.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return step


def _by_key(prof):
    return {e.key: e for e in prof.key_averages()}


def test_mlp_step_table_names_ops_backward_nodes_and_times():
    step = _mlp_step(minitorch)
    step()  # compile outside the profile
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        with record_function("train_step"):
            step()
    avg = _by_key(prof)
    for name, calls in [("aten::linear", 2), ("aten::addmm", 2), ("aten::relu", 1), ("aten::cross_entropy_loss", 1),
                        ("AddmmBackward0", 2), ("ReluBackward0", 1), ("NllLoss2DBackward0", 1),
                        ("autograd::engine::evaluate_function: AddmmBackward0", 2),
                        ("torch::autograd::AccumulateGrad", 4), ("Optimizer.step#SGD.step", 1),
                        ("Optimizer.zero_grad#SGD.zero_grad", 1),
                        ("train_step", 1)]:
        assert name in avg, (name, sorted(avg))
        assert avg[name].count == calls, (name, avg[name].count)
    top = avg["train_step"]
    for e in prof.events():
        assert 0 <= e.self_cpu_time_total <= e.cpu_time_total + 1e-9
        for c in e.cpu_children:
            assert e.time_range.start <= c.time_range.start <= c.time_range.end <= e.time_range.end
    # every other event nests inside the one top-level range, so self times add up to its total
    assert [e.name for e in prof.events() if e.cpu_parent is None] == ["train_step"]
    total_self = sum(e.self_cpu_time_total for e in prof.events())
    assert total_self == pytest.approx(top.cpu_time_total, rel=1e-6)
    assert prof.key_averages().total_average().self_cpu_time_total == pytest.approx(total_self, rel=1e-6)
    # the forward linear contains its addmm; input shapes as PyTorch lists them
    lin = [e for e in prof.events() if e.name == "aten::linear"]
    assert [c.name for c in lin[0].cpu_children] == ["aten::addmm"]
    assert lin[0].input_shapes == [[8, 20], [16, 20], [16]]
    assert avg["aten::linear"].cpu_time_total >= avg["aten::addmm"].cpu_time_total
    table = prof.key_averages().table(sort_by="cpu_time_total", row_limit=5)
    rows = table.splitlines()
    assert rows[3].split()[0] == "train_step" and rows[3].split()[-1] == "1"
    assert len(rows) == 5 + 5 and table.endswith("\n")


def test_table_layout_matches_pytorch(torch):
    step = _mlp_step(minitorch)
    step()
    with profile(record_shapes=True, profile_memory=True) as prof:
        step()
    tstep = _mlp_step(torch)
    tstep()
    with torch.profiler.profile(record_shapes=True, profile_memory=True) as tprof:
        tstep()

    def layout(table):
        lines = table.splitlines()
        heads = [h.strip() for h in lines[1].split("  ") if h.strip()]
        widths = [len(d) for d in lines[0].split("  ") if d]
        return heads, widths[1:], lines[-1].split(":")[0]
    for kw in [dict(sort_by="cpu_time_total", row_limit=10), dict(sort_by="self_cpu_memory_usage", row_limit=3)]:
        ours = layout(prof.key_averages().table(**kw))
        theirs = layout(tprof.key_averages().table(**kw))
        assert ours[0] == theirs[0] == ["Name", "Self CPU %", "Self CPU", "CPU total %", "CPU total",
                                        "CPU time avg", "CPU Mem", "Self CPU Mem", "# of Calls"]
        assert ours[1] == theirs[1] and ours[2] == theirs[2]
    ours = layout(prof.key_averages(group_by_input_shape=True).table(sort_by="cpu_time_total", row_limit=4))
    theirs = layout(tprof.key_averages(group_by_input_shape=True).table(sort_by="cpu_time_total", row_limit=4))
    assert ours[0] == theirs[0] and ours[0][-1] == "Input Shapes"
    # both report the same forward ops with the same call counts
    ta, oa = {e.key: e.count for e in tprof.key_averages()}, {e.key: e.count for e in prof.key_averages()}
    for name in ["aten::linear", "aten::addmm", "aten::relu", "aten::cross_entropy_loss", "AddmmBackward0",
                 "ReluBackward0", "torch::autograd::AccumulateGrad", "Optimizer.step#SGD.step",
                 "Optimizer.zero_grad#SGD.zero_grad"]:
        assert oa[name] == ta[name], name
    # memory: the forward outputs of the two linears (8x16 and 8x5 float32)
    mem = {e.key: e for e in prof.key_averages()}
    tmem = {e.key: e for e in tprof.key_averages()}
    assert mem["aten::addmm"].self_cpu_memory_usage == tmem["aten::addmm"].self_cpu_memory_usage == 4 * 8 * (16 + 5)
    assert mem["aten::relu"].cpu_memory_usage == tmem["aten::relu"].cpu_memory_usage == 4 * 8 * 16


def test_sort_keys_order_rows():
    step = _mlp_step(minitorch)
    step()
    with profile(profile_memory=True) as prof:
        step()
    avgs = prof.key_averages()
    for key in ["cpu_time_total", "self_cpu_time_total", "cpu_memory_usage", "self_cpu_memory_usage", "count"]:
        names = [line[:55].strip() for line in avgs.table(sort_by=key).splitlines()[3:-2]]
        expect = [e.key for e in sorted(avgs, key=lambda e: getattr(e, key), reverse=True)]
        assert names == [n if len(n) < 52 else n[:52] + "..." for n in expect], key
    assert "Self CUDA" not in avgs.table(sort_by="cuda_time_total")


def test_record_function_nests_and_decorates():
    @record_function("outer_fn")
    def outer(x):
        with record_function("inner"):
            y = x * 2
        with aprof.record_function("inner"):
            return y + 1

    x = minitorch.ones(3)
    with profile() as prof:
        outer(x)
        with record_function("after"):
            pass
    ev = prof.events()
    names = [e.name for e in ev]
    assert names.count("inner") == 2 and names.count("outer_fn") == 1
    out = next(e for e in ev if e.name == "outer_fn")
    assert [c.name for c in out.cpu_children] == ["inner", "inner"]
    assert [c.name for c in out.cpu_children[0].cpu_children] == ["aten::mul"]
    assert [c.name for c in out.cpu_children[1].cpu_children] == ["aten::add"]
    assert next(e for e in ev if e.name == "after").cpu_parent is None
    # outside a profiler it does nothing (and costs one check)
    assert float(outer(x).sum()) == 9.0


def test_legacy_autograd_profiler_and_module_record_function():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 3)

        def forward(self, x):
            with aprof.record_function("Net.body"):
                return F.relu(self.fc(x))

    net = Net()
    x = minitorch.randn(2, 4)
    net(x).sum().backward()
    with aprof.profile(use_cuda=False, record_shapes=True) as prof:
        net(x).sum().backward()
    names = {e.key for e in prof.key_averages()}
    assert {"Net.body", "aten::linear", "aten::relu", "aten::sum", "SumBackward0", "ReluBackward0"} <= names
    assert "Self CPU time total" in prof.table()
    assert prof.self_cpu_time_total == pytest.approx(sum(e.self_cpu_time_total for e in prof.function_events))
    with aprof.profile(enabled=False) as off:
        net(x)
    with pytest.raises(RuntimeError, match="Profiler didn't finish running"):
        off.key_averages()
    with aprof.emit_nvtx():
        net(x)
    if not minitorch.cuda.is_available():
        with pytest.warns(UserWarning, match="CUDA is not available, disabling CUDA profiling"):
            aprof.profile(use_cuda=True)


def test_schedule_actions_match_pytorch(torch):
    for kw in [dict(wait=1, warmup=1, active=2), dict(wait=1, warmup=1, active=2, repeat=2),
               dict(wait=0, warmup=0, active=1, repeat=3, skip_first=2), dict(wait=2, warmup=1, active=3, repeat=1)]:
        ours = schedule(**kw)
        theirs = torch.profiler.schedule(**kw)
        assert [ours(s).name for s in range(20)] == [theirs(s).name for s in range(20)], kw
    assert schedule(wait=0, warmup=1, active=1)(1) is ProfilerAction.RECORD_AND_SAVE
    with pytest.raises(AssertionError, match="Invalid profiler schedule arguments"):
        schedule(wait=1, warmup=1, active=0)


def test_schedule_calls_on_trace_ready_like_pytorch(torch, tmp_path):
    def run(lib, prof_mod, n_steps, **kw):
        calls = []
        step = _mlp_step(lib)
        step()

        def ready(p):
            path = str(tmp_path / "t.json")
            p.export_chrome_trace(path)
            with open(path) as f:
                ev = json.load(f)["traceEvents"]
            steps = sorted(int(e["name"].split("#")[1]) for e in ev if e["name"].startswith("ProfilerStep#"))
            calls.append((p.step_num, steps, sum(e.key == "ProfilerStep*" for e in p.events())))
        with prof_mod.profile(schedule=prof_mod.schedule(**kw), on_trace_ready=ready) as p:
            for _ in range(n_steps):
                step()
                p.step()
        return calls
    import warnings
    for n, kw in [(10, dict(wait=1, warmup=1, active=2, repeat=2)), (7, dict(wait=1, warmup=1, active=2)),
                  (5, dict(wait=0, warmup=0, active=2, repeat=0))]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ours = run(minitorch, minitorch.profiler, n, **kw)
            theirs = run(torch, torch.profiler, n, **kw)
        assert ours == theirs, (kw, ours, theirs)
        assert ours
    # wait=1, warmup=1, active=2, repeat=2: steps 2-3 and 6-7 recorded, reported after steps 3 and 7


def test_chrome_trace_is_valid_nested_json(tmp_path):
    step = _mlp_step(minitorch)
    step()
    with profile(record_shapes=True) as prof:
        with record_function("train_step"):
            step()
    path = tmp_path / "trace.json"
    prof.export_chrome_trace(str(path))
    d = json.loads(path.read_text())
    ev = d["traceEvents"]
    assert len(ev) == len(prof.events()) and all(e["ph"] == "X" for e in ev)
    for e in ev:
        assert isinstance(e["ts"], (int, float)) and e["dur"] >= 0 and e["name"] and "pid" in e and "tid" in e
    root = next(e for e in ev if e["name"] == "train_step")
    assert root["cat"] == "user_annotation"
    for e in ev:  # everything lies inside the root range, and each child inside its parent
        assert root["ts"] - 1e-3 <= e["ts"] and e["ts"] + e["dur"] <= root["ts"] + root["dur"] + 2e-3
    by_id = {e["args"]["External id"]: e for e in ev}
    nested = 0
    for fe in prof.events():
        if fe.cpu_parent is not None:
            p, c = by_id[fe.cpu_parent.id], by_id[fe.id]
            assert p["ts"] - 1e-3 <= c["ts"] and c["ts"] + c["dur"] <= p["ts"] + p["dur"] + 2e-3
            nested += 1
    assert nested == len(ev) - 1
    lin = next(e for e in ev if e["name"] == "aten::linear")
    assert lin["args"]["Input Dims"] == [[8, 20], [16, 20], [16]]
    gz = tmp_path / "trace.json.gz"
    prof.export_chrome_trace(str(gz))
    assert json.loads(gzip.open(gz).read())["traceEvents"] == ev


def test_tensorboard_trace_handler_files(tmp_path):
    step = _mlp_step(minitorch)
    logdir = tmp_path / "tb"
    with profile(schedule=schedule(wait=0, warmup=1, active=1, repeat=2),
                 on_trace_ready=tensorboard_trace_handler(str(logdir), worker_name="worker0")) as prof:
        for _ in range(5):
            step()
            prof.step()
    files = sorted(os.listdir(logdir))
    assert len(files) == 2
    for f in files:
        worker, stamp, rest = f.split(".", 2)
        assert worker == "worker0" and stamp.isdigit() and rest == "pt.trace.json"
        d = json.loads((logdir / f).read_text())
        assert "traceEvents" in d and any(e["name"].startswith("ProfilerStep#") for e in d["traceEvents"])
    handler = tensorboard_trace_handler(str(tmp_path / "gz"), use_gzip=True)
    with profile(on_trace_ready=handler):
        step()
    (f,) = os.listdir(tmp_path / "gz")
    assert f.endswith(".pt.trace.json.gz") and f.split(".")[0] == f"{__import__('socket').gethostname()}_{os.getpid()}"
    assert "traceEvents" in json.loads(gzip.open(tmp_path / "gz" / f).read())


def test_export_stacks_and_start_stop(tmp_path):
    x = minitorch.randn(4, 4)
    prof = profile(with_stack=True)
    prof.start()
    (x @ x).relu()
    prof.stop()
    path = tmp_path / "stacks.txt"
    prof.export_stacks(str(path), "self_cpu_time_total")
    lines = path.read_text().splitlines()
    assert lines and all(int(line.rsplit(" ", 1)[1]) >= 0 for line in lines)
    assert any("test_export_stacks_and_start_stop" in line and line.rsplit(" ", 1)[0].endswith("aten::relu")
               for line in lines)
    with pytest.raises(RuntimeError, match="already enabled"):
        with profile():
            with profile():
                pass


def test_numba_compile_appears_as_event():
    from numba import njit

    @njit  # a fresh dispatcher: its first call compiles
    def _fresh_kernel(a):
        return a.sum() * 2.0

    import numpy as np
    with profile() as prof:
        with record_function("first_call"):
            _fresh_kernel(np.ones(3))
        with record_function("second_call"):
            _fresh_kernel(np.ones(3))
    ev = prof.events()
    comp = [e for e in ev if e.name.startswith("numba::compile")]
    assert len(comp) >= 1 and "_fresh_kernel" in comp[0].name
    assert comp[0].cpu_parent.name == "first_call"
    second = next(e for e in ev if e.name == "second_call")
    assert not second.cpu_children
    assert comp[0].cpu_time_total > second.cpu_time_total


def test_no_events_leak_after_stop():
    from minitorch.autograd.function import _PROFILE
    from minitorch.ops import launch
    binary = launch.binary
    with profile():
        assert launch.binary is not binary
        minitorch.ones(2) + minitorch.ones(2)
    assert _PROFILE[0] is None and launch.binary is binary


@pytest.mark.cuda
def test_cuda_device_time(device):
    if device != "cuda":
        pytest.skip("CUDA only")
    x = minitorch.ones(4, device=device, requires_grad=True)
    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        (x * 2).sum().backward()
    mul = next(e for e in prof.events() if e.name == "aten::mul")
    assert mul.device_time_total >= 0 and mul.cpu_time_total > 0
    # the simulator's events time nothing; a real GPU's time the kernels
    from numba import config
    if not config.ENABLE_CUDASIM:
        assert mul.device_time_total > 0
        assert "Self CUDA" in prof.key_averages().table()
    table = prof.key_averages().table(sort_by="cuda_time_total")
    assert "Self CPU time total" in table


def test_tensorboard_profile_plugin_reads_the_files(tmp_path):
    """TensorBoard's PyTorch profiler plugin (torch-tb-profiler, not in the test extra: skipped without it) turns
    the handler's file into its Overview/Operator/Trace views with the recorded steps."""
    consts = pytest.importorskip("torch_tb_profiler.consts")
    from torch_tb_profiler.profiler.data import RunProfileData
    from torch_tb_profiler.profiler.run_generator import RunGenerator
    step = _mlp_step(minitorch)
    with profile(schedule=schedule(wait=1, warmup=1, active=3, repeat=1),
                 on_trace_ready=tensorboard_trace_handler(str(tmp_path))) as prof:
        for _ in range(6):
            step()
            prof.step()
    (name,) = os.listdir(tmp_path)
    match = consts.WORKER_PATTERN.match(name)
    worker, span = match.group(1), match.group(2)[1:]
    data = RunProfileData.from_json(worker, span, json.loads((tmp_path / name).read_text()))
    run = RunGenerator(worker, span, data).generate_run_profile()
    assert [v.display_name for v in run.views] == ["Overview", "Operator", "Trace"]
    assert [r[0] for r in run.overview["steps"]["rows"]] == ["2", "3", "4"]
    ops = {r["name"]: r["calls"] for r in run.operation_table_by_name["data"]}
    assert ops["aten::linear"] == 6 and ops["AddmmBackward0"] == 6 and ops["aten::relu"] == 3


def test_numba_cache_load_appears_as_event():
    """A kernel signature loaded from Numba's disk cache (the first call in a fresh process) shows as
    numba::cache_load; a fresh dispatcher of a cached kernel stands for that fresh process."""
    import numba
    import numpy as np
    from minitorch.kernels.cpu import elementwise as ew
    a = minitorch.ones(4)
    a + a  # the float32 signature is in the disk cache now
    sig = next(s for s in ew.binary_flat.signatures if s[1].dtype == numba.float32)
    args = [np.ones(4, dtype=t.dtype.name) if isinstance(t, numba.types.Array) else 0 for t in sig]
    fresh = numba.njit(cache=True)(ew.binary_flat.py_func)
    with profile() as prof:
        with record_function("first_call"):
            fresh(*args)
        with record_function("second_call"):
            fresh(*args)
    first, second = (e for e in prof.events() if e.cpu_parent is None)
    assert [c.name for c in first.cpu_children] == ["numba::cache_load elementwise.binary_flat".replace(
        "elementwise", "cpu.elementwise")]
    assert not second.cpu_children


def test_functional_composites_are_one_event_with_parts(torch):
    x = minitorch.randn(6, 4, requires_grad=True)
    y = minitorch.tensor([0, 1, 2, 3, 0, 1])
    F.nll_loss(F.log_softmax(x, 1), y)
    nll_loss = F.nll_loss
    with profile() as prof:
        assert F.nll_loss is not nll_loss
        loss = F.nll_loss(F.dropout(F.log_softmax(x, 1), 0.5), y)
    top = [e.name for e in prof.events() if e.cpu_parent is None]
    assert top == ["aten::log_softmax", "aten::dropout", "aten::nll_loss"]
    for e in prof.events():
        if e.cpu_parent is None and e.name != "aten::log_softmax":
            assert e.cpu_children and e.self_cpu_time_total < e.cpu_time_total
    # the same top-level ops as PyTorch reports for this program
    tx = torch.randn(6, 4, requires_grad=True)
    with torch.profiler.profile() as tprof:
        torch.nn.functional.nll_loss(torch.nn.functional.dropout(torch.nn.functional.log_softmax(tx, 1), 0.5),
                                     torch.tensor([0, 1, 2, 3, 0, 1]))
    tnames = {e.key for e in tprof.key_averages()}
    assert set(top) <= tnames
    # the functions are themselves again after the profile
    assert F.nll_loss is nll_loss
    assert float(loss) == float(loss)


def test_group_by_stack_n(tmp_path):
    x = minitorch.randn(3, 3)

    def first():
        return x.relu()

    def second():
        return x.relu()
    with profile(with_stack=True) as prof:
        first()
        second()
    flat = [e for e in prof.key_averages() if e.key == "aten::relu"]
    by_stack = [e for e in prof.key_averages(group_by_stack_n=1) if e.key == "aten::relu"]
    assert len(flat) == 1 and flat[0].count == 2
    assert len(by_stack) == 2 and sorted(e.stack[0].split(": ")[1] for e in by_stack) == ["first", "second"]


def test_same_shape_arithmetic_is_named_by_its_op():
    """Same-shape arithmetic runs a shorter launcher path; its rows are still PyTorch's op names."""
    x = minitorch.randn(2, 3, requires_grad=True)
    y = minitorch.randn(2, 3)
    _ = x / y * y
    with minitorch.autograd.profiler.profile() as prof:
        _ = x / y * y
    names = {e.key for e in prof.key_averages()}
    assert {"aten::div", "aten::mul"} <= names
    assert not any("binary" in n for n in names)
