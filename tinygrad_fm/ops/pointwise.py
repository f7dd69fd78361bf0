"""More elementwise functions with PyTorch's gradients: sin, cos, tan, log2, log10,
log1p, expm1, rsqrt,
sign, relu6 (hardtanh), hardswish, mish, nan_to_num, atan2, hypot.

Each has the fast array ``backward`` and a ``differentiable_backward`` written with
Tensor ops (for ``create_graph=True``). Domain edges (log1p of x < -1, rsqrt of 0) give
NaN/inf without NumPy warnings, as PyTorch does.
"""

from __future__ import annotations

import numpy as np

from ..autograd import ArrayFunction
from .common import quiet_numpy

__all__ = ["Sin", "Cos", "Tan", "Log2", "Log10", "Log1p", "Expm1", "Rsqrt", "Sign", "Hardtanh", "Hardswish", "Mish",
           "NanToNum", "Atan2", "Hypot"]




def _constant(like, array):
    """A Tensor (not requiring grad) of ``array`` in the class of ``like``."""
    return like._make(np.asarray(array, dtype=like.data.dtype), False)


class Sin(ArrayFunction):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with quiet_numpy():
            return np.sin(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * np.cos(x)

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        return grad * inputs[0].cos()


class Cos(ArrayFunction):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with quiet_numpy():
            return np.cos(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return -grad * np.sin(x)

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        return -grad * inputs[0].sin()


class Tan(ArrayFunction):
    """tan(x); d/dx = 1 + tan(x)^2, from the saved output."""

    @staticmethod
    def forward(ctx, x):
        with quiet_numpy():
            out = np.tan(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * (1 + out * out)

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        return grad * (1 + output * output)


class _LogBase(ArrayFunction):
    """log(x) / log(base), by NumPy's exact log2/log10; d/dx = 1 / (x log(base))."""

    ufunc = staticmethod(np.log2)
    log_base = float(np.log(2))

    @classmethod
    def forward(cls, ctx, x):
        ctx.save_for_backward(x)
        with quiet_numpy():
            return cls.ufunc(x)

    @classmethod
    def backward(cls, ctx, grad):
        (x,) = ctx.saved_tensors
        with quiet_numpy():
            return grad / (x * x.dtype.type(cls.log_base))

    @classmethod
    def differentiable_backward(cls, ctx, grad, inputs, output):
        return grad / (inputs[0] * cls.log_base)


class Log2(_LogBase):
    pass


class Log10(_LogBase):
    ufunc = staticmethod(np.log10)
    log_base = float(np.log(10))


class Log1p(ArrayFunction):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with quiet_numpy():
            return np.log1p(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        with quiet_numpy():
            return grad / (x + 1)

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        return grad / (inputs[0] + 1)


class Expm1(ArrayFunction):
    @staticmethod
    def forward(ctx, x):
        with quiet_numpy():
            out = np.expm1(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * (out + 1)

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        return grad * (output + 1)


class Rsqrt(ArrayFunction):
    """1 / sqrt(x); its gradient is -0.5 * x^(-3/2) = -0.5 * out^3."""

    @staticmethod
    def forward(ctx, x):
        with quiet_numpy():
            out = 1 / np.sqrt(x)
        ctx.save_for_backward(out)
        return out.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        with quiet_numpy():
            return grad * (-0.5 * out * out * out)

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        return grad * (-0.5 * output * output * output)


class Sign(ArrayFunction):
    """-1, 0 or 1 (and 0 for NaN, as PyTorch gives); the gradient is zero."""

    @staticmethod
    def forward(ctx, x):
        out = np.sign(x)
        return np.where(np.isnan(out), 0, out).astype(x.dtype) if x.dtype.kind == "f" else out

    @staticmethod
    def backward(ctx, grad):
        return np.zeros_like(grad)

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        return grad * 0


class Hardtanh(ArrayFunction):
    """clip(x, low, high) with PyTorch's hardtanh gradient: 1 strictly inside (low,
    high), 0 elsewhere (relu6 is hardtanh(x, 0, 6))."""

    @staticmethod
    def forward(ctx, x, low, high):
        ctx.save_for_backward(x)
        ctx.bounds = (low, high)
        return np.clip(x, low, high)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        low, high = ctx.bounds
        return grad * ((x > low) & (x < high)), None, None

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        (x,) = ctx.saved_tensors
        low, high = ctx.bounds
        return grad * _constant(grad, (x > low) & (x < high)), None, None


class Hardswish(ArrayFunction):
    """x * relu6(x + 3) / 6; gradient 0 below -3, (2x + 3) / 6 on [-3, 3], 1 above
    (PyTorch's, including its choice at the two kinks)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * np.clip(x + 3, 0, 6) / 6

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        slope = np.where(x < -3, 0, np.where(x <= 3, (2 * x + 3) / 6, 1)).astype(grad.dtype)
        return grad * slope

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        (x,) = ctx.saved_tensors
        below, middle = _constant(grad, x < -3), _constant(grad, (x >= -3) & (x <= 3))
        above = _constant(grad, x > 3)
        slope = middle * (2 * inputs[0] + 3) / 6 + above + below * 0
        return grad * slope


def _softplus(x):
    return np.logaddexp(0, x)


class Mish(ArrayFunction):
    """x * tanh(softplus(x)); gradient tanh(sp) + x * sigmoid(x) * (1 - tanh(sp)^2)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return (x * np.tanh(_softplus(x))).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        tanh_sp = np.tanh(_softplus(x))
        sigmoid = 0.5 * (1 + np.tanh(0.5 * x))
        return (grad * (tanh_sp + x * sigmoid * (1 - tanh_sp * tanh_sp))).astype(grad.dtype)

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        x = inputs[0]
        tanh_sp = x.softplus(threshold=float("inf")).tanh()
        return grad * (tanh_sp + x * x.sigmoid() * (1 - tanh_sp * tanh_sp))


class NanToNum(ArrayFunction):
    """NaN, +inf and -inf replaced by numbers; the gradient passes only where x is
    finite, as in PyTorch."""

    @staticmethod
    def forward(ctx, x, nan, posinf, neginf):
        ctx.save_for_backward(x)
        return np.nan_to_num(x, copy=True, nan=nan, posinf=posinf, neginf=neginf)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * np.isfinite(x), None, None, None

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        (x,) = ctx.saved_tensors
        return grad * _constant(grad, np.isfinite(x)), None, None, None


class Atan2(ArrayFunction):
    """The angle of the point (x, y), ``atan2(y, x)``; d/dy = x / r^2, d/dx = -y / r^2
    (NaN at the origin, as PyTorch gives)."""

    @staticmethod
    def forward(ctx, y, x):
        ctx.save_for_backward(y, x)
        return np.arctan2(y, x)

    @staticmethod
    def backward(ctx, grad):
        y, x = ctx.saved_tensors
        need_y, need_x = ctx.needs_input_grad
        with quiet_numpy():
            scale = grad / (x * x + y * y)
        return (scale * x if need_y else None), (-scale * y if need_x else None)

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        y, x = inputs
        need_y, need_x = ctx.needs_input_grad
        scale = grad / (x * x + y * y)
        return (scale * x if need_y else None), (-scale * y if need_x else None)


class Hypot(ArrayFunction):
    """``sqrt(a^2 + b^2)`` without overflow; d/da = a / hypot (NaN at the origin, as
    PyTorch gives)."""

    @staticmethod
    def forward(ctx, a, b):
        out = np.hypot(a, b)
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b, out = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        with quiet_numpy():
            scale = grad / out
        return (scale * a if need_a else None), (scale * b if need_b else None)

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        a, b = inputs
        need_a, need_b = ctx.needs_input_grad
        scale = grad / output
        return (scale * a if need_a else None), (scale * b if need_b else None)
