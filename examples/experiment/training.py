"""Training one configuration: the optimizer, schedule and loss its flags name, evaluation,
and :class:`TrainingRun`, which an example's epoch loop runs inside::

    with TrainingRun(MLPConfig, config, options) as run:
        config = run.config                        # with --resume, the checkpoint's
        data = run.image_data()
        model, optimizer, ... = ...                # the example's own
        run.start(model, optimizer, scheduler, data)
        for epoch in run.epochs():
            for step, (x, y) in enumerate(run.progress(loader, epoch), 1):
                ...                                # forward, loss, backward, step
            run.end_epoch(epoch, train_loss=..., train_accuracy=..., val_loss=...,
                          val_accuracy=...)
        return run.finish(test_loss, test_accuracy, predicted)

The example's step (forward, loss, backward, optimizer step) goes through
``run.training_step``, which captures it with ``tinygrad_fm.jit`` unless ``--no-capture``
(:class:`TrainingStep`).

The run takes care of what a reader of the loop need not see: the seed, resuming from a
checkpoint, the run folder and wandb (:class:`experiment.tracking.Tracker`), the
progress bar, the per-epoch line, the checkpoint after every epoch, stopping when the
loss diverges, and recording why a run stopped (Ctrl-C, divergence).
"""

from __future__ import annotations

import math
import os
import shutil
import time
from pathlib import Path
from typing import Mapping, Optional

import numpy as np

import tinygrad_fm as tg
from tinygrad_fm.utils import data as tg_data
from tinygrad_fm import nn, no_grad, optim
from tinygrad_fm.jit import CaptureError
from tinygrad_fm.nn import functional as F

from . import data as example_data
from .config import Config, ConfigError, RunOptions
from .figures import (LOSS_AND_ACCURACY, new_figure, plot_confusion_matrix, plot_curves,
                      plot_samples)
from .files import (RUN_FILES, OutputError, file_in, make_folder, new_folder,
                    os_error_message, work_in)
from .signals import ignore_further_interrupts
from .tracking import Tracker
from tinygrad_fm.nn.serialization import remove_leftover_temporaries

CHECKPOINT_NAME = "checkpoint.npz"
#: Everything a run writes into its folder (--overwrite deletes these first).
RUN_OUTPUTS = RUN_FILES + ("samples.png", "confusion_matrix.png", "curves.png", "wandb")
CHECKPOINT_FORMAT = 1
EVAL_BATCH_SIZE = 5000
#: The most images a split of the examples' datasets holds (a batch is never larger).
MAX_IMAGES = 60_000


class TrainingDiverged(RuntimeError):
    """The training loss became NaN or infinite.

    ``learning_rate`` is the configured rate (``-lr``), ``current_lr`` the scheduled rate
    at the failing step; ``cause`` names what made it diverge where that can be seen
    (see :func:`divergence_cause`), else the message suggests a smaller learning rate.
    """

    def __init__(self, epoch: int, step, value: float, learning_rate: float,
                 current_lr: Optional[float] = None, cause: Optional[str] = None):
        self.epoch, self.step, self.value = epoch, step, value
        self.learning_rate, self.current_lr, self.cause = learning_rate, current_lr, cause
        where = f"step {step}" if isinstance(step, int) else step
        rate = f"learning rate {learning_rate:g}"
        if current_lr is not None and current_lr != learning_rate:
            rate += f", {current_lr:g} at that step"
        hint = cause or (f"Try a smaller learning rate, e.g. -lr {learning_rate / 10:g}.")
        super().__init__(
            f"training diverged: the loss became {value} in epoch {epoch}, {where} ({rate}). "
            f"{hint}")


#: Optimizers that divide by the square root of a running mean of squared gradients.
ADAPTIVE_OPTIMIZERS = ("rmsprop", "adam", "nadam", "adamw")


def divergence_cause(config, before_any_update: bool = False) -> Optional[str]:
    """What made a run of ``config`` diverge, when a setting shows it: epsilon 0 in an
    adaptive optimizer, a weight decay that overshoots, or (``before_any_update``) a
    loss that was not finite before the first step changed a weight. None otherwise."""
    if before_any_update:
        return ("The loss was not finite before any weight was updated, so the learning "
                "rate is not the cause: the initial weights or the inputs hold NaN or inf.")
    if config.epsilon == 0 and config.optimizer in ADAPTIVE_OPTIMIZERS:
        return (f"-eps 0 lets {config.optimizer} divide by zero where a weight's gradients "
                f"have all been 0 (0/0 is NaN); use a small positive epsilon such as the "
                f"default -eps 1e-08.")
    if config.weight_decay * config.learning_rate >= 1:
        return (f"-w_d {config.weight_decay:g} with -lr {config.learning_rate:g}: each step "
                f"takes learning_rate x weight_decay = "
                f"{config.weight_decay * config.learning_rate:g} times the weights away, "
                "which overshoots zero and grows; use a weight decay far below 1/lr "
                "(e.g. -w_d 0.0005).")
    return None


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped training; ``checkpoint`` holds epoch ``checkpoint_epoch`` (or is None)."""

    def __init__(self, epochs_completed: int, checkpoint: Optional[Path],
                 checkpoint_epoch: int, out_dir: Path, saving: bool = False):
        self.epochs_completed, self.checkpoint, self.checkpoint_epoch, self.out_dir = (
            epochs_completed, checkpoint, checkpoint_epoch, out_dir)
        if checkpoint is not None:
            hint = (f"the checkpoint of epoch {checkpoint_epoch} is kept in {checkpoint}; "
                    f"continue with --resume {checkpoint}")
        elif saving and epochs_completed == 0:
            hint = ("no epoch finished, so no checkpoint was written yet (one is written "
                    "when each epoch ends)")
        elif saving:
            hint = "it stopped while writing the first checkpoint, so none is kept"
        else:
            hint = "no checkpoint was written (add --save to keep one after every epoch)"
        super().__init__(f"interrupted after {epochs_completed} completed epoch(s); {hint}")


class CheckpointError(ValueError):
    """A checkpoint cannot be read or does not fit the run; the message names the file."""


# ----------------------------------------------------------------------------- building blocks


def build_optimizer(config, params) -> optim.Optimizer:
    """The optimizer named by ``config.optimizer``, with the config's hyper-parameters.

    ``sgd``: plain SGD; ``momentum``/``nag``: SGD with ``momentum`` (Nesterov for nag);
    ``rmsprop``: RMSprop with ``alpha = beta``; ``adam``/``nadam``: with
    ``betas = (beta1, beta2)``; ``adamw``: Adam with decoupled weight decay. Every one
    gets ``weight_decay`` (an L2 term added to the gradient, except AdamW, whose decay
    is decoupled) and, where it has one, ``eps = epsilon``. A value the optimizer itself
    refuses raises ConfigError.
    """
    name, lr, wd = config.optimizer, config.learning_rate, config.weight_decay
    betas, eps = (config.beta1, config.beta2), config.epsilon
    params = list(params)
    try:
        if name == "sgd":
            return optim.SGD(params, lr=lr, weight_decay=wd)
        if name in ("momentum", "nag"):
            return optim.SGD(params, lr=lr, momentum=config.momentum, weight_decay=wd,
                             nesterov=name == "nag")
        if name == "rmsprop":
            return optim.RMSprop(params, lr=lr, alpha=config.beta, eps=eps, weight_decay=wd)
        if name == "adam":
            return optim.Adam(params, lr=lr, betas=betas, eps=eps, weight_decay=wd)
        if name == "nadam":
            return optim.NAdam(params, lr=lr, betas=betas, eps=eps, weight_decay=wd)
        return optim.AdamW(params, lr=lr, betas=betas, eps=eps, weight_decay=wd)
    except ValueError as error:
        raise ConfigError(str(error)) from None


def build_scheduler(config, optimizer: optim.Optimizer, steps_per_epoch: int):
    """The learning-rate schedule, stepped after every batch: ``cosine`` anneals from
    ``learning_rate`` to 0 over the run (CosineAnnealingLR); ``onecycle`` warms up to a
    peak of ``learning_rate`` and anneals (OneCycleLR); ``constant``: None."""
    try:
        if config.lr_schedule == "constant":
            return None
        if config.lr_schedule == "cosine":
            return optim.lr_scheduler.CosineAnnealingLR(
                optimizer, T_max=config.epochs * steps_per_epoch)
        return optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=config.learning_rate, epochs=config.epochs,
            steps_per_epoch=steps_per_epoch)
    except ValueError as error:
        raise ConfigError(str(error)) from None


def squared_error_loss(logits, labels):
    """Squared error between softmax(logits) and the one-hot target, averaged over all
    ``batch x classes`` elements (``mse_loss``'s default, as in PyTorch)."""
    probabilities = F.softmax(logits, dim=1)
    # The one-hot rows come from Tensor ops on the labels, not tg.one_hot (which builds
    # an array), so that a captured step reads each batch's labels.
    classes = np.arange(logits.shape[1])
    targets = tg.as_tensor(labels).reshape(-1, 1).eq(classes)
    return F.mse_loss(probabilities, targets)


#: The training losses of ``--loss``: ``(logits, int labels) -> scalar Tensor``.
LOSSES = {"cross_entropy": F.cross_entropy, "mean_squared_error": squared_error_loss}


def evaluate(model, images, labels, loss_fn, batch_size: int = EVAL_BATCH_SIZE,
             transform=tg_data.to_float_flat):
    """Mean loss, accuracy and the predicted classes over ``(images, labels)``, in eval
    mode (dropout off) and without recording a graph."""
    model.eval()
    loader = tg_data.DataLoader(tg_data.TensorDataset(images, labels), batch_size)
    total_loss = 0.0
    predictions = []
    with no_grad(), np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for x, y in loader:
            logits = model(tg.Tensor(transform(x.numpy())))
            total_loss += loss_fn(logits, y).item() * len(y)
            predictions.append(logits.argmax(axis=1).numpy())
    predicted = np.concatenate(predictions) if predictions else np.empty(0, np.int64)
    accuracy = float(np.mean(predicted == labels)) if len(labels) else float("nan")
    return total_loss / max(len(labels), 1), accuracy, predicted


def confusion_matrix(true_labels, predicted, num_classes: int) -> np.ndarray:
    """counts[true, predicted] as an int64 (classes x classes) array."""
    true_labels = np.asarray(true_labels, dtype=np.int64)
    flat = np.bincount(true_labels * num_classes + np.asarray(predicted, dtype=np.int64),
                       minlength=num_classes * num_classes)
    return flat.reshape(num_classes, num_classes)


def format_epoch(record: Mapping, epochs: int) -> str:
    """``epoch 3/10: train_loss=0.3341 ... val_accuracy=0.8613 (3.9 s)``: the epoch's
    metrics in the order they were recorded."""
    metrics = " ".join(f"{key}={value:.4f}" for key, value in record.items()
                       if key not in ("epoch", "lr", "epoch_time_s"))
    return f"epoch {record['epoch']}/{epochs}: {metrics} ({record['epoch_time_s']:.1f} s)"


class TrainingStep:
    """An example's training step, ``step(*batch) -> Tensors`` (forward, loss,
    ``zero_grad()``, ``backward()``, ``optimizer.step()``; or without the optimizer step
    when gradient clipping, which cannot be captured, comes before it), captured with
    :func:`tinygrad_fm.jit` when ``capture`` is true.

    The jit runs the step eagerly on the first two batches of each shape while recording
    it (the last, smaller batch of an epoch gets its own recordings), then replays the
    recording: the same NumPy calls in the same order, so the same numbers bit for bit,
    without the framework's Python overhead. Dropout's masks and the schedulers' learning
    rates follow at every replay, and BatchNorm's running statistics are updated where
    they live. Returned Tensors are detached: read their values (the loss for the
    divergence check) after the call, which is after the update.

    A step the jit refuses (a :class:`~tinygrad_fm.jit.CaptureError`: a layer that reads
    a value or draws random numbers outside an op, Python that depends on the data, ...)
    is not an error: the run says why once and trains eagerly from then on. The batch of
    the refused call is not lost: if the refusal came after the whole step had run (two
    recordings that differ), its outputs are returned; otherwise it runs again eagerly
    from the same random numbers (dropout's masks are the eager run's), though a layer
    that updates state in its forward (BatchNorm's running statistics) counts it twice.
    """

    def __init__(self, step, capture: bool = True, log=print):
        self._step, self._log = step, log
        self._finished = None  # outputs of the last recording call that ran to the end
        self._captured = tg.jit(self._recorded) if capture else None

    @property
    def captured(self) -> bool:
        """Whether the step is (still) captured."""
        return self._captured is not None

    @property
    def replays(self) -> int:
        """How many batch shapes have a replay ready."""
        return self._captured.captures if self._captured is not None else 0

    def _recorded(self, *batch):
        # Python in here runs only while the jit records (not at replays).
        self._random_state = tg.default_generator().bit_generator.state
        outputs = self._step(*batch)
        self._finished = outputs
        return outputs

    def __call__(self, *batch):
        if self._captured is None:
            return self._step(*batch)
        self._finished = None
        try:
            return self._captured(*batch)
        except CaptureError as error:
            self._captured = None
            self._log(f"note: the training step cannot be captured, so it runs eagerly from "
                      f"now on (--no-capture does so from the start): {error}")
            if self._finished is not None:
                return self._finished
            tg.default_generator().bit_generator.state = self._random_state
            return self._step(*batch)


# ----------------------------------------------------------------------------- checkpoints


def resolve_checkpoint(path) -> Path:
    """``path`` itself, or ``path/checkpoint.npz`` when ``path`` is a run folder."""
    return file_in(path, CHECKPOINT_NAME, "checkpoint", "give the checkpoint.npz of a run "
                   "started with --save, or its run folder")


def read_checkpoint(path) -> dict:
    """The checkpoint's state; CheckpointError naming the file when it cannot be read or
    was not written by an example."""
    path = resolve_checkpoint(path)
    try:
        state = nn.load(path)
    except Exception as error:  # a damaged or foreign file: one message, whatever broke
        detail = " ".join(str(error).split())
        raise CheckpointError(f"{path} cannot be read as a checkpoint ({detail})") from None
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{path} is not a checkpoint of this example (format "
                              f"{CHECKPOINT_FORMAT}); it may come from another program")
    return state


# ----------------------------------------------------------------------------- the run


class TrainingRun:
    """One training run around an example's own loop (see the module docstring).

    ``config``: a ``config_cls`` instance, a mapping of its flags, or None (the defaults;
    with ``options.resume``, the checkpoint's). A resumed run may change only the
    ``resumable`` flags, and of a mapping only its keys are compared (of a Config, those
    in ``options.explicit``, or all).
    """

    def __init__(self, config_cls, config=None, options: RunOptions = RunOptions()):
        self.config_cls, self.options = config_cls, options
        self._requested = config
        self.say = (lambda *_a, **_k: None) if options.quiet else options.log
        self.tracker: Optional[Tracker] = None
        self.checkpoint_state = None
        self.data: Optional[example_data.ImageData] = None
        self.history: list = []
        self._bar = None
        self._started = False
        self._made_folder = False  # whether __enter__ created out_dir
        self.step: Optional[TrainingStep] = None
        self._errstate = np.errstate(over="ignore", invalid="ignore", divide="ignore")

    def __enter__(self) -> "TrainingRun":
        self.started = time.perf_counter()
        options, explicit = self.options, self.options.explicit
        requested = self._requested
        if isinstance(requested, Mapping) and explicit is None:
            explicit = {str(key).replace("-", "_") for key in requested}
        if requested is not None and not isinstance(requested, Config):
            requested = self.config_cls.from_mapping(requested)
        out_dir, self.save = options.out_dir, options.save
        resumed_folder = None
        if options.resume is not None:
            path = resolve_checkpoint(options.resume)
            resumed_folder = path.parent
            self.checkpoint_state = read_checkpoint(path)
            try:
                saved = self.config_cls.from_mapping(self.checkpoint_state["config"])
            except (ConfigError, KeyError) as error:
                raise CheckpointError(f"{path} holds no valid configuration ({error})") from None
            self.config = saved.resumed_with(requested, explicit)
            out_dir = path.parent if out_dir is None else out_dir
            self.save = True
        else:
            self.config = requested if requested is not None else self.config_cls()
        self.name = options.name or self.config.run_name()
        self.out_dir = Path(out_dir) if out_dir is not None else new_folder(self.name)
        if resumed_folder is None or self.out_dir.resolve() != resumed_folder.resolve():
            self._claim_folder()
        self._made_folder = not self.out_dir.exists()
        make_folder(self.out_dir)
        if resumed_folder is not None or options.overwrite:
            # what a write killed midway (SIGKILL) left behind; no write is running now
            remove_leftover_temporaries(self.out_dir)
        self.checkpoint_path = self.out_dir / CHECKPOINT_NAME if self.save else None
        tg.manual_seed(self.config.seed)
        # Overflow shows up as a non-finite loss, which stops training with a clear
        # message; NumPy's RuntimeWarnings on the way there would only bury it.
        self._errstate.__enter__()
        return self

    def _remove_folder_if_unused(self) -> None:
        """A run refused before it started (a configuration too big for the data, an
        interrupt while loading) leaves no empty run folder behind."""
        if self._made_folder:
            try:
                self.out_dir.rmdir()  # only if still empty
            except OSError:
                pass

    def _claim_folder(self) -> None:
        """Refuse an --out that holds another run (its config.json would be replaced and
        its checkpoint mixed with this run's), unless --overwrite deletes that run."""
        kind, found = work_in(self.out_dir)
        if kind is None:
            return
        if kind != "run" or not self.options.overwrite:
            if kind != "run":
                what, advice = f"a {kind}", "choose a new --out"
            elif CHECKPOINT_NAME in found:
                what = "a run"
                advice = (f"continue it with --resume {self.out_dir}, choose a new --out, or "
                          "add --overwrite to replace it")
            else:
                what = "a run"
                advice = ("it has no checkpoint, so --resume cannot continue it; choose a new "
                          "--out, or add --overwrite to replace it")
            raise OutFolderInUse(f"--out {self.out_dir} holds {what} already "
                                 f"({', '.join(found)}); {advice}")
        for name in RUN_OUTPUTS:
            target = self.out_dir / name
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            elif target.exists() or target.is_symlink():
                target.unlink()
        self.options.log(f"--overwrite: deleted the run that was in {self.out_dir}")

    def image_data(self) -> example_data.ImageData:
        """The configured dataset's images as this run uses them (see
        :func:`experiment.data.image_data`); ConfigError when the configuration cannot
        train on them (see ``Config.check_fits``)."""
        data = example_data.image_data(self.config, self.options.data_dir)
        self.config.check_fits(data.train_images.shape[1:], data.num_classes)
        self.data = data
        return self.data

    def start(self, model, optimizer, scheduler=None, data=None) -> None:
        """Restore the checkpoint being resumed, open the run folder and wandb, and write
        the figure of sample images (``data``: an ImageData, for the counts and samples)."""
        self.model, self.optimizer, self.scheduler = model, optimizer, scheduler
        data = data if data is not None else self.data
        config, options = self.config, self.options
        self.previous_time, run_id = 0.0, None
        state = self.checkpoint_state
        if state is not None:
            try:
                model.load_state_dict(state["model"])
                optimizer.load_state_dict(state["optimizer"])
                if scheduler is not None:
                    scheduler.load_state_dict(state["scheduler"])
                self.history = list(state["history"])
                self.previous_time = float(state["train_time_s"])
                run_id = state.get("wandb_run_id")
                tg.default_generator().bit_generator.state = state["generator"]
            except Exception as error:  # another model, wrong shapes, missing entries
                detail = " ".join(str(error).split())  # load_state_dict's lines, as one
                raise CheckpointError(f"{resolve_checkpoint(options.resume)} does not fit "
                                      f"this run: {detail}") from None
            damaged = _non_finite_entries(model.state_dict(), optimizer.state_dict())
            if damaged:
                raise CheckpointError(
                    f"{resolve_checkpoint(options.resume)} holds NaN or infinite values "
                    f"({', '.join(damaged[:3])}{', ...' if len(damaged) > 3 else ''}), so "
                    "training could not continue from it; resume an earlier copy or start "
                    "a new run")
        self.start_epoch = self.saved_epoch = len(self.history)
        self.train_time = self.previous_time
        parameters = sum(p.numel() for p in model.parameters())
        self.tracker = Tracker(self.out_dir, config.as_dict(), name=self.name,
                               wandb_mode=options.wandb_mode, wandb_run=options.wandb_run,
                               group=options.wandb_group, job_type=options.wandb_job_type,
                               run_id=run_id, history=self.history, log=options.log)
        images = (f"{len(data.train_labels)} training, {len(data.val_labels)} validation, "
                  f"{len(data.test_labels)} test images of {config.dataset}; "
                  if data is not None else "")
        self.say(f"{self.name}: {images}{parameters:,} parameters; run folder {self.out_dir}")
        self.result = {"status": "running", "config": config.as_dict(), "run_name": self.name,
                       "out_dir": str(self.out_dir), "parameters": parameters,
                       "history": self.history,
                       "checkpoint": str(self.checkpoint_path) if self.checkpoint_path else None,
                       "wandb_dir": self.tracker.sync_dir}
        self.tracker.set_summary({"parameters": parameters})
        self._started = True  # from here on, a stop is recorded in the run folder
        self.figures = options.figures
        if self.figures and new_figure(1, 1) is None:
            options.log("matplotlib is not installed (pip install matplotlib); no figures are "
                        "written")
            self.figures = False
        if self.figures and self.start_epoch == 0 and data is not None:
            path = plot_samples(data.splits.train_images, data.splits.train_labels,
                                data.classes, self.out_dir / "samples.png")
            self.tracker.log_image("samples", path, step=0)

    def training_step(self, step) -> TrainingStep:
        """``step`` as the run trains with it: captured with tinygrad_fm.jit unless
        ``options.capture`` is false (--no-capture); see :class:`TrainingStep`."""
        self.step = TrainingStep(step, self.options.capture, self.options.log)
        return self.step

    def epochs(self):
        """The epochs left to train (all of them, unless resuming)."""
        for epoch in range(self.start_epoch + 1, self.config.epochs + 1):
            self._epoch_started = time.perf_counter()
            yield epoch

    def progress(self, loader, epoch: int):
        """``loader``'s batches of ``epoch`` behind a progress bar (none with --quiet).

        The order of the loader's sampler is a function of (seed, epoch); setting the
        epoch here keeps a resumed run on the same batches.
        """
        from tqdm.auto import tqdm

        loader.sampler.set_epoch(epoch - 1)
        # tqdm.auto's wrapper calls iter() in its constructor, so it gets an iterator.
        self._bar = tqdm(iter(loader), desc=f"epoch {epoch}/{self.config.epochs}",
                         total=len(loader), leave=False, disable=self.options.quiet,
                         unit="batch", dynamic_ncols=True, mininterval=0.5)
        return self._bar

    def check_finite(self, loss: float, epoch: int, step) -> float:
        """``loss``, or TrainingDiverged when it is NaN or infinite."""
        if not math.isfinite(loss):
            raise self._diverged(epoch, step, loss,
                                 before_any_update=epoch == self.start_epoch + 1 and step == 1)
        return loss

    def _diverged(self, epoch: int, step, value: float, before_any_update: bool = False):
        return TrainingDiverged(epoch, step, value, self.config.learning_rate,
                                self.optimizer.param_groups[0]["lr"],
                                cause=divergence_cause(self.config, before_any_update))

    def show_running_loss(self, step: int, loss: float) -> None:
        """The epoch's mean loss so far, on the progress bar every 25 steps."""
        if step % 25 == 0:
            self._bar.set_postfix(loss=f"{loss:.4f}", refresh=False)

    def end_epoch(self, epoch: int, **metrics) -> dict:
        """Record an epoch (train_loss, train_accuracy, val_loss, val_accuracy): its line
        in metrics.jsonl, wandb and the output, and the checkpoint (with --save)."""
        self._close_bar()
        if not math.isfinite(metrics["val_loss"]):
            raise self._diverged(epoch, "validation", metrics["val_loss"])
        epoch_time = time.perf_counter() - self._epoch_started
        self.train_time += epoch_time
        record = {"epoch": epoch, **metrics, "lr": self.optimizer.param_groups[0]["lr"],
                  "epoch_time_s": epoch_time}
        self.history.append(record)
        # The checkpoint first: metrics.jsonl must never run ahead of it (when the disk
        # fills, a resume rewrites metrics.jsonl from the checkpoint's history).
        if self.checkpoint_path is not None:
            self._save_checkpoint(epoch)
        self.tracker.log_epoch(record)
        self.say(format_epoch(record, self.config.epochs))
        if self.options.on_epoch_end is not None:
            self.options.on_epoch_end(record)
        return record

    def _save_checkpoint(self, epoch: int) -> None:
        nn.save({"format": CHECKPOINT_FORMAT, "config": self.config.as_dict(), "epoch": epoch,
                 "model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
                 "scheduler": self.scheduler.state_dict() if self.scheduler else None,
                 "history": self.history, "train_time_s": self.train_time,
                 "generator": tg.default_generator().bit_generator.state,
                 "wandb_run_id": self.tracker.run_id},
                self.checkpoint_path)
        self.saved_epoch = epoch

    def finish(self, test_loss: float, test_accuracy: float, predicted=None,
               extra: Optional[Mapping] = None) -> dict:
        """Record the test results (the confusion matrix of ``predicted`` against the test
        labels, and ``extra``: more final values, e.g. a language model's samples), write
        the figures and summary.json, log them; returns the run's result:
        ``status``, ``config``, ``run_name``, ``out_dir``, ``parameters``, ``history``
        (one record per epoch), ``checkpoint``, ``wandb_dir``, ``test_loss``,
        ``test_accuracy``, ``confusion_matrix``, ``classes``, ``train_time_s``,
        ``wall_time_s``, ``captured_step`` (whether the step was replayed to the end)."""
        data, result = self.data, self.result
        counts = None
        if predicted is not None and data is not None:
            counts = confusion_matrix(data.test_labels, predicted, data.num_classes)
            result.update(status="finished", test_loss=test_loss, test_accuracy=test_accuracy,
                          confusion_matrix=counts.tolist(), classes=list(data.classes))
        else:
            result.update(status="finished", test_loss=test_loss, test_accuracy=test_accuracy)
        result.update(train_time_s=self.train_time, wall_time_s=self._wall_time(),
                      captured_step=self.step.captured if self.step is not None else None)
        result.update(extra or {})
        heatmap = curves = None
        if self.figures:
            if counts is not None:
                heatmap = plot_confusion_matrix(counts, data.classes,
                                                self.out_dir / "confusion_matrix.png")
            curves = plot_curves({self.name: self.history}, self.out_dir / "curves.png",
                                 panels=[(label, keys) for label, keys in LOSS_AND_ACCURACY
                                         if all(key in self.history[0] for key in keys)]
                                 if self.history else LOSS_AND_ACCURACY)
        self.tracker.write_summary(_summary(result))
        self.tracker.log_results(
            {"test_loss": test_loss, "test_accuracy": test_accuracy},
            step=max(len(self.history), 1),
            confusion=(data.test_labels, predicted, data.classes) if counts is not None else None,
            images={"confusion_matrix_heatmap": heatmap, "curves": curves},
            summary={"test_loss": test_loss, "test_accuracy": test_accuracy,
                     "wall_time_s": result["wall_time_s"], "status": "finished",
                     **(extra or {})})
        return result

    def _wall_time(self) -> float:
        return self.previous_time + time.perf_counter() - self.started

    def _close_bar(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __exit__(self, kind, error, traceback) -> bool:
        self._close_bar()
        self._errstate.__exit__(None, None, None)
        if kind is None:
            if self.tracker is not None:
                self.tracker.finish()
            return False
        if isinstance(error, RuntimeError) and isinstance(error.__cause__, KeyboardInterrupt):
            # Ctrl-C while a class was being created (an import, e.g. matplotlib's on the
            # first figure) reaches here wrapped by Python ("Error calling __set_name__")
            kind = KeyboardInterrupt
        if issubclass(kind, KeyboardInterrupt):
            # Recording the stop takes a moment (wandb); a second Ctrl-C must not cut it.
            ignore_further_interrupts()
        if not self._started:
            self._remove_folder_if_unused()
            return False
        if issubclass(kind, TrainingDiverged):
            self._record_stop("diverged", str(error))
        elif issubclass(kind, KeyboardInterrupt):
            self._record_stop("interrupted", "stopped with Ctrl-C or SIGTERM")
            kept = (self.checkpoint_path if self.checkpoint_path is not None
                    and self.saved_epoch > 0 else None)
            raise TrainingInterrupted(len(self.history), kept, self.saved_epoch,
                                      self.out_dir, saving=self.checkpoint_path is not None) from None
        elif issubclass(kind, OSError):  # the run folder could not be written (disk full)
            problem = os_error_message(error)
            self._record_stop("failed", problem)
            if self.checkpoint_path is not None and self.saved_epoch > 0:
                kept = (f"the checkpoint of epoch {self.saved_epoch} in {self.checkpoint_path} "
                        f"is intact: continue with --resume {self.checkpoint_path} once that is "
                        "fixed")
            else:
                kept = "no checkpoint was kept"
            raise OutputError(f"{problem}; training stopped; {kept}") from None
        return False

    def _record_stop(self, status: str, message: str) -> None:
        """summary.json and wandb say why the run stopped; a folder that cannot be written
        any more (a full disk) must not hide the reason behind a second error."""
        self.result.update(status=status, error=message, wall_time_s=self._wall_time())
        try:
            self.tracker.write_summary(_summary(self.result))
        except OSError:
            pass
        self.tracker.finish_failed(status, message)


class OutFolderInUse(ConfigError):
    """--out names a folder that holds another run (or a sweep, a report)."""


def _non_finite_entries(*states) -> list:
    """The keys of the arrays holding NaN or inf in nested state dicts."""
    found = []

    def visit(value, key):
        if isinstance(value, Mapping):
            for name, item in value.items():
                visit(item, f"{key}.{name}" if key else str(name))
        elif isinstance(value, (list, tuple)):
            for index, item in enumerate(value):
                visit(item, f"{key}.{index}")
        else:
            array = value.numpy() if hasattr(value, "numpy") else value
            if (isinstance(array, np.ndarray) and array.dtype.kind in "fc"
                    and not np.isfinite(array).all()):
                found.append(key)

    for state in states:
        visit(state, "")
    return found


def _summary(result: Mapping) -> dict:
    return {k: v for k, v in result.items() if k != "history"} | {
        "epochs_completed": len(result["history"]),
        "final_epoch": result["history"][-1] if result["history"] else None}
