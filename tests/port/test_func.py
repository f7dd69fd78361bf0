"""torch.func: grad, grad_and_value, vjp, jacrev, hessian, vmap and functional_call
against PyTorch's from the same inputs, composed as the usual recipes compose them
(per-sample gradients, second derivatives)."""

import numpy as np
import pytest
from hypothesis import given

import helpers as tst
import tinygrad_fm as tg
from tinygrad_fm import func as tg_func

torch = pytest.importorskip("torch")

# torch.func's own first use scripts helpers with the deprecated torch.jit.script.
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated")


def _f(framework):
    def f(x, y):
        return ((x * y).sin() * x).sum() + (x ** 2).sum() * y.sum()

    return f


def _np(value):
    if isinstance(value, tuple):
        return tuple(_np(v) for v in value)
    return value.detach().numpy() if hasattr(value, "detach") else value.data


def _pair(seed=0, shape=(3,)):
    rng = np.random.default_rng(seed)
    return rng.normal(size=shape), rng.normal(size=shape)


@pytest.mark.parametrize("argnums", [0, 1, (0, 1)])
def test_grad_and_grad_and_value_match_torch(argnums):
    x, y = _pair()
    results = []
    for framework, transforms in ((tg, tg_func), (torch, torch.func)):
        args = (framework.tensor(x), framework.tensor(y))
        g = transforms.grad(_f(framework), argnums=argnums)(*args)
        g2, value = transforms.grad_and_value(_f(framework), argnums=argnums)(*args)
        results.append((_np(g), _np(g2), _np(value)))
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float),
                                   rtol=1e-12)


def test_grad_with_aux_and_second_derivatives_match_torch():
    x, y = _pair(1)
    results = []
    for framework, transforms in ((tg, tg_func), (torch, torch.func)):
        def with_aux(a, b):
            value = _f(framework)(a, b)
            return value, value * 2

        args = (framework.tensor(x), framework.tensor(y))
        gradient, aux = transforms.grad(with_aux, has_aux=True)(*args)
        second = transforms.grad(lambda a, b: transforms.grad(_f(framework))(a, b).sum())(*args)
        hess = transforms.hessian(_f(framework))(*args)
        jac = transforms.jacrev(lambda a, b: (a * b).sin() * a.sum(), argnums=1)(*args)
        results.append([_np(gradient), _np(aux), _np(second), _np(hess), _np(jac)])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-11, atol=1e-12)


def test_vjp_matches_torch():
    x, y = _pair(2)
    results = []
    for framework, transforms in ((tg, tg_func), (torch, torch.func)):
        out, vjp_fn = transforms.vjp(lambda a, b: ((a * b).exp(), a - b), framework.tensor(x),
                                     framework.tensor(y))
        cotangents = (framework.tensor(np.ones(3)), framework.tensor(np.arange(3.0)))
        results.append([_np(o) for o in out] + [_np(g) for g in vjp_fn(cotangents)])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_vmap_maps_over_axes_and_composes():
    rng = np.random.default_rng(3)
    batch, other = rng.normal(size=(4, 3)), rng.normal(size=(3, 5))
    results = []
    for framework, transforms in ((tg, tg_func), (torch, torch.func)):
        a, b = framework.tensor(batch), framework.tensor(other)
        row_product = transforms.vmap(lambda r, m: r @ m, in_dims=(0, None))(a, b)
        columns = transforms.vmap(lambda c: (c.sum(), c * 2), in_dims=1, out_dims=(0, 1))(b)
        nested = transforms.vmap(transforms.vmap(lambda u, v: u * v, in_dims=(0, None)),
                                 in_dims=(0, None))(a.reshape(2, 2, 3), b[:, 0])
        jacobians = transforms.vmap(transforms.jacrev(lambda r: (r * r).sum() * r))(a)
        results.append([_np(row_product), _np(columns[0]), _np(columns[1]), _np(nested),
                        _np(jacobians)])
    for ours, theirs in zip(*results):
        assert ours.shape == theirs.shape
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_per_sample_gradients_recipe_matches_torch():
    """PyTorch's per-sample-gradients tutorial: functional_call + grad + vmap."""
    rng = np.random.default_rng(4)
    x = rng.normal(size=(6, 4)).astype(np.float32)
    y = rng.integers(0, 3, 6)
    results = []
    reference = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.Tanh(),
                                    torch.nn.Linear(5, 3))
    for framework, transforms in ((torch, torch.func), (tg, tg_func)):
        model = framework.nn.Sequential(framework.nn.Linear(4, 5), framework.nn.Tanh(),
                                        framework.nn.Linear(5, 3))
        if framework is tg:
            model.load_state_dict({k: v.detach().numpy() for k, v in
                                   reference.state_dict().items()})
        else:
            model = reference
        params = {k: v.detach() for k, v in model.named_parameters()}

        def loss(p, sample, target):
            logits = transforms.functional_call(model, p, (sample.unsqueeze(0),))
            return framework.nn.functional.cross_entropy(logits, target.unsqueeze(0))

        per_sample = transforms.vmap(transforms.grad(loss), in_dims=(None, 0, 0))(
            params, framework.tensor(x), framework.tensor(y))
        results.append({k: _np(v) for k, v in per_sample.items()}
                       if isinstance(per_sample, dict) else per_sample)
        assert all(p.grad is None for p in model.parameters())  # the model is untouched
    theirs, ours = results
    for name in theirs:
        np.testing.assert_allclose(ours[name], theirs[name], rtol=1e-5, atol=1e-6)


@given(x=tst.float_arrays((3,)))
def test_grad_gradcheck(x):
    assert tg.gradcheck(lambda t: tg_func.grad(lambda u: (u.sin() * u).sum())(t),
                        [tg.tensor(x, requires_grad=True)])


def test_vmap_randomness_and_errors():
    tg.manual_seed(0)
    with pytest.raises(RuntimeError, match="randomness='error'"):
        tg_func.vmap(lambda r: r + tg.randn(3))(tg.ones(2, 3))
    same = tg_func.vmap(lambda r: r + tg.randn(3), randomness="same")(tg.zeros(2, 3))
    np.testing.assert_array_equal(same.data[0], same.data[1])
    different = tg_func.vmap(lambda r: r + tg.randn(3), randomness="different")(tg.zeros(2, 3))
    assert not np.array_equal(different.data[0], different.data[1])
    with pytest.raises(ValueError, match="different sizes"):
        tg_func.vmap(lambda a, b: a + b)(tg.ones(2, 3), tg.ones(4, 3))
    with pytest.raises(RuntimeError, match="scalar Tensor"):
        tg_func.grad(lambda u: u * 2)(tg.ones(3))
    with pytest.raises(AttributeError, match="no parameter or buffer named 'bias2'"):
        tg_func.functional_call(tg.nn.Linear(2, 2), {"bias2": tg.ones(2)}, (tg.ones(2),))
