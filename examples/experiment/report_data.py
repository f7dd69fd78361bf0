"""The report's data: run (or reuse) its experiments and gather every number it quotes.

``build_report`` trains the experiments of the report's questions (optimizers, the
sweep, the best configuration, the two losses, the transfer to the other dataset) into
one folder, reusing every finished run, and writes ``report_data.json``; the prose is
rendered from that file alone by :mod:`experiment.report_text`. The training script is
given as ``config_cls``, ``train_fn`` and ``build_model``.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import math
import platform
import shutil
import time
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable, Mapping, Optional, Sequence

import numpy as np

from tinygrad_fm.utils import data as tg_data
from tinygrad_fm import datasets

from . import sweep_analysis
from .cli import single_threaded_blas
from .comparison import compare
from .config import RunOptions
from .data import VAL_FRACTION, load_dataset
from .figures import plot_confusion_matrix, plot_curves, plot_samples
from .files import make_folder, read_json, read_json_lines, work_in, write_json, write_text
from .sweep_runner import RESULTS_NAME, run_sweep
from .sweep_spec import SweepSpec, load_sweep_config, validate_sweep_config
from .training import TrainingDiverged

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


# ----------------------------------------------------------------------------- run folders


def _read_history(run_dir: Path) -> list:
    return read_json_lines(run_dir / "metrics.jsonl")


def _read_summary(run_dir: Path) -> Optional[dict]:
    return read_json(run_dir / "summary.json")


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

    def __init__(self, out_dir, *, config_cls, train_fn: Callable, build_model: Callable,
                 budget: Budget, dataset: str, seed: int, workers: int, sweep_config: Path,
                 wandb_mode: Optional[str], wandb_project: str, log: Callable = print):
        self.config_cls, self.train_fn, self.build_model = config_cls, train_fn, build_model
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
            kind, found = work_in(self.out)
            if kind is not None:
                raise ReportError(f"--out {self.out} holds a {kind} ({', '.join(found)}), not "
                                  "a report; choose another --out")
            make_folder(self.out)
            stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
            state = dict(wanted, group=f"report-{self.dataset}-{self.budget.name}-{stamp}",
                         invocations=[])
        (self.out / "figures").mkdir(parents=True, exist_ok=True)
        self.group = state["group"]
        return state

    def train_or_reuse(self, config: Mapping, run_dir: Path, job_type: str) -> dict:
        """Train ``config`` into ``run_dir`` unless a finished (or diverged) run of the same
        configuration is there already; returns the run's record."""
        config = self.config_cls.from_mapping(config)
        summary = _read_summary(run_dir)
        if (summary is not None and summary.get("status") in ("finished", "diverged")
                and summary.get("config") == config.as_dict()):
            self.log(f"  reusing {run_dir}")
            return _run_record(summary, run_dir)
        if run_dir.exists():  # an interrupted run: start it again from nothing
            shutil.rmtree(run_dir)
        try:
            self.train_fn(config, RunOptions(
                out_dir=run_dir, wandb_mode=self.wandb_mode, quiet=True, figures=False,
                wandb_group=self.group, wandb_job_type=job_type, log=self.log))
        except TrainingDiverged as error:
            self.log(f"  {run_dir.name}: {error}")
        record = _run_record(_read_summary(run_dir), run_dir)
        if record["status"] == "finished":
            self.log(f"  {run_dir.name}: val_accuracy={record['final_val_accuracy']:.4f} "
                     f"test_accuracy={record['test_accuracy']:.4f} "
                     f"({record['wall_time_s']:.0f} s)")
        return record

    # -- sections

    def samples(self, splits) -> dict:
        figure = plot_samples(splits.train_images, splits.train_labels, splits.classes,
                                     self.out / "figures" / "samples.png")
        total = len(splits.train_labels)
        # the split every run makes (train() draws it the same way from its seed)
        _, val_indices = tg_data.split_indices(splits.train_labels, VAL_FRACTION,
                                               self.seed, stratify=True)
        val = len(val_indices)
        return {"figure": _relative(figure, self.out), "classes": list(splits.classes),
                "class_count": len(splits.classes), "train_total": total,
                "train": total - val, "val": val, "test": len(splits.test_labels),
                "val_fraction": VAL_FRACTION,
                "image_shape": list(splits.train_images.shape[1:]),
                "limit_train": self.budget.limit_train}

    def parameter_count(self, config: Mapping) -> int:
        model = self.build_model(self.config_cls.from_mapping(config))
        return int(sum(p.numel() for p in model.parameters()))

    def network(self, base: Mapping, spec: SweepSpec) -> dict:
        model = self.build_model(self.config_cls.from_mapping(base))
        grid = {p.name: list(p.values) for p in spec.parameters if p.distribution == "categorical"}
        depths = grid.get("num_layers", [base["num_layers"]])
        widths = grid.get("hidden_size", [base["hidden_size"]])
        counts = [{"num_layers": depth, "hidden_size": width,
                   "parameters": self.parameter_count(dict(base, num_layers=depth,
                                                           hidden_size=width))}
                  for depth in depths for width in widths]
        return {"config": {k: base[k] for k in ("num_layers", "hidden_size", "activation",
                                                "weight_init")},
                "repr": repr(model), "parameters": self.parameter_count(base),
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
                path = plot_curves({n: r["history"] for n, r in finished.items()},
                                   self.out / "figures" / f"optimizers_{metric}.png",
                                   panels=((label, (metric,)),), size=(7, 4.2))
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
        spec = validate_sweep_config(spec_dict, self.config_cls)
        overrides = self.overrides()
        overrides.pop("seed")  # run_sweep gives every run the sweep's seed
        self.log(f"[sweep] {self.sweep_config_path}")
        rows = run_sweep(
            spec, self.out / "sweep", config_cls=self.config_cls, train_fn=self.train_fn,
            workers=self.workers, count=self.budget.sweep_count,
            seed=self.seed, resume=True, overrides=overrides,
            wandb_mode="disabled" if self.wandb_mode == "disabled" else "offline",
            log=lambda line: self.log(f"  {line}"))
        summary = sweep_analysis.analyze(self.out / "sweep" / RESULTS_NAME,
                                         self.out / "sweep")
        return spec, rows, summary

    def sweep_section(self, spec: SweepSpec, rows: Sequence[dict], summary: Mapping) -> dict:
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
        figure = plot_confusion_matrix(
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
        config = self.config_cls.from_mapping(best["config"])
        folder = self.out / "losses"
        comparison_path = folder / "comparison.json"
        wanted = {k: v for k, v in config.as_dict().items() if k != "loss"}
        comparison = (json.loads(comparison_path.read_text(encoding="utf-8"))
                      if comparison_path.is_file() else None)
        if comparison is not None and comparison["config"] == wanted:
            self.log(f"[losses] reusing {folder}")
        else:
            self.log("[losses] cross_entropy and mean_squared_error")
            if folder.exists():
                shutil.rmtree(folder)
            comparison = compare(
                config, self.train_fn, out_dir=folder, wandb_mode=self.wandb_mode, quiet=True,
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
        finished = [runs[loss] for loss in self.config_cls.LOSSES
                    if runs.get(loss, {}).get("status") == "finished"]
        gap = (finished[0]["test_accuracy"] - finished[1]["test_accuracy"]
               if len(finished) == 2 else None)
        return {"runs": runs, "figures": figures, "epochs": config.epochs,
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


def _file_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


# ----------------------------------------------------------------------------- build


def build_report(out_dir, budget: str = "quick", *, config_cls, train_fn: Callable,
                 build_model: Callable, sweep_config, dataset: str = "fashion_mnist",
                 seed: int = 0, workers: int = 2,
                 wandb_mode: Optional[str] = None, wandb_project: Optional[str] = None,
                 command: Optional[str] = None, log: Callable = print) -> dict:
    """Run (or reuse) every experiment, write report_data.json and report.md (and
    report.html when ``markdown`` is installed) into ``out_dir``; returns the data."""
    started = time.perf_counter()
    if budget not in BUDGETS:
        raise ReportError(f"budget: {budget!r} is not one of {', '.join(BUDGETS)}")
    dataset = config_cls.check_value("dataset", dataset)
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ReportError(f"workers must be a positive integer, got {workers!r}")
    sweep_config = Path(sweep_config)
    spec_dict = load_sweep_config(sweep_config)
    reporter = Reporter(out_dir, config_cls=config_cls, train_fn=train_fn,
                        build_model=build_model, budget=BUDGETS[budget], dataset=dataset, seed=seed,
                        workers=workers, sweep_config=sweep_config, wandb_mode=wandb_mode,
                        wandb_project=wandb_project or config_cls.wandb_project,
                        log=log)
    state = reporter.open_state(_file_sha256(sweep_config))
    out = reporter.out
    invocation = {"started": datetime.now().isoformat(timespec="seconds"), "elapsed_s": None,
                  "command": command}
    state_path = out / STATE_NAME
    write_json(state_path, dict(state, invocations=[*state["invocations"], invocation]))
    data = None
    try:
        with single_threaded_blas():
            data = _gather(reporter, spec_dict, state, command, started)
    finally:
        invocation["elapsed_s"] = time.perf_counter() - started
        invocation["completed"] = data is not None
        write_json(state_path, dict(state, invocations=[*state["invocations"],
                                                                invocation]))
    return data


def _gather(reporter: Reporter, spec_dict: Mapping, state: Mapping, command, started) -> dict:
    out, log = reporter.out, reporter.log
    log(f"report in {out} ({reporter.budget.name} budget); wandb group {reporter.group}")
    splits = load_dataset(reporter.dataset)
    base = reporter.config_cls.from_mapping(reporter.overrides()).as_dict()
    spec = validate_sweep_config(spec_dict, reporter.config_cls)

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
    write_json(out / DATA_NAME, data)
    from .report_text import render_html, render_markdown

    markdown = render_markdown(read_json(out / DATA_NAME))
    write_text(out / "report.md", markdown)
    html = render_html(markdown, data["title"])
    if html is not None:
        write_text(out / "report.html", html)
    log(f"report: {out / 'report.md'}")
    return data
