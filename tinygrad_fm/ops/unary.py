"""Elementwise functions and activations: exp, log, sqrt, tanh, sigmoid, relu, ..."""

from __future__ import annotations

import numpy as np

from ..autograd import ArrayFunction
from .common import constant, quiet_numpy


class Exp(ArrayFunction):
    @staticmethod
    def forward(ctx, x):
        with quiet_numpy():  # exp(1000) = inf, as torch
            out = np.exp(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * out

    differentiable_backward = staticmethod(lambda ctx, grad, inputs, output: grad * output)


class Log(ArrayFunction):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with quiet_numpy():  # log(0) = -inf, log(-1) = nan, as torch
            return np.log(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        with quiet_numpy():
            return grad / x

    differentiable_backward = staticmethod(lambda ctx, grad, inputs, output: grad / inputs[0])


class Sqrt(ArrayFunction):
    @staticmethod
    def forward(ctx, x):
        with quiet_numpy():  # sqrt(-1) = nan, as torch
            out = np.sqrt(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        with quiet_numpy():
            return grad * 0.5 / out

    differentiable_backward = staticmethod(
        lambda ctx, grad, inputs, output: grad * 0.5 / output)


class Tanh(ArrayFunction):
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

    differentiable_backward = staticmethod(
        lambda ctx, grad, inputs, output: grad * (1 - output * output))


def stable_sigmoid(x):
    # 0.5 * (1 + tanh(x / 2)) never overflows, unlike 1 / (1 + exp(-x)).
    out = np.tanh(x * 0.5)
    out += 1
    out *= 0.5
    return out


class Sigmoid(ArrayFunction):
    @staticmethod
    def forward(ctx, x):
        out = stable_sigmoid(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * out * (1 - out)

    differentiable_backward = staticmethod(
        lambda ctx, grad, inputs, output: grad * output * (1 - output))


class Relu(ArrayFunction):
    @staticmethod
    def forward(ctx, x):
        out = np.maximum(x, 0)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * (out > 0)

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        (out,) = ctx.saved_tensors
        return grad * constant((out > 0).astype(grad.dtype))


class LeakyRelu(ArrayFunction):
    @staticmethod
    def forward(ctx, x, negative_slope):
        ctx.save_for_backward(x)
        ctx.negative_slope = negative_slope
        return np.where(x > 0, x, x * negative_slope)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return np.where(x > 0, grad, grad * ctx.negative_slope), None

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        (x,) = ctx.saved_tensors
        slope = np.where(x > 0, 1, ctx.negative_slope).astype(grad.dtype)
        return grad * constant(slope), None


class Softplus(ArrayFunction):
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

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        from .arithmetic import Where

        x, beta = inputs[0], inputs[1]
        (scaled,) = ctx.saved_tensors
        linear = scaled > ctx.threshold
        slope = Where.apply(linear, np.ones((), dtype=grad.dtype), (x * beta).sigmoid())
        return grad * slope, None, None
