"""Tests of tinygrad_fm.optim: SGD (momentum, Nesterov), RMSprop, Adam, AdamW, NAdam.

Gradients are mostly set by hand (``p.grad = Tensor(grad_fn(p.data))``) from NumPy
gradient functions, which tests the optimizers independently of the engine. Each
algorithm is checked against a plain float64 re-implementation of its documented steps,
against hand-computed first steps, against PyTorch when it is installed (float32 to
~1e-6, float64 to ~1e-12), and on convergence, weight decay, param groups, state dicts,
dtypes, validation and zero_grad.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_fm import nn, optim
from tinygrad_fm.tensor import Tensor

SHAPES = [(5, 4), (4,), (3, 2, 2)]


def make_params(seed=0, dtype=np.float32, shapes=SHAPES):
    rng = np.random.default_rng(seed)
    return [Tensor(rng.standard_normal(s).astype(dtype), requires_grad=True) for s in shapes]


def coefficients(seed=1, shapes=SHAPES):
    rng = np.random.default_rng(seed)
    return [rng.uniform(0.5, 2.0, s) for s in shapes]


def quartic_grad(x, a):
    """Gradient of sum(a * x^2 + sin(x)): nonlinear, so trajectories feed back."""
    return (2 * a * x + np.cos(x)).astype(x.dtype)


def set_grads(params, coefs):
    for p, a in zip(params, coefs):
        p.grad = Tensor(quartic_grad(p.data, a))


def run(opt_cls, kwargs, steps, dtype=np.float32, seed=0):
    params = make_params(seed, dtype)
    coefs = coefficients()
    opt = opt_cls(params, **kwargs)
    trajectory = []
    for _ in range(steps):
        set_grads(params, coefs)
        opt.step()
        trajectory.append([p.data.copy() for p in params])
    return params, opt, trajectory


# --------------------------------------------------------------------------- reference
# Plain float64 transcriptions of the numbered steps in each class docstring.


def ref_sgd(x, g, s, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False,
            maximize=False):
    g = -g if maximize else g
    if weight_decay:
        g = g + weight_decay * x
    if momentum:
        s["b"] = g.copy() if "b" not in s else momentum * s["b"] + (1 - dampening) * g
        g = g + momentum * s["b"] if nesterov else s["b"]
    return x - lr * g


def ref_rmsprop(x, g, s, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                centered=False, maximize=False):
    g = -g if maximize else g
    if weight_decay:
        g = g + weight_decay * x
    s["v"] = alpha * s.get("v", 0) + (1 - alpha) * g * g
    if centered:
        s["gbar"] = alpha * s.get("gbar", 0) + (1 - alpha) * g
        d = np.sqrt(s["v"] - s["gbar"] ** 2) + eps
    else:
        d = np.sqrt(s["v"]) + eps
    if momentum > 0:
        s["b"] = momentum * s.get("b", 0) + g / d
        return x - lr * s["b"]
    return x - lr * g / d


def ref_adam(x, g, s, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
             amsgrad=False, maximize=False, decoupled=False):
    b1, b2 = betas
    t = s["t"] = s.get("t", 0) + 1
    g = -g if maximize else g
    if decoupled:
        x = x * (1 - lr * weight_decay)
    elif weight_decay:
        g = g + weight_decay * x
    s["m"] = b1 * s.get("m", 0) + (1 - b1) * g
    s["v"] = b2 * s.get("v", 0) + (1 - b2) * g * g
    v = s["v"]
    if amsgrad:
        v = s["vmax"] = np.maximum(s.get("vmax", 0), s["v"])
    c1, c2 = 1 - b1 ** t, 1 - b2 ** t
    return x - lr / c1 * s["m"] / (np.sqrt(v) / math.sqrt(c2) + eps)


def ref_adamw(x, g, s, weight_decay=1e-2, **kw):
    return ref_adam(x, g, s, weight_decay=weight_decay, decoupled=True, **kw)


def ref_nadam(x, g, s, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
              momentum_decay=4e-3, decoupled_weight_decay=False, maximize=False):
    b1, b2 = betas
    t = s["t"] = s.get("t", 0) + 1
    g = -g if maximize else g
    if decoupled_weight_decay:
        x = x * (1 - lr * weight_decay)
    elif weight_decay:
        g = g + weight_decay * x
    mu = b1 * (1 - 0.5 * 0.96 ** (t * momentum_decay))
    mu_next = b1 * (1 - 0.5 * 0.96 ** ((t + 1) * momentum_decay))
    s["pi"] = s.get("pi", 1.0) * mu
    pi_next = s["pi"] * mu_next
    s["m"] = b1 * s.get("m", 0) + (1 - b1) * g
    s["v"] = b2 * s.get("v", 0) + (1 - b2) * g * g
    d = np.sqrt(s["v"] / (1 - b2 ** t)) + eps
    return x - lr * (1 - mu) / (1 - s["pi"]) * g / d - lr * mu_next / (1 - pi_next) * s["m"] / d


REFERENCES = {optim.SGD: ref_sgd, optim.RMSprop: ref_rmsprop, optim.Adam: ref_adam,
              optim.AdamW: ref_adamw, optim.NAdam: ref_nadam}

CONFIGS = [
    (optim.SGD, dict(lr=0.05)),
    (optim.SGD, dict(lr=0.05, momentum=0.9)),
    (optim.SGD, dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.1)),
    (optim.SGD, dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)),
    (optim.SGD, dict(lr=0.05, momentum=0.5, maximize=True)),
    (optim.RMSprop, dict(lr=0.01)),
    (optim.RMSprop, dict(lr=0.01, weight_decay=0.1)),
    (optim.RMSprop, dict(lr=0.01, centered=True)),
    (optim.RMSprop, dict(lr=0.01, centered=True, momentum=0.9, weight_decay=0.1)),
    (optim.RMSprop, dict(lr=0.01, alpha=0.9, momentum=0.5, maximize=True)),
    (optim.Adam, dict(lr=0.01)),
    (optim.Adam, dict(lr=0.01, weight_decay=0.1)),
    (optim.Adam, dict(lr=0.01, amsgrad=True, weight_decay=0.1)),
    (optim.Adam, dict(lr=0.01, betas=(0.3, 0.5), eps=1e-3, maximize=True)),
    (optim.AdamW, dict(lr=0.01)),
    (optim.AdamW, dict(lr=0.01, weight_decay=0.3, amsgrad=True)),
    (optim.NAdam, dict(lr=0.01)),
    (optim.NAdam, dict(lr=0.01, weight_decay=0.1)),
    (optim.NAdam, dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True,
                       momentum_decay=0.01)),
]


def config_id(config):
    cls, kw = config
    return cls.__name__ + "(" + ",".join(f"{k}={v}" for k, v in kw.items()) + ")"


def reference_trajectory(opt_cls, kwargs, steps, seed=0):
    xs = [p.data.astype(np.float64) for p in make_params(seed, np.float64)]
    coefs = coefficients()
    states = [{} for _ in xs]
    trajectory = []
    for _ in range(steps):
        xs = [REFERENCES[opt_cls](x, quartic_grad(x, a), s, **kwargs)
              for x, a, s in zip(xs, coefs, states)]
        trajectory.append(xs)
    return trajectory


def max_rel_diff(ours, reference):
    """max |ours - ref| over the parameter, relative to the parameter's largest entry."""
    return max(float(np.max(np.abs(a - b)) / np.max(np.abs(b))) for a, b in zip(ours, reference))


# --------------------------------------------------------------------------- algorithms


@pytest.mark.parametrize("config", CONFIGS, ids=config_id)
def test_matches_reference_float64(config):
    """float64 parameters follow the documented steps to rounding (1e-12)."""
    opt_cls, kwargs = config
    _, _, ours = run(opt_cls, kwargs, 10, dtype=np.float64)
    reference = reference_trajectory(opt_cls, kwargs, 10)
    for step, (a, b) in enumerate(zip(ours, reference)):
        assert max_rel_diff(a, b) < 1e-12, f"step {step + 1}"


@pytest.mark.parametrize("config", CONFIGS, ids=config_id)
def test_matches_reference_float32(config):
    opt_cls, kwargs = config
    params, opt, ours = run(opt_cls, kwargs, 10, dtype=np.float32)
    reference = reference_trajectory(opt_cls, kwargs, 10)
    for step, (a, b) in enumerate(zip(ours, reference)):
        assert max_rel_diff(a, b) < 1e-5, f"step {step + 1}"
    for p in params:
        assert p.data.dtype == np.float32
    for state in opt.state.values():
        for key, value in state.items():
            if isinstance(value, np.ndarray):
                assert value.dtype == np.float32, key
            else:
                assert type(value) in (int, float), key


_hyper = dict(
    lr=st.floats(1e-4, 0.5), weight_decay=st.sampled_from([0.0, 0.05]),
    maximize=st.booleans())


@given(data=st.data(), which=st.sampled_from(sorted(REFERENCES, key=lambda c: c.__name__)))
def test_random_hyper_parameters_match_reference(data, which):
    kwargs = {k: data.draw(s, label=k) for k, s in _hyper.items()}
    if which is optim.SGD:
        kwargs["momentum"] = data.draw(st.sampled_from([0.0, 0.5, 0.9]))
        if kwargs["momentum"] and data.draw(st.booleans()):
            kwargs["nesterov"] = True
        elif kwargs["momentum"]:
            kwargs["dampening"] = data.draw(st.floats(0, 0.9))
    elif which is optim.RMSprop:
        kwargs.update(alpha=data.draw(st.floats(0.5, 0.999)), centered=data.draw(st.booleans()),
                      momentum=data.draw(st.sampled_from([0.0, 0.7])),
                      eps=data.draw(st.sampled_from([1e-8, 1e-3])))
    else:
        kwargs["betas"] = (data.draw(st.floats(0.0, 0.99)), data.draw(st.floats(0.0, 0.999)))
        kwargs["eps"] = data.draw(st.sampled_from([1e-8, 1e-3]))
        if which is optim.NAdam:
            kwargs["momentum_decay"] = data.draw(st.floats(0.0, 0.05))
            kwargs["decoupled_weight_decay"] = data.draw(st.booleans())
        else:
            kwargs["amsgrad"] = data.draw(st.booleans())
    kwargs["lr"] = min(kwargs["lr"], 0.05) if which is optim.SGD else kwargs["lr"]
    _, _, ours = run(which, kwargs, 4, dtype=np.float64)
    reference = reference_trajectory(which, kwargs, 4)
    for a, b in zip(ours, reference):
        assert max_rel_diff(a, b) < 1e-10


def test_sgd_first_steps_by_hand():
    p = Tensor(np.array([1.0, -2.0], np.float32), requires_grad=True)
    opt = optim.SGD([p], lr=0.1, momentum=0.9, dampening=0.5)
    p.grad = Tensor(np.array([1.0, 1.0], np.float32))
    opt.step()  # b1 = g1 (no dampening at step 1): p = p - 0.1 * 1
    np.testing.assert_allclose(p.data, [0.9, -2.1], rtol=1e-6)
    p.grad = Tensor(np.array([2.0, -1.0], np.float32))
    opt.step()  # b2 = 0.9 * b1 + 0.5 * g2 = [1.9, 0.4]
    np.testing.assert_allclose(p.data, [0.9 - 0.19, -2.1 - 0.04], rtol=1e-6)
    np.testing.assert_allclose(opt.state[p]["momentum_buffer"], [1.9, 0.4], rtol=1e-6)


def test_nesterov_first_steps_by_hand():
    p = Tensor(np.array([0.0], np.float64), requires_grad=True)
    opt = optim.SGD([p], lr=0.1, momentum=0.5, nesterov=True)
    p.grad = Tensor(np.array([1.0]))
    opt.step()  # b = 1, step g + 0.5 b = 1.5
    assert p.data[0] == pytest.approx(-0.15)
    p.grad = Tensor(np.array([1.0]))
    opt.step()  # b = 0.5 + 1 = 1.5, step 1 + 0.75 = 1.75
    assert p.data[0] == pytest.approx(-0.15 - 0.175)


def test_adam_first_steps_by_hand():
    # At t = 1, m_hat = g and v_hat = g^2, so the step is lr * g / (|g| + eps).
    g = np.array([3.0, -0.5, 1e-3])
    p = Tensor(np.zeros(3), requires_grad=True)
    opt = optim.Adam([p], lr=0.1, eps=1e-8)
    p.grad = Tensor(g)
    opt.step()
    np.testing.assert_allclose(p.data, -0.1 * g / (np.abs(g) + 1e-8), rtol=1e-12)
    # t = 2 with the same gradient: still m_hat = g, v_hat = g^2.
    opt.step()
    np.testing.assert_allclose(p.data, -0.2 * g / (np.abs(g) + 1e-8), rtol=1e-12)
    # eps is added after the bias-corrected sqrt: sqrt(v_t) / sqrt(c2) + eps
    opt = optim.Adam([p], lr=1.0, eps=1.0)
    p.data[...] = 0
    p.grad = Tensor(np.array([2.0, 2.0, 2.0]))
    opt.step()
    np.testing.assert_allclose(p.data, -2.0 / (2.0 + 1.0), rtol=1e-12)


def test_rmsprop_first_step_by_hand():
    p = Tensor(np.zeros(2), requires_grad=True)
    opt = optim.RMSprop([p], lr=0.01, alpha=0.9, eps=0.1)
    p.grad = Tensor(np.array([2.0, -1.0]))
    opt.step()  # v = 0.1 g^2, step = lr * g / (sqrt(v) + eps)
    expected = -0.01 * np.array([2.0, -1.0]) / (np.sqrt(0.1 * np.array([4.0, 1.0])) + 0.1)
    np.testing.assert_allclose(p.data, expected, rtol=1e-12)
    opt = optim.RMSprop([p], lr=0.01, alpha=0.9, eps=0.0, centered=True)
    p.data[...] = 0
    opt.step()  # centered: v - gbar^2 = 0.1 g^2 - 0.01 g^2 = 0.09 g^2
    np.testing.assert_allclose(p.data, -0.01 / 0.3 * np.sign([2.0, -1.0]), rtol=1e-12)


def test_nadam_first_step_by_hand():
    b1, psi, lr = 0.9, 4e-3, 0.01
    mu1 = b1 * (1 - 0.5 * 0.96 ** psi)
    mu2 = b1 * (1 - 0.5 * 0.96 ** (2 * psi))
    g = np.array([0.5, -4.0])
    p = Tensor(np.zeros(2), requires_grad=True)
    opt = optim.NAdam([p], lr=lr, eps=0.0)
    p.grad = Tensor(g)
    opt.step()
    # m = 0.1 g, d = |g|
    expected = -lr * (1 - mu1) / (1 - mu1) * np.sign(g) - lr * mu2 / (1 - mu1 * mu2) * 0.1 * np.sign(g)
    np.testing.assert_allclose(p.data, expected, rtol=1e-12)
    assert opt.state[p]["mu_product"] == pytest.approx(mu1, rel=1e-15)


# --------------------------------------------------------------------------- convergence


def rosenbrock_grad(v):
    x, y = v
    return np.array([-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)], dtype=v.dtype)


@pytest.mark.parametrize("opt_cls, kwargs, steps, tol", [
    (optim.SGD, dict(lr=1e-3, momentum=0.9), 3000, 1e-3),
    (optim.SGD, dict(lr=1e-3, momentum=0.9, nesterov=True), 3000, 1e-3),
    (optim.RMSprop, dict(lr=1e-3, centered=True, momentum=0.5), 3000, 1e-3),
    (optim.Adam, dict(lr=0.02), 3000, 1e-3),
    (optim.Adam, dict(lr=0.02, amsgrad=True), 4000, 5e-3),
    (optim.AdamW, dict(lr=0.02, weight_decay=1e-5), 3000, 1e-2),
    (optim.NAdam, dict(lr=0.02), 4000, 2e-2),
], ids=lambda v: getattr(v, "__name__", None))
def test_converges_on_rosenbrock(opt_cls, kwargs, steps, tol):
    p = Tensor(np.array([-1.5, 2.0]), requires_grad=True)
    opt = opt_cls([p], **kwargs)
    for _ in range(steps):
        p.grad = Tensor(rosenbrock_grad(p.data))
        opt.step()
    np.testing.assert_allclose(p.data, [1.0, 1.0], atol=tol)


@pytest.mark.parametrize("opt_cls, kwargs", [
    (optim.SGD, dict(lr=0.1)),
    (optim.SGD, dict(lr=0.05, momentum=0.9)),
    (optim.SGD, dict(lr=0.05, momentum=0.9, nesterov=True)),
    (optim.RMSprop, dict(lr=0.003)),
    (optim.RMSprop, dict(lr=0.003, momentum=0.5, centered=True)),
    (optim.Adam, dict(lr=0.05)),
    (optim.AdamW, dict(lr=0.05, weight_decay=0.0)),
    (optim.NAdam, dict(lr=0.05)),
], ids=lambda v: getattr(v, "__name__", None))
def test_converges_on_quadratic(opt_cls, kwargs):
    # f(x) = 1/2 x^T diag(a) x - b^T x, minimum at b / a; float32 parameters.
    rng = np.random.default_rng(3)
    a = rng.uniform(1.0, 5.0, 10).astype(np.float32)
    b = rng.standard_normal(10).astype(np.float32)
    x = Tensor(np.zeros(10, np.float32), requires_grad=True)
    opt = opt_cls([x], **kwargs)
    for _ in range(600):
        x.grad = Tensor(a * x.data - b)
        opt.step()
    assert x.data.dtype == np.float32
    np.testing.assert_allclose(x.data, b / a, atol=2e-3)


def test_trains_through_the_engine():
    """Gradients from backward(): least squares with a real graph, then zero_grad."""
    rng = np.random.default_rng(0)
    X = Tensor(rng.standard_normal((64, 3)).astype(np.float32))
    w_true = np.array([[1.5], [-2.0], [0.5]], np.float32)
    y = Tensor(X.data @ w_true)
    w = Tensor(np.zeros((3, 1), np.float32), requires_grad=True)
    opt = optim.Adam([w], lr=0.05)
    for _ in range(400):
        opt.zero_grad()
        err = X @ w - y
        (err * err).mean().backward()
        opt.step()
    np.testing.assert_allclose(w.data, w_true, atol=1e-3)


def test_step_with_closure():
    x = Tensor(np.array([3.0], np.float32), requires_grad=True)
    opt = optim.SGD([x], lr=0.25)
    calls = []

    def closure():
        opt.zero_grad()
        loss = (x * x).sum()
        loss.backward()
        calls.append(float(loss.item()))
        return loss

    loss = opt.step(closure)
    assert calls == [9.0] and float(loss.item()) == 9.0
    assert x.data[0] == pytest.approx(3.0 - 0.25 * 6.0)
    assert opt.step() is None


# --------------------------------------------------------------------------- weight decay


def test_l2_weight_decay_is_added_to_the_gradient():
    """For SGD/RMSprop/Adam/NAdam, weight_decay=wd equals adding wd * param to the grad."""
    for opt_cls, kw in [(optim.SGD, dict(lr=0.1, momentum=0.9)), (optim.RMSprop, {}),
                        (optim.Adam, dict(amsgrad=True)), (optim.NAdam, {})]:
        decayed, plain = make_params(), make_params()
        coefs = coefficients()
        opt_a = opt_cls(decayed, weight_decay=0.3, **kw)
        opt_b = opt_cls(plain, weight_decay=0.0, **kw)
        for _ in range(5):
            set_grads(decayed, coefs)
            opt_a.step()
            for p, a in zip(plain, coefs):
                p.grad = Tensor(quartic_grad(p.data, a) + np.float32(0.3) * p.data)
            opt_b.step()
        for p, q in zip(decayed, plain):
            np.testing.assert_allclose(p.data, q.data, rtol=1e-6, atol=1e-7,
                                       err_msg=opt_cls.__name__)


def test_adamw_weight_decay_is_decoupled():
    # With a zero gradient AdamW only shrinks the weights: theta *= 1 - lr * wd, and the
    # moments stay zero. Adam's L2 decay instead moves each weight by about lr.
    x0 = np.array([2.0, -0.5, 1e-3])
    p = Tensor(x0.copy(), requires_grad=True)
    opt = optim.AdamW([p], lr=0.1, weight_decay=0.5)
    for step in range(1, 4):
        p.grad = Tensor(np.zeros(3))
        opt.step()
        np.testing.assert_allclose(p.data, x0 * (1 - 0.05) ** step, rtol=1e-14)
    assert not opt.state[p]["exp_avg_sum"].any() and not opt.state[p]["exp_avg_sq_sum"].any()

    q = Tensor(x0.copy(), requires_grad=True)
    opt = optim.Adam([q], lr=0.1, weight_decay=0.5)
    q.grad = Tensor(np.zeros(3))
    opt.step()
    g = 0.5 * x0
    np.testing.assert_allclose(q.data, x0 - 0.1 * g / (np.abs(g) + 1e-8), rtol=1e-12)
    assert np.all(np.abs(q.data - x0) > 0.0989)  # each weight moved by about lr


def test_adamw_equals_shrink_then_adam():
    a, b = make_params(), make_params()
    coefs = coefficients()
    opt_w = optim.AdamW(a, lr=0.01, weight_decay=0.2)
    opt_plain = optim.Adam(b, lr=0.01)
    for _ in range(5):
        set_grads(a, coefs)
        set_grads(b, coefs)  # the gradient at the un-shrunk weights, as AdamW sees it
        for p in b:
            p.data *= 1 - 0.01 * 0.2
        opt_w.step()
        opt_plain.step()
        for p, q in zip(a, b):
            np.testing.assert_array_equal(p.data, q.data)


def test_nadam_decoupled_weight_decay():
    x0 = np.array([2.0, -0.5])
    p = Tensor(x0.copy(), requires_grad=True)
    opt = optim.NAdam([p], lr=0.1, weight_decay=0.5, decoupled_weight_decay=True)
    p.grad = Tensor(np.zeros(2))
    opt.step()
    np.testing.assert_allclose(p.data, x0 * (1 - 0.05), rtol=1e-14)


# --------------------------------------------------------------------------- param groups


def test_param_groups_with_different_learning_rates():
    a = Tensor(np.ones(3, np.float32), requires_grad=True)
    b = Tensor(np.ones(2, np.float32), requires_grad=True)
    opt = optim.SGD([{"params": [a]}, {"params": b, "lr": 0.5, "momentum": 0.9}], lr=0.1)
    assert opt.param_groups[0]["lr"] == 0.1 and opt.param_groups[0]["momentum"] == 0
    assert opt.param_groups[1]["lr"] == 0.5 and opt.param_groups[1]["momentum"] == 0.9
    assert opt.param_groups[1]["params"] == [b]
    for step in range(2):
        a.grad = Tensor(np.ones(3, np.float32))
        b.grad = Tensor(np.ones(2, np.float32))
        opt.step()
    np.testing.assert_allclose(a.data, 1 - 0.1 - 0.1, rtol=1e-6)
    np.testing.assert_allclose(b.data, 1 - 0.5 - 0.5 * 1.9, rtol=1e-6)
    assert "momentum_buffer" not in opt.state[a]

    # Changing group["lr"] takes effect at the next step (schedulers rely on it).
    opt.param_groups[0]["lr"] = 1.0
    a.grad = Tensor(np.ones(3, np.float32))
    b.grad = None
    opt.step()
    np.testing.assert_allclose(a.data, 1 - 0.2 - 1.0, rtol=1e-6)


def test_param_groups_match_reference_each_with_own_hyper_parameters():
    params = make_params(dtype=np.float64)
    coefs = coefficients()
    groups = [dict(lr=0.01, betas=(0.8, 0.99)), dict(lr=0.05, amsgrad=True),
              dict(weight_decay=0.1)]
    opt = optim.Adam([dict(params=[p], **g) for p, g in zip(params, groups)], lr=0.02)
    xs = [p.data.copy() for p in params]
    states = [{} for _ in params]
    for _ in range(5):
        set_grads(params, coefs)
        opt.step()
        xs = [ref_adam(x, quartic_grad(x, a), s, **{"lr": 0.02, **g})
              for x, a, s, g in zip(xs, coefs, states, groups)]
    for p, x in zip(params, xs):
        np.testing.assert_allclose(p.data, x, rtol=1e-12)


def test_add_param_group():
    a, b = make_params()[:2]
    opt = optim.Adam([a], lr=0.01, betas=(0.5, 0.9))
    opt.add_param_group({"params": [b], "lr": 0.1})
    assert len(opt.param_groups) == 2
    group = opt.param_groups[1]
    assert group["lr"] == 0.1 and group["betas"] == (0.5, 0.9) and group["params"] == [b]
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})
    with pytest.raises(ValueError, match="lr"):
        opt.add_param_group({"params": [Tensor(np.ones(1), requires_grad=True)], "lr": -1})
    with pytest.raises(ValueError, match="duplicate"):
        c = Tensor(np.ones(1), requires_grad=True)
        opt.add_param_group({"params": [c, c]})
    assert len(opt.param_groups) == 2


def test_params_argument_forms():
    a, b = make_params()[:2]
    opt = optim.SGD(iter([a, b]), lr=0.1)  # any iterable, e.g. a generator
    assert opt.param_groups[0]["params"] == [a, b]
    opt = optim.SGD([("w", a), ("b", b)], lr=0.1)  # named parameters
    assert opt.param_groups[0]["params"] == [a, b]
    assert opt.param_groups[0]["param_names"] == ["w", "b"]
    with pytest.raises(TypeError, match="single Tensor"):
        optim.SGD(a, lr=0.1)
    with pytest.raises(TypeError, match="ordered"):
        optim.SGD({a, b}, lr=0.1)
    with pytest.raises(ValueError, match="empty"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="Tensors"):
        optim.SGD([a.data], lr=0.1)
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([a * 2], lr=0.1)


# --------------------------------------------------------------------------- state dicts


@pytest.mark.parametrize("config", CONFIGS, ids=config_id)
def test_state_dict_resume_is_bit_for_bit(config):
    opt_cls, kwargs = config
    coefs = coefficients()
    params = make_params()
    opt = opt_cls([{"params": params[:1]}, {"params": params[1:], "lr": 0.003}], **kwargs)
    for _ in range(4):
        set_grads(params, coefs)
        opt.step()
    saved = opt.state_dict()
    saved_values = [p.data.copy() for p in params]

    # The state dict is a snapshot: stepping on does not change it.
    snapshot = copy.deepcopy(saved)
    set_grads(params, coefs)
    opt.step()
    _assert_state_dicts_equal(saved, snapshot)
    for _ in range(5):
        set_grads(params, coefs)
        opt.step()

    resumed = [Tensor(v.copy(), requires_grad=True) for v in saved_values]
    opt2 = opt_cls([{"params": resumed[:1]}, {"params": resumed[1:]}], **kwargs)
    opt2.load_state_dict(saved)
    assert opt2.param_groups[1]["lr"] == 0.003
    for _ in range(6):
        set_grads(resumed, coefs)
        opt2.step()
    for p, q in zip(params, resumed):
        np.testing.assert_array_equal(p.data, q.data)
        assert q.data.dtype == np.float32
    _assert_state_dicts_equal(opt.state_dict(), opt2.state_dict())


def _assert_state_dicts_equal(a, b):
    assert a["param_groups"] == b["param_groups"]
    assert a["state"].keys() == b["state"].keys()
    for index, state in a["state"].items():
        assert state.keys() == b["state"][index].keys()
        for key, value in state.items():
            if isinstance(value, np.ndarray):
                np.testing.assert_array_equal(value, b["state"][index][key])
            else:
                assert value == b["state"][index][key]


def test_state_dict_format():
    params = make_params()
    opt = optim.Adam([{"params": params[:2]}, {"params": params[2:], "lr": 0.1}],
                     amsgrad=True)
    params[1].grad = Tensor(np.ones(params[1].shape, np.float32))
    params[2].grad = Tensor(np.ones(params[2].shape, np.float32))
    opt.step()
    sd = opt.state_dict()
    assert set(sd) == {"state", "param_groups"}
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1], [2]]
    assert sd["param_groups"][1]["lr"] == 0.1
    assert sd["param_groups"][0]["betas"] == (0.9, 0.999)
    assert set(sd["state"]) == {1, 2}  # parameter 0 had no gradient: no state
    state = sd["state"][1]
    assert set(state) == {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq", "exp_avg_sum",
                          "exp_avg_sq_sum", "max_exp_avg_sq_sum", "sum_beta1", "sum_beta2"}
    assert state["step"] == 1 and type(state["step"]) is int
    assert state["exp_avg"].dtype == np.float32
    assert state["exp_avg_sum"] is not opt.state[params[1]]["exp_avg_sum"]  # a copy
    # np.savez-friendly: plain arrays and numbers only.
    for index, s in sd["state"].items():
        for value in s.values():
            assert isinstance(value, (np.ndarray, int, float))


def test_load_state_dict_checks_shape_of_groups():
    params = make_params()
    opt = optim.SGD(params, lr=0.1, momentum=0.9)
    sd = opt.state_dict()
    with pytest.raises(ValueError, match="parameter groups"):
        optim.SGD([{"params": params[:1]}, {"params": params[1:]}], lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match="parameters"):
        optim.SGD(params[:2], lr=0.1).load_state_dict(sd)


def test_load_state_dict_of_the_wrong_kind_says_what_it_needs():
    model = nn.Linear(3, 2)
    opt = optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match=r"'state' and 'param_groups'.*\['bias', 'weight'\]"
                                         r".*model's state dict"):
        opt.load_state_dict(model.state_dict())
    with pytest.raises(ValueError, match="got a list"):
        opt.load_state_dict([])


def test_load_state_dict_casts_to_parameter_dtype():
    params = make_params()
    opt = optim.Adam(params)
    set_grads(params, coefficients())
    opt.step()
    sd = opt.state_dict()
    for state in sd["state"].values():
        state["exp_avg_sum"] = state["exp_avg_sum"].astype(np.float64)
    opt2 = optim.Adam(make_params())
    opt2.load_state_dict(sd)
    for state in opt2.state.values():
        assert state["exp_avg_sum"].dtype == np.float32


@pytest.mark.parametrize("kwargs", [dict(lr=0.01), dict(lr=0.01, amsgrad=True),
                                    dict(lr=0.01, betas=(0.5, 0.9))])
def test_adam_loads_pytorch_state_entries(kwargs):
    # A state dict with only PyTorch's entries (exp_avg, exp_avg_sq, max_exp_avg_sq), as
    # torch.optim.Adam writes it, continues the same trajectory.
    params, opt, _ = run(optim.Adam, kwargs, 3, dtype=np.float64)
    torch_style = opt.state_dict()
    for state in torch_style["state"].values():
        for key in [k for k in state if k.endswith("_sum") or k.startswith("sum_")]:
            del state[key]
        assert set(state) <= {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"}
    resumed = [Tensor(p.data.copy(), requires_grad=True) for p in params]
    opt2 = optim.Adam(resumed, **kwargs)
    opt2.load_state_dict(torch_style)
    coefs = coefficients()
    for _ in range(3):
        set_grads(params, coefs)
        set_grads(resumed, coefs)
        opt.step()
        opt2.step()
    for p, q in zip(params, resumed):
        np.testing.assert_allclose(q.data, p.data, rtol=1e-13)


def test_adam_betas_changed_between_steps_follow_the_reference():
    # The running sums are scaled by (1 - beta); a new beta re-scales them, so the
    # averages go on exactly as in the textbook algorithm with the new betas.
    params = make_params(dtype=np.float64)
    coefs = coefficients()
    opt = optim.Adam(params, lr=0.01, amsgrad=True)
    xs = [p.data.copy() for p in params]
    states = [{} for _ in xs]
    for betas in [(0.9, 0.999)] * 2 + [(0.5, 0.9)] * 2 + [(0.0, 0.0)]:
        opt.param_groups[0]["betas"] = betas
        set_grads(params, coefs)
        opt.step()
        xs = [ref_adam(x, quartic_grad(x, a), s, lr=0.01, betas=betas, amsgrad=True)
              for x, a, s in zip(xs, coefs, states)]
        for p, x in zip(params, xs):
            np.testing.assert_allclose(p.data, x, rtol=1e-12)
    exported = opt.state_dict()["state"][0]
    np.testing.assert_allclose(exported["exp_avg"], states[0]["m"], rtol=1e-12)
    np.testing.assert_allclose(exported["exp_avg_sq"], states[0]["v"], rtol=1e-12)


# --------------------------------------------------------------------------- in place, dtypes


@pytest.mark.parametrize("config", CONFIGS, ids=config_id)
def test_updates_in_place_and_leaves_grad_alone(config):
    opt_cls, kwargs = config
    params = make_params()
    arrays = [p.data for p in params]
    views = [p.data.reshape(-1) for p in params]
    opt = opt_cls(params, **kwargs)
    coefs = coefficients()
    for _ in range(3):
        set_grads(params, coefs)
        grads = [p.grad.data.copy() for p in params]
        before = [v.copy() for v in views]
        opt.step()
        for p, array, view, g, b in zip(params, arrays, views, grads, before):
            assert p.data is array
            assert not np.array_equal(view, b)  # the view sees the update
            np.testing.assert_array_equal(p.grad.data, g)


@pytest.mark.parametrize("opt_cls", [optim.SGD, optim.RMSprop, optim.Adam, optim.AdamW,
                                     optim.NAdam])
def test_float64_hyper_parameters_keep_float32(opt_cls):
    kwargs = dict(lr=np.float64(0.01), weight_decay=np.float64(0.1))
    if opt_cls is optim.SGD:
        kwargs["momentum"] = np.float64(0.9)
    elif opt_cls is optim.RMSprop:
        kwargs.update(alpha=np.float64(0.9), eps=np.float64(1e-8))
    else:
        kwargs["betas"] = (np.float64(0.9), np.float64(0.99))
    params = make_params()
    opt = opt_cls(params, **kwargs)
    set_grads(params, coefficients())
    opt.step()
    opt.step()
    for p in params:
        assert p.data.dtype == np.float32
        for value in opt.state[p].values():
            if isinstance(value, np.ndarray):
                assert value.dtype == np.float32
            else:
                assert type(value) in (int, float)


def test_float64_parameters_stay_float64():
    params = make_params(dtype=np.float64)
    opt = optim.Adam(params, amsgrad=True)
    set_grads(params, coefficients())
    opt.step()
    for p in params:
        assert p.data.dtype == np.float64
        assert all(v.dtype == np.float64 for v in opt.state[p].values()
                   if isinstance(v, np.ndarray))


# --------------------------------------------------------------------------- grads


@pytest.mark.parametrize("opt_cls", [optim.SGD, optim.RMSprop, optim.Adam, optim.AdamW,
                                     optim.NAdam])
def test_parameters_without_grad_are_skipped(opt_cls):
    a, b = make_params()[:2]
    before = b.data.copy()
    opt = opt_cls([a, b], lr=0.1, weight_decay=0.1)
    a.grad = Tensor(np.ones(a.shape, np.float32))
    opt.step()
    np.testing.assert_array_equal(b.data, before)
    assert b not in opt.state
    if opt_cls is not optim.SGD:  # plain SGD keeps no state
        assert a in opt.state


def test_zero_grad():
    a, b = make_params()[:2]
    opt = optim.SGD([a, b], lr=0.1)
    a.grad = Tensor(np.ones(a.shape, np.float32))
    grad_array = a.grad.data
    opt.zero_grad(set_to_none=False)
    assert a.grad.data is grad_array and not grad_array.any()  # zeroed in place
    assert b.grad is None  # stays None
    opt.zero_grad()
    assert a.grad is None and b.grad is None
    # a zero gradient step changes nothing (no weight decay)
    a.grad = Tensor(np.zeros(a.shape, np.float32))
    before = a.data.copy()
    opt.step()
    np.testing.assert_array_equal(a.data, before)


def test_gradient_shape_mismatch_is_an_error():
    a = make_params()[0]
    opt = optim.Adam([a])
    a.grad = Tensor(np.ones(3, np.float32))
    with pytest.raises(RuntimeError, match="shape"):
        opt.step()


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize("opt_cls, kwargs, name", [
    (optim.SGD, dict(lr=-0.1), "lr"),
    (optim.SGD, dict(lr=float("nan")), "lr"),
    (optim.SGD, dict(momentum=-0.5), "momentum"),
    (optim.SGD, dict(weight_decay=-1e-4), "weight_decay"),
    (optim.SGD, dict(dampening=-0.1, momentum=0.9), "dampening"),
    (optim.SGD, dict(nesterov=True), "Nesterov"),
    (optim.SGD, dict(nesterov=True, momentum=0.9, dampening=0.1), "Nesterov"),
    (optim.RMSprop, dict(lr=-1.0), "lr"),
    (optim.RMSprop, dict(alpha=-0.1), "alpha"),
    (optim.RMSprop, dict(alpha=1.5), "alpha"),
    (optim.RMSprop, dict(eps=-1e-8), "eps"),
    (optim.RMSprop, dict(weight_decay=-1.0), "weight_decay"),
    (optim.RMSprop, dict(momentum=-0.9), "momentum"),
    (optim.Adam, dict(lr=-1e-3), "lr"),
    (optim.Adam, dict(betas=(1.0, 0.999)), "beta1"),
    (optim.Adam, dict(betas=(-0.1, 0.999)), "beta1"),
    (optim.Adam, dict(betas=(0.9, 1.0)), "beta2"),
    (optim.Adam, dict(betas=(0.9,)), "betas"),
    (optim.Adam, dict(eps=-1.0), "eps"),
    (optim.Adam, dict(weight_decay=-0.1), "weight_decay"),
    (optim.AdamW, dict(weight_decay=-0.01), "weight_decay"),
    (optim.AdamW, dict(betas=(0.9, 1.5)), "beta2"),
    (optim.NAdam, dict(lr=-2e-3), "lr"),
    (optim.NAdam, dict(betas=(0.9, -0.5)), "beta2"),
    (optim.NAdam, dict(momentum_decay=-4e-3), "momentum_decay"),
    (optim.NAdam, dict(weight_decay=-1.0), "weight_decay"),
    (optim.NAdam, dict(eps=-1.0), "eps"),
])
def test_invalid_hyper_parameters(opt_cls, kwargs, name):
    params = make_params()[:1]
    with pytest.raises(ValueError, match=name) as info:
        opt_cls(params, **kwargs)
    value = list(kwargs.values())[0]
    if name not in ("Nesterov", "betas") and not isinstance(value, tuple):
        assert repr(value) in str(info.value)


def test_invalid_hyper_parameter_in_a_group():
    params = make_params()
    with pytest.raises(ValueError, match="momentum"):
        optim.SGD([{"params": params[:1]}, {"params": params[1:], "momentum": -1}], lr=0.1)


def test_defaults_match_pytorch():
    p = make_params()[:1]
    assert optim.SGD(p).defaults == dict(lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                                         nesterov=False, maximize=False, fused=None)
    assert optim.RMSprop(p).defaults == dict(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0,
                                             momentum=0, centered=False, maximize=False,
                                             fused=None)
    assert optim.Adam(p).defaults == dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
                                          weight_decay=0, amsgrad=False, maximize=False,
                                          fused=None)
    assert optim.AdamW(p).defaults["weight_decay"] == 1e-2
    assert optim.NAdam(p).defaults == dict(lr=2e-3, betas=(0.9, 0.999), eps=1e-8,
                                           weight_decay=0, momentum_decay=4e-3,
                                           decoupled_weight_decay=False, maximize=False,
                                           fused=None)
    assert "Parameter Group 0" in repr(optim.Adam(p))


# --------------------------------------------------------------------------- vs PyTorch


def _torch_trajectory(torch, opt_cls, kwargs, steps, dtype):
    tdtype = {np.float32: torch.float32, np.float64: torch.float64}[dtype]
    params = [torch.tensor(p.data, dtype=tdtype, requires_grad=True)
              for p in make_params(0, dtype)]
    coefs = coefficients()
    opt = getattr(torch.optim, opt_cls.__name__)(params, **kwargs)
    trajectory = []
    for _ in range(steps):
        for p, a in zip(params, coefs):
            p.grad = torch.from_numpy(quartic_grad(p.detach().numpy().copy(), a))
        opt.step()
        trajectory.append([p.detach().numpy().copy() for p in params])
    return trajectory


@pytest.mark.parametrize("config", CONFIGS, ids=config_id)
def test_matches_pytorch(config):
    torch = pytest.importorskip("torch")
    opt_cls, kwargs = config
    # float32, the training dtype: equal up to float32 rounding (torch fuses a*b+c).
    _, _, ours = run(opt_cls, kwargs, 20, dtype=np.float32)
    theirs = _torch_trajectory(torch, opt_cls, kwargs, 20, np.float32)
    for step, (a, b) in enumerate(zip(ours, theirs)):
        assert max_rel_diff(a, b) < 2e-6, f"step {step + 1}"
    # float64 separates algorithm from rounding: equal to 1e-12. NAdam's mu_product is a
    # torch scalar tensor of the default dtype, so make that float64 too.
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        theirs = _torch_trajectory(torch, opt_cls, kwargs, 20, np.float64)
    finally:
        torch.set_default_dtype(previous)
    _, _, ours = run(opt_cls, kwargs, 20, dtype=np.float64)
    for step, (a, b) in enumerate(zip(ours, theirs)):
        assert max_rel_diff(a, b) < 1e-12, f"step {step + 1}"
