"""The fused (numba) optimizer updates: bit-identical to the NumPy updates, close to
PyTorch, and optional (everything works without numba; fused=True then says how to get
it)."""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_fm import nn, optim
from tinygrad_fm.optim import fused as fused_updates
from tinygrad_fm.tensor import Tensor

SHAPES = [(5, 4), (4,), (3, 2, 2), (37,)]

CONFIGS = [
    (optim.SGD, dict(lr=0.05)),
    (optim.SGD, dict(lr=0.05, momentum=0.9)),
    (optim.SGD, dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.1)),
    (optim.SGD, dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)),
    (optim.SGD, dict(lr=0.05, momentum=0.5, maximize=True, weight_decay=0.1)),
    (optim.RMSprop, dict(lr=0.01)),
    (optim.RMSprop, dict(lr=0.01, weight_decay=0.1, maximize=True)),
    (optim.RMSprop, dict(lr=0.01, centered=True)),
    (optim.RMSprop, dict(lr=0.01, centered=True, momentum=0.9, weight_decay=0.1)),
    (optim.Adam, dict(lr=0.01)),
    (optim.Adam, dict(lr=0.01, weight_decay=0.1)),
    (optim.Adam, dict(lr=0.01, amsgrad=True, weight_decay=0.1)),
    (optim.Adam, dict(lr=0.01, betas=(0.3, 0.5), eps=1e-3, maximize=True)),
    (optim.AdamW, dict(lr=0.01)),
    (optim.AdamW, dict(lr=0.01, weight_decay=0.3, amsgrad=True, maximize=True)),
    (optim.NAdam, dict(lr=0.01)),
    (optim.NAdam, dict(lr=0.01, weight_decay=0.1, maximize=True)),
    (optim.NAdam, dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
]


def config_id(config):
    cls, kw = config
    return cls.__name__ + "(" + ",".join(f"{k}={v}" for k, v in kw.items()) + ")"


def gradient(x, a):
    """Gradient of sum(a * x^2 + sin(x)): nonlinear, so trajectories feed back."""
    return (2 * a * x + np.cos(x)).astype(x.dtype)


def trajectory(opt_cls, kwargs, steps, dtype, fused):
    rng = np.random.default_rng(0)
    params = [Tensor(rng.standard_normal(s).astype(dtype), requires_grad=True) for s in SHAPES]
    coefs = [rng.uniform(0.5, 2.0, s) for s in SHAPES]
    opt = opt_cls(params, fused=fused, **kwargs)
    states = []
    for _ in range(steps):
        for p, a in zip(params, coefs):
            p.grad = Tensor(gradient(p.data, a))
        opt.step()
        states.append([p.data.copy() for p in params])
    return states, opt


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("config", CONFIGS, ids=config_id)
def test_fused_update_is_bit_identical_to_numpy(config, dtype):
    pytest.importorskip("numba")
    opt_cls, kwargs = config
    fused, fused_opt = trajectory(opt_cls, kwargs, 40, dtype, fused=True)
    plain, plain_opt = trajectory(opt_cls, kwargs, 40, dtype, fused=False)
    for step, (a, b) in enumerate(zip(fused, plain)):
        for x, y in zip(a, b):
            assert x.dtype == dtype
            np.testing.assert_array_equal(x, y, err_msg=f"step {step + 1}")
    # the state too (what a checkpoint saves)
    for p_fused, p_plain in zip(fused_opt.param_groups[0]["params"],
                                plain_opt.param_groups[0]["params"]):
        for name, value in fused_opt.state[p_fused].items():
            other = plain_opt.state[p_plain][name]
            if isinstance(value, np.ndarray):
                np.testing.assert_array_equal(value, other, err_msg=name)
            else:
                assert value == other, name


@pytest.mark.parametrize("config", CONFIGS, ids=config_id)
def test_fused_update_matches_pytorch(config):
    pytest.importorskip("numba")
    torch = pytest.importorskip("torch")
    opt_cls, kwargs = config
    ours, _ = trajectory(opt_cls, kwargs, 20, np.float32, fused=True)
    rng = np.random.default_rng(0)
    params = [torch.tensor(rng.standard_normal(s).astype(np.float32), requires_grad=True)
              for s in SHAPES]
    coefs = [rng.uniform(0.5, 2.0, s) for s in SHAPES]
    opt = getattr(torch.optim, opt_cls.__name__)(params, **kwargs)
    for step in range(20):
        for p, a in zip(params, coefs):
            p.grad = torch.from_numpy(gradient(p.detach().numpy().copy(), a))
        opt.step()
        for a, b in zip(ours[step], params):
            b = b.detach().numpy()
            # float32 rounding of the same algorithm (torch fuses a*b+c, we do not)
            assert np.max(np.abs(a - b)) / np.max(np.abs(b)) < 2e-6, f"step {step + 1}"


def test_fused_is_the_default_when_numba_is_importable(monkeypatch):
    pytest.importorskip("numba")
    calls = []
    original = fused_updates.adam
    monkeypatch.setattr(fused_updates, "adam", lambda *a, **k: calls.append(1) or original(*a, **k))
    p = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    opt = optim.Adam([p])
    assert opt.defaults["fused"] is None and opt.param_groups[0]["fused"] is None
    p.grad = Tensor(np.ones(3, dtype=np.float32))
    opt.step()
    assert calls == [1]
    optim.Adam([p], fused=False).step()
    assert calls == [1]


def test_without_numba_fused_none_uses_numpy_and_fused_true_says_what_to_install(monkeypatch):
    monkeypatch.setattr(fused_updates, "_KERNELS", False)  # as if numba were missing
    assert not fused_updates.available()
    p = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    p.grad = Tensor(np.full(3, 0.5, dtype=np.float32))
    for cls in (optim.SGD, optim.RMSprop, optim.Adam, optim.AdamW, optim.NAdam):
        cls([p]).step()  # fused=None: the NumPy update
        with pytest.raises(ImportError, match=r"tinygrad_fm\[fast\]"):
            cls([p], fused=True)


def test_parameters_the_kernels_cannot_take_use_the_numpy_update():
    pytest.importorskip("numba")
    # float16, and a non-contiguous parameter array: the NumPy path, same numbers.
    for make in (lambda a: a.astype(np.float16), lambda a: np.asfortranarray(a)):
        results = []
        for fused in (True, False):
            rng = np.random.default_rng(1)
            p = Tensor(make(rng.standard_normal((4, 3)).astype(np.float32)), requires_grad=True)
            opt = optim.Adam([p], lr=0.1, fused=fused)
            for _ in range(3):
                p.grad = Tensor(make(np.cos(p.data.astype(np.float32))))
                opt.step()
            results.append(p.data.copy())
        assert results[0].dtype == results[1].dtype
        np.testing.assert_array_equal(*results)


def test_fused_argument_is_checked():
    p = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    with pytest.raises(ValueError, match="fused"):
        optim.Adam([p], fused="yes")


def test_state_dict_keeps_fused_and_old_state_dicts_without_it_load():
    model = nn.Linear(3, 2)
    opt = optim.AdamW(model.parameters(), fused=False)
    state = opt.state_dict()
    assert state["param_groups"][0]["fused"] is False
    del state["param_groups"][0]["fused"]
    fresh = optim.AdamW(model.parameters())
    fresh.load_state_dict(state)
    for p in model.parameters():
        p.grad = Tensor(np.ones_like(p.data))
    fresh.step()  # a group without "fused" takes the default
