"""examples/experiment: the machinery serves a second model without copying (its own
flags, its own loop, the same run folder, checkpoints, resume and exit codes)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from experiment.cli import EXIT_INTERRUPTED, EXIT_USAGE, exit_status
from experiment.config import (MORE, ConfigError, ImageConfig, RunOptions, build_parser,
                               flag, parse_command_line)
from experiment.data import RandomShift, to_float_images, training_transform
from experiment.files import append_json_line, read_json_lines
from experiment.training import (LOSSES, TrainingInterrupted, TrainingRun, build_optimizer,
                                 build_scheduler, evaluate, format_epoch)
from tinygrad_fm import nn
import tinygrad_fm as tg
from tinygrad_fm.utils.data import DataLoader, DistributedSampler, TensorDataset


@dataclass(frozen=True)
class SoftmaxConfig(ImageConfig):
    """A second example's flags: the shared ones and one of its own."""

    temperature: float = flag(1.0, None, "divide the logits by T (default {default})",
                              group=MORE, metavar="T", positive=True)

    def run_name(self) -> str:
        return f"softmax_{self.optimizer}_t{self.temperature:g}"


def train_softmax(config, options: RunOptions = RunOptions()) -> dict:
    """Softmax regression on images kept as (B, 1, 28, 28), with no accuracy metric."""
    with TrainingRun(SoftmaxConfig, config, options) as run:
        config = run.config
        data = run.image_data()
        transform = training_transform(config.augment_shift, then=to_float_images)
        train_set = TensorDataset(data.train_images, data.train_labels)
        loader = DataLoader(train_set, config.batch_size,
                            sampler=DistributedSampler(train_set, seed=config.seed))
        model = nn.Sequential(nn.Flatten(), nn.Linear(data.features, data.num_classes))
        optimizer = build_optimizer(config, model.parameters())
        scheduler = build_scheduler(config, optimizer, len(loader))
        run.start(model, optimizer, scheduler, data)

        def loss_fn(logits, y):
            return LOSSES[config.loss](logits / config.temperature, y)

        for epoch in run.epochs():
            model.train()
            total, seen = 0.0, 0
            for step, (x, y) in enumerate(run.progress(loader, epoch), 1):
                loss = loss_fn(model(tg.Tensor(transform(x.numpy()))), y)
                value = run.check_finite(loss.item(), epoch, step)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                scheduler.step()
                total, seen = total + value * len(y), seen + len(y)
            val_loss, _, _ = evaluate(model, data.val_images, data.val_labels, loss_fn,
                                      transform=to_float_images)
            run.end_epoch(epoch, train_loss=total / seen, val_loss=val_loss)
        test_loss, test_accuracy, predicted = evaluate(
            model, data.test_images, data.test_labels, loss_fn, transform=to_float_images)
        return run.finish(test_loss, test_accuracy, predicted)


def test_a_second_config_gets_the_shared_flags_and_its_own():
    parser = build_parser(SoftmaxConfig, prog="softmax.py", description="d")
    command = parse_command_line(parser, SoftmaxConfig,
                                 ["-o", "SGD", "--temperature", "2", "-e", "3", "--save"])
    assert command.config == SoftmaxConfig(optimizer="sgd", temperature=2.0, epochs=3)
    assert command.options.save and command.options.explicit == {"optimizer", "temperature",
                                                                 "epochs"}
    assert "--preset" not in parser.format_help()  # no presets declared
    with pytest.raises(SystemExit):
        parse_command_line(parser, SoftmaxConfig, ["--temperature", "0"])
    assert SoftmaxConfig.check_value("temperature", "0.5") == 0.5
    with pytest.raises(ConfigError, match="temperature must be positive"):
        SoftmaxConfig.from_mapping({"temperature": 0})


def test_resume_rules_come_from_the_fields():
    saved = SoftmaxConfig(epochs=2, lr_schedule="constant")
    longer = saved.resumed_with(SoftmaxConfig(epochs=5, wandb_project="p",
                                              lr_schedule="constant"))
    assert (longer.epochs, longer.wandb_project) == (5, "p")
    with pytest.raises(ConfigError, match="temperature: checkpoint 1.0, requested 3.0"):
        saved.resumed_with(SoftmaxConfig(temperature=3.0, lr_schedule="constant"))
    # only the keys typed are compared: defaults that differ from the checkpoint are not
    assert saved.resumed_with(SoftmaxConfig(epochs=4), explicit={"epochs"}).epochs == 4
    with pytest.raises(ConfigError, match="cosine learning-rate schedule"):
        SoftmaxConfig(epochs=2).resumed_with(SoftmaxConfig(epochs=3), explicit={"epochs"})


def test_random_shift_keeps_the_image_shape_for_convolutions():
    images = np.full((4, 28, 28), 255, np.uint8)
    shifted = RandomShift(1, then=to_float_images)(images)
    assert shifted.shape == (4, 1, 28, 28) and shifted.dtype == np.float32
    assert to_float_images(images).max() == 1.0


def test_the_epoch_line_lists_the_metrics_recorded():
    record = {"epoch": 2, "train_loss": 0.5, "val_loss": 0.25, "lr": 0.1, "epoch_time_s": 1.5}
    assert format_epoch(record, 3) == "epoch 2/3: train_loss=0.5000 val_loss=0.2500 (1.5 s)"


def test_an_appended_line_never_joins_a_cut_short_one(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text('{"a": 1}\n{"b": ')  # killed while writing
    append_json_line(path, {"c": 3}, sync=True)
    lines = path.read_text().splitlines()
    assert lines[-1] == '{"c": 3}' and len(lines) == 3
    assert read_json_lines(tmp_path / "none.jsonl") == []


@pytest.mark.needs_data
def test_a_second_model_trains_resumes_and_records_like_the_first(tmp_path):
    config = SoftmaxConfig(epochs=2, limit_train=600, optimizer="sgd", learning_rate=0.1,
                           temperature=2.0)
    quiet = dict(wandb_mode="disabled", quiet=True)
    straight = train_softmax(config, RunOptions(out_dir=tmp_path / "straight", **quiet))
    assert straight["run_name"] == "softmax_sgd_t2"
    assert {p.name for p in (tmp_path / "straight").iterdir()} >= {
        "config.json", "metrics.jsonl", "summary.json", "samples.png", "curves.png",
        "confusion_matrix.png"}
    assert json.loads((tmp_path / "straight" / "config.json").read_text())["temperature"] == 2
    assert set(straight["history"][0]) == {"epoch", "train_loss", "val_loss", "lr",
                                           "epoch_time_s"}

    def stop(record):
        raise KeyboardInterrupt

    with pytest.raises(TrainingInterrupted) as stopped:
        train_softmax(config, RunOptions(out_dir=tmp_path / "resumed", save=True,
                                         on_epoch_end=stop, **quiet))
    assert stopped.value.checkpoint_epoch == 1
    resumed = train_softmax(None, RunOptions(resume=tmp_path / "resumed", **quiet))
    assert resumed["test_loss"] == straight["test_loss"]
    assert [r["val_loss"] for r in resumed["history"]] == \
        [r["val_loss"] for r in straight["history"]]


@pytest.mark.needs_data
def test_an_interrupt_with_save_before_the_first_epoch_says_none_is_written_yet(tmp_path):
    def stop_at_once(record):
        raise AssertionError("no epoch should end")

    config = SoftmaxConfig(epochs=1, limit_train=600)
    options = RunOptions(out_dir=tmp_path, save=True, wandb_mode="disabled", quiet=True,
                         on_epoch_end=stop_at_once)
    with pytest.raises(TrainingInterrupted) as stopped:
        with TrainingRun(SoftmaxConfig, config, options) as run:
            data = run.image_data()
            model = nn.Linear(data.features, data.num_classes)
            run.start(model, build_optimizer(run.config, model.parameters()), data=data)
            raise KeyboardInterrupt
    assert "no checkpoint was written yet" in str(stopped.value)
    assert json.loads((tmp_path / "summary.json").read_text())["status"] == "interrupted"


def test_exit_status_maps_errors_to_codes(capsys):
    with exit_status() as status:
        raise ConfigError("epochs: must be at least 1, got 0")
    assert status.code == EXIT_USAGE
    assert capsys.readouterr().err == "error: epochs: must be at least 1, got 0\n"
    with exit_status() as status:
        raise KeyboardInterrupt
    assert status.code == EXIT_INTERRUPTED
    with exit_status() as status:  # Ctrl-C during an import, as Python wraps it
        raise RuntimeError("Error calling __set_name__") from KeyboardInterrupt()
    assert status.code == EXIT_INTERRUPTED
    with pytest.raises(RuntimeError, match="a bug"):
        with exit_status():
            raise RuntimeError("a bug")


@pytest.mark.needs_data
def test_sigterm_stops_a_run_like_ctrl_c(tmp_path):
    out = tmp_path / "run"
    script = Path(__file__).resolve().parents[2] / "examples" / "fashion_mnist.py"
    process = subprocess.Popen(
        [sys.executable, str(script), "-e", "500", "--limit-train", "1000", "--lr-schedule",
         "constant", "--wandb-mode", "disabled", "--save", "--out", str(out), "-q"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not (out / "checkpoint.npz").exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "no checkpoint appeared"
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == EXIT_INTERRUPTED, stderr
    assert "Traceback" not in stderr and "continue with --resume" in stderr
    assert json.loads((out / "summary.json").read_text())["status"] == "interrupted"


# ----------------------------------------------------------------------------- the training step


def _tiny_training(step_body, capture, batches=9, nan_at=None):
    """Train a small MLP with ``TrainingStep(step, capture)`` on batches of 16, 16, 8, ...
    where ``step`` runs ``step_body(loss)`` before the backward pass; returns the losses,
    the final weights, the step and the notes it logged."""
    from experiment.training import TrainingStep
    from tinygrad_fm.nn import functional as F

    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Dropout(0.3), nn.Linear(8, 3))
    optimizer = tg.optim.Adam(model.parameters(), lr=0.01)

    def step(x, y):
        logits = model(x)
        loss = step_body(F.cross_entropy(logits, y))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss, logits

    notes = []
    train_batch = TrainingStep(step, capture, log=notes.append)
    rng = np.random.default_rng(1)
    losses = []
    for index in range(batches):
        size = 8 if index % 3 == 2 else 16
        x = rng.standard_normal((size, 6)).astype(np.float32)
        if index == nan_at:
            x[0, 0] = np.nan
        loss, logits = train_batch(tg.Tensor(x), tg.Tensor(rng.integers(0, 3, size)))
        assert logits.shape == (size, 3)
        losses.append(loss.item())
    return losses, [p.data.copy() for p in model.parameters()], train_batch, notes


def _assert_same(a, b):
    np.testing.assert_array_equal(a[0], b[0])
    for x, y in zip(a[1], b[1]):
        np.testing.assert_array_equal(x, y)


def test_a_captured_training_step_replays_the_eager_one_bit_for_bit():
    captured = _tiny_training(lambda loss: loss, capture=True)
    eager = _tiny_training(lambda loss: loss, capture=False)
    _assert_same(captured, eager)
    assert captured[2].captured and captured[2].replays == 2  # batches of 16 and of 8
    assert not eager[2].captured and captured[3] == eager[3] == []


def test_a_nan_loss_of_a_replayed_step_is_returned():
    losses, _, step, _ = _tiny_training(lambda loss: loss, capture=True, nan_at=7)
    assert step.replays == 2  # batch 7 (of 16) was a replay
    assert np.isnan(losses[7]) and np.isfinite(losses[:7]).all()


def test_a_step_the_jit_refuses_before_the_update_runs_eagerly_after_one_note():
    def reads_a_value(loss):
        float(loss)  # refused while recording: the replay could not read it
        return loss

    refused = _tiny_training(reads_a_value, capture=True)
    eager = _tiny_training(reads_a_value, capture=False)
    _assert_same(refused, eager)  # the refused batch ran again, once
    assert not refused[2].captured
    (note,) = refused[3]
    assert "runs eagerly" in note and "--no-capture" in note and "read it after" in note


def _scaled_by_the_call_count():
    """A step body that scales the loss by a constant made from a call counter, which
    changes between calls: the jit's two recordings differ after the step has run."""
    calls = []

    def body(loss):
        calls.append(None)
        return loss * tg.Tensor(np.float32(1 + len(calls) / 1000))
    return body


def test_a_step_refused_after_it_ran_keeps_its_outputs_and_is_not_run_twice():
    refused = _tiny_training(_scaled_by_the_call_count(), capture=True)
    eager = _tiny_training(_scaled_by_the_call_count(), capture=False)
    _assert_same(refused, eager)  # the second batch was not trained on twice
    assert not refused[2].captured
    (note,) = refused[3]
    assert "runs eagerly" in note and "differ" in note
