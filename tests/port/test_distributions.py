"""torch.distributions: log_prob, entropy, moments, KL and gradients against PyTorch from
the same parameters; samples by their shapes, dtypes and statistics (the generator is
ours, so the draws are not PyTorch's)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import helpers as tst
import tinygrad_fm as tg
from tinygrad_fm import Tensor, distributions as D

torch = pytest.importorskip("torch")


def _params(seed):
    rng = np.random.default_rng(seed)
    loc = rng.normal(size=(3, 2)).astype(np.float32)
    scale = rng.uniform(0.3, 2.0, (3, 2)).astype(np.float32)
    probs = rng.uniform(0.05, 0.95, (3, 2)).astype(np.float32)
    logits = rng.normal(size=(3, 4)).astype(np.float32)
    return rng, loc, scale, probs, logits


def _pair(name, seed=0):
    """(ours, theirs, our parameters, their parameters, a value in the support)."""
    rng, loc, scale, probs, logits = _params(seed)
    arrays = {"normal": (loc, scale), "uniform": (loc, loc + scale), "bernoulli": (probs,),
              "bernoulli_logits": (loc,), "categorical": (logits,),
              "categorical_probs": (np.exp(logits),)}[name]
    ours_params = [Tensor(a.copy(), requires_grad=True) for a in arrays]
    theirs_params = [torch.tensor(a, requires_grad=True) for a in arrays]
    build = {"normal": lambda m, p: m.Normal(*p), "uniform": lambda m, p: m.Uniform(*p),
             "bernoulli": lambda m, p: m.Bernoulli(probs=p[0]),
             "bernoulli_logits": lambda m, p: m.Bernoulli(logits=p[0]),
             "categorical": lambda m, p: m.Categorical(logits=p[0]),
             "categorical_probs": lambda m, p: m.Categorical(probs=p[0])}[name]
    value = {"normal": rng.normal(size=(3, 2)),
             "uniform": loc + scale * rng.random((3, 2)),
             "bernoulli": rng.integers(0, 2, (3, 2)), "bernoulli_logits": rng.integers(0, 2, (3, 2)),
             "categorical": rng.integers(0, 4, 3),
             "categorical_probs": rng.integers(0, 4, (5, 3))}[name]
    value = value.astype(np.int64 if name.startswith("categorical") else np.float32)
    return (build(D, ours_params), build(torch.distributions, theirs_params), ours_params,
            theirs_params, value)


NAMES = ["normal", "uniform", "bernoulli", "bernoulli_logits", "categorical",
         "categorical_probs"]


def _close(ours, theirs, rtol=1e-5, atol=1e-6):
    np.testing.assert_allclose(ours.data if isinstance(ours, Tensor) else ours,
                               theirs.detach().numpy(), rtol=rtol, atol=atol)


@pytest.mark.parametrize("name", NAMES)
def test_log_prob_entropy_and_their_gradients_match_torch(name):
    ours, theirs, ours_params, theirs_params, value = _pair(name)
    ours_log_prob, theirs_log_prob = ours.log_prob(Tensor(value)), theirs.log_prob(
        torch.from_numpy(value))
    _close(ours_log_prob, theirs_log_prob)
    _close(ours.entropy(), theirs.entropy())
    assert ours.batch_shape == tuple(theirs.batch_shape)
    assert ours.event_shape == tuple(theirs.event_shape)
    (ours_log_prob.sum() + ours.entropy().sum()).backward()
    (theirs_log_prob.sum() + theirs.entropy().sum()).backward()
    for a, b in zip(ours_params, theirs_params):
        _close(a.grad, b.grad, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", NAMES)
def test_moments_match_torch(name):
    ours, theirs, *_ = _pair(name, seed=1)
    for moment in ("mean", "variance", "stddev"):
        np.testing.assert_allclose(getattr(ours, moment).data,
                                   getattr(theirs, moment).detach().numpy(), rtol=1e-5,
                                   atol=1e-6, equal_nan=True)
    for parameter in ("probs", "logits"):
        if hasattr(theirs, parameter) and name.startswith(("bernoulli", "categorical")):
            _close(getattr(ours, parameter), getattr(theirs, parameter), rtol=1e-5,
                   atol=1e-5)


@pytest.mark.parametrize("name", NAMES)
def test_samples_have_torchs_shape_and_dtype_and_the_right_statistics(name):
    tg.manual_seed(0)
    ours, theirs, *_ = _pair(name, seed=2)
    for sample_shape in ((), (4,), (2, 3)):
        sample = ours.sample(sample_shape)
        expected = theirs.sample(sample_shape)
        assert sample.shape == tuple(expected.shape)
        assert str(sample.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1]
        assert not sample.requires_grad
    many = ours.sample((20000,)).data.astype(np.float64)
    if name.startswith("categorical"):
        frequencies = np.stack([(many == k).mean(axis=0) for k in range(4)], axis=-1)
        np.testing.assert_allclose(frequencies, ours.probs.data, atol=0.02)
    else:
        np.testing.assert_allclose(many.mean(axis=0), ours.mean.data, atol=0.06)
        np.testing.assert_allclose(many.std(axis=0), ours.stddev.data, rtol=0.05, atol=0.01)


@pytest.mark.parametrize("name", ["normal", "uniform"])
def test_rsample_is_differentiable_in_the_parameters(name):
    ours, _, params, _, _ = _pair(name)
    assert ours.has_rsample
    ours.rsample((5,)).sum().backward()
    # d(sum of loc + noise * scale)/d loc = 5 per element (and d low + d high = 5).
    total = sum(p.grad.data for p in params) if name == "uniform" else params[0].grad.data
    np.testing.assert_allclose(total, 5.0, rtol=1e-6)


@pytest.mark.parametrize("name", ["normal", "uniform", "bernoulli", "bernoulli_logits",
                                  "categorical"])
def test_kl_divergence_matches_torch(name):
    p, p_torch, p_params, p_torch_params, _ = _pair(name, seed=3)
    q, q_torch, *_ = _pair(name, seed=4)
    if name == "uniform":  # q must cover p for a finite value; also check the infinite one
        q = D.Uniform(p.low.detach() - 0.5, p.high.detach() + 0.5)
        q_torch = torch.distributions.Uniform(p_torch.low.detach() - 0.5,
                                              p_torch.high.detach() + 0.5)
        assert np.isinf(D.kl_divergence(q, p).data).all()
    ours, theirs = D.kl_divergence(p, q), torch.distributions.kl_divergence(p_torch, q_torch)
    _close(ours, theirs, rtol=1e-5, atol=1e-5)
    ours.sum().backward()
    theirs.sum().backward()
    for a, b in zip(p_params, p_torch_params):
        _close(a.grad, b.grad, rtol=1e-4, atol=1e-5)


@given(loc=tst.float_arrays((2, 3)), scale=tst.positive_arrays((2, 3)),
       value=tst.float_arrays((2, 3)))
def test_normal_log_prob_and_kl_gradcheck(loc, scale, value):
    def loss(m, s):
        normal = D.Normal(m, s)
        return normal.log_prob(Tensor(value)) + D.kl_divergence(normal, D.Normal(0.0, 1.0))

    assert tg.gradcheck(loss, [Tensor(loc, requires_grad=True),
                               Tensor(scale, requires_grad=True)])


@given(logits=tst.float_arrays((2, 4)), seed=st.integers(0, 100))
def test_categorical_log_prob_and_entropy_gradcheck(logits, seed):
    value = np.random.default_rng(seed).integers(0, 4, 2)

    def loss(z):
        categorical = D.Categorical(logits=z)
        return categorical.log_prob(Tensor(value)) + categorical.entropy()

    assert tg.gradcheck(loss, [Tensor(logits, requires_grad=True)])


def test_invalid_parameters_are_refused_as_torch_does():
    with pytest.raises(ValueError, match="scale.*GreaterThan"):
        D.Normal(0.0, -1.0)
    with pytest.raises(ValueError, match="probs.*Interval"):
        D.Bernoulli(probs=1.5)
    with pytest.raises(ValueError, match="either probs or logits"):
        D.Categorical(probs=[0.5, 0.5], logits=[0.0, 0.0])
    with pytest.raises(ValueError, match="low.*LessThan"):
        D.Uniform(1.0, 0.0)
    with pytest.raises(ValueError, match="outside 0..2"):
        D.Categorical(logits=Tensor(np.zeros(3, np.float32))).log_prob(Tensor(np.array(3)))
    with pytest.raises(NotImplementedError, match="Normal against Uniform"):
        D.kl_divergence(D.Normal(0.0, 1.0), D.Uniform(0.0, 1.0))
    D.Normal(0.0, -1.0, validate_args=False)  # as torch: validation can be turned off


def test_a_policy_gradient_step_as_people_write_it():
    """REINFORCE with a Categorical policy: sample, log_prob, backward; the numbers (from
    a fixed action) match PyTorch's."""
    rng = np.random.default_rng(7)
    weights = rng.normal(size=(4, 3)).astype(np.float32)
    states = rng.normal(size=(5, 4)).astype(np.float32)
    actions = rng.integers(0, 3, 5)
    rewards = rng.normal(size=5).astype(np.float32)
    grads = []
    for framework in (tg, torch):
        w = framework.tensor(weights, requires_grad=True)
        policy = framework.distributions.Categorical(logits=framework.tensor(states) @ w)
        assert policy.sample().shape == (5,)
        loss = -(policy.log_prob(framework.tensor(actions)) * framework.tensor(rewards)).mean()
        loss.backward()
        grads.append(w.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-5, atol=1e-6)
