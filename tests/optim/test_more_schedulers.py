"""PolynomialLR, CosineAnnealingWarmRestarts and CyclicLR against torch.optim.lr_scheduler: the
learning rates step by step (also with fractional epochs), the closed form, state dicts
and argument checks."""

import warnings

import numpy as np
import pytest

from tinygrad_fm import Tensor, optim
from tinygrad_fm.optim import lr_scheduler

torch = pytest.importorskip("torch")

LRS = (0.1, 0.02)


def _optimizers():
    ours = optim.SGD([{"params": [Tensor(np.zeros(2), requires_grad=True)], "lr": lr}
                      for lr in LRS], lr=LRS[0])
    theirs = torch.optim.SGD([{"params": [torch.zeros(2, requires_grad=True)], "lr": lr}
                              for lr in LRS], lr=LRS[0])
    return ours, theirs


def _learning_rates(opt, scheduler, epochs):
    seen = []
    for epoch in epochs:
        opt.step()
        if epoch is None:
            scheduler.step()
        else:
            scheduler.step(epoch)
        seen.append([group["lr"] for group in opt.param_groups])
    return seen


CASES = {
    "polynomial": ("PolynomialLR", dict(total_iters=4, power=2.0), [None] * 8),
    "polynomial_linear": ("PolynomialLR", {}, [None] * 7),
    "warm_restarts": ("CosineAnnealingWarmRestarts", dict(T_0=3, eta_min=0.001), [None] * 10),
    "warm_restarts_mult": ("CosineAnnealingWarmRestarts", dict(T_0=2, T_mult=2, eta_min=0.01),
                           [None] * 16),
    "warm_restarts_fractional": ("CosineAnnealingWarmRestarts", dict(T_0=2, T_mult=3),
                                 [i / 4 for i in range(1, 40)]),
    "warm_restarts_jump": ("CosineAnnealingWarmRestarts", dict(T_0=3),
                           [5, 1, 7.5, None, None]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_learning_rates_match_torch(name):
    cls, kwargs, epochs = CASES[name]
    ours_opt, theirs_opt = _optimizers()
    ours = getattr(lr_scheduler, cls)(ours_opt, **kwargs)
    theirs = getattr(torch.optim.lr_scheduler, cls)(theirs_opt, **kwargs)
    assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr(), rel=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = _learning_rates(theirs_opt, theirs, epochs)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # step(epoch) is legitimate for warm restarts
        got = _learning_rates(ours_opt, ours, epochs)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)
    assert ours.last_epoch == theirs.last_epoch


@pytest.mark.parametrize("optimizer, kwargs", [
    ("SGD", dict(base_lr=0.01, max_lr=[0.1, 0.05], step_size_up=3)),
    ("SGD", dict(base_lr=0.01, max_lr=0.1, step_size_up=2, step_size_down=5,
                 mode="triangular2", base_momentum=0.7, max_momentum=[0.95, 0.9])),
    ("SGD", dict(base_lr=0.01, max_lr=0.1, step_size_up=4, mode="exp_range", gamma=0.9)),
    ("Adam", dict(base_lr=0.001, max_lr=0.01, step_size_up=3, scale_fn=lambda x: 0.5 ** x,
                  scale_mode="iterations")),
    ("Adam", dict(base_lr=0.001, max_lr=0.01, step_size_up=3, cycle_momentum=False)),
])
def test_cyclic_lr_and_its_momentum_match_torch(optimizer, kwargs):
    extra = dict(momentum=0.9) if optimizer == "SGD" else {}
    ours_opt = getattr(optim, optimizer)(
        [{"params": [Tensor(np.zeros(2), requires_grad=True)]} for _ in LRS], lr=0.1, **extra)
    theirs_opt = getattr(torch.optim, optimizer)(
        [{"params": [torch.zeros(2, requires_grad=True)]} for _ in LRS], lr=0.1, **extra)
    ours = lr_scheduler.CyclicLR(ours_opt, **kwargs)
    theirs = torch.optim.lr_scheduler.CyclicLR(theirs_opt, **kwargs)
    for _ in range(20):
        for o, t in zip(ours_opt.param_groups, theirs_opt.param_groups):
            assert o["lr"] == pytest.approx(t["lr"], rel=1e-12)
            key = "momentum" if optimizer == "SGD" else "betas"
            assert o[key] == pytest.approx(t[key], rel=1e-12)
        for opt, scheduler in ((ours_opt, ours), (theirs_opt, theirs)):
            opt.step()
            scheduler.step()
    assert set(ours.state_dict()) <= set(theirs.state_dict()) | {"_last_lr"}


def test_cyclic_lr_needs_a_momentum_to_cycle():
    with pytest.raises(ValueError, match="momentum or beta1"):
        lr_scheduler.CyclicLR(optim.Adagrad([Tensor(np.zeros(2), requires_grad=True)]), 0.01,
                              0.1)
    with pytest.raises(ValueError, match="mode is invalid"):
        lr_scheduler.CyclicLR(_optimizers()[0], 0.01, 0.1, mode="square", cycle_momentum=False)


def test_polynomial_closed_form_agrees_with_the_chain():
    opt, _ = _optimizers()
    scheduler = lr_scheduler.PolynomialLR(opt, total_iters=5, power=1.5)
    for epoch in range(1, 8):
        opt.step()
        scheduler.step()
        np.testing.assert_allclose([g["lr"] for g in opt.param_groups],
                                   scheduler._get_closed_form_lr(), rtol=1e-12)
        assert scheduler.last_epoch == epoch


def test_warm_restarts_state_dict_resumes_the_cycle():
    opt, _ = _optimizers()
    scheduler = lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=2)
    for _ in range(5):
        opt.step()
        scheduler.step()
    saved = scheduler.state_dict()
    resumed_opt, _ = _optimizers()
    resumed_opt.load_state_dict(opt.state_dict())
    resumed = lr_scheduler.CosineAnnealingWarmRestarts(resumed_opt, T_0=2, T_mult=2)
    resumed.load_state_dict(saved)
    assert (resumed.T_i, resumed.T_cur) == (scheduler.T_i, scheduler.T_cur) == (4, 3)
    for _ in range(4):
        for o, s in ((opt, scheduler), (resumed_opt, resumed)):
            o.step()
            s.step()
        assert resumed.get_last_lr() == scheduler.get_last_lr()


@pytest.mark.parametrize("make, message", [
    (lambda o: lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=0), "positive integer T_0"),
    (lambda o: lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=0), "T_mult >= 1"),
    (lambda o: lr_scheduler.CosineAnnealingWarmRestarts(o, 2, eta_min="0"), "eta_min"),
    (lambda o: lr_scheduler.PolynomialLR(o, total_iters=0), "total_iters"),
])
def test_invalid_arguments(make, message):
    with pytest.raises(ValueError, match=message):
        make(_optimizers()[0])
    opt = _optimizers()[0]
    scheduler = lr_scheduler.CosineAnnealingWarmRestarts(opt, 2)
    opt.step()
    with pytest.raises(ValueError, match="non-negative epoch"):
        scheduler.step(-1)
