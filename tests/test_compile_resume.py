"""minitorch.compile resuming capture after a graph break inside a plain function (compiler/resume.py): the
function is cut at the statement that broke, the statements around it compile on their own, and every call gives
the eager answer."""
import textwrap
import types

import numpy as np
import pytest

import minitorch
import minitorch.nn as nn
import minitorch.nn.functional as F
from minitorch.compiler import CompileError, explain


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MINITORCH_COMPILE_CACHE", str(tmp_path / "compiled"))


def same(a, b):
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-6, atol=1e-6)


def scale_print_relu(x):
    y = x * 2
    print("sum", y.sum())
    return (y + 1).relu()


def test_a_print_in_the_middle_cuts_the_function_into_two_graphs(capsys):
    c = minitorch.compile(scale_print_relu)
    x = minitorch.randn(7)
    for _ in range(3):
        same(c(x), scale_print_relu(x))
    assert capsys.readouterr().out.count("sum") == 6  # printed on every call, compiled or not
    before, after = c.graphs
    assert [n.name for n in before.nodes] == ["binary"]
    assert [n.name for n in after.nodes] == ["fused_add_relu"]
    # a print is a Python side effect: the function is cut around it before its first capture
    assert not c._entries and c._effects.eager == [False, True, False]


def test_explain_names_the_pieces_around_the_break():
    out = explain(scale_print_relu, minitorch.randn(3))
    line = scale_print_relu.__code__.co_firstlineno
    assert out.graph_count == 2 and out.graph_break_count == 1
    assert out.resumes[0] == ([(line + 1, line + 1), (line + 2, line + 2), (line + 3, line + 3)],
                              [False, True, False], True)
    assert f"lines {line + 3}-{line + 3} are compiled" in str(out) and "print()" in str(out)
    assert "the function is cut around it" in str(out)

    def g(x):
        y = x * 2
        v = y.sum().item()
        return y + v
    out = explain(g, minitorch.randn(3))  # a break found by running: the pieces are used from the next call
    assert out.graph_count == 0 and out.graph_break_count == 1 and out.resumes[0][1:] == ([False, True, False], False)
    assert "capture resumes after it: from the next call" in str(out)


def test_a_value_read_on_the_host_flows_into_the_next_graph_and_changing_values_stay_right():
    def f(x):
        b = x * x
        s = b.max().item()
        return b / s + 1

    c = minitorch.compile(f)
    for i in range(8):  # s differs on every call: after two captures the piece after the break runs eagerly
        x = minitorch.randn(5)
        same(c(x), f(x))
    tail = c._parts()[-1]
    assert len(tail._entries) == 2 and tail._volatile


def test_returns_defaults_star_args_and_keywords_go_through_the_pieces():
    log = []

    def f(x, k=2, *rest, scale=1.5, **kw):
        """a docstring"""
        y = x * k
        if x.shape[0] > 100:
            return y
        log.append(y.sum().item())
        if kw.get("early"):
            return y - 1
        z = y * scale + len(rest) + len(kw)
        return z.tanh()

    c = minitorch.compile(f)
    x = minitorch.randn(4)
    for _ in range(3):
        same(c(x, 3, 1, 2, scale=2.0, q=1), f(x, 3, 1, 2, scale=2.0, q=1))
        same(c(x), f(x))
        same(c(x, early=True), f(x, early=True))
    assert len(log) == 18
    assert len(c._parts()) >= 2


def test_locals_bound_on_one_path_only_and_a_lambda_made_before_the_break():
    def f(x):
        h = x.exp()
        g = lambda t: t * h  # noqa: E731
        m = float(h.sum())
        if m > 5:
            w = x * 2
        return g(x) + (w if m > 5 else 0)

    c = minitorch.compile(f)
    for x in [minitorch.randn(4), minitorch.zeros(4) - 5, minitorch.randn(4) + 2] * 2:
        same(c(x), f(x))
    assert next(iter(c._entries.values())).resume is not None


def test_a_local_rebound_after_the_break_that_a_closure_reads_is_not_cut():
    def f(x):
        s = x + 1
        g = lambda: s  # noqa: E731
        print(s.sum())
        s = x * 5
        return g()  # the closure sees the rebound s

    c = minitorch.compile(f)
    x = minitorch.randn(3)
    for _ in range(3):
        same(c(x), f(x))
        same(c(x), x * 5)
    (entry,) = c._entries.values()
    assert entry.split and entry.resume is None


def test_every_break_cuts_again_and_a_loop_that_breaks_runs_eagerly():
    log = []

    def f(x):
        a = x + 1
        print("a", a.sum())
        b = a * a
        s = b.max().item()
        c = b / s
        for i in range(2):
            c = c + i
            log.append(c.mean().item())
        return c.sigmoid(), s

    c = minitorch.compile(f)
    x = minitorch.randn(4)
    for _ in range(4):
        (got, s1), (want, s2) = c(x), f(x)
        same(got, want)
        assert s1 == s2
    assert len(log) == 16
    ops = [[(n.name, n.args[0]) for n in g.nodes] for g in c.graphs]
    assert [("binary", "add")] in ops and [("unary", "sigmoid")] in ops  # x + 1 and the sigmoid after the loop


def test_a_training_step_with_zero_grad_backward_step_and_item_trains_as_eager():
    def run(compiled):
        minitorch.manual_seed(0)
        model = nn.Sequential(nn.Linear(4, 8), nn.Dropout(0.0), nn.ReLU(), nn.Linear(8, 3))
        opt = minitorch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        seen = []

        def step(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            seen.append(loss.item())
            return loss.detach()

        fn = minitorch.compile(step) if compiled else step
        x, y = minitorch.randn(6, 4, generator=minitorch.Generator().manual_seed(1)), minitorch.tensor([0, 1, 2] * 2)
        for _ in range(5):
            fn(x, y)
        return seen, [p.detach().numpy() for p in model.parameters()], fn
    want, wparams, _ = run(False)
    got, gparams, fn = run(True)
    np.testing.assert_allclose(got, want, rtol=1e-6)
    for a, b in zip(gparams, wparams):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert len(set(got)) == 5


def test_zero_grad_in_a_compiled_function_clears_the_gradients_on_every_call():
    model = nn.Linear(8, 4)
    opt = minitorch.optim.SGD(model.parameters(), lr=0.1)

    @minitorch.compile
    def fwd(x):
        opt.zero_grad()
        return model(x).sum()

    x = minitorch.randn(4, 8)
    grads = []
    for _ in range(3):
        fwd(x).backward()
        grads.append(model.weight.grad.numpy().copy())
    np.testing.assert_allclose(grads[2], grads[0], rtol=1e-6)  # not accumulated across calls
    assert fwd.graphs[0].nodes[0].name == "SGD.zero_grad"


@pytest.mark.parametrize("reach", ["global", "argument", "attribute"])
def test_eval_and_train_on_a_module_the_function_calls_capture_again(reach):
    minitorch.manual_seed(0)
    holder = type("Holder", (), {})()
    holder.model = nn.Sequential(nn.Linear(8, 16), nn.Dropout(0.5), nn.Linear(16, 4))
    model = holder.model
    fns = {"global": lambda x, m: model(x), "argument": lambda x, m: m(x), "attribute": lambda x, m: holder.model(x)}
    c = minitorch.compile(fns[reach])
    x = minitorch.randn(4, 8)
    c(x, model), c(x, model)
    model.eval()
    same(c(x, model), model(x))
    model.train()
    a, b = c(x, model), c(x, model)
    assert not np.allclose(a.detach().numpy(), b.detach().numpy())  # dropout draws again in training mode


def test_fullgraph_still_raises_and_a_function_without_source_runs_eagerly():
    with pytest.raises(CompileError, match="graph break"):
        minitorch.compile(scale_print_relu, fullgraph=True)(minitorch.randn(3))
    ns = {"minitorch": minitorch}
    exec(textwrap.dedent("""
        def g(x):
            y = x * 3
            v = y.sum().item()
            return y + v
    """), ns)
    c = minitorch.compile(ns["g"])
    x = minitorch.randn(4)
    for _ in range(3):
        same(c(x), ns["g"](x))
    (entry,) = c._entries.values()
    assert entry.split and entry.resume is None


def test_an_error_inside_a_piece_names_the_original_line():
    def f(x, n):
        y = x * 2
        print(y.sum())
        return y.view(n, -1)

    c = minitorch.compile(f)
    x = minitorch.randn(6)
    c(x, 2), c(x, 2)
    with pytest.raises(RuntimeError) as info:
        c(x, 4)
    tb = info.traceback
    assert any(e.lineno + 1 == f.__code__.co_firstlineno + 3 and e.path.name == "test_compile_resume.py"
               for e in tb)


def test_python_side_effects_run_on_every_call():
    class Counter:
        calls = 0
    state = {"n": 0}
    seen = []
    holder = Counter()
    total = [0]

    def f(x, hist):
        y = x * 2
        holder.calls += 1          # an attribute store
        state["n"] = state["n"] + 1  # an item store into a dict the function did not make
        hist.append(3)             # a mutating method on an argument
        total[0] += 1
        made = []
        made.append(y)             # a list the call makes itself: stays in the graph
        return made[0] + 1

    c = minitorch.compile(f)
    x = minitorch.randn(4)
    for _ in range(4):
        same(c(x, seen), x * 2 + 1)
    assert holder.calls == 4 and state["n"] == 4 and seen == [3] * 4 and total[0] == 4
    assert len(c.graphs) == 2  # x * 2 before the side effects, the rest after them


def test_an_lr_scheduler_step_inside_a_compiled_step_runs_every_call():
    def run(compiled):
        minitorch.manual_seed(0)
        model = nn.Linear(3, 2)
        opt = minitorch.optim.SGD(model.parameters(), lr=1.0)
        sched = minitorch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)

        def step(x):
            loss = model(x).pow(2).mean()
            loss.backward()
            opt.step()
            sched.step()
            opt.zero_grad()
            return loss.detach()

        fn = minitorch.compile(step) if compiled else step
        x = minitorch.randn(4, 3, generator=minitorch.Generator().manual_seed(2))
        losses = [fn(x).item() for _ in range(5)]
        return losses, opt.param_groups[0]["lr"]
    want, lr = run(False)
    got, lr2 = run(True)
    np.testing.assert_allclose(got, want, rtol=1e-6)
    assert lr == lr2 == 0.5 ** 5


def test_a_list_made_before_the_break_and_read_after_it_stays_right():
    def f(x):
        outs = [x * i for i in range(3)]
        s = float(outs[2].sum())
        return minitorch.stack(outs) * s

    c = minitorch.compile(f)
    for _ in range(3):
        x = minitorch.randn(3)
        same(c(x), f(x))
    head = c._parts()[0]
    (entry,) = head._entries.values()
    assert entry.split and "holds an object made here" in str(entry.brk)


def test_fullgraph_names_a_python_side_effect():
    def f(x):
        y = x + 1
        print("hi")
        return y

    with pytest.raises(CompileError, match="print"):
        minitorch.compile(f, fullgraph=True)(minitorch.randn(2))


def _train(step_of, compiled, steps=6):
    minitorch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 8), nn.Dropout(0.3), nn.ReLU(), nn.Linear(8, 1))
    opt = minitorch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    sched = minitorch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.7)
    step = step_of(model, opt, sched)
    fn = minitorch.compile(step) if compiled else step
    gen = minitorch.Generator().manual_seed(3)
    data = [(minitorch.randn(6, 3, generator=gen), minitorch.randn(6, 1, generator=gen)) for _ in range(3)]
    minitorch.manual_seed(1)
    outs = [float(fn(*data[i % 3])) for i in range(steps)]
    return outs, [p.detach().numpy() for p in model.parameters()]


@pytest.mark.parametrize("variant", ["clip", "lr_item", "lr_method", "validate"])
def test_training_steps_that_read_python_state_after_the_backward_match_eager(variant):
    def step_of(model, opt, sched):
        def clip(x, y):
            opt.zero_grad()
            loss = F.mse_loss(model(x), y)
            loss.backward()
            norm = nn.utils.clip_grad_norm_(model.parameters(), 0.5)  # reads every .grad
            opt.step()
            return norm

        def lr_item(x, y):
            opt.zero_grad()
            loss = F.mse_loss(model(x), y) * opt.param_groups[0]["lr"]  # a value the scheduler changes
            loss.backward()
            opt.step()
            sched.step()
            return loss

        def lr_method(x, y):
            opt.zero_grad()
            loss = F.mse_loss(model(x), y)
            loss.backward()
            opt.step()
            sched.step()
            lr = sched.get_last_lr()[0]
            return loss * lr

        def validate(x, y):
            opt.zero_grad()
            loss = F.mse_loss(model(x), y)
            loss.backward()
            opt.step()
            model.eval()
            with minitorch.no_grad():
                val = F.mse_loss(model(x), y).item()
            model.train()
            return val
        return locals()[variant]
    want, wparams = _train(step_of, False)
    got, gparams = _train(step_of, True)
    np.testing.assert_allclose(got, want, rtol=1e-5)
    for a, b in zip(gparams, wparams):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_values_read_through_attributes_and_items_are_guards():
    state = {"k": 0}
    hist = []

    def f(x):
        return x * state["k"] + len(hist)

    c = minitorch.compile(f)
    x = minitorch.ones(2)
    for k in range(4):
        state["k"] = k
        hist.append(k)
        assert c(x).tolist() == [k + len(hist)] * 2

    class Holder:
        def __init__(self):
            self.n = 1
            self.__scale = 3.0  # a private name: the pieces are compiled outside the class

        def run(self, x):
            y = x * self.__scale
            self.n += 1
            return y + self.n

    h = Holder()
    run = minitorch.compile(h.run)  # a bound method is cut as its function
    for n in range(2, 6):
        assert run(x).tolist() == [3.0 + n] * 2
    assert h.n == 5 and run._effects


def test_items_read_with_a_key_from_an_argument_or_an_earlier_statement_are_guards():
    counts = {}
    table = {"a": 1.0, "b": 2.0}

    def f(x, name):
        k = name + "!"
        counts[k] = counts.get(k, 0) + 1  # a side effect: the function is cut here, k passed to the rest
        return x * counts[k] + table[name]

    c = minitorch.compile(f)
    x = minitorch.ones(2)
    for i in range(1, 5):
        assert c(x, "a").tolist() == [i + 1.0] * 2  # (was: the first call's count, 1, on every call)
    table["a"] = 10.0
    assert c(x, "a").tolist() == [5 + 10.0] * 2  # (was: the first value of table["a"])
    assert c(x, "b").tolist() == [1 + 2.0] * 2


def test_callables_without_source_guard_the_attributes_they_read():
    # a lambda, a partial and a callable object: their reads of an argument's or a global's attributes are guards
    # too (read from the bytecode, or through the partial's function and the object's __call__)
    import functools
    import types as pytypes

    holder = pytypes.SimpleNamespace(t=minitorch.ones(2), scale=1.0)

    class Scaler:
        def __call__(self, o, x):
            return x * o.scale + o.t

    def scaled(o, x):
        return x * o.scale + o.t

    fns = {"lambda": lambda o, x: x * o.scale + o.t, "partial": functools.partial(scaled, holder),
           "object": Scaler(), "global": eval("lambda o, x: x * GLOBAL_HOLDER.scale + o.t",
                                              {"GLOBAL_HOLDER": holder})}
    for name, fn in fns.items():
        c = minitorch.compile(fn)
        for k in range(4):
            holder.scale = float(k + 1)
            holder.t = minitorch.full((2,), 10.0 * k)
            args = (minitorch.ones(2),) if name == "partial" else (holder, minitorch.ones(2))
            assert c(*args).tolist() == fn(*args).tolist(), name  # (was: the first call's scale and t)


SCALES = [1.0]
TABLE = np.array([1.0, 2.0], dtype=np.float32)


def test_containers_and_arrays_changed_in_place_are_guards_and_generators_run_eagerly():
    # a list read whole (sum, iteration, tensor()), a NumPy array read into the graph, a module's list: changed in
    # place between calls, each is another value (was: the capture's contents on every call)
    def f(x, arr):
        return x * sum(SCALES) + minitorch.tensor(TABLE) + float(arr[0])

    c = minitorch.compile(f)
    arr = np.zeros(1)
    for k in range(4):
        x = minitorch.ones(2)
        assert c(x, arr).tolist() == f(x, arr).tolist()
        SCALES.append(1.0)
        TABLE[0] += 1
        arr[0] = k

    class Picks(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(2, 2)
            self.factors = [1.0]

        def forward(self, x):
            return self.lin(x) * sum(self.factors)

    class Hooked(nn.Module):  # (a hook: the outer forward is not read from its source; its module state is keyed)
        def __init__(self):
            super().__init__()
            self.inner = Picks()
            self.register_forward_hook(lambda m, i, o: None)

        def forward(self, x):
            return self.inner(x)

    m = Hooked()
    c = minitorch.compile(m)
    for _ in range(3):
        x = minitorch.ones(1, 2)
        np.testing.assert_array_equal(c(x).detach().numpy(), m(x).detach().numpy())
        m.inner.factors.append(2.0)

    def counting(x):
        for k in range(2):
            yield x * k

    c = minitorch.compile(counting)
    for v in (1.0, 5.0, 7.0):
        x = minitorch.full((2,), v)
        assert [t.tolist() for t in c(x)] == [[0.0, 0.0], [v, v]]  # (was: the first call's spent generator)


def test_math_calls_named_like_loggers_are_ops_and_numbers_of_other_types_capture_apart():
    def nll(p, t):
        return -(p.log() * t).sum() + minitorch.log(p).mean()

    c = minitorch.compile(nll, fullgraph=True)  # .log() of a tensor is no Python side effect
    p, t = minitorch.rand(4) + 0.1, minitorch.ones(4)
    np.testing.assert_allclose(c(p, t).item(), nll(p, t).item(), rtol=1e-6)
    assert not c._effects

    g = minitorch.compile(lambda x, n: x + n)
    xi = minitorch.arange(3)
    assert [g(xi, n).dtype for n in (1.0, 1, True)] == [minitorch.float32, minitorch.int64, minitorch.int64]
    s = minitorch.compile(lambda x: (x * 2).size())
    s(minitorch.ones(2, 3))
    assert type(s(minitorch.ones(2, 3))) is minitorch.Size


def test_an_inner_function_that_writes_a_local_keeps_the_function_whole():
    def f(x):
        y = x * 2

        def bump():
            nonlocal y
            y = y + 1
        bump()
        v = y.sum().item()
        bump()
        return y + v * 0

    c = minitorch.compile(f)
    x = minitorch.zeros(2)
    for _ in range(3):
        assert c(x).tolist() == f(x).tolist() == [2.0, 2.0]
    (entry,) = c._entries.values()
    assert entry.resume is None


def test_python_random_draws_and_properties_are_read_on_every_call():
    import random

    class Counter:
        def __init__(self):
            self.n = 0

        @property
        def step(self):  # runs code on every read
            self.n += 1
            return self.n

    ctr = Counter()

    def draw(x):
        return x * random.random()  # the only statement: the whole function runs eagerly

    def prop(x):
        y = x * 2
        return y * ctr.step

    x = minitorch.ones(2)
    for fn in (draw, prop):
        c = minitorch.compile(fn)
        random.seed(5)
        got = [c(x).tolist() for _ in range(5)]
        random.seed(5)
        ctr.n = 0
        want = [fn(x).tolist() for _ in range(5)]
        ctr.n = 0
        assert got != [got[0]] * 5
        np.testing.assert_allclose(got, want if fn is draw else [[2.0 * k] * 2 for k in range(1, 6)], rtol=1e-6)


def test_reading_a_dict_and_attributes_through_getattr_stays_compiled_and_guarded():
    lin = nn.Linear(2, 2)
    cfg = type("Cfg", (), {"scale": 1.0})()

    def f(x, batch):
        tot = x * getattr(cfg, "scale", 3.0)
        for k, v in batch.items():  # a read of a dict the function did not make: no side effect
            tot = tot + lin(v)
        return tot

    c = minitorch.compile(f)
    x, batch = minitorch.ones(2), {"a": minitorch.randn(2), "b": minitorch.randn(2)}
    for scale in (1.0, 2.0, 5.0):
        cfg.scale = scale
        same(c(x, batch), f(x, batch))
    assert not c._effects and len(c.graphs) == 3


def test_an_autocast_region_inside_a_compiled_function_matches_eager():
    minitorch.manual_seed(0)
    m = nn.Linear(4, 1)
    x = minitorch.randn(3, 4)

    def f(x):
        with minitorch.autocast("cpu", dtype=minitorch.bfloat16):
            y = m(x)
        return y.float().sum()

    c = minitorch.compile(f)
    want = f(x).item()
    assert [c(x).item() for _ in range(4)] == [want] * 4


def test_a_module_forward_is_cut_at_its_break_and_around_its_side_effects():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(4, 8)
            self.drop = nn.Dropout(0.5)
            self.b = nn.Linear(8, 2)
            self.calls = 0

        def forward(self, x):
            self.calls += 1  # runs on every call
            h = self.drop(self.a(x)).relu()
            scale = 2.0 if h.sum().item() > 0 else 0.5  # a break: forward is cut here
            return self.b(h * scale).tanh()

    minitorch.manual_seed(0)
    model = Net()
    c = minitorch.compile(model)
    x = minitorch.randn(3, 4)
    model.eval()
    for _ in range(3):
        same(c(x), model(x))
    model.train()
    minitorch.manual_seed(1)
    got = [c(x) for _ in range(3)]
    minitorch.manual_seed(1)
    want = [model(x) for _ in range(3)]
    for a, b in zip(got, want):
        same(a, b)
    got[-1].sum().backward()
    assert model.a.weight.grad is not None
    assert model.calls == 12
    assert c._compiled._effects and len(c._compiled._parts()) >= 2


def test_an_onnx_export_lets_a_print_in_forward_pass():
    pytest.importorskip("onnx")

    class Printing(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(3, 2)

        def forward(self, x):
            print("forward", x.shape)
            return self.lin(x).relu()

    import io
    buf = io.BytesIO()
    minitorch.onnx.export(Printing(), (minitorch.randn(2, 3),), buf)
    assert len(buf.getvalue()) > 0


def test_a_forward_that_calls_super_is_cut_and_its_counter_runs_every_call():
    class Counted(nn.Linear):
        def __init__(self):
            super().__init__(4, 3)
            self.n = 0
            self.log = []

        def forward(self, x):
            self.n += 1
            y = super().forward(x)
            self.log.append(y.mean().item())
            return y.tanh() * self.log[-1]  # read after the break: a guard, not a constant

    minitorch.manual_seed(0)
    m = Counted()
    c = minitorch.compile(m)
    for _ in range(5):
        x = minitorch.randn(2, 4)
        got = c(x)
        same(got, (x @ m.weight.T + m.bias).tanh() * m.log[-1])
    assert m.n == 5 and len(m.log) == 5
    assert c._compiled._captures == 0 and c._compiled._effects  # never captured whole: cut around its effects


def test_a_module_reading_a_dict_and_a_list_it_holds_captures_again_when_they_change():
    class Scaled(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(4, 4)
            self.cfg = {"p": 1.0}
            self.vals = [1.0]

        def forward(self, x):
            return self.lin(x) * self.cfg["p"] + self.vals[0]

    m = Scaled()
    c = minitorch.compile(m)
    x = minitorch.randn(3, 4)
    for i in range(4):
        m.cfg["p"], m.vals[0] = float(i), 3.0 * i
        same(c(x), m.lin(x) * float(i) + 3.0 * i)


HISTORY = []


def record(t):
    HISTORY.append(t.detach().sum().item())


def record_twice(t):  # two levels down
    record(t)
    record(t * 2)


def pure_helper(t):
    u = t * 3
    return u.relu()


def test_side_effects_inside_helper_functions_run_on_every_call():
    HISTORY.clear()

    def f(x):
        y = x + 1
        record_twice(y)
        return pure_helper(y)

    c = minitorch.compile(f)
    for i in range(4):
        x = minitorch.full((3,), float(i))
        same(c(x), ((x + 1) * 3).relu())
    assert HISTORY == [v for i in range(4) for v in (3 * (i + 1.0), 6 * (i + 1.0))]
    assert c._effects.eager == [False, True, False]  # the helper's statement alone runs eagerly
    why = str(c._effects.why[0])
    assert "record_twice()" in why and "record()" in why and ".append()" in why
    # a helper without effects is looked into and compiled with the rest
    c = minitorch.compile(lambda x: pure_helper(x) + 1)
    x = minitorch.randn(5)
    same(c(x), pure_helper(x) + 1)
    assert c._effects is False and len(c.graphs) == 1


def test_a_submodule_whose_forward_changes_python_state_runs_it_every_call():
    log = []

    class Logged(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(3, 3)

        def forward(self, x):
            log.append(x.shape[0])  # not an attribute of the module: the module-state check cannot see it
            return self.lin(x)

    class Outer(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.ReLU(), Logged())

        def forward(self, x):
            return self.body(x).tanh()

    class Looped(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList([Logged(), Logged()])

        def forward(self, x):
            for layer in self.layers:  # called through a loop variable: the call cannot be followed by name
                x = layer(x)
            return x * 2

    for m, ref in ((Outer(), lambda m, x: m.body[1].lin(x.relu()).tanh()),
                   (Looped(), lambda m, x: m.layers[1].lin(m.layers[0].lin(x)) * 2)):
        c = minitorch.compile(m)
        log.clear()
        for n in (2, 2, 5, 2):
            x = minitorch.randn(n, 3)
            same(c(x), ref(m, x))  # (the reference calls the Linear layers only: it logs nothing)
        assert log == [2, 2, 5, 2] if isinstance(m, Outer) else [2, 2, 2, 2, 5, 5, 2, 2]
        assert "Logged.forward()" in str(c._compiled._effects.why[0])


def test_library_functions_are_not_looked_into():
    import copy
    import functools

    from minitorch.compiler import resume
    assert not resume._own(copy.deepcopy) and not resume._own(functools.reduce)
    assert not resume._own(minitorch.nn.functional.relu) and resume._own(record)

    def f(x):  # deepcopy writes its memo, an argument: the library's business, not a side effect of f
        return copy.deepcopy([x])[0] * 2

    c = minitorch.compile(f)
    x = minitorch.randn(3)
    same(c(x), x * 2)
    assert c._effects is False


def test_changes_through_aliases_of_objects_the_function_did_not_make_run_every_call():
    hist, state = [], {"log": []}

    class Holder:
        vals = None
    obj = Holder()
    obj.vals = []

    def f(x, extra):
        y = x * 2
        h = hist               # an alias: appending to it appends to hist
        h.append(1)
        d = state.get("log")
        d.append(2)
        for lst in (hist, obj.vals):
            lst.append(3)
        v = obj.vals
        v += [4]               # list += extends the list in place
        extra += [5]
        mine = []
        mine.append(y)         # a list the call made: stays in the graph
        return mine[0] + 1

    c = minitorch.compile(f)
    more = []
    for _ in range(3):
        x = minitorch.randn(2)
        same(c(x, more), x * 2 + 1)
    assert hist == [1, 3] * 3 and state["log"] == [2] * 3 and obj.vals == [3, 4] * 3 and more == [5] * 3
    assert c._effects.eager[0] is False and c._effects.eager[-1] is False

    def g(x, n):
        n += 1                 # an int argument: rebinding a local, not an effect
        x = x * 2
        x += n                 # a tensor: in the graph
        return x
    c = minitorch.compile(g)
    x = minitorch.randn(3)
    same(c(x, 2), x * 2 + 3)
    assert c._effects is False


def _record_out(mod, inp, out):
    HOOKED["fwd"].append(out.shape[0])


def _record_grad(mod, gin, gout):
    HOOKED["bwd"].append(gout[0].shape[0])


def _double(mod, inp, out):  # changes the output only: no Python side effect
    return out * 2


HOOKED = {"fwd": [], "bwd": []}


def test_module_hooks_with_side_effects_run_on_every_call():
    class Outer(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.Linear(3, 3), nn.Linear(3, 3)

        def forward(self, x):
            h = self.a(x).relu()
            return self.b(h).sum()

    m, ref = Outer(), Outer()
    ref.load_state_dict(m.state_dict())
    for mm in (m, ref):
        mm.a.register_forward_hook(_record_out)
        mm.b.register_full_backward_hook(_record_grad)
        mm.b.register_forward_hook(_double)
    c = minitorch.compile(m)
    HOOKED["fwd"].clear()
    HOOKED["bwd"].clear()
    for n in (2, 2, 3):
        x = minitorch.randn(n, 3)
        out = c(x)
        out.backward()
        want = ref(x)
        want.backward()
        same(out, want)
    # each call appends twice: the compiled model's hook, then the reference's
    assert HOOKED["fwd"] == [2, 2, 2, 2, 3, 3] and HOOKED["bwd"] == [2, 2, 2, 2, 3, 3]
    for p, q in zip(m.parameters(), ref.parameters()):
        same(p.grad, q.grad)

    # a hook on the compiled module itself (a lambda: its source cannot be read, so it counts as an effect)
    top = nn.Linear(3, 3)
    seen = []
    top.register_forward_hook(lambda mod, inp, out: seen.append(1))
    c = minitorch.compile(top)
    for _ in range(3):
        c(minitorch.randn(2, 3))
    assert seen == [1, 1, 1]

    # a pure hook of the program's own code does not stop the capture
    pure = nn.Linear(3, 3)
    pure.register_forward_hook(_double)
    c = minitorch.compile(pure)
    x = minitorch.randn(2, 3)
    for _ in range(2):
        same(c(x), pure(x))
    (entry,) = c._compiled._entries.values()
    assert entry.program is not None and entry.brk is None


def _log_square(v, log=HISTORY):
    log.append(float(v.sum()))
    return v * v


def test_side_effects_of_calls_the_source_does_not_name_run_on_every_call():
    # callbacks reached through a list argument, a loop index and a lambda: the source cannot name them, so the
    # capture watches the calls the program makes and breaks at the statement whose call has an effect
    HISTORY.clear()
    seen = []

    def through_a_list(x, callbacks):
        y = x * 3
        callbacks[0](y)
        return y + 1

    c = minitorch.compile(through_a_list)
    for i in range(3):
        x = minitorch.full((2,), float(i))
        same(c(x, [lambda v: seen.append(v.sum().item())]), x * 3 + 1)
    assert seen == [0.0, 6.0, 12.0]  # (was: appended at the capture only)
    (brk,) = explain(through_a_list, minitorch.ones(2), [lambda v: seen.append(1)]).break_reasons
    assert "a Python side effect" in brk.reason and ".append()" in brk.reason

    steps = [pure_helper, _log_square]

    def by_index(x):
        for i in range(2):
            x = steps[i](x)
        return x - 1

    c = minitorch.compile(by_index)
    for i in range(3):
        x = minitorch.full((2,), float(i + 1))
        same(c(x), ((x * 3).relu() ** 2) - 1)
    assert HISTORY == [6.0 * (i + 1) for i in range(3)]

    with pytest.raises(CompileError, match="a Python side effect"):
        minitorch.compile(through_a_list, fullgraph=True)(minitorch.ones(2), [lambda v: seen.append(1)])


class _Pair:
    def __init__(self, a, b):
        self.a, self.b = a, b  # making an object is not a side effect on another one


def test_calls_without_side_effects_that_the_source_does_not_name_stay_in_one_graph():
    acts = [pure_helper, lambda v: v.tanh(), minitorch.relu]

    def f(x):
        for act in acts:
            x = act(x)
        p = _Pair(x, x * 2)
        return p.a + p.b

    c = minitorch.compile(f)
    x = minitorch.randn(4)
    for _ in range(2):
        same(c(x), f(x))
    (entry,) = c._entries.values()
    assert entry.program is not None and entry.brk is None


def test_functions_and_hooks_of_installed_packages_are_looked_into(tmp_path, monkeypatch):
    import importlib.util

    from minitorch.compiler import resume
    src = tmp_path / "somepkg_meter.py"
    src.write_text(textwrap.dedent("""
        class Meter:
            def __init__(self):
                self.n = 0

            def update(self, v):
                self.n += 1
                return v

        def count_hook(module, inputs, output):
            module.calls = getattr(module, "calls", 0) + 1
    """))
    spec = importlib.util.spec_from_file_location("somepkg_meter", src)
    pkg = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(pkg)
    monkeypatch.setitem(resume._KIND, str(src), "library")  # as if installed in site-packages
    meter = pkg.Meter()

    def f(x, meters):
        y = x.exp()
        meters[0].update(y)
        return y * 2

    c = minitorch.compile(f)
    for _ in range(3):
        x = minitorch.randn(3)
        same(c(x, [meter]), x.exp() * 2)
    assert meter.n == 3

    lin = nn.Linear(2, 2)
    lin.register_forward_hook(pkg.count_hook)
    c = minitorch.compile(lin)
    for _ in range(3):
        c(minitorch.randn(1, 2))
    assert lin.calls == 3


def _closing_generator(holder, log):
    try:
        yield 1
        yield 2
    finally:
        log.append("closed")


def test_garbage_collected_while_capturing_is_not_a_call_of_the_program():
    # a started generator of the program in a reference cycle, collected in the middle of the capture, runs its
    # ``finally`` there: that is not a call the compiled function makes, so it breaks nothing
    import gc

    closed = []

    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(4, 4)

        def forward(self, x):
            h = self.lin(x)
            gc.set_threshold(1)  # a collection at the next allocations
            rows = [[i] for i in range(50)]
            return h.tanh() * len(rows)

    m = M()
    c = minitorch.compile(m)
    x = minitorch.randn(2, 4)
    before = gc.get_threshold()
    try:
        gc.set_threshold(10 ** 6)
        for _ in range(20):
            holder = {}
            g = _closing_generator(holder, closed)
            holder["g"] = g
            g.send(None)
        del holder, g
        same(c(x), m.lin(x).tanh() * 50)
    finally:
        gc.set_threshold(*before)
    same(c(x), m.lin(x).tanh() * 50)
    (entry,) = c._compiled._entries.values()
    assert entry.brk is None and entry.program is not None


NOTES = []


@minitorch.no_grad()
def _noted_without_grad(t):
    NOTES.append(len(NOTES))
    return t * 2


def test_a_helper_under_a_decorator_is_looked_into_through_its_wrapper():
    NOTES.clear()

    def f(x):
        y = _noted_without_grad(x)
        return y + 1

    c = minitorch.compile(f)
    x = minitorch.randn(3)
    for _ in range(3):
        same(c(x), x * 2 + 1)
    assert NOTES == [0, 1, 2]  # (was: appended at the capture only: the wrapper is minitorch's code)
    assert "_noted_without_grad()" in str(c._effects.why[0])


def test_program_functions_that_minitorch_calls_are_looked_into():
    # a checkpointed function and the forward of a submodule reached through a list are the program's code called
    # by minitorch's (checkpoint, Module.__call__): their effects run on every call too
    from minitorch.utils.checkpoint import checkpoint
    seen = []

    def block(h):
        seen.append(1)
        return h.tanh() * 2

    def f(x):
        y = x + 1
        return checkpoint(block, y, use_reentrant=False).sum()

    for fn in (f, minitorch.compile(f)):
        seen.clear()
        for i in range(3):
            x = minitorch.randn(4, requires_grad=True)
            want = (x.detach() + 1).tanh().mul(2).sum()
            got = fn(x)
            same(got, want)
            got.backward()
            same(x.grad, 2 * (1 - (x.detach() + 1).tanh() ** 2))
        assert len(seen) == 6  # each forward and each recomputation in the backward (compiled, was: 2)

    class Counted(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(3, 3)
            self.calls = 0

        def forward(self, x):
            self.calls += 1
            return self.lin(x).relu()

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = nn.ModuleList([Counted(), Counted()])

        def forward(self, x):
            todo = list(self.blocks)
            for i in range(len(todo)):
                x = todo[i](x)
            return x * 2

    net = Net()
    c = minitorch.compile(net)
    x = minitorch.randn(2, 3)
    for _ in range(4):
        same(c(x), net.blocks[1].lin(net.blocks[0].lin(x).relu()).relu() * 2)
    assert [b.calls for b in net.blocks] == [4, 4]  # (was: [1, 1])
    with pytest.raises(CompileError, match="Counted.forward"):
        minitorch.compile(Net(), fullgraph=True)(x)


@pytest.mark.parametrize("sets_itself", [False, True])
def test_a_trace_function_set_before_still_sees_the_calls_and_effects_are_still_found(sets_itself):
    # a debugger or a coverage tool holds sys.settrace: the capture's watcher hands every call on to it (one that
    # sets itself again whenever it is called, as coverage's C tracer does, is set aside again after each call)
    import sys
    events = []

    def tool(frame, event, arg):  # a coverage-like tool: the lines run in this file's helpers
        if sets_itself and event == "call":
            sys.settrace(tool)
        if frame.f_code.co_filename == __file__:
            events.append((event, frame.f_code.co_name))
            return tool
        return None

    kept = []

    def keep(v):
        kept.append(1)
        return v * 3

    def f(x, fns):
        for i in range(len(fns)):
            x = fns[i](x + 1)
        return x.relu()

    c = minitorch.compile(f)
    before = sys.gettrace()
    sys.settrace(tool)
    try:
        for _ in range(3):
            x = minitorch.randn(4)
            same(c(x, [keep]), ((x + 1) * 3).relu())
        inside = sys.gettrace()
    finally:
        sys.settrace(before)
    assert inside is tool
    assert len(kept) == 3  # the effect is found while the tool traces (was: 1, the capture's)
    assert ("call", "keep") in events and ("line", "keep") in events and ("call", "f") in events


def test_tensor_identity_traits_and_process_settings_are_followed_on_every_call():
    # is_leaf / a view / the storage offset / aliasing by memory: each is part of the key or a break; a setting
    # of the process (default dtype, grad mode left switched) is set again on every call
    def by_leaf(x):
        return x * (1 if x.is_leaf else 2)

    def by_view(x):
        return x * (2 if x._base is None else 5)

    def by_offset(x):
        return x * (x.storage_offset() + 1)

    def by_memory(a, b):
        return a + (1 if a.data_ptr() == b.data_ptr() else 0)

    base = minitorch.arange(6.0)
    leaf = minitorch.ones(3, requires_grad=True)
    for fn, calls in ((by_leaf, [(leaf,), (leaf * 1,)]),
                      (by_view, [(minitorch.ones(3),), (minitorch.ones(4)[1:],)]),
                      (by_offset, [(base[0:3],), (base[1:4],), (base[2:5],)]),
                      (by_memory, [(base[:3], base[:3].clone()), (base[:3], base[:3].view(3))])):
        c = minitorch.compile(fn)
        for args in calls * 2:
            np.testing.assert_array_equal(c(*args).detach().numpy(), fn(*args).detach().numpy(), err_msg=fn.__name__)

    def sets_dtype(x):
        minitorch.set_default_dtype(minitorch.float64)
        return x * 2

    def leaves_no_grad(x):
        minitorch.set_grad_enabled(False)
        return x * 2

    for fn, reset, read in ((sets_dtype, lambda: minitorch.set_default_dtype(minitorch.float32),
                             minitorch.get_default_dtype),
                            (leaves_no_grad, lambda: minitorch.set_grad_enabled(True), minitorch.is_grad_enabled)):
        c = minitorch.compile(fn)
        try:
            for _ in range(3):
                reset()
                fn(minitorch.ones(2))
                want = read()
                reset()
                c(minitorch.ones(2))
                assert read() == want, fn.__name__  # (was: set by the capture only)
        finally:
            minitorch.set_default_dtype(minitorch.float32)
            minitorch.set_grad_enabled(True)


def test_views_the_graph_returns_share_memory_bookkeeping_as_eager():
    # a view of a tensor made inside the graph, without autograd: on compiled calls (same size and symbolic sizes)
    # it names its base and shares its version counter, so an in-place op with autograd on it reaches the base;
    # a detached tensor shares the counter but names no base; an unchanged view is still another tensor
    def f(x):
        y = x * 2
        return y, y[1:], y.detach(), y.view(y.shape)

    c = minitorch.compile(f)
    for n in (4, 5, 4, 6, 7):
        x = minitorch.randn(n, 3)
        grads = []
        for fn in (f, c):
            y, v, d, same_shape = fn(x)
            assert v._base is y and v._vc is y._vc, n  # (was: no base and a counter of its own)
            assert d._base is None and d._vc is y._vc, n
            assert same_shape is not y and same_shape._base is y, n
            w = minitorch.tensor(2.0, requires_grad=True)
            v.mul_(w)
            y.sum().backward()   # (was: y has no grad_fn)
            grads.append(w.grad.item())
        assert grads[0] == pytest.approx(grads[1]), n


SCALE = 2.0   # read by the modules and helpers of the next test
_MODEL = _OPT = None


def _scaled(y):
    return y * SCALE


class _Inner(nn.Module):
    scale = 2.0   # a class attribute the forward reads

    def __init__(self, cfg):
        super().__init__()
        self.lin = nn.Linear(3, 3)
        self.cfg = cfg
        self.act = minitorch.relu
        self.dt = minitorch.float32

    def forward(self, x):
        y = self.act(self.lin(x) * self.cfg.scale * self.scale)
        return y, y.to(self.dt)


class _Outer(nn.Module):
    def __init__(self):
        super().__init__()
        self.inner = _Inner(types.SimpleNamespace(scale=2.0))
        self.extra = [nn.Linear(3, 3)]   # a plain list: not a registered submodule

    def forward(self, x):
        h, d = self.inner(x)
        return _scaled(self.extra[0](h)) + SCALE, d


def test_python_state_read_inside_submodules_and_helpers_is_guarded(monkeypatch):
    # what submodules' forwards and the program's helpers read (an object's attribute, a class attribute, a
    # function or dtype held by a module, a global, a module held in a plain list or rebound globally) was baked
    # into the graph unseen: each change below gave the old result
    changes = [lambda m: setattr(m.inner.cfg, "scale", 5.0),
               lambda m: setattr(type(m.inner), "scale", 3.0),
               lambda m: setattr(m.inner, "act", minitorch.tanh),
               lambda m: setattr(m.inner, "dt", minitorch.float64),
               lambda m: monkeypatch.setitem(globals(), "SCALE", 4.0),
               lambda m: setattr(m.extra[0], "weight", nn.Parameter(minitorch.ones(3, 3)))]
    x = minitorch.randn(2, 3)
    for k, change in enumerate(changes):
        monkeypatch.setattr(_Inner, "scale", 2.0)
        monkeypatch.setitem(globals(), "SCALE", 2.0)
        minitorch.manual_seed(k)
        model = _Outer()
        c = minitorch.compile(model)
        for i in range(4):
            if i == 2:
                change(model)
            for got, want in zip(c(x), model(x)):
                assert got.dtype == want.dtype, (k, i)
                np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-6,
                                           err_msg=f"{k} {i}")

    # a module or optimizer rebound globally, a module replaced on an argument
    holder = types.SimpleNamespace(m=nn.Linear(3, 2))
    monkeypatch.setitem(globals(), "_MODEL", nn.Linear(3, 2))

    def f(x, h):
        return _MODEL(x) + h.m(x)

    c = minitorch.compile(f)
    for i in range(4):
        if i == 2:
            monkeypatch.setitem(globals(), "_MODEL", nn.Linear(3, 2))
        if i == 3:
            holder.m = nn.Linear(3, 2)
        np.testing.assert_allclose(c(x, holder).detach().numpy(), f(x, holder).detach().numpy(), rtol=1e-6)
    net = nn.Linear(3, 1)
    monkeypatch.setitem(globals(), "_OPT", minitorch.optim.SGD(net.parameters(), lr=0.1))

    def step():
        _OPT.step()

    s = minitorch.compile(step)
    for i in range(4):
        if i == 2:
            monkeypatch.setitem(globals(), "_OPT", minitorch.optim.SGD(net.parameters(), lr=1.0))
        net.zero_grad()
        net(x).sum().backward()
        before = net.weight.detach().clone()
        g = net.weight.grad.clone()
        s()
        np.testing.assert_allclose((before - net.weight.detach()).numpy(), (g * (0.1 if i < 2 else 1.0)).numpy(),
                                   rtol=1e-5)
