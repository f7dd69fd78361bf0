"""``torch.autograd.Function``: custom differentiable operations written with Tensors.

::

    class Exp(Function):
        @staticmethod
        def forward(ctx, x):              # Tensors in (run without recording) ...
            out = x.exp()
            ctx.save_for_backward(out)
            return out                    # ... a Tensor or a tuple of Tensors out

        @staticmethod
        def backward(ctx, grad):          # one gradient Tensor per output
            (out,) = ctx.saved_tensors
            return grad * out             # one Tensor (or None) per input of forward

    y = Exp.apply(x)

Also PyTorch's newer style: ``forward(*args)`` without ctx plus
``setup_context(ctx, inputs, output)``. ``ctx`` offers ``save_for_backward``,
``saved_tensors`` (checked against in-place changes), ``needs_input_grad``,
``mark_non_differentiable``, ``set_materialize_grads`` and ``mark_dirty``.

``backward`` runs without recording, except under ``create_graph=True``: then it is
recorded, so a backward written with Tensor ops can be differentiated again. A gradient
from a backward that was not recorded (it used ``.data`` or NumPy, or is decorated
``@once_differentiable``) raises, naming the Function, if differentiated again.
"""

from __future__ import annotations

import functools

import numpy as np

from . import (ArrayFunction, Context, bump_version, is_grad_enabled, no_grad,
               set_grad_enabled, share_version, version_of, _not_differentiable_tensor)

__all__ = ["Function", "FunctionCtx", "once_differentiable"]


def _tensor_class():
    from ..tensor import Tensor
    return Tensor


class FunctionCtx:
    """The ``ctx`` of a :class:`Function`: what forward leaves for backward."""

    saved_at = float("inf")  # the engine's check is ArrayFunction's; saved_tensors checks

    def __init__(self, function, needs_input_grad: tuple):
        self.function = function._node  # what the engine calls: see _FunctionNode
        self.needs_input_grad = needs_input_grad
        self.parents = ()
        self.released = False
        self.materialize_grads = True
        self.non_differentiable = set()
        self.dirty = ()
        self._saved = ()
        self._versions = ()

    def save_for_backward(self, *tensors) -> None:
        """Keep Tensors (or None) for backward; read them back as ``saved_tensors``."""
        Tensor = _tensor_class()
        for t in tensors:
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(f"{self.function.__name__}: save_for_backward takes Tensors "
                                f"(or None), got {type(t).__name__}; keep other values as "
                                "attributes of ctx")
        self._saved = tensors
        self._versions = tuple(None if t is None else version_of(t) for t in tensors)

    @property
    def saved_tensors(self) -> tuple:
        name = self.function.__name__
        if self.released:
            raise RuntimeError(
                f"Trying to backward through the graph a second time (through {name}): "
                "its saved tensors were freed after the first backward. Pass "
                "retain_graph=True to the first backward() call if you need to "
                "backpropagate through it again.")
        for i, (t, expected) in enumerate(zip(self._saved, self._versions)):
            if t is not None and version_of(t) != expected:
                raise RuntimeError(
                    "one of the variables needed for gradient computation has been "
                    f"modified by an inplace operation: [{t.dtype} tensor of shape "
                    f"{t.shape}], saved tensor {i} of {name}, is at version "
                    f"{version_of(t)}; expected version {expected} instead. Hint: change "
                    "a clone() of it in place instead, or change it after backward().")
        return tuple(self._saved)

    def mark_non_differentiable(self, *tensors) -> None:
        """These outputs get no gradient (their grad in backward is zeros)."""
        self.non_differentiable.update(id(t) for t in tensors)

    def mark_dirty(self, *tensors) -> None:
        """These inputs were changed in place by forward (their version is bumped)."""
        self.dirty = tensors

    def set_materialize_grads(self, value: bool) -> None:
        """With False, backward gets None (not zeros) for outputs that got no gradient."""
        self.materialize_grads = bool(value)

    def release(self) -> None:
        self._saved = ()
        self.parents = ()
        self.released = True


class _FunctionNode:
    """The graph node of one Function subclass (its ``grad_fn``, named after it): what
    the engine calls, with arrays (first order) or recorded Tensors (create_graph)."""

    function_class = None  # the Function subclass
    returns_view = False
    tensor_level = True  # its backward works on Tensors (tinygrad_fm.jit refuses these)

    @classmethod
    def name(cls) -> str:
        """``ExpBackward`` for a Function subclass ``Exp``, as PyTorch names it."""
        return cls.__name__ + "Backward"

    @staticmethod
    def backward(ctx, grad):
        return run_backward(ctx, grad, create_graph=False)

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        return run_backward(ctx, grad, create_graph=True)


class Function:
    """Base class of custom differentiable operations, as ``torch.autograd.Function``:
    subclass it with static ``forward`` and ``backward`` and call ``apply``."""

    _node = _FunctionNode

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._node = type(cls.__name__, (_FunctionNode,),
                         {"function_class": cls, "__qualname__": cls.__qualname__,
                          "__module__": cls.__module__})

    @staticmethod
    def forward(ctx, *args, **kwargs):  # pragma: no cover - abstract
        raise NotImplementedError("a Function subclass must define forward")

    @staticmethod
    def setup_context(ctx, inputs, output):
        """Newer style: ``forward(*args)`` without ctx, and this fills ctx."""
        raise NotImplementedError

    @staticmethod
    def backward(ctx, *grads):  # pragma: no cover - abstract
        raise NotImplementedError("a Function subclass must define backward")

    @classmethod
    def apply(cls, *args, **kwargs):
        Tensor = _tensor_class()
        needs = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        ctx = FunctionCtx(cls, needs)
        with no_grad():
            if cls.setup_context is not Function.setup_context:
                outputs = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, outputs)
            else:
                outputs = cls.forward(ctx, *args, **kwargs)
        items = outputs if isinstance(outputs, tuple) else (outputs,)
        for t in ctx.dirty:
            if t.requires_grad and t._ctx is None and is_grad_enabled():
                raise RuntimeError(f"{cls.__name__}: a leaf tensor that requires grad was "
                                   "changed in place (mark_dirty) by forward")
            bump_version(t)

        # Each output gets a Tensor of its own to carry the graph: an input returned
        # as it is becomes an alias (sharing memory and version counter).
        inputs = {id(a) for a in args if isinstance(a, Tensor)}
        results, replaced = [], {}
        for item in items:
            if isinstance(item, Tensor) and (id(item) in inputs or item._ctx is not None
                                             or item.requires_grad):
                alias = Tensor._make(item.data, False)
                share_version(alias, item)
                replaced[id(item)] = alias
                item = alias
            results.append(item)
        differentiable = [i for i, (item, original) in enumerate(zip(results, items))
                          if isinstance(item, Tensor) and item.dtype.kind in "fc"
                          and id(original) not in ctx.non_differentiable]
        if is_grad_enabled() and True in needs and differentiable:
            ctx.parents = args
            ctx.outputs = [(r.shape, r.dtype) if isinstance(r, Tensor) else None
                           for r in results]
            if replaced:
                ctx._saved = tuple(replaced.get(id(t), t) for t in ctx._saved)
            if len(results) == 1:
                results[0]._requires_grad = True
                results[0]._ctx = ctx
            else:
                # Several outputs: one hidden node runs backward once, with all of
                # their gradients (each output passes its own on as a slot of it).
                hidden = Tensor._make(np.zeros(()), True)
                hidden._ctx = ctx
                for i in differentiable:
                    select = Context((True,))
                    select.function = _Output
                    select.parents = (hidden,)
                    select.slot = (i, len(results))
                    results[i]._requires_grad = True
                    results[i]._ctx = select
        return tuple(results) if isinstance(outputs, tuple) else results[0]


class _GradSlots:
    """The gradients of a Function's outputs, one slot each (None: none arrived), summed
    slot by slot when the engine adds two of them."""

    __slots__ = ("slots",)
    shape = ()  # the engine compares it with the hidden node's 0-d array: no reduction

    def __init__(self, slots: list):
        self.slots = slots

    def __add__(self, other: "_GradSlots") -> "_GradSlots":
        return _GradSlots([a if b is None else b if a is None else a + b
                           for a, b in zip(self.slots, other.slots)])


class _Output(ArrayFunction):
    """Output i of a Function with several: passes its gradient to the hidden node."""

    @staticmethod
    def backward(ctx, grad):
        index, count = ctx.slot
        slots = [None] * count
        slots[index] = grad
        return _GradSlots(slots)

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        return _Output.backward(ctx, grad)


def run_backward(ctx, grad, create_graph: bool) -> tuple:
    """Call a Function's backward with Tensors; the engine's view of it: checked input
    gradients, arrays (or Tensors with ``create_graph``)."""
    Tensor = _tensor_class()
    function = ctx.function
    name = function.__name__
    grads = grad.slots if isinstance(grad, _GradSlots) else [grad]
    wrapped = []
    for g, meta in zip(grads, ctx.outputs):
        if g is None:
            if meta is not None and ctx.materialize_grads:
                g = Tensor._make(np.zeros(meta[0], dtype=meta[1]), False)
        elif not isinstance(g, Tensor):
            g = Tensor._make(g, False)
        wrapped.append(g)
    with set_grad_enabled(create_graph):
        result = function.function_class.backward(ctx, *wrapped)
    result = result if isinstance(result, tuple) else (result,)
    count = len(ctx.parents)
    if len(result) > count and all(r is None for r in result[count:]):
        result = result[:count]
    if len(result) != count:
        raise RuntimeError(f"function {name}.backward returned an incorrect number of "
                           f"gradients (expected {count}, got {len(result)}): one per "
                           "input of forward, None for inputs that need none")
    sources = [t for t in (*wrapped, *ctx.parents)
               if isinstance(t, Tensor) and t.requires_grad]
    checked = []
    for i, (g, parent, needed) in enumerate(zip(result, ctx.parents, ctx.needs_input_grad)):
        if g is None:
            checked.append(None)
            continue
        if not isinstance(parent, Tensor):
            raise RuntimeError(f"function {name}.backward returned a gradient different "
                               f"than None at position {i}, but the corresponding forward "
                               f"input was not a Tensor ({type(parent).__name__})")
        if not isinstance(g, Tensor):
            raise TypeError(f"function {name}.backward returned a {type(g).__name__} at "
                            f"position {i}; return Tensors (or None)")
        if not needed:
            checked.append(None)
            continue
        if g.shape != parent.shape:
            try:
                fits = np.broadcast_shapes(g.shape, parent.shape) == g.shape
            except ValueError:
                fits = False
            if not fits:
                raise RuntimeError(f"function {name}.backward returned an invalid gradient "
                                   f"at index {i} - got shape {g.shape} but expected shape "
                                   f"compatible with {parent.shape} (the shape of input "
                                   f"{i})")
        if g.dtype != parent.dtype:
            g = g.astype(parent.dtype)
        if not create_graph:
            checked.append(g.data)
        elif not g.requires_grad and sources:
            checked.append(_not_differentiable_tensor(
                g.data, sources, name, "its backward returned a gradient that was not "
                "recorded: it used .data, NumPy or detach(), or is @once_differentiable"))
        else:
            checked.append(g)
    return tuple(checked)


def once_differentiable(backward):
    """Decorate a Function's backward that is not differentiable itself (PyTorch's
    ``torch.autograd.function.once_differentiable``): it runs without recording, and
    differentiating its gradients again is an error naming the Function."""

    @functools.wraps(backward)
    def wrapper(ctx, *grads):
        with no_grad():
            return backward(ctx, *grads)

    return wrapper
