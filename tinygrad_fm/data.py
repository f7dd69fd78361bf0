"""Seeded train/validation splits and a memory-frugal mini-batch loader.

Public API::

    split_indices(labels, val_fraction=0.1, seed=0, stratify=False) -> (train_idx, val_idx)
    train_val_split(images, labels, val_fraction=0.1, seed=0, stratify=False) -> TrainValSplit
    to_float_flat(batch) -> float32 ndarray (B, features) in [0, 1]
    DataLoader(images, labels, batch_size, shuffle=True, seed=None, drop_last=False,
               transform=to_float_flat)

The loader keeps the dataset as it is given (uint8 for the image datasets) and converts
one batch at a time, so the float32 copy of the whole training set (188 MB for
Fashion-MNIST) is never made. Each epoch's order is a function of ``(seed, epoch)`` only,
and every ``iter(loader)`` advances the epoch, so each pass is reshuffled (as with torch's
``DataLoader(shuffle=True)``); ``set_epoch(e)`` chooses the epoch explicitly.
"""

from __future__ import annotations

import math
from typing import Callable, Iterator, NamedTuple, Optional, Tuple

import numpy as np

from .tensor import Tensor

__all__ = ["TrainValSplit", "split_indices", "train_val_split", "to_float_flat", "DataLoader"]


class TrainValSplit(NamedTuple):
    train_images: np.ndarray
    train_labels: np.ndarray
    val_images: np.ndarray
    val_labels: np.ndarray


def _num_val(n: int, val_fraction: float) -> int:
    if not (isinstance(val_fraction, (int, float, np.floating, np.integer))
            and 0.0 <= float(val_fraction) <= 1.0):
        raise ValueError(f"val_fraction must be a number in [0, 1], got {val_fraction!r}")
    return int(round(n * float(val_fraction)))


def split_indices(
    labels, val_fraction: float = 0.1, seed: Optional[int] = 0, stratify: bool = False,
) -> Tuple[np.ndarray, np.ndarray]:
    """Random, seeded split of ``range(len(labels))`` into (train, validation) indices.

    ``round(n * val_fraction)`` indices go to validation, drawn at random (not the first
    or last rows). With ``stratify=True`` each class gets its share of the validation
    rows (largest-remainder rounding keeps the total the same), so class proportions are
    kept. Both index arrays are sorted (int64) and together hold every index exactly once.
    ``seed=None`` draws fresh entropy.
    """
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"labels must be 1-D, got shape {labels.shape}")
    n = len(labels)
    n_val = _num_val(n, val_fraction)
    rng = np.random.default_rng(seed)
    if not stratify:
        perm = rng.permutation(n)
        val = perm[:n_val]
    else:
        classes, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
        exact = counts * (n_val / n) if n else counts * 0.0
        per_class = np.floor(exact).astype(np.int64)
        short = n_val - int(per_class.sum())
        if short > 0:  # hand the leftover rows to the largest fractional parts
            order = np.argsort(-(exact - per_class), kind="stable")
            per_class[order[:short]] += 1
        by_class = np.argsort(inverse, kind="stable")  # row indices grouped by class
        starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
        val = np.concatenate(
            [rng.permutation(by_class[s:s + c])[:k] for s, c, k in zip(starts, counts, per_class)]
        ) if len(classes) else np.empty(0, np.int64)
    mask = np.ones(n, dtype=bool)
    mask[val] = False
    return np.flatnonzero(mask).astype(np.int64), np.sort(val).astype(np.int64)


def train_val_split(
    images, labels, val_fraction: float = 0.1, seed: Optional[int] = 0, stratify: bool = False,
) -> TrainValSplit:
    """Split ``(images, labels)`` into training and validation parts; see :func:`split_indices`.

    Returns ``TrainValSplit(train_images, train_labels, val_images, val_labels)`` (copies,
    in the original row order within each part; the loader does the shuffling).
    """
    images, labels = np.asarray(images), np.asarray(labels)
    if len(images) != len(labels):
        raise ValueError(f"images and labels differ in length: {len(images)} vs {len(labels)}")
    train_idx, val_idx = split_indices(labels, val_fraction, seed, stratify)
    return TrainValSplit(images[train_idx], labels[train_idx], images[val_idx], labels[val_idx])


def to_float_flat(batch: np.ndarray) -> np.ndarray:
    """The default transform, flattening each row to (B, features): uint8 pixels become
    float32 in [0, 1]; other data is not rescaled (floating rows keep their dtype, the
    rest becomes float32), so feature arrays pass through with their values."""
    batch = np.asarray(batch)
    flat = batch.reshape(len(batch), -1)
    if batch.dtype == np.uint8:
        return np.divide(flat, np.float32(255.0), dtype=np.float32)
    return flat if batch.dtype.kind == "f" else flat.astype(np.float32)


class DataLoader:
    """Mini-batches of ``(Tensor x, ndarray y)`` over in-memory arrays: integer labels
    come as int64, floating targets (regression, shape (N,) or (N, k)) as they are.

    Every ``iter(loader)`` -- each ``for x, y in loader:`` loop -- advances the epoch by
    one, so with ``shuffle=True`` each pass over the loader gets a new order, just as
    torch's ``DataLoader(shuffle=True)`` (its ``RandomSampler``) reshuffles on every
    iteration. The order of a pass is ``default_rng([seed, epoch]).permutation(n)``: it
    depends only on the seed and the epoch number (not on how many passes were
    abandoned early or on any global random state), so a run is reproducible, and
    ``set_epoch(e)`` makes the next pass use epoch ``e``'s order again -- to resume a
    run, to repeat an epoch, or to set the epoch explicitly before every pass as with
    torch's ``DistributedSampler.set_epoch``.

    images, labels: arrays with equal first dimension, kept as given (not copied).
    batch_size: rows per batch; the last batch may be smaller unless ``drop_last``.
    shuffle: a fresh random order every pass (epoch); otherwise sequential order.
    seed: the seed of every epoch's order; ``None`` picks a random seed once (readable
        as ``loader.seed``, so a run can be repeated).
    drop_last: leave out the last batch of each pass when it would be smaller than
        ``batch_size`` (those rows are the tail of that pass's order).
    transform: called on each uint8 batch (B, 28, 28); its result is wrapped in a
        Tensor. Default :func:`to_float_flat`; ``None`` passes the raw rows through.
    epoch: the epoch the next pass uses (default 0); ``loader.epoch`` is then the number
        of passes started so far (plus the starting epoch). The order is fixed when
        ``iter()`` is called, so two iterators made in a row get consecutive epochs.
    """

    def __init__(
        self,
        images,
        labels,
        batch_size: int,
        shuffle: bool = True,
        seed: Optional[int] = None,
        drop_last: bool = False,
        transform: Optional[Callable[[np.ndarray], np.ndarray]] = to_float_flat,
        epoch: int = 0,
    ):
        images, labels = np.asarray(images), np.asarray(labels)
        if images.ndim < 1 or labels.ndim < 1:
            raise ValueError(f"expected images (N, ...) and labels (N, ...), got shapes "
                             f"{images.shape} and {labels.shape}")
        if len(images) != len(labels):
            raise ValueError(f"images and labels differ in length: {len(images)} vs {len(labels)}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
                or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        if transform is not None and not callable(transform):
            raise TypeError(f"transform must be callable or None, got {type(transform).__name__}")
        self.images = images
        self.labels = labels
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.seed = int(np.random.SeedSequence().entropy) if seed is None else int(seed)
        self.drop_last = bool(drop_last)
        self.transform = transform
        self.set_epoch(epoch)

    def set_epoch(self, epoch: int) -> None:
        """Make the next ``iter(loader)`` use epoch ``epoch``'s order (it then advances
        to ``epoch + 1`` as usual)."""
        if int(epoch) < 0:
            raise ValueError(f"epoch must be >= 0, got {epoch}")
        self.epoch = int(epoch)

    def order(self, epoch: Optional[int] = None) -> np.ndarray:
        """The row order of ``epoch`` (default: the next epoch), as int64 indices."""
        epoch = self.epoch if epoch is None else int(epoch)
        n = len(self.labels)
        if not self.shuffle:
            return np.arange(n, dtype=np.int64)
        return np.random.default_rng([self.seed, epoch]).permutation(n).astype(np.int64)

    def __len__(self) -> int:
        n = len(self.labels)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __iter__(self) -> Iterator[Tuple[Tensor, np.ndarray]]:
        """The batches of the current epoch's order; advances ``epoch`` by one."""
        order = self.order()
        self.epoch += 1
        return self._batches(order)

    def _batches(self, order: np.ndarray):
        bs = self.batch_size
        stop = len(self) * bs
        for start in range(0, min(stop, len(order)), bs):
            idx = order[start:start + bs]
            x = self.images[idx]  # one batch of rows, still uint8
            if self.transform is not None:
                x = self.transform(x)
            y = self.labels[idx]
            if y.dtype.kind in "iub":  # class labels: int64, as cross_entropy wants them
                y = y.astype(np.int64)
            yield (x if isinstance(x, Tensor) else Tensor(x)), y

    def __repr__(self) -> str:
        return (f"DataLoader(n={len(self.labels)}, batch_size={self.batch_size}, "
                f"shuffle={self.shuffle}, seed={self.seed}, drop_last={self.drop_last}, "
                f"epoch={self.epoch})")
