"""Hyper-parameter sweeps of examples/fashion_mnist.py, online with wandb's sweep service or
offline on this machine, and the analysis of their results.

    python examples/sweep.py --count 20                      # wandb sweep + agent (logged in)
    python examples/sweep.py --offline --count 20 --workers 2  # the same file, run here
    python examples/sweep.py --offline --count 20 --workers 2 --resume   # after Ctrl-C
    python examples/sweep.py --analyze runs/sweeps/sweep/results.jsonl

The sweep file (default examples/sweep.yaml) is in wandb's sweep-configuration format;
its parameter names are the long flags of fashion_mnist.py, so a sweep run is exactly a
training run.

Online (the default when wandb has credentials) creates the sweep with ``wandb.sweep``,
prints its id and the ``wandb agent ENTITY/PROJECT/ID`` command that starts more agents on
other machines, and runs an agent here with ``wandb.agent``: wandb's controller hands out
the configurations (grid, random or bayes).

Offline (``--offline``, or automatically without wandb credentials) expands the file here
(``grid``: every combination in a stable order; ``random``: ``--count`` seeded samples;
``bayes`` needs wandb's service) and runs the configurations in ``--workers`` processes,
each with a single-threaded BLAS. Everything goes into one folder (``--out``, default
``runs/sweeps/<sweep file name>``): ``results.jsonl`` (one JSON object per finished run,
appended as runs finish), ``runs/<run name>-<key>/`` (each run's folder and offline wandb
run, all in one wandb group), and the analysis (``summary.md``, ``summary.json``, PNGs).

The machinery is in ``experiment.sweep_spec`` (the file), ``experiment.sweep_runner``
(the workers, the results file, the wandb agent) and ``experiment.sweep_analysis``; this
script ties them to fashion_mnist.py's flags and training function.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path
from typing import Callable

from experiment import sweep_analysis
from experiment.cli import (EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE, error, exit_with,
                            sigterm_as_interrupt)
from experiment.files import os_error_message
from experiment.sweep_runner import (RESULTS_NAME, SweepInterrupted, SweepWorkerDied,
                                     run_online, run_sweep, wandb_is_available)
from experiment.sweep_spec import (LOGGING_KEYS, SweepConfigError, load_sweep_config,
                                   validate_sweep_config)
from fashion_mnist import MLPConfig, train

DEFAULT_CONFIG = Path(__file__).resolve().parent / "sweep.yaml"
DEFAULT_ROOT = Path("runs") / "sweeps"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], allow_abbrev=False,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Exit status: 0 done, 1 no run finished, a worker died or --out could not "
               "be written (a full disk: the recorded rows stay intact), 2 bad options or "
               "sweep file (or --out holding other work, or --resume with another budget), "
               "130 interrupted by Ctrl-C or SIGTERM (continue with --resume).")
    parser.add_argument("--config", default=str(DEFAULT_CONFIG), metavar="YAML",
                        help="the sweep file (default examples/sweep.yaml)")
    parser.add_argument("--count", type=int, metavar="N",
                        help="runs of this agent (online) or of the sweep (offline; random "
                             "needs it unless the file has run_cap)")
    parser.add_argument("--offline", action="store_true",
                        help="run the sweep here instead of on wandb's service (automatic "
                             "without wandb credentials)")
    parser.add_argument("--out", metavar="DIR",
                        help="the sweep's folder (default runs/sweeps/<sweep file name>)")
    parser.add_argument("--workers", type=int, default=1, metavar="K",
                        help="parallel training processes, offline (default 1)")
    parser.add_argument("--resume", action="store_true",
                        help="continue the sweep in --out: skip configurations with a result")
    parser.add_argument("--retry-failed", action="store_true",
                        help="with --resume, run the configurations that crashed again")
    parser.add_argument("--seed", type=int, default=0, metavar="N",
                        help="seed of the random search and of every run (default 0)")
    parser.add_argument("--epochs-override", type=int, metavar="N",
                        help="train every run for N epochs whatever the sweep says")
    parser.add_argument("--limit-train", type=int, metavar="N",
                        help="train on the first N training images only (quick checks)")
    parser.add_argument("--data-dir", metavar="DIR",
                        help="folder with the dataset's IDX files (default: "
                             "$FASHION_MNIST_DIR, else the download cache)")
    parser.add_argument("--wandb-mode", choices=("offline", "disabled"), default="offline",
                        help="offline: log every run as an offline wandb run (default); "
                             "disabled: no wandb")
    parser.add_argument("--run-figures", action="store_true",
                        help="write every run's own figures too (slower)")
    parser.add_argument("--wandb_project", "--wandb-project", dest="wandb_project",
                        metavar="NAME", help="wandb project (default: the file's, else "
                                             f"{MLPConfig.wandb_project})")
    parser.add_argument("--wandb_entity", "--wandb-entity", dest="wandb_entity",
                        metavar="NAME", help="wandb entity (default: the file's, else yours)")
    parser.add_argument("--analyze", metavar="RESULTS",
                        help="only analyse RESULTS (a results.jsonl or its sweep folder) and "
                             "write the figures and summary beside it (or into --out)")
    return parser


def main(argv=None, *, train_fn: Callable = train, wandb_module=None) -> int:
    """The command line; ``train_fn`` and ``wandb_module`` replace the training function
    and ``import wandb`` (tests)."""
    args = build_parser().parse_args(argv)
    with sigterm_as_interrupt():
        try:
            return _main(args, argv, train_fn, wandb_module)
        except OSError as problem:  # --out cannot be written: no permission, a full disk
            error(os_error_message(problem))
            return EXIT_FAILED


def _main(args, argv, train_fn, wandb_module) -> int:
    if args.analyze:
        try:
            summary = sweep_analysis.analyze(args.analyze, args.out)
        except (FileNotFoundError, ValueError) as problem:
            error(problem)
            return EXIT_USAGE
        print(sweep_analysis.format_brief(summary))
        return 0

    overrides = {key: value for key, value in (
        ("epochs", args.epochs_override), ("limit_train", args.limit_train),
        ("wandb_project", args.wandb_project), ("wandb_entity", args.wandb_entity))
        if value is not None}
    try:
        config = load_sweep_config(args.config)
        offline = args.offline
        if not offline:
            available, reason = wandb_is_available(wandb_module)
            if not available:
                print(f"{reason}: running the sweep offline here")
                offline = True
        if not offline:
            run_online(config, config_cls=MLPConfig, train_fn=train_fn, count=args.count,
                       project=args.wandb_project,
                       entity=args.wandb_entity, out_dir=args.out, data_dir=args.data_dir,
                       figures=args.run_figures, wandb_module=wandb_module,
                       overrides={k: v for k, v in overrides.items() if k not in LOGGING_KEYS})
            return 0
        out_dir = Path(args.out) if args.out else DEFAULT_ROOT / Path(args.config).stem
        rows = run_sweep(validate_sweep_config(config, MLPConfig), out_dir, config_cls=MLPConfig,
                         train_fn=train_fn, workers=args.workers, count=args.count,
                         seed=args.seed, resume=args.resume, retry_failed=args.retry_failed,
                         overrides=overrides, data_dir=args.data_dir,
                         wandb_mode=args.wandb_mode, figures=args.run_figures)
    except (SweepConfigError, FileExistsError, ValueError) as problem:
        error(problem)
        return EXIT_USAGE
    except SweepInterrupted as stopped:
        command = [Path(sys.executable).name, "examples/sweep.py",
                   *(argv if argv is not None else sys.argv[1:])]
        if "--resume" not in command:
            command.append("--resume")
        print(f"\n{stopped}\ncontinue with: {shlex.join(command)}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except SweepWorkerDied as problem:
        error(problem)
        return EXIT_FAILED
    results_path = out_dir / RESULTS_NAME
    summary = sweep_analysis.analyze(results_path, out_dir)
    print(sweep_analysis.format_brief(summary))
    if args.wandb_mode == "offline":
        print(f"upload the offline wandb runs with: wandb sync "
              f"{shlex.quote(str(out_dir / 'runs'))}/*/wandb/offline-run-*")
    if not any(row["status"] == "finished" for row in rows):
        print(f"error: no run of the sweep finished (see {results_path})", file=sys.stderr)
        return EXIT_FAILED
    return 0


if __name__ == "__main__":
    exit_with(main)
