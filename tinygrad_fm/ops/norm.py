"""Normalisation: subtract a mean, divide by a standard deviation, scale and shift, in one op.

One op serves batch, layer and group normalisation; they differ only in which axes the
statistics are taken over (``stat_axes``) and which axes the affine weight and bias run
along (``param_axes``):

- BatchNorm on (N, C, *S): statistics over (0, 2, ...), parameters along (1,);
- LayerNorm over the last k axes: statistics and parameters both over those axes;
- GroupNorm on (N, G, C/G, S) (a reshaped input): statistics over (2, 3), parameters
  along (1, 2) (the weight reshaped to (G, C/G)).

With batch statistics the backward is the standard closed form: with ``xhat = (x - mean)
* inv_std`` and ``g = grad * weight``,
``dx = inv_std * (g - mean(g) - xhat * mean(g * xhat))`` (means over ``stat_axes``).
With given statistics (BatchNorm in eval mode) the op is affine in x: ``dx = g * inv_std``.
"""

from __future__ import annotations

import numpy as np

from ..autograd import ArrayFunction

__all__ = ["Normalize"]


def _param_layout(shape: tuple, param_axes: tuple):
    """The broadcast shape of the parameters and the axes their gradients sum over."""
    broadcast = tuple(n if i in param_axes else 1 for i, n in enumerate(shape))
    summed = tuple(i for i in range(len(shape)) if i not in param_axes)
    return broadcast, summed


def _update_running_stats(mean, var, count, running_mean, running_var, num_batches_tracked,
                          momentum) -> None:
    """``running = (1 - factor) * running + factor * batch`` in place, the variance
    unbiased (``count / (count - 1)``); ``factor`` is ``momentum``, or with momentum None
    ``1 / num_batches_tracked`` (a cumulative average). ``num_batches_tracked`` (a 0-d
    array, or None) counts this batch first. Done inside the op so that a captured step
    (tinygrad_fm.jit) replays it."""
    if num_batches_tracked is not None:
        num_batches_tracked += 1
    if running_mean is None and running_var is None:
        return
    factor = momentum
    if factor is None:
        factor = 1.0 / float(num_batches_tracked)
    if running_mean is not None:
        running_mean *= 1 - factor
        running_mean += factor * mean.reshape(running_mean.shape)
    if running_var is not None:
        running_var *= 1 - factor
        running_var += (factor * count / max(count - 1, 1)) * var.reshape(running_var.shape)


class Normalize(ArrayFunction):
    """``(x - mean) / sqrt(var + eps) * weight + bias``.

    ``mean``/``var`` None: the (biased) batch statistics over ``stat_axes`` are used, and
    the running statistics, when given (arrays with the parameters' sizes), are updated
    from them in place (see :func:`_update_running_stats`). Otherwise ``mean``/``var``
    (running statistics, the parameters' sizes) are used and treated as constants.
    ``weight`` and ``bias`` (either may be None) have the sizes of x along ``param_axes``.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, mean, var, stat_axes, param_axes, eps,
                running_mean=None, running_var=None, num_batches_tracked=None,
                momentum=0.1):
        broadcast, summed = _param_layout(x.shape, param_axes)
        from_batch = mean is None
        if from_batch:
            mean = np.mean(x, axis=stat_axes, keepdims=True)
            centered = x - mean
            var = np.mean(np.square(centered), axis=stat_axes, keepdims=True)
            _update_running_stats(mean, var, x.size // mean.size, running_mean, running_var,
                                  num_batches_tracked, momentum)
        else:
            mean = mean.reshape(broadcast).astype(x.dtype, copy=False)
            var = var.reshape(broadcast).astype(x.dtype, copy=False)
            centered = x - mean
        inv_std = np.asarray(1.0 / np.sqrt(var + eps), dtype=x.dtype)
        xhat = centered
        xhat *= inv_std
        ctx.save_for_backward(xhat, inv_std, weight)
        ctx.meta = (from_batch, stat_axes, param_axes, eps, broadcast, summed)
        out = xhat if weight is None else xhat * weight.reshape(broadcast)
        if bias is not None:
            out = out + bias.reshape(broadcast)
        elif weight is None:
            out = out.copy()  # xhat is saved for backward: the output must not alias it
        return out

    @staticmethod
    def backward(ctx, grad):
        xhat, inv_std, weight = ctx.saved_tensors
        from_batch, stat_axes, _, _, broadcast, summed = ctx.meta
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        grad_x = grad_w = grad_b = None
        if need_x:
            g = grad if weight is None else grad * weight.reshape(broadcast)
            if from_batch:
                mean_g = np.mean(g, axis=stat_axes, keepdims=True)
                mean_gx = np.mean(g * xhat, axis=stat_axes, keepdims=True)
                grad_x = g - mean_g
                grad_x -= xhat * mean_gx
                grad_x *= inv_std
            else:
                grad_x = g * inv_std
        if need_w:
            grad_w = np.sum(grad * xhat, axis=summed).reshape(weight.shape)
        if need_b:
            grad_b = np.sum(grad, axis=summed).reshape(
                tuple(broadcast[i] for i in ctx.meta[2]))
        return (grad_x, grad_w, grad_b) + (None,) * 9

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        x, weight, bias, mean, var = inputs[:5]
        from_batch, stat_axes, _, eps, broadcast, summed = ctx.meta
        from ..tensor import Tensor
        if from_batch:
            centered = x - x.mean(stat_axes, keepdims=True)
            inv_std = (((centered * centered).mean(stat_axes, keepdims=True) + eps) ** -0.5)
        else:
            mean, var = (np.asarray(v.data if isinstance(v, Tensor) else v).reshape(broadcast)
                         for v in (mean, var))
            centered = x - Tensor(mean.astype(x.dtype, copy=False))
            inv_std = Tensor(np.asarray(1.0 / np.sqrt(var + eps), dtype=x.dtype))
        xhat = centered * inv_std
        g = grad if weight is None else grad * weight.reshape(broadcast)
        if from_batch:
            grad_x = inv_std * (g - g.mean(stat_axes, keepdims=True)
                                - xhat * (g * xhat).mean(stat_axes, keepdims=True))
        else:
            grad_x = g * inv_std
        grad_w = None if weight is None else (grad * xhat).sum(summed).reshape(weight.shape)
        grad_b = None if bias is None else grad.sum(summed).reshape(bias.shape)
        return (grad_x, grad_w, grad_b) + (None,) * (len(inputs) - 3)
