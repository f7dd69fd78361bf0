"""Embedding and F.embedding against PyTorch from the same weights, and by gradcheck."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_fm as tg
from helpers import assert_gradcheck, float_arrays
from tinygrad_fm import Tensor, nn
from tinygrad_fm.nn import functional as F

torch = pytest.importorskip("torch")


@settings(max_examples=40)
@given(data=st.data(), scale_grad_by_freq=st.booleans(), use_padding=st.booleans())
def test_embedding_matches_torch_outputs_and_gradients(data, scale_grad_by_freq,
                                                       use_padding):
    rows = data.draw(st.integers(1, 6), label="num_embeddings")
    dim = data.draw(st.integers(1, 4), label="embedding_dim")
    padding_idx = data.draw(st.integers(-rows, rows - 1), label="padding_idx") \
        if use_padding else None
    index_shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=3, max_side=4))
    indices = data.draw(hnp.arrays(np.int64, index_shape, elements=st.integers(0, rows - 1)))
    kwargs = dict(padding_idx=padding_idx, scale_grad_by_freq=scale_grad_by_freq)
    ours, theirs = nn.Embedding(rows, dim, **kwargs), torch.nn.Embedding(rows, dim, **kwargs)
    ours.load_state_dict({"weight": theirs.weight.detach().numpy().copy()})
    out = ours(Tensor(indices))
    t_out = theirs(torch.from_numpy(indices))
    assert out.shape == tuple(t_out.shape) and out.dtype == np.float32
    np.testing.assert_allclose(out.data, t_out.detach().numpy())
    upstream = np.random.default_rng(0).normal(size=out.shape).astype(np.float32)
    (out * Tensor(upstream)).sum().backward()
    (t_out * torch.from_numpy(upstream)).sum().backward()
    assert ours.weight.grad.dtype == np.float32
    np.testing.assert_allclose(ours.weight.grad.data, theirs.weight.grad.numpy(), rtol=1e-5,
                               atol=1e-6)
    if padding_idx is not None:
        assert not ours.weight.grad.data[padding_idx].any()
    assert repr(ours) == repr(theirs)


def test_embedding_init_is_standard_normal_with_a_zero_padding_row():
    tg.manual_seed(0)
    layer = nn.Embedding(400, 50, padding_idx=3)
    assert layer.weight.dtype == np.float32 and layer.weight.shape == (400, 50)
    assert not layer.weight.data[3].any()
    values = np.delete(layer.weight.data, 3, axis=0)
    assert abs(values.mean()) < 0.02 and values.std() == pytest.approx(1.0, rel=0.03)
    assert list(layer.state_dict()) == ["weight"]


@settings(max_examples=25)
@given(data=st.data(), use_padding=st.booleans())
def test_embedding_gradcheck(data, use_padding):
    # (scale_grad_by_freq is deliberately not the true gradient; it is compared with
    # torch above.) The padding row's true gradient is 0 only when it is not looked up.
    weight = data.draw(float_arrays((4, 3)))
    indices = data.draw(hnp.arrays(np.int64, data.draw(hnp.array_shapes(max_dims=2,
                                                                         max_side=4)),
                                   elements=st.sampled_from([0, 2, 3])))
    padding_idx = 1 if use_padding else None
    assert_gradcheck(lambda w: F.embedding(indices, w, padding_idx), weight)


def test_embedding_max_norm_renormalises_looked_up_rows_in_place_as_torch():
    rng = np.random.default_rng(2)
    weight = (rng.normal(size=(6, 3)) * 3).astype(np.float32)
    indices = np.array([[0, 2], [2, 5]])
    ours = nn.Embedding(6, 3, max_norm=1.5, norm_type=1.0)
    theirs = torch.nn.Embedding(6, 3, max_norm=1.5, norm_type=1.0)
    ours.load_state_dict({"weight": weight.copy()})
    theirs.load_state_dict({"weight": torch.from_numpy(weight.copy())})
    out, t_out = ours(indices), theirs(torch.from_numpy(indices))
    np.testing.assert_allclose(out.data, t_out.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(ours.weight.data, theirs.weight.detach().numpy(), rtol=1e-6)
    assert np.array_equal(ours.weight.data[[1, 3, 4]], weight[[1, 3, 4]])  # untouched
    assert repr(ours) == repr(theirs)


def test_from_pretrained_shares_memory_and_freezes_by_default():
    table = np.arange(12, dtype=np.float32).reshape(4, 3)
    frozen = nn.Embedding.from_pretrained(Tensor(table))
    assert not frozen.weight.requires_grad
    assert np.shares_memory(frozen.weight.data, table)
    np.testing.assert_array_equal(frozen(np.array([3, 0])).data, table[[3, 0]])
    trainable = nn.Embedding.from_pretrained(table, freeze=False, padding_idx=0)
    assert trainable.weight.requires_grad and trainable.padding_idx == 0
    assert trainable.weight.data[0].any()  # not zeroed, as in torch
    assert repr(trainable) == repr(torch.nn.Embedding.from_pretrained(
        torch.from_numpy(table), freeze=False, padding_idx=0))


def test_embedding_errors_name_the_layer_and_shapes():
    layer = nn.Embedding(5, 2)
    with pytest.raises(IndexError, match=r"Embedding: index 5 .*num_embeddings=5|"
                                         r"Embedding: index 5 is out of range"):
        layer(np.array([[1, 5]]))
    with pytest.raises(IndexError, match=r"index -1 .*\(2,\)"):
        layer(np.array([-1, 0]))
    with pytest.raises(TypeError, match=r"Embedding: indices must be an integer tensor.*float"):
        layer(np.array([1.0]))
    with pytest.raises(ValueError, match="padding_idx=5 must be within the 5 rows"):
        nn.Embedding(5, 2, padding_idx=5)
    with pytest.raises(NotImplementedError, match="sparse"):
        nn.Embedding(5, 2, sparse=True)


def test_embedding_differentiable_backward_equals_backward():
    rng = np.random.default_rng(0)
    weight = Tensor(rng.normal(size=(5, 3)), requires_grad=True)
    indices = np.array([[0, 4, 0], [1, 4, 4]])
    inputs = (weight, indices, 4, True)
    out = tg.ops.EmbeddingLookup.apply(*inputs)
    grad = rng.normal(size=out.shape)
    (expected, *_), (got, *_) = (out._ctx.function.backward(out._ctx, grad),
                                 tg.ops.EmbeddingLookup.differentiable_backward(
                                     out._ctx, Tensor(grad), inputs, out))
    np.testing.assert_allclose(got.data, expected, rtol=1e-12)


# --------------------------------------------------------------------------- EmbeddingBag


@st.composite
def bag_problem(draw):
    rows = draw(st.integers(2, 6))
    two_d = draw(st.booleans())
    if two_d:
        shape = (draw(st.integers(1, 3)), draw(st.integers(1, 4)))
        offsets = None
    else:
        n = draw(st.integers(0, 8))
        shape = (n,)
        cuts = sorted(draw(st.lists(st.integers(0, n), min_size=0, max_size=3)))
        offsets = np.array([0] + cuts, dtype=np.int64)
    indices = draw(hnp.arrays(np.int64, shape, elements=st.integers(0, rows - 1)))
    mode = draw(st.sampled_from(["sum", "mean", "max"]))
    padding_idx = draw(st.sampled_from([None, 0]))
    weighted = mode == "sum" and draw(st.booleans())
    include_last = not two_d and draw(st.booleans())
    if include_last:
        offsets = np.append(offsets, shape[0])
    return rows, indices, offsets, mode, padding_idx, weighted, include_last


@settings(max_examples=60)
@given(problem=bag_problem(), seed=st.integers(0, 2**16))
def test_embedding_bag_matches_torch(problem, seed):
    rows, indices, offsets, mode, padding_idx, weighted, include_last = problem
    kwargs = dict(mode=mode, padding_idx=padding_idx, include_last_offset=include_last)
    ours = nn.EmbeddingBag(rows, 3, **kwargs)
    theirs = torch.nn.EmbeddingBag(rows, 3, **kwargs)
    ours.load_state_dict({"weight": theirs.weight.detach().numpy().copy()})
    assert repr(ours) == repr(theirs)
    rng = np.random.default_rng(seed)
    sample_weights = rng.normal(size=indices.shape).astype(np.float32) if weighted else None
    ours_weights = None if sample_weights is None else Tensor(sample_weights,
                                                              requires_grad=True)
    theirs_weights = None if sample_weights is None else torch.tensor(sample_weights,
                                                                      requires_grad=True)
    out = ours(indices, offsets, ours_weights)
    t_out = theirs(torch.from_numpy(indices),
                   None if offsets is None else torch.from_numpy(offsets), theirs_weights)
    assert out.shape == tuple(t_out.shape) and out.dtype == np.float32
    np.testing.assert_allclose(out.data, t_out.detach().numpy(), rtol=1e-5, atol=1e-6)
    upstream = rng.normal(size=out.shape).astype(np.float32)
    (out * Tensor(upstream)).sum().backward()
    (t_out * torch.from_numpy(upstream)).sum().backward()
    np.testing.assert_allclose(ours.weight.grad.data, theirs.weight.grad.numpy(), rtol=1e-5,
                               atol=1e-6)
    if weighted:
        np.testing.assert_allclose(ours_weights.grad.data, theirs_weights.grad.numpy(),
                                   rtol=1e-5, atol=1e-6)


@settings(max_examples=20)
@given(data=st.data(), mode=st.sampled_from(["sum", "mean", "max"]))
def test_embedding_bag_gradcheck(data, mode):
    from helpers import distinct_arrays
    weight = data.draw(distinct_arrays((5, 2)))  # distinct values: max has one winner
    indices = data.draw(hnp.arrays(np.int64, (6,), elements=st.integers(0, 4)))
    offsets = np.array([0, 2, 2, 5])
    assert_gradcheck(lambda w: F.embedding_bag(indices, w, offsets, mode=mode), weight)


def test_embedding_bag_errors():
    bag = nn.EmbeddingBag(5, 2)
    with pytest.raises(ValueError, match="a 1-D input needs offsets"):
        bag(np.array([1, 2]))
    with pytest.raises(ValueError, match=r"offsets must be None when the input is 2-D"):
        bag(np.array([[1, 2]]), np.array([0]))
    with pytest.raises(ValueError, match=r"offsets must be a 1-D integer tensor starting at 0"):
        bag(np.array([1, 2]), np.array([1]))
    with pytest.raises(ValueError, match="per_sample_weights is only supported for "
                                         "mode='sum'"):
        bag(np.array([[1, 2]]), None, np.ones((1, 2), np.float32))
    with pytest.raises(IndexError, match=r"EmbeddingBag: index 7 is out of range"):
        bag(np.array([[1, 7]]))
    with pytest.raises(ValueError, match="mode must be one of"):
        nn.EmbeddingBag(5, 2, mode="min")
