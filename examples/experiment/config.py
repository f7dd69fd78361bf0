"""A run's configuration: a frozen dataclass whose fields are the command-line flags.

Each field is declared with :func:`flag`, which records its short flag, help text and
limits. From those declarations come, with no second table:

- validation and canonical spelling (:class:`Config` checks every field when built, so a
  config object is always valid; ``Config.from_mapping`` takes sweep-style dicts);
- the command line (:func:`build_parser`, :func:`parse_command_line`);
- the sweep's parameter checks (``config_cls.check_value(name, value)``);
- the resume rules (fields declared ``resumable=True`` may change on ``--resume``).

:class:`TrainingConfig` holds the flags every example shares (epochs, batch, optimizer
and its hyper-parameters, schedule, seed, wandb names), :class:`ImageConfig` adds those
of the image classifiers (dataset, loss, augmentation, a limit on the training images);
an example adds its model's flags in a subclass::

    @dataclass(frozen=True)
    class MLPConfig(ImageConfig):
        num_layers: int = flag(4, "-nhl", "number of hidden layers (default {default})",
                               minimum=0)
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
from dataclasses import dataclass, field
from typing import Any, ClassVar, Mapping, Optional

import numpy as np

ASSIGNMENT = "the assignment's options"
MORE = "more options"


class ConfigError(ValueError):
    """A configuration value is missing, unknown or out of range."""


@dataclass(frozen=True)
class Flag:
    """How one configuration field appears on the command line and what it accepts."""

    short: Optional[str]
    help: str
    kind: type
    group: str = ASSIGNMENT
    metavar: Optional[str] = None
    choices: tuple = ()
    minimum: Optional[int] = None  # integers: the smallest value
    below_one: bool = False        # numbers: in [0, 1)
    positive: bool = False         # numbers: > 0
    resumable: bool = False        # may change when a run is resumed

    def long_names(self, name: str) -> list:
        """``--batch_size`` for the assignment's flags; ``--lr-schedule`` and
        ``--lr_schedule`` for the others."""
        if self.group == ASSIGNMENT:
            return [f"--{name}"]
        dashed = f"--{name.replace('_', '-')}"
        return [dashed, f"--{name}"] if "_" in name else [dashed]


def flag(default, short: Optional[str], help: str, *, kind: Optional[type] = None,
         group: str = ASSIGNMENT, metavar: Optional[str] = None, choices=(),
         minimum: Optional[int] = None, below_one: bool = False, positive: bool = False,
         resumable: bool = False):
    """A configuration field. ``help`` may quote the default as ``{default}``; ``kind``
    (int, float or str) defaults to the type of ``default``; ``choices`` are matched in
    any letter case and stored in their canonical spelling."""
    kind = kind or type(default)
    return field(default=default, metadata={"flag": Flag(
        short, help, kind, group, metavar, tuple(choices), minimum, below_one, positive,
        resumable)})


def _as_int(key: str, value, minimum: Optional[int]) -> int:
    if isinstance(value, bool):
        raise ConfigError(f"{key}: expected an integer, got {value!r}")
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{key}: expected an integer, got {value!r}") from None
    if number != value and not (isinstance(value, str) and str(number) == value.strip()):
        raise ConfigError(f"{key}: expected an integer, got {value!r}")
    if minimum is not None and number < minimum:
        raise ConfigError(f"{key}: must be at least {minimum}, got {number}")
    return number


def _as_number(key: str, value, spec: Flag) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number, str)):
        raise ConfigError(f"{key}: expected a number, got {value!r}")
    try:
        number = float(value)
    except ValueError:
        raise ConfigError(f"{key}: expected a number, got {value!r}") from None
    if not math.isfinite(number) or number < 0:
        raise ConfigError(f"{key}: expected a finite number >= 0, got {value!r}")
    if spec.positive and number == 0:
        raise ConfigError(f"{key} must be positive, got 0")
    if spec.below_one and not number < 1:
        raise ConfigError(f"{key}: expected a number in [0, 1), got {number}")
    return number


def canonical_choice(key: str, value, choices) -> str:
    """``value`` in the canonical spelling of ``choices``, matched ignoring case."""
    lookup = {choice.lower(): choice for choice in choices}
    canonical = lookup.get(str(value).lower())
    if canonical is None:
        raise ConfigError(f"{key}: {value!r} is not one of {', '.join(choices)} "
                          "(any letter case)")
    return canonical


def _check(key: str, value, spec: Flag, default):
    """``value`` validated and in canonical form (None stays None where it is the default)."""
    if value is None and default is None:
        return None
    if spec.choices:
        return canonical_choice(key, value, spec.choices)
    if spec.kind is int:
        return _as_int(key, value, spec.minimum)
    if spec.kind is float:
        return _as_number(key, value, spec)
    return str(value)


@dataclass(frozen=True)
class Config:
    """Base of the configurations: validates every :func:`flag` field when built."""

    #: Named bundles of settings (``--preset NAME``); flags given explicitly override them.
    PRESETS: ClassVar[dict] = {}

    def __post_init__(self):
        for item in dataclasses.fields(self):
            value = _check(item.name, getattr(self, item.name), item.metadata["flag"],
                           item.default)
            object.__setattr__(self, item.name, value)

    # -- construction

    @classmethod
    def flags(cls) -> dict:
        """``{field name: Flag}`` in declaration order."""
        return {item.name: item.metadata["flag"] for item in dataclasses.fields(cls)}

    @classmethod
    def from_mapping(cls, config=None, **overrides):
        """A configuration from a mapping (or Namespace) keyed by the long flag names
        (``"learning_rate"``; ``"learning-rate"`` works too), ``overrides`` winning.
        Missing keys and ``None`` values take the defaults; unknown keys raise
        :class:`ConfigError`, so a typo in a sweep file is not silently ignored."""
        if isinstance(config, cls):
            config = config.as_dict()
        elif isinstance(config, argparse.Namespace):
            config = {k: v for k, v in vars(config).items() if k in cls.flags()}
        names = cls.flags()
        given = {}
        for source in (config or {}), overrides:
            if not isinstance(source, Mapping):
                raise ConfigError(f"config must be a mapping of option names to values, got "
                                  f"{type(source).__name__}")
            for key, value in source.items():
                key = str(key).replace("-", "_")
                if key not in names:
                    raise ConfigError(f"unknown configuration key {key!r}; valid keys: "
                                      f"{', '.join(names)}")
                if value is not None:
                    given[key] = value
        return cls(**given)

    @classmethod
    def check_value(cls, name: str, value):
        """One flag's value, validated and canonical (the sweep checks its values so)."""
        item = {f.name: f for f in dataclasses.fields(cls)}[name]
        return _check(name, value, item.metadata["flag"], item.default)

    def as_dict(self) -> dict:
        return {item.name: getattr(self, item.name) for item in dataclasses.fields(self)}

    def replace(self, **changes):
        return dataclasses.replace(self, **changes)

    # -- resuming

    def resumed_with(self, requested: Optional["Config"], explicit=None):
        """This (a checkpoint's) configuration with the requested values of the
        ``resumable`` flags. A requested change to anything else raises ConfigError.
        ``explicit``: the keys to compare (the flags typed on a command line); None
        compares every key."""
        if requested is None:
            return self
        flags = self.flags()
        keys = [k for k in flags if explicit is None or k in explicit]
        changed = [k for k in keys if not flags[k].resumable
                   and getattr(requested, k) != getattr(self, k)]
        if changed:
            detail = ", ".join(f"{k}: checkpoint {getattr(self, k)!r}, requested "
                               f"{getattr(requested, k)!r}" for k in changed)
            raise ConfigError(f"--resume continues the checkpoint's configuration, but these "
                              f"settings differ ({detail}); drop them to resume, or start a "
                              "new run")
        merged = self.replace(**{k: getattr(requested, k) for k in keys if flags[k].resumable})
        merged.check_resume(self)
        return merged

    def check_resume(self, saved: "Config") -> None:
        """Raise ConfigError when this configuration cannot continue ``saved``'s run."""

    def check_fits(self, image_shape: tuple, num_classes: int) -> None:
        """Raise ConfigError when this configuration cannot train on images of
        ``image_shape`` (before anything is built for them)."""

    def run_name(self) -> str:
        """The name of a run of this configuration (its folder and wandb name start with
        it); an example names its runs by the settings that tell them apart."""
        return type(self).__name__.lower()


@dataclass(frozen=True)
class TrainingConfig(Config):
    """The flags every example shares: length, batch, optimizer, schedule, seed."""

    OPTIMIZERS: ClassVar[tuple] = ("sgd", "momentum", "nag", "rmsprop", "adam", "nadam",
                                   "adamw")

    wandb_project: str = flag("tinygrad-fm", "-wp", "wandb project (default {default})",
                              metavar="NAME", resumable=True)
    wandb_entity: Optional[str] = flag(
        None, "-we", "wandb entity: user or team (default: your default entity)", kind=str,
        metavar="NAME", resumable=True)
    epochs: int = flag(10, "-e", "epochs (default {default})", metavar="N", minimum=1,
                       resumable=True)
    batch_size: int = flag(64, "-b", "mini-batch size (default {default})", metavar="N",
                           minimum=1)
    optimizer: str = flag(
        "adam", "-o", "optimizer: sgd; momentum and nag (SGD with momentum, Nesterov for "
        "nag); rmsprop; adam; nadam; adamw (Adam with decoupled weight decay)",
        choices=OPTIMIZERS)
    learning_rate: float = flag(
        1e-3, "-lr", "learning rate: the initial rate with --lr-schedule cosine, the peak "
        "with onecycle (default {default:g})", metavar="LR", positive=True)
    momentum: float = flag(0.9, "-m", "momentum of the momentum and nag optimizers "
                           "(default {default})", metavar="M")
    beta: float = flag(0.9, "-beta", "RMSprop's squared-gradient decay, alpha "
                       "(default {default})", metavar="B", below_one=True)
    beta1: float = flag(0.9, "-beta1", "Adam/NAdam/AdamW beta1 (default {default})",
                        metavar="B1", below_one=True)
    beta2: float = flag(0.999, "-beta2", "Adam/NAdam/AdamW beta2 (default {default})",
                        metavar="B2", below_one=True)
    epsilon: float = flag(1e-8, "-eps", "epsilon of rmsprop/adam/nadam/adamw "
                          "(default {default:g})", metavar="EPS")
    weight_decay: float = flag(
        0.0, "-w_d", "weight decay: the L2 term weight_decay * w added to the gradient "
        "(decoupled for adamw; default {default:g})", metavar="WD")
    # Annealing the rate to 0 over the run removes the epoch-to-epoch noise of a constant
    # rate (the default configuration reaches a higher test accuracy over seeds with it).
    lr_schedule: str = flag(
        "cosine", None, "learning-rate schedule, stepped after every batch: cosine anneals "
        "from -lr to 0 over the run (default); constant keeps -lr; onecycle warms up to a "
        "peak of -lr, then anneals", group=MORE, choices=("constant", "cosine", "onecycle"))
    seed: int = flag(0, None, "seed of the initial weights, dropout, the validation split "
                     "and the batch order (default {default})", group=MORE, metavar="N",
                     minimum=0)

    def check_resume(self, saved: "TrainingConfig") -> None:
        if self.epochs != saved.epochs and self.lr_schedule != "constant":
            raise ConfigError(f"the {self.lr_schedule} learning-rate schedule is laid out for "
                              f"the original number of epochs ({saved.epochs}); resume it "
                              "without changing --epochs")


def physical_memory() -> Optional[int]:
    """The machine's memory in bytes (None where the system does not say)."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _bytes(count: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB", "PB"):
        if count < 1000 or unit == "PB":
            return f"{count:,.0f} {unit}" if unit == "bytes" else f"{count:,.1f} {unit}"
        count /= 1000


@dataclass(frozen=True)
class ImageConfig(TrainingConfig):
    """The shared flags and those of the image classifiers: dataset, loss, augmentation,
    a limit on the training images."""

    LOSSES: ClassVar[tuple] = ("cross_entropy", "mean_squared_error")

    dataset: str = flag("fashion_mnist", "-d", "dataset", choices=("fashion_mnist", "mnist"))
    loss: str = flag("cross_entropy", "-l",
                     "loss: cross_entropy, or mean_squared_error between softmax(logits) and "
                     "the one-hot target, averaged over samples and classes", choices=LOSSES)
    augment_shift: int = flag(
        0, None, "move each training image by a random 0..PIXELS pixels up/down and "
        "left/right (data augmentation; default 0: off)", group=MORE, metavar="PIXELS",
        minimum=0)
    limit_train: Optional[int] = flag(
        None, None, "train on only the first N images of the training split (quick "
        "checks; validation and test sets stay whole)", kind=int, group=MORE, metavar="N",
        minimum=1)

    def training_memory(self, image_shape: tuple, num_classes: int) -> Optional[tuple]:
        """``(bytes, what)``: about how much memory training this configuration's model
        takes (weights, gradients, optimizer state, activations of a batch) and the flags
        that set its size; None when the example does not say."""
        return None

    def check_fits(self, image_shape: tuple, num_classes: int) -> None:
        side = min(image_shape)
        if self.augment_shift >= side:
            raise ConfigError(
                f"--augment-shift {self.augment_shift} would move the "
                f"{'x'.join(map(str, image_shape))}-pixel images out of the frame entirely; "
                f"give fewer pixels than the image side ({side}), a few at most (e.g. 2)")
        estimate = self.training_memory(image_shape, num_classes)
        available = physical_memory()
        if estimate is not None and available and estimate[0] > available:
            needed, what = estimate
            raise ConfigError(
                f"{what}: training this network needs about {_bytes(needed)} of memory "
                f"(weights, gradients, optimizer state and activations), more than this "
                f"machine's {_bytes(available)}; make it smaller")


def with_default(config_cls, name: str, default):
    """A field for a subclass of ``config_cls``: its flag ``name`` with another default
    (the same short flag, help and limits)."""
    return field(default=default, metadata={"flag": config_cls.flags()[name]})


#: The order of the DA6401 assignment's listing of its flags, which --help follows.
ASSIGNMENT_ORDER = ("-wp", "-we", "-d", "-e", "-b", "-l", "-o", "-lr", "-m", "-beta",
                    "-beta1", "-beta2", "-eps", "-w_d", "-w_i", "-nhl", "-sz", "-a")


def _assignment_position(spec: "Flag") -> int:
    try:
        return ASSIGNMENT_ORDER.index(spec.short)
    except ValueError:
        return len(ASSIGNMENT_ORDER)


# ----------------------------------------------------------------------------- command line


@dataclass(frozen=True)
class RunOptions:
    """What a run does besides training its configuration: where it writes, how it logs.

    out_dir: the run folder (default ``runs/<run name>-<timestamp>``). wandb_mode:
    ``online``, ``offline``, ``disabled`` or None (automatic, see
    :func:`experiment.tracking.start_wandb`). wandb_run: an already started wandb run to
    log into (left open). quiet: no progress bars or per-epoch lines. save: write
    ``checkpoint.npz`` after every epoch. resume: a checkpoint (or run folder) to
    continue, into its folder unless ``out_dir`` is given (it keeps saving). explicit:
    the configuration keys typed on the command line (what a resume compares).
    data_dir: the dataset's folder. figures: write the PNG figures (and log them).
    name: the run's name (default ``config.run_name()``). on_epoch_end: called with each
    epoch's record (e.g. to stop early by raising). log: where messages go. overwrite:
    replace the run already in ``out_dir`` (without it such a folder is refused).
    capture: replay the training step with ``tinygrad_fm.jit`` (see
    :class:`experiment.training.TrainingStep`; the numbers are the eager step's, so it is
    not part of the configuration).
    """

    out_dir: Any = None
    wandb_mode: Optional[str] = None
    quiet: bool = False
    save: bool = False
    resume: Any = None
    explicit: Optional[frozenset] = None
    data_dir: Optional[str] = None
    figures: bool = True
    wandb_run: Any = None
    wandb_group: Optional[str] = None
    wandb_job_type: Optional[str] = None
    name: Optional[str] = None
    on_epoch_end: Any = None
    log: Any = print
    overwrite: bool = False
    capture: bool = True

    def replace(self, **changes) -> "RunOptions":
        return dataclasses.replace(self, **changes)


def _choice_type(choices):
    """Map any letter case onto the canonical spelling; unknown text passes through so
    argparse's own ``invalid choice`` error reports it."""
    lookup = {choice.lower(): choice for choice in choices}
    return lambda text: lookup.get(text.lower(), text)


def build_parser(config_cls, *, prog: str, description: str, epilog: str = "",
                 leave_out=(), checkpoint_options: bool = True) -> argparse.ArgumentParser:
    """The command line of a training script: one flag per field of ``config_cls`` (less
    ``leave_out``; the assignment's in the order of its listing), ``--preset`` when it has
    presets, and the run options (``--data-dir`` for an ImageConfig, ``--save/--resume``
    unless ``checkpoint_options`` is false).

    Defaults are not stored in the parser (``argparse.SUPPRESS``) so that
    :func:`parse_command_line` can tell typed flags from defaults.
    """
    parser = argparse.ArgumentParser(
        prog=prog, description=description, argument_default=argparse.SUPPRESS,
        allow_abbrev=False, formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=epilog)
    groups = {ASSIGNMENT: parser.add_argument_group(ASSIGNMENT),
              MORE: parser.add_argument_group(MORE)}
    defaults = {item.name: item.default for item in dataclasses.fields(config_cls)}
    flags = [(name, spec) for name, spec in config_cls.flags().items() if name not in leave_out]
    assignment = sorted(((name, spec) for name, spec in flags if spec.group == ASSIGNMENT),
                        key=lambda item: _assignment_position(item[1]))
    for name, spec in assignment:
        _add_flag(groups[ASSIGNMENT], name, spec, defaults[name])
    if config_cls.PRESETS:
        presets = config_cls.PRESETS
        groups[MORE].add_argument(
            "--preset", type=str.lower, choices=sorted(presets), metavar="|".join(sorted(presets)),
            help="a named configuration; flags you give override it. " + "; ".join(
                f"'{preset}': " + ", ".join(f"{k}={v}" for k, v in values.items())
                for preset, values in presets.items()))
    for name, spec in flags:
        if spec.group != ASSIGNMENT:
            _add_flag(groups[spec.group], name, spec, defaults[name])

    extras = groups[MORE]
    if issubclass(config_cls, ImageConfig):
        extras.add_argument("--data-dir", "--data_dir", dest="data_dir", metavar="DIR",
                            help="folder with the four IDX files (.gz or not); default "
                                 "$FASHION_MNIST_DIR / $MNIST_DIR, else the download cache")
    extras.add_argument("--wandb-mode", "--wandb_mode", dest="wandb_mode",
                        choices=("online", "offline", "disabled"),
                        help="default: $WANDB_MODE if set, else online when logged in "
                             "(wandb login) and offline otherwise")
    extras.add_argument("--out", metavar="DIR",
                        help="the run folder (default runs/<run name>-<timestamp>); one "
                             "holding a run already is refused unless --overwrite")
    extras.add_argument("--overwrite", action="store_true",
                        help="replace the run already in --out (its files are deleted first)")
    if checkpoint_options:
        extras.add_argument("--save", action="store_true",
                            help="keep checkpoint.npz (model and optimizer) in the run "
                                 "folder, rewritten after every epoch")
        extras.add_argument("--resume", metavar="CHECKPOINT",
                            help="continue the run saved in CHECKPOINT (a checkpoint.npz or "
                                 "its run folder) with its configuration; only "
                                 + _resumable_text(config_cls) + " may change; it keeps saving")
    extras.add_argument("--no-capture", "--no_capture", dest="no_capture",
                        action="store_true", help=CAPTURE_HELP)
    extras.add_argument("-q", "--quiet", action="store_true",
                        help="no progress bars or per-epoch lines")
    return parser


CAPTURE_HELP = ("run the training step eagerly. By default it is captured with "
                "tinygrad_fm.jit (recorded on the first two batches of each shape, then "
                "replayed without the framework's Python overhead); the numbers are the "
                "same bit for bit. A step the jit refuses runs eagerly, with a note")


def _add_flag(group, name: str, spec: Flag, default) -> None:
    names = ([spec.short] if spec.short else []) + spec.long_names(name)
    text = spec.help.format(default=default)
    options = dict(dest=name, help=text)
    if spec.choices:
        options.update(type=_choice_type(spec.choices), choices=spec.choices,
                       metavar="|".join(spec.choices))
        if spec.group == ASSIGNMENT:
            options["help"] = f"{text} (default {default}; any letter case)"
    else:
        options.update(type=spec.kind if spec.kind is not str else None, metavar=spec.metavar)
    group.add_argument(*names, **options)


def _resumable_text(config_cls) -> str:
    flags = config_cls.flags()
    epochs = [f"{flags[k].short}/--{k}" for k in flags if flags[k].resumable and k == "epochs"]
    others = [k for k in flags if flags[k].resumable and k != "epochs"]
    return " and ".join(epochs + (["the wandb names"] if others else []))


@dataclass(frozen=True)
class Command:
    """A parsed command line: the configuration, the run options, the chosen preset."""

    config: Config
    options: RunOptions
    preset: Optional[str] = None


def parse_command_line(parser: argparse.ArgumentParser, config_cls, argv=None) -> Command:
    """Parse ``argv`` with a parser from :func:`build_parser`: the preset, then the typed
    flags, over the defaults. A bad value ends with argparse's usage error (exit 2)."""
    args = vars(parser.parse_args(argv))
    flags = config_cls.flags()
    typed = {k: v for k, v in args.items() if k in flags}
    preset = args.get("preset")
    values = dict(config_cls.PRESETS[preset]) if preset else {}
    values.update(typed)
    try:
        config = config_cls.from_mapping(values)
    except ConfigError as error:
        parser.error(str(error))
    options = RunOptions(
        out_dir=args.get("out"), wandb_mode=args.get("wandb_mode"),
        quiet=args.get("quiet", False), save=args.get("save", False),
        resume=args.get("resume"), data_dir=args.get("data_dir"),
        explicit=frozenset(values), overwrite=args.get("overwrite", False),
        capture=not args.get("no_capture", False))
    return Command(config, options, preset)
