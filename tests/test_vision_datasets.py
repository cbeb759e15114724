"""minitorch.vision.datasets beyond MNIST: download/archive helpers, VisionDataset, FakeData, ImageFolder, CIFAR,
the MNIST family, SVHN, STL10, Omniglot and CelebA.

Every dataset is built here in its published on-disk format from a few random images; downloads are served from
local files through file:// URLs (no network).
"""
import gzip
import hashlib
import http.server
import io
import lzma
import os
import struct
import tarfile
import threading
import urllib.error
import zipfile

import numpy as np
import pytest

import minitorch
from minitorch.utils.data import DataLoader
from minitorch.vision import datasets, transforms as T
from minitorch.vision.datasets import utils as U
from minitorch.vision.datasets.folder import IMG_EXTENSIONS, find_classes, make_dataset

try:
    from PIL import Image
except ImportError:  # the archive, download and folder helpers are still tested without Pillow
    Image = None

needs_pil = pytest.mark.skipif(Image is None, reason="Pillow is not installed")


def md5(path):
    return hashlib.md5(open(path, "rb").read()).hexdigest()


def file_url(path):
    return "file://" + os.path.abspath(path)


def rng(seed):
    return np.random.default_rng(seed)


def snapshot(folder):
    """All paths under ``folder`` (relative), to check that nothing was written."""
    out = []
    for root, dirs, files in os.walk(folder):
        out += [os.path.relpath(os.path.join(root, n), folder) for n in dirs + files]
    return sorted(out)


def make_tar(path, members, mode="w:gz"):
    """A tar archive of ``{name: bytes}``."""
    with tarfile.open(path, mode) as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def make_zip(path, members):
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)


def png_bytes(array, mode=None):
    buf = io.BytesIO()
    Image.fromarray(array, mode).save(buf, format="PNG")
    return buf.getvalue()


# ----------------------------------------------------------------------------------------------------------------
# utils: checksums, verify_str_arg, download_url
# ----------------------------------------------------------------------------------------------------------------
def test_md5_and_integrity(tmp_path):
    p = tmp_path / "f.bin"
    data = rng(0).integers(0, 256, 3 << 20, dtype=np.uint8).tobytes()  # more than one read chunk
    p.write_bytes(data)
    assert U.calculate_md5(p) == hashlib.md5(data).hexdigest()
    assert U.check_md5(p, hashlib.md5(data).hexdigest())
    assert U.check_integrity(p) and U.check_integrity(p, hashlib.md5(data).hexdigest())
    assert not U.check_integrity(p, "0" * 32)
    assert not U.check_integrity(tmp_path / "missing")


def test_verify_str_arg():
    assert U.verify_str_arg("b", "split", ("a", "b")) == "b"
    assert U.verify_str_arg("anything") == "anything"
    with pytest.raises(ValueError, match=r"^Unknown value 'c' for argument split\. Valid values are \{'a', 'b'\}\.$"):
        U.verify_str_arg("c", "split", ("a", "b"))
    with pytest.raises(ValueError, match=r"^Expected type str for argument split, but got type <class 'int'>\.$"):
        U.verify_str_arg(3, "split", ("a",))
    with pytest.raises(ValueError, match="^my message$"):
        U.verify_str_arg("c", "split", ("a",), custom_msg="my message")


def test_download_url_from_file_url(tmp_path, capsys):
    src = tmp_path / "src" / "data.bin"
    src.parent.mkdir()
    src.write_bytes(b"hello world" * 1000)
    root = tmp_path / "root"
    U.download_url(file_url(src), root, md5=md5(src))
    assert (root / "data.bin").read_bytes() == src.read_bytes()
    assert os.listdir(root) == ["data.bin"]  # no temporary file left
    src.write_bytes(b"changed")  # a verified file is not fetched again
    U.download_url(file_url(src), root, md5=md5(root / "data.bin"))
    assert "Using downloaded and verified file" in capsys.readouterr().out
    assert (root / "data.bin").read_bytes() != b"changed"
    U.download_url(file_url(src), root, filename="other.bin")
    assert (root / "other.bin").read_bytes() == b"changed"


def test_download_url_md5_mismatch_writes_nothing(tmp_path):
    src = tmp_path / "data.bin"
    src.write_bytes(b"abc")
    root = tmp_path / "root"
    with pytest.raises(RuntimeError, match=r"md5 mismatch: expected 0{32}, got " + hashlib.md5(b"abc").hexdigest()):
        U.download_url(file_url(src), root, md5="0" * 32)
    assert os.listdir(root) == []


def test_download_url_unreachable(tmp_path):
    with pytest.raises(urllib.error.URLError):
        U.download_url(file_url(tmp_path / "nowhere.bin"), tmp_path / "root")
    assert os.listdir(tmp_path / "root") == []


class _Redirects(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        n = int(self.path.strip("/") or 0)
        if n > 0:
            self.send_response(302)
            self.send_header("Location", f"/{n - 1}")
            self.end_headers()
        else:
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


@pytest.fixture
def redirect_server(monkeypatch):
    for var in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Redirects)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_download_url_redirect_limit(tmp_path, redirect_server):
    U.download_url(f"{redirect_server}/3", tmp_path, filename="a.bin")  # 3 hops: allowed by default
    assert (tmp_path / "a.bin").read_bytes() == b"ok"
    with pytest.raises(RecursionError, match=r"exceeded 3 redirects\. The last redirect points to .*/0"):
        U.download_url(f"{redirect_server}/4", tmp_path, filename="b.bin")
    U.download_url(f"{redirect_server}/4", tmp_path, filename="c.bin", max_redirect_hops=4)
    assert sorted(os.listdir(tmp_path)) == ["a.bin", "c.bin"]


# ----------------------------------------------------------------------------------------------------------------
# utils: archives
# ----------------------------------------------------------------------------------------------------------------
MEMBERS = {"top/a.txt": b"alpha", "top/sub/b.bin": bytes(range(256)), "c.txt": b"gamma"}


@pytest.mark.parametrize("kind", ["tar", "tar.gz", "tgz", "zip", "tar.xz"])
def test_extract_archive_roundtrip(tmp_path, kind):
    archive = tmp_path / f"arch.{kind}"
    if kind == "zip":
        make_zip(archive, MEMBERS)
    else:
        make_tar(archive, MEMBERS, {"tar": "w", "tar.gz": "w:gz", "tgz": "w:gz", "tar.xz": "w:xz"}[kind])
    out = tmp_path / "out"
    assert U.extract_archive(archive, out) == str(out)
    for name, data in MEMBERS.items():
        assert (out / name).read_bytes() == data
    assert sorted(os.listdir(out)) == ["c.txt", "top"]  # no staging folder left
    # into an existing tree: merged, not replaced
    (out / "top" / "keep.txt").write_bytes(b"keep")
    U.extract_archive(archive, out, remove_finished=True)
    assert (out / "top" / "keep.txt").exists() and not archive.exists()


def test_extract_single_gz_and_default_folder(tmp_path):
    p = tmp_path / "data.bin.gz"
    p.write_bytes(gzip.compress(b"payload"))
    assert U.extract_archive(p) == str(tmp_path / "data.bin")
    assert (tmp_path / "data.bin").read_bytes() == b"payload"
    x = tmp_path / "more.idx.xz"
    x.write_bytes(lzma.compress(b"xz payload"))
    U.extract_archive(x, tmp_path / "o")
    assert (tmp_path / "o" / "more.idx").read_bytes() == b"xz payload"


def test_extract_archive_unknown_suffix(tmp_path):
    with pytest.raises(RuntimeError, match=r"Unknown compression or archive type: '\.rar'"):
        U.extract_archive(tmp_path / "a.rar", tmp_path)
    with pytest.raises(RuntimeError, match="has no suffixes"):
        U.extract_archive(tmp_path / "noext", tmp_path)


@pytest.mark.parametrize("evil", ["../escape.txt", "ok/../../escape.txt", "/tmp/abs_escape.txt"])
@pytest.mark.parametrize("kind", ["tar.gz", "zip"])
def test_extract_archive_rejects_path_traversal(tmp_path, evil, kind):
    archive = tmp_path / f"evil.{kind}"
    members = {"fine.txt": b"fine", evil: b"evil"}
    if kind == "zip":
        make_zip(archive, members)
    else:
        make_tar(archive, members)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(RuntimeError, match=r"Refusing to extract .*evil.* would be written outside"):
        U.extract_archive(archive, out)
    assert snapshot(out) == []  # not even the harmless member
    assert not (tmp_path / "escape.txt").exists()


def test_extract_archive_rejects_links_out(tmp_path):
    archive = tmp_path / "links.tar"
    with tarfile.open(archive, "w") as tar:
        info = tarfile.TarInfo("link")
        info.type = tarfile.SYMTYPE
        info.linkname = "../../etc"
        tar.addfile(info)
    out = tmp_path / "out"
    with pytest.raises(RuntimeError, match=r"member 'link' would be written outside .*out \(it is a link to "
                                           r"'\.\./\.\./etc'"):
        U.extract_archive(archive, out)
    assert snapshot(out) == []


def test_extract_archive_truncated_or_corrupt(tmp_path):
    archive = tmp_path / "big.tar.gz"
    make_tar(archive, {f"f{i}.bin": rng(i).bytes(20000) for i in range(5)})
    raw = archive.read_bytes()
    archive.write_bytes(raw[: len(raw) // 2])
    out = tmp_path / "out"
    with pytest.raises(RuntimeError, match=r"Cannot extract .*big\.tar\.gz: it is corrupt or truncated"):
        U.extract_archive(archive, out)
    assert snapshot(out) == []  # the complete members were not left behind either
    bad_zip = tmp_path / "bad.zip"
    bad_zip.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(RuntimeError, match=r"Cannot extract .*bad\.zip: it is corrupt or truncated"):
        U.extract_archive(bad_zip, out)
    bad_gz = tmp_path / "bad.bin.gz"
    bad_gz.write_bytes(gzip.compress(b"x" * 1000)[:20])
    with pytest.raises(RuntimeError, match="corrupt or truncated"):
        U.extract_archive(bad_gz, out)
    assert not (out / "bad.bin").exists()


def test_download_and_extract_archive(tmp_path):
    src = tmp_path / "srv" / "pack.tar.gz"
    src.parent.mkdir()
    make_tar(src, MEMBERS)
    root = tmp_path / "root"
    U.download_and_extract_archive(file_url(src), root, md5=md5(src))
    assert (root / "pack.tar.gz").exists() and (root / "top" / "a.txt").read_bytes() == b"alpha"
    U.download_and_extract_archive(file_url(src), tmp_path / "dl", extract_root=tmp_path / "ex", filename="p.tgz",
                                   remove_finished=True)
    assert os.listdir(tmp_path / "dl") == [] and (tmp_path / "ex" / "c.txt").read_bytes() == b"gamma"


# ----------------------------------------------------------------------------------------------------------------
# VisionDataset, StandardTransform
# ----------------------------------------------------------------------------------------------------------------
class _Tiny(datasets.VisionDataset):
    def __len__(self):
        return 3

    def extra_repr(self):
        return "Split: Train"


def test_vision_dataset_transforms_and_repr(tmp_path):
    with pytest.raises(ValueError, match="^Only transforms or transform/target_transform can be passed as argument$"):
        datasets.VisionDataset("r", transforms=lambda x, y: (x, y), transform=str)
    ds = _Tiny("~/somewhere", transform=T.Compose([T.ToTensor(), T.Normalize((0.5,), (0.5,))]))
    assert ds.root == os.path.expanduser("~/somewhere")
    assert repr(ds) == ("Dataset _Tiny\n"
                        "    Number of datapoints: 3\n"
                        f"    Root location: {ds.root}\n"
                        "    Split: Train\n"
                        "    StandardTransform\n"
                        "Transform: Compose(\n"
                        "               ToTensor()\n"
                        "               Normalize(mean=(0.5,), std=(0.5,))\n"
                        "           )")
    st = ds.transforms
    assert isinstance(st, datasets.vision.StandardTransform)
    st2 = datasets.vision.StandardTransform(lambda x: x + 1, lambda y: y * 10)
    assert st2(1, 2) == (2, 20)
    assert datasets.VisionDataset(tmp_path).root == str(tmp_path)  # pathlib roots become strings
    assert "Root location" not in repr(_Tiny(None))
    with pytest.raises(NotImplementedError):
        datasets.VisionDataset("r")[0]


@needs_pil
# ----------------------------------------------------------------------------------------------------------------
# FakeData
# ----------------------------------------------------------------------------------------------------------------
def test_fakedata():
    ds = datasets.FakeData(size=5, image_size=(3, 6, 4), num_classes=3)
    assert len(ds) == 5
    minitorch.manual_seed(123)
    before = minitorch.rand(4).numpy()
    img, target = ds[2]
    minitorch.manual_seed(123)
    np.testing.assert_array_equal(minitorch.rand(4).numpy(), before)  # the global generator is untouched
    assert isinstance(img, Image.Image) and img.mode == "RGB" and img.size == (4, 6)
    assert isinstance(target, int) and 0 <= target < 3
    img2, target2 = ds[2]
    assert np.array_equal(np.asarray(img), np.asarray(img2)) and target == target2
    shifted = datasets.FakeData(size=5, image_size=(3, 6, 4), num_classes=3, random_offset=1)
    assert np.array_equal(np.asarray(shifted[1][0]), np.asarray(img))
    assert not np.array_equal(np.asarray(shifted[2][0]), np.asarray(img))
    gray = datasets.FakeData(size=2, image_size=(1, 5, 5), transform=T.ToTensor(), target_transform=lambda y: -y)
    x, y = gray[0]
    assert tuple(x.shape) == (1, 5, 5) and y <= 0
    with pytest.raises(IndexError, match="FakeData index out of range"):
        ds[5]
    assert repr(ds).startswith("Dataset FakeData\n    Number of datapoints: 5")


@needs_pil
@pytest.mark.torch
def test_fakedata_pixels_are_to_pil_image_of_seeded_noise():
    torch = pytest.importorskip("torch")
    # item i is ToPILImage()(randn(image_size)) drawn after seeding with i + random_offset; the float-to-byte cast
    # (negative values wrap around) is checked against torch's own mul(255).byte()
    for size in [(3, 6, 4), (1, 3, 5)]:
        img, _ = datasets.FakeData(size=4, image_size=size, random_offset=10)[1]
        g = minitorch.Generator().manual_seed(11)
        expected = torch.from_numpy(minitorch.randn(*size, generator=g).numpy()).mul(255).byte().permute(1, 2, 0)
        np.testing.assert_array_equal(np.asarray(img), expected.numpy().squeeze(-1) if size[0] == 1 else expected)


# ----------------------------------------------------------------------------------------------------------------
# ImageFolder / DatasetFolder
# ----------------------------------------------------------------------------------------------------------------
@pytest.fixture
def image_tree(tmp_path):
    """root/{cat,dog}/ with PNGs (one nested in dog/puppies), a .txt and a .JPG; returns (root, {path: array})."""
    root = tmp_path / "images"
    arrays = {}
    r = rng(7)
    for rel in ["cat/1.png", "cat/0.png", "dog/a.png", "dog/puppies/b.png", "dog/c.JPG"]:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        arr = r.integers(0, 256, (5, 4, 3), dtype=np.uint8)
        Image.fromarray(arr).save(path, format="PNG")  # a PNG even when named .JPG: the loader reads content
        arrays[str(path)] = arr
    (root / "cat" / "notes.txt").write_text("not an image")
    gray = r.integers(0, 256, (5, 4), dtype=np.uint8)
    Image.fromarray(gray).save(root / "cat" / "2.png")
    arrays[str(root / "cat" / "2.png")] = np.repeat(gray[:, :, None], 3, axis=2)  # converted to RGB
    return root, arrays


@needs_pil
def test_image_folder(image_tree):
    root, arrays = image_tree
    ds = datasets.ImageFolder(str(root))
    assert ds.classes == ["cat", "dog"] and ds.class_to_idx == {"cat": 0, "dog": 1}
    expected = [(str(root / "cat" / n), 0) for n in ("0.png", "1.png", "2.png")] + \
               [(str(root / "dog" / n), 1) for n in ("a.png", "c.JPG")] + [(str(root / "dog/puppies/b.png"), 1)]
    assert ds.samples == expected and ds.imgs is ds.samples and ds.targets == [0, 0, 0, 1, 1, 1]
    for i, (path, target) in enumerate(expected):
        img, label = ds[i]
        assert isinstance(img, Image.Image) and img.mode == "RGB" and label == target
        np.testing.assert_array_equal(np.asarray(img), arrays[path])
    assert repr(ds).startswith(f"Dataset ImageFolder\n    Number of datapoints: 6\n    Root location: {root}")


@needs_pil
def test_image_folder_is_valid_file_and_allow_empty(image_tree, tmp_path):
    root, _ = image_tree
    only_a = datasets.ImageFolder(root, is_valid_file=lambda p: os.path.basename(p).startswith("a"),
                                  allow_empty=True)
    assert only_a.samples == [(str(root / "dog" / "a.png"), 1)]
    with pytest.raises(FileNotFoundError, match=r"^Found no valid file for the classes cat\. $"):
        datasets.ImageFolder(root, is_valid_file=lambda p: os.path.basename(p).startswith("a"))
    (root / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match=r"^Found no valid file for the classes empty\. Supported "
                                                r"extensions are: \.jpg, \.jpeg, \.png, \.ppm, \.bmp, \.pgm, "
                                                r"\.tif, \.tiff, \.webp$"):
        datasets.ImageFolder(root)
    ds = datasets.ImageFolder(root, allow_empty=True)
    assert ds.classes == ["cat", "dog", "empty"] and len(ds) == 6
    (tmp_path / "flat").mkdir()
    (tmp_path / "flat" / "x.png").write_bytes(b"")
    with pytest.raises(FileNotFoundError, match=r"^Couldn't find any class folder in .*flat\.$"):
        datasets.ImageFolder(tmp_path / "flat")


@needs_pil
def test_dataset_folder_and_make_dataset(image_tree):
    root, _ = image_tree
    ds = datasets.DatasetFolder(root, loader=lambda p: open(p, "rb").read(), extensions=".txt", allow_empty=True,
                                target_transform=lambda y: y + 100)
    assert len(ds) == 1 and ds[0] == (b"not an image", 100) and ds.extensions == ".txt"
    jpg = datasets.DatasetFolder(root, loader=os.path.basename, extensions=(".jpg",), allow_empty=True)
    assert [jpg[i] for i in range(len(jpg))] == [("c.JPG", 1)]  # extensions match case-insensitively
    with pytest.raises(ValueError, match="Both extensions and is_valid_file cannot be None or not None"):
        datasets.DatasetFolder(root, loader=str)
    with pytest.raises(ValueError, match="Both extensions and is_valid_file cannot be None or not None"):
        make_dataset(str(root), {"cat": 0}, extensions=".png", is_valid_file=bool)
    with pytest.raises(ValueError, match="'class_to_index' must have at least one entry"):
        make_dataset(str(root), {}, extensions=".png")
    with pytest.raises(ValueError, match="The class_to_idx parameter cannot be None"):
        datasets.DatasetFolder.make_dataset(str(root), None, extensions=".png")
    assert find_classes(root) == (["cat", "dog"], {"cat": 0, "dog": 1})
    # a custom class mapping (a class folder that does not exist is skipped)
    assert make_dataset(str(root), {"dog": 5, "ghost": 6}, extensions=IMG_EXTENSIONS, allow_empty=True)[0][1] == 5


@needs_pil
def test_dataloader_over_image_folder(image_tree):
    root, arrays = image_tree
    ds = datasets.ImageFolder(root, transform=T.ToTensor())
    batches = list(DataLoader(ds, batch_size=4, shuffle=False))
    assert [tuple(x.shape) for x, _ in batches] == [(4, 3, 5, 4), (2, 3, 5, 4)]
    assert batches[0][1].tolist() == [0, 0, 0, 1] and batches[1][1].dtype == minitorch.int64
    first = arrays[ds.samples[0][0]]
    np.testing.assert_allclose(batches[0][0].numpy()[0], first.transpose(2, 0, 1) / np.float32(255), rtol=1e-6)
    # worker processes load the same images (the loader and the dataset pickle)
    in_workers = list(DataLoader(ds, batch_size=4, shuffle=False, num_workers=2))
    for (x, y), (xw, yw) in zip(batches, in_workers):
        np.testing.assert_array_equal(xw.numpy(), x.numpy())
        assert yw.tolist() == y.tolist()


# ----------------------------------------------------------------------------------------------------------------
# CIFAR10 / CIFAR100 (binary archives)
# ----------------------------------------------------------------------------------------------------------------
CIFAR10_NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def cifar_records(n, seed, label_bytes, num_classes):
    r = rng(seed)
    images = r.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)
    labels = r.integers(0, num_classes, (n, label_bytes), dtype=np.uint8)
    planes = images.transpose(0, 3, 1, 2).reshape(n, 3072)  # red plane, green plane, blue plane
    return np.concatenate([labels, planes], axis=1).tobytes(), images, labels


@pytest.fixture
def cifar10_archive(tmp_path):
    """A cifar-10-binary.tar.gz with 2 images per training batch and 3 test images; returns (path, expected)."""
    members, train_x, train_y = {}, [], []
    for i in range(1, 6):
        raw, x, y = cifar_records(2, i, 1, 10)
        members[f"cifar-10-batches-bin/data_batch_{i}.bin"] = raw
        train_x.append(x)
        train_y.append(y[:, 0])
    raw, test_x, test_y = cifar_records(3, 9, 1, 10)
    members["cifar-10-batches-bin/test_batch.bin"] = raw
    members["cifar-10-batches-bin/batches.meta.txt"] = ("\n".join(CIFAR10_NAMES) + "\n\n").encode()
    members["cifar-10-batches-bin/readme.html"] = b"<html></html>"
    src = tmp_path / "server" / "cifar-10-binary.tar.gz"
    src.parent.mkdir()
    make_tar(src, members)
    return src, (np.concatenate(train_x), np.concatenate(train_y), test_x, test_y[:, 0])


@needs_pil
def test_cifar10_download_and_load(tmp_path, cifar10_archive, monkeypatch):
    src, (train_x, train_y, test_x, test_y) = cifar10_archive
    monkeypatch.setattr(datasets.CIFAR10, "url", file_url(src))
    monkeypatch.setattr(datasets.CIFAR10, "tgz_md5", md5(src))
    root = tmp_path / "data"
    ds = datasets.CIFAR10(root, train=True, download=True)
    assert (root / "cifar-10-binary.tar.gz").exists() and (root / "cifar-10-batches-bin" / "test_batch.bin").exists()
    assert isinstance(ds.data, np.ndarray) and ds.data.shape == (10, 32, 32, 3) and ds.data.dtype == np.uint8
    np.testing.assert_array_equal(ds.data, train_x)
    assert ds.targets == train_y.tolist() and all(type(t) is int for t in ds.targets)
    assert ds.classes == CIFAR10_NAMES and ds.class_to_idx["truck"] == 9
    img, target = ds[3]
    assert isinstance(img, Image.Image) and img.mode == "RGB" and target == int(train_y[3])
    np.testing.assert_array_equal(np.asarray(img), train_x[3])
    test = datasets.CIFAR10(str(root), train=False, transform=T.ToTensor(), target_transform=lambda y: y * 2)
    x, y = test[2]
    np.testing.assert_allclose(x.numpy(), test_x[2].transpose(2, 0, 1) / np.float32(255), rtol=1e-6)
    assert y == 2 * int(test_y[2]) and len(test) == 3
    assert "Split: Test" in repr(test)


@needs_pil
def test_cifar10_offline_error_and_archive_placed_by_hand(tmp_path, cifar10_archive, monkeypatch):
    src, _ = cifar10_archive
    root = tmp_path / "data"
    with pytest.raises(RuntimeError, match=r"^Dataset not found or corrupted\. You can use download=True to download "
                                           r"it, from https://www\.cs\.toronto\.edu/~kriz/cifar-10-binary\.tar\.gz\. "
                                           r"CIFAR10 needs cifar-10-batches-bin/data_batch_1\.bin, .*test_batch\.bin, "
                                           r"cifar-10-batches-bin/batches\.meta\.txt in .*data\. Or put "
                                           r"cifar-10-binary\.tar\.gz \(md5 c32a1d4ab5d03f1284b67883e8d87530\)"):
        datasets.CIFAR10(root)
    monkeypatch.setattr(datasets.CIFAR10, "url", file_url(tmp_path / "offline" / "x.tar.gz"))
    with pytest.raises(RuntimeError,
                       match=r"(?s)Could not download file://.*No such file.*\nPut cifar-10-binary\.tar\.gz"):
        datasets.CIFAR10(root, download=True)
    monkeypatch.setattr(datasets.CIFAR10, "tgz_md5", md5(src))
    root.mkdir(exist_ok=True)
    (root / "cifar-10-binary.tar.gz").write_bytes(src.read_bytes())  # verified, extracted, nothing fetched
    assert len(datasets.CIFAR10(root, download=True)) == 10


@needs_pil
def test_cifar10_md5_mismatch_corrupt_and_truncated(tmp_path, cifar10_archive, monkeypatch):
    src, _ = cifar10_archive
    monkeypatch.setattr(datasets.CIFAR10, "url", file_url(src))
    root = tmp_path / "data"
    with pytest.raises(RuntimeError, match=r"md5 mismatch: expected c32a1d4ab5d03f1284b67883e8d87530"):
        datasets.CIFAR10(root, download=True)  # the real md5 against the fake archive
    assert snapshot(root) == []
    truncated = tmp_path / "server" / "truncated.tar.gz"
    truncated.write_bytes(src.read_bytes()[:-400])
    monkeypatch.setattr(datasets.CIFAR10, "url", file_url(truncated))
    monkeypatch.setattr(datasets.CIFAR10, "filename", "truncated.tar.gz")
    monkeypatch.setattr(datasets.CIFAR10, "tgz_md5", md5(truncated))  # a truncated file with a matching md5
    with pytest.raises(RuntimeError, match=r"Cannot extract .*truncated\.tar\.gz: it is corrupt or truncated"):
        datasets.CIFAR10(root, download=True)
    assert snapshot(root) == ["truncated.tar.gz"]
    # an extracted batch cut short
    monkeypatch.setattr(datasets.CIFAR10, "url", file_url(src))
    monkeypatch.setattr(datasets.CIFAR10, "filename", "cifar-10-binary.tar.gz")
    monkeypatch.setattr(datasets.CIFAR10, "tgz_md5", md5(src))
    datasets.CIFAR10(root, download=True)
    batch = root / "cifar-10-batches-bin" / "data_batch_2.bin"
    batch.write_bytes(batch.read_bytes()[:-5])
    with pytest.raises(RuntimeError, match=r"data_batch_2\.bin is truncated or not a CIFAR binary batch: 6141 bytes "
                                           r"is not a whole number of 3073-byte records"):
        datasets.CIFAR10(root)
    batch.write_bytes(bytes([12]) + bytes(3072))  # label 12 of 10 classes
    with pytest.raises(RuntimeError, match=r"data_batch_2\.bin is corrupt: it holds label 12 but there are 10"):
        datasets.CIFAR10(root)


@needs_pil
def test_cifar100_fine_labels(tmp_path, monkeypatch):
    raw_train, train_x, train_y = cifar_records(4, 1, 2, 100)
    raw_test, _, _ = cifar_records(2, 2, 2, 100)
    fine = [f"fine_{i}" for i in range(100)]
    src = tmp_path / "srv" / "cifar-100-binary.tar.gz"
    src.parent.mkdir()
    make_tar(src, {"cifar-100-binary/train.bin": raw_train, "cifar-100-binary/test.bin": raw_test,
                   "cifar-100-binary/fine_label_names.txt": "\n".join(fine).encode(),
                   "cifar-100-binary/coarse_label_names.txt": b"c0\nc1\n"})
    monkeypatch.setattr(datasets.CIFAR100, "url", file_url(src))
    monkeypatch.setattr(datasets.CIFAR100, "tgz_md5", md5(src))
    ds = datasets.CIFAR100(tmp_path / "root", download=True)
    assert ds.targets == train_y[:, 1].tolist() and ds.classes == fine and ds.class_to_idx["fine_7"] == 7
    np.testing.assert_array_equal(ds.data, train_x)
    assert len(datasets.CIFAR100(tmp_path / "root", train=False)) == 2
    with pytest.raises(RuntimeError, match=r"CIFAR100 needs cifar-100-binary/train\.bin"):
        datasets.CIFAR100(tmp_path / "elsewhere")


# ----------------------------------------------------------------------------------------------------------------
# KMNIST, EMNIST, QMNIST
# ----------------------------------------------------------------------------------------------------------------
def idx_bytes(array):
    codes = {np.dtype(np.uint8): 0x08, np.dtype(">i4"): 0x0C}
    big = array.astype(array.dtype.newbyteorder(">")) if array.dtype.itemsize > 1 else array
    return bytes([0, 0, codes[big.dtype], array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape) + big.tobytes()


@needs_pil
def test_kmnist_download(tmp_path, monkeypatch):
    srv = tmp_path / "srv"
    srv.mkdir()
    r = rng(3)
    data = {}
    resources = []
    for prefix, n in (("train", 4), ("t10k", 3)):
        x, y = r.integers(0, 256, (n, 28, 28), dtype=np.uint8), r.integers(0, 10, n).astype(np.uint8)
        data[prefix] = (x, y)
        for kind, arr in (("images-idx3", x), ("labels-idx1", y)):
            name = f"{prefix}-{kind}-ubyte.gz"
            (srv / name).write_bytes(gzip.compress(idx_bytes(arr)))
            resources.append((name, md5(srv / name)))
    monkeypatch.setattr(datasets.KMNIST, "mirrors", [file_url(tmp_path / "down") + "/", file_url(srv) + "/"])
    monkeypatch.setattr(datasets.KMNIST, "resources", resources)
    ds = datasets.KMNIST(tmp_path / "root", train=False, download=True)
    assert sorted(os.listdir(tmp_path / "root" / "KMNIST" / "raw")) == sorted(n for n, _ in resources)
    np.testing.assert_array_equal(ds.data.numpy(), data["t10k"][0])
    img, target = ds[1]
    assert img.mode == "L" and target == int(data["t10k"][1][1]) and ds.classes[1] == "ki"
    assert ds.class_to_idx["wo"] == 9 and isinstance(ds, datasets.VisionDataset)
    with pytest.raises(RuntimeError, match=r"Dataset not found: KMNIST needs train-images-idx3-ubyte\.gz and "):
        datasets.KMNIST(tmp_path / "other")


def test_emnist_zip_download_and_splits(tmp_path, monkeypatch):
    r = rng(4)
    members, expected = {}, {}
    for split in ("letters", "balanced"):
        for part, n in (("train", 5), ("test", 2)):
            x = r.integers(0, 256, (n, 28, 28), dtype=np.uint8)
            y = r.integers(0, 27, n).astype(np.uint8)
            expected[split, part] = (x, y)
            members[f"gzip/emnist-{split}-{part}-images-idx3-ubyte.gz"] = gzip.compress(idx_bytes(x))
            members[f"gzip/emnist-{split}-{part}-labels-idx1-ubyte.gz"] = gzip.compress(idx_bytes(y))
            members[f"gzip/emnist-{split}-mapping.txt"] = b"0 48\n"
    src = tmp_path / "srv" / "gzip.zip"
    src.parent.mkdir()
    make_zip(src, members)
    monkeypatch.setattr(datasets.EMNIST, "url", file_url(src))
    monkeypatch.setattr(datasets.EMNIST, "md5", md5(src))
    root = tmp_path / "root"
    ds = datasets.EMNIST(root, split="letters", download=True)
    raw = root / "EMNIST" / "raw"
    assert (raw / "emnist-balanced-test-images-idx3-ubyte").exists() and (raw / "gzip.zip").exists()
    assert not [n for n in os.listdir(raw) if n.startswith(".")]  # no staging folder left
    np.testing.assert_array_equal(ds.data.numpy(), expected["letters", "train"][0])
    assert ds.classes[:3] == ["N/A", "a", "b"] and len(ds.classes) == 27
    test = datasets.EMNIST(root, "balanced", train=False)
    assert test.targets.tolist() == expected["balanced", "test"][1].tolist()
    assert len(test.classes) == 47 and test.classes[:11] == list("0123456789A")
    assert len(datasets.EMNIST.classes_split_dict["byclass"]) == 62
    with pytest.raises(ValueError, match=r"Unknown value 'bogus' for argument split\. Valid values are "
                                         r"\{'byclass', 'bymerge', 'balanced', 'letters', 'digits', 'mnist'\}\."):
        datasets.EMNIST(root, split="bogus")
    monkeypatch.setattr(datasets.EMNIST, "md5", "0" * 32)
    with pytest.raises(RuntimeError, match=r"(?s)Could not download EMNIST's gzip.zip .*md5 mismatch.*Put gzip\.zip"):
        datasets.EMNIST(tmp_path / "fresh", split="digits", download=True)


@needs_pil
def test_qmnist_what_and_compat(tmp_path, monkeypatch):
    r = rng(5)
    raw = tmp_path / "QMNIST" / "raw"
    raw.mkdir(parents=True)
    x = r.integers(0, 256, (12, 28, 28), dtype=np.uint8)
    y = r.integers(0, 100000, (12, 8)).astype(">i4")
    (raw / "qmnist-test-images-idx3-ubyte.gz").write_bytes(gzip.compress(idx_bytes(x)))
    (raw / "qmnist-test-labels-idx2-int").write_bytes(idx_bytes(y))  # uncompressed, as torchvision leaves it
    ds = datasets.QMNIST(tmp_path, train=False)
    assert ds.what == "test" and tuple(ds.targets.shape) == (12, 8) and ds.targets.dtype == minitorch.int64
    img, target = ds[4]
    assert target == int(y[4, 0]) and img.mode == "L"
    np.testing.assert_array_equal(np.asarray(img), x[4])
    full = datasets.QMNIST(tmp_path, what="test10k", compat=False)
    t = full[4][1]
    assert isinstance(t, minitorch.Tensor) and t.tolist() == y[4].astype(np.int64).tolist()
    assert len(full) == 12 and len(datasets.QMNIST(tmp_path, what="test50k")) == 0  # rows beyond 10,000
    assert "Split: test10k" in repr(full)
    with pytest.raises(ValueError, match=r"Unknown value 'val' for argument what\. Valid values are \{'train', "
                                         r"'test', 'test10k', 'test50k', 'nist'\}\."):
        datasets.QMNIST(tmp_path, what="val")
    # nist: .xz files downloaded from their own URLs
    srv = tmp_path / "srv"
    srv.mkdir()
    (srv / "xnist-images-idx3-ubyte.xz").write_bytes(lzma.compress(idx_bytes(x[:3])))
    (srv / "xnist-labels-idx2-int.xz").write_bytes(lzma.compress(idx_bytes(y[:3])))
    monkeypatch.setitem(datasets.QMNIST.resources, "nist", [(file_url(srv / n), md5(srv / n))
                                                            for n in sorted(os.listdir(srv))])
    nist = datasets.QMNIST(tmp_path / "n", what="nist", download=True)
    assert len(nist) == 3 and nist.targets[:, 0].tolist() == y[:3, 0].tolist()


@needs_pil
# ----------------------------------------------------------------------------------------------------------------
# SVHN
# ----------------------------------------------------------------------------------------------------------------
def test_svhn(tmp_path, monkeypatch):
    scipy_io = pytest.importorskip("scipy.io")
    r = rng(6)
    X = r.integers(0, 256, (32, 32, 3, 4), dtype=np.uint8)
    y = np.array([[10], [3], [1], [10]], dtype=np.uint8)
    src = tmp_path / "srv" / "test_32x32.mat"
    src.parent.mkdir()
    scipy_io.savemat(src, {"X": X, "y": y})
    monkeypatch.setitem(datasets.SVHN.split_list, "test", [file_url(src), "test_32x32.mat", md5(src)])
    ds = datasets.SVHN(tmp_path / "root", split="test", download=True)
    assert ds.labels.tolist() == [0, 3, 1, 0] and ds.data.shape == (4, 3, 32, 32)
    img, target = ds[1]
    assert img.mode == "RGB" and target == 3 and type(target) is int
    np.testing.assert_array_equal(np.asarray(img), X[:, :, :, 1])
    assert "Split: test" in repr(ds)
    with pytest.raises(RuntimeError, match=r"^Dataset not found or corrupted\. You can use download=True to download "
                                           r"it, from http://ufldl\.stanford\.edu/housenumbers/train_32x32\.mat\. SVHN "
                                           r"needs train_32x32\.mat \(md5 e26dedcc434d2e4c54c9b2d4a06d8373\) in "):
        datasets.SVHN(tmp_path / "root", split="train")
    with pytest.raises(ValueError, match=r"Unknown value 'val' for argument split"):
        datasets.SVHN(tmp_path, split="val")
    # truncated: the md5 no longer matches, so it counts as corrupted
    (tmp_path / "root" / "test_32x32.mat").write_bytes(src.read_bytes()[:-100])
    with pytest.raises(RuntimeError, match="Dataset not found or corrupted"):
        datasets.SVHN(tmp_path / "root", split="test")
    # a corrupt file that matches the expected md5 still fails clearly when read
    bad = tmp_path / "bad" / "test_32x32.mat"
    bad.parent.mkdir()
    bad.write_bytes(b"MATLAB 5.0 MAT-file" + bytes(200))
    monkeypatch.setitem(datasets.SVHN.split_list, "test", [file_url(src), "test_32x32.mat", md5(bad)])
    with pytest.raises(RuntimeError, match=r"Cannot read .*test_32x32\.mat: it is corrupt or not SVHN's \.mat file"):
        datasets.SVHN(tmp_path / "bad", split="test")


# ----------------------------------------------------------------------------------------------------------------
# STL10
# ----------------------------------------------------------------------------------------------------------------
@pytest.fixture
def stl10_root(tmp_path, monkeypatch):
    r = rng(8)
    folder = tmp_path / "stl10_binary"
    folder.mkdir()
    images = {k: r.integers(0, 256, (n, 96, 96, 3), dtype=np.uint8) for k, n in
              (("train", 6), ("test", 3), ("unlabeled", 2))}
    labels = {"train": r.integers(1, 11, 6).astype(np.uint8), "test": r.integers(1, 11, 3).astype(np.uint8)}
    for k, x in images.items():
        (folder / f"{k}_X.bin").write_bytes(x.transpose(0, 3, 2, 1).tobytes())  # column-major planes
    for k, y in labels.items():
        (folder / f"{k}_y.bin").write_bytes(y.tobytes())
    (folder / "class_names.txt").write_text("\n".join(f"class{i}" for i in range(10)) + "\n")
    (folder / "fold_indices.txt").write_text("0 2 4\n1 3 5\n" + "0\n" * 8)
    monkeypatch.setattr(datasets.STL10, "train_list", [[n, md5(folder / n)] for n in
                                                       ("train_X.bin", "train_y.bin", "unlabeled_X.bin")])
    monkeypatch.setattr(datasets.STL10, "test_list", [[n, md5(folder / n)] for n in ("test_X.bin", "test_y.bin")])
    return tmp_path, images, labels


@needs_pil
def test_stl10_splits_and_folds(stl10_root):
    root, images, labels = stl10_root
    train = datasets.STL10(root, split="train")
    assert train.data.shape == (6, 3, 96, 96) and train.labels.tolist() == (labels["train"] - 1).tolist()
    img, target = train[2]
    np.testing.assert_array_equal(np.asarray(img), images["train"][2])
    assert target == int(labels["train"][2]) - 1 and train.classes[3] == "class3"
    fold = datasets.STL10(root, split="train", folds=1)
    assert fold.labels.tolist() == (labels["train"][[1, 3, 5]] - 1).tolist()
    both = datasets.STL10(root, split="train+unlabeled", folds=0, transform=T.ToTensor())
    assert len(both) == 5 and both[4][1] == -1 and tuple(both[4][0].shape) == (3, 96, 96)
    assert datasets.STL10(root, split="unlabeled")[1][1] == -1
    test = datasets.STL10(root, split="test")
    np.testing.assert_array_equal(np.asarray(test[0][0]), images["test"][0])
    with pytest.raises(ValueError, match=r"Value for argument folds should be in the range \[0, 10\), but got 10\."):
        datasets.STL10(root, folds=10)
    with pytest.raises(ValueError, match=r"Expected type None or int for argument folds, but got type <class 'str'>"):
        datasets.STL10(root, folds="1")
    with pytest.raises(ValueError, match="Unknown value 'val' for argument split"):
        datasets.STL10(root, split="val")


@needs_pil
def test_stl10_offline_and_corrupt(stl10_root, tmp_path, monkeypatch):
    root, _, _ = stl10_root
    with pytest.raises(RuntimeError, match=r"^Dataset not found or corrupted\. You can use download=True to download "
                                           r"it, from http://ai\.stanford\.edu/~acoates/stl10/stl10_binary\.tar\.gz\. "
                                           r"STL10 needs stl10_binary/train_X\.bin"):
        datasets.STL10(tmp_path / "empty")
    x = root / "stl10_binary" / "test_X.bin"
    x.write_bytes(x.read_bytes()[:-7])
    monkeypatch.setattr(datasets.STL10, "test_list", [["test_X.bin", md5(x)], datasets.STL10.test_list[1]])
    with pytest.raises(RuntimeError, match=r"test_X\.bin is truncated or not an STL-10 file"):
        datasets.STL10(root, split="test")
    # download from a local archive
    src = tmp_path / "srv" / "stl10_binary.tar.gz"
    src.parent.mkdir()
    folder = root / "stl10_binary"
    make_tar(src, {f"stl10_binary/{n}": (folder / n).read_bytes() for n in os.listdir(folder)})
    monkeypatch.setattr(datasets.STL10, "url", file_url(src))
    monkeypatch.setattr(datasets.STL10, "tgz_md5", md5(src))
    assert len(datasets.STL10(tmp_path / "fresh", split="train", download=True)) == 6


@needs_pil
# ----------------------------------------------------------------------------------------------------------------
# Omniglot
# ----------------------------------------------------------------------------------------------------------------
def test_omniglot(tmp_path, monkeypatch):
    r = rng(9)
    members, drawings = {}, {}
    for alphabet, chars in (("Greek", ["character01", "character02"]), ("Armenian", ["character01"])):
        for c in chars:
            for k in range(2):
                arr = (r.integers(0, 2, (8, 8)) * 255).astype(np.uint8)
                name = f"images_background/{alphabet}/{c}/{k:04d}_{c[-2:]}.png"
                members[name] = png_bytes(arr)
                drawings[name] = arr
    src = tmp_path / "srv" / "images_background.zip"
    src.parent.mkdir()
    make_zip(src, members)
    monkeypatch.setattr(datasets.Omniglot, "download_url_prefix", file_url(src.parent))
    monkeypatch.setitem(datasets.Omniglot.zips_md5, "images_background", md5(src))
    ds = datasets.Omniglot(tmp_path / "root", download=True)
    assert ds.root == str(tmp_path / "root" / "omniglot-py")
    assert ds._characters == ["Armenian/character01", "Greek/character01", "Greek/character02"] and len(ds) == 6
    img, target = ds[3]
    assert img.mode == "L" and target == 1
    np.testing.assert_array_equal(np.asarray(img), drawings["images_background/Greek/character01/0001_01.png"])
    with pytest.raises(RuntimeError, match=r"Dataset not found or corrupted.*Omniglot needs images_evaluation\.zip"):
        datasets.Omniglot(tmp_path / "root", background=False)
    # the zip alone (placed by hand) is verified and unpacked
    (tmp_path / "hand" / "omniglot-py").mkdir(parents=True)
    (tmp_path / "hand" / "omniglot-py" / "images_background.zip").write_bytes(src.read_bytes())
    assert len(datasets.Omniglot(tmp_path / "hand")) == 6


# ----------------------------------------------------------------------------------------------------------------
# CelebA
# ----------------------------------------------------------------------------------------------------------------
@pytest.fixture
def celeba_root(tmp_path, monkeypatch):
    r = rng(10)
    folder = tmp_path / "celeba"
    (folder / "img_align_celeba").mkdir(parents=True)
    names = [f"{i:06d}.jpg" for i in range(1, 6)]
    pictures = {}
    for n in names:
        arr = r.integers(0, 256, (6, 5, 3), dtype=np.uint8)
        Image.fromarray(arr).save(folder / "img_align_celeba" / n, format="PNG")  # lossless, whatever the name
        pictures[n] = arr
    attr = r.choice([-1, 1], (5, 3))
    ident = r.integers(1, 100, 5)
    bbox = r.integers(0, 200, (5, 4))
    marks = r.integers(0, 200, (5, 10))
    part = [0, 0, 1, 2, 0]
    (folder / "list_attr_celeba.txt").write_text(
        "5\n5_o_Clock_Shadow Arched_Eyebrows Attractive \n"
        + "".join(f"{n} " + " ".join(f"{v:2d}" for v in row) + "\n" for n, row in zip(names, attr)))
    (folder / "identity_CelebA.txt").write_text("".join(f"{n} {v}\n" for n, v in zip(names, ident)))
    (folder / "list_bbox_celeba.txt").write_text(
        "5\nimage_id x_1 y_1 width height\n" + "".join(f"{n}  " + "  ".join(map(str, row)) + "\n"
                                                       for n, row in zip(names, bbox)))
    (folder / "list_landmarks_align_celeba.txt").write_text(
        "5\nlefteye_x lefteye_y righteye_x righteye_y nose_x nose_y leftmouth_x leftmouth_y rightmouth_x "
        "rightmouth_y\n" + "".join(f"{n} " + " ".join(map(str, row)) + "\n" for n, row in zip(names, marks)))
    (folder / "list_eval_partition.txt").write_text("".join(f"{n} {p}\n" for n, p in zip(names, part)))
    monkeypatch.setattr(datasets.CelebA, "file_list", [(fid, md5(folder / f) if f.endswith(".txt") else m, f)
                                                      for fid, m, f in datasets.CelebA.file_list])
    return tmp_path, dict(names=names, pictures=pictures, attr=attr, ident=ident, bbox=bbox, marks=marks)


@needs_pil
def test_celeba_targets_and_splits(celeba_root):
    root, ref = celeba_root
    ds = datasets.CelebA(root, split="train", target_type=["attr", "identity", "bbox", "landmarks"])
    assert ds.filename == ["000001.jpg", "000002.jpg", "000005.jpg"] and len(ds) == 3
    assert ds.attr_names == ["5_o_Clock_Shadow", "Arched_Eyebrows", "Attractive"]
    img, (attr, ident, bbox, marks) = ds[2]
    np.testing.assert_array_equal(np.asarray(img), ref["pictures"]["000005.jpg"])
    assert attr.tolist() == ((ref["attr"][4] + 1) // 2).tolist() and attr.dtype == minitorch.int64
    assert int(ident) == ref["ident"][4] and ident.dim() == 0
    assert bbox.tolist() == ref["bbox"][4].tolist() and marks.tolist() == ref["marks"][4].tolist()
    assert datasets.CelebA(root, split="valid").filename == ["000003.jpg"]
    assert len(datasets.CelebA(root, split="ALL")) == 5
    single = datasets.CelebA(root, split="test", target_type="identity", target_transform=int)
    assert single[0][1] == ref["ident"][3]
    assert datasets.CelebA(root, target_type=[])[0][1] is None
    with pytest.raises(RuntimeError, match="target_transform is specified but target_type is empty"):
        datasets.CelebA(root, target_type=[], target_transform=int)
    with pytest.raises(ValueError, match=r"Unknown value 'age' for argument target_type"):
        datasets.CelebA(root, target_type="age")
    with pytest.raises(ValueError, match=r"Unknown value 'val' for argument split\. Valid values are "
                                         r"\{'train', 'valid', 'test', 'all'\}\."):
        datasets.CelebA(root, split="val")
    assert "Target type: ['attr']\n    Split: train" in repr(datasets.CelebA(root))


@needs_pil
def test_celeba_missing_files_and_zip(celeba_root, tmp_path):
    root, _ = celeba_root
    folder = root / "celeba"
    images = folder / "img_align_celeba"
    zbytes = io.BytesIO()
    with zipfile.ZipFile(zbytes, "w") as zf:
        for n in sorted(os.listdir(images)):
            zf.write(images / n, f"img_align_celeba/{n}")
    for n in os.listdir(images):
        os.remove(images / n)
    os.rmdir(images)
    with pytest.raises(RuntimeError, match=r"(?s)^Dataset not found or corrupted\. You can use download=True to "
                                           r"download it\. CelebA is served from Google Drive.*img_align_celeba\.zip "
                                           r"\(missing; md5 00d2c5bc6d35e252742224ab0c1e8fcb, "
                                           r"https://drive\.google\.com/uc\?id=0B7EVK8r0v71pZjFTYXZWM3FlRnM\)"):
        datasets.CelebA(root)
    (folder / "list_bbox_celeba.txt").write_text("corrupted")
    with pytest.raises(RuntimeError, match=r"list_bbox_celeba\.txt \(has the wrong md5"):
        datasets.CelebA(root, download=True)


@needs_pil
def test_celeba_zip_placed_by_hand(celeba_root, monkeypatch):
    root, ref = celeba_root
    folder = root / "celeba"
    images = folder / "img_align_celeba"
    with zipfile.ZipFile(folder / "img_align_celeba.zip", "w") as zf:
        for n in sorted(os.listdir(images)):
            zf.write(images / n, f"img_align_celeba/{n}")
    for n in os.listdir(images):
        os.remove(images / n)
    os.rmdir(images)
    fl = datasets.CelebA.file_list
    monkeypatch.setattr(datasets.CelebA, "file_list", [(fl[0][0], md5(folder / "img_align_celeba.zip"), fl[0][2])]
                        + fl[1:])
    ds = datasets.CelebA(root, split="all", download=True)
    np.testing.assert_array_equal(np.asarray(ds[1][0]), ref["pictures"]["000002.jpg"])


@needs_pil
def test_celeba_misaligned_annotations(celeba_root, monkeypatch):
    root, _ = celeba_root
    p = root / "celeba" / "identity_CelebA.txt"
    lines = p.read_text().splitlines()
    p.write_text("\n".join(lines[1:] + lines[:1]) + "\n")
    fl = datasets.CelebA.file_list
    monkeypatch.setattr(datasets.CelebA, "file_list",
                        [(i, md5(p) if f == "identity_CelebA.txt" else m, f) for i, m, f in fl])
    with pytest.raises(RuntimeError, match=r"identity_CelebA\.txt does not list the same images"):
        datasets.CelebA(root)


# ----------------------------------------------------------------------------------------------------------------
# MNIST keeps working on the shared helpers
# ----------------------------------------------------------------------------------------------------------------
def test_mnist_download_md5_mismatch_via_file_url(tmp_path, monkeypatch):
    srv = tmp_path / "srv"
    srv.mkdir()
    x = rng(11).integers(0, 256, (2, 28, 28), dtype=np.uint8)
    (srv / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(idx_bytes(x)))
    monkeypatch.setattr(datasets.MNIST, "mirrors", [file_url(srv) + "/"])
    with pytest.raises(RuntimeError, match=r"(?s)Could not download MNIST file train-images-idx3-ubyte\.gz:"):
        datasets.MNIST(tmp_path / "root", download=True)
    assert os.listdir(tmp_path / "root" / "MNIST" / "raw") == []
    assert issubclass(datasets.MNIST, datasets.VisionDataset)
