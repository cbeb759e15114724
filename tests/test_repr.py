"""Tensors, Parameters, Modules, sizes and dtypes print as PyTorch prints them (what a notebook cell shows).

Each case is one expression evaluated with ``torch`` bound to minitorch and then to PyTorch; the two reprs must be
equal, except that names PyTorch prints with its module prefix (``torch.float32``, ``torch.Size``,
``torch.return_types``) carry minitorch's (``minitorch.float32``): they name the object you can type back in.
"""
import re

import pytest

import minitorch

pytestmark = pytest.mark.torch

_PREFIXED = re.compile(r"\btorch\.(?=(?:float|int|uint|bool|bfloat|complex|Size|return_types)\b|"
                       r"(?:float|int|uint|bfloat|complex)\d)")


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def _as_minitorch(text):
    return _PREFIXED.sub("minitorch.", text)


def _both(expr, torch, **names):
    ours = repr(eval(expr, {"torch": minitorch, "nn": minitorch.nn, **names}))
    theirs = repr(eval(expr, {"torch": torch, "nn": torch.nn, **names}))
    return ours, _as_minitorch(theirs)


@pytest.fixture
def printoptions(torch):
    """Set the same print options on both libraries; both go back to the default profile afterwards."""
    def set_both(**kw):
        minitorch.set_printoptions(**kw)
        torch.set_printoptions(**kw)
    yield set_both
    minitorch.set_printoptions(profile="default")
    torch.set_printoptions(profile="default")


TENSORS = [
    # scalars and plain vectors of each kind
    "torch.tensor(1.5)", "torch.tensor(3)", "torch.tensor(True)", "torch.tensor(-0.5)", "torch.tensor(1e20)",
    "torch.tensor(float('inf'))", "torch.tensor([1.0, 2.5, -3.25])", "torch.tensor([1, 2, 3])",
    "torch.tensor([[1, -200], [3, 4]])", "torch.tensor([True, False])", "torch.ones(2, 3, dtype=torch.bool)",
    # float formats: fixed, whole numbers, scientific, and widths set by nonzero finite values only
    "torch.tensor([[1e-5, 1.0], [100.0, 3.0]])", "torch.tensor([1e10, 1.0])", "torch.tensor([0.1, 123456.0])",
    "torch.tensor([123456789.0])", "torch.tensor([1e-10])", "torch.tensor([1e-3, 1.0])", "torch.arange(40.) / 7",
    "torch.tensor([12345.678, 1.0])", "torch.tensor([0.0, 0.0])", "torch.tensor([-0.0, 0.0])",
    "torch.tensor([0.5, -0.0])", "torch.tensor([-0.0, 5.0])",
    "torch.tensor([float('nan'), float('inf'), 1.5])", "torch.tensor([float('nan'), 2.0])",
    "torch.tensor([1.0, float('-inf')])", "torch.tensor([float('nan'), float('nan')])",
    # dtypes other than the defaults are named
    "torch.tensor([1, 2], dtype=torch.int32)", "torch.tensor([1, 2], dtype=torch.uint8)",
    "torch.tensor([1.5], dtype=torch.float64)", "torch.tensor([1.5, 2.0], dtype=torch.float16)",
    "torch.tensor([1.5, 2.0], dtype=torch.bfloat16)", "torch.tensor(7, dtype=torch.int16)",
    # empty tensors
    "torch.zeros(0)", "torch.zeros(2, 0)", "torch.zeros(0, dtype=torch.int64)",
    "torch.zeros(0, 3, dtype=torch.float64)",
    # nested and summarized (more than 1000 elements: "..." between the edge items, lines wrapped at 80)
    "torch.arange(24.).reshape(2, 3, 4)", "torch.arange(2000.0)", "torch.arange(2000)",
    "torch.arange(3000.).reshape(30, 100)", "torch.arange(3000).reshape(10, 30, 10) - 1500", "torch.arange(30.) * 1.5",
    # autograd state
    "torch.tensor([1.0, 2.0], requires_grad=True)", "torch.tensor([1.0, 2.0], requires_grad=True) * 2",
    "torch.tensor([1.0, 2.0], requires_grad=True).sum()", "torch.tensor([[1.0, 2.0]], requires_grad=True).t()",
    "torch.tensor([1.0, 2.0], requires_grad=True)[0]",
    "torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)",
    "torch.tensor([1.0, 2.0]).grad_fn", "torch.tensor([1.0, 2.0], requires_grad=True).detach()",
    "torch.tensor([-1.0, 2.0], requires_grad=True).relu()",
    "torch.tensor([1.0, 2.0], requires_grad=True).exp().mean()",
]


@pytest.mark.parametrize("expr", TENSORS)
def test_tensor_repr_matches_pytorch(expr, torch):
    ours, theirs = _both(expr, torch)
    assert ours == theirs


@pytest.mark.parametrize("opts", [dict(precision=2), dict(precision=6), dict(sci_mode=True), dict(sci_mode=False),
                                  dict(threshold=5, edgeitems=2), dict(linewidth=40), dict(profile="short"),
                                  dict(threshold=10, edgeitems=1, linewidth=30, precision=1)])
def test_printoptions_match_pytorch(opts, torch, printoptions):
    printoptions(**opts)
    for expr in ["torch.tensor([1e-5, 1.0, 100.0])", "torch.tensor([1e10, 1.0])", "torch.tensor([123456.0, 0.5])",
                 "torch.tensor([0.0, 0.0])", "torch.arange(60.).reshape(3, 4, 5) / 3", "torch.arange(100)",
                 "torch.tensor([float('nan'), 0.25])"]:
        ours, theirs = _both(expr, torch)
        assert ours == theirs, expr


def test_tensor_repr_on_each_device(device, torch):
    """Off the CPU, PyTorch puts device='...' first among the suffixes (before size, dtype and grad state)."""
    makers = [lambda t, d: t.tensor([1.0, 2.5], device=d), lambda t, d: t.tensor([1, 2], dtype=t.int32, device=d),
              lambda t, d: t.tensor(True, device=d), lambda t, d: t.zeros(2, 0, device=d),
              lambda t, d: t.tensor([1.0, 2.0], requires_grad=True, device=d)]
    for make in makers:
        ours = repr(make(minitorch, device))
        theirs = _as_minitorch(repr(make(torch, "cpu")))
        if device != "cpu":
            where = re.search(r", (?:size|dtype|grad_fn|requires_grad)=", theirs)
            at = where.start() if where else len(theirs) - 1
            index = "" if ":" in str(device) else ":0"  # a tensor's device always carries its index
            theirs = theirs[:at] + f", device='{device}{index}'" + theirs[at:]
        assert ours == theirs


@pytest.mark.parametrize("expr", [
    "torch.nn.Parameter(torch.tensor([1.0, 2.0]))",
    "torch.nn.Parameter(torch.tensor([1.0, 2.0]), requires_grad=False)",
    "torch.nn.Parameter(torch.arange(6.).reshape(2, 3))",
    "torch.nn.Parameter(torch.tensor(0.25, dtype=torch.float64))",
    "torch.nn.Parameter(torch.arange(1500.))",
])
def test_parameter_repr_matches_pytorch(expr, torch):
    ours, theirs = _both(expr, torch)
    assert ours.startswith("Parameter containing:\ntensor(")
    assert ours == theirs


def _custom_modules(nn):
    """The same user-defined modules written against either library's nn."""
    class Block(nn.Module):
        def __init__(self, width, scale=1.0):
            super().__init__()
            self.scale = scale
            self.proj = nn.Linear(width, width)
            self.act = nn.GELU()

        def extra_repr(self):
            return f"scale={self.scale}"

        def forward(self, x):
            return self.act(self.proj(x)) * self.scale

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(inplace=True),
                                      nn.MaxPool2d(2))
            self.blocks = nn.ModuleList([Block(8), Block(8), Block(8, scale=0.5), Block(8)])
            self.heads = nn.ModuleDict({"cls": nn.Linear(8, 10), "box": nn.Sequential(nn.Linear(8, 4), nn.Sigmoid())})
            self.norm = nn.LayerNorm(8)
            self.drop = nn.Dropout(0.25)
            self.gain = nn.Parameter(nn.init.ones_(nn.Linear(1, 1).weight))

        def extra_repr(self):
            return "two-line\nextra repr"

    return {"Block": Block, "Net": Net}


MODULES = [
    "nn.Linear(3, 2, bias=False)", "nn.Conv2d(1, 4, 3, stride=2, padding=1)", "nn.Sequential()",
    "nn.Sequential(nn.Linear(2, 3), nn.Sequential(nn.ReLU(), nn.Dropout(0.1)))",
    "nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])", "nn.ModuleList()",
    "nn.ModuleList([nn.ReLU(), nn.ReLU(), nn.Tanh(), nn.ReLU()])",
    "nn.ModuleDict({'a': nn.Tanh(), 'b': nn.BatchNorm1d(4)})",
    "nn.ParameterList([nn.Parameter(torch.ones(2)), nn.Parameter(torch.ones(2, 3, dtype=torch.float64))])",
    "nn.ParameterList([nn.Parameter(torch.ones(2))])",
    "nn.ParameterDict({'a': nn.Parameter(torch.ones(2, 3)), 'b': nn.Parameter(torch.ones(()))})",
    "nn.LayerNorm(5)", "nn.LayerNorm((2, 5), elementwise_affine=False)", "nn.LayerNorm(4, bias=False)",
    "nn.GroupNorm(2, 4)", "nn.GroupNorm(2, 4, affine=False)", "nn.GroupNorm(2, 4, bias=False)", "nn.RMSNorm(4)",
    "nn.LSTM(4, 8, num_layers=2, batch_first=True)", "nn.Embedding(10, 3)", "nn.CrossEntropyLoss()",
    "nn.TransformerEncoderLayer(8, 2, 16)", "nn.Softmax(dim=1)", "nn.Flatten()", "nn.LeakyReLU(0.2)",
    "nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))",
    "Block(4)", "Net()",
]


@pytest.mark.parametrize("expr", MODULES)
def test_module_repr_matches_pytorch(expr, torch):
    ours = repr(eval(expr, {"torch": minitorch, "nn": minitorch.nn, **_custom_modules(minitorch.nn)}))
    theirs = repr(eval(expr, {"torch": torch, "nn": torch.nn, **_custom_modules(torch.nn)}))
    assert ours == _as_minitorch(theirs)


@pytest.mark.parametrize("expr", [
    "torch.Size([2, 3])", "torch.Size([])", "torch.ones(2, 3).shape", "torch.ones(2, 3)[0].size()",
    "torch.float32", "torch.int64", "torch.bool", "torch.bfloat16", "torch.float16", "torch.uint8",
    "torch.ones(2).dtype", "torch.tensor([1, 2]).dtype", "torch.device('cpu')", "torch.device('cuda', 0)",
    "torch.device('cuda:1')", "torch.tensor([1.0, 2.0]).max(0)", "torch.tensor([[3.0, 1.0]]).sort(1)",
])
def test_size_dtype_device_repr_matches_pytorch(expr, torch):
    ours, theirs = _both(expr, torch)
    assert ours == theirs


def test_no_html_or_pretty_hooks_where_pytorch_has_none(torch):
    """IPython shows __repr__ (text/plain): minitorch adds no rich display PyTorch does not have."""
    for ours, theirs in [(minitorch.ones(2), torch.ones(2)), (minitorch.nn.Linear(2, 2), torch.nn.Linear(2, 2)),
                         (minitorch.nn.Parameter(minitorch.ones(2)), torch.nn.Parameter(torch.ones(2)))]:
        for hook in ("_repr_html_", "_repr_pretty_", "_repr_markdown_", "_repr_png_"):
            assert hasattr(ours, hook) == hasattr(theirs, hook), (type(ours).__name__, hook)
