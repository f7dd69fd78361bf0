"""Index-driven ops: gather, scatter, scatter_add, diag, tril/triu, sorting."""

from __future__ import annotations

import numpy as np

from ..autograd import ArrayFunction
from .common import constant, normalize_axis


def _checked_index(op: str, x_shape: tuple, axis, index, src_shape=None):
    """Validate a gather/scatter index against PyTorch's rules; return (axis, index)."""
    index = np.asarray(index)
    if index.dtype.kind not in "iu":
        raise TypeError(f"{op}: index must be an integer tensor (int64, as in PyTorch), got "
                        f"dtype {index.dtype} (index shape {index.shape}, input shape "
                        f"{x_shape})")
    (axis,) = normalize_axis(axis, x_shape, op)
    if index.ndim != len(x_shape):
        raise ValueError(f"{op}: index of shape {index.shape} must have as many dimensions "
                         f"as the input of shape {x_shape}")
    if src_shape is not None and len(src_shape) != len(x_shape):
        raise ValueError(f"{op}: src of shape {src_shape} must have as many dimensions as "
                         f"the input of shape {x_shape}")
    for d, n in enumerate(index.shape):
        if d != axis and n > x_shape[d]:
            raise ValueError(f"{op}: index of shape {index.shape} is larger than the input "
                             f"of shape {x_shape} at dimension {d}; only dimension {axis} "
                             "may be larger")
        if src_shape is not None and n > src_shape[d]:
            raise ValueError(f"{op}: index of shape {index.shape} is larger than src of "
                             f"shape {src_shape} at dimension {d}")
    size = x_shape[axis] if x_shape else 1
    if index.size:
        low, high = int(index.min()), int(index.max())
        if low < 0 or high >= size:
            bad = low if low < 0 else high
            raise IndexError(f"{op}: index {bad} is out of bounds for dimension {axis} with "
                             f"size {size} (input shape {x_shape}); indices must lie in "
                             f"[0, {size})")
    return axis, index


def _along_axis(index: np.ndarray, axis: int) -> tuple:
    """The advanced index that picks ``[..., index[i, j, k], ...]`` at position (i, j, k)
    with ``index`` standing in for ``axis`` (open ranges for the other axes)."""
    if index.ndim == 0:
        return (index,)
    items = [np.arange(n).reshape((-1,) + (1,) * (index.ndim - 1 - d))
             for d, n in enumerate(index.shape)]
    items[axis] = index
    return tuple(items)


class Gather(ArrayFunction):
    """``out[i][j][k] = x[index[i][j][k]][j][k]`` for axis 0 (``torch.gather``); the
    gradient is scattered back with repeated indices accumulating."""

    @staticmethod
    def forward(ctx, x, axis, index):
        axis, index = _checked_index("gather", x.shape, axis, index)
        ctx.meta = (x.shape, index, axis)
        if x.ndim == 0:  # a 0-d index (checked) can only pick the one element
            return x.copy()
        return x[_along_axis(index, axis)]

    @staticmethod
    def backward(ctx, grad):
        shape, index, axis = ctx.meta
        if not shape:
            return grad, None, None
        full = np.zeros(shape, dtype=grad.dtype)
        np.add.at(full, _along_axis(index, axis), grad)
        return full, None, None

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        shape, index, axis = ctx.meta
        if not shape:
            return grad, None, None
        zeros = constant(np.zeros(shape, dtype=grad.dtype))
        return ScatterAdd.apply(zeros, axis, index, grad), None, None


def _src_region(index: np.ndarray) -> tuple:
    return tuple(slice(0, n) for n in index.shape)


class Scatter(ArrayFunction):
    """Out-of-place ``torch.scatter``: a copy of ``x`` with ``out[index[i][j][k]][j][k] =
    src[i][j][k]`` for axis 0 (``src`` a tensor or a number). Where an index repeats, one
    of the written values wins (unspecified, as in PyTorch), and every ``src`` element
    gets the gradient of its target, as in PyTorch."""

    @staticmethod
    def forward(ctx, x, axis, index, src):
        scalar = np.ndim(src) == 0 and not isinstance(src, np.ndarray)
        axis, index = _checked_index("scatter", x.shape, axis, index,
                                     None if scalar else np.shape(src))
        out = x.copy()
        ctx.meta = (index, axis, np.shape(src))
        if x.ndim == 0:  # the 0-d index writes the one element
            out[()] = src if scalar else src[()]
            return out
        out[_along_axis(index, axis)] = src if scalar else src[_src_region(index)]
        return out

    @staticmethod
    def backward(ctx, grad):
        index, axis, src_shape = ctx.meta
        _, _, _, need_src = ctx.needs_input_grad
        if grad.ndim == 0:
            return (np.zeros_like(grad), None, None,
                    grad.reshape(src_shape) if need_src else None)
        target = _along_axis(index, axis)
        grad_x = grad.copy()
        grad_x[target] = 0
        grad_src = None
        if need_src:
            grad_src = np.zeros(src_shape, dtype=grad.dtype)
            grad_src[_src_region(index)] = grad[target]
        return grad_x, None, None, grad_src

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        index, axis, src_shape = ctx.meta
        _, _, _, need_src = ctx.needs_input_grad
        if grad.ndim == 0:
            return (constant(np.zeros_like(grad.data)), None, None,
                    grad.reshape(src_shape) if need_src else None)
        grad_x = Scatter.apply(grad, axis, index, grad.dtype.type(0))
        return grad_x, None, None, _src_gradient(grad, axis, index, src_shape) \
            if need_src else None


def _src_gradient(grad, axis, index, src_shape):
    """The gradient of a scatter's ``src`` (recorded): the output gradient at each
    element's target, in the region of ``src`` that the index covers (zeros beyond)."""
    from .movement import IndexAdd

    picked = Gather.apply(grad, axis, index)
    if picked.shape == tuple(src_shape):
        return picked
    return IndexAdd.apply(picked, tuple(src_shape), _src_region(index))


class ScatterAdd(ArrayFunction):
    """Out-of-place ``torch.scatter_add``: a copy of ``x`` with ``src[i][j][k]`` added at
    ``[index[i][j][k]][j][k]`` for axis 0 (repeated indices accumulate)."""

    @staticmethod
    def forward(ctx, x, axis, index, src):
        src = np.asarray(src)
        axis, index = _checked_index("scatter_add", x.shape, axis, index, src.shape)
        out = x.copy()
        ctx.meta = (index, axis, src.shape)
        if x.ndim == 0:
            out += src[()]
            return out
        np.add.at(out, _along_axis(index, axis), src[_src_region(index)])
        return out

    @staticmethod
    def backward(ctx, grad):
        index, axis, src_shape = ctx.meta
        _, _, _, need_src = ctx.needs_input_grad
        grad_src = None
        if need_src:
            grad_src = np.zeros(src_shape, dtype=grad.dtype)
            if grad.ndim == 0:
                grad_src[()] = grad
            else:
                grad_src[_src_region(index)] = grad[_along_axis(index, axis)]
        return grad, None, None, grad_src

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        index, axis, src_shape = ctx.meta
        _, _, _, need_src = ctx.needs_input_grad
        grad_src = None
        if need_src:
            grad_src = grad.reshape(src_shape) if grad.ndim == 0 else \
                _src_gradient(grad, axis, index, src_shape)
        return grad, None, None, grad_src


class Diag(ArrayFunction):
    """``torch.diag``: a 1-D tensor becomes a square matrix with it on diagonal ``k``; a
    2-D tensor gives its ``k``-th diagonal (a copy)."""

    @staticmethod
    def forward(ctx, x, k):
        if x.ndim not in (1, 2):
            raise ValueError(f"diag: expected a 1-D or 2-D tensor, got shape {x.shape}")
        ctx.meta = (x.shape, k)
        return np.diag(x, k) if x.ndim == 1 else np.diagonal(x, k).copy()

    @staticmethod
    def backward(ctx, grad):
        shape, k = ctx.meta
        if len(shape) == 1:
            return np.diagonal(grad, k).copy(), None
        full = np.zeros(shape, dtype=grad.dtype)
        steps = np.arange(grad.shape[0])
        full[steps + max(-k, 0), steps + max(k, 0)] = grad
        return full, None

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        from .movement import IndexAdd

        shape, k = ctx.meta
        if len(shape) == 1:
            return Diag.apply(grad, k), None
        steps = np.arange(grad.shape[0])
        return IndexAdd.apply(grad, shape, (steps + max(-k, 0), steps + max(k, 0))), None


class Triangle(ArrayFunction):
    """``torch.tril`` / ``torch.triu`` over the last two axes (zeros elsewhere)."""

    @staticmethod
    def forward(ctx, x, k, upper):
        if x.ndim < 2:
            raise ValueError(f"{'triu' if upper else 'tril'}: expected a tensor with at "
                             f"least 2 dimensions, got shape {x.shape}")
        ctx.meta = (k, upper)
        return np.triu(x, k) if upper else np.tril(x, k)

    @staticmethod
    def backward(ctx, grad):
        k, upper = ctx.meta
        return (np.triu(grad, k) if upper else np.tril(grad, k)), None, None

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        k, upper = ctx.meta
        return Triangle.apply(grad, k, upper), None, None


def sort_indices(x: np.ndarray, axis: int, descending: bool) -> np.ndarray:
    """Stable argsort along ``axis`` (ties keep their order, also when descending); NaN
    counts as the largest value, as in PyTorch."""
    if not descending:
        return np.argsort(x, axis=axis, kind="stable")
    n = x.shape[axis]
    reversed_order = np.argsort(np.flip(x, axis), axis=axis, kind="stable")
    return (n - 1) - np.flip(reversed_order, axis)
