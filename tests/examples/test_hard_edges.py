"""Hard edges (issue 16): every bad input ends with one clear message and a non-zero exit,
never a traceback, and every fault (signals, kills, full disk) leaves what was finished
intact. Each test reproduces one way a hostile but realistic user breaks the examples."""

from __future__ import annotations

import errno
import json
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import sweep
from experiment import sweep_spec
from experiment.cli import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE
from experiment.sweep_spec import SweepConfigError, expand
from fashion_mnist import MLPConfig

from tests.examples.test_sweep import lines_of, small_sweep, stand_in_train, validate

pytest.importorskip("yaml")

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


# ----------------------------------------------------------------------------- sweep files


def test_a_huge_grid_is_refused_without_building_it_and_counted_lazily():
    wide = small_sweep(seed={"distribution": "int_uniform", "min": 0, "max": 2_000_000_000})
    spec = validate(wide)
    started = time.process_time()
    with pytest.raises(SweepConfigError) as error:
        expand(spec)
    assert "2,000,000,001 configurations" in str(error.value)
    assert "--count" in str(error.value)
    # With a count, the first combinations are listed without the rest.
    assert expand(spec, count=3) == [{"seed": 0}, {"seed": 1}, {"seed": 2}]
    fine = validate(small_sweep(learning_rate={"distribution": "q_uniform", "min": 1e-3,
                                               "max": 1, "q": 1e-12},
                                hidden_size={"values": [8, 16]}))
    assert [g["hidden_size"] for g in expand(fine, count=3)] == [8, 16, 8]
    # Many moderate lists multiply into an absurd grid just the same.
    many = validate(small_sweep(**{name: {"values": list(range(1, 101))} for name in
                                   ("epochs", "batch_size", "hidden_size", "num_layers",
                                    "seed")}))
    with pytest.raises(SweepConfigError, match="10,000,000,000 configurations"):
        expand(many)
    assert len(expand(many, count=5)) == 5
    assert time.process_time() - started < 5  # nothing of the size of the grid was built


@pytest.mark.parametrize("name, spec, expected", [
    ("epochs", {"distribution": "uniform", "min": 1, "max": 5},
     "parameters.epochs: epochs takes whole numbers, but the uniform distribution draws "
     "real numbers"),
    ("batch_size", {"distribution": "log_uniform_values", "min": 16, "max": 256},
     "parameters.batch_size: batch_size takes whole numbers, but the log_uniform_values"),
    ("num_layers", {"distribution": "q_uniform", "min": 1, "max": 4, "q": 0.5},
     "parameters.num_layers: num_layers takes whole numbers, but q_uniform with step q=0.5"),
    ("epochs", {"min": 1.0, "max": 5.0},
     "parameters.epochs: epochs takes whole numbers, but the uniform distribution"),
    ("optimizer", {"distribution": "uniform", "min": 0, "max": 1},
     "parameters.optimizer: optimizer takes one of sgd"),
])
def test_a_distribution_of_the_wrong_type_is_refused_when_the_file_is_read(name, spec,
                                                                            expected):
    with pytest.raises(SweepConfigError) as error:
        validate({"method": "random", "parameters": {name: spec}})
    assert expected in str(error.value)


def test_online_validation_refuses_a_real_valued_distribution_for_a_whole_number_flag():
    with pytest.raises(SweepConfigError, match="parameters.epochs: epochs takes whole"):
        validate({"method": "bayes", "parameters": {"epochs": {
            "distribution": "normal", "mu": 5, "sigma": 1}}}, offline=False)


def test_the_sweep_file_type_error_ends_the_command_with_status_2(tmp_path, capsys):
    path = tmp_path / "s.yaml"
    path.write_text("method: random\nparameters:\n  epochs:\n    distribution: uniform\n"
                    "    min: 1\n    max: 3\n")
    status = sweep.main(["--config", str(path), "--offline", "--count", "2", "--out",
                         str(tmp_path / "out"), "--wandb-mode", "disabled"],
                        train_fn=stand_in_train)
    assert status == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "parameters.epochs" in err and "overrides" not in err


@pytest.mark.parametrize("changed", [["--epochs-override", "3"], ["--limit-train", "900"],
                                     ["--seed", "4"]])
def test_resume_with_another_budget_is_refused(tmp_path, capsys, changed):
    config = tmp_path / "sweep.yaml"
    config.write_text("method: grid\nparameters:\n  hidden_size:\n    values: [8, 16]\n")
    argv = ["--config", str(config), "--offline", "--out", str(tmp_path / "out"),
            "--wandb-mode", "disabled", "--epochs-override", "2", "--limit-train", "500"]
    assert sweep.main(argv + ["--count", "1"], train_fn=stand_in_train) == 0
    capsys.readouterr()
    before = (tmp_path / "out" / "results.jsonl").read_bytes()
    resumed = argv + ["--resume"]
    for flag, value in zip(changed[::2], changed[1::2]):
        if flag in resumed:
            resumed[resumed.index(flag) + 1] = value
        else:
            resumed += [flag, value]
    assert sweep.main(resumed, train_fn=stand_in_train) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--resume" in err and changed[0] in err, err
    assert (tmp_path / "out" / "results.jsonl").read_bytes() == before
    # The same budget resumes.
    assert sweep.main(argv + ["--resume"], train_fn=stand_in_train) == 0
    assert [r["config"]["epochs"] for r in lines_of(tmp_path / "out" / "results.jsonl")] == [2, 2]
