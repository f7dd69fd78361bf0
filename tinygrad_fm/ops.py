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


class MaskedFill(Function):
    """``value`` where ``mask`` is true, else ``x`` (PyTorch's ``masked_fill``); the
    result has the broadcast shape of ``x`` and ``mask``. Differentiable in ``x`` and in
    ``value`` when that is a 0-d tensor."""

    @staticmethod
    def forward(ctx, x, mask, value):
        mask = np.asarray(mask)
        if mask.dtype != np.bool_:
            raise TypeError(f"masked_fill: mask must be a bool tensor, got dtype {mask.dtype} "
                            f"(shape {mask.shape}); compare first, e.g. x > 0, or use "
                            ".astype(bool)")
        if np.ndim(value) != 0:
            raise ValueError(f"masked_fill: value must be a number or a 0-d tensor, got "
                             f"shape {np.shape(value)} (tensor shape {x.shape})")
        try:
            out = np.where(mask, np.asarray(value).astype(x.dtype), x)
        except ValueError:
            raise ValueError(f"masked_fill: mask of shape {mask.shape} cannot be broadcast "
                             f"with the tensor of shape {x.shape}") from None
        ctx.save_for_backward(mask)
        return out

    @staticmethod
    def backward(ctx, grad):
        (mask,) = ctx.saved_tensors
        need_x, _, need_value = ctx.needs_input_grad
        zero = np.zeros((), dtype=grad.dtype)
        return (np.where(mask, zero, grad) if need_x else None, None,
                np.sum(np.where(mask, grad, zero)) if need_value else None)


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


class Norm(Function):
    """The vector p-norm over ``axis`` (all axes by default), ``torch.norm``'s forward
    and backward: p = 2, 1, +-inf, 0 (the count of non-zeros, gradient 0) and any other
    real p. Where the norm is 0 the gradient is 0 (torch's subgradient choice); with p =
    +-inf it is shared equally among the elements of largest (smallest) magnitude."""

    @staticmethod
    def forward(ctx, x, p, axis, keepdims):
        if x.dtype.kind not in "fc":
            raise TypeError(f"norm: expected a floating-point tensor, got dtype {x.dtype} "
                            f"(shape {x.shape}); convert it first, e.g. x.float()")
        p = float(p)
        if np.isnan(p):
            raise ValueError("norm: p must be a number, got nan")
        axes = reduction_axes(axis, x.shape, "norm")
        magnitude = np.abs(x)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            if p == 2:
                out = np.sqrt(np.sum(np.square(x), axis=axes, keepdims=True))
            elif p == 1:
                out = np.sum(magnitude, axis=axes, keepdims=True)
            elif np.isinf(p):
                if _reduced_count(x.shape, axes) == 0:
                    raise ValueError(f"norm: the {p} norm of an empty tensor (shape "
                                     f"{x.shape}, axis {axis}) is undefined: it has no "
                                     "identity")
                out = (np.max if p > 0 else np.min)(magnitude, axis=axes, keepdims=True)
            elif p == 0:
                out = np.sum(x != 0, axis=axes, keepdims=True, dtype=x.dtype)
            else:
                out = np.sum(magnitude ** p, axis=axes, keepdims=True) ** (1 / p)
        ctx.save_for_backward(x, out)
        ctx.meta = (p, axes)
        return out if keepdims else np.squeeze(out, axis=axes) if axes is not None \
            else out.reshape(())

    @staticmethod
    def backward(ctx, grad):
        x, norm = ctx.saved_tensors
        p, axes = ctx.meta
        grad = grad.reshape(norm.shape)  # the reduced axes back, as size 1
        zero = np.zeros((), dtype=grad.dtype)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            if p == 0:
                result = np.zeros(x.shape, dtype=grad.dtype)
            elif p == 1:
                result = np.sign(x) * grad
            elif p == 2:
                result = x * np.where(norm == 0, zero, grad / norm)
            elif np.isinf(p):
                magnitude = np.abs(x)
                mask = (magnitude == norm) | np.isnan(magnitude)
                count = np.sum(mask, axis=axes, keepdims=True, dtype=grad.dtype)
                result = np.sign(x) * (grad / count) * mask
            elif p < 1:
                scaled = np.sign(x) * np.where(x == 0, zero, np.abs(x) ** (p - 1))
                result = scaled * grad * norm ** (1 - p)
            else:
                scaled = np.sign(x) * np.abs(x) ** (p - 1) if p < 2 else \
                    x * np.abs(x) ** (p - 2)
                result = scaled * np.where(norm == 0, zero, grad / norm ** (p - 1))
        return result, None, None, None


class Cumsum(Function):
    """Running sums along one axis; the gradient is the running sum from the other end."""

    @staticmethod
    def forward(ctx, x, axis):
        (axis,) = normalize_axis(axis, x.shape, "cumsum")
        ctx.axis = axis
        if x.ndim == 0:
            return x.copy()
        return np.cumsum(x, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        if grad.ndim == 0:
            return grad, None
        axis = ctx.axis
        return np.flip(np.cumsum(np.flip(grad, axis), axis=axis), axis), None


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


class Flip(Function):
    """Reverse the order along ``axes`` (a copy, as ``torch.flip``)."""

    @staticmethod
    def forward(ctx, x, axis):
        axes = normalize_axis(axis, x.shape, "flip")
        ctx.axes = axes if x.ndim else ()
        return np.flip(x, ctx.axes).copy()

    @staticmethod
    def backward(ctx, grad):
        return np.flip(grad, ctx.axes), None


class Roll(Function):
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


class Repeat(Function):
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


class Gather(Function):
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


def _src_region(index: np.ndarray) -> tuple:
    return tuple(slice(0, n) for n in index.shape)


class Scatter(Function):
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


class ScatterAdd(Function):
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


class Diag(Function):
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


class Triangle(Function):
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


def sort_indices(x: np.ndarray, axis: int, descending: bool) -> np.ndarray:
    """Stable argsort along ``axis`` (ties keep their order, also when descending); NaN
    counts as the largest value, as in PyTorch."""
    if not descending:
        return np.argsort(x, axis=axis, kind="stable")
    n = x.shape[axis]
    reversed_order = np.argsort(np.flip(x, axis), axis=axis, kind="stable")
    return (n - 1) - np.flip(reversed_order, axis)
