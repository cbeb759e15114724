"""The rest of torch.autograd: functional (jacobian ... vhp), checkpointing, graph introspection (node names,
next_functions, node hooks, saved-tensor hooks), anomaly mode, and torch.testing. PyTorch is the oracle: the same
expression runs in both libraries and values, structures, names, error types and messages must agree."""
import gc
import warnings
import weakref

import numpy as np
import pytest

import minitorch
import minitorch.autograd.functional as MF
import minitorch.utils.checkpoint as mck

torch = pytest.importorskip("torch")
import torch.autograd.functional as TF  # noqa: E402
import torch.utils.checkpoint as tck  # noqa: E402

pytestmark = pytest.mark.torch

LIBS = {"torch": (torch, TF, tck), "minitorch": (minitorch, MF, mck)}
RNG = np.random.default_rng(0)
A3 = RNG.standard_normal(3)
B3 = RNG.standard_normal(3)
M23 = RNG.standard_normal((2, 3))
M32 = RNG.standard_normal((3, 2))


def np_of(t):
    return t.detach().cpu().numpy()


def assert_same_structure(a, b, path="out"):
    """Nested tuples of tensors with the same nesting, shapes and values (float64 tolerances)."""
    if isinstance(a, (tuple, list)):
        assert type(b) is type(a) and len(a) == len(b), f"{path}: {type(a)} vs {type(b)}"
        for i, (p, q) in enumerate(zip(a, b)):
            assert_same_structure(p, q, f"{path}[{i}]")
        return
    assert not isinstance(b, (tuple, list)), f"{path}: torch gives a tensor, minitorch a {type(b)}"
    assert tuple(a.shape) == tuple(b.shape), f"{path}: {tuple(a.shape)} vs {tuple(b.shape)}"
    np.testing.assert_allclose(np_of(b), np_of(a), rtol=1e-10, atol=1e-12, err_msg=path)


def outcome(fn):
    """(exception type name, message) or ("ok", result)."""
    try:
        return "ok", fn()
    except Exception as e:  # noqa: BLE001 - the test compares whatever was raised
        return type(e).__name__, str(e)


def same_error(make):
    """Run ``make(lib, F)`` in both libraries; both must raise the same type with the same message."""
    res = [outcome(lambda lib=lib, F=F: make(lib, F)) for lib, F, _ in LIBS.values()]
    assert res[0][0] != "ok", "torch did not raise"
    assert res[1][0] == res[0][0], f"minitorch raised {res[1]}, torch {res[0]}"
    assert res[1][1].replace("minitorch", "torch") == res[0][1]


# ---------------------------------------------------------------------------------------------------------------
# autograd.functional
# ---------------------------------------------------------------------------------------------------------------
def _functional_call(lib, F, name, mode, create_graph=False, **extra):
    x = lib.tensor(A3, dtype=lib.float64)
    y = lib.tensor(B3, dtype=lib.float64)
    scalar1 = lambda a: (a.exp() * a).sum()  # noqa: E731
    scalar2 = lambda a, b: (a * b).exp().sum() + (a ** 2 * b).sum()  # noqa: E731
    vec1 = lambda a: a.sin() * 2  # noqa: E731
    multi = lambda a, b: ((a * b).sum(), a.exp(), (a[:2] * b[1:]).tanh())  # noqa: E731
    if name == "jacobian":
        return F.jacobian(vec1, x, create_graph=create_graph, **extra) if mode == "single" else \
            F.jacobian(multi, (x, y), create_graph=create_graph, **extra)
    if name == "hessian":
        return F.hessian(scalar1, x, create_graph=create_graph, **extra) if mode == "single" else \
            F.hessian(scalar2, (x, y), create_graph=create_graph, **extra)
    if name == "vjp":
        return F.vjp(vec1, x, y, create_graph=create_graph) if mode == "single" else \
            F.vjp(lambda a, b: (a * b).tanh(), (x, y), x, create_graph=create_graph)
    if name == "jvp":
        return F.jvp(vec1, x, y, create_graph=create_graph) if mode == "single" else \
            F.jvp(multi, (x, y), (y, x), create_graph=create_graph)
    fn = getattr(F, name)
    return fn(scalar1, x, y, create_graph=create_graph) if mode == "single" else \
        fn(scalar2, (x, y), (y, x), create_graph=create_graph)


@pytest.mark.parametrize("name", ["jacobian", "hessian", "vjp", "jvp", "hvp", "vhp"])
@pytest.mark.parametrize("mode", ["single", "tuple"])
def test_functional_values_and_structure_match_torch(name, mode):
    ref = _functional_call(torch, TF, name, mode)
    got = _functional_call(minitorch, MF, name, mode)
    assert_same_structure(ref, got)


@pytest.mark.parametrize("extra", [{"vectorize": True}, {"vectorize": True, "strategy": "forward-mode"}])
def test_jacobian_vectorize_and_forward_strategy_give_the_same_values(extra):
    assert_same_structure(_functional_call(torch, TF, "jacobian", "tuple", **extra),
                          _functional_call(minitorch, MF, "jacobian", "tuple", **extra))


def test_hessian_outer_strategy_and_vectorize_match_torch():
    for extra in ({"vectorize": True}, {"vectorize": True, "outer_jacobian_strategy": "forward-mode"}):
        assert_same_structure(_functional_call(torch, TF, "hessian", "tuple", **extra),
                              _functional_call(minitorch, MF, "hessian", "tuple", **extra))


@pytest.mark.parametrize("name", ["jacobian", "vjp", "jvp", "hvp"])
def test_functional_create_graph_is_differentiable_like_torch(name):
    """With create_graph=True the results stay in the graph: differentiating their sum w.r.t. the inputs agrees."""
    grads = []
    for lib, F, _ in LIBS.values():
        x = lib.tensor(A3, dtype=lib.float64, requires_grad=True)
        v = lib.tensor(B3, dtype=lib.float64)
        if name == "jacobian":
            out = F.jacobian(lambda a: a.sin() * a, x, create_graph=True)
        elif name == "vjp":
            out = F.vjp(lambda a: a.exp() * a, x, v, create_graph=True)[1]
        elif name == "jvp":
            out = F.jvp(lambda a: a.exp() * a, x, v, create_graph=True)[1]
        else:
            out = F.hvp(lambda a: (a.exp() * a).sum(), x, v, create_graph=True)[1]
        assert out.requires_grad
        grads.append(lib.autograd.grad(out.sum(), x)[0])
    np.testing.assert_allclose(np_of(grads[1]), np_of(grads[0]), rtol=1e-10)


def test_functional_results_are_detached_without_create_graph():
    x = minitorch.tensor(A3, requires_grad=True)
    out, vjp = MF.vjp(lambda a: a * 2, x, minitorch.ones(3))
    jac = MF.jacobian(lambda a: a * 2, x)
    assert not out.requires_grad and not vjp.requires_grad and not jac.requires_grad
    assert x.grad is None


def test_functional_independent_output_gives_zeros_unless_strict():
    for lib, F, _ in LIBS.values():
        x = lib.tensor(A3)
        y = lib.tensor(B3)
        jac = F.jacobian(lambda a, b: a * 2, (x, y))
        np.testing.assert_array_equal(np_of(jac[1]), np.zeros((3, 3)))
    same_error(lambda lib, F: F.jacobian(lambda a, b: a * 2, (lib.tensor(A3), lib.tensor(B3)), strict=True))


STRICT_ERRORS = {
    "jacobian output without grad": lambda lib, F: F.jacobian(lambda a: lib.ones(3), lib.tensor(A3), strict=True),
    "vjp independent input": lambda lib, F: F.vjp(lambda a, b: a * 2, (lib.tensor(A3), lib.tensor(B3)),
                                                  lib.ones(3), strict=True),
    "jvp output without grad": lambda lib, F: F.jvp(lambda a: lib.ones(3), lib.tensor(A3), lib.ones(3),
                                                    strict=True),
    "hessian of linear": lambda lib, F: F.hessian(lambda a: (a * 2).sum(), lib.tensor(A3), strict=True),
    "vhp of linear": lambda lib, F: F.vhp(lambda a: (a * 2).sum(), lib.tensor(A3), lib.ones(3), strict=True),
    "hvp of linear": lambda lib, F: F.hvp(lambda a: (a * 2).sum(), lib.tensor(A3), lib.ones(3), strict=True),
    "strict with vectorize": lambda lib, F: F.jacobian(lambda a: a * a, lib.tensor(A3), strict=True,
                                                       vectorize=True),
}


@pytest.mark.parametrize("case", list(STRICT_ERRORS))
def test_functional_strict_errors_match_torch(case):
    same_error(STRICT_ERRORS[case])


USER_ERRORS = {
    "vjp v none for vector output": lambda lib, F: F.vjp(lambda a: a * 2, lib.tensor(A3)),
    "vjp v wrong size": lambda lib, F: F.vjp(lambda a: a * 2, lib.tensor(A3), lib.ones(2)),
    "vjp v wrong length": lambda lib, F: F.vjp(lambda a, b: (a, b), (lib.tensor(A3), lib.tensor(B3)),
                                               (lib.ones(3),)),
    "jvp v none for vector input": lambda lib, F: F.jvp(lambda a: a * 2, lib.tensor(A3)),
    "jvp v entry wrong size": lambda lib, F: F.jvp(lambda a, b: a * b, (lib.tensor(A3), lib.tensor(B3)),
                                                   (lib.ones(3), lib.ones(2))),
    "jacobian input not tensor": lambda lib, F: F.jacobian(lambda a: a, [1.0, 2.0]),
    "jacobian single non tensor": lambda lib, F: F.jacobian(lambda a: a, 3.0),
    "jacobian output not tensor": lambda lib, F: F.jacobian(lambda a: 3.0, lib.tensor(A3)),
    "jacobian bad strategy": lambda lib, F: F.jacobian(lambda a: a, lib.tensor(A3), strategy="sideways"),
    "forward mode needs vectorize": lambda lib, F: F.jacobian(lambda a: a, lib.tensor(A3), strategy="forward-mode"),
    "forward mode with create_graph": lambda lib, F: F.jacobian(lambda a: a, lib.tensor(A3), vectorize=True,
                                                                strategy="forward-mode", create_graph=True),
    "forward mode with strict": lambda lib, F: F.jacobian(lambda a: a, lib.tensor(A3), vectorize=True,
                                                          strategy="forward-mode", strict=True),
    "hessian non scalar": lambda lib, F: F.hessian(lambda a: a * a, lib.tensor(A3)),
    "hessian tuple output": lambda lib, F: F.hessian(lambda a: (a.sum(), a.sum()), lib.tensor(A3)),
    "hessian bad strategy": lambda lib, F: F.hessian(lambda a: a.sum(), lib.tensor(A3),
                                                     outer_jacobian_strategy="x"),
    "jacobian of empty output": lambda lib, F: F.jacobian(lambda a: a[:0] * 2, lib.tensor(A3)),
    "vhp non scalar": lambda lib, F: F.vhp(lambda a: a * a, lib.tensor(A3), lib.ones(3)),
    "hvp v none": lambda lib, F: F.hvp(lambda a: (a * a).sum(), lib.tensor(A3)),
}


@pytest.mark.parametrize("case", list(USER_ERRORS))
def test_functional_user_errors_match_torch(case):
    same_error(USER_ERRORS[case])


def test_functional_scalar_input_allows_v_none():
    for name in ("jvp", "vjp", "hvp", "vhp"):
        res = []
        for lib, F, _ in LIBS.values():
            x = lib.tensor(0.7, dtype=lib.float64)
            res.append(getattr(F, name)(lambda a: (a.exp() * a).sum(), x))
        assert_same_structure(res[0], res[1])


def test_functional_on_device(device):
    x = minitorch.tensor(A3, device=device)
    jac = MF.jacobian(lambda a: a * a, x)
    assert jac.device.type == device
    np.testing.assert_allclose(np_of(jac), np.diag(2 * A3.astype(np.float32)), rtol=1e-6)
    _, hv = MF.hvp(lambda a: (a * a * a).sum(), x, minitorch.ones(3, device=device))
    np.testing.assert_allclose(np_of(hv), 6 * A3.astype(np.float32), rtol=1e-5)


# ---------------------------------------------------------------------------------------------------------------
# utils.checkpoint
# ---------------------------------------------------------------------------------------------------------------
def _mlp(lib, seed=1):
    rng = np.random.default_rng(seed)
    w1 = lib.tensor(rng.standard_normal((4, 5)), dtype=lib.float32, requires_grad=True)
    w2 = lib.tensor(rng.standard_normal((5, 3)), dtype=lib.float32, requires_grad=True)
    x = lib.tensor(rng.standard_normal((6, 4)), dtype=lib.float32, requires_grad=True)
    return x, w1, w2


def _block(lib, w1, w2, p, calls=None):
    F = lib.nn.functional

    def block(h):
        if calls is not None:
            calls.append(1)
        h = F.dropout((h @ w1).tanh(), p, True)
        return (h @ w2).sigmoid() * 2
    return block


@pytest.mark.parametrize("use_reentrant", [False, True])
def test_checkpoint_with_dropout_equals_plain_run(use_reentrant):
    """Same seed, same dropout: checkpointed and plain runs give identical outputs and gradients."""
    results = []
    for ck in (True, False):
        minitorch.manual_seed(3)
        x, w1, w2 = _mlp(minitorch)
        calls = []
        block = _block(minitorch, w1, w2, 0.5, calls)
        y = mck.checkpoint(block, x, use_reentrant=use_reentrant) if ck else block(x)
        (y * y).sum().backward()
        results.append([np_of(t) for t in (y, x.grad, w1.grad, w2.grad)])
        assert len(calls) == (2 if ck else 1)  # the checkpointed block ran again in backward
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


def test_checkpoint_without_preserved_rng_redraws_the_mask():
    """The RNG state is what makes the recomputed dropout mask match: without it the gradients change."""
    grads = []
    for preserve in (True, False):
        minitorch.manual_seed(3)
        x, w1, w2 = _mlp(minitorch)
        y = mck.checkpoint(_block(minitorch, w1, w2, 0.5), x, use_reentrant=False, preserve_rng_state=preserve)
        y.sum().backward()
        grads.append(np_of(w1.grad))
    assert not np.array_equal(grads[0], grads[1])


@pytest.mark.parametrize("use_reentrant", [False, True])
def test_checkpoint_gradients_match_torch(use_reentrant):
    grads = []
    for lib, _, ck in LIBS.values():
        x, w1, w2 = _mlp(lib)
        y = ck.checkpoint(_block(lib, w1, w2, 0.0), x, use_reentrant=use_reentrant)
        (y ** 2).mean().backward()
        grads.append([np_of(t) for t in (y, x.grad, w1.grad, w2.grad)])
    for a, b in zip(*grads):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6)


def test_checkpoint_frees_intermediate_activations():
    """Non-reentrant: the tensors the block's ops save (here the hidden activation) are not kept after forward."""
    alive = {}
    for ck in (False, True):
        x, w1, w2 = _mlp(minitorch)
        refs = []

        def block(h):
            hidden = (h @ w1).tanh()
            refs.append(weakref.ref(hidden._storage))
            return hidden @ w2
        y = mck.checkpoint(block, x, use_reentrant=False) if ck else block(x)
        gc.collect()
        alive[ck] = refs[0]() is not None
        y.sum().backward()
    assert alive == {False: True, True: False}


def test_checkpoint_non_reentrant_supports_autograd_grad_and_kwargs():
    res = []
    for lib, _, ck in LIBS.values():
        x, w1, w2 = _mlp(lib)
        y = ck.checkpoint(lambda h, scale: (h @ w1).relu() * scale, x, use_reentrant=False, scale=3.0)
        res.append([np_of(g) for g in lib.autograd.grad(y.sum(), (x, w1))])
    for a, b in zip(*res):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6)


def test_checkpoint_double_backward_nested_and_retain_graph_match_torch():
    """create_graph through a checkpoint differentiates the recomputed graph; nested checkpoints and a second
    backward with retain_graph recompute again."""
    res = []
    for lib, _, ck in LIBS.values():
        x = lib.tensor([0.3, 0.7, -0.2], dtype=lib.float64, requires_grad=True)
        f = lambda a: (a.sin() * a.cos()).exp() * a.tanh()  # noqa: E731
        y = ck.checkpoint(f, x, use_reentrant=False)
        g, = lib.autograd.grad(y.sum(), x, create_graph=True)
        h, = lib.autograd.grad(g.sum(), x)
        z = ck.checkpoint(lambda a: ck.checkpoint(f, a, use_reentrant=False) * 2, x, use_reentrant=False)
        z.sum().backward(retain_graph=True)
        z.sum().backward()
        res.append([np_of(g), np_of(h), np_of(x.grad)])
    for a, b in zip(*res):
        np.testing.assert_allclose(b, a, rtol=1e-12)


def test_checkpoint_errors_and_warning_match_torch():
    def reentrant_grad(lib, ck):
        x, w1, _ = _mlp(lib)
        y = ck.checkpoint(lambda h: (h @ w1).relu(), x, use_reentrant=True)
        return lib.autograd.grad(y.sum(), (x,))

    def kwargs_reentrant(lib, ck):
        x, w1, _ = _mlp(lib)
        return ck.checkpoint(lambda h, s: h * s, x, use_reentrant=True, s=2.0)

    for make in (reentrant_grad, kwargs_reentrant):
        res = [outcome(lambda lib=lib, ck=ck: make(lib, ck)) for lib, _, ck in LIBS.values()]
        assert res[0][0] != "ok" and res[1] == res[0]

    messages = []
    for lib, _, ck in LIBS.values():
        x, w1, _ = _mlp(lib)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            ck.checkpoint(lambda h: (h @ w1).relu(), x).sum().backward()
            ck.checkpoint_sequential([lambda h: h * 2, lambda h: h + 1], 2, x)
        messages.append([(w.category, str(w.message), w.filename) for w in caught
                         if "use_reentrant" in str(w.message)])
    assert [m[:2] for m in messages[1]] == [m[:2] for m in messages[0]] and len(messages[0]) == 2
    # attributed to the caller (torch's checkpoint warning names its own dynamo wrapper instead)
    assert [m[2] for m in messages[1]] == [__file__, __file__]


@pytest.mark.parametrize("use_reentrant", [False, True])
def test_checkpoint_sequential_matches_torch(use_reentrant):
    rng = np.random.default_rng(5)
    sizes = [(4, 6), (6, 6), (6, 3)]
    weights = [(rng.standard_normal(s[::-1]), rng.standard_normal(s[1])) for s in sizes]
    data = rng.standard_normal((5, 4))
    grads = []
    for lib, _, ck in LIBS.values():
        layers = []
        for (w, b), (i, o) in zip(weights, sizes):
            lin = lib.nn.Linear(i, o)
            with lib.no_grad():
                lin.weight.copy_(lib.tensor(w, dtype=lib.float32))
                lin.bias.copy_(lib.tensor(b, dtype=lib.float32))
            layers += [lin, lib.nn.Tanh()]
        model = lib.nn.Sequential(*layers)
        x = lib.tensor(data, dtype=lib.float32, requires_grad=True)
        out = ck.checkpoint_sequential(model, 3, x, use_reentrant=use_reentrant)
        out.pow(2).sum().backward()
        grads.append([np_of(out), np_of(x.grad)] + [np_of(p.grad) for p in model.parameters()])
    for a, b in zip(*grads):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-5)


def test_checkpoint_sequential_with_dropout_equals_plain_run():
    results = []
    for ck in (True, False):
        minitorch.manual_seed(11)
        model = minitorch.nn.Sequential(minitorch.nn.Linear(4, 8), minitorch.nn.Dropout(0.3), minitorch.nn.ReLU(),
                                        minitorch.nn.Linear(8, 8), minitorch.nn.Dropout(0.3), minitorch.nn.Linear(8, 2))
        x = minitorch.randn(3, 4, requires_grad=True)
        out = mck.checkpoint_sequential(model, 2, x, use_reentrant=False) if ck else model(x)
        out.sum().backward()
        results.append([np_of(out), np_of(x.grad)] + [np_of(p.grad) for p in model.parameters()])
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


def test_checkpoint_on_device(device):
    x = minitorch.tensor(M23, dtype=minitorch.float32, device=device, requires_grad=True)
    w = minitorch.tensor(M32, dtype=minitorch.float32, device=device, requires_grad=True)
    y = mck.checkpoint(lambda h: (h @ w).tanh(), x, use_reentrant=False)
    y.sum().backward()
    t = (1 - np.tanh(M23.astype(np.float32) @ M32.astype(np.float32)) ** 2)
    np.testing.assert_allclose(np_of(x.grad), t @ M32.T, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(np_of(w.grad), M23.T @ t, rtol=1e-4, atol=1e-5)


# ---------------------------------------------------------------------------------------------------------------
# graph introspection
# ---------------------------------------------------------------------------------------------------------------
def _leaves(lib):
    mk = lambda a: lib.tensor(a, dtype=lib.float32, requires_grad=True)  # noqa: E731
    return {"x": mk(M23), "y": mk(M23[::-1].copy()), "w": mk(M32), "v": mk(A3), "torch": lib, "F": lib.nn.functional}


NAMED_EXPRESSIONS = [
    "x + y", "x + 2", "x - y", "2 - x", "x * y", "x * 2", "x / y", "2 / x", "-x", "x ** 2", "x ** y", "2 ** x",
    "x.exp()", "x.abs().log()", "x.tanh()", "x.sigmoid()", "x.relu()", "x.abs().sqrt()", "x.square()",
    "x.sum()", "x.sum(0)", "x.mean()", "x.mean(1)", "x.prod()", "x.max()", "x.min()", "x.max(0)[0]", "x.min(1)[0]",
    "x.amax(0)", "x.norm()", "x.cumsum(1)", "x.sort(1)[0]", "x.topk(1)[0]",
    "x @ w", "x.view(6)", "x.reshape(3, 2)", "x.flatten()", "x.t()", "x.unsqueeze(0)", "x.unsqueeze(0).squeeze()",
    "x.unsqueeze(0).expand(2, 2, 3)", "x[0]", "x[:, 1:]", "x[[0, 1]]", "torch.cat([x, y])",
    "x.clone()", "x.t().contiguous()", "x.double()", "torch.where(x > 0, x, y)", "x.clamp(-0.5, 0.5)",
    "x.softmax(1)", "x.log_softmax(1)", "x.gather(1, torch.tensor([[0], [1]]))", "torch.maximum(x, y)",
    "x.diagonal()", "x.index_select(0, torch.tensor([1]))", "x.abs().log1p()", "x.erf()", "x.floor()",
    "torch.atan2(x, y)", "x.cummax(1)[0]", "F.pad(x, (1, 1))", "F.embedding(torch.tensor([0, 1]), x)",
    "torch.linalg.inv(x[:, :2])", "torch.linalg.det(x[:, :2])", "x.unfold(1, 2, 1)", "torch.xlogy(x.abs(), y.abs())",
    "F.conv2d(x.view(1, 1, 2, 3), w.view(1, 1, 3, 2)[..., :1, :])",
    "x.split(1)[1]", "x.split([2, 1], 1)[0]", "x.chunk(3, 1)[2]", "x.unbind(1)[0]", "x.tensor_split(2, 1)[1]",
    "x.split(2)[0]", "x.permute(1, 0)", "x.T", "x.mT", "x.transpose(0, 1)", "x.swapaxes(0, 1)", "x.movedim(0, 1)",
    "(x * 1).zero_()", "(x * 1).fill_(2.0)", "(x * 1).copy_(y)", "(x * 1).normal_()", "(x * 1)[0].zero_()",
]


def _names(fn):
    return fn.name() if fn is not None else None, tuple(n.name() if n is not None else None
                                                        for n, _ in fn.next_functions)


@pytest.mark.parametrize("expr", NAMED_EXPRESSIONS)
def test_grad_fn_names_and_next_functions_match_torch(expr):
    ref = _names(eval(expr, _leaves(torch)).grad_fn)  # noqa: S307 - fixed test expressions
    got = _names(eval(expr, _leaves(minitorch)).grad_fn)  # noqa: S307
    assert got == ref
    assert repr(eval(expr, _leaves(minitorch))).endswith(f"grad_fn=<{ref[0]}>)")  # noqa: S307


def _graph(fn, seen=None):
    """The whole backward graph as nested (name, [children]) with the input index of each edge."""
    if fn is None:
        return None
    return (fn.name(), tuple((_graph(n), i) for n, i in fn.next_functions))


def test_whole_graph_of_an_expression_matches_torch():
    expr = "((x @ w).relu() * 3 - (x.t() @ y).sum()).exp().mean() + x.sum(1).sigmoid().sum()"
    assert _graph(eval(expr, _leaves(minitorch)).grad_fn) == _graph(eval(expr, _leaves(torch)).grad_fn)  # noqa: S307


SPLIT_CASES = {
    # each: a leaf -> a scalar loss, not linear in it, built from some pieces of a split
    "some pieces unused": lambda x, t: (x.split([1, 2], 1)[1] ** 2 * 3).sum(),
    "pieces reused": lambda x, t: (lambda a, b, c: (a * b + c * a).sum())(*x.chunk(3, 1)),
    "unbind rows": lambda x, t: (lambda r0, r1: (r0.exp() - r1 * r0).sum())(*x.unbind(0)),
    "through a view chain": lambda x, t: sum((p.t().reshape(-1) ** 2 * (i + 1)).sum()
                                             for i, p in enumerate((x * 2).split(1, 1))),
}


@pytest.mark.parametrize("case", sorted(SPLIT_CASES))
def test_split_chunk_unbind_gradients_match_torch(case):
    """split, chunk and unbind of a tensor that needs a gradient record one node for all pieces (PyTorch's
    SplitBackward0 / UnbindBackward0): gradients match PyTorch whichever pieces the loss uses, and twice
    differentiated as well."""
    grads = []
    for lib in (torch, minitorch):
        x = lib.tensor(M23, requires_grad=True)
        loss = SPLIT_CASES[case](x, lib)
        g, = lib.autograd.grad(loss, x, create_graph=True)
        (g ** 2).sum().backward()
        grads.append((np_of(loss), np_of(g), None if x.grad is None else np_of(x.grad)))
    for want, got in zip(*grads):
        if want is None:
            assert got is None
        else:
            np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("make", ["x.split(1)[1]", "x.split([1, 1])[0]", "x.chunk(2)[1]", "x.unbind()[1]"])
def test_split_pieces_written_in_place_error_like_torch(make):
    """Pieces of one multi-output node cannot be written in place while grad is recorded (PyTorch's error); under
    no_grad, or for a tensor that needs no gradient, they can."""
    msgs = []
    for lib in (torch, minitorch):
        x = lib.tensor(M23, requires_grad=True) * 1
        with pytest.raises(RuntimeError) as err:
            eval(make, {"x": x}).mul_(2)  # noqa: S307 - fixed test expressions
        msgs.append(str(err.value))
        piece = eval(make, {"x": x})  # noqa: S307
        with lib.no_grad():
            piece.mul_(2)
        plain = lib.tensor(M23)
        eval(make, {"x": plain}).mul_(2)  # noqa: S307
        np.testing.assert_allclose(np_of(plain)[1], M23[1] * (2 if "split(1)" in make or "chunk" in make or
                                                              "unbind" in make else 1))
    assert msgs[1] == msgs[0]


def test_split_gradients_on_device(device):
    x = minitorch.tensor(M23, requires_grad=True, device=device)
    tx = torch.tensor(M23, requires_grad=True)
    for lib, t in ((minitorch, x), (torch, tx)):
        a, b = t.split([2, 1], 1)
        (a.exp().sum(1) * b.squeeze(1)).sum().backward()  # both pieces; the gradient is assembled on the device
        c, _ = t.chunk(2, 0)
        (c ** 2).sum().backward()  # one piece: the other's region is zero-filled
    np.testing.assert_allclose(np_of(x.grad), np_of(tx.grad), rtol=1e-6)


def test_split_piece_hooks_and_retain_grad_match_torch():
    seen = {}
    for lib in (torch, minitorch):
        x = lib.tensor(M23, requires_grad=True)
        a, b, c = x.chunk(3, 1)
        b.retain_grad()
        a.register_hook(lambda g, lib=lib: seen.__setitem__(lib.__name__, np_of(g)))
        (a * 2 + b * c).sum().backward()
        seen[lib.__name__ + ".b"] = np_of(b.grad)
        seen[lib.__name__ + ".x"] = np_of(x.grad)
    for key in ("", ".b", ".x"):
        np.testing.assert_allclose(seen["minitorch" + key], seen["torch" + key])


def test_accumulate_grad_nodes_and_none_edges():
    x = minitorch.tensor([1.0, 2.0], requires_grad=True)
    c = minitorch.tensor([3.0, 4.0])
    y = x * c
    acc, idx = y.grad_fn.next_functions[0]
    assert acc.name() == "torch::autograd::AccumulateGrad" and acc.variable is x and idx == 0
    assert y.grad_fn.next_functions[1] == (None, 0)
    assert (x + 1).grad_fn.next_functions[0][0] is acc  # one accumulator per leaf, shared by the graph
    assert acc.next_functions == ()
    assert isinstance(y.grad_fn, minitorch.autograd.graph.Node) and isinstance(acc, minitorch.autograd.graph.Node)


def test_custom_function_node_name_and_edges_match_torch():
    res = []
    for lib in (torch, minitorch):
        class Scale(lib.autograd.Function):
            @staticmethod
            def forward(ctx, a, k, b):
                return a * k + b

            @staticmethod
            def backward(ctx, g):
                return g * 2, None, g

        a = lib.tensor([1.0, 2.0], requires_grad=True)
        b = lib.tensor([1.0, 2.0])
        res.append(_names(Scale.apply(a, 2.0, b).grad_fn))
    assert res[1] == res[0]


def test_node_hooks_prehooks_and_metadata_match_torch():
    logs = []
    for lib in (torch, minitorch):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        w = lib.tensor([0.5, -1.0, 2.0], requires_grad=True)
        y = x * w
        z = (y * 3).sum()
        log = []
        y.grad_fn.register_prehook(lambda go, log=log: log.append(("pre", [g.tolist() for g in go])) or (go[0] * 2,))
        y.grad_fn.register_hook(lambda gi, go, log=log: log.append(
            ("post", [g.tolist() for g in gi], [g.tolist() for g in go])))
        acc = y.grad_fn.next_functions[0][0]
        acc.register_prehook(lambda go, log=log: log.append(("accpre", [g.tolist() for g in go])))
        acc.register_hook(lambda gi, go, log=log: log.append(("accpost", gi, [g.tolist() for g in go])))
        removed = y.grad_fn.register_hook(lambda gi, go, log=log: log.append("removed hook ran"))
        removed.remove()
        y.grad_fn.metadata["tag"] = "mul"
        z.backward()
        logs.append((log, x.grad.tolist(), w.grad.tolist(), dict(y.grad_fn.metadata)))
    assert logs[1] == logs[0]


def test_node_hook_can_replace_input_grads_like_torch():
    grads = []
    for lib in (torch, minitorch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        w = lib.tensor([3.0, 4.0], requires_grad=True)
        y = (x * w).sum()
        y.grad_fn.next_functions[0][0].register_hook(lambda gi, go: (gi[0] * 10, None))
        y.backward()
        grads.append((x.grad.tolist(), w.grad is None))
    assert grads[1] == grads[0]


def test_saved_tensors_hooks_pack_and_unpack_like_torch():
    res = []
    for lib in (torch, minitorch):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        w = lib.tensor([0.5, -1.0, 2.0], requires_grad=True)
        packed = []

        def pack(t, packed=packed):
            packed.append(tuple(t.shape))
            return ("box", t)

        with lib.autograd.graph.saved_tensors_hooks(pack, lambda box: box[1] * 2):
            y = (x * w).sum()
        y.backward()  # every saved tensor comes back doubled, so both gradients double
        res.append((packed, x.grad.tolist(), w.grad.tolist()))
    assert res[1] == res[0]


def test_save_on_cpu_gives_the_plain_gradients(device):
    x = minitorch.tensor(A3, dtype=minitorch.float32, device=device, requires_grad=True)
    with minitorch.autograd.graph.save_on_cpu():
        y = (x.sin() * x).sum()
    y.backward()
    a = A3.astype(np.float32)
    np.testing.assert_allclose(np_of(x.grad), np.cos(a) * a + np.sin(a), rtol=1e-5)
    assert x.grad.device.type == device


def test_disable_saved_tensors_hooks_error_matches_torch():
    def make(lib, F):
        with lib.autograd.graph.disable_saved_tensors_hooks("no hooks here"):
            with lib.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
                pass
    same_error(make)


def test_in_place_change_of_a_saved_tensor_is_still_detected_under_hooks():
    x = minitorch.tensor([1.0, 2.0], requires_grad=True)
    with minitorch.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
        h = x * 1
        y = (h * h).sum()
    h.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


# ---------------------------------------------------------------------------------------------------------------
# anomaly mode
# ---------------------------------------------------------------------------------------------------------------
def _nan_backward(lib):
    a = lib.tensor([0.0, 1.0], requires_grad=True)
    b = a.sqrt() * 0.0
    line = "c = b / b"
    c = b / b
    c.sum().backward()
    return line


def test_anomaly_nan_error_and_forward_trace_match_torch():
    seen = []
    for lib in (torch, minitorch):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with lib.autograd.detect_anomaly():
                with pytest.raises(RuntimeError) as err:
                    _nan_backward(lib)
        texts = [str(w.message) for w in caught]
        assert texts[0] == ("Anomaly Detection has been enabled. This mode will increase the runtime and should only "
                            "be enabled for debugging.")
        trace = [t for t in texts if t.startswith("Error detected in")]
        assert len(trace) == 1 and "c = b / b" in trace[0] and __file__ in trace[0]
        seen.append((str(err.value), trace[0].split(". Traceback")[0]))
    assert seen[1] == seen[0]
    assert seen[0][0] == "Function 'DivBackward0' returned nan values in its 1th output."


def test_set_detect_anomaly_toggles_and_restores():
    for lib in (torch, minitorch):
        assert not lib.is_anomaly_enabled()
        with lib.autograd.set_detect_anomaly(True):
            assert lib.is_anomaly_enabled() and lib.is_anomaly_check_nan_enabled()
        assert not lib.is_anomaly_enabled()
        lib.autograd.set_detect_anomaly(True, check_nan=False)
        try:
            assert lib.is_anomaly_enabled() and not lib.is_anomaly_check_nan_enabled()
            a = lib.tensor([0.0], requires_grad=True)
            (a.sqrt() * 0).sum().backward()  # NaN gradients pass when check_nan is off
            assert np.isnan(np_of(a.grad)).all()
        finally:
            lib.autograd.set_detect_anomaly(False)
        assert not lib.is_anomaly_enabled()


def test_anomaly_off_lets_nan_through():
    a = minitorch.tensor([0.0, 1.0], requires_grad=True)
    (a.sqrt() * 0.0).sum().backward()
    assert np.isnan(np_of(a.grad)[0])


# ---------------------------------------------------------------------------------------------------------------
# testing.assert_close / make_tensor / assert_allclose
# ---------------------------------------------------------------------------------------------------------------
def _t(dtype=None):
    return lambda lib, v: lib.tensor(v, dtype=getattr(lib, dtype) if dtype else None)


def _raw(lib, v):
    return v


ASSERT_CLOSE_CASES = [
    (_t(), [1.0, 2.0, 3.0], _t(), [1.0, 2.1, 3.0], {}),
    (_t(), [1.0, 2.0, 3.0], _t(), [1.0, 2.00001, 3.0], {}),
    (_t(), [1.0, 2.0, 3.0], _t(), [1.0, 2.00002, 3.0], {}),
    (_t("float64"), [1.0, 2.0, 3.0], _t("float64"), [1.0, 2.00001, 3.5], {}),
    (_t("float16"), [1.0, 2.0, 3.0], _t("float16"), [1.0, 2.01, 3.0], {}),
    (_t("bfloat16"), [1.0, 2.0, 3.0], _t("bfloat16"), [1.0, 2.5, 3.0], {}),
    (_t(), [1, 2, 3], _t(), [1, 5, 3], {}),
    (_t(), [[1.0, 2.0], [3.0, 4.0]], _t(), [[1.0, 2.0], [3.0, 0.0]], {}),
    (_t(), [1.0, float("nan")], _t(), [1.0, float("nan")], {}),
    (_t(), [1.0, float("nan")], _t(), [1.0, float("nan")], {"equal_nan": True}),
    (_t(), [1.0, 2.0], _t(), [1.0, 2.5], {"rtol": 0, "atol": 0}),
    (_t(), [1.0, 2.0], _t(), [1.0, 2.5], {"rtol": 0.1, "atol": 0.0}),
    (_t(), [1.0, 2.0], _t(), [1.0, 2.5], {"rtol": 0.1}),
    (_t(), [1.0, 2.0], _t(), [1.0, 2.5], {"msg": "custom message"}),
    (_t(), [1.0, 2.0], _t(), [1.0, 2.5], {"msg": lambda m: "prefix: " + m}),
    (_t(), [1.0, 2.0], _t(), [1.0, 2.0, 3.0], {}),
    (_t(), [1.0, 2.0], _t("float64"), [1.0, 2.0], {}),
    (_t(), [1.0, 2.0], _t("float64"), [1.0, 2.0], {"check_dtype": False}),
    (_t(), 2.0, _t(), 2.5, {}),
    (_t(), [1.0, float("inf")], _t(), [1.0, float("inf")], {}),
    (_t(), [1.0, float("inf")], _t(), [1.0, float("-inf")], {}),
    (_t(), [0.0, 1.0], _t(), [1e-6, 1.0], {}),
    (_t(), [1.0, 1.0], _t(), [0.0, 0.0], {}),
    (_raw, 2.0, _raw, 2.5, {}),
    (_raw, 2.0, _raw, 2, {}),
    (_raw, 2.0, _raw, 2, {"check_dtype": False}),
    (_raw, [1.0, 2.0], _raw, [1.0, 2.5], {}),
    (_raw, {"a": 1.0, "b": 2.0}, _raw, {"a": 1.0, "b": 2.5}, {}),
    (_raw, {"a": 1.0}, _raw, {"b": 1.0}, {}),
    (_raw, [1.0], _raw, [1.0, 2.0], {}),
    (_raw, True, _raw, False, {}),
    (_raw, None, _raw, 1.0, {}),
    (_t(), [1.0, 2.0], _raw, 1.0, {}),
]


@pytest.mark.parametrize("case", range(len(ASSERT_CLOSE_CASES)))
def test_assert_close_matches_torch(case):
    mk_a, a, mk_b, b, kw = ASSERT_CLOSE_CASES[case]
    res = []
    for lib in (torch, minitorch):
        res.append(outcome(lambda lib=lib: lib.testing.assert_close(mk_a(lib, a), mk_b(lib, b), **kw)))
    assert res[1][0] == res[0][0]
    assert res[1][1] == res[0][1] if res[0][0] == "ok" else res[1][1].replace("minitorch", "torch") == res[0][1]


def test_assert_close_nested_failure_names_the_item():
    res = []
    for lib in (torch, minitorch):
        res.append(outcome(lambda lib=lib: lib.testing.assert_close(
            {"w": [lib.tensor(1.0), lib.tensor([1.0, 2.0])]}, {"w": [lib.tensor(1.0), lib.tensor([1.0, 3.0])]})))
    assert res[1] == res[0] and res[0][1].endswith("The failure occurred for item ['w'][1]")


def test_assert_close_checks_stride_and_device(device):
    a = minitorch.ones(2, 3)
    with pytest.raises(AssertionError, match=r"attribute 'stride\(\)' do not match: \(1, 2\) != \(3, 1\)"):
        minitorch.testing.assert_close(minitorch.ones(3, 2).t(), a, check_stride=True)
    minitorch.testing.assert_close(minitorch.ones(3, 2).t(), a)
    if device == "cuda":
        with pytest.raises(AssertionError, match=r"attribute 'device' do not match: cuda:0 != cpu\."):
            minitorch.testing.assert_close(a.to(device), a)
        minitorch.testing.assert_close(a.to(device), a, check_device=False)


def test_assert_allclose_is_deprecated_with_looser_defaults():
    for lib in (torch, minitorch):
        with pytest.warns(FutureWarning, match="assert_allclose\\(\\)` is deprecated since 1.12"):
            lib.testing.assert_allclose(lib.tensor([1.0, 2.0]), [1.0, 2.0001])  # rtol 1e-4 for float32
        with pytest.warns(FutureWarning), pytest.raises(AssertionError, match="Mismatched elements: 1 / 2"):
            lib.testing.assert_allclose(lib.tensor([1.0, 2.0]), [1.0, 2.01])


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int64", "int8", "uint8", "bool"])
def test_make_tensor_shape_dtype_and_range(dtype):
    dt = getattr(minitorch, dtype)
    t = minitorch.testing.make_tensor(4, 5, dtype=dt, device="cpu")
    assert t.shape == (4, 5) and t.dtype is dt and t.is_contiguous()
    v = np_of(t).astype(np.float64)
    lo, hi = {"bool": (0, 1), "uint8": (0, 9)}.get(dtype, (-9, 9))
    assert v.min() >= lo and v.max() <= hi
    t = minitorch.testing.make_tensor((3, 4), dtype=dt, device="cpu", low=1, high=3, noncontiguous=True,
                                      exclude_zero=True) if dtype != "bool" else None
    if t is not None:
        assert t.shape == (3, 4) and not t.is_contiguous()
        v = np_of(t).astype(np.float64)
        assert v.min() >= 1 and v.max() < 3


def test_make_tensor_requires_grad_and_errors_match_torch():
    t = minitorch.testing.make_tensor(3, dtype=minitorch.float32, device="cpu", requires_grad=True)
    assert t.requires_grad and t.is_leaf
    for kw in ({"dtype": "int64", "requires_grad": True}, {"dtype": "float32", "low": 3, "high": 1},
               {"dtype": "uint8", "low": -5, "high": -1}, {"dtype": "float32", "low": float("nan")}):
        def make(lib, F, kw=kw):
            k = dict(kw, dtype=getattr(lib, kw["dtype"]))
            return lib.testing.make_tensor(2, device="cpu", **k)
        same_error(make)


# ---------------------------------------------------------------------------------------------------------------
# gradgradcheck
# ---------------------------------------------------------------------------------------------------------------
def test_gradgradcheck_accepts_exact_and_rejects_lost_second_derivative_like_torch():
    verdicts = []
    for lib in (torch, minitorch):
        class Square(lib.autograd.Function):
            @staticmethod
            def forward(ctx, a):
                ctx.save_for_backward(a)
                return a * a

            @staticmethod
            def backward(ctx, g):
                a, = ctx.saved_tensors
                return g * 2 * a.detach()  # right first derivative, second derivative lost

        x = lib.tensor([0.3, -0.8, 1.1], dtype=lib.float64, requires_grad=True)
        y = lib.tensor([0.5, 0.2], dtype=lib.float64, requires_grad=True)
        verdicts.append((
            lib.autograd.gradgradcheck(lambda a: (a.sin() * a).exp(), (x,)),
            lib.autograd.gradgradcheck(lambda a, b: (a[:2] * b).tanh().sum(), (x, y),
                                       grad_outputs=lib.tensor(1.5, dtype=lib.float64)),
            lib.autograd.gradcheck(Square.apply, (x,)),
            lib.autograd.gradgradcheck(Square.apply, (x,), raise_exception=False)))
        with pytest.raises(RuntimeError, match="Jacobian mismatch for output 0 with respect to input 0"):
            lib.autograd.gradgradcheck(Square.apply, (x,))
    assert verdicts[1] == verdicts[0] == (True, True, True, False)


# ---------------------------------------------------------------------------------------------------------------
# Function extras: setup_context, once_differentiable; autograd.grad runs only the needed part of the graph
# ---------------------------------------------------------------------------------------------------------------
def _function_module(lib):
    import importlib
    return importlib.import_module(lib.__name__ + ".autograd.function")


def test_setup_context_style_function_matches_torch():
    res = []
    for lib in (torch, minitorch):
        class Cube(lib.autograd.Function):
            @staticmethod
            def forward(a, k):
                return a ** 3 * k

            @staticmethod
            def setup_context(ctx, inputs, output):
                a, k = inputs
                ctx.save_for_backward(a)
                ctx.k = k

            @staticmethod
            def backward(ctx, g):
                a, = ctx.saved_tensors
                return g * 3 * a ** 2 * ctx.k, None

        x = lib.tensor([0.5, -1.0], dtype=lib.float64, requires_grad=True)
        y = Cube.apply(x, 2.0)
        g, = lib.autograd.grad(y.sum(), x, create_graph=True)
        h, = lib.autograd.grad(g.sum(), x)
        with lib.no_grad():
            plain = Cube.apply(x, 2.0)
        res.append((y.tolist(), g.tolist(), h.tolist(), plain.tolist(), plain.requires_grad, y.grad_fn.name()))
    assert res[1] == res[0]


def test_once_differentiable_matches_torch():
    res = []
    for lib in (torch, minitorch):
        class Exp(lib.autograd.Function):
            @staticmethod
            def forward(ctx, a):
                ctx.save_for_backward(a)
                return a.exp()

            @staticmethod
            @_function_module(lib).once_differentiable
            def backward(ctx, g):
                a, = ctx.saved_tensors
                return g * a.exp()

        x = lib.tensor([0.5, -1.0], dtype=lib.float64, requires_grad=True)
        first, = lib.autograd.grad(Exp.apply(x).sum(), x, create_graph=True)
        g2, = lib.autograd.grad((Exp.apply(x) * x).sum(), x, create_graph=True)
        other, = lib.autograd.grad(g2.sum(), x)  # the once-differentiable branch is not on this path's needs
        g3, = lib.autograd.grad((Exp.apply(x) * x).sum(), x, create_graph=True)
        err = outcome(lambda: g3.sum().backward())  # .backward() runs every node, the error node too
        res.append((first.tolist(), first.requires_grad, g2.tolist(), other.tolist(), err))
    assert res[1] == res[0]
    assert res[0][4] == ("RuntimeError",
                         "trying to differentiate twice a function that was marked with @once_differentiable")


def test_autograd_grad_runs_only_nodes_leading_to_the_inputs_like_torch():
    fired = []
    for lib in (torch, minitorch):
        log = []
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        w = lib.tensor([3.0, 4.0], requires_grad=True)
        a = x * 2
        b = w.exp()
        a.register_hook(lambda g, log=log: log.append("a"))
        b.register_hook(lambda g, log=log: log.append("b"))
        (gx,) = lib.autograd.grad((a * b).sum(), x)
        fired.append((sorted(log), gx.tolist(), w.grad))
    assert fired[1] == fired[0] and fired[0][0] == ["a"]


def test_register_multi_grad_hook_matches_torch():
    res = []
    for lib in (torch, minitorch):
        a = lib.rand(2, 3, requires_grad=True)
        b = lib.rand(2, 3, requires_grad=True)
        c = a * b
        d = a * b
        seen, first = [], []
        handle = lib.autograd.graph.register_multi_grad_hook(
            (a, b, c, d), lambda grads, seen=seen: seen.append([g is not None for g in grads]))
        c.sum().backward(retain_graph=True)
        c.sum().backward(inputs=(a,), retain_graph=True)
        (c + d).sum().backward(retain_graph=True)
        handle.remove()
        c.sum().backward(retain_graph=True)
        lib.autograd.graph.register_multi_grad_hook((a, b), lambda g, first=first: first.append(tuple(g.shape)),
                                                    mode="any")
        (c * 2).sum().backward(retain_graph=True)
        (c * 2).sum().backward()
        res.append((seen, first))
    assert res[1] == res[0]
    same_error(lambda lib, F: lib.autograd.graph.register_multi_grad_hook(
        (lib.ones(1, requires_grad=True),), print, mode="some"))


def test_leaf_hook_runs_once_with_backward_inputs():
    calls = []
    for lib in (torch, minitorch):
        log = []
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        x.register_hook(lambda g, log=log: log.append(g.tolist()))
        (x * 3).sum().backward(inputs=(x,))
        calls.append((log, x.grad.tolist()))
    assert calls[1] == calls[0] and len(calls[0][0]) == 1


def test_gradient_edges_dict_inputs_and_grad_argument_errors_match_torch():
    res = []
    for lib in (torch, minitorch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        h = x.exp()
        edge_h = lib.autograd.graph.get_gradient_edge(h)
        edge_x = lib.autograd.graph.get_gradient_edge(x)
        y = (h * 3).sum()
        u = lib.tensor([1.0], requires_grad=True)
        by_edge = lib.autograd.grad(y, (edge_h, edge_x), retain_graph=True)
        by_dict = lib.autograd.grad(y, {"x": x, "h": h}, retain_graph=True)
        materialized = lib.autograd.grad(y, (x, u), materialize_grads=True, retain_graph=True)
        errors = [outcome(f) for f in (
            lambda: lib.autograd.graph.get_gradient_edge(lib.ones(1)),
            lambda: lib.autograd.grad(y, lib.autograd.graph.get_gradient_edge(u), materialize_grads=True,
                                      retain_graph=True),
            lambda: lib.autograd.grad(y, (x, u), materialize_grads=True, allow_unused=False, retain_graph=True),
            lambda: lib.autograd.grad(y, (), retain_graph=True),
            lambda: lib.autograd.grad(y, (x, u), retain_graph=True))]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            lib.autograd.grad(y, x, only_inputs=False, retain_graph=True)
        res.append(([g.tolist() for g in by_edge], {k: v.tolist() for k, v in by_dict.items()},
                    [g.tolist() for g in materialized], edge_h.node.name(), edge_h.output_nr, edge_x.node.name(),
                    errors, [(w.category, str(w.message)) for w in caught]))
    assert res[1] == res[0]


def test_autograd_grad_skips_accumulators_of_other_leaves_like_torch():
    logs = []
    for lib in (torch, minitorch):
        log = []
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        w = lib.tensor([3.0, 4.0], requires_grad=True)
        y = (x * w).sum()
        for name, leaf in (("x", x), ("w", w)):
            acc = y.grad_fn.next_functions[0][0].next_functions[0 if name == "x" else 1][0]
            acc.register_prehook(lambda go, name=name, log=log: log.append(name))
        lib.autograd.grad(y, x, retain_graph=True)
        y.backward()
        logs.append(log)
    assert sorted(logs[1]) == sorted(logs[0]) == ["w", "x"]  # grad() ran neither accumulator


@pytest.mark.parametrize("use_reentrant", [False, True])
def test_checkpoint_tuple_outputs_and_non_tensor_args_match_torch(use_reentrant):
    res = []
    for lib, _, ck in LIBS.values():
        x, w1, w2 = _mlp(lib)

        def block(h, scale, tag):
            assert tag == "t"
            a = (h @ w1).tanh()
            return a * scale, (a @ w2).exp(), 7
        p, q, n = ck.checkpoint(block, x, 2.0, "t", use_reentrant=use_reentrant)
        (p.sum() + q.pow(2).mean()).backward()
        res.append([np_of(t) for t in (p, q, x.grad, w1.grad, w2.grad)] + [n])
    for a, b in zip(*res):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6)


def test_grad_is_grads_batched_matches_torch():
    res = []
    for lib in (torch, minitorch):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        w = lib.tensor([0.5, 1.5], requires_grad=True)
        y = x ** 2
        z = (w * 3).exp()
        g = lib.autograd.grad((y, z), (x, w), grad_outputs=(lib.eye(3)[:2] * 2, lib.ones(2, 2)),
                              is_grads_batched=True, retain_graph=True)
        errors = [outcome(lambda go=go: lib.autograd.grad(y, x, grad_outputs=go, is_grads_batched=True,
                                                          retain_graph=True))
                  for go in (lib.ones(3), lib.ones(2, 2), lib.tensor(1.0))]
        res.append(([t.tolist() for t in g], errors))
    assert res[1][0] == res[0][0]
    assert [(t, m.replace("minitorch", "torch")) for t, m in res[1][1]] == res[0][1]


def test_post_accumulate_grad_hooks_match_torch():
    res = []
    for lib in (torch, minitorch):
        x = lib.ones(2, requires_grad=True)
        log = []
        handle = x.register_post_accumulate_grad_hook(lambda t, log=log: log.append(t.grad.tolist()))
        (x * 2).sum().backward()
        (x * 3).sum().backward()
        lib.autograd.grad((x * 3).sum(), x)  # no accumulation, no hook
        (x * 1).sum().backward(inputs=(x,))
        handle.remove()
        (x * 3).sum().backward()
        errors = [outcome(lambda t=t: t.register_post_accumulate_grad_hook(print)) for t in (x * 2, lib.ones(2))]
        y = lib.ones(2, requires_grad=True)
        y.register_post_accumulate_grad_hook(lambda t: t.grad.mul_(0))
        errors.append(outcome(lambda: (y * 5).sum().backward()))
        # optimizer step inside the backward, one parameter at a time
        lin = lib.nn.Linear(3, 2)
        with lib.no_grad():
            lin.weight.copy_(lib.tensor(M32.T, dtype=lib.float32))
            lin.bias.fill_(0.5)
        opts = {p: lib.optim.SGD([p], lr=0.1) for p in lin.parameters()}
        for p in lin.parameters():
            p.register_post_accumulate_grad_hook(lambda t, opts=opts: (opts[t].step(), opts[t].zero_grad()) and None)
        lin(lib.tensor(M23, dtype=lib.float32)).pow(2).sum().backward()
        res.append((log, errors, np_of(lin.weight).round(6).tolist(), np_of(lin.bias).round(6).tolist()))
    assert res[1] == res[0]


MORE_ASSERT_CLOSE = [
    lambda L: ([L.tensor([True, False])], [L.tensor([True, True])]),
    lambda L: (L.tensor([1, 2], dtype=L.int8), L.tensor([1, -3], dtype=L.int8)),
    lambda L: (L.tensor([1, 200], dtype=L.uint8), L.tensor([1, 3], dtype=L.uint8)),
    lambda L: (L.tensor(3), L.tensor(4)),
    lambda L: (L.tensor([]), L.tensor([])),
    lambda L: (L.tensor([1.0, 2.0], requires_grad=True), L.tensor([1.0, 2.5])),
    lambda L: (np.array([1.0, 2.0]), np.array([1.0, 2.5])),
    lambda L: (np.array([1.0, 2.0]), L.tensor([1.0, 2.0])),
    lambda L: ((1.0, 2.0), [1.0, 2.5]),
    lambda L: ("abc", "abd"),
    lambda L: (L.tensor([1.0, 2.0]), L.tensor([1, 2])),
    lambda L: (np.float32(1.0), 1.0),
    lambda L: (1 + 2j, 1 + 2.5j),
    lambda L: (L.tensor([[1e-9, 1.0]]), L.tensor([[0.0, 1.0]])),
    lambda L: (L.tensor([1.0, 2.0, 3.0, 4.0]), L.tensor([1.5, 2.0, 3.5, 4.0])),
    lambda L: (L.tensor([1.0, float("nan")]), L.tensor([1.0, 2.0])),
    lambda L: (L.tensor([1.0, 2.0]).double(), L.tensor([1.0, 2.0 + 1e-9]).double()),
]


@pytest.mark.parametrize("case", range(len(MORE_ASSERT_CLOSE)))
def test_assert_close_more_inputs_match_torch(case):
    res = [outcome(lambda L=L: L.testing.assert_close(*MORE_ASSERT_CLOSE[case](L))) for L in (torch, minitorch)]
    assert res[1][0] == res[0][0] and str(res[1][1]).replace("minitorch", "torch") == str(res[0][1])


def test_pow_with_a_number_exponent_computes_only_the_base_gradient():
    """The exponent's gradient (a log and a mask per element) is made only when the exponent requires grad."""
    x = minitorch.tensor([[0.5, 2.0], [0.0, -1.5]], requires_grad=True)
    y = minitorch.pow(x, 3.0)
    with minitorch.profiler.profile() as prof:
        y.backward(minitorch.ones(2, 2))
    names = {e.key for e in prof.key_averages()}
    assert "PowBackward0" in names and "aten::log" not in names and "aten::masked_fill" not in names
    np.testing.assert_allclose(x.grad.numpy(), 3 * x.detach().numpy() ** 2)
    e = minitorch.tensor([2.0, 3.0], requires_grad=True)
    b = minitorch.tensor([1.5, 2.0], requires_grad=True)
    with minitorch.profiler.profile() as prof:
        (b ** e).sum().backward()
    assert "aten::log" in {ev.key for ev in prof.key_averages()}
    te, tb = torch.tensor([2.0, 3.0], requires_grad=True), torch.tensor([1.5, 2.0], requires_grad=True)
    (tb ** te).sum().backward()
    np.testing.assert_allclose(e.grad.numpy(), te.grad.numpy(), rtol=1e-6)
    np.testing.assert_allclose(b.grad.numpy(), tb.grad.numpy(), rtol=1e-6)


def test_grad_with_respect_to_a_non_leaf_does_not_run_that_tensors_own_backward():
    """autograd.grad stops at an input that leads to no other input: its node's backward does not run (here its
    saved tensors are gone, a backward having run through it already)."""
    x = minitorch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * x
    y.sum().backward()  # frees the product's saved tensors
    (g,) = minitorch.autograd.grad((y * 3).sum(), [y])
    assert g.tolist() == [3.0, 3.0, 3.0]
    x2 = minitorch.tensor([1.0, 2.0], requires_grad=True)
    h = x2 * 2
    gh, gx = minitorch.autograd.grad((h * h).sum(), [h, x2])  # h leads to x2: its backward runs
    np.testing.assert_allclose(gh.numpy(), [4.0, 8.0])
    np.testing.assert_allclose(gx.numpy(), [8.0, 16.0])
