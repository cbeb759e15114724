"""minitorch.compile where the program changes tensors in place: writes between reads of a fused chain, in-place
view ops and resized outputs, tensors read from globals given new data, version counters on replays and in the
compiled backward; plus what a call hands back (sizes), the inference-mode guard and the compiled module wrapper
(hooks, attributes, pickling)."""
import copy
import pickle

import numpy as np
import pytest

import minitorch
import minitorch.nn as nn


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MINITORCH_COMPILE_CACHE", str(tmp_path / "compiled"))


def both(fn, make, calls=3):
    """fn eagerly and compiled on fresh arguments from make(), ``calls`` times: [(eager, compiled, args_e, args_c)]"""
    c = minitorch.compile(fn)
    out = []
    for _ in range(calls):
        ae, ac = make(), make()
        out.append((fn(*ae), c(*ac), ae, ac))
    return out


def test_a_chain_that_read_an_input_before_an_in_place_write_is_not_fused_past_the_write():
    def f(x):
        a = x * 2
        x.add_(1)
        return a + x * 3

    for e, c, ae, ac in both(f, lambda: (minitorch.zeros(4),)):
        assert e.tolist() == c.tolist() == [3.0] * 4
        assert ae[0].tolist() == ac[0].tolist() == [1.0] * 4


@pytest.mark.parametrize("op", ["unsqueeze_", "t_", "transpose_", "squeeze_", "resize_"])
def test_in_place_view_ops_on_an_argument_change_its_shape_on_every_call(op):
    args = {"unsqueeze_": (0,), "t_": (), "transpose_": (0, 1), "squeeze_": (), "resize_": (3, 2)}[op]

    def f(x):
        getattr(x, op)(*args)
        return x + 1

    make = (lambda: (minitorch.ones(2, 3),)) if op != "squeeze_" else (lambda: (minitorch.ones(1, 3),))
    for e, c, ae, ac in both(f, make):
        assert ac[0].shape == ae[0].shape and c.shape == e.shape
        assert minitorch.equal(c, e)


def test_an_in_place_transpose_of_a_tensor_the_call_made_is_seen_by_later_ops():
    def f(x):
        y = x * 2
        y.t_()
        return y + minitorch.arange(4.0)

    x = minitorch.randn(4, 5)
    for e, c, _, _ in both(f, lambda: (x,)):
        assert c.shape == e.shape == (5, 4) and minitorch.equal(c, e)


def test_an_out_argument_of_another_size_is_resized_on_every_call():
    def f(x, out):
        minitorch.add(x, 1, out=out)
        return out

    x = minitorch.randn(2, 3)
    for e, c, ae, ac in both(f, lambda: (x, minitorch.empty(0))):
        assert ac[1].shape == ae[1].shape == (2, 3) and minitorch.equal(c, e)


def test_sizes_a_call_returns_are_plain_ints_and_follow_the_size():
    def f(x):
        return x.shape, x.shape[0] * 3, x.size(0)

    c = minitorch.compile(f)
    for n in (3, 4, 5, 5, 6, 6, 3):
        got = c(minitorch.zeros(n, 2))
        assert got == ((n, 2), 3 * n, n)
        assert type(got[0]) is minitorch.Size and all(type(v) is int for v in (*got[0], got[1], got[2]))


def test_a_global_tensor_given_new_data_of_another_shape_or_dtype_is_read_anew():
    w = minitorch.ones(3)

    def f(x):
        return x * w

    c = minitorch.compile(f)
    x = minitorch.ones(3)
    c(x), c(x)
    w.data = minitorch.full((2, 3), 2.0)
    assert c(x).shape == (2, 3) and c(x).tolist() == [[2.0] * 3] * 2
    w.data = minitorch.full((3,), 3.0, dtype=minitorch.float64)
    got = c(x)
    assert got.dtype == minitorch.float64 and got.tolist() == [3.0] * 3


def test_replays_raise_the_version_of_a_tensor_written_in_place():
    def bump(x):
        x.add_(1)
        return x * 1

    c = minitorch.compile(bump)
    for _ in range(3):
        w = minitorch.ones(3, requires_grad=True)
        x = minitorch.ones(3)
        y = (w * x).sum()  # saves x
        c(x)
        assert x._version == 1
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.backward()


def test_the_compiled_backward_refuses_a_parameter_written_since_the_forward():
    minitorch.manual_seed(0)
    m = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    c = minitorch.compile(m)
    for _ in range(3):
        out = c(minitorch.randn(2, 3))
        with minitorch.no_grad():
            m[2].weight.mul_(2)  # read by the backward (the gradient of the hidden layer)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            out.sum().backward()
    out = c(minitorch.randn(2, 3))
    out.sum().backward()  # nothing written: fine
    assert m[0].weight.grad is not None


def test_a_graph_captured_under_no_grad_is_not_replayed_under_inference_mode():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(3, 2)

        def forward(self, x):
            y = self.lin(x)
            return y * 2 if minitorch.is_inference_mode_enabled() else y

    m = M()
    c = minitorch.compile(m)
    x = minitorch.randn(2, 3)
    with minitorch.no_grad():
        c(x), c(x)
    with minitorch.inference_mode():
        assert minitorch.equal(c(x), m(x))
    with minitorch.no_grad():
        assert minitorch.equal(c(x), m.lin(x))


def test_hooks_on_the_compiled_module_run_and_attributes_go_to_the_original():
    m = nn.Linear(4, 2)
    c = minitorch.compile(m)
    seen = []
    c.register_forward_pre_hook(lambda mod, inp: seen.append("pre"))
    h = c.register_forward_hook(lambda mod, inp, out: out * 10)
    x = minitorch.randn(3, 4)
    assert minitorch.allclose(c(x), m(x) * 10) and seen == ["pre"]
    h.remove()
    assert minitorch.allclose(c(x), m(x))
    c.flag = 3
    assert m.flag == 3 and "flag" not in c.__dict__
    m.eval()
    assert c.training is False
    c.train()
    assert m.training is True and c.training is True


def test_a_compiled_module_pickles_and_copies_as_the_original_module_compiled_again():
    minitorch.manual_seed(0)
    m = nn.Sequential(nn.Linear(4, 3), nn.ReLU())
    c = minitorch.compile(m)
    x = minitorch.randn(2, 4)
    want = c(x)
    for other in (pickle.loads(pickle.dumps(c)), copy.deepcopy(c)):
        assert type(other).__name__ == "OptimizedModule" and other._orig_mod is not m
        assert np.array_equal(other(x).detach().numpy(), want.detach().numpy())
        assert list(other.state_dict()) == list(c.state_dict())


def test_pow_of_one_half_is_a_square_root_and_a_zero_exponent_has_zero_gradient():
    torch = pytest.importorskip("torch")
    vals = [float("-inf"), -0.0, 0.0, 4.0, 2.0]
    got = minitorch.tensor(vals) ** 0.5
    want = torch.tensor(vals) ** 0.5
    assert str(got.tolist()) == str(want.tolist())
    x = minitorch.tensor([0.0, 2.0], requires_grad=True)
    (x ** 0.0).sum().backward()
    xt = torch.tensor([0.0, 2.0], requires_grad=True)
    (xt ** 0.0).sum().backward()
    assert x.grad.tolist() == xt.grad.tolist() == [0.0, 0.0]
    c = minitorch.compile(lambda v: (v * 1.0) ** 0.5)
    for _ in range(3):
        assert str(c(minitorch.tensor(vals)).tolist()) == str(want.tolist())


class _Cfg:
    scale = 1.0


CFG = _Cfg()


def _scaled(h):
    return h * CFG.scale


def test_an_attribute_of_a_global_read_by_a_helper_or_a_hook_is_read_again_on_every_call():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(3, 2)

        def forward(self, x):
            return _scaled(self.lin(x))  # the helper reads CFG.scale, not the compiled forward

    minitorch.manual_seed(0)
    m = M()
    lin = nn.Linear(3, 2)
    lin.register_forward_hook(lambda mod, inp, out: out * CFG.scale)
    x = minitorch.randn(2, 3)
    for c, ref in ((minitorch.compile(m), m), (minitorch.compile(lin), lin)):
        CFG.scale = 1.0
        c(x), c(x)
        CFG.scale = 2.0
        assert minitorch.equal(c(x), ref(x))
        CFG.scale = 1.0
        assert minitorch.equal(c(x), ref(x))


def test_ops_another_thread_runs_during_a_capture_stay_out_of_the_graph():
    import sys
    import threading
    stop = threading.Event()

    def other():
        a = minitorch.randn(7)
        while not stop.is_set():
            (a * 3).exp()
            minitorch.ones(5) + 1

    def f(x):
        y = x
        for _ in range(100):
            y = y * 1.0001 + 0.001
        return y

    c = minitorch.compile(f)
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    t = threading.Thread(target=other)
    t.start()
    try:
        with minitorch.no_grad():
            for i in range(4):
                x = minitorch.randn(4 + i % 2)
                assert minitorch.equal(c(x), f(x))
    finally:
        stop.set()
        t.join()
        sys.setswitchinterval(interval)


def test_floating_point_contraction_is_off_unless_the_inductor_config_asks(monkeypatch):
    from minitorch._inductor import config

    def gelu(x):
        return 0.5 * x * (1.0 + minitorch.tanh(0.7978845608 * (x + 0.044715 * x * x * x)))

    x = minitorch.randn(1000)
    c = minitorch.compile(gelu)
    with minitorch.no_grad():
        assert minitorch.equal(c(x), gelu(x)) and minitorch.equal(c(x), gelu(x))
        assert "contract" not in c.code
        off = {n.target.hash for g in c.graphs for n in g.nodes if n.kind == "fused"}
        minitorch.compiler.reset()
        monkeypatch.setattr(config.cpp, "enable_floating_point_contract_flag", "on")
        c = minitorch.compile(gelu)
        c(x)
        assert "fastmath={'contract'}" in c.code
        on = {n.target.hash for g in c.graphs for n in g.nodes if n.kind == "fused"}
        assert off and on and not off & on  # another kernel module, not the one loaded before
        np.testing.assert_allclose(c(x).numpy(), gelu(x).numpy(), rtol=1e-6, atol=1e-7)
    minitorch.compiler.reset()


def test_a_global_tensor_given_new_data_every_call_is_captured_again_in_place_of_the_old_graph():
    w = minitorch.ones(3)

    def f(x):
        return x * w + 1

    c = minitorch.compile(f)
    x = minitorch.ones(3)
    for _ in range(8):
        assert minitorch.equal(c(x), f(x))
        w.data = w.data * 2  # (new memory each time, as `p.data = p.data - lr * p.grad` does)
    (entry,) = c._entries.values()
    assert entry.program is not None and not entry.alts


def test_a_compiled_module_inside_a_compiled_module():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.block = minitorch.compile(nn.Linear(3, 3))

        def forward(self, x):
            return self.block(x).relu()

    m = M()
    c = minitorch.compile(m)
    x = minitorch.randn(2, 3)
    for _ in range(3):
        assert minitorch.allclose(c(x), m._modules["block"]._orig_mod(x).relu())


def test_a_module_compiled_in_place_pickles_and_copies_compiled_afresh():
    m = nn.Sequential(nn.Linear(3, 3), nn.Dropout(0.5))
    m.compile()
    x = minitorch.randn(2, 3)
    m.eval()
    m(x)
    for other in (pickle.loads(pickle.dumps(m)), copy.deepcopy(m)):
        assert other.__dict__["_compiled_call_impl"]._module is other
        other.train()  # the copy's own mode is what its compiled call sees
        minitorch.manual_seed(0)
        got = other(x)
        minitorch.manual_seed(0)
        assert minitorch.equal(got, other._call_impl(x))


def test_a_result_written_in_place_is_not_merged_with_its_twin():
    def f(x):
        a, b = x.exp(), x.exp()
        a.add_(1)
        c, d = x * 2, x * 2
        c[0].add_(1)
        return a, b, c, d

    for e, c, _, _ in both(f, lambda: (minitorch.zeros(3),)):
        assert all(minitorch.equal(p, q) for p, q in zip(e, c))
        assert c[1].tolist() == [1.0] * 3 and c[3].tolist() == [0.0] * 3


class _Holder:
    pass


def test_a_tensor_read_through_a_chain_whose_method_is_called_is_guarded():
    # o.w.sum(): the receiver o.w is read too; rebinding it (or a module's parameter) gives the new tensor (was:
    # the old one replayed)
    def f(o, m):
        return o.w.sum() + m.bias.exp().sum()

    h, m = _Holder(), nn.Linear(2, 2)
    h.w = minitorch.zeros(2)
    c = minitorch.compile(f)
    with minitorch.no_grad():
        for i in range(4):
            if i == 2:
                h.w = minitorch.ones(2)
                m.bias = nn.Parameter(minitorch.ones(2))
            np.testing.assert_allclose(c(h, m).item(), f(h, m).item(), rtol=1e-6)


def test_a_module_whose_parameters_the_code_walks_is_watched_like_one_it_calls():
    # an EMA update over parameters() of modules it never calls: a layer replaced since gives its new parameters
    # (was: the old layer's replayed)
    def ema_update(ema, model):
        with minitorch.no_grad():
            for pe, pm in zip(ema.parameters(), model.parameters()):
                pe.mul_(0.5).add_(pm, alpha=0.5)

    def run(update):
        minitorch.manual_seed(0)
        ema, model = nn.Sequential(nn.Linear(2, 2)), nn.Sequential(nn.Linear(2, 2))
        for i in range(4):
            if i == 2:
                model[0] = nn.Linear(2, 2)
            update(ema, model)
        return [p.detach().numpy().copy() for p in ema.parameters()]
    for got, want in zip(run(minitorch.compile(ema_update)), run(ema_update)):
        np.testing.assert_allclose(got, want, rtol=1e-6)
