"""The indexing, sorting and shaping ops PyTorch users reach for: gather, scatter,
scatter_add, masked_fill, clamp_min/max, norm, topk, sort, cumsum, flip, roll, repeat,
tile, chunk, split, outer, diag, tril and triu.

Each is checked against a NumPy reference (often a plain loop over the definition) and
by gradcheck in float64 on Hypothesis-drawn shapes (0-size and size-1 axes included where
the op allows them), then float32 preservation, error messages and PyTorch itself.
"""

import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_fm as tg
from tinygrad_fm import Tensor

import helpers as tst
from helpers import RecordGradDtype, assert_gradcheck

INF = float("inf")


def assert_forward(fn, expected, *arrays):
    got = fn(*[Tensor(np.asarray(a, np.float64)) for a in arrays])
    expected = np.asarray(expected)
    assert isinstance(got, Tensor)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got.data, expected, rtol=1e-10, atol=1e-12)


def shapes_with_empty(min_dims=1, max_dims=3):
    """Shapes whose axes may have size 0 or 1."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=0, max_side=3)


@st.composite
def signed_distinct(draw, shape):
    """Pairwise distinct magnitudes in [0.3, 3] with random signs: smooth for every
    p-norm (no zeros, no ties of |x| for the inf-norm)."""
    magnitudes = draw(tst.distinct_arrays(shape, 0.3, 3.0))
    signs = draw(hnp.arrays(np.bool_, shape))
    return np.where(signs, magnitudes, -magnitudes)


# --------------------------------------------------------------------------- gather / scatter


@st.composite
def index_case(draw, unique=False, with_src=False):
    """(x shape, dim, index[, src shape]) within PyTorch's rules: the index has x's
    number of axes, is no larger than x outside ``dim`` (and than src everywhere), and
    holds values in [0, x.shape[dim]). ``unique``: no index repeats within a fiber along
    ``dim`` (where scatter's result is well defined)."""
    shape = draw(shapes_with_empty(max_dims=3))
    ndim = len(shape)
    dim = draw(st.integers(-ndim, ndim - 1))
    axis = dim % ndim
    n = shape[axis]
    index_shape = [draw(st.integers(0, side)) for side in shape]
    index_shape[axis] = draw(st.integers(0, n if unique else (3 if n else 0)))
    index_shape = tuple(index_shape)
    if unique:
        seed = draw(st.integers(0, 2 ** 32 - 1))
        full = list(index_shape)
        full[axis] = n
        order = np.random.default_rng(seed).random(tuple(full)).argsort(axis=axis)
        index = np.take(order, np.arange(index_shape[axis]), axis=axis).astype(np.int64)
    else:
        index = draw(hnp.arrays(np.int64, index_shape, elements=st.integers(0, max(n - 1, 0))))
    if not with_src:
        return shape, dim, index
    src_shape = tuple(k + draw(st.integers(0, 1)) for k in index_shape)
    return shape, dim, index, src_shape


def gather_reference(x, dim, index):
    out = np.zeros(index.shape)
    for position in np.ndindex(index.shape):
        source = list(position)
        source[dim] = index[position]
        out[position] = x[tuple(source)]
    return out


def scatter_reference(x, dim, index, src, add):
    out = np.array(x, dtype=np.float64, copy=True)
    for position in np.ndindex(index.shape):
        target = list(position)
        target[dim] = index[position]
        value = src if np.ndim(src) == 0 else src[position]
        if add:
            out[tuple(target)] += value
        else:
            out[tuple(target)] = value
    return out


@given(case=index_case(), data=st.data())
def test_gather_matches_its_definition_and_gradcheck(case, data):
    shape, dim, index = case
    x = data.draw(tst.float_arrays(shape), label="x")
    as_tensor = data.draw(st.booleans(), label="index as Tensor")
    idx = Tensor(index) if as_tensor else index
    assert_forward(lambda t: t.gather(dim, idx), gather_reference(x, dim, index), x)
    assert_forward(lambda t: tg.gather(t, dim, idx), gather_reference(x, dim, index), x)
    assert_gradcheck(lambda t: t.gather(dim, idx), x)


@given(case=index_case())
def test_gather_gradient_counts_repeated_indices(case):
    shape, dim, index = case
    t = Tensor(np.zeros(shape), requires_grad=True)
    t.gather(dim, index).sum().backward()
    counts = scatter_reference(np.zeros(shape), dim % len(shape), index, 1.0, add=True)
    np.testing.assert_array_equal(t.grad.data, counts)


def test_gather_and_scatter_on_a_0d_tensor():
    x = Tensor(np.array(2.5), requires_grad=True)
    out = x.gather(0, np.array(0))
    assert out.shape == () and out.item() == 2.5
    (out * 3).backward()
    assert x.grad.item() == 3
    assert x.scatter(-1, np.array(0), 7.0).item() == 7
    assert x.scatter_add(0, np.array(0), np.array(1.0)).item() == 3.5


@given(case=index_case(unique=True, with_src=True), data=st.data())
def test_scatter_matches_its_definition_and_gradcheck(case, data):
    shape, dim, index, src_shape = case
    x = data.draw(tst.float_arrays(shape), label="x")
    src = data.draw(tst.float_arrays(src_shape), label="src")
    expected = scatter_reference(x, dim % len(shape), index, src, add=False)
    assert_forward(lambda t, s: t.scatter(dim, index, s), expected, x, src)
    assert_forward(lambda t, s: tg.scatter(t, dim, index, s), expected, x, src)
    assert_gradcheck(lambda t, s: t.scatter(dim, index, s), x, src)
    value = data.draw(tst.bounded_floats(), label="value")
    expected = scatter_reference(x, dim % len(shape), index, value, add=False)
    assert_forward(lambda t: t.scatter(dim, index, value), expected, x)
    assert_forward(lambda t: t.scatter(dim, index, value=value), expected, x)
    assert_gradcheck(lambda t: t.scatter(dim, index, value), x)


@given(case=index_case(with_src=True), data=st.data())
def test_scatter_add_accumulates_repeats_and_gradcheck(case, data):
    shape, dim, index, src_shape = case
    x = data.draw(tst.float_arrays(shape), label="x")
    src = data.draw(tst.float_arrays(src_shape), label="src")
    expected = scatter_reference(x, dim % len(shape), index, src, add=True)
    assert_forward(lambda t, s: t.scatter_add(dim, index, s), expected, x, src)
    assert_forward(lambda t, s: tg.scatter_add(t, dim, index, s), expected, x, src)
    assert_gradcheck(lambda t, s: t.scatter_add(dim, index, s), x, src)


def test_scatter_is_out_of_place():
    x = Tensor(np.zeros((2, 3)), requires_grad=True)
    out = x.scatter(1, np.array([[2], [0]]), 5.0)
    out2 = x.scatter_add(0, np.array([[1, 1, 1]]), np.ones((1, 3)))
    np.testing.assert_array_equal(x.data, np.zeros((2, 3)))
    np.testing.assert_array_equal(out.data, [[0, 0, 5], [5, 0, 0]])
    np.testing.assert_array_equal(out2.data, [[0, 0, 0], [1, 1, 1]])


# --------------------------------------------------------------------------- masked_fill, clamp


@given(shapes=tst.broadcastable_shapes(), data=st.data())
def test_masked_fill_broadcasts_like_torch_and_gradcheck(shapes, data):
    shape, mask_shape = shapes
    x = data.draw(tst.float_arrays(shape), label="x")
    mask = data.draw(hnp.arrays(np.bool_, mask_shape), label="mask")
    value = data.draw(tst.bounded_floats(), label="value")
    as_tensor = data.draw(st.booleans(), label="mask as Tensor")
    m = Tensor(mask) if as_tensor else mask
    expected = np.where(mask, value, x)
    assert_forward(lambda t: t.masked_fill(m, value), expected, x)
    assert_forward(lambda t: tg.masked_fill(t, m, value), expected, x)
    assert_gradcheck(lambda t: t.masked_fill(m, value), x)
    # a 0-d tensor value is differentiable too
    assert_gradcheck(lambda t, v: t.masked_fill(m, v), x, np.array(value))


@pytest.mark.parametrize("name", ["clamp_min", "clamp_max"])
@given(shape=tst.shapes(), bound=st.sampled_from([-1.0, 0.0, 0.5]), data=st.data())
def test_clamp_min_and_max_match_numpy_and_gradcheck(name, shape, bound, data):
    x = data.draw(tst.arrays_away_from(shape, [bound]), label="x")
    reference = (np.maximum if name == "clamp_min" else np.minimum)(x, bound)
    assert_forward(lambda t: getattr(t, name)(bound), reference, x)
    assert_forward(lambda t: getattr(tg, name)(t, bound), reference, x)
    assert_gradcheck(lambda t: getattr(t, name)(bound), x)


# --------------------------------------------------------------------------- norm


def norm_reference(x, p, axis, keepdims):
    axis = None if axis is None else tuple(a % x.ndim for a in np.atleast_1d(axis)) \
        if x.ndim else ()
    a = np.abs(x)
    if p == INF:
        return np.max(a, axis=axis, keepdims=keepdims)
    if p == -INF:
        return np.min(a, axis=axis, keepdims=keepdims)
    if p == 0:
        return np.sum(a != 0, axis=axis, keepdims=keepdims).astype(float)
    return np.sum(a ** p, axis=axis, keepdims=keepdims) ** (1 / p)


NORM_PS = [1, 2, INF, -INF, 0.5, 1.5, 3, 4.5]


@pytest.mark.parametrize("p", NORM_PS, ids=str)
@given(data=st.data())
def test_norm_matches_reference_and_gradcheck(p, data):
    shape = data.draw(tst.shapes(), label="shape")
    axis = data.draw(tst.reduction_axes(len(shape)), label="dim")
    keepdims = data.draw(st.booleans(), label="keepdim")
    x = data.draw(signed_distinct(shape), label="x")

    def op(t):
        return t.norm(p, dim=axis, keepdim=keepdims)

    expected = norm_reference(x, p, axis, keepdims)
    if axis is None and keepdims:  # torch: every axis kept, as size 1
        expected = expected.reshape((1,) * len(shape))
    assert_forward(op, expected, x)
    assert_gradcheck(op, x)


@pytest.mark.parametrize("p", [1, 2, 3, 0.5, 0], ids=str)
@given(shape=shapes_with_empty(), data=st.data())
def test_norm_of_empty_and_size_one_axes(p, shape, data):
    x = data.draw(signed_distinct(shape), label="x")
    axis = data.draw(tst.single_axis(len(shape)), label="dim")
    assert_forward(lambda t: t.norm(p, axis), norm_reference(x, p, axis, False), x)
    assert_forward(lambda t: t.norm(p), norm_reference(x, p, None, False), x)
    if p:
        assert_gradcheck(lambda t: t.norm(p, axis), x)


def test_norm_defaults_fro_and_axis_names():
    x = np.arange(6.0).reshape(2, 3)
    t = Tensor(x)
    np.testing.assert_allclose(t.norm().data, np.linalg.norm(x))
    np.testing.assert_allclose(t.norm("fro").data, np.linalg.norm(x))
    np.testing.assert_allclose(tg.norm(t, 1, 1).data, [3, 12])
    np.testing.assert_allclose(t.norm(axis=0, keepdims=True).data,
                               np.linalg.norm(x, axis=0, keepdims=True))
    assert t.norm(keepdim=True).shape == (1, 1)
    zero_count = Tensor(np.array([0.0, 1.5, -2.0]), requires_grad=True)
    out = zero_count.norm(0)
    out.backward()
    assert out.item() == 2 and np.all(zero_count.grad.data == 0)


@pytest.mark.parametrize("p", [1, 2, 3, 1.5, 0.5, INF, -INF])
def test_norm_gradient_at_zero_is_zero(p):
    """torch's subgradient choice: where the norm (or an element, for p < 1) is 0 the
    gradient is 0, never NaN."""
    x = Tensor(np.zeros((2, 3)), requires_grad=True)
    x.norm(p).backward()
    np.testing.assert_array_equal(x.grad.data, np.zeros((2, 3)))
    x = Tensor(np.array([[0.0, 0.0], [0.0, 2.0]]), requires_grad=True)
    x.norm(p, dim=1).sum().backward()
    assert np.isfinite(x.grad.data).all()
    assert x.grad.data[0].tolist() == [0, 0]


# --------------------------------------------------------------------------- cumsum


@given(data=st.data())
def test_cumsum_matches_numpy_and_gradcheck(data):
    shape = data.draw(st.one_of(tst.shapes(), shapes_with_empty()), label="shape")
    dim = data.draw(tst.single_axis(len(shape)), label="dim")
    x = data.draw(tst.float_arrays(shape), label="x")
    expected = x.copy() if x.ndim == 0 else np.cumsum(x, axis=dim)
    assert_forward(lambda t: t.cumsum(dim), expected, x)
    assert_forward(lambda t: t.cumsum(axis=dim), expected, x)
    assert_forward(lambda t: tg.cumsum(t, dim=dim), expected, x)
    assert_gradcheck(lambda t: t.cumsum(dim), x)


# --------------------------------------------------------------------------- topk / sort


def reference_order(x, axis, descending):
    """Stable order along ``axis`` by a plain sort of each fiber."""
    moved = np.moveaxis(x, axis, -1)
    out = np.empty(moved.shape, dtype=np.int64)
    for position in np.ndindex(moved.shape[:-1]):
        fiber = list(moved[position])
        out[position] = sorted(range(len(fiber)), key=lambda i: fiber[i], reverse=descending) \
            if not descending else sorted(range(len(fiber)), key=lambda i: -fiber[i])
    return np.moveaxis(out, -1, axis)


@given(data=st.data())
def test_topk_matches_a_sort_and_gradcheck(data):
    shape = data.draw(st.one_of(tst.shapes(min_dims=1), shapes_with_empty()), label="shape")
    dim = data.draw(tst.single_axis(len(shape)), label="dim")
    k = data.draw(st.integers(0, shape[dim]), label="k")
    largest = data.draw(st.booleans(), label="largest")
    x = data.draw(tst.distinct_arrays(shape), label="x")
    values, indices = Tensor(x).topk(k, dim, largest=largest)
    order = np.take(reference_order(x, dim % len(shape), largest), np.arange(k), axis=dim)
    np.testing.assert_array_equal(indices.data, order)
    assert indices.dtype == np.int64 and not indices.requires_grad
    np.testing.assert_array_equal(values.data, np.take_along_axis(x, order, dim))
    result = tg.topk(Tensor(x), k, dim=dim, largest=largest)
    assert result.values.shape == values.shape and result.indices is not None
    assert_gradcheck(lambda t: t.topk(k, dim, largest).values, x)


@given(data=st.data())
def test_sort_matches_a_sort_and_gradcheck(data):
    shape = data.draw(st.one_of(tst.shapes(), shapes_with_empty()), label="shape")
    dim = data.draw(tst.single_axis(len(shape)), label="dim")
    descending = data.draw(st.booleans(), label="descending")
    x = data.draw(tst.distinct_arrays(shape), label="x")
    values, indices = Tensor(x).sort(dim, descending)
    if x.ndim:
        order = reference_order(x, dim % len(shape), descending)
        np.testing.assert_array_equal(indices.data, order)
        np.testing.assert_array_equal(values.data, np.take_along_axis(x, order, dim))
    else:
        assert indices.item() == 0 and values.item() == x.item()
    result = tg.sort(Tensor(x), dim=dim, descending=descending)
    np.testing.assert_array_equal(result.values.data, values.data)
    assert_gradcheck(lambda t: t.sort(dim, descending).values, x)


def test_sort_is_stable_and_puts_nan_where_torch_does():
    x = Tensor([2.0, 1.0, 2.0, float("nan"), 1.0])
    assert x.sort().indices.tolist() == [1, 4, 0, 2, 3]
    assert x.sort(descending=True).indices.tolist() == [3, 0, 2, 1, 4]
    assert x.topk(2).indices.tolist() == [3, 0]
    assert x.topk(2, largest=False).indices.tolist() == [1, 4]


def test_topk_gradient_of_tied_values_goes_to_the_chosen_elements():
    x = Tensor([1.0, 3.0, 3.0, 0.0], requires_grad=True)
    values, indices = x.topk(1)
    values.sum().backward()
    assert indices.tolist() == [1] and x.grad.tolist() == [0, 1, 0, 0]


# --------------------------------------------------------------------------- flip / roll


@given(data=st.data())
def test_flip_matches_numpy_and_gradcheck(data):
    shape = data.draw(st.one_of(tst.shapes(min_dims=1), shapes_with_empty()), label="shape")
    dims = tuple(data.draw(st.lists(tst.single_axis(len(shape)), max_size=len(shape),
                                    unique_by=lambda a: a % len(shape)), label="dims"))
    x = data.draw(tst.float_arrays(shape), label="x")
    expected = np.flip(x, tuple(d % len(shape) for d in dims))
    assert_forward(lambda t: t.flip(dims), expected, x)
    assert_forward(lambda t: t.flip(*dims), expected, x)
    assert_forward(lambda t: tg.flip(t, dims), expected, x)
    assert_gradcheck(lambda t: t.flip(dims), x)


def test_flip_returns_a_copy_like_torch():
    x = Tensor(np.arange(3.0))
    y = x.flip(0)
    y.add_(10)
    assert x.tolist() == [0, 1, 2] and y.tolist() == [12, 11, 10]


@given(data=st.data())
def test_roll_matches_numpy_and_gradcheck(data):
    shape = data.draw(st.one_of(tst.shapes(min_dims=1), shapes_with_empty()), label="shape")
    count = data.draw(st.integers(0, 3), label="number of dims")
    dims = tuple(data.draw(st.lists(tst.single_axis(len(shape)), min_size=count,
                                    max_size=count), label="dims"))
    shifts = tuple(data.draw(st.lists(st.integers(-5, 5), min_size=count, max_size=count)))
    x = data.draw(tst.float_arrays(shape), label="x")
    if count:
        expected = np.roll(x, shifts, dims)
        call = (lambda t: t.roll(shifts, dims)) if count > 1 else \
            (lambda t: t.roll(shifts[0], dims[0]))
    else:
        shift = data.draw(st.integers(-5, 5), label="flat shift")
        expected = np.roll(x, shift)
        call = lambda t: t.roll(shift)  # noqa: E731
    assert_forward(call, expected, x)
    assert_gradcheck(call, x)


# --------------------------------------------------------------------------- repeat / tile


@given(data=st.data())
def test_repeat_and_tile_match_numpy_and_gradcheck(data):
    shape = data.draw(st.one_of(tst.shapes(max_dims=3), shapes_with_empty()), label="shape")
    extra = data.draw(st.integers(0, 2), label="extra leading counts")
    reps = tuple(data.draw(st.lists(st.integers(0, 3), min_size=len(shape) + extra,
                                    max_size=len(shape) + extra), label="reps"))
    x = data.draw(tst.float_arrays(shape), label="x")
    expected = np.tile(x, reps) if reps else x
    assert_forward(lambda t: t.repeat(*reps), expected, x)
    assert_forward(lambda t: t.repeat(reps), expected, x)
    assert_gradcheck(lambda t: t.repeat(*reps), x)
    short = reps[extra + len(shape) - data.draw(st.integers(0, len(shape)), label="tile len"):]
    assert_forward(lambda t: t.tile(short), np.tile(x, short) if short else x, x)
    assert_forward(lambda t: tg.tile(t, short), np.tile(x, short) if short else x, x)
    assert_gradcheck(lambda t: t.tile(short), x)


# --------------------------------------------------------------------------- chunk / split


def split_reference(n, size_or_sections):
    if isinstance(size_or_sections, list):
        return size_or_sections
    if n == 0:
        return [0]
    return [min(size_or_sections, n - s) for s in range(0, n, size_or_sections)]


@given(data=st.data())
def test_split_and_chunk_give_differentiable_views(data):
    shape = data.draw(shapes_with_empty(), label="shape")
    dim = data.draw(tst.single_axis(len(shape)), label="dim")
    n = shape[dim]
    x = data.draw(tst.float_arrays(shape), label="x")
    if data.draw(st.booleans(), label="sections"):
        cuts = sorted(data.draw(st.lists(st.integers(0, n), max_size=3), label="cuts"))
        arg = [b - a for a, b in zip([0] + cuts, cuts + [n])]
    else:
        arg = data.draw(st.integers(1, 4), label="split size")
    sizes = split_reference(n, arg)
    t = Tensor(x)
    pieces = t.split(arg, dim)
    assert isinstance(pieces, tuple)
    assert [p.shape[dim] for p in pieces] == sizes
    np.testing.assert_array_equal(np.concatenate([p.data for p in pieces], axis=dim), x)
    assert all(np.shares_memory(p.data, x) or p.data.size == 0 for p in pieces)
    assert [p.shape for p in tg.split(t, arg, dim=dim)] == [p.shape for p in pieces]
    i = data.draw(st.integers(0, len(pieces) - 1), label="piece")
    assert_gradcheck(lambda u: u.split(arg, dim)[i], x)
    chunks = data.draw(st.integers(1, 5), label="chunks")
    pieces = t.chunk(chunks, dim)
    expected = [chunks * [0], split_reference(n, math.ceil(n / chunks) if n else 1)][n > 0]
    assert [p.shape[dim] for p in pieces] == expected
    j = data.draw(st.integers(0, len(pieces) - 1), label="chunk")
    assert_gradcheck(lambda u: u.chunk(chunks, dim)[j], x)
    assert len(tg.chunk(t, chunks, dim)) == len(pieces)


def test_gradients_of_several_pieces_meet_in_the_input():
    x = Tensor(np.arange(5.0), requires_grad=True)
    a, b, c = x.chunk(3)
    (a.sum() + 2 * b.sum() + 3 * c.sum()).backward()
    assert x.grad.tolist() == [1, 1, 2, 2, 3]


# --------------------------------------------------------------------------- outer / diag / tri


@given(n=st.integers(0, 4), m=st.integers(0, 4), data=st.data())
def test_outer_matches_numpy_and_gradcheck(n, m, data):
    a = data.draw(tst.float_arrays((n,)), label="a")
    b = data.draw(tst.float_arrays((m,)), label="b")
    assert_forward(lambda s, t: s.outer(t), np.outer(a, b), a, b)
    assert_forward(lambda s, t: tg.outer(s, t), np.outer(a, b), a, b)
    assert_forward(lambda s: s.outer(b), np.outer(a, b), a)
    assert_gradcheck(lambda s, t: s.outer(t), a, b)


@given(data=st.data())
def test_diag_both_ways_matches_numpy_and_gradcheck(data):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=2, min_side=0, max_side=4))
    k = data.draw(st.integers(-4, 4), label="diagonal")
    x = data.draw(tst.float_arrays(shape), label="x")
    assert_forward(lambda t: t.diag(k), np.diag(x, k), x)
    assert_forward(lambda t: tg.diag(t, k), np.diag(x, k), x)
    assert_gradcheck(lambda t: t.diag(k), x)


@pytest.mark.parametrize("name", ["tril", "triu"])
@given(data=st.data())
def test_tril_and_triu_match_numpy_and_gradcheck(name, data):
    shape = data.draw(st.one_of(tst.shapes(min_dims=2), shapes_with_empty(min_dims=2)))
    k = data.draw(st.integers(-4, 4), label="diagonal")
    x = data.draw(tst.float_arrays(shape), label="x")
    expected = getattr(np, name)(x, k)
    assert_forward(lambda t: getattr(t, name)(k), expected, x)
    assert_forward(lambda t: getattr(tg, name)(t, diagonal=k), expected, x)
    assert_gradcheck(lambda t: getattr(t, name)(k), x)


# --------------------------------------------------------------------------- float32


F64 = np.float64
INDEX = np.array([[2, 0, 0], [1, 1, 0]])
FLOAT32_OPS = {
    "gather": lambda t: t.gather(1, INDEX), "scatter_value": lambda t: t.scatter(1, INDEX, F64(2)),
    "scatter_src": lambda t: t.scatter(1, INDEX, np.ones((2, 3))),
    "scatter_add": lambda t: t.scatter_add(0, INDEX[:, :2] % 2, np.ones((2, 2))),
    "scatter_src_tensor": lambda t: t.scatter(0, INDEX % 2, t * 2),
    "masked_fill": lambda t: t.masked_fill(t.data > 1, F64(0.5)),
    "masked_fill_tensor_value": lambda t: t.masked_fill(t.data > 1, t.sum()),
    "clamp_min": lambda t: t.clamp_min(F64(1)), "clamp_max": lambda t: t.clamp_max(1.0),
    **{f"norm_{p}": (lambda t, p=p: t.norm(p, dim=1)) for p in NORM_PS},
    "norm_0": lambda t: t.norm(0), "cumsum": lambda t: t.cumsum(1),
    "topk": lambda t: t.topk(2).values, "sort": lambda t: t.sort(0, descending=True).values,
    "flip": lambda t: t.flip(0, 1), "roll": lambda t: t.roll((1, -1), (0, 1)),
    "roll_flat": lambda t: t.roll(2), "repeat": lambda t: t.repeat(2, 1, 2),
    "tile": lambda t: t.tile(2), "split": lambda t: tg.cat(t.split([1, 2], 1), 1),
    "chunk": lambda t: tg.cat(t.chunk(2, 0), 0), "outer": lambda t: t[0].outer(t[1]),
    "outer_list": lambda t: t[0].outer([1.0, 2.0]), "diag": lambda t: t.diag(1),
    "diag_1d": lambda t: t[0].diag(-1), "tril": lambda t: t.tril(), "triu": lambda t: t.triu(1),
}


@pytest.mark.parametrize("name", sorted(FLOAT32_OPS))
def test_float32_stays_float32_in_outputs_and_all_gradients(name):
    x = Tensor(np.array([[0.5, -1.25, 2.0], [0.75, 1.5, -2.5]], np.float32), requires_grad=True)
    RecordGradDtype.seen = []
    out = FLOAT32_OPS[name](RecordGradDtype.apply(x))
    assert out.dtype == np.float32
    out.backward(np.ones(out.shape, np.float32))
    assert RecordGradDtype.seen == [np.float32], "gradient reaching the input was promoted"
    assert x.grad.dtype == np.float32


def test_indices_are_int64_and_outputs_keep_integer_dtypes():
    x = Tensor(np.array([[3, 1, 2]], np.int32))
    assert x.topk(2).indices.dtype == np.int64 and x.sort().values.dtype == np.int32
    assert x.flip(1).dtype == np.int32 and x.repeat(2, 1).dtype == np.int32
    assert x.gather(1, np.array([[0]], np.int32)).tolist() == [[3]]


# --------------------------------------------------------------------------- errors


ERRORS = [
    # wrong dims name the dim and the shape
    (lambda t: t.gather(2, np.zeros((2, 3), np.int64)), IndexError, r"gather.*2.*\(2, 3\)"),
    (lambda t: t.cumsum(2), IndexError, r"cumsum.*2.*\(2, 3\)"),
    (lambda t: t.cumsum(), TypeError, r"cumsum.*dim"),
    (lambda t: t.norm(dim=(0, 2)), IndexError, r"norm.*\(0, 2\)|norm.*2.*\(2, 3\)"),
    (lambda t: t.topk(1, dim=-3), IndexError, r"topk.*-3.*\(2, 3\)"),
    (lambda t: t.sort(dim=2), IndexError, r"sort.*2.*\(2, 3\)"),
    (lambda t: t.flip(0, 2), IndexError, r"flip.*2.*\(2, 3\)"),
    (lambda t: t.flip(1, -1), ValueError, r"flip.*repeats.*\(2, 3\)"),
    (lambda t: t.roll(1, 2), IndexError, r"roll.*2.*\(2, 3\)"),
    (lambda t: t.roll((1, 2), 0), ValueError, r"roll.*shifts \(1, 2\).*dims \(0,\)"),
    (lambda t: t.roll((1, 2)), ValueError, r"roll.*without dims.*\(2, 3\)"),
    (lambda t: t.split(1, 2), IndexError, r"split.*2.*\(2, 3\)"),
    (lambda t: t.chunk(2, -3), IndexError, r"chunk.*-3.*\(2, 3\)"),
    (lambda t: t.masked_fill(np.ones((3, 3), bool), 0.0), ValueError,
     r"masked_fill.*\(3, 3\).*\(2, 3\)"),
    # shapes
    (lambda t: t.gather(1, np.zeros(3, np.int64)), ValueError,
     r"gather.*index of shape \(3,\).*dimensions.*\(2, 3\)"),
    (lambda t: t.gather(1, np.zeros((3, 1), np.int64)), ValueError,
     r"gather.*\(3, 1\).*larger than the input of shape \(2, 3\) at dimension 0"),
    (lambda t: t.scatter(1, np.zeros((2, 2), np.int64), np.ones((2, 1))), ValueError,
     r"scatter.*\(2, 2\).*larger than src of shape \(2, 1\)"),
    (lambda t: t.scatter_add(1, np.zeros((2, 2), np.int64), np.ones(4)), ValueError,
     r"scatter_add.*src of shape \(4,\).*\(2, 3\)"),
    (lambda t: t.topk(4), ValueError, r"topk.*k=4.*size 3.*\(2, 3\)"),
    (lambda t: t.topk(-1), ValueError, r"topk.*k=-1"),
    (lambda t: t.repeat(2), ValueError, r"repeat.*\(2,\).*\(2, 3\)"),
    (lambda t: t.repeat(2, -1), ValueError, r"repeat.*>= 0.*\(2, -1\)"),
    (lambda t: t.split([1, 1], 1), ValueError, r"split.*\[1, 1\].*sum to 3.*\(2, 3\)"),
    (lambda t: t.split(0, 1), ValueError, r"split.*positive.*\(2, 3\)"),
    (lambda t: t.chunk(0), ValueError, r"chunk.*positive"),
    (lambda t: Tensor(1.0).chunk(1), ValueError, r"chunk.*0-d"),
    (lambda t: t.outer(Tensor([1.0])), ValueError, r"outer.*1-D.*\(2, 3\) and \(1,\)"),
    (lambda t: t.reshape(1, 2, 3).diag(), ValueError, r"diag.*1-D or 2-D.*\(1, 2, 3\)"),
    (lambda t: t[0].tril(), ValueError, r"tril.*at least 2.*\(3,\)"),
    (lambda t: Tensor(1.0).triu(), ValueError, r"triu.*at least 2.*\(\)"),
    (lambda t: t.masked_fill(np.ones((2, 3), bool), np.ones(2)), ValueError,
     r"masked_fill.*value.*\(2,\)"),
    (lambda t: Tensor(np.zeros((0, 3))).norm(INF, dim=0), ValueError, r"norm.*empty.*\(0, 3\)"),
    (lambda t: t.norm("nuc"), ValueError, r"norm.*'nuc'"),
    (lambda t: t.scatter(1, INDEX), TypeError, r"scatter.*src and value"),
    # index values
    (lambda t: t.gather(1, np.array([[0], [3]])), IndexError,
     r"gather.*index 3 is out of bounds for dimension 1 with size 3.*\(2, 3\)"),
    (lambda t: t.gather(1, np.array([[0], [-1]])), IndexError, r"gather.*index -1.*\[0, 3\)"),
    (lambda t: t.scatter_add(0, np.array([[2, 0, 0]]), np.ones((1, 3))), IndexError,
     r"scatter_add.*index 2.*dimension 0 with size 2"),
    # dtypes
    (lambda t: t.gather(1, np.zeros((2, 1))), TypeError,
     r"gather.*integer.*float64.*\(2, 1\).*\(2, 3\)"),
    (lambda t: t.gather(1, np.zeros((2, 1), bool)), TypeError, r"gather.*integer.*bool"),
    (lambda t: t.scatter(1, Tensor([[0.0], [1.0]]), 1.0), TypeError, r"scatter.*float32"),
    (lambda t: t.scatter_add(1, np.zeros((2, 1)), np.ones((2, 1))), TypeError,
     r"scatter_add.*integer"),
    (lambda t: t.masked_fill(np.ones((2, 3), np.int64), 0.0), TypeError,
     r"masked_fill.*bool.*int64"),
    (lambda t: Tensor(np.ones(3, np.int64)).norm(), TypeError, r"norm.*floating.*int64"),
]


@pytest.mark.parametrize("call, error, pattern", ERRORS)
def test_errors_name_the_op_and_what_was_wrong(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call(Tensor(np.ones((2, 3)), requires_grad=True))


# --------------------------------------------------------------------------- PyTorch


def torch_pair(array):
    torch = pytest.importorskip("torch")
    return Tensor(array.copy(), requires_grad=True), torch.tensor(array, requires_grad=True)


def assert_same_as_torch(ours, theirs, ours_inputs, torch_inputs):
    torch = pytest.importorskip("torch")
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-10, atol=1e-12)
    weight = np.random.default_rng(0).uniform(0.5, 1.5, ours.shape)
    ours.backward(weight)
    theirs.backward(torch.tensor(weight))
    for o, t in zip(ours_inputs, torch_inputs):
        expected = np.zeros(o.shape) if t.grad is None else t.grad.numpy()
        np.testing.assert_allclose(o.grad.data, expected, rtol=1e-10, atol=1e-12)


@given(case=index_case(with_src=True), data=st.data())
def test_gather_and_scatter_add_match_torch(case, data):
    torch = pytest.importorskip("torch")
    shape, dim, index, src_shape = case
    x = data.draw(tst.float_arrays(shape))
    (ox, tx) = torch_pair(x)
    assert_same_as_torch(ox.gather(dim, index), tx.gather(dim, torch.from_numpy(index)),
                         [ox], [tx])
    src = data.draw(tst.float_arrays(index.shape))  # torch's backward needs src = index
    (ox, tx), (os_, ts) = torch_pair(x), torch_pair(src)
    assert_same_as_torch(ox.scatter_add(dim, index, os_),
                         tx.scatter_add(dim, torch.from_numpy(index), ts), [ox, os_], [tx, ts])


@given(case=index_case(unique=True), data=st.data())
def test_scatter_matches_torch(case, data):
    torch = pytest.importorskip("torch")
    shape, dim, index = case
    x = data.draw(tst.float_arrays(shape))
    src = data.draw(tst.float_arrays(index.shape))
    (ox, tx), (os_, ts) = torch_pair(x), torch_pair(src)
    assert_same_as_torch(ox.scatter(dim, index, os_),
                         tx.scatter(dim, torch.from_numpy(index), ts), [ox, os_], [tx, ts])
    (ox, tx) = torch_pair(x)
    assert_same_as_torch(ox.scatter(dim, index, 1.5),
                         tx.scatter(dim, torch.from_numpy(index), 1.5), [ox], [tx])


def test_scatter_with_repeated_indices_routes_gradients_like_torch():
    torch = pytest.importorskip("torch")
    index = np.array([[0, 0, 1], [2, 2, 2]])
    x, src = np.arange(9.0).reshape(3, 3), np.arange(6.0).reshape(2, 3) + 10
    (ox, tx), (os_, ts) = torch_pair(x), torch_pair(src)
    ours = ox.scatter(0, index, os_)
    theirs = tx.scatter(0, torch.from_numpy(index), ts)
    # the winner of a repeated write is unspecified; the gradients are not
    ours.backward(np.ones((3, 3)))
    theirs.backward(torch.ones(3, 3, dtype=torch.float64))
    np.testing.assert_array_equal(ox.grad.data, tx.grad.numpy())
    np.testing.assert_array_equal(os_.grad.data, ts.grad.numpy())


@pytest.mark.parametrize("p", NORM_PS + ["fro"], ids=str)
@given(data=st.data())
def test_norm_matches_torch(p, data):
    torch = pytest.importorskip("torch")
    shape = data.draw(tst.shapes(min_dims=1))
    axis = data.draw(tst.reduction_axes(len(shape)))
    keepdims = data.draw(st.booleans())
    x = data.draw(signed_distinct(shape))
    ox, tx = torch_pair(x)
    # torch's 'fro' takes at most two dims (a matrix norm); here it is the 2-norm over any
    torch_p = 2 if p == "fro" and isinstance(axis, tuple) and len(axis) > 2 else p
    assert_same_as_torch(ox.norm(p, axis, keepdims), torch.norm(tx, torch_p, axis, keepdims),
                         [ox], [tx])


@pytest.mark.parametrize("p", [1, 2, 3, 1.5, 0.5, INF, -INF, 0, -1], ids=str)
def test_norm_at_and_near_zero_matches_torch(p):
    torch = pytest.importorskip("torch")
    for x in (np.zeros((2, 2)), np.array([[0.0, 2.0, -2.0], [0.0, 0.0, 0.0]]),
              np.array([[0.0, 0.5], [-1.0, 0.0]])):
        for dim in (None, 1):
            ox, tx = torch_pair(x)
            ours = tg.norm(ox, p, dim)
            theirs = torch.norm(tx, p, dim)
            if p == 0:  # torch gives no gradient at all (zero)
                np.testing.assert_array_equal(ours.data, theirs.detach().numpy())
                ours.backward(np.ones(ours.shape))
                assert not ox.grad.data.any()
                continue
            assert_same_as_torch(ours, theirs, [ox], [tx])


@given(data=st.data())
def test_topk_sort_and_cumsum_match_torch(data):
    torch = pytest.importorskip("torch")
    shape = data.draw(tst.shapes(min_dims=1))
    dim = data.draw(tst.single_axis(len(shape)))
    x = data.draw(tst.distinct_arrays(shape))
    k = data.draw(st.integers(0, shape[dim]))
    largest = data.draw(st.booleans())
    ox, tx = torch_pair(x)
    ours, theirs = ox.topk(k, dim, largest), tx.topk(k, dim, largest)
    np.testing.assert_array_equal(ours.indices.data, theirs.indices.numpy())
    assert_same_as_torch(ours.values, theirs.values, [ox], [tx])
    ox, tx = torch_pair(x)
    ours, theirs = ox.sort(dim, largest), tx.sort(dim, largest)
    np.testing.assert_array_equal(ours.indices.data, theirs.indices.numpy())
    assert_same_as_torch(ours.values, theirs.values, [ox], [tx])
    ox, tx = torch_pair(x)
    assert_same_as_torch(ox.cumsum(dim), tx.cumsum(dim), [ox], [tx])


def test_stable_sort_with_ties_matches_torch():
    torch = pytest.importorskip("torch")
    x = np.array([[2.0, 1.0, 2.0, 1.0, 3.0], [0.0, 0.0, 0.0, 1.0, 1.0]])
    for descending in (False, True):
        ours = Tensor(x).sort(1, descending)
        theirs = torch.from_numpy(x).sort(dim=1, descending=descending, stable=True)
        np.testing.assert_array_equal(ours.indices.data, theirs.indices.numpy())


@given(data=st.data())
def test_movement_ops_match_torch(data):
    torch = pytest.importorskip("torch")
    shape = data.draw(st.one_of(tst.shapes(min_dims=2, max_dims=3),
                                shapes_with_empty(min_dims=2)))
    x = data.draw(tst.float_arrays(shape))
    dim = data.draw(tst.single_axis(len(shape)))
    k = data.draw(st.integers(-2, 2))
    reps = tuple(data.draw(st.lists(st.integers(0, 2), min_size=len(shape),
                                    max_size=len(shape) + 1)))
    chunks = data.draw(st.integers(1, 4))
    mask = data.draw(hnp.arrays(np.bool_, shape[-1:]))
    cases = [
        (lambda t: t.flip(dim), lambda t: t.flip(dim)),
        (lambda t: t.roll(k, dim), lambda t: t.roll(k, dim)),
        (lambda t: t.roll(k), lambda t: t.roll(k)),
        (lambda t: t.repeat(*reps), lambda t: t.repeat(*reps)),
        (lambda t: t.tile(reps[1:]), lambda t: t.tile(reps[1:])),
        (lambda t: t.tril(k), lambda t: t.tril(k)), (lambda t: t.triu(k), lambda t: t.triu(k)),
        (lambda t: t.masked_fill(mask, -1.5),
         lambda t: t.masked_fill(torch.from_numpy(mask), -1.5)),
        (lambda t: t.clamp_min(0.1), lambda t: t.clamp_min(0.1)),
        (lambda t: t.clamp_max(0.1), lambda t: t.clamp_max(0.1)),
    ]
    for ours_fn, torch_fn in cases:
        ox, tx = torch_pair(x)
        assert_same_as_torch(ours_fn(ox), torch_fn(tx), [ox], [tx])
    ours = Tensor(x).chunk(chunks, dim)
    theirs = torch.from_numpy(x).chunk(chunks, dim)
    assert [p.shape for p in ours] == [tuple(p.shape) for p in theirs]
    ours = Tensor(x).split(chunks, dim)
    theirs = torch.from_numpy(x).split(chunks, dim)
    assert [p.shape for p in ours] == [tuple(p.shape) for p in theirs]


@given(data=st.data())
def test_outer_and_diag_match_torch(data):
    torch = pytest.importorskip("torch")
    a = data.draw(tst.float_arrays((data.draw(st.integers(0, 4)),)))
    b = data.draw(tst.float_arrays((data.draw(st.integers(0, 4)),)))
    (oa, ta), (ob, tb) = torch_pair(a), torch_pair(b)
    assert_same_as_torch(oa.outer(ob), torch.outer(ta, tb), [oa, ob], [ta, tb])
    k = data.draw(st.integers(-3, 3))
    oa, ta = torch_pair(a)
    assert_same_as_torch(oa.diag(k), torch.diag(ta, k), [oa], [ta])
    m = data.draw(tst.float_arrays(data.draw(hnp.array_shapes(min_dims=2, max_dims=2,
                                                               min_side=0, max_side=4))))
    om, tm = torch_pair(m)
    assert_same_as_torch(om.diag(k), torch.diag(tm, k), [om], [tm])
