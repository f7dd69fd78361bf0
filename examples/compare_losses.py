"""Train one configuration twice, with cross-entropy and with squared error, and compare.

    python examples/compare_losses.py                   # the default configuration
    python examples/compare_losses.py -e 5 -a relu -o nadam

"Squared error" (``mean_squared_error``) is the mean squared difference between the
softmax of the logits and the one-hot target, averaged over samples and classes. Both runs
use the same seed, so they start from the same weights and see the same batches.

The output folder (default ``runs/compare_losses-<run name>-<timestamp>``) holds one run
folder per loss (``cross_entropy/``, ``mean_squared_error/``, each as written by
fashion_mnist.py), ``curves.png`` (both runs' loss and accuracy curves side by side),
``confusion_matrices.png`` (both test-set confusion matrices) and ``comparison.json``.
In wandb the two runs and a third ``comparison`` run holding these figures share one group.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402
import fashion_mnist  # noqa: E402
from common import ConfigError, TrainingDiverged, TrainingInterrupted  # noqa: E402
from tinygrad_fm.datasets import DatasetError  # noqa: E402

LOSSES = common.CHOICES["loss"]

EPILOG = """\
Exit status: 0 both runs finished, 1 a run diverged (the other still runs) or the data
could not be loaded, 2 bad options, 130 interrupted.
"""


def parse_args(argv=None):
    parser = fashion_mnist.build_parser(
        prog="compare_losses.py", description=__doc__.split("\n\n")[0],
        loss_option=False, checkpoint_options=False, epilog=EPILOG)
    # Taken only to refuse it clearly (argparse would otherwise read -l as a prefix of -lr).
    parser.add_argument("-l", "--loss", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if hasattr(args, "loss"):
        parser.error("argument -l/--loss: compare_losses.py trains with both losses; "
                     "leave it out")
    return fashion_mnist.complete_args(parser, args)


def compare(config, *, out_dir=None, wandb_mode=None, quiet=False, data_dir=None,
            figures=True, group=None, log=print) -> dict:
    """Train ``config`` once per loss; returns ``{"runs": {loss: result or None},
    "errors": {loss: message}, "group": wandb group, "out_dir": folder}``. ``group``: the
    wandb group of the runs (default ``compare_losses-<run name>-<timestamp>``)."""
    config = common.resolve_config(config)
    name = common.run_name(config)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    if out_dir is None:
        out_dir = Path("runs") / f"compare_losses-{name}-{stamp}"
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    group = group or f"compare_losses-{name}-{stamp}"
    runs, errors = {}, {}
    for loss in LOSSES:
        if not quiet:
            log(f"--- {loss} ---")
        try:
            runs[loss] = common.train(
                dict(config, loss=loss), out_dir=out_dir / loss, wandb_mode=wandb_mode,
                quiet=quiet, data_dir=data_dir, figures=figures, wandb_group=group,
                wandb_job_type=loss, name=f"{common.run_name(dict(config, loss=loss))}",
                log=log)
        except TrainingDiverged as error:
            runs[loss] = None
            errors[loss] = str(error)
            log(f"{loss}: {error}")
    finished = {loss: result for loss, result in runs.items() if result is not None}
    curves = matrices = None
    if figures and finished:
        curves = common.plot_curves({loss: r["history"] for loss, r in finished.items()},
                                    out_dir / "curves.png")
        matrices = common.plot_confusion_matrices(
            {loss: r["confusion_matrix"] for loss, r in finished.items()},
            finished[next(iter(finished))]["classes"], out_dir / "confusion_matrices.png")
    comparison = {
        "config": {k: v for k, v in config.items() if k != "loss"},
        "group": group,
        "losses": {loss: ({"status": "diverged", "error": errors[loss]} if result is None else
                          {"status": result["status"], "test_loss": result["test_loss"],
                           "test_accuracy": result["test_accuracy"],
                           "best_val_accuracy": max(h["val_accuracy"] for h in result["history"]),
                           "wall_time_s": result["wall_time_s"],
                           "out_dir": result["out_dir"]})
                   for loss, result in runs.items()},
    }
    common.write_json(out_dir / "comparison.json", comparison)
    _log_comparison(config, comparison, finished, curves, matrices, wandb_mode, out_dir, group,
                    log)
    return {"runs": runs, "errors": errors, "group": group, "out_dir": str(out_dir),
            "comparison": comparison}


def _log_comparison(config, comparison, finished, curves, matrices, wandb_mode, out_dir, group,
                    log) -> None:
    """A small run in the group that holds the side-by-side figures and a results table."""
    run = common.start_wandb(config, mode=wandb_mode, out_dir=out_dir, group=group,
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


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        outcome = compare(fashion_mnist.config_from_args(args), out_dir=args.out,
                          wandb_mode=args.wandb_mode, quiet=args.quiet, data_dir=args.data_dir)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return fashion_mnist.EXIT_USAGE
    except (FileNotFoundError, DatasetError) as error:
        print(f"error: {error}", file=sys.stderr)
        return fashion_mnist.EXIT_DIVERGED
    except (TrainingInterrupted, KeyboardInterrupt) as error:
        print(f"\ninterrupted: {error}", file=sys.stderr)
        return fashion_mnist.EXIT_INTERRUPTED
    for loss, result in outcome["comparison"]["losses"].items():
        if result["status"] == "finished":
            print(f"{loss}: test_loss={result['test_loss']:.4f} "
                  f"test_accuracy={result['test_accuracy']:.4f} ({result['wall_time_s']:.0f} s)")
        else:
            print(f"{loss}: {result['status']}")
    print(f"comparison in {outcome['out_dir']}")
    return fashion_mnist.EXIT_DIVERGED if outcome["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
