"""tinygrad_fm.nn.serialization.atomic_write: a file is replaced whole or not at all."""

import os

import pytest

from tinygrad_fm import nn
from tinygrad_fm.nn.serialization import atomic_write


def test_atomic_write_replaces_the_file_whole(tmp_path):
    path = tmp_path / "data.json"
    path.write_text("old")
    with atomic_write(path, "w", encoding="utf-8") as file:
        file.write("new")
        assert path.read_text() == "old"  # not visible before the block ends
    assert path.read_text() == "new"
    assert os.listdir(tmp_path) == ["data.json"]


def test_an_error_or_interrupt_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "data.bin"
    path.write_bytes(b"old")
    for stop in (ValueError("disk full"), KeyboardInterrupt()):
        with pytest.raises(type(stop)):
            with atomic_write(path) as file:
                file.write(b"half")
                raise stop
        assert path.read_bytes() == b"old"
        assert os.listdir(tmp_path) == ["data.bin"]


def test_atomic_write_takes_only_write_modes(tmp_path):
    with pytest.raises(ValueError, match="mode must be 'wb' or 'w'"):
        with atomic_write(tmp_path / "x", "a"):
            pass


def test_load_tells_a_pickle_from_a_file_that_is_no_checkpoint_at_all(tmp_path):
    import pickle

    pickled = tmp_path / "model.pt"
    pickled.write_bytes(pickle.dumps({"weight": [1.0, 2.0]}))
    with pytest.raises(ValueError, match="not a .npz checkpoint but pickled data"):
        nn.load(pickled)
    for name, content in (("notes.npz", b"this is not a checkpoint\n"),
                          ("noise.npz", bytes(range(7, 200)))):
        (tmp_path / name).write_bytes(content)
        with pytest.raises(ValueError) as error:
            nn.load(tmp_path / name)
        assert "is not a checkpoint" in str(error.value) and "pickled" not in str(error.value)
