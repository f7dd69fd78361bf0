"""Training steps of models built from the embedding, recurrent, attention and
normalisation layers, captured with tinygrad_fm.jit, replay the eager steps bit for bit."""

import numpy as np
import pytest

import tinygrad_fm as tg
from tinygrad_fm import Tensor, nn, optim
from tinygrad_fm.jit import jit
from tinygrad_fm.nn import functional as F


class SequenceModel(nn.Module):
    def __init__(self, kind):
        super().__init__()
        self.kind = kind
        self.embed = nn.Embedding(7, 8, padding_idx=0)
        if kind == "transformer":
            layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.1,
                                               batch_first=True)
            self.body = nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(8))
        else:
            self.body = getattr(nn, kind)(8, 8, num_layers=2, dropout=0.1, batch_first=True,
                                          bidirectional=True)
        self.norm = nn.BatchNorm1d(8 if kind == "transformer" else 16)
        self.head = nn.Linear(8 if kind == "transformer" else 16, 7)

    def forward(self, tokens, mask):
        h = self.embed(tokens)
        if self.kind == "transformer":
            h = self.body(h, mask=mask, src_key_padding_mask=tokens.eq(0))
        else:
            h = self.body(h)[0]
        h = self.norm(h.transpose(1, 2)).transpose(1, 2)  # BatchNorm1d over (N, C, L)
        return self.head(h)


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "transformer"])
def test_captured_sequence_model_training_is_bit_identical_to_eager(kind):
    rng = np.random.default_rng(0)
    tokens = rng.integers(1, 7, size=(4, 6))
    tokens[0, 4:] = 0  # padding
    mask = np.triu(np.ones((5, 5), bool), 1)

    def run(captured):
        tg.manual_seed(0)
        model = SequenceModel(kind)
        optimizer = optim.Adam(model.parameters(), lr=1e-2)

        def step(tokens):
            logits = model(Tensor(tokens[:, :-1]), mask)
            loss = F.cross_entropy(logits.reshape(-1, 7), tokens[:, 1:].reshape(-1))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            return loss

        if captured:
            step = jit(step)
        tg.manual_seed(1)  # the dropout masks' stream
        losses = [step(tokens).data.copy() for _ in range(4)]
        if captured:
            assert step.captures == 1  # the last two calls were replays
        return model, losses

    (eager, eager_losses), (captured, captured_losses) = run(False), run(True)
    np.testing.assert_array_equal(eager_losses, captured_losses)
    assert captured_losses[-1] < captured_losses[0]
    for a, b in zip(eager.state_dict().values(), captured.state_dict().values()):
        np.testing.assert_array_equal(np.asarray(getattr(a, "data", a)),
                                      np.asarray(getattr(b, "data", b)))
