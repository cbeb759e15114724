"""Download, checksum and archive helpers shared by the datasets, as ``torchvision.datasets.utils``.

Every download goes to a temporary file beside its destination, is md5-checked there, and only then renamed into
place, so an interrupted or corrupt download never leaves a file that looks complete. Archives are extracted the
same way (into a temporary folder, then moved), and a member that would land outside the target folder (an
absolute path, ``..``, a link pointing out, a device file) makes the whole extraction fail before anything is
written.
"""
import bz2
import contextlib
import gzip
import hashlib
import lzma
import os
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile

__all__ = ["calculate_md5", "check_md5", "check_integrity", "download_url", "download_and_extract_archive",
           "extract_archive", "verify_str_arg", "list_dir", "list_files", "iterable_to_str"]

_USER_AGENT = "minitorch"


# ----------------------------------------------------------------------------------------------------------------
# checksums
# ----------------------------------------------------------------------------------------------------------------
def calculate_md5(fpath, chunk_size=1024 * 1024):
    """The md5 hex digest of the file at ``fpath``, read in chunks."""
    digest = hashlib.md5(usedforsecurity=False)
    with open(fpath, "rb") as f:
        for chunk in iter(lambda: f.read(chunk_size), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_md5(fpath, md5, **kwargs):
    """Whether the file at ``fpath`` has the md5 digest ``md5``."""
    return md5 == calculate_md5(fpath, **kwargs)


def check_integrity(fpath, md5=None):
    """Whether ``fpath`` is a file and, when ``md5`` is given, has that digest."""
    if not os.path.isfile(fpath):
        return False
    if md5 is None:
        return True
    return check_md5(fpath, md5)


# ----------------------------------------------------------------------------------------------------------------
# argument checks and listings
# ----------------------------------------------------------------------------------------------------------------
def iterable_to_str(iterable):
    return "'" + "', '".join(str(item) for item in iterable) + "'"


def verify_str_arg(value, arg=None, valid_values=None, custom_msg=None):
    """``value`` if it is a string among ``valid_values`` (any string when None), else a ValueError."""
    if not isinstance(value, str):
        where = f" for argument {arg}" if arg is not None else ""
        raise ValueError(f"Expected type str{where}, but got type {type(value)}.")
    if valid_values is None or value in valid_values:
        return value
    if custom_msg is not None:
        raise ValueError(custom_msg)
    raise ValueError(f"Unknown value '{value}' for argument {arg}. "
                     f"Valid values are {{{iterable_to_str(valid_values)}}}.")


def list_dir(root, prefix=False):
    """The sorted names (or paths, with ``prefix``) of the directories in ``root``."""
    root = os.path.expanduser(root)
    names = sorted(p for p in os.listdir(root) if os.path.isdir(os.path.join(root, p)))
    return [os.path.join(root, d) for d in names] if prefix else names


def list_files(root, suffix, prefix=False):
    """The sorted names (or paths, with ``prefix``) of the files in ``root`` ending with ``suffix`` (str or tuple)."""
    root = os.path.expanduser(root)
    names = sorted(p for p in os.listdir(root) if os.path.isfile(os.path.join(root, p)) and p.endswith(suffix))
    return [os.path.join(root, d) for d in names] if prefix else names


# ----------------------------------------------------------------------------------------------------------------
# downloads
# ----------------------------------------------------------------------------------------------------------------
class _NoBar:
    def update(self, n):
        pass


def _progress_bar(total, desc):
    """A tqdm byte counter, or a silent stand-in when tqdm is not installed."""
    try:
        from tqdm.auto import tqdm  # a widget in Jupyter, text elsewhere
    except ImportError:
        return contextlib.nullcontext(_NoBar())
    return tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=desc)


def _opener(url, max_redirect_hops):
    """A urllib opener that follows at most ``max_redirect_hops`` redirects, then raises RecursionError."""
    class LimitedRedirects(urllib.request.HTTPRedirectHandler):
        hops = 0

        def redirect_request(self, req, fp, code, msg, headers, newurl):
            LimitedRedirects.hops += 1
            if LimitedRedirects.hops > max_redirect_hops:
                raise RecursionError(f"Request to {url} exceeded {max_redirect_hops} redirects. The last redirect "
                                     f"points to {newurl}.")
            return super().redirect_request(req, fp, code, msg, headers, newurl)

    return urllib.request.build_opener(LimitedRedirects)


def _fetch(url, fpath, md5=None, max_redirect_hops=3, timeout=30.0):
    """Download ``url`` to ``fpath``: into a temporary file beside it, md5-checked, then renamed into place.

    Raises RuntimeError on an md5 mismatch (nothing is written) and lets urllib's URLError / OSError through.
    """
    folder, filename = os.path.split(fpath)
    fd, tmp = tempfile.mkstemp(prefix=f".{filename}.", suffix=".part", dir=folder or ".")
    try:
        digest = hashlib.md5(usedforsecurity=False)
        with os.fdopen(fd, "wb") as out:
            request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
            with _opener(url, max_redirect_hops).open(request, timeout=timeout) as response:
                length = response.headers.get("Content-Length")
                with _progress_bar(int(length) if length else None, filename) as bar:
                    for chunk in iter(lambda: response.read(1 << 16), b""):
                        out.write(chunk)
                        digest.update(chunk)
                        bar.update(len(chunk))
        if md5 is not None and digest.hexdigest() != md5:
            raise RuntimeError(f"md5 mismatch: expected {md5}, got {digest.hexdigest()} for {url} (corrupt or "
                               f"wrong file); nothing was written to {fpath}")
        os.replace(tmp, fpath)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def download_url(url, root, filename=None, md5=None, max_redirect_hops=3):
    """Download ``url`` into the folder ``root`` as ``filename`` (default: the URL's last part).

    Nothing is fetched when the file is already there with the right md5. The file appears only once complete and
    verified. Raises RuntimeError on an md5 mismatch, RecursionError past ``max_redirect_hops`` redirects, and
    urllib's URLError when the server cannot be reached.
    """
    root = os.path.expanduser(os.fspath(root))
    if not filename:
        filename = os.path.basename(urllib.request.urlparse(url).path)
    fpath = os.path.join(root, filename)
    os.makedirs(root, exist_ok=True)
    if check_integrity(fpath, md5):
        print(f"Using downloaded and verified file: {fpath}")
        return
    print(f"Downloading {url} to {fpath}")
    _fetch(url, fpath, md5, max_redirect_hops=max_redirect_hops)


# ----------------------------------------------------------------------------------------------------------------
# archives
# ----------------------------------------------------------------------------------------------------------------
_COMPRESSIONS = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}
# suffix -> (archive type, compression)
_SUFFIXES = {".tar": ("tar", None), ".zip": ("zip", None), ".tar.gz": ("tar", ".gz"), ".tgz": ("tar", ".gz"),
             ".tar.bz2": ("tar", ".bz2"), ".tbz": ("tar", ".bz2"), ".tbz2": ("tar", ".bz2"),
             ".tar.xz": ("tar", ".xz"), ".txz": ("tar", ".xz"), ".gz": (None, ".gz"), ".bz2": (None, ".bz2"),
             ".xz": (None, ".xz")}


def _detect_file_type(path):
    """(suffix, archive type or None, compression or None) from the file name."""
    name = os.path.basename(path).lower()
    for suffix in sorted(_SUFFIXES, key=len, reverse=True):
        if name.endswith(suffix) and len(name) > len(suffix):
            return (suffix,) + _SUFFIXES[suffix]
    if "." not in name:
        raise RuntimeError(f"File '{path}' has no suffixes that could be used to detect the archive type and "
                           "compression.")
    raise RuntimeError(f"Unknown compression or archive type: '{os.path.splitext(name)[1]}'.\nKnown suffixes are: "
                       f"{iterable_to_str(sorted(_SUFFIXES))}.")


def _unsafe_member(name, to_path):
    """Why writing archive member ``name`` under ``to_path`` would escape it, or None when it is safe."""
    if not name or name.startswith(("/", "\\")) or os.path.isabs(name) or (len(name) > 1 and name[1] == ":"):
        return "it has an absolute path"
    parts = name.replace("\\", "/").split("/")
    if ".." in parts:
        return "it climbs out with '..'"
    base = os.path.realpath(to_path)
    target = os.path.realpath(os.path.join(to_path, name))
    if os.path.commonpath([base, target]) != base:
        return "it resolves outside the target folder"
    return None


def _check_tar_members(tar, archive, to_path, shown):
    for member in tar.getmembers():
        why = _unsafe_member(member.name, to_path)
        if why is None and (member.issym() or member.islnk()):
            link = member.linkname
            where = link if member.islnk() else os.path.join(os.path.dirname(member.name), link)
            why = None if not os.path.isabs(link) and _unsafe_member(where, to_path) is None else \
                f"it is a link to {link!r}, outside the target folder"
        if why is None and not (member.isfile() or member.isdir() or member.issym() or member.islnk()):
            why = "it is a device, FIFO or other special file"
        if why is not None:
            raise RuntimeError(f"Refusing to extract {archive}: member {member.name!r} would be written outside "
                               f"{shown} ({why}). The archive is corrupt or malicious; nothing was extracted.")


def _extract_tar(archive, to_path, compression, shown):
    mode = f"r:{compression[1:]}" if compression else "r"
    with tarfile.open(archive, mode) as tar:
        _check_tar_members(tar, archive, to_path, shown)
        tar.extractall(to_path, filter="data") if hasattr(tarfile, "data_filter") else tar.extractall(to_path)


def _extract_zip(archive, to_path, compression, shown):
    with zipfile.ZipFile(archive) as zf:
        for name in zf.namelist():
            why = _unsafe_member(name, to_path)
            if why is not None:
                raise RuntimeError(f"Refusing to extract {archive}: member {name!r} would be written outside "
                                   f"{shown} ({why}). The archive is corrupt or malicious; nothing was extracted.")
        bad = zf.testzip()
        if bad is not None:
            raise zipfile.BadZipFile(f"bad CRC-32 for member {bad!r}")
        zf.extractall(to_path)


def _move_into(src, dst):
    """Move the contents of folder ``src`` into folder ``dst``, merging folders that already exist."""
    os.makedirs(dst, exist_ok=True)
    for name in os.listdir(src):
        s, d = os.path.join(src, name), os.path.join(dst, name)
        if os.path.isdir(s) and not os.path.islink(s) and os.path.isdir(d):
            _move_into(s, d)
        else:
            if os.path.isdir(d) and not os.path.islink(d):
                shutil.rmtree(d)
            os.replace(s, d)


def _decompress(from_path, to_path, compression):
    folder = os.path.dirname(to_path) or "."
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(to_path)}.", suffix=".part", dir=folder)
    try:
        with os.fdopen(fd, "wb") as out, _COMPRESSIONS[compression](from_path, "rb") as f:
            shutil.copyfileobj(f, out, 1 << 20)
        os.replace(tmp, to_path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return to_path


def extract_archive(from_path, to_path=None, remove_finished=False):
    """Extract a .tar/.tar.gz/.tgz/.tar.bz2/.tar.xz/.zip archive, or decompress a .gz/.bz2/.xz file.

    Args:
        from_path: the archive.
        to_path: the folder to extract into (default: the archive's folder).
        remove_finished: delete the archive once extracted.

    Returns: the folder extracted into, or for a single compressed file the decompressed file's path.

    The archive is extracted into a temporary folder first and moved into ``to_path`` only when complete, so a
    truncated or corrupt archive raises RuntimeError naming it and leaves ``to_path`` as it was. Members that
    would land outside ``to_path`` are refused (RuntimeError) before anything is written.
    """
    from_path = os.fspath(from_path)
    if to_path is None:
        to_path = os.path.dirname(from_path)
    to_path = os.fspath(to_path)
    suffix, archive_type, compression = _detect_file_type(from_path)
    try:
        if archive_type is None:
            out = os.path.join(to_path, os.path.basename(from_path)[:-len(suffix)])
            result = _decompress(from_path, out, compression)
        else:
            os.makedirs(to_path, exist_ok=True)
            staging = tempfile.mkdtemp(prefix=".extract-", dir=to_path)
            try:
                (_extract_tar if archive_type == "tar" else _extract_zip)(from_path, staging, compression, to_path)
                _move_into(staging, to_path)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
            result = to_path
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError, lzma.LZMAError, ValueError) as e:
        if isinstance(e, FileNotFoundError) and not os.path.exists(from_path):
            raise
        raise RuntimeError(f"Cannot extract {from_path}: it is corrupt or truncated ({type(e).__name__}: {e}). "
                           "Delete it and download it again.") from e
    if remove_finished:
        os.remove(from_path)
    return result


def download_and_extract_archive(url, download_root, extract_root=None, filename=None, md5=None,
                                 remove_finished=False):
    """``download_url`` into ``download_root``, then ``extract_archive`` into ``extract_root`` (default: the same)."""
    download_root = os.path.expanduser(os.fspath(download_root))
    if extract_root is None:
        extract_root = download_root
    if not filename:
        filename = os.path.basename(urllib.request.urlparse(url).path)
    download_url(url, download_root, filename, md5)
    archive = os.path.join(download_root, filename)
    print(f"Extracting {archive} to {extract_root}")
    extract_archive(archive, extract_root, remove_finished)


def _offline_error(dataset, files, folder, url=None, extra=""):
    """torchvision's "Dataset not found or corrupted" RuntimeError, naming the files and where they go."""
    source = f", from {url}" if url else ""
    return RuntimeError(
        f"Dataset not found or corrupted. You can use download=True to download it{source}. {dataset} needs "
        f"{', '.join(files)} in {os.path.abspath(folder)}.{extra}")
