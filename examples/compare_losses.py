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

from experiment.cli import EXIT_FAILED, exit_status, exit_with
from experiment.comparison import compare
from experiment.config import build_parser, parse_command_line
from fashion_mnist import MLPConfig, train

EPILOG = """\
Exit status: 0 both runs finished, 1 a run diverged (the other still runs) or the data
could not be loaded, 2 bad options, 130 interrupted.
"""


def parser() -> argparse.ArgumentParser:
    parser = build_parser(MLPConfig, prog="compare_losses.py",
                          description=__doc__.split("\n\n")[0], epilog=EPILOG,
                          leave_out=("loss",), checkpoint_options=False)
    # Taken only to refuse it clearly (argparse would otherwise read -l as a prefix of -lr).
    parser.add_argument("-l", "--loss", help=argparse.SUPPRESS)
    return parser


def parse_args(argv=None):
    command_line = parser()
    if hasattr(command_line.parse_args(argv), "loss"):
        command_line.error("argument -l/--loss: compare_losses.py trains with both losses; "
                           "leave it out")
    return parse_command_line(command_line, MLPConfig, argv)


def main(argv=None) -> int:
    command = parse_args(argv)
    with exit_status() as status:
        outcome = compare(command.config, train, out_dir=command.options.out_dir,
                          wandb_mode=command.options.wandb_mode, quiet=command.options.quiet,
                          data_dir=command.options.data_dir,
                          capture=command.options.capture,
                          overwrite=command.options.overwrite)
        for loss, result in outcome["comparison"]["losses"].items():
            if result["status"] == "finished":
                print(f"{loss}: test_loss={result['test_loss']:.4f} "
                      f"test_accuracy={result['test_accuracy']:.4f} "
                      f"({result['wall_time_s']:.0f} s)")
            else:
                print(f"{loss}: {result['status']}")
        print(f"comparison in {outcome['out_dir']}")
        status.code = EXIT_FAILED if outcome["errors"] else 0
    return status.code


if __name__ == "__main__":
    exit_with(main)
