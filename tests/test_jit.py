"""minitorch.jit: TorchScript's markers run the code as written; script/trace run through minitorch.compile and
share the module's parameters; save/load round trips; PyTorch's TorchScript archives are refused clearly."""
import numpy as np
import pytest

import minitorch
import minitorch.nn as nn

# PyTorch 2.13 deprecates script/trace/save/load with a DeprecationWarning, and so does minitorch
pytestmark = pytest.mark.filterwarnings("ignore:`minitorch.jit:DeprecationWarning")


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 3)
        self.bn = nn.BatchNorm1d(3)

    def forward(self, x):
        if not minitorch.jit.is_scripting():
            x = minitorch.jit.annotate(minitorch.Tensor, x)
        return self.bn(self.fc(x)).relu()

    @minitorch.jit.unused
    def helper(self):
        return 7

    @minitorch.jit.export
    def twice(self, x):
        return 2 * x


def test_markers_run_the_code_as_written():
    jit = minitorch.jit
    assert jit.is_scripting() is False and jit.is_tracing() is False
    assert jit.annotate(list, [1]) == [1] and jit.Attribute(3, int) == 3
    f = lambda x: x + 1  # noqa: E731
    for marker in (jit.ignore, jit.unused, jit.export, jit.interface, jit._overload_method, jit.script_method):
        assert marker(f) is f
    assert jit.ignore(drop=True)(f) is f


def test_script_module_shares_the_module_and_trains_it():
    m = Net()
    x = minitorch.randn(5, 4)
    s = minitorch.jit.script(m)
    assert isinstance(s, minitorch.jit.ScriptModule) and isinstance(s, nn.Module)
    assert list(s.state_dict()) == list(m.state_dict())
    np.testing.assert_allclose(s(x).detach().numpy(), m(x).detach().numpy(), rtol=1e-6, atol=1e-6)
    assert s.helper() == 7 and s.fc is m.fc
    s.eval()
    assert not m.training and not s.training
    s.train()
    before = m.fc.weight.detach().clone()
    opt = minitorch.optim.SGD(s.parameters(), lr=0.1)
    s(x).sum().backward()
    opt.step()
    assert not np.allclose(m.fc.weight.detach().numpy(), before.numpy())
    assert "linear" in s.graph and "linear" in s.__getattr__("forward").graph


def test_trace_runs_once_and_shows_the_graph():
    seen = []

    def fn(a):
        seen.append(minitorch.jit.is_tracing())
        return (a * 2).sigmoid()
    x = minitorch.randn(3)
    t = minitorch.jit.trace(fn, (x,))
    assert seen == [True]
    np.testing.assert_allclose(t(x).numpy(), (x * 2).sigmoid().numpy(), rtol=1e-6)
    assert "sigmoid" in t.graph and "mul" in t.graph
    tm = minitorch.jit.trace(Net().eval(), minitorch.randn(2, 4))
    assert isinstance(tm, minitorch.jit.ScriptModule) and "functional.linear" in tm.graph
    with pytest.raises(RuntimeError, match="example_inputs"):
        minitorch.jit.trace(fn)


def test_subclassed_script_module():
    class Half(minitorch.jit.ScriptModule):
        def __init__(self):
            super().__init__()
            self.scale = nn.Parameter(minitorch.tensor([0.5]))

        @minitorch.jit.script_method
        def forward(self, x):
            return x * self.scale
    h = Half()
    np.testing.assert_allclose(h(minitorch.tensor([4.0])).detach().numpy(), [2.0])
    assert list(h.state_dict()) == ["scale"]
    with pytest.raises(AttributeError):
        h.nothing


def test_save_load_round_trip(tmp_path):
    m = Net().eval()
    x = minitorch.randn(5, 4)
    path = tmp_path / "m.pt"
    minitorch.jit.save(minitorch.jit.script(m), path, _extra_files={"meta.txt": "v1", "raw.bin": b"\x00\xff"})
    extra = {"meta.txt": "", "raw.bin": ""}
    loaded = minitorch.jit.load(path, _extra_files=extra)
    assert isinstance(loaded, minitorch.jit.ScriptModule)
    assert extra == {"meta.txt": b"v1", "raw.bin": b"\x00\xff"}
    np.testing.assert_allclose(loaded(x).detach().numpy(), m(x).detach().numpy(), rtol=1e-6, atol=1e-6)
    minitorch.jit.script(m).save(path)
    np.testing.assert_allclose(minitorch.jit.load(str(path))(x).detach().numpy(), m(x).detach().numpy(), rtol=1e-6)
    with pytest.raises(TypeError, match="stores modules"):
        minitorch.jit.save(minitorch.jit.script(lambda a: a), path)


@pytest.mark.filterwarnings("default")
def test_the_entry_points_warn_as_deprecated():
    with pytest.warns(DeprecationWarning, match="`minitorch.jit.script` is deprecated"):
        minitorch.jit.script(lambda a: a)
    with pytest.warns(DeprecationWarning, match="`minitorch.jit.trace` is deprecated"):
        minitorch.jit.trace(lambda a: a, minitorch.ones(1))


def test_script_errors():
    with pytest.raises(RuntimeError, match="script an instance"):
        minitorch.jit.script(Net)
    with pytest.raises(RuntimeError, match="takes a function or an nn.Module"):
        minitorch.jit.script(3)


@pytest.mark.torch
def test_a_pytorch_torchscript_archive_is_refused_clearly(tmp_path):
    torch = pytest.importorskip("torch")
    path = tmp_path / "ts.pt"
    with pytest.warns(DeprecationWarning):
        torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), str(path))
    with pytest.raises(RuntimeError, match="TorchScript archive written by PyTorch"):
        minitorch.jit.load(path)
