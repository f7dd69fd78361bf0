"""The Tensor: an ndarray, its gradient, and the op that produced it."""

from __future__ import annotations

import math
import sys

import numpy as np

from . import _recording, ops
from . import dtypes as _dtypes
from . import autograd as _autograd
from . import random as _random
from . import return_types as _return_types
from .autograd import is_grad_enabled

__all__ = ["Tensor", "DEFAULT_DTYPE", "Size"]

DEFAULT_DTYPE = np.dtype(np.float32)

def _as_array(data, dtype) -> np.ndarray:
    if isinstance(data, Tensor):
        data = data.data
    if dtype is not None:
        return np.asarray(data, dtype=np.dtype(dtype))
    if isinstance(data, (np.ndarray, np.generic)):
        return np.asarray(data)
    array = np.asarray(data)
    if array.dtype == np.float64:  # Python floats: the default dtype is float32
        array = array.astype(DEFAULT_DTYPE)
    elif array.dtype == object or array.dtype.kind in "USV":
        raise TypeError(f"Tensor() cannot hold data of type {type(data).__name__} "
                        f"(NumPy made it dtype {array.dtype}); give numbers, nested lists "
                        "of numbers of equal length, or a numeric ndarray")
    return array


def _check_can_require_grad(array: np.ndarray) -> None:
    if array.dtype.kind not in "fc":
        raise TypeError(f"only floating-point tensors can require gradients, but this "
                        f"tensor has dtype {array.dtype}; convert it first, e.g. "
                        "Tensor(data, dtype='float32', requires_grad=True) or t.float()")


# PyTorch's type categories: a binary op's result takes the highest category among its
# operands, and within it the widest type of the operands of that category.
_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


def _result_dtype(x: np.ndarray, y: np.ndarray) -> np.dtype:
    """PyTorch's result type of a binary op on two arrays of different dtypes, where
    NumPy's differs: an integer or bool array with a float one takes the float's dtype
    (NumPy: int64 with float32 gives float64), and a 0-d array (a 0-d tensor, which
    PyTorch ranks below dimensioned ones) decides only when its category is higher."""
    x_category, y_category = _CATEGORY[x.dtype.kind], _CATEGORY[y.dtype.kind]
    if (x.ndim == 0) != (y.ndim == 0):
        dimensioned, zero_dim = (x, y) if y.ndim == 0 else (y, x)
        if _CATEGORY[zero_dim.dtype.kind] <= _CATEGORY[dimensioned.dtype.kind]:
            return dimensioned.dtype
        return zero_dim.dtype
    if x_category == y_category:
        return np.promote_types(x.dtype, y.dtype)
    return x.dtype if x_category > y_category else y.dtype


def _scalar_operand(value, like: np.ndarray):
    """Numpy scalars take the tensor's dtype so a float64 scalar never promotes float32."""
    if isinstance(value, np.generic) and like.dtype.kind == "f" and value.dtype.kind in "biuf":
        return like.dtype.type(value)
    if isinstance(value, (list, tuple)):
        return _as_array(value, None)
    return value


class Tensor:
    """An n-dimensional array that can record the operations applied to it.

    ``Tensor(data, requires_grad=False, dtype=None)`` wraps ``data`` without copying
    when it is already an ndarray (like ``torch.from_numpy``). Python floats and lists
    of floats become float32; floating ndarrays keep their dtype; integer and bool data
    stay integer/bool and cannot require grad.

    ``==``, ``!=``, ``<``, ``<=``, ``>`` and ``>=`` compare elementwise and return bool
    tensors, as in PyTorch; ``hash`` is identity-based, so tensors work as dict keys and in
    sets (look them up by identity, never with ``in`` on a list: that compares values).
    """

    __slots__ = ("data", "grad", "_requires_grad", "_ctx", "_retains_grad", "_versions",
                 "_hooks", "__weakref__")
    __array_ufunc__ = None  # make `ndarray + Tensor` call Tensor.__radd__

    def __init__(self, data, requires_grad: bool = False, dtype=None):
        self.data = _as_array(data, dtype)
        self.grad: Tensor | None = None
        self._ctx = None
        self._retains_grad = False
        self._versions = None  # a VersionCounter once written in place or viewed
        self._hooks = None  # {handle id: function} once register_hook is called
        self._requires_grad = False
        if requires_grad:
            _check_can_require_grad(self.data)
            self._requires_grad = True

    @classmethod
    def _make(cls, data, requires_grad: bool) -> "Tensor":
        """Fast constructor for results of ops (no validation)."""
        tensor = object.__new__(Tensor)
        tensor.data = data if type(data) is np.ndarray else np.asarray(data)
        tensor.grad = None
        tensor._requires_grad = requires_grad
        tensor._ctx = None
        tensor._retains_grad = False
        tensor._versions = None
        tensor._hooks = None
        return tensor

    # ----------------------------------------------------------------- attributes

    shape = property(lambda self: self.data.shape)
    ndim = property(lambda self: self.data.ndim)
    dtype = property(lambda self: self.data.dtype)
    is_leaf = property(lambda self: self._ctx is None)

    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, requires_grad: bool) -> None:
        self.requires_grad_(requires_grad)

    @property
    def _version(self) -> int:
        """How many in-place writes this tensor's memory has had (shared with views of
        it); backward compares it with the version an op saved (PyTorch's)."""
        return _autograd.version_of(self)

    @property
    def grad_fn(self):
        """The Function class that produced this tensor, or None for leaves; its
        ``name()`` is PyTorch's spelling (``MulBackward0``)."""
        return None if self._ctx is None else self._ctx.function

    @property
    def T(self) -> "Tensor":
        return self.permute(*reversed(range(self.ndim)))

    def numel(self) -> int:
        return int(self.data.size)

    nelement = numel

    def dim(self) -> int:
        """The number of axes (PyTorch's ``Tensor.dim``; also ``ndim``)."""
        return self.data.ndim

    def size(self, dim=None):
        """The shape as a :class:`Size`, or the length of axis ``dim`` (PyTorch's
        ``Tensor.size``; for the number of elements use :meth:`numel`). ``.shape`` stays
        a plain tuple (it is read on every op; a Size compares equal to it)."""
        if dim is None:
            return Size(self.data.shape)
        if self.data.ndim == 0:
            raise IndexError(f"size: dimension {dim} was given but the tensor is 0-d "
                             "(it has no dimensions)")
        return self.data.shape[normalize_single_axis(dim, self.shape, "size")]

    def item(self):
        if _recording.recorder is not None:
            _recording.recorder.read_value(self, "item()")
        if self.data.size != 1:
            raise ValueError(f"item() needs a tensor with exactly one element, this one has "
                             f"shape {self.shape} ({self.data.size} elements)")
        return self.data.item()

    def numpy(self) -> np.ndarray:
        return self.data

    def tolist(self):
        if _recording.recorder is not None:
            _recording.recorder.read_value(self, "tolist()")
        return self.data.tolist()

    def __array__(self, dtype=None, copy=None):
        if dtype is not None and np.dtype(dtype) != self.data.dtype:
            return self.data.astype(dtype)
        return self.data.copy() if copy else self.data

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def __bool__(self) -> bool:
        if _recording.recorder is not None:
            _recording.recorder.read_value(self, "bool()")
        if self.data.size != 1:
            raise ValueError(f"the truth value of a tensor with {self.data.size} elements is "
                             "ambiguous; use .any() or .all() on .data")
        return bool(self.data)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        """An integer tensor of one element as an index (``classes[pred.argmax()]``,
        ``range(n)``), as in PyTorch."""
        if self.data.dtype.kind not in "iub" or self.data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to "
                            f"an index (this one: dtype {self.data.dtype}, {self.data.size} "
                            "elements)")
        return int(self.item())

    def __repr__(self) -> str:
        options = _print_options
        sci_mode, precision = options["sci_mode"], options["precision"]
        formatter = None
        if sci_mode is not None:  # PyTorch's sci_mode: always or never scientific
            style = "e" if sci_mode else "f"
            formatter = {"float_kind": lambda v: f"{v:.{precision}{style}}"}
        body = np.array2string(self.data, separator=", ", prefix="Tensor(",
                               precision=precision, threshold=options["threshold"],
                               edgeitems=options["edgeitems"],
                               max_line_width=options["linewidth"], formatter=formatter)
        extras = [] if self.data.dtype == DEFAULT_DTYPE else [f"dtype={self.data.dtype}"]
        if self._ctx is not None:
            extras.append(f"grad_fn=<{self._ctx.function.name()}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "Tensor(" + ", ".join([body] + extras) + ")"

    # ----------------------------------------------------------------- autograd

    def detach(self) -> "Tensor":
        """A tensor sharing this one's data (and version counter), cut from the graph."""
        detached = Tensor._make(self.data, False)
        _autograd.share_version(detached, self)
        return detached

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        if self._ctx is not None and not requires_grad:
            raise RuntimeError("requires_grad_(False) is only allowed on leaf tensors; "
                               "use .detach() to cut a tensor from the graph")
        if requires_grad:
            _check_can_require_grad(self.data)
        self._requires_grad = bool(requires_grad)
        return self

    def retain_grad(self) -> None:
        """Keep ``.grad`` on this non-leaf tensor after backward."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad() on a tensor that does not require grad")
        if self._ctx is not None:
            self._retains_grad = True

    def register_hook(self, hook):
        """Call ``hook(grad)`` each time the gradient with respect to this tensor is
        computed (before it reaches ``.grad`` of a leaf or of a retain_grad tensor); a
        return value other than None replaces the gradient. Returns a handle whose
        ``remove()`` unregisters it. A step captured by :func:`tinygrad_fm.jit` whose
        graph holds a hooked tensor is refused (its replay would skip the hook)."""
        if not self._requires_grad:
            raise RuntimeError("register_hook: cannot register a hook on a tensor that does "
                               "not require grad; set requires_grad=True on the leaf first")
        if not callable(hook):
            raise TypeError(f"register_hook: expects a function of the gradient, got "
                            f"{type(hook).__name__}")
        return _autograd.add_hook(self, hook)

    def backward(self, gradient=None, retain_graph=None, create_graph: bool = False,
                 inputs=None) -> None:
        """Accumulate the gradients of this tensor (weighted by ``gradient``, required
        unless it has one element) into ``.grad`` of the leaves that need them, or with
        ``inputs`` only into those. ``create_graph=True`` records the backward pass, so
        the ``.grad`` values can be differentiated again; ``retain_graph`` (default:
        ``create_graph``) keeps the graph for another backward. See
        ``tinygrad_fm.autograd.backward``."""
        if not self._requires_grad:
            raise RuntimeError("backward() on a tensor that does not require grad: no input "
                               "of the computation had requires_grad=True (or it ran under "
                               "no_grad())")
        if gradient is None and not create_graph and inputs is None:
            # The training-loop case, kept short: a scalar loss.
            if self.data.size != 1:
                raise RuntimeError(
                    f"backward() without a gradient is only defined for scalar outputs, "
                    f"but this tensor has shape {self.shape}; pass gradient= (an array of "
                    "that shape) or reduce it first, e.g. .sum()")
            with ops.quiet_numpy():  # inf and nan flow through backward silently, as torch
                _autograd._run((self,), (np.ones_like(self.data),), bool(retain_graph), False)
            return
        with ops.quiet_numpy():
            _autograd.backward(self, gradient, retain_graph, create_graph, inputs)

    def zero_(self) -> "Tensor":
        self.data[...] = 0
        _autograd.bump_version(self)
        return self

    def clone(self) -> "Tensor":
        """A copy with its own memory; gradients flow through it to this tensor."""
        return ops.Clone.apply(self)

    # --------------------------------------------------------- in-place arithmetic
    #
    # ``x -= lr * x.grad`` under no_grad() (or on a tensor outside any graph) writes
    # into x's array, as in PyTorch. Inside a graph, the augmented operators compute
    # out of place and rebind the name instead (other references to the old tensor do
    # not see the change); the named methods (add_, ...) refuse there, and a leaf that
    # requires grad refuses both, as PyTorch does.

    def _check_in_place(self, name: str, *operands, may_rebind: bool = False) -> bool:
        """Refuse what PyTorch refuses before ``name`` writes into this tensor: a leaf
        that requires grad while gradients are recorded, and (here) any tensor in a
        graph. Returns True instead of refusing a graph write when ``may_rebind`` (the
        augmented operators then compute out of place)."""
        if _recording.recorder is not None:
            _recording.recorder.in_place(self, name)
        if is_grad_enabled() and (self.requires_grad or any(
                isinstance(o, Tensor) and o.requires_grad for o in operands)):
            if self.requires_grad and self._ctx is None:
                raise RuntimeError(
                    f"{name}: a leaf tensor that requires grad cannot be changed in place "
                    "while gradients are recorded; do it under no_grad() (e.g. an update "
                    "step) or on a copy (x = x + y)")
            if may_rebind:
                return True
            raise RuntimeError(
                f"{name}: in-place operations on tensors in a graph are not supported "
                "(the graph may need the old values); write it out of place, e.g. "
                "x = x + y, or do it under no_grad()")
        if not self.data.flags.writeable:
            raise ValueError(f"{name}: this tensor's array is read-only (a broadcast view or "
                             "a read-only buffer); write it out of place (x = x + y) or "
                             "clone() it first")
        return False

    def _in_place(self, ufunc, other, name: str, rebind=None):
        if self._check_in_place(name, other, may_rebind=rebind is not None):
            return rebind(self, other)
        value = _data(other)
        try:
            ufunc(self.data, _scalar_operand(value, self.data), out=self.data)
        except ValueError:
            raise ValueError(f"{name}: an operand of shape {np.shape(value)} cannot be "
                             f"applied in place to a tensor of shape {self.shape} (the "
                             "result must keep the tensor's shape)") from None
        _autograd.bump_version(self)
        return self

    def __iadd__(self, other):
        return self._in_place(np.add, other, "+=", Tensor.__add__)

    def __isub__(self, other):
        return self._in_place(np.subtract, other, "-=", Tensor.__sub__)

    def __imul__(self, other):
        return self._in_place(np.multiply, other, "*=", Tensor.__mul__)

    def __itruediv__(self, other):
        return self._in_place(np.divide, other, "/=", Tensor.__truediv__)

    def add_(self, other, *, alpha=1):
        """In-place ``self += alpha * other`` (no_grad() or outside a graph only)."""
        if alpha != 1:
            other = _data(other) * alpha
        return self._in_place(np.add, other, "add_")

    def sub_(self, other, *, alpha=1):
        if alpha != 1:
            other = _data(other) * alpha
        return self._in_place(np.subtract, other, "sub_")

    def mul_(self, other):
        return self._in_place(np.multiply, other, "mul_")

    def div_(self, other):
        return self._in_place(np.divide, other, "div_")

    def _assign(self, name: str, compute, *operands) -> "Tensor":
        """The in-place form of an out-of-place op: after :meth:`_check_in_place`, the
        values of ``compute()`` (run without recording) are written into this tensor's
        array, keeping its dtype as PyTorch does (a float result into an integer tensor
        is refused)."""
        self._check_in_place(name, *operands)
        with _autograd.no_grad():
            values = _data(compute())
        try:
            np.copyto(self.data, values, casting="same_kind")
        except (TypeError, ValueError):
            raise ValueError(f"{name}: its result (shape {np.shape(values)}, dtype "
                             f"{np.asarray(values).dtype}) cannot be written into this tensor "
                             f"of shape {self.shape} and dtype {self.data.dtype}; use the out "
                             "of place form") from None
        _autograd.bump_version(self)
        return self

    def abs_(self) -> "Tensor":
        return self._assign("abs_", self.abs)

    def clip_(self, min=None, max=None) -> "Tensor":
        return self._assign("clip_", lambda: self.clip(min, max), min, max)

    clamp_ = clip_

    def addcmul_(self, tensor1, tensor2, *, value=1) -> "Tensor":
        return self._assign("addcmul_", lambda: self.addcmul(tensor1, tensor2, value=value),
                            tensor1, tensor2)

    def addcdiv_(self, tensor1, tensor2, *, value=1) -> "Tensor":
        return self._assign("addcdiv_", lambda: self.addcdiv(tensor1, tensor2, value=value),
                            tensor1, tensor2)

    def lerp_(self, end, weight) -> "Tensor":
        return self._assign("lerp_", lambda: self.lerp(end, weight), end, weight)

    def scatter_(self, dim, index, src=None, *, value=None, reduce=None) -> "Tensor":
        """In-place :meth:`scatter` (``reduce`` is not supported: use scatter_add_ for
        sums)."""
        if reduce is not None:
            raise NotImplementedError(f"scatter_: reduce={reduce!r} is not supported; use "
                                      "scatter_add_ for 'add', or scatter_reduce out of "
                                      "PyTorch")
        return self._assign("scatter_", lambda: self.scatter(dim, index, src, value=value),
                            src)

    def scatter_add_(self, dim, index, src) -> "Tensor":
        return self._assign("scatter_add_", lambda: self.scatter_add(dim, index, src), src)

    def index_add_(self, dim, index, source, *, alpha=1) -> "Tensor":
        return self._assign("index_add_", lambda: self.index_add(dim, index, source,
                                                                 alpha=alpha), source)

    def index_put_(self, indices, values, accumulate=False) -> "Tensor":
        """``self[indices] = values`` (``indices`` a tuple of index tensors), or with
        ``accumulate`` ``self[indices] += values`` with repeated indices adding up."""
        if not isinstance(indices, (tuple, list)):
            raise TypeError(f"index_put_: indices must be a tuple of index tensors, got "
                            f"{type(indices).__name__}; wrap one tensor as (index,)")
        self._check_in_place("index_put_", values)
        index = _index_arg(tuple(indices))
        try:
            if accumulate:
                np.add.at(self.data, index, _data(values))
            else:
                self.data[index] = _data(values)
        except (IndexError, ValueError) as error:
            raise IndexError(f"index_put_: cannot put values of shape "
                             f"{np.shape(_data(values))} at those indices of a tensor of "
                             f"shape {self.shape}: {error}") from None
        _autograd.bump_version(self)
        return self

    def put_(self, index, source, accumulate=False) -> "Tensor":
        """Write ``source`` at the flat (row-major) positions ``index`` (negative ones
        count from the end), as ``torch.Tensor.put_``; ``accumulate`` adds instead."""
        flat = self._flat_positions(index, "put_")
        return self.index_put_(np.unravel_index(flat, self.shape), _data(source).reshape(-1)
                               if isinstance(source, Tensor) else np.reshape(source, -1),
                               accumulate)

    def _flat_positions(self, index, op: str) -> np.ndarray:
        """Checked flat positions for take/put_: integers in [-numel, numel)."""
        index = np.asarray(_data(index))
        if index.dtype.kind not in "iu":
            raise TypeError(f"{op}: index must be an integer tensor, got dtype {index.dtype}")
        size = self.data.size
        if index.size and (index.min() < -size or index.max() >= size):
            raise IndexError(f"{op}: index {int(index.max() if index.max() >= size else index.min())} "
                             f"is out of range for a tensor of {size} elements (shape "
                             f"{self.shape})")
        return index.reshape(-1) % max(size, 1)

    def fill_(self, value) -> "Tensor":
        return self._in_place(lambda a, b, out: np.copyto(out, b), value, "fill_")

    def copy_(self, src) -> "Tensor":
        """Copy ``src``'s values (broadcast to this shape) into this tensor's array."""
        return self._in_place(lambda a, b, out: np.copyto(out, b, casting="unsafe"),
                              src, "copy_")

    # ----------------------------------------------------------------- factories

    @staticmethod
    def zeros(*shape, dtype=DEFAULT_DTYPE, requires_grad=False) -> "Tensor":
        return Tensor(np.zeros(_shape_arg(shape), dtype=dtype), requires_grad)

    @staticmethod
    def ones(*shape, dtype=DEFAULT_DTYPE, requires_grad=False) -> "Tensor":
        return Tensor(np.ones(_shape_arg(shape), dtype=dtype), requires_grad)

    @staticmethod
    def full(shape, fill_value, dtype=None, requires_grad=False) -> "Tensor":
        """Like ``torch.full``: without ``dtype`` the fill value decides it, as in
        ``Tensor(fill_value)`` (a Python float gives float32, an int int64, a bool bool)."""
        if dtype is None:
            dtype = _as_array(fill_value, None).dtype
        return Tensor(np.full(_shape_arg((shape,)), fill_value, dtype=dtype), requires_grad)

    @staticmethod
    def arange(start, stop=None, step=1, dtype=None, requires_grad=False) -> "Tensor":
        """``arange(end)``, ``arange(start, end)`` or ``arange(start, end, step)``; a lone
        bound is the end, so ``arange(5, step=2)`` is ``[0, 2, 4]``."""
        if stop is None:
            start, stop = 0, start
        array = np.arange(start, stop, step)
        if dtype is None and array.dtype == np.float64:
            dtype = DEFAULT_DTYPE
        return Tensor(array if dtype is None else array.astype(dtype), requires_grad)

    @staticmethod
    def linspace(start, end, steps, dtype=DEFAULT_DTYPE, requires_grad=False) -> "Tensor":
        """``steps`` evenly spaced values from ``start`` to ``end``, both included."""
        return Tensor(np.linspace(start, end, int(steps), dtype=dtype), requires_grad)

    @staticmethod
    def eye(n, m=None, dtype=DEFAULT_DTYPE, requires_grad=False) -> "Tensor":
        return Tensor(np.eye(n, m, dtype=dtype), requires_grad)

    @staticmethod
    def randn(*shape, dtype=DEFAULT_DTYPE, requires_grad=False) -> "Tensor":
        array = _random.numpy_rng().standard_normal(_shape_arg(shape),
                                                   dtype=np.dtype(dtype).type)
        return Tensor(array, requires_grad)

    @staticmethod
    def rand(*shape, dtype=DEFAULT_DTYPE, requires_grad=False) -> "Tensor":
        return Tensor(_random.numpy_rng().random(_shape_arg(shape), dtype=np.dtype(dtype).type),
                      requires_grad)

    @staticmethod
    def uniform(*shape, low=0.0, high=1.0, dtype=DEFAULT_DTYPE, requires_grad=False):
        array = _random.numpy_rng().uniform(low, high, _shape_arg(shape)).astype(dtype)
        return Tensor(array, requires_grad)

    @staticmethod
    def zeros_like(other, dtype=None, requires_grad=False) -> "Tensor":
        return Tensor(np.zeros_like(_data(other), dtype=dtype), requires_grad)

    @staticmethod
    def ones_like(other, dtype=None, requires_grad=False) -> "Tensor":
        return Tensor(np.ones_like(_data(other), dtype=dtype), requires_grad)

    # ----------------------------------------------------------------- arithmetic

    def _operand(self, other):
        return other if isinstance(other, Tensor) else _scalar_operand(other, self.data)

    def _operands(self, other) -> tuple:
        """``(self, other)`` for a binary op, converted to PyTorch's result type where
        NumPy's would differ (see :func:`_result_dtype`): a Python or NumPy float with an
        integer or bool tensor gives the default float dtype (NumPy: float64). The common
        cases (same dtypes, a float tensor with a number) return at the first check."""
        if isinstance(other, Tensor):
            if other.data.dtype == self.data.dtype:
                return self, other
            dtype = _result_dtype(self.data, other.data)
            return self.astype(dtype), other.astype(dtype)
        other = _scalar_operand(other, self.data)
        if self.data.dtype.kind in "fc":
            return self, other
        if isinstance(other, np.ndarray):  # a list or tuple: a dimensioned operand
            dtype = _result_dtype(self.data, other)
            return self.astype(dtype), other.astype(dtype, copy=False)
        if isinstance(other, (float, np.floating)):  # a NumPy float would not be weak
            return self.astype(DEFAULT_DTYPE), DEFAULT_DTYPE.type(other)
        return self, other

    def _floating(self) -> "Tensor":
        """Self as the input of a function with float values (exp, sqrt, true division):
        an integer or bool tensor becomes the default float dtype, as in PyTorch."""
        return self if self.data.dtype.kind in "fc" else self.astype(DEFAULT_DTYPE)

    def __add__(self, other):
        return ops.Add.apply(*self._operands(other))

    def __radd__(self, other):
        a, b = self._operands(other)
        return ops.Add.apply(b, a)

    def __sub__(self, other):
        return ops.Sub.apply(*self._operands(other))

    def __rsub__(self, other):
        a, b = self._operands(other)
        return ops.Sub.apply(b, a)

    def __mul__(self, other):
        return ops.Mul.apply(*self._operands(other))

    def __rmul__(self, other):
        a, b = self._operands(other)
        return ops.Mul.apply(b, a)

    def __truediv__(self, other):
        a, b = self._true_division_operands(other)
        return ops.Div.apply(a, b)

    def __rtruediv__(self, other):
        a, b = self._true_division_operands(other)
        return ops.Div.apply(b, a)

    def _true_division_operands(self, other) -> tuple:
        """:meth:`_operands`, and integers divide as the default float dtype (PyTorch's
        true division; NumPy's gives float64)."""
        a, b = self._operands(other)
        if a.data.dtype.kind in "fc":
            return a, b
        if isinstance(b, Tensor):
            return a._floating(), b._floating()
        return a._floating(), b

    def __pow__(self, exponent):
        base, exponent = self._operands(exponent)
        if isinstance(exponent, (Tensor, np.ndarray)):
            return ops.Pow.apply(base, exponent)
        return ops.PowScalar.apply(base, exponent)

    def __rpow__(self, base):
        exponent, base = self._operands(base)
        return ops.Pow.apply(base, exponent)

    def __matmul__(self, other):
        return ops.MatMul.apply(self, self._operand(other))

    def __rmatmul__(self, other):
        return ops.MatMul.apply(self._operand(other), self)

    def __floordiv__(self, other):
        """Floor division (not differentiable: its gradient is zero almost everywhere)."""
        with ops.quiet_numpy():  # x // 0: inf or nan without a warning, as torch
            return ops.ArrayCall.apply(np.floor_divide, self.data,
                                       _data(self._operand(other)))

    def __rfloordiv__(self, other):
        with ops.quiet_numpy():
            return ops.ArrayCall.apply(np.floor_divide, _data(self._operand(other)),
                                       self.data)

    def __mod__(self, other):
        """Python's (and PyTorch's ``%``) remainder, with the sign of the divisor;
        differentiable as in PyTorch (slope 1 in ``self``, -floor(self / other) in
        ``other``)."""
        return ops.Remainder.apply(self, self._operand(other))

    def __rmod__(self, other):
        return ops.Remainder.apply(self._operand(other), self)

    def __neg__(self):
        return ops.Neg.apply(self)

    def __abs__(self):
        return ops.Abs.apply(self)

    mul, pow, matmul = __mul__, __pow__, __matmul__  # add, sub, div: see below (alpha=, rounding_mode=)
    neg, abs = __neg__, __abs__

    def maximum(self, other):
        return ops.Maximum.apply(*self._operands(other))

    def minimum(self, other):
        return ops.Minimum.apply(*self._operands(other))

    def clip(self, min=None, max=None):
        if min is None and max is None:
            raise ValueError("clip: give at least one of min and max")
        return ops.Clip.apply(self, _scalar_operand(min, self.data),
                              _scalar_operand(max, self.data))

    clamp = clip

    def where(self, condition, other):
        """Elements of self where ``condition``, else of ``other`` (PyTorch's Tensor.where)."""
        return where(condition, self, other)

    def astype(self, dtype) -> "Tensor":
        dtype = np.dtype(dtype)
        if dtype == self.data.dtype:
            return self
        if self.requires_grad and dtype.kind not in "fc":
            with ops.quiet_numpy():  # nan or inf to an integer: unspecified, as in torch
                return ops.ArrayCall.apply(np.ndarray.astype, self.data, dtype)
        return ops.Cast.apply(self, dtype)

    def float(self):
        return self.astype(np.float32)

    def double(self):
        return self.astype(np.float64)

    def long(self):
        return self.astype(np.int64)

    # ----------------------------------------------------------------- unary

    def exp(self):
        return ops.Exp.apply(self._floating())

    def log(self):
        return ops.Log.apply(self._floating())

    def sqrt(self):
        return ops.Sqrt.apply(self._floating())

    def tanh(self):
        return ops.Tanh.apply(self._floating())

    def sigmoid(self):
        return ops.Sigmoid.apply(self._floating())

    def relu(self):
        return ops.Relu.apply(self)

    def leaky_relu(self, negative_slope=0.01):
        return ops.LeakyRelu.apply(self, _scalar_operand(negative_slope, self.data))

    def softplus(self, beta=1.0, threshold=20.0):
        return ops.Softplus.apply(self, _scalar_operand(beta, self.data), threshold)

    # ----------------------------------------------------------------- reductions

    # Axis arguments take NumPy's names (axis, keepdims) and, keyword-only, PyTorch's
    # (dim, keepdim), as torch itself accepts both.

    def sum(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        axis, keepdims = _axis_args(axis, dim, keepdims, keepdim, "sum")
        return ops.Sum.apply(self, axis, keepdims)

    def mean(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        axis, keepdims = _axis_args(axis, dim, keepdims, keepdim, "mean")
        return ops.Mean.apply(self, axis, keepdims)

    def max(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        """As ``torch.max``: no ``dim``: the largest value (tied maxima share the
        gradient); an int ``dim``: the named tuple ``(values, indices)`` along it (the
        gradient goes to the first maximum, as in PyTorch); a Tensor: the elementwise
        maximum. For the values over several axes use :meth:`amax`."""
        if isinstance(dim, Tensor):
            return self.maximum(dim)
        dim, keepdim = _axis_args(axis, dim, keepdim, keepdims, "max")
        if dim is None:
            return ops.Max.apply(self, None, False)
        return self._extremum_and_index(dim, keepdim, "max")

    def min(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        """As ``torch.min``; see :meth:`max`."""
        if isinstance(dim, Tensor):
            return self.minimum(dim)
        dim, keepdim = _axis_args(axis, dim, keepdim, keepdims, "min")
        if dim is None:
            return ops.Min.apply(self, None, False)
        return self._extremum_and_index(dim, keepdim, "min")

    def var(self, axis=None, correction=1, keepdims=False, *, dim=None, keepdim=None,
            unbiased=None):
        """Variance over ``axis`` with Bessel's ``correction`` (1 by default). PyTorch's
        ``unbiased`` is accepted too (True: correction 1, False: 0), as is a bool in
        ``correction``'s place, as in ``x.var(1, False)``."""
        axis, keepdims = _axis_args(axis, dim, keepdims, keepdim, "var")
        correction = _correction_arg(correction, unbiased, "var")
        return ops.Var.apply(self, axis, correction, keepdims)

    def std(self, axis=None, correction=1, keepdims=False, *, dim=None, keepdim=None,
            unbiased=None):
        """Standard deviation; arguments as :meth:`var`."""
        axis, keepdims = _axis_args(axis, dim, keepdims, keepdim, "std")
        correction = _correction_arg(correction, unbiased, "std")
        return self.var(axis, correction, keepdims).sqrt()

    def logsumexp(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        axis, keepdims = _axis_args(axis, dim, keepdims, keepdim, "logsumexp")
        return ops.LogSumExp.apply(self, axis, keepdims)

    def softmax(self, axis=None, *, dim=None):
        """Softmax along ``axis`` (or ``dim``), the last axis by default."""
        axis, _ = _axis_args(axis, dim, False, None, "softmax")
        return ops.Softmax.apply(self, -1 if axis is None else axis)

    def log_softmax(self, axis=None, *, dim=None):
        """Log-softmax along ``axis`` (or ``dim``), the last axis by default."""
        axis, _ = _axis_args(axis, dim, False, None, "log_softmax")
        return ops.LogSoftmax.apply(self, -1 if axis is None else axis)

    # ----------------------------------------------------------------- movement

    def reshape(self, *shape, **keyword):
        """``reshape(2, 3)``, ``reshape((2, 3))`` or ``reshape(shape=(2, 3))``; one size
        may be -1."""
        if keyword:
            if shape or set(keyword) != {"shape"}:
                raise TypeError(f"reshape: give the shape positionally or as shape=, got "
                                f"{shape} and {keyword}")
            shape = (keyword["shape"],)
        return ops.Reshape.apply(self, _shape_arg(shape))

    def view(self, *shape, **keyword):
        """As :meth:`reshape` (a view when NumPy can make one); ``view(dtype)`` is not
        supported."""
        if len(shape) == 1 and not isinstance(shape[0], (tuple, list, int, np.integer)):
            raise TypeError(f"view: expected a shape, got {shape[0]!r} (reinterpreting the "
                            "bytes as another dtype is not supported)")
        return self.reshape(*shape, **keyword)

    def flatten(self, start_dim=0, end_dim=-1):
        """Merge axes ``start_dim..end_dim`` (inclusive) into one, as ``torch.flatten``."""
        start, end = (normalize_single_axis(a, self.shape, "flatten")
                      for a in (start_dim, end_dim))
        if self.ndim == 0:
            return self.reshape(1)
        if start > end:
            raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} "
                             f"for a tensor of shape {self.shape}")
        new_shape = self.shape[:start] + (-1,) + self.shape[end + 1:]
        return self.reshape(new_shape)

    def permute(self, *axes):
        return ops.Transpose.apply(self, tuple(_shape_arg(axes)))

    def transpose(self, *axes):
        """Two axes: swap them, as ``torch.transpose(dim0, dim1)`` does (so on a matrix
        ``x.transpose(0, 1)`` is ``x.T``). No axes: reverse them, and a full permutation of
        another length: apply it, as NumPy's ``transpose`` does (see :meth:`permute`)."""
        if not axes:
            return self.T
        axes = _shape_arg(axes)
        if len(axes) == 2:
            order = list(range(self.ndim))
            i, j = (normalize_single_axis(a, self.shape, "transpose") for a in axes)
            order[i], order[j] = order[j], order[i]
            axes = tuple(order)
        return self.permute(*axes)

    def squeeze(self, axis=None, *, dim=None):
        axis, _ = _axis_args(axis, dim, False, None, "squeeze")
        if axis is None:
            new_shape = tuple(n for n in self.shape if n != 1)
        else:
            axes = ops.normalize_axis(axis, self.shape, "squeeze")
            new_shape = tuple(n for i, n in enumerate(self.shape) if not (i in axes and n == 1))
        return self.reshape(new_shape)

    def unsqueeze(self, axis=None, *, dim=None):
        axis, _ = _axis_args(axis, dim, False, None, "unsqueeze")
        if axis is None:
            raise TypeError("unsqueeze: give the position of the new axis (axis or dim)")
        axis = normalize_single_axis(axis, self.shape + (1,), "unsqueeze")
        return self.reshape(self.shape[:axis] + (1,) + self.shape[axis:])

    def expand(self, *shape):
        shape = _shape_arg(shape)
        offset = len(shape) - self.ndim
        shape = tuple(self.shape[i - offset] if n == -1 and i >= offset else n
                      for i, n in enumerate(shape))
        return ops.Expand.apply(self, shape)

    def expand_as(self, other):
        return self.expand(*_data(other).shape)

    def view_as(self, other):
        return self.reshape(_data(other).shape)

    reshape_as = view_as

    def t(self):
        """The transpose of a matrix (a 0-d or 1-d tensor is returned as it is), as
        ``torch.Tensor.t``."""
        if self.ndim > 2:
            raise ValueError(f"t() expects a tensor with at most 2 dimensions, got shape "
                             f"{self.shape}; use transpose(dim0, dim1) or permute")
        return self.T if self.ndim == 2 else self

    def broadcast_to(self, shape):
        return ops.Expand.apply(self, tuple(shape))

    def __getitem__(self, index):
        return ops.GetItem.apply(self, _index_arg(index))

    def __setitem__(self, index, value):
        if self.requires_grad and is_grad_enabled():
            raise RuntimeError("in-place assignment into a tensor that requires grad would "
                               "corrupt its gradient; do it under no_grad() or on .data")
        self.data[_index_arg(index)] = _data(value)
        _autograd.bump_version(self)

    # ----------------------------------------------------------------- not differentiable

    def _compare(self, ufunc, other):
        try:
            return ops.ArrayCall.apply(ufunc, self.data, _data(other))
        except ValueError:
            raise ops._broadcast_error(ufunc.__name__, self.data, _data(other)) from None

    def eq(self, other):
        return self._compare(np.equal, other)

    def ne(self, other):
        return self._compare(np.not_equal, other)

    def lt(self, other):
        return self._compare(np.less, other)

    def le(self, other):
        return self._compare(np.less_equal, other)

    def gt(self, other):
        return self._compare(np.greater, other)

    def ge(self, other):
        return self._compare(np.greater_equal, other)

    __lt__, __le__, __gt__, __ge__ = lt, le, gt, ge

    def __eq__(self, other):
        """Elementwise ``==`` (a bool tensor), as in PyTorch; ``x == None`` is False."""
        if other is None or isinstance(other, str):
            return False
        return self._compare(np.equal, other)

    def __ne__(self, other):
        if other is None or isinstance(other, str):
            return True
        return self._compare(np.not_equal, other)

    # Defining __eq__ would remove hashing: tensors stay hashable by identity (dict keys,
    # sets), as PyTorch's are.
    __hash__ = object.__hash__

    def argmax(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        axis, keepdims = _axis_args(axis, dim, keepdims, keepdim, "argmax")
        axis = None if axis is None else normalize_single_axis(axis, self.shape, "argmax")
        return ops.ArrayCall.apply(np.argmax, self.data, axis=axis, keepdims=keepdims)

    def argmin(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        axis, keepdims = _axis_args(axis, dim, keepdims, keepdim, "argmin")
        axis = None if axis is None else normalize_single_axis(axis, self.shape, "argmin")
        return ops.ArrayCall.apply(np.argmin, self.data, axis=axis, keepdims=keepdims)


    # --------------------------------------- clamping, gather/scatter, reordering, sorting

    def clamp_min(self, min):
        return self.clip(min=min)

    def clamp_max(self, max):
        return self.clip(max=max)

    def masked_fill(self, mask, value):
        """``value`` where ``mask`` (a bool tensor broadcastable with this one) is true;
        differentiable in this tensor (and in ``value`` when it is a 0-d tensor)."""
        mask = np.asarray(_data(mask))
        if not isinstance(value, Tensor):
            value = _scalar_operand(value, self.data)
        return ops.MaskedFill.apply(self, mask, value)

    def gather(self, dim, index):
        """``out[i][j][k] = self[index[i][j][k]][j][k]`` for ``dim=0`` (``torch.gather``):
        ``index`` is an integer tensor with this tensor's number of dimensions, no larger
        than it outside ``dim``; the result has the index's shape."""
        return ops.Gather.apply(self, dim, np.asarray(_data(index)))

    def scatter(self, dim, index, src=None, *, value=None):
        """Out of place ``torch.scatter``: a copy with ``src`` (a tensor, or a number via
        ``src`` or ``value``) written at ``index`` along ``dim``."""
        if (src is None) == (value is None):
            raise TypeError("scatter: give exactly one of src and value")
        if src is None:
            src = value
        if isinstance(src, (list, tuple)):
            src = np.asarray(src)
        elif not isinstance(src, (Tensor, np.ndarray)):
            src = _scalar_operand(src, self.data)
        return ops.Scatter.apply(self, dim, np.asarray(_data(index)), src)

    def scatter_add(self, dim, index, src):
        """Out of place ``torch.scatter_add``: a copy with ``src`` added at ``index`` along
        ``dim`` (repeated indices accumulate)."""
        if not isinstance(src, Tensor):
            src = np.asarray(src)
        return ops.ScatterAdd.apply(self, dim, np.asarray(_data(index)), src)

    def norm(self, p="fro", dim=None, keepdim=False, *, axis=None, keepdims=None):
        """The vector p-norm over ``dim`` (all elements by default), as ``torch.norm``:
        p = 'fro' or 2, 1, float('inf'), -inf, 0 or any other number. The gradient where
        the norm is 0 is 0, as in PyTorch."""
        dim, keepdim = _axis_args(axis, dim, keepdims, keepdim, "norm")
        if isinstance(p, str):
            if p != "fro":
                raise ValueError(f"norm: p must be a number or 'fro', got {p!r}")
            p = 2
        return ops.Norm.apply(self, p, dim, keepdim)

    def cumsum(self, dim=None, *, axis=None):
        """Running sums along ``dim`` (``torch.cumsum``; the axis is required)."""
        dim, _ = _axis_args(axis, dim, False, None, "cumsum")
        if dim is None:
            raise TypeError("cumsum: give the axis to sum along (dim)")
        return ops.Cumsum.apply(self, dim)

    def flip(self, *dims):
        """Reverse the order of elements along ``dims`` (``flip(0, 1)`` or
        ``flip((0, 1))``); a copy, as ``torch.flip``."""
        return ops.Flip.apply(self, _shape_arg(dims))

    def roll(self, shifts, dims=None):
        """Shift elements cyclically along ``dims``; with no dims the tensor is rolled
        as if flattened (``torch.roll``)."""
        shifts = tuple(int(s) for s in (shifts if isinstance(shifts, (tuple, list))
                                        else (shifts,)))
        if dims is not None:
            dims = tuple(dims) if isinstance(dims, (tuple, list)) else (dims,)
        return ops.Roll.apply(self, shifts, dims)

    def repeat(self, *sizes):
        """``torch.Tensor.repeat``: tile ``sizes[i]`` copies along axis i; ``sizes`` has at
        least one entry per axis (extra leading entries add axes)."""
        return ops.Repeat.apply(self, _shape_arg(sizes))

    def tile(self, *dims):
        """``torch.tile``: as :meth:`repeat`, but missing leading counts are taken as 1."""
        dims = _shape_arg(dims)
        return self.repeat((1,) * (self.ndim - len(dims)) + dims)

    def split(self, split_size_or_sections, dim=0):
        """Views of consecutive pieces along ``dim`` (a tuple; gradients flow back):
        pieces of ``split_size`` (the last may be smaller), or of the listed sizes."""
        axis = self._split_axis(dim, "split")
        n = self.shape[axis]
        if isinstance(split_size_or_sections, (list, tuple)):
            sizes = [int(s) for s in split_size_or_sections]
            if any(s < 0 for s in sizes) or sum(sizes) != n:
                raise ValueError(f"split: section sizes {sizes} must be >= 0 and sum to "
                                 f"{n}, the size of dimension {dim} of shape {self.shape}")
        else:
            size = int(split_size_or_sections)
            if size < 0 or (size == 0 and n):
                raise ValueError(f"split: split_size must be positive (0 only for an empty "
                                 f"dimension), got {size} for dimension {dim} of shape "
                                 f"{self.shape}")
            sizes = [min(size, n - start) for start in range(0, n, size)] if n else [0]
        pieces, start = [], 0
        lead = (slice(None),) * axis
        for size in sizes:
            pieces.append(self[lead + (slice(start, start + size),)])
            start += size
        return tuple(pieces)

    def chunk(self, chunks, dim=0):
        """``torch.chunk``: at most ``chunks`` views of size ceil(n / chunks) along
        ``dim`` (fewer when they run out; ``chunks`` empty ones of an empty dimension)."""
        chunks = int(chunks)
        if chunks <= 0:
            raise ValueError(f"chunk: chunks must be positive, got {chunks} (shape "
                             f"{self.shape})")
        axis = self._split_axis(dim, "chunk")
        n = self.shape[axis]
        if n == 0:
            return tuple(self.split(0, axis)[0] for _ in range(chunks))
        return self.split(math.ceil(n / chunks), axis)

    def _split_axis(self, dim, op: str) -> int:
        if self.ndim == 0:
            raise ValueError(f"{op}: expects a tensor with at least 1 dimension, got a 0-d "
                             "tensor")
        return normalize_single_axis(dim, self.shape, op)

    def topk(self, k, dim=-1, largest=True, sorted=True):
        """The ``k`` largest (or smallest) elements along ``dim`` as ``(values, indices)``
        (``torch.topk``); values are differentiable, indices int64. Always sorted; ties
        keep their order. NaN counts as the largest value, as in PyTorch."""
        axis = normalize_single_axis(dim, self.shape, "topk")
        n = self.shape[axis] if self.ndim else 1
        k = int(k)
        if not 0 <= k <= n:
            raise ValueError(f"topk: k={k} is out of range for dimension {dim} of size {n} "
                             f"(shape {self.shape}); it must lie in [0, {n}]")
        if self.ndim == 0:  # as torch: k = 0 or 1 gives the element itself
            indices = np.zeros((), dtype=np.int64)
        else:
            order = ops.sort_indices(self.data, axis, descending=largest)
            indices = order[(slice(None),) * axis + (slice(0, k),)].astype(np.int64)
        return _return_types.topk(self.gather(axis, indices), Tensor._make(indices, False))

    def sort(self, dim=-1, descending=False, stable=False):
        """Sorted values along ``dim`` and the int64 indices that sort it (``torch.sort``);
        values are differentiable. Always stable (equal values keep their order); NaN
        counts as the largest value, as in PyTorch."""
        axis = normalize_single_axis(dim, self.shape, "sort")
        if self.ndim == 0:
            indices = np.zeros((), dtype=np.int64)
        else:
            indices = ops.sort_indices(self.data, axis, bool(descending)).astype(np.int64)
        return _return_types.sort(self.gather(axis, indices), Tensor._make(indices, False))

    def outer(self, vec2):
        """The outer product of two 1-D tensors: ``out[i, j] = self[i] * vec2[j]``."""
        vec2 = self._operand(vec2)
        if self.ndim != 1 or np.ndim(_data(vec2)) != 1:
            raise ValueError(f"outer: expects two 1-D tensors, got shapes {self.shape} and "
                             f"{np.shape(_data(vec2))}")
        return self.reshape(-1, 1) * vec2.reshape(1, -1)

    ger = outer

    def diag(self, diagonal=0):
        """``torch.diag``: a 1-D tensor becomes a 2-D one with it on the ``diagonal``-th
        diagonal; a 2-D tensor gives that diagonal as a 1-D tensor."""
        return ops.Diag.apply(self, int(diagonal))

    def tril(self, diagonal=0):
        """The lower triangle (on and below ``diagonal``) of the last two axes."""
        return ops.Triangle.apply(self, int(diagonal), False)

    def triu(self, diagonal=0):
        """The upper triangle (on and above ``diagonal``) of the last two axes."""
        return ops.Triangle.apply(self, int(diagonal), True)

    # ----------------------------------------------------------------- everyday extras
    # Selections, products and differences, in-place forms, quantiles and counts that
    # everyday PyTorch code calls as methods.

    def ndimension(self) -> int:
        return self.data.ndim

    def unbind(self, dim=0):
        """The slices along ``dim`` as a tuple (each a view without that dimension)."""
        axis = self._split_axis(dim, "unbind")
        lead = (slice(None),) * axis
        return tuple(self[lead + (i,)] for i in range(self.shape[axis]))

    def unfold(self, dimension, size, step):
        """Every window of ``size`` elements along ``dimension``, ``step`` apart, as a new
        last dimension (``torch.Tensor.unfold``; overlapping windows share gradients)."""
        source = self.reshape(1) if self.ndim == 0 else self
        axis = normalize_single_axis(dimension, source.shape, "unfold")
        size, step, n = int(size), int(step), source.shape[axis]
        if not 0 <= size <= n or step <= 0:
            raise ValueError(f"unfold: size must lie in [0, {n}] (the size of dimension "
                             f"{dimension} of shape {self.shape}) and step must be positive, "
                             f"got size={size}, step={step}")
        windows = np.arange(0, n - size + 1, step)[:, None] + np.arange(size)
        picked = source[(slice(None),) * axis + (windows,)].movedim(axis + 1, -1)
        return picked.reshape(size) if self.ndim == 0 else picked

    def index_select(self, dim, index):
        """The entries ``index`` (a 1-D integer tensor) along ``dim``."""
        index = np.asarray(_data(index))
        if index.dtype.kind not in "iu" or index.ndim > 1:
            raise TypeError(f"index_select: index must be a 1-D integer tensor, got dtype "
                            f"{index.dtype} and shape {index.shape}")
        source = self.reshape(1) if self.ndim == 0 else self
        axis = normalize_single_axis(dim, source.shape, "index_select")
        n = source.shape[axis]
        if index.size and (index.min() < 0 or index.max() >= n):
            raise IndexError(f"index_select: index {int(index.max() if index.max() >= n else index.min())} "
                             f"is out of range for dimension {dim} of size {n} (shape "
                             f"{self.shape}); indices must lie in [0, {n})")
        picked = source[(slice(None),) * axis + (index.reshape(-1),)]
        return picked.reshape(()) if self.ndim == 0 else picked

    def masked_select(self, mask):
        """The elements where ``mask`` (a bool tensor broadcastable with this one) is
        true, as a 1-D tensor in row-major order."""
        mask = np.asarray(_data(mask))
        if mask.dtype != np.bool_:
            raise TypeError(f"masked_select: mask must be a bool tensor, got dtype "
                            f"{mask.dtype}; compare first, e.g. x > 0")
        try:
            shape = np.broadcast_shapes(self.shape, mask.shape)
        except ValueError:
            raise ops._broadcast_error("masked_select", self.data, mask) from None
        source = self if self.shape == shape else self.expand(shape)
        return source[np.broadcast_to(mask, shape)]

    def take(self, index):
        """The elements at flat (row-major) positions ``index``, in the index's shape."""
        index_shape = np.shape(_data(index))
        return self.reshape(-1)[self._flat_positions(index, "take").reshape(index_shape)]

    def diagonal(self, offset=0, dim1=0, dim2=1):
        """The ``offset``-th diagonal of the matrices spanned by ``dim1`` and ``dim2``, as
        a last dimension (``torch.diagonal``); a copy, where PyTorch gives a view."""
        first, second = (normalize_single_axis(d, self.shape, "diagonal") for d in (dim1, dim2))
        if first == second:
            raise ValueError(f"diagonal: dim1 and dim2 must differ, got {dim1} and {dim2}")
        moved = self.movedim((first, second), (-2, -1))
        rows, cols = moved.shape[-2:]
        offset = int(offset)
        length = max(min(rows, cols - offset) if offset >= 0 else min(rows + offset, cols), 0)
        steps = np.arange(length)
        return moved[..., steps + max(-offset, 0), steps + max(offset, 0)]

    def prod(self, dim=None, keepdim=False, *, dtype=None):
        """The product of all elements or along ``dim``; integer and bool tensors give
        int64, as in PyTorch. Gradients are right where elements are zero."""
        source = self._accumulation_input(dtype)
        if dim is not None:
            dim = normalize_single_axis(dim, self.shape, "prod")
        return ops.Prod.apply(source, dim, bool(keepdim) and dim is not None)

    def cumprod(self, dim, *, dtype=None):
        """Running products along ``dim`` (integer and bool tensors give int64)."""
        return ops.Cumprod.apply(self._accumulation_input(dtype), dim)

    def _accumulation_input(self, dtype):
        """This tensor in ``dtype``, or in int64 when it is integer or bool (PyTorch
        accumulates those in int64)."""
        if dtype is not None:
            return self.astype(_dtypes.as_dtype(dtype))
        return self.astype(np.int64) if self.data.dtype.kind in "biu" else self

    def diff(self, n=1, dim=-1, prepend=None, append=None):
        """The ``n``-th forward difference along ``dim``, after joining ``prepend`` and
        ``append`` there (bool tensors: whether neighbours differ), as ``torch.diff``."""
        axis = self._split_axis(dim, "diff")
        one_step = self.shape[:axis] + (1,) + self.shape[axis + 1:]
        parts = [p if isinstance(p, Tensor) else Tensor(p, dtype=self.data.dtype)
                 for p in (prepend, self, append) if p is not None]
        parts = [p.expand(one_step) if p.ndim == 0 else p for p in parts]  # a number: one step
        result = cat(parts, dim=axis) if len(parts) > 1 else self
        lead = (slice(None),) * axis
        for _ in range(int(n)):
            if result.shape[axis] == 0:
                break
            later, earlier = result[lead + (slice(1, None),)], result[lead + (slice(None, -1),)]
            result = later.ne(earlier) if result.data.dtype == np.bool_ else later - earlier
        return result

    def lerp(self, end, weight):
        """``self + weight * (end - self)``, computed as PyTorch does (from ``end`` when
        the weight is 0.5 or more, so that weight 1 gives ``end`` exactly)."""
        end = self._operand(end)
        span = end - self
        if isinstance(weight, (Tensor, np.ndarray)):
            weight = weight if isinstance(weight, Tensor) else Tensor(weight)
            return where(weight.abs() < 0.5, self + weight * span, end - span * (1 - weight))
        if abs(weight) < 0.5:
            return self + span * _scalar_operand(weight, self.data)
        return end - span * _scalar_operand(1 - weight, self.data)

    def addcmul(self, tensor1, tensor2, *, value=1):
        """``self + value * tensor1 * tensor2``."""
        product = tensor1 * tensor2 if value == 1 else value * tensor1 * tensor2
        return self + product

    def addcdiv(self, tensor1, tensor2, *, value=1):
        """``self + value * tensor1 / tensor2``."""
        quotient = tensor1 / tensor2 if value == 1 else value * tensor1 / tensor2
        return self + quotient

    def index_add(self, dim, index, source, *, alpha=1):
        """A copy with ``alpha * source`` added at positions ``index`` (1-D) along
        ``dim``; repeated indices add up. Differentiable in this tensor and ``source``."""
        index = np.asarray(_data(index))
        axis = normalize_single_axis(dim, self.shape, "index_add")
        n = self.shape[axis] if self.ndim else 1
        if index.dtype.kind not in "iu" or index.ndim > 1:
            raise TypeError(f"index_add: index must be a 1-D integer tensor, got dtype "
                            f"{index.dtype} and shape {index.shape}")
        if index.size and (index.min() < 0 or index.max() >= n):
            raise IndexError(f"index_add: index out of range for dimension {dim} of size "
                             f"{n} (shape {self.shape}); indices must lie in [0, {n})")
        source = self._operand(source)
        if alpha != 1:
            source = source * alpha
        if self.ndim == 0:
            return self + source.sum() if isinstance(source, Tensor) else self + np.sum(source)
        added = ops.IndexAdd.apply(source, self.shape, (slice(None),) * axis
                                   + (index.reshape(-1),))
        return self + added

    def floor_divide(self, other):
        """``self // other``, rounded toward minus infinity (PyTorch's floor_divide)."""
        return self // other

    def remainder(self, other):
        """The remainder with the sign of the divisor (Python's ``%``)."""
        return self % other

    def fmod(self, other):
        """The remainder with the sign of the dividend (C's fmod)."""
        return ops.Fmod.apply(self, self._operand(other))

    def atan2(self, other):
        """The angle of (other, self): ``atan2(self, other)``, elementwise."""
        return ops.Atan2.apply(*self._floating_pair(other))

    arctan2 = atan2

    def hypot(self, other):
        """``sqrt(self^2 + other^2)`` elementwise, for floating-point tensors (as
        PyTorch, which has no integer hypot)."""
        first, other = self._floating_pair(other)
        if first is not self:
            raise TypeError(f"hypot: expects floating-point tensors, got dtype "
                            f"{self.data.dtype}; convert it first, e.g. x.float()")
        return ops.Hypot.apply(first, other)

    def _floating_pair(self, other):
        """This tensor and ``other`` for a floating-point function, as PyTorch promotes
        them: integer and bool tensors become float32 (the default dtype), or the other
        operand's floating dtype."""
        other = self._operand(other)
        other_kind = other.data.dtype.kind if isinstance(other, Tensor) else "f"
        first = self
        if self.data.dtype.kind != "f":
            first = self.astype(other.data.dtype if other_kind == "f" and
                                isinstance(other, Tensor) else DEFAULT_DTYPE)
        if other_kind != "f":
            other = other.astype(first.data.dtype)
        return first, other

    def nansum(self, dim=None, keepdim=False):
        """The sum treating NaN as zero (their gradient is zero)."""
        if self.data.dtype.kind != "f":
            return self.sum(dim, keepdim)
        return where(self.isnan(), 0.0, self).sum(_dims(dim), keepdim)

    def nanmean(self, dim=None, keepdim=False):
        """The mean of the elements that are not NaN (NaN where all are)."""
        if self.data.dtype.kind != "f":
            raise TypeError(f"nanmean: expects a floating-point tensor, got dtype "
                            f"{self.data.dtype}; convert it first, e.g. x.float()")
        counted = (~self.isnan()).sum(_dims(dim), keepdim)
        return self.nansum(dim, keepdim) / counted.astype(self.data.dtype)

    def quantile(self, q, dim=None, keepdim=False, *, interpolation="linear"):
        """The ``q``-th quantiles (``q`` a number or a 1-D tensor in [0, 1], which then
        leads the result) over all elements or along ``dim``, as ``torch.quantile``;
        a slice holding NaN gives NaN. Differentiable (through the two neighbouring
        sorted values)."""
        return self._quantile(q, dim, keepdim, interpolation, False, "quantile")

    def nanquantile(self, q, dim=None, keepdim=False, *, interpolation="linear"):
        """:meth:`quantile` of the elements that are not NaN."""
        return self._quantile(q, dim, keepdim, interpolation, True, "nanquantile")

    def _quantile(self, q, dim, keepdim, interpolation, ignore_nan, op):
        if self.data.dtype.kind != "f":
            raise TypeError(f"{op}: expects a floating-point tensor, got dtype "
                            f"{self.data.dtype}; convert it first, e.g. x.float()")
        q = np.asarray(_data(q), dtype=self.data.dtype)
        if q.ndim > 1 or (q.size and (np.isnan(q).any() or q.min() < 0 or q.max() > 1)):
            raise ValueError(f"{op}: q must be a number or a 1-D tensor of values in [0, 1], "
                             f"got {q.tolist()}")
        if interpolation not in ("linear", "lower", "higher", "midpoint", "nearest"):
            raise ValueError(f"{op}: interpolation must be 'linear', 'lower', 'higher', "
                             f"'midpoint' or 'nearest', got {interpolation!r}")
        source = self.reshape(-1) if dim is None or self.ndim == 0 else self
        axis = -1 if dim is None else normalize_single_axis(dim, self.shape, op)
        values = source.sort(axis).values.movedim(axis, -1)  # NaN sorts last
        n = values.shape[-1]
        if n == 0:
            raise ValueError(f"{op}: cannot take a quantile of an empty tensor (shape "
                             f"{self.shape}, dim {dim})")
        nans = np.isnan(values.data).sum(-1, keepdims=True)
        # PyTorch's ranks, in the input's dtype: q * (count - 1), moved to the last (NaN)
        # position where a NaN must come out.
        if ignore_nan:
            ranks = np.maximum(q.reshape(-1) * (n - nans - 1).astype(q.dtype), 0)
        else:
            ranks = np.where(nans > 0, n - 1, q.reshape(-1) * q.dtype.type(n - 1))
        ranks = np.asarray(ranks, dtype=q.dtype)
        if interpolation in ("lower", "higher", "nearest"):
            rounded = {"lower": np.floor, "higher": np.ceil, "nearest": np.round}[interpolation]
            result = values.gather(-1, rounded(ranks).astype(np.int64))
        else:
            below = values.gather(-1, ranks.astype(np.int64))
            above = values.gather(-1, np.ceil(ranks).astype(np.int64))
            weights = ranks - np.floor(ranks) if interpolation == "linear" else \
                np.full_like(ranks, 0.5)
            result = below.lerp(above, Tensor._make(weights, False))
        result = result.movedim(-1, 0)  # the quantiles lead, as in PyTorch
        if keepdim:
            kept = (1,) * self.ndim if dim is None or self.ndim == 0 else \
                self.shape[:axis] + (1,) + self.shape[axis + 1:]
            result = result.reshape((result.shape[0],) + kept)
        return result.reshape(result.shape[1:]) if q.ndim == 0 else result

    def unique(self, sorted=True, return_inverse=False, return_counts=False, dim=None):
        """The distinct values (or, with ``dim``, distinct slices along it), always in
        ascending order; with ``return_inverse`` the index of each input element in the
        result, with ``return_counts`` how often each occurs (int64), as
        ``torch.unique``."""
        axis = None if dim is None else normalize_single_axis(dim, self.shape, "unique")
        found = np.unique(self.data, return_inverse=True, return_counts=True, axis=axis)
        values, inverse, counts = found
        inverse = inverse.reshape(self.shape if axis is None else (-1,))
        result = [Tensor._make(values, False)]
        if return_inverse:
            result.append(Tensor._make(inverse.astype(np.int64), False))
        if return_counts:
            result.append(Tensor._make(counts.astype(np.int64), False))
        return result[0] if len(result) == 1 else tuple(result)

    def bincount(self, weights=None, minlength=0):
        """How often each value 0, 1, ... occurs in this 1-D non-negative integer tensor
        (or the sum of its ``weights``), at least ``minlength`` entries; int64 counts,
        float64 sums of integer weights, as ``torch.bincount``."""
        if self.ndim != 1 or self.data.dtype.kind not in "iu" or \
                (self.data.size and self.data.min() < 0):
            raise ValueError(f"bincount: expects a 1-D tensor of non-negative integers, got "
                             f"dtype {self.data.dtype} and shape {self.shape}")
        if weights is None:
            return Tensor._make(np.bincount(self.data, minlength=minlength).astype(np.int64),
                                False)
        weights = np.asarray(_data(weights))
        dtype = weights.dtype if weights.dtype.kind == "f" else np.dtype(np.float64)
        return Tensor._make(np.bincount(self.data, weights, minlength).astype(dtype), False)

    def histc(self, bins=100, min=0, max=0):
        """A histogram of ``bins`` equal bins over [min, max] (the data's range when both
        are 0); elements outside are ignored, and max falls in the last bin, as
        ``torch.histc``."""
        if self.data.dtype.kind != "f":
            raise TypeError(f"histc: expects a floating-point tensor, got dtype "
                            f"{self.data.dtype}; convert it first, e.g. x.float()")
        data = self.data.reshape(-1)
        low, high = float(min), float(max)
        if low == high and data.size:
            finite = data[np.isfinite(data)]
            low, high = (float(finite.min()), float(finite.max())) if finite.size else (0, 0)
        if low == high:
            low, high = low - 1, high + 1
        if low > high:
            raise ValueError(f"histc: max ({max}) must be larger than min ({min})")
        low, high = self.data.dtype.type(low), self.data.dtype.type(high)
        inside = data[(data >= low) & (data <= high)]
        which = ((inside - low) * self.data.dtype.type(bins) / (high - low)).astype(np.int64)
        counts = np.bincount(np.minimum(which, bins - 1), minlength=bins)
        return Tensor._make(counts.astype(self.data.dtype), False)

    # ================================================================= PyTorch port
    # Conversions, devices, extremum/order statistics with indices, logical and
    # elementwise extras, shapes and contractions, as PyTorch names them.

    # ----------------------------------------------------------------- dtype and device

    device = property(lambda self: _dtypes.CPU)
    is_cuda = property(lambda self: False)
    mT = property(lambda self: self.transpose(-2, -1))

    def half(self):
        return self.astype(np.float16)

    def int(self):
        return self.astype(np.int32)

    def short(self):
        return self.astype(np.int16)

    def byte(self):
        return self.astype(np.uint8)

    def bool(self):
        return self.astype(np.bool_)

    def is_floating_point(self) -> bool:
        return self.data.dtype.kind == "f"

    def element_size(self) -> int:
        return self.data.dtype.itemsize

    def get_device(self) -> int:
        return -1  # PyTorch's answer for a CPU tensor

    def cpu(self):
        return self

    def cuda(self, *args, **kwargs):
        _dtypes.check_device("cuda", "cuda()")

    def contiguous(self, memory_format=None):
        """This tensor when its array is C-contiguous, else a contiguous copy (still in
        the graph)."""
        return self if self.data.flags.c_contiguous else self.clone()

    def is_contiguous(self, memory_format=None) -> bool:
        return bool(self.data.flags.c_contiguous)

    def to(self, *args, dtype=None, device=None, copy=False, non_blocking=False,
           memory_format=None):
        """``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(other)`` (its dtype)
        and the keyword forms, as ``torch.Tensor.to``; only the CPU exists, so any other
        device raises an error naming it."""
        for arg in args:
            if isinstance(arg, Tensor):
                dtype = arg.data.dtype
            elif isinstance(arg, (str, _dtypes.device)) and not _is_dtype_name(arg):
                device = arg
            else:
                dtype = arg
        _dtypes.check_device(device, "to")
        result = self if dtype is None else self.astype(_dtypes.as_dtype(dtype))
        return result.clone() if copy and result is self else result

    def type_as(self, other):
        return self.astype(other.data.dtype)

    def type(self, dtype=None, non_blocking=False):
        """No argument: ``'torch.FloatTensor'`` and so on; with a dtype (or such a name):
        this tensor converted to it."""
        if dtype is None:
            return _dtypes.tensor_type_name(self.data.dtype)
        return self.astype(_dtypes.as_dtype(dtype))

    def new_tensor(self, data, dtype=None, requires_grad=False):
        data = np.array(_data(data), dtype=dtype if dtype is not None else self.data.dtype)
        return Tensor(data, requires_grad)

    def new_zeros(self, *size, dtype=None, requires_grad=False, device=None):
        _dtypes.check_device(device, "new_zeros")
        return Tensor(np.zeros(_shape_arg(size), dtype or self.data.dtype), requires_grad)

    def new_ones(self, *size, dtype=None, requires_grad=False, device=None):
        _dtypes.check_device(device, "new_ones")
        return Tensor(np.ones(_shape_arg(size), dtype or self.data.dtype), requires_grad)

    def new_full(self, size, fill_value, dtype=None, requires_grad=False, device=None):
        _dtypes.check_device(device, "new_full")
        return Tensor(np.full(_shape_arg((size,)), fill_value, dtype or self.data.dtype),
                      requires_grad)

    def new_empty(self, *size, dtype=None, requires_grad=False, device=None):
        return self.new_zeros(*size, dtype=dtype, requires_grad=requires_grad, device=device)

    # ----------------------------------------------------------------- values with indices

    def _extremum_and_index(self, dim, keepdim, op: str):
        if isinstance(dim, (tuple, list)):
            raise TypeError(f"{op}: dim must be an int (got {dim!r}); for the {op} over "
                            f"several dimensions use a{op}(dim=...)")
        axis = normalize_single_axis(dim, self.shape, op)
        if self.data.size == 0:
            raise IndexError(f"{op}(): cannot take the {op} along dimension {dim} of an "
                             f"empty tensor of shape {self.shape}")
        if self.ndim == 0:
            indices = np.zeros((), np.int64)
        else:
            find = np.argmax if op == "max" else np.argmin
            indices = find(self.data, axis=axis, keepdims=True).astype(np.int64)
        return self._values_at(axis, indices, keepdim, _return_types.max if op == "max"
                               else _return_types.min)

    def _values_at(self, axis, indices, keepdim, kind):
        """``kind(values, indices)`` for indices of shape ``self.shape`` with ``axis``
        kept as size 1: the values are a differentiable gather."""
        values = self.gather(axis, indices)
        if not keepdim and self.ndim:
            values, indices = values.squeeze(axis), np.squeeze(indices, axis)
        return kind(values, Tensor._make(indices, False))

    def amax(self, dim=(), keepdim=False):
        """The largest values over ``dim`` (an int, a tuple, or () for all); tied maxima
        share the gradient equally, as in PyTorch."""
        return ops.Max.apply(self, None if dim == () else dim, keepdim)

    def amin(self, dim=(), keepdim=False):
        return ops.Min.apply(self, None if dim == () else dim, keepdim)

    def aminmax(self, *, dim=None, keepdim=False):
        if dim is None:
            return _return_types.aminmax(self.amin(), self.amax())
        return _return_types.aminmax(self.amin(dim, keepdim), self.amax(dim, keepdim))

    def _order_statistic(self, dim, keepdim, k_of_n, op: str, kind):
        """The element at sorted position ``k_of_n(n)`` along ``dim`` and its index (NaN
        sorts last, and a slice holding NaN gives NaN and its index, as in PyTorch)."""
        flat = dim is None
        source = self.reshape(-1) if flat else self
        axis = 0 if flat else normalize_single_axis(dim, self.shape, op)
        if source.ndim == 0:
            return kind(source.clone(), Tensor._make(np.zeros((), np.int64), False))
        n = source.shape[axis]
        if n == 0:
            raise IndexError(f"{op}(): cannot take the {op} of an empty dimension (shape "
                             f"{self.shape}, dim {dim})")
        order = ops.sort_indices(source.data, axis, False)
        position = k_of_n(n)
        indices = np.take(order, [position], axis=axis)
        nan = np.isnan(source.data) if source.data.dtype.kind == "f" else None
        if nan is not None and nan.any():
            has_nan = nan.any(axis=axis, keepdims=True)
            indices = np.where(has_nan, np.argmax(nan, axis=axis, keepdims=True), indices)
        result = source._values_at(axis, indices.astype(np.int64), keepdim or flat, kind)
        if flat:
            return result.values.reshape(())
        return result

    def median(self, dim=None, keepdim=False):
        """The lower median (of an even count, the smaller middle value), as
        ``torch.median``: no ``dim``: a 0-d tensor of all elements; with ``dim``:
        ``(values, indices)``."""
        return self._order_statistic(dim, keepdim, lambda n: (n - 1) // 2, "median",
                                     _return_types.median)

    def kthvalue(self, k, dim=-1, keepdim=False):
        """The ``k``-th smallest element (1-based) along ``dim`` and its index."""
        size = self.shape[normalize_single_axis(dim, self.shape, "kthvalue")] if self.ndim \
            else 1
        if not 1 <= int(k) <= size:
            raise IndexError(f"kthvalue: k={k} is out of range for dimension {dim} of size "
                             f"{size} (shape {self.shape})")
        return self._order_statistic(dim, keepdim, lambda n: int(k) - 1, "kthvalue",
                                     _return_types.kthvalue)

    def mode(self, dim=-1, keepdim=False):
        """The most frequent value along ``dim`` (the smallest of equally frequent
        ones) and the index of its last occurrence, as ``torch.mode`` on the CPU."""
        axis = normalize_single_axis(dim, self.shape, "mode")
        if self.ndim == 0:
            return _return_types.mode(self.clone(), Tensor._make(np.zeros((), np.int64), False))
        moved = np.moveaxis(self.data, axis, -1)
        rows = moved.reshape(-1, moved.shape[-1])
        if rows.shape[1] == 0:
            raise IndexError(f"mode(): cannot take the mode of an empty dimension (shape "
                             f"{self.shape}, dim {dim})")
        picked = np.empty(len(rows), np.int64)
        for r, row in enumerate(rows):
            values, counts = np.unique(row, return_counts=True)
            value = values[np.argmax(counts)]
            hits = np.flatnonzero((row == value) | (np.isnan(row) & np.isnan(value))
                                  if row.dtype.kind == "f" else row == value)
            picked[r] = hits[-1]
        indices = np.expand_dims(picked.reshape(moved.shape[:-1]), axis)
        return self._values_at(axis, indices, keepdim, _return_types.mode)

    def argsort(self, dim=-1, descending=False, stable=False):
        axis = normalize_single_axis(dim, self.shape, "argsort")
        if self.ndim == 0:
            return Tensor._make(np.zeros((), np.int64), False)
        return Tensor._make(ops.sort_indices(self.data, axis, bool(descending))
                            .astype(np.int64), False)

    # ----------------------------------------------------------------- logical

    def any(self, dim=None, keepdim=False):
        return ops.ArrayCall.apply(np.any, self.data, axis=_dims(dim), keepdims=keepdim)

    def all(self, dim=None, keepdim=False):
        return ops.ArrayCall.apply(np.all, self.data, axis=_dims(dim), keepdims=keepdim)

    def isnan(self):
        return ops.ArrayCall.apply(np.isnan, self.data)

    def isinf(self):
        return ops.ArrayCall.apply(np.isinf, self.data)

    def isfinite(self):
        return ops.ArrayCall.apply(np.isfinite, self.data)

    def logical_not(self):
        return ops.ArrayCall.apply(np.logical_not, self.data)

    def logical_and(self, other):
        return self._compare(np.logical_and, other)

    def logical_or(self, other):
        return self._compare(np.logical_or, other)

    def logical_xor(self, other):
        return self._compare(np.logical_xor, other)

    def _bitwise(self, ufunc, other, op: str):
        if self.data.dtype.kind not in "biu" or np.asarray(_data(other)).dtype.kind not in "biu":
            raise TypeError(f"{op} is defined for bool and integer tensors only, got dtype "
                            f"{self.data.dtype} (use logical_and/logical_or for others)")
        return self._compare(ufunc, other)

    def __invert__(self):
        if self.data.dtype.kind not in "biu":
            raise TypeError(f"~ is defined for bool and integer tensors only, got dtype "
                            f"{self.data.dtype}")
        return ops.ArrayCall.apply(np.invert, self.data)

    def __and__(self, other):
        return self._bitwise(np.bitwise_and, other, "&")

    def __or__(self, other):
        return self._bitwise(np.bitwise_or, other, "|")

    def __xor__(self, other):
        return self._bitwise(np.bitwise_xor, other, "^")

    __rand__, __ror__, __rxor__ = __and__, __or__, __xor__

    def nonzero(self, *, as_tuple=False):
        """Indices of the non-zero elements: an int64 (count, ndim) tensor, or with
        ``as_tuple=True`` one index tensor per dimension (as ``torch.nonzero``)."""
        found = np.nonzero(self.data) if self.ndim else np.nonzero(self.data.reshape(1))
        if as_tuple:
            return tuple(Tensor._make(i.astype(np.int64), False) for i in found)
        stacked = np.stack(found, axis=1) if self.ndim else np.zeros((len(found[0]), 0))
        return Tensor._make(stacked.astype(np.int64), False)

    def count_nonzero(self, dim=None):
        return Tensor._make(np.asarray(np.count_nonzero(self.data, axis=_dims(dim)),
                                       dtype=np.int64), False)

    def allclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
        return bool(np.allclose(self.data, _data(other), rtol=rtol, atol=atol,
                                equal_nan=equal_nan))

    def isclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        return Tensor._make(np.isclose(self.data, _data(other), rtol=rtol, atol=atol,
                                       equal_nan=equal_nan), False)

    def equal(self, other) -> bool:
        """True when both have the same shape and elements (``torch.equal``)."""
        other = np.asarray(_data(other))
        return self.shape == other.shape and bool(np.array_equal(self.data, other))

    # ----------------------------------------------------------------- elementwise

    def sin(self):
        return ops.Sin.apply(self._floating())

    def cos(self):
        return ops.Cos.apply(self._floating())

    def log1p(self):
        return ops.Log1p.apply(self._floating())

    def expm1(self):
        return ops.Expm1.apply(self._floating())

    def rsqrt(self):
        return ops.Rsqrt.apply(self._floating())

    def reciprocal(self):
        return 1 / self

    def sign(self):
        return ops.Sign.apply(self)

    def square(self):
        return self * self

    def relu6(self):
        return ops.Hardtanh.apply(self, _scalar_operand(0, self.data),
                                  _scalar_operand(6, self.data))

    def hardtanh(self, min_val=-1.0, max_val=1.0):
        return ops.Hardtanh.apply(self, _scalar_operand(min_val, self.data),
                                  _scalar_operand(max_val, self.data))

    def hardswish(self):
        return ops.Hardswish.apply(self)

    def mish(self):
        return ops.Mish.apply(self)

    def nan_to_num(self, nan=0.0, posinf=None, neginf=None):
        """NaN -> ``nan``, +-inf -> ``posinf``/``neginf`` (default: the dtype's largest
        and smallest finite values), as ``torch.nan_to_num``."""
        if self.data.dtype.kind != "f":
            return self.clone()
        return ops.NanToNum.apply(self, nan, posinf, neginf)

    def floor(self):
        return self._stepwise(np.floor)

    def ceil(self):
        return self._stepwise(np.ceil)

    def round(self, decimals=0):
        return self._stepwise(lambda x: np.round(x, decimals))

    def trunc(self):
        return self._stepwise(np.trunc)

    def _stepwise(self, function):
        """A piecewise-constant function: its gradient is zero (a detached result, as
        nothing flows back through it)."""
        return ops.ArrayCall.apply(function, self.data)

    # ----------------------------------------------------------------- shapes

    def unflatten(self, dim, sizes):
        """Split dimension ``dim`` into ``sizes`` (one entry may be -1)."""
        axis = normalize_single_axis(dim, self.shape, "unflatten")
        sizes = tuple(int(n) for n in sizes)
        known = int(np.prod([n for n in sizes if n != -1]))
        if sizes.count(-1) > 1 or (sizes.count(-1) == 0 and known != self.shape[axis]) or \
                (sizes.count(-1) == 1 and (known == 0 or self.shape[axis] % known)):
            raise ValueError(f"unflatten: sizes {sizes} do not multiply to {self.shape[axis]}, "
                             f"the size of dimension {dim} of shape {self.shape}")
        return self.reshape(self.shape[:axis] + sizes + self.shape[axis + 1:])

    def movedim(self, source, destination):
        """Move dimension(s) ``source`` to position(s) ``destination``."""
        source = source if isinstance(source, (tuple, list)) else (source,)
        destination = destination if isinstance(destination, (tuple, list)) else (destination,)
        if len(source) != len(destination):
            raise ValueError(f"movedim: source {source} and destination {destination} must "
                             "name as many dimensions")
        src = [normalize_single_axis(a, self.shape, "movedim") for a in source]
        dst = [normalize_single_axis(a, self.shape, "movedim") for a in destination]
        order = [a for a in range(self.ndim) if a not in src]
        for d, s in sorted(zip(dst, src)):
            order.insert(d, s)
        return self.permute(*order)

    moveaxis = movedim

    def swapaxes(self, axis0, axis1):
        return self.transpose(axis0, axis1)

    swapdims = swapaxes

    def narrow(self, dim, start, length):
        axis = normalize_single_axis(dim, self.shape, "narrow")
        start = int(start) + (self.shape[axis] if start < 0 else 0)
        return self[(slice(None),) * axis + (slice(start, start + int(length)),)]

    def bmm(self, other):
        """Batched matrix product of (b, n, m) and (b, m, p) tensors, as ``torch.bmm``."""
        other_shape = np.shape(_data(other))
        if self.ndim != 3 or len(other_shape) != 3 or self.shape[0] != other_shape[0] \
                or self.shape[2] != other_shape[1]:
            raise ValueError(f"bmm: expected (b, n, m) and (b, m, p) tensors, got shapes "
                             f"{self.shape} and {other_shape}")
        return self @ other

    # ----------------------------------------------------------------- random, in place

    def uniform_(self, a=0.0, b=1.0, *, generator=None):
        return self._fill_random(_random.uniform_array(self.shape, a, b, generator,
                                                       self._draw_dtype()), "uniform_")

    def normal_(self, mean=0.0, std=1.0, *, generator=None):
        return self._fill_random(_random.normal_array(self.shape, mean, std, generator,
                                                      self._draw_dtype()), "normal_")

    def _draw_dtype(self):
        return self.data.dtype if self.data.dtype in (np.float32, np.float64) else np.float64

    def bernoulli_(self, p=0.5, *, generator=None):
        return self._fill_random(_random.bernoulli_array(self.shape, _data(p), generator),
                                 "bernoulli_")

    def random_(self, from_=0, to=None, *, generator=None):
        if to is None:
            from_, to = 0, from_ if from_ else _random.default_random_bound(self.data.dtype)
        return self._fill_random(_random.integers_array(self.shape, from_, to, generator),
                                 "random_")

    def exponential_(self, lambd=1.0, *, generator=None):
        return self._fill_random(_random.exponential_array(self.shape, lambd, generator),
                                 "exponential_")

    def bernoulli(self, *, generator=None):
        """0/1 draws with the probabilities in this tensor (``torch.bernoulli``)."""
        return Tensor(_random.bernoulli_array(self.shape, self.data, generator)
                      .astype(self.data.dtype))

    def multinomial(self, num_samples, replacement=False, *, generator=None):
        return Tensor._make(_random.multinomial_array(self.data, num_samples, replacement,
                                                      generator), False)

    def _fill_random(self, values, name: str):
        return self._in_place(lambda a, b, out: np.copyto(out, b, casting="unsafe"), values,
                              name)

    # ================================================================= everyday ops, part 2
    # Special functions, the alpha/rounding_mode forms of add/sub/div, strict products,
    # splitting, running extrema, scatter_reduce and in-place detach.

    def _floating(self) -> "Tensor":
        """This tensor, or for integer and bool tensors a float32 copy (PyTorch's
        promotion for floating-point functions such as erf and lgamma)."""
        return self if self.data.dtype.kind in "fc" else self.astype(DEFAULT_DTYPE)

    def tan(self):
        return ops.Tan.apply(self._floating())

    def log2(self):
        return ops.Log2.apply(self._floating())

    def log10(self):
        return ops.Log10.apply(self._floating())

    def erf(self):
        return ops.Erf.apply(self._floating())

    def erfc(self):
        return ops.Erfc.apply(self._floating())

    def erfinv(self):
        """The inverse of erf: +-inf at +-1, NaN outside [-1, 1]."""
        return ops.Erfinv.apply(self._floating())

    def lgamma(self):
        """log |Gamma(x)| (+inf at 0, -1, -2, ...)."""
        return ops.Lgamma.apply(self._floating())

    def digamma(self):
        """d/dx lgamma(x) (-inf at 0, NaN at the negative integers, as PyTorch)."""
        return ops.Digamma.apply(self._floating())

    def polygamma(self, n):
        """The ``n``-th derivative of digamma (``polygamma(0)`` is digamma)."""
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(f"polygamma: n must be a non-negative int, got {n!r}")
        return ops.Polygamma.apply(self._floating(), int(n))

    def logit(self, eps=None):
        """log(p / (1 - p)); with ``eps`` the input is first clamped to [eps, 1 - eps]
        (and the gradient is 0 outside that range), as ``torch.logit``."""
        p = self._floating()
        if eps is not None:
            p = p.clamp(eps, 1 - eps)
        return (p / (1 - p)).log()

    def xlogy(self, other):
        """``self * log(other)``, 0 where self is 0 (unless other is NaN)."""
        first, other = self._floating_pair(other)
        return ops.XLogY.apply(first, other)

    def add(self, other, *, alpha=1):
        """``self + alpha * other`` (``torch.add``)."""
        return self + (other if alpha == 1 else other * alpha)

    def sub(self, other, *, alpha=1):
        """``self - alpha * other`` (``torch.sub``)."""
        return self - (other if alpha == 1 else other * alpha)

    subtract = sub

    def div(self, other, *, rounding_mode=None):
        """``self / other`` (true division); ``rounding_mode="trunc"`` rounds the quotient
        toward zero and ``"floor"`` toward minus infinity (no gradient: it is zero almost
        everywhere), keeping integer dtypes integer, as ``torch.div``."""
        if rounding_mode is None:
            return self / other
        if rounding_mode == "floor":
            return self // other
        if rounding_mode != "trunc":
            raise ValueError(f"div: rounding_mode must be None, 'trunc' or 'floor', got "
                             f"{rounding_mode!r}")
        divisor = _data(self._operand(other))
        with ops.quiet_numpy():  # x / 0: inf or nan without a warning, as torch
            if self.data.dtype.kind in "biu" and np.asarray(divisor).dtype.kind in "biu":
                return ops.ArrayCall.apply(_truncated_integer_division, self.data, divisor)
            return ops.ArrayCall.apply(lambda a, b: np.trunc(a / b), self.data, divisor)

    divide = true_divide = div

    def mm(self, mat2):
        """The product of two matrices (``torch.mm``; no broadcasting)."""
        other_shape = np.shape(_data(mat2))
        if self.ndim != 2 or len(other_shape) != 2 or self.shape[1] != other_shape[0]:
            raise ValueError(f"mm: expected (n, m) and (m, p) matrices, got shapes "
                             f"{self.shape} and {other_shape}")
        return self @ mat2

    def mv(self, vec):
        """The product of a matrix and a vector (``torch.mv``)."""
        other_shape = np.shape(_data(vec))
        if self.ndim != 2 or len(other_shape) != 1 or self.shape[1] != other_shape[0]:
            raise ValueError(f"mv: expected an (n, m) matrix and an (m,) vector, got shapes "
                             f"{self.shape} and {other_shape}")
        return self @ vec

    def dot(self, other):
        """The inner product of two 1-D tensors of one length (``torch.dot``)."""
        other_shape = np.shape(_data(other))
        if self.ndim != 1 or other_shape != self.shape:
            raise ValueError(f"dot: expected two 1-D tensors of the same length, got shapes "
                             f"{self.shape} and {other_shape}")
        return self @ other

    def cross(self, other, dim=None):
        """The cross product of 3-vectors along ``dim`` (the two broadcast together); with
        no ``dim``, the first dimension of size 3 (PyTorch's deprecated default, which
        warns as PyTorch does)."""
        other = self._operand(other)
        if not isinstance(other, Tensor):
            other = Tensor(other)
        try:
            shape = np.broadcast_shapes(self.shape, other.shape)
        except ValueError:
            raise ops._broadcast_error("cross", self.data, other.data) from None
        if dim is None:
            import warnings

            warnings.warn("Using torch.cross without specifying the dim arg is deprecated.\n"
                          "Please either pass the dim explicitly or simply use "
                          "torch.linalg.cross.\nThe default value of dim will change to "
                          "agree with that of linalg.cross in a future release.",
                          UserWarning, stacklevel=2)
            sizes = [i for i, n in enumerate(shape) if n == 3]
            if not sizes:
                raise ValueError(f"cross: no dimension of size 3 in shape {shape}; "
                                 "the cross product is defined for 3-vectors")
            dim = sizes[0]
        axis = normalize_single_axis(dim, shape, "cross")
        if shape[axis] != 3:
            raise ValueError(f"cross: dimension {dim} has size {shape[axis]} (shape {shape}); "
                             "it must have size 3")
        a = self if self.shape == shape else self.expand(shape)
        b = other if other.shape == shape else other.expand(shape)
        lead = (slice(None),) * axis

        def rotated(t, order):
            return t[lead + (np.array(order),)]

        return rotated(a, [1, 2, 0]) * rotated(b, [2, 0, 1]) - \
            rotated(a, [2, 0, 1]) * rotated(b, [1, 2, 0])

    def tensor_split(self, indices_or_sections, dim=0):
        """Views along ``dim``: an int ``n`` gives ``n`` pieces as even as possible (the
        first ``size % n`` one longer); a sequence (or 1-D tensor) of indices splits
        before each of them, as ``torch.tensor_split``."""
        axis = self._split_axis(dim, "tensor_split")
        size = self.shape[axis]
        split = indices_or_sections
        if isinstance(split, Tensor):
            if split.data.dtype.kind not in "iu" or split.ndim > 1:
                raise TypeError(f"tensor_split: a tensor of sections or indices must be a 0-d "
                                f"or 1-D int64 tensor, got dtype {split.dtype} and shape "
                                f"{split.shape}")
            split = split.item() if split.ndim == 0 else split.data.tolist()
        if isinstance(split, (int, np.integer)):
            sections = int(split)
            if sections <= 0:
                raise ValueError(f"tensor_split: number of sections must be positive, got "
                                 f"{sections}")
            lengths = [size // sections + (1 if i < size % sections else 0)
                       for i in range(sections)]
            bounds = list(np.cumsum([0] + lengths))
        else:
            bounds = [0] + [min(max(int(i) + (size if i < 0 else 0), 0), size)
                            for i in split] + [size]
        lead = (slice(None),) * axis
        return tuple(self[lead + (slice(start, max(start, stop)),)]
                     for start, stop in zip(bounds[:-1], bounds[1:]))

    def cummax(self, dim):
        """Running maxima along ``dim`` and the index of each (the latest of tied ones;
        once a NaN is met it stays), as ``torch.cummax``; values are differentiable."""
        return self._running_extremum(dim, True, _return_types.cummax)

    def cummin(self, dim):
        """Running minima along ``dim`` and their indices, as ``torch.cummin``."""
        return self._running_extremum(dim, False, _return_types.cummin)

    def _running_extremum(self, dim, largest: bool, kind):
        op = "cummax" if largest else "cummin"
        if self.ndim == 0:
            normalize_single_axis(dim, self.shape, op)
            return kind(self.clone(), Tensor._make(np.zeros((), np.int64), False))
        axis = normalize_single_axis(dim, self.shape, op)
        moved = np.moveaxis(self.data, axis, -1)
        indices = np.zeros(moved.shape, dtype=np.int64)
        if moved.shape[-1]:
            better = np.greater_equal if largest else np.less_equal
            best, best_index = moved[..., 0].copy(), np.zeros(moved.shape[:-1], np.int64)
            for i in range(moved.shape[-1]):
                value = moved[..., i]
                with ops.quiet_numpy():
                    take = better(value, best)
                if moved.dtype.kind == "f":  # PyTorch: a NaN wins and then stays
                    take = np.isnan(value) | (take & ~np.isnan(best))
                best = np.where(take, value, best)
                best_index = np.where(take, i, best_index)
                indices[..., i] = best_index
        indices = np.moveaxis(indices, -1, axis)
        return kind(self.gather(axis, indices), Tensor._make(indices, False))

    def logcumsumexp(self, dim):
        """Running log(sum(exp)) along ``dim``, exact however far apart the values
        are (``torch.logcumsumexp``)."""
        return ops.LogCumsumExp.apply(self._floating(), dim)

    def scatter_reduce(self, dim, index, src, reduce, *, include_self=True):
        """Out-of-place ``torch.scatter_reduce``: ``src`` combined into a copy at
        ``index`` along ``dim`` by ``reduce`` ('sum', 'prod', 'mean', 'amax', 'amin'),
        with this tensor's values there too unless ``include_self=False``.
        Differentiable in this tensor and ``src`` (twice, except prod where ``src``
        holds a zero)."""
        if reduce not in ("sum", "prod", "mean", "amax", "amin"):
            raise ValueError(f"scatter_reduce: reduce must be 'sum', 'prod', 'mean', 'amax' "
                             f"or 'amin', got {reduce!r}")
        index = np.asarray(_data(index))
        if not isinstance(src, Tensor):
            src = np.asarray(src, dtype=self.data.dtype)
        if self.ndim == 0:  # as a 1-element vector, then back
            return self.reshape(1).scatter_reduce(
                dim, index.reshape(1), src.reshape(1), reduce,
                include_self=include_self).reshape(())
        return ops.ScatterReduce.apply(self, dim, index, src, reduce, bool(include_self))

    def scatter_reduce_(self, dim, index, src, reduce, *, include_self=True) -> "Tensor":
        return self._assign("scatter_reduce_", lambda: self.scatter_reduce(
            dim, index, src, reduce, include_self=include_self), src)

    def masked_fill_(self, mask, value) -> "Tensor":
        """In-place :meth:`masked_fill` (no_grad() or outside a graph only)."""
        return self._assign("masked_fill_", lambda: self.masked_fill(mask, value), value)

    def repeat_interleave(self, repeats, dim=None, *, output_size=None):
        """Each element (or, with ``dim``, each slice along it) repeated ``repeats``
        times in place (an int, or one count per element), as
        ``torch.repeat_interleave``; without ``dim`` the tensor is flattened first.
        Differentiable (the gradients of the copies add up)."""
        source = self.reshape(-1) if dim is None or self.ndim == 0 else self
        axis = 0 if dim is None or self.ndim == 0 else \
            normalize_single_axis(dim, self.shape, "repeat_interleave")
        counts = np.asarray(_data(repeats))
        if counts.dtype.kind not in "iu" or counts.ndim > 1:
            raise TypeError(f"repeat_interleave: repeats must be an int or a 1-D integer "
                            f"tensor, got dtype {counts.dtype} and shape {counts.shape}")
        n = source.shape[axis]
        if counts.size == 1:
            counts = np.full(n, counts.reshape(()))
        if counts.shape != (n,):
            raise ValueError(f"repeat_interleave: repeats has {counts.size} entries but "
                             f"dimension {axis} has size {n} (shape {self.shape}); give one "
                             "count per element or a single count")
        if counts.size and counts.min() < 0:
            raise ValueError(f"repeat_interleave: repeats must be non-negative, got "
                             f"{counts.tolist()}")
        if output_size is not None and int(counts.sum()) != int(output_size):
            raise ValueError(f"repeat_interleave: output_size={output_size} but the repeats "
                             f"sum to {int(counts.sum())}")
        picks = np.repeat(np.arange(n), counts)
        return source[(slice(None),) * axis + (picks,)]

    def det(self):
        """The determinant of a (batch of) square matrices (``torch.linalg.det``)."""
        return ops.Det.apply(self)

    def inverse(self):
        return ops.Inv.apply(self)

    def slogdet(self):
        """``(sign, logabsdet)``, as ``torch.linalg.slogdet``."""
        from . import linalg  # linalg builds on this module

        return linalg.slogdet(self)

    def logdet(self):
        """log(det): NaN for a negative determinant, -inf for zero (``torch.logdet``)."""
        sign, logabsdet = self.slogdet()
        return logabsdet + Tensor._make(np.where(sign.data < 0, np.nan, 0).astype(
            self.data.dtype), False)

    def detach_(self) -> "Tensor":
        """Cut this tensor from the graph in place: it becomes a leaf that does not
        require grad (``torch.Tensor.detach_``)."""
        self._ctx = None
        self._requires_grad = False
        return self


_autograd._Tensor = Tensor  # bind the engine to this class


class Size(tuple):
    """``torch.Size``: a tuple of dimension sizes (equal to the plain tuple) that prints
    as PyTorch's and has ``numel()``; slices and concatenations stay Sizes."""

    __slots__ = ()

    def __new__(cls, sizes=()):
        return super().__new__(cls, (int(n) for n in sizes))

    def numel(self) -> int:
        return math.prod(self)

    def __getitem__(self, index):
        item = tuple.__getitem__(self, index)
        return Size(item) if isinstance(index, slice) else item

    def __add__(self, other):
        return Size(tuple.__add__(self, tuple(other)))

    def __radd__(self, other):
        return Size(tuple(other) + tuple(self))

    def __repr__(self) -> str:
        return f"torch.Size({list(self)})"

    __str__ = __repr__

# --------------------------------------------------------------------------- helpers


# --------------------------------------------------------------------------- printing

_PRINT_PROFILES = {
    "default": {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80},
    "short": {"precision": 2, "threshold": 1000, "edgeitems": 2, "linewidth": 80},
    "full": {"precision": 4, "threshold": sys.maxsize, "edgeitems": 3, "linewidth": 80},
}
_print_options = dict(_PRINT_PROFILES["default"], sci_mode=None)


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None) -> None:
    """How ``repr(tensor)`` prints, as ``torch.set_printoptions``: ``precision`` digits
    after the point (4), summarise with ``edgeitems`` (3) per end beyond ``threshold``
    (1000) elements, lines of ``linewidth`` (80); ``profile`` 'default', 'short' or
    'full' sets all of those first; ``sci_mode`` True/False forces or forbids scientific
    notation (None: NumPy decides, as PyTorch does by itself)."""
    if profile is not None:
        if profile not in _PRINT_PROFILES:
            raise ValueError(f"set_printoptions: profile must be one of "
                             f"{sorted(_PRINT_PROFILES)}, got {profile!r}")
        _print_options.update(_PRINT_PROFILES[profile])
    given = {"precision": precision, "threshold": threshold, "edgeitems": edgeitems,
             "linewidth": linewidth}
    for name, value in given.items():
        if value is not None:
            _print_options[name] = min(int(value), sys.maxsize) if value != math.inf \
                else sys.maxsize
    _print_options["sci_mode"] = sci_mode


def _is_dtype_name(value) -> bool:
    """True for dtype strings ("float64", "torch.float64"), false for device names."""
    if isinstance(value, _dtypes.device):
        return False
    try:
        _dtypes.as_dtype(value)
        return True
    except TypeError:
        return False


def _truncated_integer_division(a, b):
    """Integer a / b rounded toward zero (NumPy's // rounds toward minus infinity)."""
    quotient = np.floor_divide(a, b)
    inexact = (np.remainder(a, b) != 0) & ((np.asarray(a) < 0) != (np.asarray(b) < 0))
    return quotient + inexact.astype(quotient.dtype)


def _dims(dim):
    """PyTorch's dim argument (None, an int or a tuple) as NumPy's axis."""
    return tuple(dim) if isinstance(dim, list) else dim


def _data(value):
    return value.data if isinstance(value, Tensor) else value


def _shape_arg(shape) -> tuple:
    """Accept both f(2, 3) and f((2, 3))."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return tuple(int(n) for n in shape)


def _index_arg(index):
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, list):
        return np.asarray(index)
    if isinstance(index, tuple):
        return tuple(i.data if isinstance(i, Tensor) else
                     np.asarray(i) if isinstance(i, list) else i for i in index)
    return index


def _axis_args(axis, dim, keepdims, keepdim, op: str):
    """Merge NumPy's ``axis``/``keepdims`` with PyTorch's ``dim``/``keepdim``."""
    if dim is not None:
        if axis is not None:
            raise TypeError(f"{op}: give axis or dim, not both (got axis={axis!r}, "
                            f"dim={dim!r})")
        axis = dim
    if keepdim is not None:
        keepdims = bool(keepdims) or bool(keepdim)
    return axis, keepdims


def _correction_arg(correction, unbiased, op: str):
    if unbiased is not None:
        if correction not in (1, True):
            raise TypeError(f"{op}: give correction or unbiased, not both")
        correction = unbiased
    return int(correction) if isinstance(correction, bool) else correction


def normalize_single_axis(axis, shape, op: str) -> int:
    (axis,) = ops.normalize_axis(axis, shape, op)
    return axis


# --------------------------------------------------------------------------- functions


def where(condition, a=None, b=None):
    """``a`` where ``condition`` is true, else ``b`` (differentiable in ``a`` and ``b``).
    With the condition alone: the indices where it holds, one int64 tensor per dimension
    (``torch.where(cond)``, which is ``nonzero(as_tuple=True)``)."""
    if a is None and b is None:
        condition = condition if isinstance(condition, Tensor) else Tensor(condition)
        return condition.nonzero(as_tuple=True)
    if a is None or b is None:
        raise TypeError("where: give both the values where the condition holds and where it "
                        "does not, or only the condition")
    if isinstance(a, Tensor):
        a, b = a._operands(b)
    elif isinstance(b, Tensor):
        b, a = b._operands(a)
    return ops.Where.apply(_data(condition), a, b)


def cat(tensors, axis=None, *, dim=None) -> Tensor:
    """Join tensors along an existing axis (``axis`` or ``dim``, default 0)."""
    axis, _ = _axis_args(axis, dim, False, None, "cat")
    return ops.Cat.apply(*tensors, axis=0 if axis is None else axis)


def stack(tensors, axis=None, *, dim=None) -> Tensor:
    """Join tensors of one shape along a new axis (``axis`` or ``dim``, default 0)."""
    axis, _ = _axis_args(axis, dim, False, None, "stack")
    return ops.Stack.apply(*tensors, axis=0 if axis is None else axis)


def maximum(a, b) -> Tensor:
    return a.maximum(b) if isinstance(a, Tensor) else b.maximum(a)


def minimum(a, b) -> Tensor:
    return a.minimum(b) if isinstance(a, Tensor) else b.minimum(a)


def one_hot(labels, num_classes: int = -1) -> Tensor:
    """Integer class labels -> int64 one-hot rows (PyTorch's F.one_hot)."""
    labels = np.asarray(_data(labels))
    if labels.dtype.kind not in "iu":
        raise TypeError(f"one_hot: labels must be integers, got dtype {labels.dtype}")
    if num_classes < 0:
        num_classes = int(labels.max()) + 1 if labels.size else 0
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"one_hot: labels must lie in [0, {num_classes}), got values from "
                         f"{labels.min()} to {labels.max()}")
    out = np.zeros(labels.shape + (num_classes,), dtype=np.int64)
    np.put_along_axis(out, labels[..., None].astype(np.intp), 1, axis=-1)
    return Tensor._make(out, False)


Tensor.cat = staticmethod(cat)
Tensor.stack = staticmethod(stack)
Tensor.one_hot = staticmethod(one_hot)
