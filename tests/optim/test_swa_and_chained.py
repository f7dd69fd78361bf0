"""ChainedScheduler and torch.optim.swa_utils (AveragedModel with the default, custom and
EMA averages, use_buffers, SWALR, update_bn) step for step against PyTorch from the same
weights and inputs."""

import numpy as np
import pytest

import tinygrad_fm as tg
from tinygrad_fm import Tensor, nn, optim
from tinygrad_fm.optim import lr_scheduler, swa_utils

torch = pytest.importorskip("torch")


def _optimizers(lrs=(0.1, 0.05)):
    """An SGD over two groups in each framework."""
    ours = optim.SGD([{"params": [Tensor(np.zeros(2, np.float32), requires_grad=True)],
                       "lr": lr} for lr in lrs], lr=lrs[0])
    theirs = torch.optim.SGD([{"params": [torch.zeros(2, requires_grad=True)], "lr": lr}
                              for lr in lrs], lr=lrs[0])
    return ours, theirs


def _lr_trace(optimizer, scheduler, steps):
    trace = []
    for _ in range(steps):
        optimizer.step()
        scheduler.step()
        trace.append(scheduler.get_last_lr())
    return trace


# --------------------------------------------------------------------------- ChainedScheduler


@pytest.mark.parametrize("make", [
    lambda lib, opt: [lib.optim.lr_scheduler.ConstantLR(opt, factor=0.1, total_iters=4),
                      lib.optim.lr_scheduler.ExponentialLR(opt, gamma=0.9)],
    lambda lib, opt: [lib.optim.lr_scheduler.LinearLR(opt, 0.2, total_iters=3),
                      lib.optim.lr_scheduler.StepLR(opt, 2, 0.5),
                      lib.optim.lr_scheduler.MultiplicativeLR(opt, lambda e: 0.95)],
])
def test_chained_scheduler_matches_torch(make):
    ours_opt, theirs_opt = _optimizers()
    ours = lr_scheduler.ChainedScheduler(make(tg, ours_opt))
    theirs = torch.optim.lr_scheduler.ChainedScheduler(make(torch, theirs_opt), theirs_opt)
    np.testing.assert_allclose(ours.get_last_lr(), theirs.get_last_lr(), rtol=1e-12)
    np.testing.assert_allclose(_lr_trace(ours_opt, ours, 10), _lr_trace(theirs_opt, theirs, 10),
                               rtol=1e-12)


def test_chained_scheduler_state_dict_resumes():
    def build():
        opt, _ = _optimizers()
        return opt, lr_scheduler.ChainedScheduler([
            lr_scheduler.ConstantLR(opt, factor=0.5, total_iters=3),
            lr_scheduler.ExponentialLR(opt, gamma=0.8)])

    opt, chained = build()
    _lr_trace(opt, chained, 2)
    saved_opt, saved = opt.state_dict(), chained.state_dict()
    assert len(saved["_schedulers"]) == 2 and "optimizer" not in saved
    expected = _lr_trace(opt, chained, 4)
    opt2, resumed = build()
    opt2.load_state_dict(saved_opt)
    resumed.load_state_dict(saved)
    np.testing.assert_allclose(_lr_trace(opt2, resumed, 4), expected, rtol=1e-12)


def test_chained_scheduler_rejects_bad_schedulers():
    opt, _ = _optimizers()
    other, _ = _optimizers()
    with pytest.raises(ValueError, match="at least one scheduler"):
        lr_scheduler.ChainedScheduler([])
    with pytest.raises(ValueError, match="same optimizer"):
        lr_scheduler.ChainedScheduler([lr_scheduler.StepLR(opt, 2),
                                       lr_scheduler.StepLR(other, 2)])
    with pytest.raises(ValueError, match="ReduceLROnPlateau"):
        lr_scheduler.ChainedScheduler([lr_scheduler.ReduceLROnPlateau(opt)])


# --------------------------------------------------------------------------- AveragedModel


def _net(lib):
    return lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.BatchNorm1d(4), lib.nn.ReLU(),
                             lib.nn.Linear(4, 2))


def _same_nets():
    tg.manual_seed(0)
    ours, theirs = _net(tg), _net(torch)
    theirs.load_state_dict({k: torch.tensor(np.asarray(v.data))
                            for k, v in ours.state_dict().items()})
    return ours, theirs


def _train_and_average(averaged_factory, steps=4):
    """Train the same net in both frameworks and fold it into an averaged copy after each
    step; the averaged models' state dicts."""
    rng = np.random.default_rng(0)
    batches = [rng.standard_normal((5, 3)).astype(np.float32) for _ in range(steps)]
    ours, theirs = _same_nets()
    ours_avg, theirs_avg = averaged_factory(tg, ours), averaged_factory(torch, theirs)
    ours_opt = optim.SGD(ours.parameters(), lr=0.1, momentum=0.9)
    theirs_opt = torch.optim.SGD(theirs.parameters(), lr=0.1, momentum=0.9)
    for x in batches:
        ours_opt.zero_grad()
        ours(Tensor(x)).square().sum().backward()
        ours_opt.step()
        theirs_opt.zero_grad()
        theirs(torch.tensor(x)).square().sum().backward()
        theirs_opt.step()
        ours_avg.update_parameters(ours)
        theirs_avg.update_parameters(theirs)
    return ours_avg, theirs_avg


def _assert_same_state(ours, theirs, rtol=1e-4):
    # float32 training through BatchNorm: the frameworks' roundings differ by ~1e-6
    ours_state, theirs_state = ours.state_dict(), theirs.state_dict()
    assert list(ours_state) == list(theirs_state)
    for key in theirs_state:
        np.testing.assert_allclose(np.asarray(ours_state[key].data), theirs_state[key].numpy(),
                                   rtol=rtol, atol=2e-5, err_msg=key)
        assert np.asarray(ours_state[key].data).dtype == np.dtype(
            str(theirs_state[key].dtype).removeprefix("torch."))


@pytest.mark.parametrize("factory", [
    lambda lib, m: lib.optim.swa_utils.AveragedModel(m),
    lambda lib, m: lib.optim.swa_utils.AveragedModel(m, use_buffers=True),
    lambda lib, m: lib.optim.swa_utils.AveragedModel(
        m, multi_avg_fn=lib.optim.swa_utils.get_ema_multi_avg_fn(0.9)),
    lambda lib, m: lib.optim.swa_utils.AveragedModel(
        m, multi_avg_fn=lib.optim.swa_utils.get_ema_multi_avg_fn(0.8), use_buffers=True),
    lambda lib, m: lib.optim.swa_utils.AveragedModel(
        m, avg_fn=lib.optim.swa_utils.get_ema_avg_fn(0.7)),
    lambda lib, m: lib.optim.swa_utils.AveragedModel(
        m, avg_fn=lambda avg, cur, n: 0.5 * avg + 0.5 * cur),
    lambda lib, m: lib.optim.swa_utils.AveragedModel(
        m, multi_avg_fn=lib.optim.swa_utils.get_swa_multi_avg_fn()),
], ids=["swa", "swa_buffers", "ema_multi", "ema_multi_buffers", "ema_avg_fn", "custom",
        "swa_multi"])
def test_averaged_model_matches_torch(factory):
    ours, theirs = _train_and_average(factory)
    _assert_same_state(ours, theirs)
    assert int(ours.n_averaged.data) == 4
    x = np.random.default_rng(1).standard_normal((6, 3)).astype(np.float32)
    ours.eval(), theirs.eval()
    np.testing.assert_allclose(ours(Tensor(x)).data, theirs(torch.tensor(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)


def test_averaged_model_default_is_the_mean_of_the_snapshots():
    model = nn.Linear(2, 2)
    averaged = swa_utils.AveragedModel(model)
    snapshots = []
    for value in (1.0, 2.0, 6.0):
        model.weight.data[...] = value
        snapshots.append(model.weight.data.copy())
        averaged.update_parameters(model)
    np.testing.assert_allclose(averaged.module.weight.data, np.mean(snapshots, 0))
    assert averaged.module is not model and model.weight.data[0, 0] == 6.0
    with pytest.raises(AssertionError, match="Only one of avg_fn and multi_avg_fn"):
        swa_utils.AveragedModel(model, avg_fn=swa_utils.get_swa_avg_fn(),
                                multi_avg_fn=swa_utils.get_swa_multi_avg_fn())
    with pytest.raises(ValueError, match=r"\[0,1\] range"):
        swa_utils.get_ema_multi_avg_fn(1.5)


# --------------------------------------------------------------------------- SWALR, update_bn


@pytest.mark.parametrize("kwargs", [dict(swa_lr=0.01), dict(swa_lr=[0.02, 0.001], anneal_epochs=3,
                                                           anneal_strategy="linear"),
                                    dict(swa_lr=0.05, anneal_epochs=0)])
def test_swalr_matches_torch(kwargs):
    ours_opt, theirs_opt = _optimizers()
    ours = swa_utils.SWALR(ours_opt, **kwargs)
    theirs = torch.optim.swa_utils.SWALR(theirs_opt, **kwargs)
    np.testing.assert_allclose(ours.get_last_lr(), theirs.get_last_lr(), rtol=1e-12)
    np.testing.assert_allclose(_lr_trace(ours_opt, ours, 14), _lr_trace(theirs_opt, theirs, 14),
                               rtol=1e-12)
    state = ours.state_dict()
    assert "anneal_func" not in state and "optimizer" not in state
    ours.load_state_dict(state)
    assert ours.anneal_func is not None


def test_swalr_rejects_bad_arguments():
    opt, _ = _optimizers()
    with pytest.raises(ValueError, match="'cos' or 'linear'"):
        swa_utils.SWALR(opt, 0.1, anneal_strategy="step")
    with pytest.raises(ValueError, match="anneal_epochs must be equal or greater than 0"):
        swa_utils.SWALR(opt, 0.1, anneal_epochs=-1)
    with pytest.raises(ValueError, match="same length as optimizer.param_groups"):
        swa_utils.SWALR(opt, [0.1, 0.2, 0.3])


def test_update_bn_matches_torch():
    ours, theirs = _same_nets()
    rng = np.random.default_rng(2)
    data = [rng.standard_normal((8, 3)).astype(np.float32) * 3 + 1 for _ in range(3)]
    ours.eval(), theirs.eval()
    swa_utils.update_bn([(Tensor(x), 0) for x in data], ours)
    torch.optim.swa_utils.update_bn([(torch.tensor(x), 0) for x in data], theirs)
    _assert_same_state(ours, theirs)
    assert not ours.training and ours[1].momentum == 0.1
    assert int(ours[1].num_batches_tracked.data) == 3
    swa_utils.update_bn([Tensor(x) for x in data], nn.Linear(3, 3))  # no BatchNorm: nothing
