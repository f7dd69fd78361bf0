"""examples/report.py: a tiny-budget report end to end (every section, every linked figure,
every quoted number traced to the result files, one wandb group, the same initial weights
for the optimizers, resume without retraining), and its helpers."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

import fashion_mnist
import report
import sweep
from experiment import report_data, report_text, sweep_runner
from experiment.cli import EXIT_USAGE
from experiment.sweep_runner import RESULTS_NAME
from fashion_mnist import MLPConfig

pytest.importorskip("yaml")
pytest.importorskip("matplotlib")
pytest.importorskip("sklearn")


def _have(variable: str) -> bool:
    folder = os.environ.get(variable)
    return bool(folder) and Path(folder).is_dir()


needs_both_datasets = pytest.mark.skipif(
    not (_have("FASHION_MNIST_DIR") and _have("MNIST_DIR")),
    reason="set FASHION_MNIST_DIR and MNIST_DIR to folders with the IDX files (make test does "
           "this when ../shared/datasets exists)")

SECTIONS = {
    1: "One image of each class",
    2: "The network",
    3: "Six optimizers from the same initial weights",
    4: "The sweep",
    5: "Parallel coordinates, correlation and importance",
    6: "Findings",
    7: "The best configuration",
    8: "Cross-entropy against squared error",
    9: "Reproducibility",
    10: "Configurations recommended for MNIST",
}

NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:e[-+]?\d+)?%?")


def _params_fingerprint(model) -> str:
    digest = hashlib.sha256()
    for parameter in model.parameters():
        digest.update(np.ascontiguousarray(parameter.data).tobytes())
    return digest.hexdigest()


@pytest.fixture(scope="module")
def tiny(tmp_path_factory, fake_wandb_module):
    """One tiny-budget report, made with a stand-in wandb that records every run, a record
    of the initial weights of every model trained, and the sweep's arguments."""
    if not (_have("FASHION_MNIST_DIR") and _have("MNIST_DIR")):
        pytest.skip("the datasets are not available")
    out = tmp_path_factory.mktemp("report") / "tiny"
    wandb = fake_wandb_module(logged_in=False)
    built, sweep_calls, training = [], [], {"out_dir": None}
    original_build, original_train, original_sweep = (fashion_mnist.build_model,
                                                      fashion_mnist.train, report_data.run_sweep)

    def recording_build(config, *args, **kwargs):
        model = original_build(config, *args, **kwargs)
        built.append((training["out_dir"], _params_fingerprint(model)))
        return model

    def recording_train(config, options):
        training["out_dir"] = Path(options.out_dir)
        try:
            return original_train(config, options)
        finally:
            training["out_dir"] = None

    def sweep_without_wandb(spec, out_dir, **kwargs):
        # The workers are other processes, out of the stand-in's reach: record what the
        # report asked for and run the sweep without wandb.
        sweep_calls.append(dict(kwargs, spec=spec))
        return original_sweep(spec, out_dir, **dict(kwargs, wandb_mode="disabled",
                                                    train_fn=original_train))

    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(sys.modules, "wandb", wandb)
        patch.delenv("WANDB_MODE", raising=False)
        patch.setattr(fashion_mnist, "build_model", recording_build)  # what train() calls
        patch.setattr(report, "build_model", recording_build)  # what the report is given
        patch.setattr(report, "train", recording_train)
        patch.setattr(report_data, "run_sweep", sweep_without_wandb)
        status = report.main(["--out", str(out), "--budget", "tiny", "--workers", "1", "-q"])
    assert status == 0
    markdown = (out / "report.md").read_text(encoding="utf-8")
    data = json.loads((out / report_data.DATA_NAME).read_text(encoding="utf-8"))
    return {"out": out, "markdown": markdown, "data": data, "wandb_runs": wandb.runs,
            "built": built, "sweep_calls": sweep_calls}


def sections(markdown: str) -> dict:
    parts = re.split(r"^## (\d+)\. .*$", markdown, flags=re.M)
    return {int(number): body for number, body in zip(parts[1::2], parts[2::2])}


def read_json(path: Path):
    return json.loads(Path(path).read_text(encoding="utf-8"))


def read_jsonl(path: Path) -> list:
    return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]


# ----------------------------------------------------------------------------- the report


@needs_both_datasets
def test_every_section_is_present_in_order_and_every_linked_figure_exists(tiny):
    markdown, out = tiny["markdown"], tiny["out"]
    headings = re.findall(r"^## (\d+)\. (.*)$", markdown, flags=re.M)
    assert [(int(n), title) for n, title in headings] == list(SECTIONS.items())
    assert "**tiny**" in markdown.split("## 1.")[0]  # the report names its budget
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", markdown)
    # samples, 2 optimizer curves, scatter, parallel coordinates, importance, best
    # confusion matrix, loss curves and confusion matrices
    assert len(links) == 9
    for link in links:
        assert (out / link).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", link
    text = re.sub(r"```.*?```", "", markdown, flags=re.S)
    for gap in ("None", "nan", "{", "}"):  # a value missing, or a formatting slip
        assert gap not in text
    assert not (out / "report.html").exists() or "<table>" in (out / "report.html").read_text()


@needs_both_datasets
def test_the_markdown_is_rendered_from_report_data_alone(tiny):
    assert report_text.render_markdown(tiny["data"]) == tiny["markdown"]


def _renderings(value) -> set:
    """Every way the report's formatters can print a value of report_data.json."""
    if isinstance(value, bool) or value is None:
        return set()
    if isinstance(value, str):
        return set(NUMBER.findall(value))
    v = float(value)
    shown = {report_text.percent(v), f"{100 * v:.0f}%", report_text.decimal(v), f"{v:.2f}", f"{v:.3f}",
             f"{v:+.2f}", report_text.setting(value), report_text.p_value(v), report_text.points(abs(v)),
             f"{v:.0f}"}
    if v.is_integer():
        shown.add(report_text.integer(v))
    return shown


def _leaves(value):
    if isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item)
    else:
        yield value


def prose_numbers(markdown: str) -> list:
    """Numbers of the text and tables (not headings, code or link targets)."""
    text = re.sub(r"```.*?```", "", markdown, flags=re.S)
    text = re.sub(r"`[^`]*`", "", text)
    text = re.sub(r"\]\([^)]*\)", "]", text)
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    return NUMBER.findall("\n".join(lines))


@needs_both_datasets
def test_every_number_in_the_text_is_a_value_of_report_data(tiny):
    allowed = set().union(*(_renderings(leaf) for leaf in _leaves(tiny["data"])))
    numbers = prose_numbers(tiny["markdown"])
    assert len(numbers) > 150
    assert [n for n in numbers if n not in allowed] == []


@needs_both_datasets
def test_quoted_numbers_equal_the_result_files_they_come_from(tiny):
    out, data, parts = tiny["out"], tiny["data"], sections(tiny["markdown"])

    # 3: each optimizer's row, from its run folder
    rows = {line.split(" | ")[0].strip("| "): line for line in parts[3].splitlines()
            if line.startswith("| ")}
    finals = {}
    for name in report_data.OPTIMIZERS:
        summary = read_json(out / "optimizers" / name / "summary.json")
        history = read_jsonl(out / "optimizers" / name / "metrics.jsonl")
        assert summary["status"] == "finished" and summary["config"]["optimizer"] == name
        cells = [c.strip() for c in rows[name].strip("|").split("|")]
        assert cells[1:5] == [report_text.decimal(history[-1]["train_loss"]),
                              report_text.percent(history[-1]["val_accuracy"]),
                              report_text.percent(max(r["val_accuracy"] for r in history)),
                              report_text.percent(summary["test_accuracy"])]
        finals[name] = history[-1]["val_accuracy"]
    best = max(finals, key=finals.get)
    assert f"Best by final validation accuracy: **{best}** ({report_text.percent(finals[best])})" \
        in parts[3]

    # 4-6: counts from the sweep's results file and analysis
    results = read_jsonl(out / "sweep" / RESULTS_NAME)
    analysis = read_json(out / "sweep" / "summary.json")
    assert len(results) == data["sweep"]["runs"] == analysis["runs"] == 3
    finished = sum(r["status"] == "finished" for r in results)
    assert f"{finished} finished" in parts[4]
    for p in analysis["parameters"]:
        assert f"| {p['parameter']} | {p['importance']:.3f} |" in parts[5]
    low = analysis["low_runs"]
    assert f"{low['runs']} of {low['of']} runs ended under 65%" in parts[6]

    # 7: the best run, its test accuracy and confusion matrix
    top = max((r for r in results if r["status"] == "finished"),
              key=lambda r: r["best_val_accuracy"])
    run_summary = read_json(out / "sweep" / "runs" / Path(top["run_dir"]).name / "summary.json")
    assert f"`{top['run_name']}`" in parts[7]
    assert (f"reached {report_text.percent(top['best_val_accuracy'])} validation accuracy and "
            f"{report_text.percent(run_summary['test_accuracy'])} test accuracy") in parts[7]
    counts = np.asarray(run_summary["confusion_matrix"])
    classes = run_summary["classes"]
    mistakes = counts + counts.T
    np.fill_diagonal(mistakes, 0)
    i, j = np.unravel_index(np.argmax(np.triu(mistakes)), mistakes.shape)
    first_pair = [line for line in parts[7].splitlines() if line.startswith("| ")][1]
    assert first_pair == (f"| {classes[i]} / {classes[j]} | {mistakes[i, j]:,} | "
                          f"{counts[i, j]:,} | {counts[j, i]:,} |")

    # 8: both losses, from compare_losses.py's folders
    for loss in MLPConfig.LOSSES:
        summary = read_json(out / "losses" / loss / "summary.json")
        assert summary["config"] == dict(top["config"], loss=loss)
        assert f"| {loss} | {report_text.percent(summary['test_accuracy'])} |" in parts[8]

    # 9: the dataset checksums are the files' own
    for dataset, folder in (("fashion_mnist", "FASHION_MNIST_DIR"), ("mnist", "MNIST_DIR")):
        for name in ("train-labels-idx1-ubyte", "t10k-labels-idx1-ubyte"):
            raw = gzip.decompress((Path(os.environ[folder]) / f"{name}.gz").read_bytes())
            assert f"{name}  {hashlib.sha256(raw).hexdigest()}" in parts[9]

    # 10: the three best sweep configurations, trained on MNIST
    ranked = sorted((r for r in results if r["status"] == "finished"),
                    key=lambda r: r["best_val_accuracy"], reverse=True)[:3]
    for rank, row in enumerate(ranked, 1):
        summary = read_json(out / "transfer" / f"{rank}-{row['run_name']}" / "summary.json")
        assert summary["config"] == dict(row["config"], dataset="mnist")
        line = next(line for line in parts[10].splitlines() if line.startswith(f"| {rank} |"))
        assert line.endswith(f"| {report_text.percent(row['best_val_accuracy'])} | "
                             f"{report_text.percent(summary['test_accuracy'])} |")


@needs_both_datasets
def test_the_network_section_quotes_the_models_own_repr_and_parameter_counts(tiny):
    data, part = tiny["data"], sections(tiny["markdown"])[2]
    model = fashion_mnist.build_model(MLPConfig.from_mapping(data["optimizers"]["config"]))  # the compared network
    count = sum(p.numel() for p in model.parameters())
    assert f"```\n{model!r}\n```" in part
    assert f"it has {report_text.integer(count)} trainable parameters" in part
    rows = [line for line in part.splitlines() if line.startswith("| ")][1:]
    assert len(rows) == len(data["network"]["depths"])
    for row, depth in zip(rows, data["network"]["depths"]):
        cells = [c.strip() for c in row.strip("|").split("|")]
        # input layer, depth - 1 hidden-to-hidden layers, output layer (weights and biases)
        expected = [785 * w + (depth - 1) * (w + 1) * w + (w + 1) * 10
                    for w in data["network"]["widths"]]
        assert cells == [str(depth)] + [report_text.integer(n) for n in expected]


@needs_both_datasets
def test_the_sweep_section_states_the_schedule_the_runs_trained_with(tiny):
    out, part = tiny["out"], sections(tiny["markdown"])[4]
    results = read_jsonl(out / "sweep" / RESULTS_NAME)
    (schedule,) = {row["config"]["lr_schedule"] for row in results}
    assert schedule == "cosine"  # pinned by the sweep file
    (line,) = [line for line in part.splitlines() if line.startswith("Settings the sweep does")]
    assert f"lr_schedule={schedule}" in line
    assert tiny["data"]["sweep"]["fixed"]["lr_schedule"] == schedule
    assert f"Learning-rate schedule of every run: **{schedule}**" in \
        (out / "sweep" / "summary.md").read_text()


@needs_both_datasets
def test_the_optimizers_start_from_the_same_weights_and_differ_only_in_the_optimizer(tiny):
    out = tiny["out"]
    starts = {out_dir.name: fingerprint for out_dir, fingerprint in tiny["built"]
              if out_dir is not None and out_dir.parent == out / "optimizers"}
    assert sorted(starts) == sorted(report_data.OPTIMIZERS)
    assert len(set(starts.values())) == 1
    configs = [read_json(out / "optimizers" / name / "config.json") for name in report_data.OPTIMIZERS]
    assert [c.pop("optimizer") for c in configs] == list(report_data.OPTIMIZERS)
    assert all(c == configs[0] for c in configs)
    # they did not all train the same way
    losses = {read_jsonl(out / "optimizers" / n / "metrics.jsonl")[-1]["train_loss"]
              for n in report_data.OPTIMIZERS}
    assert len(losses) == len(report_data.OPTIMIZERS)


@needs_both_datasets
def test_every_run_is_logged_in_one_wandb_project_and_group(tiny):
    data, runs = tiny["data"], tiny["wandb_runs"]
    group = data["wandb"]["group"]
    assert group.startswith("report-fashion_mnist-tiny-") and f"`{group}`" in tiny["markdown"]
    # 6 optimizers, 2 losses and their comparison run, 3 MNIST runs (in this process)
    assert len(runs) == 12
    assert {r.kwargs["group"] for r in runs} == {group}
    assert {r.kwargs["project"] for r in runs} == {"tinygrad-fm"}
    assert {r.kwargs["mode"] for r in runs} == {"offline"}  # no credentials
    assert sorted(r.kwargs["job_type"] for r in runs) == sorted(
        ["optimizers"] * 6 + ["cross_entropy", "mean_squared_error", "comparison"]
        + ["transfer"] * 3)
    # the sweep's runs, in its worker processes, are grouped by the sweep's name
    (call,) = tiny["sweep_calls"]
    assert call["wandb_mode"] == "offline" and call["spec"].name == group
    assert read_json(tiny["out"] / "sweep" / "sweep.json")["sweep"]["name"] == group


@needs_both_datasets
def test_a_second_call_reuses_every_finished_run(tiny, tmp_path, monkeypatch):
    out = tmp_path / "again"
    shutil.copytree(tiny["out"], out)

    def no_training(*args, **kwargs):
        raise AssertionError("a finished run was trained again")

    monkeypatch.setattr(report, "train", no_training)
    monkeypatch.setattr(report_data, "compare", no_training)
    monkeypatch.setattr(sweep_runner, "_Workers", no_training)  # no worker is started
    monkeypatch.setenv("WANDB_MODE", "disabled")
    assert report.main(["--out", str(out), "--budget", "tiny", "--workers", "1", "-q"]) == 0
    again = read_json(out / report_data.DATA_NAME)
    first = tiny["data"]
    changing = ("calls", "this_call_s", "wall_time_s", "command")
    for data in (again, first):
        data.pop("generated")
        for key in changing:
            data["reproducibility"].pop(key)
    assert again == first
    state = read_json(out / report_data.STATE_NAME)
    assert [i["completed"] for i in state["invocations"]] == [True, True]


# ----------------------------------------------------------------------------- command line


def test_a_folder_holding_another_budget_is_refused(tmp_path, capsys):
    out = tmp_path / "r"
    out.mkdir()
    state = {"budget": "tiny", "dataset": "fashion_mnist", "seed": 0, "group": "g",
             "sweep_file_sha256": report_data._file_sha256(sweep.DEFAULT_CONFIG),
             "wandb_project": "tinygrad-fm", "invocations": []}
    (out / report_data.STATE_NAME).write_text(json.dumps(state))
    assert report.main(["--out", str(out), "--budget", "quick", "-q"]) == EXIT_USAGE
    error = capsys.readouterr().err
    assert "budget: 'tiny' there, 'quick' asked" in error and "choose another --out" in error
    assert report.main(["--out", str(out), "--budget", "tiny", "--seed", "3", "-q"]) == 2
    assert "seed: 0 there, 3 asked" in capsys.readouterr().err


def test_bad_options_exit_with_status_2(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        report.main(["--out", str(tmp_path), "--budget", "huge"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'huge'" in capsys.readouterr().err
    assert report.main(["--out", str(tmp_path / "r"), "--workers", "0"]) == 2
    assert "workers must be a positive integer, got 0" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_the_budgets_grow_from_tiny_to_full():
    tiny, quick, full = (report_data.BUDGETS[name] for name in ("tiny", "quick", "full"))
    assert tiny.sweep_count < quick.sweep_count and full.sweep_count is None  # file's run_cap
    assert tiny.epochs <= quick.epochs and full.epochs is None  # the sweep file's epochs
    assert tiny.limit_train is not None and quick.limit_train is None is full.limit_train


# ----------------------------------------------------------------------------- the numbers


def test_fisher_p_value_equals_the_hypergeometric_tail():
    # 3 of 3 best runs hold a setting that 4 of 10 runs hold: C(4,3) C(6,0) / C(10,3)
    assert report_data.fisher_greater(3, 3, 4, 10) == pytest.approx(4 / 120)
    # 2 of 3: add C(4,2) C(6,1) / C(10,3)
    assert report_data.fisher_greater(2, 3, 4, 10) == pytest.approx((4 + 36) / 120)


def _runs(*settings):
    return [{"parameters": {"optimizer": o, "learning_rate": lr}} for o, lr in settings]


def test_shared_settings_of_the_best_runs_with_their_shares_and_p_values():
    top = _runs(("adam", 1e-3), ("adam", 1e-3), ("nadam", 1e-3))
    pool = top + _runs(("sgd", 1e-4), ("sgd", 1e-3), ("adam", 1e-4), ("sgd", 1e-4),
                       ("nag", 1e-4), ("sgd", 1e-4), ("rmsprop", 1e-4))
    shared = report_data.shared_settings(pool, top, ["optimizer", "learning_rate"])
    assert [(s["parameter"], s["value"], s["runs_top"], s["runs_all"]) for s in shared] == [
        ("learning_rate", "0.001", 3, 4), ("optimizer", "adam", 2, 3)]
    assert shared[0]["p_value"] == pytest.approx(4 / 120)
    assert shared[0]["share_top"] == 1 and shared[0]["share_all"] == pytest.approx(0.4)
    # a value no more common among the best runs than overall is not listed
    assert report_data.shared_settings(pool, pool, ["optimizer", "learning_rate"]) == []


def test_confused_pairs_add_both_directions():
    counts = np.array([[50, 3, 0], [9, 40, 1], [0, 7, 30]])
    pairs = report_data.confused_pairs(counts, ["a", "b", "c"], 2)
    assert pairs == [{"a": "a", "b": "b", "a_as_b": 3, "b_as_a": 9, "total": 12},
                     {"a": "b", "b": "c", "a_as_b": 1, "b_as_a": 7, "total": 8}]


def _findings_data(p_low: float, p_top: float) -> dict:
    setting = {"parameter": "optimizer", "value": "sgd", "runs_low": 4, "runs_all": 5,
               "share_low": 0.8, "share_all": 0.25, "lift": 3.2, "p_value": p_low}
    shared = {"parameter": "learning_rate", "value": "0.001", "runs_top": 4, "runs_all": 8,
              "share_top": 1.0, "share_all": 0.4, "p_value": p_top}
    return {"sweep": {
        "significance": 0.05, "parameters": [], "small_sample_warning": None,
        "low": {"threshold": 0.65, "runs": 5, "of": 20, "diverged": 1,
                "over_represented": [setting]},
        "best_runs": {"count": 4, "of": 20, "fraction": 0.2, "cutoff": 0.85,
                      "shared": [shared]}}}


def test_findings_claim_only_what_the_test_supports():
    supported = "\n".join(report_text._findings(_findings_data(p_low=0.004, p_top=0.01)))
    assert ("Settings more common among them than among all runs: optimizer=sgd (4 of 5, "
            "80.00%, against 25.00% of all runs; p = 0.004)") in supported
    assert "learning_rate=0.001 (4 of 4, against 40.00% of all runs; p = 0.01)" in supported
    unsupported = "\n".join(report_text._findings(_findings_data(p_low=0.3, p_top=0.2)))
    assert "Settings more common" not in unsupported
    assert "No setting is over-represented among them beyond what chance" in unsupported
    assert "No setting is more common among them than chance would give" in unsupported
    # the shares are still shown, as a table
    assert "| optimizer=sgd | 4 (80.00%) | 5 (25.00%) | 0.3 |" in unsupported
    assert "| learning_rate=0.001 | 4 (100.00%) | 8 (40.00%) | 0.2 |" in unsupported
