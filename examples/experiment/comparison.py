"""Train one configuration with each loss from the same seed and compare the runs.

The folder holds one run folder per loss, ``curves.png`` (the runs' loss and accuracy
curves side by side), ``confusion_matrices.png`` and ``comparison.json``; in wandb the
runs and a third ``comparison`` run holding these figures share one group.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from .config import RunOptions
from .figures import plot_confusion_matrices, plot_curves
from .files import make_folder, timestamp, write_json
from .tracking import start_wandb
from .training import TrainingDiverged


def compare(config, train_fn: Callable, *, out_dir=None, wandb_mode=None, quiet=False,
            data_dir=None, figures=True, group=None, log=print, capture=True,
            overwrite=False) -> dict:
    """Train ``config`` (a configuration with a ``loss`` flag) once per loss with
    ``train_fn(config, options)``; returns
    ``{"runs": {loss: result or None}, "errors": {loss: message}, "group": wandb group,
    "out_dir": folder}``. ``group``: the wandb group of the runs (default
    ``compare_losses-<run name>-<timestamp>``). ``capture``: RunOptions.capture.
    ``overwrite``: replace the runs already in ``out_dir`` (without it they are refused)."""
    name = config.run_name()
    stamp = timestamp()
    out_dir = Path(out_dir) if out_dir is not None else Path("runs") / f"compare_losses-{name}-{stamp}"
    make_folder(out_dir)
    group = group or f"compare_losses-{name}-{stamp}"
    runs, errors = {}, {}
    for loss in type(config).LOSSES:
        if not quiet:
            log(f"--- {loss} ---")
        try:
            runs[loss] = train_fn(config.replace(loss=loss), RunOptions(
                out_dir=out_dir / loss, wandb_mode=wandb_mode, quiet=quiet, data_dir=data_dir,
                figures=figures, wandb_group=group, wandb_job_type=loss, log=log,
                capture=capture, overwrite=overwrite))
        except TrainingDiverged as error:
            runs[loss] = None
            errors[loss] = str(error)
            log(f"{loss}: {error}")
    finished = {loss: result for loss, result in runs.items() if result is not None}
    curves = matrices = None
    if figures and finished:
        curves = plot_curves({loss: r["history"] for loss, r in finished.items()},
                             out_dir / "curves.png")
        matrices = plot_confusion_matrices(
            {loss: r["confusion_matrix"] for loss, r in finished.items()},
            finished[next(iter(finished))]["classes"], out_dir / "confusion_matrices.png")
    comparison = {
        "config": {k: v for k, v in config.as_dict().items() if k != "loss"},
        "group": group,
        "losses": {loss: ({"status": "diverged", "error": errors[loss]} if result is None else
                          {"status": result["status"], "test_loss": result["test_loss"],
                           "test_accuracy": result["test_accuracy"],
                           "best_val_accuracy": max(h["val_accuracy"] for h in result["history"]),
                           "wall_time_s": result["wall_time_s"],
                           "out_dir": result["out_dir"]})
                   for loss, result in runs.items()},
    }
    write_json(out_dir / "comparison.json", comparison)
    _log_comparison(config, comparison, finished, curves, matrices, wandb_mode, out_dir, group,
                    log)
    return {"runs": runs, "errors": errors, "group": group, "out_dir": str(out_dir),
            "comparison": comparison}


def _log_comparison(config, comparison, finished, curves, matrices, wandb_mode, out_dir, group,
                    log) -> None:
    """A small run in the group that holds the side-by-side figures and a results table."""
    run = start_wandb(config.as_dict(), mode=wandb_mode, out_dir=out_dir, group=group,
                             job_type="comparison", name=f"{group}-comparison", log=log)
    if run is None:
        return
    import wandb

    columns = ["loss", "test_accuracy", "test_loss", "best_val_accuracy", "wall_time_s"]
    table = wandb.Table(columns=columns)
    for loss, result in comparison["losses"].items():
        if result["status"] == "finished":
            table.add_data(loss, *(result[c] for c in columns[1:]))
    payload = {"results": table}
    if curves is not None:
        payload["curves"] = wandb.Image(str(curves))
    if matrices is not None:
        payload["confusion_matrices"] = wandb.Image(str(matrices))
    run.log(payload)
    run.finish()
