"""tinygrad_fm.data: seeded train/validation splits and the DataLoader."""

from __future__ import annotations

import os

import numpy as np
import pytest

from tinygrad_fm.data import DataLoader, TrainValSplit, split_indices, to_float_flat, train_val_split
from tinygrad_fm.tensor import Tensor


def _indexed(n: int, num_classes: int = 10):
    """Images whose single 'pixel' is the row index, so rows can be traced."""
    return np.arange(n, dtype=np.int64).reshape(n, 1), (np.arange(n) % num_classes).astype(np.uint8)


# ----------------------------------------------------------------------------- splits


@pytest.mark.parametrize("stratify", [False, True])
def test_split_partitions_all_rows(stratify):
    labels = np.random.default_rng(0).integers(0, 10, 1000).astype(np.uint8)
    train, val = split_indices(labels, 0.1, seed=3, stratify=stratify)
    assert len(val) == 100 and len(train) == 900
    assert np.intersect1d(train, val).size == 0
    np.testing.assert_array_equal(np.sort(np.concatenate([train, val])), np.arange(1000))
    assert train.dtype == val.dtype == np.int64


def test_split_is_random_not_first_or_last_rows():
    train, val = split_indices(np.zeros(1000), 0.1, seed=0)
    assert not np.array_equal(val, np.arange(100))
    assert not np.array_equal(val, np.arange(900, 1000))
    # spread over the whole range, not a contiguous block
    assert val.min() < 100 and val.max() >= 900 and np.diff(val).max() < 100


def test_split_is_seeded():
    labels = np.zeros(500)
    a, b = split_indices(labels, seed=7), split_indices(labels, seed=7)
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(split_indices(labels, seed=8)[1], a[1])


def test_train_val_split_rows_match_indices():
    images, labels = _indexed(200)
    split = train_val_split(images, labels, val_fraction=0.25, seed=1)
    assert isinstance(split, TrainValSplit)
    tr_i, tr_l, va_i, va_l = split  # unpacks as four arrays
    assert len(va_i) == 50 and len(tr_i) == 150
    assert np.intersect1d(tr_i[:, 0], va_i[:, 0]).size == 0
    np.testing.assert_array_equal(tr_l, labels[tr_i[:, 0]])
    np.testing.assert_array_equal(va_l, labels[va_i[:, 0]])
    train_idx, val_idx = split_indices(labels, 0.25, seed=1)
    np.testing.assert_array_equal(va_i[:, 0], val_idx)
    np.testing.assert_array_equal(tr_i[:, 0], train_idx)


def test_stratified_keeps_class_proportions():
    labels = np.repeat(np.arange(4), [400, 300, 200, 100]).astype(np.uint8)
    _, val = split_indices(labels, 0.1, seed=0, stratify=True)
    np.testing.assert_array_equal(np.bincount(labels[val]), [40, 30, 20, 10])
    # uneven shares: the total is still round(n * fraction), each class within one row
    labels = np.repeat(np.arange(3), [7, 7, 7])
    _, val = split_indices(labels, 0.5, seed=0, stratify=True)
    assert len(val) == 10  # round(10.5) -> 10 (banker's rounding)
    assert set(np.bincount(labels[val], minlength=3)) <= {3, 4}


def test_split_edge_fractions():
    labels = np.arange(10)
    train, val = split_indices(labels, 0.0)
    assert len(val) == 0 and len(train) == 10
    train, val = split_indices(labels, 1.0, stratify=True)
    assert len(val) == 10 and len(train) == 0
    for bad in (-0.1, 1.5, "0.1", None):
        with pytest.raises(ValueError, match="val_fraction"):
            split_indices(labels, bad)
    with pytest.raises(ValueError, match="differ in length"):
        train_val_split(np.zeros((3, 2)), np.zeros(4))


# ----------------------------------------------------------------------------- DataLoader


def _epoch(loader):
    xs, ys = [], []
    for x, y in loader:
        xs.append(x.data[:, 0].copy())
        ys.append(y)
    return np.concatenate(xs), np.concatenate(ys)


@pytest.mark.parametrize("shuffle", [True, False])
def test_every_index_exactly_once_per_epoch(shuffle):
    images, labels = _indexed(103)
    loader = DataLoader(images, labels, batch_size=10, shuffle=shuffle, seed=0, transform=None)
    for _ in range(3):
        rows, ys = _epoch(loader)
        np.testing.assert_array_equal(np.sort(rows), np.arange(103))
        np.testing.assert_array_equal(ys, labels[rows])  # labels travel with their rows
    if not shuffle:
        np.testing.assert_array_equal(rows, np.arange(103))


def test_shuffled_order_is_random_and_changes_per_epoch():
    images, labels = _indexed(100)
    loader = DataLoader(images, labels, batch_size=32, seed=0, transform=None)
    e0, _ = _epoch(loader)
    e1, _ = _epoch(loader)
    assert not np.array_equal(e0, np.arange(100))
    assert not np.array_equal(e0, e1)
    assert loader.epoch == 2


def test_order_depends_only_on_seed_and_epoch():
    images, labels = _indexed(100)
    a = DataLoader(images, labels, batch_size=16, seed=42, transform=None)
    orders = [_epoch(a)[0] for _ in range(3)]
    b = DataLoader(images, labels, batch_size=16, seed=42, transform=None)
    np.testing.assert_array_equal(_epoch(b)[0], orders[0])  # same seed, same order
    b.set_epoch(2)  # resume at epoch 2
    np.testing.assert_array_equal(_epoch(b)[0], orders[2])
    c = DataLoader(images, labels, batch_size=7, seed=42, transform=None, epoch=1)
    np.testing.assert_array_equal(_epoch(c)[0], orders[1])  # batch size does not matter
    np.testing.assert_array_equal(c.order(0), np.random.default_rng([42, 0]).permutation(100))
    d = DataLoader(images, labels, batch_size=16, seed=43, transform=None)
    assert not np.array_equal(_epoch(d)[0], orders[0])


def test_every_pass_advances_the_epoch_even_when_abandoned_and_set_epoch_repeats_one():
    """What the docstring promises: each iter() is a new epoch (a reshuffle, as with
    torch's RandomSampler), whether or not the pass is finished; set_epoch(e) makes the
    next pass use epoch e and the one after it e + 1."""
    images, labels = _indexed(40)
    loader = DataLoader(images, labels, batch_size=8, seed=3, transform=None)
    for _ in loader:
        break  # an abandoned pass still used up epoch 0
    assert loader.epoch == 1
    np.testing.assert_array_equal(_epoch(loader)[0], loader.order(1))
    assert loader.epoch == 2
    loader.set_epoch(1)
    np.testing.assert_array_equal(_epoch(loader)[0], loader.order(1))
    np.testing.assert_array_equal(_epoch(loader)[0], loader.order(2))
    assert not np.array_equal(loader.order(1), loader.order(2))
    assert "reshuffle" in DataLoader.__doc__ and "set_epoch" in DataLoader.__doc__


def test_seed_none_picks_a_reusable_seed():
    images, labels = _indexed(50)
    a = DataLoader(images, labels, batch_size=8, transform=None)
    b = DataLoader(images, labels, batch_size=8, transform=None)
    assert isinstance(a.seed, int) and a.seed != b.seed
    again = DataLoader(images, labels, batch_size=8, seed=a.seed, transform=None)
    np.testing.assert_array_equal(_epoch(a)[0], _epoch(again)[0])


@pytest.mark.parametrize("n,bs", [(103, 10), (100, 10), (5, 10)])
def test_drop_last(n, bs):
    images, labels = _indexed(n)
    keep = DataLoader(images, labels, batch_size=bs, seed=0, transform=None)
    sizes = [len(y) for _, y in keep]
    assert len(keep) == len(sizes) == -(-n // bs)
    assert sum(sizes) == n and all(s == bs for s in sizes[:-1]) and sizes[-1] == n - bs * (len(sizes) - 1)
    drop = DataLoader(images, labels, batch_size=bs, seed=0, drop_last=True, transform=None)
    sizes = [len(y) for _, y in drop]
    assert len(drop) == len(sizes) == n // bs and all(s == bs for s in sizes)
    # the dropped rows are the tail of this epoch's order
    rows = _epoch(DataLoader(images, labels, batch_size=bs, seed=0, drop_last=True,
                             transform=None))[0] if n >= bs else np.empty(0)
    np.testing.assert_array_equal(rows, drop.order(0)[: (n // bs) * bs])


def test_default_transform_scales_and_flattens_one_batch_at_a_time():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (70, 28, 28), dtype=np.uint8)
    images[0, 0, 0], images[1, 0, 0] = 0, 255
    labels = rng.integers(0, 10, 70).astype(np.uint8)
    loader = DataLoader(images, labels, batch_size=32, shuffle=False)
    assert loader.images is images  # the uint8 dataset is kept as is, not converted
    batches = list(loader)
    x, y = batches[0]
    assert isinstance(x, Tensor) and x.data.dtype == np.float32 and x.shape == (32, 784)
    assert isinstance(y, np.ndarray) and y.dtype == np.int64 and y.shape == (32,)
    np.testing.assert_array_equal(x.data, images[:32].reshape(32, 784).astype(np.float32) / 255)
    assert x.data.min() == 0.0 and x.data.max() == 1.0
    np.testing.assert_array_equal(y, labels[:32])
    assert batches[-1][0].shape == (6, 784)
    assert not np.shares_memory(x.data, images)
    assert images.dtype == np.uint8


def test_to_float_flat():
    batch = np.array([[[0, 51], [102, 255]]], np.uint8)
    out = to_float_flat(batch)
    assert out.dtype == np.float32 and out.shape == (1, 4)
    np.testing.assert_array_equal(out, np.float32([[0, 0.2, 0.4, 1.0]]))


def test_custom_and_no_transform():
    images = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)
    labels = np.array([3, 4], np.uint8)
    seen = []

    def transform(batch):
        seen.append(batch.dtype)
        return batch[:, None].astype(np.float32) - 1  # (B, 1, 28, 28), e.g. for a conv net

    x, y = next(iter(DataLoader(images, labels, 2, shuffle=False, transform=transform)))
    assert seen == [np.uint8] and isinstance(x, Tensor) and x.shape == (2, 1, 28, 28)
    x, _ = next(iter(DataLoader(images, labels, 2, shuffle=False, transform=None)))
    assert isinstance(x, Tensor) and x.data.dtype == np.uint8 and x.shape == (2, 28, 28)
    np.testing.assert_array_equal(x.data, images)
    x, _ = next(iter(DataLoader(images, labels, 2, shuffle=False,
                                transform=lambda b: Tensor(b.astype(np.float32)))))
    assert isinstance(x, Tensor)  # a transform may return a Tensor itself


def test_loader_validation():
    images, labels = _indexed(10)
    with pytest.raises(ValueError, match="differ in length"):
        DataLoader(images, labels[:9], 4)
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="batch_size"):
            DataLoader(images, labels, bad)
    with pytest.raises(TypeError, match="transform"):
        DataLoader(images, labels, 4, transform=3)
    with pytest.raises(ValueError, match="epoch"):
        DataLoader(images, labels, 4).set_epoch(-1)


def test_iterating_twice_at_once_uses_consecutive_epochs():
    images, labels = _indexed(20)
    loader = DataLoader(images, labels, batch_size=20, seed=5, transform=None)
    it0, it1 = iter(loader), iter(loader)  # the epoch is taken when iter() is called
    np.testing.assert_array_equal(next(it0)[0].data[:, 0], loader.order(0))
    np.testing.assert_array_equal(next(it1)[0].data[:, 0], loader.order(1))


def test_real_fashion_mnist_split_and_loader():
    folder = os.environ.get("FASHION_MNIST_DIR")
    if not folder:
        pytest.skip("FASHION_MNIST_DIR is not set")
    from tinygrad_fm.datasets import fashion_mnist

    d = fashion_mnist(data_dir=folder, download=False)
    split = train_val_split(d.train_images, d.train_labels, 0.1, seed=0, stratify=True)
    assert len(split.val_labels) == 6000 and len(split.train_labels) == 54000
    np.testing.assert_array_equal(np.bincount(split.val_labels), [600] * 10)
    loader = DataLoader(split.train_images, split.train_labels, batch_size=512, seed=0)
    assert len(loader) == 106
    total, count = 0.0, 0
    for x, y in loader:
        assert x.data.dtype == np.float32 and x.shape[1] == 784
        total += float(x.data.sum(dtype=np.float64))
        count += x.data.size
    assert abs(total / count - 0.2860) < 0.002


def test_default_transform_rescales_only_uint8_pixels():
    features = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    np.testing.assert_array_equal(to_float_flat(features), features)
    assert to_float_flat(features.astype(np.float64)).dtype == np.float64
    assert to_float_flat(np.array([[3]], np.int64)).tolist() == [[3.0]]
    assert to_float_flat(np.array([[255]], np.uint8)).tolist() == [[1.0]]


def test_dataloader_over_features_with_float_targets():
    rng = np.random.default_rng(0)
    features = rng.standard_normal((10, 3)).astype(np.float32)
    targets = rng.standard_normal((10, 1)).astype(np.float32)
    loader = DataLoader(features, targets, batch_size=4, shuffle=False)
    batches = list(loader)
    x, y = batches[0]
    np.testing.assert_array_equal(x.data, features[:4])
    assert y.dtype == np.float32 and y.shape == (4, 1)
    np.testing.assert_array_equal(np.concatenate([b[1] for b in batches]), targets)
    _, labels = next(iter(DataLoader(features, np.arange(10, dtype=np.uint8), 4)))
    assert labels.dtype == np.int64
