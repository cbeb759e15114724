"""nn.Module hooks/state-dict machinery, nn.modules import paths, nn.init additions and nn.utils (weight/spectral
norm, parametrize, prune, fusion, clipping), checked against PyTorch run on the same model."""
import copy
import math
import warnings

import numpy as np
import pytest

import minitorch
import minitorch.nn as mnn

RNG = np.random.default_rng(7)


@pytest.fixture(scope="module")
def torch():
    t = pytest.importorskip("torch")
    import torch.nn.utils.fusion  # noqa: F401  (torch does not import these submodules itself)
    import torch.nn.utils.parametrize  # noqa: F401
    import torch.nn.utils.prune  # noqa: F401
    return t


def npy(t):
    return t.detach().cpu().numpy()


def close(a, b, tol=1e-5):
    np.testing.assert_allclose(npy(a) if hasattr(a, "detach") else a, npy(b) if hasattr(b, "detach") else b,
                               rtol=tol, atol=tol)


def copy_state(src, dst, device="cpu"):
    """Load a torch module's state into a minitorch module (same keys), strictly."""
    dst.load_state_dict({k: minitorch.tensor(v.detach().numpy()).to(device) for k, v in src.state_dict().items()})


def summary(v):
    """A comparable record of a hook argument: shapes and rounded values of tensors, None kept."""
    if v is None:
        return None
    if isinstance(v, (tuple, list)):
        return tuple(summary(x) for x in v)
    if hasattr(v, "detach"):
        return (tuple(v.shape), np.round(npy(v).astype(np.float64), 4).tolist())
    return v


def both(torch, scenario):
    """Run ``scenario(lib)`` with torch and minitorch; return both logs."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return scenario(torch), scenario(minitorch)


class Two(object):
    """Builds the same small two-input, two-output model in either library."""

    @staticmethod
    def make(lib):
        class M(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.a = lib.nn.Linear(3, 2)
                self.b = lib.nn.Linear(3, 2)

            def forward(self, x, y, scale=1.0):
                return self.a(x) * scale, self.b(y).tanh()
        return M()


W_A = RNG.standard_normal((2, 3)).astype(np.float32)
W_B = RNG.standard_normal((2, 3)).astype(np.float32)
X = RNG.standard_normal((4, 3)).astype(np.float32)
Y = RNG.standard_normal((4, 3)).astype(np.float32)


def _two(lib):
    m = Two.make(lib)
    with lib.no_grad():
        m.a.weight.copy_(lib.tensor(W_A))
        m.b.weight.copy_(lib.tensor(W_B))
        m.a.bias.fill_(0.5)
        m.b.bias.fill_(-0.25)
    return m


# ---------------------------------------------------------------------------------------------------------------
# forward hooks
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.torch
def test_forward_hook_order_kwargs_prepend_and_replacement(torch):
    def scenario(lib):
        log = []
        m = _two(lib)
        h1 = m.register_forward_pre_hook(lambda mod, args: log.append(("pre", len(args))))
        m.register_forward_pre_hook(lambda mod, args, kw: (log.append(("prekw", sorted(kw))),
                                                           (args, {"scale": 2.0}))[1],
                                    with_kwargs=True, prepend=True)
        m.register_forward_hook(lambda mod, args, out: log.append(("fwd", summary(out[0]))))
        m.register_forward_hook(lambda mod, args, kw, out: (log.append(("fwdkw", kw["scale"])), out[0])[1],
                                with_kwargs=True)
        m.register_forward_hook(lambda mod, args, out: log.append(("first", summary(out[0]))), prepend=True)
        out = m(lib.tensor(X), lib.tensor(Y), scale=3.0)
        log.append(("out", summary(out)))
        h1.remove()
        h1.remove()  # removing twice is harmless
        m(lib.tensor(X), lib.tensor(Y))
        log.append(("after-remove", len(log)))
        return log

    a, b = both(torch, scenario)
    assert a == b


@pytest.mark.torch
def test_forward_pre_hook_replaces_single_argument_and_bad_kwargs_return(torch):
    def scenario(lib):
        m = lib.nn.Identity()
        m.register_forward_pre_hook(lambda mod, args: args[0] * 2)
        out = m(lib.tensor([1.0, 2.0]))
        m2 = lib.nn.Identity()
        m2.register_forward_pre_hook(lambda mod, args, kw: 5, with_kwargs=True)
        with pytest.raises(RuntimeError, match="forward pre-hook must return None or a tuple") as e:
            m2(lib.tensor([1.0]))
        return summary(out), str(e.value)

    a, b = both(torch, scenario)
    assert a == b


@pytest.mark.torch
def test_always_call_forward_hook_runs_when_forward_raises(torch):
    def scenario(lib):
        log = []

        class Bad(lib.nn.Module):
            def forward(self, x):
                raise ValueError("boom")
        m = Bad()
        m.register_forward_hook(lambda mod, args, out: log.append(("always", out)), always_call=True)
        m.register_forward_hook(lambda mod, args, out: log.append(("normal", out)))
        with pytest.raises(ValueError, match="boom"):
            m(lib.tensor([1.0]))
        return log

    a, b = both(torch, scenario)
    assert a == b == [("always", None)]


@pytest.mark.torch
def test_global_module_hooks_run_before_module_hooks(torch):
    def scenario(lib):
        log = []
        mm = lib.nn.modules.module
        seq = lib.nn.Sequential(lib.nn.Linear(3, 2), lib.nn.ReLU())
        seq[0].register_forward_hook(lambda mod, a, o: log.append(("local", type(mod).__name__)))
        handles = [
            mm.register_module_forward_pre_hook(lambda mod, a: log.append(("gpre", type(mod).__name__))),
            mm.register_module_forward_hook(lambda mod, a, o: log.append(("gfwd", type(mod).__name__))),
            mm.register_module_forward_hook(lambda mod, a, kw, o: log.append(("gkw", sorted(kw))), with_kwargs=True),
        ]
        try:
            seq(lib.ones(1, 3))
        finally:
            for h in handles:
                h.remove()
        seq(lib.ones(1, 3))
        return log

    a, b = both(torch, scenario)
    assert a == b


@pytest.mark.torch
def test_registration_hooks(torch):
    def scenario(lib):
        log = []
        mm = lib.nn.modules.module
        hs = [mm.register_module_parameter_registration_hook(lambda m, n, p: log.append(("param", n))),
              mm.register_module_buffer_registration_hook(lambda m, n, b: log.append(("buf", n))),
              mm.register_module_module_registration_hook(lambda m, n, s: log.append(("mod", n)))]
        try:
            lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.BatchNorm1d(2))
        finally:
            for h in hs:
                h.remove()
        return log

    a, b = both(torch, scenario)
    assert a == b


def test_removable_handle_is_torch_like():
    from collections import OrderedDict

    from minitorch.utils.hooks import RemovableHandle
    d = OrderedDict()
    extra = OrderedDict()
    h = RemovableHandle(d, extra_dict=extra)
    d[h.id] = "hook"
    extra[h.id] = True
    h2 = RemovableHandle(d)
    assert h2.id == h.id + 1
    with h:
        assert h.id in d
    assert h.id not in d and h.id not in extra


# ---------------------------------------------------------------------------------------------------------------
# full backward hooks
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.torch
def test_full_backward_hooks_arguments_order_and_replacement(torch):
    def scenario(lib):
        log = []
        m = _two(lib)

        def pre(mod, go):
            log.append(("bpre", summary(go)))
            return (go[0] * 3, go[1])

        def hook(mod, gi, go):
            log.append(("bw", summary(gi), summary(go)))
            return (gi[0] * 2, gi[1])

        m.register_full_backward_pre_hook(pre)
        m.register_full_backward_hook(hook)
        m.a.register_full_backward_hook(lambda mod, gi, go: log.append(("a", summary(gi), summary(go))))
        m.b.register_full_backward_hook(lambda mod, gi, go: log.append(("b", summary(gi), summary(go))))
        x = lib.tensor(X, requires_grad=True)
        y = lib.tensor(Y)
        o1, o2 = m(x, y, scale=2.0)
        (o1.sum() + (o2 * o2).sum()).backward()
        log.append(("x.grad", summary(x.grad)))
        log.append(("a.grad", summary(m.a.weight.grad)))
        return log

    a, b = both(torch, scenario)
    assert [e[0] for e in a] == [e[0] for e in b]
    for ea, eb in zip(a, b):
        np.testing.assert_equal(repr(ea[0]), repr(eb[0]))
        _assert_summaries_close(ea[1:], eb[1:])


def _assert_summaries_close(a, b):
    if a is None or b is None:
        assert a is None and b is None
    elif isinstance(a, tuple) and len(a) == 2 and isinstance(a[0], tuple) and isinstance(a[1], list):
        assert a[0] == b[0]
        np.testing.assert_allclose(np.array(a[1]), np.array(b[1]), atol=2e-4)
    elif isinstance(a, (tuple, list)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _assert_summaries_close(x, y)
    else:
        assert a == b


@pytest.mark.torch
def test_backward_hooks_in_a_sequential_and_global_hooks(torch):
    def scenario(lib):
        lib.manual_seed(0)
        log = []
        seq = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.ReLU(), lib.nn.Linear(4, 2))
        with lib.no_grad():
            for i, p in enumerate(seq.parameters()):
                p.copy_(lib.tensor(np.linspace(-1, 1, p.numel()).reshape(tuple(p.shape)).astype(np.float32)))
        for name, mod in seq.named_modules():
            mod.register_full_backward_hook(lambda m_, gi, go, name=name: log.append(("hook", name, summary(gi),
                                                                                      summary(go))))
            mod.register_full_backward_pre_hook(lambda m_, go, name=name: log.append(("pre", name, summary(go))))
        mm = lib.nn.modules.module
        h = mm.register_module_full_backward_hook(lambda m_, gi, go: log.append(("global", type(m_).__name__)))
        h2 = mm.register_module_full_backward_pre_hook(lambda m_, go: log.append(("gpre", type(m_).__name__)))
        try:
            x = lib.tensor(X, requires_grad=True)
            seq(x).pow(2).sum().backward()
        finally:
            h.remove()
            h2.remove()
        log.append(("x.grad", summary(x.grad)))
        return log

    a, b = both(torch, scenario)
    assert [e[:2] for e in a] == [e[:2] for e in b]
    for ea, eb in zip(a, b):
        _assert_summaries_close(ea[2:], eb[2:])


@pytest.mark.torch
def test_backward_hook_when_no_input_requires_grad(torch):
    def scenario(lib):
        log = []
        lin = lib.nn.Linear(3, 2)
        lin.register_full_backward_hook(lambda m_, gi, go: log.append((summary(gi), tuple(go[0].shape))))
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            lin(lib.tensor(X)).sum().backward()
        log.append(any("no inputs require gradients" in str(x.message) for x in w))
        return log

    with warnings.catch_warnings():
        a, b = scenario(torch), scenario(minitorch)
    assert a == b == [((None,), (4, 2)), True]


@pytest.mark.torch
def test_backward_hook_wrong_number_of_grads_is_an_error(torch):
    def scenario(lib):
        msgs = []
        lin = lib.nn.Linear(3, 2)
        lin.register_full_backward_hook(lambda m_, gi, go: (gi[0], gi[0]))
        with pytest.raises(RuntimeError, match="Backward hook returned an invalid number of grad_input") as e:
            lin(lib.tensor(X, requires_grad=True)).sum().backward()
        msgs.append(str(e.value))
        lin2 = lib.nn.Linear(3, 2)
        lin2.register_full_backward_pre_hook(lambda m_, go: (go[0], go[0]))
        with pytest.raises(RuntimeError, match="Backward pre hook returned an invalid number of grad_output") as e:
            lin2(lib.tensor(X, requires_grad=True)).sum().backward()
        msgs.append(str(e.value))
        return msgs

    a, b = both(torch, scenario)
    assert a == b


@pytest.mark.torch
def test_backward_hook_output_grad_name_and_removal(torch):
    def scenario(lib):
        log = []
        lin = lib.nn.Linear(3, 2)
        h = lin.register_full_backward_hook(lambda m_, gi, go: log.append("hook"))
        out = lin(lib.tensor(X, requires_grad=True))
        name = out.grad_fn.name()
        h.remove()
        lin(lib.tensor(X, requires_grad=True)).sum().backward()
        return log, name

    a, b = both(torch, scenario)
    assert a == b == ([], "BackwardHookFunctionBackward")


# ---------------------------------------------------------------------------------------------------------------
# state dict hooks and load_state_dict
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.torch
def test_state_dict_hooks(torch):
    def scenario(lib):
        log = []
        seq = lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.BatchNorm1d(2))
        seq[0].register_state_dict_pre_hook(lambda m_, prefix, keep: log.append(("pre", prefix, keep)))
        seq[1].register_state_dict_post_hook(lambda m_, sd, prefix, meta: log.append(("post", prefix, list(sd),
                                                                                       meta)))
        seq._register_state_dict_hook(lambda m_, sd, prefix, meta: {"replaced": 1})
        sd = seq.state_dict(keep_vars=True)
        log.append(("root", sd))
        bad = lib.nn.Linear(1, 1)
        bad.register_state_dict_post_hook(lambda *a: {})
        with pytest.raises(RuntimeError, match="state_dict post-hook must return None"):
            bad.state_dict()
        return log

    a, b = both(torch, scenario)
    assert a == b


@pytest.mark.torch
def test_state_dict_metadata_and_positional_warning(torch):
    def scenario(lib):
        seq = lib.nn.Sequential(lib.nn.Linear(2, 2))
        meta = dict(seq.state_dict()._metadata)
        with pytest.warns(FutureWarning, match="Positional args are being deprecated"):
            d = seq.state_dict(None, "p.")
        return meta, list(d)

    a, b = both(torch, scenario)
    assert a == b


@pytest.mark.torch
def test_load_state_dict_strict_assign_and_post_hooks(torch):
    def scenario(lib):
        log = []
        m = lib.nn.Sequential(lib.nn.Linear(2, 3), lib.nn.Linear(3, 1))
        sd = {k: v.clone() + 1 for k, v in m.state_dict().items()}
        sd.pop("1.bias")
        sd["extra"] = lib.zeros(1)
        res = m.load_state_dict(sd, strict=False)
        log.append((res.missing_keys, res.unexpected_keys, type(res).__name__, repr(res)))
        with pytest.raises(RuntimeError) as e:
            m.load_state_dict(sd)
        log.append(str(e.value))
        full = {k: v.clone() for k, v in m.state_dict().items()}
        log.append(repr(m.load_state_dict(full)))
        # assign=True: the module takes the checkpoint tensors, keeping its parameters' requires_grad
        m[0].weight.requires_grad_(False)
        new = lib.full((3, 2), 7.0)
        full["0.weight"] = new
        m.load_state_dict(full, assign=True)
        log.append((isinstance(m[0].weight, lib.nn.Parameter), m[0].weight.requires_grad,
                    summary(m[0].weight), m[0].weight.data_ptr() == new.data_ptr()))
        # post hooks see the incompatible keys and may clear them
        m2 = lib.nn.Linear(2, 2)

        def post(mod, keys):
            log.append(("post", list(keys.missing_keys)))
            keys.missing_keys.clear()
        m2.register_load_state_dict_post_hook(post)
        log.append(repr(m2.load_state_dict({"weight": lib.zeros(2, 2)})))
        m2.register_load_state_dict_pre_hook(
            lambda mod, sd_, prefix, meta, strict, missing, unexpected, errs: log.append(("pre", sorted(sd_))))
        m2.load_state_dict({"weight": lib.zeros(2, 2), "bias": lib.zeros(2)})
        with pytest.raises(RuntimeError, match="size mismatch for weight") as e:
            lib.nn.Linear(2, 2).load_state_dict({"weight": lib.zeros(3, 2), "bias": lib.zeros(2)})
        log.append(str(e.value))
        return log

    a, b = both(torch, scenario)
    assert repr(a) == repr(b).replace("minitorch.Size", "torch.Size")


# ---------------------------------------------------------------------------------------------------------------
# traversal, lookup, conversion
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.torch
def test_named_modules_and_parameters_with_duplicates(torch):
    def scenario(lib):
        shared = lib.nn.Linear(2, 2)
        seq = lib.nn.Sequential(shared, lib.nn.ReLU(), shared)
        return ([n for n, _ in seq.named_modules()], [n for n, _ in seq.named_modules(remove_duplicate=False)],
                [n for n, _ in seq.named_modules(prefix="root")],
                [n for n, _ in seq.named_parameters()], [n for n, _ in seq.named_parameters(remove_duplicate=False)],
                [n for n, _ in seq.named_parameters(prefix="p", recurse=False)],
                [n for n, _ in seq.named_modules(memo={shared})])

    a, b = both(torch, scenario)
    assert a == b


@pytest.mark.torch
@pytest.mark.parametrize("call", [("get_submodule", "0.nope"), ("get_submodule", "0.weight"),
                                  ("get_parameter", "1.nope"), ("get_parameter", "1.running_mean"),
                                  ("get_buffer", "0.weight"), ("get_buffer", "1.nope"), ("get_submodule", "5")])
def test_get_submodule_parameter_buffer_errors(torch, call):
    def scenario(lib):
        seq = lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.BatchNorm1d(2))
        with pytest.raises(AttributeError) as e:
            getattr(seq, call[0])(call[1])
        return str(e.value)

    a, b = both(torch, scenario)
    assert a == b


@pytest.mark.torch
def test_get_and_set_submodule(torch):
    def scenario(lib):
        seq = lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.BatchNorm1d(2))
        out = [type(seq.get_submodule("1")).__name__, tuple(seq.get_parameter("0.weight").shape),
               tuple(seq.get_buffer("1.running_var").shape), seq.get_submodule("") is seq]
        seq.set_submodule("0", lib.nn.ReLU())
        out.append(type(seq[0]).__name__)
        with pytest.raises(ValueError) as e:
            seq.set_submodule("", lib.nn.ReLU())
        out.append(str(e.value))
        with pytest.raises(AttributeError) as e:
            seq.set_submodule("7", lib.nn.ReLU(), strict=True)
        out.append(str(e.value))
        return out

    a, b = both(torch, scenario)
    assert a == b


@pytest.mark.torch
def test_dtype_conversions_requires_grad_and_to_empty(torch):
    def scenario(lib):
        m = lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.BatchNorm1d(2))
        out = []
        for conv in ("half", "bfloat16", "double", "float"):
            getattr(m, conv)()
            out.append([str(t.dtype) for t in m.state_dict().values()])
        m.requires_grad_(False)
        out.append([p.requires_grad for p in m.parameters()])
        w = m[0].weight
        m.to_empty(device="cpu")
        out.append((m[0].weight is w, tuple(m[0].weight.shape), str(m[1].num_batches_tracked.dtype)))
        return out

    a, b = both(torch, scenario)
    assert repr(a) == repr(b).replace("minitorch.", "torch.")


def test_nn_modules_import_paths():
    from minitorch.nn.modules.batchnorm import BatchNorm2d, _BatchNorm, _NormBase
    from minitorch.nn.modules.conv import Conv2d, _ConvNd
    from minitorch.nn.modules.dropout import Dropout, _DropoutNd
    from minitorch.nn.modules.flatten import Flatten
    from minitorch.nn.modules.loss import CrossEntropyLoss, MSELoss, _Loss, _WeightedLoss
    from minitorch.nn.modules.module import Module, register_module_forward_hook  # noqa: F401
    from minitorch.nn.modules.pooling import MaxPool2d, _MaxPoolNd
    from minitorch.nn.modules.sparse import Embedding
    from minitorch.nn.modules.utils import _pair
    import minitorch.nn.modules.activation as act
    import minitorch.nn.modules.container as cont
    import minitorch.nn.modules.linear as lin
    import minitorch.nn.modules.normalization as norm
    import minitorch.nn.modules.padding, minitorch.nn.modules.pixelshuffle  # noqa: E401,F401
    import minitorch.nn.modules.rnn, minitorch.nn.modules.transformer  # noqa: E401,F401
    assert isinstance(BatchNorm2d(2), _BatchNorm) and isinstance(BatchNorm2d(2), _NormBase)
    assert isinstance(Conv2d(1, 1, 1), _ConvNd) and isinstance(Dropout(), _DropoutNd)
    assert isinstance(MSELoss(), _Loss) and isinstance(CrossEntropyLoss(), _WeightedLoss)
    assert isinstance(MaxPool2d(2), _MaxPoolNd) and Embedding is mnn.Embedding and Flatten is mnn.Flatten
    assert act.ReLU is mnn.ReLU and cont.Sequential is mnn.Sequential and lin.Linear is mnn.Linear
    assert norm.LayerNorm is mnn.LayerNorm and _pair(3) == (3, 3) and _pair((1, 2)) == (1, 2)
    assert minitorch.nn.modules.batchnorm._BatchNorm is _BatchNorm
    assert minitorch.nn.utils.__name__ == "minitorch.nn.utils"  # nn.modules.utils does not shadow nn.utils


# ---------------------------------------------------------------------------------------------------------------
# nn.init
# ---------------------------------------------------------------------------------------------------------------
GAINS = [("linear", None), ("conv1d", None), ("conv2d", None), ("conv3d", None), ("conv_transpose1d", None),
         ("conv_transpose2d", None), ("conv_transpose3d", None), ("sigmoid", None), ("tanh", None), ("relu", None),
         ("leaky_relu", None), ("leaky_relu", 0.2), ("leaky_relu", 3), ("selu", None)]


@pytest.mark.torch
@pytest.mark.parametrize("nl,param", GAINS)
def test_calculate_gain(torch, nl, param):
    assert mnn.init.calculate_gain(nl, param) == torch.nn.init.calculate_gain(nl, param)


@pytest.mark.torch
@pytest.mark.parametrize("nl,param,exc", [("gelu", None, ValueError), ("leaky_relu", "x", ValueError),
                                          ("leaky_relu", True, ValueError)])
def test_calculate_gain_errors(torch, nl, param, exc):
    with pytest.raises(exc) as et:
        torch.nn.init.calculate_gain(nl, param)
    with pytest.raises(exc) as em:
        mnn.init.calculate_gain(nl, param)
    assert str(et.value) == str(em.value)


@pytest.mark.torch
@pytest.mark.parametrize("shape,groups", [((4, 2, 3), 1), ((4, 2, 3, 3), 2), ((6, 3, 3, 1, 3), 3), ((2, 5, 3), 1)])
def test_dirac_matches_torch(torch, shape, groups):
    a = torch.nn.init.dirac_(torch.empty(shape), groups)
    b = mnn.init.dirac_(minitorch.empty(shape), groups)
    close(b, a, 0)


@pytest.mark.torch
@pytest.mark.parametrize("fn,shape,args", [("dirac_", (2, 2), ()), ("dirac_", (5, 2, 3), (2,)), ("eye_", (2, 2, 2), ()),
                                           ("orthogonal_", (3,), ()), ("sparse_", (3, 3, 3), (0.5,))])
def test_init_errors(torch, fn, shape, args):
    with pytest.raises(ValueError) as et:
        getattr(torch.nn.init, fn)(torch.empty(shape), *args)
    with pytest.raises(ValueError) as em:
        getattr(mnn.init, fn)(minitorch.empty(shape), *args)
    assert str(et.value) == str(em.value)


@pytest.mark.parametrize("shape,gain", [((5, 3), 1.0), ((3, 5), 2.0), ((4, 2, 3), 0.5), ((6, 6), 1.0)])
def test_orthogonal_is_orthogonal(shape, gain):
    w = mnn.init.orthogonal_(minitorch.empty(shape), gain=gain)
    m = npy(w).reshape(shape[0], -1)
    gram = m.T @ m if m.shape[0] >= m.shape[1] else m @ m.T
    np.testing.assert_allclose(gram, gain ** 2 * np.eye(gram.shape[0]), atol=1e-5)


def test_orthogonal_is_not_a_fixed_matrix():
    a = npy(mnn.init.orthogonal_(minitorch.empty(4, 4)))
    b = npy(mnn.init.orthogonal_(minitorch.empty(4, 4)))
    assert not np.allclose(a, b)


def test_sparse_and_trunc_normal_and_eye():
    w = mnn.init.sparse_(minitorch.empty(10, 6), sparsity=0.25, std=0.5)
    zeros = (npy(w) == 0).sum(0)
    assert (zeros == math.ceil(0.25 * 10)).all()
    t = mnn.init.trunc_normal_(minitorch.empty(2000), mean=1.0, std=2.0, a=-1.0, b=2.0)
    v = npy(t)
    assert v.min() >= -1.0 and v.max() <= 2.0 and v.std() > 0.3
    np.testing.assert_array_equal(npy(mnn.init.eye_(minitorch.empty(2, 3))), np.eye(2, 3))
    with pytest.warns(FutureWarning, match="deprecated in favor of `nn.init.normal_`"):
        mnn.init.normal(minitorch.empty(2))


# ---------------------------------------------------------------------------------------------------------------
# weight norm / spectral norm
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.torch
@pytest.mark.filterwarnings("ignore:`torch.nn.utils.weight_norm` is deprecated:FutureWarning")
@pytest.mark.parametrize("dim", [0, 1, None, -1])
def test_weight_norm_hook_style_matches_torch(torch, dim):
    tm = torch.nn.Conv2d(2, 3, 2)
    mm = mnn.Conv2d(2, 3, 2)
    copy_state(tm, mm)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.nn.utils.weight_norm(tm, dim=dim)
        mnn.utils.weight_norm(mm, dim=dim)
    assert list(mm.state_dict()) == list(tm.state_dict())
    close(mm.weight_g, tm.weight_g)
    x = RNG.standard_normal((2, 2, 3, 3)).astype(np.float32)
    to, mo = tm(torch.tensor(x)), mm(minitorch.tensor(x))
    close(mo, to)
    to.square().sum().backward()
    mo.square().sum().backward()
    close(mm.weight_g.grad, tm.weight_g.grad, 1e-4)
    close(mm.weight_v.grad, tm.weight_v.grad, 1e-4)
    with pytest.raises(RuntimeError, match="Cannot register two weight_norm hooks on the same parameter weight"):
        mnn.utils.weight_norm(mm, dim=dim)
    mnn.utils.remove_weight_norm(mm)
    torch.nn.utils.remove_weight_norm(tm)
    assert list(mm.state_dict()) == list(tm.state_dict())
    close(mm.weight, tm.weight)
    with pytest.raises(ValueError, match="weight_norm of 'weight' not found in"):
        mnn.utils.remove_weight_norm(mm)


@pytest.mark.torch
def test_spectral_norm_hook_style_matches_torch(torch):
    tm = torch.nn.Linear(4, 5)
    mm = mnn.Linear(4, 5)
    copy_state(tm, mm)
    torch.nn.utils.spectral_norm(tm, n_power_iterations=2)
    mnn.utils.spectral_norm(mm, n_power_iterations=2)
    assert list(mm.state_dict()) == list(tm.state_dict())
    copy_state(tm, mm)  # the random start vectors u, v
    x = RNG.standard_normal((3, 4)).astype(np.float32)
    for _ in range(2):
        to, mo = tm(torch.tensor(x)), mm(minitorch.tensor(x))
        close(mo, to, 1e-5)
        close(mm.weight_u, tm.weight_u, 1e-5)
    to.sum().backward()
    mo.sum().backward()
    close(mm.weight_orig.grad, tm.weight_orig.grad, 1e-4)
    tm.eval()
    mm.eval()
    close(mm(minitorch.tensor(x)), tm(torch.tensor(x)), 1e-5)
    with pytest.raises(RuntimeError, match="Cannot register two spectral_norm hooks on the same parameter weight"):
        mnn.utils.spectral_norm(mm)
    torch.nn.utils.remove_spectral_norm(tm)
    mnn.utils.remove_spectral_norm(mm)
    assert list(mm.state_dict()) == list(tm.state_dict())
    close(mm.weight, tm.weight, 1e-5)


@pytest.mark.torch
def test_spectral_norm_parametrization_matches_torch(torch):
    P = torch.nn.utils.parametrizations
    tm = P.spectral_norm(torch.nn.Conv2d(2, 3, 2), n_power_iterations=1)
    mm = mnn.utils.parametrizations.spectral_norm(mnn.Conv2d(2, 3, 2))
    assert list(mm.state_dict()) == list(tm.state_dict()) == [
        "bias", "parametrizations.weight.original", "parametrizations.weight.0._u", "parametrizations.weight.0._v"]
    copy_state(tm, mm)
    x = RNG.standard_normal((1, 2, 3, 3)).astype(np.float32)
    for _ in range(2):
        close(mm(minitorch.tensor(x)), tm(torch.tensor(x)), 1e-5)
    close(mm.parametrizations.weight[0]._u, tm.parametrizations.weight[0]._u, 1e-5)
    tm.eval()
    mm.eval()
    close(mm.weight, tm.weight, 1e-5)
    sv = np.linalg.svd(npy(mm.weight).reshape(3, -1), compute_uv=False)[0]
    assert abs(sv - 1) < 0.05
    with pytest.raises(ValueError, match="has no parameter or buffer with name 'nope'"):
        mnn.utils.parametrizations.spectral_norm(mnn.Linear(2, 2), name="nope")
    with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range of \[-2, 1\] but got 2\)"):
        mnn.utils.parametrizations.spectral_norm(mnn.Linear(2, 2), dim=2)


@pytest.mark.torch
def test_weight_norm_parametrization_matches_torch_and_loads_old_keys(torch):
    P = torch.nn.utils.parametrizations
    tm = P.weight_norm(torch.nn.Linear(4, 3))
    mm = mnn.utils.parametrizations.weight_norm(mnn.Linear(4, 3))
    assert list(mm.state_dict()) == list(tm.state_dict())
    copy_state(tm, mm)
    x = RNG.standard_normal((2, 4)).astype(np.float32)
    to, mo = tm(torch.tensor(x)), mm(minitorch.tensor(x))
    close(mo, to)
    to.square().sum().backward()
    mo.square().sum().backward()
    close(mm.parametrizations.weight.original0.grad, tm.parametrizations.weight.original0.grad, 1e-4)
    close(mm.parametrizations.weight.original1.grad, tm.parametrizations.weight.original1.grad, 1e-4)
    # a checkpoint of the hook-style weight_norm loads into the parametrized module
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        old = mnn.utils.weight_norm(mnn.Linear(4, 3))
    mm.load_state_dict(old.state_dict())
    close(mm.weight, old.weight)


@pytest.mark.torch
@pytest.mark.parametrize("shape", [(4, 4), (5, 3), (3, 5)])
@pytest.mark.parametrize("omap", [None, "matrix_exp", "cayley", "householder"])
@pytest.mark.parametrize("triv", [True, False])
def test_orthogonal_parametrization_matches_torch(torch, shape, omap, triv):
    w = RNG.standard_normal(shape)
    delta = RNG.standard_normal(shape) * 0.7
    g = RNG.standard_normal(shape)

    def scenario(lib, state=None):
        lin = lib.nn.Linear(shape[1], shape[0]).double()
        with lib.no_grad():
            lin.weight.copy_(lib.tensor(w))
        lib.nn.utils.parametrizations.orthogonal(lin, orthogonal_map=omap, use_trivialization=triv)
        out = [list(lin.state_dict()), summary(lin.weight)]
        snapshot = {k: v.clone() for k, v in lin.state_dict().items()}
        if state is not None:
            # a wide or tall base is completed with random columns: take torch's, to compare what follows
            lin.load_state_dict({k: lib.tensor(v.numpy()) for k, v in state.items()})
        with lib.no_grad():
            lin.parametrizations.weight.original.add_(lib.tensor(delta))
        q = lin.weight
        (q * lib.tensor(g)).sum().backward()
        out += [summary(q), summary(lin.parametrizations.weight.original.grad)]
        return out, snapshot

    a, state = scenario(torch)
    b, _ = scenario(minitorch, state)
    _assert_summaries_close(a, b)
    householder = omap == "householder" or (omap is None and shape[0] != shape[1])
    if not householder:  # householder zeroes columns whose diagonal entry truncates to 0 (as torch)
        q = np.array(b[2][1])
        gram = q.T @ q if shape[0] >= shape[1] else q @ q.T
        np.testing.assert_allclose(gram, np.eye(len(gram)), atol=1e-3)  # summaries are rounded to 4 digits


@pytest.mark.torch
def test_orthogonal_assignment_and_errors(torch):
    q_np = np.linalg.qr(RNG.standard_normal((3, 3)))[0].astype(np.float32)

    def scenario(lib):
        P = lib.nn.utils.parametrizations
        out = []
        lin = P.orthogonal(lib.nn.Linear(3, 3))
        q = lib.tensor(q_np)
        lin.weight = q
        out.append(summary(lin.weight))
        for args, kw in [((lib.nn.Linear(3, 3),), {"orthogonal_map": "qr"}), ((lib.nn.BatchNorm1d(3),), {})]:
            with pytest.raises(ValueError) as e:
                P.orthogonal(*args, **kw)
            out.append(str(e.value))
        lin2 = P.orthogonal(lib.nn.Linear(3, 3), use_trivialization=False)
        with pytest.raises(NotImplementedError) as e:
            lin2.weight = q
        out.append(str(e.value))
        return out

    a, b = both(torch, scenario)
    _assert_summaries_close(a, b)


# ---------------------------------------------------------------------------------------------------------------
# parametrize
# ---------------------------------------------------------------------------------------------------------------
def _symmetric(lib):
    class Symmetric(lib.nn.Module):
        def forward(self, X):
            return X.triu() + X.triu(1).transpose(-1, -2)

        def right_inverse(self, A):
            return A.triu()
    return Symmetric()


def _scale(lib):
    class Scale(lib.nn.Module):
        def forward(self, X):
            return X * 2

        def right_inverse(self, A):
            return A / 2
    return Scale()


@pytest.mark.torch
def test_parametrize_register_chain_assign_remove(torch):
    def scenario(lib):
        P = lib.nn.utils.parametrize
        log = []
        m = lib.nn.Linear(3, 3)
        with lib.no_grad():
            m.weight.copy_(lib.tensor(np.arange(9, dtype=np.float32).reshape(3, 3)))
        w = m.weight
        P.register_parametrization(m, "weight", _symmetric(lib))
        log.append((type(m).__name__, list(m.state_dict()), summary(m.weight), P.is_parametrized(m),
                    P.is_parametrized(m, "bias"), P.type_before_parametrizations(m).__name__,
                    m.parametrizations.weight.original is w))
        P.register_parametrization(m, "weight", _scale(lib))
        log.append(summary(m.weight))
        m.weight = lib.tensor(np.ones((3, 3), dtype=np.float32) * 4)
        log.append((summary(m.parametrizations.weight.original), summary(m.weight)))
        x = lib.tensor(X, requires_grad=True)
        m(x).sum().backward()
        log.append(summary(m.parametrizations.weight.original.grad))
        with P.cached():
            log.append(m.weight is m.weight)
        log.append(m.weight is m.weight)
        P.remove_parametrizations(m, "weight", leave_parametrized=True)
        log.append((type(m).__name__, list(m.state_dict()), summary(m.weight), m.weight is w,
                    P.is_parametrized(m)))
        with pytest.raises(ValueError) as e:
            P.remove_parametrizations(m, "weight")
        log.append(str(e.value).split(" does not")[1])
        return log

    a, b = both(torch, scenario)
    assert a == b


@pytest.mark.torch
def test_parametrize_errors_and_unsafe(torch):
    def scenario(lib):
        P = lib.nn.utils.parametrize
        out = []

        class Grow(lib.nn.Module):
            def forward(self, X):
                return lib.cat([X, X])
        with pytest.raises(ValueError) as e:
            P.register_parametrization(lib.nn.Linear(2, 2), "weight", Grow())
        out.append(str(e.value))
        m = P.register_parametrization(lib.nn.Linear(2, 2), "weight", Grow(), unsafe=True)
        out.append(tuple(m.weight.shape))
        with pytest.raises(ValueError) as e:
            P.register_parametrization(lib.nn.Linear(2, 2), "nope", Grow())
        out.append(str(e.value).split("does not")[1])
        m2 = P.register_parametrization(lib.nn.Linear(2, 2), "weight", Grow(), unsafe=True)
        with pytest.raises(RuntimeError) as e:
            m2.weight = lib.zeros(4, 2)
        out.append(str(e.value))
        m3 = P.register_parametrization(lib.nn.Linear(2, 2), "weight", _symmetric(lib))
        P.remove_parametrizations(m3, "weight", leave_parametrized=False)
        out.append(type(m3).__name__)
        with pytest.raises(RuntimeError, match="Serialization of parametrized modules is only supported"):
            P.register_parametrization(lib.nn.Linear(2, 2), "weight", _symmetric(lib)).__getstate__()
        c = copy.deepcopy(P.register_parametrization(lib.nn.Linear(2, 2), "weight", _symmetric(lib)))
        out.append(type(c).__name__)
        return out

    a, b = both(torch, scenario)
    assert a == [x.replace("minitorch.Size", "torch.Size") if isinstance(x, str) else x for x in b]


# ---------------------------------------------------------------------------------------------------------------
# prune
# ---------------------------------------------------------------------------------------------------------------
def _distinct(shape, seed):
    r = np.random.default_rng(seed)
    n = int(np.prod(shape))
    return (r.permutation(n).astype(np.float32) - n / 2 + 0.5).reshape(shape) / n


@pytest.mark.torch
@pytest.mark.parametrize("amount", [0.3, 4, 0, 1.0])
def test_l1_unstructured_matches_torch(torch, amount):
    def scenario(lib):
        pr = lib.nn.utils.prune
        m = lib.nn.Linear(3, 4)
        with lib.no_grad():
            m.weight.copy_(lib.tensor(_distinct((4, 3), 1)))
            m.bias.fill_(0.1)
        pr.l1_unstructured(m, "weight", amount=amount)
        keys = list(m.state_dict())
        mask1 = summary(m.weight_mask)
        pr.l1_unstructured(m, "weight", amount=0.5)  # acts on what the first pruning kept
        mask2 = summary(m.weight_mask)
        m(lib.tensor(X)).square().sum().backward()
        g = summary(m.weight_orig.grad)
        pruned = pr.is_pruned(m)
        pr.remove(m, "weight")
        return keys, mask1, mask2, g, pruned, list(m.state_dict()), summary(m.weight), pr.is_pruned(m)

    a, b = both(torch, scenario)
    _assert_summaries_close(a, b)


@pytest.mark.torch
def test_global_unstructured_and_custom_mask_match_torch(torch):
    def scenario(lib):
        pr = lib.nn.utils.prune
        seq = lib.nn.Sequential(lib.nn.Linear(4, 3), lib.nn.Linear(3, 2))
        with lib.no_grad():
            seq[0].weight.copy_(lib.tensor(_distinct((3, 4), 2)))
            seq[1].weight.copy_(lib.tensor(_distinct((2, 3), 3) * 3))
            seq[0].bias.fill_(0.25)
            seq[1].bias.copy_(lib.tensor([0.5, -0.5]))
        params = [(seq[0], "weight"), (seq[1], "weight")]
        pr.global_unstructured(params, pruning_method=pr.L1Unstructured, amount=0.5)
        out = [summary(seq[0].weight_mask), summary(seq[1].weight_mask)]
        pr.custom_from_mask(seq[1], "bias", mask=lib.tensor([1.0, 0.0]))
        out.append(summary(seq[1].bias))
        pr.identity(seq[0], "bias")
        out.append(list(seq.state_dict()))
        pr.ln_structured(seq[0], "weight", amount=1, n=2, dim=0)
        out.append(summary(seq[0].weight_mask))
        return out

    a, b = both(torch, scenario)
    _assert_summaries_close(a, b)


@pytest.mark.torch
@pytest.mark.parametrize("amount,exc", [("a", TypeError), (-1, ValueError), (1.5, ValueError), (13, ValueError)])
def test_prune_amount_errors(torch, amount, exc):
    def scenario(lib):
        m = lib.nn.Linear(4, 3)
        with pytest.raises(exc) as e:
            lib.nn.utils.prune.l1_unstructured(m, "weight", amount=amount)
        return str(e.value), list(m.state_dict())

    a, b = both(torch, scenario)
    assert a == b


@pytest.mark.torch
def test_prune_remove_unpruned_is_an_error(torch):
    def scenario(lib):
        with pytest.raises(ValueError) as e:
            lib.nn.utils.prune.remove(lib.nn.Linear(1, 1), "weight")
        return str(e.value).split(" of module")[0]

    a, b = both(torch, scenario)
    assert a == b


def test_random_unstructured_count():
    m = mnn.Linear(5, 4)
    mnn.utils.prune.random_unstructured(m, "weight", amount=0.25)
    assert int((m.weight_mask == 0).sum().item()) == 5
    assert int((m.weight == 0).sum().item()) >= 5


# ---------------------------------------------------------------------------------------------------------------
# fusion
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.torch
@pytest.mark.parametrize("bias", [True, False])
def test_fuse_conv_bn_eval_matches_torch(torch, bias):
    from torch.nn.utils.fusion import fuse_conv_bn_eval as t_fuse
    from minitorch.nn.utils.fusion import fuse_conv_bn_eval as m_fuse
    tc, tb = torch.nn.Conv2d(2, 3, 3, bias=bias).eval(), torch.nn.BatchNorm2d(3).eval()
    with torch.no_grad():
        tb.running_mean.uniform_(-1, 1)
        tb.running_var.uniform_(0.5, 2)
        tb.weight.uniform_(0.5, 2)
        tb.bias.uniform_(-1, 1)
    mc, mb = mnn.Conv2d(2, 3, 3, bias=bias).eval(), mnn.BatchNorm2d(3).eval()
    copy_state(tc, mc)
    copy_state(tb, mb)
    tf, mf = t_fuse(tc, tb), m_fuse(mc, mb)
    close(mf.weight, tf.weight)
    close(mf.bias, tf.bias)
    x = minitorch.tensor(RNG.standard_normal((1, 2, 5, 5)).astype(np.float32))
    close(mf(x), mb(mc(x)), 1e-5)
    assert mc.bias is None or mf.bias is not mc.bias
    with pytest.raises(AssertionError, match="Fusion only for eval!"):
        m_fuse(mc.train(), mb)


@pytest.mark.torch
def test_fuse_linear_bn_eval_matches_torch(torch):
    from torch.nn.utils.fusion import fuse_linear_bn_eval as t_fuse
    tl, tb = torch.nn.Linear(4, 3).eval(), torch.nn.BatchNorm1d(3).eval()
    with torch.no_grad():
        tb.running_mean.uniform_(-1, 1)
        tb.running_var.uniform_(0.5, 2)
    ml, mb = mnn.Linear(4, 3).eval(), mnn.BatchNorm1d(3).eval()
    copy_state(tl, ml)
    copy_state(tb, mb)
    tf, mf = t_fuse(tl, tb), mnn.utils.fusion.fuse_linear_bn_eval(ml, mb)
    close(mf.weight, tf.weight)
    close(mf.bias, tf.bias)
    x = minitorch.tensor(X[:, :3].repeat(2, 1)[:, :4])
    close(mf(x), mb(ml(x)), 1e-5)


# ---------------------------------------------------------------------------------------------------------------
# gradient clipping
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.torch
@pytest.mark.parametrize("norm_type", [2.0, 1, float("inf"), 3.0, "inf"])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_matches_torch(torch, norm_type, max_norm):
    def scenario(lib):
        p1 = lib.tensor(X, requires_grad=True)
        p2 = lib.tensor(Y[0], requires_grad=True)
        p3 = lib.tensor(Y[1], requires_grad=True)  # no grad: skipped
        (p1.square().sum() + (p2 * 3).sum()).backward()
        total = lib.nn.utils.clip_grad_norm_([p1, p2, p3], max_norm, norm_type)
        return summary(total), summary(p1.grad), summary(p2.grad)

    a, b = both(torch, scenario)
    _assert_summaries_close(a, b)


@pytest.mark.torch
def test_clip_grad_helpers_and_errors(torch):
    def scenario(lib):
        out = []
        p = lib.tensor(X, requires_grad=True)
        p.square().sum().backward()
        total = lib.nn.utils.get_total_norm([p.grad], 2.0)
        lib.nn.utils.clip_grads_with_norm_([p], 1.0, total)
        out.append((summary(total), summary(p.grad)))
        lib.nn.utils.clip_grad_value_(p, 0.1)
        out.append(summary(p.grad))
        q = lib.tensor([1.0], requires_grad=True)
        (q * float("inf")).sum().backward()
        with pytest.raises(RuntimeError) as e:
            lib.nn.utils.clip_grad_norm_(q, 1.0, error_if_nonfinite=True)
        out.append(str(e.value))
        out.append(summary(lib.nn.utils.clip_grad_norm_([p], 0.05, foreach=True)))
        out.append(summary(p.grad))
        out.append(summary(lib.nn.utils.clip_grad_norm_([], 1.0)))
        with pytest.warns(FutureWarning):
            lib.nn.utils.clip_grad_norm([p], 1.0)
        return out

    a, b = both(torch, scenario)
    _assert_summaries_close(a, b)


# ---------------------------------------------------------------------------------------------------------------
# CUDA (simulator on tiny shapes; unchanged on a GPU)
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.torch
def test_hooks_weight_norm_prune_clip_on_device(torch, device):
    lin = mnn.Linear(3, 2)
    tl = torch.nn.Linear(3, 2)
    copy_state(tl, lin)
    lin.to(device)
    log_m, log_t = [], []
    lin.register_full_backward_hook(lambda m_, gi, go: log_m.append((npy(gi[0]), npy(go[0]))))
    tl.register_full_backward_hook(lambda m_, gi, go: log_t.append((gi[0].numpy(), go[0].numpy())))
    x = X[:2]
    mx = minitorch.tensor(x, device=device, requires_grad=True)
    tx = torch.tensor(x, requires_grad=True)
    lin(mx).square().sum().backward()
    tl(tx).square().sum().backward()
    assert mx.grad.device.type == device
    np.testing.assert_allclose(log_m[0][0], log_t[0][0], atol=1e-5)
    np.testing.assert_allclose(log_m[0][1], log_t[0][1], atol=1e-5)
    total_m = mnn.utils.clip_grad_norm_(lin.parameters(), 0.1)
    total_t = torch.nn.utils.clip_grad_norm_(tl.parameters(), 0.1)
    close(total_m, total_t, 1e-5)
    close(lin.weight.grad, tl.weight.grad, 1e-5)
    mnn.utils.parametrizations.weight_norm(lin)
    torch.nn.utils.parametrizations.weight_norm(tl)
    close(lin(mx), tl(tx), 1e-5)
    conv = mnn.Conv1d(1, 2, 1).to(device)
    with minitorch.no_grad():
        conv.weight.copy_(minitorch.tensor([[[0.5]], [[-2.0]]]))
    mnn.utils.prune.l1_unstructured(conv, "weight", amount=1)
    assert conv.weight_mask.device.type == device
    np.testing.assert_array_equal(npy(conv.weight_mask).ravel(), [0.0, 1.0])


@pytest.mark.torch
def test_parametrizations_and_fusion_on_device(torch, device):
    # spectral norm: same buffers as torch, power iteration on the device
    tm = torch.nn.utils.parametrizations.spectral_norm(torch.nn.Linear(3, 2))
    mm = mnn.utils.parametrizations.spectral_norm(mnn.Linear(3, 2)).to(device)
    copy_state(tm, mm, device)
    x = X[:2]
    close(mm(minitorch.tensor(x, device=device)), tm(torch.tensor(x)), 1e-5)
    assert mm.parametrizations.weight[0]._u.device.type == device
    # orthogonal: the base is built on the host (QR) and lands on the weight's device
    lin = mnn.utils.parametrizations.orthogonal(mnn.Linear(2, 2).to(device))
    q = npy(lin.weight)
    np.testing.assert_allclose(q.T @ q, np.eye(2), atol=1e-5)
    assert lin.parametrizations.weight[0].base.device.type == device
    # conv + bn fusion
    conv, bn = mnn.Conv1d(1, 2, 1).eval().to(device), mnn.BatchNorm1d(2).eval().to(device)
    with minitorch.no_grad():
        bn.running_var.fill_(4.0)
        bn.running_mean.fill_(1.0)
    fused = mnn.utils.fusion.fuse_conv_bn_eval(conv, bn)
    xi = minitorch.tensor(RNG.standard_normal((1, 1, 3)).astype(np.float32), device=device)
    close(fused(xi), bn(conv(xi)), 1e-5)


def test_forward_and_backward_hooks_on_device(device):
    seq = mnn.Sequential(mnn.Linear(2, 2), mnn.Tanh()).to(device)
    seen = []
    seq[1].register_full_backward_pre_hook(lambda m_, go: (go[0] * 0,))
    seq[0].register_full_backward_hook(lambda m_, gi, go: seen.append((gi[0].device.type, float(go[0].abs().sum()))))
    x = minitorch.ones(1, 2, device=device, requires_grad=True)
    seq(x).sum().backward()
    # the pre-hook zeroed the gradient flowing into Tanh, so everything upstream is zero
    assert seen == [(device, 0.0)]
    assert float(x.grad.abs().sum()) == 0.0 and float(seq[0].weight.grad.abs().sum()) == 0.0
    bn = mnn.BatchNorm1d(2).to_empty(device=device)
    assert {t.device.type for t in bn.state_dict().values()} == {device}
    assert bn.num_batches_tracked.dtype == minitorch.int64 and bn.weight.dtype == minitorch.float32


@pytest.mark.torch
def test_old_style_backward_hook_on_a_single_op_module_and_mixing_error(torch):
    def scenario(lib):
        log = []
        relu = lib.nn.ReLU()
        relu.register_backward_hook(lambda m_, gi, go: log.append((summary(gi), summary(go))))
        relu(lib.tensor(X, requires_grad=True)).sum().backward()
        with pytest.raises(RuntimeError) as e:
            relu.register_full_backward_hook(lambda *a: None)
        log.append(str(e.value))
        lin = lib.nn.Linear(2, 2)
        lin.register_full_backward_hook(lambda *a: None)
        with pytest.raises(RuntimeError) as e:
            lin.register_backward_hook(lambda *a: None)
        log.append(str(e.value))
        return log

    a, b = both(torch, scenario)
    assert a == b
    with pytest.warns(UserWarning, match="like full backward hooks"):
        scenario(minitorch)
