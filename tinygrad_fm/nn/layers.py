"""Layers, activations and loss modules (PyTorch's names, arguments and reprs)."""

from __future__ import annotations

import math

import numpy as np

from ..tensor import DEFAULT_DTYPE
from . import functional as F
from . import init
from .module import Module, Parameter

__all__ = [
    "Linear", "Identity", "Flatten", "Dropout", "ReLU", "Tanh", "Sigmoid", "LeakyReLU",
    "Softmax", "LogSoftmax", "CrossEntropyLoss", "NLLLoss", "MSELoss",
]


def _check_size(value, name: str, layer: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{layer}: {name} must be a non-negative integer, got {value!r}")
    return int(value)


class Linear(Module):
    """``y = x @ weight.T + bias`` with weight (out_features, in_features), initialised
    like ``torch.nn.Linear``: U(-1/sqrt(in_features), 1/sqrt(in_features))."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 dtype=DEFAULT_DTYPE):
        super().__init__()
        self.in_features = _check_size(in_features, "in_features", "Linear")
        self.out_features = _check_size(out_features, "out_features", "Linear")
        self.weight = Parameter(np.empty((self.out_features, self.in_features), dtype=dtype))
        if bias:
            self.bias = Parameter(np.empty(self.out_features, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.in_features
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input):
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Identity(Module):
    """Returns its input unchanged (a placeholder that keeps a model's layout). Like
    PyTorch's, it accepts and ignores any constructor arguments."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Flatten(Module):
    """Merge axes ``start_dim..end_dim`` into one (by default all but the batch axis)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input):
        return F._as_tensor(input, "Flatten").flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


_INPLACE_NOTE = """``inplace`` is accepted so that PyTorch code ports unchanged, and the result
    is the same, but it is always a new tensor: the input is never overwritten (the
    graph may hold it for backward)."""


class Dropout(Module):
    """Inverted dropout in training mode (``model.train()``); the identity in eval mode.

    {inplace}
    """

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        self.p = F.check_dropout_probability(p)
        self.inplace = bool(inplace)

    def forward(self, input):
        return F.dropout(input, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class ReLU(Module):
    """``max(x, 0)`` elementwise. {inplace}"""

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = bool(inplace)

    def forward(self, input):
        return F.relu(input)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class Tanh(Module):
    def forward(self, input):
        return F.tanh(input)


class Sigmoid(Module):
    def forward(self, input):
        return F.sigmoid(input)


class LeakyReLU(Module):
    """``x`` where positive, else ``negative_slope * x``. {inplace}"""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False):
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = bool(inplace)

    def forward(self, input):
        return F.leaky_relu(input, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace
                                                          else "")


for _layer in (Dropout, ReLU, LeakyReLU):
    _layer.__doc__ = _layer.__doc__.format(inplace=_INPLACE_NOTE)
del _layer


class Softmax(Module):
    def __init__(self, dim: int):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    def forward(self, input):
        return F.log_softmax(input, self.dim)


def _check_reduction(reduction: str, loss: str) -> str:
    F._check_reduction(reduction, loss)
    return reduction


class CrossEntropyLoss(Module):
    """``F.cross_entropy`` from logits; see there for the accepted targets."""

    def __init__(self, *, reduction: str = "mean", label_smoothing: float = 0.0):
        super().__init__()
        self.reduction = _check_reduction(reduction, "CrossEntropyLoss")
        if isinstance(label_smoothing, bool) or not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"CrossEntropyLoss: label_smoothing must lie in [0, 1], got "
                             f"{label_smoothing!r}")
        self.label_smoothing = float(label_smoothing)

    def forward(self, input, target):
        return F.cross_entropy(input, target, self.reduction, self.label_smoothing)


class NLLLoss(Module):
    def __init__(self, *, reduction: str = "mean"):
        super().__init__()
        self.reduction = _check_reduction(reduction, "NLLLoss")

    def forward(self, input, target):
        return F.nll_loss(input, target, self.reduction)


class MSELoss(Module):
    def __init__(self, *, reduction: str = "mean"):
        super().__init__()
        self.reduction = _check_reduction(reduction, "MSELoss")

    def forward(self, input, target):
        return F.mse_loss(input, target, self.reduction)
