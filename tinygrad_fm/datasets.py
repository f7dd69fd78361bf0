"""Fashion-MNIST and MNIST: find a local copy, a cached copy, or download, then verify.

Public API::

    fashion_mnist(data_dir=None, download=True, cache_dir=None, *, timeout=10.0,
                  progressbar=None) -> DatasetSplits
    mnist(...)  # the same arguments
    load(spec, data_dir=None, download=True, cache_dir=None, *, timeout=10.0,
         progressbar=None) -> DatasetSplits
    read_idx(path, expected_magic=None, *, expected_dims=None, sha256=None) -> np.ndarray
    default_cache_dir() -> pathlib.Path
    DatasetSpec, DatasetSplits, DatasetError, FASHION_MNIST, MNIST, SPECS

Where each of the four IDX files is looked for, in order:

1. the local folder: ``data_dir`` if given, else the spec's environment variable
   (``FASHION_MNIST_DIR`` / ``MNIST_DIR``); the file may be gzipped (``.gz``) or not;
2. the download cache: ``cache_dir`` if given, else ``$TINYGRAD_FM_DATA``, else
   ``pooch.os_cache("tinygrad_fm")``; one sub-folder per dataset;
3. a download with pooch (only when ``download=True``) from each mirror in turn into
   the cache, checked against the publisher's gzip MD5 and written atomically.

Whatever the source, the uncompressed bytes are checked against the published SHA-256,
so a re-compressed copy is accepted and a corrupt one is rejected. The IDX reader checks
the header and payload length and never returns partial data; any problem raises a
:class:`DatasetError` naming the file, what was expected, what was found and the fix.

The module needs only NumPy; pooch (and tqdm for the progress bar) are imported only to
download: ``pip install "tinygrad_fm[data]"``.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Mapping, NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np

__all__ = [
    "DatasetError",
    "DatasetSpec",
    "DatasetSplits",
    "FASHION_MNIST",
    "MNIST",
    "SPECS",
    "CACHE_ENV_VAR",
    "IDX_FILES",
    "default_cache_dir",
    "read_idx",
    "load",
    "fashion_mnist",
    "mnist",
]

PathLike = Union[str, "os.PathLike[str]"]

#: Environment variable that moves the download cache.
CACHE_ENV_VAR = "TINYGRAD_FM_DATA"

TRAIN_IMAGES = "train-images-idx3-ubyte"
TRAIN_LABELS = "train-labels-idx1-ubyte"
TEST_IMAGES = "t10k-images-idx3-ubyte"
TEST_LABELS = "t10k-labels-idx1-ubyte"
#: The four standard IDX file names (uncompressed), in the order they are loaded.
IDX_FILES = (TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS)

IMAGES_MAGIC = 2051  # 0x00000803: unsigned bytes, 3 dimensions
LABELS_MAGIC = 2049  # 0x00000801: unsigned bytes, 1 dimension

# IDX element type byte -> (name, big-endian dtype)
_IDX_TYPES = {
    0x08: ("uint8", ">u1"),
    0x09: ("int8", ">i1"),
    0x0B: ("int16", ">i2"),
    0x0C: ("int32", ">i4"),
    0x0D: ("float32", ">f4"),
    0x0E: ("float64", ">f8"),
}

_INSTALL_HINT = 'pip install "tinygrad_fm[data]"'


class DatasetError(ValueError):
    """A dataset file is missing, corrupt or inconsistent, or could not be downloaded.

    ``path`` is the offending file (or ``None`` when no single file is to blame).
    """

    def __init__(self, message: str, path: Optional[PathLike] = None):
        super().__init__(message)
        self.path = None if path is None else Path(path)


# ----------------------------------------------------------------------------- specs


@dataclass(frozen=True)
class DatasetSpec:
    """Where a dataset comes from and how to check it.

    name: folder name inside the cache, and the name used in messages.
    mirrors: base URLs tried in order; a file's URL is ``mirror + name + ".gz"``.
    files: ``{uncompressed IDX name: (gzip MD5, uncompressed SHA-256)}`` for the four
        names in :data:`IDX_FILES`; either checksum may be ``None`` to skip that check.
    classes: class names in label order.
    env_var: environment variable naming a folder with a local copy (or ``None``).
    image_shape: the (rows, cols) every image must have.
    """

    name: str
    mirrors: Tuple[str, ...]
    files: Mapping[str, Tuple[Optional[str], Optional[str]]]
    classes: Tuple[str, ...]
    env_var: Optional[str] = None
    image_shape: Tuple[int, int] = (28, 28)

    def __post_init__(self):
        mirrors = (self.mirrors,) if isinstance(self.mirrors, str) else tuple(self.mirrors)
        mirrors = tuple(m if m.endswith("/") else m + "/" for m in mirrors)
        object.__setattr__(self, "mirrors", mirrors)
        object.__setattr__(self, "classes", tuple(self.classes))
        object.__setattr__(self, "image_shape", tuple(self.image_shape))
        missing = [f for f in IDX_FILES if f not in self.files]
        if missing:
            raise ValueError(f"DatasetSpec {self.name!r}: files is missing entries for {missing}")
        object.__setattr__(self, "files", MappingProxyType(dict(self.files)))

    def urls(self, filename: str) -> Tuple[str, ...]:
        """The download URLs of one IDX file, one per mirror, in the order tried."""
        return tuple(m + filename + ".gz" for m in self.mirrors)


FASHION_MNIST = DatasetSpec(
    name="fashion-mnist",
    mirrors=(
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    ),
    files={
        TRAIN_IMAGES: (
            "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
            "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        ),
        TRAIN_LABELS: (
            "25c81989df183df01b3e8a0aad5dffbe",
            "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        ),
        TEST_IMAGES: (
            "bef4ecab320f06d8554ea6380940ec79",
            "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        ),
        TEST_LABELS: (
            "bb300cfdad3c16e7a12a480ee83cd310",
            "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
        ),
    },
    classes=(
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ),
    env_var="FASHION_MNIST_DIR",
)

MNIST = DatasetSpec(
    name="mnist",
    mirrors=(
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    ),
    files={
        TRAIN_IMAGES: (
            "f68b3c2dcbeaaa9fbdd348bbdeb94873",
            "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        ),
        TRAIN_LABELS: (
            "d53e105ee54ea40749a09fcbcd1e9432",
            "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        ),
        TEST_IMAGES: (
            "9fb629c4189551a2d022fa330f9573f3",
            "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        ),
        TEST_LABELS: (
            "ec29112dd5afa0611ce80d1b7f02629c",
            "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
        ),
    },
    classes=("0", "1", "2", "3", "4", "5", "6", "7", "8", "9"),
    env_var="MNIST_DIR",
)

#: Registry of the built-in specs by name.
SPECS = {FASHION_MNIST.name: FASHION_MNIST, MNIST.name: MNIST}


class DatasetSplits(NamedTuple):
    """The standard splits, as uint8 arrays: images (N, 28, 28), labels (N,)."""

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    classes: Tuple[str, ...]


# ----------------------------------------------------------------------------- IDX


def _magic_desc(magic: int) -> str:
    type_byte, ndim = (magic >> 8) & 0xFF, magic & 0xFF
    tname = _IDX_TYPES.get(type_byte, ("unknown type",))[0]
    return f"{magic} (0x{magic:08X}: {tname}, {ndim} dimension{'s' if ndim != 1 else ''})"


_DEFAULT_FIX = (
    "Replace it with a good copy; if it is in the download cache, delete it so it is "
    "fetched again."
)


def _read_bytes(path: Path, fix: str) -> bytes:
    with open(path, "rb") as f:
        head = f.read(2)
        f.seek(0)
        if head != b"\x1f\x8b":
            return f.read()
        try:
            with gzip.GzipFile(fileobj=f, mode="rb") as gz:
                return gz.read()
        except EOFError as e:
            raise DatasetError(
                f"{path}: the gzip stream is truncated ({e}); expected a complete gzip "
                f"file, found one that ends early. {fix}",
                path,
            ) from None
        except (OSError, zlib.error) as e:  # gzip.BadGzipFile is an OSError
            raise DatasetError(
                f"{path}: the gzip stream is corrupt ({type(e).__name__}: {e}); expected "
                f"a valid gzip file. {fix}",
                path,
            ) from None


def _parse_idx(
    buf: bytes,
    path: Path,
    expected_magic: Optional[int],
    expected_dims: Optional[Sequence[Optional[int]]],
    sha256: Optional[str],
    fix: str,
) -> np.ndarray:
    def fail(problem: str):
        raise DatasetError(f"{path}: {problem}. {fix}", path)

    if len(buf) < 4:
        fail(f"file is too short to be an IDX file: expected at least a 4-byte magic "
             f"number, found {len(buf)} bytes")
    magic = int.from_bytes(buf[:4], "big")
    type_byte, ndim = buf[2], buf[3]
    exp_txt = f"; expected {_magic_desc(expected_magic)}" if expected_magic is not None else ""
    if buf[0] != 0 or buf[1] != 0:
        fail(f"bad magic number {magic} (0x{magic:08X}): not an IDX file{exp_txt}")
    if expected_magic is not None:
        exp_type, exp_ndim = (expected_magic >> 8) & 0xFF, expected_magic & 0xFF
        if type_byte != exp_type:
            found = _IDX_TYPES.get(type_byte, ("unknown type",))[0]
            fail(f"wrong element type byte 0x{type_byte:02X} ({found}) in magic number "
                 f"{magic} (0x{magic:08X}); expected 0x{exp_type:02X} "
                 f"({_IDX_TYPES[exp_type][0]}), i.e. magic number {_magic_desc(expected_magic)}")
        if ndim != exp_ndim:
            fail(f"bad magic number {magic} (0x{magic:08X}) declares {ndim} dimension(s)"
                 f"{exp_txt}")
    if type_byte not in _IDX_TYPES:
        fail(f"unknown element type byte 0x{type_byte:02X} in magic number {magic}; "
             f"expected one of {', '.join(f'0x{t:02X}' for t in _IDX_TYPES)}")
    header_len = 4 + 4 * ndim
    if len(buf) < header_len:
        fail(f"truncated header: {ndim} dimensions need a {header_len}-byte header, "
             f"found {len(buf)} bytes")
    dims = tuple(int.from_bytes(buf[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    if expected_dims is not None:
        if len(expected_dims) != ndim or any(
            e is not None and e != d for e, d in zip(expected_dims, dims)
        ):
            want = "x".join("N" if e is None else str(e) for e in expected_dims)
            fail(f"wrong dimensions: expected {want}, found {'x'.join(map(str, dims))}")
    dtype = np.dtype(_IDX_TYPES[type_byte][1])
    need = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    have = len(buf) - header_len
    if have < need:
        fail(f"truncated payload: the header declares shape {dims}, i.e. {need} bytes of "
             f"data, found {have} bytes")
    if have > need:
        fail(f"payload length mismatch: the header declares shape {dims}, i.e. {need} bytes "
             f"of data, found {have} bytes ({have - need} unexpected trailing bytes)")
    if sha256 is not None:
        digest = hashlib.sha256(buf).hexdigest()
        if digest != sha256.lower():
            fail(f"SHA-256 of the uncompressed contents does not match: expected {sha256}, "
                 f"found {digest}")
    arr = np.frombuffer(buf, dtype=dtype, count=need // dtype.itemsize, offset=header_len)
    return arr.reshape(dims).astype(dtype.newbyteorder("="), copy=True)


def read_idx(
    path: PathLike,
    expected_magic: Optional[int] = None,
    *,
    expected_dims: Optional[Sequence[Optional[int]]] = None,
    sha256: Optional[str] = None,
) -> np.ndarray:
    """Read one IDX file (gzipped or not, detected from its first bytes) into an array.

    expected_magic: e.g. 2051 (uint8 images, 3 dims) or 2049 (uint8 labels, 1 dim).
    expected_dims: the shape to require; ``None`` entries are free, e.g. ``(None, 28, 28)``.
    sha256: the SHA-256 the *uncompressed* bytes must have.

    Returns a writable native-endian array. Raises :class:`DatasetError` on any mismatch
    (never returns partial data) and ``FileNotFoundError`` when the file is missing.
    """
    return _read_idx(Path(path), expected_magic, expected_dims, sha256, _DEFAULT_FIX)


def _read_idx(path, expected_magic, expected_dims, sha256, fix) -> np.ndarray:
    buf = _read_bytes(path, fix)
    return _parse_idx(buf, path, expected_magic, expected_dims, sha256, fix)


# ----------------------------------------------------------------------------- finding


def default_cache_dir() -> Path:
    """The cache root: ``$TINYGRAD_FM_DATA`` if set, else ``pooch.os_cache("tinygrad_fm")``.

    Without pooch installed the platform default cannot be computed and a
    ``ImportError`` is raised (only downloading needs it).
    """
    env = os.environ.get(CACHE_ENV_VAR)
    if env:
        return Path(env).expanduser()
    pooch = _import_pooch()
    return Path(pooch.os_cache("tinygrad_fm"))


def _import_pooch():
    try:
        import pooch  # noqa: PLC0415  (lazy: optional dependency)
    except ImportError as e:
        raise ImportError(
            "Downloading datasets needs the optional packages pooch and tqdm: "
            f"{_INSTALL_HINT} (or point {', '.join(_local_vars())} at a local copy)."
        ) from e
    return pooch


def _local_vars() -> Tuple[str, ...]:
    return tuple(s.env_var for s in SPECS.values() if s.env_var)


def _find(folder: Optional[Path], filename: str) -> Optional[Path]:
    if folder is None:
        return None
    for cand in (folder / filename, folder / (filename + ".gz")):
        if cand.is_file():
            return cand
    return None


def _describe_download_error(exc: BaseException, timeout: float) -> str:
    """One short line for a failed download attempt."""
    try:
        import requests
    except ImportError:  # pragma: no cover - pooch depends on requests
        requests = None
    if requests is not None:
        if isinstance(exc, requests.exceptions.HTTPError) and exc.response is not None:
            r = exc.response
            return f"HTTP {r.status_code} {r.reason or ''}".strip()
        if isinstance(exc, requests.exceptions.Timeout):
            return f"timed out after {timeout:g} s"
        if isinstance(exc, requests.exceptions.ConnectionError):
            reason = getattr(exc.args[0], "reason", None) if exc.args else None
            text = str(reason if reason is not None else exc)
            if "): " in text:  # drop urllib3's "HTTPConnection(host=..., port=...): " prefix
                text = text.split("): ", 1)[1]
            text = " ".join(text.split())
            return f"could not connect: {text[:200]}"
    text = " ".join(str(exc).split())
    if isinstance(exc, ValueError) and "hash" in text.lower():
        return f"checksum mismatch, download discarded: {text[:300]}"
    return f"{type(exc).__name__}: {text[:300]}"


# ----------------------------------------------------------------------------- loading


def load(
    spec: DatasetSpec,
    data_dir: Optional[PathLike] = None,
    download: bool = True,
    cache_dir: Optional[PathLike] = None,
    *,
    timeout: float = 10.0,
    progressbar: Optional[bool] = None,
) -> DatasetSplits:
    """Load the four IDX files of ``spec`` and return the verified standard splits.

    data_dir: folder with a local copy; defaults to ``$<spec.env_var>``.
    download: allow downloading missing files into the cache.
    cache_dir: cache root (a ``spec.name`` sub-folder is used); defaults to
        :func:`default_cache_dir`.
    timeout: seconds to wait for a mirror to connect or send data.
    progressbar: show a tqdm progress bar while downloading (default: if tqdm is installed).
    """
    local_src = "data_dir argument"
    if data_dir is None and spec.env_var and os.environ.get(spec.env_var):
        data_dir, local_src = os.environ[spec.env_var], f"${spec.env_var}"
    local = Path(data_dir).expanduser() if data_dir is not None else None

    cache: Optional[Path] = None
    cache_src = "cache_dir argument"
    cache_note = ""
    if cache_dir is not None:
        cache = Path(cache_dir).expanduser() / spec.name
    else:
        cache_src = f"download cache; set ${CACHE_ENV_VAR} to move it"
        try:
            cache = default_cache_dir() / spec.name
        except ImportError:
            cache_note = f"(default download cache unknown: pooch is not installed; {_INSTALL_HINT})"

    if local is not None:
        missing = [f for f in IDX_FILES if _find(local, f) is None]
        if missing:
            state = (f"has no {', '.join(missing)}" if local.is_dir()
                     else "does not exist")
            warnings.warn(
                f"{spec.name}: the local folder {local} ({local_src}) {state}; looking in "
                f"the download cache" + (" and downloading" if download else ""),
                stacklevel=2,
            )

    arrays = {}
    for fname in IDX_FILES:
        arrays[fname] = _obtain(spec, fname, local, local_src, cache, cache_src, cache_note,
                                download, timeout, progressbar)

    by_split = {}
    for split, img, lab in (("training", TRAIN_IMAGES, TRAIN_LABELS),
                            ("test", TEST_IMAGES, TEST_LABELS)):
        (ipath, images), (lpath, labels) = arrays[img], arrays[lab]
        if len(images) != len(labels):
            raise DatasetError(
                f"{spec.name} {split} split: image and label counts disagree: {ipath} holds "
                f"{len(images)} images but {lpath} holds {len(labels)} labels (expected equal "
                f"counts). The files come from different copies or one is damaged; "
                f"{_fix_for(spec, ipath, local, cache)}",
                lpath,
            )
        if len(labels) and int(labels.max()) >= len(spec.classes):
            raise DatasetError(
                f"{lpath}: label {int(labels.max())} is out of range: expected labels in "
                f"0..{len(spec.classes) - 1} for {len(spec.classes)} classes. "
                f"{_fix_for(spec, lpath, local, cache)}",
                lpath,
            )
        by_split[split] = (images, labels)
    return DatasetSplits(
        train_images=by_split["training"][0],
        train_labels=by_split["training"][1],
        test_images=by_split["test"][0],
        test_labels=by_split["test"][1],
        classes=spec.classes,
    )


def _fix_for(spec: DatasetSpec, path: Path, local: Optional[Path], cache: Optional[Path]) -> str:
    if cache is not None and path.parent == cache:
        return (f"Delete the cached file {path} so it is fetched again, or set "
                f"{spec.env_var or 'data_dir'} to a folder with a good copy.")
    var = f"point {spec.env_var} (or data_dir) " if spec.env_var else "point data_dir "
    return f"Replace the file with a good copy, or {var}at a folder with a good copy."


def _read_checked(spec: DatasetSpec, fname: str, path: Path, fix: str) -> np.ndarray:
    if "images" in fname:
        magic, dims = IMAGES_MAGIC, (None,) + tuple(spec.image_shape)
    else:
        magic, dims = LABELS_MAGIC, (None,)
    return _read_idx(path, magic, dims, spec.files[fname][1], fix)


def _obtain(spec, fname, local, local_src, cache, cache_src, cache_note, download, timeout,
            progressbar):
    """Return (path, array) for one file, from the local folder, the cache or a download."""
    looked = []
    # 1. local copy
    if local is not None:
        path = _find(local, fname)
        if path is not None:
            return path, _read_checked(spec, fname, path, _fix_for(spec, path, local, cache))
        state = "not found" if local.is_dir() else "folder does not exist"
        looked.append(f"{local} ({local_src}): {state}")
    elif spec.env_var:
        looked.append(f"${spec.env_var}: not set")
    # 2. cache
    if cache is not None:
        path = _find(cache, fname)
        if path is not None:
            fix = _fix_for(spec, path, local, cache)
            try:
                return path, _read_checked(spec, fname, path, fix)
            except DatasetError:
                if not download:
                    raise
                # A damaged cached file: fetch it again (pooch replaces it atomically).
        looked.append(f"{cache} ({cache_src}): "
                      + ("damaged copy" if path is not None else "not found"))
    elif cache_note:
        looked.append(cache_note)

    # 3. download
    attempts = []
    if download and cache is not None:
        pooch = _import_pooch()
        md5, _ = spec.files[fname]
        known_hash = f"md5:{md5}" if md5 else None
        for url in spec.urls(fname):
            bar = _make_bar(progressbar, fname)
            try:
                downloader = pooch.HTTPDownloader(
                    progressbar=bar if bar is not None else False,
                    chunk_size=1 << 16,
                    timeout=timeout,
                    headers={"Accept-Encoding": "identity"},
                )
                got = Path(pooch.retrieve(url, known_hash=known_hash, fname=fname + ".gz",
                                          path=cache, downloader=downloader))
            except Exception as e:  # noqa: BLE001 - summarised in one error below
                attempts.append(f"{url}: {_describe_download_error(e, timeout)}")
                continue
            finally:
                if bar is not None:
                    bar.close()
            try:
                return got, _read_checked(spec, fname, got, _fix_for(spec, got, local, cache))
            except DatasetError:
                # The gzip MD5 matched but the contents did not: the spec is inconsistent.
                got.unlink(missing_ok=True)
                raise

    lines = [f"Could not load {spec.name} file '{fname}'."]
    if looked:
        lines.append("Looked in:")
        lines += [f"  - {x}" for x in looked]
    if attempts:
        lines.append("Download failed from every mirror:")
        lines += [f"  - {x}" for x in attempts]
    elif not download:
        lines.append("Downloading is disabled (download=False).")
    else:
        lines.append("No download cache folder is available, so nothing was downloaded.")
    var = spec.env_var or "data_dir"
    lines.append(
        f"To fix: set {var}=/path/to/folder (or pass data_dir=...) to a folder holding the "
        f"four IDX files ({', '.join(IDX_FILES)}, gzipped or not), or set "
        f"{CACHE_ENV_VAR} to a cache folder that holds them, or connect to the network "
        f"and call with download=True."
    )
    raise DatasetError("\n".join(lines))


class _ProgressBar:
    """Adapter between pooch's progress-bar protocol and a tqdm bar showing the file name.

    pooch tests the bar for truth before setting ``total``; a fresh tqdm without a total
    refuses ``bool()``, hence this thin wrapper.
    """

    def __init__(self, tqdm_cls, desc: str):
        self._cls, self._desc, self._bar = tqdm_cls, desc, None  # created once data flows

    def __bool__(self):
        return True

    @property
    def total(self):
        return None if self._bar is None else self._bar.total

    @total.setter
    def total(self, value):
        if self._bar is None:
            self._bar = self._cls(desc=self._desc, total=value or None, unit="B",
                                  unit_scale=True, unit_divisor=1024, leave=True, ncols=79)
        else:
            self._bar.total = value or None
            self._bar.refresh()

    def update(self, n):
        if self._bar is not None:
            self._bar.update(n)

    def reset(self):
        if self._bar is not None:
            self._bar.reset(total=self._bar.total)

    def close(self):
        if self._bar is not None:
            self._bar.close()


def _make_bar(progressbar: Optional[bool], fname: str):
    if progressbar is False:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        if progressbar:
            raise ImportError(f"The download progress bar needs tqdm: {_INSTALL_HINT}") from None
        return None
    return _ProgressBar(tqdm, fname + ".gz")


def fashion_mnist(
    data_dir: Optional[PathLike] = None, download: bool = True,
    cache_dir: Optional[PathLike] = None, *, timeout: float = 10.0,
    progressbar: Optional[bool] = None,
) -> DatasetSplits:
    """Fashion-MNIST (Zalando): 60,000 training and 10,000 test 28x28 uint8 images.

    A local copy is taken from ``data_dir`` or ``$FASHION_MNIST_DIR``; otherwise the
    files are read from the cache or downloaded into it. See :func:`load`.
    """
    return load(FASHION_MNIST, data_dir=data_dir, download=download, cache_dir=cache_dir,
                timeout=timeout, progressbar=progressbar)


def mnist(
    data_dir: Optional[PathLike] = None, download: bool = True,
    cache_dir: Optional[PathLike] = None, *, timeout: float = 10.0,
    progressbar: Optional[bool] = None,
) -> DatasetSplits:
    """MNIST digits: 60,000 training and 10,000 test 28x28 uint8 images.

    A local copy is taken from ``data_dir`` or ``$MNIST_DIR``; otherwise the files are
    read from the cache or downloaded into it. See :func:`load`.
    """
    return load(MNIST, data_dir=data_dir, download=download, cache_dir=cache_dir,
                timeout=timeout, progressbar=progressbar)
