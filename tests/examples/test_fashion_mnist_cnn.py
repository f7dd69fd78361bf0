"""examples/fashion_mnist_cnn.py: its defaults are the reference CNN's recipe, the model is
PyTorch's from the same weights, and short runs through the real entry point (files,
--save/--resume, divergence stop, exit codes)."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

import tinygrad_fm as tg
from tinygrad_fm import nn

import fashion_mnist_cnn
from experiment.cli import EXIT_FAILED, EXIT_USAGE
from experiment.config import RunOptions, parse_command_line
from fashion_mnist_cnn import CNNConfig, build_model

EPOCH_LINE = re.compile(r"epoch (\d+)/(\d+): train_loss=([\d.]+) train_accuracy=([\d.]+) "
                        r"val_loss=([\d.]+) val_accuracy=([\d.]+)")
FINAL_LINE = re.compile(r"test_loss=([\d.]+) test_accuracy=([\d.]+)")


def parse(argv):
    return parse_command_line(fashion_mnist_cnn.parser(), CNNConfig, argv)


def test_defaults_are_the_reference_recipe():
    config = CNNConfig()
    assert (config.optimizer, config.learning_rate, config.batch_size, config.epochs,
            config.lr_schedule, config.loss) == ("adam", 1e-3, 64, 8, "cosine",
                                                 "cross_entropy")
    assert (config.channels, config.hidden_size, config.dropout, config.norm) == \
        (32, 128, 0.25, "none")
    assert config.run_name() == "cnn_c_32_sz_128_bs_64_opt_adam_lr_0.001"


def test_model_is_the_reference_cnn_and_gives_torch_outputs_from_its_weights():
    torch = pytest.importorskip("torch")
    tn = torch.nn
    reference = tn.Sequential(
        tn.Conv2d(1, 32, 3, padding=1), tn.ReLU(), tn.MaxPool2d(2),
        tn.Conv2d(32, 64, 3, padding=1), tn.ReLU(), tn.MaxPool2d(2), tn.Flatten(),
        tn.Linear(3136, 128), tn.ReLU(), tn.Dropout(0.25), tn.Linear(128, 10))
    model = build_model(CNNConfig())
    assert repr(model) == repr(reference)
    model.load_state_dict({k: v.detach().numpy() for k, v in reference.state_dict().items()})
    model.eval(), reference.eval()
    x = np.random.default_rng(0).normal(size=(3, 1, 28, 28)).astype(np.float32)
    np.testing.assert_allclose(model(tg.Tensor(x)).data,
                               reference(torch.from_numpy(x)).detach().numpy(),
                               rtol=1e-4, atol=1e-5)


def test_batchnorm_preset_and_explicit_flags():
    command = parse(["--preset", "batchnorm", "-c", "16", "-e", "3"])
    config = command.config
    assert (config.norm, config.augment_shift, config.optimizer, config.lr_schedule) == \
        ("batch", 2, "adamw", "onecycle")
    assert (config.channels, config.epochs) == (16, 3)  # explicit flags beat the preset
    model = build_model(config)
    kinds = [type(layer).__name__ for layer in model]
    assert kinds[:4] == ["Conv2d", "BatchNorm2d", "ReLU", "MaxPool2d"]
    assert model[0].bias is None and model[4].out_channels == 32
    out = model(tg.Tensor(np.zeros((2, 1, 28, 28), np.float32)))
    assert out.shape == (2, 10)
    assert "batchnorm" in config.run_name() and "shift_2" in config.run_name()


def test_bad_option_exits_with_usage_error(run_example):
    result = run_example("fashion_mnist_cnn.py", "--norm", "layer", timeout=60)
    assert result.returncode == EXIT_USAGE
    assert "norm" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.needs_data
def test_short_run_saves_and_resumes_through_the_entry_point(tmp_path, run_example):
    out = tmp_path / "run"
    # A constant rate, so that the resumed run may add an epoch.
    first = run_example("fashion_mnist_cnn.py", "-e", "1", "--limit-train", "640",
                        "--lr-schedule", "constant", "--wandb-mode", "offline", "--save",
                        "--out", out, timeout=900)
    assert first.returncode == 0, first.stderr
    (line,) = EPOCH_LINE.findall(first.stdout)
    assert line[:2] == ("1", "1") and 0 < float(line[2]) < 2.4
    final = FINAL_LINE.search(first.stdout)
    assert final and 0.3 < float(final.group(2)) <= 1  # 640 images: well above chance
    assert {"config.json", "metrics.jsonl", "summary.json", "samples.png", "curves.png",
            "confusion_matrix.png", "checkpoint.npz", "wandb"} <= {p.name for p in out.iterdir()}
    assert list((out / "wandb").glob("offline-run-*/*.wandb"))
    config = json.loads((out / "config.json").read_text())
    assert (config["channels"], config["limit_train"]) == (32, 640)
    assert "0.weight" in nn.load(out / "checkpoint.npz")["model"]

    resumed = run_example("fashion_mnist_cnn.py", "--resume", out, "-e", "2",
                          "--wandb-mode", "disabled", timeout=900)
    assert resumed.returncode == 0, resumed.stderr
    assert [epoch for epoch, *_ in EPOCH_LINE.findall(resumed.stdout)] == ["2"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "finished" and summary["epochs_completed"] == 2
    assert np.array(summary["confusion_matrix"]).sum() == 10_000


@pytest.mark.needs_data
def test_divergence_stops_with_exit_status_1(tmp_path, run_example):
    out = tmp_path / "run"
    result = run_example("fashion_mnist_cnn.py", "-e", "1", "--limit-train", "640", "-o", "sgd",
                         "-lr", "1e6", "--wandb-mode", "disabled", "--out", out, timeout=600)
    assert result.returncode == EXIT_FAILED
    assert re.search(r"the loss became (nan|inf|-inf) in epoch 1", result.stderr), result.stderr
    assert "Traceback" not in result.stderr
    assert json.loads((out / "summary.json").read_text())["status"] == "diverged"


@pytest.mark.needs_data
def test_the_captured_batchnorm_preset_gives_the_eager_numbers_bit_for_bit(tmp_path):
    # BatchNorm's running statistics (updated at every replay), dropout and shifted images;
    # 3 batches of 32 and one of 4 per epoch, so both sizes are replayed in epoch 2
    config = parse(["--preset", "batchnorm", "-c", "4", "-sz", "16", "-b", "32", "-e", "2",
                    "--limit-train", "100"]).config
    results = {}
    for capture in (True, False):
        results[capture] = fashion_mnist_cnn.train(config, RunOptions(
            out_dir=tmp_path / str(capture), wandb_mode="disabled", quiet=True, figures=False,
            save=True, capture=capture))
    captured, eager = results[True], results[False]
    assert (captured["captured_step"], eager["captured_step"]) == (True, False)
    for a, b in zip(captured["history"], eager["history"], strict=True):
        assert {k: v for k, v in a.items() if k != "epoch_time_s"} == \
            {k: v for k, v in b.items() if k != "epoch_time_s"}
    assert captured["test_loss"] == eager["test_loss"]
    states = [nn.load(tmp_path / str(capture) / "checkpoint.npz")["model"]
              for capture in (True, False)]
    assert "1.running_mean" in states[0]
    for name, value in states[0].items():
        np.testing.assert_array_equal(np.asarray(value), np.asarray(states[1][name]))
