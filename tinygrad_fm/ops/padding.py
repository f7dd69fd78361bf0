"""Padding of the trailing axes: constant, reflect, replicate and circular, and its adjoint.

A padding is separable: along each padded axis, output position ``j`` reads input
position ``source[j]`` (or the constant). Negative widths crop, as in PyTorch. ``Pad``
gathers along each axis in turn; its adjoint ``PadAdjoint`` adds each output position's
gradient back into its source. The two are each other's backward, so gradients of any
order are paddings again.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..autograd import ArrayFunction

__all__ = ["PadSpec", "Pad", "PadAdjoint", "pad_sources"]

PAD_MODES = ("constant", "reflect", "replicate", "circular")


class PadSpec(NamedTuple):
    widths: tuple  # ((before, after), ...) for the last len(widths) axes, in axis order
    mode: str
    value: float
    input_shape: tuple

    @property
    def output_shape(self) -> tuple:
        lead = len(self.input_shape) - len(self.widths)
        return self.input_shape[:lead] + tuple(
            n + before + after
            for n, (before, after) in zip(self.input_shape[lead:], self.widths))


def pad_sources(size: int, before: int, after: int, mode: str) -> np.ndarray:
    """For each output position along one axis, the input position it copies
    (-1 for the constant)."""
    positions = np.arange(-before, size + after)
    if mode == "constant":
        return np.where((positions >= 0) & (positions < size), positions, -1)
    if mode == "replicate":
        return np.clip(positions, 0, size - 1)
    if mode == "circular":
        return positions % size
    if size == 1:  # reflect: nothing to reflect (widths are checked < size)
        return np.zeros_like(positions)
    period = 2 * (size - 1)
    folded = positions % period
    return np.where(folded < size, folded, period - folded)


def _core_slices(size: int, before: int, after: int):
    """(input slice, output slice) of the positions that copy one-to-one."""
    start, stop = max(before, 0), size + before + min(after, 0)
    return slice(max(-before, 0), max(-before, 0) + max(stop - start, 0)), \
        slice(start, max(stop, start))


def _pad(x: np.ndarray, spec: PadSpec) -> np.ndarray:
    lead = x.ndim - len(spec.widths)
    if spec.mode == "constant":
        out = np.full(spec.output_shape, spec.value, dtype=x.dtype)
        src, dst = [slice(None)] * x.ndim, [slice(None)] * x.ndim
        for k, (before, after) in enumerate(spec.widths):
            src[lead + k], dst[lead + k] = _core_slices(x.shape[lead + k], before, after)
        out[tuple(dst)] = x[tuple(src)]
        return out
    for k, (before, after) in enumerate(spec.widths):
        if before or after:
            axis = lead + k
            x = np.take(x, pad_sources(x.shape[axis], before, after, spec.mode), axis=axis)
    return x


def _pad_adjoint(grad: np.ndarray, spec: PadSpec) -> np.ndarray:
    lead = grad.ndim - len(spec.widths)
    if spec.mode == "constant":
        out = np.zeros(spec.input_shape, dtype=grad.dtype)
        src, dst = [slice(None)] * grad.ndim, [slice(None)] * grad.ndim
        for k, (before, after) in enumerate(spec.widths):
            src[lead + k], dst[lead + k] = _core_slices(spec.input_shape[lead + k], before,
                                                        after)
        out[tuple(src)] = grad[tuple(dst)]
        return out
    for k in reversed(range(len(spec.widths))):
        before, after = spec.widths[k]
        if not (before or after):
            continue
        axis = lead + k
        size = spec.input_shape[axis]
        sources = pad_sources(size, before, after, spec.mode)
        moved = np.moveaxis(grad, axis, 0)
        summed = np.zeros((size,) + moved.shape[1:], dtype=grad.dtype)
        input_core, output_core = _core_slices(size, before, after)
        summed[input_core] = moved[output_core]
        # Only the (few) padded positions are added one at a time.
        core = np.zeros(len(sources), dtype=bool)
        core[output_core] = True
        for j in np.flatnonzero(~core):
            summed[sources[j]] += moved[j]
        grad = np.moveaxis(summed, 0, axis)
    return grad


class Pad(ArrayFunction):
    @staticmethod
    def forward(ctx, x, spec):
        ctx.spec = spec
        return _pad(x, spec)

    @staticmethod
    def backward(ctx, grad):
        return _pad_adjoint(grad, ctx.spec), None

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        return PadAdjoint.apply(grad, ctx.spec), None


class PadAdjoint(ArrayFunction):
    """Sum the gradient of a padded tensor back onto the unpadded one."""

    @staticmethod
    def forward(ctx, grad, spec):
        ctx.spec = spec
        return _pad_adjoint(grad, spec)

    @staticmethod
    def backward(ctx, grad):
        return _pad(grad, ctx.spec._replace(value=0)), None

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        return Pad.apply(grad, ctx.spec._replace(value=0)), None
