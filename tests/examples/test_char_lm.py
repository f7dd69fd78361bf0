"""examples/char_lm.py: the grammar behind its word list, the model against PyTorch's from
the same weights, its flags, and short runs through the shared machinery (run folder,
samples, --save/--resume through the entry point, divergence stop, exit codes)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tinygrad_fm as tg

import char_lm
from char_lm import CharLMConfig, build_model
from experiment.cli import EXIT_FAILED, EXIT_USAGE
from experiment.config import RunOptions, parse_command_line
from experiment.training import TrainingDiverged

SCRIPT = Path(char_lm.__file__)
EPOCH_LINE = re.compile(r"epoch (\d+)/(\d+): train_loss=([\d.]+) train_accuracy=([\d.]+) "
                        r"val_loss=([\d.]+) val_accuracy=([\d.]+)")
#: A model small enough to train in a second or two.
QUICK = {"names": 300, "embed": 8, "hidden_size": 16, "heads": 2, "batch_size": 32,
         "learning_rate": 1e-2, "samples": 5}
QUICK_FLAGS = ["--names", "300", "--embed", "8", "-sz", "16", "-b", "32", "-lr", "1e-2",
               "--samples", "5", "--wandb-mode", "disabled"]


def parse(argv):
    return parse_command_line(char_lm.parser(), CharLMConfig, argv)


def train(config, **options):
    return char_lm.train(config, RunOptions(**{"quiet": True, "wandb_mode": "disabled",
                                               **options}))


# ----------------------------------------------------------------------------- the word list


def test_generated_names_are_distinct_grammatical_and_reproducible():
    names = char_lm.generate_names(500, seed=3)
    assert len(set(names)) == 500
    assert all(char_lm.GRAMMAR.match(name) for name in names)
    assert names == char_lm.generate_names(500, seed=3)
    # ... in another process too, whose string hashing (set order) differs
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import char_lm; "
            "print(','.join(char_lm.generate_names(500, seed=3)))")
    for hash_seed in ("1", "2"):
        done = subprocess.run([sys.executable, "-c", code, str(SCRIPT.parent)],
                              capture_output=True, text=True, timeout=60,
                              env={"PYTHONHASHSEED": hash_seed, "PATH": "",
                                   "PYTHONPATH": str(SCRIPT.parents[1])})
        assert done.stdout.strip().split(",") == names, done.stderr
    assert names != char_lm.generate_names(500, seed=4)
    assert not char_lm.GRAMMAR.match("xqzt") and not char_lm.GRAMMAR.match("ba")


def test_names_split_80_10_10_and_encode_shifts_targets_and_masks_padding():
    train_names, val_names, test_names = char_lm.split_names([str(i) for i in range(20)])
    assert (len(train_names), len(val_names), len(test_names)) == (16, 2, 2)
    assert train_names + val_names + test_names == [str(i) for i in range(20)]
    inputs, targets = char_lm.encode(["ab", "abcd"])
    index = char_lm.INDEX
    np.testing.assert_array_equal(inputs[0], [0, index["a"], index["b"], 0, 0])
    np.testing.assert_array_equal(targets[0], [index["a"], index["b"], 0, -1, -1])
    np.testing.assert_array_equal(targets[1, -1], 0)
    short_inputs, short_targets = char_lm.trimmed(inputs[:1], targets[:1])
    assert short_inputs.shape == short_targets.shape == (1, 3)


# ----------------------------------------------------------------------------- flags


def test_defaults_and_flags():
    config = CharLMConfig()
    assert (config.model, config.epochs, config.learning_rate, config.hidden_size,
            config.optimizer, config.lr_schedule, config.clip, config.names) == \
        ("lstm", 8, 3e-3, 128, "adam", "cosine", 1.0, 4000)
    assert config.run_name() == "charlm_lstm_sz_128_bs_64_opt_adam_lr_0.003"
    command = parse(["--model", "GRU", "-sz", "64", "--layers", "2", "--dropout", "0.1",
                     "-e", "3", "--clip", "0", "--temperature", "0.5", "--seed", "4"])
    config = command.config
    assert (config.model, config.hidden_size, config.layers, config.dropout, config.epochs,
            config.clip, config.temperature, config.seed) == \
        ("gru", 64, 2, 0.1, 3, 0.0, 0.5, 4)
    assert config.run_name() == "charlm_gru_sz_64_bs_64_opt_adam_lr_0.003_layers_2_do_0.1"
    assert command.options.capture and not parse(["--no-capture"]).options.capture
    help_text = char_lm.parser().format_help()
    assert "--data-dir" not in help_text
    assert "--dataset" not in help_text and "--augment-shift" not in help_text
    assert "80% for training" in help_text


@pytest.mark.parametrize("argv, message", [
    (["--model", "rnn"], "invalid choice: 'rnn'"),
    (["--model", "transformer", "-sz", "10", "--heads", "4"],
     "must be divisible by --heads (4)"),
    (["--names", "5"], "names: must be at least 20"),
    (["--temperature", "0"], "temperature must be positive"),
    (["--data-dir", "x"], "unrecognized arguments: --data-dir"),
])
def test_bad_flags_exit_2_with_one_message(argv, message, run_example):
    result = run_example("char_lm.py", *argv, timeout=60)
    assert result.returncode == EXIT_USAGE
    assert message in result.stderr and "Traceback" not in result.stderr
    assert len([line for line in result.stderr.splitlines() if "error" in line]) == 1


# ----------------------------------------------------------------------------- the model


@pytest.mark.parametrize("model", ["lstm", "gru", "transformer"])
def test_the_model_gives_pytorchs_outputs_loss_and_gradients_from_the_same_weights(model):
    torch = pytest.importorskip("torch")
    config = CharLMConfig(model=model, embed=8, hidden_size=16, heads=2, layers=2)
    inputs, targets = char_lm.encode(char_lm.generate_names(6, seed=1))
    max_length = 16
    torch.manual_seed(0)
    reference = build_model(config, max_length, framework=torch)
    ours = build_model(config, max_length)
    ours.load_state_dict({k: v.detach().numpy() for k, v in reference.state_dict().items()})
    assert repr(ours) == repr(reference)

    logits, _ = ours(tg.Tensor(inputs))
    loss = char_lm.sequence_loss(logits, tg.Tensor(targets))
    loss.backward()
    expected_logits, _ = reference(torch.from_numpy(inputs))
    expected_loss = torch.nn.functional.cross_entropy(
        expected_logits.reshape(-1, len(char_lm.ALPHABET)), torch.from_numpy(targets).reshape(-1),
        ignore_index=-1)
    expected_loss.backward()
    np.testing.assert_allclose(logits.data, expected_logits.detach().numpy(), rtol=1e-4,
                               atol=1e-5)
    np.testing.assert_allclose(loss.item(), expected_loss.item(), rtol=1e-5)
    parameters = dict(reference.named_parameters())
    for name, parameter in ours.named_parameters():
        np.testing.assert_allclose(parameter.grad.data, parameters[name].grad.numpy(),
                                   rtol=1e-3, atol=1e-6, err_msg=name)


# ----------------------------------------------------------------------------- runs


@pytest.mark.parametrize("model", ["lstm", "gru", "transformer"])
def test_a_short_run_learns_writes_its_run_folder_and_samples_names(model, tmp_path):
    result = train({**QUICK, "model": model, "epochs": 3}, out_dir=tmp_path)
    history = result["history"]
    assert [record["epoch"] for record in history] == [1, 2, 3]
    assert history[-1]["val_loss"] < history[0]["val_loss"]
    assert history[-1]["val_loss"] < np.log(len(char_lm.ALPHABET))  # better than uniform
    assert 0 < result["test_accuracy"] <= 1 and np.isfinite(result["test_loss"])
    assert len(result["samples"]) == 5
    assert all(set(s) <= set(char_lm.ALPHABET[1:]) for s in result["samples"])
    assert 0 <= result["grammatical"] <= 1 and 0 <= result["novel"] <= 1
    assert {"config.json", "metrics.jsonl", "summary.json", "curves.png", "names.txt",
            "samples.txt"} <= {p.name for p in tmp_path.iterdir()}
    assert (tmp_path / "samples.txt").read_text().split() == \
        [s for s in result["samples"] if s]
    assert len((tmp_path / "names.txt").read_text().split()) == 300
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["config"]["model"] == model and summary["samples"] == result["samples"]
    assert summary["status"] == "finished" and summary["epochs_completed"] == 3
    assert (tmp_path / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("model", ["gru", "transformer"])
def test_a_captured_run_gives_the_eager_runs_numbers_bit_for_bit(model, tmp_path):
    # batches of many lengths (each its own recording), dropout (between two GRU layers;
    # in the transformer, beside its causal mask), clipping and the optimizer step after
    # the captured forward and backward pass
    config = {**QUICK, "model": model, "layers": 2, "dropout": 0.2, "epochs": 3,
              "clip": 0.5}
    captured, eager = (train(config, out_dir=tmp_path / str(capture), capture=capture)
                       for capture in (True, False))
    assert (captured["captured_step"], eager["captured_step"]) == (True, False)
    for a, b in zip(captured["history"], eager["history"], strict=True):
        assert {k: v for k, v in a.items() if k != "epoch_time_s"} == \
            {k: v for k, v in b.items() if k != "epoch_time_s"}
    assert (captured["test_loss"], captured["samples"]) == (eager["test_loss"], eager["samples"])


def test_the_samples_and_their_scores_reach_wandb(tmp_path, fake_wandb):
    module = fake_wandb(logged_in=False)
    result = char_lm.train({**QUICK, "epochs": 1, "samples": 3},
                           RunOptions(out_dir=tmp_path, quiet=True, figures=False,
                                      log=lambda *a: None))
    (run,) = module.runs
    assert run.kwargs["mode"] == "offline" and run.kwargs["config"]["model"] == "lstm"
    assert run.summary["samples"] == result["samples"]
    assert run.summary["grammatical"] == result["grammatical"]
    assert [step for step, data in run.logged if "val_loss" in data] == [1]


def test_save_and_resume_through_the_entry_point_continue_the_run(tmp_path, run_example):
    # A constant rate, so that the resumed run may add an epoch.
    flags = [*QUICK_FLAGS, "--lr-schedule", "constant"]
    whole = run_example("char_lm.py", *flags, "-e", "2", "--out", tmp_path / "whole")
    assert whole.returncode == 0, whole.stderr
    first = run_example("char_lm.py", *flags, "-e", "1", "--save", "--out", tmp_path / "run")
    assert first.returncode == 0, first.stderr
    assert [line[0] for line in EPOCH_LINE.findall(first.stdout)] == ["1"]
    assert "samples: " in first.stdout and "grammatical " in first.stdout

    resumed = run_example("char_lm.py", "--resume", tmp_path / "run", "-e", "2",
                          "--wandb-mode", "disabled")
    assert resumed.returncode == 0, resumed.stderr
    assert [line[0] for line in EPOCH_LINE.findall(resumed.stdout)] == ["2"]
    # the same numbers as the uninterrupted run: weights, optimizer, batch order, samples
    assert EPOCH_LINE.findall(resumed.stdout) == EPOCH_LINE.findall(whole.stdout)[1:]
    summaries = [json.loads((tmp_path / run / "summary.json").read_text())
                 for run in ("whole", "run")]
    assert summaries[1]["epochs_completed"] == 2
    assert (summaries[0]["test_loss"], summaries[0]["samples"]) == \
        (summaries[1]["test_loss"], summaries[1]["samples"])

    refused = run_example("char_lm.py", "--resume", tmp_path / "run", "--model", "gru",
                          timeout=60)
    assert refused.returncode == EXIT_USAGE and "model: checkpoint 'lstm'" in refused.stderr


def test_divergence_stops_with_exit_status_1(tmp_path, run_example):
    with pytest.raises(TrainingDiverged):
        train({**QUICK, "epochs": 1, "optimizer": "sgd", "learning_rate": 1e30, "clip": 0},
              out_dir=tmp_path / "in_process")
    result = run_example("char_lm.py", *QUICK_FLAGS, "-e", "1", "-o", "sgd", "-lr", "1e30",
                         "--clip", "0", "--out", tmp_path / "run")
    assert result.returncode == EXIT_FAILED
    assert re.search(r"the loss became (nan|inf|-inf) in epoch 1", result.stderr), result.stderr
    assert "Traceback" not in result.stderr
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["status"] == "diverged"
