"""Every differentiable op: forward values against NumPy and gradients against central
differences (gradcheck, float64), on shapes drawn by Hypothesis -- 0-d tensors, size-1
axes and broadcasting pairs included. Then random compositions of ops, float32
preservation, the non-differentiable ops, error messages, and PyTorch where available.
"""

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import tinygrad_fm as tg
from tinygrad_fm import Tensor, ops

import helpers as tst
from helpers import RecordGradDtype, assert_gradcheck


def assert_forward(fn, reference, *arrays):
    got = fn(*[Tensor(np.asarray(a, np.float64)) for a in arrays])
    expected = np.asarray(reference(*arrays))
    assert isinstance(got, Tensor)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got.data, expected, rtol=1e-10, atol=1e-12)


def numpy_axis(axis, ndim):
    """NumPy rejects axis 0 of a 0-d array, which reduces nothing here (and in PyTorch)."""
    return None if ndim == 0 else axis


def sigmoid_reference(x):
    return 1.0 / (1.0 + np.exp(-x))


def softplus_reference(x, beta=1.0, threshold=20.0):
    return np.where(beta * x > threshold, x, np.logaddexp(0.0, beta * x) / beta)


def log_softmax_reference(x, axis):
    x = np.asarray(x, np.float64)
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


# --------------------------------------------------------------------------- unary


@dataclass(frozen=True)
class Case:
    name: str
    op: Callable
    reference: Callable
    values: Callable  # shape -> strategy of float64 arrays in the op's smooth domain

    def __repr__(self):
        return self.name


def away(*points):
    return lambda shape: tst.arrays_away_from(shape, points)


UNARY = [
    Case("exp", lambda t: t.exp(), np.exp, tst.float_arrays),
    Case("log", lambda t: t.log(), np.log, tst.positive_arrays),
    Case("sqrt", lambda t: t.sqrt(), np.sqrt, tst.positive_arrays),
    Case("tanh", lambda t: t.tanh(), np.tanh, tst.float_arrays),
    Case("sigmoid", lambda t: t.sigmoid(), sigmoid_reference, tst.float_arrays),
    Case("relu", lambda t: t.relu(), lambda x: np.maximum(x, 0), away(0.0)),
    Case("leaky_relu", lambda t: t.leaky_relu(), lambda x: np.where(x > 0, x, 0.01 * x),
         away(0.0)),
    Case("leaky_relu_0.2", lambda t: t.leaky_relu(0.2),
         lambda x: np.where(x > 0, x, 0.2 * x), away(0.0)),
    Case("softplus", lambda t: t.softplus(), softplus_reference, tst.float_arrays),
    # beta * x crosses the threshold (linear region) at x = 1.5
    Case("softplus_beta_threshold", lambda t: t.softplus(beta=2.0, threshold=3.0),
         lambda x: softplus_reference(x, 2.0, 3.0), away(1.5)),
    Case("neg", lambda t: -t, np.negative, tst.float_arrays),
    Case("neg_method", lambda t: t.neg(), np.negative, tst.float_arrays),
    Case("abs", lambda t: abs(t), np.abs, away(0.0)),
    Case("square", lambda t: t ** 2, np.square, tst.float_arrays),
    Case("cube", lambda t: t ** 3, lambda x: x ** 3, tst.float_arrays),
    Case("pow_0.5", lambda t: t ** 0.5, np.sqrt, tst.positive_arrays),
    Case("pow_-1.5", lambda t: t ** -1.5, lambda x: x ** -1.5, tst.positive_arrays),
    Case("pow_np_float64", lambda t: t ** np.float64(1.5), lambda x: x ** 1.5,
         tst.positive_arrays),
    Case("rpow", lambda t: 2.0 ** t, lambda x: 2.0 ** x, tst.float_arrays),
    Case("clip", lambda t: t.clip(-1.0, 1.0), lambda x: np.clip(x, -1, 1), away(-1.0, 1.0)),
    Case("clip_min", lambda t: t.clip(min=0.5), lambda x: np.maximum(x, 0.5), away(0.5)),
    Case("clamp_max", lambda t: t.clamp(max=-0.5), lambda x: np.minimum(x, -0.5),
         away(-0.5)),
    Case("add_scalar", lambda t: t + 1.5, lambda x: x + 1.5, tst.float_arrays),
    Case("radd_scalar", lambda t: 2 + t, lambda x: 2 + x, tst.float_arrays),
    Case("sub_scalar", lambda t: t - 0.5, lambda x: x - 0.5, tst.float_arrays),
    Case("rsub_scalar", lambda t: 3.0 - t, lambda x: 3.0 - x, tst.float_arrays),
    Case("mul_scalar", lambda t: t * -2.5, lambda x: x * -2.5, tst.float_arrays),
    Case("rmul_scalar", lambda t: 0.5 * t, lambda x: 0.5 * x, tst.float_arrays),
    Case("div_scalar", lambda t: t / 4.0, lambda x: x / 4.0, tst.float_arrays),
    Case("rdiv_scalar", lambda t: 3.0 / t, lambda x: 3.0 / x, tst.nonzero_arrays),
    Case("maximum_scalar", lambda t: t.maximum(0.5), lambda x: np.maximum(x, 0.5),
         away(0.5)),
    Case("minimum_scalar", lambda t: tg.minimum(0.5, t), lambda x: np.minimum(x, 0.5),
         away(0.5)),
]


@pytest.mark.parametrize("case", UNARY, ids=repr)
@given(data=st.data())
def test_unary_op_matches_numpy_and_gradcheck(case, data):
    shape = data.draw(tst.shapes(), label="shape")
    x = data.draw(case.values(shape), label="x")
    assert_forward(case.op, case.reference, x)
    assert_gradcheck(case.op, x)


# --------------------------------------------------------------------------- binary


def float_pair(shape_a, shape_b):
    return st.tuples(tst.float_arrays(shape_a), tst.float_arrays(shape_b))


BINARY = [
    Case("add", lambda a, b: a + b, np.add, float_pair),
    Case("sub", lambda a, b: a - b, np.subtract, float_pair),
    Case("mul", lambda a, b: a * b, np.multiply, float_pair),
    Case("div", lambda a, b: a / b, np.divide,
         lambda sa, sb: st.tuples(tst.float_arrays(sa), tst.nonzero_arrays(sb))),
    Case("pow", lambda a, b: a ** b, np.power,
         lambda sa, sb: st.tuples(tst.positive_arrays(sa, 0.3, 3.0),
                                  tst.float_arrays(sb, -2.0, 2.0))),
    Case("maximum", lambda a, b: a.maximum(b), np.maximum, tst.separated_pair),
    Case("minimum", lambda a, b: tg.minimum(a, b), np.minimum, tst.separated_pair),
    Case("add_method", lambda a, b: a.add(b), np.add, float_pair),
    Case("sub_method", lambda a, b: a.sub(b), np.subtract, float_pair),
    Case("mul_method", lambda a, b: a.mul(b), np.multiply, float_pair),
    Case("div_method", lambda a, b: a.div(b), np.divide,
         lambda sa, sb: st.tuples(tst.float_arrays(sa), tst.nonzero_arrays(sb))),
]


@pytest.mark.parametrize("case", BINARY, ids=repr)
@given(data=st.data())
def test_binary_op_broadcasts_like_numpy_and_gradcheck(case, data):
    shape_a, shape_b = data.draw(tst.broadcastable_shapes(), label="shapes")
    a, b = data.draw(case.values(shape_a, shape_b), label="a, b")
    assert_forward(case.op, case.reference, a, b)
    assert_gradcheck(case.op, a, b)


@pytest.mark.parametrize("case", [c for c in BINARY if "method" not in c.name], ids=repr)
@given(data=st.data())
def test_binary_op_with_ndarray_or_scalar_on_either_side(case, data):
    shape_a, shape_b = data.draw(tst.broadcastable_shapes(), label="shapes")
    a, b = data.draw(case.values(shape_a, shape_b), label="a, b")
    tensor_side = data.draw(st.sampled_from(["left", "right"]), label="tensor side")
    kind = data.draw(st.sampled_from(["ndarray", "python scalar", "numpy scalar"]))
    if kind != "ndarray":
        a, b = (a, b.reshape(-1)[0]) if tensor_side == "left" else (a.reshape(-1)[0], b)
        b = float(b) if kind == "python scalar" and tensor_side == "left" else b
        a = float(a) if kind == "python scalar" and tensor_side == "right" else a
    if case.name in ("maximum", "minimum"):  # functions, not operators, take a constant
        op = (lambda x, y: getattr(tg, case.name)(x, y))
    else:
        op = case.op
    if tensor_side == "left":
        result = op(Tensor(a), b)
        assert_gradcheck(lambda t: op(t, b), a)
    else:
        result = op(a, Tensor(b))
        assert_gradcheck(lambda t: op(a, t), b)
    assert isinstance(result, Tensor)
    np.testing.assert_allclose(result.data, case.reference(a, b), rtol=1e-10, atol=1e-12)


@given(shapes=tst.broadcastable_shapes(3), data=st.data())
def test_where_selects_like_numpy_and_routes_gradients(shapes, data):
    shape_c, shape_a, shape_b = shapes
    condition = data.draw(tst.hnp.arrays(np.bool_, shape_c), label="condition")
    a = data.draw(tst.float_arrays(shape_a), label="a")
    b = data.draw(tst.float_arrays(shape_b), label="b")
    as_tensor = data.draw(st.booleans(), label="condition as Tensor")
    cond = Tensor(condition) if as_tensor else condition

    def op(x, y):
        return tg.where(cond, x, y)

    assert_forward(op, lambda x, y: np.where(condition, x, y), a, b)
    assert_gradcheck(op, a, b)
    # Tensor.where is PyTorch's: self where condition, else other
    assert_forward(lambda x, y: x.where(cond, y), lambda x, y: np.where(condition, x, y), a, b)


@given(shape=tst.shapes(), data=st.data())
def test_where_with_scalar_branch(shape, data):
    x = data.draw(tst.float_arrays(shape))
    condition = x > 0.5
    assert_forward(lambda t: tg.where(condition, t, 0.0), lambda v: np.where(condition, v, 0.0),
                   x)
    assert_gradcheck(lambda t: tg.where(condition, -1.0, t * 2), x)


# --------------------------------------------------------------------------- matmul


@given(shapes=tst.matmul_shapes(), data=st.data())
def test_matmul_follows_numpy_semantics_and_gradcheck(shapes, data):
    shape_a, shape_b = shapes
    a = data.draw(tst.float_arrays(shape_a), label="a")
    b = data.draw(tst.float_arrays(shape_b), label="b")
    assert_forward(lambda x, y: x @ y, np.matmul, a, b)
    assert_forward(lambda x, y: x.matmul(y), np.matmul, a, b)
    assert_gradcheck(lambda x, y: x @ y, a, b)
    # ndarray on either side
    assert_gradcheck(lambda x: a @ x, b)
    assert_gradcheck(lambda y: y @ b, a)
    assert isinstance(a @ Tensor(b), Tensor)


@given(data=st.data())
def test_fused_linear_equals_matmul_plus_bias_and_gradcheck(data):
    batch = data.draw(tst.shapes(min_dims=0, max_dims=2), label="batch shape")
    in_features, out_features = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 4))
    x = data.draw(tst.float_arrays(batch + (in_features,)), label="x")
    weight = data.draw(tst.float_arrays((out_features, in_features)), label="weight")
    if data.draw(st.booleans(), label="with bias"):
        bias = data.draw(tst.float_arrays((out_features,)), label="bias")
        assert_forward(ops.Linear.apply, lambda x, w, b: x @ w.T + b, x, weight, bias)
        assert_gradcheck(ops.Linear.apply, x, weight, bias)
    else:
        assert_forward(ops.Linear.apply, lambda x, w: x @ w.T, x, weight)
        assert_gradcheck(ops.Linear.apply, x, weight)


# --------------------------------------------------------------------------- reductions


@dataclass(frozen=True)
class Reduction:
    name: str
    op: Callable  # (tensor, axis, keepdims) -> tensor
    reference: Callable  # (array, axis, keepdims) -> array
    values: Callable

    def __repr__(self):
        return self.name


def logsumexp_reference(x, axis, keepdims):
    return np.log(np.sum(np.exp(x), axis=axis, keepdims=keepdims))


REDUCTIONS = [
    Reduction("sum", lambda t, a, k: t.sum(a, k), np.sum, tst.float_arrays),
    Reduction("sum_keywords", lambda t, a, k: t.sum(axis=a, keepdims=k), np.sum,
              tst.float_arrays),
    Reduction("mean", lambda t, a, k: t.mean(a, k), np.mean, tst.float_arrays),
    Reduction("amax", lambda t, a, k: t.amax(() if a is None else a, k), np.max,
              tst.distinct_arrays),
    Reduction("amin", lambda t, a, k: t.amin(() if a is None else a, keepdim=k), np.min,
              tst.distinct_arrays),
    Reduction("logsumexp", lambda t, a, k: t.logsumexp(a, k), logsumexp_reference,
              tst.float_arrays),
]


@pytest.mark.parametrize("case", REDUCTIONS, ids=repr)
@given(data=st.data())
def test_reduction_over_axes_matches_numpy_and_gradcheck(case, data):
    shape = data.draw(tst.shapes(), label="shape")
    axis = data.draw(tst.reduction_axes(len(shape)), label="axis")
    keepdims = data.draw(st.booleans(), label="keepdims")
    x = data.draw(case.values(shape), label="x")

    def op(t):
        return case.op(t, axis, keepdims)

    assert_forward(op, lambda v: case.reference(v, numpy_axis(axis, v.ndim), keepdims=keepdims),
                   x)
    assert_gradcheck(op, x)


@pytest.mark.parametrize("name", ["var", "std"])
@given(data=st.data())
def test_var_and_std_with_correction_match_numpy_and_gradcheck(name, data):
    shape = data.draw(tst.shapes(), label="shape")
    axis = data.draw(tst.reduction_axes(len(shape)), label="axis")
    keepdims = data.draw(st.booleans(), label="keepdims")
    correction = data.draw(st.sampled_from([0, 1]), label="correction")
    count = math.prod(shape[a] for a in tst_normalized(axis, len(shape)))
    # std is not differentiable where the variance is 0: two or more distinct values
    assume(count > correction and (name == "var" or count >= 2))
    x = data.draw(tst.distinct_arrays(shape), label="x")

    def op(t):
        return getattr(t, name)(axis, correction=correction, keepdims=keepdims)

    reference = getattr(np, name)
    assert_forward(op, lambda v: reference(v, axis=numpy_axis(axis, v.ndim), ddof=correction,
                                           keepdims=keepdims), x)
    assert_gradcheck(op, x)


def tst_normalized(axis, ndim):
    if axis is None:
        return list(range(ndim))
    if ndim == 0:
        return []
    return [a % ndim for a in (axis if isinstance(axis, tuple) else (axis,))]


def test_max_and_min_share_the_gradient_among_ties():
    x = Tensor(np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]]), requires_grad=True)
    x.amax(1).sum().backward()
    np.testing.assert_allclose(x.grad.data, [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]])
    x.grad = None
    x.min().backward()
    np.testing.assert_allclose(x.grad.data, [[1, 0, 0], [0, 0, 0]])


def test_maximum_shares_the_gradient_at_ties():
    a = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    b = Tensor(np.array([1.0, 0.0, 5.0]), requires_grad=True)
    a.maximum(b).sum().backward()
    np.testing.assert_allclose(a.grad.data, [0.5, 1, 0])
    np.testing.assert_allclose(b.grad.data, [0.5, 0, 1])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # 0/0 on purpose
def test_power_zero_has_zero_gradient_everywhere():
    x = Tensor(np.array([0.0, 2.0], np.float32), requires_grad=True)
    (x ** 0).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0, 0])


def test_var_of_one_element_is_nan_with_nan_gradient():
    x = Tensor(np.array([2.0]), requires_grad=True)
    out = x.var()
    out.backward()
    assert np.isnan(out.item()) and np.isnan(x.grad.data).all()


def test_logsumexp_is_stable_for_large_and_infinite_inputs():
    x = Tensor(np.array([[1e4, 1e4 - 1.0], [-np.inf, 0.0]], np.float32), requires_grad=True)
    out = x.logsumexp(axis=1)
    np.testing.assert_allclose(out.data, [1e4 + np.log1p(np.exp(-1.0)), 0.0], rtol=1e-6)
    out.sum().backward()
    assert np.isfinite(x.grad.data).all()
    # float32 resolves 1e4 only to ~1e-3, so the softmax weights are that exact
    np.testing.assert_allclose(x.grad.data.sum(axis=1), [1, 1], rtol=1e-3)


# --------------------------------------------------------------------------- softmax


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@given(data=st.data())
def test_softmax_and_log_softmax_match_reference_and_gradcheck(name, data):
    shape = data.draw(tst.shapes(), label="shape")
    axis = data.draw(tst.single_axis(len(shape)), label="axis")
    x = data.draw(tst.float_arrays(shape, -5.0, 5.0), label="x")
    np_axis = numpy_axis(axis, len(shape))

    def reference(v):
        log_probs = log_softmax_reference(v, np_axis)
        return log_probs if name == "log_softmax" else np.exp(log_probs)

    assert_forward(lambda t: getattr(t, name)(axis), reference, x)
    assert_gradcheck(lambda t: getattr(t, name)(axis), x)
    if name == "softmax":
        total = Tensor(x).softmax(axis).data.sum(axis=np_axis)
        np.testing.assert_allclose(total, 1.0, rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_and_log_softmax_are_stable_for_huge_logits(name, dtype):
    logits = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4], [1e4, 1e4, -1e4]], dtype)
    x = Tensor(logits, requires_grad=True)
    out = getattr(x, name)(axis=1)
    assert out.dtype == dtype and np.isfinite(out.data).all()
    np.testing.assert_allclose(out.data, (np.exp if name == "softmax" else np.asarray)(
        log_softmax_reference(logits, 1)), atol=1e-6)
    (out * Tensor(np.arange(9.0).reshape(3, 3).astype(dtype))).sum().backward()
    assert np.isfinite(x.grad.data).all()


# --------------------------------------------------------------------------- movement


@given(data=st.data())
def test_reshape_view_and_flatten_match_numpy_and_gradcheck(data):
    shape = data.draw(tst.shapes(), label="shape")
    target = list(data.draw(st.permutations(list(shape) + [1] * data.draw(st.integers(0, 2)))))
    if target and data.draw(st.booleans(), label="use -1"):
        target[data.draw(st.integers(0, len(target) - 1))] = -1
    x = data.draw(tst.float_arrays(shape), label="x")
    method = data.draw(st.sampled_from(["reshape", "view"]))
    as_tuple = data.draw(st.booleans(), label="shape as one tuple")
    args = (tuple(target),) if as_tuple else tuple(target)

    def op(t):
        return getattr(t, method)(*args)

    assert_forward(op, lambda v: v.reshape(target), x)
    assert_gradcheck(op, x)
    ndim = len(shape)
    if ndim:
        start = data.draw(st.integers(-ndim, ndim - 1), label="start_dim")
        end = data.draw(st.integers(start % ndim, ndim - 1), label="end_dim")
        expected = shape[:start % ndim] + (-1,) + shape[end + 1:]
        assert_forward(lambda t: t.flatten(start, end), lambda v: v.reshape(expected), x)
        assert_gradcheck(lambda t: t.flatten(start, end), x)
    assert_forward(lambda t: t.flatten(), lambda v: v.reshape(-1), x)


@given(data=st.data())
def test_permute_and_transpose_match_numpy_and_gradcheck(data):
    shape = data.draw(tst.shapes(), label="shape")
    ndim = len(shape)
    x = data.draw(tst.float_arrays(shape), label="x")
    permutation = data.draw(st.permutations(range(ndim)), label="permutation")
    # negative axes name the same permutation
    given_axes = tuple(a - ndim if data.draw(st.booleans()) else a for a in permutation)
    assert_forward(lambda t: t.permute(*given_axes), lambda v: v.transpose(permutation), x)
    assert_forward(lambda t: t.permute(given_axes), lambda v: v.transpose(permutation), x)
    assert_gradcheck(lambda t: t.permute(*given_axes), x)
    assert_forward(lambda t: t.T, lambda v: v.T, x)
    assert_forward(lambda t: t.transpose(), lambda v: v.transpose(), x)
    assert_gradcheck(lambda t: t.T, x)
    if ndim >= 1:
        i, j = data.draw(tst.single_axis(ndim)), data.draw(tst.single_axis(ndim))
        # two axes: swap them (PyTorch), also on a matrix
        assert_forward(lambda t: t.transpose(i, j), lambda v: np.swapaxes(v, i, j), x)
        assert_gradcheck(lambda t: t.transpose(i, j), x)
    if ndim == 2:
        for dims in [(0, 1), (1, 0), (-1, -2)]:
            assert_forward(lambda t: t.transpose(*dims), lambda v: v.T, x)
        assert_forward(lambda t: t.transpose(0, 0), lambda v: v, x)


@given(data=st.data())
def test_squeeze_and_unsqueeze_match_numpy_and_gradcheck(data):
    shape = data.draw(tst.shapes(), label="shape")
    ndim = len(shape)
    x = data.draw(tst.float_arrays(shape), label="x")
    assert_forward(lambda t: t.squeeze(), np.squeeze, x)
    assert_gradcheck(lambda t: t.squeeze(), x)
    if ndim:
        axis = data.draw(tst.single_axis(ndim), label="squeeze axis")
        # PyTorch: squeezing an axis whose size is not 1 leaves the tensor as it is
        expected = np.squeeze(x, axis) if shape[axis] == 1 else x
        assert_forward(lambda t: t.squeeze(axis), lambda v: expected, x)
    axis = data.draw(st.integers(-ndim - 1, ndim), label="unsqueeze axis")
    assert_forward(lambda t: t.unsqueeze(axis), lambda v: np.expand_dims(v, axis), x)
    assert_gradcheck(lambda t: t.unsqueeze(axis), x)


@given(shapes=tst.broadcastable_shapes(), data=st.data())
def test_expand_and_broadcast_to_match_numpy_and_sum_the_gradient_back(shapes, data):
    shape, other = shapes
    target = np.broadcast_shapes(shape, other)
    x = data.draw(tst.float_arrays(shape), label="x")
    assert_forward(lambda t: t.broadcast_to(target), lambda v: np.broadcast_to(v, target), x)
    assert_forward(lambda t: t.expand(*target), lambda v: np.broadcast_to(v, target), x)
    # -1 keeps an existing axis's size
    offset = len(target) - len(shape)
    with_minus_one = tuple(-1 if i >= offset and n == shape[i - offset] else n
                           for i, n in enumerate(target))
    assert_forward(lambda t: t.expand(with_minus_one), lambda v: np.broadcast_to(v, target), x)
    assert_gradcheck(lambda t: t.expand(target), x)


@given(data=st.data())
def test_basic_indexing_matches_numpy_and_gradcheck(data):
    shape = data.draw(tst.shapes(), label="shape")
    index = data.draw(tst.basic_indices(shape), label="index")
    x = data.draw(tst.float_arrays(shape), label="x")
    assert_forward(lambda t: t[index], lambda v: v[index], x)
    assert_gradcheck(lambda t: t[index], x)


@given(data=st.data())
def test_integer_array_indexing_accumulates_repeated_indices(data):
    shape = data.draw(tst.shapes(min_dims=1), label="shape")
    index = data.draw(tst.integer_array_index(shape), label="index")
    x = data.draw(tst.float_arrays(shape), label="x")
    as_tensor = data.draw(st.booleans(), label="index as Tensor")
    wrapped = (Tensor(index) if isinstance(index, np.ndarray) else
               tuple(Tensor(i) for i in index)) if as_tensor else index
    assert_forward(lambda t: t[wrapped], lambda v: v[index], x)
    assert_gradcheck(lambda t: t[wrapped], x)
    # d(sum x[index])/dx counts how often each element was picked
    t = Tensor(x, requires_grad=True)
    t[wrapped].sum().backward()
    counts = np.zeros(shape)
    np.add.at(counts, index, 1.0)
    np.testing.assert_array_equal(t.grad.data, counts)


@given(data=st.data())
def test_boolean_mask_indexing_matches_numpy_and_gradcheck(data):
    shape = data.draw(tst.shapes(min_dims=1), label="shape")
    mask = data.draw(tst.boolean_mask_index(shape), label="mask")
    x = data.draw(tst.float_arrays(shape), label="x")
    for index in (mask, Tensor(mask), (mask, Ellipsis)):
        assert_forward(lambda t: t[index], lambda v: v[mask], x)
    assert_gradcheck(lambda t: t[mask], x)


def test_indexing_with_lists_and_mixed_indices():
    x = np.arange(24.0).reshape(2, 3, 4)
    for index in ([1, 0, 1], (slice(None), [2, 2, 0]), (1, [0, 2], slice(1, 3)),
                  (Ellipsis, [3, 3]), (None, 0, [1, 1]), np.int64(1), (0, -1, -1),
                  (np.array([True, False]), [0, 2]), (slice(None), [True, False, True])):
        assert_forward(lambda t: t[index], lambda v: v[index], x)
        assert_gradcheck(lambda t: t[index], x)


@given(drawn=tst.cat_arrays(), data=st.data())
def test_cat_matches_numpy_and_splits_the_gradient(drawn, data):
    arrays, axis = drawn
    as_method = data.draw(st.booleans(), label="Tensor.cat")
    concat = Tensor.cat if as_method else tg.cat

    def op(*ts):
        return concat(list(ts), axis=axis)

    assert_forward(op, lambda *vs: np.concatenate(vs, axis=axis), *arrays)
    assert_gradcheck(op, *arrays)


@given(drawn=tst.cat_arrays(same_shape=True), data=st.data())
def test_stack_matches_numpy_and_gradcheck(drawn, data):
    arrays, _ = drawn
    axis = data.draw(st.integers(-arrays[0].ndim - 1, arrays[0].ndim), label="axis")

    def op(*ts):
        return tg.stack(ts, axis=axis)

    assert_forward(op, lambda *vs: np.stack(vs, axis=axis), *arrays)
    assert_gradcheck(op, *arrays)


def test_cat_of_tensor_and_array_only_differentiates_the_tensor():
    x = Tensor(np.ones((2, 2)), requires_grad=True)
    out = tg.cat([x, np.zeros((1, 2))], axis=0)
    assert out.shape == (3, 2)
    (out * Tensor(np.arange(6.0).reshape(3, 2))).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[0, 1], [2, 3]])


def test_cast_passes_the_gradient_back_in_the_input_dtype():
    x = Tensor(np.array([1.5, -2.0], np.float64), requires_grad=True)
    y = x.float()
    assert y.dtype == np.float32 and y.requires_grad
    (y * 3).sum().backward()
    assert x.grad.dtype == np.float64
    np.testing.assert_array_equal(x.grad.data, [3, 3])
    assert x.double() is x  # same dtype: no new op
    assert not x.long().requires_grad and x.long().dtype == np.int64


# --------------------------------------------------------------------------- compositions

def _unary_steps():
    # Each keeps values bounded (|y| < ~20) and smooth, whatever it is given.
    return {
        "tanh": lambda y: y.tanh(),
        "sigmoid": lambda y: y.sigmoid() * 4 - 2,
        "softplus": lambda y: y.softplus() - 1,
        "exp_tanh": lambda y: y.tanh().exp(),
        "log_1p_square": lambda y: (y * y + 1).log(),
        "sqrt_shifted": lambda y: (y ** 2 + 0.5).sqrt(),
        "affine": lambda y: 1.5 * y - 0.25,
        "neg": lambda y: -y,
        "tanh_cubed": lambda y: y.tanh() ** 3,
        "tanh_transposed": lambda y: y.T.tanh().T,
        "softmax": lambda y: y.softmax(-1) if y.ndim else y,
        "log_softmax": lambda y: y.log_softmax(0) if y.ndim else y,
        "mean_keepdims": lambda y: y.mean(axis=-1, keepdims=True) if y.ndim else y,
        "std_keepdims": lambda y: (y.var(0, correction=0, keepdims=True) + 0.1).sqrt()
        if y.ndim else y,
        "flip": lambda y: y[::-1] if y.ndim else y,
    }


def _binary_steps():
    # z is the second input; shapes broadcast
    return {
        "add": lambda y, z: y + z,
        "sub": lambda y, z: z - y,
        "mul": lambda y, z: y * z.tanh(),
        "div": lambda y, z: y / (z * z + 1),
        "pow": lambda y, z: (y * y + 0.5) ** z.tanh(),
        # a fixed checkerboard: a condition computed from the inputs could flip when
        # gradcheck perturbs them
        "where": lambda y, z: tg.where(np.indices(y.shape).sum(axis=0) % 2 == 0, y, z),
    }


UNARY_STEPS, BINARY_STEPS = _unary_steps(), _binary_steps()


@given(shapes=tst.broadcastable_shapes(), data=st.data())
def test_random_compositions_of_ops_gradcheck(shapes, data):
    shape_x, shape_z = shapes
    x = data.draw(tst.float_arrays(shape_x), label="x")
    z = data.draw(tst.float_arrays(shape_z), label="z")
    steps = data.draw(st.lists(
        st.one_of(st.sampled_from(sorted(UNARY_STEPS)).map(lambda n: ("unary", n)),
                  st.sampled_from(sorted(BINARY_STEPS)).map(lambda n: ("binary", n))),
        min_size=2, max_size=6), label="steps")
    final = data.draw(st.sampled_from(["none", "sum", "logsumexp", "mean_axis0"]),
                      label="final")

    def composed(x_t, z_t):
        y = x_t
        for kind, name in steps:
            y = UNARY_STEPS[name](y) if kind == "unary" else BINARY_STEPS[name](y, z_t)
        if final == "sum":
            return y.sum()
        if final == "logsumexp":
            return y.logsumexp()
        if final == "mean_axis0" and y.ndim:
            return y.mean(axis=0)
        return y

    out = composed(Tensor(x), Tensor(z))
    assume(np.isfinite(out.data).all())
    assert_gradcheck(composed, x, z)


# --------------------------------------------------------------------------- float32


F64 = np.float64
FLOAT32_OPS = {
    "add": lambda t: t + 1.5, "add_f64": lambda t: t + F64(1.5), "radd_f64": lambda t: F64(2) + t,
    "sub_int": lambda t: t - 2, "rsub_f64": lambda t: F64(1) - t, "mul_f64": lambda t: t * F64(3),
    "rmul_f64": lambda t: F64(3) * t, "div_f64": lambda t: t / F64(3),
    "rdiv_f64": lambda t: F64(3) / t, "pow_int": lambda t: t ** 2, "pow_float": lambda t: t ** 0.5,
    "pow_f64": lambda t: t ** F64(1.5), "rpow_f64": lambda t: F64(2) ** t,
    "rpow_int": lambda t: 2 ** t, "pow_tensor": lambda t: t ** t, "neg": lambda t: -t,
    "abs": lambda t: abs(t), "maximum_f64": lambda t: t.maximum(F64(1)),
    "minimum_f64": lambda t: tg.minimum(F64(1), t), "maximum_tensor": lambda t: t.maximum(t * 2),
    "clip_f64": lambda t: t.clip(F64(0.6), F64(2)), "clip_float": lambda t: t.clamp(min=1.0),
    "where_f64": lambda t: tg.where(t.data > 1, t, F64(0)),
    "where_f64_left": lambda t: tg.where(t.data > 1, F64(0), t),
    "matmul": lambda t: t @ t.T, "matvec": lambda t: t @ np.ones(3, np.float32),
    "rmatmul": lambda t: np.ones(2, np.float32) @ t,
    "linear": lambda t: ops.Linear.apply(t, np.ones((4, 3), np.float32), np.ones(4, np.float32)),
    "exp": lambda t: t.exp(), "log": lambda t: t.log(), "sqrt": lambda t: t.sqrt(),
    "tanh": lambda t: t.tanh(), "sigmoid": lambda t: t.sigmoid(), "relu": lambda t: t.relu(),
    "leaky_relu_f64": lambda t: t.leaky_relu(F64(0.1)), "softplus": lambda t: t.softplus(),
    "softplus_f64": lambda t: t.softplus(beta=F64(2)), "sum": lambda t: t.sum(1),
    "mean": lambda t: t.mean(), "max": lambda t: t.amax(1), "min": lambda t: t.min(),
    "var": lambda t: t.var(1), "std": lambda t: t.std(0, correction=0),
    "logsumexp": lambda t: t.logsumexp(1), "softmax": lambda t: t.softmax(1),
    "log_softmax": lambda t: t.log_softmax(0), "reshape": lambda t: t.reshape(3, 2),
    "flatten": lambda t: t.flatten(), "T": lambda t: t.T, "permute": lambda t: t.permute(1, 0),
    "squeeze": lambda t: t[None].squeeze(0), "unsqueeze": lambda t: t.unsqueeze(-1),
    "expand": lambda t: t[None].expand(2, 2, 3), "getitem": lambda t: t[[0, 0, 1]],
    "mask": lambda t: t[t.data > 1], "cat": lambda t: tg.cat([t, t], 1),
    "stack": lambda t: tg.stack([t, t]), "cast_roundtrip": lambda t: t.double().float(),
}


@pytest.mark.parametrize("name", sorted(FLOAT32_OPS))
def test_float32_stays_float32_in_outputs_and_all_gradients(name):
    x = Tensor(np.array([[0.5, 1.25, 2.0], [0.75, 1.5, 2.5]], np.float32), requires_grad=True)
    RecordGradDtype.seen = []
    out = FLOAT32_OPS[name](RecordGradDtype.apply(x))
    assert out.dtype == np.float32
    out.backward(np.ones(out.shape, np.float32))
    assert RecordGradDtype.seen == [np.float32], "gradient reaching the input was promoted"
    assert x.grad.dtype == np.float32


@pytest.mark.parametrize("factory", ["zeros", "ones", "randn", "rand", "uniform"])
def test_float32_factories_times_python_and_numpy_scalars_stay_float32(factory):
    t = getattr(Tensor, factory)(2, 3)
    assert t.dtype == np.float32
    for scalar in (2, 2.5, np.float64(2.5), np.float32(2.5), np.int64(2)):
        assert (t * scalar).dtype == np.float32
        assert (scalar - t).dtype == np.float32


def test_float64_stays_float64():
    x = Tensor(np.array([0.5, 1.5]), requires_grad=True)
    y = (x * 2.0 + np.float32(1)).exp().sum()
    y.backward()
    assert y.dtype == np.float64 and x.grad.dtype == np.float64


# --------------------------------------------------------------------------- non-differentiable


COMPARISONS = {"eq": np.equal, "ne": np.not_equal, "lt": np.less, "le": np.less_equal,
               "gt": np.greater, "ge": np.greater_equal}


@pytest.mark.parametrize("name", sorted(COMPARISONS))
@given(shapes=tst.broadcastable_shapes(), data=st.data())
def test_comparisons_return_bool_tensors_like_numpy(name, shapes, data):
    # small integers in float arrays make equality common
    values = st.integers(-2, 2).map(float)
    a = data.draw(tst.hnp.arrays(np.float64, shapes[0], elements=values))
    b = data.draw(tst.hnp.arrays(np.float64, shapes[1], elements=values))
    expected = COMPARISONS[name](a, b)
    ta = Tensor(a, requires_grad=True)
    for other in (Tensor(b), b):
        result = getattr(ta, name)(other)
        assert result.dtype == np.bool_ and not result.requires_grad and result.grad_fn is None
        np.testing.assert_array_equal(result.data, expected)
    scalar_result = getattr(ta, name)(1.0)
    np.testing.assert_array_equal(scalar_result.data, COMPARISONS[name](a, 1.0))


@pytest.mark.parametrize("name", sorted(COMPARISONS))
def test_comparison_of_shapes_that_do_not_broadcast_names_both_shapes(name):
    with pytest.raises(ValueError, match=r"\(2,\) and \(3,\) cannot be broadcast"):
        getattr(Tensor([1.0, 2.0]), name)(Tensor([1.0, 2.0, 3.0]))


def test_comparison_operators():
    a, b = Tensor([1.0, 2.0, 3.0]), Tensor([2.0, 2.0, 2.0])
    np.testing.assert_array_equal((a < b).data, [True, False, False])
    np.testing.assert_array_equal((a <= b).data, [True, True, False])
    np.testing.assert_array_equal((a > b).data, [False, False, True])
    np.testing.assert_array_equal((a >= 2).data, [False, True, True])
    assert (a > b).dtype == np.bool_


@pytest.mark.parametrize("name", ["argmax", "argmin"])
@given(data=st.data())
def test_argmax_and_argmin_match_numpy(name, data):
    shape = data.draw(tst.shapes(min_dims=1))
    x = data.draw(tst.distinct_arrays(shape))
    t = Tensor(x, requires_grad=True)
    result = getattr(t, name)()
    assert result.item() == getattr(np, name)(x) and not result.requires_grad
    axis = data.draw(tst.single_axis(len(shape)))
    keepdims = data.draw(st.booleans())
    result = getattr(t, name)(axis, keepdims=keepdims)
    np.testing.assert_array_equal(result.data, getattr(np, name)(x, axis=axis, keepdims=keepdims))
    assert result.dtype.kind == "i"


@given(labels=tst.hnp.arrays(np.int64, tst.shapes(max_dims=2), elements=st.integers(0, 4)),
       extra=st.integers(0, 2))
def test_one_hot_matches_identity_rows(labels, extra):
    num_classes = int(labels.max()) + 1 + extra
    result = tg.one_hot(Tensor(labels), num_classes)
    assert result.dtype == np.int64 and not result.requires_grad
    np.testing.assert_array_equal(result.data, np.eye(num_classes, dtype=np.int64)[labels])
    inferred = tg.one_hot(labels)
    assert inferred.shape == labels.shape + (int(labels.max()) + 1,)
    np.testing.assert_array_equal(Tensor.one_hot(labels, num_classes).data, result.data)


def test_one_hot_rejects_bad_labels():
    with pytest.raises(TypeError, match="integers"):
        tg.one_hot(np.array([0.0, 1.0]), 2)
    with pytest.raises(ValueError, match=r"\[0, 3\).*5"):
        tg.one_hot(np.array([0, 5]), 3)
    with pytest.raises(ValueError, match="-1"):
        tg.one_hot(np.array([-1, 1]), 3)


# --------------------------------------------------------------------------- errors


BROADCASTING_OPS = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b, "pow": lambda a, b: a ** b, "maximum": lambda a, b: a.maximum(b),
    "minimum": lambda a, b: a.minimum(b), "where": lambda a, b: tg.where(True, a, b),
}


@pytest.mark.parametrize("name", sorted(BROADCASTING_OPS))
def test_shapes_that_do_not_broadcast_name_the_op_and_both_shapes(name):
    a, b = Tensor(np.ones((2, 3)), requires_grad=True), Tensor(np.ones((4,)))
    with pytest.raises(ValueError) as error:
        BROADCASTING_OPS[name](a, b)
    message = str(error.value)
    assert name in message and "(2, 3)" in message and "(4,)" in message


@pytest.mark.parametrize("shapes", [((2, 3), (2, 3)), ((3,), (4,)), ((2, 2, 3), (4, 3, 1)),
                                    ((), (3,)), ((5, 2, 3), (4, 3, 2))])
def test_matmul_shape_mismatch_names_op_and_both_shapes(shapes):
    a, b = (Tensor(np.ones(s)) for s in shapes)
    with pytest.raises(ValueError) as error:
        a @ b
    message = str(error.value)
    assert "matmul" in message and str(shapes[0]) in message and str(shapes[1]) in message


def test_linear_shape_mismatch_names_in_features():
    with pytest.raises(ValueError, match="in_features = 3"):
        ops.Linear.apply(Tensor(np.ones((2, 4))), Tensor(np.ones((5, 3))))


@pytest.mark.parametrize("call", [
    lambda t: t.sum(axis=2), lambda t: t.mean(axis=-3), lambda t: t.amax((0, 5)),
    lambda t: t.min(axis=2), lambda t: t.var(axis=2), lambda t: t.std(axis=2),
    lambda t: t.logsumexp(axis=2), lambda t: t.softmax(axis=2),
    lambda t: t.log_softmax(axis=-3), lambda t: t.argmax(axis=2), lambda t: t.argmin(axis=2),
    lambda t: t.squeeze(2), lambda t: t.transpose(0, 2), lambda t: tg.cat([t, t], axis=2),
    lambda t: t.flatten(2), lambda t: t.flatten(0, -3), lambda t: t.sum(dim=2),
    lambda t: t.size(2),
])
def test_wrong_axis_names_the_axis_and_the_shape(call):
    t = Tensor(np.ones((2, 3)))
    with pytest.raises((ValueError, IndexError)) as error:
        call(t)
    message = str(error.value)
    assert "(2, 3)" in message
    assert any(str(a) in message for a in (2, -3, 4, 5))


@pytest.mark.parametrize("call", [lambda t: t.unsqueeze(4), lambda t: tg.stack([t, t], axis=4),
                                  lambda t: t.unsqueeze(-4)])
def test_wrong_new_axis_names_the_axis_and_the_valid_range(call):
    with pytest.raises((ValueError, IndexError), match=r"axis -?4 .*valid axes are -3\.\.2"):
        call(Tensor(np.ones((2, 3))))


def test_repeated_and_non_integer_axes_are_rejected():
    t = Tensor(np.ones((2, 3)))
    with pytest.raises(ValueError, match="repeats"):
        t.sum(axis=(1, -1))
    with pytest.raises(TypeError, match="axis must be an int"):
        t.sum(axis=1.0)


@pytest.mark.parametrize("call, pattern", [
    (lambda t: t.reshape(4, 2), r"reshape.*\(2, 3\).*\(4, 2\)"),
    (lambda t: t.permute(0, 0), r"permute.*not a permutation.*\(2, 3\)"),
    (lambda t: t.permute(0, 1, 2), r"permute.*not a permutation"),
    (lambda t: t.expand(4, 3), r"expand.*\(2, 3\).*\(4, 3\)"),
    (lambda t: tg.cat([t, Tensor(np.ones((2, 2)))], axis=0), r"cat.*\(2, 3\).*\(2, 2\)"),
    (lambda t: tg.stack([t, Tensor(np.ones((3, 2)))]), r"stack.*same shape"),
    (lambda t: tg.cat([], axis=0), r"cat.*at least one"),
    (lambda t: t.clip(), r"clip.*min and max"),
    (lambda t: Tensor(np.ones(0)).max(), r"max.*empty"),
])
def test_shape_errors_say_what_is_wrong(call, pattern):
    with pytest.raises(ValueError, match=pattern):
        call(Tensor(np.ones((2, 3))))


def test_out_of_range_index_names_the_shape():
    with pytest.raises(IndexError, match=r"\(2, 3\)"):
        Tensor(np.ones((2, 3)))[5]


# --------------------------------------------------------------------------- PyTorch


def torch_pair(array, requires_grad=True):
    torch = pytest.importorskip("torch")
    return Tensor(array.copy(), requires_grad=requires_grad), torch.tensor(
        array, requires_grad=requires_grad)


def assert_same_as_torch(ours, theirs, ours_inputs, torch_inputs, rtol=1e-10):
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=rtol, atol=1e-12)
    weight = np.random.default_rng(0).uniform(0.5, 1.5, ours.shape)
    ours.backward(weight)
    import torch
    theirs.backward(torch.tensor(weight))
    for o, t in zip(ours_inputs, torch_inputs):
        np.testing.assert_allclose(o.grad.data, t.grad.numpy(), rtol=rtol, atol=1e-12)


@given(shape=tst.shapes(min_dims=1), data=st.data())
def test_log_softmax_and_softmax_match_torch(shape, data):
    torch = pytest.importorskip("torch")
    x = data.draw(tst.float_arrays(shape, -20, 20))
    axis = data.draw(tst.single_axis(len(shape)))
    for name in ("log_softmax", "softmax"):
        ours, theirs = torch_pair(x)
        assert_same_as_torch(getattr(ours, name)(axis), getattr(torch, name)(theirs, axis),
                             [ours], [theirs])


@given(data=st.data())
def test_var_and_std_match_torch(data):
    torch = pytest.importorskip("torch")
    shape = data.draw(tst.shapes(min_dims=1))
    x = data.draw(tst.distinct_arrays(shape))
    axis = data.draw(tst.reduction_axes(len(shape)))
    correction = data.draw(st.sampled_from([0, 1]))
    keepdims = data.draw(st.booleans())
    assume(math.prod(shape[a] for a in tst_normalized(axis, len(shape))) > max(correction, 1))
    for name in ("var", "std"):
        ours, theirs = torch_pair(x)
        assert_same_as_torch(getattr(ours, name)(axis, correction=correction, keepdims=keepdims),
                             getattr(torch, name)(theirs, dim=axis, correction=correction,
                                                  keepdim=keepdims), [ours], [theirs])


@given(shapes=tst.matmul_shapes(), data=st.data())
def test_matmul_broadcasting_matches_torch(shapes, data):
    torch = pytest.importorskip("torch")
    a = data.draw(tst.float_arrays(shapes[0]))
    b = data.draw(tst.float_arrays(shapes[1]))
    (oa, ta), (ob, tb) = torch_pair(a), torch_pair(b)
    assert_same_as_torch(oa @ ob, torch.matmul(ta, tb), [oa, ob], [ta, tb])


def test_kinks_and_ties_match_torch():
    torch = pytest.importorskip("torch")
    x = np.array([[-1.0, 0.0, 0.5], [2.0, 2.0, -3.0]])
    y = np.array([[0.0, 0.0, 1.0], [2.0, 1.0, -3.0]])
    cases = [
        (lambda t: t.relu(), torch.relu), (lambda t: abs(t), torch.abs),
        (lambda t: t.clip(0.0, 0.5), lambda t: torch.clamp(t, 0.0, 0.5)),
        (lambda t: t.leaky_relu(0.1), lambda t: torch.nn.functional.leaky_relu(t, 0.1)),
        (lambda t: t.softplus(beta=2.0, threshold=1.0),
         lambda t: torch.nn.functional.softplus(t, beta=2.0, threshold=1.0)),
        (lambda t: t.max(), torch.max), (lambda t: t.amin(1), lambda t: t.amin(dim=1)),
        (lambda t: t.amax(dim=0, keepdim=True), lambda t: t.amax(dim=0, keepdim=True)),
        (lambda t: t.min(axis=1).values, lambda t: t.min(dim=1).values),
        (lambda t: t.max(0, keepdim=True).values, lambda t: t.max(0, keepdim=True).values),
    ]
    for ours_fn, torch_fn in cases:
        ours, theirs = torch_pair(x)
        assert_same_as_torch(ours_fn(ours), torch_fn(theirs), [ours], [theirs])
    (oa, ta), (ob, tb) = torch_pair(x), torch_pair(y)
    assert_same_as_torch(oa.maximum(ob), torch.maximum(ta, tb), [oa, ob], [ta, tb])
    (oa, ta), (ob, tb) = torch_pair(x), torch_pair(y)
    assert_same_as_torch(oa.minimum(ob), torch.minimum(ta, tb), [oa, ob], [ta, tb])


# --------------------------------------------------------------------------- PyTorch's names


def test_axis_arguments_also_take_pytorchs_dim_and_keepdim():
    """torch accepts both dim/keepdim and axis/keepdims; so do the methods here, so
    ported code such as ``logits.argmax(dim=1)`` or ``x.sum(dim=0, keepdim=True)`` runs."""
    x = np.random.default_rng(0).normal(size=(2, 3, 4))
    t = Tensor(x)
    for name in ("max", "min"):  # with a dim: (values, indices), as in torch
        method = getattr(t, name)
        for dim in (1, -1):
            expected = method(axis=dim, keepdims=True)
            np.testing.assert_array_equal(method(dim=dim, keepdim=True).values.data,
                                          expected.values.data)
            np.testing.assert_array_equal(method(dim).indices.data, method(dim=dim)[1].data)
    for name in ("sum", "mean", "var", "std", "logsumexp", "argmax", "argmin"):
        method = getattr(t, name)
        for dim in (1, -1) if name.startswith("arg") else (1, -1, (0, 2)):
            expected = method(axis=dim, keepdims=True).data
            np.testing.assert_array_equal(method(dim=dim, keepdim=True).data, expected)
            np.testing.assert_array_equal(method(dim=dim).data, method(dim).data)
        with pytest.raises(TypeError, match=f"{name}: give axis or dim, not both"):
            method(axis=0, dim=1)
    for name in ("softmax", "log_softmax"):
        method = getattr(t, name)
        np.testing.assert_array_equal(method(dim=1).data, method(axis=1).data)
        np.testing.assert_array_equal(method().data, method(-1).data)  # last axis by default
    assert Tensor(np.ones((2, 1, 3))).squeeze(dim=1).shape == (2, 3)
    assert t.unsqueeze(dim=0).shape == (1, 2, 3, 4)
    with pytest.raises(TypeError, match="unsqueeze"):
        t.unsqueeze()
    assert tg.cat([t, t], dim=1).shape == (2, 6, 4) and tg.cat([t, t]).shape == (4, 3, 4)
    assert tg.stack([t, t], dim=-1).shape == (2, 3, 4, 2) and tg.stack([t, t]).shape[0] == 2
    with pytest.raises(TypeError, match="cat: give axis or dim"):
        tg.cat([t, t], axis=0, dim=1)
    torch = pytest.importorskip("torch")
    tt = torch.from_numpy(x)
    np.testing.assert_allclose(t.std(dim=1, keepdim=True).data,
                               tt.std(dim=1, keepdim=True).numpy())
    np.testing.assert_array_equal(t.argmax(dim=2).data, tt.argmax(dim=2).numpy())
    np.testing.assert_allclose(t.log_softmax(dim=0).data, tt.log_softmax(dim=0).numpy())


def test_flatten_refuses_a_start_after_the_end_and_an_unbatched_flatten_layer():
    """flatten used to wrap axes modulo ndim, so flatten(5) or nn.Flatten() on a 1-D
    input silently did something else; torch raises, and so does this now."""
    t = Tensor(np.ones((2, 3, 4)))
    with pytest.raises(ValueError, match=r"flatten: start_dim 2 comes after end_dim 1 .*\(2, 3, 4\)"):
        t.flatten(2, 1)
    assert t.flatten(1, 1).shape == (2, 3, 4) and t.flatten(-2).shape == (2, 12)
    assert Tensor(1.0).flatten(0, -1).shape == (1,)
    with pytest.raises(IndexError, match=r"axis 1 is out of range for a tensor of shape \(3,\)"):
        tg.nn.Flatten()(Tensor(np.ones(3)))
