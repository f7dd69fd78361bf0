"""``torch.utils.data``: datasets, samplers, ``DataLoader`` and ``default_collate``, with
PyTorch's signatures and semantics; plus seeded train/validation splits of arrays.

One DataLoader, PyTorch's. When it loads a :class:`TensorDataset` with the default
collate, each batch is taken by indexing every tensor with the batch's indices at once
(no per-item ``__getitem__`` and collate), which gives the same batches as the general
path and is as fast as slicing arrays by hand.

Randomness (``shuffle=True``, ``random_split``, ``RandomSampler``) comes from
``generator=`` or, without one, from the default generator that
``tinygrad_fm.manual_seed`` seeds, so a seeded program repeats its batches.
"""

from __future__ import annotations

import bisect
import collections.abc
import math
import numbers
from typing import NamedTuple, Optional, Tuple

import numpy as np

from ..random import multinomial_array, numpy_rng
from ..tensor import Tensor

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "Subset", "ConcatDataset",
           "Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler",
           "WeightedRandomSampler",
           "BatchSampler", "DistributedSampler", "DataLoader", "default_collate",
           "default_convert", "random_split", "TrainValSplit", "split_indices",
           "train_val_split", "to_float_flat"]


# --------------------------------------------------------------------------- datasets

class Dataset:
    """Map-style dataset: subclasses define ``__getitem__`` (and usually ``__len__``)."""

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __add__(self, other):
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A dataset that is iterated (``__iter__``) instead of indexed."""

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")


class TensorDataset(Dataset):
    """Item ``i`` is ``tuple(t[i] for t in tensors)``; the tensors (or arrays) must share
    their first dimension."""

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        sizes = [len(t) for t in tensors]
        if any(n != sizes[0] for n in sizes):
            raise ValueError(f"TensorDataset: size mismatch between tensors: first "
                             f"dimensions {sizes} must all be equal")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return len(self.tensors[0])


class Subset(Dataset):
    """The items of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, index):
        if isinstance(index, list):
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

    def __len__(self) -> int:
        return len(self.indices)


class ConcatDataset(Dataset):
    """The datasets one after another."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        self.cumulative_sizes = list(np.cumsum([len(d) for d in self.datasets]))

    def __len__(self) -> int:
        return int(self.cumulative_sizes[-1])

    def __getitem__(self, index):
        if index < 0:
            if -index > len(self):
                raise IndexError(f"index {index} is out of range for a dataset of "
                                 f"length {len(self)}")
            index += len(self)
        which = bisect.bisect_right(self.cumulative_sizes, index)
        start = 0 if which == 0 else int(self.cumulative_sizes[which - 1])
        return self.datasets[which][index - start]


def random_split(dataset, lengths, generator=None):
    """Non-overlapping random ``Subset``s of the given lengths, or of the given fractions
    (summing to 1; the remainder is dealt round-robin, as in PyTorch)."""
    n = len(dataset)
    lengths = list(lengths)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        if any(not 0 <= f <= 1 for f in lengths):
            raise ValueError(f"random_split: fractions must lie in [0, 1], got {lengths}")
        counts = [int(math.floor(n * f)) for f in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
    if any(int(k) != k or k < 0 for k in lengths) or sum(lengths) != n:
        raise ValueError(f"random_split: the sum of the lengths {lengths} does not equal the "
                         f"length of the dataset ({n}); give lengths that sum to it or "
                         "fractions that sum to 1")
    order = numpy_rng(generator).permutation(n).tolist()
    subsets, start = [], 0
    for k in lengths:
        subsets.append(Subset(dataset, order[start:start + int(k)]))
        start += int(k)
    return subsets


# --------------------------------------------------------------------------- samplers

class Sampler:
    """Yields dataset indices. Ours also give the whole order as an array
    (``_order()``), which the DataLoader slices into batches without a Python loop."""

    def __init__(self, data_source=None):
        pass

    def __iter__(self):
        raise NotImplementedError

    def _order(self):
        return None


class SequentialSampler(Sampler):
    def __init__(self, data_source):
        self.data_source = data_source

    def _order(self):
        return np.arange(len(self.data_source), dtype=np.int64)

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """A fresh random order on every pass (or ``num_samples`` draws with
    ``replacement``), from ``generator`` or the default generator."""

    def __init__(self, data_source, replacement: bool = False, num_samples=None,
                 generator=None):
        self.data_source = data_source
        self.replacement = bool(replacement)
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(self.num_samples, int) or self.num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got "
                             f"num_samples={self.num_samples}")

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def _order(self):
        rng = numpy_rng(self.generator)
        n = len(self.data_source)
        if self.replacement:
            return rng.integers(0, n, self.num_samples, dtype=np.int64)
        whole, rest = divmod(self.num_samples, n)
        parts = [rng.permutation(n) for _ in range(whole)] + [rng.permutation(n)[:rest]]
        return np.concatenate(parts).astype(np.int64)

    def __iter__(self):
        return iter(self._order().tolist())

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices in a random order."""

    def __init__(self, indices, generator=None):
        self.indices = indices
        self.generator = generator

    def _order(self):
        return np.asarray(self.indices, dtype=np.int64)[
            numpy_rng(self.generator).permutation(len(self.indices))]

    def __iter__(self):
        return iter(self._order().tolist())

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices in ``[0, len(weights))``, index i drawn with probability
    proportional to ``weights[i]`` (not necessarily summing to 1), with or without
    ``replacement``; a fresh draw on every pass, from ``generator`` or the default
    generator. The usual cure for class imbalance: weight each sample by
    1 / (its class's count)."""

    def __init__(self, weights, num_samples: int, replacement: bool = True, generator=None):
        if isinstance(num_samples, bool) or not isinstance(num_samples, numbers.Integral) \
                or num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got "
                             f"num_samples={num_samples}")
        if not isinstance(replacement, bool):
            raise ValueError(f"replacement should be a boolean value, but got "
                             f"replacement={replacement}")
        array = np.asarray(weights.data if isinstance(weights, Tensor) else weights,
                           dtype=np.float64)
        if array.ndim != 1:
            raise ValueError(f"weights should be a 1d sequence but given weights have shape "
                             f"{tuple(array.shape)}")
        if not replacement and num_samples > np.count_nonzero(array):
            raise ValueError(f"cannot draw {num_samples} samples without replacement from "
                             f"{np.count_nonzero(array)} non-zero weights; lower num_samples "
                             "or pass replacement=True")
        self.weights = Tensor(array)
        self.num_samples = int(num_samples)
        self.replacement = replacement
        self.generator = generator

    def _order(self):
        return multinomial_array(self.weights.data, self.num_samples, self.replacement,
                                 self.generator).astype(np.int64)

    def __iter__(self):
        return iter(self._order().tolist())

    def __len__(self) -> int:
        return self.num_samples


class DistributedSampler(Sampler):
    """``torch.utils.data.distributed.DistributedSampler`` for one process (or a given
    ``rank`` of ``num_replicas``): the order of a pass depends only on ``seed`` and the
    epoch set with :meth:`set_epoch`, so a resumed run sees the same batches. The order
    is ``np.random.default_rng([seed, epoch]).permutation(n)``."""

    def __init__(self, dataset, num_replicas=1, rank=0, shuffle=True, seed=0,
                 drop_last=False):
        if not 0 <= rank < num_replicas:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval "
                             f"[0, {num_replicas - 1}]")
        self.dataset, self.num_replicas, self.rank = dataset, int(num_replicas), int(rank)
        self.shuffle, self.seed, self.drop_last = bool(shuffle), int(seed), bool(drop_last)
        self.epoch = 0
        n = len(dataset)
        if self.drop_last and n % self.num_replicas:
            self.num_samples = n // self.num_replicas
        else:
            self.num_samples = math.ceil(n / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def _order(self):
        n = len(self.dataset)
        order = np.random.default_rng([self.seed, self.epoch]).permutation(n) if self.shuffle \
            else np.arange(n)
        if self.total_size > n:  # pad by repeating, as PyTorch does
            order = np.resize(order, self.total_size)
        order = order[:self.total_size]
        return order[self.rank:self.total_size:self.num_replicas].astype(np.int64)

    def __iter__(self):
        return iter(self._order().tolist())

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler):
    """Lists of ``batch_size`` indices from ``sampler`` (the last one shorter unless
    ``drop_last``)."""

    def __init__(self, sampler, batch_size: int, drop_last: bool):
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
                or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got "
                             f"batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got "
                             f"drop_last={drop_last}")
        self.sampler, self.batch_size, self.drop_last = sampler, int(batch_size), drop_last

    def _index_batches(self):
        """The batches as int64 arrays: slices of the sampler's whole order when it can
        give one (no Python loop over the indices), else collected from its iterator."""
        order = self.sampler._order() if isinstance(self.sampler, Sampler) else None
        if order is None:
            for batch in self._list_batches():
                yield np.asarray(batch, dtype=np.int64)
            return
        size = self.batch_size
        stop = len(order) - len(order) % size if self.drop_last else len(order)
        for start in range(0, stop, size):
            yield order[start:start + size]

    def _list_batches(self):
        batch = []
        for index in self.sampler:
            batch.append(index)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __iter__(self):
        return (batch.tolist() for batch in self._index_batches())

    def __len__(self) -> int:
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)


# --------------------------------------------------------------------------- collate

def default_convert(data):
    """What the DataLoader does to items without batching: arrays become Tensors."""
    if isinstance(data, np.ndarray) and data.dtype.kind in "biuf":
        return Tensor(data)
    if isinstance(data, collections.abc.Mapping):
        return type(data)({k: default_convert(v) for k, v in data.items()}) \
            if not isinstance(data, dict) or type(data) is dict else \
            {k: default_convert(v) for k, v in data.items()}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, (list, tuple)):
        return type(data)(default_convert(d) for d in data)
    return data


def default_collate(batch):
    """PyTorch's default collate: Tensors and arrays are stacked into a Tensor with a new
    first dimension; Python floats become a float64 Tensor, ints an int64 Tensor, bools a
    bool Tensor; strings stay a list; dicts, named tuples, tuples and lists are collated
    field by field (a batch of tuples or lists becomes a list of batched fields)."""
    if not batch:
        raise ValueError("default_collate: got an empty batch")
    elem = batch[0]
    if isinstance(elem, Tensor):
        shapes = {b.shape for b in batch}
        if len(shapes) > 1:
            raise RuntimeError(f"default_collate: stack expects each tensor to be equal size, "
                               f"but got shapes {sorted(shapes)} in one batch; pad them or "
                               "pass a collate_fn")
        return Tensor(np.stack([b.data for b in batch]))
    if isinstance(elem, np.ndarray):
        if elem.dtype.kind not in "biuf":
            raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, "
                            f"numbers, dicts or lists; found an array of dtype {elem.dtype}")
        return Tensor(np.stack(batch))
    if isinstance(elem, np.generic):
        return Tensor(np.asarray(batch))
    if isinstance(elem, bool):
        return Tensor(np.asarray(batch, dtype=np.bool_))
    if isinstance(elem, numbers.Integral):
        return Tensor(np.asarray(batch, dtype=np.int64))
    if isinstance(elem, float):
        return Tensor(np.asarray(batch, dtype=np.float64))
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, collections.abc.Mapping):
        return {key: default_collate([d[key] for d in batch]) for key in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):
        return type(elem)(*(default_collate(samples) for samples in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        if any(len(b) != len(elem) for b in batch):
            raise RuntimeError("default_collate: each element in list of batch should be of "
                               "equal size")
        return [default_collate(samples) for samples in zip(*batch)]
    raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, "
                    f"dicts or lists; found {type(elem).__name__}")


# --------------------------------------------------------------------------- DataLoader

class DataLoader:
    """``torch.utils.data.DataLoader``: batches of ``dataset``'s items, in the order of
    ``sampler`` (``RandomSampler`` with ``shuffle=True``, else sequential), grouped by
    ``batch_sampler`` (``BatchSampler(sampler, batch_size, drop_last)``), merged by
    ``collate_fn`` (:func:`default_collate`). ``batch_size=None`` turns batching off.
    Loading happens in this process: ``num_workers`` and the memory options are accepted
    and have no effect."""

    def __init__(self, dataset, batch_size: Optional[int] = 1, shuffle: Optional[bool] = None,
                 sampler=None, batch_sampler=None, num_workers: int = 0, collate_fn=None,
                 pin_memory: bool = False, drop_last: bool = False, timeout: float = 0,
                 worker_init_fn=None, multiprocessing_context=None, generator=None, *,
                 prefetch_factor=None, persistent_workers: bool = False,
                 pin_memory_device: str = "", in_order: bool = True):
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 "
                             "to disable multiprocessing.")
        if isinstance(dataset, IterableDataset):
            if shuffle not in (None, False) or sampler is not None or batch_sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified "
                                 "shuffle, sampler and batch_sampler options")
        elif sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with "
                                 "batch_size, shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")
        if sampler is None and not isinstance(dataset, IterableDataset):
            sampler = RandomSampler(dataset, generator=generator) if shuffle \
                else SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None and sampler is not None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.dataset, self.batch_size, self.drop_last = dataset, batch_size, drop_last
        self.sampler, self.batch_sampler, self.generator = sampler, batch_sampler, generator
        self.num_workers, self.pin_memory, self.timeout = num_workers, pin_memory, timeout
        self.worker_init_fn = worker_init_fn
        self._auto_collation = batch_sampler is not None
        self.collate_fn = collate_fn if collate_fn is not None else \
            default_collate if self._auto_collation else default_convert
        self._fast_tensors = self._tensor_arrays() if collate_fn is None else None

    def _tensor_arrays(self):
        """The arrays of a TensorDataset of Tensors/arrays, for batches by fancy indexing."""
        if type(self.dataset) is not TensorDataset or not self._auto_collation:
            return None
        arrays = []
        for t in self.dataset.tensors:
            if isinstance(t, Tensor):
                arrays.append(t.data)
            elif isinstance(t, np.ndarray) and t.dtype.kind in "biuf":
                arrays.append(t)
            else:
                return None
        return arrays

    def __iter__(self):
        if isinstance(self.dataset, IterableDataset):
            return self._iterable_batches()
        if self._fast_tensors is not None and isinstance(self.batch_sampler, BatchSampler):
            return self._tensor_batches(self._fast_tensors)
        if self._auto_collation:
            return (self.collate_fn([self.dataset[i] for i in batch])
                    for batch in self.batch_sampler)
        return (self.collate_fn(self.dataset[i]) for i in self.sampler)

    def _tensor_batches(self, arrays):
        for indices in self.batch_sampler._index_batches():
            yield [Tensor._make(a[indices], False) for a in arrays]

    def _iterable_batches(self):
        if self.batch_size is None:
            for item in self.dataset:
                yield self.collate_fn(item)
            return
        batch = []
        for item in self.dataset:
            batch.append(item)
            if len(batch) == self.batch_size:
                yield self.collate_fn(batch)
                batch = []
        if batch and not self.drop_last:
            yield self.collate_fn(batch)

    def __len__(self) -> int:
        if isinstance(self.dataset, IterableDataset):
            n = len(self.dataset)
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)
        return len(self.batch_sampler) if self._auto_collation else len(self.sampler)


# --------------------------------------------------------------------------- array splits

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


def to_float_flat(batch) -> np.ndarray:
    """Image batches as model input, flattening each row to (B, features): uint8 pixels
    become float32 in [0, 1]; other data is not rescaled (floating rows keep their dtype,
    the rest becomes float32). Takes a Tensor or an array, returns an array."""
    batch = np.asarray(batch.data if isinstance(batch, Tensor) else batch)
    flat = batch.reshape(len(batch), -1)
    if batch.dtype == np.uint8:
        return np.divide(flat, np.float32(255.0), dtype=np.float32)
    return flat if batch.dtype.kind == "f" else flat.astype(np.float32)
