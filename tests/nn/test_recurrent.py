"""RNN, LSTM, GRU and their cells against PyTorch from the same weights (outputs, final
states and every gradient), float64 gradchecks, and errors."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_fm as tg
import tinygrad_fm.optim  # noqa: F401  (tg.optim, as torch.optim)
from helpers import assert_gradcheck
from tinygrad_fm import Tensor, gradcheck, nn

torch = pytest.importorskip("torch")

LAYERS = ("RNN", "LSTM", "GRU")


def _load_from_torch(ours, theirs):
    ours.load_state_dict({k: v.detach().numpy().copy() for k, v in theirs.state_dict().items()})


def _flatten(result):
    """(output, h_n) or (output, (h_n, c_n)) -> a flat list."""
    output, state = result
    return [output] + (list(state) if isinstance(state, tuple) else [state])


@st.composite
def recurrent_settings(draw):
    mode = draw(st.sampled_from(LAYERS))
    hidden = draw(st.integers(2, 4))
    kwargs = dict(num_layers=draw(st.integers(1, 2)), bias=draw(st.booleans()),
                  batch_first=draw(st.booleans()), bidirectional=draw(st.booleans()))
    if mode == "LSTM" and draw(st.booleans()):
        kwargs["proj_size"] = draw(st.integers(1, hidden - 1))
    if mode == "RNN":
        kwargs["nonlinearity"] = draw(st.sampled_from(["tanh", "relu"]))
    sizes = dict(input_size=draw(st.integers(1, 3)), hidden=hidden,
                 steps=draw(st.integers(1, 4)), batch=draw(st.integers(1, 3)),
                 unbatched=draw(st.booleans()), with_state=draw(st.booleans()))
    return mode, kwargs, sizes


def _arrays(mode, kwargs, sizes, rng):
    """Input and initial state(s) as float64 arrays, shaped for these settings."""
    steps, batch, unbatched = sizes["steps"], sizes["batch"], sizes["unbatched"]
    x_shape = (steps, sizes["input_size"]) if unbatched else (
        (batch, steps) if kwargs["batch_first"] else (steps, batch)) + (sizes["input_size"],)
    lead = (kwargs["num_layers"] * (2 if kwargs["bidirectional"] else 1),)
    lead += () if unbatched else (batch,)
    h_size = kwargs.get("proj_size") or sizes["hidden"]
    states = []
    if sizes["with_state"]:
        states.append(rng.normal(size=lead + (h_size,)))
        if mode == "LSTM":
            states.append(rng.normal(size=lead + (sizes["hidden"],)))
    return rng.normal(size=x_shape), states


def _run(module, x, states, framework, upstreams=None):
    """Forward, then backward of sum(output_k * upstream_k); returns outputs, input and
    state gradients and parameter gradients, all as arrays."""
    lib_tensor = (lambda a: torch.tensor(a, requires_grad=True)) if framework is torch else \
        (lambda a: Tensor(a.copy(), requires_grad=True))
    xt = lib_tensor(x)
    state_tensors = [lib_tensor(s) for s in states]
    hx = None
    if state_tensors:
        hx = tuple(state_tensors) if len(state_tensors) == 2 else state_tensors[0]
    outs = _flatten(module(xt, hx))
    total = 0
    for out, upstream in zip(outs, upstreams):
        total = total + (out * (torch.from_numpy(upstream) if framework is torch
                                else Tensor(upstream))).sum()
    total.backward()

    def array(t):
        return t.detach().numpy() if framework is torch else t.data

    grads = [array(xt.grad)] + [array(s.grad) for s in state_tensors]
    param_grads = {name: array(p.grad) for name, p in module.named_parameters()}
    return [array(o) for o in outs], grads, param_grads


@settings(max_examples=40)
@given(setting=recurrent_settings(), seed=st.integers(0, 2**16))
def test_recurrent_layers_match_torch_outputs_and_gradients(setting, seed):
    mode, kwargs, sizes = setting
    args = (sizes["input_size"], sizes["hidden"])
    ours = getattr(nn, mode)(*args, **kwargs).double()
    theirs = getattr(torch.nn, mode)(*args, **kwargs).double()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    _load_from_torch(ours, theirs)
    rng = np.random.default_rng(seed)
    x, states = _arrays(mode, kwargs, sizes, rng)
    with torch.no_grad():
        shapes = [tuple(t.shape) for t in _flatten(theirs(
            torch.from_numpy(x), None if not states else
            (tuple(map(torch.from_numpy, states)) if len(states) == 2
             else torch.from_numpy(states[0]))))]
    upstreams = [rng.normal(size=shape) for shape in shapes]
    outs, grads, param_grads = _run(ours, x, states, tg, upstreams)
    t_outs, t_grads, t_param_grads = _run(theirs, x, states, torch, upstreams)
    for ours_value, theirs_value in zip(outs + grads, t_outs + t_grads):
        assert ours_value.shape == theirs_value.shape
        np.testing.assert_allclose(ours_value, theirs_value, rtol=1e-9, atol=1e-11)
    assert list(param_grads) == list(t_param_grads)
    for name, grad in param_grads.items():
        np.testing.assert_allclose(grad, t_param_grads[name], rtol=1e-9, atol=1e-11,
                                   err_msg=name)


@settings(max_examples=15)
@given(mode=st.sampled_from(LAYERS), bidirectional=st.booleans(), seed=st.integers(0, 99),
       checked=st.sampled_from(["weight_ih", "weight_hh", "bias_ih", "bias_hh"]))
def test_recurrent_gradcheck_input_state_and_a_weight(mode, bidirectional, seed, checked):
    tg.manual_seed(seed)
    module = getattr(nn, mode)(2, 3, num_layers=2, bidirectional=bidirectional).double()
    name = checked + "_l1" + ("_reverse" if bidirectional else "")
    rng = np.random.default_rng(seed)
    directions = 2 if bidirectional else 1
    x, h0 = rng.normal(size=(3, 2, 2)), rng.normal(size=(2 * directions, 2, 3))
    weight = module._parameters[name].data.copy()

    def run(x, h0, weight):
        module._parameters[name] = weight  # gradcheck's copy stands in for the parameter
        hx = (h0, h0 * 0.5) if mode == "LSTM" else h0
        output, state = module(x, hx)
        h_n = state[0] if mode == "LSTM" else state
        return output.sum(axis=2) + h_n.sum()

    assert_gradcheck(run, x, h0, weight)


def test_recurrent_projection_gradcheck():
    tg.manual_seed(0)
    module = nn.LSTM(2, 3, proj_size=2).double()
    weight = module.weight_hr_l0.data.copy()
    x = np.random.default_rng(0).normal(size=(3, 2))  # unbatched

    def run(x, weight):
        module._parameters["weight_hr_l0"] = weight
        return module(x)[0]

    assert gradcheck(run, [Tensor(x, requires_grad=True), Tensor(weight, requires_grad=True)])


@pytest.mark.parametrize("mode", LAYERS)
def test_float32_stays_float32(mode):
    module = getattr(nn, mode)(3, 4, num_layers=2, bidirectional=True)
    x = Tensor(np.random.default_rng(0).normal(size=(5, 2, 3)).astype(np.float32),
               requires_grad=True)
    output, state = module(x)
    states = state if isinstance(state, tuple) else (state,)
    assert output.dtype == np.float32 and all(s.dtype == np.float32 for s in states)
    output.sum().backward()
    assert x.grad.dtype == np.float32
    assert all(p.grad.dtype == np.float32 for p in module.parameters())


@pytest.mark.parametrize("mode", LAYERS)
def test_init_is_uniform_within_one_over_sqrt_hidden(mode):
    tg.manual_seed(0)
    module = getattr(nn, mode)(30, 64, num_layers=2)
    bound = 1 / math.sqrt(64)
    values = np.concatenate([p.data.ravel() for p in module.parameters()])
    assert values.dtype == np.float32
    assert np.abs(values).max() <= bound and np.abs(values).max() > 0.99 * bound
    assert values.var() == pytest.approx(bound ** 2 / 3, rel=0.05)


def test_dropout_between_layers_in_training_only():
    tg.manual_seed(0)
    ours = nn.GRU(3, 4, num_layers=2, dropout=0.5)
    theirs = torch.nn.GRU(3, 4, num_layers=2, dropout=0.5)
    _load_from_torch(ours, theirs)
    x = np.random.default_rng(1).normal(size=(4, 2, 3)).astype(np.float32)
    train_out = ours(x)[0].data
    ours.eval()
    theirs.eval()
    eval_out = ours(x)[0].data
    np.testing.assert_allclose(eval_out, theirs(torch.from_numpy(x))[0].detach(), rtol=1e-5,
                               atol=1e-6)
    assert not np.allclose(train_out, eval_out)
    ours.train()
    tg.manual_seed(0)
    first = ours(x)[0].data
    tg.manual_seed(0)
    np.testing.assert_array_equal(ours(x)[0].data, first)
    with pytest.warns(UserWarning, match="num_layers greater than 1"):
        nn.LSTM(3, 4, dropout=0.2)


@settings(max_examples=30)
@given(mode=st.sampled_from(["RNNCell", "LSTMCell", "GRUCell"]), bias=st.booleans(),
       unbatched=st.booleans(), with_state=st.booleans(), relu=st.booleans(),
       seed=st.integers(0, 2**16))
def test_cells_match_torch(mode, bias, unbatched, with_state, relu, seed):
    kwargs = dict(bias=bias)
    if mode == "RNNCell" and relu:
        kwargs["nonlinearity"] = "relu"
    ours, theirs = getattr(nn, mode)(3, 4, **kwargs).double(), \
        getattr(torch.nn, mode)(3, 4, **kwargs).double()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    _load_from_torch(ours, theirs)
    rng = np.random.default_rng(seed)
    lead = () if unbatched else (2,)
    x = rng.normal(size=lead + (3,))
    states = [rng.normal(size=lead + (4,)) for _ in range(2 if mode == "LSTMCell" else 1)] \
        if with_state else []
    results = []
    for framework, make in ((tg, lambda a: Tensor(a.copy(), requires_grad=True)),
                            (torch, lambda a: torch.tensor(a, requires_grad=True))):
        module = ours if framework is tg else theirs
        xt, st_ = make(x), [make(s) for s in states]
        hx = (tuple(st_) if len(st_) == 2 else st_[0]) if st_ else None
        out = module(xt, hx)
        outs = list(out) if isinstance(out, tuple) else [out]
        total = sum((o * (k + 1.5)).sum() for k, o in enumerate(outs))
        total.backward()
        array = (lambda t: t.detach().numpy()) if framework is torch else (lambda t: t.data)
        results.append([array(o) for o in outs] + [array(xt.grad)]
                       + [array(s.grad) for s in st_]
                       + [array(p.grad) for p in module.parameters()])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-11)


def test_cell_gradcheck():
    tg.manual_seed(0)
    for cell in (nn.RNNCell(2, 3), nn.LSTMCell(2, 3), nn.GRUCell(2, 3)):
        cell.double()
        rng = np.random.default_rng(0)
        x, h = rng.normal(size=(2, 2)), rng.normal(size=(2, 3))
        if isinstance(cell, nn.LSTMCell):
            assert_gradcheck(lambda x, h, c: sum(s.sum(axis=1) for s in cell(x, (h, c))),
                             x, h, h[::-1].copy())
        else:
            assert_gradcheck(lambda x, h: cell(x, h), x, h)


def test_recurrent_errors_name_the_layer_and_shapes():
    lstm = nn.LSTM(3, 4, num_layers=2)
    with pytest.raises(ValueError, match=r"LSTM: expected input to be 2-D.*\(2, 3, 4, 3\)"):
        lstm(np.zeros((2, 3, 4, 3), np.float32))
    with pytest.raises(ValueError, match=r"LSTM: input of shape \(5, 2, 6\) has 6 features.*"
                                         r"input_size=3"):
        lstm(np.zeros((5, 2, 6), np.float32))
    with pytest.raises(ValueError, match=r"LSTM: expected h_0 of shape \(2, 2, 4\), got "
                                         r"\(1, 2, 4\)"):
        lstm(np.zeros((5, 2, 3), np.float32), (np.zeros((1, 2, 4), np.float32),
                                               np.zeros((2, 2, 4), np.float32)))
    with pytest.raises(ValueError, match=r"GRU: for unbatched 2-D input, hx should also be "
                                         r"2-D.*\(1, 1, 4\)"):
        nn.GRU(3, 4)(np.zeros((5, 3), np.float32), np.zeros((1, 1, 4), np.float32))
    with pytest.raises(TypeError, match=r"LSTM: hx must be a tuple"):
        lstm(np.zeros((5, 2, 3), np.float32), np.zeros((2, 2, 4), np.float32))
    with pytest.raises(ValueError, match="proj_size has to be smaller than hidden_size"):
        nn.LSTM(3, 4, proj_size=4)
    with pytest.raises(ValueError, match="unknown nonlinearity 'sigmoid'"):
        nn.RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="hidden_size must be greater than zero"):
        nn.GRU(3, 0)
    with pytest.raises(ValueError, match=r"LSTMCell: input of shape \(2, 5\) has 5 features"):
        nn.LSTMCell(3, 4)(np.zeros((2, 5), np.float32))
    with pytest.raises(ValueError, match=r"GRUCell: hx of shape \(3, 4\) does not fit input "
                                         r"of shape \(2, 3\)"):
        nn.GRUCell(3, 4)(np.zeros((2, 3), np.float32), np.zeros((3, 4), np.float32))
    with pytest.raises(ValueError, match=r"RNNCell: expected input to be 1-D or 2-D"):
        nn.RNNCell(3, 4)(np.zeros((1, 2, 3), np.float32))


def _train_sequence_classifier(torch_like, x, y, state):
    """A small PyTorch program: an Embedding + LSTM + Linear sequence classifier trained with Adam."""
    nn_ = torch_like.nn

    class Classifier(nn_.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn_.Embedding(7, 4, padding_idx=0)
            self.rnn = nn_.LSTM(4, 6, batch_first=True, num_layers=2, bidirectional=True)
            self.head = nn_.Linear(12, 3)

        def forward(self, tokens):
            output, (h_n, c_n) = self.rnn(self.embed(tokens))
            return self.head(output[:, -1])

    model = Classifier()
    model.load_state_dict(state)
    optimizer = torch_like.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(5):
        optimizer.zero_grad()
        loss = nn_.functional.cross_entropy(model(torch_like.from_numpy(x)),
                                            torch_like.from_numpy(y))
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def test_a_pytorch_sequence_classifier_runs_unchanged_and_trains_alike():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 7, size=(8, 5))
    y = rng.integers(0, 3, size=8)
    torch.manual_seed(0)
    state = {}  # one set of initial weights, drawn by torch
    embed = torch.nn.Embedding(7, 4, padding_idx=0)
    rnn = torch.nn.LSTM(4, 6, batch_first=True, num_layers=2, bidirectional=True)
    head = torch.nn.Linear(12, 3)
    for prefix, module in (("embed", embed), ("rnn", rnn), ("head", head)):
        for name, value in module.state_dict().items():
            state[f"{prefix}.{name}"] = value.numpy().copy()
    theirs = _train_sequence_classifier(torch, x, y,
                                        {k: torch.from_numpy(v.copy()) for k, v in
                                         state.items()})
    ours = _train_sequence_classifier(tg, x, y, {k: v.copy() for k, v in state.items()})
    np.testing.assert_allclose(ours, theirs, rtol=1e-4)
    assert ours[-1] < ours[0]


# --------------------------------------------------------------------------- packed sequences


@pytest.mark.parametrize("mode", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("sorted_lengths", [False, True])
def test_packed_sequences_run_as_in_torch(mode, bidirectional, batch_first, sorted_lengths):
    """pack_padded_sequence -> RNN/LSTM/GRU (2 layers) -> pad_packed_sequence: outputs,
    final states and every gradient as PyTorch's, with and without a given initial
    state."""
    rng = np.random.default_rng(3)
    lengths = [5, 3, 2, 2] if sorted_lengths else [2, 5, 1, 3]
    x = rng.normal(size=(4, 5, 2) if batch_first else (5, 4, 2))
    directions = 2 if bidirectional else 1
    h0 = rng.normal(size=(2 * directions, 4, 3))
    results = []
    for framework in (torch, tg):
        module = getattr(framework.nn, mode)(2, 3, num_layers=2, bidirectional=bidirectional,
                                             batch_first=batch_first).double()
        if framework is torch:
            reference = module
        else:
            _load_from_torch(module, reference)
        inputs = framework.tensor(x, requires_grad=True)
        packed = framework.nn.utils.rnn.pack_padded_sequence(
            inputs, framework.tensor(lengths), batch_first=batch_first,
            enforce_sorted=sorted_lengths)
        state = framework.tensor(h0)
        output, final = module(packed, (state, state * 0.5) if mode == "LSTM" else state)
        assert type(output).__name__ == "PackedSequence"
        padded, out_lengths = framework.nn.utils.rnn.pad_packed_sequence(
            output, batch_first=batch_first)
        finals = list(final) if mode == "LSTM" else [final]
        (padded.sum() + sum((f * f).sum() for f in finals)).backward()
        to_numpy = (lambda t: t.detach().numpy()) if framework is torch else (lambda t: t.data)
        results.append([to_numpy(padded), np.asarray(out_lengths.tolist())]
                       + [to_numpy(f) for f in finals] + [to_numpy(inputs.grad)]
                       + [to_numpy(p.grad) for p in module.parameters()])
    for theirs, ours in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-11)


def test_pack_and_pad_round_trip_and_check_their_arguments():
    rnn = nn.utils.rnn
    sequences = [Tensor(np.arange(n * 2, dtype=np.float32).reshape(n, 2)) for n in (2, 4, 1)]
    packed = rnn.pack_sequence(sequences, enforce_sorted=False)
    theirs = torch.nn.utils.rnn.pack_sequence(
        [torch.from_numpy(s.data) for s in sequences], enforce_sorted=False)
    np.testing.assert_array_equal(packed.data.data, theirs.data.numpy())
    assert packed.batch_sizes.tolist() == theirs.batch_sizes.tolist()
    assert packed.sorted_indices.tolist() == theirs.sorted_indices.tolist()
    assert packed.unsorted_indices.tolist() == theirs.unsorted_indices.tolist()
    for original, back in zip(sequences, rnn.unpack_sequence(packed)):
        np.testing.assert_array_equal(back.data, original.data)
    padded, lengths = rnn.pad_packed_sequence(packed, batch_first=True, padding_value=-1.0,
                                              total_length=6)
    assert padded.shape == (3, 6, 2) and lengths.tolist() == [2, 4, 1]
    assert (padded.data[0, 2:] == -1).all()
    with pytest.raises(RuntimeError, match="sorted in decreasing order"):
        rnn.pack_padded_sequence(Tensor(np.zeros((4, 3, 2))), [1, 4, 2])
    with pytest.raises(RuntimeError, match="must lie in 1..4"):
        rnn.pack_padded_sequence(Tensor(np.zeros((4, 3, 2))), [5, 4, 2])
    with pytest.raises(ValueError, match="3 lengths for a batch of 2"):
        rnn.pack_padded_sequence(Tensor(np.zeros((4, 2, 2))), [4, 3, 2])
    with pytest.raises(ValueError, match="at least the length of the longest"):
        rnn.pad_packed_sequence(packed, total_length=3)
