"""Layers, activations and loss modules (PyTorch's names, arguments and reprs)."""

from __future__ import annotations

import math

import numpy as np

from ..tensor import DEFAULT_DTYPE, Tensor
from . import functional as F
from . import init
from .module import Module, Parameter

__all__ = [
    "Linear", "Identity", "Flatten", "Dropout", "ReLU", "Tanh", "Sigmoid", "LeakyReLU",
    "Softmax", "LogSoftmax", "CrossEntropyLoss", "NLLLoss", "MSELoss",
    "GELU", "SiLU", "ELU", "Softplus", "LogSigmoid",
    "BCELoss", "BCEWithLogitsLoss", "L1Loss", "SmoothL1Loss", "HuberLoss",
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


class GELU(Module):
    """``x * Phi(x)`` (``approximate="none"``) or its tanh approximation
    (``approximate="tanh"``), as ``F.gelu``."""

    def __init__(self, approximate: str = "none"):
        super().__init__()
        self.approximate = F.check_gelu_approximation(approximate, "GELU")

    def forward(self, input):
        return F.gelu(input, self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    """``x * sigmoid(x)``. {inplace}"""

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = bool(inplace)

    def forward(self, input):
        return F.silu(input)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class ELU(Module):
    """``x`` where positive, else ``alpha * (exp(x) - 1)``. {inplace}"""

    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__()
        self.alpha = alpha
        self.inplace = bool(inplace)

    def forward(self, input):
        return F.elu(input, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class ReLU6(Module):
    """``min(max(x, 0), 6)``. {inplace}"""

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = bool(inplace)

    def forward(self, input):
        return F.relu6(input)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class Hardtanh(Module):
    """``x`` clipped to [min_val, max_val]. {inplace}"""

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False):
        super().__init__()
        self.min_val, self.max_val, self.inplace = min_val, max_val, bool(inplace)

    def forward(self, input):
        return F.hardtanh(input, self.min_val, self.max_val)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}" + \
            (", inplace=True" if self.inplace else "")


class Hardswish(ReLU6):
    """``x * relu6(x + 3) / 6``. {inplace}"""

    def forward(self, input):
        return F.hardswish(input)


class Mish(ReLU6):
    """``x * tanh(softplus(x))``. {inplace}"""

    def forward(self, input):
        return F.mish(input)


for _layer in (Dropout, ReLU, LeakyReLU, SiLU, ELU, ReLU6, Hardtanh, Hardswish, Mish):
    _layer.__doc__ = _layer.__doc__.format(inplace=_INPLACE_NOTE)
del _layer


class Softplus(Module):
    """``log(1 + exp(beta * x)) / beta``, linear where ``beta * x > threshold``."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0):
        super().__init__()
        self.beta = beta
        self.threshold = threshold

    def forward(self, input):
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class LogSigmoid(Module):
    def forward(self, input):
        return F.logsigmoid(input)


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
    """``F.cross_entropy`` from logits; see there for the accepted targets. ``weight``
    (one value per class) is kept as a buffer, as in PyTorch."""

    def __init__(self, weight=None, size_average=None, ignore_index: int = -100,
                 reduce=None, reduction: str = "mean", label_smoothing: float = 0.0):
        super().__init__()
        self.register_buffer("weight", _loss_buffer(weight))
        self.ignore_index = int(ignore_index)
        self.reduction = _check_reduction(F._legacy_reduction(size_average, reduce, reduction),
                                          "CrossEntropyLoss")
        if isinstance(label_smoothing, bool) or not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"CrossEntropyLoss: label_smoothing must lie in [0, 1], got "
                             f"{label_smoothing!r}")
        self.label_smoothing = float(label_smoothing)

    def forward(self, input, target):
        return F.cross_entropy(input, target, self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)


class NLLLoss(Module):
    """``F.nll_loss`` on log-probabilities; ``weight`` is kept as a buffer."""

    def __init__(self, weight=None, size_average=None, ignore_index: int = -100,
                 reduce=None, reduction: str = "mean"):
        super().__init__()
        self.register_buffer("weight", _loss_buffer(weight))
        self.ignore_index = int(ignore_index)
        self.reduction = _check_reduction(F._legacy_reduction(size_average, reduce, reduction),
                                          "NLLLoss")

    def forward(self, input, target):
        return F.nll_loss(input, target, self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)


class MSELoss(Module):
    def __init__(self, *, reduction: str = "mean"):
        super().__init__()
        self.reduction = _check_reduction(reduction, "MSELoss")

    def forward(self, input, target):
        return F.mse_loss(input, target, self.reduction)


def _loss_buffer(value):
    """A weight given to a loss module: kept as a buffer, as in PyTorch (``state_dict``
    holds it; ``module.to(dtype)`` converts it)."""
    if value is None or isinstance(value, (Tensor, np.ndarray)):
        return value
    return np.asarray(value, dtype=DEFAULT_DTYPE)


class BCELoss(Module):
    """``F.binary_cross_entropy`` on probabilities; ``weight`` rescales each element's
    loss (it must broadcast to the input's shape)."""

    def __init__(self, weight=None, *, reduction: str = "mean"):
        super().__init__()
        self.register_buffer("weight", _loss_buffer(weight))
        self.reduction = _check_reduction(reduction, "BCELoss")

    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, self.weight, self.reduction)


class BCEWithLogitsLoss(Module):
    """``F.binary_cross_entropy_with_logits``: sigmoid and binary cross-entropy in one
    stable op; ``pos_weight`` (e.g. shape (C,)) weights the positive examples."""

    def __init__(self, weight=None, *, reduction: str = "mean", pos_weight=None):
        super().__init__()
        self.register_buffer("weight", _loss_buffer(weight))
        self.register_buffer("pos_weight", _loss_buffer(pos_weight))
        self.reduction = _check_reduction(reduction, "BCEWithLogitsLoss")

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, self.weight, self.reduction,
                                                  self.pos_weight)


class L1Loss(Module):
    def __init__(self, *, reduction: str = "mean"):
        super().__init__()
        self.reduction = _check_reduction(reduction, "L1Loss")

    def forward(self, input, target):
        return F.l1_loss(input, target, self.reduction)


class SmoothL1Loss(Module):
    def __init__(self, *, reduction: str = "mean", beta: float = 1.0):
        super().__init__()
        self.reduction = _check_reduction(reduction, "SmoothL1Loss")
        self.beta = F._check_positive_number(beta, "beta", "SmoothL1Loss", allow_zero=True)

    def forward(self, input, target):
        return F.smooth_l1_loss(input, target, self.reduction, self.beta)


class HuberLoss(Module):
    def __init__(self, reduction: str = "mean", delta: float = 1.0):
        super().__init__()
        self.reduction = _check_reduction(reduction, "HuberLoss")
        self.delta = F._check_positive_number(delta, "delta", "HuberLoss", allow_zero=False)

    def forward(self, input, target):
        return F.huber_loss(input, target, self.reduction, self.delta)
