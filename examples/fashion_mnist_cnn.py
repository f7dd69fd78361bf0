"""Train a convolutional network on Fashion-MNIST (or MNIST) with tinygrad_fm.

    python examples/fashion_mnist_cnn.py                    # the reference CNN, 8 epochs
    python examples/fashion_mnist_cnn.py --preset batchnorm # BatchNorm, shifts, one-cycle
    python examples/fashion_mnist_cnn.py -e 2 --limit-train 5000 --wandb-mode disabled

The default network is issue 14's reference CNN: Conv2d(1, 32, 3, padding=1), ReLU,
MaxPool2d(2), Conv2d(32, 64, 3, padding=1), ReLU, MaxPool2d(2), Flatten,
Linear(3136, 128), ReLU, Dropout(0.25), Linear(128, 10), trained with Adam at 1e-3 on
batches of 64, the learning rate annealed to 0 over the run (cosine), inputs
standardised with the training set's mean and standard deviation.

The flags, run folder, wandb logging (offline fallback), figures, --save/--resume and the
divergence stop are the ``experiment`` package's, shared with fashion_mnist.py; this
script holds only the network and its epoch loop.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from experiment.cli import exit_status, exit_with
from experiment.config import (MORE, ImageConfig, RunOptions, build_parser, flag,
                               parse_command_line)
from experiment.data import to_float_images, training_transform
from experiment.training import (LOSSES, MAX_IMAGES, TrainingRun,
                                 build_optimizer, build_scheduler, evaluate)
import tinygrad_fm as tg
from tinygrad_fm import nn
from tinygrad_fm.utils.data import DataLoader, DistributedSampler, TensorDataset

#: Mean and standard deviation of Fashion-MNIST's training pixels (scaled to [0, 1]).
PIXEL_MEAN, PIXEL_STD = 0.2860, 0.3530
#: Images per evaluation batch. A convolution's activations hold 32 values per pixel, so
#: the MLP's 5,000 (500 MB per activation) would make evaluation, not training, the run's
#: memory peak (1.4 GB).
EVAL_BATCH_SIZE = 500


@dataclass(frozen=True)
class CNNConfig(ImageConfig):
    """The shared training flags and the network's. The defaults are the reference CNN's
    recipe; ``batchnorm`` goes further (see the README for what each reaches)."""

    PRESETS: ClassVar[dict] = {
        # Conv-BatchNorm-ReLU blocks, images shifted by up to 2 pixels, a one-cycle
        # schedule peaking at 3e-3 with AdamW, and more epochs for the augmented data.
        "batchnorm": {"norm": "batch", "augment_shift": 2, "optimizer": "adamw",
                      "learning_rate": 3e-3, "weight_decay": 0.01, "lr_schedule": "onecycle",
                      "epochs": 15, "batch_size": 128},
    }

    epochs: int = flag(8, "-e", "epochs (default {default})", metavar="N", minimum=1,
                       resumable=True)
    channels: int = flag(32, "-c", "channels of the first convolution; the second has "
                         "twice as many (default {default})", metavar="N", minimum=1)
    hidden_size: int = flag(128, "-sz", "units of the hidden linear layer (default "
                            "{default})", metavar="N", minimum=1)
    dropout: float = flag(0.25, None, "dropout before the last layer (default {default})",
                          group=MORE, metavar="P", below_one=True)
    norm: str = flag("none", None, "normalisation after each convolution: none, or batch "
                     "(BatchNorm2d)", group=MORE, choices=("none", "batch"))

    def training_memory(self, image_shape: tuple, num_classes: int) -> tuple:
        """About the bytes of float32 weights, gradients and two optimizer moments, and
        of the activations (values and gradients) of the largest batch."""
        c, hidden = self.channels, self.hidden_size
        area = math.prod(image_shape)
        parameters = (9 * c + c + 9 * c * 2 * c + 2 * c + 2 * c * (area // 16) * hidden
                      + hidden + (hidden + 1) * num_classes)
        per_image = 3 * (c * area + 2 * c * area // 4) + c * area // 4 + 2 * c * area // 16 \
            + 3 * hidden + num_classes
        rows = max(EVAL_BATCH_SIZE, min(self.batch_size, MAX_IMAGES))
        return 4 * (4 * parameters + 2 * rows * per_image), f"-c {c} -sz {hidden}"

    def run_name(self) -> str:
        """``cnn_c_32_sz_128_bs_64_opt_adam_lr_0.001``, plus what differs from the
        defaults of the rest."""
        parts = [f"cnn_c_{self.channels}", f"sz_{self.hidden_size}", f"bs_{self.batch_size}",
                 f"opt_{self.optimizer}", f"lr_{self.learning_rate:g}"]
        if self.weight_decay:
            parts.append(f"wd_{self.weight_decay:g}")
        if self.norm != "none":
            parts.append(f"{self.norm}norm")
        if self.dropout != 0.25:
            parts.append(f"do_{self.dropout:g}")
        if self.augment_shift:
            parts.append(f"shift_{self.augment_shift}")
        if self.lr_schedule != "cosine":
            parts.append(self.lr_schedule)
        if self.dataset != "fashion_mnist":
            parts.append(self.dataset)
        return "_".join(parts)


def build_model(config: CNNConfig, side: int = 28, num_classes: int = 10):
    """Two (Conv2d 3x3, [BatchNorm2d,] ReLU, MaxPool2d 2) blocks, then Flatten,
    Linear, ReLU, Dropout and a Linear layer of logits, with PyTorch's initialisation
    (the layers' own)."""
    layers, channels = [], 1
    for width in (config.channels, 2 * config.channels):
        layers.append(nn.Conv2d(channels, width, 3, padding=1,
                                bias=config.norm == "none"))
        if config.norm == "batch":
            layers.append(nn.BatchNorm2d(width))
        layers += [nn.ReLU(), nn.MaxPool2d(2)]
        channels, side = width, side // 2
    layers += [nn.Flatten(), nn.Linear(channels * side * side, config.hidden_size), nn.ReLU(),
               nn.Dropout(config.dropout), nn.Linear(config.hidden_size, num_classes)]
    return nn.Sequential(*layers)


def standardised_images(batch: np.ndarray) -> np.ndarray:
    """uint8 (B, H, W) -> float32 (B, 1, H, W), standardised."""
    x = to_float_images(batch)
    x -= np.float32(PIXEL_MEAN)
    x /= np.float32(PIXEL_STD)
    return x


def train(config=None, options: RunOptions = RunOptions()) -> dict:
    """Train one configuration (a CNNConfig, a mapping of its flags, or None for the
    defaults) and return its result (see ``TrainingRun.finish``); raises
    TrainingDiverged / TrainingInterrupted as fashion_mnist.train does."""
    with TrainingRun(CNNConfig, config, options) as run:
        config = run.config  # with --resume: the checkpoint's
        data = run.image_data()
        train_set = TensorDataset(data.train_images, data.train_labels)
        train_loader = DataLoader(train_set, config.batch_size,
                                  sampler=DistributedSampler(train_set, seed=config.seed))
        transform = training_transform(config.augment_shift, then=standardised_images)
        side = data.train_images.shape[-1]
        model = build_model(config, side, data.num_classes)
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
                                                 loss_fn, EVAL_BATCH_SIZE,
                                                 transform=standardised_images)
            run.end_epoch(epoch, train_loss=total_loss / seen, train_accuracy=correct / seen,
                          val_loss=val_loss, val_accuracy=val_accuracy)

        return run.finish(*evaluate(model, data.test_images, data.test_labels, loss_fn,
                                    EVAL_BATCH_SIZE, transform=standardised_images))


EPILOG = """\
After every epoch the script prints and logs epoch, train_loss, train_accuracy, val_loss
and val_accuracy (10% of the training set, a seeded class-stratified draw, is held out);
at the end it evaluates the test set (test_loss, test_accuracy, confusion matrix).

The training step is captured with tinygrad_fm.jit (see --no-capture), the batchnorm
preset's too: BatchNorm2d's running statistics are updated at every replay.

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
    return build_parser(CNNConfig, prog="fashion_mnist_cnn.py",
                        description=__doc__.split("\n\n")[0], epilog=EPILOG)


def main(argv=None) -> int:
    command = parse_command_line(parser(), CNNConfig, argv)
    with exit_status() as status:
        result = train(command.config, command.options)
        line = (f"test_loss={result['test_loss']:.4f} "
                f"test_accuracy={result['test_accuracy']:.4f} ({result['wall_time_s']:.0f} s);"
                f" run folder {result['out_dir']}")
        if result.get("wandb_dir"):
            line += f"; wandb run {result['wandb_dir']}"
        print(line)
    return status.code


if __name__ == "__main__":
    exit_with(main)
