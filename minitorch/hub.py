"""``minitorch.hub``, as ``torch.hub``: the cache folder and downloads of pretrained weights.

The cache folder is ``get_dir()``: the one ``set_dir`` chose, else ``$TORCH_HOME/hub``, where ``TORCH_HOME``
defaults to ``$XDG_CACHE_HOME/torch`` and that to ``~/.cache/torch``, the same folder PyTorch uses, so weights
downloaded by either are found by both. ``load_state_dict_from_url`` keeps files in ``get_dir()/checkpoints``.
"""
import contextlib
import hashlib
import os
import re
import sys
import tempfile
import urllib.error
import warnings
from urllib.parse import urlparse
from urllib.request import Request, urlopen

__all__ = ["download_url_to_file", "get_dir", "load_state_dict_from_url", "set_dir"]

# the "-<hex>." part of a checkpoint's file name (resnet18-f37072fd.pth) is a prefix of its sha256
HASH_REGEX = re.compile(r"-([a-f0-9]*)\.")
_CHUNK = 128 * 1024

_hub_dir = None


def _get_torch_home():
    xdg = os.getenv("XDG_CACHE_HOME", os.path.join("~", ".cache"))
    return os.path.expanduser(os.getenv("TORCH_HOME", os.path.join(xdg, "torch")))


def get_dir():
    """The hub cache folder: the one ``set_dir`` set, else ``$TORCH_HOME/hub`` (``~/.cache/torch/hub`` by default)."""
    if os.getenv("TORCH_HUB"):
        warnings.warn("TORCH_HUB is deprecated, please use env TORCH_HOME instead")
    if _hub_dir is not None:
        return _hub_dir
    return os.path.join(_get_torch_home(), "hub")


def set_dir(d):
    """Use folder ``d`` as the hub cache from now on (a path, ``~`` expanded)."""
    global _hub_dir
    _hub_dir = os.path.expanduser(os.fspath(d))


class _NoBar:
    def update(self, n):
        pass


def _progress_bar(total, enabled):
    if not enabled:
        return contextlib.nullcontext(_NoBar())
    try:
        from tqdm.auto import tqdm  # a widget in Jupyter, text elsewhere
    except ImportError:
        return contextlib.nullcontext(_NoBar())
    return tqdm(total=total, disable=False, unit="B", unit_scale=True, unit_divisor=1024)


def download_url_to_file(url, dst, hash_prefix=None, progress=True):
    """Download ``url`` to the path ``dst``: into a temporary file beside it, then renamed in place.

    Args:
        url: the address (``http(s)://`` or ``file://``).
        dst: the full path of the file to write.
        hash_prefix: when given, the sha256 of the file must start with it, else RuntimeError and nothing is written.
        progress: show a progress bar on stderr (tqdm).
    """
    dst = os.path.expanduser(os.fspath(dst))
    folder = os.path.dirname(dst) or "."
    fd, tmp = tempfile.mkstemp(prefix=os.path.basename(dst) + ".", suffix=".partial", dir=folder)
    try:
        sha256 = hashlib.sha256()
        with os.fdopen(fd, "wb") as out, urlopen(Request(url, headers={"User-Agent": "torch.hub"})) as response:
            headers = getattr(response, "headers", None)
            length = headers.get("Content-Length") if headers is not None else None
            with _progress_bar(int(length) if length else None, progress) as bar:
                while True:
                    chunk = response.read(_CHUNK)
                    if not chunk:
                        break
                    out.write(chunk)
                    sha256.update(chunk)
                    bar.update(len(chunk))
        if hash_prefix is not None:
            digest = sha256.hexdigest()
            if digest[:len(hash_prefix)] != hash_prefix:
                raise RuntimeError(f'invalid hash value (expected "{hash_prefix}", got "{digest}")')
        os.replace(tmp, dst)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def load_state_dict_from_url(url, model_dir=None, map_location=None, progress=True, check_hash=False, file_name=None,
                             weights_only=False):
    """The state dict saved at ``url``, downloaded once into ``model_dir`` (``get_dir()/checkpoints``) and then read
    from there with ``minitorch.load`` (PyTorch checkpoints are read without running code from them).

    Args:
        url: the file's address.
        model_dir: the cache folder (default ``<hub_dir>/checkpoints``).
        map_location: as ``minitorch.load``.
        progress: show a progress bar while downloading.
        check_hash: check the file's sha256 against the hex prefix in its name (``name-<sha256 prefix>.ext``).
        file_name: the cached file's name (default: the last part of the URL).
        weights_only: as ``minitorch.load``.

    Raises:
        RuntimeError: the download failed (offline, say): the message names the URL and the path to put the file at;
            or the hash does not match.
    """
    if os.getenv("TORCH_MODEL_ZOO"):
        warnings.warn("TORCH_MODEL_ZOO is deprecated, please use env TORCH_HOME instead")
    if model_dir is None:
        model_dir = os.path.join(get_dir(), "checkpoints")
    model_dir = os.path.expanduser(os.fspath(model_dir))
    os.makedirs(model_dir, exist_ok=True)
    filename = file_name if file_name is not None else os.path.basename(urlparse(url).path)
    cached_file = os.path.join(model_dir, filename)
    if not os.path.exists(cached_file):
        sys.stderr.write(f'Downloading: "{url}" to {cached_file}\n')
        hash_prefix = None
        if check_hash:
            match = HASH_REGEX.search(filename)
            hash_prefix = match.group(1) if match else None
        try:
            download_url_to_file(url, cached_file, hash_prefix, progress=progress)
        except (urllib.error.URLError, OSError) as e:
            reason = getattr(e, "reason", None) or e
            raise RuntimeError(f"could not download {url} ({reason}). If this machine is offline, download the file "
                               f"elsewhere and put it at {cached_file}") from e
    from .serialization import load
    return load(cached_file, map_location=map_location, weights_only=weights_only)
