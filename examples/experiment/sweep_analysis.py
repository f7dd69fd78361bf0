"""The panels a sweep report is built from, computed offline from a sweep's results.jsonl.

    python examples/sweep.py --analyze runs/sweeps/sweep/results.jsonl

writes beside the results (or into ``out_dir``):

- ``val_accuracy_vs_time.png``: each run's validation accuracy against its start time;
- ``parallel_coordinates.png``: the parameters that vary, one line per run, coloured by
  validation accuracy;
- ``parameter_importance.png``: in the manner of wandb's parameter-importance panel, the
  importance of each parameter from a random forest fitted to the runs, and the Pearson
  correlation of each parameter (one column per category) with validation accuracy;
- ``summary.md`` / ``summary.json``: counts, the learning-rate schedule and the other
  settings every run shared (from the runs' configurations), the top configurations, the
  importance table, the settings over-represented among the runs under 65% validation
  accuracy, and a warning when there are too few runs to trust the importances.

Without matplotlib (an optional extra) the summary is written without the figures.

"Validation accuracy" is each run's best epoch (``best_val_accuracy``). Runs that
diverged count among the runs under 65%; runs that crashed are only counted.

Public API::

    analyze(results, out_dir=None) -> summary dict (also written as summary.json)
    format_brief(summary) -> str
    load_runs(results) -> list of rows (the latest row of each configuration)
    over_represented(pool, subset, names, *, name, most_common_only) -> list of settings
    low_run_settings(rows, names) -> dict;  settings_of_every_run(rows) -> dict
    schedule_text(summary) -> lines;  importance_text(summary) -> str
    axis_layout(values) -> (positions in [0, 1], [(position, label), ...])
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from .figures import new_figure, save_figure
from .files import file_in, write_json, write_text
from .sweep_runner import RESULTS_NAME, read_results
from .sweep_spec import LOGGING_KEYS

LOW_ACCURACY = 0.65
#: Below this many finished runs the importances are not to be trusted.
SMALL_SAMPLE = 20
TOP_CONFIGURATIONS = 5
FOREST_TREES = 100
FOREST_SEED = 0
IMPORTANCE_MODEL = (f"scikit-learn RandomForestRegressor(n_estimators={FOREST_TREES}, "
                    f"random_state={FOREST_SEED}) predicting the best validation accuracy "
                    "from the parameters (numbers as they are, categories one-hot); a "
                    "parameter's importance is the sum of the impurity-based "
                    "feature_importances_ of its columns")
#: What each learning-rate schedule of the training script does (``--lr-schedule``).
SCHEDULES = {"constant": "the learning rate stays as set",
             "cosine": "the learning rate anneals from its set value to 0 over the run",
             "onecycle": "the learning rate warms up to its set value, then anneals"}
#: Numeric parameters with at most this many distinct values get evenly spaced axis
#: positions (weight decay 0, 0.0005, 0.5 would otherwise collapse onto one point).
ORDINAL_MAX_VALUES = 10

FIGURES = {"scatter": "val_accuracy_vs_time.png",
           "parallel_coordinates": "parallel_coordinates.png",
           "importance": "parameter_importance.png"}


# ----------------------------------------------------------------------------- loading


def _results_path(results) -> Path:
    return file_in(results, RESULTS_NAME, "results file",
                          "give the results.jsonl of a sweep (or its folder)")


def load_runs(results) -> list:
    """The latest row of every configuration (a run retried after a crash replaces its
    failed row), in the order the runs started."""
    latest = {}
    for row in read_results(_results_path(results)):
        if "key" not in row or "status" not in row:
            raise ValueError(f"{results}: a row without key/status is not a sweep result: "
                             f"{str(row)[:120]}")
        latest[row["key"]] = row
    return sorted(latest.values(), key=lambda row: row.get("started_at", 0.0))


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _varying_parameters(rows: Sequence[dict]) -> list:
    names = list(dict.fromkeys(name for row in rows for name in row["parameters"]))
    return [name for name in names
            if len({repr(row["parameters"].get(name)) for row in rows}) > 1]


def _label(value) -> str:
    return f"{value:g}" if _is_number(value) else str(value)


# ----------------------------------------------------------------------------- numbers


def feature_matrix(rows: Sequence[dict], names: Sequence[str]):
    """Columns for the model: numeric parameters as they are, categorical ones one-hot.
    Returns ``(X, feature_names, parameter_of_feature)``."""
    columns, features, owners = [], [], []
    for name in names:
        values = [row["parameters"].get(name) for row in rows]
        if all(_is_number(v) for v in values):
            columns.append(np.asarray(values, dtype=np.float64))
            features.append(name)
            owners.append(name)
        else:
            for category in sorted({_label(v) for v in values}):
                columns.append(np.asarray([_label(v) == category for v in values], np.float64))
                features.append(f"{name}={category}")
                owners.append(name)
    matrix = np.stack(columns, axis=1) if columns else np.empty((len(rows), 0))
    return matrix, features, owners


def pearson(x: np.ndarray, y: np.ndarray) -> Optional[float]:
    """Pearson's r, or None when either side is constant."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    dx, dy = x - x.mean(), y - y.mean()
    denominator = math.sqrt(float(dx @ dx) * float(dy @ dy))
    return float(dx @ dy / denominator) if denominator > 0 else None


def forest_importances(matrix: np.ndarray, target: np.ndarray):
    """The forest's feature_importances_, or ``(None, reason)`` when it cannot be fitted."""
    if len(target) < 3:
        return None, f"only {len(target)} finished runs: too few to fit a model"
    if np.ptp(target) == 0:
        return None, "every finished run has the same validation accuracy"
    try:
        from sklearn.ensemble import RandomForestRegressor
    except ImportError:
        return None, ("scikit-learn is not installed (pip install -e '.[examples]'); "
                      "correlations only")
    forest = RandomForestRegressor(n_estimators=FOREST_TREES, random_state=FOREST_SEED)
    forest.fit(matrix, target)
    return forest.feature_importances_, None


def over_represented(pool: Sequence[dict], subset: Sequence[dict], names: Sequence[str], *,
                     name: str = "subset", most_common_only: bool = False) -> list:
    """The settings more common among ``subset`` (some of the runs of ``pool``) than among
    all of ``pool``.

    For each parameter of ``names``, every value (with ``most_common_only``, only the value
    ``subset`` holds most often) whose share among ``subset`` exceeds its share among
    ``pool``. Each entry: ``parameter``, ``value`` (as text), ``runs_<name>`` and
    ``share_<name>`` (count and share among ``subset``), ``runs_all``, ``share_all`` and
    ``lift`` (the ratio of the shares); in the order of ``names`` and of the sorted values.
    """
    if not subset or not pool:
        return []
    found = []
    for parameter in names:
        held = [_label(row["parameters"].get(parameter)) for row in subset]
        everywhere = [_label(row["parameters"].get(parameter)) for row in pool]
        candidates = sorted(set(everywhere))
        if most_common_only:
            candidates = [max(sorted(set(held)), key=held.count)]
        for value in candidates:
            in_subset, in_pool = held.count(value), everywhere.count(value)
            share_subset, share_all = in_subset / len(subset), in_pool / len(pool)
            if share_subset > share_all:
                found.append({"parameter": parameter, "value": value,
                              f"runs_{name}": in_subset, "runs_all": in_pool,
                              f"share_{name}": share_subset, "share_all": share_all,
                              "lift": share_subset / share_all})
    return found


def low_run_settings(rows: Sequence[dict], names: Sequence[str],
                     threshold: float = LOW_ACCURACY) -> dict:
    """Which settings are over-represented among runs under ``threshold`` (and diverged
    runs): each value's share among them against its share among all these runs (see
    :func:`over_represented`), the largest excess first."""
    pool = [row for row in rows if row["status"] in ("finished", "diverged")]
    low = [row for row in pool if row["status"] == "diverged"
           or row["best_val_accuracy"] < threshold]
    settings = over_represented(pool, low, names, name="low")
    settings.sort(key=lambda s: (s["share_low"] - s["share_all"], s["runs_low"]), reverse=True)
    return {"threshold": threshold, "runs": len(low), "of": len(pool),
            "diverged": sum(row["status"] == "diverged" for row in low),
            "over_represented": settings[:10]}


def settings_of_every_run(rows: Sequence[dict]) -> dict:
    """The configuration values that every run shares (read from each row's ``config``,
    the run's whole configuration), apart from where it is logged and unset (None)
    values: what the sweep kept fixed, such as the learning-rate schedule. Empty when a
    row has no configuration."""
    configs = [row.get("config") for row in rows]
    if not configs or not all(isinstance(config, dict) for config in configs):
        return {}
    first = configs[0]
    return {key: value for key, value in first.items()
            if key not in LOGGING_KEYS and value is not None
            and all(key in config and config[key] == value for config in configs)}


def axis_layout(values: Sequence, ordinal_max: int = ORDINAL_MAX_VALUES):
    """Positions in [0, 1] of ``values`` on a parallel-coordinates axis and its ticks.

    Categories, and numbers with at most ``ordinal_max`` distinct values, are evenly
    spaced in sorted order; other numbers are scaled linearly, or logarithmically when
    positive and spanning at least two decades.
    """
    values = list(values)
    if all(_is_number(v) for v in values):
        distinct = sorted(set(values))
        if len(distinct) > max(ordinal_max, 1):
            logarithmic = distinct[0] > 0 and distinct[-1] / distinct[0] >= 100
            scale = np.log10 if logarithmic else (lambda v: np.asarray(v, np.float64))
            low, high = float(scale(distinct[0])), float(scale(distinct[-1]))
            positions = (scale(np.asarray(values, np.float64)) - low) / (high - low)
            marks = np.linspace(low, high, 5)
            labels = 10 ** marks if logarithmic else marks
            return positions, [(float((m - low) / (high - low)), f"{v:.3g}")
                               for m, v in zip(marks, labels)]
        keys = distinct
    else:
        keys = sorted({_label(v) for v in values})
        values = [_label(v) for v in values]
    spot = {key: (i / (len(keys) - 1) if len(keys) > 1 else 0.5) for i, key in enumerate(keys)}
    return (np.asarray([spot[v] for v in values], np.float64),
            [(spot[key], _label(key)) for key in keys])


# ----------------------------------------------------------------------------- figures


# Each returns the PNG's path as text, or None when matplotlib is not installed.
DPI = 110


def _save(figure, path: Path) -> str:
    return str(save_figure(figure, path))


def plot_scatter(rows: Sequence[dict], path: Path) -> Optional[str]:
    figure = new_figure(8, 4.5, dpi=DPI)
    if figure is None:
        return None
    axis = figure.subplots()
    start = min(row.get("started_at", 0.0) for row in rows)
    minutes = lambda row: (row.get("started_at", start) - start) / 60  # noqa: E731
    finished = [row for row in rows if row["status"] == "finished"]
    stopped = [row for row in rows if row["status"] != "finished"]
    if finished:
        x = [minutes(row) for row in finished]
        y = [row["best_val_accuracy"] for row in finished]
        axis.scatter(x, y, s=22, color="C0", label=f"finished ({len(finished)})", zorder=3)
        order = np.argsort(x)
        axis.step(np.asarray(x)[order], np.maximum.accumulate(np.asarray(y)[order]),
                  where="post", color="C2", lw=1, label="best so far")
        floor = min(y)
    else:
        floor = 0.0
    if stopped:
        axis.scatter([minutes(row) for row in stopped], [floor] * len(stopped), marker="x",
                     color="C3", label=f"diverged or failed ({len(stopped)})", zorder=3)
    axis.axhline(LOW_ACCURACY, color="0.6", ls=":", lw=1, label=f"{LOW_ACCURACY:.0%}")
    axis.set_xlabel("start time (minutes since the first run)")
    axis.set_ylabel("validation accuracy (best epoch)")
    axis.set_title(f"Validation accuracy of {len(rows)} runs against start time")
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8, loc="lower right")
    return _save(figure, path)


def plot_parallel_coordinates(rows: Sequence[dict], names: Sequence[str],
                              path: Path) -> Optional[str]:
    """One vertical axis per varying parameter and one for validation accuracy; each run
    a line coloured by its validation accuracy (best runs drawn on top)."""
    finished = [row for row in rows if row["status"] == "finished"]
    if not finished or not names:
        return None
    labels = list(names) + ["val_accuracy"]
    figure = new_figure(max(8.0, 1.5 * len(labels) + 2), 5.5, dpi=DPI)
    if figure is None:
        return None
    from matplotlib import colormaps
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    accuracy = np.asarray([row["best_val_accuracy"] for row in finished])
    layouts = [axis_layout([row["parameters"].get(name) for row in finished])
               for name in names]
    layouts.append(axis_layout(accuracy.tolist(), ordinal_max=0))  # a scale, not ranks
    positions = np.stack([layout[0] for layout in layouts], axis=1)
    axis = figure.subplots()
    colours, norm = colormaps["viridis"], Normalize(accuracy.min(), accuracy.max())
    for index in np.argsort(accuracy, kind="stable"):
        axis.plot(range(len(labels)), positions[index], color=colours(norm(accuracy[index])),
                  alpha=0.75, lw=1.2)
    for column, (_, ticks) in enumerate(layouts):
        axis.axvline(column, color="0.2", lw=0.8)
        for position, text in ticks:
            axis.text(column - 0.04, position, text, ha="right", va="center", fontsize=7,
                      bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.7, "pad": 1})
    axis.set_xticks(range(len(labels)), labels, rotation=15)
    axis.set_yticks([])
    axis.set_xlim(-0.5, len(labels) - 0.8)
    axis.set_ylim(-0.05, 1.05)
    for side in ("left", "right", "top"):
        axis.spines[side].set_visible(False)
    axis.set_title(f"Parallel coordinates of {len(finished)} finished runs")
    figure.colorbar(ScalarMappable(norm=norm, cmap=colours), ax=axis,
                    label="validation accuracy (best epoch)")
    return _save(figure, path)


def plot_importance(parameters: Sequence[dict], features: Sequence[dict], path: Path,
                    model_note: Optional[str]) -> Optional[str]:
    shown = sorted((f for f in features if f["correlation"] is not None),
                   key=lambda f: abs(f["correlation"]), reverse=True)[:15]
    figure = new_figure(11, 0.32 * max(len(parameters), len(shown), 4) + 1.6, dpi=DPI)
    if figure is None:
        return None
    left, right = figure.subplots(1, 2)
    ranked = [p for p in parameters if p["importance"] is not None]
    if ranked:
        ranked = sorted(ranked, key=lambda p: p["importance"])
        left.barh([p["parameter"] for p in ranked], [p["importance"] for p in ranked],
                  color="C0")
        left.set_xlabel("importance (random forest)")
    else:
        left.text(0.5, 0.5, f"no importance:\n{model_note}", ha="center", va="center",
                  wrap=True, fontsize=9, transform=left.transAxes)
        left.set_axis_off()
    left.set_title("Parameter importance for val_accuracy")
    if shown:
        shown = shown[::-1]
        right.barh([f["feature"] for f in shown], [f["correlation"] for f in shown],
                   color=["C2" if f["correlation"] > 0 else "C3" for f in shown])
        right.axvline(0, color="0.3", lw=0.8)
        right.set_xlim(-1, 1)
    right.set_xlabel("Pearson correlation with val_accuracy")
    right.set_title("Correlation (categories one-hot)")
    return _save(figure, path)


# ----------------------------------------------------------------------------- the analysis


def analyze(results, out_dir=None) -> dict:
    """Analyse a sweep's results file; write the figures, summary.md and summary.json
    into ``out_dir`` (default: the results file's folder) and return the summary."""
    path = _results_path(results)
    out_dir = Path(out_dir) if out_dir is not None else path.parent
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = load_runs(path)
    if not rows:
        raise ValueError(f"{path} holds no runs yet")
    finished = [row for row in rows if row["status"] == "finished"]
    names = _varying_parameters([row for row in rows if row["status"] != "failed"])
    counts = {status: sum(row["status"] == status for row in rows)
              for status in ("finished", "diverged", "failed")}

    parameters, features, model_note = [], [], None
    if finished and names:
        matrix, feature_names, owners = feature_matrix(finished, names)
        target = np.asarray([row["best_val_accuracy"] for row in finished])
        importances, model_note = forest_importances(matrix, target)
        for column, (feature, owner) in enumerate(zip(feature_names, owners)):
            features.append({
                "feature": feature, "parameter": owner,
                "correlation": pearson(matrix[:, column], target) if len(target) > 1 else None,
                "importance": None if importances is None else float(importances[column])})
        for name in names:
            own = [f for f in features if f["parameter"] == name]
            strongest = max((f for f in own if f["correlation"] is not None),
                            key=lambda f: abs(f["correlation"]), default=None)
            parameters.append({
                "parameter": name,
                "importance": (None if importances is None
                               else float(sum(f["importance"] for f in own))),
                "correlation": strongest["correlation"] if strongest else None,
                "correlated_feature": strongest["feature"] if strongest else None})
        parameters.sort(key=lambda p: (p["importance"] is not None, p["importance"] or 0.0,
                                       abs(p["correlation"] or 0.0)), reverse=True)
    elif not names:
        model_note = "no parameter varies across these runs"
    else:
        model_note = "no run finished"

    top = sorted(finished, key=lambda row: row["best_val_accuracy"], reverse=True)
    warning = None
    if len(finished) < SMALL_SAMPLE:
        warning = (f"Only {len(finished)} finished runs: with fewer than about {SMALL_SAMPLE} "
                   "runs the importances and correlations are unreliable (a forest fitted to "
                   "a handful of points ranks noise); read them as hints, not findings.")
    figures = {"scatter": plot_scatter(rows, out_dir / FIGURES["scatter"]),
               "parallel_coordinates": plot_parallel_coordinates(
                   rows, names, out_dir / FIGURES["parallel_coordinates"]),
               "importance": (plot_importance(parameters, features,
                                              out_dir / FIGURES["importance"], model_note)
                              if parameters else None)}
    summary = {
        "results": str(path), "runs": len(rows), **counts,
        "metric": "best_val_accuracy",
        "varying_parameters": names,
        "same_in_every_run": settings_of_every_run(rows),
        "best": _brief_row(top[0]) if top else None,
        "top": [_brief_row(row) for row in top[:TOP_CONFIGURATIONS]],
        "importance_model": IMPORTANCE_MODEL if model_note is None else None,
        "importance_note": model_note,
        "parameters": parameters, "features": features,
        "low_runs": low_run_settings(rows, names),
        "failures": [{"run_name": row.get("run_name"), "status": row["status"],
                      "error": row.get("error")} for row in rows if row["status"] != "finished"],
        "small_sample_warning": warning,
        "total_wall_time_s": float(sum(row.get("wall_time_s", 0.0) for row in rows)),
        "figures": figures,
        "figures_note": (None if any(figures.values()) or new_figure(1, 1) is not None
                         else "matplotlib is not installed (pip install matplotlib), so no "
                              "figures are written"),
        "summary_markdown": str(out_dir / "summary.md"),
    }
    write_json(out_dir / "summary.json", summary)
    markdown = render_markdown(summary)
    write_text(out_dir / "summary.md", markdown)
    return summary


def _brief_row(row: dict) -> dict:
    return {"run_name": row.get("run_name"), "key": row["key"],
            "parameters": row["parameters"], "best_val_accuracy": row["best_val_accuracy"],
            "final_val_loss": row.get("final_val_loss"),
            "test_accuracy": row.get("test_accuracy"), "wall_time_s": row.get("wall_time_s"),
            "run_dir": row.get("run_dir")}


def _number(value, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def render_markdown(summary: dict) -> str:
    lines = [f"# Sweep summary: {summary['runs']} runs",
             "",
             f"{summary['finished']} finished, {summary['diverged']} diverged, "
             f"{summary['failed']} failed (crashed); results in `{summary['results']}`. "
             "Validation accuracy is each run's best epoch.", ""]
    lines += schedule_text(summary)
    if summary["small_sample_warning"]:
        lines += [f"**Warning:** {summary['small_sample_warning']}", ""]
    if summary["top"]:
        names = summary["varying_parameters"]
        lines += [f"## Top {len(summary['top'])} configurations", "",
                  "| # | val accuracy | test accuracy | val loss | "
                  + " | ".join(names) + " |",
                  "|---|---|---|---|" + "---|" * len(names)]
        for rank, row in enumerate(summary["top"], 1):
            lines.append(f"| {rank} | {_number(row['best_val_accuracy'], 4)} | "
                         f"{_number(row['test_accuracy'], 4)} | "
                         f"{_number(row['final_val_loss'])} | "
                         + " | ".join(_label(row["parameters"].get(n)) for n in names) + " |")
        lines.append("")
    lines += ["## Parameter importance", "", importance_text(summary), ""]
    if summary["parameters"]:
        lines += ["| parameter | importance | correlation | strongest column |",
                  "|---|---|---|---|"]
        for p in summary["parameters"]:
            lines.append(f"| {p['parameter']} | {_number(p['importance'])} | "
                         f"{_number(p['correlation'], 2)} | {p['correlated_feature'] or '-'} |")
        lines.append("")
    low = summary["low_runs"]
    lines += [f"## Runs under {low['threshold']:.0%} validation accuracy", ""]
    if low["runs"] and low["runs"] == low["of"]:
        lines.append(f"All {low['of']} runs are under {low['threshold']:.0%} (including "
                     f"{low['diverged']} diverged), so no setting stands out among them.")
    elif low["runs"]:
        lines += [f"{low['runs']} of {low['of']} runs (including {low['diverged']} diverged). "
                  "Settings over-represented among them (share among these runs against "
                  "share among all):", "",
                  "| setting | share of low runs | share of all runs | lift |",
                  "|---|---|---|---|"]
        for s in low["over_represented"]:
            lines.append(f"| {s['parameter']}={s['value']} | {s['share_low']:.0%} "
                         f"({s['runs_low']}) | {s['share_all']:.0%} ({s['runs_all']}) | "
                         f"{s['lift']:.1f}x |")
    else:
        lines.append(f"No run ended under {low['threshold']:.0%}.")
    lines.append("")
    if summary["failures"]:
        lines += ["## Runs that did not finish", ""]
        lines += [f"- {f['run_name']}: {f['status']}: "
                  f"{(f['error'] or '').splitlines()[0] if f['error'] else ''}"
                  for f in summary["failures"]]
        lines.append("")
    lines += ["## Figures", ""]
    lines += [f"- `{Path(p).name}`" for p in summary["figures"].values() if p]
    if summary["figures_note"]:
        lines.append(f"No figures: {summary['figures_note']}.")
    return "\n".join(lines) + "\n"


def schedule_text(summary: dict) -> list:
    """Lines saying which learning-rate schedule the runs trained with (the training
    script anneals the rate by default, which the assignment's grid does not mention)
    and the other settings every run shared; none for results without configurations."""
    shared = summary["same_in_every_run"]
    if "lr_schedule" in summary["varying_parameters"]:
        lines = ["The learning-rate schedule (`lr_schedule`) varies across the runs."]
    elif "lr_schedule" in shared:
        lines = [f"Learning-rate schedule of every run: **{shared['lr_schedule']}** "
                 f"(`lr_schedule`; {SCHEDULES.get(shared['lr_schedule'], '')})."]
    else:
        return []
    others = {k: v for k, v in shared.items() if k != "lr_schedule"}
    if others:
        lines[-1] += " Settings every run shared: " + ", ".join(
            f"{key}={_label(value)}" for key, value in others.items()) + "."
    return lines + [""]


def importance_text(summary: dict) -> str:
    """What the importance and correlation columns mean, or why there is no importance
    (``summary`` holds ``importance_model`` and ``importance_note``)."""
    if summary["importance_model"]:
        return (f"Importance: {summary['importance_model']}. Correlation: Pearson's r of the "
                "parameter (for a category, its most correlated one-hot column) with the "
                "validation accuracy of the finished runs.")
    return f"No importance model: {summary['importance_note']}."


def format_brief(summary: dict) -> str:
    """A few lines for the terminal."""
    lines = [f"{summary['runs']} runs: {summary['finished']} finished, "
             f"{summary['diverged']} diverged, {summary['failed']} failed"]
    if summary["best"]:
        best = summary["best"]
        lines.append(f"best: val_accuracy={best['best_val_accuracy']:.4f} "
                     f"test_accuracy={best['test_accuracy']:.4f} {best['run_name']}")
    ranked = [p for p in summary["parameters"] if p["importance"] is not None]
    if ranked:
        lines.append("most important: " + ", ".join(
            f"{p['parameter']} ({p['importance']:.2f})" for p in ranked[:3]))
    if "lr_schedule" in summary["same_in_every_run"]:
        lines.append(f"learning-rate schedule of every run: "
                     f"{summary['same_in_every_run']['lr_schedule']}")
    if summary["small_sample_warning"]:
        lines.append(f"warning: {summary['small_sample_warning']}")
    lines.append(f"summary and figures: {summary['summary_markdown']}")
    return "\n".join(lines)
