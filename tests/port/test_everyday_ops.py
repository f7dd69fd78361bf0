"""The torch-namespace functions and Tensor methods that everyday PyTorch code uses
(selections, products, differences, quantiles, grids, distances, in-place forms, counts,
dtype limits, print options, hooks): float64 gradcheck over Hypothesis-drawn inputs, and
values, dtypes and gradients against PyTorch from the same inputs."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import helpers as tst
import tinygrad_fm as tg
from helpers import (assert_derivatives_match_torch, assert_gradcheck, assert_gradgradcheck,
                     assert_matches_torch)

torch = pytest.importorskip("torch")




def assert_same(ours, theirs):
    """Same values, shape and dtype as PyTorch's result."""
    expected = theirs.detach().numpy()
    assert ours.shape == expected.shape
    assert ours.dtype == expected.dtype, (ours.dtype, expected.dtype)
    np.testing.assert_allclose(ours.data, expected, rtol=1e-6, atol=1e-7)


def with_zeros(shape):
    """Arrays in which some elements are exactly zero (where prod's gradient is subtle).
    No subnormal values: PyTorch's prod gradient divides the product by each element,
    and with a subnormal the product underflows to 0 (it returns 0 where the gradient
    is the other factors' product, which ours gives)."""
    tiny = np.finfo(np.float64).tiny
    return st.tuples(tst.float_arrays(shape), st.lists(st.booleans(), min_size=1)).map(
        lambda pair: np.where(np.resize(pair[1], pair[0].shape) | (np.abs(pair[0]) < tiny),
                              0.0, pair[0]))


# name -> (function of the library module and a tensor, input strategy)
UNARY = {
    "prod_all": (lambda lib, x: lib.prod(x), with_zeros),
    "prod_dim": (lambda lib, x: x.prod(-1) if x.ndim else x.prod(), with_zeros),
    "prod_keepdim": (lambda lib, x: x.prod(0, keepdim=True) if x.ndim else x.prod(),
                     with_zeros),
    "cumprod": (lambda lib, x: lib.cumprod(x, -1) if x.ndim else x.cumprod(0), with_zeros),
    "diff": (lambda lib, x: lib.diff(x) if x.ndim else x, tst.float_arrays),
    "diff_twice_prepend": (lambda lib, x: x.diff(2, 0, prepend=x[:1] * 2) if x.ndim else x,
                           tst.float_arrays),
    "unbind": (lambda lib, x: lib.stack(lib.unbind(x, -1)[::-1]) if x.ndim else x,
               tst.float_arrays),
    "unfold": (lambda lib, x: x.unfold(-1, min(2, x.shape[-1]), 1) if x.ndim else x,
               tst.float_arrays),
    "diagonal": (lambda lib, x: lib.diagonal(x, 0, -1, 0) if x.ndim >= 2 else x,
                 tst.float_arrays),
    "diagonal_offset": (lambda lib, x: x.diagonal(1) if x.ndim >= 2 else x, tst.float_arrays),
    "index_select": (lambda lib, x: lib.index_select(x, 0, lib.tensor([0, 0]))
                     if x.ndim else x, tst.float_arrays),
    "masked_select": (lambda lib, x: lib.masked_select(x, x > 0),
                      lambda s: tst.arrays_away_from(s, [0.0])),
    "take": (lambda lib, x: lib.take(x, lib.tensor([[0, -1], [0, 0]])), tst.float_arrays),
    "nansum": (lambda lib, x: lib.nansum(x), tst.float_arrays),
    "nanmean_dim": (lambda lib, x: x.nanmean(-1) if x.ndim else x.nanmean(),
                    tst.float_arrays),
    "quantile": (lambda lib, x: lib.quantile(x, 0.3), tst.distinct_arrays),
    "quantile_dim_q": (lambda lib, x: x.quantile(lib.tensor([0.25, 0.5, 1.0],
                                                            dtype=lib.float64), dim=-1)
                       if x.ndim else x, tst.distinct_arrays),
    "quantile_midpoint": (lambda lib, x: x.quantile(0.4, interpolation="midpoint"),
                          tst.distinct_arrays),
    "lerp": (lambda lib, x: lib.lerp(x, x * x, 0.75), tst.float_arrays),
    "trace": (lambda lib, x: lib.trace(x.reshape(x.shape[0], -1)) if x.ndim else x,
              tst.float_arrays),
    "cdist_self": (lambda lib, x: lib.cdist(x.reshape(-1, 1), x.reshape(-1, 1) * 2 + 7),
                   tst.float_arrays),
    "addcmul": (lambda lib, x: lib.addcmul(x, x, x * 2, value=0.5), tst.float_arrays),
    "addcdiv": (lambda lib, x: lib.addcdiv(x, x, x * x + 1, value=2), tst.float_arrays),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@given(data=st.data())
def test_unary_ops_gradcheck_and_match_torch(name, data):
    fn, strategy = UNARY[name]
    assert_derivatives_match_torch(fn, data.draw(strategy(data.draw(tst.shapes(max_dims=3)))))


# name -> (function of the library module and two tensors, strategy of the pair)
BINARY = {
    "atan2": (lambda lib, a, b: lib.atan2(a, b), lambda s: st.tuples(
        tst.nonzero_arrays(s), tst.nonzero_arrays(s))),
    "hypot": (lambda lib, a, b: lib.hypot(a, b), lambda s: st.tuples(
        tst.nonzero_arrays(s), tst.float_arrays(s))),
    "fmod": (lambda lib, a, b: lib.fmod(a, b), lambda s: st.tuples(
        tst.arrays_away_from(s, [-2.4, -1.2, 0.0, 1.2, 2.4]), st.just(np.full(s, 1.2)))),
    "remainder": (lambda lib, a, b: lib.remainder(a, b), lambda s: st.tuples(
        tst.arrays_away_from(s, [-2.4, -1.2, 0.0, 1.2, 2.4]), st.just(np.full(s, -1.2)))),
    "mod_operator": (lambda lib, a, b: a % b, lambda s: st.tuples(
        tst.arrays_away_from(s, [-2.4, -1.2, 0.0, 1.2, 2.4]), st.just(np.full(s, 1.2)))),
    "lerp_tensor_weight": (lambda lib, a, b: a.lerp(a * 3, b), lambda s: st.tuples(
        tst.float_arrays(s), tst.arrays_away_from(s, [-0.5, 0.5]))),
    "kron": (lambda lib, a, b: lib.kron(a, b[..., :1] * 2 if b.ndim else b), lambda s: st.tuples(
        tst.float_arrays(s), tst.float_arrays(s))),
    "block_diag": (lambda lib, a, b: lib.block_diag(a.reshape(a.shape[0] if a.ndim else 1, -1),
                                                    b.reshape(-1), b.sum()),
                   lambda s: st.tuples(tst.float_arrays(s), tst.float_arrays(s))),
    "cdist_p1": (lambda lib, a, b: lib.cdist(a.reshape(-1, 1), b.reshape(-1, 1) + 9, p=1),
                 lambda s: st.tuples(tst.float_arrays(s), tst.float_arrays(s))),
    "cdist_p3": (lambda lib, a, b: lib.cdist(a.reshape(1, -1, 1), b.reshape(1, -1, 1) + 9,
                                             p=3),
                 lambda s: st.tuples(tst.float_arrays(s), tst.float_arrays(s))),
    "index_add": (lambda lib, a, b: a.index_add(0, lib.tensor([0] * (b.shape[0] if b.ndim
                                                                     else 1)), b, alpha=2)
                  if a.ndim else a + b,
                  lambda s: st.tuples(tst.float_arrays(s), tst.float_arrays(s))),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@given(data=st.data())
def test_binary_ops_gradcheck_and_match_torch(name, data):
    fn, strategy = BINARY[name]
    assert_derivatives_match_torch(fn, *data.draw(strategy(data.draw(tst.shapes(max_dims=3)))))


@given(data=st.data())
def test_addmm_and_baddbmm_match_torch(data):
    n, m, p = (data.draw(st.integers(1, 3)) for _ in range(3))
    bias, a, b = (data.draw(tst.float_arrays(s)) for s in ((p,), (n, m), (m, p)))
    for beta, alpha in ((1, 1), (0.5, -2)):
        assert_matches_torch(lambda lib, c, x, y: lib.addmm(c, x, y, beta=beta, alpha=alpha),
                             bias, a, b)
        assert_matches_torch(lambda lib, c, x, y: lib.baddbmm(c, x[None], y[None], beta=beta,
                                                              alpha=alpha), bias, a, b)
    assert_gradcheck(lambda c, x, y: tg.addmm(c, x, y, beta=0.5, alpha=2), bias, a, b)


def test_addmm_with_beta_zero_ignores_nan_in_input():
    ours = tg.addmm(tg.full((2, 2), math.nan), tg.eye(2), tg.ones(2, 2), beta=0)
    theirs = torch.addmm(torch.full((2, 2), math.nan), torch.eye(2), torch.ones(2, 2), beta=0)
    assert_same(ours, theirs)


@pytest.mark.parametrize("zeros", [[1], [0, 2], [1, 2, 3]])
def test_prod_and_cumprod_gradients_with_zeros_match_torch(zeros):
    x = np.array([[1.5, -2.0, 0.5, 3.0], [2.0, 1.0, -1.0, 0.25]])
    x[:, zeros] = 0.0
    for fn in (lambda lib, t: t.prod(), lambda lib, t: t.prod(1), lambda lib, t: t.prod(0),
               lambda lib, t: t.cumprod(1), lambda lib, t: lib.cumprod(t, 0)):
        assert_matches_torch(fn, x)
        assert_gradgradcheck(lambda t: fn(tg, t), x)


def test_prod_cumprod_dtypes_follow_torch():
    for values, dtype in (([1, 2, 3], "int32"), ([True, False], "bool"), ([1.5, 2.0], "float32")):
        ours, theirs = tg.tensor(np.array(values, dtype=dtype)), torch.tensor(np.array(values, dtype=dtype))
        assert_same(ours.prod(), theirs.prod())
        assert_same(ours.cumprod(0), theirs.cumprod(0))
    assert_same(tg.tensor([1, 2]).prod(dtype=tg.float64), torch.tensor([1, 2]).prod(dtype=torch.float64))


def test_selections_match_torch_and_reject_bad_indices():
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    ours, theirs = tg.tensor(x), torch.tensor(x)
    assert_same(ours.index_select(1, tg.tensor([2, 0, 2])), theirs.index_select(1, torch.tensor([2, 0, 2])))
    assert_same(ours.index_select(0, tg.tensor(1)), theirs.index_select(0, torch.tensor(1)))
    assert_same(ours.masked_select(tg.tensor([True, False, True, True])),
                theirs.masked_select(torch.tensor([True, False, True, True])))
    assert_same(ours.take(tg.tensor([[0, 23], [-1, 5]])), theirs.take(torch.tensor([[0, 23], [-1, 5]])))
    assert_same(ours.diagonal(-1, 1, 2), theirs.diagonal(-1, 1, 2))
    assert_same(ours.diagonal(5), theirs.diagonal(5))
    assert_same(ours.unfold(2, 3, 2), theirs.unfold(2, 3, 2))
    assert_same(ours.unfold(0, 2, 1), theirs.unfold(0, 2, 1))
    assert_same(tg.tensor(3.0).unfold(0, 1, 1), torch.tensor(3.0).unfold(0, 1, 1))
    for got, expected in zip(ours.unbind(1), theirs.unbind(1)):
        assert_same(got, expected)
    assert ours.ndimension() == 3
    with pytest.raises(IndexError, match="out of range"):
        ours.index_select(0, tg.tensor([2]))
    with pytest.raises(IndexError, match="out of range"):
        ours.take(tg.tensor([24]))
    with pytest.raises(TypeError, match="bool tensor"):
        ours.masked_select(tg.tensor([1, 0, 1, 1]))
    with pytest.raises(ValueError, match="size must lie"):
        ours.unfold(2, 5, 1)
    with pytest.raises(ValueError, match="must differ"):
        ours.diagonal(0, 1, -2)


def test_diff_of_bool_and_with_number_prepend_matches_torch():
    flags = [True, False, False, True]
    assert_same(tg.diff(tg.tensor(flags)), torch.diff(torch.tensor(flags)))
    x = np.array([[1.0, 4.0, 9.0], [2.0, 3.0, 5.0]], np.float32)
    assert_same(tg.tensor(x).diff(dim=0, append=tg.tensor(x[:1])),
                torch.tensor(x).diff(dim=0, append=torch.tensor(x[:1])))
    assert_same(tg.tensor(x).diff(n=3), torch.tensor(x).diff(n=3))


def test_quantile_forms_match_torch():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 5)).astype(np.float32)
    x_nan = x.copy()
    x_nan[1, 2] = np.nan
    x_nan[2, :] = np.nan
    q = np.array([0.0, 0.1, 0.5, 0.9, 1.0], np.float32)
    for interpolation in ("linear", "lower", "higher", "midpoint", "nearest"):
        for data in (x, x_nan):
            for fn in ("quantile", "nanquantile"):
                for dim, keepdim in ((None, False), (1, False), (0, True), (None, True)):
                    ours = getattr(tg.tensor(data), fn)(tg.tensor(q), dim, keepdim,
                                                        interpolation=interpolation)
                    theirs = getattr(torch.tensor(data), fn)(torch.tensor(q), dim, keepdim,
                                                             interpolation=interpolation)
                    np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-6,
                                               equal_nan=True)
                    assert ours.shape == tuple(theirs.shape)
    assert_same(tg.quantile(tg.tensor(x), 0.5, dim=0), torch.quantile(torch.tensor(x), 0.5, dim=0))
    assert_same(tg.tensor(2.0).quantile(0.5, dim=0, keepdim=True),
                torch.tensor(2.0).quantile(0.5, dim=0, keepdim=True))
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        tg.tensor(x).quantile(1.5)
    with pytest.raises(TypeError, match="floating-point"):
        tg.tensor([1, 2]).quantile(0.5)


def test_nansum_nanmean_match_torch():
    x = np.array([[1.0, np.nan, 3.0], [np.nan, np.nan, np.nan]], np.float32)
    for fn in (lambda lib, t: lib.nansum(t), lambda lib, t: lib.nansum(t, 1),
               lambda lib, t: lib.nanmean(t, 1, keepdim=True), lambda lib, t: t.nanmean()):
        ours, theirs = fn(tg, tg.tensor(x)), fn(torch, torch.tensor(x))
        np.testing.assert_allclose(ours.data, theirs.numpy(), equal_nan=True)
        assert ours.dtype == theirs.numpy().dtype
    leaf = tg.tensor(x, requires_grad=True)
    leaf.nansum().backward()
    np.testing.assert_array_equal(leaf.grad.data, ~np.isnan(x))


def test_rounding_divisions_match_torch_in_value_and_dtype():
    a = np.array([5, -5, 7, -7], np.int64)
    b = np.array([3, 3, -2, -2], np.int64)
    for fn in ("floor_divide", "remainder", "fmod"):
        assert_same(getattr(tg, fn)(tg.tensor(a), tg.tensor(b)),
                    getattr(torch, fn)(torch.tensor(a), torch.tensor(b)))
        assert_same(getattr(tg.tensor(a.astype(np.float32)), fn)(2.5),
                    getattr(torch.tensor(a.astype(np.float32)), fn)(2.5))
    assert_same(7 % tg.tensor(b), 7 % torch.tensor(b))


def test_atan2_promotes_integers_like_torch_and_hypot_refuses_them():
    for a, b in (([1, 2], [2, 1]), ([1, 2], [2.0, 0.5]), ([True, False], [3, 4]),
                 ([2.0, 0.5], [1, 2])):
        assert_same(tg.atan2(tg.tensor(a), tg.tensor(b)), torch.atan2(torch.tensor(a),
                                                                      torch.tensor(b)))
    assert_same(tg.atan2(tg.tensor([1, 2]), tg.tensor([2.0], dtype=tg.float64)),
                torch.atan2(torch.tensor([1, 2]), torch.tensor([2.0], dtype=torch.float64)))
    assert_same(tg.hypot(tg.tensor([3.0]), tg.tensor([4])),
                torch.hypot(torch.tensor([3.0]), torch.tensor([4])))
    with pytest.raises(TypeError, match="floating-point"):
        tg.hypot(tg.tensor([3]), tg.tensor([4.0]))


def test_std_mean_and_var_mean_match_torch():
    x = np.random.default_rng(2).standard_normal((3, 4))
    for fn in ("std_mean", "var_mean"):
        for kwargs in ({}, {"dim": 1}, {"dim": 0, "correction": 0, "keepdim": True}):
            ours = getattr(tg, fn)(tg.tensor(x), **kwargs)
            theirs = getattr(torch, fn)(torch.tensor(x), **kwargs)
            for got, expected in zip(ours, theirs):
                assert_same(got, expected)
    assert_gradcheck(lambda t: sum(r.sum() for r in tg.std_mean(t, 1)), x)


def test_grids_and_combinations_match_torch():
    a, b, c = [1.0, 2.0, 3.0], [4.0, 5.0], [7.0, 8.0]
    for indexing in ("ij", "xy"):
        for got, expected in zip(tg.meshgrid(tg.tensor(a), tg.tensor(b), tg.tensor(c),
                                             indexing=indexing),
                                 torch.meshgrid(torch.tensor(a), torch.tensor(b),
                                                torch.tensor(c), indexing=indexing)):
            assert_same(got, expected)
    with pytest.raises(TypeError, match="same dtype"):
        tg.meshgrid(tg.tensor([1, 2]), tg.tensor(b))
    assert_same(tg.cartesian_prod(tg.tensor(a), tg.tensor(c)),
                torch.cartesian_prod(torch.tensor(a), torch.tensor(c)))
    for r, replace in ((2, False), (3, False), (2, True), (0, False), (5, False)):
        assert_same(tg.combinations(tg.tensor(a), r, replace),
                    torch.combinations(torch.tensor(a), r, replace))
    assert_same(tg.kron(tg.tensor([[1, 2], [3, 4]]), tg.tensor([1, 10])),
                torch.kron(torch.tensor([[1, 2], [3, 4]]), torch.tensor([1, 10])))
    assert_same(tg.block_diag(tg.tensor([[1, 2]]), tg.tensor(3.0), tg.tensor([4, 5])),
                torch.block_diag(torch.tensor([[1, 2]]), torch.tensor(3.0), torch.tensor([4, 5])))


def test_counting_functions_match_torch():
    values = np.array([3, 1, 3, 2, 7, 1, 3])
    for kwargs in ({}, {"return_inverse": True}, {"return_counts": True},
                   {"return_inverse": True, "return_counts": True}):
        ours = tg.unique(tg.tensor(values), **kwargs)
        theirs = torch.unique(torch.tensor(values), **kwargs)
        for got, expected in zip(ours if isinstance(ours, tuple) else [ours],
                                 theirs if isinstance(theirs, tuple) else [theirs]):
            assert_same(got, expected)
    rows = np.array([[1, 2], [0, 1], [1, 2]])
    for got, expected in zip(tg.tensor(rows).unique(dim=0, return_inverse=True),
                             torch.tensor(rows).unique(dim=0, return_inverse=True)):
        assert_same(got, expected)
    assert_same(tg.bincount(tg.tensor(values)), torch.bincount(torch.tensor(values)))
    assert_same(tg.bincount(tg.tensor(values), minlength=10),
                torch.bincount(torch.tensor(values), minlength=10))
    for weights in (np.linspace(0, 1, 7, dtype=np.float32), np.arange(7)):
        assert_same(tg.bincount(tg.tensor(values), tg.tensor(weights)),
                    torch.bincount(torch.tensor(values), torch.tensor(weights)))
    data = np.random.default_rng(3).standard_normal(50).astype(np.float32)
    for kwargs in ({}, {"bins": 7, "min": -1, "max": 1}, {"bins": 4, "min": 0, "max": 3}):
        assert_same(tg.histc(tg.tensor(data), **kwargs), torch.histc(torch.tensor(data), **kwargs))
    assert_same(tg.histc(tg.tensor([1.0, 2.0, 1.0, 3.0]), bins=4, min=0, max=3),
                torch.histc(torch.tensor([1.0, 2.0, 1.0, 3.0]), bins=4, min=0, max=3))
    with pytest.raises(ValueError, match="non-negative"):
        tg.bincount(tg.tensor([-1, 2]))


def test_sorted_search_matches_torch():
    boundaries = np.array([1.0, 3.0, 5.0, 7.0], np.float32)
    values = np.array([[0.0, 3.0, 6.0], [7.0, 9.0, 1.0]], np.float32)
    for right in (False, True):
        assert_same(tg.bucketize(tg.tensor(values), tg.tensor(boundaries), right=right),
                    torch.bucketize(torch.tensor(values), torch.tensor(boundaries), right=right))
        assert_same(tg.searchsorted(tg.tensor(boundaries), tg.tensor(values), right=right),
                    torch.searchsorted(torch.tensor(boundaries), torch.tensor(values), right=right))
    rows = np.sort(np.random.default_rng(4).standard_normal((2, 5)), axis=1)
    assert_same(tg.searchsorted(tg.tensor(rows), tg.tensor(values), side="right", out_int32=True),
                torch.searchsorted(torch.tensor(rows), torch.tensor(values.astype(np.float64)),
                                   side="right", out_int32=True))
    shuffled = np.array([5.0, 1.0, 7.0, 3.0])
    sorter = np.argsort(shuffled)
    assert_same(tg.searchsorted(tg.tensor(shuffled), tg.tensor([4.0]), sorter=tg.tensor(sorter)),
                torch.searchsorted(torch.tensor(shuffled), torch.tensor([4.0]),
                                   sorter=torch.tensor(sorter)))


def test_cdist_matches_torch_for_batches_and_gives_zero_gradient_at_zero_distance():
    rng = np.random.default_rng(5)
    x1, x2 = rng.standard_normal((2, 4, 3)), rng.standard_normal((2, 5, 3))
    for p in (2.0, 1.0, 0.5, math.inf):
        assert_matches_torch(lambda lib, a, b: lib.cdist(a, b, p=p), x1, x2)
    same = tg.tensor(x1[0], requires_grad=True)
    tg.cdist(same, same.detach()).sum().backward()
    expected = torch.tensor(x1[0], requires_grad=True)
    torch.cdist(expected, expected.detach()).sum().backward()
    np.testing.assert_allclose(same.grad.data, expected.grad.numpy(), atol=1e-12)


# --------------------------------------------------------------------------- in place

IN_PLACE = {
    "abs_": lambda lib, t: t.abs_(),
    "clamp_": lambda lib, t: t.clamp_(-0.5, 1.0),
    "clip_": lambda lib, t: t.clip_(min=0.0),
    "addcmul_": lambda lib, t: t.addcmul_(t * 2, t + 1, value=0.5),
    "addcdiv_": lambda lib, t: t.addcdiv_(t, t * t + 1, value=-2),
    "lerp_": lambda lib, t: t.lerp_(t * 3, 0.25),
    "scatter_": lambda lib, t: t.scatter_(1, lib.tensor([[2, 0], [1, 1]]),
                                          lib.tensor([[10.0, 20.0], [30.0, 40.0]])),
    "scatter_value": lambda lib, t: t.scatter_(0, lib.tensor([[1, 0, 1]]), value=7.0),
    "scatter_add_": lambda lib, t: t.scatter_add_(1, lib.tensor([[2, 2], [0, 1]]),
                                                  lib.ones(2, 2)),
    "index_add_": lambda lib, t: t.index_add_(1, lib.tensor([0, 2, 0]), lib.ones(2, 3),
                                              alpha=3),
    "index_put_": lambda lib, t: t.index_put_((lib.tensor([0, 1, 0]), lib.tensor([2, 2, 2])),
                                              lib.tensor([1.0, 2.0, 4.0]), accumulate=True),
    "index_put_mask": lambda lib, t: t.index_put_((t > 0,), lib.tensor(9.0)),
    "put_": lambda lib, t: t.put_(lib.tensor([0, -1, 3]), lib.tensor([5.0, 6.0, 7.0])),
    "put_accumulate": lambda lib, t: t.put_(lib.tensor([1, 1]), lib.tensor([5.0, 6.0]),
                                            accumulate=True),
}


@pytest.mark.parametrize("name", sorted(IN_PLACE))
def test_in_place_ops_match_torch_and_bump_the_version(name):
    x = np.array([[-1.5, 0.25, 2.0], [0.75, -0.5, 1.25]], np.float32)
    ours, theirs = tg.tensor(x), torch.tensor(x)
    view = ours[0]
    before = ours._version
    result = IN_PLACE[name](tg, ours)
    IN_PLACE[name](torch, theirs)
    assert result is ours
    assert_same(ours, theirs)
    np.testing.assert_array_equal(view.data, ours.data[0])  # written into the same memory
    assert ours._version > before


@pytest.mark.parametrize("name", sorted(IN_PLACE))
def test_in_place_ops_refuse_a_leaf_that_requires_grad(name):
    leaf = tg.tensor([[-1.5, 0.25, 2.0], [0.75, -0.5, 1.25]], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        IN_PLACE[name](tg, leaf)
    with tg.no_grad():
        IN_PLACE[name](tg, leaf)  # an update step may
    assert leaf.requires_grad


def test_in_place_op_on_saved_tensor_is_caught_at_backward():
    leaf = tg.tensor([1.0, -2.0], requires_grad=True)
    hidden = leaf * 1
    out = (hidden.detach() * leaf).sum()  # saves hidden's array for leaf's gradient
    hidden.detach().abs_()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.backward()


def test_in_place_int_tensor_refuses_a_float_result():
    with pytest.raises(ValueError, match="cannot be written"):
        tg.tensor([1, 2]).lerp_(tg.tensor([3.0, 4.0]), 0.5)


# --------------------------------------------------------------------------- settings


def test_finfo_and_iinfo_match_torch():
    for dtype in ("float16", "float32", "float64"):
        ours, theirs = tg.finfo(getattr(tg, dtype)), torch.finfo(getattr(torch, dtype))
        for field in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution"):
            assert getattr(ours, field) == getattr(theirs, field), (dtype, field)
        assert ours.dtype == theirs.dtype
    assert tg.finfo().eps == torch.finfo().eps
    for dtype in ("uint8", "int8", "int16", "int32", "int64"):
        ours, theirs = tg.iinfo(getattr(tg, dtype)), torch.iinfo(getattr(torch, dtype))
        assert (ours.bits, ours.max, ours.min, ours.dtype) == \
            (theirs.bits, theirs.max, theirs.min, theirs.dtype)
    with pytest.raises(TypeError, match="iinfo"):
        tg.finfo(tg.int64)
    with pytest.raises(TypeError, match="finfo"):
        tg.iinfo(tg.float32)


@pytest.fixture
def print_options():
    yield
    tg.set_printoptions(profile="default")


def test_set_printoptions_changes_repr_like_torch(print_options):
    values = [1.123456789, 22.5, 1e-3]
    tg.set_printoptions(precision=2)
    assert "1.12" in repr(tg.tensor(values)) and "1.1235" not in repr(tg.tensor(values))
    tg.set_printoptions(precision=6)
    assert "1.123457" in repr(tg.tensor(values))
    tg.set_printoptions(sci_mode=True, precision=3)
    assert "1.123e+00" in repr(tg.tensor(values))
    tg.set_printoptions(profile="default", threshold=5, edgeitems=2)
    assert "..." in repr(tg.arange(10.0))
    tg.set_printoptions(profile="default")
    assert "..." not in repr(tg.arange(1000.0)) and "..." in repr(tg.arange(1001.0))
    with pytest.raises(ValueError, match="profile"):
        tg.set_printoptions(profile="long")


def test_global_switches_are_recorded_and_change_nothing():
    assert tg.get_float32_matmul_precision() == torch.get_float32_matmul_precision()
    tg.set_float32_matmul_precision("high")
    try:
        assert tg.get_float32_matmul_precision() == "high"
    finally:
        tg.set_float32_matmul_precision("highest")
    with pytest.raises(ValueError, match="precision"):
        tg.set_float32_matmul_precision("low")
    model = tg.nn.Linear(2, 2)
    assert tg.compile(model) is model
    step = lambda x: x * 2  # noqa: E731
    assert tg.compile(step, mode="max-autotune") is step
    assert tg.compile(fullgraph=True)(step) is step
    cudnn = tg.backends.cudnn
    assert (cudnn.enabled, cudnn.benchmark, cudnn.deterministic, cudnn.is_available()) == \
        (torch.backends.cudnn.enabled, torch.backends.cudnn.benchmark,
         torch.backends.cudnn.deterministic, torch.backends.cudnn.is_available())
    cudnn.benchmark = True
    try:
        assert tg.backends.cudnn.benchmark is True
    finally:
        cudnn.benchmark = False
    for flag in ("allow_tf32", "allow_fp16_reduced_precision_reduction",
                 "allow_bf16_reduced_precision_reduction"):
        assert getattr(tg.backends.cuda.matmul, flag) == \
            getattr(torch.backends.cuda.matmul, flag)
    assert tg.backends.cuda.is_built() is torch.backends.cuda.is_built()


# --------------------------------------------------------------------------- hooks


def _hooked_step(lib, log):
    """A small graph with hooks on a leaf and on a non-leaf (one of them replaces the
    gradient); returns the leaf."""
    x = lib.tensor([1.0, -2.0, 3.0], dtype=lib.float64, requires_grad=True)
    hidden = x * x
    hidden.retain_grad()
    hidden.register_hook(lambda g: log.append(("hidden", g.detach().numpy().copy())) or g * 10)
    x.register_hook(lambda g: log.append(("x", g.detach().numpy().copy())))
    (hidden * lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64)).sum().backward()
    return x, hidden


def test_register_hook_sees_and_replaces_gradients_like_torch():
    ours_log, theirs_log = [], []
    x, hidden = _hooked_step(tg, ours_log)
    tx, thidden = _hooked_step(torch, theirs_log)
    assert [name for name, _ in ours_log] == [name for name, _ in theirs_log]
    for (_, got), (_, expected) in zip(ours_log, theirs_log):
        np.testing.assert_allclose(got, expected)
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy())
    np.testing.assert_allclose(hidden.grad.data, thidden.grad.numpy())


def test_removed_hook_no_longer_runs_and_engine_returns_to_no_hook_path():
    calls = []
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    first = x.register_hook(lambda g: calls.append(1))
    second = x.register_hook(lambda g: g * 2)
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.data, [6.0, 6.0])
    first.remove()
    second.remove()
    second.remove()  # a second remove does nothing
    assert not x._hooks
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.data, [3.0, 3.0])
    assert calls == [1]


def test_hooks_run_in_autograd_grad_and_with_create_graph():
    x = tg.tensor([1.0, 2.0], dtype=tg.float64, requires_grad=True)
    x.register_hook(lambda g: g * 2)
    (grad,) = tg.autograd.grad((x ** 3).sum(), x, create_graph=True)
    np.testing.assert_allclose(grad.data, 2 * 3 * np.array([1.0, 4.0]))
    tx = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    tx.register_hook(lambda g: g * 2)
    (tgrad,) = torch.autograd.grad((tx ** 3).sum(), tx, create_graph=True)
    np.testing.assert_allclose(grad.data, tgrad.detach().numpy())


def test_register_hook_rejects_bad_use():
    with pytest.raises(RuntimeError, match="does not require grad"):
        tg.tensor([1.0]).register_hook(lambda g: g)
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: g.sum())
    with pytest.raises(RuntimeError, match="shape"):
        (x * 2).sum().backward()


def test_captured_step_with_a_hooked_tensor_is_refused():
    from tinygrad_fm.jit import CaptureError

    weight = tg.tensor([1.0, 2.0], requires_grad=True)
    weight.register_hook(lambda g: g * 2)

    @tg.jit
    def step(x):
        loss = (weight * x).sum()
        loss.backward()
        return loss

    with pytest.raises(CaptureError, match="register_hook"):
        for _ in range(3):  # the first calls run eagerly, a later one records
            step(tg.tensor([3.0, 4.0]))
