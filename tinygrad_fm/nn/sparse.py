"""Embedding: a lookup table of vectors indexed by integers (PyTorch's ``nn.Embedding``)."""

from __future__ import annotations

import numpy as np

from ..tensor import DEFAULT_DTYPE, Tensor
from . import functional as F
from . import init
from .layers import _check_size
from .module import Module, Parameter

__all__ = ["Embedding", "EmbeddingBag"]


class Embedding(Module):
    """``weight[input]`` with weight (num_embeddings, embedding_dim) drawn from N(0, 1).

    ``padding_idx``: that row starts at zero and never gets a gradient (negative values
    count from the end). ``max_norm``: looked-up rows whose ``norm_type``-norm exceeds it
    are rescaled in place before the lookup. ``scale_grad_by_freq``: each row's gradient
    is divided by how often its index occurs in the batch.
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx=None,
                 max_norm=None, norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                 sparse: bool = False, _weight=None, _freeze: bool = False,
                 dtype=DEFAULT_DTYPE):
        super().__init__()
        self.num_embeddings = _check_size(num_embeddings, "num_embeddings", "Embedding")
        self.embedding_dim = _check_size(embedding_dim, "embedding_dim", "Embedding")
        if padding_idx is not None:
            padding_idx = F._padding_index(padding_idx, self.num_embeddings, "Embedding")
        self.padding_idx = padding_idx
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = bool(scale_grad_by_freq)
        if sparse:
            raise NotImplementedError("Embedding: sparse gradients are not supported; use "
                                      "sparse=False (the gradient is a dense array)")
        self.sparse = False
        shape = (self.num_embeddings, self.embedding_dim)
        if _weight is None:
            self.weight = Parameter(np.empty(shape, dtype=dtype), requires_grad=not _freeze)
            self.reset_parameters()
        else:
            if tuple(np.shape(_weight.data if isinstance(_weight, Tensor) else _weight)) \
                    != shape:
                raise ValueError(f"Embedding: _weight of shape {np.shape(_weight)} does not "
                                 f"match num_embeddings and embedding_dim {shape}")
            self.weight = Parameter(_weight, requires_grad=not _freeze)

    def reset_parameters(self) -> None:
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx] = 0

    def forward(self, input):
        return F._embedding(input, self.weight, self.padding_idx, self.max_norm,
                            self.norm_type, self.scale_grad_by_freq, op="Embedding")

    def extra_repr(self) -> str:
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            text += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            text += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            text += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq:
            text += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        return text

    @classmethod
    def from_pretrained(cls, embeddings, freeze: bool = True, padding_idx=None,
                        max_norm=None, norm_type: float = 2.0,
                        scale_grad_by_freq: bool = False, sparse: bool = False) -> "Embedding":
        """An Embedding whose weight is ``embeddings`` (2-D; its memory is shared), frozen
        unless ``freeze=False``."""
        array = embeddings.data if isinstance(embeddings, Tensor) else np.asarray(embeddings)
        if array.ndim != 2:
            raise ValueError(f"Embedding.from_pretrained: embeddings must be 2-D "
                             f"(num_embeddings, embedding_dim), got shape {array.shape}")
        return cls(array.shape[0], array.shape[1], padding_idx, max_norm, norm_type,
                   scale_grad_by_freq, sparse, _weight=array, _freeze=freeze)


class EmbeddingBag(Module):
    """The sum, mean or max of the embeddings in each bag, without building the
    per-entry embeddings' tensor yourself (PyTorch's ``nn.EmbeddingBag``); see
    :func:`F.embedding_bag` for bags, offsets and per-sample weights. Weight from
    N(0, 1), the ``padding_idx`` row zero."""

    def __init__(self, num_embeddings: int, embedding_dim: int, max_norm=None,
                 norm_type: float = 2.0, scale_grad_by_freq: bool = False, mode: str = "mean",
                 sparse: bool = False, _weight=None, include_last_offset: bool = False,
                 padding_idx=None, dtype=DEFAULT_DTYPE):
        super().__init__()
        self.num_embeddings = _check_size(num_embeddings, "num_embeddings", "EmbeddingBag")
        self.embedding_dim = _check_size(embedding_dim, "embedding_dim", "EmbeddingBag")
        if mode not in F.EMBEDDING_BAG_MODES:
            raise ValueError(f"EmbeddingBag: mode must be one of {F.EMBEDDING_BAG_MODES}, got "
                             f"{mode!r}")
        if sparse:
            raise NotImplementedError("EmbeddingBag: sparse gradients are not supported; use "
                                      "sparse=False (the gradient is a dense array)")
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = bool(scale_grad_by_freq)
        self.mode = mode
        self.sparse = False
        self.include_last_offset = bool(include_last_offset)
        if padding_idx is not None:
            padding_idx = F._padding_index(padding_idx, self.num_embeddings, "EmbeddingBag")
        self.padding_idx = padding_idx
        shape = (self.num_embeddings, self.embedding_dim)
        if _weight is None:
            self.weight = Parameter(np.empty(shape, dtype=dtype))
            self.reset_parameters()
        else:
            self.weight = Parameter(_weight)
            if self.weight.shape != shape:
                raise ValueError(f"EmbeddingBag: _weight of shape {self.weight.shape} does not "
                                 f"match num_embeddings and embedding_dim {shape}")

    reset_parameters = Embedding.reset_parameters

    def forward(self, input, offsets=None, per_sample_weights=None):
        return F._embedding_bag(input, self.weight, offsets, self.max_norm, self.norm_type,
                                self.scale_grad_by_freq, self.mode, per_sample_weights,
                                self.include_last_offset, self.padding_idx, op="EmbeddingBag")

    def extra_repr(self) -> str:
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.max_norm is not None:
            text += f", max_norm={self.max_norm!r}"
        if self.norm_type != 2:
            text += f", norm_type={self.norm_type!r}"
        if self.scale_grad_by_freq:
            text += f", scale_grad_by_freq={self.scale_grad_by_freq!r}"
        text += f", mode={self.mode!r}"
        if self.padding_idx is not None:
            text += f", padding_idx={self.padding_idx!r}"
        return text

    @classmethod
    def from_pretrained(cls, embeddings, freeze: bool = True, max_norm=None,
                        norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                        mode: str = "mean", sparse: bool = False,
                        include_last_offset: bool = False, padding_idx=None) -> "EmbeddingBag":
        """An EmbeddingBag whose weight is ``embeddings`` (2-D; memory shared), frozen
        unless ``freeze=False``."""
        array = embeddings.data if isinstance(embeddings, Tensor) else np.asarray(embeddings)
        if array.ndim != 2:
            raise ValueError(f"EmbeddingBag.from_pretrained: embeddings must be 2-D, got shape "
                             f"{array.shape}")
        bag = cls(array.shape[0], array.shape[1], max_norm, norm_type, scale_grad_by_freq,
                  mode, sparse, array, include_last_offset, padding_idx)
        bag.weight.requires_grad = not freeze
        return bag
