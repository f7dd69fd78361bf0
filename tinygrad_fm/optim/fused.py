"""Fused optimizer updates: one pass over each parameter, compiled by numba.

``pip install "tinygrad_fm[fast]"`` installs numba. Each kernel here does, element by
element and in the same order, the same float operations as the optimizer's NumPy
update (``_adam_update``, ``_nadam_update``, ``_rmsprop_update``, ``_sgd_update``), with
every scalar rounded to the parameter's dtype first, as NumPy does with a Python float
and a float32 array. So the fused update gives bit-identical results to the NumPy one
(no fast-math, hence no reassociation and no fused multiply-add), while it reads and
writes each array once instead of up to ten times.

``enabled(fused)`` resolves an optimizer's ``fused`` argument: ``None`` means "fused when
numba is importable", ``True`` demands it (ImportError with the fix otherwise), ``False``
keeps NumPy. ``fits(*arrays)`` says whether one parameter's arrays can take the fused
path (one floating dtype, float32 or float64, each C-contiguous); others use NumPy.
"""

from __future__ import annotations

import functools

import numpy as np

__all__ = ["available", "enabled", "fits", "adam", "nadam", "rmsprop", "sgd"]

_KERNELS = None  # the compiled kernels once numba has been imported, False without it


def _load():
    global _KERNELS
    if _KERNELS is None:
        try:
            import numba  # noqa: F401
        except ImportError:
            _KERNELS = False
        else:
            from . import _fused_kernels

            _KERNELS = _fused_kernels
    return _KERNELS


def available() -> bool:
    """True when numba can be imported (the fused updates can run)."""
    return bool(_load())


def enabled(fused) -> bool:
    """Resolve an optimizer's ``fused`` argument (None, True or False)."""
    if fused is None:
        return available()
    if fused and not available():
        raise ImportError("fused=True needs numba, which is not installed: pip install "
                          "\"tinygrad_fm[fast]\" (or pip install numba), or pass fused=None "
                          "to use the fused update only where numba is available")
    return bool(fused)


_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def fits(first: np.ndarray, *others) -> bool:
    """Whether these arrays (a parameter, its gradient and its state) can take a fused
    kernel: one dtype, float32 or float64, all C-contiguous."""
    dtype = first.dtype
    if dtype not in _FLOATS or not first.flags.c_contiguous:
        return False
    for a in others:
        if a is not None and (a.dtype != dtype or not a.flags.c_contiguous):
            return False
    return True


def _flat(a):
    return a.reshape(-1)


def adam(param, grad, exp_avg_sum, exp_avg_sq_sum, max_exp_avg_sq_sum, *, step: int,
         lr: float, beta1: float, beta2: float, eps: float, weight_decay: float,
         amsgrad: bool, maximize: bool, decoupled_weight_decay: bool) -> None:
    """``_adam_update`` in one pass (same arguments, less the work arrays)."""
    m = exp_avg_sum.reshape(-1)
    _load().adam(param.reshape(-1), grad.reshape(-1), m, exp_avg_sq_sum.reshape(-1),
                 max_exp_avg_sq_sum.reshape(-1) if amsgrad else m, amsgrad, maximize,
                 *_adam_scalars(param.dtype.type, step, lr, beta1, beta2, eps, weight_decay,
                                decoupled_weight_decay))


@functools.lru_cache(maxsize=64)
def _adam_scalars(cast, step, lr, beta1, beta2, eps, weight_decay, decoupled_weight_decay):
    # The scalars of _adam_update's step 7, rounded to the parameter's dtype; the same for
    # every parameter of a group, so computed once per step.
    bias_correction1 = 1.0 - beta1 ** step
    bias_correction2_sqrt = (1.0 - beta2 ** step) ** 0.5
    sum_scale = (1.0 - beta2) ** 0.5
    eps_sum = eps * bias_correction2_sqrt / sum_scale
    factor = lr * (1.0 - beta1) * bias_correction2_sqrt / (bias_correction1 * sum_scale)
    decay = weight_decay != 0
    return (decay and not decoupled_weight_decay, cast(weight_decay),
            decay and decoupled_weight_decay, cast(1.0 - lr * weight_decay),
            cast(beta1), cast(beta2), cast(eps_sum), cast(factor))


def nadam(param, grad, exp_avg, exp_avg_sq, *, step: int, mu_product: float, lr: float,
          beta1: float, beta2: float, eps: float, weight_decay: float, momentum_decay: float,
          decoupled_weight_decay: bool, maximize: bool) -> float:
    """``_nadam_update`` in one pass; returns the new ``mu_product``."""
    cast = param.dtype.type
    mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * momentum_decay))
    mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * momentum_decay))
    mu_product = mu_product * mu
    mu_product_next = mu_product * mu_next
    bias_correction2_sqrt = (1.0 - beta2 ** step) ** 0.5
    grad_factor = lr * (1.0 - mu) / (1.0 - mu_product) * bias_correction2_sqrt
    avg_factor = lr * mu_next / (1.0 - mu_product_next) * bias_correction2_sqrt
    decay = weight_decay != 0
    _load().nadam(_flat(param), _flat(grad), _flat(exp_avg), _flat(exp_avg_sq), maximize,
                  decay and not decoupled_weight_decay, cast(weight_decay),
                  decay and decoupled_weight_decay, cast(1.0 - lr * weight_decay),
                  cast(1.0 - beta1), cast(beta2), cast(1.0 - beta2),
                  cast(eps * bias_correction2_sqrt), cast(grad_factor), cast(avg_factor))
    return mu_product


def rmsprop(param, grad, square_avg, grad_avg, momentum_buffer, *, lr: float, alpha: float,
            eps: float, weight_decay: float, momentum: float, centered: bool,
            maximize: bool) -> None:
    """``_rmsprop_update`` in one pass."""
    cast = param.dtype.type
    v = _flat(square_avg)
    _load().rmsprop(_flat(param), _flat(grad), v,
                    _flat(grad_avg) if centered else v,
                    _flat(momentum_buffer) if momentum > 0 else v,
                    maximize, weight_decay != 0, cast(weight_decay), cast(alpha),
                    cast(1.0 - alpha), centered, momentum > 0, cast(momentum), cast(eps),
                    cast(lr))


def sgd(param, grad, momentum_buffer, *, lr: float, momentum: float, dampening: float,
        weight_decay: float, nesterov: bool, maximize: bool):
    """``_sgd_update`` in one pass; returns the (new) momentum buffer, or None."""
    cast = param.dtype.type
    first = momentum != 0 and momentum_buffer is None
    if first:
        momentum_buffer = np.empty_like(param)
    p = _flat(param)
    _load().sgd(p, _flat(grad), _flat(momentum_buffer) if momentum != 0 else p,
                maximize, weight_decay != 0, cast(weight_decay), momentum != 0, first,
                dampening != 0, cast(momentum), cast(1.0 - dampening), nesterov, cast(lr))
    return momentum_buffer if momentum != 0 else None
