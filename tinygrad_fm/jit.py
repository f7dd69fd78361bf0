"""Capture a training step once, replay it without the framework's Python overhead.

``tinygrad_fm.jit`` decorates a function of Tensors and arrays, typically a whole training
step, in the spirit of tinygrad's ``TinyJit``::

    @tinygrad_fm.jit
    def train_step(x, y):
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss

The first two calls with a given signature (the shape, dtype and ``requires_grad`` of each
Tensor or array argument, and the value of every other argument) run eagerly while the
array operations are recorded: each op's ``forward`` with where its inputs came from, the
backward pass (each op's ``backward``, the broadcast reductions, the gradient sums and the
accumulation into ``.grad``), and the calls of ``optimizer.step()``, ``zero_grad()`` and
the schedulers' ``step()``. The two recordings must agree (same ops, same constants), which
catches most Python that depends on values. From the third call on, the recording is
replayed: one generated Python function calls the ops' ``forward`` and ``backward`` on
arrays, with no Tensor, graph or topological sort, the inputs bound in place of the
recorded ones, and the parameters, gradients and optimizer state updated where they live.
A new signature (the last, smaller batch of an epoch) gets its own two recordings.

The replay computes exactly what the eager step computes (the same NumPy calls in the same
order, so bit-identical numbers). What it cannot see is refused at recording time, with
a :class:`CaptureError` that says what to change:

* reading a value (``.item()``, ``float()``, ``bool()``, ``if loss > 1:``, ``tolist()``)
  on any Tensor: return the value from the function and read it outside;
* random numbers drawn outside an op (``torch.randn`` in the step): ops that draw
  (dropout) draw again at every replay, from the same generator, so masks are fresh and
  the stream is the eager one;
* in-place Tensor arithmetic (``x += 1``, ``add_``) and custom ``Function``s;
* gradient clipping (``nn.utils.clip_grad_norm_``, ``clip_grad_value_``): capture the
  forward and backward pass, and clip and call ``optimizer.step()`` after the call;
* gradient hooks (``Tensor.register_hook``, a module's full backward hooks);
* Tensors or arrays made inside the function whose values change between calls
  (``Tensor(x.astype(...))``): make them from the arguments with Tensor ops, or pass them;
* anything else that differs between the two recordings (control flow on values).

Not seen, and not detectable, so left to the caller: other Python side effects inside the
function (they run during the two recording calls only), changing ``model.train()`` /
``eval()`` between calls (capture one function for each), rebinding a parameter's
``.data`` to a new array. The learning rate is read from the parameter groups at every
replay, so schedulers (inside or outside the function) work. Returned Tensors are
detached. Turn a captured function off with ``train_step.enabled = False`` (it then
always runs eagerly) and drop its recordings with ``train_step.reset()``.
"""

from __future__ import annotations

import functools

import numpy as np

from . import _recording
from . import autograd as _autograd
from . import random as _random
from .autograd import Context, no_grad, unbroadcast
from .tensor import Tensor

__all__ = ["jit", "CapturedFunction", "CaptureError"]

# The default generator, whose NumPy generator (``.rng``) the recorder watches.
_default_generator = _random.default_generator


class CaptureError(RuntimeError):
    """Something in a captured function that its replay could not reproduce."""


def jit(fn=None, *, enabled: bool = True):
    """Decorate ``fn`` (usable as ``@jit`` or ``@jit(enabled=False)``); see the module
    documentation."""
    if fn is None:
        return lambda f: CapturedFunction(f, enabled=enabled)
    return CapturedFunction(fn, enabled=enabled)


jit.CaptureError = CaptureError  # reachable as tinygrad_fm.jit.CaptureError


class CapturedFunction:
    """A function that records itself on its first two calls per signature and replays
    the recording afterwards (made by :func:`jit`)."""

    RECORDINGS = 2  # eager recording calls per signature before the replay

    def __init__(self, fn, enabled: bool = True):
        self.fn = fn
        self.enabled = enabled
        self._entries: dict = {}  # signature -> list of recordings, or a _Replay
        functools.update_wrapper(self, fn)

    def reset(self) -> None:
        """Forget every recording (the next calls record again)."""
        self._entries.clear()

    @property
    def captures(self) -> int:
        """How many signatures have a replay ready."""
        return sum(type(e) is _Replay for e in self._entries.values())

    def __call__(self, *args, **kwargs):
        if not self.enabled:
            return self.fn(*args, **kwargs)
        key, arrays, tensors = _signature(args, kwargs)
        entry = self._entries.get(key)
        if type(entry) is _Replay:
            return entry.run(arrays, tensors)
        if _recording.recorder is not None:
            raise CaptureError(f"{self.fn.__name__}: a captured function called inside "
                               "another one that is being recorded; capture only the outer one")
        recorder = _Recorder(arrays, tensors)
        outputs = recorder.run(self.fn, args, kwargs)
        recordings = [] if entry is None else entry
        recordings.append(recorder)
        if len(recordings) < self.RECORDINGS:
            self._entries[key] = recordings
        else:
            _check_same(recordings[0], recorder, self.fn.__name__)
            self._entries[key] = _Replay(recorder)
        return outputs

    def __repr__(self) -> str:
        return f"jit({self.fn!r}, captures={self.captures})"


def _signature(args, kwargs):
    """The cache key of a call, its array arguments and its Tensor arguments (by position
    among the arrays; None where the array was given bare)."""
    key = []
    arrays = []
    tensors = []
    for value in (*args, *kwargs.values()):
        if isinstance(value, Tensor):
            data = value.data
            key.append((data.shape, data.dtype, value.requires_grad))
            arrays.append(data)
            tensors.append(value)
        elif isinstance(value, np.ndarray):
            key.append((value.shape, value.dtype))
            arrays.append(value)
            tensors.append(None)
        else:
            try:
                hash(value)
            except TypeError:
                raise CaptureError(f"a captured function's arguments must be Tensors, "
                                   f"arrays or hashable values (they select the recording), "
                                   f"got a {type(value).__name__}") from None
            key.append(("value", type(value), value))
    if kwargs:
        key.append(tuple(kwargs))
    key.append(_autograd.is_grad_enabled())
    return tuple(key), arrays, tensors


# --------------------------------------------------------------------------- recording


class _CountingGenerator:
    """Stands in for the default generator while a step is recorded: draws go to the real
    generator (so the numbers are the eager ones) and are counted, so that the recorder
    can tell draws inside an op (replayed) from draws outside (refused)."""

    def __init__(self, generator, recorder):
        self._generator = generator
        self._recorder = recorder

    def __getattr__(self, name):
        attribute = getattr(self._generator, name)
        if not callable(attribute):
            return attribute

        def draw(*args, **kwargs):
            self._recorder.draws += 1
            return attribute(*args, **kwargs)

        return draw


class _Recorder:
    """One eager call of a captured function, recorded as a list of steps.

    A step is a tuple: ``("forward", cls, needs_input_grad, args, kwargs, out, scalar)``,
    ``("gradient", slot, array)`` (the root gradient of a backward call), ``("sum", slot,
    a, b)``, ``("backward", forward_index, grad_slot, returned, outs)`` (``returned``: the
    length of the tuple backward returned, None for a bare value; ``outs``: ``(index, slot,
    passed_on, shape, previous slot)`` per gradient kept), ``("store", target, slot)``
    (accumulate into a leaf's ``.grad``) or ``("call", obj, function, args)``. Values are
    described as ``("slot", n)`` (made during the call), ``("input", i)`` (the i-th array
    argument), ``("tensor", t)`` (a Tensor from outside, read at replay: parameters),
    ``("array", a)`` or ``("value", v)`` (constants).
    """

    def __init__(self, arrays, tensors):
        self.input_arrays = {id(a): i for i, a in enumerate(arrays)}
        self.input_tensors = {id(t): i for i, t in enumerate(tensors) if t is not None}
        self.slot_of_tensor: dict = {}
        self.slot_of_array: dict = {}
        self.forward_of_slot: dict = {}  # output slot -> index of its forward step
        self.alive: list = []  # what the ids above refer to stays alive while recording
        self.steps: list = []
        self.slots = 0
        self.draws = 0
        self.outputs = None

    def run(self, fn, args, kwargs):
        generator = _default_generator.rng
        counting = _CountingGenerator(generator, self)
        _default_generator.rng = counting
        _recording.recorder = self
        try:
            outputs = fn(*args, **kwargs)
            self._check_draws("after the last op")
        finally:
            _recording.recorder = None
            if _default_generator.rng is counting:
                _default_generator.rng = generator
        self.outputs = self._describe_outputs(outputs)
        return outputs

    # ----------------------------------------------------------------- hooks

    def _new_slot(self) -> int:
        self.slots += 1
        return self.slots - 1

    def describe(self, value):
        if isinstance(value, Tensor):
            slot = self.slot_of_tensor.get(id(value))
            if slot is None:  # a Tensor sharing a recorded array (detach(), an alias)
                slot = self.slot_of_array.get(id(value.data))
            if slot is not None:
                return ("slot", slot)
            index = self.input_arrays.get(id(value.data))
            if index is not None:
                return ("input", index)
            return ("tensor", value)
        if isinstance(value, np.ndarray):
            slot = self.slot_of_array.get(id(value))
            if slot is not None:
                return ("slot", slot)
            index = self.input_arrays.get(id(value))
            if index is not None:
                return ("input", index)
            # Replayed as this very array (a view of a buffer sees the buffer's updates);
            # the copy is what the next recording is compared with.
            return ("array", value, value.copy())
        if isinstance(value, (list, dict, set, bytearray)):
            raise CaptureError(
                f"an op got a {type(value).__name__} argument, which its forward may fill "
                "or read as a side channel that the replay cannot follow; pass arrays or "
                "Tensors instead, or run this step without tinygrad_fm.jit")
        return ("value", value)

    def _check_draws(self, where: str) -> None:
        if self.draws:
            raise CaptureError(
                f"random numbers were drawn outside an op ({where}), e.g. torch.randn or "
                "torch.rand in the captured function: the replay would reuse the same "
                "numbers. Draw them outside and pass them as an argument, or use an op that "
                "draws (F.dropout)")

    def apply(self, cls, args, kwargs, ctx, result) -> None:
        """Record one op's forward (called by ArrayFunction.apply after it ran)."""
        if self.draws and not getattr(cls, "draws_random", False):
            self._check_draws(f"before {cls.__name__}")
        self.draws = 0
        if getattr(cls, "tensor_level", False):
            raise CaptureError(f"{cls.__name__}: a custom autograd.Function cannot be "
                               "captured; run the step without tinygrad_fm.jit")
        described = tuple(self.describe(a) for a in args)
        kw = tuple((name, self.describe(v)) for name, v in kwargs.items())
        slot = self._new_slot()
        self.slot_of_tensor[id(result)] = slot
        self.slot_of_array[id(result.data)] = slot
        self.alive += (result, result.data)
        self.forward_of_slot[slot] = len(self.steps)
        # A 0-d result: forward may have returned a NumPy scalar, which _make wrapped.
        self.steps.append(("forward", cls, ctx.needs_input_grad, described, kw, slot,
                           result.data.ndim == 0))

    def backward(self, roots, gradients, retain_graph: bool, create_graph: bool = False,
                 targets=None) -> dict:
        """The engine's first-order backward pass from ``roots`` (with their
        ``gradients``) into every leaf's ``.grad``, run eagerly and recorded."""
        if create_graph or targets is not None:
            raise CaptureError(
                "create_graph=True, inputs= or autograd.grad() inside a captured function: "
                "only loss.backward() into the leaves' .grad is recorded; run this step "
                "without tinygrad_fm.jit")
        grads = {}
        for root, gradient in zip(roots, gradients):
            if self.slot_of_tensor.get(id(root)) is None:
                raise CaptureError("backward() from a tensor computed outside the captured "
                                   "function; compute it inside")
            gradient_slot = self._new_slot()
            self.steps.append(("gradient", gradient_slot, np.array(gradient, copy=True)))
            previous = grads.get(id(root))
            if previous is not None:
                total_slot = self._new_slot()
                self.steps.append(("sum", total_slot, previous[1], gradient_slot))
                gradient, gradient_slot = previous[0] + gradient, total_slot
            grads[id(root)] = (gradient, gradient_slot)
        with no_grad():
            for tensor in reversed(_topological_order(roots)):
                entry = grads.pop(id(tensor), None)
                if entry is None:
                    continue
                grad, grad_slot = entry
                if tensor._hooks:
                    raise CaptureError(
                        "a gradient hook (Tensor.register_hook) inside a captured step: the "
                        "replay would skip it; remove the hook or run this step without "
                        "tinygrad_fm.jit")
                ctx = tensor._ctx
                if ctx is None:
                    self._store(tensor, grad, grad_slot)
                    continue
                if tensor._retains_grad:
                    raise CaptureError("retain_grad() on a tensor inside a captured step "
                                       "is not supported; return the tensor instead")
                if getattr(ctx.function, "tensor_level", False):
                    raise CaptureError(f"{ctx.function.__name__}: a custom autograd.Function "
                                       "cannot be captured; run the step without "
                                       "tinygrad_fm.jit")
                if ctx.released:
                    raise RuntimeError(
                        f"Trying to backward through the graph a second time (through "
                        f"{ctx.function.__name__}): its saved buffers were freed after the "
                        "first backward. Pass retain_graph=True to the first backward() "
                        "call if you need to backpropagate through it again.")
                slot = self.slot_of_tensor.get(id(tensor))
                if slot is None:
                    raise CaptureError(
                        f"backward() reached {ctx.function.__name__}, an op run before the "
                        "captured function was called; build the whole graph inside it")
                input_grads = ctx.function.backward(ctx, grad)
                # How many values backward returned (None: one, not in a tuple), so that
                # the replay can unpack them.
                returned = len(input_grads) if type(input_grads) is tuple else None
                if returned is None:
                    input_grads = (input_grads,)
                outs = []
                for i, (parent, needed, parent_grad) in enumerate(
                        zip(ctx.parents, ctx.needs_input_grad, input_grads)):
                    if not needed or parent_grad is None:
                        continue
                    # The same code path returns the same object at every replay.
                    passed_on = parent_grad is grad
                    if passed_on:
                        parent_grad = grad.view()  # as the engine: a leaf copies it
                    shape = None
                    if parent_grad.shape != parent.data.shape:
                        shape = parent.data.shape
                        parent_grad = unbroadcast(parent_grad, shape)
                    out_slot = self._new_slot()
                    previous = grads.get(id(parent))
                    outs.append((i, out_slot, passed_on, shape,
                                 None if previous is None else previous[1]))
                    if previous is not None:
                        parent_grad = previous[0] + parent_grad
                    grads[id(parent)] = (parent_grad, out_slot)
                    self.alive.append(parent)
                self.steps.append(("backward", self.forward_of_slot[slot], grad_slot,
                                   returned, tuple(outs)))
                if not retain_graph:
                    ctx.release()
        return {}

    def _store(self, tensor, grad, grad_slot) -> None:
        index = self.input_tensors.get(id(tensor))
        target = ("input_tensor", index) if index is not None else ("tensor", tensor)
        if id(tensor) in self.slot_of_tensor:
            raise CaptureError("a gradient reached a tensor made inside the captured "
                               "function without an op; make it with ops or pass it in")
        self.steps.append(("store", target, grad_slot))
        _autograd._accumulate(tensor, grad)

    def call(self, function, obj, *args):
        """``function(obj, *args)`` (an optimizer's step, a scheduler's step, zero_grad),
        which works on persistent state: run now, and again, as a whole, at every replay."""
        name = _call_name(function, obj)
        self._check_draws(f"before {name}")
        for arg in args:
            if callable(arg) or (isinstance(arg, (Tensor, np.ndarray))
                                 and self.describe(arg)[0] in ("slot", "input")):
                raise CaptureError(
                    f"{name} got {'a closure' if callable(arg) else 'a value computed in '}"
                    f"{'' if callable(arg) else 'the step'}, which the replay cannot see; "
                    "call it outside the captured function")
        self.steps.append(("call", obj, function, args))
        _recording.recorder = None
        try:
            return function(obj, *args)
        finally:
            _recording.recorder = self

    def read_value(self, tensor, how: str) -> None:
        raise CaptureError(
            f"{how} on a Tensor of shape {tensor.shape} inside a captured function: the "
            "replay runs no Python, so values cannot steer it or be logged from inside. "
            "Return the tensor and read it after the call (e.g. loss.item())")

    def in_place(self, tensor, name: str) -> None:
        raise CaptureError(f"{name}: in-place Tensor arithmetic inside a captured function "
                           "is not recorded; write it out of place (x = x + y)")

    def _describe_outputs(self, outputs):
        if outputs is None or isinstance(outputs, Tensor):
            return self._describe_output(outputs)
        if isinstance(outputs, (tuple, list)):
            return (type(outputs), tuple(self._describe_output(o) for o in outputs))
        raise CaptureError(f"a captured function must return None, a Tensor or a tuple or "
                           f"list of them, got a {type(outputs).__name__}")

    def _describe_output(self, value):
        if value is None or isinstance(value, Tensor):
            return ("value", None) if value is None else self.describe(value)
        raise CaptureError(f"a captured function may return Tensors (and None), got a "
                           f"{type(value).__name__}: return a Tensor and convert it outside")


def _topological_order(roots) -> list:
    """The engine's order (autograd._topological_order), so sums of gradients add up in
    the same order as in the eager backward pass."""
    return _autograd._topological_order(roots)


def _call_name(function, obj) -> str:
    return f"{type(obj).__name__}.{function.__name__}()"


def _same_value(a, b) -> bool:
    kind = a[0]
    if kind != b[0]:
        return False
    if kind in ("slot", "input"):
        return a[1] == b[1]
    x, y = (a[2], b[2]) if kind == "array" else (a[1], b[1])
    if kind == "tensor":
        if x is y:
            return True
        x, y = x.data, y.data
    if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
        return (isinstance(x, np.ndarray) and isinstance(y, np.ndarray) and x.shape == y.shape
                and x.dtype == y.dtype and np.array_equal(x, y, equal_nan=x.dtype.kind in "fc"))
    try:
        return bool(x == y) or (x != x and y != y)
    except Exception:  # noqa: BLE001 - values that cannot be compared differ
        return False


def _what(step) -> str:
    kind = step[0]
    if kind == "forward":
        return step[1].__name__
    if kind == "call":
        return _call_name(step[2], step[1])
    return {"gradient": "backward()", "backward": "a backward step", "sum": "backward()",
            "store": "a gradient accumulation"}[kind]


def _check_same(first: _Recorder, second: _Recorder, name: str) -> None:
    """Raise CaptureError where the two recordings of one signature differ."""
    def fail(index, why):
        raise CaptureError(
            f"{name}: its two recorded calls differ at step {index} ({why}). The replay "
            "would repeat one of them whatever the data: Python control flow or values "
            "that depend on the data (or a constant made inside the function that "
            "changes) cannot be captured. Pass changing values as arguments, or run "
            "this function without tinygrad_fm.jit")

    for index, (a, b) in enumerate(zip(first.steps, second.steps)):
        if a[0] != b[0] or (a[0] == "forward" and a[1] is not b[1]) or \
                (a[0] == "call" and (a[1] is not b[1] or a[2] is not b[2])):
            fail(index, f"{_what(a)}, then {_what(b)}")
        kind = a[0]
        if kind == "forward":
            values_a = a[3] + tuple(v for _, v in a[4])
            values_b = b[3] + tuple(v for _, v in b[4])
            if a[2] != b[2] or [k for k, _ in a[4]] != [k for k, _ in b[4]]:
                fail(index, f"{_what(a)} with other arguments")
            for position, (x, y) in enumerate(zip(values_a, values_b)):
                if not _same_value(x, y):
                    fail(index, f"argument {position} of {_what(a)} changed")
        elif kind == "gradient":
            if not _same_value(("array", a[2], a[2]), ("array", b[2], b[2])):
                fail(index, "the gradient given to backward() changed")
        elif kind in ("backward", "sum"):
            if a[1:] != b[1:]:
                fail(index, f"{_what(a)} changed")
        elif kind == "store":
            if a[2] != b[2] or not _same_value(a[1], b[1]):
                fail(index, f"{_what(a)} changed")
        elif kind == "call":
            if len(a[3]) != len(b[3]) or not all(
                    _same_value(("value", x), ("value", y)) for x, y in zip(a[3], b[3])):
                fail(index, f"{_what(a)} with other arguments")
    if len(first.steps) != len(second.steps):
        fail(min(len(first.steps), len(second.steps)), "one call ran more steps")
    if not _same_outputs(first.outputs, second.outputs):
        fail(len(first.steps), "the returned values changed")


def _same_outputs(a, b) -> bool:
    if isinstance(a[0], type):
        return a[0] is b[0] and len(a[1]) == len(b[1]) and all(
            _same_value(x, y) for x, y in zip(a[1], b[1]))
    return _same_value(a, b)


# --------------------------------------------------------------------------- replay


def _lifetimes(recording: _Recorder):
    """``({slot: index of the last step reading it}, {forward index: index of the last
    step using its context}, slots returned by the function)``."""
    last_read, last_context_use = {}, {}
    for index, step in enumerate(recording.steps):
        kind = step[0]
        if kind == "forward":
            described = step[3] + tuple(v for _, v in step[4])
            reads = [value for kind_, value, *_ in described if kind_ == "slot"]
            last_context_use[index] = index
        elif kind == "sum":
            reads = [step[2], step[3]]
        elif kind == "backward":
            reads = [step[2]] + [previous for *_, previous in step[4] if previous is not None]
            last_context_use[step[1]] = index
        elif kind == "store":
            reads = [step[2]]
        else:
            reads = []
        for slot in reads:
            last_read[slot] = index
    outputs = recording.outputs
    described = outputs[1] if isinstance(outputs[0], type) else (outputs,)
    kept = {value for kind, value, *_ in described if kind == "slot"}
    return last_read, last_context_use, kept


class _Replay:
    """A recording turned into one generated Python function of the input arrays."""

    def __init__(self, recording: _Recorder):
        namespace = {"UB": unbroadcast, "ACC": _autograd._accumulate, "TENSOR": Tensor._make,
                     "AS": np.asarray}
        lines = []
        contexts = {}  # forward step index -> name of its Context
        # Free what the eager step frees when it does (each slot after its last use, each
        # op's saved arrays after its last backward), so that the allocator reuses the
        # same memory from step to step as the eager step does.
        last_read, last_context_use, kept = _lifetimes(recording)

        def name_of(obj, prefix):
            name = f"{prefix}{len(namespace)}"
            namespace[name] = obj
            return name

        def expression(described) -> str:
            kind, value = described[:2]
            if kind == "slot":
                return f"s{value}"
            if kind == "input":
                return f"I[{value}]"
            if kind == "tensor":
                return name_of(value, "E") + ".data"
            if kind == "value" and (value is None or type(value) in (bool, int, str)):
                return repr(value)
            return name_of(value, "K")

        for index, step in enumerate(recording.steps):
            kind = step[0]
            temporaries = []  # names bound by this step's line that die with it
            if kind == "forward":
                _, cls, needs, args, kwargs, out, scalar = step
                ctx = name_of(Context(needs), "C")
                contexts[index] = (ctx, cls)
                forward = name_of(cls.forward, "F")
                arguments = [ctx] + [expression(a) for a in args]
                arguments += [f"{k}={expression(v)}" for k, v in kwargs]
                call = f"{forward}({', '.join(arguments)})"
                lines.append(f"s{out} = AS({call})" if scalar else f"s{out} = {call}")
            elif kind == "gradient":
                lines.append(f"s{step[1]} = {name_of(step[2], 'K')}.copy()")
            elif kind == "sum":
                lines.append(f"s{step[1]} = s{step[2]} + s{step[3]}")
            elif kind == "backward":
                _, forward_index, grad_slot, returned, outs = step
                ctx, cls = contexts[forward_index]
                # Unpack the returned gradients straight into their slots ("_" for those
                # nobody needs), then finish the ones that need a view, an unbroadcast
                # or a sum with an earlier gradient of the same input.
                targets = ["_"] * (returned or 1)
                finishing = []
                for i, out_slot, passed_on, shape, previous in outs:
                    plain = not passed_on and shape is None and previous is None
                    targets[i] = f"s{out_slot}" if plain else f"g{i}"
                    if plain:
                        continue
                    value = f"g{i}.view()" if passed_on else f"g{i}"
                    if shape is not None:
                        value = f"UB({value}, {shape!r})"
                    if previous is not None:
                        value = f"s{previous} + {value}"
                    finishing.append(f"s{out_slot} = {value}")
                unpacked = targets[0] if returned is None else ", ".join(targets) + ","
                lines.append(f"{unpacked} = {name_of(cls.backward, 'B')}({ctx}, s{grad_slot})")
                lines += finishing
                temporaries = sorted({t for t in targets if t.startswith("g") or t == "_"})
            elif kind == "store":
                target_kind, target = step[1]
                target = f"T[{target}]" if target_kind == "input_tensor" \
                    else name_of(target, "E")
                lines.append(f"ACC({target}, s{step[2]})")
            elif kind == "call":
                _, obj, function, args = step
                replay = getattr(obj, "_replay_call", None)
                call = replay(function, args) if replay is not None else None
                if call is None:
                    call = functools.partial(function, obj, *args)
                lines.append(f"{name_of(call, 'CALL')}()")
            dead = temporaries + [f"s{slot}" for slot, last in last_read.items()
                                  if last == index and slot not in kept]
            if dead:
                lines.append(f"del {', '.join(dead)}")
            lines += [f"{contexts[forward][0]}.saved_tensors = ()"
                      for forward, last in last_context_use.items() if last == index]
        lines.append("return " + self._outputs(recording.outputs, expression))
        source = "def replay(I, T):\n" + "".join(f"    {line}\n" for line in lines)
        exec(compile(source, "<tinygrad_fm.jit replay>", "exec"), namespace)  # noqa: S102
        self.source = source
        self.run = namespace["replay"]

    @staticmethod
    def _outputs(outputs, expression) -> str:
        def one(described):
            kind, value = described[:2]
            if kind == "value":
                return repr(value)
            if kind == "tensor":
                return expression(described)[:-len(".data")]
            return f"TENSOR({expression(described)}, False)"

        if isinstance(outputs[0], type):
            items = ", ".join(one(o) for o in outputs[1])
            if outputs[0] is tuple:
                return f"({items},)" if outputs[1] else "()"
            return f"[{items}]"
        return one(outputs)
