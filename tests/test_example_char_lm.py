"""The character-level language model example: the grammar behind its word list, a short
training run of each model (files, falling loss, samples) and its command line."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "examples" / "char_lm.py"


def _load_example():
    spec = importlib.util.spec_from_file_location("char_lm_example", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


char_lm = _load_example()


def test_generated_names_are_distinct_grammatical_and_reproducible():
    names = char_lm.generate_names(500, seed=3)
    assert len(set(names)) == 500
    assert all(char_lm.GRAMMAR.match(name) for name in names)
    assert names == char_lm.generate_names(500, seed=3)
    # ... in another process too, whose string hashing (set order) differs
    code = ("import importlib.util, sys; spec = importlib.util.spec_from_file_location('m', "
            f"{str(SCRIPT)!r}); m = importlib.util.module_from_spec(spec); "
            "sys.modules['m'] = m; spec.loader.exec_module(m); "
            "print(','.join(m.generate_names(500, seed=3)))")
    for hash_seed in ("1", "2"):
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              timeout=60, env={"PYTHONHASHSEED": hash_seed, "PATH": ""})
        assert done.stdout.strip().split(",") == names, done.stderr
    assert names != char_lm.generate_names(500, seed=4)
    assert not char_lm.GRAMMAR.match("xqzt") and not char_lm.GRAMMAR.match("ba")


def test_encode_shifts_targets_and_masks_padding():
    inputs, targets = char_lm.encode(["ab", "abcd"])
    index = char_lm.INDEX
    np.testing.assert_array_equal(inputs[0], [0, index["a"], index["b"], 0, 0])
    np.testing.assert_array_equal(targets[0], [index["a"], index["b"], 0, -1, -1])
    np.testing.assert_array_equal(targets[1, -1], 0)


@pytest.mark.parametrize("model", ["lstm", "gru", "transformer"])
def test_a_short_run_learns_and_writes_its_files(model, tmp_path):
    config = char_lm.Config(model=model, names=300, embed=8, hidden=16, heads=2, epochs=3,
                            batch_size=32, lr=1e-2, samples=5)
    summary = char_lm.train(config, tmp_path, quiet=True)
    history = summary["history"]
    assert len(history["val_loss"]) == 3
    assert history["val_loss"][-1] < history["val_loss"][0]
    assert history["val_loss"][-1] < np.log(len(char_lm.ALPHABET))  # better than uniform
    assert len(summary["samples"]) == 5
    assert all(set(s) <= set(char_lm.ALPHABET[1:]) for s in summary["samples"])
    for name in ("names.txt", "metrics.json", "samples.txt", "loss_curve.png"):
        assert (tmp_path / name).stat().st_size > 0
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert saved["config"]["model"] == model and 0 <= saved["grammatical"] <= 1


def test_the_same_script_runs_on_pytorch(tmp_path):
    pytest.importorskip("torch")
    config = char_lm.Config(model="gru", backend="torch", names=200, embed=8, hidden=16,
                            epochs=2, samples=3)
    summary = char_lm.train(config, tmp_path, quiet=True)
    assert np.isfinite(summary["val_loss"]) and len(summary["samples"]) == 3


def test_command_line_runs_and_rejects_bad_settings(tmp_path):
    command = [sys.executable, str(SCRIPT), "--model", "lstm", "--names", "150",
               "--hidden", "8", "--embed", "4", "--epochs", "1", "--samples", "2",
               "--out", str(tmp_path / "run")]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert "val loss" in done.stdout and "samples:" in done.stdout
    assert (tmp_path / "run" / "loss_curve.png").exists()
    bad = subprocess.run([sys.executable, str(SCRIPT), "--model", "transformer", "--hidden",
                          "10", "--heads", "4"], capture_output=True, text=True, timeout=60,
                         cwd=ROOT)
    assert bad.returncode == 2 and "must be divisible by --heads" in bad.stderr
