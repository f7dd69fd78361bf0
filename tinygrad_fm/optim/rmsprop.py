"""RMSprop: ``torch.optim.RMSprop``."""

from __future__ import annotations

import numpy as np

from .optimizer import (Optimizer, _check_fused, _effective_grad, _require, _require_non_negative,
                        fused_updates)

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    r"""RMSprop (Hinton's lecture 6e), optionally centered and with momentum; the same
    algorithm, step for step, as ``torch.optim.RMSprop``.

    Args:
        params: an iterable of Tensors or of dicts (parameter groups).
        lr (float): learning rate :math:`\gamma` (default: 1e-2).
        alpha (float): smoothing constant :math:`\alpha` (default: 0.99).
        eps (float): :math:`\epsilon`, added to the denominator *outside* the square root
            (default: 1e-8).
        weight_decay (float): L2 penalty :math:`\lambda` (default: 0).
        momentum (float): momentum factor :math:`\mu` (default: 0).
        centered (bool): normalise by an estimate of the gradient's variance instead of
            its uncentered second moment (default: False).
        maximize (bool): maximize the objective instead of minimizing (default: False).
        fused (bool or None): one compiled pass over each parameter (numba, ``pip install
            "tinygrad_fm[fast]"``) with bit-identical results; None (the default) fuses
            when numba is importable, False never does, True requires numba.

    Algorithm, for each parameter :math:`\theta`, starting from :math:`v_0 = 0`,
    :math:`\bar g_0 = 0`, :math:`b_0 = 0`, at steps :math:`t = 1, 2, \dots`:

    1. :math:`g_t = \nabla f(\theta_{t-1})`, or :math:`-\nabla f(\theta_{t-1})` when
       ``maximize``.
    2. If :math:`\lambda \ne 0`: :math:`g_t \leftarrow g_t + \lambda \theta_{t-1}`.
    3. :math:`v_t = \alpha v_{t-1} + (1 - \alpha) g_t^2`.
    4. If ``centered``: :math:`\bar g_t = \alpha \bar g_{t-1} + (1 - \alpha) g_t` and
       :math:`d_t = \sqrt{v_t - \bar g_t^2} + \epsilon`; else
       :math:`d_t = \sqrt{v_t} + \epsilon`.
    5. If :math:`\mu > 0`: :math:`b_t = \mu b_{t-1} + g_t / d_t` and
       :math:`\theta_t = \theta_{t-1} - \gamma b_t`; else
       :math:`\theta_t = \theta_{t-1} - \gamma g_t / d_t`.

    State per parameter: ``step``, ``square_avg`` (:math:`v_t`), ``momentum_buffer``
    (:math:`b_t`, when :math:`\mu > 0`) and ``grad_avg`` (:math:`\bar g_t`, when
    ``centered``).
    """

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False, *,
                 maximize: bool = False, fused: bool | None = None):
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                        momentum=momentum, centered=centered, maximize=maximize, fused=fused)
        super().__init__(params, defaults)

    def _validate(self, h: dict) -> None:
        _require_non_negative(h, "lr", "eps", "weight_decay", "momentum")
        _require(0.0 <= h["alpha"] <= 1.0, "alpha", h["alpha"], "in [0, 1]")
        _check_fused(h.get("fused"))

    def _step_group(self, group: dict) -> None:
        fused = self._fused(group)
        hyper = dict(lr=float(group["lr"]), alpha=float(group["alpha"]),
                     eps=float(group["eps"]), weight_decay=float(group["weight_decay"]),
                     momentum=float(group["momentum"]), centered=bool(group["centered"]),
                     maximize=bool(group["maximize"]))
        for p, param, grad in self._params_with_grad(group):
            state = self.state[p]
            if not state:
                state["step"] = 0
                state["square_avg"] = np.zeros_like(param)
                if hyper["momentum"] > 0:
                    state["momentum_buffer"] = np.zeros_like(param)
                if hyper["centered"]:
                    state["grad_avg"] = np.zeros_like(param)
            state["step"] += 1
            arrays = (param, grad, state["square_avg"], state.get("grad_avg"),
                      state.get("momentum_buffer"))
            if fused and fused_updates.fits(*arrays):
                fused_updates.rmsprop(*arrays, **hyper)
            else:
                _rmsprop_update(*arrays, self._work_arrays(param, 2), **hyper)


def _rmsprop_update(param, grad, square_avg, grad_avg, momentum_buffer, work, *, lr: float,
                    alpha: float, eps: float, weight_decay: float, momentum: float,
                    centered: bool, maximize: bool) -> None:
    """One RMSprop step on arrays, in place on ``param`` and the state arrays (see
    :class:`RMSprop`'s steps). ``work`` holds two scratch arrays shaped like ``param``."""
    g = _effective_grad(param, grad, weight_decay, maximize, out=work[0])  # steps 1-2
    d = work[1]
    square_avg *= alpha                                                    # step 3
    square_avg += np.multiply(np.multiply(g, 1.0 - alpha, out=d), g, out=d)
    if centered:                                                           # step 4
        grad_avg += np.multiply(np.subtract(g, grad_avg, out=d), 1.0 - alpha, out=d)
        np.subtract(square_avg, np.square(grad_avg, out=d), out=d)
        np.sqrt(d, out=d)
    else:
        np.sqrt(square_avg, out=d)
    d += eps
    if momentum > 0:                                                       # step 5
        momentum_buffer *= momentum
        momentum_buffer += np.divide(g, d, out=d)
        param -= np.multiply(momentum_buffer, lr, out=d)
    else:
        param -= np.multiply(np.divide(g, d, out=d), lr, out=d)
