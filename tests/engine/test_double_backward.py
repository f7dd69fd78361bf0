"""Second derivatives of every op (ops/ and the fused ops of nn.functional): each op's
differentiable_backward, recorded under create_graph=True, is checked by gradgradcheck
against central differences in float64, and against PyTorch's
``torch.autograd.grad(..., create_graph=True)`` taken twice, on inputs drawn by
Hypothesis inside each op's smooth region."""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_fm as tg
from tinygrad_fm import Tensor, gradgradcheck
from tinygrad_fm.autograd import grad
from tinygrad_fm.nn import functional as F

import helpers as tst

SMALL = dict(max_dims=3, max_side=3)
CASES = {}


def case(name, **tolerances):
    """Register ``draw(data) -> (arrays, op, torch_op)``; torch_op None: no PyTorch twin."""
    def register(draw):
        CASES[name] = (draw, tolerances)
        return draw
    return register


def shape(data, min_dims=0, **kwargs):
    return data.draw(tst.shapes(min_dims=min_dims, **{**SMALL, **kwargs}), label="shape")


def pair_shapes(data):
    return data.draw(tst.broadcastable_shapes(max_dims=3, max_side=3), label="shapes")


def torch_module():
    return pytest.importorskip("torch")


# --------------------------------------------------------------------------- arithmetic

def _binary(name, op, a_values=tst.float_arrays, b_values=tst.float_arrays):
    @case(name)
    def draw(data):
        a_shape, b_shape = pair_shapes(data)
        a = data.draw(a_values(a_shape))
        b = data.draw(b_values(b_shape))
        return [a, b], op, op


_binary("add", lambda a, b: a + b)
_binary("sub", lambda a, b: a - b)
_binary("mul", lambda a, b: a * b)
_binary("div", lambda a, b: a / b, b_values=tst.nonzero_arrays)
# b = 0 exactly is left out: PyTorch zeroes d(a^b)/da there, and so d2/da db (1 here).
_binary("pow_tensor_exponent", lambda a, b: a ** b, a_values=tst.positive_arrays,
        b_values=lambda s: tst.arrays_away_from(s, [0.0], 0.05, -2.0, 2.0))


@case("pow_scalar")
def _pow_scalar(data):
    p = data.draw(st.sampled_from([2, 3, 0.5, -1.0, 0, 1.5]))
    values = tst.positive_arrays if p in (0.5, 1.5) else tst.nonzero_arrays
    x = data.draw(values(shape(data)))
    return [x], lambda t: t ** p, lambda t: t ** p


@case("neg_and_clone")
def _neg(data):
    x = data.draw(tst.float_arrays(shape(data)))
    return [x], lambda t: -(t * t).clone(), lambda t: -(t * t).clone()


@case("abs")
def _abs(data):
    x = data.draw(tst.arrays_away_from(shape(data), [0.0]))
    return [x], lambda t: (t * t * t).abs(), lambda t: (t * t * t).abs()


@case("maximum")
def _maximum(data):
    a_shape, b_shape = pair_shapes(data)
    a, b = data.draw(tst.separated_pair(a_shape, b_shape))
    return [a, b], lambda x, y: tg.maximum(x * x, y), lambda x, y: __import__(
        "torch").maximum(x * x, y)


@case("minimum")
def _minimum(data):
    a_shape, b_shape = pair_shapes(data)
    a, b = data.draw(tst.separated_pair(a_shape, b_shape))
    return [a, b], lambda x, y: x.minimum(y) * y, lambda x, y: x.minimum(y) * y


@case("clip")
def _clip(data):
    low, high = -1.0, 1.5
    x = data.draw(tst.arrays_away_from(shape(data), [low, high]))
    return [x], lambda t: (t * t * t).clip(low, high) * t, \
        lambda t: (t * t * t).clamp(low, high) * t


@case("where")
def _where(data):
    a_shape, b_shape = pair_shapes(data)
    a, b = data.draw(tst.float_arrays(a_shape)), data.draw(tst.float_arrays(b_shape))
    condition = data.draw(hnp.arrays(np.bool_, np.broadcast_shapes(a_shape, b_shape)))

    def torch_op(x, y):
        torch = torch_module()
        return torch.where(torch.from_numpy(condition), x * y, y * y)

    return [a, b], lambda x, y: tg.where(condition, x * y, y * y), torch_op


@case("cast", eps=1e-3, atol=1e-3, rtol=1e-2)
def _cast(data):
    x = data.draw(tst.float_arrays(shape(data), -1.0, 1.0))
    return [x], lambda t: (t.float() * t.float()).double() * t, \
        lambda t: (t.float() * t.float()).double() * t


@case("masked_fill")
def _masked_fill(data):
    x = data.draw(tst.float_arrays(shape(data)))
    mask = data.draw(hnp.arrays(np.bool_, x.shape))
    value = data.draw(tst.float_arrays(()))

    def torch_op(t, v):
        torch = torch_module()
        return (t * t).masked_fill(torch.from_numpy(mask), v * v) * t

    return [x, value], lambda t, v: (t * t).masked_fill(mask, v * v) * t, torch_op


# --------------------------------------------------------------------------- unary

def _unary(name, op, values=tst.float_arrays, torch_op=None):
    @case(name)
    def draw(data):
        return [data.draw(values(shape(data)))], op, torch_op or op


_unary("exp", lambda t: t.exp())
_unary("log", lambda t: t.log(), tst.positive_arrays)
_unary("sqrt", lambda t: t.sqrt(), tst.positive_arrays)
_unary("tanh", lambda t: t.tanh())
_unary("sigmoid", lambda t: t.sigmoid())
_unary("relu", lambda t: (t * t * t).relu(), lambda s: tst.arrays_away_from(s, [0.0]))
_unary("leaky_relu", lambda t: (t * t * t).leaky_relu(0.1),
       lambda s: tst.arrays_away_from(s, [0.0]),
       lambda t: __import__("torch").nn.functional.leaky_relu(t * t * t, 0.1))
_unary("softplus", lambda t: t.softplus(2.0, 1.5),
       lambda s: tst.arrays_away_from(s, [0.75]),
       lambda t: __import__("torch").nn.functional.softplus(t, 2.0, 1.5))


# --------------------------------------------------------------------------- reductions

def _reduction(name, op, torch_op, values=tst.float_arrays):
    @case(name)
    def draw(data):
        s = shape(data)
        x = data.draw(values(s))
        axis = data.draw(tst.reduction_axes(len(s)))
        keepdims = data.draw(st.booleans())
        torch_axis = tuple(range(len(s))) if axis is None else axis
        return [x], lambda t: op(t * t, axis, keepdims), \
            lambda t: torch_op(t * t, torch_axis, keepdims)


_reduction("sum", lambda t, a, k: t.sum(a, k), lambda t, a, k: t.sum(a, keepdim=k))
_reduction("mean", lambda t, a, k: t.mean(a, k), lambda t, a, k: t.mean(a, keepdim=k))
_reduction("logsumexp", lambda t, a, k: t.logsumexp(a, k),
           lambda t, a, k: t.logsumexp(a, keepdim=k))


@case("max_min")
def _max_min(data):
    s = shape(data)
    x = data.draw(tst.distinct_arrays(s, 0.3, 3.0))
    axis = data.draw(tst.single_axis(len(s)))
    keepdims = data.draw(st.booleans())

    def torch_op(t):
        if t.ndim == 0:
            return (t * t) + (t * t * t)
        return (t * t).amax(axis, keepdims) + (t * t * t).amin(axis, keepdims)

    return [x], lambda t: (t * t).amax(axis, keepdims) + (t * t * t).amin(axis, keepdims), \
        torch_op


@case("var")
def _var(data):
    s = shape(data, min_dims=1, min_side=2)
    x = data.draw(tst.float_arrays(s))
    axis = data.draw(tst.single_axis(len(s)))
    correction = data.draw(st.sampled_from([0, 1]))
    return [x], lambda t: t.var(axis, correction) * t.sum(), \
        lambda t: t.var(axis, correction=correction) * t.sum()


@case("norm")
def _norm(data):
    p = data.draw(st.sampled_from([2, 3, 1, 1.5, 0.5, float("inf")]))
    s = shape(data, min_dims=1)
    values = tst.distinct_arrays(s, 0.3, 3.0) if p == float("inf") else \
        tst.nonzero_arrays(s, margin=0.3)
    x = data.draw(values)
    axis = data.draw(tst.single_axis(len(s)))
    return [x], lambda t: t.norm(p, dim=axis) ** 2, \
        lambda t: __import__("torch").linalg.vector_norm(t, p, dim=axis) ** 2


@case("cumsum")
def _cumsum(data):
    s = shape(data, min_dims=1)
    x = data.draw(tst.float_arrays(s))
    axis = data.draw(tst.single_axis(len(s)))
    return [x], lambda t: (t * t).cumsum(axis), lambda t: (t * t).cumsum(axis)


@case("softmax")
def _softmax(data):
    s = shape(data, min_dims=1)
    x = data.draw(tst.float_arrays(s))
    axis = data.draw(tst.single_axis(len(s)))
    return [x], lambda t: t.softmax(axis), lambda t: t.softmax(axis)


@case("log_softmax")
def _log_softmax(data):
    s = shape(data, min_dims=1)
    x = data.draw(tst.float_arrays(s))
    axis = data.draw(tst.single_axis(len(s)))
    return [x], lambda t: t.log_softmax(axis) * t, lambda t: t.log_softmax(axis) * t


# --------------------------------------------------------------------------- movement

@case("reshape_permute_expand")
def _movement(data):
    x = data.draw(tst.float_arrays((2, 3)))
    ops = lambda t: ((t * t).reshape(3, 2).permute(1, 0).reshape(1, 6)  # noqa: E731
                     .expand(2, 6) * t.reshape(1, 6))
    return [x], ops, ops


@case("getitem")
def _getitem(data):
    s = shape(data, min_dims=1)
    kind = data.draw(st.sampled_from(["basic", "integer", "mask"]))
    if kind == "basic":  # PyTorch has no negative steps
        index = data.draw(tst.basic_indices(s).filter(lambda i: not any(
            isinstance(k, slice) and (k.step or 1) < 0
            for k in (i if isinstance(i, tuple) else (i,)))))
    elif kind == "integer":
        index = data.draw(tst.integer_array_index(s))
    else:
        index = data.draw(tst.boolean_mask_index(s))
    x = data.draw(tst.float_arrays(s))

    def torch_op(t):
        torch = torch_module()
        converted = tuple(torch.from_numpy(i) if isinstance(i, np.ndarray) else i
                          for i in (index if isinstance(index, tuple) else (index,)))
        return (t * t)[converted if isinstance(index, tuple) else converted[0]]

    return [x], lambda t: (t * t)[index], torch_op


@case("cat_stack")
def _cat(data):
    arrays, axis = data.draw(tst.cat_arrays(same_shape=True))

    def op(*ts, module):
        squares = [t * t for t in ts]
        return module.cat(squares, axis) * 1.0, module.stack(squares, axis)

    def ours(*ts):
        first, second = op(*ts, module=tg)
        return first.sum() * second.sum()

    def theirs(*ts):
        first, second = op(*ts, module=torch_module())
        return first.sum() * second.sum()

    return arrays, ours, theirs


@case("flip_roll_repeat")
def _flip(data):
    x = data.draw(tst.float_arrays((2, 3)))
    ours = lambda t: ((t * t).flip(1).roll(1, 0).repeat(2, 1, 2) * 2).tile(1, 1)  # noqa: E731
    theirs = lambda t: (t * t).flip(1).roll(1, 0).repeat(2, 1, 2) * 2  # noqa: E731
    return [x], ours, theirs


# --------------------------------------------------------------------------- indexing

@case("gather")
def _gather(data):
    x = data.draw(tst.float_arrays((3, 4)))
    index = data.draw(hnp.arrays(np.int64, (2, 4), elements=st.integers(0, 2)))

    def theirs(t):
        return (t * t).gather(0, torch_module().from_numpy(index))

    return [x], lambda t: (t * t).gather(0, index), theirs


def _scatter_case(data, src_shape):
    x = data.draw(tst.float_arrays((3, 4)))
    src = data.draw(tst.float_arrays(src_shape))
    # distinct rows per column: where an index repeats the winner is unspecified
    rows = np.stack([data.draw(st.permutations(range(3)))[:2] for _ in range(4)], axis=1)
    index = np.asarray(rows, dtype=np.int64)

    def theirs(t, s):
        return (t * t).scatter(0, torch_module().from_numpy(index), s * s) * t

    return [x, src], lambda t, s: (t * t).scatter(0, index, s * s) * t, theirs


def _scatter_add_case(data, src_shape):
    x = data.draw(tst.float_arrays((3, 4)))
    src = data.draw(tst.float_arrays(src_shape))
    index = data.draw(hnp.arrays(np.int64, (2, 4), elements=st.integers(0, 2)))

    def theirs(t, s):
        return (t * t).scatter_add(0, torch_module().from_numpy(index), s * s) * t

    return [x, src], lambda t, s: (t * t).scatter_add(0, index, s * s) * t, theirs


@case("scatter")
def _scatter(data):
    return _scatter_case(data, (2, 4))


@case("scatter_add")
def _scatter_add(data):
    return _scatter_add_case(data, (2, 4))


@case("scatter_src_larger_than_index")
def _scatter_larger(data):
    # PyTorch's own double backward rejects a src larger than the index (its gradient
    # comes back in the index's shape), so these are checked by finite differences only.
    arrays, ours, _ = _scatter_case(data, (2, 5))
    arrays_add, ours_add, _ = _scatter_add_case(data, (3, 5))
    return arrays + arrays_add, lambda a, b, c, d: ours(a, b).sum() * ours_add(c, d), None


@case("diag_tril_triu")
def _diag(data):
    x = data.draw(tst.float_arrays((3, 4)))
    v = data.draw(tst.float_arrays((3,)))
    k = data.draw(st.integers(-1, 1))

    def op(t, u):
        return ((t * t).diag(k).sum() * (u * u).diag(k) + (t * u.reshape(3, 1)).tril(k)
                .sum() + (t * t).triu(k).sum())

    return [x, v], op, op


# --------------------------------------------------------------------------- matmul

@case("matmul")
def _matmul(data):
    a_shape, b_shape = data.draw(tst.matmul_shapes())
    a, b = data.draw(tst.float_arrays(a_shape)), data.draw(tst.float_arrays(b_shape))
    return [a, b], lambda x, y: (x * x) @ y, lambda x, y: (x * x) @ y


@case("linear")
def _linear(data):
    batch = data.draw(st.sampled_from([(), (2,), (2, 3)]))
    x = data.draw(tst.float_arrays(batch + (3,)))
    w = data.draw(tst.float_arrays((2, 3)))
    b = data.draw(tst.float_arrays((2,)))

    def theirs(t, weight, bias):
        return torch_module().nn.functional.linear(t * t, weight, bias).tanh()

    return [x, w, b], lambda t, weight, bias: F.linear(t * t, weight, bias).tanh(), theirs


# --------------------------------------------------------------------------- nn.functional

@case("dropout")
def _dropout(data):
    x = data.draw(tst.float_arrays((3, 4)))

    def ours(t):
        tg.manual_seed(0)  # the same mask at every evaluation
        return F.dropout(t * t, 0.4) * t

    return [x], ours, None


@case("cross_entropy")
def _cross_entropy(data):
    batch = data.draw(st.sampled_from([(2,), (2, 2), ()]))
    classes = 3
    shape_ = (batch[:1] + (classes,) + batch[1:]) if batch else (classes,)
    x = data.draw(tst.float_arrays(shape_))
    reduction = data.draw(st.sampled_from(["mean", "sum", "none"]))
    smoothing = data.draw(st.sampled_from([0.0, 0.2]))
    target_shape = shape_[:1] + shape_[2:] if batch else ()
    target, weight, ignore_index = _class_targets(data, target_shape, classes)

    def theirs(t):
        torch = torch_module()
        return torch.nn.functional.cross_entropy(
            t, torch.from_numpy(target), weight=_torch_weight(weight),
            ignore_index=ignore_index, reduction=reduction, label_smoothing=smoothing)

    return [x], lambda t: F.cross_entropy(t, target, weight, ignore_index=ignore_index,
                                          reduction=reduction,
                                          label_smoothing=smoothing), theirs


def _class_targets(data, shape, classes):
    """Class indices of ``shape``, and maybe per-class weights and ignored entries (some
    sample always kept, so that a mean is not 0 / 0)."""
    target = data.draw(hnp.arrays(np.int64, shape, elements=st.integers(0, classes - 1)))
    weight = data.draw(st.none() | tst.positive_arrays((classes,), 0.2, 2.0))
    ignore_index = data.draw(st.sampled_from([-100, 1]))
    if target.size > 1:
        target[data.draw(hnp.arrays(bool, shape))] = ignore_index
    if target.size and target.flat[0] == ignore_index:
        target.flat[0] = 0
    return target, weight, ignore_index


def _torch_weight(weight):
    return None if weight is None else torch_module().from_numpy(weight)


@case("cross_entropy_probabilities")
def _cross_entropy_probabilities(data):
    x = data.draw(tst.float_arrays((2, 3)))
    q = data.draw(tst.positive_arrays((2, 3), 0.1, 1.0))
    smoothing = data.draw(st.sampled_from([0.0, 0.2]))
    weight = data.draw(st.none() | tst.positive_arrays((3,), 0.2, 2.0))

    def theirs(t, p):
        return torch_module().nn.functional.cross_entropy(t, p, weight=_torch_weight(weight),
                                                          label_smoothing=smoothing)

    return [x, q], lambda t, p: F.cross_entropy(t, p, weight, label_smoothing=smoothing), \
        theirs


@case("nll_loss")
def _nll(data):
    x = data.draw(tst.float_arrays((3, 4)))
    target, weight, ignore_index = _class_targets(data, (3,), 4)
    reduction = data.draw(st.sampled_from(["mean", "sum", "none"]))

    def theirs(t):
        torch = torch_module()
        return torch.nn.functional.nll_loss(t.log_softmax(1), torch.from_numpy(target),
                                            weight=_torch_weight(weight),
                                            ignore_index=ignore_index, reduction=reduction)

    return [x], lambda t: F.nll_loss(t.log_softmax(1), target, weight,
                                     ignore_index=ignore_index, reduction=reduction), theirs


def _activation(name, ours, theirs_name, values=tst.float_arrays, **kwargs):
    @case(name)
    def draw(data):
        def theirs(t):
            return getattr(torch_module().nn.functional, theirs_name)(t, **kwargs)

        return [data.draw(values(shape(data)))], ours, theirs


_activation("gelu", lambda t: F.gelu(t), "gelu")
_activation("gelu_tanh", lambda t: F.gelu(t, approximate="tanh"), "gelu", approximate="tanh")
_activation("silu", lambda t: F.silu(t), "silu")
_activation("elu", lambda t: F.elu(t, 0.7), "elu", lambda s: tst.arrays_away_from(s, [0.0]),
            alpha=0.7)
_activation("logsigmoid", lambda t: F.logsigmoid(t), "logsigmoid")


# PyTorch does not differentiate the binary cross-entropies in their weight and
# pos_weight, so these are constants in the PyTorch comparison (and inputs in the finite
# differences).

@case("binary_cross_entropy")
def _bce(data):
    s = shape(data)
    x = data.draw(tst.float_arrays(s, -2.0, 2.0))
    t = data.draw(tst.float_arrays(s, 0.0, 1.0))
    w = data.draw(tst.positive_arrays(s, 0.5, 2.0))
    reduction = data.draw(st.sampled_from(["mean", "sum", "none"]))

    def theirs(z, target):
        torch = torch_module()
        return torch.nn.functional.binary_cross_entropy(
            z.sigmoid(), target, torch.from_numpy(w), reduction=reduction)

    return [x, t], lambda z, target: F.binary_cross_entropy(
        z.sigmoid(), target, w, reduction=reduction), theirs


@case("binary_cross_entropy_weight")
def _bce_weight(data):
    x = data.draw(tst.float_arrays((2, 3), -2.0, 2.0))
    t = data.draw(tst.float_arrays((2, 3), 0.0, 1.0))
    w = data.draw(tst.positive_arrays((2, 3), 0.5, 2.0))
    p = data.draw(tst.positive_arrays((3,), 0.5, 2.0))
    return [x, t, w, p], lambda z, target, weight, pos: F.binary_cross_entropy(
        z.sigmoid(), target, weight * weight) + F.binary_cross_entropy_with_logits(
        z, target, weight * weight, pos_weight=pos * pos), None


@case("binary_cross_entropy_with_logits")
def _bce_logits(data):
    x = data.draw(tst.float_arrays((2, 3)))
    t = data.draw(tst.float_arrays((2, 3), 0.0, 1.0))
    w = data.draw(tst.positive_arrays((2, 3), 0.5, 2.0))
    p = data.draw(tst.positive_arrays((3,), 0.5, 2.0))
    reduction = data.draw(st.sampled_from(["mean", "sum", "none"]))

    def theirs(z, target):
        torch = torch_module()
        return torch.nn.functional.binary_cross_entropy_with_logits(
            z, target, torch.from_numpy(w), reduction=reduction,
            pos_weight=torch.from_numpy(p))

    return [x, t], lambda z, target: F.binary_cross_entropy_with_logits(
        z, target, w, reduction=reduction, pos_weight=p), theirs


@case("smooth_l1_and_huber")
def _robust(data):
    s = shape(data)
    x = data.draw(tst.float_arrays(s))
    t = data.draw(tst.float_arrays(s))
    reduction = data.draw(st.sampled_from(["mean", "sum", "none"]))
    distance = np.abs(x * x - t)
    assume(np.all(np.abs(distance - 0.5) > 0.05) and np.all(np.abs(distance - 2.0) > 0.05))

    def ours(a, b, module=F):
        return (module.smooth_l1_loss(a * a, b, reduction=reduction, beta=0.5)
                + module.huber_loss(a * a, b, reduction=reduction, delta=2.0))

    return [x, t], ours, lambda a, b: ours(a, b, torch_module().nn.functional)


# --------------------------------------------------------------------------- layers' ops
#
# The ops of the layer families (ops/conv.py, pool.py, padding.py, norm.py, embedding.py)
# through their nn.functional forms, on small fixed geometries; each nonlinear in its
# inputs (squared or tanh) so that the second derivatives are not all zero.


def _same_in_both(draw_arrays, call):
    """A case whose op is ``call(F_module, *tensors)`` for both libraries."""
    def draw(data):
        arrays = draw_arrays(data)
        return arrays, lambda *ts: call(F, *ts), \
            lambda *ts: call(torch_module().nn.functional, *ts)
    return draw


case("conv1d_and_conv2d")(_same_in_both(
    lambda data: [data.draw(tst.float_arrays((2, 2, 5))), data.draw(tst.float_arrays((4, 1, 3))),
                  data.draw(tst.float_arrays((4,))), data.draw(tst.float_arrays((1, 2, 4, 4))),
                  data.draw(tst.float_arrays((2, 2, 2, 2)))],
    lambda F_, x, w, b, x2, w2: F_.conv1d(x * x, w, b, stride=2, padding=1, groups=2).tanh()
    .sum() * F_.conv2d(x2, w2 * w2, padding=(1, 0), dilation=(1, 2)).tanh()))

case("conv_transpose")(_same_in_both(
    lambda data: [data.draw(tst.float_arrays((1, 2, 3, 3))),
                  data.draw(tst.float_arrays((2, 2, 2, 2))),
                  data.draw(tst.float_arrays((2,)))],
    lambda F_, x, w, b: F_.conv_transpose2d(x * x, w, b, stride=2, padding=1,
                                            output_padding=1).tanh() * 2))

case("pooling")(_same_in_both(
    lambda data: [data.draw(tst.distinct_arrays((1, 2, 4, 4), 0.3, 3.0))],  # squares stay apart
    lambda F_, x: (F_.max_pool2d(x * x, 2, stride=1, padding=1).sum()
                   * F_.avg_pool2d(x * x, 3, stride=1, padding=1, count_include_pad=False)
                   + F_.adaptive_avg_pool2d(x.tanh(), (2, 3)).sum()
                   + F_.adaptive_max_pool2d(x * x * x, (3, 2)).sum())))

case("padding_modes")(_same_in_both(
    lambda data: [data.draw(tst.float_arrays((1, 2, 3, 3)))],
    lambda F_, x: (F_.pad(x * x, (1, 2, 2, 1), mode="reflect").tanh().sum()
                   * F_.pad(x * x, (1, 1, 0, 2), mode="replicate")
                   + F_.pad(x * x, (2, 1, 1, 1), mode="circular").sum()
                   + F_.pad(x * x, (1, 1, 1, 1), value=0.5).sum())))

case("unfold_fold_interpolate")(_same_in_both(
    lambda data: [data.draw(tst.float_arrays((1, 2, 4, 4)))],
    lambda F_, x: (F_.fold(F_.unfold(x * x, 2, padding=1, stride=2), (4, 4), 2, padding=1,
                           stride=2).tanh().sum()
                   * F_.interpolate(x * x, scale_factor=2, mode="bilinear",
                                    align_corners=False))))

# Spread-out values: with (nearly) equal ones a variance near 0 makes 1 / sqrt(var + eps)
# so steep that central differences lose their accuracy.
case("normalization", atol=1e-4)(_same_in_both(
    lambda data: [data.draw(tst.distinct_arrays((3, 4, 2))), data.draw(tst.float_arrays((4,))),
                  data.draw(tst.float_arrays((4,)))],
    lambda F_, x, w, b: (F_.batch_norm(x, None, None, w, b, training=True).tanh().sum()
                         * F_.layer_norm(x, (4, 2))
                         + F_.group_norm(x * x, 2, w, b).tanh().sum())))


@case("embedding")
def _embedding(data):
    weight = data.draw(tst.float_arrays((5, 3)))
    index = data.draw(hnp.arrays(np.int64, (2, 3), elements=st.integers(0, 4)))
    bags = data.draw(hnp.arrays(np.int64, (3, 2), elements=st.integers(0, 4)))

    def ours(w):
        return (F.embedding(index, w * w).tanh().sum() * F.embedding_bag(bags, w * w)
                + F.embedding_bag(bags, w.tanh(), mode="sum").sum())

    return [weight], ours, None  # PyTorch cannot differentiate embedding_bag twice


@case("embedding_lookup")
def _embedding_lookup(data):
    weight = data.draw(tst.float_arrays((5, 3)))
    index = data.draw(hnp.arrays(np.int64, (2, 3), elements=st.integers(0, 4)))

    def theirs(w):
        torch = torch_module()
        return torch.nn.functional.embedding(torch.from_numpy(index), w * w).tanh()

    return [weight], lambda w: F.embedding(index, w * w).tanh(), theirs


@case("scaled_dot_product_attention")
def _attention(data):
    q, k, v = (data.draw(tst.float_arrays((1, 2, 3, 4), -1.0, 1.0)) for _ in range(3))
    causal = data.draw(st.booleans())

    def ours(a, b, c):
        return F.scaled_dot_product_attention(a, b, c * c, is_causal=causal)

    def theirs(a, b, c):  # PyTorch's fused CPU kernel has no double backward: its math
        torch = torch_module()
        scores = a @ b.transpose(-1, -2) / 2.0  # sqrt(head dim 4)
        if causal:
            scores = scores.masked_fill(~torch.ones(3, 3, dtype=torch.bool).tril(), -np.inf)
        return scores.softmax(-1) @ (c * c)

    return [q, k, v], ours, theirs


# --------------------------------------------------------------------------- the checks

def _draw(name, data):
    draw, tolerances = CASES[name]
    arrays, ours, theirs = draw(data)
    return [np.asarray(a, np.float64) for a in arrays], ours, theirs, tolerances


@pytest.mark.parametrize("name", sorted(CASES))
@settings(max_examples=8, deadline=None)
@given(data=st.data())
def test_second_derivatives_match_finite_differences(name, data):
    arrays, ours, _, tolerances = _draw(name, data)
    assert gradgradcheck(ours, [Tensor(a, requires_grad=True) for a in arrays], **tolerances)


def _second_derivatives(module, make, arrays, ours, weights, grad_fn):
    xs = [make(a) for a in arrays]
    out = ours(*xs)
    v = make(weights[0])
    firsts = grad_fn(out, xs, v, create_graph=True, allow_unused=True)
    total = sum((g * make(w)).sum() for g, w in zip(firsts, weights[1:]) if g is not None)
    seconds = [None] * len(xs)
    if getattr(total, "requires_grad", False):
        seconds = grad_fn(total, xs, allow_unused=True)
    as_array = lambda g, a: np.zeros(a.shape) if g is None else g.detach().numpy()  # noqa
    return ([as_array(g, a) for g, a in zip(firsts, arrays)],
            [as_array(g, a) for g, a in zip(seconds, arrays)])


@pytest.mark.parametrize("name", sorted(CASES))
@settings(max_examples=8, deadline=None)
@given(data=st.data())
def test_second_derivatives_match_pytorch(name, data):
    torch = torch_module()
    arrays, ours, theirs, _ = _draw(name, data)
    if theirs is None:
        pytest.skip(f"{name}: no PyTorch twin (see the case for why)")
    rng = np.random.default_rng(0)
    with torch.no_grad():
        out_shape = tuple(theirs(*[torch.from_numpy(a) for a in arrays]).shape)
    weights = [rng.uniform(0.5, 1.5, out_shape)] + [rng.uniform(-1, 1, a.shape)
                                                     for a in arrays]
    got = _second_derivatives(
        tg, lambda a: Tensor(np.array(a, np.float64), requires_grad=True), arrays, ours,
        weights, grad)
    expected = _second_derivatives(
        torch, lambda a: torch.tensor(np.array(a, np.float64), requires_grad=True), arrays,
        theirs, weights, torch.autograd.grad)
    for order, (ours_, theirs_) in enumerate(zip(got, expected), start=1):
        for i, (g, e) in enumerate(zip(ours_, theirs_)):
            np.testing.assert_allclose(g, e, rtol=1e-7, atol=1e-9,
                                       err_msg=f"{name}: derivative {order}, input {i}")


def test_every_array_function_has_a_differentiable_backward():
    """New ops must come with their Tensor-level backward (TEAM.md's protocol)."""
    import importlib
    import pkgutil

    from tinygrad_fm.autograd import ArrayFunction

    for module in pkgutil.walk_packages(tg.__path__, "tinygrad_fm."):
        try:
            importlib.import_module(module.name)
        except ImportError:  # an optional extra (numba) that is not installed
            continue

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    ops = [c for c in subclasses(ArrayFunction) if c.__module__.startswith("tinygrad_fm.")]
    assert len(ops) > 50
    missing = sorted(f"{c.__module__}.{c.__name__}" for c in ops
                     if c.differentiable_backward is None)
    assert not missing, f"ops without differentiable_backward: {missing}"
