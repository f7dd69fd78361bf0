"""Files of a run: JSON written atomically, JSON lines appended whole, run folders."""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path

import numpy as np

from tinygrad_fm.nn.serialization import atomic_write


def json_default(value):
    """``json.dump``'s ``default``: NumPy scalars and arrays as numbers and lists, paths
    as text."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def write_json(path, value) -> None:
    """``value`` as indented JSON in ``path``, replaced atomically."""
    with atomic_write(path, "w", encoding="utf-8") as file:
        json.dump(value, file, indent=2, default=json_default)
        file.write("\n")


def write_text(path, text: str) -> None:
    with atomic_write(path, "w", encoding="utf-8") as file:
        file.write(text)


def write_json_lines(path, records) -> None:
    """One JSON object per line, replacing ``path`` atomically."""
    write_text(path, "".join(json.dumps(record, default=json_default) + "\n"
                             for record in records))


def append_json_line(path, record, sync: bool = False) -> None:
    """Append ``record`` as one line. A last line cut short by a kill is ended first, so
    it cannot swallow this one; ``sync`` forces the line to disk before returning."""
    path = Path(path)
    with open(path, "a+b") as file:
        if file.tell() > 0:
            file.seek(-1, os.SEEK_END)
            if file.read(1) != b"\n":
                file.write(b"\n")
        file.write((json.dumps(record, default=json_default) + "\n").encode("utf-8"))
        file.flush()
        if sync:
            os.fsync(file.fileno())


def read_json_lines(path) -> list:
    path = Path(path)
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]


def read_json(path):
    """The JSON in ``path``, or None when there is no such file."""
    path = Path(path)
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def file_in(path, name: str, what: str, hint: str) -> Path:
    """``path`` itself, or ``path/name`` when ``path`` is a folder; FileNotFoundError
    ``no <what> at <path>; <hint>`` when that is not a file."""
    path = Path(path)
    if path.is_dir():
        path = path / name
    if not path.is_file():
        raise FileNotFoundError(f"no {what} at {path}; {hint}")
    return path


def timestamp() -> str:
    return datetime.now().strftime("%Y%m%d-%H%M%S")


def new_folder(stem: str, root="runs") -> Path:
    """``root/<stem>-<timestamp>`` (a suffix is added if it exists already)."""
    stem = f"{stem}-{timestamp()}"
    candidate, n = Path(root) / stem, 1
    while candidate.exists():
        n += 1
        candidate = Path(root) / f"{stem}-{n}"
    return candidate
