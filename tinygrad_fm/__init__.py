"""tinygrad_fm: a small reverse-mode autodiff framework on NumPy with PyTorch's names."""

import numpy as _np

from .autograd import Context, Function, enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import GradcheckError, gradcheck
from .tensor import (
    DEFAULT_DTYPE,
    Tensor,
    cat,
    default_generator,
    manual_seed,
    maximum,
    minimum,
    one_hot,
    stack,
    where,
)

from . import nn  # noqa: E402  (after the engine: nn builds on it)

float32 = _np.float32
float64 = _np.float64
int64 = _np.int64

zeros, ones, full, arange, eye = Tensor.zeros, Tensor.ones, Tensor.full, Tensor.arange, Tensor.eye
randn, rand, uniform = Tensor.randn, Tensor.rand, Tensor.uniform
zeros_like, ones_like = Tensor.zeros_like, Tensor.ones_like


def tensor(data, requires_grad=False, dtype=None) -> Tensor:
    """Like ``torch.tensor``: always copies ``data`` (``Tensor(ndarray)`` shares it)."""
    if isinstance(data, Tensor):
        data = data.data
    if isinstance(data, _np.ndarray):
        data = data.copy()
    return Tensor(data, requires_grad, dtype)


__version__ = "0.1.0"
