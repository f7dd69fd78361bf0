"""The examples' datasets: the configured dataset's splits and training augmentation."""

from __future__ import annotations

import functools
from typing import NamedTuple, Optional

import numpy as np

import tinygrad_fm as tg
from tinygrad_fm.utils import data as tg_data
from tinygrad_fm import datasets

#: The datasets a ``--dataset`` flag may name, and how each is loaded.
LOADERS = {"fashion_mnist": datasets.fashion_mnist, "mnist": datasets.mnist}
VAL_FRACTION = 0.1


@functools.lru_cache(maxsize=2)
def load_dataset(name: str, data_dir: Optional[str] = None) -> datasets.DatasetSplits:
    """The dataset's standard splits (found locally, in the cache or downloaded); cached
    in the process so several trainings load it once."""
    return LOADERS[name](data_dir=data_dir)


class ImageData(NamedTuple):
    """A run's images: training (limited by ``--limit-train``), validation (a seeded,
    class-stratified ``VAL_FRACTION`` of the training split) and test, as uint8 arrays;
    ``splits`` is the dataset as loaded."""

    train_images: np.ndarray
    train_labels: np.ndarray
    val_images: np.ndarray
    val_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    classes: tuple
    splits: datasets.DatasetSplits

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def features(self) -> int:
        """Values per image (784 for 28 x 28)."""
        return int(np.prod(self.train_images.shape[1:]))


def image_data(config, data_dir: Optional[str] = None) -> ImageData:
    """The images of ``config.dataset`` split as a run uses them (``config.seed`` draws
    the validation split, ``config.limit_train`` cuts the training part)."""
    splits = load_dataset(config.dataset, data_dir)
    split = tg_data.train_val_split(splits.train_images, splits.train_labels,
                                    val_fraction=VAL_FRACTION, seed=config.seed, stratify=True)
    train_images, train_labels = split.train_images, split.train_labels
    if config.limit_train is not None:
        train_images = train_images[:config.limit_train]
        train_labels = train_labels[:config.limit_train]
    return ImageData(train_images, train_labels, split.val_images, split.val_labels,
                     splits.test_images, splits.test_labels, tuple(splits.classes), splits)


def to_float_images(batch: np.ndarray) -> np.ndarray:
    """uint8 images (B, H, W) as float32 (B, 1, H, W) in [0, 1]: one channel, for
    convolutions (``to_float_flat`` gives (B, H*W) for a perceptron)."""
    return np.divide(batch[:, None], np.float32(255.0), dtype=np.float32)


class RandomShift:
    """Training-time augmentation: each image moves by a random whole number of pixels,
    up to ``max_shift`` in each direction (the uncovered border is black), then becomes
    float32 in [0, 1] by ``then`` (flat rows by default). Draws come from tinygrad_fm's
    global generator, which checkpoints save, so resumed runs repeat them."""

    def __init__(self, max_shift: int, then=tg_data.to_float_flat):
        self.max_shift, self.then = int(max_shift), then

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        m = self.max_shift
        shifts = tg.default_generator().integers(0, 2 * m + 1, size=(2, len(batch)))
        padded = np.pad(batch, ((0, 0), (m, m), (m, m)))
        windows = np.lib.stride_tricks.sliding_window_view(padded, batch.shape[1:], axis=(1, 2))
        return self.then(windows[np.arange(len(batch)), shifts[0], shifts[1]])


def training_transform(augment_shift: int, then=tg_data.to_float_flat):
    """The DataLoader transform of the training batches: ``then`` (flat rows by default,
    :func:`to_float_images` for convolutions) after the random shift, if any."""
    return RandomShift(augment_shift, then) if augment_shift else then
