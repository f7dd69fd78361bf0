"""tinygrad_fm: a small reverse-mode autodiff framework on NumPy with PyTorch's names."""

import numpy as _np

from . import autograd
from .autograd import Context, Function, enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
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
from .nn.serialization import load, save  # noqa: E402  (torch.save / torch.load)
from .jit import jit  # noqa: E402  (step capture; tinygrad_fm.jit is the decorator)

float32 = _np.float32
float64 = _np.float64
int64 = _np.int64

zeros, ones, full, arange, eye = Tensor.zeros, Tensor.ones, Tensor.full, Tensor.arange, Tensor.eye
linspace = Tensor.linspace
randn, rand, uniform = Tensor.randn, Tensor.rand, Tensor.uniform
zeros_like, ones_like = Tensor.zeros_like, Tensor.ones_like


def tensor(data, requires_grad=False, dtype=None) -> Tensor:
    """Like ``torch.tensor``: always copies ``data`` (``Tensor(ndarray)`` shares it)."""
    if isinstance(data, Tensor):
        data = data.data
    if isinstance(data, _np.ndarray):
        data = data.copy()
    return Tensor(data, requires_grad, dtype)


def from_numpy(array) -> Tensor:
    """Like ``torch.from_numpy``: a Tensor sharing ``array``'s memory and dtype."""
    if not isinstance(array, _np.ndarray):
        raise TypeError(f"from_numpy expects a numpy.ndarray, got {type(array).__name__}")
    return Tensor(array)


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def numel(input) -> int:
    return input.numel()


def full_like(other, fill_value, dtype=None, requires_grad=False) -> Tensor:
    data = other.data if isinstance(other, Tensor) else other
    return Tensor(_np.full_like(data, fill_value, dtype=dtype), requires_grad)


def randn_like(other, dtype=None, requires_grad=False) -> Tensor:
    data = other.data if isinstance(other, Tensor) else _np.asarray(other)
    return Tensor.randn(*data.shape, dtype=dtype or data.dtype, requires_grad=requires_grad)


def rand_like(other, dtype=None, requires_grad=False) -> Tensor:
    data = other.data if isinstance(other, Tensor) else _np.asarray(other)
    return Tensor.rand(*data.shape, dtype=dtype or data.dtype, requires_grad=requires_grad)


def _function_form(name):
    method = getattr(Tensor, name)

    def function(input, *args, **kwargs):
        if not isinstance(input, Tensor):
            input = Tensor(input)
        return method(input, *args, **kwargs)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"``torch.{name}(input, ...)``: the same as ``input.{name}(...)``."
    return function


# torch.exp(x), torch.sum(x, dim=1), ...: the Tensor methods as functions (torch has no
# function form of Tensor.repeat).
for _name in ("exp", "log", "sqrt", "abs", "tanh", "sigmoid", "relu", "sum", "mean", "max",
              "min", "argmax", "argmin", "var", "std", "logsumexp", "softmax", "log_softmax",
              "clip", "clamp", "matmul", "reshape", "flatten", "squeeze", "unsqueeze",
              "transpose", "permute", "t", "clone", "detach", "eq", "ne", "lt", "le", "gt",
              "ge", "gather", "scatter", "scatter_add", "masked_fill", "clamp_min",
              "clamp_max", "norm", "cumsum", "topk", "sort", "flip", "roll", "tile", "split",
              "chunk", "outer", "ger", "diag", "tril", "triu"):
    globals()[_name] = _function_form(_name)
del _name

__version__ = "0.1.0"
