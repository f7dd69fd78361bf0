"""BatchNorm1d/2d, LayerNorm, GroupNorm, Dropout1d/2d and their functional forms, against
PyTorch from the same weights and by float64 gradchecks."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_fm as tg
from helpers import assert_gradcheck, float_arrays
from tinygrad_fm import Tensor, nn
from tinygrad_fm.nn import functional as F

torch = pytest.importorskip("torch")


def _array(value):
    """A state-dict value (ndarray or Tensor) as an ndarray."""
    return np.asarray(value.data if isinstance(value, Tensor) else value)


def _load_from_torch(ours, theirs):
    ours.load_state_dict({k: v.detach().numpy().copy() for k, v in theirs.state_dict().items()})


def _assert_state_equal(ours, theirs, rtol=1e-5, atol=1e-6):
    ours_state, theirs_state = ours.state_dict(), theirs.state_dict()
    assert list(ours_state) == list(theirs_state)
    for name, value in theirs_state.items():
        np.testing.assert_allclose(_array(ours_state[name]), value.numpy(), rtol=rtol,
                                   atol=atol, err_msg=name)


def _randomise_affine(theirs, rng):
    with torch.no_grad():
        for param in theirs.parameters():
            param.copy_(torch.from_numpy(rng.normal(size=tuple(param.shape)).astype(
                np.float32)))


def _forward_backward(module, x, upstream, framework):
    """Output, input gradient and parameter gradients of ``(module(x) * upstream).sum()``."""
    if framework is torch:
        xt = torch.tensor(x, requires_grad=True)
        out = module(xt)
        (out * torch.from_numpy(upstream)).sum().backward()
        grads = [p.grad.numpy().copy() for p in module.parameters()]
        module.zero_grad()
        return out.detach().numpy(), xt.grad.numpy(), grads
    xt = Tensor(x.copy(), requires_grad=True)
    out = module(xt)
    (out * Tensor(upstream)).sum().backward()
    grads = [p.grad.data.copy() for p in module.parameters()]
    module.zero_grad()
    return out.data, xt.grad.data, grads


def _assert_same_step(ours, theirs, x, upstream, rtol=1e-4, atol=1e-5):
    out, grad_x, grads = _forward_backward(ours, x, upstream, tg)
    t_out, t_grad_x, t_grads = _forward_backward(theirs, x, upstream, torch)
    assert out.dtype == x.dtype and grad_x.dtype == x.dtype
    np.testing.assert_allclose(out, t_out, rtol=rtol, atol=atol)
    np.testing.assert_allclose(grad_x, t_grad_x, rtol=rtol, atol=atol)
    assert len(grads) == len(t_grads)
    for g, tg_ in zip(grads, t_grads):
        assert g.dtype == x.dtype
        np.testing.assert_allclose(g, tg_, rtol=rtol, atol=atol)


# --------------------------------------------------------------------------- BatchNorm


@settings(max_examples=30)
@given(data=st.data(), two_d=st.booleans(), momentum=st.sampled_from([0.1, None, 0.5]),
       affine=st.booleans(), bias=st.booleans(), track=st.booleans())
def test_batchnorm_matches_torch_over_several_train_steps_and_in_eval(
        data, two_d, momentum, affine, bias, track):
    channels = data.draw(st.integers(1, 3), label="channels")
    batch = data.draw(st.integers(2, 4), label="batch")
    if two_d:
        shape = (batch, channels, data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3)))
        layers = (nn.BatchNorm2d, torch.nn.BatchNorm2d)
    else:
        extra = data.draw(st.sampled_from([(), (1,), (3,)]), label="length")
        shape = (batch, channels) + extra
        layers = (nn.BatchNorm1d, torch.nn.BatchNorm1d)
    kwargs = dict(momentum=momentum, affine=affine, bias=bias, track_running_stats=track)
    ours, theirs = layers[0](channels, **kwargs), layers[1](channels, **kwargs)
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    _randomise_affine(theirs, rng)
    _load_from_torch(ours, theirs)
    for _ in range(3):  # the running statistics evolve as torch's do
        x = (rng.normal(size=shape) * 2 + 1).astype(np.float32)
        upstream = rng.normal(size=shape).astype(np.float32)
        _assert_same_step(ours, theirs, x, upstream)
        _assert_state_equal(ours, theirs)
    ours.eval()
    theirs.eval()
    x = rng.normal(size=shape).astype(np.float32)
    _assert_same_step(ours, theirs, x, rng.normal(size=shape).astype(np.float32))
    _assert_state_equal(ours, theirs)


def test_batchnorm_state_dict_keys_buffers_and_init_match_torch():
    ours, theirs = nn.BatchNorm2d(3), torch.nn.BatchNorm2d(3)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == [
        "weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    assert [n for n, _ in ours.named_parameters()] == ["weight", "bias"]
    assert [n for n, _ in ours.named_buffers()] == ["running_mean", "running_var",
                                                     "num_batches_tracked"]
    _assert_state_equal(ours, theirs)
    assert _array(ours.state_dict()["num_batches_tracked"]).dtype == np.int64
    assert ours.running_mean.dtype == np.float32
    ours.double()
    assert ours.running_var.dtype == np.float64 and ours.weight.dtype == np.float64
    assert ours.num_batches_tracked.dtype == np.int64
    assert repr(ours) == repr(theirs)


def test_batchnorm_without_tracking_uses_batch_statistics_in_eval():
    ours = nn.BatchNorm1d(2, track_running_stats=False).eval()
    theirs = torch.nn.BatchNorm1d(2, track_running_stats=False).eval()
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight", "bias"]
    x = np.random.default_rng(0).normal(size=(5, 2)).astype(np.float32)
    np.testing.assert_allclose(ours(Tensor(x)).data, theirs(torch.from_numpy(x)).detach(),
                               rtol=1e-5, atol=1e-6)


@settings(max_examples=25)
@given(data=st.data(), training=st.booleans(), affine=st.booleans())
def test_batch_norm_gradcheck(data, training, affine):
    shape = data.draw(st.sampled_from([(3, 2), (2, 3, 2), (2, 2, 2, 3)]), label="shape")
    x = data.draw(float_arrays(shape))
    x[0] += 1.5  # keep every channel's variance away from 0
    weight = data.draw(float_arrays((shape[1],)))
    bias = data.draw(float_arrays((shape[1],)))
    mean = data.draw(float_arrays((shape[1],)))
    var = data.draw(float_arrays((shape[1],), 0.5, 2.0))
    if affine:
        assert_gradcheck(lambda x, w, b: F.batch_norm(x, mean.copy(), var.copy(), w, b,
                                                      training=training), x, weight, bias)
    else:
        assert_gradcheck(lambda x: F.batch_norm(x, mean.copy(), var.copy(),
                                                training=training), x)


def test_batchnorm_errors_name_the_layer_and_shapes():
    with pytest.raises(ValueError, match=r"BatchNorm2d.*4-D.*\(2, 3, 4\)"):
        nn.BatchNorm2d(3)(Tensor(np.zeros((2, 3, 4), np.float32)))
    with pytest.raises(ValueError, match=r"BatchNorm1d.*\(2, 5\).*5 channels.*num_features=3"):
        nn.BatchNorm1d(3)(Tensor(np.zeros((2, 5), np.float32)))
    with pytest.raises(ValueError, match=r"BatchNorm1d.*2-D.*\(3,\)"):
        nn.BatchNorm1d(3)(Tensor(np.zeros(3, np.float32)))
    with pytest.raises(ValueError, match=r"more than 1 value per channel.*\(1, 3\)"):
        nn.BatchNorm1d(3)(Tensor(np.zeros((1, 3), np.float32)))
    nn.BatchNorm1d(3).eval()(Tensor(np.zeros((1, 3), np.float32)))  # fine in eval mode
    with pytest.raises(ValueError, match="running_mean and running_var must be given"):
        F.batch_norm(Tensor(np.zeros((2, 3), np.float32)), None, None)
    with pytest.raises(TypeError, match="same dtype"):
        nn.BatchNorm1d(3)(Tensor(np.ones((2, 3))))


# --------------------------------------------------------------------------- LayerNorm


@settings(max_examples=30)
@given(data=st.data(), affine=st.booleans(), bias=st.booleans())
def test_layernorm_matches_torch(data, affine, bias):
    normalized = data.draw(st.sampled_from([(3,), (2, 3), 4]), label="normalized_shape")
    lead = data.draw(st.sampled_from([(), (2,), (2, 3)]), label="leading axes")
    tail = (normalized,) if isinstance(normalized, int) else normalized
    shape = lead + tail
    ours = nn.LayerNorm(normalized, elementwise_affine=affine, bias=bias)
    theirs = torch.nn.LayerNorm(normalized, elementwise_affine=affine, bias=bias)
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    _randomise_affine(theirs, rng)
    _load_from_torch(ours, theirs)
    x = rng.normal(size=shape).astype(np.float32) * 3
    _assert_same_step(ours, theirs, x, rng.normal(size=shape).astype(np.float32))
    assert repr(ours) == repr(theirs)


@settings(max_examples=25)
@given(data=st.data())
def test_layer_norm_gradcheck(data):
    shape = data.draw(st.sampled_from([(3,), (2, 3), (2, 2, 3)]), label="shape")
    k = data.draw(st.integers(1, len(shape)), label="normalised axes")
    x = data.draw(float_arrays(shape))
    x[..., 0] += 2.0  # keep the variance away from 0
    w = data.draw(float_arrays(shape[len(shape) - k:]))
    b = data.draw(float_arrays(shape[len(shape) - k:]))
    assert_gradcheck(lambda x, w, b: F.layer_norm(x, w.shape, w, b), x, w, b)


def test_layernorm_errors_name_the_shapes():
    with pytest.raises(ValueError, match=r"LayerNorm.*\(2, 5\).*normalized_shape=\(4,\)"):
        nn.LayerNorm(4)(Tensor(np.zeros((2, 5), np.float32)))
    with pytest.raises(ValueError, match=r"layer_norm.*\[\*, 2, 3\].*\(3, 2\)"):
        F.layer_norm(Tensor(np.zeros((3, 2), np.float32)), (2, 3))


# --------------------------------------------------------------------------- GroupNorm


@settings(max_examples=30)
@given(data=st.data(), affine=st.booleans())
def test_groupnorm_matches_torch(data, affine):
    groups = data.draw(st.integers(1, 3), label="groups")
    channels = groups * data.draw(st.integers(1, 2), label="channels per group")
    spatial = data.draw(st.sampled_from([(), (3,), (2, 3)]), label="spatial")
    shape = (data.draw(st.integers(1, 3)), channels) + spatial
    ours, theirs = nn.GroupNorm(groups, channels, affine=affine), torch.nn.GroupNorm(
        groups, channels, affine=affine)
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    _randomise_affine(theirs, rng)
    _load_from_torch(ours, theirs)
    # float64: groups of two values have gradients near 0, all float32 rounding in float32
    ours.double()
    theirs.double()
    x = rng.normal(size=shape)
    if shape[0] * channels // groups * int(np.prod(spatial)) == 1:  # PyTorch's check
        for module, framework, array in ((ours, "tg", Tensor(x)),
                                         (theirs, "torch", torch.from_numpy(x))):
            with pytest.raises(ValueError, match="more than 1 value per channel"):
                module(array)
        return
    _assert_same_step(ours, theirs, x, rng.normal(size=shape), rtol=1e-7, atol=1e-9)
    assert repr(ours) == repr(theirs)


@settings(max_examples=20)
@given(data=st.data())
def test_group_norm_gradcheck(data):
    x = data.draw(float_arrays((2, 4, 3)))
    x[:, :, 0] += 2.0
    w, b = data.draw(float_arrays((4,))), data.draw(float_arrays((4,)))
    assert_gradcheck(lambda x, w, b: F.group_norm(x, 2, w, b), x, w, b)


def test_groupnorm_errors_name_the_shapes():
    with pytest.raises(ValueError, match="num_channels=6 must be divisible by num_groups=4"):
        nn.GroupNorm(4, 6)
    with pytest.raises(ValueError, match=r"GroupNorm.*\(N, 4, \*\).*\(2, 3, 5\)"):
        nn.GroupNorm(2, 4)(Tensor(np.zeros((2, 3, 5), np.float32)))
    with pytest.raises(ValueError, match=r"divisible by num_groups.*\(2, 3, 5\)"):
        F.group_norm(Tensor(np.zeros((2, 3, 5), np.float32)), 2)


# --------------------------------------------------------------------------- the fused op


@pytest.mark.parametrize("from_batch", [True, False])
def test_normalize_differentiable_backward_equals_backward(from_batch):
    """The Tensor-op backward (for create_graph) gives the array backward's gradients."""
    rng = np.random.default_rng(3)
    x = Tensor(rng.normal(size=(4, 3, 2)), requires_grad=True)
    w = Tensor(rng.normal(size=3), requires_grad=True)
    b = Tensor(rng.normal(size=3), requires_grad=True)
    mean = var = None
    if not from_batch:
        mean, var = rng.normal(size=(1, 3, 1)), rng.uniform(0.5, 2, size=(1, 3, 1))
    inputs = (x, w, b, mean, var, (0, 2), (1,), 1e-5)
    out = tg.ops.Normalize.apply(*inputs)
    grad = rng.normal(size=out.shape)
    expected = out._ctx.function.backward(out._ctx, grad)
    got = tg.ops.Normalize.differentiable_backward(out._ctx, Tensor(grad), inputs, out)
    for e, g in zip(expected, got):
        assert (e is None) == (g is None)
        if e is not None:
            np.testing.assert_allclose(g.data, e, rtol=1e-10, atol=1e-12)


def test_float32_stays_float32_through_every_norm():
    x = Tensor(np.random.default_rng(0).normal(size=(4, 2, 3)).astype(np.float32),
               requires_grad=True)
    for layer in (nn.BatchNorm1d(2), nn.LayerNorm(3), nn.GroupNorm(1, 2)):
        out = layer(x)
        out.sum().backward()
        assert out.dtype == np.float32 and x.grad.dtype == np.float32
        assert all(p.grad.dtype == np.float32 for p in layer.parameters())
        x.grad = None
    assert nn.BatchNorm1d(2).running_mean.dtype == np.float32


# --------------------------------------------------------------------------- channel dropout


@pytest.mark.parametrize("layer, shape, mask_shape", [
    (nn.Dropout1d, (8, 50, 6), (8, 50, 1)), (nn.Dropout1d, (50, 6), (50, 1)),
    (nn.Dropout2d, (8, 50, 3, 2), (8, 50, 1, 1))])
def test_channel_dropout_zeroes_whole_channels_at_rate_p(layer, shape, mask_shape):
    tg.manual_seed(0)
    module = layer(0.3)
    x = Tensor(np.ones(shape, np.float32), requires_grad=True)
    out = module(x)
    assert out.dtype == np.float32
    values = np.unique(out.data)
    np.testing.assert_allclose(sorted(values), [0, 1 / 0.7], rtol=1e-6)
    channel_value = out.data
    reduced = channel_value.max(axis=tuple(i for i, n in enumerate(mask_shape) if n == 1),
                                keepdims=True)
    assert np.array_equal(channel_value == 0, np.broadcast_to(reduced == 0, shape))
    assert 0.2 < (reduced == 0).mean() < 0.4
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.data, out.data)  # the gradient is the mask
    module.eval()
    assert module(x) is x
    assert repr(module) == repr(getattr(torch.nn, layer.__name__)(0.3))


def test_dropout2d_on_3d_input_warns_and_drops_channels_as_torch():
    tg.manual_seed(1)
    x = Tensor(np.ones((4, 30, 5), np.float32))
    with pytest.warns(UserWarning, match="3-D input"):
        out = F.dropout2d(x, 0.5)
    per_channel = out.data.max(axis=2, keepdims=True)
    assert np.array_equal(out.data == 0, np.broadcast_to(per_channel == 0, x.shape))
    with pytest.warns(UserWarning, match="3-D input"):  # as torch: in eval mode too
        assert F.dropout2d(x, 0.5, training=False) is x
    with pytest.raises(ValueError, match=r"dropout1d.*\(2, 3, 4, 5\)"):
        F.dropout1d(Tensor(np.ones((2, 3, 4, 5), np.float32)))
