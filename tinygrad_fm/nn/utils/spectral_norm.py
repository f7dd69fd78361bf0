"""``torch.nn.utils.spectral_norm`` / ``remove_spectral_norm``: a weight divided by its
largest singular value, estimated by power iteration (Miyato et al., 2018) and
recomputed before each forward."""

from __future__ import annotations

import numpy as np

from ...random import numpy_rng
from ...tensor import Tensor
from ..conv import _ConvTranspose
from ..module import Module, Parameter
from .weight_norm import reparametrized_parameter

__all__ = ["spectral_norm", "remove_spectral_norm"]


def _normalized(vector: np.ndarray, eps: float) -> np.ndarray:
    """``F.normalize(vector, dim=0, eps=eps)``."""
    return vector / max(float(np.linalg.norm(vector)), eps)


class SpectralNorm:
    """The forward pre-hook that sets ``module.<name>`` to ``<name>_orig / sigma``; in
    training mode it first advances the power iteration held in the buffers ``<name>_u``
    and ``<name>_v`` (in place, without gradient), as PyTorch's."""

    def __init__(self, name: str, n_power_iterations: int, dim: int, eps: float):
        self.name, self.n_power_iterations, self.dim, self.eps = (name, n_power_iterations,
                                                                  dim, eps)

    def reshape_weight_to_matrix(self, weight):
        """``weight`` with axis ``dim`` first, flattened to (its size, the rest)."""
        if self.dim != 0:
            order = (self.dim,) + tuple(a for a in range(weight.ndim) if a != self.dim)
            weight = weight.permute(*order)
        return weight.reshape(weight.shape[0], -1)

    def compute_weight(self, module: Module, do_power_iteration: bool):
        weight = getattr(module, self.name + "_orig")
        u = getattr(module, self.name + "_u")
        v = getattr(module, self.name + "_v")
        weight_mat = self.reshape_weight_to_matrix(weight)
        if do_power_iteration:
            matrix = weight_mat.data
            for _ in range(self.n_power_iterations):
                v.data[...] = _normalized(matrix.T @ u.data, self.eps)
                u.data[...] = _normalized(matrix @ v.data, self.eps)
        # u and v are constants here: the gradient flows through weight_mat only.
        sigma = (Tensor(u.data.copy()) * (weight_mat @ Tensor(v.data.copy()))).sum()
        return weight / sigma

    def __call__(self, module: Module, inputs) -> None:
        setattr(module, self.name, self.compute_weight(module, module.training))


def spectral_norm(module: Module, name: str = "weight", n_power_iterations: int = 1,
                  eps: float = 1e-12, dim: int | None = None) -> Module:
    """Reparametrise ``module.<name>`` as ``<name>_orig / sigma`` (sigma: its spectral
    norm, over ``dim`` against the other axes; ``dim=None`` is 1 for transposed
    convolutions, else 0). ``<name>_u`` and ``<name>_v`` are buffers drawn from the
    framework's generator and refined by ``n_power_iterations`` steps at each training
    forward. Returns the module, as PyTorch's."""
    weight = reparametrized_parameter(module, name, SpectralNorm, "spectral_norm")
    if isinstance(n_power_iterations, bool) or not isinstance(n_power_iterations, int) \
            or n_power_iterations <= 0:
        raise ValueError("Expected n_power_iterations to be positive, but got "
                         f"n_power_iterations={n_power_iterations}")
    if dim is None:
        dim = 1 if isinstance(module, _ConvTranspose) else 0  # (in, out, ...) weights
    if not -weight.ndim <= dim < weight.ndim:
        raise IndexError(f"spectral_norm: dim {dim} is out of range for the {weight.ndim}-D "
                         f"parameter {name!r}")
    hook = SpectralNorm(name, n_power_iterations, dim % weight.ndim, eps)
    height, width = hook.reshape_weight_to_matrix(weight).shape
    rng = numpy_rng()
    u = _normalized(rng.standard_normal(height), eps).astype(weight.dtype)
    v = _normalized(rng.standard_normal(width), eps).astype(weight.dtype)
    del module._parameters[name]
    module.register_parameter(name + "_orig", weight)
    setattr(module, name, Tensor(weight.data))  # until the first forward, as PyTorch's
    module.register_buffer(name + "_u", Tensor(u))
    module.register_buffer(name + "_v", Tensor(v))
    module._spectral_norm_handles = getattr(module, "_spectral_norm_handles", {})
    module._spectral_norm_handles[name] = module.register_forward_pre_hook(hook)
    return module


def remove_spectral_norm(module: Module, name: str = "weight") -> Module:
    """Undo :func:`spectral_norm`: ``name`` becomes one parameter again, with the current
    ``<name>_orig / sigma`` (no further power iteration)."""
    handles = module.__dict__.get("_spectral_norm_handles", {})
    if name not in handles:
        raise ValueError(f"spectral_norm of '{name}' not found in {module}")
    hook = module._forward_pre_hooks[handles[name].id]
    weight = hook.compute_weight(module, do_power_iteration=False).detach()
    handles.pop(name).remove()
    del module._parameters[name + "_orig"]
    del module._buffers[name + "_u"]
    del module._buffers[name + "_v"]
    object.__delattr__(module, name)
    module.register_parameter(name, Parameter(weight.data.copy()))
    return module
