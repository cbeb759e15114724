"""The top-level names of minitorch/_torch_names.py against PyTorch: the ATen-level forms of functional ops (their
positional arguments, int reductions and defaults), windows, unravel_index, constants and process settings."""
import math
import pickle

import numpy as np
import pytest

import minitorch

RNG = np.random.default_rng(3)


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def arr(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


X = arr(4, 3, 5)
Y = arr(6, 4)
T01 = (RNG.random((6, 4)) > 0.5).astype(np.float32)
P = np.abs(arr(6, 4)) + 0.1
SIGN = np.sign(arr(6)).astype(np.float32)

CASES = [  # name, args (arrays become tensors of each library), kwargs
    ("dropout", (X, 0.0, True), {}),
    ("alpha_dropout", (X, 0.3, False), {}),
    ("feature_alpha_dropout", (X, 0.3, False), {}),
    ("layer_norm", (X, (5,)), {}),
    ("layer_norm", (X, (3, 5), np.ones((3, 5), np.float32), np.zeros((3, 5), np.float32), 1e-3), {}),
    ("batch_norm", (X, np.ones(3, np.float32), np.zeros(3, np.float32), np.zeros(3, np.float32),
                    np.ones(3, np.float32), False, 0.1, 1e-5, False), {}),
    ("group_norm", (X, 3), {}),
    ("instance_norm", (X, None, None, None, None, True, 0.1, 1e-5, False), {}),
    ("embedding", (arr(10, 3), np.array([1, 2, 0, 9])), {}),
    ("embedding", (arr(10, 3), np.array([1, 2, 0, 9]), 2), {}),
    ("selu", (X,), {}),
    ("celu", (X, 0.7), {}),
    ("rrelu", (X, 0.1, 0.3, False), {}),
    ("threshold", (X, 0.1, -2.0), {}),
    ("prelu", (X, np.full(3, 0.2, np.float32)), {}),
    ("hardshrink", (X, 0.3), {}),
    ("cosine_similarity", (Y, Y[::-1].copy()), {}),
    ("pairwise_distance", (Y, Y[::-1].copy()), {"keepdim": True}),
    ("pdist", (Y,), {}),
    ("bilinear", (arr(5, 3), arr(5, 4), arr(2, 3, 4), arr(2)), {}),
    ("max_pool1d", (X, 2), {}),
    ("max_pool2d", (arr(2, 3, 6, 6), 3, 2, 1), {}),
    ("max_pool3d", (arr(1, 2, 4, 4, 4), 2), {}),
    ("avg_pool1d", (X, 2), {}),
    ("adaptive_avg_pool1d", (X, 3), {}),
    ("adaptive_max_pool1d", (X, 3), {}),
    ("kl_div", (np.log(P / P.sum(1, keepdims=True)), P / P.sum(1, keepdims=True)), {}),
    ("kl_div", (np.log(P / P.sum(1, keepdims=True)), P / P.sum(1, keepdims=True), 1), {}),
    ("kl_div", (Y, Y, 2), {"log_target": True}),
    ("binary_cross_entropy_with_logits", (Y, T01), {}),
    ("binary_cross_entropy_with_logits", (Y, T01, None, np.full(4, 2.0, np.float32), 1), {}),
    ("cosine_embedding_loss", (Y, Y[::-1].copy(), SIGN, 0.1, 2), {}),
    ("margin_ranking_loss", (Y[:, 0].copy(), Y[:, 1].copy(), SIGN), {}),
    ("hinge_embedding_loss", (Y, np.sign(Y)), {}),
    ("triplet_margin_loss", (Y, Y[::-1].copy(), Y * 2), {"reduction": 1}),
    ("poisson_nll_loss", (Y, P, True, False, 1e-8, 1), {}),
    ("rms_norm", (X, (5,)), {}),
    ("rms_norm", (X, (5,), np.full(5, 2.0, np.float32), 1e-3), {}),
]


def _to(lib, v):
    if isinstance(v, np.ndarray):
        return lib.tensor(v)
    return v


@pytest.mark.torch
@pytest.mark.parametrize("name, args, kw", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_aten_forms_match_torch(name, args, kw, torch):
    want = getattr(torch, name)(*[_to(torch, a) for a in args], **kw)
    got = getattr(minitorch, name)(*[_to(minitorch, a) for a in args], **kw)
    want = want if isinstance(want, tuple) else (want,)
    got = got if isinstance(got, tuple) else (got,)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert tuple(g.shape) == tuple(w.shape)
        np.testing.assert_allclose(g.detach().numpy(), w.detach().numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.torch
@pytest.mark.parametrize("name", ["hann_window", "hamming_window", "blackman_window", "bartlett_window",
                                  "kaiser_window"])
def test_windows_match_torch(name, torch):
    for n in (0, 1, 2, 7, 16):
        for periodic in (True, False):
            got = getattr(minitorch, name)(n, periodic)
            want = getattr(torch, name)(n, periodic)
            assert got.dtype is minitorch.float32
            np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-6)
    assert getattr(minitorch, name)(5, dtype=minitorch.float64).dtype is minitorch.float64
    with pytest.raises(RuntimeError, match="non-negative window length"):
        getattr(minitorch, name)(-1)
    with pytest.raises(RuntimeError, match="floating point"):
        getattr(minitorch, name)(4, dtype=minitorch.int64)


@pytest.mark.torch
def test_unravel_index_matches_torch(torch):
    idx = np.array([[0, 5], [11, -1]])
    for shape in ((3, 4), (2, 2, 3), 12):
        got = minitorch.unravel_index(minitorch.tensor(idx), shape)
        want = torch.unravel_index(torch.tensor(idx), shape)
        assert len(got) == len(want)
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g.numpy(), w.numpy())
    with pytest.raises(RuntimeError, match="must be in range"):
        minitorch.unravel_index(minitorch.tensor([12]), (3, 4))
    with pytest.raises(TypeError, match="integer tensor"):
        minitorch.unravel_index(minitorch.tensor([1.0]), (3, 4))


def test_constants_predicates_and_names():
    assert minitorch.pi == math.pi and minitorch.e == math.e and minitorch.inf == math.inf
    assert math.isnan(minitorch.nan) and minitorch.newaxis is None
    x = minitorch.ones(2, 3)
    assert minitorch.is_same_size(x, minitorch.zeros(2, 3)) and not minitorch.is_same_size(x, minitorch.ones(3, 2))
    assert minitorch.is_signed(x) and not minitorch.ones(2, dtype=minitorch.uint8).is_signed()
    assert not minitorch.is_complex(x) and not minitorch.is_inference(x)
    assert minitorch.typename(x) == "torch.FloatTensor" and minitorch.typename(3) == "int"
    assert minitorch.typename(minitorch.nn.Linear(1, 1)) == "minitorch.nn.modules.linear.Linear"
    assert not minitorch.is_inference_mode_enabled()
    with minitorch.inference_mode():
        assert minitorch.is_inference_mode_enabled()
        with minitorch.inference_mode(False):
            assert not minitorch.is_inference_mode_enabled() and minitorch.is_grad_enabled()
        assert minitorch.is_inference_mode_enabled() and not minitorch.is_grad_enabled()
    assert not minitorch.is_inference_mode_enabled()
    assert minitorch.cond(minitorch.tensor(False), lambda a: a + 1, lambda a: a - 1, (minitorch.ones(1),)).item() == 0
    assert repr(minitorch.channels_last) == "torch.channels_last" and repr(minitorch.strided) == "torch.strided"
    assert pickle.loads(pickle.dumps(minitorch.channels_last)) is minitorch.channels_last
    assert x.to(memory_format=minitorch.channels_last).shape == x.shape
    assert minitorch.version.cuda is None and minitorch.version.__version__ == minitorch.__version__
    assert minitorch.GradScaler is minitorch.amp.GradScaler
    assert issubclass(minitorch.OutOfMemoryError, RuntimeError)
    assert minitorch.OutOfMemoryError is minitorch.cuda.OutOfMemoryError


def test_settings_are_recorded():
    try:
        minitorch.set_float32_matmul_precision("high")
        assert minitorch.get_float32_matmul_precision() == "high"
        with pytest.warns(UserWarning, match="is not one of 'highest', 'high', or 'medium'"):
            minitorch.set_float32_matmul_precision("fast")
        assert minitorch.get_float32_matmul_precision() == "high"
        minitorch.use_deterministic_algorithms(True, warn_only=True)
        assert minitorch.are_deterministic_algorithms_enabled()
        assert minitorch.is_deterministic_algorithms_warn_only_enabled()
        assert minitorch.get_deterministic_debug_mode() == 1
        minitorch.set_deterministic_debug_mode("error")
        assert minitorch.get_deterministic_debug_mode() == 2
        with pytest.raises(RuntimeError, match="invalid value of debug_mode"):
            minitorch.set_deterministic_debug_mode("bad")
        minitorch.set_num_interop_threads(3)
        assert minitorch.get_num_interop_threads() == 3
        with pytest.raises(RuntimeError, match="positive number of threads"):
            minitorch.set_num_interop_threads(0)
        minitorch.set_warn_always(True)
        assert minitorch.is_warn_always_enabled()
    finally:
        minitorch.set_float32_matmul_precision("highest")
        minitorch.use_deterministic_algorithms(False)
        minitorch.set_warn_always(False)
