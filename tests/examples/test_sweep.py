"""examples/sweep.py: the sweep file, its expansion, the results file, the offline worker
pool with resume, and the online path through its wandb seam."""

import copy
import dataclasses
import functools
import json
import math
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import sweep
from experiment import sweep_runner, sweep_spec
from experiment.cli import EXIT_INTERRUPTED
from experiment.config import parse_command_line
from experiment.sweep_runner import SweepInterrupted, append_result, read_results
from experiment.sweep_spec import SweepConfigError, config_key, expand
from experiment.training import TrainingDiverged
from fashion_mnist import MLPConfig, parser, train

pytest.importorskip("yaml")

ASSIGNMENT_GRID = {
    "epochs": [5, 10],
    "num_layers": [3, 4, 5],
    "hidden_size": [32, 64, 128],
    "weight_decay": [0, 0.0005, 0.5],
    "learning_rate": [1e-3, 1e-4],
    "optimizer": ["sgd", "momentum", "nag", "rmsprop", "adam", "nadam"],
    "batch_size": [16, 32, 64],
    "weight_init": ["random", "Xavier"],
    "activation": ["sigmoid", "tanh", "ReLU"],
}


def validate(config, offline=True):
    return sweep_spec.validate_sweep_config(config, MLPConfig, offline=offline)


def run_config(parameters, overrides=None, seed=None) -> dict:
    return sweep_spec.run_config(MLPConfig, parameters, overrides, seed).as_dict()


def run_sweep(spec, out_dir, train_fn=train, **options):
    return sweep_runner.run_sweep(spec, out_dir, config_cls=MLPConfig, train_fn=train_fn,
                                  **options)


def small_sweep(method="grid", **parameters):
    return {"method": method, "metric": {"name": "val_accuracy", "goal": "maximize"},
            "parameters": parameters or {"hidden_size": {"values": [8, 16]},
                                         "activation": {"values": ["tanh", "ReLU"]}}}


# ----------------------------------------------------------------------------- stand-in training
# Module-level (picklable) so the spawned workers can run them.


def stand_in_accuracy(config):
    """A deterministic 'validation accuracy' that depends on the configuration."""
    score = 0.5 + 0.3 * (config["activation"] == "ReLU") + config["hidden_size"] / 1000
    return min(score, 0.99)


def stand_in_train(config, options):
    """Behaves like fashion_mnist.train for the sweep: writes into options.out_dir, returns
    the history and test accuracy; diverges for learning_rate 0.5, crashes for
    hidden_size 13."""
    config = config.as_dict()
    Path(options.out_dir).mkdir(parents=True, exist_ok=True)
    (Path(options.out_dir) / "options.json").write_text(json.dumps(
        {"config": config, **dataclasses.asdict(options)}, default=str))
    if config["learning_rate"] == 0.5:
        raise TrainingDiverged(2, 17, float("nan"), 0.5)
    if config["hidden_size"] == 13:
        raise RuntimeError("stand-in crash")
    accuracy = stand_in_accuracy(config)
    history = [{"epoch": e, "val_accuracy": accuracy - 0.1 * (config["epochs"] - e),
                "val_loss": 1.0 / e} for e in range(1, config["epochs"] + 1)]
    return {"status": "finished", "history": history, "test_accuracy": accuracy - 0.01,
            "test_loss": 0.5, "wandb_dir": None}


def interrupting_train(config, options, *, marker):
    """Sends the sweep's process Ctrl-C (once, while the marker file exists) when it is
    given hidden_size 16, then waits to be stopped; trains like stand_in_train otherwise."""
    if config.hidden_size == 16 and os.path.exists(marker):
        os.remove(marker)
        time.sleep(0.5)  # let the sweep finish recording the previous run
        os.kill(os.getppid(), signal.SIGINT)
        time.sleep(60)
    return stand_in_train(config, options)


def lines_of(path):
    return [json.loads(line) for line in Path(path).read_text().splitlines()]


# ----------------------------------------------------------------------------- the sweep file


def test_sweep_yaml_holds_the_assignment_grid_under_the_training_flags():
    raw = sweep_spec.load_sweep_config(sweep.DEFAULT_CONFIG)
    spec = validate(raw)
    assert raw["metric"] == {"name": "val_accuracy", "goal": "maximize"}
    assert spec.method in ("random", "grid") and spec.run_cap
    grid = {name: spec_["values"] for name, spec_ in raw["parameters"].items()
            if "values" in spec_}
    assert grid == ASSIGNMENT_GRID
    # The schedule is not the assignment's, but the file says which one its runs use.
    pinned = {name: spec_ for name, spec_ in raw["parameters"].items() if name not in grid}
    assert pinned == {"lr_schedule": {"value": "cosine"}}
    assert sweep_spec._space_size(spec) == math.prod(map(len, ASSIGNMENT_GRID.values()))
    assert all(p["lr_schedule"] == "cosine" for p in expand(spec, count=20, seed=0))
    # A sweep run is exactly a training run: wandb's agent passes --name=value flags.
    for parameters in expand(spec, count=5, seed=3):
        argv = [f"--{name}={value}" for name, value in parameters.items()]
        from_flags = parse_command_line(parser(), MLPConfig, argv).config.as_dict()
        assert from_flags == run_config(parameters)


@pytest.mark.parametrize("change, message", [
    ({"method": "hyperband"}, "method: 'hyperband' is not one of grid, random, bayes"),
    ({"method": None}, "method"),
    ({"metric": {"name": "val_acc", "goal": "maximize"}}, "metric.name: 'val_acc'"),
    ({"metric": {"name": "val_loss", "goal": "lower"}}, "metric.goal"),
    ({"run_cap": 0}, "run_cap"),
    ({"early_stop": True}, "unknown key 'early_stop'"),
    ({"parameters": {}}, "parameters:"),
    ({"parameters": {"lr": {"values": [0.1]}}}, "parameters.lr: not a flag of the training script"),
    ({"parameters": {"optimizer": {"values": ["sgd", "adamax"]}}},
     "parameters.optimizer: optimizer: 'adamax' is not one of"),
    ({"parameters": {"learning_rate": {"values": ["fast"]}}},
     "parameters.learning_rate: learning_rate: expected a number"),
    ({"parameters": {"num_layers": {"values": [2.5]}}}, "parameters.num_layers"),
    ({"parameters": {"batch_size": {"values": [0]}}}, "parameters.batch_size"),
    ({"parameters": {"batch_size": {"values": []}}}, "parameters.batch_size.values"),
    ({"parameters": {"batch_size": {"values": 32}}}, "parameters.batch_size.values"),
    ({"parameters": {"batch_size": [16, 32]}}, "parameters.batch_size: expected a mapping"),
    ({"parameters": {"batch_size": {"values": [None]}}}, "parameters.batch_size: null"),
    ({"parameters": {"activation": {"values": ["relu", "ReLU"]}}},
     "parameters.activation.values"),
    ({"parameters": {"batch_size": {"vals": [16]}}}, "parameters.batch_size.vals: unknown key"),
    ({"parameters": {"batch_size": {}}}, "parameters.batch_size: give 'values'"),
    ({"parameters": {"learning_rate": {"distribution": "normal", "mu": 0, "sigma": 1}}},
     "parameters.learning_rate.distribution: 'normal'"),
    ({"parameters": {"learning_rate": {"distribution": "cauchy", "min": 0.1, "max": 1}}},
     "parameters.learning_rate.distribution: 'cauchy'"),
    ({"parameters": {"learning_rate": {"distribution": "uniform", "min": 0.1}}},
     "parameters.learning_rate.max"),
    ({"parameters": {"learning_rate": {"distribution": "uniform", "min": 0.1, "max": 0.01}}},
     "parameters.learning_rate: min (0.1) must be below max (0.01)"),
    ({"parameters": {"learning_rate": {"distribution": "uniform", "min": "a", "max": 1}}},
     "parameters.learning_rate.min: expected a number"),
    ({"parameters": {"learning_rate": {"distribution": "log_uniform_values", "min": 0,
                                       "max": 1}}}, "parameters.learning_rate"),
    ({"parameters": {"weight_decay": {"distribution": "int_uniform", "min": 0, "max": 0.5}}},
     "parameters.weight_decay: int_uniform needs integer"),
    ({"parameters": {"momentum": {"distribution": "log_uniform_values", "min": 0,
                                  "max": 0.9}}}, "parameters.momentum.min: log_uniform_values"),
    ({"parameters": {"hidden_size": {"distribution": "q_uniform", "min": 8, "max": 64,
                                     "q": 0}}}, "parameters.hidden_size.q"),
    ({"parameters": {"optimizer": {"values": ["sgd", "adam"], "probabilities": [0.5, 0.6]}}},
     "parameters.optimizer.probabilities"),
])
def test_invalid_sweep_configurations_are_rejected_naming_the_key(change, message):
    config = {**small_sweep(), **change}
    with pytest.raises(SweepConfigError) as error:
        validate(config)
    assert message in str(error.value)


def test_wandb_only_distributions_pass_online_but_not_offline():
    config = small_sweep(method="bayes", learning_rate={"distribution": "log_uniform",
                                                        "min": -9, "max": -2})
    validate(config, offline=False)
    with pytest.raises(SweepConfigError, match="run the sweep online"):
        validate(config, offline=True)


def test_yaml_files_are_read_with_a_yaml_library_and_errors_name_the_file(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("method: grid\nparameters:\n  activation:\n    values: [relu, tanh]\n"
                    "  learning_rate:\n    values: [1e-3, 0.01]\n")
    spec = validate(sweep_spec.load_sweep_config(path))
    # Canonical spellings and numbers, whatever YAML made of them ('1e-3' is a string).
    assert spec.parameters[0].values == ("ReLU", "tanh")
    assert spec.parameters[1].values == (0.001, 0.01)
    path.write_text("method: grid\nparameters: [unclosed\n")
    with pytest.raises(SweepConfigError, match="s.yaml is not valid YAML"):
        sweep_spec.load_sweep_config(path)
    path.write_text("- just\n- a list\n")
    with pytest.raises(SweepConfigError, match="a sweep file is a mapping"):
        sweep_spec.load_sweep_config(path)
    with pytest.raises(SweepConfigError, match="cannot read the sweep file"):
        sweep_spec.load_sweep_config(tmp_path / "missing.yaml")


# ----------------------------------------------------------------------------- expansion


def test_grid_enumerates_every_combination_in_a_stable_order():
    spec = validate(small_sweep(
        hidden_size={"values": [8, 16, 32]}, activation={"values": ["tanh", "ReLU"]},
        optimizer={"value": "adam"}, num_layers={"distribution": "int_uniform", "min": 1,
                                                 "max": 2}))
    grid = expand(spec)
    assert len(grid) == 3 * 2 * 1 * 2
    assert grid == expand(spec, seed=99)  # the seed does not touch a grid
    assert grid[0] == {"hidden_size": 8, "activation": "tanh", "optimizer": "adam",
                       "num_layers": 1}
    assert grid[1] == {**grid[0], "num_layers": 2}  # the last parameter varies fastest
    assert grid[-1] == {"hidden_size": 32, "activation": "ReLU", "optimizer": "adam",
                        "num_layers": 2}
    assert len({json.dumps(g, sort_keys=True) for g in grid}) == len(grid)
    assert expand(spec, count=5) == grid[:5]
    capped = validate({**spec.raw, "run_cap": 3})
    assert expand(capped) == grid[:3] and expand(capped, count=10) == grid[:3]


def test_grid_of_q_uniform_steps_and_refusal_of_continuous_distributions():
    spec = validate(small_sweep(
        hidden_size={"distribution": "q_uniform", "min": 16, "max": 64, "q": 16}))
    assert [g["hidden_size"] for g in expand(spec)] == [16, 32, 48, 64]
    spec = validate(small_sweep(
        learning_rate={"distribution": "uniform", "min": 0.001, "max": 0.1}))
    with pytest.raises(SweepConfigError, match="parameters.learning_rate: method grid needs"):
        expand(spec)


def test_random_sampling_is_reproducible_with_a_seed():
    spec = validate(sweep_spec.load_sweep_config(sweep.DEFAULT_CONFIG))
    first, again = expand(spec, count=12, seed=7), expand(spec, count=12, seed=7)
    assert first == again and len(first) == 12
    assert expand(spec, count=12, seed=8) != first
    assert len({json.dumps(s, sort_keys=True) for s in first}) == 12  # distinct
    for sample in first:
        for name, values in ASSIGNMENT_GRID.items():
            assert sample[name] in values
    assert len(expand(spec, seed=0)) == spec.run_cap  # run_cap is the default count


def test_random_sampling_follows_each_distribution():
    spec = validate(small_sweep(
        method="random",
        learning_rate={"distribution": "log_uniform_values", "min": 1e-5, "max": 1e-1},
        momentum={"distribution": "uniform", "min": 0.5, "max": 0.9},
        num_layers={"distribution": "int_uniform", "min": 1, "max": 3},
        hidden_size={"distribution": "q_uniform", "min": 16, "max": 128, "q": 16},
        optimizer={"values": ["sgd", "adam"], "probabilities": [0.9, 0.1]}))
    samples = expand(spec, count=2000, seed=1)
    rates = np.log10([s["learning_rate"] for s in samples])
    assert rates.min() >= -5 and rates.max() <= -1
    assert abs(np.median(rates) + 3) < 0.15  # uniform in log space: median at 1e-3
    momenta = np.array([s["momentum"] for s in samples])
    assert momenta.min() >= 0.5 and momenta.max() <= 0.9 and abs(momenta.mean() - 0.7) < 0.02
    assert {s["num_layers"] for s in samples} == {1, 2, 3}
    assert {s["hidden_size"] for s in samples} <= set(range(16, 129, 16))
    assert all(isinstance(s["hidden_size"], int) for s in samples)
    share_sgd = np.mean([s["optimizer"] == "sgd" for s in samples])
    assert 0.85 < share_sgd < 0.95


def test_a_pinned_constant_leaves_the_random_samples_of_the_others_as_they_were():
    spec = validate(small_sweep("random"))
    pinned = validate(small_sweep(
        "random", hidden_size={"values": [8, 16]}, activation={"values": ["tanh", "ReLU"]},
        lr_schedule={"value": "CONSTANT"}))
    plain = expand(spec, count=3, seed=4)
    with_constant = expand(pinned, count=3, seed=4)
    assert [p.pop("lr_schedule") for p in with_constant] == ["constant"] * 3
    assert with_constant == plain


def test_random_search_needs_a_count_and_stops_at_the_size_of_the_space():
    spec = validate(small_sweep(method="random"))
    with pytest.raises(SweepConfigError, match="--count"):
        expand(spec)
    assert len(expand(spec, count=50)) == 4  # only 2 x 2 distinct configurations
    with pytest.raises(SweepConfigError, match="count must be a positive integer"):
        expand(spec, count=0)


def test_bayes_is_refused_offline_because_it_needs_the_wandb_service():
    spec = validate(small_sweep(method="bayes"))
    with pytest.raises(SweepConfigError, match="bayes needs wandb's sweep service"):
        expand(spec, count=3)


def test_config_key_is_a_stable_hash_of_what_is_trained():
    config = run_config({"hidden_size": 64, "optimizer": "nag"})
    reordered = dict(reversed(list(config.items())))
    assert config_key(config) == config_key(reordered)
    assert config_key(config) == config_key({**config, "wandb_project": "other"})
    assert config_key(config) != config_key({**config, "hidden_size": 65})
    assert config_key(config) != config_key({**config, "limit_train": 100})


# ----------------------------------------------------------------------------- results file


def test_results_file_appends_rows_and_survives_a_cut_short_line(tmp_path, capsys):
    path = tmp_path / "results.jsonl"
    append_result(path, {"key": "a", "status": "finished"})
    with open(path, "a") as file:
        file.write('{"key": "b", "sta')  # killed while writing
    assert read_results(path) == [{"key": "a", "status": "finished"}]
    assert "cut-short last line" in capsys.readouterr().err
    append_result(path, {"key": "c", "status": "failed"})
    with pytest.raises(ValueError, match="line 2 is not JSON"):
        read_results(path)  # the cut line is now in the middle: damage, not a tail
    path.write_text('{"key": "a"}\n{"key": "b"}')  # no final newline
    append_result(path, {"key": "c"})
    assert [row["key"] for row in read_results(path)] == ["a", "b", "c"]
    assert read_results(tmp_path / "none.jsonl") == []


def test_resume_cuts_a_broken_last_line_off_before_appending(tmp_path, capsys):
    path = tmp_path / "results.jsonl"
    for tail in ('{"key": "b", "sta', "\0\0\0\0"):  # killed while writing; a NUL-filled block
        path.write_text('{"key": "a"}\n' + tail)
        assert read_results(path, repair=True) == [{"key": "a"}]
        assert "(removed)" in capsys.readouterr().err
        append_result(path, {"key": "c"})
        assert [row["key"] for row in read_results(path)] == ["a", "c"]


@pytest.mark.parametrize("row", ["42", '{"hello": 1}', "[1, 2]"])
def test_a_row_that_is_not_a_result_is_named_by_its_line(tmp_path, row):
    path = tmp_path / "results.jsonl"
    path.write_text(f'{{"key": "a"}}\n{row}\n{{"key": "b"}}\n')
    with pytest.raises(ValueError, match="line 2 is not a sweep result"):
        read_results(path)


# ----------------------------------------------------------------------------- offline sweep


def test_offline_sweep_records_every_run_with_failures_and_pins_blas(tmp_path):
    spec = small_sweep(hidden_size={"values": [8, 13, 16]},
                       learning_rate={"values": [0.01, 0.5]})
    seen = []
    rows = run_sweep(spec, tmp_path, workers=2, seed=3, wandb_mode="disabled",
                           overrides={"epochs": 2, "activation": "ReLU"},
                           train_fn=stand_in_train, on_result=seen.append, log=lambda *_: None)
    assert len(rows) == 6 and len(seen) == 6
    on_disk = lines_of(tmp_path / "results.jsonl")
    assert sorted(r["key"] for r in on_disk) == sorted(r["key"] for r in rows)
    by_config = {(r["parameters"]["hidden_size"], r["parameters"]["learning_rate"]): r
                 for r in rows}
    assert by_config[(8, 0.5)]["status"] == "diverged"
    assert "training diverged" in by_config[(8, 0.5)]["error"]
    assert by_config[(13, 0.01)]["status"] == "failed"
    assert "RuntimeError: stand-in crash" in by_config[(13, 0.01)]["error"]
    finished = by_config[(16, 0.01)]
    config = finished["config"]
    assert finished["status"] == "finished"
    assert config == run_config({"hidden_size": 16, "learning_rate": 0.01},
                                            {"epochs": 2, "activation": "ReLU"}, seed=3)
    assert finished["key"] == config_key(config)
    assert finished["best_val_accuracy"] == pytest.approx(stand_in_accuracy(config))
    assert finished["final_val_loss"] == pytest.approx(0.5)
    assert finished["test_accuracy"] == pytest.approx(stand_in_accuracy(config) - 0.01)
    assert finished["epochs_completed"] == 2 and finished["wall_time_s"] >= 0
    assert finished["cpu_time_s"] >= 0
    # Each run trained in its own folder inside the sweep's, logged in one group.
    options = json.loads((Path(finished["run_dir"]) / "options.json").read_text())
    assert Path(finished["run_dir"]).parent == tmp_path / "runs"
    assert options["wandb_group"] == tmp_path.name and options["wandb_job_type"] == "sweep"
    assert options["wandb_mode"] == "disabled" and options["quiet"] is True
    if finished["blas_threads"] is not None:  # threadpoolctl (scikit-learn) installed
        assert all(r["blas_threads"] == 1 for r in rows)
    assert os.getpid() not in {r["worker_pid"] for r in rows}
    assert json.loads((tmp_path / "sweep.json").read_text())["configurations"] == 6


def test_resume_skips_recorded_runs_and_retry_failed_reruns_crashes(tmp_path):
    spec = small_sweep(hidden_size={"values": [8, 13, 16]})
    quiet = {"wandb_mode": "disabled", "train_fn": stand_in_train, "log": lambda *_: None}
    first = run_sweep(spec, tmp_path, count=2, **quiet)
    assert len(first) == 2
    with pytest.raises(FileExistsError, match="--resume"):
        run_sweep(spec, tmp_path, **quiet)
    ran = []
    rows = run_sweep(spec, tmp_path, resume=True, on_result=ran.append, **quiet)
    assert [r["parameters"]["hidden_size"] for r in ran] == [16]
    assert [r["parameters"]["hidden_size"] for r in rows] == [8, 13, 16]
    assert rows[:2] == first  # recorded rows are returned as they were
    again = []
    run_sweep(spec, tmp_path, resume=True, on_result=again.append, **quiet)
    assert again == []
    run_sweep(spec, tmp_path, resume=True, retry_failed=True, on_result=again.append,
                    **quiet)
    assert [(r["parameters"]["hidden_size"], r["status"]) for r in again] == [(13, "failed")]
    assert len(lines_of(tmp_path / "results.jsonl")) == 4


def test_overrides_that_make_configurations_equal_run_them_once(tmp_path):
    spec = small_sweep(epochs={"values": [5, 10]}, hidden_size={"values": [8]})
    rows = run_sweep(spec, tmp_path, overrides={"epochs": 1}, wandb_mode="disabled",
                           train_fn=stand_in_train, log=lambda *_: None)
    assert len(rows) == 1 and rows[0]["config"]["epochs"] == 1
    with pytest.raises(SweepConfigError, match="overrides: unknown configuration key"):
        run_sweep(spec, tmp_path / "x", overrides={"epoch": 1}, train_fn=stand_in_train)


def test_ctrl_c_stops_the_workers_and_resume_runs_only_the_rest(tmp_path, capsys):
    config = tmp_path / "sweep.yaml"
    config.write_text("method: grid\nparameters:\n  hidden_size:\n    values: [8, 16, 32]\n")
    marker = tmp_path / "interrupt-once"
    marker.touch()
    out = tmp_path / "out"
    argv = ["--config", str(config), "--offline", "--out", str(out), "--workers", "1",
            "--wandb-mode", "disabled"]
    status = sweep.main(argv, train_fn=functools.partial(interrupting_train, marker=str(marker)))
    assert status == EXIT_INTERRUPTED
    assert "continue with:" in capsys.readouterr().err
    assert [r["parameters"]["hidden_size"] for r in lines_of(out / "results.jsonl")] == [8]
    assert multiprocessing.active_children() == []  # the stopped worker is gone
    assert sweep.main(argv + ["--resume"], train_fn=stand_in_train) == 0
    rows = lines_of(out / "results.jsonl")
    assert [r["parameters"]["hidden_size"] for r in rows] == [8, 16, 32]
    assert all(r["status"] == "finished" for r in rows)
    assert (out / "summary.md").exists() and (out / "parallel_coordinates.png").exists()


def test_cli_errors_are_reported_with_exit_status_2(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("method: grid\nparameters:\n  optimiser:\n    values: [sgd]\n")
    assert sweep.main(["--config", str(bad), "--offline", "--out", str(tmp_path)]) == 2
    assert "parameters.optimiser: not a flag" in capsys.readouterr().err
    good = tmp_path / "good.yaml"
    good.write_text("method: bayes\nparameters:\n  hidden_size:\n    values: [8, 16]\n")
    assert sweep.main(["--config", str(good), "--offline", "--out", str(tmp_path)]) == 2
    assert "bayes needs wandb's sweep service" in capsys.readouterr().err


def test_real_offline_sweep_with_two_workers_interruption_and_resume(tmp_path):
    """Two configurations of one epoch on a small subset, really trained, with two
    workers and offline wandb runs; interrupted after the first result, then resumed."""
    if not os.environ.get("FASHION_MNIST_DIR"):
        pytest.skip("FASHION_MNIST_DIR is not set")
    pytest.importorskip("wandb")
    pytest.importorskip("matplotlib")
    config = tmp_path / "sweep.yaml"
    config.write_text("name: test-sweep\nmethod: grid\nmetric: {name: val_accuracy, goal: "
                      "maximize}\nparameters:\n  epochs: {value: 1}\n  hidden_size: {value: 32}"
                      "\n  num_layers: {value: 1}\n  activation: {values: [tanh, ReLU]}\n")
    out = tmp_path / "sweep"

    def interrupt(row):
        raise KeyboardInterrupt

    with pytest.raises(SweepInterrupted) as stopped:
        run_sweep(sweep_spec.load_sweep_config(config), out, workers=2,
                        overrides={"limit_train": 1000}, on_result=interrupt,
                        log=lambda *_: None)
    assert (stopped.value.recorded, stopped.value.total) == (1, 2)
    [first] = lines_of(out / "results.jsonl")
    assert multiprocessing.active_children() == []
    assert sweep.main(["--config", str(config), "--offline", "--out", str(out), "--workers",
                       "2", "--limit-train", "1000", "--resume"]) == 0
    rows = lines_of(out / "results.jsonl")
    assert len(rows) == 2 and rows[0] == first
    assert {r["parameters"]["activation"] for r in rows} == {"tanh", "ReLU"}
    for row in rows:
        assert row["status"] == "finished", row.get("error")
        assert row["config"]["limit_train"] == 1000 and row["epochs_completed"] == 1
        assert 0.3 < row["best_val_accuracy"] <= 1  # trained: well above chance (0.1)
        assert Path(row["wandb_dir"]).name.startswith("offline-run-")
        assert Path(row["wandb_dir"]).is_dir()
    for name in ("summary.md", "summary.json", "val_accuracy_vs_time.png",
                 "parallel_coordinates.png", "parameter_importance.png"):
        assert (out / name).is_file(), name
    assert (out / "parallel_coordinates.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "unreliable" in (out / "summary.md").read_text()


# ----------------------------------------------------------------------------- online (seam)


class FakeRun:
    def __init__(self, config, run_id):
        self.config = FakeConfig(config)
        self.id, self.name, self.finished = run_id, None, None

    def finish(self, exit_code=None):
        self.finished = exit_code


class FakeConfig(dict):
    def update(self, values, allow_val_change=False):
        assert allow_val_change
        super().update(values)


class FakeWandb:
    """Records what sweep.py passes to wandb; its agent runs the function once per
    configuration it was given, as wandb's agent does."""

    def __init__(self, configurations, logged_in=True):
        self.configurations, self.logged_in = configurations, logged_in
        self.sweeps, self.agents, self.inits, self.runs = [], [], [], []

    def login(self, prompt=True, verify=True):
        assert prompt is False
        return self.logged_in

    def sweep(self, sweep, entity=None, project=None):
        self.sweeps.append({"sweep": sweep, "entity": entity, "project": project})
        return "abc123"

    def agent(self, sweep_id, function=None, entity=None, project=None, count=None):
        self.agents.append({"sweep_id": sweep_id, "entity": entity, "project": project,
                            "count": count})
        for _ in range(count):
            function()

    def init(self, **kwargs):
        self.inits.append(kwargs)
        run = FakeRun(self.configurations[len(self.runs)], f"run{len(self.runs)}")
        self.runs.append(run)
        return run

    class Api:
        default_entity = "me"


def test_online_sweep_hands_the_yaml_to_wandb_unchanged_and_trains_given_configs(tmp_path,
                                                                                capsys):
    raw = sweep_spec.load_sweep_config(sweep.DEFAULT_CONFIG)
    sent = copy.deepcopy(raw)
    fake = FakeWandb([{"optimizer": "nadam", "hidden_size": 64, "activation": "relu"},
                      {"optimizer": "sgd", "learning_rate": 0.5}])
    trained = []

    def train(config, options):
        trained.append((config, options))
        return stand_in_train(config, options)

    sweep_id = sweep_runner.run_online(sent, config_cls=MLPConfig, train_fn=train, count=2,
                                       project="proj", out_dir=tmp_path,
                                       overrides={"epochs": 1}, wandb_module=fake)
    assert sweep_id == "abc123"
    assert fake.sweeps == [{"sweep": raw, "entity": None, "project": "proj"}]
    assert fake.sweeps[0]["sweep"] is sent and sent == raw
    assert fake.agents == [{"sweep_id": "abc123", "entity": "me", "project": "proj",
                            "count": 2}]
    assert "wandb agent me/proj/abc123" in capsys.readouterr().out
    first_config, first_options = trained[0]
    assert first_config == MLPConfig(optimizer="nadam", hidden_size=64, activation="ReLU",
                                     epochs=1)
    assert first_options.wandb_run is fake.runs[0]
    assert Path(first_options.out_dir).parent == tmp_path / "runs"
    assert fake.runs[0].name == first_config.run_name()
    assert fake.runs[0].config["activation"] == "ReLU"  # the resolved config is logged
    assert fake.runs[0].finished == 0
    assert fake.runs[1].finished == 1  # diverged: marked failed, the agent goes on
    assert trained[1][0].learning_rate == 0.5


def test_cli_goes_online_with_credentials_and_offline_without(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("WANDB_MODE", raising=False)
    config = tmp_path / "s.yaml"
    config.write_text("method: random\nparameters:\n  hidden_size:\n    values: [8, 16]\n")
    online = FakeWandb([{"hidden_size": 8}])
    assert sweep.main(["--config", str(config), "--count", "1", "--out", str(tmp_path / "a")],
                      train_fn=stand_in_train, wandb_module=online) == 0
    assert len(online.sweeps) == 1 and len(online.runs) == 1
    offline = FakeWandb([], logged_in=False)
    assert sweep.main(["--config", str(config), "--count", "2", "--out", str(tmp_path / "b"),
                       "--wandb-mode", "disabled"],
                      train_fn=stand_in_train, wandb_module=offline) == 0
    assert offline.sweeps == []
    assert "no credentials" in capsys.readouterr().out
    assert len(lines_of(tmp_path / "b" / "results.jsonl")) == 2


def _children(pid: int) -> set:
    children = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            children.add(int(stat.parent.name))
    return children


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has exited


@pytest.mark.needs_data
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_workers_exit_when_the_sweep_process_is_killed(tmp_path):
    config = tmp_path / "sweep.yaml"
    config.write_text("method: grid\nparameters:\n  hidden_size: {values: [16, 32, 48]}\n")
    script = Path(__file__).resolve().parents[2] / "examples" / "sweep.py"
    parent = subprocess.Popen(
        [sys.executable, str(script), "--config", str(config), "--offline", "--workers", "2",
         "--epochs-override", "200", "--limit-train", "1000", "--wandb-mode", "disabled",
         "--out", str(tmp_path / "out")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while len(workers := _children(parent.pid)) < 2:
        assert parent.poll() is None and time.monotonic() < deadline, "no workers started"
        time.sleep(0.2)
    time.sleep(1)
    workers = _children(parent.pid)
    parent.kill()
    parent.wait(timeout=30)
    deadline = time.monotonic() + 60
    while any(_alive(pid) for pid in workers):
        assert time.monotonic() < deadline, "the workers outlived the sweep's process"
        time.sleep(0.2)
