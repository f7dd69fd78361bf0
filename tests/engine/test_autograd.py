"""The engine: backward's contract, accumulation, graph shapes (diamonds, deep chains,
random DAGs), releasing saved buffers, retain_graph/retain_grad, grad mode, detach,
un-broadcasting and the Function extension API."""

import gc
import threading
import weakref

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_fm as tg
from tinygrad_fm import Tensor, enable_grad, gradcheck, no_grad
from tinygrad_fm.autograd import ArrayFunction
from tinygrad_fm.autograd import is_grad_enabled, set_grad_enabled, unbroadcast

import helpers as tst
from helpers import ArrayCube


def leaf(values, dtype=np.float64):
    return Tensor(np.array(values, dtype=dtype), requires_grad=True)


# --------------------------------------------------------------------------- backward()


def test_scalar_output_needs_no_gradient_argument():
    x = leaf([1.0, 2.0, 3.0])
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [2, 4, 6])
    y = leaf([[2.0]])  # one element, any shape, as in PyTorch
    (y * 3).backward()
    np.testing.assert_array_equal(y.grad.data, [[3]])


def test_non_scalar_output_without_gradient_is_an_error_that_says_so():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"scalar.*\(2,\).*gradient"):
        (x * 2).backward()


@pytest.mark.parametrize("gradient", [np.array([1.0, 0.5, 2.0]), [1.0, 0.5, 2.0],
                                      Tensor([1.0, 0.5, 2.0])])
def test_gradient_argument_is_the_vector_in_the_vector_jacobian_product(gradient):
    x = leaf([1.0, 2.0, 3.0])
    (x * x).backward(gradient)
    np.testing.assert_allclose(x.grad.data, [2.0, 2.0, 12.0])


@pytest.mark.parametrize("shape", [(3, 1), (1, 3), (), (2, 3)])
def test_gradient_argument_must_have_the_output_shape(shape):
    x = leaf([1.0, 2.0, 3.0])
    with pytest.raises(RuntimeError, match=r"gradient has shape.*\(3,\)"):
        (x * 2).backward(np.ones(shape))


def test_backward_on_a_tensor_outside_any_graph_is_an_error():
    with pytest.raises(RuntimeError, match="does not require grad"):
        Tensor([1.0]).sum().backward()
    x = leaf([1.0])
    with no_grad():
        y = x * 2
    with pytest.raises(RuntimeError, match="no_grad"):
        y.backward()


def test_backward_of_a_leaf_itself():
    x = leaf([1.0, 2.0])
    x.backward(np.array([3.0, 4.0]))
    np.testing.assert_array_equal(x.grad.data, [3, 4])


def test_gradients_accumulate_over_backward_calls():
    x = leaf([1.0, -2.0])
    (x * 3).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3 + 2, 3 - 4])
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3, 3])


def test_leaf_gradient_is_its_own_array():
    # No leaf's .grad may alias the gradient argument, another leaf's .grad or a buffer
    # the ops still use: an optimizer updates .grad in place.
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    g = np.array([1.0, 1.0])
    (a + b).backward(g)
    g[:] = 100
    a.grad.data *= 10
    np.testing.assert_array_equal(b.grad.data, [1, 1])
    np.testing.assert_array_equal(a.grad.data, [10, 10])
    c = leaf([1.0, 2.0])
    c.backward(g)
    g[:] = -1
    np.testing.assert_array_equal(c.grad.data, [100, 100])
    d = leaf([[1.0, 2.0]])
    e = d.expand(3, 2) + 0.0
    e.backward(np.ones((3, 2)))
    assert not np.shares_memory(d.grad.data, e.data)


def test_leaf_gradient_has_the_leaf_dtype():
    x = leaf([1.0, 2.0], np.float32)
    (x * 2).backward(np.array([1.0, 1.0], np.float64))
    assert x.grad.dtype == np.float32
    y = leaf([1.0, 2.0], np.float64)
    (y.float() * 2).sum().backward()
    assert y.grad.dtype == np.float64


def test_intermediates_keep_no_grad_unless_retain_grad():
    x = leaf([1.0, 2.0])
    hidden = x * 3
    kept = hidden.exp()
    kept.retain_grad()
    kept.sum().backward()
    assert hidden.grad is None
    np.testing.assert_allclose(kept.grad.data, [1, 1])
    np.testing.assert_allclose(x.grad.data, 3 * np.exp(3 * x.data))


def test_retain_grad_accumulates_and_leaf_retain_grad_is_harmless():
    x = leaf([1.0, 2.0])
    x.retain_grad()
    y = x * 2
    y.retain_grad()
    (y * y).sum().backward(retain_graph=True)
    (y * y).sum().backward()
    np.testing.assert_allclose(y.grad.data, 2 * (2 * y.data))
    np.testing.assert_allclose(x.grad.data, 2 * (8 * x.data))


def test_retain_graph_allows_a_second_backward_that_accumulates():
    x = leaf([0.5, 1.5])
    y = (x.tanh() * x).sum()
    y.backward(retain_graph=True)
    first = x.grad.data.copy()
    y.backward()
    np.testing.assert_allclose(x.grad.data, 2 * first)


def test_backward_through_a_released_graph_is_a_clear_error():
    x = leaf([0.5, 1.5])
    h = x.exp()
    y = (h * 2).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time.*retain_graph=True"):
        y.backward()
    # a new graph that reaches into the freed one fails the same way
    with pytest.raises(RuntimeError, match="retain_graph"):
        h.sum().backward()


# --------------------------------------------------------------------------- graph shapes


def test_diamond_sums_both_paths():
    x = leaf([0.3, -1.2])
    a, b = x * 2, x.exp()
    (a * b).sum().backward()
    np.testing.assert_allclose(x.grad.data, 2 * np.exp(x.data) * (1 + x.data))


def test_nested_diamonds_and_a_tensor_used_twice_in_one_op():
    x = leaf([0.7, 2.0])
    a = x * x              # x^2, both inputs are x
    b = a + a              # 2x^2
    c = b * x + a.sqrt()   # 2x^3 + x  (x > 0)
    d = c + b              # 2x^3 + 2x^2 + x
    d.sum().backward()
    np.testing.assert_allclose(x.grad.data, 6 * x.data ** 2 + 1 + 4 * x.data)


def test_branches_that_need_no_gradient_are_not_followed():
    calls = []

    class Spy(ArrayFunction):
        @staticmethod
        def forward(ctx, x):
            return x * 1.0

        @staticmethod
        def backward(ctx, grad):
            calls.append(ctx.needs_input_grad)
            return grad

    x, constant = leaf([1.0]), Tensor([2.0])
    (x * Spy.apply(constant) + Spy.apply(x)).sum().backward()
    assert calls == [(True,)]  # only the branch through x
    np.testing.assert_array_equal(x.grad.data, [3])


def test_a_chain_of_100000_ops_backpropagates_without_recursion():
    x = leaf([1.0, 2.0], np.float32)
    y = x
    for _ in range(100_000):
        y = y + 1.0
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [1, 1])
    np.testing.assert_array_equal(y.data, x.data + 100_000)


def test_a_chain_of_100000_ops_can_be_dropped_without_backward():
    x = leaf([1.0], np.float32)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    del y  # freeing a deep graph must not overflow the C stack
    gc.collect()


UNARY = {
    "tanh": lambda t: t.tanh(), "sigmoid": lambda t: t.sigmoid(),
    "scale": lambda t: t * 0.7, "square": lambda t: (t * t) * 0.5, "exp": lambda t: t.tanh().exp(),
}
BINARY = {"add": lambda a, b: a + b, "mul": lambda a, b: a * b, "sub": lambda a, b: a - b}


@given(shapes=tst.broadcastable_shapes(), data=st.data())
def test_random_dags_with_shared_subexpressions_gradcheck(shapes, data):
    """Nodes may be reused any number of times, so gradients must be summed over every
    path into each node before it passes them on."""
    x = data.draw(tst.float_arrays(shapes[0], -1.0, 1.0))
    z = data.draw(tst.float_arrays(shapes[1], -1.0, 1.0))
    plan = data.draw(st.lists(st.tuples(st.sampled_from(sorted(UNARY) + sorted(BINARY)),
                                        st.integers(0, 100), st.integers(0, 100)),
                              min_size=1, max_size=8))
    outputs = data.draw(st.lists(st.integers(0, 100), min_size=1, max_size=3))

    def build(x_t, z_t):
        nodes = [x_t, z_t]
        for name, i, j in plan:
            a, b = nodes[i % len(nodes)], nodes[j % len(nodes)]
            nodes.append(UNARY[name](a) if name in UNARY else BINARY[name](a, b))
        total = nodes[outputs[0] % len(nodes)].sum()
        for k in outputs[1:]:
            total = total + nodes[k % len(nodes)].sum()
        return total

    assert gradcheck(build, [Tensor(x, requires_grad=True), Tensor(z, requires_grad=True)])


# --------------------------------------------------------------------------- memory


def test_saved_buffers_and_intermediates_are_freed_after_backward():
    x = leaf(np.linspace(-1, 1, 1000))
    hidden = x * 2
    activation = hidden.tanh()   # Tanh saves its output array
    out = (activation * 3).sum()  # Mul saves activation's array
    hidden_ref, array_ref = weakref.ref(hidden), weakref.ref(activation.data)
    del hidden, activation
    gc.collect()
    assert hidden_ref() is not None and array_ref() is not None  # the graph holds them
    out.backward()
    gc.collect()
    assert hidden_ref() is None and array_ref() is None
    np.testing.assert_allclose(x.grad.data, 6 * (1 - np.tanh(2 * x.data) ** 2))


def test_retain_graph_keeps_saved_buffers_until_the_last_backward():
    x = leaf([0.1, 0.2])
    activation = x.tanh()
    out = (activation * activation).sum()
    array_ref = weakref.ref(activation.data)
    del activation
    out.backward(retain_graph=True)
    gc.collect()
    assert array_ref() is not None
    out.backward()
    gc.collect()
    assert array_ref() is None


class SavesACopy(ArrayFunction):
    """x * 2 that saves a private copy of its input, so nothing but the op holds it."""

    last_saved = None

    @staticmethod
    def forward(ctx, x):
        saved = x.copy()
        SavesACopy.last_saved = weakref.ref(saved)
        ctx.save_for_backward(saved)
        return x * 2

    @staticmethod
    def backward(ctx, grad):
        (saved,) = ctx.saved_tensors
        assert saved.shape == grad.shape
        return grad * 2


def test_nothing_is_saved_or_recorded_under_no_grad():
    x = leaf([1.0, 2.0])
    with no_grad():
        y = SavesACopy.apply(x)
        assert not is_grad_enabled()
    gc.collect()
    assert SavesACopy.last_saved() is None  # the context was dropped right away
    assert not y.requires_grad and y.grad_fn is None and y.is_leaf
    np.testing.assert_array_equal(y.data, [2, 4])
    y = SavesACopy.apply(x)
    gc.collect()
    assert SavesACopy.last_saved() is not None and y.grad_fn is SavesACopy
    y.sum().backward()
    gc.collect()
    assert SavesACopy.last_saved() is None
    np.testing.assert_array_equal(x.grad.data, [2, 2])


def test_ops_on_tensors_that_need_no_grad_record_nothing():
    a, b = Tensor([1.0, 2.0]), Tensor([3.0, 4.0])
    for result in (a + b, a * 2, a.exp(), a @ b, a.sum(), a[0], tg.cat([a, b])):
        assert not result.requires_grad and result.grad_fn is None
    x = leaf([1.0, 2.0])
    assert (a * x).requires_grad and (a * x).grad_fn is not None


# --------------------------------------------------------------------------- grad mode


def test_no_grad_context_decorator_and_bare_decorator():
    x = leaf([1.0, 2.0])

    @no_grad()
    def called():
        return x * 2, is_grad_enabled()

    @no_grad
    def bare(scale):
        return x * scale, is_grad_enabled()

    for y, enabled in (called(), bare(3)):
        assert not enabled and not y.requires_grad and y.grad_fn is None
    np.testing.assert_array_equal(bare(3)[0].data, [3, 6])
    assert is_grad_enabled() and (x * 2).requires_grad


def test_enable_grad_reenables_inside_no_grad_and_modes_nest():
    x = leaf([1.0])
    with no_grad():
        with enable_grad():
            assert (x * 2).requires_grad
            with no_grad():
                assert not (x * 2).requires_grad
            assert is_grad_enabled()
        assert not is_grad_enabled()

        @enable_grad()
        def inside():
            return x * 2

        @enable_grad
        def inside_bare():
            return x * 2

        assert inside().requires_grad and inside_bare().requires_grad
        assert not is_grad_enabled()
    assert is_grad_enabled()


def test_grad_mode_is_restored_after_an_exception():
    with pytest.raises(ZeroDivisionError):
        with no_grad():
            1 / 0
    assert is_grad_enabled()
    with set_grad_enabled(False):
        assert not is_grad_enabled()
    assert is_grad_enabled()


def test_grad_mode_is_per_thread():
    seen = []
    with no_grad():
        thread = threading.Thread(target=lambda: seen.append(is_grad_enabled()))
        thread.start()
        thread.join()
    assert seen == [True]


def test_detach_cuts_the_graph():
    x = leaf([1.0, 2.0])
    y = x * 3
    (y.detach() * y + x).sum().backward()
    # d/dx [c * 3x + x] with c = 3x held constant
    np.testing.assert_array_equal(x.grad.data, 3 * (3 * x.data) + 1)


# --------------------------------------------------------------------------- unbroadcast


@given(shapes=tst.broadcastable_shapes())
def test_unbroadcast_sums_each_element_over_its_copies(shapes):
    shape, other = shapes
    full = np.broadcast_shapes(shape, other)
    summed = unbroadcast(np.ones(full), shape)
    assert summed.shape == shape
    copies = int(np.prod(full)) // max(int(np.prod(shape)), 1)
    np.testing.assert_array_equal(summed, np.full(shape, copies))


@given(shapes=tst.broadcastable_shapes(), data=st.data())
def test_broadcasting_ops_give_each_input_a_gradient_of_its_own_shape(shapes, data):
    a = Tensor(data.draw(tst.float_arrays(shapes[0])), requires_grad=True)
    b = Tensor(data.draw(tst.nonzero_arrays(shapes[1])), requires_grad=True)
    for op in (lambda p, q: p + q, lambda p, q: p - q, lambda p, q: p * q,
               lambda p, q: p / q, lambda p, q: tg.where(True, p, q)):
        a.grad = b.grad = None
        op(a, b).sum().backward()
        assert a.grad.shape == a.shape and b.grad.shape == b.shape


# --------------------------------------------------------------------------- extension API


class ScaledMulAdd(ArrayFunction):
    """scale * a * b + c in one op, with a keyword argument and broadcasting gradients
    left for the engine to sum back."""

    @staticmethod
    def forward(ctx, a, b, c, scale=1.0):
        ctx.save_for_backward(a, b)
        ctx.scale = scale
        return scale * a * b + c

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need_a, need_b, need_c = ctx.needs_input_grad
        return (ctx.scale * grad * b if need_a else None,
                ctx.scale * grad * a if need_b else None,
                grad if need_c else None)


@given(shape=tst.shapes(), data=st.data())
def test_custom_cube_is_verified_by_gradcheck(shape, data):
    x = data.draw(tst.float_arrays(shape))
    out = ArrayCube.apply(Tensor(x, requires_grad=True))
    np.testing.assert_allclose(out.data, x ** 3)
    assert out.grad_fn is ArrayCube
    assert gradcheck(ArrayCube.apply, [Tensor(x, requires_grad=True)])
    assert gradcheck(lambda t: ArrayCube.apply(t.tanh()).sum(), [Tensor(x, requires_grad=True)])


@given(shapes=tst.broadcastable_shapes(3), scale=st.sampled_from([1.0, -0.5, 2.0]),
       data=st.data())
def test_custom_fused_op_with_broadcasting_is_verified_by_gradcheck(shapes, scale, data):
    a, b, c = (data.draw(tst.float_arrays(s)) for s in shapes)

    def fused(x, y, w):
        return ScaledMulAdd.apply(x, y, w, scale=scale)

    np.testing.assert_allclose(fused(Tensor(a), Tensor(b), Tensor(c)).data, scale * a * b + c)
    assert gradcheck(fused, [Tensor(v, requires_grad=True) for v in (a, b, c)])


def test_custom_op_gets_needs_input_grad_and_plain_arrays():
    seen = {}

    class Record(ArrayFunction):
        @staticmethod
        def forward(ctx, a, b, c):
            seen["types"] = (type(a), type(b), type(c))
            return a * b + c

        @staticmethod
        def backward(ctx, grad):
            seen["needs"] = ctx.needs_input_grad
            return grad * 2, None, None

    x = leaf([1.0, 2.0])
    out = Record.apply(x, np.array([3.0, 3.0]), Tensor([1.0, 1.0]))
    assert seen["types"] == (np.ndarray, np.ndarray, np.ndarray)
    out.sum().backward()
    assert seen["needs"] == (True, False, False)
    np.testing.assert_array_equal(x.grad.data, [2, 2])


def test_custom_op_with_a_single_input_may_return_a_bare_array():
    x = leaf([1.0, -2.0])
    ArrayCube.apply(x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3, 12])
