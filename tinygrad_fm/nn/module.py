"""Parameter, Module and the containers Sequential, ModuleList and ModuleDict (PyTorch's
semantics)."""

from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from typing import NamedTuple

import numpy as np

from .. import _recording
from .. import dtypes as _dtypes
from ..autograd import ArrayFunction
from ..tensor import Tensor, _is_dtype_name

__all__ = ["Parameter", "Module", "Sequential", "ModuleList", "ModuleDict", "ParameterList",
           "ParameterDict", "StateDictError", "IncompatibleKeys", "RemovableHandle",
           "UninitializedParameter"]


class Parameter(Tensor):
    """A Tensor that a :class:`Module` registers as one of its learnable parameters.

    ``Parameter(data)`` shares ``data``'s memory when it is an ndarray or a Tensor, like
    ``Tensor(data)``; Python numbers and lists become float32. It requires grad unless
    ``requires_grad=False`` is passed (to freeze it).
    """

    __slots__ = ()

    def __init__(self, data, requires_grad: bool = True, dtype=None):
        if isinstance(data, Tensor):
            data = data.data
        super().__init__(data, requires_grad=requires_grad, dtype=dtype)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class UninitializedParameter(Parameter):
    """A parameter of a lazy module (``LazyLinear``) whose shape is not known until the
    first forward. :meth:`materialize` gives it an (uninitialised) array of the shape and
    turns it into a plain :class:`Parameter` in place, as PyTorch's: it stays the same
    object, so an optimizer built before the first forward updates it."""

    __slots__ = ()

    def __init__(self, requires_grad: bool = True, dtype=None):
        super().__init__(np.empty((0,), dtype=np.dtype(dtype or np.float32)), requires_grad)

    @property
    def shape(self):
        raise RuntimeError("Can't access the shape of an uninitialized parameter or buffer. "
                           "Call `forward` to initialize the parameters before accessing "
                           "their attributes.")

    def materialize(self, shape) -> None:
        self.data = np.empty(tuple(shape), dtype=self.data.dtype)
        self.__class__ = Parameter

    def __repr__(self) -> str:
        return "<UninitializedParameter>"


class StateDictError(RuntimeError, ValueError):
    """A state dict does not fit the module it is loaded into."""


class IncompatibleKeys(NamedTuple):
    missing_keys: list
    unexpected_keys: list


class RemovableHandle:
    """What ``register_*_hook`` returns: ``handle.remove()`` unregisters the hook (again is
    harmless); ``with handle:`` removes it on leaving the block, as PyTorch's."""

    _next_id = itertools.count()

    def __init__(self, hooks: dict):
        self.hooks_dict_ref = hooks
        self.id = next(RemovableHandle._next_id)

    def remove(self) -> None:
        self.hooks_dict_ref.pop(self.id, None)

    def __enter__(self) -> "RemovableHandle":
        return self

    def __exit__(self, *exc_info) -> None:
        self.remove()


def _add_hook(hooks: dict, hook, prepend: bool) -> RemovableHandle:
    if not callable(hook):
        raise TypeError(f"a hook must be callable, got {type(hook).__name__}")
    handle = RemovableHandle(hooks)
    hooks[handle.id] = hook
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    return handle


class _GradTap(ArrayFunction):
    """The identity, whose backward hands the gradient passing through to ``on_grad``
    (which may replace it): how full backward hooks see a module's input and output
    gradients without hooks in the engine (PyTorch's BackwardHookFunction)."""

    returns_view = True

    @staticmethod
    def forward(ctx, x, on_grad):
        ctx.on_grad = on_grad
        return x

    @staticmethod
    def backward(ctx, grad):
        return ctx.on_grad(grad, False), None

    @staticmethod
    def differentiable_backward(ctx, grad, inputs, output):
        return ctx.on_grad(grad, True), None


class _BackwardHookCall:
    """One forward call's full backward hooks: the output gradient arrives first (the
    pre-hooks may replace it), then each input's; once all the inputs that need a
    gradient have theirs, the hooks get ``(module, grad_input, grad_output)``."""

    def __init__(self, module: "Module", pre_hooks: list, hooks: list, input_count: int,
                 pending: int):
        self.module, self.pre_hooks, self.hooks = module, pre_hooks, hooks
        self.grad_input = [None] * input_count
        self.grad_output = None
        self.pending = pending

    @staticmethod
    def _as_tensor(grad):
        return grad if isinstance(grad, Tensor) else Tensor(grad)

    @staticmethod
    def _as_passed(grad, as_tensor: bool):
        """A hook's replacement gradient in the form the engine is passing on."""
        if as_tensor:
            return grad if isinstance(grad, Tensor) else Tensor(grad)
        return grad.data if isinstance(grad, Tensor) else np.asarray(grad)

    def on_output_grad(self, grad, as_tensor: bool):
        grad_output = (self._as_tensor(grad),)
        for hook in self.pre_hooks:
            result = hook(self.module, grad_output)
            if result is not None:
                grad_output = tuple(result) if isinstance(result, (tuple, list)) else (result,)
        self.grad_output = grad_output
        if self.pending == 0:  # no input needs a gradient: the hooks run now
            self._run_hooks()
        return self._as_passed(grad_output[0], as_tensor)

    def on_input_grad(self, index: int, grad, as_tensor: bool):
        self.grad_input[index] = self._as_tensor(grad)
        self.pending -= 1
        if self.pending:
            return grad
        replacement = self._run_hooks()
        if replacement is None:
            return grad
        return self._as_passed(replacement[index], as_tensor)

    def _run_hooks(self):
        grad_input = tuple(self.grad_input)
        replaced = None
        for hook in self.hooks:
            result = hook(self.module, grad_input, self.grad_output)
            if result is not None:
                result = tuple(result) if isinstance(result, (tuple, list)) else (result,)
                if len(result) != len(grad_input):
                    raise RuntimeError(f"backward hook returned {len(result)} gradients; "
                                       f"it must return one per input ({len(grad_input)}) "
                                       "or None")
                if sum(g is not None for g in grad_input) > 1:
                    raise NotImplementedError(
                        "a full backward hook replaced grad_input of a module called with "
                        "several inputs that need gradients; tinygrad_fm supports that for "
                        "one such input only (return None to only observe the gradients)")
                grad_input = replaced = result
        return replaced


def _add_indent(text: str, spaces: int) -> str:
    lines = text.split("\n")
    return "\n".join(lines[:1] + [" " * spaces + line for line in lines[1:]])


def _check_child_name(owner: "Module", name) -> None:
    if not isinstance(name, str):
        raise TypeError(f"module and parameter names must be strings, got "
                        f"{type(name).__name__} {name!r}")
    if not name or "." in name:
        raise KeyError(f"invalid name {name!r} in {type(owner).__name__}: names must be "
                       "non-empty and contain no '.' (dots separate nested names)")


class Module:
    """Base class of layers and models.

    Assigning a :class:`Parameter` or a Module as an attribute registers it, in
    definition order; ``parameters()``, ``state_dict()`` and the rest walk what was
    registered. Subclasses call ``super().__init__()`` first and define ``forward``.
    """

    training: bool

    def __init__(self):
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers", set())
        object.__setattr__(self, "_modules", OrderedDict())

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} has no forward(); define "
                                  "forward(self, ...) in the subclass")

    def __call__(self, *args, **kwargs):
        # Read through __dict__: a module built before hooks existed (an old pickle) or
        # half-built has no hook registries, and then simply has no hooks.
        registries = self.__dict__
        pre_hooks = registries.get("_forward_pre_hooks")
        hooks = registries.get("_forward_hooks")
        if not (pre_hooks or hooks or registries.get("_backward_hooks")
                or registries.get("_backward_pre_hooks")):
            return self.forward(*args, **kwargs)
        return self._call_with_hooks(args, kwargs, pre_hooks or {}, hooks or {})

    def _call_with_hooks(self, args: tuple, kwargs: dict, pre_hooks: dict, hooks: dict):
        """PyTorch's order and return-value rules: each pre-hook may replace the
        positional arguments (a non-tuple result becomes a 1-tuple), or with
        ``with_kwargs`` return ``(args, kwargs)``; each forward hook may replace the
        output; ``None`` keeps what was there."""
        kwargs_hooks = self.__dict__.get("_hooks_with_kwargs", set())
        for hook_id, hook in list(pre_hooks.items()):
            if hook_id in kwargs_hooks:
                result = hook(self, args, kwargs)
                if result is not None:
                    if not (isinstance(result, tuple) and len(result) == 2):
                        raise RuntimeError(f"forward pre-hook must return None or a tuple of "
                                           f"(new_args, new_kwargs), but got {result!r}.")
                    args, kwargs = result
            else:
                result = hook(self, args)
                if result is not None:
                    args = result if isinstance(result, tuple) else (result,)
        backward_call = self._setup_backward_hooks(args)
        if backward_call is not None:
            args = backward_call[1]
        try:
            output = self.forward(*args, **kwargs)
        except BaseException:
            # PyTorch's always_call: these hooks run even when forward raises (with
            # output None); the error then propagates.
            always = self.__dict__.get("_always_call_hooks", set())
            for hook_id, hook in list(hooks.items()):
                if hook_id in always:
                    if hook_id in kwargs_hooks:
                        hook(self, args, kwargs, None)
                    else:
                        hook(self, args, None)
            raise
        if backward_call is not None:
            output = self._tap_output(output, backward_call[0])
        for hook_id, hook in list(hooks.items()):
            if hook_id in kwargs_hooks:
                result = hook(self, args, kwargs, output)
            else:
                result = hook(self, args, output)
            if result is not None:
                output = result
        return output

    def _setup_backward_hooks(self, args: tuple):
        """(the call's :class:`_BackwardHookCall`, the args with each input that needs a
        gradient passed through a :class:`_GradTap`), or None without backward hooks or
        outside grad mode."""
        from ..autograd import is_grad_enabled

        hooks = list(self.__dict__.get("_backward_hooks", {}).values())
        pre_hooks = list(self.__dict__.get("_backward_pre_hooks", {}).values())
        if not (hooks or pre_hooks) or not is_grad_enabled():
            return None
        if _recording.recorder is not None:
            from ..jit import CaptureError

            raise CaptureError(f"{type(self).__name__} has full backward hooks, which run "
                               "Python during backward that a captured step would not "
                               "repeat; remove them (handle.remove()) or run without "
                               "tinygrad_fm.jit")
        tensor_positions = [i for i, arg in enumerate(args) if isinstance(arg, Tensor)]
        needing = [i for i in tensor_positions if args[i].requires_grad]
        call = _BackwardHookCall(self, pre_hooks, hooks, len(tensor_positions), len(needing))
        args = list(args)
        for slot, position in enumerate(tensor_positions):
            if position in needing:
                args[position] = _GradTap.apply(
                    args[position], lambda grad, as_tensor, slot=slot:
                    call.on_input_grad(slot, grad, as_tensor))
        return call, tuple(args)

    def _tap_output(self, output, call: _BackwardHookCall):
        if not isinstance(output, Tensor):
            raise NotImplementedError(
                f"full backward hooks on {type(self).__name__}: its forward returned "
                f"{type(output).__name__}; tinygrad_fm supports them on modules that "
                "return one Tensor")
        if not output.requires_grad:
            return output
        return _GradTap.apply(output, call.on_output_grad)

    def register_full_backward_hook(self, hook, prepend: bool = False) -> RemovableHandle:
        """Call ``hook(module, grad_input, grad_output)`` when the gradients with respect
        to the module's Tensor inputs have been computed (``grad_input`` has one entry
        per positional Tensor input, None where none is needed; ``grad_output`` one for
        the output). A non-None result replaces ``grad_input`` (supported when one input
        needs a gradient). Modules returning one Tensor; not inside tinygrad_fm.jit."""
        return self._register_hook("_backward_hooks", hook, prepend, False)

    def register_full_backward_pre_hook(self, hook,
                                        prepend: bool = False) -> RemovableHandle:
        """Call ``hook(module, grad_output)`` when the gradient with respect to the
        module's output arrives, before the module's own backward; a non-None result
        replaces ``grad_output``."""
        return self._register_hook("_backward_pre_hooks", hook, prepend, False)

    def _hook_registry(self, name: str) -> OrderedDict:
        registry = self.__dict__.get(name)
        if registry is None:
            registry = OrderedDict()
            object.__setattr__(self, name, registry)
        return registry

    def _register_hook(self, registry: str, hook, prepend: bool,
                       with_kwargs: bool) -> RemovableHandle:
        handle = _add_hook(self._hook_registry(registry), hook, prepend)
        if with_kwargs:
            self._hook_set("_hooks_with_kwargs").add(handle.id)
        return handle

    def _hook_set(self, name: str) -> set:
        """The ids of the hooks registered with an option (``with_kwargs``, ...)."""
        ids = self.__dict__.get(name)
        if ids is None:
            ids = set()
            object.__setattr__(self, name, ids)
        return ids

    def register_forward_pre_hook(self, hook, *, prepend: bool = False,
                                  with_kwargs: bool = False) -> RemovableHandle:
        """Call ``hook(module, args)`` before each forward; a non-None result replaces
        the positional arguments (a single value is wrapped in a tuple). With
        ``with_kwargs``: ``hook(module, args, kwargs)`` returning None or
        ``(args, kwargs)``. ``prepend`` runs it before the hooks already registered."""
        return self._register_hook("_forward_pre_hooks", hook, prepend, with_kwargs)

    def register_forward_hook(self, hook, *, prepend: bool = False, with_kwargs: bool = False,
                              always_call: bool = False) -> RemovableHandle:
        """Call ``hook(module, args, output)`` after each forward (``args`` as given to
        forward, after the pre-hooks); a non-None result replaces the output. With
        ``with_kwargs``: ``hook(module, args, kwargs, output)``. With ``always_call`` it
        also runs (with output None) when forward raises."""
        handle = self._register_hook("_forward_hooks", hook, prepend, with_kwargs)
        if always_call:
            self._hook_set("_always_call_hooks").add(handle.id)
        return handle

    # ------------------------------------------------------------ registration

    def _registries(self) -> dict:
        registries = self.__dict__
        if "_parameters" not in registries:
            raise AttributeError(f"cannot assign parameters or modules before "
                                 f"Module.__init__() has run: call super().__init__() "
                                 f"first in {type(self).__name__}.__init__")
        return registries

    def __setattr__(self, name: str, value) -> None:
        if isinstance(value, Parameter):
            self.register_parameter(name, value)
        elif isinstance(value, Module):
            self.add_module(name, value)
        elif "_parameters" in self.__dict__ and name in self._parameters:
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__} to parameter "
                                f"{name!r} of {type(self).__name__}: give an "
                                "nn.Parameter (or None)")
            self._parameters[name] = None
        elif "_modules" in self.__dict__ and name in self._modules:
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__} to submodule "
                                f"{name!r} of {type(self).__name__}: give a Module "
                                "(or None)")
            self._modules[name] = None
        elif "_buffers" in self.__dict__ and name in self._buffers:
            self._buffers[name] = self._buffer_value(name, value)
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str):
        # Only called when normal lookup fails; read the registries through __dict__ so
        # that a half-built object (copy.deepcopy, unpickling) cannot recurse here.
        registries = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            if registry in registries and name in registries[registry]:
                return registries[registry][name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __delattr__(self, name: str) -> None:
        for registry in ("_parameters", "_buffers", "_modules"):
            if name in self.__dict__.get(registry, ()):
                del self.__dict__[registry][name]
                self._non_persistent_buffers.discard(name)
                return
        object.__delattr__(self, name)

    def _forget(self, name: str) -> None:
        """Drop ``name`` from every registry and plain attribute before re-registering."""
        registries = self._registries()
        for registry in ("_parameters", "_buffers", "_modules"):
            registries[registry].pop(name, None)
        self._non_persistent_buffers.discard(name)
        registries.pop(name, None)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        registries = self._registries()
        _check_child_name(self, name)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot register {type(param).__name__} as parameter {name!r}: "
                            "wrap it as nn.Parameter(...)")
        if name not in registries["_parameters"]:
            self._forget(name)
        registries["_parameters"][name] = param

    def add_module(self, name: str, module: "Module | None") -> None:
        registries = self._registries()
        _check_child_name(self, name)
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        if name not in registries["_modules"]:
            self._forget(name)
        registries["_modules"][name] = module

    register_module = add_module

    def _buffer_value(self, name: str, value):
        if value is None or isinstance(value, Tensor):
            return value
        if isinstance(value, np.ndarray):
            return Tensor(value)
        raise TypeError(f"cannot assign {type(value).__name__} to buffer {name!r}: give a "
                        "Tensor, an ndarray or None")

    def register_buffer(self, name: str, tensor, persistent: bool = True) -> None:
        """Register state that is not learned (e.g. running statistics): it is saved in
        ``state_dict()`` when ``persistent`` but never returned by ``parameters()``."""
        registries = self._registries()
        _check_child_name(self, name)
        value = self._buffer_value(name, tensor)
        if name not in registries["_buffers"]:
            self._forget(name)
        registries["_buffers"][name] = value
        if persistent:
            self._non_persistent_buffers.discard(name)
        else:
            self._non_persistent_buffers.add(name)

    # ------------------------------------------------------------ lookup by dotted name

    def get_submodule(self, target: str) -> "Module":
        """The module at dotted path ``target`` (``""`` is this module)."""
        if target == "":
            return self
        module = self
        walked = []
        for item in target.split("."):
            if not isinstance(module, Module) or item not in module._modules or \
                    module._modules[item] is None:
                owner = ".".join(walked) or type(self).__name__
                if hasattr(module, item) and not isinstance(getattr(module, item), Module):
                    raise AttributeError(f"`{item}` is not an nn.Module (in {owner!r})")
                raise AttributeError(f"{type(module).__name__} has no attribute `{item}` "
                                     f"(looking up {target!r})")
            module = module._modules[item]
            walked.append(item)
        return module

    def get_parameter(self, target: str) -> Parameter:
        """The parameter at dotted path ``target`` (e.g. ``"encoder.0.weight"``)."""
        module_path, _, name = target.rpartition(".")
        module = self.get_submodule(module_path)
        if name not in module._parameters:
            if hasattr(module, name):
                raise AttributeError(f"`{name}` is not an nn.Parameter (looking up "
                                     f"{target!r})")
            raise AttributeError(f"{type(module).__name__} has no attribute `{name}` "
                                 f"(looking up {target!r})")
        return module._parameters[name]

    def get_buffer(self, target: str) -> Tensor:
        """The buffer at dotted path ``target`` (e.g. ``"bn.running_mean"``)."""
        module_path, _, name = target.rpartition(".")
        module = self.get_submodule(module_path)
        if name not in module._buffers:
            if hasattr(module, name):
                raise AttributeError(f"`{name}` is not a buffer (looking up {target!r})")
            raise AttributeError(f"{type(module).__name__} has no attribute `{name}` "
                                 f"(looking up {target!r})")
        return module._buffers[name]

    # ------------------------------------------------------------ traversal

    def named_modules(self, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, "Module"]]:
        """This module and every module below it, each once, with dotted names."""
        seen = set()
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if remove_duplicate:
                if id(module) in seen:
                    continue
                seen.add(id(module))
            yield name, module
            children = [(f"{name}.{child_name}" if name else child_name, child)
                        for child_name, child in module._modules.items() if child is not None]
            stack.extend(reversed(children))

    def modules(self) -> Iterator["Module"]:
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, "Module"]]:
        seen = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self) -> Iterator["Module"]:
        for _, module in self.named_children():
            yield module

    def _named_members(self, registry: str, prefix: str, recurse: bool,
                       remove_duplicate: bool):
        seen = set()
        owners = self.named_modules(prefix, remove_duplicate) if recurse else [(prefix, self)]
        for owner_name, owner in owners:
            for name, member in getattr(owner, registry).items():
                if member is None or (remove_duplicate and id(member) in seen):
                    continue
                seen.add(id(member))
                yield (f"{owner_name}.{name}" if owner_name else name), member

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        """``("encoder.1.bias", param)`` pairs; a shared parameter comes once."""
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    def apply(self, fn) -> "Module":
        """Call ``fn(module)`` on every submodule (children first) and on self."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------ modes and grads

    def train(self, mode: bool = True) -> "Module":
        if not isinstance(mode, bool):
            raise TypeError(f"train(mode) expects a bool, got {type(mode).__name__}")
        for module in self.modules():
            module.training = mode
        return self

    def eval(self) -> "Module":
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> "Module":
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        if _recording.recorder is not None:  # tinygrad_fm.jit: replayed as a whole
            return _recording.recorder.call(Module.zero_grad, self, set_to_none)
        for param in self.parameters():
            if param.grad is None:
                continue
            if set_to_none:
                param.grad = None
            else:
                param.grad.data[...] = 0

    def to(self, *args, dtype=None, device=None, non_blocking=False) -> "Module":
        """``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(tensor)`` (its dtype),
        as ``torch.nn.Module.to``: floating parameters and buffers take the dtype (their
        arrays are replaced, so do this before creating an optimizer); only the CPU
        exists, so another device raises an error naming it."""
        for arg in args:
            if isinstance(arg, Tensor):
                dtype = arg.dtype
            elif isinstance(arg, (str, _dtypes.device)) and not _is_dtype_name(arg):
                device = arg
            else:
                dtype = arg
        _dtypes.check_device(device, "Module.to")
        if dtype is None:
            return self
        dtype = _dtypes.as_dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"Module.to: dtype must be floating point, got {dtype}")
        return self._convert_floating(dtype)

    def _convert_floating(self, dtype) -> "Module":
        for member in list(self.parameters()) + list(self.buffers()):
            if member.data.dtype.kind == "f" and member.data.dtype != dtype:
                member.data = member.data.astype(dtype)
                if member.grad is not None:
                    member.grad = None
        return self

    def float(self) -> "Module":
        return self._convert_floating(np.dtype(np.float32))

    def double(self) -> "Module":
        return self._convert_floating(np.dtype(np.float64))

    def half(self) -> "Module":
        return self._convert_floating(np.dtype(np.float16))

    def cpu(self) -> "Module":
        return self

    def cuda(self, device=None) -> "Module":
        _dtypes.check_device("cuda", "Module.cuda")
        return self

    # ------------------------------------------------------------ state dict

    def _state_members(self):
        """(dotted name, tensor) for every parameter and persistent buffer, duplicates
        included (so a checkpoint of tied weights loads into untied copies too)."""
        for owner_name, owner in self.named_modules(remove_duplicate=False):
            dot = owner_name + "." if owner_name else ""
            for name, param in owner._parameters.items():
                if param is not None:
                    yield dot + name, param
            for name, buffer in owner._buffers.items():
                if buffer is not None and name not in owner._non_persistent_buffers:
                    yield dot + name, buffer

    def state_dict(self) -> "OrderedDict[str, Tensor]":
        """Dotted name -> the parameter (or persistent buffer) as a detached Tensor that
        shares its memory, as in PyTorch (so a later update shows in it: copy it, e.g.
        ``copy.deepcopy(model.state_dict())``, to keep a snapshot)."""
        return OrderedDict((name, member.detach()) for name, member in self._state_members())

    def load_state_dict(self, state_dict: Mapping, strict: bool = True) -> IncompatibleKeys:
        """Copy the arrays of ``state_dict`` into this module's parameters and buffers.

        Values are written in place (``param.data[...] = value``), so optimizers that
        hold the parameters keep working. Nothing is written unless everything fits:
        shape and dtype mismatches always raise :class:`StateDictError`; missing and
        unexpected keys raise when ``strict`` and are returned otherwise.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"load_state_dict expects a mapping of names to arrays, got "
                            f"{type(state_dict).__name__}")
        members = dict(self._state_members())
        missing = [name for name in members if name not in state_dict]
        unexpected = [name for name in state_dict if name not in members]
        mismatches = []
        values = {}
        for name, member in members.items():
            if name not in state_dict:
                continue
            value = state_dict[name]
            value = np.asarray(value.data if isinstance(value, Tensor) else value)
            if value.shape != member.data.shape:
                mismatches.append(f"size mismatch for {name}: copying a param with shape "
                                  f"{value.shape} from checkpoint, the shape in current "
                                  f"model is {member.data.shape}.")
            elif not np.can_cast(value.dtype, member.data.dtype, casting="same_kind"):
                mismatches.append(f"dtype mismatch for {name}: cannot copy {value.dtype} "
                                  f"from checkpoint into {member.data.dtype}.")
            values[name] = value
        errors = list(mismatches)
        if strict and unexpected:
            errors.insert(0, "Unexpected key(s) in state_dict: "
                          + ", ".join(f'"{k}"' for k in unexpected) + ".")
        if strict and missing:
            errors.insert(0, "Missing key(s) in state_dict: "
                          + ", ".join(f'"{k}"' for k in missing) + ".")
        if errors:
            raise StateDictError(f"Error(s) in loading state_dict for {type(self).__name__}:"
                                 + "".join("\n\t" + e for e in errors))
        for name, value in values.items():
            np.copyto(members[name].data, value, casting="same_kind")
        return IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------ repr

    def extra_repr(self) -> str:
        """The text inside this module's parentheses in ``repr`` (its settings)."""
        return ""

    def __repr__(self) -> str:
        extra = self.extra_repr()
        lines = extra.split("\n") if extra else []
        for name, module in self._modules.items():
            lines.append(f"({name}): " + _add_indent(repr(module), 2))
        if not self._modules and len(lines) <= 1:
            return f"{type(self).__name__}({extra})"
        return f"{type(self).__name__}(\n  " + "\n  ".join(lines) + "\n)"

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._parameters) | set(self._buffers)
                      | set(self._modules))


def _index(container: Module, index: int) -> int:
    size = len(container)
    if not isinstance(index, (int, np.integer)) or isinstance(index, bool):
        raise TypeError(f"{type(container).__name__} indices must be integers or slices, "
                        f"got {type(index).__name__}")
    if not -size <= index < size:
        raise IndexError(f"index {index} is out of range for {type(container).__name__} "
                         f"of length {size}")
    return int(index) % size


class Sequential(Module):
    """Modules applied one after another: ``Sequential(Linear(4, 8), ReLU(), ...)``, or
    ``Sequential(OrderedDict(name=module, ...))`` for named steps."""

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], Mapping):
            for name, module in modules[0].items():
                self._check_module(module)
                self.add_module(name, module)
        else:
            for i, module in enumerate(modules):
                self._check_module(module)
                self.add_module(str(i), module)

    def _check_module(self, module) -> None:
        if not isinstance(module, Module):
            raise TypeError(f"{type(self).__name__} holds Modules, got "
                            f"{type(module).__name__}")

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __getitem__(self, index):
        if isinstance(index, slice):
            return type(self)(OrderedDict(list(self._modules.items())[index]))
        return list(self._modules.values())[_index(self, index)]

    def __setitem__(self, index, module: Module) -> None:
        self._check_module(module)
        name = list(self._modules)[_index(self, index)]
        self._modules[name] = module

    def append(self, module: Module) -> "Sequential":
        self._check_module(module)
        self.add_module(str(len(self)), module)
        return self

    def forward(self, input):
        for module in self._modules.values():
            input = module(input)
        return input


class ModuleList(Module):
    """A list of modules whose parameters are registered (a plain list's are not)."""

    def __init__(self, modules: Iterable[Module] | None = None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __getitem__(self, index):
        if isinstance(index, slice):
            return type(self)(list(self._modules.values())[index])
        return self._modules[str(_index(self, index))]

    def __setitem__(self, index, module: Module) -> None:
        self.add_module(str(_index(self, index)), module)

    def append(self, module: Module) -> "ModuleList":
        if not isinstance(module, Module):
            raise TypeError(f"ModuleList holds Modules, got {type(module).__name__}")
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> "ModuleList":
        for module in modules:
            self.append(module)
        return self

    def __repr__(self) -> str:
        """As PyTorch's: runs of identical entries print once, as ``(0-5): 6 x Layer(...)``."""
        if not self._modules:
            return "ModuleList()"
        runs = []  # [first index, last index, repr]
        for i, module in enumerate(self._modules.values()):
            text = repr(module)
            if runs and runs[-1][2] == text:
                runs[-1][1] = i
            else:
                runs.append([i, i, text])
        lines = [_add_indent(f"({first}): {text}" if first == last else
                             f"({first}-{last}): {last - first + 1} x {text}", 2)
                 for first, last, text in runs]
        return "ModuleList(\n  " + "\n  ".join(lines) + "\n)"


class ModuleDict(Module):
    """A dict of modules whose parameters are registered under their keys, in insertion
    order: ``ModuleDict({"encoder": Linear(4, 2), "head": Linear(2, 1)})`` has parameters
    ``encoder.weight``, ..., ``head.bias``.

    Built from a mapping or an iterable of ``(key, module)`` pairs. Supports ``[key]``
    (get, set, delete), ``in``, ``len``, iteration over the keys, ``keys/values/items``,
    ``update``, ``pop`` and ``clear``. Assigning an existing key replaces its module in
    place (the order is kept). Keys are non-empty strings without ``"."`` that are not
    already attributes of the ModuleDict (``"keys"``, ``"training"``, ...), as in PyTorch.
    """

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        try:
            return self._modules[key]
        except KeyError:
            raise KeyError(f"{key!r} is not in this ModuleDict (its keys are "
                           f"{list(self._modules)})") from None

    def __setitem__(self, key: str, module: Module) -> None:
        _check_child_name(self, key)
        if key not in self._modules and hasattr(self, key):
            raise KeyError(f"attribute {key!r} already exists: ModuleDict keys cannot be "
                           "the names of its attributes or methods; choose another key")
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        self[key]  # a clear KeyError for a missing key
        del self._modules[key]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __contains__(self, key) -> bool:
        return key in self._modules

    def keys(self):
        return self._modules.keys()

    def values(self):
        return self._modules.values()

    def items(self):
        return self._modules.items()

    def clear(self) -> None:
        """Remove every module."""
        self._modules.clear()

    def pop(self, key: str) -> Module:
        """Remove ``key`` and return its module."""
        module = self[key]
        del self[key]
        return module

    def update(self, modules) -> None:
        """Add or replace modules from a mapping (in its order) or an iterable of
        ``(key, module)`` pairs."""
        if not isinstance(modules, Iterable):
            raise TypeError(f"ModuleDict.update should be called with a mapping or an "
                            f"iterable of key/value pairs, but got {type(modules).__name__}")
        if isinstance(modules, (Mapping, ModuleDict)):
            for key, module in modules.items():
                self[key] = module
            return
        for j, pair in enumerate(modules):
            if not isinstance(pair, Iterable) or isinstance(pair, str):
                raise TypeError(f"ModuleDict update sequence element #{j} should be a "
                                f"(key, module) pair; is {type(pair).__name__}")
            pair = tuple(pair)
            if len(pair) != 2:
                raise ValueError(f"ModuleDict update sequence element #{j} has length "
                                 f"{len(pair)}; 2 is required (key, module)")
            self[pair[0]] = pair[1]


def _as_parameter(value):
    """A Tensor or ndarray stored in a ParameterList/ParameterDict becomes a Parameter
    (PyTorch converts plain tensors too); a Parameter is kept as it is."""
    if isinstance(value, Parameter):
        return value
    if isinstance(value, (Tensor, np.ndarray)):
        return Parameter(value)
    return value


# PyTorch's legacy tensor type names, which ParameterDict's repr prints (without "torch.").
_LEGACY_TYPE_NAMES = {"float32": "FloatTensor", "float64": "DoubleTensor",
                      "float16": "HalfTensor", "int64": "LongTensor", "int32": "IntTensor",
                      "int16": "ShortTensor", "int8": "CharTensor", "uint8": "ByteTensor",
                      "bool": "BoolTensor"}


def _parameter_lines(items, legacy_type_names: bool = False) -> str:
    """PyTorch's listing of a ParameterList (dtype names) or ParameterDict (legacy type
    names): one line per entry."""
    lines = []
    for key, value in items:
        if isinstance(value, Tensor):
            kind = "Parameter" if isinstance(value, Parameter) else "Tensor"
            size = "x".join(str(n) for n in value.shape)
            dtype = str(value.dtype)
            if legacy_type_names:
                dtype = _LEGACY_TYPE_NAMES.get(dtype, dtype)
            lines.append(f"  ({key}): {kind} containing: [{dtype} of size {size}]")
        else:
            lines.append(f"  ({key}): Object of type: {type(value).__name__}")
    return "\n".join(lines)


class ParameterList(Module):
    """A list of parameters that are registered (a plain list's are not), under the keys
    ``"0"``, ``"1"``, ... as in PyTorch's ``state_dict``. Tensors and ndarrays put in it
    become Parameters."""

    def __init__(self, values: Iterable | None = None):
        super().__init__()
        object.__setattr__(self, "_size", 0)
        if values is not None:
            self.extend(values)

    def __len__(self) -> int:
        return self._size

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __getitem__(self, index):
        if isinstance(index, slice):
            return type(self)(list(self)[index])
        return getattr(self, str(_index(self, index)))

    def __setitem__(self, index, value) -> None:
        setattr(self, str(_index(self, index)), _as_parameter(value))

    def append(self, value) -> "ParameterList":
        object.__setattr__(self, "_size", self._size + 1)
        self[self._size - 1] = value
        return self

    def extend(self, values: Iterable) -> "ParameterList":
        if not isinstance(values, Iterable) or isinstance(values, Tensor):
            raise TypeError(f"ParameterList.extend should be called with an iterable, but got "
                            f"{type(values).__name__}")
        for value in values:
            self.append(value)
        return self

    def __iadd__(self, values: Iterable) -> "ParameterList":
        return self.extend(values)

    def __dir__(self):
        return [key for key in super().__dir__() if not key.isdigit()]

    def extra_repr(self) -> str:
        return _parameter_lines(enumerate(self))


class ParameterDict(Module):
    """A dict of parameters that are registered under their keys (in insertion order),
    as PyTorch's. Tensors and ndarrays put in it become Parameters. Supports ``[key]``
    (get, set, delete), ``in``, ``len``, iteration over the keys, ``keys/values/items``,
    ``get``, ``setdefault``, ``update``, ``pop``, ``popitem``, ``clear`` and ``copy``."""

    def __init__(self, parameters=None):
        super().__init__()
        object.__setattr__(self, "_keys", {})
        if parameters is not None:
            self.update(parameters)

    def __getitem__(self, key: str):
        if key not in self._keys:
            raise KeyError(f"{key!r} is not in this ParameterDict (its keys are "
                           f"{list(self._keys)})")
        return getattr(self, key)

    def __setitem__(self, key: str, value) -> None:
        _check_child_name(self, key)
        if key not in self._keys and hasattr(self, key):
            raise KeyError(f"attribute {key!r} already exists: ParameterDict keys cannot be "
                           "the names of its attributes or methods; choose another key")
        self._keys[key] = None
        setattr(self, key, _as_parameter(value))

    def __delitem__(self, key: str) -> None:
        self[key]  # a clear KeyError for a missing key
        del self._keys[key]
        delattr(self, key)

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __reversed__(self) -> Iterator[str]:
        return reversed(list(self._keys))

    def __contains__(self, key) -> bool:
        return key in self._keys

    def keys(self):
        return self._keys.keys()

    def values(self):
        return (self[key] for key in self._keys)

    def items(self):
        return ((key, self[key]) for key in self._keys)

    def get(self, key: str, default=None):
        return self[key] if key in self else default

    def setdefault(self, key: str, default=None):
        if key not in self:
            self[key] = default
        return self[key]

    def pop(self, key: str):
        value = self[key]
        del self[key]
        return value

    def popitem(self) -> tuple:
        if not self._keys:
            raise KeyError("popitem(): ParameterDict is empty")
        key = list(self._keys)[-1]
        return key, self.pop(key)

    def clear(self) -> None:
        for key in list(self._keys):
            del self[key]

    def copy(self) -> "ParameterDict":
        """A new ParameterDict holding the same parameters (not copies of them)."""
        return ParameterDict(OrderedDict(self.items()))

    def update(self, parameters) -> None:
        """Add or replace entries from a mapping (in its order) or an iterable of
        ``(key, value)`` pairs."""
        if not isinstance(parameters, Iterable):
            raise TypeError(f"ParameterDict.update should be called with a mapping or an "
                            f"iterable of key/value pairs, but got "
                            f"{type(parameters).__name__}")
        pairs = parameters.items() if isinstance(parameters, (Mapping, ParameterDict)) else \
            parameters
        for j, pair in enumerate(pairs):
            if not isinstance(pair, Iterable) or isinstance(pair, str) or len(pair) != 2:
                raise ValueError(f"ParameterDict update sequence element #{j} should be a "
                                 f"(key, value) pair, got {pair!r}")
            self[pair[0]] = pair[1]

    def extra_repr(self) -> str:
        return _parameter_lines(self.items(), legacy_type_names=True)
