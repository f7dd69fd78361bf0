"""examples/compare_losses.py: both losses trained from the same start, their curves and
confusion matrices saved side by side, and the wandb runs grouped."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import compare_losses
from experiment.comparison import compare
from fashion_mnist import MLPConfig, train

QUICK = ["-e", "1", "--limit-train", "1500", "-nhl", "2", "-sz", "64"]


def test_the_loss_is_not_a_flag_here(capsys):
    with pytest.raises(SystemExit) as exit_info:
        compare_losses.parse_args(["-l", "cross_entropy"])
    assert exit_info.value.code == 2
    assert "argument -l/--loss: compare_losses.py trains with both losses" in \
        capsys.readouterr().err
    command = compare_losses.parse_args(["-a", "relu", "-o", "NAG", "-e", "2"])
    config = command.config
    assert (config.activation, config.optimizer, config.epochs) == ("ReLU", "nag", 2)
    assert command.options.resume is None and not command.options.save
    assert command.options.capture
    assert not compare_losses.parse_args(["--no-capture"]).options.capture
    with pytest.raises(SystemExit):
        compare_losses.parse_args(["--save"])  # two runs: no single checkpoint to keep


@pytest.mark.needs_data
def test_compare_trains_both_losses_and_saves_them_side_by_side(capsys, tmp_path):
    out = tmp_path / "cmp"
    status = compare_losses.main([*QUICK, "--wandb-mode", "disabled", "--out", str(out), "-q",
                                  "--no-capture"])
    assert status == 0
    printed = capsys.readouterr().out
    assert "cross_entropy: test_loss=" in printed and "mean_squared_error: test_loss=" in printed

    comparison = json.loads((out / "comparison.json").read_text())
    assert set(comparison["losses"]) == {"cross_entropy", "mean_squared_error"}
    assert "loss" not in comparison["config"]
    summaries = {}
    for loss, entry in comparison["losses"].items():
        assert entry["status"] == "finished"
        assert 0.3 < entry["test_accuracy"] <= 1
        summaries[loss] = json.loads((out / loss / "summary.json").read_text())
        assert summaries[loss]["config"]["loss"] == loss
        assert summaries[loss]["captured_step"] is False  # --no-capture reaches both runs
        assert summaries[loss]["test_accuracy"] == entry["test_accuracy"]
        assert (out / loss / "curves.png").is_file()
    # same configuration and seed apart from the loss
    ce, mse = summaries["cross_entropy"]["config"], summaries["mean_squared_error"]["config"]
    assert {k: v for k, v in ce.items() if k != "loss"} == \
        {k: v for k, v in mse.items() if k != "loss"}
    # the two losses differ in scale, so the curves are not the same numbers
    assert summaries["cross_entropy"]["test_loss"] != summaries["mean_squared_error"]["test_loss"]
    for png in ("curves.png", "confusion_matrices.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.needs_data
def test_the_runs_share_one_wandb_group(tmp_path, fake_wandb):
    module = fake_wandb(logged_in=True)
    config = MLPConfig(epochs=1, limit_train=1000, num_layers=1, hidden_size=32)
    outcome = compare(config, train, out_dir=tmp_path, quiet=True, log=lambda *a: None)
    runs = module.runs
    assert [r.kwargs["job_type"] for r in runs] == ["cross_entropy", "mean_squared_error",
                                                     "comparison"]
    assert {r.kwargs["group"] for r in runs} == {outcome["group"]}
    assert [r.kwargs["config"]["loss"] for r in runs[:2]] == ["cross_entropy",
                                                              "mean_squared_error"]
    assert runs[0].kwargs["name"] != runs[1].kwargs["name"]
    for run in runs[:2]:
        final_step, final = run.logged[-1]
        assert final["confusion_matrix"][0] == "confusion_matrix"
        assert final["confusion_matrix_heatmap"] == ("image", "confusion_matrix.png")
        assert run.exit_code is None  # finished normally
    (_, payload), = runs[2].logged
    assert payload["curves"] == ("image", "curves.png")
    assert payload["confusion_matrices"] == ("image", "confusion_matrices.png")
    assert np.array(outcome["runs"]["mean_squared_error"]["confusion_matrix"]).sum() == 10_000


@pytest.mark.needs_data
def test_a_diverging_loss_does_not_stop_the_other(tmp_path):
    # Plain SGD at a huge rate blows the ReLU network up under cross-entropy.
    config = MLPConfig(epochs=1, limit_train=1000, optimizer="sgd", activation="ReLU",
                       learning_rate=1e6, num_layers=2, hidden_size=32)
    outcome = compare(config, train, out_dir=tmp_path, wandb_mode="disabled", quiet=True,
                      figures=False, log=lambda *a: None)
    assert "cross_entropy" in outcome["errors"]
    assert outcome["runs"]["cross_entropy"] is None
    comparison = json.loads((Path(tmp_path) / "comparison.json").read_text())
    assert comparison["losses"]["cross_entropy"]["status"] == "diverged"
    assert "smaller learning rate" in comparison["losses"]["cross_entropy"]["error"]
    # the second loss was still trained, whatever its outcome
    second = json.loads((Path(tmp_path) / "mean_squared_error" / "summary.json").read_text())
    assert second["config"]["loss"] == "mean_squared_error"
    assert second["status"] == comparison["losses"]["mean_squared_error"]["status"]
