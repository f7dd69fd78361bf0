"""Special functions with PyTorch's gradients: erf, erfc, erfinv, lgamma, digamma,
polygamma, xlogy.

NumPy has none of them, and the project depends on NumPy only, so they are computed
here: erf, erfc and lgamma elementwise by Python's ``math`` (correctly rounded double
precision), digamma and polygamma by recurrence to x >= 10 and the asymptotic series,
erfinv by a rational first guess refined by Newton steps on ``math.erf``. Each works in
float64 and returns the input's dtype. Values at the poles follow PyTorch: digamma(0) =
-inf, digamma(-1) = nan, lgamma(0) = inf.
"""

from __future__ import annotations

import math

import numpy as np

from ..autograd import ArrayFunction
from .common import constant, quiet_numpy

__all__ = ["Erf", "Erfc", "Erfinv", "Lgamma", "Digamma", "Polygamma", "XLogY",
           "digamma_array", "polygamma_array"]

_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)


def _elementwise(function):
    """A float64 ufunc from a Python function of one float."""
    ufunc = np.frompyfunc(function, 1, 1)

    def apply(x):
        return np.asarray(ufunc(np.asarray(x, np.float64)), dtype=np.float64)
    return apply


def _lgamma_scalar(v: float) -> float:
    try:
        return math.lgamma(v)
    except ValueError:  # a pole (0, -1, ...): +inf, as PyTorch
        return math.inf


_erf_array = _elementwise(math.erf)
_erfc_array = _elementwise(math.erfc)
_lgamma_array = _elementwise(_lgamma_scalar)


def _in_dtype(values, like):
    return np.asarray(values).astype(like.dtype, copy=False)


def erfinv_array(x):
    """The inverse of erf on [-1, 1] (+-inf at +-1, NaN outside): Giles' single-precision
    approximation, then two Newton steps, which reach double precision."""
    x = np.asarray(x, np.float64)
    with quiet_numpy():
        w = -np.log((1 - x) * (1 + x))
        central, tail = w - 2.5, np.sqrt(w) - 3
        p_central = np.polyval([2.81022636e-08, 3.43273939e-07, -3.5233877e-06,
                                -4.39150654e-06, 0.00021858087, -0.00125372503,
                                -0.00417768164, 0.246640727, 1.50140941], central)
        p_tail = np.polyval([-0.000200214257, 0.000100950558, 0.00134934322,
                             -0.00367342844, 0.00573950773, -0.0076224613,
                             0.00943887047, 1.00167406, 2.83297682], tail)
        y = np.where(w < 5, p_central, p_tail) * x
        finite = np.isfinite(y)
        for _ in range(2):
            step = (_erf_array(np.where(finite, y, 0)) - x) / (
                _TWO_OVER_SQRT_PI * np.exp(-y * y))
            y = np.where(finite, y - step, y)
        y = np.where(np.abs(x) == 1, np.copysign(np.inf, x), y)
        return np.where(np.abs(x) > 1, np.nan, y)


# Bernoulli numbers B2, B4, ..., B14 for the asymptotic series.
_BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6)


def _is_pole(x):
    return (x <= 0) & (x == np.floor(x))


def digamma_array(x):
    """psi(x) = d/dx log Gamma(x): reflection below 1/2, recurrence up to 10, then the
    asymptotic series (about 1e-15 relative error)."""
    x = np.asarray(x, np.float64)
    with quiet_numpy():
        reflect = x < 0.5
        z = np.where(reflect, 1 - x, x)
        shift = np.zeros_like(z)
        for _ in range(10):  # z >= 0.5 reaches 10 within 10 steps
            small = z < 10
            shift -= np.where(small, 1 / z, 0)
            z = np.where(small, z + 1, z)
        inverse_square = 1 / (z * z)
        series, power = np.zeros_like(z), np.ones_like(z)
        for k, bernoulli in enumerate(_BERNOULLI, start=1):
            power = power * inverse_square
            series += bernoulli / (2 * k) * power
        result = np.log(z) - 0.5 / z - series + shift
        result = np.where(reflect, result - np.pi / np.tan(np.pi * x), result)
        result = np.where(_is_pole(x), np.where(x == 0, -np.inf, np.nan), result)
        return np.where(np.isnan(x), np.nan, result)


def polygamma_array(n: int, x):
    """The n-th derivative of digamma: for n = 0 digamma itself; for n >= 1 by
    recurrence up to x >= 10 + n and the asymptotic series (+inf at the poles for odd n,
    as PyTorch)."""
    if n == 0:
        return digamma_array(x)
    x = np.asarray(x, np.float64)
    sign = 1.0 if n % 2 else -1.0  # (-1)^(n+1)
    factorial = math.factorial(n)
    threshold = 10 + n
    with quiet_numpy():
        z = x.copy()
        shift = np.zeros_like(z)
        steps = int(np.ceil(threshold - np.nanmin(z))) if z.size else 0
        for _ in range(max(min(steps, 10**6), 0)):
            small = z < threshold
            if not small.any():
                break
            shift += np.where(small, sign * factorial / z ** (n + 1), 0)
            z = np.where(small, z + 1, z)
        series = math.factorial(n - 1) / z ** n + factorial / (2 * z ** (n + 1))
        for k, bernoulli in enumerate(_BERNOULLI, start=1):
            coefficient = bernoulli * math.factorial(2 * k + n - 1) / math.factorial(2 * k)
            series = series + coefficient / z ** (2 * k + n)
        result = sign * series + shift
        if n % 2:
            result = np.where(_is_pole(x), np.inf, result)
        return result


class Erf(ArrayFunction):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _in_dtype(_erf_array(x), x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * _in_dtype(_TWO_OVER_SQRT_PI * np.exp(-np.square(x, dtype=np.float64)),
                                grad)

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        x = inputs[0]
        return grad * _TWO_OVER_SQRT_PI * (-(x * x)).exp()


class Erfc(ArrayFunction):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _in_dtype(_erfc_array(x), x)

    @staticmethod
    def backward(ctx, grad):
        return -Erf.backward(ctx, grad)

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        return -Erf.differentiable_backward(ctx, grad, inputs, output)


class Erfinv(ArrayFunction):
    """The inverse error function; d/dx = sqrt(pi) / 2 * exp(erfinv(x)^2)."""

    @staticmethod
    def forward(ctx, x):
        out = _in_dtype(erfinv_array(x), x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        with quiet_numpy():
            return grad * _in_dtype(np.exp(np.square(out, dtype=np.float64))
                                    / _TWO_OVER_SQRT_PI, grad)

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        return grad * (output * output).exp() / _TWO_OVER_SQRT_PI


class Lgamma(ArrayFunction):
    """log |Gamma(x)|; d/dx = digamma(x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _in_dtype(_lgamma_array(x), x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * _in_dtype(digamma_array(x), grad)

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        return grad * Digamma.apply(inputs[0])


class Polygamma(ArrayFunction):
    """``Polygamma.apply(x, n)``: the n-th derivative of digamma; d/dx = polygamma(n + 1)."""

    @staticmethod
    def forward(ctx, x, n):
        ctx.save_for_backward(x)
        ctx.order = n
        return _in_dtype(polygamma_array(n, x), x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * _in_dtype(polygamma_array(ctx.order + 1, x), grad), None

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        return grad * Polygamma.apply(inputs[0], ctx.order + 1), None


class Digamma(Polygamma):
    """psi(x) = d/dx lgamma(x) (polygamma of order 0)."""

    @classmethod
    def apply(cls, x):
        return Polygamma.apply(x, 0)


def _xlogy(x, y):
    with quiet_numpy():
        out = np.where((np.asarray(x) == 0) & ~np.isnan(y), 0, x * np.log(y))
    return out.astype(np.result_type(x, y), copy=False)


class XLogY(ArrayFunction):
    """``x * log(y)``, 0 where x is 0 (unless y is NaN), as ``torch.xlogy``; d/dx =
    log(y) (0 where x is 0), d/dy = x / y."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return _xlogy(x, y)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        need_x, need_y = ctx.needs_input_grad
        with quiet_numpy():
            grad_x = grad * _xlogy((np.asarray(x) != 0).astype(grad.dtype), y) if need_x \
                else None
            grad_y = grad * x / y if need_y else None
        return grad_x, grad_y

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        x, y = inputs
        need_x, need_y = ctx.needs_input_grad
        x_data = x.data if hasattr(x, "data") else np.asarray(x)
        grad_x = grad * XLogY.apply(constant((x_data != 0).astype(grad.dtype)), y) \
            if need_x else None
        grad_y = grad * x / y if need_y else None
        return grad_x, grad_y
