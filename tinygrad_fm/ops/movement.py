"""Shape and layout: reshape, transpose, expand, indexing, cat/stack, flip, roll, repeat."""

from __future__ import annotations

import numpy as np

from ..autograd import ArrayFunction
from .common import normalize_axis


class Reshape(ArrayFunction):
    returns_view = True

    @staticmethod
    def forward(ctx, x, shape):
        ctx.input_shape = x.shape
        try:
            return x.reshape(shape)
        except ValueError:
            raise ValueError(f"reshape: cannot reshape a tensor of shape {x.shape} "
                             f"({x.size} elements) into shape {tuple(shape)}") from None

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.input_shape), None

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        return grad.reshape(ctx.input_shape), None


class Transpose(ArrayFunction):
    returns_view = True

    @staticmethod
    def forward(ctx, x, given_axes):
        axes = tuple(a + x.ndim if a < 0 else a for a in given_axes)  # -1 is the last axis
        if sorted(axes) != list(range(x.ndim)):
            raise ValueError(f"permute: {tuple(given_axes)} is not a permutation of the "
                             f"{x.ndim} axes of a tensor of shape {x.shape}")
        ctx.axes = axes
        return np.transpose(x, axes)

    @staticmethod
    def backward(ctx, grad):
        return np.transpose(grad, np.argsort(ctx.axes)), None

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        return grad.permute(*(int(a) for a in np.argsort(ctx.axes))), None


class Expand(ArrayFunction):
    returns_view = True

    @staticmethod
    def forward(ctx, x, shape):
        try:
            return np.broadcast_to(x, shape)
        except ValueError:
            raise ValueError(f"expand: a tensor of shape {x.shape} cannot be broadcast to "
                             f"shape {tuple(shape)}") from None

    @staticmethod
    def backward(ctx, grad):
        return grad, None  # the engine sums it back to the input's shape

    differentiable_backward = staticmethod(lambda ctx, grad, inputs, output: (grad, None))


def _has_integer_array(index) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return any(isinstance(i, np.ndarray) and i.dtype != bool for i in items)


class GetItem(ArrayFunction):
    """Indexing with ints, slices, None, Ellipsis, integer arrays and boolean masks."""

    returns_view = True  # basic indexing gives a view

    @staticmethod
    def forward(ctx, x, index):
        try:
            out = x[index]
        except IndexError as error:
            raise IndexError(f"index {index!r} is invalid for a tensor of shape {x.shape}: "
                             f"{error}") from None
        ctx.meta = (x.shape, x.dtype, index)
        return out

    @staticmethod
    def backward(ctx, grad):
        shape, dtype, index = ctx.meta
        return IndexAdd.forward(None, grad, shape, index), None

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        shape, dtype, index = ctx.meta
        return IndexAdd.apply(grad, shape, index), None


class IndexAdd(ArrayFunction):
    """Zeros of ``shape`` with ``values`` added at ``index`` (repeated indices
    accumulate): the adjoint of indexing, so its backward is indexing."""

    @staticmethod
    def forward(ctx, values, shape, index):
        full = np.zeros(shape, dtype=values.dtype)
        if _has_integer_array(index):
            np.add.at(full, index, values)  # repeated indices accumulate
        else:
            full[index] = values
        if ctx is not None:
            ctx.index = index
        return full

    @staticmethod
    def backward(ctx, grad):
        return grad[ctx.index], None, None

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        return GetItem.apply(grad, ctx.index), None, None


class Cat(ArrayFunction):
    @staticmethod
    def forward(ctx, *arrays, axis=0):
        if not arrays:
            raise ValueError("cat: expected at least one tensor")
        (axis,) = normalize_axis(axis, arrays[0].shape, "cat")
        try:
            out = np.concatenate(arrays, axis=axis)
        except ValueError:
            raise ValueError(f"cat: shapes {[a.shape for a in arrays]} differ outside axis "
                             f"{axis}") from None
        ctx.meta = (axis, np.cumsum([a.shape[axis] for a in arrays])[:-1])
        return out

    @staticmethod
    def backward(ctx, grad):
        axis, splits = ctx.meta
        return tuple(np.split(grad, splits, axis=axis))

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        axis, splits = ctx.meta
        bounds = [0, *(int(s) for s in splits), grad.shape[axis]]
        lead = (slice(None),) * axis
        return tuple(GetItem.apply(grad, lead + (slice(start, stop),))
                     for start, stop in zip(bounds, bounds[1:]))


class Stack(ArrayFunction):
    @staticmethod
    def forward(ctx, *arrays, axis=0):
        if not arrays:
            raise ValueError("stack: expected at least one tensor")
        (axis,) = normalize_axis(axis, arrays[0].shape + (1,), "stack")
        try:
            out = np.stack(arrays, axis=axis)
        except ValueError:
            raise ValueError(f"stack: all tensors must have the same shape, got "
                             f"{[a.shape for a in arrays]}") from None
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx, grad):
        return tuple(np.moveaxis(grad, ctx.axis, 0))

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        lead = (slice(None),) * ctx.axis
        return tuple(GetItem.apply(grad, lead + (i,)) for i in range(grad.shape[ctx.axis]))


class Flip(ArrayFunction):
    """Reverse the order along ``axes`` (a copy, as ``torch.flip``)."""

    @staticmethod
    def forward(ctx, x, axis):
        axes = normalize_axis(axis, x.shape, "flip")
        ctx.axes = axes if x.ndim else ()
        return np.flip(x, ctx.axes).copy()

    @staticmethod
    def backward(ctx, grad):
        return np.flip(grad, ctx.axes), None

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        return Flip.apply(grad, ctx.axes), None


class Roll(ArrayFunction):
    """Shift elements cyclically by ``shifts`` along ``axes`` (``torch.roll``); without
    axes the tensor is rolled as if flattened."""

    @staticmethod
    def forward(ctx, x, shifts, axes):
        if axes is None:
            if len(shifts) != 1:
                raise ValueError(f"roll: without dims, shifts must be one int, got "
                                 f"{shifts} (shape {x.shape})")
            ctx.meta = (shifts[0], None)
            return np.roll(x, shifts[0])
        if len(shifts) != len(axes):
            raise ValueError(f"roll: shifts {shifts} and dims {axes} must have the same "
                             f"length (shape {x.shape})")
        normalized = tuple(normalize_axis(a, x.shape, "roll")[0] for a in axes)
        if x.ndim == 0:
            ctx.meta = (0, None)
            return x.copy()
        ctx.meta = (shifts, normalized)
        return np.roll(x, shifts, normalized)

    @staticmethod
    def backward(ctx, grad):
        shifts, axes = ctx.meta
        if axes is None:
            return np.roll(grad, -shifts), None, None
        return np.roll(grad, tuple(-s for s in shifts), axes), None, None

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        shifts, axes = ctx.meta
        if axes is None:
            return Roll.apply(grad, (-shifts,), None), None, None
        return Roll.apply(grad, tuple(-s for s in shifts), axes), None, None


class Repeat(ArrayFunction):
    """``torch.Tensor.repeat``: tile the tensor ``reps[i]`` times along axis i (leading
    reps add new axes); the gradient sums the copies."""

    @staticmethod
    def forward(ctx, x, reps):
        if len(reps) < x.ndim:
            raise ValueError(f"repeat: got {len(reps)} repeat counts {reps} for a tensor of "
                             f"shape {x.shape} with {x.ndim} dimensions; give at least one "
                             "per dimension (tile pads missing ones with 1)")
        if any(r < 0 for r in reps):
            raise ValueError(f"repeat: repeat counts must be >= 0, got {reps} (shape "
                             f"{x.shape})")
        padded = (1,) * (len(reps) - x.ndim) + x.shape
        ctx.meta = (x.shape, padded, reps)
        return np.tile(x.reshape(padded), reps)

    @staticmethod
    def backward(ctx, grad):
        shape, padded, reps = ctx.meta
        interleaved = tuple(n for pair in zip(reps, padded) for n in pair)
        summed = grad.reshape(interleaved).sum(axis=tuple(range(0, len(interleaved), 2)))
        return summed.reshape(shape), None

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        shape, padded, reps = ctx.meta
        interleaved = tuple(n for pair in zip(reps, padded) for n in pair)
        summed = grad.reshape(interleaved).sum(tuple(range(0, len(interleaved), 2)))
        return summed.reshape(shape), None
