"""Fused recurrent cells: one LSTM or GRU time step (after the matmuls) as one op.

A step written with Tensor ops is about 15 small ops (slices, sigmoids, products); fused,
forward and backward are a few NumPy calls each, with the closed-form derivatives. Each op
also has ``differentiable_backward`` (the same formulas in Tensor ops) for higher-order
gradients.
"""

from __future__ import annotations

import numpy as np

from ..autograd import ArrayFunction
from .unary import stable_sigmoid

__all__ = ["LSTMCellStep", "GRUCellStep"]


class LSTMCellStep(ArrayFunction):
    """From the gate pre-activations ``gates`` (..., 4H; order i, f, g, o) and the cell
    state ``c`` (..., H): ``c' = f * c + i * g`` and ``h' = o * tanh(c')``, returned
    side by side as (..., 2H) = [h', c']."""

    @staticmethod
    def forward(ctx, gates, c):
        size = c.shape[-1]
        s = stable_sigmoid(gates)  # the g quarter is recomputed with tanh below
        i, f, o = s[..., :size], s[..., size:2 * size], s[..., 3 * size:]
        g = np.tanh(gates[..., 2 * size:3 * size])
        out = np.empty(c.shape[:-1] + (2 * size,), dtype=gates.dtype)
        c_new = out[..., size:]
        np.multiply(f, c, out=c_new)
        c_new += i * g
        tanh_c = np.tanh(c_new)
        np.multiply(o, tanh_c, out=out[..., :size])
        ctx.save_for_backward(i, f, g, o, c, tanh_c)
        return out

    @staticmethod
    def backward(ctx, grad):
        i, f, g, o, c, tanh_c = ctx.saved_tensors
        size = c.shape[-1]
        grad_h, grad_c = grad[..., :size], grad[..., size:]
        grad_c = grad_c + grad_h * o * (1 - tanh_c * tanh_c)
        grad_gates = np.empty(grad.shape[:-1] + (4 * size,), dtype=grad.dtype)
        grad_gates[..., :size] = grad_c * g * i * (1 - i)
        grad_gates[..., size:2 * size] = grad_c * c * f * (1 - f)
        grad_gates[..., 2 * size:3 * size] = grad_c * i * (1 - g * g)
        grad_gates[..., 3 * size:] = grad_h * tanh_c * o * (1 - o)
        return grad_gates, (grad_c * f if ctx.needs_input_grad[1] else None)

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        from ..tensor import cat
        gates, c = inputs
        size = c.shape[-1]
        i, f = gates[..., :size].sigmoid(), gates[..., size:2 * size].sigmoid()
        g, o = gates[..., 2 * size:3 * size].tanh(), gates[..., 3 * size:].sigmoid()
        tanh_c = (f * c + i * g).tanh()
        grad_h = grad[..., :size]
        grad_c = grad[..., size:] + grad_h * o * (1 - tanh_c * tanh_c)
        grad_gates = cat([grad_c * g * i * (1 - i), grad_c * c * f * (1 - f),
                          grad_c * i * (1 - g * g), grad_h * tanh_c * o * (1 - o)], -1)
        return grad_gates, grad_c * f


class GRUCellStep(ArrayFunction):
    """From the input and hidden projections ``x_proj``, ``h_proj`` (..., 3H; order r,
    z, n) and the state ``h``: ``r = s(x_r + h_r)``, ``z = s(x_z + h_z)``,
    ``n = tanh(x_n + r * h_n)``, ``h' = (1 - z) * n + z * h`` (PyTorch's GRU)."""

    @staticmethod
    def forward(ctx, x_proj, h_proj, h):
        size = h.shape[-1]
        rz = stable_sigmoid(x_proj[..., :2 * size] + h_proj[..., :2 * size])
        r, z = rz[..., :size], rz[..., size:]
        h_n = h_proj[..., 2 * size:]
        n = np.tanh(x_proj[..., 2 * size:] + r * h_n)
        ctx.save_for_backward(r, z, n, h_n, h)
        return n + z * (h - n)

    @staticmethod
    def backward(ctx, grad):
        r, z, n, h_n, h = ctx.saved_tensors
        size = h.shape[-1]
        grad_n = grad * (1 - z) * (1 - n * n)
        grad_x = np.empty(grad.shape[:-1] + (3 * size,), dtype=grad.dtype)
        grad_x[..., :size] = grad_n * h_n * r * (1 - r)
        grad_x[..., size:2 * size] = grad * (h - n) * z * (1 - z)
        grad_x[..., 2 * size:] = grad_n
        need_x, need_hp, need_h = ctx.needs_input_grad
        grad_hp = None
        if need_hp:
            grad_hp = grad_x.copy()
            grad_hp[..., 2 * size:] *= r
        return (grad_x if need_x else None), grad_hp, (grad * z if need_h else None)

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        from ..tensor import cat
        x_proj, h_proj, h = inputs
        size = h.shape[-1]
        r = (x_proj[..., :size] + h_proj[..., :size]).sigmoid()
        z = (x_proj[..., size:2 * size] + h_proj[..., size:2 * size]).sigmoid()
        h_n = h_proj[..., 2 * size:]
        n = (x_proj[..., 2 * size:] + r * h_n).tanh()
        grad_n = grad * (1 - z) * (1 - n * n)
        grad_r = grad_n * h_n * r * (1 - r)
        grad_z = grad * (h - n) * z * (1 - z)
        return (cat([grad_r, grad_z, grad_n], -1), cat([grad_r, grad_z, grad_n * r], -1),
                grad * z)
