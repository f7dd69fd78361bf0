"""torch.utils.checkpoint: a checkpointed block gives the gradients of the plain one (and
PyTorch's), its dropout draws the same masks when recomputed, and it keeps no
intermediate results of the block alive between forward and backward."""

import gc
import weakref

import numpy as np
import pytest

import tinygrad_fm as tg
from tinygrad_fm import nn
from tinygrad_fm.utils.checkpoint import checkpoint, checkpoint_sequential

torch = pytest.importorskip("torch")


def _block(framework, seed=0):
    block = framework.nn.Sequential(framework.nn.Linear(4, 8), framework.nn.Tanh(),
                                    framework.nn.Linear(8, 4))
    rng = np.random.default_rng(seed)
    with framework.no_grad():
        for p in block.parameters():
            p.copy_(framework.tensor(rng.normal(size=tuple(p.shape)).astype(np.float32)))
    return block


@pytest.mark.parametrize("use_reentrant", [True, False])
def test_checkpointed_gradients_equal_the_plain_ones_and_torchs(use_reentrant):
    x = np.random.default_rng(1).normal(size=(3, 4)).astype(np.float32)
    results = []
    for framework, run in ((tg, checkpoint), (torch, torch.utils.checkpoint.checkpoint),
                           (tg, None)):
        block = _block(framework)
        inputs = framework.tensor(x, requires_grad=True)
        out = run(block, inputs, use_reentrant=use_reentrant) if run else block(inputs)
        (out * out).sum().backward()
        to_numpy = (lambda t: t.detach().numpy()) if framework is torch else (lambda t: t.data)
        results.append([to_numpy(out), to_numpy(inputs.grad)]
                       + [to_numpy(p.grad) for p in block.parameters()])
    ours, theirs, plain = results
    for a, b, c in zip(ours, theirs, plain):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_recomputation_draws_the_same_dropout_masks():
    tg.manual_seed(3)
    block = nn.Sequential(nn.Linear(4, 16), nn.Dropout(0.5), nn.Linear(16, 2))
    x = tg.randn(5, 4, requires_grad=True)
    tg.manual_seed(7)
    out = checkpoint(block, x, use_reentrant=False)
    out.sum().backward()
    checkpointed = [x.grad.data.copy()] + [p.grad.data.copy() for p in block.parameters()]
    x.grad = None
    block.zero_grad()
    tg.manual_seed(7)
    block(x).sum().backward()
    plain = [x.grad.data] + [p.grad.data for p in block.parameters()]
    for a, b in zip(checkpointed, plain):
        np.testing.assert_array_equal(a, b)


def test_the_blocks_intermediate_results_are_not_kept():
    kept = []

    def block(x):
        hidden = x.tanh()
        kept.append(weakref.ref(hidden))
        return hidden * 2

    x = tg.randn(3, requires_grad=True)
    out = checkpoint(block, x, use_reentrant=False)
    gc.collect()
    assert kept[0]() is None  # the forward's intermediate is gone
    out.sum().backward()
    np.testing.assert_allclose(x.grad.data, 2 * (1 - np.tanh(x.data) ** 2), rtol=1e-6)


def test_inputs_without_grad_still_train_the_blocks_parameters():
    block = _block(tg)
    checkpoint(block, tg.randn(2, 4), use_reentrant=False).sum().backward()
    assert all(p.grad is not None for p in block.parameters())


def test_checkpoint_sequential_matches_torch():
    x = np.random.default_rng(2).normal(size=(3, 4)).astype(np.float32)
    results = []
    for framework, run in ((tg, checkpoint_sequential),
                           (torch, torch.utils.checkpoint.checkpoint_sequential)):
        model = framework.nn.Sequential(*[_block(framework, seed) for seed in range(3)])
        inputs = framework.tensor(x, requires_grad=True)
        run(model, 2, inputs, use_reentrant=False).sum().backward()
        to_numpy = (lambda t: t.detach().numpy()) if framework is torch else (lambda t: t.data)
        results.append([to_numpy(inputs.grad)] + [to_numpy(p.grad) for p in model.parameters()])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="segments must lie in 1..3"):
        checkpoint_sequential(nn.Sequential(nn.ReLU(), nn.ReLU(), nn.ReLU()), 4, tg.ones(2))
