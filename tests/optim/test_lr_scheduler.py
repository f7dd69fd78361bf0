"""Tests of tinygrad_fm.optim.lr_scheduler: closed forms, PyTorch semantics, state dicts,
and (when torch is installed) the same lr/momentum trajectories as torch to 1e-12."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from tinygrad_fm import optim
from tinygrad_fm.optim import lr_scheduler
from tinygrad_fm.tensor import Tensor


def make_optimizer(kind="SGD", lrs=(0.1, 0.02), **kwargs):
    groups = [{"params": [Tensor(np.zeros(2, np.float32), requires_grad=True)], "lr": lr}
              for lr in lrs]
    return getattr(optim, kind)(groups, lr=lrs[0], **kwargs)


def lrs_of(opt):
    return [g["lr"] for g in opt.param_groups]


def trajectory(opt, scheduler, steps):
    """Learning rates (and momentum / beta1) used at each optimizer step."""
    out = []
    for _ in range(steps):
        groups = opt.param_groups
        out.append([(g["lr"], g.get("momentum"), g.get("betas", (None,))[0]) for g in groups])
        opt.step()
        scheduler.step()
    return out


# --------------------------------------------------------------------------- closed forms


def test_step_lr():
    opt = make_optimizer()
    sched = lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
    assert [g["initial_lr"] for g in opt.param_groups] == [0.1, 0.02]
    assert sched.base_lrs == [0.1, 0.02] and sched.last_epoch == 0
    seen = trajectory(opt, sched, 8)
    for epoch, lrs in enumerate(seen):
        for (lr, _, _), base in zip(lrs, (0.1, 0.02)):
            assert lr == pytest.approx(base * 0.5 ** (epoch // 3), rel=1e-15)
    assert sched.last_epoch == 8
    assert sched.get_last_lr() == lrs_of(opt)


def test_exponential_lr():
    opt = make_optimizer()
    sched = lr_scheduler.ExponentialLR(opt, gamma=0.9)
    assert lrs_of(opt) == [0.1, 0.02]
    for epoch, lrs in enumerate(trajectory(opt, sched, 6)):
        assert lrs[0][0] == pytest.approx(0.1 * 0.9 ** epoch, rel=1e-14)
        assert lrs[1][0] == pytest.approx(0.02 * 0.9 ** epoch, rel=1e-14)


@pytest.mark.parametrize("eta_min", [0.0, 0.001])
def test_cosine_annealing_matches_closed_form(eta_min):
    T_max = 10
    opt = make_optimizer()
    sched = lr_scheduler.CosineAnnealingLR(opt, T_max=T_max, eta_min=eta_min)
    # the recursive form follows the closed form through the first period and beyond
    for epoch, lrs in enumerate(trajectory(opt, sched, 3 * T_max + 1)):
        for (lr, _, _), base in zip(lrs, (0.1, 0.02)):
            closed = eta_min + (base - eta_min) * (1 + math.cos(math.pi * epoch / T_max)) / 2
            assert lr == pytest.approx(closed, rel=1e-12, abs=1e-15), epoch
    assert lrs_of(opt)[0] == pytest.approx(eta_min + (0.1 - eta_min) * (1 + math.cos(
        math.pi * 31 / T_max)) / 2, rel=1e-12)


def test_linear_lr():
    opt = make_optimizer()
    sched = lr_scheduler.LinearLR(opt, start_factor=0.25, end_factor=0.75, total_iters=4)
    for epoch, lrs in enumerate(trajectory(opt, sched, 8)):
        factor = 0.25 + 0.5 * min(epoch, 4) / 4
        assert lrs[0][0] == pytest.approx(0.1 * factor, rel=1e-14)
        assert lrs[1][0] == pytest.approx(0.02 * factor, rel=1e-14)


def test_one_cycle_lr_two_phase_cos_with_sgd_momentum():
    opt = make_optimizer("SGD", momentum=0.9)
    total = 20
    sched = lr_scheduler.OneCycleLR(opt, max_lr=[1.0, 0.5], total_steps=total)
    group = opt.param_groups[0]
    assert group["initial_lr"] == 1.0 / 25 and group["max_lr"] == 1.0
    assert group["min_lr"] == pytest.approx(1.0 / 25 / 1e4)
    seen = trajectory(opt, sched, total)
    peak = 0.3 * total - 1
    lrs = [step[0][0] for step in seen]
    momenta = [step[0][1] for step in seen]
    assert lrs[0] == pytest.approx(0.04) and momenta[0] == pytest.approx(0.95)
    assert lrs[int(peak)] == pytest.approx(1.0) and momenta[int(peak)] == pytest.approx(0.85)
    assert lrs[-1] == pytest.approx(0.04 / 1e4) and momenta[-1] == pytest.approx(0.95)
    for t, lr in enumerate(lrs):
        if t <= peak:
            pct, start, end = t / peak, 0.04, 1.0
        else:
            pct, start, end = (t - peak) / (total - 1 - peak), 1.0, 0.04 / 1e4
        assert lr == pytest.approx(end + (start - end) / 2 * (1 + math.cos(math.pi * pct)),
                                   rel=1e-12)
    assert [step[1][0] for step in seen][int(peak)] == pytest.approx(0.5)
    with pytest.raises(ValueError, match="Tried to step"):
        sched.step()


def test_one_cycle_lr_cycles_beta1_for_adam_and_linear_three_phase():
    opt = make_optimizer("Adam", betas=(0.9, 0.99))
    sched = lr_scheduler.OneCycleLR(opt, max_lr=0.1, epochs=2, steps_per_epoch=10,
                                    anneal_strategy="linear", three_phase=True,
                                    base_momentum=0.8, max_momentum=0.9)
    assert sched.total_steps == 20
    seen = trajectory(opt, sched, 20)
    betas1 = [step[0][2] for step in seen]
    lrs = [step[0][0] for step in seen]
    assert opt.param_groups[0]["betas"][1] == 0.99  # beta2 untouched
    assert betas1[0] == pytest.approx(0.9) and betas1[5] == pytest.approx(0.8)
    assert lrs[5] == pytest.approx(0.1)  # peak at pct_start * total - 1 = 5
    assert lrs[10] == pytest.approx(0.1 / 25)  # back at initial_lr at 2 * 6 - 2 = 10
    assert lrs[3] == pytest.approx(0.004 + (0.1 - 0.004) * 3 / 5)
    assert lrs[-1] == pytest.approx(0.1 / 25 / 1e4)


def test_one_cycle_lr_without_momentum_support():
    p = Tensor(np.zeros(1, np.float32), requires_grad=True)

    class Plain(optim.Optimizer):
        def __init__(self, params, lr=0.1):
            super().__init__(params, dict(lr=lr))

        def _step_group(self, group):
            pass

    with pytest.raises(ValueError, match="momentum"):
        lr_scheduler.OneCycleLR(Plain([p]), max_lr=0.1, total_steps=10)
    sched = lr_scheduler.OneCycleLR(Plain([p]), max_lr=0.1, total_steps=10,
                                    cycle_momentum=False)
    assert sched.get_last_lr() == [pytest.approx(0.004)]


# --------------------------------------------------------------------------- semantics


def test_scheduler_drives_the_optimizer():
    """The lr the scheduler sets is the one the next optimizer.step() uses."""
    p = Tensor(np.array([1.0]), requires_grad=True)
    opt = optim.SGD([p], lr=1.0)
    sched = lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    for expected_lr in (1.0, 0.5, 0.25):
        before = p.data[0]
        p.grad = Tensor(np.array([1.0]))
        opt.step()
        assert before - p.data[0] == pytest.approx(expected_lr)
        sched.step()


def test_initial_lr_is_kept_when_present():
    opt = make_optimizer()
    opt.param_groups[0]["initial_lr"] = 0.5
    sched = lr_scheduler.ExponentialLR(opt, gamma=0.5)
    assert sched.base_lrs == [0.5, 0.02]


def test_resume_with_last_epoch_needs_initial_lr():
    opt = make_optimizer()
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.StepLR(opt, step_size=2, last_epoch=3)


def test_warns_when_scheduler_steps_before_optimizer():
    opt = make_optimizer()
    sched = lr_scheduler.StepLR(opt, step_size=2)
    with pytest.warns(UserWarning, match="before `optimizer.step"):
        sched.step()
    opt = make_optimizer()
    sched = lr_scheduler.StepLR(opt, step_size=2)
    opt.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sched.step()


def test_deprecated_step_with_epoch_uses_closed_form():
    opt = make_optimizer()
    sched = lr_scheduler.CosineAnnealingLR(opt, T_max=10)
    opt.step()
    with pytest.warns(UserWarning, match="deprecated"):
        sched.step(5)
    assert lrs_of(opt)[0] == pytest.approx(0.05)
    assert sched.last_epoch == 5


@pytest.mark.parametrize("make, message", [
    (lambda o: lr_scheduler.StepLR(o, step_size=0), "step_size"),
    (lambda o: lr_scheduler.LinearLR(o, start_factor=0.0), "start_factor"),
    (lambda o: lr_scheduler.LinearLR(o, end_factor=1.5), "end_factor"),
    (lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=0), "T_max"),
    (lambda o: lr_scheduler.OneCycleLR(o, max_lr=0.1), "total_steps"),
    (lambda o: lr_scheduler.OneCycleLR(o, max_lr=0.1, total_steps=10, pct_start=1.5),
     "pct_start"),
    (lambda o: lr_scheduler.OneCycleLR(o, max_lr=0.1, total_steps=10,
                                       anneal_strategy="exp"), "anneal_strategy"),
    (lambda o: lr_scheduler.OneCycleLR(o, max_lr=[0.1], total_steps=10), "max_lr"),
    (lambda o: lr_scheduler.ConstantLR(o, factor=1.5), "factor"),
    (lambda o: lr_scheduler.ConstantLR(o, factor=-0.1), "factor"),
    (lambda o: lr_scheduler.LambdaLR(o, [lambda e: 1.0] * 3), "Expected 2 lr_lambdas"),
    (lambda o: lr_scheduler.MultiplicativeLR(o, [lambda e: 1.0]), "Expected 2 lr_lambdas"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, factor=1.0), "Factor should be < 1.0"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, mode="lowest"), "mode 'lowest' is unknown"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, threshold_mode="pct"),
     "threshold mode 'pct' is unknown"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, min_lr=[0.0]), "expected 2 min_lrs"),
    (lambda o: lr_scheduler.SequentialLR(o, [], milestones=[]), "at least one scheduler"),
    (lambda o: lr_scheduler.SequentialLR(
        o, [lr_scheduler.StepLR(o, 2), lr_scheduler.ExponentialLR(o, 0.9)], milestones=[]),
     "one more than the number of milestone"),
    (lambda o: lr_scheduler.SequentialLR(
        o, [lr_scheduler.StepLR(o, 2), lr_scheduler.StepLR(make_optimizer(), 2)],
        milestones=[3]), "same optimizer"),
    (lambda o: lr_scheduler.SequentialLR(
        o, [lr_scheduler.StepLR(o, 2), lr_scheduler.ReduceLROnPlateau(o)], milestones=[3]),
     "ReduceLROnPlateau"),
])
def test_invalid_arguments(make, message):
    with pytest.raises(ValueError, match=message):
        make(make_optimizer())


def test_not_an_optimizer():
    with pytest.raises(TypeError):
        lr_scheduler.StepLR(object(), step_size=1)
    for make in (lambda: lr_scheduler.LambdaLR(object(), lambda e: 1.0),
                 lambda: lr_scheduler.ReduceLROnPlateau(object()),
                 lambda: lr_scheduler.SequentialLR(object(), [], [])):
        with pytest.raises(TypeError, match="is not an Optimizer"):
            make()


@pytest.mark.parametrize("make, message", [
    (lambda o: lr_scheduler.LambdaLR(o, 0.5), "lr_lambda should be a function"),
    (lambda o: lr_scheduler.MultiplicativeLR(o, [lambda e: 1.0, 0.9]),
     "lr_lambda should be a function"),
    (lambda o: lr_scheduler.MultiStepLR(o, milestones=5), "milestones must be an iterable"),
    (lambda o: lr_scheduler.SequentialLR(o, [object()], milestones=[]), "`optimizer`"),
])
def test_invalid_argument_types(make, message):
    with pytest.raises(TypeError, match=message):
        make(make_optimizer())


def test_reduce_lr_on_plateau_needs_a_number():
    sched = lr_scheduler.ReduceLROnPlateau(make_optimizer())
    with pytest.raises(TypeError, match="needs the monitored value as a number"):
        sched.step("low")
    with pytest.raises(TypeError, match="metrics"):
        sched.step()  # the metric is required


def test_multi_step_lr_closed_form_and_repeated_milestones():
    opt = make_optimizer()
    sched = lr_scheduler.MultiStepLR(opt, milestones=[2, 5, 5], gamma=0.5)
    seen = [step[0][0] for step in trajectory(opt, sched, 8)]
    assert seen == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.05, 0.0125, 0.0125, 0.0125],
                                 rel=1e-15)
    with pytest.warns(UserWarning, match="deprecated"):
        sched.step(4)
    assert lrs_of(opt) == pytest.approx([0.05, 0.01], rel=1e-15)


def test_constant_lr_is_restored_after_total_iters():
    opt = make_optimizer()
    sched = lr_scheduler.ConstantLR(opt, factor=0.5, total_iters=3)
    seen = [step[1][0] for step in trajectory(opt, sched, 6)]
    assert seen == pytest.approx([0.01, 0.01, 0.01, 0.02, 0.02, 0.02], rel=1e-15)


def test_lambda_lr_scales_the_initial_lr_and_multiplicative_lr_the_current_one():
    opt = make_optimizer()
    sched = lr_scheduler.LambdaLR(opt, [lambda e: 1.0 / (e + 1), lambda e: 2.0])
    seen = trajectory(opt, sched, 4)
    assert [s[0][0] for s in seen] == pytest.approx([0.1, 0.05, 0.1 / 3, 0.025], rel=1e-15)
    assert [s[1][0] for s in seen] == pytest.approx([0.04] * 4, rel=1e-15)
    opt = make_optimizer()
    sched = lr_scheduler.MultiplicativeLR(opt, lambda e: 0.5)
    seen = trajectory(opt, sched, 4)
    assert [s[0][0] for s in seen] == pytest.approx([0.1, 0.05, 0.025, 0.0125], rel=1e-15)
    assert sched.get_last_lr() == lrs_of(opt)


def test_sequential_lr_switches_at_the_milestones():
    opt = make_optimizer()
    warmup = lr_scheduler.ConstantLR(opt, factor=0.1, total_iters=3)
    decay = lr_scheduler.ExponentialLR(opt, gamma=0.5)
    sched = lr_scheduler.SequentialLR(opt, [warmup, decay], milestones=[3])
    assert lrs_of(opt) == pytest.approx([0.01, 0.002])
    seen = [step[0][0] for step in trajectory(opt, sched, 6)]
    assert seen == pytest.approx([0.01, 0.01, 0.01, 0.1, 0.05, 0.025], rel=1e-14)
    assert sched.get_last_lr() == lrs_of(opt) and sched.last_epoch == 6


def test_reduce_lr_on_plateau_patience_cooldown_and_min_lr():
    opt = make_optimizer()
    sched = lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=1, cooldown=1,
                                           min_lr=[0.03, 0.0])
    seen = []
    for metric in [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.5, 0.5]:
        opt.step()
        sched.step(metric)
        seen.append(sched.get_last_lr())
    assert seen == [[0.1, 0.02], [0.1, 0.02], [0.05, 0.01], [0.05, 0.01], [0.05, 0.01],
                    [0.03, 0.005], [0.03, 0.005], [0.03, 0.005]]
    assert sched.best == 0.5 and sched.last_epoch == 8
    sched.step(Tensor(np.array(0.25)))  # a 0-d Tensor works, like a 0-d torch tensor
    assert sched.best == 0.25


# --------------------------------------------------------------------------- state dicts

def _halve_every_5(epoch):
    return 0.5 ** (epoch // 5)


SCHEDULERS = [
    ("SGD", {}, lambda o: lr_scheduler.StepLR(o, step_size=3, gamma=0.3)),
    ("SGD", {}, lambda o: lr_scheduler.ExponentialLR(o, gamma=0.9)),
    ("SGD", {}, lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=7, eta_min=1e-3)),
    ("SGD", {}, lambda o: lr_scheduler.LinearLR(o, start_factor=0.1, total_iters=6)),
    ("SGD", {}, lambda o: lr_scheduler.LinearLR(o, start_factor=0.5, end_factor=0.1,
                                                total_iters=4)),
    ("SGD", dict(momentum=0.9), lambda o: lr_scheduler.OneCycleLR(o, max_lr=[0.5, 0.2],
                                                                 total_steps=30)),
    ("SGD", dict(momentum=0.9), lambda o: lr_scheduler.OneCycleLR(
        o, max_lr=0.5, total_steps=30, anneal_strategy="linear", three_phase=True,
        pct_start=0.25, div_factor=10.0, final_div_factor=100.0)),
    ("Adam", {}, lambda o: lr_scheduler.OneCycleLR(o, max_lr=0.01, total_steps=30)),
    ("Adam", {}, lambda o: lr_scheduler.OneCycleLR(o, max_lr=0.01, total_steps=30,
                                                   cycle_momentum=False)),
    ("RMSprop", dict(momentum=0.5), lambda o: lr_scheduler.OneCycleLR(
        o, max_lr=0.01, total_steps=30, three_phase=True)),
    ("SGD", {}, lambda o: lr_scheduler.MultiStepLR(o, milestones=[4, 9, 9, 14], gamma=0.5)),
    ("SGD", {}, lambda o: lr_scheduler.LambdaLR(o, lambda e: 1.0 / (1 + e))),
    ("SGD", {}, lambda o: lr_scheduler.LambdaLR(o, [lambda e: 0.9 ** e, _halve_every_5])),
    ("SGD", {}, lambda o: lr_scheduler.MultiplicativeLR(o, lambda e: 0.9 if e % 2 else 1.05)),
    ("SGD", {}, lambda o: lr_scheduler.ConstantLR(o, factor=0.2, total_iters=14)),
    ("SGD", {}, lambda o: lr_scheduler.SequentialLR(
        o, [lr_scheduler.LinearLR(o, start_factor=0.1, total_iters=5),
            lr_scheduler.MultiplicativeLR(o, lambda e: 0.8),
            lr_scheduler.CosineAnnealingLR(o, T_max=8, eta_min=1e-3)], milestones=[5, 13])),
]


@pytest.mark.parametrize("kind, opt_kwargs, make", SCHEDULERS)
def test_state_dict_resume(kind, opt_kwargs, make):
    opt = make_optimizer(kind, **opt_kwargs)
    sched = make(opt)
    trajectory(opt, sched, 11)
    opt_state, sched_state = opt.state_dict(), sched.state_dict()
    assert "optimizer" not in sched_state
    expected = trajectory(opt, sched, 15)

    opt2 = make_optimizer(kind, **opt_kwargs)
    sched2 = make(opt2)
    opt2.load_state_dict(opt_state)
    sched2.load_state_dict(sched_state)
    assert sched2.last_epoch == 11
    assert trajectory(opt2, sched2, 15) == expected


def test_lambda_state_dict_leaves_functions_out_but_keeps_callable_objects_state():
    class Warmup:
        def __init__(self, steps):
            self.steps = steps

        def __call__(self, epoch):
            return min(1.0, (epoch + 1) / self.steps)

    opt = make_optimizer()
    sched = lr_scheduler.LambdaLR(opt, [Warmup(4), lambda e: 0.5])
    state = sched.state_dict()
    assert state["lr_lambdas"] == [{"steps": 4}, None]
    assert "optimizer" not in state
    opt2 = make_optimizer()
    warmup = Warmup(10)
    sched2 = lr_scheduler.LambdaLR(opt2, [warmup, lambda e: 0.25])
    sched2.load_state_dict(state)
    assert warmup.steps == 4 and state["lr_lambdas"] == [{"steps": 4}, None]
    assert sched2.lr_lambdas[1](0) == 0.25  # the functions themselves are not replaced
    with pytest.raises(ValueError, match="lr_lambdas"):
        lr_scheduler.LambdaLR(make_optimizer(lrs=(0.1,)), lambda e: 1.0).load_state_dict(
            state)


def test_sequential_state_dict_nests_the_schedulers_state_dicts():
    opt = make_optimizer()
    sched = lr_scheduler.SequentialLR(opt, [lr_scheduler.ConstantLR(opt, total_iters=2),
                                            lr_scheduler.StepLR(opt, step_size=2)],
                                      milestones=[4])
    state = sched.state_dict()
    assert [s["total_iters"] if "total_iters" in s else s["step_size"]
            for s in state["_schedulers"]] == [2, 2]
    assert "optimizer" not in state and state["_milestones"] == [4]


def test_reduce_lr_on_plateau_state_dict_resume():
    metrics = [3.0, 2.0, 2.0, 2.0, 1.9999, 1.5, 1.6, 1.7, 1.8, 1.0, 1.0, 1.0, 1.0, 1.0] * 2

    def run(opt, sched, values):
        out = []
        for metric in values:
            opt.step()
            sched.step(metric)
            out.append(lrs_of(opt))
        return out

    make = lambda o: lr_scheduler.ReduceLROnPlateau(o, mode="min", factor=0.5, patience=1,
                                                    cooldown=2, min_lr=[1e-3, 0.0])
    opt = make_optimizer()
    sched = make(opt)
    run(opt, sched, metrics[:9])
    opt_state, sched_state = opt.state_dict(), sched.state_dict()
    assert "optimizer" not in sched_state
    expected = run(opt, sched, metrics[9:])
    opt2 = make_optimizer()
    sched2 = make(opt2)
    opt2.load_state_dict(opt_state)
    sched2.load_state_dict(sched_state)
    assert run(opt2, sched2, metrics[9:]) == expected


# --------------------------------------------------------------------------- vs PyTorch

TORCH_SCHEDULERS = [
    ("StepLR", dict(step_size=3, gamma=0.3), "SGD", {}, 25),
    ("ExponentialLR", dict(gamma=0.9), "SGD", {}, 25),
    ("CosineAnnealingLR", dict(T_max=10), "SGD", {}, 45),
    ("CosineAnnealingLR", dict(T_max=7, eta_min=1e-3), "SGD", {}, 45),
    ("LinearLR", {}, "SGD", {}, 12),
    ("LinearLR", dict(start_factor=0.5, end_factor=0.1, total_iters=6), "SGD", {}, 12),
    ("OneCycleLR", dict(max_lr=[0.5, 0.2], total_steps=40), "SGD", dict(momentum=0.9), 40),
    ("OneCycleLR", dict(max_lr=0.5, total_steps=37, anneal_strategy="linear"), "SGD",
     dict(momentum=0.9), 37),
    ("OneCycleLR", dict(max_lr=0.5, epochs=3, steps_per_epoch=11, three_phase=True,
                        pct_start=0.2, div_factor=10.0, final_div_factor=1e3), "SGD",
     dict(momentum=0.5), 33),
    ("OneCycleLR", dict(max_lr=0.01, total_steps=40, base_momentum=0.7,
                        max_momentum=0.9), "Adam", {}, 40),
    ("OneCycleLR", dict(max_lr=0.01, total_steps=40, three_phase=True,
                        anneal_strategy="linear"), "NAdam", {}, 40),
    ("OneCycleLR", dict(max_lr=0.01, total_steps=40), "RMSprop", dict(momentum=0.5), 40),
    ("OneCycleLR", dict(max_lr=0.01, total_steps=40, cycle_momentum=False), "AdamW", {}, 40),
]


@pytest.mark.parametrize("name, kwargs, kind, opt_kwargs, steps", TORCH_SCHEDULERS,
                         ids=lambda v: v if isinstance(v, str) else None)
def test_matches_pytorch(name, kwargs, kind, opt_kwargs, steps):
    torch = pytest.importorskip("torch")
    opt = make_optimizer(kind, **opt_kwargs)
    ours = trajectory(opt, getattr(lr_scheduler, name)(opt, **kwargs), steps)
    torch_groups = [{"params": [torch.zeros(2, requires_grad=True)], "lr": lr}
                    for lr in (0.1, 0.02)]
    topt = getattr(torch.optim, kind)(torch_groups, lr=0.1, **opt_kwargs)
    theirs = trajectory(topt, getattr(torch.optim.lr_scheduler, name)(topt, **kwargs), steps)
    for epoch, (a, b) in enumerate(zip(ours, theirs)):
        for group_a, group_b in zip(a, b):
            for x, y in zip(group_a, group_b):
                if y is None:
                    assert x is None
                else:
                    assert x == pytest.approx(y, rel=1e-12, abs=1e-18), epoch


def test_matches_pytorch_after_resume_with_last_epoch():
    """Rebuilding a scheduler with last_epoch=k (torch's resume path) behaves like torch."""
    torch = pytest.importorskip("torch")
    opt = make_optimizer()
    for group in opt.param_groups:
        group["initial_lr"] = group["lr"]
    tgroups = [{"params": [torch.zeros(2, requires_grad=True)], "lr": lr, "initial_lr": lr}
               for lr in (0.1, 0.02)]
    topt = torch.optim.SGD(tgroups, lr=0.1)
    for name, kwargs in [("CosineAnnealingLR", dict(T_max=10)),
                         ("LinearLR", dict(start_factor=0.2, total_iters=8)),
                         ("ExponentialLR", dict(gamma=0.8)),
                         ("StepLR", dict(step_size=2))]:
        ours = trajectory(opt, getattr(lr_scheduler, name)(opt, last_epoch=4, **kwargs), 6)
        theirs = trajectory(topt, getattr(torch.optim.lr_scheduler, name)(
            topt, last_epoch=4, **kwargs), 6)
        np.testing.assert_allclose(np.array(ours, dtype=float)[..., 0],
                                   np.array(theirs, dtype=float)[..., 0], rtol=1e-12)


# Several parameter groups, ~30 steps, for the schedulers that take a list per group.
LRS3 = (0.1, 0.02, 0.5)
TORCH_SCHEDULERS_3_GROUPS = [
    ("MultiStepLR", lambda m, o: m.MultiStepLR(o, milestones=[3, 8, 8, 20], gamma=0.5)),
    ("MultiStepLR-unsorted", lambda m, o: m.MultiStepLR(o, milestones=(12, 4))),
    ("LambdaLR-one", lambda m, o: m.LambdaLR(o, lambda e: 0.95 ** e)),
    ("LambdaLR-list", lambda m, o: m.LambdaLR(
        o, [lambda e: 1 / (e + 1), lambda e: (e // 5 + 1) * 0.5, _halve_every_5])),
    ("MultiplicativeLR", lambda m, o: m.MultiplicativeLR(o, lambda e: 0.9)),
    ("MultiplicativeLR-list", lambda m, o: m.MultiplicativeLR(
        o, [lambda e: 0.9, lambda e: 1.0 if e % 3 else 0.5, lambda e: 1.01])),
    ("ConstantLR-default", lambda m, o: m.ConstantLR(o)),
    ("ConstantLR", lambda m, o: m.ConstantLR(o, factor=0.1, total_iters=12)),
    ("ConstantLR-1", lambda m, o: m.ConstantLR(o, factor=1.0, total_iters=3)),
    ("SequentialLR-warmup-cosine", lambda m, o: m.SequentialLR(
        o, [m.LinearLR(o, start_factor=0.01, total_iters=6), m.CosineAnnealingLR(o, T_max=20)],
        milestones=[6])),
    ("SequentialLR-three", lambda m, o: m.SequentialLR(
        o, [m.ConstantLR(o, factor=0.5, total_iters=4), m.LambdaLR(o, lambda e: 1 / (e + 1)),
            m.MultiStepLR(o, milestones=[2, 5]), m.ExponentialLR(o, gamma=0.9)],
        milestones=[5, 11, 20])),
]


def _torch_optimizer(torch, lrs=LRS3):
    groups = [{"params": [torch.zeros(2, requires_grad=True)], "lr": lr} for lr in lrs]
    return torch.optim.SGD(groups, lr=lrs[0])


def _lr_sequence(opt, sched, steps):
    out = []
    for _ in range(steps):
        assert sched.get_last_lr() == [g["lr"] for g in opt.param_groups]
        out.append([g["lr"] for g in opt.param_groups])
        opt.step()
        sched.step()
    return out


@pytest.mark.parametrize("name, make", TORCH_SCHEDULERS_3_GROUPS,
                         ids=[name for name, _ in TORCH_SCHEDULERS_3_GROUPS])
def test_new_schedulers_match_pytorch_with_several_groups(name, make):
    torch = pytest.importorskip("torch")
    opt = make_optimizer(lrs=LRS3)
    ours = _lr_sequence(opt, make(lr_scheduler, opt), 30)
    topt = _torch_optimizer(torch)
    theirs = _lr_sequence(topt, make(torch.optim.lr_scheduler, topt), 30)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-18)


@pytest.mark.parametrize("name, make", TORCH_SCHEDULERS_3_GROUPS,
                         ids=[name for name, _ in TORCH_SCHEDULERS_3_GROUPS])
def test_new_schedulers_state_dicts_have_torchs_keys_and_resume_like_torch(name, make):
    """Save after 13 steps, rebuild, load: the next 17 steps equal torch's uninterrupted
    run."""
    torch = pytest.importorskip("torch")
    topt = _torch_optimizer(torch)
    tsched = make(torch.optim.lr_scheduler, topt)
    theirs = _lr_sequence(topt, tsched, 30)

    opt = make_optimizer(lrs=LRS3)
    sched = make(lr_scheduler, opt)
    _lr_sequence(opt, sched, 13)
    opt_state, sched_state = opt.state_dict(), sched.state_dict()
    torch_keys = set(tsched.state_dict()) - {"_get_lr_called_within_step"}
    assert set(sched_state) == torch_keys
    opt2 = make_optimizer(lrs=LRS3)
    sched2 = make(lr_scheduler, opt2)
    opt2.load_state_dict(opt_state)
    sched2.load_state_dict(sched_state)
    assert sched2.get_last_lr() == theirs[13]
    np.testing.assert_allclose(_lr_sequence(opt2, sched2, 17), theirs[13:], rtol=1e-12,
                               atol=1e-18)


PLATEAU_METRICS = [5, 4, 4, 4, 4, 3.9999, 3.5, 3.5, 3.5, 3.5, 3.6, 3.7, 2, 2, 2.0001, 2, 2,
                   2, 2, 2, 1, 1, 1.5, 1, 1, 0.9, 1, 1, 1, 1, 1, 1]


@pytest.mark.parametrize("kwargs", [
    {},
    dict(patience=2),
    dict(mode="max", patience=1, cooldown=2, factor=0.5, min_lr=[0.01, 0.001, 0.2]),
    dict(patience=0, threshold_mode="abs", threshold=0.1, cooldown=1, min_lr=0.004),
    dict(mode="max", threshold_mode="abs", threshold=0.5, patience=0, factor=0.3),
    dict(patience=1, factor=0.999999, eps=1e-3),
])
def test_reduce_lr_on_plateau_matches_pytorch(kwargs):
    torch = pytest.importorskip("torch")
    opt = make_optimizer(lrs=LRS3)
    sched = lr_scheduler.ReduceLROnPlateau(opt, **kwargs)
    topt = _torch_optimizer(torch)
    tsched = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, **kwargs)
    assert sched.get_last_lr() == tsched.get_last_lr()
    for i, metric in enumerate(PLATEAU_METRICS):
        opt.step()
        topt.step()
        sched.step(Tensor(np.float32(metric)) if i % 2 else metric)
        tsched.step(torch.tensor(metric) if i % 2 else metric)
        assert sched.get_last_lr() == tsched.get_last_lr() == lrs_of(opt), i
        assert (sched.best, sched.num_bad_epochs, sched.cooldown_counter) == pytest.approx(
            (tsched.best, tsched.num_bad_epochs, tsched.cooldown_counter)), i
    assert set(sched.state_dict()) == set(tsched.state_dict())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sched.step(0.0, epoch=40)
        tsched.step(0.0, epoch=40)
    assert sched.last_epoch == tsched.last_epoch == 40


@pytest.mark.parametrize("name, epochs", [("MultiStepLR", [7, 2, 11, 0]),
                                          ("ConstantLR", [3, 8, 1, 5])])
def test_deprecated_step_with_epoch_matches_pytorch(name, epochs):
    torch = pytest.importorskip("torch")
    kwargs = dict(milestones=[2, 5, 5, 9]) if name == "MultiStepLR" else dict(factor=0.3)
    opt = make_optimizer(lrs=LRS3)
    sched = getattr(lr_scheduler, name)(opt, **kwargs)
    topt = _torch_optimizer(torch)
    tsched = getattr(torch.optim.lr_scheduler, name)(topt, **kwargs)
    opt.step()
    topt.step()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for epoch in epochs:
            sched.step(epoch)
            tsched.step(epoch)
            np.testing.assert_allclose(sched.get_last_lr(), tsched.get_last_lr(),
                                       rtol=1e-14)
