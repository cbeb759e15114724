"""The CUDA device end to end: moving tensors and modules, the minitorch.cuda API, device errors, and a few training
steps whose results match the CPU's. Runs where CUDA is available (CI: NUMBA_ENABLE_CUDASIM=1, tiny shapes)."""
import numpy as np
import pytest

import minitorch
import minitorch.nn as nn
import minitorch.nn.functional as F

# the simulator evaluates the kernels' intended 64-bit wraparound with NumPy scalars, which warn about it
pytestmark = [pytest.mark.cuda, pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")]
if "cuda" not in minitorch.dispatch.available():
    pytest.skip("CUDA is not available here (set NUMBA_ENABLE_CUDASIM=1 for the simulator)", allow_module_level=True)

RNG = np.random.default_rng(5)


def test_cuda_api():
    assert minitorch.cuda.is_available()
    assert minitorch.cuda.device_count() >= 1
    assert minitorch.cuda.current_device() == 0
    assert isinstance(minitorch.cuda.get_device_name(), str)
    dev = minitorch.device("cuda" if minitorch.cuda.is_available() else "cpu")
    assert dev.type == "cuda"
    before = minitorch.cuda.memory_allocated()
    t = minitorch.zeros(1000, device="cuda")
    assert minitorch.cuda.memory_allocated() >= before + 4000
    assert minitorch.cuda.max_memory_allocated() >= minitorch.cuda.memory_allocated()
    del t
    minitorch.cuda.synchronize()
    assert minitorch.cuda.memory_allocated() == before and minitorch.cuda.max_memory_allocated() >= before + 4000
    minitorch.cuda.reset_peak_memory_stats()
    assert minitorch.cuda.max_memory_allocated() == minitorch.cuda.memory_allocated() == \
        minitorch.cuda.memory_reserved()
    major, minor = minitorch.cuda.get_device_capability()
    props = minitorch.cuda.get_device_properties(0)
    assert (props.major, props.minor) == (major, minor) and props.name == minitorch.cuda.get_device_name("cuda:0")
    free, total = minitorch.cuda.mem_get_info()
    assert 0 <= free <= total and props.total_memory == total
    minitorch.cuda.init()
    assert minitorch.accelerator.is_available() and minitorch.accelerator.current_accelerator() == dev
    assert minitorch.backends.cuda.is_built()
    with pytest.raises(RuntimeError, match="only dense CPU tensors can be pinned"):
        minitorch.ones(2, device="cuda").pin_memory()


def test_events_time_kernels_and_check_their_arguments():
    start, end = minitorch.cuda.Event(enable_timing=True), minitorch.cuda.Event(enable_timing=True)
    with pytest.raises(RuntimeError, match="recorded"):
        start.elapsed_time(end)
    start.record()
    y = minitorch.ones(8, device="cuda") * 3
    end.record()
    end.synchronize()
    assert end.query() and start.elapsed_time(end) >= 0.0 and y.sum().item() == 24.0
    plain = minitorch.cuda.Event()
    plain.record()
    with pytest.raises(RuntimeError, match="enable_timing=True"):
        plain.elapsed_time(end)


def test_moves_between_devices_keep_values_and_dtypes():
    for dt in (minitorch.float32, minitorch.float64, minitorch.int64, minitorch.bool):
        x = minitorch.tensor(RNG.standard_normal((3, 4)) > 0 if dt is minitorch.bool else
                             RNG.standard_normal((3, 4)) * 5, dtype=dt)
        y = x.to("cuda")
        assert y.device == minitorch.device("cuda", 0) and y.is_cuda and y.dtype is dt
        z = y.cpu()
        assert z.device.type == "cpu"
        np.testing.assert_array_equal(z.numpy(), x.numpy())
    x = minitorch.arange(6.0).reshape(2, 3).t()  # a non-contiguous source
    np.testing.assert_array_equal(x.cuda().cpu().numpy(), x.numpy())
    assert x.cuda().to("cuda", minitorch.float64).dtype is minitorch.float64
    assert minitorch.ones(2, device="cuda").device.type == "cuda"
    assert minitorch.randn(2, 3, device="cuda").device.type == "cuda"
    assert float(minitorch.tensor([2.5], device="cuda").item()) == 2.5
    assert minitorch.tensor([[1, 2]], device="cuda").tolist() == [[1, 2]]
    assert "device='cuda:0'" in repr(minitorch.ones(2, device="cuda"))


def test_device_errors():
    x = minitorch.ones(2, 3, device="cuda")
    with pytest.raises(TypeError, match="can't convert cuda:0 device type tensor to numpy"):
        x.numpy()
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        x + minitorch.ones(2, 3)
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        x @ minitorch.ones(3, 2)


def test_ops_and_autograd_match_the_cpu():
    a, b = RNG.standard_normal((3, 4)), RNG.standard_normal((4, 2))
    results = []
    for dev in ("cpu", "cuda"):
        x = minitorch.tensor(a, device=dev, requires_grad=True)
        w = minitorch.tensor(b, device=dev, requires_grad=True)
        y = (x.exp().sum(1, keepdim=True) * x).matmul(w).relu().log_softmax(-1)
        loss = y.mean() + x.amax() - x[1:, ::2].sum()
        loss.backward()
        results.append([loss.item(), x.grad.cpu().numpy(), w.grad.cpu().numpy()])
    np.testing.assert_allclose(results[1][0], results[0][0], rtol=1e-10)
    for c, g in zip(results[0][1:], results[1][1:]):
        np.testing.assert_allclose(g, c, rtol=1e-10, atol=1e-12)


def _train(dev, conv):
    minitorch.manual_seed(0)
    rng = np.random.default_rng(0)
    if conv:
        model = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                              nn.Linear(2 * 3 * 3, 3))
        x = rng.standard_normal((4, 1, 6, 6)).astype(np.float32)
    else:
        model = nn.Sequential(nn.Linear(5, 4), nn.ReLU(), nn.Dropout(0.0), nn.Linear(4, 3))
        x = rng.standard_normal((6, 5)).astype(np.float32)
    y = rng.integers(0, 3, x.shape[0])
    model.to(dev)
    opt = minitorch.optim.Adam(model.parameters(), lr=0.05) if conv else \
        minitorch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    xs, ys = minitorch.tensor(x, device=dev), minitorch.tensor(y, device=dev)
    losses = []
    for _ in range(3):
        opt.zero_grad()
        loss = F.cross_entropy(model(xs), ys)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses, {k: v.cpu().numpy() for k, v in model.state_dict().items()}


@pytest.mark.parametrize("conv", [False, True], ids=["mlp", "cnn"])
def test_training_steps_match_the_cpu(conv):
    cpu_losses, cpu_state = _train("cpu", conv)
    cuda_losses, cuda_state = _train("cuda", conv)
    np.testing.assert_allclose(cuda_losses, cpu_losses, rtol=1e-5, atol=1e-6)
    for k in cpu_state:
        np.testing.assert_allclose(cuda_state[k], cpu_state[k], rtol=1e-4, atol=1e-5, err_msg=k)
    assert cuda_losses[-1] < cuda_losses[0]


def test_random_numbers_are_drawn_on_the_device():
    for dt in (minitorch.float32, minitorch.float64):
        minitorch.manual_seed(3)
        u = minitorch.rand(4000, device="cuda", dtype=dt)
        minitorch.manual_seed(3)
        assert minitorch.equal(u, minitorch.rand(4000, device="cuda", dtype=dt))  # reproducible
        assert not minitorch.equal(u, minitorch.rand(4000, device="cuda", dtype=dt))  # the stream moves on
        assert u.device.type == "cuda" and u.dtype is dt
        h = u.cpu().numpy()
        assert h.min() >= 0.0 and h.max() < 1.0
        assert abs(h.mean() - 0.5) < 0.02 and abs(h.var() - 1 / 12) < 0.01
        assert np.histogram(h, bins=10, range=(0, 1))[0].min() > 330  # no empty or thin bin
        z = minitorch.randn(4000, device="cuda", dtype=dt).cpu().numpy()
        assert abs(z.mean()) < 0.06 and abs(z.std() - 1) < 0.05 and np.isfinite(z).all()
    x = minitorch.empty(50, 40, device="cuda").t().normal_(2.0, 0.5)  # a non-contiguous target
    assert abs(x.mean().item() - 2.0) < 0.05
    b = minitorch.empty(2000, dtype=minitorch.int64, device="cuda").bernoulli_(0.25)
    assert b.device.type == "cuda" and abs(b.float().mean().item() - 0.25) < 0.03
    d = F.dropout(minitorch.ones(2000, device="cuda"), 0.5)
    kept = (d != 0).float().mean().item()
    assert abs(kept - 0.5) < 0.04 and set(np.unique(d.cpu().numpy())) <= {0.0, 2.0}


def test_random_integers_and_exponentials_are_drawn_on_the_device(monkeypatch):
    from minitorch.kernels.cuda import memory
    uploads = []
    real = memory.from_host
    monkeypatch.setattr(memory, "from_host", lambda a: uploads.append(a.size) or real(a))
    minitorch.manual_seed(5)
    r = minitorch.randint(-3, 4, (3000,), device="cuda")
    minitorch.manual_seed(5)
    assert minitorch.equal(r, minitorch.randint(-3, 4, (3000,), device="cuda"))
    h = r.cpu().numpy()
    assert r.dtype is minitorch.int64 and set(np.unique(h)) == set(range(-3, 4))
    assert np.bincount(h + 3).min() > 340  # 3000 / 7 = 429 per value
    wide = minitorch.randint(-2 ** 63, 2 ** 63 - 1, (2000,), device="cuda").cpu().numpy()
    assert (wide < 0).mean() > 0.4 and (wide > 0).mean() > 0.4 and np.abs(wide.astype(float)).max() > 2.0 ** 62
    f = minitorch.empty(30, 40, device="cuda").t().random_(10, 20)  # a non-contiguous float target
    hf = f.cpu().numpy()
    assert set(np.unique(hf)) == set(range(10, 20)) and f.dtype is minitorch.float32
    u8 = minitorch.empty(1000, dtype=minitorch.uint8, device="cuda").random_()
    assert u8.cpu().numpy().max() > 240 and u8.cpu().numpy().min() < 15
    e = minitorch.empty(4000, device="cuda", dtype=minitorch.float64).exponential_(2.0).cpu().numpy()
    assert e.min() >= 0 and abs(e.mean() - 0.5) < 0.03 and abs(e.std() - 0.5) < 0.04
    assert max(uploads) <= 2  # scalars only: no host-drawn arrays were copied up
    with pytest.raises(RuntimeError, match="from=5 >= to=5"):
        minitorch.empty(3, device="cuda").random_(5, 5)
    with pytest.raises(RuntimeError, match="lambda > 0.0"):
        minitorch.empty(3, device="cuda").exponential_(0.0)
