"""Checkpoints: nested state dicts saved as one ``.npz`` file, loaded without pickle.

``save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3}, path)``
(``torch.save``; any nesting of the values below, to a path or a binary file object)
stores every array as an ``.npz`` member named by its path of keys joined with ``/``
(``"model/0.weight"``, so ``np.load(path)["model/0.weight"]`` works too) and the rest --
the nesting, int and str keys, lists, tuples, Python numbers, bools, None and strings --
as a JSON description in one more member. ``load`` reads it back with
``allow_pickle=False``: a file from an untrusted source cannot run code, a malformed
description is one ``ValueError`` naming the file, and an archive whose members would
decompress to more than ``MAX_UNCOMPRESSED_BYTES`` is refused before it is read.

Round trips are exact: arrays keep dtype and shape, NumPy scalars their type, tuples stay
tuples and int keys stay ints. Tensors come back as Tensors (without requires_grad).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import zipfile
from collections.abc import Mapping

import numpy as np

from ..tensor import Tensor

__all__ = ["save", "load", "atomic_write", "remove_leftover_temporaries"]

STRUCTURE_KEY = "__tinygrad_fm_structure__"
_FORMAT_VERSION = 1


class _Encoder:
    """Turn a nested value into a JSON-able description plus a dict of named arrays."""

    def __init__(self):
        self.arrays: dict[str, np.ndarray] = {}

    def _store(self, array: np.ndarray, path: tuple) -> str:
        if array.dtype.hasobject:
            raise ValueError(f"save: the array at {_describe(path)} has dtype {array.dtype}, "
                             "which can only be stored with pickle; load() refuses pickle "
                             "for safety, so convert it to a numeric array")
        name = "/".join(str(key) for key in path)
        if name in self.arrays or name == STRUCTURE_KEY:
            raise ValueError(f"save: two entries would be stored under the same name {name!r} "
                             f"(keys containing '/' collide with nested keys); rename one")
        self.arrays[name] = array
        return name

    def encode(self, value, path: tuple = ()):
        if isinstance(value, Tensor):
            return {"tensor": self._store(value.data, path)}
        if isinstance(value, np.ndarray):
            return {"array": self._store(value, path)}
        if isinstance(value, np.generic):
            return {"scalar": self._store(np.asarray(value), path)}
        if value is None or isinstance(value, (bool, int, str)):
            return {"value": value}
        if isinstance(value, float):
            # JSON has no inf/nan; repr round-trips every float exactly.
            return {"float": repr(value)}
        if isinstance(value, Mapping):
            items = []
            for key, item in value.items():
                if isinstance(key, np.integer):
                    key = int(key)
                if isinstance(key, bool) or not isinstance(key, (str, int)):
                    raise TypeError(f"save: dict keys must be str or int, got "
                                    f"{type(key).__name__} {key!r} at {_describe(path)}")
                items.append([key, self.encode(item, path + (key,))])
            return {"dict": items}
        if isinstance(value, (list, tuple)):
            kind = "list" if isinstance(value, list) else "tuple"
            return {kind: [self.encode(item, path + (i,)) for i, item in enumerate(value)]}
        raise TypeError(f"save: cannot store a {type(value).__name__} at {_describe(path)}; "
                        "supported are dicts (str/int keys), lists, tuples, ndarrays, "
                        "Tensors, NumPy scalars, int, float, bool, str and None")


def _describe(path: tuple) -> str:
    return "key path " + "/".join(str(key) for key in path) if path else "the top level"


def save(obj, f, *args, **kwargs) -> None:
    """Write ``obj`` (a nested structure; see the module docstring) to ``f``, a path or a
    binary file object (``torch.save``'s pickle options are accepted and ignored).

    A path is written under a temporary name in the same folder and then renamed over
    it, so an interrupted save never leaves a half-written checkpoint in its place. The
    path is used as given (no ``.npz`` is appended).
    """
    encoder = _Encoder()
    structure = encoder.encode(obj)
    description = json.dumps({"format": _FORMAT_VERSION, "root": structure})
    members = dict(encoder.arrays)
    members[STRUCTURE_KEY] = np.array(description)
    if hasattr(f, "write"):
        np.savez(f, **members)
        return

    with atomic_write(f) as file:
        np.savez(file, **members)


@contextlib.contextmanager
def atomic_write(path, mode: str = "wb", encoding=None):
    """Open a temporary file beside ``path`` for writing, then replace ``path`` with it.

    On success the data is flushed to disk before the rename, so ``path`` holds either
    its old content or the whole new one, never a partial write; on any error (including
    KeyboardInterrupt) the temporary file is removed and ``path`` is left as it was.
    ``mode`` is ``"wb"`` or ``"w"`` (text, with ``encoding``).
    """
    if mode not in ("wb", "w"):
        raise ValueError(f"atomic_write: mode must be 'wb' or 'w', got {mode!r}")
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    temporary = os.path.join(folder, f".{os.path.basename(path)}.{secrets.token_hex(6)}.tmp")
    # os.open with mode 0o666 honours the umask, as a plain open() of the target would.
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(descriptor, mode, encoding=encoding) as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        try:
            os.remove(temporary)
        except FileNotFoundError:
            pass
        raise


#: The name atomic_write gives its temporary file: ``.<name>.<12 hex digits>.tmp``.
_TEMPORARY_NAME = re.compile(r"\..+\.[0-9a-f]{12}\.tmp")


def remove_leftover_temporaries(folder) -> list:
    """Delete the temporary files that :func:`atomic_write` leaves in ``folder`` when its
    process is killed mid-write (nothing else removes them); returns their names. Call
    it only where no write into ``folder`` is in progress."""
    removed = []
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.is_file(follow_symlinks=False) and _TEMPORARY_NAME.fullmatch(entry.name):
                os.remove(entry.path)
                removed.append(entry.name)
    return sorted(removed)


# A checkpoint may hold at most this many bytes once decompressed (the sum of its members'
# declared sizes, checked before anything is read), so a small crafted file (a "zip
# bomb") cannot exhaust memory. Pass max_bytes= to load() to change it.
MAX_UNCOMPRESSED_BYTES = 16 * 1024 ** 3
# Deeper nesting than this is refused as malformed (no real state dict comes close).
MAX_DEPTH = 200


class _Decoder:
    def __init__(self, archive, path: str):
        self.archive = archive
        self.path = path

    def _array(self, name) -> np.ndarray:
        if not isinstance(name, str) or name not in self.archive.files:
            raise _Malformed(f"its structure names an array {name!r} that is not in the file")
        try:
            return self.archive[name]
        except ValueError as error:  # an object array: it would need pickle
            raise ValueError(f"load: refusing to load entry {name!r} of {self.path}: it is "
                             f"stored with pickle, which could run arbitrary code ({error})"
                             ) from None

    def decode(self, node, depth: int = 0):
        if depth > MAX_DEPTH:
            raise _Malformed(f"its structure is nested more than {MAX_DEPTH} levels deep")
        if not isinstance(node, dict) or len(node) != 1:
            raise _Malformed(f"a structure entry is {_preview(node)}, not a one-key object")
        ((kind, content),) = node.items()
        if kind == "array":
            return self._array(content)
        if kind == "tensor":
            return Tensor(self._array(content))
        if kind == "scalar":
            array = self._array(content)
            if array.ndim != 0:
                raise _Malformed(f"the scalar {content!r} has shape {array.shape}")
            return array[()]
        if kind == "value":
            if content is not None and not isinstance(content, (bool, int, str)):
                raise _Malformed(f"a value entry holds {_preview(content)}")
            return content
        if kind == "float":
            if not isinstance(content, str):
                raise _Malformed(f"a float entry holds {_preview(content)}, not its repr")
            return float(content)
        if kind in ("list", "tuple"):
            if not isinstance(content, list):
                raise _Malformed(f"a {kind} entry holds {_preview(content)}, not a list")
            items = [self.decode(item, depth + 1) for item in content]
            return items if kind == "list" else tuple(items)
        if kind == "dict":
            if not isinstance(content, list):
                raise _Malformed(f"a dict entry holds {_preview(content)}, not a list of pairs")
            result = {}
            for pair in content:
                if not (isinstance(pair, list) and len(pair) == 2
                        and isinstance(pair[0], (str, int)) and not isinstance(pair[0], bool)):
                    raise _Malformed(f"a dict item is {_preview(pair)}, not a [key, value] "
                                     "pair with a str or int key")
                result[pair[0]] = self.decode(pair[1], depth + 1)
            return result
        raise _Malformed(f"it has an unknown structure entry kind {kind!r}")


class _Malformed(Exception):
    """Raised inside the decoder; load() turns it into one ValueError naming the file."""


def _preview(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _check_declared_sizes(source, path: str, max_bytes) -> None:
    """Refuse an archive whose members would decompress to more than ``max_bytes``.
    The sizes are read from the zip directory before any member is decompressed (and
    zipfile never inflates a member beyond its declared size)."""
    if max_bytes is None:
        return
    try:
        with zipfile.ZipFile(source) as archive:
            total = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        return  # not a zip: np.load reports what it is
    finally:
        if hasattr(source, "seek"):
            source.seek(0)
    if total > max_bytes:
        raise ValueError(f"load: refusing to load {path}: its members would decompress to "
                         f"{total:,} bytes, more than the limit of {max_bytes:,} (a damaged "
                         "or malicious file, e.g. a zip bomb); if the checkpoint is genuine, "
                         "pass a larger max_bytes=")


def _starts_like_a_pickle(source) -> bool:
    """Whether a file begins with the PROTO opcode of pickle protocols 2 and later (what
    torch.save and pickle.dump write), as opposed to text or other bytes."""
    if hasattr(source, "read"):
        if not hasattr(source, "seek"):
            return True
        position = source.tell()
        source.seek(0)
        head = source.read(2)
        source.seek(position)
    else:
        with open(source, "rb") as file:
            head = file.read(2)
    return len(head) == 2 and head[0] == 0x80 and 2 <= head[1] <= 5


def load(f, map_location=None, weights_only=None, *, mmap=None, max_bytes=None, **kwargs):
    """Read what :func:`save` wrote, from a path or a binary file object, never
    unpickling anything (``torch.load``'s arguments are accepted; ``map_location`` may
    only name the CPU).

    A plain ``.npz`` without the structure description (e.g. from ``np.savez``) loads as
    a flat dict of member name -> array. A file whose members would decompress to more
    than ``max_bytes`` (default :data:`MAX_UNCOMPRESSED_BYTES`) is refused before it is
    read, and a malformed structure description raises one ``ValueError`` naming the file.
    """
    from ..dtypes import check_device
    if map_location is not None and not callable(map_location) and \
            not isinstance(map_location, Mapping):
        check_device(map_location, "load(map_location=...)")
    path = repr(f) if hasattr(f, "read") else os.fspath(f)
    source = f if hasattr(f, "read") else path
    _check_declared_sizes(source, path, MAX_UNCOMPRESSED_BYTES if max_bytes is None
                          else max_bytes)
    try:
        archive = np.load(source, allow_pickle=False)
    except ValueError as error:  # neither a zip archive nor a .npy array
        if _starts_like_a_pickle(source):
            raise ValueError(f"load: refusing to load {path}: it is not a .npz checkpoint but "
                             f"pickled data, which could run arbitrary code ({error})") from None
        raise ValueError(f"load: {path} is not a checkpoint: save() writes a .npz (zip) "
                         "archive, and this file is neither that nor a .npy array") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError(f"load: {path} holds a single .npy array, not a .npz checkpoint "
                         "written by save(); read it with np.load")
    with archive:
        decoder = _Decoder(archive, path)
        try:
            if STRUCTURE_KEY not in archive.files:
                return {name: decoder._array(name) for name in archive.files}
            try:
                description = json.loads(str(decoder._array(STRUCTURE_KEY)))
            except (ValueError, RecursionError) as error:
                raise _Malformed(f"its structure description is not valid JSON "
                                 f"({type(error).__name__})") from None
            if not isinstance(description, dict) or "root" not in description \
                    or "format" not in description:
                raise _Malformed("its structure description lacks 'format' or 'root'")
            version = description["format"]
            if version != _FORMAT_VERSION:
                raise ValueError(f"load: {path} is in checkpoint format {version!r}; this "
                                 f"version of tinygrad_fm reads format {_FORMAT_VERSION}")
            return decoder.decode(description["root"])
        except _Malformed as error:
            raise ValueError(f"load: {path} is damaged or was not written by save(): "
                             f"{error}") from None
        except (zipfile.BadZipFile, OSError, EOFError) as error:
            raise ValueError(f"load: {path} is damaged: {error}") from None
