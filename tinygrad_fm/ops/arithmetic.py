"""Arithmetic and elementwise selection: + - * / **, abs, max/min, clip, where, casts, masked_fill."""

from __future__ import annotations

import numpy as np

from ..autograd import ArrayFunction
from .common import _broadcast_error, constant, is_tensor, quiet_numpy


class Add(ArrayFunction):
    @staticmethod
    def forward(ctx, a, b):
        try:
            return a + b
        except ValueError:
            raise _broadcast_error("add", a, b) from None

    @staticmethod
    def backward(ctx, grad):
        return grad, grad

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        return grad, grad


class Sub(ArrayFunction):
    @staticmethod
    def forward(ctx, a, b):
        try:
            return a - b
        except ValueError:
            raise _broadcast_error("sub", a, b) from None

    @staticmethod
    def backward(ctx, grad):
        return grad, (-grad if ctx.needs_input_grad[1] else None)

    differentiable_backward = staticmethod(
        lambda ctx, grad, inputs, output: Sub.backward(ctx, grad))


class Mul(ArrayFunction):
    @staticmethod
    def forward(ctx, a, b):
        need_a, need_b = ctx.needs_input_grad  # each gradient needs the other factor only
        ctx.save_for_backward(a if need_b else None, b if need_a else None)
        try:
            return a * b
        except ValueError:
            raise _broadcast_error("mul", a, b) from None

    @staticmethod
    def backward(ctx, grad):
        return Mul._gradients(ctx, grad, *ctx.saved_tensors)

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        return Mul._gradients(ctx, grad, *inputs)

    @staticmethod
    def _gradients(ctx, grad, a, b):
        need_a, need_b = ctx.needs_input_grad
        return (grad * b if need_a else None), (grad * a if need_b else None)


class Div(ArrayFunction):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        try:
            with quiet_numpy():  # x / 0 = inf, 0 / 0 = nan without a warning, as torch
                return a / b
        except ValueError:
            raise _broadcast_error("div", a, b) from None

    @staticmethod
    def backward(ctx, grad):
        return Div._gradients(ctx, grad, *ctx.saved_tensors)

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        return Div._gradients(ctx, grad, *inputs)

    @staticmethod
    def _gradients(ctx, grad, a, b):
        need_a, need_b = ctx.needs_input_grad
        with quiet_numpy():
            grad_a = grad / b if need_a else None
            grad_b = -grad * a / (b * b) if need_b else None
        return grad_a, grad_b


class PowScalar(ArrayFunction):
    """x ** p for a constant exponent p."""

    @staticmethod
    def forward(ctx, x, exponent):
        ctx.save_for_backward(x)
        ctx.exponent = exponent
        with quiet_numpy():  # (-1) ** 0.5 = nan, 0 ** -1 = inf, as torch
            return x ** exponent

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        p = ctx.exponent
        if p == 2:
            return grad * 2 * x, None
        if p == 0:  # constant 1; x ** -1 would make 0 * inf = NaN at x = 0
            return np.zeros_like(grad), None
        with quiet_numpy():
            return grad * p * x ** (p - 1), None

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        x = inputs[0]
        p = ctx.exponent
        if p == 2:
            return grad * 2 * x, None
        if p == 0:
            return constant(np.zeros_like(grad.data)), None
        return grad * p * x ** (p - 1), None


class Pow(ArrayFunction):
    """a ** b where the exponent is a tensor too (a > 0 where b's gradient is needed)."""

    @staticmethod
    def forward(ctx, a, b):
        try:
            with quiet_numpy():
                out = a ** b
        except ValueError:
            raise _broadcast_error("pow", a, b) from None
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b, out = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        zero = np.zeros((), dtype=grad.dtype)
        with quiet_numpy():
            # PyTorch's choices where the formulas give 0 * inf: b = 0 has slope 0 in a,
            # and a = 0 with b >= 0 has slope 0 in b
            grad_a = np.where(b == 0, zero, grad * b * a ** (b - 1)) if need_a else None
            grad_b = np.where((a == 0) & (b >= 0), zero,
                              grad * out * np.log(a, dtype=out.dtype)) if need_b else None
        return grad_a, grad_b

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        a, b = inputs
        need_a, need_b = ctx.needs_input_grad
        grad_a = grad * b * a ** (b - 1) if need_a else None
        grad_b = None
        if need_b:
            log_a = a.log() if is_tensor(a) else constant(np.log(a, dtype=output.dtype))
            grad_b = grad * output * log_a
        return grad_a, grad_b


class Neg(ArrayFunction):
    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, grad):
        return -grad

    differentiable_backward = staticmethod(lambda ctx, grad, inputs, output: -grad)


class Abs(ArrayFunction):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.abs(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * np.sign(x)

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        return grad * constant(np.sign(inputs[0].data))


class _ElementwiseExtremum(ArrayFunction):
    """Elementwise max/min; at ties the gradient is shared equally (as in PyTorch)."""

    pick = None  # np.maximum or np.minimum
    wins = None  # np.greater or np.less: where a alone is the result
    name = ""

    @classmethod
    def forward(cls, ctx, a, b):
        try:
            out = cls.pick(a, b)
        except ValueError:
            raise _broadcast_error(cls.name, a, b) from None
        ctx.save_for_backward(a, b)
        return out

    @classmethod
    def _share_of_a(cls, ctx, dtype):
        """The fraction of the gradient that goes to ``a``: 1, 0 or 1/2 at ties."""
        a, b = ctx.saved_tensors
        return cls.wins(a, b) + dtype.type(0.5) * (a == b)

    @classmethod
    def backward(cls, ctx, grad):
        share_a = cls._share_of_a(ctx, grad.dtype)
        need_a, need_b = ctx.needs_input_grad
        return (grad * share_a if need_a else None), (grad * (1 - share_a) if need_b else None)

    @classmethod
    def differentiable_backward(cls, ctx, grad, inputs, output):
        share_a = cls._share_of_a(ctx, grad.dtype)
        need_a, need_b = ctx.needs_input_grad
        return (grad * constant(share_a) if need_a else None), \
            (grad * constant(1 - share_a) if need_b else None)


class Maximum(_ElementwiseExtremum):
    pick = staticmethod(np.maximum)
    wins = staticmethod(np.greater)
    name = "maximum"


class Minimum(_ElementwiseExtremum):
    pick = staticmethod(np.minimum)
    wins = staticmethod(np.less)
    name = "minimum"


class Clip(ArrayFunction):
    @staticmethod
    def forward(ctx, x, low, high):
        ctx.save_for_backward(x)
        ctx.bounds = (low, high)
        return np.clip(x, low, high)

    @staticmethod
    def _inside(ctx):
        (x,) = ctx.saved_tensors
        low, high = ctx.bounds
        inside = np.ones(x.shape, dtype=bool)
        if low is not None:
            inside &= x >= low
        if high is not None:
            inside &= x <= high
        return inside

    @staticmethod
    def backward(ctx, grad):
        return grad * Clip._inside(ctx), None, None

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        return grad * constant(Clip._inside(ctx).astype(grad.dtype)), None, None


class Where(ArrayFunction):
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

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        (condition,) = ctx.saved_tensors
        _, need_a, need_b = ctx.needs_input_grad
        zero = np.zeros((), dtype=grad.dtype)
        return (None,
                Where.apply(condition, grad, zero) if need_a else None,
                Where.apply(condition, zero, grad) if need_b else None)


class Clone(ArrayFunction):
    """A copy of the data that stays in the graph (PyTorch's ``Tensor.clone``)."""

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, grad):
        return grad

    differentiable_backward = staticmethod(lambda ctx, grad, inputs, output: grad)


class Cast(ArrayFunction):
    @staticmethod
    def forward(ctx, x, dtype):
        ctx.input_dtype = x.dtype
        with quiet_numpy():  # nan or inf to an integer type: unspecified, as in torch
            return x.astype(dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        return grad.astype(ctx.input_dtype, copy=False), None

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        return grad.astype(ctx.input_dtype), None


class MaskedFill(ArrayFunction):
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

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        (mask,) = ctx.saved_tensors
        need_x, _, need_value = ctx.needs_input_grad
        zero = np.zeros((), dtype=grad.dtype)
        return (Where.apply(mask, zero, grad) if need_x else None, None,
                Where.apply(mask, grad, zero).sum() if need_value else None)


class _DivisionRemainder(ArrayFunction):
    """``a - q * b`` for a rounded quotient ``q``; the gradient is 1 for ``a`` and ``-q``
    for ``b`` (PyTorch's), the quotient being flat almost everywhere."""

    remainder = None  # the NumPy function giving the remainder
    quotient = None   # the rounding of a / b it implies (floor or trunc)

    @classmethod
    def forward(cls, ctx, a, b):
        ctx.save_for_backward(a, b)
        with quiet_numpy():  # x % 0: nan for floats, as in torch
            try:
                return cls.remainder(a, b)
            except ValueError:
                raise _broadcast_error(cls.__name__.lower(), a, b) from None

    @classmethod
    def backward(cls, ctx, grad):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        if not need_b:
            return grad, None
        with quiet_numpy():
            return (grad if need_a else None), -grad * cls.quotient(np.divide(a, b))

    @classmethod
    def differentiable_backward(cls, ctx, grad, inputs, output):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        if not need_b:
            return grad, None
        with quiet_numpy():
            quotient = constant(cls.quotient(np.divide(a, b)).astype(grad.dtype))
        return (grad if need_a else None), -grad * quotient


class Remainder(_DivisionRemainder):
    """``torch.remainder`` (Python's ``%``): the result has the sign of the divisor."""

    remainder = staticmethod(np.remainder)
    quotient = staticmethod(np.floor)


class Fmod(_DivisionRemainder):
    """``torch.fmod`` (C's fmod): the result has the sign of the dividend."""

    remainder = staticmethod(np.fmod)
    quotient = staticmethod(np.trunc)
