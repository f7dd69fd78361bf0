"""PyTorch's tensor factories with its signatures: ``zeros(2, 3, dtype=..., device=...,
requires_grad=...)``, ``tensor``, ``arange``, the ``*_like`` forms and the random ones
(``rand``, ``randn``, ``randint``, ``randperm``, ``normal``, ``bernoulli``,
``multinomial``), which draw from ``generator`` or the default generator."""

from __future__ import annotations

import numpy as np

from . import dtypes
from . import random as _random
from .tensor import DEFAULT_DTYPE, Size, Tensor, _as_array

__all__ = ["zeros", "ones", "empty", "full", "arange", "linspace", "eye", "tensor",
           "as_tensor", "from_numpy", "zeros_like", "ones_like", "empty_like", "full_like",
           "rand", "randn", "randint", "randperm", "normal", "bernoulli", "multinomial",
           "rand_like", "randn_like", "randint_like", "FloatTensor", "DoubleTensor",
           "HalfTensor", "LongTensor", "IntTensor", "ShortTensor", "CharTensor", "ByteTensor",
           "BoolTensor"]


def _size(size, op: str) -> tuple:
    """Accept f(2, 3), f((2, 3)) and f([2, 3])."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    try:
        size = tuple(int(n) for n in size)
    except TypeError:
        raise TypeError(f"{op}: the size must be integers, e.g. {op}(2, 3) or "
                        f"{op}((2, 3)), got {size!r}") from None
    if any(n < 0 for n in size):
        raise ValueError(f"{op}: negative dimension in size {size}")
    return size


def _dtype(dtype, default=DEFAULT_DTYPE):
    return np.dtype(default) if dtype is None else dtypes.as_dtype(dtype)


def _finish(array, requires_grad, device, op: str) -> Tensor:
    dtypes.check_device(device, op)
    return Tensor(array, requires_grad)


def zeros(*size, dtype=None, device=None, requires_grad=False, out=None) -> Tensor:
    return _finish(np.zeros(_size(size, "zeros"), _dtype(dtype)), requires_grad, device, "zeros")


def ones(*size, dtype=None, device=None, requires_grad=False, out=None) -> Tensor:
    return _finish(np.ones(_size(size, "ones"), _dtype(dtype)), requires_grad, device, "ones")


def empty(*size, dtype=None, device=None, requires_grad=False, out=None) -> Tensor:
    """Zeros (PyTorch leaves the memory uninitialized; zeros are one valid choice)."""
    return _finish(np.zeros(_size(size, "empty"), _dtype(dtype)), requires_grad, device, "empty")


def full(size, fill_value, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Without ``dtype`` the fill value decides it (float -> float32, int -> int64,
    bool -> bool), as in PyTorch."""
    dtype = _as_array(fill_value, None).dtype if dtype is None else dtypes.as_dtype(dtype)
    return _finish(np.full(_size((size,), "full"), fill_value, dtype), requires_grad, device,
                   "full")


def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad=False):
    """int64 for integer arguments, float32 otherwise (PyTorch's rule)."""
    if end is None:
        start, end = 0, start
    values = [getattr(v, "data", v) for v in (start, end, step)]
    array = np.arange(*values)
    if dtype is not None:
        array = array.astype(dtypes.as_dtype(dtype))
    elif array.dtype.kind == "f":
        array = array.astype(DEFAULT_DTYPE)
    else:
        array = array.astype(np.int64)
    return _finish(array, requires_grad, device, "arange")


def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _finish(np.linspace(start, end, int(steps), dtype=_dtype(dtype)), requires_grad,
                   device, "linspace")


def eye(n, m=None, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _finish(np.eye(n, m, dtype=_dtype(dtype)), requires_grad, device, "eye")


def tensor(data, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Like ``torch.tensor``: always copies ``data`` (``Tensor(ndarray)`` shares it).
    Lists of Tensors are stacked."""
    if isinstance(data, Tensor):
        data = data.data
    elif isinstance(data, (list, tuple)) and data and any(isinstance(d, Tensor) for d in data):
        data = [d.data if isinstance(d, Tensor) else d for d in data]
    array = _as_array(data, None if dtype is None else dtypes.as_dtype(dtype))
    if array is data or (isinstance(data, np.ndarray) and np.shares_memory(array, data)):
        array = array.copy()
    return _finish(array, requires_grad, device, "tensor")


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Shares ``data``'s memory when it is already an array of that dtype."""
    if isinstance(data, Tensor) and (dtype is None or data.dtype == dtypes.as_dtype(dtype)):
        return data
    return _finish(_as_array(getattr(data, "data", data) if isinstance(data, Tensor) else data,
                             None if dtype is None else dtypes.as_dtype(dtype)),
                   False, device, "as_tensor")


def from_numpy(array) -> Tensor:
    """Like ``torch.from_numpy``: a Tensor sharing ``array``'s memory and dtype."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy expects a numpy.ndarray, got {type(array).__name__}")
    return Tensor(array)


def _like(input) -> np.ndarray:
    return input.data if isinstance(input, Tensor) else np.asarray(input)


def zeros_like(input, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    like = _like(input)
    return _finish(np.zeros(like.shape, _dtype(dtype, like.dtype)), requires_grad, device,
                   "zeros_like")


def ones_like(input, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    like = _like(input)
    return _finish(np.ones(like.shape, _dtype(dtype, like.dtype)), requires_grad, device,
                   "ones_like")


empty_like = zeros_like


def full_like(input, fill_value, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    like = _like(input)
    return _finish(np.full(like.shape, fill_value, _dtype(dtype, like.dtype)), requires_grad,
                   device, "full_like")


# --------------------------------------------------------------------------- random


def _draw_float(draw, shape, dtype):
    """Draw in float32/float64 natively (other float types are drawn in float32)."""
    native = dtype if dtype in (np.float32, np.float64) else np.dtype(np.float32)
    return draw(shape, dtype=native.type).astype(dtype, copy=False)


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Uniform on [0, 1)."""
    rng = _random.numpy_rng(generator)
    return _finish(_draw_float(rng.random, _size(size, "rand"), _float(dtype, "rand")),
                   requires_grad, device, "rand")


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Standard normal."""
    rng = _random.numpy_rng(generator)
    return _finish(_draw_float(rng.standard_normal, _size(size, "randn"),
                               _float(dtype, "randn")), requires_grad, device, "randn")


def _float(dtype, op: str) -> np.dtype:
    dtype = _dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating-point dtype, got {dtype}")
    return dtype


def randint(*args, size=None, generator=None, dtype=None, device=None,
            requires_grad=False) -> Tensor:
    """``randint(high, size)`` or ``randint(low, high, size)``: integers in [low, high),
    int64 unless ``dtype`` says otherwise."""
    args = list(args)
    if size is None and args and isinstance(args[-1], (tuple, list)):
        size = args.pop()
    if size is None or len(args) not in (1, 2):
        raise TypeError("randint: expected randint(high, size) or randint(low, high, size), "
                        "with size a tuple such as (3,)")
    low, high = (0, args[0]) if len(args) == 1 else args
    array = _random.integers_array(_size((size,), "randint"), low, high, generator)
    if dtype is not None:
        array = array.astype(dtypes.as_dtype(dtype))
    return _finish(array, requires_grad, device, "randint")


def randint_like(input, low=0, high=None, *, dtype=None, generator=None, device=None,
                 requires_grad=False) -> Tensor:
    if high is None:
        low, high = 0, low
    like = _like(input)
    array = _random.integers_array(like.shape, low, high, generator)
    return _finish(array.astype(_dtype(dtype, like.dtype)), requires_grad, device,
                   "randint_like")


def rand_like(input, *, dtype=None, generator=None, device=None, requires_grad=False):
    like = _like(input)
    return rand(like.shape, generator=generator, dtype=_dtype(dtype, like.dtype),
                device=device, requires_grad=requires_grad)


def randn_like(input, *, dtype=None, generator=None, device=None, requires_grad=False):
    like = _like(input)
    return randn(like.shape, generator=generator, dtype=_dtype(dtype, like.dtype),
                 device=device, requires_grad=requires_grad)


def randperm(n, *, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A random permutation of 0..n-1 (int64)."""
    array = _random.numpy_rng(generator).permutation(int(n)).astype(_dtype(dtype, np.int64))
    return _finish(array, requires_grad, device, "randperm")


def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None, device=None,
           requires_grad=False) -> Tensor:
    """``normal(mean, std)`` with tensor means and/or stds (broadcast), or
    ``normal(mean, std, size)`` with numbers; not differentiable (as in PyTorch)."""
    mean_array, std_array = _like(mean), _like(std)
    if size is None:
        if mean_array.ndim == 0 and std_array.ndim == 0 and not isinstance(mean, Tensor) \
                and not isinstance(std, Tensor):
            raise TypeError("normal: give size= when mean and std are numbers")
        shape = np.broadcast_shapes(mean_array.shape, std_array.shape)
        default = mean_array.dtype if isinstance(mean, Tensor) else std_array.dtype
    else:
        shape, default = _size((size,), "normal"), DEFAULT_DTYPE
    dtype = _float(dtype if dtype is not None else
                   default if np.dtype(default).kind == "f" else None, "normal")
    array = _random.normal_array(shape, mean_array.astype(dtype), std_array.astype(dtype),
                                 generator, dtype)
    return _finish(array, requires_grad, device, "normal")


def bernoulli(input, p=None, *, generator=None) -> Tensor:
    """0/1 draws with the probabilities ``input`` (or the number ``p``), in input's dtype."""
    like = _like(input)
    array = _random.bernoulli_array(like.shape, like if p is None else p, generator)
    return Tensor(array.astype(like.dtype if like.dtype.kind == "f" else DEFAULT_DTYPE))


def multinomial(input, num_samples, replacement=False, *, generator=None) -> Tensor:
    """Category indices drawn row-wise in proportion to ``input``'s weights."""
    return Tensor(_random.multinomial_array(_like(input), num_samples, replacement, generator))


# --------------------------------------------------------------------------- legacy types

class _LegacyTensorType(type):
    """``isinstance(x, torch.FloatTensor)`` holds for tensors of that dtype."""

    def __instancecheck__(cls, instance) -> bool:
        return isinstance(instance, Tensor) and instance.dtype == cls.dtype


def _legacy_constructor(name: str, dtype):
    def __new__(cls, *args, device=None):
        """From data (a list, an array or a Tensor) or from sizes (``(2, 3)`` as numbers
        or a ``torch.Size``; zero-filled, where PyTorch leaves the memory
        uninitialised)."""
        dtypes.check_device(device, name)
        sizes = args[0] if len(args) == 1 and isinstance(args[0], Size) else \
            args or (0,)  # no arguments: an empty 1-D tensor, as PyTorch
        if all(isinstance(n, (int, np.integer)) and not isinstance(n, bool) for n in sizes):
            return Tensor(np.zeros(tuple(int(n) for n in sizes), dtype))
        if len(args) != 1:
            raise TypeError(f"{name}: expects data (a list, an array or a tensor) or sizes "
                            f"as integers, got {args!r}")
        return tensor(args[0], dtype=dtype)

    return _LegacyTensorType(name, (), {"__new__": __new__, "dtype": np.dtype(dtype),
                                        "__doc__": f"torch.{name}: the legacy constructor of "
                                                   f"{dtypes.dtype_name(dtype)} tensors."})


FloatTensor = _legacy_constructor("FloatTensor", np.float32)
DoubleTensor = _legacy_constructor("DoubleTensor", np.float64)
HalfTensor = _legacy_constructor("HalfTensor", np.float16)
LongTensor = _legacy_constructor("LongTensor", np.int64)
IntTensor = _legacy_constructor("IntTensor", np.int32)
ShortTensor = _legacy_constructor("ShortTensor", np.int16)
CharTensor = _legacy_constructor("CharTensor", np.int8)
ByteTensor = _legacy_constructor("ByteTensor", np.uint8)
BoolTensor = _legacy_constructor("BoolTensor", np.bool_)
