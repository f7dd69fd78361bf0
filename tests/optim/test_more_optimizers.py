"""Adagrad, Adamax, RAdam, Adadelta and Rprop against torch.optim step for step (float64 to
1e-12, float32 to rounding), with weight decay, maximize and each one's own options; their
state_dict entries, an exact resume, and the hyper-parameter checks."""

import copy

import numpy as np
import pytest

from tinygrad_fm import Tensor, optim

torch = pytest.importorskip("torch")

SHAPES = [(3, 4), (5,), ()]

CONFIGS = [
    (optim.Adagrad, {}),
    (optim.Adagrad, dict(lr=0.1, lr_decay=0.05, weight_decay=0.1,
                         initial_accumulator_value=0.3, eps=1e-6)),
    (optim.Adagrad, dict(lr=0.05, maximize=True)),
    (optim.Adamax, {}),
    (optim.Adamax, dict(lr=0.01, betas=(0.8, 0.95), eps=1e-4, weight_decay=0.2)),
    (optim.Adamax, dict(lr=0.01, maximize=True, weight_decay=0.1)),
    (optim.RAdam, {}),
    (optim.RAdam, dict(lr=0.01, betas=(0.85, 0.9), weight_decay=0.1)),
    (optim.RAdam, dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True,
                       maximize=True)),
    (optim.Adadelta, {}),
    (optim.Adadelta, dict(lr=0.5, rho=0.8, eps=1e-4, weight_decay=0.1)),
    (optim.Adadelta, dict(maximize=True)),
    (optim.Rprop, {}),
    (optim.Rprop, dict(lr=0.05, etas=(0.3, 1.5), step_sizes=(1e-3, 0.2))),
    (optim.Rprop, dict(maximize=True)),
]


def _config_id(config):
    cls, kwargs = config
    return cls.__name__ + "-" + ("-".join(f"{k}={v}" for k, v in kwargs.items()) or "default")


def _initial(dtype):
    rng = np.random.default_rng(0)
    return [rng.normal(size=shape).astype(dtype) for shape in SHAPES]


def _gradient(value: np.ndarray, index: int) -> np.ndarray:
    """The gradient of a quartic bowl at ``value``, different per parameter, so that the
    steps change size and sign over the trajectory."""
    return np.asarray(value ** 3 - (index + 1) * value + 0.3, dtype=value.dtype)


def _our_trajectory(cls, kwargs, steps, dtype):
    params = [Tensor(a.copy(), requires_grad=True) for a in _initial(dtype)]
    opt = cls(params, **kwargs)
    trajectory = []
    for _ in range(steps):
        for i, p in enumerate(params):
            p.grad = Tensor(_gradient(p.data, i))
        opt.step()
        trajectory.append([p.data.copy() for p in params])
    return trajectory, opt, params


def _torch_trajectory(cls, kwargs, steps, dtype):
    params = [torch.tensor(a.copy(), requires_grad=True) for a in _initial(dtype)]
    opt = getattr(torch.optim, cls.__name__)(params, **kwargs)
    trajectory = []
    for _ in range(steps):
        for i, p in enumerate(params):
            p.grad = torch.from_numpy(_gradient(p.detach().numpy().copy(), i))
        opt.step()
        trajectory.append([p.detach().numpy().copy() for p in params])
    return trajectory, opt


# float64 separates the algorithm from rounding; in float32 torch's fused multiply-adds
# round differently, which the absolute term covers for elements that pass near zero.
TOLERANCES = {np.float64: dict(rtol=1e-12, atol=1e-15), np.float32: dict(rtol=3e-6, atol=1e-7)}


@pytest.mark.parametrize("config", CONFIGS, ids=_config_id)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_matches_torch_step_for_step(config, dtype):
    cls, kwargs = config
    steps = 15  # RAdam rectifies from step 6 with the default beta2
    ours, _, params = _our_trajectory(cls, kwargs, steps, dtype)
    theirs, _ = _torch_trajectory(cls, kwargs, steps, dtype)
    for step, (ours_step, theirs_step) in enumerate(zip(ours, theirs)):
        for a, b in zip(ours_step, theirs_step):
            np.testing.assert_allclose(a, b, **TOLERANCES[dtype], err_msg=f"step {step + 1}")
    assert all(p.dtype == dtype for p in params)
    assert not np.allclose(ours[0][0], ours[-1][0])  # the parameters did move


@pytest.mark.parametrize("config", CONFIGS[::3], ids=_config_id)
def test_state_dict_entries_are_torch_s(config):
    cls, kwargs = config
    _, ours, _ = _our_trajectory(cls, kwargs, 2, np.float64)
    _, theirs = _torch_trajectory(cls, kwargs, 2, np.float64)
    ours_state, theirs_state = ours.state_dict(), theirs.state_dict()
    assert list(ours_state["state"]) == list(theirs_state["state"])
    for index, entries in theirs_state["state"].items():
        assert set(ours_state["state"][index]) == set(entries)
        for name, value in entries.items():
            np.testing.assert_allclose(np.asarray(ours_state["state"][index][name]),
                                       value.numpy(), rtol=1e-12, err_msg=name)
    group_keys = set(ours_state["param_groups"][0])
    assert group_keys <= set(theirs_state["param_groups"][0]) | {"params"}
    assert ours.defaults.items() <= theirs.defaults.items()


def test_adagrad_state_exists_before_the_first_step_as_in_torch():
    ours = optim.Adagrad([Tensor(np.zeros(3), requires_grad=True)],
                         initial_accumulator_value=0.5)
    theirs = torch.optim.Adagrad([torch.zeros(3, dtype=torch.float64, requires_grad=True)],
                                 initial_accumulator_value=0.5)
    assert set(ours.state_dict()["state"][0]) == set(theirs.state_dict()["state"][0])
    np.testing.assert_array_equal(ours.state_dict()["state"][0]["sum"], [0.5, 0.5, 0.5])


@pytest.mark.parametrize("config", CONFIGS, ids=_config_id)
def test_state_dict_resume_is_exact(config):
    cls, kwargs = config
    straight, _, _ = _our_trajectory(cls, kwargs, 10, np.float32)
    _, first, params = _our_trajectory(cls, kwargs, 5, np.float32)
    saved = copy.deepcopy(first.state_dict())
    resumed_params = [Tensor(p.data.copy(), requires_grad=True) for p in params]
    resumed = cls(resumed_params, **kwargs)
    resumed.load_state_dict(saved)
    for _ in range(5):
        for i, p in enumerate(resumed_params):
            p.grad = Tensor(_gradient(p.data, i))
        resumed.step()
    for ours, expected in zip(resumed_params, straight[-1]):
        np.testing.assert_array_equal(ours.data, expected)


@pytest.mark.parametrize("cls, kwargs, name", [
    (optim.Adagrad, dict(lr_decay=-1), "lr_decay"),
    (optim.Adagrad, dict(initial_accumulator_value=-0.1), "initial_accumulator_value"),
    (optim.Adamax, dict(betas=(1.0, 0.9)), "beta1"),
    (optim.Adamax, dict(eps=-1), "eps"),
    (optim.RAdam, dict(lr=-0.1), "lr"),
    (optim.RAdam, dict(weight_decay=-0.1), "weight_decay"),
    (optim.Adadelta, dict(rho=1.5), "rho"),
    (optim.Adadelta, dict(lr=float("nan")), "lr"),
    (optim.Rprop, dict(etas=(1.1, 1.2)), "etas"),
])
def test_invalid_hyper_parameters_name_themselves(cls, kwargs, name):
    with pytest.raises(ValueError, match=name):
        cls([Tensor(np.zeros(2), requires_grad=True)], **kwargs)


@pytest.mark.parametrize("cls", [optim.Adagrad, optim.Adamax, optim.RAdam, optim.Adadelta,
                                 optim.Rprop])
def test_parameters_without_grad_are_skipped_and_grad_untouched(cls):
    moving = Tensor(np.ones(3, np.float32), requires_grad=True)
    frozen = Tensor(np.ones(3, np.float32), requires_grad=True)
    opt = cls([moving, frozen])
    grad = np.full(3, 0.5, np.float32)
    moving.grad = Tensor(grad.copy())
    opt.step()
    np.testing.assert_array_equal(frozen.data, np.ones(3))
    np.testing.assert_array_equal(moving.grad.data, grad)
    assert not np.array_equal(moving.data, np.ones(3)) and moving.dtype == np.float32
