"""F.scaled_dot_product_attention, MultiheadAttention, the Transformer's encoder and decoder
layers and stacks, and nn.Transformer against PyTorch from the same weights (outputs and every gradient),
float64 gradchecks, and errors."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_fm as tg
import tinygrad_fm.optim  # noqa: F401  (tg.optim, as torch.optim)
from helpers import assert_gradcheck
from tinygrad_fm import Tensor, nn
from tinygrad_fm.nn import functional as F

torch = pytest.importorskip("torch")


def _load_from_torch(ours, theirs):
    ours.load_state_dict({k: v.detach().numpy().copy() for k, v in theirs.state_dict().items()})


def _grads(framework, fn, arrays):
    """fn's outputs and the gradients of sum_k(out_k * w_k) w.r.t. every array."""
    if framework is torch:
        tensors = [torch.tensor(a, requires_grad=True) for a in arrays]
    else:
        tensors = [Tensor(a.copy(), requires_grad=True) for a in arrays]
    outs = [o for o in fn(*tensors) if o is not None]
    total = 0
    for k, out in enumerate(outs):
        weight = np.random.default_rng(k).uniform(0.5, 1.5, tuple(out.shape))
        total = total + (out * (torch.from_numpy(weight) if framework is torch
                                else Tensor(weight))).sum()
    total.backward()
    to_array = (lambda t: t.detach().numpy()) if framework is torch else (lambda t: t.data)
    return [to_array(o) for o in outs], [to_array(t.grad) for t in tensors]


def _assert_close(ours, theirs, rtol=1e-9, atol=1e-11):
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


# --------------------------------------------------------------------------- sdpa


@st.composite
def attention_problem(draw):
    batch = draw(st.sampled_from([(), (2,), (2, 3)]))
    length, source = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    features, value_features = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    arrays = [rng.normal(size=batch + (length, features)),
              rng.normal(size=batch + (source, features)),
              rng.normal(size=batch + (source, value_features))]
    kind = draw(st.sampled_from(["none", "bool", "float", "causal"]))
    mask = None
    if kind == "bool":
        mask_batch = draw(st.sampled_from([(), batch[-1:]]))
        mask = rng.random(mask_batch + (length, source)) < 0.7
    elif kind == "float":
        mask = rng.normal(size=(length, source))
        mask[rng.random(mask.shape) < 0.3] = -np.inf
    scale = draw(st.sampled_from([None, 0.3]))
    return arrays, mask, kind == "causal", scale


@settings(max_examples=60)
@given(problem=attention_problem())
def test_scaled_dot_product_attention_matches_torch(problem):
    arrays, mask, is_causal, scale = problem
    results = []
    for framework, functional in ((tg, F), (torch, torch.nn.functional)):
        wrap = torch.from_numpy if framework is torch else Tensor
        kwargs = dict(is_causal=is_causal, scale=scale,
                      attn_mask=None if mask is None else wrap(mask))
        results.append(_grads(framework, lambda q, k, v: [
            functional.scaled_dot_product_attention(q, k, v, **kwargs)], arrays))
    (outs, grads), (t_outs, t_grads) = results
    _assert_close(outs, t_outs)
    _assert_close(grads, t_grads)


@settings(max_examples=20)
@given(problem=attention_problem())
def test_scaled_dot_product_attention_gradcheck(problem):
    arrays, mask, is_causal, scale = problem
    assert_gradcheck(lambda q, k, v: F.scaled_dot_product_attention(
        q, k, v, attn_mask=mask, is_causal=is_causal, scale=scale), *arrays)


def test_fully_masked_rows_give_zeros_and_no_gradient_as_torch():
    q = np.random.default_rng(0).normal(size=(2, 3, 4))
    mask = np.ones((3, 3), bool)
    mask[1] = False
    (out,), (grad_q,) = _grads(tg, lambda q: [F.scaled_dot_product_attention(
        q, q, q, attn_mask=mask)], [q])
    assert np.isfinite(out).all() and np.isfinite(grad_q).all()
    assert not out[:, 1].any()
    t_out = torch.nn.functional.scaled_dot_product_attention(
        *(torch.from_numpy(q),) * 3, attn_mask=torch.from_numpy(mask))
    np.testing.assert_allclose(out, t_out.numpy(), atol=1e-12)


def test_attention_dropout_drops_weights_reproducibly():
    rng = np.random.default_rng(0)
    q, k, v = (Tensor(rng.normal(size=(2, 8, 4)).astype(np.float32)) for _ in range(3))
    plain = F.scaled_dot_product_attention(q, k, v).data
    tg.manual_seed(3)
    dropped = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    assert dropped.dtype == np.float32 and not np.allclose(dropped.data, plain)
    tg.manual_seed(3)
    np.testing.assert_array_equal(F.scaled_dot_product_attention(q, k, v, dropout_p=0.5).data,
                                  dropped.data)
    assert not F.scaled_dot_product_attention(q, k, v, dropout_p=1.0).data.any()


def test_grouped_query_attention_matches_torch():
    rng = np.random.default_rng(1)
    arrays = [rng.normal(size=(2, 4, 3, 5)), rng.normal(size=(2, 2, 6, 5)),
              rng.normal(size=(2, 2, 6, 3))]
    ours = _grads(tg, lambda q, k, v: [F.scaled_dot_product_attention(
        q, k, v, enable_gqa=True)], arrays)
    theirs = _grads(torch, lambda q, k, v: [torch.nn.functional.scaled_dot_product_attention(
        q, k, v, enable_gqa=True)], arrays)
    _assert_close(ours[0], theirs[0])
    _assert_close(ours[1], theirs[1])


def test_sdpa_errors_name_the_shapes():
    q = Tensor(np.zeros((2, 3, 4), np.float32))
    with pytest.raises(ValueError, match=r"query \(2, 3, 4\), key \(2, 5, 3\)"):
        F.scaled_dot_product_attention(q, Tensor(np.zeros((2, 5, 3), np.float32)),
                                       Tensor(np.zeros((2, 5, 3), np.float32)))
    with pytest.raises(ValueError, match=r"attn_mask of shape \(4, 4\) does not broadcast"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=np.ones((4, 4), bool))
    with pytest.raises(ValueError, match="not both"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=np.ones((3, 3), bool),
                                       is_causal=True)


# --------------------------------------------------------------------------- MultiheadAttention


@st.composite
def mha_problem(draw):
    heads = draw(st.sampled_from([1, 2]))
    embed = heads * draw(st.integers(1, 3))
    kwargs = dict(bias=draw(st.booleans()), batch_first=draw(st.booleans()),
                  add_bias_kv=draw(st.booleans()), add_zero_attn=draw(st.booleans()))
    if draw(st.booleans()):
        kwargs.update(kdim=draw(st.integers(1, 3)), vdim=draw(st.integers(1, 3)))
    batched = draw(st.booleans())
    batch, length, source = draw(st.integers(1, 3)), draw(st.integers(1, 3)), \
        draw(st.integers(1, 3))
    self_attention = "kdim" not in kwargs and draw(st.booleans())
    if self_attention:
        source = length
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))

    def sequence(n, features):
        if not batched:
            return rng.normal(size=(n, features))
        return rng.normal(size=(batch, n, features) if kwargs["batch_first"]
                          else (n, batch, features))

    query = sequence(length, embed)
    key = query if self_attention else sequence(source, kwargs.get("kdim", embed))
    value = query if self_attention else sequence(source, kwargs.get("vdim", embed))
    masks = {}
    # Each query keeps at least one visible key (PyTorch returns NaN weights otherwise).
    if draw(st.booleans()):
        padding = rng.random((batch, source) if batched else (source,)) < 0.4
        padding[..., 0] = False
        masks["key_padding_mask"] = padding if draw(st.booleans()) else \
            np.where(padding, -np.inf, 0.0)
    if draw(st.booleans()):
        per_head = draw(st.booleans())
        shape = (((batch * heads,) if batched else (heads,)) if per_head else ()) \
            + (length, source)
        if draw(st.booleans()):
            masks["attn_mask"] = rng.random(shape) < 0.3
            masks["attn_mask"][..., 0] = False
        else:
            masks["attn_mask"] = rng.normal(size=shape)
    call = dict(need_weights=draw(st.booleans()), average_attn_weights=draw(st.booleans()))
    return heads, embed, kwargs, (query, key, value), self_attention, masks, call


@settings(max_examples=60)
@given(problem=mha_problem())
def test_multihead_attention_matches_torch(problem):
    heads, embed, kwargs, (query, key, value), self_attention, masks, call = problem
    ours = nn.MultiheadAttention(embed, heads, **kwargs).double()
    theirs = torch.nn.MultiheadAttention(embed, heads, **kwargs).double()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    _load_from_torch(ours, theirs)
    arrays = [query] if self_attention else [query, key, value]
    results = []
    for framework, module in ((tg, ours), (torch, theirs)):
        wrap = torch.from_numpy if framework is torch else (lambda a: a)
        mask_args = {name: wrap(m) for name, m in masks.items()}

        def run(*tensors):
            q, k, v = (tensors * 3) if self_attention else tensors
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # torch: mixed mask types are deprecated
                return list(module(q, k, v, **mask_args, **call))

        outs, grads = _grads(framework, run, arrays)
        param_grads = [p.grad for p in module.parameters()]
        param_grads = [g.numpy() if framework is torch else g.data for g in param_grads]
        results.append((outs, grads, param_grads))
    for ours_part, theirs_part in zip(*results):
        _assert_close(ours_part, theirs_part)


def test_multihead_attention_init_and_float32():
    tg.manual_seed(0)
    layer = nn.MultiheadAttention(64, 4)
    bound = np.sqrt(6 / (64 + 3 * 64))  # Xavier-uniform over the (3E, E) in_proj_weight
    weight = layer.in_proj_weight.data
    assert weight.dtype == np.float32 and np.abs(weight).max() <= bound
    assert weight.var() == pytest.approx(bound ** 2 / 3, rel=0.05)
    assert not layer.in_proj_bias.data.any() and not layer.out_proj.bias.data.any()
    x = Tensor(np.random.default_rng(0).normal(size=(5, 2, 64)).astype(np.float32),
               requires_grad=True)
    out, weights = layer(x, x, x)
    assert out.dtype == weights.dtype == np.float32 and weights.shape == (2, 5, 5)
    out.sum().backward()
    assert x.grad.dtype == np.float32
    assert all(p.grad.dtype == np.float32 for p in layer.parameters())


def test_multihead_attention_fully_masked_query_attends_to_nothing():
    layer = nn.MultiheadAttention(4, 2, batch_first=True)
    x = Tensor(np.random.default_rng(0).normal(size=(1, 3, 4)).astype(np.float32),
               requires_grad=True)
    out, weights = layer(x, x, x, key_padding_mask=np.array([[True, True, True]]))
    assert np.isfinite(out.data).all() and not weights.data.any()
    np.testing.assert_allclose(out.data, np.broadcast_to(layer.out_proj.bias.data, out.shape))
    out.sum().backward()
    assert np.isfinite(x.grad.data).all()


def test_multihead_attention_gradcheck():
    tg.manual_seed(0)
    layer = nn.MultiheadAttention(4, 2, kdim=3, vdim=2).double()
    rng = np.random.default_rng(0)
    query, key, value = rng.normal(size=(2, 1, 4)), rng.normal(size=(3, 1, 3)), \
        rng.normal(size=(3, 1, 2))
    mask = np.array([[False, True, False], [False, False, True]])
    assert_gradcheck(lambda q, k, v: layer(q, k, v, attn_mask=mask)[0], query, key, value)


def test_multihead_attention_errors_name_the_layer_and_shapes():
    with pytest.raises(ValueError, match="embed_dim must be divisible by num_heads, got "
                                         "embed_dim=6 and num_heads=4"):
        nn.MultiheadAttention(6, 4)
    layer = nn.MultiheadAttention(4, 2)
    x = np.zeros((3, 2, 4), np.float32)
    with pytest.raises(ValueError, match=r"MultiheadAttention: query of shape \(3, 2, 5\) has "
                                         r"5 features.*embed_dim=4"):
        layer(np.zeros((3, 2, 5), np.float32), x, x)
    with pytest.raises(ValueError, match=r"attn_mask of shape \(3, 2\) should be \(3, 3\) or "
                                         r"\(4, 3, 3\)"):
        layer(x, x, x, attn_mask=np.zeros((3, 2), bool))
    with pytest.raises(ValueError, match=r"key_padding_mask of shape \(3, 2\) should be "
                                         r"\(2, 3\)"):
        layer(x, x, x, key_padding_mask=np.zeros((3, 2), bool))
    with pytest.raises(ValueError, match="is_causal is a hint"):
        layer(x, x, x, is_causal=True)
    with pytest.raises(ValueError, match=r"query, key and value must all be batched"):
        layer(x, x[0], x[0])


# --------------------------------------------------------------------------- transformer


@settings(max_examples=25)
@given(norm_first=st.booleans(), activation=st.sampled_from(["relu", "gelu"]),
       batch_first=st.booleans(), causal=st.booleans(), padding=st.booleans(),
       final_norm=st.booleans(), seed=st.integers(0, 2**16))
def test_transformer_encoder_matches_torch_in_training_mode(norm_first, activation,
                                                            batch_first, causal, padding,
                                                            final_norm, seed):
    kwargs = dict(dim_feedforward=6, dropout=0.0, activation=activation,
                  batch_first=batch_first, norm_first=norm_first)
    ours = nn.TransformerEncoder(nn.TransformerEncoderLayer(4, 2, **kwargs), 2,
                                 norm=nn.LayerNorm(4) if final_norm else None).double()
    theirs = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(4, 2, **kwargs), 2,
                                         norm=torch.nn.LayerNorm(4) if final_norm else None,
                                         enable_nested_tensor=False).double()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    rng = np.random.default_rng(seed)
    with torch.no_grad():  # the layers are deep copies: give them different weights
        for param in theirs.parameters():
            param.add_(torch.from_numpy(rng.normal(scale=0.1, size=tuple(param.shape))))
    _load_from_torch(ours, theirs)
    length, batch = 4, 2
    x = rng.normal(size=(batch, length, 4) if batch_first else (length, batch, 4))
    mask = np.triu(np.ones((length, length), bool), 1) if causal else None
    padding_mask = None
    if padding:
        padding_mask = np.zeros((batch, length), bool)
        padding_mask[0, 2:] = True
    results = []
    for framework, module in ((tg, ours), (torch, theirs)):
        wrap = torch.from_numpy if framework is torch else (lambda a: a)
        call = dict(mask=None if mask is None else wrap(mask), is_causal=causal,
                    src_key_padding_mask=None if padding_mask is None else wrap(padding_mask))
        outs, grads = _grads(framework, lambda x: [module(x, **call)], [x])
        param_grads = [p.grad.numpy() if framework is torch else p.grad.data
                       for p in module.parameters()]
        results.append((outs, grads, param_grads))
    for ours_part, theirs_part in zip(*results):
        _assert_close(ours_part, theirs_part, rtol=1e-8, atol=1e-10)


def test_transformer_encoder_layer_eval_matches_torch_and_float32_stays():
    theirs = torch.nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, batch_first=True)
    ours = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, batch_first=True)
    assert repr(ours) == repr(theirs)
    _load_from_torch(ours, theirs)
    ours.eval()
    theirs.eval()
    x = np.random.default_rng(0).normal(size=(3, 5, 8)).astype(np.float32)
    padding = np.zeros((3, 5), bool)
    padding[1, 3:] = True
    out = ours(Tensor(x), src_key_padding_mask=padding)
    with torch.no_grad():
        t_out = theirs(torch.from_numpy(x), src_key_padding_mask=torch.from_numpy(padding))
    assert out.dtype == np.float32
    # PyTorch's eval fast path returns zeros at padded positions: compare the others.
    keep = ~padding
    np.testing.assert_allclose(out.data[keep], t_out.numpy()[keep], rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="activation should be 'relu' or 'gelu'"):
        nn.TransformerEncoderLayer(8, 2, activation="tanh")
    with pytest.raises(ValueError, match="embed_dim must be divisible by num_heads"):
        nn.TransformerEncoderLayer(8, 3)


def _train_tiny_causal_lm(torch_like, tokens, state):
    """A small PyTorch program: a causal transformer language model, three Adam steps."""
    nn_ = torch_like.nn

    class TinyLM(nn_.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn_.Embedding(6, 8)
            self.position = nn_.Embedding(5, 8)
            layer = nn_.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0,
                                                batch_first=True, norm_first=True)
            self.encoder = nn_.TransformerEncoder(layer, num_layers=2)
            self.head = nn_.Linear(8, 6)

        def forward(self, x):
            length = x.shape[1]
            mask = torch_like.triu(torch_like.full((length, length), float("-inf")),
                                   diagonal=1)
            h = self.embed(x) + self.position(torch_like.arange(length))
            return self.head(self.encoder(h, mask=mask, is_causal=True))

    model = TinyLM()
    model.load_state_dict(state)
    optimizer = torch_like.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(3):
        optimizer.zero_grad()
        logits = model(tokens[:, :-1])
        loss = nn_.functional.cross_entropy(logits.reshape(-1, 6), tokens[:, 1:].reshape(-1))
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def test_a_pytorch_causal_transformer_runs_unchanged_and_trains_alike():
    tokens = np.random.default_rng(0).integers(0, 6, size=(4, 6))
    torch.manual_seed(0)
    reference = torch.nn.ModuleDict({
        "embed": torch.nn.Embedding(6, 8), "position": torch.nn.Embedding(5, 8),
        "encoder": torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(
            8, 2, dim_feedforward=16, dropout=0.0, batch_first=True, norm_first=True), 2,
            enable_nested_tensor=False),
        "head": torch.nn.Linear(8, 6)})
    state = {k: v.numpy().copy() for k, v in reference.state_dict().items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch: is_causal hints and nested tensors
        theirs = _train_tiny_causal_lm(torch, torch.from_numpy(tokens),
                                       {k: torch.from_numpy(v.copy()) for k, v in
                                        state.items()})
    ours = _train_tiny_causal_lm(tg, Tensor(tokens), {k: v.copy() for k, v in state.items()})
    np.testing.assert_allclose(ours, theirs, rtol=1e-4)
    assert ours[-1] < ours[0]


# --------------------------------------------------------------------------- decoder


@pytest.mark.filterwarnings("ignore:enable_nested_tensor is True:UserWarning")
@pytest.mark.filterwarnings("ignore:Support for mismatched key_padding_mask:UserWarning")
@settings(max_examples=20)
@given(norm_first=st.booleans(), batch_first=st.booleans(), padding=st.booleans(),
       float_mask=st.booleans(), seed=st.integers(0, 2**16))
def test_transformer_matches_torch_with_its_masks(norm_first, batch_first, padding,
                                                   float_mask, seed):
    """nn.Transformer (encoder, decoder, their final norms) from the same weights: the
    output and every gradient, with a causal target mask (PyTorch's own float mask or a
    boolean one) and padded source and target positions."""
    kwargs = dict(d_model=4, nhead=2, num_encoder_layers=2, num_decoder_layers=2,
                  dim_feedforward=6, dropout=0.0, batch_first=batch_first,
                  norm_first=norm_first)
    theirs = torch.nn.Transformer(**kwargs).double()
    ours = nn.Transformer(**kwargs).double()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    _load_from_torch(ours, theirs)
    rng = np.random.default_rng(seed)
    batch, source_length, target_length = 2, 5, 3
    shape = (lambda n: (batch, n, 4)) if batch_first else (lambda n: (n, batch, 4))
    src, tgt = rng.normal(size=shape(source_length)), rng.normal(size=shape(target_length))
    causal = {tg: nn.Transformer.generate_square_subsequent_mask(target_length,
                                                                 dtype=tg.float64),
              torch: torch.nn.Transformer.generate_square_subsequent_mask(
                  target_length, dtype=torch.float64)}
    np.testing.assert_array_equal(causal[tg].data, causal[torch].numpy())
    source_padding = target_padding = None
    if padding:
        source_padding = np.zeros((batch, source_length), bool)
        source_padding[1, 3:] = True
        target_padding = np.zeros((batch, target_length), bool)
        target_padding[0, 2:] = True
    results = []
    for framework, module in ((tg, ours), (torch, theirs)):
        wrap = torch.from_numpy if framework is torch else (lambda a: a)
        mask = causal[framework] if float_mask else wrap(
            np.triu(np.ones((target_length, target_length), bool), 1))
        call = dict(tgt_mask=mask, tgt_is_causal=True,
                    src_key_padding_mask=None if source_padding is None else wrap(source_padding),
                    tgt_key_padding_mask=None if target_padding is None else wrap(target_padding),
                    memory_key_padding_mask=None if source_padding is None
                    else wrap(source_padding))
        outs, grads = _grads(framework, lambda s, t: [module(s, t, **call)], [src, tgt])
        param_grads = [p.grad.numpy() if framework is torch else p.grad.data
                       for p in module.parameters()]
        results.append((outs, grads, param_grads))
    for ours_part, theirs_part in zip(*results):
        _assert_close(ours_part, theirs_part, rtol=1e-8, atol=1e-10)


def test_transformer_initialises_every_matrix_xavier_uniform_and_checks_shapes():
    tg.manual_seed(0)
    model = nn.Transformer(d_model=16, nhead=4, num_encoder_layers=1, num_decoder_layers=1,
                           dim_feedforward=32)
    for name, parameter in model.named_parameters():
        if parameter.ndim > 1:
            fan_out, fan_in = parameter.shape[:2]
            bound = np.sqrt(6 / (fan_in + fan_out))
            assert np.abs(parameter.data).max() <= bound, name
            assert np.abs(parameter.data).max() > 0.8 * bound, name
    with pytest.raises(RuntimeError, match="batch number of src"):
        model(Tensor(np.zeros((5, 2, 16), np.float32)), Tensor(np.zeros((3, 4, 16), np.float32)))
    with pytest.raises(RuntimeError, match="equal to d_model"):
        model(Tensor(np.zeros((5, 2, 8), np.float32)), Tensor(np.zeros((3, 2, 8), np.float32)))


def test_transformer_decoder_layer_eval_matches_torch_in_float32():
    theirs = torch.nn.TransformerDecoderLayer(8, 2, dim_feedforward=16, batch_first=True)
    ours = nn.TransformerDecoderLayer(8, 2, dim_feedforward=16, batch_first=True)
    assert repr(ours) == repr(theirs)
    _load_from_torch(ours, theirs)
    ours.eval()
    theirs.eval()
    rng = np.random.default_rng(1)
    tgt = rng.normal(size=(3, 4, 8)).astype(np.float32)
    memory = rng.normal(size=(3, 6, 8)).astype(np.float32)
    out = ours(Tensor(tgt), Tensor(memory))
    with torch.no_grad():
        expected = theirs(torch.from_numpy(tgt), torch.from_numpy(memory))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.data, expected.numpy(), rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="activation should be 'relu' or 'gelu'"):
        nn.TransformerDecoderLayer(8, 2, activation="tanh")
