"""The README's Python examples run as written (the training loop on a slice of the data)."""

import os
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)


def test_readme_has_the_four_examples():
    assert len(BLOCKS) == 4


@pytest.mark.parametrize("index", [0, 1, 3])
def test_tour_and_custom_function_examples_run(index):
    exec(compile(BLOCKS[index], f"README block {index}", "exec"), {})


def test_training_loop_example_runs_and_saves(tmp_path, monkeypatch):
    if not os.environ.get("FASHION_MNIST_DIR"):
        pytest.skip("FASHION_MNIST_DIR is not set")
    code = BLOCKS[2]
    shortened = {"for epoch in range(5):": "for epoch in range(1):",
                 "TensorDataset(data.train_images, data.train_labels":
                 "TensorDataset(data.train_images[:2000], data.train_labels[:2000]"}
    for old, new in shortened.items():
        assert old in code
        code = code.replace(old, new)
    monkeypatch.chdir(tmp_path)
    namespace = {}
    exec(compile(code, "README training loop", "exec"), namespace)
    assert namespace["loss"].item() < 2.3  # below chance level (ln 10) after 32 steps
    from tinygrad_fm import nn

    saved = nn.load(tmp_path / "model.npz")
    assert set(saved) == set(namespace["model"].state_dict())
