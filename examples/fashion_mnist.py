"""Train a multi-layer perceptron on Fashion-MNIST (or MNIST) with tinygrad_fm.

    python examples/fashion_mnist.py                      # the best configuration found
    python examples/fashion_mnist.py -nhl 3 -sz 64 -a relu -o nadam -lr 3e-3
    python examples/fashion_mnist.py --preset best        # wider, dropout, AdamW, one-cycle
    python examples/fashion_mnist.py -d mnist --wandb-mode disabled

Every run writes a folder (default ``runs/<run name>-<timestamp>``) with config.json,
metrics.jsonl (one line per epoch), summary.json (final metrics), samples.png,
confusion_matrix.png, curves.png, checkpoint.npz (with --save) and the wandb run.

The model, the optimizer and the epoch loop are below; the ``experiment`` package beside
this script handles the flags, the run folder, wandb, figures and checkpoints. Other
scripts train through :func:`train`::

    from fashion_mnist import MLPConfig, train
    result = train(MLPConfig(num_layers=3, optimizer="nadam"),
                   RunOptions(out_dir="runs/x", wandb_mode="disabled", quiet=True))
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

from experiment.cli import exit_status, exit_with
from experiment.config import (MORE, ImageConfig, RunOptions, build_parser, flag,
                               parse_command_line)
from experiment.data import training_transform
from experiment.training import (EVAL_BATCH_SIZE, LOSSES, MAX_IMAGES, TrainingRun,
                                 build_optimizer, build_scheduler, evaluate)
import tinygrad_fm as tg
from tinygrad_fm import nn
from tinygrad_fm.utils.data import DataLoader, DistributedSampler, TensorDataset

#: What ``-w_i random`` means.
RANDOM_INIT_STD = 0.01


@dataclass(frozen=True)
class MLPConfig(ImageConfig):
    """The flags of this example: the shared training flags and the network's. The
    defaults are the best configuration the sweep found."""

    ACTIVATIONS: ClassVar[dict] = {"identity": nn.Identity, "sigmoid": nn.Sigmoid,
                                   "tanh": nn.Tanh, "ReLU": nn.ReLU}
    PRESETS: ClassVar[dict] = {
        # A wider, regularised network trained with AdamW on a one-cycle schedule (its test
        # accuracy is in the README).
        "best": {"num_layers": 2, "hidden_size": 1024, "activation": "ReLU",
                 "weight_init": "He", "dropout": 0.2, "optimizer": "adamw",
                 "learning_rate": 1e-3, "weight_decay": 0.05, "lr_schedule": "onecycle",
                 "batch_size": 128, "epochs": 20},
    }

    weight_init: str = flag(
        "Xavier", "-w_i", f"weight initialisation: random = normal with std {RANDOM_INIT_STD}, "
        "Xavier = Glorot uniform, He = Kaiming normal; biases start at 0",
        choices=("random", "Xavier", "He"))
    num_layers: int = flag(4, "-nhl", "number of hidden layers (default {default})",
                           metavar="N", minimum=0)
    hidden_size: int = flag(128, "-sz", "neurons per hidden layer (default {default})",
                            metavar="N", minimum=1)
    activation: str = flag("tanh", "-a", "activation of the hidden layers",
                           choices=tuple(ACTIVATIONS))
    dropout: float = flag(0.0, None, "dropout probability after each hidden activation "
                          "(default 0)", group=MORE, metavar="P", below_one=True)

    def training_memory(self, image_shape: tuple, num_classes: int) -> tuple:
        """About the bytes of float32 weights, gradients and two optimizer moments, and
        of the activations (values and gradients) of the largest batch."""
        widths = [math.prod(image_shape)] + [self.hidden_size] * self.num_layers + [num_classes]
        parameters = sum((a + 1) * b for a, b in zip(widths, widths[1:]))
        rows = max(EVAL_BATCH_SIZE, min(self.batch_size, MAX_IMAGES))
        return 4 * (4 * parameters + 3 * rows * sum(widths[1:])), (
            f"-nhl {self.num_layers} -sz {self.hidden_size}")

    def run_name(self) -> str:
        """The settings that tell runs apart, assignment-style:
        ``hl_4_sz_128_bs_64_ac_tanh_opt_adam_lr_0.001_wd_0_wi_xavier``."""
        parts = [f"hl_{self.num_layers}", f"sz_{self.hidden_size}", f"bs_{self.batch_size}",
                 f"ac_{self.activation.lower()}", f"opt_{self.optimizer}",
                 f"lr_{self.learning_rate:g}", f"wd_{self.weight_decay:g}",
                 f"wi_{self.weight_init.lower()}"]
        if self.loss != "cross_entropy":
            parts.append("loss_mse")
        if self.dropout:
            parts.append(f"do_{self.dropout:g}")
        if self.augment_shift:
            parts.append(f"shift_{self.augment_shift}")
        if self.lr_schedule != "cosine":
            parts.append(self.lr_schedule)
        if self.dataset != "fashion_mnist":
            parts.append(self.dataset)
        return "_".join(parts)


def build_model(config: MLPConfig, in_features: int = 784, num_classes: int = 10):
    """``num_layers`` x (Linear, activation[, Dropout]) and a Linear layer of logits.

    Weights: ``random`` is N(0, 0.01^2); ``Xavier`` is Glorot's uniform scheme (gain 1);
    ``He`` is Kaiming's normal scheme (fan_in, gain of the activation); biases start at
    zero. Draws come from tinygrad_fm's global generator, so the seed fixes them.
    """
    layers, width = [], in_features
    for _ in range(config.num_layers):
        layers += [nn.Linear(width, config.hidden_size), MLPConfig.ACTIVATIONS[config.activation]()]
        if config.dropout:
            layers.append(nn.Dropout(config.dropout))
        width = config.hidden_size
    layers.append(nn.Linear(width, num_classes))
    model = nn.Sequential(*layers)
    gain = "linear" if config.activation == "identity" else config.activation.lower()
    for layer in model:
        if isinstance(layer, nn.Linear):
            if config.weight_init == "random":
                nn.init.normal_(layer.weight, 0.0, RANDOM_INIT_STD)
            elif config.weight_init == "Xavier":
                nn.init.xavier_uniform_(layer.weight)
            else:
                nn.init.kaiming_normal_(layer.weight, nonlinearity=gain)
            nn.init.zeros_(layer.bias)
    return model


def train(config=None, options: RunOptions = RunOptions()) -> dict:
    """Train one configuration (an MLPConfig, a mapping of its flags, or None for the
    defaults) and return its result (see ``TrainingRun.finish``). Raises
    TrainingDiverged when the loss becomes NaN/inf and TrainingInterrupted on Ctrl-C;
    the run folder and wandb record either."""
    with TrainingRun(MLPConfig, config, options) as run:
        config = run.config  # with --resume: the checkpoint's
        data = run.image_data()
        train_set = TensorDataset(data.train_images, data.train_labels)
        train_loader = DataLoader(train_set, config.batch_size,
                                  sampler=DistributedSampler(train_set, seed=config.seed))
        transform = training_transform(config.augment_shift)  # uint8 images -> float rows
        model = build_model(config, data.features, data.num_classes)
        optimizer = build_optimizer(config, model.parameters())
        scheduler = build_scheduler(config, optimizer, len(train_loader))
        loss_fn = LOSSES[config.loss]
        run.start(model, optimizer, scheduler, data)

        def train_step(images, labels):
            logits = model(images)
            loss = loss_fn(logits, labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            return loss, logits

        # Captured with tinygrad_fm.jit (the same numbers, less Python) unless --no-capture.
        train_batch = run.training_step(train_step)
        for epoch in run.epochs():
            model.train()
            # Train accuracy is that of the training forward passes themselves (weights
            # changing, dropout on), so it costs no second pass over the data.
            total_loss, correct, seen = 0.0, 0, 0
            for step, (x, y) in enumerate(run.progress(train_loader, epoch), 1):
                loss, logits = train_batch(tg.Tensor(transform(x.numpy())), y)
                # Read after the update (a captured step runs whole); a NaN stops the run
                # before the epoch's checkpoint is written.
                value = run.check_finite(loss.item(), epoch, step)
                if scheduler is not None:
                    scheduler.step()
                total_loss += value * len(y)
                correct += logits.argmax(axis=1).eq(y).sum().item()
                seen += len(y)
                run.show_running_loss(step, total_loss / seen)
            val_loss, val_accuracy, _ = evaluate(model, data.val_images, data.val_labels,
                                                 loss_fn)
            run.end_epoch(epoch, train_loss=total_loss / seen, train_accuracy=correct / seen,
                          val_loss=val_loss, val_accuracy=val_accuracy)

        return run.finish(*evaluate(model, data.test_images, data.test_labels, loss_fn))


EPILOG = """\
After every epoch the script prints and logs epoch, train_loss, train_accuracy, val_loss
and val_accuracy. 10% of the training set (a seeded, class-stratified draw) is held out
for validation. train_accuracy is measured on the training forward passes of the epoch
itself (weights still changing, dropout active), so it costs no extra pass. At the end it
evaluates the test set (test_loss, test_accuracy, confusion matrix).

The training step is captured with tinygrad_fm.jit (see --no-capture); the loss it
returns is checked for NaN/inf after the step's update.

wandb: without an API key the run is logged offline into the run folder and the script
says how to upload it (wandb sync); it never asks for a key. --wandb-mode disabled
turns it off.

--out refuses a folder that holds a run already: continue that run with --resume, or
replace it with --overwrite.

Exit status: 0 done, 1 the loss diverged (NaN/inf), the data or checkpoint could not
be read or the run folder could not be written (e.g. a full disk; the last checkpoint
stays intact), 2 bad options (or an --out holding another run), 130 interrupted (Ctrl-C
or SIGTERM alike; with --save the last epoch's checkpoint is kept).
"""


def parser():
    return build_parser(MLPConfig, prog="fashion_mnist.py",
                        description=__doc__.split("\n\n")[0], epilog=EPILOG)


def final_line(result: dict) -> str:
    line = (f"test_loss={result['test_loss']:.4f} test_accuracy={result['test_accuracy']:.4f} "
            f"({result['wall_time_s']:.0f} s); run folder {result['out_dir']}")
    if result.get("wandb_dir"):
        line += f"; wandb run {result['wandb_dir']}"
    return line


def main(argv=None) -> int:
    command = parse_command_line(parser(), MLPConfig, argv)
    with exit_status() as status:
        print(final_line(train(command.config, command.options)))
    return status.code


if __name__ == "__main__":
    exit_with(main)
