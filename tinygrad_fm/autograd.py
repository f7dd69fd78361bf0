"""The autograd engine: grad mode, Function/Context, unbroadcast and the backward pass.

A differentiable operation is a :class:`Function` subclass with two static methods::

    class Square(ArrayFunction):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return 2 * x * grad

``forward`` receives NumPy arrays (the ``.data`` of Tensor arguments; anything else is
passed through unchanged) and returns one array. ``backward`` receives the gradient of
the output and returns one gradient per positional argument of ``forward`` (a single
array when there is one argument), or ``None`` for arguments that need none.
``ctx.needs_input_grad[i]`` says whether argument ``i`` needs a gradient, so backward
can skip work nobody asked for. Gradients may have the broadcast (output) shape: the
engine sums them back to each input's shape in :func:`unbroadcast`, once, for all ops.
"""

from __future__ import annotations

import contextlib
import threading

import numpy as np

__all__ = [
    "ArrayFunction",
    "Context",
    "Function",
    "no_grad",
    "enable_grad",
    "set_grad_enabled",
    "is_grad_enabled",
    "unbroadcast",
    "backward",
]


# --------------------------------------------------------------------------- grad mode

class _GradMode(threading.local):
    enabled = True


_grad_mode = _GradMode()


def is_grad_enabled() -> bool:
    """True when operations record a graph for backward."""
    return _grad_mode.enabled


class set_grad_enabled(contextlib.ContextDecorator):
    """Turn graph recording on or off; usable as a context manager and a decorator."""

    def __init__(self, mode: bool):
        self.mode = bool(mode)
        self._previous: list[bool] = []

    def __enter__(self):
        self._previous.append(_grad_mode.enabled)
        _grad_mode.enabled = self.mode
        return self

    def __exit__(self, *exc):
        _grad_mode.enabled = self._previous.pop()
        return False


class no_grad(set_grad_enabled):
    """Inside ``with no_grad():`` (or a function decorated ``@no_grad()``) no graph is
    recorded and nothing is saved for backward. Also usable as a bare ``@no_grad``."""

    def __init__(self, func=None):
        super().__init__(False)
        self._func = func
        if func is not None:  # bare decorator: @no_grad
            self.__wrapped__ = func

    def __call__(self, *args, **kwargs):
        if self._func is not None:
            with no_grad():
                return self._func(*args, **kwargs)
        return super().__call__(*args, **kwargs)


class enable_grad(set_grad_enabled):
    """Re-enable graph recording inside a ``no_grad`` block."""

    def __init__(self, func=None):
        super().__init__(True)
        self._func = func

    def __call__(self, *args, **kwargs):
        if self._func is not None:
            with enable_grad():
                return self._func(*args, **kwargs)
        return super().__call__(*args, **kwargs)


# --------------------------------------------------------------------------- Function

class Context:
    """What one recorded operation keeps for its backward pass.

    Ops store arrays with :meth:`save_for_backward` and any other values as attributes.
    When no input needs a gradient the op is not recorded at all and its context is
    dropped right after forward, so nothing is kept alive.
    """

    def __init__(self, needs_input_grad: tuple):
        self.needs_input_grad = needs_input_grad
        self.saved_tensors: tuple = ()
        self.released = False

    def save_for_backward(self, *arrays) -> None:
        self.saved_tensors = arrays

    def release(self) -> None:
        """Free every buffer this op saved; backward through it afterwards is an error."""
        # The parents go too: they hold the intermediate activations.
        self.__dict__ = {"function": self.function, "parents": (), "needs_input_grad": (),
                         "saved_tensors": (), "released": True}


class ArrayFunction:
    """Base class of the built-in differentiable operations, which work on NumPy arrays;
    see the module docstring."""

    @staticmethod
    def forward(ctx, *args, **kwargs):  # pragma: no cover - abstract
        raise NotImplementedError

    @staticmethod
    def backward(ctx, grad):  # pragma: no cover - abstract
        raise NotImplementedError

    @classmethod
    def apply(cls, *args, **kwargs):
        arrays = []
        needs = []
        for arg in args:
            if isinstance(arg, _Tensor):
                arrays.append(arg.data)
                needs.append(arg.requires_grad)
            else:
                arrays.append(arg)
                needs.append(False)
        record = _grad_mode.enabled and True in needs
        ctx = Context(tuple(needs))
        out = cls.forward(ctx, *arrays, **kwargs)
        result = _Tensor._make(out, record)
        if record:
            ctx.function = cls
            ctx.parents = args
            result._ctx = ctx
        return result


Function = ArrayFunction  # the public name (torch.autograd.Function)

_Tensor = None  # tinygrad_fm.tensor.Tensor, bound when that module is imported


# --------------------------------------------------------------------------- engine

def unbroadcast(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum ``grad`` over the axes that broadcasting added or stretched to reach ``shape``."""
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra:
        grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return grad.reshape(shape)


def _topological_order(root) -> list:
    """Tensors that ``root`` depends on through recorded ops, inputs before outputs.

    Iterative depth-first search, so graphs of any depth work without recursion.
    """
    order = []
    visited = set()
    stack = [(root, False)]
    while stack:
        tensor, expanded = stack.pop()
        if expanded:
            order.append(tensor)
            continue
        if id(tensor) in visited:
            continue
        visited.add(id(tensor))
        stack.append((tensor, True))
        ctx = tensor._ctx
        if ctx is not None:
            for parent, needed in zip(ctx.parents, ctx.needs_input_grad):
                if needed and id(parent) not in visited:
                    stack.append((parent, False))
    return order


def backward(root, gradient: np.ndarray, retain_graph: bool = False) -> None:
    """Accumulate d(root)/d(leaf) * gradient into ``.grad`` of every leaf that requires grad.

    Each gradient is dropped as soon as it has been passed on, and (unless
    ``retain_graph``) each op's saved buffers are released once it has run.
    """
    order = _topological_order(root)
    grads = {id(root): gradient}
    with no_grad():
        for tensor in reversed(order):
            grad = grads.pop(id(tensor), None)
            if grad is None:
                continue
            ctx = tensor._ctx
            if ctx is None:
                _accumulate(tensor, grad)
                continue
            if tensor._retains_grad:
                _accumulate(tensor, grad)
            if ctx.released:
                raise RuntimeError(
                    f"Trying to backward through the graph a second time (through "
                    f"{ctx.function.__name__}): its saved buffers were freed after the "
                    "first backward. Pass retain_graph=True to the first backward() "
                    "call if you need to backpropagate through it again.")
            input_grads = ctx.function.backward(ctx, grad)
            if type(input_grads) is not tuple:
                input_grads = (input_grads,)
            for parent, needed, parent_grad in zip(ctx.parents, ctx.needs_input_grad,
                                                   input_grads):
                if not needed or parent_grad is None:
                    continue
                if parent_grad is grad:
                    # Passed through unchanged (add, expand): the array is held elsewhere
                    # too, so no leaf may take it as its own .grad.
                    parent_grad = grad.view()  # a view: a leaf will copy it
                if parent_grad.shape != parent.data.shape:
                    parent_grad = unbroadcast(parent_grad, parent.data.shape)
                key = id(parent)
                previous = grads.get(key)
                grads[key] = parent_grad if previous is None else previous + parent_grad
            if not retain_graph:
                ctx.release()


def _accumulate(tensor, grad) -> None:
    """Add ``grad`` into ``tensor.grad``, making sure the leaf owns its gradient array."""
    if grad.base is not None or not grad.flags.writeable or grad.dtype != tensor.data.dtype:
        grad = np.array(grad, dtype=tensor.data.dtype, copy=True)
    if tensor.grad is None:
        tensor.grad = _Tensor._make(grad, False)
    else:
        tensor.grad.data = tensor.grad.data + grad
