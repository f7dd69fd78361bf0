"""Layers, activations and loss modules (PyTorch's names, arguments and reprs)."""

from __future__ import annotations

import math

import numpy as np

from ..tensor import DEFAULT_DTYPE, Tensor
from . import functional as F
from . import init
from .module import Module, Parameter, UninitializedParameter

__all__ = [
    "Linear", "LazyLinear", "Identity", "Flatten", "Dropout", "ReLU", "Tanh", "Sigmoid", "LeakyReLU",
    "Softmax", "LogSoftmax", "CrossEntropyLoss", "NLLLoss", "MSELoss",
    "GELU", "SiLU", "ELU", "Softplus", "LogSigmoid",
    "BCELoss", "BCEWithLogitsLoss", "L1Loss", "SmoothL1Loss", "HuberLoss",
    "Hardsigmoid", "SELU", "CELU", "Threshold", "RReLU", "PReLU", "Softsign", "Tanhshrink",
    "Softmin", "Softmax2d", "GLU", "Unflatten", "PixelShuffle", "PixelUnshuffle",
    "CosineSimilarity", "PairwiseDistance", "Bilinear", "KLDivLoss", "SoftMarginLoss",
    "MarginRankingLoss", "HingeEmbeddingLoss", "CosineEmbeddingLoss", "TripletMarginLoss",
    "PoissonNLLLoss", "GaussianNLLLoss", "MultiMarginLoss", "MultiLabelSoftMarginLoss",
    "Hardshrink", "Softshrink",
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


class LazyLinear(Linear):
    """A :class:`Linear` whose ``in_features`` is the last axis of its first input: until
    then ``in_features`` is 0 and weight and bias are :class:`UninitializedParameter` s.
    The first forward materialises them in place (so an optimizer made before it keeps
    working, as in PyTorch), initialises them as ``Linear`` does and turns the module into
    a ``Linear``. Loading a state dict into a module not yet called is not supported:
    call it once (or build a ``Linear``) first."""

    cls_to_become = Linear

    def __init__(self, out_features: int, bias: bool = True, device=None,
                 dtype=DEFAULT_DTYPE):
        Module.__init__(self)
        self.in_features = 0
        self.out_features = _check_size(out_features, "out_features", "LazyLinear")
        self.weight = UninitializedParameter(dtype=dtype)
        if bias:
            self.bias = UninitializedParameter(dtype=dtype)
        else:
            self.register_parameter("bias", None)

    def has_uninitialized_params(self) -> bool:
        return any(isinstance(p, UninitializedParameter) for p in self.parameters())

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.in_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input) -> None:
        """Materialise the parameters for ``input``'s last axis and initialise them."""
        if not self.has_uninitialized_params():
            return
        if input.ndim < 1:
            raise ValueError(f"LazyLinear: the first input must have at least one axis (its "
                             f"last is in_features), got shape {input.shape}")
        self.in_features = int(input.shape[-1])
        self.weight.materialize((self.out_features, self.in_features))
        if self.bias is not None:
            self.bias.materialize((self.out_features,))
        self.reset_parameters()

    def forward(self, input):
        input = F._as_tensor(input, "LazyLinear")
        self.initialize_parameters(input)
        self.__class__ = self.cls_to_become
        return F.linear(input, self.weight, self.bias)


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


# --------------------------------------------------------------------------- everyday activations


class _InplaceFlag(Module):
    """An activation whose only setting is PyTorch's ``inplace`` (accepted; the result is
    always a new tensor)."""

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = bool(inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class Hardsigmoid(_InplaceFlag):
    """``relu6(x + 3) / 6``. PyTorch prints no settings for it."""

    def forward(self, input):
        return F.hardsigmoid(input)

    def extra_repr(self) -> str:
        return ""


class SELU(_InplaceFlag):
    """``scale * elu(x, alpha)`` with the fixed self-normalising constants."""

    def forward(self, input):
        return F.selu(input)


class CELU(Module):
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__()
        self.alpha, self.inplace = alpha, bool(inplace)

    def forward(self, input):
        return F.celu(input, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class Hardshrink(Module):
    """``x`` where ``|x| > lambd``, else 0."""

    def __init__(self, lambd: float = 0.5):
        super().__init__()
        self.lambd = lambd

    def forward(self, input):
        return F.hardshrink(input, self.lambd)

    def extra_repr(self) -> str:
        return f"{self.lambd}"


class Softshrink(Hardshrink):
    """``x`` moved ``lambd`` towards 0, and 0 within ``lambd`` of it."""

    def forward(self, input):
        return F.softshrink(input, self.lambd)


class Threshold(Module):
    """``x`` where ``x > threshold``, else ``value``."""

    def __init__(self, threshold: float, value: float, inplace: bool = False):
        super().__init__()
        self.threshold, self.value, self.inplace = threshold, value, bool(inplace)

    def forward(self, input):
        return F.threshold(input, self.threshold, self.value)

    def extra_repr(self) -> str:
        return f"threshold={self.threshold}, value={self.value}" + \
            (", inplace=True" if self.inplace else "")


class RReLU(Module):
    """Randomized leaky ReLU: slopes drawn from U(lower, upper) per element in training,
    the fixed slope (lower + upper) / 2 in eval mode (see ``F.rrelu``)."""

    def __init__(self, lower: float = 1.0 / 8, upper: float = 1.0 / 3, inplace: bool = False):
        super().__init__()
        self.lower, self.upper = F._check_rrelu_bounds(lower, upper, "RReLU")
        self.inplace = bool(inplace)

    def forward(self, input):
        return F.rrelu(input, self.lower, self.upper, self.training)

    def extra_repr(self) -> str:
        return f"lower={self.lower}, upper={self.upper}" + \
            (", inplace=True" if self.inplace else "")


class PReLU(Module):
    """Leaky ReLU with a learned negative slope: one shared (``num_parameters=1``) or one
    per channel (axis 1 of the input), each initialised to ``init``."""

    def __init__(self, num_parameters: int = 1, init: float = 0.25, dtype=DEFAULT_DTYPE):
        super().__init__()
        self.num_parameters = _check_size(num_parameters, "num_parameters", "PReLU")
        self.init = init
        self.weight = Parameter(np.empty(self.num_parameters, dtype=dtype))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.constant_(self.weight, self.init)

    def forward(self, input):
        return F.prelu(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class _Stateless(Module):
    """An activation with no settings: ``forward`` applies ``function``."""

    function = None

    def forward(self, input):
        return type(self).function(input)


class Softsign(_Stateless):
    """``x / (1 + |x|)``."""

    function = staticmethod(F.softsign)


class Tanhshrink(_Stateless):
    """``x - tanh(x)``."""

    function = staticmethod(F.tanhshrink)


class Softmin(Softmax):
    """``softmax(-x, dim)``; with no ``dim``, PyTorch's legacy implicit choice."""

    def __init__(self, dim=None):
        super().__init__(dim)

    def forward(self, input):
        return F.softmin(input, self.dim)


class Softmax2d(Module):
    """Softmax over the channels (axis -3) of a (N, C, H, W) or (C, H, W) input."""

    def forward(self, input):
        input = F._as_tensor(input, "Softmax2d")
        if input.ndim not in (3, 4):
            raise ValueError(f"Softmax2d: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, "
                             f"got shape {input.shape}")
        return F.softmax(input, -3)


class GLU(Module):
    """Gated linear unit over ``dim``: first half times the sigmoid of the second."""

    def __init__(self, dim: int = -1):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.glu(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


# --------------------------------------------------------------------------- shape, similarity, bilinear


class Unflatten(Module):
    """Split axis ``dim`` into ``unflattened_size`` (the inverse of :class:`Flatten`)."""

    def __init__(self, dim: int, unflattened_size):
        super().__init__()
        if isinstance(unflattened_size, (int, np.integer)) or not all(
                isinstance(n, (int, np.integer)) and not isinstance(n, bool)
                for n in unflattened_size):
            raise TypeError(f"Unflatten: unflattened_size must be a tuple of ints, got "
                            f"{unflattened_size!r}")
        self.dim = dim
        self.unflattened_size = tuple(int(n) for n in unflattened_size)

    def forward(self, input):
        return F._as_tensor(input, "Unflatten").unflatten(self.dim, self.unflattened_size)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class PixelShuffle(Module):
    """(*, C r^2, H, W) -> (*, C, H r, W r) with r = ``upscale_factor``."""

    def __init__(self, upscale_factor: int):
        super().__init__()
        self.upscale_factor = F._check_factor(upscale_factor, "upscale_factor", "PixelShuffle")

    def forward(self, input):
        return F.pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self) -> str:
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """(*, C, H r, W r) -> (*, C r^2, H, W) with r = ``downscale_factor``."""

    def __init__(self, downscale_factor: int):
        super().__init__()
        self.downscale_factor = F._check_factor(downscale_factor, "downscale_factor",
                                                "PixelUnshuffle")

    def forward(self, input):
        return F.pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self) -> str:
        return f"downscale_factor={self.downscale_factor}"


class CosineSimilarity(Module):
    """``F.cosine_similarity(x1, x2, dim, eps)``."""

    def __init__(self, dim: int = 1, eps: float = 1e-8):
        super().__init__()
        self.dim, self.eps = dim, eps

    def forward(self, x1, x2):
        return F.cosine_similarity(x1, x2, self.dim, self.eps)


class PairwiseDistance(Module):
    """``F.pairwise_distance(x1, x2, p, eps, keepdim)``."""

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False):
        super().__init__()
        self.norm, self.eps, self.keepdim = p, eps, keepdim

    def forward(self, x1, x2):
        return F.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)


class Bilinear(Module):
    """``y = x1^T W x2 + b`` with weight (out, in1, in2), initialised like PyTorch's:
    weight and bias from U(-1/sqrt(in1), 1/sqrt(in1))."""

    def __init__(self, in1_features: int, in2_features: int, out_features: int,
                 bias: bool = True, dtype=DEFAULT_DTYPE):
        super().__init__()
        self.in1_features = _check_size(in1_features, "in1_features", "Bilinear")
        self.in2_features = _check_size(in2_features, "in2_features", "Bilinear")
        self.out_features = _check_size(out_features, "out_features", "Bilinear")
        self.weight = Parameter(np.empty((self.out_features, self.in1_features,
                                          self.in2_features), dtype=dtype))
        if bias:
            self.bias = Parameter(np.empty(self.out_features, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1 / math.sqrt(self.in1_features) if self.in1_features else 0.0
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1, input2):
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")


# --------------------------------------------------------------------------- more losses


class _Loss(Module):
    """A loss module's ``reduction``, resolved from PyTorch's deprecated ``size_average``
    and ``reduce`` flags as PyTorch does."""

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__()
        self.reduction = _check_reduction(F._legacy_reduction(size_average, reduce, reduction),
                                          type(self).__name__)


class KLDivLoss(Module):
    """``F.kl_div`` (input: log-probabilities); ``reduction="batchmean"`` gives the KL
    divergence per sample."""

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean",
                 log_target: bool = False):
        super().__init__()
        reduction = F._legacy_reduction(size_average, reduce, reduction)
        if reduction not in F.KL_DIV_REDUCTIONS:
            raise ValueError(f"KLDivLoss: reduction must be one of {F.KL_DIV_REDUCTIONS}, got "
                             f"{reduction!r}")
        self.reduction, self.log_target = reduction, log_target

    def forward(self, input, target):
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


class SoftMarginLoss(_Loss):
    def forward(self, input, target):
        return F.soft_margin_loss(input, target, reduction=self.reduction)


class MarginRankingLoss(_Loss):
    def __init__(self, margin: float = 0.0, size_average=None, reduce=None,
                 reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1, input2, target):
        return F.margin_ranking_loss(input1, input2, target, self.margin,
                                     reduction=self.reduction)


class HingeEmbeddingLoss(MarginRankingLoss):
    def __init__(self, margin: float = 1.0, size_average=None, reduce=None,
                 reduction: str = "mean"):
        super().__init__(margin, size_average, reduce, reduction)

    def forward(self, input, target):
        return F.hinge_embedding_loss(input, target, self.margin, reduction=self.reduction)


class CosineEmbeddingLoss(MarginRankingLoss):
    def forward(self, input1, input2, target):
        return F.cosine_embedding_loss(input1, input2, target, self.margin,
                                       reduction=self.reduction)


class TripletMarginLoss(_Loss):
    def __init__(self, margin: float = 1.0, p: float = 2.0, eps: float = 1e-6,
                 swap: bool = False, size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)
        if margin <= 0:
            raise ValueError(f"TripletMarginLoss: margin must be greater than 0, got {margin}")
        self.margin, self.p, self.eps, self.swap = margin, p, eps, swap

    def forward(self, anchor, positive, negative):
        return F.triplet_margin_loss(anchor, positive, negative, self.margin, self.p,
                                     self.eps, self.swap, reduction=self.reduction)


class PoissonNLLLoss(_Loss):
    def __init__(self, log_input: bool = True, full: bool = False, size_average=None,
                 eps: float = 1e-8, reduce=None, reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)
        self.log_input, self.full, self.eps = log_input, full, eps

    def forward(self, log_input, target):
        return F.poisson_nll_loss(log_input, target, self.log_input, self.full,
                                  eps=self.eps, reduction=self.reduction)


class GaussianNLLLoss(_Loss):
    def __init__(self, *, full: bool = False, eps: float = 1e-6, reduction: str = "mean"):
        super().__init__(reduction=reduction)
        self.full, self.eps = full, eps

    def forward(self, input, target, var):
        return F.gaussian_nll_loss(input, target, var, self.full, self.eps, self.reduction)


class MultiLabelSoftMarginLoss(_Loss):
    """``F.multilabel_soft_margin_loss``; ``weight`` (one per class) is kept as a buffer."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", _loss_buffer(weight))

    def forward(self, input, target):
        return F.multilabel_soft_margin_loss(input, target, self.weight,
                                             reduction=self.reduction)


class MultiMarginLoss(_Loss):
    """``F.multi_margin_loss``; ``weight`` (one per class) is kept as a buffer."""

    def __init__(self, p: int = 1, margin: float = 1.0, weight=None, size_average=None,
                 reduce=None, reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)
        if p not in (1, 2):
            raise ValueError(f"MultiMarginLoss: only p == 1 and p == 2 are supported, got {p}")
        self.p, self.margin = p, margin
        self.register_buffer("weight", _loss_buffer(weight))

    def forward(self, input, target):
        return F.multi_margin_loss(input, target, self.p, self.margin, self.weight,
                                   reduction=self.reduction)
