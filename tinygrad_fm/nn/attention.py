"""Attention and the transformer encoder: MultiheadAttention, TransformerEncoderLayer and
TransformerEncoder (PyTorch's names, arguments, initialisation, reprs and state-dict
keys, so a PyTorch state dict loads and gives the same outputs). Built from Tensor ops."""

from __future__ import annotations

import copy
import math

import numpy as np

from ..tensor import DEFAULT_DTYPE, Tensor, cat
from . import functional as F
from . import init
from .layers import Dropout, Linear, _check_size
from .module import Module, ModuleList, Parameter
from .normalization import LayerNorm

__all__ = ["MultiheadAttention", "NonDynamicallyQuantizableLinear",
           "TransformerEncoderLayer", "TransformerEncoder"]


class NonDynamicallyQuantizableLinear(Linear):
    """A Linear layer; PyTorch's name for MultiheadAttention's output projection (kept so
    that ``repr`` matches)."""


class MultiheadAttention(Module):
    """Multi-head attention: ``concat(head_1, ..., head_h) W_o`` with
    ``head_i = softmax(Q W_q^i (K W_k^i)^T / sqrt(d) + mask) V W_v^i``.

    Inputs (L, N, E) (``batch_first``: (N, L, E)) or unbatched (L, E); key (S, N, kdim)
    and value (S, N, vdim). ``key_padding_mask`` (N, S) and ``attn_mask`` (L, S) or
    (N * num_heads, L, S): boolean, True = may **not** attend, or float, added to the
    scores. Returns ``(output, weights)``: weights (N, L, S) averaged over heads (or
    (N, num_heads, L, S)), or None unless ``need_weights``. A query whose keys are all
    masked attends to nothing (output and weights 0; PyTorch gives NaN there when it
    returns weights).
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim=None, vdim=None,
                 batch_first: bool = False, device=None, dtype=DEFAULT_DTYPE):
        super().__init__()
        name = "MultiheadAttention"
        self.embed_dim = _check_size(embed_dim, "embed_dim", name)
        self.num_heads = _check_size(num_heads, "num_heads", name)
        if self.embed_dim <= 0 or self.num_heads <= 0:
            raise ValueError(f"{name}: embed_dim and num_heads must be greater than 0, got "
                             f"embed_dim={embed_dim} and num_heads={num_heads}")
        self.head_dim = self.embed_dim // self.num_heads
        if self.head_dim * self.num_heads != self.embed_dim:
            raise ValueError(f"{name}: embed_dim must be divisible by num_heads, got "
                             f"embed_dim={embed_dim} and num_heads={num_heads}")
        self.kdim = self.embed_dim if kdim is None else _check_size(kdim, "kdim", name)
        self.vdim = self.embed_dim if vdim is None else _check_size(vdim, "vdim", name)
        self._qkv_same_embed_dim = self.kdim == self.embed_dim and self.vdim == self.embed_dim
        self.dropout = F.check_dropout_probability(dropout)
        self.batch_first = bool(batch_first)
        E = self.embed_dim
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(np.empty((3 * E, E), dtype=dtype))
            for proj in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(proj, None)
        else:
            self.q_proj_weight = Parameter(np.empty((E, E), dtype=dtype))
            self.k_proj_weight = Parameter(np.empty((E, self.kdim), dtype=dtype))
            self.v_proj_weight = Parameter(np.empty((E, self.vdim), dtype=dtype))
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(np.empty(3 * E, dtype=dtype))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(E, E, bias=bias, dtype=dtype)
        if add_bias_kv:
            self.bias_k = Parameter(np.empty((1, 1, E), dtype=dtype))
            self.bias_v = Parameter(np.empty((1, 1, E), dtype=dtype))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = bool(add_zero_attn)
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        """PyTorch's: Xavier-uniform projections, zero biases, Xavier-normal bias_k/v."""
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    # ------------------------------------------------------------ helpers

    def _projections(self, query: Tensor, key: Tensor, value: Tensor):
        E = self.embed_dim
        bias = self.in_proj_bias
        biases = (None, None, None) if bias is None else (bias[:E], bias[E:2 * E], bias[2 * E:])
        if self._qkv_same_embed_dim:
            if query is key and key is value:  # self-attention: one matmul
                return F.linear(query, self.in_proj_weight, bias).chunk(3, -1)
            weights = (self.in_proj_weight[:E], self.in_proj_weight[E:2 * E],
                       self.in_proj_weight[2 * E:])
        else:
            weights = (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight)
        return tuple(F.linear(x, w, b) for x, w, b in zip((query, key, value), weights, biases))

    def _check_inputs(self, query: Tensor, key: Tensor, value: Tensor) -> bool:
        name = "MultiheadAttention"
        if query.ndim not in (2, 3):
            raise ValueError(f"{name}: query should be 3-D (batched) or 2-D (unbatched), got "
                             f"shape {query.shape}")
        if key.ndim != query.ndim or value.ndim != query.ndim:
            raise ValueError(f"{name}: query, key and value must all be batched (3-D) or all "
                             f"unbatched (2-D), got shapes {query.shape}, {key.shape} and "
                             f"{value.shape}")
        for what, t, size in (("query", query, self.embed_dim), ("key", key, self.kdim),
                              ("value", value, self.vdim)):
            if t.shape[-1] != size:
                setting = {"query": "embed_dim", "key": "kdim", "value": "vdim"}[what]
                raise ValueError(f"{name}: {what} of shape {t.shape} has {t.shape[-1]} "
                                 f"features (last axis), expected {setting}={size}")
        if key.shape[:-1] != value.shape[:-1]:
            raise ValueError(f"{name}: key {key.shape} and value {value.shape} must have the "
                             "same length and batch size")
        if query.ndim == 3:
            batch_axis = 0 if self.batch_first else 1
            if query.shape[batch_axis] != key.shape[batch_axis]:
                raise ValueError(f"{name}: query {query.shape} and key {key.shape} must have "
                                 f"the same batch size (axis {batch_axis})")
        return query.ndim == 3

    def _mask_bias(self, attn_mask, key_padding_mask, batch: int, length: int, source: int,
                   dtype, batched: bool):
        """The masks as one additive array broadcasting to (N, heads, L, S), or None."""
        name = "MultiheadAttention"
        bias = None
        if attn_mask is not None:
            mask = F.attention_bias(attn_mask, dtype, name, allowed_when_true=False)
            if mask.shape == (length, source):
                mask = mask.reshape(1, 1, length, source)
            elif batched and mask.shape == (batch * self.num_heads, length, source):
                mask = mask.reshape(batch, self.num_heads, length, source)
            elif not batched and mask.shape == (self.num_heads, length, source):
                mask = mask.reshape(1, self.num_heads, length, source)
            else:
                heads = (f"({batch * self.num_heads}, {length}, {source})" if batched
                         else f"({self.num_heads}, {length}, {source})")
                raise ValueError(f"{name}: attn_mask of shape {mask.shape} should be "
                                 f"({length}, {source}) or {heads} (query length {length}, key "
                                 f"length {source}, {self.num_heads} heads)")
            bias = mask
        if key_padding_mask is not None:
            mask = F.attention_bias(key_padding_mask, dtype, name, allowed_when_true=False)
            expected = (batch, source) if batched else (source,)
            if mask.shape != expected:
                raise ValueError(f"{name}: key_padding_mask of shape {mask.shape} should be "
                                 f"{expected} (batch, key length)")
            mask = mask.reshape(batch, 1, 1, source)
            bias = mask if bias is None else bias + mask
        return bias

    # ------------------------------------------------------------ forward

    def forward(self, query, key, value, key_padding_mask=None, need_weights: bool = True,
                attn_mask=None, average_attn_weights: bool = True, is_causal: bool = False):
        name = "MultiheadAttention"
        same = query is key, key is value
        query = F._as_tensor(query, name)
        key = query if same[0] else F._as_tensor(key, name)
        value = key if same[1] else F._as_tensor(value, name)
        if is_causal and attn_mask is None:
            raise ValueError(f"{name}: is_causal is a hint that attn_mask is the causal mask; "
                             "give attn_mask too (e.g. an upper-triangular boolean mask, "
                             "True above the diagonal)")
        batched = self._check_inputs(query, key, value)
        if not batched:
            query, key, value = (t.unsqueeze(0) for t in (query, key, value))
        elif not self.batch_first:
            query, key, value = (t.transpose(0, 1) for t in (query, key, value))
        if same[0] and same[1]:
            key = value = query  # keep the identity (one projection for self-attention)
        batch, length, source = query.shape[0], query.shape[1], key.shape[1]
        E, heads, head_dim = self.embed_dim, self.num_heads, self.head_dim
        bias = self._mask_bias(attn_mask, key_padding_mask, batch, length, source,
                               query.dtype, batched)
        q, k, v = self._projections(query, key, value)
        if self.bias_k is not None:
            k = cat([k, self.bias_k.expand(batch, 1, E)], 1)
            v = cat([v, self.bias_v.expand(batch, 1, E)], 1)
            bias = None if bias is None else np.pad(bias, [(0, 0)] * 3 + [(0, 1)])
        q, k, v = (t.reshape(batch, t.shape[1], heads, head_dim).transpose(1, 2)
                   for t in (q, k, v))
        if self.add_zero_attn:
            zeros = Tensor(np.zeros((batch, heads, 1, head_dim), dtype=q.dtype))
            k, v = cat([k, zeros], 2), cat([v, zeros], 2)
            bias = None if bias is None else np.pad(bias, [(0, 0)] * 3 + [(0, 1)])
        dropout_p = self.dropout if self.training else 0.0
        output, weights = F.attention_weights_and_output(q, k, v, bias, dropout_p,
                                                         1.0 / math.sqrt(head_dim))
        output = self.out_proj(output.transpose(1, 2).reshape(batch, length, E))
        if not batched:
            output = output.squeeze(0)
        elif not self.batch_first:
            output = output.transpose(0, 1)
        if not need_weights:
            return output, None
        if average_attn_weights:
            weights = weights.mean(1)
        if not batched:
            weights = weights.squeeze(0)
        return output, weights


# --------------------------------------------------------------------------- transformer


def _activation(activation, layer: str):
    if activation == "relu":
        return F.relu
    if activation == "gelu":
        return F.gelu
    if callable(activation):
        return activation
    raise ValueError(f"{layer}: activation should be 'relu' or 'gelu' (or a callable), not "
                     f"{activation!r}")


def _attention_block(attention, dropout, x, keys, attn_mask, key_padding_mask, is_causal):
    """A Transformer layer's attention of ``x`` to ``keys`` (itself, or the encoder's
    memory), then its dropout."""
    x = attention(x, keys, keys, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                  need_weights=False, is_causal=is_causal)[0]
    return dropout(x)


def _feed_forward_block(layer, x, dropout):
    """A Transformer layer's feed-forward block, then its (last) dropout."""
    return dropout(layer.linear2(layer.dropout(layer.activation(layer.linear1(x)))))


class TransformerEncoderLayer(Module):
    """Self-attention and a feed-forward block, each with a residual connection and a
    LayerNorm: after each block (``norm_first=False``, PyTorch's default) or before it.

    ``src`` (S, N, d_model) (``batch_first``: (N, S, d_model)) or unbatched;
    ``src_mask`` and ``src_key_padding_mask`` as ``attn_mask`` and ``key_padding_mask``
    of :class:`MultiheadAttention`; ``is_causal`` is a hint that ``src_mask`` is causal.
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation="relu", layer_norm_eps: float = 1e-5,
                 batch_first: bool = False, norm_first: bool = False, bias: bool = True,
                 device=None, dtype=DEFAULT_DTYPE):
        super().__init__()
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first, dtype=dtype)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dtype)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dtype)
        self.norm_first = bool(norm_first)
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.activation = _activation(activation, "TransformerEncoderLayer")

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal: bool = False):
        x = F._as_tensor(src, "TransformerEncoderLayer")
        if self.norm_first:
            x = x + self._self_attention_block(self.norm1(x), src_mask, src_key_padding_mask,
                                               is_causal)
            x = x + self._feed_forward_block(self.norm2(x))
        else:
            x = self.norm1(x + self._self_attention_block(x, src_mask, src_key_padding_mask,
                                                          is_causal))
            x = self.norm2(x + self._feed_forward_block(x))
        return x

    def _self_attention_block(self, x, attn_mask, key_padding_mask, is_causal):
        return _attention_block(self.self_attn, self.dropout1, x, x, attn_mask,
                                key_padding_mask, is_causal)

    def _feed_forward_block(self, x):
        return _feed_forward_block(self, x, self.dropout2)


class TransformerEncoder(Module):
    """``num_layers`` copies of ``encoder_layer`` (each with its own parameters, copied
    from it) applied in turn, then ``norm`` if given."""

    def __init__(self, encoder_layer: TransformerEncoderLayer, num_layers: int, norm=None,
                 enable_nested_tensor: bool = True, mask_check: bool = True):
        super().__init__()
        if not isinstance(encoder_layer, Module):
            raise TypeError(f"TransformerEncoder: encoder_layer must be a Module, got "
                            f"{type(encoder_layer).__name__}")
        self.layers = ModuleList([copy.deepcopy(encoder_layer) for _ in range(num_layers)])
        self.num_layers = _check_size(num_layers, "num_layers", "TransformerEncoder")
        self.norm = norm
        self.enable_nested_tensor = enable_nested_tensor  # accepted; no nested tensors here
        self.mask_check = mask_check

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal=None):
        output = src
        for layer in self.layers:
            output = layer(output, src_mask=mask, src_key_padding_mask=src_key_padding_mask,
                           is_causal=bool(is_causal))
        if self.norm is not None:
            output = self.norm(output)
        return output


class TransformerDecoderLayer(Module):
    """Self-attention over the target, attention to the encoder's ``memory``, and a
    feed-forward block, each with a residual connection and a LayerNorm (after each
    block, or before it with ``norm_first``), as PyTorch's.

    ``tgt`` (T, N, d_model) and ``memory`` (S, N, d_model) (``batch_first``: batch
    first) or unbatched; the masks as ``attn_mask`` / ``key_padding_mask`` of
    :class:`MultiheadAttention`; ``tgt_is_causal`` / ``memory_is_causal`` are hints that
    the corresponding mask is causal.
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation="relu", layer_norm_eps: float = 1e-5,
                 batch_first: bool = False, norm_first: bool = False, bias: bool = True,
                 device=None, dtype=DEFAULT_DTYPE):
        super().__init__()
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first, dtype=dtype)
        self.multihead_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                                 batch_first=batch_first, dtype=dtype)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dtype)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dtype)
        self.norm_first = bool(norm_first)
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm3 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.dropout3 = Dropout(dropout)
        self.activation = _activation(activation, "TransformerDecoderLayer")

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None,
                tgt_key_padding_mask=None, memory_key_padding_mask=None,
                tgt_is_causal: bool = False, memory_is_causal: bool = False):
        x = F._as_tensor(tgt, "TransformerDecoderLayer")
        memory = F._as_tensor(memory, "TransformerDecoderLayer")
        self_masks = (tgt_mask, tgt_key_padding_mask, tgt_is_causal)
        memory_masks = (memory_mask, memory_key_padding_mask, memory_is_causal)
        if self.norm_first:
            h = self.norm1(x)
            x = x + _attention_block(self.self_attn, self.dropout1, h, h, *self_masks)
            x = x + _attention_block(self.multihead_attn, self.dropout2, self.norm2(x),
                                     memory, *memory_masks)
            x = x + _feed_forward_block(self, self.norm3(x), self.dropout3)
        else:
            x = self.norm1(x + _attention_block(self.self_attn, self.dropout1, x, x,
                                                *self_masks))
            x = self.norm2(x + _attention_block(self.multihead_attn, self.dropout2, x, memory,
                                                *memory_masks))
            x = self.norm3(x + _feed_forward_block(self, x, self.dropout3))
        return x


class TransformerDecoder(Module):
    """``num_layers`` copies of ``decoder_layer`` (each with its own parameters, copied
    from it) applied in turn to the target, each attending to ``memory``; then ``norm``
    if given."""

    def __init__(self, decoder_layer: TransformerDecoderLayer, num_layers: int, norm=None):
        super().__init__()
        if not isinstance(decoder_layer, Module):
            raise TypeError(f"TransformerDecoder: decoder_layer must be a Module, got "
                            f"{type(decoder_layer).__name__}")
        self.layers = ModuleList([copy.deepcopy(decoder_layer) for _ in range(num_layers)])
        self.num_layers = _check_size(num_layers, "num_layers", "TransformerDecoder")
        self.norm = norm

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None,
                tgt_key_padding_mask=None, memory_key_padding_mask=None,
                tgt_is_causal=None, memory_is_causal: bool = False):
        output = tgt
        for layer in self.layers:
            output = layer(output, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                           tgt_key_padding_mask=tgt_key_padding_mask,
                           memory_key_padding_mask=memory_key_padding_mask,
                           tgt_is_causal=bool(tgt_is_causal),
                           memory_is_causal=memory_is_causal)
        if self.norm is not None:
            output = self.norm(output)
        return output


class Transformer(Module):
    """PyTorch's encoder-decoder ``nn.Transformer``: a :class:`TransformerEncoder` and a
    :class:`TransformerDecoder` (each ending in a LayerNorm), every weight matrix
    initialised Xavier-uniform as PyTorch does. ``forward(src, tgt, ...)`` encodes
    ``src`` and decodes ``tgt`` against it; the masks go to the encoder (``src_*``), the
    decoder's self-attention (``tgt_*``) and its attention to the memory
    (``memory_*``)."""

    def __init__(self, d_model: int = 512, nhead: int = 8, num_encoder_layers: int = 6,
                 num_decoder_layers: int = 6, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation="relu", custom_encoder=None,
                 custom_decoder=None, layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, device=None,
                 dtype=DEFAULT_DTYPE):
        super().__init__()
        layer = dict(dim_feedforward=dim_feedforward, dropout=dropout, activation=activation,
                     layer_norm_eps=layer_norm_eps, batch_first=batch_first,
                     norm_first=norm_first, bias=bias, dtype=dtype)
        norm = dict(eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.encoder = custom_encoder if custom_encoder is not None else TransformerEncoder(
            TransformerEncoderLayer(d_model, nhead, **layer), num_encoder_layers,
            LayerNorm(d_model, **norm))
        self.decoder = custom_decoder if custom_decoder is not None else TransformerDecoder(
            TransformerDecoderLayer(d_model, nhead, **layer), num_decoder_layers,
            LayerNorm(d_model, **norm))
        for parameter in self.parameters():
            if parameter.ndim > 1:
                init.xavier_uniform_(parameter)
        self.d_model = d_model
        self.nhead = nhead
        self.batch_first = batch_first

    def forward(self, src, tgt, src_mask=None, tgt_mask=None, memory_mask=None,
                src_key_padding_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, src_is_causal=None, tgt_is_causal=None,
                memory_is_causal: bool = False):
        src = F._as_tensor(src, "Transformer")
        tgt = F._as_tensor(tgt, "Transformer")
        batch_axis = 0 if self.batch_first else 1
        if src.ndim == 3 and tgt.ndim == 3 and src.shape[batch_axis] != tgt.shape[batch_axis]:
            raise RuntimeError(f"Transformer: the batch number of src ({src.shape}) and tgt "
                               f"({tgt.shape}) must be equal")
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise RuntimeError(f"Transformer: the feature number of src ({src.shape[-1]}) and "
                               f"tgt ({tgt.shape[-1]}) must be equal to d_model "
                               f"({self.d_model})")
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask,
                              is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask,
                            tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)

    @staticmethod
    def generate_square_subsequent_mask(sz: int, device=None, dtype=None) -> Tensor:
        """The causal mask PyTorch adds to attention scores: -inf above the diagonal (a
        position may not attend to a later one), 0 elsewhere."""
        dtype = DEFAULT_DTYPE if dtype is None else dtype
        mask = np.triu(np.full((sz, sz), -np.inf), 1).astype(np.dtype(dtype))
        return Tensor(mask)
