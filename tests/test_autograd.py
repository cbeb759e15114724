"""Autograd: graph state, backward and grad, grad modes, broadcasting, freeing the tape, and one test per user
error. Expected gradients are written out from calculus, never computed by the library under test."""
import gc
import tracemalloc
import weakref

import numpy as np
import pytest

import minitorch
from minitorch.autograd import Function, gradcheck


def to_np(t):
    return t.detach().cpu().numpy()


def leaf(data, device="cpu", dtype=None):
    return minitorch.tensor(data, dtype=dtype, device=device, requires_grad=True)


# ---------------------------------------------------------------------------------------------------------------
# graph state
# ---------------------------------------------------------------------------------------------------------------
def test_requires_grad_grad_fn_is_leaf(device):
    x = minitorch.tensor([1.0, 2.0], device=device)
    assert not x.requires_grad and x.is_leaf and x.grad_fn is None and x.grad is None
    w = leaf([1.0, 2.0], device)
    assert w.requires_grad and w.is_leaf and w.grad_fn is None
    y = w * x
    assert y.requires_grad and not y.is_leaf and y.grad_fn is not None
    z = x * 2
    assert not z.requires_grad and z.is_leaf and z.grad_fn is None
    assert not (w > 1).requires_grad  # comparisons and index outputs are not differentiable
    assert not w.argmax().requires_grad
    assert w.max(0).values.requires_grad and not w.max(0).indices.requires_grad


def test_requires_grad_setter_and_requires_grad_():
    x = minitorch.zeros(2)
    assert x.requires_grad_() is x and x.requires_grad
    x.requires_grad_(False)
    assert not x.requires_grad
    x.requires_grad = True
    assert x.requires_grad
    y = minitorch.ones(2, requires_grad=True)
    assert y.requires_grad


def test_backward_simple_polynomial(device):
    a = np.array([-1.5, 0.5, 2.0])
    x = leaf(a, device)
    (x * x * x + 3 * x).sum().backward()
    np.testing.assert_allclose(to_np(x.grad), 3 * a ** 2 + 3)
    assert x.grad.dtype is x.dtype and x.grad.shape == x.shape and not x.grad.requires_grad


def test_input_used_twice_accumulates_within_graph(device):
    a = np.array([[1.0, -2.0], [0.5, 3.0]])
    x = leaf(a, device)
    y = x.exp()
    (y * x + y.sin() + x).sum().backward()
    np.testing.assert_allclose(to_np(x.grad), np.exp(a) * a + np.exp(a) + np.cos(np.exp(a)) * np.exp(a) + 1)


def test_backward_with_gradient_argument(device):
    x = leaf([1.0, 2.0, 3.0], device)
    y = x * x
    y.backward(gradient=minitorch.tensor([1.0, 0.1, 0.01], device=device))
    np.testing.assert_allclose(to_np(x.grad), [2.0, 0.4, 0.06], rtol=1e-6)


def test_grads_accumulate_across_backward_calls(device):
    x = leaf([1.0, 2.0], device)
    (x * 3).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_allclose(to_np(x.grad), [3 + 2, 3 + 4])
    y = (x * 10).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(to_np(x.grad), [25.0, 27.0])
    x.grad.zero_()
    (x * 2).sum().backward()
    np.testing.assert_allclose(to_np(x.grad), [2.0, 2.0])
    x.grad = None
    (x * 4).sum().backward()
    np.testing.assert_allclose(to_np(x.grad), [4.0, 4.0])


def test_grad_does_not_alias_tensors_the_user_still_holds(device):
    x = leaf([0.0, 0.0], device)
    g = minitorch.ones(2, device=device)
    (x + 1).backward(g)
    (x + 1).backward(minitorch.ones(2, device=device))  # accumulates into x.grad ...
    np.testing.assert_array_equal(to_np(x.grad), [2.0, 2.0])
    np.testing.assert_array_equal(to_np(g), [1.0, 1.0])  # ... never into the caller's gradient tensor
    a, b = leaf([0.0, 0.0], device), leaf([0.0, 0.0], device)
    (a + b).sum().backward()
    (a + b).sum().backward()
    a.grad.add_(10.0)
    np.testing.assert_array_equal(to_np(b.grad), [2.0, 2.0])


def test_retain_grad(device):
    x = leaf([1.0, 2.0], device)
    h = x * 3
    h.retain_grad()
    assert h.retains_grad
    g = x * 5  # a non-leaf without retain_grad keeps no grad
    (h * h + g).sum().backward()
    np.testing.assert_allclose(to_np(h.grad), [6.0, 12.0])
    assert g.grad is None
    np.testing.assert_allclose(to_np(x.grad), [18.0 + 5, 36.0 + 5])


def test_detach_stops_gradient_and_shares_storage(device):
    x = leaf([1.0, 2.0], device)
    d = x.detach()
    assert not d.requires_grad and d.is_leaf
    y = x * d  # d is a constant: dy/dx = d
    y.sum().backward()
    np.testing.assert_allclose(to_np(x.grad), [1.0, 2.0])
    with minitorch.no_grad():
        d[0] = 5.0  # shares storage with x
    assert x[0].item() == 5.0


def test_broadcast_gradients_reduced_to_input_shapes(device):
    a = leaf(np.arange(3.0).reshape(3, 1), device)
    b = leaf([1.0, 2.0, 3.0, 4.0], device)
    c = leaf(2.0, device)  # 0-d
    (a * b + c).sum().backward()
    assert a.grad.shape == (3, 1) and b.grad.shape == (4,) and c.grad.shape == ()
    np.testing.assert_allclose(to_np(a.grad), np.full((3, 1), 10.0))
    np.testing.assert_allclose(to_np(b.grad), np.full(4, 3.0))
    assert c.grad.item() == 12.0


def test_grad_dtype_follows_leaf_dtype(device):
    x = leaf([1.0, 2.0], device)  # float32
    y = x * minitorch.tensor([3.0, 4.0], dtype=minitorch.float64, device=device)
    assert y.dtype is minitorch.float64
    y.sum().backward()
    assert x.grad.dtype is minitorch.float32
    np.testing.assert_allclose(to_np(x.grad), [3.0, 4.0])


def test_deep_chain(device):
    x = leaf([1.0], device, minitorch.float64)
    y = x
    for _ in range(3000):  # deeper than Python's recursion limit
        y = y * 1.001
    y.sum().backward()
    np.testing.assert_allclose(to_np(x.grad), [1.001 ** 3000], rtol=1e-9)
    z = x
    for i in range(50):
        z = (z * 0.5).tanh() + z * 0.5 if i % 2 else z.sigmoid() * 2
    z.sum().backward()
    assert np.isfinite(to_np(x.grad)).all()


def test_register_hook_can_replace_grad():
    x = leaf([1.0, 2.0])
    seen = []
    x.register_hook(lambda g: seen.append(to_np(g)))
    h = x * 2
    h.register_hook(lambda g: g * 10)
    h.sum().backward()
    np.testing.assert_allclose(seen[0], [20.0, 20.0])
    np.testing.assert_allclose(to_np(x.grad), [20.0, 20.0])


# in-place ops on non-leaf tensors are recorded (y = x * 1 first, so y is a non-leaf); expected d(sum y)/dx
A_POS = np.array([0.5, 1.5, 0.7])
INPLACE_GRADS = [
    ("add_", lambda y, x: y.add_(2.0), lambda a: np.ones_like(a)),
    ("iadd_tensor", lambda y, x: y.__iadd__(x), lambda a: np.full_like(a, 2.0)),
    ("sub_", lambda y, x: y.sub_(x * 3), lambda a: np.full_like(a, -2.0)),
    ("mul_", lambda y, x: y.mul_(3.0), lambda a: np.full_like(a, 3.0)),
    ("imul_by_input", lambda y, x: y.__imul__(x), lambda a: 2 * a),
    ("div_", lambda y, x: y.div_(4.0), lambda a: np.full_like(a, 0.25)),
    ("pow_", lambda y, x: y.pow_(3), lambda a: 3 * a ** 2),
    ("exp_", lambda y, x: y.exp_(), np.exp),
    ("sigmoid_", lambda y, x: y.sigmoid_(), lambda a: np.exp(-a) / (1 + np.exp(-a)) ** 2),
    ("tanh_", lambda y, x: y.tanh_(), lambda a: 1 - np.tanh(a) ** 2),
    ("sqrt_", lambda y, x: y.sqrt_(), lambda a: 0.5 / np.sqrt(a)),
    ("relu_", lambda y, x: (y - 1).relu_(), lambda a: (a > 1).astype(float)),
    ("clamp_", lambda y, x: y.clamp_(0.6, 1.0), lambda a: ((a > 0.6) & (a < 1.0)).astype(float)),
    ("neg_", lambda y, x: y.neg_(), lambda a: -np.ones_like(a)),
    ("chain_of_two", lambda y, x: y.mul_(2).exp_(), lambda a: 2 * np.exp(2 * a)),
]


@pytest.mark.parametrize("name, apply, dydx", INPLACE_GRADS, ids=[i[0] for i in INPLACE_GRADS])
def test_inplace_ops_on_non_leaf_are_differentiable(name, apply, dydx, device):
    x = leaf(A_POS, device, minitorch.float64)
    y = x * 1
    out = apply(y, x)
    out.sum().backward()
    np.testing.assert_allclose(to_np(x.grad), dydx(A_POS), rtol=1e-12)


def test_inplace_on_view_of_non_leaf_reaches_the_base(device):
    x = leaf(np.ones((2, 3)), device)
    y = x * 1
    y[0].mul_(2)  # an in-place op through a view changes y's history too
    y.t()[2].add_(y[:, 0])  # column 2 += column 0, through a transposed view
    np.testing.assert_array_equal(to_np(y), [[2.0, 2.0, 4.0], [1.0, 1.0, 2.0]])
    (y * y).sum().backward()
    # y00 = 2 x00, y01 = 2 x01, y02 = 2 x02 + 2 x00, y10 = x10, y11 = x11, y12 = x12 + x10
    want = np.array([[2 * 2 * 2 + 2 * 4 * 2, 2 * 2 * 2, 2 * 4 * 2], [2 * 1 + 2 * 2, 2 * 1, 2 * 2]], dtype=float)
    np.testing.assert_allclose(to_np(x.grad), want)


def test_sibling_view_reads_writes_made_through_another_view(device):
    x = leaf([1.0, 2.0, 3.0], device)
    base = x * 1
    a, b = base[:2], base[1:]  # overlapping views of one base, made before any write
    b.mul_(3)
    a.mul_(10)  # a was made before b's write: its history must include it
    assert b.grad_fn.name() == "AsStridedBackward0"
    np.testing.assert_array_equal(to_np(b), [60.0, 9.0])
    (a.sum() + b.sum() * 2).backward()
    # a = [10 x0, 30 x1], b = [30 x1, 3 x2] after both writes
    np.testing.assert_allclose(to_np(x.grad), [10.0, 90.0, 6.0])


def test_view_reads_a_later_write_to_its_base(device):
    x = leaf([1.0, 2.0, 3.0], device)
    base = x * 1
    v = base[1:]
    base.mul_(2)
    v.sum().backward()
    np.testing.assert_allclose(to_np(x.grad), [0.0, 2.0, 2.0])


@pytest.mark.parametrize("op", ["mul_", "sigmoid_"])
def test_inplace_on_an_as_strided_view_reaching_outside_its_parent_view(op):
    # v addresses base elements 0 and 2 though it is taken of base[2:]: the old values' gradient goes to the base
    x = leaf([1.0, 2.0, 3.0, 4.0, 5.0], dtype=minitorch.float64)
    y = x * 2
    v = y[2:].as_strided((2,), (2,), 0)
    getattr(v, op)(*([3.0] if op == "mul_" else []))
    (y * minitorch.tensor([1.0, 2.0, 3.0, 4.0, 5.0], dtype=minitorch.float64)).sum().backward()
    d = [3.0, 3.0] if op == "mul_" else [s * (1 - s) for s in (1 / (1 + np.exp(-2.0)), 1 / (1 + np.exp(-6.0)))]
    np.testing.assert_allclose(to_np(x.grad), [2 * d[0], 4.0, 3 * 2 * d[1], 8.0, 10.0], rtol=1e-12)


def test_a_view_made_under_no_grad_cannot_be_written_in_place_with_grad_on():
    x = leaf([1.0, 2.0, 3.0])
    y = x * 1
    with minitorch.no_grad():
        v = y[1:]
        v.mul_(2)  # (inside the block: allowed, and not recorded)
    with pytest.raises(RuntimeError, match="created in no_grad mode"):
        v.mul_(2)
    assert y.tolist() == [1.0, 4.0, 6.0]  # the refused write changed nothing
    u = v[:1]  # a view of that view, made with grad mode on: refused too
    with pytest.raises(RuntimeError, match="created in no_grad mode"):
        u.mul_(10)
    assert y.tolist() == [1.0, 4.0, 6.0]
    plain = minitorch.ones(3)
    with minitorch.no_grad():
        w = plain[1:]  # of a tensor that does not require grad: no restriction
    w.mul_(2)
    assert plain.tolist() == [1.0, 2.0, 2.0]


def test_a_stale_view_unbound_or_through_a_compiled_call_reads_its_base_anew():
    a = leaf([1.0, 1.0, 1.0, 1.0])
    y = a * 1
    z = y.view(2, 2)
    y.mul_(3)
    p, q = z.unbind(0)
    (p + q).sum().backward()
    np.testing.assert_allclose(to_np(a.grad), [3.0] * 4)
    f = minitorch.compile(lambda v: v * 2)
    a = leaf([1.0, 1.0, 1.0])
    for _ in range(3):  # the capture, then replays
        a.grad = None
        b = a * 1
        v = b[:2]
        b.mul_(3)
        f(v).sum().backward()
        np.testing.assert_allclose(to_np(a.grad), [6.0, 6.0, 0.0])


def test_retain_grad_follows_a_view_whose_history_is_refreshed():
    x = leaf([1.0, 1.0, 1.0])
    b = x * 2
    v = b[:2]
    v.retain_grad()
    b[2:].mul_(2)
    v.sum().backward()
    np.testing.assert_allclose(to_np(v.grad), [1.0, 1.0])


def test_full_slice_and_ellipsis_are_new_views():
    x = leaf([1.0, 2.0])
    for v in (x[:], x[...]):
        assert v is not x and v._base is x and v.grad_fn is not None
        with pytest.raises(RuntimeError, match="view of a leaf Variable"):
            v.mul_(2)
    y = minitorch.zeros(2)
    z = y[:]
    z.add_(1)
    assert y.tolist() == [1.0, 1.0] and y._version == 1


OVERWRITES = [
    ("zero_", lambda t: t.zero_(), "ZeroBackward0"),
    ("fill_", lambda t: t.fill_(2.0), "FillBackward2"),
    ("copy_", lambda t: t.copy_(minitorch.ones(t.shape)), "torch::autograd::CopyBackwards"),
    ("normal_", lambda t: t.normal_(), "NormalBackward0"),
    ("uniform_", lambda t: t.uniform_(), "UniformBackward0"),
    ("bernoulli_", lambda t: t.bernoulli_(0.5), "BernoulliBackward2"),
    ("cauchy_", lambda t: t.cauchy_(), "CauchyBackward0"),
]


@pytest.mark.parametrize("name, write, node", OVERWRITES, ids=[o[0] for o in OVERWRITES])
def test_writes_that_read_nothing_cut_the_gradient_of_the_old_values(name, write, node):
    # the written values get no gradient from the old ones (they were sent through the overwritten values before)
    x = leaf([1.0, 2.0, 3.0])
    y = x * 2
    write(y)
    assert y.grad_fn.name() == node
    (y * 5).sum().backward()
    np.testing.assert_array_equal(to_np(x.grad), [0.0, 0.0, 0.0])
    x.grad = None
    y = x * 2
    write(y[1:])  # through a view: the base's written region
    assert y.grad_fn.name() == "torch::autograd::CopySlices"
    (y * 5).sum().backward()
    np.testing.assert_array_equal(to_np(x.grad), [10.0, 0.0, 0.0])


def test_copy_from_a_source_that_requires_grad_sends_it_the_gradient_summed_and_cast():
    x = leaf([1.0, 2.0, 3.0])
    w = leaf([5.0, 7.0, 9.0], dtype=minitorch.float64)
    y = x * 2
    y.copy_(w)
    (y * minitorch.tensor([1.0, 10.0, 100.0])).sum().backward()
    np.testing.assert_array_equal(to_np(x.grad), [0.0, 0.0, 0.0])
    assert w.grad.dtype == minitorch.float64 and w.grad.tolist() == [1.0, 10.0, 100.0]
    w.grad = None
    z = minitorch.zeros(2, 3)  # a plain tensor: it requires grad after the copy
    z.copy_(w)
    assert z.requires_grad and not z.is_leaf
    (z * minitorch.tensor([[1.0], [2.0]])).sum().backward()
    assert w.grad.tolist() == [3.0, 3.0, 3.0]
    w.grad = None
    z = minitorch.zeros(3)
    z[1:].copy_(w[1:] * 3)
    z.sum().backward()
    assert w.grad.tolist() == [0.0, 3.0, 3.0]
    y = x * 2  # an integer 0-d source is broadcast like any other
    y.copy_(minitorch.tensor(3))
    assert y.tolist() == [3.0, 3.0, 3.0] and y.requires_grad
    with pytest.raises(RuntimeError, match="single memory location"):
        y[:2].copy_(y[1:])


def test_retain_grad_and_hooks_across_an_in_place_write():
    # retain_grad moves to the new value; a hook registered before the write sees the old value's gradient, once
    x = leaf([1.0, 2.0, 3.0])
    y = x * 2
    y.retain_grad()
    seen = []
    y.register_hook(lambda g: seen.append(g.tolist()))
    y.mul_(3)
    (y * 2).sum().backward()
    assert y.grad.tolist() == [2.0, 2.0, 2.0]
    assert seen == [[6.0, 6.0, 6.0]]
    np.testing.assert_array_equal(to_np(x.grad), [12.0, 12.0, 12.0])


def test_unsafe_split_pieces_may_be_written_in_place():
    x = leaf([1.0, 2.0, 3.0, 4.0])
    for pieces in (lambda y: y.unsafe_split(2), lambda y: y.unsafe_chunk(2)):
        x.grad = None
        a, b = pieces(x * 1)
        a.mul_(2)
        (a.sum() + b.sum()).backward()
        assert x.grad.tolist() == [2.0, 2.0, 1.0, 1.0]
    a, _ = (x * 1).split(2)
    with pytest.raises(RuntimeError, match="is a view and is being modified inplace"):
        a.mul_(2)


def test_resize_refuses_tensors_that_require_grad():
    x = leaf([0.0, 0.0])
    for t in (x, x.exp(), x[:1]):
        with pytest.raises(RuntimeError, match="cannot resize variables that require grad"):
            t.resize_(4)
    z = minitorch.zeros(2)
    z.resize_(4)
    assert z.shape == (4,)


# ---------------------------------------------------------------------------------------------------------------
# grad modes
# ---------------------------------------------------------------------------------------------------------------
def test_no_grad_enable_grad_set_grad_enabled_contexts():
    x = leaf([1.0])
    assert minitorch.is_grad_enabled()
    with minitorch.no_grad():
        assert not minitorch.is_grad_enabled()
        y = x * 2
        with minitorch.enable_grad():
            z = x * 2
        assert not minitorch.is_grad_enabled()
    assert minitorch.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad
    with minitorch.set_grad_enabled(False):
        assert not (x * 2).requires_grad
        with minitorch.set_grad_enabled(True):
            assert (x * 2).requires_grad
    assert minitorch.is_grad_enabled()
    with pytest.raises(ValueError):
        with minitorch.no_grad():
            raise ValueError("boom")
    assert minitorch.is_grad_enabled()  # restored on exceptions too


def test_set_grad_enabled_as_a_function():
    try:
        minitorch.set_grad_enabled(False)
        assert not minitorch.is_grad_enabled()
        assert not (leaf([1.0]) * 2).requires_grad
    finally:
        minitorch.set_grad_enabled(True)
    assert minitorch.is_grad_enabled()


def test_grad_modes_as_decorators():
    x = leaf([1.0])

    @minitorch.no_grad()
    def f(t):
        return t * 2

    @minitorch.enable_grad()
    def g(t):
        return t * 2

    @minitorch.set_grad_enabled(False)
    def h(t):
        return t * 2

    assert not f(x).requires_grad
    assert not h(x).requires_grad
    with minitorch.no_grad():
        assert g(x).requires_grad
    assert minitorch.is_grad_enabled()
    assert f.__name__ == "f"

def test_grad_mode_and_inference_mode_are_per_thread():
    # no_grad in one thread leaves another recording (PyTorch's grad mode is thread-local); a new thread starts
    # with grad enabled even when the thread that starts it is inside no_grad
    import threading
    x = leaf([1.0, 2.0])
    inside, other = threading.Event(), threading.Event()
    seen = {}

    def worker():
        inside.wait()
        seen["enabled"] = minitorch.is_grad_enabled()
        seen["inference"] = minitorch.is_inference_mode_enabled()
        seen["records"] = (x * 2).requires_grad
        other.set()

    t = threading.Thread(target=worker)
    t.start()
    with minitorch.inference_mode():
        inside.set()
        assert other.wait(10)
        assert not minitorch.is_grad_enabled() and minitorch.is_inference_mode_enabled()
    t.join()
    assert seen == {"enabled": True, "inference": False, "records": True}

    def turn_off():
        minitorch.set_grad_enabled(False)
        seen["off"] = minitorch.is_grad_enabled()
    t = threading.Thread(target=turn_off)
    t.start()
    t.join()
    assert seen["off"] is False and minitorch.is_grad_enabled() and (x * 2).requires_grad



def test_inplace_update_of_leaf_under_no_grad():
    w = leaf([1.0, 2.0])
    (w * w).sum().backward()
    with minitorch.no_grad():
        w -= 0.25 * w.grad
    assert w.is_leaf and w.requires_grad
    np.testing.assert_allclose(to_np(w), [0.5, 1.0])


# ---------------------------------------------------------------------------------------------------------------
# autograd.grad and higher order
# ---------------------------------------------------------------------------------------------------------------
def test_autograd_grad_does_not_touch_dot_grad(device):
    x = leaf([1.0, 2.0], device)
    y = leaf([3.0, 4.0], device)
    gx, gy = minitorch.autograd.grad((x * y).sum(), (x, y))
    np.testing.assert_allclose(to_np(gx), [3.0, 4.0])
    np.testing.assert_allclose(to_np(gy), [1.0, 2.0])
    assert x.grad is None and y.grad is None


def test_second_derivative_of_cube(device):
    a = np.array([-2.0, 0.5, 3.0])
    x = leaf(a, device, minitorch.float64)
    (g,) = minitorch.autograd.grad((x ** 3).sum(), x, create_graph=True)
    np.testing.assert_allclose(to_np(g), 3 * a ** 2)
    assert g.requires_grad
    (h,) = minitorch.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(to_np(h), 6 * a)
    x2 = leaf(a, device, minitorch.float64)
    (g2,) = minitorch.autograd.grad((x2 ** 3).sum(), x2, create_graph=True)
    g2.sum().backward()  # backward through the gradient graph into .grad
    np.testing.assert_allclose(to_np(x2.grad), 6 * a)


def test_grad_of_intermediate_and_grad_outputs(device):
    x = leaf([1.0, 2.0], device)
    h = x * x
    out = h * 3
    (gh,) = minitorch.autograd.grad(out, h, grad_outputs=minitorch.tensor([1.0, 2.0], device=device))
    np.testing.assert_allclose(to_np(gh), [3.0, 6.0])


def test_gradcheck_accepts_a_correct_function_and_rejects_a_wrong_one():
    class Cube(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * x * x

    class WrongCube(Cube):
        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 2 * x * x

    x = leaf([0.5, -1.5, 2.0], dtype=minitorch.float64)
    y = Cube.apply(x)
    np.testing.assert_allclose(to_np(y), [0.125, -3.375, 8.0])
    assert gradcheck(Cube.apply, (x,))
    assert gradcheck(WrongCube.apply, (x,), raise_exception=False) is False
    with pytest.raises(RuntimeError, match="Jacobian mismatch"):
        gradcheck(WrongCube.apply, (x,))


# ---------------------------------------------------------------------------------------------------------------
# freeing the tape
# ---------------------------------------------------------------------------------------------------------------
def test_graph_is_freed_by_refcount_after_backward():
    x = leaf(np.linspace(-1, 1, 5))
    y = x.exp()
    z = y * y
    loss = z.sum()
    refs = [weakref.ref(y.grad_fn), weakref.ref(z.grad_fn), weakref.ref(loss.grad_fn)]
    loss.backward()
    gc.disable()  # no reference cycles may keep the tape alive once saved tensors are released
    try:
        del y, z, loss
        assert [r() for r in refs] == [None, None, None]
    finally:
        gc.enable()


def test_graph_without_backward_is_collectable():
    x = leaf(np.linspace(-1, 1, 5))
    y = (x.exp() * x).sum()
    ref = weakref.ref(y.grad_fn)
    del y
    gc.collect()
    assert ref() is None
    assert x.grad is None


def test_memory_does_not_grow_over_training_steps():
    minitorch.manual_seed(0)
    X = minitorch.randn(16, 3)
    Y = X @ minitorch.tensor([1.0, -2.0, 0.5]) + 0.25
    w = minitorch.zeros(3, requires_grad=True)
    b = minitorch.zeros(1, requires_grad=True)

    def step():
        loss = ((X @ w + b - Y) ** 2).mean()
        loss.backward()
        with minitorch.no_grad():
            w.sub_(0.1 * w.grad)
            b.sub_(0.1 * b.grad)
            w.grad.zero_()
            b.grad.zero_()
        return loss.item()

    first = step()
    for _ in range(200):  # warm up caches
        step()
    gc.collect()
    n_objects = len(gc.get_objects())
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(2000):
            last = step()
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown < 256 * 1024, f"traced memory grew by {grown} bytes over 2000 steps"
    assert len(gc.get_objects()) - n_objects < 500
    assert last < first * 1e-3  # and it trained
    np.testing.assert_allclose(to_np(w), [1.0, -2.0, 0.5], atol=1e-3)


# ---------------------------------------------------------------------------------------------------------------
# user errors: one pytest.raises(match=...) each
# ---------------------------------------------------------------------------------------------------------------
def test_error_backward_on_non_scalar_without_gradient():
    y = leaf([1.0, 2.0]) * 2
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs"):
        y.backward()


def test_error_backward_twice_through_freed_graph():
    x = leaf([1.0, 2.0])
    y = (x.exp() * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        y.backward()


def test_error_backward_on_tensor_without_grad():
    with pytest.raises(RuntimeError, match="does not require grad"):
        minitorch.ones(2).sum().backward()


def test_error_inplace_on_leaf_requiring_grad():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place operation"):
        x.add_(1.0)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place operation"):
        x[0] = 3.0


def test_error_modifying_a_tensor_saved_for_backward():
    x = leaf([1.0, 2.0])
    a = x * 1
    b = a * a  # saves a
    a.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        b.sum().backward()
    y = x.exp()  # exp saves its output
    y.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_error_matmul_shape_mismatch():
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied \(2x3 and 4x5\)"):
        minitorch.ones(2, 3) @ minitorch.ones(4, 5)
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied \(2x3 and 4x5\)"):
        minitorch.mm(minitorch.ones(2, 3), minitorch.ones(4, 5))


def test_error_broadcast_mismatch():
    with pytest.raises(RuntimeError, match=r"The size of tensor a \(3\) must match the size of tensor b \(4\)"):
        minitorch.ones(2, 3) + minitorch.ones(4)


def test_error_index_out_of_range():
    x = minitorch.ones(2, 3)
    with pytest.raises(IndexError, match="index 5 is out of bounds for dimension 0 with size 2"):
        x[5]
    with pytest.raises(IndexError):
        x[0, -4]
    with pytest.raises(IndexError):
        x[minitorch.tensor([0, 2])]
    with pytest.raises(IndexError):
        x[:, minitorch.tensor([-4])]
    with pytest.raises(IndexError):
        x[minitorch.tensor([True, False, True])]  # mask longer than the dim
    with pytest.raises(IndexError):
        x[5] = 1.0


def test_error_gather_scatter_index_select_index_out_of_range():
    # kernels do no bounds checks, so these must be caught before launch (PyTorch raises IndexError or RuntimeError)
    x = minitorch.zeros(2, 3)
    bad = minitorch.tensor([[0, 3], [1, 1]])
    with pytest.raises((RuntimeError, IndexError), match="out of"):
        x.index_select(1, minitorch.tensor([3]))
    with pytest.raises((RuntimeError, IndexError), match="out of"):
        x.index_select(0, minitorch.tensor([-3]))
    with pytest.raises((RuntimeError, IndexError), match="out of"):
        x.gather(1, bad)
    with pytest.raises((RuntimeError, IndexError), match="out of"):
        x.scatter_add(1, bad, minitorch.ones(2, 2))
    with pytest.raises((RuntimeError, IndexError), match="out of"):
        x.scatter(1, bad, 1.0)
    # an expanded index is checked on its distinct entries: a bad one anywhere in the base is still caught, a
    # negative one is still wrapped
    base = minitorch.tensor([0, 2, 1, 0])
    for v in (3, -4):
        idx = base.clone()
        idx[2] = v
        with pytest.raises(IndexError, match=f"index {v} is out of bounds"):
            minitorch.zeros(5, 3).gather(1, idx.view(-1, 1).expand(4, 2))
        with pytest.raises(IndexError, match=f"index {v} is out of bounds"):
            minitorch.zeros(3, 3).gather(1, idx.view(1, -1).expand(3, 4))
    idx = base.clone()
    idx[1] = -1
    got = minitorch.arange(12.0).reshape(3, 4).gather(1, idx.view(1, -1).expand(3, 4))
    assert got.tolist() == [[0.0, 3.0, 1.0, 0.0], [4.0, 7.0, 5.0, 4.0], [8.0, 11.0, 9.0, 8.0]]


def test_error_bad_dim():
    x = minitorch.ones(2, 3)
    with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range of \[-2, 1\], but got 2\)"):
        x.sum(2)
    with pytest.raises(IndexError, match="Dimension out of range"):
        x.transpose(0, -3)
    with pytest.raises(IndexError, match="Dimension out of range"):
        x.max(dim=5)
    with pytest.raises(IndexError, match="Dimension out of range"):
        minitorch.cat([x, x], dim=2)


def test_error_view_incompatible_strides():
    with pytest.raises(RuntimeError, match="view size is not compatible with input tensor's size and stride"):
        minitorch.ones(2, 3).t().view(6)
    with pytest.raises(RuntimeError, match=r"shape '\[4\]' is invalid for input of size 6"):
        minitorch.ones(2, 3).view(4)


def test_error_requires_grad_on_int_tensor():
    with pytest.raises(RuntimeError, match="only Tensors of floating point dtype can require gradients"):
        minitorch.tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError, match="only Tensors of floating point dtype can require gradients"):
        minitorch.tensor([1, 2]).requires_grad_()


def test_error_item_on_multi_element_tensor():
    with pytest.raises(RuntimeError, match="a Tensor with 6 elements cannot be converted to Scalar"):
        minitorch.ones(2, 3).item()


def test_error_bool_of_multi_element_tensor():
    with pytest.raises(RuntimeError, match="Boolean value of Tensor with more than one value is ambiguous"):
        bool(minitorch.ones(2))


def test_error_numpy_on_tensor_requiring_grad():
    with pytest.raises(RuntimeError, match=r"Can't call numpy\(\) on Tensor that requires grad"):
        leaf([1.0]).numpy()


def test_error_gradient_shape_mismatch():
    y = leaf([1.0, 2.0]) * 2
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        y.backward(minitorch.ones(3))


def test_error_grad_of_unused_input():
    x, z = leaf([1.0]), leaf([2.0])
    with pytest.raises(RuntimeError, match="appears to not have been used in the graph"):
        minitorch.autograd.grad((x * 2).sum(), (x, z))
    gx, gz = minitorch.autograd.grad((x * 2).sum(), (x, z), allow_unused=True)
    assert gz is None and gx.item() == 2.0


def test_error_requires_grad_false_on_non_leaf():
    y = leaf([1.0]) * 2
    with pytest.raises(RuntimeError, match="you can only change requires_grad flags of leaf variables"):
        y.requires_grad_(False)


def test_error_expand_and_cat_shape_mismatch():
    with pytest.raises(RuntimeError, match="The expanded size of the tensor"):
        minitorch.ones(2, 3).expand(2, 4)
    with pytest.raises(RuntimeError, match="Sizes of tensors must match except in dimension 1"):
        minitorch.cat([minitorch.ones(2, 3), minitorch.ones(3, 3)], dim=1)
    with pytest.raises(RuntimeError, match="stack expects each tensor to be equal size"):
        minitorch.stack([minitorch.ones(2), minitorch.ones(3)])


def test_error_mean_of_integer_tensor():
    with pytest.raises(RuntimeError, match=r"mean\(\): could not infer output dtype"):
        minitorch.tensor([1, 2]).mean()


def test_error_reduction_of_empty_tensor_without_identity():
    with pytest.raises(RuntimeError, match=r"Expected reduction dim to be specified for input.numel\(\) == 0"):
        minitorch.zeros(0).max()
    with pytest.raises((RuntimeError, IndexError), match="Expected reduction dim 0 to have non-zero size"):
        minitorch.zeros(0, 3).max(0)
    with pytest.raises((RuntimeError, IndexError), match="Expected reduction dim 0 to have non-zero size"):
        minitorch.zeros(0, 3).argmax(0)


def test_error_inplace_result_would_need_broadcasting():
    with pytest.raises(RuntimeError, match=r"output with shape \[3\] doesn't match the broadcast shape \[2, 3\]"):
        minitorch.zeros(3).add_(minitorch.ones(2, 3))


def test_error_too_many_indices():
    with pytest.raises(IndexError, match="too many indices for tensor of dimension 1"):
        minitorch.tensor([1, 2])[0, 0]
