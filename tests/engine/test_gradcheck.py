"""gradcheck: True on correct gradients, a GradcheckError naming the input, the worst
element and both values on wrong ones."""

import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_fm import GradcheckError, Tensor, gradcheck
from tinygrad_fm.autograd import ArrayFunction

import helpers as tst


class ScaledSquareGrad(ArrayFunction):
    """x ** 2 whose backward is off by a factor ``ctx.factor`` (1 = correct)."""

    factor = 1.0

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return ScaledSquareGrad.factor * 2 * x * grad


class WrongSecondInput(ArrayFunction):
    """a * b with the gradient of b forgotten to be multiplied by a."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return grad * b, grad


def reported_values(message):
    analytic, numeric = re.search(r"analytic gradient (\S+), numerical (\S+)", message).groups()
    return float(analytic), float(numeric)


@pytest.fixture(autouse=True)
def correct_factor():
    ScaledSquareGrad.factor = 1.0
    yield
    ScaledSquareGrad.factor = 1.0


def test_returns_true_for_correct_gradients():
    x = Tensor(np.array([[0.5, -1.0], [2.0, 0.25]]), requires_grad=True)
    y = Tensor(np.array([1.5, -0.5]), requires_grad=True)
    assert gradcheck(lambda a, b: (a @ b).tanh(), [x, y]) is True
    assert gradcheck(lambda a: (a * a).sum(), x) is True  # a single input, not in a list
    assert gradcheck(ScaledSquareGrad.apply, [x]) is True
    # only x requires grad, and its gradient is right
    assert gradcheck(lambda a, b: WrongSecondInput.apply(a, b), [x, np.ones(2)]) is True


def test_names_the_input_the_worst_element_and_both_values():
    ScaledSquareGrad.factor = 0.5  # analytic = x, numerical = 2x
    x = Tensor(np.array([[1.0, -2.0], [3.0, 0.5]]), requires_grad=True)
    with pytest.raises(GradcheckError) as error:
        gradcheck(lambda t: ScaledSquareGrad.apply(t).sum(), [x])
    message = str(error.value)
    assert "input 0" in message and "(2, 2)" in message
    assert "element (1, 0)" in message  # largest |x| gives the largest error
    analytic, numeric = reported_values(message)
    # both are scaled by gradcheck's random output weight
    assert numeric == pytest.approx(2 * analytic, rel=1e-6) and analytic != 0
    assert isinstance(error.value, RuntimeError)


def test_names_the_second_input_when_only_its_gradient_is_wrong():
    a = Tensor(np.array([2.0, 3.0]), requires_grad=True)
    b = Tensor(np.array([1.0, -1.0]), requires_grad=True)
    with pytest.raises(GradcheckError, match=r"input 1 .*element \(1,\)") as error:
        gradcheck(lambda x, y: WrongSecondInput.apply(x, y).sum(), [a, b])
    analytic, numeric = reported_values(str(error.value))
    assert numeric == pytest.approx(3 * analytic, rel=1e-6)  # d/db = a = 3, not 1


def test_raise_exception_false_returns_false():
    ScaledSquareGrad.factor = 2.0
    assert gradcheck(ScaledSquareGrad.apply, [Tensor(np.array([1.0, 2.0]))],
                     raise_exception=False) is False


@given(shape=tst.shapes(), data=st.data())
def test_detects_any_gradient_that_is_off_by_a_factor(shape, data):
    x = data.draw(tst.nonzero_arrays(shape, margin=0.5))
    ScaledSquareGrad.factor = data.draw(st.sampled_from([0.9, 1.05, -1.0, 0.0, 2.0]))
    with pytest.raises(GradcheckError, match="input 0"):
        gradcheck(ScaledSquareGrad.apply, [Tensor(x, requires_grad=True)])


def test_tolerances_decide():
    ScaledSquareGrad.factor = 1.01
    x = [Tensor(np.array([1.0, 2.0]), requires_grad=True)]
    with pytest.raises(GradcheckError):
        gradcheck(ScaledSquareGrad.apply, x)
    assert gradcheck(ScaledSquareGrad.apply, x, rtol=0.05)
    assert gradcheck(ScaledSquareGrad.apply, x, atol=0.1, rtol=0.0)
    ScaledSquareGrad.factor = 1.0
    assert gradcheck(ScaledSquareGrad.apply, x, eps=1e-4)
    assert gradcheck(ScaledSquareGrad.apply, x, eps=1e-3, atol=0.0, rtol=1e-8)  # exact for x^2


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # 0/0 on purpose
def test_nan_gradients_fail():
    x = Tensor(np.array([1.0, 1.0]), requires_grad=True)  # std of equal values: 0/0
    with pytest.raises(GradcheckError, match="nan"):
        gradcheck(lambda t: t.std(), [x])


def test_checks_only_inputs_that_require_grad_when_some_do():
    a = Tensor(np.array([2.0, 3.0]), requires_grad=True)
    b = Tensor(np.array([1.0, -1.0]))  # its wrong gradient is not checked
    assert gradcheck(lambda x, y: WrongSecondInput.apply(x, y).sum(), [a, b])
    # with none requiring grad, every floating input is checked
    with pytest.raises(GradcheckError, match="input 1"):
        gradcheck(lambda x, y: WrongSecondInput.apply(x, y).sum(), [a.detach(), b])


def test_non_floating_inputs_pass_through_unchecked():
    x = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    index = np.array([2, 0, 2])
    assert gradcheck(lambda t, i: t[i] * t[i], [x, index])
    with pytest.raises(ValueError, match="no floating-point input"):
        gradcheck(lambda i: i, [np.array([1, 2])])


def test_fn_must_return_a_tensor():
    with pytest.raises(TypeError, match="must return a Tensor"):
        gradcheck(lambda t: t.data.sum(), [Tensor(np.ones(2), requires_grad=True)])


def test_constant_output_has_zero_gradient():
    assert gradcheck(lambda t: Tensor(np.ones(3)), [Tensor(np.ones(2), requires_grad=True)])


def test_leaves_the_callers_tensors_alone():
    x = Tensor(np.array([0.5, 1.5], np.float32), requires_grad=True)
    assert gradcheck(lambda t: t.exp().sum(), [x])
    assert x.dtype == np.float32 and x.grad is None
    np.testing.assert_array_equal(x.data, np.array([0.5, 1.5], np.float32))
