"""Binary cross-entropy (from probabilities and from logits), L1, smooth L1 and Huber
losses; GELU, SiLU, ELU, Softplus and LogSigmoid: values and gradients against PyTorch,
float64 gradchecks, reductions, dtypes, extreme inputs and error messages."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_fm as tg
from tinygrad_fm import Tensor, nn
from tinygrad_fm.nn import functional as F

from helpers import arrays_away_from, float_arrays, separated_pair, shapes

REDUCTIONS = ["mean", "sum", "none"]

# name -> (ours, torch's as a function of (torch.nn.functional, x))
ACTIVATIONS = {
    "gelu": (F.gelu, lambda TF, x: TF.gelu(x)),
    "gelu_tanh": (lambda x: F.gelu(x, approximate="tanh"),
                  lambda TF, x: TF.gelu(x, approximate="tanh")),
    "silu": (F.silu, lambda TF, x: TF.silu(x)),
    "elu": (F.elu, lambda TF, x: TF.elu(x)),
    "elu_alpha": (lambda x: F.elu(x, alpha=0.3), lambda TF, x: TF.elu(x, alpha=0.3)),
    "softplus": (F.softplus, lambda TF, x: TF.softplus(x)),
    "softplus_beta": (lambda x: F.softplus(x, beta=2, threshold=3),
                      lambda TF, x: TF.softplus(x, beta=2, threshold=3)),
    "logsigmoid": (F.logsigmoid, lambda TF, x: TF.logsigmoid(x)),
}


def _torch_tensor(torch, array, requires_grad=True):
    return torch.tensor(np.array(array), requires_grad=requires_grad)


# --------------------------------------------------------------------------- activations


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_activation_matches_torch(name, dtype):
    torch = pytest.importorskip("torch")
    ours_fn, theirs_fn = ACTIVATIONS[name]
    rng = np.random.default_rng(0)
    # Wide values: both tails, the softplus thresholds, and |x| > 8 (erfc's far branch).
    x = np.concatenate([rng.normal(size=38) * 4, [-30.0, -9.0, -0.0, 0.0, 1e-3, 9.0, 30.0]])
    x = x.reshape(3, -1).astype(dtype)
    upstream = rng.random(x.shape).astype(dtype)
    ours_x = Tensor(x.copy(), requires_grad=True)
    ours = ours_fn(ours_x)
    ours.backward(upstream)
    theirs_x = _torch_tensor(torch, x)
    theirs = theirs_fn(torch.nn.functional, theirs_x)
    theirs.backward(torch.from_numpy(upstream))
    assert ours.dtype == dtype and ours_x.grad.dtype == dtype
    rtol, atol = (1e-12, 1e-14) if dtype == np.float64 else (2e-6, 1e-6)
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=rtol, atol=atol)
    np.testing.assert_allclose(ours_x.grad.data, theirs_x.grad.numpy(), rtol=rtol, atol=atol)


@given(x=shapes().flatmap(float_arrays))
def test_smooth_activations_gradcheck(x):
    for name in ("gelu", "gelu_tanh", "silu", "softplus", "logsigmoid"):
        assert tg.gradcheck(ACTIVATIONS[name][0], [Tensor(x, requires_grad=True)]), name


@given(x=shapes().flatmap(lambda shape: arrays_away_from(shape, [0.0])),
       alpha=st.sampled_from([1.0, 0.3, 2.5]))
def test_elu_gradcheck_away_from_its_kink(x, alpha):
    assert tg.gradcheck(lambda t: F.elu(t, alpha), [Tensor(x, requires_grad=True)])


def test_normal_cdf_is_accurate_in_both_tails():
    x = np.concatenate([np.linspace(-37, 8, 4501), [0.0, 0.5, -0.5, 1.41, -1.42]])
    expected = np.array([0.5 * math.erfc(-v / math.sqrt(2)) for v in x])
    # Relative error, so the far negative tail (Phi ~ 1e-300) counts as much as the middle;
    # exp(-x^2 / 2) passes on the rounding of x^2 / 2, so the bound grows with it.
    relative = np.abs(F.normal_cdf(x) - expected) / expected
    assert (relative <= 2e-15 * (1 + x * x / 2)).all()
    np.testing.assert_array_equal(F.normal_cdf(np.array([-np.inf, np.inf, -1e4, 1e4])),
                                  [0.0, 1.0, 0.0, 1.0])
    assert np.isnan(F.normal_cdf(np.array([np.nan]))).all()


def test_gelu_formulas():
    x = np.array([-2.0, -0.5, 0.0, 1.0, 3.0])
    cdf = np.array([0.5 * math.erfc(-v / math.sqrt(2)) for v in x])
    np.testing.assert_allclose(F.gelu(x).data, x * cdf, rtol=1e-14)
    inner = math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)
    np.testing.assert_allclose(F.gelu(x, "tanh").data, 0.5 * x * (1 + np.tanh(inner)),
                               rtol=1e-14)
    np.testing.assert_allclose(F.silu(x).data, x / (1 + np.exp(-x)), rtol=1e-14)
    np.testing.assert_allclose(F.elu(x, 0.5).data, np.where(x > 0, x, 0.5 * np.expm1(x)))
    np.testing.assert_allclose(F.logsigmoid(x).data, -np.log1p(np.exp(-x)), rtol=1e-14)
    assert F.log_sigmoid is F.logsigmoid


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activations_are_finite_at_extreme_inputs(name):
    fn = ACTIVATIONS[name][0]
    x = Tensor(np.array([-1e30, -1e4, -90.0, 90.0, 1e4, 1e30], dtype=np.float32),
               requires_grad=True)
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # nor on the way
        out = fn(x)
        out.sum().backward()
    assert out.dtype == np.float32 and np.isfinite(out.data).all()
    assert np.isfinite(x.grad.data).all()
    if name == "logsigmoid":  # min(x, 0): the identity far left, 0 far right
        assert out.data[1] == -1e4 and x.grad.data[1] == 1.0
        assert out.data[-2] == 0.0 and x.grad.data[-2] == 0.0
    else:  # the identity far right; flat far left (0, or -alpha for elu)
        assert out.data[-2] == pytest.approx(1e4, rel=1e-6) and x.grad.data[-2] == 1.0
        assert x.grad.data[1] == 0.0


def test_gelu_rejects_an_unknown_approximation():
    with pytest.raises(ValueError, match=r"approximate.*'none', 'tanh'.*'erf'"):
        F.gelu(Tensor([1.0]), approximate="erf")
    with pytest.raises(ValueError, match="approximate"):
        nn.GELU("fast")
    with pytest.raises(TypeError, match="floating point"):
        F.silu(Tensor(np.arange(3)))


# --------------------------------------------------------------------------- losses: torch

LOSSES = ["binary_cross_entropy", "binary_cross_entropy_weighted",
          "binary_cross_entropy_with_logits", "bce_with_logits_weighted",
          "l1_loss", "smooth_l1_loss", "smooth_l1_loss_beta", "smooth_l1_loss_beta0",
          "huber_loss", "huber_loss_delta"]


def _loss_case(name, rng, shape=(6, 4)):
    """(ours, torch's(TF, input, target), input array, target array)."""
    logits = rng.normal(size=shape) * 3
    probabilities = 1 / (1 + np.exp(-logits))
    target = rng.random(shape)
    weight = rng.random(shape[-1:]) + 0.5
    pos_weight = rng.random(shape[-1:]) * 3
    cases = {
        "binary_cross_entropy": (
            lambda x, t, r: F.binary_cross_entropy(x, t, reduction=r),
            lambda TF, x, t, r: TF.binary_cross_entropy(x, t, reduction=r), probabilities),
        "binary_cross_entropy_weighted": (
            lambda x, t, r: F.binary_cross_entropy(x, t, weight, r),
            lambda TF, x, t, r: TF.binary_cross_entropy(
                x, t, TF.torch.from_numpy(weight.astype(x.detach().numpy().dtype)),
                reduction=r), probabilities),
        "binary_cross_entropy_with_logits": (
            lambda x, t, r: F.binary_cross_entropy_with_logits(x, t, reduction=r),
            lambda TF, x, t, r: TF.binary_cross_entropy_with_logits(x, t, reduction=r),
            logits),
        "bce_with_logits_weighted": (
            lambda x, t, r: F.binary_cross_entropy_with_logits(x, t, weight, r, pos_weight),
            lambda TF, x, t, r: TF.binary_cross_entropy_with_logits(
                x, t, TF.torch.from_numpy(weight.astype(x.detach().numpy().dtype)),
                reduction=r,
                pos_weight=TF.torch.from_numpy(pos_weight.astype(x.detach().numpy().dtype))),
            logits),
        "l1_loss": (lambda x, t, r: F.l1_loss(x, t, r),
                    lambda TF, x, t, r: TF.l1_loss(x, t, reduction=r), logits),
        "smooth_l1_loss": (lambda x, t, r: F.smooth_l1_loss(x, t, r),
                           lambda TF, x, t, r: TF.smooth_l1_loss(x, t, reduction=r), logits),
        "smooth_l1_loss_beta": (
            lambda x, t, r: F.smooth_l1_loss(x, t, r, beta=2.5),
            lambda TF, x, t, r: TF.smooth_l1_loss(x, t, reduction=r, beta=2.5), logits),
        "smooth_l1_loss_beta0": (
            lambda x, t, r: F.smooth_l1_loss(x, t, r, beta=0.0),
            lambda TF, x, t, r: TF.smooth_l1_loss(x, t, reduction=r, beta=0.0), logits),
        "huber_loss": (lambda x, t, r: F.huber_loss(x, t, r),
                       lambda TF, x, t, r: TF.huber_loss(x, t, reduction=r), logits),
        "huber_loss_delta": (lambda x, t, r: F.huber_loss(x, t, r, delta=2.5),
                             lambda TF, x, t, r: TF.huber_loss(x, t, reduction=r, delta=2.5),
                             logits),
    }
    ours, theirs, input = cases[name]
    return ours, theirs, input, target


@pytest.mark.parametrize("name", LOSSES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_loss_matches_torch(name, reduction, dtype):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    ours_fn, theirs_fn, input, target = _loss_case(name, rng)
    input, target = input.astype(dtype), target.astype(dtype)
    ours_x = Tensor(input.copy(), requires_grad=True)
    ours_t = Tensor(target.copy(), requires_grad=True)
    ours = ours_fn(ours_x, ours_t, reduction)
    upstream = np.asarray(rng.random(ours.shape) + 0.5, dtype=dtype)
    ours.backward(upstream)
    theirs_x, theirs_t = _torch_tensor(torch, input), _torch_tensor(torch, target)
    theirs = theirs_fn(torch.nn.functional, theirs_x, theirs_t, reduction)
    theirs.backward(torch.from_numpy(upstream))
    assert ours.shape == tuple(theirs.shape)
    assert ours.dtype == dtype and ours_x.grad.dtype == dtype and ours_t.grad.dtype == dtype
    rtol, atol = (1e-12, 1e-13) if dtype == np.float64 else (1e-5, 1e-6)
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=rtol, atol=atol)
    np.testing.assert_allclose(ours_x.grad.data, theirs_x.grad.numpy(), rtol=rtol, atol=atol)
    np.testing.assert_allclose(ours_t.grad.data, theirs_t.grad.numpy(), rtol=rtol, atol=atol)


def test_binary_cross_entropy_at_zero_and_one_matches_torch():
    """The log is clamped at -100 as in PyTorch: certain and wrong costs 100, finitely,
    and the gradient stays finite through max(x (1 - x), 1e-12)."""
    torch = pytest.importorskip("torch")
    x = np.array([0.0, 1.0, 0.0, 1.0, 0.5, 1e-30], dtype=np.float32)
    t = np.array([1.0, 0.0, 0.0, 1.0, 1.0, 1.0], dtype=np.float32)
    ours_x = Tensor(x.copy(), requires_grad=True)
    ours = F.binary_cross_entropy(ours_x, t, reduction="none")
    ours.sum().backward()
    theirs_x = _torch_tensor(torch, x)
    theirs = torch.nn.functional.binary_cross_entropy(theirs_x, torch.from_numpy(t),
                                                      reduction="none")
    theirs.sum().backward()
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(ours.data[:4], [100, 100, 0, 0])
    assert np.isfinite(ours_x.grad.data).all()
    np.testing.assert_allclose(ours_x.grad.data, theirs_x.grad.numpy(), rtol=1e-6)


# --------------------------------------------------------------------------- losses: gradcheck


@st.composite
def same_shape_pair(draw, low=-3.0, high=3.0, target_low=0.0, target_high=1.0):
    shape = draw(shapes())
    return draw(float_arrays(shape, low, high)), draw(float_arrays(shape, target_low,
                                                                   target_high))


@given(pair=same_shape_pair(0.05, 0.95), reduction=st.sampled_from(REDUCTIONS),
       weighted=st.booleans())
def test_binary_cross_entropy_gradcheck(pair, reduction, weighted):
    x, t = pair
    inputs = [Tensor(x, requires_grad=True), Tensor(t, requires_grad=True)]
    if weighted:  # a weight of the input's shape, which also gets a gradient
        inputs.append(Tensor(np.linspace(0.5, 1.5, x.size).reshape(x.shape),
                             requires_grad=True))
    assert tg.gradcheck(lambda *a: F.binary_cross_entropy(*a[:2], a[2] if weighted else None,
                                                          reduction), inputs)


@given(pair=same_shape_pair(-6.0, 6.0), reduction=st.sampled_from(REDUCTIONS),
       weighted=st.booleans())
def test_binary_cross_entropy_with_logits_gradcheck(pair, reduction, weighted):
    x, t = pair
    inputs = [Tensor(x, requires_grad=True), Tensor(t, requires_grad=True)]
    if weighted:  # weight and pos_weight broadcast along the last axis, both differentiable
        size = x.shape[-1] if x.ndim else 1
        inputs += [Tensor(np.linspace(0.5, 1.5, size), requires_grad=True),
                   Tensor(np.linspace(0.2, 3.0, size), requires_grad=True)]

    def loss(x, t, *weights):
        weight, pos_weight = weights if weights else (None, None)
        if x.ndim == 0 and weights:
            weight, pos_weight = weight.reshape(()), pos_weight.reshape(())
        return F.binary_cross_entropy_with_logits(x, t, weight, reduction, pos_weight)

    assert tg.gradcheck(loss, inputs)


@given(data=st.data(), reduction=st.sampled_from(REDUCTIONS))
def test_l1_loss_gradcheck_away_from_zero_difference(data, reduction):
    shape = data.draw(shapes())
    x, t = data.draw(separated_pair(shape, shape))
    assert tg.gradcheck(lambda a, b: F.l1_loss(a, b, reduction),
                        [Tensor(x, requires_grad=True), Tensor(t, requires_grad=True)])


@given(pair=same_shape_pair(-3.0, 3.0, -3.0, 3.0), reduction=st.sampled_from(REDUCTIONS),
       param=st.sampled_from([0.5, 1.0, 2.0]))
@settings(max_examples=50)
def test_smooth_l1_and_huber_gradcheck(pair, reduction, param):
    # The slope is continuous at |d| = param, so no point needs avoiding.
    x, t = pair
    inputs = [Tensor(x, requires_grad=True), Tensor(t, requires_grad=True)]
    assert tg.gradcheck(lambda a, b: F.smooth_l1_loss(a, b, reduction, param), inputs)
    assert tg.gradcheck(lambda a, b: F.huber_loss(a, b, reduction, param), inputs)


# --------------------------------------------------------------------------- reductions, dtypes


@pytest.mark.parametrize("name", LOSSES)
def test_loss_reductions_are_mean_sum_and_elementwise(name):
    ours_fn, _, input, target = _loss_case(name, np.random.default_rng(2), shape=(3, 5))
    per_element = ours_fn(Tensor(input), target, "none")
    assert per_element.shape == (3, 5)
    assert ours_fn(Tensor(input), target, "sum").item() == pytest.approx(
        per_element.data.sum(), rel=1e-12)
    assert ours_fn(Tensor(input), target, "mean").item() == pytest.approx(
        per_element.data.mean(), rel=1e-12)
    assert ours_fn(Tensor(input), target, "mean").shape == ()
    with pytest.raises(ValueError, match="reduction"):
        ours_fn(Tensor(input), target, "average")


def test_loss_formulas():
    d = np.array([-3.0, -1.0, -0.25, 0.0, 0.5, 2.0])
    zero = np.zeros_like(d)
    np.testing.assert_allclose(F.l1_loss(d, zero, "none").data, np.abs(d))
    np.testing.assert_allclose(F.smooth_l1_loss(d, zero, "none", beta=2.0).data,
                               np.where(np.abs(d) < 2, 0.25 * d * d, np.abs(d) - 1.0))
    np.testing.assert_allclose(F.huber_loss(d, zero, "none", delta=2.0).data,
                               np.where(np.abs(d) < 2, 0.5 * d * d, 2 * (np.abs(d) - 1.0)))
    # Huber with delta is delta times smooth L1 with beta = delta.
    np.testing.assert_allclose(F.huber_loss(d, zero, "none", 0.7).data,
                               0.7 * F.smooth_l1_loss(d, zero, "none", 0.7).data, rtol=1e-14)
    p, t = np.array([0.2, 0.9]), np.array([1.0, 0.25])
    np.testing.assert_allclose(F.binary_cross_entropy(p, t, reduction="none").data,
                               -(t * np.log(p) + (1 - t) * np.log(1 - p)), rtol=1e-14)
    z = np.log(p / (1 - p))
    np.testing.assert_allclose(F.binary_cross_entropy_with_logits(z, t, reduction="none").data,
                               F.binary_cross_entropy(p, t, reduction="none").data, rtol=1e-12)


@pytest.mark.parametrize("name", LOSSES)
def test_losses_keep_float32_with_float64_targets(name):
    ours_fn, _, input, target = _loss_case(name, np.random.default_rng(3))
    x = Tensor(input.astype(np.float32), requires_grad=True)
    for target_value in (target, Tensor(target, requires_grad=True)):  # float64 either way
        for reduction in REDUCTIONS:
            loss = ours_fn(x, target_value, reduction)
            assert loss.dtype == np.float32, reduction
            loss.sum().backward()
            assert x.grad.dtype == np.float32
            x.grad = None
    if isinstance(target_value, Tensor):
        assert target_value.grad.dtype == np.float64  # the target keeps its own dtype


@pytest.mark.parametrize("magnitude", [1e4, 1e30])
def test_bce_with_logits_is_stable_at_extreme_logits(magnitude):
    torch = pytest.importorskip("torch")
    logits = np.array([[magnitude, -magnitude], [-magnitude, magnitude], [0.0, magnitude]],
                      dtype=np.float32)
    target = np.array([[1.0, 0.0], [1.0, 0.0], [0.5, 1.0]], dtype=np.float32)
    pos_weight = np.array([2.0, 3.0], dtype=np.float32)
    for kwargs in ({}, {"pos_weight": pos_weight}):
        x = Tensor(logits.copy(), requires_grad=True)
        with np.errstate(over="raise", invalid="raise"):
            loss = F.binary_cross_entropy_with_logits(
                x, target, reduction="none", pos_weight=kwargs.get("pos_weight"))
            loss.sum().backward()
        assert np.isfinite(loss.data).all() and np.isfinite(x.grad.data).all()
        # Right and certain costs 0; row 1 is certain and wrong: magnitude, times the
        # positive weight where the missed label was positive.
        first_weight = pos_weight[0] if kwargs else 1.0
        np.testing.assert_allclose(loss.data[0], [0.0, 0.0])
        np.testing.assert_allclose(loss.data[1], [first_weight * magnitude, magnitude],
                                   rtol=1e-6)
        np.testing.assert_allclose(x.grad.data[:2], [[0, 0], [-first_weight, 1]])
        theirs_x = _torch_tensor(torch, logits)
        theirs = torch.nn.functional.binary_cross_entropy_with_logits(
            theirs_x, torch.from_numpy(target), reduction="none",
            **{k: torch.from_numpy(v) for k, v in kwargs.items()})
        theirs.sum().backward()
        np.testing.assert_allclose(loss.data, theirs.detach().numpy(), rtol=1e-6)
        np.testing.assert_allclose(x.grad.data, theirs_x.grad.numpy(), rtol=1e-6, atol=1e-7)


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize("name", LOSSES)
def test_loss_shape_mismatch_names_both_shapes(name):
    ours_fn, _, input, _ = _loss_case(name, np.random.default_rng(4), shape=(4, 1))
    # (4, 1) against (4,) would broadcast to a (4, 4) loss: refused.
    with pytest.raises(ValueError, match=r"input of shape \(4, 1\) and target of shape "
                                         r"\(4,\) must have the same shape"):
        ours_fn(Tensor(input), np.full(4, 0.5), "mean")


def test_weight_shapes_and_settings_are_checked():
    p = Tensor(np.full((4, 3), 0.5))
    t = np.ones((4, 3))
    with pytest.raises(ValueError, match=r"weight of shape \(4,\).*input's shape \(4, 3\)"):
        F.binary_cross_entropy(p, t, weight=np.ones(4))
    with pytest.raises(ValueError, match=r"pos_weight of shape \(2,\).*\(4, 3\)"):
        F.binary_cross_entropy_with_logits(p, t, pos_weight=np.ones(2))
    with pytest.raises(ValueError, match=r"weight of shape \(2, 4, 3\).*\(4, 3\)"):
        F.binary_cross_entropy_with_logits(p, t, weight=np.ones((2, 4, 3)))
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\], found 1.5.*logits"):
        F.binary_cross_entropy(Tensor([0.5, 1.5]), np.ones(2))
    with pytest.raises(ValueError, match=r"found nan"):
        F.binary_cross_entropy(Tensor([0.5, np.nan]), np.ones(2))
    with pytest.raises(TypeError, match="floating point"):
        F.l1_loss(Tensor(np.arange(3)), np.zeros(3))
    with pytest.raises(ValueError, match="beta must be a non-negative"):
        F.smooth_l1_loss(p, t, beta=-1.0)
    with pytest.raises(ValueError, match="delta must be a positive"):
        F.huber_loss(p, t, delta=0.0)
    with pytest.raises(ValueError, match="delta"):
        nn.HuberLoss(delta=-2)
    with pytest.raises(ValueError, match="reduction"):
        nn.BCEWithLogitsLoss(reduction="avg")


# --------------------------------------------------------------------------- modules


def test_modules_match_the_functions():
    rng = np.random.default_rng(5)
    x = Tensor(rng.normal(size=(4, 3)).astype(np.float32))
    p = x.sigmoid()
    t = rng.random((4, 3)).astype(np.float32)
    weight, pos_weight = np.array([1.0, 2.0, 0.5], np.float32), np.array([3.0, 1.0, 2.0],
                                                                         np.float32)
    pairs = [
        (nn.GELU()(x), F.gelu(x)), (nn.GELU("tanh")(x), F.gelu(x, "tanh")),
        (nn.SiLU()(x), F.silu(x)), (nn.ELU(0.5)(x), F.elu(x, 0.5)),
        (nn.Softplus(2.0, 1.0)(x), F.softplus(x, 2.0, 1.0)),
        (nn.LogSigmoid()(x), F.logsigmoid(x)),
    ]
    for reduction in REDUCTIONS:
        pairs += [
            (nn.BCELoss(weight, reduction=reduction)(p, t),
             F.binary_cross_entropy(p, t, weight, reduction)),
            (nn.BCEWithLogitsLoss(weight, reduction=reduction, pos_weight=pos_weight)(x, t),
             F.binary_cross_entropy_with_logits(x, t, weight, reduction, pos_weight)),
            (nn.L1Loss(reduction=reduction)(x, t), F.l1_loss(x, t, reduction)),
            (nn.SmoothL1Loss(reduction=reduction, beta=0.5)(x, t),
             F.smooth_l1_loss(x, t, reduction, 0.5)),
            (nn.HuberLoss(reduction, 0.5)(x, t), F.huber_loss(x, t, reduction, 0.5)),
        ]
    for ours, expected in pairs:
        assert ours.dtype == np.float32
        np.testing.assert_array_equal(ours.data, expected.data)


def test_loss_weights_are_buffers_like_pytorchs():
    loss = nn.BCEWithLogitsLoss(weight=[1.0, 2.0], pos_weight=np.array([3.0, 4.0]))
    assert list(loss.state_dict()) == ["weight", "pos_weight"]
    assert list(loss.parameters()) == []
    assert list(nn.BCELoss().state_dict()) == []
    assert nn.BCELoss().weight is None


def test_new_names_are_exported():
    for name in ("GELU", "SiLU", "ELU", "Softplus", "LogSigmoid", "BCELoss",
                 "BCEWithLogitsLoss", "L1Loss", "SmoothL1Loss", "HuberLoss"):
        assert name in nn.__all__ and hasattr(nn, name)
    for name in ("gelu", "silu", "elu", "softplus", "logsigmoid", "log_sigmoid",
                 "binary_cross_entropy", "binary_cross_entropy_with_logits", "l1_loss",
                 "smooth_l1_loss", "huber_loss"):
        assert name in F.__all__ and callable(getattr(F, name))


def test_reprs_match_pytorch():
    torch = pytest.importorskip("torch")
    pairs = [
        (nn.GELU(), torch.nn.GELU()), (nn.GELU("tanh"), torch.nn.GELU("tanh")),
        (nn.SiLU(), torch.nn.SiLU()), (nn.SiLU(inplace=True), torch.nn.SiLU(inplace=True)),
        (nn.ELU(), torch.nn.ELU()), (nn.ELU(0.5, inplace=True), torch.nn.ELU(0.5, True)),
        (nn.Softplus(), torch.nn.Softplus()), (nn.Softplus(2, 5), torch.nn.Softplus(2, 5)),
        (nn.LogSigmoid(), torch.nn.LogSigmoid()), (nn.BCELoss(), torch.nn.BCELoss()),
        (nn.BCEWithLogitsLoss(), torch.nn.BCEWithLogitsLoss()), (nn.L1Loss(), torch.nn.L1Loss()),
        (nn.SmoothL1Loss(), torch.nn.SmoothL1Loss()), (nn.HuberLoss(), torch.nn.HuberLoss()),
    ]
    for ours, theirs in pairs:
        assert repr(ours) == repr(theirs)
    assert repr(nn.Sequential(nn.Linear(3, 2), nn.GELU())) == \
        repr(torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.GELU()))


@pytest.mark.parametrize("shape, dim", [((3, 0), 1), ((3, 0), -1), ((0, 3), 0), ((2, 0, 4), 1),
                                        ((3, 0), 0), ((0, 3), 1)])
@pytest.mark.parametrize("name", ["softmax", "log_softmax", "logsumexp"])
def test_softmax_family_over_an_empty_axis_returns_what_torch_returns(name, shape, dim):
    torch = pytest.importorskip("torch")
    values = np.zeros(shape, np.float32)
    expected_input = torch.tensor(values, requires_grad=True)
    expected = getattr(torch, name)(expected_input, dim)
    expected.sum().backward()
    x = Tensor(values, requires_grad=True)
    out = getattr(x, name)(dim=dim)
    if name != "logsumexp":
        np.testing.assert_array_equal(getattr(F, name)(Tensor(values), dim).numpy(),
                                      expected.detach().numpy())
    np.testing.assert_array_equal(out.numpy(), expected.detach().numpy())
    assert out.shape == tuple(expected.shape)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), expected_input.grad.numpy())
