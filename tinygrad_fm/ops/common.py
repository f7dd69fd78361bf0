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


# --------------------------------------------------------------------------- double backward
#
# Helpers for ``differentiable_backward``, which works on Tensors (the ops' inputs and
# output, and the incoming gradient) so that a backward pass can itself be recorded.

def constant(array):
    """A Tensor outside the graph (a mask, a count, a one-hot target)."""
    from ..autograd import _Tensor
    return _Tensor._make(np.asarray(array), False)


def expand_reduced(grad, shape: tuple, axes, keepdims: bool):
    """:func:`_expand_reduced` for a Tensor: the reduced axes back as size 1."""
    if keepdims or axes is None or not shape:
        return grad
    return grad.reshape(tuple(1 if i in axes else n for i, n in enumerate(shape)))


def is_tensor(value) -> bool:
    from ..autograd import _Tensor
    return isinstance(value, _Tensor)


# --------------------------------------------------------------------------- quiet NumPy
#
# PyTorch computes log(-1) = nan, 1/0 = inf and exp(1000) = inf without a warning; NumPy
# warns. Ops whose inputs can reach those cases run inside ``with quiet_numpy():``. The
# setting is prepared once (np.errstate builds it anew on every entry, about 10x the cost
# of this), falling back to np.errstate where NumPy's internals differ.

try:
    from numpy._core._ufunc_config import _extobj_contextvar, _make_extobj

    _QUIET_SETTING = _make_extobj(divide="ignore", over="ignore", invalid="ignore")

    class quiet_numpy:
        """NumPy's divide/overflow/invalid warnings off inside the block."""

        __slots__ = ("_token",)

        def __enter__(self):
            self._token = _extobj_contextvar.set(_QUIET_SETTING)

        def __exit__(self, *exc):
            _extobj_contextvar.reset(self._token)
            return False

except ImportError:  # pragma: no cover - another NumPy layout
    def quiet_numpy():
        return np.errstate(divide="ignore", over="ignore", invalid="ignore")
