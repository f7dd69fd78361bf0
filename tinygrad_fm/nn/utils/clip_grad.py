"""Gradient clipping with ``torch.nn.utils``' names: ``clip_grad_norm_`` and
``clip_grad_value_`` (used between ``loss.backward()`` and ``optimizer.step()``)."""

from __future__ import annotations

import math

import numpy as np

from ... import _recording
from ...tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_"]


def _refuse_while_recording(name: str) -> None:
    """Clipping rebinds each ``.grad``'s array, which a tinygrad_fm.jit replay would not
    repeat: refuse it inside a captured function rather than drop it silently."""
    if _recording.recorder is not None:
        from ...jit import CaptureError

        raise CaptureError(
            f"{name} inside a captured function: it rescales the gradients outside the "
            "recorded ops, so the replay would skip it. Capture the forward and backward "
            "pass only, and clip and call optimizer.step() after the call, or run the step "
            "without tinygrad_fm.jit")


def _grads(parameters) -> list:
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False) -> Tensor:
    """Scale the gradients in place so that their joint ``norm_type``-norm (over all
    parameters together) is at most ``max_norm``; returns the norm before clipping.

    As PyTorch: the factor is ``max_norm / (total_norm + 1e-6)``, applied only when it is
    below 1; ``norm_type`` may be ``inf`` (the largest absolute value).
    """
    _refuse_while_recording("clip_grad_norm_()")
    grads = _grads(parameters)
    max_norm, norm_type = float(max_norm), float(norm_type)
    if not grads:
        return Tensor(np.float32(0.0))
    if norm_type == math.inf:
        norms = [np.max(np.abs(g.data)) if g.data.size else 0.0 for g in grads]
        total = float(max(norms))
    else:
        total = float(sum(np.sum(np.abs(g.data.astype(np.float64)) ** norm_type)
                          for g in grads) ** (1.0 / norm_type))
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from "
                           "`parameters` is non-finite, so it cannot be clipped. To disable "
                           "this error and scale the gradients by the non-finite norm "
                           "anyway, set `error_if_nonfinite=False`")
    coefficient = max_norm / (total + 1e-6)
    if coefficient < 1.0 or math.isnan(coefficient):
        for g in grads:
            g.data = g.data * g.data.dtype.type(coefficient)
    return Tensor(np.asarray(total, dtype=grads[0].data.dtype))


def clip_grad_value_(parameters, clip_value: float) -> None:
    """Clip every gradient element to ``[-clip_value, clip_value]`` in place."""
    _refuse_while_recording("clip_grad_value_()")
    clip_value = float(clip_value)
    for g in _grads(parameters):
        g.data = np.clip(g.data, -clip_value, clip_value).astype(g.data.dtype, copy=False)
