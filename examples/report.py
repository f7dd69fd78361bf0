"""Run the DA6401 report's experiments with tinygrad_fm and write the report from what
they measured.

    python examples/report.py --out runs/report                  # quick budget (~15 min)
    python examples/report.py --out runs/report-full --budget full --workers 2

``DIR/report.md`` answers the ten questions of the report (sample images, the network,
six optimizers, a hyper-parameter sweep with its scatter, parallel-coordinates and
importance analysis, the best configuration's confusion matrix, cross-entropy against
squared error, reproducibility, configurations recommended for MNIST) with the figures
beside it as PNG (and ``report.html`` when the ``markdown`` package is installed).
Every number quoted in it is gathered first in ``DIR/report_data.json`` from the runs'
own result files, and the Markdown is rendered from that file alone.

Everything is kept in DIR: ``optimizers/<name>/``, ``sweep/`` (examples/sweep.py's folder:
results.jsonl, the analysis and every run), ``losses/`` (examples/compare_losses.py's
folder), ``transfer/`` (the MNIST runs) and ``figures/``. Calling the script again with the
same DIR reuses every finished run, so an interrupted report resumes where it stopped.

Every run is logged to wandb in one project and one group (named in the report); the
sweep's runs are logged offline, the others online when wandb has credentials and
offline otherwise. ``wandb sync`` uploads the offline ones (the report gives the command).

Programmatic use::

    import report
    data = report.build_report("runs/report", budget="quick")   # the report_data dict
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import importlib.metadata
import json
import math
import os
import platform
import shlex
import shutil
import sys
import time
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable, Mapping, Optional, Sequence

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

import common  # noqa: E402
import compare_losses  # noqa: E402
import sweep  # noqa: E402
import sweep_analysis  # noqa: E402
from tinygrad_fm.utils import data as tg_data  # noqa: E402
from tinygrad_fm import datasets  # noqa: E402

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

OPTIMIZERS = ("sgd", "momentum", "nag", "rmsprop", "adam", "nadam")
#: Where the recommendations of section 10 are trained: the other digit-sized dataset.
TRANSFER_DATASET = {"fashion_mnist": "mnist", "mnist": "fashion_mnist"}
DATASET_TITLES = {"fashion_mnist": "Fashion-MNIST", "mnist": "MNIST"}
DATASET_SPECS = {"fashion_mnist": datasets.FASHION_MNIST, "mnist": datasets.MNIST}
PACKAGES = ("tinygrad_fm", "numpy", "matplotlib", "scikit-learn", "scipy", "wandb", "PyYAML")
#: The best runs of the sweep: this fraction of the finished runs (at least TOP_MINIMUM).
TOP_FRACTION = 0.2
TOP_MINIMUM = 3
#: One-sided Fisher exact test level under which a setting is called over-represented.
SIGNIFICANCE = 0.05
RECOMMENDATIONS = 3
#: Settings the sweep section names as every run used them (when the sweep does not vary
#: them), read from the runs' configurations.
FIXED_SETTINGS = ("loss", "lr_schedule", "dropout", "momentum", "beta", "beta1", "beta2",
                  "epsilon")
CONFUSED_PAIRS = 3
STATE_NAME = "report_state.json"
DATA_NAME = "report_data.json"


@dataclass(frozen=True)
class Budget:
    """How much a report trains. ``None`` means the assignment's scale: the sweep file's
    run_cap and epochs, and the training script's default epochs elsewhere."""

    name: str
    sweep_count: Optional[int]
    epochs: Optional[int]
    limit_train: Optional[int]
    description: str


BUDGETS = {
    "quick": Budget("quick", sweep_count=20, epochs=5, limit_train=None,
                    description="a reduced version: a random sample of the sweep file's grid "
                                "and every run trained for a few epochs"),
    "full": Budget("full", sweep_count=None, epochs=None, limit_train=None,
                   description="the assignment's scale: the sweep file's number of runs and "
                               "epochs"),
    "tiny": Budget("tiny", sweep_count=3, epochs=1, limit_train=500,
                   description="a smoke test of the pipeline (a few configurations, one epoch "
                               "on a small part of the training split); its numbers say "
                               "nothing about the methods"),
}


class ReportError(ValueError):
    """The report cannot be made as asked (e.g. DIR holds another budget's report)."""


# ----------------------------------------------------------------------------- formatting
# The Markdown quotes numbers only through these, so the tests can check each quoted
# number against report_data.json.


def percent(value: float) -> str:
    return f"{100 * value:.2f}%"


def decimal(value: float) -> str:
    return f"{value:.4f}"


def integer(value: int) -> str:
    return f"{int(value):,}"


def setting(value) -> str:
    """A hyper-parameter value as the sweep file writes it (0.001, 5e-05, tanh)."""
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def points(value: float) -> str:
    """A difference of two accuracies, in percentage points."""
    return f"{100 * value:.2f}"


def seconds(value: float) -> str:
    return f"{value:.0f} s"


def p_value(value: Optional[float]) -> str:
    return "-" if value is None else f"{value:.2g}"


# ----------------------------------------------------------------------------- run folders


def _read_history(run_dir: Path) -> list:
    path = run_dir / "metrics.jsonl"
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]


def _read_summary(run_dir: Path) -> Optional[dict]:
    path = run_dir / "summary.json"
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def _run_record(summary: Mapping, run_dir: Path) -> dict:
    """What the report uses of a finished or diverged run, read from its folder."""
    history = _read_history(run_dir)
    record = {"status": summary["status"], "config": summary["config"],
              "run_name": summary.get("run_name"), "run_dir": str(run_dir),
              "history": history, "wall_time_s": summary.get("wall_time_s"),
              "error": summary.get("error")}
    if summary["status"] == "finished":
        record.update(test_accuracy=summary["test_accuracy"], test_loss=summary["test_loss"],
                      confusion_matrix=summary["confusion_matrix"],
                      final_train_loss=history[-1]["train_loss"],
                      final_val_accuracy=history[-1]["val_accuracy"],
                      best_val_accuracy=max(r["val_accuracy"] for r in history))
    return record


# ----------------------------------------------------------------------------- the report


class Reporter:
    """Runs (or reuses) the experiments of one report folder and gathers their numbers."""

    def __init__(self, out_dir, *, budget: Budget, dataset: str, seed: int, workers: int,
                 sweep_config: Path, wandb_mode: Optional[str], wandb_project: str,
                 log: Callable = print):
        self.out = Path(out_dir)
        self.budget, self.dataset, self.seed, self.workers = budget, dataset, seed, workers
        self.sweep_config_path = Path(sweep_config)
        self.wandb_mode, self.wandb_project, self.log = wandb_mode, wandb_project, log
        self.group: Optional[str] = None

    # -- bookkeeping

    def overrides(self) -> dict:
        """The budget's settings that win over every run's configuration."""
        values = {"dataset": self.dataset, "seed": self.seed,
                  "wandb_project": self.wandb_project}
        if self.budget.epochs is not None:
            values["epochs"] = self.budget.epochs
        if self.budget.limit_train is not None:
            values["limit_train"] = self.budget.limit_train
        return values

    def open_state(self, sweep_file_sha: str) -> dict:
        """The folder's state: created on the first call; later calls must ask for the
        same report, else their runs would be mixed with another budget's."""
        path = self.out / STATE_NAME
        wanted = {"budget": self.budget.name, "dataset": self.dataset, "seed": self.seed,
                  "sweep_file_sha256": sweep_file_sha, "wandb_project": self.wandb_project}
        if path.is_file():
            state = json.loads(path.read_text(encoding="utf-8"))
            differing = [f"{key}: {state.get(key)!r} there, {value!r} asked"
                         for key, value in wanted.items() if state.get(key) != value]
            if differing:
                raise ReportError(
                    f"{self.out} holds a report made with other settings ({'; '.join(differing)}); "
                    "repeat that report's options to resume it, or choose another --out")
        else:
            stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
            state = dict(wanted, group=f"report-{self.dataset}-{self.budget.name}-{stamp}",
                         invocations=[])
        (self.out / "figures").mkdir(parents=True, exist_ok=True)
        self.group = state["group"]
        return state

    def train_or_reuse(self, config: Mapping, run_dir: Path, job_type: str) -> dict:
        """Train ``config`` into ``run_dir`` unless a finished (or diverged) run of the same
        configuration is there already; returns the run's record."""
        config = common.resolve_config(config)
        summary = _read_summary(run_dir)
        if (summary is not None and summary.get("status") in ("finished", "diverged")
                and summary.get("config") == config):
            self.log(f"  reusing {run_dir}")
            return _run_record(summary, run_dir)
        if run_dir.exists():  # an interrupted run: start it again from nothing
            shutil.rmtree(run_dir)
        try:
            common.train(config, out_dir=run_dir, wandb_mode=self.wandb_mode, quiet=True,
                         figures=False, wandb_group=self.group, wandb_job_type=job_type,
                         log=self.log)
        except common.TrainingDiverged as error:
            self.log(f"  {run_dir.name}: {error}")
        record = _run_record(_read_summary(run_dir), run_dir)
        if record["status"] == "finished":
            self.log(f"  {run_dir.name}: val_accuracy={record['final_val_accuracy']:.4f} "
                     f"test_accuracy={record['test_accuracy']:.4f} "
                     f"({record['wall_time_s']:.0f} s)")
        return record

    # -- sections

    def samples(self, splits) -> dict:
        figure = common.plot_samples(splits.train_images, splits.train_labels, splits.classes,
                                     self.out / "figures" / "samples.png")
        total = len(splits.train_labels)
        # the split every run makes (train() draws it the same way from its seed)
        _, val_indices = tg_data.split_indices(splits.train_labels, common.VAL_FRACTION,
                                               self.seed, stratify=True)
        val = len(val_indices)
        return {"figure": _relative(figure, self.out), "classes": list(splits.classes),
                "class_count": len(splits.classes), "train_total": total,
                "train": total - val, "val": val, "test": len(splits.test_labels),
                "val_fraction": common.VAL_FRACTION,
                "image_shape": list(splits.train_images.shape[1:]),
                "limit_train": self.budget.limit_train}

    def network(self, base: Mapping, spec: sweep.SweepSpec) -> dict:
        model = common.build_model(base)
        grid = {p.name: list(p.values) for p in spec.parameters if p.distribution == "categorical"}
        depths = grid.get("num_layers", [base["num_layers"]])
        widths = grid.get("hidden_size", [base["hidden_size"]])
        counts = [{"num_layers": depth, "hidden_size": width,
                   "parameters": _parameter_count(dict(base, num_layers=depth,
                                                       hidden_size=width))}
                  for depth in depths for width in widths]
        return {"config": {k: base[k] for k in ("num_layers", "hidden_size", "activation",
                                                "weight_init")},
                "repr": repr(model), "parameters": _parameter_count(base),
                "depths": depths, "widths": widths, "grid": counts}

    def optimizers(self, base: Mapping) -> dict:
        runs = {}
        for name in OPTIMIZERS:
            self.log(f"[optimizers] {name}")
            runs[name] = self.train_or_reuse(dict(base, optimizer=name),
                                             self.out / "optimizers" / name, "optimizers")
        finished = {name: run for name, run in runs.items() if run["status"] == "finished"}
        figures = {}
        if finished:
            for metric, label in (("train_loss", "training loss"),
                                  ("val_accuracy", "validation accuracy")):
                path = plot_metric({n: r["history"] for n, r in finished.items()}, metric,
                                   label, self.out / "figures" / f"optimizers_{metric}.png")
                figures[metric] = _relative(path, self.out)
        table = [{"optimizer": name, "status": run["status"],
                  **{key: run.get(key) for key in ("final_train_loss", "final_val_accuracy",
                                                   "best_val_accuracy", "test_accuracy",
                                                   "wall_time_s")}}
                 for name, run in runs.items()]
        ranked = sorted(finished, key=lambda n: finished[n]["final_val_accuracy"], reverse=True)
        lowest_loss = min(finished, key=lambda n: finished[n]["final_train_loss"], default=None)
        margin = (finished[ranked[0]]["final_val_accuracy"]
                  - finished[ranked[1]]["final_val_accuracy"]) if len(ranked) > 1 else None
        return {"config": {k: base[k] for k in ("num_layers", "hidden_size", "activation",
                                                "weight_init", "batch_size", "learning_rate",
                                                "momentum", "beta", "beta1", "beta2",
                                                "weight_decay", "epochs", "seed", "loss",
                                                "lr_schedule")},
                "runs": table, "ranking": ranked, "lowest_train_loss": lowest_loss,
                "margin": margin,
                "figures": figures}

    def run_the_sweep(self, spec_dict: Mapping) -> tuple:
        spec_dict = dict(spec_dict, name=self.group)  # the sweep's wandb group
        spec = sweep.validate_sweep_config(spec_dict)
        overrides = self.overrides()
        overrides.pop("seed")  # run_sweep gives every run the sweep's seed
        self.log(f"[sweep] {self.sweep_config_path}")
        rows = sweep.run_sweep(
            spec, self.out / "sweep", workers=self.workers, count=self.budget.sweep_count,
            seed=self.seed, resume=True, overrides=overrides,
            wandb_mode="disabled" if self.wandb_mode == "disabled" else "offline",
            log=lambda line: self.log(f"  {line}"))
        summary = sweep_analysis.analyze(self.out / "sweep" / sweep.RESULTS_NAME,
                                         self.out / "sweep")
        return spec, rows, summary

    def sweep_section(self, spec: sweep.SweepSpec, rows: Sequence[dict], summary: Mapping) -> dict:
        finished = sorted((r for r in rows if r["status"] == "finished"),
                          key=lambda r: r["best_val_accuracy"], reverse=True)
        names = summary["varying_parameters"]
        low = dict(summary["low_runs"])
        low["over_represented"] = [
            dict(s, p_value=fisher_greater(s["runs_low"], low["runs"], s["runs_all"], low["of"]))
            for s in low["over_represented"]]
        top_count = max(TOP_MINIMUM, math.ceil(TOP_FRACTION * len(finished)))
        top = finished[:top_count] if len(finished) > top_count else []
        grid = {p.name: (list(p.values) if p.values else [p.distribution, p.low, p.high])
                for p in spec.parameters}
        # read from the runs' own configurations, so that the schedule stated is the one
        # they trained with, whether the sweep file pins it or leaves the script's default
        shared = summary["same_in_every_run"]
        fixed = {key: shared[key] for key in FIXED_SETTINGS if key in shared}
        return {
            "file": self.sweep_config_path.name, "method": spec.method,
            "metric": spec.metric["name"], "grid": grid, "fixed": fixed,
            "requested": self.budget.sweep_count or spec.run_cap,
            "runs": summary["runs"], "finished": summary["finished"],
            "diverged": summary["diverged"], "failed": summary["failed"],
            "workers": self.workers, "varying": names, "seed": self.seed,
            "epochs": self.budget.epochs,
            "total_wall_time_s": summary["total_wall_time_s"],
            "figures": {k: _relative(v, self.out) if v else None
                        for k, v in summary["figures"].items()},
            "top": [_brief(r) for r in finished[:5]],
            "importance_model": summary["importance_model"],
            "importance_note": summary["importance_note"],
            "parameters": summary["parameters"],
            "small_sample_warning": summary["small_sample_warning"],
            "low": low,
            "best_runs": {"count": len(top), "of": len(finished), "fraction": TOP_FRACTION,
                          "cutoff": top[-1]["best_val_accuracy"] if top else None,
                          "shared": shared_settings(finished, top, names)},
            "significance": SIGNIFICANCE,
        }

    def best(self, rows: Sequence[dict]) -> Optional[dict]:
        finished = [r for r in rows if r["status"] == "finished"]
        if not finished:
            return None
        row = max(finished, key=lambda r: r["best_val_accuracy"])
        run_dir = self.out / "sweep" / "runs" / Path(row["run_dir"]).name
        summary = _read_summary(run_dir)
        counts = np.asarray(summary["confusion_matrix"])
        classes = summary["classes"]
        figure = common.plot_confusion_matrix(
            counts, classes, self.out / "figures" / "best_confusion_matrix.png",
            title="Best sweep run, test set")
        return {"run_name": row["run_name"], "key": row["key"],
                "run_dir": _relative(run_dir, self.out),
                "parameters": row["parameters"], "config": row["config"],
                "best_val_accuracy": row["best_val_accuracy"],
                "test_accuracy": summary["test_accuracy"],
                "test_images": int(counts.sum()), "correct": int(np.trace(counts)),
                "confused_pairs": confused_pairs(counts, classes, CONFUSED_PAIRS),
                "figure": _relative(figure, self.out)}

    def losses(self, best: Mapping) -> dict:
        config = common.resolve_config(best["config"])
        folder = self.out / "losses"
        comparison_path = folder / "comparison.json"
        wanted = {k: v for k, v in config.items() if k != "loss"}
        comparison = (json.loads(comparison_path.read_text(encoding="utf-8"))
                      if comparison_path.is_file() else None)
        if comparison is not None and comparison["config"] == wanted:
            self.log(f"[losses] reusing {folder}")
        else:
            self.log("[losses] cross_entropy and mean_squared_error")
            if folder.exists():
                shutil.rmtree(folder)
            comparison = compare_losses.compare(
                config, out_dir=folder, wandb_mode=self.wandb_mode, quiet=True,
                group=self.group, log=lambda line: self.log(f"  {line}"))["comparison"]
        runs = {}
        for loss, entry in comparison["losses"].items():
            run = {"status": entry["status"]}
            if entry["status"] == "finished":
                run.update({k: entry[k] for k in ("test_accuracy", "test_loss",
                                                  "best_val_accuracy", "wall_time_s")})
                history = _read_history(folder / loss)
                run["final_val_accuracy"] = history[-1]["val_accuracy"]
            runs[loss] = run
        figures = {name: _relative(folder / f"{name}.png", self.out)
                   for name in ("curves", "confusion_matrices")
                   if (folder / f"{name}.png").is_file()}
        finished = [runs[loss] for loss in compare_losses.LOSSES
                    if runs.get(loss, {}).get("status") == "finished"]
        gap = (finished[0]["test_accuracy"] - finished[1]["test_accuracy"]
               if len(finished) == 2 else None)
        return {"runs": runs, "figures": figures, "epochs": config["epochs"],
                "sweep_test_accuracy": best["test_accuracy"],
                "cross_entropy_minus_squared_error": gap}

    def transfer(self, rows: Sequence[dict]) -> dict:
        target = TRANSFER_DATASET[self.dataset]
        finished = sorted((r for r in rows if r["status"] == "finished"),
                          key=lambda r: r["best_val_accuracy"], reverse=True)
        chosen = finished[:RECOMMENDATIONS]
        runs = []
        for rank, row in enumerate(chosen, 1):
            self.log(f"[transfer] {rank}: {row['run_name']} on {target}")
            record = self.train_or_reuse(dict(row["config"], dataset=target),
                                         self.out / "transfer" / f"{rank}-{row['run_name']}",
                                         "transfer")
            runs.append({"rank": rank, "run_name": row["run_name"],
                         "parameters": row["parameters"],
                         "source_val_accuracy": row["best_val_accuracy"],
                         "source_test_accuracy": row["test_accuracy"],
                         "status": record["status"],
                         "test_accuracy": record.get("test_accuracy"),
                         "best_val_accuracy": record.get("best_val_accuracy"),
                         "wall_time_s": record.get("wall_time_s")})
        done = [r for r in runs if r["status"] == "finished"]
        best = max(done, key=lambda r: r["test_accuracy"]) if done else None
        return {"dataset": target, "runs": runs, "best_rank": best["rank"] if best else None,
                "requested": RECOMMENDATIONS}

    def reproducibility(self, command: str, state: Mapping, elapsed: float,
                        training_time: float) -> dict:
        versions = {"python": platform.python_version()}
        for package in PACKAGES:
            try:
                versions[package] = importlib.metadata.version(package)
            except importlib.metadata.PackageNotFoundError:
                versions[package] = "not installed"
        checksums = {}
        for name in (self.dataset, TRANSFER_DATASET[self.dataset]):
            spec = DATASET_SPECS[name]
            checksums[name] = {file: spec.files[file][1] for file in datasets.IDX_FILES}
        previous = sum(i["elapsed_s"] for i in state["invocations"])
        return {"command": command, "seed": self.seed,
                "forest_seed": sweep_analysis.FOREST_SEED, "versions": versions,
                "platform": platform.platform(), "checksums": checksums,
                "calls": len(state["invocations"]) + 1, "this_call_s": elapsed,
                "wall_time_s": previous + elapsed, "training_time_s": training_time}


def _parameter_count(config: Mapping) -> int:
    return int(sum(p.numel() for p in common.build_model(config).parameters()))


def _relative(path, root: Path) -> Optional[str]:
    if path is None:
        return None
    return Path(path).resolve().relative_to(Path(root).resolve()).as_posix()


def _brief(row: Mapping) -> dict:
    return {"run_name": row["run_name"], "parameters": row["parameters"],
            "best_val_accuracy": row["best_val_accuracy"], "test_accuracy": row["test_accuracy"],
            "wall_time_s": row["wall_time_s"]}


# ----------------------------------------------------------------------------- numbers


def fisher_greater(in_subset: int, subset: int, in_pool: int, pool: int) -> Optional[float]:
    """One-sided Fisher exact p-value that a setting held by ``in_pool`` of ``pool`` runs
    is over-represented among a subset of ``subset`` runs holding it ``in_subset`` times;
    None without SciPy (installed with scikit-learn)."""
    try:
        from scipy.stats import fisher_exact
    except ImportError:
        return None
    table = [[in_subset, subset - in_subset],
             [in_pool - in_subset, (pool - subset) - (in_pool - in_subset)]]
    return float(fisher_exact(table, alternative="greater")[1])


def shared_settings(pool: Sequence[dict], subset: Sequence[dict], names: Sequence[str]) -> list:
    """For each parameter, its most common value among ``subset`` (the best runs) when that
    value is more common there than among all of ``pool`` (counts and shares from
    :func:`sweep_analysis.over_represented`), with its p-value; the clearest first."""
    shared = [dict(s, p_value=fisher_greater(s["runs_top"], len(subset), s["runs_all"],
                                              len(pool)))
              for s in sweep_analysis.over_represented(pool, subset, names, name="top",
                                                       most_common_only=True)]
    shared.sort(key=lambda s: (s["p_value"] if s["p_value"] is not None else 1.0,
                               -s["share_top"]))
    return shared


def confused_pairs(counts: np.ndarray, classes: Sequence[str], how_many: int) -> list:
    """The class pairs most often mistaken for each other (both directions added)."""
    pairs = []
    for i in range(len(classes)):
        for j in range(i + 1, len(classes)):
            total = int(counts[i, j] + counts[j, i])
            if total:
                pairs.append({"a": classes[i], "b": classes[j], "a_as_b": int(counts[i, j]),
                              "b_as_a": int(counts[j, i]), "total": total})
    pairs.sort(key=lambda p: p["total"], reverse=True)
    return pairs[:how_many]


def plot_metric(histories: Mapping[str, list], metric: str, label: str,
                path: Path) -> Optional[Path]:
    """One line per run of ``metric`` per epoch."""
    figure = common.new_figure(7, 4.2)
    if figure is None:
        return None
    from matplotlib.ticker import MaxNLocator

    axis = figure.subplots()
    for index, (name, history) in enumerate(histories.items()):
        axis.plot([r["epoch"] for r in history], [r[metric] for r in history], marker="o",
                  markersize=3, color=f"C{index}", label=name)
    axis.xaxis.set_major_locator(MaxNLocator(integer=True))
    axis.set_xlabel("epoch")
    axis.set_ylabel(label)
    axis.set_title(f"{label} per epoch")
    if metric.endswith("loss"):
        axis.set_yscale("log")
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8)
    path.parent.mkdir(parents=True, exist_ok=True)
    return common.save_figure(figure, path)


def _file_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@contextlib.contextmanager
def _single_threaded_blas():
    """These matrices are small: one BLAS thread is faster than several contending for
    the cores, and the sweep's workers run with one as well (same arithmetic)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # installed with scikit-learn; without it, leave BLAS as it is
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


# ----------------------------------------------------------------------------- build


def build_report(out_dir, budget: str = "quick", *, dataset: str = "fashion_mnist",
                 seed: int = 0, workers: int = 2, sweep_config=None,
                 wandb_mode: Optional[str] = None, wandb_project: Optional[str] = None,
                 command: Optional[str] = None, log: Callable = print) -> dict:
    """Run (or reuse) every experiment, write report_data.json and report.md (and
    report.html when ``markdown`` is installed) into ``out_dir``; returns the data."""
    started = time.perf_counter()
    if budget not in BUDGETS:
        raise ReportError(f"budget: {budget!r} is not one of {', '.join(BUDGETS)}")
    dataset = common.canonical_choice("dataset", dataset)
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ReportError(f"workers must be a positive integer, got {workers!r}")
    sweep_config = Path(sweep_config) if sweep_config is not None else sweep.DEFAULT_CONFIG
    spec_dict = sweep.load_sweep_config(sweep_config)
    reporter = Reporter(out_dir, budget=BUDGETS[budget], dataset=dataset, seed=seed,
                        workers=workers, sweep_config=sweep_config, wandb_mode=wandb_mode,
                        wandb_project=wandb_project or common.DEFAULTS["wandb_project"],
                        log=log)
    state = reporter.open_state(_file_sha256(sweep_config))
    out = reporter.out
    invocation = {"started": datetime.now().isoformat(timespec="seconds"), "elapsed_s": None,
                  "command": command}
    state_path = out / STATE_NAME
    common.write_json(state_path, dict(state, invocations=[*state["invocations"], invocation]))
    data = None
    try:
        with _single_threaded_blas():
            data = _gather(reporter, spec_dict, state, command, started)
    finally:
        invocation["elapsed_s"] = time.perf_counter() - started
        invocation["completed"] = data is not None
        common.write_json(state_path, dict(state, invocations=[*state["invocations"],
                                                                invocation]))
    return data


def _gather(reporter: Reporter, spec_dict: Mapping, state: Mapping, command, started) -> dict:
    out, log = reporter.out, reporter.log
    log(f"report in {out} ({reporter.budget.name} budget); wandb group {reporter.group}")
    splits = common.load_dataset(reporter.dataset)
    base = common.resolve_config(reporter.overrides())
    spec = sweep.validate_sweep_config(spec_dict)

    data = {
        "title": f"{DATASET_TITLES[reporter.dataset]} with tinygrad_fm: the report's questions, "
                 "measured",
        "dataset": reporter.dataset, "dataset_title": DATASET_TITLES[reporter.dataset],
        "budget": asdict(reporter.budget),
        "wandb": {"project": reporter.wandb_project, "group": reporter.group,
                  "mode": reporter.wandb_mode or "automatic"},
        "generated": datetime.now().isoformat(timespec="seconds"),
    }
    data["samples"] = reporter.samples(splits)
    data["network"] = reporter.network(base, spec)
    data["optimizers"] = reporter.optimizers(base)
    spec, rows, summary = reporter.run_the_sweep(spec_dict)
    data["sweep"] = reporter.sweep_section(spec, rows, summary)
    best = reporter.best(rows)
    data["best"] = best
    data["losses"] = reporter.losses(best) if best else None
    data["transfer"] = reporter.transfer(rows)

    training = (sum(r["wall_time_s"] or 0.0 for r in data["optimizers"]["runs"])
                + data["sweep"]["total_wall_time_s"]
                + sum(r["wall_time_s"] or 0.0 for r in data["transfer"]["runs"])
                + (sum(r.get("wall_time_s", 0.0) for r in data["losses"]["runs"].values())
                   if data["losses"] else 0.0))
    data["reproducibility"] = reporter.reproducibility(
        command or "", state, time.perf_counter() - started, training)
    common.write_json(out / DATA_NAME, data)
    markdown = render_markdown(json.loads((out / DATA_NAME).read_text(encoding="utf-8")))
    common.write_atomic(out / "report.md",
                        lambda temporary: Path(temporary).write_text(markdown, encoding="utf-8"))
    html = render_html(markdown, data["title"])
    if html is not None:
        common.write_atomic(out / "report.html",
                            lambda temporary: Path(temporary).write_text(html, encoding="utf-8"))
    log(f"report: {out / 'report.md'}")
    return data


def render_html(markdown_text: str, title: str) -> Optional[str]:
    """The Markdown as a standalone HTML page, or None when ``markdown`` is not installed."""
    try:
        import markdown
    except ImportError:
        return None
    body = markdown.markdown(markdown_text, extensions=["tables", "fenced_code"])
    return (f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{title}</title>"
            f"</head><body>\n{body}\n</body></html>\n")


# ----------------------------------------------------------------------------- Markdown


def _settings_text(parameters: Mapping) -> str:
    return ", ".join(f"{name}={setting(value)}" for name, value in parameters.items())


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list:
    return (["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
            + ["| " + " | ".join(row) + " |" for row in rows] + [""])


def _or_dash(value, formatter) -> str:
    return "-" if value is None else formatter(value)


def render_markdown(data: Mapping) -> str:
    """The report, from report_data.json alone (every number goes through the formatters
    above, so it can be traced back)."""
    lines = [f"# {data['title']}", ""]
    budget, wandb = data["budget"], data["wandb"]
    limit = (f", on the first {integer(budget['limit_train'])} images of the training split"
             if budget["limit_train"] else "")
    epochs = (f"every run trained for {integer(budget['epochs'])} epoch(s){limit}"
              if budget["epochs"] else f"the sweep file's epochs{limit}")
    lines += [
        f"Budget: **{budget['name']}**, {budget['description']} ({epochs}). Every number "
        f"below is read from the result files in this folder and gathered in "
        f"`{DATA_NAME}`; every run is logged to the wandb project `{wandb['project']}` in "
        f"the group `{wandb['group']}` (the reproducibility section says how to upload "
        "the offline runs).", ""]
    for section in (_samples, _network, _optimizers, _sweep, _parallel, _findings, _best,
                    _losses, _reproducibility, _transfer):
        lines += section(data)
    return "\n".join(lines).rstrip() + "\n"


def _samples(data) -> list:
    s = data["samples"]
    shape = " x ".join(integer(n) for n in s["image_shape"])
    lines = ["## 1. One image of each class", "",
             f"![One training image of each class]({s['figure']})", "",
             f"{data['dataset_title']} has {integer(s['class_count'])} classes of "
             f"{shape} grey-level images: {integer(s['train_total'])} for training, of which "
             f"a class-stratified {percent(s['val_fraction'])} ({integer(s['val'])}) is held "
             f"out for validation, leaving {integer(s['train'])}, and {integer(s['test'])} "
             "for testing."]
    if s["limit_train"]:
        lines[-1] += (f" In this budget every run trains on the first "
                      f"{integer(s['limit_train'])} of the training images only.")
    return lines + [""]


def _network(data) -> list:
    n = data["network"]
    c = n["config"]
    lines = ["## 2. The network", "",
             f"`build_model` stacks `num_layers` hidden layers of `hidden_size` units (each a "
             f"`Linear` and the activation) and a `Linear` output layer of logits. With "
             f"num_layers={setting(c['num_layers'])}, hidden_size={setting(c['hidden_size'])}, "
             f"activation {c['activation']} and {c['weight_init']} initialisation (the "
             f"optimizer comparison's network) its `repr` is", "",
             "```", n["repr"], "```", "",
             f"and it has {integer(n['parameters'])} trainable parameters. Parameter counts "
             "over the sweep's depths (rows) and widths (columns):", ""]
    header = ["num_layers"] + [f"hidden_size={setting(w)}" for w in n["widths"]]
    counts = {(g["num_layers"], g["hidden_size"]): g["parameters"] for g in n["grid"]}
    rows = [[setting(d)] + [integer(counts[(d, w)]) for w in n["widths"]] for d in n["depths"]]
    return lines + _table(header, rows)


def _optimizers(data) -> list:
    o = data["optimizers"]
    c = o["config"]
    lines = ["## 3. Six optimizers from the same initial weights", "",
             f"The network above trained with each optimizer on the same batches from the same "
             f"initial weights (`train` seeds the generator with seed={setting(c['seed'])} "
             f"before building the model): {integer(c['epochs'])} epoch(s), batch size "
             f"{setting(c['batch_size'])}, learning rate {setting(c['learning_rate'])} for all "
             f"({c['lr_schedule']} schedule), "
             f"weight decay {setting(c['weight_decay'])}, momentum {setting(c['momentum'])} "
             f"(momentum, nag), beta {setting(c['beta'])} (rmsprop), betas "
             f"{setting(c['beta1'])} and {setting(c['beta2'])} (adam, nadam). One learning rate "
             "and one seed: this ranks the optimizers at this setting, not each at its best.",
             ""]
    for metric, caption in (("train_loss", "Training loss per epoch"),
                            ("val_accuracy", "Validation accuracy per epoch")):
        if o["figures"].get(metric):
            lines += [f"![{caption}]({o['figures'][metric]})", ""]
    rows = []
    for r in o["runs"]:
        if r["status"] != "finished":
            rows.append([r["optimizer"], r["status"], "-", "-", "-", "-"])
            continue
        rows.append([r["optimizer"], decimal(r["final_train_loss"]),
                     percent(r["final_val_accuracy"]), percent(r["best_val_accuracy"]),
                     percent(r["test_accuracy"]), seconds(r["wall_time_s"])])
    lines += _table(["optimizer", "final training loss", "final validation accuracy",
                     "best validation accuracy", "test accuracy", "time"], rows)
    by_name = {r["optimizer"]: r for r in o["runs"]}
    ranking = o["ranking"]
    if ranking:
        first = by_name[ranking[0]]
        text = (f"Best by final validation accuracy: **{ranking[0]}** "
                f"({percent(first['final_val_accuracy'])})")
        if len(ranking) > 1:
            second = by_name[ranking[1]]
            text += (f", {points(o['margin'])} percentage points ahead of {ranking[1]} "
                     f"({percent(second['final_val_accuracy'])})")
            last = by_name[ranking[-1]]
            text += (f"; last: {ranking[-1]} ({percent(last['final_val_accuracy'])})")
        lowest = by_name[o["lowest_train_loss"]]
        text += (f". Lowest final training loss: **{o['lowest_train_loss']}** "
                 f"({decimal(lowest['final_train_loss'])}).")
        lines += [text]
    stopped = [r["optimizer"] for r in o["runs"] if r["status"] != "finished"]
    if stopped:
        lines += ["", f"Diverged (the loss became NaN or infinite): {', '.join(stopped)}."]
    return lines + [""]


def _sweep(data) -> list:
    s = data["sweep"]
    grid_rows = [[name, ", ".join(setting(v) for v in values)]
                 for name, values in s["grid"].items()]
    lines = ["## 4. The sweep", "",
             f"The sweep file `{s['file']}` (method {s['method']}, metric {s['metric']}) "
             "defines this grid:", ""]
    lines += _table(["parameter", "values"], grid_rows)
    if s["fixed"]:
        lines += ["Settings the sweep does not vary, the same in every run (from the runs' "
                  "configurations): " + _settings_text(s["fixed"]) + ".", ""]
    sampled = (f"a random sample of {integer(s['runs'])} configurations (seed "
               f"{setting(s['seed'])})" if s["method"] == "random"
               else f"{integer(s['runs'])} configurations")
    lines += [f"`examples/sweep.py` ran {sampled} offline in {integer(s['workers'])} worker "
              f"process(es): {integer(s['finished'])} finished, {integer(s['diverged'])} "
              f"diverged and {integer(s['failed'])} failed, in "
              f"{seconds(s['total_wall_time_s'])} of training time. Validation accuracy is "
              "each run's best epoch."]
    budget = data["budget"]
    if budget["epochs"] or budget["limit_train"]:
        lines[-1] += (" This budget overrides the grid: every run trained for "
                      f"{integer(s['epochs'])} epoch(s)" if budget["epochs"] else
                      " This budget overrides the grid: every run")
        if budget["limit_train"]:
            lines[-1] += f" on the first {integer(budget['limit_train'])} training images"
        lines[-1] += "."
    lines += [""]
    if s["figures"].get("scatter"):
        lines += [f"![Validation accuracy of every run]({s['figures']['scatter']})", ""]
    if s["top"]:
        names = s["varying"]
        rows = [[integer(i)] + [setting(t["parameters"].get(n)) for n in names]
                + [percent(t["best_val_accuracy"]), percent(t["test_accuracy"])]
                for i, t in enumerate(s["top"], 1)]
        lines += [f"The {integer(len(s['top']))} best runs:", ""]
        lines += _table(["#", *names, "validation accuracy", "test accuracy"], rows)
    return lines


def _parallel(data) -> list:
    s = data["sweep"]
    lines = ["## 5. Parallel coordinates, correlation and importance", ""]
    if s["figures"].get("parallel_coordinates"):
        lines += [f"![Parallel coordinates]({s['figures']['parallel_coordinates']})", ""]
    if s["figures"].get("importance"):
        lines += [f"![Parameter importance and correlation]({s['figures']['importance']})", ""]
    lines += [sweep_analysis.importance_text(s), ""]
    if s["parameters"]:
        rows = [[p["parameter"], _or_dash(p["importance"], lambda v: f"{v:.3f}"),
                 _or_dash(p["correlation"], lambda v: f"{v:+.2f}"),
                 f"`{p['correlated_feature']}`" if p["correlated_feature"] else "-"]
                for p in s["parameters"]]
        lines += _table(["parameter", "importance", "correlation", "most correlated column"],
                        rows)
    if s["small_sample_warning"]:
        lines += [f"**Caveat:** {s['small_sample_warning']}", ""]
    return lines


def _findings(data) -> list:
    s = data["sweep"]
    level = s["significance"]
    lines = ["## 6. Findings", "",
             f"Each setting below is compared between a group of runs and all runs with a "
             f"one-sided Fisher exact test; a setting is called over-represented only when "
             f"p < {setting(level)} (not corrected for the number of settings compared).", ""]
    low = s["low"]
    threshold = f"{100 * low['threshold']:.0f}%"
    if not low["runs"]:
        lines += [f"**Runs under {threshold}:** none of the {integer(low['of'])} runs ended "
                  f"under {threshold} validation accuracy.", ""]
    else:
        lines += [f"**Runs under {threshold}:** {integer(low['runs'])} of {integer(low['of'])} "
                  f"runs ended under {threshold} validation accuracy"
                  + (f" (including {integer(low['diverged'])} that diverged)."
                     if low["diverged"] else ".")]
        clear = [x for x in low["over_represented"]
                 if x["p_value"] is not None and x["p_value"] < level]
        if clear:
            lines[-1] += " Settings more common among them than among all runs: " + "; ".join(
                f"{x['parameter']}={x['value']} ({integer(x['runs_low'])} of "
                f"{integer(low['runs'])}, {percent(x['share_low'])}, against "
                f"{percent(x['share_all'])} of all runs; p = {p_value(x['p_value'])})"
                for x in clear) + "."
        else:
            lines[-1] += (" No setting is over-represented among them beyond what chance "
                          "would give (the table lists the shares).")
        lines += [""]
        rows = [[f"{x['parameter']}={x['value']}",
                 f"{integer(x['runs_low'])} ({percent(x['share_low'])})",
                 f"{integer(x['runs_all'])} ({percent(x['share_all'])})",
                 p_value(x["p_value"])] for x in low["over_represented"]]
        if rows:
            lines += _table(["setting", f"runs under {threshold}", "all runs", "p"], rows)
    best = s["best_runs"]
    if not best["count"]:
        lines += [f"**Best runs:** too few finished runs ({integer(best['of'])}) to compare the "
                  "best of them with the rest.", ""]
    else:
        lines += [f"**Best runs:** the best {integer(best['count'])} of {integer(best['of'])} "
                  f"finished runs (validation accuracy at least {percent(best['cutoff'])})."]
        clear = [x for x in best["shared"] if x["p_value"] is not None and x["p_value"] < level]
        if clear:
            lines[-1] += " Settings more common among them than among all runs: " + "; ".join(
                f"{x['parameter']}={x['value']} ({integer(x['runs_top'])} of "
                f"{integer(best['count'])}, against {percent(x['share_all'])} of all runs; "
                f"p = {p_value(x['p_value'])})" for x in clear) + "."
        else:
            lines[-1] += (" No setting is more common among them than chance would give; "
                          "the table lists, for each parameter, the value they hold most "
                          "often when it is more common among them than among all runs.")
        lines += [""]
        rows = [[f"{x['parameter']}={x['value']}",
                 f"{integer(x['runs_top'])} ({percent(x['share_top'])})",
                 f"{integer(x['runs_all'])} ({percent(x['share_all'])})",
                 p_value(x["p_value"])] for x in best["shared"]]
        if rows:
            lines += _table(["setting", "best runs", "all runs", "p"], rows)
    ranked = [p for p in s["parameters"] if p["importance"] is not None]
    if ranked:
        lines += ["**Importance:** the random forest ranks " + ", ".join(
            f"{p['parameter']} ({p['importance']:.3f})" for p in ranked[:3])
            + " highest (figure and table of the previous section)"
            + (", but see the caveat there about the number of runs." if s["small_sample_warning"]
               else "."), ""]
    return lines


def _best(data) -> list:
    b = data["best"]
    lines = ["## 7. The best configuration", ""]
    if b is None:
        return lines + ["No sweep run finished, so there is no best configuration.", ""]
    lines += [f"The sweep run with the highest validation accuracy, `{b['run_name']}` "
              f"({_settings_text(b['parameters'])}), reached {percent(b['best_val_accuracy'])} "
              f"validation accuracy and {percent(b['test_accuracy'])} test accuracy "
              f"({integer(b['correct'])} of {integer(b['test_images'])} test images). The test "
              "accuracy is that same sweep run's (its final weights), not a new training.", "",
              f"![Confusion matrix of the best run]({b['figure']})", ""]
    if b["confused_pairs"]:
        lines += ["The classes it confuses most (test set, both directions added):", ""]
        rows = [[f"{p['a']} / {p['b']}", integer(p["total"]), integer(p["a_as_b"]),
                 integer(p["b_as_a"])] for p in b["confused_pairs"]]
        lines += _table(["pair", "mistakes", "first taken for second",
                         "second taken for first"], rows)
    return lines


def _losses(data) -> list:
    lines = ["## 8. Cross-entropy against squared error", ""]
    losses = data["losses"]
    if losses is None:
        return lines + ["No best configuration to train (no sweep run finished).", ""]
    lines += [f"The best configuration trained once with each loss by "
              f"`examples/compare_losses.py` (same seed, so the same initial weights and "
              f"batches; {integer(losses['epochs'])} epoch(s)). Squared error is the mean "
              "squared difference between softmax(logits) and the one-hot target.", ""]
    for name, caption in (("curves", "Loss and accuracy per epoch for both losses"),
                          ("confusion_matrices", "Confusion matrices of both losses")):
        if losses["figures"].get(name):
            lines += [f"![{caption}]({losses['figures'][name]})", ""]
    rows = []
    for loss, r in losses["runs"].items():
        if r["status"] != "finished":
            rows.append([loss, r["status"], "-", "-", "-"])
        else:
            rows.append([loss, percent(r["test_accuracy"]), percent(r["best_val_accuracy"]),
                         decimal(r["test_loss"]), seconds(r["wall_time_s"])])
    lines += _table(["loss", "test accuracy", "best validation accuracy", "test loss", "time"],
                    rows)
    ce, mse = losses["runs"].get("cross_entropy"), losses["runs"].get("mean_squared_error")
    gap = losses["cross_entropy_minus_squared_error"]
    if gap is not None:
        if gap > 0:
            verdict = f"cross-entropy reached the higher test accuracy, by {points(gap)}"
        elif gap < 0:
            verdict = f"squared error reached the higher test accuracy, by {points(-gap)}"
        else:
            verdict = "both reached the same test accuracy, a difference of 0"
        lines += [f"On this configuration {verdict} percentage points (one seed each)."]
        same = ce["test_accuracy"] == losses["sweep_test_accuracy"]
        lines += ["", f"The cross-entropy run repeats the best sweep run (same configuration "
                  f"and seed) in another process: test accuracy {percent(ce['test_accuracy'])} "
                  f"here, {percent(losses['sweep_test_accuracy'])} in the sweep"
                  + (" (identical)." if same else
                     " (they differ).")]
    return lines + [""]


def _reproducibility(data) -> list:
    r = data["reproducibility"]
    lines = ["## 9. Reproducibility", "",
             f"Wall time: {seconds(r['wall_time_s'])} over {integer(r['calls'])} call(s) of "
             f"the script (this call {seconds(r['this_call_s'])}); the runs' own training "
             f"time adds up to {seconds(r['training_time_s'])} (the sweep's workers train in "
             "parallel).", "", "```"]
    lines += [f"command:  {r['command']}",
              f"seeds:    {r['seed']} (sweep sampling, every run's weights, split and batch "
              f"order); random forest {r['forest_seed']}",
              f"platform: {r['platform']}"]
    lines += [f"{name + ':':22s}{version}" for name, version in r["versions"].items()]
    for dataset, files in r["checksums"].items():
        lines.append(f"{dataset} (SHA-256 of the uncompressed files, verified when loaded):")
        lines += [f"  {file}  {digest}" for file, digest in files.items()]
    lines += ["```", "",
              "Upload the offline wandb runs (after `wandb login`), all in the group named "
              "above:", "",
              "```",
              "find . -type d -name 'offline-run-*' -path '*/wandb/*' -exec wandb sync {} +",
              "```",
              "(run it in this folder). Resume an interrupted report, or rebuild this one from "
              "its results, by repeating the command above: finished runs are reused.", ""]
    return lines


def _transfer(data) -> list:
    t = data["transfer"]
    title = DATASET_TITLES[t["dataset"]]
    lines = [f"## 10. Configurations recommended for {title}", ""]
    if not t["runs"]:
        return lines + ["No sweep run finished, so there is nothing to recommend.", ""]
    lines += [f"The {integer(len(t['runs']))} best distinct configurations of the "
              f"{data['dataset_title']} sweep (by validation accuracy) are the recommendations; "
              f"each was then trained on {title} with the same budget and seed:", ""]
    rows = []
    for r in t["runs"]:
        result = (percent(r["test_accuracy"]) if r["status"] == "finished" else r["status"])
        rows.append([integer(r["rank"]), _settings_text(r["parameters"]),
                     percent(r["source_val_accuracy"]), result])
    lines += _table(["#", "configuration", f"{data['dataset_title']} validation accuracy",
                     f"{title} test accuracy"], rows)
    if t["best_rank"] is not None:
        best = next(r for r in t["runs"] if r["rank"] == t["best_rank"])
        lines += [f"Best on {title}: configuration {integer(best['rank'])}, "
                  f"{percent(best['test_accuracy'])} test accuracy.", ""]
    return lines


# ----------------------------------------------------------------------------- command line


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="report.py", description=__doc__.split("\n\n")[0], allow_abbrev=False,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Exit status: 0 done, 1 the data could not be loaded or a sweep worker died, "
               "2 bad options (or DIR holds another report), 130 interrupted (run the same "
               "command again to resume).")
    parser.add_argument("--out", required=True, metavar="DIR",
                        help="the report's folder (created; reused to resume)")
    parser.add_argument("--budget", choices=tuple(BUDGETS), default="quick",
                        help="quick: 20 sweep configurations, 5 epochs per run (default); "
                             "full: the assignment's scale (100 runs, the sweep file's "
                             "epochs); tiny: a smoke test for the tests")
    parser.add_argument("--dataset", choices=common.CHOICES["dataset"], default="fashion_mnist",
                        help="the dataset of the experiments (default fashion_mnist); the "
                             "recommendations are trained on the other one")
    parser.add_argument("--workers", type=int, default=2, metavar="K",
                        help="parallel processes for the sweep (default 2)")
    parser.add_argument("--seed", type=int, default=0, metavar="N",
                        help="seed of the sweep's sampling and of every run (default 0)")
    parser.add_argument("--sweep-config", default=str(sweep.DEFAULT_CONFIG), metavar="YAML",
                        help="the sweep file (default examples/sweep.yaml)")
    parser.add_argument("--wandb-mode", choices=("online", "offline", "disabled"),
                        help="default: online when logged in, else offline (the sweep's runs "
                             "are always offline unless disabled)")
    parser.add_argument("--wandb-project", metavar="NAME",
                        help=f"wandb project (default {common.DEFAULTS['wandb_project']})")
    parser.add_argument("-q", "--quiet", action="store_true", help="print only the result")
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    arguments = list(sys.argv[1:] if argv is None else argv)
    command = shlex.join(["python", "examples/report.py", *arguments])
    log = (lambda *a, **k: None) if args.quiet else print
    # wandb's banners would bury the progress lines; the report says where the runs are
    os.environ.setdefault("WANDB_SILENT", "true")
    try:
        data = build_report(args.out, args.budget, dataset=args.dataset, seed=args.seed,
                            workers=args.workers, sweep_config=args.sweep_config,
                            wandb_mode=args.wandb_mode, wandb_project=args.wandb_project,
                            command=command, log=log)
    except (ReportError, sweep.SweepConfigError, common.ConfigError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except (FileNotFoundError, datasets.DatasetError, sweep.SweepWorkerDied) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt as error:
        print(f"\ninterrupted ({error or 'Ctrl-C'}); run the same command again to resume: "
              f"{command}", file=sys.stderr)
        return EXIT_INTERRUPTED
    print(f"{Path(args.out) / 'report.md'} ({data['budget']['name']} budget, "
          f"{data['reproducibility']['this_call_s']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
