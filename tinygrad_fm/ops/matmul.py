"""Matrix products: matmul and the fused Linear (x @ W.T + b)."""

from __future__ import annotations

import numpy as np

from ..autograd import ArrayFunction
from .common import constant, is_tensor


class MatMul(ArrayFunction):
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

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        a, b = (t if is_tensor(t) else constant(t) for t in inputs)
        need_a, need_b = ctx.needs_input_grad
        # The same rules with Tensor ops; vectors are promoted to matrices and back.
        a_ndim, b_ndim = a.ndim, b.ndim
        if a_ndim == 1 and b_ndim == 1:
            return (grad * b if need_a else None), (grad * a if need_b else None)
        a2 = a.reshape(1, -1) if a_ndim == 1 else a
        b2 = b.reshape(-1, 1) if b_ndim == 1 else b
        g2 = grad
        if a_ndim == 1:
            g2 = g2.unsqueeze(-2)
        if b_ndim == 1:
            g2 = g2.unsqueeze(-1)
        grad_a = grad_b = None
        if need_a:
            grad_a = g2 @ b2.transpose(-1, -2)
            if a_ndim == 1:
                grad_a = grad_a.reshape(-1, a2.shape[-1]).sum(0)
        if need_b:
            grad_b = a2.transpose(-1, -2) @ g2
            if b_ndim == 1:
                grad_b = grad_b.reshape(-1, b2.shape[-2]).sum(0)
        return grad_a, grad_b


class Linear(ArrayFunction):
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
            grad_b = np.add.reduce(grad_2d, axis=0)  # .sum's numbers, less Python
        return grad_x, grad_w, grad_b

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        x, weight = (t if is_tensor(t) else constant(t) for t in inputs[:2])
        need_x, need_w, need_b = (ctx.needs_input_grad + (False,))[:3]
        grad_2d = grad.reshape(-1, grad.shape[-1]) if grad.ndim != 2 else grad
        grad_x = grad @ weight if need_x else None
        grad_w = grad_b = None
        if need_w:
            x_2d = x.reshape(-1, x.shape[-1]) if x.ndim != 2 else x
            grad_w = grad_2d.transpose(0, 1) @ x_2d
        if need_b:
            grad_b = grad_2d.sum(0)
        return grad_x, grad_w, grad_b
