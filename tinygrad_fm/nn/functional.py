"""Stateless layers and losses, with PyTorch's ``torch.nn.functional`` names and ``dim``.

The losses that run every training step are single fused :class:`Function` s:
``cross_entropy`` computes the log-probabilities once (stably, from the logits) and its
backward is ``(softmax - target distribution) * grad / N``.
"""

from __future__ import annotations

import numpy as np

from .. import ops
from ..autograd import Function
from ..tensor import Tensor, default_generator, one_hot

__all__ = [
    "linear", "relu", "tanh", "sigmoid", "leaky_relu", "softmax", "log_softmax",
    "dropout", "one_hot", "cross_entropy", "nll_loss", "mse_loss",
]

REDUCTIONS = ("mean", "sum", "none")


def _as_tensor(value, op: str) -> Tensor:
    if isinstance(value, Tensor):
        return value
    try:
        return Tensor(value)
    except TypeError as error:
        raise TypeError(f"{op}: expected a Tensor or an ndarray, got "
                        f"{type(value).__name__} ({error})") from None


def _check_floating(tensor: Tensor, op: str) -> None:
    if tensor.dtype.kind != "f":
        raise TypeError(f"{op}: input must be floating point, got dtype {tensor.dtype}; "
                        "convert it first, e.g. x.float()")


# --------------------------------------------------------------------------- layers


def linear(input, weight, bias=None) -> Tensor:
    """``input @ weight.T + bias`` as one op; ``weight`` has shape (out, in)."""
    if not isinstance(input, (Tensor, np.ndarray)):
        input = _as_tensor(input, "linear")
    if input.dtype != weight.dtype or (bias is not None and bias.dtype != weight.dtype):
        bias_dtype = "" if bias is None else f", bias {bias.dtype}"
        raise TypeError(f"linear: input ({input.dtype}) and weight ({weight.dtype}"
                        f"{bias_dtype}) must have the same dtype, so that nothing is "
                        "silently promoted; convert the input (x.float()) or the module "
                        "(module.to(dtype))")
    return ops.Linear.apply(input, weight, bias)


def relu(input, inplace: bool = False) -> Tensor:
    """``max(input, 0)``. ``inplace`` is accepted for PyTorch compatibility; the result
    is always a new tensor (the input is never overwritten)."""
    return _as_tensor(input, "relu").relu()


def tanh(input) -> Tensor:
    return _as_tensor(input, "tanh").tanh()


def sigmoid(input) -> Tensor:
    return _as_tensor(input, "sigmoid").sigmoid()


def leaky_relu(input, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """``input`` where positive, else ``negative_slope * input``; ``inplace`` as in
    :func:`relu`."""
    return _as_tensor(input, "leaky_relu").leaky_relu(negative_slope)


def softmax(input, dim: int) -> Tensor:
    return _as_tensor(input, "softmax").softmax(dim)


def log_softmax(input, dim: int) -> Tensor:
    return _as_tensor(input, "log_softmax").log_softmax(dim)


def check_dropout_probability(p) -> float:
    if isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)) \
            or not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be a number between 0 and 1, but "
                         f"got {p!r}")
    return float(p)


class Dropout(Function):
    """Inverted dropout: zero each element with probability p, scale the rest by 1/(1-p)."""

    @staticmethod
    def forward(ctx, x, p):
        keep = default_generator().random(x.shape, dtype=np.float32) >= p
        mask = keep.astype(x.dtype)
        mask *= 0.0 if p == 1.0 else 1.0 / (1.0 - p)
        ctx.save_for_backward(mask)
        return x * mask

    @staticmethod
    def backward(ctx, grad):
        (mask,) = ctx.saved_tensors
        return grad * mask, None


def dropout(input, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Inverted dropout in training mode; the input itself otherwise (or when p == 0).
    ``inplace`` as in :func:`relu`: the input is never overwritten."""
    p = check_dropout_probability(p)
    input = _as_tensor(input, "dropout")
    if not training or p == 0.0:
        return input
    _check_floating(input, "dropout")
    return Dropout.apply(input, p)


# --------------------------------------------------------------------------- losses


def _check_reduction(reduction, op: str) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {REDUCTIONS}, got {reduction!r}")


def _reduce(losses: np.ndarray, reduction: str):
    # np.add.reduce: the sum np.mean and np.sum compute, without their Python wrappers
    # (about 10 us a call, which a training step at batch 64 notices).
    if reduction == "mean":
        return np.add.reduce(losses, axis=None) / losses.size
    if reduction == "sum":
        return np.add.reduce(losses, axis=None)
    return losses


def _upstream_scale(grad: np.ndarray, reduction: str, count: int, class_axis: int):
    """The output gradient, shaped to broadcast over the classes of each sample."""
    if reduction == "mean":
        return grad / count
    if reduction == "sum":
        return grad
    return np.expand_dims(grad, class_axis)


def _class_axis(input: Tensor, op: str) -> int:
    if input.ndim == 0:
        raise ValueError(f"{op}: input must have a class axis, shape (N, C) or (C,), got a "
                         "0-d tensor")
    return 1 if input.ndim >= 2 else 0


def _check_class_indices(target: np.ndarray, input_shape: tuple, class_axis: int,
                         op: str) -> None:
    expected = input_shape[:class_axis] + input_shape[class_axis + 1:]
    if target.shape != expected:
        raise ValueError(f"{op}: target of shape {target.shape} does not fit input of shape "
                         f"{input_shape}: class-index targets need shape {expected}")
    num_classes = input_shape[class_axis]
    if target.size:
        low, high = target.min(), target.max()
        if low < 0 or high >= num_classes:
            bad = low if low < 0 else high
            raise ValueError(f"{op}: target contains class index {bad}, out of range for "
                             f"{num_classes} classes (valid indices are 0..{num_classes - 1})")


class CrossEntropy(Function):
    """Cross-entropy from logits against class indices or a class distribution.

    ``target`` holds integer class indices (one fewer axis than ``logits``) or floating
    probabilities (the shape of ``logits``). Label smoothing mixes the target with the
    uniform distribution: ``(1 - eps) * target + eps / C``.
    """

    @staticmethod
    def forward(ctx, logits, target, class_axis, reduction, label_smoothing):
        log_probs = ops.log_softmax_array(logits, class_axis)
        num_classes = logits.shape[class_axis]
        if target.dtype.kind in "iu":
            if log_probs.ndim == 2:  # the common (N, C) case: plain fancy indexing is faster
                index = (np.arange(len(target)), target)
                losses = -log_probs[index]
            else:
                index = np.expand_dims(target, class_axis)
                losses = -np.take_along_axis(log_probs, index, axis=class_axis).squeeze(
                    class_axis)
            if label_smoothing:
                losses *= 1.0 - label_smoothing
                losses -= (label_smoothing / num_classes) * log_probs.sum(axis=class_axis)
            ctx.save_for_backward(log_probs, index)
        else:
            distribution = target
            if label_smoothing:
                distribution = target * (1.0 - label_smoothing) + label_smoothing / num_classes
            losses = -np.sum(distribution * log_probs, axis=class_axis)
            ctx.save_for_backward(log_probs, distribution)
        ctx.meta = (class_axis, reduction, label_smoothing, num_classes, losses.size)
        return _reduce(losses, reduction)

    @staticmethod
    def backward(ctx, grad):
        log_probs, target = ctx.saved_tensors
        class_axis, reduction, label_smoothing, num_classes, count = ctx.meta
        scale = _upstream_scale(grad, reduction, count, class_axis)
        grad_logits = np.exp(log_probs)
        if type(target) is tuple or target.dtype.kind in "iu":  # class indices
            if label_smoothing:
                grad_logits -= label_smoothing / num_classes
            if type(target) is tuple:
                grad_logits[target] -= 1.0 - label_smoothing
            else:
                picked = np.take_along_axis(grad_logits, target, axis=class_axis)
                np.put_along_axis(grad_logits, target, picked - (1.0 - label_smoothing),
                                  axis=class_axis)
        else:
            # d/dz of -sum(q log softmax(z)) = softmax(z) * sum(q) - q; sum(q) need not be 1.
            grad_logits *= np.sum(target, axis=class_axis, keepdims=True)
            grad_logits -= target
        grad_logits *= scale
        grad_target = None
        if ctx.needs_input_grad[1]:
            grad_target = log_probs * (-(1.0 - label_smoothing) * scale)
        return grad_logits, grad_target, None, None, None


def cross_entropy(input, target, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """PyTorch's ``F.cross_entropy`` for logits of shape (N, C), (C,) or (N, C, d1, ...).

    ``target``: class indices (an integer array or Tensor of shape (N,), () or
    (N, d1, ...)) or class probabilities (a float array or Tensor shaped like
    ``input``; a Tensor that requires grad gets a gradient). ``"mean"`` divides by the
    number of samples in both cases, as PyTorch does.
    """
    _check_reduction(reduction, "cross_entropy")
    if isinstance(label_smoothing, bool) or not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must lie in [0, 1], got "
                         f"{label_smoothing!r}")
    input = _as_tensor(input, "cross_entropy")
    _check_floating(input, "cross_entropy")
    class_axis = _class_axis(input, "cross_entropy")
    target_array = target.data if isinstance(target, Tensor) else np.asarray(target)
    kind = target_array.dtype.kind
    if kind in "iu":
        _check_class_indices(target_array, input.shape, class_axis, "cross_entropy")
        target = target_array
    elif kind == "f":
        if target_array.shape != input.shape:
            raise ValueError(
                f"cross_entropy: target of shape {target_array.shape} does not fit input of "
                f"shape {input.shape}: give class probabilities of shape {input.shape} or "
                "integer class indices of shape "
                f"{input.shape[:class_axis] + input.shape[class_axis + 1:]}")
        if isinstance(target, Tensor) and target.requires_grad:
            target = target.astype(input.dtype)
        else:
            target = target_array.astype(input.dtype, copy=False)
    else:
        raise TypeError(f"cross_entropy: target must hold integer class indices or float "
                        f"class probabilities, got dtype {target_array.dtype}")
    return CrossEntropy.apply(input, target, class_axis, reduction, float(label_smoothing))


class NLLLoss(Function):
    """Negative log-likelihood: minus the log-probability of each target class."""

    @staticmethod
    def forward(ctx, log_probs, target, class_axis, reduction):
        index = np.expand_dims(target, class_axis)
        losses = -np.take_along_axis(log_probs, index, axis=class_axis).squeeze(class_axis)
        ctx.meta = (log_probs.shape, index, class_axis, reduction, losses.size)
        return _reduce(losses, reduction)

    @staticmethod
    def backward(ctx, grad):
        shape, index, class_axis, reduction, count = ctx.meta
        grad_input = np.zeros(shape, dtype=grad.dtype)
        np.put_along_axis(grad_input, index, -_upstream_scale(grad, reduction, count,
                                                                class_axis), axis=class_axis)
        return grad_input, None, None, None


def nll_loss(input, target, reduction: str = "mean") -> Tensor:
    """PyTorch's ``F.nll_loss``: ``input`` holds log-probabilities, ``target`` indices."""
    _check_reduction(reduction, "nll_loss")
    input = _as_tensor(input, "nll_loss")
    _check_floating(input, "nll_loss")
    class_axis = _class_axis(input, "nll_loss")
    target = target.data if isinstance(target, Tensor) else np.asarray(target)
    if target.dtype.kind not in "iu":
        raise TypeError(f"nll_loss: target must hold integer class indices, got dtype "
                        f"{target.dtype}")
    _check_class_indices(target, input.shape, class_axis, "nll_loss")
    return NLLLoss.apply(input, target, class_axis, reduction)


def mse_loss(input, target, reduction: str = "mean") -> Tensor:
    """Squared error, averaged (``"mean"``), summed (``"sum"``) or per element."""
    _check_reduction(reduction, "mse_loss")
    input = _as_tensor(input, "mse_loss")
    _check_floating(input, "mse_loss")
    if isinstance(target, Tensor):
        target = target.astype(input.dtype)
    else:
        target = np.asarray(target, dtype=input.dtype)
    if target.shape != input.shape:
        # PyTorch only warns, but broadcasting (N, 1) against (N,) silently gives an
        # (N, N) loss, so mismatched shapes are refused.
        raise ValueError(f"mse_loss: input of shape {input.shape} and target of shape "
                         f"{target.shape} must have the same shape")
    diff = input - target
    squared = diff * diff
    if reduction == "mean":
        return squared.mean()
    if reduction == "sum":
        return squared.sum()
    return squared
