"""Embedding lookup: rows of a weight matrix picked by integer indices."""

from __future__ import annotations

import numpy as np

from ..autograd import ArrayFunction

__all__ = ["EmbeddingLookup", "renormalize_rows"]


def renormalize_rows(weight: np.ndarray, indices: np.ndarray, max_norm: float,
                     norm_type: float) -> None:
    """Rescale, in place, the rows of ``weight`` that ``indices`` pick and whose
    ``norm_type``-norm exceeds ``max_norm`` to norm ``max_norm`` (PyTorch's rule: factor
    ``max_norm / (norm + 1e-7)``)."""
    rows = np.unique(indices)
    picked = weight[rows]
    norms = np.linalg.norm(picked, ord=norm_type, axis=1)
    too_big = norms > max_norm
    scale = (max_norm / (norms[too_big] + 1e-7)).astype(weight.dtype)
    weight[rows[too_big]] = picked[too_big] * scale[:, None]


class EmbeddingLookup(ArrayFunction):
    """``weight[indices]`` for a (num_embeddings, dim) weight; the gradient adds each
    output row back into the row it came from (repeated indices accumulate). The row
    ``padding_idx`` (or None) gets no gradient; with ``scale_grad_by_freq`` each row's
    gradient is divided by how often its index occurs in ``indices`` (PyTorch's). With
    ``max_norm`` the picked rows are first renormalised in place (:func:`renormalize_rows`)."""

    @staticmethod
    def forward(ctx, weight, indices, padding_idx, scale_grad_by_freq, max_norm=None,
                norm_type=2.0):
        if max_norm is not None:  # inside the op, so that a captured step replays it
            renormalize_rows(weight, indices, max_norm, norm_type)
        ctx.meta = (weight.shape, indices, padding_idx, scale_grad_by_freq)
        return weight[indices]

    @staticmethod
    def _row_scale(ctx, dtype):
        """Per-lookup gradient factors (1 / frequency, 0 at padding_idx), or None."""
        _, indices, padding_idx, scale_grad_by_freq = ctx.meta
        if padding_idx is None and not scale_grad_by_freq:
            return None
        flat = indices.reshape(-1)
        scale = np.ones(flat.shape, dtype=dtype)
        if scale_grad_by_freq:
            counts = np.bincount(flat, minlength=ctx.meta[0][0])
            scale /= counts[flat]
        if padding_idx is not None:
            scale[flat == padding_idx] = 0
        return scale[:, None]

    @staticmethod
    def backward(ctx, grad):
        shape, indices, _, _ = ctx.meta
        rows = grad.reshape(-1, shape[1])
        scale = EmbeddingLookup._row_scale(ctx, grad.dtype)
        if scale is not None:
            rows = rows * scale
        full = np.zeros(shape, dtype=grad.dtype)
        np.add.at(full, indices.reshape(-1), rows)
        return full, None, None, None, None, None

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        from ..tensor import Tensor
        shape, indices, _, _ = ctx.meta
        rows = grad.reshape(-1, shape[1])
        scale = EmbeddingLookup._row_scale(ctx, grad.dtype)
        if scale is not None:
            rows = rows * Tensor(scale)
        index = np.broadcast_to(indices.reshape(-1, 1), rows.shape)
        full = Tensor(np.zeros(shape, dtype=grad.dtype)).scatter_add(0, index, rows)
        return (full,) + (None,) * (len(inputs) - 1)
