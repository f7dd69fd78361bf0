"""Higher-order gradients: autograd.grad and backward(create_graph=..., inputs=...) with
PyTorch's semantics, derivatives of any order, functions that cannot be differentiated
twice, and real uses (WGAN-GP, Hessian-vector products, a Newton step, MAML) compared
with PyTorch from the same numbers."""

import math

import numpy as np
import pytest
from hypothesis import given, settings

import tinygrad_fm as tg
from tinygrad_fm import Tensor, gradgradcheck
from tinygrad_fm.autograd import ArrayFunction, grad
from tinygrad_fm.nn import functional as F

import helpers as tst
from helpers import ArrayCube


def leaf(values, dtype=np.float64):
    return Tensor(np.array(values, dtype=dtype), requires_grad=True)


def torch_module():
    return pytest.importorskip("torch")


# --------------------------------------------------------------------------- grad()


def test_grad_returns_a_tuple_and_leaves_dot_grad_alone():
    x, y = leaf([1.0, 2.0]), leaf([3.0, -1.0])
    out = (x * x * y).sum()
    gx, gy = grad(out, [x, y])
    np.testing.assert_allclose(gx.data, 2 * x.data * y.data)
    np.testing.assert_allclose(gy.data, x.data ** 2)
    assert x.grad is None and y.grad is None
    assert not gx.requires_grad and gx.grad_fn is None
    (only,) = grad((x * 3).sum(), x)  # one input, not in a list: still a tuple
    np.testing.assert_array_equal(only.data, [3, 3])


def test_grad_of_several_outputs_with_grad_outputs_sums_the_products():
    x = leaf([1.0, 2.0, 3.0])
    a, b = x * x, x.exp()
    va, vb = np.array([1.0, 0.5, 2.0]), np.array([0.0, 1.0, -1.0])
    (g,) = grad([a, b], x, [va, Tensor(vb)])
    np.testing.assert_allclose(g.data, va * 2 * x.data + vb * np.exp(x.data))


def test_grad_with_respect_to_an_intermediate_tensor():
    x = leaf([0.5, -1.0])
    h = x * 3
    out = (h.tanh() * h).sum()
    (gh,) = grad(out, h)
    t = np.tanh(h.data)
    np.testing.assert_allclose(gh.data, (1 - t ** 2) * h.data + t)


def test_unused_inputs_are_an_error_unless_allowed():
    x, unused = leaf([1.0]), leaf([2.0])
    with pytest.raises(RuntimeError, match=r"input 1.*not have been used.*allow_unused=True"):
        grad((x * 2).sum(), [x, unused])
    gx, gu = grad((x * 2).sum(), [x, unused], allow_unused=True)
    assert gu is None and gx.data[0] == 2
    gx, gu = grad((x * 2).sum(), [x, unused], materialize_grads=True)
    np.testing.assert_array_equal(gu.data, [0.0])
    assert gu.dtype == unused.dtype


def test_grad_errors_name_what_is_wrong():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="only for scalar outputs.*shape \\(2,\\)"):
        grad(x * 2, x)
    with pytest.raises(RuntimeError, match="element 0 of the outputs does not require grad"):
        grad(Tensor([1.0]).sum(), x)
    with pytest.raises(RuntimeError, match="input 0 .*does not require grad"):
        grad((x * 2).sum(), Tensor([1.0]))
    with pytest.raises(RuntimeError, match="gradient has shape \\(3,\\) but output 0"):
        grad(x * 2, x, np.ones(3))


def test_retain_graph_defaults_to_create_graph():
    x = leaf([0.5, 1.5])
    y = (x.exp() * x).sum()
    grad(y, x)
    with pytest.raises(RuntimeError, match="second time"):
        grad(y, x)
    y = (x.exp() * x).sum()
    grad(y, x, create_graph=True)
    grad(y, x)  # the graph was kept


def test_grad_only_follows_paths_into_the_inputs():
    calls = []

    class Spy(ArrayFunction):
        @staticmethod
        def forward(ctx, x):
            return x * 1.0

        @staticmethod
        def backward(ctx, grad):
            calls.append(1)
            return grad

    w, x = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    out = (Spy.apply(w) * x).sum()
    (gx,) = grad(out, x)
    assert calls == []  # w's branch does not lead to x
    np.testing.assert_array_equal(gx.data, w.data)


# --------------------------------------------------------------------------- backward()


def test_backward_with_create_graph_gives_graph_connected_grads():
    x = leaf([0.3, -0.7])
    (x ** 3).sum().backward(create_graph=True)
    assert x.grad.requires_grad and x.grad.grad_fn is not None
    np.testing.assert_allclose(x.grad.data, 3 * x.data ** 2)
    first = x.grad
    x.grad = None
    first.sum().backward()
    np.testing.assert_allclose(x.grad.data, 6 * x.data)


def test_backward_with_create_graph_accumulates_into_existing_grads():
    x = leaf([1.0, 2.0])
    (x * x).sum().backward(create_graph=True)
    (x * x * x).sum().backward(create_graph=True)
    np.testing.assert_allclose(x.grad.data, 2 * x.data + 3 * x.data ** 2)
    (g,) = grad(x.grad.sum(), x)  # d/dx of (2x + 3x^2) = 2 + 6x
    np.testing.assert_allclose(g.data, 2 + 6 * x.data)


def test_backward_inputs_accumulates_only_into_those():
    x, y = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    h = x * y
    (h * h).sum().backward(inputs=[x])
    assert y.grad is None
    np.testing.assert_allclose(x.grad.data, 2 * h.data * y.data)
    h2 = x * y
    h2.sum().backward(inputs=h2)  # a non-leaf input gets .grad too
    np.testing.assert_array_equal(h2.grad.data, [1, 1])
    assert y.grad is None


def test_multiple_roots_through_autograd_backward():
    x = leaf([1.0, 2.0])
    tg.autograd.backward([(x * x).sum(), (x * 3).sum()])
    np.testing.assert_allclose(x.grad.data, 2 * x.data + 3)


@settings(max_examples=20, deadline=None)
@given(x=tst.float_arrays((3,), -1.5, 1.5))
def test_third_derivative_of_a_chain_matches_pytorch(x):
    torch = torch_module()

    def chain(module, t):
        return (module.tanh(t) * t.exp() + t ** 3 / 6).sum()

    ours = Tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    g1, = grad(chain(tg, ours), ours, create_graph=True)
    g2, = grad(g1.sum(), ours, create_graph=True)
    g3, = grad(g2.sum(), ours)
    t1, = torch.autograd.grad(chain(torch, theirs), theirs, create_graph=True)
    t2, = torch.autograd.grad(t1.sum(), theirs, create_graph=True)
    t3, = torch.autograd.grad(t2.sum(), theirs)
    for a, b in ((g1, t1), (g2, t2), (g3, t3)):
        np.testing.assert_allclose(a.data, b.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_fourth_derivative_of_a_polynomial():
    x = leaf([0.5, 2.0])
    y = (x ** 5).sum()
    for _ in range(4):
        (y,) = grad(y, x, create_graph=True)
        y = y.sum()
    np.testing.assert_allclose(y.data, np.sum(120 * x.data))


# --------------------------------------------------------------------------- not twice


def test_an_op_without_differentiable_backward_raises_only_when_differentiated_twice():
    x = leaf([1.0, 2.0])
    (g,) = grad(ArrayCube.apply(x).sum(), x, create_graph=True)
    np.testing.assert_allclose(g.data, 3 * x.data ** 2)  # first order still works
    with pytest.raises(RuntimeError, match="ArrayCube cannot be differentiated twice.*"
                                           "differentiable_backward"):
        grad(g.sum(), x)
    # and nothing is raised for a second derivative that does not go through it
    y = leaf([1.0, 2.0])
    out = ArrayCube.apply(x).sum() + (y ** 3).sum()
    gx, gy = grad(out, [x, y], create_graph=True)
    (h,) = grad(gy.sum(), y)
    np.testing.assert_allclose(h.data, 6 * y.data)


def test_gradgradcheck_names_the_op_without_differentiable_backward():
    with pytest.raises(RuntimeError, match="ArrayCube"):
        gradgradcheck(ArrayCube.apply, [leaf([1.0, 2.0])])


class WrongSecondDerivative(ArrayCube):
    """x^3 whose differentiable_backward is off (4x^2 instead of 3x^2)."""

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        return 4 * inputs[0] * inputs[0] * grad


def test_gradgradcheck_catches_a_wrong_differentiable_backward():
    x = [leaf([1.0, 2.0])]
    assert tg.gradcheck(WrongSecondDerivative.apply, x)  # the first order is right
    with pytest.raises(tg.GradcheckError):
        gradgradcheck(WrongSecondDerivative.apply, x)
    assert gradgradcheck(WrongSecondDerivative.apply, x, raise_exception=False) is False
    assert tg.autograd.gradgradcheck is gradgradcheck


# --------------------------------------------------------------------------- first order


def test_create_graph_false_runs_the_array_path_and_records_nothing():
    x = leaf([0.5, 1.0])
    y = (x.tanh() * x).sum()
    (g,) = grad(y, x)
    assert not g.requires_grad and isinstance(g.data, np.ndarray)
    y = (x.tanh() * x).sum()
    y.backward()
    assert not x.grad.requires_grad


def test_float32_stays_float32_through_double_backward():
    x = leaf([0.5, 1.0], np.float32)
    (g,) = grad((x.tanh() * x).sum(), x, create_graph=True)
    (h,) = grad(g.sum(), x)
    assert g.dtype == np.float32 and h.dtype == np.float32


# --------------------------------------------------------------------------- real uses


def _mlp(module, seed=0, sizes=(4, 8, 1)):
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal((o, i)) / np.sqrt(i), rng.standard_normal(o) * 0.1)
            for i, o in zip(sizes, sizes[1:])]


def _critic(F_, x, params, activation):
    for k, (w, b) in enumerate(params):
        x = F_.linear(x, w, b)
        if k < len(params) - 1:
            x = activation(x)
    return x


@pytest.mark.parametrize("activation", ["tanh", "leaky_relu", "gelu"])
def test_wgan_gp_gradient_penalty_matches_pytorch(activation):
    torch = torch_module()
    rng = np.random.default_rng(1)
    real, fake = rng.standard_normal((6, 4)), rng.standard_normal((6, 4))
    eps = rng.uniform(size=(6, 1))
    weights = _mlp(np, seed=2)

    def penalty(module, F_, tensor):
        params = [(tensor(w, requires_grad=True), tensor(b, requires_grad=True))
                  for w, b in weights]
        act = {"tanh": lambda t: t.tanh(), "leaky_relu": lambda t: F_.leaky_relu(t, 0.2),
               "gelu": lambda t: F_.gelu(t)}[activation]
        mixed = tensor(eps * real + (1 - eps) * fake, requires_grad=True)
        scores = _critic(F_, mixed, params, act)
        (g,) = module.autograd.grad(scores, mixed, grad_outputs=module.ones_like(scores),
                                    create_graph=True)
        gp = ((g.norm(2, dim=1) - 1) ** 2).mean()
        loss = _critic(F_, tensor(fake), params, act).mean() \
            - _critic(F_, tensor(real), params, act).mean() + 10 * gp
        loss.backward()
        return float(gp.item()), [p.grad for pair in params for p in pair]

    ours_gp, ours = penalty(tg, F, lambda a, requires_grad=False: Tensor(
        np.array(a, np.float64), requires_grad=requires_grad))
    theirs_gp, theirs = penalty(torch, torch.nn.functional, lambda a, requires_grad=False:
                                torch.tensor(np.array(a, np.float64),
                                             requires_grad=requires_grad))
    assert ours_gp == pytest.approx(theirs_gp, rel=1e-10)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.data, b.numpy(), rtol=1e-9, atol=1e-12)


def test_hessian_vector_product_of_cross_entropy_matches_pytorch():
    torch = torch_module()
    rng = np.random.default_rng(3)
    x = rng.standard_normal((5, 4))
    target = rng.integers(0, 3, 5)
    (w1, b1), (w2, b2) = _mlp(np, seed=4, sizes=(4, 6, 3))
    v = [rng.standard_normal(a.shape) for a in (w1, b1, w2, b2)]

    def hvp(module, F_, tensor, target_):
        params = [tensor(a, requires_grad=True) for a in (w1, b1, w2, b2)]
        logits = F_.linear(F_.linear(tensor(x), params[0], params[1]).tanh(), params[2],
                           params[3])
        loss = F_.cross_entropy(logits, target_, label_smoothing=0.1)
        grads = module.autograd.grad(loss, params, create_graph=True)
        dot = sum((g * tensor(vi)).sum() for g, vi in zip(grads, v))
        return module.autograd.grad(dot, params)

    ours = hvp(tg, F, lambda a, requires_grad=False: Tensor(np.array(a, np.float64),
                                                            requires_grad=requires_grad),
               target)
    theirs = hvp(torch, torch.nn.functional,
                 lambda a, requires_grad=False: torch.tensor(np.array(a, np.float64),
                                                             requires_grad=requires_grad),
                 torch.from_numpy(target))
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.data, b.numpy(), rtol=1e-9, atol=1e-12)


def test_newton_step_on_logistic_regression_matches_pytorch_and_numpy():
    torch = torch_module()
    rng = np.random.default_rng(5)
    X = rng.standard_normal((40, 3))
    y = (X @ np.array([1.5, -2.0, 0.5]) + 0.3 * rng.standard_normal(40) > 0).astype(float)
    w0 = np.zeros(3)

    def newton(module, F_, tensor):
        w = tensor(w0, requires_grad=True)
        for _ in range(3):
            loss = F_.binary_cross_entropy_with_logits(tensor(X) @ w, tensor(y)) \
                + 0.05 * (w * w).sum()
            (g,) = module.autograd.grad(loss, w, create_graph=True)
            rows = [module.autograd.grad(g[i], w, retain_graph=True)[0] for i in range(3)]
            hessian = np.stack([r.detach().numpy() for r in rows])
            step = np.linalg.solve(hessian, g.detach().numpy())
            w = tensor(w.detach().numpy() - step, requires_grad=True)
        return w.detach().numpy(), hessian

    ours_w, ours_h = newton(tg, F, lambda a, requires_grad=False: Tensor(
        np.array(a, np.float64), requires_grad=requires_grad))
    theirs_w, theirs_h = newton(torch, torch.nn.functional, lambda a, requires_grad=False:
                                torch.tensor(np.array(a, np.float64),
                                             requires_grad=requires_grad))
    np.testing.assert_allclose(ours_w, theirs_w, rtol=1e-9)
    np.testing.assert_allclose(ours_h, theirs_h, rtol=1e-9)
    # the closed form: H = X^T diag(p (1 - p)) X / n + 0.1 I at the last iterate's start
    assert np.all(np.linalg.eigvalsh(ours_h) > 0)


def test_two_maml_inner_steps_match_pytorch():
    torch = torch_module()
    rng = np.random.default_rng(6)
    support_x, support_y = rng.standard_normal((8, 2)), rng.standard_normal((8, 1))
    query_x, query_y = rng.standard_normal((8, 2)), rng.standard_normal((8, 1))
    weights = _mlp(np, seed=7, sizes=(2, 16, 1))
    inner_lr = 0.1

    def maml(module, F_, tensor):
        params = [tensor(a, requires_grad=True) for pair in weights for a in pair]
        fast = params
        for _ in range(2):
            pred = F_.linear(F_.linear(tensor(support_x), fast[0], fast[1]).relu(), fast[2],
                             fast[3])
            loss = F_.mse_loss(pred, tensor(support_y))
            grads = module.autograd.grad(loss, fast, create_graph=True)
            fast = [p - inner_lr * g for p, g in zip(fast, grads)]
        pred = F_.linear(F_.linear(tensor(query_x), fast[0], fast[1]).relu(), fast[2],
                         fast[3])
        meta_loss = F_.mse_loss(pred, tensor(query_y))
        meta_loss.backward()
        return float(meta_loss.item()), [p.grad for p in params]

    ours_loss, ours = maml(tg, F, lambda a, requires_grad=False: Tensor(
        np.array(a, np.float64), requires_grad=requires_grad))
    theirs_loss, theirs = maml(torch, torch.nn.functional, lambda a, requires_grad=False:
                               torch.tensor(np.array(a, np.float64),
                                            requires_grad=requires_grad))
    assert ours_loss == pytest.approx(theirs_loss, rel=1e-10)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.data, b.numpy(), rtol=1e-9, atol=1e-12)


def test_gradient_penalty_program_runs_under_import_tinygrad_fm_as_torch():
    """A PyTorch program, as written for PyTorch, with only the import changed."""
    import tinygrad_fm as torch
    import tinygrad_fm.optim  # noqa: F401  (torch.optim, until the namespace has it)

    torch.manual_seed(0)
    critic = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Tanh(),
                                 torch.nn.Linear(8, 1))
    opt = torch.optim.Adam(critic.parameters(), lr=1e-2)
    x = torch.randn(16, 3)
    for _ in range(3):
        x_in = x.clone().requires_grad_(True)
        out = critic(x_in)
        (g,) = torch.autograd.grad(out.sum(), x_in, create_graph=True)
        penalty = ((g.norm(2, dim=1) - 1) ** 2).mean()
        loss = out.mean() + penalty
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert math.isfinite(loss.item())
    assert all(p.grad is not None and not p.grad.requires_grad for p in critic.parameters())


def test_grad_through_live_ops_ignores_a_freed_branch():
    x, w = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    y = x.exp()
    y.sum().backward()  # frees Exp
    (gw,) = grad((y * w).sum(), w)  # w's gradient does not go through Exp
    np.testing.assert_allclose(gw.data, np.exp(x.data))
    with pytest.raises(RuntimeError, match="second time"):
        grad((y * w).sum(), x)
