"""tinygrad_fm: a small reverse-mode autodiff framework on NumPy with PyTorch's names.

``import tinygrad_fm as torch`` gives PyTorch's namespace: ``torch.nn``,
``torch.nn.functional``, ``torch.optim``, ``torch.utils.data``, ``torch.autograd``,
``torch.linalg``, the dtype names, ``torch.device``, the factories and the function
forms of the Tensor methods (``torch.exp(x)``, ``torch.max(x, 1)``, ...).
"""

import numpy as _np

from ._allocator import keep_freed_memory as _keep_freed_memory

_keep_freed_memory()

from . import autograd  # noqa: E402
from .autograd import Context, Function, enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .autograd import is_anomaly_check_nan_enabled, is_anomaly_enabled
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .tensor import DEFAULT_DTYPE, Tensor, cat, maximum, minimum, one_hot, stack, where
from . import return_types
from .random import (Generator, default_generator, get_rng_state, initial_seed, manual_seed,
                     seed, set_rng_state)
from .creation import (arange, as_tensor, bernoulli, empty, empty_like, eye, from_numpy, full,
                       full_like, linspace, multinomial, normal, ones, ones_like, rand,
                       rand_like, randint, randint_like, randn, randn_like, randperm, tensor,
                       zeros, zeros_like)
from .creation import (BoolTensor, ByteTensor, CharTensor, DoubleTensor, FloatTensor,
                       HalfTensor, IntTensor, LongTensor, ShortTensor)
from . import version
from .tensor import Size
from . import linalg
from .linalg import einsum, tensordot
from .functions import (addmm, atleast_1d, atleast_2d, atleast_3d, baddbmm, block_diag,
                        bucketize, cartesian_prod, cdist, column_stack, combinations, dstack,
                        hstack, kron, meshgrid, polygamma, repeat_interleave, searchsorted,
                        std_mean, trace, var_mean, vstack)
from . import special
from .switches import compile, get_float32_matmul_precision, set_float32_matmul_precision  # noqa: A004
from .tensor import set_printoptions

from . import nn  # noqa: E402  (after the engine: nn builds on it)
from . import optim  # noqa: E402
from . import utils  # noqa: E402
from . import distributions  # noqa: E402  (built on nn.functional)
from . import func  # noqa: E402  (torch.func)
from . import amp  # noqa: E402  (torch.amp)
from .amp import autocast  # noqa: E402
from .func import vmap  # noqa: E402
from .nn.serialization import load, save  # noqa: E402  (torch.save / torch.load)
from .jit import jit  # noqa: E402  (step capture; tinygrad_fm.jit is the decorator)
from .threads import get_num_threads, set_num_threads  # noqa: E402

inference_mode = no_grad
uniform = Tensor.uniform


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def numel(input) -> int:
    return input.numel()


def _function_form(name):
    method = getattr(Tensor, name)

    def function(input, *args, **kwargs):
        if not isinstance(input, Tensor):
            input = Tensor(input)
        return method(input, *args, **kwargs)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"``torch.{name}(input, ...)``: the same as ``input.{name}(...)``."
    return function


# torch.exp(x), torch.sum(x, dim=1), torch.max(x, 1), torch.max(a, b), ...: the Tensor
# methods as functions (torch has no function form of Tensor.repeat).
for _name in ("exp", "log", "sqrt", "abs", "tanh", "sigmoid", "relu", "sum", "mean", "max",
              "min", "argmax", "argmin", "var", "std", "logsumexp", "softmax", "log_softmax",
              "clip", "clamp", "matmul", "reshape", "flatten", "squeeze", "unsqueeze",
              "transpose", "permute", "t", "clone", "detach", "eq", "ne", "lt", "le", "gt",
              "ge", "gather", "scatter", "scatter_add", "masked_fill", "clamp_min",
              "clamp_max", "norm", "cumsum", "topk", "sort", "flip", "roll", "tile", "split",
              "chunk", "outer", "ger", "diag", "tril", "triu",
              "amax", "amin", "aminmax", "median", "mode", "kthvalue", "argsort", "any", "all",
              "isnan", "isinf", "isfinite", "nan_to_num", "nonzero", "count_nonzero",
              "allclose", "isclose", "equal", "sin", "cos", "log1p", "expm1", "rsqrt",
              "reciprocal", "sign", "square", "floor", "ceil", "round", "trunc", "unflatten",
              "movedim", "moveaxis", "swapaxes", "swapdims", "narrow", "bmm", "logical_not",
              "logical_and", "logical_or", "logical_xor", "add", "sub", "mul", "div", "pow",
              "neg", "type_as", "prod", "cumprod", "diff", "unbind", "index_select",
              "masked_select", "take", "diagonal", "lerp", "atan2", "arctan2", "hypot",
              "floor_divide", "remainder", "fmod", "nansum", "nanmean", "quantile",
              "nanquantile", "unique", "bincount", "histc", "addcmul", "addcdiv",
              "index_add", "tan", "erf", "erfc", "erfinv", "lgamma", "digamma", "log2",
              "log10", "logit", "xlogy", "true_divide", "divide", "subtract", "mm", "mv",
              "dot", "cross", "tensor_split", "cummax", "cummin", "logcumsumexp",
              "scatter_reduce", "masked_fill_", "detach_", "slogdet", "logdet"):
    globals()[_name] = _function_form(_name)
del _name

concat = concatenate = cat
det, inverse = linalg.det, linalg.inv

# dtype and device names last: `float`, `int` and `bool` shadow the builtins in this module
from .dtypes import (accelerator, backends, bool, cuda, device, double, finfo,  # noqa: E402,A004
                     float, float16, float32, float64, get_default_dtype, half, iinfo, int,
                     int8, int16, int32, int64, long, mps, set_default_dtype, short, uint8)
from .dtypes import can_cast, promote_types, result_type  # noqa: E402


def is_floating_point(input) -> "builtins.bool":  # noqa: F821
    return input.data.dtype.kind == "f"


__version__ = version.__version__
