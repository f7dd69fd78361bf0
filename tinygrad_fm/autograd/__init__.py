"""The autograd engine: grad mode, the two kinds of differentiable function, and backward.

**Graph.** A Tensor made by a differentiable function while grad mode is on (and some
input requires grad) keeps a :class:`Context` in ``tensor._ctx``: the function, its
inputs (``ctx.parents``), ``ctx.needs_input_grad`` and whatever the function saved for
its backward. Leaves (tensors made by the user) have ``_ctx = None``.

**Two kinds of function.**

* :class:`ArrayFunction` -- the built-in ops. ``forward(ctx, *args)`` gets NumPy arrays
  (the ``.data`` of Tensor arguments; anything else unchanged) and returns one array;
  ``backward(ctx, grad)`` gets the output gradient as an array and returns one array (or
  None) per positional argument. Gradients may keep the broadcast (output) shape: the
  engine sums them back to each input's shape (:func:`unbroadcast`). Each op also has
  ``differentiable_backward(ctx, grad, inputs, output)``: the same formula written with
  Tensor ops on the Tensor ``grad``, the op's ``inputs`` (as given to ``apply``) and its
  ``output`` Tensor, so that a backward pass can itself be recorded.
  Ops whose output may be a view of their first input set ``returns_view``.
* :class:`Function` (``tinygrad_fm.autograd.function``) -- PyTorch's
  ``torch.autograd.Function`` for users: Tensors in, Tensors out, in forward and backward.
  Its graph node (``ctx.function``, a class named after it) has the two methods above
  and converts between arrays and Tensors, so the engine calls every function alike.

**Backward** (:func:`backward`, :func:`grad`, ``Tensor.backward``) visits the tensors the
outputs depend on in reverse topological order (iteratively: any depth works), sums the
gradients arriving at each tensor over every path, then passes them on through its
function. By default (``create_graph=False``) gradients are NumPy arrays, each function's
array ``backward`` runs with grad mode off, and each function's saved buffers are freed
once it has run (unless ``retain_graph``). With ``create_graph=True`` gradients are
Tensors, each function's ``differentiable_backward`` (a :class:`Function`'s ``backward``)
runs with grad mode on, so the gradients are themselves recorded and can be
differentiated again, to any order. A function that cannot be differentiated twice
gives gradients that raise, naming it, only if a later backward reaches them.

**Hooks.** ``Tensor.register_hook`` puts a function in the tensor's ``_hooks``; when
the summed gradient for that tensor is ready, each hook gets it (as a Tensor) in the
order registered and may return a replacement, before it reaches ``.grad`` or the
tensor's function. A tensor without hooks costs the engine one attribute check.

**Anomaly mode.** Under :class:`detect_anomaly` (or after ``set_detect_anomaly(True)``)
every gradient a function's backward returns is checked for NaN, and the first one
raises a RuntimeError naming the function by its ``grad_fn.name()`` (PyTorch's message).
Off, it costs the engine one module-level flag check per function run.

**In-place changes.** Every in-place write bumps the written tensor's version (shared
with its views, see ``Tensor._version``) and stamps it with a global write count. An op
that saves arrays records the write count at that moment; before its backward runs,
any of its inputs or its output whose array it saved and that was written since is an
error naming the op (PyTorch's check, paid only when something was written in place).
"""

from __future__ import annotations

import contextlib
import threading

import numpy as np

from .. import _recording

__all__ = [
    "ArrayFunction",
    "Context",
    "Function",
    "FunctionCtx",
    "no_grad",
    "enable_grad",
    "set_grad_enabled",
    "is_grad_enabled",
    "unbroadcast",
    "backward",
    "grad",
    "gradcheck",
    "gradgradcheck",
    "functional",
    "Variable",
    "detect_anomaly",
    "set_detect_anomaly",
    "is_anomaly_enabled",
    "is_anomaly_check_nan_enabled",
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


# --------------------------------------------------------------------------- ArrayFunction

class Context:
    """What one recorded :class:`ArrayFunction` call keeps for its backward pass.

    Ops store arrays with :meth:`save_for_backward` and any other values as attributes.
    When no input needs a gradient the op is not recorded at all and its context is
    dropped right after forward, so nothing is kept alive.
    """

    # The global write count when the op saved its arrays (ArrayFunction.apply sets
    # it); infinity: nothing saved, so nothing to check.
    saved_at = float("inf")

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

    # True for ops whose output may be a view of their first input's array (reshape,
    # transpose, expand, indexing): the output then shares the input's version counter.
    returns_view = False
    differentiable_backward = None  # (ctx, grad, inputs, output) -> Tensors; see above

    @staticmethod
    def forward(ctx, *args, **kwargs):  # pragma: no cover - abstract
        raise NotImplementedError

    @staticmethod
    def backward(ctx, grad):  # pragma: no cover - abstract
        raise NotImplementedError

    @classmethod
    def name(cls) -> str:
        """The node's name as PyTorch spells its grad_fn classes: the op's class name
        and ``Backward0`` (``MulBackward0``); ours are named after the ops, so some
        differ from PyTorch's (``MatMulBackward0`` where PyTorch says ``MmBackward0``)."""
        return cls.__name__ + "Backward0"

    @classmethod
    def apply(cls, *args, **kwargs):
        arrays = []
        needs = []
        for arg in args:
            if isinstance(arg, _Tensor):
                arrays.append(arg.data)
                needs.append(arg._requires_grad)
            else:
                arrays.append(arg)
                needs.append(False)
        record = _grad_mode.enabled and True in needs
        ctx = Context(tuple(needs))
        out = cls.forward(ctx, *arrays, **kwargs)
        result = _Tensor._make(out, record)
        if cls.returns_view:
            _share_version_if_view(result, args[0])
        if record:
            ctx.function = cls
            ctx.parents = args
            result._ctx = ctx
            if ctx.saved_tensors:
                ctx.saved_at = _writes
        if _recording.recorder is not None:  # tinygrad_fm.jit is recording a step
            _recording.recorder.apply(cls, args, kwargs, ctx, result)
        return result


_Tensor = None  # tinygrad_fm.tensor.Tensor, bound when that module is imported


# --------------------------------------------------------------------------- versions

_writes = 0  # in-place writes so far, all tensors together (a clock for the check)
_recent = [None] * 64  # the counters of the last 64 writes, at index (write count % 64)


class VersionCounter:
    """How many in-place writes a tensor's memory has had (``value``) and the global
    write count at the last one (``stamp``); shared by a tensor and its views. Tensors
    get one lazily: ``_versions`` is None (version 0) until the first write or view."""

    __slots__ = ("value", "stamp")

    def __init__(self):
        self.value = 0
        self.stamp = 0


def version_of(tensor) -> int:
    counter = tensor._versions
    return 0 if counter is None else counter.value


def bump_version(tensor) -> None:
    """Record an in-place write into ``tensor``'s array (and so into its views')."""
    global _writes
    counter = tensor._versions
    if counter is None:
        tensor._versions = counter = VersionCounter()
    _writes += 1
    counter.value += 1
    counter.stamp = _writes
    _recent[_writes & 63] = counter


def bump_versions(parameters) -> None:
    """:func:`bump_version` for each of ``parameters`` that has a gradient (an
    optimizer step, which updates exactly those in place)."""
    global _writes
    writes, recent = _writes, _recent
    for tensor in parameters:
        if tensor.grad is None:
            continue
        counter = tensor._versions
        if counter is None:
            tensor._versions = counter = VersionCounter()
        writes += 1
        counter.value += 1
        counter.stamp = writes
        recent[writes & 63] = counter
    _writes = writes


def share_version(view, base) -> None:
    """Make ``view`` (whose array is a view of ``base``'s) share ``base``'s counter."""
    counter = base._versions
    if counter is None:
        base._versions = counter = VersionCounter()
    view._versions = counter


def _share_version_if_view(result, base) -> None:
    if isinstance(base, _Tensor) and result.data.base is not None \
            and np.may_share_memory(result.data, base.data):
        share_version(result, base)


def _check_versions(ctx, output) -> None:
    """Raise if an array ``ctx`` saved belongs to its output or to one of its Tensor
    inputs and was written in place after it was saved (called only when some write
    happened since)."""
    for array in ctx.saved_tensors:
        if array is None:
            continue
        if array is output.data:
            index, tensor = -1, output
        else:
            found = [i for i, p in enumerate(ctx.parents)
                     if isinstance(p, _Tensor) and p.data is array]
            if not found:
                continue  # a private array of the op
            index = found[0]
            tensor = ctx.parents[index]
        counter = tensor._versions
        if counter is None or counter.stamp <= ctx.saved_at:
            continue
        since = range(ctx.saved_at + 1, _writes + 1)
        later = sum(1 for w in since[-len(_recent):] if _recent[w & 63] is counter)
        expected = f"{counter.value - later}" + (" or lower" if len(since) > len(_recent)
                                                 else "")
        if index < 0:
            which = f"output 0 of {ctx.function.__name__}"
        elif tensor._ctx is not None:
            which = f"output 0 of {tensor._ctx.function.__name__}"
        else:
            which = "a leaf tensor"
        raise RuntimeError(
            "one of the variables needed for gradient computation has been modified by an "
            f"inplace operation: [{tensor.dtype} tensor of shape {tensor.shape}], which is "
            f"{which}, is at version {counter.value}; expected version {expected} instead "
            f"(it is saved by {ctx.function.__name__} for its backward, as "
            f"{'its output' if index < 0 else f'input {index}'}). Hint: change a clone() "
            "of it in place instead, or change it after backward().")


# --------------------------------------------------------------------------- the engine

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


def _unbroadcast_tensor(grad, shape: tuple):
    """:func:`unbroadcast` with Tensor ops (recorded, for ``create_graph``)."""
    extra = grad.ndim - len(shape)
    stretched = tuple(range(extra)) + tuple(
        extra + i for i, n in enumerate(shape) if n == 1 and grad.shape[extra + i] != 1)
    if stretched:
        grad = grad.sum(stretched, keepdims=True)
    return grad.reshape(shape)


def _topological_order(roots) -> list:
    """Tensors that ``roots`` depend on through recorded ops, inputs before outputs.

    Iterative depth-first search, so graphs of any depth work without recursion.
    """
    order = []
    visited = set()
    stack = []
    for root in reversed(roots):
        stack.append((root, False))
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


def _leading_to(order: list, targets: set) -> set:
    """The ids of the tensors in ``order`` from which some target can be reached."""
    leading = set()
    for tensor in order:
        key = id(tensor)
        if key in targets:
            leading.add(key)
            continue
        ctx = tensor._ctx
        if ctx is not None and any(needed and id(parent) in leading for parent, needed
                                   in zip(ctx.parents, ctx.needs_input_grad)):
            leading.add(key)
    return leading


def _run(roots, root_grads, retain_graph: bool, create_graph: bool, targets=None,
         accumulate: bool = True) -> dict:
    """Backpropagate ``root_grads`` from ``roots``.

    ``targets`` None: accumulate into ``.grad`` of every leaf (and retain_grad tensor)
    that requires grad. Otherwise only the paths into the ``targets`` are followed, and
    their total gradients are returned by id (and accumulated into their ``.grad`` when
    ``accumulate``). Gradients are arrays, or recorded Tensors with ``create_graph``.
    """
    if _recording.recorder is not None:  # tinygrad_fm.jit records the backward pass
        return _recording.recorder.backward(roots, root_grads, retain_graph, create_graph,
                                            targets)
    order = _topological_order(roots)
    if len(roots) == 1:
        grads = {id(roots[0]): root_grads[0]}
    else:
        grads = {}
        for root, root_grad in zip(roots, root_grads):
            previous = grads.get(id(root))
            grads[id(root)] = root_grad if previous is None else previous + root_grad
    captured = {}
    if targets is not None:
        target_ids = {id(t) for t in targets}
        leading = _leading_to(order, target_ids)
        if not target_ids <= leading:
            # A freed op has no edges left to tell whether a target lies beyond it.
            for tensor in order:
                if tensor._ctx is not None and tensor._ctx.released:
                    _raise_released(tensor._ctx)
        order = [t for t in order if id(t) in leading]
    if create_graph:
        reduce, store = _unbroadcast_tensor, _accumulate_tensor
    else:
        reduce, store = unbroadcast, _accumulate
    with set_grad_enabled(create_graph):
        for tensor in reversed(order):
            key = id(tensor)
            grad = grads.pop(key, None)
            if grad is None:
                continue
            if tensor._hooks:  # None, or {} once every hook was removed
                grad = _run_hooks(tensor, grad, create_graph)
            ctx = tensor._ctx
            if targets is None:
                if ctx is None or tensor._retains_grad:
                    store(tensor, grad)
            elif key in target_ids:
                captured[key] = grad
                if accumulate:
                    store(tensor, grad)
            if ctx is None:
                continue
            if ctx.released:
                _raise_released(ctx)
            if _writes > ctx.saved_at:
                _check_versions(ctx, tensor)
            needs = ctx.needs_input_grad
            if targets is None:
                input_grads = _tensor_grads(ctx, grad, tensor) if create_graph \
                    else ctx.function.backward(ctx, grad)
            else:  # only the inputs that lead to a target need a gradient
                ctx.needs_input_grad = tuple(needed and id(parent) in leading for parent,
                                             needed in zip(ctx.parents, needs))
                try:
                    if True not in ctx.needs_input_grad:
                        continue
                    input_grads = _tensor_grads(ctx, grad, tensor) if create_graph \
                        else ctx.function.backward(ctx, grad)
                finally:
                    needs, ctx.needs_input_grad = ctx.needs_input_grad, needs
            if type(input_grads) is not tuple:
                input_grads = (input_grads,)
            if _anomaly_mode:
                _check_for_nan(ctx.function, input_grads)
            for parent, needed, parent_grad in zip(ctx.parents, needs, input_grads):
                if not needed or parent_grad is None:
                    continue
                if parent_grad is grad and not create_graph:
                    # Passed through unchanged (add, expand): the array is held elsewhere
                    # too, so no leaf may take it as its own .grad.
                    parent_grad = grad.view()  # a view: a leaf will copy it
                if parent_grad.shape != parent.data.shape:
                    parent_grad = reduce(parent_grad, parent.data.shape)
                parent_key = id(parent)
                previous = grads.get(parent_key)
                grads[parent_key] = parent_grad if previous is None else previous + parent_grad
            if not retain_graph:
                ctx.release()
    return captured


# --------------------------------------------------------------------------- anomaly mode

_anomaly_mode = False  # read once per function run by the engine: keep it a plain global


def is_anomaly_enabled() -> bool:
    return _anomaly_mode


def is_anomaly_check_nan_enabled() -> bool:
    return _anomaly_mode


def _check_for_nan(function, input_grads) -> None:
    for i, g in enumerate(input_grads):
        if g is None:
            continue
        values = g.data if isinstance(g, _Tensor) else g
        if np.asarray(values).dtype.kind in "fc" and np.isnan(values).any():
            raise RuntimeError(f"Function '{function.name()}' returned nan values in its "
                               f"{i}th output.")


class set_detect_anomaly(contextlib.ContextDecorator):
    """Turn anomaly mode on or off (``torch.autograd.set_detect_anomaly``): at once when
    called, as a function; as a context manager (or decorator), the previous mode comes
    back on exit. See the module docstring."""

    def __init__(self, mode: bool, check_nan: bool = True):
        global _anomaly_mode
        self._previous = _anomaly_mode
        _anomaly_mode = bool(mode) and bool(check_nan)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        global _anomaly_mode
        _anomaly_mode = self._previous
        return False


class detect_anomaly(contextlib.ContextDecorator):
    """Anomaly mode on inside the block (``torch.autograd.detect_anomaly``), usable as
    a decorator too: a backward that returns NaN raises, naming the function."""

    def __init__(self, check_nan: bool = True):
        self.check_nan = bool(check_nan)
        self._previous: list[bool] = []

    def __enter__(self):
        global _anomaly_mode
        import warnings

        warnings.warn("Anomaly Detection has been enabled. This mode will increase the "
                      "runtime and should only be enabled for debugging.", UserWarning,
                      stacklevel=2)
        self._previous.append(_anomaly_mode)
        _anomaly_mode = self.check_nan
        return self

    def __exit__(self, *exc):
        global _anomaly_mode
        _anomaly_mode = self._previous.pop()
        return False


def Variable(data, requires_grad: bool = False, volatile: bool = False):  # noqa: N802
    """``torch.autograd.Variable`` (merged into Tensor since PyTorch 0.4): a Tensor
    sharing ``data``'s memory, requiring grad when asked."""
    tensor = _Tensor._make(data.data, False) if isinstance(data, _Tensor) else _Tensor(data)
    if isinstance(data, _Tensor):
        share_version(tensor, data)
    return tensor.requires_grad_(requires_grad) if requires_grad else tensor


def add_hook(tensor, hook):
    """Register ``hook`` on ``tensor`` (``Tensor.register_hook``); the handle is the one
    module hooks use (PyTorch's ``RemovableHandle``): ``remove()`` drops the hook from
    the tensor's dict, and an empty dict is the engine's no-hook path again."""
    from ..nn.module import RemovableHandle  # nn builds on this module: import late

    if tensor._hooks is None:
        tensor._hooks = {}
    handle = RemovableHandle(tensor._hooks)
    tensor._hooks[handle.id] = hook
    return handle


def _run_hooks(tensor, grad, create_graph: bool):
    """``grad`` passed through ``tensor``'s hooks in the order registered; each gets the
    gradient as a Tensor and may return a replacement of the same shape."""
    for hook in tuple(tensor._hooks.values()):
        result = hook(grad if create_graph else _Tensor._make(grad, False))
        if result is None:
            continue
        if not isinstance(result, _Tensor):
            result = _Tensor._make(np.asarray(result, dtype=tensor.data.dtype), False)
        if result.dtype != tensor.data.dtype:
            raise RuntimeError(
                f"hook {getattr(hook, '__name__', hook)!r} changed the gradient's dtype from "
                f"{tensor.data.dtype} to {result.dtype}; return it in the tensor's dtype")
        if result.shape != tensor.data.shape:
            raise RuntimeError(
                f"hook {getattr(hook, '__name__', hook)!r} returned a gradient of shape "
                f"{result.shape} for a tensor of shape {tensor.data.shape}; a hook must "
                "return None or a gradient of the tensor's shape")
        grad = result if create_graph else result.data
    return grad


def _raise_released(ctx):
    raise RuntimeError(
        f"Trying to backward through the graph a second time (through "
        f"{ctx.function.__name__}): its saved buffers were freed after the first "
        "backward. Pass retain_graph=True to the first backward() call if you need to "
        "backpropagate through it again.")


def _tensor_grads(ctx, grad, output):
    """One function's input gradients as recorded Tensors (``create_graph``)."""
    function = ctx.function
    if function.differentiable_backward is None:
        return not_differentiable_twice(ctx, grad, function.__name__,
                                        "it has no differentiable_backward")
    input_grads = function.differentiable_backward(ctx, grad, ctx.parents, output)
    if type(input_grads) is not tuple:
        input_grads = (input_grads,)
    return tuple(_Tensor._make(np.asarray(g), False) if isinstance(g, (np.ndarray, np.generic))
                 else g for g in input_grads)


def not_differentiable_twice(ctx, grad, name: str, reason: str) -> tuple:
    """First-order gradients from the array backward, as Tensors that raise (naming
    the function) if a later backward reaches them."""
    with no_grad():
        array_grads = ctx.function.backward(ctx, grad.data)
    if type(array_grads) is not tuple:
        array_grads = (array_grads,)
    sources = [t for t in (grad, *ctx.parents) if isinstance(t, _Tensor) and t.requires_grad]
    return tuple(None if g is None else _not_differentiable_tensor(g, sources, name, reason)
                 for g in array_grads)


def _not_differentiable_tensor(array, sources, name, reason):
    if not sources:
        return _Tensor._make(array, False)
    result = _Tensor._make(np.asarray(array), True)
    ctx = Context((True,) * len(sources))
    ctx.function = _NotDifferentiableTwice
    ctx.parents = tuple(sources)
    ctx.message = (f"{name} cannot be differentiated twice ({reason}): a gradient that went "
                   f"through {name}'s backward with create_graph=True is being "
                   "differentiated again. Give it a backward written with Tensor ops "
                   "(differentiable_backward for an ArrayFunction).")
    result._ctx = ctx
    return result


class _NotDifferentiableTwice(ArrayFunction):
    """A gradient computed by a backward that was not recorded; reaching it is an error."""

    @staticmethod
    def backward(ctx, grad):
        raise RuntimeError(ctx.message)

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        raise RuntimeError(ctx.message)


def _accumulate(tensor, grad) -> None:
    """Add ``grad`` into ``tensor.grad``, making sure the leaf owns its gradient array."""
    if grad.base is not None or not grad.flags.writeable or grad.dtype != tensor.data.dtype:
        grad = np.array(grad, dtype=tensor.data.dtype, copy=True)
    if tensor.grad is None:
        tensor.grad = _Tensor._make(grad, False)
    else:
        tensor.grad.data = tensor.grad.data + grad


def _accumulate_tensor(tensor, grad) -> None:
    """``create_graph``: ``.grad`` becomes (or is added to, out of place) the recorded
    gradient, as in PyTorch, so it can be differentiated further."""
    if grad.dtype != tensor.data.dtype:
        grad = grad.astype(tensor.data.dtype)
    tensor.grad = grad if tensor.grad is None else tensor.grad + grad


# --------------------------------------------------------------------------- public API

def _as_tuple(value, name: str) -> tuple:
    if isinstance(value, _Tensor):
        return (value,)
    if value is None:
        return ()
    try:
        return tuple(value)
    except TypeError:
        raise TypeError(f"{name}: expected a Tensor or a sequence of Tensors, got "
                        f"{type(value).__name__}") from None


def _root_grads(outputs: tuple, grad_outputs, create_graph: bool, op: str) -> list:
    """Check the outputs and make the initial gradient of each (ones for scalars)."""
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    elif isinstance(grad_outputs, (_Tensor, np.ndarray)) or np.isscalar(grad_outputs):
        grad_outputs = (grad_outputs,)
    else:
        grad_outputs = tuple(grad_outputs)
    if len(grad_outputs) != len(outputs):
        raise RuntimeError(f"{op}: got {len(grad_outputs)} gradients for {len(outputs)} "
                           "outputs; give one per output (None for a scalar output)")
    root_grads = []
    for i, (output, given) in enumerate(zip(outputs, grad_outputs)):
        if not isinstance(output, _Tensor):
            raise TypeError(f"{op}: output {i} is a {type(output).__name__}, not a Tensor")
        if not output.requires_grad:
            raise RuntimeError(f"{op}: element {i} of the outputs does not require grad and "
                               "does not have a grad_fn: no input of its computation had "
                               "requires_grad=True (or it ran under no_grad())")
        if given is None:
            if output.data.size != 1:
                raise RuntimeError(
                    f"{op}: grad can be implicitly created only for scalar outputs, but "
                    f"output {i} has shape {output.shape}; pass a gradient of that shape "
                    "(grad_outputs / gradient=) or reduce it first, e.g. .sum()")
            given = np.ones_like(output.data)
        if create_graph:
            if not isinstance(given, _Tensor):
                given = _Tensor._make(np.array(given, dtype=output.data.dtype), False)
            elif given.dtype != output.data.dtype:
                given = given.astype(output.data.dtype)
            shape = given.shape
        else:
            given = np.array(given.data if isinstance(given, _Tensor) else given,
                             dtype=output.data.dtype, copy=True)
            shape = given.shape
        if shape != output.shape:
            raise RuntimeError(f"{op}: gradient has shape {shape} but output {i} has shape "
                               f"{output.shape}")
        root_grads.append(given)
    return root_grads


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph: bool = False,
             inputs=None) -> None:
    """``torch.autograd.backward``: accumulate the gradients of ``tensors`` (weighted by
    ``grad_tensors``) into ``.grad`` of the leaves that require grad, or with ``inputs``
    only into those tensors' ``.grad``. ``create_graph`` records the backward pass (the
    ``.grad`` values can then be differentiated); ``retain_graph`` (default:
    ``create_graph``) keeps the graph for another backward."""
    if isinstance(tensors, _Tensor) and grad_tensors is not None:
        grad_tensors = (grad_tensors,)
    outputs = _as_tuple(tensors, "backward")
    if retain_graph is None:
        retain_graph = create_graph
    root_grads = _root_grads(outputs, grad_tensors, create_graph, "backward")
    targets = None
    if inputs is not None:
        targets = _as_tuple(inputs, "backward")
        if not targets:
            raise RuntimeError("backward: inputs must not be empty (leave it None for all "
                               "leaves)")
        for i, t in enumerate(targets):
            if not isinstance(t, _Tensor) or not t.requires_grad:
                raise RuntimeError(f"backward: input {i} does not require grad")
    _run(outputs, root_grads, retain_graph, create_graph, targets, accumulate=True)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph: bool = False,
         only_inputs: bool = True, allow_unused=None, is_grads_batched: bool = False,
         materialize_grads: bool = False) -> tuple:
    """``torch.autograd.grad``: the gradients of ``outputs`` (weighted by
    ``grad_outputs``) with respect to each of ``inputs``, as a tuple; ``.grad`` is left
    alone. ``create_graph=True`` records them (differentiate them again for higher
    derivatives); ``retain_graph`` defaults to ``create_graph``. An input that the
    outputs do not depend on is an error unless ``allow_unused`` (its gradient is then
    None, or zeros with ``materialize_grads``)."""
    if is_grads_batched:
        raise NotImplementedError("grad: is_grads_batched=True is not supported; loop over "
                                  "the batch of grad_outputs instead")
    if allow_unused is None:
        allow_unused = materialize_grads
    elif materialize_grads and not allow_unused:
        raise ValueError("grad: materialize_grads=True needs allow_unused=True (or None)")
    if isinstance(outputs, _Tensor) and grad_outputs is not None:
        grad_outputs = (grad_outputs,)
    outputs = _as_tuple(outputs, "grad")
    targets = _as_tuple(inputs, "grad")
    if not targets:
        raise RuntimeError("grad requires at least one input")
    for i, t in enumerate(targets):
        if not isinstance(t, _Tensor):
            raise TypeError(f"grad: input {i} is a {type(t).__name__}, not a Tensor")
        if not t.requires_grad:
            raise RuntimeError(f"grad: input {i} (shape {t.shape}) does not require grad; "
                               "One of the differentiated Tensors does not require grad")
    if retain_graph is None:
        retain_graph = create_graph
    root_grads = _root_grads(outputs, grad_outputs, create_graph, "grad")
    captured = _run(outputs, root_grads, retain_graph, create_graph, targets,
                    accumulate=False)
    result = []
    for i, t in enumerate(targets):
        g = captured.get(id(t))
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    f"grad: input {i} (shape {t.shape}) appears to not have been used in "
                    "the graph (One of the differentiated Tensors appears to not have been "
                    "used in the graph). Set allow_unused=True if this is the desired "
                    "behavior.")
            result.append(_Tensor.zeros_like(t) if materialize_grads else None)
        elif create_graph:
            result.append(g if g.dtype == t.dtype else g.astype(t.dtype))
        else:
            if g.base is not None or not g.flags.writeable or g.dtype != t.dtype:
                g = np.array(g, dtype=t.dtype, copy=True)
            result.append(_Tensor._make(g, False))
    return tuple(result)


# Defined in submodules that need the names above; bound last.
from .function import Function, FunctionCtx, once_differentiable  # noqa: E402,F401
from ..gradcheck import gradcheck, gradgradcheck, GradcheckError  # noqa: E402,F401
from . import functional  # noqa: E402,F401
