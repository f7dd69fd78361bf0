"""Second derivatives of the normalisation, embedding, recurrent and attention layers:
``gradgradcheck`` in float64 over drawn inputs, and a Hessian-vector product against
PyTorch's."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_fm as tg
from helpers import float_arrays
from tinygrad_fm import Tensor, gradgradcheck, nn
from tinygrad_fm.nn import functional as F


def _assert_gradgradcheck(fn, *arrays):
    assert gradgradcheck(fn, [Tensor(np.asarray(a, np.float64), requires_grad=True)
                              for a in arrays])


@settings(max_examples=15)
@given(data=st.data(), training=st.booleans())
def test_batch_norm_second_derivatives(data, training):
    x = data.draw(float_arrays((4, 2, 2)))
    x[0] += 1.5  # keep the variances away from 0
    w, b = data.draw(float_arrays((2,))), data.draw(float_arrays((2,)))
    mean, var = np.array([0.3, -0.2]), np.array([1.5, 0.7])
    _assert_gradgradcheck(lambda x, w, b: F.batch_norm(x, mean.copy(), var.copy(), w, b,
                                                       training=training), x, w, b)


@settings(max_examples=15)
@given(data=st.data(), group=st.booleans())
def test_layer_and_group_norm_second_derivatives(data, group):
    x = data.draw(float_arrays((2, 4, 2)))
    x[..., 0] += 1.5
    if group:
        w, b = data.draw(float_arrays((4,))), data.draw(float_arrays((4,)))
        _assert_gradgradcheck(lambda x, w, b: F.group_norm(x, 2, w, b), x, w, b)
    else:
        w, b = data.draw(float_arrays((4, 2))), data.draw(float_arrays((4, 2)))
        _assert_gradgradcheck(lambda x, w, b: F.layer_norm(x, (4, 2), w, b), x, w, b)


@settings(max_examples=10)
@given(data=st.data())
def test_embedding_second_derivatives(data):
    weight = data.draw(float_arrays((4, 3)))
    indices = data.draw(hnp.arrays(np.int64, (2, 3), elements=st.sampled_from([0, 2, 3])))
    # squared so that the first derivative depends on the weight
    _assert_gradgradcheck(lambda w: F.embedding(indices, w, padding_idx=1) ** 2, weight)


@pytest.mark.parametrize("mode", ["RNN", "LSTM", "GRU"])
def test_recurrent_second_derivatives(mode):
    tg.manual_seed(0)
    module = getattr(nn, mode)(2, 3, bidirectional=True).double()
    rng = np.random.default_rng(0)
    x, h0 = rng.normal(size=(3, 1, 2)), rng.normal(size=(2, 1, 3))

    def run(x, h0):
        hx = (h0, h0 * 0.5) if mode == "LSTM" else h0
        return module(x, hx)[0]

    _assert_gradgradcheck(run, x, h0)


def test_attention_second_derivatives():
    tg.manual_seed(0)
    layer = nn.TransformerEncoderLayer(4, 2, dim_feedforward=6, dropout=0.0,
                                       activation="gelu").double()
    x = np.random.default_rng(0).normal(size=(3, 1, 4))
    mask = np.triu(np.ones((3, 3), bool), 1)
    _assert_gradgradcheck(lambda x: layer(x, src_mask=mask), x)
    q = np.random.default_rng(1).normal(size=(2, 3, 2))
    _assert_gradgradcheck(lambda q, k: F.scaled_dot_product_attention(q, k, k, is_causal=True),
                          q, q[:, ::-1].copy())


def test_hessian_vector_product_of_an_lstm_loss_matches_torch():
    torch = pytest.importorskip("torch")
    theirs = torch.nn.LSTM(3, 4, batch_first=True).double()
    ours = nn.LSTM(3, 4, batch_first=True).double()
    ours.load_state_dict({k: v.detach().numpy().copy() for k, v in theirs.state_dict().items()})
    rng = np.random.default_rng(0)
    x, v = rng.normal(size=(2, 5, 3)), rng.normal(size=(2, 5, 3))
    results = []
    for lib, module, wrap in ((tg, ours, lambda a: Tensor(a.copy(), requires_grad=True)),
                              (torch, theirs, lambda a: torch.tensor(a, requires_grad=True))):
        xt = wrap(x)
        loss = (module(xt)[0] ** 2).sum()
        (grad,) = lib.autograd.grad(loss, xt, create_graph=True)
        (hvp,) = lib.autograd.grad((grad * (torch.from_numpy(v) if lib is torch
                                            else Tensor(v))).sum(), xt)
        results.append(hvp.detach().numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-9, atol=1e-12)
