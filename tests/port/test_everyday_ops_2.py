"""More torch-namespace functions and Tensor methods that everyday PyTorch code uses:
special functions (erf, lgamma, digamma, ... and ``torch.special``), alpha and
rounding_mode arithmetic, strict products, splitting and stacking, running extrema,
logcumsumexp, scatter_reduce, repeat_interleave and in-place forms: float64 gradcheck
over Hypothesis-drawn inputs, and values, dtypes and gradients against PyTorch."""

import math
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import helpers as tst
import tinygrad_fm as tg
from helpers import (assert_derivatives_match_torch, assert_gradcheck, assert_gradgradcheck,
                     assert_matches_torch)

torch = pytest.importorskip("torch")


def assert_same(ours, theirs, rtol=1e-6):
    """Same values, shape and dtype as PyTorch's result."""
    expected = theirs.detach().numpy()
    assert ours.shape == expected.shape, (ours.shape, expected.shape)
    assert ours.dtype == expected.dtype, (ours.dtype, expected.dtype)
    np.testing.assert_allclose(ours.data, expected, rtol=rtol, atol=1e-7)


def away_from_poles(shape):
    """Values in [-3.5, 4] at least 0.15 from 0, -1, -2, -3 (the poles of the gamma
    family), where the functions are smooth."""
    return tst.arrays_away_from(shape, [0.0, -1.0, -2.0, -3.0], margin=0.15, low=-3.5,
                                high=4.0)


# name -> (function of the library module and a tensor, input strategy)
UNARY = {
    "tan": (lambda lib, x: lib.tan(x), lambda s: tst.float_arrays(s, -1.2, 1.2)),
    "erf": (lambda lib, x: lib.erf(x), tst.float_arrays),
    "erfc": (lambda lib, x: x.erfc(), tst.float_arrays),
    "erfinv": (lambda lib, x: lib.erfinv(x), lambda s: tst.float_arrays(s, -0.95, 0.95)),
    "lgamma": (lambda lib, x: lib.lgamma(x), away_from_poles),
    "log2": (lambda lib, x: lib.log2(x), tst.positive_arrays),
    "log10": (lambda lib, x: x.log10(), tst.positive_arrays),
    "logit": (lambda lib, x: lib.logit(x), lambda s: tst.float_arrays(s, 0.05, 0.95)),
    "logit_eps": (lambda lib, x: x.logit(eps=0.2),
                  lambda s: tst.arrays_away_from(s, [0.2, 0.8], low=0.01, high=0.99)),
    "special_expit": (lambda lib, x: lib.special.expit(x), tst.float_arrays),
    "special_ndtr_like": (lambda lib, x: lib.special.erfc(x) * lib.special.erf(x),
                          tst.float_arrays),
    "special_gammaln": (lambda lib, x: lib.special.gammaln(x), away_from_poles),
    "special_log_softmax": (lambda lib, x: lib.special.log_softmax(x, -1) if x.ndim else x,
                            tst.float_arrays),
    "special_softmax": (lambda lib, x: lib.special.softmax(x, 0) if x.ndim else x,
                        tst.float_arrays),
    "special_logsumexp": (lambda lib, x: lib.special.logsumexp(x, -1) if x.ndim else x,
                          tst.float_arrays),
    "logcumsumexp": (lambda lib, x: lib.logcumsumexp(x, -1) if x.ndim else x,
                     lambda s: tst.float_arrays(s, -30, 30)),
    "cummax": (lambda lib, x: lib.cummax(x, -1).values if x.ndim else x,
               tst.distinct_arrays),
    "cummin": (lambda lib, x: x.cummin(0).values if x.ndim else x, tst.distinct_arrays),
    "repeat_interleave_flat": (lambda lib, x: lib.repeat_interleave(x, 2),
                               tst.float_arrays),
    "repeat_interleave_dim": (lambda lib, x: x.repeat_interleave(
        lib.tensor([2, 0, 1, 3][:x.shape[-1]] * (x.shape[-1] // 5 + 1))[:x.shape[-1]], dim=-1)
        if x.ndim else x, tst.float_arrays),
    "tensor_split_sections": (lambda lib, x: lib.cat(lib.tensor_split(x, 3, dim=-1)[::-1], -1)
                              if x.ndim else x, tst.float_arrays),
    "tensor_split_indices": (lambda lib, x: lib.cat(x.tensor_split([1, -1])[1:], 0)
                             if x.ndim else x, tst.float_arrays),
    "hstack": (lambda lib, x: lib.hstack([x, x * 2]), tst.float_arrays),
    "vstack": (lambda lib, x: lib.vstack([x, x * 2]), tst.float_arrays),
    "dstack": (lambda lib, x: lib.dstack((x, x * 3)), tst.float_arrays),
    "column_stack": (lambda lib, x: lib.column_stack([x.reshape(-1), x.reshape(-1) + 1]),
                     tst.float_arrays),
    "div_alpha_forms": (lambda lib, x: lib.add(x, x * x, alpha=0.5) - lib.sub(x, 2, alpha=3)
                        + lib.true_divide(x, 4), tst.float_arrays),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@given(data=st.data())
def test_unary_ops_gradcheck_and_match_torch(name, data):
    fn, strategy = UNARY[name]
    assert_derivatives_match_torch(fn, data.draw(strategy(data.draw(tst.shapes(max_dims=3)))))


@given(data=st.data())
def test_digamma_and_polygamma_gradients_and_values_match_torch(data):
    x = data.draw(away_from_poles(data.draw(tst.shapes(max_dims=2))))
    for fn in (lambda lib, t: lib.digamma(t), lambda lib, t: lib.special.digamma(t),
               lambda lib, t: lib.polygamma(1, t), lambda lib, t: t.polygamma(2)):
        assert_gradcheck(lambda t: fn(tg, t), x)
        assert_gradgradcheck(lambda t: fn(tg, t), x)
        # PyTorch's trigamma (the gradient of digamma) is accurate to about 5e-10; ours
        # to 1e-15 (checked against mpmath while writing it).
        assert_matches_torch(fn, x, rtol=1e-8)


# name -> (function of the library module and two tensors, strategy of the pair)
BINARY = {
    "xlogy": (lambda lib, a, b: lib.xlogy(a, b), lambda s: st.tuples(
        tst.nonzero_arrays(s), tst.positive_arrays(s))),  # x = 0: a kink (torch: slope 0)
    "special_xlogy": (lambda lib, a, b: lib.special.xlogy(a, b), lambda s: st.tuples(
        tst.nonzero_arrays(s), tst.positive_arrays(s))),  # x = 0: a kink (torch: slope 0)
    "cross_last": (lambda lib, a, b: lib.cross(a.reshape(-1, 3), b.reshape(-1, 3), dim=-1),
                   lambda s: st.tuples(tst.float_arrays(s + (3,)), tst.float_arrays(s + (3,)))),
    "cross_method_dim0": (lambda lib, a, b: a.reshape(3, -1).cross(b.reshape(3, -1), dim=0),
                          lambda s: st.tuples(tst.float_arrays((3,) + s),
                                              tst.float_arrays((3,) + s))),
    "outer_ger_dot": (lambda lib, a, b: lib.outer(a.reshape(-1), b.reshape(-1))
                      + lib.ger(a.reshape(-1), b.reshape(-1))
                      + lib.dot(a.reshape(-1), b.reshape(-1)), lambda s: st.tuples(
        tst.float_arrays(s), tst.float_arrays(s))),
    "mm_mv": (lambda lib, a, b: lib.mm(a.reshape(-1, 1), b.reshape(1, -1)).sum(1)
              + lib.mv(a.reshape(-1, 1), b.reshape(-1)[:1]) + a.reshape(1, -1).mm(
        b.reshape(-1, 1)).reshape(()) + a.reshape(-1, 1).mv(b.reshape(-1)[:1])
              + b.reshape(-1).dot(a.reshape(-1)), lambda s: st.tuples(
        tst.float_arrays(s), tst.float_arrays(s))),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@given(data=st.data())
def test_binary_ops_gradcheck_and_match_torch(name, data):
    fn, strategy = BINARY[name]
    assert_derivatives_match_torch(fn, *data.draw(strategy(data.draw(tst.shapes(max_dims=2)))))


def test_special_functions_at_their_edges_match_torch():
    points = np.array([-np.inf, -3.0, -2.5, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0, 30.0, 200.0, np.inf,
                       np.nan])
    for name in ("lgamma", "digamma", "erf", "erfc", "tan", "log2", "log10"):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no NumPy warnings at the poles
            ours = getattr(tg.tensor(points, dtype=tg.float64), name)()
        assert_same(ours, getattr(torch.tensor(points), name)(), rtol=1e-12)
    unit = np.array([-1.5, -1.0, -0.999999, -0.3, 0.0, 1e-9, 0.7, 0.999999, 1.0, 1.5, np.nan])
    assert_same(tg.tensor(unit, dtype=tg.float64).erfinv(), torch.tensor(unit).erfinv(),
                rtol=1e-12)
    probabilities = np.array([0.0, 0.1, 0.5, 1.0, 1.2])
    assert_same(tg.tensor(probabilities, dtype=tg.float64).logit(),
                torch.tensor(probabilities).logit(), rtol=1e-12)
    assert_same(tg.tensor(probabilities, dtype=tg.float64).logit(0.25),
                torch.tensor(probabilities).logit(0.25), rtol=1e-12)
    for x, y in ((0.0, np.nan), (0.0, 0.0), (0.0, -1.0), (2.0, 0.0), (np.nan, 1.0)):
        assert_same(tg.xlogy(tg.tensor([x], dtype=tg.float64), tg.tensor([y], dtype=tg.float64)),
                    torch.xlogy(torch.tensor(np.array([x])), torch.tensor(np.array([y]))),
                    rtol=1e-12)


def test_special_functions_keep_float32_and_promote_integers_as_torch():
    x = np.array([0.1, 0.5, 2.0, 3.5], np.float32)
    for name in ("tan", "erf", "erfc", "lgamma", "digamma", "log2", "log10", "logit"):
        assert_same(getattr(tg.tensor(x), name)(), getattr(torch.tensor(x), name)())
    ints = [1, 2, 3]
    for name in ("erf", "lgamma", "digamma", "log2", "tan"):
        assert_same(getattr(tg.tensor(ints), name)(), getattr(torch.tensor(ints), name)())
    assert_same(tg.erfinv(tg.tensor(x / 4)), torch.erfinv(torch.tensor(x / 4)))
    assert_same(tg.logcumsumexp(tg.tensor(x), 0), torch.logcumsumexp(torch.tensor(x), 0))
    assert_same(tg.special.xlogy(2, tg.tensor(x)), torch.special.xlogy(2, torch.tensor(x)))
    assert_same(tg.xlogy(tg.tensor(x), 3.0), torch.xlogy(torch.tensor(x), 3.0))


def test_logcumsumexp_is_exact_for_values_far_apart():
    x = np.array([-1000.0, 0.0, -2000.0, 1000.0, 1000.0])
    assert_matches_torch(lambda lib, t: lib.logcumsumexp(t, 0), x)
    assert_gradgradcheck(lambda t: t.logcumsumexp(0), np.array([-40.0, 0.5, -30.0, 2.0]))


def test_div_rounding_modes_match_torch_for_floats_and_integers():
    a = np.array([-7.5, -7.0, -1.0, 0.0, 3.0, 7.5])
    b = np.array([2.0, -2.0, 3.0, 2.0, -4.0, 0.5])
    for mode in ("trunc", "floor", None):
        assert_same(tg.div(tg.tensor(a), tg.tensor(b), rounding_mode=mode),
                    torch.div(torch.tensor(a), torch.tensor(b), rounding_mode=mode))
        assert_same(tg.tensor(a.astype(np.float32)).div(2, rounding_mode=mode),
                    torch.tensor(a.astype(np.float32)).div(2, rounding_mode=mode))
    ints_a, ints_b = [-7, -6, 7, 5, 0], [2, 4, -2, 5, 3]
    for mode in ("trunc", "floor"):
        assert_same(tg.tensor(ints_a).div(tg.tensor(ints_b), rounding_mode=mode),
                    torch.tensor(ints_a).div(torch.tensor(ints_b), rounding_mode=mode))
    x = tg.tensor([1.5, -2.5], requires_grad=True)
    assert not x.div(2, rounding_mode="floor").requires_grad  # zero gradient, as torch
    with pytest.raises(ValueError, match="rounding_mode"):
        x.div(2, rounding_mode="round")


def test_add_and_sub_with_alpha_match_torch_for_integers():
    assert_same(tg.add(tg.tensor([1, 2]), tg.tensor([3, 4]), alpha=2),
                torch.add(torch.tensor([1, 2]), torch.tensor([3, 4]), alpha=2))
    assert_same(tg.tensor([1, 2]).sub(tg.tensor([3, 4]), alpha=3),
                torch.tensor([1, 2]).sub(torch.tensor([3, 4]), alpha=3))
    assert_same(tg.subtract(tg.tensor([1.0]), 1.5), torch.subtract(torch.tensor([1.0]), 1.5))


def test_strict_products_reject_other_shapes():
    with pytest.raises(ValueError, match="mm: expected"):
        tg.mm(tg.ones(2, 3), tg.ones(2, 3))
    with pytest.raises(ValueError, match="mm: expected"):
        tg.ones(2, 2, 2).mm(tg.ones(2, 2))
    with pytest.raises(ValueError, match="mv: expected"):
        tg.mv(tg.ones(2, 3), tg.ones(2))
    with pytest.raises(ValueError, match="dot: expected"):
        tg.dot(tg.ones(3), tg.ones(2))
    with pytest.raises(ValueError, match="size 3"):
        tg.cross(tg.ones(2, 4), tg.ones(2, 4), dim=1)


def test_cross_without_dim_uses_first_size_3_dimension_and_warns_as_torch():
    a, b = np.arange(18.0).reshape(3, 2, 3), np.ones((3, 2, 3))
    with pytest.warns(UserWarning, match="without specifying the dim"):
        ours = tg.cross(tg.tensor(a), tg.tensor(b))
    with pytest.warns(UserWarning, match="without specifying the dim"):
        theirs = torch.cross(torch.tensor(a), torch.tensor(b))
    assert_same(ours, theirs)
    assert_same(tg.cross(tg.tensor([1, 0, 0]), tg.tensor([0, 1, 0]), dim=0),
                torch.cross(torch.tensor([1, 0, 0]), torch.tensor([0, 1, 0]), dim=0))


@pytest.mark.parametrize("split", [1, 3, 4, 7, [2, 5], [0, 0, 9], [-2, 3], (8, 2)])
def test_tensor_split_matches_torch(split):
    x = np.arange(14.0).reshape(2, 7)
    ours, theirs = tg.tensor(x).tensor_split(split, 1), torch.tensor(x).tensor_split(split, 1)
    assert len(ours) == len(theirs)
    for got, expected in zip(ours, theirs):
        assert_same(got, expected)
    as_tensor = tg.tensor(split) if not isinstance(split, int) else tg.tensor(split)
    for got, expected in zip(tg.tensor_split(tg.tensor(x), as_tensor, dim=1),
                             torch.tensor_split(torch.tensor(x), torch.tensor(split), dim=1)):
        assert_same(got, expected)
    with pytest.raises(ValueError, match="positive"):
        tg.tensor(x).tensor_split(0)


@pytest.mark.parametrize("shapes", [[(3,), (2,)], [(2, 3), (2, 1)], [(), ()], [(2, 2, 1), (2, 2, 3)]])
def test_stacking_functions_match_torch_shapes_and_values(shapes):
    arrays = [np.arange(math.prod(s), dtype=np.float32).reshape(s) + i for i, s in enumerate(shapes)]
    ours, theirs = [tg.tensor(a) for a in arrays], [torch.tensor(a) for a in arrays]
    for name in ("hstack", "vstack", "dstack", "column_stack"):
        try:
            expected = getattr(torch, name)(theirs)
        except RuntimeError:
            with pytest.raises(ValueError):
                getattr(tg, name)(ours)
            continue
        assert_same(getattr(tg, name)(ours), expected)
    for name in ("atleast_1d", "atleast_2d", "atleast_3d"):
        assert_same(getattr(tg, name)(ours[0]), getattr(torch, name)(theirs[0]))
        for got, expected in zip(getattr(tg, name)(*ours), getattr(torch, name)(*theirs)):
            assert_same(got, expected)


def test_cummax_cummin_indices_follow_torch_on_ties_and_nan():
    x = np.array([[1.0, 3.0, 3.0, 2.0, np.nan, 5.0, np.nan], [2.0, 2.0, 1.0, 1.0, 0.0, 4.0, 4.0]])
    for op in ("cummax", "cummin"):
        for dim in (0, 1, -1):
            ours, theirs = getattr(tg.tensor(x), op)(dim), getattr(torch.tensor(x), op)(dim)
            assert_same(ours.values, theirs.values)
            assert_same(ours.indices, theirs.indices)
        ours, theirs = getattr(tg, op)(tg.tensor([3, 1, 3]), 0), getattr(torch, op)(
            torch.tensor([3, 1, 3]), 0)
        assert_same(ours.values, theirs.values)
        assert_same(ours.indices, theirs.indices)
        ours, theirs = getattr(tg.tensor(2.0), op)(0), getattr(torch.tensor(2.0), op)(0)
        assert_same(ours.values, theirs.values)
        assert_same(ours.indices, theirs.indices)


def test_cummax_gradient_goes_to_the_chosen_element_as_torch():
    x = np.array([1.0, 3.0, 3.0, 2.0, 5.0])
    assert_matches_torch(lambda lib, t: lib.cummax(t, 0).values, x)
    assert_matches_torch(lambda lib, t: lib.cummin(t, 0).values, x)


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_values_and_gradients_match_torch(reduce, include_self):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 4))
    src = rng.standard_normal((2, 4))
    src[1, 2] = src[0, 2]  # a tie between src elements landing at the same place
    src[0, 0] = 0.0  # a zero for prod
    x[2, 3] = src[1, 3]  # a tie between self and src
    index = np.array([[0, 1, 2, 2], [0, 1, 2, 2]])

    def fn(lib, a, b):
        return a.scatter_reduce(0, lib.tensor(index), b, reduce, include_self=include_self)

    assert_matches_torch(fn, x, src)
    # Away from ties and zeros the second derivatives are checked too.
    apart = (x + 0.01 * (x == src[1, 3]), src + [[0.05, 0, 0, 0], [0, 0, 0.1, 0]])
    assert_gradcheck(lambda a, b: fn(tg, a, b), *apart)
    assert_gradgradcheck(lambda a, b: fn(tg, a, b), *apart)
    ints = torch.tensor([[1, 5], [7, 2]])
    assert_same(tg.tensor(ints.numpy()).scatter_reduce(1, tg.tensor([[0, 0], [1, 1]]),
                                                       tg.tensor([[3, 4], [9, 8]]), reduce,
                                                       include_self=include_self),
                ints.scatter_reduce(1, torch.tensor([[0, 0], [1, 1]]),
                                    torch.tensor([[3, 4], [9, 8]]), reduce,
                                    include_self=include_self))


def test_scatter_reduce_prod_with_a_zero_in_src_is_first_order_only():
    x = tg.tensor([1.0, 2.0], dtype=tg.float64, requires_grad=True)
    src = tg.tensor([0.0, 3.0], dtype=tg.float64, requires_grad=True)
    out = x.scatter_reduce(0, tg.tensor([0, 0]), src, "prod")
    (grad_src,) = tg.autograd.grad(out.sum(), [src], create_graph=True)
    np.testing.assert_allclose(grad_src.data, [3.0, 0.0])
    with pytest.raises(RuntimeError, match="cannot be differentiated twice"):
        grad_src.sum().backward()


def test_scatter_reduce_rejects_unknown_reductions():
    with pytest.raises(ValueError, match="reduce must be"):
        tg.zeros(3).scatter_reduce(0, tg.tensor([0]), tg.ones(1), "max")


def test_repeat_interleave_forms_match_torch():
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    for args, kwargs in (((2,), {}), ((3,), {"dim": 1}), ((torch.tensor([1, 2]),), {"dim": 0}),
                         ((torch.tensor([0, 2, 1]),), {"dim": -1}), ((torch.tensor(2),), {}),
                         ((2,), {"dim": 0, "output_size": 4})):
        our_args = tuple(tg.tensor(a.numpy()) if isinstance(a, torch.Tensor) else a for a in args)
        assert_same(tg.tensor(x).repeat_interleave(*our_args, **kwargs),
                    torch.tensor(x).repeat_interleave(*args, **kwargs))
    assert_same(tg.repeat_interleave(tg.tensor([2, 0, 3])),
                torch.repeat_interleave(torch.tensor([2, 0, 3])))
    assert_same(tg.repeat_interleave(tg.tensor(5.0), 3), torch.repeat_interleave(torch.tensor(5.0), 3))
    with pytest.raises(ValueError, match="one count per element"):
        tg.tensor(x).repeat_interleave(tg.tensor([1, 2, 3]), dim=0)
    with pytest.raises(ValueError, match="non-negative"):
        tg.tensor(x).repeat_interleave(-1)


def test_masked_fill_in_place_and_detach_in_place_as_torch():
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    ours, theirs = tg.tensor(x), torch.tensor(x)
    mask = np.array([True, False, True])
    assert ours.masked_fill_(tg.tensor(mask), -1.0) is ours
    theirs.masked_fill_(torch.tensor(mask), -1.0)
    assert_same(ours, theirs)
    assert ours._version == 1
    leaf = tg.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor"):
        leaf.masked_fill_(tg.tensor([True, False]), 0.0)
    y = leaf * 2
    assert y.detach_() is y
    assert y.grad_fn is None and not y.requires_grad and y.is_leaf
    np.testing.assert_array_equal(y.data, [2.0, 2.0])


# --------------------------------------------------------------------------- namespace


def test_size_is_a_tuple_that_prints_and_slices_as_torch():
    ours, theirs = tg.ones(2, 3, 4).size(), torch.ones(2, 3, 4).size()
    assert isinstance(ours, tuple) and isinstance(ours, tg.Size)
    assert ours == (2, 3, 4) == tg.ones(2, 3, 4).shape
    assert repr(ours) == repr(theirs) and str(ours) == str(theirs)
    assert repr(ours[1:]) == repr(theirs[1:]) and ours[-1] == theirs[-1] == 4
    assert ours.numel() == theirs.numel() == 24
    assert repr(ours + (5,)) == repr(theirs + (5,))
    assert repr(tg.Size([2, 3])) == repr(torch.Size([2, 3]))
    assert tg.ones(2, 3).size(1) == 3


def test_grad_fn_names_follow_torch_spelling():
    x = tg.ones(2, requires_grad=True)
    assert (x * 2).grad_fn.name() == (torch.ones(2, requires_grad=True) * 2).grad_fn.name()
    assert (x + 2).grad_fn.name() == "AddBackward0"
    assert "grad_fn=<MulBackward0>" in repr(x * 2)

    def twice(lib):
        class Twice(lib.autograd.Function):
            @staticmethod
            def forward(ctx, t):
                return t * 2

            @staticmethod
            def backward(ctx, grad):
                return grad * 2
        return Twice

    assert twice(tg).apply(x).grad_fn.name() == "TwiceBackward" == \
        twice(torch).apply(torch.ones(2, requires_grad=True)).grad_fn.name()


DTYPE_NAMES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32",
               "float64"]


def test_promote_types_and_can_cast_match_torch_for_every_pair():
    for a in DTYPE_NAMES:
        for b in DTYPE_NAMES:
            expected = torch.promote_types(getattr(torch, a), getattr(torch, b))
            got = tg.promote_types(getattr(tg, a), getattr(tg, b))
            assert tg.dtypes.dtype_name(got) == str(expected)[6:], (a, b)
            assert tg.can_cast(getattr(tg, a), getattr(tg, b)) == \
                torch.can_cast(getattr(torch, a), getattr(torch, b)), (a, b)


def test_result_type_follows_torch_for_tensors_zero_dim_tensors_and_numbers():
    operands = {
        "int64_vector": lambda lib: lib.tensor([1, 2]),
        "uint8_vector": lambda lib: lib.tensor([1, 2], dtype=lib.uint8),
        "bool_vector": lambda lib: lib.tensor([True]),
        "float16_vector": lambda lib: lib.tensor([1.0], dtype=lib.float16),
        "float32_vector": lambda lib: lib.tensor([1.0]),
        "float64_scalar_tensor": lambda lib: lib.tensor(1.0, dtype=lib.float64),
        "int32_scalar_tensor": lambda lib: lib.tensor(1, dtype=lib.int32),
        "int_number": lambda lib: 3,
        "float_number": lambda lib: 2.5,
        "bool_number": lambda lib: True,
    }
    for first in operands:
        for second in operands:
            if first.endswith("number") and second.endswith("number"):
                continue  # torch.result_type needs a tensor
            expected = torch.result_type(operands[first](torch), operands[second](torch))
            got = tg.result_type(operands[first](tg), operands[second](tg))
            assert tg.dtypes.dtype_name(got) == str(expected)[6:], (first, second)


def test_legacy_constructors_from_data_and_sizes_as_torch():
    for name in ("FloatTensor", "DoubleTensor", "LongTensor", "IntTensor", "BoolTensor",
                 "ByteTensor", "HalfTensor"):
        ours, theirs = getattr(tg, name), getattr(torch, name)
        assert_same(ours([1, 0, 2]), theirs([1, 0, 2]))
        assert_same(ours(np.array([[1.5, 0]])), theirs(np.array([[1.5, 0]])))
        assert ours(2, 3).shape == theirs(2, 3).shape == (2, 3)
        assert ours(2, 3).dtype == theirs(2, 3).numpy().dtype
        assert ours(tg.Size([4])).shape == (4,)
        assert ours().shape == theirs().shape == (0,)
        assert isinstance(ours([1]), ours) and not isinstance(tg.ones(1, dtype=tg.int8), ours)
        assert ours([1]).type() == theirs([1]).type()


def test_version_and_variable_as_torch():
    assert tg.version.__version__ == tg.__version__ and tg.version.cuda is None
    data = tg.ones(3)
    variable = tg.autograd.Variable(data, requires_grad=True)
    assert isinstance(variable, tg.Tensor) and variable.requires_grad and variable.is_leaf
    assert np.shares_memory(variable.data, data.data) and not data.requires_grad
    assert not tg.autograd.Variable([1.0, 2.0]).requires_grad
    assert tg.autograd.Variable([1.0, 2.0]).dtype == torch.autograd.Variable(
        torch.tensor([1.0, 2.0])).numpy().dtype


def _first_nan_error(lib, build):
    x = lib.tensor(np.array([-1.0, 4.0, 0.0]), requires_grad=True)
    try:
        build(x).backward()
    except RuntimeError as error:
        return str(error)
    return None


@pytest.mark.parametrize("build", [lambda x: (x.sqrt() * 2).sum(),
                                   lambda x: (x[2:] / x[2:]).sum(),
                                   lambda x: (x * 3).sum()])
def test_detect_anomaly_names_the_function_that_returned_nan_as_torch(build):
    with pytest.warns(UserWarning, match="Anomaly Detection has been enabled"):
        with tg.autograd.detect_anomaly():
            assert tg.is_anomaly_enabled()
            ours = _first_nan_error(tg, build)
    assert not tg.is_anomaly_enabled()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's own warnings (forward traceback)
        with torch.autograd.detect_anomaly():
            theirs = _first_nan_error(torch, build)
    assert ours == theirs
    assert _first_nan_error(tg, build) is None  # off: NaN flows through, as torch


def test_set_detect_anomaly_as_function_and_context_manager():
    tg.autograd.set_detect_anomaly(True)
    try:
        assert tg.autograd.is_anomaly_enabled()
        x = tg.tensor([-1.0], requires_grad=True)
        with pytest.raises(RuntimeError, match="Function 'SqrtBackward0' returned nan"):
            x.sqrt().sum().backward()
        with tg.autograd.set_detect_anomaly(False):
            assert not tg.autograd.is_anomaly_enabled()
            x.sqrt().sum().backward()
        assert tg.autograd.is_anomaly_enabled()
        y = tg.tensor([-1.0], requires_grad=True)
        with pytest.raises(RuntimeError, match="SqrtBackward0"):  # create_graph too
            tg.autograd.grad(y.sqrt().sum(), [y], create_graph=True)
    finally:
        tg.autograd.set_detect_anomaly(False)
    assert not tg.autograd.is_anomaly_enabled()


# --------------------------------------------------------------------------- linalg


@st.composite
def spd_matrices(draw, max_n=3):
    """Symmetric positive-definite matrices X X^T + I (X drawn), as float64."""
    n = draw(st.integers(1, max_n))
    x = draw(tst.float_arrays((n, n), -1.5, 1.5))
    return x @ x.T + np.eye(n)


def symmetric(lib_tensor):
    return lib_tensor + lib_tensor.mT


@given(a=spd_matrices())
def test_cholesky_matches_torch_with_gradients_of_both_orders(a):
    for upper in (False, True):
        fn = lambda lib, t: lib.linalg.cholesky(symmetric(t), upper=upper)  # noqa: E731
        assert_derivatives_match_torch(fn, a)


@given(a=tst.float_arrays((3, 3)))
def test_slogdet_logdet_and_det_methods_match_torch(a):
    a = a + 4 * np.eye(3)  # well away from singular, either sign of det is fine
    assert_derivatives_match_torch(lambda lib, t: lib.linalg.slogdet(t).logabsdet, a)
    assert_derivatives_match_torch(lambda lib, t: lib.slogdet(t)[1] + t.det(), a)
    ours, theirs = tg.slogdet(tg.tensor(a)), torch.slogdet(torch.tensor(a))
    assert_same(ours.sign, theirs.sign)
    assert_same(tg.tensor(a).logdet(), torch.tensor(a).logdet(), rtol=1e-12)
    assert_same(tg.tensor(a).inverse(), torch.tensor(a).inverse(), rtol=1e-10)


def test_logdet_of_negative_and_singular_matrices_follows_torch():
    for a in (np.diag([-1.0, 2.0]), np.zeros((2, 2)), np.diag([2.0, 3.0])):
        assert_same(tg.logdet(tg.tensor(a)), torch.logdet(torch.tensor(a)))
        assert_same(tg.linalg.slogdet(tg.tensor(a)).sign, torch.linalg.slogdet(torch.tensor(a)).sign)


def separated_symmetric(draw_values):
    """A symmetric matrix Q diag(values) Q^T with eigenvalues at least 0.3 apart (where
    eigenvector gradients are finite)."""
    values, angle = draw_values
    n = len(values)
    q = np.linalg.qr(np.cos(np.arange(n * n).reshape(n, n) * angle + 1.0) + np.eye(n) * 2)[0]
    return q @ np.diag(values) @ q.T


@given(case=st.tuples(st.lists(st.integers(-6, 6), min_size=1, max_size=3, unique=True)
                      .map(lambda v: 0.5 * np.array(v, float)), tst.bounded_floats(0.1, 3.0)))
def test_eigh_matches_torch_with_sign_free_functions_of_eigenvectors(case):
    a = separated_symmetric(case)

    def fn(lib, t):
        values, vectors = lib.linalg.eigh(symmetric(t))
        # Eigenvectors are defined up to sign: compare functions that do not see it.
        return lib.cat([values, (vectors * vectors * values.sin()).reshape(-1),
                        (vectors @ lib.diag(values.exp()) @ vectors.mT).reshape(-1)])

    assert_derivatives_match_torch(fn, a / 2)
    assert_matches_torch(lambda lib, t: lib.linalg.eigvalsh(t, UPLO="U"), a)


def test_linalg_errors_name_the_problem():
    with pytest.raises(RuntimeError, match="not positive-definite"):
        tg.linalg.cholesky(tg.tensor([[1.0, 2.0], [2.0, 1.0]]))
    with pytest.raises(ValueError, match="square matrix"):
        tg.linalg.eigh(tg.ones(2, 3))
    with pytest.raises(ValueError, match="UPLO"):
        tg.linalg.eigh(tg.eye(2), UPLO="X")


@st.composite
def matrices_with_separated_singular_values(draw):
    """(..., m, n) float64 matrices Q1 diag(s) Q2^T with singular values at least 0.5
    apart and away from 0 (where the SVD's gradients are finite)."""
    batch = draw(st.sampled_from([(), (2,)]))
    m, n = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    k = min(m, n)
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    values = 0.5 * np.array(draw(st.lists(st.integers(1, 8), min_size=k, max_size=k,
                                          unique=True)), float)
    left = np.linalg.qr(rng.standard_normal(batch + (m, m)))[0][..., :k]
    right = np.linalg.qr(rng.standard_normal(batch + (n, n)))[0][..., :k]
    return (left * values) @ np.swapaxes(right, -1, -2)


@given(a=matrices_with_separated_singular_values())
def test_svd_matches_torch_with_sign_free_functions_of_the_factors(a):
    def fn(lib, t):
        u, s, vh = lib.linalg.svd(t, full_matrices=False)
        # U and Vh are defined up to the signs of their column/row pairs: compare
        # functions that do not see them.
        return lib.cat([s.reshape(-1), (u * u * s.unsqueeze(-2).sin()).reshape(-1),
                        (vh * vh).sum(-2).reshape(-1) * 2,
                        ((u * s.unsqueeze(-2).exp()) @ vh).reshape(-1)])

    assert_derivatives_match_torch(fn, a)
    assert_matches_torch(lambda lib, t: lib.linalg.svdvals(t), a)


def test_full_svd_is_refused_with_the_fix():
    with pytest.raises(NotImplementedError, match="full_matrices=False"):
        tg.linalg.svd(tg.ones(2, 3))


@given(a=matrices_with_separated_singular_values())
def test_qr_matches_torch_including_wide_matrices(a):
    # Full-rank inputs (singular values >= 0.5): R's diagonal stays away from 0. Q and
    # R are compared directly: both use LAPACK's Householder QR, signs included.
    assert_derivatives_match_torch(
        lambda lib, t: lib.cat([(q := lib.linalg.qr(t)).Q.reshape(-1).sin(),
                                (q.R * q.R * q.R).reshape(-1)]), a)


def test_qr_modes_other_than_reduced_are_refused_with_the_fix():
    with pytest.raises(NotImplementedError, match="mode='reduced'"):
        tg.linalg.qr(tg.eye(2), mode="complete")
