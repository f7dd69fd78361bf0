"""PyTorch code that should port by changing imports: in-place updates, clone/t/dim and
friends, torch.from_numpy / torch.save / torch.exp(...)-style functions and var/std's
``unbiased``."""

import numpy as np
import pytest

import tinygrad_fm as tg
from tinygrad_fm import Tensor, nn, no_grad


def _rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


# --------------------------------------------------------------------------- in place


def test_manual_sgd_step_with_isub_updates_the_leaf_in_place():
    torch = pytest.importorskip("torch")
    w0 = _rand(3, 2)
    results = []
    for lib in (torch, tg):
        w = lib.tensor(w0, requires_grad=True)
        for _ in range(3):
            loss = (w * w).sum()
            loss.backward()
            with lib.no_grad():
                w -= 0.1 * w.grad
                w *= 0.5
                w += 0.01
                w /= 2.0
            w.grad.zero_()
        assert w.requires_grad and w.is_leaf
        results.append(w.detach().numpy())
    np.testing.assert_allclose(results[1], results[0], rtol=1e-6)


def test_in_place_keeps_the_object_and_its_dtype():
    x = Tensor(np.zeros(3, np.float32))
    same = x
    x += np.ones(3)  # float64 operand: the tensor stays float32, as in PyTorch
    assert x is same and x.dtype == np.float32
    np.testing.assert_array_equal(same.data, [1, 1, 1])
    with pytest.raises(ValueError, match="in place"):
        x += np.ones((2, 3))


def test_in_place_on_a_leaf_that_requires_grad_is_refused_outside_no_grad():
    w = Tensor(_rand(2), requires_grad=True)
    for update in (lambda: w.__isub__(1.0), lambda: w.add_(1.0), lambda: w.fill_(0.0)):
        with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
            update()


def test_augmented_assignment_inside_a_graph_rebinds_and_differentiates_like_torch():
    torch = pytest.importorskip("torch")
    x0 = _rand(4)
    grads = []
    for lib in (torch, tg):
        x = lib.tensor(x0, requires_grad=True)
        h = x * 2
        kept = h
        h += x * x  # torch: in place on a non-leaf; here: out of place, name rebound
        h *= 3
        h.sum().backward()
        grads.append(x.grad.numpy().copy())
        assert kept.shape == (4,)
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-6)
    h = Tensor(_rand(2), requires_grad=True) * 1
    with pytest.raises(RuntimeError, match="out of place"):
        h.add_(1.0)


def test_named_in_place_methods_match_torch():
    torch = pytest.importorskip("torch")
    a0, b0 = _rand(2, 3), _rand(3, seed=1)
    outs = []
    for lib in (torch, tg):
        a, b = lib.tensor(a0), lib.tensor(b0)
        a.add_(b, alpha=2).sub_(1.5).mul_(b).div_(4.0).sub_(b, alpha=0.5)
        c = lib.zeros(2, 3).fill_(7.0)
        d = lib.zeros(2, 3).copy_(b)
        outs.append([a.numpy().copy(), c.numpy().copy(), d.numpy().copy()])
    for ours, theirs in zip(outs[1], outs[0]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)


# --------------------------------------------------------------------------- methods


def test_clone_copies_and_passes_the_gradient():
    x = Tensor(_rand(3), requires_grad=True)
    y = x.clone()
    assert not np.shares_memory(x.data, y.data) and y.grad_fn is not None
    (y * y).sum().backward()
    np.testing.assert_allclose(x.grad.data, 2 * x.data)
    z = Tensor(_rand(2)).clone()
    assert not z.requires_grad


def test_t_dim_nelement_expand_as_view_as():
    torch = pytest.importorskip("torch")
    m0 = _rand(2, 3)
    for lib in (torch, tg):
        m = lib.tensor(m0)
        assert tuple(m.t().shape) == (3, 2) and m.dim() == 2 and m.nelement() == 6
        assert tuple(lib.tensor(_rand(3)).t().shape) == (3,)
        assert tuple(lib.tensor(_rand(1, 3)).expand_as(m).shape) == (2, 3)
        assert tuple(m.view_as(lib.zeros(3, 2)).shape) == (3, 2)
        assert tuple(m.reshape_as(lib.zeros(6)).shape) == (6,)
    np.testing.assert_array_equal(Tensor(m0).t().data, m0.T)
    with pytest.raises(ValueError, match="at most 2 dimensions"):
        Tensor(_rand(2, 2, 2)).t()


def test_var_and_std_take_torchs_unbiased():
    torch = pytest.importorskip("torch")
    z0 = _rand(3, 4, 5)
    t, z = torch.tensor(z0), Tensor(z0)
    for unbiased in (True, False):
        np.testing.assert_allclose(z.var(dim=1, unbiased=unbiased).data,
                                   t.var(dim=1, unbiased=unbiased).numpy(), rtol=1e-5)
        np.testing.assert_allclose(z.std(1, unbiased, True).data,
                                   t.std(1, unbiased, True).numpy(), rtol=1e-5)
    with pytest.raises(TypeError, match="not both"):
        z.var(correction=0, unbiased=True)


# --------------------------------------------------------------------------- functions


def test_from_numpy_shares_memory():
    array = np.arange(3.0)
    t = tg.from_numpy(array)
    assert t.dtype == np.float64 and np.shares_memory(t.data, array)
    with pytest.raises(TypeError, match="numpy.ndarray"):
        tg.from_numpy([1.0, 2.0])


def test_torch_style_functions_match_torch():
    torch = pytest.importorskip("torch")
    x0 = _rand(3, 4)
    t, x = torch.tensor(x0), Tensor(x0)
    cases = [
        ("exp", (), {}), ("log", (), {}), ("sqrt", (), {}), ("abs", (), {}),
        ("tanh", (), {}), ("sigmoid", (), {}), ("relu", (), {}), ("sum", (), {"dim": 1}),
        ("mean", (0,), {}), ("logsumexp", (), {"dim": 1}), ("softmax", (), {"dim": 0}),
        ("log_softmax", (), {"dim": 1}), ("clamp", (), {"min": -0.5, "max": 0.5}),
        ("var", (), {"dim": 1}), ("std", (), {}), ("flatten", (), {}),
        ("unsqueeze", (0,), {}), ("transpose", (0, 1), {}), ("t", (), {}),
        ("argmax", (), {"dim": 1}),
    ]
    for name, args, kwargs in cases:
        theirs = getattr(torch, name)(t.abs() if name in ("log", "sqrt") else t, *args, **kwargs)
        ours = getattr(tg, name)(x.abs() if name in ("log", "sqrt") else x, *args, **kwargs)
        np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-5, err_msg=name)
    np.testing.assert_allclose(tg.max(x, dim=1).values.data, torch.max(t, dim=1).values.numpy())
    np.testing.assert_allclose(tg.matmul(x, x.T).data, torch.matmul(t, t.T).numpy(), rtol=1e-5)
    assert tg.is_tensor(x) and not tg.is_tensor(x0) and tg.numel(x) == 12
    assert tg.full_like(x, 2.5).data.tolist() == [[2.5] * 4] * 3
    assert tg.randn_like(x).shape == tg.rand_like(x).shape == (3, 4)


def test_top_level_save_and_load_round_trip(tmp_path):
    model = nn.Linear(3, 2)
    tg.save({"model": model.state_dict(), "epoch": 4}, tmp_path / "ckpt.pt")
    loaded = tg.load(tmp_path / "ckpt.pt")
    assert loaded["epoch"] == 4
    np.testing.assert_array_equal(loaded["model"]["weight"], model.weight.data)


def test_floor_division_and_remainder_match_torch():
    torch = pytest.importorskip("torch")
    for values, divisor in (([3, 4, -5], 2), ([3, 4, -5], -3), ([3.5, -2.5, 7.0], 2.5),
                            ([3.5, -2.5, 7.0], -2)):
        t, x = torch.tensor(values), tg.tensor(values)
        np.testing.assert_allclose((x // divisor).data, (t // divisor).numpy())
        np.testing.assert_allclose((x % divisor).data, (t % divisor).numpy(), atol=1e-6)
        assert (x % divisor).dtype == np.dtype(str(t.dtype).replace("torch.", ""))
    x = tg.tensor([3.5, -2.5], requires_grad=True)
    (x % 2).sum().backward()  # slope 1, as in PyTorch
    np.testing.assert_array_equal(x.grad.data, [1.0, 1.0])
    assert (7 // tg.tensor([2, 3])).tolist() == [3, 2]


def test_linspace_matches_torch():
    torch = pytest.importorskip("torch")
    np.testing.assert_allclose(tg.linspace(-1, 2, 7).data, torch.linspace(-1, 2, 7).numpy())
    assert tg.linspace(0, 1, 3).dtype == np.float32


@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf")])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    torch = pytest.importorskip("torch")
    grads = [_rand(3, 4, seed=0), _rand(5, seed=1)]
    theirs = [torch.zeros(g.shape, requires_grad=True) for g in grads]
    ours = [Tensor(np.zeros(g.shape, np.float32), requires_grad=True) for g in grads]
    for t, o, g in zip(theirs, ours, grads):
        t.grad, o.grad = torch.tensor(g), Tensor(g.copy())
    total_t = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    total_o = nn.utils.clip_grad_norm_(ours, max_norm, norm_type)
    assert float(total_o) == pytest.approx(float(total_t), rel=1e-6)
    for t, o in zip(theirs, ours):
        np.testing.assert_allclose(o.grad.data, t.grad.numpy(), rtol=1e-6, atol=1e-7)
        assert o.grad.dtype == np.float32


def test_clip_grad_value_and_nonfinite_norm():
    p = Tensor(np.zeros(3, np.float32), requires_grad=True)
    p.grad = Tensor(np.float32([-2.0, 0.5, 3.0]))
    nn.utils.clip_grad_value_(p, 1.0)
    assert p.grad.data.tolist() == [-1.0, 0.5, 1.0]
    p.grad = Tensor(np.float32([np.inf, 1.0, 0.0]))
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    q = Tensor(np.zeros(2, np.float32), requires_grad=True)
    assert float(nn.utils.clip_grad_norm_([q], 1.0)) == 0.0  # no gradients yet


def test_in_place_on_a_read_only_array_says_so():
    from tinygrad_fm import Tensor

    view = Tensor(np.broadcast_to(np.ones(3, np.float32), (2, 3)))
    with pytest.raises(ValueError, match=r"\+=: this tensor's array is read-only"):
        view += 1
