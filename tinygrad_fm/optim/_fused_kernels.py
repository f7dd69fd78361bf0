"""The numba kernels behind :mod:`tinygrad_fm.optim.fused` (imported only with numba).

Every kernel takes flat C-contiguous arrays of one dtype and scalars already cast to it,
and repeats, per element, the float operations of the NumPy update in the same order;
without fastmath, LLVM neither reassociates them nor contracts a*b+c into an FMA, so
each result rounds exactly as NumPy's does. ``error_model="numpy"``: a division by zero
gives inf or NaN as in NumPy, and the loops vectorize (numba's default checks every
divisor for a Python ZeroDivisionError, which kept them scalar: 5x slower).
``cache=True`` keeps the compiled code on disk (in ``__pycache__``, or numba's cache
folder when that is read-only), so only the first process pays the compilation (8 s for
the four optimizers on the 2-core test machine); later processes load a kernel from the
cache in about 0.3 s, after importing numba (0.7 s), both at the first step.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, error_model="numpy")
def _effective(g, p, maximize, l2, weight_decay):
    # _effective_grad: (-grad if maximize else grad) + weight_decay * param
    if l2:
        decay = p * weight_decay
        return decay - g if maximize else g + decay
    return -g if maximize else g


@njit(cache=True, error_model="numpy")
def _maximum(a, b):
    # np.maximum: NaN wins from either side.
    if not (a >= b) and a == a:
        return b
    return a


@njit(cache=True, error_model="numpy")
def adam(param, grad, m, v, v_max, amsgrad, maximize, l2, weight_decay, decoupled,
         decay_factor, beta1, beta2, eps_sum, factor):
    for i in range(param.size):
        p = param[i]
        if decoupled:
            p = p * decay_factor
        g = _effective(grad[i], p, maximize, l2, weight_decay)
        m_i = m[i] * beta1 + g
        m[i] = m_i
        v_i = v[i] * beta2 + g * g
        v[i] = v_i
        if amsgrad:
            v_i = _maximum(v_max[i], v_i)
            v_max[i] = v_i
        update = m_i / (np.sqrt(v_i) + eps_sum)
        param[i] = p - update * factor


@njit(cache=True, error_model="numpy")
def nadam(param, grad, m, v, maximize, l2, weight_decay, decoupled, decay_factor,
          one_minus_beta1, beta2, one_minus_beta2, eps_scaled, grad_factor, avg_factor):
    for i in range(param.size):
        p = param[i]
        if decoupled:
            p = p * decay_factor
        g = _effective(grad[i], p, maximize, l2, weight_decay)
        m_i = m[i] + (g - m[i]) * one_minus_beta1
        m[i] = m_i
        v_i = v[i] * beta2 + (g * one_minus_beta2) * g
        v[i] = v_i
        denom = np.sqrt(v_i) + eps_scaled
        param[i] = p - (g * grad_factor + m_i * avg_factor) / denom


@njit(cache=True, error_model="numpy")
def rmsprop(param, grad, square_avg, grad_avg, buffer, maximize, l2, weight_decay, alpha,
            one_minus_alpha, centered, with_momentum, momentum, eps, lr):
    for i in range(param.size):
        p = param[i]
        g = _effective(grad[i], p, maximize, l2, weight_decay)
        v_i = square_avg[i] * alpha + (g * one_minus_alpha) * g
        square_avg[i] = v_i
        if centered:
            a = grad_avg[i] + (g - grad_avg[i]) * one_minus_alpha
            grad_avg[i] = a
            d = np.sqrt(v_i - a * a)
        else:
            d = np.sqrt(v_i)
        d = d + eps
        if with_momentum:
            b = buffer[i] * momentum + g / d
            buffer[i] = b
            param[i] = p - b * lr
        else:
            param[i] = p - (g / d) * lr


@njit(cache=True, error_model="numpy")
def sgd(param, grad, buffer, maximize, l2, weight_decay, with_momentum, first, dampened,
        momentum, one_minus_dampening, nesterov, lr):
    for i in range(param.size):
        p = param[i]
        g = _effective(grad[i], p, maximize, l2, weight_decay)
        if with_momentum:
            if first:
                b = g
            elif dampened:
                b = buffer[i] * momentum + g * one_minus_dampening
            else:
                b = buffer[i] * momentum + g
            buffer[i] = b
            g = g + b * momentum if nesterov else b
        param[i] = p - g * lr
