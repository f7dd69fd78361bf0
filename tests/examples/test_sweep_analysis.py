"""experiment/sweep_analysis.py: importance, correlation, low-accuracy settings, figures and
the summary, on results files whose structure is known."""

import json
import sys

import numpy as np
import pytest

import sweep
from experiment import sweep_analysis
from fashion_mnist import MLPConfig

pytest.importorskip("matplotlib")
pytest.importorskip("yaml")

PNG = b"\x89PNG\r\n\x1a\n"


def make_rows(n, seed=0):
    """Runs whose accuracy is decided by the optimizer (sgd is poor) and, a little, by the
    learning rate; batch size and activation are noise. Two rmsprop runs diverge."""
    rng = np.random.default_rng(seed)
    rows = []
    for index in range(n):
        parameters = {
            "optimizer": ["sgd", "adam", "nadam", "rmsprop"][index % 4],
            "learning_rate": [1e-3, 1e-4][(index // 4) % 2],
            "batch_size": int(rng.choice([16, 32, 64])),
            "activation": str(rng.choice(["tanh", "ReLU"])),
            "epochs": 5,
        }
        accuracy = (0.86 - 0.45 * (parameters["optimizer"] == "sgd")
                    + 0.03 * (parameters["learning_rate"] == 1e-3) + rng.normal(0, 0.005))
        row = {"key": f"k{index:03d}", "index": index, "parameters": parameters,
               "run_name": f"run{index}", "started_at": 1000.0 + 30 * index,
               "wall_time_s": 25.0}
        if parameters["optimizer"] == "rmsprop" and index < 8:
            row.update(status="diverged", error="training diverged: the loss became nan")
        else:
            row.update(status="finished", best_val_accuracy=accuracy,
                       final_val_accuracy=accuracy - 0.001, final_val_loss=1 - accuracy,
                       test_accuracy=accuracy - 0.01)
        rows.append(row)
    return rows


def write_results(folder, rows):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "results.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def test_analysis_finds_the_parameter_that_decides_accuracy(tmp_path):
    rows = make_rows(48)
    path = write_results(tmp_path, rows)
    summary = sweep_analysis.analyze(path)
    finished = [r for r in rows if r["status"] == "finished"]
    assert (summary["runs"], summary["finished"], summary["diverged"], summary["failed"]) == (
        48, 46, 2, 0)
    assert "epochs" not in summary["varying_parameters"]  # constant: nothing to learn
    assert summary["parameters"][0]["parameter"] == "optimizer"
    importance = {p["parameter"]: p["importance"] for p in summary["parameters"]}
    assert importance["optimizer"] > 0.6
    assert importance["optimizer"] > 5 * max(importance["batch_size"], importance["activation"])
    assert sum(importance.values()) == pytest.approx(1.0)
    features = {f["feature"]: f for f in summary["features"]}
    sgd = np.array([r["parameters"]["optimizer"] == "sgd" for r in finished], float)
    accuracy = np.array([r["best_val_accuracy"] for r in finished])
    assert features["optimizer=sgd"]["correlation"] == pytest.approx(
        np.corrcoef(sgd, accuracy)[0, 1])
    assert features["optimizer=sgd"]["correlation"] < -0.9
    assert features["learning_rate"]["correlation"] > 0  # 1e-3 beats 1e-4 here
    assert "RandomForestRegressor(n_estimators=100" in summary["importance_model"]
    # Top configurations: the five best by validation accuracy, best first.
    best = sorted(finished, key=lambda r: r["best_val_accuracy"], reverse=True)[:5]
    assert [t["key"] for t in summary["top"]] == [r["key"] for r in best]
    assert summary["best"]["key"] == best[0]["key"]
    # Runs under 65%: every sgd run and the diverged ones; sgd dominates them.
    low = summary["low_runs"]
    assert (low["runs"], low["diverged"]) == (12 + 2, 2)
    assert (low["over_represented"][0]["parameter"], low["over_represented"][0]["value"]) == (
        "optimizer", "sgd")
    assert low["over_represented"][0]["share_low"] == pytest.approx(12 / 14)
    assert low["over_represented"][0]["share_all"] == pytest.approx(12 / 48)
    assert summary["small_sample_warning"] is None
    for name in sweep_analysis.FIGURES.values():
        assert (tmp_path / name).read_bytes()[:8] == PNG
    markdown = (tmp_path / "summary.md").read_text()
    assert "| optimizer=sgd | 86% (12) | 25% (12) | 3.4x |" in markdown
    assert "RandomForestRegressor" in markdown and "unreliable" not in markdown
    on_disk = json.loads((tmp_path / "summary.json").read_text())
    assert on_disk["top"] == json.loads(json.dumps(summary["top"]))


def test_few_runs_carry_the_small_sample_warning(tmp_path):
    summary = sweep_analysis.analyze(write_results(tmp_path, make_rows(12)), tmp_path / "out")
    assert "Only 10 finished runs" in summary["small_sample_warning"]
    assert "unreliable" in (tmp_path / "out" / "summary.md").read_text()
    assert "warning: Only 10 finished runs" in sweep_analysis.format_brief(summary)


def test_the_latest_row_of_a_configuration_wins(tmp_path):
    rows = make_rows(24)
    failed = {**rows[0], "status": "failed", "error": "RuntimeError: out of memory"}
    failed.pop("best_val_accuracy")
    path = write_results(tmp_path, [failed] + rows)  # failed first, then the retry
    runs = sweep_analysis.load_runs(path)
    assert len(runs) == 24 and runs[0]["status"] == "finished"
    assert sweep_analysis.analyze(path)["failed"] == 0


def test_crashed_runs_are_counted_and_listed_but_not_analysed(tmp_path):
    rows = make_rows(24)
    rows[5] = {**rows[5], "status": "failed", "error": "RuntimeError: disk full"}
    rows[5].pop("best_val_accuracy", None)
    summary = sweep_analysis.analyze(write_results(tmp_path, rows))
    assert summary["failed"] == 1 and summary["low_runs"]["of"] == 23
    assert {"run_name": "run5", "status": "failed", "error": "RuntimeError: disk full"} in \
        summary["failures"]
    assert "run5: failed: RuntimeError: disk full" in (tmp_path / "summary.md").read_text()


def test_without_scikit_learn_the_analysis_keeps_the_correlations(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.ensemble", None)  # import fails
    summary = sweep_analysis.analyze(write_results(tmp_path, make_rows(24)))
    assert summary["importance_model"] is None
    assert "scikit-learn is not installed" in summary["importance_note"]
    assert all(p["importance"] is None for p in summary["parameters"])
    assert {f["feature"]: f for f in summary["features"]}["optimizer=sgd"]["correlation"] < -0.9
    assert (tmp_path / "parameter_importance.png").read_bytes()[:8] == PNG


def test_analysis_of_missing_or_empty_results_says_so(tmp_path):
    with pytest.raises(FileNotFoundError, match="no results file"):
        sweep_analysis.analyze(tmp_path / "nothing.jsonl")
    (tmp_path / "results.jsonl").write_text("")
    with pytest.raises(ValueError, match="holds no runs"):
        sweep_analysis.analyze(tmp_path)  # the sweep folder works too
    (tmp_path / "results.jsonl").write_text('{"epoch": 1}\n')
    with pytest.raises(ValueError, match="not a sweep result"):
        sweep_analysis.analyze(tmp_path)


def test_cli_analyze_writes_beside_the_results_or_into_out(tmp_path, capsys):
    path = write_results(tmp_path / "sweep", make_rows(24))
    assert sweep.main(["--analyze", str(path)]) == 0
    assert "best: val_accuracy=" in capsys.readouterr().out
    assert (tmp_path / "sweep" / "summary.md").is_file()
    assert sweep.main(["--analyze", str(path.parent), "--out", str(tmp_path / "elsewhere")]) == 0
    assert (tmp_path / "elsewhere" / "parallel_coordinates.png").is_file()
    assert sweep.main(["--analyze", str(tmp_path / "missing")]) == 2


def test_axis_layout_spaces_categories_and_scales_numbers():
    positions, ticks = sweep_analysis.axis_layout(["tanh", "ReLU", "sigmoid", "tanh"])
    assert ticks == [(0.0, "ReLU"), (0.5, "sigmoid"), (1.0, "tanh")]
    assert positions.tolist() == [1.0, 0.0, 0.5, 1.0]
    # Few numbers: evenly spaced in order, so 0 and 0.0005 do not collapse.
    positions, ticks = sweep_analysis.axis_layout([0.5, 0.0, 0.0005])
    assert positions.tolist() == [1.0, 0.0, 0.5]
    assert [label for _, label in ticks] == ["0", "0.0005", "0.5"]
    # Many numbers spanning decades: a log scale.
    rates = [10.0 ** (-5 + i / 5) for i in range(21)]
    positions, ticks = sweep_analysis.axis_layout(rates)
    assert np.allclose(positions, np.linspace(0, 1, 21))
    assert [label for _, label in ticks] == ["1e-05", "0.0001", "0.001", "0.01", "0.1"]
    # Many numbers in a narrow range: linear.
    positions, _ = sweep_analysis.axis_layout([0.5 + 0.01 * i for i in range(21)])
    assert np.allclose(positions, np.linspace(0, 1, 21))
    positions, ticks = sweep_analysis.axis_layout([64, 64])
    assert positions.tolist() == [0.5, 0.5] and ticks == [(0.5, "64")]
    positions, _ = sweep_analysis.axis_layout([0.81, 0.82, 0.9], ordinal_max=0)
    assert np.allclose(positions, [0.0, 1 / 9, 1.0])


def test_feature_matrix_one_hot_encodes_categories_and_pearson_handles_constants():
    rows = [{"parameters": {"optimizer": o, "hidden_size": h}}
            for o, h in (("adam", 32), ("sgd", 64), ("adam", 128))]
    matrix, features, owners = sweep_analysis.feature_matrix(rows, ["optimizer", "hidden_size"])
    assert features == ["optimizer=adam", "optimizer=sgd", "hidden_size"]
    assert owners == ["optimizer", "optimizer", "hidden_size"]
    assert matrix.tolist() == [[1, 0, 32], [0, 1, 64], [1, 0, 128]]
    x, y = np.array([1.0, 2.0, 4.0, 3.0]), np.array([2.0, 1.0, 5.0, 4.0])
    assert sweep_analysis.pearson(x, y) == pytest.approx(np.corrcoef(x, y)[0, 1])
    assert sweep_analysis.pearson(np.ones(4), y) is None


def with_configs(rows, **shared):
    """The rows with the whole configuration each run trained with, as run_sweep writes it."""
    base = {"wandb_project": "p", "wandb_entity": None, "seed": 0, "limit_train": None,
            **shared}
    return [dict(row, config={**base, **row["parameters"], "wandb_project": f"p{i % 2}"})
            for i, row in enumerate(rows)]


@pytest.mark.parametrize("schedule", ["cosine", "constant"])
def test_the_summary_states_the_schedule_and_the_settings_every_run_shared(tmp_path, schedule):
    rows = with_configs(make_rows(24), lr_schedule=schedule, loss="cross_entropy")
    summary = sweep_analysis.analyze(write_results(tmp_path, rows))
    # varying parameters, where the runs are logged, and unset values are left out
    assert summary["same_in_every_run"] == {"seed": 0, "lr_schedule": schedule,
                                            "loss": "cross_entropy", "epochs": 5}
    markdown = (tmp_path / "summary.md").read_text()
    assert f"Learning-rate schedule of every run: **{schedule}**" in markdown
    assert sweep_analysis.SCHEDULES[schedule] in markdown
    assert "Settings every run shared: seed=0, loss=cross_entropy, epochs=5." in markdown
    assert f"learning-rate schedule of every run: {schedule}" in \
        sweep_analysis.format_brief(summary)
    assert set(sweep_analysis.SCHEDULES) == set(MLPConfig.flags()["lr_schedule"].choices)


def test_a_varying_schedule_is_named_and_results_without_configurations_say_nothing(tmp_path):
    rows = with_configs(make_rows(24))
    for index, row in enumerate(rows):
        schedule = ("cosine", "constant")[index % 2]
        row["parameters"]["lr_schedule"] = row["config"]["lr_schedule"] = schedule
    summary = sweep_analysis.analyze(write_results(tmp_path / "a", rows))
    assert "lr_schedule" in summary["varying_parameters"]
    assert "lr_schedule" not in summary["same_in_every_run"]
    assert "`lr_schedule`) varies across the runs" in (tmp_path / "a" / "summary.md").read_text()
    summary = sweep_analysis.analyze(write_results(tmp_path / "b", make_rows(24)))
    assert summary["same_in_every_run"] == {}
    assert "lr_schedule" not in (tmp_path / "b" / "summary.md").read_text()


def test_over_represented_compares_the_shares_of_a_subset_with_the_whole():
    def runs(*optimizers):
        return [{"parameters": {"optimizer": o, "epochs": 5}} for o in optimizers]

    subset = runs("sgd", "sgd", "adam")
    pool = subset + runs("adam", "adam", "nadam", "adam", "nadam", "sgd", "rmsprop")
    every = sweep_analysis.over_represented(pool, subset, ["optimizer", "epochs"], name="low")
    assert every == [{"parameter": "optimizer", "value": "sgd", "runs_low": 2, "runs_all": 3,
                      "share_low": 2 / 3, "share_all": 0.3, "lift": pytest.approx(20 / 9)}]
    # adam is the subset's second value, and no more common there than overall (1/3 < 4/10)
    most = sweep_analysis.over_represented(pool, runs("adam", "adam", "sgd"), ["optimizer"],
                                           name="top", most_common_only=True)
    assert [(m["value"], m["runs_top"], m["runs_all"]) for m in most] == [("adam", 2, 4)]
    assert sweep_analysis.over_represented(pool, [], ["optimizer"]) == []
    assert sweep_analysis.over_represented(pool, pool, ["optimizer"]) == []


def test_without_matplotlib_the_analysis_writes_the_summary_and_says_why(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)  # import fails
    summary = sweep_analysis.analyze(write_results(tmp_path, make_rows(24)))
    assert summary["figures"] == {name: None for name in sweep_analysis.FIGURES}
    assert not list(tmp_path.glob("*.png"))
    assert summary["parameters"] and summary["top"]
    assert "No figures: matplotlib is not installed" in (tmp_path / "summary.md").read_text()
    assert sweep_analysis.analyze(write_results(tmp_path / "b", make_rows(24)))
