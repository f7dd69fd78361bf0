"""Reductions (sum, mean, prod, max/min, var, logsumexp, norm, cumsum, logcumsumexp, cumprod) and softmax."""

from __future__ import annotations

import numpy as np

from ..autograd import ArrayFunction
from .common import (normalize_axis, _expand_reduced, constant, expand_reduced, reduction_axes,
                     _reduced_count, quiet_numpy)


class Sum(ArrayFunction):
    @staticmethod
    def forward(ctx, x, axis, keepdims):
        axes = reduction_axes(axis, x.shape, "sum")
        ctx.meta = (x.shape, axes, keepdims)
        return np.sum(x, axis=axes, keepdims=keepdims)

    @staticmethod
    def backward(ctx, grad):
        shape, axes, keepdims = ctx.meta
        return np.broadcast_to(_expand_reduced(grad, shape, axes, keepdims), shape), None, None

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        shape, axes, keepdims = ctx.meta
        return expand_reduced(grad, shape, axes, keepdims).expand(shape), None, None


class Mean(ArrayFunction):
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

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        shape, axes, keepdims = ctx.meta
        grad = expand_reduced(grad, shape, axes, keepdims) / max(_reduced_count(shape, axes), 1)
        return grad.expand(shape), None, None


class _Extremum(ArrayFunction):
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
        grad = _expand_reduced(grad, x.shape, axes, keepdims)
        return grad * _Extremum._shares(x, out, axes, grad.dtype), None, None

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        x, out = ctx.saved_tensors
        axes, keepdims = ctx.meta
        grad = expand_reduced(grad, x.shape, axes, keepdims)
        return grad * constant(_Extremum._shares(x, out, axes, grad.dtype)), None, None

    @staticmethod
    def _shares(x, out, axes, dtype):
        """Each element's share of the gradient: 1/k for the k tied extremes, else 0."""
        mask = x == out
        return mask / mask.sum(axis=axes, keepdims=True, dtype=dtype)


class Max(_Extremum):
    reduce = staticmethod(np.max)
    name = "max"


class Min(_Extremum):
    reduce = staticmethod(np.min)
    name = "min"


class Var(ArrayFunction):
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

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        x = inputs[0]
        axes, keepdims, dof = ctx.meta
        centered = x - x.mean(axes, keepdims=True)
        grad = expand_reduced(grad, x.shape, axes, keepdims)
        return grad * centered * (2.0 / dof if dof else float("nan")), None, None, None


class LogSumExp(ArrayFunction):
    @staticmethod
    def forward(ctx, x, axis, keepdims):
        axes = reduction_axes(axis, x.shape, "logsumexp")
        shift = shift_of(x, axes)
        shift = np.where(np.isfinite(shift), shift, 0)
        with np.errstate(divide="ignore"):  # an empty axis sums to 0: log gives -inf, as torch
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

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        x = inputs[0]
        axes, keepdims = ctx.meta
        grad = expand_reduced(grad, x.shape, axes, keepdims)
        return grad * (x - expand_reduced(output, x.shape, axes, keepdims)).exp(), None, None


class Norm(ArrayFunction):
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

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        from .arithmetic import Where

        x = inputs[0]
        x_data, norm_data = ctx.saved_tensors
        p, axes = ctx.meta
        grad = grad.reshape(norm_data.shape)
        norm = output.reshape(norm_data.shape)
        zero = np.zeros((), dtype=grad.dtype)
        sign = constant(np.sign(x_data))
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            if p == 0:
                return constant(np.zeros(x.shape, dtype=grad.dtype)), None, None, None
            if p == 1:
                return sign * grad, None, None, None
            if np.isinf(p):
                magnitude = np.abs(x_data)
                mask = (magnitude == norm_data) | np.isnan(magnitude)
                count = np.sum(mask, axis=axes, keepdims=True, dtype=grad.dtype)
                return sign * grad * constant(mask / count), None, None, None
            # Where the norm is 0 the gradient is 0: divide by 1 there instead.
            at_zero = norm_data == 0
            safe_norm = Where.apply(at_zero, np.ones((), dtype=grad.dtype), norm)
            scale = Where.apply(at_zero, zero, grad / safe_norm ** (p - 1))
            if p == 2:
                return x * scale, None, None, None
            if p < 1:
                nonzero = x_data != 0
                safe_x = Where.apply(nonzero, x.abs(), np.ones((), dtype=grad.dtype))
                power = Where.apply(nonzero, safe_x ** (p - 1), zero)
                return sign * power * grad * norm ** (1 - p), None, None, None
            return sign * x.abs() ** (p - 1) * scale, None, None, None


class Cumsum(ArrayFunction):
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

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        if grad.ndim == 0:
            return grad, None
        axis = ctx.axis
        return grad.flip(axis).cumsum(axis).flip(axis), None



class LogCumsumExp(ArrayFunction):
    """Running log-sum-exp along one axis (``torch.logcumsumexp``), exact by
    ``np.logaddexp.accumulate``. The gradient ``sum over i >= j of grad_i exp(x_j -
    out_i)`` is computed in the log domain, split by the sign of ``grad_i``, so that it
    never overflows; the recorded form builds the (n, n) weights explicitly."""

    @staticmethod
    def forward(ctx, x, axis):
        (axis,) = normalize_axis(axis, x.shape, "logcumsumexp")
        ctx.axis = axis
        out = x.copy() if x.ndim == 0 else np.logaddexp.accumulate(x, axis=axis)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        if grad.ndim == 0:
            return grad, None
        x, out = ctx.saved_tensors
        axis = ctx.axis
        result = np.zeros_like(grad)
        with quiet_numpy():
            for sign in (1, -1):
                signed = sign * grad
                logs = np.where(signed > 0, np.log(np.where(signed > 0, signed, 1)) - out,
                                -np.inf)
                later = np.flip(np.logaddexp.accumulate(np.flip(logs, axis), axis=axis), axis)
                result += sign * np.exp(x + later)
        return result, None

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        from .arithmetic import Where

        if grad.ndim == 0:
            return grad, None
        axis = ctx.axis
        x, out, g = (t.movedim(axis, -1) for t in (inputs[0], output, grad))
        n = x.shape[-1]
        later = np.tril(np.ones((n, n), dtype=bool))  # [i, j]: i >= j
        # x_j - out_i <= 0 wherever i >= j: the exponentials stay at most 1.
        exponent = Where.apply(later, x.unsqueeze(-2) - out.unsqueeze(-1),
                               np.asarray(-np.inf, dtype=grad.dtype))
        return (g.unsqueeze(-1) * exponent.exp()).sum(-2).movedim(-1, axis), None


def _identity_mask(n: int) -> np.ndarray:
    return np.eye(n, dtype=bool)


def _products_of_others(x: np.ndarray, axes) -> np.ndarray:
    """For each element, the product of the other elements of its slice over ``axes``
    (None: all), exact when some are zero: the products to its left times those to its
    right, never a division."""
    if axes == ():
        return np.ones_like(x)
    axes = tuple(range(x.ndim)) if axes is None else axes
    rest = [a for a in range(x.ndim) if a not in axes]
    moved = np.transpose(x, rest + list(axes))
    rows = moved.reshape(moved.shape[:len(rest)] + (-1,))
    ones = np.ones(rows.shape[:-1] + (1,), dtype=x.dtype)
    left = np.cumprod(np.concatenate([ones, rows[..., :-1]], axis=-1), axis=-1)
    right = np.flip(np.cumprod(np.flip(np.concatenate([rows[..., 1:], ones], axis=-1), -1),
                               axis=-1), -1)
    return np.transpose((left * right).reshape(moved.shape), np.argsort(rest + list(axes)))


class Prod(ArrayFunction):
    """The product over one axis or all of them; the gradient of each element is the
    product of the others in its slice (right where elements are zero, as PyTorch's)."""

    @staticmethod
    def forward(ctx, x, axis, keepdims):
        axes = reduction_axes(axis, x.shape, "prod")
        ctx.save_for_backward(x)
        ctx.meta = (axes, keepdims)
        return np.prod(x, axis=axes, keepdims=keepdims)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        axes, keepdims = ctx.meta
        return _expand_reduced(grad, x.shape, axes, keepdims) * \
            _products_of_others(x, axes), None, None

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        # The product of the others, recorded: each row of an (n, n) stack is the slice
        # with one element replaced by 1 (quadratic in n, for higher derivatives only).
        x = inputs[0]
        axes, keepdims = ctx.meta
        grad = expand_reduced(grad, x.shape, axes, keepdims)
        if axes == ():
            return grad, None, None
        if axes is None:
            rows = x.reshape(-1)
            n = rows.shape[0]
            others = Prod.apply(rows.unsqueeze(0).expand(n, n).masked_fill(
                _identity_mask(n), 1.0), -1, False).reshape(x.shape)
            return grad * others, None, None
        (axis,) = axes
        moved = x.movedim(axis, -1)
        n = moved.shape[-1]
        stack = moved.unsqueeze(-2).expand(moved.shape[:-1] + (n, n))
        others = Prod.apply(stack.masked_fill(_identity_mask(n), 1.0), -1, False)
        return grad * others.movedim(-1, axis), None, None


class Cumprod(ArrayFunction):
    """Running products along one axis. The gradient of x_i is
    sum over j >= i of g_j * prod(x_k for k <= j, k != i): with no zeros that is the
    reversed running sum of g * y divided by x; with zeros it is computed from the
    products themselves (quadratic in the axis length), as PyTorch does."""

    @staticmethod
    def forward(ctx, x, axis):
        (axis,) = normalize_axis(axis, x.shape, "cumprod")
        ctx.axis = axis
        if x.ndim == 0:
            return x.copy()
        out = np.cumprod(x, axis=axis)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        if grad.ndim == 0:
            return grad, None
        x, out = ctx.saved_tensors
        axis = ctx.axis
        if np.all(x != 0):
            running = np.flip(np.cumsum(np.flip(grad * out, axis), axis=axis), axis)
            return running / x, None
        xm, gm = np.moveaxis(x, axis, -1), np.moveaxis(grad, axis, -1)
        n = xm.shape[-1]
        stack = np.array(np.broadcast_to(xm[..., None, :], xm.shape[:-1] + (n, n)))
        stack[..., _identity_mask(n)] = 1
        upper = np.triu(np.ones((n, n), dtype=x.dtype))  # j >= i
        summed = (np.cumprod(stack, axis=-1) * upper * gm[..., None, :]).sum(-1)
        return np.moveaxis(summed, -1, axis), None

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        if grad.ndim == 0:
            return grad, None
        x, axis = inputs[0], ctx.axis
        xm, gm = x.movedim(axis, -1), grad.movedim(axis, -1)
        n = xm.shape[-1]
        stack = xm.unsqueeze(-2).expand(xm.shape[:-1] + (n, n)).masked_fill(
            _identity_mask(n), 1.0)
        upper = constant(np.triu(np.ones((n, n), dtype=grad.dtype)))
        summed = (Cumprod.apply(stack, -1) * upper * gm.unsqueeze(-2)).sum(-1)
        return summed.movedim(-1, axis), None



def shift_of(x, axis):
    """The maximum over ``axis`` (kept), which exp-sums subtract for stability; -inf
    when ``x`` is empty (NumPy's max has no identity there; PyTorch returns an empty
    softmax and a logsumexp of -inf). The ufuncs' own reduce, not np.max and np.sum:
    the same numbers without their Python wrappers (2 us a call, which a 16-row training
    step notices)."""
    if x.size == 0:
        return np.maximum.reduce(x, axis=axis, keepdims=True, initial=-np.inf)
    return np.maximum.reduce(x, axis=axis, keepdims=True)


def log_softmax_array(x, axis):
    if x.size == 0:
        return x.copy()
    shifted = x - shift_of(x, axis)
    shifted -= np.log(np.add.reduce(np.exp(shifted), axis=axis, keepdims=True))
    return shifted


class Softmax(ArrayFunction):
    @staticmethod
    def forward(ctx, x, axis):
        (axis,) = normalize_axis(axis, x.shape, "softmax")
        out = np.exp(x - shift_of(x, axis))
        out /= np.sum(out, axis=axis, keepdims=True)
        ctx.save_for_backward(out)
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return out * (grad - np.sum(grad * out, axis=ctx.axis, keepdims=True)), None

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        return output * (grad - (grad * output).sum(ctx.axis, keepdims=True)), None


class LogSoftmax(ArrayFunction):
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

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        return grad - output.exp() * grad.sum(ctx.axis, keepdims=True), None
