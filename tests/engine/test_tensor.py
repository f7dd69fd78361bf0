"""The Tensor class itself: construction and dtype rules, attributes and helpers, repr,
factories and the seeded generator, operands of other types, identity equality."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_fm as tg
from tinygrad_fm import Tensor, manual_seed

import helpers as tst

# --------------------------------------------------------------------------- construction


@pytest.mark.parametrize("data", [1.5, [1.0, 2.5], [[1, 2.0], [3, 4]], (0.5, 1.5),
                                  [np.float64(1.0), 2.0]])
def test_python_floats_and_lists_become_float32(data):
    t = Tensor(data)
    assert t.dtype == np.float32
    np.testing.assert_array_equal(t.data, np.asarray(data, np.float32))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_floating_ndarrays_keep_their_dtype_and_memory(dtype):
    array = np.arange(6, dtype=dtype).reshape(2, 3)
    t = Tensor(array, requires_grad=True)
    assert t.dtype == dtype
    assert np.shares_memory(t.data, array)  # like torch.from_numpy
    assert Tensor(np.float64(2.0)).dtype == np.float64  # NumPy scalars too


@pytest.mark.parametrize("data, kind", [(3, "i"), ([1, 2, 3], "i"), (np.arange(3), "i"),
                                        (np.arange(3, dtype=np.uint8), "u"), (True, "b"),
                                        ([True, False], "b")])
def test_integer_and_bool_data_stay_integer_and_bool(data, kind):
    t = Tensor(data)
    assert t.dtype.kind == kind and not t.requires_grad
    np.testing.assert_array_equal(t.data, np.asarray(data))


@pytest.mark.parametrize("data", [3, [1, 2], np.arange(3), [True, False]])
def test_integer_or_bool_data_cannot_require_grad(data):
    with pytest.raises(TypeError, match="floating-point.*dtype"):
        Tensor(data, requires_grad=True)
    with pytest.raises(TypeError, match="floating-point"):
        Tensor(data).requires_grad_()


def test_explicit_dtype_converts():
    t = Tensor([1, 2], dtype=np.float64, requires_grad=True)
    assert t.dtype == np.float64 and t.requires_grad
    assert Tensor([1.7, 2.2], dtype="int64").dtype == np.int64
    assert Tensor(np.ones(2), dtype=np.float32).dtype == np.float32
    assert Tensor(Tensor([1.0, 2.0])).dtype == np.float32


@pytest.mark.parametrize("data", ["text", [object()], {"a": 1}])
def test_non_numeric_data_is_rejected_clearly(data):
    with pytest.raises(TypeError, match="cannot hold data"):
        Tensor(data)


def test_tensor_function_copies_but_constructor_shares():
    array = np.zeros(3, np.float32)
    shared, copied = Tensor(array), tg.tensor(array)
    array[0] = 5
    assert shared.data[0] == 5 and copied.data[0] == 0


# --------------------------------------------------------------------------- attributes


@given(shape=tst.shapes(), data=st.data())
def test_shape_ndim_numel_len_and_conversions(shape, data):
    array = data.draw(tst.float_arrays(shape))
    t = Tensor(array)
    assert t.shape == shape and t.ndim == len(shape) and t.numel() == array.size
    assert t.size() == shape  # PyTorch's size(): the shape, or one axis' length
    for axis in range(-len(shape), len(shape)):
        assert t.size(axis) == shape[axis]
        assert t.size(dim=axis) == shape[axis]
    with pytest.raises(IndexError, match="size"):
        t.size(len(shape))
    assert t.numpy() is t.data
    np.testing.assert_array_equal(np.asarray(t), array)
    np.testing.assert_array_equal(np.array(t, dtype=np.float32), array.astype(np.float32))
    assert np.array(t, copy=True) is not t.data
    assert t.tolist() == array.tolist()
    if len(shape):
        assert len(t) == shape[0]
        rows = list(t)
        assert len(rows) == shape[0] and all(isinstance(r, Tensor) for r in rows)
        np.testing.assert_array_equal(rows[-1].data, array[-1])
    else:
        with pytest.raises(TypeError, match="0-d"):
            len(t)


@given(shape=tst.shapes())
def test_T_reverses_axes(shape):
    t = Tensor(np.zeros(shape))
    assert t.T.shape == shape[::-1]


def test_item_and_scalar_conversions():
    assert Tensor(2.5).item() == 2.5 and isinstance(Tensor(2.5).item(), float)
    assert Tensor([[7]]).item() == 7 and isinstance(Tensor([[7]]).item(), int)
    assert float(Tensor([1.5])) == 1.5 and int(Tensor(3)) == 3
    assert bool(Tensor(1.0)) and not bool(Tensor([0.0]))
    with pytest.raises(ValueError, match=r"exactly one element.*\(2,\)"):
        Tensor([1.0, 2.0]).item()
    with pytest.raises(ValueError, match="ambiguous"):
        bool(Tensor([1.0, 2.0]))


def test_repr_shows_values_dtype_and_the_producing_op():
    leaf = Tensor([1.0, 2.5], requires_grad=True)
    assert repr(leaf) == "Tensor([1. , 2.5], requires_grad=True)"
    assert repr(Tensor(np.array([1.0]))) == "Tensor([1.], dtype=float64)"
    produced = leaf * 2
    assert "2., 5." in repr(produced) and "grad_fn=<MulBackward0>" in repr(produced)
    assert "ExpBackward" in repr(leaf.exp())
    with tg.no_grad():
        assert "grad_fn" not in repr(leaf * 2)
    assert "..." in repr(Tensor.zeros(1001))  # beyond 1000 elements, summarized as torch


def test_grad_fn_and_is_leaf():
    x = Tensor([1.0], requires_grad=True)
    y = x.sigmoid()
    assert x.is_leaf and x.grad_fn is None
    assert not y.is_leaf and y.grad_fn is tg.ops.Sigmoid
    assert Tensor([1.0]).requires_grad is False


def test_detach_shares_data_and_leaves_the_graph():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = (x * 3).detach()
    assert not y.requires_grad and y.grad_fn is None
    z = x * 3
    assert np.shares_memory(z.detach().data, z.data)


def test_requires_grad_():
    x = Tensor([1.0])
    assert x.requires_grad_() is x and x.requires_grad
    x.requires_grad_(False)
    assert not x.requires_grad
    y = Tensor([1.0], requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="leaf.*detach"):
        y.requires_grad_(False)


def test_retain_grad_needs_a_tensor_that_requires_grad():
    with pytest.raises(RuntimeError, match="does not require grad"):
        Tensor([1.0]).retain_grad()


def test_equality_is_elementwise_and_hash_is_identity():
    a, b = Tensor([1.0, 2.0]), Tensor([1.0, 3.0])
    np.testing.assert_array_equal((a == b).data, [True, False])
    np.testing.assert_array_equal((a != b).data, [False, True])
    assert (a == b).dtype == np.bool_ and (a == 1.0).data.tolist() == [True, False]
    assert hash(a) == hash(a) and len({a, b, a}) == 2
    assert {a: 1, b: 2}[b] == 2
    assert (a == None) is False and (a != None) is True  # noqa: E711  (as torch)
    np.testing.assert_array_equal(a.eq(b).data, (a == b).data)


def test_setitem_writes_data_but_refuses_tensors_in_the_graph():
    t = Tensor(np.zeros((2, 3), np.float32))
    t[0, [0, 2]] = 5.0
    t[Tensor(np.array([False, True]))] = Tensor(np.ones(3, np.float32))
    np.testing.assert_array_equal(t.data, [[5, 0, 5], [1, 1, 1]])
    w = Tensor(np.zeros(3), requires_grad=True)
    with pytest.raises(RuntimeError, match="no_grad"):
        w[0] = 1.0
    with tg.no_grad():
        w[0] = 1.0
    assert w.data[0] == 1.0


def test_zero_clears_in_place():
    t = Tensor(np.ones(3, np.float32))
    data = t.data
    assert t.zero_() is t
    assert t.data is data and not data.any()


# --------------------------------------------------------------------------- operands


@pytest.mark.parametrize("op", [
    lambda x, y: x + y, lambda x, y: x - y, lambda x, y: x * y, lambda x, y: x / y,
    lambda x, y: x ** y, lambda x, y: x @ y, lambda x, y: x < y, lambda x, y: x >= y,
])
def test_ndarray_on_either_side_gives_a_tensor(op):
    array = np.array([[1.0, 2.0], [3.0, 4.0]], np.float32)
    t = Tensor(array + 1)
    for result, expected in ((op(array, t), op(array, array + 1)),
                             (op(t, array), op(array + 1, array))):
        assert isinstance(result, Tensor)
        np.testing.assert_allclose(result.data, expected, rtol=1e-6)


def test_numpy_scalars_on_the_left_give_tensors():
    t = Tensor([1.0, 2.0])
    for scalar in (np.float64(2.0), np.float32(2.0), np.int64(2)):
        for result in (scalar + t, scalar - t, scalar * t, scalar / t, scalar ** t):
            assert isinstance(result, Tensor) and result.dtype == np.float32


def test_astype_float_double_long():
    t = Tensor([1.7, -2.2], requires_grad=True)
    assert t.double().dtype == np.float64 and t.double().requires_grad
    assert t.float() is t
    long = t.long()
    assert long.dtype == np.int64 and not long.requires_grad
    np.testing.assert_array_equal(long.data, [1, -2])


# --------------------------------------------------------------------------- factories


SHAPED_FACTORIES = ["zeros", "ones", "randn", "rand", "uniform"]


@pytest.mark.parametrize("name", SHAPED_FACTORIES)
@pytest.mark.parametrize("dtype", [None, np.float32, np.float64])
@pytest.mark.parametrize("requires_grad", [False, True])
def test_shaped_factories_take_shape_dtype_and_requires_grad(name, dtype, requires_grad):
    factory = getattr(Tensor, name)
    kwargs = {"requires_grad": requires_grad} | ({} if dtype is None else {"dtype": dtype})
    for t in (factory(2, 3, **kwargs), factory((2, 3), **kwargs)):
        assert t.shape == (2, 3)
        assert t.dtype == (dtype or np.float32)
        assert t.requires_grad is requires_grad and t.is_leaf
    assert getattr(tg, name)(4).shape == (4,)
    assert factory().shape == ()


def test_constant_factories_fill_the_right_values():
    np.testing.assert_array_equal(Tensor.zeros(2, 2).data, np.zeros((2, 2)))
    np.testing.assert_array_equal(Tensor.ones(3).data, np.ones(3))
    full = Tensor.full((2, 3), 7.5, requires_grad=True)
    assert full.dtype == np.float32 and full.requires_grad
    np.testing.assert_array_equal(full.data, np.full((2, 3), 7.5))
    assert Tensor.full(3, 2, dtype=np.int64).dtype == np.int64
    assert Tensor.full(3, 2, dtype=np.float32).dtype == np.float32


def test_full_takes_its_dtype_from_the_fill_value_like_torch():
    assert Tensor.full((2,), 2.5).dtype == np.float32  # Python float: the default dtype
    assert Tensor.full((2,), 3).dtype == np.int64
    assert Tensor.full((2,), True).dtype == np.bool_
    assert Tensor.full((2,), np.float64(1.0)).dtype == np.float64  # NumPy scalars keep theirs
    with pytest.raises(TypeError, match="floating-point"):
        Tensor.full((2,), 3, requires_grad=True)
    torch = pytest.importorskip("torch")
    for fill in (2.5, 3, True):
        expected = str(torch.full((2,), fill).dtype).removeprefix("torch.")
        assert str(Tensor.full((2,), fill).dtype) == expected
    eye = Tensor.eye(3, dtype=np.float64)
    np.testing.assert_array_equal(eye.data, np.eye(3))
    assert eye.dtype == np.float64
    assert Tensor.eye(2, 4).shape == (2, 4) and Tensor.eye(2).dtype == np.float32
    assert Tensor.eye(2, requires_grad=True).requires_grad


def test_arange():
    assert Tensor.arange(5).dtype == np.int64
    np.testing.assert_array_equal(Tensor.arange(5).data, np.arange(5))
    floats = Tensor.arange(0.0, 1.0, 0.25)
    assert floats.dtype == np.float32
    np.testing.assert_array_equal(floats.data, [0, 0.25, 0.5, 0.75])
    np.testing.assert_array_equal(Tensor.arange(2, 8, 3).data, [2, 5])
    # a lone bound is the end, whatever else is given (step was once silently ignored)
    np.testing.assert_array_equal(Tensor.arange(5, step=2).data, [0, 2, 4])
    np.testing.assert_array_equal(Tensor.arange(1.0, step=0.5).data, [0, 0.5])
    t = Tensor.arange(3, dtype=np.float64, requires_grad=True)
    assert t.dtype == np.float64 and t.requires_grad
    with pytest.raises(TypeError, match="floating-point"):
        Tensor.arange(3, requires_grad=True)


def test_like_factories():
    base = Tensor(np.ones((2, 3), np.float64))
    for name in ("zeros_like", "ones_like"):
        for source in (base, base.data):
            t = getattr(Tensor, name)(source)
            assert t.shape == (2, 3) and t.dtype == np.float64 and not t.requires_grad
        t = getattr(tg, name)(base, dtype=np.float32, requires_grad=True)
        assert t.dtype == np.float32 and t.requires_grad
    np.testing.assert_array_equal(Tensor.ones_like(base).data, 1)
    np.testing.assert_array_equal(Tensor.zeros_like(base).data, 0)


def test_random_factory_distributions():
    manual_seed(0)
    normal = Tensor.randn(20000).data
    assert abs(normal.mean()) < 0.05 and abs(normal.std() - 1) < 0.05
    unit = Tensor.rand(20000).data
    assert unit.min() >= 0 and unit.max() < 1 and abs(unit.mean() - 0.5) < 0.02
    bounded = Tensor.uniform(20000, low=-3.0, high=-1.0).data
    assert bounded.min() >= -3 and bounded.max() < -1 and abs(bounded.mean() + 2) < 0.05


def draw_everything():
    return [Tensor.randn(3).data, Tensor.rand(2, 2).data, Tensor.uniform(4, low=1, high=2).data,
            tg.randn(2, dtype=np.float64).data, tg.randint(0, 100, (3,)).data]


def test_manual_seed_makes_every_random_factory_reproducible():
    manual_seed(123)
    first = draw_everything()
    manual_seed(123)
    second = draw_everything()
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    manual_seed(124)
    assert not np.array_equal(draw_everything()[0], first[0])


def test_manual_seed_reseeds_the_default_generator():
    generator = manual_seed(5)
    assert tg.default_generator is generator and isinstance(generator, tg.Generator)
    assert generator.initial_seed() == 5
    expected = np.random.default_rng(5).standard_normal(4, dtype=np.float32)
    np.testing.assert_array_equal(Tensor.randn(4).data, expected)


def test_an_integer_tensor_of_one_element_is_an_index():
    classes = ["a", "b", "c"]
    assert classes[tg.tensor([0.1, 0.9, 0.0]).argmax()] == "b"
    assert list(range(tg.tensor(3))) == [0, 1, 2]
    with pytest.raises(TypeError, match="only integer tensors of a single element"):
        classes[tg.tensor(1.0)]
    with pytest.raises(TypeError, match="only integer tensors of a single element"):
        classes[tg.tensor([0, 1])]
