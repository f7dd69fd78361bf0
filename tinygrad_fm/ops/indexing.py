"""Index-driven ops: gather, scatter, scatter_add, scatter_reduce, diag, tril/triu, sorting."""

from __future__ import annotations

import numpy as np

from ..autograd import ArrayFunction
from .common import constant, normalize_axis, quiet_numpy


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


class ScatterReduce(ArrayFunction):
    """Out-of-place ``torch.scatter_reduce`` for ``reduce`` in sum, prod, mean, amax and
    amin: each ``src`` element is combined into ``out[index[i][j][k]][j][k]`` (axis 0),
    together with this tensor's value there when ``include_self``, else without it
    (positions no index names keep their value). Gradients as PyTorch's: mean divides
    by the count, prod is exact at zeros (products of the others, no division by 0), and
    amax/amin share the gradient equally among the tied elements that give the result
    (a tied self element counts even when excluded, as in PyTorch). Differentiable
    twice, except prod's gradient where ``src`` holds a zero."""

    _START = {"sum": 0, "mean": 0, "prod": 1, "amax": -np.inf, "amin": np.inf}
    _UFUNC = {"sum": np.add, "mean": np.add, "prod": np.multiply, "amax": np.maximum,
              "amin": np.minimum}

    @staticmethod
    def forward(ctx, x, axis, index, src, reduce, include_self):
        src = np.asarray(src)
        axis, index = _checked_index("scatter_reduce", x.shape, axis, index, src.shape)
        target, values = _along_axis(index, axis), src[_src_region(index)]
        self_counts = np.ones(x.shape, dtype=x.dtype)
        if not include_self:
            self_counts[target] = 0
        out = x.copy()
        if not include_self:
            start = ScatterReduce._START[reduce]
            if x.dtype.kind != "f" and start in (-np.inf, np.inf):
                info = np.iinfo(x.dtype)
                start = info.min if start < 0 else info.max
            out[target] = start
        ScatterReduce._UFUNC[reduce].at(out, target, values)
        counts = None
        if reduce == "mean":
            counts = self_counts.copy()
            np.add.at(counts, target, 1)
            out = out / counts if x.dtype.kind == "f" else out // counts.astype(x.dtype)
        ctx.meta = (axis, index, src.shape, reduce, self_counts, counts)
        ctx.save_for_backward(x, src, out)
        return out.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        axis, index, src_shape, reduce, self_counts, counts = ctx.meta
        x, src, out = ctx.saved_tensors
        _, _, _, need_src, _, _ = ctx.needs_input_grad
        target, region = _along_axis(index, axis), _src_region(index)
        values = src[region]
        if reduce in ("sum", "mean"):
            share = grad if counts is None else grad / counts
            grad_x, grad_src_values = share * self_counts, share[target]
        elif reduce == "prod":
            # out = self^included * product of the src values at each position.
            products, nonzero_products = np.ones_like(x), np.ones_like(x)
            zeros = np.zeros(x.shape, dtype=np.int64)
            np.multiply.at(products, target, values)
            np.multiply.at(nonzero_products, target, np.where(values == 0, 1, values))
            np.add.at(zeros, target, (values == 0).astype(np.int64))
            grad_x = np.where(self_counts > 0, grad * products, 0)
            own = np.where(self_counts > 0, x, 1)[target]  # this tensor's factor
            with quiet_numpy():
                others = np.where(zeros[target] == 0, products[target] / values,
                                  np.where((zeros[target] == 1) & (values == 0),
                                           nonzero_products[target], 0))
            grad_src_values = grad[target] * own * others
        else:  # amax / amin: ties share equally
            # PyTorch counts a tied self element even when include_self=False (and then
            # gives it nothing): the same count here, for the same numbers.
            self_hits = (x == out).astype(grad.dtype)
            src_hits = (values == out[target]).astype(grad.dtype)
            hits = self_hits.copy()
            np.add.at(hits, target, src_hits)
            with quiet_numpy():
                share = np.where(hits > 0, grad / hits, 0)
            grad_x, grad_src_values = share * self_hits * self_counts, share[target] * src_hits
        grad_src = None
        if need_src:
            grad_src = np.zeros(src_shape, dtype=grad.dtype)
            grad_src[region] = grad_src_values
        return grad_x.astype(grad.dtype, copy=False), None, None, grad_src, None, None

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        """The same gradients with Tensor ops: the tie and count masks are constants;
        prod's gradients are recorded through the products of the other factors (as
        ``output / src``, so a zero in ``src`` makes them first order only)."""
        from ..autograd import not_differentiable_twice

        axis, index, src_shape, reduce, self_counts, counts = ctx.meta
        x, src, out = ctx.saved_tensors
        _, _, _, need_src, _, _ = ctx.needs_input_grad
        region = _src_region(index)
        dtype = grad.dtype
        if reduce == "prod" and need_src and np.any(src[region] == 0):
            return not_differentiable_twice(ctx, grad, "ScatterReduce",
                                            "prod with a zero in src")
        if reduce in ("sum", "mean"):
            share = grad if counts is None else grad / constant(counts.astype(dtype))
            grad_x, src_mask = share * constant(self_counts.astype(dtype)), None
        elif reduce == "prod":
            ones = constant(np.ones(x.shape, dtype=dtype))
            others = ScatterReduce.apply(ones, axis, index, inputs[3], "prod", True)
            grad_x = grad * others * constant(self_counts.astype(dtype))
            share, src_mask = grad * output, None
        else:
            target = _along_axis(index, axis)
            self_hits = (x == out).astype(dtype)
            src_hits = (src[region] == out[target]).astype(dtype)
            hits = self_hits.copy()
            np.add.at(hits, target, src_hits)
            with quiet_numpy():
                inverse = np.where(hits > 0, 1 / hits, 0).astype(dtype)
            share = grad * constant(inverse)
            grad_x = share * constant(self_hits * self_counts)
            src_mask = np.zeros(src_shape, dtype=dtype)
            src_mask[region] = src_hits
        grad_src = None
        if need_src:
            grad_src = _src_gradient(share, axis, index, src_shape)
            if reduce == "prod":
                grad_src = grad_src / inputs[3]
            elif src_mask is not None:
                grad_src = grad_src * constant(src_mask)
        return grad_x, None, None, grad_src, None, None


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
