"""PolynomialLR and CosineAnnealingWarmRestarts against torch.optim.lr_scheduler: the
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
