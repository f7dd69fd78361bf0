"""WeightedRandomSampler as torch.utils.data's: the draws follow the weights, with and
without replacement, repeat under a seed or a generator, and drive a DataLoader."""

import numpy as np
import pytest

import tinygrad_fm as tg
from tinygrad_fm.utils.data import DataLoader, TensorDataset, WeightedRandomSampler


def test_with_replacement_frequencies_follow_the_weights():
    weights = [0.1, 0.0, 0.6, 0.3]
    sampler = WeightedRandomSampler(weights, 20_000, generator=tg.Generator().manual_seed(0))
    draws = np.array(list(sampler))
    assert len(sampler) == 20_000 and draws.dtype == np.int64
    frequencies = np.bincount(draws, minlength=4) / draws.size
    np.testing.assert_allclose(frequencies, weights, atol=0.015)
    assert frequencies[1] == 0


def test_without_replacement_draws_distinct_indices_favouring_heavy_weights():
    weights = np.array([1.0, 1.0, 50.0, 1.0, 50.0, 0.0])
    firsts = []
    tg.manual_seed(1)
    for _ in range(300):
        order = list(WeightedRandomSampler(weights, 5, replacement=False))
        assert sorted(order) == [0, 1, 2, 3, 4]  # distinct; the zero weight never drawn
        firsts.append(order[0])
    assert np.mean(np.isin(firsts, [2, 4])) > 0.9


def test_seeded_draws_repeat_and_passes_differ():
    tg.manual_seed(3)
    sampler = WeightedRandomSampler(tg.tensor([1.0, 2.0, 3.0]), 12)
    first, second = list(sampler), list(sampler)
    tg.manual_seed(3)
    assert list(sampler) == first and first != second


def test_drives_a_data_loader():
    dataset = TensorDataset(tg.tensor(np.arange(6.0, dtype=np.float32)))
    sampler = WeightedRandomSampler([0, 0, 0, 0, 1, 1], 8,
                                    generator=tg.Generator().manual_seed(0))
    batches = [batch[0] for batch in DataLoader(dataset, batch_size=4, sampler=sampler)]
    values = np.concatenate([b.numpy() for b in batches])
    assert len(batches) == 2 and set(values.tolist()) <= {4.0, 5.0}


def test_matches_torch_signature_checks():
    torch = pytest.importorskip("torch")
    for kwargs, message in [(dict(weights=[1.0, 2.0], num_samples=0), "positive integer"),
                            (dict(weights=[1.0, 2.0], num_samples=2, replacement=1),
                             "boolean"),
                            (dict(weights=[[1.0, 2.0]], num_samples=2), "1d sequence")]:
        with pytest.raises(ValueError, match=message):
            WeightedRandomSampler(**kwargs)
        with pytest.raises(ValueError, match=message):
            torch.utils.data.WeightedRandomSampler(**kwargs)
    with pytest.raises(ValueError, match="non-zero weights"):
        WeightedRandomSampler([1.0, 0.0, 2.0], 3, replacement=False)
    ours = WeightedRandomSampler([1, 2], 3)
    theirs = torch.utils.data.WeightedRandomSampler([1, 2], 3)
    np.testing.assert_array_equal(ours.weights.numpy(), theirs.weights.numpy())
    assert ours.weights.dtype == np.float64 and len(ours) == len(theirs)
