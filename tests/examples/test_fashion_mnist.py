"""examples/fashion_mnist.py: flags, configuration, model and optimizer building, wandb
fallbacks, and short end-to-end runs on the real data (NaN guard, Ctrl-C and resume)."""

from __future__ import annotations

import json
import math
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import tinygrad_fm as tg
from tinygrad_fm import nn, optim
from tinygrad_fm.nn import functional as F

import fashion_mnist
from experiment.cli import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE
from experiment.config import ConfigError, RunOptions, parse_command_line
from experiment.data import RandomShift, training_transform
from experiment.tracking import start_wandb
from experiment.training import (LOSSES, TrainingDiverged, TrainingInterrupted,
                                 build_optimizer, build_scheduler, confusion_matrix, evaluate,
                                 squared_error_loss)
from fashion_mnist import MLPConfig, build_model

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "examples" / "fashion_mnist.py"
EPOCH_LINE = re.compile(
    r"epoch (\d+)/(\d+): train_loss=([\d.]+) train_accuracy=([\d.]+) "
    r"val_loss=([\d.]+) val_accuracy=([\d.]+)")
DEFAULTS = MLPConfig().as_dict()


def parse(argv):
    return parse_command_line(fashion_mnist.parser(), MLPConfig, argv)


def model_of(config: dict):
    return build_model(MLPConfig.from_mapping(config))


def train(config, **options):
    """fashion_mnist.train with the run options as keywords."""
    return fashion_mnist.train(config, RunOptions(**options))


# ----------------------------------------------------------------------------- flags

# (short flag, long flag, typed value, config key, expected value)
FLAGS = [
    ("-wp", "--wandb_project", "proj", "wandb_project", "proj"),
    ("-we", "--wandb_entity", "team", "wandb_entity", "team"),
    ("-d", "--dataset", "mnist", "dataset", "mnist"),
    ("-e", "--epochs", "3", "epochs", 3),
    ("-b", "--batch_size", "32", "batch_size", 32),
    ("-l", "--loss", "mean_squared_error", "loss", "mean_squared_error"),
    ("-o", "--optimizer", "nag", "optimizer", "nag"),
    ("-lr", "--learning_rate", "0.01", "learning_rate", 0.01),
    ("-m", "--momentum", "0.5", "momentum", 0.5),
    ("-beta", "--beta", "0.8", "beta", 0.8),
    ("-beta1", "--beta1", "0.85", "beta1", 0.85),
    ("-beta2", "--beta2", "0.99", "beta2", 0.99),
    ("-eps", "--epsilon", "1e-6", "epsilon", 1e-6),
    ("-w_d", "--weight_decay", "0.0005", "weight_decay", 0.0005),
    ("-w_i", "--weight_init", "He", "weight_init", "He"),
    ("-nhl", "--num_layers", "3", "num_layers", 3),
    ("-sz", "--hidden_size", "64", "hidden_size", 64),
    ("-a", "--activation", "ReLU", "activation", "ReLU"),
]


@pytest.mark.parametrize("short, long, text, key, expected", FLAGS, ids=[f[1] for f in FLAGS])
def test_every_assignment_flag_has_a_short_and_a_long_form(short, long, text, key, expected):
    for flag in (short, long):
        command = parse([flag, text])
        assert getattr(command.config, key) == expected
        assert key in command.options.explicit
        # every other key keeps its default
        assert {k: v for k, v in command.config.as_dict().items() if k != key} == \
            {k: v for k, v in DEFAULTS.items() if k != key}


def test_defaults_are_the_assignments_best_configuration():
    config = parse([]).config
    assert {k: getattr(config, k) for k in FLAG_DEFAULTS} == FLAG_DEFAULTS
    assert config.run_name().startswith("hl_4_sz_128_bs_64_ac_tanh_opt_adam")
    assert config.lr_schedule == "cosine" and config.dropout == 0


def test_the_default_cosine_schedule_anneals_from_the_learning_rate_to_zero():
    config = MLPConfig(epochs=2)
    model = build_model(config)
    optimizer = build_optimizer(config, model.parameters())
    scheduler = build_scheduler(config, optimizer, steps_per_epoch=5)
    assert isinstance(scheduler, optim.lr_scheduler.CosineAnnealingLR)
    rates = [optimizer.param_groups[0]["lr"]]
    for _ in range(10):
        optimizer.step()
        scheduler.step()
        rates.append(optimizer.param_groups[0]["lr"])
    assert rates[0] == pytest.approx(1e-3) and rates[-1] == pytest.approx(0, abs=1e-12)
    assert rates[5] == pytest.approx(0.5e-3)
    assert all(a > b for a, b in zip(rates, rates[1:]))


FLAG_DEFAULTS = {
    "wandb_project": "tinygrad-fm", "wandb_entity": None, "dataset": "fashion_mnist",
    "epochs": 10, "batch_size": 64, "loss": "cross_entropy", "optimizer": "adam",
    "learning_rate": 1e-3, "momentum": 0.9, "beta": 0.9, "beta1": 0.9, "beta2": 0.999,
    "epsilon": 1e-8, "weight_decay": 0.0, "weight_init": "Xavier", "num_layers": 4,
    "hidden_size": 128, "activation": "tanh",
}


@pytest.mark.parametrize("flag, typed, key, canonical", [
    ("-a", "relu", "activation", "ReLU"),
    ("-a", "TANH", "activation", "tanh"),
    ("-w_i", "xavier", "weight_init", "Xavier"),
    ("-w_i", "he", "weight_init", "He"),
    ("-w_i", "RANDOM", "weight_init", "random"),
    ("-o", "NAdam", "optimizer", "nadam"),
    ("-o", "RMSProp", "optimizer", "rmsprop"),
    ("-d", "MNIST", "dataset", "mnist"),
    ("-l", "Mean_Squared_Error", "loss", "mean_squared_error"),
    ("--lr-schedule", "OneCycle", "lr_schedule", "onecycle"),
])
def test_choices_accept_any_letter_case(flag, typed, key, canonical):
    assert getattr(parse([flag, typed]).config, key) == canonical


@pytest.mark.parametrize("argv, message", [
    (["-a", "softplus"], "argument -a/--activation: invalid choice: 'softplus'"),
    (["-o", "lbfgs"], "argument -o/--optimizer: invalid choice: 'lbfgs'"),
    (["-w_i", "orthogonal"], "argument -w_i/--weight_init: invalid choice: 'orthogonal'"),
    (["-d", "cifar10"], "argument -d/--dataset: invalid choice: 'cifar10'"),
    (["-e", "ten"], "argument -e/--epochs: invalid int value: 'ten'"),
    (["-e", "0"], "epochs: must be at least 1, got 0"),
    (["-lr", "-1"], "learning_rate: expected a finite number >= 0"),
    (["--dropout", "1"], "dropout: expected a number in [0, 1)"),
    (["-beta1", "1.5"], "beta1: expected a number in [0, 1)"),
    (["--nonsense"], "unrecognized arguments: --nonsense"),
])
def test_bad_options_give_argparse_errors(capsys, argv, message):
    with pytest.raises(SystemExit) as exit_info:
        parse(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage:")
    assert message in err


def test_an_invalid_choice_lists_the_valid_ones(capsys):
    with pytest.raises(SystemExit):
        parse(["-a", "gelu"])
    err = capsys.readouterr().err
    choices = re.search(r"\(choose from (.*)\)", err).group(1)
    assert [c.strip(" '") for c in choices.split(",")] == ["identity", "sigmoid", "tanh", "ReLU"]


def test_help_documents_random_init_and_extras(capsys):
    with pytest.raises(SystemExit) as exit_info:
        parse(["--help"])
    assert exit_info.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "random = normal with std 0.01" in text
    for option in ("--seed", "--data-dir", "--wandb-mode", "--out", "--save", "--resume",
                   "--quiet", "--limit-train", "--preset"):
        assert option in text


def test_preset_best_is_overridden_by_explicit_flags():
    command = parse(["--preset", "best", "-e", "3", "-sz", "256"])
    config = command.config
    expected = dict(MLPConfig.PRESETS["best"], epochs=3, hidden_size=256)
    assert {k: getattr(config, k) for k in expected} == expected
    assert config.optimizer == "adamw" and config.lr_schedule == "onecycle"
    assert config.dropout > 0
    assert command.preset == "best" and set(expected) <= command.options.explicit


def test_extra_run_options():
    command = parse(
        ["--seed", "7", "--data-dir", "/data", "--wandb-mode", "offline", "--out", "o",
         "--save", "--resume", "o/checkpoint.npz", "--quiet", "--limit-train", "500",
         "--no-capture"])
    options = command.options
    assert (command.config.seed, options.data_dir, options.wandb_mode, options.out_dir,
            options.save, options.resume, options.quiet, command.config.limit_train,
            options.capture) == \
        (7, "/data", "offline", "o", True, "o/checkpoint.npz", True, 500, False)
    plain = parse([])
    assert (plain.options.wandb_mode, plain.options.out_dir, plain.options.save,
            plain.options.resume, plain.options.quiet, plain.config.limit_train,
            plain.options.capture) == (None, None, False, None, False, None, True)
    # a run option, not a setting: the configuration (and so --resume's check) ignores it
    assert parse(["--no_capture"]).config == plain.config
    assert parse(["--no_capture"]).options.explicit == plain.options.explicit


# ----------------------------------------------------------------------------- configuration


def test_from_mapping_takes_sweep_style_dicts():
    config = MLPConfig.from_mapping({"epochs": 5, "num_layers": 3, "hidden_size": 64,
                                    "weight_decay": 0.0005, "learning_rate": 1e-3,
                                    "optimizer": "NADAM", "batch_size": 32,
                                    "weight_init": "xavier", "activation": "relu",
                                    "learning-rate": 3e-3})
    assert config.optimizer == "nadam" and config.activation == "ReLU"
    assert config.weight_init == "Xavier" and config.learning_rate == 3e-3
    assert config.epochs == 5 and config.loss == "cross_entropy"


@pytest.mark.parametrize("bad, message", [
    ({"hidden_layers": 3}, "unknown configuration key 'hidden_layers'"),
    ({"activation": "swish"}, "activation: 'swish' is not one of"),
    ({"epochs": 2.5}, "epochs: expected an integer"),
    ({"batch_size": True}, "batch_size: expected an integer"),
    ({"learning_rate": "fast"}, "learning_rate: expected a number"),
    ({"weight_decay": float("nan")}, "weight_decay: expected a finite number"),
])
def test_from_mapping_rejects_bad_values_by_name(bad, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        MLPConfig.from_mapping(bad)


def test_a_config_is_frozen_and_validated_however_it_is_built():
    with pytest.raises(ConfigError, match="hidden_size: must be at least 1"):
        MLPConfig(hidden_size=0)
    config = MLPConfig(activation="relu")
    assert config.activation == "ReLU"
    with pytest.raises(AttributeError):
        config.epochs = 3
    with pytest.raises(ConfigError, match="dropout: expected a number in"):
        config.replace(dropout=1.0)


@pytest.mark.parametrize("name, cls, expected", [
    ("sgd", optim.SGD, {"lr": 0.05, "momentum": 0, "nesterov": False, "weight_decay": 1e-4}),
    ("momentum", optim.SGD, {"lr": 0.05, "momentum": 0.8, "nesterov": False,
                             "weight_decay": 1e-4}),
    ("nag", optim.SGD, {"lr": 0.05, "momentum": 0.8, "nesterov": True, "weight_decay": 1e-4}),
    ("rmsprop", optim.RMSprop, {"lr": 0.05, "alpha": 0.7, "eps": 1e-6, "weight_decay": 1e-4}),
    ("adam", optim.Adam, {"lr": 0.05, "betas": (0.85, 0.95), "eps": 1e-6,
                          "weight_decay": 1e-4}),
    ("nadam", optim.NAdam, {"lr": 0.05, "betas": (0.85, 0.95), "eps": 1e-6,
                            "weight_decay": 1e-4}),
    ("adamw", optim.AdamW, {"lr": 0.05, "betas": (0.85, 0.95), "eps": 1e-6,
                            "weight_decay": 1e-4}),
])
def test_each_optimizer_name_builds_the_right_optimizer(name, cls, expected):
    config = parse(["-o", name.upper(), "-lr", "0.05", "-m", "0.8", "-beta", "0.7",
                    "-beta1", "0.85", "-beta2", "0.95", "-eps", "1e-6", "-w_d", "1e-4"]).config
    model = build_model(config)
    optimizer = build_optimizer(config, model.parameters())
    assert type(optimizer) is cls
    group = optimizer.param_groups[0]
    assert {k: group[k] for k in expected} == expected
    assert len(group["params"]) == 2 * (config.num_layers + 1)


def test_onecycle_schedule_peaks_at_the_learning_rate():
    config = MLPConfig(lr_schedule="onecycle", learning_rate=0.01, epochs=2, optimizer="adamw")
    model = build_model(config)
    optimizer = build_optimizer(config, model.parameters())
    scheduler = build_scheduler(config, optimizer, steps_per_epoch=10)
    assert isinstance(scheduler, optim.lr_scheduler.OneCycleLR)
    assert scheduler.total_steps == 20
    rates = []
    for _ in range(19):
        optimizer.step()
        scheduler.step()
        rates.append(optimizer.param_groups[0]["lr"])
    assert max(rates) == pytest.approx(0.01)
    assert rates[-1] < 1e-4
    assert build_scheduler(MLPConfig(lr_schedule="constant"), optimizer, 10) is None


# ----------------------------------------------------------------------------- model


@pytest.mark.parametrize("activation, cls", [("identity", nn.Identity), ("sigmoid", nn.Sigmoid),
                                             ("tanh", nn.Tanh), ("ReLU", nn.ReLU)])
def test_model_layout(activation, cls):
    model = model_of({"num_layers": 3, "hidden_size": 32, "activation": activation,
                                "dropout": 0.25})
    linears = [m for m in model if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == \
        [(784, 32), (32, 32), (32, 32), (32, 10)]
    assert sum(isinstance(m, cls) for m in model) == 3
    assert [m.p for m in model if isinstance(m, nn.Dropout)] == [0.25] * 3
    assert isinstance(model[-1], nn.Linear)
    logits = model(tg.Tensor(np.zeros((5, 784), np.float32)))
    assert logits.shape == (5, 10) and logits.dtype == np.float32


def test_zero_hidden_layers_is_softmax_regression():
    model = model_of({"num_layers": 0})
    assert len(model) == 1 and (model[0].in_features, model[0].out_features) == (784, 10)


@pytest.mark.parametrize("scheme, activation, expected_std", [
    ("random", "tanh", lambda fan_in, fan_out: 0.01),
    ("Xavier", "tanh", lambda fan_in, fan_out: math.sqrt(2 / (fan_in + fan_out))),
    ("He", "ReLU", lambda fan_in, fan_out: math.sqrt(2 / fan_in)),
    ("He", "tanh", lambda fan_in, fan_out: (5 / 3) / math.sqrt(fan_in)),
])
def test_weight_initialisation(scheme, activation, expected_std):
    tg.manual_seed(0)
    model = model_of({"num_layers": 2, "hidden_size": 400, "weight_init": scheme,
                                "activation": activation})
    for layer in [m for m in model if isinstance(m, nn.Linear)][:2]:
        weight = layer.weight.data
        std = expected_std(layer.in_features, layer.out_features)
        assert weight.dtype == np.float32
        assert abs(weight.mean()) < 0.05 * std
        assert weight.std() == pytest.approx(std, rel=0.03)
        assert np.all(layer.bias.data == 0)
    if scheme == "Xavier":  # Glorot's uniform scheme: bounded by sqrt(6 / (fan_in + fan_out))
        first = model[0]
        assert np.abs(first.weight.data).max() <= math.sqrt(6 / (784 + 400))


def test_same_seed_same_initial_weights():
    tg.manual_seed(3)
    a = model_of({}).state_dict()
    tg.manual_seed(3)
    b = model_of({}).state_dict()
    assert all(np.array_equal(a[k], b[k]) for k in a)


def test_random_shift_moves_whole_images_within_the_limit():
    rng = np.random.default_rng(0)
    images = rng.integers(1, 256, (200, 28, 28), dtype=np.uint8)  # no zero pixels
    tg.manual_seed(1)
    shifted = RandomShift(2)(images)
    assert shifted.dtype == np.float32 and shifted.shape == (200, 784)
    shifted = np.rint(shifted.reshape(200, 28, 28) * 255).astype(np.int64)
    seen = set()
    for image, out in zip(images.astype(np.int64), shifted):
        matches = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)
                   if np.array_equal(out[max(dy, 0):28 + min(dy, 0), max(dx, 0):28 + min(dx, 0)],
                                     image[max(-dy, 0):28 + min(-dy, 0),
                                           max(-dx, 0):28 + min(-dx, 0)])]
        assert len(matches) == 1
        (dy, dx), = matches
        assert np.count_nonzero(out == 0) == 28 * 28 - (28 - abs(dy)) * (28 - abs(dx))
        seen.add((dy, dx))
    assert len(seen) == 25  # every shift in [-2, 2]^2 occurs
    tg.manual_seed(1)
    again = RandomShift(2)(images)
    assert np.array_equal(np.rint(again.reshape(200, 28, 28) * 255), shifted)
    assert training_transform(0) is tg.utils.data.to_float_flat
    assert parse(["--augment-shift", "2"]).config.augment_shift == 2


def test_squared_error_loss_is_mean_over_samples_and_classes():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(6, 10)).astype(np.float32)
    labels = rng.integers(0, 10, 6)
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    expected = np.mean((probabilities - np.eye(10)[labels]) ** 2)
    loss = LOSSES[MLPConfig.check_value("loss", "MEAN_SQUARED_ERROR")](tg.Tensor(logits), labels)
    assert loss.dtype == np.float32
    assert loss.item() == pytest.approx(expected, rel=1e-5)
    x = tg.Tensor(logits, requires_grad=True)
    squared_error_loss(x, labels).backward()
    assert x.grad.shape == (6, 10) and np.abs(x.grad.data).sum() > 0


def test_evaluate_and_confusion_matrix():
    model = model_of({"num_layers": 1, "hidden_size": 8})
    images = np.random.default_rng(1).integers(0, 256, (30, 28, 28), dtype=np.uint8)
    labels = np.arange(30) % 10
    loss, accuracy, predicted = evaluate(model, images, labels, F.cross_entropy, batch_size=7)
    x = tg.Tensor(images.reshape(30, -1).astype(np.float32) / 255)
    logits = model(x)
    assert loss == pytest.approx(F.cross_entropy(logits, labels).item(), rel=1e-5)
    assert np.array_equal(predicted, logits.data.argmax(axis=1))
    assert accuracy == pytest.approx(np.mean(predicted == labels))
    counts = confusion_matrix(labels, predicted, 10)
    assert counts.sum() == 30 and np.trace(counts) == np.sum(predicted == labels)
    assert counts[labels[0], predicted[0]] >= 1


# ----------------------------------------------------------------------------- wandb


@pytest.mark.parametrize("logged_in, env_mode, mode, expected", [
    (False, None, None, "offline"),
    (True, None, None, "online"),
    (False, None, "online", "offline"),
    (True, "offline", None, "offline"),
    (True, None, "offline", "offline"),
])
def test_wandb_mode_selection_never_prompts(monkeypatch, tmp_path, fake_wandb, logged_in,
                                            env_mode, mode, expected):
    fake_wandb(logged_in)
    if env_mode:
        monkeypatch.setenv("WANDB_MODE", env_mode)
    else:
        monkeypatch.delenv("WANDB_MODE", raising=False)
    lines = []
    run = start_wandb(DEFAULTS, mode=mode, out_dir=tmp_path, name="n",
                             log=lines.append)
    assert run.kwargs["mode"] == expected
    assert run.kwargs["dir"] == str(tmp_path) and run.kwargs["project"] == "tinygrad-fm"
    assert run.kwargs["config"]["num_layers"] == 4
    fell_back = not logged_in and mode in (None, "online")
    assert len(lines) == (1 if fell_back else 0)
    if fell_back:
        assert "no API key" in lines[0] and f"wandb sync {tmp_path / 'wandb'}" in lines[0]


def test_wandb_disabled_or_missing(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "wandb", None)  # `import wandb` raises ImportError
    monkeypatch.delenv("WANDB_MODE", raising=False)
    lines = []
    config = DEFAULTS
    assert start_wandb(config, mode=None, out_dir=tmp_path, name="n",
                              log=lines.append) is None
    assert lines == ["wandb is not installed (pip install wandb); continuing without it"]
    lines.clear()
    assert start_wandb(config, mode="disabled", out_dir=tmp_path, name="n",
                              log=lines.append) is None
    monkeypatch.setenv("WANDB_MODE", "disabled")
    assert start_wandb(config, mode=None, out_dir=tmp_path, name="n",
                              log=lines.append) is None
    assert lines == []


# ----------------------------------------------------------------------------- end to end


@pytest.mark.needs_data
def test_one_short_epoch_end_to_end(tmp_path, run_example):
    out = tmp_path / "run"
    result = run_example("fashion_mnist.py", "-e", "1", "--limit-train", "3000", "--wandb-mode", "offline",
                        "--out", out, "--save", "-a", "relu", "-w_i", "he")
    assert result.returncode == 0, result.stderr
    (line,) = [m for m in EPOCH_LINE.finditer(result.stdout)]
    epoch, epochs, train_loss, train_acc, val_loss, val_acc = line.groups()
    assert (epoch, epochs) == ("1", "1")
    assert 0 < float(train_loss) < 2.3 and 0 < float(val_loss) < 2.3
    assert 0.5 < float(train_acc) <= 1 and 0.6 < float(val_acc) <= 1
    final = re.search(r"test_loss=([\d.]+) test_accuracy=([\d.]+)", result.stdout)
    assert final and 0.6 < float(final.group(2)) <= 1

    expected_files = {"config.json", "metrics.jsonl", "summary.json", "samples.png",
                      "confusion_matrix.png", "curves.png", "checkpoint.npz", "wandb"}
    assert expected_files <= {p.name for p in out.iterdir()}
    for png in ("samples.png", "confusion_matrix.png", "curves.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    config = json.loads((out / "config.json").read_text())
    assert (config["activation"], config["weight_init"], config["limit_train"]) == \
        ("ReLU", "He", 3000)
    (record,) = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert record["epoch"] == 1
    assert f"{record['val_accuracy']:.4f}" == val_acc
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "finished" and summary["epochs_completed"] == 1
    assert f"{summary['test_accuracy']:.4f}" == final.group(2)
    counts = np.array(summary["confusion_matrix"])
    assert counts.shape == (10, 10) and counts.sum() == 10_000
    assert np.trace(counts) / 10_000 == pytest.approx(summary["test_accuracy"])
    checkpoint = nn.load(out / "checkpoint.npz")
    assert checkpoint["epoch"] == 1 and "0.weight" in checkpoint["model"]

    runs = list((out / "wandb").glob("offline-run-*"))
    assert len(runs) == 1
    assert list(runs[0].glob("*.wandb")), "the offline run holds no .wandb log"
    assert summary["wandb_dir"] == str(runs[0])


@pytest.mark.needs_data
def test_a_captured_run_gives_the_eager_runs_numbers_bit_for_bit(tmp_path):
    # dropout (masks drawn at every replay), the squared-error loss (one-hot rows made
    # from each batch's labels), shifted images, a one-cycle schedule stepped outside the
    # step, and a last batch of another size (2000 = 31 x 64 + 16)
    config = {"epochs": 2, "limit_train": 2000, "dropout": 0.2, "loss": "mean_squared_error",
              "augment_shift": 2, "optimizer": "nadam", "lr_schedule": "onecycle",
              "num_layers": 2, "hidden_size": 32}
    results = {}
    for capture in (True, False):
        results[capture] = train(config, out_dir=tmp_path / str(capture), quiet=True,
                                 figures=False, save=True, capture=capture)
    captured, eager = results[True], results[False]
    assert (captured["captured_step"], eager["captured_step"]) == (True, False)
    for a, b in zip(captured["history"], eager["history"]):
        assert {k: v for k, v in a.items() if k != "epoch_time_s"} == \
            {k: v for k, v in b.items() if k != "epoch_time_s"}
    assert (captured["test_loss"], captured["confusion_matrix"]) == \
        (eager["test_loss"], eager["confusion_matrix"])
    weights = [nn.load(tmp_path / str(capture) / "checkpoint.npz")["model"]
               for capture in (True, False)]
    for name, value in weights[0].items():
        np.testing.assert_array_equal(np.asarray(value), np.asarray(weights[1][name]))


@pytest.mark.needs_data
def test_nan_guard_stops_with_a_clear_message(tmp_path, run_example):
    out = tmp_path / "run"
    result = run_example("fashion_mnist.py", "-e", "2", "--limit-train", "2000", "--wandb-mode", "disabled",
                        "-o", "sgd", "-a", "relu", "-lr", "1e6", "--out", out)
    assert result.returncode == EXIT_FAILED
    assert "Traceback" not in result.stderr
    message = re.search(r"the loss became (nan|inf|-inf) in epoch 1, step (\d+)", result.stderr)
    assert message, result.stderr
    assert "smaller learning rate" in result.stderr and "-lr 100000" in result.stderr
    assert "RuntimeWarning" not in result.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "diverged" and "epoch 1" in summary["error"]
    assert summary["epochs_completed"] == 0


@pytest.mark.needs_data
def test_train_raises_training_diverged_and_marks_the_wandb_run_failed(tmp_path, fake_wandb):
    module = fake_wandb(logged_in=False)
    with pytest.raises(TrainingDiverged) as error:
        train({"optimizer": "sgd", "activation": "ReLU", "learning_rate": 1e6,
                      "limit_train": 1000, "epochs": 1}, out_dir=tmp_path, quiet=True,
                     figures=False, log=lambda *a: None)
    assert error.value.epoch == 1 and isinstance(error.value.step, int)
    assert not math.isfinite(error.value.value)
    (run,) = module.runs
    assert run.exit_code == 1 and run.summary["status"] == "diverged"


@pytest.mark.needs_data
def test_a_run_logs_its_name_config_metrics_and_figures_to_wandb(tmp_path, fake_wandb):
    module = fake_wandb(logged_in=True)
    config = MLPConfig(epochs=2, limit_train=500, num_layers=1, hidden_size=16)
    result = train(config, out_dir=tmp_path, quiet=True, log=lambda *a: None)
    (run,) = module.runs
    assert run.kwargs["mode"] == "online"
    assert run.kwargs["name"] == "hl_1_sz_16_bs_64_ac_tanh_opt_adam_lr_0.001_wd_0_wi_xavier"
    assert run.kwargs["config"] == config.as_dict()  # the full configuration
    (samples_step, samples), *epochs, (final_step, final) = run.logged
    assert samples_step == 0 and samples == {"samples": ("image", "samples.png")}
    assert [step for step, _ in epochs] == [1, 2] and final_step == 2
    assert [record for _, record in epochs] == result["history"]
    assert {"epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy"} <= set(
        epochs[0][1])
    assert (final["test_loss"], final["test_accuracy"]) == (result["test_loss"],
                                                            result["test_accuracy"])
    kind, arguments = final["confusion_matrix"]  # wandb.plot.confusion_matrix
    assert kind == "confusion_matrix" and arguments["class_names"] == result["classes"]
    assert len(arguments["y_true"]) == len(arguments["preds"]) == 10_000
    assert final["confusion_matrix_heatmap"] == ("image", "confusion_matrix.png")
    assert final["curves"] == ("image", "curves.png")
    assert run.summary["test_accuracy"] == result["test_accuracy"]
    assert run.summary["status"] == "finished" and run.exit_code is None  # finished


@pytest.mark.needs_data
def test_ctrl_c_finishes_the_wandb_run_marked_failed(tmp_path, fake_wandb):
    module = fake_wandb(logged_in=False)

    def ctrl_c(record):
        raise KeyboardInterrupt

    with pytest.raises(TrainingInterrupted) as stopped:
        train({"epochs": 3, "limit_train": 500}, out_dir=tmp_path, quiet=True,
                     figures=False, save=True, on_epoch_end=ctrl_c, log=lambda *a: None)
    assert stopped.value.checkpoint_epoch == 1
    (run,) = module.runs
    assert run.exit_code == 1 and run.summary["status"] == "interrupted"


@pytest.mark.needs_data
def test_the_progress_bar_of_each_epoch_shows_the_running_loss(monkeypatch, tmp_path):
    import tqdm.auto

    bars = []

    class RecordingBar:
        def __init__(self, iterable, **kwargs):
            self.iterable, self.kwargs, self.postfixes, self.closed = iterable, kwargs, [], False
            bars.append(self)

        def __iter__(self):
            return iter(self.iterable)

        def set_postfix(self, refresh=True, **values):
            self.postfixes.append(values)

        def close(self):
            self.closed = True

    monkeypatch.setattr(tqdm.auto, "tqdm", RecordingBar)
    result = train({"epochs": 2, "limit_train": 800, "batch_size": 16}, out_dir=tmp_path,
                          wandb_mode="disabled", figures=False, log=lambda *a: None)
    assert [bar.kwargs["desc"] for bar in bars] == ["epoch 1/2", "epoch 2/2"]
    assert all(bar.kwargs["total"] == 50 and not bar.kwargs["disable"] and bar.closed
               for bar in bars)
    for bar, record in zip(bars, result["history"]):
        assert len(bar.postfixes) == 2  # every 25 of the 50 batches
        assert float(bar.postfixes[-1]["loss"]) == pytest.approx(record["train_loss"], abs=1e-4)


def _metrics(folder: Path) -> list:
    records = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]
    for record in records:
        record.pop("epoch_time_s")
    return records


@pytest.mark.needs_data
def test_interrupt_then_resume_matches_an_uninterrupted_run(tmp_path):
    # dropout and augmentation draw random numbers: the resumed run must draw the same ones
    config = {"epochs": 3, "limit_train": 1500, "dropout": 0.2, "augment_shift": 1, "seed": 5}
    quiet = dict(wandb_mode="disabled", quiet=True, figures=False)
    straight = train(config, out_dir=tmp_path / "straight", **quiet)

    def stop_after_first_epoch(record):
        if record["epoch"] == 1:
            raise KeyboardInterrupt

    with pytest.raises(TrainingInterrupted) as stopped:
        train(config, out_dir=tmp_path / "stopped", save=True,
                     on_epoch_end=stop_after_first_epoch, **quiet)
    assert stopped.value.checkpoint_epoch == 1
    assert stopped.value.checkpoint == tmp_path / "stopped" / "checkpoint.npz"
    summary = json.loads((tmp_path / "stopped" / "summary.json").read_text())
    assert summary["status"] == "interrupted"

    with pytest.raises(ConfigError, match="hidden_size: checkpoint 128, requested 64"):
        train({"hidden_size": 64}, resume=tmp_path / "stopped", **quiet)

    resumed = train(None, resume=tmp_path / "stopped", **quiet)
    assert resumed["out_dir"] == str(tmp_path / "stopped")
    assert _metrics(tmp_path / "stopped") == _metrics(tmp_path / "straight")
    assert resumed["test_loss"] == straight["test_loss"]
    assert resumed["test_accuracy"] == straight["test_accuracy"]
    assert resumed["confusion_matrix"] == straight["confusion_matrix"]


@pytest.mark.needs_data
def test_ctrl_c_keeps_the_last_checkpoint_and_resume_continues(tmp_path, run_example):
    out = tmp_path / "run"
    # A constant rate, so that the resumed run may change the number of epochs.
    command = [sys.executable, str(SCRIPT), "-e", "500", "--limit-train", "1000",
               "--lr-schedule", "constant", "--wandb-mode", "disabled", "--save",
               "--out", str(out), "-q"]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not (out / "checkpoint.npz").exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "no checkpoint appeared"
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == EXIT_INTERRUPTED, stderr
    assert "Traceback" not in stderr
    assert not EPOCH_LINE.search(stdout)  # --quiet
    match = re.search(r"the checkpoint of epoch (\d+) is kept in (\S+); continue with "
                      r"--resume (\S+)", stderr)
    assert match, stderr
    kept = int(match.group(1))
    assert kept >= 1 and Path(match.group(3)) == out / "checkpoint.npz"
    assert nn.load(out / "checkpoint.npz")["epoch"] == kept
    assert json.loads((out / "summary.json").read_text())["status"] == "interrupted"

    # Continue for one more epoch (only --epochs may change on resume).
    result = run_example("fashion_mnist.py", "--resume", out, "-e", kept + 1, "--wandb-mode", "disabled")
    assert result.returncode == 0, result.stderr
    lines = EPOCH_LINE.findall(result.stdout)
    assert [int(epoch) for epoch, *_ in lines] == [kept + 1]
    assert len((out / "metrics.jsonl").read_text().splitlines()) == kept + 1
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "finished" and summary["epochs_completed"] == kept + 1

    refused = run_example("fashion_mnist.py", "--resume", out, "-a", "relu", "--wandb-mode", "disabled")
    assert refused.returncode == EXIT_USAGE
    assert "activation: checkpoint 'tanh', requested 'ReLU'" in refused.stderr


@pytest.mark.needs_data
def test_a_scheduled_run_cannot_change_its_length_on_resume(tmp_path):
    train({"epochs": 1, "limit_train": 500}, out_dir=tmp_path, save=True,
                 wandb_mode="disabled", quiet=True, figures=False)
    with pytest.raises(ConfigError, match="cosine learning-rate schedule is laid out "
                                                 "for the original number of epochs"):
        train({"epochs": 2}, resume=tmp_path, wandb_mode="disabled", quiet=True)


@pytest.mark.needs_data
def test_without_matplotlib_it_trains_and_says_why_there_are_no_figures(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    lines = []
    result = train({"epochs": 1, "limit_train": 500}, out_dir=tmp_path,
                          wandb_mode="disabled", quiet=True, log=lines.append)
    assert result["status"] == "finished"
    assert lines == ["matplotlib is not installed (pip install matplotlib); no figures are "
                     "written"]
    assert not list(tmp_path.glob("*.png"))
    assert (tmp_path / "summary.json").is_file()
