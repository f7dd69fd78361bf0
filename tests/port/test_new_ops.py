"""The ops added for PyTorch parity (elementwise extras, order statistics, einsum and
linear algebra, shape helpers): float64 gradcheck over Hypothesis-drawn inputs, and values
and gradients against PyTorch from the same inputs."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import helpers as tst
import tinygrad_fm as tg
from helpers import assert_gradcheck
from tinygrad_fm import Tensor


assert_gradgradcheck = tst.assert_gradgradcheck

# name -> (function taking the library module and a tensor, input strategy)
UNARY = {
    "sin": (lambda lib, x: lib.sin(x), tst.float_arrays),
    "cos": (lambda lib, x: x.cos(), tst.float_arrays),
    "log1p": (lambda lib, x: lib.log1p(x), lambda s: tst.float_arrays(s, -0.8, 3.0)),
    "expm1": (lambda lib, x: x.expm1(), tst.float_arrays),
    "rsqrt": (lambda lib, x: lib.rsqrt(x), tst.positive_arrays),
    "square": (lambda lib, x: lib.square(x), tst.float_arrays),
    "sign": (lambda lib, x: lib.sign(x) * x, lambda s: tst.arrays_away_from(s, [0.0])),
    "relu6": (lambda lib, x: lib.nn.functional.relu6(x * 3),
              lambda s: tst.arrays_away_from(s, [0.0, 2.0])),
    "hardswish": (lambda lib, x: lib.nn.functional.hardswish(x * 2),
                  lambda s: tst.arrays_away_from(s, [-1.5, 1.5])),
    "mish": (lambda lib, x: lib.nn.functional.mish(x * 3), tst.float_arrays),
    "nan_to_num": (lambda lib, x: lib.nan_to_num(x), tst.float_arrays),
    "reciprocal": (lambda lib, x: x.reciprocal(), tst.nonzero_arrays),
    "amax": (lambda lib, x: lib.amax(x, dim=-1) if x.ndim else lib.amax(x), tst.distinct_arrays),
    "amin_keepdim": (lambda lib, x: lib.amin(x, dim=0, keepdim=True) if x.ndim else x.amin(),
                     tst.distinct_arrays),
    "max_dim": (lambda lib, x: lib.max(x, -1).values if x.ndim else lib.max(x),
                tst.distinct_arrays),
    "min_dim": (lambda lib, x: x.min(dim=0, keepdim=True)[0] if x.ndim else x.min(),
                tst.distinct_arrays),
    "median_dim": (lambda lib, x: x.median(dim=-1).values if x.ndim else x.median(),
                   tst.distinct_arrays),
    "median_all": (lambda lib, x: x.median(), tst.distinct_arrays),
    "kthvalue": (lambda lib, x: x.kthvalue(1, -1).values if x.ndim else x, tst.distinct_arrays),
    "movedim": (lambda lib, x: lib.movedim(x, 0, -1) if x.ndim else x, tst.float_arrays),
    "swapaxes": (lambda lib, x: x.swapaxes(0, -1) if x.ndim else x, tst.float_arrays),
    "view": (lambda lib, x: x.view(-1) * x.reshape(shape=(-1,)), tst.float_arrays),
    "vector_norm": (lambda lib, x: lib.linalg.vector_norm(x, 3), tst.nonzero_arrays),
    "linalg_norm": (lambda lib, x: lib.linalg.norm(x), tst.nonzero_arrays),
}


def _torch_pair(array):
    torch = pytest.importorskip("torch")
    return torch, torch.tensor(array, requires_grad=True), Tensor(array.copy(), requires_grad=True)


_assert_matches_torch = tst.assert_matches_torch


@pytest.mark.parametrize("name", sorted(UNARY))
@given(data=st.data())
def test_unary_ops_gradcheck_and_match_torch(name, data):
    fn, strategy = UNARY[name]
    tst.assert_derivatives_match_torch(fn, data.draw(strategy(data.draw(tst.shapes(max_dims=3)))))


EINSUMS = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("ij,jk", [(2, 3), (3, 4)]),             # implicit output
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 2)]),
    ("...ij,...jk->...ik", [(2, 1, 2, 3), (3, 3, 2)]),
    ("ii->i", [(3, 3)]),                      # a diagonal
    ("ii", [(3, 3)]),                         # the trace
    ("i,i->", [(4,), (4,)]),
    ("i,j->ij", [(2,), (3,)]),
    ("ij->", [(2, 3)]),
    ("ijk->kji", [(2, 3, 4)]),
    ("bhqd,bhkd->bhqk", [(1, 2, 3, 2), (1, 2, 4, 2)]),
    ("ij,ij,ij->i", [(2, 3), (2, 3), (2, 3)]),
    ("iij->j", [(2, 2, 3)]),
]


@pytest.mark.parametrize("equation,shapes", EINSUMS, ids=[e for e, _ in EINSUMS])
@given(data=st.data())
def test_einsum_gradcheck_and_matches_torch(equation, shapes, data):
    arrays = [data.draw(tst.float_arrays(s)) for s in shapes]
    assert_gradcheck(lambda *ts: tg.einsum(equation, *ts), *arrays)
    assert_gradgradcheck(lambda *ts: tg.einsum(equation, *ts), *arrays)
    _assert_matches_torch(lambda lib, *ts: lib.einsum(equation, *ts), *arrays)


def test_einsum_accepts_a_list_and_rejects_bad_equations():
    a = tg.ones(2, 3)
    assert tg.einsum("ij->ji", [a]).shape == (3, 2)
    with pytest.raises(ValueError, match="operand"):
        tg.einsum("ij,jk->ik", a)
    with pytest.raises(ValueError, match="do not fit"):
        tg.einsum("ijk->i", a)


@pytest.mark.parametrize("dims,shapes", [(2, [(2, 3, 4), (3, 4, 5)]), (1, [(2, 3), (3, 2)]),
                                         (([0, 2], [1, 0]), [(3, 2, 4), (4, 3)]),
                                         (0, [(2,), (3,)])])
@given(data=st.data())
def test_tensordot_gradcheck_and_matches_torch(dims, shapes, data):
    arrays = [data.draw(tst.float_arrays(s)) for s in shapes]
    assert_gradcheck(lambda a, b: tg.tensordot(a, b, dims), *arrays)
    assert_gradgradcheck(lambda a, b: tg.tensordot(a, b, dims), *arrays)
    _assert_matches_torch(lambda lib, a, b: lib.tensordot(a, b, dims), *arrays)


@given(data=st.data())
def test_bmm_gradcheck_and_matches_torch(data):
    a, b = data.draw(tst.float_arrays((2, 3, 4))), data.draw(tst.float_arrays((2, 4, 2)))
    assert_gradcheck(lambda x, y: tg.bmm(x, y), a, b)
    _assert_matches_torch(lambda lib, x, y: lib.bmm(x, y), a, b)
    with pytest.raises(ValueError, match="bmm"):
        tg.bmm(Tensor(a), Tensor(a))


def _well_conditioned(draw, shape):
    n = shape[-1]
    noise = draw(tst.float_arrays(shape, -1.0, 1.0))
    return noise + 3 * n * np.eye(n)  # diagonally dominant: far from singular


@st.composite
def matrices(draw, batch=()):
    n = draw(st.integers(1, 3))
    return _well_conditioned(draw, batch + (n, n))


@given(a=matrices(), data=st.data())
def test_solve_inv_det_gradcheck_and_match_torch(a, data):
    n = a.shape[-1]
    b_matrix = data.draw(tst.float_arrays((n, 2)))
    b_vector = data.draw(tst.float_arrays((n,)))
    for b in (b_matrix, b_vector):
        assert_gradcheck(lambda x, y: tg.linalg.solve(x, y), a, b)
        assert_gradgradcheck(lambda x, y: tg.linalg.solve(x, y), a, b)
        _assert_matches_torch(lambda lib, x, y: lib.linalg.solve(x, y), a, b, rtol=1e-7)
    assert_gradcheck(lambda x: tg.linalg.inv(x), a)
    assert_gradgradcheck(lambda x: tg.linalg.inv(x), a)
    assert_gradgradcheck(lambda x: tg.linalg.det(x), a)
    _assert_matches_torch(lambda lib, x: lib.linalg.inv(x), a, rtol=1e-7)
    assert_gradcheck(lambda x: tg.linalg.det(x), a)
    _assert_matches_torch(lambda lib, x: lib.linalg.det(x), a, rtol=1e-7)


@given(a=matrices(batch=(2,)), data=st.data())
def test_batched_linear_algebra_matches_torch(a, data):
    n = a.shape[-1]
    b = data.draw(tst.float_arrays((2, n)))  # a batch of vectors: A's shape without the last
    _assert_matches_torch(lambda lib, x, y: lib.linalg.solve(x, y), a, b, rtol=1e-7)
    _assert_matches_torch(lambda lib, x: lib.linalg.det(x), a, rtol=1e-7)
    _assert_matches_torch(lambda lib, x: lib.linalg.inv(x) @ x, a, rtol=1e-7)


def test_det_gradient_of_a_singular_matrix_is_its_cofactor_matrix():
    """d det / dA = adj(A)^T also where A is singular (PyTorch 2.13 returns zeros for this
    rank-1 matrix; the cofactor matrix is the derivative)."""
    singular = np.array([[1.0, 2.0], [2.0, 4.0]])
    a = Tensor(singular, requires_grad=True)
    tg.linalg.det(a).backward()
    np.testing.assert_allclose(a.grad.data, [[4.0, -2.0], [-2.0, 1.0]], atol=1e-12)
    assert_gradcheck(lambda x: tg.linalg.det(x), singular)
    with pytest.raises(RuntimeError, match="singular"):
        tg.linalg.inv(Tensor(singular))
    with pytest.raises(RuntimeError, match="singular"):
        tg.linalg.solve(Tensor(singular), Tensor(np.ones(2)))


@pytest.mark.parametrize("ord_", ["fro", 1, -1, math.inf, -math.inf])
@given(seed=st.integers(0, 2**32 - 1))
def test_matrix_norms_gradcheck_and_match_torch(ord_, seed):
    # continuous values: no ties between row or column sums, no zeros (kinks of abs)
    a = np.random.default_rng(seed).uniform(0.2, 2.0, (3, 4)) * \
        np.random.default_rng(seed + 1).choice([-1.0, 1.0], (3, 4))
    assert_gradcheck(lambda x: tg.linalg.matrix_norm(x, ord_), a)
    assert_gradgradcheck(lambda x: tg.linalg.matrix_norm(x, ord_), a)
    _assert_matches_torch(lambda lib, x: lib.linalg.matrix_norm(x, ord_), a)
    _assert_matches_torch(lambda lib, x: lib.linalg.norm(x, ord_), a)


def test_vector_and_linalg_norm_forms_match_torch():
    x = np.random.default_rng(1).standard_normal((2, 3, 4))
    for fn in (lambda lib, t: lib.linalg.vector_norm(t, 1, dim=(0, 2)),
               lambda lib, t: lib.linalg.vector_norm(t, math.inf, dim=-1, keepdim=True),
               lambda lib, t: lib.linalg.norm(t, dim=1),
               lambda lib, t: lib.linalg.norm(t, dim=(1, 2)),
               lambda lib, t: lib.linalg.norm(t[0], 1, dim=0)):
        _assert_matches_torch(fn, x)
    with pytest.raises(NotImplementedError, match="nuc"):
        tg.linalg.matrix_norm(Tensor(x), "nuc")


def test_order_statistics_and_indices_match_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = rng.integers(0, 4, (3, 6)).astype(np.float64)  # ties on purpose
    x[1, 2] = np.nan
    distinct = rng.permutation(18).reshape(3, 6).astype(np.float64)
    t, o = torch.tensor(x), Tensor(x)
    for name, args in (("max", (1,)), ("min", (0,)), ("median", (1,)), ("kthvalue", (2, 1)),
                       ("mode", (1,)), ("sort", (1,)), ("topk", (2,))):
        if name in ("median", "kthvalue", "topk"):  # torch's pick among ties is unspecified
            t2, o2 = torch.tensor(distinct), Tensor(distinct)
        elif name in ("mode", "sort"):
            t2, o2 = torch.tensor(np.nan_to_num(x)), Tensor(np.nan_to_num(x))
        else:
            t2, o2 = t, o
        theirs, ours = getattr(t2, name)(*args), getattr(o2, name)(*args)
        assert type(ours).__name__ == type(theirs).__name__ == name.replace("sort", "sort")
        np.testing.assert_array_equal(ours.values.data, theirs.values.numpy(), err_msg=name)
        if name != "mode":
            np.testing.assert_array_equal(ours.indices.data, theirs.indices.numpy(),
                                          err_msg=name)
        # the indices point at the values
        np.testing.assert_array_equal(
            np.take_along_axis(o2.data, np.expand_dims(ours.indices.data, args[-1]) if
                               ours.indices.ndim < 2 else ours.indices.data, args[-1] if
                               name not in ("topk",) else -1).squeeze(), ours.values.data.squeeze())
        assert ours.indices.dtype == np.int64
    values, indices = o.max(1, keepdim=True)
    assert values.shape == indices.shape == (3, 1)
    np.testing.assert_array_equal(tg.max(o).data, torch.max(t).numpy())  # no dim: a tensor
    np.testing.assert_array_equal(tg.max(o, o * 0).data, torch.max(t, t * 0).numpy())
    np.testing.assert_array_equal(o.median().data, t.median().numpy())  # NaN propagates
    with pytest.raises(TypeError, match="amax"):
        o.max((0, 1))


def test_max_dim_gradient_goes_to_the_first_maximum_like_torch():
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])
    _assert_matches_torch(lambda lib, t: t.max(1).values, x)
    _assert_matches_torch(lambda lib, t: t.min(0).values, x)
    _assert_matches_torch(lambda lib, t: t.amax(1), x)  # amax shares it among ties
    _assert_matches_torch(lambda lib, t: t.max(), x)


def test_logical_and_index_ops_match_torch():
    torch = pytest.importorskip("torch")
    x = np.array([[0.0, 1.5, np.nan], [np.inf, -2.0, 0.0]])
    t, o = torch.tensor(x), Tensor(x)
    for name in ("isnan", "isinf", "isfinite", "nonzero", "argsort", "sign", "any", "all",
                 "count_nonzero", "logical_not"):
        np.testing.assert_array_equal(getattr(o, name)().data, getattr(t, name)().numpy(),
                                      err_msg=name)
    np.testing.assert_array_equal(o.nan_to_num(1.0, 9.0, -9.0).data,
                                  t.nan_to_num(1.0, 9.0, -9.0).numpy())
    np.testing.assert_array_equal(o.nan_to_num().data, t.nan_to_num().numpy())
    for ours, theirs in zip(tg.where(o > 0), torch.where(t > 0)):
        np.testing.assert_array_equal(ours.data, theirs.numpy())
    for ours, theirs in zip(o.nonzero(as_tuple=True), t.nonzero(as_tuple=True)):
        np.testing.assert_array_equal(ours.data, theirs.numpy())
    np.testing.assert_array_equal(o.any(dim=1).data, t.any(dim=1).numpy())
    np.testing.assert_array_equal(o.all(dim=0).data, t.all(dim=0).numpy())
    np.testing.assert_array_equal(o.argsort(dim=0, descending=True).data,
                                  t.nan_to_num().argsort(dim=0, descending=True).numpy())
    mask = o > 0
    np.testing.assert_array_equal((~mask).data, (~(t > 0)).numpy())
    np.testing.assert_array_equal((mask & (o < 2)).data, ((t > 0) & (t < 2)).numpy())
    np.testing.assert_array_equal((mask | o.isnan()).data, ((t > 0) | t.isnan()).numpy())
    a = Tensor(np.array([1.0, 2.0]))
    assert tg.allclose(a, a + 1e-9) and not tg.allclose(a, a + 1)
    assert tg.equal(a, Tensor(np.array([1.0, 2.0]))) and not tg.equal(a, a[:1])
    assert torch.equal(torch.tensor([1.0, 2.0]), torch.tensor([1.0, 2.0]))
    with pytest.raises(TypeError, match="~"):
        ~a


def test_shape_helpers_match_torch():
    torch = pytest.importorskip("torch")
    x = np.arange(24.0).reshape(2, 3, 4)
    t, o = torch.tensor(x), Tensor(x)
    cases = [
        (lambda v: v.unflatten(2, (2, 2))), (lambda v: v.unflatten(-1, (-1, 2))),
        (lambda v: v.movedim((0, 1), (2, 0))), (lambda v: v.moveaxis(-1, 0)),
        (lambda v: v.swapdims(0, 2)), (lambda v: v.view(4, -1)), (lambda v: v.view(-1)),
        (lambda v: v.reshape(shape=(6, 4))), (lambda v: v.narrow(2, 1, 2)),
        (lambda v: v.mT), (lambda v: v.flatten(1)),
    ]
    for i, fn in enumerate(cases):
        np.testing.assert_array_equal(fn(o).data, fn(t).numpy(), err_msg=str(i))
    with pytest.raises(ValueError, match="unflatten"):
        o.unflatten(2, (3, 2))


def test_torch_where_with_one_argument_is_nonzero_as_tuple():
    rows, cols = tg.where(Tensor(np.array([[True, False], [True, True]])))
    assert rows.tolist() == [0, 1, 1] and cols.tolist() == [0, 0, 1]
    assert rows.dtype == np.int64
