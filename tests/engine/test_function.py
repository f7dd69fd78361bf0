"""tinygrad_fm.autograd.Function behaves as torch.autograd.Function: Tensors in forward
and backward, ctx's methods, several outputs, the newer setup_context style, checked
gradients, and backward recorded under create_graph (so custom ops differentiate twice)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_fm as tg
from tinygrad_fm import Function, Tensor, gradcheck, gradgradcheck
from tinygrad_fm.autograd import grad, once_differentiable

import helpers as tst


def leaf(values, dtype=np.float64):
    return Tensor(np.array(values, dtype=dtype), requires_grad=True)


class Cube(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return 3 * x * x * grad


class SinCos(Function):
    """Two outputs from one input."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return Tensor(np.sin(x.data)), Tensor(np.cos(x.data))

    @staticmethod
    def backward(ctx, grad_sin, grad_cos):
        (x,) = ctx.saved_tensors
        return grad_sin * CosOf.apply(x) - grad_cos * SinOf.apply(x)


class SinOf(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return Tensor(np.sin(x.data))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * CosOf.apply(x)


class CosOf(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return Tensor(np.cos(x.data))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return -grad * SinOf.apply(x)


def test_forward_gets_tensors_and_runs_without_recording():
    seen = {}

    class Record(Function):
        @staticmethod
        def forward(ctx, a, scale, b):
            seen["types"] = (type(a), type(scale), type(b))
            seen["recording"] = tg.is_grad_enabled()
            out = a * scale + b
            seen["out_grad_fn"] = out.grad_fn
            return out

        @staticmethod
        def backward(ctx, grad):
            seen["grad_type"] = type(grad)
            seen["needs"] = ctx.needs_input_grad
            return grad * 2, None, None

    x = leaf([1.0, 2.0])
    out = Record.apply(x, 3.0, Tensor([1.0, 1.0]))
    assert seen["types"] == (Tensor, float, Tensor)
    assert seen["recording"] is False and seen["out_grad_fn"] is None
    assert out.requires_grad and out.grad_fn.function_class is Record
    assert "grad_fn=<RecordBackward>" in repr(out)
    out.sum().backward()
    assert seen["grad_type"] is Tensor and seen["needs"] == (True, False, False)
    np.testing.assert_array_equal(x.grad.data, [2, 2])


@settings(max_examples=20, deadline=None)
@given(data=st.data())
def test_custom_function_is_twice_differentiable(data):
    x = data.draw(tst.float_arrays(data.draw(tst.shapes(max_dims=2))))
    assert gradcheck(Cube.apply, [Tensor(x, requires_grad=True)])
    assert gradgradcheck(Cube.apply, [Tensor(x, requires_grad=True)])
    assert gradgradcheck(lambda t: SinCos.apply(t.tanh())[0] * SinCos.apply(t)[1],
                         [Tensor(x, requires_grad=True)])


def test_double_backward_through_a_custom_function_matches_pytorch():
    torch = pytest.importorskip("torch")

    class TorchCube(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return 3 * x * x * grad

    values = np.array([0.5, -1.5, 2.0])
    ours, theirs = leaf(values), torch.tensor(values, requires_grad=True)
    (g,) = grad((Cube.apply(ours.tanh()) * ours).sum(), ours, create_graph=True)
    (h,) = grad((g * g).sum(), ours)
    (tg_,) = torch.autograd.grad((TorchCube.apply(theirs.tanh()) * theirs).sum(), theirs,
                                 create_graph=True)
    (th,) = torch.autograd.grad((tg_ * tg_).sum(), theirs)
    np.testing.assert_allclose(g.data, tg_.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(h.data, th.numpy(), rtol=1e-12)


def test_multiple_outputs_each_get_their_gradient():
    x = leaf([0.3, 1.2])
    s, c = SinCos.apply(x)
    assert s.grad_fn is not None and c.requires_grad
    (s * 2 + c * 3).sum().backward()
    np.testing.assert_allclose(x.grad.data, 2 * np.cos(x.data) - 3 * np.sin(x.data))
    x.grad = None
    s, c = SinCos.apply(x)
    s.sum().backward()  # c got no gradient: backward sees zeros for it
    np.testing.assert_allclose(x.grad.data, np.cos(x.data))


def test_materialize_grads_false_passes_none():
    seen = []

    class Pair(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, ga, gb):
            seen.append((ga is None, gb is None))
            return (0 if ga is None else ga * 2) + (0 if gb is None else gb * 3)

    x = leaf([1.0])
    a, b = Pair.apply(x)
    b.sum().backward()
    assert seen == [(True, False)]
    np.testing.assert_array_equal(x.grad.data, [3])


def test_mark_non_differentiable_outputs():
    class SortWithIndex(Function):
        @staticmethod
        def forward(ctx, x):
            order = np.argsort(x.data)
            ctx.order = order
            values, ranks = Tensor(x.data[order]), Tensor(order.astype(np.float64))
            ctx.mark_non_differentiable(ranks)
            return values, ranks

        @staticmethod
        def backward(ctx, grad_values, grad_ranks):
            assert np.all(grad_ranks.data == 0)
            full = np.zeros(grad_values.shape)
            full[ctx.order] = grad_values.data
            return Tensor(full)

    x = leaf([3.0, 1.0, 2.0])
    values, ranks = SortWithIndex.apply(x)
    assert values.requires_grad and not ranks.requires_grad
    (values * Tensor([1.0, 2.0, 3.0])).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3, 1, 2])


def test_new_style_forward_with_setup_context():
    class Scale(Function):
        @staticmethod
        def forward(x, factor):
            return x * factor

        @staticmethod
        def setup_context(ctx, inputs, output):
            x, factor = inputs
            ctx.factor = factor
            ctx.save_for_backward(output)

        @staticmethod
        def backward(ctx, grad):
            (output,) = ctx.saved_tensors
            assert output.requires_grad  # saved outputs are the graph's outputs
            return grad * ctx.factor, None

    x = leaf([1.0, 2.0])
    y = Scale.apply(x, 4.0)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [4, 4])


def test_wrong_number_of_gradients_is_an_error_naming_the_function():
    class TooFew(Function):
        @staticmethod
        def forward(ctx, a, b):
            return a * b

        @staticmethod
        def backward(ctx, grad):
            return grad

    with pytest.raises(RuntimeError, match=r"TooFew.backward returned an incorrect number "
                                           r"of gradients \(expected 2, got 1\)"):
        TooFew.apply(leaf([1.0]), leaf([2.0])).sum().backward()

    class ExtraNones(Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, grad):
            return grad * 2, None, None  # trailing Nones are allowed, as in PyTorch

    x = leaf([1.0])
    ExtraNones.apply(x).sum().backward()
    assert x.grad.data[0] == 2


def test_wrong_gradient_shape_is_an_error_naming_the_function():
    class BadShape(Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, grad):
            return grad[:1]

    with pytest.raises(RuntimeError, match=r"BadShape.backward returned an invalid gradient "
                                           r"at index 0 - got shape \(1,\).*\(3,\)"):
        BadShape.apply(leaf([1.0, 2.0, 3.0])).sum().backward()

    class Broadcast(Function):  # a gradient in the broadcast shape is summed back
        @staticmethod
        def forward(ctx, a, b):
            return a + b

        @staticmethod
        def backward(ctx, grad):
            return grad, grad

    a, b = leaf([[1.0], [2.0]]), leaf([1.0, 2.0, 3.0])
    Broadcast.apply(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad.data, [[3], [3]])
    np.testing.assert_array_equal(b.grad.data, [2, 2, 2])


def test_a_gradient_for_a_non_tensor_input_is_an_error():
    class Bad(Function):
        @staticmethod
        def forward(ctx, a, factor):
            return a * factor

        @staticmethod
        def backward(ctx, grad):
            return grad, grad

    with pytest.raises(RuntimeError, match="Bad.backward returned a gradient different than "
                                           "None at position 1"):
        Bad.apply(leaf([1.0]), 2.0).sum().backward()


def test_a_backward_written_with_numpy_raises_only_when_differentiated_twice():
    class NumpyCube(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return Tensor(3 * x.data ** 2 * grad.data)

    x = leaf([1.0, 2.0])
    NumpyCube.apply(x).sum().backward()  # first order: fine
    np.testing.assert_array_equal(x.grad.data, [3, 12])
    (g,) = grad(NumpyCube.apply(x).sum(), x, create_graph=True)
    np.testing.assert_array_equal(g.data, [3, 12])
    with pytest.raises(RuntimeError, match="NumpyCube cannot be differentiated twice"):
        grad(g.sum(), x)


def test_once_differentiable_backward_raises_when_differentiated_twice():
    class Square(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        @once_differentiable
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return 2 * x * grad

    x = leaf([3.0])
    (g,) = grad(Square.apply(x).sum(), x, create_graph=True)
    assert g.data[0] == 6
    with pytest.raises(RuntimeError, match="Square cannot be differentiated twice"):
        grad(g.sum(), x)


def test_save_for_backward_takes_tensors_and_saved_tensors_are_freed():
    class SavesArray(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x.data)
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad

    with pytest.raises(TypeError, match="SavesArray: save_for_backward takes Tensors"):
        SavesArray.apply(leaf([1.0]))
    x = leaf([1.0, 2.0])
    y = Cube.apply(x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_returning_an_input_gives_an_alias():
    class Identity(Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad * 5

    x = leaf([1.0, 2.0])
    y = Identity.apply(x)
    assert y is not x and y.grad_fn.function_class is Identity and x.is_leaf
    assert np.shares_memory(y.data, x.data)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [5, 5])


def test_mark_dirty_bumps_the_version_of_inputs_changed_in_place():
    class AddOneInPlace(Function):
        @staticmethod
        def forward(ctx, x):
            x.data += 1
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad

    base = leaf([1.0, 2.0])
    h = base * 2
    before = h._version
    AddOneInPlace.apply(h)
    assert h._version == before + 1
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        AddOneInPlace.apply(leaf([1.0]))


def test_no_graph_when_no_input_requires_grad_or_under_no_grad():
    x = Tensor([1.0, 2.0])
    assert not Cube.apply(x).requires_grad
    with tg.no_grad():
        assert not Cube.apply(leaf([1.0])).requires_grad


def test_public_names():
    assert tg.Function is tg.autograd.Function
    assert tg.autograd.Function.apply is not tg.autograd.ArrayFunction.apply
