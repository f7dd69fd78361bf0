"""Files of a run: JSON written atomically, JSON lines appended whole, run folders, and
one message for a folder that cannot be written."""

from __future__ import annotations

import errno
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
    it cannot swallow this one; a write that fails (a full disk) leaves the file as it
    was; ``sync`` forces the line to disk before returning."""
    path = Path(path)
    line = (json.dumps(record, default=json_default) + "\n").encode("utf-8")
    with open(path, "a+b") as file:
        size = file.tell()
        try:
            if size > 0:
                file.seek(-1, os.SEEK_END)
                if file.read(1) != b"\n":
                    file.write(b"\n")
            file.write(line)
            file.flush()
            if sync:
                os.fsync(file.fileno())
        except OSError:  # e.g. a full disk: take back whatever part of the line got in
            try:
                file.truncate(size)
            except OSError:
                pass
            raise


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


class OutputError(OSError):
    """An output folder cannot be created or written; the message says which and why."""


#: What to do about the usual reasons a write fails.
_WRITE_HINTS = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is used up",
    errno.EROFS: "the file system is read-only; choose another --out",
    errno.EACCES: "permission denied; choose another --out",
    errno.EPERM: "permission denied; choose another --out",
    errno.ENOTDIR: "a part of the path is a file, not a folder; choose another --out",
}


def os_error_message(error: OSError) -> str:
    """One line for an OSError: ``cannot write PATH: reason`` (the message itself for an
    OutputError, or an error raised with a message of its own)."""
    if isinstance(error, OutputError) or error.errno is None:
        return str(error)
    reason = _WRITE_HINTS.get(error.errno, error.strerror or str(error))
    return f"cannot write {error.filename}: {reason}" if error.filename else reason


def make_folder(path, option: str = "--out") -> Path:
    """Create the folder ``path`` (and its parents) for writing; OutputError naming
    ``option`` when it cannot be (a file is there, no permission, read-only...)."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise OutputError(f"{option} {path} is a file, not a folder; give a folder") from None
    except OSError as error:
        reason = _WRITE_HINTS.get(error.errno, error.strerror)
        raise OutputError(f"{option} {path} cannot be created: {reason}") from None
    return path


#: The files that tell what a folder holds: a training run, a sweep or a report.
RUN_FILES = ("config.json", "metrics.jsonl", "summary.json", "checkpoint.npz")
SWEEP_FILES = ("results.jsonl", "sweep.json")
REPORT_FILES = ("report_state.json",)


def work_in(folder) -> tuple:
    """``(kind, names)``: what ``folder`` holds (``"run"``, ``"sweep"`` or ``"report"``,
    the first kind found in that order of precedence report, sweep, run) and the files
    that show it; ``(None, [])`` for a missing or unrelated folder."""
    folder = Path(folder)
    if not folder.is_dir():
        return None, []
    for kind, names in (("report", REPORT_FILES), ("sweep", SWEEP_FILES), ("run", RUN_FILES)):
        found = [name for name in names if (folder / name).exists()]
        if found:
            return kind, found
    return None, []
