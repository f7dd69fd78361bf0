"""The report's prose: Markdown (and HTML) rendered from report_data.json alone.

Every number goes through the formatters below, so that the tests can trace each quoted
number back to a value of the data.
"""

from __future__ import annotations

from typing import Mapping, Optional, Sequence

from .report_data import DATA_NAME, DATASET_TITLES
from .sweep_analysis import importance_text

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
    lines += [importance_text(s), ""]
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
