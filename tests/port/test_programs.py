"""Small PyTorch programs, written as PyTorch code against a ``torch`` parameter, run
once with PyTorch and once with ``import tinygrad_fm as torch``: the same numbers come
out. Initial weights come from NumPy (copied in under no_grad, as a user porting a model
would load them), so both runs start from the same point."""

import math

import numpy as np
import pytest

import tinygrad_fm

real_torch = pytest.importorskip("torch")


def _weights(seed, *shapes):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(np.float32) * 0.3 for s in shapes]


def _load_weights(torch, model, arrays):
    with torch.no_grad():
        for p, a in zip(model.parameters(), arrays):
            p.copy_(torch.tensor(a))


def _both(program, *args, **kwargs):
    return program(real_torch, *args, **kwargs), program(tinygrad_fm, *args, **kwargs)


def _close(theirs, ours, rtol=1e-5, atol=1e-6):
    np.testing.assert_allclose(np.asarray(ours, dtype=np.float64),
                               np.asarray(theirs, dtype=np.float64), rtol=rtol, atol=atol)


# --------------------------------------------------------------------------- programs


def linear_regression(torch):
    rng = np.random.default_rng(0)
    X = torch.tensor(rng.standard_normal((64, 3)).astype(np.float32))
    true_w = torch.tensor([[2.0], [-1.0], [0.5]])
    y = X @ true_w + 0.3 + 0.01 * torch.tensor(rng.standard_normal((64, 1)).astype(np.float32))
    model = torch.nn.Linear(3, 1)
    _load_weights(torch, model, _weights(1, (1, 3), (1,)))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=10, gamma=0.5)
    loss_fn = torch.nn.MSELoss()
    losses = []
    for step in range(40):
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
    return losses + model.weight.detach().numpy().ravel().tolist() + [scheduler.get_last_lr()[0]]


def logistic_regression(torch):
    rng = np.random.default_rng(1)
    X = torch.tensor(rng.standard_normal((100, 2)).astype(np.float32))
    y = ((X[:, 0] + 2 * X[:, 1]) > 0).float().unsqueeze(1)
    model = torch.nn.Sequential(torch.nn.Linear(2, 1))
    _load_weights(torch, model, _weights(2, (1, 2), (1,)))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    criterion = torch.nn.BCEWithLogitsLoss()
    for _ in range(50):
        optimizer.zero_grad()
        logits = model(X)
        loss = criterion(logits, y)
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        predictions = (torch.sigmoid(model(X)) > 0.5).float()
        accuracy = (predictions == y).float().mean().item()
    return [loss.item(), accuracy]


def mlp_with_param_groups_onecycle_and_resume(torch, checkpoint):
    nn, F = torch.nn, torch.nn.functional

    class MLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.hidden = nn.Linear(4, 16)
            self.out = nn.Linear(16, 3)

        def forward(self, x):
            return self.out(F.relu(self.hidden(x)))

    rng = np.random.default_rng(3)
    X = torch.tensor(rng.standard_normal((32, 4)).astype(np.float32))
    y = torch.tensor(rng.integers(0, 3, 32))

    def build():
        model = MLP()
        _load_weights(torch, model, _weights(4, (16, 4), (16,), (3, 16), (3,)))
        decay = [p for n, p in model.named_parameters() if n.endswith("weight")]
        no_decay = [p for n, p in model.named_parameters() if n.endswith("bias")]
        optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                                       {"params": no_decay, "weight_decay": 0.0}], lr=1e-2)
        scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.05, total_steps=20)
        return model, optimizer, scheduler

    def train(model, optimizer, scheduler, steps):
        losses = []
        for _ in range(steps):
            optimizer.zero_grad()
            loss = F.cross_entropy(model(X), y)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=0.5)
            optimizer.step()
            scheduler.step()
            losses.append(loss.item())
        return losses

    model, optimizer, scheduler = build()
    losses = train(model, optimizer, scheduler, 10)
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(), "epoch": 10, "note": "halfway",
                "history": losses}, checkpoint)
    model, optimizer, scheduler = build()  # a fresh process would start here
    state = torch.load(checkpoint)
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    assert state["epoch"] == 10 and state["note"] == "halfway"
    losses = state["history"] + train(model, optimizer, scheduler, 10)
    with torch.no_grad():
        accuracy = (model(X).argmax(dim=1) == y).float().mean().item()
    return losses + [accuracy, scheduler.get_last_lr()[0]]


def autoencoder(torch):
    nn = torch.nn
    rng = np.random.default_rng(5)
    data = torch.tensor(rng.random((20, 8)).astype(np.float32))
    model = nn.Sequential(nn.Linear(8, 3), nn.Tanh(), nn.Linear(3, 8), nn.Sigmoid())
    _load_weights(torch, model, _weights(6, (3, 8), (3,), (8, 3), (8,)))
    optimizer = torch.optim.RMSprop(model.parameters(), lr=0.01)
    losses = []
    for _ in range(30):
        reconstruction = model(data)
        loss = nn.functional.mse_loss(reconstruction, data)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def causal_attention(torch):
    """One head of causal self-attention written by hand, the mask as people write it."""
    F = torch.nn.functional
    rng = np.random.default_rng(7)
    T, C = 5, 4
    x = torch.tensor(rng.standard_normal((2, T, C)).astype(np.float32), requires_grad=True)
    wq, wk, wv = (torch.tensor(w) for w in _weights(8, (C, C), (C, C), (C, C)))
    q, k, v = x @ wq, x @ wk, x @ wv
    scores = q @ k.transpose(-2, -1) / math.sqrt(C)
    mask = torch.tril(torch.ones(T, T))
    scores = scores.masked_fill(mask == 0, float("-inf"))
    attention = F.softmax(scores, dim=-1)
    out = attention @ v
    out.sum().backward()
    future = attention[:, torch.triu(torch.ones(T, T), diagonal=1) == 1]
    assert (future == 0).all()  # no position attends to a later one
    return out.detach().numpy().ravel().tolist() + x.grad.numpy().ravel().tolist()


def data_pipeline(torch):
    from_data = torch.utils.data
    rng = np.random.default_rng(9)
    features = torch.tensor(rng.standard_normal((30, 2)).astype(np.float32))
    labels = torch.tensor(rng.integers(0, 2, 30))
    dataset = from_data.TensorDataset(features, labels)
    train_set, val_set = from_data.random_split(dataset, [0.8, 0.2])
    assert len(train_set) == 24 and len(val_set) == 6
    loader = from_data.DataLoader(dataset, batch_size=8, shuffle=False)
    model = torch.nn.Linear(2, 2)
    _load_weights(torch, model, _weights(10, (2, 2), (2,)))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    seen = []
    for epoch in range(3):
        correct = 0
        for x, y in loader:
            assert y.dtype == torch.int64
            logits = model(x)
            loss = torch.nn.functional.cross_entropy(logits, y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            correct += (logits.argmax(1) == y).sum().item()
        seen.append(correct / len(dataset))
    shuffled = from_data.DataLoader(train_set, batch_size=5, shuffle=True, drop_last=True)
    assert sum(len(y) for _, y in shuffled) == 20
    return seen + [loss.item()]


def dtype_and_device_handling(torch):
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model = torch.nn.Linear(3, 2).to(device)
    _load_weights(torch, model, _weights(11, (2, 3), (2,)))
    x = torch.arange(6, dtype=torch.float32).reshape(2, 3).to(device)
    assert x.dtype == torch.float32 and str(x.device) == "cpu"
    double_model = model.double()
    out = double_model(x.double())
    assert out.dtype == torch.float64 and x.long().dtype == torch.int64
    assert x.int().dtype == torch.int32 and x.bool().dtype == torch.bool
    assert x.half().dtype == torch.float16 and x.to(torch.float64).dtype == torch.float64
    labels = torch.zeros(2, dtype=torch.long)
    y = out.type_as(x)
    return y.detach().cpu().numpy().ravel().tolist() + labels.tolist() + [x.sum().item()]


def padded_tagger(torch):
    """A token tagger on padded sequences: padding positions labelled -100 (the default
    ignore_index), rare tags weighted up, accuracy over the real positions only."""
    rng = np.random.default_rng(12)
    lengths = [5, 3, 6, 2]
    tokens = np.zeros((4, 6), np.int64)
    tags = np.full((4, 6), -100, np.int64)
    for row, n in enumerate(lengths):
        tokens[row, :n] = rng.integers(1, 10, n)
        tags[row, :n] = tokens[row, :n] % 3
    tokens, tags = torch.tensor(tokens), torch.tensor(tags)
    model = torch.nn.Sequential(torch.nn.Embedding(10, 8, padding_idx=0),
                                torch.nn.Linear(8, 3))
    _load_weights(torch, model, _weights(13, (10, 8), (3, 8), (3,)))
    criterion = torch.nn.CrossEntropyLoss(weight=torch.tensor([0.5, 1.0, 2.0]))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    losses = []
    for _ in range(15):
        logits = model(tokens)
        loss = criterion(logits.view(-1, 3), tags.view(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    real = tags != -100
    correct = (model(tokens).argmax(-1) == tags)[real].float().mean().item()
    per_token = torch.nn.functional.cross_entropy(model(tokens).transpose(1, 2), tags,
                                                  reduction="none")
    assert (per_token[~real] == 0).all()
    return losses + [correct] + per_token.detach().numpy().ravel().tolist()


def quickstart(torch):
    """PyTorch's quickstart tutorial (the device line, the model class, train() and
    test() as written there), on synthetic images instead of torchvision's download."""
    nn = torch.nn
    rng = np.random.default_rng(14)
    images = torch.tensor(rng.random((96, 1, 28, 28)).astype(np.float32))
    labels = torch.tensor(rng.integers(0, 10, 96))
    training_data = torch.utils.data.TensorDataset(images[:64], labels[:64])
    test_data = torch.utils.data.TensorDataset(images[64:], labels[64:])
    train_dataloader = torch.utils.data.DataLoader(training_data, batch_size=16)
    test_dataloader = torch.utils.data.DataLoader(test_data, batch_size=16)
    device = (torch.accelerator.current_accelerator().type
              if torch.accelerator.is_available() else "cpu")

    class NeuralNetwork(nn.Module):
        def __init__(self):
            super().__init__()
            self.flatten = nn.Flatten()
            self.linear_relu_stack = nn.Sequential(nn.Linear(28 * 28, 32), nn.ReLU(),
                                                   nn.Linear(32, 32), nn.ReLU(),
                                                   nn.Linear(32, 10))

        def forward(self, x):
            return self.linear_relu_stack(self.flatten(x))

    model = NeuralNetwork().to(device)
    _load_weights(torch, model, _weights(15, (32, 784), (32,), (32, 32), (32,), (10, 32),
                                         (10,)))
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-1)
    record = []
    for _ in range(2):
        model.train()
        for X, y in train_dataloader:
            X, y = X.to(device), y.to(device)
            loss = loss_fn(model(X), y)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            record.append(loss.item())
        model.eval()
        test_loss, correct = 0, 0
        with torch.no_grad():
            for X, y in test_dataloader:
                pred = model(X)
                test_loss += loss_fn(pred, y).item()
                correct += (pred.argmax(1) == y).type(torch.float).sum().item()
        record += [test_loss / len(test_dataloader), correct / len(test_dataloader.dataset)]
    classes = list(range(100, 110))
    with torch.no_grad():
        pred = model(test_data[0][0])
        record += [classes[pred[0].argmax(0)], classes[test_data[0][1]]]
    return record


def learning_pytorch_with_examples(torch):
    """The polynomial fits of PyTorch's "Learning PyTorch with Examples", as written
    there: tensors and autograd with manual updates, a custom autograd.Function, nn with
    Flatten(0, 1) and MSELoss(sum), RMSprop, and a module with dynamic control flow."""
    import random as random_module

    random = random_module.Random(0)  # the tutorial's random.randint, from a fixed seed

    out = []
    dtype = torch.float
    device = "cpu"
    # 1. tensors and autograd
    x = torch.linspace(-math.pi, math.pi, 2000, device=device, dtype=dtype)
    y = torch.sin(x)
    a = torch.tensor(0.1, device=device, dtype=dtype, requires_grad=True)
    b = torch.tensor(0.2, device=device, dtype=dtype, requires_grad=True)
    c = torch.tensor(-0.1, device=device, dtype=dtype, requires_grad=True)
    d = torch.tensor(0.05, device=device, dtype=dtype, requires_grad=True)
    learning_rate = 1e-6
    for t in range(200):
        y_pred = a + b * x + c * x ** 2 + d * x ** 3
        loss = (y_pred - y).pow(2).sum()
        loss.backward()
        with torch.no_grad():
            a -= learning_rate * a.grad
            b -= learning_rate * b.grad
            c -= learning_rate * c.grad
            d -= learning_rate * d.grad
            a.grad = None
            b.grad = None
            c.grad = None
            d.grad = None
    out.append(loss.item())
    # 2. custom Function
    class LegendrePolynomial3(torch.autograd.Function):
        @staticmethod
        def forward(ctx, input):
            ctx.save_for_backward(input)
            return 0.5 * (5 * input ** 3 - 3 * input)
        @staticmethod
        def backward(ctx, grad_output):
            input, = ctx.saved_tensors
            return grad_output * 1.5 * (5 * input ** 2 - 1)
    a = torch.full((), 0.0, device=device, dtype=dtype, requires_grad=True)
    b = torch.full((), -1.0, device=device, dtype=dtype, requires_grad=True)
    c = torch.full((), 0.0, device=device, dtype=dtype, requires_grad=True)
    d = torch.full((), 0.3, device=device, dtype=dtype, requires_grad=True)
    learning_rate = 5e-6
    for t in range(200):
        P3 = LegendrePolynomial3.apply
        y_pred = a + b * P3(c + d * x)
        loss = (y_pred - y).pow(2).sum()
        loss.backward()
        with torch.no_grad():
            a -= learning_rate * a.grad
            b -= learning_rate * b.grad
            c -= learning_rate * c.grad
            d -= learning_rate * d.grad
            a.grad = None; b.grad = None; c.grad = None; d.grad = None
    out.append(loss.item())
    # 3. nn
    p = torch.tensor([1, 2, 3])
    xx = x.unsqueeze(-1).pow(p)
    model = torch.nn.Sequential(torch.nn.Linear(3, 1), torch.nn.Flatten(0, 1))
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([[0.1, -0.2, 0.05]]))
        model[0].bias.fill_(0.01)
    loss_fn = torch.nn.MSELoss(reduction='sum')
    learning_rate = 1e-6
    for t in range(200):
        y_pred = model(xx)
        loss = loss_fn(y_pred, y)
        model.zero_grad()
        loss.backward()
        with torch.no_grad():
            for param in model.parameters():
                param -= learning_rate * param.grad
    linear_layer = model[0]
    out += [loss.item(), linear_layer.bias.item(), linear_layer.weight[:, 0].item()]
    # 4. optim RMSprop
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([[0.1, -0.2, 0.05]]))
        model[0].bias.fill_(0.01)
    optimizer = torch.optim.RMSprop(model.parameters(), lr=1e-3)
    for t in range(200):
        y_pred = model(xx)
        loss = loss_fn(y_pred, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    out.append(loss.item())
    # 5. custom module with dynamic control flow
    class DynamicNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.a = torch.nn.Parameter(torch.tensor(0.1))
            self.b = torch.nn.Parameter(torch.tensor(0.2))
            self.c = torch.nn.Parameter(torch.tensor(-0.1))
            self.d = torch.nn.Parameter(torch.tensor(0.05))
            self.e = torch.nn.Parameter(torch.tensor(0.01))
        def forward(self, x):
            y = self.a + self.b * x + self.c * x ** 2 + self.d * x ** 3
            for exp in range(4, random.randint(4, 6)):
                y = y + self.e * x ** exp
            return y
        def string(self):
            return f'y = {self.a.item()} + {self.b.item()} x + {self.c.item()} x^2 + {self.d.item()} x^3 + {self.e.item()} x^4 ? + {self.e.item()} x^5 ?'
    model = DynamicNet()
    criterion = torch.nn.MSELoss(reduction='sum')
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-8, momentum=0.9)
    for t in range(300):
        y_pred = model(x)
        loss = criterion(y_pred, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    out.append(loss.item())
    return out


PROGRAMS = [linear_regression, logistic_regression, autoencoder, causal_attention,
            data_pipeline, dtype_and_device_handling, padded_tagger, quickstart,
            learning_pytorch_with_examples]


@pytest.mark.parametrize("program", PROGRAMS, ids=[p.__name__ for p in PROGRAMS])
def test_program_gives_pytorchs_numbers(program):
    theirs, ours = _both(program)
    assert len(theirs) == len(ours)
    _close(theirs, ours)


def test_mlp_with_param_groups_onecycle_clipping_and_resume(tmp_path):
    theirs = mlp_with_param_groups_onecycle_and_resume(real_torch, tmp_path / "torch.pt")
    ours = mlp_with_param_groups_onecycle_and_resume(tinygrad_fm, tmp_path / "ours.pt")
    _close(theirs, ours, rtol=2e-5, atol=2e-6)


def test_masked_fill_with_mask_eq_zero_masks_and_accuracy_line_works():
    torch = tinygrad_fm
    scores = torch.zeros(3, 3)
    mask = torch.tril(torch.ones(3, 3))
    masked = scores.masked_fill(mask == 0, float("-inf"))
    assert np.isneginf(masked.numpy()[np.triu_indices(3, 1)]).all()
    assert np.isfinite(masked.numpy()[np.tril_indices(3)]).all()
    pred, y = torch.tensor([1, 2, 3, 4]), torch.tensor([1, 0, 3, 0])
    assert (pred == y).float().mean().item() == 0.5
    assert (pred != y).sum().item() == 2
