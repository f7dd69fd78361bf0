"""torch.amp as on a CPU-only PyTorch: GradScaler("cpu") scales, unscales, skips the steps
with inf/NaN gradients and moves its scale as PyTorch's does; the CUDA forms are
disabled pass-throughs with PyTorch's warnings; autocast runs the block."""

import numpy as np
import pytest

import tinygrad_fm as tg

torch = pytest.importorskip("torch")


def _model(framework):
    model = framework.nn.Sequential(framework.nn.Linear(3, 4), framework.nn.Tanh(),
                                    framework.nn.Linear(4, 1))
    rng = np.random.default_rng(0)
    with framework.no_grad():
        for p in model.parameters():
            p.copy_(framework.tensor(rng.normal(size=tuple(p.shape)).astype(np.float32)))
    return model


def _train(framework, scaler, poison_steps=(), steps=6):
    """Adam steps on a fixed batch; at ``poison_steps`` one gradient is made inf after
    backward. Returns (the scale after each update, final parameters)."""
    model = _model(framework)
    optimizer = framework.optim.Adam(model.parameters(), lr=0.05)
    x = framework.tensor(np.random.default_rng(1).normal(size=(5, 3)).astype(np.float32))
    scales = []
    for step in range(steps):
        optimizer.zero_grad()
        loss = (model(x) ** 2).mean()
        if scaler is None:
            loss.backward()
            optimizer.step()
            continue
        scaler.scale(loss).backward()
        if step in poison_steps:
            with framework.no_grad():
                next(model.parameters()).grad[0, 0] = float("inf")
        scaler.step(optimizer)
        scaler.update()
        scales.append(scaler.get_scale())
    to_numpy = (lambda t: t.detach().numpy()) if framework is torch else (lambda t: t.data)
    return scales, [to_numpy(p).copy() for p in model.parameters()]


def test_a_cpu_scaler_takes_the_unscaled_steps_exactly():
    _, plain = _train(tg, None)
    scales, scaled = _train(tg, tg.amp.GradScaler("cpu"))
    assert scales == [65536.0] * 6
    for a, b in zip(plain, scaled):
        np.testing.assert_array_equal(a, b)


def test_skipped_steps_and_the_scale_follow_torch():
    kwargs = dict(init_scale=1024.0, growth_interval=2)
    ours_scales, ours = _train(tg, tg.amp.GradScaler("cpu", **kwargs), poison_steps=(1, 4))
    theirs_scales, theirs = _train(torch, torch.amp.GradScaler("cpu", **kwargs),
                                   poison_steps=(1, 4))
    assert ours_scales == theirs_scales == [1024.0, 512.0, 512.0, 1024.0, 512.0, 512.0]
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_state_dict_round_trips_with_torchs_keys():
    scaler = tg.amp.GradScaler("cpu", init_scale=8.0, growth_interval=3)
    scaler.update()
    state = scaler.state_dict()
    assert set(state) == set(torch.amp.GradScaler("cpu").state_dict())
    fresh = tg.amp.GradScaler("cpu")
    fresh.load_state_dict(state)
    assert fresh.state_dict() == state and fresh.get_scale() == 8.0
    with pytest.raises(RuntimeError, match="already been called"):
        model = _model(tg)
        optimizer = tg.optim.SGD(model.parameters(), lr=0.1)
        scaler.scale(model(tg.ones(2, 3)).sum()).backward()
        scaler.unscale_(optimizer)
        scaler.unscale_(optimizer)


def test_cuda_forms_are_disabled_pass_throughs_as_without_cuda():
    with pytest.warns(UserWarning, match="CUDA is not available.  Disabling"):
        scaler = tg.amp.GradScaler()
    with pytest.warns(FutureWarning, match="torch.cuda.amp.GradScaler"):
        with pytest.warns(UserWarning):
            tg.cuda.amp.GradScaler()
    assert not scaler.is_enabled() and scaler.get_scale() == 1.0
    loss = tg.tensor(3.0)
    assert scaler.scale(loss) is loss and scaler.state_dict() == {}
    _, plain = _train(tg, None)
    with pytest.warns(UserWarning):
        _, through = _train(tg, tg.amp.GradScaler("cuda"))
    for a, b in zip(plain, through):
        np.testing.assert_array_equal(a, b)
    with pytest.warns(UserWarning, match="Disabling autocast"):
        with tg.autocast("cuda"):
            out = tg.ones(2, 2) @ tg.ones(2, 2)
    assert out.dtype == np.float32

    @tg.autocast("cpu", enabled=False)
    def product(a, b):
        return a @ b

    assert product(tg.ones(2, 2), tg.ones(2, 2)).dtype == np.float32
