"""Checkpoints: nested state dicts saved as one ``.npz`` file, loaded without pickle.

``save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3}, path)``
stores every array as an ``.npz`` member named by its path of keys joined with ``/``
(``"model/0.weight"``, so ``np.load(path)["model/0.weight"]`` works too) and the rest --
the nesting, int and str keys, lists, tuples, Python numbers, bools, None and strings --
as a JSON description in one more member. ``load`` reads it back with
``allow_pickle=False``: a file from an untrusted source cannot run code.

Round trips are exact: arrays keep dtype and shape, NumPy scalars their type, tuples stay
tuples and int keys stay ints. Tensors come back as Tensors (without requires_grad).
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping

import numpy as np

from ..tensor import Tensor

__all__ = ["save", "load"]

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


def save(obj, path) -> None:
    """Write ``obj`` (a dict, possibly nested; see the module docstring) to ``path``.

    The file is written under a temporary name in the same folder and then renamed over
    ``path``, so an interrupted save never leaves a half-written checkpoint in its place.
    ``path`` is used as given (no ``.npz`` is appended).
    """
    if not isinstance(obj, Mapping):
        raise TypeError(f"save: expected a dict (e.g. a state dict), got {type(obj).__name__}")
    encoder = _Encoder()
    structure = encoder.encode(obj)
    description = json.dumps({"format": _FORMAT_VERSION, "root": structure})
    members = dict(encoder.arrays)
    members[STRUCTURE_KEY] = np.array(description)

    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    temporary = os.path.join(folder, f".{os.path.basename(path)}.{secrets.token_hex(6)}.tmp")
    # os.open with mode 0o666 honours the umask, as a plain open() of the target would.
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(descriptor, "wb") as file:
            np.savez(file, **members)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        try:
            os.remove(temporary)
        except FileNotFoundError:
            pass
        raise


class _Decoder:
    def __init__(self, archive, path: str):
        self.archive = archive
        self.path = path

    def _array(self, name: str) -> np.ndarray:
        if name not in self.archive.files:
            raise ValueError(f"load: {self.path} is damaged: its structure names an array "
                             f"{name!r} that is not in the file")
        try:
            return self.archive[name]
        except ValueError as error:  # an object array: it would need pickle
            raise ValueError(f"load: refusing to load entry {name!r} of {self.path}: it is "
                             f"stored with pickle, which could run arbitrary code ({error})"
                             ) from None

    def decode(self, node):
        if not isinstance(node, dict) or len(node) != 1:
            raise ValueError(f"load: {self.path} has a malformed structure entry {node!r}")
        ((kind, content),) = node.items()
        if kind == "array":
            return self._array(content)
        if kind == "tensor":
            return Tensor(self._array(content))
        if kind == "scalar":
            return self._array(content)[()]
        if kind == "value":
            return content
        if kind == "float":
            return float(content)
        if kind == "dict":
            return {key: self.decode(item) for key, item in content}
        if kind == "list":
            return [self.decode(item) for item in content]
        if kind == "tuple":
            return tuple(self.decode(item) for item in content)
        raise ValueError(f"load: {self.path} has an unknown structure entry kind {kind!r}")


def load(path) -> dict:
    """Read a file written by :func:`save` (never unpickling anything).

    A plain ``.npz`` without the structure description (e.g. from ``np.savez``) loads as
    a flat dict of member name -> array.
    """
    path = os.fspath(path)
    try:
        archive = np.load(path, allow_pickle=False)
    except ValueError as error:  # a pickle file
        raise ValueError(f"load: refusing to load {path}: it is not a .npz checkpoint but "
                         f"pickled data, which could run arbitrary code ({error})") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError(f"load: {path} holds a single .npy array, not a .npz checkpoint "
                         "written by save(); read it with np.load")
    with archive:
        decoder = _Decoder(archive, path)
        if STRUCTURE_KEY not in archive.files:
            return {name: decoder._array(name) for name in archive.files}
        try:
            description = json.loads(str(decoder._array(STRUCTURE_KEY)))
            root = description["root"]
            version = description["format"]
        except (ValueError, KeyError, TypeError) as error:
            raise ValueError(f"load: {path} has an unreadable structure description "
                             f"({error})") from None
        if version != _FORMAT_VERSION:
            raise ValueError(f"load: {path} is in checkpoint format {version!r}; this "
                             f"version of tinygrad_fm reads format {_FORMAT_VERSION}")
        return decoder.decode(root)
