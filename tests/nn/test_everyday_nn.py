"""Everyday nn pieces against PyTorch: the activations, distances, kl_div, instance_norm,
bilinear, pixel shuffle and margin/likelihood losses of ``nn.functional`` (values and
gradients in float32 and float64, float64 gradchecks) and their modules (reprs,
parameters, state_dict keys)."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_fm as tg
from tinygrad_fm import Tensor, nn
from tinygrad_fm.nn import functional as F

from helpers import assert_gradcheck, float_arrays, nonzero_arrays, positive_arrays

torch = pytest.importorskip("torch")
TF = torch.nn.functional

SIGNS = np.array([1.0, -1.0, -1.0, 1.0, 1.0])  # +1/-1 labels for the embedding losses
CLASSES = np.array([2, 0, 3, 3, 1])
PROBS = np.random.default_rng(7).dirichlet(np.ones(4), size=5)  # kl_div targets, (5, 4)
MULTI_LABELS = (np.random.default_rng(12).random((5, 4)) > 0.5).astype(np.float64)
COUNTS = np.array([[0.0, 1, 2, 5], [3, 0, 1, 7], [1, 1, 0, 2], [4, 2, 9, 0], [0, 0, 1, 3]])


def _labels(module, array, dtype=None):
    """A label array for ``module`` (tinygrad_fm or torch), not requiring grad."""
    if module is torch:
        return torch.tensor(array if dtype is None else array.astype(dtype))
    return Tensor(array if dtype is None else array.astype(dtype))


# name -> (input shapes, function of (functional module, tensor module, dtype, *inputs)).
# Both frameworks run the same lambda: only the functional module differs.
CASES = {
    "softmin": ([(5, 4)], lambda f, m, d, x: f.softmin(x, dim=1)),
    "softmin_implicit_dim": ([(5, 4)], lambda f, m, d, x: f.softmin(x)),
    "glu": ([(5, 4)], lambda f, m, d, x: f.glu(x)),
    "glu_dim0": ([(4, 3)], lambda f, m, d, x: f.glu(x, 0)),
    "softsign": ([(5, 4)], lambda f, m, d, x: f.softsign(x)),
    "tanhshrink": ([(5, 4)], lambda f, m, d, x: f.tanhshrink(x)),
    "hardsigmoid": ([(5, 4)], lambda f, m, d, x: f.hardsigmoid(x * 3)),
    "selu": ([(5, 4)], lambda f, m, d, x: f.selu(x)),
    "celu": ([(5, 4)], lambda f, m, d, x: f.celu(x, alpha=0.7)),
    "threshold": ([(5, 4)], lambda f, m, d, x: f.threshold(x, 0.3, -2.0)),
    "hardshrink": ([(5, 4)], lambda f, m, d, x: f.hardshrink(x, 0.4)),
    "softshrink": ([(5, 4)], lambda f, m, d, x: f.softshrink(x)),
    "prelu_shared": ([(5, 4), (1,)], lambda f, m, d, x, w: f.prelu(x, w)),
    "prelu_channels": ([(2, 4, 3), (4,)], lambda f, m, d, x, w: f.prelu(x, w)),
    "rrelu_eval": ([(5, 4)], lambda f, m, d, x: f.rrelu(x, 0.1, 0.4)),
    "normalize": ([(5, 4)], lambda f, m, d, x: f.normalize(x)),
    "normalize_p1_dim0": ([(5, 4)], lambda f, m, d, x: f.normalize(x, p=1, dim=0)),
    "cosine_similarity": ([(5, 4), (5, 4)], lambda f, m, d, a, b: f.cosine_similarity(a, b)),
    "cosine_similarity_broadcast": ([(5, 4), (4,)],
                                    lambda f, m, d, a, b: f.cosine_similarity(a, b, dim=-1)),
    "pairwise_distance": ([(5, 4), (5, 4)], lambda f, m, d, a, b: f.pairwise_distance(a, b)),
    "pairwise_distance_p3_keepdim": (
        [(5, 4), (5, 4)], lambda f, m, d, a, b: f.pairwise_distance(a, b, 3, keepdim=True)),
    "kl_div_batchmean": ([(5, 4)], lambda f, m, d, x: f.kl_div(
        f.log_softmax(x, 1), _labels(m, PROBS, d), reduction="batchmean")),
    "kl_div_none_zero_target": ([(5, 4)], lambda f, m, d, x: f.kl_div(
        f.log_softmax(x, 1), _labels(m, PROBS * (PROBS > 0.2), d), reduction="none")),
    "kl_div_log_target_sum": ([(5, 4), (5, 4)], lambda f, m, d, x, t: f.kl_div(
        f.log_softmax(x, 1), f.log_softmax(t, 1), reduction="sum", log_target=True)),
    "kl_div_mean_target_grad": ([(5, 4), (5, 4)], lambda f, m, d, x, t: f.kl_div(
        f.log_softmax(x, 1), f.softmax(t, 1))),
    "instance_norm": ([(2, 3, 4, 5)], lambda f, m, d, x: f.instance_norm(x)),
    "instance_norm_affine_1d": ([(2, 3, 6), (3,), (3,)], lambda f, m, d, x, w, b:
                                f.instance_norm(x, weight=w, bias=b, eps=1e-3)),
    "bilinear": ([(5, 3), (5, 2), (4, 3, 2), (4,)],
                 lambda f, m, d, a, b, w, bias: f.bilinear(a, b, w, bias)),
    "bilinear_batched_no_bias": ([(2, 5, 3), (2, 5, 2), (4, 3, 2)],
                                 lambda f, m, d, a, b, w: f.bilinear(a, b, w)),
    "pixel_shuffle": ([(2, 8, 3, 2)], lambda f, m, d, x: f.pixel_shuffle(x, 2)),
    "pixel_unshuffle": ([(1, 2, 6, 3)], lambda f, m, d, x: f.pixel_unshuffle(x, 3)),
    "soft_margin_loss": ([(5,)], lambda f, m, d, x: f.soft_margin_loss(
        x, _labels(m, SIGNS, d))),
    "margin_ranking_loss": ([(5,), (5,)], lambda f, m, d, a, b: f.margin_ranking_loss(
        a, b, _labels(m, SIGNS, d), margin=0.2)),
    "triplet_margin_loss": ([(5, 4), (5, 4), (5, 4)], lambda f, m, d, a, p, n:
                            f.triplet_margin_loss(a, p, n, margin=2.0)),
    "triplet_margin_loss_swap_p1": ([(5, 4), (5, 4), (5, 4)], lambda f, m, d, a, p, n:
                                    f.triplet_margin_loss(a, p, n, margin=2.0, p=1,
                                                          swap=True, reduction="none")),
    "poisson_nll_loss": ([(5, 4)], lambda f, m, d, x: f.poisson_nll_loss(
        x, _labels(m, COUNTS, d))),
    "poisson_nll_loss_rates_full": ([(5, 4)], lambda f, m, d, x: f.poisson_nll_loss(
        x * x + 0.5, _labels(m, COUNTS, d), log_input=False, full=True, reduction="sum")),
    "gaussian_nll_loss": ([(5, 4), (5, 4), (5, 4)], lambda f, m, d, x, t, v:
                          f.gaussian_nll_loss(x, t, v * v + 0.1)),
    "gaussian_nll_loss_shared_var_full": ([(5, 4), (5, 4), (5,)], lambda f, m, d, x, t, v:
                                          f.gaussian_nll_loss(x, t, v * v + 0.1, full=True,
                                                              reduction="none")),
    "gaussian_nll_loss_clamped_var": ([(5, 4), (5, 4), (5, 1)], lambda f, m, d, x, t, v:
                                      f.gaussian_nll_loss(x, t, v * v * 1e-3, eps=1e-3,
                                                          reduction="sum")),
    "cosine_embedding_loss": ([(5, 4), (5, 4)], lambda f, m, d, a, b: f.cosine_embedding_loss(
        a, b, _labels(m, SIGNS, d), margin=-0.3)),
    "hinge_embedding_loss": ([(5,)], lambda f, m, d, x: f.hinge_embedding_loss(
        x, _labels(m, SIGNS, d), margin=0.5, reduction="sum")),
    "multi_margin_loss": ([(5, 4)], lambda f, m, d, x: f.multi_margin_loss(
        x, _labels(m, CLASSES))),
    "multi_margin_loss_p2_weight": ([(5, 4)], lambda f, m, d, x: f.multi_margin_loss(
        x, _labels(m, CLASSES), p=2, margin=0.7,
        weight=_labels(m, np.array([1.0, 2.0, 0.5, 3.0]), d), reduction="none")),
    "multilabel_soft_margin_loss": ([(5, 4)], lambda f, m, d, x: f.multilabel_soft_margin_loss(
        x, _labels(m, MULTI_LABELS, d))),
    "multilabel_soft_margin_loss_weight": ([(5, 4)], lambda f, m, d, x:
                                           f.multilabel_soft_margin_loss(
                                               x, _labels(m, MULTI_LABELS, d),
                                               weight=_labels(m, np.array([1.0, 2, 3, 4]), d),
                                               reduction="none")),
    "multi_margin_loss_unbatched": ([(4,)], lambda f, m, d, x: f.multi_margin_loss(
        x, _labels(m, np.array(2)))),
}


# PyTorch's celu and hardsigmoid kernels use float32 constants (1/alpha, 1/6) even in
# float64, which puts them off the exact values in the 8th digit: compared loosely.
LOOSE_FLOAT64 = {"celu": 1e-7, "hardsigmoid": 1e-7}


def _inputs(shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=shape) for shape in shapes]


def _run(framework, name, arrays, dtype):
    shapes, fn = CASES[name]
    if framework == "torch":
        tensors = [torch.tensor(a.astype(dtype), requires_grad=True) for a in arrays]
        out = fn(TF, torch, dtype, *tensors)
    else:
        tensors = [Tensor(a.astype(dtype), requires_grad=True) for a in arrays]
        out = fn(F, tg, dtype, *tensors)
    return tensors, out


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.filterwarnings("ignore:Implicit dimension", "ignore:.*batchmean")
def test_functional_matches_torch(name, dtype):
    arrays = _inputs(CASES[name][0])
    ours_in, ours = _run("ours", name, arrays, dtype)
    theirs_in, theirs = _run("torch", name, arrays, dtype)
    assert ours.dtype == dtype and ours.shape == tuple(theirs.shape)
    rtol, atol = (LOOSE_FLOAT64.get(name, 1e-10), 1e-12) if dtype == np.float64 else \
        (3e-5, 3e-6)
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=rtol, atol=atol)
    upstream = np.random.default_rng(1).random(ours.shape).astype(dtype)
    ours.backward(Tensor(upstream))
    theirs.backward(torch.from_numpy(upstream))
    for ours_t, theirs_t in zip(ours_in, theirs_in):
        assert ours_t.grad.dtype == dtype
        np.testing.assert_allclose(ours_t.grad.data, theirs_t.grad.numpy(), rtol=rtol,
                                   atol=atol)


# Kinks (relu-like corners, hinge margins) make finite differences unreliable; these
# cases are smooth at the drawn inputs.
SMOOTH = sorted(set(CASES) - {"threshold", "hardsigmoid", "hardshrink", "softshrink", "prelu_shared", "prelu_channels",
                              "rrelu_eval", "margin_ranking_loss", "triplet_margin_loss",
                              "triplet_margin_loss_swap_p1", "hinge_embedding_loss",
                              "multi_margin_loss", "multi_margin_loss_p2_weight",
                              "multi_margin_loss_unbatched", "cosine_embedding_loss",
                              "pairwise_distance_p3_keepdim", "normalize_p1_dim0",
                              "gaussian_nll_loss_clamped_var"})


@pytest.mark.parametrize("name", SMOOTH)
@pytest.mark.filterwarnings("ignore:Implicit dimension", "ignore:.*batchmean")
def test_functional_gradcheck(name):
    shapes, fn = CASES[name]
    assert_gradcheck(lambda *xs: fn(F, tg, np.float64, *xs), *_inputs(shapes, seed=3))


@settings(max_examples=25, deadline=None)
@given(x=nonzero_arrays((3, 4)), alpha=st.floats(0.2, 3.0))
def test_celu_selu_softsign_gradcheck_anywhere(x, alpha):
    assert_gradcheck(lambda t: F.celu(t, alpha) + F.selu(t) + F.softsign(t), x)


@settings(max_examples=25, deadline=None)
@given(a=float_arrays((3, 4), -3.0, -0.3), b=positive_arrays((3, 4)))
def test_cosine_similarity_and_distance_gradcheck(a, b):
    assert_gradcheck(lambda x, y: F.cosine_similarity(x, y) + F.pairwise_distance(x, y), a,
                     b)


def test_deprecated_forms_warn_as_torch_does():
    x = Tensor(np.ones((2, 3)))
    with pytest.warns(UserWarning, match="Implicit dimension"):
        F.softmin(x)
    with pytest.warns(UserWarning, match="batchmean"):
        F.kl_div(x.log_softmax(1), x.softmax(1))


def test_rrelu_training_draws_from_the_framework_generator():
    x = Tensor(np.linspace(-3, 3, 40).reshape(5, 8).astype(np.float32), requires_grad=True)
    tg.manual_seed(4)
    first = F.rrelu(x, 0.1, 0.3, training=True)
    tg.manual_seed(4)
    again = F.rrelu(x, 0.1, 0.3, training=True)
    np.testing.assert_array_equal(first.data, again.data)
    negative = x.data < 0
    slopes = first.data[negative] / x.data[negative]
    assert np.all((slopes >= 0.1) & (slopes <= 0.3)) and len(np.unique(slopes)) > 5
    np.testing.assert_array_equal(first.data[~negative], x.data[~negative])
    first.sum().backward()
    np.testing.assert_allclose(x.grad.data[negative], slopes, rtol=1e-6)
    assert first.dtype == np.float32


def test_instance_norm_running_stats_match_torch():
    x = np.random.default_rng(2).normal(size=(3, 2, 5)).astype(np.float32)
    ours_mean, ours_var = Tensor(np.zeros(2, np.float32)), Tensor(np.ones(2, np.float32))
    theirs_mean, theirs_var = torch.zeros(2), torch.ones(2)
    ours = F.instance_norm(Tensor(x), ours_mean, ours_var, momentum=0.3)
    theirs = TF.instance_norm(torch.tensor(x), theirs_mean, theirs_var, momentum=0.3)
    np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours_mean.data, theirs_mean.numpy(), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(ours_var.data, theirs_var.numpy(), rtol=1e-5)
    evaluated = F.instance_norm(Tensor(x), ours_mean, ours_var, use_input_stats=False)
    expected = TF.instance_norm(torch.tensor(x), theirs_mean, theirs_var,
                                use_input_stats=False)
    np.testing.assert_allclose(evaluated.data, expected.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("call, message", [
    (lambda: F.glu(Tensor(np.ones((2, 3)))), "halving dimension must be even"),
    (lambda: F.celu(Tensor(np.ones(2)), alpha=0), "alpha must not be 0"),
    (lambda: F.prelu(Tensor(np.ones((2, 3))), nn.Parameter(np.ones(2))), "one per channel"),
    (lambda: F.kl_div(Tensor(np.ones(2)), np.ones(2), reduction="avg"), "reduction must be"),
    (lambda: F.cosine_similarity(Tensor(np.ones((2, 3))), Tensor(np.ones((4, 3)))),
     "do not broadcast"),
    (lambda: F.pixel_shuffle(Tensor(np.ones((1, 3, 2, 2))), 2), "divisible"),
    (lambda: F.pixel_unshuffle(Tensor(np.ones((1, 3, 3, 2))), 2), "divisible"),
    (lambda: F.bilinear(Tensor(np.ones((2, 3))), Tensor(np.ones((2, 2))),
                        Tensor(np.ones((4, 2, 2)))), "do not fit weight"),
    (lambda: F.gaussian_nll_loss(Tensor(np.ones((2, 3))), np.ones((2, 3)), -np.ones((2, 3))),
     "negative"),
    (lambda: F.gaussian_nll_loss(Tensor(np.ones((2, 3))), np.ones((2, 3)), np.ones((3, 2))),
     "does not fit"),
    (lambda: F.multi_margin_loss(Tensor(np.ones((2, 3))), np.array([0, 1]), p=3),
     "p == 1 and p == 2"),
    (lambda: F.multi_margin_loss(Tensor(np.ones((2, 3))), np.array([0, 3])), "outside"),
    (lambda: F.triplet_margin_loss(Tensor(np.ones((2, 3))), Tensor(np.ones(3)),
                                   Tensor(np.ones((2, 3)))), "all 2-D"),
    (lambda: F.instance_norm(Tensor(np.ones((2, 3)))), "spatial axis"),
    (lambda: F.rrelu(Tensor(np.ones(2)), 0.5, 0.1), "must not exceed"),
    (lambda: nn.Softmax2d()(Tensor(np.ones((2, 3)))), "expected a 3-D"),
    (lambda: nn.TripletMarginLoss(margin=0), "greater than 0"),
])
def test_bad_arguments_name_the_problem(call, message):
    with pytest.raises((ValueError, TypeError, IndexError), match=message):
        call()


def test_no_silent_promotion():
    x = Tensor(np.ones((2, 3), np.float32))
    with pytest.raises(TypeError, match="same dtype"):
        F.cosine_similarity(x, Tensor(np.ones((2, 3))))
    with pytest.raises(TypeError, match="same dtype"):
        F.prelu(x, nn.Parameter(np.ones(1)))
    assert F.kl_div(x.log_softmax(1), np.full((2, 3), 1 / 3), reduction="sum").dtype == \
        np.float32


# --------------------------------------------------------------------------- modules

# name -> (our module, torch's module, input shapes)
MODULES = {
    "Hardsigmoid": (lambda n: n.Hardsigmoid(), [(3, 4)]),
    "SELU": (lambda n: n.SELU(), [(3, 4)]),
    "CELU": (lambda n: n.CELU(0.5), [(3, 4)]),
    "Threshold": (lambda n: n.Threshold(0.1, 20.0), [(3, 4)]),
    "Hardshrink": (lambda n: n.Hardshrink(), [(3, 4)]),
    "Softshrink": (lambda n: n.Softshrink(0.3), [(3, 4)]),
    "RReLU": (lambda n: n.RReLU(0.1, 0.3).eval(), [(3, 4)]),
    "PReLU": (lambda n: n.PReLU(4, init=0.1), [(3, 4, 2)]),
    "Softsign": (lambda n: n.Softsign(), [(3, 4)]),
    "Tanhshrink": (lambda n: n.Tanhshrink(), [(3, 4)]),
    "Softmin": (lambda n: n.Softmin(dim=1), [(3, 4)]),
    "Softmax2d": (lambda n: n.Softmax2d(), [(2, 3, 2, 2)]),
    "GLU": (lambda n: n.GLU(dim=1), [(3, 4)]),
    "Unflatten": (lambda n: n.Unflatten(1, (2, 3)), [(4, 6)]),
    "PixelShuffle": (lambda n: n.PixelShuffle(2), [(1, 8, 2, 3)]),
    "PixelUnshuffle": (lambda n: n.PixelUnshuffle(2), [(1, 2, 4, 6)]),
    "CosineSimilarity": (lambda n: n.CosineSimilarity(dim=0, eps=1e-6), [(3, 4), (3, 4)]),
    "PairwiseDistance": (lambda n: n.PairwiseDistance(p=1.5, keepdim=True), [(3, 4), (3, 4)]),
    "Bilinear": (lambda n: n.Bilinear(4, 3, 5), [(2, 4), (2, 3)]),
    "Bilinear_no_bias": (lambda n: n.Bilinear(4, 3, 5, bias=False), [(2, 4), (2, 3)]),
    "KLDivLoss": (lambda n: n.KLDivLoss(reduction="batchmean", log_target=True),
                  [(3, 4), (3, 4)]),
    "TripletMarginLoss": (lambda n: n.TripletMarginLoss(margin=3.0, swap=True),
                          [(3, 4), (3, 4), (3, 4)]),
    "GaussianNLLLoss": (lambda n: n.GaussianNLLLoss(full=True), [(3, 4), (3, 4)]),
    "PoissonNLLLoss": (lambda n: n.PoissonNLLLoss(reduction="sum"), [(3, 4), (3, 4)]),
}


def _module_inputs(name, module, shapes, arrays):
    if name == "GaussianNLLLoss":
        arrays = arrays + [arrays[1] ** 2 + 0.5]
    if name == "PoissonNLLLoss":
        arrays = [arrays[0], np.abs(arrays[1]).round()]
    return [module.tensor(a, requires_grad=True) if module is torch else
            Tensor(a, requires_grad=True) for a in arrays]


@pytest.mark.parametrize("name", sorted(MODULES))
def test_module_matches_torch(name):
    build, shapes = MODULES[name]
    ours, theirs = build(nn), build(torch.nn)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for key, value in theirs.state_dict().items():
        ours.state_dict()[key].data[...] = value.numpy()  # the same weights
    arrays = [a.astype(np.float32) for a in _inputs(shapes, seed=5)]
    ours_in = _module_inputs(name, tg, shapes, arrays)
    theirs_in = _module_inputs(name, torch, shapes, arrays)
    ours_out, theirs_out = ours(*ours_in), theirs(*theirs_in)
    np.testing.assert_allclose(ours_out.data, theirs_out.detach().numpy(), rtol=2e-5,
                               atol=2e-6)
    ours_out.sum().backward()
    theirs_out.sum().backward()
    for (key, param), (_, expected) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert param.dtype == np.float32
        np.testing.assert_allclose(param.grad.data, expected.grad.numpy(), rtol=2e-5,
                                   atol=2e-6, err_msg=key)
    for ours_t, theirs_t in zip(ours_in, theirs_in):
        np.testing.assert_allclose(ours_t.grad.data, theirs_t.grad.numpy(), rtol=2e-5,
                                   atol=2e-6)


LOSS_MODULES = {
    "MultiLabelSoftMarginLoss": (lambda n: n.MultiLabelSoftMarginLoss(reduction="sum"),
                                 [(5, 4)], MULTI_LABELS),
    "SoftMarginLoss": (lambda n: n.SoftMarginLoss(reduction="sum"), [(5,)], SIGNS),
    "MarginRankingLoss": (lambda n: n.MarginRankingLoss(0.1), [(5,), (5,)], SIGNS),
    "HingeEmbeddingLoss": (lambda n: n.HingeEmbeddingLoss(2.0, reduction="none"), [(5,)],
                           SIGNS),
    "CosineEmbeddingLoss": (lambda n: n.CosineEmbeddingLoss(0.1), [(5, 4), (5, 4)], SIGNS),
    "MultiMarginLoss": (lambda n: n.MultiMarginLoss(
        p=2, weight=(torch.tensor if n is torch.nn else Tensor)(
            np.array([1.0, 2, 3, 4], np.float32))), [(5, 4)], CLASSES),
}


@pytest.mark.parametrize("name", sorted(LOSS_MODULES))
def test_labelled_loss_module_matches_torch(name):
    build, shapes, labels = LOSS_MODULES[name]
    ours, theirs = build(nn), build(torch.nn)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    arrays = [a.astype(np.float32) for a in _inputs(shapes, seed=6)]
    labels = labels.astype(np.float32) if labels.dtype.kind == "f" else labels
    ours_in = [Tensor(a, requires_grad=True) for a in arrays]
    theirs_in = [torch.tensor(a, requires_grad=True) for a in arrays]
    ours_out = ours(*ours_in, Tensor(labels))
    theirs_out = theirs(*theirs_in, torch.tensor(labels))
    np.testing.assert_allclose(ours_out.data, theirs_out.detach().numpy(), rtol=2e-5,
                               atol=2e-6)
    ours_out.sum().backward()
    theirs_out.sum().backward()
    for ours_t, theirs_t in zip(ours_in, theirs_in):
        np.testing.assert_allclose(ours_t.grad.data, theirs_t.grad.numpy(), rtol=2e-5,
                                   atol=2e-6)


def test_inplace_flags_print_as_in_torch():
    for build in (lambda n: n.SELU(inplace=True), lambda n: n.CELU(2.0, inplace=True),
                  lambda n: n.Hardsigmoid(inplace=True), lambda n: n.RReLU(inplace=True),
                  lambda n: n.Threshold(1, 2, True)):
        assert repr(build(nn)) == repr(build(torch.nn))


def test_legacy_size_average_and_reduce_flags():
    assert nn.MarginRankingLoss(size_average=False).reduction == "sum"
    assert nn.KLDivLoss(reduce=False).reduction == "none"
    assert nn.SoftMarginLoss(None, None, "sum").reduction == "sum"


def test_prelu_learns_one_slope_per_channel():
    module = nn.PReLU(3)
    x = Tensor(-np.ones((2, 3, 4), np.float32))
    module(x).sum().backward()
    np.testing.assert_allclose(module.weight.grad.data, [-8.0, -8.0, -8.0])
    assert [name for name, _ in module.named_parameters()] == ["weight"]


# --------------------------------------------------------------------------- hooks and containers


def _hooked_pair():
    """The same small model in both frameworks, with the same weights."""
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    ours = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    return ours, theirs


def test_forward_hooks_follow_torch_return_value_rules():
    x = np.random.default_rng(8).normal(size=(5, 3)).astype(np.float32)
    results = []
    ours_model, theirs_model = _hooked_pair()
    for framework, model in (("ours", ours_model), ("torch", theirs_model)):
        seen = []

        def record(module, args, output):
            seen.append((type(module).__name__, len(args)))

        def double_input(module, args):
            return args[0] * 2  # not a tuple: wrapped into one

        def shift_output(module, args, output):
            return output + 1

        def replace_kwargs(module, args, kwargs):
            return (args[0] - 1,), kwargs

        handles = [model[0].register_forward_pre_hook(double_input),
                   model[0].register_forward_hook(record),
                   model[2].register_forward_hook(shift_output),
                   model[2].register_forward_pre_hook(replace_kwargs, with_kwargs=True),
                   model[2].register_forward_hook(record, prepend=True)]
        tensor = Tensor(x) if framework == "ours" else torch.tensor(x)
        hooked = model(tensor)
        for handle in handles:
            handle.remove()
        handles[0].remove()  # removing twice is harmless
        plain = model(tensor)
        results.append((np.asarray(hooked.detach().numpy() if framework == "torch"
                                   else hooked.data),
                        np.asarray(plain.detach().numpy() if framework == "torch"
                                   else plain.data), seen))
    (ours_hooked, ours_plain, ours_seen), (theirs_hooked, theirs_plain, theirs_seen) = results
    np.testing.assert_allclose(ours_hooked, theirs_hooked, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours_plain, theirs_plain, rtol=1e-5, atol=1e-6)
    assert ours_seen == theirs_seen == [("Linear", 1), ("Linear", 1)]
    assert not np.allclose(ours_hooked, ours_plain)


def test_hook_handle_as_context_manager_and_bad_hook():
    module = nn.Identity()
    calls = []
    with module.register_forward_hook(lambda m, a, out: calls.append(out)):
        module(Tensor(np.ones(1)))
    module(Tensor(np.ones(1)))
    assert len(calls) == 1
    with pytest.raises(TypeError, match="callable"):
        module.register_forward_pre_hook("not a function")


def test_always_call_forward_hook_runs_when_forward_raises():
    class Failing(nn.Module):
        def forward(self, x):
            raise ArithmeticError("no")

    for framework, module in (("ours", Failing()), ("torch", None)):
        if framework == "torch":
            class TorchFailing(torch.nn.Module):
                def forward(self, x):
                    raise ArithmeticError("no")
            module = TorchFailing()
        calls = []
        module.register_forward_hook(lambda m, a, out: calls.append(("always", out)),
                                     always_call=True)
        module.register_forward_hook(lambda m, a, out: calls.append(("plain", out)))
        with pytest.raises(ArithmeticError):
            module(1.0)
        assert calls == [("always", None)], framework


def test_forward_hook_sees_the_graph_for_backward():
    module = nn.Linear(2, 2)
    module.register_forward_hook(lambda m, a, out: out * 3)
    x = Tensor(np.ones((1, 2), np.float32), requires_grad=True)
    module(x).sum().backward()
    np.testing.assert_allclose(x.grad.data, 3 * module.weight.data.sum(0, keepdims=True),
                               rtol=1e-6)


def _to_numpy(grads):
    return [None if g is None else (g.detach().numpy() if isinstance(g, torch.Tensor)
                                    else g.numpy()) for g in grads]


@pytest.mark.parametrize("input_requires_grad", [True, False])
@pytest.mark.filterwarnings("ignore:Full backward hook is firing")  # torch's note
def test_full_backward_hooks_see_and_replace_gradients_as_in_torch(input_requires_grad):
    x = np.random.default_rng(10).normal(size=(5, 3)).astype(np.float32)
    ours_model, theirs_model = _hooked_pair()
    logs = []
    for model, tensor in ((ours_model, Tensor(x, requires_grad=input_requires_grad)),
                          (theirs_model, torch.tensor(x, requires_grad=input_requires_grad))):
        log = []

        def record(module, grad_input, grad_output, log=log):
            log.append((type(module).__name__, _to_numpy(grad_input), _to_numpy(grad_output)))

        def halve_input_grad(module, grad_input, grad_output):
            return tuple(g * 0.5 for g in grad_input)

        def double_output_grad(module, grad_output):
            return (grad_output[0] * 2,)

        model[0].register_full_backward_hook(record)
        model[1].register_full_backward_hook(halve_input_grad)
        model[1].register_full_backward_hook(record)
        model[2].register_full_backward_pre_hook(double_output_grad)
        model[2].register_full_backward_hook(record)
        (model(tensor) ** 2).sum().backward()
        log.append(("weight", _to_numpy([model[0].weight.grad]), []))
        logs.append(log)
    ours_log, theirs_log = logs
    assert [entry[0] for entry in ours_log] == [entry[0] for entry in theirs_log] == [
        "Linear", "Tanh", "Linear", "weight"]
    for (name, ours_in, ours_out), (_, theirs_in, theirs_out) in zip(ours_log, theirs_log):
        for ours_grad, theirs_grad in zip(ours_in + ours_out, theirs_in + theirs_out):
            if theirs_grad is None:
                assert ours_grad is None, name
            else:
                np.testing.assert_allclose(ours_grad, theirs_grad, rtol=1e-5, atol=1e-6,
                                           err_msg=name)


def test_full_backward_hooks_in_a_second_order_backward():
    module = nn.Tanh()
    seen = []
    module.register_full_backward_hook(lambda m, gi, go: seen.append(gi[0]))
    x = Tensor(np.array([0.3, -1.2]), requires_grad=True)
    (first,) = tg.autograd.grad(module(x).sum(), [x], create_graph=True)
    first.sum().backward()
    assert isinstance(seen[0], Tensor)
    np.testing.assert_allclose(first.data, 1 - np.tanh(x.data) ** 2)
    np.testing.assert_allclose(x.grad.data, -2 * np.tanh(x.data) * (1 - np.tanh(x.data) ** 2))


def test_full_backward_hook_limits_are_clear():
    module = nn.Bilinear(2, 2, 1)
    module.register_full_backward_hook(lambda m, gi, go: (gi[0] * 2, gi[1]))
    a = Tensor(np.ones((1, 2), np.float32), requires_grad=True)
    b = Tensor(np.ones((1, 2), np.float32), requires_grad=True)
    with pytest.raises(NotImplementedError, match="several inputs"):
        module(a, b).sum().backward()
    recurrent = nn.GRU(2, 2)
    recurrent.register_full_backward_hook(lambda m, gi, go: None)
    with pytest.raises(NotImplementedError, match="return one Tensor"):
        recurrent(Tensor(np.ones((1, 2), np.float32), requires_grad=True))


def test_get_submodule_parameter_and_buffer():
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    assert model.get_submodule("") is model
    assert model.get_submodule("1") is model[1]
    assert model.get_parameter("0.weight") is model[0].weight
    assert model.get_buffer("1.running_mean") is model[1].running_mean
    with pytest.raises(AttributeError, match="has no attribute `2`"):
        model.get_submodule("2")
    with pytest.raises(AttributeError, match="has no attribute `scale`"):
        model.get_parameter("0.scale")
    with pytest.raises(AttributeError, match="not an nn.Parameter"):
        model.get_parameter("1.running_mean")
    with pytest.raises(AttributeError, match="not a buffer"):
        model.get_buffer("0.weight")
    with pytest.raises(AttributeError, match="not an nn.Module"):
        model.get_submodule("0.weight")


def _torch_free_repr(module) -> str:
    return repr(module).replace("torch.", "")


def test_parameter_list_registers_like_torch():
    arrays = [np.ones(2, np.float32), np.zeros((3, 4), np.float32)]
    ours = nn.ParameterList([nn.Parameter(arrays[0]), Tensor(arrays[1])])
    theirs = torch.nn.ParameterList([torch.nn.Parameter(torch.tensor(arrays[0])),
                                     torch.tensor(arrays[1])])
    ours.append(nn.Parameter(np.ones(1, np.float32)))
    theirs.append(torch.nn.Parameter(torch.ones(1)))
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["0", "1", "2"]
    assert _torch_free_repr(ours) == _torch_free_repr(theirs)
    assert all(isinstance(p, nn.Parameter) for p in ours) and len(ours) == 3
    assert [p.shape for p in ours[1:]] == [(3, 4), (1,)]
    assert ours[-1] is list(ours.parameters())[-1]
    holder = nn.Module()
    holder.weights = ours
    assert [name for name, _ in holder.named_parameters()] == ["weights.0", "weights.1",
                                                                "weights.2"]


def test_parameter_dict_registers_like_torch():
    ours = nn.ParameterDict({"scale": nn.Parameter(np.ones(2, np.float32))})
    theirs = torch.nn.ParameterDict({"scale": torch.nn.Parameter(torch.ones(2))})
    ours["shift"] = Tensor(np.zeros(3, np.float32))
    theirs["shift"] = torch.zeros(3)
    ours.update([("bias", nn.Parameter(np.ones(1, np.float32)))])
    theirs.update([("bias", torch.nn.Parameter(torch.ones(1)))])
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["scale", "shift", "bias"]
    assert _torch_free_repr(ours) == _torch_free_repr(theirs)
    assert isinstance(ours["shift"], nn.Parameter) and "bias" in ours
    assert ours.pop("scale").shape == (2,) and list(ours) == ["shift", "bias"]
    assert len(list(ours.parameters())) == 2 and ours.get("missing") is None
    with pytest.raises(KeyError, match="not in this ParameterDict"):
        ours["scale"]
    with pytest.raises(KeyError, match="already exists"):
        ours["keys"] = nn.Parameter(np.ones(1, np.float32))


# --------------------------------------------------------------------------- init and utils


def test_trunc_normal_stays_in_bounds_with_the_truncated_moments():
    weight = nn.Parameter(np.empty((200, 100), np.float32))
    tg.manual_seed(0)
    nn.init.trunc_normal_(weight, mean=0.5, std=2.0, a=-1.0, b=3.0)
    values = weight.data
    assert weight.dtype == np.float32 and values.min() >= -1.0 and values.max() <= 3.0
    reference = torch.empty(400_000, dtype=torch.float64)
    torch.manual_seed(0)
    torch.nn.init.trunc_normal_(reference, mean=0.5, std=2.0, a=-1.0, b=3.0)
    assert abs(values.mean() - reference.mean().item()) < 0.03
    assert abs(values.std() - reference.std().item()) < 0.03
    tg.manual_seed(0)
    again = nn.init.trunc_normal_(Tensor(np.empty((200, 100), np.float32)), 0.5, 2.0, -1.0,
                                  3.0)
    np.testing.assert_array_equal(again.data, values)
    with pytest.raises(ValueError, match="holds only"):
        nn.init.trunc_normal_(weight, a=10.0, b=11.0)


def test_eye_and_dirac_match_torch():
    ours, theirs = nn.Parameter(np.empty((3, 5), np.float32)), torch.empty(3, 5)
    nn.init.eye_(ours)
    torch.nn.init.eye_(theirs)
    np.testing.assert_array_equal(ours.data, theirs.numpy())
    for shape, groups in [((4, 2, 3), 1), ((6, 2, 3, 3), 2), ((2, 3, 1, 2, 3), 1)]:
        ours, theirs = nn.Parameter(np.ones(shape, np.float32)), torch.ones(shape)
        nn.init.dirac_(ours, groups)
        torch.nn.init.dirac_(theirs, groups)
        np.testing.assert_array_equal(ours.data, theirs.numpy())
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.init.dirac_(nn.Parameter(np.ones((3, 2, 3))), groups=2)


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (3, 2, 2)])
def test_orthogonal_gives_orthonormal_rows_or_columns(shape):
    weight = nn.Parameter(np.empty(shape, np.float64))
    nn.init.orthogonal_(weight, gain=2.0)
    flat = weight.data.reshape(shape[0], -1)
    gram = flat @ flat.T if flat.shape[0] <= flat.shape[1] else flat.T @ flat
    np.testing.assert_allclose(gram, 4.0 * np.eye(gram.shape[0]), atol=1e-12)
    with pytest.raises(ValueError, match="2 or more dimensions"):
        nn.init.orthogonal_(nn.Parameter(np.empty(3)))


def test_parameters_to_vector_and_back_match_torch():
    ours_model = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 1))
    theirs_model = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Linear(2, 1))
    theirs_model.load_state_dict({k: torch.tensor(v.data) for k, v in
                                  ours_model.state_dict().items()})
    ours = nn.utils.parameters_to_vector(ours_model.parameters())
    theirs = torch.nn.utils.parameters_to_vector(theirs_model.parameters())
    np.testing.assert_array_equal(ours.data, theirs.detach().numpy())
    (ours * ours).sum().backward()
    np.testing.assert_allclose(ours_model[0].weight.grad.data, 2 * ours_model[0].weight.data)
    held = ours_model[1].bias
    new = np.arange(ours.numel(), dtype=np.float32)
    nn.utils.vector_to_parameters(Tensor(new), ours_model.parameters())
    torch.nn.utils.vector_to_parameters(torch.tensor(new), theirs_model.parameters())
    for (name, param), expected in zip(ours_model.state_dict().items(),
                                       theirs_model.state_dict().values()):
        np.testing.assert_array_equal(param.data, expected.numpy(), err_msg=name)
    assert held is ours_model[1].bias and held.data[0] == new[-1]
    with pytest.raises(ValueError, match="needs shape"):
        nn.utils.vector_to_parameters(Tensor(new[:-1]), ours_model.parameters())


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_pad_sequence_matches_torch(batch_first, padding_side):
    rng = np.random.default_rng(9)
    arrays = [rng.normal(size=(n, 2)).astype(np.float32) for n in (3, 1, 4)]
    ours_in = [Tensor(a, requires_grad=True) for a in arrays]
    theirs_in = [torch.tensor(a, requires_grad=True) for a in arrays]
    ours = nn.utils.rnn.pad_sequence(ours_in, batch_first, -1.5, padding_side)
    theirs = torch.nn.utils.rnn.pad_sequence(theirs_in, batch_first, -1.5, padding_side)
    np.testing.assert_array_equal(ours.data, theirs.detach().numpy())
    weights = rng.normal(size=ours.shape).astype(np.float32)
    (ours * Tensor(weights)).sum().backward()
    (theirs * torch.tensor(weights)).sum().backward()
    for ours_t, theirs_t in zip(ours_in, theirs_in):
        np.testing.assert_allclose(ours_t.grad.data, theirs_t.grad.numpy())
    with pytest.raises(ValueError, match="trailing shape"):
        nn.utils.rnn.pad_sequence([Tensor(np.ones((2, 3))), Tensor(np.ones((2, 2)))])


@pytest.mark.parametrize("cls, shape", [("InstanceNorm1d", (2, 3, 5)), ("InstanceNorm1d", (3, 5)),
                                        ("InstanceNorm2d", (2, 3, 4, 2)),
                                        ("InstanceNorm2d", (3, 4, 2))])
@pytest.mark.parametrize("kwargs", [{}, dict(affine=True, track_running_stats=True,
                                             momentum=0.2)])
def test_instance_norm_modules_match_torch(cls, shape, kwargs):
    ours, theirs = getattr(nn, cls)(3, **kwargs), getattr(torch.nn, cls)(3, **kwargs)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    x = np.random.default_rng(11).normal(size=shape).astype(np.float32) * 2 + 1
    for mode in ("train", "eval", "train"):
        getattr(ours, mode)()
        getattr(theirs, mode)()
        ours_x, theirs_x = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        ours_out, theirs_out = ours(ours_x), theirs(theirs_x)
        np.testing.assert_allclose(ours_out.data, theirs_out.detach().numpy(), rtol=1e-4,
                                   atol=1e-5, err_msg=mode)
        (ours_out * ours_out).sum().backward()
        (theirs_out * theirs_out).sum().backward()
        np.testing.assert_allclose(ours_x.grad.data, theirs_x.grad.numpy(), rtol=1e-4,
                                   atol=1e-4, err_msg=mode)
    for key, value in theirs.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[key].data, value.numpy(), rtol=1e-5,
                                   atol=1e-6, err_msg=key)


@pytest.mark.filterwarnings("ignore:.*weight_norm")  # torch's deprecation note
@pytest.mark.parametrize("layer, shape, dim", [("Linear", (4, 3), 0), ("Linear", (4, 3), 1),
                                               ("Linear", (4, 3), None),
                                               ("Conv1d", (2, 3, 6), 0)])
def test_weight_norm_matches_torch(layer, shape, dim):
    args = (3, 2) if layer == "Linear" else (3, 2, 3)
    theirs = getattr(torch.nn, layer)(*args)
    ours = getattr(nn, layer)(*args)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    theirs = torch.nn.utils.weight_norm(theirs, dim=dim)
    ours = nn.utils.weight_norm(ours, dim=dim)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for key, value in theirs.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[key].data, value.numpy(), rtol=1e-6)
    x = np.random.default_rng(13).normal(size=shape).astype(np.float32)
    for _ in range(2):  # the weight follows g and v after an update
        ours_out, theirs_out = ours(Tensor(x)), theirs(torch.tensor(x))
        np.testing.assert_allclose(ours_out.data, theirs_out.detach().numpy(), rtol=1e-5,
                                   atol=1e-6)
        ours_out.sum().backward()
        theirs_out.sum().backward()
        for name in ("weight_g", "weight_v"):
            np.testing.assert_allclose(getattr(ours, name).grad.data,
                                       getattr(theirs, name).grad.numpy(), rtol=1e-4,
                                       atol=1e-5)
            getattr(ours, name).data *= 1.5
            with torch.no_grad():
                getattr(theirs, name).mul_(1.5)
    torch.nn.utils.remove_weight_norm(theirs)
    nn.utils.remove_weight_norm(ours)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    np.testing.assert_allclose(ours.weight.data, theirs.weight.detach().numpy(), rtol=1e-5)
    assert isinstance(ours.weight, nn.Parameter)
    with pytest.raises(ValueError, match="not found"):
        nn.utils.remove_weight_norm(ours)


def test_gumbel_softmax_samples_follow_the_softmax():
    logits = Tensor(np.log(np.array([[0.1, 0.6, 0.3]] * 4000, np.float32)))
    tg.manual_seed(0)
    soft = F.gumbel_softmax(logits, tau=0.5)
    assert soft.dtype == np.float32
    np.testing.assert_allclose(soft.data.sum(-1), 1, rtol=1e-5)
    tg.manual_seed(0)
    hard = F.gumbel_softmax(logits, tau=0.5, hard=True)
    assert set(np.unique(hard.data)) == {0.0, 1.0} and np.all(hard.data.sum(-1) == 1)
    np.testing.assert_array_equal(hard.data.argmax(-1), soft.data.argmax(-1))
    frequencies = hard.data.mean(0)
    np.testing.assert_allclose(frequencies, [0.1, 0.6, 0.3], atol=0.03)


def test_gumbel_softmax_hard_passes_the_soft_gradient():
    weights = np.random.default_rng(14).normal(size=(3, 5))
    grads = []
    for hard in (False, True):
        x = Tensor(np.random.default_rng(15).normal(size=(3, 5)), requires_grad=True)
        tg.manual_seed(2)
        (F.gumbel_softmax(x, tau=2.0, hard=hard, dim=1) * Tensor(weights)).sum().backward()
        grads.append(x.grad.data)
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-12)
    assert np.abs(grads[0]).max() > 0
    with pytest.raises(ValueError, match="tau must be positive"):
        F.gumbel_softmax(Tensor(np.ones(3)), tau=0)
