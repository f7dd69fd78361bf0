"""tinygrad_fm.utils.data: seeded train/validation splits, PyTorch's DataLoader (its
TensorDataset fast path, samplers, default_collate, random_split), compared with torch."""

from __future__ import annotations

import os

import numpy as np
import pytest

import tinygrad_fm as tg
from tinygrad_fm.tensor import Tensor
from tinygrad_fm.utils.data import (BatchSampler, DataLoader, Dataset, DistributedSampler,
                                    RandomSampler, SequentialSampler, Subset, TensorDataset,
                                    TrainValSplit, default_collate, random_split,
                                    split_indices, to_float_flat, train_val_split)


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
        ys.append(y.data)
    return np.concatenate(xs), np.concatenate(ys)


@pytest.mark.parametrize("shuffle", [True, False])
def test_every_index_exactly_once_per_epoch(shuffle):
    images, labels = _indexed(103)
    loader = DataLoader(TensorDataset(images, labels), batch_size=10, shuffle=shuffle)
    passes = []
    for _ in range(3):
        rows, ys = _epoch(loader)
        np.testing.assert_array_equal(np.sort(rows), np.arange(103))
        np.testing.assert_array_equal(ys, labels[rows])  # labels travel with their rows
        passes.append(rows)
    if shuffle:  # a new order on every pass, as torch's RandomSampler
        assert not np.array_equal(passes[0], passes[1])
        assert not np.array_equal(passes[0], np.arange(103))
    else:
        np.testing.assert_array_equal(rows, np.arange(103))


def test_manual_seed_and_generator_make_the_shuffle_reproducible():
    images, labels = _indexed(50)
    data = TensorDataset(images, labels)
    tg.manual_seed(7)
    a = [_epoch(DataLoader(data, 8, shuffle=True))[0] for _ in range(2)]
    tg.manual_seed(7)
    b = [_epoch(DataLoader(data, 8, shuffle=True))[0] for _ in range(2)]
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    g1, g2 = tg.Generator().manual_seed(3), tg.Generator().manual_seed(3)
    np.testing.assert_array_equal(_epoch(DataLoader(data, 8, shuffle=True, generator=g1))[0],
                                  _epoch(DataLoader(data, 8, shuffle=True, generator=g2))[0])


def test_distributed_sampler_order_depends_only_on_seed_and_epoch():
    images, labels = _indexed(100)
    data = TensorDataset(images, labels)
    sampler = DistributedSampler(data, seed=42)
    loader = DataLoader(data, 16, sampler=sampler)
    orders = []
    for epoch in range(3):
        sampler.set_epoch(epoch)
        orders.append(_epoch(loader)[0])
    np.testing.assert_array_equal(orders[0], np.random.default_rng([42, 0]).permutation(100))
    assert not np.array_equal(orders[0], orders[1])
    resumed = DistributedSampler(data, seed=42)
    resumed.set_epoch(2)  # resume at epoch 2: the same batches
    np.testing.assert_array_equal(_epoch(DataLoader(data, 7, sampler=resumed))[0], orders[2])
    other = DistributedSampler(data, seed=43)
    assert not np.array_equal(_epoch(DataLoader(data, 16, sampler=other))[0], orders[0])


def test_distributed_sampler_splits_between_replicas_like_torch():
    torch = pytest.importorskip("torch")
    data = list(range(10))
    for replicas, drop_last in ((3, False), (3, True), (2, False)):
        ours = [list(DistributedSampler(data, replicas, r, shuffle=False, drop_last=drop_last))
                for r in range(replicas)]
        theirs = [list(torch.utils.data.distributed.DistributedSampler(
            data, replicas, r, shuffle=False, drop_last=drop_last)) for r in range(replicas)]
        assert ours == theirs


@pytest.mark.parametrize("n,bs", [(103, 10), (100, 10), (5, 10)])
def test_drop_last(n, bs):
    images, labels = _indexed(n)
    data = TensorDataset(images, labels)
    keep = DataLoader(data, batch_size=bs)
    sizes = [len(y) for _, y in keep]
    assert len(keep) == len(sizes) == -(-n // bs)
    assert sum(sizes) == n and all(s == bs for s in sizes[:-1])
    drop = DataLoader(data, batch_size=bs, drop_last=True)
    sizes = [len(y) for _, y in drop]
    assert len(drop) == len(sizes) == n // bs and all(s == bs for s in sizes)


def test_tensor_dataset_fast_path_gives_the_general_paths_batches():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (37, 4, 4), dtype=np.uint8)
    labels = rng.integers(0, 10, 37)  # int64
    for data in (TensorDataset(images, labels), TensorDataset(Tensor(images), Tensor(labels))):
        fast = list(DataLoader(data, 8, generator=tg.Generator().manual_seed(1), shuffle=True))
        slow = list(DataLoader(data, 8, generator=tg.Generator().manual_seed(1), shuffle=True,
                               collate_fn=default_collate))
        assert len(fast) == len(slow) == 5
        for (x, y), (x2, y2) in zip(fast, slow):
            assert isinstance(x, Tensor) and isinstance(y, Tensor)
            assert x.dtype == x2.dtype == np.uint8 and y.dtype == y2.dtype == np.int64
            np.testing.assert_array_equal(x.data, x2.data)
            np.testing.assert_array_equal(y.data, y2.data)


def test_dataloader_matches_torch_on_a_tensor_dataset():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((10, 3)).astype(np.float32)
    y = rng.integers(0, 4, 10)
    ours = list(DataLoader(TensorDataset(tg.tensor(x), tg.tensor(y)), batch_size=4))
    theirs = list(torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.tensor(x), torch.tensor(y)), batch_size=4))
    assert len(ours) == len(theirs) == 3
    for (a, b), (c, d) in zip(ours, theirs):
        np.testing.assert_array_equal(a.numpy(), c.numpy())
        np.testing.assert_array_equal(b.numpy(), d.numpy())
        assert str(b.dtype) == str(d.dtype).replace("torch.", "")


class _Pairs(Dataset):
    """A map-style dataset of mixed items, as users write them."""

    def __init__(self, torch_module):
        self.lib = torch_module

    def __len__(self):
        return 5

    def __getitem__(self, i):
        return {"x": self.lib.tensor([float(i), 2.0 * i]), "label": i, "weight": 0.5 * i,
                "name": f"item{i}", "pair": (i, True)}


def test_default_collate_matches_torch_on_dicts_numbers_strings_and_tuples():
    torch = pytest.importorskip("torch")

    ours = list(DataLoader(_Pairs(tg), batch_size=2))
    theirs = list(torch.utils.data.DataLoader(_Pairs(torch), batch_size=2))
    assert len(ours) == len(theirs) == 3
    for a, b in zip(ours, theirs):
        assert list(a) == list(b)
        for key in ("x", "label", "weight"):
            np.testing.assert_array_equal(a[key].numpy(), b[key].numpy())
            assert str(a[key].dtype) == str(b[key].dtype).replace("torch.", "")
        assert a["name"] == b["name"]
        assert isinstance(a["pair"], list) and len(a["pair"]) == 2
        for ours_field, their_field in zip(a["pair"], b["pair"]):
            np.testing.assert_array_equal(ours_field.numpy(), their_field.numpy())
    np_batch = default_collate([np.zeros((2, 2), np.float32), np.ones((2, 2), np.float32)])
    assert isinstance(np_batch, Tensor) and np_batch.shape == (2, 2, 2)
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([tg.zeros(2), tg.zeros(3)])


def test_random_split_lengths_fractions_and_reproducibility():
    torch = pytest.importorskip("torch")
    data = list(range(10))
    for lengths in ([3, 7], [0.3, 0.7], [0.34, 0.33, 0.33], [0.5, 0.5]):
        ours = random_split(data, lengths, generator=tg.Generator().manual_seed(0))
        theirs = random_split(data, lengths, generator=tg.Generator().manual_seed(0))
        reference = torch.utils.data.random_split(data, lengths)
        assert [len(s) for s in ours] == [len(s) for s in reference]
        assert [list(s) for s in ours] == [list(s) for s in theirs]
        assert sorted(i for s in ours for i in s) == data
        assert all(isinstance(s, Subset) for s in ours)
    with pytest.raises(ValueError, match="sum of the lengths"):
        random_split(data, [3, 3])


def test_samplers_and_batch_sampler_match_torch():
    torch = pytest.importorskip("torch")
    data = list(range(7))
    assert list(SequentialSampler(data)) == list(torch.utils.data.SequentialSampler(data))
    for drop_last in (False, True):
        ours = list(BatchSampler(SequentialSampler(data), 3, drop_last))
        theirs = list(torch.utils.data.BatchSampler(torch.utils.data.SequentialSampler(data),
                                                    3, drop_last))
        assert ours == theirs and len(BatchSampler(SequentialSampler(data), 3, drop_last)) \
            == len(theirs)
        assert list(BatchSampler(range(7), 3, drop_last)) == theirs  # any iterable sampler
    assert sorted(RandomSampler(data)) == data
    assert len(list(RandomSampler(data, replacement=True, num_samples=20))) == 20
    batches = list(DataLoader(data, batch_sampler=BatchSampler(SequentialSampler(data), 2, False)))
    assert [b.tolist() for b in batches] == [[0, 1], [2, 3], [4, 5], [6]]
    assert list(DataLoader(data, batch_size=None)) == data  # no batching: items as they are


def test_loader_validation_matches_torch():
    images, labels = _indexed(10)
    data = TensorDataset(images, labels)
    with pytest.raises(ValueError, match="size mismatch"):
        TensorDataset(images, labels[:9])
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="batch_size"):
            DataLoader(data, bad)
    with pytest.raises(ValueError, match="mutually exclusive with shuffle"):
        DataLoader(data, sampler=SequentialSampler(data), shuffle=True)
    with pytest.raises(ValueError, match="batch_sampler option is mutually exclusive"):
        DataLoader(data, 4, batch_sampler=BatchSampler(SequentialSampler(data), 2, False))


def test_to_float_flat():
    batch = np.array([[[0, 51], [102, 255]]], np.uint8)
    out = to_float_flat(batch)
    assert out.dtype == np.float32 and out.shape == (1, 4)
    np.testing.assert_array_equal(out, np.float32([[0, 0.2, 0.4, 1.0]]))
    np.testing.assert_array_equal(to_float_flat(Tensor(batch)), out)


def test_real_fashion_mnist_split_and_loader():
    folder = os.environ.get("FASHION_MNIST_DIR")
    if not folder:
        pytest.skip("FASHION_MNIST_DIR is not set")
    from tinygrad_fm.datasets import fashion_mnist

    d = fashion_mnist(data_dir=folder, download=False)
    split = train_val_split(d.train_images, d.train_labels, 0.1, seed=0, stratify=True)
    assert len(split.val_labels) == 6000 and len(split.train_labels) == 54000
    np.testing.assert_array_equal(np.bincount(split.val_labels), [600] * 10)
    loader = DataLoader(TensorDataset(split.train_images, split.train_labels), batch_size=512,
                        shuffle=True)
    assert len(loader) == 106
    total, count = 0.0, 0
    for x, y in loader:
        x = to_float_flat(x)
        assert x.dtype == np.float32 and x.shape[1] == 784
        total += float(x.sum(dtype=np.float64))
        count += x.size
    assert abs(total / count - 0.2860) < 0.002


def test_default_transform_rescales_only_uint8_pixels():
    features = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    np.testing.assert_array_equal(to_float_flat(features), features)
    assert to_float_flat(features.astype(np.float64)).dtype == np.float64
    assert to_float_flat(np.array([[3]], np.int64)).tolist() == [[3.0]]
    assert to_float_flat(np.array([[255]], np.uint8)).tolist() == [[1.0]]
