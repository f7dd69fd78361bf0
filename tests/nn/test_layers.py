"""Linear, Dropout, Flatten, Identity, activation and loss modules."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_fm as tg
from tinygrad_fm import Tensor, nn
from tinygrad_fm.nn import functional as F

# --------------------------------------------------------------------------- Linear


def test_linear_parameters_have_torch_names_shapes_and_float32():
    layer = nn.Linear(5, 3)
    state = layer.state_dict()
    assert list(state) == ["weight", "bias"]
    assert state["weight"].shape == (3, 5) and state["bias"].shape == (3,)
    assert all(value.dtype == np.float32 for value in state.values())
    assert list(nn.Linear(5, 3, bias=False).state_dict()) == ["weight"]
    assert nn.Linear(5, 3, bias=False).bias is None


def test_linear_state_dict_matches_torch():
    torch = pytest.importorskip("torch")
    ours = nn.Sequential(nn.Linear(6, 4), nn.ReLU(), nn.Linear(4, 2, bias=False))
    theirs = torch.nn.Sequential(torch.nn.Linear(6, 4), torch.nn.ReLU(),
                                 torch.nn.Linear(4, 2, bias=False))
    ours_state, theirs_state = ours.state_dict(), theirs.state_dict()
    assert list(ours_state) == list(theirs_state)
    assert [v.shape for v in ours_state.values()] == \
        [tuple(v.shape) for v in theirs_state.values()]
    # A torch state dict loads into our model and gives torch's outputs.
    ours.load_state_dict({k: v.numpy() for k, v in theirs_state.items()})
    x = np.random.default_rng(0).normal(size=(3, 6)).astype(np.float32)
    np.testing.assert_allclose(ours(Tensor(x)).data,
                               theirs(torch.from_numpy(x)).detach().numpy(), rtol=1e-5,
                               atol=1e-6)
    assert repr(ours) == repr(theirs)


def test_linear_init_is_uniform_within_one_over_sqrt_fan_in():
    tg.manual_seed(0)
    layer = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    for param in (layer.weight, layer.bias):
        assert np.abs(param.data).max() <= bound
    weight = layer.weight.data.astype(np.float64)
    # U(-b, b) has variance b^2 / 3; 120k samples pin it within a few percent.
    assert weight.var() == pytest.approx(bound ** 2 / 3, rel=0.03)
    assert abs(weight.mean()) < 0.01 * bound
    assert np.abs(layer.weight.data).max() > 0.99 * bound  # the whole range is used


def test_linear_init_is_reproducible_with_manual_seed():
    tg.manual_seed(7)
    first = nn.Linear(4, 3).state_dict()
    tg.manual_seed(7)
    second = nn.Linear(4, 3).state_dict()
    for name in first:
        np.testing.assert_array_equal(first[name], second[name])


def test_linear_forward_is_x_times_weight_transposed_plus_bias():
    tg.manual_seed(1)
    layer = nn.Linear(4, 3)
    x = np.random.default_rng(1).normal(size=(2, 5, 4)).astype(np.float32)
    out = layer(Tensor(x))
    assert out.shape == (2, 5, 3) and out.dtype == np.float32
    assert out.grad_fn is tg.ops.Linear  # the fused op: one node per layer
    np.testing.assert_allclose(out.data, x @ layer.weight.data.T + layer.bias.data,
                               rtol=1e-5, atol=1e-6)
    no_bias = nn.Linear(4, 3, bias=False)
    np.testing.assert_allclose(no_bias(x).data, x @ no_bias.weight.data.T, rtol=1e-5)


def test_linear_errors_name_the_shapes_and_dtypes():
    layer = nn.Linear(4, 3)
    with pytest.raises(ValueError, match=r"in_features = 4"):
        layer(Tensor(np.zeros((2, 5), dtype=np.float32)))
    with pytest.raises(TypeError, match="float64.*float32"):
        layer(Tensor(np.zeros((2, 4))))
    with pytest.raises(ValueError, match="in_features"):
        nn.Linear(-1, 3)


@given(batch=st.integers(1, 3), in_features=st.integers(1, 4), out_features=st.integers(1, 3),
       bias=st.booleans(), seed=st.integers(0, 2**16))
def test_linear_gradcheck(batch, in_features, out_features, bias, seed):
    rng = np.random.default_rng(seed)
    inputs = [Tensor(rng.normal(size=(batch, in_features)), requires_grad=True),
              Tensor(rng.normal(size=(out_features, in_features)), requires_grad=True)]
    if bias:
        inputs.append(Tensor(rng.normal(size=out_features), requires_grad=True))
    assert tg.gradcheck(F.linear, inputs)


# --------------------------------------------------------------------------- Dropout


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_statistics(p):
    tg.manual_seed(0)
    layer = nn.Dropout(p)
    x = Tensor(np.ones(200_000, dtype=np.float32), requires_grad=True)
    out = layer(x)
    assert out.dtype == np.float32
    zeroed = out.data == 0
    # Binomial(n, p): 5 standard deviations is sqrt(p(1-p)/n) * 5 < 0.006.
    assert zeroed.mean() == pytest.approx(p, abs=0.006)
    np.testing.assert_allclose(out.data[~zeroed], 1 / (1 - p), rtol=1e-6)
    assert out.data.mean() == pytest.approx(1.0, abs=0.03)
    # The gradient is the same mask.
    out.backward(np.full(x.shape, 2.0, dtype=np.float32))
    np.testing.assert_allclose(x.grad.data, 2 * out.data, rtol=1e-6)


def test_dropout_is_the_identity_in_eval_mode_and_for_p_zero():
    x = Tensor(np.arange(6, dtype=np.float32))
    layer = nn.Dropout(0.5).eval()
    assert layer(x) is x
    assert nn.Dropout(0.0)(x) is x
    assert F.dropout(x, 0.5, training=False) is x


def test_dropout_p_one_zeroes_everything_with_zero_gradient():
    x = Tensor(np.ones(10, dtype=np.float32), requires_grad=True)
    out = nn.Dropout(1.0)(x)
    assert not out.data.any() and np.isfinite(out.data).all()
    out.sum().backward()
    assert not x.grad.data.any()


def test_dropout_masks_follow_the_seed_and_keep_float64():
    x = Tensor(np.ones(50))
    tg.manual_seed(3)
    first = F.dropout(x, 0.5).data
    tg.manual_seed(3)
    second = F.dropout(x, 0.5).data
    np.testing.assert_array_equal(first, second)
    assert first.dtype == np.float64


@pytest.mark.parametrize("p", [-0.1, 1.5, "0.5", None, True])
def test_dropout_probability_is_validated(p):
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(p)
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.dropout(Tensor([1.0]), p)


def test_dropout_in_a_model_follows_train_and_eval():
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(20, 20), nn.Dropout(0.5))
    x = Tensor(np.ones((4, 20), dtype=np.float32))
    model.eval()
    np.testing.assert_array_equal(model(x).data, model(x).data)
    model.train()
    assert (model(x).data == 0).mean() > 0.3


# --------------------------------------------------------------------------- other layers


def test_activation_modules_compute_their_functions():
    x = np.array([[-2.0, -0.5, 0.0, 0.5, 3.0]], dtype=np.float32)
    t = Tensor(x)
    np.testing.assert_allclose(nn.ReLU()(t).data, np.maximum(x, 0))
    np.testing.assert_allclose(nn.Tanh()(t).data, np.tanh(x), rtol=1e-6)
    np.testing.assert_allclose(nn.Sigmoid()(t).data, 1 / (1 + np.exp(-x)), rtol=1e-6)
    np.testing.assert_allclose(nn.LeakyReLU(0.2)(t).data, np.where(x > 0, x, 0.2 * x))
    np.testing.assert_allclose(nn.LeakyReLU()(t).data, np.where(x > 0, x, 0.01 * x))
    softmax = np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(nn.Softmax(dim=1)(t).data, softmax, rtol=1e-6)
    np.testing.assert_allclose(nn.LogSoftmax(dim=1)(t).data, np.log(softmax), rtol=1e-5)
    # dim=0 on a (1, 5) input: each column is its own distribution.
    np.testing.assert_allclose(nn.Softmax(dim=0)(t).data, np.ones_like(x))
    for module in (nn.ReLU(), nn.Tanh(), nn.Sigmoid(), nn.LeakyReLU(), nn.Softmax(1)):
        assert module(t).dtype == np.float32


def test_flatten_and_identity():
    x = Tensor(np.arange(24, dtype=np.float32).reshape(2, 3, 4))
    assert nn.Flatten()(x).shape == (2, 12)
    assert nn.Flatten(0, 1)(x).shape == (6, 4)
    assert nn.Identity()(x) is x
    np.testing.assert_array_equal(nn.Flatten()(x).data, x.data.reshape(2, 12))


def test_reprs_match_pytorch():
    assert repr(nn.Linear(784, 128)) == "Linear(in_features=784, out_features=128, bias=True)"
    assert repr(nn.Linear(3, 2, bias=False)) == \
        "Linear(in_features=3, out_features=2, bias=False)"
    assert repr(nn.ReLU()) == "ReLU()"
    assert repr(nn.LeakyReLU()) == "LeakyReLU(negative_slope=0.01)"
    assert repr(nn.Softmax(dim=1)) == "Softmax(dim=1)"
    assert repr(nn.LogSoftmax(dim=-1)) == "LogSoftmax(dim=-1)"
    assert repr(nn.Flatten()) == "Flatten(start_dim=1, end_dim=-1)"
    assert repr(nn.Identity()) == "Identity()"
    assert repr(nn.Dropout(0.25)) == "Dropout(p=0.25, inplace=False)"
    assert repr(nn.ReLU(inplace=True)) == "ReLU(inplace=True)"
    assert repr(nn.LeakyReLU(0.2, inplace=True)) == "LeakyReLU(negative_slope=0.2, inplace=True)"
    torch = pytest.importorskip("torch")
    pairs = [(nn.Linear(3, 2, bias=False), torch.nn.Linear(3, 2, bias=False)),
             (nn.ReLU(), torch.nn.ReLU()), (nn.ReLU(inplace=True), torch.nn.ReLU(inplace=True)),
             (nn.LeakyReLU(), torch.nn.LeakyReLU()),
             (nn.LeakyReLU(0.2, inplace=True), torch.nn.LeakyReLU(0.2, inplace=True)),
             (nn.Dropout(0.25), torch.nn.Dropout(0.25)),
             (nn.Dropout(0.1, inplace=True), torch.nn.Dropout(0.1, inplace=True)),
             (nn.Softmax(dim=1), torch.nn.Softmax(dim=1)), (nn.Tanh(), torch.nn.Tanh()),
             (nn.Sigmoid(), torch.nn.Sigmoid()), (nn.Flatten(), torch.nn.Flatten()),
             (nn.Identity(54, unused="x"), torch.nn.Identity(54, unused="x"))]
    for ours, theirs in pairs:
        assert repr(ours) == repr(theirs)


def test_inplace_flags_port_unchanged_and_never_overwrite_the_input():
    """``nn.ReLU(inplace=True)`` and friends, common in PyTorch code, are accepted; the
    result is the same, and the input (which the graph may need) is left alone."""
    x = np.array([[-1.0, 2.0, -3.0]], dtype=np.float32)
    for module, function in ((nn.ReLU(inplace=True), lambda t: F.relu(t, inplace=True)),
                             (nn.LeakyReLU(0.1, inplace=True),
                              lambda t: F.leaky_relu(t, 0.1, inplace=True))):
        for layer in (module, function):
            t = Tensor(x.copy(), requires_grad=True)
            out = layer(t)
            np.testing.assert_array_equal(t.data, x)
            np.testing.assert_allclose(out.data, np.where(x > 0, x, x * module.__dict__.get(
                "negative_slope", 0.0)))
            out.sum().backward()
            np.testing.assert_allclose(t.grad.data, np.where(x > 0, 1.0, module.__dict__.get(
                "negative_slope", 0.0)))
    tg.manual_seed(0)
    t = Tensor(np.ones((4, 8), np.float32))
    out = nn.Dropout(0.5, inplace=True)(t)
    np.testing.assert_array_equal(t.data, 1.0)
    assert set(np.unique(out.data)) <= {0.0, 2.0}
    out = F.dropout(t, 0.5, training=True, inplace=True)
    np.testing.assert_array_equal(t.data, 1.0)


# --------------------------------------------------------------------------- losses


def test_loss_modules_match_the_functions():
    rng = np.random.default_rng(0)
    logits = Tensor(rng.normal(size=(6, 4)).astype(np.float32))
    labels = rng.integers(0, 4, 6)
    for reduction in ("mean", "sum", "none"):
        np.testing.assert_array_equal(
            nn.CrossEntropyLoss(reduction=reduction, label_smoothing=0.1)(logits, labels).data,
            F.cross_entropy(logits, labels, reduction=reduction, label_smoothing=0.1).data)
        np.testing.assert_array_equal(
            nn.MSELoss(reduction=reduction)(logits, logits.data * 0.5).data,
            F.mse_loss(logits, logits.data * 0.5, reduction).data)
        log_probs = logits.log_softmax(1)
        np.testing.assert_array_equal(nn.NLLLoss(reduction=reduction)(log_probs, labels).data,
                                      F.nll_loss(log_probs, labels, reduction=reduction).data)


def test_class_weighted_loss_modules_take_pytorchs_arguments():
    """CrossEntropyLoss(weight, ..., ignore_index=...) and NLLLoss as in PyTorch: the
    weight positional and kept as a buffer (in the state_dict), the legacy flags."""
    rng = np.random.default_rng(1)
    logits = Tensor(rng.normal(size=(6, 4)).astype(np.float32))
    labels = np.array([0, 3, -1, 2, 1, -1])
    weight = np.array([0.5, 1.0, 2.0, 1.5], np.float32)
    loss = nn.CrossEntropyLoss(weight, ignore_index=-1, label_smoothing=0.1)
    np.testing.assert_array_equal(
        loss(logits, labels).data,
        F.cross_entropy(logits, labels, weight, ignore_index=-1, label_smoothing=0.1).data)
    np.testing.assert_array_equal(loss.state_dict()["weight"].numpy(), weight)
    nll = nn.NLLLoss(Tensor(weight), None, -1, None, "sum")
    log_probs = logits.log_softmax(1)
    np.testing.assert_array_equal(
        nll(log_probs, labels).data,
        F.nll_loss(log_probs, labels, weight, ignore_index=-1, reduction="sum").data)
    assert nn.CrossEntropyLoss(size_average=False).reduction == "sum"
    assert nn.NLLLoss(reduce=False).reduction == "none"
    assert "weight" not in nn.CrossEntropyLoss().state_dict()


def test_loss_modules_validate_their_settings():
    with pytest.raises(ValueError, match="reduction"):
        nn.CrossEntropyLoss(reduction="average")
    with pytest.raises(ValueError, match="label_smoothing"):
        nn.CrossEntropyLoss(label_smoothing=1.5)
    with pytest.raises(ValueError, match="reduction"):
        nn.MSELoss(reduction=None)
