"""tinygrad_fm.autograd.functional against torch.autograd.functional: vjp, jvp, jacobian,
hessian, hvp and vhp on the same functions and numbers, single and tuple inputs and
outputs, create_graph and strict."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_fm as tg
from tinygrad_fm import Tensor
from tinygrad_fm.autograd import functional as AF

import helpers as tst

torch = pytest.importorskip("torch")
TF = torch.autograd.functional


def ours(a):
    return Tensor(np.array(a, np.float64))


def theirs(a):
    return torch.tensor(np.array(a, np.float64))


def assert_same(got, expected):
    if isinstance(expected, tuple):
        assert isinstance(got, tuple) and len(got) == len(expected)
        for g, e in zip(got, expected):
            assert_same(g, e)
        return
    assert isinstance(got, Tensor), type(got)
    np.testing.assert_allclose(got.data, expected.detach().numpy(), rtol=1e-10, atol=1e-12)
    assert got.shape == tuple(expected.shape)


# Functions written once for both libraries (Tensor methods only).
def scalar_fn(x, y):
    return ((x.tanh().sum() * y.exp()).sum() + (x * x).sum() * y.sum()).reshape(())


def vector_fn(x, y):
    return (x.exp() * y.sum(), x * y.tanh())


def single_fn(x):
    return (x * x).tanh().sum(0)


@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_vjp_and_jvp(data):
    x = data.draw(tst.float_arrays((3,), -1.5, 1.5))
    y = data.draw(tst.float_arrays((3,), -1.5, 1.5))
    vx, vy = (data.draw(tst.float_arrays((3,))) for _ in range(2))
    assert_same(AF.vjp(vector_fn, (ours(x), ours(y)), (ours(vx), ours(vy))),
                TF.vjp(vector_fn, (theirs(x), theirs(y)), (theirs(vx), theirs(vy))))
    assert_same(AF.jvp(vector_fn, (ours(x), ours(y)), (ours(vx), ours(vy))),
                TF.jvp(vector_fn, (theirs(x), theirs(y)), (theirs(vx), theirs(vy))))
    m = data.draw(tst.float_arrays((2, 3)))
    assert_same(AF.vjp(single_fn, ours(m), ours(vx)), TF.vjp(single_fn, theirs(m),
                                                             theirs(vx)))
    assert_same(AF.jvp(single_fn, ours(m), ours(m)), TF.jvp(single_fn, theirs(m), theirs(m)))
    assert_same(AF.vjp(scalar_fn, (ours(x), ours(y))), TF.vjp(scalar_fn, (theirs(x),
                                                                          theirs(y))))


@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_jacobian_and_hessian(data):
    x = data.draw(tst.float_arrays((3,), -1.5, 1.5))
    y = data.draw(tst.float_arrays((2,), -1.5, 1.5))
    m = data.draw(tst.float_arrays((2, 2)))
    assert_same(AF.jacobian(vector_fn, (ours(x), ours(x))),
                TF.jacobian(vector_fn, (theirs(x), theirs(x))))
    assert_same(AF.jacobian(single_fn, ours(m)), TF.jacobian(single_fn, theirs(m)))
    assert_same(AF.hessian(scalar_fn, (ours(x), ours(y))),
                TF.hessian(scalar_fn, (theirs(x), theirs(y))))
    assert_same(AF.hessian(lambda t: (t.exp() * t).sum(), ours(m)),
                TF.hessian(lambda t: (t.exp() * t).sum(), theirs(m)))


@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_hvp_and_vhp(data):
    x = data.draw(tst.float_arrays((3,), -1.5, 1.5))
    y = data.draw(tst.float_arrays((2,), -1.5, 1.5))
    vx, vy = data.draw(tst.float_arrays((3,))), data.draw(tst.float_arrays((2,)))
    for ours_fn, theirs_fn in ((AF.hvp, TF.hvp), (AF.vhp, TF.vhp)):
        assert_same(ours_fn(scalar_fn, (ours(x), ours(y)), (ours(vx), ours(vy))),
                    theirs_fn(scalar_fn, (theirs(x), theirs(y)), (theirs(vx), theirs(vy))))
        assert_same(ours_fn(lambda t: (t ** 3).sum(), ours(x), ours(vx)),
                    theirs_fn(lambda t: (t ** 3).sum(), theirs(x), theirs(vx)))


def test_create_graph_results_can_be_differentiated():
    x = Tensor(np.array([0.5, -1.0]), requires_grad=True)
    _, h = AF.hvp(lambda t: (t ** 4).sum(), x, Tensor(np.ones(2)), create_graph=True)
    assert h.requires_grad
    (g,) = tg.autograd.grad(h.sum(), x)  # d/dx of 12 x^2 = 24 x
    np.testing.assert_allclose(g.data, 24 * x.data)
    _, j = AF.vjp(lambda t: t.exp(), x, Tensor(np.ones(2)))
    assert not j.requires_grad


def test_strict_mode_and_independent_outputs():
    x = ours([1.0, 2.0])
    constant = lambda t: Tensor(np.ones(2))  # noqa: E731
    _, v = AF.vjp(lambda t, u: t * 2, (x, ours([3.0, 4.0])), ours([1.0, 1.0]))
    np.testing.assert_array_equal(v[1].data, [0, 0])  # zeros where independent
    with pytest.raises(RuntimeError, match="independent of input 1.*strict"):
        AF.vjp(lambda t, u: t * 2, (x, ours([3.0, 4.0])), ours([1.0, 1.0]), strict=True)
    np.testing.assert_array_equal(AF.jacobian(constant, x).data, np.zeros((2, 2)))
    with pytest.raises(RuntimeError, match="strict"):
        AF.jacobian(constant, x, strict=True)


def test_bad_arguments_say_what_is_wrong():
    x = ours([1.0, 2.0])
    with pytest.raises(RuntimeError, match="v can only be None.*single element"):
        AF.vjp(lambda t: t * 2, x)
    with pytest.raises(RuntimeError, match="must return a single-element Tensor"):
        AF.hessian(lambda t: t * 2, x)
    with pytest.raises(TypeError, match="inputs must be a Tensor or a tuple"):
        AF.jacobian(lambda t: t, [1.0, 2.0])
    with pytest.raises(RuntimeError, match="entry 0 of v has shape \\(3,\\)"):
        AF.jvp(lambda t: t * 2, x, ours([1.0, 2.0, 3.0]))
    AF.jacobian(lambda t: t * 2, x, vectorize=True)  # accepted, as PyTorch's option
