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

The experiments and the numbers are gathered by ``experiment.report_data``, the prose
by ``experiment.report_text``; this script ties them to fashion_mnist.py.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path

from experiment.cli import (EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE, error, exit_with,
                            sigterm_as_interrupt)
from experiment.files import os_error_message
from experiment.signals import ignore_further_interrupts
from experiment.config import ConfigError
from experiment.report_data import BUDGETS, ReportError, build_report
from experiment.sweep_runner import SweepWorkerDied
from experiment.sweep_spec import SweepConfigError
from fashion_mnist import MLPConfig, build_model, train
from tinygrad_fm.datasets import DatasetError

DEFAULT_SWEEP = Path(__file__).resolve().parent / "sweep.yaml"

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="report.py", description=__doc__.split("\n\n")[0], allow_abbrev=False,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Exit status: 0 done, 1 the data could not be loaded, a sweep worker died "
               "or DIR could not be written, 2 bad options (or DIR holds another report, a "
               "run or a sweep), 130 interrupted by Ctrl-C or SIGTERM (run the same command "
               "again to resume).")
    parser.add_argument("--out", required=True, metavar="DIR",
                        help="the report's folder (created; reused to resume)")
    parser.add_argument("--budget", choices=tuple(BUDGETS), default="quick",
                        help="quick: 20 sweep configurations, 5 epochs per run (default); "
                             "full: the assignment's scale (100 runs, the sweep file's "
                             "epochs); tiny: a smoke test for the tests")
    parser.add_argument("--dataset", choices=MLPConfig.flags()["dataset"].choices, default="fashion_mnist",
                        help="the dataset of the experiments (default fashion_mnist); the "
                             "recommendations are trained on the other one")
    parser.add_argument("--workers", type=int, default=2, metavar="K",
                        help="parallel processes for the sweep (default 2)")
    parser.add_argument("--seed", type=int, default=0, metavar="N",
                        help="seed of the sweep's sampling and of every run (default 0)")
    parser.add_argument("--sweep-config", default=str(DEFAULT_SWEEP), metavar="YAML",
                        help="the sweep file (default examples/sweep.yaml)")
    parser.add_argument("--wandb-mode", choices=("online", "offline", "disabled"),
                        help="default: online when logged in, else offline (the sweep's runs "
                             "are always offline unless disabled)")
    parser.add_argument("--wandb-project", metavar="NAME",
                        help=f"wandb project (default {MLPConfig.wandb_project})")
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
        with sigterm_as_interrupt():
            data = build_report(args.out, args.budget, config_cls=MLPConfig, train_fn=train,
                                build_model=build_model, dataset=args.dataset, seed=args.seed,
                                workers=args.workers, sweep_config=args.sweep_config,
                                wandb_mode=args.wandb_mode, wandb_project=args.wandb_project,
                                command=command, log=log)
    except (ReportError, SweepConfigError, ConfigError) as problem:
        error(problem)
        return EXIT_USAGE
    except (FileNotFoundError, DatasetError, SweepWorkerDied) as problem:
        error(problem)
        return EXIT_FAILED
    except OSError as problem:  # --out cannot be written: no permission, a full disk
        error(os_error_message(problem))
        return EXIT_FAILED
    except KeyboardInterrupt as stopped:
        ignore_further_interrupts()
        print(f"\ninterrupted ({stopped or 'Ctrl-C'}); run the same command again to resume: "
              f"{command}", file=sys.stderr)
        return EXIT_INTERRUPTED
    print(f"{Path(args.out) / 'report.md'} ({data['budget']['name']} budget, "
          f"{data['reproducibility']['this_call_s']:.0f} s)")
    return 0


if __name__ == "__main__":
    exit_with(main)
