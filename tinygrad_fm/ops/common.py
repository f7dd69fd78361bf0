"""Shape and axis helpers shared by the op families."""

from __future__ import annotations

import numpy as np



class AxisError(ValueError, IndexError):
    """An axis that does not exist in a tensor's shape."""


def normalize_axis(axis, shape: tuple, op: str):
    """Return ``axis`` as a sorted tuple of non-negative ints, or None for "all axes"."""
    if axis is None:
        return None
    ndim = len(shape)
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    normalized = []
    for a in axes:
        if not isinstance(a, (int, np.integer)) or isinstance(a, bool):
            raise TypeError(f"{op}: axis must be an int or a tuple of ints, got {a!r}")
        bound = max(ndim, 1)  # a 0-d tensor takes axis 0 and -1, as in PyTorch
        if not -bound <= a < bound:
            raise AxisError(f"{op}: axis {a} is out of range for a tensor of shape "
                            f"{shape} (valid axes are {-bound}..{bound - 1})")
        normalized.append(int(a) % ndim if ndim else 0)
    if len(set(normalized)) != len(normalized):
        raise AxisError(f"{op}: axis {axis} repeats an axis (shape {shape})")
    return tuple(sorted(normalized))


def _broadcast_error(op: str, a, b) -> ValueError:
    return ValueError(
        f"{op}: shapes {np.shape(a)} and {np.shape(b)} cannot be broadcast together; "
        "aligned from the right, each pair of sizes must be equal or one of them 1")


def _expand_reduced(grad, shape: tuple, axes, keepdims: bool):
    """Give a reduction's output gradient back the reduced axes (as size 1)."""
    if not keepdims and axes is not None and shape:
        grad = np.expand_dims(grad, axes)
    return grad


def reduction_axes(axis, shape: tuple, op: str):
    """normalize_axis for reductions: on a 0-d tensor, axis 0 or -1 reduces nothing
    (as in PyTorch), where NumPy would reject the axis."""
    axes = normalize_axis(axis, shape, op)
    return () if axes and not shape else axes


def _reduced_count(shape: tuple, axes) -> int:
    if axes is None:
        return int(np.prod(shape, dtype=np.int64))
    return int(np.prod([shape[a] for a in axes], dtype=np.int64))
