"""Stochastic gradient descent, with optional (Nesterov) momentum: ``torch.optim.SGD``."""

from __future__ import annotations

import numpy as np

from .optimizer import (Optimizer, _check_fused, _effective_grad, _require, _require_non_negative,
                        fused_updates)

__all__ = ["SGD"]


class SGD(Optimizer):
    r"""Stochastic gradient descent with optional momentum, Nesterov momentum and L2
    weight decay; the same algorithm, step for step, as ``torch.optim.SGD``.

    Args:
        params: an iterable of Tensors or of dicts (parameter groups).
        lr (float): learning rate :math:`\gamma` (default: 1e-3).
        momentum (float): momentum factor :math:`\mu` (default: 0, plain SGD).
        dampening (float): dampening :math:`\tau` for momentum (default: 0).
        weight_decay (float): L2 penalty :math:`\lambda` (default: 0).
        nesterov (bool): use Nesterov momentum (default: False); needs ``momentum > 0``
            and ``dampening == 0``.
        maximize (bool): maximize the objective instead of minimizing (default: False).
        fused (bool or None): one compiled pass over each parameter (numba, ``pip install
            "tinygrad_fm[fast]"``) with bit-identical results; None (the default) fuses
            when numba is importable, False never does, True requires numba.

    Algorithm, for each parameter :math:`\theta` with gradient :math:`\nabla f(\theta)`,
    at steps :math:`t = 1, 2, \dots`:

    1. :math:`g_t = \nabla f(\theta_{t-1})`, or :math:`-\nabla f(\theta_{t-1})` when
       ``maximize``.
    2. If :math:`\lambda \ne 0`: :math:`g_t \leftarrow g_t + \lambda \theta_{t-1}`.
    3. If :math:`\mu \ne 0`:

       a. :math:`b_t = g_t` at :math:`t = 1` (no dampening at the first step), else
          :math:`b_t = \mu b_{t-1} + (1 - \tau) g_t`.
       b. If ``nesterov``: :math:`g_t \leftarrow g_t + \mu b_t`, else
          :math:`g_t \leftarrow b_t`.
    4. :math:`\theta_t = \theta_{t-1} - \gamma g_t`.

    State per parameter: ``momentum_buffer`` (:math:`b_t`, only when :math:`\mu \ne 0`).
    Momentum gradient descent is ``SGD(params, lr, momentum=0.9)``; Nesterov's
    accelerated gradient is ``SGD(params, lr, momentum=0.9, nesterov=True)``.
    """

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False, *, maximize: bool = False,
                 fused: bool | None = None):
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize,
                        fused=fused)
        super().__init__(params, defaults)

    def _validate(self, h: dict) -> None:
        _require_non_negative(h, "lr", "weight_decay", "momentum")
        _require(0.0 <= h["dampening"] <= 1.0, "dampening", h["dampening"], "in [0, 1]")
        _check_fused(h.get("fused"))
        if h["nesterov"] and (h["momentum"] <= 0 or h["dampening"] != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening "
                             f"(got momentum={h['momentum']!r}, "
                             f"dampening={h['dampening']!r})")

    def _step_group(self, group: dict) -> None:
        fused = self._fused(group)
        lr = float(group["lr"])
        momentum = float(group["momentum"])
        dampening = float(group["dampening"])
        weight_decay = float(group["weight_decay"])
        nesterov = bool(group["nesterov"])
        maximize = bool(group["maximize"])
        for p, param, grad in self._params_with_grad(group):
            buf = self.state[p].get("momentum_buffer") if momentum != 0 else None
            hyper = dict(lr=lr, momentum=momentum, dampening=dampening,
                         weight_decay=weight_decay, nesterov=nesterov, maximize=maximize)
            if fused and fused_updates.fits(param, grad, buf):
                buf = fused_updates.sgd(param, grad, buf, **hyper)
            else:
                buf = _sgd_update(param, grad, buf, self._work_arrays(param, 2), **hyper)
            if momentum != 0:
                self.state[p]["momentum_buffer"] = buf


def _sgd_update(param, grad, momentum_buffer, work, *, lr: float, momentum: float,
                dampening: float, weight_decay: float, nesterov: bool, maximize: bool):
    """One SGD step on arrays, in place on ``param`` (see :class:`SGD`'s steps).

    ``momentum_buffer`` is None at the first step; returns the (new) buffer, or None
    when ``momentum == 0``. ``work`` holds two scratch arrays shaped like ``param``.
    """
    g = _effective_grad(param, grad, weight_decay, maximize, out=work[0])  # steps 1-2
    buf = None
    if momentum != 0:                                                      # step 3
        buf = momentum_buffer
        if buf is None:
            buf = np.array(g, dtype=param.dtype, copy=True)
        else:
            buf *= momentum
            if dampening == 0:
                buf += g
            else:
                buf += np.multiply(g, 1.0 - dampening, out=work[1])
        if nesterov:
            g = np.add(g, np.multiply(buf, momentum, out=work[1]), out=work[1])
        else:
            g = buf
    param -= np.multiply(g, lr, out=work[1])                               # step 4
    return buf
