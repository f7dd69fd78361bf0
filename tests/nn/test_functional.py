"""nn.functional: activations, softmax, dropout, and the losses cross_entropy, nll, mse."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_fm as tg
from tinygrad_fm import Tensor
from tinygrad_fm.nn import functional as F

REDUCTIONS = ["mean", "sum", "none"]


def reference_cross_entropy(logits, distribution, reduction):
    """-sum(q * log softmax(z)) per sample in float64, written out directly."""
    logits = np.moveaxis(np.asarray(logits, np.float64), 1 if logits.ndim > 1 else 0, -1)
    distribution = np.moveaxis(distribution, 1 if distribution.ndim > 1 else 0, -1)
    log_probs = logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))
    losses = -(distribution * log_probs).sum(axis=-1)
    if reduction == "mean":
        return losses.mean()
    return losses.sum() if reduction == "sum" else losses


def onehot_along_class_axis(labels, num_classes, class_axis):
    return np.moveaxis(np.eye(num_classes)[labels], -1, class_axis)


logit_values = st.floats(-6, 6, allow_nan=False, width=64)


@st.composite
def logits_and_indices(draw):
    shape = draw(st.sampled_from(["N,C", "C", "N,C,d"]))
    num_classes = draw(st.integers(1, 5))
    batch = draw(st.integers(1, 4))
    full = {"N,C": (batch, num_classes), "C": (num_classes,),
            "N,C,d": (batch, num_classes, 2)}[shape]
    class_axis = 1 if len(full) > 1 else 0
    logits = draw(hnp.arrays(np.float64, full, elements=logit_values))
    target_shape = full[:class_axis] + full[class_axis + 1:]
    labels = draw(hnp.arrays(np.int64, target_shape,
                             elements=st.integers(0, num_classes - 1)))
    return logits, labels


@st.composite
def logits_and_probabilities(draw):
    batch, num_classes = draw(st.integers(1, 4)), draw(st.integers(1, 5))
    logits = draw(hnp.arrays(np.float64, (batch, num_classes), elements=logit_values))
    probabilities = draw(hnp.arrays(np.float64, (batch, num_classes),
                                    elements=st.floats(0, 1, width=64)))
    return logits, probabilities


# --------------------------------------------------------------------------- cross_entropy


@given(data=logits_and_indices(), reduction=st.sampled_from(REDUCTIONS),
       label_smoothing=st.sampled_from([0.0, 0.1, 0.5]))
def test_cross_entropy_with_indices_value_and_gradcheck(data, reduction, label_smoothing):
    logits, labels = data
    class_axis = 1 if logits.ndim > 1 else 0
    num_classes = logits.shape[class_axis]
    distribution = ((1 - label_smoothing) * onehot_along_class_axis(labels, num_classes,
                                                                     class_axis)
                    + label_smoothing / num_classes)
    loss = F.cross_entropy(Tensor(logits), labels, reduction=reduction,
                           label_smoothing=label_smoothing)
    np.testing.assert_allclose(loss.data, reference_cross_entropy(logits, distribution,
                                                                  reduction), rtol=1e-10,
                               atol=1e-12)
    assert tg.gradcheck(lambda z: F.cross_entropy(z, labels, reduction=reduction,
                                                        label_smoothing=label_smoothing),
                        [Tensor(logits, requires_grad=True)])


@given(data=logits_and_probabilities(), reduction=st.sampled_from(REDUCTIONS),
       label_smoothing=st.sampled_from([0.0, 0.2]))
def test_cross_entropy_with_probabilities_value_and_gradcheck(data, reduction,
                                                              label_smoothing):
    logits, probabilities = data
    num_classes = logits.shape[1]
    distribution = (1 - label_smoothing) * probabilities + label_smoothing / num_classes
    loss = F.cross_entropy(Tensor(logits), probabilities, reduction=reduction,
                           label_smoothing=label_smoothing)
    np.testing.assert_allclose(loss.data, reference_cross_entropy(logits, distribution,
                                                                  reduction), rtol=1e-10,
                               atol=1e-12)
    # Both the logits and the target probabilities get gradients.
    assert tg.gradcheck(lambda z, q: F.cross_entropy(z, q, reduction=reduction,
                                                           label_smoothing=label_smoothing),
                        [Tensor(logits, requires_grad=True),
                         Tensor(probabilities, requires_grad=True)])


def test_cross_entropy_mean_divides_by_the_batch_size_for_probabilities():
    logits = np.zeros((4, 2))
    probabilities = np.full((4, 2), 0.5)
    # Each sample: -(0.5 log 0.5 + 0.5 log 0.5) = log 2, so the mean is log 2 (not / 8).
    assert F.cross_entropy(Tensor(logits), probabilities).item() == pytest.approx(np.log(2))


@pytest.mark.parametrize("magnitude", [1e4, 1e30])
def test_cross_entropy_is_stable_at_extreme_logits(magnitude):
    logits = Tensor(np.array([[magnitude, -magnitude, 0.0], [-magnitude, magnitude, 5.0],
                              [0.0, 0.0, magnitude]], dtype=np.float32), requires_grad=True)
    labels = np.array([1, 1, 2])
    loss = F.cross_entropy(logits, labels)
    loss.backward()
    assert np.isfinite(loss.data) and np.isfinite(logits.grad.data).all()
    # Row 0 loses 2 * magnitude, rows 1 and 2 are certain and right: loss 0.
    assert loss.item() == pytest.approx(2 * magnitude / 3, rel=1e-6)
    expected = np.array([[1, -1, 0], [0, 0, 0], [0, 0, 0]]) / 3
    np.testing.assert_allclose(logits.grad.data, expected, atol=1e-7)


def test_cross_entropy_keeps_float32_with_int64_targets():
    rng = np.random.default_rng(0)
    logits = Tensor(rng.normal(size=(8, 5)).astype(np.float32), requires_grad=True)
    for target in (rng.integers(0, 5, 8).astype(np.int64), Tensor(rng.integers(0, 5, 8)),
                   rng.random((8, 5))):  # float64 probabilities must not promote either
        for reduction in REDUCTIONS:
            loss = F.cross_entropy(logits, target, reduction=reduction, label_smoothing=0.1)
            assert loss.dtype == np.float32
            loss.sum().backward()
            assert logits.grad.dtype == np.float32
            logits.grad = None


def test_cross_entropy_gradient_is_softmax_minus_onehot_over_n():
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(5, 3))
    labels = rng.integers(0, 3, 5)
    z = Tensor(logits, requires_grad=True)
    F.cross_entropy(z, labels).backward()
    softmax = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(z.grad.data, (softmax - np.eye(3)[labels]) / 5, rtol=1e-12)


def test_cross_entropy_none_scales_each_row_by_its_own_gradient():
    logits = np.zeros((2, 2))
    z = Tensor(logits, requires_grad=True)
    F.cross_entropy(z, np.array([0, 1]), reduction="none").backward(np.array([1.0, 3.0]))
    np.testing.assert_allclose(z.grad.data, [[-0.5, 0.5], [1.5, -1.5]])


def test_cross_entropy_output_shapes():
    assert F.cross_entropy(Tensor(np.zeros((4, 3))), np.zeros(4, int),
                           reduction="none").shape == (4,)
    assert F.cross_entropy(Tensor(np.zeros(3)), 2, reduction="none").shape == ()
    assert F.cross_entropy(Tensor(np.zeros((4, 3, 2))), np.zeros((4, 2), int),
                           reduction="none").shape == (4, 2)
    assert F.cross_entropy(Tensor(np.zeros((4, 3))), np.zeros(4, int)).shape == ()


def test_cross_entropy_bad_targets_are_clear_errors():
    logits = Tensor(np.zeros((3, 10), dtype=np.float32))
    with pytest.raises(ValueError, match=r"class index 12.*10 classes"):
        F.cross_entropy(logits, np.array([1, 12, 3]))
    with pytest.raises(ValueError, match=r"class index -1.*10 classes"):
        F.cross_entropy(logits, np.array([1, -1, 3]))
    with pytest.raises(ValueError, match=r"\(4,\).*\(3, 10\)"):
        F.cross_entropy(logits, np.array([1, 2, 3, 4]))
    with pytest.raises(ValueError, match=r"\(3, 9\).*\(3, 10\)"):
        F.cross_entropy(logits, np.zeros((3, 9), dtype=np.float32))
    with pytest.raises(TypeError, match="bool"):
        F.cross_entropy(logits, np.zeros(3, dtype=bool))
    with pytest.raises(ValueError, match="reduction"):
        F.cross_entropy(logits, np.zeros(3, int), reduction="avg")
    with pytest.raises(ValueError, match="label_smoothing"):
        F.cross_entropy(logits, np.zeros(3, int), label_smoothing=-0.1)
    with pytest.raises(TypeError, match="floating point"):
        F.cross_entropy(Tensor(np.zeros((3, 10), dtype=np.int64)), np.zeros(3, int))
    with pytest.raises(ValueError, match="class axis"):
        F.cross_entropy(Tensor(np.float32(1.0)), 0)


TORCH_CASES = [((6, 4), "indices"), ((6, 4), "probabilities"), ((5,), "indices"),
               ((3, 4, 2), "indices"), ((3, 4, 2), "probabilities")]


@pytest.mark.parametrize("shape,target_kind", TORCH_CASES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("label_smoothing", [0.0, 0.25])
def test_cross_entropy_matches_torch(shape, target_kind, reduction, label_smoothing):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    logits = (rng.normal(size=shape) * 4).astype(np.float32)
    class_axis = 1 if len(shape) > 1 else 0
    if target_kind == "indices":
        target = rng.integers(0, shape[class_axis], shape[:class_axis] + shape[class_axis + 1:])
    else:
        target = rng.dirichlet(np.ones(shape[class_axis]), shape[:class_axis]
                               + shape[class_axis + 1:]).astype(np.float32)
        target = np.moveaxis(target, -1, class_axis)
    ours_logits = Tensor(logits.copy(), requires_grad=True)
    ours = F.cross_entropy(ours_logits, target, reduction=reduction,
                           label_smoothing=label_smoothing)
    upstream = rng.random(ours.shape).astype(np.float32)
    ours.backward(upstream)
    theirs_logits = torch.tensor(logits, requires_grad=True)
    theirs = torch.nn.functional.cross_entropy(theirs_logits, torch.from_numpy(target),
                                               reduction=reduction,
                                               label_smoothing=label_smoothing)
    theirs.backward(torch.from_numpy(upstream))
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours_logits.grad.data, theirs_logits.grad.numpy(), rtol=1e-5,
                               atol=1e-7)


def _weighted_case(shape, seed, ignore_index, weighted, dtype=np.float32):
    """Logits, class indices with about a third of them ``ignore_index`` (the first one
    kept), and per-class weights or None."""
    rng = np.random.default_rng(seed)
    logits = (rng.normal(size=shape) * 3).astype(dtype)
    class_axis = 1 if len(shape) > 1 else 0
    target = rng.integers(0, shape[class_axis], shape[:class_axis] + shape[class_axis + 1:])
    if target.ndim:
        target[rng.random(target.shape) < 0.35] = ignore_index
        target.flat[0] = 0 if ignore_index == 1 else abs(target.flat[0]) % shape[class_axis]
    weight = rng.uniform(0.2, 2.0, shape[class_axis]).astype(dtype) if weighted else None
    return logits, target, weight


@pytest.mark.parametrize("shape", [(7, 4), (5,), (3, 4, 2)])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("label_smoothing", [0.0, 0.25])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ignore_index", [-100, 1])
def test_cross_entropy_weight_and_ignore_index_match_torch(shape, reduction, label_smoothing,
                                                           weighted, ignore_index):
    torch = pytest.importorskip("torch")
    logits, target, weight = _weighted_case(shape, 0, ignore_index, weighted)
    ours_logits = Tensor(logits.copy(), requires_grad=True)
    ours = F.cross_entropy(ours_logits, target, weight, ignore_index=ignore_index,
                           reduction=reduction, label_smoothing=label_smoothing)
    upstream = np.random.default_rng(1).random(ours.shape).astype(np.float32)
    ours.backward(upstream)
    theirs_logits = torch.tensor(logits, requires_grad=True)
    theirs = torch.nn.functional.cross_entropy(
        theirs_logits, torch.from_numpy(target),
        None if weight is None else torch.from_numpy(weight), ignore_index=ignore_index,
        reduction=reduction, label_smoothing=label_smoothing)
    theirs.backward(torch.from_numpy(upstream))
    assert ours.dtype == ours_logits.grad.dtype == np.float32
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours_logits.grad.data, theirs_logits.grad.numpy(), rtol=1e-5,
                               atol=1e-6)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("label_smoothing", [0.0, 0.3])
def test_cross_entropy_weighted_probabilities_match_torch(reduction, label_smoothing):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    logits = rng.normal(size=(5, 4)).astype(np.float32)
    target = rng.dirichlet(np.ones(4), 5).astype(np.float32)
    weight = rng.uniform(0.2, 2.0, 4).astype(np.float32)
    ours_logits, ours_target = (Tensor(a.copy(), requires_grad=True) for a in (logits, target))
    ours = F.cross_entropy(ours_logits, ours_target, weight, reduction=reduction,
                           label_smoothing=label_smoothing)
    ours.sum().backward()
    theirs_logits, theirs_target = (torch.tensor(a, requires_grad=True) for a in (logits, target))
    theirs = torch.nn.functional.cross_entropy(theirs_logits, theirs_target,
                                               torch.from_numpy(weight), reduction=reduction,
                                               label_smoothing=label_smoothing)
    theirs.sum().backward()
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-5, atol=1e-6)
    for a, b in ((ours_logits, theirs_logits), (ours_target, theirs_target)):
        np.testing.assert_allclose(a.grad.data, b.grad.numpy(), rtol=1e-5, atol=1e-6)


@given(seed=st.integers(0, 2**16), shape=st.sampled_from([(4, 3), (3, 3, 2), (3,)]),
       reduction=st.sampled_from(REDUCTIONS), label_smoothing=st.sampled_from([0.0, 0.2]),
       weighted=st.booleans(), ignore_index=st.sampled_from([-100, 1]))
def test_cross_entropy_and_nll_with_weight_and_ignore_index_gradcheck(
        seed, shape, reduction, label_smoothing, weighted, ignore_index):
    logits, target, weight = _weighted_case(shape, seed, ignore_index, weighted, np.float64)
    class_axis = 1 if len(shape) > 1 else 0
    if target.ndim == 0 and target == ignore_index:
        target = np.array(0)
    assert tg.gradcheck(lambda z: F.cross_entropy(z, target, weight, ignore_index=ignore_index,
                                                  reduction=reduction,
                                                  label_smoothing=label_smoothing),
                        [Tensor(logits, requires_grad=True)])
    assert tg.gradcheck(lambda z: F.nll_loss(z.log_softmax(class_axis), target, weight,
                                             ignore_index=ignore_index, reduction=reduction),
                        [Tensor(logits, requires_grad=True)])


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss_weight_and_ignore_index_match_torch(weighted, reduction):
    torch = pytest.importorskip("torch")
    logits, target, weight = _weighted_case((8, 5), 3, -100, weighted)
    log_probs = Tensor(logits, requires_grad=True).log_softmax(1)
    ours = F.nll_loss(log_probs, target, weight, reduction=reduction)
    theirs_log_probs = torch.tensor(logits).log_softmax(1).requires_grad_()
    theirs = torch.nn.functional.nll_loss(theirs_log_probs, torch.from_numpy(target),
                                          None if weight is None else torch.from_numpy(weight),
                                          reduction=reduction)
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-6, atol=1e-6)
    ours_leaf = Tensor(log_probs.data.copy(), requires_grad=True)
    F.nll_loss(ours_leaf, target, weight, reduction=reduction).sum().backward()
    theirs.sum().backward()
    np.testing.assert_allclose(ours_leaf.grad.data, theirs_log_probs.grad.numpy(), rtol=1e-6)


@pytest.mark.parametrize("kernels", [True, False])
def test_every_sample_ignored_gives_a_nan_mean_and_a_zero_gradient(kernels):
    """As PyTorch: 0 / 0 for the mean, 0 for the sum, and no gradient at all."""
    from tinygrad_fm.ops import compiled

    target = np.full(3, -100)
    with compiled.use(kernels):
        for loss_fn in (lambda z: F.cross_entropy(z, target),
                        lambda z: F.cross_entropy(z, target, np.ones(4, np.float32)),
                        lambda z: F.cross_entropy(z, target, label_smoothing=0.2),
                        lambda z: F.nll_loss(z.log_softmax(1), target)):
            z = Tensor(np.random.default_rng(0).normal(size=(3, 4)).astype(np.float32),
                       requires_grad=True)
            loss = loss_fn(z)
            assert np.isnan(loss.item())
            loss.backward()
            np.testing.assert_array_equal(z.grad.data, 0.0)
        assert F.cross_entropy(Tensor(np.zeros((3, 4))), target, reduction="sum").item() == 0.0


def test_cross_entropy_ignore_index_on_the_compiled_path_matches_numpy():
    pytest.importorskip("numba")
    from tinygrad_fm.ops import compiled

    logits, target, _ = _weighted_case((9, 6), 4, -100, False)
    results = []
    for kernels in (True, False):
        with compiled.use(kernels):
            z = Tensor(logits, requires_grad=True)
            loss = F.cross_entropy(z, target)
            loss.backward()
            results.append((loss.data, z.grad.data))
    for fast, reference in zip(*results):
        np.testing.assert_allclose(fast, reference, rtol=1e-6, atol=1e-7)
    assert (results[0][1][target == -100] == 0).all()


def test_cross_entropy_checks_weight_and_ignore_index():
    logits = Tensor(np.zeros((3, 4), dtype=np.float32))
    with pytest.raises(ValueError, match=r"class index 7.*ignore_index=-100"):
        F.cross_entropy(logits, np.array([0, 7, -100]))
    with pytest.raises(ValueError, match=r"class index -100.*ignore_index=1"):
        F.cross_entropy(logits, np.array([0, 1, -100]), ignore_index=1)
    with pytest.raises(ValueError, match=r"one value per class, shape \(4,\)"):
        F.cross_entropy(logits, np.array([0, 1, 2]), np.ones(3))
    with pytest.raises(TypeError, match="reduction='sum' by name"):
        F.cross_entropy(logits, np.array([0, 1, 2]), "sum")
    with pytest.raises(ValueError, match="class-index targets only"):
        F.cross_entropy(logits, np.full((3, 4), 0.25, np.float32), ignore_index=0)
    with pytest.raises(ValueError, match="class index 4"):
        F.nll_loss(logits, np.array([0, 4, 1]), ignore_index=0)


def test_legacy_size_average_and_reduce_select_the_reduction():
    rng = np.random.default_rng(5)
    logits = Tensor(rng.normal(size=(4, 3)).astype(np.float32))
    labels = rng.integers(0, 3, 4)
    for legacy, reduction in (({"size_average": False}, "sum"), ({"reduce": False}, "none"),
                              ({"size_average": True, "reduce": True}, "mean")):
        for fn in (F.cross_entropy, lambda x, y, **k: F.nll_loss(x.log_softmax(1), y, **k)):
            np.testing.assert_array_equal(fn(logits, labels, **legacy).data,
                                          fn(logits, labels, reduction=reduction).data)


def test_captured_step_follows_ignored_targets_and_checks_every_batch():
    """The op itself masks and checks the targets, so a replayed step sees each batch's
    ignored entries and refuses one out of range."""
    rng = np.random.default_rng(6)
    weight = Tensor(rng.normal(size=(5, 4)).astype(np.float32), requires_grad=True)

    @tg.jit
    def step(x, y):
        loss = F.cross_entropy(x @ weight, y, ignore_index=-1)
        loss.backward()
        return loss

    x = rng.normal(size=(6, 5)).astype(np.float32)
    batches = [rng.integers(-1, 4, 6) for _ in range(4)]
    for y in batches:
        y[0] = 2
        weight.grad = None
        captured = step(x, y).item(), weight.grad.data.copy()
        eager = F.cross_entropy(Tensor(x) @ weight, y, ignore_index=-1)
        weight.grad = None
        eager.backward()
        assert captured[0] == eager.item()
        np.testing.assert_array_equal(captured[1], weight.grad.data)
    assert step.captures == 1
    with pytest.raises(ValueError, match="class index 4"):
        step(x, np.array([0, 1, 4, 2, -1, 3]))


# --------------------------------------------------------------------------- nll_loss


@given(data=logits_and_indices(), reduction=st.sampled_from(REDUCTIONS))
def test_nll_loss_of_log_softmax_equals_cross_entropy(data, reduction):
    logits, labels = data
    class_axis = 1 if logits.ndim > 1 else 0
    log_probs = Tensor(logits).log_softmax(class_axis)
    np.testing.assert_allclose(F.nll_loss(log_probs, labels, reduction=reduction).data,
                               F.cross_entropy(Tensor(logits), labels, reduction=reduction).data,
                               rtol=1e-12, atol=1e-12)
    assert tg.gradcheck(lambda x: F.nll_loss(x, labels, reduction=reduction),
                        [Tensor(logits, requires_grad=True)])


def test_nll_loss_validates_its_target():
    with pytest.raises(ValueError, match="class index 3"):
        F.nll_loss(Tensor(np.zeros((2, 3))), np.array([0, 3]))
    with pytest.raises(TypeError, match="integer"):
        F.nll_loss(Tensor(np.zeros((2, 3))), np.array([0.0, 1.0]))


# --------------------------------------------------------------------------- mse_loss


@given(shape=hnp.array_shapes(min_dims=0, max_dims=3, max_side=3),
       reduction=st.sampled_from(REDUCTIONS), seed=st.integers(0, 2**16))
def test_mse_loss_value_and_gradcheck(shape, reduction, seed):
    rng = np.random.default_rng(seed)
    prediction, target = rng.normal(size=shape), rng.normal(size=shape)
    squared = (prediction - target) ** 2
    expected = {"mean": squared.mean(), "sum": squared.sum(), "none": squared}[reduction]
    np.testing.assert_allclose(F.mse_loss(Tensor(prediction), target, reduction).data,
                               expected, rtol=1e-12)
    assert tg.gradcheck(lambda p, t: F.mse_loss(p, t, reduction),
                        [Tensor(prediction, requires_grad=True),
                         Tensor(target, requires_grad=True)])


def test_mse_loss_keeps_float32_and_refuses_mismatched_shapes():
    prediction = Tensor(np.ones((4, 1), dtype=np.float32), requires_grad=True)
    loss = F.mse_loss(prediction, np.zeros((4, 1)))  # a float64 target must not promote
    assert loss.dtype == np.float32 and loss.item() == 1.0
    loss.backward()
    assert prediction.grad.dtype == np.float32
    np.testing.assert_allclose(prediction.grad.data, np.full((4, 1), 0.5))
    with pytest.raises(ValueError, match=r"\(4, 1\).*\(4,\)"):
        F.mse_loss(prediction, np.zeros(4))


def test_mse_loss_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    prediction, target = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    for reduction in REDUCTIONS:
        ours = F.mse_loss(Tensor(prediction), target, reduction).data
        theirs = torch.nn.functional.mse_loss(torch.from_numpy(prediction),
                                              torch.from_numpy(target), reduction=reduction)
        np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-12)


# --------------------------------------------------------------------------- the rest


def test_softmax_and_log_softmax_take_dim_like_pytorch():
    x = np.random.default_rng(3).normal(size=(3, 4))
    for dim in (0, 1, -1):
        expected = np.exp(x) / np.exp(x).sum(axis=dim, keepdims=True)
        np.testing.assert_allclose(F.softmax(Tensor(x), dim).data, expected, rtol=1e-12)
        np.testing.assert_allclose(F.log_softmax(Tensor(x), dim=dim).data, np.log(expected),
                                   rtol=1e-12)


def test_activations_accept_arrays_and_compute_their_formulas():
    x = np.array([-1.5, 0.0, 2.0])
    np.testing.assert_allclose(F.relu(x).data, [0.0, 0.0, 2.0])
    np.testing.assert_allclose(F.tanh(x).data, np.tanh(x))
    np.testing.assert_allclose(F.sigmoid(x).data, 1 / (1 + np.exp(-x)))
    np.testing.assert_allclose(F.leaky_relu(x, 0.1).data, [-0.15, 0.0, 2.0])


def test_one_hot_is_pytorchs():
    np.testing.assert_array_equal(F.one_hot(np.array([2, 0]), 3).data,
                                  [[0, 0, 1], [1, 0, 0]])
