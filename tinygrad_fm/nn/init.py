"""Parameter initialisation with PyTorch's ``torch.nn.init`` names, arguments and formulas.

Every function fills ``tensor.data`` in place (keeping its dtype), draws from
:func:`tinygrad_fm.default_generator` (so ``manual_seed`` makes it reproducible) and
returns the tensor.
"""

from __future__ import annotations

import math

import numpy as np

from ..random import numpy_rng
from ..tensor import Tensor

__all__ = [
    "calculate_gain", "calculate_fan_in_and_fan_out", "zeros_", "ones_", "constant_",
    "uniform_", "normal_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_",
    "kaiming_normal_", "trunc_normal_", "orthogonal_", "eye_", "dirac_",
]

_LINEAR_GAINS = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                 "conv_transpose2d", "conv_transpose3d", "sigmoid")


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for ``nonlinearity`` (PyTorch's table): 1 for linear and
    sigmoid, 5/3 for tanh, sqrt(2) for relu, sqrt(2 / (1 + slope^2)) for leaky_relu
    (slope ``param``, default 0.01) and 3/4 for selu."""
    if nonlinearity in _LINEAR_GAINS:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, bool) or not isinstance(param, (int, float)):
            raise ValueError(f"calculate_gain: negative_slope {param!r} is not a number")
        else:
            slope = param
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}; use one of "
                     f"{_LINEAR_GAINS + ('tanh', 'relu', 'leaky_relu', 'selu')}")


def calculate_fan_in_and_fan_out(tensor) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight of shape (out, in, *kernel), as PyTorch computes them."""
    shape = np.shape(tensor.data if isinstance(tensor, Tensor) else tensor)
    if len(shape) < 2:
        raise ValueError(f"fan in and fan out cannot be computed for a tensor with fewer than "
                         f"2 dimensions (shape {shape})")
    receptive_field = math.prod(shape[2:])
    return shape[1] * receptive_field, shape[0] * receptive_field


_calculate_fan_in_and_fan_out = calculate_fan_in_and_fan_out  # PyTorch's (private) name


def _target(tensor, function: str) -> np.ndarray:
    array = tensor.data if isinstance(tensor, Tensor) else tensor
    if not isinstance(array, np.ndarray):
        raise TypeError(f"{function}: expected a Tensor or an ndarray, got "
                        f"{type(tensor).__name__}")
    if array.dtype.kind != "f":
        raise TypeError(f"{function}: can only initialise floating-point tensors, got dtype "
                        f"{array.dtype}")
    return array


def _draw_dtype(array: np.ndarray):
    """Draw directly in float32/float64 (the Generator's native types), else in float64."""
    return array.dtype.type if array.dtype in (np.float32, np.float64) else np.float64


def constant_(tensor, val: float):
    _target(tensor, "constant_")[...] = val
    return tensor


def zeros_(tensor):
    return constant_(tensor, 0.0)


def ones_(tensor):
    return constant_(tensor, 1.0)


def uniform_(tensor, a: float = 0.0, b: float = 1.0, generator=None):
    """Fill with samples from U(a, b)."""
    array = _target(tensor, "uniform_")
    if not a <= b:
        raise ValueError(f"uniform_: the lower bound a={a} must not exceed b={b}")
    generator = numpy_rng(generator)
    sample = generator.random(array.shape, dtype=_draw_dtype(array))
    sample *= b - a
    sample += a
    array[...] = sample
    return tensor


def normal_(tensor, mean: float = 0.0, std: float = 1.0, generator=None):
    """Fill with samples from N(mean, std^2)."""
    array = _target(tensor, "normal_")
    if not std >= 0:
        raise ValueError(f"normal_: std must be non-negative, got {std}")
    generator = numpy_rng(generator)
    sample = generator.standard_normal(array.shape, dtype=_draw_dtype(array))
    sample *= std
    sample += mean
    array[...] = sample
    return tensor


def xavier_uniform_(tensor, gain: float = 1.0, generator=None):
    """U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio, 2010)."""
    fan_in, fan_out = calculate_fan_in_and_fan_out(_target(tensor, "xavier_uniform_"))
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out)) if fan_in + fan_out else 0.0
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor, gain: float = 1.0, generator=None):
    """N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = calculate_fan_in_and_fan_out(_target(tensor, "xavier_normal_"))
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out)) if fan_in + fan_out else 0.0
    return normal_(tensor, 0.0, std, generator)


def _kaiming_std(tensor, a, mode: str, nonlinearity: str, function: str) -> float:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"{function}: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = calculate_fan_in_and_fan_out(_target(tensor, function))
    fan = fan_in if mode == "fan_in" else fan_out
    if fan == 0:
        return 0.0  # an empty tensor: there is nothing to fill
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(tensor, a: float = 0.0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu", generator=None):
    """U(-bound, bound) with bound = gain * sqrt(3 / fan) (He et al., 2015); ``a`` is the
    negative slope of leaky_relu. PyTorch's Linear uses a=sqrt(5): bound 1/sqrt(fan_in)."""
    std = _kaiming_std(tensor, a, mode, nonlinearity, "kaiming_uniform_")
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a: float = 0.0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu", generator=None):
    """N(0, std^2) with std = gain / sqrt(fan)."""
    std = _kaiming_std(tensor, a, mode, nonlinearity, "kaiming_normal_")
    return normal_(tensor, 0.0, std, generator)


# Rejection sampling redraws the values outside [a, b]; a window this unlikely under
# N(mean, std^2) would need too many rounds.
_MIN_TRUNCATED_MASS = 1e-4


def trunc_normal_(tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0,
                  b: float = 2.0, generator=None):
    """Fill with samples from N(mean, std^2) truncated to [a, b] (the bounds are absolute
    values, as in PyTorch), drawn by redrawing the samples that fall outside."""
    from .functional import normal_cdf

    array = _target(tensor, "trunc_normal_")
    if not a < b:
        raise ValueError(f"trunc_normal_: the lower bound a={a} must be below b={b}")
    if not std > 0:
        raise ValueError(f"trunc_normal_: std must be positive, got {std}")
    low, high = normal_cdf(np.array([(a - mean) / std, (b - mean) / std]))
    if high - low < _MIN_TRUNCATED_MASS:
        raise ValueError(f"trunc_normal_: [a, b] = [{a}, {b}] holds only {high - low:.2g} of "
                         f"N({mean}, {std}^2); move the bounds nearer the mean")
    generator = numpy_rng(generator)
    sample = np.empty(array.shape, dtype=np.float64).reshape(-1)
    pending = np.arange(sample.size)
    while pending.size:
        draw = generator.standard_normal(pending.size) * std + mean
        sample[pending] = draw
        pending = pending[(draw < a) | (draw > b)]
    array[...] = sample.reshape(array.shape)
    return tensor


def orthogonal_(tensor, gain: float = 1.0, generator=None):
    """Fill with a (semi-)orthogonal matrix times ``gain`` (Saxe et al., 2013), as PyTorch:
    the QR factor of a normal matrix over (shape[0], numel / shape[0]), with the signs
    fixed by the diagonal of R so that the result is uniformly distributed."""
    array = _target(tensor, "orthogonal_")
    if array.ndim < 2:
        raise ValueError(f"orthogonal_: only tensors with 2 or more dimensions are supported, "
                         f"got shape {array.shape}")
    if array.size == 0:
        return tensor
    rows = array.shape[0]
    cols = array.size // rows
    flattened = numpy_rng(generator).standard_normal((rows, cols))
    if rows < cols:
        flattened = flattened.T
    q, r = np.linalg.qr(flattened)
    q *= np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    array[...] = (q * gain).reshape(array.shape)
    return tensor


def eye_(tensor):
    """Fill a 2-D tensor with the identity (ones on the main diagonal), as PyTorch."""
    array = _target(tensor, "eye_")
    if array.ndim != 2:
        raise ValueError(f"eye_: only 2-D tensors are supported, got shape {array.shape}")
    array[...] = np.eye(*array.shape, dtype=array.dtype)
    return tensor


def dirac_(tensor, groups: int = 1):
    """Fill a 3-, 4- or 5-D convolution weight with the Dirac delta, so that the
    convolution passes its input channels through (per group of ``groups``)."""
    array = _target(tensor, "dirac_")
    if array.ndim not in (3, 4, 5):
        raise ValueError(f"dirac_: only 3, 4 and 5-D tensors are supported, got shape "
                         f"{array.shape}")
    if isinstance(groups, bool) or not isinstance(groups, int) or groups <= 0 or \
            array.shape[0] % groups:
        raise ValueError(f"dirac_: dim 0 ({array.shape[0]}) must be divisible by groups "
                         f"({groups!r})")
    out_per_group = array.shape[0] // groups
    center = tuple(size // 2 for size in array.shape[2:])
    array[...] = 0
    for group in range(groups):
        for channel in range(min(out_per_group, array.shape[1])):
            array[(group * out_per_group + channel, channel) + center] = 1
    return tensor
