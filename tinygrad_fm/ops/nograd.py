"""Array functions without a gradient (comparisons, argmax, floor division, integer
casts), run through one op so that :mod:`tinygrad_fm.jit` records and replays them like
every other op instead of freezing their result."""

from __future__ import annotations

from ..autograd import ArrayFunction

__all__ = ["ArrayCall"]


class ArrayCall(ArrayFunction):
    """``ArrayCall.apply(function, *arrays, **kwargs)``: ``function(*arrays, **kwargs)``
    as a Tensor that needs no gradient. Give arrays (``t.data``), not Tensors, so that
    nothing is recorded for backward."""

    @staticmethod
    def forward(ctx, function, *arrays, **kwargs):
        return function(*arrays, **kwargs)

    @staticmethod
    def backward(ctx, grad):  # pragma: no cover - never recorded: its inputs are arrays
        raise RuntimeError("ArrayCall has no gradient")

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):  # pragma: no cover - as backward
        raise RuntimeError("ArrayCall has no gradient")
