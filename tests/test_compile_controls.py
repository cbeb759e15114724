"""Controls of the compiler: ``minitorch.compiler.set_stance`` (how compiled callables behave under each stance:
force_eager, eager or an error on a recompile, eager or unfused first calls, a forced backend; as a call, a context
manager and a decorator), the ``is_compiling`` family, and what ``minitorch._logging.set_logs`` / ``TORCH_LOGS``
make the compiler report."""
import logging

import pytest

import minitorch
from minitorch.compiler import logs, set_stance


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MINITORCH_COMPILE_CACHE", str(tmp_path / "compiled"))
    yield
    set_stance("default")
    logs.configure([], {})


def marked(x):
    """x + 1 when captured, x - 1 when run eagerly: which of the two ran shows in the result."""
    return x + 1 if minitorch.compiler.is_compiling() else x - 1


def values(*outs):
    return [o.flatten().tolist()[0] for o in outs]


def test_force_eager_as_a_call_a_context_manager_and_a_decorator():
    c = minitorch.compile(marked)
    x = minitorch.zeros(3)
    assert values(c(x)) == [1.0]
    with set_stance("force_eager"):
        assert values(c(x)) == [-1.0]
    assert values(c(x)) == [1.0]  # the context manager put the default back

    @set_stance("force_eager")
    def run(t):
        return c(t)
    assert values(c(x), run(x), c(x)) == [1.0, -1.0, 1.0]  # the decorator holds only while run() runs
    set_stance("force_eager")
    assert values(c(x)) == [-1.0]
    set_stance("default")
    assert values(c(x)) == [1.0]
    m = minitorch.compile(minitorch.nn.Linear(3, 2))
    with set_stance("force_eager"):
        m(minitorch.randn(4, 3))
    assert m._compiled._captures == 0


def test_the_stance_cannot_change_inside_a_compiled_call():
    def changes(x):
        with set_stance("force_eager"):
            return x + 1

    @set_stance("force_eager")
    def inner(x):
        return x + 1

    for fn in (changes, lambda x: inner(x)):
        with pytest.raises(AssertionError, match="forbidden callable"):
            minitorch.compile(fn)(minitorch.zeros(2))
    with pytest.raises(RuntimeError, match="non-default stance cannot have force_backend"):
        set_stance("force_eager", force_backend="eager")
    with pytest.raises(RuntimeError, match="Invalid backend"):
        set_stance(force_backend="nope")
    set_stance("bogus")
    with pytest.raises(RuntimeError, match="invalid minitorch.compile stance 'bogus'"):
        minitorch.compile(marked)(minitorch.zeros(2))


def test_fail_on_recompile_raises_on_any_capture_and_replays_what_it_has():
    c = minitorch.compile(lambda x: x.relu())
    c(minitorch.randn(3))
    with set_stance("fail_on_recompile"):
        c(minitorch.randn(3))  # captured already: replayed
        with pytest.raises(RuntimeError, match="Detected recompile .*'fail_on_recompile'.*function name: '<lambda>'"):
            c(minitorch.randn(4, 2))
        with pytest.raises(RuntimeError, match="Detected recompile"):
            minitorch.compile(marked)(minitorch.zeros(2))  # a first capture is one too
    assert len(c._entries) == 1
    m = minitorch.compile(minitorch.nn.Linear(3, 2))
    m(minitorch.randn(2, 3))
    with set_stance("fail_on_recompile"), pytest.raises(RuntimeError, match="linear.py', function name: 'forward'"):
        m(minitorch.randn(4, 5, 3))


def test_eager_on_recompile_replays_captured_graphs_and_runs_new_signatures_eagerly():
    c = minitorch.compile(marked)
    assert values(c(minitorch.zeros(3))) == [1.0]
    with set_stance("eager_on_recompile"):
        assert values(c(minitorch.zeros(3)), c(minitorch.zeros(4, 2)), c(minitorch.zeros(3))) == [1.0, -1.0, 1.0]
        fresh = minitorch.compile(marked)
        assert values(fresh(minitorch.zeros(2)), fresh(minitorch.zeros(2))) == [-1.0, -1.0]
    assert len(c._entries) == 1 and not fresh._entries
    assert values(fresh(minitorch.zeros(2))) == [1.0]


def test_eager_then_compile_and_aot_eager_then_compile_first_calls():
    with set_stance("eager_then_compile"):
        c = minitorch.compile(marked)
        assert values(c(minitorch.zeros(2)), c(minitorch.zeros(2)), c(minitorch.zeros(3))) == [-1.0, 1.0, 1.0]

    def gelu(x):
        return 0.5 * x * (1.0 + minitorch.tanh(0.79788456 * (x + 0.044715 * x * x * x)))
    with set_stance("aot_eager_then_compile"):
        c = minitorch.compile(gelu)
        x = minitorch.randn(64)
        first, second = c(x), c(x)
    assert (first - gelu(x)).abs().max().item() < 1e-6 and (second - gelu(x)).abs().max().item() < 1e-6
    unfused, fused = c.graphs  # the first call's graph (not fused, kept apart), then the compiled one
    assert not any(n.name.startswith("fused") for n in unfused.nodes)
    assert any(n.name.startswith("fused") for n in fused.nodes) and len(fused.nodes) < len(unfused.nodes)


def test_force_backend_captures_with_that_backend_apart_from_the_others():
    def chain(x):
        return (x * 2 + 1).relu().exp()
    c = minitorch.compile(chain)
    x = minitorch.randn(8)
    with set_stance(force_backend="eager"):
        c(x)
    c(x)
    plain, fused = c.graphs
    assert [n.name for n in plain.nodes] != [n.name for n in fused.nodes] and len(fused.nodes) == 1
    assert len(c._entries) == 2


def test_is_dynamo_compiling_and_is_exporting(tmp_path):
    def probe(x):
        return x + (1 if minitorch.compiler.is_dynamo_compiling() else 0) + \
            (10 if minitorch.compiler.is_exporting() else 0)
    x = minitorch.zeros(1)
    assert values(probe(x), minitorch.compile(probe)(x)) == [0.0, 1.0]
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")

    class Probe(minitorch.nn.Module):
        def forward(self, x):
            return probe(x)
    path = str(tmp_path / "probe.onnx")
    minitorch.onnx.export(Probe(), (x,), path, input_names=["x"])
    out = ort.InferenceSession(path).run(None, {"x": x.numpy()})[0]
    assert out.tolist() == [11.0]  # captured for export: both flags were on


def test_set_logs_reports_recompiles_with_the_failed_guard_and_breaks(capsys):
    def f(x, k):
        return (x * k).relu().sum()
    c = minitorch.compile(f, dynamic=False)
    c(minitorch.ones(3), 2.0)
    c(minitorch.ones(4, 2), 2.0)
    assert "minitorch.compile" not in capsys.readouterr().err  # nothing is reported unless asked for
    minitorch._logging.set_logs(recompiles=True, graph_breaks=True)
    c(minitorch.ones(5), 2.0)
    c(minitorch.ones(5), 3.0)
    err = capsys.readouterr().err
    assert err.count("[__recompiles] Recompiling f") == 2
    assert "argument 'x': tensor minitorch.float32[5] on cpu (captured: tensor minitorch.float32[3] on cpu)" in err
    assert "argument 'k': 3.0 (captured: 2.0)" in err

    def g(x):
        y = x * 2
        return y + y.sum().item()
    minitorch.compile(g)(minitorch.ones(2))
    err = capsys.readouterr().err
    assert "[__graph_breaks] graph break in g" in err and ".item()" in err and "[__graph]" not in err


def test_set_logs_artifacts_levels_and_the_environment_variable(capsys):
    minitorch._logging.set_logs(output_code=True, guards=True)
    minitorch.compile(lambda x: x.exp() * 2)(minitorch.ones(2))
    err = capsys.readouterr().err
    assert "[__output_code]" in err and "@njit" in err and "[__guards]" in err and "grad mode: True" in err
    minitorch._logging.set_logs()  # each call replaces the settings: now nothing
    minitorch.compile(lambda x: x.exp() * 3)(minitorch.ones(2))
    assert capsys.readouterr().err == ""
    minitorch._logging.set_logs(dynamo=logging.INFO)
    assert logs.on("recompiles") and logs.on("graph_breaks") and not logs.on("graph")
    minitorch._logging.set_logs(dynamo=logging.DEBUG, inductor=logging.WARNING)
    assert logs.on("graph") and logs.on("guards") and not logs.on("output_code")
    minitorch._logging.set_logs(cudagraphs=True, ddp_graphs=True)  # nothing of the kind here: accepted, silent
    assert not any(logs.on(a) for a in logs.ARTIFACTS)
    with pytest.raises(TypeError):
        minitorch._logging.set_logs(no_such_artifact=True)
    logs.from_env("recompiles,+inductor")
    assert logs.on("recompiles") and logs.on("output_code") and logs.on("passes") and not logs.on("graph")
    with pytest.warns(UserWarning, match="unknown log name 'bogus'"):
        logs.from_env("bogus,graph_code")
    assert logs.on("graph")


def test_logs_internal_formatter_from_torch_logs_format(capsys, monkeypatch, tmp_path):
    # a tutorial's opening lines: an empty TORCH_LOGS_FORMAT makes every report line the bare message
    monkeypatch.setenv("TORCH_LOGS_FORMAT", "")
    monkeypatch.delenv("TORCH_LOGS", raising=False)
    internal = minitorch._logging._internal
    internal.DEFAULT_FORMATTER = internal._default_formatter()
    try:
        internal._init_logs()
        minitorch._logging.set_logs(graph_code=True)
        minitorch.compile(lambda x: x.sin() + 1)(minitorch.ones(2))
        err = capsys.readouterr().err
        assert err.startswith("captured graph of <lambda>:") and "[minitorch.compile]" not in err
        monkeypatch.setenv("TORCH_LOGS_FORMAT", "short")
        internal.DEFAULT_FORMATTER = internal._default_formatter()
        internal._init_logs(str(tmp_path / "log.txt"))  # TORCH_LOGS unset: reports off again; lines to a file
        assert not logs.on("graph")
        minitorch._logging.set_logs(graph_code=True)
        minitorch.compile(lambda x: x.cos() + 1)(minitorch.ones(2))
        assert capsys.readouterr().err == ""
        assert (tmp_path / "log.txt").read_text().startswith("INFO:torch._dynamo:captured graph of <lambda>:")
    finally:
        logs.set_output(None)
    monkeypatch.delenv("TORCH_LOGS_FORMAT")
    assert isinstance(internal._default_formatter(), internal.TorchLogsFormatter)
    minitorch.compile(lambda x: x.tan() + 1)(minitorch.ones(2))
    assert capsys.readouterr().err.startswith("[minitorch.compile] [__graph] captured graph of <lambda>:")


@pytest.mark.parametrize("how", ["cond", "functorch"])
def test_cond_is_a_guard_inside_a_fullgraph_compile(how):
    if how == "cond":
        cond = minitorch.cond
    else:
        from minitorch.functorch.experimental.control_flow import cond

    def f(a, b):
        x = a / (a.abs() + 1)
        b = cond(b.sum() < 0, lambda y: y * -1, lambda y: y.clone(), (b,))
        return x * b

    c = minitorch.compile(f, fullgraph=True)
    a, b = minitorch.tensor([1.0, -3.0]), minitorch.tensor([2.0, 4.0])
    for sign in (1, -1, 1, -1):
        assert c(a, sign * b).tolist() == f(a, sign * b).tolist() == [1.0, -3.0]
    assert c._captures == 2  # one graph per branch, each replayed while its guard holds
    with pytest.raises(RuntimeError, match="Expect operands to be a tuple"):
        minitorch.cond(True, lambda y: y, lambda y: y, b)
    with pytest.raises(RuntimeError, match="single-element tensor"):
        minitorch.cond(b > 0, lambda y: y, lambda y: y, (b,))

    def g(a):  # another branch on a value still breaks the graph, an error with fullgraph
        return a * 2 if a.sum() > 0 else a
    with pytest.raises(minitorch.compiler.CompileError, match="graph break"):
        minitorch.compile(g, fullgraph=True)(a)


def test_assume_constant_result_allow_in_graph_and_disable_with_a_reason():
    class Config:
        def __init__(self):
            self.calls = 0

        def scale(self):
            self.calls += 1
            return 3.0
    cfg = Config()

    def f(x):
        return x * cfg.scale()  # a call without arguments of an object outside the graph: read on every call
    c = minitorch.compile(f)
    for _ in range(3):
        c(minitorch.ones(2))
    assert cfg.calls == 3 and c._effects
    minitorch.compiler.assume_constant_result(Config.scale)
    cfg.calls = 0
    c = minitorch.compile(f)
    for _ in range(3):
        assert c(minitorch.ones(2)).tolist() == [3.0, 3.0]
    assert cfg.calls == 1 and c._effects is False  # the capture's value, as the program vouched

    seen = []

    def note(t):
        seen.append(1)
        return t * 2
    def g(x):
        return note(x) + 1
    c = minitorch.compile(g)
    c(minitorch.ones(2))
    assert c._effects  # an effect inside a helper: looked into
    minitorch.compiler.allow_in_graph(note)
    c = minitorch.compile(g)
    seen.clear()
    for _ in range(3):
        assert c(minitorch.ones(2)).tolist() == [3.0, 3.0]
    assert c._effects is False and seen == [1]  # recorded into the graph, its effect at the capture only
    with pytest.raises(TypeError, match="cannot mark"):
        minitorch.compiler.allow_in_graph(3)
    minitorch.compiler.cudagraph_mark_step_begin()

    @minitorch.compiler.disable(reason="plotting")
    def plot(t):
        return t + 1
    out = minitorch.compiler.explain(lambda x: plot(x * 2) * 3, minitorch.ones(2))
    assert "plotting" in str(out)


def test_dynamo_graph_break_counters_and_explain_fields():
    from minitorch._dynamo.utils import counters
    counters.clear()

    def f(x):
        y = x.relu() * 2
        minitorch._dynamo.graph_break()
        return y + 1
    minitorch._dynamo.graph_break()  # outside a compiled call: nothing happens
    c = minitorch.compile(f)
    x = minitorch.randn(3)
    for _ in range(3):
        assert c(x).tolist() == ((x.relu() * 2) + 1).tolist()
    assert counters["graph_break"]["torch._dynamo.graph_break() was called"] == 1
    # the whole call once (broken), then its two compiled pieces: three captures, two of them graphs
    assert counters["frames"]["total"] == 3 and counters["frames"]["ok"] == counters["stats"]["unique_graphs"] == 2
    assert counters["stats"]["calls_captured"] == 3  # relu, mul and add as captured (relu and mul then fuse)
    assert sum(len(g.nodes) for g in c.graphs) == 2

    def g(x, k):
        y = x.relu() * k
        print("between")
        return y + 1
    out = minitorch._dynamo.explain(g)(minitorch.randn(3), 2.0)
    assert out.graph_count == 2 and out.op_count == sum(len(o) for o in out.ops_per_graph) > 0
    assert "argument 'x': tensor minitorch.float32[3] on cpu" in "\n".join(out.out_guards)
    assert "argument 'k': 2.0" in "\n".join(out.out_guards)
    assert out.compile_times.endswith("s to capture, optimize and compile the call (g)")
    (frame,) = out.break_reasons[0].user_stack
    assert frame.filename == __file__ and frame.lineno == g.__code__.co_firstlineno + 2
    assert "Out Guards:" in str(out) and "Compile Times:" in str(out)


def test_fresh_inductor_cache_compiles_into_an_empty_folder(tmp_path):
    import os

    from minitorch._inductor.utils import fresh_inductor_cache

    def f(x):
        return (x * 3 + 1).tanh()
    x = minitorch.randn(5)
    want = minitorch.compile(f)(x)
    before = os.environ["MINITORCH_COMPILE_CACHE"]
    entries = {}
    with fresh_inductor_cache(cache_entries=entries, dir=str(tmp_path)):
        assert os.environ["MINITORCH_COMPILE_CACHE"] != before
        minitorch.compiler.reset()
        c = minitorch.compile(f)
        c(x)  # (the capture runs eagerly; the replay loads the kernels)
        got = c(x)
    assert os.environ["MINITORCH_COMPILE_CACHE"] == before and list(tmp_path.iterdir()) == []  # deleted
    assert any(name.endswith(".py") for name in entries) and all(size > 0 for size in entries.values())
    assert got.tolist() == want.tolist()
    assert minitorch.compile(f)(x).tolist() == want.tolist()  # the kernels loaded before the block serve again
