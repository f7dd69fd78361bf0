"""``torch.nn.utils.weight_norm`` / ``remove_weight_norm``: a weight reparametrised as a
direction and a magnitude (Salimans & Kingma, 2016), recomputed before each forward."""

from __future__ import annotations

from ..module import Module, Parameter

__all__ = ["weight_norm", "remove_weight_norm"]


def _norm_except_dim(v, dim: int):
    """The 2-norm of ``v`` over every axis but ``dim`` (kept, size 1); over all of it for
    ``dim=-1`` (PyTorch's convention, which ``dim=None`` maps to)."""
    if dim == -1:
        return v.norm(2)
    axes = tuple(axis for axis in range(v.ndim) if axis != dim)
    return v.norm(2, axes, keepdim=True) if axes else v.abs()


class WeightNorm:
    """The forward pre-hook that recomputes ``module.<name>`` from ``<name>_g`` (the
    magnitude) and ``<name>_v`` (the direction): ``v * (g / ||v||)``."""

    def __init__(self, name: str, dim: int):
        self.name, self.dim = name, dim

    def compute_weight(self, module: Module):
        g = getattr(module, self.name + "_g")
        v = getattr(module, self.name + "_v")
        return v * (g / _norm_except_dim(v, self.dim))

    def __call__(self, module: Module, inputs) -> None:
        setattr(module, self.name, self.compute_weight(module))


def reparametrized_parameter(module: Module, name: str, hook_type: type, op: str):
    """The parameter ``name`` of ``module`` that ``op`` is about to reparametrise with a
    ``hook_type`` forward pre-hook: checked to exist and not to have one already."""
    if not isinstance(module, Module):
        raise TypeError(f"{op}: expected a Module, got {type(module).__name__}")
    hooks = module.__dict__.get("_forward_pre_hooks", {})
    if any(isinstance(hook, hook_type) and hook.name == name for hook in hooks.values()):
        raise RuntimeError(f"Cannot register two {op} hooks on the same parameter {name}")
    weight = module._parameters.get(name)
    if weight is None:
        raise AttributeError(f"{op}: {type(module).__name__} has no parameter {name!r}")
    return weight


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """Replace the parameter ``name`` by ``name_g`` (its norm over every axis but ``dim``;
    the whole norm with ``dim=None``) and ``name_v`` (the parameter itself), so that
    magnitude and direction are learned apart; ``module.<name>`` is recomputed before
    every forward. Returns the module, as PyTorch's."""
    weight = reparametrized_parameter(module, name, WeightNorm, "weight_norm")
    dim = -1 if dim is None else dim
    if dim < -1 or dim >= weight.ndim:
        raise IndexError(f"weight_norm: dim {dim} is out of range for the {weight.ndim}-D "
                         f"parameter {name!r}")
    hook = WeightNorm(name, dim)
    del module._parameters[name]
    module.register_parameter(name + "_g",
                              Parameter(_norm_except_dim(weight, dim).detach().data.copy()))
    module.register_parameter(name + "_v", Parameter(weight.data))
    setattr(module, name, hook.compute_weight(module))
    module._weight_norm_handles = getattr(module, "_weight_norm_handles", {})
    module._weight_norm_handles[name] = module.register_forward_pre_hook(hook)
    return module


def remove_weight_norm(module: Module, name: str = "weight") -> Module:
    """Undo :func:`weight_norm`: ``name`` becomes one parameter again, with the current
    value of ``v * (g / ||v||)``."""
    handles = module.__dict__.get("_weight_norm_handles", {})
    if name not in handles:
        raise ValueError(f"weight_norm of '{name}' not found in {module}")
    hook = module._forward_pre_hooks[handles[name].id]
    weight = hook.compute_weight(module).detach()
    handles.pop(name).remove()
    del module._parameters[name + "_g"]
    del module._parameters[name + "_v"]
    object.__delattr__(module, name)
    module.register_parameter(name, Parameter(weight.data.copy()))
    return module
