"""tinygrad_fm.jit: a captured step replays the eager step bit for bit, and refuses what
its replay could not reproduce."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_fm as tg
from tinygrad_fm import _recording, nn, optim
from tinygrad_fm.jit import CaptureError, jit
from tinygrad_fm.nn import functional as F
from tinygrad_fm.tensor import Tensor


def mlp(seed=0, dropout=0.0):
    tg.manual_seed(seed)
    layers = [nn.Linear(12, 16), nn.Tanh()]
    if dropout:
        layers.append(nn.Dropout(dropout))
    layers += [nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 5)]
    return nn.Sequential(*layers)


def data(n=40, seed=1):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 12)).astype(np.float32), rng.integers(0, 5, n)


def batches(x, y, size):
    for start in range(0, len(x), size):
        yield x[start:start + size], y[start:start + size]


def make_step(model, optimizer, scheduler=None):
    def step(x, y):
        loss = F.cross_entropy(model(Tensor(x)), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        return loss
    return step


def train(captured: bool, epochs=3, optimizer_cls=optim.Adam, dropout=0.0, size=16,
          scheduler_cls=None, **kwargs):
    model = mlp(dropout=dropout)
    optimizer = optimizer_cls(model.parameters(), **kwargs)
    scheduler = scheduler_cls(optimizer) if scheduler_cls else None
    step = make_step(model, optimizer, scheduler)
    if captured:
        step = jit(step)
    x, y = data()
    tg.manual_seed(7)  # the dropout masks' stream
    losses = []
    for _ in range(epochs):
        for xb, yb in batches(x, y, size):  # 16, 16, 8: two signatures
            losses.append(step(xb, yb).data.copy())
    return model, losses, step


def assert_same_training(eager, captured):
    (model_a, losses_a, _), (model_b, losses_b, _) = eager, captured
    for a, b in zip(model_a.parameters(), model_b.parameters()):
        np.testing.assert_array_equal(a.data, b.data)
        np.testing.assert_array_equal(a.grad.data, b.grad.data)
    np.testing.assert_array_equal(np.array(losses_a), np.array(losses_b))


@pytest.mark.parametrize("fused", [None, False])
def test_captured_mlp_training_is_bit_identical_to_eager(fused):
    eager = train(False, fused=fused)
    captured = train(True, fused=fused)
    assert_same_training(eager, captured)
    step = captured[2]
    assert step.captures == 2  # batch 16 and the last batch of 8, each replayed


@pytest.mark.parametrize("optimizer_cls, kwargs", [
    (optim.SGD, dict(lr=0.1, momentum=0.9, nesterov=True)),
    (optim.RMSprop, dict(lr=0.01, centered=True)),
    (optim.AdamW, dict(lr=0.01, amsgrad=True)),
    (optim.NAdam, dict(lr=0.01, weight_decay=0.1)),
])
def test_every_optimizer_replays_exactly(optimizer_cls, kwargs):
    assert_same_training(train(False, optimizer_cls=optimizer_cls, **kwargs),
                         train(True, optimizer_cls=optimizer_cls, **kwargs))


def test_dropout_masks_are_drawn_at_every_replay_from_the_same_stream():
    eager = train(False, dropout=0.3)
    captured = train(True, dropout=0.3)
    assert_same_training(eager, captured)
    # fresh masks at every replay: two replays of one batch differ
    model = mlp(dropout=0.5)
    forward = jit(lambda x: model(Tensor(x)))
    x = data()[0][:4]
    outs = [forward(x).data.copy() for _ in range(4)]
    assert not np.array_equal(outs[2], outs[3])


def test_a_scheduler_inside_or_outside_the_step_changes_the_learning_rate_of_the_replay():
    def one_cycle(opt):
        return optim.lr_scheduler.OneCycleLR(opt, max_lr=0.05, total_steps=20)
    assert_same_training(train(False, scheduler_cls=one_cycle),
                         train(True, scheduler_cls=one_cycle))
    # outside: the replay reads the group's lr at every call
    results = []
    for captured in (False, True):
        model = mlp()
        opt = optim.SGD(model.parameters(), lr=0.1)
        step = make_step(model, opt)
        step = jit(step) if captured else step
        x, y = data()
        for epoch in range(4):
            step(x[:16], y[:16])
            opt.param_groups[0]["lr"] *= 0.5
        results.append([p.data.copy() for p in model.parameters()])
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


def test_gradient_accumulation_broadcasting_and_reuse_replay_exactly():
    def run(captured):
        tg.manual_seed(3)
        w = Tensor(np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32),
                   requires_grad=True)
        b = Tensor(np.ones(4, dtype=np.float32), requires_grad=True)

        def step(x):  # no zero_grad: gradients accumulate across calls
            h = x @ w + b  # b broadcast over the rows
            loss = (h * h + h.tanh() * x.sum(axis=1, keepdims=True)).mean()  # h used twice
            loss.backward()
            return loss, h

        step = jit(step) if captured else step
        rng = np.random.default_rng(5)
        outs = [step(Tensor(rng.standard_normal((6, 3)).astype(np.float32))) for _ in range(5)]
        return w.grad.data.copy(), b.grad.data.copy(), [o[0].data for o in outs]

    for a, b in zip(run(False), run(True)):
        np.testing.assert_array_equal(np.array(a), np.array(b))


def test_gradients_reach_input_tensors_that_require_grad():
    w = Tensor(np.full((3, 2), 0.5, dtype=np.float32), requires_grad=True)

    @jit
    def step(x):
        (x @ w).sum().backward()

    for i in range(4):
        x = Tensor(np.full((2, 3), float(i), dtype=np.float32), requires_grad=True)
        step(x)
        np.testing.assert_array_equal(x.grad.data, np.ones((2, 2)) @ w.data.T)


def test_values_read_inside_the_step_are_refused():
    model = mlp()
    x, y = data()

    @jit
    def logs(x, y):
        loss = F.cross_entropy(model(Tensor(x)), y)
        print(loss.item())

    @jit
    def branches(x, y):
        loss = F.cross_entropy(model(Tensor(x)), y)
        if loss > 1:
            loss = loss * 2
        return loss

    for fn in (logs, branches):
        with pytest.raises(CaptureError, match="Return the tensor and read it after"):
            fn(x, y)
        assert _recording.recorder is None  # the hook is off again


def test_random_numbers_drawn_outside_ops_are_refused():
    model = mlp()

    @jit
    def noisy(x):
        return model(Tensor(x) + tg.randn(*x.shape))

    with pytest.raises(CaptureError, match="random numbers were drawn outside an op"):
        noisy(data()[0])


def test_constants_made_from_data_and_value_dependent_control_flow_are_refused():
    model = mlp()
    x, y = data()

    @jit
    def rescaled(x):  # a NumPy computation on the input: the replay would freeze it
        return model(Tensor(x * 2))

    rescaled(x[:8])
    with pytest.raises(CaptureError, match="argument 0 of Linear changed"):
        rescaled(x[8:16])

    calls = []

    @jit
    def alternating(x):
        calls.append(1)
        h = model(Tensor(x))
        return h.tanh() if len(calls) % 2 else h.relu()

    alternating(x[:8])
    with pytest.raises(CaptureError, match="Tanh, then Relu"):
        alternating(x[:8])


def test_in_place_arithmetic_is_refused():
    w = Tensor(np.ones(3, dtype=np.float32))

    @jit
    def shifts(x):
        w.add_(1)
        return x * w

    with pytest.raises(CaptureError, match="in-place"):
        shifts(Tensor(np.ones(3, dtype=np.float32)))


@pytest.mark.parametrize("clip", [lambda ps: nn.utils.clip_grad_norm_(ps, 0.01),
                                  lambda ps: nn.utils.clip_grad_value_(ps, 0.01)])
def test_gradient_clipping_inside_the_step_is_refused_and_works_after_it(clip):
    # Clipping rebinds .grad outside the recorded ops: a replay would silently skip it.
    model = mlp()
    optimizer = optim.SGD(model.parameters(), lr=1.0)
    x, y = data()

    def step(x, y):
        loss = F.cross_entropy(model(Tensor(x)), y)
        optimizer.zero_grad()
        loss.backward()
        clip(model.parameters())
        optimizer.step()
        return loss

    with pytest.raises(CaptureError, match="clip_grad_.*Capture the forward and backward"):
        jit(step)(x, y)
    assert _recording.recorder is None

    def run(captured):  # forward and backward captured, clipping and the step after it
        model = mlp()
        optimizer = optim.SGD(model.parameters(), lr=1.0)

        def forward_backward(x, y):
            loss = F.cross_entropy(model(Tensor(x)), y)
            optimizer.zero_grad()
            loss.backward()
            return loss

        forward_backward = jit(forward_backward) if captured else forward_backward
        losses = []
        for _ in range(3):
            for xb, yb in batches(x, y, 8):
                losses.append(forward_backward(xb, yb).data.copy())
                clip(model.parameters())
                optimizer.step()
        return model, losses, forward_backward

    assert_same_training(run(False), run(True))


def test_a_new_signature_records_again_and_enabled_false_runs_eagerly():
    calls = []

    def double(x):
        calls.append(x.shape)
        return x * 2

    captured = jit(double)
    for shape in [(2,), (2,), (2,), (2,), (3,), (3,), (3,)]:
        out = captured(Tensor(np.arange(shape[0], dtype=np.float32)))
        np.testing.assert_array_equal(out.data, 2 * np.arange(shape[0]))
    assert calls == [(2,), (2,), (3,), (3,)]  # two recordings per shape, then replays
    assert captured.captures == 2
    captured.enabled = False
    captured(Tensor(np.zeros(2, dtype=np.float32)))
    assert len(calls) == 5
    eager = jit(enabled=False)(double)
    for _ in range(3):
        eager(Tensor(np.zeros(2, dtype=np.float32)))
    assert len(calls) == 8 and eager.captures == 0


def test_captured_training_matches_pytorch():
    torch = pytest.importorskip("torch")
    model = mlp()
    theirs = torch.nn.Sequential(torch.nn.Linear(12, 16), torch.nn.Tanh(),
                                 torch.nn.Linear(16, 16), torch.nn.Tanh(),
                                 torch.nn.Linear(16, 5))
    with torch.no_grad():
        for a, b in zip(theirs.parameters(), model.parameters()):
            a.copy_(torch.from_numpy(b.data))
    opt = optim.Adam(model.parameters(), lr=0.01)
    their_opt = torch.optim.Adam(theirs.parameters(), lr=0.01)
    step = jit(make_step(model, opt))
    x, y = data()
    for _ in range(3):
        for xb, yb in batches(x, y, 16):
            ours = step(xb, yb)
            loss = torch.nn.functional.cross_entropy(theirs(torch.from_numpy(xb)),
                                                     torch.from_numpy(yb))
            their_opt.zero_grad()
            loss.backward()
            their_opt.step()
            assert ours.item() == pytest.approx(loss.item(), rel=1e-5)
    for a, b in zip(model.parameters(), theirs.parameters()):
        np.testing.assert_allclose(a.data, b.detach().numpy(), atol=1e-5)


def test_captured_cnn_training_is_bit_identical_to_eager():
    def run(captured):
        tg.manual_seed(0)
        model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Conv2d(4, 6, 3), nn.Tanh(), nn.Flatten(),
                              nn.Linear(6 * 2 * 2, 5))
        optimizer = optim.Adam(model.parameters(), lr=0.01)
        step = make_step(model, optimizer)
        step = jit(step) if captured else step
        rng = np.random.default_rng(2)
        x = rng.standard_normal((24, 1, 8, 8)).astype(np.float32)
        y = rng.integers(0, 5, 24)
        losses = [step(xb, yb).data.copy() for _ in range(3) for xb, yb in batches(x, y, 8)]
        return model, losses, step

    assert_same_training(run(False), run(True))


@pytest.mark.parametrize("momentum", [0.1, None])
def test_batch_norm_running_statistics_are_replayed_in_training_and_read_in_eval(momentum):
    def run(captured):
        tg.manual_seed(0)
        model = nn.Sequential(nn.Linear(12, 6), nn.BatchNorm1d(6, momentum=momentum),
                              nn.Tanh(), nn.Linear(6, 5))
        optimizer = optim.SGD(model.parameters(), lr=0.1)
        step = make_step(model, optimizer)
        if captured:
            step = jit(step)
        x, y = data()
        losses = [step(xb, yb).data.copy() for _ in range(3) for xb, yb in batches(x, y, 8)]
        return model, losses, step

    eager, captured = run(False), run(True)
    assert captured[2].captures == 1  # one signature (40 = 5 batches of 8), replayed
    assert_same_training(eager, captured)
    for a, b in zip(eager[0].buffers(), captured[0].buffers()):  # updated at every replay
        np.testing.assert_array_equal(a.data, b.data)
    assert int(captured[0][1].num_batches_tracked.data) == 15

    model = captured[0].eval()
    x = data()[0][:8]
    eval_forward = jit(lambda x: model(Tensor(x)))
    for _ in range(3):
        np.testing.assert_array_equal(eval_forward(x).data, model(Tensor(x)).data)
    # the replay reads the running statistics where they live
    model[1].running_mean.data[...] += 1.0
    np.testing.assert_array_equal(eval_forward(x).data, model(Tensor(x)).data)
    # the replay reads the running statistics where they live
    model[1].running_mean.data[...] += 1.0
    np.testing.assert_array_equal(eval_forward(x).data, model(Tensor(x)).data)


def test_detached_tensors_are_recorded_values_not_constants():
    w = Tensor(np.full(3, 0.5, dtype=np.float32), requires_grad=True)

    def step(x):
        h = x * w
        target = h.detach() * 2  # shares h's array: must follow it at every replay
        loss = ((h - target) ** 2).sum()
        loss.backward()
        return loss

    captured = jit(step)
    for i in range(4):
        x = Tensor(np.full(3, float(i + 1), dtype=np.float32))
        w.grad = None
        expected = step(x).data.copy(), w.grad.data.copy()
        w.grad = None
        got = captured(x)
        np.testing.assert_array_equal(got.data, expected[0])
        np.testing.assert_array_equal(w.grad.data, expected[1])


def test_a_replayed_optimizer_step_bumps_the_parameters_versions():
    model = mlp()
    opt = optim.Adam(model.parameters(), lr=0.01)
    step = jit(make_step(model, opt))
    x, y = data()
    for _ in range(3):
        step(x[:8], y[:8])
    stale = F.cross_entropy(model(Tensor(x[:8])), y[:8])  # saves the weights
    step(x[:8], y[:8])  # a replay changes them in place
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        stale.backward()


def test_accuracy_counts_and_comparisons_are_replayed_not_frozen():
    model = mlp()
    opt = optim.SGD(model.parameters(), lr=0.1)

    def step(x, y):
        logits = model(Tensor(x))
        loss = F.cross_entropy(logits, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        hits = logits.argmax(axis=1).eq(y).sum()
        return loss, hits, (logits // 1).astype(np.int64).argmin(axis=1), logits > 0

    captured = jit(step)
    x, y = data(64)
    for start in range(0, 64, 8):
        ours = captured(x[start:start + 8], y[start:start + 8])
        assert ours[1].data.dtype.kind in "iu"
        assert 0 <= ours[1].item() <= 8 and ours[3].data.dtype == bool
    assert captured.captures == 1
    # the counts follow the data: compare a replay with the eager step on fresh weights
    model_a, model_b = mlp(), mlp()
    results = []
    for model_, wrap in ((model_a, False), (model_b, True)):
        opt_ = optim.SGD(model_.parameters(), lr=0.1)

        def step_(x, y, model_=model_, opt_=opt_):
            logits = model_(Tensor(x))
            loss = F.cross_entropy(logits, y)
            opt_.zero_grad()
            loss.backward()
            opt_.step()
            return logits.argmax(axis=1).eq(y).sum()

        fn = jit(step_) if wrap else step_
        results.append([fn(x[s:s + 8], y[s:s + 8]).item() for s in range(0, 64, 8)])
    assert results[0] == results[1] and len(set(results[0])) > 1


def test_an_op_given_a_list_is_refused_as_a_side_channel():
    class Collect(tg.autograd.ArrayFunction):
        @staticmethod
        def forward(ctx, x, sink):
            sink.append(x.sum())
            return x * 2

    @jit
    def step(x):
        return Collect.apply(x, [])

    with pytest.raises(CaptureError, match="a list argument"):
        step(Tensor(np.ones(3, dtype=np.float32)))


def test_a_gradient_hook_is_refused_rather_than_skipped():
    weight = Tensor(np.ones((3, 2), np.float32), requires_grad=True)
    handle = weight.register_hook(lambda grad: grad * 2)

    @tg.jit
    def step(x):
        (x @ weight).sum().backward()

    with pytest.raises(tg.jit.CaptureError, match="register_hook"):
        step(np.ones((4, 3), np.float32))
    handle.remove()
    weight.grad = None
    step(np.ones((4, 3), np.float32))  # without the hook it records
    np.testing.assert_array_equal(weight.grad.data, 4.0)
