"""Differentiable primitives: each forward beside its backward.

Every op works on NumPy arrays. Backward returns gradients in the broadcast (output)
shape where that is natural; the engine sums them back to each input's shape. Ops check
``ctx.needs_input_grad`` so that no gradient is computed that nobody asked for, and
activations keep their *output* for backward (tanh' = 1 - y^2) instead of recomputing.

Python scalars are passed through untouched: under NumPy's promotion rules they never
turn a float32 array into float64, and their gradient is never needed.
"""

from __future__ import annotations

import numpy as np

from .autograd import Function

# --------------------------------------------------------------------------- helpers


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


# --------------------------------------------------------------------------- arithmetic


class Add(Function):
    @staticmethod
    def forward(ctx, a, b):
        try:
            return a + b
        except ValueError:
            raise _broadcast_error("add", a, b) from None

    @staticmethod
    def backward(ctx, grad):
        return grad, grad


class Sub(Function):
    @staticmethod
    def forward(ctx, a, b):
        try:
            return a - b
        except ValueError:
            raise _broadcast_error("sub", a, b) from None

    @staticmethod
    def backward(ctx, grad):
        return grad, (-grad if ctx.needs_input_grad[1] else None)


class Mul(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        try:
            return a * b
        except ValueError:
            raise _broadcast_error("mul", a, b) from None

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        return (grad * b if need_a else None), (grad * a if need_b else None)


class Div(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        try:
            return a / b
        except ValueError:
            raise _broadcast_error("div", a, b) from None

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        grad_a = grad / b if need_a else None
        grad_b = -grad * a / (b * b) if need_b else None
        return grad_a, grad_b


class PowScalar(Function):
    """x ** p for a constant exponent p."""

    @staticmethod
    def forward(ctx, x, exponent):
        ctx.save_for_backward(x)
        ctx.exponent = exponent
        return x ** exponent

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        p = ctx.exponent
        if p == 2:
            return grad * 2 * x, None
        if p == 0:  # constant 1; x ** -1 would make 0 * inf = NaN at x = 0
            return np.zeros_like(grad), None
        return grad * p * x ** (p - 1), None


class Pow(Function):
    """a ** b where the exponent is a tensor too (a > 0 where b's gradient is needed)."""

    @staticmethod
    def forward(ctx, a, b):
        try:
            out = a ** b
        except ValueError:
            raise _broadcast_error("pow", a, b) from None
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b, out = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        grad_a = grad * b * a ** (b - 1) if need_a else None
        grad_b = grad * out * np.log(a, dtype=out.dtype) if need_b else None
        return grad_a, grad_b


class Neg(Function):
    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, grad):
        return -grad


class Abs(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.abs(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * np.sign(x)


class Maximum(Function):
    """Elementwise max; at ties the gradient is shared equally (as in PyTorch)."""

    @staticmethod
    def forward(ctx, a, b):
        try:
            out = np.maximum(a, b)
        except ValueError:
            raise _broadcast_error("maximum", a, b) from None
        ctx.save_for_backward(a, b)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        share_a = (a > b) + grad.dtype.type(0.5) * (a == b)
        need_a, need_b = ctx.needs_input_grad
        return (grad * share_a if need_a else None), (grad * (1 - share_a) if need_b else None)


class Minimum(Function):
    @staticmethod
    def forward(ctx, a, b):
        try:
            out = np.minimum(a, b)
        except ValueError:
            raise _broadcast_error("minimum", a, b) from None
        ctx.save_for_backward(a, b)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        share_a = (a < b) + grad.dtype.type(0.5) * (a == b)
        need_a, need_b = ctx.needs_input_grad
        return (grad * share_a if need_a else None), (grad * (1 - share_a) if need_b else None)


class Clip(Function):
    @staticmethod
    def forward(ctx, x, low, high):
        ctx.save_for_backward(x)
        ctx.bounds = (low, high)
        return np.clip(x, low, high)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        low, high = ctx.bounds
        inside = np.ones(x.shape, dtype=bool)
        if low is not None:
            inside &= x >= low
        if high is not None:
            inside &= x <= high
        return grad * inside, None, None


class Where(Function):
    @staticmethod
    def forward(ctx, condition, a, b):
        condition = np.asarray(condition, dtype=bool)
        ctx.save_for_backward(condition)
        try:
            return np.where(condition, a, b)
        except ValueError:
            raise ValueError(
                f"where: condition {condition.shape}, a {np.shape(a)} and b {np.shape(b)} "
                "cannot be broadcast together") from None

    @staticmethod
    def backward(ctx, grad):
        (condition,) = ctx.saved_tensors
        _, need_a, need_b = ctx.needs_input_grad
        zero = np.zeros((), dtype=grad.dtype)
        return (None,
                np.where(condition, grad, zero) if need_a else None,
                np.where(condition, zero, grad) if need_b else None)


class Clone(Function):
    """A copy of the data that stays in the graph (PyTorch's ``Tensor.clone``)."""

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, grad):
        return grad


class Cast(Function):
    @staticmethod
    def forward(ctx, x, dtype):
        ctx.input_dtype = x.dtype
        return x.astype(dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        return grad.astype(ctx.input_dtype, copy=False), None


# --------------------------------------------------------------------------- matmul


class MatMul(Function):
    """NumPy matmul semantics: 1-D vectors, 2-D matrices, N-D stacks with broadcasting."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        try:
            return np.matmul(a, b)
        except ValueError:
            raise ValueError(
                f"matmul: shapes {np.shape(a)} and {np.shape(b)} do not fit: the last axis "
                "of the first must equal the second-to-last (or only) axis of the second, "
                "and leading (batch) axes must broadcast") from None

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        if a.ndim == 2 and b.ndim == 2:
            return (grad @ b.T if need_a else None), (a.T @ grad if need_b else None)
        if a.ndim == 1 and b.ndim == 1:  # dot product
            return (grad * b if need_a else None), (grad * a if need_b else None)
        # Promote vectors to matrices so one rule covers every case, then undo it.
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        g2 = grad
        if a.ndim == 1:
            g2 = np.expand_dims(g2, -2)
        if b.ndim == 1:
            g2 = np.expand_dims(g2, -1)
        grad_a = grad_b = None
        if need_a:
            grad_a = g2 @ np.swapaxes(b2, -1, -2)
            if a.ndim == 1:
                grad_a = grad_a.reshape(-1, a.shape[0]).sum(axis=0) if grad_a.ndim > 2 \
                    else grad_a[0]
        if need_b:
            grad_b = np.swapaxes(a2, -1, -2) @ g2
            if b.ndim == 1:
                grad_b = grad_b.reshape(-1, b.shape[0]).sum(axis=0) if grad_b.ndim > 2 \
                    else grad_b[:, 0]
        return grad_a, grad_b


class Linear(Function):
    """x @ weight.T + bias in one op (weight is (out_features, in_features), as in PyTorch)."""

    @staticmethod
    def forward(ctx, x, weight, bias=None):
        ctx.save_for_backward(x, weight)
        try:
            out = x @ weight.T
        except ValueError:
            raise ValueError(
                f"linear: input of shape {np.shape(x)} does not fit weight of shape "
                f"{np.shape(weight)}: the input's last axis must be in_features = "
                f"{np.shape(weight)[-1]}") from None
        if bias is not None:
            out += bias
        return out

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        need_x, need_w, need_b = (ctx.needs_input_grad + (False,))[:3]
        grad_2d = grad.reshape(-1, grad.shape[-1]) if grad.ndim != 2 else grad
        grad_x = grad @ weight if need_x else None
        grad_w = grad_b = None
        if need_w:
            x_2d = x.reshape(-1, x.shape[-1]) if x.ndim != 2 else x
            grad_w = grad_2d.T @ x_2d
        if need_b:
            grad_b = grad_2d.sum(axis=0)
        return grad_x, grad_w, grad_b


# --------------------------------------------------------------------------- unary


class Exp(Function):
    @staticmethod
    def forward(ctx, x):
        out = np.exp(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * out


class Log(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / x


class Sqrt(Function):
    @staticmethod
    def forward(ctx, x):
        out = np.sqrt(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * 0.5 / out


class Tanh(Function):
    @staticmethod
    def forward(ctx, x):
        out = np.tanh(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        # np.square: about twice as fast as np.multiply(out, out); np.asarray: a 0-d input
        # gives a NumPy scalar, which out= rejects.
        slope = np.asarray(np.square(out))
        np.subtract(1, slope, out=slope)
        slope *= grad
        return slope


def stable_sigmoid(x):
    # 0.5 * (1 + tanh(x / 2)) never overflows, unlike 1 / (1 + exp(-x)).
    out = np.tanh(x * 0.5)
    out += 1
    out *= 0.5
    return out


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, x):
        out = stable_sigmoid(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * out * (1 - out)


class Relu(Function):
    @staticmethod
    def forward(ctx, x):
        out = np.maximum(x, 0)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * (out > 0)


class LeakyRelu(Function):
    @staticmethod
    def forward(ctx, x, negative_slope):
        ctx.save_for_backward(x)
        ctx.negative_slope = negative_slope
        return np.where(x > 0, x, x * negative_slope)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return np.where(x > 0, grad, grad * ctx.negative_slope), None


class Softplus(Function):
    """log(1 + exp(beta * x)) / beta, linear above ``threshold`` (PyTorch's definition)."""

    @staticmethod
    def forward(ctx, x, beta, threshold):
        scaled = x * beta
        ctx.save_for_backward(scaled)
        ctx.threshold = threshold
        return np.where(scaled > threshold, x, np.logaddexp(0, scaled) / beta)

    @staticmethod
    def backward(ctx, grad):
        (scaled,) = ctx.saved_tensors
        slope = np.where(scaled > ctx.threshold, 1, stable_sigmoid(scaled)).astype(grad.dtype)
        return grad * slope, None, None


# --------------------------------------------------------------------------- reductions


class Sum(Function):
    @staticmethod
    def forward(ctx, x, axis, keepdims):
        axes = reduction_axes(axis, x.shape, "sum")
        ctx.meta = (x.shape, axes, keepdims)
        return np.sum(x, axis=axes, keepdims=keepdims)

    @staticmethod
    def backward(ctx, grad):
        shape, axes, keepdims = ctx.meta
        return np.broadcast_to(_expand_reduced(grad, shape, axes, keepdims), shape), None, None


class Mean(Function):
    @staticmethod
    def forward(ctx, x, axis, keepdims):
        axes = reduction_axes(axis, x.shape, "mean")
        ctx.meta = (x.shape, axes, keepdims)
        return np.mean(x, axis=axes, keepdims=keepdims)

    @staticmethod
    def backward(ctx, grad):
        shape, axes, keepdims = ctx.meta
        grad = _expand_reduced(grad, shape, axes, keepdims) / max(_reduced_count(shape, axes), 1)
        return np.broadcast_to(grad, shape), None, None


class _Extremum(Function):
    """max/min over axes; the gradient is shared equally among tied extreme elements."""

    reduce = None
    name = ""

    @classmethod
    def forward(cls, ctx, x, axis, keepdims):
        axes = reduction_axes(axis, x.shape, cls.name)
        if x.size == 0:
            raise ValueError(f"{cls.name}: cannot reduce an empty tensor of shape {x.shape}")
        out = cls.reduce(x, axis=axes, keepdims=True)
        ctx.save_for_backward(x, out)
        ctx.meta = (axes, keepdims)
        return out if keepdims else np.squeeze(out, axis=axes)

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        axes, keepdims = ctx.meta
        mask = x == out
        grad = _expand_reduced(grad, x.shape, axes, keepdims)
        return grad * mask / mask.sum(axis=axes, keepdims=True, dtype=grad.dtype), None, None


class Max(_Extremum):
    reduce = staticmethod(np.max)
    name = "max"


class Min(_Extremum):
    reduce = staticmethod(np.min)
    name = "min"


class Var(Function):
    """Variance with Bessel's ``correction`` (1 by default, as in PyTorch)."""

    @staticmethod
    def forward(ctx, x, axis, correction, keepdims):
        axes = reduction_axes(axis, x.shape, "var")
        centered = x - np.mean(x, axis=axes, keepdims=True)
        dof = _reduced_count(x.shape, axes) - correction
        ctx.save_for_backward(centered)
        ctx.meta = (axes, keepdims, dof)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.sum(np.square(centered), axis=axes, keepdims=keepdims) / dof

    @staticmethod
    def backward(ctx, grad):
        (centered,) = ctx.saved_tensors
        axes, keepdims, dof = ctx.meta
        grad = _expand_reduced(grad, centered.shape, axes, keepdims)
        # dof == 0 (one element, correction 1): NaN like the forward and PyTorch
        return grad * centered * (2.0 / dof if dof else float("nan")), None, None, None


class LogSumExp(Function):
    @staticmethod
    def forward(ctx, x, axis, keepdims):
        axes = reduction_axes(axis, x.shape, "logsumexp")
        shift = np.max(x, axis=axes, keepdims=True)
        shift = np.where(np.isfinite(shift), shift, 0)
        out = np.log(np.sum(np.exp(x - shift), axis=axes, keepdims=True)) + shift
        ctx.save_for_backward(x, out)
        ctx.meta = (axes, keepdims)
        return out if keepdims else np.squeeze(out, axis=axes)

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        axes, keepdims = ctx.meta
        grad = _expand_reduced(grad, x.shape, axes, keepdims)
        return grad * np.exp(x - out), None, None


# --------------------------------------------------------------------------- softmax


def log_softmax_array(x, axis):
    shifted = x - np.max(x, axis=axis, keepdims=True)
    shifted -= np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))
    return shifted


class Softmax(Function):
    @staticmethod
    def forward(ctx, x, axis):
        (axis,) = normalize_axis(axis, x.shape, "softmax")
        out = np.exp(x - np.max(x, axis=axis, keepdims=True))
        out /= np.sum(out, axis=axis, keepdims=True)
        ctx.save_for_backward(out)
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return out * (grad - np.sum(grad * out, axis=ctx.axis, keepdims=True)), None


class LogSoftmax(Function):
    @staticmethod
    def forward(ctx, x, axis):
        (axis,) = normalize_axis(axis, x.shape, "log_softmax")
        out = log_softmax_array(x, axis)
        ctx.save_for_backward(out)
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad - np.exp(out) * np.sum(grad, axis=ctx.axis, keepdims=True), None


# --------------------------------------------------------------------------- movement


class Reshape(Function):
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


class Transpose(Function):
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


class Expand(Function):
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


def _has_integer_array(index) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return any(isinstance(i, np.ndarray) and i.dtype != bool for i in items)


class GetItem(Function):
    """Indexing with ints, slices, None, Ellipsis, integer arrays and boolean masks."""

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
        full = np.zeros(shape, dtype=grad.dtype)
        if _has_integer_array(index):
            np.add.at(full, index, grad)  # repeated indices accumulate
        else:
            full[index] = grad
        return full, None


class Cat(Function):
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


class Stack(Function):
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
