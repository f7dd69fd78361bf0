"""Train a multi-layer perceptron on Fashion-MNIST (or MNIST) with tinygrad_fm.

    python examples/fashion_mnist.py                      # the best configuration found
    python examples/fashion_mnist.py -nhl 3 -sz 64 -a relu -o nadam -lr 3e-3
    python examples/fashion_mnist.py --preset best        # wider, dropout, AdamW, one-cycle
    python examples/fashion_mnist.py -d mnist --wandb-mode disabled

Every run writes a folder (default ``runs/<run name>-<timestamp>``) with config.json,
metrics.jsonl (one line per epoch), summary.json (final metrics), samples.png,
confusion_matrix.png, curves.png, checkpoint.npz (with --save) and the wandb run.

Programmatic use (the sweep and the report do this)::

    from fashion_mnist import train, TrainingDiverged
    result = train({"num_layers": 3, "optimizer": "nadam"}, out_dir="runs/x",
                   wandb_mode="disabled", quiet=True)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402
from common import (  # noqa: E402,F401  (re-exported for sweep.py and report.py)
    CHOICES,
    DEFAULTS,
    PRESETS,
    ConfigError,
    TrainingDiverged,
    TrainingInterrupted,
    build_model,
    build_optimizer,
    build_scheduler,
    evaluate,
    load_dataset,
    loss_function,
    resolve_config,
    run_name,
    train,
)
from tinygrad_fm.datasets import DatasetError  # noqa: E402

#: Options that control a run but are not part of its configuration.
RUN_OPTIONS = {"data_dir": None, "wandb_mode": None, "out": None, "save": False,
               "resume": None, "quiet": False, "preset": None}

EXIT_DIVERGED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def _choice_type(key: str):
    """Map any letter case onto the canonical spelling; unknown text passes through so
    argparse's own ``invalid choice`` error reports it."""
    lookup = {choice.lower(): choice for choice in CHOICES[key]}
    return lambda text: lookup.get(text.lower(), text)


def _choice_help(key: str) -> str:
    return "|".join(CHOICES[key])


def build_parser(prog: str | None = None, description: str | None = None,
                 loss_option: bool = True, checkpoint_options: bool = True,
                 epilog: str | None = None) -> argparse.ArgumentParser:
    """The command line of the example. ``loss_option=False`` leaves out ``-l`` and
    ``checkpoint_options=False`` ``--save``/``--resume``, for scripts that train several
    runs themselves (compare_losses.py).

    Defaults are not stored in the parser (``argparse.SUPPRESS``) so that
    :func:`parse_args` can tell typed flags from defaults; it fills them in itself.
    """
    parser = argparse.ArgumentParser(
        prog=prog or "fashion_mnist.py", description=description or __doc__.split("\n\n")[0],
        argument_default=argparse.SUPPRESS, allow_abbrev=False,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EPILOG if epilog is None else epilog)
    d = DEFAULTS
    group = parser.add_argument_group("the assignment's options")
    add = group.add_argument

    def choice(short, long, key, help_text):
        add(short, long, dest=key, type=_choice_type(key), choices=CHOICES[key],
            metavar=_choice_help(key), help=f"{help_text} (default {d[key]}; any letter case)")

    add("-wp", "--wandb_project", metavar="NAME",
        help=f"wandb project (default {d['wandb_project']})")
    add("-we", "--wandb_entity", metavar="NAME",
        help="wandb entity: user or team (default: your default entity)")
    choice("-d", "--dataset", "dataset", "dataset")
    add("-e", "--epochs", type=int, metavar="N", help=f"epochs (default {d['epochs']})")
    add("-b", "--batch_size", type=int, metavar="N",
        help=f"mini-batch size (default {d['batch_size']})")
    if loss_option:
        choice("-l", "--loss", "loss",
               "loss: cross_entropy, or mean_squared_error between softmax(logits) and the "
               "one-hot target, averaged over samples and classes")
    choice("-o", "--optimizer", "optimizer",
           "optimizer: sgd; momentum and nag (SGD with momentum, Nesterov for nag); rmsprop; "
           "adam; nadam; adamw (Adam with decoupled weight decay)")
    add("-lr", "--learning_rate", type=float, metavar="LR",
        help=f"learning rate: the initial rate with --lr-schedule cosine, the peak with "
             f"onecycle (default {d['learning_rate']:g})")
    add("-m", "--momentum", type=float, metavar="M",
        help=f"momentum of the momentum and nag optimizers (default {d['momentum']})")
    add("-beta", "--beta", type=float, metavar="B",
        help=f"RMSprop's squared-gradient decay, alpha (default {d['beta']})")
    add("-beta1", "--beta1", type=float, metavar="B1",
        help=f"Adam/NAdam/AdamW beta1 (default {d['beta1']})")
    add("-beta2", "--beta2", type=float, metavar="B2",
        help=f"Adam/NAdam/AdamW beta2 (default {d['beta2']})")
    add("-eps", "--epsilon", type=float, metavar="EPS",
        help=f"epsilon of rmsprop/adam/nadam/adamw (default {d['epsilon']:g})")
    add("-w_d", "--weight_decay", type=float, metavar="WD",
        help="weight decay: the L2 term weight_decay * w added to the gradient (decoupled "
             f"for adamw; default {d['weight_decay']:g})")
    choice("-w_i", "--weight_init", "weight_init",
           f"weight initialisation: random = normal with std {common.RANDOM_INIT_STD}, "
           "Xavier = Glorot uniform, He = Kaiming normal; biases start at 0")
    add("-nhl", "--num_layers", type=int, metavar="N",
        help=f"number of hidden layers (default {d['num_layers']})")
    add("-sz", "--hidden_size", type=int, metavar="N",
        help=f"neurons per hidden layer (default {d['hidden_size']})")
    choice("-a", "--activation", "activation", "activation of the hidden layers")

    extras = parser.add_argument_group("more options")
    extras.add_argument("--preset", type=str.lower, choices=sorted(PRESETS),
                        metavar="|".join(sorted(PRESETS)),
                        help="a named configuration; flags you give override it. 'best': "
                        + ", ".join(f"{k}={v}" for k, v in PRESETS["best"].items()))
    extras.add_argument("--dropout", type=float, metavar="P",
                        help="dropout probability after each hidden activation (default 0)")
    extras.add_argument("--augment-shift", "--augment_shift", dest="augment_shift", type=int,
                        metavar="PIXELS",
                        help="move each training image by a random 0..PIXELS pixels up/down "
                             "and left/right (data augmentation; default 0: off)")
    extras.add_argument("--lr-schedule", "--lr_schedule", dest="lr_schedule",
                        type=_choice_type("lr_schedule"), choices=CHOICES["lr_schedule"],
                        metavar=_choice_help("lr_schedule"),
                        help="learning-rate schedule, stepped after every batch: cosine "
                             "anneals from -lr to 0 over the run (default); constant keeps "
                             "-lr; onecycle warms up to a peak of -lr, then anneals")
    extras.add_argument("--seed", type=int, metavar="N",
                        help="seed of the initial weights, dropout, the validation split and "
                             f"the batch order (default {d['seed']})")
    extras.add_argument("--limit-train", "--limit_train", dest="limit_train", type=int,
                        metavar="N",
                        help="train on only the first N images of the training split (quick "
                             "checks; validation and test sets stay whole)")
    extras.add_argument("--data-dir", "--data_dir", dest="data_dir", metavar="DIR",
                        help="folder with the four IDX files (.gz or not); default "
                             "$FASHION_MNIST_DIR / $MNIST_DIR, else the download cache")
    extras.add_argument("--wandb-mode", "--wandb_mode", dest="wandb_mode",
                        choices=("online", "offline", "disabled"),
                        help="default: $WANDB_MODE if set, else online when logged in "
                             "(wandb login) and offline otherwise")
    extras.add_argument("--out", metavar="DIR",
                        help="the run folder (default runs/<run name>-<timestamp>)")
    if checkpoint_options:
        extras.add_argument("--save", action="store_true",
                            help="keep checkpoint.npz (model and optimizer) in the run "
                                 "folder, rewritten after every epoch")
        extras.add_argument("--resume", metavar="CHECKPOINT",
                            help="continue the run saved in CHECKPOINT (a checkpoint.npz or "
                                 "its run folder) with its configuration; only -e/--epochs "
                                 "and the wandb names may change; it keeps saving")
    extras.add_argument("-q", "--quiet", action="store_true",
                        help="no progress bars or per-epoch lines")
    return parser


EPILOG = """\
After every epoch the script prints and logs epoch, train_loss, train_accuracy, val_loss
and val_accuracy. 10% of the training set (a seeded, class-stratified draw) is held out
for validation. train_accuracy is measured on the training forward passes of the epoch
itself (weights still changing, dropout active), so it costs no extra pass. At the end it
evaluates the test set (test_loss, test_accuracy, confusion matrix).

wandb: without an API key the run is logged offline into the run folder and the script
says how to upload it (wandb sync); it never asks for a key. --wandb-mode disabled
turns it off.

Exit status: 0 done, 1 the loss diverged (NaN/inf) or the data could not be loaded,
2 bad options, 130 interrupted (Ctrl-C; with --save the last epoch's checkpoint is kept).
"""


def parse_args(argv=None) -> argparse.Namespace:
    """Parse the command line into a Namespace holding every configuration key, the run
    options and ``explicit``: the keys given on the command line (or set by --preset)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    return complete_args(parser, args)


def complete_args(parser: argparse.ArgumentParser, args: argparse.Namespace,
                  ) -> argparse.Namespace:
    """Fill in the preset and the defaults, record which keys were explicit and validate
    the configuration (errors go through ``parser.error``)."""
    explicit = set(vars(args))
    values = dict(DEFAULTS)
    values.update(RUN_OPTIONS)
    preset = getattr(args, "preset", None)
    if preset is not None:
        values.update(PRESETS[preset])
        explicit |= set(PRESETS[preset])
    values.update(vars(args))
    values["explicit"] = explicit
    try:
        resolve_config({k: values[k] for k in DEFAULTS})
    except ConfigError as error:
        parser.error(str(error))
    return argparse.Namespace(**values)


def config_from_args(args: argparse.Namespace) -> dict:
    return resolve_config({k: getattr(args, k) for k in DEFAULTS})


def main(argv=None) -> int:
    args = parse_args(argv)
    return run_from_args(args)


def run_from_args(args: argparse.Namespace) -> int:
    """Train as ``args`` say, print the outcome and return the exit status."""
    try:
        result = train(config_from_args(args), out_dir=args.out, wandb_mode=args.wandb_mode,
                       quiet=args.quiet, save=args.save, resume=args.resume,
                       data_dir=args.data_dir, explicit=args.explicit)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except (FileNotFoundError, DatasetError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_DIVERGED
    except TrainingDiverged as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_DIVERGED
    except TrainingInterrupted as error:
        print(f"\n{error}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        print("\ninterrupted before training started", file=sys.stderr)
        return EXIT_INTERRUPTED
    print(final_line(result))
    return 0


def final_line(result: dict) -> str:
    line = (f"test_loss={result['test_loss']:.4f} test_accuracy={result['test_accuracy']:.4f} "
            f"({result['wall_time_s']:.0f} s); run folder {result['out_dir']}")
    if result.get("wandb_dir"):
        line += f"; wandb run {result['wandb_dir']}"
    return line


if __name__ == "__main__":
    sys.exit(main())
