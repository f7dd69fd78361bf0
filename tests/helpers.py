"""What the test modules share: Hypothesis strategies for tensors and gradient helpers.

Shapes are small -- at most 4 axes and 4 elements per axis, and include 0-d arrays and
size-1 axes -- so that finite-difference gradchecks stay fast. Value strategies keep
each op inside the region where it is smooth: positive for log/sqrt, away from the kinks
of relu/abs/clip, far enough apart for max/min/maximum to have a unique winner.

All value strategies draw float64 arrays (what ``gradcheck`` needs); tests that need
float32 cast with ``.astype(np.float32)``.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinygrad_fm import Tensor, gradcheck
from tinygrad_fm.autograd import ArrayFunction

MAX_DIMS = 4
MAX_SIDE = 4

__all__ = [
    "assert_gradcheck",
    "assert_matches_torch",
    "assert_gradgradcheck",
    "assert_derivatives_match_torch",
    "RecordGradDtype",
    "ArrayCube",
    "MAX_DIMS",
    "MAX_SIDE",
    "shapes",
    "broadcastable_shapes",
    "bounded_floats",
    "float_arrays",
    "positive_arrays",
    "nonzero_arrays",
    "arrays_away_from",
    "distinct_arrays",
    "separated_pair",
    "reduction_axes",
    "single_axis",
    "matmul_shapes",
    "basic_indices",
    "integer_array_index",
    "boolean_mask_index",
    "cat_arrays",
    "conv_cases",
    "pool_cases",
]


# --------------------------------------------------------------------------- shapes

def shapes(min_dims: int = 0, max_dims: int = MAX_DIMS, min_side: int = 1,
           max_side: int = MAX_SIDE) -> st.SearchStrategy[tuple]:
    """Array shapes, 0-d included by default; 4-axis shapes use sides of at most 3."""
    if max_dims < MAX_DIMS or max_side < 4:
        return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                                max_side=max_side)
    return st.one_of(
        hnp.array_shapes(min_dims=min_dims, max_dims=MAX_DIMS - 1, min_side=min_side,
                         max_side=max_side),
        hnp.array_shapes(min_dims=MAX_DIMS, max_dims=MAX_DIMS, min_side=min_side,
                         max_side=3))


def broadcastable_shapes(num_shapes: int = 2, min_dims: int = 0, max_dims: int = MAX_DIMS,
                         max_side: int = MAX_SIDE) -> st.SearchStrategy[tuple]:
    """A tuple of ``num_shapes`` shapes that broadcast together, e.g. ((3, 1), (4,))."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=num_shapes, min_dims=min_dims, max_dims=max_dims, max_side=max_side,
    ).map(lambda drawn: drawn.input_shapes)


# --------------------------------------------------------------------------- values

def bounded_floats(low: float = -3.0, high: float = 3.0) -> st.SearchStrategy[float]:
    return st.floats(low, high, allow_nan=False, allow_infinity=False)


def float_arrays(shape, low: float = -3.0, high: float = 3.0) -> st.SearchStrategy:
    """float64 arrays of ``shape`` with values in [low, high]."""
    return hnp.arrays(np.float64, shape, elements=bounded_floats(low, high))


def positive_arrays(shape, low: float = 0.2, high: float = 4.0) -> st.SearchStrategy:
    """Values in the domain of log, sqrt and non-integer powers."""
    return float_arrays(shape, low, high)


def nonzero_arrays(shape, margin: float = 0.3, high: float = 3.0) -> st.SearchStrategy:
    """Values with |v| in [margin, high]: safe as divisors."""
    magnitude = bounded_floats(margin, high)
    return hnp.arrays(np.float64, shape,
                      elements=st.tuples(st.booleans(), magnitude).map(
                          lambda pair: pair[1] if pair[0] else -pair[1]))


def arrays_away_from(shape, points, margin: float = 0.05, low: float = -3.0,
                     high: float = 3.0) -> st.SearchStrategy:
    """Values at least ``margin`` from every point in ``points`` (the kinks of relu,
    abs, clip, ...), so a central difference never straddles one."""
    points = tuple(points)
    elements = bounded_floats(low, high).filter(
        lambda v: all(abs(v - p) >= margin for p in points))
    return hnp.arrays(np.float64, shape, elements=elements)


@st.composite
def distinct_arrays(draw, shape, low: float = -3.0, high: float = 3.0):
    """Values that are pairwise apart by at least half of (high - low) / size, so every
    max/min (over any axes) has a unique winner."""
    size = math.prod(shape)
    rank = np.array(draw(st.permutations(range(size))), dtype=np.float64)
    jitter = draw(hnp.arrays(np.float64, (size,), elements=bounded_floats(0.0, 0.5)))
    step = (high - low) / max(size, 1)
    return (low + (rank + jitter) * step).reshape(shape)


def _grid_values(offset: float):
    # k/2 + offset + jitter, |jitter| <= 0.1: two grids with offsets 0 and 0.25 never come
    # closer than 0.05 to each other.
    return st.tuples(st.integers(-6, 6), bounded_floats(-0.1, 0.1)).map(
        lambda pair: 0.5 * pair[0] + offset + pair[1])


@st.composite
def separated_pair(draw, shape_a, shape_b):
    """Two arrays whose elements differ by at least 0.05 wherever they meet after
    broadcasting (so maximum/minimum never tie), in random order of which is larger."""
    offsets = draw(st.sampled_from([(0.0, 0.25), (0.25, 0.0)]))
    a = draw(hnp.arrays(np.float64, shape_a, elements=_grid_values(offsets[0])))
    b = draw(hnp.arrays(np.float64, shape_b, elements=_grid_values(offsets[1])))
    return a, b


# --------------------------------------------------------------------------- axes

@st.composite
def reduction_axes(draw, ndim: int, allow_none: bool = True):
    """None, one axis, or a tuple of distinct axes, each possibly negative.
    A 0-d array accepts axis 0 and -1 (as in PyTorch)."""
    kinds = ["int", "tuple"] + (["none"] if allow_none else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "none":
        return None
    if ndim == 0:
        axis = draw(st.sampled_from([0, -1]))
        return axis if kind == "int" else (axis,)
    if kind == "int":
        return draw(single_axis(ndim))
    chosen = draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim,
                           unique=True))
    negate = draw(st.lists(st.booleans(), min_size=len(chosen), max_size=len(chosen)))
    return tuple(a - ndim if flip else a for a, flip in zip(chosen, negate))


def single_axis(ndim: int) -> st.SearchStrategy[int]:
    """One valid axis of an ``ndim``-axis array, negative ones included."""
    if ndim == 0:
        return st.sampled_from([0, -1])
    return st.integers(-ndim, ndim - 1)


# --------------------------------------------------------------------------- matmul

@st.composite
def matmul_shapes(draw):
    """Shapes (a, b) that np.matmul accepts: 1-D vectors, 2-D matrices, and N-D stacks
    whose batch axes broadcast (up to 4 axes in all)."""
    n, k, m = (draw(st.integers(1, MAX_SIDE)) for _ in range(3))
    a_vector, b_vector = draw(st.booleans()), draw(st.booleans())
    batch_a, batch_b = draw(broadcastable_shapes(2, min_dims=0, max_dims=2, max_side=3))
    a_shape = (k,) if a_vector else batch_a + (n, k)
    b_shape = (k,) if b_vector else batch_b + (k, m)
    return a_shape, b_shape


# --------------------------------------------------------------------------- indexing

def basic_indices(shape) -> st.SearchStrategy:
    """Ints, slices (negative steps too), None and Ellipsis."""
    return hnp.basic_indices(shape, min_dims=0, allow_newaxis=True, allow_ellipsis=True)


@st.composite
def integer_array_index(draw, shape):
    """Integer index arrays (negative entries too, repeats likely -- which must accumulate
    in the gradient): one array for axis 0, or a tuple of arrays, one per axis."""
    result_shape = hnp.array_shapes(min_dims=1, max_dims=2, max_side=5)
    if len(shape) > 1 and draw(st.booleans()):
        return draw(hnp.integer_array_indices(shape, result_shape=result_shape))
    n = shape[0]
    return draw(hnp.arrays(np.int64, result_shape, elements=st.integers(-n, n - 1)))


@st.composite
def boolean_mask_index(draw, shape):
    """A boolean mask over the leading ``k`` axes of ``shape`` (k >= 1)."""
    leading = draw(st.integers(1, len(shape)))
    return draw(hnp.arrays(np.bool_, shape[:leading]))


# --------------------------------------------------------------------------- cat / stack

@st.composite
def cat_arrays(draw, same_shape: bool = False):
    """(arrays, axis): 1-3 arrays of at least one axis that agree except along ``axis``
    (or everywhere, with ``same_shape``, for stack)."""
    base = draw(shapes(min_dims=1, max_dims=3))
    count = draw(st.integers(1, 3))
    axis = draw(single_axis(len(base)))
    arrays = []
    for _ in range(count):
        shape = list(base)
        if not same_shape:
            shape[axis] = draw(st.integers(1, 3))
        arrays.append(draw(float_arrays(tuple(shape))))
    return arrays, axis


# --------------------------------------------------------------------------- gradients


def assert_gradcheck(fn, *arrays):
    """Analytic gradients of ``fn`` w.r.t. every array equal central differences."""
    assert gradcheck(fn, [Tensor(np.asarray(a, np.float64), requires_grad=True)
                          for a in arrays])


def assert_matches_torch(fn, *arrays, rtol=1e-9):
    """``fn(library, *tensors)`` gives the same values with PyTorch as with tinygrad_fm,
    and the same gradients of ``sum(out * w)`` for a random ``w`` (arrays: float64)."""
    import pytest
    import tinygrad_fm

    torch = pytest.importorskip("torch")
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    ours = [Tensor(np.array(a), requires_grad=True) for a in arrays]
    out_t, out_o = fn(torch, *theirs), fn(tinygrad_fm, *ours)
    np.testing.assert_allclose(out_o.data, out_t.detach().numpy(), rtol=rtol, atol=1e-12)
    weight = np.random.default_rng(0).standard_normal(out_o.shape)
    (out_t * torch.tensor(weight)).sum().backward()
    (out_o * Tensor(weight)).sum().backward()
    for t, o in zip(theirs, ours):
        zeros = np.zeros_like(t.detach().numpy())  # a missing gradient is a zero one
        expected = zeros if t.grad is None else t.grad.numpy()
        got = zeros if o.grad is None else o.grad.data
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=1e-10)


def assert_gradgradcheck(fn, *arrays):
    """Second derivatives (through each op's differentiable_backward) equal central
    differences of the first."""
    from tinygrad_fm.autograd import gradgradcheck

    assert gradgradcheck(fn, [Tensor(np.asarray(a, np.float64), requires_grad=True)
                              for a in arrays])


def assert_derivatives_match_torch(fn, *arrays):
    """``fn(library, *tensors)``: first and second derivatives by finite differences, and
    values and gradients equal to PyTorch's."""
    import tinygrad_fm

    assert_gradcheck(lambda *ts: fn(tinygrad_fm, *ts), *arrays)
    assert_gradgradcheck(lambda *ts: fn(tinygrad_fm, *ts), *arrays)
    assert_matches_torch(fn, *arrays)


class RecordGradDtype(ArrayFunction):
    """Identity whose backward records the dtype of the gradient it receives."""

    seen = []

    @staticmethod
    def forward(ctx, x):
        return x

    @staticmethod
    def backward(ctx, grad):
        RecordGradDtype.seen.append(grad.dtype)
        return grad


class ArrayCube(ArrayFunction):
    """x ** 3 as an array-level op with no differentiable_backward (first order only)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return 3 * x * x * grad


# --------------------------------------------------------------------------- layer geometries

@st.composite
def conv_cases(draw, dims: int, transposed: bool = False):
    """(input shape, weight shape, keyword arguments) of a small convolution whose
    padded input holds the kernel: odd sizes, strides, dilations, groups, paddings."""
    groups = draw(st.integers(1, 3))
    in_per_group, out_per_group = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    batch = draw(st.integers(1, 2))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(dims))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(dims))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(dims))
    span = tuple(d * (k - 1) + 1 for d, k in zip(dilation, kernel))
    kwargs = {"stride": stride, "dilation": dilation, "groups": groups}
    if transposed:
        padding = tuple(draw(st.integers(0, s - 1)) for s in span)
        output_padding = tuple(draw(st.integers(0, max(s, d) - 1))
                               for s, d in zip(stride, dilation))
        # The output, (n - 1) * s - 2 * p + span + o, must not be empty.
        smallest = tuple(1 + max(0, -(-(2 * p + 1 - sp - o) // s)) for p, sp, o, s
                         in zip(padding, span, output_padding, stride))
        size = tuple(draw(st.integers(m, m + 3)) for m in smallest)
        kwargs.update(padding=padding, output_padding=output_padding)
        weight = (in_per_group * groups, out_per_group) + kernel
        channels = in_per_group * groups
    else:
        kind = draw(st.sampled_from(["int", "same", "valid"] if stride == (1,) * dims
                                    else ["int", "valid"]))
        padding = tuple(draw(st.integers(0, 2)) for _ in range(dims))
        kwargs["padding"] = padding if kind == "int" else kind
        pads = [2 * p for p in padding] if kind == "int" else \
            [s - 1 for s in span] if kind == "same" else [0] * dims
        size = tuple(draw(st.integers(max(1, s - p), max(1, s - p) + 4))
                     for s, p in zip(span, pads))
        weight = (out_per_group * groups, in_per_group) + kernel
        channels = in_per_group * groups
    return (batch, channels) + size, weight, kwargs


@st.composite
def pool_cases(draw, dims: int, max_pool: bool):
    """(input shape, keyword arguments) of a small pooling with a non-empty output."""
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(dims))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(dims))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(dims)) if max_pool else \
        (1,) * dims
    span = tuple(d * (k - 1) + 1 for d, k in zip(dilation, kernel))
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)  # PyTorch's bound
    size = tuple(draw(st.integers(max(1, s - 2 * p), max(1, s - 2 * p) + 4))
                 for s, p in zip(span, padding))
    kwargs = {"kernel_size": kernel, "stride": stride, "padding": padding,
              "ceil_mode": draw(st.booleans())}
    if max_pool:
        kwargs["dilation"] = dilation
    else:
        kwargs["count_include_pad"] = draw(st.booleans())
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3))) + size
    return shape, kwargs
